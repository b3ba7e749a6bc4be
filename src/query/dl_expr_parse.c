/*
** dl_expr_parse.c -- filter expressions, front half: a hand-written
** tokenizer, a recursive-descent parser (or < and < not < comparison) and
** the binder that resolves column names against the schema, type-checks
** every comparison and converts each literal to the column's physical
** representation (see dl_expr_int.h), so that evaluation is typed loops only.
**
** Literal rules (documented here because users meet them in errors):
**   - An integer literal is an int64; one that does not fit is read as a
**     double (99999999999999999999 compares as 1e20).
**   - Integer columns compared with a double compare exactly
**     (trade_count > 2.5 is trade_count >= 3; count = 2.5 is never true).
**   - A string literal compared with a TIMESTAMP or DATE column is an
**     ISO-8601 date/time, UTC unless it carries an offset:
**     YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|+HH:MM|-HH:MM|+HHMM|+HH].
**     It is converted to the column's unit exactly: a fraction finer than
**     the unit keeps its meaning (ts > '...00.0000005' on a us column is
**     ts >= '...00.000001').
**   - A number compared with a TIMESTAMP (DATE) column is a raw count in
**     the column's unit (days since the epoch).
**   - BOOL columns compare with true/false only; a bare boolean column is
**     `flag = true`.
**   - Unquoted column names match exactly, else case-insensitively when
**     that is unambiguous; "double-quoted" names always match exactly.
*/
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/dl_expr_int.h"
#include "util/dl_internal.h"
#include "util/dl_timeparse.h"

#define ARENA_LIMIT      ((size_t)256 << 20)
#define NUMBER_MAX_CHARS 400 /* longer numeric literals are refused */

/* ------------------------------------------------------------------ */
/* Tokens                                                               */
/* ------------------------------------------------------------------ */

typedef enum tok_kind {
    TOK_END,
    TOK_IDENT,        /* bare name (not a keyword) */
    TOK_QUOTED_IDENT, /* "name" */
    TOK_STRING,       /* 'text' */
    TOK_INT,
    TOK_FLOAT,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_CMP, /* = == != <> < <= > >= */
    TOK_AND,
    TOK_OR,
    TOK_NOT,
    TOK_IN,
    TOK_IS,
    TOK_NULL,
    TOK_TRUE,
    TOK_FALSE
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t offset, length; /* the token's bytes in the filter text */
    expr_op op;            /* TOK_CMP */
    int64_t i;             /* TOK_INT */
    double f;              /* TOK_FLOAT */
    const char *str;       /* STRING and identifiers: decoded, NUL-terminated (arena) */
    size_t str_len;
} token;

typedef struct parser {
    const char *text;
    size_t len;
    size_t pos; /* next unread byte */
    token tok;  /* current token */
    token prev; /* previous token, for "after X" messages */
    int depth;  /* open parentheses + `not`s */
    int leaves; /* comparisons built so far */
    const dl_schema *schema;
    dl_expr *expr;
    dl_error *err;
} parser;

