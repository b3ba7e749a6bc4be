/*
** test_kernels.c -- unit tests for the streaming time-series kernels
** (dl_resample.c, dl_tick_bars.c, dl_asof.c).  Each kernel is compared
** with a naive row-at-a-time reference written here, on random sorted data
** with gaps, duplicate timestamps, nulls and negative timestamps, fed in
** batches of 1, 7, 1000 rows and all at once: the results must be
** identical (doubles bit for bit: both sides sum in row order).  Then hand
** computed answers, the error cases, and a throughput print.
*/
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dl_test.h"

#define MIN_I64(a, b) ((a) < (b) ? (a) : (b))

/* ---- helpers ---- */

static uint64_t rng_state;
static uint64_t rng_next(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int64_t rng_range(int64_t lo, int64_t hi) { /* inclusive */
    return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}
static double rng_unit(void) {
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}
static bool rng_chance(double p) {
    return rng_unit() < p;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sorted timestamps starting below zero, with duplicates and gaps. */
static int64_t next_ts(int64_t ts) {
    uint64_t r = rng_next() % 100;
    if (r < 30) return ts;                      /* duplicate */
    if (r < 90) return ts + rng_range(1, 7);    /* dense */
    if (r < 98) return ts + rng_range(50, 400); /* gap of a few buckets */
    return ts + rng_range(5000, 20000);         /* long gap */
}

static dl_table new_table(const dl_schema *schema) {
    dl_table t;
    dl_error err;
    if (dl_table_init(&t, schema, &err) != DL_OK) {
        fprintf(stderr, "dl_table_init: %s\n", err.message);
        abort();
    }
    return t;
}

/* Rows [from, from+count) of src as a new table. */
static dl_table slice(const dl_table *src, int64_t from, int64_t count) {
    dl_table t = new_table(&src->schema);
    dl_error err;
    for (int c = 0; c < src->schema.num_fields; c++)
        if (dl_column_append_range(&t.columns[c], &src->columns[c], from, count, &err) != DL_OK)
            abort();
    t.num_rows = count;
    return t;
}

static void append_f64_or_null(dl_column *col, double v, double null_chance) {
    if (rng_chance(null_chance))
        dl_column_append_null(col, NULL);
    else
        dl_column_append_f64(col, v, NULL);
}

/* Compares two tables cell by cell (validity, then value bytes). */
static bool tables_equal(const dl_table *a, const dl_table *b, const char *label) {
    if (a->schema.num_fields != b->schema.num_fields || a->num_rows != b->num_rows) {
        fprintf(stderr, "  %s: shape %d x %lld vs %d x %lld\n", label, a->schema.num_fields,
                (long long)a->num_rows, b->schema.num_fields, (long long)b->num_rows);
        return false;
    }
    for (int c = 0; c < a->schema.num_fields; c++) {
        const dl_column *x = &a->columns[c], *y = &b->columns[c];
        if (strcmp(a->schema.fields[c].name, b->schema.fields[c].name) != 0 || x->type != y->type ||
            x->length != a->num_rows || y->length != b->num_rows) {
            fprintf(stderr, "  %s: column %d differs in name/type/length\n", label, c);
            return false;
        }
        size_t w = dl_type_width(x->type);
        int64_t nulls = 0;
        for (int64_t r = 0; r < a->num_rows; r++) {
            bool vx = dl_column_is_valid(x, r), vy = dl_column_is_valid(y, r);
            bool same = vx == vy;
            if (same && vx) {
                if (w)
                    same = memcmp((const char *)x->values + (size_t)r * w,
                                  (const char *)y->values + (size_t)r * w, w) == 0;
                else {
                    int64_t len = x->offsets[r + 1] - x->offsets[r];
                    same = len == y->offsets[r + 1] - y->offsets[r] &&
                           (len == 0 || memcmp(x->data + x->offsets[r], y->data + y->offsets[r],
                                               (size_t)len) == 0);
                }
            }
            nulls += !vx;
            if (!same) {
                fprintf(stderr, "  %s: column %s differs at row %lld\n", label,
                        a->schema.fields[c].name, (long long)r);
                return false;
            }
        }
        if (nulls != x->null_count) {
            fprintf(stderr, "  %s: column %s null_count %lld, counted %lld\n", label,
                    a->schema.fields[c].name, (long long)x->null_count, (long long)nulls);
            return false;
        }
    }
    return true;
}

/* floor(a / b) the slow, obvious way (the kernels use their own). */
static int64_t naive_bucket_start(int64_t ts, int64_t bucket) {
    int64_t q = ts / bucket;
    if (q * bucket > ts) q--;
    return q * bucket;
}

static const int64_t batch_sizes[] = {1, 7, 1000, 0 /* 0 = everything in one batch */};

/* ---- resampler ---- */

static void resample_schema(dl_schema *s, dl_type ts_type) {
    dl_schema_init(s);
    if (ts_type == DL_TYPE_TIMESTAMP)
        dl_schema_add_timestamp(s, "ts", DL_UNIT_US, false, NULL);
    else
        dl_schema_add(s, "ts", DL_TYPE_INT64, false, NULL);
    dl_schema_add(s, "name", DL_TYPE_STRING, true, NULL); /* dropped */
    dl_schema_add(s, "open", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "high", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "low", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "close", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "volume", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "trade_count", DL_TYPE_INT64, true, NULL);
    dl_schema_add(s, "flag", DL_TYPE_BOOL, true, NULL); /* dropped */
    dl_schema_add(s, "n32", DL_TYPE_INT32, true, NULL);
    dl_schema_add(s, "f32", DL_TYPE_FLOAT, true, NULL);
}

static dl_table random_klines(int64_t n, dl_type ts_type, double null_chance) {
    dl_schema s;
    resample_schema(&s, ts_type);
    dl_table t = new_table(&s);
    dl_schema_free(&s);
    int64_t ts = -rng_range(1000, 3000);
    double price = 100.0;
    for (int64_t r = 0; r < n; r++) {
        ts = next_ts(ts);
        price += rng_unit() - 0.5;
        double o = price, c = price + rng_unit() - 0.5;
        double h = (o > c ? o : c) + rng_unit(), l = (o < c ? o : c) - rng_unit();
        dl_column_append_i64(&t.columns[0], ts, NULL);
        dl_column_append_str(&t.columns[1], "x", 1, NULL);
        append_f64_or_null(&t.columns[2], o, null_chance);
        append_f64_or_null(&t.columns[3], h, null_chance);
        append_f64_or_null(&t.columns[4], l, null_chance);
        append_f64_or_null(&t.columns[5], c, null_chance);
        append_f64_or_null(&t.columns[6], rng_unit() * 10.0, null_chance);
        if (rng_chance(null_chance))
            dl_column_append_null(&t.columns[7], NULL);
        else
            dl_column_append_i64(&t.columns[7], rng_range(0, 1000000), NULL);
        dl_column_append_bool(&t.columns[8], rng_chance(0.5), NULL);
        if (rng_chance(null_chance))
            dl_column_append_null(&t.columns[9], NULL);
        else
            dl_column_append_i32(&t.columns[9], (int32_t)rng_range(-50000, 50000), NULL);
        if (rng_chance(null_chance))
            dl_column_append_null(&t.columns[10], NULL);
        else
            dl_column_append_f32(&t.columns[10], (float)(rng_unit() * 3.0), NULL);
    }
    t.num_rows = n;
    return t;
}

/* The reference: one row at a time, skipping rows with a null OHLC value
** and null summands, exactly as documented in dl_resample.c. */
static dl_table reference_resample(const dl_table *in, const dl_schema *out_schema,
                                   int64_t bucket) {
    dl_table out = new_table(out_schema);
    const dl_column *c = in->columns;
    bool have = false;
    int64_t cur = 0, isum[2] = {0, 0};
    double open = 0, high = 0, low = 0, close = 0, volume = 0, fsum = 0;
    for (int64_t r = 0; r <= in->num_rows; r++) {
        bool end = r == in->num_rows;
        if (!end && !(dl_column_is_valid(&c[2], r) && dl_column_is_valid(&c[3], r) &&
                      dl_column_is_valid(&c[4], r) && dl_column_is_valid(&c[5], r)))
            continue;
        int64_t b = end ? 0 : naive_bucket_start(((int64_t *)c[0].values)[r], bucket);
        if (have && (end || b != cur)) {
            dl_column_append_i64(&out.columns[0], cur, NULL);
            dl_column_append_f64(&out.columns[1], open, NULL);
            dl_column_append_f64(&out.columns[2], high, NULL);
            dl_column_append_f64(&out.columns[3], low, NULL);
            dl_column_append_f64(&out.columns[4], close, NULL);
            dl_column_append_f64(&out.columns[5], volume, NULL);
            dl_column_append_i64(&out.columns[6], isum[0], NULL);
            dl_column_append_i64(&out.columns[7], isum[1], NULL);
            dl_column_append_f64(&out.columns[8], fsum, NULL);
            have = false;
        }
        if (end) break;
        double o = ((double *)c[2].values)[r], h = ((double *)c[3].values)[r];
        double l = ((double *)c[4].values)[r], cl = ((double *)c[5].values)[r];
        if (!have) {
            have = true;
            cur = b;
            open = o;
            high = h;
            low = l;
            volume = fsum = 0.0;
            isum[0] = isum[1] = 0;
        }
        if (h > high) high = h;
        if (l < low) low = l;
        close = cl;
        if (dl_column_is_valid(&c[6], r)) volume += ((double *)c[6].values)[r];
        if (dl_column_is_valid(&c[7], r)) isum[0] += ((int64_t *)c[7].values)[r];
        if (dl_column_is_valid(&c[9], r)) isum[1] += ((int32_t *)c[9].values)[r];
        if (dl_column_is_valid(&c[10], r)) fsum += (double)((float *)c[10].values)[r];
    }
    out.num_rows = out.columns[0].length;
    return out;
}

static void check_resample_matches_reference(int64_t n, int64_t bucket, dl_type ts_type,
                                             double null_chance) {
    dl_error err;
    dl_table in = random_klines(n, ts_type, null_chance);
    dl_resampler *rs = NULL;
    CHECK_OK(dl_resampler_open(&in.schema, bucket, &rs, &err), &err);
    if (!rs) return;
    const dl_schema *os = dl_resampler_schema(rs);
    CHECK_EQ_INT(os->num_fields, 9);
    CHECK_EQ_STR(os->fields[6].name, "trade_count");
    CHECK_EQ_INT(os->fields[6].type, DL_TYPE_INT64);
    CHECK_EQ_STR(os->fields[7].name, "n32");
    CHECK_EQ_INT(os->fields[7].type, DL_TYPE_INT64);
    CHECK_EQ_INT(os->fields[8].type, DL_TYPE_DOUBLE);
    CHECK_EQ_INT(os->fields[0].type, ts_type);
    dl_table want = reference_resample(&in, os, bucket);
    CHECK(want.num_rows > 0);
    dl_resampler_free(rs);

    for (size_t k = 0; k < sizeof batch_sizes / sizeof batch_sizes[0]; k++) {
        int64_t size = batch_sizes[k] ? batch_sizes[k] : n;
        CHECK_OK(dl_resampler_open(&in.schema, bucket, &rs, &err), &err);
        dl_table got = new_table(dl_resampler_schema(rs));
        for (int64_t from = 0; from < n; from += size) {
            dl_table b = slice(&in, from, MIN_I64(size, n - from));
            CHECK_OK(dl_resampler_push(rs, &b, &got, &err), &err);
            dl_table_free(&b);
        }
        CHECK_OK(dl_resampler_finish(rs, &got, &err), &err);
        char label[96];
        snprintf(label, sizeof label, "resample bucket %lld batch %lld nulls %.2f",
                 (long long)bucket, (long long)size, null_chance);
        CHECK(tables_equal(&got, &want, label));
        dl_table_free(&got);
        dl_resampler_free(rs);
    }
    dl_table_free(&want);
    dl_table_free(&in);
}

DL_TEST(kernels_resample_matches_reference) {
    rng_state = 1;
    const int64_t buckets[] = {1, 3, 60, 1000, 100000};
    for (size_t b = 0; b < sizeof buckets / sizeof buckets[0]; b++) {
        check_resample_matches_reference(3000, buckets[b], DL_TYPE_INT64, 0.0);
        check_resample_matches_reference(3000, buckets[b], DL_TYPE_TIMESTAMP, 0.05);
    }
}

DL_TEST(kernels_resample_known_answer) {
    /* 1m bars -> 2m bars across zero: buckets [-120000,-60000), [0,120000). */
    dl_error err;
    dl_table in = random_klines(0, DL_TYPE_INT64, 0.0);
    const int64_t ts[] = {-120000, -60000, 0, 60000, 240000};
    const double o[] = {1, 2, 3, 4, 5}, h[] = {10, 30, 3, 4, 50}, l[] = {-1, -5, 3, 2, 5};
    const double c[] = {1.5, 2.5, 3.5, 4.5, 5.5};
    for (int r = 0; r < 5; r++) {
        dl_column_append_i64(&in.columns[0], ts[r], NULL);
        dl_column_append_str(&in.columns[1], "", 0, NULL);
        dl_column_append_f64(&in.columns[2], o[r], NULL);
        dl_column_append_f64(&in.columns[3], h[r], NULL);
        dl_column_append_f64(&in.columns[4], l[r], NULL);
        dl_column_append_f64(&in.columns[5], c[r], NULL);
        dl_column_append_f64(&in.columns[6], 0.25 * (r + 1), NULL);
        dl_column_append_i64(&in.columns[7], 10 * (r + 1), NULL);
        dl_column_append_bool(&in.columns[8], true, NULL);
        dl_column_append_i32(&in.columns[9], -(r + 1), NULL);
        dl_column_append_f32(&in.columns[10], 1.0f, NULL);
    }
    in.num_rows = 5;
    dl_resampler *rs = NULL;
    CHECK_OK(dl_resampler_open(&in.schema, 120000, &rs, &err), &err);
    if (!rs) return;
    dl_table out = new_table(dl_resampler_schema(rs));
    CHECK_OK(dl_resampler_push(rs, &in, &out, &err), &err);
    CHECK_EQ_INT(out.num_rows, 2); /* the bar at 240000 is still open */
    CHECK_OK(dl_resampler_finish(rs, &out, &err), &err);
    CHECK_EQ_INT(out.num_rows, 3);
    const int64_t *ots = out.columns[0].values;
    const double *oo = out.columns[1].values, *oh = out.columns[2].values;
    const double *ol = out.columns[3].values, *oc = out.columns[4].values;
    const double *ov = out.columns[5].values;
    const int64_t *otc = out.columns[6].values, *on32 = out.columns[7].values;
    CHECK_EQ_INT(ots[0], -120000);
    CHECK_EQ_INT(ots[1], 0);
    CHECK_EQ_INT(ots[2], 240000);
    CHECK(oo[0] == 1 && oh[0] == 30 && ol[0] == -5 && oc[0] == 2.5 && ov[0] == 0.75);
    CHECK(oo[1] == 3 && oh[1] == 4 && ol[1] == 2 && oc[1] == 4.5 && ov[1] == 1.75);
    CHECK(oo[2] == 5 && oh[2] == 50 && ol[2] == 5 && oc[2] == 5.5);
    CHECK_EQ_INT(otc[0], 30);
    CHECK_EQ_INT(otc[1], 70);
    CHECK_EQ_INT(on32[1], -7);
    dl_table_free(&out);
    dl_resampler_free(rs);
    dl_table_free(&in);
}

/* ---- bars from ticks ---- */

static dl_table random_trades(int64_t n, double null_chance) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "trade_id", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "price", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "ts", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_DOUBLE, true, NULL);
    dl_table t = new_table(&s);
    dl_schema_free(&s);
    int64_t ts = -rng_range(1000, 3000);
    double price = 30000.0;
    for (int64_t r = 0; r < n; r++) {
        ts = next_ts(ts);
        price += (rng_unit() - 0.5) * 3.0;
        dl_column_append_i64(&t.columns[0], r, NULL);
        append_f64_or_null(&t.columns[1], price, null_chance);
        dl_column_append_i64(&t.columns[2], ts, NULL);
        append_f64_or_null(&t.columns[3], rng_unit() * 2.0, null_chance);
    }
    t.num_rows = n;
    return t;
}

