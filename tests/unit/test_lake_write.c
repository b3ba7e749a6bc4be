/*
** test_lake_write.c -- the lake's write path and what it promises:
** catalog contents, idempotent byte-identical upserts, dedupe with new rows
** winning, schema evolution (and refusal of lossy changes), versions,
** time travel, vacuum, verify (tamper / missing / unregistered) and gaps.
*/
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl_test.h"
#include "lake/dl_layout.h"

#define DS     "BINANCE/SPOT/BTCUSDT/raw/1m"
#define MIN_US INT64_C(60000000)
/* 2024-01-05T00:00:00Z */
#define DAY0 INT64_C(1704412800000000)

/* A klines-like table: ts (us) = start + i*step for each i in idx, close =
** base + i, and optionally an int32 `trade_count` column. */
static void make_rows(dl_table *t, int64_t start, int64_t step, const int *idx, int n, double base,
                      bool with_count) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "close", DL_TYPE_DOUBLE, false, NULL);
    if (with_count) dl_schema_add(&s, "trade_count", DL_TYPE_INT32, false, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    for (int i = 0; i < n; i++) {
        dl_column_append_i64(&t->columns[0], start + idx[i] * step, NULL);
        dl_column_append_f64(&t->columns[1], base + idx[i], NULL);
        if (with_count) dl_column_append_i32(&t->columns[2], idx[i], NULL);
    }
    dl_table_seal(t, NULL);
}

static void make_range(dl_table *t, int64_t start, int first, int count, double base,
                       bool with_count) {
    int *idx = malloc(sizeof(int) * (size_t)count);
    for (int i = 0; i < count; i++) idx[i] = first + i;
    make_rows(t, start, MIN_US, idx, count, base, with_count);
    free(idx);
}

static void write_ok(dl_lake *lake, const dl_table *t, dl_lake_write_result *res) {
    dl_error err;
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    o.durable = false;
    CHECK_OK(dl_lake_write(lake, DS, t, &o, res, &err), &err);
}

static void file_sha(dl_lake *lake, int32_t day, char out[65]) {
    char rel[512], abs[1024];
    dl_layout_day_path(DS, day, rel, sizeof rel);
    snprintf(abs, sizeof abs, "%s/%s", dl_lake_root(lake), rel);
    dl_error err;
    CHECK_OK(dl_sha256_file(abs, out, &err), &err);
}

DL_TEST(lake_write_catalog_and_idempotency) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t;
    /* two days: 1440 minutes of day 0 and 10 of day 1 */
    make_range(&t, DAY0, 0, 1450, 100.0, true);
    dl_lake_write_result res;
    write_ok(lake, &t, &res);
    CHECK_EQ_INT(res.days_written, 2);
    CHECK_EQ_INT(res.versions_created, 1);
    CHECK_EQ_INT(res.last_version, 1);

    dl_dataset_info info;
    CHECK_OK(dl_lake_dataset_info(lake, "binance/spot/btcusdt/raw/1m", &info, &err), &err);
    CHECK_EQ_INT(info.rows, 1450);
    CHECK_EQ_INT(info.files, 2);
    CHECK_EQ_INT(info.version, 1);
    CHECK_EQ_INT(info.ts_min, DAY0);
    CHECK_EQ_INT(info.ts_max, DAY0 + 1449 * MIN_US);
    CHECK_EQ_INT(info.period_us, MIN_US);

    dl_lake_file_list files;
    CHECK_OK(dl_lake_files(lake, DS, DAY0 + 86400000000LL, INT64_MAX, 0, &files, &err), &err);
    CHECK_EQ_INT(files.count, 1);
    if (files.count == 1) {
        CHECK_EQ_INT(files.files[0].rows, 10);
        CHECK(strstr(files.files[0].path, "/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/06/data.parquet") !=
              NULL);
    }
    dl_lake_file_list_free(&files);

    char before[65], after[65];
    file_sha(lake, dl_day_of_us(DAY0), before);
    /* the same rows again: nothing changes, no new version */
    write_ok(lake, &t, &res);
    CHECK_EQ_INT(res.days_written, 0);
    CHECK_EQ_INT(res.days_unchanged, 2);
    CHECK_EQ_INT(res.versions_created, 0);
    file_sha(lake, dl_day_of_us(DAY0), after);
    CHECK_EQ_STR(before, after);
    CHECK_OK(dl_lake_dataset_info(lake, DS, &info, &err), &err);
    CHECK_EQ_INT(info.version, 1);
    /* a subset of the rows is also no change (upsert of identical rows) */
    dl_table sub;
    make_range(&sub, DAY0, 100, 50, 100.0, true);
    write_ok(lake, &sub, &res);
    CHECK_EQ_INT(res.versions_created, 0);
    dl_table_free(&sub);
    dl_table_free(&t);
    dl_lake_close(lake);
}

