/*
** dl_internal.h -- shared internal helpers for every module of libdatalake:
** status-propagation macros, overflow-checked arithmetic and bit helpers.
** Not part of the public API.
*/
#ifndef DL_INTERNAL_H
#define DL_INTERNAL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"

/* Evaluate a status-returning expression; on failure jump to `cleanup`
** with `rc` set.  Functions using it declare `int rc = DL_OK;`. */
#define DL_TRY(expr)                                                                               \
    do {                                                                                           \
        int dl_try_rc_ = (expr);                                                                   \
        if (dl_try_rc_ != DL_OK) {                                                                 \
            rc = dl_try_rc_;                                                                       \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

/* Set the error and jump to cleanup. */
#define DL_FAIL(err, code, ...)                                                                    \
    do {                                                                                           \
        rc = dl_error_set((err), (code), __VA_ARGS__);                                             \
        goto cleanup;                                                                              \
    } while (0)

/* The static analyzer checks one file at a time and cannot see that
** dl_error_set returns its code argument, so it would explore
** `return dl_error_set(err, DL_EINVAL, ...)` as a success.  Under analysis
** only, spell the contract out. */
#ifdef __clang_analyzer__
#define dl_error_set(err, code, ...) (dl_error_set((err), (code), __VA_ARGS__), (code))
#endif

#define DL_UNUSED(x) ((void)(x))
/* Both evaluate an argument twice: pass plain values, never a (recursive or
** costly) call -- that once made the expression parser exponential. */
#define DL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DL_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define DL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define DL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define DL_LIKELY(x)   (x)
#define DL_UNLIKELY(x) (x)
#endif

/* Argument checks at the top of every public function: a required pointer
** that is NULL is refused with DL_EINVAL naming the function and what is
** missing (never a crash); functions without a status return quietly
** (void) or return a documented "nothing" value. */
#define DL_REQUIRE(err, cond)                                                                      \
    do {                                                                                           \
        if (DL_UNLIKELY(!(cond)))                                                                  \
            return dl_error_set((err), DL_EINVAL, "%s: required argument is NULL (%s)", __func__,  \
                                #cond);                                                            \
    } while (0)
#define DL_REQUIRE_OR_RETURN(cond, value)                                                          \
    do {                                                                                           \
        if (DL_UNLIKELY(!(cond))) return value;                                                    \
    } while (0)

/* Opens an input file for reading as data (util/dl_file.c): only a regular
** file is accepted (a FIFO, device or directory is DL_EINVAL at once, never
** a blocking open); a missing file is DL_ENOTFOUND.  The fd / stream is
** the caller's to close. */
int dl_file_open_data(const char *path, int *fd_out, dl_error *err);
int dl_file_fopen_data(const char *path, FILE **out, dl_error *err);

/* Hard cap on any single allocation whose size comes from input data. */
#define DL_MAX_ALLOC ((size_t)1 << 34) /* 16 GiB */

/* a*b without overflow and under DL_MAX_ALLOC; returns 0 on success. */
static inline int dl_size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > DL_MAX_ALLOC / a) return -1;
    *out = a * b;
    return 0;
}

/* Little-endian loads/stores that are safe on unaligned pointers. */
static inline uint32_t dl_load_u32le(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v; /* x86-64 and aarch64 targets are little-endian */
}
static inline uint64_t dl_load_u64le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void dl_store_u32le(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4);
}
static inline void dl_store_u64le(uint8_t *p, uint64_t v) {
    memcpy(p, &v, 8);
}

/* Number of bits needed to represent v (0 for 0). */
static inline int dl_bit_width(uint64_t v) {
    return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

/* Lexicographic byte order (memcmp, then the shorter first): -1, 0 or 1
** exactly (callers index tables with it).  Accepts NULL with length 0. */
static inline int dl_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
}

/* qsort/bsearch comparator of int64_t values. */
static inline int dl_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* 64-bit mixer (murmur3 finaliser) and a hash of bytes built on it, for the
** writer's dictionaries and the filter's in-lists. */
static inline uint64_t dl_hash64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static inline uint64_t dl_hash_bytes(const void *data, size_t n) {
    const uint8_t *p = data;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    while (n >= 8) {
        h = dl_hash64(h ^ dl_load_u64le(p));
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    if (n) memcpy(&tail, p, n);
    return dl_hash64(h ^ tail ^ ((uint64_t)n << 56));
}

static inline void dl_bitmap_set(uint8_t *bm, int64_t i) {
    bm[i >> 3] |= (uint8_t)(1u << (i & 7));
}
static inline void dl_bitmap_clear(uint8_t *bm, int64_t i) {
    bm[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}
static inline int dl_bitmap_get(const uint8_t *bm, int64_t i) {
    return (bm[i >> 3] >> (i & 7)) & 1;
}

/* Creates col->validity (all bits set, sized for cap_values + 8 values)
** if it does not exist yet.  Used by decoders that write bits directly. */
int dl_column_ensure_validity(dl_column *col);

/* Same logical content: equal schemas (names, types, units, nullability)
** and, row by row, the same nulls and the same value bytes (floats compared
** bit for bit, so NaN equals NaN and -0.0 differs from 0.0).  What a null
** slot holds does not matter. */
bool dl_table_same_content(const dl_table *a, const dl_table *b);

#endif /* DL_INTERNAL_H */
