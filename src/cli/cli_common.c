/*
** cli_common.c -- helpers shared by every `dl` command: option parsing and
** help text, error reporting, a growable text buffer, and the rendering of
** one typed value as CSV/table text or JSON (see cli.h for the rules).
*/
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

void cli_print_help(const cli_spec *spec, FILE *f) {
    fprintf(f, "usage: dl %s %s\n\n%s", spec->command, spec->synopsis, spec->description);
    if (spec->num_options > 0) fprintf(f, "\noptions:\n");
    for (int i = 0; i < spec->num_options; i++) {
        const cli_option *o = &spec->options[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(f, "  %-22s %s\n", left, o->help);
    }
    fprintf(f, "  %-22s %s\n", "-h, --help", "show this help");
    fprintf(f, "\nexit status: 0 ok, 1 error (message on stderr), 2 usage error\n");
}

int cli_usage_error(const cli_spec *spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dl %s: ", spec->command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: dl %s %s\nTry 'dl %s --help' for more information.\n", spec->command,
            spec->synopsis, spec->command);
    return CLI_EXIT_USAGE;
}

static int find_option(const cli_spec *spec, const char *name, size_t name_len) {
    for (int i = 0; i < spec->num_options; i++)
        if (strlen(spec->options[i].name) == name_len &&
            memcmp(spec->options[i].name, name, name_len) == 0)
            return i;
    return -1;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out) {
    memset(out, 0, sizeof *out);
    out->spec = spec;
    if (spec->num_options > CLI_MAX_OPTIONS) return cli_usage_error(spec, "too many options");
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            cli_print_help(spec, stdout);
            return CLI_EXIT_OK;
        }
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
            int k = find_option(spec, name, name_len);
            if (k < 0) return cli_usage_error(spec, "unknown option '%.*s'", (int)name_len + 2, a);
            const cli_option *o = &spec->options[k];
            if (!o->metavar) {
                if (eq) return cli_usage_error(spec, "option --%s takes no value", o->name);
                out->values[k] = "";
            } else if (eq) {
                out->values[k] = eq + 1;
            } else if (i + 1 < argc) {
                out->values[k] = argv[++i];
            } else {
                return cli_usage_error(spec, "option --%s needs a value (%s)", o->name, o->metavar);
            }
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0')
            return cli_usage_error(spec, "unknown option '%s'", a);
        if (out->num_args >= spec->max_args || out->num_args >= CLI_MAX_ARGS)
            return cli_usage_error(spec, "unexpected argument '%s'", a);
        out->args[out->num_args++] = a;
    }
    if (out->num_args < spec->min_args) return cli_usage_error(spec, "missing argument");
    return CLI_CONTINUE;
}

const char *cli_get(const cli_args *args, const char *name) {
    int k = find_option(args->spec, name, strlen(name));
    return k < 0 ? NULL : args->values[k];
}

bool cli_parse_i64(const char *text, int64_t min, int64_t max, int64_t *out) {
    if (!text || !*text) return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ */
/* Errors and output                                                    */
/* ------------------------------------------------------------------ */

int cli_fail(const dl_error *err) {
    fflush(stdout);
    fprintf(stderr, "dl: %s\n",
            err->message[0] ? err->message : dl_status_name(err->code ? err->code : DL_EINTERNAL));
    return CLI_EXIT_ERROR;
}

int cli_failf(const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return CLI_EXIT_ERROR;
}

int cli_finish_stdout(int exit_code) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dl: cannot write to standard output: %s\n", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    return exit_code;
}

/* ------------------------------------------------------------------ */
/* cli_buf                                                              */
/* ------------------------------------------------------------------ */

static void out_of_memory(size_t n) {
    fflush(stdout);
    fprintf(stderr, "dl: out of memory (asked for %zu bytes)\n", n);
    exit(CLI_EXIT_ERROR);
}

void *cli_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

int cli_split_list(const char *text, char **copy, const char ***names) {
    size_t len = strlen(text);
    *copy = cli_xrealloc(NULL, len + 1);
    memcpy(*copy, text, len + 1);
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    *names = cli_xrealloc(NULL, sizeof(char *) * (size_t)n);
    int k = 0;
    for (char *tok = strtok(*copy, ","); tok; tok = strtok(NULL, ",")) (*names)[k++] = tok;
    return k;
}

