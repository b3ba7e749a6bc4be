/*
** dl_csv.c -- streaming CSV readers for Binance kline/trade/aggTrade files
** and generic CSV (see dl_csv.h).
**
** Design, driven by the ingest benchmark (gigabytes of CSV, > 300 MB/s per
** core):
**   - Input arrives in 4 MiB blocks (plain file, or inflated from a .zip);
**     a memory image is parsed in place.  The unfinished last line of a
**     block is moved to the front before the next block is read, so a record
**     is always contiguous.  Records longer than 1 MiB are malformed, which
**     bounds memory whatever the input.
**   - Each record is parsed by one pass over its fields, driven by a
**     per-source-column plan (skip / time / double / int64 / bool / string),
**     writing values straight into the batch's column arrays by row index.
**     A malformed row is simply not counted, so the next row overwrites it.
**   - Decimals use Clinger's fast path (integer mantissa of at most 19
**     digits, |exponent| <= 22, mantissa <= 2^53: one correctly rounded
**     multiplication or division gives the same double as strtod); anything
**     else goes to strtod on a NUL-terminated copy.  strtod assumes the "C"
**     locale's decimal point, which the process is expected to keep.
**   - Quoted fields (RFC 4180, "" escapes, newlines inside quotes) are
**     recognised in generic CSV only: Binance files are never quoted, and
**     keeping quotes out of their path keeps record splitting to a memchr.
*/
#include "ingest/dl_csv.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/dl_zip.h"
#include "util/dl_internal.h"
#include "util/dl_timeparse.h"

#define CSV_BLOCK          ((size_t)4 << 20)
#define CSV_MAX_RECORD     ((size_t)1 << 20)
#define CSV_BUFFER_CAP     (CSV_BLOCK + CSV_MAX_RECORD + 1)
#define CSV_DEFAULT_BATCH  65536
#define CSV_MAX_BATCH      ((int64_t)1 << 24)
#define CSV_MAX_COLUMNS    10000
#define CSV_SAMPLE_RECORDS 1000
/* Field text shown in error messages is cut after this many bytes. */
#define CSV_SHOW_FIELD 40

/* Positive: a malformed row (message in the error), skippable with skip_bad.
** Never returned through the public API. */
#define CSV_ROW_BAD 2

/* Auto-detected epoch units: a value belongs to the unit (s, ms, us, ns)
** in which it falls in [1990-01-01, 2200-01-01) UTC.  That span is 11.5x
** wide, less than the 1000x between units, so the bands never overlap and a
** value between them (a year-9999 ms value, a 1970 value, a negative one)
** belongs to none and is refused rather than guessed. */
#define CSV_AUTO_FROM_S   INT64_C(631152000)  /* 1990-01-01T00:00:00Z */
#define CSV_AUTO_UNTIL_S  INT64_C(7258118400) /* 2200-01-01T00:00:00Z */
#define CSV_US_PER_SECOND INT64_C(1000000)

typedef enum field_action {
    ACT_SKIP = 0,
    ACT_TIME,
    ACT_DOUBLE,
    ACT_INT64,
    ACT_BOOL,
    ACT_STRING
} field_action;

typedef enum time_format { TIME_AUTO = 0, TIME_S, TIME_MS, TIME_US, TIME_NS, TIME_ISO } time_format;

/* Result of scanning one field value. */
typedef enum scan_status {
    SCAN_OK = 0,
    SCAN_SYNTAX,    /* not a value of the column's type */
    SCAN_RANGE,     /* a value, but out of range */
    SCAN_NUL,       /* NUL byte */
    SCAN_QUOTE,     /* quote character inside an unquoted field */
    SCAN_NO_UNIT,   /* auto: an epoch integer in no unit's band */
    SCAN_AMBIGUOUS, /* auto: an epoch integer in several bands */
    SCAN_WRONG_UNIT /* auto: an epoch integer of another unit than the file's */
} scan_status;

/* What to do with one source column. */
typedef struct field_plan {
    field_action action;
    /* ACT_TIME: the format in force.  With "auto" it starts as TIME_AUTO and
    ** is fixed by the column's first value (unit_line, unit_value), after
    ** which every value must fall in that unit's band: one unit per file. */
    time_format time_format;
    bool auto_unit;     /* the unit was detected, not configured */
    int64_t unit_line;  /* line of the value that fixed the unit */
    int64_t unit_value; /* that value (epoch integer; 0 for ISO text) */
    bool nullable;      /* empty field -> null (generic columns) */
    int out;            /* output column, -1 when skipped */
    const char *name;   /* source column name for messages (borrowed) */
} field_plan;

typedef enum source_kind { SRC_MEMORY, SRC_FILE, SRC_ZIP } source_kind;

typedef struct csv_record {
    const char *start, *end; /* without the line terminator */
    int64_t line;            /* 1-based line number where the record starts */
} csv_record;

struct dl_csv_reader {
    char *name;
    dl_csv_kind kind;
    bool skip_bad;
    bool quotes; /* RFC 4180 quoting (generic only) */
    char delim;
    int64_t batch_rows;
    time_format ts_format;

    dl_schema schema;
    field_plan *plan;
    int num_fields;      /* fields per record */
    char **header_names; /* generic: owned copies of the header fields */
    int num_header_names;
    bool check_header; /* Binance: the first record may be a header */
    /* Binance trades/aggTrades: USD-M futures files lack the last column
    ** (is_best_match, which is dropped anyway).  The first data row decides
    ** whether the file has it; every row must then agree. */
    bool optional_last;
    enum { LAST_UNKNOWN, LAST_PRESENT, LAST_ABSENT } last_field;

    /* Rows whose ts is outside [ts_min, ts_max) end the read (an archive
    ** holding another period's rows); range_label names the period. */
    bool check_range;
    int64_t ts_min, ts_max;
    char *range_label;
    uint32_t zip_max_ratio;

    source_kind source;
    int fd;
    dl_zip_reader *zip;
    uint64_t total_bytes;
    uint64_t bytes_fed; /* bytes read into the buffer so far (file source) */

    char *owned_buf; /* block buffer (file and zip sources) */
    size_t buf_cap;  /* its size: CSV_BUFFER_CAP, or less for small inputs */
    const char *buf; /* owned_buf, or the caller's memory */
    size_t pos, end; /* unparsed bytes: buf[pos, end) */
    bool eof;        /* no bytes beyond buf[end] */
    bool discarding; /* skipping the rest of an over-long line */
    int64_t line;    /* line number of buf[pos] */

    /* Work buffers of work_cap + 1 bytes, where work_cap is at least the
    ** longest record the buffer can hold (so small inputs stay cheap). */
    char *scratch; /* unescaped quoted fields */
    char *numbuf;  /* NUL-terminated copies for strtod */
    size_t work_cap;

    int64_t rows_read;
    int64_t rows_skipped;
    char *first_skip_reason;
    int failed_rc; /* sticky: a fatal error ends the stream */
    dl_error failed_err;
};

/* ------------------------------------------------------------------ */
/* Value scanners.  Each scans a value starting at s, never reading at or  */
/* beyond limit, and reports where it stopped; the caller checks that the  */
/* value fills its field.                                                  */
/* ------------------------------------------------------------------ */

static inline bool is_digit(char c) {
    return (unsigned)(c - '0') < 10u;
}

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod on a NUL-terminated copy, for what the fast path cannot do exactly.
** The syntax has already been checked, so strtod consumes all of it. */
static scan_status slow_double(const dl_csv_reader *r, const char *s, const char *end,
                               double *out) {
    size_t len = (size_t)(end - s);
    if (len > r->work_cap) return SCAN_RANGE; /* cannot happen: fields fit in records */
    memcpy(r->numbuf, s, len);
    r->numbuf[len] = 0;
    char *stop = NULL;
    double v = strtod(r->numbuf, &stop);
    if (stop != r->numbuf + len) return SCAN_SYNTAX;
    if (isinf(v)) return SCAN_RANGE;
    *out = v;
    return SCAN_OK;
}

