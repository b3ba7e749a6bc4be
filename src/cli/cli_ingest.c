/*
** cli_ingest.c -- `dl ingest binance|csv FILE...` (CSV archives into the
** lake, all files in one transaction) and `dl bench --case ingest_*`
** (the benchmark harness's ingest cases, answering with its JSON line).
*/
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_lake.h"
#include "lake/dl_lake_ingest.h"

/* ---- progress bar (stderr, only on a terminal) ---- */

typedef struct progress_bar {
    double last;
} progress_bar;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_progress(void *ctx, uint64_t done, uint64_t total) {
    progress_bar *p = ctx;
    double t = now_seconds();
    if (done < total && t - p->last < 0.1) return;
    p->last = t;
    int pct = total ? (int)(done * 100 / total) : 0, width = 40, fill = pct * width / 100;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : ' ';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %3d%% %.1f/%.1f MB", bar, pct, done / 1e6, total / 1e6);
    if (done >= total) fputc('\n', stderr);
}

/* ---- argument splitting: any number of FILE arguments ---- */

/* cli_parse keeps at most CLI_MAX_ARGS positionals, so the files are taken
** out first: every argument that is neither an option nor an option's value. */
static void split_files(const cli_spec *spec, int argc, char **argv, int first, char **opt_argv,
                        int *opt_argc, char **files, int *num_files) {
    *opt_argc = 0;
    *num_files = 0;
    opt_argv[(*opt_argc)++] = argv[0];
    bool only_files = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!only_files && strcmp(a, "--") == 0) {
            only_files = true;
            continue;
        }
        if (only_files || a[0] != '-' || a[1] == 0) {
            files[(*num_files)++] = argv[i];
            continue;
        }
        opt_argv[(*opt_argc)++] = argv[i];
        if (strchr(a, '=')) continue;
        for (int k = 0; k < spec->num_options; k++)
            if (a[0] == '-' && a[1] == '-' && strcmp(a + 2, spec->options[k].name) == 0 &&
                spec->options[k].metavar && i + 1 < argc)
                opt_argv[(*opt_argc)++] = argv[++i];
    }
}

static const cli_option ingest_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"exchange", "NAME", "binance: exchange component (default BINANCE)"},
    {"market", "NAME", "binance: market component (default SPOT; e.g. FUTURES-UM)"},
    {"skip-bad", NULL, "report and skip malformed rows instead of refusing the ingest"},
    {"threads", "N", "encoding threads (default 2)"},
    {"no-fsync", NULL, "skip syncfs (faster; a power cut may lose the last commit)"},
    {"json", NULL, "print the result as JSON"},
    {"message", "TEXT", "message stored with the new versions"},
    {"dataset", "NAME", "csv: target dataset EXCHANGE/MARKET/SYMBOL/TYPE/PERIOD"},
    {"ts-column", "NAME", "csv: header name of the time column"},
    {"ts-format", "FMT", "csv: auto (ms/us by magnitude), s, ms, us, ns or iso"},
    {"columns", "SPEC",
     "csv: columns to keep: src[:name[:type]],... (type double, int64, "
     "bool, string, timestamp; default all)"},
    {"delimiter", "C", "csv: field delimiter (default ,)"},
};
static const cli_spec ingest_spec = {
    "ingest",
    "binance|csv FILE... [options]",
    "Ingest CSV files into the lake in ONE transaction: if any file is malformed\n"
    "(a message gives FILE:LINE and the reason), damaged (.CHECKSUM mismatch) or\n"
    "conflicts with the dataset's schema, nothing is written.\n"
    "\n"
    "  binance  files as published on data.binance.vision (.zip or .csv):\n"
    "           SYMBOL-INTERVAL-YYYY-MM[-DD] klines -> EXCH/MARKET/SYMBOL/raw/INTERVAL,\n"
    "           SYMBOL-trades-...    -> EXCH/MARKET/SYMBOL/ticks/trades,\n"
    "           SYMBOL-aggTrades-... -> EXCH/MARKET/SYMBOL/ticks/aggtrades.\n"
    "           A sibling FILE.CHECKSUM is verified when present.\n"
    "  csv      a CSV with a header: --dataset and --ts-column are required.\n"
    "\n"
    "Rows are split by UTC day of ts and upserted: merged with the day's file,\n"
    "deduplicated by ts (ticks: by trade id), new rows winning.  Re-running the same\n"
    "ingest changes nothing.  A progress bar is shown on a terminal.\n",
    ingest_options,
    13,
    0,
    CLI_MAX_ARGS};

