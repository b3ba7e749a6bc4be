/*
** test_util.c -- columns, tables, buffers, arena, codecs, sha256.
*/
#include <stdlib.h>

#include "dl_test.h"
#include "util/dl_buf.h"
#include "util/dl_codec.h"

DL_TEST(column_append_and_nulls) {
    dl_error err = {0};
    dl_column c;
    dl_column_init(&c, DL_TYPE_INT64, DL_UNIT_MS);
    for (int i = 0; i < 1000; i++) {
        if (i % 7 == 3)
            CHECK_OK(dl_column_append_null(&c, &err), &err);
        else
            CHECK_OK(dl_column_append_i64(&c, i * 3, &err), &err);
    }
    CHECK_EQ_INT(c.length, 1000);
    CHECK_EQ_INT(c.null_count, 143);
    CHECK(!dl_column_is_valid(&c, 3));
    CHECK(dl_column_is_valid(&c, 999));
    CHECK_EQ_INT(((int64_t *)c.values)[999], 2997);
    dl_column d;
    dl_column_init(&d, DL_TYPE_INT64, DL_UNIT_MS);
    CHECK_OK(dl_column_append_i64(&d, -1, &err), &err);
    CHECK_OK(dl_column_append_range(&d, &c, 1, 10, &err), &err);
    CHECK_EQ_INT(d.length, 11);
    CHECK_EQ_INT(d.null_count, 2); /* rows 3 and 10 of c */
    CHECK(dl_column_is_valid(&d, 0));
    CHECK(!dl_column_is_valid(&d, 3));
    CHECK(!dl_column_is_valid(&d, 10));
    dl_column_free(&c);
    dl_column_free(&d);
}

DL_TEST(column_strings) {
    dl_error err = {0};
    dl_column c;
    dl_column_init(&c, DL_TYPE_STRING, DL_UNIT_MS);
    CHECK_OK(dl_column_append_str(&c, "abc", 3, &err), &err);
    CHECK_OK(dl_column_append_null(&c, &err), &err);
    CHECK_OK(dl_column_append_str(&c, "", 0, &err), &err);
    for (int i = 0; i < 500; i++) CHECK_OK(dl_column_append_str(&c, "xyzw", 4, &err), &err);
    CHECK_EQ_INT(c.length, 503);
    CHECK_EQ_INT(c.offsets[1], 3);
    CHECK_EQ_INT(c.offsets[2], 3);
    CHECK_EQ_INT(c.offsets[3], 3);
    CHECK_EQ_INT(c.offsets[503], 2003);
    CHECK(!dl_column_is_valid(&c, 1));
    CHECK(memcmp(c.data + c.offsets[502], "xyzw", 4) == 0);
    dl_column_free(&c);
}

DL_TEST(codec_roundtrip_all) {
    dl_error err = {0};
    uint8_t src[10000];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i % 251 < 100 ? 'a' : i * 7);
    dl_codec codecs[] = {DL_CODEC_NONE, DL_CODEC_ZSTD, DL_CODEC_SNAPPY, DL_CODEC_GZIP, DL_CODEC_LZ4_RAW};
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
        dl_buf out = DL_BUF_INIT;
        CHECK_OK(dl_compress(codecs[k], 3, src, sizeof src, &out, &err), &err);
        uint8_t back[sizeof src];
        CHECK_OK(dl_decompress(codecs[k], out.data, out.len, back, sizeof back, &err), &err);
        CHECK(memcmp(back, src, sizeof src) == 0);
        /* truncated input must fail cleanly, not crash */
        if (out.len > 4 && codecs[k] != DL_CODEC_NONE)
            CHECK(dl_decompress(codecs[k], out.data, out.len / 2, back, sizeof back, &err) != DL_OK);
        /* wrong expected size must fail */
        CHECK(dl_decompress(codecs[k], out.data, out.len, back, sizeof back - 1, &err) != DL_OK);
        dl_buf_free(&out);
    }
    uint8_t dummy[4];
    CHECK_RC(dl_decompress(4 /* BROTLI */, src, 4, dummy, 4, &err), DL_EUNSUPPORTED);
}

DL_TEST(sha256_known_vector) {
    char hex[65];
    dl_sha256_hex("abc", 3, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

DL_TEST(arena_limits) {
    dl_arena a;
    dl_arena_init(&a, 1000);
    CHECK(dl_arena_alloc(&a, 500) != NULL);
    CHECK(dl_arena_alloc(&a, 600) == NULL);
    CHECK(dl_arena_calloc(&a, SIZE_MAX / 2, 4) == NULL);
    dl_arena_free(&a);
}
