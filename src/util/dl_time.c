/*
** dl_time.c -- parsing of user-supplied times ("2024-01-05",
** "2024-01-05T10:30:00.250Z", "2024-01-05 10:30:00+02:00", epoch
** milliseconds) into epoch microseconds, UTC.  Shared by the CLI, the
** server and the query options so every entry point reads times alike.
*/
#include <ctype.h>
#include <string.h>

#include "util/dl_internal.h"
#include "util/dl_timeparse.h"

int dl_parse_time_us(const char *text, int64_t *out, dl_error *err) {
    DL_REQUIRE(err, text && out);
    const char *s = text;
    size_t n = strlen(s);
    bool all_digits = n > 0 && n < 19;
    for (size_t i = (s[0] == '-'); i < n && all_digits; i++)
        all_digits = isdigit((unsigned char)s[i]);
    if (all_digits && (s[0] != '-' || n > 1)) {
        int64_t v = 0;
        for (size_t i = (s[0] == '-'); i < n; i++) v = v * 10 + (s[i] - '0');
        if (s[0] == '-') v = -v;
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            return dl_error_set(err, DL_EINVAL, "time '%s' is out of range", text);
        *out = v * 1000; /* epoch milliseconds, as exchanges publish them */
        return DL_OK;
    }
    /* Leap seconds, long fractions and an offset after a bare date are
    ** tolerated here: people type these times by hand. */
    int64_t seconds;
    int32_t nanos;
    dl_iso_status st =
        dl_iso8601_parse(s, n, DL_ISO_LEAP_SECOND | DL_ISO_ANY_FRACTION | DL_ISO_DATE_OFFSET,
                         &seconds, &nanos, NULL);
    if (st == DL_ISO_OK) {
        *out = seconds * 1000000 + nanos / 1000;
        return DL_OK;
    }
    if (st == DL_ISO_BAD_MONTH || st == DL_ISO_BAD_DAY)
        return dl_error_set(err, DL_EINVAL, "time '%s': no such date", text);
    if (st == DL_ISO_TIME_RANGE)
        return dl_error_set(err, DL_EINVAL, "time '%s': bad time of day", text);
    if (st == DL_ISO_OFFSET_RANGE)
        return dl_error_set(err, DL_EINVAL, "time '%s': UTC offset out of range", text);
    return dl_error_set(
        err, DL_EINVAL,
        "time '%s' not understood: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM] "
        "or epoch milliseconds",
        text);
}
