/*
** dl_bench_query.c -- the query cases of dl-bench: scan_range,
** resample_1h, bars_from_trades, asof_join and lake_aggregate over the
** lakes the ingest cases build, streamed through the query engine and the
** bar / as-of kernels exactly as `dl query`, `dl resample` and `dl join`
** run them.  Each appends its digest (bench/README.md) to c->check.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_bench.h"

static void put_i64(bench_ctx *c, int64_t v) {
    bench_put(c, "%lld", (long long)v);
}

/* Accumulates row count, sums and min/max ts (ms) of result batches. */
typedef struct digest {
    int64_t rows;
    double sums[8];
    int64_t isums[2];
    int64_t first_ts, last_ts;
} digest;

static void digest_init(digest *d) {
    memset(d, 0, sizeof *d);
    d->first_ts = INT64_MAX;
    d->last_ts = INT64_MIN;
}

static void digest_add(digest *d, const dl_table *t, const char *const *dsums, int nd,
                       const char *const *isums, int ni) {
    int ts = dl_schema_find(&t->schema, "ts");
    for (int k = 0; k < nd; k++) {
        const dl_column *c = &t->columns[dl_schema_find(&t->schema, dsums[k])];
        const double *v = c->values;
        double s = 0;
        for (int64_t i = 0; i < t->num_rows; i++) s += v[i];
        d->sums[k] += s;
    }
    for (int k = 0; k < ni; k++) {
        const dl_column *c = &t->columns[dl_schema_find(&t->schema, isums[k])];
        const int64_t *v = c->values;
        for (int64_t i = 0; i < t->num_rows; i++) d->isums[k] += v[i];
    }
    for (int64_t i = 0; i < t->num_rows; i++) {
        int64_t x = bench_ts_ms(&t->columns[ts], i);
        if (x < d->first_ts) d->first_ts = x;
        if (x > d->last_ts) d->last_ts = x;
    }
    d->rows += t->num_rows;
}

/* {"rows":..,"sum_a":..,...,"sum_int":..,"first_ts":..,"last_ts":..}: the
** double sums (6 significant digits), then the exact integer sums, in the
** peers' key order. */
static void digest_json(const digest *d, bench_ctx *b, const char *const *dnames, int nd,
                        const char *const *inames, int ni) {
    bench_put(b, "{\"rows\":");
    put_i64(b, d->rows);
    for (int k = 0; k < nd; k++) {
        bench_put(b, ",\"%s\":", dnames[k]);
        bench_put_r6(b, d->sums[k]);
    }
    for (int k = 0; k < ni; k++) {
        bench_put(b, ",\"%s\":", inames[k]);
        put_i64(b, d->isums[k]);
    }
    if (d->rows) {
        bench_put(b, ",\"first_ts\":");
        put_i64(b, d->first_ts);
        bench_put(b, ",\"last_ts\":");
        put_i64(b, d->last_ts);
        bench_put(b, "}");
    } else {
        bench_put(b, ",\"first_ts\":null,\"last_ts\":null}");
    }
}

static void dataset_name(char *buf, size_t size, const char *symbol, const char *kind) {
    snprintf(buf, size, "BINANCE/SPOT/%s/%s", symbol, kind);
}

/* Opens lake `root` and a query over one dataset's columns. */
static int open_query(bench_ctx *c, const char *root, const char *dataset, const char *const *cols,
                      int ncols, const char *filter, int64_t from, int64_t to, dl_lake **lake,
                      dl_query **q) {
    int rc = dl_lake_open(root, true, lake, &c->err);
    if (rc != DL_OK) return rc;
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    const char *ds[] = {dataset};
    spec.datasets = ds;
    spec.num_datasets = 1;
    spec.columns = cols;
    spec.num_columns = ncols;
    spec.filter = filter;
    spec.ts_from = from;
    spec.ts_to = to;
    spec.threads = c->threads;
    spec.symbol_column = 0;
    return dl_query_open(*lake, &spec, q, &c->err);
}

