/*
** pq_enc_delta.c -- the delta encodings of Parquet (Encodings.md):
** DELTA_BINARY_PACKED for INT32/INT64, and the byte-array encodings built
** on it, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY.  Decoding unpacks
** whole miniblocks straight into the output and then prefix-sums them, so
** sorted timestamps (small deltas) decode at memory speed.
*/
#include "pq_encoding.h"

#include <stdlib.h>
#include <string.h>

#include "../util/dl_internal.h"
#include "pq_bitpack.h"

/* Encoder layout: the one every mainstream writer uses. */
#define DBP_BLOCK            128
#define DBP_MINIBLOCKS       4
#define DBP_MINIBLOCK_VALUES (DBP_BLOCK / DBP_MINIBLOCKS)
/* Sanity cap on a declared block size (Arrow/parquet-mr use 128..1024). */
#define DBP_MAX_BLOCK ((uint64_t)1 << 31)

/* ---- DELTA_BINARY_PACKED decoding ---- */

typedef struct dbp_header {
    uint64_t block_size, miniblocks, total, per_miniblock;
    uint64_t first; /* zigzag-decoded, as two's complement bits */
} dbp_header;

static int dbp_varint_error(int r, const char *what, size_t off, dl_error *err) {
    return dl_error_set(err, DL_ECORRUPT, "DELTA_BINARY_PACKED %s at byte offset %zu is %s", what,
                        off, r == -1 ? "truncated" : "an over-long or overflowing varint");
}

static int dbp_read_header(const uint8_t *src, const uint8_t **p, const uint8_t *end, size_t base,
                           dbp_header *h, dl_error *err) {
    uint64_t raw[4];
    static const char *const names[4] = {"block size", "miniblock count", "value count",
                                         "first value"};
    for (int k = 0; k < 4; k++) {
        size_t off = base + (size_t)(*p - src);
        int r = pq_read_uleb(p, end, 10, &raw[k]);
        if (r != 0) return dbp_varint_error(r, names[k], off, err);
    }
    h->block_size = raw[0];
    h->miniblocks = raw[1];
    h->total = raw[2];
    h->first = (uint64_t)pq_zigzag_decode(raw[3]);
    if (h->block_size == 0 || h->block_size % 128 != 0 || h->block_size > DBP_MAX_BLOCK)
        return dl_error_set(err, DL_ECORRUPT,
                            "DELTA_BINARY_PACKED header at byte offset %zu: block size %llu is "
                            "not a positive multiple of 128",
                            base, (unsigned long long)h->block_size);
    if (h->miniblocks == 0 || h->block_size % h->miniblocks != 0 ||
        (h->block_size / h->miniblocks) % 32 != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "DELTA_BINARY_PACKED header at byte offset %zu: %llu miniblocks "
                            "per block of %llu values (values per miniblock must be a multiple "
                            "of 32)",
                            base, (unsigned long long)h->miniblocks,
                            (unsigned long long)h->block_size);
    h->per_miniblock = h->block_size / h->miniblocks;
    return DL_OK;
}

/* Decodes `want` deltas of one miniblock at `in` into out[] (elements of
** `size` bytes) and turns them into values by prefix sum from *last. */
PQ_ALWAYS_INLINE void dbp_decode_miniblock(const uint8_t *in, size_t avail, void *out, int64_t want,
                                           int bw, uint64_t min_delta, uint64_t *last,
                                           const int size) {
    const int64_t whole = want / 8, rest = want % 8;
    if (size == 8) {
        uint64_t *o = out, v = *last;
        if (bw == 0) {
            for (int64_t j = 0; j < want; j++) o[j] = (v += min_delta);
        } else {
            pq_unpack_groups_u64(in, avail, o, whole, bw);
            if (rest) {
                uint64_t tail[8];
                size_t off = (size_t)whole * (size_t)bw;
                pq_unpack_groups_u64(in + off, avail - off, tail, 1, bw);
                memcpy(o + whole * 8, tail, (size_t)rest * sizeof tail[0]);
            }
            for (int64_t j = 0; j < want; j++) o[j] = (v += min_delta + o[j]);
        }
        *last = v;
    } else {
        uint32_t *o = out, v = (uint32_t)*last, md = (uint32_t)min_delta;
        if (bw == 0) {
            for (int64_t j = 0; j < want; j++) o[j] = (v += md);
        } else {
            pq_unpack_groups_u32(in, avail, o, whole, bw);
            if (rest) {
                uint32_t tail[8];
                size_t off = (size_t)whole * (size_t)bw;
                pq_unpack_groups_u32(in + off, avail - off, tail, 1, bw);
                memcpy(o + whole * 8, tail, (size_t)rest * sizeof tail[0]);
            }
            for (int64_t j = 0; j < want; j++) o[j] = (v += md + o[j]);
        }
        *last = v;
    }
}

