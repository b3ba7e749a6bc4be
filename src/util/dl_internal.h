/*
** dl_internal.h -- shared internal helpers for every module of libdatalake:
** status-propagation macros, overflow-checked arithmetic and bit helpers.
** Not part of the public API.
*/
#ifndef DL_INTERNAL_H
#define DL_INTERNAL_H

#include <stdint.h>
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

#endif /* DL_INTERNAL_H */
