/*
** dl_asof.c -- streaming as-of join (point in time, no look-ahead): for
** each left row, the latest right row whose key <= the left key, optionally
** within a tolerance (see datalake.h).
**
** Right batches are appended to a retained table; a probe walks the left
** keys and a right cursor together (a merge, O(left + right)), records the
** matched right row of every left row, then copies the left columns in bulk
** and gathers each right column by the match indices.  Of several right
** rows with the same key the last pushed one is "the latest".
**
** Memory: left keys never decrease across probes, so right rows before the
** last match can never match again.  After each probe they are dropped
** once they are at least half of the retained rows, which bounds the
** retained right rows by twice (the rows from the last matched one to the
** highest pushed key), plus one left batch of match indices.
**
** Keys must be non-null and sorted on both sides (checked; the error names
** the row).  Keys are int64 or TIMESTAMP; two TIMESTAMP keys must share a
** unit, an int64 key is taken to be in the other side's unit.
*/
#include <stdlib.h>
#include <string.h>

#include "query/dl_kernel_int.h"

#define WHAT         "as-of join"
#define RIGHT_PREFIX "right_"

struct dl_asof_join {
    dl_schema left, right, output;
    int left_key, right_key;
    int64_t tolerance; /* < 0: no staleness limit */
    int num_right_out;
    int *right_out_col; /* right column index of each right output column */
    dl_table kept;      /* retained right rows, schema = right */
    int64_t cursor;     /* kept row matched by the last probed key, -1 none */
    dl_sort_check right_sorted, left_sorted;
    bool right_finished;
    int64_t *match; /* per probed left row: kept row or -1 */
    int64_t match_cap;
};

void dl_asof_free(dl_asof_join *j) {
    if (!j) return;
    dl_schema_free(&j->left);
    dl_schema_free(&j->right);
    dl_schema_free(&j->output);
    dl_table_free(&j->kept);
    free(j->right_out_col);
    free(j->match);
    free(j);
}

/* Appends a copy of `src` named `name` (nullable) to the output schema. */
static int add_output_field(dl_schema *out, const dl_field *src, const char *name, bool nullable,
                            dl_error *err) {
    int rc = dl_schema_add(out, name, src->type, nullable, err);
    if (rc != DL_OK) return rc;
    dl_field *f = &out->fields[out->num_fields - 1];
    f->unit = src->unit;
    f->utc = src->utc;
    f->decimal_scale = src->decimal_scale;
    f->decimal_precision = src->decimal_precision;
    return DL_OK;
}

