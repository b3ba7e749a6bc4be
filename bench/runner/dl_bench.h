/*
** dl_bench.h -- shared declarations of dl-bench, the benchmark's dl
** runner (bench/runner): one case over libdatalake, one JSON line out.
** The cases (dl_bench_query.c, dl_bench_ingest.c) append their answer
** digest to the context's check buffer in the peers' key order.
*/
#ifndef DL_BENCH_H
#define DL_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"
#include "util/dl_buf.h"

typedef struct bench_ctx {
    const char *data, *work, *symbol;
    char klines_root[1100], trades_root[1100];
    int threads;
    bool durable; /* ingest: syncfs before publishing, as `dl ingest` does */
    int64_t from_us, window_days;
    double threshold;
    dl_error err;
    dl_buf check;          /* the check object's JSON */
    bool out_of_memory;    /* an append to check failed */
    int64_t rows;          /* the result line's rows field */
    double ingest_seconds; /* ingest cases: the ingest alone, without the check */
} bench_ctx;

double bench_now_seconds(void);
/* Appends to c->check (printf-style); a failure is reported at the end. */
void bench_put(bench_ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends Number(x.toPrecision(6)) as JavaScript prints it: the peers'
** rounding of floating sums, so that digests compare equal as text. */
void bench_put_r6(bench_ctx *c, double x);
/* Value i of a timestamp or int64 column in epoch milliseconds (floor). */
int64_t bench_ts_ms(const dl_column *ts, int64_t i);

int bench_scan_range(bench_ctx *c);
int bench_bars(bench_ctx *c, bool from_trades);
int bench_asof(bench_ctx *c);
int bench_lake_aggregate(bench_ctx *c);
int bench_ingest(bench_ctx *c, bool klines);

#endif
