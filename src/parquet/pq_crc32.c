/*
** pq_crc32.c -- the page checksum of Parquet's PageHeader.crc: CRC-32 with
** the gzip/zlib polynomial (0x04C11DB7, bit-reflected), the value zlib's
** crc32() returns.
**
** Every page is checksummed when written and again when read, so the speed
** shows in every query: zlib's table-driven crc32 runs at ~2.5 GB/s here,
** about 7% of the instructions of a lake-wide aggregate.  On x86-64 with
** PCLMULQDQ (every x86-64 CPU since 2010) the bulk of a page is folded 64
** bytes at a time with carry-less multiplications instead ("Fast CRC
** Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel,
** 2009: four 128-bit lanes folded by x^(512+-64) mod P, reduced to 128 bits,
** then to 32 by Barrett reduction), several times faster; the tail (< 16
** bytes) and other CPUs go through zlib.  The unit tests compare both paths
** with zlib on every length and alignment.
*/
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "parquet/pq_meta.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PQ_CRC_CLMUL 1

/* Folding constants for the reflected polynomial P = 0x1DB710641:
** x^(4*128+-32) and x^(128+-32) mod P (bit-reflected, shifted by one), the
** 64-to-32 fold x^64 mod P, and Barrett's P and mu = x^64 / P. */
#define K1 0x154442bd4ULL /* x^(512+32) */
#define K2 0x1c6e41596ULL /* x^(512-32) */
#define K3 0x1751997d0ULL /* x^(128+32) */
#define K4 0x0ccaa009eULL /* x^(128-32) */
#define K5 0x163cd6124ULL /* x^64 */
#define P  0x1db710641ULL
#define MU 0x1f7011641ULL

/* a * k_lo (low halves) ^ a * k_hi (high halves) ^ next: one fold step. */
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i a, __m128i k,
                                                                    __m128i next) {
    __m128i lo = _mm_clmulepi64_si128(a, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(a, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* The running (pre-inverted) crc over len bytes, len >= 64 and a multiple
** of 16. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t crc, const uint8_t *p,
                                                                   size_t len) {
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    len -= 64;
    __m128i k = _mm_set_epi64x((long long)K2, (long long)K1);
    for (; len >= 64; p += 64, len -= 64) {
        x1 = fold(x1, k, _mm_loadu_si128((const __m128i *)(const void *)p));
        x2 = fold(x2, k, _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x3 = fold(x3, k, _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x4 = fold(x4, k, _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
    }
    /* four lanes into one, then the remaining 16-byte blocks */
    k = _mm_set_epi64x((long long)K4, (long long)K3);
    x1 = fold(x1, k, x2);
    x1 = fold(x1, k, x3);
    x1 = fold(x1, k, x4);
    for (; len >= 16; p += 16, len -= 16)
        x1 = fold(x1, k, _mm_loadu_si128((const __m128i *)(const void *)p));
    /* 128 -> 64 bits */
    __m128i mask32 = _mm_setr_epi32(-1, 0, -1, 0);
    __m128i t = _mm_clmulepi64_si128(x1, k, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    /* 64 -> 32 bits (plus the 32 above them) */
    __m128i k5 = _mm_set_epi64x(0, (long long)K5);
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), t);
    /* Barrett reduction to the 32-bit remainder */
    __m128i pm = _mm_set_epi64x((long long)MU, (long long)P);
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), pm, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), pm, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

uint32_t dl_pq_crc32_update(uint32_t crc, const uint8_t *p, size_t len, bool allow_simd) {
#ifdef PQ_CRC_CLMUL
    if (allow_simd && len >= 64 && __builtin_cpu_supports("pclmul") &&
        __builtin_cpu_supports("sse4.1")) {
        size_t bulk = len & ~(size_t)15;
        crc = ~crc_clmul(~crc, p, bulk);
        p += bulk;
        len -= bulk;
    }
#else
    (void)allow_simd;
#endif
    return (uint32_t)crc32_z(crc, p, len);
}

uint32_t dl_pq_page_crc(const uint8_t *page, size_t len) {
    return dl_pq_crc32_update(0, page, len, true);
}
