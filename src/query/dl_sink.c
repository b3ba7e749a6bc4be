/*
** dl_sink.c -- result sinks: where the rows of a query or a join go, in
** the formats `dl query`, `dl join`, `dl cat` and the data server write:
**
**   table  aligned columns under a header, numbers right-aligned, cells
**          longer than TABLE_CELL_MAX characters cut with an ellipsis; rows
**          are aligned in blocks of TABLE_BLOCK_ROWS so memory stays bounded
**          (column widths only grow between blocks);
**   csv    RFC 4180: header line, fields quoted when they hold , " CR or LF
**          (an empty string is "" so that it differs from null, an empty
**          field), "\n" line ends;
**   jsonl  one JSON object per row, keys in column order;
**   parquet  a Parquet file (needs a file: the footer is written last);
**   arrow  the Arrow IPC stream format.
** Text goes to a dl_write_fn in chunks of about FLUSH_BYTES, so a server
** streams it into an HTTP body and the CLI into stdout with the same bytes.
**
** --limit keeps the first N rows, --tail the last N (buffered: at most
** 2N + 65536 rows are held).  dl_sink_open_file refuses an output path that
** resolves inside a guarded root (the lake) or onto an input file, so no
** caller can overwrite the data it reads (issue: output inside the lake).
*/
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dl_fault.h"
#include "util/dl_internal.h"

#define TABLE_CELL_MAX   40   /* characters shown of one cell */
#define TABLE_BLOCK_ROWS 1024 /* rows aligned together */
#define FLUSH_BYTES      (1 << 16)
#define TAIL_SLACK_ROWS  65536 /* rows kept beyond 2 * tail before compacting */

struct dl_sink {
    dl_sink_options opts;
    dl_schema schema; /* a copy: the sink does not borrow the caller's */
    dl_write_fn write;
    void *ctx;
    int64_t written; /* rows handed to the writer */
    int failed;      /* a write failed: the output is unusable */
    /* file output */
    int fd;
    char *path;
    /* text formats */
    dl_text text;     /* pending output (csv, jsonl) or cell texts (table) */
    dl_text scratch;  /* one csv cell before quoting */
    char **json_keys; /* jsonl: "\"name\":" per field */
    size_t *cell_end; /* table: end offset in text of each buffered cell */
    int64_t rows;     /* table: buffered rows */
    int *widths;      /* table: display width per column */
    bool header_done;
    /* binary formats */
    dl_parquet_writer *parquet;
    dl_ipc_writer *ipc;
    /* --tail */
    dl_table tail_rows;
    bool has_tail_rows;
};

void dl_sink_options_default(dl_sink_options *opts) {
    DL_REQUIRE_OR_RETURN(opts, );
    memset(opts, 0, sizeof *opts);
    opts->format = DL_SINK_TABLE;
    opts->limit = -1;
    opts->tail = -1;
}

int dl_sink_format_parse(const char *name, dl_sink_format *out, dl_error *err) {
    static const char *const names[] = {"table", "csv", "jsonl", "parquet", "arrow"};
    for (int i = 0; name && i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (dl_sink_format)i;
            return DL_OK;
        }
    return dl_error_set(err, DL_EINVAL,
                        "unknown output format '%s' (table, csv, jsonl, parquet, arrow)",
                        name ? name : "");
}

static bool is_text_format(dl_sink_format f) {
    return f == DL_SINK_TABLE || f == DL_SINK_CSV || f == DL_SINK_JSONL;
}

/* ---- output ---- */

static int emit(dl_sink *s, const void *data, size_t len, dl_error *err) {
    if (len == 0) return DL_OK;
    if (s->failed) return dl_error_set(err, DL_EIO, "output: an earlier write failed");
    if (s->write(s->ctx, data, len) != 0) {
        s->failed = DL_EIO;
        return s->path ? dl_error_set(err, DL_EIO, "%s: write failed: %s", s->path, strerror(errno))
                       : dl_error_set(err, DL_EIO, "output: write of %zu bytes failed", len);
    }
    return DL_OK;
}

static int flush_text(dl_sink *s, dl_error *err) {
    if (s->text.status != DL_OK) return dl_error_set(err, DL_ENOMEM, "output: out of memory");
    int rc = emit(s, s->text.data, s->text.len, err);
    s->text.len = 0;
    return rc;
}

