/*
** dl_connector_http.c -- the HTTP GET host service given to connector
** plugins: one request over libcurl into a size-capped memory buffer, so a
** plugin needs no HTTP library of its own and cannot be made to allocate
** without bound by a hostile server.
*/
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/dl_connector_internal.h"

typedef struct body_sink {
    char *data;
    int64_t len, cap, max;
} body_sink;

static size_t on_body(char *chunk, size_t size, size_t count, void *ctx) {
    body_sink *b = ctx;
    size_t len = size * count;
    if (b->len + (int64_t)len > b->max) return 0; /* aborts: over the cap */
    if (b->len + (int64_t)len + 1 > b->cap) {
        int64_t grown = b->cap ? b->cap * 2 : 16384;
        while (grown < b->len + (int64_t)len + 1) grown *= 2;
        char *p = realloc(b->data, (size_t)grown);
        if (!p) return 0;
        b->data = p;
        b->cap = grown;
    }
    memcpy(b->data + b->len, chunk, len);
    b->len += (int64_t)len;
    b->data[b->len] = 0;
    return len;
}

int dl_connector_http_get(const char *url, int64_t max_bytes, char **body, int64_t *body_len,
                          long *status, char *errbuf, size_t errlen) {
    *body = NULL;
    *body_len = 0;
    *status = 0;
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        snprintf(errbuf, errlen, "http_get: '%s' is not an http:// or https:// URL",
                 url ? url : "");
        return DL_EINVAL;
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(errbuf, errlen, "http_get: cannot create an HTTP client");
        return DL_ENOMEM;
    }
    body_sink b = {.max = max_bytes > 0 ? max_bytes : 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dl-datalake/" DL_VERSION_STRING);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(curl);
    if (cc != CURLE_OK) {
        free(b.data);
        if (cc == CURLE_WRITE_ERROR && b.len >= 0 && b.max > 0) {
            snprintf(errbuf, errlen, "http_get: %s: the body is larger than %lld bytes", url,
                     (long long)max_bytes);
            return DL_ECORRUPT;
        }
        snprintf(errbuf, errlen, "http_get: %s: %s", url, curl_easy_strerror(cc));
        return DL_EIO;
    }
    *body = b.data ? b.data : calloc(1, 1);
    if (!*body) {
        snprintf(errbuf, errlen, "http_get: out of memory");
        return DL_ENOMEM;
    }
    *body_len = b.len;
    return DL_OK;
}
