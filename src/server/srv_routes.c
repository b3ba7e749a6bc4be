/*
** srv_routes.c -- the route table the server dispatches on (and the
** OpenAPI document is generated from), the path matcher, and the metadata
** handlers: health, datasets, one dataset's info, schema, gaps, history and
** files.  All metadata answers come from the catalog; no Parquet file is
** opened.  Times are ISO-8601 UTC strings plus epoch-ms twins.
*/
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "srv_internal.h"

#define DATASET_PATH "/v1/datasets/{exchange}/{market}/{symbol}/{type}/{period}"

static const char *const no_params[] = {NULL};
static const char *const query_params[] = {"dataset",       "from",   "to",     "columns", "where",
                                           "as_of_version", "as_of",  "limit",  "tail",    "order",
                                           "period",        "format", "cursor", NULL};
static const char *const files_params[] = {"from", "to", "as_of_version", NULL};

const srv_route srv_routes[] = {
    {"GET", "/v1/health", srv_h_health, SRV_SCOPE_NONE, false,
     "liveness and version (no token needed)", no_params, "application/json"},
    {"GET", "/metrics", srv_h_metrics, SRV_SCOPE_NONE, false,
     "Prometheus metrics (text format 0.0.4)", no_params, "text/plain"},
    {"GET", "/v1/openapi.json", srv_h_openapi, SRV_SCOPE_NONE, false,
     "this API as an OpenAPI 3.1 document", no_params, "application/json"},
    {"GET", "/v1/datasets", srv_h_datasets, SRV_SCOPE_READ, false,
     "every dataset the token may read: time range, rows, bytes, versions, schema", no_params,
     "application/json"},
    {"GET", DATASET_PATH, srv_h_dataset_info, SRV_SCOPE_READ, true,
     "one dataset: time range, rows, files, bytes, version, gaps, schema", no_params,
     "application/json"},
    {"GET", DATASET_PATH "/schema", srv_h_dataset_schema, SRV_SCOPE_READ, true,
     "the dataset's union schema", no_params, "application/json"},
    {"GET", DATASET_PATH "/gaps", srv_h_dataset_gaps, SRV_SCOPE_READ, true,
     "missing periods of a periodic dataset", no_params, "application/json"},
    {"GET", DATASET_PATH "/history", srv_h_dataset_history, SRV_SCOPE_READ, true,
     "the dataset's versions, oldest first", no_params, "application/json"},
    {"GET", DATASET_PATH "/files", srv_h_dataset_files, SRV_SCOPE_READ, true,
     "day files with rows, bytes, time range and SHA-256 (optionally as of a version)",
     files_params, "application/json"},
    {"GET", "/v1/query", srv_h_query, SRV_SCOPE_READ, false,
     "rows of a dataset or glob: range, columns, filter, as-of, limit/tail, resample; "
     "json (paged by cursor), ndjson, csv, arrow, parquet",
     query_params,
     "application/json,application/x-ndjson,text/csv,application/vnd.apache.arrow.stream,"
     "application/vnd.apache.parquet"},
};
const int srv_num_routes = (int)(sizeof srv_routes / sizeof srv_routes[0]);

