/*
** cmd_query.c -- `dl query DATASET... [--from T] [--to T] [--columns a,b]
** [--where EXPR] [--format table|csv|jsonl|parquet|arrow] [--output FILE]
** [--limit N] [--tail N] [--threads N] [--as-of-version N] [--as-of T]
** [--stats]`: runs a dl_query and streams its batches to a writer.
*/
#include <errno.h>
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
    {"format", "FMT", "table (default), csv, jsonl, parquet or arrow (IPC stream)"},
    {"output", "FILE", "write to FILE instead of stdout (required for parquet)"},
    {"limit", "N", "at most N rows (the first N)"},
    {"tail", "N", "only the last N rows"},
    {"threads", "N", "decode threads (default: all cores)"},
    {"as-of-version", "N", "read the dataset as it was at version N (one dataset)"},
    {"as-of", "TIME", "read each dataset as it was at TIME"},
    {"symbol", NULL, "add a symbol column even for one dataset"},
    {"stats", NULL, "print pruning statistics to stderr"},
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

/* Splits "a,b,c" into a NULL-free array of pointers into a copy. */
static int split_columns(const char *text, char **copy, const char ***names) {
    *copy = cli_xrealloc(NULL, strlen(text) + 1);
    strcpy(*copy, text);
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    *names = cli_xrealloc(NULL, sizeof(char *) * (size_t)n);
    int k = 0;
    for (char *tok = strtok(*copy, ","); tok; tok = strtok(NULL, ",")) (*names)[k++] = tok;
    return k;
}

/* Where the batches go. */
typedef struct query_sink {
    int kind; /* 0 rows (table/csv/jsonl), 1 parquet, 2 arrow */
    cli_row_writer *rows;
    dl_parquet_writer *parquet;
    dl_ipc_writer *ipc;
    FILE *file;
} query_sink;

static int sink_write(query_sink *s, const dl_table *t, int64_t from, int64_t count, dl_error *err) {
    if (count <= 0) return DL_OK;
    if (s->kind == 0) {
        cli_row_writer_rows(s->rows, t->columns, from, count);
        return DL_OK;
    }
    const dl_table *src = t;
    dl_table slice;
    bool sliced = from != 0 || count != t->num_rows;
    if (sliced) {
        int rc = dl_table_init(&slice, &t->schema, err);
        for (int c = 0; c < t->schema.num_fields && rc == DL_OK; c++)
            rc = dl_column_append_range(&slice.columns[c], &t->columns[c], from, count, err);
        if (rc == DL_OK) rc = dl_table_seal(&slice, err);
        if (rc != DL_OK) {
            dl_table_free(&slice);
            return rc;
        }
        src = &slice;
    }
    int rc = s->kind == 1 ? dl_parquet_writer_write(s->parquet, src, err) : dl_ipc_writer_write(s->ipc, src, err);
    if (sliced) dl_table_free(&slice);
    return rc;
}

/* Keeps the last `keep` rows of appended batches. */
static int tail_append(dl_table *tail, const dl_table *b, int64_t keep, dl_error *err) {
    for (int c = 0; c < b->schema.num_fields; c++) {
        int rc = dl_column_append_range(&tail->columns[c], &b->columns[c], 0, b->num_rows, err);
        if (rc != DL_OK) return rc;
    }
    tail->num_rows += b->num_rows;
    if (tail->num_rows > 2 * keep + 65536) { /* compact: drop the oldest rows */
        dl_table fresh;
        int rc = dl_table_init(&fresh, &tail->schema, err);
        int64_t from = tail->num_rows - keep;
        for (int c = 0; c < tail->schema.num_fields && rc == DL_OK; c++)
            rc = dl_column_append_range(&fresh.columns[c], &tail->columns[c], from, keep, err);
        if (rc != DL_OK) {
            dl_table_free(&fresh);
            return rc;
        }
        fresh.num_rows = keep;
        dl_table_free(tail);
        *tail = fresh;
    }
    return DL_OK;
}

