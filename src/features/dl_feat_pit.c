/*
** dl_feat_pit.c -- point-in-time retrieval (dl_features_get).
**
** Rule, per entity (symbol s, time t) and feature set: among the rows of s
** with ts <= t and available_at <= t (and t - ts <= ttl), the greatest ts,
** ties by the greatest available_at; none -> nulls.
**
** Algorithm (per symbol): a row can be used by an entity exactly when its
** "knowable time" k = max(ts, available_at) <= t.  Rows are visited in k
** order and entities in t order; every row with k <= t is folded into a
** running best by (ts, available_at).  The running best is the answer: it
** is the lexicographic maximum over exactly the qualifying rows.  With a
** TTL the answer is the best if t - best.ts <= ttl, else none -- the best
** has the greatest ts, so if it is too old every other row is too.  Rows
** come from the lake sorted by (ts, available_at); k order is then usually
** the same order (available_at = ts + constant) and the sort is skipped.
** Cost: O(N log N) for entities, O(M) for rows in k order (O(M log M) when
** available_at is out of ts order), O(N + M) for the merge.
**
** Memory: one symbol's rows at a time; the rows picked for the entities
** are gathered into a compact table (<= N rows per feature set) and
** scattered into entity order at the end.
*/
#include <stdio.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "util/dl_internal.h"

/* ---- entities grouped by symbol ---- */

typedef struct ent_ref {
    int64_t ts, pos;
} ent_ref;

typedef struct ent_group {
    const char *sym; /* borrowed from the entity column */
    int64_t sym_len;
    int64_t begin, end; /* range of the sorted ent_ref array */
    int64_t ts_min, ts_max;
} ent_group;

typedef struct entity_index {
    ent_group *groups;
    int64_t num_groups;
    ent_ref *refs; /* grouped, ts-sorted within a group */
    int64_t n;
} entity_index;