/* Shared DBP decoder; `size` (4 or 8) is a constant.  `base` is src's
** offset inside the caller's buffer, for error messages.  After the n
** requested values it keeps walking block headers (without unpacking) to
** the end of the stream so that *consumed is exact even if the stream
** holds more values than requested. */
PQ_ALWAYS_INLINE int dbp_decode_impl(const uint8_t *src, size_t len, void *out, int64_t n,
                                     size_t *consumed, size_t base, const int size, dl_error *err) {
    const int max_bw = size * 8;
    const uint8_t *p = src, *end = len ? src + len : src;
    dbp_header h;
    if (n < 0) return dl_error_set(err, DL_EINVAL, "negative value count %lld", (long long)n);
    int rc = dbp_read_header(src, &p, end, base, &h, err);
    if (rc != DL_OK) return rc;
    if (h.total < (uint64_t)n)
        return dl_error_set(err, DL_ECORRUPT,
                            "DELTA_BINARY_PACKED data at byte offset %zu holds %llu values but "
                            "%lld are needed",
                            base, (unsigned long long)h.total, (long long)n);
    uint8_t *o = out;
    int64_t produced = 0;
    uint64_t last = h.first;
    if (n > 0) {
        if (size == 8)
            ((uint64_t *)out)[0] = h.first;
        else
            ((uint32_t *)out)[0] = (uint32_t)h.first;
        produced = 1;
    }
    uint64_t remaining = h.total ? h.total - 1 : 0; /* deltas still in the stream */
    while (remaining > 0) {
        size_t block_off = base + (size_t)(p - src);
        uint64_t zz;
        int r = pq_read_uleb(&p, end, 10, &zz);
        if (r != 0) return dbp_varint_error(r, "block min delta", block_off, err);
        const uint64_t min_delta = (uint64_t)pq_zigzag_decode(zz);
        if ((uint64_t)(end - p) < h.miniblocks)
            return dl_error_set(err, DL_ECORRUPT,
                                "DELTA_BINARY_PACKED block at byte offset %zu: its %llu miniblock "
                                "bit widths are truncated",
                                block_off, (unsigned long long)h.miniblocks);
        const uint8_t *widths = p;
        p += h.miniblocks;
        /* Only miniblocks that hold values have bodies (and meaningful
        ** widths); the last block may leave some unused. */
        for (uint64_t m = 0; m < h.miniblocks && remaining > 0; m++) {
            const int bw = widths[m];
            const size_t mb_off = base + (size_t)(p - src);
            if (bw > max_bw)
                return dl_error_set(err, DL_ECORRUPT,
                                    "DELTA_BINARY_PACKED miniblock at byte offset %zu has bit "
                                    "width %d (at most %d for %s)",
                                    mb_off, bw, max_bw, size == 8 ? "INT64" : "INT32");
            const size_t bytes = (size_t)(h.per_miniblock / 8) * (size_t)bw;
            const size_t avail = (size_t)(end - p);
            if (avail < bytes)
                return dl_error_set(err, DL_ECORRUPT,
                                    "DELTA_BINARY_PACKED miniblock at byte offset %zu needs %zu "
                                    "bytes but only %zu remain",
                                    mb_off, bytes, avail);
            const uint64_t in_mb = DL_MIN(h.per_miniblock, remaining);
            const int64_t want = (int64_t)DL_MIN(in_mb, (uint64_t)(n - produced));
            if (want > 0) {
                dbp_decode_miniblock(p, avail, o + (size_t)produced * (size_t)size, want, bw,
                                     min_delta, &last, size);
                produced += want;
            }
            p += bytes;
            remaining -= in_mb;
        }
    }
    *consumed = (size_t)(p - src);
    return DL_OK;
}

