/*
** embed_example.c -- a minimal program embedding libdatalake through the
** installed header and pkg-config (built by tests/abi/test_install.sh, both
** against the shared and the static library): creates a lake, writes two
** days of 1m bars, reads them back through a query and checks the sum.
** Usage: embed_example LAKE_DIR
*/
#include <stdio.h>
#include <string.h>

#include <datalake.h>

#define MINUTE_US 60000000LL

static int fail(const char *what, const dl_error *err) {
    fprintf(stderr, "embed_example: %s: %s\n", what, err->message);
    return 1;
}

/* 2 x 1440 one-minute bars from 2024-01-01, close = row index. */
static int make_bars(dl_table *t, dl_error *err) {
    dl_schema s;
    dl_schema_init(&s);
    int rc = dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, err);
    if (rc == DL_OK) rc = dl_schema_add(&s, "close", DL_TYPE_DOUBLE, false, err);
    if (rc == DL_OK) rc = dl_table_init(t, &s, err);
    dl_schema_free(&s);
    for (int64_t i = 0; rc == DL_OK && i < 2 * 1440; i++) {
        rc = dl_column_append_i64(&t->columns[0], 1704067200000000LL + i * MINUTE_US, err);
        if (rc == DL_OK) rc = dl_column_append_f64(&t->columns[1], (double)i, err);
    }
    return rc == DL_OK ? dl_table_seal(t, err) : rc;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    dl_error err = {0};
    dl_lake *lake = NULL;
    dl_table bars = {0}, batch = {0};
    dl_query *q = NULL;
    int status = 1;
    const char *ds = "TEST/SPOT/BTCUSDT/raw/1m";

    if (strcmp(dl_version(), DL_VERSION_STRING) != 0) {
        fprintf(stderr, "embed_example: header %s, library %s\n", DL_VERSION_STRING, dl_version());
        return 1;
    }
    if (dl_lake_init(argv[1], &err) != DL_OK) return fail("init", &err);
    if (dl_lake_open(argv[1], false, &lake, &err) != DL_OK) return fail("open", &err);
    if (make_bars(&bars, &err) != DL_OK) {
        fail("build table", &err);
        goto cleanup;
    }
    if (dl_lake_write(lake, ds, &bars, NULL, NULL, &err) != DL_OK) {
        fail("write", &err);
        goto cleanup;
    }
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = &ds;
    spec.num_datasets = 1;
    spec.threads = 1;
    if (dl_query_open(lake, &spec, &q, &err) != DL_OK ||
        dl_table_init(&batch, dl_query_schema(q), &err) != DL_OK) {
        fail("query", &err);
        goto cleanup;
    }
    int64_t rows = 0;
    double sum = 0;
    int close = dl_schema_find(dl_query_schema(q), "close");
    for (;;) {
        if (dl_query_next(q, &batch, &err) != DL_OK) {
            fail("query next", &err);
            goto cleanup;
        }
        if (batch.num_rows == 0) break;
        for (int64_t i = 0; i < batch.num_rows; i++)
            sum += ((const double *)batch.columns[close].values)[i];
        rows += batch.num_rows;
    }
    double want = (2.0 * 1440 - 1) * (2.0 * 1440) / 2;
    if (rows != 2 * 1440 || sum != want) {
        fprintf(stderr, "embed_example: read %lld rows, sum %.0f (want 2880, %.0f)\n",
                (long long)rows, sum, want);
        goto cleanup;
    }
    printf("embed_example: libdatalake %s: wrote and read back %lld rows\n", dl_version(),
           (long long)rows);
    status = 0;
cleanup:
    dl_query_close(q);
    dl_table_free(&batch);
    dl_table_free(&bars);
    dl_lake_close(lake);
    return status;
}
