/*
** test_query.c -- the lake scan engine (dl_query_*) against a naive
** reference: dl_lake_read of each dataset, then a row-by-row evaluation of
** the time range and of the filter (a tiny three-valued interpreter of the
** grammar generated here).  The lake has several symbols, gaps, nulls,
** schema evolution (columns that appear later, int32 -> int64 and
** int32 -> double widening), several versions, and small row groups and
** pages so that pruning really happens.  Also: determinism across thread
** counts, as-of queries, pruning statistics, error messages, bounded
** memory over a larger lake, and a throughput print.
*/
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dl_test.h"

#define MIN_US      INT64_C(60000000)
#define DAY_US      INT64_C(86400000000)
#define DAY0        INT64_C(1704412800000000) /* 2024-01-05T00:00:00Z */
#define NUM_DAYS    16
#define NUM_SYMBOLS 3
#define DENSE_DAY   3 /* every minute of this day exists in every dataset */
#define GLOB        "BINANCE/SPOT/*/raw/1m"
#define ROW_GROUP   256
#define PAGE_ROWS   32

static const char *const symbols[NUM_SYMBOLS] = {"AAA", "BBB", "CCC"};

/* ------------------------------------------------------------------ */
/* Deterministic randomness                                             */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static int rnd_int(int lo, int hi) {
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}
static bool chance(int percent) {
    return rnd_int(0, 99) < percent;
}

static void dataset_name(int sym, char *buf, size_t size) {
    snprintf(buf, size, "BINANCE/SPOT/%s/raw/1m", symbols[sym]);
}

/* ------------------------------------------------------------------ */
/* Building the lake                                                    */
/* ------------------------------------------------------------------ */

