/*
** pq_enc_rle.c -- the RLE / bit-packed hybrid encoding (Parquet
** Encodings.md "RLE"): decoding into u32/u8 arrays or straight into a
** validity bitmap, and the matching encoder (Arrow's RleEncoder scheme:
** RLE runs for >= 8 repeats, otherwise bit-packed runs of up to 63 groups
** behind a one-byte header), so files we write read everywhere.
*/
#include "pq_encoding.h"

#include <string.h>

#include "../util/dl_internal.h"
#include "pq_bitpack.h"

/* Run lengths are limited to [1, 2^31-1] values by the spec; we accept
** empty runs (they consume header bytes, so cannot loop forever). */
#define RLE_MAX_RUN ((uint64_t)INT32_MAX)
/* Longest literal run the encoder emits: 63 groups keep its header in one
** byte (same limit as Arrow's encoder). */
#define RLE_MAX_LITERAL_GROUPS 63

static size_t rle_offset(const dl_rle_decoder *d, const uint8_t *p) {
    return (size_t)(p - d->start);
}

void dl_rle_decoder_init(dl_rle_decoder *d, const uint8_t *src, size_t len, int bit_width) {
    memset(d, 0, sizeof *d);
    d->start = src;
    d->p = src;
    d->end = len ? src + len : src;
    d->bit_width = bit_width;
    d->bp_ptr = d->end;
    d->bp_buf_pos = 8;
}

/* Reads the next run header (and an RLE run's value). */
static int rle_next_run(dl_rle_decoder *d, int64_t done, int64_t wanted, dl_error *err) {
    const uint8_t *hdr = d->p;
    uint64_t h;
    int r = pq_read_uleb(&d->p, d->end, 5, &h);
    if (r == -1) {
        if (hdr == d->end)
            return dl_error_set(err, DL_ECORRUPT,
                                "RLE/bit-packed data ends at byte offset %zu after %lld of %lld "
                                "values",
                                rle_offset(d, hdr), (long long)done, (long long)wanted);
        return dl_error_set(err, DL_ECORRUPT,
                            "RLE/bit-packed run header at byte offset %zu is truncated",
                            rle_offset(d, hdr));
    }
    if (r == -2)
        return dl_error_set(err, DL_ECORRUPT,
                            "RLE/bit-packed run header at byte offset %zu is a varint longer than "
                            "5 bytes",
                            rle_offset(d, hdr));
    const size_t avail = (size_t)(d->end - d->p);
    if (h & 1) {
        uint64_t groups = h >> 1;
        if (groups > RLE_MAX_RUN / 8)
            return dl_error_set(err, DL_ECORRUPT,
                                "bit-packed run at byte offset %zu declares %llu groups of 8 "
                                "(over the 2^31-1 value limit)",
                                rle_offset(d, hdr), (unsigned long long)groups);
        size_t bytes = (size_t)groups * (size_t)d->bit_width;
        d->bp_ptr = d->p;
        d->bp_left = (uint32_t)(groups * 8);
        /* A run cut short by the end of the data is only an error if its
        ** missing values are actually requested (see rle_load_group). */
        d->p = bytes <= avail ? d->p + bytes : d->end;
        return DL_OK;
    }
    uint64_t count = h >> 1;
    if (count > RLE_MAX_RUN)
        return dl_error_set(err, DL_ECORRUPT,
                            "RLE run at byte offset %zu declares %llu values (over 2^31-1)",
                            rle_offset(d, hdr), (unsigned long long)count);
    size_t value_bytes = ((size_t)d->bit_width + 7) / 8;
    if (avail < value_bytes)
        return dl_error_set(err, DL_ECORRUPT,
                            "RLE run at byte offset %zu: its %zu-byte value is truncated",
                            rle_offset(d, hdr), value_bytes);
    uint32_t v = 0;
    for (size_t k = 0; k < value_bytes; k++) v |= (uint32_t)d->p[k] << (8 * k);
    if (d->bit_width < 32 && (v >> d->bit_width) != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "RLE run at byte offset %zu repeats value %u, which does not fit in "
                            "bit width %d",
                            rle_offset(d, hdr), v, d->bit_width);
    d->p += value_bytes;
    d->rle_left = (uint32_t)count;
    d->rle_value = v;
    return DL_OK;
}

