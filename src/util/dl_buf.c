/*
** dl_buf.c -- growable byte buffer and bump arena (see dl_buf.h).
*/
#include "dl_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_internal.h"

int dl_buf_reserve(dl_buf *b, size_t extra) {
    if (extra > DL_MAX_ALLOC || b->len > DL_MAX_ALLOC - extra) return DL_ENOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap) return DL_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap = cap < DL_MAX_ALLOC / 2 ? cap * 2 : need;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return DL_ENOMEM;
    b->data = p;
    b->cap = cap;
    return DL_OK;
}

int dl_buf_append(dl_buf *b, const void *src, size_t n) {
    if (n == 0) return DL_OK;
    if (dl_buf_reserve(b, n) != DL_OK) return DL_ENOMEM;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return DL_OK;
}

int dl_buf_append_u8(dl_buf *b, uint8_t v) {
    if (b->len == b->cap && dl_buf_reserve(b, 1) != DL_OK) return DL_ENOMEM;
    b->data[b->len++] = v;
    return DL_OK;
}

int dl_buf_append_u32le(dl_buf *b, uint32_t v) {
    if (dl_buf_reserve(b, 4) != DL_OK) return DL_ENOMEM;
    dl_store_u32le(b->data + b->len, v);
    b->len += 4;
    return DL_OK;
}

int dl_buf_append_uleb(dl_buf *b, uint64_t v) {
    if (dl_buf_reserve(b, 10) != DL_OK) return DL_ENOMEM;
    uint8_t *p = b->data + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->data);
    return DL_OK;
}

int dl_buf_printf(dl_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return DL_EINTERNAL;
    if (dl_buf_reserve(b, (size_t)n + 1) != DL_OK) return DL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return DL_OK;
}

uint8_t *dl_buf_extend(dl_buf *b, size_t n) {
    if (dl_buf_reserve(b, n ? n : 1) != DL_OK) return NULL; /* never NULL for n == 0 */
    uint8_t *p = b->data + b->len;
    memset(p, 0, n);
    b->len += n;
    return p;
}

void dl_buf_reset(dl_buf *b) {
    b->len = 0;
}

void dl_buf_free(dl_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- arena ---- */

struct dl_arena_block {
    dl_arena_block *next;
    size_t used, size;
    _Alignas(16) uint8_t mem[];
};

void dl_arena_init(dl_arena *a, size_t limit) {
    a->head = NULL;
    a->total = 0;
    a->limit = limit ? limit : DL_MAX_ALLOC;
}

void *dl_arena_alloc(dl_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n > a->limit || a->total > a->limit - n) return NULL;
    dl_arena_block *blk = a->head;
    if (!blk || blk->size - blk->used < n) {
        size_t size = n > 32768 ? n : 32768;
        blk = malloc(sizeof(*blk) + size);
        if (!blk) return NULL;
        blk->size = size;
        blk->used = 0;
        /* A large one-off block goes behind the current head so that the
        ** head's remaining space is still used. */
        if (a->head && n > 32768) {
            blk->next = a->head->next;
            a->head->next = blk;
        } else {
            blk->next = a->head;
            a->head = blk;
        }
    }
    void *p = blk->mem + blk->used;
    blk->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

void *dl_arena_calloc(dl_arena *a, size_t count, size_t size) {
    size_t n;
    if (dl_size_mul(count, size, &n) != 0) return NULL;
    return dl_arena_alloc(a, n ? n : 1);
}

char *dl_arena_strndup(dl_arena *a, const char *s, size_t n) {
    char *p = dl_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void dl_arena_free(dl_arena *a) {
    dl_arena_block *b = a->head;
    while (b) {
        dl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
