/*
** dl_feat_publish.c -- publishing a feature-set version: canonical layout
** (symbol, ts, available_at, features; rows sorted by symbol, ts,
** available_at; exact key duplicates dropped, the last one wins), the
** version's identity (SHA-256 of that canonical content), one lake dataset
** per symbol written in one lake transaction, then one catalog commit that
** makes the version visible.
**
** Crash safety: the lake transaction is atomic; a crash after it and
** before the catalog commit leaves datasets no version points at (an
** unpublished attempt).  Their name carries the identity, so a retry with
** the same content finds identical bytes (no lake change) and publishes,
** and a retry with other content writes other datasets.  Immutability: a
** version that exists is never written again -- same identity is a no-op,
** another identity is refused before anything is written.
*/
#include <stdio.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"
#include "util/dl_fault.h"
#include "lake/dl_lake_internal.h"

void dl_features_import_options_default(dl_features_import_options *opts) {
    DL_REQUIRE_OR_RETURN(opts, );
    memset(opts, 0, sizeof *opts);
    opts->interval_us = -1;
    opts->durable = true;
}

/* The input's roles: which column is what. */
typedef struct layout {
    int entity, ts, available_at; /* column indices (available_at -1 = derived) */
    int *features;
    int num_features;
} layout;

static bool is_time_column(const dl_field *f) {
    return f->type == DL_TYPE_TIMESTAMP;
}

static int find_role(const dl_table *rows, const char *col, const char *what, int *out,
                     dl_error *err) {
    *out = dl_schema_find(&rows->schema, col);
    if (*out < 0) {
        char names[512] = "";
        for (int i = 0; i < rows->schema.num_fields; i++) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                     rows->schema.fields[i].name);
        }
        return dl_error_set(err, DL_ENOTFOUND, "%s column '%s' does not exist (columns: %s)", what,
                            col, names);
    }
    return DL_OK;
}

static int plan_layout(const dl_table *rows, const dl_features_import_options *o, layout *l,
                       dl_error *err) {
    int rc = DL_OK;
    memset(l, 0, sizeof *l);
    l->available_at = -1;
    if (!o->entity_column || !o->ts_column)
        return dl_error_set(err, DL_EINVAL, "the entity and ts columns must be named");
    DL_TRY(find_role(rows, o->entity_column, "entity", &l->entity, err));
    DL_TRY(find_role(rows, o->ts_column, "ts", &l->ts, err));
    if (rows->schema.fields[l->entity].type != DL_TYPE_STRING)
        DL_FAIL(err, DL_EINVAL, "entity column '%s' must hold strings (symbols), not %s",
                o->entity_column, dl_type_name(rows->schema.fields[l->entity].type));
    if (!is_time_column(&rows->schema.fields[l->ts]))
        DL_FAIL(err, DL_EINVAL, "ts column '%s' must be a timestamp, not %s", o->ts_column,
                dl_type_name(rows->schema.fields[l->ts].type));
    if (o->available_at_column) {
        DL_TRY(find_role(rows, o->available_at_column, "available_at", &l->available_at, err));
        if (!is_time_column(&rows->schema.fields[l->available_at]))
            DL_FAIL(err, DL_EINVAL, "available_at column '%s' must be a timestamp, not %s",
                    o->available_at_column,
                    dl_type_name(rows->schema.fields[l->available_at].type));
    }
    if (l->entity == l->ts || l->entity == l->available_at || l->ts == l->available_at)
        DL_FAIL(err, DL_EINVAL, "the entity, ts and available_at columns must be different");
    l->features = calloc((size_t)rows->schema.num_fields + 1, sizeof *l->features);
    if (!l->features) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < rows->schema.num_fields; i++) {
        if (i == l->entity || i == l->ts || i == l->available_at) continue;
        const char *n = rows->schema.fields[i].name;
        if (!strcmp(n, "symbol") || !strcmp(n, "ts") || !strcmp(n, "available_at"))
            DL_FAIL(err, DL_EINVAL,
                    "feature column '%s' has a reserved name (symbol, ts, available_at); rename it",
                    n);
        l->features[l->num_features++] = i;
    }
    if (l->num_features == 0) DL_FAIL(err, DL_EINVAL, "the input has no feature column");
