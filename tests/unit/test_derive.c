/*
** test_derive.c -- dl_lake_resample: agg datasets equal a naive aggregation
** of the source (klines 1m -> 5m / 1h / 1d with gaps and nulls, trades ->
** 1m bars), incremental runs recompute only the changed source days (the
** other agg files keep their version and bytes), a run with no source
** change writes nothing, lineage is recorded in the version message, the
** vacuumed-lineage fallback, and the refusals (periods, sources, mixing).
*/
#include <math.h>
#include <stdlib.h>

#include "dl_test.h"

#define KLINES "BINANCE/SPOT/BTCUSDT/raw/1m"
#define TRADES "BINANCE/SPOT/BTCUSDT/ticks/trades"
#define MIN_US INT64_C(60000000)
#define DAY_US INT64_C(86400000000)
/* 2024-01-05T00:00:00Z */
#define DAY0 INT64_C(1704412800000000)

static uint64_t rng_state;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static void write_rows(dl_lake *lake, const char *dataset, const dl_table *t) {
    dl_error err;
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    o.durable = false;
    CHECK_OK(dl_lake_write(lake, dataset, t, &o, NULL, &err), &err);
}

/* 1m klines for minutes [first, first + count) since DAY0: a random walk,
** with whole-hour and single-minute gaps, a null close now and then (the
** row must not count) and null volumes (count for OHLC, not the sum).
** `salt` changes the values so that a rewrite differs. */
static void make_klines(dl_table *t, int first, int count, uint64_t salt) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    const char *names[] = {"open", "high", "low", "close"};
    for (int k = 0; k < 4; k++) dl_schema_add(&s, names[k], DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "volume", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "trade_count", DL_TYPE_INT64, false, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    rng_state = 42 + salt;
    double price = 100;
    for (int m = first; m < first + count; m++) {
        if ((m / 60) % 7 == 3 || rnd() % 50 == 0) continue; /* gaps */
        double o = price, c = price + (double)((int)(rnd() % 200) - 100) / 64.0;
        double h = (o > c ? o : c) + (double)(rnd() % 50) / 32.0;
        double l = (o < c ? o : c) - (double)(rnd() % 50) / 32.0;
        price = c;
        dl_column_append_i64(&t->columns[0], DAY0 + m * MIN_US, NULL);
        dl_column_append_f64(&t->columns[1], o, NULL);
        dl_column_append_f64(&t->columns[2], h, NULL);
        dl_column_append_f64(&t->columns[3], l, NULL);
        if (rnd() % 97 == 0)
            dl_column_append_null(&t->columns[4], NULL);
        else
            dl_column_append_f64(&t->columns[4], c, NULL);
        if (rnd() % 31 == 0)
            dl_column_append_null(&t->columns[5], NULL);
        else
            dl_column_append_f64(&t->columns[5], (double)(rnd() % 100000) / 1000.0, NULL);
        dl_column_append_i64(&t->columns[6], (int64_t)(rnd() % 500), NULL);
    }
    dl_table_seal(t, NULL);
}

static double f64_at(const dl_table *t, const char *name, int64_t i) {
    return ((const double *)t->columns[dl_schema_find(&t->schema, name)].values)[i];
}
static int64_t i64_at(const dl_table *t, const char *name, int64_t i) {
    return ((const int64_t *)t->columns[dl_schema_find(&t->schema, name)].values)[i];
}
static bool valid_at(const dl_table *t, const char *name, int64_t i) {
    return dl_column_is_valid(&t->columns[dl_schema_find(&t->schema, name)], i);
}

