/*
** dl_query.c -- scans of lake datasets: catalog pruning by time, row-group
** pruning by statistics, page skipping by the ts page index, projection,
** vectorised filtering, a small thread pool over files and ordered output.
**
** Plan: the matching datasets' catalog files (sorted by dataset, then day)
** form a task list.  Each task is a job on a thread pool (the caller's
** shared dl_pool, or the query's own); tasks are submitted in order, at
** most `threads` at once, while the decoded rows held
** ahead of the consumer stay within a byte budget (spec.max_buffer_bytes,
** 256 MiB by default): a task is admitted with an estimate (catalog rows x
** the scan columns' width) that becomes its real size once decoded, so
** memory stays bounded by the budget plus one file per thread, however big
** the days are.  The task the consumer waits for is always admitted.  Each
** task produces one result table; dl_query_next hands them out in order.
**
** Snapshot: the catalog lists each dataset's files at one version; a
** writer committing meanwhile replaces live day files by rename, after
** linking the old ones into .dl/versions/.  Each file is therefore opened
** by identity (open_snapshot_file): the live path if it is still the
** snapshot's file, else its archived copy, so a pinned read returns
** exactly that version's rows whatever commits during the scan.
**
** Uniform view: the query's columns are the union of the datasets'
** schemas, widened with the lake's own rule (int32 -> int64 / double,
** float -> double, ms -> us -> ns), so a file holding a narrower type is
** converted on read (and its statistics restated for pruning), and a
** column a file lacks reads as null.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arrow/dl_arrow_internal.h"
#include "lake/dl_layout.h" /* where a superseded day file is archived */
#include "util/dl_internal.h"
#include "util/dl_pool.h"
#include "util/dl_table_ops.h" /* the lake's widening rule, shared */

void dl_query_spec_default(dl_query_spec *spec) {
    DL_REQUIRE_OR_RETURN(spec, );
    memset(spec, 0, sizeof *spec);
    spec->ts_from = INT64_MIN;
    spec->ts_to = INT64_MAX;
    spec->symbol_column = -1;
    spec->max_buffer_bytes = 0;
}

#define DEFAULT_BUFFER_BYTES ((int64_t)256 << 20)

typedef struct query_task {
    int dataset; /* index into q->ds */
    const dl_lake_file *file;
    /* result */
    bool done;
    int rc;
    dl_error err;
    dl_table *results; /* one table per row group that kept rows */
    int num_results, next_result;
    int64_t row_groups, row_groups_pruned, rows_scanned, rows_page_pruned;
    int64_t held_bytes; /* in the budget: estimate while running, then the results' size */
    struct dl_query *q;
} query_task;

typedef struct query_dataset {
    char name[DL_DATASET_NAME_MAX];
    char symbol[DL_LAKE_COMPONENT_MAX + 1];
    dl_lake_file_list files;
} query_dataset;

/* one per query: field order follows the pipeline, not the padding */
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
struct dl_query {
    dl_lake *lake;
    dl_schema union_schema; /* all columns of the matched datasets */
    dl_schema out_schema;   /* what dl_query_next returns */
    dl_schema scan_schema;  /* columns decoded: output columns + filter columns */
    int ts_index;           /* of ts in scan_schema, -1 if none */
    int *out_from_scan;     /* output column i = scan column out_from_scan[i] (-1 = symbol) */
    dl_expr *filter;
    int *filter_cols; /* union columns the filter reads */
    int num_filter_cols;
    int64_t ts_from, ts_to;
    bool skip_page_crc; /* spec: read without verifying page CRCs */
    query_dataset *ds;
    int num_ds;
    query_task *tasks;
    int64_t num_tasks;
    int64_t next_task;    /* next task a worker takes */
    int64_t next_out;     /* next task the consumer returns */
    query_task *draining; /* task whose batches dl_query_next is handing out */
    int64_t budget;       /* bytes of decoded rows allowed ahead of the consumer */
    int64_t ahead_bytes;  /* held_bytes of tasks [next_out, next_task) */
    int64_t row_bytes;    /* estimated decoded bytes of one scanned row */
    bool stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    dl_pool *pool;     /* where the file jobs run */
    bool own_pool;     /* created here (no spec.pool): destroyed at close */
    int max_running;   /* files decoded at once */
    int64_t max_ahead; /* files decoded ahead (4 x threads + 4), so a consumer that stops
                          early (a join's right side) wastes little work */
    int running;       /* jobs submitted and not finished */
    int failed;        /* first error handed out (sticky), DL_OK if none */
    dl_error failure;
    dl_query_stats stats;
};

/* ------------------------------------------------------------------ */
/* Planning                                                             */
/* ------------------------------------------------------------------ */

static bool is_pattern(const char *s) {
    return strpbrk(s, "*?[") != NULL;
}

static int add_dataset(dl_query *q, const char *name, dl_error *err) {
    for (int i = 0; i < q->num_ds; i++)
        if (strcmp(q->ds[i].name, name) == 0) return DL_OK; /* listed twice */
    query_dataset *ds = realloc(q->ds, sizeof *ds * (size_t)(q->num_ds + 1));
    if (!ds) return dl_error_set(err, DL_ENOMEM, "out of memory");
    q->ds = ds;
    query_dataset *d = &ds[q->num_ds];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    dl_dataset_id id;
    int rc = dl_dataset_parse(name, &id, err);
    if (rc != DL_OK) return rc;
    snprintf(d->symbol, sizeof d->symbol, "%s", id.symbol);
    q->num_ds++;
    return DL_OK;
}