/* Matches one route pattern against path segments; binds {name} segments. */
static bool pattern_match(const char *pattern, const char *const *parts, int num_parts,
                          const char **params) {
    const char *p = pattern;
    int i = 0, np = 0;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= num_parts) return false;
        if (p[0] == '{') {
            params[np++] = parts[i];
        } else if (strlen(parts[i]) != len || memcmp(parts[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    return i == num_parts;
}

const srv_route *srv_route_match(const char *method, const char *const *parts, int num_parts,
                                 const char **params, bool *method_mismatch) {
    *method_mismatch = false;
    bool head = strcmp(method, "HEAD") == 0;
    for (int i = 0; i < srv_num_routes; i++) {
        if (!pattern_match(srv_routes[i].pattern, parts, num_parts, params)) continue;
        if (strcmp(srv_routes[i].method, method) == 0 ||
            (head && strcmp(srv_routes[i].method, "GET") == 0))
            return &srv_routes[i];
        *method_mismatch = true;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Handlers                                                             */
/* ------------------------------------------------------------------ */

int srv_h_health(srv_req *r) {
    dl_text b = {0};
    dl_text_printf(&b,
                   "{\"status\":\"ok\",\"version\":\"%s\",\"auth\":%s,\"in_flight\":%lld,"
                   "\"connections\":%lld}\n",
                   DL_VERSION_STRING, r->srv->auth ? "true" : "false", (long long)r->srv->in_flight,
                   (long long)r->srv->connections);
    return srv_reply_buf(r, 200, "application/json", &b);
}

int srv_h_metrics(srv_req *r) {
    dl_text b = {0};
    srv_metrics_render(r->srv, &b);
    return srv_reply_buf(r, 200, "text/plain; version=0.0.4", &b);
}

int srv_h_openapi(srv_req *r) {
    dl_text b = {0};
    srv_openapi_render(&b);
    return srv_reply_buf(r, 200, "application/json", &b);
}

static void put_schema(dl_text *b, const dl_schema *schema) {
    dl_text_puts(b, "[");
    for (int i = 0; i < schema->num_fields; i++) {
        const dl_field *f = &schema->fields[i];
        dl_text_puts(b, i ? ",{\"name\":" : "{\"name\":");
        srv_json_cstr(b, f->name);
        dl_text_printf(b, ",\"type\":\"%s\"", dl_type_name(f->type));
        if (f->type == DL_TYPE_TIMESTAMP)
            dl_text_printf(b, ",\"unit\":\"%s\",\"utc\":%s", dl_unit_name(f->unit),
                           f->utc ? "true" : "false");
        dl_text_printf(b, ",\"nullable\":%s}", f->nullable ? "true" : "false");
    }
    dl_text_puts(b, "]");
}

/* The catalog facts of one dataset as a JSON object (without the braces'
** closing, so callers can add members). */
static void put_info(dl_text *b, const dl_dataset_info *d) {
    dl_text_puts(b, "{\"name\":");
    srv_json_cstr(b, d->name);
    dl_text_puts(b, ",\"exchange\":");
    srv_json_cstr(b, d->id.exchange);
    dl_text_puts(b, ",\"market\":");
    srv_json_cstr(b, d->id.market);
    dl_text_puts(b, ",\"symbol\":");
    srv_json_cstr(b, d->id.symbol);
    dl_text_puts(b, ",\"type\":");
    srv_json_cstr(b, d->id.type);
    dl_text_puts(b, ",\"period\":");
    srv_json_cstr(b, d->id.period);
    bool empty = d->files == 0;
    dl_text_puts(b, ",\"first_ts\":");
    srv_json_time(b, empty ? INT64_MAX : d->ts_min);
    dl_text_puts(b, ",\"last_ts\":");
    srv_json_time(b, empty ? INT64_MAX : d->ts_max);
    if (empty)
        dl_text_puts(b, ",\"first_ts_ms\":null,\"last_ts_ms\":null");
    else
        dl_text_printf(b, ",\"first_ts_ms\":%" PRId64 ",\"last_ts_ms\":%" PRId64, d->ts_min / 1000,
                       d->ts_max / 1000);
    dl_text_printf(b,
                   ",\"rows\":%" PRId64 ",\"bytes\":%" PRId64 ",\"files\":%" PRId64
                   ",\"version\":%" PRId64 ",\"versions\":%" PRId64 ",\"gap_ranges\":%" PRId64
                   ",\"missing\":%" PRId64,
                   d->rows, d->bytes, d->files, d->version, d->version, d->gap_ranges, d->missing);
}

/* Runs fn with a pooled lake handle; answers its error. */
typedef int (*with_lake_fn)(srv_req *r, dl_lake *lake, dl_text *out, dl_error *err);
static int with_lake(srv_req *r, with_lake_fn fn) {
    dl_error err = {0};
    dl_lake *lake = NULL;
    dl_text b = {0};
    int rc = srv_lake_acquire(r->srv, &lake, &err);
    if (rc == DL_OK) rc = fn(r, lake, &b, &err);
    srv_lake_release(r->srv, lake);
    if (rc != DL_OK) {
        dl_text_free(&b);
        return srv_reply_error(r, &err);
    }
    return srv_reply_buf(r, 200, "application/json", &b);
}

static int datasets_body(srv_req *r, dl_lake *lake, dl_text *b, dl_error *err) {
    dl_dataset_info *items = NULL;
    int64_t n = 0;
    int rc = dl_lake_datasets(lake, &items, &n, err);
    if (rc != DL_OK) return rc;
    dl_text_puts(b, "{\"datasets\":[");
    int shown = 0;
    for (int64_t i = 0; i < n && rc == DL_OK; i++) {
        if (!srv_token_allows(r, items[i].name)) continue;
        dl_schema schema;
        dl_schema_init(&schema);
        rc = dl_lake_dataset_schema(lake, items[i].name, &schema, err);
        if (rc == DL_OK) {
            if (shown++) dl_text_putc(b, ',');
            put_info(b, &items[i]);
            dl_text_puts(b, ",\"schema\":");
            put_schema(b, &schema);
            dl_text_putc(b, '}');
        }
        dl_schema_free(&schema);
    }
    dl_text_puts(b, "]}\n");
    free(items);
    return rc;
}

int srv_h_datasets(srv_req *r) {
    return with_lake(r, datasets_body);
}

static int info_body(srv_req *r, dl_lake *lake, dl_text *b, dl_error *err) {
    dl_dataset_info d;
    dl_schema schema;
    dl_schema_init(&schema);
    int rc = dl_lake_dataset_info(lake, r->dataset, &d, err);
    if (rc == DL_OK) rc = dl_lake_dataset_schema(lake, r->dataset, &schema, err);
    if (rc == DL_OK) {
        put_info(b, &d);
        dl_text_printf(b, ",\"period_us\":%" PRId64 ",\"schema\":", d.period_us);
        put_schema(b, &schema);
        dl_text_puts(b, "}\n");
    }
    dl_schema_free(&schema);
    return rc;
}

int srv_h_dataset_info(srv_req *r) {
    return with_lake(r, info_body);
}

static int schema_body(srv_req *r, dl_lake *lake, dl_text *b, dl_error *err) {
    dl_schema schema;
    dl_schema_init(&schema);
    int rc = dl_lake_dataset_schema(lake, r->dataset, &schema, err);
    if (rc == DL_OK) {
        dl_text_puts(b, "{\"name\":");
        srv_json_cstr(b, r->dataset);
        dl_text_puts(b, ",\"schema\":");
        put_schema(b, &schema);
        dl_text_puts(b, "}\n");
    }
    dl_schema_free(&schema);
    return rc;
}

int srv_h_dataset_schema(srv_req *r) {
    return with_lake(r, schema_body);
}

static int gaps_body(srv_req *r, dl_lake *lake, dl_text *b, dl_error *err) {
    dl_lake_gap *gaps = NULL;
    int64_t n = 0;
    int rc = dl_lake_gaps(lake, r->dataset, &gaps, &n, err);
    if (rc != DL_OK) return rc;
    dl_text_puts(b, "{\"name\":");
    srv_json_cstr(b, r->dataset);
    dl_text_puts(b, ",\"gaps\":[");
    for (int64_t i = 0; i < n; i++) {
        dl_text_puts(b, i ? ",{\"from\":" : "{\"from\":");
        srv_json_time(b, gaps[i].from_ts);
        dl_text_puts(b, ",\"to\":");
        srv_json_time(b, gaps[i].to_ts);
        dl_text_printf(b, ",\"from_ts\":%" PRId64 ",\"to_ts\":%" PRId64 ",\"missing\":%" PRId64 "}",
                       gaps[i].from_ts / 1000, gaps[i].to_ts / 1000, gaps[i].missing);
    }
    dl_text_puts(b, "]}\n");
    free(gaps);
    return DL_OK;
}

int srv_h_dataset_gaps(srv_req *r) {
    return with_lake(r, gaps_body);
}

static int history_body(srv_req *r, dl_lake *lake, dl_text *b, dl_error *err) {
    dl_lake_version *v = NULL;
    int64_t n = 0;
    int rc = dl_lake_history(lake, r->dataset, &v, &n, err);
    if (rc != DL_OK) return rc;
    dl_text_puts(b, "{\"name\":");
    srv_json_cstr(b, r->dataset);
    dl_text_puts(b, ",\"versions\":[");
    for (int64_t i = 0; i < n; i++) {
        dl_text_printf(b, "%s{\"version\":%" PRId64 ",\"committed_at\":", i ? "," : "",
                       v[i].version);
        srv_json_time(b, v[i].committed_at);
        dl_text_printf(b,
                       ",\"run_id\":%" PRId64 ",\"rows_written\":%" PRId64
                       ",\"files_added\":%" PRId64 ",\"files_replaced\":%" PRId64
                       ",\"vacuumed\":%s,\"message\":",
                       v[i].run_id, v[i].rows_written, v[i].files_added, v[i].files_replaced,
                       v[i].vacuumed ? "true" : "false");
        srv_json_cstr(b, v[i].message);
        dl_text_putc(b, '}');
    }
    dl_text_puts(b, "]}\n");
    free(v);
    return DL_OK;
}

int srv_h_dataset_history(srv_req *r) {
    return with_lake(r, history_body);
}

/* Parses a time parameter (ISO-8601 or epoch ms) into *out when present. */
int srv_param_time(const srv_req *r, const char *key, int64_t *out, dl_error *err) {
    const char *v = srv_param(&r->params, key);
    if (!v) return DL_OK;
    if (dl_parse_time_us(v, out, err) != DL_OK) {
        dl_error_prefix(err, "%s", key);
        return DL_EINVAL;
    }
    return DL_OK;
}

/* Parses an integer parameter in [min, max] into *out when present. */
int srv_param_int(const srv_req *r, const char *key, int64_t min, int64_t max, int64_t *out,
                  dl_error *err) {
    const char *v = srv_param(&r->params, key);
    if (!v) return DL_OK;
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < min || x > max)
        return dl_error_set(err, DL_EINVAL, "%s wants an integer in %lld..%lld, got '%.40s'", key,
                            (long long)min, (long long)max, v);
    *out = x;
    return DL_OK;
}

static int files_body(srv_req *r, dl_lake *lake, dl_text *b, dl_error *err) {
    int64_t from = INT64_MIN, to = INT64_MAX, version = 0;
    int rc = srv_param_time(r, "from", &from, err);
    if (rc == DL_OK) rc = srv_param_time(r, "to", &to, err);
    if (rc == DL_OK) rc = srv_param_int(r, "as_of_version", 1, INT64_MAX, &version, err);
    if (rc != DL_OK) return rc;
    dl_lake_file_list list = {0};
    if ((rc = dl_lake_files(lake, r->dataset, from, to, version, &list, err)) != DL_OK) return rc;
    size_t root_len = strlen(r->srv->root);
    dl_text_puts(b, "{\"name\":");
    srv_json_cstr(b, r->dataset);
    dl_text_puts(b, ",\"files\":[");
    for (int64_t i = 0; i < list.count; i++) {
        const dl_lake_file *f = &list.files[i];
        /* paths relative to the lake root: the server's file system is not the client's */
        const char *rel = f->path;
        if (strncmp(rel, r->srv->root, root_len) == 0 && rel[root_len] == '/') rel += root_len + 1;
        char day[16];
        dl_format_date(f->day, day, sizeof day);
        dl_text_printf(b, "%s{\"day\":\"%s\",\"path\":", i ? "," : "", day);
        srv_json_cstr(b, rel);
        dl_text_printf(b, ",\"rows\":%" PRId64 ",\"bytes\":%" PRId64 ",\"first_ts\":", f->rows,
                       f->bytes);
        srv_json_time(b, f->ts_min);
        dl_text_puts(b, ",\"last_ts\":");
        srv_json_time(b, f->ts_max);
        dl_text_printf(b, ",\"version\":%" PRId64 ",\"sha256\":\"%s\"}", f->version, f->sha256);
    }
    dl_text_puts(b, "]}\n");
    dl_lake_file_list_free(&list);
    return DL_OK;
}

int srv_h_dataset_files(srv_req *r) {
    return with_lake(r, files_body);
}