/* The columns dataset `sym` has in write phase `phase` (0: the first half
** of the days, 1: the second half):
**   ts, close (never null), volume, side (strings), trade_count (AAA:
**   int32 then int64; BBB int32; CCC int64), lvl (AAA int32; BBB int32
**   then double; CCC none), extra (AAA phase 1 only; CCC), flag (BBB),
**   seen (CCC: a timestamp in ms, then in us). */
static void phase_schema(int sym, int phase, dl_schema *s) {
    dl_schema_init(s);
    dl_schema_add_timestamp(s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(s, "close", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(s, "volume", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "side", DL_TYPE_STRING, true, NULL);
    dl_type count_type = sym == 1 || (sym == 0 && phase == 0) ? DL_TYPE_INT32 : DL_TYPE_INT64;
    dl_schema_add(s, "trade_count", count_type, true, NULL);
    if (sym != 2)
        dl_schema_add(s, "lvl", sym == 1 && phase == 1 ? DL_TYPE_DOUBLE : DL_TYPE_INT32, true,
                      NULL);
    if (sym == 2 || (sym == 0 && phase == 1)) dl_schema_add(s, "extra", DL_TYPE_DOUBLE, true, NULL);
    if (sym == 1) dl_schema_add(s, "flag", DL_TYPE_BOOL, true, NULL);
    if (sym == 2)
        dl_schema_add_timestamp(s, "seen", phase == 0 ? DL_UNIT_MS : DL_UNIT_US, true, NULL);
}

static const char *const side_words[] = {"buy", "sell", "", "b"};

/* Appends one generated row (minute `minute` of `day`) to t.  close rises
** with time so that filters on it can prune row groups; `salt` marks
** rewritten rows. */
static void append_row(dl_table *t, int sym, int day, int minute, double salt) {
    for (int c = 0; c < t->schema.num_fields; c++) {
        const char *name = t->schema.fields[c].name;
        dl_column *col = &t->columns[c];
        if (strcmp(name, "ts") == 0) {
            dl_column_append_i64(col, DAY0 + day * DAY_US + minute * MIN_US, NULL);
        } else if (strcmp(name, "close") == 0) {
            dl_column_append_f64(
                col, 100.0 * (sym + 1) + day * 5 + minute / 288.0 + rnd_int(0, 7) * 0.25 + salt,
                NULL);
        } else if (chance(strcmp(name, "trade_count") == 0 ? 5 : 15)) {
            dl_column_append_null(col, NULL);
        } else if (strcmp(name, "volume") == 0) {
            dl_column_append_f64(col, rnd_int(0, 40) * 0.5, NULL);
        } else if (strcmp(name, "side") == 0) {
            const char *w = side_words[rnd_int(0, 3)];
            dl_column_append_str(col, w, strlen(w), NULL);
        } else if (strcmp(name, "trade_count") == 0) {
            if (col->type == DL_TYPE_INT32)
                dl_column_append_i32(col, rnd_int(0, 99), NULL);
            else
                dl_column_append_i64(
                    col, chance(10) ? INT64_C(5000000000) + rnd_int(0, 3) : rnd_int(0, 99), NULL);
        } else if (strcmp(name, "lvl") == 0) {
            if (col->type == DL_TYPE_INT32)
                dl_column_append_i32(col, rnd_int(-5, 15), NULL);
            else
                dl_column_append_f64(col, rnd_int(-10, 30) * 0.5, NULL);
        } else if (strcmp(name, "extra") == 0) {
            dl_column_append_f64(col, rnd_int(0, 1000) / 8.0 - 50, NULL);
        } else if (strcmp(name, "flag") == 0) {
            dl_column_append_bool(col, chance(50), NULL);
        } else if (strcmp(name, "seen") == 0) { /* within a minute after ts */
            int64_t ms = (DAY0 + day * DAY_US + minute * MIN_US) / 1000 + rnd_int(0, 59999);
            dl_column_append_i64(col, col->unit == DL_UNIT_MS ? ms : ms * 1000 + rnd_int(0, 999),
                                 NULL);
        }
    }
}

/* Appends a day's rows with a random shape: dense, every other minute, a
** random third, or a handful; DENSE_DAY always has every minute. */
static void append_day(dl_table *t, int sym, int day, double salt) {
    int shape = day == DENSE_DAY ? 0 : rnd_int(0, 3);
    int first = shape == 0 ? 0 : rnd_int(0, 600), last = shape == 0 ? 1439 : rnd_int(800, 1439);
    for (int m = first; m <= last; m++) {
        bool keep = shape == 0 || (shape == 1 && m % 2 == 0) || (shape == 2 && chance(33)) ||
                    (shape == 3 && chance(1));
        if (keep) append_row(t, sym, day, m, salt);
    }
}

static void write_table(dl_lake *lake, int sym, const dl_table *t) {
    char ds[64];
    dataset_name(sym, ds, sizeof ds);
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    o.durable = false;
    o.threads = 1;
    o.parquet.row_group_rows = ROW_GROUP;
    o.parquet.page_rows = PAGE_ROWS;
    dl_error err;
    CHECK_OK(dl_lake_write(lake, ds, t, &o, NULL, &err), &err);
}

/* Writes days [from, to) of phase `phase` (some days left out as gaps). */
static void write_days(dl_lake *lake, int sym, int phase, int from, int to, double salt) {
    dl_schema s;
    phase_schema(sym, phase, &s);
    dl_table t;
    dl_table_init(&t, &s, NULL);
    for (int day = from; day < to; day++)
        if (day == DENSE_DAY || !chance(15)) append_day(&t, sym, day, salt);
    dl_table_seal(&t, NULL);
    if (t.num_rows > 0) write_table(lake, sym, &t);
    dl_table_free(&t);
    dl_schema_free(&s);
}

/* The test lake.  AAA gets four versions: the two phases, then a rewrite
** of parts of two days (one with the new schema over an old int32 file),
** then a new day after the end and a partial day-5 rewrite. */
static dl_lake *build_lake(void) {
    char root[512];
    snprintf(root, sizeof root, "%s/lake", dl_test_tmpdir());
    dl_error err;
    dl_lake *lake = NULL;
    CHECK_OK(dl_lake_init(root, &err), &err);
    CHECK_OK(dl_lake_open(root, false, &lake, &err), &err);
    if (!lake) return NULL;
    rng_state = 0x2545F4914F6CDD1Dull;
    for (int sym = 0; sym < NUM_SYMBOLS; sym++) write_days(lake, sym, 0, 0, NUM_DAYS / 2, 0);
    for (int sym = 0; sym < NUM_SYMBOLS; sym++) write_days(lake, sym, 1, NUM_DAYS / 2, NUM_DAYS, 0);
    dl_schema s;
    dl_table t;
    phase_schema(0, 1, &s); /* v3 */
    dl_table_init(&t, &s, NULL);
    for (int m = 100; m < 400; m += 3) append_row(&t, 0, 2, m, 1000);
    for (int m = 0; m < 1440; m += 7) append_row(&t, 0, NUM_DAYS / 2 + 1, m, 1000);
    dl_table_seal(&t, NULL);
    write_table(lake, 0, &t);
    dl_table_free(&t);
    dl_schema_free(&s);
    phase_schema(0, 0, &s); /* v4 */
    dl_table_init(&t, &s, NULL);
    for (int m = 0; m < 1440; m += 5) append_row(&t, 0, NUM_DAYS + 2, m, 2000);
    for (int m = 700; m < 760; m++) append_row(&t, 0, 5, m, 2000);
    dl_table_seal(&t, NULL);
    write_table(lake, 0, &t);
    dl_table_free(&t);
    dl_schema_free(&s);
    return lake;
}

/* ------------------------------------------------------------------ */
/* Reference: cells, filters, expected output                           */
/* ------------------------------------------------------------------ */

typedef enum { CELL_NULL, CELL_INT, CELL_DBL, CELL_STR } cell_kind;

typedef struct cell {
    cell_kind kind;
    int64_t i; /* BOOL, INT32, INT64, TIMESTAMP */
    double f;  /* FLOAT, DOUBLE */
    const char *s;
    size_t len;
} cell;

static cell cell_at(const dl_column *c, int64_t row) {
    cell v = {CELL_NULL, 0, 0, NULL, 0};
    if (!dl_column_is_valid(c, row)) return v;
    switch (c->type) {
    case DL_TYPE_BOOL:
        v.kind = CELL_INT, v.i = ((const uint8_t *)c->values)[row];
        break;
    case DL_TYPE_INT32:
    case DL_TYPE_DATE:
        v.kind = CELL_INT, v.i = ((const int32_t *)c->values)[row];
        break;
    case DL_TYPE_INT64:
    case DL_TYPE_TIMESTAMP:
        v.kind = CELL_INT, v.i = ((const int64_t *)c->values)[row];
        break;
    case DL_TYPE_FLOAT:
        v.kind = CELL_DBL, v.f = ((const float *)c->values)[row];
        break;
    case DL_TYPE_DOUBLE:
        v.kind = CELL_DBL, v.f = ((const double *)c->values)[row];
        break;
    default:
        v.kind = CELL_STR;
        v.s = c->data + c->offsets[row];
        v.len = (size_t)(c->offsets[row + 1] - c->offsets[row]);
    }
    return v;
}

/* sign(a - b) of two non-null cells of one column's literal class. */
static int cell_order(cell a, cell b) {
    if (a.kind == CELL_STR) {
        size_t n = a.len < b.len ? a.len : b.len;
        int c = n ? memcmp(a.s, b.s, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return a.len < b.len ? -1 : a.len > b.len;
    }
    if (a.kind == CELL_INT && b.kind == CELL_INT) return a.i < b.i ? -1 : a.i > b.i;
    double x = a.kind == CELL_INT ? (double)a.i : a.f, y = b.kind == CELL_INT ? (double)b.i : b.f;
    return x < y ? -1 : x > y;
}

enum { R_CMP, R_IN, R_NOT_IN, R_IS_NULL, R_NOT_NULL, R_NOT, R_AND, R_OR };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const op_text[] = {"=", "!=", "<", "<=", ">", ">="};
enum { TV_FALSE = 0, TV_TRUE = 1, TV_UNKNOWN = 2 };

typedef struct rnode {
    int kind, op;
    const char *column;
    cell lits[4];
    int num_lits;
    const struct rnode *a, *b;
} rnode;

#define MAX_NODES 64
typedef struct rfilter {
    rnode nodes[MAX_NODES];
    int used;
    char text[4096];
    size_t w;
    char strings[MAX_NODES * 4][16]; /* storage of string literals */
    int num_strings;
} rfilter;

/* The union of the datasets' columns as the test expects it (name, type). */
typedef struct test_union {
    dl_schema schema;
} test_union;

static dl_type widest(dl_type a, dl_type b) {
    if (a == b) return a;
    if (a == DL_TYPE_DOUBLE || b == DL_TYPE_DOUBLE) return DL_TYPE_DOUBLE;
    return DL_TYPE_INT64; /* int32 + int64 (the only other mix generated) */
}

static void union_of(dl_lake *lake, const int *syms, int n, dl_schema *out) {
    dl_schema_init(out);
    for (int k = 0; k < n; k++) {
        char ds[64];
        dataset_name(syms[k], ds, sizeof ds);
        dl_schema s;
        dl_error err;
        CHECK_OK(dl_lake_dataset_schema(lake, ds, &s, &err), &err);
        for (int f = 0; f < s.num_fields; f++) {
            int at = dl_schema_find(out, s.fields[f].name);
            if (at < 0) {
                dl_schema_add(out, s.fields[f].name, s.fields[f].type, true, NULL);
                out->fields[out->num_fields - 1].unit = s.fields[f].unit;
            } else {
                out->fields[at].type = widest(out->fields[at].type, s.fields[f].type);
            }
        }
        dl_schema_free(&s);
    }
}

static void emit(rfilter *f, const char *fmt, const char *arg) {
    int n = snprintf(f->text + f->w, sizeof f->text - f->w, fmt, arg);
    if (n > 0) f->w += (size_t)n;
    if (f->w >= sizeof f->text) f->w = sizeof f->text - 1;
}

/* A literal for a column of union type `type`, printed into the filter:
** mostly a value that really occurs (so = and in match), sometimes a
** nearby or odd one (a decimal against an integer column). */
static cell random_literal(rfilter *f, const dl_field *field, const dl_table *const *refs, int n) {
    cell v = {CELL_NULL, 0, 0, NULL, 0};
    if (chance(70)) { /* a value that occurs in some reference table */
        const dl_table *t = refs[rnd_int(0, n - 1)];
        int c = dl_schema_find(&t->schema, field->name);
        if (c >= 0 && t->num_rows > 0)
            v = cell_at(&t->columns[c], rnd_int(0, (int)t->num_rows - 1));
    }
    char buf[64];
    switch (field->type) {
    case DL_TYPE_STRING:
        if (v.kind == CELL_NULL || v.len >= 15) {
            static const char *const others[] = {"buy", "sell", "", "bz", "a"};
            v.s = others[rnd_int(0, 4)];
            v.len = strlen(v.s);
        }
        memcpy(f->strings[f->num_strings], v.s, v.len);
        f->strings[f->num_strings][v.len] = 0;
        v.s = f->strings[f->num_strings++];
        v.kind = CELL_STR;
        emit(f, "'%s'", v.s);
        return v;
    case DL_TYPE_BOOL:
        if (v.kind == CELL_NULL) v.i = chance(50);
        v.kind = CELL_INT;
        emit(f, "%s", v.i ? "true" : "false");
        return v;
    case DL_TYPE_TIMESTAMP:
        if (v.kind == CELL_NULL) v.i = DAY0 + rnd_int(-2, NUM_DAYS + 3) * DAY_US;
        v.kind = CELL_INT;
        if (chance(30)) v.i += rnd_int(-3, 3) * 30000000; /* between rows */
        dl_format_timestamp(v.i, DL_UNIT_US, buf, sizeof buf);
        emit(f, "'%s'", buf);
        return v;
    case DL_TYPE_INT32:
    case DL_TYPE_INT64:
        if (chance(10)) { /* a decimal against an integer column */
            v.kind = CELL_DBL;
            v.f = rnd_int(-10, 120) + 0.5;
            snprintf(buf, sizeof buf, "%.17g", v.f);
        } else {
            if (v.kind == CELL_NULL) v.i = rnd_int(-10, 120);
            v.kind = CELL_INT;
            snprintf(buf, sizeof buf, "%lld", (long long)v.i);
        }
        emit(f, "%s", buf);
        return v;
    default: /* DOUBLE (possibly holding int32 values in some files) */
        if (v.kind == CELL_NULL) {
            v.kind = CELL_DBL;
            v.f = rnd_int(-200, 2000) / 4.0;
        }
        if (v.kind == CELL_INT)
            snprintf(buf, sizeof buf, "%lld", (long long)v.i);
        else
            snprintf(buf, sizeof buf, "%.17g", v.f);
        emit(f, "%s", buf);
        return v;
    }
}

static const rnode *random_filter(rfilter *f, const dl_schema *uni, const dl_table *const *refs,
                                  int n, int depth) {
    if (f->used >= MAX_NODES - 3) depth = 0;
    rnode *node = &f->nodes[f->used++];
    memset(node, 0, sizeof *node);
    if (depth > 0 && chance(55)) {
        int k = rnd_int(0, 2);
        if (k == 0) {
            node->kind = R_NOT;
            emit(f, "%s", chance(50) ? "not (" : "NOT (");
            node->a = random_filter(f, uni, refs, n, depth - 1);
            emit(f, "%s", ")");
        } else {
            node->kind = k == 1 ? R_AND : R_OR;
            emit(f, "%s", "(");
            node->a = random_filter(f, uni, refs, n, depth - 1);
            emit(f, "%s", k == 1 ? ") and (" : ") or (");
            node->b = random_filter(f, uni, refs, n, depth - 1);
            emit(f, "%s", ")");
        }
        return node;
    }
    const dl_field *field = &uni->fields[rnd_int(0, uni->num_fields - 1)];
    node->column = field->name;
    emit(f, "%s ", field->name);
    int leaf = rnd_int(0, 99);
    if (leaf < 15) {
        node->kind = chance(50) ? R_IS_NULL : R_NOT_NULL;
        emit(f, "%s", node->kind == R_IS_NULL ? "is null" : "is not null");
    } else if (leaf < 30 && field->type != DL_TYPE_BOOL) {
        node->kind = chance(60) ? R_IN : R_NOT_IN;
        emit(f, "%s", node->kind == R_IN ? "in (" : "not in (");
        node->num_lits = rnd_int(1, 4);
        for (int k = 0; k < node->num_lits; k++) {
            if (k) emit(f, "%s", ", ");
            node->lits[k] = random_literal(f, field, refs, n);
        }
        emit(f, "%s", ")");
    } else {
        node->kind = R_CMP;
        node->op = field->type == DL_TYPE_BOOL ? rnd_int(0, 1) : rnd_int(0, 5);
        emit(f, "%s ", op_text[node->op]);
        node->num_lits = 1;
        node->lits[0] = random_literal(f, field, refs, n);
    }
    return node;
}

/* Three-valued evaluation of node on row `row` of the reference table t
** (a column t lacks is null). */
static int ref_eval(const rnode *node, const dl_table *t, int64_t row) {
    switch (node->kind) {
    case R_NOT: {
        int v = ref_eval(node->a, t, row);
        return v == TV_UNKNOWN ? v : !v;
    }
    case R_AND:
    case R_OR: {
        int a = ref_eval(node->a, t, row), b = ref_eval(node->b, t, row);
        int absorbing = node->kind == R_AND ? TV_FALSE : TV_TRUE;
        if (a == absorbing || b == absorbing) return absorbing;
        return a == TV_UNKNOWN || b == TV_UNKNOWN ? TV_UNKNOWN : !absorbing;
    }
    default:
        break;
    }
    int c = dl_schema_find(&t->schema, node->column);
    cell v = c >= 0 ? cell_at(&t->columns[c], row) : (cell){CELL_NULL, 0, 0, NULL, 0};
    if (node->kind == R_IS_NULL) return v.kind == CELL_NULL;
    if (node->kind == R_NOT_NULL) return v.kind != CELL_NULL;
    if (v.kind == CELL_NULL) return TV_UNKNOWN;
    if (node->kind == R_IN || node->kind == R_NOT_IN) {
        bool member = false;
        for (int k = 0; k < node->num_lits; k++) member |= cell_order(v, node->lits[k]) == 0;
        return node->kind == R_IN ? member : !member;
    }
    int o = cell_order(v, node->lits[0]);
    switch (node->op) {
    case OP_EQ:
        return o == 0;
    case OP_NE:
        return o != 0;
    case OP_LT:
        return o < 0;
    case OP_LE:
        return o <= 0;
    case OP_GT:
        return o > 0;
    default:
        return o >= 0;
    }
}

/* Appends row `row` of src to dst, widening like the lake does. */
static void append_cell(dl_column *dst, const dl_column *src, int64_t row) {
    if (!dl_column_is_valid(src, row)) {
        dl_column_append_null(dst, NULL);
    } else if (src->type == DL_TYPE_TIMESTAMP && dst->type == DL_TYPE_TIMESTAMP) {
        int64_t v = ((const int64_t *)src->values)[row];
        for (int u = (int)src->unit; u < (int)dst->unit; u++) v *= 1000;
        dl_column_append_i64(dst, v, NULL);
    } else if (src->type == dst->type) {
        dl_column_append_range(dst, src, row, 1, NULL);
    } else if (dst->type == DL_TYPE_INT64 && src->type == DL_TYPE_INT32) {
        dl_column_append_i64(dst, ((const int32_t *)src->values)[row], NULL);
    } else if (dst->type == DL_TYPE_DOUBLE && src->type == DL_TYPE_INT32) {
        dl_column_append_f64(dst, ((const int32_t *)src->values)[row], NULL);
    } else {
        fprintf(stderr, "  reference: no widening from %s to %s\n", dl_type_name(src->type),
                dl_type_name(dst->type));
        dl_test_failures++;
        dl_column_append_null(dst, NULL);
    }
}

/* What dl_query should return: for each dataset in order, every reference
** row with ts in [from, to) on which the filter is true, projected onto
** `schema` by column name ("symbol" = the dataset's symbol; a column the
** reference lacks is null). */
static void expected_rows(const dl_schema *schema, const dl_table *const *refs, const int *syms,
                          int n, int64_t from, int64_t to, const rnode *filter, dl_table *out) {
    dl_table_init(out, schema, NULL);
    for (int k = 0; k < n; k++) {
        const dl_table *t = refs[k];
        int ts = dl_schema_find(&t->schema, "ts");
        int *src = calloc((size_t)schema->num_fields, sizeof(int));
        for (int c = 0; c < schema->num_fields; c++)
            src[c] = dl_schema_find(&t->schema, schema->fields[c].name);
        for (int64_t r = 0; r < t->num_rows; r++) {
            int64_t v = ((const int64_t *)t->columns[ts].values)[r];
            if (v < from || v >= to) continue;
            if (filter && ref_eval(filter, t, r) != TV_TRUE) continue;
            for (int c = 0; c < schema->num_fields; c++) {
                dl_column *dst = &out->columns[c];
                if (strcmp(schema->fields[c].name, "symbol") == 0 && src[c] < 0)
                    dl_column_append_str(dst, symbols[syms[k]], 3, NULL);
                else if (src[c] < 0)
                    dl_column_append_null(dst, NULL);
                else
                    append_cell(dst, &t->columns[src[c]], r);
            }
        }
        free(src);
    }
    dl_table_seal(out, NULL);
}

/* Compares two tables column by column: same names, types, rows, nulls
** and bit-identical values.  Describes the first difference in why. */
static bool tables_equal(const dl_table *got, const dl_table *want, char *why, size_t size) {
    if (got->schema.num_fields != want->schema.num_fields) {
        snprintf(why, size, "%d columns, expected %d", got->schema.num_fields,
                 want->schema.num_fields);
        return false;
    }
    if (got->num_rows != want->num_rows) {
        snprintf(why, size, "%lld rows, expected %lld", (long long)got->num_rows,
                 (long long)want->num_rows);
        return false;
    }
    for (int c = 0; c < got->schema.num_fields; c++) {
        const dl_field *g = &got->schema.fields[c], *w = &want->schema.fields[c];
        const dl_column *gc = &got->columns[c], *wc = &want->columns[c];
        if (strcmp(g->name, w->name) != 0 || g->type != w->type || gc->type != g->type) {
            snprintf(why, size, "column %d is %s %s, expected %s %s", c, g->name,
                     dl_type_name(g->type), w->name, dl_type_name(w->type));
            return false;
        }
        int64_t nulls = 0;
        size_t width = dl_type_width(g->type);
        for (int64_t r = 0; r < got->num_rows; r++) {
            bool gv = dl_column_is_valid(gc, r), wv = dl_column_is_valid(wc, r);
            nulls += !gv;
            bool same = gv == wv;
            if (same && gv && width)
                same = memcmp((const char *)gc->values + r * (int64_t)width,
                              (const char *)wc->values + r * (int64_t)width, width) == 0;
            else if (same && gv)
                same = cell_order(cell_at(gc, r), cell_at(wc, r)) == 0;
            if (!same) {
                snprintf(why, size, "column %s row %lld differs (valid %d vs %d)", g->name,
                         (long long)r, gv, wv);
                return false;
            }
        }
        if (nulls != gc->null_count) {
            snprintf(why, size, "column %s: null_count %lld but %lld null slots", g->name,
                     (long long)gc->null_count, (long long)nulls);
            return false;
        }
    }
    return true;
}

/* Runs a query to the end, concatenating its batches into *out (which is
** initialised here with the query's schema). */
static int run_query(dl_lake *lake, const dl_query_spec *spec, dl_table *out, dl_query_stats *st,
                     dl_error *err) {
    dl_query *q = NULL;
    memset(out, 0, sizeof *out);
    int rc = dl_query_open(lake, spec, &q, err);
    if (rc != DL_OK) return rc;
    dl_table batch;
    rc = dl_table_init(out, dl_query_schema(q), err);
    if (rc == DL_OK) rc = dl_table_init(&batch, dl_query_schema(q), err);
    if (rc != DL_OK) {
        dl_query_close(q);
        return rc;
    }
    while ((rc = dl_query_next(q, &batch, err)) == DL_OK && batch.num_rows > 0) {
        for (int c = 0; c < batch.schema.num_fields && rc == DL_OK; c++)
            rc =
                dl_column_append_range(&out->columns[c], &batch.columns[c], 0, batch.num_rows, err);
        if (rc != DL_OK) break;
    }
    if (rc == DL_OK) rc = dl_table_seal(out, err);
    if (st) dl_query_get_stats(q, st);
    dl_table_free(&batch);
    dl_query_close(q);
    return rc;
}

/* The expected output schema: symbol first when asked for, then the
** projection (or every union column, in the order the query chose). */
static void expected_schema(const dl_schema *uni, bool symbol, const char *const *columns,
                            int num_columns, const dl_schema *got, dl_schema *out) {
    dl_schema_init(out);
    if (symbol) dl_schema_add(out, "symbol", DL_TYPE_STRING, false, NULL);
    for (int i = 0; i < (columns ? num_columns : got->num_fields); i++) {
        const char *name = columns ? columns[i] : got->fields[i].name;
        if (symbol && strcmp(name, "symbol") == 0) continue;
        int at = dl_schema_find(uni, name);
        if (at < 0) continue; /* reported as a column-count difference */
        dl_schema_add(out, name, uni->fields[at].type, true, NULL);
        out->fields[out->num_fields - 1].unit = uni->fields[at].unit;
    }
}

/* One query in every thread count, compared with the reference.  Returns
** false (after printing the query) on the first difference. */
typedef struct query_case {
    const char *datasets[NUM_SYMBOLS]; /* names or patterns as passed */
    int num_names;
    int syms[NUM_SYMBOLS]; /* the matched datasets' symbols, in output order */
    int num_datasets;
    int64_t from, to, as_of_version, as_of_time;
    const char *columns[8];
    int num_columns; /* -1 = all */
    int symbol_column;
    rfilter *filter; /* NULL = none */
    const rnode *filter_root;
} query_case;

static bool check_case(dl_lake *lake, const query_case *qc, const dl_table *const *refs,
                       dl_query_stats *stats_out) {
    dl_schema uni;
    union_of(lake, qc->syms, qc->num_datasets, &uni);
    bool symbol = qc->symbol_column == 1 || (qc->symbol_column < 0 && qc->num_datasets > 1);
    bool ok = true;
    static const int thread_counts[] = {1, 2, 4};
    for (int k = 0; k < 3 && ok; k++) {
        dl_query_spec spec;
        dl_query_spec_default(&spec);
        spec.datasets = qc->datasets;
        spec.num_datasets = qc->num_names;
        spec.ts_from = qc->from;
        spec.ts_to = qc->to;
        spec.columns = qc->num_columns >= 0 ? qc->columns : NULL;
        spec.num_columns = qc->num_columns >= 0 ? qc->num_columns : 0;
        spec.filter = qc->filter ? qc->filter->text : NULL;
        spec.as_of_version = qc->as_of_version;
        spec.as_of_time = qc->as_of_time;
        spec.symbol_column = qc->symbol_column;
        spec.threads = thread_counts[k];
        dl_table got, want;
        dl_query_stats st;
        dl_error err;
        char why[DL_ERROR_MESSAGE_MAX + 64] = "";
        int rc = run_query(lake, &spec, &got, &st, &err);
        if (rc != DL_OK) {
            snprintf(why, sizeof why, "query failed: %s", err.message);
            ok = false;
        } else {
            dl_schema want_schema;
            expected_schema(&uni, symbol, spec.columns, spec.num_columns, &got.schema,
                            &want_schema);
            expected_rows(&want_schema, refs, qc->syms, qc->num_datasets, qc->from, qc->to,
                          qc->filter ? qc->filter_root : NULL, &want);
            dl_schema_free(&want_schema);
            ok = tables_equal(&got, &want, why, sizeof why);
            if (ok && (st.rows_returned != got.num_rows || st.rows_scanned < got.num_rows ||
                       st.row_groups_pruned > st.row_groups)) {
                snprintf(why, sizeof why, "inconsistent stats");
                ok = false;
            }
            if (stats_out) *stats_out = st;
            dl_table_free(&want);
        }
        dl_table_free(&got);
        if (!ok) {
            fprintf(stderr, "  query differs from the reference (threads %d): %s\n", spec.threads,
                    why);
            fprintf(stderr, "    datasets:");
            for (int i = 0; i < qc->num_names; i++) fprintf(stderr, " %s", qc->datasets[i]);
            fprintf(stderr, "\n    range [%lld, %lld) as_of_version %lld as_of_time %lld\n",
                    (long long)qc->from, (long long)qc->to, (long long)qc->as_of_version,
                    (long long)qc->as_of_time);
            fprintf(stderr, "    columns:");
            for (int i = 0; i < qc->num_columns; i++) fprintf(stderr, " %s", qc->columns[i]);
            fprintf(stderr, "%s\n    symbol_column %d filter: %s\n",
                    qc->num_columns < 0 ? " (all)" : "", qc->symbol_column,
                    qc->filter ? qc->filter->text : "(none)");
            dl_test_failures++;
        }
    }
    dl_schema_free(&uni);
    return ok;
}

/* Reads every dataset at `version` (0 = current) as the reference. */
static void read_refs(dl_lake *lake, int64_t version, dl_table refs[NUM_SYMBOLS]) {
    for (int sym = 0; sym < NUM_SYMBOLS; sym++) {
        char ds[64];
        dataset_name(sym, ds, sizeof ds);
        dl_error err;
        CHECK_OK(
            dl_lake_read(lake, ds, INT64_MIN, INT64_MAX, sym == 0 ? version : 0, &refs[sym], &err),
            &err);
    }
}

static int64_t random_row_ts(const dl_table *t) {
    if (t->num_rows == 0) return DAY0;
    int ts = dl_schema_find(&t->schema, "ts");
    return ((const int64_t *)t->columns[ts].values)[rnd_int(0, (int)t->num_rows - 1)];
}

/* A time range of a random kind: unbounded, on rows, between rows, half
** open, outside the data, empty, narrow. */
static void random_range(const dl_table *t, int64_t *from, int64_t *to) {
    int64_t a = random_row_ts(t), b = random_row_ts(t);
    if (a > b) {
        int64_t x = a;
        a = b;
        b = x;
    }
    *from = INT64_MIN;
    *to = INT64_MAX;
    switch (rnd_int(0, 9)) {
    case 0:
        break;
    case 1:
        *from = a, *to = b;
        break; /* exactly on rows */
    case 2:
        *from = a + 30000000, *to = b - 30000000;
        break; /* between rows */
    case 3:
        *from = a;
        break; /* from only */
    case 4:
        *to = b + 1;
        break; /* to only, just after a row */
    case 5:
        *to = DAY0 - rnd_int(0, 3) * DAY_US;
        break; /* before the data */
    case 6:
        *from = DAY0 + (NUM_DAYS + 5) * DAY_US;
        break; /* after the data */
    case 7:
        *from = b, *to = a;
        break; /* empty or reversed */
    case 8:
        *from = a, *to = a + rnd_int(1, 90) * MIN_US;
        break; /* narrow */
    default:
        *from = a - 1, *to = b + 1;
        break; /* 1 us around rows */
    }
}

/* Fills the projection of qc from the union: all columns (-1) or a random
** subset in random order, sometimes with "symbol". */
static void random_projection(const dl_schema *uni, query_case *qc) {
    if (chance(25)) {
        qc->num_columns = -1;
        return;
    }
    int order[16], n = uni->num_fields;
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = rnd_int(0, i), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    qc->num_columns = rnd_int(1, n < 5 ? n : 5);
    for (int i = 0; i < qc->num_columns; i++) qc->columns[i] = uni->fields[order[i]].name;
    if (qc->symbol_column == 1 && chance(30)) qc->columns[qc->num_columns++] = "symbol";
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

DL_TEST(query_random_vs_reference) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_table refs[NUM_SYMBOLS];
    read_refs(lake, 0, refs);
    static char names[NUM_SYMBOLS][2][64];
    for (int sym = 0; sym < NUM_SYMBOLS; sym++) {
        dataset_name(sym, names[sym][0], 64);
        snprintf(names[sym][1], 64, "binance/Spot/%c%c%c/raw/1m", symbols[sym][0] + 32,
                 symbols[sym][1], symbols[sym][2] + 32); /* normalised by the query */
    }
    static rfilter filter;
    int failures = 0;
    for (int iter = 0; iter < 250 && failures < 3; iter++) {
        query_case qc;
        memset(&qc, 0, sizeof qc);
        int shape = rnd_int(0, 2);
        if (shape == 0) {
            qc.datasets[0] = GLOB;
            qc.num_names = 1;
            qc.num_datasets = NUM_SYMBOLS;
            for (int i = 0; i < NUM_SYMBOLS; i++) qc.syms[i] = i;
        } else {
            qc.num_names = qc.num_datasets = shape;
            qc.syms[0] = rnd_int(0, NUM_SYMBOLS - 1);
            if (shape == 2) qc.syms[1] = (qc.syms[0] + rnd_int(1, NUM_SYMBOLS - 1)) % NUM_SYMBOLS;
            for (int i = 0; i < shape; i++) qc.datasets[i] = names[qc.syms[i]][rnd_int(0, 1)];
        }
        qc.symbol_column = rnd_int(-1, 1);
        const dl_table *qrefs[NUM_SYMBOLS];
        for (int i = 0; i < qc.num_datasets; i++) qrefs[i] = &refs[qc.syms[i]];
        /* a glob lists datasets in name order; so does qc.syms */
        dl_schema uni;
        union_of(lake, qc.syms, qc.num_datasets, &uni);
        random_range(qrefs[rnd_int(0, qc.num_datasets - 1)], &qc.from, &qc.to);
        random_projection(&uni, &qc);
        if (chance(80)) {
            memset(&filter, 0, sizeof filter);
            qc.filter = &filter;
            qc.filter_root = random_filter(&filter, &uni, qrefs, qc.num_datasets, rnd_int(0, 3));
        }
        if (!check_case(lake, &qc, qrefs, NULL)) failures++;
        dl_schema_free(&uni);
    }
    for (int sym = 0; sym < NUM_SYMBOLS; sym++) dl_table_free(&refs[sym]);
    dl_lake_close(lake);
}

DL_TEST(query_uniform_view_and_symbols) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    const char *glob[] = {GLOB};
    spec.datasets = glob;
    spec.num_datasets = 1;
    dl_query *q = NULL;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    if (q) {
        /* widening across files and datasets, symbol first */
        const dl_schema *s = dl_query_schema(q);
        CHECK(s->num_fields >= 1 && strcmp(s->fields[0].name, "symbol") == 0);
        int tc = dl_schema_find(s, "trade_count"), lvl = dl_schema_find(s, "lvl");
        int flag = dl_schema_find(s, "flag"), extra = dl_schema_find(s, "extra");
        CHECK(tc >= 0 && s->fields[tc].type == DL_TYPE_INT64);
        CHECK(lvl >= 0 && s->fields[lvl].type == DL_TYPE_DOUBLE);
        CHECK(flag >= 0 && s->fields[flag].type == DL_TYPE_BOOL);
        CHECK(extra >= 0 && s->fields[extra].type == DL_TYPE_DOUBLE);
        /* batches come dataset by dataset: symbols never go back */
        dl_table batch;
        dl_table_init(&batch, s, NULL);
        int last_sym = -1;
        bool ordered = true;
        int64_t rows = 0;
        while (dl_query_next(q, &batch, &err) == DL_OK && batch.num_rows > 0) {
            for (int64_t r = 0; r < batch.num_rows; r++) {
                cell v = cell_at(&batch.columns[0], r);
                int sym = v.len == 3 ? v.s[0] - 'A' : -1;
                ordered &= sym >= last_sym && sym >= 0 && sym < NUM_SYMBOLS;
                last_sym = sym;
            }
            rows += batch.num_rows;
        }
        CHECK(ordered);
        CHECK_EQ_INT(last_sym, NUM_SYMBOLS - 1);
        dl_query_stats st;
        dl_query_get_stats(q, &st);
        CHECK_EQ_INT(st.datasets, NUM_SYMBOLS);
        CHECK_EQ_INT(st.rows_returned, rows);
        dl_table_free(&batch);
        dl_query_close(q);
    }
    /* one dataset: no symbol column unless asked for */
    const char *one[] = {"BINANCE/SPOT/BBB/raw/1m"};
    spec.datasets = one;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    if (q) {
        CHECK(dl_schema_find(dl_query_schema(q), "symbol") < 0);
        dl_query_close(q);
    }
    spec.symbol_column = 1;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    if (q) {
        CHECK_EQ_INT(dl_schema_find(dl_query_schema(q), "symbol"), 0);
        dl_query_close(q);
    }
    dl_lake_close(lake);
}

DL_TEST(query_as_of_versions) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    dl_lake_version *hist = NULL;
    int64_t nver = 0;
    CHECK_OK(dl_lake_history(lake, "BINANCE/SPOT/AAA/raw/1m", &hist, &nver, &err), &err);
    CHECK_EQ_INT(nver, 4);
    static rfilter filter;
    for (int64_t v = 1; v <= nver; v++) {
        dl_table refs[NUM_SYMBOLS];
        read_refs(lake, v, refs);
        const dl_table *qrefs[1] = {&refs[0]};
        dl_schema uni;
        int sym0 = 0;
        union_of(lake, &sym0, 1, &uni);
        for (int iter = 0; iter < 12; iter++) {
            query_case qc;
            memset(&qc, 0, sizeof qc);
            qc.datasets[0] = "BINANCE/SPOT/AAA/raw/1m";
            qc.num_names = qc.num_datasets = 1;
            qc.as_of_version = v;
            qc.symbol_column = -1;
            random_range(&refs[0], &qc.from, &qc.to);
            random_projection(&uni, &qc);
            if (iter % 2) {
                memset(&filter, 0, sizeof filter);
                qc.filter = &filter;
                qc.filter_root = random_filter(&filter, &uni, qrefs, 1, 2);
            }
            check_case(lake, &qc, qrefs, NULL);
        }
        /* as of the commit time of version v: every dataset at its own
        ** version of that moment; those that did not exist yet add no rows */
        int64_t at = hist[v - 1].committed_at;
        dl_table trefs[NUM_SYMBOLS];
        const dl_table *tq[NUM_SYMBOLS];
        query_case qc;
        memset(&qc, 0, sizeof qc);
        qc.datasets[0] = GLOB;
        qc.num_names = 1;
        qc.as_of_time = at;
        qc.symbol_column = -1; /* three datasets match: symbol shown */
        qc.from = INT64_MIN;
        qc.to = INT64_MAX;
        static const char *const common[] = {"ts", "close", "trade_count", "side", "volume"};
        qc.num_columns = 5;
        memcpy(qc.columns, common, sizeof common);
        for (int sym = 0; sym < NUM_SYMBOLS; sym++) {
            char ds[64];
            dataset_name(sym, ds, sizeof ds);
            int64_t version = 0;
            if (dl_lake_version_at(lake, ds, at, &version, NULL) != DL_OK) continue;
            CHECK_OK(dl_lake_read(lake, ds, INT64_MIN, INT64_MAX, version, &trefs[qc.num_datasets],
                                  &err),
                     &err);
            tq[qc.num_datasets] = &trefs[qc.num_datasets];
            qc.syms[qc.num_datasets++] = sym;
        }
        CHECK(qc.num_datasets == NUM_SYMBOLS || v == 1);
        qc.symbol_column = 1; /* expected_schema counts the matched datasets only */
        check_case(lake, &qc, tq, NULL);
        for (int i = 0; i < qc.num_datasets; i++) dl_table_free(&trefs[i]);
        dl_schema_free(&uni);
        for (int sym = 0; sym < NUM_SYMBOLS; sym++) dl_table_free(&refs[sym]);
    }
    /* before the first commit nothing existed */
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    const char *glob[] = {GLOB};
    spec.datasets = glob;
    spec.num_datasets = 1;
    spec.as_of_time = nver > 0 ? hist[0].committed_at - 1 : 1;
    dl_query *q = NULL;
    CHECK_RC(dl_query_open(lake, &spec, &q, &err), DL_ENOTFOUND);
    CHECK(q == NULL);
    dl_free(hist);
    dl_lake_close(lake);
}

/* Pruning must never change a result: compares a filtered query with the
** filter applied by dl_expr_eval to the whole dl_lake_read table (no
** statistics, no page index), and returns the query's statistics. */
static dl_query_stats check_pruned_query(dl_lake *lake, int sym, int64_t from, int64_t to,
                                         const char *filter) {
    char ds[64];
    dataset_name(sym, ds, sizeof ds);
    const char *names[1] = {ds};
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = names;
    spec.num_datasets = 1;
    spec.ts_from = from;
    spec.ts_to = to;
    spec.filter = filter;
    spec.threads = 2;
    dl_table got, all, want;
    dl_query_stats st;
    memset(&st, 0, sizeof st);
    dl_error err;
    CHECK_OK(run_query(lake, &spec, &got, &st, &err), &err);
    CHECK_OK(dl_lake_read(lake, ds, from, to, 0, &all, &err), &err);
    if (filter) {
        dl_expr *e = NULL;
        CHECK_OK(dl_expr_parse(filter, &all.schema, &e, &err), &err);
        uint8_t *sel = malloc((size_t)all.num_rows + 1);
        CHECK_OK(dl_expr_eval(e, &all, sel, NULL, &err), &err);
        CHECK_OK(dl_table_filter(&all, sel, &err), &err);
        free(sel);
        dl_expr_free(e);
    }
    const dl_table *refs[1] = {&all};
    expected_rows(&got.schema, refs, &sym, 1, INT64_MIN, INT64_MAX, NULL, &want);
    char why[256];
    if (!tables_equal(&got, &want, why, sizeof why)) {
        fprintf(stderr, "  '%s' over %s: %s\n", filter ? filter : "", ds, why);
        dl_test_failures++;
    }
    CHECK_EQ_INT(st.rows_returned, got.num_rows);
    dl_table_free(&got);
    dl_table_free(&all);
    dl_table_free(&want);
    return st;
}

DL_TEST(query_pruning_statistics) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    const int64_t dense = DAY0 + DENSE_DAY * DAY_US, dense_groups = 1440 / ROW_GROUP + 1;

    /* 20 minutes of a full day: one file, every row group but one skipped
    ** by its ts statistics, and only the pages around the range decoded */
    dl_query_stats st =
        check_pruned_query(lake, 0, dense + 600 * MIN_US, dense + 620 * MIN_US, NULL);
    CHECK_EQ_INT(st.files, 1);
    CHECK_EQ_INT(st.row_groups, dense_groups);
    CHECK_EQ_INT(st.row_groups_pruned, dense_groups - 1);
    CHECK_EQ_INT(st.rows_returned, 20);
    CHECK(st.rows_scanned <= PAGE_ROWS * 2);

    /* AAA's dense day is an int32 trade_count file (values < 100) in an
    ** int64 union; BBB's first days hold lvl (< 16) as int32 in a double
    ** union: the narrower statistics still prune every row group */
    st = check_pruned_query(lake, 0, dense, dense + DAY_US, "trade_count > 100");
    CHECK_EQ_INT(st.row_groups_pruned, dense_groups);
    st = check_pruned_query(lake, 1, INT64_MIN, DAY0 + NUM_DAYS / 2 * DAY_US, "lvl > 15.5");
    CHECK(st.row_groups > 0);
    CHECK_EQ_INT(st.row_groups_pruned, st.row_groups);
    CHECK_EQ_INT(st.rows_scanned, 0);
    /* CCC's first days hold `seen` in ms, the union in us */
    st = check_pruned_query(lake, 2, INT64_MIN, DAY0 + NUM_DAYS / 2 * DAY_US,
                            "seen < '2024-01-05T00:00:00.000001Z'");
    CHECK(st.row_groups > 0);
    CHECK_EQ_INT(st.row_groups_pruned, st.row_groups);
    st =
        check_pruned_query(lake, 2, INT64_MIN, DAY0 + NUM_DAYS / 2 * DAY_US,
                           "seen >= '2024-01-08T10:00:00.001Z' and seen <= '2024-01-08T10:05:00Z'");
    CHECK(st.rows_returned > 0);
    CHECK_EQ_INT(st.row_groups_pruned, st.row_groups - 1);
    /* inside the one row group left, the page index of `seen` skips every
    ** page but those around 10:00-10:05 (no ts range is involved) */
    CHECK(st.rows_page_pruned > 0);
    CHECK(st.rows_scanned <= 2 * PAGE_ROWS);
    /* `extra` exists only in AAA's later files: the row groups of the
    ** earlier files are all-null for it and pruned (null_count == values) */
    st = check_pruned_query(lake, 0, INT64_MIN, INT64_MAX, "extra is not null");
    CHECK(st.rows_returned > 0);
    CHECK(st.row_groups_pruned > 0);
    dl_query_stats st_all = check_pruned_query(lake, 0, INT64_MIN, INT64_MAX, NULL);
    CHECK(st.rows_scanned < st_all.rows_scanned);
    /* ... and at their edges they keep exactly the matching rows */
    check_pruned_query(lake, 1, INT64_MIN, DAY0 + NUM_DAYS / 2 * DAY_US, "lvl <= -5");
    check_pruned_query(lake, 1, INT64_MIN, DAY0 + NUM_DAYS / 2 * DAY_US, "lvl >= 15");
    check_pruned_query(lake, 0, dense, dense + DAY_US, "trade_count = 0 or trade_count >= 99");

    /* selective filters over the whole of AAA: close rises with time */
    static const struct {
        const char *filter;
        bool prunes;
    } cases[] = {
        {"close > 170", true},
        {"close >= 115 and close < 116", true},
        {"ts < '2024-01-07' and close > 100", true},
        {"not (trade_count <= 100)", true},
        {"close > 100000", true},
        {"side in ('buy', 'sell') and close < 120", true},
        /* a NaN would make `not (close <= x)` true: no statistics can rule it out */
        {"not (close <= 170)", false},
        /* all-null chunks: dl_stats carries no row count to show it */
        {"extra is not null", false},
        {"volume is null or trade_count is null", false},
    };
    int64_t total_rows = 0;
    dl_lake_file_list files;
    dl_error err;
    CHECK_OK(dl_lake_files(lake, "BINANCE/SPOT/AAA/raw/1m", INT64_MIN, INT64_MAX, 0, &files, &err),
             &err);
    for (int64_t i = 0; i < files.count; i++) total_rows += files.files[i].rows;
    dl_lake_file_list_free(&files);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        st = check_pruned_query(lake, 0, INT64_MIN, INT64_MAX, cases[k].filter);
        if (!cases[k].prunes) continue; /* results checked, pruning not expected */
        if (st.row_groups_pruned == 0) fprintf(stderr, "  no pruning: %s\n", cases[k].filter);
        CHECK(st.row_groups_pruned > 0);
        CHECK(st.rows_scanned < total_rows);
    }
    dl_lake_close(lake);
}

