/*
** cmd_resample.c -- `dl resample DATASET --to PERIOD [--root DIR]
** [--threads N] [--no-fsync] [--json]`: builds or updates the agg dataset
** EXCHANGE/MARKET/SYMBOL/agg/PERIOD from a raw kline or ticks dataset.
** The work (incremental recompute, lineage) is dl_lake_resample's.
*/
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "cli_lake.h"

static const cli_option resample_options[] = {
    {"to", "PERIOD", "target bar period: a multiple of the source period dividing 1d (5m, 1h, 1d)"},
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"threads", "N", "decode and encoding threads (default: all cores / 2)"},
    {"no-fsync", NULL, "skip syncfs (faster; a power cut may lose the last commit)"},
    {"json", NULL, "print the result as JSON"},
};

static const cli_spec resample_spec = {
    "resample",
    "DATASET --to PERIOD [--root DIR] [--threads N] [--json]",
    "Write bars of PERIOD computed from DATASET into EXCHANGE/MARKET/SYMBOL/agg/PERIOD.\n"
    "A raw kline dataset (raw/1m) is resampled (first open, max high, min low, last\n"
    "close, sums of volume, trade_count and the other numeric columns); a ticks\n"
    "dataset (ticks/trades) becomes bars with volume, quote_volume, vwap and trades.\n"
    "Minutes without data give no bar (gaps stay gaps).\n"
    "\n"
    "Incremental: only the UTC days whose source files changed since the source\n"
    "version the agg dataset recorded are recomputed; with no change nothing is\n"
    "written.  Each agg version's message records its lineage\n"
    "(dl.source=DATASET dl.source_version=N; see `dl history`).\n",
    resample_options,
    (int)(sizeof resample_options / sizeof resample_options[0]),
    1,
    1,
};

static void print_json(const dl_resample_result *r) {
    cli_buf b = {0};
    cli_buf_puts(&b, "{\"source\":");
    cli_append_json_string(&b, (const uint8_t *)r->source, strlen(r->source));
    cli_buf_puts(&b, ",\"target\":");
    cli_append_json_string(&b, (const uint8_t *)r->target, strlen(r->target));
    cli_buf_printf(&b,
                   ",\"source_version\":%" PRId64 ",\"recorded_source_version\":%" PRId64
                   ",\"days\":%" PRId64 ",\"days_recomputed\":%" PRId64 ",\"days_written\":%" PRId64
                   ",\"rows_in\":%" PRId64 ",\"bars\":%" PRId64 ",\"version\":%" PRId64 "}\n",
                   r->source_version, r->recorded_source_version, r->days_total, r->days_recomputed,
                   r->days_written, r->rows_in, r->bars_out, r->version);
    fwrite(b.data, 1, b.len, stdout);
    cli_buf_free(&b);
}

static void print_text(const dl_resample_result *r, double seconds) {
    if (r->days_recomputed == 0) {
        printf("%s is up to date with %s version %" PRId64 " (%" PRId64 " days)\n", r->target,
               r->source, r->source_version, r->days_total);
        return;
    }
    printf("resampled %s version %" PRId64 " -> %s: %" PRId64 " of %" PRId64
           " days recomputed (%" PRId64 " rows -> %" PRId64 " bars), %" PRId64
           " day files written, ",
           r->source, r->source_version, r->target, r->days_recomputed, r->days_total, r->rows_in,
           r->bars_out, r->days_written);
    if (r->version > 0)
        printf("version %" PRId64 " (%.2f s)\n", r->version, seconds);
    else
        printf("no new version (%.2f s)\n", seconds);
}

int cli_cmd_resample(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&resample_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    const char *period = cli_get(&a, "to");
    if (!period || !*period) return cli_usage_error(&resample_spec, "--to PERIOD is required");
    dl_resample_options opts;
    dl_resample_options_default(&opts);
    const char *v;
    int64_t threads = 0;
    if ((v = cli_get(&a, "threads")) && !cli_parse_i64(v, 1, 64, &threads))
        return cli_usage_error(&resample_spec, "--threads wants 1..64, got '%s'", v);
    opts.threads = (int)threads;
    opts.durable = cli_get(&a, "no-fsync") == NULL;

    dl_lake *lake = cli_lake_open(&a);
    if (!lake) return CLI_EXIT_ERROR;
    dl_error err = {0};
    dl_resample_result r;
    double t0 = cli_now_seconds();
    int rc = dl_lake_resample(lake, a.args[0], period, &opts, &r, &err);
    double seconds = cli_now_seconds() - t0;
    dl_lake_close(lake);
    if (rc != DL_OK) return cli_fail(&err);
    if (cli_get(&a, "json"))
        print_json(&r);
    else
        print_text(&r, seconds);
    return cli_finish_stdout(CLI_EXIT_OK);
}
