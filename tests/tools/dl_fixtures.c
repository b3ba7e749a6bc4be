/*
** dl_fixtures.c -- writes the interop fixture files: one deterministic
** table holding every type the writer supports (required and nullable
** columns, nulls, extremes such as INT64_MIN/MAX, -0.0, subnormals, NaN and
** infinities, empty and non-ASCII strings, timestamps before 1970), written
** once per writer configuration (each codec, dictionary on/off, data page
** v1/v2, DELTA on/off, statistics/page index off, several row groups and
** small pages), plus an empty and a one-row file.
**
** For every NAME.parquet it writes NAME.expected.json, the values as they
** were handed to the writer, in a lossless form that does not depend on
** any formatting code of the library (so it checks dl_format and the CLI
** as well as the file):
**   {"rows":N,"columns":[{"name":..,"type":"int64","unit":"ms","nullable":true,
**                         "values":[...]}, ...]}
** values: bool true/false; int32 and date (days) JSON numbers; int64 and
** timestamps decimal strings (raw count of the unit); float and double the
** IEEE bit pattern as a hex string ("0x3ff0000000000000"); string a JSON
** string; binary a lowercase hex string; null for null.
**
** Usage: dl_fixtures OUTDIR     (prints one line per file written)
*/
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"
#include "fixture_data.h"

#define FIXTURE_ROWS 5000

/* ---- the data: a pure function of (column, row) ---- */

static const char *const special_strings[] = {
    "",
    "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80", /* héllo ✓ 日本 🚀 */
    "comma, \"quote\" and\nnewline\r\n",
    "tab\there \x01 control \x1F",
    "back\\slash /slash",
    "BTCUSDT",
};
enum { NUM_SPECIAL_STRINGS = (int)(sizeof special_strings / sizeof special_strings[0]) };

static const char *const symbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "XRPUSDT"};

typedef enum col_id {
    C_BOOL,
    C_I32,
    C_I64,
    C_F32,
    C_F64,
    C_STR,
    C_SYM,
    C_BIN,
    C_TS_MS,
    C_TS_US,
    C_TS_NS,
    C_DATE,
    C_SORTED_TS,
    C_PRICE,
    NUM_COLS
} col_id;

typedef struct col_def {
    const char *name;
    dl_type type;
    dl_time_unit unit;
    bool nullable;
} col_def;

static const col_def col_defs[NUM_COLS] = {
    [C_BOOL] = {"flag", DL_TYPE_BOOL, DL_UNIT_MS, true},
    [C_I32] = {"i32", DL_TYPE_INT32, DL_UNIT_MS, false},
    [C_I64] = {"i64", DL_TYPE_INT64, DL_UNIT_MS, true},
    [C_F32] = {"f32", DL_TYPE_FLOAT, DL_UNIT_MS, true},
    [C_F64] = {"f64", DL_TYPE_DOUBLE, DL_UNIT_MS, true},
    [C_STR] = {"text", DL_TYPE_STRING, DL_UNIT_MS, true},
    [C_SYM] = {"symbol", DL_TYPE_STRING, DL_UNIT_MS, false},
    [C_BIN] = {"blob", DL_TYPE_BINARY, DL_UNIT_MS, true},
    [C_TS_MS] = {"ts_ms", DL_TYPE_TIMESTAMP, DL_UNIT_MS, true},
    [C_TS_US] = {"ts_us", DL_TYPE_TIMESTAMP, DL_UNIT_US, true},
    [C_TS_NS] = {"ts_ns", DL_TYPE_TIMESTAMP, DL_UNIT_NS, true},
    [C_DATE] = {"day", DL_TYPE_DATE, DL_UNIT_MS, true},
    [C_SORTED_TS] = {"ts", DL_TYPE_TIMESTAMP, DL_UNIT_MS, false},
    [C_PRICE] = {"price", DL_TYPE_DOUBLE, DL_UNIT_MS, false},
};

/* Nulls: a column-specific pattern, none in required columns. */
static bool is_null(col_id c, int64_t row) {
    if (!col_defs[c].nullable) return false;
    if (row < 20) /* keep the special values of the first rows, except one null among them */
        return c == C_I64 && row == 3;
    return fixture_mix((uint64_t)row * 31 + (uint64_t)c) % 9 == 0;
}

