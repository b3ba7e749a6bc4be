/*
** dl_query.c -- scans of lake datasets: catalog pruning by time, row-group
** pruning by statistics, page skipping by the ts page index, projection,
** vectorised filtering, a small thread pool over files and ordered output.
**
** Plan: the matching datasets' catalog files (sorted by dataset, then day)
** form a task list.  Workers take tasks in order, but never more than
** `window` tasks ahead of the consumer, so memory stays bounded by
** window x one day file whatever the lake size.  Each task produces one
** result table; dl_query_next hands them out in task order.
*/
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/dl_internal.h"

void dl_query_spec_default(dl_query_spec *spec) {
    memset(spec, 0, sizeof *spec);
    spec->ts_from = INT64_MIN;
    spec->ts_to = INT64_MAX;
    spec->symbol_column = -1;
}

typedef struct query_task {
    int dataset;        /* index into q->ds */
    const dl_lake_file *file;
    /* result */
    bool done;
    int rc;
    dl_error err;
    dl_table result;
    bool has_result;
    int64_t row_groups, row_groups_pruned, rows_scanned;
} query_task;

typedef struct query_dataset {
    char name[DL_DATASET_NAME_MAX];
    char symbol[DL_LAKE_COMPONENT_MAX + 1];
    dl_lake_file_list files;
} query_dataset;

struct dl_query {
    dl_lake *lake;
    dl_schema union_schema; /* all columns of the matched datasets */
    dl_schema out_schema;   /* what dl_query_next returns */
    dl_schema scan_schema;  /* columns decoded: output columns + filter columns */
    int ts_index;           /* of ts in scan_schema, -1 if none */
    int *out_from_scan;     /* output column i = scan column out_from_scan[i] (-1 = symbol) */
    dl_expr *filter;
    int64_t ts_from, ts_to;
    query_dataset *ds;
    int num_ds;
    query_task *tasks;
    int64_t num_tasks;
    int64_t next_task;      /* next task a worker takes */
    int64_t next_out;       /* next task the consumer returns */
    int64_t window;
    bool stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t *threads;
    int num_threads;
    dl_query_stats stats;
};

/* ------------------------------------------------------------------ */
/* Planning                                                             */
/* ------------------------------------------------------------------ */

