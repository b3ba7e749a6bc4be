/*
** cmd_join.c -- `dl join LEFT RIGHT [--on ts] [--tolerance D] [--from T]
** [--to T] [--columns a,b] [--format FMT] ...`: point-in-time as-of join
** of two datasets.  Each left row gets the latest right row whose key is
** <= its own (no look-ahead), optionally no older than the tolerance.
**
** The join itself is the library's (dl_join_*, src/query/dl_join.c, which
** the data server calls too); this file parses the options and hands the
** batches to the same result sinks as `dl query`.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lake.h"

static const cli_option join_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"on", "COLUMN", "join key, sorted on both sides (default ts)"},
    {"tolerance", "DURATION", "ignore right rows older than this (90s, 15m, 1h, 1d; 0 = exact)"},
    {"right-delay", "DURATION", "a right row is known this long after its key (klines: 1m)"},
    {"from", "TIME", "first left time included (YYYY-MM-DD[THH:MM:SS[.f]][Z], or epoch ms)"},
    {"to", "TIME", "end of the left range, excluded"},
    {"columns", "a,b,...", "output only these columns of the join, in this order"},
    CLI_SINK_OPTIONS,
    {"threads", "N", "decode threads per side (default: all cores)"},
};

/* --right-delay cap (the library's bound too). */
#define MAX_DELAY_US (INT64_C(366) * 86400 * 1000000)

static const cli_spec join_spec = {
    "join",
    "LEFT RIGHT [--on ts] [--tolerance D] [--from T] [--to T] [--columns a,b] [--format FMT]",
    "As-of join: every row of the LEFT dataset with the latest row of the RIGHT\n"
    "dataset whose key is <= the left key (point in time, no look-ahead), e.g.\n"
    "trades with the last known kline.  With --tolerance, right rows older than\n"
    "the left key minus the tolerance do not match.  Unmatched left rows keep\n"
    "null right columns.  Klines are stamped with their open time: join them with\n"
    "--right-delay PERIOD (e.g. 1m) so that a kline is only seen once it closed.\n"
    "Output columns: the left columns, then the right\n"
    "columns except the key, prefixed right_ when a name exists on the left.\n"
    "The table format shows the first 20 rows unless --limit or --tail is given.\n",
    join_options,
    (int)(sizeof join_options / sizeof join_options[0]),
    2,
    2,
};

int cli_cmd_join(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&join_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_error err = {0};
    int rc = DL_OK;
    const char *v;
    dl_join_spec spec;
    dl_join_spec_default(&spec);
    spec.left = a.args[0];
    spec.right = a.args[1];
    if ((v = cli_get(&a, "from")) && dl_parse_time_us(v, &spec.ts_from, &err) != DL_OK)
        return cli_usage_error(&join_spec, "--from: %s", err.message);
    if ((v = cli_get(&a, "to")) && dl_parse_time_us(v, &spec.ts_to, &err) != DL_OK)
        return cli_usage_error(&join_spec, "--to: %s", err.message);
    if ((v = cli_get(&a, "tolerance")) && strcmp(v, "0") != 0 &&
        !cli_parse_duration_us(v, &spec.tolerance_us))
        return cli_usage_error(&join_spec,
                               "--tolerance needs a duration like 90s, 15m, 1h, 1d; got '%s'", v);
    if (v && strcmp(v, "0") == 0) spec.tolerance_us = 0;
    if ((v = cli_get(&a, "right-delay")) &&
        (!cli_parse_duration_us(v, &spec.right_delay_us) || spec.right_delay_us > MAX_DELAY_US))
        return cli_usage_error(
            &join_spec, "--right-delay needs a duration up to 366d like 1m, 1h; got '%s'", v);
    int64_t threads = 0;
    if ((v = cli_get(&a, "threads")) && !cli_parse_i64(v, 1, 64, &threads))
        return cli_usage_error(&join_spec, "--threads wants 1..64, got '%s'", v);
    spec.threads = (int)threads;
    if (cli_get(&a, "on")) spec.on = cli_get(&a, "on");
    for (int i = 0; i < 2; i++)
        if (strpbrk(a.args[i], "*?["))
            return cli_usage_error(&join_spec,
                                   "'%s': join takes one dataset per side (no glob): each side "
                                   "must be sorted by the key",
                                   a.args[i]);
    cli_sink sink;
    if ((prc = cli_sink_parse(&sink, &a)) != CLI_CONTINUE) return prc;
    char *names_copy = NULL;
    const char **names = NULL;
    if ((v = cli_get(&a, "columns"))) {
        spec.num_columns = cli_split_list(v, &names_copy, &names);
        spec.columns = names;
    }

    dl_lake *lake = NULL;
    dl_join *j = NULL;
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    if (v && spec.num_columns == 0) {
        rc = dl_error_set(&err, DL_EINVAL, "--columns names no column");
        goto cleanup;
    }
    if ((rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err)) != DL_OK) goto cleanup;
    if ((rc = dl_join_open(lake, &spec, &j, &err)) != DL_OK) goto cleanup;
    const char *root = dl_lake_root(lake);
    dl_output_guard guard = {&root, 1, NULL, 0};
    if ((rc = cli_sink_open(&sink, dl_join_schema(j), &guard, &err)) != DL_OK) goto cleanup;
    if ((rc = dl_table_init(&batch, dl_join_schema(j), &err)) != DL_OK) goto cleanup;
    for (bool done = false; !done;) {
        if ((rc = dl_join_next(j, &batch, &err)) != DL_OK || batch.num_rows == 0) break;
        if ((rc = dl_sink_put(sink.sink, &batch, &done, &err)) != DL_OK) break;
    }

cleanup:
    rc = dl_sink_close(sink.sink, rc, &err);
    dl_table_free(&batch);
    dl_join_close(j);
    dl_lake_close(lake);
    free(names_copy);
    free(names);
    return cli_finish_stdout(rc == DL_OK ? CLI_EXIT_OK : cli_fail(&err));
}