static int open_error(dl_lake *lake, const char *const *datasets, int n, const char *const *columns,
                      int num_columns, const char *filter, int64_t version, dl_error *err) {
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = datasets;
    spec.num_datasets = n;
    spec.columns = columns;
    spec.num_columns = num_columns;
    spec.filter = filter;
    spec.as_of_version = version;
    dl_query *q = NULL;
    int rc = dl_query_open(lake, &spec, &q, err);
    if (rc == DL_OK) dl_query_close(q);
    CHECK(rc != DL_OK || q != NULL);
    return rc;
}

DL_TEST(query_errors) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    const char *aaa[] = {"BINANCE/SPOT/AAA/raw/1m"};
    const char *two[] = {"BINANCE/SPOT/AAA/raw/1m", "BINANCE/SPOT/BBB/raw/1m"};
    const char *unknown[] = {"BINANCE/SPOT/ZZZ/raw/1m"};
    const char *nomatch[] = {"BINANCE/SPOT/X*/raw/1m"};
    const char *bad[] = {"BINANCE/SPOT"};
    const char *glob[] = {GLOB};
    const char *nope[] = {"close", "nope"};
    const char *dup[] = {"close", "close", "ts"};

    CHECK_RC(open_error(lake, unknown, 1, NULL, 0, NULL, 0, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "ZZZ") != NULL);
    CHECK_RC(open_error(lake, nomatch, 1, NULL, 0, NULL, 0, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "no dataset matches 'BINANCE/SPOT/X*/raw/1m'") != NULL);
    CHECK_RC(open_error(lake, bad, 1, NULL, 0, NULL, 0, &err), DL_EINVAL);
    CHECK_RC(open_error(lake, aaa, 0, NULL, 0, NULL, 0, &err), DL_EINVAL);
    CHECK(strstr(err.message, "no dataset") != NULL);
    CHECK_RC(open_error(lake, aaa, 1, nope, 2, NULL, 0, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "unknown column 'nope'") && strstr(err.message, "close"));
    CHECK_RC(open_error(lake, aaa, 1, dup, 3, NULL, 0, &err), DL_EINVAL);
    CHECK(strstr(err.message, "'close'") && strstr(err.message, "twice"));
    CHECK(open_error(lake, aaa, 1, NULL, 0, "clsoe > 1", 0, &err) != DL_OK);
    CHECK(strstr(err.message, "unknown column 'clsoe' at offset 0") != NULL);
    CHECK(open_error(lake, aaa, 1, NULL, 0, "close > ", 0, &err) != DL_OK);
    CHECK(strstr(err.message, "offset") != NULL);
    CHECK(open_error(lake, aaa, 1, NULL, 0, "side > 3", 0, &err) != DL_OK);
    CHECK_RC(open_error(lake, two, 2, NULL, 0, NULL, 2, &err), DL_EINVAL);
    CHECK(strstr(err.message, "exactly one dataset") != NULL);
    CHECK_RC(open_error(lake, glob, 1, NULL, 0, NULL, 1, &err), DL_EINVAL);
    CHECK(strstr(err.message, "exactly one dataset") != NULL);
    CHECK_RC(open_error(lake, aaa, 1, NULL, 0, NULL, 99, &err), DL_ENOTFOUND);
    /* a filter on a column of BBB only: fine over the glob (null elsewhere) */
    CHECK_OK(open_error(lake, glob, 1, NULL, 0, "flag = true", 0, &err), &err);
    /* two datasets whose column types cannot be combined */
    for (int k = 0; k < 2; k++) {
        dl_schema s;
        dl_schema_init(&s);
        dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
        dl_schema_add(&s, "side", k ? DL_TYPE_INT64 : DL_TYPE_STRING, false, NULL);
        dl_table t;
        dl_table_init(&t, &s, NULL);
        dl_column_append_i64(&t.columns[0], DAY0, NULL);
        if (k)
            dl_column_append_i64(&t.columns[1], 1, NULL);
        else
            dl_column_append_str(&t.columns[1], "buy", 3, NULL);
        dl_table_seal(&t, NULL);
        CHECK_OK(dl_lake_write(lake, k ? "OTHER/SPOT/YY/raw/1m" : "OTHER/SPOT/XX/raw/1m", &t, NULL,
                               NULL, &err),
                 &err);
        dl_table_free(&t);
        dl_schema_free(&s);
    }
    const char *other[] = {"other/spot/*/raw/1m"}; /* normalised like a dataset name */
    CHECK_RC(open_error(lake, other, 1, NULL, 0, NULL, 0, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "column 'side' is int64 in OTHER/SPOT/YY/raw/1m but string in "
                              "OTHER/SPOT/XX/raw/1m") != NULL);
    const char *just_y[] = {"OTHER/SPOT/Y*/raw/1m"};
    CHECK_OK(open_error(lake, just_y, 1, NULL, 0, "side = 1", 0, &err), &err);

    /* a damaged day file: the query reports it (with its path) when its
    ** turn comes, after the good days before it, and stays failed */
    dl_lake_file_list files;
    CHECK_OK(dl_lake_files(lake, aaa[0], INT64_MIN, INT64_MAX, 0, &files, &err), &err);
    CHECK(files.count > 3);
    if (files.count > 3) {
        CHECK_EQ_INT(truncate(files.files[1].path, files.files[1].bytes / 2), 0);
        dl_query_spec spec;
        dl_query_spec_default(&spec);
        spec.datasets = aaa;
        spec.num_datasets = 1;
        spec.threads = 2;
        dl_query *q = NULL;
        CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
        if (q) {
            dl_table batch;
            dl_table_init(&batch, dl_query_schema(q), NULL);
            /* batches are row groups: every row of the good first file
            ** comes out before the damaged second file's error */
            int64_t before_error = 0;
            int rc;
            while ((rc = dl_query_next(q, &batch, &err)) == DL_OK && batch.num_rows > 0)
                before_error += batch.num_rows;
            CHECK_EQ_INT(before_error, files.files[0].rows);
            CHECK(rc != DL_OK);
            CHECK(strstr(err.message, files.files[1].path) != NULL);
            CHECK_EQ_INT(batch.num_rows, 0);
            dl_error_clear(&err);
            CHECK_RC(dl_query_next(q, &batch, &err), rc);
            CHECK(strstr(err.message, files.files[1].path) != NULL);
            dl_table_free(&batch);
            dl_query_close(q);
        }
    }
    dl_lake_file_list_free(&files);

    /* dl_query_next with a batch of the wrong shape */
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = aaa;
    spec.num_datasets = 1;
    dl_query *q = NULL;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    if (q) {
        dl_schema s;
        dl_schema_init(&s);
        dl_schema_add(&s, "x", DL_TYPE_INT64, false, NULL);
        dl_table t;
        dl_table_init(&t, &s, NULL);
        CHECK_RC(dl_query_next(q, &t, &err), DL_EINVAL);
        dl_table_free(&t);
        dl_schema_free(&s);
        dl_query_close(q);
    }
    dl_lake_close(lake);
}

