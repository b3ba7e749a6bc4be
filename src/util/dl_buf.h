/*
** dl_buf.h -- a growable byte buffer and a bump-pointer arena.
** Both fail with DL_ENOMEM instead of aborting, and refuse sizes beyond
** DL_MAX_ALLOC so that lengths read from hostile input cannot ask for
** absurd amounts of memory.
*/
#ifndef DL_BUF_H
#define DL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "datalake.h"

typedef struct dl_buf {
    uint8_t *data; /* owned */
    size_t len;
    size_t cap;
} dl_buf;

#define DL_BUF_INIT                                                                                \
    { NULL, 0, 0 }

/* Ensures room for `extra` more bytes beyond len. */
int dl_buf_reserve(dl_buf *b, size_t extra);
int dl_buf_append(dl_buf *b, const void *src, size_t n);
int dl_buf_append_u8(dl_buf *b, uint8_t v);
int dl_buf_append_u32le(dl_buf *b, uint32_t v);
int dl_buf_append_uleb(dl_buf *b, uint64_t v);
int dl_buf_printf(dl_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends n zero bytes and returns a pointer to them (NULL on ENOMEM). */
uint8_t *dl_buf_extend(dl_buf *b, size_t n);
void dl_buf_reset(dl_buf *b); /* len = 0 */
void dl_buf_free(dl_buf *b);

/* Bump-pointer arena: many small allocations freed at once. */
typedef struct dl_arena_block dl_arena_block;
typedef struct dl_arena {
    dl_arena_block *head;
    size_t total; /* bytes handed out, checked against limit */
    size_t limit; /* 0 = DL_MAX_ALLOC */
} dl_arena;

void dl_arena_init(dl_arena *a, size_t limit);
/* 16-byte aligned, zero-filled; NULL when out of memory or over limit. */
void *dl_arena_alloc(dl_arena *a, size_t n);
void *dl_arena_calloc(dl_arena *a, size_t count, size_t size);
char *dl_arena_strndup(dl_arena *a, const char *s, size_t n);
void dl_arena_free(dl_arena *a);

#endif /* DL_BUF_H */
