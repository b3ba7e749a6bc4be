/*
** dl_join.c -- the as-of join of two lake datasets (`dl join`, the data
** server): each left row with the latest right row whose key is <= its own
** (no look-ahead), optionally no older than a tolerance.
**
** Both sides stream through dl_query (only the needed columns decoded) into
** the dl_asof kernel: right batches are pushed until the right side is past
** the current left batch's last key (the kernel's condition for a probe),
** then the left batch is probed.  Memory stays bounded by a few batches.
**
** spec.columns names columns of the join's full output (left columns, then
** the right columns except the key, "right_"-prefixed on a clash), whatever
** is projected: the names are resolved against the full schemas first, then
** each side is queried for its key plus the requested columns only.
*/
#include <stdlib.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "util/dl_internal.h"

/* --right-delay cap: keeps key + delay far from overflow. */
#define MAX_DELAY_US (INT64_C(366) * 86400 * 1000000)

/* One side of the join: its query and the columns it reads. */
typedef struct join_side {
    const char *dataset;
    dl_schema full;       /* the dataset's union schema */
    const char **columns; /* projection: key first, then requested columns */
    int num_columns;
    dl_query *q;
    dl_table batch;
} join_side;

struct dl_join {
    join_side left, right;
    dl_asof_join *kernel;
    dl_schema out_schema;
    dl_table joined;
    int *out_col;  /* output column k = joined column out_col[k] */
    int64_t delay; /* right delay in the key's unit */
    bool right_done, left_done;
};

void dl_join_spec_default(dl_join_spec *spec) {
    DL_REQUIRE_OR_RETURN(spec, );
    memset(spec, 0, sizeof *spec);
    spec->on = "ts";
    spec->tolerance_us = -1;
    spec->ts_from = INT64_MIN;
    spec->ts_to = INT64_MAX;
}

/* Adds `name` to the side's projection unless present; returns its index. */
static int projection_add(join_side *s, const char *name) {
    for (int i = 0; i < s->num_columns; i++)
        if (strcmp(s->columns[i], name) == 0) return i;
    s->columns[s->num_columns] = name;
    return s->num_columns++;
}

static void side_free(join_side *s) {
    dl_schema_free(&s->full);
    free(s->columns);
    dl_query_close(s->q);
    dl_table_free(&s->batch);
}

static int open_side(dl_lake *lake, join_side *s, int64_t from, int64_t to, const dl_join_spec *js,
                     dl_error *err) {
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = &s->dataset;
    spec.num_datasets = 1;
    spec.ts_from = from;
    spec.ts_to = to;
    spec.columns = s->columns;
    spec.num_columns = s->num_columns;
    spec.threads = js->threads;
    spec.max_buffer_bytes = js->max_buffer_bytes;
    spec.pool = js->pool;
    spec.symbol_column = 0;
    int rc = dl_query_open(lake, &spec, &s->q, err);
    if (rc == DL_OK) rc = dl_table_init(&s->batch, dl_query_schema(s->q), err);
    if (rc != DL_OK) dl_error_prefix(err, "%s", s->dataset);
    return rc;
}

/* a - b for b >= 0, INT64_MIN instead of overflowing. */
static int64_t sub_saturated(int64_t a, int64_t b) {
    return a < INT64_MIN + b ? INT64_MIN : a - b;
}

/* Where the right side must start so that the first left rows of [from, ..)
** still see the latest right row before `from`: the start of the last right
** day file holding rows before `from` (no older row can be the latest), or
** from - tolerance when that is later. */
static int right_start(dl_lake *lake, const char *right, int64_t from, int64_t tolerance_us,
                       int64_t *out, dl_error *err) {
    *out = INT64_MIN;
    if (from == INT64_MIN) return DL_OK;
    dl_lake_file_list before;
    int rc = dl_lake_files(lake, right, INT64_MIN, from, 0, &before, err);
    if (rc != DL_OK) return rc;
    *out = before.count > 0 ? before.files[before.count - 1].ts_min : from;
    dl_lake_file_list_free(&before);
    if (tolerance_us >= 0 && sub_saturated(from, tolerance_us) > *out)
        *out = sub_saturated(from, tolerance_us);
    return DL_OK;
}