/* Compares the agg dataset with a row-by-row aggregation of the source
** klines into buckets of `bucket` us. */
static void check_kline_agg(dl_lake *lake, const char *agg, int64_t bucket) {
    dl_error err;
    dl_table src, got;
    CHECK_OK(dl_lake_read(lake, KLINES, INT64_MIN, INT64_MAX, 0, &src, &err), &err);
    CHECK_OK(dl_lake_read(lake, agg, INT64_MIN, INT64_MAX, 0, &got, &err), &err);
    int64_t bars = 0, b = -1;
    double o = 0, h = 0, l = 0, c = 0, vol = 0;
    int64_t cnt = 0, cur = INT64_MIN;
    bool mismatch = false;
    for (int64_t i = 0; i <= src.num_rows && !mismatch; i++) {
        bool end = i == src.num_rows;
        if (!end && !valid_at(&src, "close", i)) continue;
        int64_t ts = end ? 0 : i64_at(&src, "ts", i);
        int64_t start = end ? INT64_MAX : ts - ts % bucket;
        if (start != cur && cur != INT64_MIN) { /* emit the naive bar */
            b = bars++;
            if (b >= got.num_rows) {
                mismatch = true;
                break;
            }
            mismatch = i64_at(&got, "ts", b) != cur || f64_at(&got, "open", b) != o ||
                       f64_at(&got, "high", b) != h || f64_at(&got, "low", b) != l ||
                       f64_at(&got, "close", b) != c || f64_at(&got, "volume", b) != vol ||
                       i64_at(&got, "trade_count", b) != cnt;
            if (mismatch) fprintf(stderr, "  %s: bar %lld differs\n", agg, (long long)b);
        }
        if (end) break;
        double ro = f64_at(&src, "open", i), rh = f64_at(&src, "high", i);
        double rl = f64_at(&src, "low", i), rc = f64_at(&src, "close", i);
        double rv = valid_at(&src, "volume", i) ? f64_at(&src, "volume", i) : 0;
        int64_t rn = i64_at(&src, "trade_count", i);
        if (start != cur) {
            cur = start;
            o = ro, h = rh, l = rl, c = rc, vol = rv, cnt = rn;
        } else {
            h = rh > h ? rh : h;
            l = rl < l ? rl : l;
            c = rc;
            vol += rv;
            cnt += rn;
        }
    }
    CHECK(!mismatch);
    CHECK(bars > 0);
    CHECK_EQ_INT(got.num_rows, bars);
    dl_table_free(&src);
    dl_table_free(&got);
}

static dl_resample_result resample_ok(dl_lake *lake, const char *source, const char *period) {
    dl_error err;
    dl_resample_options o;
    dl_resample_options_default(&o);
    o.durable = false;
    o.threads = 2;
    dl_resample_result r;
    memset(&r, 0, sizeof r);
    CHECK_OK(dl_lake_resample(lake, source, period, &o, &r, &err), &err);
    return r;
}

/* The lineage recorded by the latest version of `agg`. */
static void check_lineage(dl_lake *lake, const char *agg, const char *source, int64_t version) {
    dl_error err;
    dl_lake_version *v = NULL;
    int64_t n = 0;
    CHECK_OK(dl_lake_history(lake, agg, &v, &n, &err), &err);
    CHECK(n > 0);
    if (n > 0) {
        char src[DL_DATASET_NAME_MAX];
        int64_t sv = 0;
        CHECK_OK(dl_resample_lineage_parse(v[n - 1].message, src, sizeof src, &sv), NULL);
        CHECK_EQ_STR(src, source);
        CHECK_EQ_INT(sv, version);
        char want[512];
        snprintf(want, sizeof want, "dl.source=%s dl.source_version=%lld", source,
                 (long long)version);
        CHECK(strstr(v[n - 1].message, want) != NULL);
    }
    dl_free(v);
}

DL_TEST(derive_resample_klines_matches_naive) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_table t;
    make_klines(&t, 0, 3 * 1440, 0); /* three days */
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);

    const char *periods[] = {"5m", "1h", "1d"};
    const int64_t buckets[] = {5 * MIN_US, 60 * MIN_US, DAY_US};
    for (int p = 0; p < 3; p++) {
        dl_resample_result r = resample_ok(lake, KLINES, periods[p]);
        char agg[64];
        snprintf(agg, sizeof agg, "BINANCE/SPOT/BTCUSDT/agg/%s", periods[p]);
        CHECK_EQ_STR(r.target, agg);
        CHECK_EQ_STR(r.source, KLINES);
        CHECK_EQ_INT(r.source_version, 1);
        CHECK_EQ_INT(r.recorded_source_version, 0);
        CHECK_EQ_INT(r.days_total, 3);
        CHECK_EQ_INT(r.days_recomputed, 3);
        CHECK_EQ_INT(r.days_written, 3);
        CHECK_EQ_INT(r.version, 1);
        check_kline_agg(lake, agg, buckets[p]);
        check_lineage(lake, agg, KLINES, 1);
    }
    /* the 1d bars: one per day */
    dl_dataset_info info;
    dl_error err;
    CHECK_OK(dl_lake_dataset_info(lake, "BINANCE/SPOT/BTCUSDT/agg/1d", &info, &err), &err);
    CHECK_EQ_INT(info.rows, 3);
    dl_lake_close(lake);
}

