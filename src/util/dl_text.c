/*
** dl_text.c -- a growable text buffer with a sticky error, and the one
** rendering of typed values as text shared by the result sinks, the JSON
** renderings of the lake's metadata, the CLI and the data server:
**   RAW     CSV: strings as their bytes, binary as base64, nan/inf as is;
**   DISPLAY table cells: like RAW but control characters and invalid UTF-8
**           in strings escaped (\n, \t, \x01);
**   JSON    strings JSON-escaped in quotes (invalid UTF-8 -> \ufffd),
**           timestamps and dates as quoted ISO-8601, binary as a quoted
**           base64 string, nan/inf and null as null.
** Appends never fail visibly: the first allocation failure (or a size over
** DL_MAX_ALLOC) sets t->status to DL_ENOMEM and later appends do nothing, so
** formatting code stays linear and checks the status once at the end.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dl_internal.h"

int dl_text_reserve(dl_text *t, size_t extra) {
    DL_REQUIRE_OR_RETURN(t, DL_EINVAL);
    if (t->status != DL_OK) return t->status;
    if (t->cap - t->len >= extra) return DL_OK;
    size_t cap = t->cap ? t->cap : 256;
    while (cap - t->len < extra) {
        if (cap > DL_MAX_ALLOC) return t->status = DL_ENOMEM;
        cap *= 2;
    }
    char *data = realloc(t->data, cap);
    if (!data) return t->status = DL_ENOMEM;
    t->data = data;
    t->cap = cap;
    return DL_OK;
}

void dl_text_put(dl_text *t, const void *s, size_t n) {
    DL_REQUIRE_OR_RETURN(t && (s || n == 0), );
    if (dl_text_reserve(t, n) != DL_OK) return;
    if (n) memcpy(t->data + t->len, s, n);
    t->len += n;
}

void dl_text_putc(dl_text *t, char c) {
    DL_REQUIRE_OR_RETURN(t, );
    if (t->cap - t->len < 1 && dl_text_reserve(t, 1) != DL_OK) return;
    if (t->status != DL_OK) return;
    t->data[t->len++] = c;
}

void dl_text_puts(dl_text *t, const char *s) {
    DL_REQUIRE_OR_RETURN(t && s, );
    dl_text_put(t, s, strlen(s));
}

void dl_text_vprintf(dl_text *t, const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && dl_text_reserve(t, (size_t)n + 1) == DL_OK) {
        vsnprintf(t->data + t->len, (size_t)n + 1, fmt, again);
        t->len += (size_t)n;
    }
    va_end(again);
}

void dl_text_printf(dl_text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dl_text_vprintf(t, fmt, ap);
    va_end(ap);
}

void dl_text_free(dl_text *t) {
    DL_REQUIRE_OR_RETURN(t, );
    free(t->data);
    memset(t, 0, sizeof *t);
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

int dl_format_i64(int64_t v, char *buf) {
    DL_REQUIRE_OR_RETURN(buf, 0);
    if (v >= 0) return format_u64((uint64_t)v, buf);
    buf[0] = '-';
    return 1 + format_u64(0 - (uint64_t)v, buf + 1); /* INT64_MIN-safe */
}

/* An integer carrying `scale` decimal places: 12345, 3 -> "12.345". */
static void append_decimal(dl_text *b, int64_t v, int scale) {
    char digits[24];
    int n = format_u64(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, digits);
    if (v < 0) dl_text_putc(b, '-');
    if (n <= scale) {
        dl_text_put(b, "0.", 2);
        for (int i = n; i < scale; i++) dl_text_putc(b, '0');
        dl_text_put(b, digits, (size_t)n);
    } else {
        dl_text_put(b, digits, (size_t)(n - scale));
        dl_text_putc(b, '.');
        dl_text_put(b, digits + n - scale, (size_t)scale);
    }
}

static void append_base64(dl_text *b, const uint8_t *s, size_t len) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (dl_text_reserve(b, (len + 2) / 3 * 4) != DL_OK) return;
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

void dl_text_json_string(dl_text *b, const void *bytes, size_t len) {
    DL_REQUIRE_OR_RETURN(b && (bytes || len == 0), );
    const uint8_t *s = bytes;
    static const char hex[] = "0123456789abcdef";
    dl_text_reserve(b, len + 2);
    dl_text_putc(b, '"');
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
        dl_text_put(b, s + run, i - run);
        if (c >= 0x80)
            dl_text_put(b, "\\ufffd", 6); /* an invalid byte */
        else if (c == '"')
            dl_text_put(b, "\\\"", 2);
        else if (c == '\\')
            dl_text_put(b, "\\\\", 2);
        else if (c == '\n')
            dl_text_put(b, "\\n", 2);
        else if (c == '\r')
            dl_text_put(b, "\\r", 2);
        else if (c == '\t')
            dl_text_put(b, "\\t", 2);
        else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            dl_text_put(b, esc, 6);
        }
        i++;
        run = i;
    }
    dl_text_put(b, s + run, len - run);
    dl_text_putc(b, '"');
}