static const struct {
    const char *word;
    tok_kind kind;
} keywords[] = {{"and", TOK_AND}, {"or", TOK_OR},     {"not", TOK_NOT},   {"in", TOK_IN},
                {"is", TOK_IS},   {"null", TOK_NULL}, {"true", TOK_TRUE}, {"false", TOK_FALSE}};

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c);
}
static char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool equals_ignore_case(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    if (alen != blen) return false;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

/* The token's source text, quoted and made printable, for messages. */
static const char *describe(const parser *p, const token *t, char *buf, size_t size) {
    if (t->kind == TOK_END) return "end of input";
    size_t n = t->length, shown = n > 40 ? 40 : n, w = 0;
    bool quoted = t->kind == TOK_STRING; /* its source text carries its own quotes */
    if (!quoted) buf[w++] = '\'';
    for (size_t i = 0; i < shown && w + 5 < size; i++) {
        unsigned char c = (unsigned char)p->text[t->offset + i];
        buf[w++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (shown < n && w + 5 < size) buf[w++] = '.', buf[w++] = '.', buf[w++] = '.';
    if (!quoted || shown < n) buf[w++] = '\'';
    buf[w] = 0;
    return buf;
}

/* Every parse error goes through here: "filter: " + message. */
static int fail(parser *p, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#ifdef __clang_analyzer__ /* the analyzer does not follow variadic calls; see dl_internal.h */
#define fail(p, code, ...) (fail((p), (code), __VA_ARGS__), (code))
#endif
static int(fail)(parser *p, int code, const char *fmt, ...) {
    char msg[DL_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dl_error_set(p->err, code, "filter: %s", msg);
}

static int out_of_memory(parser *p) {
    return fail(p, DL_ENOMEM, "out of memory");
}

/* Reads a quoted run ('...' or "...", doubled quote = one quote) starting
** at p->pos (the opening quote) and decodes it into the arena. */
static int lex_quoted(parser *p, token *t, const char *what) {
    char quote = p->text[p->pos];
    size_t start = p->pos, i = p->pos + 1, decoded = 0;
    for (;; i++) {
        if (i >= p->len)
            return fail(p, DL_EINVAL, "unterminated %s starting at offset %zu (missing closing %c)",
                        what, start, quote);
        if (p->text[i] == quote) {
            if (i + 1 < p->len && p->text[i + 1] == quote) {
                i++;
            } else {
                break;
            }
        }
        decoded++;
    }
    char *s = dl_arena_alloc(&p->expr->arena, decoded + 1);
    if (!s) return out_of_memory(p);
    size_t w = 0;
    for (size_t j = start + 1; j < i; j++) {
        s[w++] = p->text[j];
        if (p->text[j] == quote) j++; /* skip the second quote of a pair */
    }
    s[w] = 0;
    t->str = s;
    t->str_len = w;
    p->pos = i + 1;
    return DL_OK;
}

/* Numbers: digits [. digits] [e [+-] digits], optional leading '-'. */
static int lex_number(parser *p, token *t) {
    size_t start = p->pos, i = p->pos;
    bool is_float = false;
    if (p->text[i] == '-') i++;
    while (i < p->len && is_digit(p->text[i])) i++;
    if (i < p->len && p->text[i] == '.') {
        is_float = true;
        i++;
        while (i < p->len && is_digit(p->text[i])) i++;
    }
    if (i < p->len && (p->text[i] == 'e' || p->text[i] == 'E')) {
        size_t e = i + 1;
        if (e < p->len && (p->text[e] == '+' || p->text[e] == '-')) e++;
        if (e < p->len && is_digit(p->text[e])) {
            is_float = true;
            i = e;
            while (i < p->len && is_digit(p->text[i])) i++;
        }
    }
    size_t n = i - start;
    if ((i < p->len && (is_name_char(p->text[i]) || p->text[i] == '.')) || n > NUMBER_MAX_CHARS) {
        size_t end = i;
        while (end < p->len && (is_name_char(p->text[end]) || p->text[end] == '.')) end++;
        t->kind = TOK_FLOAT, t->offset = start, t->length = end - start;
        char d[64];
        return fail(p, DL_EINVAL, "invalid number %s at offset %zu", describe(p, t, d, sizeof d),
                    start);
    }
    char buf[NUMBER_MAX_CHARS + 1];
    memcpy(buf, p->text + start, n);
    buf[n] = 0;
    if (!is_float) {
        errno = 0;
        char *end;
        long long v = strtoll(buf, &end, 10);
        if (errno == 0 && *end == 0) {
            t->kind = TOK_INT;
            t->i = v;
            p->pos = i;
            return DL_OK;
        }
        /* too large for int64: documented to read as a double */
    }
    t->kind = TOK_FLOAT;
    t->f = strtod(buf, NULL);
    p->pos = i;
    return DL_OK;
}

static void lex_operator(parser *p, token *t, expr_op op, size_t width) {
    t->kind = TOK_CMP;
    t->op = op;
    p->pos += width;
}

static int fail_unexpected_byte(parser *p) {
    unsigned char u = (unsigned char)p->text[p->pos];
    if (u >= 0x80)
        return fail(p, DL_EINVAL,
                    "unexpected byte 0x%02x at offset %zu (write column names with characters "
                    "other than A-Z, 0-9 and _ in double quotes)",
                    u, p->pos);
    if (u < 0x20 || u == 0x7f)
        return fail(p, DL_EINVAL, "unexpected byte 0x%02x at offset %zu", u, p->pos);
    return fail(p, DL_EINVAL, "unexpected character '%c' at offset %zu", (char)u, p->pos);
}

/* Advances to the next token (p->tok), keeping the old one in p->prev. */
static int next_token(parser *p) {
    p->prev = p->tok;
    token *t = &p->tok;
    memset(t, 0, sizeof *t);
    while (p->pos < p->len &&
           (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' || p->text[p->pos] == '\n' ||
            p->text[p->pos] == '\r' || p->text[p->pos] == '\f' || p->text[p->pos] == '\v'))
        p->pos++;
    t->offset = p->pos;
    if (p->pos >= p->len) {
        t->kind = TOK_END;
        return DL_OK;
    }
    const char *s = p->text + p->pos;
    char c = s[0], c1 = p->pos + 1 < p->len ? s[1] : 0;
    int rc = DL_OK;
    switch (c) {
    case '(':
        t->kind = TOK_LPAREN, p->pos++;
        break;
    case ')':
        t->kind = TOK_RPAREN, p->pos++;
        break;
    case ',':
        t->kind = TOK_COMMA, p->pos++;
        break;
    case '=':
        lex_operator(p, t, EXPR_EQ, c1 == '=' ? 2 : 1);
        break;
    case '<':
        if (c1 == '=')
            lex_operator(p, t, EXPR_LE, 2);
        else if (c1 == '>')
            lex_operator(p, t, EXPR_NE, 2);
        else
            lex_operator(p, t, EXPR_LT, 1);
        break;
    case '>':
        lex_operator(p, t, c1 == '=' ? EXPR_GE : EXPR_GT, c1 == '=' ? 2 : 1);
        break;
    case '!':
        if (c1 != '=')
            return fail(p, DL_EINVAL, "unexpected '!' at offset %zu (did you mean '!='?)", p->pos);
        lex_operator(p, t, EXPR_NE, 2);
        break;
    case '\'':
        t->kind = TOK_STRING;
        rc = lex_quoted(p, t, "string");
        break;
    case '"':
        t->kind = TOK_QUOTED_IDENT;
        rc = lex_quoted(p, t, "quoted column name");
        if (rc == DL_OK && t->str_len == 0)
            rc = fail(p, DL_EINVAL, "empty quoted column name at offset %zu", t->offset);
        break;
    default:
        if (is_digit(c) || (c == '.' && is_digit(c1)) ||
            (c == '-' && (is_digit(c1) || (c1 == '.' && p->pos + 2 < p->len && is_digit(s[2]))))) {
            rc = lex_number(p, t);
        } else if (is_name_start(c)) {
            size_t n = 1;
            while (p->pos + n < p->len && is_name_char(s[n])) n++;
            if (p->pos + n < p->len && (unsigned char)s[n] >= 0x80) { /* "prés" */
                p->pos += n;
                return fail_unexpected_byte(p);
            }
            t->kind = TOK_IDENT;
            for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                if (equals_ignore_case(s, n, keywords[k].word)) t->kind = keywords[k].kind;
            if (t->kind == TOK_IDENT) {
                t->str = dl_arena_strndup(&p->expr->arena, s, n);
                if (!t->str) return out_of_memory(p);
                t->str_len = n;
            }
            p->pos += n;
        } else {
            return fail_unexpected_byte(p);
        }
    }
    t->length = p->pos - t->offset;
    return rc;
}

/* "expected X after 'Y' but found Z at offset N" -- the common error. */
static int fail_expected(parser *p, const char *expected) {
    char a[64], b[64];
    if (p->prev.length == 0)
        return fail(p, DL_EINVAL, "expected %s but found %s at offset %zu", expected,
                    describe(p, &p->tok, b, sizeof b), p->tok.offset);
    return fail(p, DL_EINVAL, "expected %s after %s but found %s at offset %zu", expected,
                describe(p, &p->prev, a, sizeof a), describe(p, &p->tok, b, sizeof b),
                p->tok.offset);
}

static int enter_nesting(parser *p) {
    if (++p->depth > DL_EXPR_MAX_DEPTH)
        return fail(p, DL_EINVAL, "expression nested deeper than %d levels at offset %zu",
                    DL_EXPR_MAX_DEPTH, p->tok.offset);
    return DL_OK;
}

/* ------------------------------------------------------------------ */
/* Columns                                                              */
/* ------------------------------------------------------------------ */

static expr_class class_of(dl_type type) {
    switch (type) {
    case DL_TYPE_BOOL:
        return EXPR_CLASS_U8;
    case DL_TYPE_INT32:
    case DL_TYPE_DATE:
        return EXPR_CLASS_I32;
    case DL_TYPE_INT64:
    case DL_TYPE_TIMESTAMP:
        return EXPR_CLASS_I64;
    case DL_TYPE_FLOAT:
        return EXPR_CLASS_F32;
    case DL_TYPE_DOUBLE:
        return EXPR_CLASS_F64;
    default:
        return EXPR_CLASS_BYTES;
    }
}

/* Optimal string alignment distance (edits + adjacent swaps), ASCII case
** folded; names longer than 64 bytes are never suggested. */
static int edit_distance(const char *a, size_t n, const char *b, size_t m) {
    if (n > 64 || m > 64) return 1000;
    int d[65][65];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = ascii_lower(a[i - 1]) != ascii_lower(b[j - 1]);
            int best = DL_MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
            best = DL_MIN(best, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
                ascii_lower(a[i - 2]) == ascii_lower(b[j - 1]))
                best = DL_MIN(best, d[i - 2][j - 2] + 1);
            d[i][j] = best;
        }
    }
    return d[n][m];
}

static int fail_unknown_column(parser *p, const token *t) {
    const dl_schema *s = p->schema;
    int best = -1, best_distance = 1000;
    for (int i = 0; i < s->num_fields; i++) {
        int dist = edit_distance(t->str, t->str_len, s->fields[i].name, strlen(s->fields[i].name));
        if (dist < best_distance) best = i, best_distance = dist;
    }
    char name[64];
    describe(p, t, name, sizeof name);
    if (t->kind == TOK_QUOTED_IDENT) /* show the name, not its quoting */
        snprintf(name, sizeof name, "'%.40s'", t->str);
    /* A suggestion is only helpful when it is clearly the same word. */
    if (best >= 0 && best_distance <= 2 && (size_t)best_distance < t->str_len)
        return fail(p, DL_ENOTFOUND, "unknown column %s at offset %zu (did you mean '%s'?)", name,
                    t->offset, s->fields[best].name);
    char list[400];
    size_t w = 0;
    list[0] = 0;
    for (int i = 0; i < s->num_fields && w + 1 < sizeof list; i++) {
        int k = snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", s->fields[i].name);
        if (k < 0 || (size_t)k >= sizeof list - w) {
            snprintf(list + w, sizeof list - w, ", ...");
            break;
        }
        w += (size_t)k;
    }
    return fail(p, DL_ENOTFOUND, "unknown column %s at offset %zu (columns: %s)", name, t->offset,
                list);
}

/* Finds the schema field named by an identifier token. */
static int resolve_field(parser *p, const token *t, int *field) {
    const dl_schema *s = p->schema;
    int found = -1;
    for (int i = 0; i < s->num_fields && found < 0; i++)
        if (strlen(s->fields[i].name) == t->str_len &&
            memcmp(s->fields[i].name, t->str, t->str_len) == 0)
            found = i;
    if (found < 0 && t->kind == TOK_IDENT) {
        int matches = 0;
        for (int i = 0; i < s->num_fields; i++)
            if (equals_ignore_case(t->str, t->str_len, s->fields[i].name)) found = i, matches++;
        if (matches > 1)
            return fail(p, DL_EINVAL,
                        "column name '%s' at offset %zu matches several columns that differ only "
                        "in case; write it in double quotes with the exact case",
                        t->str, t->offset);
    }
    if (found < 0) return fail_unknown_column(p, t);
    *field = found;
    return DL_OK;
}

/* The expression's slot for a schema field (added on first use). */
static int column_slot(parser *p, int field) {
    dl_expr *e = p->expr;
    for (int i = 0; i < e->num_columns; i++)
        if (e->columns[i].field == field) return i;
    const dl_field *f = &p->schema->fields[field];
    expr_column *c = &e->columns[e->num_columns];
    c->name = f->name; /* replaced by an arena copy in dl_expr_parse */
    c->field = field;
    c->type = f->type;
    c->unit = f->unit;
    c->cls = class_of(f->type);
    return e->num_columns++;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                                */
/* ------------------------------------------------------------------ */

static expr_node *new_node(parser *p, expr_kind kind) {
    expr_node *n = dl_arena_calloc(&p->expr->arena, 1, sizeof *n);
    if (n) n->kind = kind;
    return n;
}

static int new_leaf(parser *p, expr_kind kind, int field, size_t offset, expr_node **out) {
    if (++p->leaves > DL_EXPR_MAX_LEAVES)
        return fail(p, DL_EINVAL, "more than %d conditions (at offset %zu); use 'in (...)' lists",
                    DL_EXPR_MAX_LEAVES, offset);
    expr_node *n = new_node(p, kind);
    if (!n) return out_of_memory(p);
    n->slot = column_slot(p, field);
    n->cls = p->expr->columns[n->slot].cls;
    *out = n;
    return DL_OK;
}

/* ------------------------------------------------------------------ */
/* Literal binding                                                      */
/* ------------------------------------------------------------------ */

/* Where a literal falls on the integer line of a column's unit:
** where = -1 / +1 below / above every int64, else the literal is
** floor (exact) or lies strictly between floor and floor + 1. */
typedef struct int_position {
    int where;
    int64_t floor;
    bool exact;
} int_position;

static int_position position_of_double(double d) {
    int_position pos = {0, 0, true};
    if (d >= 0x1p63) {
        pos.where = 1;
    } else if (d < -0x1p63) {
        pos.where = -1;
    } else {
        double fl = floor(d);
        pos.floor = (int64_t)fl;
        pos.exact = fl == d;
    }
    return pos;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* An instant (secs, nanos) on the integer line of a DATE or TIMESTAMP. */
static int_position position_of_instant(int64_t secs, int64_t nanos, const expr_column *col) {
    int_position pos = {0, 0, true};
    if (col->type == DL_TYPE_DATE) {
        pos.floor = floor_div(secs, 86400);
        pos.exact = secs - pos.floor * 86400 == 0 && nanos == 0;
        return pos;
    }
    int64_t per_second = col->unit == DL_UNIT_MS   ? 1000
                         : col->unit == DL_UNIT_US ? 1000000
                                                   : 1000000000;
    int64_t nanos_per_tick = 1000000000 / per_second, scaled;
    if (__builtin_mul_overflow(secs, per_second, &scaled) ||
        __builtin_add_overflow(scaled, nanos / nanos_per_tick, &pos.floor)) {
        pos.where = secs < 0 ? -1 : 1;
        return pos;
    }
    pos.exact = nanos % nanos_per_tick == 0;
    return pos;
}

static const char *literal_kind_name(tok_kind k) {
    switch (k) {
    case TOK_INT:
    case TOK_FLOAT:
        return "number";
    case TOK_STRING:
        return "string";
    case TOK_TRUE:
    case TOK_FALSE:
        return "boolean";
    default:
        return "value";
    }
}

static int fail_type(parser *p, const expr_column *col, const token *lit) {
    char d[64] = "";
    const char *shown = describe(p, lit, d, sizeof d);
    if (shown == d && lit->kind != TOK_STRING) { /* numbers, true/false read better unquoted */
        d[strlen(d) - 1] = 0;
        shown = d + 1;
    }
    return fail(p, DL_EINVAL, "cannot compare %s column %s with %s %s at offset %zu",
                dl_type_name(col->type), col->name, literal_kind_name(lit->kind), shown,
                lit->offset);
}

/* Converts a literal for an integer-like column (BOOL, INT32/64, DATE,
** TIMESTAMP) to its position on the column's integer line. */
static int literal_int_position(parser *p, const expr_column *col, const token *lit,
                                int_position *out) {
    int_position pos = {0, 0, true};
    bool is_bool = col->type == DL_TYPE_BOOL;
    bool is_time = col->type == DL_TYPE_TIMESTAMP || col->type == DL_TYPE_DATE;
    if (is_bool) {
        if (lit->kind != TOK_TRUE && lit->kind != TOK_FALSE) return fail_type(p, col, lit);
        pos.floor = lit->kind == TOK_TRUE;
    } else if (lit->kind == TOK_INT) {
        pos.floor = lit->i;
    } else if (lit->kind == TOK_FLOAT) {
        pos = position_of_double(lit->f);
    } else if (lit->kind == TOK_STRING && is_time) {
        int64_t secs;
        int32_t nanos;
        dl_iso_status st = dl_iso8601_parse(lit->str, lit->str_len, 0, &secs, &nanos, NULL);
        if (st != DL_ISO_OK) {
            char d[64];
            return fail(p, DL_EINVAL,
                        "invalid %s %s at offset %zu: %s (expected "
                        "'YYYY-MM-DD[THH:MM[:SS[.fraction]]][Z|+HH:MM]')",
                        col->type == DL_TYPE_DATE ? "date" : "timestamp",
                        describe(p, lit, d, sizeof d), lit->offset, dl_iso_status_text(st));
        }
        pos = position_of_instant(secs, nanos, col);
    } else {
        return fail_type(p, col, lit);
    }
    *out = pos;
    return DL_OK;
}

static void class_int_range(expr_class cls, int64_t *lo, int64_t *hi) {
    *lo = cls == EXPR_CLASS_U8 ? 0 : cls == EXPR_CLASS_I32 ? INT32_MIN : INT64_MIN;
    *hi = cls == EXPR_CLASS_U8 ? 1 : cls == EXPR_CLASS_I32 ? INT32_MAX : INT64_MAX;
}

/* Rewrites `x op literal` for an integer column with values in [lo, hi]
** into an equivalent comparison with an integer in that range, or into
** EXPR_ALWAYS / EXPR_NEVER when the answer does not depend on x. */
static expr_op normalize_int_compare(expr_op op, int_position pos, expr_class cls, int64_t *lit) {
    int64_t lo, hi;
    class_int_range(cls, &lo, &hi);
    if (pos.where == 0 && !pos.exact) { /* floor < literal < floor + 1 */
        switch (op) {
        case EXPR_EQ:
            return EXPR_NEVER;
        case EXPR_NE:
            return EXPR_ALWAYS;
        case EXPR_LT:
        case EXPR_LE:
            op = EXPR_LE;
            break;
        default:
            op = EXPR_GT;
            break;
        }
    }
    if (pos.where == 0 && pos.floor > hi) pos.where = 1;
    if (pos.where == 0 && pos.floor < lo) pos.where = -1;
    if (pos.where != 0) {
        switch (op) {
        case EXPR_EQ:
            return EXPR_NEVER;
        case EXPR_NE:
            return EXPR_ALWAYS;
        case EXPR_LT:
        case EXPR_LE:
            return pos.where > 0 ? EXPR_ALWAYS : EXPR_NEVER;
        default:
            return pos.where > 0 ? EXPR_NEVER : EXPR_ALWAYS;
        }
    }
    *lit = pos.floor;
    return op;
}

/* Converts a literal for a FLOAT/DOUBLE column. */
static int literal_double(parser *p, const expr_column *col, const token *lit, double *out) {
    if (lit->kind == TOK_INT)
        *out = (double)lit->i;
    else if (lit->kind == TOK_FLOAT)
        *out = lit->f;
    else
        return fail_type(p, col, lit);
    return DL_OK;
}

static int literal_bytes(parser *p, const expr_column *col, const token *lit, expr_bytes *out) {
    if (lit->kind != TOK_STRING) return fail_type(p, col, lit);
    out->ptr = (const uint8_t *)lit->str;
    out->len = lit->str_len;
    return DL_OK;
}

static bool is_literal(tok_kind k) {
    return k == TOK_INT || k == TOK_FLOAT || k == TOK_STRING || k == TOK_TRUE || k == TOK_FALSE ||
           k == TOK_NULL;
}

static bool is_column(tok_kind k) {
    return k == TOK_IDENT || k == TOK_QUOTED_IDENT;
}

static int fail_null_literal(parser *p, const token *lit) {
    return fail(p, DL_EINVAL,
                "comparing with null at offset %zu is never true; use 'is null' or 'is not null'",
                lit->offset);
}

/* column op literal -> a CMP leaf. */
static int bind_compare(parser *p, int field, size_t offset, expr_op op, const token *lit,
                        expr_node **out) {
    if (lit->kind == TOK_NULL) return fail_null_literal(p, lit);
    expr_node *n;
    int rc = new_leaf(p, EXPR_CMP, field, offset, &n);
    if (rc != DL_OK) return rc;
    const expr_column *col = &p->expr->columns[n->slot];
    n->op = op;
    switch (n->cls) {
    case EXPR_CLASS_F32:
    case EXPR_CLASS_F64:
        rc = literal_double(p, col, lit, &n->lit.f);
        break;
    case EXPR_CLASS_BYTES:
        rc = literal_bytes(p, col, lit, &n->lit.s);
        break;
    default: {
        int_position pos;
        rc = literal_int_position(p, col, lit, &pos);
        if (rc == DL_OK) n->op = normalize_int_compare(op, pos, n->cls, &n->lit.i);
    }
    }
    *out = n;
    return rc;
}

/* ---- in-lists ---- */

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int compare_bytes(const void *a, const void *b) {
    const expr_bytes *x = a, *y = b;
    return dl_bytes_cmp(x->ptr, x->len, y->ptr, y->len);
}

/* Sorts and de-duplicates the collected literals into the arena and
** builds the hash index for large integer and string sets. */
static int finish_set(parser *p, expr_node *n, dl_buf *values, size_t width) {
    expr_set *set = &n->set;
    size_t count = values->len / width;
    int (*cmp)(const void *, const void *) =
        n->cls == EXPR_CLASS_BYTES                               ? compare_bytes
        : (n->cls == EXPR_CLASS_F32 || n->cls == EXPR_CLASS_F64) ? compare_double
                                                                 : dl_cmp_i64;
    if (count > 1) qsort(values->data, count, width, cmp);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || cmp(values->data + (unique - 1) * width, values->data + i * width) != 0)
            memmove(values->data + unique++ * width, values->data + i * width, width);
    void *copy = dl_arena_alloc(&p->expr->arena, unique * width + 1);
    if (!copy) return out_of_memory(p);
    if (unique) memcpy(copy, values->data, unique * width);
    set->count = (int64_t)unique;
    if (n->cls == EXPR_CLASS_BYTES)
        set->bytes = copy;
    else if (n->cls == EXPR_CLASS_F32 || n->cls == EXPR_CLASS_F64)
        set->doubles = copy;
    else
        set->ints = copy;
    bool hashed = unique > DL_EXPR_SMALL_SET && set->doubles == NULL;
    if (!hashed) return DL_OK;
    uint64_t slots = 16;
    while (slots < unique * 2) slots *= 2; /* load factor <= 1/2 */
    set->slots = dl_arena_alloc(&p->expr->arena, slots * sizeof(int64_t));
    if (!set->slots) return out_of_memory(p);
    memset(set->slots, 0xff, slots * sizeof(int64_t)); /* -1 = empty */
    set->mask = slots - 1;
    for (size_t k = 0; k < unique; k++) {
        uint64_t h = set->ints ? dl_expr_hash_int(set->ints[k])
                               : dl_hash_bytes(set->bytes[k].ptr, set->bytes[k].len);
        while (set->slots[h & set->mask] >= 0) h++;
        set->slots[h & set->mask] = (int64_t)k;
    }
    return DL_OK;
}

/* Appends one `in` literal in the column's class; literals an integer
** column can never equal (2.5, out of range) are dropped. */
static int add_set_literal(parser *p, expr_node *n, const token *lit, dl_buf *values) {
    const expr_column *col = &p->expr->columns[n->slot];
    int rc;
    if (lit->kind == TOK_NULL) return fail_null_literal(p, lit);
    if (n->cls == EXPR_CLASS_BYTES) {
        expr_bytes b;
        rc = literal_bytes(p, col, lit, &b);
        if (rc == DL_OK && dl_buf_append(values, &b, sizeof b) != DL_OK) rc = out_of_memory(p);
    } else if (n->cls == EXPR_CLASS_F32 || n->cls == EXPR_CLASS_F64) {
        double d;
        rc = literal_double(p, col, lit, &d);
        if (rc == DL_OK && dl_buf_append(values, &d, sizeof d) != DL_OK) rc = out_of_memory(p);
    } else {
        int_position pos;
        int64_t v;
        rc = literal_int_position(p, col, lit, &pos);
        if (rc == DL_OK && normalize_int_compare(EXPR_EQ, pos, n->cls, &v) == EXPR_EQ &&
            dl_buf_append(values, &v, sizeof v) != DL_OK)
            rc = out_of_memory(p);
    }
    return rc;
}

/* column [not] in ( literal, ... ) -- the current token is the '('. */
static int parse_in_list(parser *p, int field, size_t offset, bool negated, expr_node **out) {
    int rc = DL_OK;
    dl_buf values = DL_BUF_INIT;
    expr_node *n;
    int64_t count = 0;
    DL_TRY(new_leaf(p, EXPR_IN, field, offset, &n));
    n->negated = negated;
    size_t width = n->cls == EXPR_CLASS_BYTES                               ? sizeof(expr_bytes)
                   : (n->cls == EXPR_CLASS_F32 || n->cls == EXPR_CLASS_F64) ? sizeof(double)
                                                                            : sizeof(int64_t);
    if (p->tok.kind != TOK_LPAREN) DL_TRY(fail_expected(p, "'('"));
    DL_TRY(next_token(p));
    if (p->tok.kind == TOK_RPAREN)
        DL_FAIL(p->err, DL_EINVAL, "filter: empty 'in' list at offset %zu", p->tok.offset);
    for (;;) {
        if (!is_literal(p->tok.kind)) DL_TRY(fail_expected(p, "a value"));
        if (++count > DL_EXPR_MAX_IN_LIST)
            DL_FAIL(p->err, DL_EINVAL, "filter: 'in' list longer than %d values at offset %zu",
                    DL_EXPR_MAX_IN_LIST, p->tok.offset);
        DL_TRY(add_set_literal(p, n, &p->tok, &values));
        DL_TRY(next_token(p));
        if (p->tok.kind == TOK_RPAREN) break;
        if (p->tok.kind != TOK_COMMA) DL_TRY(fail_expected(p, "',' or ')'"));
        DL_TRY(next_token(p));
    }
    DL_TRY(next_token(p)); /* past ')' */
    DL_TRY(finish_set(p, n, &values, width));
    /* Degenerate sets become plain comparisons (cheaper, and prunable). */
    if (n->set.count <= 1) {
        n->kind = EXPR_CMP;
        if (n->set.count == 0) {
            n->op = negated ? EXPR_ALWAYS : EXPR_NEVER;
        } else {
            n->op = negated ? EXPR_NE : EXPR_EQ;
            if (n->set.ints) n->lit.i = n->set.ints[0];
            if (n->set.doubles) n->lit.f = n->set.doubles[0];
            if (n->set.bytes) n->lit.s = n->set.bytes[0];
        }
    }
    *out = n;
cleanup:
    dl_buf_free(&values);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Grammar                                                              */
/* ------------------------------------------------------------------ */

static int parse_chain(parser *p, expr_kind kind, expr_node **out);

static expr_op flip(expr_op op) {
    switch (op) {
    case EXPR_LT:
        return EXPR_GT;
    case EXPR_LE:
        return EXPR_GE;
    case EXPR_GT:
        return EXPR_LT;
    case EXPR_GE:
        return EXPR_LE;
    default:
        return op;
    }
}

/* A comparison, in/is test, bare boolean column, true/false, or a
** parenthesised expression. */
static int parse_predicate(parser *p, expr_node **out) {
    int rc;
    char d1[64], d2[64];
    if (p->tok.kind == TOK_LPAREN) {
        size_t open = p->tok.offset;
        if ((rc = enter_nesting(p)) != DL_OK || (rc = next_token(p)) != DL_OK ||
            (rc = parse_chain(p, EXPR_OR, out)) != DL_OK)
            return rc;
        if (p->tok.kind != TOK_RPAREN) {
            char what[64];
            snprintf(what, sizeof what, "')' to close the '(' at offset %zu", open);
            return fail_expected(p, what);
        }
        p->depth--;
        return next_token(p);
    }
    if (!is_column(p->tok.kind) && !is_literal(p->tok.kind))
        return fail_expected(p, "a column, value or '('");
    token lhs = p->tok;
    int field = -1;
    if (is_column(lhs.kind) && (rc = resolve_field(p, &lhs, &field)) != DL_OK) return rc;
    if ((rc = next_token(p)) != DL_OK) return rc;

    if (p->tok.kind == TOK_CMP) {
        expr_op op = p->tok.op;
        if ((rc = next_token(p)) != DL_OK) return rc;
        if (!is_column(p->tok.kind) && !is_literal(p->tok.kind)) return fail_expected(p, "a value");
        token rhs = p->tok;
        if (is_column(lhs.kind) && is_column(rhs.kind))
            return fail(p, DL_EUNSUPPORTED,
                        "comparing two columns (%s at offset %zu with %s at offset %zu) is not "
                        "supported; compare a column with a value",
                        describe(p, &lhs, d1, sizeof d1), lhs.offset,
                        describe(p, &rhs, d2, sizeof d2), rhs.offset);
        if (!is_column(lhs.kind) && !is_column(rhs.kind))
            return fail(p, DL_EINVAL,
                        "comparison of two values at offset %zu: one side must be a column",
                        lhs.offset);
        if (!is_column(lhs.kind)) { /* 5 < x  ==  x > 5 */
            if ((rc = resolve_field(p, &rhs, &field)) != DL_OK) return rc;
            rc = bind_compare(p, field, rhs.offset, flip(op), &lhs, out);
        } else {
            rc = bind_compare(p, field, lhs.offset, op, &rhs, out);
        }
        return rc != DL_OK ? rc : next_token(p);
    }
    bool is_in = p->tok.kind == TOK_IN, is_not_in = p->tok.kind == TOK_NOT;
    if (is_in || is_not_in || p->tok.kind == TOK_IS) {
        if (!is_column(lhs.kind))
            return fail(p, DL_EINVAL, "the left side of %s at offset %zu must be a column",
                        describe(p, &p->tok, d1, sizeof d1), p->tok.offset);
        if (p->tok.kind == TOK_IS) {
            if ((rc = next_token(p)) != DL_OK) return rc;
            bool negated = p->tok.kind == TOK_NOT;
            if (negated && (rc = next_token(p)) != DL_OK) return rc;
            if (p->tok.kind != TOK_NULL) return fail_expected(p, "'null'");
            if ((rc = new_leaf(p, EXPR_IS_NULL, field, lhs.offset, out)) != DL_OK) return rc;
            (*out)->negated = negated;
            return next_token(p);
        }
        if ((rc = next_token(p)) != DL_OK) return rc;
        if (is_not_in) {
            if (p->tok.kind != TOK_IN) return fail_expected(p, "'in'");
            if ((rc = next_token(p)) != DL_OK) return rc;
        }
        return parse_in_list(p, field, lhs.offset, is_not_in, out);
    }
    /* A bare operand. */
    if (is_column(lhs.kind)) {
        const dl_field *f = &p->schema->fields[field];
        if (f->type != DL_TYPE_BOOL)
            return fail(p, DL_EINVAL,
                        "column %s at offset %zu is %s, not boolean: compare it with a value "
                        "(e.g. %s > 0)",
                        f->name, lhs.offset, dl_type_name(f->type), f->name);
        if ((rc = new_leaf(p, EXPR_CMP, field, lhs.offset, out)) != DL_OK) return rc;
        (*out)->op = EXPR_EQ;
        (*out)->lit.i = 1;
        return DL_OK;
    }
    if (lhs.kind == TOK_TRUE || lhs.kind == TOK_FALSE) {
        if (!(*out = new_node(p, EXPR_CONST))) return out_of_memory(p);
        (*out)->value = lhs.kind == TOK_TRUE;
        return DL_OK;
    }
    return fail(p, DL_EINVAL, "%s at offset %zu is not a condition: compare a column with it",
                describe(p, &lhs, d1, sizeof d1), lhs.offset);
}

static int parse_not(parser *p, expr_node **out) {
    if (p->tok.kind != TOK_NOT) return parse_predicate(p, out);
    int rc;
    expr_node *child;
    if ((rc = enter_nesting(p)) != DL_OK || (rc = next_token(p)) != DL_OK ||
        (rc = parse_not(p, &child)) != DL_OK)
        return rc;
    p->depth--;
    expr_node *n = new_node(p, EXPR_NOT);
    if (!n) return out_of_memory(p);
    n->num_children = 1;
    n->children = dl_arena_alloc(&p->expr->arena, sizeof(expr_node *));
    if (!n->children) return out_of_memory(p);
    n->children[0] = child;
    *out = n;
    return DL_OK;
}

/* a OR b OR ... (kind EXPR_OR) and a AND b AND ... (EXPR_AND): one n-ary
** node per chain, so long chains do not deepen the tree. */
static int parse_chain(parser *p, expr_kind kind, expr_node **out) {
    int rc = DL_OK;
    tok_kind separator = kind == EXPR_OR ? TOK_OR : TOK_AND;
    dl_buf kids = DL_BUF_INIT;
    expr_node *child = NULL;
    for (;;) {
        DL_TRY(kind == EXPR_OR ? parse_chain(p, EXPR_AND, &child) : parse_not(p, &child));
        if (kids.len == 0 && p->tok.kind != separator) { /* not a chain */
            *out = child;
            goto cleanup;
        }
        // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
        if (dl_buf_append(&kids, &child, sizeof child) != DL_OK) DL_TRY(out_of_memory(p));
        if (p->tok.kind != separator) break;
        DL_TRY(next_token(p));
    }
    expr_node *n = new_node(p, kind);
    if (!n || !(n->children = dl_arena_alloc(&p->expr->arena, kids.len))) DL_TRY(out_of_memory(p));
    memcpy(n->children, kids.data, kids.len);
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    n->num_children = (int)(kids.len / sizeof child);
    *out = n;
cleanup:
    dl_buf_free(&kids);
    return rc;
}

static int tree_depth(const expr_node *n) {
    int deepest = 0;
    for (int i = 0; i < n->num_children; i++) {
        int d = tree_depth(n->children[i]); /* once: DL_MAX evaluates twice */
        if (d > deepest) deepest = d;
    }
    return deepest + 1;
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                  */
/* ------------------------------------------------------------------ */

int dl_expr_parse(const char *text, const dl_schema *schema, dl_expr **out, dl_error *err) {
    int rc = DL_OK;
    if (out) *out = NULL;
    if (!text || !schema || !out) return dl_error_set(err, DL_EINVAL, "filter: missing argument");
    size_t len = strnlen(text, DL_EXPR_MAX_TEXT + 1);
    if (len > DL_EXPR_MAX_TEXT)
        return dl_error_set(err, DL_EINVAL, "filter: text longer than %zu bytes", DL_EXPR_MAX_TEXT);
    dl_expr *e = calloc(1, sizeof *e);
    if (!e) return dl_error_set(err, DL_ENOMEM, "filter: out of memory");
    dl_arena_init(&e->arena, ARENA_LIMIT);
    parser p = {.text = text, .len = len, .schema = schema, .expr = e, .err = err};
    e->columns =
        dl_arena_calloc(&e->arena, (size_t)DL_MAX(schema->num_fields, 1), sizeof(expr_column));
    if (!e->columns) DL_TRY(out_of_memory(&p));
    DL_TRY(next_token(&p));
    if (p.tok.kind == TOK_END) DL_FAIL(err, DL_EINVAL, "filter: the expression is empty");
    DL_TRY(parse_chain(&p, EXPR_OR, &e->root));
    if (p.tok.kind != TOK_END) {
        char d[64];
        DL_FAIL(err, DL_EINVAL,
                "filter: unexpected %s at offset %zu (expected 'and', 'or' or the end)",
                describe(&p, &p.tok, d, sizeof d), p.tok.offset);
    }
    for (int i = 0; i < e->num_columns; i++) { /* own the names: the schema may go away */
        e->columns[i].name =
            dl_arena_strndup(&e->arena, e->columns[i].name, strlen(e->columns[i].name));
        if (!e->columns[i].name) DL_TRY(out_of_memory(&p));
    }
    e->tree_depth = tree_depth(e->root);
    *out = e;
    e = NULL;
cleanup:
    dl_expr_free(e);
    return rc;
}

void dl_expr_free(dl_expr *e) {
    if (!e) return;
    dl_arena_free(&e->arena);
    free(e);
}

int dl_expr_num_columns(const dl_expr *e) {
    return e ? e->num_columns : 0;
}

const char *dl_expr_column_name(const dl_expr *e, int i) {
    return e && i >= 0 && i < e->num_columns ? e->columns[i].name : NULL;
}
