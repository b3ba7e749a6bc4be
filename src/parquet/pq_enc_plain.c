/*
** pq_enc_plain.c -- the byte-oriented Parquet encodings: PLAIN byte arrays
** (decoded as views into the page) and BYTE_STREAM_SPLIT (Encodings.md),
** with dedicated loops for the 4- and 8-byte widths of FLOAT/DOUBLE and
** INT32/INT64 and a cache-blocked loop for any other FIXED_LEN width.
*/
#include "pq_encoding.h"

#include <string.h>

#include "../util/dl_internal.h"

int dl_plain_decode_byte_array(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out,
                               size_t *consumed, dl_error *err) {
    if (n < 0) return dl_error_set(err, DL_EINVAL, "negative value count %lld", (long long)n);
    size_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (len - pos < 4)
            return dl_error_set(err, DL_ECORRUPT,
                                "PLAIN BYTE_ARRAY value %lld: length prefix at byte offset %zu is "
                                "truncated (%zu bytes of data)",
                                (long long)i, pos, len);
        uint32_t l = dl_load_u32le(src + pos);
        pos += 4;
        if (l > len - pos)
            return dl_error_set(err, DL_ECORRUPT,
                                "PLAIN BYTE_ARRAY value %lld at byte offset %zu declares %u bytes "
                                "but only %zu remain",
                                (long long)i, pos - 4, l, len - pos);
        out[i].ptr = src + pos;
        out[i].len = l;
        pos += l;
    }
    *consumed = pos;
    return DL_OK;
}

/* Values per tile of the generic transposition: keeps the `width` source
** streams and the output tile in L1 while bytes are scattered. */
#define BSS_TILE 256

/* Transposes between the split layout (width streams of n bytes) and the
** interleaved one.  `to_split` selects the direction; the loops are the
** same transposition read in opposite order. */
static void bss_transpose(const uint8_t *in, uint8_t *out, int width, int64_t n, int to_split) {
    const size_t sn = (size_t)n;
    if (width == 4) {
        if (to_split) {
            for (size_t i = 0; i < sn; i++) {
                uint32_t v = dl_load_u32le(in + 4 * i);
                out[i] = (uint8_t)v;
                out[sn + i] = (uint8_t)(v >> 8);
                out[2 * sn + i] = (uint8_t)(v >> 16);
                out[3 * sn + i] = (uint8_t)(v >> 24);
            }
        } else {
            const uint8_t *s0 = in, *s1 = in + sn, *s2 = in + 2 * sn, *s3 = in + 3 * sn;
            for (size_t i = 0; i < sn; i++) {
                uint32_t v = (uint32_t)s0[i] | (uint32_t)s1[i] << 8 | (uint32_t)s2[i] << 16 |
                             (uint32_t)s3[i] << 24;
                dl_store_u32le(out + 4 * i, v);
            }
        }
        return;
    }
    if (width == 8) {
        if (to_split) {
            for (size_t i = 0; i < sn; i++) {
                uint64_t v = dl_load_u64le(in + 8 * i);
                for (int k = 0; k < 8; k++) out[(size_t)k * sn + i] = (uint8_t)(v >> (8 * k));
            }
        } else {
            for (size_t i = 0; i < sn; i++) {
                uint64_t v = 0;
                for (int k = 0; k < 8; k++) v |= (uint64_t)in[(size_t)k * sn + i] << (8 * k);
                dl_store_u64le(out + 8 * i, v);
            }
        }
        return;
    }
    const size_t w = (size_t)width;
    for (size_t t = 0; t < sn; t += BSS_TILE) {
        const size_t m = DL_MIN((size_t)BSS_TILE, sn - t);
        for (size_t k = 0; k < w; k++) {
            if (to_split) {
                const uint8_t *s = in + t * w + k;
                uint8_t *d = out + k * sn + t;
                for (size_t i = 0; i < m; i++) d[i] = s[i * w];
            } else {
                const uint8_t *s = in + k * sn + t;
                uint8_t *d = out + t * w + k;
                for (size_t i = 0; i < m; i++) d[i * w] = s[i];
            }
        }
    }
}

int dl_bss_decode(const uint8_t *src, size_t len, int width, int64_t n, uint8_t *out,
                  dl_error *err) {
    size_t need;
    if (width <= 0 || n < 0)
        return dl_error_set(err, DL_EINVAL, "BYTE_STREAM_SPLIT: bad width %d or count %lld", width,
                            (long long)n);
    if (dl_size_mul((size_t)n, (size_t)width, &need) != 0 || need > len)
        return dl_error_set(err, DL_ECORRUPT,
                            "BYTE_STREAM_SPLIT data has %zu bytes but %lld values of %d bytes "
                            "need more",
                            len, (long long)n, width);
    if (n > 0) bss_transpose(src, out, width, n, 0);
    return DL_OK;
}

void dl_bss_encode(const uint8_t *values, int width, int64_t n, uint8_t *out) {
    if (width > 0 && n > 0) bss_transpose(values, out, width, n, 1);
}