/* Asks the catalog for each dataset's files in the time range, at the
** requested version.  With as_of_time, a dataset that did not exist yet
** has no rows; only when none existed is that an error. */
static int list_files(dl_query *q, const dl_query_spec *spec, dl_error *err) {
    int existed = 0;
    dl_error first_missing, why;
    dl_error_clear(&first_missing);
    for (int i = 0; i < q->num_ds; i++) {
        int64_t version = spec->as_of_version;
        if (spec->as_of_time) {
            int rc = dl_lake_version_at(q->lake, q->ds[i].name, spec->as_of_time, &version, &why);
            if (rc == DL_ENOTFOUND) { /* leave its file list empty */
                if (!first_missing.message[0]) first_missing = why;
                continue;
            }
            if (rc != DL_OK) {
                if (err) *err = why;
                return rc;
            }
        }
        existed++;
        int rc = dl_lake_files(q->lake, q->ds[i].name, q->ts_from, q->ts_to, version,
                               &q->ds[i].files, err);
        if (rc != DL_OK) return rc;
    }
    if (existed == 0) {
        if (err) *err = first_missing;
        return DL_ENOTFOUND;
    }
    return DL_OK;
}

static int match_datasets(dl_query *q, const dl_query_spec *spec, dl_error *err) {
    int rc = DL_OK;
    dl_dataset_info *all = NULL;
    int64_t count = 0;
    if (spec->num_datasets > 0 && !spec->datasets)
        DL_FAIL(err, DL_EINVAL, "query: %d datasets announced but no names given",
                spec->num_datasets);
    for (int i = 0; i < spec->num_datasets; i++) {
        const char *pat = spec->datasets[i];
        if (!pat || !pat[0]) DL_FAIL(err, DL_EINVAL, "query: dataset name %d is empty", i + 1);
        if (!is_pattern(pat)) {
            dl_dataset_id id;
            char canon[DL_DATASET_NAME_MAX];
            DL_TRY(dl_dataset_parse(pat, &id, err));
            dl_dataset_format(&id, canon, sizeof canon);
            DL_TRY(add_dataset(q, canon, err));
            continue;
        }
        if (!all) DL_TRY(dl_lake_datasets(q->lake, &all, &count, err));
        int matched = 0;
        for (int64_t k = 0; k < count; k++) {
            if (dl_dataset_match(pat, all[k].name)) {
                DL_TRY(add_dataset(q, all[k].name, err));
                matched++;
            }
        }
        if (!matched) DL_FAIL(err, DL_ENOTFOUND, "no dataset matches '%s' (see `dl ls`)", pat);
    }
    if (q->num_ds == 0) DL_FAIL(err, DL_EINVAL, "query: no dataset given");
    if (spec->as_of_version && q->num_ds != 1)
        DL_FAIL(err, DL_EINVAL,
                "query: as_of_version needs exactly one dataset, but %d match (a version number "
                "is per dataset; use as_of_time for several)",
                q->num_ds);
    DL_TRY(list_files(q, spec, err));
cleanup:
    free(all);
    return rc;
}

static bool same_type(const dl_field *a, const dl_field *b) {
    return a->type == b->type && (a->type != DL_TYPE_TIMESTAMP || a->unit == b->unit);
}

/* The union schema of all matched datasets, widened with the lake's own
** rule (dl_schema_union), so that whatever a dataset may hold in its files
** fits the query's columns.  A column some dataset lacks is nullable. */
static int union_schema(dl_query *q, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    dl_schema *each = calloc((size_t)q->num_ds, sizeof *each);
    if (!each) return dl_error_set(err, DL_ENOMEM, "out of memory");
    dl_schema_init(out);
    for (int i = 0; i < q->num_ds; i++) {
        DL_TRY(dl_lake_dataset_schema(q->lake, q->ds[i].name, &each[i], err));
        for (int f = 0; f < each[i].num_fields; f++) {
            dl_schema one = {1, &each[i].fields[f]};
            int urc = dl_schema_union(out, &one, q->ds[i].name, err);
            if (urc == DL_OK) continue;
            if (urc != DL_ECONFLICT) DL_TRY(urc); /* out of memory: not a conflict */
            const char *name = each[i].fields[f].name;
            int j = 0;
            while (j < i && dl_schema_find(&each[j], name) < 0) j++;
            char here[48], there[48];
            dl_field_describe(&each[i].fields[f], here, sizeof here);
            dl_field_describe(&out->fields[dl_schema_find(out, name)], there, sizeof there);
            DL_FAIL(err, DL_ECONFLICT,
                    "query: column '%s' is %s in %s but %s in %s; these datasets cannot be "
                    "queried together (query them separately)",
                    name, here, q->ds[i].name, there, q->ds[j].name);
        }
    }
    for (int f = 0; f < out->num_fields; f++)
        for (int i = 0; i < q->num_ds; i++)
            if (dl_schema_find(&each[i], out->fields[f].name) < 0) out->fields[f].nullable = true;
cleanup:
    for (int i = 0; i < q->num_ds; i++) dl_schema_free(&each[i]);
    free(each);
    if (rc != DL_OK) dl_schema_free(out);
    return rc;
}

static int copy_field(dl_schema *s, const dl_field *f, dl_error *err) {
    int rc = dl_schema_add(s, f->name, f->type, f->nullable, err);
    if (rc != DL_OK) return rc;
    s->fields[s->num_fields - 1].unit = f->unit;
    s->fields[s->num_fields - 1].utc = f->utc;
    return DL_OK;
}

/* Adds union column `name` to the scan schema unless it is there. */
static int need_scan_column(dl_query *q, const dl_schema *uni, const char *name, dl_error *err) {
    if (dl_schema_find(&q->scan_schema, name) >= 0) return DL_OK;
    return copy_field(&q->scan_schema, &uni->fields[dl_schema_find(uni, name)], err);
}

static int unknown_column(const dl_schema *uni, const char *name, dl_error *err) {
    char list[512] = "";
    size_t pos = 0;
    for (int f = 0; f < uni->num_fields && pos < sizeof list - 64; f++)
        pos += (size_t)snprintf(list + pos, sizeof list - pos, "%s%s", f ? ", " : "",
                                uni->fields[f].name);
    return dl_error_set(err, DL_ENOTFOUND, "query: unknown column '%s' (columns: %s)", name, list);
}

