/*
** dl_bench_main.c -- dl-bench: runs one case of the benchmark
** (bench/README.md) through the same library paths a user's commands use
** and prints the one JSON line the benchmark runner reads:
**   {"engine":"dl","case":..,"seconds":..,"rows":..,"check":{..},"threads":N,"version":..}
** `seconds` is the wall time of the work (lake open + query + compute; for
** ingest the ingest alone); `check` is the answer digest computed from the
** actual result, in the peers' key order (bench/peers.mjs computes the same).
** Query cases read the lakes the ingest cases build: WORK/klines and
** WORK/trades (WORK defaults to DATA/work-dl), datasets
** BINANCE/SPOT/{SYMBOL}/raw/1m and BINANCE/SPOT/{SYMBOL}/ticks/trades.
** Exit status: 0 done, 1 the case failed, 2 bad arguments.
*/
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dl_bench.h"

static const char USAGE[] =
    "usage: dl-bench --case C --data DIR [--threads N] [--work DIR] [options]\n"
    "Runs one case of the dl benchmark (bench/README.md) and prints its JSON line, so\n"
    "that `node bench/run.mjs` times dl beside DuckDB and Polars.\n"
    "  --case C          ingest_klines, ingest_trades, scan_range, resample_1h,\n"
    "                    bars_from_trades, asof_join, lake_aggregate\n"
    "  --data DIR        generated data (dl-gen output)\n"
    "  --work DIR        where the lakes live (default DATA/work-dl)\n"
    "  --threads N       threads (default 2)\n"
    "  --symbol S        symbol of the single-symbol cases (default BTCUSDT)\n"
    "  --from DATE       scan_range start (default 2024-01-01)\n"
    "  --window-days N   scan_range length in days (default 90)\n"
    "  --threshold X     scan_range close threshold (default 35000)\n"
    "  --durable         ingest: syncfs before publishing, as `dl ingest` does\n"
    "                    (the peers do not sync)\n";

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("dl-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    fputs(USAGE, stderr);
    return 2;
}

double bench_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bench_put(bench_ctx *c, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp || dl_buf_append(&c->check, tmp, (size_t)n) != DL_OK)
        c->out_of_memory = true;
}

void bench_put_r6(bench_ctx *c, double x) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.6g", x);
    dl_format_double(strtod(tmp, NULL), tmp, sizeof tmp);
    bench_put(c, "%s", tmp);
}

int64_t bench_ts_ms(const dl_column *ts, int64_t i) {
    int64_t v = ((const int64_t *)ts->values)[i];
    switch (ts->unit) {
    case DL_UNIT_MS:
        return v;
    case DL_UNIT_US:
        return v >= 0 ? v / 1000 : -((-v + 999) / 1000);
    default:
        return v >= 0 ? v / 1000000 : -((-v + 999999) / 1000000);
    }
}

static bool parse_i64(const char *text, int64_t min, int64_t max, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = text && *text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || errno != 0 || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

typedef struct bench_args {
    const char *name, *data, *work, *symbol, *from, *threads, *window_days, *threshold;
    bool durable;
} bench_args;

/* --opt VALUE or --opt=VALUE; returns 0, or 2 after a usage message. */
static int parse_args(int argc, char **argv, bench_args *a) {
    static const struct {
        const char *name;
        size_t offset;
    } opts[] = {
        {"case", offsetof(bench_args, name)},
        {"data", offsetof(bench_args, data)},
        {"work", offsetof(bench_args, work)},
        {"symbol", offsetof(bench_args, symbol)},
        {"from", offsetof(bench_args, from)},
        {"threads", offsetof(bench_args, threads)},
        {"window-days", offsetof(bench_args, window_days)},
        {"threshold", offsetof(bench_args, threshold)},
    };
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strcmp(arg, "--durable") == 0) {
            a->durable = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) return usage_error("unexpected argument '%s'", arg);
        const char *eq = strchr(arg, '=');
        char key[32];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - arg - 2) : (int)strlen(arg + 2), arg + 2);
        size_t k = 0, n = sizeof opts / sizeof opts[0];
        while (k < n && strcmp(opts[k].name, key) != 0) k++;
        if (k == n) return usage_error("unknown option '%s'", arg);
        const char *value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!value) return usage_error("--%s needs a value", opts[k].name);
        *(const char **)((char *)a + opts[k].offset) = value;
    }
    return 0;
}