static int64_t i64_value(int64_t row) {
    static const int64_t specials[] = {INT64_MIN,     INT64_MAX,       0, 0, -1, 1, INT64_MIN + 1,
                                       INT64_MAX - 1, 9007199254740993};
    if (row < (int64_t)(sizeof specials / sizeof specials[0])) return specials[row];
    return (int64_t)fixture_mix((uint64_t)row) >> (fixture_mix((uint64_t)row + 7) % 60);
}

static int32_t i32_value(int64_t row) {
    if (row == 0) return INT32_MIN;
    if (row == 1) return INT32_MAX;
    return (int32_t)(fixture_mix((uint64_t)row * 3) >> (32 + fixture_mix((uint64_t)row) % 30));
}

static double f64_value(int64_t row) {
    static const double specials[] = {
        -0.0,      0.0,     1e-300, 5e-324, DBL_MAX,  -DBL_MAX,  0.1,
        0.1 + 0.2, 1e21,    1e300,  NAN,    INFINITY, -INFINITY, 123456789012345680000.0,
        5e-7,      DBL_MIN, 1.0 / 3};
    if (row < (int64_t)(sizeof specials / sizeof specials[0])) return specials[row];
    uint64_t h = fixture_mix((uint64_t)row * 5);
    switch (h % 4) {
    case 0:
        return (double)(int64_t)(h >> 40) / 100.0; /* prices with cents */
    case 1: {                                      /* any finite bit pattern */
        double v;
        uint64_t bits = fixture_mix(h);
        memcpy(&v, &bits, sizeof v);
        return isfinite(v) ? v : 1.5;
    }
    case 2:
        return (double)(h >> 11) * 0x1p-53 - 0.5;
    default:
        return (double)(int64_t)(h >> 20) * 1e-9;
    }
}

static float f32_value(int64_t row) {
    static const float specials[] = {-0.0f,           0.0f,        1e-38f, 1e-45f,
                                     FLT_MAX,         -FLT_MAX,    0.1f,   (float)NAN,
                                     (float)INFINITY, 16777217.0f, 3.4e-5f};
    if (row < (int64_t)(sizeof specials / sizeof specials[0])) return specials[row];
    uint64_t h = fixture_mix((uint64_t)row * 11);
    if (h % 2) return (float)(int32_t)(h >> 40) / 64.0f;
    float v;
    uint32_t bits = (uint32_t)(h >> 13);
    memcpy(&v, &bits, sizeof v);
    return isfinite(v) ? v : 2.5f;
}

/* Timestamps spread over 1900..2200 (inside every engine's range for ns). */
static int64_t ts_value(int64_t row, dl_time_unit unit) {
    static const int64_t specials_ms[] = {0, -1, 951782400000 /* 2000-02-29 */,
                                          -2203977600000 /* 1900-02-28 */,
                                          4102444799999 /* 2099-12-31T23:59:59.999 */};
    int64_t per_ms = unit == DL_UNIT_MS ? 1 : unit == DL_UNIT_US ? 1000 : 1000000;
    if (row == 1) return -1; /* the last unit before the epoch */
    if (row < 5) return specials_ms[row] * per_ms;
    const int64_t lo = -2208988800000LL, span = 9467280000000LL; /* 1900 + 300 years in ms */
    uint64_t h = fixture_mix((uint64_t)row * 13 + (uint64_t)unit);
    int64_t ms = lo + (int64_t)(h % (uint64_t)span);
    return ms * per_ms + (int64_t)((h >> 48) % (uint64_t)per_ms);
}

static int32_t date_value(int64_t row) {
    static const int32_t specials[] = {0, -1, 11016 /* 2000-02-29 */, 2932896 /* 9999-12-31 */,
                                       -719162 /* 0001-01-01 */};
    if (row < 5) return specials[row];
    return (int32_t)(fixture_mix((uint64_t)row * 17) % 120000) - 40000;
}

static size_t str_value(int64_t row, char *buf, size_t size) {
    if (row < NUM_SPECIAL_STRINGS) {
        snprintf(buf, size, "%s", special_strings[row]);
        return strlen(buf);
    }
    uint64_t h = fixture_mix((uint64_t)row * 19);
    if (h % 5 == 0) { /* a longer string with multi-byte characters */
        size_t n = 0;
        for (int k = 0; k < (int)(h % 40) + 10 && n + 8 < size; k++)
            n += (size_t)snprintf(buf + n, size - n, k % 3 ? "%c" : "\xC3\xA4%c",
                                  'a' + (int)((h >> k) % 26));
        return n;
    }
    return (size_t)snprintf(buf, size, "row-%lld-%llx", (long long)row,
                            (unsigned long long)(h & 0xFFFF));
}

