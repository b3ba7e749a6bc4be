/*
** dl_kernel_int.h -- helpers shared by the streaming time-series kernels
** (dl_resample.c, dl_tick_bars.c, dl_asof.c): locating and type-checking
** input columns, validating that a batch matches the schema it was opened
** with and continues the sort order, floor-division bucketing, compacting a
** batch's value columns when nulls must be skipped, and appending one row
** of aggregates to an output table.  Internal to src/query; everything is
** static inline so each kernel stays a single translation unit with its
** hot loops visible to the compiler.
*/
#ifndef DL_KERNEL_INT_H
#define DL_KERNEL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/dl_internal.h"

/* ---- schema look-ups ---- */

/* Writes "a, b, c" (the schema's column names) into buf for error messages. */
static inline void dl_kernel_list_columns(const dl_schema *schema, char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < schema->num_fields && used + 1 < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", schema->fields[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* True for the column types whose values are int64 timestamps or keys. */
static inline bool dl_kernel_is_time_type(dl_type t) {
    return t == DL_TYPE_INT64 || t == DL_TYPE_TIMESTAMP;
}

/* Finds column `name` in `schema`, failing with DL_ENOTFOUND (listing the
** columns there are) when absent.  `what` prefixes the message ("resample"). */
static inline int dl_kernel_find(const dl_schema *schema, const char *name, const char *what,
                                 int *index, dl_error *err) {
    int i = dl_schema_find(schema, name);
    if (i < 0) {
        char cols[512];
        dl_kernel_list_columns(schema, cols, sizeof cols);
        return dl_error_set(err, DL_ENOTFOUND, "%s: input has no column '%s' (columns: %s)", what,
                            name, cols);
    }
    *index = i;
    return DL_OK;
}

/* Finds the time/key column and checks that it is TIMESTAMP or INT64. */
static inline int dl_kernel_find_time(const dl_schema *schema, const char *name, const char *what,
                                      int *index, dl_error *err) {
    int rc = dl_kernel_find(schema, name, what, index, err);
    if (rc != DL_OK) return rc;
    dl_type t = schema->fields[*index].type;
    if (!dl_kernel_is_time_type(t))
        return dl_error_set(err, DL_EINVAL, "%s: column '%s' is %s; it must be timestamp or int64",
                            what, name, dl_type_name(t));
    return DL_OK;
}

/* Finds a value column that must be DOUBLE. */
static inline int dl_kernel_find_double(const dl_schema *schema, const char *name, const char *what,
                                        int *index, dl_error *err) {
    int rc = dl_kernel_find(schema, name, what, index, err);
    if (rc != DL_OK) return rc;
    dl_type t = schema->fields[*index].type;
    if (t != DL_TYPE_DOUBLE)
        return dl_error_set(err, DL_EINVAL,
                            "%s: column '%s' is %s; it must be double (cast it first)", what, name,
                            dl_type_name(t));
    return DL_OK;
}

/* Appends a non-null field named `name` with the type, unit and time zone
** flag of the time column `src` (so bars keep the input's ts unit). */
static inline int dl_kernel_add_time_field(dl_schema *schema, const dl_field *src, const char *name,
                                           dl_error *err) {
    int rc = src->type == DL_TYPE_TIMESTAMP
                 ? dl_schema_add_timestamp(schema, name, src->unit, false, err)
                 : dl_schema_add(schema, name, src->type, false, err);
    if (rc == DL_OK) schema->fields[schema->num_fields - 1].utc = src->utc;
    return rc;
}

/* Checks that `table` has exactly the columns of `schema` (names, types,
** units) and that every column holds num_rows values.  Used for input
** batches (`role` "input batch") and for caller-provided output tables. */
static inline int dl_kernel_check_table(const dl_schema *schema, const dl_table *table,
                                        const char *what, const char *role, dl_error *err) {
    if (!table) return dl_error_set(err, DL_EINVAL, "%s: %s is NULL", what, role);
    if (table->schema.num_fields != schema->num_fields)
        return dl_error_set(err, DL_EINVAL, "%s: %s has %d columns, expected %d", what, role,
                            table->schema.num_fields, schema->num_fields);
    for (int i = 0; i < schema->num_fields; i++) {
        const dl_field *want = &schema->fields[i], *got = &table->schema.fields[i];
        const dl_column *col = &table->columns[i];
        if (strcmp(want->name, got->name) != 0 || want->type != got->type ||
            col->type != want->type ||
            (want->type == DL_TYPE_TIMESTAMP &&
             (got->unit != want->unit || col->unit != want->unit)))
            return dl_error_set(err, DL_EINVAL,
                                "%s: %s column %d is '%s' %s, expected '%s' %s (the schema the "
                                "kernel was opened with)",
                                what, role, i, got->name, dl_type_name(got->type), want->name,
                                dl_type_name(want->type));
        if (col->length != table->num_rows)
            return dl_error_set(err, DL_EINVAL,
                                "%s: %s column '%s' has %lld values but the table "
                                "has %lld rows",
                                what, role, got->name, (long long)col->length,
                                (long long)table->num_rows);
    }
    return DL_OK;
}

static inline bool dl_kernel_has_nulls(const dl_column *col) {
    return col->validity != NULL && col->null_count > 0;
}

/* ---- sort order ---- */

/*
** Tracks the last key seen by a stream so that every batch is checked to
** continue the order.  rows_before numbers rows across batches for errors.
*/
typedef struct dl_sort_check {
    bool have_last;
    int64_t last;
    int64_t rows_before; /* rows of earlier batches */
} dl_sort_check;

/*
** Fails with DL_EINVAL naming the row when key column `col` has a null or
** a value smaller than its predecessor (in this batch or the last row of
** the previous one).  On success advances the tracker past the batch.
** The common case is a single branch-free pass over the keys.
*/
static inline int dl_sort_check_batch(dl_sort_check *sc, const dl_column *col, const char *what,
                                      const char *name, dl_error *err) {
    int64_t n = col->length;
    if (n == 0) return DL_OK;
    const int64_t *keys = (const int64_t *)col->values;
    if (dl_kernel_has_nulls(col))
        for (int64_t i = 0; i < n; i++)
            if (!dl_column_is_valid(col, i))
                return dl_error_set(err, DL_EINVAL,
                                    "%s: '%s' is null at row %lld of the batch (row %lld of the "
                                    "input); rows need a time to be ordered",
                                    what, name, (long long)i, (long long)sc->rows_before + i);
    int decreasing = sc->have_last && keys[0] < sc->last;
    for (int64_t i = 1; i < n; i++) decreasing |= keys[i] < keys[i - 1];
    if (DL_UNLIKELY(decreasing)) {
        int64_t i = 0;
        if (!(sc->have_last && keys[0] < sc->last))
            for (i = 1; i < n && keys[i] >= keys[i - 1]; i++) {
            }
        int64_t prev = i == 0 ? sc->last : keys[i - 1];
        return dl_error_set(err, DL_EINVAL,
                            "%s: input is not sorted by '%s': row %lld of the batch (row %lld of "
                            "the input) has %lld after %lld",
                            what, name, (long long)i, (long long)sc->rows_before + i,
                            (long long)keys[i], (long long)prev);
    }
    sc->have_last = true;
    sc->last = keys[n - 1];
    sc->rows_before += n;
    return DL_OK;
}

/* ---- bucketing ---- */

/* floor(a / b) for b > 0, correct for negative a (C division truncates). */
static inline int64_t dl_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return q - ((a % b) < 0);
}