static int cmp_ent(const void *pa, const void *pb) {
    const ent_ref *a = pa, *b = pb;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static void entity_index_free(entity_index *ix) {
    free(ix->groups);
    free(ix->refs);
    memset(ix, 0, sizeof *ix);
}

/* Hashes symbols to groups, counts, then places refs group by group. */
static int index_entities(const dl_column *sym, const dl_column *ts, entity_index *ix,
                          dl_error *err) {
    int rc = DL_OK;
    int64_t n = sym->length, cap = 64, ng = 0;
    int64_t *slots = NULL, *gid = NULL, *fill = NULL;
    memset(ix, 0, sizeof *ix);
    while (cap < 2 * n) cap *= 2;
    slots = malloc((size_t)cap * sizeof *slots);
    gid = malloc((size_t)(n ? n : 1) * sizeof *gid);
    ix->groups = calloc((size_t)(n ? n : 1), sizeof *ix->groups);
    ix->refs = malloc((size_t)(n ? n : 1) * sizeof *ix->refs);
    if (!slots || !gid || !ix->groups || !ix->refs)
        DL_FAIL(err, DL_ENOMEM, "out of memory indexing %lld entities", (long long)n);
    memset(slots, 0xff, (size_t)cap * sizeof *slots);
    for (int64_t i = 0; i < n; i++) {
        if (!dl_column_is_valid(sym, i) || !dl_column_is_valid(ts, i)) {
            gid[i] = -1; /* no symbol or no time: nulls */
            continue;
        }
        const char *s = sym->data + sym->offsets[i];
        int64_t len = sym->offsets[i + 1] - sym->offsets[i];
        uint64_t h = dl_hash_bytes(s, (size_t)len) & (uint64_t)(cap - 1);
        while (slots[h] >= 0) {
            ent_group *g = &ix->groups[slots[h]];
            /* an empty symbol may have no bytes at all: no memcmp on NULL */
            if (g->sym_len == len && (len == 0 || memcmp(g->sym, s, (size_t)len) == 0)) break;
            h = (h + 1) & (uint64_t)(cap - 1);
        }
        if (slots[h] < 0) {
            slots[h] = ng;
            ix->groups[ng] = (ent_group){s, len, 0, 0, INT64_MAX, INT64_MIN};
            ng++;
        }
        gid[i] = slots[h];
        ix->groups[slots[h]].end++; /* count for now */
    }
    int64_t at = 0;
    for (int64_t g = 0; g < ng; g++) {
        int64_t count = ix->groups[g].end;
        ix->groups[g].begin = at;
        ix->groups[g].end = at;
        at += count;
    }
    for (int64_t i = 0; i < n; i++) {
        if (gid[i] < 0) continue;
        ent_group *g = &ix->groups[gid[i]];
        int64_t t = feat_ts_us(ts, i);
        ix->refs[g->end++] = (ent_ref){t, i};
        g->ts_min = DL_MIN(g->ts_min, t);
        g->ts_max = DL_MAX(g->ts_max, t);
    }
    for (int64_t g = 0; g < ng; g++) {
        ent_ref *r = ix->refs + ix->groups[g].begin;
        int64_t cnt = ix->groups[g].end - ix->groups[g].begin;
        bool sorted = true;
        for (int64_t k = 1; k < cnt && sorted; k++) sorted = r[k - 1].ts <= r[k].ts;
        if (!sorted) qsort(r, (size_t)cnt, sizeof *r, cmp_ent);
    }
    ix->num_groups = ng;
    ix->n = at;
cleanup:
    free(slots);
    free(gid);
    free(fill);
    if (rc != DL_OK) entity_index_free(ix);
    return rc;
}

/* ---- the merge ---- */

typedef struct krow {
    int64_t k, row;
} krow;

static int cmp_krow(const void *pa, const void *pb) {
    const krow *a = pa, *b = pb;
    if (a->k != b->k) return a->k < b->k ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* For the entities refs[0..n) (ts-sorted) picks rows of (ts, aa)[0..m)
** into chosen[0..n) (-1 = none). */
static int pit_merge(const int64_t *ts, const int64_t *aa, int64_t m, const ent_ref *refs,
                     int64_t n, int64_t ttl, int64_t *chosen, dl_error *err) {
    krow *order = NULL;
    bool in_order = true; /* k non-decreasing in row order? */
    for (int64_t i = 1; i < m && in_order; i++)
        in_order = DL_MAX(ts[i - 1], aa[i - 1]) <= DL_MAX(ts[i], aa[i]);
    if (!in_order) {
        order = malloc((size_t)m * sizeof *order);
        if (!order)
            return dl_error_set(err, DL_ENOMEM, "out of memory ordering %lld rows", (long long)m);
        for (int64_t i = 0; i < m; i++) order[i] = (krow){DL_MAX(ts[i], aa[i]), i};
        qsort(order, (size_t)m, sizeof *order, cmp_krow);
    }
    int64_t best = -1, j = 0;
    for (int64_t e = 0; e < n; e++) {
        int64_t t = refs[e].ts;
        for (; j < m; j++) {
            int64_t r = order ? order[j].row : j;
            if (DL_MAX(ts[r], aa[r]) > t) break;
            if (best < 0 || ts[r] > ts[best] || (ts[r] == ts[best] && aa[r] > aa[best])) best = r;
        }
        chosen[e] = best >= 0 && (ttl <= 0 || t - ts[best] <= ttl) ? best : -1;
    }
    free(order);
    return DL_OK;
}

/* ---- reading one symbol's rows ---- */

/* Reads ts, available_at and the feature columns of the files of `dataset`
** overlapping [from, to) into *out (schema `want`). */
static int read_symbol_rows(dl_lake *lake, const char *dataset, int64_t lake_version, int64_t from,
                            int64_t to, const dl_schema *want, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    dl_lake_file_list files = {0};
    dl_parquet_reader *r = NULL;
    dl_table part;
    memset(&part, 0, sizeof part);
    int *cols = calloc((size_t)want->num_fields, sizeof *cols);
    if (!cols) return dl_error_set(err, DL_ENOMEM, "out of memory");
    DL_TRY(dl_table_init(out, want, err));
    DL_TRY(dl_lake_files(lake, dataset, from, to, lake_version, &files, err));
    for (int64_t f = 0; f < files.count; f++) {
        DL_TRY(dl_parquet_open(files.files[f].path, &r, err));
        const dl_schema *fs = dl_parquet_schema(r);
        for (int c = 0; c < want->num_fields; c++) {
            cols[c] = dl_schema_find(fs, want->fields[c].name);
            if (cols[c] < 0 || fs->fields[cols[c]].type != want->fields[c].type)
                DL_FAIL(err, DL_ECORRUPT, "%s: column %s is missing or has another type",
                        files.files[f].path, want->fields[c].name);
        }
        DL_TRY(dl_parquet_read_table(r, cols, want->num_fields, &part, err));
        dl_parquet_close(r);
        r = NULL;
        DL_TRY(feat_table_append(out, &part, 0, part.num_rows, err));
        dl_table_free(&part);
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    dl_parquet_close(r);
    dl_table_free(&part);
    dl_lake_file_list_free(&files);
    free(cols);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}

/* ---- one feature set ---- */

typedef struct ref_plan {
    char name[DL_FEATURE_NAME_MAX + 1];
    char ref[DL_FEATURE_VERSION_MAX + 1];
    char version[DL_FEATURE_VERSION_MAX + 1];
    dl_schema features;
} ref_plan;

static int parse_ref(const char *text, ref_plan *p, dl_error *err) {
    const char *at = strchr(text, '@');
    size_t nlen = at ? (size_t)(at - text) : strlen(text);
    const char *ref = at ? at + 1 : "latest";
    if (nlen == 0 || nlen > DL_FEATURE_NAME_MAX || strlen(ref) > DL_FEATURE_VERSION_MAX)
        return dl_error_set(err, DL_EINVAL,
                            "feature reference \"%s\" is not NAME@VERSION, NAME@ALIAS or "
                            "NAME@latest",
                            text);
    memcpy(p->name, text, nlen);
    p->name[nlen] = 0;
    snprintf(p->ref, sizeof p->ref, "%s", ref);
    return feat_check_name(p->name, "feature set name", err);
}

static int find_dataset(const feat_dataset_row *ds, int64_t n, const ent_group *g) {
    for (int64_t i = 0; i < n; i++) /* usually few symbols; sorted, so stop early */
        if ((int64_t)strlen(ds[i].symbol) == g->sym_len &&
            memcmp(ds[i].symbol, g->sym, (size_t)g->sym_len) == 0)
            return (int)i;
    return -1;
}

/* Computes entity_map[pos] (row of *compact, -1 = null) for one feature set. */
static int get_one(dl_lake *lake, const ref_plan *p, const entity_index *ix, int64_t n_entities,
                   int64_t ttl, dl_table *compact, int64_t *entity_map, dl_error *err) {
    int rc = DL_OK;
    feat_dataset_row *ds = NULL;
    int64_t nds = 0;
    int64_t *chosen = NULL;
    dl_table rows;
    memset(&rows, 0, sizeof rows);
    dl_schema want;
    dl_schema_init(&want);
    DL_TRY(dl_schema_add_timestamp(&want, "ts", DL_UNIT_US, false, err));
    DL_TRY(dl_schema_add_timestamp(&want, "available_at", DL_UNIT_US, false, err));
    for (int c = 0; c < p->features.num_fields; c++) {
        const dl_field *f = &p->features.fields[c];
        if (f->type == DL_TYPE_TIMESTAMP)
            DL_TRY(dl_schema_add_timestamp(&want, f->name, f->unit, true, err));
        else
            DL_TRY(dl_schema_add(&want, f->name, f->type, true, err));
    }
    DL_TRY(dl_table_init(compact, &p->features, err));
    DL_TRY(feat_cat_datasets(lake, p->name, p->version, &ds, &nds, err));
    chosen = malloc((size_t)(n_entities ? n_entities : 1) * sizeof *chosen);
    if (!chosen) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n_entities; i++) entity_map[i] = -1;
    for (int64_t g = 0; g < ix->num_groups; g++) {
        const ent_group *grp = &ix->groups[g];
        int d = find_dataset(ds, nds, grp);
        if (d < 0) continue; /* unknown symbol: nulls */
        int64_t from = ttl > 0 ? grp->ts_min - ttl : INT64_MIN;
        DL_TRY(read_symbol_rows(lake, ds[d].dataset, ds[d].lake_version, from, grp->ts_max + 1,
                                &want, &rows, err));
        int64_t cnt = grp->end - grp->begin;
        DL_TRY(pit_merge(rows.columns[0].values, rows.columns[1].values, rows.num_rows,
                         ix->refs + grp->begin, cnt, ttl, chosen, err));
        int64_t base = compact->num_rows;
        for (int c = 0; c < p->features.num_fields; c++)
            DL_TRY(
                feat_column_gather(&compact->columns[c], &rows.columns[2 + c], chosen, cnt, err));
        DL_TRY(dl_table_seal(compact, err));
        for (int64_t e = 0; e < cnt; e++)
            if (chosen[e] >= 0) entity_map[ix->refs[grp->begin + e].pos] = base + e;
        dl_table_free(&rows);
    }
cleanup:
    dl_table_free(&rows);
    dl_schema_free(&want);
    free(ds);
    free(chosen);
    return rc;
}

/* ---- the call ---- */

static int output_schema(const ref_plan *plans, int n, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    dl_schema_init(out);
    DL_TRY(dl_schema_add(out, "symbol", DL_TYPE_STRING, true, err));
    DL_TRY(dl_schema_add_timestamp(out, "ts", DL_UNIT_US, true, err));
    for (int i = 0; i < n; i++)
        for (int c = 0; c < plans[i].features.num_fields; c++) {
            const dl_field *f = &plans[i].features.fields[c];
            char name[DL_FEATURE_NAME_MAX + 2 + 1024];
            snprintf(name, sizeof name, "%s__%s", plans[i].name, f->name);
            if (f->type == DL_TYPE_TIMESTAMP)
                DL_TRY(dl_schema_add_timestamp(out, name, f->unit, true, err));
            else
                DL_TRY(dl_schema_add(out, name, f->type, true, err));
        }
cleanup:
    return rc;
}

/* symbol and ts of the output: the entity columns, ts in microseconds. */
static int copy_entity_columns(const dl_table *entities, int sym, int ts, dl_table *out,
                               dl_error *err) {
    int rc = DL_OK;
    int64_t n = entities->num_rows;
    DL_TRY(dl_column_append_range(&out->columns[0], &entities->columns[sym], 0, n, err));
    const dl_column *src = &entities->columns[ts];
    dl_column *dst = &out->columns[1];
    for (int64_t i = 0; i < n; i++) {
        if (dl_column_is_valid(src, i))
            DL_TRY(dl_column_append_i64(dst, feat_ts_us(src, i), err));
        else
            DL_TRY(dl_column_append_null(dst, err));
    }
cleanup:
    return rc;
}

int dl_features_get(dl_lake *lake, const dl_table *entities, const char *const *refs, int num_refs,
                    const dl_features_get_options *opts, dl_table *out,
                    dl_feature_resolved *resolved, dl_error *err) {
    DL_REQUIRE(err, lake && entities && out);
    int rc = DL_OK;
    entity_index ix = {0};
    ref_plan *plans = NULL;
    int64_t *map = NULL;
    dl_table compact;
    memset(&compact, 0, sizeof compact);
    dl_schema schema;
    dl_schema_init(&schema);
    memset(out, 0, sizeof *out);
    int64_t ttl = opts ? opts->ttl_us : 0, as_of = opts ? opts->as_of_system_time : 0;
    int sym = dl_schema_find(&entities->schema, "symbol"),
        ts = dl_schema_find(&entities->schema, "ts");
    if (sym < 0 || ts < 0 || entities->schema.fields[sym].type != DL_TYPE_STRING ||
        entities->schema.fields[ts].type != DL_TYPE_TIMESTAMP)
        return dl_error_set(err, DL_EINVAL,
                            "entities need a string column `symbol` and a timestamp column `ts`");
    if (num_refs <= 0) return dl_error_set(err, DL_EINVAL, "no feature set requested");
    if (ttl < 0) return dl_error_set(err, DL_EINVAL, "the TTL must not be negative");
    plans = calloc((size_t)num_refs, sizeof *plans);
    if (!plans) return dl_error_set(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < num_refs; i++) {
        DL_TRY(parse_ref(refs[i], &plans[i], err));
        for (int j = 0; j < i; j++)
            if (strcmp(plans[j].name, plans[i].name) == 0)
                DL_FAIL(err, DL_EINVAL,
                        "feature set %s is requested twice; its columns would clash",
                        plans[i].name);
        DL_TRY(
            dl_features_resolve(lake, plans[i].name, plans[i].ref, as_of, plans[i].version, err));
        DL_TRY(dl_features_schema(lake, plans[i].name, plans[i].version, &plans[i].features, err));
        if (resolved) {
            feat_version_row row;
            DL_TRY(feat_cat_version(lake, plans[i].name, plans[i].version, &row, err));
            memset(&resolved[i], 0, sizeof resolved[i]);
            snprintf(resolved[i].name, sizeof resolved[i].name, "%s", plans[i].name);
            snprintf(resolved[i].version, sizeof resolved[i].version, "%s", plans[i].version);
            memcpy(resolved[i].identity, row.info.identity, sizeof resolved[i].identity);
            feat_version_row_free(&row);
        }
    }
    DL_TRY(output_schema(plans, num_refs, &schema, err));
    DL_TRY(dl_table_init(out, &schema, err));
    DL_TRY(copy_entity_columns(entities, sym, ts, out, err));
    DL_TRY(index_entities(&entities->columns[sym], &entities->columns[ts], &ix, err));
    int64_t n = entities->num_rows;
    map = malloc((size_t)(n ? n : 1) * sizeof *map);
    if (!map) DL_FAIL(err, DL_ENOMEM, "out of memory");
    int col = 2;
    for (int i = 0; i < num_refs; i++) {
        DL_TRY(get_one(lake, &plans[i], &ix, n, ttl, &compact, map, err));
        for (int c = 0; c < plans[i].features.num_fields; c++)
            DL_TRY(feat_column_gather(&out->columns[col++], &compact.columns[c], map, n, err));
        dl_table_free(&compact);
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    entity_index_free(&ix);
    for (int i = 0; plans && i < num_refs; i++) dl_schema_free(&plans[i].features);
    free(plans);
    free(map);
    dl_table_free(&compact);
    dl_schema_free(&schema);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}
