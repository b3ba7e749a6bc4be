/*
** test_pq_encoding.c -- Parquet value/level encodings (pq_encoding.h):
** golden byte vectors from the spec's worked examples, round trips on
** random / run-heavy / extreme data for every bit width, and hostile
** inputs (every truncation, absurd varints and widths) that must fail
** cleanly -- run under `make MODE=asan` to catch out-of-bounds reads.
*/
#include <stdlib.h>
#include <string.h>

#include "dl_test.h"
#include "parquet/pq_encoding.h"
#include "util/dl_buf.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A copy of bytes in an exactly-sized heap block, so ASan flags any read
** past the end. */
static uint8_t *exact_copy(const uint8_t *src, size_t len) {
    uint8_t *p = malloc(len ? len : 1);
    if (len) memcpy(p, src, len);
    return p;
}

static const int64_t kSizes[] = {0, 1, 7, 8, 9, 1000, 100003};
#define NSIZES ((int)(sizeof kSizes / sizeof kSizes[0]))

/* ---- RLE / bit-packed hybrid ---- */

DL_TEST(rle_spec_golden_bitpacked) {
    /* Encodings.md: bit width 3, values 0..7 bit-packed. */
    const uint32_t vals[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const uint8_t want[] = {0x03, 0x88, 0xC6, 0xFA};
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_rle_encode_u32(vals, 8, 3, &b), NULL);
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK(b.len == sizeof want && memcmp(b.data, want, sizeof want) == 0);
    dl_rle_decoder d;
    uint32_t out[8];
    dl_error err = {0};
    dl_rle_decoder_init(&d, want, sizeof want, 3);
    CHECK_OK(dl_rle_decode_u32(&d, out, 8, &err), &err);
    CHECK(memcmp(out, vals, sizeof vals) == 0);
    dl_buf_free(&b);
}

DL_TEST(rle_golden_runs) {
    /* RLE run of 10 x 5 (width 3), then one bit-packed group 1..8 of width
    ** 4, then an RLE run of 300 x 0x1234 at width 13 (2-byte value). */
    const uint8_t enc[] = {0x14, 0x05, 0x03, 0x21, 0x43, 0x65, 0x87};
    uint32_t out[18];
    dl_error err = {0};
    dl_rle_decoder d;
    dl_rle_decoder_init(&d, enc, 2, 3);
    CHECK_OK(dl_rle_decode_u32(&d, out, 10, &err), &err);
    for (int i = 0; i < 10; i++) CHECK_EQ_INT(out[i], 5);
    dl_rle_decoder_init(&d, enc + 2, sizeof enc - 2, 4);
    CHECK_OK(dl_rle_decode_u32(&d, out, 8, &err), &err);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[i], i + 1);
    const uint8_t wide[] = {0xD8, 0x04, 0x34, 0x12}; /* 300<<1 = 600 = 0xD8 0x04 */
    uint32_t *big = malloc(300 * sizeof *big);
    dl_rle_decoder_init(&d, wide, sizeof wide, 13);
    CHECK_OK(dl_rle_decode_u32(&d, big, 300, &err), &err);
    CHECK_EQ_INT(big[0], 0x1234);
    CHECK_EQ_INT(big[299], 0x1234);
    /* Our encoder writes the same bytes for the same runs. */
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_rle_encode_u32(big, 300, 13, &b), NULL);
    CHECK(b.len == sizeof wide && memcmp(b.data, wide, sizeof wide) == 0);
    free(big);
    dl_buf_free(&b);
}

/* Fills v with either literal-heavy (random) or run-heavy data. */
static void fill_values(uint32_t *v, int64_t n, int bw, int runs) {
    const uint64_t mask = bw >= 32 ? 0xffffffffu : (((uint64_t)1 << bw) - 1);
    int64_t i = 0;
    while (i < n) {
        uint32_t x = (uint32_t)(rnd() & mask);
        int64_t len = runs ? 1 + (int64_t)(rnd() % 40) : 1;
        for (int64_t k = 0; k < len && i < n; k++) v[i++] = x;
    }
}

/* Decodes in random chunk sizes, exercising the partially consumed group
** and run state between calls. */
static int decode_chunked_u32(const uint8_t *enc, size_t len, int bw, uint32_t *out, int64_t n,
                              dl_error *err) {
    dl_rle_decoder d;
    dl_rle_decoder_init(&d, enc, len, bw);
    int64_t i = 0;
    while (i < n) {
        int64_t k = 1 + (int64_t)(rnd() % 23);
        if (k > n - i) k = n - i;
        int rc = dl_rle_decode_u32(&d, out + i, k, err);
        if (rc != DL_OK) return rc;
        i += k;
    }
    return DL_OK;
}

