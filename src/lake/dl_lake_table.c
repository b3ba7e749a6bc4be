/*
** dl_lake_table.c -- table operations of the lake: the dedupe key and the
** UPSERT merge that keeps one row per key, sorted, with the newer rows
** winning.  (Schema union and conforming, shared with the query engine,
** are util/dl_table_ops.c.)
*/
#include <stdio.h>
#include <string.h>

#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"

int dl_table_key_column(const dl_schema *schema) {
    /* feature rows (src/features) restate a ts with a later available_at */
    int aa = dl_schema_find(schema, "available_at");
    if (aa >= 0 && schema->fields[aa].type == DL_TYPE_TIMESTAMP) return aa;
    static const char *const names[] = {"trade_id", "agg_trade_id", "id"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int j = dl_schema_find(schema, names[k]);
        if (j >= 0 &&
            (schema->fields[j].type == DL_TYPE_INT64 || schema->fields[j].type == DL_TYPE_INT32))
            return j;
    }
    return -1;
}

/* One row reference of the merge: its sort key and where it comes from. */
typedef struct merge_ref {
    int64_t ts, key;
    int64_t seq; /* old rows first, then new rows, in input order: the tie-breaker */
} merge_ref;

static int compare_refs(const void *pa, const void *pb) {
    const merge_ref *a = pa, *b = pb;
    /* every ref of refs[0, n) is filled by fill_refs (n = old + new rows);
    ** the analyzer cannot relate n to the two fill loops */
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

static int64_t key_value(const dl_column *col, int64_t row) {
    if (!col || !dl_column_is_valid(col, row)) return INT64_MIN;
    return col->type == DL_TYPE_INT32 ? ((const int32_t *)col->values)[row]
                                      : ((const int64_t *)col->values)[row];
}

static void fill_refs(const dl_table *t, int ts_col, int key_col, int64_t seq0, merge_ref *refs) {
    const int64_t *ts = t->columns[ts_col].values;
    const dl_column *key = key_col >= 0 ? &t->columns[key_col] : NULL;
    for (int64_t r = 0; r < t->num_rows; r++)
        refs[r] = (merge_ref){ts[r], key_value(key, r), seq0 + r};
}

/* Copies the selected rows (seq numbers into old ++ new) column by column. */
static int gather_rows(const dl_table *old_rows, const dl_table *new_rows, const merge_ref *refs,
                       int64_t n, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    for (int c = 0; c < out->schema.num_fields && rc == DL_OK; c++) {
        dl_column *dst = &out->columns[c];
        const dl_column *srcs[2] = {old_rows ? &old_rows->columns[c] : NULL, &new_rows->columns[c]};
        int64_t n_old = old_rows ? old_rows->num_rows : 0;
        rc = dl_column_reserve(dst, n, 0, err);
        /* Runs of consecutive rows from one source are copied in one call. */
        for (int64_t i = 0; i < n && rc == DL_OK;) {
            int s = refs[i].seq >= n_old;
            int64_t row = refs[i].seq - (s ? n_old : 0), run = 1;
            while (i + run < n && (refs[i + run].seq >= n_old) == s &&
                   refs[i + run].seq == refs[i].seq + run)
                run++;
            rc = dl_column_append_range(dst, srcs[s], row, run, err);
            i += run;
        }
    }
    if (rc == DL_OK) rc = dl_table_seal(out, err);
    return rc;
}

int dl_table_merge_upsert(const dl_table *old_rows, const dl_table *new_rows, dl_table *out,
                          dl_error *err) {
    int rc = DL_OK;
    merge_ref *refs = NULL;
    int ts_col = dl_schema_find(&new_rows->schema, "ts");
    if (ts_col < 0) return dl_error_set(err, DL_EINVAL, "rows have no `ts` column");
    if (old_rows && old_rows->schema.num_fields != new_rows->schema.num_fields)
        return dl_error_set(err, DL_EINTERNAL, "merge of tables with different layouts");
    int key_col = dl_table_key_column(&new_rows->schema);
    int64_t n_old = old_rows ? old_rows->num_rows : 0, n = n_old + new_rows->num_rows;
    size_t bytes;
    if (dl_size_mul((size_t)(n ? n : 1), sizeof *refs, &bytes) != 0 || !(refs = malloc(bytes)))
        DL_FAIL(err, DL_ENOMEM, "out of memory merging %lld rows", (long long)n);
    if (old_rows) fill_refs(old_rows, ts_col, key_col, 0, refs);
    fill_refs(new_rows, ts_col, key_col, n_old, refs + n_old);
    bool sorted = true;
    for (int64_t i = 1; i < n && sorted; i++) sorted = compare_refs(&refs[i - 1], &refs[i]) < 0;
    if (!sorted) qsort(refs, (size_t)n, sizeof *refs, compare_refs);
    /* Keep the last row of every run of equal keys: the newest one. */
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i + 1 < n && refs[i + 1].ts == refs[i].ts && refs[i + 1].key == refs[i].key) continue;
        refs[kept++] = refs[i];
    }
    DL_TRY(dl_table_init(out, &new_rows->schema, err));
    rc = gather_rows(old_rows, new_rows, refs, kept, out, err);
    if (rc != DL_OK) dl_table_free(out);
cleanup:
    free(refs);
    return rc;
}