/* ------------------------------------------------------------------ */
/* Memory bound and throughput on a larger lake                         */
/* ------------------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
static int64_t heap_in_use(void) {
    return (int64_t)__sanitizer_get_current_allocated_bytes();
}
#else
static int64_t heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)(mi.uordblks + mi.hblkhd);
}
#endif

#define BIG_DAYS    120
#define BIG_COLUMNS 8 /* ts + 7 doubles: 64 bytes a row */

static dl_lake *build_big_lake(int64_t *rows) {
    char root[512];
    snprintf(root, sizeof root, "%s/big", dl_test_tmpdir());
    dl_error err;
    dl_lake *lake = NULL;
    CHECK_OK(dl_lake_init(root, &err), &err);
    CHECK_OK(dl_lake_open(root, false, &lake, &err), &err);
    if (!lake) return NULL;
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    static const char *const names[] = {"open", "high", "low", "close", "volume", "quote", "taker"};
    for (int c = 0; c < BIG_COLUMNS - 1; c++)
        dl_schema_add(&s, names[c], DL_TYPE_DOUBLE, false, NULL);
    dl_table t;
    dl_table_init(&t, &s, NULL);
    double price = 100;
    for (int64_t m = 0; m < (int64_t)BIG_DAYS * 1440; m++) {
        price += rnd_int(-100, 100) / 100.0;
        dl_column_append_i64(&t.columns[0], DAY0 + m * MIN_US, NULL);
        for (int c = 1; c < BIG_COLUMNS; c++)
            dl_column_append_f64(&t.columns[c], c == 5 ? rnd_int(0, 1000) : price + c, NULL);
    }
    dl_table_seal(&t, NULL);
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    o.durable = false;
    CHECK_OK(dl_lake_write(lake, "BINANCE/SPOT/BIG/raw/1m", &t, &o, NULL, &err), &err);
    *rows = t.num_rows;
    dl_table_free(&t);
    dl_schema_free(&s);
    return lake;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

DL_TEST(query_memory_is_bounded_by_the_window) {
    int64_t lake_rows = 0;
    dl_lake *lake = build_big_lake(&lake_rows);
    if (!lake) return;
    const int64_t lake_bytes = lake_rows * BIG_COLUMNS * 8;
    dl_error err;
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    const char *ds[] = {"BINANCE/SPOT/BIG/raw/1m"};
    spec.datasets = ds;
    spec.num_datasets = 1;
    spec.threads = 2;
    spec.max_buffer_bytes = lake_bytes / 16;
    /* A slow consumer: the workers run ahead as far as they may.  Heap in
    ** use is sampled at every batch; its peak above the starting level must
    ** stay a small fraction of the decoded lake (120 days; the read-ahead
    ** budget is 1/16 of it, plus a file per thread and the one consumed). */
    int64_t base = heap_in_use(), peak = 0, rows = 0;
    dl_query *q = NULL;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    if (!q) {
        dl_lake_close(lake);
        return;
    }
    dl_table batch;
    dl_table_init(&batch, dl_query_schema(q), NULL);
    int rc;
    while ((rc = dl_query_next(q, &batch, &err)) == DL_OK && batch.num_rows > 0) {
        rows += batch.num_rows;
        usleep(2000);
        int64_t used = heap_in_use() - base;
        if (used > peak) peak = used;
    }
    CHECK_OK(rc, &err);
    CHECK_EQ_INT(rows, lake_rows);
    dl_table_free(&batch);
    dl_query_close(q);
    printf("  memory: peak %.1f MB above start while scanning %.1f MB of decoded rows\n",
           peak / 1e6, lake_bytes / 1e6);
    CHECK(peak < lake_bytes / 4);

    /* closing a query early, with workers busy, frees everything */
    spec.threads = 4;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    if (q) {
        dl_table_init(&batch, dl_query_schema(q), NULL);
        CHECK_OK(dl_query_next(q, &batch, &err), &err);
        CHECK_EQ_INT(batch.num_rows, 1440);
        dl_table_free(&batch);
        dl_query_close(q);
    }
    dl_lake_close(lake);
}

DL_TEST(query_throughput) {
    int64_t lake_rows = 0;
    dl_lake *lake = build_big_lake(&lake_rows);
    if (!lake) return;
    const char *ds[] = {"BINANCE/SPOT/BIG/raw/1m"};
    static const struct {
        const char *what, *filter;
        const char *columns[3];
        int num_columns;
    } cases[] = {
        {"full scan, all columns", NULL, {NULL}, 0},
        {"full scan, ts + close", NULL, {"ts", "close"}, 2},
        {"selective filter (volume < 10)", "volume < 10", {NULL}, 0},
        {"filter pruning most row groups", "ts >= '2024-04-20'", {NULL}, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int threads = 1; threads <= 2; threads++) {
            dl_query_spec spec;
            dl_query_spec_default(&spec);
            spec.datasets = ds;
            spec.num_datasets = 1;
            spec.threads = threads;
            spec.filter = cases[k].filter;
            spec.columns = cases[k].num_columns ? cases[k].columns : NULL;
            spec.num_columns = cases[k].num_columns;
            /* consume the batches without copying them: the engine's time */
            dl_error err;
            dl_query *q = NULL;
            dl_query_stats st;
            memset(&st, 0, sizeof st);
            int64_t rows = 0, t0 = now_ns();
            CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
            if (q) {
                dl_table batch;
                dl_table_init(&batch, dl_query_schema(q), NULL);
                int rc;
                while ((rc = dl_query_next(q, &batch, &err)) == DL_OK && batch.num_rows > 0)
                    rows += batch.num_rows;
                CHECK_OK(rc, &err);
                dl_query_get_stats(q, &st);
                dl_table_free(&batch);
                dl_query_close(q);
            }
            double s = (now_ns() - t0) / 1e9;
            printf("  %-34s threads %d: %8lld rows out, %6.1f M rows/s scanned (%lld/%lld row "
                   "groups pruned)\n",
                   cases[k].what, threads, (long long)rows, lake_rows / s / 1e6,
                   (long long)st.row_groups_pruned, (long long)st.row_groups);
        }
    }
    dl_lake_close(lake);
}

/* The Arrow stream of a query hands out exactly the query's rows (imported
** back and compared), and releasing it early -- workers busy -- frees
** everything (ASan).  A failed open leaves the query with the caller. */
DL_TEST(query_arrow_stream) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    const char *ds[] = {"BINANCE/SPOT/*/raw/1m"};
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = ds;
    spec.num_datasets = 1;
    spec.threads = 3;
    spec.filter = "close > 100";
    dl_table want, got;
    CHECK_OK(run_query(lake, &spec, &want, NULL, &err), &err);
    CHECK(want.num_rows > 1000);

    dl_query *q = NULL;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    struct ArrowArrayStream s;
    CHECK_RC(dl_query_arrow_stream(q, NULL, &err), DL_EINVAL);
    CHECK_OK(dl_query_arrow_stream(q, &s, &err), &err); /* s owns q from here */
    struct ArrowSchema as;
    CHECK_EQ_INT(s.get_schema(&s, &as), 0);
    dl_schema schema;
    CHECK_OK(dl_arrow_import_schema(&as, &schema, &err), &err);
    CHECK_OK(dl_table_init(&got, &schema, &err), &err);
    for (;;) {
        struct ArrowArray a;
        CHECK_EQ_INT(s.get_next(&s, &a), 0);
        if (!a.release) break;
        dl_table part;
        CHECK_OK(dl_arrow_import_array(&schema, &as, &a, &part, &err), &err);
        a.release(&a);
        for (int c = 0; c < part.schema.num_fields; c++)
            dl_column_append_range(&got.columns[c], &part.columns[c], 0, part.num_rows, &err);
        dl_table_free(&part);
    }
    CHECK_OK(dl_table_seal(&got, &err), &err);
    char why[256] = "";
    CHECK(tables_equal(&got, &want, why, sizeof why));
    if (why[0]) fprintf(stderr, "  %s\n", why);
    s.release(&s);
    as.release(&as);
    dl_schema_free(&schema);
    dl_table_free(&got);

    /* early release: one array read, workers still decoding */
    spec.filter = NULL;
    CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
    CHECK_OK(dl_query_arrow_stream(q, &s, &err), &err);
    struct ArrowArray a;
    CHECK_EQ_INT(s.get_next(&s, &a), 0);
    CHECK(a.release && a.length > 0);
    s.release(&s);
    if (a.release) a.release(&a);
    dl_table_free(&want);
    dl_lake_close(lake);
}