int bench_scan_range(bench_ctx *c) {
    char ds[256], filter[64];
    dataset_name(ds, sizeof ds, c->symbol, "raw/1m");
    snprintf(filter, sizeof filter, "close > %.17g", c->threshold);
    const char *cols[] = {"ts", "close"};
    dl_lake *lake = NULL;
    dl_query *q = NULL;
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    digest d;
    digest_init(&d);
    int rc = open_query(c, c->klines_root, ds, cols, 2, filter, c->from_us,
                        c->from_us + c->window_days * 86400000000LL, &lake, &q);
    if (rc == DL_OK) rc = dl_table_init(&batch, dl_query_schema(q), &c->err);
    static const char *const dn[] = {"close"};
    while (rc == DL_OK && (rc = dl_query_next(q, &batch, &c->err)) == DL_OK && batch.num_rows > 0)
        digest_add(&d, &batch, dn, 1, NULL, 0);
    if (rc == DL_OK) {
        static const char *const names[] = {"sum_close"};
        digest_json(&d, c, names, 1, NULL, 0);
        c->rows = d.rows;
    }
    dl_table_free(&batch);
    dl_query_close(q);
    dl_lake_close(lake);
    return rc;
}

/* Streams a dataset's batches through a bar kernel and digests the bars. */
typedef int (*bars_push_fn)(void *k, const dl_table *in, dl_table *out, dl_error *err);
typedef int (*bars_finish_fn)(void *k, dl_table *out, dl_error *err);

static int push_resampler(void *k, const dl_table *in, dl_table *out, dl_error *err) {
    return dl_resampler_push(k, in, out, err);
}
static int finish_resampler(void *k, dl_table *out, dl_error *err) {
    return dl_resampler_finish(k, out, err);
}
static int push_ticks(void *k, const dl_table *in, dl_table *out, dl_error *err) {
    return dl_tick_bars_push(k, in, out, err);
}
static int finish_ticks(void *k, dl_table *out, dl_error *err) {
    return dl_tick_bars_finish(k, out, err);
}

int bench_bars(bench_ctx *c, bool from_trades) {
    char ds[256];
    dataset_name(ds, sizeof ds, c->symbol, from_trades ? "ticks/trades" : "raw/1m");
    static const char *const kcols[] = {"ts",    "open",   "high",       "low",
                                        "close", "volume", "trade_count"};
    static const char *const tcols[] = {"ts", "price", "qty"};
    dl_lake *lake = NULL;
    dl_query *q = NULL;
    void *kernel = NULL;
    dl_table batch, bars;
    memset(&batch, 0, sizeof batch);
    memset(&bars, 0, sizeof bars);
    digest d;
    digest_init(&d);
    int rc = open_query(c, from_trades ? c->trades_root : c->klines_root, ds,
                        from_trades ? tcols : kcols, from_trades ? 3 : 7, NULL, INT64_MIN,
                        INT64_MAX, &lake, &q);
    const dl_schema *in = rc == DL_OK ? dl_query_schema(q) : NULL;
    const dl_schema *out_schema = NULL;
    int64_t bucket = 0;
    if (rc == DL_OK) {
        const dl_field *ts = &in->fields[dl_schema_find(in, "ts")];
        int64_t per_ms = ts->unit == DL_UNIT_MS ? 1 : ts->unit == DL_UNIT_US ? 1000 : 1000000;
        bucket = (from_trades ? 60000 : 3600000) * per_ms;
        if (from_trades) {
            rc = dl_tick_bars_open(in, bucket, (dl_tick_bars **)&kernel, &c->err);
            if (rc == DL_OK) out_schema = dl_tick_bars_schema(kernel);
        } else {
            rc = dl_resampler_open(in, bucket, (dl_resampler **)&kernel, &c->err);
            if (rc == DL_OK) out_schema = dl_resampler_schema(kernel);
        }
    }
    bars_push_fn push = from_trades ? push_ticks : push_resampler;
    bars_finish_fn finish = from_trades ? finish_ticks : finish_resampler;
    if (rc == DL_OK) rc = dl_table_init(&batch, in, &c->err);
    if (rc == DL_OK) rc = dl_table_init(&bars, out_schema, &c->err);
    static const char *const dn[] = {"open", "high", "low", "close", "volume", "vwap"};
    const char *const in_trades[] = {"trades"};
    const char *const in_klines[] = {"trade_count"};
    int nd = from_trades ? 6 : 5;
    /* bars are digested and dropped as they complete: bounded memory */
    while (rc == DL_OK && (rc = dl_query_next(q, &batch, &c->err)) == DL_OK && batch.num_rows > 0) {
        rc = push(kernel, &batch, &bars, &c->err);
        if (rc == DL_OK && bars.num_rows > 0) {
            digest_add(&d, &bars, dn, nd, from_trades ? in_trades : in_klines, 1);
            for (int k = 0; k < bars.schema.num_fields; k++) dl_column_clear(&bars.columns[k]);
            bars.num_rows = 0;
        }
    }
    if (rc == DL_OK) rc = finish(kernel, &bars, &c->err);
    if (rc == DL_OK) {
        digest_add(&d, &bars, dn, nd, from_trades ? in_trades : in_klines, 1);
        static const char *const names[] = {"sum_open",  "sum_high",   "sum_low",
                                            "sum_close", "sum_volume", "sum_vwap"};
        static const char *const inames[] = {"sum_trades"};
        digest_json(&d, c, names, nd, inames, 1);
        c->rows = d.rows;
    }
    if (from_trades)
        dl_tick_bars_free(kernel);
    else
        dl_resampler_free(kernel);
    dl_table_free(&batch);
    if (bars.columns) dl_table_free(&bars);
    dl_query_close(q);
    dl_lake_close(lake);
    return rc;
}