static dl_type parse_type(const char *s, bool *ok) {
    static const struct {
        const char *name;
        dl_type type;
    } types[] = {{"double", DL_TYPE_DOUBLE},
                 {"int64", DL_TYPE_INT64},
                 {"bool", DL_TYPE_BOOL},
                 {"string", DL_TYPE_STRING},
                 {"timestamp", DL_TYPE_TIMESTAMP}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i].name) == 0) {
            *ok = true;
            return types[i].type;
        }
    *ok = false;
    return DL_TYPE_DOUBLE;
}

/* "src[:name[:type]],..." -> columns (strings point into `spec`, modified). */
static int parse_columns(char *spec, dl_csv_column *cols, int max, int *n) {
    *n = 0;
    for (char *item = strtok(spec, ","); item; item = strtok(NULL, ",")) {
        if (*n == max) return cli_failf("--columns: at most %d columns", max);
        char *name = strchr(item, ':'), *type = NULL;
        if (name) {
            *name++ = 0;
            type = strchr(name, ':');
            if (type) *type++ = 0;
        }
        bool ok = true;
        cols[*n] = (dl_csv_column){item, name && *name ? name : NULL,
                                   type ? parse_type(type, &ok) : DL_TYPE_DOUBLE};
        if (!ok) return cli_failf("--columns: unknown type \"%s\" for %s", type, item);
        (*n)++;
    }
    return DL_OK;
}

int cli_cmd_ingest(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_print_help(&ingest_spec, stdout);
        return cli_finish_stdout(0);
    }
    if (argc < 2 || (strcmp(argv[1], "binance") != 0 && strcmp(argv[1], "csv") != 0))
        return cli_usage_error(&ingest_spec, "the first argument must be binance or csv");
    bool binance = strcmp(argv[1], "binance") == 0;
    char **opt_argv = cli_xrealloc(NULL, (size_t)argc * sizeof *opt_argv);
    char **files = cli_xrealloc(NULL, (size_t)argc * sizeof *files);
    int opt_argc = 0, num_files = 0, code = CLI_EXIT_OK;
    split_files(&ingest_spec, argc, argv, 2, opt_argv, &opt_argc, files, &num_files);
    cli_args args;
    dl_lake *lake = NULL;
    char *columns_spec = NULL;
    dl_csv_column cols[256];
    int rc = cli_parse(&ingest_spec, opt_argc, opt_argv, &args);
    if (rc != CLI_CONTINUE) {
        code = rc;
        goto done;
    }
    if (num_files == 0) {
        code = cli_usage_error(&ingest_spec, "no input files");
        goto done;
    }
    dl_ingest_request req;
    memset(&req, 0, sizeof req);
    req.files = (const char *const *)files;
    req.num_files = num_files;
    req.binance = binance;
    req.exchange = cli_get(&args, "exchange");
    req.market = cli_get(&args, "market");
    dl_csv_options_default(&req.csv, binance ? DL_CSV_BINANCE_KLINES : DL_CSV_GENERIC);
    req.csv.skip_bad = cli_get(&args, "skip-bad") != NULL;
    dl_lake_write_options_default(&req.write);
    req.write.durable = cli_get(&args, "no-fsync") == NULL;
    req.write.message = cli_get(&args, "message");
    req.write.command = binance ? "ingest binance" : "ingest csv";
    const char *v;
    int64_t threads = 2;
    if ((v = cli_get(&args, "threads")) && !cli_parse_i64(v, 1, 64, &threads)) {
        code = cli_usage_error(&ingest_spec, "--threads needs an integer 1..64");
        goto done;
    }
    req.write.threads = (int)threads;
    if (!binance) {
        req.dataset = cli_get(&args, "dataset");
        req.csv.ts_column = cli_get(&args, "ts-column");
        if (!req.dataset || !req.csv.ts_column) {
            code = cli_usage_error(&ingest_spec, "csv needs --dataset and --ts-column");
            goto done;
        }
        if ((v = cli_get(&args, "ts-format"))) req.csv.ts_format = v;
        if ((v = cli_get(&args, "delimiter"))) {
            if (strlen(v) != 1) {
                code = cli_usage_error(&ingest_spec, "--delimiter must be one character");
                goto done;
            }
            req.csv.delimiter = v[0];
        }
        if ((v = cli_get(&args, "columns"))) {
            columns_spec = strdup(v);
            int n = 0;
            if (!columns_spec || parse_columns(columns_spec, cols, 256, &n) != DL_OK) {
                code = CLI_EXIT_ERROR;
                goto done;
            }
            req.csv.columns = cols;
            req.csv.num_columns = n;
        }
    }
    progress_bar bar = {0};
    if (isatty(2)) {
        req.progress = show_progress;
        req.progress_ctx = &bar;
    }
    lake = cli_lake_open(&args);
    if (!lake) {
        code = CLI_EXIT_ERROR;
        goto done;
    }
    dl_error err;
    dl_ingest_result res;
    double t0 = now_seconds();
    if (dl_lake_ingest(lake, &req, &res, &err) != DL_OK) {
        code = cli_fail(&err);
        fprintf(stderr, "dl: nothing was written\n");
        goto done;
    }
    double secs = now_seconds() - t0;
    if (res.rows_skipped)
        fprintf(stderr, "dl: skipped %" PRId64 " malformed rows; first: %s\n", res.rows_skipped,
                res.first_skip_reason);
    if (cli_get(&args, "json")) {
        printf("{\"files\":%d,\"rows_read\":%" PRId64 ",\"rows_skipped\":%" PRId64
               ",\"checksums_verified\":%d,\"days_written\":%" PRId64 ",\"days_unchanged\":%" PRId64
               ",\"versions_created\":%" PRId64 ",\"run_id\":%" PRId64 ",\"seconds\":%.3f}\n",
               num_files, res.rows_read, res.rows_skipped, res.checksums_verified,
               res.write.days_written, res.write.days_unchanged, res.write.versions_created,
               res.write.run_id, secs);
    } else {
        printf("ingested %d file%s: %" PRId64 " rows, %" PRId64 " day files written, %" PRId64
               " unchanged, %" PRId64 " new version%s (%.2f s)\n",
               num_files, num_files == 1 ? "" : "s", res.rows_read, res.write.days_written,
               res.write.days_unchanged, res.write.versions_created,
               res.write.versions_created == 1 ? "" : "s", secs);
    }
    code = cli_finish_stdout(0);
