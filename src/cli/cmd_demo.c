/*
** cmd_demo.c -- `dl demo [--dir DIR]`: the lake's main job on built-in data,
** one screen a quant recognises.  It writes a small, deterministic sample in
** data.binance.vision's format (daily 1m kline CSVs of two symbols, with a
** two-hour outage on one day and a missing day), then runs the real `dl`
** commands on it, each printed before its output: init, ingest, ls, gaps, a
** filtered query with pruning statistics, resample to 1h, and verify.
** Running the commands as child processes of this same binary shows exactly
** what a user would type and keeps the demo independent of the commands'
** internals.  `dl demo parquet` is the Parquet round trip (cmd_demo_parquet.c).
*/
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static const cli_option demo_options[] = {
    {"dir", "DIR",
     "work here (sample/ and lake/ are created inside and kept); default: a temporary "
     "directory, removed at the end"},
};

static const cli_spec demo_spec = {
    "demo",
    "[--dir DIR] | parquet [--out FILE] [--rows N]",
    "The lake's main job on a built-in sample: write three days of Binance-format 1m\n"
    "klines for BTCUSDT and ETHUSDT (BTCUSDT misses two hours on 2024-01-02, ETHUSDT\n"
    "misses 2024-01-02 entirely), then run dl init, dl ingest, dl ls, dl gaps, a\n"
    "filtered dl query with pruning statistics, dl resample to 1h, and dl verify,\n"
    "printing each command before its output.\n"
    "`dl demo parquet` writes, reads back and verifies one Parquet file instead\n"
    "(`dl demo parquet --help`).\n",
    demo_options,
    1,
    0,
    0,
};

enum { SAMPLE_DAYS = 3, MINUTES_PER_DAY = 1440 };
static const int64_t sample_start_ms = 1704067200000; /* 2024-01-01T00:00:00Z */

typedef struct sample_symbol {
    const char *name;
    double price;      /* opening price of the sample */
    int skip_day;      /* day index with no file at all, or -1 */
    int outage_day;    /* day index with an outage, or -1 */
    int outage_minute; /* first missing minute of that day */
    int outage_length; /* minutes missing */
} sample_symbol;

static const sample_symbol sample_symbols[] = {
    {"BTCUSDT", 42283.58, -1, 1, 600, 120},
    {"ETHUSDT", 2281.87, 1, -1, 0, 0},
};
enum { SAMPLE_SYMBOLS = (int)(sizeof sample_symbols / sizeof sample_symbols[0]) };