int bench_asof(bench_ctx *c) {
    char kds[256], tds[256];
    dataset_name(kds, sizeof kds, c->symbol, "raw/1m");
    dataset_name(tds, sizeof tds, c->symbol, "ticks/trades");
    static const char *const kcols[] = {"ts", "close"};
    static const char *const tcols[] = {"ts", "price"};
    dl_lake *klake = NULL, *tlake = NULL;
    dl_query *kq = NULL, *tq = NULL;
    dl_asof_join *j = NULL;
    dl_table kb, tb, out;
    memset(&kb, 0, sizeof kb);
    memset(&tb, 0, sizeof tb);
    memset(&out, 0, sizeof out);
    int64_t trades = 0, matched = 0;
    double diff = 0;
    int rc = open_query(c, c->klines_root, kds, kcols, 2, NULL, INT64_MIN, INT64_MAX, &klake, &kq);
    if (rc == DL_OK)
        rc = open_query(c, c->trades_root, tds, tcols, 2, NULL, INT64_MIN, INT64_MAX, &tlake, &tq);
    if (rc == DL_OK)
        rc = dl_asof_open(dl_query_schema(tq), "ts", dl_query_schema(kq), "ts", -1, &j, &c->err);
    if (rc == DL_OK) rc = dl_table_init(&kb, dl_query_schema(kq), &c->err);
    if (rc == DL_OK) rc = dl_table_init(&tb, dl_query_schema(tq), &c->err);
    if (rc == DL_OK) rc = dl_table_init(&out, dl_asof_schema(j), &c->err);
    int64_t close_offset = 0;
    if (rc == DL_OK) {
        const dl_field *f = &kb.schema.fields[dl_schema_find(&kb.schema, "ts")];
        int64_t per_ms = f->unit == DL_UNIT_MS ? 1 : f->unit == DL_UNIT_US ? 1000 : 1000000;
        close_offset = 59999 * per_ms; /* kline close_time = open time + 59.999 s */
    }
    bool right_done = false;
    int kts = dl_schema_find(&kb.schema, "ts");
    while (rc == DL_OK && (rc = dl_query_next(tq, &tb, &c->err)) == DL_OK && tb.num_rows > 0) {
        const int64_t *tts = tb.columns[dl_schema_find(&tb.schema, "ts")].values;
        int64_t last = tts[tb.num_rows - 1];
        /* feed klines until the right side passes this batch's last trade */
        while (rc == DL_OK && !right_done && dl_asof_right_high(j) <= last) {
            rc = dl_query_next(kq, &kb, &c->err);
            if (rc != DL_OK) break;
            if (kb.num_rows == 0) {
                dl_asof_finish_right(j);
                right_done = true;
                break;
            }
            int64_t *v = kb.columns[kts].values;
            for (int64_t i = 0; i < kb.num_rows; i++) v[i] += close_offset;
            rc = dl_asof_push_right(j, &kb, &c->err);
        }
        int64_t m = 0;
        if (rc == DL_OK) rc = dl_asof_probe(j, &tb, &out, &m, &c->err);
        if (rc != DL_OK) break;
        const double *price = out.columns[dl_schema_find(&out.schema, "price")].values;
        const dl_column *close = &out.columns[dl_schema_find(&out.schema, "close")];
        const double *cv = close->values;
        for (int64_t i = 0; i < out.num_rows; i++)
            if (dl_column_is_valid(close, i)) diff += price[i] - cv[i];
        trades += tb.num_rows;
        matched += m;
        for (int k = 0; k < out.schema.num_fields; k++) dl_column_clear(&out.columns[k]);
        out.num_rows = 0;
    }
    if (rc == DL_OK) {
        bench_put(c, "{\"trades\":");
        put_i64(c, trades);
        bench_put(c, ",\"matched\":");
        put_i64(c, matched);
        bench_put(c, ",\"sum_price_minus_close\":");
        bench_put_r6(c, diff);
        bench_put(c, "}");
        c->rows = matched;
    }
    dl_asof_free(j);
    if (kb.columns) dl_table_free(&kb);
    if (tb.columns) dl_table_free(&tb);
    if (out.columns) dl_table_free(&out);
    dl_query_close(kq);
    dl_query_close(tq);
    dl_lake_close(klake);
    dl_lake_close(tlake);
    return rc;
}