void cli_buf_reserve(cli_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 4) out_of_memory(cap);
        cap *= 2;
    }
    b->data = cli_xrealloc(b->data, cap);
    b->cap = cap;
}

void cli_buf_put(cli_buf *b, const void *src, size_t n) {
    cli_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, src, n);
    b->len += n;
}

void cli_buf_putc(cli_buf *b, char c) {
    cli_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void cli_buf_puts(cli_buf *b, const char *s) {
    cli_buf_put(b, s, strlen(s));
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    cli_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cli_buf_free(cli_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

static int format_u64(uint64_t v, char *buf) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int cli_format_i64(int64_t v, char *buf) {
    if (v >= 0) return format_u64((uint64_t)v, buf);
    buf[0] = '-';
    return 1 + format_u64(0 - (uint64_t)v, buf + 1); /* INT64_MIN-safe */
}

/* An integer carrying `scale` decimal places: 12345, 3 -> "12.345". */
static void append_decimal(cli_buf *b, int64_t v, int scale) {
    char digits[24];
    int n = format_u64(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, digits);
    if (v < 0) cli_buf_putc(b, '-');
    if (n <= scale) {
        cli_buf_put(b, "0.", 2);
        for (int i = n; i < scale; i++) cli_buf_putc(b, '0');
        cli_buf_put(b, digits, (size_t)n);
    } else {
        cli_buf_put(b, digits, (size_t)(n - scale));
        cli_buf_putc(b, '.');
        cli_buf_put(b, digits + n - scale, (size_t)scale);
    }
}

static void append_base64(cli_buf *b, const uint8_t *s, size_t len) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    cli_buf_reserve(b, (len + 2) / 3 * 4);
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s[0] does not
** start one (overlong forms, surrogates and > U+10FFFF are invalid). */
static size_t utf8_sequence_length(const uint8_t *s, size_t avail) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

void cli_append_json_string(cli_buf *b, const uint8_t *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    cli_buf_reserve(b, len + 2);
    cli_buf_putc(b, '"');
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? utf8_sequence_length(s + i, len - i) : 1;
        if (c >= 0x80 && n > 0) {
            i += n;
            continue;
        }
        cli_buf_put(b, s + run, i - run);
        if (c >= 0x80)
            cli_buf_put(b, "\\ufffd", 6); /* an invalid byte */
        else if (c == '"')
            cli_buf_put(b, "\\\"", 2);
        else if (c == '\\')
            cli_buf_put(b, "\\\\", 2);
        else if (c == '\n')
            cli_buf_put(b, "\\n", 2);
        else if (c == '\r')
            cli_buf_put(b, "\\r", 2);
        else if (c == '\t')
            cli_buf_put(b, "\\t", 2);
        else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            cli_buf_put(b, esc, 6);
        }
        i++;
        run = i;
    }
    cli_buf_put(b, s + run, len - run);
    cli_buf_putc(b, '"');
}

/* Strings for a table cell: printable UTF-8 as is, the rest escaped. */
static void append_display_string(cli_buf *b, const uint8_t *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i];
        size_t n = c >= 0x80 ? utf8_sequence_length(s + i, len - i) : 1;
        if (c >= 0x20 && c != 0x7F && n > 0) {
            cli_buf_put(b, s + i, n);
            i += n;
            continue;
        }
        if (c == '\n')
            cli_buf_put(b, "\\n", 2);
        else if (c == '\t')
            cli_buf_put(b, "\\t", 2);
        else if (c == '\r')
            cli_buf_put(b, "\\r", 2);
        else {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            cli_buf_put(b, esc, 4);
        }
        i++;
    }
}

bool cli_type_is_numeric(dl_type type) {
    return type == DL_TYPE_INT32 || type == DL_TYPE_INT64 || type == DL_TYPE_FLOAT ||
           type == DL_TYPE_DOUBLE;
}

