/*
** cmd_schema.c -- `dl schema FILE.parquet [--json]`: what a Parquet file
** holds.  Columns (logical type, physical type, Parquet logical type,
** nullability), rows and row groups, then per row group and column: codec,
** encodings, sizes, statistics formatted per the column's type, dictionary
** and page-index presence; finally created_by, format version and the
** key/value metadata (values cut to CLI_KV_SHOWN characters in text mode,
** complete in --json).
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_KV_SHOWN   80 /* characters of a metadata value shown as text */
#define CLI_STAT_SHOWN 32 /* characters of a min/max shown as text */

static const cli_option schema_options[] = {
    {"json", NULL, "print one JSON object instead of text (all values complete)"},
};

static const cli_spec schema_spec = {
    "schema",
    "FILE.parquet [--json]",
    "Describe a Parquet file: its columns and types, rows and row groups, and for\n"
    "every column chunk the codec, encodings, sizes, statistics (min, max, null\n"
    "count) and whether it has a dictionary and a page index; then created_by,\n"
    "the format version and the key/value metadata.\n",
    schema_options,
    1,
    1,
    1,
};

/* ---- a small aligned text grid for the text report ---- */

typedef struct text_grid {
    int num_cols;
    cli_buf text;
    size_t *ends; /* end of each cell in text */
    size_t num_cells, cap_cells;
    unsigned right_aligned; /* bit c: column c right-aligned */
} text_grid;

static void grid_cell(text_grid *g, const char *s, size_t len) {
    if (g->num_cells == g->cap_cells) {
        g->cap_cells = g->cap_cells ? 2 * g->cap_cells : 64;
        g->ends = cli_xrealloc(g->ends, g->cap_cells * sizeof *g->ends);
    }
    cli_buf_put(&g->text, s, len);
    g->ends[g->num_cells++] = g->text.len;
}

static void grid_str(text_grid *g, const char *s) {
    grid_cell(g, s, strlen(s));
}

static void grid_i64(text_grid *g, int64_t v) {
    char buf[24];
    grid_cell(g, buf, (size_t)cli_format_i64(v, buf));
}

