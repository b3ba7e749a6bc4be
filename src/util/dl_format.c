/*
** dl_format.c -- text rendering of values, shared by the CLI, the server and
** the bindings, so that every front end prints the same value the same way.
**
** Decisions (the contract the callers and the interop tests rely on):
**   - dl_format_double / dl_format_float print the SHORTEST decimal that
**     reads back (strtod / strtof) to the identical value, laid out like
**     JavaScript's Number.prototype.toString: plain notation for decimal
**     exponents -7 < e < 21 ("0.1", "30000.12", "123456789012345680000",
**     "0.000001"), otherwise "d[.ddd]e+N" / "d[.ddd]e-N" ("1e+21", "5e-7").
**     Integral values have no ".0" ("3", "-0").  Negative zero prints as
**     "-0" (unlike JS) so that the sign survives a round trip.
**   - NaN and infinities print as "nan", "inf" and "-inf".  These are not
**     JSON: JSON writers must emit null for them (the `dl cat` jsonl writer
**     does), CSV/table writers may print them as they are.
**   - dl_format_timestamp prints ISO-8601 UTC with exactly the unit's
**     precision (3, 6 or 9 fraction digits) and a trailing "Z".  Instants
**     before 1970 use floor division, so -1 ms is "1969-12-31T23:59:59.999Z".
**   - Years 0..9999 print as 4 digits; years outside that range print with
**     a sign and at least 6 digits ("+010000-01-01", "-000001-12-31"), the
**     ISO-8601 expanded form that JavaScript's Date.toISOString also uses.
**     The calendar is the proleptic Gregorian one; year 0 is 1 BC.
**   - Every function writes at most size-1 characters plus a NUL (when
**     size > 0) and returns the number of characters written.
**
** Dates use Howard Hinnant's integer civil-from-days algorithm
** (http://howardhinnant.github.io/date_algorithms.html) over int64, so any
** int64 timestamp in any unit converts without overflow and without gmtime
** (which is locale/time-zone free but limited to time_t and may fail).
*/
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"
#include "util/dl_timeparse.h"

/* Copies len characters of src to buf (truncating to size-1) and terminates. */
static int copy_out(const char *src, size_t len, char *buf, size_t size) {
    if (size == 0) return 0;
    if (len > size - 1) len = size - 1;
    memcpy(buf, src, len);
    buf[len] = '\0';
    return (int)len;
}

static int format_non_finite(double v, char *buf, size_t size) {
    if (isnan(v)) return copy_out("nan", 3, buf, size);
    return v < 0 ? copy_out("-inf", 4, buf, size) : copy_out("inf", 3, buf, size);
}

/*
** Lays out a decimal given as significant digits d1 d2 ... dk (no leading or
** trailing zeros, k >= 1) times 10^(point - k), i.e. the decimal point sits
** `point` digits after the first digit, following ECMAScript's
** Number::toString.  Returns the length written into out (>= 40 bytes).
*/
static int layout_js(bool negative, const char *digits, int k, int point, char *out) {
    char *p = out;
    if (negative) *p++ = '-';
    if (k <= point && point <= 21) { /* integer: digits then zeros */
        memcpy(p, digits, (size_t)k);
        p += k;
        for (int i = k; i < point; i++) *p++ = '0';
    } else if (0 < point && point <= 21) { /* point inside the digits */
        memcpy(p, digits, (size_t)point);
        p += point;
        *p++ = '.';
        memcpy(p, digits + point, (size_t)(k - point));
        p += k - point;
    } else if (-6 < point && point <= 0) { /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = point; i < 0; i++) *p++ = '0';
        memcpy(p, digits, (size_t)k);
        p += k;
    } else { /* exponent notation */
        /* callers pass k >= 1 digits */
        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
        *p++ = digits[0];
        if (k > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(k - 1));
            p += k - 1;
        }
        int e = point - 1;
        p += sprintf(p, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    *p = '\0';
    return (int)(p - out);
}

/*
** Turns the output of printf("%.*e") ("-1.2345000e-07") into digits without
** trailing zeros and the JS layout.  sci must be a finite, nonzero value.
*/
static int layout_from_sci(const char *sci, char *out) {
    bool negative = sci[0] == '-';
    const char *s = negative ? sci + 1 : sci;
    char digits[32];
    int k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.' && k < (int)sizeof digits) digits[k++] = *s;
    int exponent = (*s == 'e') ? atoi(s + 1) : 0;
    while (k > 1 && digits[k - 1] == '0') k--;
    return layout_js(negative, digits, k, exponent + 1, out);
}

