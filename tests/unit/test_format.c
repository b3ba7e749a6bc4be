/*
** test_format.c -- unit tests for dl_format.c: shortest round-trip doubles
** and floats in JavaScript layout, ISO-8601 timestamps and dates.
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "dl_test.h"

static const char *fmt_double(double v) {
    static char buf[64];
    int len = dl_format_double(v, buf, sizeof buf);
    CHECK_EQ_INT(len, (long long)strlen(buf));
    return buf;
}

static const char *fmt_float(float v) {
    static char buf[64];
    int len = dl_format_float(v, buf, sizeof buf);
    CHECK_EQ_INT(len, (long long)strlen(buf));
    return buf;
}

static const char *fmt_ts(int64_t v, dl_time_unit unit) {
    static char buf[64];
    int len = dl_format_timestamp(v, unit, buf, sizeof buf);
    CHECK_EQ_INT(len, (long long)strlen(buf));
    return buf;
}

static const char *fmt_date(int32_t days) {
    static char buf[64];
    int len = dl_format_date(days, buf, sizeof buf);
    CHECK_EQ_INT(len, (long long)strlen(buf));
    return buf;
}

DL_TEST(format_double_js_layout) {
    /* expected strings are what JavaScript's String(x) prints */
    CHECK_EQ_STR(fmt_double(0.1), "0.1");
    CHECK_EQ_STR(fmt_double(0.1 + 0.2), "0.30000000000000004");
    CHECK_EQ_STR(fmt_double(30000.12), "30000.12");
    CHECK_EQ_STR(fmt_double(3.0), "3");
    CHECK_EQ_STR(fmt_double(-42.0), "-42");
    CHECK_EQ_STR(fmt_double(0.0), "0");
    CHECK_EQ_STR(fmt_double(1e21), "1e+21");
    CHECK_EQ_STR(fmt_double(1e20), "100000000000000000000");
    CHECK_EQ_STR(fmt_double(123456789012345680000.0), "123456789012345680000");
    CHECK_EQ_STR(fmt_double(1.5e21), "1.5e+21");
    CHECK_EQ_STR(fmt_double(1e300), "1e+300");
    CHECK_EQ_STR(fmt_double(5e-7), "5e-7");
    CHECK_EQ_STR(fmt_double(1e-6), "0.000001");
    CHECK_EQ_STR(fmt_double(1.25e-7), "1.25e-7");
    CHECK_EQ_STR(fmt_double(0.000123), "0.000123");
    CHECK_EQ_STR(fmt_double(5e-324), "5e-324");
    CHECK_EQ_STR(fmt_double(2.5e-320), "2.5e-320");
    CHECK_EQ_STR(fmt_double(-1.23456e-310), "-1.23456e-310");
    CHECK_EQ_STR(fmt_double(DBL_MAX), "1.7976931348623157e+308");
    CHECK_EQ_STR(fmt_double(DBL_MIN), "2.2250738585072014e-308");
    CHECK_EQ_STR(fmt_double(9007199254740993.0), "9007199254740992");
    CHECK_EQ_STR(fmt_double(-1e-300), "-1e-300");
    CHECK_EQ_STR(fmt_double(1.0 / 3.0), "0.3333333333333333");
    CHECK_EQ_STR(fmt_double(2.0 / 3.0), "0.6666666666666666");
    CHECK_EQ_STR(fmt_double(100.0), "100");
    CHECK_EQ_STR(fmt_double(1234.5), "1234.5");
}

DL_TEST(format_double_special_values) {
    CHECK_EQ_STR(fmt_double(-0.0), "-0");
    CHECK_EQ_STR(fmt_double(NAN), "nan");
    CHECK_EQ_STR(fmt_double(INFINITY), "inf");
    CHECK_EQ_STR(fmt_double(-INFINITY), "-inf");
}

/* Digits of the mantissa without leading or trailing zeros. */
static int significant_digits(const char *text) {
    char digits[64];
    int n = 0;
    for (const char *c = text; *c && *c != 'e' && n < 63; c++)
        if ((*c >= '1' && *c <= '9') || (*c == '0' && n > 0)) digits[n++] = *c;
    while (n > 0 && digits[n - 1] == '0') n--;
    return n;
}