DL_TEST(lake_write_dedupe_new_rows_win) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t, u;
    make_range(&t, DAY0, 0, 100, 100.0, false);
    write_ok(lake, &t, NULL);
    /* rows 50..149 with other closes, out of order and with a duplicate
    ** inside the batch: the later duplicate wins */
    int idx[101];
    for (int i = 0; i < 100; i++) idx[i] = 149 - i;
    idx[100] = 120;
    make_rows(&u, DAY0, MIN_US, idx, 101, 1000.0, false);
    ((double *)u.columns[1].values)[100] = -5.0;
    dl_lake_write_result res;
    write_ok(lake, &u, &res);
    CHECK_EQ_INT(res.last_version, 2);
    dl_table all;
    CHECK_OK(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 0, &all, &err), &err);
    CHECK_EQ_INT(all.num_rows, 150);
    const int64_t *ts = all.columns[0].values;
    const double *close = all.columns[1].values;
    bool sorted = true;
    for (int64_t i = 1; i < all.num_rows; i++) sorted = sorted && ts[i] > ts[i - 1];
    CHECK(sorted);
    CHECK(close[10] == 110.0);  /* old row kept */
    CHECK(close[60] == 1060.0); /* new row won */
    CHECK(close[120] == -5.0);  /* the later duplicate of the batch won */
    dl_table_free(&all);
    /* time travel: version 1 still has the old closes */
    CHECK_OK(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 1, &all, &err), &err);
    CHECK_EQ_INT(all.num_rows, 100);
    CHECK(all.num_rows == 100 && ((double *)all.columns[1].values)[60] == 160.0);
    dl_table_free(&all);
    /* a range read */
    CHECK_OK(dl_lake_read(lake, DS, DAY0 + 10 * MIN_US, DAY0 + 20 * MIN_US, 0, &all, &err), &err);
    CHECK_EQ_INT(all.num_rows, 10);
    dl_table_free(&all);
    dl_table_free(&t);
    dl_table_free(&u);
    dl_lake_close(lake);
}

DL_TEST(lake_write_schema_evolution) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table a, b;
    make_range(&a, DAY0, 0, 10, 1.0, false);                /* ts, close */
    make_range(&b, DAY0 + 86400000000LL, 0, 10, 2.0, true); /* + trade_count int32 */
    write_ok(lake, &a, NULL);
    write_ok(lake, &b, NULL);
    dl_table all;
    CHECK_OK(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 0, &all, &err), &err);
    CHECK_EQ_INT(all.num_rows, 20);
    int tc = dl_schema_find(&all.schema, "trade_count");
    CHECK(tc >= 0);
    if (tc >= 0) {
        CHECK_EQ_INT(all.columns[tc].null_count, 10);
        CHECK(!dl_column_is_valid(&all.columns[tc], 0));
        CHECK(dl_column_is_valid(&all.columns[tc], 15));
    }
    dl_table_free(&all);

    /* widening int32 -> int64 is accepted */
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_MS, false, NULL); /* ms input is widened to us */
    dl_schema_add(&s, "trade_count", DL_TYPE_INT64, false, NULL);
    dl_table w;
    dl_table_init(&w, &s, NULL);
    dl_column_append_i64(&w.columns[0], (DAY0 + 86400000000LL) / 1000 + 5 * 60000, NULL);
    dl_column_append_i64(&w.columns[1], INT64_C(5000000000), NULL);
    dl_table_seal(&w, NULL);
    write_ok(lake, &w, NULL);
    dl_schema u;
    CHECK_OK(dl_lake_dataset_schema(lake, DS, &u, &err), &err);
    tc = dl_schema_find(&u, "trade_count");
    CHECK(tc >= 0 && u.fields[tc].type == DL_TYPE_INT64);
    dl_schema_free(&u);
    CHECK_OK(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 0, &all, &err), &err);
    CHECK_EQ_INT(all.num_rows, 20);
    tc = dl_schema_find(&all.schema, "trade_count");
    CHECK(tc >= 0 && ((int64_t *)all.columns[tc].values)[15] == INT64_C(5000000000));
    dl_table_free(&all);
    dl_table_free(&w);
    dl_schema_free(&s);

    /* double -> int64 for `close` would lose data: refused, nothing written */
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "close", DL_TYPE_INT64, false, NULL);
    dl_table_init(&w, &s, NULL);
    dl_column_append_i64(&w.columns[0], DAY0, NULL);
    dl_column_append_i64(&w.columns[1], 7, NULL);
    dl_table_seal(&w, NULL);
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    CHECK_RC(dl_lake_write(lake, DS, &w, &o, NULL, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "\"close\"") && strstr(err.message, "double") &&
          strstr(err.message, "int64"));
    dl_dataset_info info;
    CHECK_OK(dl_lake_dataset_info(lake, DS, &info, &err), &err);
    CHECK_EQ_INT(info.version, 3);
    dl_table_free(&w);
    dl_schema_free(&s);
    dl_table_free(&a);
    dl_table_free(&b);
    dl_lake_close(lake);
}