static int dbp_decode_i32_at(const uint8_t *src, size_t len, int32_t *out, int64_t n,
                             size_t *consumed, size_t base, dl_error *err) {
    return dbp_decode_impl(src, len, out, n, consumed, base, 4, err);
}

int dl_dbp_decode_i64(const uint8_t *src, size_t len, int64_t *out, int64_t n, size_t *consumed,
                      dl_error *err) {
    return dbp_decode_impl(src, len, out, n, consumed, 0, 8, err);
}

int dl_dbp_decode_i32(const uint8_t *src, size_t len, int32_t *out, int64_t n, size_t *consumed,
                      dl_error *err) {
    return dbp_decode_i32_at(src, len, out, n, consumed, 0, err);
}

/* ---- DELTA_BINARY_PACKED encoding ---- */

/* Streaming encoder: values arrive in chunks (as int64; INT32 values
** sign-extended) and every 128 deltas become one block. */
typedef struct dbp_writer {
    dl_buf *out;
    int is32; /* deltas wrap at 32 bits so that widths stay <= 32 */
    uint64_t prev;
    int count; /* deltas buffered in the current block */
    int rc;
    uint64_t deltas[DBP_BLOCK];
} dbp_writer;

static void dbp_writer_begin(dbp_writer *w, dl_buf *out, int is32, int64_t n, int64_t first) {
    w->out = out;
    w->is32 = is32;
    w->prev = (uint64_t)first;
    w->count = 0;
    w->rc = DL_OK;
    if (dl_buf_append_uleb(out, DBP_BLOCK) != DL_OK ||
        dl_buf_append_uleb(out, DBP_MINIBLOCKS) != DL_OK ||
        dl_buf_append_uleb(out, (uint64_t)n) != DL_OK ||
        dl_buf_append_uleb(out, pq_zigzag_encode(first)) != DL_OK)
        w->rc = DL_ENOMEM;
}

static void dbp_writer_flush_block(dbp_writer *w) {
    if (w->count == 0) return;
    int64_t min_delta = (int64_t)w->deltas[0];
    for (int j = 1; j < w->count; j++)
        if ((int64_t)w->deltas[j] < min_delta) min_delta = (int64_t)w->deltas[j];
    /* Deltas minus the minimum are non-negative and, for INT32 (deltas in
    ** int32 range), below 2^32.  Unused slots pad with zeros. */
    uint64_t adj[DBP_BLOCK];
    for (int j = 0; j < DBP_BLOCK; j++)
        adj[j] = j < w->count ? w->deltas[j] - (uint64_t)min_delta : 0;
    uint8_t widths[DBP_MINIBLOCKS] = {0};
    int used = (w->count + DBP_MINIBLOCK_VALUES - 1) / DBP_MINIBLOCK_VALUES;
    for (int m = 0; m < used; m++) {
        uint64_t bits = 0;
        for (int j = 0; j < DBP_MINIBLOCK_VALUES; j++) bits |= adj[m * DBP_MINIBLOCK_VALUES + j];
        widths[m] = (uint8_t)dl_bit_width(bits);
    }
    size_t body = 0;
    for (int m = 0; m < used; m++) body += (size_t)widths[m] * (DBP_MINIBLOCK_VALUES / 8);
    if (dl_buf_append_uleb(w->out, pq_zigzag_encode(min_delta)) != DL_OK ||
        dl_buf_append(w->out, widths, sizeof widths) != DL_OK) {
        w->rc = DL_ENOMEM;
        return;
    }
    uint8_t *dst = dl_buf_extend(w->out, body);
    if (!dst) {
        w->rc = DL_ENOMEM;
        return;
    }
    for (int m = 0; m < used; m++) {
        pq_pack_groups_u64(adj + m * DBP_MINIBLOCK_VALUES, DBP_MINIBLOCK_VALUES / 8, widths[m],
                           dst);
        dst += (size_t)widths[m] * (DBP_MINIBLOCK_VALUES / 8);
    }
    w->count = 0;
}

