/*
** cmd_sync.c -- `dl sync binance-archive --symbols A,B --from DAY --to DAY
** [--base-url URL] [--market spot|um|cm] [--kind klines|trades|aggTrades]
** [--interval 1m] [--dry-run] [--json]`: brings the lake up to date with the
** exchange's public archive.  The work (plan, coverage, download, checksum,
** retries, one commit) is dl_sync_binance_archive's.  `dl sync plugin
** --plugin PATH ...` runs a connector plugin through dl_sync_plugin.
*/
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_lake.h"

static const cli_option sync_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"base-url", "URL", "archive root (default https://data.binance.vision)"},
    {"market", "M", "spot (default), um (USD-M futures) or cm (COIN-M futures)"},
    {"symbols", "A,B,...", "exchange symbols, e.g. BTCUSDT,ETHUSDT"},
    {"kind", "K", "klines (default), trades or aggTrades"},
    {"interval", "I", "klines: 1m (default), 5m, 1h, 1d, ..."},
    {"from", "DAY", "first UTC day, included (YYYY-MM-DD)"},
    {"to", "DAY", "end UTC day, excluded (YYYY-MM-DD; default: today)"},
    {"retries", "N", "attempts after a 429, 5xx or stall before giving up (default 5)"},
    {"plugin", "PATH", "plugin: the connector .so (a bare name is looked up in $DL_PLUGIN_PATH)"},
    {"plugin-options", "OPTS",
     "plugin: option string passed to the connector (e.g. file=feed.bin)"},
    {"dataset-prefix", "EX/MKT", "plugin: EXCHANGE/MARKET of the datasets (default NAME/FEED)"},
    {"dry-run", NULL, "print the archives that would be fetched; fetch nothing"},
    {"json", NULL, "print the result as JSON"},
    CLI_LOCK_TIMEOUT_OPTION,
};

static const cli_spec sync_spec = {
    "sync",
    "binance-archive --symbols A,B --from DAY [--to DAY] [--base-url URL] [--market M]\n"
    "       [--kind K] [--interval I] [--root DIR] [--dry-run] [--json]\n"
    "       plugin --plugin PATH --symbols A,B --from DAY [--to DAY] [--plugin-options OPTS]\n"
    "       [--dataset-prefix EX/MKT] [--kind K] [--root DIR]",
    "Fetch what the lake lacks from the data.binance.vision archive layout:\n"
    "monthly archives for closed months wholly inside [--from, --to), daily ones for\n"
    "the other days; archives whose days the lake already holds are not fetched, so\n"
    "a re-run fetches nothing and changes nothing.  Every archive is checked against\n"
    "its .CHECKSUM and everything fetched is ingested in one commit: a mismatch, a\n"
    "418 ban or exhausted retries leave the lake unchanged.  HTTP 429 is waited out\n"
    "(Retry-After); 5xx, timeouts and stalls are retried with backoff.\n"
    "Archives the exchange does not publish (404) are reported; the exit status is\n"
    "then 3 (partial: retry later).\n"
    "plugin: load a connector plugin (a shared object exporting dl_connector_entry,\n"
    "see docs/connectors.md) and write what it fetches for [--from, --to) into\n"
    "EX/MKT/SYMBOL/ticks/KIND in one commit; symbols whose every day the lake\n"
    "already holds are skipped.\n",
    sync_options,
    (int)(sizeof sync_options / sizeof sync_options[0]),
    1,
    1,
};

enum { CLI_EXIT_PARTIAL = 3 };

static void log_line(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "sync: %s\n", line);
}

static bool parse_day(const char *text, int64_t *day) {
    int64_t us;
    if (!cli_parse_time_us(text, &us) || us % 86400000000LL != 0) return false;
    *day = us / 86400000000LL;
    return true;
}

static void print_result(const dl_sync_result *r, bool json, double seconds) {
    if (json) {
        printf("{\"files_planned\":%" PRId64 ",\"files_skipped\":%" PRId64
               ",\"files_fetched\":%" PRId64 ",\"files_missing\":%" PRId64 ",\"requests\":%" PRId64
               ",\"retries\":%" PRId64 ",\"bytes\":%" PRId64 ",\"rows\":%" PRId64
               ",\"versions_created\":%" PRId64 "}\n",
               r->files_planned, r->files_skipped, r->files_fetched, r->files_missing, r->requests,
               r->retries, r->bytes, r->ingest.rows_read, r->ingest.write.versions_created);
        return;
    }
    printf("synced: %" PRId64 " archives planned, %" PRId64 " already in the lake, %" PRId64
           " fetched (%" PRId64 " requests, %" PRId64 " retries, %" PRId64 " bytes), %" PRId64
           " not published; %" PRId64 " rows, %" PRId64 " new versions (%.2f s)\n",
           r->files_planned, r->files_skipped, r->files_fetched, r->requests, r->retries, r->bytes,
           r->files_missing, r->ingest.rows_read, r->ingest.write.versions_created, seconds);
}

