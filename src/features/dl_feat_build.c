/*
** dl_feat_build.c -- `dl features build SPEC`: computes a feature set from
** lake datasets with the built-in kernels and publishes it as a version.
**
** Spec (JSON; hostile input: the shared strict parser, every field checked):
**   {"name": "bars", "version": "1.0.0", "message": "...",
**    "sources": ["BINANCE/SPOT/BTCUSDT/raw/1m"],    dataset names or fnmatch globs (periodic)
**    "from": "2024-01-01", "to": "2024-03-01",       optional time range [from, to)
**    "lag": "0s",                                    available_at = ts + period + lag
**    "kernels": [{"kernel": "returns", "column": "close", "bars": 1, "as": "ret_1"},
**                {"kernel": "rolling_std", "column": "close", "window": "1h"},
**                {"kernel": "ema", "column": "close", "span": 20}, ...]}
**
** The sources are read with dl_query (one dataset at a time, in ts order);
** each symbol's bars are computed in one pass per kernel and appended to
** one lake transaction over all the version's datasets, so at most one
** symbol's bars are in memory.  The version's identity is the SHA-256 of
** the canonical kernel list, range, lag and every source file's checksum:
** the same spec on the same sources is a no-op, the same version with
** another spec or other sources is refused.  Output bytes are
** deterministic (the lineage in the footers carries no time).
*/
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"
#include "util/dl_fault.h"
#include "util/dl_timeparse.h"

#define MAX_KERNELS 256

typedef struct build_spec {
    const char *name, *version, *message;
    const char *const *patterns;
    int num_patterns;
    int64_t from, to, lag_us;
    feat_kernel *kernels;
    int num_kernels;
} build_spec;

static int spec_fail(dl_error *err, const char *what, const char *fmt, const char *arg) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return dl_error_set(err, DL_EINVAL, "%s: %s", what, msg);
}

static bool parse_duration(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    int64_t n = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && n < INT64_C(1000000000)) n = n * 10 + (*p++ - '0');
    int64_t unit = dl_duration_unit_us(*p);
    if (p == s || unit == 0 || p[1] || n > INT64_MAX / unit) return false;
    *out = n * unit;
    return true;
}

static int parse_kernel(const dl_json *j, int index, const char *path, feat_kernel *k,
                        dl_error *err) {
    char what[600];
    snprintf(what, sizeof what, "%s: kernels[%d]", path, index);
    memset(k, 0, sizeof *k);
    const char *name = dl_json_str(dl_json_get(j, "kernel"));
    if (!name) return spec_fail(err, what, "%s", "needs \"kernel\": a kernel name");
    if ((k->kind = feat_kernel_parse(name)) < 0)
        return spec_fail(err, what,
                         "unknown kernel \"%s\" (returns, log_returns, rolling_mean, rolling_std, "
                         "rolling_min, rolling_max, rolling_sum, rolling_count, ema, zscore, vwap, "
                         "realized_vol, true_range, atr, taker_imbalance)",
                         name);
    const char *col = dl_json_str(dl_json_get(j, "column"));
    if (col && (strlen(col) == 0 || strlen(col) > DL_LAKE_COMPONENT_MAX))
        return spec_fail(err, what, "%s", "\"column\" must be a column name");
    snprintf(k->column, sizeof k->column, "%s", col ? col : "close");
    k->bars = 1;
    const dl_json *bars = dl_json_get(j, "bars");
    if (bars && (!dl_json_i64(bars, &k->bars) || k->bars < 1 || k->bars > 1000000))
        return spec_fail(err, what, "%s", "\"bars\" must be an integer 1..1000000");
    const dl_json *w = dl_json_get(j, "window");
    if (feat_kernel_needs_window(k->kind)) {
        if (!w || !parse_duration(dl_json_str(w), &k->window_us) || k->window_us <= 0)
            return spec_fail(err, what, "kernel %s needs \"window\": a duration like 15m, 1h, 1d",
                             name);
    } else if (w) {
        return spec_fail(err, what, "kernel %s takes no \"window\"", name);
    }
    if (k->kind == FEAT_K_EMA) {
        const dl_json *span = dl_json_get(j, "span"), *alpha = dl_json_get(j, "alpha");
        if (span && span->type == DL_JSON_NUMBER && span->number >= 1 && span->number <= 1e9)
            k->alpha = 2.0 / (span->number + 1.0);
        else if (alpha && alpha->type == DL_JSON_NUMBER && alpha->number > 0 && alpha->number <= 1)
            k->alpha = alpha->number;
        else
            return spec_fail(err, what, "%s", "ema needs \"span\" >= 1 or \"alpha\" in (0, 1]");
    }
    const char *as = dl_json_str(dl_json_get(j, "as"));
    if (as)
        snprintf(k->out_name, sizeof k->out_name, "%s", as);
    else if (k->kind == FEAT_K_RETURNS || k->kind == FEAT_K_LOG_RETURNS)
        snprintf(k->out_name, sizeof k->out_name, "%s_%s_%lld", name, k->column,
                 (long long)k->bars);
    else if (k->kind == FEAT_K_EMA)
        snprintf(k->out_name, sizeof k->out_name, "ema_%s_%g", k->column, k->alpha);
    else if (k->kind == FEAT_K_TRUE_RANGE)
        snprintf(k->out_name, sizeof k->out_name, "true_range");
    else
        snprintf(k->out_name, sizeof k->out_name, "%s_%s_%s", name, k->column, dl_json_str(w));
    if (!k->out_name[0] || !strcmp(k->out_name, "symbol") || !strcmp(k->out_name, "ts") ||
        !strcmp(k->out_name, "available_at"))
        return spec_fail(err, what, "output name \"%s\" is empty or reserved", k->out_name);
    return DL_OK;
}