static bool is_pattern(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int add_dataset(dl_query *q, const char *name, const dl_query_spec *spec, dl_error *err) {
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
    int64_t version = spec->as_of_version;
    if (spec->as_of_time) {
        rc = dl_lake_version_at(q->lake, name, spec->as_of_time, &version, err);
        if (rc != DL_OK) return rc;
    }
    rc = dl_lake_files(q->lake, name, q->ts_from, q->ts_to, version, &d->files, err);
    if (rc != DL_OK) return rc;
    q->num_ds++;
    return DL_OK;
}

static int match_datasets(dl_query *q, const dl_query_spec *spec, dl_error *err) {
    int rc = DL_OK;
    dl_dataset_info *all = NULL;
    int64_t count = 0;
    for (int i = 0; i < spec->num_datasets; i++) {
        const char *pat = spec->datasets[i];
        if (!is_pattern(pat)) {
            dl_dataset_id id;
            char canon[DL_DATASET_NAME_MAX];
            DL_TRY(dl_dataset_parse(pat, &id, err));
            dl_dataset_format(&id, canon, sizeof canon);
            DL_TRY(add_dataset(q, canon, spec, err));
            continue;
        }
        if (!all) DL_TRY(dl_lake_datasets(q->lake, &all, &count, err));
        int matched = 0;
        for (int64_t k = 0; k < count; k++) {
            if (fnmatch(pat, all[k].name, FNM_PATHNAME) == 0) {
                DL_TRY(add_dataset(q, all[k].name, spec, err));
                matched++;
            }
        }
        if (!matched) DL_FAIL(err, DL_ENOTFOUND, "no dataset matches '%s' (see `dl ls`)", pat);
    }
    if (q->num_ds == 0) DL_FAIL(err, DL_EINVAL, "query: no dataset given");
cleanup:
    free(all);
    return rc;
}

/* Wider of two types a column may have in different files, or -1. */
static int widen(dl_type a, dl_type b) {
    if (a == b) return (int)a;
    if ((a == DL_TYPE_INT32 && b == DL_TYPE_INT64) || (a == DL_TYPE_INT64 && b == DL_TYPE_INT32))
        return DL_TYPE_INT64;
    if ((a == DL_TYPE_FLOAT && b == DL_TYPE_DOUBLE) || (a == DL_TYPE_DOUBLE && b == DL_TYPE_FLOAT))
        return DL_TYPE_DOUBLE;
    return -1;
}

static int add_field(dl_schema *s, const dl_field *f, dl_error *err) {
    int at = dl_schema_find(s, f->name);
    if (at >= 0) {
        dl_field *g = &s->fields[at];
        int t = widen(g->type, f->type);
        if (t < 0 || (g->type == DL_TYPE_TIMESTAMP && g->unit != f->unit))
            return dl_error_set(err, DL_ECONFLICT, "column %s is %s in one dataset and %s in another",
                                f->name, dl_type_name(g->type), dl_type_name(f->type));
        g->type = (dl_type)t;
        g->nullable |= f->nullable;
        return DL_OK;
    }
    int rc = dl_schema_add(s, f->name, f->type, f->nullable, err);
    if (rc != DL_OK) return rc;
    s->fields[s->num_fields - 1].unit = f->unit;
    s->fields[s->num_fields - 1].utc = f->utc;
    return DL_OK;
}

/* The union schema of all matched datasets. */
static int union_schema(dl_query *q, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    dl_schema_init(out);
    for (int i = 0; i < q->num_ds; i++) {
        dl_schema s;
        DL_TRY(dl_lake_dataset_schema(q->lake, q->ds[i].name, &s, err));
        for (int f = 0; f < s.num_fields && rc == DL_OK; f++) {
            rc = add_field(out, &s.fields[f], err);
            /* a column missing from some files is nullable in the union */
        }
        dl_schema_free(&s);
        if (rc != DL_OK) goto cleanup;
    }
    /* columns not present in every dataset become nullable */
    if (q->num_ds > 1) {
        for (int f = 0; f < out->num_fields; f++) {
            for (int i = 0; i < q->num_ds; i++) {
                dl_schema s;
                DL_TRY(dl_lake_dataset_schema(q->lake, q->ds[i].name, &s, err));
                if (dl_schema_find(&s, out->fields[f].name) < 0) out->fields[f].nullable = true;
                dl_schema_free(&s);
            }
        }
    }
cleanup:
    if (rc != DL_OK) dl_schema_free(out);
    return rc;
}

static int build_schemas(dl_query *q, const dl_query_spec *spec, const dl_schema *uni, dl_error *err) {
    int rc = DL_OK;
    bool symbol = spec->symbol_column == 1 || (spec->symbol_column < 0 && q->num_ds > 1);
    dl_schema_init(&q->out_schema);
    dl_schema_init(&q->scan_schema);
    int nout = (spec->columns && spec->num_columns > 0) ? spec->num_columns : uni->num_fields;
    q->out_from_scan = calloc((size_t)nout + 1, sizeof(int));
    if (!q->out_from_scan) DL_FAIL(err, DL_ENOMEM, "out of memory");
    int k = 0;
    if (symbol) {
        DL_TRY(dl_schema_add(&q->out_schema, "symbol", DL_TYPE_STRING, false, err));
        q->out_from_scan[k++] = -1;
    }
    for (int i = 0; i < nout; i++) {
        const char *name = (spec->columns && spec->num_columns > 0) ? spec->columns[i] : uni->fields[i].name;
        if (symbol && strcmp(name, "symbol") == 0) continue;
        int at = dl_schema_find(uni, name);
        if (at < 0) {
            char list[512] = "";
            size_t pos = 0;
            for (int f = 0; f < uni->num_fields && pos < sizeof list - 64; f++)
                pos += (size_t)snprintf(list + pos, sizeof list - pos, "%s%s", f ? ", " : "", uni->fields[f].name);
            DL_FAIL(err, DL_ENOTFOUND, "unknown column '%s' (columns: %s)", name, list);
        }
        if (dl_schema_find(&q->scan_schema, name) < 0) DL_TRY(add_field(&q->scan_schema, &uni->fields[at], err));
        DL_TRY(add_field(&q->out_schema, &uni->fields[at], err));
        q->out_from_scan[k++] = dl_schema_find(&q->scan_schema, name);
    }
    /* the filter may read columns that are not output */
    if (spec->filter && spec->filter[0]) {
        DL_TRY(dl_expr_parse(spec->filter, uni, &q->filter, err));
        for (int i = 0; i < dl_expr_num_columns(q->filter); i++) {
            const char *name = dl_expr_column_name(q->filter, i);
            if (dl_schema_find(&q->scan_schema, name) < 0)
                DL_TRY(add_field(&q->scan_schema, &uni->fields[dl_schema_find(uni, name)], err));
        }
    }
    /* ts is needed to apply the time range */
    int uts = dl_schema_find(uni, "ts");
    if (uts >= 0 && (q->ts_from != INT64_MIN || q->ts_to != INT64_MAX) && dl_schema_find(&q->scan_schema, "ts") < 0)
        DL_TRY(add_field(&q->scan_schema, &uni->fields[uts], err));
    q->ts_index = dl_schema_find(&q->scan_schema, "ts");
    if (q->ts_index >= 0 && q->scan_schema.fields[q->ts_index].type != DL_TYPE_TIMESTAMP)
        q->ts_index = -1;
cleanup:
    return rc;
}

/* ------------------------------------------------------------------ */
/* Executing one file                                                   */
/* ------------------------------------------------------------------ */

static int64_t ts_scale(dl_time_unit unit) { return unit == DL_UNIT_MS ? 1000 : unit == DL_UNIT_US ? 1 : -1000; }

/* Query bound (us) in a column's unit, rounding so that comparisons on the
** converted bound select the same instants. */
static int64_t to_unit(int64_t us, dl_time_unit unit, bool upper) {
    if (us == INT64_MIN || us == INT64_MAX) return us;
    int64_t s = ts_scale(unit);
    if (s == 1) return us;
    if (s < 0) { /* ns */
        if (us > INT64_MAX / 1000) return INT64_MAX;
        if (us < INT64_MIN / 1000) return INT64_MIN;
        return us * 1000;
    }
    /* ms: [from, to) in us -> ceil for both, since ms values are exact us multiples */
    (void)upper;
    int64_t q = us / s, r = us % s;
    if (r > 0) q++;
    return q;
}

/* Converts a column read with the file's type into the scan type. */
static int convert_into(const dl_column *src, dl_column *dst, dl_error *err) {
    if (src->type == dst->type) return dl_column_append_range(dst, src, 0, src->length, err);
    int rc = dl_column_reserve(dst, src->length, 0, err);
    if (rc != DL_OK) return rc;
    for (int64_t i = 0; i < src->length; i++) {
        if (!dl_column_is_valid(src, i)) {
            rc = dl_column_append_null(dst, err);
        } else if (dst->type == DL_TYPE_INT64) {
            rc = dl_column_append_i64(dst, ((const int32_t *)src->values)[i], err);
        } else if (dst->type == DL_TYPE_DOUBLE) {
            rc = dl_column_append_f64(dst, ((const float *)src->values)[i], err);
        } else {
            return dl_error_set(err, DL_ECONFLICT, "cannot convert %s to %s", dl_type_name(src->type),
                                dl_type_name(dst->type));
        }
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}

static int append_nulls(dl_column *c, int64_t n, dl_error *err) {
    for (int64_t i = 0; i < n; i++) {
        int rc = dl_column_append_null(c, err);
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}

/* First index in sorted v[0..n) with v[i] >= x. */
static int64_t lower_bound(const int64_t *v, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

typedef struct file_scan {
    dl_query *q;
    dl_parquet_reader *r;
    int *file_col;    /* scan column -> file column (-1 absent) */
    dl_stats *stats;  /* per union column for the filter (may be NULL) */
} file_scan;

/* Reads rows [begin, end) of row group g for every scan column into t. */
static int read_rows(file_scan *fs, int g, int64_t begin, int64_t end, dl_table *t, dl_error *err) {
    const dl_schema *fsch = dl_parquet_schema(fs->r);
    for (int c = 0; c < fs->q->scan_schema.num_fields; c++) {
        int fc = fs->file_col[c];
        int rc;
        if (fc < 0) {
            rc = append_nulls(&t->columns[c], end - begin, err);
        } else if (fsch->fields[fc].type == t->columns[c].type) {
            rc = dl_parquet_read_column_range(fs->r, g, fc, begin, end, &t->columns[c], err);
        } else {
            dl_column tmp;
            dl_column_init(&tmp, fsch->fields[fc].type, fsch->fields[fc].unit);
            rc = dl_parquet_read_column_range(fs->r, g, fc, begin, end, &tmp, err);
            if (rc == DL_OK) rc = convert_into(&tmp, &t->columns[c], err);
            dl_column_free(&tmp);
        }
        if (rc != DL_OK) return rc;
    }
    return dl_table_seal(t, err);
}

/* Can row group g match?  ts range and filter statistics. */
static bool row_group_may_match(file_scan *fs, int g, const dl_schema *uni_for_filter) {
    dl_query *q = fs->q;
    const dl_schema *fsch = dl_parquet_schema(fs->r);
    if (q->ts_index >= 0) {
        int fc = fs->file_col[q->ts_index];
        dl_stats st;
        if (fc >= 0 && dl_parquet_chunk_stats(fs->r, g, fc, &st, NULL) == DL_OK && st.has_min_max &&
            fsch->fields[fc].type == DL_TYPE_TIMESTAMP) {
            dl_time_unit u = fsch->fields[fc].unit;
            if (st.max.i < to_unit(q->ts_from, u, false) || st.min.i >= to_unit(q->ts_to, u, true)) return false;
        }
    }
    if (q->filter && fs->stats) {
        for (int c = 0; c < uni_for_filter->num_fields; c++) {
            memset(&fs->stats[c], 0, sizeof fs->stats[c]);
            int fc = dl_schema_find(fsch, uni_for_filter->fields[c].name);
            if (fc < 0) {
                /* absent column: all null */
                fs->stats[c].has_null_count = true;
                fs->stats[c].null_count = dl_parquet_row_group_rows(fs->r, g);
                continue;
            }
            if (fsch->fields[fc].type != uni_for_filter->fields[c].type) continue; /* widened: unknown */
            dl_parquet_chunk_stats(fs->r, g, fc, &fs->stats[c], NULL);
        }
        if (!dl_expr_may_match(q->filter, fs->stats)) return false;
    }
    return true;
}

/* Row range of row group g inside [ts_from, ts_to): uses the ts page index
** to read only candidate pages, then binary search on the sorted ts. */
static int ts_row_range(file_scan *fs, int g, int64_t *begin, int64_t *end, dl_error *err) {
    dl_query *q = fs->q;
    int64_t rows = dl_parquet_row_group_rows(fs->r, g);
    *begin = 0;
    *end = rows;
    if (q->ts_index < 0 || (q->ts_from == INT64_MIN && q->ts_to == INT64_MAX)) return DL_OK;
    int fc = fs->file_col[q->ts_index];
    const dl_schema *fsch = dl_parquet_schema(fs->r);
    if (fc < 0 || fsch->fields[fc].type != DL_TYPE_TIMESTAMP) return DL_OK;
    dl_time_unit u = fsch->fields[fc].unit;
    int64_t lo = to_unit(q->ts_from, u, false), hi = to_unit(q->ts_to, u, true);
    int64_t cand_begin = 0, cand_end = rows;
    dl_page_stats *ps = NULL;
    int np = 0;
    if (dl_parquet_page_stats(fs->r, g, fc, &ps, &np, NULL) == DL_OK) {
        bool all_known = true;
        for (int p = 0; p < np; p++) all_known &= ps[p].stats.has_min_max;
        if (all_known && np > 0) {
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
    dl_column ts;
    dl_column_init(&ts, DL_TYPE_TIMESTAMP, u);
    int rc = dl_parquet_read_column_range(fs->r, g, fc, cand_begin, cand_end, &ts, err);
    if (rc == DL_OK) {
        const int64_t *v = ts.values;
        int64_t n = ts.length;
        bool sorted = ts.null_count == 0;
        for (int64_t i = 1; i < n && sorted; i++) sorted = v[i - 1] <= v[i];
        if (sorted) {
            *begin = cand_begin + lower_bound(v, n, lo);
            *end = cand_begin + lower_bound(v, n, hi);
        } else {
            *begin = cand_begin; /* unsorted foreign file: the mask filter decides */
            *end = cand_end;
        }
    }
    dl_column_free(&ts);
    return rc;
}

/* Builds the output table from scanned rows (mask already applied). */
static int project(dl_query *q, query_task *task, dl_table *scan, dl_table *out, dl_error *err) {
    for (int i = 0; i < q->out_schema.num_fields; i++) {
        int sc = q->out_from_scan[i];
        int rc;
        if (sc < 0) {
            const char *sym = q->ds[task->dataset].symbol;
            rc = dl_column_reserve(&out->columns[i], scan->num_rows, (int64_t)strlen(sym) * scan->num_rows, err);
            for (int64_t r = 0; r < scan->num_rows && rc == DL_OK; r++)
                rc = dl_column_append_str(&out->columns[i], sym, strlen(sym), err);
        } else {
            rc = dl_column_append_range(&out->columns[i], &scan->columns[sc], 0, scan->num_rows, err);
        }
        if (rc != DL_OK) return rc;
    }
    return dl_table_seal(out, err);
}

static int run_task(dl_query *q, query_task *task, const dl_schema *uni) {
    int rc = DL_OK;
    dl_error *err = &task->err;
    file_scan fs = {q, NULL, NULL, NULL};
    dl_table scan;
    memset(&scan, 0, sizeof scan);
    uint8_t *sel = NULL;
    DL_TRY(dl_table_init(&task->result, &q->out_schema, err));
    task->has_result = true;
    rc = dl_parquet_open(task->file->path, &fs.r, err);
    if (rc != DL_OK) goto cleanup;
    const dl_schema *fsch = dl_parquet_schema(fs.r);
    fs.file_col = malloc(sizeof(int) * (size_t)(q->scan_schema.num_fields + 1));
    if (!fs.file_col) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int c = 0; c < q->scan_schema.num_fields; c++) {
        fs.file_col[c] = dl_schema_find(fsch, q->scan_schema.fields[c].name);
        if (fs.file_col[c] >= 0 && widen(fsch->fields[fs.file_col[c]].type, q->scan_schema.fields[c].type) < 0)
            DL_FAIL(err, DL_ECONFLICT, "%s: column %s is %s, expected %s", task->file->path,
                    q->scan_schema.fields[c].name, dl_type_name(fsch->fields[fs.file_col[c]].type),
                    dl_type_name(q->scan_schema.fields[c].type));
    }
    if (q->filter) {
        fs.stats = calloc((size_t)uni->num_fields + 1, sizeof(dl_stats));
        if (!fs.stats) DL_FAIL(err, DL_ENOMEM, "out of memory");
    }
    for (int g = 0; g < dl_parquet_num_row_groups(fs.r); g++) {
        task->row_groups++;
        if (!row_group_may_match(&fs, g, uni)) {
            task->row_groups_pruned++;
            continue;
        }
        int64_t begin, end;
        DL_TRY(ts_row_range(&fs, g, &begin, &end, err));
        if (begin >= end) {
            task->row_groups_pruned++;
            continue;
        }
        DL_TRY(dl_table_init(&scan, &q->scan_schema, err));
        DL_TRY(read_rows(&fs, g, begin, end, &scan, err));
        task->rows_scanned += scan.num_rows;
        /* mask: ts range (for unsorted files) and the filter */
        sel = malloc((size_t)scan.num_rows + 1);
        if (!sel) DL_FAIL(err, DL_ENOMEM, "out of memory");
        int64_t keep = scan.num_rows;
        if (q->filter) {
            DL_TRY(dl_expr_eval(q->filter, &scan, sel, &keep, err));
        } else {
            memset(sel, 1, (size_t)scan.num_rows);
        }
        if (q->ts_index >= 0) {
            const dl_column *ts = &scan.columns[q->ts_index];
            int64_t lo = to_unit(q->ts_from, ts->unit, false), hi = to_unit(q->ts_to, ts->unit, true);
            const int64_t *v = ts->values;
            keep = 0;
            for (int64_t i = 0; i < scan.num_rows; i++) {
                sel[i] &= (uint8_t)(v[i] >= lo && v[i] < hi && dl_column_is_valid(ts, i));
                keep += sel[i];
            }
        }
        if (keep < scan.num_rows) DL_TRY(dl_table_filter(&scan, sel, err));
        DL_TRY(project(q, task, &scan, &task->result, err));
        free(sel);
        sel = NULL;
        dl_table_free(&scan);
    }
cleanup:
    free(sel);
    dl_table_free(&scan);
    free(fs.file_col);
    free(fs.stats);
    dl_parquet_close(fs.r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Thread pool with an ordered, bounded window                          */
/* ------------------------------------------------------------------ */

static void *worker_main(void *arg) {
    dl_query *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (!q->stop && q->next_task < q->num_tasks && q->next_task >= q->next_out + q->window)
            pthread_cond_wait(&q->cond, &q->lock);
        if (q->stop || q->next_task >= q->num_tasks) {
            pthread_mutex_unlock(&q->lock);
            return NULL;
        }
        query_task *t = &q->tasks[q->next_task++];
        pthread_mutex_unlock(&q->lock);
        t->rc = run_task(q, t, &q->union_schema);
        pthread_mutex_lock(&q->lock);
        t->done = true;
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->lock);
    }
}

int dl_query_open(dl_lake *lake, const dl_query_spec *spec, dl_query **out, dl_error *err) {
    int rc = DL_OK;
    *out = NULL;
    dl_query *q = calloc(1, sizeof *q);
    if (!q) return dl_error_set(err, DL_ENOMEM, "out of memory");
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->lake = lake;
    q->ts_from = spec->ts_from;
    q->ts_to = spec->ts_to;
    dl_schema_init(&q->union_schema);
    dl_schema_init(&q->out_schema);
    dl_schema_init(&q->scan_schema);
    if (spec->as_of_version && spec->num_datasets != 1)
        DL_FAIL(err, DL_EINVAL, "--as-of-version needs exactly one dataset (use --as-of TIME for several)");
    DL_TRY(match_datasets(q, spec, err));
    DL_TRY(union_schema(q, &q->union_schema, err));
    DL_TRY(build_schemas(q, spec, &q->union_schema, err));
    int64_t ntasks = 0;
    for (int i = 0; i < q->num_ds; i++) ntasks += q->ds[i].files.count;
    q->tasks = calloc((size_t)(ntasks ? ntasks : 1), sizeof *q->tasks);
    if (!q->tasks) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < q->num_ds; i++)
        for (int64_t f = 0; f < q->ds[i].files.count; f++) {
            query_task *t = &q->tasks[q->num_tasks++];
            t->dataset = i;
            t->file = &q->ds[i].files.files[f];
        }
    q->stats.datasets = q->num_ds;
    q->stats.files = q->num_tasks;
    int threads = spec->threads > 0 ? spec->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    q->window = 4 * threads + 4;
    q->threads = calloc((size_t)threads, sizeof(pthread_t));
    if (!q->threads) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < threads && q->num_tasks > 0; i++) {
        if (pthread_create(&q->threads[i], NULL, worker_main, q) != 0) break;
        q->num_threads++;
    }
    if (q->num_tasks > 0 && q->num_threads == 0) DL_FAIL(err, DL_ENOMEM, "cannot start query threads");
    *out = q;
    return DL_OK;
cleanup:
    dl_query_close(q);
    return rc;
}

const dl_schema *dl_query_schema(const dl_query *q) { return &q->out_schema; }

int dl_query_next(dl_query *q, dl_table *batch, dl_error *err) {
    for (int c = 0; c < batch->schema.num_fields; c++) dl_column_clear(&batch->columns[c]);
    batch->num_rows = 0;
    if (batch->schema.num_fields != q->out_schema.num_fields)
        return dl_error_set(err, DL_EINVAL, "query batch has %d columns, the query returns %d",
                            batch->schema.num_fields, q->out_schema.num_fields);
    while (q->next_out < q->num_tasks) {
        query_task *t = &q->tasks[q->next_out];
        pthread_mutex_lock(&q->lock);
        while (!t->done) pthread_cond_wait(&q->cond, &q->lock);
        q->next_out++;
        pthread_cond_broadcast(&q->cond); /* the window moved */
        pthread_mutex_unlock(&q->lock);
        q->stats.row_groups += t->row_groups;
        q->stats.row_groups_pruned += t->row_groups_pruned;
        q->stats.rows_scanned += t->rows_scanned;
        int rc = t->rc;
        if (rc == DL_OK && t->has_result && t->result.num_rows > 0) {
            /* hand the result's columns over without copying */
            for (int c = 0; c < batch->schema.num_fields; c++) {
                dl_column tmp = batch->columns[c];
                batch->columns[c] = t->result.columns[c];
                t->result.columns[c] = tmp;
            }
            batch->num_rows = t->result.num_rows;
            q->stats.rows_returned += batch->num_rows;
        } else if (rc != DL_OK && err) {
            *err = t->err;
        }
        if (t->has_result) dl_table_free(&t->result);
        t->has_result = false;
        if (rc != DL_OK) return rc;
        if (batch->num_rows > 0) return DL_OK;
    }
    return DL_OK;
}

void dl_query_get_stats(const dl_query *q, dl_query_stats *out) { *out = q->stats; }

void dl_query_close(dl_query *q) {
    if (!q) return;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->num_threads; i++) pthread_join(q->threads[i], NULL);
    free(q->threads);
    for (int64_t i = 0; i < q->num_tasks; i++)
        if (q->tasks[i].has_result) dl_table_free(&q->tasks[i].result);
    free(q->tasks);
    for (int i = 0; i < q->num_ds; i++) dl_lake_file_list_free(&q->ds[i].files);
    free(q->ds);
    dl_expr_free(q->filter);
    free(q->out_from_scan);
    dl_schema_free(&q->out_schema);
    dl_schema_free(&q->scan_schema);
    dl_schema_free(&q->union_schema);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q);
}