/* standard normal (Box-Muller; one draw per call keeps the stream simple) */
static double next_normal(uint64_t *state) {
    double u = cli_random_unit(state), v = cli_random_unit(state);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Trading activity by minute of the UTC day: quiet in Asia's night, busiest
** around the US open at 14:30 UTC. */
static double activity(int minute) {
    double from_peak = (minute - 870) / 240.0;
    return 0.35 + exp(-from_peak * from_peak);
}

static double round_cents(double v) {
    return round(v * 100.0) / 100.0;
}

/* One day of one symbol in Binance's spot kline CSV (12 columns, no
** header, ms times, 8 decimals), skipping the outage's minutes. */
static int write_day(FILE *f, const sample_symbol *s, int day, double *price, uint64_t *state) {
    for (int m = 0; m < MINUTES_PER_DAY; m++) {
        double a = activity(m);
        double open = *price;
        double close = round_cents(open * exp(next_normal(state) * 0.0007 * sqrt(a)));
        double wick = fabs(next_normal(state)) * 0.0003 * open * a;
        double high = round_cents(fmax(open, close) + wick);
        double low = round_cents(fmin(open, close) - wick * cli_random_unit(state));
        /* about 0.3 to 1.5 million USD a minute at the busiest time */
        double volume = round(a * (3e5 + 1.2e6 * cli_random_unit(state)) / open * 1e5) / 1e5;
        double taker = round(volume * (0.35 + 0.3 * cli_random_unit(state)) * 1e5) / 1e5;
        long trades = (long)(a * (200 + 600 * cli_random_unit(state)));
        *price = close;
        if (day == s->outage_day && m >= s->outage_minute &&
            m < s->outage_minute + s->outage_length)
            continue;
        int64_t open_ms = sample_start_ms + ((int64_t)day * MINUTES_PER_DAY + m) * 60000;
        double vwap = (open + high + low + close) / 4;
        if (fprintf(f, "%lld,%.8f,%.8f,%.8f,%.8f,%.8f,%lld,%.8f,%ld,%.8f,%.8f,0\n",
                    (long long)open_ms, open, high, low, close, volume, (long long)open_ms + 59999,
                    volume * vwap, trades, taker, taker * vwap) < 0)
            return -1;
    }
    return 0;
}

/* Writes DIR/sample/{SYM}-1m-{YYYY-MM-DD}.csv and returns the file paths
** (malloc'd, NULL-terminated) for the ingest command line. */
static int write_sample(const char *dir, char ***paths_out, int *count_out, dl_error *err) {
    char **paths = calloc(SAMPLE_SYMBOLS * SAMPLE_DAYS + 1, sizeof *paths);
    if (!paths) return dl_error_set(err, DL_ENOMEM, "out of memory");
    int count = 0;
    for (int i = 0; i < SAMPLE_SYMBOLS; i++) {
        const sample_symbol *s = &sample_symbols[i];
        uint64_t state = 0x5eed0000u + (uint64_t)i;
        double price = s->price;
        for (int day = 0; day < SAMPLE_DAYS; day++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s-1m-2024-01-%02d.csv", dir, s->name, day + 1);
            FILE *f = s->skip_day == day ? NULL : fopen(path, "w");
            if (s->skip_day == day) {
                /* the market still moves on the missing day */
                for (int m = 0; m < MINUTES_PER_DAY; m++) next_normal(&state);
                continue;
            }
            int failed = !f || write_day(f, s, day, &price, &state) != 0;
            if (f && fclose(f) != 0) failed = 1;
            if (failed || !(paths[count++] = strdup(path))) {
                for (int k = 0; k < count; k++) free(paths[k]);
                free(paths);
                return dl_error_set(err, DL_EIO, "cannot write the sample file %s: %s", path,
                                    strerror(errno));
            }
        }
    }
    *paths_out = paths;
    *count_out = count;
    return DL_OK;
}

/* Prints "$ dl ARGS" and runs this binary with ARGS; returns its exit code. */
static int run_step(const char *title, char *const *args) {
    printf("\n== %s\n$ dl", title);
    for (int i = 0; args[i]; i++) printf(strpbrk(args[i], " *\"") ? " '%s'" : " %s", args[i]);
    printf("\n");
    fflush(stdout);
    char *argv[64] = {"dl"};
    int n = 1;
    for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0) {
        fprintf(stderr, "dl demo: cannot run dl: %s\n", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : CLI_EXIT_ERROR;
}

static int run_job(const char *dir, char **files, int num_files) {
    char lake[4200];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    /* the steps read the lake from DL_ROOT, as a user would set it */
    setenv("DL_ROOT", lake, 1);
    printf("sample: %d Binance 1m kline files in %s/sample\n", num_files, dir);
    printf("lake:   %s (DL_ROOT)\n", lake);

    char *init[] = {"init", NULL};
    char *ingest[64] = {"ingest", "binance"};
    int n = 2;
    for (int i = 0; i < num_files && n < 63; i++) ingest[n++] = files[i];
    ingest[n] = NULL;
    char *ls[] = {"ls", NULL};
    char *gaps_btc[] = {"gaps", "BINANCE/SPOT/BTCUSDT/raw/1m", NULL};
    char *gaps_eth[] = {"gaps", "BINANCE/SPOT/ETHUSDT/raw/1m", NULL};
    char *query[] = {"query",     "BINANCE/SPOT/*/raw/1m",
                     "--from",    "2024-01-02T14:00:00Z",
                     "--to",      "2024-01-02T16:00:00Z",
                     "--where",   "volume > 25 and close > 40000",
                     "--columns", "ts,close,volume",
                     "--tail",    "5",
                     "--stats",   NULL};
    char *resample[] = {"resample", "BINANCE/SPOT/BTCUSDT/raw/1m", "--to", "1h", NULL};
    char *hourly[] = {"query", "BINANCE/SPOT/BTCUSDT/agg/1h", "--from", "2024-01-02T08:00:00Z",
                      "--to",  "2024-01-02T14:00:00Z",        NULL};
    char *verify[] = {"verify", NULL};
    struct {
        const char *title;
        char **args;
    } steps[] = {
        {"create the lake", init},
        {"ingest the archives: one Parquet file per UTC day, SHA-256 in the catalog", ingest},
        {"datasets", ls},
        {"gaps: BTCUSDT lost two hours on 2024-01-02", gaps_btc},
        {"gaps: ETHUSDT has no file for 2024-01-02", gaps_eth},
        {"a filtered query: only the needed days, row groups and pages are read", query},
        {"resample to 1h bars (an agg dataset, updated incrementally)", resample},
        {"hourly bars around the outage", hourly},
        {"verify every file against its recorded checksum", verify},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = run_step(steps[i].title, steps[i].args);
        if (rc != CLI_EXIT_OK) {
            fprintf(stderr, "dl demo: step '%s' failed (exit %d)\n", steps[i].args[0], rc);
            return CLI_EXIT_ERROR;
        }
    }
    return CLI_EXIT_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes the demo's own temporary tree (never follows symlinks). */
static int remove_tree(const char *dir) {
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int cli_cmd_demo(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "parquet") == 0) return cli_demo_parquet(argc - 1, argv + 1);
    cli_args args;
    int rc = cli_parse(&demo_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;

    char dir[4096];
    const char *given = cli_get(&args, "dir");
    if (given) {
        if (strlen(given) >= 4000) return cli_usage_error(&demo_spec, "--dir is too long");
        snprintf(dir, sizeof dir, "%s", given);
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "dl: demo: cannot create %s: %s\n", dir, strerror(errno));
            return CLI_EXIT_ERROR;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/dl-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "dl: demo: cannot create a directory in %s: %s\n",
                    tmp && *tmp ? tmp : "/tmp", strerror(errno));
            return CLI_EXIT_ERROR;
        }
    }
    char sample[4200], lake[4200];
    snprintf(sample, sizeof sample, "%s/sample", dir);
    snprintf(lake, sizeof lake, "%s/lake", dir);
    struct stat st;
    if (stat(lake, &st) == 0) {
        fprintf(stderr, "dl: demo: %s exists already; give an empty or new --dir\n", lake);
        return CLI_EXIT_USAGE;
    }
    dl_error err = {0};
    char **files = NULL;
    int num_files = 0;
    if (mkdir(sample, 0777) != 0 && errno != EEXIST) {
        dl_error_set(&err, DL_EIO, "cannot create %s: %s", sample, strerror(errno));
        return cli_fail(&err);
    }
    if (write_sample(sample, &files, &num_files, &err) != DL_OK) return cli_fail(&err);
    rc = run_job(dir, files, num_files);
    for (int i = 0; i < num_files; i++) free(files[i]);
    free(files);
    if (given)
        printf("\nkept: %s   (export DL_ROOT=%s/lake to explore it with dl ls, dl query ...)\n",
               dir, dir);
    else if (remove_tree(dir) != 0)
        fprintf(stderr, "dl: demo: could not remove %s\n", dir);
    return rc == CLI_EXIT_OK ? cli_finish_stdout(CLI_EXIT_OK) : rc;
}
