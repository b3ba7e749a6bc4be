/*
** pq_bench.c -- Parquet write/read throughput of libdatalake on an OHLCV
** table (ts TIMESTAMP(ms) + open/high/low/close/volume doubles + trade_count
** int64), for comparison with DuckDB and Polars (bench/pq_peers.mjs runs
** them on the same data in the same run; bench/pq_compare.sh drives both).
**
** Usage: pq_bench --rows N --dir DIR [--codec zstd|snappy|none] [--threads T]
**                 [--runs R] [--read FILE]
** Prints one JSON line per measurement:
**   {"engine":"dl","op":"write","codec":"zstd","rows":N,"seconds":s,
**    "bytes":B,"rows_per_s":..,"mb_per_s":..,"check":{...}}
** mb_per_s is uncompressed in-memory bytes (rows x 48) per second.  The
** check (sum of close, sum of trade_count, first/last ts) lets the peers'
** results be compared for equality.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "datalake.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 42;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Deterministic 1-minute OHLCV bars: a random walk on a 0.01 tick. */
static int make_table(int64_t rows, dl_table *t, dl_error *err) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_MS, false, err);
    const char *names[] = {"open", "high", "low", "close", "volume"};
    for (int i = 0; i < 5; i++) dl_schema_add(&s, names[i], DL_TYPE_DOUBLE, false, err);
    dl_schema_add(&s, "trade_count", DL_TYPE_INT64, false, err);
    int rc = dl_table_init(t, &s, err);
    dl_schema_free(&s);
    if (rc != DL_OK) return rc;
    for (int c = 0; c < 7; c++)
        if ((rc = dl_column_reserve(&t->columns[c], rows, 0, err)) != DL_OK) return rc;
    int64_t *ts = t->columns[0].values, *cnt = t->columns[6].values;
    double *o = t->columns[1].values, *h = t->columns[2].values, *l = t->columns[3].values,
           *c = t->columns[4].values, *v = t->columns[5].values;
    int64_t price = 3000000; /* cents */
    for (int64_t i = 0; i < rows; i++) {
        int64_t open = price;
        int64_t close = open + (int64_t)(next_rand() % 2001) - 1000;
        if (close < 100) close = 100;
        int64_t hi = (open > close ? open : close) + (int64_t)(next_rand() % 500);
        int64_t lo = (open < close ? open : close) - (int64_t)(next_rand() % 500);
        ts[i] = 1672531200000LL + i * 60000LL;
        o[i] = (double)open / 100.0;
        h[i] = (double)hi / 100.0;
        l[i] = (double)lo / 100.0;
        c[i] = (double)close / 100.0;
        v[i] = (double)(next_rand() % 100000000) / 1e5;
        cnt[i] = (int64_t)(next_rand() % 5000);
        price = close;
    }
    for (int k = 0; k < 7; k++) t->columns[k].length = rows;
    return dl_table_seal(t, err);
}

static void print_check(const dl_table *t) {
    double sum_close = 0;
    long long sum_cnt = 0;
    int ci = dl_schema_find(&t->schema, "close"), ki = dl_schema_find(&t->schema, "trade_count"),
        ti = dl_schema_find(&t->schema, "ts");
    for (int64_t i = 0; i < t->num_rows; i++) {
        sum_close += ((const double *)t->columns[ci].values)[i];
        sum_cnt += ((const int64_t *)t->columns[ki].values)[i];
    }
    const int64_t *ts = t->columns[ti].values;
    /* 6 significant digits, printed like JavaScript (the peers' digests) */
    char r6[64], sum_close_text[64];
    snprintf(r6, sizeof r6, "%.6g", sum_close);
    dl_format_double(strtod(r6, NULL), sum_close_text, sizeof sum_close_text);
    printf("\"check\":{\"rows\":%lld,\"sum_close\":%s,\"sum_trades\":%lld,\"first_ts\":%lld,\"last_"
           "ts\":%lld}",
           (long long)t->num_rows, sum_close_text, sum_cnt, t->num_rows ? (long long)ts[0] : 0,
           t->num_rows ? (long long)ts[t->num_rows - 1] : 0);
}

static void report(const char *op, const char *codec, int64_t rows, double secs, long long bytes,
                   const dl_table *check) {
    printf("{\"engine\":\"dl\",\"op\":\"%s\",\"codec\":\"%s\",\"rows\":%lld,\"seconds\":%.4f,"
           "\"bytes\":%lld,"
           "\"rows_per_s\":%.0f,\"mb_per_s\":%.1f,",
           op, codec, (long long)rows, secs, bytes, rows / secs, rows * 48.0 / secs / 1e6);
    print_check(check);
    printf("}\n");
    fflush(stdout);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int64_t rows = 20000000;
    const char *dir = "/tmp/dl-pq-bench", *codec_name = "zstd", *read_only = NULL;
    int threads = 2, runs = 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            fprintf(stderr, "pq_bench: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--rows"))
            rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[++i];
        else if (!strcmp(argv[i], "--codec"))
            codec_name = argv[++i];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--read"))
            read_only = argv[++i];
        else {
            fprintf(stderr, "usage: pq_bench --rows N --dir DIR [--codec zstd|snappy|none] "
                            "[--threads T] [--runs R] [--read FILE]\n");
            return 2;
        }
    }
    dl_error err = {0};
    dl_codec codec;
    if (dl_codec_parse(codec_name, &codec, &err) != DL_OK) {
        fprintf(stderr, "pq_bench: %s\n", err.message);
        return 2;
    }
    char path[1024];
    if (read_only) {
        snprintf(path, sizeof path, "%s", read_only);
    } else {
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s/dl_%s.parquet", dir, codec_name);
        dl_table t;
        if (make_table(rows, &t, &err) != DL_OK) {
            fprintf(stderr, "pq_bench: %s\n", err.message);
            return 1;
        }
        double best = INFINITY, times[64];
        for (int r = 0; r < runs && r < 64; r++) {
            dl_write_options o;
            dl_write_options_default(&o);
            o.codec = codec;
            o.threads = threads;
            if (getenv("DL_ZSTD_LEVEL")) o.compression_level = atoi(getenv("DL_ZSTD_LEVEL"));
            double t0 = now();
            if (dl_parquet_write_table(path, &t, &o, &err) != DL_OK) {
                fprintf(stderr, "pq_bench: %s\n", err.message);
                return 1;
            }
            times[r] = now() - t0;
            if (times[r] < best) best = times[r];
        }
        qsort(times, (size_t)(runs < 64 ? runs : 64), sizeof(double), cmp_double);
        struct stat st;
        stat(path, &st);
        report("write", codec_name, rows, times[(runs - 1) / 2], (long long)st.st_size, &t);
        dl_table_free(&t);
    }
    double times[64];
    dl_table back;
    memset(&back, 0, sizeof back);
    for (int r = 0; r < runs && r < 64; r++) {
        if (r > 0) dl_table_free(&back);
        double t0 = now();
        dl_parquet_reader *rd;
        if (dl_parquet_open(path, &rd, &err) != DL_OK ||
            dl_parquet_read_table(rd, NULL, 0, &back, &err) != DL_OK) {
            fprintf(stderr, "pq_bench: %s\n", err.message);
            return 1;
        }
        dl_parquet_close(rd);
        times[r] = now() - t0;
    }
    qsort(times, (size_t)(runs < 64 ? runs : 64), sizeof(double), cmp_double);
    struct stat st;
    stat(path, &st);
    report("read", codec_name, back.num_rows, times[(runs - 1) / 2], (long long)st.st_size, &back);
    dl_table_free(&back);
    return 0;
}