static int run_case(bench_ctx *c, const char *name) {
    if (strcmp(name, "scan_range") == 0) return bench_scan_range(c);
    if (strcmp(name, "resample_1h") == 0) return bench_bars(c, false);
    if (strcmp(name, "bars_from_trades") == 0) return bench_bars(c, true);
    if (strcmp(name, "asof_join") == 0) return bench_asof(c);
    if (strcmp(name, "lake_aggregate") == 0) return bench_lake_aggregate(c);
    if (strcmp(name, "ingest_klines") == 0) return bench_ingest(c, true);
    return bench_ingest(c, false);
}

int main(int argc, char **argv) {
    static const char *const cases[] = {"ingest_klines", "ingest_trades",    "scan_range",
                                        "resample_1h",   "bars_from_trades", "asof_join",
                                        "lake_aggregate"};
    /* the allocator settings of `dl` (src/cli/dl_main.c), so that the cases
    ** run as dl's commands do: column buffers of a few MiB stay in the heap
    ** and are reused warm instead of being fresh mmaps (page faults) */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) return rc;
    if (!a.name || !a.data) return usage_error("--case and --data are required");
    bool known = false;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        known |= strcmp(a.name, cases[i]) == 0;
    if (!known) return usage_error("unknown case '%s'", a.name);

    bench_ctx c;
    memset(&c, 0, sizeof c);
    c.data = a.data;
    char work[1024];
    snprintf(work, sizeof work, "%s/work-dl", c.data);
    c.work = a.work ? a.work : work;
    snprintf(c.klines_root, sizeof c.klines_root, "%s/klines", c.work);
    snprintf(c.trades_root, sizeof c.trades_root, "%s/trades", c.work);
    c.symbol = a.symbol ? a.symbol : "BTCUSDT";
    c.durable = a.durable;
    int64_t threads = 2;
    if (a.threads && !parse_i64(a.threads, 1, 64, &threads))
        return usage_error("--threads wants 1..64");
    c.threads = (int)threads;
    if (dl_parse_time_us(a.from ? a.from : "2024-01-01", &c.from_us, &c.err) != DL_OK)
        return usage_error("--from: %s", c.err.message);
    c.window_days = 90;
    if (a.window_days && !parse_i64(a.window_days, 1, 100000, &c.window_days))
        return usage_error("--window-days wants a day count");
    c.threshold = 35000;
    if (a.threshold) {
        char *end = NULL;
        c.threshold = strtod(a.threshold, &end);
        if (end == a.threshold || *end) return usage_error("--threshold wants a number");
    }

    c.ingest_seconds = -1;
    double t0 = bench_now_seconds();
    rc = run_case(&c, a.name);
    double secs = c.ingest_seconds >= 0 ? c.ingest_seconds : bench_now_seconds() - t0;
    if (rc == DL_OK && c.out_of_memory) rc = dl_error_set(&c.err, DL_ENOMEM, "out of memory");
    if (rc != DL_OK) {
        fprintf(stderr, "dl-bench: %s: %s\n", a.name, c.err.message);
        dl_buf_free(&c.check);
        return 1;
    }
    printf("{\"engine\":\"dl\",\"case\":\"%s\",\"seconds\":%.4f,\"rows\":%lld,\"check\":%.*s,"
           "\"threads\":%d,\"version\":\"%s\"}\n",
           a.name, secs, (long long)c.rows, (int)c.check.len, (const char *)c.check.data, c.threads,
           dl_version());
    dl_buf_free(&c.check);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