/*
** The bar being accumulated: its bucket [start, last] (last inclusive, so
** the bucket holding INT64_MAX needs no overflow) and whether one is open.
*/
typedef struct dl_bar_clock {
    int64_t bucket;
    bool open;
    int64_t start;
    int64_t last;
} dl_bar_clock;

/* Opens the bucket holding t (the caller has emitted the previous bar). */
static inline int dl_bar_clock_enter(dl_bar_clock *c, int64_t t, const char *what, dl_error *err) {
    int64_t start;
    if (__builtin_mul_overflow(dl_floor_div(t, c->bucket), c->bucket, &start))
        return dl_error_set(err, DL_EINVAL,
                            "%s: ts %lld: its bucket of %lld starts before the smallest int64",
                            what, (long long)t, (long long)c->bucket);
    c->open = true;
    c->start = start;
    if (__builtin_add_overflow(start, c->bucket - 1, &c->last)) c->last = INT64_MAX;
    return DL_OK;
}

/*
** First index >= i whose key is > last, in keys sorted ascending (already
** checked).  Gallops then bisects, so a long run costs O(log run) compares
** and a run of one costs one.
*/
static inline int64_t dl_run_end(const int64_t *keys, int64_t i, int64_t n, int64_t last) {
    int64_t lo = i, step = 1, hi; /* invariant: keys[lo] <= last (or lo == i) */
    for (;;) {
        hi = lo + step;
        if (hi >= n) {
            hi = n;
            break;
        }
        if (keys[hi] > last) break;
        lo = hi;
        step *= 2;
    }
    /* keys[lo] <= last < keys[hi] (or hi == n): bisect. */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (keys[mid] <= last)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* ---- batch compaction for null handling ---- */

/*
** Scratch space for a batch whose rows must be filtered (some aggregated
** value is null) or whose summed columns have nulls: each used column is
** copied to a dense array with skipped rows removed and remaining nulls
** replaced by zero, so the aggregation loops never test validity.  Grows
** to the largest batch seen (memory bounded by one batch).
*/
typedef struct dl_kernel_scratch {
    uint8_t *keep; /* per input row: 1 = aggregate it */
    int64_t keep_cap;
    uint8_t **cols;    /* per used column: dense values */
    int64_t *cols_cap; /* in bytes */
    int num_cols;
} dl_kernel_scratch;

static inline int dl_kernel_scratch_init(dl_kernel_scratch *s, int num_cols, dl_error *err) {
    memset(s, 0, sizeof *s);
    s->cols = calloc((size_t)(num_cols ? num_cols : 1), sizeof *s->cols);
    s->cols_cap = calloc((size_t)(num_cols ? num_cols : 1), sizeof *s->cols_cap);
    if (!s->cols || !s->cols_cap) {
        free(s->cols);
        free(s->cols_cap);
        s->cols = NULL;
        s->cols_cap = NULL;
        return dl_error_set(err, DL_ENOMEM, "out of memory allocating kernel scratch");
    }
    s->num_cols = num_cols;
    return DL_OK;
}

static inline void dl_kernel_scratch_free(dl_kernel_scratch *s) {
    free(s->keep);
    if (s->cols)
        for (int i = 0; i < s->num_cols; i++) free(s->cols[i]);
    free(s->cols);
    free(s->cols_cap);
    memset(s, 0, sizeof *s);
}

static inline int dl_kernel_grow(void **p, int64_t *cap, int64_t need, dl_error *err) {
    if (need <= *cap) return DL_OK;
    int64_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    if ((size_t)c > DL_MAX_ALLOC)
        return dl_error_set(err, DL_ENOMEM, "kernel scratch of %lld bytes is over the cap",
                            (long long)c);
    void *q = realloc(*p, (size_t)c);
    if (!q) return dl_error_set(err, DL_ENOMEM, "out of memory growing kernel scratch");
    *p = q;
    *cap = c;
    return DL_OK;
}

/*
** Computes scratch->keep (1 for rows where every column in `required` is
** valid) and returns the number of kept rows in *kept.  Only called when
** at least one required column has nulls.
*/
static inline int dl_kernel_select_valid(dl_kernel_scratch *s, const dl_column *const *required,
                                         int num_required, int64_t n, int64_t *kept,
                                         dl_error *err) {
    int rc = dl_kernel_grow((void **)&s->keep, &s->keep_cap, n, err);
    if (rc != DL_OK) return rc;
    memset(s->keep, 1, (size_t)n);
    for (int c = 0; c < num_required; c++) {
        const dl_column *col = required[c];
        if (!dl_kernel_has_nulls(col)) continue;
        for (int64_t i = 0; i < n; i++)
            s->keep[i] &= (uint8_t)((col->validity[i >> 3] >> (i & 7)) & 1);
    }
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) count += s->keep[i];
    *kept = count;
    return DL_OK;
}