/* [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits... */
static inline scan_status scan_double(const dl_csv_reader *r, const char *s, const char *limit,
                                      double *out, const char **stop) {
    const char *p = s;
    bool negative = false;
    if (p < limit && (*p == '-' || *p == '+')) {
        negative = *p == '-';
        p++;
    }
    uint64_t mantissa = 0;
    int significant = 0; /* digits in mantissa, leading zeros excluded */
    int exp10 = 0;
    bool any_digit = false, truncated = false;
    while (p < limit && is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (significant < 19) {
            mantissa = mantissa * 10 + d;
            if (mantissa) significant++;
        } else {
            exp10++;
            truncated |= d != 0;
        }
        any_digit = true;
        p++;
    }
    if (p < limit && *p == '.') {
        p++;
        while (p < limit && is_digit(*p)) {
            unsigned d = (unsigned)(*p - '0');
            if (significant < 19) {
                mantissa = mantissa * 10 + d;
                if (mantissa) significant++;
                exp10--;
            } else {
                truncated |= d != 0;
            }
            any_digit = true;
            p++;
        }
    }
    *stop = p;
    if (!any_digit) return SCAN_SYNTAX;
    if (p < limit && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        bool exp_negative = false;
        if (q < limit && (*q == '-' || *q == '+')) {
            exp_negative = *q == '-';
            q++;
        }
        if (q >= limit || !is_digit(*q)) return SCAN_SYNTAX;
        int e = 0;
        for (; q < limit && is_digit(*q); q++)
            if (e < 100000) e = e * 10 + (*q - '0');
        exp10 += exp_negative ? -e : e;
        p = q;
        *stop = p;
    }
    if (!truncated) {
        if (mantissa == 0) {
            *out = negative ? -0.0 : 0.0;
            return SCAN_OK;
        }
        if (mantissa <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
            double v = (double)mantissa;
            v = exp10 < 0 ? v / exact_pow10[-exp10] : v * exact_pow10[exp10];
            *out = negative ? -v : v;
            return SCAN_OK;
        }
    }
    return slow_double(r, s, p, out);
}

/* [+-]digits, overflow-checked into int64. */
static inline scan_status scan_int64(const char *s, const char *limit, int64_t *out,
                                     const char **stop) {
    const char *p = s;
    bool negative = false;
    if (p < limit && (*p == '-' || *p == '+')) {
        negative = *p == '-';
        p++;
    }
    if (p >= limit || !is_digit(*p)) {
        *stop = p;
        return SCAN_SYNTAX;
    }
    const uint64_t limit_div10 = UINT64_C(922337203685477580); /* 2^63 / 10 */
    uint64_t v = 0;
    bool overflow = false;
    for (; p < limit && is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        /* v * 10 + d must stay <= 2^63 (the magnitude of INT64_MIN) */
        if (DL_UNLIKELY(v >= limit_div10) && (v > limit_div10 || d > 8)) overflow = true;
        if (!overflow) v = v * 10 + d;
    }
    *stop = p;
    if (overflow || (!negative && v > (uint64_t)INT64_MAX)) return SCAN_RANGE;
    *out = negative ? (v == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return SCAN_OK;
}

static inline bool word_at(const char *p, const char *limit, const char *word, size_t len) {
    if ((size_t)(limit - p) < len) return false;
    for (size_t i = 0; i < len; i++)
        if ((p[i] | 0x20) != word[i]) return false;
    return true;
}

/* true/false in any case (Binance writes True/False), or 1/0. */
static inline scan_status scan_bool(const char *s, const char *limit, uint8_t *out,
                                    const char **stop) {
    *stop = s;
    if (word_at(s, limit, "true", 4)) {
        *out = 1;
        *stop = s + 4;
    } else if (word_at(s, limit, "false", 5)) {
        *out = 0;
        *stop = s + 5;
    } else if (s < limit && (*s == '0' || *s == '1')) {
        *out = (uint8_t)(*s - '0');
        *stop = s + 1;
    } else {
        return SCAN_SYNTAX;
    }
    return SCAN_OK;
}

/* YYYY-MM-DD[(T| )hh:mm[:ss[.fraction]][Z|+hh[[:]mm]|-hh[[:]mm]]]; a date
** alone is its midnight and a time without an offset is UTC (an offset is
** converted to UTC).  Fractions beyond microseconds are truncated; ',' is
** not a decimal mark here because it is usually the delimiter. */
static scan_status scan_iso_time(const char *s, const char *limit, int64_t *out,
                                 const char **stop) {
    int64_t seconds;
    int32_t nanos;
    size_t used = 0;
    dl_iso_status st = dl_iso8601_parse(s, (size_t)(limit - s), DL_ISO_PREFIX | DL_ISO_DOT_FRACTION,
                                        &seconds, &nanos, &used);
    *stop = s + used;
    if (st != DL_ISO_OK) return dl_iso_status_is_range(st) ? SCAN_RANGE : SCAN_SYNTAX;
    *out = seconds * CSV_US_PER_SECOND + nanos / 1000;
    return SCAN_OK;
}

/* Converts an epoch integer in the given unit to microseconds. */
static inline scan_status epoch_to_us(int64_t v, time_format format, int64_t *out) {
    switch (format) {
    case TIME_S:
        if (v > INT64_MAX / CSV_US_PER_SECOND || v < INT64_MIN / CSV_US_PER_SECOND)
            return SCAN_RANGE;
        *out = v * CSV_US_PER_SECOND;
        return SCAN_OK;
    case TIME_MS:
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000) return SCAN_RANGE;
        *out = v * 1000;
        return SCAN_OK;
    case TIME_US:
        *out = v;
        return SCAN_OK;
    case TIME_NS:
        *out = v / 1000 - (v % 1000 < 0); /* floor, also before 1970 */
        return SCAN_OK;
    case TIME_AUTO:
    case TIME_ISO:
        break;
    }
    return SCAN_SYNTAX;
}

/* Epoch ticks per second of each unit (indexed by time_format). */
static const int64_t unit_per_second[] = {
    [TIME_S] = 1, [TIME_MS] = 1000, [TIME_US] = 1000000, [TIME_NS] = 1000000000};

static inline bool in_unit_band(int64_t v, time_format unit) {
    int64_t per = unit_per_second[unit];
    return v >= CSV_AUTO_FROM_S * per && v < CSV_AUTO_UNTIL_S * per;
}

/* The unit whose band holds v; *matches counts the bands that do (0 or 1
** with today's span, but the check does not rely on that). */
static time_format unit_of_magnitude(int64_t v, int *matches) {
    time_format found = TIME_AUTO;
    *matches = 0;
    for (time_format u = TIME_S; u <= TIME_NS; u++) {
        if (in_unit_band(v, u)) {
            if (*matches == 0) found = u;
            (*matches)++;
        }
    }
    return found;
}

/* "2024-..." : text that can only be an ISO-8601 date. */
static inline bool looks_like_iso(const char *s, const char *limit) {
    return limit - s >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
           s[4] == '-';
}

/* The first value of an "auto" time column fixes its format for the rest
** of the file: ISO-8601 text, or the epoch unit whose band holds it. */
static scan_status detect_time(field_plan *f, int64_t line, const char *s, const char *limit,
                               int64_t *out, const char **stop) {
    if (looks_like_iso(s, limit)) {
        scan_status st = scan_iso_time(s, limit, out, stop);
        if (st == SCAN_OK) {
            f->time_format = TIME_ISO;
            f->unit_line = line;
            f->unit_value = 0;
        }
        return st;
    }
    int64_t v;
    scan_status st = scan_int64(s, limit, &v, stop);
    if (st != SCAN_OK) return st;
    int matches;
    time_format unit = unit_of_magnitude(v, &matches);
    if (matches != 1) return matches ? SCAN_AMBIGUOUS : SCAN_NO_UNIT;
    f->time_format = unit;
    f->unit_line = line;
    f->unit_value = v;
    return epoch_to_us(v, unit, out);
}