/* A tolerance or delay given in microseconds, in the key's unit. */
static int64_t us_in_key_unit(int64_t us, const dl_field *key) {
    if (us < 0 || key->type != DL_TYPE_TIMESTAMP) return us;
    if (key->unit == DL_UNIT_MS) return us / 1000;
    if (key->unit == DL_UNIT_NS) return us > INT64_MAX / 1000 ? INT64_MAX : us * 1000;
    return us;
}

static int unknown_column(const dl_schema *full_out, const char *name, dl_error *err) {
    dl_text list = {0};
    for (int i = 0; i < full_out->num_fields; i++)
        dl_text_printf(&list, "%s%s", i ? ", " : "", full_out->fields[i].name);
    dl_text_putc(&list, 0);
    int rc = dl_error_set(err, DL_ENOTFOUND, "unknown column '%s' (join columns: %s)", name,
                          list.status == DL_OK ? list.data : "");
    dl_text_free(&list);
    return rc;
}

/* Resolves the output names against the full join: each becomes a column
** of one side's projection; side_pos[k] >= 0 is a left projection index,
** -1 - i the right projection index i. */
static int resolve_columns(dl_join *j, const dl_join_spec *spec, const dl_schema *full_out,
                           const char *const *names, int num_names, int *side_pos, dl_error *err) {
    const char *key = spec->on;
    j->left.columns = malloc(sizeof(char *) * (size_t)(num_names + 1));
    j->right.columns = malloc(sizeof(char *) * (size_t)(num_names + 1));
    if (!j->left.columns || !j->right.columns)
        return dl_error_set(err, DL_ENOMEM, "join: out of memory");
    j->left.num_columns = j->right.num_columns = 0;
    projection_add(&j->left, key);
    projection_add(&j->right, key);
    for (int k = 0; k < num_names; k++) {
        int idx = names[k] ? dl_schema_find(full_out, names[k]) : -1;
        if (idx < 0) return unknown_column(full_out, names[k] ? names[k] : "", err);
        if (idx < j->left.full.num_fields) {
            side_pos[k] = projection_add(&j->left, j->left.full.fields[idx].name);
        } else { /* the right columns follow in schema order, without the key */
            int r = idx - j->left.full.num_fields;
            if (r >= dl_schema_find(&j->right.full, key)) r++;
            side_pos[k] = -1 - projection_add(&j->right, j->right.full.fields[r].name);
        }
    }
    return DL_OK;
}

static bool is_glob(const char *name) {
    return strpbrk(name, "*?[") != NULL;
}

static int check_spec(const dl_join_spec *spec, dl_error *err) {
    if (!spec->left || !spec->right)
        return dl_error_set(err, DL_EINVAL, "join: two datasets are needed");
    const char *sides[2] = {spec->left, spec->right};
    for (int i = 0; i < 2; i++)
        if (is_glob(sides[i]))
            return dl_error_set(err, DL_EINVAL,
                                "'%s': a join takes one dataset per side (no glob): each side "
                                "must be sorted by the key",
                                sides[i]);
    if (!spec->on || !spec->on[0]) return dl_error_set(err, DL_EINVAL, "join: no key column");
    if (spec->right_delay_us < 0 || spec->right_delay_us > MAX_DELAY_US)
        return dl_error_set(err, DL_EINVAL, "join: the right delay must be 0 .. 366 days");
    if (spec->num_columns < 0 || (spec->num_columns > 0 && !spec->columns))
        return dl_error_set(err, DL_EINVAL, "join: %d columns announced but none given",
                            spec->num_columns);
    return DL_OK;
}