/* ------------------------------------------------------------------ */
/* Result sinks                                                         */
/* ------------------------------------------------------------------ */

typedef struct mem_out {
    dl_text text;
    size_t fail_after; /* fail a write that would pass this many bytes (0 = never) */
} mem_out;

static int mem_write(void *ctx, const void *data, size_t len) {
    mem_out *m = ctx;
    if (m->fail_after && m->text.len + len > m->fail_after) return -1;
    dl_text_put(&m->text, data, len);
    return m->text.status;
}

/* A small table: ts, a string with CSV-hostile text, a nullable double. */
static void sink_table(dl_table *t, int64_t rows) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "note", DL_TYPE_STRING, true, NULL);
    dl_schema_add(&s, "px", DL_TYPE_DOUBLE, true, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    static const char *const notes[] = {"plain", "a,b", "say \"hi\"", "", "line\nbreak"};
    for (int64_t i = 0; i < rows; i++) {
        dl_column_append_i64(&t->columns[0], DAY0 + i * MIN_US, NULL);
        const char *n = notes[i % 5];
        dl_column_append_str(&t->columns[1], n, strlen(n), NULL);
        if (i % 4 == 3)
            dl_column_append_null(&t->columns[2], NULL);
        else
            dl_column_append_f64(&t->columns[2], 0.1 * (double)i, NULL);
    }
    dl_table_seal(t, NULL);
}

