/*
** cmd_join.c -- `dl join LEFT RIGHT [--on ts] [--tolerance D] [--from T]
** [--to T] [--columns a,b] [--format FMT] ...`: point-in-time as-of join
** of two datasets.  Each left row gets the latest right row whose key is
** <= its own (no look-ahead), optionally no older than the tolerance.
**
** Both sides stream through dl_query (only the needed columns decoded) into
** the dl_asof kernel: right batches are pushed until the right side is past
** the current left batch's last key (the kernel's condition for a probe),
** then the left batch is probed and the result goes to the same sinks as
** `dl query` (cli_sink.c).  Memory stays bounded by a few batches.
**
** --columns names columns of the join's full output (left columns, then the
** right columns except the key, "right_"-prefixed on a clash), whatever is
** projected: the names are resolved against the full schemas first, then
** each side is queried for its key plus the requested columns only.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lake.h"

static const cli_option join_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"on", "COLUMN", "join key, sorted on both sides (default ts)"},
    {"tolerance", "DURATION", "ignore right rows older than this (90s, 15m, 1h, 1d; 0 = exact)"},
    {"right-delay", "DURATION", "a right row is known this long after its key (klines: 1m)"},
    {"from", "TIME", "first left time included (YYYY-MM-DD[THH:MM:SS[.f]][Z], or epoch ms)"},
    {"to", "TIME", "end of the left range, excluded"},
    {"columns", "a,b,...", "output only these columns of the join, in this order"},
    CLI_SINK_OPTIONS,
    {"threads", "N", "decode threads per side (default: all cores)"},
};

static const cli_spec join_spec = {
    "join",
    "LEFT RIGHT [--on ts] [--tolerance D] [--from T] [--to T] [--columns a,b] [--format FMT]",
    "As-of join: every row of the LEFT dataset with the latest row of the RIGHT\n"
    "dataset whose key is <= the left key (point in time, no look-ahead), e.g.\n"
    "trades with the last known kline.  With --tolerance, right rows older than\n"
    "the left key minus the tolerance do not match.  Unmatched left rows keep\n"
    "null right columns.  Klines are stamped with their open time: join them with\n"
    "--right-delay PERIOD (e.g. 1m) so that a kline is only seen once it closed.\n"
    "Output columns: the left columns, then the right\n"
    "columns except the key, prefixed right_ when a name exists on the left.\n"
    "The table format shows the first 20 rows unless --limit or --tail is given.\n",
    join_options,
    (int)(sizeof join_options / sizeof join_options[0]),
    2,
    2,
};

/* One side of the join: its query and the columns it reads. */
typedef struct join_side {
    const char *dataset;
    dl_schema full;       /* the dataset's union schema */
    const char **columns; /* projection: key first, then requested columns */
    int num_columns;
    dl_query *q;
    dl_table batch;
} join_side;

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

