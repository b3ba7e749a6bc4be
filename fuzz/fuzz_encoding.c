/*
** fuzz_encoding.c -- libFuzzer target for the Parquet value/level decoders
** (pq_encoding.h).  Input layout:
**   byte 0      decoder: 0 RLE u32, 1 RLE u8, 2 validity, 3 DBP i32,
**               4 DBP i64, 5 BYTE_STREAM_SPLIT, 6 PLAIN byte array,
**               7 DELTA_LENGTH_BYTE_ARRAY, 8 DELTA_BYTE_ARRAY
**   byte 1      parameter (bit width, bit offset, BSS width, chunk size)
**   bytes 2..3  value count / 2 (LE), capped at 100000
**   rest        the encoded payload
** Decoders must never crash or read out of bounds; whenever a decode
** succeeds for a type we can encode, encoding the values again and
** decoding that must give the same values (abort() otherwise).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq_encoding.h"
#include "util/dl_buf.h"

#define MAX_VALUES     100000
#define MAX_DBA_VALUES 10000 /* DBA output can be n x input size */

static void require(int cond) {
    if (!cond) abort();
}

/* One-shot RLE decode vs. the same stream decoded in chunks, then a re-encode round trip. */
static void fuzz_rle(const uint8_t *src, size_t len, int bw, int64_t n, int chunk, int as_u8) {
    dl_error err;
    dl_rle_decoder d;
    size_t sz = as_u8 ? 1 : 4;
    uint8_t *a = malloc((size_t)n * sz + 1), *b = malloc((size_t)n * sz + 1);
    dl_buf enc = DL_BUF_INIT;
    dl_rle_decoder_init(&d, src, len, bw);
    int rc =
        as_u8 ? dl_rle_decode_u8(&d, a, n, &err) : dl_rle_decode_u32(&d, (uint32_t *)a, n, &err);
    if (rc != DL_OK) goto done;
    dl_rle_decoder_init(&d, src, len, bw);
    for (int64_t i = 0; i < n;) {
        int64_t k = n - i < chunk ? n - i : chunk;
        rc = as_u8 ? dl_rle_decode_u8(&d, b + i, k, &err)
                   : dl_rle_decode_u32(&d, (uint32_t *)b + i, k, &err);
        require(rc == DL_OK);
        i += k;
    }
    require(memcmp(a, b, (size_t)n * sz) == 0);
    rc = as_u8 ? dl_rle_encode_u8(a, n, bw, &enc) : dl_rle_encode_u32((uint32_t *)a, n, bw, &enc);
    require(rc == DL_OK);
    dl_rle_decoder_init(&d, enc.data, enc.len, bw);
    rc = as_u8 ? dl_rle_decode_u8(&d, b, n, &err) : dl_rle_decode_u32(&d, (uint32_t *)b, n, &err);
    require(rc == DL_OK && memcmp(a, b, (size_t)n * sz) == 0);
done:
    free(a);
    free(b);
    dl_buf_free(&enc);
}

static void fuzz_validity(const uint8_t *src, size_t len, int offset, int64_t n) {
    dl_error err;
    dl_rle_decoder d;
    size_t bytes = (size_t)(n + offset) / 8 + 1;
    uint8_t *bm = calloc(bytes, 1), *bm2 = calloc(bytes, 1), *levels = malloc((size_t)n + 1);
    dl_buf enc = DL_BUF_INIT;
    int64_t present = 0, present2 = 0, ones = 0;
    dl_rle_decoder_init(&d, src, len, 1);
    if (dl_rle_decode_validity(&d, bm, offset, n, &present, &err) != DL_OK) goto done;
    /* The same levels decoded as bytes agree bit for bit. */
    dl_rle_decoder_init(&d, src, len, 1);
    require(dl_rle_decode_u8(&d, levels, n, &err) == DL_OK);
    for (int64_t i = 0; i < n; i++) {
        require(((bm[(offset + i) >> 3] >> ((offset + i) & 7)) & 1) == levels[i]);
        ones += levels[i];
    }
    require(ones == present);
    require(dl_rle_encode_validity(bm, offset, n, &enc) == DL_OK);
    dl_rle_decoder_init(&d, enc.data, enc.len, 1);
    require(dl_rle_decode_validity(&d, bm2, offset, n, &present2, &err) == DL_OK);
    require(present2 == present && memcmp(bm, bm2, bytes) == 0);
done:
    free(bm);
    free(bm2);
    free(levels);
    dl_buf_free(&enc);
}

static void fuzz_dbp(const uint8_t *src, size_t len, int64_t n, int wide) {
    dl_error err;
    size_t consumed = 0, consumed2 = 0, sz = wide ? 8 : 4;
    uint8_t *a = malloc((size_t)n * sz + 1), *b = malloc((size_t)n * sz + 1);
    dl_buf enc = DL_BUF_INIT;
    int rc = wide ? dl_dbp_decode_i64(src, len, (int64_t *)a, n, &consumed, &err)
                  : dl_dbp_decode_i32(src, len, (int32_t *)a, n, &consumed, &err);
    if (rc != DL_OK) goto done;
    require(consumed <= len);
    rc = wide ? dl_dbp_encode_i64((int64_t *)a, n, &enc) : dl_dbp_encode_i32((int32_t *)a, n, &enc);
    require(rc == DL_OK);
    rc = wide ? dl_dbp_decode_i64(enc.data, enc.len, (int64_t *)b, n, &consumed2, &err)
              : dl_dbp_decode_i32(enc.data, enc.len, (int32_t *)b, n, &consumed2, &err);
    require(rc == DL_OK && consumed2 == enc.len && memcmp(a, b, (size_t)n * sz) == 0);
done:
    free(a);
    free(b);
    dl_buf_free(&enc);
}