DL_TEST(format_double_round_trips) {
    /* a deterministic spread of bit patterns: every one must read back exactly
       and use no more digits than needed */
    uint64_t state = 0x9E3779B97F4A7C15ull;
    int failures = 0;
    for (int i = 0; i < 20000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double v;
        memcpy(&v, &state, sizeof v);
        if (!isfinite(v)) continue;
        char buf[64];
        dl_format_double(v, buf, sizeof buf);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) != 0 && failures++ < 5)
            fprintf(stderr, "  round trip failed: %s\n", buf);
        /* one digit fewer must not read back (or the output was not shortest) */
        char shorter[64];
        int digits = significant_digits(buf);
        if (digits > 1) {
            snprintf(shorter, sizeof shorter, "%.*e", digits - 2, v);
            if (strtod(shorter, NULL) == v && failures++ < 5)
                fprintf(stderr, "  not shortest: %s (%s also reads back)\n", buf, shorter);
        }
    }
    CHECK_EQ_INT(failures, 0);
    /* prices with few decimals stay short */
    for (int cents = 0; cents < 100000; cents += 7) {
        double v = cents / 100.0;
        char buf[64], want[64];
        dl_format_double(v, buf, sizeof buf);
        snprintf(want, sizeof want, "%.15g", v);
        if (strcmp(buf, want) != 0 && failures++ < 5) fprintf(stderr, "  %s != %s\n", buf, want);
    }
    CHECK_EQ_INT(failures, 0);
}