int dl_asof_open(const dl_schema *left, const char *left_key, const dl_schema *right,
                 const char *right_key, int64_t tolerance, dl_asof_join **out, dl_error *err) {
    int rc = DL_OK;
    dl_asof_join *j = NULL;
    char *prefixed = NULL;
    if (!left || !left_key || !right || !right_key || !out)
        return dl_error_set(err, DL_EINVAL, WHAT ": NULL argument");
    *out = NULL;
    j = calloc(1, sizeof *j);
    if (!j) return dl_error_set(err, DL_ENOMEM, "out of memory opening the as-of join");
    dl_schema_init(&j->left);
    dl_schema_init(&j->right);
    dl_schema_init(&j->output);
    j->tolerance = tolerance;
    j->cursor = -1;

    DL_TRY(dl_kernel_find_time(left, left_key, WHAT " (left side)", &j->left_key, err));
    DL_TRY(dl_kernel_find_time(right, right_key, WHAT " (right side)", &j->right_key, err));
    const dl_field *lk = &left->fields[j->left_key], *rk = &right->fields[j->right_key];
    if (lk->type == DL_TYPE_TIMESTAMP && rk->type == DL_TYPE_TIMESTAMP && lk->unit != rk->unit)
        DL_FAIL(err, DL_EINVAL,
                WHAT ": left key '%s' is in %s but right key '%s' is in %s; convert one first",
                lk->name, dl_unit_name(lk->unit), rk->name, dl_unit_name(rk->unit));
    DL_TRY(dl_schema_copy(&j->left, left, err));
    DL_TRY(dl_schema_copy(&j->right, right, err));
    DL_TRY(dl_table_init(&j->kept, right, err));

    DL_TRY(dl_schema_copy(&j->output, left, err));
    j->right_out_col = calloc((size_t)(right->num_fields ? right->num_fields : 1), sizeof(int));
    if (!j->right_out_col) DL_FAIL(err, DL_ENOMEM, "out of memory opening the as-of join");
    for (int c = 0; c < right->num_fields; c++) {
        if (c == j->right_key) continue;
        const dl_field *f = &right->fields[c];
        const char *name = f->name;
        if (dl_schema_find(&j->output, name) >= 0) {
            size_t len = strlen(name);
            prefixed = malloc(sizeof RIGHT_PREFIX + len);
            if (!prefixed) DL_FAIL(err, DL_ENOMEM, "out of memory opening the as-of join");
            memcpy(prefixed, RIGHT_PREFIX, sizeof RIGHT_PREFIX - 1);
            memcpy(prefixed + sizeof RIGHT_PREFIX - 1, name, len + 1);
            if (dl_schema_find(&j->output, prefixed) >= 0)
                DL_FAIL(err, DL_ECONFLICT,
                        WHAT ": right column '%s' clashes with a left column, and so does '%s'; "
                             "rename one of them",
                        name, prefixed);
            name = prefixed;
        }
        DL_TRY(add_output_field(&j->output, f, name, true, err));
        free(prefixed);
        prefixed = NULL;
        j->right_out_col[j->num_right_out++] = c;
    }
    *out = j;
    j = NULL;
cleanup:
    free(prefixed);
    dl_asof_free(j);
    return rc;
}

const dl_schema *dl_asof_schema(const dl_asof_join *j) {
    return &j->output;
}

int64_t dl_asof_right_high(const dl_asof_join *j) {
    DL_REQUIRE_OR_RETURN(j, INT64_MIN);
    return j->right_sorted.have_last ? j->right_sorted.last : INT64_MIN;
}

void dl_asof_finish_right(dl_asof_join *j) {
    DL_REQUIRE_OR_RETURN(j, );
    j->right_finished = true;
}

int dl_asof_push_right(dl_asof_join *j, const dl_table *right_batch, dl_error *err) {
    int rc = DL_OK;
    DL_TRY(dl_kernel_check_table(&j->right, right_batch, WHAT, "right batch", err));
    if (j->right_finished) DL_FAIL(err, DL_EINVAL, WHAT ": right batch pushed after finish_right");
    DL_TRY(dl_sort_check_batch(&j->right_sorted, &right_batch->columns[j->right_key],
                               WHAT " (right side)", j->right.fields[j->right_key].name, err));
    for (int c = 0; c < j->right.num_fields; c++)
        DL_TRY(dl_column_append_range(&j->kept.columns[c], &right_batch->columns[c], 0,
                                      right_batch->num_rows, err));
    j->kept.num_rows += right_batch->num_rows;
cleanup:
    return rc;
}

/* Removes the first `drop` rows of col in place (values, string bytes,
** validity and null count), keeping its buffers. */
static void column_drop_prefix(dl_column *col, int64_t drop) {
    int64_t keep = col->length - drop;
    if (col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY) {
        int64_t from = col->offsets[drop];
        int64_t bytes = col->offsets[col->length] - from;
        if (bytes > 0) memmove(col->data, col->data + from, (size_t)bytes);
        for (int64_t i = 0; i <= keep; i++) col->offsets[i] = col->offsets[drop + i] - from;
    } else {
        size_t w = dl_type_width(col->type);
        memmove(col->values, (uint8_t *)col->values + (size_t)drop * w, (size_t)keep * w);
    }
    if (col->validity) {
        int64_t nulls = 0;
        for (int64_t i = 0; i < keep; i++) {
            bool valid = dl_bitmap_get(col->validity, drop + i);
            nulls += !valid;
            if (valid)
                dl_bitmap_set(col->validity, i);
            else
                dl_bitmap_clear(col->validity, i);
        }
        /* slots past the end read as valid, as dl_column_clear leaves them */
        for (int64_t i = keep; i < col->length; i++) dl_bitmap_set(col->validity, i);
        col->null_count = nulls;
    }
    col->length = keep;
}