static int build_schemas(dl_query *q, const dl_query_spec *spec, const dl_schema *uni,
                         dl_error *err) {
    int rc = DL_OK;
    bool symbol = spec->symbol_column == 1 || (spec->symbol_column < 0 && q->num_ds > 1);
    bool projected = spec->columns && spec->num_columns > 0;
    int nout = projected ? spec->num_columns : uni->num_fields;
    q->out_from_scan = calloc((size_t)nout + 1, sizeof(int));
    if (!q->out_from_scan) DL_FAIL(err, DL_ENOMEM, "out of memory");
    if (symbol) {
        DL_TRY(dl_schema_add(&q->out_schema, "symbol", DL_TYPE_STRING, false, err));
        q->out_from_scan[0] = -1;
    }
    for (int i = 0; i < nout; i++) {
        const char *name = projected ? spec->columns[i] : uni->fields[i].name;
        if (!name) DL_FAIL(err, DL_EINVAL, "query: column name %d is missing", i + 1);
        if (symbol && strcmp(name, "symbol") == 0) continue; /* already first */
        int at = dl_schema_find(uni, name);
        if (at < 0) {
            rc = unknown_column(uni, name, err);
            goto cleanup;
        }
        /* a repeated name would make two output columns of one name */
        if (dl_schema_find(&q->out_schema, name) >= 0)
            DL_FAIL(err, DL_EINVAL, "query: column '%s' is listed twice", name);
        DL_TRY(need_scan_column(q, uni, name, err));
        DL_TRY(copy_field(&q->out_schema, &uni->fields[at], err));
        q->out_from_scan[q->out_schema.num_fields - 1] = dl_schema_find(&q->scan_schema, name);
    }
    /* the filter may read columns that are not output */
    if (spec->filter && spec->filter[0]) {
        DL_TRY(dl_expr_parse(spec->filter, uni, &q->filter, err));
        for (int i = 0; i < dl_expr_num_columns(q->filter); i++)
            DL_TRY(need_scan_column(q, uni, dl_expr_column_name(q->filter, i), err));
    }
    /* ts is needed to apply the time range */
    int uts = dl_schema_find(uni, "ts");
    if (uts >= 0 && (q->ts_from != INT64_MIN || q->ts_to != INT64_MAX))
        DL_TRY(need_scan_column(q, uni, "ts", err));
    q->ts_index = dl_schema_find(&q->scan_schema, "ts");
    if (q->ts_index >= 0 && q->scan_schema.fields[q->ts_index].type != DL_TYPE_TIMESTAMP)
        q->ts_index = -1;
cleanup:
    return rc;
}

/* ------------------------------------------------------------------ */
/* Executing one file                                                   */
/* ------------------------------------------------------------------ */

/* A query bound (us) in a column's unit, so that comparing the column's
** values with the converted bound selects the same instants as comparing
** the values in us.  For ms, both bounds of the half-open [from, to) round
** up: v ms >= from us  <=>  v >= ceil(from / 1000), and likewise for <. */
static int64_t bound_in_unit(int64_t us, dl_time_unit unit) {
    if (us == INT64_MIN || us == INT64_MAX || unit == DL_UNIT_US) return us;
    if (unit == DL_UNIT_NS) {
        if (us > INT64_MAX / 1000) return INT64_MAX;
        if (us < INT64_MIN / 1000) return INT64_MIN;
        return us * 1000;
    }
    int64_t q = us / 1000; /* C truncates toward zero: that is the ceiling below 0 */
    return us % 1000 > 0 ? q + 1 : q;
}

static int append_nulls(dl_column *c, int64_t n, dl_error *err) {
    int rc = dl_column_reserve(c, n, 0, err);
    for (int64_t i = 0; i < n && rc == DL_OK; i++) rc = dl_column_append_null(c, err);
    return rc;
}

/* Appends `src` (a column as a file stores it) to dst, widened to the
** scan type with the lake's own conversion (dl_table_conform), which also
** refuses what the lake would never have written. */
static int append_widened(const dl_field *file_field, dl_column *src, const dl_field *scan_field,
                          dl_column *dst, dl_error *err) {
    dl_field in_field = *file_field, out_field = *scan_field;
    dl_table in = {{1, &in_field}, src, src->length}, conformed;
    dl_schema target = {1, &out_field};
    int rc = dl_table_conform(&in, &target, &conformed, err);
    if (rc != DL_OK) return rc;
    rc = dl_column_append_range(dst, &conformed.columns[0], 0, conformed.num_rows, err);
    dl_table_free(&conformed);
    return rc;
}

/* Statistics of a narrower file column restated in the scan type, or
** marked unknown when they cannot be. */
static void widen_stats(const dl_field *file_field, const dl_field *scan_field, dl_stats *st) {
    if (!st->has_min_max || same_type(file_field, scan_field)) return;
    dl_type from = file_field->type, to = scan_field->type;
    if ((from == DL_TYPE_INT32 && to == DL_TYPE_INT64) ||
        (from == DL_TYPE_FLOAT && to == DL_TYPE_DOUBLE))
        return; /* the same dl_value member holds both */
    if (from == DL_TYPE_INT32 && to == DL_TYPE_DOUBLE) {
        st->min.f = (double)st->min.i;
        st->max.f = (double)st->max.i;
        return;
    }
    if (from == DL_TYPE_TIMESTAMP && to == DL_TYPE_TIMESTAMP &&
        file_field->unit < scan_field->unit) {
        int64_t scale = file_field->unit + 1 == scan_field->unit ? 1000 : 1000000;
        if (!__builtin_mul_overflow(st->min.i, scale, &st->min.i) &&
            !__builtin_mul_overflow(st->max.i, scale, &st->max.i))
            return;
    }
    st->has_min_max = false;
}