static int sync_plugin(cli_args *a) {
    dl_plugin_sync_options o = {0};
    const char *v;
    if (!(o.plugin = cli_get(a, "plugin")) || !*o.plugin)
        return cli_usage_error(&sync_spec, "--plugin PATH is required");
    o.plugin_options = cli_get(a, "plugin-options");
    o.dataset_prefix = cli_get(a, "dataset-prefix");
    o.kind = cli_get(a, "kind");
    if (!(v = cli_get(a, "from")) || !parse_day(v, &o.from_day))
        return cli_usage_error(&sync_spec, "--from wants a UTC day YYYY-MM-DD%s%s",
                               v ? ", not " : "", v ? v : "");
    o.to_day = (int64_t)time(NULL) / 86400;
    if ((v = cli_get(a, "to")) && !parse_day(v, &o.to_day))
        return cli_usage_error(&sync_spec, "--to wants a UTC day YYYY-MM-DD, not '%s'", v);
    if (o.to_day <= o.from_day) return cli_usage_error(&sync_spec, "--from must be before --to");
    if (!(v = cli_get(a, "symbols")) || !*v)
        return cli_usage_error(&sync_spec, "--symbols A,B,... is required");
    char *copy = NULL;
    const char **symbols = NULL;
    o.num_symbols = cli_split_list(v, &copy, &symbols);
    o.symbols = symbols;
    o.log = log_line;
    dl_lake *lake = cli_lake_open(a);
    if (!lake) {
        free(copy);
        free(symbols);
        return CLI_EXIT_ERROR;
    }
    dl_error err = {0};
    dl_plugin_sync_result r;
    double t0 = cli_now_seconds();
    int rc = dl_sync_plugin(lake, &o, &r, &err);
    double seconds = cli_now_seconds() - t0;
    dl_lake_close(lake);
    free(copy);
    free(symbols);
    if (rc != DL_OK) return cli_fail(&err);
    if (cli_get(a, "json"))
        printf("{\"plugin\":\"%s\",\"plugin_version\":\"%s\",\"symbols_skipped\":%" PRId64
               ",\"batches\":%" PRId64 ",\"rows\":%" PRId64 ",\"versions_created\":%" PRId64 "}\n",
               r.plugin_name, r.plugin_version, r.symbols_skipped, r.batches, r.rows,
               r.write.versions_created);
    else
        printf("synced: plugin %s %s: %" PRId64 " symbols already in the lake, %" PRId64
               " batches, %" PRId64 " rows, %" PRId64 " new versions (%.2f s)\n",
               r.plugin_name, r.plugin_version, r.symbols_skipped, r.batches, r.rows,
               r.write.versions_created, seconds);
    return cli_finish_stdout(CLI_EXIT_OK);
}

int cli_cmd_sync(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&sync_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    if (strcmp(a.args[0], "plugin") == 0) return sync_plugin(&a);
    if (strcmp(a.args[0], "binance-archive") != 0)
        return cli_usage_error(&sync_spec, "unknown source '%s' (known: binance-archive, plugin)",
                               a.args[0]);
    dl_sync_options o;
    dl_sync_options_default(&o);
    const char *v;
    if ((v = cli_get(&a, "base-url"))) o.base_url = v;
    if ((v = cli_get(&a, "market"))) o.market = v;
    if ((v = cli_get(&a, "kind"))) o.kind = v;
    if ((v = cli_get(&a, "interval"))) o.interval = v;
    o.dry_run = cli_get(&a, "dry-run") != NULL;
    int64_t retries = 5;
    if ((v = cli_get(&a, "retries")) && !cli_parse_i64(v, 0, 100, &retries))
        return cli_usage_error(&sync_spec, "--retries wants 0..100, got '%s'", v);
    o.max_retries = (int)retries;
    if (!(v = cli_get(&a, "from")) || !parse_day(v, &o.from_day))
        return cli_usage_error(&sync_spec, "--from wants a UTC day YYYY-MM-DD%s%s",
                               v ? ", not " : "", v ? v : "");
    o.to_day = (int64_t)time(NULL) / 86400;
    if ((v = cli_get(&a, "to")) && !parse_day(v, &o.to_day))
        return cli_usage_error(&sync_spec, "--to wants a UTC day YYYY-MM-DD, not '%s'", v);
    if (o.to_day <= o.from_day) return cli_usage_error(&sync_spec, "--from must be before --to");
    if (!(v = cli_get(&a, "symbols")) || !*v)
        return cli_usage_error(&sync_spec, "--symbols A,B,... is required");
    char *copy = NULL;
    const char **symbols = NULL;
    o.num_symbols = cli_split_list(v, &copy, &symbols);
    o.symbols = symbols;
    o.log = log_line;
    dl_lake *lake = cli_lake_open(&a);
    if (!lake) {
        free(copy);
        free(symbols);
        return CLI_EXIT_ERROR;
    }
    dl_error err = {0};
    dl_sync_result r;
    double t0 = cli_now_seconds();
    int rc = dl_sync_binance_archive(lake, &o, &r, &err);
    double seconds = cli_now_seconds() - t0;
    dl_lake_close(lake);
    free(copy);
    free(symbols);
    if (rc != DL_OK) return cli_fail(&err);
    if (o.dry_run)
        printf("dry run: %" PRId64 " of %" PRId64 " archives to fetch (%" PRId64
               " already in the lake); nothing fetched\n",
               r.files_planned - r.files_skipped, r.files_planned, r.files_skipped);
    else
        print_result(&r, cli_get(&a, "json") != NULL, seconds);
    int exit_code = r.files_missing > 0 ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
    return cli_finish_stdout(exit_code);
}