static void sink_to_text(const dl_table *t, dl_sink_format f, int64_t limit, int64_t tail,
                         dl_text *out) {
    dl_error err;
    dl_sink_options o;
    dl_sink_options_default(&o);
    o.format = f;
    o.limit = limit;
    o.tail = tail;
    mem_out m = {{0}, 0};
    dl_sink *s = NULL;
    CHECK_OK(dl_sink_open(&t->schema, &o, mem_write, &m, &s, &err), &err);
    /* in two batches, the second a row range */
    CHECK_OK(dl_sink_put_rows(s, t, 0, t->num_rows / 2, NULL, &err), &err);
    CHECK_OK(dl_sink_put_rows(s, t, t->num_rows / 2, t->num_rows - t->num_rows / 2, NULL, &err),
             &err);
    CHECK_OK(dl_sink_close(s, DL_OK, &err), &err);
    *out = m.text;
}

DL_TEST(sink_formats_limits_and_failures) {
    dl_error err;
    dl_table t;
    sink_table(&t, 10);
    dl_text csv;
    sink_to_text(&t, DL_SINK_CSV, -1, -1, &csv);
    const char *want = "ts,note,px\n"
                       "2024-01-05T00:00:00.000000Z,plain,0\n"
                       "2024-01-05T00:01:00.000000Z,\"a,b\",0.1\n"
                       "2024-01-05T00:02:00.000000Z,\"say \"\"hi\"\"\",0.2\n"
                       "2024-01-05T00:03:00.000000Z,\"\",\n";
    CHECK(csv.len > strlen(want) && memcmp(csv.data, want, strlen(want)) == 0);
    CHECK(memmem(csv.data, csv.len, "\"line\nbreak\"", 12) != NULL);
    dl_text_free(&csv);

    dl_text lim, tail;
    sink_to_text(&t, DL_SINK_JSONL, 3, -1, &lim);
    CHECK(lim.len > 0 && memmem(lim.data, lim.len, "\n", 1));
    int lines = 0;
    for (size_t i = 0; i < lim.len; i++) lines += lim.data[i] == '\n';
    CHECK_EQ_INT(lines, 3);
    CHECK(memmem(lim.data, lim.len,
                 "{\"ts\":\"2024-01-05T00:00:00.000000Z\",\"note\":\"plain\",\"px\":0}",
                 57) != NULL);
    sink_to_text(&t, DL_SINK_CSV, -1, 2, &tail);
    const char *want_tail = "ts,note,px\n"
                            "2024-01-05T00:08:00.000000Z,\"\",0.8\n"
                            "2024-01-05T00:09:00.000000Z,\"line\nbreak\",0.9\n";
    CHECK(tail.len == strlen(want_tail) && memcmp(tail.data, want_tail, tail.len) == 0);
    dl_text_free(&lim);
    dl_text_free(&tail);

    /* table: header, rule, right-aligned numbers, "null" */
    dl_text table;
    sink_to_text(&t, DL_SINK_TABLE, 4, -1, &table);
    CHECK(table.len > 0 && memcmp(table.data, "ts                           note", 33) == 0);
    CHECK(memmem(table.data, table.len, "null", 4) != NULL);
    dl_text_free(&table);

    /* a failing write is an I/O error; the sink is still closed cleanly */
    dl_sink_options o;
    dl_sink_options_default(&o);
    o.format = DL_SINK_CSV;
    mem_out m = {{0}, 40};
    dl_sink *s = NULL;
    CHECK_OK(dl_sink_open(&t.schema, &o, mem_write, &m, &s, &err), &err);
    CHECK_OK(dl_sink_put(s, &t, NULL, &err), &err); /* buffered */
    CHECK_RC(dl_sink_close(s, DL_OK, &err), DL_EIO);
    dl_text_free(&m.text);

    /* parquet needs a file; limit and tail exclude each other; a batch of
    ** another layout is refused */
    o.format = DL_SINK_PARQUET;
    CHECK_RC(dl_sink_open(&t.schema, &o, mem_write, &m, &s, &err), DL_EUNSUPPORTED);
    o.format = DL_SINK_ARROW;
    o.limit = 1;
    o.tail = 1;
    CHECK_RC(dl_sink_open(&t.schema, &o, mem_write, &m, &s, &err), DL_EINVAL);
    o.tail = -1;
    m.fail_after = 0;
    CHECK_OK(dl_sink_open(&t.schema, &o, mem_write, &m, &s, &err), &err);
    dl_table other;
    dl_table_init(&other, &(dl_schema){1, t.schema.fields}, NULL);
    CHECK_RC(dl_sink_put(s, &other, NULL, &err), DL_EINVAL);
    bool done = false;
    CHECK_OK(dl_sink_put(s, &t, &done, &err), &err);
    CHECK(done);
    CHECK_EQ_INT(dl_sink_rows(s), 1);
    CHECK_OK(dl_sink_close(s, DL_OK, &err), &err);
    CHECK(m.text.len > 0 &&
          memcmp(m.text.data + m.text.len - 8, "\xFF\xFF\xFF\xFF\0\0\0\0", 8) == 0);
    dl_text_free(&m.text);
    dl_table_free(&other);
    dl_sink_format f;
    CHECK_RC(dl_sink_format_parse("xml", &f, &err), DL_EINVAL);
    CHECK_OK(dl_sink_format_parse("jsonl", &f, &err), &err);
    CHECK_EQ_INT(f, DL_SINK_JSONL);
    dl_table_free(&t);
}