/* (version, sha256) of every agg day file, by day index from DAY0. */
static void snapshot(dl_lake *lake, const char *agg, int64_t version[8], char sha[8][65]) {
    dl_error err;
    dl_lake_file_list files;
    memset(version, 0, 8 * sizeof *version);
    memset(sha, 0, 8 * 65);
    CHECK_OK(dl_lake_files(lake, agg, INT64_MIN, INT64_MAX, 0, &files, &err), &err);
    for (int64_t i = 0; i < files.count; i++) {
        int64_t d = (int64_t)files.files[i].day - DAY0 / DAY_US;
        if (d < 0 || d >= 8) continue;
        version[d] = files.files[i].version;
        memcpy(sha[d], files.files[i].sha256, 65);
    }
    dl_lake_file_list_free(&files);
}

DL_TEST(derive_incremental_only_changed_days) {
    const char *agg = "BINANCE/SPOT/BTCUSDT/agg/1h";
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t;
    make_klines(&t, 0, 3 * 1440, 0);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    dl_resample_result r = resample_ok(lake, KLINES, "1h");
    CHECK_EQ_INT(r.version, 1);
    int64_t v1[8], v2[8];
    char s1[8][65], s2[8][65];
    snapshot(lake, agg, v1, s1);

    /* idempotent: no source change, nothing written, no new version */
    r = resample_ok(lake, KLINES, "1h");
    CHECK_EQ_INT(r.days_recomputed, 0);
    CHECK_EQ_INT(r.days_written, 0);
    CHECK_EQ_INT(r.version, 0);
    CHECK_EQ_INT(r.recorded_source_version, 1);
    dl_dataset_info info;
    CHECK_OK(dl_lake_dataset_info(lake, agg, &info, &err), &err);
    CHECK_EQ_INT(info.version, 1);

    /* rewrite the middle day (other values for minutes 1500..1559) */
    make_klines(&t, 1500, 60, 7);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    r = resample_ok(lake, KLINES, "1h");
    CHECK_EQ_INT(r.source_version, 2);
    CHECK_EQ_INT(r.recorded_source_version, 1);
    CHECK_EQ_INT(r.days_recomputed, 1);
    CHECK(r.rows_in > 1000 && r.rows_in <= 1440); /* one day read, not three */
    CHECK_EQ_INT(r.days_written, 1);
    CHECK_EQ_INT(r.version, 2);
    snapshot(lake, agg, v2, s2);
    CHECK_EQ_INT(v2[0], 1);
    CHECK_EQ_STR(s2[0], s1[0]);
    CHECK_EQ_INT(v2[1], 2);
    CHECK(strcmp(s2[1], s1[1]) != 0);
    CHECK_EQ_INT(v2[2], 1);
    CHECK_EQ_STR(s2[2], s1[2]);
    check_kline_agg(lake, agg, 60 * MIN_US);
    check_lineage(lake, agg, KLINES, 2);

    /* a new source day: only it is computed */
    make_klines(&t, 3 * 1440, 1440, 9);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    r = resample_ok(lake, KLINES, "1h");
    CHECK_EQ_INT(r.days_total, 4);
    CHECK_EQ_INT(r.days_recomputed, 1);
    CHECK_EQ_INT(r.version, 3);
    snapshot(lake, agg, v1, s1);
    CHECK_EQ_INT(v1[0], 1);
    CHECK_EQ_INT(v1[1], 2);
    CHECK_EQ_INT(v1[2], 1);
    CHECK_EQ_INT(v1[3], 3);
    CHECK_EQ_STR(s1[1], s2[1]);
    check_kline_agg(lake, agg, 60 * MIN_US);

    /* and again nothing */
    r = resample_ok(lake, KLINES, "1h");
    CHECK_EQ_INT(r.days_recomputed, 0);
    CHECK_EQ_INT(r.version, 0);
    dl_lake_close(lake);
}

