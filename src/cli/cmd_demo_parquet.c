/*
** cmd_demo_parquet.c -- `dl demo parquet [--out FILE] [--rows N]`: the whole
** Parquet path on built-in data, as a smoke test anyone can run.  It builds a
** deterministic OHLCV table in memory (three symbols' one-minute bars: ts
** TIMESTAMP(ms, UTC), symbol, open/high/low/close/volume, trade_count and a
** nullable taker_buy_volume with some nulls), writes it with the library's
** writer, opens the file with the reader, prints the `dl schema` summary and
** the first rows, and checks that every value read back is identical (bit
** for bit, nulls in the same places) to what was written.  Exit 1 if not.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define DEMO_DEFAULT_ROWS 1000
#define DEMO_MAX_ROWS     10000000 /* about 1 GB in memory */
#define DEMO_SHOWN_ROWS   10

static const cli_option demo_options[] = {
    {"out", "FILE", "write the Parquet file here (default: a new file in $TMPDIR or /tmp)"},
    {"rows", "N", "number of rows (default 1000)"},
};

static const cli_spec demo_spec = {
    "demo parquet",
    "[--out FILE] [--rows N]",
    "Write a sample OHLCV table (deterministic: the same N gives the same values)\n"
    "to a Parquet file, read it back, print its schema and first rows, and verify\n"
    "that every value read equals the value written.\n",
    demo_options,
    2,
    0,
    0,
};

static const char *const demo_symbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
static const double demo_start_price[] = {42000.0, 2300.0, 100.0};

/* v rounded to a multiple of 1/scale: dividing by the integer scale gives the
** double nearest to the decimal, so prices print as "42040.58". */
static double round_to(double v, double scale) {
    return (double)llround(v * scale) / scale;
}

static int build_demo_table(int64_t rows, dl_table *table, dl_error *err) {
    dl_schema schema;
    dl_schema_init(&schema);
    int rc = dl_schema_add_timestamp(&schema, "ts", DL_UNIT_MS, false, err);
    if (rc == DL_OK) rc = dl_schema_add(&schema, "symbol", DL_TYPE_STRING, false, err);
    const char *prices[] = {"open", "high", "low", "close", "volume"};
    for (int k = 0; k < 5 && rc == DL_OK; k++)
        rc = dl_schema_add(&schema, prices[k], DL_TYPE_DOUBLE, false, err);
    if (rc == DL_OK) rc = dl_schema_add(&schema, "trade_count", DL_TYPE_INT64, false, err);
    if (rc == DL_OK) rc = dl_schema_add(&schema, "taker_buy_volume", DL_TYPE_DOUBLE, true, err);
    if (rc == DL_OK) rc = dl_table_init(table, &schema, err);
    dl_schema_free(&schema);
    if (rc != DL_OK) return rc;

    dl_column *c = table->columns;
    for (int k = 0; k < 9 && rc == DL_OK; k++)
        rc = dl_column_reserve(&c[k], rows, k == 1 ? rows * 7 : 0, err);
    uint64_t state = 42;
    double last_close[3];
    memcpy(last_close, demo_start_price, sizeof last_close);
    const int64_t start_ms = 1704067200000; /* 2024-01-01T00:00:00Z */
    for (int64_t i = 0; i < rows && rc == DL_OK; i++) {
        int s = (int)(i % 3);
        double open = last_close[s];
        double close = round_to(open * (1 + (cli_random_unit(&state) - 0.5) * 0.004), 100);
        double high =
            round_to((open > close ? open : close) * (1 + cli_random_unit(&state) * 0.001), 100);
        double low =
            round_to((open < close ? open : close) * (1 - cli_random_unit(&state) * 0.001), 100);
        double volume = round_to(cli_random_unit(&state) * 50, 1e5);
        int64_t trades = (int64_t)(cli_random_next(&state) % 2000);
        last_close[s] = close;
        rc = dl_column_append_i64(&c[0], start_ms + (i / 3) * 60000, err);
        if (rc == DL_OK)
            rc = dl_column_append_str(&c[1], demo_symbols[s], strlen(demo_symbols[s]), err);
        const double values[] = {open, high, low, close, volume};
        for (int k = 0; k < 5 && rc == DL_OK; k++)
            rc = dl_column_append_f64(&c[2 + k], values[k], err);
        if (rc == DL_OK) rc = dl_column_append_i64(&c[7], trades, err);
        /* no taker volume reported for every 7th bar and for bars without trades */
        if (rc == DL_OK)
            rc = (i % 7 == 3 || trades == 0)
                     ? dl_column_append_null(&c[8], err)
                     : dl_column_append_f64(&c[8], round_to(volume * cli_random_unit(&state), 1e5),
                                            err);
    }
    if (rc == DL_OK) rc = dl_table_seal(table, err);
    return rc;
}

