/*
** srv_params.c -- the hostile-input side of a request that the server
** parses itself (libmicrohttpd has already split and percent-decoded it):
** query parameters, path segments, format and encoding negotiation, the
** Authorization header.  Pure functions, so fuzz/fuzz_http.c drives them.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "srv_internal.h"

bool srv_params_add(srv_params *p, const char *key, const char *value) {
    if (!key) return false;
    if (!value) value = "";
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->keys[i], key) == 0) {
            p->overflow = true;
            snprintf(p->bad_key, sizeof p->bad_key, "%s", key);
            return false;
        }
    if (p->count >= SRV_MAX_PARAMS || strlen(value) > SRV_MAX_PARAM_LEN) {
        p->overflow = true;
        snprintf(p->bad_key, sizeof p->bad_key, "%s", key);
        return false;
    }
    p->keys[p->count] = key;
    p->values[p->count] = value;
    p->count++;
    return true;
}

const char *srv_param(const srv_params *p, const char *key) {
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->keys[i], key) == 0) return p->values[i];
    return NULL;
}

int srv_params_check_known(const srv_params *p, const char *const *known, dl_error *err) {
    if (p->overflow)
        return dl_error_set(err, DL_EINVAL,
                            "query parameter '%s' repeated, overlong or one too many (at most %d)",
                            p->bad_key, SRV_MAX_PARAMS);
    for (int i = 0; i < p->count; i++) {
        bool ok = false;
        for (int k = 0; known && known[k] && !ok; k++) ok = strcmp(known[k], p->keys[i]) == 0;
        if (!ok) {
            char names[512] = "";
            size_t len = 0;
            for (int k = 0; known && known[k]; k++)
                len += (size_t)snprintf(names + len, len < sizeof names ? sizeof names - len : 0,
                                        "%s%s", k ? ", " : "", known[k]);
            return dl_error_set(err, DL_EINVAL, "unknown query parameter '%.64s' (accepted: %s)",
                                p->keys[i], names[0] ? names : "none");
        }
    }
    return DL_OK;
}

int srv_path_split(const char *path, char *storage, size_t storage_size, const char **parts,
                   int *num_parts, dl_error *err) {
    *num_parts = 0;
    if (!path || path[0] != '/') return dl_error_set(err, DL_EINVAL, "path must start with '/'");
    size_t len = strlen(path);
    if (len + 1 > storage_size)
        return dl_error_set(err, DL_EINVAL, "path longer than %zu bytes", storage_size - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '%')
            return dl_error_set(err, DL_EINVAL,
                                "path holds a forbidden character (0x%02x) at offset %zu", c, i);
    }
    memcpy(storage, path, len + 1);
    /* a single trailing slash is allowed ("/v1/datasets/") */
    if (len > 1 && storage[len - 1] == '/') storage[--len] = '\0';
    if (len == 1) return DL_OK; /* "/" */
    char *p = storage + 1;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash) *slash = '\0';
        if (*p == '\0') return dl_error_set(err, DL_EINVAL, "empty path segment");
        if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
            return dl_error_set(err, DL_EINVAL, "path segment '%s' is not allowed", p);
        if (*num_parts >= SRV_MAX_PATH_PARTS)
            return dl_error_set(err, DL_EINVAL, "path has more than %d segments",
                                SRV_MAX_PATH_PARTS);
        parts[(*num_parts)++] = p;
        if (!slash) break;
        p = slash + 1;
    }
    return DL_OK;
}

/* ---- formats ---- */

static const struct {
    const char *name, *mime;
} formats[SRV_FMT_COUNT] = {
    [SRV_FMT_JSON] = {"json", "application/json"},
    [SRV_FMT_NDJSON] = {"ndjson", "application/x-ndjson"},
    [SRV_FMT_CSV] = {"csv", "text/csv"},
    [SRV_FMT_ARROW] = {"arrow", "application/vnd.apache.arrow.stream"},
    [SRV_FMT_PARQUET] = {"parquet", "application/vnd.apache.parquet"},
};

const char *srv_format_name(srv_format f) {
    return formats[f].name;
}
const char *srv_format_mime(srv_format f) {
    return formats[f].mime;
}

/* Skips optional whitespace. */
static const char *skip_ws(const char *s, const char *end) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    return s;
}

/* Parses the q= of one media-range / coding parameter list [s, end):
** 1.0 when absent, -1 when malformed. */
static double parse_q(const char *s, const char *end) {
    double q = 1.0;
    while (s < end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        if (!semi) break;
        s = skip_ws(semi + 1, end);
        if (end - s >= 2 && (s[0] == 'q' || s[0] == 'Q') && s[1] == '=') {
            char num[16];
            size_t n = 0;
            for (const char *t = s + 2; t < end && *t != ';' && n + 1 < sizeof num; t++)
                if (*t != ' ') num[n++] = *t;
            num[n] = '\0';
            char *stop;
            q = strtod(num, &stop);
            if (stop == num || *stop || q < 0 || q > 1) return -1;
        }
    }
    return q;
}