DL_TEST(derive_incremental_after_vacuum) {
    const char *agg = "BINANCE/SPOT/BTCUSDT/agg/15m";
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t;
    make_klines(&t, 0, 4 * 1440, 0);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    resample_ok(lake, KLINES, "15m");
    /* two source versions, then the recorded version 1 is vacuumed away */
    make_klines(&t, 1440 + 100, 30, 5);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    make_klines(&t, 3 * 1440 + 7, 30, 6);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    dl_lake_vacuum_options vo = {0};
    vo.keep_versions = 1;
    dl_lake_vacuum_result vr;
    CHECK_OK(dl_lake_vacuum(lake, KLINES, &vo, &vr, &err), &err);
    dl_lake_file_list old;
    CHECK_RC(dl_lake_files(lake, KLINES, INT64_MIN, INT64_MAX, 1, &old, &err), DL_ENOTFOUND);

    dl_resample_result r = resample_ok(lake, KLINES, "15m");
    CHECK_EQ_INT(r.recorded_source_version, 1);
    CHECK_EQ_INT(r.days_recomputed, 2);
    CHECK_EQ_INT(r.days_written, 2);
    int64_t v[8];
    char s[8][65];
    snapshot(lake, agg, v, s);
    CHECK_EQ_INT(v[0], 1);
    CHECK_EQ_INT(v[1], 2);
    CHECK_EQ_INT(v[2], 1);
    CHECK_EQ_INT(v[3], 2);
    check_kline_agg(lake, agg, 15 * MIN_US);
    check_lineage(lake, agg, KLINES, 3);
    dl_lake_close(lake);
}

/* Trades: ts (ms collisions), trade_id, price, qty over two days. */
static void make_trades(dl_table *t, int64_t n_per_day, int days) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "trade_id", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "price", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_DOUBLE, false, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    rng_state = 7;
    int64_t id = 1000;
    for (int d = 0; d < days; d++) {
        int64_t ts = DAY0 + d * DAY_US;
        for (int64_t i = 0; i < n_per_day; i++) {
            ts += (int64_t)(rnd() % 3) * 1000 * (int64_t)(rnd() % 2000); /* ms steps, ties */
            if (ts >= DAY0 + (d + 1) * DAY_US) break;
            dl_column_append_i64(&t->columns[0], ts, NULL);
            dl_column_append_i64(&t->columns[1], id++, NULL);
            dl_column_append_f64(&t->columns[2], 100 + (double)(rnd() % 1000) / 100.0, NULL);
            dl_column_append_f64(&t->columns[3], (double)(1 + rnd() % 1000) / 1000.0, NULL);
        }
    }
    dl_table_seal(t, NULL);
}

DL_TEST(derive_bars_from_trades) {
    const char *agg = "BINANCE/SPOT/BTCUSDT/agg/1m";
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t;
    make_trades(&t, 60000, 2);
    write_rows(lake, TRADES, &t);
    dl_table_free(&t);
    dl_resample_result r = resample_ok(lake, TRADES, "1m");
    CHECK_EQ_INT(r.days_recomputed, 2);
    CHECK_EQ_INT(r.version, 1);
    check_lineage(lake, agg, TRADES, 1);

    dl_table src, got;
    CHECK_OK(dl_lake_read(lake, TRADES, INT64_MIN, INT64_MAX, 0, &src, &err), &err);
    CHECK_OK(dl_lake_read(lake, agg, INT64_MIN, INT64_MAX, 0, &got, &err), &err);
    CHECK(src.num_rows > 10000);
    int64_t b = -1, mism = 0;
    int64_t cur = INT64_MIN, trades = 0;
    double o = 0, h = 0, l = 0, c = 0, vol = 0, qv = 0;
    for (int64_t i = 0; i <= src.num_rows; i++) {
        bool end = i == src.num_rows;
        int64_t start = end ? INT64_MAX : i64_at(&src, "ts", i) / MIN_US * MIN_US;
        if (start != cur && cur != INT64_MIN) {
            b++;
            if (b >= got.num_rows || i64_at(&got, "ts", b) != cur || f64_at(&got, "open", b) != o ||
                f64_at(&got, "high", b) != h || f64_at(&got, "low", b) != l ||
                f64_at(&got, "close", b) != c || f64_at(&got, "volume", b) != vol ||
                f64_at(&got, "quote_volume", b) != qv ||
                fabs(f64_at(&got, "vwap", b) - qv / vol) > 1e-9 * (qv / vol) ||
                i64_at(&got, "trades", b) != trades)
                mism++;
        }
        if (end) break;
        double p = f64_at(&src, "price", i), q = f64_at(&src, "qty", i);
        if (start != cur) {
            cur = start;
            o = h = l = c = p;
            vol = q;
            qv = p * q;
            trades = 1;
        } else {
            h = p > h ? p : h;
            l = p < l ? p : l;
            c = p;
            vol += q;
            qv += p * q;
            trades++;
        }
    }
    CHECK_EQ_INT(mism, 0);
    CHECK_EQ_INT(got.num_rows, b + 1);
    dl_table_free(&src);
    dl_table_free(&got);

    /* any period for ticks, e.g. 10s; and idempotent */
    r = resample_ok(lake, TRADES, "10s");
    CHECK_EQ_INT(r.version, 1);
    r = resample_ok(lake, TRADES, "1m");
    CHECK_EQ_INT(r.version, 0);
    CHECK_EQ_INT(r.days_recomputed, 0);
    dl_lake_close(lake);
}

