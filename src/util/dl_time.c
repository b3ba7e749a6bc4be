/*
** dl_time.c -- parsing of user-supplied times ("2024-01-05",
** "2024-01-05T10:30:00.250Z", "2024-01-05 10:30:00+02:00", epoch
** milliseconds) into epoch microseconds, UTC.  Shared by the CLI, the
** server and the query options so every entry point reads times alike.
*/
#include <ctype.h>
#include <string.h>

#include "util/dl_internal.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int dl_parse_time_us(const char *text, int64_t *out, dl_error *err) {
    const char *s = text;
    size_t n = strlen(s);
    bool all_digits = n > 0 && n < 19;
    for (size_t i = (s[0] == '-'); i < n && all_digits; i++) all_digits = isdigit((unsigned char)s[i]);
    if (all_digits && (s[0] != '-' || n > 1)) {
        int64_t v = 0;
        for (size_t i = (s[0] == '-'); i < n; i++) v = v * 10 + (s[i] - '0');
        if (s[0] == '-') v = -v;
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            return dl_error_set(err, DL_EINVAL, "time '%s' is out of range", text);
        *out = v * 1000; /* epoch milliseconds, as exchanges publish them */
        return DL_OK;
    }
    int y, mo, d, h = 0, mi = 0, se = 0;
    int64_t frac_us = 0, offset_s = 0;
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] ||
        (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return dl_error_set(err, DL_EINVAL, "time '%s': no such date", text);
    s += 10;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi)) goto bad;
        s += 5;
        if (*s == ':') {
            if (!digits(s + 1, 2, &se)) goto bad;
            s += 3;
            if (*s == '.' || *s == ',') {
                s++;
                int k = 0;
                int64_t scale = 100000;
                while (isdigit((unsigned char)*s)) {
                    if (k < 6) frac_us += (*s - '0') * scale, scale /= 10;
                    s++, k++;
                }
                if (k == 0) goto bad;
            }
        }
        if (h > 23 || mi > 59 || se > 60) return dl_error_set(err, DL_EINVAL, "time '%s': bad time of day", text);
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int oh, om;
        int sign = *s == '-' ? -1 : 1;
        if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om)) goto bad;
        offset_s = sign * (oh * 3600 + om * 60);
        s += 6;
    }
    if (*s) goto bad;
    *out = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se) - offset_s) * 1000000 +
           frac_us;
    return DL_OK;
bad:
    return dl_error_set(err, DL_EINVAL,
                        "time '%s' not understood: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM] "
                        "or epoch milliseconds",
                        text);
}