DL_TEST(rle_roundtrip_all_widths) {
    dl_error err = {0};
    uint32_t *v = malloc(100003 * sizeof *v), *got = malloc(100003 * sizeof *got);
    uint8_t *v8 = malloc(100003), *got8 = malloc(100003);
    for (int bw = 0; bw <= 32; bw++) {
        for (int s = 0; s < NSIZES; s++) {
            const int64_t n = kSizes[s];
            for (int runs = 0; runs <= 1; runs++) {
                fill_values(v, n, bw, runs);
                dl_buf b = DL_BUF_INIT;
                CHECK_OK(dl_rle_encode_u32(v, n, bw, &b), NULL);
                uint8_t *enc = exact_copy(b.data, b.len);
                dl_rle_decoder d;
                dl_rle_decoder_init(&d, enc, b.len, bw);
                memset(got, 0xEE, (size_t)n * sizeof *got);
                CHECK_OK(dl_rle_decode_u32(&d, got, n, &err), &err);
                if (memcmp(got, v, (size_t)n * sizeof *v) != 0) {
                    fprintf(stderr, "  mismatch bw=%d n=%lld runs=%d\n", bw, (long long)n, runs);
                    CHECK(0);
                }
                memset(got, 0xEE, (size_t)n * sizeof *got);
                CHECK_OK(decode_chunked_u32(enc, b.len, bw, got, n, &err), &err);
                CHECK(memcmp(got, v, (size_t)n * sizeof *v) == 0);
                /* Asking for one value more than was encoded must either
                ** hit padding of the last group or fail -- never overread. */
                dl_rle_decoder_init(&d, enc, b.len, bw);
                uint32_t *extra = malloc((size_t)(n + 1) * sizeof *extra);
                int rc = dl_rle_decode_u32(&d, extra, n + 1, &err);
                CHECK(rc == DL_OK || rc == DL_ECORRUPT);
                free(extra);
                if (bw <= 8) {
                    for (int64_t i = 0; i < n; i++) v8[i] = (uint8_t)v[i];
                    dl_buf b8 = DL_BUF_INIT;
                    CHECK_OK(dl_rle_encode_u8(v8, n, bw, &b8), NULL);
                    /* Same algorithm, same bytes, whatever the input type. */
                    CHECK(b8.len == b.len && (b.len == 0 || memcmp(b8.data, b.data, b.len) == 0));
                    dl_rle_decoder_init(&d, enc, b.len, bw);
                    CHECK_OK(dl_rle_decode_u8(&d, got8, n, &err), &err);
                    CHECK(memcmp(got8, v8, (size_t)n) == 0);
                    dl_buf_free(&b8);
                }
                if (n == 100003 && bw == 20) {
                    /* Runs compress; random data costs about bw bits each. */
                    if (runs)
                        CHECK(b.len < (size_t)n * 20 / 8 / 3);
                    else
                        CHECK(b.len <= (size_t)n * 20 / 8 + (size_t)n / 504 * 2 + 16);
                }
                free(enc);
                dl_buf_free(&b);
            }
        }
    }
    free(v);
    free(got);
    free(v8);
    free(got8);
}

DL_TEST(rle_rejects_values_too_wide) {
    uint32_t v[3] = {1, 2, 9};
    dl_buf b = DL_BUF_INIT;
    CHECK_RC(dl_rle_encode_u32(v, 3, 3, &b), DL_EINVAL);
    CHECK_EQ_INT(b.len, 0);
    CHECK_RC(dl_rle_encode_u32(v, 3, 33, &b), DL_EINVAL);
    dl_rle_decoder d;
    uint8_t out8[4];
    dl_error err = {0};
    const uint8_t enc[] = {0x02, 0x01, 0x00};
    dl_rle_decoder_init(&d, enc, sizeof enc, 9);
    CHECK_RC(dl_rle_decode_u8(&d, out8, 1, &err), DL_EINVAL);
    dl_buf_free(&b);
}

DL_TEST(rle_partial_final_group) {
    /* 13 values of width 5: one literal run of 2 groups = 1 + 10 bytes.
    ** Cut to 1 + 9 bytes (72 bits): values 0..13 are still complete. */
    uint32_t v[13];
    for (int i = 0; i < 13; i++) v[i] = (uint32_t)(i * 7 + 3) & 31;
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_rle_encode_u32(v, 13, 5, &b), NULL);
    CHECK_EQ_INT(b.len, 11);
    uint8_t *cut = exact_copy(b.data, 10);
    uint32_t out[16];
    dl_error err = {0};
    dl_rle_decoder d;
    dl_rle_decoder_init(&d, cut, 10, 5);
    CHECK_OK(dl_rle_decode_u32(&d, out, 13, &err), &err);
    CHECK(memcmp(out, v, sizeof v) == 0);
    dl_rle_decoder_init(&d, cut, 10, 5);
    CHECK_OK(dl_rle_decode_u32(&d, out, 14, &err), &err); /* value 13: bits 65..69 present */
    dl_rle_decoder_init(&d, cut, 10, 5);
    CHECK_RC(dl_rle_decode_u32(&d, out, 15, &err), DL_ECORRUPT); /* bits 70..74: missing */
    /* Same through a chunked read: 8, then 5, then 2 more. */
    dl_rle_decoder_init(&d, cut, 10, 5);
    CHECK_OK(dl_rle_decode_u32(&d, out, 8, &err), &err);
    CHECK_OK(dl_rle_decode_u32(&d, out + 8, 5, &err), &err);
    CHECK(memcmp(out, v, sizeof v) == 0);
    CHECK_RC(dl_rle_decode_u32(&d, out + 13, 2, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "byte offset") != NULL);
    free(cut);
    dl_buf_free(&b);
}