done:
    dl_lake_close(lake);
    free(columns_spec);
    free(opt_argv);
    free(files);
    return code;
}

/* ---- dl bench --case ingest_klines|ingest_trades ---- */

static const cli_option bench_options[] = {
    {"case", "NAME", "ingest_klines or ingest_trades"},
    {"data", "DIR", "generated data (gen.mjs --out DIR)"},
    {"threads", "N", "threads (default 2)"},
    {"work", "DIR", "where the lake is written (default DATA/work-dl; wiped first)"},
    {"durable", NULL, "syncfs before publishing, as `dl ingest` does (the peers do not sync)"},
};
static const cli_spec bench_spec = {
    "bench",
    "--case ingest_klines|ingest_trades --data DIR [--threads N] [--work DIR]",
    "Run a case of the shared benchmark harness (bench/README.md): ingest every\n"
    "DATA/klines/*.csv (or trades) into a fresh lake, then read the lake back and\n"
    "print the harness's one JSON line (seconds = the ingest).\n",
    bench_options,
    5,
    0,
    0};

/* Rounds to 6 significant digits, as the harness does. */
static void put_r6(cli_buf *b, const char *key, double v) {
    char tmp[64], out[64];
    snprintf(tmp, sizeof tmp, "%.6g", v);
    dl_format_double(strtod(tmp, NULL), out, sizeof out);
    cli_buf_printf(b, ",\"%s\":%s", key, out);
}

static double column_sum(const dl_table *t, const char *name) {
    int c = dl_schema_find(&t->schema, name);
    if (c < 0) return 0;
    double s = 0;
    const dl_column *col = &t->columns[c];
    for (int64_t i = 0; i < col->length; i++) {
        if (!dl_column_is_valid(col, i)) continue;
        s += col->type == DL_TYPE_INT64 ? (double)((const int64_t *)col->values)[i]
                                        : ((const double *)col->values)[i];
    }
    return s;
}

static int64_t column_isum(const dl_table *t, const char *name) {
    int c = dl_schema_find(&t->schema, name);
    int64_t s = 0;
    if (c < 0) return 0;
    const dl_column *col = &t->columns[c];
    for (int64_t i = 0; i < col->length; i++)
        if (dl_column_is_valid(col, i))
            s += col->type == DL_TYPE_BOOL ? ((const uint8_t *)col->values)[i]
                                           : ((const int64_t *)col->values)[i];
    return s;
}