/*
** Returns in *values a dense view of fixed-width column `col`: the column's
** own buffer when no row is skipped and it has no nulls, else scratch slot
** `slot` holding the kept rows (keep == NULL: all rows) with nulls zeroed.
** Adding a zeroed value to a sum that starts at +0 changes nothing, so sums
** over the view equal sums that skip nulls, bit for bit.
*/
static inline int dl_kernel_dense(dl_kernel_scratch *s, int slot, const dl_column *col,
                                  const uint8_t *keep, int64_t kept, const void **values,
                                  dl_error *err) {
    bool nulls = dl_kernel_has_nulls(col);
    if (!keep && !nulls) {
        *values = col->values;
        return DL_OK;
    }
    size_t width = dl_type_width(col->type);
    int rc = dl_kernel_grow((void **)&s->cols[slot], &s->cols_cap[slot],
                            (kept ? kept : 1) * (int64_t)width, err);
    if (rc != DL_OK) return rc;
    int64_t n = col->length, o = 0;
    if (width == 8) {
        const uint64_t *src = col->values;
        uint64_t *dst = (uint64_t *)s->cols[slot];
        for (int64_t i = 0; i < n; i++) {
            if (keep && !keep[i]) continue;
            dst[o++] = dl_column_is_valid(col, i) ? src[i] : 0;
        }
    } else if (width == 4) {
        const uint32_t *src = col->values;
        uint32_t *dst = (uint32_t *)s->cols[slot];
        for (int64_t i = 0; i < n; i++) {
            if (keep && !keep[i]) continue;
            dst[o++] = dl_column_is_valid(col, i) ? src[i] : 0;
        }
    } else {
        return dl_error_set(err, DL_EINTERNAL, "dense view of a %s column",
                            dl_type_name(col->type));
    }
    *values = s->cols[slot];
    return DL_OK;
}