DL_TEST(rle_hostile_inputs) {
    dl_error err = {0};
    dl_rle_decoder d;
    uint32_t out[64];
    /* Varint header longer than 5 bytes. */
    const uint8_t longvar[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00};
    dl_rle_decoder_init(&d, longvar, sizeof longvar, 1);
    CHECK_RC(dl_rle_decode_u32(&d, out, 1, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "longer than 5 bytes") != NULL);
    /* RLE count over 2^31-1: (2^33) << 1 in 5 bytes. */
    const uint8_t huge_rle[] = {0x80, 0x80, 0x80, 0x80, 0x40, 0x01};
    dl_rle_decoder_init(&d, huge_rle, sizeof huge_rle, 1);
    CHECK_RC(dl_rle_decode_u32(&d, out, 1, &err), DL_ECORRUPT);
    /* RLE value with bits above the width. */
    const uint8_t wide_value[] = {0x10, 0x09};
    dl_rle_decoder_init(&d, wide_value, sizeof wide_value, 3);
    CHECK_RC(dl_rle_decode_u32(&d, out, 1, &err), DL_ECORRUPT);
    /* Empty runs are skipped; a run longer than requested just stops. */
    const uint8_t empty_runs[] = {0x00, 0x01, 0x01, 0xFE, 0x01, 0x01};
    dl_rle_decoder_init(&d, empty_runs, sizeof empty_runs, 1);
    CHECK_OK(dl_rle_decode_u32(&d, out, 5, &err), &err);
    CHECK(out[0] == 1 && out[4] == 1);
    /* Nothing at all. */
    dl_rle_decoder_init(&d, NULL, 0, 4);
    CHECK_RC(dl_rle_decode_u32(&d, out, 1, &err), DL_ECORRUPT);
    dl_rle_decoder_init(&d, NULL, 0, 0);
    CHECK_OK(dl_rle_decode_u32(&d, out, 64, &err), &err); /* width 0 reads nothing */
    CHECK_EQ_INT(out[63], 0);
    /* Every truncation of a mixed stream: OK only when the values present
    ** suffice, otherwise DL_ECORRUPT; ASan checks no byte past the cut is read. */
    for (int bw = 1; bw <= 32; bw += 3) {
        uint32_t v[300], got[300];
        const uint32_t mask = bw == 32 ? 0xffffffffu : (1u << bw) - 1;
        for (int i = 0; i < 300; i++) v[i] = (i / 37) % 2 ? 1 : (uint32_t)rnd() & mask;
        dl_buf b = DL_BUF_INIT;
        CHECK_OK(dl_rle_encode_u32(v, 300, bw, &b), NULL);
        for (size_t cut = 0; cut < b.len; cut++) {
            uint8_t *c = exact_copy(b.data, cut);
            dl_rle_decoder_init(&d, c, cut, bw);
            int rc = dl_rle_decode_u32(&d, got, 300, &err);
            if (rc == DL_OK) /* only padding of the last group may be missing */
                CHECK(cut + (size_t)bw > b.len && memcmp(got, v, sizeof v) == 0);
            else
                CHECK_RC(rc, DL_ECORRUPT);
            /* Whatever prefix decodes must match. */
            dl_rle_decoder_init(&d, c, cut, bw);
            int64_t ok = 0;
            while (ok < 300 && dl_rle_decode_u32(&d, got + ok, 1, &err) == DL_OK) ok++;
            CHECK(memcmp(got, v, (size_t)ok * sizeof *v) == 0);
            free(c);
        }
        dl_buf_free(&b);
    }
}

/* ---- validity bitmaps ---- */