static int utf8_width(const char *s, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void grid_print(text_grid *g, FILE *out) {
    int widths[32] = {0};
    int nc = g->num_cols < 32 ? g->num_cols : 32;
    for (size_t i = 0; i < g->num_cells; i++) {
        size_t start = i ? g->ends[i - 1] : 0;
        int w = utf8_width(g->text.data + start, g->ends[i] - start);
        if (w > widths[i % (size_t)nc]) widths[i % (size_t)nc] = w;
    }
    for (size_t i = 0; i < g->num_cells; i++) {
        int c = (int)(i % (size_t)nc);
        size_t start = i ? g->ends[i - 1] : 0, len = g->ends[i] - start;
        int pad = widths[c] - utf8_width(g->text.data + start, len);
        bool right = (g->right_aligned >> c) & 1, last = c == nc - 1;
        fputs("  ", out); /* indent, then the gap between columns */
        if (right) fprintf(out, "%*s", pad, "");
        fwrite(g->text.data + start, 1, len, out);
        if (!right && !last) fprintf(out, "%*s", pad, "");
        if (last) putc('\n', out);
    }
    cli_buf_free(&g->text);
    free(g->ends);
    memset(g, 0, sizeof *g);
}

/* ---- statistics ---- */

/* Statistics of a chunk; a reader that cannot decode them for this column
** type (DL_EUNSUPPORTED) yields "no statistics" rather than an error. */
static int chunk_stats(const dl_parquet_reader *r, int rg, int col, dl_stats *st, dl_error *err) {
    memset(st, 0, sizeof *st);
    int rc = dl_parquet_chunk_stats(r, rg, col, st, err);
    if (rc == DL_EUNSUPPORTED) {
        memset(st, 0, sizeof *st);
        dl_error_clear(err);
        return DL_OK;
    }
    return rc;
}

/* Appends a min/max value; clipped to `shown` characters when shown > 0. */
static void append_stat(cli_buf *b, const dl_field *f, const dl_value *v, cli_style style,
                        int shown) {
    size_t start = b->len;
    cli_append_value(b, f, v, style);
    if (shown <= 0) return;
    int chars = 0;
    for (size_t i = start; i < b->len; i++) {
        if (((unsigned char)b->data[i] & 0xC0) == 0x80) continue;
        if (++chars == shown) {
            b->len = i;
            cli_buf_puts(b, "\xE2\x80\xA6");
            return;
        }
    }
}

/* ---- text report ---- */

static int print_text(FILE *out, const char *path, const dl_parquet_reader *r, dl_error *err) {
    const dl_schema *schema = dl_parquet_schema(r);
    int num_rg = dl_parquet_num_row_groups(r);
    char buf[160];
    fprintf(out, "file            %s\n", path);
    fprintf(out, "created by      %s\n",
            dl_parquet_created_by(r)[0] ? dl_parquet_created_by(r) : "-");
    fprintf(out, "format version  %d\n", dl_parquet_format_version(r));
    cli_format_i64(dl_parquet_num_rows(r), buf);
    fprintf(out, "rows            %s\n", buf);
    fprintf(out, "row groups      %d\n", num_rg);

    fprintf(out, "\ncolumns (%d)\n", schema->num_fields);
    text_grid g = {.num_cols = 6, .right_aligned = 1};
    const char *head[] = {"#", "name", "type", "physical", "logical", "nullable"};
    for (int k = 0; k < 6; k++) grid_str(&g, head[k]);
    for (int c = 0; c < schema->num_fields; c++) {
        const dl_field *f = &schema->fields[c];
        dl_chunk_info info;
        memset(&info, 0, sizeof info);
        if (num_rg > 0) {
            int rc = dl_parquet_chunk_info(r, 0, c, &info, err);
            if (rc != DL_OK) {
                grid_print(&g, out);
                return rc;
            }
        }
        grid_i64(&g, c);
        grid_str(&g, f->name);
        cli_describe_type(f, buf, sizeof buf);
        grid_str(&g, buf);
        grid_str(&g, info.physical_type ? info.physical_type : "-");
        grid_str(&g, info.logical_type && info.logical_type[0] ? info.logical_type : "-");
        grid_str(&g, f->nullable ? "yes" : "no");
    }
    grid_print(&g, out);

    cli_buf cell = {0};
    int rc = DL_OK;
    for (int rg = 0; rg < num_rg && rc == DL_OK; rg++) {
        cli_format_i64(dl_parquet_row_group_rows(r, rg), buf);
        fprintf(out, "\nrow group %d: %s rows\n", rg, buf);
        g = (text_grid){.num_cols = 10, .right_aligned = (1u << 3) | (1u << 4) | (1u << 5)};
        const char *rg_head[] = {"column", "codec", "encodings", "compressed", "uncompressed",
                                 "nulls",  "min",   "max",       "dict",       "page index"};
        for (int k = 0; k < 10; k++) grid_str(&g, rg_head[k]);
        for (int c = 0; c < schema->num_fields && rc == DL_OK; c++) {
            const dl_field *f = &schema->fields[c];
            dl_chunk_info info;
            dl_stats st;
            rc = dl_parquet_chunk_info(r, rg, c, &info, err);
            if (rc == DL_OK) rc = chunk_stats(r, rg, c, &st, err);
            if (rc != DL_OK) break;
            grid_str(&g, f->name);
            grid_str(&g, info.codec_name ? info.codec_name : "?");
            grid_str(&g, info.encodings);
            grid_i64(&g, info.compressed_bytes);
            grid_i64(&g, info.uncompressed_bytes);
            if (st.has_null_count)
                grid_i64(&g, st.null_count);
            else
                grid_str(&g, "-");
            for (int k = 0; k < 2; k++) {
                cell.len = 0;
                if (st.has_min_max) {
                    dl_value v = k == 0 ? st.min : st.max;
                    v.present = true;
                    append_stat(&cell, f, &v, CLI_STYLE_DISPLAY, CLI_STAT_SHOWN);
                } else {
                    cli_buf_putc(&cell, '-');
                }
                grid_cell(&g, cell.data, cell.len);
            }
            grid_str(&g, info.has_dictionary ? "yes" : "no");
            grid_str(&g, info.has_page_index ? "yes" : "no");
        }
        grid_print(&g, out);
    }
    cli_buf_free(&cell);
    if (rc != DL_OK) return rc;

    int num_kv = dl_parquet_kv_count(r);
    fprintf(out, "\nkey/value metadata (%d)\n", num_kv);
    for (int i = 0; i < num_kv; i++) {
        const char *key = NULL, *value = NULL;
        dl_parquet_kv(r, i, &key, &value);
        fprintf(out, "  %s = ", key ? key : "");
        if (!value) {
            fputs("(no value)\n", out);
            continue;
        }
        size_t len = strlen(value);
        /* one line per pair: control characters (JSON blobs have newlines) shown escaped */
        dl_field as_text = {.type = DL_TYPE_STRING};
        dl_value v = {.present = true, .s = (const uint8_t *)value, .len = len};
        cli_buf shown = {0};
        append_stat(&shown, &as_text, &v, CLI_STYLE_DISPLAY, CLI_KV_SHOWN);
        fwrite(shown.data, 1, shown.len, out);
        if (utf8_width(value, len) >= CLI_KV_SHOWN) fprintf(out, " (%zu bytes)", len);
        putc('\n', out);
        cli_buf_free(&shown);
    }
    return DL_OK;
}

/* ---- JSON report ---- */

static void json_key(cli_buf *b, const char *key) {
    cli_append_json_string(b, (const uint8_t *)key, strlen(key));
    cli_buf_putc(b, ':');
}

static void json_str(cli_buf *b, const char *key, const char *value) {
    json_key(b, key);
    if (value)
        cli_append_json_string(b, (const uint8_t *)value, strlen(value));
    else
        cli_buf_puts(b, "null");
}

static void json_i64(cli_buf *b, const char *key, int64_t v) {
    char buf[24];
    json_key(b, key);
    cli_buf_put(b, buf, (size_t)cli_format_i64(v, buf));
}

static void json_bool(cli_buf *b, const char *key, bool v) {
    json_key(b, key);
    cli_buf_puts(b, v ? "true" : "false");
}

static int print_json(FILE *out, const char *path, const dl_parquet_reader *r, dl_error *err) {
    const dl_schema *schema = dl_parquet_schema(r);
    int num_rg = dl_parquet_num_row_groups(r);
    cli_buf b = {0};
    char buf[160];
    int rc = DL_OK;
    cli_buf_putc(&b, '{');
    json_str(&b, "file", path);
    cli_buf_putc(&b, ',');
    json_str(&b, "created_by", dl_parquet_created_by(r));
    cli_buf_putc(&b, ',');
    json_i64(&b, "format_version", dl_parquet_format_version(r));
    cli_buf_putc(&b, ',');
    json_i64(&b, "num_rows", dl_parquet_num_rows(r));
    cli_buf_putc(&b, ',');
    json_i64(&b, "num_row_groups", num_rg);
    cli_buf_puts(&b, ",\"columns\":[");
    for (int c = 0; c < schema->num_fields && rc == DL_OK; c++) {
        const dl_field *f = &schema->fields[c];
        dl_chunk_info info;
        memset(&info, 0, sizeof info);
        if (num_rg > 0) rc = dl_parquet_chunk_info(r, 0, c, &info, err);
        if (rc != DL_OK) break;
        if (c) cli_buf_putc(&b, ',');
        cli_buf_putc(&b, '{');
        json_str(&b, "name", f->name);
        cli_buf_putc(&b, ',');
        json_str(&b, "type", dl_type_name(f->type));
        cli_buf_putc(&b, ',');
        cli_describe_type(f, buf, sizeof buf);
        json_str(&b, "type_detail", buf);
        if (f->type == DL_TYPE_TIMESTAMP) {
            cli_buf_putc(&b, ',');
            json_str(&b, "unit", dl_unit_name(f->unit));
            cli_buf_putc(&b, ',');
            json_bool(&b, "utc", f->utc);
        }
        if (f->decimal_scale > 0) {
            cli_buf_putc(&b, ',');
            json_i64(&b, "decimal_precision", f->decimal_precision);
            cli_buf_putc(&b, ',');
            json_i64(&b, "decimal_scale", f->decimal_scale);
        }
        cli_buf_putc(&b, ',');
        json_bool(&b, "nullable", f->nullable);
        cli_buf_putc(&b, ',');
        json_str(&b, "physical_type", info.physical_type);
        cli_buf_putc(&b, ',');
        json_str(&b, "logical_type", info.logical_type);
        cli_buf_putc(&b, '}');
    }
    cli_buf_puts(&b, "],\"row_groups\":[");
    for (int rg = 0; rg < num_rg && rc == DL_OK; rg++) {
        if (rg) cli_buf_putc(&b, ',');
        cli_buf_putc(&b, '{');
        json_i64(&b, "num_rows", dl_parquet_row_group_rows(r, rg));
        cli_buf_puts(&b, ",\"columns\":[");
        for (int c = 0; c < schema->num_fields; c++) {
            const dl_field *f = &schema->fields[c];
            dl_chunk_info info;
            dl_stats st;
            rc = dl_parquet_chunk_info(r, rg, c, &info, err);
            if (rc == DL_OK) rc = chunk_stats(r, rg, c, &st, err);
            if (rc != DL_OK) break;
            if (c) cli_buf_putc(&b, ',');
            cli_buf_putc(&b, '{');
            json_str(&b, "name", f->name);
            cli_buf_putc(&b, ',');
            json_str(&b, "codec", info.codec_name);
            cli_buf_puts(&b, ",\"encodings\":[");
            /* "PLAIN,RLE" -> ["PLAIN","RLE"] */
            const char *e = info.encodings;
            for (bool first = true; *e;) {
                size_t n = strcspn(e, ",");
                if (n) {
                    if (!first) cli_buf_putc(&b, ',');
                    cli_append_json_string(&b, (const uint8_t *)e, n);
                    first = false;
                }
                e += n + (e[n] == ',');
            }
            cli_buf_putc(&b, ']');
            cli_buf_putc(&b, ',');
            json_i64(&b, "num_values", info.num_values);
            cli_buf_putc(&b, ',');
            json_i64(&b, "compressed_bytes", info.compressed_bytes);
            cli_buf_putc(&b, ',');
            json_i64(&b, "uncompressed_bytes", info.uncompressed_bytes);
            cli_buf_putc(&b, ',');
            json_bool(&b, "has_dictionary", info.has_dictionary);
            cli_buf_putc(&b, ',');
            json_bool(&b, "has_page_index", info.has_page_index);
            cli_buf_puts(&b, ",\"statistics\":{");
            json_key(&b, "null_count");
            if (st.has_null_count) {
                char nbuf[24];
                cli_buf_put(&b, nbuf, (size_t)cli_format_i64(st.null_count, nbuf));
            } else {
                cli_buf_puts(&b, "null");
            }
            for (int k = 0; k < 2; k++) {
                cli_buf_putc(&b, ',');
                json_key(&b, k == 0 ? "min" : "max");
                dl_value v = k == 0 ? st.min : st.max;
                v.present = st.has_min_max;
                append_stat(&b, f, &v, CLI_STYLE_JSON, 0);
            }
            cli_buf_puts(&b, "}}");
        }
        cli_buf_puts(&b, "]}");
    }
    if (rc == DL_OK) {
        cli_buf_puts(&b, "],\"key_value_metadata\":[");
        for (int i = 0; i < dl_parquet_kv_count(r); i++) {
            const char *key = NULL, *value = NULL;
            dl_parquet_kv(r, i, &key, &value);
            if (i) cli_buf_putc(&b, ',');
            cli_buf_putc(&b, '{');
            json_str(&b, "key", key ? key : "");
            cli_buf_putc(&b, ',');
            json_str(&b, "value", value);
            cli_buf_putc(&b, '}');
        }
        cli_buf_puts(&b, "]}\n");
        fwrite(b.data, 1, b.len, out);
    }
    cli_buf_free(&b);
    return rc;
}

int cli_print_schema(FILE *out, const char *path, const dl_parquet_reader *r, bool json,
                     dl_error *err) {
    return json ? print_json(out, path, r, err) : print_text(out, path, r, err);
}

int cli_cmd_schema(int argc, char **argv) {
    cli_args args;
    int rc = cli_parse(&schema_spec, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    const char *path = args.args[0];
    dl_error err = {0};
    dl_parquet_reader *r = NULL;
    if (dl_parquet_open(path, &r, &err) != DL_OK) return cli_fail(&err);
    rc = cli_print_schema(stdout, path, r, cli_get(&args, "json") != NULL, &err);
    dl_parquet_close(r);
    if (rc != DL_OK) return cli_fail(&err);
    return cli_finish_stdout(CLI_EXIT_OK);
}