/* First index in sorted v[0..n) with v[i] >= x. */
static int64_t lower_bound(const int64_t *v, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct file_scan {
    dl_query *q;
    dl_parquet_reader *r;
    const dl_schema *fsch; /* the file's schema (borrowed from r) */
    int *file_col;         /* scan column -> file column (-1 absent) */
    int *uni_file_col;     /* union column -> file column (-1 absent) */
    dl_stats *stats;       /* per union column, for the filter (NULL without one) */
    /* ts values of the row group's candidate pages, decoded once by
    ** ts_row_range and reused by read_rows */
    dl_column ts_cand;
    int64_t ts_cand_begin;
    bool ts_cand_ok;
    bool ts_exact; /* [begin, end) is exactly the rows in the time range */
} file_scan;

/* Reads rows [begin, end) of row group g for every scan column into t. */
static int read_rows(file_scan *fs, int g, int64_t begin, int64_t end, dl_table *t, dl_error *err) {
    const dl_schema *scan = &fs->q->scan_schema;
    for (int c = 0; c < scan->num_fields; c++) {
        /* file_col has a slot for every scan column (open_file_scan) */
        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
        int fc = fs->file_col[c];
        int rc;
        if (fc < 0) {
            rc = append_nulls(&t->columns[c], end - begin, err);
        } else if (c == fs->q->ts_index && fs->ts_cand_ok &&
                   same_type(&fs->fsch->fields[fc], &scan->fields[c])) {
            rc = dl_column_append_range(&t->columns[c], &fs->ts_cand, begin - fs->ts_cand_begin,
                                        end - begin, err);
        } else if (same_type(&fs->fsch->fields[fc], &scan->fields[c])) {
            rc = dl_parquet_read_column_range(fs->r, g, fc, begin, end, &t->columns[c], err);
        } else {
            dl_column tmp;
            dl_column_init(&tmp, fs->fsch->fields[fc].type, fs->fsch->fields[fc].unit);
            rc = dl_parquet_read_column_range(fs->r, g, fc, begin, end, &tmp, err);
            if (rc == DL_OK)
                rc = append_widened(&fs->fsch->fields[fc], &tmp, &scan->fields[c], &t->columns[c],
                                    err);
            dl_column_free(&tmp);
        }
        if (rc != DL_OK) return rc;
    }
    return dl_table_seal(t, err);
}

/* Can row group g match?  ts range, then the filter's statistics. */
static bool row_group_may_match(file_scan *fs, int g) {
    dl_query *q = fs->q;
    if (q->ts_index >= 0) {
        int fc = fs->file_col[q->ts_index];
        dl_stats st;
        if (fc >= 0 && fs->fsch->fields[fc].type == DL_TYPE_TIMESTAMP &&
            dl_parquet_chunk_stats(fs->r, g, fc, &st, NULL) == DL_OK && st.has_min_max) {
            dl_time_unit u = fs->fsch->fields[fc].unit;
            if (st.max.i < bound_in_unit(q->ts_from, u) || st.min.i >= bound_in_unit(q->ts_to, u))
                return false;
        }
    }
    if (!q->filter) return true;
    const dl_schema *uni = &q->union_schema;
    for (int k = 0; k < q->num_filter_cols; k++) {
        int c = q->filter_cols[k], fc = fs->uni_file_col[c];
        dl_stats *st = &fs->stats[c];
        memset(st, 0, sizeof *st);
        if (fc < 0) { /* a column the file lacks: all null */
            st->has_null_count = true;
            st->null_count = dl_parquet_row_group_rows(fs->r, g);
            st->num_values = st->null_count;
        } else if (dl_parquet_chunk_stats(fs->r, g, fc, st, NULL) == DL_OK) {
            widen_stats(&fs->fsch->fields[fc], &uni->fields[c], st);
        } else {
            memset(st, 0, sizeof *st); /* unreadable statistics: unknown */
        }
    }
    return dl_expr_may_match(q->filter, fs->stats);
}

/* Row range of row group g inside [ts_from, ts_to): the ts page index
** narrows the candidate pages, a binary search on their (sorted) ts values
** the rows.  The decoded ts values are kept for read_rows. */
static int ts_row_range(file_scan *fs, int g, int64_t *begin, int64_t *end, dl_error *err) {
    dl_query *q = fs->q;
    int64_t rows = dl_parquet_row_group_rows(fs->r, g);
    *begin = 0;
    *end = rows;
    fs->ts_cand_ok = false;
    fs->ts_exact = false;
    if (q->ts_index < 0) return DL_OK;
    int fc = fs->file_col[q->ts_index];
    if (fc < 0 || fs->fsch->fields[fc].type != DL_TYPE_TIMESTAMP) return DL_OK;
    if (q->ts_from == INT64_MIN && q->ts_to == INT64_MAX) {
        fs->ts_exact = true; /* every non-null ts is in range */
        return DL_OK;
    }
    dl_time_unit u = fs->fsch->fields[fc].unit;
    int64_t lo = bound_in_unit(q->ts_from, u), hi = bound_in_unit(q->ts_to, u);
    int64_t cand_begin = 0, cand_end = rows;
    dl_page_stats *ps = NULL;
    int np = 0;
    if (dl_parquet_page_stats(fs->r, g, fc, &ps, &np, NULL) == DL_OK) {
        bool all_known = np > 0;
        for (int p = 0; p < np; p++) all_known &= ps[p].stats.has_min_max;
        if (all_known) {
            int first = -1, last = -1;
            for (int p = 0; p < np; p++) {
                if (ps[p].stats.max.i < lo || ps[p].stats.min.i >= hi) continue;
                if (first < 0) first = p;
                last = p;
            }
            if (first < 0) {
                cand_begin = cand_end = 0;
            } else {
                cand_begin = ps[first].first_row;
                cand_end = ps[last].first_row + ps[last].num_rows;
            }
        }
        free(ps);
    }
    if (cand_begin >= cand_end) {
        *begin = *end = 0;
        return DL_OK;
    }
    dl_column_clear(&fs->ts_cand);
    fs->ts_cand.unit = u;
    int rc = dl_parquet_read_column_range(fs->r, g, fc, cand_begin, cand_end, &fs->ts_cand, err);
    if (rc != DL_OK) return rc;
    fs->ts_cand_ok = true;
    fs->ts_cand_begin = cand_begin;
    const int64_t *v = fs->ts_cand.values;
    int64_t n = fs->ts_cand.length;
    bool sorted = fs->ts_cand.null_count == 0;
    for (int64_t i = 1; i < n && sorted; i++) sorted = v[i - 1] <= v[i];
    if (sorted) {
        *begin = cand_begin + lower_bound(v, n, lo);
        *end = cand_begin + lower_bound(v, n, hi);
        fs->ts_exact = true;
    } else {
        *begin = cand_begin; /* not a lake file: the row mask decides */
        *end = cand_end;
    }
    return DL_OK;
}

/* Keeps the rows of the scan that are in the time range and pass the
** filter; returns how many remain in *keep. */
static int select_rows(dl_query *q, file_scan *fs, dl_table *scan, uint8_t *sel, dl_error *err) {
    int64_t keep = scan->num_rows;
    if (q->filter) {
        int rc = dl_expr_eval(q->filter, scan, sel, &keep, err);
        if (rc != DL_OK) return rc;
    } else {
        memset(sel, 1, (size_t)scan->num_rows);
    }
    if (q->ts_index >= 0 && !fs->ts_exact) {
        const dl_column *ts = &scan->columns[q->ts_index];
        int64_t lo = bound_in_unit(q->ts_from, ts->unit), hi = bound_in_unit(q->ts_to, ts->unit);
        const int64_t *v = ts->values;
        keep = 0;
        for (int64_t i = 0; i < scan->num_rows; i++) {
            sel[i] &= (uint8_t)(dl_column_is_valid(ts, i) && v[i] >= lo && v[i] < hi);
            keep += sel[i];
        }
    }
    return keep < scan->num_rows ? dl_table_filter(scan, sel, err) : DL_OK;
}

/* Appends n copies of s to a string column, without a call per row. */
static int fill_constant_string(dl_column *c, const char *s, int64_t n, dl_error *err) {
    int64_t len = (int64_t)strlen(s);
    int rc = dl_column_reserve(c, n, len * n, err);
    if (rc != DL_OK) return rc;
    int64_t base = c->length, at = c->offsets[base];
    for (int64_t r = 0; r < n; r++) {
        memcpy(c->data + at, s, (size_t)len);
        at += len;
        c->offsets[base + r + 1] = at;
    }
    if (c->validity)
        for (int64_t r = 0; r < n; r++)
            c->validity[(base + r) >> 3] |= (uint8_t)(1u << ((base + r) & 7));
    c->length += n;
    return DL_OK;
}

/* Turns the selected scan rows of one row group into a result batch of the
** task.  The scan's column vectors are moved, not copied: each output
** column names a distinct scan column, and the scan is discarded after. */
static int project(dl_query *q, query_task *task, dl_table *scan, dl_error *err) {
    if (scan->num_rows == 0) return DL_OK;
    dl_table *grown = realloc(task->results, sizeof *grown * (size_t)(task->num_results + 1));
    if (!grown) return dl_error_set(err, DL_ENOMEM, "out of memory");
    task->results = grown;
    dl_table *out = &grown[task->num_results];
    int rc = dl_table_init(out, &q->out_schema, err);
    if (rc != DL_OK) return rc;
    task->num_results++;
    for (int i = 0; i < q->out_schema.num_fields; i++) {
        int sc = q->out_from_scan[i];
        if (sc < 0) {
            rc = fill_constant_string(&out->columns[i], q->ds[task->dataset].symbol, scan->num_rows,
                                      err);
            if (rc != DL_OK) return rc;
        } else {
            dl_column moved = scan->columns[sc];
            scan->columns[sc] = out->columns[i];
            out->columns[i] = moved;
        }
    }
    return dl_table_seal(out, err);
}

static void free_results(query_task *t) {
    for (int i = t->next_result; i < t->num_results; i++) dl_table_free(&t->results[i]);
    free(t->results);
    t->results = NULL;
    t->num_results = t->next_result = 0;
}

static bool same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* An fd on the file the snapshot lists for task, even if a writer has
** replaced the live path since the catalog was read.  The publish protocol
** links a superseded file to its archive path (.dl/versions/...,
** v{version_added}) before renaming the new file over the live path, and
** that archive always holds that very file.  So: open the live path; if
** the archive exists and is another file, the live path was replaced:
** open the archive.  If it does not exist, the live path was not replaced
** before the archive check -- unless it changed since the open (a
** rollback), which a second look at the live path tells: retry. */
static int open_snapshot_file(dl_query *q, const query_task *task, int *out, dl_error *err) {
    const dl_lake_file *f = task->file;
    char rel[640], archive[4096];
    *out = -1;
    if (dl_layout_archive_path(q->ds[task->dataset].name, f->day, f->version, rel, sizeof rel) !=
            DL_OK ||
        snprintf(archive, sizeof archive, "%s/%s", dl_lake_root(q->lake), rel) >=
            (int)sizeof archive)
        return dl_error_set(err, DL_EINVAL, "%s: archive path too long", f->path);
    for (int attempt = 0; attempt < 8; attempt++) {
        struct stat fst, ast, lst;
        int fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT)
            return dl_error_set(err, DL_EIO, "%s: %s", f->path, strerror(errno));
        if (fd >= 0 && fstat(fd, &fst) != 0) {
            close(fd);
            return dl_error_set(err, DL_EIO, "%s: %s", f->path, strerror(errno));
        }
        if (stat(archive, &ast) == 0) {
            if (fd >= 0 && same_file(&fst, &ast)) {
                *out = fd;
                return DL_OK;
            }
            if (fd >= 0) close(fd);
            fd = open(archive, O_RDONLY | O_CLOEXEC);
            if (fd < 0 && errno != ENOENT)
                return dl_error_set(err, DL_EIO, "%s: %s", archive, strerror(errno));
            if (fd >= 0) {
                *out = fd;
                return DL_OK;
            }
            continue; /* the archive went away (a rollback): look again */
        }
        if (fd < 0)
            return dl_error_set(err, DL_ENOTFOUND,
                                "%s: the file of version %lld is gone (neither live nor archived "
                                "as %s; vacuumed?)",
                                f->path, (long long)f->version, archive);
        if (stat(f->path, &lst) == 0 && same_file(&fst, &lst)) {
            *out = fd;
            return DL_OK;
        }
        close(fd); /* the live path changed under us: look again */
    }
    return dl_error_set(err, DL_ECONFLICT, "%s: the file keeps changing while being opened",
                        f->path);
}

