/*
** cli_sink.c -- where the result rows of `dl query` and `dl join` go: the
** --format / --output / --limit / --tail options, the writers behind them
** (table / csv / jsonl row writers, Parquet, Arrow IPC stream) and the
** head/tail bookkeeping, so that every command producing a table of
** results behaves the same.
*/
#include <errno.h>
#include <string.h>

#include "cli.h"

/* Default row count of the table format when neither --limit nor --tail is given. */
#define TABLE_DEFAULT_ROWS 20

int cli_sink_parse(cli_sink *s, const cli_args *a) {
    const cli_spec *spec = a->spec;
    memset(s, 0, sizeof *s);
    s->limit = -1;
    s->tail = -1;
    s->file = stdout;
    const char *v;
    if ((v = cli_get(a, "limit")) && !cli_parse_i64(v, 0, INT64_MAX, &s->limit))
        return cli_usage_error(spec, "--limit wants a row count, got '%s'", v);
    if ((v = cli_get(a, "tail")) && !cli_parse_i64(v, 0, 100000000, &s->tail))
        return cli_usage_error(spec, "--tail wants a row count, got '%s'", v);
    if (s->limit >= 0 && s->tail >= 0)
        return cli_usage_error(spec, "--limit and --tail exclude each other");
    const char *fmt = cli_get(a, "format") ? cli_get(a, "format") : "table";
    s->row_format = CLI_FORMAT_TABLE;
    if (strcmp(fmt, "parquet") == 0)
        s->kind = CLI_SINK_PARQUET;
    else if (strcmp(fmt, "arrow") == 0)
        s->kind = CLI_SINK_ARROW;
    else if (cli_format_parse(fmt, &s->row_format))
        s->kind = CLI_SINK_ROWS;
    else
        return cli_usage_error(spec, "unknown --format '%s' (table, csv, jsonl, parquet, arrow)",
                               fmt);
    s->output = cli_get(a, "output");
    if (s->kind == CLI_SINK_PARQUET && !s->output)
        return cli_usage_error(spec, "--format parquet needs --output FILE");
    if (s->kind == CLI_SINK_ROWS && s->row_format == CLI_FORMAT_TABLE && s->limit < 0 &&
        s->tail < 0)
        s->limit = TABLE_DEFAULT_ROWS;
    return CLI_CONTINUE;
}

int cli_sink_open(cli_sink *s, const dl_schema *schema, dl_error *err) {
    int rc = DL_OK;
    if (s->output && s->kind != CLI_SINK_PARQUET) {
        s->file = fopen(s->output, "wb");
        if (!s->file) {
            s->file = stdout;
            return dl_error_set(err, DL_EIO, "%s: %s", s->output, strerror(errno));
        }
    }
    if (s->kind == CLI_SINK_ROWS)
        s->rows = cli_row_writer_new(s->row_format, schema->fields, schema->num_fields, s->file);
    else if (s->kind == CLI_SINK_PARQUET)
        rc = dl_parquet_writer_open(s->output, schema, NULL, &s->parquet, err);
    else
        rc = dl_ipc_writer_open(schema, dl_write_to_file, s->file, &s->ipc, err);
    if (rc == DL_OK && s->tail >= 0) {
        rc = dl_table_init(&s->tail_rows, schema, err);
        s->has_tail_rows = rc == DL_OK;
    }
    return rc;
}

/* Writes rows [from, from + count) of t. */
static int sink_write(cli_sink *s, const dl_table *t, int64_t from, int64_t count, dl_error *err) {
    if (count <= 0) return DL_OK;
    if (s->kind == CLI_SINK_ROWS) {
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
    int rc = s->kind == CLI_SINK_PARQUET ? dl_parquet_writer_write(s->parquet, src, err)
                                         : dl_ipc_writer_write(s->ipc, src, err);
    if (sliced) dl_table_free(&slice);
    return rc;
}

/* Keeps the last `keep` rows of the appended batches. */
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

int cli_sink_put(cli_sink *s, const dl_table *batch, bool *done, dl_error *err) {
    *done = false;
    if (s->tail >= 0) return tail_append(&s->tail_rows, batch, s->tail, err);
    int64_t take = batch->num_rows;
    if (s->limit >= 0 && take > s->limit - s->written) take = s->limit - s->written;
    int rc = sink_write(s, batch, 0, take, err);
    s->written += take;
    *done = s->limit >= 0 && s->written >= s->limit;
    return rc;
}

int cli_sink_close(cli_sink *s, int rc, dl_error *err) {
    if (rc == DL_OK && s->has_tail_rows) {
        dl_table *t = &s->tail_rows;
        int64_t from = t->num_rows > s->tail ? t->num_rows - s->tail : 0;
        rc = sink_write(s, t, from, t->num_rows - from, err);
        s->written += t->num_rows - from;
    }
    if (s->rows) cli_row_writer_finish(s->rows);
    s->rows = NULL;
    if (s->parquet) {
        if (rc == DL_OK)
            rc = dl_parquet_writer_close(s->parquet, false, err);
        else
            dl_parquet_writer_abort(s->parquet);
        s->parquet = NULL;
    }
    if (s->ipc) {
        if (rc == DL_OK)
            rc = dl_ipc_writer_close(s->ipc, err);
        else
            dl_ipc_writer_abort(s->ipc);
        s->ipc = NULL;
    }
    if (s->file && s->file != stdout && fclose(s->file) != 0 && rc == DL_OK)
        rc = dl_error_set(err, DL_EIO, "%s: %s", s->output, strerror(errno));
    s->file = NULL;
    if (s->has_tail_rows) dl_table_free(&s->tail_rows);
    s->has_tail_rows = false;
    return rc;
}
