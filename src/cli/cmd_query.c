/*
** cmd_query.c -- `dl query DATASET... [--from T] [--to T] [--columns a,b]
** [--where EXPR] [--format table|csv|jsonl|parquet|arrow] [--output FILE]
** [--limit N] [--tail N] [--threads N] [--as-of-version N] [--as-of T]
** [--stats]`: runs a dl_query and streams its batches to a writer.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lake.h"

static const cli_option query_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"from", "TIME", "first time included (YYYY-MM-DD[THH:MM:SS[.f]][Z], or epoch ms)"},
    {"to", "TIME", "end of the range, excluded"},
    {"columns", "a,b,...", "output only these columns, in this order"},
    {"where", "EXPR", "filter, e.g. \"close > 50000 and volume > 0\""},
    CLI_SINK_OPTIONS,
    {"threads", "N", "decode threads (default: all cores)"},
    {"read-ahead-mb", "N", "decoded rows held ahead of the output, in MiB (default 256)"},
    {"as-of-version", "N", "read the dataset as it was at version N (one dataset)"},
    {"as-of", "TIME", "read each dataset as it was at TIME"},
    {"symbol", NULL, "add a symbol column even for one dataset"},
    {"stats", NULL, "print pruning statistics to stderr"},
    {"no-crc-check", NULL, "do not verify page CRC-32s (read damaged files anyway)"},
};

static const cli_spec query_spec = {
    "query",
    "DATASET... [--from T] [--to T] [--columns a,b] [--where EXPR] [--format FMT] [--output FILE]",
    "Query one or more datasets of the lake.  DATASET is a name below the root\n"
    "such as BINANCE/SPOT/BTCUSDT/raw/1m; a component may be a glob\n"
    "(BINANCE/SPOT/*/raw/1m).  With several datasets a `symbol` column comes first.\n"
    "\n"
    "The catalog selects the day files of the time range, Parquet statistics skip\n"
    "row groups the filter excludes, the ts page index skips pages outside the\n"
    "range, and only the needed columns are decoded.  Rows come in dataset order,\n"
    "then time order.  The table format shows the first 20 rows unless --limit or\n"
    "--tail is given; other formats write every row.\n",
    query_options,
    (int)(sizeof query_options / sizeof query_options[0]),
    1,
    CLI_MAX_ARGS,
};

int cli_cmd_query(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&query_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_error err = {0};
    int rc = DL_OK, exit_code = CLI_EXIT_OK;
    dl_lake *lake = NULL;
    dl_query *q = NULL;
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    char *cols_copy = NULL;
    const char **cols = NULL;
    cli_sink sink;

    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = a.args;
    spec.num_datasets = a.num_args;
    const char *v;
    if ((v = cli_get(&a, "from")) && dl_parse_time_us(v, &spec.ts_from, &err) != DL_OK)
        return cli_usage_error(&query_spec, "--from: %s", err.message);
    if ((v = cli_get(&a, "to")) && dl_parse_time_us(v, &spec.ts_to, &err) != DL_OK)
        return cli_usage_error(&query_spec, "--to: %s", err.message);
    if ((v = cli_get(&a, "as-of")) && dl_parse_time_us(v, &spec.as_of_time, &err) != DL_OK)
        return cli_usage_error(&query_spec, "--as-of: %s", err.message);
    if ((v = cli_get(&a, "as-of-version")) && !cli_parse_i64(v, 1, INT64_MAX, &spec.as_of_version))
        return cli_usage_error(&query_spec, "--as-of-version wants a version number >= 1, got '%s'",
                               v);
    if (cli_get(&a, "as-of") && spec.as_of_version)
        return cli_usage_error(&query_spec, "give --as-of-version or --as-of, not both");
    if (spec.ts_from > spec.ts_to)
        return cli_usage_error(&query_spec, "--from is after --to: the range is empty");
    int64_t threads = 0;
    if ((v = cli_get(&a, "threads")) && !cli_parse_i64(v, 1, 64, &threads))
        return cli_usage_error(&query_spec, "--threads wants 1..64, got '%s'", v);
    spec.threads = (int)threads;
    int64_t ahead_mb = 0;
    if ((v = cli_get(&a, "read-ahead-mb")) && !cli_parse_i64(v, 1, 1 << 20, &ahead_mb))
        return cli_usage_error(&query_spec, "--read-ahead-mb wants 1..1048576, got '%s'", v);
    spec.max_buffer_bytes = ahead_mb << 20;
    if ((prc = cli_sink_parse(&sink, &a)) != CLI_CONTINUE) return prc;
    spec.filter = cli_get(&a, "where");
    if (cli_get(&a, "symbol")) spec.symbol_column = 1;
    spec.skip_page_crc = cli_get(&a, "no-crc-check") != NULL;
    if ((v = cli_get(&a, "columns"))) {
        spec.num_columns = cli_split_list(v, &cols_copy, &cols);
        spec.columns = cols;
    }

    rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    if (rc != DL_OK) goto cleanup;
    rc = dl_query_open(lake, &spec, &q, &err);
    if (rc != DL_OK) goto cleanup;
    const dl_schema *schema = dl_query_schema(q);
    const char *root = dl_lake_root(lake);
    dl_output_guard guard = {&root, 1, NULL, 0};
    if ((rc = cli_sink_open(&sink, schema, &guard, &err)) != DL_OK) goto cleanup;
    if ((rc = dl_table_init(&batch, schema, &err)) != DL_OK) goto cleanup;
    for (bool done = false; !done;) {
        rc = dl_query_next(q, &batch, &err);
        if (rc != DL_OK || batch.num_rows == 0) break;
        if ((rc = dl_sink_put(sink.sink, &batch, &done, &err)) != DL_OK) break;
    }
    if (rc == DL_OK && cli_get(&a, "stats")) {
        dl_query_stats st;
        dl_query_get_stats(q, &st);
        fprintf(stderr,
                "query: %lld datasets, %lld files, %lld row groups (%lld pruned), %lld rows in "
                "pruned pages, %lld rows decoded, %lld rows returned\n",
                (long long)st.datasets, (long long)st.files, (long long)st.row_groups,
                (long long)st.row_groups_pruned, (long long)st.rows_page_pruned,
                (long long)st.rows_scanned, (long long)st.rows_returned);
    }
cleanup:
    rc = dl_sink_close(sink.sink, rc, &err);
    dl_table_free(&batch);
    dl_query_close(q);
    dl_lake_close(lake);
    free(cols_copy);
    free(cols);
    if (rc != DL_OK) exit_code = cli_fail(&err);
    return cli_finish_stdout(exit_code);
}