static int open_file_scan(dl_query *q, query_task *task, file_scan *fs, dl_error *err) {
    int fd;
    int rc = open_snapshot_file(q, task, &fd, err);
    if (rc != DL_OK) return rc;
    /* a file whose size is not the catalog's is damaged or foreign */
    struct stat st;
    if (fstat(fd, &st) != 0)
        rc = dl_error_set(err, DL_EIO, "%s: %s", task->file->path, strerror(errno));
    if (rc == DL_OK) rc = dl_lake_file_check_size(task->file, (int64_t)st.st_size, err);
    if (rc != DL_OK) {
        close(fd);
        return rc;
    }
    /* the reader opens the very file we hold (not the path, which may
    ** change again); its messages name the catalog's path */
    rc = dl_parquet_open_fd(fd, task->file->path, &fs->r, err);
    close(fd);
    if (rc != DL_OK) return rc;
    dl_parquet_set_check_crc(fs->r, !q->skip_page_crc);
    fs->fsch = dl_parquet_schema(fs->r);
    const dl_schema *uni = &q->union_schema;
    fs->file_col = malloc(sizeof(int) * (size_t)(q->scan_schema.num_fields + 1));
    fs->uni_file_col = malloc(sizeof(int) * (size_t)(uni->num_fields + 1));
    fs->stats = calloc((size_t)uni->num_fields + 1, sizeof(dl_stats));
    if (!fs->file_col || !fs->uni_file_col || !fs->stats)
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    for (int c = 0; c < q->scan_schema.num_fields; c++)
        fs->file_col[c] = dl_schema_find(fs->fsch, q->scan_schema.fields[c].name);
    for (int c = 0; c < uni->num_fields; c++)
        fs->uni_file_col[c] = dl_schema_find(fs->fsch, uni->fields[c].name);
    return DL_OK;
}