/* Unpacks the next group of the current bit-packed run into bp_buf.  A
** final group cut short by the end of the data keeps only the values whose
** bits are all present, stored at the END of bp_buf so that bp_buf_pos
** still says how many remain. */
static int rle_load_group(dl_rle_decoder *d, dl_error *err) {
    const size_t bw = (size_t)d->bit_width;
    const size_t avail = (size_t)(d->end - d->bp_ptr);
    pq_unpack_groups_u32(d->bp_ptr, avail, d->bp_buf, 1, (int)bw);
    if (avail >= bw) {
        d->bp_ptr += bw;
        d->bp_left -= 8;
        d->bp_buf_pos = 0;
        return DL_OK;
    }
    int valid = (int)(avail * 8 / bw);
    if (valid == 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "bit-packed run is truncated at byte offset %zu (the data ends "
                            "inside it)",
                            rle_offset(d, d->bp_ptr));
    memmove(d->bp_buf + 8 - valid, d->bp_buf, (size_t)valid * sizeof d->bp_buf[0]);
    d->bp_buf_pos = 8 - valid;
    d->bp_left = 0;
    d->bp_ptr = d->end;
    return DL_OK;
}

/* Whole groups of the current bit-packed run that can be unpacked straight
** into the output: needed, declared and really present. */
static int64_t rle_direct_groups(const dl_rle_decoder *d, int64_t want) {
    int64_t g = DL_MIN(want / 8, (int64_t)(d->bp_left / 8));
    int64_t present = (int64_t)((size_t)(d->end - d->bp_ptr) / (size_t)d->bit_width);
    return DL_MIN(g, present);
}

/* Shared body of the u8 and u32 decoders; `size` is a constant. */
PQ_ALWAYS_INLINE int rle_decode_impl(dl_rle_decoder *d, void *out, int64_t n, const int size,
                                     dl_error *err) {
    uint8_t *out8 = out;
    uint32_t *out32 = out;
    if (n < 0) return dl_error_set(err, DL_EINVAL, "negative value count %lld", (long long)n);
    if (d->bit_width < 0 || d->bit_width > 32)
        return dl_error_set(err, DL_EINVAL, "RLE bit width %d is outside 0..32", d->bit_width);
    if (d->bit_width == 0) {
        if (n) memset(out, 0, (size_t)n * (size_t)size);
        return DL_OK;
    }
    int64_t i = 0;
    while (i < n) {
        const int64_t want = n - i;
        if (d->bp_buf_pos < 8) {
            int k = (int)DL_MIN(want, (int64_t)(8 - d->bp_buf_pos));
            for (int j = 0; j < k; j++) {
                if (size == 1)
                    out8[i + j] = (uint8_t)d->bp_buf[d->bp_buf_pos + j];
                else
                    out32[i + j] = d->bp_buf[d->bp_buf_pos + j];
            }
            d->bp_buf_pos += k;
            i += k;
        } else if (d->rle_left) {
            int64_t k = DL_MIN(want, (int64_t)d->rle_left);
            if (size == 1)
                memset(out8 + i, (int)d->rle_value, (size_t)k);
            else
                for (int64_t j = 0; j < k; j++) out32[i + j] = d->rle_value;
            d->rle_left -= (uint32_t)k;
            i += k;
        } else if (d->bp_left) {
            int64_t g = rle_direct_groups(d, want);
            if (g > 0) {
                size_t avail = (size_t)(d->end - d->bp_ptr);
                if (size == 1)
                    pq_unpack_groups_u8(d->bp_ptr, avail, out8 + i, g, d->bit_width);
                else
                    pq_unpack_groups_u32(d->bp_ptr, avail, out32 + i, g, d->bit_width);
                d->bp_ptr += (size_t)g * (size_t)d->bit_width;
                d->bp_left -= (uint32_t)(g * 8);
                i += g * 8;
            } else {
                int rc = rle_load_group(d, err);
                if (rc != DL_OK) return rc;
            }
        } else {
            int rc = rle_next_run(d, i, n, err);
            if (rc != DL_OK) return rc;
        }
    }
    return DL_OK;
}

int dl_rle_decode_u32(dl_rle_decoder *d, uint32_t *out, int64_t n, dl_error *err) {
    return rle_decode_impl(d, out, n, 4, err);
}

int dl_rle_decode_u8(dl_rle_decoder *d, uint8_t *out, int64_t n, dl_error *err) {
    if (d->bit_width > 8)
        return dl_error_set(err, DL_EINVAL,
                            "cannot decode bit width %d into 8-bit values (at most 8 bits)",
                            d->bit_width);
    return rle_decode_impl(d, out, n, 1, err);
}