static int parse_spec(const dl_json *r, const char *path, build_spec *s, const char ***pats,
                      dl_error *err) {
    int rc = DL_OK;
    memset(s, 0, sizeof *s);
    s->from = INT64_MIN;
    s->to = INT64_MAX;
    s->name = dl_json_str(dl_json_get(r, "name"));
    s->version = dl_json_str(dl_json_get(r, "version"));
    s->message = dl_json_str(dl_json_get(r, "message"));
    if (!s->name || !s->version)
        return dl_error_set(err, DL_EINVAL, "%s: the spec needs \"name\" and \"version\"", path);
    DL_TRY(feat_check_name(s->name, "feature set name", err));
    DL_TRY(dl_semver_validate(s->version, err));
    const dl_json *src = dl_json_get(r, "sources");
    if (!src || src->type != DL_JSON_ARRAY || src->count < 1 || src->count > 1024)
        return dl_error_set(err, DL_EINVAL, "%s: \"sources\" must list 1..1024 datasets or globs",
                            path);
    *pats = calloc((size_t)src->count, sizeof **pats);
    if (!*pats) return dl_error_set(err, DL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < src->count; i++)
        if (!((*pats)[i] = dl_json_str(&src->items[i])))
            return dl_error_set(err, DL_EINVAL, "%s: sources[%lld] is not a string", path,
                                (long long)i);
    s->patterns = *pats;
    s->num_patterns = (int)src->count;
    const char *t;
    if ((t = dl_json_str(dl_json_get(r, "from"))) && dl_parse_time_us(t, &s->from, err) != DL_OK)
        return dl_error_set(err, DL_EINVAL, "%s: \"from\": %s", path, err->message);
    if ((t = dl_json_str(dl_json_get(r, "to"))) && dl_parse_time_us(t, &s->to, err) != DL_OK)
        return dl_error_set(err, DL_EINVAL, "%s: \"to\": %s", path, err->message);
    if ((t = dl_json_str(dl_json_get(r, "lag"))) && !parse_duration(t, &s->lag_us))
        return dl_error_set(err, DL_EINVAL, "%s: \"lag\" must be a duration like 0s, 30s, 5m",
                            path);
    const dl_json *ks = dl_json_get(r, "kernels");
    if (!ks || ks->type != DL_JSON_ARRAY || ks->count < 1 || ks->count > MAX_KERNELS)
        return dl_error_set(err, DL_EINVAL, "%s: \"kernels\" must list 1..%d kernels", path,
                            MAX_KERNELS);
    s->kernels = calloc((size_t)ks->count, sizeof *s->kernels);
    if (!s->kernels) return dl_error_set(err, DL_ENOMEM, "out of memory");
    s->num_kernels = (int)ks->count;
    for (int i = 0; i < s->num_kernels; i++) {
        DL_TRY(parse_kernel(&ks->items[i], i, path, &s->kernels[i], err));
        for (int j = 0; j < i; j++)
            if (!strcmp(s->kernels[j].out_name, s->kernels[i].out_name))
                DL_FAIL(err, DL_EINVAL,
                        "%s: kernels %d and %d both write column \"%s\" (use \"as\")", path, j, i,
                        s->kernels[i].out_name);
    }
cleanup:
    return rc;
}