static void dbp_writer_put(dbp_writer *w, const int64_t *values, int64_t count) {
    int64_t i = 0;
    while (i < count) {
        /* Fill the block in one tight loop, the INT32 test hoisted out. */
        const int k = (int)DL_MIN((int64_t)(DBP_BLOCK - w->count), count - i);
        uint64_t prev = w->prev, *d = w->deltas + w->count;
        if (w->is32) {
            for (int j = 0; j < k; j++) {
                uint64_t v = (uint64_t)values[i + j];
                d[j] = (uint64_t)(int64_t)(int32_t)(uint32_t)(v - prev);
                prev = v;
            }
        } else {
            for (int j = 0; j < k; j++) {
                uint64_t v = (uint64_t)values[i + j];
                d[j] = v - prev;
                prev = v;
            }
        }
        w->prev = prev;
        w->count += k;
        i += k;
        if (w->count == DBP_BLOCK) dbp_writer_flush_block(w);
    }
}

static int dbp_writer_finish(dbp_writer *w, size_t start_len) {
    dbp_writer_flush_block(w);
    if (w->rc != DL_OK) w->out->len = DL_MIN(start_len, w->out->len);
    return w->rc;
}

int dl_dbp_encode_i64(const int64_t *values, int64_t n, dl_buf *out) {
    if (n < 0) return DL_EINVAL;
    size_t start_len = out->len;
    dbp_writer w;
    dbp_writer_begin(&w, out, 0, n, n ? values[0] : 0);
    if (n > 1) dbp_writer_put(&w, values + 1, n - 1);
    return dbp_writer_finish(&w, start_len);
}

#define DBP_CHUNK 512 /* values converted to int64 per step */

int dl_dbp_encode_i32(const int32_t *values, int64_t n, dl_buf *out) {
    if (n < 0) return DL_EINVAL;
    size_t start_len = out->len;
    dbp_writer w;
    dbp_writer_begin(&w, out, 1, n, n ? values[0] : 0);
    int64_t chunk[DBP_CHUNK];
    for (int64_t i = 1; i < n; i += DBP_CHUNK) {
        int64_t k = DL_MIN((int64_t)DBP_CHUNK, n - i);
        for (int64_t j = 0; j < k; j++) chunk[j] = values[i + j];
        dbp_writer_put(&w, chunk, k);
    }
    return dbp_writer_finish(&w, start_len);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY ---- */

/* Decodes n lengths into a fresh int32 array (*lengths, free()). */
static int dbp_decode_lengths(const uint8_t *src, size_t len, int64_t n, int32_t **lengths,
                              size_t *consumed, size_t base, dl_error *err) {
    size_t bytes;
    *lengths = NULL;
    if (n < 0) return dl_error_set(err, DL_EINVAL, "negative value count %lld", (long long)n);
    if (dl_size_mul((size_t)n, sizeof(int32_t), &bytes) != 0)
        return dl_error_set(err, DL_ENOMEM, "%lld byte-array lengths is too many", (long long)n);
    *lengths = malloc(bytes ? bytes : 1);
    if (!*lengths) return dl_error_set(err, DL_ENOMEM, "out of memory for %zu bytes", bytes);
    return dbp_decode_i32_at(src, len, *lengths, n, consumed, base, err);
}

static int dlba_decode_at(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out,
                          size_t *consumed, size_t base, dl_error *err) {
    int rc = DL_OK;
    int32_t *lengths = NULL;
    size_t lengths_size = 0;
    DL_TRY(dbp_decode_lengths(src, len, n, &lengths, &lengths_size, base, err));
    const uint8_t *data = src + lengths_size;
    const size_t avail = len - lengths_size;
    size_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (lengths[i] < 0)
            DL_FAIL(err, DL_ECORRUPT,
                    "DELTA_LENGTH_BYTE_ARRAY at byte offset %zu: value %lld has negative length "
                    "%d",
                    base, (long long)i, (int)lengths[i]);
        if ((size_t)lengths[i] > avail - pos)
            DL_FAIL(err, DL_ECORRUPT,
                    "DELTA_LENGTH_BYTE_ARRAY value %lld (%d bytes at byte offset %zu) runs past "
                    "the end of the data (%zu bytes)",
                    (long long)i, (int)lengths[i], base + lengths_size + pos, base + len);
        out[i].ptr = data + pos;
        out[i].len = (uint32_t)lengths[i];
        pos += (size_t)lengths[i];
    }
    *consumed = lengths_size + pos;
cleanup:
    free(lengths);
    return rc;
}