static dl_table reference_tick_bars(const dl_table *in, const dl_schema *out_schema,
                                    int64_t bucket) {
    dl_table out = new_table(out_schema);
    const dl_column *pc = &in->columns[1], *tc = &in->columns[2], *qc = &in->columns[3];
    bool have = false;
    int64_t cur = 0, trades = 0;
    double open = 0, high = 0, low = 0, close = 0, volume = 0, quote = 0;
    for (int64_t r = 0; r <= in->num_rows; r++) {
        bool end = r == in->num_rows;
        if (!end && !(dl_column_is_valid(pc, r) && dl_column_is_valid(qc, r))) continue;
        int64_t b = end ? 0 : naive_bucket_start(((int64_t *)tc->values)[r], bucket);
        if (have && (end || b != cur)) {
            dl_column_append_i64(&out.columns[0], cur, NULL);
            dl_column_append_f64(&out.columns[1], open, NULL);
            dl_column_append_f64(&out.columns[2], high, NULL);
            dl_column_append_f64(&out.columns[3], low, NULL);
            dl_column_append_f64(&out.columns[4], close, NULL);
            dl_column_append_f64(&out.columns[5], volume, NULL);
            dl_column_append_f64(&out.columns[6], quote, NULL);
            dl_column_append_f64(&out.columns[7], quote / volume, NULL);
            dl_column_append_i64(&out.columns[8], trades, NULL);
            have = false;
        }
        if (end) break;
        double p = ((double *)pc->values)[r], q = ((double *)qc->values)[r];
        if (!have) {
            have = true;
            cur = b;
            open = high = low = p;
            volume = quote = 0.0;
            trades = 0;
        }
        if (p > high) high = p;
        if (p < low) low = p;
        close = p;
        volume += q;
        quote += p * q;
        trades++;
    }
    out.num_rows = out.columns[0].length;
    return out;
}