static inline scan_status scan_time(field_plan *f, int64_t line, const char *s, const char *limit,
                                    int64_t *out, const char **stop) {
    if (f->time_format == TIME_ISO) return scan_iso_time(s, limit, out, stop);
    if (DL_UNLIKELY(f->time_format == TIME_AUTO)) return detect_time(f, line, s, limit, out, stop);
    int64_t v;
    scan_status st = scan_int64(s, limit, &v, stop);
    if (st != SCAN_OK) return st;
    if (f->auto_unit && DL_UNLIKELY(!in_unit_band(v, f->time_format))) {
        int matches;
        unit_of_magnitude(v, &matches);
        return matches ? SCAN_WRONG_UNIT : SCAN_NO_UNIT;
    }
    return epoch_to_us(v, f->time_format, out);
}

/* An unquoted text field: up to the delimiter; NUL and (when quoting is on)
** stray quotes are malformed. */
static inline scan_status scan_text(const char *s, const char *limit, char delim, bool quotes,
                                    const char **stop) {
    const char *p = s;
    while (p < limit && *p != delim && *p != 0 && !(quotes && *p == '"')) p++;
    *stop = p;
    if (p < limit && *p == 0) return SCAN_NUL;
    if (p < limit && *p == '"') return SCAN_QUOTE;
    return SCAN_OK;
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

/* Copies field text for a message: printable bytes as is, others as \xNN,
** cut after CSV_SHOW_FIELD bytes. */
static void show_field(const char *s, const char *e, char *out, size_t cap) {
    size_t n = 0;
    const char *p = s;
    for (; p < e && p - s < CSV_SHOW_FIELD && n + 5 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x7f) {
            out[n++] = (char)c;
        } else {
            snprintf(out + n, cap - n, "\\x%02x", c);
            n += 4;
        }
    }
    if (p < e && n + 4 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
}

static int row_error(const dl_csv_reader *r, int64_t line, dl_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int row_error(const dl_csv_reader *r, int64_t line, dl_error *err, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    dl_error_set(err, DL_ECORRUPT, "%s:%lld: %s", r->name, (long long)line, what);
    return CSV_ROW_BAD;
}

static const char *unit_name(time_format unit) {
    switch (unit) {
    case TIME_S:
        return "seconds";
    case TIME_MS:
        return "milliseconds";
    case TIME_US:
        return "microseconds";
    case TIME_NS:
        return "nanoseconds";
    case TIME_ISO:
        return "ISO-8601 text";
    case TIME_AUTO:
        break;
    }
    return "an epoch unit";
}

static const char *expected_text(const field_plan *f) {
    switch (f->action) {
    case ACT_DOUBLE:
        return "expected a number";
    case ACT_INT64:
        return "expected an integer";
    case ACT_BOOL:
        return "expected true or false";
    case ACT_TIME:
        switch (f->time_format) {
        case TIME_AUTO:
            return "expected an epoch time (s, ms, us or ns) or an ISO-8601 time";
        case TIME_S:
            return "expected an epoch time in s";
        case TIME_MS:
            return "expected an epoch time in ms";
        case TIME_US:
            return "expected an epoch time in us";
        case TIME_NS:
            return "expected an epoch time in ns";
        case TIME_ISO:
            return "expected an ISO-8601 time like 2024-01-05T10:00:00Z";
        }
        break;
    case ACT_STRING:
    case ACT_SKIP:
        break;
    }
    return "expected a value";
}

static const char *range_text(const field_plan *f) {
    switch (f->action) {
    case ACT_DOUBLE:
        return "number out of range for a double";
    case ACT_INT64:
        return "integer out of range for int64";
    case ACT_TIME:
        if (f->time_format == TIME_ISO || f->time_format == TIME_AUTO)
            return "invalid date or time of day";
        return "time out of range for a microsecond timestamp";
    default:
        return "value out of range";
    }
}

/* Messages of the auto-unit rule: which unit the value would be, and what
** the file established. */
static int unit_error(const dl_csv_reader *r, int64_t line, int index, scan_status st,
                      const char *shown, dl_error *err) {
    const field_plan *f = &r->plan[index];
    if (st == SCAN_WRONG_UNIT) {
        int64_t v = 0;
        const char *stop;
        int matches = 0;
        time_format unit = TIME_AUTO;
        if (scan_int64(shown, shown + strlen(shown), &v, &stop) == SCAN_OK)
            unit = unit_of_magnitude(v, &matches);
        return row_error(r, line, err,
                         "column %d (%s): time '%s' is in %s but the file's times are in %s "
                         "(line %lld: %lld); a file must use one unit",
                         index + 1, f->name, shown, unit_name(unit), unit_name(f->time_format),
                         (long long)f->unit_line, (long long)f->unit_value);
    }
    return row_error(r, line, err,
                     "column %d (%s): time '%s' %s seconds, milliseconds, microseconds or "
                     "nanoseconds since 1970 between 1990-01-01 and 2200-01-01 (the unit is told "
                     "from the magnitude); state the unit explicitly for other dates",
                     index + 1, f->name, shown,
                     st == SCAN_AMBIGUOUS ? "fits more than one unit of" : "is not in");
}

static int field_error(const dl_csv_reader *r, int64_t line, int index, scan_status st,
                       const char *s, const char *e, dl_error *err) {
    const field_plan *f = &r->plan[index];
    char shown[CSV_SHOW_FIELD * 4 + 8];
    show_field(s, e, shown, sizeof shown);
    if (st == SCAN_NO_UNIT || st == SCAN_AMBIGUOUS || st == SCAN_WRONG_UNIT)
        return unit_error(r, line, index, st, shown, err);
    const char *what = st == SCAN_RANGE   ? range_text(f)
                       : st == SCAN_NUL   ? "NUL byte in field"
                       : st == SCAN_QUOTE ? "quote character inside an unquoted field"
                                          : expected_text(f);
    if (st == SCAN_SYNTAX && f->action == ACT_TIME && f->unit_line > 0)
        return row_error(
            r, line, err, "column %d (%s): %s (the file's times are %s from line %lld), got '%s'",
            index + 1, f->name, what, unit_name(f->time_format), (long long)f->unit_line, shown);
    return row_error(r, line, err, "column %d (%s): %s, got '%s'", index + 1, f->name, what, shown);
}

/* ------------------------------------------------------------------ */
/* Input blocks and records                                             */
/* ------------------------------------------------------------------ */

/* Sizes the block buffer (when the source needs one) to buf_cap bytes and
** the work buffers to the longest record that buffer or the input can hold. */
static int size_buffers(dl_csv_reader *r, size_t buf_cap, dl_error *err) {
    if (r->source != SRC_MEMORY && buf_cap > r->buf_cap) {
        char *b = realloc(r->owned_buf, buf_cap);
        if (!b) return dl_error_set(err, DL_ENOMEM, "%s: out of memory", r->name);
        r->owned_buf = b;
        r->buf = b;
        r->buf_cap = buf_cap;
    }
    size_t work = DL_MIN(buf_cap, CSV_MAX_RECORD);
    if (work > r->work_cap || !r->scratch) {
        char *s = realloc(r->scratch, work + 1);
        if (s) r->scratch = s;
        char *n = s ? realloc(r->numbuf, work + 1) : NULL;
        if (!n) return dl_error_set(err, DL_ENOMEM, "%s: out of memory", r->name);
        r->numbuf = n;
        r->work_cap = work;
    }
    return DL_OK;
}

/* Moves the unparsed tail to the front and reads until the buffer is full
** or the input ends. */
static int fill_buffer(dl_csv_reader *r, dl_error *err) {
    size_t keep = r->end - r->pos;
    if (keep == r->buf_cap && r->buf_cap < CSV_BUFFER_CAP) {
        /* the input is longer than its size said (a growing file) */
        int rc = size_buffers(r, CSV_BUFFER_CAP, err);
        if (rc != DL_OK) return rc;
    }
    memmove(r->owned_buf, r->owned_buf + r->pos, keep);
    r->pos = 0;
    r->end = keep;
    while (r->end < r->buf_cap && !r->eof) {
        size_t got = 0;
        if (r->source == SRC_ZIP) {
            int rc = dl_zip_read(r->zip, (uint8_t *)r->owned_buf + r->end, r->buf_cap - r->end,
                                 &got, err);
            if (rc != DL_OK) return rc;
        } else {
            ssize_t n = read(r->fd, r->owned_buf + r->end, r->buf_cap - r->end);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0)
                return dl_error_set(err, DL_EIO, "%s: read failed at byte %llu: %s", r->name,
                                    (unsigned long long)r->bytes_fed, strerror(errno));
            got = (size_t)n;
        }
        if (got == 0) r->eof = true;
        r->end += got;
        r->bytes_fed += got;
    }
    return DL_OK;
}

/* The '\n' ending the record that starts at p, or NULL when [p, e) holds no
** complete record.  With quoting, newlines inside quoted fields belong to
** the record and are counted in *inner_newlines. */
static const char *find_record_end(const char *p, const char *e, bool quotes,
                                   int64_t *inner_newlines) {
    *inner_newlines = 0;
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    if (!quotes || !memchr(p, '"', (size_t)((nl ? nl : e) - p))) return nl;
    bool in_quotes = false;
    int64_t newlines = 0;
    for (const char *s = p; s < e; s++) {
        if (*s == '"') {
            in_quotes = !in_quotes; /* "" inside quotes toggles twice */
        } else if (*s == '\n') {
            if (!in_quotes) {
                *inner_newlines = newlines;
                return s;
            }
            newlines++;
        }
    }
    return NULL;
}

/* Next record: 1 = got one, 0 = end of input, CSV_ROW_BAD (2) = an over-long
** line (consumed), negative = fatal error. */
static int next_record(dl_csv_reader *r, csv_record *rec, dl_error *err) {
    for (;;) {
        const char *p = r->buf + r->pos, *e = r->buf + r->end;
        if (r->discarding) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            if (nl) {
                r->pos = (size_t)(nl + 1 - r->buf);
                r->line++;
                r->discarding = false;
                continue;
            }
            r->pos = r->end;
            if (r->eof) return 0;
            int rc = fill_buffer(r, err);
            if (rc != DL_OK) return rc;
            continue;
        }
        int64_t inner = 0;
        const char *rec_end = find_record_end(p, e, r->quotes, &inner);
        if (rec_end) {
            r->pos = (size_t)(rec_end + 1 - r->buf);
        } else if (r->eof) {
            if (p == e) return 0;
            rec_end = e; /* last line without a newline */
            r->pos = r->end;
        } else if ((size_t)(e - p) > CSV_MAX_RECORD) {
            r->discarding = true;
            return row_error(r, r->line, err, "line longer than %zu bytes%s", CSV_MAX_RECORD,
                             r->quotes ? " (unterminated quoted field?)" : "");
        } else {
            int rc = fill_buffer(r, err);
            if (rc != DL_OK) return rc;
            continue;
        }
        rec->line = r->line;
        r->line += 1 + inner;
        if ((size_t)(rec_end - p) > CSV_MAX_RECORD)
            return row_error(r, rec->line, err, "line longer than %zu bytes", CSV_MAX_RECORD);
        if (rec_end > p && rec_end[-1] == '\r') rec_end--;
        rec->start = p;
        rec->end = rec_end;
        return 1;
    }
}