/* Plans both sides, the kernel and the output schema. */
static int plan(dl_lake *lake, dl_join *j, const dl_join_spec *spec, dl_error *err) {
    int rc = DL_OK;
    dl_asof_join *full_join = NULL;
    const char **all_names = NULL;
    int *side_pos = NULL;
    const char *key = spec->on;
    DL_TRY(dl_lake_dataset_schema(lake, j->left.dataset, &j->left.full, err));
    DL_TRY(dl_lake_dataset_schema(lake, j->right.dataset, &j->right.full, err));
    /* the full join's schema defines the output names (and checks the keys) */
    DL_TRY(dl_asof_open(&j->left.full, key, &j->right.full, key, -1, &full_join, err));
    const dl_schema *full_out = dl_asof_schema(full_join);
    const char *const *names = spec->columns;
    int num_names = spec->num_columns;
    if (num_names == 0) {
        num_names = full_out->num_fields;
        all_names = malloc(sizeof(char *) * (size_t)(num_names + 1));
        if (!all_names) DL_FAIL(err, DL_ENOMEM, "join: out of memory");
        for (int k = 0; k < num_names; k++) all_names[k] = full_out->fields[k].name;
        names = all_names;
    }
    if (num_names == 0) DL_FAIL(err, DL_EINVAL, "join: no output column");
    side_pos = calloc((size_t)num_names, sizeof(int));
    j->out_col = malloc(sizeof(int) * (size_t)num_names);
    if (!side_pos || !j->out_col) DL_FAIL(err, DL_ENOMEM, "join: out of memory");
    DL_TRY(resolve_columns(j, spec, full_out, names, num_names, side_pos, err));

    int64_t right_from = INT64_MIN;
    bool ts_key = strcmp(key, "ts") == 0;
    /* a right row is known at key + delay: the first left row sees keys up to from - delay */
    if (ts_key)
        DL_TRY(right_start(lake, j->right.dataset,
                           sub_saturated(spec->ts_from, spec->right_delay_us), spec->tolerance_us,
                           &right_from, err));
    DL_TRY(open_side(lake, &j->left, spec->ts_from, spec->ts_to, spec, err));
    DL_TRY(open_side(lake, &j->right, right_from, ts_key ? spec->ts_to : INT64_MAX, spec, err));
    const dl_schema *ls = dl_query_schema(j->left.q);
    DL_TRY(dl_asof_open(ls, key, dl_query_schema(j->right.q), key,
                        us_in_key_unit(spec->tolerance_us, &ls->fields[0]), &j->kernel, err));
    DL_TRY(dl_table_init(&j->joined, dl_asof_schema(j->kernel), err));
    for (int k = 0; k < num_names; k++) {
        /* projected join: left projection, then the right one without its key */
        j->out_col[k] =
            side_pos[k] >= 0 ? side_pos[k] : j->left.num_columns + (-1 - side_pos[k]) - 1;
        dl_field f = j->joined.schema.fields[j->out_col[k]];
        f.name = (char *)names[k];
        DL_TRY(dl_schema_add_field(&j->out_schema, &f, err));
    }
    j->delay = us_in_key_unit(spec->right_delay_us, &ls->fields[0]);
cleanup:
    dl_asof_free(full_join);
    free(all_names);
    free(side_pos);
    return rc;
}

int dl_join_open(dl_lake *lake, const dl_join_spec *spec, dl_join **out, dl_error *err) {
    if (!out) return dl_error_set(err, DL_EINVAL, "join: no output pointer");
    *out = NULL;
    if (!lake || !spec) return dl_error_set(err, DL_EINVAL, "join: no lake or no spec");
    int rc = check_spec(spec, err);
    if (rc != DL_OK) return rc;
    dl_join *j = calloc(1, sizeof *j);
    if (!j) return dl_error_set(err, DL_ENOMEM, "join: out of memory");
    j->left.dataset = spec->left;
    j->right.dataset = spec->right;
    dl_schema_init(&j->out_schema);
    rc = plan(lake, j, spec, err);
    if (rc != DL_OK) {
        dl_join_close(j);
        return rc;
    }
    *out = j;
    return DL_OK;
}

