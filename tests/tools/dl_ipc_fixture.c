/*
** dl_ipc_fixture.c -- writes a deterministic table holding every dl type
** (nullable and required columns, nulls, extremes, -0.0/NaN/infinities,
** empty and non-ASCII strings, binary with zero bytes, pre-1970 timestamps,
** a wall-clock timestamp, a decimal) as an Arrow IPC stream, in one or
** several record batches, for tests/interop/arrow_ipc.mjs.
**
** With --expected FILE it also writes the values as handed to the writer,
** in a lossless JSON form that does not depend on any library code:
**   {"rows":N,"batches":B,"columns":[{"name":..,"type":"timestamp","unit":"ms",
**     "utc":true,"nullable":true,"scale":0,"precision":0,"values":[...]}, ...]}
** values: bool true/false; int32 and date (days) numbers; int64, timestamp
** and decimal (unscaled) decimal strings; float/double the IEEE bit pattern
** as hex ("0x3ff0000000000000"); string a JSON string; binary lowercase hex;
** null for null.
**
** Usage: dl_ipc_fixture [--rows N] [--batches B] [--out FILE] [--expected FILE]
**                       [--via-stream]
**   rows default 1000, batches default 1 (rows split evenly; more batches
**   than rows gives empty batches); the stream goes to stdout by default.
**   --via-stream: the batches go through the library's ArrowArrayStream
**   (dl_arrow_stream_from_batches) and dl_arrow_stream_write_ipc, the path
**   the data server and bindings use; a stream has no empty batches, so
**   those are left out (and "batches" counts the others).
*/
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"
#include "fixture_data.h"

typedef enum col_id {
    C_BOOL,
    C_I32,
    C_I64,
    C_F32,
    C_F64,
    C_STR,
    C_BIN,
    C_TS_MS,
    C_TS_US,
    C_TS_NS_LOCAL,
    C_DATE,
    C_DECIMAL,
    NUM_COLS
} col_id;

typedef struct col_def {
    const char *name;
    dl_type type;
    dl_time_unit unit;
    bool utc;
    bool nullable;
} col_def;

static const col_def col_defs[NUM_COLS] = {
    [C_BOOL] = {"flag", DL_TYPE_BOOL, DL_UNIT_MS, true, true},
    [C_I32] = {"i32", DL_TYPE_INT32, DL_UNIT_MS, true, true},
    [C_I64] = {"i64", DL_TYPE_INT64, DL_UNIT_MS, true, false},
    [C_F32] = {"f32", DL_TYPE_FLOAT, DL_UNIT_MS, true, true},
    [C_F64] = {"f64", DL_TYPE_DOUBLE, DL_UNIT_MS, true, true},
    [C_STR] = {"text", DL_TYPE_STRING, DL_UNIT_MS, true, true},
    [C_BIN] = {"blob", DL_TYPE_BINARY, DL_UNIT_MS, true, true},
    [C_TS_MS] = {"ts_ms", DL_TYPE_TIMESTAMP, DL_UNIT_MS, true, true},
    [C_TS_US] = {"ts_us", DL_TYPE_TIMESTAMP, DL_UNIT_US, true, false},
    [C_TS_NS_LOCAL] = {"ts_ns_local", DL_TYPE_TIMESTAMP, DL_UNIT_NS, false, true},
    [C_DATE] = {"day", DL_TYPE_DATE, DL_UNIT_MS, true, true},
    [C_DECIMAL] = {"price_dec", DL_TYPE_INT64, DL_UNIT_MS, true, true},
};
enum { DECIMAL_PRECISION = 18, DECIMAL_SCALE = 4 };

static const char *const strings[] = {
    "", "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80", "BTCUSDT",
    "quote \" backslash \\ newline \n tab \t"};
enum { NUM_STRINGS = (int)(sizeof strings / sizeof strings[0]) };

/* Row 0 has no nulls; afterwards a column-specific pattern (row 3 is
** null in every nullable column, so each has nulls even in tiny tables). */
static bool is_null(col_id c, int64_t row) {
    if (!col_defs[c].nullable || row == 0) return false;
    return row == 3 || fixture_mix((uint64_t)row * 31 + (uint64_t)c) % 7 == 0;
}

static int64_t i64_value(col_id c, int64_t row) {
    static const int64_t specials[] = {INT64_MIN, INT64_MAX, 0, -1, 9007199254740993};
    if (c == C_I64 && row < 5) return specials[row];
    return (int64_t)fixture_mix((uint64_t)row * 7 + (uint64_t)c) >>
           (fixture_mix((uint64_t)row) % 40);
}

static int32_t i32_value(col_id c, int64_t row) {
    if (row == 1) return c == C_DATE ? -719162 : INT32_MIN; /* 0001-01-01 */
    if (row == 2) return c == C_DATE ? 2932896 : INT32_MAX; /* 9999-12-31 */
    if (c == C_DATE) return (int32_t)(fixture_mix((uint64_t)row * 17) % 80000) - 30000;
    return (int32_t)fixture_mix((uint64_t)row * 3);
}