/* ---- sources ---- */

typedef struct target {
    dl_dataset_info src;
    char dataset[DL_DATASET_NAME_MAX]; /* the feature dataset */
} target;

static int match_sources(dl_lake *lake, const build_spec *s, target **out, int *count,
                         dl_error *err) {
    int rc = DL_OK;
    dl_dataset_info *all = NULL;
    int64_t n = 0;
    int m = 0;
    target *t = NULL;
    DL_TRY(dl_lake_datasets(lake, &all, &n, err));
    t = calloc((size_t)(n ? n : 1), sizeof *t);
    if (!t) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        bool hit = false;
        for (int p = 0; p < s->num_patterns && !hit; p++)
            hit = fnmatch(s->patterns[p], all[i].name, FNM_PATHNAME) == 0;
        if (!hit || strcmp(all[i].id.type, "features") == 0) continue;
        if (all[i].period_us <= 0)
            DL_FAIL(err, DL_EINVAL, "source %s is not a bar dataset with a fixed period",
                    all[i].name);
        for (int j = 0; j < m; j++)
            if (!strcmp(t[j].src.id.symbol, all[i].id.symbol))
                DL_FAIL(err, DL_EINVAL, "sources %s and %s have the same symbol %s", t[j].src.name,
                        all[i].name, all[i].id.symbol);
        t[m++].src = all[i];
    }
    if (m == 0)
        DL_FAIL(err, DL_ENOTFOUND, "no dataset matches the sources (first: %s)", s->patterns[0]);
    *out = t;
    *count = m;
    t = NULL;
cleanup:
    free(all);
    free(t);
    return rc;
}

/* Canonical kernels as JSON (the transform record, and part of the identity). */
static int kernels_json(const build_spec *s, dl_buf *b) {
    int rc = dl_buf_printf(b,
                           "{\"kind\":\"build\",\"from_us\":%lld,\"to_us\":%lld,\"lag_us\":%lld,"
                           "\"kernels\":[",
                           (long long)s->from, (long long)s->to, (long long)s->lag_us);
    for (int i = 0; i < s->num_kernels && rc == DL_OK; i++) {
        const feat_kernel *k = &s->kernels[i];
        rc = dl_buf_printf(b, "%s{\"kernel\":\"%s\",\"column\":", i ? "," : "",
                           feat_kernel_name(k->kind));
        if (rc == DL_OK) rc = dl_json_append_string(b, k->column);
        if (rc == DL_OK)
            rc = dl_buf_printf(b, ",\"bars\":%lld,\"window_us\":%lld,\"alpha\":%.17g,\"as\":",
                               (long long)k->bars, (long long)k->window_us, k->alpha);
        if (rc == DL_OK) rc = dl_json_append_string(b, k->out_name);
        if (rc == DL_OK) rc = dl_buf_printf(b, "}");
    }
    if (rc == DL_OK) rc = dl_buf_printf(b, "]}");
    if (rc == DL_OK) rc = dl_buf_append_u8(b, 0);
    if (rc == DL_OK) b->len--;
    return rc;
}

/* SHA-256 of the transform and of every source file's checksum. */
static int build_identity(dl_lake *lake, const target *t, int n, const build_spec *s,
                          const char *transform, char out[65], dl_error *err) {
    int rc = DL_OK;
    dl_buf b = DL_BUF_INIT;
    dl_lake_file_list files = {0};
    if (dl_buf_printf(&b, "%s\n", transform) != DL_OK) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        DL_TRY(dl_lake_files(lake, t[i].src.name, s->from, s->to, t[i].src.version, &files, err));
        if (dl_buf_printf(&b, "%s@%lld\n", t[i].src.name, (long long)t[i].src.version) != DL_OK)
            DL_FAIL(err, DL_ENOMEM, "out of memory");
        for (int64_t f = 0; f < files.count; f++)
            if (dl_buf_printf(&b, "%s\n", files.files[f].sha256) != DL_OK)
                DL_FAIL(err, DL_ENOMEM, "out of memory");
        dl_lake_file_list_free(&files);
    }
    dl_sha256_hex(b.data, b.len, out);
cleanup:
    dl_lake_file_list_free(&files);
    dl_buf_free(&b);
    return rc;
}

/* ---- computing one symbol ---- */

typedef struct series {
    double *v;
    uint8_t *ok;
} series;

