/*
** dl_expr_eval.c -- filter expressions, back half: vectorised evaluation
** over column vectors (dl_expr_eval), pruning from min/max statistics
** (dl_expr_may_match) and in-place selection (dl_table_filter).
**
** Evaluation walks the tree once per chunk of CHUNK rows, never per row.
** Each node produces two byte masks over the chunk: T (row is definitely
** true) and F (definitely false); a row in neither is unknown because a
** null was involved.  Leaves fill them with tight typed loops, NOT swaps
** them, AND/OR combine them with byte-wise & and |.  This is SQL's
** three-valued logic, so `not (x > 1)` is false for a null x, and the
** selection is T of the root.  Callers that only need T (the root, and
** the children of AND/OR under it) ask for it alone to skip work.
**
** Pruning uses the same T/F idea on statistics: for each node, "could a
** row be true" and "could a row be false"; NOT swaps them, so negations
** prune exactly.  Both answers are over-approximations, so a block is
** only pruned when no row in it can match.
*/
#include <stdlib.h>
#include <string.h>

#include "query/dl_expr_int.h"
#include "util/dl_internal.h"

#define CHUNK 2048 /* rows per step: masks stay in L1; a multiple of 8 and 16 */

enum { WANT_TRUE = 1, WANT_FALSE = 2 };

/* Kernels stay out of line: inlined, their restrict qualifiers are lost
** and GCC then declines to vectorise them. */
#if defined(__GNUC__)
#define DL_NOINLINE __attribute__((noinline))
#else
#define DL_NOINLINE
#endif

/* GCC -O2 only vectorises a loop whose trip count is a known multiple of
** the vector width, so every per-row loop runs a multiple-of-16 body and
** then the rest. */
#define FOR_ROWS(i, n, ...)                                                                        \
    do {                                                                                           \
        const int64_t rows_vec_end_ = (n) & ~(int64_t)15;                                          \
        for (int64_t i = 0; i < rows_vec_end_; i++) {                                              \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
        for (int64_t i = rows_vec_end_; i < (n); i++) {                                            \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
    } while (0)

typedef struct eval_ctx {
    const dl_expr *e;
    const dl_column **cols; /* by expression slot */
    uint8_t *scratch;       /* 2 * CHUNK bytes per tree level */
    uint8_t *valid;         /* CHUNK bytes: the chunk's validity as 0/1 */
    int64_t begin, n;       /* the chunk being evaluated */
} eval_ctx;

/* Byte-mask kernels (0/1 per row). */
static DL_NOINLINE void mask_and(uint8_t *restrict dst, const uint8_t *restrict src, int64_t n) {
    FOR_ROWS(i, n, dst[i] &= src[i]);
}
static DL_NOINLINE void mask_or(uint8_t *restrict dst, const uint8_t *restrict src, int64_t n) {
    FOR_ROWS(i, n, dst[i] |= src[i]);
}
static DL_NOINLINE void mask_xor(uint8_t *restrict dst, const uint8_t *restrict a,
                                 const uint8_t *restrict b, int64_t n) {
    FOR_ROWS(i, n, dst[i] = a[i] ^ b[i]);
}
static DL_NOINLINE void mask_not(uint8_t *restrict dst, const uint8_t *restrict src, int64_t n) {
    FOR_ROWS(i, n, dst[i] = src[i] ^ 1);
}
static DL_NOINLINE void mask_flip(uint8_t *m, int64_t n) {
    FOR_ROWS(i, n, m[i] ^= 1);
}

/* ------------------------------------------------------------------ */
/* Typed kernels                                                        */
/* ------------------------------------------------------------------ */

/* For each physical class: `value op literal` over n values, and equality
** with a small set.  lit_type is the type the comparison happens in
** (float values are widened to double so the literal stays exact). */
#define DEFINE_KERNELS(suffix, ctype, lit_type)                                                    \
    static DL_NOINLINE void compare_##suffix(const ctype *restrict v, lit_type lit, expr_op op,    \
                                             uint8_t *restrict out, int64_t n) {                   \
        switch (op) {                                                                              \
        case EXPR_EQ:                                                                              \
            FOR_ROWS(i, n, out[i] = v[i] == lit);                                                  \
            break;                                                                                 \
        case EXPR_NE:                                                                              \
            FOR_ROWS(i, n, out[i] = v[i] != lit);                                                  \
            break;                                                                                 \
        case EXPR_LT:                                                                              \
            FOR_ROWS(i, n, out[i] = v[i] < lit);                                                   \
            break;                                                                                 \
        case EXPR_LE:                                                                              \
            FOR_ROWS(i, n, out[i] = v[i] <= lit);                                                  \
            break;                                                                                 \
        case EXPR_GT:                                                                              \
            FOR_ROWS(i, n, out[i] = v[i] > lit);                                                   \
            break;                                                                                 \
        case EXPR_GE:                                                                              \
            FOR_ROWS(i, n, out[i] = v[i] >= lit);                                                  \
            break;                                                                                 \
        case EXPR_ALWAYS:                                                                          \
            memset(out, 1, (size_t)n);                                                             \
            break;                                                                                 \
        case EXPR_NEVER:                                                                           \
            memset(out, 0, (size_t)n);                                                             \
            break;                                                                                 \
        }                                                                                          \
    }                                                                                              \
    static DL_NOINLINE void or_equal_##suffix(const ctype *restrict v, lit_type lit,               \
                                              uint8_t *restrict out, int64_t n) {                  \
        FOR_ROWS(i, n, out[i] |= v[i] == lit);                                                     \
    }                                                                                              \
    static void in_small_##suffix(const ctype *v, const expr_set *set, uint8_t *out, int64_t n) {  \
        memset(out, 0, (size_t)n);                                                                 \
        for (int64_t k = 0; k < set->count; k++)                                                   \
            or_equal_##suffix(                                                                     \
                v, set->doubles ? (lit_type)set->doubles[k] : (lit_type)set->ints[k], out, n);     \
    }