static void check_tick_bars_match_reference(int64_t n, int64_t bucket, double null_chance) {
    dl_error err;
    dl_table in = random_trades(n, null_chance);
    dl_tick_bars *tb = NULL;
    CHECK_OK(dl_tick_bars_open(&in.schema, bucket, &tb, &err), &err);
    if (!tb) return;
    dl_table want = reference_tick_bars(&in, dl_tick_bars_schema(tb), bucket);
    CHECK(want.num_rows > 0);
    dl_tick_bars_free(tb);
    for (size_t k = 0; k < sizeof batch_sizes / sizeof batch_sizes[0]; k++) {
        int64_t size = batch_sizes[k] ? batch_sizes[k] : n;
        CHECK_OK(dl_tick_bars_open(&in.schema, bucket, &tb, &err), &err);
        dl_table got = new_table(dl_tick_bars_schema(tb));
        for (int64_t from = 0; from < n; from += size) {
            dl_table b = slice(&in, from, MIN_I64(size, n - from));
            CHECK_OK(dl_tick_bars_push(tb, &b, &got, &err), &err);
            dl_table_free(&b);
        }
        CHECK_OK(dl_tick_bars_finish(tb, &got, &err), &err);
        char label[96];
        snprintf(label, sizeof label, "tick bars bucket %lld batch %lld nulls %.2f",
                 (long long)bucket, (long long)size, null_chance);
        CHECK(tables_equal(&got, &want, label));
        dl_table_free(&got);
        dl_tick_bars_free(tb);
    }
    dl_table_free(&want);
    dl_table_free(&in);
}

DL_TEST(kernels_tick_bars_match_reference) {
    rng_state = 2;
    const int64_t buckets[] = {1, 5, 60, 1000, 100000};
    for (size_t b = 0; b < sizeof buckets / sizeof buckets[0]; b++) {
        check_tick_bars_match_reference(4000, buckets[b], 0.0);
        check_tick_bars_match_reference(4000, buckets[b], 0.08);
    }
}

