/*
** cli_sink.c -- the --format / --output / --limit / --tail options of the
** commands that print result rows (`dl query`, `dl join`), turned into a
** library result sink (dl_sink.c) on stdout or on the output file.  The
** library refuses an output inside the lake or onto an input.
*/
#include <string.h>

#include "cli.h"

/* Default row count of the table format when neither --limit nor --tail is given. */
#define TABLE_DEFAULT_ROWS 20

int cli_sink_parse(cli_sink *s, const cli_args *a) {
    const cli_spec *spec = a->spec;
    memset(s, 0, sizeof *s);
    dl_sink_options_default(&s->opts);
    const char *v;
    if ((v = cli_get(a, "limit")) && !cli_parse_i64(v, 0, INT64_MAX, &s->opts.limit))
        return cli_usage_error(spec, "--limit wants a row count, got '%s'", v);
    if ((v = cli_get(a, "tail")) && !cli_parse_i64(v, 0, 100000000, &s->opts.tail))
        return cli_usage_error(spec, "--tail wants a row count, got '%s'", v);
    if (s->opts.limit >= 0 && s->opts.tail >= 0)
        return cli_usage_error(spec, "--limit and --tail exclude each other");
    const char *fmt = cli_get(a, "format") ? cli_get(a, "format") : "table";
    if (dl_sink_format_parse(fmt, &s->opts.format, NULL) != DL_OK)
        return cli_usage_error(spec, "unknown --format '%s' (table, csv, jsonl, parquet, arrow)",
                               fmt);
    s->output = cli_get(a, "output");
    if (s->opts.format == DL_SINK_PARQUET && !s->output)
        return cli_usage_error(spec, "--format parquet needs --output FILE");
    if (s->opts.format == DL_SINK_TABLE && s->opts.limit < 0 && s->opts.tail < 0)
        s->opts.limit = TABLE_DEFAULT_ROWS;
    return CLI_CONTINUE;
}

int cli_sink_open(cli_sink *s, const dl_schema *schema, const dl_output_guard *guard,
                  dl_error *err) {
    if (s->output) return dl_sink_open_file(s->output, guard, schema, &s->opts, &s->sink, err);
    return dl_sink_open(schema, &s->opts, dl_write_to_file, stdout, &s->sink, err);
}
