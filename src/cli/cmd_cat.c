/*
** cmd_cat.c -- `dl cat FILE.parquet [--columns a,b] [--limit N]
** [--format table|csv|jsonl]`: prints rows.  Row groups are streamed: each
** selected column of one row group is decoded (dl_parquet_read_column, or
** only the needed prefix with dl_parquet_read_column_range when --limit
** ends inside the group), printed, and its buffers reused for the next
** group, so memory is bounded by one row group of the selected columns.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_TABLE_DEFAULT_LIMIT 20

static const cli_option cat_options[] = {
    {"columns", "a,b,...", "print only these columns, in this order"},
    {"limit", "N", "print at most N rows (table default 20; csv/jsonl: all)"},
    {"format", "FMT", "table (default), csv or jsonl"},
    {"no-crc-check", NULL, "do not verify page CRC-32s (read a damaged file anyway)"},
};

static const cli_spec cat_spec = {
    "cat",
    "FILE.parquet [--columns a,b] [--limit N] [--format table|csv|jsonl]",
    "Print the rows of a Parquet file.\n"
    "\n"
    "  table  aligned columns with a header; numbers right-aligned; long cells cut\n"
    "  csv    RFC 4180 with a header line; null is an empty field, an empty string\n"
    "         is \"\"; NaN and infinities print as nan, inf, -inf\n"
    "  jsonl  one JSON object per row, keys in column order: integers exact,\n"
    "         floating point as the shortest decimal that reads back to the same\n"
    "         value, NaN/Inf as null, timestamps as ISO-8601 strings at the\n"
    "         column's precision (\"Z\" suffix when UTC), dates \"YYYY-MM-DD\",\n"
    "         strings JSON-escaped (invalid UTF-8 as \\ufffd), binary as base64\n"
    "         strings, decimals as exact decimal numbers, null as null\n",
    cat_options,
    (int)(sizeof cat_options / sizeof cat_options[0]),
    1,
    1,
};

int cli_stream_rows(const dl_parquet_reader *r, const int *columns, int num_columns, int64_t limit,
                    cli_row_writer *writer, dl_error *err) {
    const dl_schema *schema = dl_parquet_schema(r);
    dl_column *cols =
        cli_xrealloc(NULL, (size_t)(num_columns > 0 ? num_columns : 1) * sizeof *cols);
    for (int j = 0; j < num_columns; j++) {
        const dl_field *f = &schema->fields[columns[j]];
        dl_column_init(&cols[j], f->type, f->unit);
    }
    int rc = DL_OK;
    int64_t remaining = limit < 0 ? INT64_MAX : limit;
    int num_rg = dl_parquet_num_row_groups(r);
    for (int rg = 0; rg < num_rg && remaining > 0 && rc == DL_OK; rg++) {
        int64_t rows = dl_parquet_row_group_rows(r, rg);
        int64_t take = rows < remaining ? rows : remaining;
        for (int j = 0; j < num_columns && rc == DL_OK; j++) {
            dl_column_clear(&cols[j]);
            rc = take < rows
                     ? dl_parquet_read_column_range(r, rg, columns[j], 0, take, &cols[j], err)
                     : dl_parquet_read_column(r, rg, columns[j], &cols[j], err);
            if (rc == DL_OK && cols[j].length != take)
                rc = dl_error_set(err, DL_ECORRUPT,
                                  "row group %d column '%s': decoded %lld values, expected %lld",
                                  rg, schema->fields[columns[j]].name, (long long)cols[j].length,
                                  (long long)take);
        }
        if (rc != DL_OK) break;
        cli_row_writer_rows(writer, cols, 0, take);
        remaining -= take;
    }
    for (int j = 0; j < num_columns; j++) dl_column_free(&cols[j]);
    free(cols);
    return rc;
}

/* Resolves "--columns a,b" to file column indices; all columns when NULL. */
static int select_columns(const cli_spec *spec, const dl_schema *schema, const char *list,
                          int **out, int *count) {
    int *cols = cli_xrealloc(NULL, (size_t)(schema->num_fields + 1) * sizeof *cols);
    int n = 0;
    if (!list) {
        for (int c = 0; c < schema->num_fields; c++) cols[n++] = c;
    } else {
        size_t cap = 0;
        for (const char *p = list; *p; p++) cap += *p == ',';
        cols = cli_xrealloc(cols, (cap + 1) * sizeof *cols);
        for (const char *p = list;; p++) {
            size_t len = strcspn(p, ",");
            char name[256];
            if (len == 0 || len >= sizeof name) {
                free(cols);
                return cli_usage_error(spec, "--columns: empty or overlong column name in '%s'",
                                       list);
            }
            memcpy(name, p, len);
            name[len] = '\0';
            int c = dl_schema_find(schema, name);
            if (c < 0) {
                cli_buf avail = {0};
                for (int k = 0; k < schema->num_fields; k++)
                    cli_buf_printf(&avail, "%s%s", k ? ", " : "", schema->fields[k].name);
                cli_buf_putc(&avail, '\0');
                int rc = cli_failf("no column '%s' in the file; available columns: %s", name,
                                   avail.data);
                cli_buf_free(&avail);
                free(cols);
                return rc;
            }
            cols[n++] = c;
            p += len;
            if (*p == '\0') break;
        }
    }
    *out = cols;
    *count = n;
    return CLI_CONTINUE;
}

int cli_cmd_cat(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&cat_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    cli_format format = CLI_FORMAT_TABLE;
    const char *format_name = cli_get(&args, "format");
    if (format_name && !cli_format_parse(format_name, &format))
        return cli_usage_error(&cat_spec, "--format must be table, csv or jsonl, not '%s'",
                               format_name);
    int64_t limit = format == CLI_FORMAT_TABLE ? CLI_TABLE_DEFAULT_LIMIT : -1;
    const char *limit_text = cli_get(&args, "limit");
    if (limit_text && !cli_parse_i64(limit_text, 0, INT64_MAX, &limit))
        return cli_usage_error(&cat_spec, "--limit must be a whole number >= 0, not '%s'",
                               limit_text);

    const char *path = args.args[0];
    dl_error err = {0};
    dl_parquet_reader *r = NULL;
    if (dl_parquet_open(path, &r, &err) != DL_OK) return cli_fail(&err);
    dl_parquet_set_check_crc(r, !cli_get(&args, "no-crc-check"));
    const dl_schema *schema = dl_parquet_schema(r);
    int *columns = NULL, num_columns = 0;
    rc = select_columns(&cat_spec, schema, cli_get(&args, "columns"), &columns, &num_columns);
    if (rc != CLI_CONTINUE) {
        dl_parquet_close(r);
        return rc;
    }
    dl_field *fields = cli_xrealloc(NULL, (size_t)(num_columns + 1) * sizeof *fields);
    for (int j = 0; j < num_columns; j++) fields[j] = schema->fields[columns[j]];
    cli_row_writer *w = cli_row_writer_new(format, fields, num_columns, stdout);
    int status = cli_stream_rows(r, columns, num_columns, limit, w, &err);
    cli_row_writer_finish(w);
    if (status == DL_OK && format == CLI_FORMAT_TABLE) {
        int64_t total = dl_parquet_num_rows(r);
        if (limit < total)
            printf("(%lld of %lld rows; --limit N to see more)\n", (long long)limit,
                   (long long)total);
    }
    dl_parquet_close(r);
    free(fields);
    free(columns);
    if (status != DL_OK) return cli_fail(&err);
    return cli_finish_stdout(CLI_EXIT_OK);
}