/* Compares two columns of one field value by value; describes the first
** difference in err.  Floating point compares bits, so -0.0 != 0.0. */
static int compare_columns(const dl_field *f, const dl_column *want, const dl_column *got,
                           dl_error *err) {
    if (want->length != got->length)
        return dl_error_set(err, DL_ECORRUPT, "column '%s': wrote %lld values, read %lld", f->name,
                            (long long)want->length, (long long)got->length);
    size_t width = dl_type_width(f->type);
    for (int64_t i = 0; i < want->length; i++) {
        dl_value a, b;
        cli_column_value(f, want, i, &a);
        cli_column_value(f, got, i, &b);
        bool same = a.present == b.present;
        if (same && a.present) {
            if (width == 0)
                same = a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
            else
                same = memcmp((const char *)want->values + (size_t)i * width,
                              (const char *)got->values + (size_t)i * width, width) == 0;
        }
        if (!same) {
            cli_buf text = {0};
            cli_append_value(&text, f, &a, CLI_STYLE_JSON);
            cli_buf_puts(&text, ", read ");
            cli_append_value(&text, f, &b, CLI_STYLE_JSON);
            cli_buf_putc(&text, '\0');
            dl_error_set(err, DL_ECORRUPT, "column '%s' row %lld: wrote %s", f->name, (long long)i,
                         text.data);
            cli_buf_free(&text);
            return DL_ECORRUPT;
        }
    }
    return DL_OK;
}

/* A fresh file name in $TMPDIR (or /tmp) for the default output. */
static int make_temp_path(char *path, size_t size, dl_error *err) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    snprintf(path, size, "%s/dl-demo-XXXXXX.parquet", dir);
    int fd = mkstemps(path, (int)strlen(".parquet"));
    if (fd < 0) return dl_error_set(err, DL_EIO, "cannot create a file in %s (set TMPDIR)", dir);
    close(fd);
    return DL_OK;
}

int cli_demo_parquet(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&demo_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    int64_t rows = DEMO_DEFAULT_ROWS;
    const char *rows_text = cli_get(&args, "rows");
    if (rows_text && !cli_parse_i64(rows_text, 0, DEMO_MAX_ROWS, &rows))
        return cli_usage_error(&demo_spec, "--rows must be a whole number in 0..%d, not '%s'",
                               DEMO_MAX_ROWS, rows_text);

    dl_error err = {0};
    char temp_path[4096];
    const char *path = cli_get(&args, "out");
    if (!path) {
        if (make_temp_path(temp_path, sizeof temp_path, &err) != DL_OK) return cli_fail(&err);
        path = temp_path;
    }
    dl_table written = {0}, read_back = {0};
    dl_parquet_reader *r = NULL;
    int status = build_demo_table(rows, &written, &err);
    if (status == DL_OK) status = dl_parquet_write_table(path, &written, NULL, &err);
    if (status == DL_OK) {
        struct stat st;
        long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
        printf("dl demo: wrote %lld rows to %s (%lld bytes)\n\n", (long long)rows, path, bytes);
        status = dl_parquet_open(path, &r, &err);
    }
    if (status == DL_OK) status = cli_print_schema(stdout, path, r, false, &err);
    if (status == DL_OK) {
        const dl_schema *schema = dl_parquet_schema(r);
        int columns[64], n = schema->num_fields < 64 ? schema->num_fields : 64;
        for (int c = 0; c < n; c++) columns[c] = c;
        printf("\nfirst rows\n");
        cli_row_writer *w = cli_row_writer_new(CLI_FORMAT_TABLE, schema->fields, n, stdout);
        status = cli_stream_rows(r, columns, n, DEMO_SHOWN_ROWS, w, &err);
        cli_row_writer_finish(w);
    }
    if (status == DL_OK) status = dl_parquet_read_table(r, NULL, 0, &read_back, &err);
    if (status == DL_OK && read_back.schema.num_fields != written.schema.num_fields)
        status = dl_error_set(&err, DL_ECORRUPT, "wrote %d columns, read %d",
                              written.schema.num_fields, read_back.schema.num_fields);
    for (int c = 0; status == DL_OK && c < written.schema.num_fields; c++) {
        const dl_field *fw = &written.schema.fields[c], *fr = &read_back.schema.fields[c];
        if (strcmp(fw->name, fr->name) != 0 || fw->type != fr->type || fw->unit != fr->unit ||
            fw->nullable != fr->nullable)
            status =
                dl_error_set(&err, DL_ECORRUPT, "column %d: wrote '%s' %s, read '%s' %s", c,
                             fw->name, dl_type_name(fw->type), fr->name, dl_type_name(fr->type));
        else
            status = compare_columns(fw, &written.columns[c], &read_back.columns[c], &err);
    }
    if (status == DL_OK)
        printf("\nverified: %lld rows x %d columns read back identical to what was written\n",
               (long long)rows, written.schema.num_fields);
    if (r) dl_parquet_close(r);
    dl_table_free(&read_back);
    dl_table_free(&written);
    if (status != DL_OK) {
        dl_error_prefix(&err, "demo");
        return cli_fail(&err);
    }
    return cli_finish_stdout(CLI_EXIT_OK);
}