/* Column `name` of t as doubles (nulls and missing columns invalid). */
static int to_series(const dl_table *t, const char *name, series *s, dl_error *err) {
    int64_t n = t->num_rows;
    s->v = malloc((size_t)(n ? n : 1) * sizeof *s->v);
    s->ok = calloc((size_t)(n ? n : 1), 1);
    if (!s->v || !s->ok) return dl_error_set(err, DL_ENOMEM, "out of memory");
    int c = dl_schema_find(&t->schema, name);
    if (c < 0) return DL_OK;
    const dl_column *col = &t->columns[c];
    for (int64_t i = 0; i < n; i++) {
        if (!dl_column_is_valid(col, i)) continue;
        switch (col->type) {
        case DL_TYPE_DOUBLE:
            s->v[i] = ((const double *)col->values)[i];
            break;
        case DL_TYPE_FLOAT:
            s->v[i] = ((const float *)col->values)[i];
            break;
        case DL_TYPE_INT64:
            s->v[i] = (double)((const int64_t *)col->values)[i];
            break;
        case DL_TYPE_INT32:
            s->v[i] = ((const int32_t *)col->values)[i];
            break;
        default:
            return dl_error_set(err, DL_EINVAL, "column %s is %s, not numeric", name,
                                dl_type_name(col->type));
        }
        s->ok[i] = isfinite(s->v[i]);
    }
    return DL_OK;
}

static void series_free(series *s) {
    free(s->v);
    free(s->ok);
}

/* The kernels over one symbol's bars -> rows (symbol, ts, available_at, features). */
static int compute_symbol(const build_spec *s, const target *t, const dl_table *bars,
                          const dl_schema *out_schema, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    int64_t n = bars->num_rows;
    enum { H, L, C, V, TB, NSER };
    static const char *const base_cols[NSER] = {"high", "low", "close", "volume",
                                                "taker_buy_volume"};
    series base[NSER], in = {0};
    memset(base, 0, sizeof base);
    double *val = NULL;
    uint8_t *ok = NULL;
    DL_TRY(dl_table_init(out, out_schema, err));
    for (int i = 0; i < NSER; i++) DL_TRY(to_series(bars, base_cols[i], &base[i], err));
    const int64_t *ts = bars->columns[dl_schema_find(&bars->schema, "ts")].values;
    feat_bars fb = {n,
                    ts,
                    {base[H].v, base[H].ok},
                    {base[L].v, base[L].ok},
                    {base[C].v, base[C].ok},
                    {base[V].v, base[V].ok},
                    {base[TB].v, base[TB].ok}};
    DL_TRY(dl_column_reserve(&out->columns[0], n, n * (int64_t)strlen(t->src.id.symbol), err));
    for (int64_t i = 0; i < n; i++) {
        DL_TRY(dl_column_append_str(&out->columns[0], t->src.id.symbol, strlen(t->src.id.symbol),
                                    err));
        DL_TRY(dl_column_append_i64(&out->columns[1], ts[i], err));
        DL_TRY(dl_column_append_i64(&out->columns[2], ts[i] + t->src.period_us + s->lag_us, err));
    }
    val = malloc((size_t)(n ? n : 1) * sizeof *val);
    ok = malloc((size_t)(n ? n : 1));
    if (!val || !ok) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int k = 0; k < s->num_kernels; k++) {
        feat_kernel kern = s->kernels[k];
        DL_TRY(to_series(bars, kern.column, &in, err));
        kern.input = (feat_input){in.v, in.ok};
        DL_TRY(feat_kernel_run(&kern, &fb, val, ok, err));
        dl_column *col = &out->columns[3 + k];
        DL_TRY(dl_column_reserve(col, n, 0, err));
        for (int64_t i = 0; i < n; i++)
            DL_TRY(ok[i] && isfinite(val[i]) ? dl_column_append_f64(col, val[i], err)
                                             : dl_column_append_null(col, err));
        series_free(&in);
        memset(&in, 0, sizeof in);
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    for (int i = 0; i < NSER; i++) series_free(&base[i]);
    series_free(&in);
    free(val);
    free(ok);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}