int cli_cmd_query(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&query_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_error err = {0};
    int rc = DL_OK, exit_code = CLI_EXIT_OK;
    dl_lake *lake = NULL;
    dl_query *q = NULL;
    dl_table batch, tail;
    memset(&batch, 0, sizeof batch);
    memset(&tail, 0, sizeof tail);
    char *cols_copy = NULL;
    const char **cols = NULL;
    query_sink sink = {0};
    sink.file = stdout;

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
        return cli_usage_error(&query_spec, "--as-of-version wants a version number >= 1, got '%s'", v);
    int64_t threads = 0, limit = -1, tail_n = -1;
    if ((v = cli_get(&a, "threads")) && !cli_parse_i64(v, 1, 64, &threads))
        return cli_usage_error(&query_spec, "--threads wants 1..64, got '%s'", v);
    spec.threads = (int)threads;
    if ((v = cli_get(&a, "limit")) && !cli_parse_i64(v, 0, INT64_MAX, &limit))
        return cli_usage_error(&query_spec, "--limit wants a row count, got '%s'", v);
    if ((v = cli_get(&a, "tail")) && !cli_parse_i64(v, 0, 100000000, &tail_n))
        return cli_usage_error(&query_spec, "--tail wants a row count, got '%s'", v);
    if (limit >= 0 && tail_n >= 0) return cli_usage_error(&query_spec, "--limit and --tail exclude each other");
    spec.filter = cli_get(&a, "where");
    if (cli_get(&a, "symbol")) spec.symbol_column = 1;
    if ((v = cli_get(&a, "columns"))) {
        spec.num_columns = split_columns(v, &cols_copy, &cols);
        spec.columns = cols;
    }
    const char *fmt = cli_get(&a, "format") ? cli_get(&a, "format") : "table";
    cli_format rowfmt = CLI_FORMAT_TABLE;
    if (strcmp(fmt, "parquet") == 0) sink.kind = 1;
    else if (strcmp(fmt, "arrow") == 0) sink.kind = 2;
    else if (!cli_format_parse(fmt, &rowfmt))
        return cli_usage_error(&query_spec, "unknown --format '%s' (table, csv, jsonl, parquet, arrow)", fmt);
    const char *output = cli_get(&a, "output");
    if (sink.kind == 1 && !output) return cli_usage_error(&query_spec, "--format parquet needs --output FILE");
    if (sink.kind == 0 && rowfmt == CLI_FORMAT_TABLE && limit < 0 && tail_n < 0) limit = 20;

    rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    if (rc != DL_OK) goto cleanup;
    rc = dl_query_open(lake, &spec, &q, &err);
    if (rc != DL_OK) goto cleanup;
    const dl_schema *schema = dl_query_schema(q);
    if (output && sink.kind != 1) {
        sink.file = fopen(output, "wb");
        if (!sink.file) {
            rc = dl_error_set(&err, DL_EIO, "%s: %s", output, strerror(errno));
            goto cleanup;
        }
    }
    if (sink.kind == 0) {
        sink.rows = cli_row_writer_new(rowfmt, schema->fields, schema->num_fields, sink.file);
    } else if (sink.kind == 1) {
        rc = dl_parquet_writer_open(output, schema, NULL, &sink.parquet, &err);
    } else {
        rc = dl_ipc_writer_open(schema, dl_write_to_file, sink.file, &sink.ipc, &err);
    }
    if (rc != DL_OK) goto cleanup;
    if ((rc = dl_table_init(&batch, schema, &err)) != DL_OK) goto cleanup;
    if (tail_n >= 0 && (rc = dl_table_init(&tail, schema, &err)) != DL_OK) goto cleanup;
    int64_t written = 0;
    for (;;) {
        rc = dl_query_next(q, &batch, &err);
        if (rc != DL_OK || batch.num_rows == 0) break;
        if (tail_n >= 0) {
            rc = tail_append(&tail, &batch, tail_n, &err);
        } else {
            int64_t take = batch.num_rows;
            if (limit >= 0 && take > limit - written) take = limit - written;
            rc = sink_write(&sink, &batch, 0, take, &err);
            written += take;
            if (limit >= 0 && written >= limit) break;
        }
        if (rc != DL_OK) break;
    }
    if (rc == DL_OK && tail_n >= 0) {
        int64_t from = tail.num_rows > tail_n ? tail.num_rows - tail_n : 0;
        rc = sink_write(&sink, &tail, from, tail.num_rows - from, &err);
    }
    if (rc == DL_OK && cli_get(&a, "stats")) {
        dl_query_stats st;
        dl_query_get_stats(q, &st);
        fprintf(stderr,
                "query: %lld datasets, %lld files, %lld row groups (%lld pruned), %lld rows decoded, "
                "%lld rows returned\n",
                (long long)st.datasets, (long long)st.files, (long long)st.row_groups,
                (long long)st.row_groups_pruned, (long long)st.rows_scanned, (long long)st.rows_returned);
    }
cleanup:
    if (sink.rows) cli_row_writer_finish(sink.rows);
    if (sink.parquet) {
        if (rc == DL_OK)
            rc = dl_parquet_writer_close(sink.parquet, false, &err);
        else
            dl_parquet_writer_abort(sink.parquet);
    }
    if (sink.ipc) {
        if (rc == DL_OK)
            rc = dl_ipc_writer_close(sink.ipc, &err);
        else
            dl_ipc_writer_abort(sink.ipc);
    }
    if (sink.file && sink.file != stdout && fclose(sink.file) != 0 && rc == DL_OK)
        rc = dl_error_set(&err, DL_EIO, "%s: %s", output, strerror(errno));
    dl_table_free(&batch);
    if (tail.columns) dl_table_free(&tail);
    dl_query_close(q);
    dl_lake_close(lake);
    free(cols_copy);
    free(cols);
    if (rc != DL_OK) exit_code = cli_fail(&err);
    return cli_finish_stdout(exit_code);
}