DL_TEST(kernels_tick_bars_known_answer) {
    dl_error err;
    dl_table in = random_trades(0, 0.0);
    /* minute buckets: -61000 and -60001 -> -120000; -1 -> -60000; 0, 59999 -> 0;
    ** 60000 -> 60000; the null-price trade at 60001 is skipped. */
    const int64_t ts[] = {-61000, -60001, -1, 0, 59999, 60000, 60001};
    const double p[] = {10, 12, 7, 20, 30, 40, 99}, q[] = {1, 3, 2, 1, 1, 0.5, 1};
    for (int r = 0; r < 7; r++) {
        dl_column_append_i64(&in.columns[0], r, NULL);
        if (r == 6)
            dl_column_append_null(&in.columns[1], NULL);
        else
            dl_column_append_f64(&in.columns[1], p[r], NULL);
        dl_column_append_i64(&in.columns[2], ts[r], NULL);
        dl_column_append_f64(&in.columns[3], q[r], NULL);
    }
    in.num_rows = 7;
    dl_tick_bars *tb = NULL;
    CHECK_OK(dl_tick_bars_open(&in.schema, 60000, &tb, &err), &err);
    if (!tb) return;
    const dl_schema *os = dl_tick_bars_schema(tb);
    const char *names[] = {"ts",     "open",         "high", "low",   "close",
                           "volume", "quote_volume", "vwap", "trades"};
    CHECK_EQ_INT(os->num_fields, 9);
    for (int c = 0; c < 9 && c < os->num_fields; c++) CHECK_EQ_STR(os->fields[c].name, names[c]);
    dl_table out = new_table(os);
    CHECK_OK(dl_tick_bars_push(tb, &in, &out, &err), &err);
    CHECK_OK(dl_tick_bars_finish(tb, &out, &err), &err);
    CHECK_EQ_INT(out.num_rows, 4);
    const int64_t *bts = out.columns[0].values, *n = out.columns[8].values;
    const double *o = out.columns[1].values, *h = out.columns[2].values;
    const double *l = out.columns[3].values, *c = out.columns[4].values;
    const double *v = out.columns[5].values, *qv = out.columns[6].values;
    const double *vw = out.columns[7].values;
    CHECK_EQ_INT(bts[0], -120000);
    CHECK_EQ_INT(bts[1], -60000);
    CHECK_EQ_INT(bts[2], 0);
    CHECK_EQ_INT(bts[3], 60000);
    CHECK(o[0] == 10 && h[0] == 12 && l[0] == 10 && c[0] == 12 && v[0] == 4 && qv[0] == 46);
    CHECK(vw[0] == 46.0 / 4.0);
    CHECK_EQ_INT(n[0], 2);
    CHECK(o[2] == 20 && c[2] == 30 && v[2] == 2 && vw[2] == 25);
    CHECK_EQ_INT(n[2], 2);
    CHECK(o[3] == 40 && c[3] == 40 && v[3] == 0.5);
    CHECK_EQ_INT(n[3], 1); /* the null-price trade is not counted */
    dl_table_free(&out);
    dl_tick_bars_free(tb);
    dl_table_free(&in);
}

DL_TEST(kernels_bucket_extremes) {
    dl_error err;
    dl_table in = random_trades(0, 0.0);
    dl_tick_bars *tb = NULL;
    CHECK_OK(dl_tick_bars_open(&in.schema, 10, &tb, &err), &err);
    if (!tb) return;
    /* INT64_MAX lies in the bucket starting at 9223372036854775800 whose end
    ** does not fit int64: it must still work. */
    dl_column_append_i64(&in.columns[0], 0, NULL);
    dl_column_append_f64(&in.columns[1], 1.0, NULL);
    dl_column_append_i64(&in.columns[2], INT64_MAX - 1, NULL);
    dl_column_append_f64(&in.columns[3], 1.0, NULL);
    dl_column_append_i64(&in.columns[0], 1, NULL);
    dl_column_append_f64(&in.columns[1], 2.0, NULL);
    dl_column_append_i64(&in.columns[2], INT64_MAX, NULL);
    dl_column_append_f64(&in.columns[3], 1.0, NULL);
    in.num_rows = 2;
    dl_table out = new_table(dl_tick_bars_schema(tb));
    CHECK_OK(dl_tick_bars_push(tb, &in, &out, &err), &err);
    CHECK_OK(dl_tick_bars_finish(tb, &out, &err), &err);
    CHECK_EQ_INT(out.num_rows, 1);
    if (out.num_rows == 1) {
        CHECK(((int64_t *)out.columns[0].values)[0] == INT64_MAX - 7);
        CHECK_EQ_INT(((int64_t *)out.columns[8].values)[0], 2);
    }
    dl_table_free(&out);
    dl_tick_bars_free(tb);

    /* INT64_MIN's bucket would start below INT64_MIN: a clear error. */
    ((int64_t *)in.columns[2].values)[0] = INT64_MIN;
    CHECK_OK(dl_tick_bars_open(&in.schema, 10, &tb, &err), &err);
    out = new_table(dl_tick_bars_schema(tb));
    CHECK_RC(dl_tick_bars_push(tb, &in, &out, &err), DL_EINVAL);
    CHECK(strstr(err.message, "smallest int64") != NULL);
    dl_table_free(&out);
    dl_tick_bars_free(tb);
    dl_table_free(&in);
}

/* ---- error cases of the bar kernels ---- */