cleanup:
    if (rc != DL_OK) {
        free(l->features);
        l->features = NULL; /* the caller frees l->features too */
    }
    return rc;
}

/* ---- canonical order ---- */

typedef struct row_key {
    const char *sym;
    int64_t sym_len;
    int64_t ts, aa, pos;
} row_key;

static int cmp_keys(const void *pa, const void *pb) {
    const row_key *a = pa, *b = pb;
    int c = dl_bytes_cmp(a->sym, (size_t)a->sym_len, b->sym, (size_t)b->sym_len);
    if (c) return c;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->aa != b->aa) return a->aa < b->aa ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static bool same_key(const row_key *a, const row_key *b) {
    return a->ts == b->ts && a->aa == b->aa &&
           dl_bytes_cmp(a->sym, (size_t)a->sym_len, b->sym, (size_t)b->sym_len) == 0;
}

/* Sorts the rows into canonical order and drops key duplicates (the last
** input row of equal keys stays).  keys[0..*kept) is the result. */
static int canonical_keys(const dl_table *rows, const layout *l, int64_t extra_us, row_key **out,
                          int64_t *kept, dl_error *err) {
    int rc = DL_OK;
    int64_t n = rows->num_rows;
    const dl_column *sym = &rows->columns[l->entity], *ts = &rows->columns[l->ts];
    const dl_column *aa = l->available_at >= 0 ? &rows->columns[l->available_at] : NULL;
    row_key *keys = calloc((size_t)(n ? n : 1), sizeof *keys);
    if (!keys) return dl_error_set(err, DL_ENOMEM, "out of memory sorting %lld rows", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (!dl_column_is_valid(sym, i) || !dl_column_is_valid(ts, i) ||
            (aa && !dl_column_is_valid(aa, i)))
            DL_FAIL(err, DL_EINVAL, "row %lld: the entity, ts and available_at must not be empty",
                    (long long)i + 1);
        row_key *k = &keys[i];
        k->sym = sym->data + sym->offsets[i];
        k->sym_len = sym->offsets[i + 1] - sym->offsets[i];
        if (k->sym_len == 0)
            DL_FAIL(err, DL_EINVAL, "row %lld: empty entity (symbol)", (long long)i + 1);
        k->ts = feat_ts_us(ts, i);
        k->aa = aa ? feat_ts_us(aa, i) : k->ts + extra_us;
        k->pos = i;
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_keys);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i + 1 < n && same_key(&keys[i], &keys[i + 1])) continue;
        keys[m++] = keys[i];
    }
    *out = keys;
    *kept = m;
    keys = NULL;
cleanup:
    free(keys);
    return rc;
}

/* The canonical table: symbol, ts (us), available_at (us), features. */
static int build_canonical(const dl_table *rows, const layout *l, const row_key *keys, int64_t n,
                           dl_table *out, dl_error *err) {
    int rc = DL_OK;
    int64_t *idx = NULL;
    dl_schema s;
    dl_schema_init(&s);
    memset(out, 0, sizeof *out);
    DL_TRY(dl_schema_add(&s, "symbol", DL_TYPE_STRING, false, err));
    DL_TRY(dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, err));
    DL_TRY(dl_schema_add_timestamp(&s, "available_at", DL_UNIT_US, false, err));
    for (int f = 0; f < l->num_features; f++) {
        const dl_field *fd = &rows->schema.fields[l->features[f]];
        if (fd->type == DL_TYPE_TIMESTAMP)
            DL_TRY(dl_schema_add_timestamp(&s, fd->name, fd->unit, true, err));
        else
            DL_TRY(dl_schema_add(&s, fd->name, fd->type, true, err));
    }
    DL_TRY(dl_table_init(out, &s, err));
    idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
    if (!idx) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) idx[i] = keys[i].pos;
    DL_TRY(feat_column_gather(&out->columns[0], &rows->columns[l->entity], idx, n, err));
    DL_TRY(dl_column_reserve(&out->columns[1], n, 0, err));
    DL_TRY(dl_column_reserve(&out->columns[2], n, 0, err));
    for (int64_t i = 0; i < n; i++) {
        ((int64_t *)out->columns[1].values)[i] = keys[i].ts;
        ((int64_t *)out->columns[2].values)[i] = keys[i].aa;
    }
    out->columns[1].length = out->columns[2].length = n;
    for (int f = 0; f < l->num_features; f++)
        DL_TRY(
            feat_column_gather(&out->columns[3 + f], &rows->columns[l->features[f]], idx, n, err));
    DL_TRY(dl_table_seal(out, err));