typedef enum quote_status { QUOTE_OK, QUOTE_UNTERMINATED, QUOTE_TRAILING } quote_status;

/* A quoted field starting at p (on the opening quote).  Returns its value
** in [*vs, *ve) -- in the record when it has no "" escapes, else unescaped
** into r->scratch -- and the position after the closing quote in *next. */
static quote_status unquote_field(dl_csv_reader *r, const char *p, const char *e, const char **vs,
                                  const char **ve, const char **next) {
    const char *s = p + 1;
    const char *q = memchr(s, '"', (size_t)(e - s));
    if (!q) return QUOTE_UNTERMINATED;
    if (q + 1 < e && q[1] == '"') {
        char *out = r->scratch;
        for (;;) {
            memcpy(out, s, (size_t)(q - s));
            out += q - s;
            if (!(q + 1 < e && q[1] == '"')) break;
            *out++ = '"';
            s = q + 2;
            q = memchr(s, '"', (size_t)(e - s));
            if (!q) return QUOTE_UNTERMINATED;
        }
        *vs = r->scratch;
        *ve = out;
    } else {
        *vs = s;
        *ve = q;
    }
    *next = q + 1;
    if (*next < e && **next != r->delim) return QUOTE_TRAILING;
    return QUOTE_OK;
}

static int quote_error(const dl_csv_reader *r, int64_t line, int index, quote_status qs,
                       dl_error *err) {
    return row_error(r, line, err, "column %d (%s): %s", index + 1, r->plan[index].name,
                     qs == QUOTE_UNTERMINATED ? "unterminated quoted field"
                                              : "unexpected text after a closing quote");
}

/* Splits the next field for header parsing and sampling: value in
** [*vs, *ve), *p advanced to the delimiter or record end. */
static int split_field(dl_csv_reader *r, const char **p, const char *e, const char **vs,
                       const char **ve) {
    if (r->quotes && *p < e && **p == '"') {
        const char *next;
        quote_status qs = unquote_field(r, *p, e, vs, ve, &next);
        *p = next;
        return qs;
    }
    const char *d = memchr(*p, r->delim, (size_t)(e - *p));
    *vs = *p;
    *ve = d ? d : e;
    *p = *ve;
    return QUOTE_OK;
}

/* ------------------------------------------------------------------ */
/* Writing values into the batch                                        */
/* ------------------------------------------------------------------ */

static int set_null(dl_column *c, int64_t row, dl_error *err) {
    if (!c->validity) {
        size_t n = (size_t)(c->cap_values + 7) / 8 + 1; /* dl_column.c's bitmap size */
        c->validity = malloc(n);
        if (!c->validity) return dl_error_set(err, DL_ENOMEM, "out of memory (null bitmap)");
        memset(c->validity, 0xff, n);
    }
    dl_bitmap_clear(c->validity, row);
    if (c->type == DL_TYPE_STRING) {
        c->offsets[row + 1] = c->offsets[row];
    } else {
        size_t w = dl_type_width(c->type);
        memset((uint8_t *)c->values + (size_t)row * w, 0, w);
    }
    return DL_OK;
}

static int store_string(dl_column *c, int64_t row, const char *s, size_t len, dl_error *err) {
    int64_t at = c->offsets[row];
    if (at + (int64_t)len > c->cap_data) {
        c->length = row; /* dl_column_reserve grows data from offsets[length] */
        int rc = dl_column_reserve(c, 0, (int64_t)len, err);
        if (rc != DL_OK) return rc;
    }
    if (len > 0) memcpy(c->data + at, s, len);
    c->offsets[row + 1] = at + (int64_t)len;
    return DL_OK;
}

/* A row outside the period the archive's name promises: fatal even with
** skip_bad, because it means the file is not what it says (misnamed, or a
** mixed-up download), not that one row is damaged. */
static int outside_range(const dl_csv_reader *r, int64_t line, int64_t ts, dl_error *err) {
    char at[40], from[40], until[40];
    dl_format_timestamp(ts, DL_UNIT_US, at, sizeof at);
    dl_format_timestamp(r->ts_min, DL_UNIT_US, from, sizeof from);
    dl_format_timestamp(r->ts_max, DL_UNIT_US, until, sizeof until);
    return dl_error_set(err, DL_ECORRUPT,
                        "%s:%lld: ts %s is outside %s [%s, %s): the file holds rows of another "
                        "period (misnamed or mixed-up download)",
                        r->name, (long long)line, at,
                        r->range_label ? r->range_label : "the expected range", from, until);
}