DL_TEST(kernels_bars_errors) {
    dl_error err;
    dl_resampler *rs = NULL;
    dl_tick_bars *tb = NULL;
    dl_schema s;

    /* missing column, named in the message with the columns there are */
    dl_schema_init(&s);
    dl_schema_add(&s, "ts", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "open", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "high", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "low", DL_TYPE_DOUBLE, false, NULL);
    CHECK_RC(dl_resampler_open(&s, 60, &rs, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "'close'") && strstr(err.message, "ts, open, high, low"));
    CHECK(rs == NULL);
    /* wrong type */
    dl_schema_add(&s, "close", DL_TYPE_INT64, false, NULL);
    CHECK_RC(dl_resampler_open(&s, 60, &rs, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'close' is int64") != NULL);
    dl_schema_free(&s);

    dl_schema_init(&s);
    dl_schema_add(&s, "ts", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "price", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_FLOAT, false, NULL);
    CHECK_RC(dl_tick_bars_open(&s, 60, &tb, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'ts' is double") != NULL);
    s.fields[0].type = DL_TYPE_TIMESTAMP;
    CHECK_RC(dl_tick_bars_open(&s, 60, &tb, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'qty' is float") != NULL);
    s.fields[2].type = DL_TYPE_DOUBLE;
    CHECK_RC(dl_tick_bars_open(&s, 0, &tb, &err), DL_EINVAL);
    CHECK_RC(dl_tick_bars_open(&s, -5, &tb, &err), DL_EINVAL);
    dl_schema_free(&s);

    /* unsorted input: within a batch and across batches, row named */
    rng_state = 3;
    dl_table in = random_trades(20, 0.0);
    int64_t *ts = in.columns[2].values;
    for (int r = 0; r < 20; r++) ts[r] = 100 * r;
    CHECK_OK(dl_tick_bars_open(&in.schema, 60, &tb, &err), &err);
    dl_table out = new_table(dl_tick_bars_schema(tb));
    ts[5] = 350;
    CHECK_RC(dl_tick_bars_push(tb, &in, &out, &err), DL_EINVAL);
    CHECK(strstr(err.message, "not sorted by 'ts': row 5 of the batch (row 5 of the input)") !=
          NULL);
    CHECK(strstr(err.message, "350 after 400") != NULL);
    ts[5] = 500;
    dl_table first = slice(&in, 0, 10), second = slice(&in, 10, 10);
    CHECK_OK(dl_tick_bars_push(tb, &first, &out, &err), &err);
    ((int64_t *)second.columns[2].values)[0] = 899;
    CHECK_RC(dl_tick_bars_push(tb, &second, &out, &err), DL_EINVAL);
    CHECK(strstr(err.message, "row 0 of the batch (row 10 of the input) has 899 after 900") !=
          NULL);
    ((int64_t *)second.columns[2].values)[0] = 900; /* equal to the last ts is fine */
    CHECK_OK(dl_tick_bars_push(tb, &second, &out, &err), &err);
    /* output table with the wrong schema */
    CHECK_RC(dl_tick_bars_push(tb, &second, &in, &err), DL_EINVAL);
    CHECK(strstr(err.message, "output table") != NULL);
    /* batch with another schema */
    dl_table wrong = new_table(&out.schema);
    CHECK_RC(dl_tick_bars_push(tb, &wrong, &out, &err), DL_EINVAL);
    CHECK(strstr(err.message, "input batch") != NULL);
    dl_table_free(&wrong);
    CHECK_OK(dl_tick_bars_finish(tb, &out, &err), &err);
    CHECK_RC(dl_tick_bars_push(tb, &second, &out, &err), DL_EINVAL); /* after finish */
    dl_table_free(&first);
    dl_table_free(&second);
    dl_table_free(&out);
    dl_tick_bars_free(tb);

    /* null ts */
    dl_table_free(&in);
    dl_schema_init(&s);
    dl_schema_add(&s, "ts", DL_TYPE_INT64, true, NULL);
    dl_schema_add(&s, "price", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_DOUBLE, false, NULL);
    in = new_table(&s);
    dl_schema_free(&s);
    for (int r = 0; r < 3; r++) {
        if (r == 2)
            dl_column_append_null(&in.columns[0], NULL);
        else
            dl_column_append_i64(&in.columns[0], r, NULL);
        dl_column_append_f64(&in.columns[1], 1, NULL);
        dl_column_append_f64(&in.columns[2], 1, NULL);
    }
    in.num_rows = 3;
    CHECK_OK(dl_tick_bars_open(&in.schema, 60, &tb, &err), &err);
    out = new_table(dl_tick_bars_schema(tb));
    CHECK_RC(dl_tick_bars_push(tb, &in, &out, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'ts' is null at row 2") != NULL);
    dl_table_free(&out);
    dl_tick_bars_free(tb);
    dl_table_free(&in);

    /* integer sum overflow in the resampler */
    in = random_klines(2, DL_TYPE_INT64, 0.0);
    ((int64_t *)in.columns[0].values)[0] = 0;
    ((int64_t *)in.columns[0].values)[1] = 1;
    ((int64_t *)in.columns[7].values)[0] = INT64_MAX;
    ((int64_t *)in.columns[7].values)[1] = 1;
    CHECK_OK(dl_resampler_open(&in.schema, 60, &rs, &err), &err);
    out = new_table(dl_resampler_schema(rs));
    CHECK_RC(dl_resampler_push(rs, &in, &out, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'trade_count' overflows") != NULL);
    dl_table_free(&out);
    dl_resampler_free(rs);
    dl_table_free(&in);
}

/* ---- as-of join ---- */

static void asof_schemas(dl_schema *left, dl_schema *right) {
    dl_schema_init(left);
    dl_schema_add_timestamp(left, "ts", DL_UNIT_MS, false, NULL);
    dl_schema_add(left, "price", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(left, "side", DL_TYPE_STRING, true, NULL);
    dl_schema_init(right);
    dl_schema_add_timestamp(right, "ts", DL_UNIT_MS, false, NULL); /* clashes: right_ts */
    dl_schema_add(right, "close", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(right, "close_time", DL_TYPE_INT64, false, NULL); /* the key */
    dl_schema_add(right, "price", DL_TYPE_DOUBLE, true, NULL);      /* right_price */
    dl_schema_add(right, "count", DL_TYPE_INT32, true, NULL);
    dl_schema_add(right, "label", DL_TYPE_STRING, true, NULL);
    dl_schema_add(right, "up", DL_TYPE_BOOL, true, NULL);
}

static void append_str_or_null(dl_column *col, double null_chance) {
    static const char *const words[] = {"buy", "sell", "", "a-much-longer-label"};
    if (rng_chance(null_chance)) {
        dl_column_append_null(col, NULL);
    } else {
        const char *w = words[rng_next() % 4];
        dl_column_append_str(col, w, strlen(w), NULL);
    }
}

static void random_asof_inputs(int64_t nl, int64_t nr, double null_chance, dl_table *left,
                               dl_table *right) {
    dl_schema ls, rsch;
    asof_schemas(&ls, &rsch);
    *left = new_table(&ls);
    *right = new_table(&rsch);
    dl_schema_free(&ls);
    dl_schema_free(&rsch);
    int64_t ts = -1000 - rng_range(0, 500); /* starts before the right side */
    for (int64_t r = 0; r < nl; r++) {
        ts = next_ts(ts);
        dl_column_append_i64(&left->columns[0], ts, NULL);
        append_f64_or_null(&left->columns[1], rng_unit() * 100, null_chance);
        append_str_or_null(&left->columns[2], null_chance);
    }
    left->num_rows = nl;
    ts = -rng_range(0, 500);
    for (int64_t r = 0; r < nr; r++) {
        ts = next_ts(next_ts(ts));
        dl_column_append_i64(&right->columns[0], ts - 5, NULL);
        append_f64_or_null(&right->columns[1], rng_unit() * 100, null_chance);
        dl_column_append_i64(&right->columns[2], ts, NULL);
        append_f64_or_null(&right->columns[3], rng_unit(), null_chance);
        if (rng_chance(null_chance))
            dl_column_append_null(&right->columns[4], NULL);
        else
            dl_column_append_i32(&right->columns[4], (int32_t)r, NULL);
        append_str_or_null(&right->columns[5], null_chance);
        dl_column_append_bool(&right->columns[6], rng_chance(0.5), NULL);
    }
    right->num_rows = nr;
}

/* Reference: for each left row, scan every right row for the last one with
** key <= the left key; nulls when none or when it is older than tolerance. */
static dl_table reference_asof(const dl_table *left, const dl_table *right,
                               const dl_schema *out_schema, int64_t tolerance, int64_t *matched) {
    dl_table out = new_table(out_schema);
    const int64_t *lk = left->columns[0].values, *rk = right->columns[2].values;
    const int right_cols[] = {0, 1, 3, 4, 5, 6};
    *matched = 0;
    for (int64_t i = 0; i < left->num_rows; i++) {
        int64_t best = -1;
        for (int64_t r = 0; r < right->num_rows; r++)
            if (rk[r] <= lk[i]) best = r;
        if (best >= 0 && tolerance >= 0 && lk[i] - rk[best] > tolerance) best = -1;
        *matched += best >= 0;
        for (int c = 0; c < 3; c++)
            dl_column_append_range(&out.columns[c], &left->columns[c], i, 1, NULL);
        for (int c = 0; c < 6; c++) {
            if (best >= 0)
                dl_column_append_range(&out.columns[3 + c], &right->columns[right_cols[c]], best, 1,
                                       NULL);
            else
                dl_column_append_null(&out.columns[3 + c], NULL);
        }
    }
    out.num_rows = left->num_rows;
    return out;
}

/* Streams both sides: before each left batch, pushes right batches until
** the right side is past the batch's last key (or finishes it). */
static dl_table stream_asof(const dl_table *left, const dl_table *right, int64_t tolerance,
                            int64_t left_size, int64_t right_size, int64_t *matched) {
    dl_error err;
    dl_asof_join *j = NULL;
    dl_table out = {0};
    *matched = 0;
    CHECK_OK(dl_asof_open(&left->schema, "ts", &right->schema, "close_time", tolerance, &j, &err),
             &err);
    if (!j) return out;
    out = new_table(dl_asof_schema(j));
    int64_t ri = 0;
    bool finished = false;
    for (int64_t li = 0; li < left->num_rows; li += left_size) {
        int64_t count = MIN_I64(left_size, left->num_rows - li);
        int64_t last_key = ((int64_t *)left->columns[0].values)[li + count - 1];
        while (ri < right->num_rows && dl_asof_right_high(j) <= last_key) {
            dl_table b = slice(right, ri, MIN_I64(right_size, right->num_rows - ri));
            CHECK_OK(dl_asof_push_right(j, &b, &err), &err);
            ri += b.num_rows;
            dl_table_free(&b);
        }
        if (ri == right->num_rows && !finished) {
            dl_asof_finish_right(j);
            finished = true;
        }
        dl_table b = slice(left, li, count);
        int64_t hits = -1;
        CHECK_OK(dl_asof_probe(j, &b, &out, &hits, &err), &err);
        CHECK(hits >= 0 && hits <= count);
        *matched += hits;
        dl_table_free(&b);
    }
    dl_asof_free(j);
    return out;
}

DL_TEST(kernels_asof_matches_reference) {
    rng_state = 4;
    const int64_t tolerances[] = {-1, 0, 5, 1000};
    const double null_chances[] = {0.0, 0.1};
    for (size_t nc = 0; nc < 2; nc++) {
        dl_table left, right;
        random_asof_inputs(2500, 900, null_chances[nc], &left, &right);
        for (size_t t = 0; t < sizeof tolerances / sizeof tolerances[0]; t++) {
            dl_error err;
            dl_asof_join *j = NULL;
            CHECK_OK(dl_asof_open(&left.schema, "ts", &right.schema, "close_time", tolerances[t],
                                  &j, &err),
                     &err);
            if (!j) continue;
            const dl_schema *os = dl_asof_schema(j);
            const char *names[] = {"ts",          "price", "side",  "right_ts", "close",
                                   "right_price", "count", "label", "up"};
            CHECK_EQ_INT(os->num_fields, 9);
            for (int c = 0; c < 9 && c < os->num_fields; c++)
                CHECK_EQ_STR(os->fields[c].name, names[c]);
            CHECK(os->num_fields == 9 && os->fields[3].type == DL_TYPE_TIMESTAMP &&
                  os->fields[3].nullable && os->fields[6].type == DL_TYPE_INT32);
            int64_t want_matched;
            dl_table want = reference_asof(&left, &right, os, tolerances[t], &want_matched);
            dl_asof_free(j);
            CHECK(want_matched > 0 && want_matched < left.num_rows);
            for (size_t lb = 0; lb < sizeof batch_sizes / sizeof batch_sizes[0]; lb++) {
                for (size_t rb = 0; rb < sizeof batch_sizes / sizeof batch_sizes[0]; rb++) {
                    int64_t ls = batch_sizes[lb] ? batch_sizes[lb] : left.num_rows;
                    int64_t rsz = batch_sizes[rb] ? batch_sizes[rb] : right.num_rows;
                    int64_t got_matched;
                    dl_table got = stream_asof(&left, &right, tolerances[t], ls, rsz, &got_matched);
                    char label[128];
                    snprintf(label, sizeof label, "asof tol %lld left %lld right %lld nulls %.1f",
                             (long long)tolerances[t], (long long)ls, (long long)rsz,
                             null_chances[nc]);
                    CHECK(tables_equal(&got, &want, label));
                    CHECK_EQ_INT(got_matched, want_matched);
                    dl_table_free(&got);
                }
            }
            dl_table_free(&want);
        }
        dl_table_free(&left);
        dl_table_free(&right);
    }
}

DL_TEST(kernels_asof_known_answer) {
    /* right keys 10, 20, 20, 40; left keys 5, 10, 19, 20, 25, 100:
    ** matches none, row 0, row 0, row 2 (the later of the equal keys), row 2, row 3. */
    dl_error err;
    dl_schema ls, rsch;
    dl_schema_init(&ls);
    dl_schema_add(&ls, "t", DL_TYPE_INT64, false, NULL);
    dl_schema_init(&rsch);
    dl_schema_add(&rsch, "k", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&rsch, "v", DL_TYPE_INT64, false, NULL);
    dl_table left = new_table(&ls), right = new_table(&rsch);
    const int64_t lk[] = {5, 10, 19, 20, 25, 100}, rk[] = {10, 20, 20, 40};
    for (int i = 0; i < 6; i++) dl_column_append_i64(&left.columns[0], lk[i], NULL);
    for (int i = 0; i < 4; i++) {
        dl_column_append_i64(&right.columns[0], rk[i], NULL);
        dl_column_append_i64(&right.columns[1], 100 + i, NULL);
    }
    left.num_rows = 6;
    right.num_rows = 4;
    for (int pass = 0; pass < 2; pass++) {
        int64_t tolerance = pass == 0 ? -1 : 5;
        dl_asof_join *j = NULL;
        CHECK_OK(dl_asof_open(&ls, "t", &rsch, "k", tolerance, &j, &err), &err);
        if (!j) break;
        CHECK(dl_asof_right_high(j) == INT64_MIN);
        dl_table out = new_table(dl_asof_schema(j));
        CHECK_EQ_INT(out.schema.num_fields, 2);
        /* probing before the right side covers the keys is refused */
        CHECK_RC(dl_asof_probe(j, &left, &out, NULL, &err), DL_EINVAL);
        CHECK(strstr(err.message, "no right rows pushed") != NULL);
        CHECK_OK(dl_asof_push_right(j, &right, &err), &err);
        CHECK_EQ_INT(dl_asof_right_high(j), 40);
        CHECK_RC(dl_asof_probe(j, &left, &out, NULL, &err), DL_EINVAL);
        CHECK(strstr(err.message, "left key 100 at row 5") != NULL);
        CHECK_EQ_INT(out.num_rows, 0);
        dl_asof_finish_right(j);
        CHECK_RC(dl_asof_push_right(j, &right, &err), DL_EINVAL);
        int64_t matched = -1;
        CHECK_OK(dl_asof_probe(j, &left, &out, &matched, &err), &err);
        CHECK_EQ_INT(out.num_rows, 6);
        const int64_t *v = out.columns[1].values;
        if (pass == 0) {
            CHECK_EQ_INT(matched, 5);
            CHECK(!dl_column_is_valid(&out.columns[1], 0));
            CHECK(v[1] == 100 && v[2] == 100 && v[3] == 102 && v[4] == 102 && v[5] == 103);
            CHECK_EQ_INT(out.columns[1].null_count, 1);
        } else {
            /* tolerance 5: 19-10 and 100-40 are too old */
            CHECK_EQ_INT(matched, 3);
            CHECK(!dl_column_is_valid(&out.columns[1], 2) &&
                  !dl_column_is_valid(&out.columns[1], 5));
            CHECK(v[1] == 100 && v[3] == 102 && v[4] == 102);
        }
        /* a later probe must not go back in time */
        dl_table back = slice(&left, 0, 1);
        CHECK_RC(dl_asof_probe(j, &back, &out, NULL, &err), DL_EINVAL);
        CHECK(strstr(err.message, "not sorted by 't'") != NULL);
        dl_table_free(&back);
        dl_table_free(&out);
        dl_asof_free(j);
    }
    dl_table_free(&left);
    dl_table_free(&right);
    dl_schema_free(&ls);
    dl_schema_free(&rsch);
}

DL_TEST(kernels_asof_errors) {
    dl_error err;
    dl_asof_join *j = NULL;
    dl_schema ls, rsch;
    asof_schemas(&ls, &rsch);
    CHECK_RC(dl_asof_open(&ls, "time", &rsch, "close_time", -1, &j, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "left side") && strstr(err.message, "'time'"));
    CHECK_RC(dl_asof_open(&ls, "ts", &rsch, "close", -1, &j, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'close' is double") != NULL);
    CHECK(j == NULL);
    dl_schema_free(&rsch);

    /* timestamp units must agree */
    dl_schema_init(&rsch);
    dl_schema_add_timestamp(&rsch, "k", DL_UNIT_US, false, NULL);
    CHECK_RC(dl_asof_open(&ls, "ts", &rsch, "k", -1, &j, &err), DL_EINVAL);
    CHECK(strstr(err.message, "ms") && strstr(err.message, "us"));
    dl_schema_free(&rsch);

    /* name clash that "right_" does not resolve */
    dl_schema_add(&ls, "right_price", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_init(&rsch);
    dl_schema_add(&rsch, "k", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&rsch, "price", DL_TYPE_DOUBLE, false, NULL);
    CHECK_RC(dl_asof_open(&ls, "ts", &rsch, "k", -1, &j, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "right_price") != NULL);

    /* unsorted and null right keys */
    dl_schema_free(&ls);
    dl_schema_init(&ls);
    dl_schema_add(&ls, "ts", DL_TYPE_INT64, false, NULL);
    CHECK_OK(dl_asof_open(&ls, "ts", &rsch, "k", -1, &j, &err), &err);
    if (j) {
        dl_table right = new_table(&rsch);
        const int64_t keys[] = {1, 5, 3};
        for (int i = 0; i < 3; i++) {
            dl_column_append_i64(&right.columns[0], keys[i], NULL);
            dl_column_append_f64(&right.columns[1], i, NULL);
        }
        right.num_rows = 3;
        CHECK_RC(dl_asof_push_right(j, &right, &err), DL_EINVAL);
        CHECK(strstr(err.message, "right side") && strstr(err.message, "row 2 of the batch"));
        CHECK(dl_asof_right_high(j) == INT64_MIN); /* nothing was taken */
        dl_column_clear(&right.columns[0]);
        dl_column_append_i64(&right.columns[0], 1, NULL);
        dl_column_append_null(&right.columns[0], NULL);
        dl_column_append_i64(&right.columns[0], 9, NULL);
        CHECK_RC(dl_asof_push_right(j, &right, &err), DL_EINVAL);
        CHECK(strstr(err.message, "'k' is null at row 1") != NULL);
        dl_table_free(&right);
        dl_asof_free(j);
    }
    dl_schema_free(&ls);
    dl_schema_free(&rsch);
}

/* ---- throughput (printed, not asserted) ---- */

/* Fills rows [0, n) of a fixed-width column in place (no per-row append). */
static void *fill_column(dl_column *col, int64_t n) {
    if (dl_column_reserve(col, n, 0, NULL) != DL_OK) abort();
    col->length = n;
    return col->values;
}

/* Resamples n generated 1m klines to 1h in batches of `batch` rows (the
** batches are built before the clock starts). */
static void resample_throughput(int64_t n, int64_t batch) {
    dl_error err;
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "ts", DL_TYPE_INT64, false, NULL);
    const char *names[] = {"open", "high", "low", "close", "volume"};
    for (int c = 0; c < 5; c++) dl_schema_add(&s, names[c], DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "trade_count", DL_TYPE_INT64, false, NULL);
    dl_table klines = new_table(&s);
    dl_schema_free(&s);
    int64_t *ts = fill_column(&klines.columns[0], n), *count = fill_column(&klines.columns[6], n);
    double *v[5];
    for (int c = 0; c < 5; c++) v[c] = fill_column(&klines.columns[1 + c], n);
    double price = 30000;
    for (int64_t r = 0; r < n; r++) {
        ts[r] = 1672531200000 + r * 60000; /* 2023-01-01, hour aligned */
        price += rng_unit() - 0.5;
        v[0][r] = price;
        v[1][r] = price + rng_unit();
        v[2][r] = price - rng_unit();
        v[3][r] = price + rng_unit() - 0.5;
        v[4][r] = rng_unit() * 100;
        count[r] = (int64_t)(rng_next() % 1000);
    }
    klines.num_rows = n;
    int64_t num_batches = (n + batch - 1) / batch;
    dl_table *batches = calloc((size_t)num_batches, sizeof *batches);
    for (int64_t b = 0; b < num_batches; b++)
        batches[b] = slice(&klines, b * batch, MIN_I64(batch, n - b * batch));
    dl_table_free(&klines);

    dl_resampler *rs = NULL;
    CHECK_OK(dl_resampler_open(&batches[0].schema, 3600000, &rs, &err), &err);
    dl_table hours = new_table(dl_resampler_schema(rs));
    double t0 = now_seconds();
    for (int64_t b = 0; b < num_batches; b++)
        CHECK_OK(dl_resampler_push(rs, &batches[b], &hours, &err), &err);
    CHECK_OK(dl_resampler_finish(rs, &hours, &err), &err);
    double t1 = now_seconds();
    printf("  resample: %lld 1m bars -> %lld 1h bars in %.3f s = %.0f M rows/s\n", (long long)n,
           (long long)hours.num_rows, t1 - t0, (double)n / (t1 - t0) / 1e6);
    CHECK_EQ_INT(hours.num_rows, (n + 59) / 60);
    dl_resampler_free(rs);
    dl_table_free(&hours);
    for (int64_t b = 0; b < num_batches; b++) dl_table_free(&batches[b]);
    free(batches);
}

DL_TEST(kernels_throughput) {
    const int64_t n = 5000000, batch = 1 << 16;
    dl_error err;
    rng_state = 5;
    resample_throughput(n, batch);
    /* trades: ~1000 per minute in bursts, ms timestamps */
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "ts", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "price", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_DOUBLE, false, NULL);
    dl_table trades = new_table(&s);
    dl_schema_free(&s);
    CHECK_OK(dl_column_reserve(&trades.columns[0], n, 0, &err), &err);
    CHECK_OK(dl_column_reserve(&trades.columns[1], n, 0, &err), &err);
    CHECK_OK(dl_column_reserve(&trades.columns[2], n, 0, &err), &err);
    int64_t ts = 1672531200000;
    double price = 30000;
    for (int64_t r = 0; r < n; r++) {
        ts += (int64_t)(rng_next() % 121);
        price += (rng_unit() - 0.5);
        ((int64_t *)trades.columns[0].values)[r] = ts;
        ((double *)trades.columns[1].values)[r] = price;
        ((double *)trades.columns[2].values)[r] = rng_unit();
    }
    for (int c = 0; c < 3; c++) trades.columns[c].length = n;
    trades.num_rows = n;

    /* batches are views built once, outside the clock */
    int64_t num_batches = (n + batch - 1) / batch;
    dl_table *batches = calloc((size_t)num_batches, sizeof *batches);
    for (int64_t b = 0; b < num_batches; b++)
        batches[b] = slice(&trades, b * batch, MIN_I64(batch, n - b * batch));

    dl_tick_bars *tb = NULL;
    CHECK_OK(dl_tick_bars_open(&trades.schema, 60000, &tb, &err), &err);
    dl_table bars = new_table(dl_tick_bars_schema(tb));
    double t0 = now_seconds();
    for (int64_t b = 0; b < num_batches; b++)
        CHECK_OK(dl_tick_bars_push(tb, &batches[b], &bars, &err), &err);
    CHECK_OK(dl_tick_bars_finish(tb, &bars, &err), &err);
    double t1 = now_seconds();
    printf("  bars from ticks: %lld trades -> %lld bars in %.3f s = %.0f M rows/s\n", (long long)n,
           (long long)bars.num_rows, t1 - t0, (double)n / (t1 - t0) / 1e6);
    CHECK(bars.num_rows > 0);
    dl_tick_bars_free(tb);

    /* as-of join of the trades against ~10x fewer right rows (the bench
    ** joins 10.5M trades with ~1M klines), the first trades unmatched */
    dl_schema_init(&s);
    dl_schema_add(&s, "close_time", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "close", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "volume", DL_TYPE_DOUBLE, false, NULL);
    dl_table klines = new_table(&s);
    dl_schema_free(&s);
    const int64_t *trade_ts = trades.columns[0].values;
    for (int64_t key = trade_ts[0] + 1000; key <= trade_ts[n - 1]; key += 600) {
        dl_column_append_i64(&klines.columns[0], key, NULL);
        dl_column_append_f64(&klines.columns[1], (double)key, NULL);
        dl_column_append_f64(&klines.columns[2], 1.0, NULL);
    }
    klines.num_rows = klines.columns[0].length;
    dl_asof_join *j = NULL;
    CHECK_OK(dl_asof_open(&trades.schema, "ts", &klines.schema, "close_time", -1, &j, &err), &err);
    dl_table joined = new_table(dl_asof_schema(j));
    /* streamed as a query would: right batches pushed just ahead of each
    ** left batch, each joined batch consumed (here: counted) and cleared */
    int64_t matched = 0, hits, joined_rows = 0, right_at = 0, num_right = 0;
    dl_table *right_batches = calloc((size_t)(klines.num_rows / batch + 1), sizeof *right_batches);
    for (int64_t at = 0; at < klines.num_rows; at += batch)
        right_batches[num_right++] = slice(&klines, at, MIN_I64(batch, klines.num_rows - at));
    t0 = now_seconds();
    for (int64_t b = 0; b < num_batches; b++) {
        const int64_t *keys = batches[b].columns[0].values;
        int64_t last_key = keys[batches[b].num_rows - 1];
        while (right_at < num_right && dl_asof_right_high(j) <= last_key)
            CHECK_OK(dl_asof_push_right(j, &right_batches[right_at++], &err), &err);
        if (right_at == num_right) dl_asof_finish_right(j);
        CHECK_OK(dl_asof_probe(j, &batches[b], &joined, &hits, &err), &err);
        matched += hits;
        joined_rows += joined.num_rows;
        for (int c = 0; c < joined.schema.num_fields; c++) dl_column_clear(&joined.columns[c]);
        joined.num_rows = 0;
    }
    t1 = now_seconds();
    printf("  as-of join: %lld trades x %lld klines, %lld matched in %.3f s = %.0f M rows/s\n",
           (long long)n, (long long)klines.num_rows, (long long)matched, t1 - t0,
           (double)n / (t1 - t0) / 1e6);
    CHECK(matched > n / 2 && matched < n);
    CHECK_EQ_INT(joined_rows, n);
    dl_asof_free(j);
    dl_table_free(&joined);
    for (int64_t b = 0; b < num_right; b++) dl_table_free(&right_batches[b]);
    free(right_batches);
    dl_table_free(&klines);
    dl_table_free(&bars);
    for (int64_t b = 0; b < num_batches; b++) dl_table_free(&batches[b]);
    free(batches);
    dl_table_free(&trades);
}