cleanup:
    free(idx);
    dl_schema_free(&s);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}

/* SHA-256 over the schema and every value (null marked, never its slot). */
static int content_identity(const dl_table *t, char out[65], dl_error *err) {
    int rc = DL_OK;
    dl_buf b = DL_BUF_INIT;
    DL_TRY(dl_schema_to_json(&t->schema, &b, err));
    for (int c = 0; c < t->schema.num_fields; c++) {
        const dl_column *col = &t->columns[c];
        bool var = col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY;
        size_t w = dl_type_width(col->type);
        for (int64_t r = 0; r < t->num_rows && rc == DL_OK; r++) {
            if (!dl_column_is_valid(col, r)) {
                rc = dl_buf_append_u8(&b, 0);
                continue;
            }
            rc = dl_buf_append_u8(&b, 1);
            if (rc != DL_OK) break;
            if (var) {
                int64_t o = col->offsets[r], len = col->offsets[r + 1] - o;
                rc = dl_buf_append_u32le(&b, (uint32_t)len);
                if (rc == DL_OK) rc = dl_buf_append(&b, col->data + o, (size_t)len);
            } else {
                rc = dl_buf_append(&b, (const uint8_t *)col->values + (size_t)r * w, w);
            }
        }
        if (rc != DL_OK) DL_FAIL(err, DL_ENOMEM, "out of memory hashing the feature rows");
    }
    dl_sha256_hex(b.data, b.len, out);
cleanup:
    dl_buf_free(&b);
    return rc;
}

/* ---- lineage ---- */

void feat_source_set_free(feat_source_set *s) {
    free(s->names);
    free(s->versions);
    free(s->period_us);
    memset(s, 0, sizeof *s);
}

/* Parses "DATASET[@VERSION]" entries and pins each to a lake version. */
int feat_resolve_sources(dl_lake *lake, const char *const *specs, int n, feat_source_set *out,
                         dl_error *err) {
    int rc = DL_OK;
    memset(out, 0, sizeof *out);
    if (n <= 0) return DL_OK;
    out->names = calloc((size_t)n, sizeof *out->names);
    out->versions = calloc((size_t)n, sizeof *out->versions);
    out->period_us = calloc((size_t)n, sizeof *out->period_us);
    if (!out->names || !out->versions || !out->period_us) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        char name[DL_DATASET_NAME_MAX + 32];
        snprintf(name, sizeof name, "%s", specs[i]);
        char *at = strchr(name, '@');
        int64_t want = 0;
        if (at) {
            *at = 0;
            char *end;
            want = strtoll(at + 1, &end, 10);
            if (*end || want < 1)
                DL_FAIL(err, DL_EINVAL,
                        "source \"%s\": the version after '@' must be a number >= 1", specs[i]);
        }
        dl_dataset_info info;
        rc = dl_lake_dataset_info(lake, name, &info, err);
        if (rc != DL_OK) {
            dl_error_prefix(err, "source %s", specs[i]);
            goto cleanup;
        }
        if (want > info.version)
            DL_FAIL(err, DL_ENOTFOUND, "source %s: dataset %s has no version %lld (current %lld)",
                    specs[i], info.name, (long long)want, (long long)info.version);
        snprintf(out->names[i], DL_DATASET_NAME_MAX, "%s", info.name);
        out->versions[i] = want ? want : info.version;
        out->period_us[i] = info.period_us;
        out->count++;
    }
