/*
** cli_output.c -- the row writers behind `dl cat --format table|csv|jsonl`
** (and `dl demo`): a thin layer over the library's result sinks
** (dl_sink.c), which own the formats, so `dl cat`, `dl query` and the data
** server print the same bytes.  A write or allocation failure prints
** "dl: <message>" and exits 1, keeping the writer calls infallible.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_row_writer {
    dl_sink *sink;
    dl_schema schema; /* a view of the caller's fields (not owned) */
};

bool cli_format_parse(const char *name, cli_format *out) {
    dl_sink_format f;
    if (dl_sink_format_parse(name, &f, NULL) != DL_OK || f > DL_SINK_JSONL) return false;
    *out = (cli_format)f;
    return true;
}

static void fail_and_exit(const dl_error *err) {
    fflush(stdout);
    exit(cli_fail(err));
}

cli_row_writer *cli_row_writer_new(cli_format format, const dl_field *fields, int num_fields,
                                   FILE *out) {
    cli_row_writer *w = cli_xrealloc(NULL, sizeof *w);
    w->schema = (dl_schema){num_fields, (dl_field *)fields};
    dl_sink_options opts;
    dl_sink_options_default(&opts);
    opts.format = (dl_sink_format)format;
    dl_error err = {0};
    if (dl_sink_open(&w->schema, &opts, dl_write_to_file, out, &w->sink, &err) != DL_OK)
        fail_and_exit(&err);
    return w;
}

void cli_row_writer_rows(cli_row_writer *w, const dl_column *cols, int64_t from, int64_t count) {
    dl_table view = {w->schema, (dl_column *)cols, w->schema.num_fields ? cols[0].length : 0};
    dl_error err = {0};
    if (dl_sink_put_rows(w->sink, &view, from, count, NULL, &err) != DL_OK) fail_and_exit(&err);
}

void cli_row_writer_finish(cli_row_writer *w) {
    if (!w) return;
    dl_error err = {0};
    int rc = dl_sink_close(w->sink, DL_OK, &err);
    free(w);
    if (rc != DL_OK) fail_and_exit(&err);
}