static int write_fd(void *ctx, const void *data, size_t len) {
    int fd = *(const int *)ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t n = dl_io_write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- csv ---- */

/* Appends one field; only text fields can need quotes (numbers, dates and
** base64 never hold , " CR or LF), so only they are scanned. */
static void append_csv_field(dl_text *b, const char *s, size_t len, bool is_text) {
    bool quote = false;
    if (is_text) {
        quote = len == 0; /* "" is an empty string; an empty field is null */
        for (size_t i = 0; i < len && !quote; i++)
            quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    }
    if (!quote) {
        dl_text_put(b, s, len);
        return;
    }
    dl_text_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') dl_text_putc(b, '"');
        dl_text_putc(b, s[i]);
    }
    dl_text_putc(b, '"');
}

static int csv_rows(dl_sink *s, const dl_column *cols, int64_t from, int64_t count, dl_error *err) {
    const dl_schema *sc = &s->schema;
    for (int64_t r = from; r < from + count; r++) {
        for (int c = 0; c < sc->num_fields; c++) {
            if (c) dl_text_putc(&s->text, ',');
            dl_value v;
            dl_column_value(&sc->fields[c], &cols[c], r, &v);
            if (!v.present) continue;
            s->scratch.len = 0;
            dl_text_value(&s->scratch, &sc->fields[c], &v, DL_TEXT_RAW);
            bool is_text =
                sc->fields[c].type == DL_TYPE_STRING || sc->fields[c].type == DL_TYPE_BINARY;
            append_csv_field(&s->text, s->scratch.data, s->scratch.len, is_text);
        }
        dl_text_putc(&s->text, '\n');
        if (s->text.len >= FLUSH_BYTES) {
            int rc = flush_text(s, err);
            if (rc != DL_OK) return rc;
        }
    }
    if (s->scratch.status != DL_OK) return dl_error_set(err, DL_ENOMEM, "output: out of memory");
    return DL_OK;
}

/* ---- jsonl ---- */

static int jsonl_rows(dl_sink *s, const dl_column *cols, int64_t from, int64_t count,
                      dl_error *err) {
    const dl_schema *sc = &s->schema;
    for (int64_t r = from; r < from + count; r++) {
        dl_text_putc(&s->text, '{');
        for (int c = 0; c < sc->num_fields; c++) {
            if (c) dl_text_putc(&s->text, ',');
            dl_text_puts(&s->text, s->json_keys[c]);
            dl_value v;
            dl_column_value(&sc->fields[c], &cols[c], r, &v);
            dl_text_value(&s->text, &sc->fields[c], &v, DL_TEXT_JSON);
        }
        dl_text_put(&s->text, "}\n", 2);
        if (s->text.len >= FLUSH_BYTES) {
            int rc = flush_text(s, err);
            if (rc != DL_OK) return rc;
        }
    }
    return DL_OK;
}

/* ---- table ---- */