/* Calls visit(item, len, q) for each comma-separated element of a header. */
typedef void (*list_visit)(void *ctx, const char *item, size_t len, double q);
static void header_list(const char *h, list_visit visit, void *ctx) {
    const char *s = h, *hend = h + strlen(h);
    while (s < hend) {
        const char *comma = memchr(s, ',', (size_t)(hend - s));
        const char *end = comma ? comma : hend;
        const char *a = skip_ws(s, end);
        const char *semi = memchr(a, ';', (size_t)(end - a));
        const char *item_end = semi ? semi : end;
        while (item_end > a && (item_end[-1] == ' ' || item_end[-1] == '\t')) item_end--;
        double q = parse_q(a, end);
        if (item_end > a && q >= 0) visit(ctx, a, (size_t)(item_end - a), q);
        s = comma ? comma + 1 : hend;
    }
}

typedef struct accept_pick {
    int best;
    double best_q;
    bool any_named;
} accept_pick;

static bool token_is(const char *a, size_t len, const char *lit) {
    return strlen(lit) == len && strncasecmp(a, lit, len) == 0;
}

static void accept_visit(void *ctx, const char *item, size_t len, double q) {
    accept_pick *p = ctx;
    p->any_named = true;
    if (q <= 0) return;
    int f = -1;
    if (token_is(item, len, "*/*") || token_is(item, len, "application/*"))
        f = SRV_FMT_JSON;
    else
        for (int k = 0; k < SRV_FMT_COUNT && f < 0; k++)
            if (token_is(item, len, formats[k].mime)) f = k;
    if (f < 0 && token_is(item, len, "text/*")) f = SRV_FMT_CSV;
    if (f >= 0 && q > p->best_q) {
        p->best = f;
        p->best_q = q;
    }
}

int srv_format_negotiate(const char *format_param, const char *accept, srv_format *out,
                         dl_error *err) {
    if (format_param) {
        for (int k = 0; k < SRV_FMT_COUNT; k++)
            if (strcmp(format_param, formats[k].name) == 0) {
                *out = (srv_format)k;
                return DL_OK;
            }
        if (strcmp(format_param, "jsonl") == 0) {
            *out = SRV_FMT_NDJSON;
            return DL_OK;
        }
        return dl_error_set(err, DL_EINVAL,
                            "unknown format '%.64s' (json, ndjson, csv, arrow, parquet)",
                            format_param);
    }
    *out = SRV_FMT_JSON;
    if (!accept || !*accept) return DL_OK;
    accept_pick p = {-1, 0, false};
    header_list(accept, accept_visit, &p);
    if (p.best >= 0) {
        *out = (srv_format)p.best;
        return DL_OK;
    }
    if (!p.any_named) return DL_OK;
    return dl_error_set(err, DL_EUNSUPPORTED,
                        "none of the Accept types can be produced (application/json, "
                        "application/x-ndjson, text/csv, application/vnd.apache.arrow.stream, "
                        "application/vnd.apache.parquet)");
}

typedef struct enc_pick {
    double zstd, gzip;
} enc_pick;

static void encoding_visit(void *ctx, const char *item, size_t len, double q) {
    enc_pick *p = ctx;
    if (token_is(item, len, "zstd"))
        p->zstd = q;
    else if (token_is(item, len, "gzip") || token_is(item, len, "x-gzip"))
        p->gzip = q;
}

srv_encoding srv_encoding_negotiate(const char *accept_encoding) {
    if (!accept_encoding) return SRV_ENC_IDENTITY;
    enc_pick p = {0, 0};
    header_list(accept_encoding, encoding_visit, &p);
    if (p.zstd > 0 && p.zstd >= p.gzip) return SRV_ENC_ZSTD;
    if (p.gzip > 0) return SRV_ENC_GZIP;
    return SRV_ENC_IDENTITY;
}

const char *srv_encoding_name(srv_encoding e) {
    return e == SRV_ENC_ZSTD ? "zstd" : e == SRV_ENC_GZIP ? "gzip" : "identity";
}

const char *srv_bearer_token(const char *authorization, size_t *len) {
    if (!authorization) return NULL;
    const char *s = authorization;
    while (*s == ' ') s++;
    if (strncasecmp(s, "Bearer ", 7) != 0) return NULL;
    s += 7;
    while (*s == ' ') s++;
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n])) n++;
    const char *rest = s + n;
    while (*rest == ' ') rest++;
    if (n == 0 || n > 256 || *rest) return NULL;
    *len = n;
    return s;
}
