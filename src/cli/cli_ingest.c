/*
** cli_ingest.c -- `dl ingest binance|csv FILE...` (CSV archives into the
** lake, all files in one transaction).
*/
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_lake.h"

/* ---- progress bar (stderr, only on a terminal) ---- */

typedef struct progress_bar {
    double last;
} progress_bar;

static void show_progress(void *ctx, uint64_t done, uint64_t total) {
    progress_bar *p = ctx;
    double t = cli_now_seconds();
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
    {"ts-format", "FMT", "time format: auto (default, see above), s, ms, us, ns or iso"},
    {"zip-max-ratio", "N", "refuse a .zip member expanding more than N:1 (default 200)"},
    {"columns", "SPEC",
     "csv: columns to keep: src[:name[:type]],... (type double, int64, "
     "bool, string, timestamp; default all)"},
    {"delimiter", "C", "csv: field delimiter (default ,)"},
    CLI_LOCK_TIMEOUT_OPTION,
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
    "           A sibling FILE.CHECKSUM is verified when present.  A row outside\n"
    "           the day or month in the file name refuses the ingest (a misnamed\n"
    "           file or mixed-up download), also with --skip-bad.  A header row is\n"
    "           recognised only when every field is a column name.\n"
    "  csv      a CSV with a header: --dataset and --ts-column are required.\n"
    "\n"
    "Times (--ts-format auto): ISO-8601 text (2024-01-05, 2024-01-05T10:00:00.5Z,\n"
    "2024-01-05 12:00:00+02:00) or epoch integers whose unit is the one placing\n"
    "them between 1990-01-01 and 2200-01-01 (s, ms, us or ns).  The first row fixes\n"
    "the unit for the whole file; a value of another unit or of no unit is refused\n"
    "with its file, line and value.  Give the unit (s, ms, us, ns) for other dates.\n"
    "\n"
    "Rows are split by UTC day of ts and upserted: merged with the day's file,\n"
    "deduplicated by ts (ticks: by trade id), new rows winning.  Re-running the same\n"
    "ingest changes nothing.  A progress bar is shown on a terminal.\n",
    ingest_options,
    (int)(sizeof ingest_options / sizeof ingest_options[0]),
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
static int parse_columns(char *spec, dl_ingest_column *cols, int max, int *n) {
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
        cols[*n] = (dl_ingest_column){item, name && *name ? name : NULL,
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
    dl_ingest_column cols[256];
    int rc = cli_parse(&ingest_spec, opt_argc, opt_argv, &args);
    if (rc != CLI_CONTINUE) {
        code = rc;
        goto done;
    }
    if (num_files == 0) {
        code = cli_usage_error(&ingest_spec, "no input files");
        goto done;
    }
    dl_ingest_options req;
    dl_ingest_options_default(&req, binance ? DL_INGEST_BINANCE : DL_INGEST_CSV);
    req.exchange = cli_get(&args, "exchange");
    req.market = cli_get(&args, "market");
    req.skip_bad = cli_get(&args, "skip-bad") != NULL;
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
    if ((v = cli_get(&args, "ts-format"))) req.ts_format = v;
    int64_t ratio = 0;
    if ((v = cli_get(&args, "zip-max-ratio")) && !cli_parse_i64(v, 1, UINT32_MAX, &ratio)) {
        code = cli_usage_error(&ingest_spec, "--zip-max-ratio needs an integer >= 1");
        goto done;
    }
    req.zip_max_ratio = (uint32_t)ratio;
    if (!binance) {
        req.dataset = cli_get(&args, "dataset");
        req.ts_column = cli_get(&args, "ts-column");
        if (!req.dataset || !req.ts_column) {
            code = cli_usage_error(&ingest_spec, "csv needs --dataset and --ts-column");
            goto done;
        }
        if ((v = cli_get(&args, "delimiter"))) {
            if (strlen(v) != 1) {
                code = cli_usage_error(&ingest_spec, "--delimiter must be one character");
                goto done;
            }
            req.delimiter = v[0];
        }
        if ((v = cli_get(&args, "columns"))) {
            columns_spec = strdup(v);
            int n = 0;
            if (!columns_spec || parse_columns(columns_spec, cols, 256, &n) != DL_OK) {
                code = CLI_EXIT_ERROR;
                goto done;
            }
            req.columns = cols;
            req.num_columns = n;
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
    double t0 = cli_now_seconds();
    if (dl_ingest_files(lake, (const char *const *)files, num_files, &req, &res, &err) != DL_OK) {
        code = cli_fail(&err);
        fprintf(stderr, "dl: nothing was written\n");
        goto done;
    }
    double secs = cli_now_seconds() - t0;
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