/* Counts the fields of a record that has too many (for the message). */
static int count_fields(const dl_csv_reader *r, const char *p, const char *e) {
    int n = 1;
    bool in_quotes = false;
    for (; p < e && n < INT32_MAX; p++) {
        if (r->quotes && *p == '"')
            in_quotes = !in_quotes;
        else if (*p == r->delim && !in_quotes)
            n++;
    }
    return n;
}

/* Parses one record into row `row` of cols: DL_OK, CSV_ROW_BAD or a fatal
** negative status. */
static int parse_record(dl_csv_reader *r, const csv_record *rec, dl_column *cols, int64_t row,
                        dl_error *err) {
    const char *p = rec->start;
    const char *const e = rec->end;
    const char delim = r->delim;
    const int expected = r->num_fields - (r->last_field == LAST_ABSENT);
    const int short_at = r->optional_last && r->last_field != LAST_PRESENT ? r->num_fields - 1 : -1;
    bool short_row = false;
    for (int i = 0; i < r->num_fields; i++) {
        const field_plan *f = &r->plan[i];
        if (i > 0) {
            if (p == e && i == short_at) {
                short_row = true; /* only the optional last column is missing */
                break;
            }
            if (p == e)
                return row_error(r, rec->line, err, "expected %d fields, got %d", expected, i);
            p++; /* the delimiter, checked when the previous field ended */
        }
        const char *vs = p, *limit = e;
        bool quoted = false;
        if (r->quotes && p < e && *p == '"') {
            const char *next;
            quote_status qs = unquote_field(r, p, e, &vs, &limit, &next);
            if (qs != QUOTE_OK) return quote_error(r, rec->line, i, qs, err);
            quoted = true;
            p = next;
        }
        dl_column *c = f->out >= 0 ? &cols[f->out] : NULL;
        assert(c || f->action == ACT_SKIP); /* the plans give every kept field an output */
        bool empty = quoted ? vs == limit : (vs == e || *vs == delim);
        if (empty && f->action != ACT_SKIP) {
            if (!f->nullable) return field_error(r, rec->line, i, SCAN_SYNTAX, vs, vs, err);
            int rc = set_null(c, row, err);
            if (rc != DL_OK) return rc;
            continue;
        }
        const char *stop = vs;
        scan_status st = SCAN_OK;
        switch (f->action) {
        case ACT_DOUBLE: {
            double v = 0;
            st = scan_double(r, vs, limit, &v, &stop);
            ((double *)c->values)[row] = v;
            break;
        }
        case ACT_INT64: {
            int64_t v = 0;
            st = scan_int64(vs, limit, &v, &stop);
            ((int64_t *)c->values)[row] = v;
            break;
        }
        case ACT_TIME: {
            int64_t v = 0;
            st = scan_time(&r->plan[i], rec->line, vs, limit, &v, &stop); /* may fix the unit */
            ((int64_t *)c->values)[row] = v;
            if (f->out == 0 && r->check_range && st == SCAN_OK &&
                DL_UNLIKELY(v < r->ts_min || v >= r->ts_max))
                return outside_range(r, rec->line, v, err);
            break;
        }
        case ACT_BOOL: {
            uint8_t v = 0;
            st = scan_bool(vs, limit, &v, &stop);
            ((uint8_t *)c->values)[row] = v;
            break;
        }
        case ACT_STRING:
        case ACT_SKIP:
            if (quoted) {
                stop = limit;
                if (memchr(vs, 0, (size_t)(limit - vs))) st = SCAN_NUL;
            } else {
                st = scan_text(vs, limit, delim, r->quotes, &stop);
            }
            if (st == SCAN_OK && c) {
                int rc = store_string(c, row, vs, (size_t)(stop - vs), err);
                if (rc != DL_OK) return rc;
            }
            break;
        }
        /* The value must fill its field exactly. */
        if (st == SCAN_OK && !(quoted ? stop == limit : (stop == e || *stop == delim)))
            st = SCAN_SYNTAX;
        if (DL_UNLIKELY(st != SCAN_OK)) {
            const char *fe = limit;
            if (!quoted) {
                const char *d = memchr(vs, delim, (size_t)(e - vs));
                fe = d ? d : e;
            }
            return field_error(r, rec->line, i, st, vs, fe, err);
        }
        if (c && c->validity) dl_bitmap_set(c->validity, row);
        if (!quoted) p = stop;
    }
    if (p != e)
        return row_error(r, rec->line, err, "expected %d fields, got %d", expected,
                         r->num_fields + count_fields(r, p + 1, e));
    if (r->optional_last && r->last_field == LAST_UNKNOWN)
        r->last_field = short_row ? LAST_ABSENT : LAST_PRESENT;
    else if (!short_row && expected < r->num_fields)
        return row_error(r, rec->line, err, "expected %d fields, got %d", expected, r->num_fields);
    return DL_OK;
}

/* ------------------------------------------------------------------ */
/* Plans and schemas                                                    */
/* ------------------------------------------------------------------ */

typedef struct binance_column {
    const char *source;
    const char *lake_name; /* NULL when dropped */
    field_action action;
    int out;
} binance_column;

static const binance_column kline_columns[] = {
    {"open_time", "ts", ACT_TIME, 0},
    {"open", "open", ACT_DOUBLE, 1},
    {"high", "high", ACT_DOUBLE, 2},
    {"low", "low", ACT_DOUBLE, 3},
    {"close", "close", ACT_DOUBLE, 4},
    {"volume", "volume", ACT_DOUBLE, 5},
    {"close_time", NULL, ACT_SKIP, -1},
    {"quote_asset_volume", "quote_volume", ACT_DOUBLE, 6},
    {"number_of_trades", "trade_count", ACT_INT64, 7},
    {"taker_buy_base_asset_volume", "taker_buy_volume", ACT_DOUBLE, 8},
    {"taker_buy_quote_asset_volume", "taker_buy_quote_volume", ACT_DOUBLE, 9},
    {"ignore", NULL, ACT_SKIP, -1},
};

static const binance_column trade_columns[] = {
    {"id", "trade_id", ACT_INT64, 1},      {"price", "price", ACT_DOUBLE, 2},
    {"qty", "qty", ACT_DOUBLE, 3},         {"quote_qty", "quote_qty", ACT_DOUBLE, 4},
    {"time", "ts", ACT_TIME, 0},           {"is_buyer_maker", "is_buyer_maker", ACT_BOOL, 5},
    {"is_best_match", NULL, ACT_SKIP, -1},
};

static const binance_column aggtrade_columns[] = {
    {"agg_trade_id", "agg_trade_id", ACT_INT64, 1},
    {"price", "price", ACT_DOUBLE, 2},
    {"qty", "qty", ACT_DOUBLE, 3},
    {"first_trade_id", "first_trade_id", ACT_INT64, 4},
    {"last_trade_id", "last_trade_id", ACT_INT64, 5},
    {"transact_time", "ts", ACT_TIME, 0},
    {"is_buyer_maker", "is_buyer_maker", ACT_BOOL, 6},
    {"is_best_match", NULL, ACT_SKIP, -1},
};

static dl_type action_type(field_action action) {
    switch (action) {
    case ACT_TIME:
        return DL_TYPE_TIMESTAMP;
    case ACT_DOUBLE:
        return DL_TYPE_DOUBLE;
    case ACT_INT64:
        return DL_TYPE_INT64;
    case ACT_BOOL:
        return DL_TYPE_BOOL;
    case ACT_STRING:
    case ACT_SKIP:
        break;
    }
    return DL_TYPE_STRING;
}

static int add_output(dl_csv_reader *r, const char *name, field_action action, bool nullable,
                      dl_error *err) {
    if (dl_schema_find(&r->schema, name) >= 0)
        return dl_error_set(err, DL_EINVAL, "%s: output column '%s' appears twice", r->name, name);
    if (action == ACT_TIME)
        return dl_schema_add_timestamp(&r->schema, name, DL_UNIT_US, nullable, err);
    return dl_schema_add(&r->schema, name, action_type(action), nullable, err);
}