int cli_cmd_bench(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&bench_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    const char *cs = cli_get(&args, "case"), *data = cli_get(&args, "data");
    if (!cs || !data) return cli_usage_error(&bench_spec, "--case and --data are required");
    bool klines = strcmp(cs, "ingest_klines") == 0;
    if (!klines && strcmp(cs, "ingest_trades") != 0)
        return cli_usage_error(&bench_spec, "dl bench implements ingest_klines and ingest_trades");
    int64_t threads = 2;
    const char *v;
    if ((v = cli_get(&args, "threads")) && !cli_parse_i64(v, 1, 64, &threads))
        return cli_usage_error(&bench_spec, "--threads needs an integer 1..64");
    char work[4096], pattern[4096], cmd[8300];
    snprintf(work, sizeof work, "%s", cli_get(&args, "work") ? cli_get(&args, "work") : "");
    if (!work[0]) snprintf(work, sizeof work, "%s/work-dl", data);
    snprintf(pattern, sizeof pattern, "%s/%s/*.csv", data, klines ? "klines" : "trades");
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0)
        return cli_failf("no files match %s", pattern);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0) return cli_failf("cannot wipe %s", work);
    dl_error err;
    dl_lake *lake = NULL;
    int code = CLI_EXIT_OK;
    dl_dataset_info *sets = NULL;
    int64_t num_sets = 0;
    cli_buf b = {0};
    if (dl_lake_init(work, &err) != DL_OK || dl_lake_open(work, false, &lake, &err) != DL_OK) {
        code = cli_fail(&err);
        goto done;
    }
    dl_ingest_request req;
    memset(&req, 0, sizeof req);
    req.files = (const char *const *)g.gl_pathv;
    req.num_files = (int)g.gl_pathc;
    req.binance = true;
    dl_csv_options_default(&req.csv, DL_CSV_BINANCE_KLINES);
    dl_lake_write_options_default(&req.write);
    req.write.threads = (int)threads;
    req.write.durable = cli_get(&args, "durable") != NULL;
    req.write.command = "bench";
    dl_ingest_result res;
    double t0 = now_seconds();
    if (dl_lake_ingest(lake, &req, &res, &err) != DL_OK) {
        code = cli_fail(&err);
        goto done;
    }
    double secs = now_seconds() - t0;
    /* Read the lake back: the check proves what the files hold. */
    if (dl_lake_datasets(lake, &sets, &num_sets, &err) != DL_OK) {
        code = cli_fail(&err);
        goto done;
    }
    int64_t rows = 0, files = 0, itot = 0, first = INT64_MAX, last = INT64_MIN;
    double s1 = 0, s2 = 0, s3 = 0;
    for (int64_t i = 0; i < num_sets; i++) {
        dl_table t;
        if (dl_lake_read(lake, sets[i].name, INT64_MIN, INT64_MAX, 0, &t, &err) != DL_OK) {
            code = cli_fail(&err);
            goto done;
        }
        rows += t.num_rows;
        files += sets[i].files;
        if (t.num_rows) {
            const int64_t *ts = t.columns[dl_schema_find(&t.schema, "ts")].values;
            if (ts[0] < first) first = ts[0];
            if (ts[t.num_rows - 1] > last) last = ts[t.num_rows - 1];
        }
        if (klines) {
            s1 += column_sum(&t, "close");
            s2 += column_sum(&t, "volume");
            itot += column_isum(&t, "trade_count");
        } else {
            s1 += column_sum(&t, "price");
            s2 += column_sum(&t, "qty");
            s3 += column_sum(&t, "quote_qty");
            itot += column_isum(&t, "is_buyer_maker");
        }
        dl_table_free(&t);
    }
    cli_buf_printf(&b,
                   "{\"engine\":\"dl\",\"case\":\"%s\",\"seconds\":%.4f,\"rows\":%" PRId64
                   ",\"check\":{\"rows\":%" PRId64 ",\"partitions\":%" PRId64
                   ",\"symbols\":%" PRId64,
                   cs, secs, rows, rows, files, num_sets);
    if (klines) {
        put_r6(&b, "sum_close", s1);
        put_r6(&b, "sum_volume", s2);
        cli_buf_printf(&b, ",\"sum_trades\":%" PRId64, itot);
    } else {
        put_r6(&b, "sum_price", s1);
        put_r6(&b, "sum_qty", s2);
        put_r6(&b, "sum_quote_qty", s3);
        cli_buf_printf(&b, ",\"buyer_maker\":%" PRId64, itot);
    }
    if (rows)
        cli_buf_printf(&b, ",\"first_ts\":%" PRId64 ",\"last_ts\":%" PRId64 "}", first / 1000,
                       last / 1000);
    else
        cli_buf_puts(&b, ",\"first_ts\":null,\"last_ts\":null}");
    cli_buf_printf(&b, ",\"threads\":%" PRId64 ",\"version\":\"%s\"}\n", threads,
                   DL_VERSION_STRING);
    fwrite(b.data, 1, b.len, stdout);
    code = cli_finish_stdout(0);
done:
    cli_buf_free(&b);
    free(sets);
    dl_lake_close(lake);
    globfree(&g);
    return code;
}
