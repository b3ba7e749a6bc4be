/*
** pq_bitpack.c -- LSB-first bit unpacking/packing for the Parquet
** encodings, 8 values at a time.  The unpackers are the innermost loops of
** level, dictionary-index and DELTA_BINARY_PACKED decoding, so each bit
** width gets its own fully unrolled loop (one always-inlined kernel,
** instantiated per width by a switch that runs once per batch of groups,
** never per value).
*/
#include "pq_bitpack.h"

#include <string.h>

#include "../util/dl_internal.h"

PQ_ALWAYS_INLINE uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* Stores value i of a group into an output array of `size`-byte elements. */
PQ_ALWAYS_INLINE void store_elem(void *out, int i, uint64_t v, const int size) {
    if (size == 1)
        ((uint8_t *)out)[i] = (uint8_t)v;
    else if (size == 4)
        ((uint32_t *)out)[i] = (uint32_t)v;
    else
        ((uint64_t *)out)[i] = v;
}

/* One group of 8 values; `bw` and `size` are compile-time constants at
** every call site, so the branches below fold away.  May read up to
** PQ_UNPACK_SLACK bytes past the group's bw bytes. */
PQ_ALWAYS_INLINE void unpack_group(const uint8_t *in, void *out, const int bw, const int size) {
    const uint64_t mask = bw >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bw) - 1);
    if (bw == 0) {
        memset(out, 0, (size_t)8 * (size_t)size);
    } else if (bw == 1 && size == 1) {
        /* Spread the 8 bits of one byte over 8 bytes (bit i -> byte i). */
        uint64_t x = in[0];
        x = (x | (x << 28)) & 0x0000000F0000000FULL;
        x = (x | (x << 14)) & 0x0003000300030003ULL;
        x = (x | (x << 7)) & 0x0101010101010101ULL;
        memcpy(out, &x, 8);
    } else if (bw == 8 && size == 1) {
        memcpy(out, in, 8);
    } else if (bw <= 8) {
        uint64_t w = dl_load_u64le(in); /* the whole group fits one word */
        for (int i = 0; i < 8; i++) store_elem(out, i, (w >> (i * bw)) & mask, size);
    } else if (bw == 16) {
        for (int i = 0; i < 8; i++) store_elem(out, i, load_u16(in + 2 * i), size);
    } else if (bw == 32) {
        for (int i = 0; i < 8; i++) store_elem(out, i, dl_load_u32le(in + 4 * i), size);
    } else if (bw == 64) {
        for (int i = 0; i < 8; i++) store_elem(out, i, dl_load_u64le(in + 8 * i), size);
    } else {
        for (int i = 0; i < 8; i++) {
            const int bit = i * bw, shift = bit & 7;
            uint64_t w = dl_load_u64le(in + (bit >> 3)) >> shift;
            if (shift + bw > 64) w |= (uint64_t)in[(bit >> 3) + 8] << (64 - shift);
            store_elem(out, i, w & mask, size);
        }
    }
}

PQ_ALWAYS_INLINE void unpack_groups_fixed(const uint8_t *in, void *out, int64_t groups,
                                          const int bw, const int size) {
    uint8_t *o = out;
    for (int64_t g = 0; g < groups; g++) {
        unpack_group(in, o, bw, size);
        in += bw;
        o += 8 * size;
    }
}

/* Lists of the bit widths each dispatcher instantiates a kernel for. */
// clang-format off
#define PQ_WIDTHS_1_8(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define PQ_WIDTHS_9_32(X)                                                                          \
    X(9)  X(10) X(11) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)      \
    X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32)
#define PQ_WIDTHS_33_64(X)                                                                         \
    X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47)      \
    X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58) X(59) X(60) X(61) X(62)      \
    X(63) X(64)
// clang-format on

static void unpack_fast_u8(const uint8_t *in, void *out, int64_t groups, int bw) {
    switch (bw) {
#define PQ_CASE(w)                                                                                 \
    case w:                                                                                        \
        unpack_groups_fixed(in, out, groups, w, 1);                                                \
        break;
        PQ_WIDTHS_1_8(PQ_CASE)
#undef PQ_CASE
    default:
        memset(out, 0, (size_t)groups * 8);
        break;
    }
}

static void unpack_fast_u32(const uint8_t *in, void *out, int64_t groups, int bw) {
    switch (bw) {
#define PQ_CASE(w)                                                                                 \
    case w:                                                                                        \
        unpack_groups_fixed(in, out, groups, w, 4);                                                \
        break;
        PQ_WIDTHS_1_8(PQ_CASE)
        PQ_WIDTHS_9_32(PQ_CASE)
#undef PQ_CASE
    default:
        memset(out, 0, (size_t)groups * 8 * 4);
        break;
    }
}

static void unpack_fast_u64(const uint8_t *in, void *out, int64_t groups, int bw) {
    switch (bw) {
#define PQ_CASE(w)                                                                                 \
    case w:                                                                                        \
        unpack_groups_fixed(in, out, groups, w, 8);                                                \
        break;
        PQ_WIDTHS_1_8(PQ_CASE)
        PQ_WIDTHS_9_32(PQ_CASE)
        PQ_WIDTHS_33_64(PQ_CASE)
#undef PQ_CASE
    default:
        memset(out, 0, (size_t)groups * 8 * 8);
        break;
    }
}

