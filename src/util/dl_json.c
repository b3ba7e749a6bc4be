/*
** dl_json.c -- recursive-descent JSON parser with caps (depth, nodes),
** strict RFC 8259 grammar (no trailing commas, no comments, no leading
** zeros, no bare control characters in strings) and UTF-8 validation; and
** the JSON string escaper.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dl_internal.h"
#include "util/dl_json.h"

struct dl_json_doc {
    dl_arena arena;
    dl_json root;
};

typedef struct parser {
    const char *s, *end, *start, *name;
    dl_arena *arena;
    int64_t nodes;
    dl_error *err;
} parser;

static int fail(parser *p, const char *what) {
    return dl_error_set(p->err, DL_ECORRUPT, "%s: invalid JSON at byte %lld: %s", p->name,
                        (long long)(p->s - p->start), what);
}

static void skip_ws(parser *p) {
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static bool literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0) return false;
    p->s += n;
    return true;
}

static int hex4(parser *p, uint32_t *out) {
    if (p->end - p->s < 4) return fail(p, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return fail(p, "bad hex digit in \\u escape");
        v = v * 16 + (uint32_t)d;
    }
    p->s += 4;
    *out = v;
    return DL_OK;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (0 when invalid). */
static size_t utf8_len(const unsigned char *s, const unsigned char *end) {
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - s) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int parse_string(parser *p, const char **out, size_t *out_len) {
    p->s++; /* opening quote */
    const char *q = p->s;
    while (q < p->end && *q != '"') q += (*q == '\\' && q + 1 < p->end) ? 2 : 1;
    if (q >= p->end) return fail(p, "unterminated string");
    char *o = dl_arena_alloc(p->arena, (size_t)(q - p->s) + 1);
    if (!o) return dl_error_set(p->err, DL_ENOMEM, "%s: out of memory parsing JSON", p->name);
    size_t n = 0;
    while (*p->s != '"') {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20) return fail(p, "control character in a string");
        if (c != '\\') {
            size_t k = utf8_len((const unsigned char *)p->s, (const unsigned char *)p->end);
            if (k == 0) return fail(p, "invalid UTF-8 in a string");
            memcpy(o + n, p->s, k);
            n += k;
            p->s += k;
            continue;
        }
        p->s++;
        char e = *p->s++;
        uint32_t cp;
        switch (e) {
        case '"':
            o[n++] = '"';
            break;
        case '\\':
            o[n++] = '\\';
            break;
        case '/':
            o[n++] = '/';
            break;
        case 'b':
            o[n++] = '\b';
            break;
        case 'f':
            o[n++] = '\f';
            break;
        case 'n':
            o[n++] = '\n';
            break;
        case 'r':
            o[n++] = '\r';
            break;
        case 't':
            o[n++] = '\t';
            break;
        case 'u': {
            int rc = hex4(p, &cp);
            if (rc != DL_OK) return rc;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
                    return fail(p, "unpaired surrogate in \\u escape");
                p->s += 2;
                if ((rc = hex4(p, &lo)) != DL_OK) return rc;
                if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "bad low surrogate");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(p, "unpaired surrogate in \\u escape");
            }
            if (cp == 0) return fail(p, "\\u0000 is not allowed in strings");
            n += put_utf8(o + n, cp); /* never longer than the escape it replaces */
            break;
        }
        default:
            p->s--;
            return fail(p, "unknown escape");
        }
    }
    p->s++; /* closing quote */
    o[n] = 0;
    *out = o;
    *out_len = n;
    return DL_OK;
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int parse_number(parser *p, dl_json *v) {
    const char *b = p->s;
    if (p->s < p->end && *p->s == '-') p->s++;
    if (p->s >= p->end || !is_digit(*p->s)) return fail(p, "expected a digit");
    if (*p->s == '0')
        p->s++;
    else
        while (p->s < p->end && is_digit(*p->s)) p->s++;
    if (p->s < p->end && *p->s == '.') {
        p->s++;
        if (p->s >= p->end || !is_digit(*p->s)) return fail(p, "expected a digit after '.'");
        while (p->s < p->end && is_digit(*p->s)) p->s++;
    }
    if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
        p->s++;
        if (p->s < p->end && (*p->s == '+' || *p->s == '-')) p->s++;
        if (p->s >= p->end || !is_digit(*p->s)) return fail(p, "expected a digit in the exponent");
        while (p->s < p->end && is_digit(*p->s)) p->s++;
    }
    size_t n = (size_t)(p->s - b);
    char *t = dl_arena_strndup(p->arena, b, n);
    if (!t) return dl_error_set(p->err, DL_ENOMEM, "%s: out of memory parsing JSON", p->name);
    v->type = DL_JSON_NUMBER;
    v->text = t;
    v->len = n;
    v->number = strtod(t, NULL);
    return DL_OK;
}

static int parse_value(parser *p, dl_json *v, int depth);