DL_TEST(rle_validity_roundtrip) {
    dl_error err = {0};
    const int densities[] = {0, 1, 500, 990, 1000}; /* per mille valid */
    for (int s = 0; s < NSIZES; s++) {
        const int64_t n = kSizes[s];
        for (int di = 0; di < 5; di++) {
            for (int off = 0; off < 10; off += 3) {
                const size_t bytes = (size_t)(n + 24) / 8 + 2;
                uint8_t *src = calloc(bytes, 1), *dst = malloc(bytes);
                uint8_t *levels = malloc((size_t)n + 1);
                int64_t valid = 0;
                for (int64_t i = 0; i < n; i++) {
                    /* Clustered nulls: long stretches, like real market data. */
                    int bit = (int)(rnd() % 1000) < densities[di];
                    if (densities[di] == 500 && i % 64 < 40) bit = (int)((i / 256) & 1);
                    levels[i] = (uint8_t)bit;
                    if (bit) src[(off + i) >> 3] |= (uint8_t)(1u << ((off + i) & 7));
                    valid += bit;
                }
                dl_buf b = DL_BUF_INIT, b8 = DL_BUF_INIT;
                CHECK_OK(dl_rle_encode_validity(src, off, n, &b), NULL);
                CHECK_OK(dl_rle_encode_u8(levels, n, 1, &b8), NULL);
                CHECK(b.len == b8.len && (b.len == 0 || memcmp(b.data, b8.data, b.len) == 0));
                for (int doff = 0; doff < 9; doff += 5) {
                    memset(dst, 0xA5, bytes);
                    uint8_t *enc = exact_copy(b.data, b.len);
                    dl_rle_decoder d;
                    dl_rle_decoder_init(&d, enc, b.len, 1);
                    int64_t present = -1;
                    CHECK_OK(dl_rle_decode_validity(&d, dst, doff, n, &present, &err), &err);
                    CHECK_EQ_INT(present, valid);
                    int bad = 0;
                    for (int64_t i = 0; i < n; i++)
                        bad += ((dst[(doff + i) >> 3] >> ((doff + i) & 7)) & 1) != levels[i];
                    /* Bits outside [doff, doff+n) keep the 0xA5 pattern. */
                    for (int64_t i = 0; i < doff; i++)
                        bad += ((dst[i >> 3] >> (i & 7)) & 1) != ((0xA5 >> (i & 7)) & 1);
                    for (int64_t i = doff + n; i < (int64_t)bytes * 8; i++)
                        bad += ((dst[i >> 3] >> (i & 7)) & 1) != ((0xA5 >> (i & 7)) & 1);
                    CHECK_EQ_INT(bad, 0);
                    free(enc);
                }
                dl_buf_free(&b);
                dl_buf_free(&b8);
                free(src);
                free(dst);
                free(levels);
            }
        }
    }
}

DL_TEST(rle_validity_chunked_and_wrong_width) {
    /* Mixed runs decoded 3 levels at a time into a bitmap. */
    uint8_t levels[200];
    for (int i = 0; i < 200; i++)
        levels[i] = (uint8_t)(i < 50 ? 1 : i < 70 ? (i & 1) : (i % 5 != 0));
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_rle_encode_u8(levels, 200, 1, &b), NULL);
    uint8_t bm[32];
    memset(bm, 0, sizeof bm);
    dl_rle_decoder d;
    dl_error err = {0};
    dl_rle_decoder_init(&d, b.data, b.len, 1);
    int64_t total = 0;
    for (int i = 0; i < 200; i += 3) {
        int64_t present = 0, k = i + 3 <= 200 ? 3 : 200 - i;
        CHECK_OK(dl_rle_decode_validity(&d, bm, 1 + i, k, &present, &err), &err);
        total += present;
    }
    int64_t want = 0;
    for (int i = 0; i < 200; i++) {
        want += levels[i];
        CHECK_EQ_INT((bm[(1 + i) >> 3] >> ((1 + i) & 7)) & 1, levels[i]);
    }
    CHECK_EQ_INT(total, want);
    dl_rle_decoder_init(&d, b.data, b.len, 2);
    int64_t present;
    CHECK_RC(dl_rle_decode_validity(&d, bm, 0, 1, &present, &err), DL_EINVAL);
    dl_buf_free(&b);
}

/* ---- DELTA_BINARY_PACKED ---- */

static void check_dbp_i64(const int64_t *v, int64_t n) {
    dl_buf b = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_dbp_encode_i64(v, n, &b), NULL);
    /* Trailing bytes must not be counted in *consumed. */
    size_t enc_len = b.len;
    CHECK_OK(dl_buf_append(&b, "\x07\x07\x07", 3), NULL);
    uint8_t *enc = exact_copy(b.data, b.len);
    int64_t *got = malloc((size_t)(n + 1) * sizeof *got);
    size_t consumed = 0;
    CHECK_OK(dl_dbp_decode_i64(enc, b.len, got, n, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, enc_len);
    CHECK(n == 0 || memcmp(got, v, (size_t)n * sizeof *v) == 0);
    /* Fewer requested than stored: same end of stream. */
    if (n > 1) {
        consumed = 0;
        CHECK_OK(dl_dbp_decode_i64(enc, b.len, got, n / 2, &consumed, &err), &err);
        CHECK_EQ_INT(consumed, enc_len);
        CHECK(memcmp(got, v, (size_t)(n / 2) * sizeof *v) == 0);
    }
    CHECK_RC(dl_dbp_decode_i64(enc, b.len, got, n + 1, &consumed, &err), DL_ECORRUPT);
    free(got);
    free(enc);
    dl_buf_free(&b);
}