void cli_describe_type(const dl_field *f, char *buf, size_t size) {
    if (f->type == DL_TYPE_TIMESTAMP)
        snprintf(buf, size, "timestamp[%s%s]", dl_unit_name(f->unit), f->utc ? ", UTC" : "");
    else if (f->decimal_scale > 0 && (f->type == DL_TYPE_INT32 || f->type == DL_TYPE_INT64))
        snprintf(buf, size, "decimal(%d,%d)", (int)f->decimal_precision, (int)f->decimal_scale);
    else
        snprintf(buf, size, "%s", dl_type_name(f->type));
}

void cli_column_value(const dl_field *f, const dl_column *col, int64_t row, dl_value *out) {
    memset(out, 0, sizeof *out);
    if (!dl_column_is_valid(col, row)) return;
    out->present = true;
    switch (f->type) {
    case DL_TYPE_BOOL:
        out->i = ((const uint8_t *)col->values)[row] != 0;
        break;
    case DL_TYPE_INT32:
    case DL_TYPE_DATE:
        out->i = ((const int32_t *)col->values)[row];
        break;
    case DL_TYPE_INT64:
    case DL_TYPE_TIMESTAMP:
        out->i = ((const int64_t *)col->values)[row];
        break;
    case DL_TYPE_FLOAT:
        out->f = ((const float *)col->values)[row];
        break;
    case DL_TYPE_DOUBLE:
        out->f = ((const double *)col->values)[row];
        break;
    case DL_TYPE_STRING:
    case DL_TYPE_BINARY:
        out->s = (const uint8_t *)col->data + col->offsets[row];
        out->len = (size_t)(col->offsets[row + 1] - col->offsets[row]);
        break;
    default:
        out->present = false;
        break;
    }
}

void cli_append_value(cli_buf *b, const dl_field *f, const dl_value *v, cli_style style) {
    bool json = style == CLI_STYLE_JSON;
    if (!v->present) {
        if (style != CLI_STYLE_RAW) cli_buf_put(b, "null", 4);
        return;
    }
    char text[64];
    int n;
    switch (f->type) {
    case DL_TYPE_BOOL:
        cli_buf_puts(b, v->i ? "true" : "false");
        return;
    case DL_TYPE_INT32:
    case DL_TYPE_INT64:
        if (f->decimal_scale > 0 && f->decimal_scale < 40) {
            append_decimal(b, v->i, f->decimal_scale);
            return;
        }
        n = cli_format_i64(v->i, text);
        cli_buf_put(b, text, (size_t)n);
        return;
    case DL_TYPE_FLOAT:
    case DL_TYPE_DOUBLE:
        n = f->type == DL_TYPE_FLOAT ? dl_format_float((float)v->f, text, sizeof text)
                                     : dl_format_double(v->f, text, sizeof text);
        if (json && !isfinite(v->f))
            cli_buf_put(b, "null", 4); /* nan, inf, -inf are not JSON */
        else
            cli_buf_put(b, text, (size_t)n);
        return;
    case DL_TYPE_TIMESTAMP:
    case DL_TYPE_DATE:
        n = f->type == DL_TYPE_DATE ? dl_format_date((int32_t)v->i, text, sizeof text)
                                    : dl_format_timestamp(v->i, f->unit, text, sizeof text);
        if (f->type == DL_TYPE_TIMESTAMP && !f->utc) n--; /* wall clock: no "Z" */
        if (json) cli_buf_putc(b, '"');
        cli_buf_put(b, text, (size_t)n);
        if (json) cli_buf_putc(b, '"');
        return;
    case DL_TYPE_STRING:
        if (json)
            cli_append_json_string(b, v->s, v->len);
        else if (style == CLI_STYLE_DISPLAY)
            append_display_string(b, v->s, v->len);
        else
            cli_buf_put(b, v->s, v->len);
        return;
    case DL_TYPE_BINARY:
        if (json) cli_buf_putc(b, '"');
        append_base64(b, v->s, v->len);
        if (json) cli_buf_putc(b, '"');
        return;
    default:
        cli_buf_puts(b, json ? "null" : "?");
        return;
    }
}

double cli_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