cleanup:
    if (rc != DL_OK) feat_source_set_free(out);
    return rc;
}

/* {"dataset":..,"lake_version":N,"files":[{"path":..,"sha256":..},..]} per source. */
static int append_sources_json(dl_lake *lake, const feat_source_set *s, dl_buf *b, dl_error *err) {
    int rc = DL_OK;
    dl_lake_file_list files = {0};
    size_t root_len = strlen(dl_lake_root(lake));
    DL_TRY(dl_buf_printf(b, "["));
    for (int i = 0; i < s->count; i++) {
        DL_TRY(dl_lake_files(lake, s->names[i], INT64_MIN, INT64_MAX, s->versions[i], &files, err));
        DL_TRY(dl_buf_printf(b, "%s{\"dataset\":", i ? "," : ""));
        DL_TRY(dl_json_append_string(b, s->names[i]));
        DL_TRY(dl_buf_printf(b, ",\"lake_version\":%lld,\"files\":[", (long long)s->versions[i]));
        for (int64_t f = 0; f < files.count; f++) {
            const char *p = files.files[f].path;
            if (strlen(p) > root_len && p[root_len] == '/') p += root_len + 1;
            DL_TRY(dl_buf_printf(b, "%s{\"path\":", f ? "," : ""));
            DL_TRY(dl_json_append_string(b, p));
            DL_TRY(dl_buf_printf(b, ",\"rows\":%lld,\"sha256\":\"%s\"}",
                                 (long long)files.files[f].rows, files.files[f].sha256));
        }
        DL_TRY(dl_buf_printf(b, "]}"));
        dl_lake_file_list_free(&files);
    }
    DL_TRY(dl_buf_printf(b, "]"));
cleanup:
    dl_lake_file_list_free(&files);
    if (rc == DL_ENOMEM) dl_error_set(err, rc, "out of memory writing the lineage");
    return rc;
}

/* The lineage record; with now == 0 without time and message (the form
** written into every feature file's footer, so rebuilt files keep their bytes). */
int feat_lineage_json(dl_lake *lake, const dl_features_import_options *o, const char *identity,
                      const feat_source_set *sources, const char *transform_json, int64_t now,
                      dl_buf *b, dl_error *err) {
    int rc = DL_OK;
    char when[48];
    dl_format_timestamp(now, DL_UNIT_US, when, sizeof when);
    DL_TRY(dl_buf_printf(b, "{\"feature_set\":"));
    DL_TRY(dl_json_append_string(b, o->name));
    DL_TRY(dl_buf_printf(b, ",\"version\":"));
    DL_TRY(dl_json_append_string(b, o->version));
    DL_TRY(dl_buf_printf(b, ",\"identity\":\"%s\",\"dl_version\":\"%s\"", identity,
                         DL_VERSION_STRING));
    if (now) { /* the catalog's record; files get the time-free part (deterministic bytes) */
        DL_TRY(dl_buf_printf(b, ",\"created_at\":\"%s\",\"message\":", when));
        DL_TRY(dl_json_append_string(b, o->message ? o->message : ""));
    }
    DL_TRY(dl_buf_printf(b, ",\"available_at\":"));
    if (o->available_at_column) {
        DL_TRY(dl_buf_printf(b, "{\"column\":"));
        DL_TRY(dl_json_append_string(b, o->available_at_column));
        DL_TRY(dl_buf_printf(b, "}"));
    } else {
        DL_TRY(dl_buf_printf(b, "{\"interval_us\":%lld,\"lag_us\":%lld}",
                             (long long)(o->interval_us > 0 ? o->interval_us : 0),
                             (long long)o->lag_us));
    }
    DL_TRY(dl_buf_printf(b, ",\"transform\":%s,\"sources\":",
                         transform_json ? transform_json : "{\"kind\":\"external\"}"));
    DL_TRY(append_sources_json(lake, sources, b, err));
    DL_TRY(dl_buf_printf(b, "}"));
    DL_TRY(dl_buf_append_u8(b, 0));
    b->len--;
cleanup:
    if (rc == DL_ENOMEM) dl_error_set(err, rc, "out of memory writing the lineage");
    return rc;
}

