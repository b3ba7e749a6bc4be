/*
** srv_openapi.c -- GET /v1/openapi.json: an OpenAPI 3.1 document generated
** from srv_routes, the same table the server dispatches on, so the
** document cannot drift from what is served.
*/
#include <string.h>

#include "srv_internal.h"

static const struct {
    const char *name, *description;
} param_docs[] = {
    {"dataset",
     "dataset name EXCHANGE/MARKET/SYMBOL/TYPE/PERIOD, or a glob (BINANCE/SPOT/*/raw/1m)"},
    {"from", "first time included: ISO-8601 (UTC unless an offset is given) or epoch ms"},
    {"to", "end of the range, excluded"},
    {"columns", "comma-separated output columns, in order"},
    {"where", "filter in the dl filter language, e.g. close > 50000 and volume > 0"},
    {"as_of_version", "read the dataset as it was at this version (one dataset)"},
    {"as_of", "read each dataset as it was at this time"},
    {"limit", "at most this many rows (a page; the JSON format pages with next_cursor)"},
    {"tail", "only the last N rows"},
    {"order", "asc (default)"},
    {"period", "resample OHLCV bars (or ticks) to this period, e.g. 1h"},
    {"format", "json, ndjson, csv, arrow or parquet (else the Accept header decides)"},
    {"cursor", "next_cursor of the previous page"},
};

static const char *param_doc(const char *name) {
    for (size_t i = 0; i < sizeof param_docs / sizeof param_docs[0]; i++)
        if (strcmp(param_docs[i].name, name) == 0) return param_docs[i].description;
    return name;
}

/* Lower-case HTTP method for the paths object. */
static void put_method(dl_text *b, const char *m) {
    dl_text_putc(b, '"');
    for (; *m; m++) dl_text_putc(b, (char)(*m >= 'A' && *m <= 'Z' ? *m + 32 : *m));
    dl_text_putc(b, '"');
}

static void put_operation(dl_text *b, const srv_route *r) {
    put_method(b, r->method);
    dl_text_puts(b, ":{\"summary\":");
    srv_json_cstr(b, r->summary);
    dl_text_puts(b, ",\"operationId\":");
    char op[256];
    size_t n = 0;
    for (const char *p = r->pattern; *p && n + 1 < sizeof op; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            op[n++] = *p;
        else if (*p == '/' && n)
            op[n++] = '_';
    op[n] = '\0';
    srv_json_cstr(b, op);
    dl_text_puts(b, ",\"parameters\":[");
    int k = 0;
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        dl_text_puts(b, k++ ? ",{\"name\":" : "{\"name\":");
        dl_text_json_string(b, p + 1, (size_t)(end - p - 1));
        dl_text_puts(b, ",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}");
    }
    for (int i = 0; r->query_params && r->query_params[i]; i++) {
        dl_text_puts(b, k++ ? ",{\"name\":" : "{\"name\":");
        srv_json_cstr(b, r->query_params[i]);
        dl_text_puts(b, ",\"in\":\"query\",\"required\":false,\"description\":");
        srv_json_cstr(b, param_doc(r->query_params[i]));
        dl_text_puts(b, ",\"schema\":{\"type\":\"string\"}}");
    }
    dl_text_puts(b, "],\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{");
    const char *t = r->produces;
    for (int c = 0; t && *t; c++) {
        const char *comma = strchr(t, ',');
        size_t len = comma ? (size_t)(comma - t) : strlen(t);
        if (c) dl_text_putc(b, ',');
        dl_text_json_string(b, t, len);
        dl_text_puts(b, ":{}");
        t = comma ? comma + 1 : t + len;
    }
    dl_text_puts(b, "}},\"default\":{\"description\":\"an RFC 9457 problem\",\"content\":"
                    "{\"application/problem+json\":{\"schema\":{\"$ref\":"
                    "\"#/components/schemas/Problem\"}}}}}");
    if (r->scope != SRV_SCOPE_NONE) {
        dl_text_puts(b, ",\"security\":[{\"bearer\":[]}],\"x-dl-scope\":");
        srv_json_cstr(b, dl_token_scope_name((dl_token_scope)r->scope));
    } else {
        dl_text_puts(b, ",\"security\":[]");
    }
    dl_text_putc(b, '}');
}

void srv_openapi_render(dl_text *b) {
    dl_text_printf(b,
                   "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"dl-datalake data server\","
                   "\"version\":\"%s\",\"description\":\"Market-data lake over HTTP: metadata, "
                   "streamed queries (Arrow IPC, Parquet, CSV, NDJSON, JSON with signed "
                   "version-pinned cursors)\"},\"paths\":{",
                   DL_VERSION_STRING);
    /* routes sharing a pattern go under one path item */
    bool first_path = true;
    for (int i = 0; i < srv_num_routes; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(srv_routes[j].pattern, srv_routes[i].pattern) == 0;
        if (seen) continue;
        if (!first_path) dl_text_putc(b, ',');
        first_path = false;
        srv_json_cstr(b, srv_routes[i].pattern);
        dl_text_puts(b, ":{");
        bool first_op = true;
        for (int j = i; j < srv_num_routes; j++) {
            if (strcmp(srv_routes[j].pattern, srv_routes[i].pattern) != 0) continue;
            if (!first_op) dl_text_putc(b, ',');
            first_op = false;
            put_operation(b, &srv_routes[j]);
        }
        dl_text_putc(b, '}');
    }
    dl_text_puts(b,
                 "},\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":\"http\","
                 "\"scheme\":\"bearer\",\"description\":\"a token from dl token create\"}},"
                 "\"schemas\":{\"Problem\":{\"type\":\"object\",\"properties\":{"
                 "\"type\":{\"type\":\"string\"},\"title\":{\"type\":\"string\"},"
                 "\"status\":{\"type\":\"integer\"},\"detail\":{\"type\":\"string\"},"
                 "\"instance\":{\"type\":\"string\"},\"position\":{\"type\":\"integer\"}}}}}}\n");
}