/* Page-level predicate pruning.  The filter columns' page indexes cut
** [begin, end) into segments at every page boundary; a segment where the
** filter cannot match given each column's covering page statistics is not
** decoded.  Matching segments are read as maximal runs and appended to t.
** Without a filter, or when no filter column has more than one page, the
** whole range is read. */
typedef struct page_list {
    int column; /* union column */
    dl_page_stats *pages;
    int count, at;
} page_list;

static int read_matching_pages(file_scan *fs, int g, int64_t begin, int64_t end, dl_table *t,
                               int64_t *pruned_rows, dl_error *err) {
    dl_query *q = fs->q;
    if (!q->filter) return read_rows(fs, g, begin, end, t, err);
    const dl_schema *uni = &q->union_schema;
    int rc = DL_OK, nl = 0;
    int64_t nb = 0, *bounds = NULL;
    dl_stats *seg = NULL;
    page_list *lists = calloc((size_t)q->num_filter_cols + 1, sizeof *lists);
    if (!lists) return dl_error_set(err, DL_ENOMEM, "out of memory");
    int64_t total_pages = 0;
    for (int k = 0; k < q->num_filter_cols; k++) {
        int c = q->filter_cols[k], fc = fs->uni_file_col[c];
        dl_page_stats *ps = NULL;
        int np = 0;
        if (fc < 0 || dl_parquet_page_stats(fs->r, g, fc, &ps, &np, NULL) != DL_OK) continue;
        if (np <= 1) {
            free(ps);
            continue;
        }
        for (int p = 0; p < np; p++)
            widen_stats(&fs->fsch->fields[fc], &uni->fields[c], &ps[p].stats);
        lists[nl++] = (page_list){c, ps, np, 0};
        total_pages += np;
    }
    if (nl == 0) {
        rc = read_rows(fs, g, begin, end, t, err);
        goto cleanup;
    }
    bounds = malloc(sizeof(int64_t) * (size_t)(total_pages + 2));
    seg = malloc(sizeof(dl_stats) * (size_t)(uni->num_fields + 1));
    if (!bounds || !seg) DL_FAIL(err, DL_ENOMEM, "out of memory");
    bounds[nb++] = begin;
    bounds[nb++] = end;
    for (int l = 0; l < nl; l++)
        for (int p = 0; p < lists[l].count; p++)
            if (lists[l].pages[p].first_row > begin && lists[l].pages[p].first_row < end)
                bounds[nb++] = lists[l].pages[p].first_row;
    qsort(bounds, (size_t)nb, sizeof *bounds, dl_cmp_i64);
    /* chunk statistics (from row_group_may_match) for columns without pages */
    memcpy(seg, fs->stats, sizeof(dl_stats) * (size_t)uni->num_fields);
    int64_t run = -1;
    for (int64_t i = 0; i + 1 < nb; i++) {
        int64_t b = bounds[i], e = bounds[i + 1];
        if (b == e) continue;
        for (int l = 0; l < nl; l++) {
            page_list *pl = &lists[l];
            while (pl->at + 1 < pl->count && pl->pages[pl->at + 1].first_row <= b) pl->at++;
            seg[pl->column] = pl->pages[pl->at].stats;
        }
        bool match = dl_expr_may_match(q->filter, seg);
        if (match && run < 0) run = b;
        if (!match) {
            *pruned_rows += e - b;
            if (run >= 0) {
                DL_TRY(read_rows(fs, g, run, b, t, err));
                run = -1;
            }
        }
    }
    if (run >= 0) DL_TRY(read_rows(fs, g, run, end, t, err));
    DL_TRY(dl_table_seal(t, err));
cleanup:
    for (int l = 0; l < nl; l++) free(lists[l].pages);
    free(lists);
    free(bounds);
    free(seg);
    return rc;
}