typedef struct symbol_sum {
    char symbol[DL_LAKE_COMPONENT_MAX + 1];
    int64_t rows;
    double volume;
} symbol_sum;

int bench_lake_aggregate(bench_ctx *c) {
    dl_lake *lake = NULL;
    dl_query *q = NULL;
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    int rc = dl_lake_open(c->klines_root, true, &lake, &c->err);
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    const char *ds[] = {"BINANCE/SPOT/*/raw/1m"};
    const char *cols[] = {"volume"};
    spec.datasets = ds;
    spec.num_datasets = 1;
    spec.columns = cols;
    spec.num_columns = 1;
    spec.symbol_column = 1;
    spec.threads = c->threads;
    if (rc == DL_OK) rc = dl_query_open(lake, &spec, &q, &c->err);
    if (rc == DL_OK) rc = dl_table_init(&batch, dl_query_schema(q), &c->err);
    /* batches arrive per dataset in name order: one running group */
    symbol_sum *sums = NULL;
    int n = 0;
    while (rc == DL_OK && (rc = dl_query_next(q, &batch, &c->err)) == DL_OK && batch.num_rows > 0) {
        const dl_column *sc = &batch.columns[0], *vc = &batch.columns[1];
        int64_t len = sc->offsets[1] - sc->offsets[0];
        if (n == 0 || strlen(sums[n - 1].symbol) != (size_t)len ||
            memcmp(sums[n - 1].symbol, sc->data, (size_t)len) != 0) {
            symbol_sum *grown = realloc(sums, sizeof *sums * (size_t)(n + 1));
            if (!grown) {
                rc = dl_error_set(&c->err, DL_ENOMEM, "out of memory");
                break;
            }
            sums = grown;
            snprintf(sums[n].symbol, sizeof sums[n].symbol, "%.*s", (int)len, sc->data);
            sums[n].rows = 0;
            sums[n].volume = 0;
            n++;
        }
        const double *v = vc->values;
        double s = 0;
        for (int64_t i = 0; i < batch.num_rows; i++)
            if (dl_column_is_valid(vc, i)) s += v[i];
        sums[n - 1].rows += batch.num_rows;
        sums[n - 1].volume += s;
    }
    if (rc == DL_OK) {
        int64_t total = 0;
        double vtotal = 0;
        for (int i = 0; i < n; i++) total += sums[i].rows, vtotal += sums[i].volume;
        bench_put(c, "{\"symbols\":%d,\"rows\":", n);
        put_i64(c, total);
        bench_put(c, ",\"sum_volume\":");
        bench_put_r6(c, vtotal);
        bench_put(c, ",\"per_symbol\":{");
        for (int i = 0; i < n; i++) {
            bench_put(c, "%s\"%s\":[", i ? "," : "", sums[i].symbol);
            put_i64(c, sums[i].rows);
            bench_put(c, ",");
            bench_put_r6(c, sums[i].volume);
            bench_put(c, "]");
        }
        bench_put(c, "}}");
        c->rows = n;
    }
    free(sums);
    if (batch.columns) dl_table_free(&batch);
    dl_query_close(q);
    dl_lake_close(lake);
    return rc;
}