/* The configured time format; "auto" is resolved per column by its first
** value (detect_time). */
static void set_time_format(const dl_csv_reader *r, field_plan *f) {
    f->time_format = r->ts_format;
    f->auto_unit = r->ts_format == TIME_AUTO;
}

static int alloc_plan(dl_csv_reader *r, int num_fields, dl_error *err) {
    r->plan = calloc((size_t)num_fields, sizeof *r->plan);
    if (!r->plan) return dl_error_set(err, DL_ENOMEM, "%s: out of memory", r->name);
    r->num_fields = num_fields;
    for (int i = 0; i < num_fields; i++) r->plan[i].out = -1;
    return DL_OK;
}

static int build_binance_plan(dl_csv_reader *r, dl_error *err) {
    const binance_column *cols;
    int n;
    switch (r->kind) {
    case DL_CSV_BINANCE_KLINES:
        cols = kline_columns;
        n = (int)(sizeof kline_columns / sizeof kline_columns[0]);
        break;
    case DL_CSV_BINANCE_TRADES:
        cols = trade_columns;
        n = (int)(sizeof trade_columns / sizeof trade_columns[0]);
        break;
    default:
        cols = aggtrade_columns;
        n = (int)(sizeof aggtrade_columns / sizeof aggtrade_columns[0]);
        break;
    }
    int rc = alloc_plan(r, n, err);
    if (rc != DL_OK) return rc;
    int outputs = 0;
    for (int i = 0; i < n; i++) {
        r->plan[i] =
            (field_plan){.action = cols[i].action, .out = cols[i].out, .name = cols[i].source};
        set_time_format(r, &r->plan[i]);
        if (cols[i].out >= 0) outputs++;
    }
    for (int out = 0; out < outputs; out++)
        for (int i = 0; i < n; i++)
            if (cols[i].out == out) {
                rc = add_output(r, cols[i].lake_name, cols[i].action, false, err);
                if (rc != DL_OK) return rc;
            }
    r->check_header = true;
    r->optional_last = r->kind != DL_CSV_BINANCE_KLINES;
    r->last_field = r->optional_last ? LAST_UNKNOWN : LAST_PRESENT;
    return DL_OK;
}

/* Index of a header name, -1 when absent, -2 when it appears twice. */
static int find_header(const dl_csv_reader *r, const char *name) {
    int found = -1;
    for (int i = 0; i < r->num_header_names; i++) {
        if (strcmp(r->header_names[i], name) == 0) {
            if (found >= 0) return -2;
            found = i;
        }
    }
    return found;
}

/* A header field that is a value (a number or an ISO-8601 time): -1 when
** every field could be a name. */
static int header_data_field(const dl_csv_reader *r) {
    for (int i = 0; i < r->num_header_names; i++) {
        const char *h = r->header_names[i], *e = h + strlen(h), *stop;
        double v;
        if (h == e) continue;
        if (looks_like_iso(h, e) || (scan_double(r, h, e, &v, &stop) == SCAN_OK && stop == e))
            return i;
    }
    return -1;
}