/* The brief's reference algorithm: the first precision 1..17 whose %e text
** reads back to v; returns its mantissa digits without trailing zeros. */
static void reference_digits(double v, char *digits) {
    char sci[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(sci, sizeof sci, "%.*e", precision - 1, v);
        if (strtod(sci, NULL) == v) break;
    }
    int n = 0;
    for (const char *c = sci; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9') digits[n++] = *c;
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
}

/* Mantissa digits of dl_format_double's text, without leading/trailing zeros. */
static void formatted_digits(const char *text, char *digits) {
    int n = 0;
    for (const char *c = text; *c && *c != 'e'; c++)
        if ((*c >= '1' && *c <= '9') || (*c == '0' && n > 0)) digits[n++] = *c;
    while (n > 1 && digits[n - 1] == '0') n--;
    if (n == 0) digits[n++] = '0';
    digits[n] = '\0';
}

DL_TEST(format_double_matches_exhaustive_search) {
    /* the decimal fast path and the printf path must both give exactly the
       digits of the exhaustive search, on price-like and arbitrary values */
    uint64_t state = 12345;
    int failures = 0;
    for (int i = 0; i < 120000 && failures < 5; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double v;
        switch (i % 6) {
        case 0:
            v = (double)(int64_t)(state % 100000000) / 100.0;
            break; /* cents */
        case 1:
            v = (double)(int64_t)(state % 1000000000) / 1e8;
            break; /* satoshis */
        case 2:
            v = (double)(int64_t)(state >> 11) * 0x1p-53 * 1e6;
            break; /* uniform */
        case 3:
            v = (double)(int64_t)(state >> 8) - (double)(1ll << 55);
            break; /* big ints */
        case 4:
            v = (double)(int64_t)(state % 100000) * 1e-12;
            break; /* tiny */
        default:
            memcpy(&v, &state, sizeof v);
            break; /* any bits */
        }
        if (!isfinite(v) || v == 0) continue;
        char text[64], want[32], got[32];
        dl_format_double(v, text, sizeof text);
        reference_digits(v, want);
        formatted_digits(text, got);
        if (strtod(text, NULL) != v || strcmp(want, got) != 0) {
            failures++;
            fprintf(stderr, "  %.17g: printed %s, exhaustive search digits %s\n", v, text, want);
        }
    }
    CHECK_EQ_INT(failures, 0);
}

DL_TEST(format_float_shortest) {
    CHECK_EQ_STR(fmt_float(0.1f), "0.1");
    CHECK_EQ_STR(fmt_float(1.5f), "1.5");
    CHECK_EQ_STR(fmt_float(16777216.0f), "16777216");
    CHECK_EQ_STR(fmt_float(3.4028235e38f), "3.4028235e+38");
    CHECK_EQ_STR(fmt_float(1e-45f), "1e-45");
    CHECK_EQ_STR(fmt_float(-0.0f), "-0");
    CHECK_EQ_STR(fmt_float((float)NAN), "nan");
    CHECK_EQ_STR(fmt_float(-(float)INFINITY), "-inf");
    CHECK_EQ_STR(fmt_float(0.3f), "0.3");
    CHECK_EQ_STR(fmt_float(1.0f / 3.0f), "0.33333334");
}

DL_TEST(format_truncates_to_buffer) {
    char small[5];
    int len = dl_format_double(123456.5, small, sizeof small);
    CHECK_EQ_INT(len, 4);
    CHECK_EQ_STR(small, "1234");
    char none[1] = {'x'};
    CHECK_EQ_INT(dl_format_date(0, none, 0), 0);
    CHECK(none[0] == 'x');
}

DL_TEST(format_timestamp_units) {
    CHECK_EQ_STR(fmt_ts(0, DL_UNIT_MS), "1970-01-01T00:00:00.000Z");
    CHECK_EQ_STR(fmt_ts(1704412800123, DL_UNIT_MS), "2024-01-05T00:00:00.123Z");
    CHECK_EQ_STR(fmt_ts(1704412800123456, DL_UNIT_US), "2024-01-05T00:00:00.123456Z");
    CHECK_EQ_STR(fmt_ts(1704412800123456789, DL_UNIT_NS), "2024-01-05T00:00:00.123456789Z");
    CHECK_EQ_STR(fmt_ts(1704455999999, DL_UNIT_MS), "2024-01-05T11:59:59.999Z");
    /* leap days */
    CHECK_EQ_STR(fmt_ts(951782400000, DL_UNIT_MS), "2000-02-29T00:00:00.000Z");
    CHECK_EQ_STR(fmt_ts(1709164800000000, DL_UNIT_US), "2024-02-29T00:00:00.000000Z");
    CHECK_EQ_STR(fmt_ts(1709251199999, DL_UNIT_MS), "2024-02-29T23:59:59.999Z");
    /* 1900 is not a leap year: 1900-02-28 is followed by 1900-03-01 */
    CHECK_EQ_STR(fmt_ts(-2203977600000, DL_UNIT_MS), "1900-02-28T00:00:00.000Z");
    CHECK_EQ_STR(fmt_ts(-2203891200000, DL_UNIT_MS), "1900-03-01T00:00:00.000Z");
}

DL_TEST(format_timestamp_before_1970) {
    CHECK_EQ_STR(fmt_ts(-1, DL_UNIT_MS), "1969-12-31T23:59:59.999Z");
    CHECK_EQ_STR(fmt_ts(-1, DL_UNIT_NS), "1969-12-31T23:59:59.999999999Z");
    CHECK_EQ_STR(fmt_ts(-1000, DL_UNIT_MS), "1969-12-31T23:59:59.000Z");
    CHECK_EQ_STR(fmt_ts(-86400000001, DL_UNIT_US), "1969-12-30T23:59:59.999999Z");
    CHECK_EQ_STR(fmt_ts(-14182940000, DL_UNIT_MS), "1969-07-20T20:17:40.000Z");
    CHECK_EQ_STR(fmt_ts(-62135596800000, DL_UNIT_MS), "0001-01-01T00:00:00.000Z");
    CHECK_EQ_STR(fmt_ts(-62167219200001, DL_UNIT_MS), "-000001-12-31T23:59:59.999Z");
}

DL_TEST(format_timestamp_extremes) {
    CHECK_EQ_STR(fmt_ts(253402300799999, DL_UNIT_MS), "9999-12-31T23:59:59.999Z");
    CHECK_EQ_STR(fmt_ts(253402300800000, DL_UNIT_MS), "+010000-01-01T00:00:00.000Z");
    CHECK_EQ_STR(fmt_ts(INT64_MAX, DL_UNIT_NS), "2262-04-11T23:47:16.854775807Z");
    CHECK_EQ_STR(fmt_ts(INT64_MIN, DL_UNIT_NS), "1677-09-21T00:12:43.145224192Z");
    /* JavaScript: new Date(8.64e15).toISOString() */
    CHECK_EQ_STR(fmt_ts(8640000000000000, DL_UNIT_MS), "+275760-09-13T00:00:00.000Z");
    /* the int64 extremes in ms are far outside any calendar library; they
       must still produce a well-formed string */
    CHECK_EQ_STR(fmt_ts(INT64_MAX, DL_UNIT_MS), "+292278994-08-17T07:12:55.807Z");
    CHECK_EQ_STR(fmt_ts(INT64_MIN, DL_UNIT_MS), "-292275055-05-16T16:47:04.192Z");
}

DL_TEST(format_date) {
    CHECK_EQ_STR(fmt_date(0), "1970-01-01");
    CHECK_EQ_STR(fmt_date(19727), "2024-01-05");
    CHECK_EQ_STR(fmt_date(-1), "1969-12-31");
    CHECK_EQ_STR(fmt_date(11016), "2000-02-29");
    CHECK_EQ_STR(fmt_date(2932896), "9999-12-31");
    CHECK_EQ_STR(fmt_date(-719162), "0001-01-01");
    CHECK_EQ_STR(fmt_date(INT32_MAX), "+5881580-07-11");
    CHECK_EQ_STR(fmt_date(INT32_MIN), "-5877641-06-23");
}
