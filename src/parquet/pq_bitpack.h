/*
** pq_bitpack.h -- internal helpers shared by the Parquet encodings:
** LSB-first bit unpacking/packing in groups of 8 values (the unit of both
** the RLE/bit-packed hybrid and DELTA_BINARY_PACKED miniblocks), ULEB128
** and zigzag varints.  Not part of the encoding API (see pq_encoding.h).
*/
#ifndef PQ_BITPACK_H
#define PQ_BITPACK_H

#include <stddef.h>
#include <stdint.h>

/* Kernels instantiated per bit width / element size must really inline:
** their constant arguments are what removes the per-value branches. */
#if defined(__GNUC__)
#define PQ_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PQ_ALWAYS_INLINE static inline
#endif

/* Bytes the fast unpackers may read past the last packed byte: they load
** 64-bit words at byte offsets inside a group.  pq_unpack_groups_* only
** take the fast path when this much input is really there. */
#define PQ_UNPACK_SLACK 16

/* Unpacks `groups` groups of 8 values of `bit_width` bits (each group is
** exactly bit_width bytes) from `in` into out[0 .. 8*groups).  `avail` is
** the number of bytes readable at `in`; the caller guarantees
** avail >= groups*bit_width, except that the LAST group may be partial
** (its missing bytes read as zero).  Never reads at or beyond in+avail.
** Widths: u8 0..8, u32 0..32, u64 0..64. */
void pq_unpack_groups_u8(const uint8_t *in, size_t avail, uint8_t *out, int64_t groups,
                         int bit_width);
void pq_unpack_groups_u32(const uint8_t *in, size_t avail, uint32_t *out, int64_t groups,
                          int bit_width);
void pq_unpack_groups_u64(const uint8_t *in, size_t avail, uint64_t *out, int64_t groups,
                          int bit_width);

/* Packs `groups` groups of 8 values (only their low bit_width bits are
** used) into exactly groups*bit_width bytes at out.  Widths 0..32 / 0..64. */
void pq_pack_groups_u32(const uint32_t *values, int64_t groups, int bit_width, uint8_t *out);
void pq_pack_groups_u64(const uint64_t *values, int64_t groups, int bit_width, uint8_t *out);

/* Reads a ULEB128 of at most max_bytes bytes (<= 10) into *out and advances
** *p.  Returns 0, or -1 when the input ends inside the varint, or -2 when
** it is longer than max_bytes or overflows 64 bits. */
static inline int pq_read_uleb(const uint8_t **p, const uint8_t *end, int max_bytes,
                               uint64_t *out) {
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (q == end) return -1;
        uint8_t b = *q++;
        if (i == 9 && b > 1) return -2; /* bits beyond 64 */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            *p = q;
            return 0;
        }
    }
    return -2;
}

static inline int64_t pq_zigzag_decode(uint64_t u) {
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}
static inline uint64_t pq_zigzag_encode(int64_t v) {
    return ((uint64_t)v << 1) ^ ((uint64_t)0 - ((uint64_t)v >> 63));
}

#endif /* PQ_BITPACK_H */