static size_t bin_value(int64_t row, uint8_t *buf) {
    size_t n = (size_t)(fixture_mix((uint64_t)row * 23) % 12); /* 0..11 bytes, any values */
    for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)(fixture_mix((uint64_t)row * 29 + k) >> 7);
    return n;
}

/* ---- building the table ---- */

static int append_row_value(dl_column *col, col_id c, int64_t row, dl_error *err) {
    if (is_null(c, row)) return dl_column_append_null(col, err);
    char text[256];
    uint8_t bytes[16];
    switch (c) {
    case C_BOOL:
        return dl_column_append_bool(col, fixture_mix((uint64_t)row) & 1, err);
    case C_I32:
        return dl_column_append_i32(col, i32_value(row), err);
    case C_I64:
        return dl_column_append_i64(col, i64_value(row), err);
    case C_F32:
        return dl_column_append_f32(col, f32_value(row), err);
    case C_F64:
        return dl_column_append_f64(col, f64_value(row), err);
    case C_STR:
        return dl_column_append_str(col, text, str_value(row, text, sizeof text), err);
    case C_SYM: {
        const char *s = symbols[fixture_mix((uint64_t)row / 50) % 5];
        return dl_column_append_str(col, s, strlen(s), err);
    }
    case C_BIN:
        return dl_column_append_str(col, (const char *)bytes, bin_value(row, bytes), err);
    case C_TS_MS:
        return dl_column_append_i64(col, ts_value(row, DL_UNIT_MS), err);
    case C_TS_US:
        return dl_column_append_i64(col, ts_value(row, DL_UNIT_US), err);
    case C_TS_NS:
        return dl_column_append_i64(col, ts_value(row, DL_UNIT_NS), err);
    case C_DATE:
        return dl_column_append_i32(col, date_value(row), err);
    case C_SORTED_TS: /* one-minute bars with a few gaps: DELTA's best case */
        return dl_column_append_i64(col, 1704067200000 + row * 60000 + (row / 97) * 60000, err);
    case C_PRICE:
        return dl_column_append_f64(col, 30000 + (double)(row % 1000) / 100.0, err);
    default:
        return dl_error_set(err, DL_EINTERNAL, "unknown fixture column %d", (int)c);
    }
}

static int build_table(int64_t rows, dl_table *table, dl_error *err) {
    dl_schema schema;
    dl_schema_init(&schema);
    int rc = DL_OK;
    for (int c = 0; c < NUM_COLS && rc == DL_OK; c++) {
        const col_def *d = &col_defs[c];
        rc = fixture_schema_add(&schema, d->name, d->type, d->unit, d->nullable, err);
    }
    if (rc == DL_OK) rc = dl_table_init(table, &schema, err);
    dl_schema_free(&schema);
    for (int c = 0; c < NUM_COLS && rc == DL_OK; c++) /* one allocation per column */
        rc = dl_column_reserve(&table->columns[c], rows, 64 * rows + 1, err);
    for (int64_t row = 0; row < rows && rc == DL_OK; row++)
        for (int c = 0; c < NUM_COLS && rc == DL_OK; c++)
            rc = append_row_value(&table->columns[c], (col_id)c, row, err);
    if (rc == DL_OK) rc = dl_table_seal(table, err);
    return rc;
}

/* ---- expected.json ---- */

static int write_expected(const char *path, const dl_table *t, dl_error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return dl_error_set(err, DL_EIO, "cannot create %s", path);
    fprintf(f, "{\"rows\":%lld,\"columns\":[\n", (long long)t->num_rows);
    for (int c = 0; c < t->schema.num_fields; c++) {
        const dl_field *fd = &t->schema.fields[c];
        fprintf(f,
                "%s{\"name\":\"%s\",\"type\":\"%s\",\"unit\":\"%s\",\"nullable\":%s,\"values\":[",
                c ? ",\n" : "", fd->name, dl_type_name(fd->type), dl_unit_name(fd->unit),
                fd->nullable ? "true" : "false");
        for (int64_t i = 0; i < t->num_rows; i++) {
            if (i) fputc(',', f);
            fixture_json_value(f, &t->columns[c], i);
        }
        fputs("]}", f);
    }
    fputs("\n]}\n", f);
    if (fclose(f) != 0) return dl_error_set(err, DL_EIO, "cannot write %s", path);
    return DL_OK;
}