/* Drops the retained right rows before the cursor once they are at least
** half of them, so the memmove costs O(1) per right row overall. */
static void drop_passed_rows(dl_asof_join *j) {
    int64_t drop = j->cursor, keep = j->kept.num_rows - drop;
    if (drop <= 0 || drop < keep) return;
    for (int c = 0; c < j->right.num_fields; c++) column_drop_prefix(&j->kept.columns[c], drop);
    j->kept.num_rows = keep;
    j->cursor = 0;
}

/* Whether left row i gets a present value from src. */
static inline bool gathered_valid(const int64_t *match, int64_t i, const dl_column *src,
                                  bool src_nulls) {
    return match[i] >= 0 && (!src_nulls || dl_column_is_valid(src, match[i]));
}

/* Writes the validity bits [base, base+n) of a gathered column, a byte at
** a time where aligned. */
static void gather_validity(uint8_t *bitmap, int64_t base, const int64_t *match, int64_t n,
                            const dl_column *src, bool src_nulls) {
    int64_t i = 0;
    for (; i < n && ((base + i) & 7); i++) {
        if (gathered_valid(match, i, src, src_nulls))
            dl_bitmap_set(bitmap, base + i);
        else
            dl_bitmap_clear(bitmap, base + i);
    }
    for (; i + 8 <= n; i += 8) {
        unsigned byte = 0;
        for (int k = 0; k < 8; k++)
            byte |= (unsigned)gathered_valid(match, i + k, src, src_nulls) << k;
        bitmap[(base + i) >> 3] = (uint8_t)byte;
    }
    for (; i < n; i++) {
        if (gathered_valid(match, i, src, src_nulls))
            dl_bitmap_set(bitmap, base + i);
        else
            dl_bitmap_clear(bitmap, base + i);
    }
}