static void check_dbp_i32(const int32_t *v, int64_t n) {
    dl_buf b = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_dbp_encode_i32(v, n, &b), NULL);
    uint8_t *enc = exact_copy(b.data, b.len);
    int32_t *got = malloc((size_t)(n + 1) * sizeof *got);
    size_t consumed = 0;
    CHECK_OK(dl_dbp_decode_i32(enc, b.len, got, n, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, b.len);
    CHECK(n == 0 || memcmp(got, v, (size_t)n * sizeof *v) == 0);
    /* An INT32 stream also decodes as INT64 to the sign-extended values. */
    int64_t *wide = malloc((size_t)(n + 1) * sizeof *wide);
    CHECK_OK(dl_dbp_decode_i64(enc, b.len, wide, n, &consumed, &err), &err);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad += (int32_t)wide[i] != v[i];
    CHECK_EQ_INT(bad, 0);
    free(wide);
    free(got);
    free(enc);
    dl_buf_free(&b);
}

DL_TEST(dbp_spec_golden) {
    /* Encodings.md example 1 (1..5) and example 2 (7,5,3,1,2,3,4,5), laid
    ** out with the real block size 128 / 4 miniblocks of 32. */
    const int64_t v1[] = {1, 2, 3, 4, 5};
    const uint8_t g1[] = {0x80, 0x01, 0x04, 0x05, 0x02,  /* header: 128, 4, 5, zz(1) */
                          0x02, 0x00, 0x00, 0x00, 0x00}; /* min delta zz(1), widths 0 */
    const int64_t v2[] = {7, 5, 3, 1, 2, 3, 4, 5};
    const uint8_t g2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, /* header: 128, 4, 8, zz(7) */
                          0x03, 0x02, 0x00, 0x00, 0x00, /* min delta zz(-2), widths 2,0,0,0 */
                          0xC0, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}; /* 0,0,0,3,3,3,3 */
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_dbp_encode_i64(v1, 5, &b), NULL);
    CHECK(b.len == sizeof g1 && memcmp(b.data, g1, sizeof g1) == 0);
    dl_buf_reset(&b);
    CHECK_OK(dl_dbp_encode_i64(v2, 8, &b), NULL);
    CHECK(b.len == sizeof g2 && memcmp(b.data, g2, sizeof g2) == 0);
    int64_t out[8];
    int32_t out32[8];
    size_t consumed;
    dl_error err = {0};
    CHECK_OK(dl_dbp_decode_i64(g2, sizeof g2, out, 8, &consumed, &err), &err);
    CHECK(memcmp(out, v2, sizeof v2) == 0);
    CHECK_EQ_INT(consumed, sizeof g2);
    CHECK_OK(dl_dbp_decode_i32(g1, sizeof g1, out32, 5, &consumed, &err), &err);
    CHECK(out32[0] == 1 && out32[4] == 5);
    CHECK_EQ_INT(consumed, sizeof g1);
    /* The spec's literal example uses block size 8, which the format's own
    ** rules (and Arrow) reject: block sizes are multiples of 128. */
    const uint8_t spec_literal[] = {0x08, 0x01, 0x05, 0x02, 0x02, 0x00};
    CHECK_RC(dl_dbp_decode_i64(spec_literal, sizeof spec_literal, out, 5, &consumed, &err),
             DL_ECORRUPT);
    CHECK(strstr(err.message, "multiple of 128") != NULL);
    dl_buf_free(&b);
}

DL_TEST(dbp_roundtrip_i64) {
    int64_t *v = malloc(100003 * sizeof *v);
    const int64_t sizes[] = {0, 1, 2, 7, 8, 9, 31, 32, 33, 127, 128, 129, 1000, 100003};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t n = sizes[s];
        for (int kind = 0; kind < 6; kind++) {
            int64_t t = 1700000000000000000LL;
            for (int64_t i = 0; i < n; i++) {
                switch (kind) {
                case 0:
                    v[i] = (int64_t)rnd();
                    break; /* random */
                case 1:
                    v[i] = (t += (int64_t)(rnd() % 1000));
                    break; /* sorted ns ts */
                case 2:
                    v[i] = -42;
                    break; /* constant */
                case 3:
                    v[i] = (i & 1) ? INT64_MAX : INT64_MIN;
                    break; /* extremes */
                case 4:
                    v[i] = i % 3 ? (int64_t)(rnd() % 3) - 1 : INT64_MAX - (int64_t)(rnd() % 3);
                    break;
                default:
                    v[i] = (int64_t)(rnd() >> (rnd() % 64)) * ((i & 1) ? -1 : 1);
                    break;
                }
            }
            check_dbp_i64(v, n);
        }
    }
    free(v);
}

DL_TEST(dbp_roundtrip_i32) {
    int32_t *v = malloc(100003 * sizeof *v);
    const int64_t sizes[] = {0, 1, 2, 33, 128, 129, 1000, 100003};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t n = sizes[s];
        for (int kind = 0; kind < 4; kind++) {
            int32_t t = -5000000;
            for (int64_t i = 0; i < n; i++) {
                switch (kind) {
                case 0:
                    v[i] = (int32_t)rnd();
                    break;
                case 1:
                    v[i] = (t += (int32_t)(rnd() % 50));
                    break;
                case 2:
                    v[i] = (i & 1) ? INT32_MAX : INT32_MIN;
                    break;
                default:
                    v[i] = 7;
                    break;
                }
            }
            check_dbp_i32(v, n);
        }
    }
    free(v);
}