static int run_task(dl_query *q, query_task *task) {
    int rc = DL_OK;
    dl_error *err = &task->err;
    file_scan fs;
    memset(&fs, 0, sizeof fs);
    fs.q = q;
    dl_column_init(&fs.ts_cand, DL_TYPE_TIMESTAMP, DL_UNIT_US);
    dl_table scan;
    memset(&scan, 0, sizeof scan);
    uint8_t *sel = NULL;
    DL_TRY(open_file_scan(q, task, &fs, err));
    for (int g = 0; g < dl_parquet_num_row_groups(fs.r); g++) {
        task->row_groups++;
        int64_t begin = 0, end = 0;
        if (row_group_may_match(&fs, g)) DL_TRY(ts_row_range(&fs, g, &begin, &end, err));
        if (begin >= end) {
            task->row_groups_pruned++;
            continue;
        }
        DL_TRY(dl_table_init(&scan, &q->scan_schema, err));
        DL_TRY(read_matching_pages(&fs, g, begin, end, &scan, &task->rows_page_pruned, err));
        task->rows_scanned += scan.num_rows;
        sel = malloc((size_t)scan.num_rows + 1);
        if (!sel) DL_FAIL(err, DL_ENOMEM, "out of memory");
        DL_TRY(select_rows(q, &fs, &scan, sel, err));
        DL_TRY(project(q, task, &scan, err));
        free(sel);
        sel = NULL;
        dl_table_free(&scan);
    }
cleanup:
    /* the reader's messages name the file; add it to the others */
    if (rc != DL_OK && fs.r && err &&
        strncmp(err->message, task->file->path, strlen(task->file->path)) != 0)
        dl_error_prefix(err, "%s", task->file->path);
    free(sel);
    dl_table_free(&scan);
    dl_column_free(&fs.ts_cand);
    free(fs.file_col);
    free(fs.uni_file_col);
    free(fs.stats);
    dl_parquet_close(fs.r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Thread pool with an ordered, bounded window                          */
/* ------------------------------------------------------------------ */

/* Bytes a decoded table holds (its column buffers, as allocated). */
static int64_t table_bytes(const dl_table *t) {
    int64_t n = 0;
    for (int c = 0; c < t->schema.num_fields; c++) {
        const dl_column *col = &t->columns[c];
        size_t w = dl_type_width(col->type);
        n += col->cap_values * (int64_t)(w ? w : sizeof(int64_t)) + col->cap_data +
             (col->validity ? col->cap_values / 8 + 1 : 0);
    }
    return n;
}

static int64_t estimate_bytes(const dl_query *q, const query_task *t) {
    return t->file->rows * q->row_bytes;
}

/* May a worker start the next task?  Always the one the consumer waits
** for; others while their estimate fits the budget. */
static bool may_start(const dl_query *q) {
    int64_t k = q->next_task;
    if (k == q->next_out) return true;
    if (k - q->next_out >= q->max_ahead) return false;
    return q->ahead_bytes + estimate_bytes(q, &q->tasks[k]) <= q->budget;
}

static void run_job(void *arg);

/* Submits the tasks the budget admits (q->lock held).  Called whenever the
** window moves: at open, when the consumer takes a task, when a job ends.
** Jobs never wait, so a pool shared by many queries cannot deadlock. */
static void pump(dl_query *q) {
    while (!q->stop && q->running < q->max_running && q->next_task < q->num_tasks && may_start(q)) {
        query_task *t = &q->tasks[q->next_task++];
        t->held_bytes = estimate_bytes(q, t);
        q->ahead_bytes += t->held_bytes;
        q->running++;
        if (dl_pool_submit(q->pool, run_job, t) != DL_OK) { /* the task fails, visibly */
            t->rc = dl_error_set(&t->err, DL_ENOMEM, "%s: out of memory queueing its decoding",
                                 t->file->path);
            t->done = true;
            q->running--;
        }
    }
}

static void run_job(void *arg) {
    query_task *t = arg;
    dl_query *q = t->q;
    pthread_mutex_lock(&q->lock);
    bool cancelled = q->stop; /* the query is closing: skip the file */
    pthread_mutex_unlock(&q->lock);
    t->rc = cancelled ? DL_EINTERNAL : run_task(q, t);
    int64_t actual = 0;
    for (int i = 0; i < t->num_results; i++) actual += table_bytes(&t->results[i]);
    pthread_mutex_lock(&q->lock);
    q->ahead_bytes += actual - t->held_bytes;
    t->held_bytes = actual;
    t->done = true;
    q->running--;
    pump(q);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* Decoded bytes of one row of the scan (strings guessed at 16 bytes). */
static int64_t scan_row_bytes(const dl_query *q) {
    int64_t n = 0;
    for (int c = 0; c < q->scan_schema.num_fields; c++) {
        size_t w = dl_type_width(q->scan_schema.fields[c].type);
        n += w ? (int64_t)w : 24; /* offset + bytes */
    }
    return n + 24; /* the symbol column, validity, slack */
}

int dl_query_open(dl_lake *lake, const dl_query_spec *spec, dl_query **out, dl_error *err) {
    DL_REQUIRE(err, lake && spec && out);
    int rc = DL_OK;
    *out = NULL;
    dl_query *q = calloc(1, sizeof *q);
    if (!q) return dl_error_set(err, DL_ENOMEM, "out of memory");
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->lake = lake;
    q->ts_from = spec->ts_from;
    q->ts_to = spec->ts_to;
    q->skip_page_crc = spec->skip_page_crc;
    dl_schema_init(&q->union_schema);
    dl_schema_init(&q->out_schema);
    dl_schema_init(&q->scan_schema);
    DL_TRY(match_datasets(q, spec, err));
    DL_TRY(union_schema(q, &q->union_schema, err));
    DL_TRY(build_schemas(q, spec, &q->union_schema, err));
    if (q->filter) {
        q->filter_cols = calloc((size_t)dl_expr_num_columns(q->filter) + 1, sizeof(int));
        if (!q->filter_cols) DL_FAIL(err, DL_ENOMEM, "out of memory");
        for (int i = 0; i < dl_expr_num_columns(q->filter); i++)
            q->filter_cols[q->num_filter_cols++] =
                dl_schema_find(&q->union_schema, dl_expr_column_name(q->filter, i));
    }
    int64_t ntasks = 0;
    for (int i = 0; i < q->num_ds; i++) ntasks += q->ds[i].files.count;
    q->tasks = calloc((size_t)(ntasks ? ntasks : 1), sizeof *q->tasks);
    if (!q->tasks) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < q->num_ds; i++)
        for (int64_t f = 0; f < q->ds[i].files.count; f++) {
            query_task *t = &q->tasks[q->num_tasks++];
            t->dataset = i;
            t->file = &q->ds[i].files.files[f];
            t->q = q;
        }
    q->stats.datasets = q->num_ds;
    q->stats.files = q->num_tasks;
    int threads = spec->threads > 0 ? spec->threads
                  : spec->pool      ? dl_pool_threads(spec->pool)
                                    : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    q->budget = spec->max_buffer_bytes > 0 ? spec->max_buffer_bytes : DEFAULT_BUFFER_BYTES;
    q->row_bytes = scan_row_bytes(q);
    q->max_running = threads;
    q->max_ahead = 4 * (int64_t)threads + 4;
    q->pool = spec->pool;
    if (!q->pool && q->num_tasks > 0) {
        DL_TRY(dl_pool_create(DL_MIN(threads, (int)DL_MIN(q->num_tasks, 64)), &q->pool, err));
        q->own_pool = true;
    }
    pthread_mutex_lock(&q->lock);
    pump(q);
    pthread_mutex_unlock(&q->lock);
    *out = q;
    return DL_OK;
cleanup:
    dl_query_close(q);
    return rc;
}

const dl_schema *dl_query_schema(const dl_query *q) {
    return &q->out_schema;
}

int dl_query_next(dl_query *q, dl_table *batch, dl_error *err) {
    DL_REQUIRE(err, q && batch);
    for (int c = 0; c < batch->schema.num_fields; c++) dl_column_clear(&batch->columns[c]);
    batch->num_rows = 0;
    if (batch->schema.num_fields != q->out_schema.num_fields)
        return dl_error_set(err, DL_EINVAL, "query batch has %d columns, the query returns %d",
                            batch->schema.num_fields, q->out_schema.num_fields);
    for (int c = 0; c < batch->schema.num_fields; c++)
        if (!same_type(&batch->schema.fields[c], &q->out_schema.fields[c]))
            return dl_error_set(
                err, DL_EINVAL, "query batch column %d (%s) is %s, the query returns %s %s", c + 1,
                batch->schema.fields[c].name, dl_type_name(batch->schema.fields[c].type),
                q->out_schema.fields[c].name, dl_type_name(q->out_schema.fields[c].type));
    if (q->failed != DL_OK) { /* a failed query stays failed: no rows after a hole */
        if (err) *err = q->failure;
        return q->failed;
    }
    for (;;) {
        query_task *t = q->draining;
        if (t) { /* hand over the task's batches in row-group order, without copying */
            while (t->next_result < t->num_results) {
                dl_table *r = &t->results[t->next_result++];
                for (int c = 0; c < batch->schema.num_fields; c++) {
                    dl_column tmp = batch->columns[c];
                    batch->columns[c] = r->columns[c];
                    r->columns[c] = tmp;
                }
                batch->num_rows = r->num_rows;
                dl_table_free(r);
                if (batch->num_rows == 0) continue;
                q->stats.rows_returned += batch->num_rows;
                return DL_OK;
            }
            free_results(t);
            q->draining = NULL;
        }
        if (q->next_out >= q->num_tasks) return DL_OK;
        t = &q->tasks[q->next_out];
        pthread_mutex_lock(&q->lock);
        while (!t->done) pthread_cond_wait(&q->cond, &q->lock);
        q->next_out++;
        q->ahead_bytes -= t->held_bytes; /* the consumer holds it now */
        pump(q);                         /* the window moved */
        pthread_mutex_unlock(&q->lock);
        q->stats.row_groups += t->row_groups;
        q->stats.row_groups_pruned += t->row_groups_pruned;
        q->stats.rows_scanned += t->rows_scanned;
        q->stats.rows_page_pruned += t->rows_page_pruned;
        if (t->rc != DL_OK) {
            free_results(t);
            q->failed = t->rc;
            q->failure = t->err;
            if (err) *err = t->err;
            return t->rc;
        }
        q->draining = t;
    }
}

void dl_query_get_stats(const dl_query *q, dl_query_stats *out) {
    DL_REQUIRE_OR_RETURN(q && out, );
    *out = q->stats;
}

void dl_query_close(dl_query *q) {
    if (!q) return;
    pthread_mutex_lock(&q->lock);
    q->stop = true; /* queued jobs skip their file */
    while (q->running > 0) pthread_cond_wait(&q->cond, &q->lock);
    pthread_mutex_unlock(&q->lock);
    if (q->own_pool) dl_pool_destroy(q->pool);
    for (int64_t i = 0; i < q->num_tasks; i++) free_results(&q->tasks[i]);
    free(q->tasks);
    for (int i = 0; i < q->num_ds; i++) dl_lake_file_list_free(&q->ds[i].files);
    free(q->ds);
    dl_expr_free(q->filter);
    free(q->filter_cols);
    free(q->out_from_scan);
    dl_schema_free(&q->out_schema);
    dl_schema_free(&q->scan_schema);
    dl_schema_free(&q->union_schema);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q);
}

/* ------------------------------------------------------------------ */
/* Arrow C stream                                                       */
/* ------------------------------------------------------------------ */

static int query_source_next(void *self, dl_table *batch, dl_error *err) {
    return dl_query_next(self, batch, err);
}

static void query_source_close(void *self) {
    dl_query_close(self);
}

int dl_query_arrow_stream(dl_query *q, struct ArrowArrayStream *out, dl_error *err) {
    if (!q || !out) return dl_error_set(err, DL_EINVAL, "query stream: no query or no output");
    dl_batch_source src = {q, query_source_next, query_source_close};
    return dl_arrow_stream_from_source(&q->out_schema, &src, out, err);
}