DL_TEST(sink_output_path_guard) {
    dl_error err;
    const char *dir = dl_test_tmpdir();
    char root[512], inside[600], rootlink[600], through[700], dangling[600], input[600], hard[600],
        fine[600];
    snprintf(root, sizeof root, "%s/lake", dir);
    CHECK_OK(dl_lake_init(root, &err), &err);
    snprintf(inside, sizeof inside, "%s/.dl/catalog.db", root);
    snprintf(rootlink, sizeof rootlink, "%s/rootlink", dir);
    CHECK(symlink(root, rootlink) == 0);
    snprintf(through, sizeof through, "%s/new.csv", rootlink);
    snprintf(dangling, sizeof dangling, "%s/dangling", dir);
    char target[600];
    snprintf(target, sizeof target, "%s/not-yet.parquet", root);
    CHECK(symlink(target, dangling) == 0);
    snprintf(input, sizeof input, "%s/in.parquet", dir);
    FILE *f = fopen(input, "w");
    if (f) fclose(f);
    snprintf(hard, sizeof hard, "%s/hard.parquet", dir);
    CHECK(link(input, hard) == 0);
    snprintf(fine, sizeof fine, "%s/out.csv", dir);

    const char *roots[] = {root};
    const char *inputs[] = {input};
    dl_output_guard g = {roots, 1, inputs, 1};
    CHECK_RC(dl_output_path_check(inside, &g, &err), DL_EINVAL);
    CHECK(strstr(err.message, "inside the lake") != NULL);
    CHECK_RC(dl_output_path_check(root, &g, &err), DL_EINVAL);
    CHECK_RC(dl_output_path_check(through, &g, &err), DL_EINVAL);
    CHECK_RC(dl_output_path_check(dangling, &g, &err), DL_EINVAL);
    CHECK(strstr(err.message, "not-yet.parquet") != NULL);
    CHECK_RC(dl_output_path_check(input, &g, &err), DL_EINVAL);
    CHECK(strstr(err.message, "is the input") != NULL);
    CHECK_RC(dl_output_path_check(hard, NULL, &err), DL_EINVAL);
    CHECK(strstr(err.message, "hard links") != NULL);
    CHECK_OK(dl_output_path_check(fine, &g, &err), &err);
    /* a sibling whose name starts like the root is not inside it */
    char sibling[600];
    snprintf(sibling, sizeof sibling, "%s/lake2.csv", dir);
    CHECK_OK(dl_output_path_check(sibling, &g, &err), &err);
    char missing_dir[600];
    snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/out.csv", dir);
    CHECK_RC(dl_output_path_check(missing_dir, &g, &err), DL_ENOTFOUND);

    /* the file sink checks before creating anything */
    dl_table t;
    sink_table(&t, 3);
    dl_sink *s = NULL;
    CHECK_RC(dl_sink_open_file(through, &g, &t.schema, NULL, &s, &err), DL_EINVAL);
    CHECK(s == NULL);
    CHECK(access(through, F_OK) != 0);
    dl_sink_options o;
    dl_sink_options_default(&o);
    o.format = DL_SINK_CSV;
    CHECK_OK(dl_sink_open_file(fine, &g, &t.schema, &o, &s, &err), &err);
    CHECK_OK(dl_sink_put(s, &t, NULL, &err), &err);
    CHECK_OK(dl_sink_close(s, DL_OK, &err), &err);
    dl_text want;
    sink_to_text(&t, DL_SINK_CSV, -1, -1, &want);
    char got[4096];
    f = fopen(fine, "rb");
    size_t n = f ? fread(got, 1, sizeof got, f) : 0;
    if (f) fclose(f);
    CHECK(n == want.len && memcmp(got, want.data, n) == 0);
    dl_text_free(&want);
    dl_table_free(&t);
}

/* Reads q to the end, appending every batch to *out (initialised here). */
static int drain_query(dl_query *q, dl_table *out, dl_error *err) {
    dl_table batch;
    int rc = dl_table_init(out, dl_query_schema(q), err);
    if (rc == DL_OK) rc = dl_table_init(&batch, dl_query_schema(q), err);
    while (rc == DL_OK && (rc = dl_query_next(q, &batch, err)) == DL_OK && batch.num_rows > 0)
        for (int c = 0; c < batch.schema.num_fields && rc == DL_OK; c++)
            rc =
                dl_column_append_range(&out->columns[c], &batch.columns[c], 0, batch.num_rows, err);
    if (rc == DL_OK) rc = dl_table_seal(out, err);
    dl_table_free(&batch);
    return rc;
}

/* A read pinned to a version (and a read of the current version) returns
** exactly that version's rows while a writer commits a new version of the
** same days in the middle of the scan: the consumer pauses after its first
** batch, with a one-file read-ahead, and another handle rewrites every day. */
DL_TEST(query_pinned_read_is_repeatable) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    char ds[64];
    dataset_name(0, ds, sizeof ds);
    for (int pinned = 1; pinned >= 0; pinned--) {
        dl_dataset_info info;
        CHECK_OK(dl_lake_dataset_info(lake, ds, &info, &err), &err);
        const char *names[] = {ds};
        dl_query_spec spec;
        dl_query_spec_default(&spec);
        spec.datasets = names;
        spec.num_datasets = 1;
        spec.as_of_version = pinned ? info.version : 0;
        spec.threads = 1;
        spec.max_buffer_bytes = 1; /* only the file the consumer waits for */
        dl_table want, got, first, after;
        CHECK_OK(run_query(lake, &spec, &want, NULL, &err), &err);
        CHECK(want.num_rows > 0);

        dl_query *q = NULL;
        CHECK_OK(dl_query_open(lake, &spec, &q, &err), &err);
        if (!q) break;
        dl_query_stats st;
        dl_query_get_stats(q, &st);
        CHECK(st.files > 8);
        CHECK_OK(dl_table_init(&first, dl_query_schema(q), &err), &err);
        CHECK_OK(dl_query_next(q, &first, &err), &err); /* the consumer pauses here */

        dl_lake *writer = NULL;
        CHECK_OK(dl_lake_open(dl_lake_root(lake), false, &writer, &err), &err);
        write_days(writer, 0, 1, 0, NUM_DAYS + 3, 7000 + pinned); /* every day, new values */
        dl_lake_close(writer);
        dl_dataset_info now;
        CHECK_OK(dl_lake_dataset_info(lake, ds, &now, &err), &err);
        CHECK_EQ_INT(now.version, info.version + 1);

        CHECK_OK(drain_query(q, &got, &err), &err);
        dl_query_close(q);
        /* the first batch, then the rest */
        dl_table whole;
        CHECK_OK(dl_table_init(&whole, &got.schema, &err), &err);
        for (int c = 0; c < got.schema.num_fields; c++) {
            dl_column_append_range(&whole.columns[c], &first.columns[c], 0, first.num_rows, &err);
            dl_column_append_range(&whole.columns[c], &got.columns[c], 0, got.num_rows, &err);
        }
        CHECK_OK(dl_table_seal(&whole, &err), &err);
        char why[256] = "";
        bool same = tables_equal(&whole, &want, why, sizeof why);
        CHECK(same);
        if (!same) fprintf(stderr, "  %s read: %s\n", pinned ? "pinned" : "current", why);

        /* the writer really changed the rows the scan did not see */
        spec.as_of_version = 0;
        CHECK_OK(run_query(lake, &spec, &after, NULL, &err), &err);
        CHECK(!tables_equal(&after, &want, why, sizeof why));
        dl_table_free(&after);
        dl_table_free(&whole);
        dl_table_free(&got);
        dl_table_free(&first);
        dl_table_free(&want);
    }
    dl_lake_close(lake);
}

