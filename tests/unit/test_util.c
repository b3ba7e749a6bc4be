/*
** test_util.c -- columns, tables, buffers, arena, codecs, sha256, time
** parsing and calendar arithmetic.
*/
#include <stdlib.h>
#include <string.h>

#include "dl_test.h"
#include "util/dl_buf.h"
#include "util/dl_codec.h"
#include "util/dl_timeparse.h"

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

/* A column with a type outside dl_type, or an absurd reservation, is
** refused rather than given a zero-sized (or overflowing) buffer. */
DL_TEST(column_reserve_rejects_bad_requests) {
    dl_error err = {0};
    dl_column c;
    dl_column_init(&c, (dl_type)DL_TYPE_COUNT_, DL_UNIT_MS);
    CHECK_RC(dl_column_reserve(&c, 10, 0, &err), DL_EINVAL);
    CHECK(c.values == NULL && c.cap_values == 0);
    dl_column_free(&c);
    dl_column_init(&c, DL_TYPE_INT64, DL_UNIT_MS);
    CHECK_OK(dl_column_append_i64(&c, 1, &err), &err);
    CHECK_RC(dl_column_reserve(&c, INT64_MAX, 0, &err), DL_ENOMEM);
    CHECK_EQ_INT(c.length, 1);
    CHECK_EQ_INT(((int64_t *)c.values)[0], 1);
    dl_column_free(&c);
    dl_column_init(&c, DL_TYPE_STRING, DL_UNIT_MS);
    CHECK_RC(dl_column_reserve(&c, 1, INT64_MAX, &err), DL_ENOMEM);
    dl_column_free(&c);
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
    dl_codec codecs[] = {DL_CODEC_NONE, DL_CODEC_ZSTD, DL_CODEC_SNAPPY, DL_CODEC_GZIP,
                         DL_CODEC_LZ4_RAW};
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
        dl_buf out = DL_BUF_INIT;
        CHECK_OK(dl_compress(codecs[k], 3, src, sizeof src, &out, &err), &err);
        uint8_t back[sizeof src];
        CHECK_OK(dl_decompress(codecs[k], out.data, out.len, back, sizeof back, &err), &err);
        CHECK(memcmp(back, src, sizeof src) == 0);
        /* truncated input must fail cleanly, not crash */
        if (out.len > 4 && codecs[k] != DL_CODEC_NONE)
            CHECK(dl_decompress(codecs[k], out.data, out.len / 2, back, sizeof back, &err) !=
                  DL_OK);
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

/* dl_parse_time_us: every documented form, the tolerated extras (leap
** second, ',' decimal mark, long fractions, an offset after a bare date)
** and one message per kind of error. */
DL_TEST(parse_time_us_forms) {
    dl_error err = {0};
    int64_t v = 0;
    const int64_t day = INT64_C(1704412800000000); /* 2024-01-05T00:00:00Z */
    const int64_t hour = INT64_C(3600000000);
    struct {
        const char *text;
        int64_t want;
    } ok[] = {
        {"2024-01-05", day},
        {"2024-01-05T10:30:00.250Z", day + 10 * hour + 30 * 60000000 + 250000},
        {"2024-01-05 10:30:00+02:00", day + 8 * hour + 30 * 60000000},
        {"2024-01-05t10:30z", day + 10 * hour + 30 * 60000000},
        {"2024-01-05T10:00:00-0130", day + 11 * hour + 30 * 60000000},
        {"2024-01-05T10:00+01", day + 9 * hour},
        {"2024-01-05T23:59:60Z", day + 24 * hour},
        {"2024-01-05T00:00:00,5", day + 500000},
        {"2024-01-05T00:00:00.1234567891234Z", day + 123456},
        {"2024-01-05Z", day},
        {"2024-01-05+02:00", day - 2 * hour},
        {"1969-12-31T23:59:59.999999Z", -1},
        {"1704412800000", day},
        {"-1", -1000},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_OK(dl_parse_time_us(ok[i].text, &v, &err), &err);
        CHECK_EQ_INT(v, ok[i].want);
    }
    CHECK_RC(dl_parse_time_us("2023-02-29", &v, &err), DL_EINVAL);
    CHECK_EQ_STR(err.message, "time '2023-02-29': no such date");
    CHECK_RC(dl_parse_time_us("2024-13-01T10:00", &v, &err), DL_EINVAL);
    CHECK_EQ_STR(err.message, "time '2024-13-01T10:00': no such date");
    CHECK_RC(dl_parse_time_us("2024-01-05T24:00", &v, &err), DL_EINVAL);
    CHECK_EQ_STR(err.message, "time '2024-01-05T24:00': bad time of day");
    CHECK_RC(dl_parse_time_us("2024-01-05T10:00+24:00", &v, &err), DL_EINVAL);
    CHECK_EQ_STR(err.message, "time '2024-01-05T10:00+24:00': UTC offset out of range");
    CHECK_RC(dl_parse_time_us("999999999999999999", &v, &err), DL_EINVAL);
    CHECK_EQ_STR(err.message, "time '999999999999999999' is out of range");
    const char *bad[] = {"",
                         "-",
                         "2024-1-05",
                         "2024/01/05",
                         "2024-01-05T",
                         "2024-01-05T10",
                         "2024-01-05T10:00:",
                         "2024-01-05T10:00:00.",
                         "2024-01-05x",
                         "2024-01-05T10:00:00 UTC",
                         "2024-01-05T10:00+05:",
                         "1e9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(dl_parse_time_us(bad[i], &v, &err), DL_EINVAL);
        CHECK(strstr(err.message, "not understood: use YYYY-MM-DD") != NULL);
    }
}

/* The shared ISO-8601 grammar in the CSV reader's prefix mode: it stops
** where the time ends and leaves the rest to the caller. */
DL_TEST(iso8601_prefix_and_flags) {
    int64_t secs = 0;
    int32_t nanos = 0;
    size_t used = 0;
    const unsigned csv = DL_ISO_NEED_SECONDS | DL_ISO_PREFIX | DL_ISO_DOT_FRACTION;
    const char *text = "2024-01-05T10:00:00.5Z,7";
    CHECK_EQ_INT(dl_iso8601_parse(text, strlen(text), csv, &secs, &nanos, &used), DL_ISO_OK);
    CHECK_EQ_INT(used, 22);
    CHECK_EQ_INT(secs, 1704448800);
    CHECK_EQ_INT(nanos, 500000000);
    text = "2024-01-05T10:00:00,5";
    CHECK_EQ_INT(dl_iso8601_parse(text, strlen(text), csv, &secs, &nanos, &used), DL_ISO_OK);
    CHECK_EQ_INT(used, 19); /* ',' is the delimiter here, not a decimal mark */
    CHECK_EQ_INT(dl_iso8601_parse(text, strlen(text), 0, &secs, &nanos, NULL), DL_ISO_OK);
    CHECK_EQ_INT(nanos, 500000000);
    CHECK_EQ_INT(dl_iso8601_parse("2024-01-05T10:00", 16, csv, &secs, &nanos, &used),
                 DL_ISO_BAD_SECONDS);
    CHECK_EQ_INT(dl_iso8601_parse("2024-01-05", 10, csv, &secs, &nanos, &used), DL_ISO_BAD_TIME);
    /* the length bounds the parse: no NUL needed, nothing read past it */
    CHECK_EQ_INT(dl_iso8601_parse("2024-01-05T10:00:00.123", 20, 0, &secs, &nanos, NULL),
                 DL_ISO_NO_FRACTION);
    CHECK_EQ_INT(dl_iso8601_parse("2024-01-05T10:00:00.1234567891", 30, 0, &secs, &nanos, NULL),
                 DL_ISO_LONG_FRACTION);
    CHECK_EQ_INT(
        dl_iso8601_parse("0000-02-29T00:00:00.000000001-23:59", 35, 0, &secs, &nanos, NULL),
        DL_ISO_OK);
    CHECK_EQ_INT(secs, dl_days_from_civil(0, 2, 29) * 86400 + 23 * 3600 + 59 * 60);
    CHECK_EQ_INT(nanos, 1);
    CHECK(dl_iso_status_is_range(DL_ISO_BAD_DAY) && !dl_iso_status_is_range(DL_ISO_BAD_DATE));
}

/* days_from_civil and civil_from_days are inverses over a wide span. */
DL_TEST(civil_days_round_trip) {
    for (int64_t d = -800000; d <= 3000000; d += 997) {
        int64_t y;
        int m, dd;
        dl_civil_from_days(d, &y, &m, &dd);
        CHECK(m >= 1 && m <= 12 && dd >= 1 && dd <= dl_days_in_month(y, m));
        CHECK_EQ_INT(dl_days_from_civil(y, m, dd), d);
    }
    CHECK_EQ_INT(dl_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(dl_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(dl_days_from_civil(-1, 12, 31), -719529);
}