/* ---- output rows ---- */

/* Makes room for one more row in every column of out (amortised: a
** reservation happens only when a column is full). */
static inline int dl_kernel_out_room(dl_table *out, dl_error *err) {
    for (int c = 0; c < out->schema.num_fields; c++) {
        dl_column *col = &out->columns[c];
        if (col->length >= col->cap_values) {
            int rc = dl_column_reserve(col, 1, 0, err);
            if (rc != DL_OK) return rc;
        }
    }
    return DL_OK;
}

/* Appends a present 8-byte value to a column with room (dl_kernel_out_room). */
static inline void dl_kernel_put_i64(dl_column *col, int64_t v) {
    ((int64_t *)col->values)[col->length] = v;
    if (col->validity) dl_bitmap_set(col->validity, col->length);
    col->length++;
}

static inline void dl_kernel_put_f64(dl_column *col, double v) {
    ((double *)col->values)[col->length] = v;
    if (col->validity) dl_bitmap_set(col->validity, col->length);
    col->length++;
}

/* Sum accumulators for the summed columns of a bar: integer columns sum
** into int64 (overflow is an error), float columns into double. */
typedef union dl_kernel_sum {
    int64_t i;
    double f;
} dl_kernel_sum;

#endif /* DL_KERNEL_INT_H */