/* ---- the lake write ---- */

typedef struct symbol_run {
    int64_t begin, end; /* rows of the canonical table */
} symbol_run;

/* Splits the canonical table into runs of one symbol and names their
** datasets; refuses symbols that are not valid lake names or that collide
** once normalised ("btc" and "BTC"). */
static int plan_datasets(const dl_table *canon, const dl_features_import_options *o,
                         const char *identity, feat_dataset_row **out, symbol_run **runs_out,
                         int64_t *count, dl_error *err) {
    int rc = DL_OK;
    const dl_column *sym = &canon->columns[0];
    int64_t n = 0, cap = 0;
    feat_dataset_row *rows = NULL;
    symbol_run *runs = NULL;
    char period[DL_LAKE_COMPONENT_MAX + 1];
    snprintf(period, sizeof period, "%s_%.*s", o->version, FEAT_ID_HEX, identity);
    for (int64_t i = 0; i < canon->num_rows;) {
        int64_t j = i + 1, len = sym->offsets[i + 1] - sym->offsets[i];
        const char *s = sym->data + sym->offsets[i];
        while (j < canon->num_rows && sym->offsets[j + 1] - sym->offsets[j] == len &&
               memcmp(sym->data + sym->offsets[j], s, (size_t)len) == 0)
            j++;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            feat_dataset_row *g = realloc(rows, (size_t)cap * sizeof *rows);
            if (g) rows = g;
            symbol_run *gr = realloc(runs, (size_t)cap * sizeof *runs);
            if (gr) runs = gr;
            if (!g || !gr) DL_FAIL(err, DL_ENOMEM, "out of memory");
        }
        feat_dataset_row *d = &rows[n];
        memset(d, 0, sizeof *d);
        if ((size_t)len >= sizeof d->symbol)
            DL_FAIL(err, DL_EINVAL, "symbol \"%.40s...\" is too long", s);
        memcpy(d->symbol, s, (size_t)len);
        dl_dataset_id id;
        rc = dl_dataset_id_make(FEAT_EXCHANGE, o->name, d->symbol, "features", period, &id, err);
        if (rc != DL_OK) {
            dl_error_prefix(err, "entity \"%s\"", d->symbol);
            goto cleanup;
        }
        dl_dataset_format(&id, d->dataset, sizeof d->dataset);
        d->rows = j - i;
        runs[n] = (symbol_run){i, j};
        n++;
        i = j;
    }
    for (int64_t a = 0; a < n; a++)
        for (int64_t b = a + 1; b < n; b++)
            if (strcmp(rows[a].dataset, rows[b].dataset) == 0)
                DL_FAIL(err, DL_EINVAL,
                        "entities \"%s\" and \"%s\" map to the same lake symbol; symbols are "
                        "compared without case",
                        rows[a].symbol, rows[b].symbol);
    *out = rows;
    *runs_out = runs;
    *count = n;
    rows = NULL;
    runs = NULL;
cleanup:
    free(rows);
    free(runs);
    return rc;
}