static int missing_column(const dl_csv_reader *r, const char *what, const char *name, int found,
                          dl_error *err) {
    if (found == -2)
        return dl_error_set(err, DL_EINVAL, "%s: %s '%s' appears more than once in the header",
                            r->name, what, name);
    int data = header_data_field(r);
    if (data >= 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s:1: the first row is data, not a header (field %d is '%.40s'): a "
                            "generic CSV file needs a header row naming its columns",
                            r->name, data + 1, r->header_names[data]);
    char list[400];
    size_t n = 0;
    list[0] = 0;
    for (int i = 0; i < r->num_header_names && n + 4 < sizeof list; i++) {
        int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", r->header_names[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
    if (n >= sizeof list) memcpy(list + sizeof list - 4, "...", 4);
    return dl_error_set(err, DL_ENOTFOUND, "%s: %s '%s' is not in the header (columns: %s)",
                        r->name, what, name, list);
}

static int read_header(dl_csv_reader *r, dl_error *err) {
    int rc = DL_OK;
    csv_record rec;
    do {
        rc = next_record(r, &rec, err);
        if (rc == 0)
            return dl_error_set(err, DL_ECORRUPT, "%s: empty file: expected a header row", r->name);
        if (rc == CSV_ROW_BAD) return DL_ECORRUPT;
        if (rc < 0) return rc;
    } while (rec.start == rec.end);
    const char *p = rec.start;
    r->header_names = calloc(CSV_MAX_COLUMNS, sizeof(char *));
    if (!r->header_names) return dl_error_set(err, DL_ENOMEM, "%s: out of memory", r->name);
    for (;;) {
        if (r->num_header_names == CSV_MAX_COLUMNS)
            return dl_error_set(err, DL_EUNSUPPORTED, "%s:%lld: more than %d columns in the header",
                                r->name, (long long)rec.line, CSV_MAX_COLUMNS);
        const char *vs, *ve;
        if (split_field(r, &p, rec.end, &vs, &ve) != QUOTE_OK)
            return dl_error_set(err, DL_ECORRUPT, "%s:%lld: malformed quoted name in the header",
                                r->name, (long long)rec.line);
        if (memchr(vs, 0, (size_t)(ve - vs)))
            return dl_error_set(err, DL_ECORRUPT, "%s:%lld: NUL byte in the header", r->name,
                                (long long)rec.line);
        char *name = strndup(vs, (size_t)(ve - vs));
        if (!name) return dl_error_set(err, DL_ENOMEM, "%s: out of memory", r->name);
        r->header_names[r->num_header_names++] = name;
        if (p == rec.end) break;
        p++; /* delimiter */
    }
    return DL_OK;
}

/* For columns == NULL: a column is read as double when every non-empty
** value in the first records of the first block is a number (and there is
** at least one), else as a string.  A later non-number in a double column
** is a malformed row. */
static void infer_numeric(dl_csv_reader *r, bool *numeric) {
    int n = r->num_header_names;
    bool *seen = calloc((size_t)n, sizeof(bool));
    if (!seen) return; /* all strings: still correct, just less typed */
    for (int i = 0; i < n; i++) numeric[i] = true;
    const char *p = r->buf + r->pos, *e = r->buf + r->end;
    for (int sampled = 0; sampled < CSV_SAMPLE_RECORDS && p < e; sampled++) {
        int64_t inner;
        const char *nl = find_record_end(p, e, r->quotes, &inner);
        const char *rec_end = nl ? nl : (r->eof ? e : NULL);
        if (!rec_end || (size_t)(rec_end - p) > CSV_MAX_RECORD) break;
        const char *next = nl ? nl + 1 : e;
        if (rec_end > p && rec_end[-1] == '\r') rec_end--;
        if (rec_end > p && count_fields(r, p, rec_end) == n) {
            const char *f = p;
            for (int i = 0; i < n; i++) {
                const char *vs, *ve;
                if (split_field(r, &f, rec_end, &vs, &ve) != QUOTE_OK) break;
                if (vs != ve && numeric[i]) {
                    double v;
                    const char *stop;
                    if (scan_double(r, vs, ve, &v, &stop) != SCAN_OK || stop != ve)
                        numeric[i] = false;
                    seen[i] = true;
                }
                if (f < rec_end) f++;
            }
        }
        p = next;
    }
    for (int i = 0; i < n; i++) numeric[i] = numeric[i] && seen[i];
    free(seen);
}

static field_action type_action(dl_type type) {
    switch (type) {
    case DL_TYPE_DOUBLE:
        return ACT_DOUBLE;
    case DL_TYPE_INT64:
        return ACT_INT64;
    case DL_TYPE_BOOL:
        return ACT_BOOL;
    case DL_TYPE_STRING:
        return ACT_STRING;
    case DL_TYPE_TIMESTAMP:
        return ACT_TIME;
    default:
        return ACT_SKIP;
    }
}

static int build_generic_plan(dl_csv_reader *r, const dl_csv_options *opts, dl_error *err) {
    int rc = read_header(r, err);
    if (rc != DL_OK) return rc;
    rc = alloc_plan(r, r->num_header_names, err);
    if (rc != DL_OK) return rc;
    for (int i = 0; i < r->num_fields; i++) r->plan[i].name = r->header_names[i];
    int ts = find_header(r, opts->ts_column);
    if (ts < 0) return missing_column(r, "time column", opts->ts_column, ts, err);
    r->plan[ts].action = ACT_TIME;
    set_time_format(r, &r->plan[ts]);
    r->plan[ts].out = 0;
    rc = add_output(r, "ts", ACT_TIME, false, err);
    if (rc != DL_OK) return rc;

    if (opts->columns) {
        for (int k = 0; k < opts->num_columns; k++) {
            const dl_csv_column *col = &opts->columns[k];
            if (!col->source)
                return dl_error_set(err, DL_EINVAL, "%s: column mapping %d has no source name",
                                    r->name, k);
            int i = find_header(r, col->source);
            if (i < 0) return missing_column(r, "column", col->source, i, err);
            if (i == ts)
                return dl_error_set(err, DL_EINVAL,
                                    "%s: column '%s' is the time column; it is always kept as ts",
                                    r->name, col->source);
            if (r->plan[i].out >= 0)
                return dl_error_set(err, DL_EINVAL, "%s: column '%s' is mapped twice", r->name,
                                    col->source);
            field_action action = type_action(col->type);
            if (action == ACT_SKIP)
                return dl_error_set(err, DL_EINVAL,
                                    "%s: column '%s': type %s is not supported for CSV "
                                    "(use double, int64, bool, string or timestamp)",
                                    r->name, col->source, dl_type_name(col->type));
            r->plan[i].action = action;
            set_time_format(r, &r->plan[i]);
            r->plan[i].nullable = true;
            r->plan[i].out = r->schema.num_fields;
            rc = add_output(r, col->name ? col->name : col->source, action, true, err);
            if (rc != DL_OK) return rc;
        }
        return DL_OK;
    }
    bool *numeric = calloc((size_t)r->num_fields, sizeof(bool));
    if (!numeric) return dl_error_set(err, DL_ENOMEM, "%s: out of memory", r->name);
    infer_numeric(r, numeric);
    for (int i = 0; i < r->num_fields && rc == DL_OK; i++) {
        if (i == ts) continue;
        char fallback[32];
        const char *name = r->header_names[i];
        if (!name[0]) {
            snprintf(fallback, sizeof fallback, "column_%d", i + 1);
            name = fallback;
        }
        r->plan[i].action = numeric[i] ? ACT_DOUBLE : ACT_STRING;
        r->plan[i].nullable = true;
        r->plan[i].out = r->schema.num_fields;
        rc = add_output(r, name, r->plan[i].action, true, err);
    }
    free(numeric);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                  */
/* ------------------------------------------------------------------ */

void dl_csv_options_default(dl_csv_options *opts, dl_csv_kind kind) {
    memset(opts, 0, sizeof *opts);
    opts->kind = kind;
    opts->batch_rows = CSV_DEFAULT_BATCH;
    opts->delimiter = ',';
    opts->ts_format = "auto";
}

static int parse_time_format(const char *s, time_format *out) {
    static const struct {
        const char *name;
        time_format format;
    } formats[] = {{"auto", TIME_AUTO}, {"s", TIME_S},   {"ms", TIME_MS},
                   {"us", TIME_US},     {"ns", TIME_NS}, {"iso", TIME_ISO}};
    if (!s) {
        *out = TIME_AUTO;
        return DL_OK;
    }
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(s, formats[i].name) == 0) {
            *out = formats[i].format;
            return DL_OK;
        }
    return DL_EINVAL;
}

static int reader_new(const char *name, const dl_csv_options *opts, dl_csv_reader **out,
                      dl_error *err) {
    *out = NULL;
    if (!opts) return dl_error_set(err, DL_EINVAL, "dl_csv_open: options are required");
    if ((unsigned)opts->kind > DL_CSV_GENERIC)
        return dl_error_set(err, DL_EINVAL, "dl_csv_open: unknown CSV kind %d", (int)opts->kind);
    if (opts->batch_rows < 0 || opts->batch_rows > CSV_MAX_BATCH)
        return dl_error_set(err, DL_EINVAL, "dl_csv_open: batch_rows %lld is outside 1..%lld",
                            (long long)opts->batch_rows, (long long)CSV_MAX_BATCH);
    char delim = ',';
    time_format ts_format = TIME_AUTO;
    if (parse_time_format(opts->ts_format, &ts_format) != DL_OK)
        return dl_error_set(err, DL_EINVAL,
                            "dl_csv_open: ts_format '%s' is not one of auto, s, ms, us, ns, iso",
                            opts->ts_format);
    if (opts->ts_min > opts->ts_max)
        return dl_error_set(err, DL_EINVAL, "dl_csv_open: ts_min is after ts_max");
    if (opts->kind == DL_CSV_GENERIC) {
        if (opts->delimiter) delim = opts->delimiter;
        if (!strchr(",;|\t", delim))
            return dl_error_set(err, DL_EINVAL,
                                "dl_csv_open: delimiter 0x%02x is not supported (use , ; | or tab)",
                                (unsigned char)delim);
        if (!opts->ts_column || !opts->ts_column[0])
            return dl_error_set(err, DL_EINVAL, "dl_csv_open: generic CSV needs ts_column");
        if (opts->num_columns < 0 || (opts->num_columns > 0 && !opts->columns))
            return dl_error_set(err, DL_EINVAL, "dl_csv_open: num_columns %d without columns",
                                opts->num_columns);
    }
    dl_csv_reader *r = calloc(1, sizeof *r);
    if (!r) return dl_error_set(err, DL_ENOMEM, "out of memory opening a CSV reader");
    r->fd = -1;
    r->kind = opts->kind;
    r->skip_bad = opts->skip_bad;
    r->quotes = opts->kind == DL_CSV_GENERIC;
    r->delim = delim;
    r->ts_format = ts_format;
    r->batch_rows = opts->batch_rows ? opts->batch_rows : CSV_DEFAULT_BATCH;
    r->line = 1;
    r->check_range = opts->ts_min < opts->ts_max;
    r->ts_min = opts->ts_min;
    r->ts_max = opts->ts_max;
    r->zip_max_ratio = opts->zip_max_ratio;
    dl_schema_init(&r->schema);
    r->name = strdup(name ? name : "<memory>");
    if (r->name && r->check_range && opts->ts_range_label)
        r->range_label = strdup(opts->ts_range_label);
    if (!r->name || (r->check_range && opts->ts_range_label && !r->range_label)) {
        dl_csv_close(r);
        return dl_error_set(err, DL_ENOMEM, "out of memory opening a CSV reader");
    }
    *out = r;
    return DL_OK;
}

/* After the source is set up: buffers, BOM, header, plan and schema.
** size_hint is the input size when known (UINT64_MAX otherwise). */
static int reader_start(dl_csv_reader *r, uint64_t size_hint, const dl_csv_options *opts,
                        dl_error *err) {
    size_t cap = size_hint < CSV_BUFFER_CAP ? (size_t)size_hint + 1 : CSV_BUFFER_CAP;
    int rc = size_buffers(r, cap, err);
    if (rc != DL_OK) return rc;
    if (r->source != SRC_MEMORY) {
        rc = fill_buffer(r, err);
        if (rc != DL_OK) return rc;
    }
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0) r->pos += 3;
    if (r->kind == DL_CSV_GENERIC) return build_generic_plan(r, opts, err);
    return build_binance_plan(r, err);
}