static void check_refused(dl_lake *lake, const char *source, const char *period, int code,
                          const char *needle) {
    dl_error err;
    dl_error_clear(&err);
    dl_resample_result r;
    CHECK_RC(dl_lake_resample(lake, source, period, NULL, &r, &err), code);
    if (!strstr(err.message, needle))
        fprintf(stderr, "  message '%s' lacks '%s'\n", err.message, needle);
    CHECK(strstr(err.message, needle) != NULL);
}

DL_TEST(derive_refusals) {
    dl_lake *lake = dl_test_fresh_lake("lake");
    dl_error err;
    dl_table t;
    make_klines(&t, 0, 1440, 0);
    write_rows(lake, KLINES, &t);
    dl_table_free(&t);
    make_trades(&t, 1000, 1);
    write_rows(lake, TRADES, &t);
    dl_table_free(&t);
    check_refused(lake, KLINES, "7m", DL_EUNSUPPORTED, "do not tile a UTC day");
    check_refused(lake, KLINES, "1w", DL_EUNSUPPORTED, "longer than a day");
    check_refused(lake, KLINES, "90s", DL_EINVAL, "not a multiple of the source period '1m'");
    check_refused(lake, KLINES, "1M", DL_EINVAL, "not a fixed interval");
    check_refused(lake, KLINES, "bogus", DL_EINVAL, "not a fixed interval");
    check_refused(lake, "BINANCE/SPOT/NOPE/raw/1m", "1h", DL_ENOTFOUND, "does not exist");
    /* none of that created a dataset */
    dl_dataset_info info;
    CHECK_RC(dl_lake_dataset_info(lake, "BINANCE/SPOT/BTCUSDT/agg/7m", &info, &err), DL_ENOTFOUND);
    CHECK_RC(dl_lake_dataset_info(lake, "BINANCE/SPOT/BTCUSDT/agg/1w", &info, &err), DL_ENOTFOUND);
    /* an agg is no source of bars */
    resample_ok(lake, KLINES, "5m");
    check_refused(lake, "BINANCE/SPOT/BTCUSDT/agg/5m", "1h", DL_EINVAL, "not a source of bars");
    /* trades and klines both map to agg/1m: the second source is refused */
    resample_ok(lake, TRADES, "1m");
    check_refused(lake, KLINES, "1m", DL_ECONFLICT, "would mix two sources");
    /* lineage parsing is strict */
    char src[DL_DATASET_NAME_MAX];
    int64_t v;
    CHECK_RC(dl_resample_lineage_parse("imported by hand", src, sizeof src, &v), DL_ENOTFOUND);
    CHECK_RC(dl_resample_lineage_parse("dl resample: dl.source=A/B/C/raw/1m dl.source_version=x",
                                       src, sizeof src, &v),
             DL_ENOTFOUND);
    CHECK_RC(dl_resample_lineage_parse("dl resample: dl.source=A/B/C/raw/1m dl.source_version=12",
                                       src, 4, &v),
             DL_ENOTFOUND);
    CHECK_OK(dl_resample_lineage_parse("dl resample: dl.source=A/B/C/raw/1m dl.source_version=12",
                                       src, sizeof src, &v),
             NULL);
    CHECK_EQ_STR(src, "A/B/C/raw/1m");
    CHECK_EQ_INT(v, 12);
    dl_lake_close(lake);
}
