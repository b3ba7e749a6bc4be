/*
** srv_util.c -- small helpers of the data server: the library's dl_text as
** C strings and handed-over bodies, JSON times, clocks, a constant-time
** compare and base64url for cursors.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_internal.h"

char *srv_text_take(dl_text *t, size_t *len) {
    dl_text_putc(t, '\0'); /* a C string for headers and logs */
    char *p = t->status == DL_OK ? t->data : NULL;
    *len = p ? t->len - 1 : 0;
    if (!p) dl_text_free(t);
    memset(t, 0, sizeof *t);
    return p;
}

const char *srv_text_cstr(dl_text *t) {
    dl_text_putc(t, '\0');
    if (t->status != DL_OK) return "";
    t->len--;
    return t->data;
}

void srv_json_time(dl_text *b, int64_t us) {
    if (us == INT64_MIN || us == INT64_MAX) {
        dl_text_puts(b, "null");
        return;
    }
    char t[64];
    dl_format_timestamp(us, DL_UNIT_US, t, sizeof t);
    srv_json_cstr(b, t);
}

double srv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t srv_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool srv_ct_equal(const void *a, const void *b, size_t n) {
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) diff |= (uint8_t)(x[i] ^ y[i]);
    return diff == 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t srv_b64url_encode(const uint8_t *src, size_t n, char *out, size_t out_size) {
    size_t need = (n * 4 + 2) / 3;
    if (need + 1 > out_size) return 0;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < n ? (uint32_t)src[i + 1] << 8 : 0);
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = b64url[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

long srv_b64url_decode(const char *src, size_t n, uint8_t *out, size_t out_size) {
    if (n % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(src[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= out_size) return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return -1; /* non-canonical tail */
    return (long)o;
}
