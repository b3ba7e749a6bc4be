/*
** dl_timeparse.h -- calendar arithmetic and the ISO-8601 date/time grammar,
** written once for every place that reads or writes civil times:
** dl_parse_time_us (CLI and query options), the generic CSV reader,
** filter-expression literals, the timestamp formatter and the lake's day
** partitions.  Internal; header-only (static inline) because the CSV reader
** parses one time per row and the flags below are constants at every call,
** so each caller compiles to the grammar it asked for.
*/
#ifndef DL_TIMEPARSE_H
#define DL_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
** days_from_civil); month 1-12, day 1-31. */
static inline int64_t dl_days_from_civil(int64_t year, int month, int day) {
    year -= month <= 2;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t yoe = year - era * 400;                                         /* [0, 399] */
    const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse (Hinnant's civil_from_days): days since 1970-01-01 ->
** proleptic Gregorian year, month 1-12, day 1-31.  Any int64 day count
** whose year fits, which covers every timestamp of every unit. */
static inline void dl_civil_from_days(int64_t days, int64_t *year, int *month, int *day) {
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const int64_t doe = days - era * 146097;                                   /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

static inline bool dl_is_leap_year(int64_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Days in `month` (1-12) of `year`. */
static inline int dl_days_in_month(int64_t year, int month) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[month - 1] + (month == 2 && dl_is_leap_year(year));
}

/* Microseconds in one unit of a duration suffix (s, m = minutes, h, d, w);
** 0 for anything else ('M' would be months, which have no fixed length). */
static inline int64_t dl_duration_unit_us(char suffix) {
    switch (suffix) {
    case 's':
        return INT64_C(1000000);
    case 'm':
        return INT64_C(60000000);
    case 'h':
        return INT64_C(3600000000);
    case 'd':
        return INT64_C(86400000000);
    case 'w':
        return INT64_C(604800000000);
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* ISO-8601                                                             */
/* ------------------------------------------------------------------ */

/* The grammar with no flags (what filter expressions document):
**   YYYY-MM-DD[(T|t| )HH:MM[:SS[(.|,)F]][Z|z|(+|-)HH[[:]MM]]]
** with 1 to 9 fraction digits F; the text must be used up.  A time
** without an offset is UTC.  The flags adapt it to each reader's
** documented forms. */
enum {
    DL_ISO_NEED_SECONDS = 1 << 0, /* a time of day with seconds is required (CSV) */
    DL_ISO_PREFIX = 1 << 1,       /* parse a prefix: stop where the grammar ends (CSV) */
    DL_ISO_DOT_FRACTION = 1 << 2, /* only '.' starts a fraction (',' may be the CSV delimiter) */
    DL_ISO_LEAP_SECOND = 1 << 3,  /* second 60 is accepted, as the next minute's :00 */
    DL_ISO_ANY_FRACTION = 1 << 4, /* digits past the 9th are ignored rather than refused */
    DL_ISO_DATE_OFFSET = 1 << 5,  /* Z or an offset may follow a date without a time */
};

/* What is wrong, in the order the parser meets it (left to right). */
typedef enum dl_iso_status {
    DL_ISO_OK = 0,
    DL_ISO_BAD_DATE,      /* not YYYY-MM-DD */
    DL_ISO_BAD_MONTH,     /* month outside 01-12 */
    DL_ISO_BAD_DAY,       /* no such day in that month */
    DL_ISO_BAD_SEPARATOR, /* neither T nor a space after the date */
    DL_ISO_BAD_TIME,      /* no HH:MM (or no time at all where seconds are required) */
    DL_ISO_BAD_SECONDS,   /* ':' without two digits, or no seconds where they are required */
    DL_ISO_NO_FRACTION,   /* a decimal mark without digits */
    DL_ISO_LONG_FRACTION, /* more than 9 fraction digits */
    DL_ISO_TIME_RANGE,    /* hour > 23, minute > 59 or second > 59 */
    DL_ISO_BAD_OFFSET,    /* the UTC offset is not (+|-)HH[[:]MM] */
    DL_ISO_OFFSET_RANGE,  /* offset hour > 23 or minute > 59 */
    DL_ISO_TRAILING       /* characters after the date/time */
} dl_iso_status;

/* True for a well-formed date, time or offset that does not exist. */
static inline bool dl_iso_status_is_range(dl_iso_status st) {
    return st == DL_ISO_BAD_MONTH || st == DL_ISO_BAD_DAY || st == DL_ISO_TIME_RANGE ||
           st == DL_ISO_OFFSET_RANGE;
}

/* A short phrase for an error message ("the month must be 01-12"). */
static inline const char *dl_iso_status_text(dl_iso_status st) {
    switch (st) {
    case DL_ISO_OK:
        return "ok";
    case DL_ISO_BAD_DATE:
        return "the date must be YYYY-MM-DD";
    case DL_ISO_BAD_MONTH:
        return "the month must be 01-12";
    case DL_ISO_BAD_DAY:
        return "the day does not exist in that month";
    case DL_ISO_BAD_SEPARATOR:
        return "expected 'T' after the date";
    case DL_ISO_BAD_TIME:
        return "the time must be HH:MM[:SS[.fraction]]";
    case DL_ISO_BAD_SECONDS:
        return "the seconds must be two digits";
    case DL_ISO_NO_FRACTION:
        return "expected digits after the decimal point";
    case DL_ISO_LONG_FRACTION:
        return "more than 9 fractional digits";
    case DL_ISO_TIME_RANGE:
        return "the time is out of range";
    case DL_ISO_BAD_OFFSET:
        return "the UTC offset must be +HH:MM";
    case DL_ISO_OFFSET_RANGE:
        return "the UTC offset is out of range";
    case DL_ISO_TRAILING:
        return "unexpected characters after the date/time";
    }
    return "invalid date/time";
}

/* Reads exactly n ASCII digits at s[*i] (bounded by len) into *out. */
static inline bool dl_iso_digits(const char *s, size_t len, size_t *i, int n, int *out) {
    if (len - *i < (size_t)n) return false;
    int v = 0;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

static inline bool dl_iso_char(const char *s, size_t len, size_t *i, char c) {
    if (*i >= len || s[*i] != c) return false;
    (*i)++;
    return true;
}

/* Parses s[0, len) (which need not be NUL-terminated) into seconds since
** the epoch (UTC, offset applied) and nanoseconds in [0, 1e9).  With
** DL_ISO_PREFIX, *used is how many bytes the time took and the caller
** judges what follows; otherwise all of s must be the time.  used may be
** NULL without DL_ISO_PREFIX.  Outputs are set only on DL_ISO_OK. */
static inline dl_iso_status dl_iso8601_parse(const char *s, size_t len, unsigned flags,
                                             int64_t *seconds, int32_t *nanos, size_t *used) {
    size_t i = 0;
    int year, month, day, hour = 0, minute = 0, second = 0;
    int32_t fraction = 0;
    int offset_seconds = 0;
    if (!dl_iso_digits(s, len, &i, 4, &year) || !dl_iso_char(s, len, &i, '-') ||
        !dl_iso_digits(s, len, &i, 2, &month) || !dl_iso_char(s, len, &i, '-') ||
        !dl_iso_digits(s, len, &i, 2, &day))
        return DL_ISO_BAD_DATE;
    if (month < 1 || month > 12) return DL_ISO_BAD_MONTH;
    if (day < 1 || day > dl_days_in_month(year, month)) return DL_ISO_BAD_DAY;
    bool has_time = i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ');
    if (has_time) {
        i++;
        if (!dl_iso_digits(s, len, &i, 2, &hour) || !dl_iso_char(s, len, &i, ':') ||
            !dl_iso_digits(s, len, &i, 2, &minute))
            return DL_ISO_BAD_TIME;
        if (dl_iso_char(s, len, &i, ':')) {
            if (!dl_iso_digits(s, len, &i, 2, &second)) return DL_ISO_BAD_SECONDS;
            if (i < len && (s[i] == '.' || (s[i] == ',' && !(flags & DL_ISO_DOT_FRACTION)))) {
                i++;
                int digits = 0;
                for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
                    if (digits < 9) {
                        fraction = fraction * 10 + (s[i] - '0');
                        digits++;
                    } else if (!(flags & DL_ISO_ANY_FRACTION)) {
                        return DL_ISO_LONG_FRACTION;
                    }
                }
                if (digits == 0) return DL_ISO_NO_FRACTION;
                for (; digits < 9; digits++) fraction *= 10;
            }
        } else if (flags & DL_ISO_NEED_SECONDS) {
            return DL_ISO_BAD_SECONDS;
        }
        int max_second = flags & DL_ISO_LEAP_SECOND ? 60 : 59;
        if (hour > 23 || minute > 59 || second > max_second) return DL_ISO_TIME_RANGE;
    } else if (flags & DL_ISO_NEED_SECONDS) {
        return DL_ISO_BAD_TIME;
    }
    if (has_time || (flags & DL_ISO_DATE_OFFSET)) {
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, offset_hour, offset_minute = 0;
            if (!dl_iso_digits(s, len, &i, 2, &offset_hour)) return DL_ISO_BAD_OFFSET;
            bool colon = dl_iso_char(s, len, &i, ':');
            if ((colon || (i < len && s[i] >= '0' && s[i] <= '9')) &&
                !dl_iso_digits(s, len, &i, 2, &offset_minute))
                return DL_ISO_BAD_OFFSET;
            if (offset_hour > 23 || offset_minute > 59) return DL_ISO_OFFSET_RANGE;
            offset_seconds = sign * (offset_hour * 3600 + offset_minute * 60);
        }
    }
    if (!(flags & DL_ISO_PREFIX) && i != len)
        return has_time || (flags & DL_ISO_DATE_OFFSET) ? DL_ISO_TRAILING : DL_ISO_BAD_SEPARATOR;
    if (used) *used = i;
    *seconds = dl_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
               offset_seconds;
    *nanos = fraction;
    return DL_ISO_OK;
}

#endif /* DL_TIMEPARSE_H */
