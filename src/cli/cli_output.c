/*
** cli_output.c -- the row writers behind `dl cat --format table|csv|jsonl`
** (and `dl demo`).  Rows arrive column-wise, one batch per row group; each
** writer renders them row by row into one growing buffer and hands large
** chunks to stdio, so output cost is formatting, not per-value I/O calls.
**
**   table  aligned columns under a header, numbers right-aligned, cells
**          longer than CLI_TABLE_CELL_MAX characters cut with "...".  Rows
**          are aligned in blocks of CLI_TABLE_BLOCK_ROWS so memory stays
**          bounded for any --limit (column widths only grow between blocks).
**   csv    RFC 4180: header line, fields quoted when they hold , " CR or LF
**          (and an empty string is "" so that it differs from null, which is
**          an empty field), CRLF-free "\n" line ends.
**   jsonl  one JSON object per row, keys in column order (values per
**          cli_append_value's JSON style).
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_TABLE_CELL_MAX   40   /* characters shown of one cell */
#define CLI_TABLE_BLOCK_ROWS 1024 /* rows aligned together */
#define CLI_FLUSH_BYTES      (1 << 16)

struct cli_row_writer {
    cli_format format;
    const dl_field *fields;
    int num_fields;
    FILE *out;
    cli_buf text;     /* pending output (csv, jsonl) or cell texts (table) */
    cli_buf scratch;  /* one csv cell before quoting */
    char **json_keys; /* jsonl: "\"name\":" per field */
    /* table */
    size_t *cell_end; /* end offset in text of each buffered cell */
    int64_t rows;     /* buffered rows */
    int *widths;      /* display width per column */
    bool header_done;
};

bool cli_format_parse(const char *name, cli_format *out) {
    if (strcmp(name, "table") == 0)
        *out = CLI_FORMAT_TABLE;
    else if (strcmp(name, "csv") == 0)
        *out = CLI_FORMAT_CSV;
    else if (strcmp(name, "jsonl") == 0)
        *out = CLI_FORMAT_JSONL;
    else
        return false;
    return true;
}

static void flush_text(cli_row_writer *w) {
    if (w->text.len) fwrite(w->text.data, 1, w->text.len, w->out);
    w->text.len = 0;
}

/* ---- csv ---- */

/* Appends one field; only text fields can need quotes (numbers, dates and
** base64 never hold , " CR or LF), so only they are scanned. */
static void append_csv_field(cli_buf *b, const char *s, size_t len, bool is_text) {
    bool quote = false;
    if (is_text) {
        quote = len == 0; /* "" is an empty string; an empty field is null */
        for (size_t i = 0; i < len && !quote; i++)
            quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    }
    if (!quote) {
        cli_buf_put(b, s, len);
        return;
    }
    cli_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') cli_buf_putc(b, '"');
        cli_buf_putc(b, s[i]);
    }
    cli_buf_putc(b, '"');
}

static void csv_rows(cli_row_writer *w, const dl_column *cols, int64_t from, int64_t count) {
    for (int64_t r = from; r < from + count; r++) {
        for (int c = 0; c < w->num_fields; c++) {
            if (c) cli_buf_putc(&w->text, ',');
            dl_value v;
            cli_column_value(&w->fields[c], &cols[c], r, &v);
            if (!v.present) continue;
            w->scratch.len = 0;
            cli_append_value(&w->scratch, &w->fields[c], &v, CLI_STYLE_RAW);
            bool is_text =
                w->fields[c].type == DL_TYPE_STRING || w->fields[c].type == DL_TYPE_BINARY;
            append_csv_field(&w->text, w->scratch.data, w->scratch.len, is_text);
        }
        cli_buf_putc(&w->text, '\n');
        if (w->text.len >= CLI_FLUSH_BYTES) flush_text(w);
    }
}

/* ---- jsonl ---- */

static void jsonl_rows(cli_row_writer *w, const dl_column *cols, int64_t from, int64_t count) {
    for (int64_t r = from; r < from + count; r++) {
        cli_buf_putc(&w->text, '{');
        for (int c = 0; c < w->num_fields; c++) {
            if (c) cli_buf_putc(&w->text, ',');
            cli_buf_puts(&w->text, w->json_keys[c]);
            dl_value v;
            cli_column_value(&w->fields[c], &cols[c], r, &v);
            cli_append_value(&w->text, &w->fields[c], &v, CLI_STYLE_JSON);
        }
        cli_buf_put(&w->text, "}\n", 2);
        if (w->text.len >= CLI_FLUSH_BYTES) flush_text(w);
    }
}

/* ---- table ---- */