int dl_csv_open_memory(const char *data, size_t size, const char *name, const dl_csv_options *opts,
                       dl_csv_reader **out, dl_error *err) {
    dl_csv_reader *r;
    int rc = reader_new(name, opts, &r, err);
    if (rc != DL_OK) return rc;
    if (!data && size > 0) DL_FAIL(err, DL_EINVAL, "%s: NULL data", r->name);
    uint64_t hint = size;
    r->total_bytes = size;
    if (dl_zip_has_magic((const uint8_t *)data, size)) {
        r->source = SRC_ZIP;
        DL_TRY(dl_zip_open_memory((const uint8_t *)data, size, r->name, r->zip_max_ratio, &r->zip,
                                  err));
        hint = dl_zip_member_size(r->zip);
    } else {
        r->source = SRC_MEMORY;
        r->buf = data ? data : "";
        r->end = size;
        r->eof = true;
    }
    DL_TRY(reader_start(r, hint, opts, err));
    *out = r;
    return DL_OK;
cleanup:
    dl_csv_close(r);
    return rc;
}

int dl_csv_open(const char *path, const dl_csv_options *opts, dl_csv_reader **out, dl_error *err) {
    dl_csv_reader *r;
    if (!path) return dl_error_set(err, DL_EINVAL, "dl_csv_open: path is NULL");
    int rc = reader_new(path, opts, &r, err);
    if (rc != DL_OK) return rc;
    DL_TRY(dl_file_open_data(path, &r->fd, err));
    struct stat st;
    if (fstat(r->fd, &st) != 0) DL_FAIL(err, DL_EIO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        DL_FAIL(err, DL_EINVAL, "%s: not a regular file (%s)", path,
                S_ISDIR(st.st_mode) ? "a directory" : "a pipe, socket or device");
    r->total_bytes = (uint64_t)st.st_size;
    uint64_t hint = r->total_bytes;
    uint8_t magic[4];
    ssize_t got = pread(r->fd, magic, sizeof magic, 0);
    if (got == (ssize_t)sizeof magic && dl_zip_has_magic(magic, sizeof magic)) {
        r->source = SRC_ZIP;
        DL_TRY(dl_zip_open_fd(r->fd, r->total_bytes, path, r->zip_max_ratio, &r->zip, err));
        hint = dl_zip_member_size(r->zip);
    } else {
        r->source = SRC_FILE;
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    DL_TRY(reader_start(r, hint, opts, err));
    *out = r;
    return DL_OK;
cleanup:
    dl_csv_close(r);
    return rc;
}

void dl_csv_close(dl_csv_reader *r) {
    if (!r) return;
    dl_zip_close(r->zip);
    if (r->fd >= 0) close(r->fd);
    dl_schema_free(&r->schema);
    for (int i = 0; i < r->num_header_names; i++) free(r->header_names[i]);
    free(r->header_names);
    free(r->plan);
    free(r->owned_buf);
    free(r->scratch);
    free(r->numbuf);
    free(r->first_skip_reason);
    free(r->range_label);
    free(r->name);
    free(r);
}

/* ------------------------------------------------------------------ */
/* Batches                                                              */
/* ------------------------------------------------------------------ */

const dl_schema *dl_csv_schema(const dl_csv_reader *r) {
    return &r->schema;
}

static int check_batch(const dl_csv_reader *r, const dl_table *batch, dl_error *err) {
    if (batch->schema.num_fields != r->schema.num_fields || !batch->columns)
        return dl_error_set(err, DL_EINVAL,
                            "%s: the batch has %d columns; initialise it with dl_csv_schema (%d)",
                            r->name, batch->schema.num_fields, r->schema.num_fields);
    for (int i = 0; i < r->schema.num_fields; i++)
        if (batch->columns[i].type != r->schema.fields[i].type)
            return dl_error_set(err, DL_EINVAL,
                                "%s: batch column %d is %s, the CSV schema says %s; initialise "
                                "the batch with dl_csv_schema",
                                r->name, i, dl_type_name(batch->columns[i].type),
                                dl_type_name(r->schema.fields[i].type));
    return DL_OK;
}

/* A column name: an identifier ([A-Za-z_] then [A-Za-z0-9_ .-]), optionally
** in double quotes.  Numbers, negative numbers, quoted numbers and
** True/False rows mixed with numbers are never all names. */
static bool is_name_field(const char *s, const char *e) {
    if (e - s >= 2 && *s == '"' && e[-1] == '"') {
        s++;
        e--;
    }
    if (s == e || !(((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') || *s == '_')) return false;
    for (; s < e; s++) {
        char c = *s;
        bool ok = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || is_digit(c) || c == '_' || c == ' ' ||
                  c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* Binance archives may start with a header row (newer ones do).  The first
** record is taken for one only when every field is a column name, so a row
** that parses as data is never dropped as a header: it is read as data,
** and a malformed one (quoted, negative time) is reported, not skipped. */
static bool is_header_record(const dl_csv_reader *r, const csv_record *rec) {
    const char *p = rec->start;
    for (;;) {
        const char *d = memchr(p, r->delim, (size_t)(rec->end - p));
        if (!is_name_field(p, d ? d : rec->end)) return false;
        if (!d) return true;
        p = d + 1;
    }
}

int dl_csv_next_batch(dl_csv_reader *r, dl_table *batch, dl_error *err) {
    int rc = DL_OK;
    int64_t row = 0;
    dl_error e = {0};
    if (r->failed_rc != DL_OK) {
        if (err) *err = r->failed_err;
        return r->failed_rc;
    }
    DL_TRY(check_batch(r, batch, &e));
    for (int i = 0; i < batch->schema.num_fields; i++) {
        dl_column_clear(&batch->columns[i]);
        DL_TRY(dl_column_reserve(&batch->columns[i], r->batch_rows, 0, &e));
    }
    csv_record rec = {0}; /* next_record sets it when it returns 1 */
    while (row < r->batch_rows) {
        int status = next_record(r, &rec, &e);
        if (status == 0) break;
        if (status == 1) {
            if (rec.start == rec.end) continue; /* empty line */
            if (r->check_header) {
                r->check_header = false;
                if (is_header_record(r, &rec)) continue;
            }
            status = parse_record(r, &rec, batch->columns, row, &e);
        }
        if (status == DL_OK) {
            row++;
        } else if (status == CSV_ROW_BAD && r->skip_bad) {
            r->rows_skipped++;
            if (!r->first_skip_reason) r->first_skip_reason = strdup(e.message);
        } else {
            rc = status == CSV_ROW_BAD ? DL_ECORRUPT : status;
            goto cleanup;
        }
    }
cleanup:
    if (rc != DL_OK) {
        row = 0;
        if (err) *err = e;
        if (rc != DL_EINVAL) { /* a wrong batch is the caller's error, not the stream's */
            r->failed_rc = rc;
            r->failed_err = e;
        }
    }
    for (int i = 0; i < batch->schema.num_fields && batch->columns; i++) {
        dl_column *c = &batch->columns[i];
        c->length = DL_MIN(row, c->cap_values);
        c->null_count = 0;
        if (c->validity)
            for (int64_t k = 0; k < c->length; k++) c->null_count += !dl_bitmap_get(c->validity, k);
    }
    batch->num_rows = row;
    r->rows_read += row;
    return rc;
}

int64_t dl_csv_rows_read(const dl_csv_reader *r) {
    return r->rows_read;
}
int64_t dl_csv_rows_skipped(const dl_csv_reader *r) {
    return r->rows_skipped;
}
const char *dl_csv_first_skip_reason(const dl_csv_reader *r) {
    return r->first_skip_reason;
}

void dl_csv_progress(const dl_csv_reader *r, uint64_t *done, uint64_t *total) {
    switch (r->source) {
    case SRC_MEMORY:
        *done = r->pos;
        *total = r->total_bytes;
        return;
    case SRC_FILE:
        *done = r->bytes_fed - (r->end - r->pos);
        *total = r->total_bytes;
        return;
    case SRC_ZIP:
        dl_zip_progress(r->zip, done, total);
        return;
    }
}