DL_TEST(dbp_last_block_and_hostile) {
    dl_error err = {0};
    int64_t out[200];
    size_t consumed = 0;
    /* 34 values: the block uses 2 of its 4 miniblocks.  The widths of the
    ** unused ones are garbage (must be accepted) and have no bodies. */
    uint8_t s[64];
    size_t k = 0;
    s[k++] = 0x80, s[k++] = 0x01, s[k++] = 0x04, s[k++] = 34, s[k++] = 0x00; /* first 0 */
    s[k++] = 0x02;                                                           /* min delta 1 */
    s[k++] = 0x01, s[k++] = 0x01, s[k++] = 0xFF, s[k++] = 0xEE;              /* widths */
    for (int i = 0; i < 4; i++) s[k++] = 0x00;                               /* mb 0: deltas 1 */
    s[k++] = 0x01, s[k++] = 0x00, s[k++] = 0x00, s[k++] = 0x00; /* mb 1: first delta 2 */
    const size_t stream_len = k;
    s[k++] = 0x99; /* next section */
    CHECK_OK(dl_dbp_decode_i64(s, k, out, 34, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, stream_len);
    CHECK_EQ_INT(out[32], 32);
    CHECK_EQ_INT(out[33], 34);
    /* Bit width above 64, and above 32 for INT32. */
    uint8_t w[] = {0x80, 0x01, 0x04, 0x03, 0x00, 0x00, 65, 0, 0, 0};
    CHECK_RC(dl_dbp_decode_i64(w, sizeof w, out, 3, &consumed, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "bit width 65") != NULL);
    w[6] = 33;
    int32_t out32[4];
    uint8_t w33[10 + 132];
    memset(w33, 0, sizeof w33);
    memcpy(w33, w, sizeof w);
    CHECK_RC(dl_dbp_decode_i32(w33, sizeof w33, out32, 3, &consumed, &err), DL_ECORRUPT);
    CHECK_OK(dl_dbp_decode_i64(w33, sizeof w33, out, 3, &consumed, &err), &err);
    /* Bad headers. */
    const uint8_t bs100[] = {100, 0x01, 0x01, 0x00};
    CHECK_RC(dl_dbp_decode_i64(bs100, sizeof bs100, out, 1, &consumed, &err), DL_ECORRUPT);
    const uint8_t mb3[] = {0x80, 0x01, 0x03, 0x01, 0x00};
    CHECK_RC(dl_dbp_decode_i64(mb3, sizeof mb3, out, 1, &consumed, &err), DL_ECORRUPT);
    const uint8_t mb8[] = {0x80, 0x01, 0x08, 0x01, 0x00}; /* 16 values per miniblock */
    CHECK_RC(dl_dbp_decode_i64(mb8, sizeof mb8, out, 1, &consumed, &err), DL_ECORRUPT);
    const uint8_t longvar[] = {0x80, 0x01, 0x04, 0x01, 0xFF, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    CHECK_RC(dl_dbp_decode_i64(longvar, sizeof longvar, out, 1, &consumed, &err), DL_ECORRUPT);
    /* A huge declared count with no data behind it. */
    const uint8_t huge[] = {0x80, 0x01, 0x04, 0xFF, 0xFF, 0xFF, 0xFF,
                            0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_RC(dl_dbp_decode_i64(huge, sizeof huge, out, 1, &consumed, &err), DL_ECORRUPT);
    /* Every truncation of a real stream fails cleanly. */
    int64_t v[200];
    for (int i = 0; i < 200; i++) v[i] = (int64_t)(rnd() % 100000) * (i % 3 ? 1 : -1);
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_dbp_encode_i64(v, 200, &b), NULL);
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *c = exact_copy(b.data, cut);
        CHECK_RC(dl_dbp_decode_i64(c, cut, out, 200, &consumed, &err), DL_ECORRUPT);
        free(c);
    }
    dl_buf_free(&b);
}

/* ---- BYTE_STREAM_SPLIT ---- */

DL_TEST(bss_golden_and_roundtrip) {
    /* Two floats 1.0f (00 00 80 3F) and -2.0f (00 00 00 C0). */
    const uint8_t split[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3F, 0xC0};
    uint8_t out[8];
    dl_error err = {0};
    CHECK_OK(dl_bss_decode(split, sizeof split, 4, 2, out, &err), &err);
    float f[2];
    memcpy(f, out, 8);
    CHECK(f[0] == 1.0f && f[1] == -2.0f);
    CHECK_RC(dl_bss_decode(split, 7, 4, 2, out, &err), DL_ECORRUPT);
    CHECK_RC(dl_bss_decode(split, sizeof split, 0, 2, out, &err), DL_EINVAL);
    for (int width = 1; width <= 17; width++) {
        for (int s = 0; s < NSIZES; s++) {
            const int64_t n = kSizes[s];
            size_t bytes = (size_t)n * (size_t)width;
            uint8_t *v = malloc(bytes + 1), *enc = malloc(bytes + 1), *dec = malloc(bytes + 1);
            for (size_t i = 0; i < bytes; i++) v[i] = (uint8_t)rnd();
            dl_bss_encode(v, width, n, enc);
            /* Stream k holds byte k of every value. */
            if (n > 1) CHECK(enc[(size_t)(width - 1) * (size_t)n + 1] == v[2 * width - 1]);
            CHECK_OK(dl_bss_decode(enc, bytes, width, n, dec, &err), &err);
            CHECK(memcmp(dec, v, bytes) == 0);
            free(v);
            free(enc);
            free(dec);
        }
    }
}

/* ---- byte arrays ---- */

DL_TEST(plain_byte_array_decode) {
    const uint8_t src[] = {5, 0, 0, 0, 'H', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 2, 0, 0, 0, 'h', 'i'};
    dl_bytes_view v[3];
    size_t consumed;
    dl_error err = {0};
    CHECK_OK(dl_plain_decode_byte_array(src, sizeof src, 3, v, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, sizeof src);
    CHECK(v[0].len == 5 && memcmp(v[0].ptr, "Hello", 5) == 0);
    CHECK_EQ_INT(v[1].len, 0);
    CHECK(v[2].len == 2 && memcmp(v[2].ptr, "hi", 2) == 0);
    for (size_t cut = 0; cut < sizeof src; cut++) {
        uint8_t *c = exact_copy(src, cut);
        CHECK_RC(dl_plain_decode_byte_array(c, cut, 3, v, &consumed, &err), DL_ECORRUPT);
        free(c);
    }
    const uint8_t liar[] = {0xFF, 0xFF, 0xFF, 0xFF, 'x'};
    CHECK_RC(dl_plain_decode_byte_array(liar, sizeof liar, 1, v, &consumed, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "byte offset 0") != NULL);
}

/* Spec example: "Hello", "World", "Foobar", "ABCDEF". */
static const uint8_t kDlbaHello[] = {
    0x80, 0x01, 0x04, 0x04, 0x0A, /* DBP header: 128, 4, 4 values, zz(5) */
    0x00, 0x01, 0x00, 0x00, 0x00, /* min delta 0; widths 1,0,0,0 */
    0x02, 0x00, 0x00, 0x00,       /* deltas 0,1,0 at width 1 (32 bits) */
    'H',  'e',  'l',  'l',  'o',  'W', 'o', 'r', 'l', 'd', 'F',
    'o',  'o',  'b',  'a',  'r',  'A', 'B', 'C', 'D', 'E', 'F'};

DL_TEST(dlba_golden_and_roundtrip) {
    dl_bytes_view v[4];
    size_t consumed;
    dl_error err = {0};
    CHECK_OK(dl_dlba_decode(kDlbaHello, sizeof kDlbaHello, 4, v, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, sizeof kDlbaHello);
    const char *want[] = {"Hello", "World", "Foobar", "ABCDEF"};
    for (int i = 0; i < 4; i++)
        CHECK(v[i].len == strlen(want[i]) && memcmp(v[i].ptr, want[i], v[i].len) == 0);
    /* Our encoder produces exactly the spec layout. */
    const int64_t offs[] = {0, 5, 10, 16, 22};
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_dlba_encode(offs, "HelloWorldFoobarABCDEF", 4, &b), NULL);
    CHECK(b.len == sizeof kDlbaHello && memcmp(b.data, kDlbaHello, b.len) == 0);
    for (size_t cut = 0; cut < sizeof kDlbaHello; cut++) {
        uint8_t *c = exact_copy(kDlbaHello, cut);
        CHECK_RC(dl_dlba_decode(c, cut, 4, v, &consumed, &err), DL_ECORRUPT);
        free(c);
    }
    /* Random strings, including empty ones, up to 100003 values. */
    for (int s = 0; s < NSIZES; s++) {
        const int64_t n = kSizes[s];
        int64_t *o = malloc((size_t)(n + 1) * sizeof *o);
        char *data = malloc((size_t)n * 20 + 1);
        o[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t l = (int64_t)(rnd() % 20);
            for (int64_t j = 0; j < l; j++) data[o[i] + j] = (char)('a' + rnd() % 26);
            o[i + 1] = o[i] + l;
        }
        dl_buf_reset(&b);
        CHECK_OK(dl_dlba_encode(o, data, n, &b), NULL);
        dl_bytes_view *got = malloc((size_t)(n + 1) * sizeof *got);
        CHECK_OK(dl_dlba_decode(b.data, b.len, n, got, &consumed, &err), &err);
        CHECK_EQ_INT(consumed, b.len);
        int bad = 0;
        for (int64_t i = 0; i < n; i++)
            bad += got[i].len != (uint32_t)(o[i + 1] - o[i]) ||
                   memcmp(got[i].ptr, data + o[i], got[i].len) != 0;
        CHECK_EQ_INT(bad, 0);
        free(got);
        free(o);
        free(data);
    }
    const int64_t neg[] = {5, 3};
    CHECK_RC(dl_dlba_encode(neg, "abcde", 1, &b), DL_EINVAL);
    dl_buf_free(&b);
}

/* Spec example: "axis", "axle", "babble", "babyhood". */
static const uint8_t kDbaAxis[] = {
    0x80, 0x01, 0x04, 0x04, 0x00, /* prefix lengths 0,2,0,3: header, zz(0) */
    0x03, 0x03, 0x00, 0x00, 0x00, /* min delta -2; widths 3,0,0,0 */
    0x44, 0x01, 0,    0,    0,    0,   0,   0,   0,   0,   0,   0, /* 4,0,5 at width 3 (12 bytes) */
    0x80, 0x01, 0x04, 0x04, 0x08, /* suffix lengths 4,2,6,5: zz(4) */
    0x03, 0x03, 0x00, 0x00, 0x00, /* min delta -2; widths 3,0,0,0 */
    0x70, 0x00, 0,    0,    0,    0,   0,   0,   0,   0,   0,   0, /* 0,6,1 at width 3 */
    'a',  'x',  'i',  's',  'l',  'e', 'b', 'a', 'b', 'b', 'l', 'e', 'y', 'h', 'o', 'o', 'd'};

DL_TEST(dba_golden_and_hostile) {
    dl_bytes_view v[4];
    dl_buf scratch = DL_BUF_INIT;
    size_t consumed;
    dl_error err = {0};
    CHECK_OK(dl_dba_decode(kDbaAxis, sizeof kDbaAxis, 4, v, &scratch, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, sizeof kDbaAxis);
    const char *want[] = {"axis", "axle", "babble", "babyhood"};
    for (int i = 0; i < 4; i++)
        CHECK(v[i].len == strlen(want[i]) && memcmp(v[i].ptr, want[i], v[i].len) == 0);
    CHECK_EQ_INT(scratch.len, 4 + 4 + 6 + 8);
    /* Prefix longer than the previous value: 2nd prefix 5 > len("axis"). */
    /* Prefixes 0,5,0,0 (built with our encoders): 5 > len("axis"). */
    const int32_t pre[] = {0, 5, 0, 0};
    dl_buf b = DL_BUF_INIT;
    CHECK_OK(dl_dbp_encode_i32(pre, 4, &b), NULL);
    const int64_t offs[] = {0, 4, 6, 12, 17};
    CHECK_OK(dl_dlba_encode(offs, "axislebabbleyhood", 4, &b), NULL);
    CHECK_RC(dl_dba_decode(b.data, b.len, 4, v, &scratch, &consumed, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "prefix length 5") != NULL);
    for (size_t cut = 0; cut < sizeof kDbaAxis; cut++) {
        uint8_t *c = exact_copy(kDbaAxis, cut);
        CHECK_RC(dl_dba_decode(c, cut, 4, v, &scratch, &consumed, &err), DL_ECORRUPT);
        free(c);
    }
    /* Sorted random keys (shared prefixes) round trip through a DBA
    ** stream built from our DBP + DLBA encoders. */
    enum { N = 5000 };
    static char keys[N][24];
    static int32_t prefix[N];
    static int64_t soff[N + 1];
    static char sdata[N * 24];
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof keys[i], "SYM%05d.%llu", i / 7,
                 (unsigned long long)(rnd() % 1000));
    soff[0] = 0;
    for (int i = 0; i < N; i++) {
        size_t p = 0;
        if (i > 0)
            while (keys[i][p] && keys[i][p] == keys[i - 1][p]) p++;
        prefix[i] = (int32_t)p;
        size_t sl = strlen(keys[i]) - p;
        memcpy(sdata + soff[i], keys[i] + p, sl);
        soff[i + 1] = soff[i] + (int64_t)sl;
    }
    dl_buf_reset(&b);
    CHECK_OK(dl_dbp_encode_i32(prefix, N, &b), NULL);
    CHECK_OK(dl_dlba_encode(soff, sdata, N, &b), NULL);
    dl_bytes_view *got = malloc(N * sizeof *got);
    CHECK_OK(dl_dba_decode(b.data, b.len, N, got, &scratch, &consumed, &err), &err);
    CHECK_EQ_INT(consumed, b.len);
    int mismatches = 0;
    for (int i = 0; i < N; i++)
        mismatches += got[i].len != strlen(keys[i]) || memcmp(got[i].ptr, keys[i], got[i].len);
    CHECK_EQ_INT(mismatches, 0);
    free(got);
    dl_buf_free(&b);
    dl_buf_free(&scratch);
}