int dl_dlba_decode(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out, size_t *consumed,
                   dl_error *err) {
    return dlba_decode_at(src, len, n, out, consumed, 0, err);
}

int dl_dlba_encode(const int64_t *offsets, const char *data, int64_t n, dl_buf *out) {
    if (n < 0) return DL_EINVAL;
    for (int64_t i = 0; i < n; i++) {
        int64_t l = offsets[i + 1] - offsets[i];
        if (l < 0 || l > INT32_MAX) return DL_EINVAL;
    }
    size_t start_len = out->len;
    dbp_writer w;
    dbp_writer_begin(&w, out, 1, n, n ? offsets[1] - offsets[0] : 0);
    int64_t chunk[DBP_CHUNK];
    for (int64_t i = 1; i < n; i += DBP_CHUNK) {
        int64_t k = DL_MIN((int64_t)DBP_CHUNK, n - i);
        for (int64_t j = 0; j < k; j++) chunk[j] = offsets[i + j + 1] - offsets[i + j];
        dbp_writer_put(&w, chunk, k);
    }
    int rc = dbp_writer_finish(&w, start_len);
    if (rc == DL_OK && n > 0)
        rc = dl_buf_append(out, data + offsets[0], (size_t)(offsets[n] - offsets[0]));
    if (rc != DL_OK) out->len = DL_MIN(start_len, out->len);
    return rc;
}

/* ---- DELTA_BYTE_ARRAY ---- */

int dl_dba_decode(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out, dl_buf *scratch,
                  size_t *consumed, dl_error *err) {
    static const uint8_t empty[1];
    int rc = DL_OK;
    int32_t *prefix = NULL;
    size_t prefix_size = 0, suffix_size = 0;
    DL_TRY(dbp_decode_lengths(src, len, n, &prefix, &prefix_size, 0, err));
    DL_TRY(dlba_decode_at(src + prefix_size, len - prefix_size, n, out, &suffix_size, prefix_size,
                          err));
    /* Validate every length and size the output once, so that the views
    ** handed out below stay valid. */
    uint64_t total = 0, prev_len = 0;
    for (int64_t i = 0; i < n; i++) {
        if (prefix[i] < 0 || (uint64_t)prefix[i] > prev_len)
            DL_FAIL(err, DL_ECORRUPT,
                    "DELTA_BYTE_ARRAY value %lld: prefix length %d is longer than the previous "
                    "value (%llu bytes)",
                    (long long)i, (int)prefix[i], (unsigned long long)prev_len);
        uint64_t vlen = (uint64_t)prefix[i] + out[i].len;
        if (vlen > UINT32_MAX)
            DL_FAIL(err, DL_ECORRUPT, "DELTA_BYTE_ARRAY value %lld is %llu bytes (over 4 GiB)",
                    (long long)i, (unsigned long long)vlen);
        total += vlen;
        if (total > DL_MAX_ALLOC)
            DL_FAIL(err, DL_ENOMEM,
                    "DELTA_BYTE_ARRAY values expand to more than %zu bytes (at value %lld)",
                    (size_t)DL_MAX_ALLOC, (long long)i);
        prev_len = vlen;
    }
    dl_buf_reset(scratch);
    if (dl_buf_reserve(scratch, (size_t)total) != DL_OK)
        DL_FAIL(err, DL_ENOMEM, "out of memory for %llu bytes of DELTA_BYTE_ARRAY values",
                (unsigned long long)total);
    uint8_t *dst = scratch->data;
    const uint8_t *prev = NULL;
    for (int64_t i = 0; i < n; i++) {
        size_t pl = (size_t)prefix[i], sl = out[i].len;
        if (pl + sl == 0) { /* scratch may have no storage at all */
            out[i].ptr = empty;
            out[i].len = 0;
            continue;
        }
        /* pl <= the previous value's length (checked above), so pl > 0 means
        ** prev points at that value */
        // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
        if (pl) memcpy(dst, prev, pl);
        if (sl) memcpy(dst + pl, out[i].ptr, sl);
        out[i].ptr = dst;
        out[i].len = (uint32_t)(pl + sl);
        prev = dst;
        dst += pl + sl;
    }
    scratch->len = (size_t)total;
    *consumed = prefix_size + suffix_size;
cleanup:
    free(prefix);
    return rc;
}
