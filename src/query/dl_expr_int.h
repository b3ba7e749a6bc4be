/*
** dl_expr_int.h -- the internal form of a parsed filter expression, shared
** by the parser/binder (dl_expr_parse.c) and the vectorised evaluator and
** statistics pruner (dl_expr_eval.c).  Not part of the public API.
**
** The parser binds every literal to its column's physical representation
** up front, so evaluation never converts or type-checks per row:
**   - integer-like columns (BOOL, INT32, DATE, INT64, TIMESTAMP) compare
**     with an int64 already clamped to the column's range; comparisons that
**     cannot depend on the value (int32 < 1e20, count = 2.5) become
**     EXPR_ALWAYS / EXPR_NEVER, which still respect nulls;
**   - FLOAT/DOUBLE columns compare with a double;
**   - STRING/BINARY columns compare bytes (memcmp order).
*/
#ifndef DL_EXPR_INT_H
#define DL_EXPR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "datalake.h"
#include "util/dl_buf.h"
#include "util/dl_internal.h"

/* Limits that keep hostile filter text from exhausting stack or memory. */
#define DL_EXPR_MAX_TEXT    ((size_t)1 << 20) /* bytes of filter text */
#define DL_EXPR_MAX_DEPTH   64                /* nested parentheses + `not` */
#define DL_EXPR_MAX_LEAVES  10000             /* comparisons in one filter */
#define DL_EXPR_MAX_IN_LIST 100000            /* literals in one `in (...)` */

typedef enum expr_kind {
    EXPR_CONST,   /* true / false literal */
    EXPR_CMP,     /* column op literal */
    EXPR_IN,      /* column [not] in (set) */
    EXPR_IS_NULL, /* column is [not] null */
    EXPR_NOT,
    EXPR_AND,
    EXPR_OR
} expr_kind;

typedef enum expr_op {
    EXPR_EQ,
    EXPR_NE,
    EXPR_LT,
    EXPR_LE,
    EXPR_GT,
    EXPR_GE,
    EXPR_ALWAYS, /* true for every non-null value */
    EXPR_NEVER   /* false for every non-null value */
} expr_op;

/* How a column's values are laid out in memory (and in dl_stats). */
typedef enum expr_class {
    EXPR_CLASS_U8,   /* BOOL: uint8_t 0/1, stats .i */
    EXPR_CLASS_I32,  /* INT32, DATE: int32_t, stats .i */
    EXPR_CLASS_I64,  /* INT64, TIMESTAMP: int64_t, stats .i */
    EXPR_CLASS_F32,  /* FLOAT: float, stats .f */
    EXPR_CLASS_F64,  /* DOUBLE: double, stats .f */
    EXPR_CLASS_BYTES /* STRING, BINARY: offsets + data, stats .s/.len */
} expr_class;

typedef struct expr_bytes {
    const uint8_t *ptr; /* never NULL (points into the arena) */
    size_t len;
} expr_bytes;

/* A bound literal: which member is used depends on the column class. */
typedef struct expr_scalar {
    int64_t i;    /* integer-like classes */
    double f;     /* F32, F64 */
    expr_bytes s; /* BYTES */
} expr_scalar;

/* The literal set of an `in` list: sorted, duplicates removed, in the
** column's class; plus an open-addressing hash index (slots hold positions
** in the sorted array, -1 = empty) when the set is large. */
typedef struct expr_set {
    int64_t count;
    int64_t *ints;     /* integer-like classes */
    double *doubles;   /* F32, F64 */
    expr_bytes *bytes; /* BYTES */
    int64_t *slots;    /* NULL for small sets and doubles */
    uint64_t mask;     /* slot count - 1 */
} expr_set;

/* Sets with at most this many members are evaluated as OR-ed vector
** equality loops; larger ones probe the hash index per row. */
#define DL_EXPR_SMALL_SET 8

typedef struct expr_node {
    expr_kind kind;
    /* leaves (CMP, IN, IS_NULL) */
    int slot;        /* index into dl_expr.columns */
    expr_class cls;  /* of that column */
    expr_op op;      /* CMP */
    expr_scalar lit; /* CMP */
    expr_set set;    /* IN */
    bool negated;    /* IN: not in;  IS_NULL: is not null */
    bool value;      /* CONST */
    /* NOT (one child), AND, OR */
    int num_children;
    struct expr_node **children;
} expr_node;

/* A column the expression reads, as bound at parse time. */
typedef struct expr_column {
    const char *name; /* arena copy */
    int field;        /* index in the parse schema (for dl_stats) */
    dl_type type;
    dl_time_unit unit;
    expr_class cls;
} expr_column;

struct dl_expr {
    dl_arena arena; /* owns every node, string and set */
    expr_node *root;
    expr_column *columns;
    int num_columns;
    int tree_depth; /* longest root-to-leaf path, sizes the eval scratch */
};

/* Hash of a literal or value for the `in` index (shared by both files). */
static inline uint64_t dl_expr_hash_int(int64_t v) {
    uint64_t x = (uint64_t)v * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

#endif /* DL_EXPR_INT_H */