static void fuzz_bss(const uint8_t *src, size_t len, int width, int64_t n) {
    dl_error err;
    size_t bytes = (size_t)n * (size_t)width;
    uint8_t *out = malloc(bytes + 1), *back = malloc(bytes + 1);
    if (dl_bss_decode(src, len, width, n, out, &err) == DL_OK) {
        dl_bss_encode(out, width, n, back);
        require(memcmp(back, src, bytes) == 0);
    }
    free(out);
    free(back);
}

/* Views must lie inside [lo, lo+len). */
static void require_views_inside(const dl_bytes_view *v, int64_t n, const uint8_t *lo, size_t len) {
    for (int64_t i = 0; i < n; i++)
        require(v[i].len == 0 ||
                (v[i].ptr >= lo && v[i].len <= len && (size_t)(v[i].ptr - lo) <= len - v[i].len));
}

/* Encodes views as DLBA (or as DBA when `dba`: common prefix with the
** previous value, then DLBA suffixes) and checks they decode the same. */
static void reencode_bytes(const dl_bytes_view *v, int64_t n, int dba) {
    dl_error err;
    int64_t *offsets = malloc((size_t)(n + 1) * sizeof *offsets);
    int32_t *prefix = malloc((size_t)n * sizeof *prefix + 1);
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) total += v[i].len;
    char *data = malloc(total + 1);
    offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t p = 0;
        if (dba && i > 0)
            while (p < v[i].len && p < v[i - 1].len && v[i].ptr[p] == v[i - 1].ptr[p]) p++;
        prefix[i] = (int32_t)p;
        if (v[i].len - p) memcpy(data + offsets[i], v[i].ptr + p, v[i].len - p);
        offsets[i + 1] = offsets[i] + (v[i].len - p);
    }
    dl_buf enc = DL_BUF_INIT, scratch = DL_BUF_INIT;
    if (dba) require(dl_dbp_encode_i32(prefix, n, &enc) == DL_OK);
    require(dl_dlba_encode(offsets, data, n, &enc) == DL_OK);
    dl_bytes_view *w = malloc((size_t)(n + 1) * sizeof *w);
    size_t consumed = 0;
    int rc = dba ? dl_dba_decode(enc.data, enc.len, n, w, &scratch, &consumed, &err)
                 : dl_dlba_decode(enc.data, enc.len, n, w, &consumed, &err);
    require(rc == DL_OK && consumed == enc.len);
    for (int64_t i = 0; i < n; i++)
        require(w[i].len == v[i].len &&
                (v[i].len == 0 || memcmp(w[i].ptr, v[i].ptr, v[i].len) == 0));
    free(w);
    free(offsets);
    free(prefix);
    free(data);
    dl_buf_free(&enc);
    dl_buf_free(&scratch);
}

static void fuzz_bytes(const uint8_t *src, size_t len, int64_t n, int kind) {
    dl_error err;
    size_t consumed = 0;
    dl_buf scratch = DL_BUF_INIT;
    dl_bytes_view *v = malloc((size_t)(n + 1) * sizeof *v);
    int rc;
    if (kind == 0) {
        rc = dl_plain_decode_byte_array(src, len, n, v, &consumed, &err);
        if (rc == DL_OK) {
            require(consumed <= len);
            require_views_inside(v, n, src, len);
        }
    } else if (kind == 1) {
        rc = dl_dlba_decode(src, len, n, v, &consumed, &err);
        if (rc == DL_OK) {
            require(consumed <= len);
            require_views_inside(v, n, src, len);
            reencode_bytes(v, n, 0);
        }
    } else {
        rc = dl_dba_decode(src, len, n, v, &scratch, &consumed, &err);
        if (rc == DL_OK) {
            require(consumed <= len);
            require_views_inside(v, n, scratch.data, scratch.len);
            reencode_bytes(v, n, 1);
        }
    }
    free(v);
    dl_buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    const int which = data[0] % 9, param = data[1];
    int64_t n = 2 * (int64_t)(data[2] | (data[3] << 8));
    if (n > MAX_VALUES) n = MAX_VALUES;
    /* The payload in its own exactly-sized block so ASan sees overreads. */
    const size_t len = size - 4;
    uint8_t *src = malloc(len ? len : 1);
    if (len) memcpy(src, data + 4, len);
    switch (which) {
    case 0:
        fuzz_rle(src, len, param % 33, n, 1 + param / 33, 0);
        break;
    case 1:
        fuzz_rle(src, len, param % 9, n, 1 + param / 9, 1);
        break;
    case 2:
        fuzz_validity(src, len, param % 8, n);
        break;
    case 3:
        fuzz_dbp(src, len, n, 0);
        break;
    case 4:
        fuzz_dbp(src, len, n, 1);
        break;
    case 5:
        fuzz_bss(src, len, 1 + param % 17, n);
        break;
    case 6:
        fuzz_bytes(src, len, n, 0);
        break;
    case 7:
        fuzz_bytes(src, len, n, 1);
        break;
    default:
        fuzz_bytes(src, len, n > MAX_DBA_VALUES ? MAX_DBA_VALUES : n, 2);
        break;
    }
    free(src);
    return 0;
}