/* Display width: UTF-8 code points (continuation bytes do not count). */
static int display_width(const char *s, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Cuts the cell that starts at `start` to TABLE_CELL_MAX characters. */
static void clip_cell(dl_text *b, size_t start) {
    int chars = 0;
    for (size_t i = start; i < b->len; i++) {
        if (((unsigned char)b->data[i] & 0xC0) == 0x80) continue;
        if (++chars == TABLE_CELL_MAX) { /* keep CELL_MAX-1 chars + "..." */
            b->len = i;
            dl_text_puts(b, "\xE2\x80\xA6"); /* U+2026 HORIZONTAL ELLIPSIS */
            return;
        }
    }
}

static void put_padded(dl_text *out, const char *s, size_t len, int width, bool right, bool last) {
    int pad = width - display_width(s, len);
    if (right)
        for (int i = 0; i < pad; i++) dl_text_putc(out, ' ');
    dl_text_put(out, s, len);
    if (!right && !last)
        for (int i = 0; i < pad; i++) dl_text_putc(out, ' ');
}

static size_t cell_start(const dl_sink *s, size_t i) {
    return i ? s->cell_end[i - 1] : 0;
}

/* Renders the buffered block (and the header before the first) into
** scratch, then writes it. */
static int table_flush(dl_sink *s, dl_error *err) {
    const dl_schema *sc = &s->schema;
    int nf = sc->num_fields;
    dl_text *out = &s->scratch;
    out->len = 0;
    for (int c = 0; c < nf; c++) {
        int hw = display_width(sc->fields[c].name, strlen(sc->fields[c].name));
        if (hw > s->widths[c]) s->widths[c] = hw;
    }
    for (int64_t r = 0; r < s->rows; r++)
        for (int c = 0; c < nf; c++) {
            size_t i = (size_t)(r * nf + c);
            int cw =
                display_width(s->text.data + cell_start(s, i), s->cell_end[i] - cell_start(s, i));
            if (cw > s->widths[c]) s->widths[c] = cw;
        }
    if (!s->header_done) {
        for (int c = 0; c < nf; c++) {
            if (c) dl_text_put(out, "  ", 2);
            put_padded(out, sc->fields[c].name, strlen(sc->fields[c].name), s->widths[c],
                       dl_type_is_numeric(sc->fields[c].type), c == nf - 1);
        }
        dl_text_putc(out, '\n');
        for (int c = 0; c < nf; c++) {
            if (c) dl_text_put(out, "  ", 2);
            for (int k = 0; k < s->widths[c]; k++) dl_text_putc(out, '-');
        }
        dl_text_putc(out, '\n');
        s->header_done = true;
    }
    for (int64_t r = 0; r < s->rows; r++) {
        for (int c = 0; c < nf; c++) {
            size_t i = (size_t)(r * nf + c);
            if (c) dl_text_put(out, "  ", 2);
            put_padded(out, s->text.data + cell_start(s, i), s->cell_end[i] - cell_start(s, i),
                       s->widths[c], dl_type_is_numeric(sc->fields[c].type), c == nf - 1);
        }
        dl_text_putc(out, '\n');
    }
    s->rows = 0;
    s->text.len = 0;
    if (out->status != DL_OK || s->text.status != DL_OK)
        return dl_error_set(err, DL_ENOMEM, "output: out of memory");
    int rc = emit(s, out->data, out->len, err);
    out->len = 0;
    return rc;
}

static int table_rows(dl_sink *s, const dl_column *cols, int64_t from, int64_t count,
                      dl_error *err) {
    const dl_schema *sc = &s->schema;
    for (int64_t r = from; r < from + count; r++) {
        for (int c = 0; c < sc->num_fields; c++) {
            size_t start = s->text.len;
            dl_value v;
            dl_column_value(&sc->fields[c], &cols[c], r, &v);
            dl_text_value(&s->text, &sc->fields[c], &v, DL_TEXT_DISPLAY);
            clip_cell(&s->text, start);
            s->cell_end[s->rows * sc->num_fields + c] = s->text.len;
        }
        if (++s->rows == TABLE_BLOCK_ROWS) {
            int rc = table_flush(s, err);
            if (rc != DL_OK) return rc;
        }
    }
    return DL_OK;
}

/* ---- opening ---- */

static int open_text(dl_sink *s, dl_error *err) {
    const dl_schema *sc = &s->schema;
    size_t n = sc->num_fields > 0 ? (size_t)sc->num_fields : 1;
    if (s->opts.format == DL_SINK_TABLE) {
        s->cell_end = malloc(n * TABLE_BLOCK_ROWS * sizeof *s->cell_end);
        s->widths = calloc(n, sizeof *s->widths);
        if (!s->cell_end || !s->widths)
            return dl_error_set(err, DL_ENOMEM, "output: out of memory");
    } else if (s->opts.format == DL_SINK_JSONL) {
        s->json_keys = calloc(n, sizeof *s->json_keys);
        if (!s->json_keys) return dl_error_set(err, DL_ENOMEM, "output: out of memory");
        for (int c = 0; c < sc->num_fields; c++) {
            dl_text key = {0};
            dl_text_json_string(&key, sc->fields[c].name, strlen(sc->fields[c].name));
            dl_text_put(&key, ":", 2); /* with the NUL */
            if (key.status != DL_OK) {
                dl_text_free(&key);
                return dl_error_set(err, DL_ENOMEM, "output: out of memory");
            }
            s->json_keys[c] = key.data;
        }
    } else { /* csv header */
        for (int c = 0; c < sc->num_fields; c++) {
            if (c) dl_text_putc(&s->text, ',');
            append_csv_field(&s->text, sc->fields[c].name, strlen(sc->fields[c].name), true);
        }
        dl_text_putc(&s->text, '\n');
    }
    return DL_OK;
}

static int sink_new(const dl_schema *schema, const dl_sink_options *opts, dl_sink **out,
                    dl_error *err) {
    *out = NULL;
    if (!schema) return dl_error_set(err, DL_EINVAL, "output: no schema");
    if (opts && opts->limit >= 0 && opts->tail >= 0)
        return dl_error_set(err, DL_EINVAL, "output: a row limit and a tail exclude each other");
    if (opts && (unsigned)opts->format > DL_SINK_ARROW)
        return dl_error_set(err, DL_EINVAL, "output: unknown format %d", (int)opts->format);
    dl_sink *s = calloc(1, sizeof *s);
    if (!s) return dl_error_set(err, DL_ENOMEM, "output: out of memory");
    s->fd = -1;
    if (opts)
        s->opts = *opts;
    else
        dl_sink_options_default(&s->opts);
    int rc = dl_schema_copy(&s->schema, schema, err);
    if (rc == DL_OK && s->opts.tail >= 0) {
        rc = dl_table_init(&s->tail_rows, schema, err);
        s->has_tail_rows = rc == DL_OK;
    }
    if (rc != DL_OK) {
        dl_sink_close(s, rc, NULL);
        return rc;
    }
    *out = s;
    return DL_OK;
}

/* Opens the format's writer once the output is known. */
static int start(dl_sink *s, dl_error *err) {
    if (is_text_format(s->opts.format)) return open_text(s, err);
    if (s->opts.format == DL_SINK_ARROW)
        return dl_ipc_writer_open(&s->schema, s->write, s->ctx, &s->ipc, err);
    if (!s->path)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "output: Parquet is written to a file (its footer comes last), not "
                            "to a stream");
    return dl_parquet_writer_open(s->path, &s->schema, s->opts.parquet, &s->parquet, err);
}