/* Members are parsed into a growing heap array, then moved to the arena. */
static int parse_container(parser *p, dl_json *v, int depth, bool object) {
    int rc = DL_OK;
    dl_json *items = NULL;
    const char **keys = NULL;
    int64_t n = 0, cap = 0;
    char close = object ? '}' : ']';
    if (depth >= DL_JSON_MAX_DEPTH) return fail(p, "nesting deeper than 64 levels");
    p->s++;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        goto done;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            dl_json *gi = realloc(items, (size_t)cap * sizeof *items);
            if (gi) items = gi;
            const char **gk = object ? realloc(keys, (size_t)cap * sizeof *keys) : NULL;
            if (gk) keys = gk;
            if (!gi || (object && !gk))
                DL_FAIL(p->err, DL_ENOMEM, "%s: out of memory parsing JSON", p->name);
        }
        skip_ws(p);
        if (object) {
            size_t klen;
            if (p->s >= p->end || *p->s != '"') DL_TRY(fail(p, "expected a member name"));
            DL_TRY(parse_string(p, &keys[n], &klen));
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') DL_TRY(fail(p, "expected ':'"));
            p->s++;
        }
        DL_TRY(parse_value(p, &items[n], depth + 1));
        n++;
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            break;
        }
        DL_TRY(fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'"));
    }
done:
    v->type = object ? DL_JSON_OBJECT : DL_JSON_ARRAY;
    v->count = n;
    if (n) {
        v->items = dl_arena_calloc(p->arena, (size_t)n, sizeof *items);
        if (object) v->keys = dl_arena_calloc(p->arena, (size_t)n, sizeof *keys);
        if (!v->items || (object && !v->keys))
            DL_FAIL(p->err, DL_ENOMEM, "%s: out of memory parsing JSON", p->name);
        memcpy(v->items, items, (size_t)n * sizeof *items);
        if (object) memcpy(v->keys, keys, (size_t)n * sizeof *keys);
    }
cleanup:
    free(items);
    free(keys);
    return rc;
}

static int parse_value(parser *p, dl_json *v, int depth) {
    memset(v, 0, sizeof *v);
    if (++p->nodes > DL_JSON_MAX_NODES) return fail(p, "more than 4M values");
    skip_ws(p);
    if (p->s >= p->end) return fail(p, "unexpected end of input");
    switch (*p->s) {
    case '{':
        return parse_container(p, v, depth, true);
    case '[':
        return parse_container(p, v, depth, false);
    case '"':
        v->type = DL_JSON_STRING;
        return parse_string(p, &v->text, &v->len);
    case 't':
    case 'f':
    case 'n':
        if (literal(p, "true"))
            v->type = DL_JSON_BOOL, v->boolean = true;
        else if (literal(p, "false"))
            v->type = DL_JSON_BOOL;
        else if (literal(p, "null"))
            v->type = DL_JSON_NULL;
        else
            return fail(p, "unknown literal");
        return DL_OK;
    default:
        return parse_number(p, v);
    }
}

int dl_json_parse(const char *text, size_t len, const char *name, dl_json_doc **out,
                  dl_error *err) {
    *out = NULL;
    dl_json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return dl_error_set(err, DL_ENOMEM, "out of memory parsing JSON");
    dl_arena_init(&doc->arena, 0);
    parser p = {text, text + len, text, name ? name : "JSON", &doc->arena, 0, err};
    int rc = parse_value(&p, &doc->root, 0);
    if (rc == DL_OK) {
        skip_ws(&p);
        if (p.s != p.end) rc = fail(&p, "trailing characters after the value");
    }
    if (rc != DL_OK) {
        dl_json_doc_free(doc);
        return rc;
    }
    *out = doc;
    return DL_OK;
}

const dl_json *dl_json_root(const dl_json_doc *doc) {
    return &doc->root;
}

void dl_json_doc_free(dl_json_doc *doc) {
    if (!doc) return;
    dl_arena_free(&doc->arena);
    free(doc);
}

const dl_json *dl_json_get(const dl_json *obj, const char *key) {
    if (!obj || obj->type != DL_JSON_OBJECT) return NULL;
    for (int64_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const char *dl_json_str(const dl_json *v) {
    return v && v->type == DL_JSON_STRING ? v->text : NULL;
}

bool dl_json_i64(const dl_json *v, int64_t *out) {
    if (!v || v->type != DL_JSON_NUMBER) return false;
    char *end;
    errno = 0;
    long long x = strtoll(v->text, &end, 10);
    if (errno != 0 || *end != 0) return false;
    *out = x;
    return true;
}

int dl_json_append_string(dl_buf *out, const char *s) {
    int rc = dl_buf_append_u8(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; rc == DL_OK && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = dl_buf_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            rc = dl_buf_printf(out, "\\u%04x", *p);
        else
            rc = dl_buf_append_u8(out, *p);
    }
    if (rc == DL_OK) rc = dl_buf_append_u8(out, '"');
    return rc;
}