/* Runs the fast kernel on every group that has PQ_UNPACK_SLACK readable
** bytes after it, then the few remaining groups (at the end of the input)
** from a zero-padded copy, so nothing outside [in, in+avail) is read. */
PQ_ALWAYS_INLINE void unpack_groups_safe(const uint8_t *in, size_t avail, void *out, int64_t groups,
                                         int bw, const int size) {
    if (groups <= 0) return;
    int64_t fast = groups;
    if (bw > 0 && avail < (size_t)groups * (size_t)bw + PQ_UNPACK_SLACK) {
        fast = avail >= PQ_UNPACK_SLACK + (size_t)bw
                   ? (int64_t)((avail - PQ_UNPACK_SLACK) / (size_t)bw)
                   : 0;
        if (fast > groups) fast = groups;
    }
    if (size == 1)
        unpack_fast_u8(in, out, fast, bw);
    else if (size == 4)
        unpack_fast_u32(in, out, fast, bw);
    else
        unpack_fast_u64(in, out, fast, bw);
    for (int64_t g = fast; g < groups; g++) {
        uint8_t padded[64 + PQ_UNPACK_SLACK] = {0};
        size_t off = (size_t)g * (size_t)bw;
        size_t have = avail > off ? DL_MIN((size_t)bw, avail - off) : 0;
        if (have) memcpy(padded, in + off, have);
        uint8_t *o = (uint8_t *)out + (size_t)g * 8 * (size_t)size;
        if (size == 1)
            unpack_fast_u8(padded, o, 1, bw);
        else if (size == 4)
            unpack_fast_u32(padded, o, 1, bw);
        else
            unpack_fast_u64(padded, o, 1, bw);
    }
}

void pq_unpack_groups_u8(const uint8_t *in, size_t avail, uint8_t *out, int64_t groups,
                         int bit_width) {
    unpack_groups_safe(in, avail, out, groups, bit_width, 1);
}

void pq_unpack_groups_u32(const uint8_t *in, size_t avail, uint32_t *out, int64_t groups,
                          int bit_width) {
    unpack_groups_safe(in, avail, out, groups, bit_width, 4);
}

void pq_unpack_groups_u64(const uint8_t *in, size_t avail, uint64_t *out, int64_t groups,
                          int bit_width) {
    unpack_groups_safe(in, avail, out, groups, bit_width, 8);
}

/* Packs one group of 8 values with a compile-time width: the byte loop
** fully unrolls into shifts and stores. */
PQ_ALWAYS_INLINE void pack_group(const void *values, uint8_t *out, const int bw, const int size) {
    const uint64_t mask = bw >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bw) - 1);
    if (bw > 56) { /* too wide for one accumulator: place bits piecewise */
        memset(out, 0, (size_t)bw);
        for (int i = 0; i < 8; i++) {
            uint64_t x = ((const uint64_t *)values)[i] & mask;
            int bit = i * bw;
            for (int done = 0; done < bw;) {
                int off = bit & 7, take = DL_MIN(8 - off, bw - done);
                out[bit >> 3] |= (uint8_t)((x & ((1u << take) - 1)) << off);
                x >>= take;
                bit += take;
                done += take;
            }
        }
        return;
    }
    uint64_t acc = 0;
    int nbits = 0; /* < 8 between values, so acc holds at most 7 + 56 bits */
    for (int i = 0; i < 8; i++) {
        uint64_t x = size == 4 ? ((const uint32_t *)values)[i] : ((const uint64_t *)values)[i];
        acc |= (x & mask) << nbits;
        nbits += bw;
        while (nbits >= 8) {
            *out++ = (uint8_t)acc;
            acc >>= 8;
            nbits -= 8;
        }
    }
}

PQ_ALWAYS_INLINE void pack_groups_fixed(const void *values, int64_t groups, uint8_t *out,
                                        const int bw, const int size) {
    const uint8_t *v = values;
    for (int64_t g = 0; g < groups; g++) {
        pack_group(v, out, bw, size);
        v += 8 * size;
        out += bw;
    }
}

void pq_pack_groups_u32(const uint32_t *values, int64_t groups, int bit_width, uint8_t *out) {
    switch (bit_width) {
#define PQ_CASE(w)                                                                                 \
    case w:                                                                                        \
        pack_groups_fixed(values, groups, out, w, 4);                                              \
        break;
        PQ_WIDTHS_1_8(PQ_CASE)
        PQ_WIDTHS_9_32(PQ_CASE)
#undef PQ_CASE
    default:
        break; /* width 0: no bytes */
    }
}

void pq_pack_groups_u64(const uint64_t *values, int64_t groups, int bit_width, uint8_t *out) {
    switch (bit_width) {
#define PQ_CASE(w)                                                                                 \
    case w:                                                                                        \
        pack_groups_fixed(values, groups, out, w, 8);                                              \
        break;
        PQ_WIDTHS_1_8(PQ_CASE)
        PQ_WIDTHS_9_32(PQ_CASE)
        PQ_WIDTHS_33_64(PQ_CASE)
#undef PQ_CASE
    default:
        break;
    }
}