int dl_sink_open(const dl_schema *schema, const dl_sink_options *opts, dl_write_fn write, void *ctx,
                 dl_sink **out, dl_error *err) {
    if (!out) return dl_error_set(err, DL_EINVAL, "output: no sink pointer");
    if (!write) return dl_error_set(err, DL_EINVAL, "output: no write callback");
    int rc = sink_new(schema, opts, out, err);
    if (rc != DL_OK) return rc;
    (*out)->write = write;
    (*out)->ctx = ctx;
    rc = start(*out, err);
    if (rc != DL_OK) {
        dl_sink_close(*out, rc, NULL);
        *out = NULL;
    }
    return rc;
}

/* ---- the output path guard ---- */

/* Where `path` leads once every symlink is followed, also when it does not
** exist yet (then its directory is resolved and dangling links followed).
** *exists tells whether the final file exists. */
static int resolve_output(const char *path, char *out, bool *exists, dl_error *err) {
    char cur[PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
        return dl_error_set(err, DL_EINVAL, "output path too long: %s", path);
    for (int hops = 0; hops < 40; hops++) {
        if (realpath(cur, out)) {
            *exists = true;
            return DL_OK;
        }
        if (errno != ENOENT)
            return dl_error_set(err, DL_EIO, "output %s: %s", path, strerror(errno));
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n >= 0) { /* a dangling symlink: writing would create its target */
            link[n] = 0;
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%s", cur);
            if (link[0] == '/')
                snprintf(cur, sizeof cur, "%s", link);
            else if (snprintf(cur, sizeof cur, "%s/%s", dirname(dir), link) >= (int)sizeof cur)
                return dl_error_set(err, DL_EINVAL, "output %s: link target too long", path);
            continue;
        }
        /* a new file: resolve its directory */
        char dir[PATH_MAX], base[PATH_MAX], rdir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", cur);
        snprintf(base, sizeof base, "%s", cur);
        if (!realpath(dirname(dir), rdir))
            return dl_error_set(err, DL_ENOTFOUND, "output %s: directory %s: %s", path,
                                dirname(base), strerror(errno));
        snprintf(base, sizeof base, "%s", cur);
        if (snprintf(out, PATH_MAX, "%s/%s", strcmp(rdir, "/") ? rdir : "", basename(base)) >=
            PATH_MAX)
            return dl_error_set(err, DL_EINVAL, "output path too long: %s", path);
        *exists = false;
        return DL_OK;
    }
    return dl_error_set(err, DL_EINVAL, "output %s: too many levels of symbolic links", path);
}

static bool path_within(const char *path, const char *root) {
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') return true;
    return strncmp(path, root, n) == 0 && (path[n] == 0 || path[n] == '/');
}