/* Reads one source dataset's bars (the needed columns) in the range. */
static int read_bars(dl_lake *lake, const build_spec *s, const target *t, dl_table *out,
                     dl_error *err) {
    int rc = DL_OK;
    dl_query *q = NULL;
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    const char *names[1] = {t->src.name};
    dl_query_spec qs;
    dl_query_spec_default(&qs);
    qs.datasets = names;
    qs.num_datasets = 1;
    qs.ts_from = s->from;
    qs.ts_to = s->to;
    qs.as_of_version = t->src.version;
    qs.symbol_column = 0;
    qs.threads = 1;
    DL_TRY(dl_query_open(lake, &qs, &q, err));
    DL_TRY(dl_table_init(out, dl_query_schema(q), err));
    DL_TRY(dl_table_init(&batch, dl_query_schema(q), err));
    for (;;) {
        DL_TRY(dl_query_next(q, &batch, err));
        if (batch.num_rows == 0) break;
        DL_TRY(feat_table_append(out, &batch, 0, batch.num_rows, err));
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    dl_table_free(&batch);
    dl_query_close(q);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}

static int output_schema(const build_spec *s, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    dl_schema_init(out);
    DL_TRY(dl_schema_add(out, "symbol", DL_TYPE_STRING, false, err));
    DL_TRY(dl_schema_add_timestamp(out, "ts", DL_UNIT_US, false, err));
    DL_TRY(dl_schema_add_timestamp(out, "available_at", DL_UNIT_US, false, err));
    for (int k = 0; k < s->num_kernels; k++)
        DL_TRY(dl_schema_add(out, s->kernels[k].out_name, DL_TYPE_DOUBLE, true, err));
cleanup:
    return rc;
}

/* ---- the call ---- */

int dl_features_build(dl_lake *lake, const char *spec_text, size_t spec_len, const char *spec_name,
                      bool durable, dl_features_build_result *res, dl_error *err) {
    int rc = DL_OK;
    dl_json_doc *doc = NULL;
    const char **pats = NULL, **src_names = NULL;
    build_spec s = {0};
    target *t = NULL;
    int nt = 0;
    dl_buf transform = DL_BUF_INIT, lineage = DL_BUF_INIT, file_lineage = DL_BUF_INIT,
           schema_json = DL_BUF_INIT;
    feat_source_set sources = {0};
    dl_lake_txn *txn = NULL;
    dl_table bars, rows;
    memset(&bars, 0, sizeof bars);
    memset(&rows, 0, sizeof rows);
    dl_schema schema;
    dl_schema_init(&schema);
    feat_dataset_row *ds = NULL;
    char(*specs)[DL_DATASET_NAME_MAX + 24] = NULL;
    bool present, exists;
    dl_features_build_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    const char *path = spec_name ? spec_name : "spec";
    if (spec_len > (16u << 20))
        return dl_error_set(err, DL_EINVAL, "%s: spec larger than 16 MiB", path);
    DL_TRY(dl_json_parse(spec_text, spec_len, path, &doc, err));
    DL_TRY(parse_spec(dl_json_root(doc), path, &s, &pats, err));
    DL_TRY(match_sources(lake, &s, &t, &nt, err));
    if (kernels_json(&s, &transform) != DL_OK) DL_FAIL(err, DL_ENOMEM, "out of memory");
    dl_features_publish_result *pub = &res->publish;
    snprintf(pub->name, sizeof pub->name, "%s", s.name);
    snprintf(pub->version, sizeof pub->version, "%s", s.version);
    DL_TRY(build_identity(lake, t, nt, &s, (const char *)transform.data, pub->identity, err));

    dl_features_import_options o;
    dl_features_import_options_default(&o);
    o.name = s.name;
    o.version = s.version;
    o.message = s.message;
    o.interval_us = t[0].src.period_us;
    o.lag_us = s.lag_us;
    o.durable = durable;
    DL_TRY(feat_cat_prepare(lake, true, &present, err));
    DL_TRY(feat_check_existing(lake, &o, pub->identity, pub, &exists, err));
    if (exists) goto cleanup;

    /* lineage: every source pinned at the version read */
    specs = calloc((size_t)nt, sizeof *specs);
    src_names = calloc((size_t)nt, sizeof *src_names);
    ds = calloc((size_t)nt, sizeof *ds);
    if (!specs || !src_names || !ds) DL_FAIL(err, DL_ENOMEM, "out of memory");
    char period[DL_LAKE_COMPONENT_MAX + 1];
    snprintf(period, sizeof period, "%s_%.*s", s.version, FEAT_ID_HEX, pub->identity);
    for (int i = 0; i < nt; i++) {
        snprintf(specs[i], sizeof specs[i], "%s@%lld", t[i].src.name, (long long)t[i].src.version);
        src_names[i] = specs[i];
        dl_dataset_id id;
        DL_TRY(dl_dataset_id_make(FEAT_EXCHANGE, s.name, t[i].src.id.symbol, "features", period,
                                  &id, err));
        dl_dataset_format(&id, ds[i].dataset, sizeof ds[i].dataset);
        snprintf(ds[i].symbol, sizeof ds[i].symbol, "%s", t[i].src.id.symbol);
    }
    DL_TRY(feat_resolve_sources(lake, src_names, nt, &sources, err));
    DL_TRY(feat_lineage_json(lake, &o, pub->identity, &sources, (const char *)transform.data, 0,
                             &file_lineage, err));

    /* compute and write, one symbol at a time, in one lake transaction */
    DL_TRY(output_schema(&s, &schema, err));
    for (int i = 0; i < nt; i++) src_names[i] = ds[i].dataset;
    dl_lake_write_options wo;
    dl_lake_write_options_default(&wo);
    wo.durable = durable;
    char message[160];
    snprintf(message, sizeof message, "dl features build: %s@%s", s.name, s.version);
    wo.message = message;
    wo.command = "dl features build";
    const char *kv_keys[] = {FEAT_KV_LINEAGE}, *kv_values[] = {(const char *)file_lineage.data};
    wo.kv_keys = kv_keys;
    wo.kv_values = kv_values;
    wo.num_kv = 1;
    DL_TRY(dl_lake_txn_begin(lake, src_names, nt, &wo, &txn, err));
    int64_t ts_min = INT64_MAX, ts_max = INT64_MIN;
    for (int i = 0; i < nt; i++) {
        DL_TRY(read_bars(lake, &s, &t[i], &bars, err));
        DL_TRY(compute_symbol(&s, &t[i], &bars, &schema, &rows, err));
        res->rows_in += bars.num_rows;
        ds[i].rows = rows.num_rows;
        pub->rows += rows.num_rows;
        if (rows.num_rows) {
            const int64_t *ts = rows.columns[1].values;
            ts_min = DL_MIN(ts_min, ts[0]);
            ts_max = DL_MAX(ts_max, ts[rows.num_rows - 1]);
            DL_TRY(dl_lake_txn_append(txn, ds[i].dataset, &rows, err));
        }
        dl_table_free(&bars);
        dl_table_free(&rows);
    }
    if (pub->rows == 0) DL_FAIL(err, DL_EINVAL, "%s: the sources have no rows in the range", path);
    rc = dl_lake_txn_commit(txn, NULL, err);
    txn = NULL;
    if (rc != DL_OK) goto cleanup;
    dl_fault_point("features-build-data-before-catalog");
    for (int i = 0; i < nt; i++) {
        dl_dataset_info info;
        if (ds[i].rows == 0) continue;
        DL_TRY(dl_lake_dataset_info(lake, ds[i].dataset, &info, err));
        ds[i].lake_version = info.version;
    }
    /* datasets of symbols without rows are not recorded */
    int kept = 0;
    for (int i = 0; i < nt; i++)
        if (ds[i].rows) ds[kept++] = ds[i];

    int64_t now = dl_now_us();
    DL_TRY(feat_lineage_json(lake, &o, pub->identity, &sources, (const char *)transform.data, now,
                             &lineage, err));
    dl_schema only = {schema.num_fields - 3, schema.fields + 3};
    DL_TRY(dl_schema_to_json(&only, &schema_json, err));
    dl_feature_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "%s", s.name);
    snprintf(v.version, sizeof v.version, "%s", s.version);
    memcpy(v.identity, pub->identity, sizeof v.identity);
    snprintf(v.message, sizeof v.message, "%s", s.message ? s.message : "");
    v.committed_at = now;
    v.rows = pub->rows;
    v.symbols = kept;
    v.ts_min = ts_min;
    v.ts_max = ts_max;
    for (int i = 0; i < nt; i++) src_names[i] = sources.names[i];
    feat_publish_rows pr = {&v,
                            (const char *)schema_json.data,
                            (const char *)lineage.data,
                            ds,
                            kept,
                            src_names,
                            sources.versions,
                            sources.count};
    DL_TRY(feat_cat_insert_version(lake, &pr, err));
    pub->symbols = kept;
    pub->committed_at = now;
cleanup:
    if (txn) dl_lake_txn_abort(txn);
    dl_json_doc_free(doc);
    free(pats);
    free(s.kernels);
    free(t);
    free(specs);
    free(src_names);
    free(ds);
    feat_source_set_free(&sources);
    dl_buf_free(&transform);
    dl_buf_free(&lineage);
    dl_buf_free(&file_lineage);
    dl_buf_free(&schema_json);
    dl_table_free(&bars);
    dl_table_free(&rows);
    dl_schema_free(&schema);
    return rc;
}