/*
** Appends, for each of the n left rows, row match[i] of src (null when
** match[i] < 0) to dst.  Fixed-width values are copied by a typed loop per
** width; strings in two passes (size, then copy).
*/
static int gather_column(dl_column *dst, const dl_column *src, const int64_t *match, int64_t n,
                         int64_t unmatched, dl_error *err) {
    bool var = dst->type == DL_TYPE_STRING || dst->type == DL_TYPE_BINARY;
    int64_t bytes = 0;
    if (var)
        for (int64_t i = 0; i < n; i++)
            if (match[i] >= 0) bytes += src->offsets[match[i] + 1] - src->offsets[match[i]];
    int rc = dl_column_reserve(dst, n, bytes, err);
    if (rc != DL_OK) return rc;
    int64_t base = dst->length;
    switch (var ? 0 : dl_type_width(dst->type)) {
    case 0: {
        int64_t *offs = dst->offsets + base;
        int64_t at = offs[0];
        for (int64_t i = 0; i < n; i++) {
            int64_t r = match[i];
            int64_t len = r >= 0 ? src->offsets[r + 1] - src->offsets[r] : 0;
            if (len > 0) memcpy(dst->data + at, src->data + src->offsets[r], (size_t)len);
            at += len;
            offs[i + 1] = at;
        }
        break;
    }
    case 1: {
        const uint8_t *s = src->values;
        uint8_t *d = (uint8_t *)dst->values + base;
        for (int64_t i = 0; i < n; i++) d[i] = match[i] >= 0 ? s[match[i]] : 0;
        break;
    }
    case 4: {
        const uint32_t *s = src->values;
        uint32_t *d = (uint32_t *)dst->values + base;
        for (int64_t i = 0; i < n; i++) d[i] = match[i] >= 0 ? s[match[i]] : 0;
        break;
    }
    case 8: {
        const uint64_t *s = src->values;
        uint64_t *d = (uint64_t *)dst->values + base;
        for (int64_t i = 0; i < n; i++) d[i] = match[i] >= 0 ? s[match[i]] : 0;
        break;
    }
    default:
        return dl_error_set(err, DL_EINTERNAL, WHAT ": cannot gather a %s column",
                            dl_type_name(dst->type));
    }
    bool src_nulls = dl_kernel_has_nulls(src);
    int64_t nulls = unmatched;
    if (src_nulls)
        for (int64_t i = 0; i < n; i++)
            nulls += match[i] >= 0 && !dl_column_is_valid(src, match[i]);
    if (nulls > 0 || dst->validity) {
        if (dl_column_ensure_validity(dst) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory gathering a column");
        gather_validity(dst->validity, base, match, n, src, src_nulls);
    }
    dst->null_count += nulls;
    dst->length += n;
    return DL_OK;
}

int dl_asof_probe(dl_asof_join *j, const dl_table *left_batch, dl_table *out, int64_t *matched,
                  dl_error *err) {
    int rc = DL_OK;
    if (matched) *matched = 0;
    DL_TRY(dl_kernel_check_table(&j->left, left_batch, WHAT, "left batch", err));
    DL_TRY(dl_kernel_check_table(&j->output, out, WHAT, "output table", err));
    int64_t n = left_batch->num_rows;
    const dl_column *key_col = &left_batch->columns[j->left_key];
    dl_sort_check left_sorted = j->left_sorted;
    DL_TRY(dl_sort_check_batch(&left_sorted, key_col, WHAT " (left side)",
                               j->left.fields[j->left_key].name, err));
    if (n == 0) goto cleanup;
    const int64_t *lk = key_col->values;

    /* Without finish_right, a later right row could still carry a key <=
    ** some left key (even an equal one), so every left key must be below
    ** the highest right key pushed. */
    int64_t high = dl_asof_right_high(j);
    if (!j->right_finished && (!j->right_sorted.have_last || lk[n - 1] >= high)) {
        int64_t i = 0;
        while (j->right_sorted.have_last && lk[i] < high) i++;
        DL_FAIL(err, DL_EINVAL,
                WHAT ": left key %lld at row %lld of the batch is not covered by the right side "
                     "yet (%s); push right rows with larger keys or call dl_asof_finish_right",
                (long long)lk[i], (long long)i,
                j->right_sorted.have_last ? "right keys pushed up to a smaller or equal key"
                                          : "no right rows pushed");
    }

    DL_TRY(dl_kernel_grow((void **)&j->match, &j->match_cap, n * (int64_t)sizeof *j->match, err));
    int64_t *match = j->match;

    /* The merge: advance the right cursor to the last key <= each left key. */
    const int64_t *rk = j->kept.columns[j->right_key].values;
    int64_t m = j->kept.num_rows, r = j->cursor, hits = 0;
    uint64_t tolerance = (uint64_t)j->tolerance;
    bool limited = j->tolerance >= 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t key = lk[i];
        while (r + 1 < m && rk[r + 1] <= key) r++;
        /* key >= rk[r], so the unsigned difference cannot wrap. */
        bool ok = r >= 0 && (!limited || (uint64_t)key - (uint64_t)rk[r] <= tolerance);
        match[i] = ok ? r : -1;
        hits += ok;
    }

    int num_left = j->left.num_fields;
    for (int c = 0; c < num_left; c++)
        DL_TRY(dl_column_append_range(&out->columns[c], &left_batch->columns[c], 0, n, err));
    for (int c = 0; c < j->num_right_out; c++)
        DL_TRY(gather_column(&out->columns[num_left + c], &j->kept.columns[j->right_out_col[c]],
                             match, n, n - hits, err));
    out->num_rows += n;
    j->cursor = r;
    j->left_sorted = left_sorted;
    if (matched) *matched = hits;
    drop_passed_rows(j);
cleanup:
    return rc;
}
