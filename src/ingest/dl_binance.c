/*
** dl_binance.c -- data.binance.vision file names and .CHECKSUM files: the
** dataset, CSV kind and period a published archive claims (see
** dl_binance.h), and the SHA-256 check of a download against its sibling
** checksum file.
*/
#include "ingest/dl_binance.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/dl_internal.h"
#include "util/dl_timeparse.h"

#define US_PER_DAY INT64_C(86400000000)

/* Kline intervals as Binance names them, with their length; klines longer
** than a day may open before the archive's period (see period_range). */
static const struct {
    const char *name;
    int64_t us;
} kline_intervals[] = {
    {"1s", INT64_C(1000000)},     {"1m", INT64_C(60000000)},    {"3m", INT64_C(180000000)},
    {"5m", INT64_C(300000000)},   {"15m", INT64_C(900000000)},  {"30m", INT64_C(1800000000)},
    {"1h", INT64_C(3600000000)},  {"2h", INT64_C(7200000000)},  {"4h", INT64_C(14400000000)},
    {"6h", INT64_C(21600000000)}, {"8h", INT64_C(28800000000)}, {"12h", INT64_C(43200000000)},
    {"1d", US_PER_DAY},           {"3d", 3 * US_PER_DAY},       {"1w", 7 * US_PER_DAY},
    {"1mo", 31 * US_PER_DAY},
};

static bool digits_at(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM" or "YYYY-MM-DD" -> [start, end) in us and a label. */
static bool parse_period(const char *s, dl_binance_file *out) {
    size_t n = strlen(s);
    int year, month, day = 1;
    if ((n != 7 && n != 10) || !digits_at(s, 4, &year) || s[4] != '-' ||
        !digits_at(s + 5, 2, &month) || month < 1 || month > 12)
        return false;
    if (n == 10 && (s[7] != '-' || !digits_at(s + 8, 2, &day) || day < 1 ||
                    day > dl_days_in_month(year, month)))
        return false;
    int64_t first = dl_days_from_civil(year, month, day);
    int64_t days = n == 10 ? 1 : dl_days_in_month(year, month);
    out->ts_min = first * US_PER_DAY;
    out->ts_max = (first + days) * US_PER_DAY;
    memcpy(out->date, s, n + 1);
    snprintf(out->range_label, sizeof out->range_label, "the archive's %s %s",
             n == 10 ? "day" : "month", s);
    return true;
}

static int name_error(const char *path, dl_error *err) {
    return dl_error_set(err, DL_EINVAL,
                        "%s: cannot derive the dataset from the name; expected "
                        "SYMBOL-INTERVAL-YYYY-MM[-DD], SYMBOL-trades-... or SYMBOL-aggTrades-... "
                        "(.zip or .csv, as published on data.binance.vision)",
                        path);
}

/* The kind, period and dataset type named by the middle part. */
static bool parse_what(const char *what, dl_binance_file *out) {
    if (strcmp(what, "trades") == 0 || strcmp(what, "aggTrades") == 0) {
        bool agg = what[0] == 'a';
        out->kind = agg ? DL_CSV_BINANCE_AGGTRADES : DL_CSV_BINANCE_TRADES;
        snprintf(out->period, sizeof out->period, "%s", agg ? "aggtrades" : "trades");
        snprintf(out->type, sizeof out->type, "ticks");
        return true;
    }
    for (size_t i = 0; i < sizeof kline_intervals / sizeof kline_intervals[0]; i++)
        if (strcmp(what, kline_intervals[i].name) == 0) {
            out->kind = DL_CSV_BINANCE_KLINES;
            snprintf(out->period, sizeof out->period, "%s", kline_intervals[i].name);
            snprintf(out->type, sizeof out->type, "raw");
            /* A kline longer than a day that overlaps the period may open
            ** before it; shorter ones open inside it. */
            if (kline_intervals[i].us > US_PER_DAY) out->ts_min -= kline_intervals[i].us - 1;
            return true;
        }
    return false;
}

int dl_binance_parse_name(const char *path, dl_binance_file *out, dl_error *err) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[256];
    size_t n = strlen(base);
    if (n >= sizeof name) return dl_error_set(err, DL_EINVAL, "%s: file name too long", path);
    memcpy(name, base, n + 1);
    if (n <= 4 || (strcmp(name + n - 4, ".zip") != 0 && strcmp(name + n - 4, ".csv") != 0))
        return dl_error_set(err, DL_EINVAL,
                            "%s: expected a .zip or .csv file as published on "
                            "data.binance.vision",
                            path);
    name[n - 4] = 0;
    memset(out, 0, sizeof *out);
    char *dash1 = strchr(name, '-');
    char *dash2 = dash1 ? strchr(dash1 + 1, '-') : NULL;
    if (!dash1 || !dash2 || dash1 == name || (size_t)(dash1 - name) > DL_LAKE_COMPONENT_MAX ||
        !parse_period(dash2 + 1, out))
        return name_error(path, err);
    *dash1 = 0;
    *dash2 = 0;
    memcpy(out->symbol, name, (size_t)(dash1 - name) + 1); /* length checked above */
    if (!parse_what(dash1 + 1, out))
        return dl_error_set(err, DL_EINVAL,
                            "%s: \"%s\" is not a kline interval, trades or aggTrades", path,
                            dash1 + 1);
    return DL_OK;
}

int dl_binance_verify_checksum(const char *path, bool *checked, dl_error *err) {
    char sum_path[4096], line[512], have[65];
    *checked = false;
    int n = snprintf(sum_path, sizeof sum_path, "%s.CHECKSUM", path);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof sum_path || lstat(sum_path, &st) != 0) return DL_OK;
    FILE *f;
    int rc = dl_file_fopen_data(sum_path, &f, err);
    if (rc != DL_OK) return rc;
    size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = 0;
    size_t hex = 0;
    while (hex < got && isxdigit((unsigned char)line[hex])) hex++;
    if (hex != 64)
        return dl_error_set(err, DL_ECORRUPT, "%s: expected a SHA-256 (64 hex digits) first",
                            sum_path);
    rc = dl_sha256_file(path, have, err);
    if (rc != DL_OK) return rc;
    for (int i = 0; i < 64; i++) line[i] = (char)tolower((unsigned char)line[i]);
    if (strncmp(line, have, 64) != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s: SHA-256 %.16s... does not match %s (%.16s...); the download is "
                            "damaged, nothing was ingested",
                            path, have, sum_path, line);
    *checked = true;
    return DL_OK;
}