static int write_datasets(dl_lake *lake, const dl_table *canon, feat_dataset_row *ds,
                          const symbol_run *runs, int64_t n, const dl_features_import_options *o,
                          const char *file_lineage, dl_error *err) {
    int rc = DL_OK;
    dl_lake_txn *txn = NULL;
    const char **names = calloc((size_t)(n ? n : 1), sizeof *names);
    dl_table part;
    memset(&part, 0, sizeof part);
    char message[160];
    snprintf(message, sizeof message, "dl features: %s@%s", o->name, o->version);
    if (!names) return dl_error_set(err, DL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) names[i] = ds[i].dataset;
    dl_lake_write_options wo;
    dl_lake_write_options_default(&wo);
    wo.durable = o->durable;
    wo.message = message;
    wo.command = "dl features publish";
    const char *kv_keys[] = {FEAT_KV_LINEAGE}, *kv_values[] = {file_lineage};
    wo.kv_keys = kv_keys;
    wo.kv_values = kv_values;
    wo.num_kv = 1;
    DL_TRY(dl_lake_txn_begin(lake, names, (int)n, &wo, &txn, err));
    for (int64_t i = 0; i < n; i++) {
        DL_TRY(dl_table_init(&part, &canon->schema, err));
        DL_TRY(feat_table_append(&part, canon, runs[i].begin, runs[i].end - runs[i].begin, err));
        DL_TRY(dl_table_seal(&part, err));
        DL_TRY(dl_lake_txn_append(txn, ds[i].dataset, &part, err));
        dl_table_free(&part);
    }
    rc = dl_lake_txn_commit(txn, NULL, err);
    txn = NULL;
    if (rc != DL_OK) goto cleanup;
    for (int64_t i = 0; i < n; i++) {
        dl_dataset_info info;
        DL_TRY(dl_lake_dataset_info(lake, ds[i].dataset, &info, err));
        ds[i].lake_version = info.version;
    }
cleanup:
    if (txn) dl_lake_txn_abort(txn);
    dl_table_free(&part);
    free(names);
    return rc;
}

/* An existing version: same identity -> unchanged; else a conflict. */
int feat_check_existing(dl_lake *lake, const dl_features_import_options *o, const char *identity,
                        dl_features_publish_result *res, bool *exists, dl_error *err) {
    feat_version_row row;
    *exists = false;
    int rc = feat_cat_version(lake, o->name, o->version, &row, err);
    if (rc == DL_ENOTFOUND) {
        dl_error_clear(err);
        char other[DL_FEATURE_NAME_MAX + 1];
        rc = feat_cat_case_clash(lake, o->name, other, sizeof other, err);
        if (rc == DL_OK && other[0])
            rc = dl_error_set(err, DL_ECONFLICT,
                              "feature set %s exists; names differing only in case are refused "
                              "(the lake path upper-cases them)",
                              other);
        if (rc == DL_OK)
            rc = feat_cat_precedence_clash(lake, o->name, o->version, other, sizeof other, err);
        if (rc == DL_OK && other[0])
            rc = dl_error_set(err, DL_ECONFLICT,
                              "feature set %s already has version %s, which has the same SemVer "
                              "precedence as %s (build metadata is ignored)",
                              o->name, other, o->version);
        return rc;
    }
    if (rc != DL_OK) return rc;
    *exists = true;
    if (strcmp(row.info.identity, identity) != 0)
        rc = dl_error_set(err, DL_ECONFLICT,
                          "feature set %s version %s is already published with different data "
                          "(identity %.12s, this data %.12s); a published version is immutable: "
                          "publish a new version",
                          o->name, o->version, row.info.identity, identity);
    else if (row.info.deleted_at)
        rc = dl_error_set(err, DL_ECONFLICT,
                          "feature set %s version %s was deleted; version strings are not reused",
                          o->name, o->version);
    res->unchanged = rc == DL_OK;
    res->committed_at = row.info.committed_at;
    res->rows = row.info.rows;
    res->symbols = row.info.symbols;
    feat_version_row_free(&row);
    return rc;
}