/* Display width: UTF-8 code points (continuation bytes do not count). */
static int display_width(const char *s, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Cuts the cell that starts at `start` to CLI_TABLE_CELL_MAX characters. */
static void clip_cell(cli_buf *b, size_t start) {
    int chars = 0;
    for (size_t i = start; i < b->len; i++) {
        if (((unsigned char)b->data[i] & 0xC0) == 0x80) continue;
        if (++chars == CLI_TABLE_CELL_MAX) { /* keep CELL_MAX-1 chars + "..." */
            b->len = i;
            cli_buf_puts(b, "\xE2\x80\xA6"); /* U+2026 HORIZONTAL ELLIPSIS */
            return;
        }
    }
}

static void put_padded(FILE *out, const char *s, size_t len, int width, bool right, bool last) {
    int pad = width - display_width(s, len);
    if (right)
        for (int i = 0; i < pad; i++) putc_unlocked(' ', out);
    fwrite(s, 1, len, out);
    if (!right && !last)
        for (int i = 0; i < pad; i++) putc_unlocked(' ', out);
}

static void table_flush(cli_row_writer *w) {
    int nf = w->num_fields;
    for (int c = 0; c < nf; c++) {
        int hw = display_width(w->fields[c].name, strlen(w->fields[c].name));
        if (hw > w->widths[c]) w->widths[c] = hw;
    }
    for (int64_t r = 0; r < w->rows; r++)
        for (int c = 0; c < nf; c++) {
            size_t i = (size_t)(r * nf + c);
            size_t start = i ? w->cell_end[i - 1] : 0;
            int cw = display_width(w->text.data + start, w->cell_end[i] - start);
            if (cw > w->widths[c]) w->widths[c] = cw;
        }
    if (!w->header_done) {
        for (int c = 0; c < nf; c++) {
            if (c) fputs("  ", w->out);
            put_padded(w->out, w->fields[c].name, strlen(w->fields[c].name), w->widths[c],
                       cli_type_is_numeric(w->fields[c].type), c == nf - 1);
        }
        putc_unlocked('\n', w->out);
        for (int c = 0; c < nf; c++) {
            if (c) fputs("  ", w->out);
            for (int k = 0; k < w->widths[c]; k++) putc_unlocked('-', w->out);
        }
        putc_unlocked('\n', w->out);
        w->header_done = true;
    }
    for (int64_t r = 0; r < w->rows; r++) {
        for (int c = 0; c < nf; c++) {
            size_t i = (size_t)(r * nf + c);
            size_t start = i ? w->cell_end[i - 1] : 0;
            if (c) fputs("  ", w->out);
            put_padded(w->out, w->text.data + start, w->cell_end[i] - start, w->widths[c],
                       cli_type_is_numeric(w->fields[c].type), c == nf - 1);
        }
        putc_unlocked('\n', w->out);
    }
    w->rows = 0;
    w->text.len = 0;
}

static void table_rows(cli_row_writer *w, const dl_column *cols, int64_t from, int64_t count) {
    for (int64_t r = from; r < from + count; r++) {
        for (int c = 0; c < w->num_fields; c++) {
            size_t start = w->text.len;
            dl_value v;
            cli_column_value(&w->fields[c], &cols[c], r, &v);
            cli_append_value(&w->text, &w->fields[c], &v, CLI_STYLE_DISPLAY);
            clip_cell(&w->text, start);
            w->cell_end[w->rows * w->num_fields + c] = w->text.len;
        }
        if (++w->rows == CLI_TABLE_BLOCK_ROWS) table_flush(w);
    }
}

/* ---- the writer ---- */

cli_row_writer *cli_row_writer_new(cli_format format, const dl_field *fields, int num_fields,
                                   FILE *out) {
    cli_row_writer *w = cli_xrealloc(NULL, sizeof *w);
    memset(w, 0, sizeof *w);
    w->format = format;
    w->fields = fields;
    w->num_fields = num_fields;
    w->out = out;
    size_t n = num_fields > 0 ? (size_t)num_fields : 1;
    if (format == CLI_FORMAT_TABLE) {
        w->cell_end = cli_xrealloc(NULL, n * CLI_TABLE_BLOCK_ROWS * sizeof *w->cell_end);
        w->widths = cli_xrealloc(NULL, n * sizeof *w->widths);
        memset(w->widths, 0, n * sizeof *w->widths);
    } else if (format == CLI_FORMAT_JSONL) {
        w->json_keys = cli_xrealloc(NULL, n * sizeof *w->json_keys);
        for (int c = 0; c < num_fields; c++) {
            cli_buf key = {0};
            cli_append_json_string(&key, (const uint8_t *)fields[c].name, strlen(fields[c].name));
            cli_buf_put(&key, ":", 2); /* with the NUL */
            w->json_keys[c] = key.data;
        }
    } else {
        for (int c = 0; c < num_fields; c++) {
            if (c) cli_buf_putc(&w->text, ',');
            append_csv_field(&w->text, fields[c].name, strlen(fields[c].name), true);
        }
        cli_buf_putc(&w->text, '\n');
    }
    return w;
}

void cli_row_writer_rows(cli_row_writer *w, const dl_column *cols, int64_t from, int64_t count) {
    if (w->format == CLI_FORMAT_TABLE)
        table_rows(w, cols, from, count);
    else if (w->format == CLI_FORMAT_CSV)
        csv_rows(w, cols, from, count);
    else
        jsonl_rows(w, cols, from, count);
}

void cli_row_writer_finish(cli_row_writer *w) {
    if (!w) return;
    if (w->format == CLI_FORMAT_TABLE)
        table_flush(w);
    else
        flush_text(w);
    if (w->json_keys)
        for (int c = 0; c < w->num_fields; c++) free(w->json_keys[c]);
    free(w->json_keys);
    free(w->cell_end);
    free(w->widths);
    cli_buf_free(&w->text);
    cli_buf_free(&w->scratch);
    free(w);
}