DL_TEST(lake_write_versions_vacuum) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    for (int v = 1; v <= 4; v++) {
        dl_table t;
        make_range(&t, DAY0, 0, 30, 100.0 * v, false);
        write_ok(lake, &t, NULL);
        dl_table_free(&t);
    }
    dl_lake_version *hist = NULL;
    int64_t n = 0;
    CHECK_OK(dl_lake_history(lake, DS, &hist, &n, &err), &err);
    CHECK_EQ_INT(n, 4);
    CHECK(n == 4 && hist[3].files_replaced == 1 && hist[0].files_added == 1);
    dl_free(hist);
    dl_table old;
    CHECK_OK(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 2, &old, &err), &err);
    CHECK(old.num_rows == 30 && ((double *)old.columns[1].values)[0] == 200.0);
    dl_table_free(&old);
    int64_t v_at = 0;
    CHECK_OK(dl_lake_version_at(lake, DS, INT64_MAX, &v_at, &err), &err);
    CHECK_EQ_INT(v_at, 4);
    CHECK_RC(dl_lake_version_at(lake, DS, 0, &v_at, &err), DL_ENOTFOUND);

    dl_lake_vacuum_options vo = {.keep_versions = 2};
    dl_lake_vacuum_result vr;
    CHECK_OK(dl_lake_vacuum(lake, DS, &vo, &vr, &err), &err);
    CHECK_EQ_INT(vr.files_removed, 2); /* the files of versions 1 and 2 */
    CHECK_RC(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 2, &old, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "vacuum") != NULL);
    CHECK_OK(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 3, &old, &err), &err);
    CHECK(old.num_rows == 30 && ((double *)old.columns[1].values)[0] == 300.0);
    dl_table_free(&old);
    dl_verify_report rep;
    CHECK_OK(dl_lake_verify(lake, NULL, false, &rep, &err), &err);
    CHECK_EQ_INT(rep.count, 0);
    CHECK_EQ_INT(rep.files_checked, 2); /* live v4 + archived v3 */
    dl_verify_report_free(&rep);
    dl_lake_close(lake);
}

