/*
** dl_feat_table.c -- column gathering for the feature store: copies rows
** picked by an index vector (with -1 for "no row" = null), so publishing
** can lay rows out in canonical order and retrieval in entity order without
** a per-row library call.
*/
#include <string.h>

#include "features/dl_feat_internal.h"
#include "util/dl_internal.h"

bool feat_grow(void **arr, int64_t *cap, int64_t n, size_t elem) {
    if (n < *cap) return true;
    int64_t want = *cap ? 2 * *cap : 16;
    size_t bytes;
    if (dl_size_mul((size_t)want, elem, &bytes) != 0) return false;
    void *g = realloc(*arr, bytes);
    if (!g) return false;
    *arr = g;
    *cap = want;
    return true;
}

int64_t feat_ts_us(const dl_column *col, int64_t row) {
    int64_t v = ((const int64_t *)col->values)[row];
    if (col->type != DL_TYPE_TIMESTAMP) return v;
    if (col->unit == DL_UNIT_MS) return v * 1000;
    if (col->unit == DL_UNIT_NS) return v / 1000 - (v % 1000 < 0);
    return v;
}

static int gather_strings(dl_column *dst, const dl_column *src, const int64_t *rows, int64_t n,
                          dl_error *err) {
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++)
        if (rows[i] >= 0) bytes += src->offsets[rows[i] + 1] - src->offsets[rows[i]];
    int rc = dl_column_reserve(dst, n, bytes, err);
    if (rc != DL_OK) return rc;
    int64_t at = dst->offsets[dst->length];
    for (int64_t i = 0; i < n; i++) {
        if (rows[i] >= 0) {
            int64_t b = src->offsets[rows[i]], len = src->offsets[rows[i] + 1] - b;
            if (len) memcpy(dst->data + at, src->data + b, (size_t)len);
            at += len;
        }
        dst->offsets[dst->length + i + 1] = at;
    }
    return DL_OK;
}

static void gather_fixed(dl_column *dst, const dl_column *src, const int64_t *rows, int64_t n) {
    size_t w = dl_type_width(src->type);
    uint8_t *out = (uint8_t *)dst->values + (size_t)dst->length * w;
    const uint8_t *in = src->values;
    if (w == 8) {
        int64_t *o = (int64_t *)out;
        const int64_t *s = (const int64_t *)in;
        for (int64_t i = 0; i < n; i++) o[i] = rows[i] >= 0 ? s[rows[i]] : 0;
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        if (rows[i] >= 0)
            memcpy(out + (size_t)i * w, in + (size_t)rows[i] * w, w);
        else
            memset(out + (size_t)i * w, 0, w);
    }
}

int feat_column_gather(dl_column *dst, const dl_column *src, const int64_t *rows, int64_t n,
                       dl_error *err) {
    if (src->type != dst->type) return dl_error_set(err, DL_EINTERNAL, "gather: type mismatch");
    if (n == 0) return DL_OK;
    int rc = DL_OK;
    bool var = src->type == DL_TYPE_STRING || src->type == DL_TYPE_BINARY;
    if (var)
        rc = gather_strings(dst, src, rows, n, err);
    else if ((rc = dl_column_reserve(dst, n, 0, err)) == DL_OK)
        gather_fixed(dst, src, rows, n);
    if (rc != DL_OK) return rc;
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; i++)
        nulls += rows[i] < 0 || (src->validity && !dl_bitmap_get(src->validity, rows[i]));
    if (nulls || dst->validity) {
        if (dl_column_ensure_validity(dst) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        for (int64_t i = 0; i < n; i++) {
            bool valid = rows[i] >= 0 && (!src->validity || dl_bitmap_get(src->validity, rows[i]));
            if (valid)
                dl_bitmap_set(dst->validity, dst->length + i);
            else
                dl_bitmap_clear(dst->validity, dst->length + i);
        }
    }
    dst->null_count += nulls;
    dst->length += n;
    return DL_OK;
}

int feat_table_append(dl_table *dst, const dl_table *src, int64_t from, int64_t count,
                      dl_error *err) {
    for (int c = 0; c < src->schema.num_fields; c++) {
        int rc = dl_column_append_range(&dst->columns[c], &src->columns[c], from, count, err);
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}