const dl_schema *dl_join_schema(const dl_join *j) {
    return &j->out_schema;
}

/* Pushes right batches until the right side is past `last` (or done). */
static int push_right_past(dl_join *j, int64_t last, dl_error *err) {
    while (!j->right_done && dl_asof_right_high(j->kernel) <= last) {
        int rc = dl_query_next(j->right.q, &j->right.batch, err);
        if (rc != DL_OK) return rc;
        if (j->right.batch.num_rows == 0) {
            dl_asof_finish_right(j->kernel);
            j->right_done = true;
            break;
        }
        /* a right row becomes known `delay` after its key */
        int64_t *rkeys = j->right.batch.columns[0].values;
        for (int64_t i = 0; j->delay && i < j->right.batch.num_rows; i++) rkeys[i] += j->delay;
        rc = dl_asof_push_right(j->kernel, &j->right.batch, err);
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}

/* Moves (or, for a column named twice, copies) the output columns of the
** joined batch into `batch`. */
static int take_output(dl_join *j, dl_table *batch, dl_error *err) {
    int n = j->out_schema.num_fields;
    for (int k = 0; k < n; k++) {
        int from = j->out_col[k];
        bool repeated = false;
        for (int e = k + 1; e < n && !repeated; e++) repeated = j->out_col[e] == from;
        if (repeated) {
            int rc = dl_column_append_range(&batch->columns[k], &j->joined.columns[from], 0,
                                            j->joined.num_rows, err);
            if (rc != DL_OK) return rc;
        } else {
            dl_column tmp = batch->columns[k];
            batch->columns[k] = j->joined.columns[from];
            j->joined.columns[from] = tmp;
        }
    }
    return dl_table_seal(batch, err);
}

int dl_join_next(dl_join *j, dl_table *batch, dl_error *err) {
    if (!j || !batch) return dl_error_set(err, DL_EINVAL, "join: no join or no batch");
    if (batch->schema.num_fields != j->out_schema.num_fields)
        return dl_error_set(err, DL_EINVAL, "join batch has %d columns, the join returns %d",
                            batch->schema.num_fields, j->out_schema.num_fields);
    for (int c = 0; c < batch->schema.num_fields; c++) dl_column_clear(&batch->columns[c]);
    batch->num_rows = 0;
    while (!j->left_done) {
        int rc = dl_query_next(j->left.q, &j->left.batch, err);
        if (rc != DL_OK) return rc;
        if (j->left.batch.num_rows == 0) {
            j->left_done = true;
            break;
        }
        const int64_t *keys = j->left.batch.columns[0].values;
        /* the probe needs every right row with key <= last: push until past it */
        rc = push_right_past(j, keys[j->left.batch.num_rows - 1], err);
        if (rc != DL_OK) return rc;
        for (int c = 0; c < j->joined.schema.num_fields; c++)
            dl_column_clear(&j->joined.columns[c]);
        j->joined.num_rows = 0;
        rc = dl_asof_probe(j->kernel, &j->left.batch, &j->joined, NULL, err);
        if (rc == DL_OK) rc = take_output(j, batch, err);
        if (rc != DL_OK || batch->num_rows > 0) return rc;
    }
    return DL_OK;
}

void dl_join_close(dl_join *j) {
    if (!j) return;
    dl_asof_free(j->kernel);
    side_free(&j->left);
    side_free(&j->right);
    dl_table_free(&j->joined);
    dl_schema_free(&j->out_schema);
    free(j->out_col);
    free(j);
}

static int join_source_next(void *self, dl_table *batch, dl_error *err) {
    return dl_join_next(self, batch, err);
}

static void join_source_close(void *self) {
    dl_join_close(self);
}

int dl_join_arrow_stream(dl_join *j, struct ArrowArrayStream *out, dl_error *err) {
    if (!j || !out) return dl_error_set(err, DL_EINVAL, "join stream: no join or no output");
    dl_batch_source src = {j, join_source_next, join_source_close};
    return dl_arrow_stream_from_source(&j->out_schema, &src, out, err);
}