DL_TEST(lake_write_verify_detects_damage) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t;
    make_range(&t, DAY0, 0, 2880, 1.0, false); /* two full days */
    write_ok(lake, &t, NULL);
    dl_table_free(&t);
    char rel[512], abs[1024], stray[1024];
    const char *root = dl_lake_root(lake);
    dl_layout_day_path(DS, dl_day_of_us(DAY0), rel, sizeof rel);
    snprintf(abs, sizeof abs, "%s/%s", root, rel);
    FILE *f = fopen(abs, "r+b"); /* flip one byte in the middle */
    CHECK(f != NULL);
    if (f) {
        fseek(f, 100, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 100, SEEK_SET);
        fputc(c ^ 0xff, f);
        fclose(f);
    }
    dl_layout_day_path(DS, dl_day_of_us(DAY0) + 1, rel, sizeof rel);
    snprintf(abs, sizeof abs, "%s/%s", root, rel);
    CHECK_EQ_INT(unlink(abs), 0);
    /* a foreign file beside a day file, and a day file the catalog does not know */
    char foreign[1024];
    snprintf(foreign, sizeof foreign, "%s/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/05/extra.parquet",
             root);
    f = fopen(foreign, "wb");
    if (f) fclose(f);
    snprintf(stray, sizeof stray, "%s/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/09", root);
    mkdir(stray, 0777);
    snprintf(stray, sizeof stray, "%s/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/09/data.parquet", root);
    f = fopen(stray, "wb");
    if (f) fclose(f);
    dl_verify_report rep;
    CHECK_OK(dl_lake_verify(lake, DS, false, &rep, &err), &err);
    int kinds[16] = {0};
    for (int64_t i = 0; i < rep.count; i++) kinds[rep.issues[i].kind]++;
    CHECK_EQ_INT(rep.count, 4);
    CHECK_EQ_INT(kinds[DL_VERIFY_MISMATCH], 1);
    CHECK_EQ_INT(kinds[DL_VERIFY_MISSING], 1);
    CHECK_EQ_INT(kinds[DL_VERIFY_UNREGISTERED], 1);
    CHECK_EQ_INT(kinds[DL_VERIFY_FOREIGN], 1);
    dl_verify_report_free(&rep);
    /* repair quarantines the unregistered day file (never deletes data) and
    ** leaves the foreign file where it is */
    CHECK_OK(dl_lake_verify(lake, DS, true, &rep, &err), &err);
    dl_verify_report_free(&rep);
    CHECK(access(stray, F_OK) != 0);
    CHECK(access(foreign, F_OK) == 0);
    snprintf(stray, sizeof stray,
             "%s/.dl/quarantine/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/09/data.parquet", root);
    CHECK(access(stray, F_OK) == 0);
    dl_lake_close(lake);
}

/* A lake whose catalog lists no file at all: the set of known paths is
** empty, and a file in the tree is still reported (not looked up in a NULL
** array). */
DL_TEST(lake_write_verify_empty_catalog) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    char stray[1024];
    snprintf(stray, sizeof stray, "%s/stray.parquet", dl_lake_root(lake));
    FILE *f = fopen(stray, "wb");
    CHECK(f != NULL);
    if (f) fclose(f);
    dl_verify_report rep;
    CHECK_OK(dl_lake_verify(lake, NULL, false, &rep, &err), &err);
    CHECK_EQ_INT(rep.files_checked, 0);
    CHECK_EQ_INT(rep.count, 1);
    if (rep.count == 1) CHECK_EQ_INT(rep.issues[0].kind, DL_VERIFY_FOREIGN);
    dl_verify_report_free(&rep);
    dl_lake_close(lake);
}

DL_TEST(lake_write_gaps) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    /* day 0: minutes 0..1439 without 100..104 and without 1430..1439;
    ** day 1: starts at minute 1440+3 (so 1430..1442 are missing, 13 minutes) */
    int idx[3000], n = 0;
    for (int i = 0; i < 1430; i++)
        if (i < 100 || i > 104) idx[n++] = i;
    for (int i = 1443; i < 1500; i++) idx[n++] = i;
    dl_table t;
    make_rows(&t, DAY0, MIN_US, idx, n, 1.0, false);
    write_ok(lake, &t, NULL);
    dl_table_free(&t);
    dl_lake_gap *gaps = NULL;
    int64_t count = 0;
    CHECK_OK(dl_lake_gaps(lake, DS, &gaps, &count, &err), &err);
    CHECK_EQ_INT(count, 2);
    if (count == 2) {
        CHECK_EQ_INT(gaps[0].from_ts, DAY0 + 100 * MIN_US);
        CHECK_EQ_INT(gaps[0].to_ts, DAY0 + 104 * MIN_US);
        CHECK_EQ_INT(gaps[0].missing, 5);
        CHECK_EQ_INT(gaps[1].from_ts, DAY0 + 1430 * MIN_US);
        CHECK_EQ_INT(gaps[1].to_ts, DAY0 + 1442 * MIN_US);
        CHECK_EQ_INT(gaps[1].missing, 13);
    }
    dl_free(gaps);
    /* filling the first gap removes it */
    int fill[5] = {100, 101, 102, 103, 104};
    make_rows(&t, DAY0, MIN_US, fill, 5, 1.0, false);
    write_ok(lake, &t, NULL);
    dl_table_free(&t);
    CHECK_OK(dl_lake_gaps(lake, DS, &gaps, &count, &err), &err);
    CHECK_EQ_INT(count, 1);
    dl_free(gaps);
    dl_lake_close(lake);
}