/* The library's as-of join: the Arrow stream hands out exactly what
** dl_join_next does; a key is never matched to a later right row; misuse
** is refused. */
DL_TEST(join_library_and_stream) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    char left[64], right[64];
    dataset_name(0, left, sizeof left);
    dataset_name(1, right, sizeof right);
    dl_join_spec spec;
    dl_join_spec_default(&spec);
    spec.left = left;
    spec.right = right;
    const char *cols[] = {"ts", "close", "right_close"};
    spec.columns = cols;
    spec.num_columns = 3;
    dl_join *j = NULL;
    CHECK_OK(dl_join_open(lake, &spec, &j, &err), &err);
    if (!j) {
        dl_lake_close(lake);
        return;
    }
    const dl_schema *js = dl_join_schema(j);
    CHECK_EQ_INT(js->num_fields, 3);
    CHECK_EQ_STR(js->fields[2].name, "right_close");
    dl_table direct, batch;
    dl_table_init(&direct, js, &err);
    dl_table_init(&batch, js, &err);
    int rc;
    while ((rc = dl_join_next(j, &batch, &err)) == DL_OK && batch.num_rows > 0)
        for (int c = 0; c < 3; c++)
            dl_column_append_range(&direct.columns[c], &batch.columns[c], 0, batch.num_rows, &err);
    CHECK_OK(rc, &err);
    dl_table_seal(&direct, &err);
    dl_join_close(j);
    CHECK(direct.num_rows > 1000);
    /* every left row is there, in order */
    dl_table left_rows;
    const char *lname[] = {left};
    dl_query_spec qs;
    dl_query_spec_default(&qs);
    qs.datasets = lname;
    qs.num_datasets = 1;
    CHECK_OK(run_query(lake, &qs, &left_rows, NULL, &err), &err);
    CHECK_EQ_INT(direct.num_rows, left_rows.num_rows);

    CHECK_OK(dl_join_open(lake, &spec, &j, &err), &err);
    struct ArrowArrayStream s;
    CHECK_OK(dl_join_arrow_stream(j, &s, &err), &err);
    struct ArrowSchema as;
    CHECK_EQ_INT(s.get_schema(&s, &as), 0);
    dl_schema imported;
    CHECK_OK(dl_arrow_import_schema(&as, &imported, &err), &err);
    int64_t at = 0;
    bool same = true;
    for (;;) {
        struct ArrowArray a;
        CHECK_EQ_INT(s.get_next(&s, &a), 0);
        if (!a.release) break;
        dl_table part;
        CHECK_OK(dl_arrow_import_array(&imported, &as, &a, &part, &err), &err);
        a.release(&a);
        const int64_t *ts = part.columns[0].values, *want = direct.columns[0].values;
        for (int64_t i = 0; i < part.num_rows && at + i < direct.num_rows; i++)
            same &= ts[i] == want[at + i];
        at += part.num_rows;
        dl_table_free(&part);
    }
    CHECK(same);
    CHECK_EQ_INT(at, direct.num_rows);
    s.release(&s);
    as.release(&as);
    dl_schema_free(&imported);

    /* refusals */
    spec.left = GLOB;
    CHECK_RC(dl_join_open(lake, &spec, &j, &err), DL_EINVAL);
    CHECK(strstr(err.message, "no glob") != NULL);
    spec.left = left;
    const char *bad[] = {"ts", "nope"};
    spec.columns = bad;
    spec.num_columns = 2;
    CHECK_RC(dl_join_open(lake, &spec, &j, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "unknown column 'nope'") != NULL);
    dl_table_free(&left_rows);
    dl_table_free(&direct);
    dl_table_free(&batch);
    dl_lake_close(lake);
}

/* The metadata JSON documents: exact bytes, escaping, empty datasets. */
DL_TEST(meta_json_renderings) {
    dl_text t = {0};
    dl_lake_version v[2];
    memset(v, 0, sizeof v);
    v[0].version = 1;
    v[0].committed_at = 1704412800123456;
    v[0].rows_written = 10;
    snprintf(v[0].message, sizeof v[0].message, "say \"hi\"\n\x01");
    v[1].version = 2;
    v[1].vacuumed = true;
    CHECK_OK(dl_json_history(&t, v, 2), NULL);
    const char *want =
        "[{\"version\":1,\"committed_at\":1704412800123,\"run_id\":0,\"rows_written\":10,"
        "\"files_added\":0,\"files_replaced\":0,\"vacuumed\":false,\"message\":\"say "
        "\\\"hi\\\"\\n\\u0001\"},{\"version\":2,\"committed_at\":0,\"run_id\":0,\"rows_written\":0,"
        "\"files_added\":0,\"files_replaced\":0,\"vacuumed\":true,\"message\":\"\"}]\n";
    CHECK(t.len == strlen(want) && memcmp(t.data, want, t.len) == 0);
    if (t.len != strlen(want)) fprintf(stderr, "  got %.*s", (int)t.len, t.data);
    t.len = 0;

    dl_dataset_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "X/Y/Z/raw/1m");
    CHECK_OK(dl_dataset_parse(d.name, &d.id, NULL), NULL);
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_MS, false, NULL);
    CHECK_OK(dl_json_dataset(&t, &d, &s), NULL);
    want = "{\"dataset\":\"X/Y/Z/raw/1m\",\"exchange\":\"X\",\"market\":\"Y\",\"symbol\":\"Z\","
           "\"type\":\"raw\",\"period\":\"1m\",\"version\":0,\"files\":0,\"rows\":0,\"bytes\":0,"
           "\"first_ts\":null,\"last_ts\":null,\"gap_ranges\":0,\"missing\":0,"
           "\"columns\":[{\"name\":\"ts\",\"type\":\"timestamp[ms, UTC]\"}]}";
    CHECK(t.len == strlen(want) && memcmp(t.data, want, t.len) == 0);
    t.len = 0;
    CHECK_OK(dl_json_datasets(&t, NULL, 0), NULL);
    CHECK(t.len == 3 && memcmp(t.data, "[]\n", 3) == 0);
    t.len = 0;

    dl_verify_issue issues[2];
    memset(issues, 0, sizeof issues);
    issues[0].kind = DL_VERIFY_FOREIGN;
    snprintf(issues[0].path, sizeof issues[0].path, "notes.txt");
    issues[1].kind = DL_VERIFY_MISMATCH;
    issues[1].repaired = true;
    dl_verify_report r = {issues, 2, 5, 500};
    CHECK_EQ_INT(dl_verify_open_issues(&r), 0);
    CHECK_OK(dl_json_verify(&t, &r), NULL);
    CHECK(t.len > 0 && memmem(t.data, t.len, "\"ok\":true", 9) != NULL);
    issues[1].repaired = false;
    CHECK_EQ_INT(dl_verify_open_issues(&r), 1);
    dl_schema_free(&s);
    dl_text_free(&t);
}

/* One dl_pool shared by concurrent queries of several threads (each with
** its own lake handle) and by both sides of a join on a single-thread pool:
** every answer equals the one computed alone, and nothing waits forever
** (a job never waits for another, so one thread serves everything). */
typedef struct pool_user {
    const char *root;
    dl_pool *pool;
    const dl_table *want;
    bool ok;
} pool_user;

static void *pool_user_main(void *arg) {
    pool_user *u = arg;
    dl_error err;
    dl_lake *lake = NULL;
    u->ok = dl_lake_open(u->root, true, &lake, &err) == DL_OK;
    const char *names[] = {GLOB};
    for (int round = 0; round < 3 && u->ok; round++) {
        dl_query_spec spec;
        dl_query_spec_default(&spec);
        spec.datasets = names;
        spec.num_datasets = 1;
        spec.pool = u->pool;
        spec.max_buffer_bytes = 4096; /* many small steps through the pool */
        dl_table got;
        char why[256];
        u->ok = run_query(lake, &spec, &got, NULL, &err) == DL_OK &&
                tables_equal(&got, u->want, why, sizeof why);
        dl_table_free(&got);
    }
    dl_lake_close(lake);
    return NULL;
}

DL_TEST(query_shared_pool) {
    dl_lake *lake = build_lake();
    if (!lake) return;
    dl_error err;
    const char *names[] = {GLOB};
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = names;
    spec.num_datasets = 1;
    dl_table want;
    CHECK_OK(run_query(lake, &spec, &want, NULL, &err), &err);
    dl_pool *pool = NULL;
    CHECK_OK(dl_pool_create(2, &pool, &err), &err);
    CHECK_EQ_INT(dl_pool_threads(pool), 2);
    enum { USERS = 3 };
    pool_user users[USERS];
    pthread_t tids[USERS];
    for (int i = 0; i < USERS; i++) {
        users[i] = (pool_user){dl_lake_root(lake), pool, &want, false};
        CHECK(pthread_create(&tids[i], NULL, pool_user_main, &users[i]) == 0);
    }
    for (int i = 0; i < USERS; i++) {
        pthread_join(tids[i], NULL);
        CHECK(users[i].ok);
    }
    dl_pool_destroy(pool);

    /* a join on a one-thread pool: both sides' jobs interleave on it */
    CHECK_OK(dl_pool_create(1, &pool, &err), &err);
    char left[64], right[64];
    dataset_name(0, left, sizeof left);
    dataset_name(2, right, sizeof right);
    dl_join_spec js;
    dl_join_spec_default(&js);
    js.left = left;
    js.right = right;
    js.max_buffer_bytes = 1;
    int64_t rows[2] = {0, 0};
    for (int shared = 0; shared < 2; shared++) {
        js.pool = shared ? pool : NULL;
        dl_join *j = NULL;
        CHECK_OK(dl_join_open(lake, &js, &j, &err), &err);
        if (!j) break;
        dl_table batch;
        dl_table_init(&batch, dl_join_schema(j), &err);
        int rc;
        while ((rc = dl_join_next(j, &batch, &err)) == DL_OK && batch.num_rows > 0)
            rows[shared] += batch.num_rows;
        CHECK_OK(rc, &err);
        dl_table_free(&batch);
        dl_join_close(j);
    }
    CHECK(rows[0] > 0);
    CHECK_EQ_INT(rows[1], rows[0]);
    dl_pool_destroy(pool);
    dl_table_free(&want);
    dl_lake_close(lake);
}