static double f64_value(int64_t row) {
    /* row 3 is null: keep NaN elsewhere */
    static const double specials[] = {-0.0, 1e-300, NAN, 5e-324, INFINITY, -INFINITY, 0.1};
    if (row < 7) return specials[row];
    return (double)(int64_t)(fixture_mix((uint64_t)row * 5) >> 30) / 128.0;
}

static float f32_value(int64_t row) {
    static const float specials[] = {-0.0f, 1e-45f, (float)NAN, 3.4e38f, (float)-INFINITY};
    if (row < 5) return specials[row];
    return (float)(int32_t)(fixture_mix((uint64_t)row * 11) >> 40) / 64.0f;
}

/* Timestamps over 1900..2200 (in range for ns everywhere). */
static int64_t ts_value(col_id c, int64_t row, dl_time_unit unit) {
    int64_t per_ms = unit == DL_UNIT_MS ? 1 : unit == DL_UNIT_US ? 1000 : 1000000;
    if (row == 1) return -1; /* the last unit before the epoch */
    if (row == 2) return 0;
    const int64_t lo = -2208988800000LL, span = 9467280000000LL;
    uint64_t h = fixture_mix((uint64_t)row * 13 + (uint64_t)c);
    return (lo + (int64_t)(h % (uint64_t)span)) * per_ms + (int64_t)((h >> 48) % (uint64_t)per_ms);
}

static size_t str_value(int64_t row, char *buf, size_t size) {
    if (row < NUM_STRINGS) return (size_t)snprintf(buf, size, "%s", strings[row]);
    return (size_t)snprintf(buf, size, "row-%" PRId64 "-\xC3\xA4-%llx", row,
                            (unsigned long long)(fixture_mix((uint64_t)row) & 0xFFFFF));
}

static size_t bin_value(int64_t row, uint8_t *buf) {
    size_t n = (size_t)(fixture_mix((uint64_t)row * 23) % 10); /* 0..9 bytes, zeros included */
    for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)(fixture_mix((uint64_t)row * 29 + k) >> (k % 2 ? 7 : 60));
    return n;
}

/* ---- the table ---- */

static int append_value(dl_column *col, col_id c, int64_t row, dl_error *err) {
    if (is_null(c, row)) return dl_column_append_null(col, err);
    char text[64];
    uint8_t bytes[16];
    switch (c) {
    case C_BOOL:
        return dl_column_append_bool(col, fixture_mix((uint64_t)row) & 1, err);
    case C_I32:
    case C_DATE:
        return dl_column_append_i32(col, i32_value(c, row), err);
    case C_I64:
    case C_DECIMAL:
        return dl_column_append_i64(col, i64_value(c, row), err);
    case C_F32:
        return dl_column_append_f32(col, f32_value(row), err);
    case C_F64:
        return dl_column_append_f64(col, f64_value(row), err);
    case C_STR:
        return dl_column_append_str(col, text, str_value(row, text, sizeof text), err);
    case C_BIN:
        return dl_column_append_str(col, (const char *)bytes, bin_value(row, bytes), err);
    case C_TS_MS:
    case C_TS_US:
    case C_TS_NS_LOCAL:
        return dl_column_append_i64(col, ts_value(c, row, col_defs[c].unit), err);
    case NUM_COLS:
        break;
    }
    return dl_error_set(err, DL_EINTERNAL, "bad column %d", (int)c);
}

static int make_schema(dl_schema *schema, dl_error *err) {
    dl_schema_init(schema);
    for (int c = 0; c < NUM_COLS; c++) {
        const col_def *d = &col_defs[c];
        int rc = fixture_schema_add(schema, d->name, d->type, d->unit, d->nullable, err);
        if (rc != DL_OK) return rc;
        schema->fields[c].utc = d->utc;
    }
    schema->fields[C_DECIMAL].decimal_precision = DECIMAL_PRECISION;
    schema->fields[C_DECIMAL].decimal_scale = DECIMAL_SCALE;
    return DL_OK;
}

/* Fills `table` (initialised with the schema) with rows [from, from + count). */
static int fill_rows(dl_table *table, int64_t from, int64_t count, dl_error *err) {
    for (int c = 0; c < NUM_COLS; c++) {
        dl_column_clear(&table->columns[c]);
        for (int64_t row = from; row < from + count; row++) {
            int rc = append_value(&table->columns[c], (col_id)c, row, err);
            if (rc != DL_OK) return rc;
        }
    }
    return dl_table_seal(table, err);
}

/* ---- expected values as JSON ---- */