DEFINE_KERNELS(u8, uint8_t, uint8_t)
DEFINE_KERNELS(i32, int32_t, int32_t)
DEFINE_KERNELS(i64, int64_t, int64_t)
DEFINE_KERNELS(f32, float, double)
DEFINE_KERNELS(f64, double, double)

static bool set_has_int(const expr_set *set, int64_t v) {
    for (uint64_t h = dl_expr_hash_int(v);; h++) {
        int64_t k = set->slots[h & set->mask];
        if (k < 0) return false;
        if (set->ints[k] == v) return true;
    }
}

static bool set_has_bytes(const expr_set *set, const uint8_t *p, size_t len) {
    for (uint64_t h = dl_hash_bytes(p, len);; h++) {
        int64_t k = set->slots[h & set->mask];
        if (k < 0) return false;
        const expr_bytes *b = &set->bytes[k];
        if (b->len == len && (len == 0 || memcmp(b->ptr, p, len) == 0)) return true;
    }
}

/* Sorted-array membership for doubles (NaN is never a member). */
static bool set_has_double(const expr_set *set, double v) {
    int64_t lo = 0, hi = set->count;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (set->doubles[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->count && set->doubles[lo] == v;
}

/* Truth of `c op 0` for c = -1, 0, 1 (index c + 1), per operator. */
static const uint8_t order_truth[6][3] = {
    [EXPR_EQ] = {0, 1, 0}, [EXPR_NE] = {1, 0, 1}, [EXPR_LT] = {1, 0, 0},
    [EXPR_LE] = {1, 1, 0}, [EXPR_GT] = {0, 0, 1}, [EXPR_GE] = {0, 1, 1},
};

static void compare_bytes_column(const dl_column *col, int64_t begin, int64_t n, expr_op op,
                                 expr_bytes lit, uint8_t *restrict out) {
    const int64_t *off = col->offsets + begin;
    const uint8_t *data = (const uint8_t *)col->data;
    if (op == EXPR_ALWAYS || op == EXPR_NEVER) {
        memset(out, op == EXPR_ALWAYS, (size_t)n);
    } else if (op == EXPR_EQ || op == EXPR_NE) {
        uint8_t when_equal = op == EXPR_EQ;
        for (int64_t i = 0; i < n; i++) {
            size_t len = (size_t)(off[i + 1] - off[i]);
            bool equal = len == lit.len && (len == 0 || memcmp(data + off[i], lit.ptr, len) == 0);
            out[i] = equal ? when_equal : !when_equal;
        }
    } else {
        const uint8_t *truth = order_truth[op];
        for (int64_t i = 0; i < n; i++) {
            size_t len = (size_t)(off[i + 1] - off[i]);
            const uint8_t *s = len ? data + off[i] : lit.ptr; /* no NULL data into memcmp */
            out[i] = truth[dl_bytes_cmp(s, len, lit.ptr, lit.len) + 1];
        }
    }
}

static void in_bytes_column(const dl_column *col, int64_t begin, int64_t n, const expr_set *set,
                            uint8_t *restrict out) {
    const int64_t *off = col->offsets + begin;
    const uint8_t *data = (const uint8_t *)col->data;
    for (int64_t i = 0; i < n; i++) {
        size_t len = (size_t)(off[i + 1] - off[i]);
        const uint8_t *s = len ? data + off[i] : NULL;
        if (set->slots) {
            out[i] = set_has_bytes(set, s, len);
        } else {
            uint8_t hit = 0;
            for (int64_t k = 0; k < set->count && !hit; k++)
                hit = set->bytes[k].len == len &&
                      (len == 0 || memcmp(set->bytes[k].ptr, s, len) == 0);
            out[i] = hit;
        }
    }
}

/* `value op literal` for the chunk into out (0/1), ignoring validity. */
static void compare_chunk(const eval_ctx *c, const expr_node *node, const dl_column *col,
                          uint8_t *out) {
    int64_t b = c->begin, n = c->n;
    switch (node->cls) {
    case EXPR_CLASS_U8:
        compare_u8((const uint8_t *)col->values + b, (uint8_t)node->lit.i, node->op, out, n);
        break;
    case EXPR_CLASS_I32:
        compare_i32((const int32_t *)col->values + b, (int32_t)node->lit.i, node->op, out, n);
        break;
    case EXPR_CLASS_I64:
        compare_i64((const int64_t *)col->values + b, node->lit.i, node->op, out, n);
        break;
    case EXPR_CLASS_F32:
        compare_f32((const float *)col->values + b, node->lit.f, node->op, out, n);
        break;
    case EXPR_CLASS_F64:
        compare_f64((const double *)col->values + b, node->lit.f, node->op, out, n);
        break;
    case EXPR_CLASS_BYTES:
        compare_bytes_column(col, b, n, node->op, node->lit.s, out);
        break;
    }
}

/* Membership of the chunk's values in the node's set into out (0/1). */
static void in_chunk(const eval_ctx *c, const expr_node *node, const dl_column *col, uint8_t *out) {
    int64_t b = c->begin, n = c->n;
    const expr_set *set = &node->set;
    bool small = set->count <= DL_EXPR_SMALL_SET;
    switch (node->cls) {
    case EXPR_CLASS_U8:
        in_small_u8((const uint8_t *)col->values + b, set, out, n);
        break;
    case EXPR_CLASS_I32: {
        const int32_t *v = (const int32_t *)col->values + b;
        if (small)
            in_small_i32(v, set, out, n);
        else
            for (int64_t i = 0; i < n; i++) out[i] = set_has_int(set, v[i]);
        break;
    }
    case EXPR_CLASS_I64: {
        const int64_t *v = (const int64_t *)col->values + b;
        if (small)
            in_small_i64(v, set, out, n);
        else
            for (int64_t i = 0; i < n; i++) out[i] = set_has_int(set, v[i]);
        break;
    }
    case EXPR_CLASS_F32: {
        const float *v = (const float *)col->values + b;
        if (small)
            in_small_f32(v, set, out, n);
        else
            for (int64_t i = 0; i < n; i++) out[i] = set_has_double(set, v[i]);
        break;
    }
    case EXPR_CLASS_F64: {
        const double *v = (const double *)col->values + b;
        if (small)
            in_small_f64(v, set, out, n);
        else
            for (int64_t i = 0; i < n; i++) out[i] = set_has_double(set, v[i]);
        break;
    }
    case EXPR_CLASS_BYTES:
        in_bytes_column(col, b, n, set, out);
        break;
    }
    if (node->negated) mask_flip(out, n);
}

/* The chunk's validity bits as bytes 0/1 in c->valid.  Chunks start at a
** multiple of 8 rows, so whole bitmap bytes are spread; the bitmap holds
** every byte up to row length - 1. */
static const uint8_t *expand_validity(const eval_ctx *c, const dl_column *col) {
    const uint8_t *bits = col->validity + c->begin / 8;
    int64_t bytes = (c->n + 7) / 8;
    for (int64_t k = 0; k < bytes; k++) {
        uint64_t x = bits[k]; /* bit j -> byte j (LSB-first, little-endian store) */
        x = (x | (x << 28)) & 0x0000000F0000000Full;
        x = (x | (x << 14)) & 0x0003000300030003ull;
        x = (x | (x << 7)) & 0x0101010101010101ull;
        memcpy(c->valid + k * 8, &x, 8);
    }
    return c->valid;
}

/* t holds the raw comparison; make T = valid & t and F = valid & !t. */
static void apply_validity(const eval_ctx *c, const dl_column *col, uint8_t *restrict t,
                           uint8_t *restrict f, int want) {
    int64_t n = c->n;
    if (!col->validity) {
        if (want & WANT_FALSE) mask_not(f, t, n);
        return;
    }
    const uint8_t *v = expand_validity(c, col);
    mask_and(t, v, n);
    if (want & WANT_FALSE) mask_xor(f, v, t, n);
}

/* ------------------------------------------------------------------ */
/* Tree evaluation                                                      */
/* ------------------------------------------------------------------ */

static bool any_set(const uint8_t *restrict m, int64_t n) {
    uint8_t acc = 0;
    FOR_ROWS(i, n, acc |= m[i]);
    return acc != 0;
}

static bool all_set(const uint8_t *restrict m, int64_t n) {
    uint8_t acc = 1;
    FOR_ROWS(i, n, acc &= m[i]);
    return acc != 0;
}

/* True when the rest of an AND (OR) chain cannot change the wanted masks:
** AND is settled once no row is true / every row is false, OR dually. */
static bool chain_settled(bool is_and, const uint8_t *t, const uint8_t *f, int want, int64_t n) {
    if ((want & WANT_TRUE) && (is_and ? any_set(t, n) : !all_set(t, n))) return false;
    if ((want & WANT_FALSE) && (is_and ? !all_set(f, n) : any_set(f, n))) return false;
    return true;
}

static void eval_node(eval_ctx *c, const expr_node *node, uint8_t *t, uint8_t *f, int want,
                      int depth) {
    int64_t n = c->n;
    switch (node->kind) {
    case EXPR_CONST:
        memset(t, node->value, (size_t)n);
        memset(f, !node->value, (size_t)n);
        return;
    case EXPR_NOT: {
        int swapped = ((want & WANT_TRUE) ? WANT_FALSE : 0) | ((want & WANT_FALSE) ? WANT_TRUE : 0);
        eval_node(c, node->children[0], f, t, swapped, depth + 1);
        return;
    }
    case EXPR_AND:
    case EXPR_OR: {
        bool is_and = node->kind == EXPR_AND;
        uint8_t *child_t = c->scratch + (size_t)depth * 2 * CHUNK, *child_f = child_t + CHUNK;
        eval_node(c, node->children[0], t, f, want, depth + 1);
        for (int k = 1; k < node->num_children; k++) {
            if (chain_settled(is_and, t, f, want, n)) break;
            eval_node(c, node->children[k], child_t, child_f, want, depth + 1);
            if (is_and) {
                if (want & WANT_TRUE) mask_and(t, child_t, n);
                if (want & WANT_FALSE) mask_or(f, child_f, n);
            } else {
                if (want & WANT_TRUE) mask_or(t, child_t, n);
                if (want & WANT_FALSE) mask_and(f, child_f, n);
            }
        }
        return;
    }
    case EXPR_IS_NULL: {
        const dl_column *col = c->cols[node->slot];
        uint8_t *is_null = node->negated ? f : t, *not_null = node->negated ? t : f;
        if (!col->validity) {
            memset(is_null, 0, (size_t)n);
            memset(not_null, 1, (size_t)n);
        } else {
            const uint8_t *v = expand_validity(c, col);
            mask_not(is_null, v, n);
            memcpy(not_null, v, (size_t)n);
        }
        return;
    }
    case EXPR_CMP:
    case EXPR_IN: {
        const dl_column *col = c->cols[node->slot];
        if (node->kind == EXPR_CMP)
            compare_chunk(c, node, col, t);
        else
            in_chunk(c, node, col, t);
        apply_validity(c, col, t, f, want);
        return;
    }
    }
}

/* Finds and checks the table column behind each expression slot. */
static int bind_table(const dl_expr *e, const dl_table *t, const dl_column **cols, dl_error *err) {
    for (int s = 0; s < e->num_columns; s++) {
        const expr_column *ec = &e->columns[s];
        int idx = dl_schema_find(&t->schema, ec->name);
        if (idx < 0)
            return dl_error_set(err, DL_ENOTFOUND, "filter: column '%s' is not in the table",
                                ec->name);
        const dl_column *col = &t->columns[idx];
        if (col->type != ec->type || (ec->type == DL_TYPE_TIMESTAMP && col->unit != ec->unit))
            return dl_error_set(err, DL_ECONFLICT,
                                "filter: column '%s' is %s%s%s in the table but the filter was "
                                "parsed for %s%s%s",
                                ec->name, dl_type_name(col->type),
                                col->type == DL_TYPE_TIMESTAMP ? " " : "",
                                col->type == DL_TYPE_TIMESTAMP ? dl_unit_name(col->unit) : "",
                                dl_type_name(ec->type), ec->type == DL_TYPE_TIMESTAMP ? " " : "",
                                ec->type == DL_TYPE_TIMESTAMP ? dl_unit_name(ec->unit) : "");
        bool var = ec->cls == EXPR_CLASS_BYTES;
        if (col->length < t->num_rows ||
            (t->num_rows > 0 && (var ? col->offsets == NULL : col->values == NULL)))
            return dl_error_set(err, DL_EINVAL,
                                "filter: column '%s' holds %lld values, the table has %lld rows",
                                ec->name, (long long)col->length, (long long)t->num_rows);
        cols[s] = col;
    }
    return DL_OK;
}

int dl_expr_eval(const dl_expr *e, const dl_table *t, uint8_t *sel, int64_t *matches,
                 dl_error *err) {
    int rc = DL_OK;
    const dl_column **cols = NULL;
    uint8_t *scratch = NULL;
    int64_t total = 0;
    if (matches) *matches = 0;
    if (!e || !t || (!sel && t->num_rows > 0) || t->num_rows < 0)
        return dl_error_set(err, DL_EINVAL, "filter: invalid arguments to dl_expr_eval");
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    cols = calloc((size_t)DL_MAX(e->num_columns, 1), sizeof *cols);
    /* tree levels of child masks + the root's F mask + the validity bytes */
    scratch = malloc(((size_t)e->tree_depth * 2 + 2) * CHUNK);
    if (!cols || !scratch) DL_FAIL(err, DL_ENOMEM, "filter: out of memory");
    DL_TRY(bind_table(e, t, cols, err));
    eval_ctx c = {.e = e, .cols = cols, .scratch = scratch};
    uint8_t *root_f = scratch + (size_t)e->tree_depth * 2 * CHUNK;
    c.valid = root_f + CHUNK;
    for (int64_t begin = 0; begin < t->num_rows; begin += CHUNK) {
        c.begin = begin;
        c.n = DL_MIN((int64_t)CHUNK, t->num_rows - begin);
        uint8_t *restrict out = sel + begin;
        eval_node(&c, e->root, out, root_f, WANT_TRUE, 0);
        int64_t count = 0;
        FOR_ROWS(i, c.n, count += out[i]);
        total += count;
    }
    if (matches) *matches = total;
cleanup:
    free(cols);
    free(scratch);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Pruning                                                              */
/* ------------------------------------------------------------------ */

typedef struct maybe {
    bool may_true, may_false;
} maybe;

static const maybe MAYBE_ANY = {true, true};

/* sign(literal - stat) in the column's class. */
static int compare_to_stat(expr_class cls, const expr_scalar *lit, const dl_value *v) {
    switch (cls) {
    case EXPR_CLASS_F32:
    case EXPR_CLASS_F64:
        return (lit->f > v->f) - (lit->f < v->f);
    case EXPR_CLASS_BYTES:
        return dl_bytes_cmp(lit->s.ptr, lit->s.len, v->s ? v->s : lit->s.ptr, v->len);
    default:
        return (lit->i > v->i) - (lit->i < v->i);
    }
}

static expr_scalar set_member(const expr_set *set, int64_t k) {
    expr_scalar s = {0};
    if (set->ints) s.i = set->ints[k];
    if (set->doubles) s.f = set->doubles[k];
    if (set->bytes) s.s = set->bytes[k];
    return s;
}

/* Every value of the block is null (known from the counts)? */
static bool all_null(const dl_stats *s) {
    return s->has_null_count && s->num_values > 0 && s->null_count >= s->num_values;
}

/* Are min/max usable?  NaN bounds and NULL string bounds are not. */
static bool stats_usable(expr_class cls, const dl_stats *s) {
    if (!s->has_min_max) return false;
    if (cls == EXPR_CLASS_F32 || cls == EXPR_CLASS_F64)
        return s->min.f == s->min.f && s->max.f == s->max.f;
    if (cls == EXPR_CLASS_BYTES) return (s->min.s || !s->min.len) && (s->max.s || !s->max.len);
    return true;
}

/* x op lit for x in [min, max]. */
static maybe prune_compare(const expr_node *node, const dl_stats *s) {
    int lo = compare_to_stat(node->cls, &node->lit, &s->min); /* sign(lit - min) */
    int hi = compare_to_stat(node->cls, &node->lit, &s->max); /* sign(lit - max) */
    bool single = lo == 0 && hi == 0;                         /* min == max == lit */
    switch (node->op) {
    case EXPR_EQ:
        return (maybe){lo >= 0 && hi <= 0, !single};
    case EXPR_NE:
        return (maybe){!single, lo >= 0 && hi <= 0};
    case EXPR_LT:
        return (maybe){lo > 0, hi <= 0};
    case EXPR_LE:
        return (maybe){lo >= 0, hi < 0};
    case EXPR_GT:
        return (maybe){hi < 0, lo >= 0};
    case EXPR_GE:
        return (maybe){hi <= 0, lo > 0};
    case EXPR_ALWAYS:
        return (maybe){true, false};
    case EXPR_NEVER:
        return (maybe){false, true};
    }
    return MAYBE_ANY;
}

/* x in set for x in [min, max]: some member inside the interval? */
static maybe prune_in(const expr_node *node, const dl_stats *s) {
    const expr_set *set = &node->set;
    int64_t lo = 0, hi = set->count; /* first member >= min */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        expr_scalar m = set_member(set, mid);
        if (compare_to_stat(node->cls, &m, &s->min) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    maybe r = {false, true};
    if (lo < set->count) {
        expr_scalar m = set_member(set, lo);
        r.may_true = compare_to_stat(node->cls, &m, &s->max) <= 0;
        /* every value is min == max == that member */
        r.may_false = !(compare_to_stat(node->cls, &m, &s->min) == 0 &&
                        compare_to_stat(node->cls, &m, &s->max) == 0);
    }
    return r;
}

static maybe prune_node(const dl_expr *e, const expr_node *node, const dl_stats *stats) {
    switch (node->kind) {
    case EXPR_CONST:
        return (maybe){node->value, !node->value};
    case EXPR_NOT: {
        maybe m = prune_node(e, node->children[0], stats);
        return (maybe){m.may_false, m.may_true};
    }
    case EXPR_AND:
    case EXPR_OR: {
        bool is_and = node->kind == EXPR_AND;
        /* AND: true needs every child true, false needs one false; OR dually */
        maybe r = {is_and, !is_and};
        for (int k = 0; k < node->num_children; k++) {
            maybe m = prune_node(e, node->children[k], stats);
            if (is_and)
                r.may_true &= m.may_true, r.may_false |= m.may_false;
            else
                r.may_true |= m.may_true, r.may_false &= m.may_false;
        }
        return r;
    }
    case EXPR_IS_NULL: {
        const dl_stats *s = &stats[e->columns[node->slot].field];
        bool may_have_null = !(s->has_null_count && s->null_count == 0);
        bool may_have_value = !all_null(s);
        return node->negated ? (maybe){may_have_value, may_have_null}
                             : (maybe){may_have_null, may_have_value};
    }
    case EXPR_CMP:
    case EXPR_IN: {
        const dl_stats *s = &stats[e->columns[node->slot].field];
        /* a comparison with null is neither true nor false (not of it too) */
        if (all_null(s)) return (maybe){false, false};
        if (node->kind == EXPR_CMP && (node->op == EXPR_ALWAYS || node->op == EXPR_NEVER))
            return prune_compare(node, s); /* needs no statistics */
        if (!stats_usable(node->cls, s)) return MAYBE_ANY;
        maybe r = node->kind == EXPR_CMP ? prune_compare(node, s) : prune_in(node, s);
        if (node->kind == EXPR_IN && node->negated) r = (maybe){r.may_false, r.may_true};
        if (node->cls == EXPR_CLASS_F32 || node->cls == EXPR_CLASS_F64) {
            /* NaN values are left out of min/max, yet make =, <, in ... false
            ** and != / not in true. */
            bool positive = node->kind == EXPR_CMP ? node->op != EXPR_NE : !node->negated;
            if (positive)
                r.may_false = true;
            else
                r.may_true = true;
        }
        return r;
    }
    }
    return MAYBE_ANY;
}

bool dl_expr_may_match(const dl_expr *e, const dl_stats *stats) {
    if (!e || !stats) return true;
    return prune_node(e, e->root, stats).may_true;
}

/* ------------------------------------------------------------------ */
/* Selection                                                            */
/* ------------------------------------------------------------------ */

/* Moves the kept values of rows [first, n) down, keeping order.  Rows
** before `first` are all kept and stay where they are. */
#define DEFINE_COMPACT(suffix, ctype)                                                              \
    static void compact_##suffix(void *values, const uint8_t *sel, int64_t first, int64_t n) {     \
        ctype *v = values; /* NOLINT(bugprone-macro-parentheses): ctype is a type */               \
        int64_t j = first;                                                                         \
        for (int64_t i = first; i < n; i++) {                                                      \
            v[j] = v[i]; /* branch-free: j only advances past kept rows */                         \
            j += sel[i] != 0;                                                                      \
        }                                                                                          \
    }
DEFINE_COMPACT(w1, uint8_t)
DEFINE_COMPACT(w4, uint32_t)
DEFINE_COMPACT(w8, uint64_t)

static void compact_strings(dl_column *col, const uint8_t *sel, int64_t first, int64_t n) {
    int64_t *off = col->offsets;
    int64_t j = first, write = off[first], start = off[first];
    for (int64_t i = first; i < n; i++) {
        int64_t end = off[i + 1]; /* read before off[j + 1] (j < i) is overwritten */
        if (sel[i]) {
            if (end > start) memmove(col->data + write, col->data + start, (size_t)(end - start));
            write += end - start;
            off[++j] = write;
        }
        start = end;
    }
}

/* Compacts the validity bits and returns the kept rows' null count. */
static int64_t compact_validity(uint8_t *bits, const uint8_t *sel, int64_t first, int64_t n) {
    int64_t nulls = 0, j = first;
    for (int64_t i = 0; i < first; i++) nulls += !dl_bitmap_get(bits, i);
    for (int64_t i = first; i < n; i++) {
        if (!sel[i]) continue;
        if (dl_bitmap_get(bits, i)) {
            dl_bitmap_set(bits, j);
        } else {
            dl_bitmap_clear(bits, j);
            nulls++;
        }
        j++;
    }
    return nulls;
}

int dl_table_filter(dl_table *t, const uint8_t *sel, dl_error *err) {
    if (!t || (!sel && t->num_rows > 0) || t->num_rows < 0)
        return dl_error_set(err, DL_EINVAL, "filter: invalid arguments to dl_table_filter");
    int64_t n = t->num_rows;
    for (int c = 0; c < t->schema.num_fields; c++)
        if (t->columns[c].length != n)
            return dl_error_set(
                err, DL_EINVAL, "filter: column '%s' holds %lld values, the table has %lld rows",
                t->schema.fields[c].name, (long long)t->columns[c].length, (long long)n);
    int64_t first = 0, kept = 0;
    while (first < n && sel[first]) first++;
    if (first == n) return DL_OK; /* every row kept */
    FOR_ROWS(i, n, kept += sel[i] != 0);
    for (int c = 0; c < t->schema.num_fields; c++) {
        dl_column *col = &t->columns[c];
        if (col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY) {
            compact_strings(col, sel, first, n);
        } else {
            switch (dl_type_width(col->type)) {
            case 1:
                compact_w1(col->values, sel, first, n);
                break;
            case 4:
                compact_w4(col->values, sel, first, n);
                break;
            case 8:
                compact_w8(col->values, sel, first, n);
                break;
            default:
                return dl_error_set(err, DL_EINTERNAL, "filter: column '%s' has width %zu",
                                    t->schema.fields[c].name, dl_type_width(col->type));
            }
        }
        col->null_count = col->validity ? compact_validity(col->validity, sel, first, n) : 0;
        col->length = kept;
    }
    t->num_rows = kept;
    return DL_OK;
}