int dl_output_path_check(const char *path, const dl_output_guard *guard, dl_error *err) {
    if (!path || !path[0]) return dl_error_set(err, DL_EINVAL, "output: no path");
    char resolved[PATH_MAX];
    bool exists = false;
    int rc = resolve_output(path, resolved, &exists, err);
    if (rc != DL_OK) return rc;
    struct stat out_st;
    if (exists && stat(resolved, &out_st) != 0)
        return dl_error_set(err, DL_EIO, "output %s: %s", path, strerror(errno));
    for (int i = 0; guard && i < guard->num_roots; i++) {
        char root[PATH_MAX];
        if (!guard->roots[i] || !realpath(guard->roots[i], root)) continue;
        if (path_within(resolved, root))
            return dl_error_set(err, DL_EINVAL,
                                "output %s resolves to %s, inside the lake %s: refusing to "
                                "write there (it would overwrite the lake's own files)",
                                path, resolved, root);
    }
    for (int i = 0; guard && exists && i < guard->num_inputs; i++) {
        struct stat in_st;
        if (!guard->inputs[i] || stat(guard->inputs[i], &in_st) != 0) continue;
        if (in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
            return dl_error_set(err, DL_EINVAL,
                                "output %s is the input %s: refusing to overwrite it", path,
                                guard->inputs[i]);
    }
    /* a second name of a file (a hard link) may be a lake file seen from
    ** outside: truncating it would destroy the lake's copy */
    if (exists && S_ISREG(out_st.st_mode) && out_st.st_nlink > 1)
        return dl_error_set(err, DL_EINVAL,
                            "output %s has %lu hard links (it may be a lake or input file seen "
                            "under another name): refusing to truncate it",
                            path, (unsigned long)out_st.st_nlink);
    return DL_OK;
}

int dl_sink_open_file(const char *path, const dl_output_guard *guard, const dl_schema *schema,
                      const dl_sink_options *opts, dl_sink **out, dl_error *err) {
    if (!out) return dl_error_set(err, DL_EINVAL, "output: no sink pointer");
    *out = NULL;
    int rc = dl_output_path_check(path, guard, err);
    if (rc != DL_OK) return rc;
    dl_sink *s;
    rc = sink_new(schema, opts, &s, err);
    if (rc != DL_OK) return rc;
    s->path = strdup(path);
    if (!s->path) rc = dl_error_set(err, DL_ENOMEM, "output: out of memory");
    if (rc == DL_OK && s->opts.format != DL_SINK_PARQUET) {
        s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (s->fd < 0)
            rc = dl_error_set(err, DL_EIO, "%s: cannot create: %s", path, strerror(errno));
        s->write = write_fd;
        s->ctx = &s->fd;
    }
    if (rc == DL_OK) rc = start(s, err);
    if (rc != DL_OK) {
        dl_sink_close(s, rc, NULL);
        return rc;
    }
    *out = s;
    return DL_OK;
}

/* ---- rows ---- */

/* Writes rows [from, from + count) of t. */
static int sink_write(dl_sink *s, const dl_table *t, int64_t from, int64_t count, dl_error *err) {
    if (count <= 0) return DL_OK;
    switch (s->opts.format) {
    case DL_SINK_TABLE:
        return table_rows(s, t->columns, from, count, err);
    case DL_SINK_CSV:
        return csv_rows(s, t->columns, from, count, err);
    case DL_SINK_JSONL:
        return jsonl_rows(s, t->columns, from, count, err);
    default:
        break;
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
    int rc = s->opts.format == DL_SINK_PARQUET ? dl_parquet_writer_write(s->parquet, src, err)
                                               : dl_ipc_writer_write(s->ipc, src, err);
    if (sliced) dl_table_free(&slice);
    return rc;
}

/* Keeps the last `keep` rows of the appended batches. */
static int tail_append(dl_table *tail, const dl_table *b, int64_t from, int64_t count, int64_t keep,
                       dl_error *err) {
    for (int c = 0; c < b->schema.num_fields; c++) {
        int rc = dl_column_append_range(&tail->columns[c], &b->columns[c], from, count, err);
        if (rc != DL_OK) return rc;
    }
    tail->num_rows += count;
    if (tail->num_rows > 2 * keep + TAIL_SLACK_ROWS) { /* compact: drop the oldest rows */
        dl_table fresh;
        int rc = dl_table_init(&fresh, &tail->schema, err);
        int64_t at = tail->num_rows - keep;
        for (int c = 0; c < tail->schema.num_fields && rc == DL_OK; c++)
            rc = dl_column_append_range(&fresh.columns[c], &tail->columns[c], at, keep, err);
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

static int check_batch(const dl_sink *s, const dl_table *b, int64_t from, int64_t count,
                       dl_error *err) {
    if (b->schema.num_fields != s->schema.num_fields)
        return dl_error_set(err, DL_EINVAL, "output: a batch of %d columns for a sink of %d",
                            b->schema.num_fields, s->schema.num_fields);
    for (int c = 0; c < b->schema.num_fields; c++)
        if (b->columns[c].type != s->schema.fields[c].type || b->columns[c].length != b->num_rows)
            return dl_error_set(err, DL_EINVAL, "output: column %s of the batch is %s, expected %s",
                                s->schema.fields[c].name, dl_type_name(b->columns[c].type),
                                dl_type_name(s->schema.fields[c].type));
    if (from < 0 || count < 0 || from > b->num_rows || count > b->num_rows - from)
        return dl_error_set(err, DL_EINVAL, "output: rows [%lld, +%lld) outside a batch of %lld",
                            (long long)from, (long long)count, (long long)b->num_rows);
    return DL_OK;
}

int dl_sink_put_rows(dl_sink *s, const dl_table *batch, int64_t from, int64_t count, bool *done,
                     dl_error *err) {
    if (done) *done = false;
    if (!s || !batch) return dl_error_set(err, DL_EINVAL, "output: no sink or no batch");
    int rc = check_batch(s, batch, from, count, err);
    if (rc != DL_OK) return rc;
    if (s->has_tail_rows) return tail_append(&s->tail_rows, batch, from, count, s->opts.tail, err);
    int64_t take = count;
    if (s->opts.limit >= 0 && take > s->opts.limit - s->written) take = s->opts.limit - s->written;
    rc = sink_write(s, batch, from, take, err);
    s->written += take;
    if (done) *done = s->opts.limit >= 0 && s->written >= s->opts.limit;
    return rc;
}

int dl_sink_put(dl_sink *s, const dl_table *batch, bool *done, dl_error *err) {
    return dl_sink_put_rows(s, batch, 0, batch ? batch->num_rows : 0, done, err);
}

int64_t dl_sink_rows(const dl_sink *s) {
    return s ? s->written : 0;
}

/* Writes what the format still holds (tail rows, the table block, the
** footer / end-of-stream). */
static int finish(dl_sink *s, dl_error *err) {
    int rc = DL_OK;
    if (s->has_tail_rows) {
        dl_table *t = &s->tail_rows;
        int64_t from = t->num_rows > s->opts.tail ? t->num_rows - s->opts.tail : 0;
        rc = sink_write(s, t, from, t->num_rows - from, err);
        s->written += t->num_rows - from;
    }
    if (rc == DL_OK && s->opts.format == DL_SINK_TABLE) rc = table_flush(s, err);
    if (rc == DL_OK && (s->opts.format == DL_SINK_CSV || s->opts.format == DL_SINK_JSONL))
        rc = flush_text(s, err);
    if (s->parquet) {
        dl_parquet_writer *w = s->parquet;
        s->parquet = NULL;
        if (rc == DL_OK)
            rc = dl_parquet_writer_close(w, false, err);
        else
            dl_parquet_writer_abort(w);
    }
    if (s->ipc) {
        dl_ipc_writer *w = s->ipc;
        s->ipc = NULL;
        if (rc == DL_OK)
            rc = dl_ipc_writer_close(w, err);
        else
            dl_ipc_writer_abort(w);
    }
    return rc;
}

int dl_sink_close(dl_sink *s, int status, dl_error *err) {
    if (!s) return status;
    int rc = status;
    if (rc == DL_OK) {
        rc = finish(s, err);
    } else {
        if (s->parquet) dl_parquet_writer_abort(s->parquet);
        if (s->ipc) dl_ipc_writer_abort(s->ipc);
    }
    if (s->fd >= 0 && close(s->fd) != 0 && rc == DL_OK)
        rc = dl_error_set(err, DL_EIO, "%s: %s", s->path, strerror(errno));
    if (s->json_keys)
        for (int c = 0; c < s->schema.num_fields; c++) free(s->json_keys[c]);
    free(s->json_keys);
    free(s->cell_end);
    free(s->widths);
    dl_text_free(&s->text);
    dl_text_free(&s->scratch);
    if (s->has_tail_rows) dl_table_free(&s->tail_rows);
    dl_schema_free(&s->schema);
    free(s->path);
    free(s);
    return rc;
}