/* Sets (value 1) or clears bits [start, start+count) of a bitmap. */
static void bitmap_fill(uint8_t *bm, int64_t start, int64_t count, int value) {
    int64_t end = start + count;
    while (start < end && (start & 7)) {
        if (value)
            dl_bitmap_set(bm, start);
        else
            dl_bitmap_clear(bm, start);
        start++;
    }
    int64_t whole = (end - start) / 8;
    if (whole > 0) {
        memset(bm + (start >> 3), value ? 0xff : 0, (size_t)whole);
        start += whole * 8;
    }
    for (; start < end; start++) {
        if (value)
            dl_bitmap_set(bm, start);
        else
            dl_bitmap_clear(bm, start);
    }
}

/* Copies nbytes*8 bits (LSB-first, as bit-packed width-1 data already is)
** into the bitmap at bit `start`; returns how many of them are 1. */
static int64_t bitmap_copy_bytes(uint8_t *bm, int64_t start, const uint8_t *src, size_t nbytes) {
    int64_t ones = 0;
    size_t k = 0;
    for (; k + 8 <= nbytes; k += 8) ones += __builtin_popcountll(dl_load_u64le(src + k));
    for (; k < nbytes; k++) ones += __builtin_popcount(src[k]);
    uint8_t *d = bm + (start >> 3);
    const int shift = (int)(start & 7);
    if (shift == 0) {
        memcpy(d, src, nbytes);
        return ones;
    }
    const uint8_t keep_low = (uint8_t)((1u << shift) - 1);
    d[0] = (uint8_t)((d[0] & keep_low) | (src[0] << shift));
    for (k = 1; k < nbytes; k++) d[k] = (uint8_t)((src[k - 1] >> (8 - shift)) | (src[k] << shift));
    d[nbytes] = (uint8_t)((d[nbytes] & ~keep_low) | (src[nbytes - 1] >> (8 - shift)));
    return ones;
}

int dl_rle_decode_validity(dl_rle_decoder *d, uint8_t *validity, int64_t bit_offset, int64_t n,
                           int64_t *present, dl_error *err) {
    if (d->bit_width != 1)
        return dl_error_set(err, DL_EINVAL,
                            "validity decoding needs definition levels of bit width 1, got %d",
                            d->bit_width);
    if (n < 0 || bit_offset < 0)
        return dl_error_set(err, DL_EINVAL, "negative count or bit offset");
    int64_t i = 0, ones = 0;
    while (i < n) {
        const int64_t want = n - i, pos = bit_offset + i;
        if (d->bp_buf_pos < 8) {
            int k = (int)DL_MIN(want, (int64_t)(8 - d->bp_buf_pos));
            for (int j = 0; j < k; j++) {
                if (d->bp_buf[d->bp_buf_pos + j]) {
                    dl_bitmap_set(validity, pos + j);
                    ones++;
                } else {
                    dl_bitmap_clear(validity, pos + j);
                }
            }
            d->bp_buf_pos += k;
            i += k;
        } else if (d->rle_left) {
            int64_t k = DL_MIN(want, (int64_t)d->rle_left);
            bitmap_fill(validity, pos, k, (int)d->rle_value);
            if (d->rle_value) ones += k;
            d->rle_left -= (uint32_t)k;
            i += k;
        } else if (d->bp_left) {
            int64_t g = rle_direct_groups(d, want); /* one byte per group at width 1 */
            if (g > 0) {
                ones += bitmap_copy_bytes(validity, pos, d->bp_ptr, (size_t)g);
                d->bp_ptr += g;
                d->bp_left -= (uint32_t)(g * 8);
                i += g * 8;
            } else {
                int rc = rle_load_group(d, err);
                if (rc != DL_OK) return rc;
            }
        } else {
            int rc = rle_next_run(d, i, n, err);
            if (rc != DL_OK) return rc;
        }
    }
    *present = ones;
    return DL_OK;
}

/* ---- encoder ---- */

/* State of Arrow's RleEncoder algorithm: values are buffered 8 at a time;
** a group is emitted bit-packed unless the current value has repeated at
** least 8 times, in which case the repeats become one RLE run. */
typedef struct rle_encoder {
    dl_buf *out;
    int bit_width;
    int num_buffered;
    uint32_t buffered[8];
    uint32_t current;
    int64_t repeat_count;
    int64_t literal_count; /* values in the open literal run */
    size_t indicator_pos;  /* its header byte, or SIZE_MAX if none is open */
    int rc;                /* first allocation failure */
} rle_encoder;

