/*
** dl_bench_ingest.c -- the ingest cases of dl-bench: the CSV files of
** DATA/klines (or DATA/trades) into a fresh lake at WORK/klines (or
** WORK/trades) through dl_ingest_files, exactly as `dl ingest binance`
** does, then the check computed by streaming the lake back through the
** query engine.
*/
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_bench.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

typedef struct ingest_sums {
    double d[3];
    int64_t i[1];
    int64_t first_ts, last_ts;
    int64_t rows;
} ingest_sums;

/* Reads every dataset of the lake back and builds the check. */
static int check_lake(dl_lake *lake, bool klines, bench_ctx *ctx) {
    dl_error *err = &ctx->err;
    dl_dataset_info *ds = NULL;
    int64_t nds = 0, partitions = 0;
    int rc = dl_lake_datasets(lake, &ds, &nds, err);
    if (rc != DL_OK) return rc;
    const char *kcols[] = {"ts", "close", "volume", "trade_count"};
    const char *tcols[] = {"ts", "price", "qty", "quote_qty", "is_buyer_maker"};
    ingest_sums s = {{0}, {0}, INT64_MAX, INT64_MIN, 0};
    const char *pattern[] = {klines ? "BINANCE/SPOT/*/raw/1m" : "BINANCE/SPOT/*/ticks/trades"};
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = pattern;
    spec.num_datasets = 1;
    spec.columns = klines ? kcols : tcols;
    spec.num_columns = klines ? 4 : 5;
    spec.symbol_column = 0;
    dl_query *q = NULL;
    dl_table b;
    memset(&b, 0, sizeof b);
    rc = dl_query_open(lake, &spec, &q, err);
    if (rc == DL_OK) rc = dl_table_init(&b, dl_query_schema(q), err);
    while (rc == DL_OK && (rc = dl_query_next(q, &b, err)) == DL_OK && b.num_rows > 0) {
        for (int64_t r = 0; r < b.num_rows; r++) {
            int64_t t = bench_ts_ms(&b.columns[0], r);
            if (t < s.first_ts) s.first_ts = t;
            if (t > s.last_ts) s.last_ts = t;
        }
        int nd = klines ? 2 : 3; /* double sums: close, volume | price, qty, quote_qty */
        for (int c = 0; c < nd; c++) {
            const double *v = b.columns[1 + c].values;
            double acc = 0;
            for (int64_t r = 0; r < b.num_rows; r++) acc += v[r];
            s.d[c] += acc;
        }
        if (klines) {
            const int64_t *v = b.columns[3].values; /* trade_count */
            for (int64_t r = 0; r < b.num_rows; r++) s.i[0] += v[r];
        } else {
            const uint8_t *v = b.columns[4].values;
            for (int64_t r = 0; r < b.num_rows; r++) s.i[0] += v[r];
        }
        s.rows += b.num_rows;
    }
    if (rc == DL_OK) {
        for (int64_t i = 0; i < nds; i++) partitions += ds[i].files;
        bench_put(ctx, "{\"rows\":%lld,\"partitions\":%lld,\"symbols\":%lld", (long long)s.rows,
                  (long long)partitions, (long long)nds);
        static const char *const kn[] = {"sum_close", "sum_volume"}, *const tn[] = {
                                                                         "sum_price", "sum_qty",
                                                                         "sum_quote_qty"};
        int nd = klines ? 2 : 3;
        for (int c = 0; c < nd; c++) {
            bench_put(ctx, ",\"%s\":", klines ? kn[c] : tn[c]);
            bench_put_r6(ctx, s.d[c]);
        }
        bench_put(ctx, ",\"%s\":%lld", klines ? "sum_trades" : "buyer_maker", (long long)s.i[0]);
        if (s.rows)
            bench_put(ctx, ",\"first_ts\":%lld,\"last_ts\":%lld}", (long long)s.first_ts,
                      (long long)s.last_ts);
        else
            bench_put(ctx, ",\"first_ts\":null,\"last_ts\":null}");
        ctx->rows = s.rows;
    }
    if (b.columns) dl_table_free(&b);
    dl_query_close(q);
    dl_free(ds);
    return rc;
}

int bench_ingest(bench_ctx *ctx, bool klines) {
    const char *root = klines ? ctx->klines_root : ctx->trades_root;
    dl_error *err = &ctx->err;
    char pattern[2048];
    snprintf(pattern, sizeof pattern, "%s/%s/*.csv", ctx->data, klines ? "klines" : "trades");
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        globfree(&g);
        return dl_error_set(err, DL_ENOTFOUND, "no files match %s (generate data with dl-gen)",
                            pattern);
    }
    /* start from an empty lake, as the peers do */
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dl_lake *lake = NULL;
    double t0 = bench_now_seconds();
    int rc = dl_lake_init(root, err);
    if (rc == DL_OK) rc = dl_lake_open(root, false, &lake, err);
    if (rc == DL_OK) {
        dl_ingest_options req;
        dl_ingest_options_default(&req, DL_INGEST_BINANCE);
        req.write.threads = ctx->threads;
        req.write.durable = ctx->durable;
        req.write.command =
            klines ? "dl-bench --case ingest_klines" : "dl-bench --case ingest_trades";
        dl_ingest_result res;
        rc = dl_ingest_files(lake, (const char *const *)g.gl_pathv, (int)g.gl_pathc, &req, &res,
                             err);
    }
    ctx->ingest_seconds = bench_now_seconds() - t0;
    if (rc == DL_OK) rc = check_lake(lake, klines, ctx);
    dl_lake_close(lake);
    globfree(&g);
    return rc;
}