int dl_features_publish(dl_lake *lake, const dl_table *rows, const dl_features_import_options *o,
                        const char *transform_json, dl_features_publish_result *res,
                        dl_error *err) {
    DL_REQUIRE(err, lake && rows);
    int rc = DL_OK;
    layout l = {0};
    row_key *keys = NULL;
    int64_t kept = 0, nds = 0;
    dl_table canon;
    memset(&canon, 0, sizeof canon);
    feat_dataset_row *ds = NULL;
    symbol_run *runs = NULL;
    feat_source_set sources = {0};
    dl_buf lineage = DL_BUF_INIT, schema_json = DL_BUF_INIT, file_lineage = DL_BUF_INIT;
    dl_features_publish_result local;
    bool present, exists = false;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    DL_TRY(feat_check_name(o->name, "feature set name", err));
    DL_TRY(dl_semver_validate(o->version, err));
    snprintf(res->name, sizeof res->name, "%s", o->name);
    snprintf(res->version, sizeof res->version, "%s", o->version);
    DL_TRY(feat_resolve_sources(lake, o->derived_from, o->num_derived_from, &sources, err));
    DL_TRY(plan_layout(rows, o, &l, err));
    int64_t interval =
        o->interval_us >= 0 ? o->interval_us : (sources.count ? sources.period_us[0] : 0);
    dl_features_import_options eff = *o;
    eff.interval_us = interval;
    DL_TRY(canonical_keys(rows, &l, interval + o->lag_us, &keys, &kept, err));
    if (kept == 0) DL_FAIL(err, DL_EINVAL, "the input has no rows");
    DL_TRY(build_canonical(rows, &l, keys, kept, &canon, err));
    DL_TRY(content_identity(&canon, res->identity, err));
    DL_TRY(feat_cat_prepare(lake, true, &present, err));
    DL_TRY(feat_check_existing(lake, o, res->identity, res, &exists, err));
    if (exists) goto cleanup; /* identical content: nothing to do */
    DL_TRY(plan_datasets(&canon, o, res->identity, &ds, &runs, &nds, err));
    DL_TRY(feat_lineage_json(lake, &eff, res->identity, &sources, transform_json, 0, &file_lineage,
                             err));
    DL_TRY(write_datasets(lake, &canon, ds, runs, nds, o, (const char *)file_lineage.data, err));
    dl_fault_point("features-data-before-catalog");

    int64_t now = dl_now_us();
    dl_feature_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "%s", o->name);
    snprintf(v.version, sizeof v.version, "%s", o->version);
    memcpy(v.identity, res->identity, sizeof v.identity);
    snprintf(v.message, sizeof v.message, "%s", o->message ? o->message : "");
    v.committed_at = now;
    v.rows = kept;
    v.symbols = nds;
    v.ts_min = INT64_MAX;
    v.ts_max = INT64_MIN;
    for (int64_t i = 0; i < kept; i++) {
        v.ts_min = DL_MIN(v.ts_min, keys[i].ts);
        v.ts_max = DL_MAX(v.ts_max, keys[i].ts);
    }
    dl_schema features;
    dl_schema_init(&features);
    rc = dl_schema_copy(&features, &canon.schema, err);
    if (rc == DL_OK) {
        /* the stored schema lists the feature columns only */
        dl_schema only = {features.num_fields - 3, features.fields + 3};
        rc = dl_schema_to_json(&only, &schema_json, err);
    }
    dl_schema_free(&features);
    if (rc != DL_OK) goto cleanup;
    DL_TRY(
        feat_lineage_json(lake, &eff, res->identity, &sources, transform_json, now, &lineage, err));
    const char **src_names = calloc((size_t)sources.count + 1, sizeof *src_names);
    if (!src_names) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < sources.count; i++) src_names[i] = sources.names[i];
    feat_publish_rows pr = {&v,
                            (const char *)schema_json.data,
                            (const char *)lineage.data,
                            ds,
                            nds,
                            src_names,
                            sources.versions,
                            sources.count};
    rc = feat_cat_insert_version(lake, &pr, err);
    free(src_names);
    if (rc != DL_OK) goto cleanup;
    res->rows = kept;
    res->symbols = nds;
    res->committed_at = now;
cleanup:
    free(l.features);
    free(keys);
    dl_table_free(&canon);
    free(ds);
    free(runs);
    feat_source_set_free(&sources);
    dl_buf_free(&lineage);
    dl_buf_free(&schema_json);
    dl_buf_free(&file_lineage);
    return rc;
}