static void rle_enc_init(rle_encoder *e, dl_buf *out, int bit_width) {
    memset(e, 0, sizeof *e);
    e->out = out;
    e->bit_width = bit_width;
    e->indicator_pos = SIZE_MAX;
}

static void rle_enc_open_literal(rle_encoder *e) {
    if (e->indicator_pos != SIZE_MAX) return;
    e->indicator_pos = e->out->len; /* header byte, filled in when the run closes */
    if (dl_buf_append_u8(e->out, 0) != DL_OK) e->rc = DL_ENOMEM;
}

static void rle_enc_close_literal(rle_encoder *e) {
    int64_t groups = (e->literal_count + 7) / 8;
    if (e->rc == DL_OK) e->out->data[e->indicator_pos] = (uint8_t)((groups << 1) | 1);
    e->indicator_pos = SIZE_MAX;
    e->literal_count = 0;
}

static void rle_enc_flush_literal(rle_encoder *e, int close_run) {
    rle_enc_open_literal(e);
    if (e->num_buffered > 0) { /* always a full (possibly padded) group */
        uint8_t *dst = dl_buf_extend(e->out, (size_t)e->bit_width);
        if (dst)
            pq_pack_groups_u32(e->buffered, 1, e->bit_width, dst);
        else
            e->rc = DL_ENOMEM;
        e->num_buffered = 0;
    }
    if (close_run) rle_enc_close_literal(e);
}

/* Fast path for 8 values that are not all equal arriving with nothing
** buffered and no repeat pending: 8 puts would buffer them and flush them
** as one literal group, leaving `current` = the last value and no repeat.
** This does the same in one step from the already packed group. */
static void rle_enc_literal_group(rle_encoder *e, const uint8_t *packed, uint32_t last) {
    rle_enc_open_literal(e);
    if (dl_buf_append(e->out, packed, (size_t)e->bit_width) != DL_OK) e->rc = DL_ENOMEM;
    e->literal_count += 8;
    e->current = last;
    e->repeat_count = 0;
    if ((e->literal_count + 7) / 8 + 1 > RLE_MAX_LITERAL_GROUPS) rle_enc_close_literal(e);
}

static void rle_enc_flush_repeated(rle_encoder *e) {
    if (dl_buf_append_uleb(e->out, (uint64_t)e->repeat_count << 1) != DL_OK) e->rc = DL_ENOMEM;
    for (int k = 0; k < (e->bit_width + 7) / 8; k++)
        if (dl_buf_append_u8(e->out, (uint8_t)(e->current >> (8 * k))) != DL_OK) e->rc = DL_ENOMEM;
    e->num_buffered = 0;
    e->repeat_count = 0;
}

static void rle_enc_flush_buffered(rle_encoder *e) {
    if (e->repeat_count >= 8) {
        /* The buffered values are all repeats: they go into the RLE run. */
        e->num_buffered = 0;
        if (e->literal_count != 0) rle_enc_flush_literal(e, 1);
        return;
    }
    e->literal_count += e->num_buffered;
    int64_t groups = (e->literal_count + 7) / 8;
    rle_enc_flush_literal(e, groups + 1 > RLE_MAX_LITERAL_GROUPS);
    e->repeat_count = 0;
}

PQ_ALWAYS_INLINE void rle_enc_put(rle_encoder *e, uint32_t v) {
    if (v == e->current) {
        if (++e->repeat_count > 8) {
            if ((uint64_t)e->repeat_count == RLE_MAX_RUN) rle_enc_flush_repeated(e);
            return; /* extends the RLE run, nothing to buffer */
        }
    } else {
        if (e->repeat_count >= 8) rle_enc_flush_repeated(e);
        e->repeat_count = 1;
        e->current = v;
    }
    e->buffered[e->num_buffered++] = v;
    if (e->num_buffered == 8) rle_enc_flush_buffered(e);
}