/* The values as handed to the writer: `table` holds all rows [0, rows). */
static int write_expected(const char *path, const dl_table *table, int batches) {
    const dl_schema *schema = &table->schema;
    int64_t rows = table->num_rows;
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "{\"rows\":%" PRId64 ",\"batches\":%d,\"columns\":[", rows, batches);
    for (int c = 0; c < NUM_COLS; c++) {
        const dl_field *fd = &schema->fields[c];
        fprintf(f,
                "%s\n{\"name\":\"%s\",\"type\":\"%s\",\"unit\":\"%s\",\"utc\":%s,"
                "\"nullable\":%s,\"scale\":%d,\"precision\":%d,\"values\":[",
                c ? "," : "", fd->name, dl_type_name(fd->type), dl_unit_name(fd->unit),
                fd->utc ? "true" : "false", fd->nullable ? "true" : "false", fd->decimal_scale,
                fd->decimal_precision);
        for (int64_t row = 0; row < rows; row++) {
            if (row) fputc(',', f);
            fixture_json_value(f, &table->columns[c], row);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    return fclose(f) == 0 ? 0 : 1;
}

/* ---- the batches as an ArrowArrayStream ---- */

typedef struct batch_producer {
    int64_t rows;
    int batches, next;
} batch_producer;

static int produce_batch(void *ctx, dl_table *batch, dl_error *err) {
    batch_producer *p = ctx;
    while (p->next < p->batches) {
        int b = p->next++;
        int64_t from = p->rows * b / p->batches, to = p->rows * (b + 1) / p->batches;
        if (to > from) return fill_rows(batch, from, to - from, err);
    }
    return DL_OK; /* no rows: the end */
}

static int non_empty_batches(int64_t rows, int batches) {
    int n = 0;
    for (int b = 0; b < batches; b++) n += rows * (b + 1) / batches > rows * b / batches;
    return n;
}

static int write_via_stream(const dl_schema *schema, int64_t rows, int batches, FILE *out,
                            dl_error *err) {
    batch_producer p = {rows, batches, 0};
    struct ArrowArrayStream stream;
    int rc = dl_arrow_stream_from_batches(schema, produce_batch, NULL, &p, &stream, err);
    if (rc == DL_OK) rc = dl_arrow_stream_write_ipc(&stream, dl_write_to_file, out, NULL, err);
    return rc;
}

static int usage(void) {
    fprintf(stderr, "usage: dl_ipc_fixture [--rows N] [--batches B] [--out FILE] [--expected FILE] "
                    "[--via-stream]\n");
    return 2;
}

int main(int argc, char **argv) {
    int64_t rows = 1000;
    int batches = 1;
    const char *out_path = NULL, *expected_path = NULL;
    bool via_stream = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--via-stream") == 0) {
            via_stream = true;
            continue;
        }
        if (i + 1 >= argc) return usage();
        if (strcmp(argv[i], "--rows") == 0)
            rows = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--batches") == 0)
            batches = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0)
            out_path = argv[++i];
        else if (strcmp(argv[i], "--expected") == 0)
            expected_path = argv[++i];
        else
            return usage();
    }
    if (rows < 0 || batches < 1) return usage();

    dl_error err = {0};
    dl_schema schema;
    dl_table table = {0};
    dl_ipc_writer *w = NULL;
    FILE *out = out_path ? fopen(out_path, "wb") : stdout;
    int status = 1;
    if (!out) {
        perror(out_path);
        return 1;
    }
    if (make_schema(&schema, &err) != DL_OK) goto done;
    if (dl_table_init(&table, &schema, &err) != DL_OK) goto done;
    if (via_stream) {
        if (write_via_stream(&schema, rows, batches, out, &err) != DL_OK) goto done;
        batches = non_empty_batches(rows, batches);
        goto written;
    }
    if (dl_ipc_writer_open(&schema, dl_write_to_file, out, &w, &err) != DL_OK) goto done;
    for (int b = 0; b < batches; b++) {
        int64_t from = rows * b / batches, to = rows * (b + 1) / batches;
        if (fill_rows(&table, from, to - from, &err) != DL_OK ||
            dl_ipc_writer_write(w, &table, &err) != DL_OK)
            goto done;
    }
    int rc = dl_ipc_writer_close(w, &err);
    w = NULL;
    if (rc != DL_OK) goto done;
written:
    if (fflush(out) != 0) {
        perror("dl_ipc_fixture: writing the stream");
        goto done;
    }
    if (expected_path && fill_rows(&table, 0, rows, &err) != DL_OK) goto done;
    status = expected_path ? write_expected(expected_path, &table, batches) : 0;
done:
    if (status && err.message[0]) fprintf(stderr, "dl_ipc_fixture: %s\n", err.message);
    dl_ipc_writer_abort(w);
    dl_table_free(&table);
    dl_schema_free(&schema);
    if (out_path && fclose(out) != 0) status = 1;
    return status;
}