/* ---- the variants ---- */

typedef struct variant {
    const char *name;
    int64_t rows;
    dl_codec codec;
    bool dictionary, delta, statistics, page_index;
    int page_version;
} variant;

static const variant variants[] = {
    /* name              rows          codec            dict   delta  stats  index  v */
    {"zstd", FIXTURE_ROWS, DL_CODEC_ZSTD, true, true, true, true, 1},
    {"snappy", FIXTURE_ROWS, DL_CODEC_SNAPPY, true, true, true, true, 1},
    {"none", FIXTURE_ROWS, DL_CODEC_NONE, true, true, true, true, 1},
    {"gzip", FIXTURE_ROWS, DL_CODEC_GZIP, true, true, true, true, 1},
    {"lz4", FIXTURE_ROWS, DL_CODEC_LZ4_RAW, true, true, true, true, 1},
    {"plain_nodict", FIXTURE_ROWS, DL_CODEC_ZSTD, false, false, true, true, 1},
    {"v2_zstd", FIXTURE_ROWS, DL_CODEC_ZSTD, true, true, true, true, 2},
    {"v2_snappy_nodict", FIXTURE_ROWS, DL_CODEC_SNAPPY, false, true, true, true, 2},
    {"v2_none_nodelta", FIXTURE_ROWS, DL_CODEC_NONE, true, false, true, true, 2},
    {"nostats_noindex", FIXTURE_ROWS, DL_CODEC_ZSTD, true, true, false, false, 1},
    {"one_row", 1, DL_CODEC_ZSTD, true, true, true, true, 1},
    {"empty", 0, DL_CODEC_ZSTD, true, true, true, true, 1},
};

static int write_variant(const char *dir, const variant *v, dl_error *err) {
    dl_table table = {0};
    dl_parquet_writer *w = NULL;
    char path[4096], expected[4096];
    snprintf(path, sizeof path, "%s/%s.parquet", dir, v->name);
    snprintf(expected, sizeof expected, "%s/%s.expected.json", dir, v->name);
    dl_write_options o;
    dl_write_options_default(&o);
    o.codec = v->codec;
    o.dictionary = v->dictionary;
    o.delta_timestamps = v->delta;
    o.statistics = v->statistics;
    o.page_index = v->page_index;
    o.data_page_version = v->page_version;
    o.row_group_rows = 1800; /* 3 row groups of 5000 rows, the last one short */
    o.page_rows = 700;       /* several pages per chunk */
    o.page_bytes = 4096;
    int rc = build_table(v->rows, &table, err);
    /* written in two batches so that a row group spans writer_write calls */
    int64_t half = table.num_rows / 2;
    if (rc == DL_OK) rc = dl_parquet_writer_open(path, &table.schema, &o, &w, err);
    if (rc == DL_OK) rc = dl_parquet_writer_set_kv(w, "dl.fixture", v->name, err);
    for (int part = 0; part < 2 && rc == DL_OK; part++) {
        dl_table slice;
        int64_t from = part ? half : 0, count = part ? table.num_rows - half : half;
        rc = dl_table_init(&slice, &table.schema, err);
        for (int c = 0; c < table.schema.num_fields && rc == DL_OK; c++)
            rc = dl_column_append_range(&slice.columns[c], &table.columns[c], from, count, err);
        if (rc == DL_OK) rc = dl_table_seal(&slice, err);
        if (rc == DL_OK) rc = dl_parquet_writer_write(w, &slice, err);
        dl_table_free(&slice);
    }
    if (w) {
        if (rc == DL_OK)
            rc = dl_parquet_writer_close(w, false, err);
        else
            dl_parquet_writer_abort(w);
    }
    if (rc == DL_OK) rc = write_expected(expected, &table, err);
    if (rc == DL_OK) printf("%s\n", path);
    dl_table_free(&table);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: dl_fixtures OUTDIR\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        dl_error err = {0};
        if (write_variant(argv[1], &variants[i], &err) != DL_OK) {
            fprintf(stderr, "dl_fixtures: %s: %s\n", variants[i].name, err.message);
            return 1;
        }
    }
    return 0;
}