static int rle_enc_finish(rle_encoder *e) {
    if (e->literal_count > 0 || e->repeat_count > 0 || e->num_buffered > 0) {
        int all_repeat =
            e->literal_count == 0 && (e->repeat_count == e->num_buffered || e->num_buffered == 0);
        if (e->repeat_count > 0 && all_repeat) {
            rle_enc_flush_repeated(e);
        } else {
            /* Pad the last literal group to 8 with zeros. */
            for (; e->num_buffered != 0 && e->num_buffered < 8; e->num_buffered++)
                e->buffered[e->num_buffered] = 0;
            e->literal_count += e->num_buffered;
            rle_enc_flush_literal(e, 1);
            e->repeat_count = 0;
        }
    }
    return e->rc;
}

/* Checks the width and that no value has bits above it (OR of all values). */
static int rle_check_width(uint32_t all_bits, int bit_width) {
    if (bit_width < 0 || bit_width > 32) return DL_EINVAL;
    if (bit_width < 32 && (all_bits >> bit_width) != 0) return DL_EINVAL;
    return DL_OK;
}

/* Finishes an encode, dropping partial output on failure. */
static int rle_enc_done(rle_encoder *e, size_t start_len) {
    int rc = rle_enc_finish(e);
    if (rc != DL_OK) e->out->len = DL_MIN(start_len, e->out->len);
    return rc;
}

/* Shared body of the u8 and u32 encoders; `size` is a constant. */
PQ_ALWAYS_INLINE int rle_encode_impl(const void *values, int64_t n, int bit_width, dl_buf *out,
                                     const int size) {
    const uint8_t *v8 = values;
    const uint32_t *v32 = values;
    if (n < 0) return DL_EINVAL;
    uint32_t all_bits = 0;
    for (int64_t i = 0; i < n; i++) all_bits |= size == 1 ? v8[i] : v32[i];
    if (rle_check_width(all_bits, bit_width) != DL_OK) return DL_EINVAL;
    rle_encoder e;
    rle_enc_init(&e, out, bit_width);
    size_t start_len = out->len;
    int64_t i = 0;
    while (i < n) {
        if (e.num_buffered == 0 && e.repeat_count == 0 && n - i >= 8) {
            uint32_t group[8];
            int same = 1;
            for (int j = 0; j < 8; j++) {
                group[j] = size == 1 ? v8[i + j] : v32[i + j];
                same &= group[j] == group[0];
            }
            if (!same) {
                uint8_t packed[32];
                pq_pack_groups_u32(group, 1, bit_width, packed);
                rle_enc_literal_group(&e, packed, group[7]);
                i += 8;
                continue;
            }
        }
        rle_enc_put(&e, size == 1 ? v8[i] : v32[i]);
        i++;
    }
    return rle_enc_done(&e, start_len);
}

int dl_rle_encode_u32(const uint32_t *values, int64_t n, int bit_width, dl_buf *out) {
    return rle_encode_impl(values, n, bit_width, out, 4);
}

int dl_rle_encode_u8(const uint8_t *values, int64_t n, int bit_width, dl_buf *out) {
    return rle_encode_impl(values, n, bit_width, out, 1);
}

int dl_rle_encode_validity(const uint8_t *validity, int64_t offset, int64_t n, dl_buf *out) {
    if (n < 0 || offset < 0) return DL_EINVAL;
    rle_encoder e;
    rle_enc_init(&e, out, 1);
    size_t start_len = out->len;
    int64_t i = 0;
    while (i < n) {
        const int64_t pos = offset + i;
        /* Inside a long RLE run (nothing buffered), whole aligned bytes of
        ** the same bit extend it 8 at a time. */
        if ((pos & 7) == 0 && e.repeat_count >= 8 && e.num_buffered == 0 && n - i >= 8 &&
            (uint64_t)e.repeat_count < RLE_MAX_RUN - 8 &&
            validity[pos >> 3] == (e.current ? 0xff : 0x00)) {
            e.repeat_count += 8;
            i += 8;
            continue;
        }
        if (e.num_buffered == 0 && e.repeat_count == 0 && n - i >= 8) {
            /* 8 levels at width 1 pack into exactly their bitmap byte. */
            const int shift = (int)(pos & 7);
            uint8_t byte = (uint8_t)(validity[pos >> 3] >> shift);
            if (shift) byte |= (uint8_t)(validity[(pos >> 3) + 1] << (8 - shift));
            if (byte != 0 && byte != 0xff) {
                rle_enc_literal_group(&e, &byte, byte >> 7);
                i += 8;
                continue;
            }
        }
        rle_enc_put(&e, (uint32_t)dl_bitmap_get(validity, pos));
        i++;
    }
    return rle_enc_done(&e, start_len);
}