static int open_side(dl_lake *lake, join_side *s, int64_t from, int64_t to, int threads,
                     dl_error *err) {
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = &s->dataset;
    spec.num_datasets = 1;
    spec.ts_from = from;
    spec.ts_to = to;
    spec.columns = s->columns;
    spec.num_columns = s->num_columns;
    spec.threads = threads;
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

/* Appends field `f` renamed to `name` to `schema`. */
static int add_field_as(dl_schema *schema, const dl_field *f, const char *name, dl_error *err) {
    int rc = dl_schema_add(schema, name, f->type, f->nullable, err);
    if (rc != DL_OK) return rc;
    dl_field *added = &schema->fields[schema->num_fields - 1];
    added->unit = f->unit;
    added->utc = f->utc;
    added->decimal_scale = f->decimal_scale;
    added->decimal_precision = f->decimal_precision;
    return DL_OK;
}

/* A tolerance or delay given in microseconds, in the key's unit. */
static int64_t tolerance_in_unit(int64_t us, const dl_field *key) {
    if (us < 0 || key->type != DL_TYPE_TIMESTAMP) return us;
    if (key->unit == DL_UNIT_MS) return us / 1000;
    if (key->unit == DL_UNIT_NS) return us > INT64_MAX / 1000 ? INT64_MAX : us * 1000;
    return us;
}

/* --right-delay cap: keeps key + delay far from overflow. */
#define MAX_DELAY_US (INT64_C(366) * 86400 * 1000000)

static bool is_glob(const char *name) {
    return strpbrk(name, "*?[") != NULL;
}

int cli_cmd_join(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&join_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_error err = {0};
    int rc = DL_OK;
    const char *v;
    int64_t from = INT64_MIN, to = INT64_MAX, tolerance_us = -1, threads = 0;
    if ((v = cli_get(&a, "from")) && dl_parse_time_us(v, &from, &err) != DL_OK)
        return cli_usage_error(&join_spec, "--from: %s", err.message);
    if ((v = cli_get(&a, "to")) && dl_parse_time_us(v, &to, &err) != DL_OK)
        return cli_usage_error(&join_spec, "--to: %s", err.message);
    if ((v = cli_get(&a, "tolerance")) && strcmp(v, "0") != 0 &&
        !cli_parse_duration_us(v, &tolerance_us))
        return cli_usage_error(&join_spec,
                               "--tolerance needs a duration like 90s, 15m, 1h, 1d; got '%s'", v);
    if (v && strcmp(v, "0") == 0) tolerance_us = 0;
    int64_t delay_us = 0;
    if ((v = cli_get(&a, "right-delay")) &&
        (!cli_parse_duration_us(v, &delay_us) || delay_us > MAX_DELAY_US))
        return cli_usage_error(
            &join_spec, "--right-delay needs a duration up to 366d like 1m, 1h; got '%s'", v);
    if ((v = cli_get(&a, "threads")) && !cli_parse_i64(v, 1, 64, &threads))
        return cli_usage_error(&join_spec, "--threads wants 1..64, got '%s'", v);
    const char *key = cli_get(&a, "on") ? cli_get(&a, "on") : "ts";
    for (int i = 0; i < 2; i++)
        if (is_glob(a.args[i]))
            return cli_usage_error(&join_spec,
                                   "'%s': join takes one dataset per side (no glob): each side "
                                   "must be sorted by the key",
                                   a.args[i]);
    cli_sink sink;
    if ((prc = cli_sink_parse(&sink, &a)) != CLI_CONTINUE) return prc;

    dl_lake *lake = NULL;
    dl_asof_join *full_join = NULL, *j = NULL;
    join_side left = {0}, right = {0};
    left.dataset = a.args[0];
    right.dataset = a.args[1];
    dl_schema out_schema;
    dl_schema_init(&out_schema);
    dl_table joined;
    memset(&joined, 0, sizeof joined);
    char *names_copy = NULL;
    const char **names = NULL;
    int num_names = 0;
    int *out_col = NULL;  /* output column k = joined column out_col[k] */
    int *side_pos = NULL; /* output column k: left projection index, or -1 - right index */
    dl_column *view_cols = NULL;

    rc = dl_lake_open(cli_lake_root_dir(&a), true, &lake, &err);
    if (rc != DL_OK) goto cleanup;
    if ((rc = dl_lake_dataset_schema(lake, left.dataset, &left.full, &err)) != DL_OK) goto cleanup;
    if ((rc = dl_lake_dataset_schema(lake, right.dataset, &right.full, &err)) != DL_OK)
        goto cleanup;
    /* the full join's schema defines the output names (and checks the keys) */
    rc = dl_asof_open(&left.full, key, &right.full, key, -1, &full_join, &err);
    if (rc != DL_OK) goto cleanup;
    const dl_schema *full_out = dl_asof_schema(full_join);
    if ((v = cli_get(&a, "columns"))) {
        num_names = cli_split_list(v, &names_copy, &names);
    } else {
        num_names = full_out->num_fields;
        names = cli_xrealloc(NULL, sizeof(char *) * (size_t)(num_names ? num_names : 1));
        for (int k = 0; k < num_names; k++) names[k] = full_out->fields[k].name;
    }
    if (num_names == 0) {
        rc = dl_error_set(&err, DL_EINVAL, "--columns names no column");
        goto cleanup;
    }

    /* resolve names: full output column -> (side, column) -> projection */
    left.columns = cli_xrealloc(NULL, sizeof(char *) * (size_t)(num_names + 1));
    right.columns = cli_xrealloc(NULL, sizeof(char *) * (size_t)(num_names + 1));
    projection_add(&left, key);
    projection_add(&right, key);
    out_col = cli_xrealloc(NULL, sizeof(int) * (size_t)num_names);
    side_pos = cli_xrealloc(NULL, sizeof(int) * (size_t)num_names);
    for (int k = 0; k < num_names; k++) {
        int idx = dl_schema_find(full_out, names[k]);
        if (idx < 0) {
            cli_buf list = {0};
            for (int i = 0; i < full_out->num_fields; i++)
                cli_buf_printf(&list, "%s%s", i ? ", " : "", full_out->fields[i].name);
            rc = dl_error_set(&err, DL_ENOTFOUND, "unknown column '%s' (join columns: %s)",
                              names[k], list.data ? list.data : "");
            cli_buf_free(&list);
            goto cleanup;
        }
        if (idx < left.full.num_fields) {
            side_pos[k] = projection_add(&left, left.full.fields[idx].name);
        } else { /* the right columns follow in schema order, without the key */
            int r = idx - left.full.num_fields;
            int key_idx = dl_schema_find(&right.full, key);
            if (r >= key_idx) r++;
            side_pos[k] = -1 - projection_add(&right, right.full.fields[r].name);
        }
    }

    int64_t right_from = INT64_MIN;
    bool ts_key = strcmp(key, "ts") == 0;
    /* a right row is known at key + delay: the first left row sees keys up to from - delay */
    int64_t known_from = sub_saturated(from, delay_us);
    if (ts_key && (rc = right_start(lake, right.dataset, known_from, tolerance_us, &right_from,
                                    &err)) != DL_OK)
        goto cleanup;
    if ((rc = open_side(lake, &left, from, to, (int)threads, &err)) != DL_OK ||
        (rc = open_side(lake, &right, right_from, ts_key ? to : INT64_MAX, (int)threads, &err)) !=
            DL_OK)
        goto cleanup;
    const dl_schema *ls = dl_query_schema(left.q);
    rc = dl_asof_open(ls, key, dl_query_schema(right.q), key,
                      tolerance_in_unit(tolerance_us, &ls->fields[0]), &j, &err);
    if (rc == DL_OK) rc = dl_table_init(&joined, dl_asof_schema(j), &err);
    for (int k = 0; k < num_names && rc == DL_OK; k++) {
        /* projected join: left projection, then the right one without its key */
        out_col[k] = side_pos[k] >= 0 ? side_pos[k] : left.num_columns + (-1 - side_pos[k]) - 1;
        rc = add_field_as(&out_schema, &joined.schema.fields[out_col[k]], names[k], &err);
    }
    if (rc != DL_OK) goto cleanup;
    const char *root = dl_lake_root(lake);
    dl_output_guard guard = {&root, 1, NULL, 0};
    if ((rc = cli_sink_open(&sink, &out_schema, &guard, &err)) != DL_OK) goto cleanup;
    int64_t delay = tolerance_in_unit(delay_us, &ls->fields[0]);

    view_cols = cli_xrealloc(NULL, sizeof(dl_column) * (size_t)num_names);
    bool right_done = false;
    for (bool done = false; !done;) {
        if ((rc = dl_query_next(left.q, &left.batch, &err)) != DL_OK) break;
        if (left.batch.num_rows == 0) break;
        const int64_t *keys = left.batch.columns[0].values;
        int64_t last = keys[left.batch.num_rows - 1];
        /* the probe needs every right row with key <= last: push until past it */
        while (!right_done && dl_asof_right_high(j) <= last) {
            if ((rc = dl_query_next(right.q, &right.batch, &err)) != DL_OK) break;
            if (right.batch.num_rows == 0) {
                dl_asof_finish_right(j);
                right_done = true;
            } else {
                /* a right row becomes known `delay` after its key */
                int64_t *rkeys = right.batch.columns[0].values;
                for (int64_t i = 0; delay && i < right.batch.num_rows; i++) rkeys[i] += delay;
                if ((rc = dl_asof_push_right(j, &right.batch, &err)) != DL_OK) break;
            }
        }
        if (rc != DL_OK) break;
        for (int c = 0; c < joined.schema.num_fields; c++) dl_column_clear(&joined.columns[c]);
        joined.num_rows = 0;
        if ((rc = dl_asof_probe(j, &left.batch, &joined, NULL, &err)) != DL_OK) break;
        /* the output is a view of the joined columns: no copy */
        for (int k = 0; k < num_names; k++) view_cols[k] = joined.columns[out_col[k]];
        dl_table view = {out_schema, view_cols, joined.num_rows};
        if ((rc = dl_sink_put(sink.sink, &view, &done, &err)) != DL_OK) break;
    }

cleanup:
    rc = dl_sink_close(sink.sink, rc, &err);
    dl_asof_free(full_join);
    dl_asof_free(j);
    side_free(&left);
    side_free(&right);
    dl_table_free(&joined);
    dl_schema_free(&out_schema);
    dl_lake_close(lake);
    free(names_copy);
    free(names);
    free(out_col);
    free(side_pos);
    free(view_cols);
    return cli_finish_stdout(rc == DL_OK ? CLI_EXIT_OK : cli_fail(&err));
}