/* Strings for a table cell: printable UTF-8 as is, the rest escaped. */
static void append_display_string(dl_text *b, const uint8_t *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i];
        size_t n = c >= 0x80 ? utf8_sequence_length(s + i, len - i) : 1;
        if (c >= 0x20 && c != 0x7F && n > 0) {
            dl_text_put(b, s + i, n);
            i += n;
            continue;
        }
        if (c == '\n')
            dl_text_put(b, "\\n", 2);
        else if (c == '\t')
            dl_text_put(b, "\\t", 2);
        else if (c == '\r')
            dl_text_put(b, "\\r", 2);
        else {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            dl_text_put(b, esc, 4);
        }
        i++;
    }
}

bool dl_type_is_numeric(dl_type type) {
    return type == DL_TYPE_INT32 || type == DL_TYPE_INT64 || type == DL_TYPE_FLOAT ||
           type == DL_TYPE_DOUBLE;
}

void dl_field_describe(const dl_field *f, char *buf, size_t size) {
    DL_REQUIRE_OR_RETURN(f && buf, );
    if (f->type == DL_TYPE_TIMESTAMP)
        snprintf(buf, size, "timestamp[%s%s]", dl_unit_name(f->unit), f->utc ? ", UTC" : "");
    else if (f->decimal_scale > 0 && (f->type == DL_TYPE_INT32 || f->type == DL_TYPE_INT64))
        snprintf(buf, size, "decimal(%d,%d)", (int)f->decimal_precision, (int)f->decimal_scale);
    else
        snprintf(buf, size, "%s", dl_type_name(f->type));
}

void dl_column_value(const dl_field *f, const dl_column *col, int64_t row, dl_value *out) {
    DL_REQUIRE_OR_RETURN(f && col && out, );
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

void dl_text_value(dl_text *b, const dl_field *f, const dl_value *v, dl_text_style style) {
    DL_REQUIRE_OR_RETURN(b && f && v, );
    bool json = style == DL_TEXT_JSON;
    if (!v->present) {
        if (style != DL_TEXT_RAW) dl_text_put(b, "null", 4);
        return;
    }
    char text[64];
    int n;
    switch (f->type) {
    case DL_TYPE_BOOL:
        dl_text_puts(b, v->i ? "true" : "false");
        return;
    case DL_TYPE_INT32:
    case DL_TYPE_INT64:
        if (f->decimal_scale > 0 && f->decimal_scale < 40) {
            append_decimal(b, v->i, f->decimal_scale);
            return;
        }
        n = dl_format_i64(v->i, text);
        dl_text_put(b, text, (size_t)n);
        return;
    case DL_TYPE_FLOAT:
    case DL_TYPE_DOUBLE:
        n = f->type == DL_TYPE_FLOAT ? dl_format_float((float)v->f, text, sizeof text)
                                     : dl_format_double(v->f, text, sizeof text);
        if (json && !isfinite(v->f))
            dl_text_put(b, "null", 4); /* nan, inf, -inf are not JSON */
        else
            dl_text_put(b, text, (size_t)n);
        return;
    case DL_TYPE_TIMESTAMP:
    case DL_TYPE_DATE:
        n = f->type == DL_TYPE_DATE ? dl_format_date((int32_t)v->i, text, sizeof text)
                                    : dl_format_timestamp(v->i, f->unit, text, sizeof text);
        if (f->type == DL_TYPE_TIMESTAMP && !f->utc) n--; /* wall clock: no "Z" */
        if (json) dl_text_putc(b, '"');
        dl_text_put(b, text, (size_t)n);
        if (json) dl_text_putc(b, '"');
        return;
    case DL_TYPE_STRING:
        if (json)
            dl_text_json_string(b, v->s, v->len);
        else if (style == DL_TEXT_DISPLAY)
            append_display_string(b, v->s, v->len);
        else
            dl_text_put(b, v->s, v->len);
        return;
    case DL_TYPE_BINARY:
        if (json) dl_text_putc(b, '"');
        append_base64(b, v->s, v->len);
        if (json) dl_text_putc(b, '"');
        return;
    default:
        dl_text_puts(b, json ? "null" : "?");
        return;
    }
}