/*
** Shortest round trip: a decimal with p <= DIG significant digits reads back
** to a value whose p-digit rounding is that decimal again (the DBL_DIG /
** FLT_DIG guarantee), so if ANY precision <= DIG round-trips, precision DIG
** does too and its digits, trailing zeros stripped, are the shortest ones.
** Above DIG we try each precision in turn; printf rounds correctly, so the
** digits chosen are also the closest of that length, as in JavaScript.
** Subnormals carry fewer significant bits, the guarantee does not hold for
** them, and they start the search at one digit.
*/
/*
** Fast path for the common case of market data: values that are exactly
** the double nearest to a decimal m / 10^k with |m| < 2^53 (prices, sizes,
** integers).  Both m and 10^k (k <= 22) are exact doubles, so m / 10^k is
** the correctly rounded quotient, i.e. what strtod returns for the decimal
** text; if it equals v the text round-trips.  The smallest such k gives the
** fewest fraction digits and hence the shortest text, and llround picks
** the nearest k-digit decimal, as JavaScript does.  Returns the length laid
** out into out, or 0 when v is not such a decimal (the caller then falls
** back to printf/strtod).  tests/unit/test_format.c checks it against the
** exhaustive search on millions of values.
*/
static int format_short_decimal(double v, char *out) {
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const double limit = 9007199254740992.0; /* 2^53 */
    for (int k = 0; k < (int)(sizeof pow10 / sizeof pow10[0]); k++) {
        double scaled = v * pow10[k];
        if (!(fabs(scaled) < limit)) return 0;
        long long m = llround(scaled);
        if (m == 0 || (double)m / pow10[k] != v) continue;
        uint64_t magnitude = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
        char digits[24];
        int n = 0;
        char reversed[24];
        for (; magnitude; magnitude /= 10) reversed[n++] = (char)('0' + magnitude % 10);
        for (int i = 0; i < n; i++) digits[i] = reversed[n - 1 - i];
        int point = n - k; /* the decimal point sits k digits from the right */
        while (n > 1 && digits[n - 1] == '0') n--;
        return layout_js(m < 0, digits, n, point, out);
    }
    return 0;
}

int dl_format_double(double v, char *buf, size_t size) {
    if (!isfinite(v)) return format_non_finite(v, buf, size);
    if (v == 0) return signbit(v) ? copy_out("-0", 2, buf, size) : copy_out("0", 1, buf, size);
    char sci[40], out[48];
    int fast = format_short_decimal(v, out);
    if (fast > 0) return copy_out(out, (size_t)fast, buf, size);
    for (int precision = fabs(v) < DBL_MIN ? 1 : DBL_DIG; precision <= 17; precision++) {
        snprintf(sci, sizeof sci, "%.*e", precision - 1, v);
        if (precision == 17 || strtod(sci, NULL) == v) break;
    }
    int len = layout_from_sci(sci, out);
    return copy_out(out, (size_t)len, buf, size);
}

int dl_format_float(float v, char *buf, size_t size) {
    if (!isfinite(v)) return format_non_finite(v, buf, size);
    if (v == 0) return signbit(v) ? copy_out("-0", 2, buf, size) : copy_out("0", 1, buf, size);
    char sci[40], out[48];
    for (int precision = fabsf(v) < FLT_MIN ? 1 : FLT_DIG; precision <= 9; precision++) {
        snprintf(sci, sizeof sci, "%.*e", precision - 1, (double)v);
        if (precision == 9 || strtof(sci, NULL) == v) break;
    }
    int len = layout_from_sci(sci, out);
    return copy_out(out, (size_t)len, buf, size);
}

/* Floor division and the matching non-negative remainder. */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem) {
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q -= 1;
        r += b;
    }
    *rem = r;
    return q;
}

/* Writes v as exactly `width` decimal digits (v >= 0, fits) at out. */
static char *put_digits(char *out, int64_t v, int width) {
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return out + width;
}

/* Writes "YYYY-MM-DD" (or the expanded-year form) into out; returns length.
** Hand-rolled rather than sprintf: `dl cat` formats millions of these. */
static int write_civil_date(int64_t days, char *out) {
    int64_t year;
    int month, day;
    dl_civil_from_days(days, &year, &month, &day);
    char *p = out;
    if (year >= 0 && year <= 9999) {
        p = put_digits(p, year, 4);
    } else {
        uint64_t magnitude = year < 0 ? (uint64_t)0 - (uint64_t)year : (uint64_t)year;
        int width = 6;
        for (uint64_t v = magnitude / 1000000; v; v /= 10) width++;
        *p++ = year < 0 ? '-' : '+';
        p = put_digits(p, (int64_t)magnitude, width);
    }
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    return (int)(p - out);
}

int dl_format_date(int32_t days, char *buf, size_t size) {
    char out[40];
    int len = write_civil_date(days, out);
    return copy_out(out, (size_t)len, buf, size);
}

int dl_format_timestamp(int64_t v, dl_time_unit unit, char *buf, size_t size) {
    static const int64_t per_second[] = {1000, 1000000, 1000000000};
    static const int fraction_digits[] = {3, 6, 9};
    int u = (unit == DL_UNIT_US || unit == DL_UNIT_NS) ? (int)unit : DL_UNIT_MS;
    int64_t fraction, second_of_day;
    int64_t seconds = floor_div(v, per_second[u], &fraction);
    int64_t days = floor_div(seconds, 86400, &second_of_day);
    char out[64];
    char *p = out + write_civil_date(days, out);
    *p++ = 'T';
    p = put_digits(p, second_of_day / 3600, 2);
    *p++ = ':';
    p = put_digits(p, second_of_day / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, second_of_day % 60, 2);
    *p++ = '.';
    p = put_digits(p, fraction, fraction_digits[u]);
    *p++ = 'Z';
    return copy_out(out, (size_t)(p - out), buf, size);
}
