/*
** dl_layout.c -- dataset names and the lake's on-disk layout.
**
** A dataset name becomes five directory levels, so every component is
** normalised (exchange, market and symbol upper-cased; the symbol's '/' and
** ':' separators become '-') and then validated against a small safe
** alphabet.  Anything that could escape the root or confuse a shell or a
** glob ("..", separators, NUL, control characters, leading dots) is refused
** with a message naming the component and the offending byte.
*/
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "util/dl_internal.h"
#include "lake/dl_layout.h"

static const char *const dataset_types[] = {"raw", "ticks", "agg", "features"};

typedef enum component_case { CASE_UPPER, CASE_LOWER, CASE_KEEP } component_case;

/* Normalises one component into out[DL_LAKE_COMPONENT_MAX + 1]. */
static int normalise_component(const char *what, const char *in, component_case cs,
                               bool map_separators, char *out, dl_error *err) {
    if (!in || !in[0]) return dl_error_set(err, DL_EINVAL, "%s is empty", what);
    size_t n = strlen(in);
    if (n > DL_LAKE_COMPONENT_MAX)
        return dl_error_set(err, DL_EINVAL, "%s is %zu bytes long; the limit is %d", what, n,
                            DL_LAKE_COMPONENT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (map_separators && (c == '/' || c == ':')) c = '-';
        if (c < 0x20 || c == 0x7f)
            return dl_error_set(err, DL_EINVAL,
                                "%s \"%s\" holds control character 0x%02x at byte %zu", what, in, c,
                                i);
        if (c == '/' || c == '\\')
            return dl_error_set(err, DL_EINVAL,
                                "%s \"%s\" holds a path separator '%c' at byte %zu; a component "
                                "cannot contain one",
                                what, in, c, i);
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.' || c == '+'))
            return dl_error_set(err, DL_EINVAL,
                                "%s \"%s\" holds '%c' at byte %zu; allowed are letters, digits "
                                "and - _ . +",
                                what, in, c, i);
        if (cs == CASE_UPPER) c = (unsigned char)toupper(c);
        if (cs == CASE_LOWER) c = (unsigned char)tolower(c);
        out[i] = (char)c;
    }
    out[n] = 0;
    if (out[0] == '.')
        return dl_error_set(err, DL_EINVAL,
                            "%s \"%s\" starts with '.'; hidden names and \"..\" "
                            "are refused",
                            what, in);
    return DL_OK;
}

int dl_dataset_id_make(const char *exchange, const char *market, const char *symbol,
                       const char *type, const char *period, dl_dataset_id *out, dl_error *err) {
    int rc = DL_OK;
    dl_dataset_id id;
    DL_TRY(normalise_component("exchange", exchange, CASE_UPPER, false, id.exchange, err));
    DL_TRY(normalise_component("market", market, CASE_UPPER, false, id.market, err));
    DL_TRY(normalise_component("symbol", symbol, CASE_UPPER, true, id.symbol, err));
    DL_TRY(normalise_component("type", type, CASE_LOWER, false, id.type, err));
    DL_TRY(normalise_component("period", period, CASE_KEEP, false, id.period, err));
    bool known = false;
    for (size_t i = 0; i < sizeof dataset_types / sizeof dataset_types[0]; i++)
        if (strcmp(id.type, dataset_types[i]) == 0) known = true;
    if (!known)
        DL_FAIL(err, DL_EINVAL, "type \"%s\" is not one of raw, ticks, agg, features", type);
    *out = id;
cleanup:
    return rc;
}

int dl_dataset_parse(const char *name, dl_dataset_id *out, dl_error *err) {
    if (!name) return dl_error_set(err, DL_EINVAL, "dataset name is missing");
    char parts[5][DL_LAKE_COMPONENT_MAX + 2];
    int n = 0;
    const char *p = name;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 5)
            return dl_error_set(
                err, DL_EINVAL,
                "dataset \"%s\" has more than 5 components; expected "
                "EXCHANGE/MARKET/SYMBOL/TYPE/PERIOD (e.g. BINANCE/SPOT/BTCUSDT/raw/1m)",
                name);
        if (len > DL_LAKE_COMPONENT_MAX) len = DL_LAKE_COMPONENT_MAX + 1; /* reported as overlong */
        memcpy(parts[n], p, len);
        parts[n][len] = 0;
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    if (n != 5)
        return dl_error_set(err, DL_EINVAL,
                            "dataset \"%s\" has %d component%s; expected "
                            "EXCHANGE/MARKET/SYMBOL/TYPE/PERIOD (e.g. BINANCE/SPOT/BTCUSDT/raw/1m)",
                            name, n, n == 1 ? "" : "s");
    return dl_dataset_id_make(parts[0], parts[1], parts[2], parts[3], parts[4], out, err);
}

void dl_dataset_format(const dl_dataset_id *id, char *buf, size_t size) {
    DL_REQUIRE_OR_RETURN(id && buf, );
    snprintf(buf, size, "%s/%s/%s/%s/%s", id->exchange, id->market, id->symbol, id->type,
             id->period);
}

int64_t dl_dataset_period_us(const char *period) {
    if (!period || !isdigit((unsigned char)period[0])) return 0;
    int64_t n = 0;
    const char *p = period;
    while (isdigit((unsigned char)*p)) {
        n = n * 10 + (*p - '0');
        if (n > 100000) return 0;
        p++;
    }
    if (n <= 0 || p[0] == 0 || p[1] != 0) return 0;
    return n * dl_duration_unit_us(*p); /* 0 for an unknown unit; 'M' (months) is not fixed */
}

static int checked_snprintf(size_t size, int n) {
    return (n < 0 || (size_t)n >= size) ? DL_EINVAL : DL_OK;
}

int dl_layout_day_path(const char *dataset, int32_t day, char *buf, size_t size) {
    int64_t y;
    int m, d;
    dl_civil_from_days(day, &y, &m, &d);
    return checked_snprintf(
        size, snprintf(buf, size, "%s/%04lld/%02d/%02d/data.parquet", dataset, (long long)y, m, d));
}

int dl_layout_archive_path(const char *dataset, int32_t day, int64_t version, char *buf,
                           size_t size) {
    int64_t y;
    int m, d;
    dl_civil_from_days(day, &y, &m, &d);
    return checked_snprintf(size,
                            snprintf(buf, size, ".dl/versions/%s/%04lld/%02d/%02d/v%lld.parquet",
                                     dataset, (long long)y, m, d, (long long)version));
}

int dl_layout_lock_name(const char *dataset, char *buf, size_t size) {
    int n = snprintf(buf, size, ".dl/locks/%s.lock", dataset);
    if (checked_snprintf(size, n) != DL_OK) return DL_EINVAL;
    for (char *p = buf + strlen(".dl/locks/"); *p; p++)
        if (*p == '/') *p = '~';
    return DL_OK;
}

static bool all_digits(const char *s, size_t len) {
    if (strlen(s) != len) return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

dl_layout_kind dl_layout_classify(const char *name, int depth, bool is_dir) {
    if (depth < 5) {
        /* a dataset component: what normalise_component accepts, already
        ** normalised (the tree only holds canonical names) */
        char out[DL_LAKE_COMPONENT_MAX + 1];
        dl_error ignored;
        static const component_case cases[5] = {CASE_UPPER, CASE_UPPER, CASE_UPPER, CASE_LOWER,
                                                CASE_KEEP};
        if (!is_dir ||
            normalise_component("component", name, cases[depth], false, out, &ignored) != DL_OK ||
            strcmp(out, name) != 0)
            return DL_LAYOUT_FOREIGN;
        return DL_LAYOUT_DIR;
    }
    if (depth < 8) {
        static const size_t widths[3] = {4, 2, 2};
        return is_dir && all_digits(name, widths[depth - 5]) ? DL_LAYOUT_DIR : DL_LAYOUT_FOREIGN;
    }
    return depth == 8 && !is_dir && strcmp(name, "data.parquet") == 0 ? DL_LAYOUT_DAY
                                                                      : DL_LAYOUT_FOREIGN;
}

bool dl_dataset_match(const char *pattern, const char *name) {
    char norm[4 * DL_DATASET_NAME_MAX];
    if (!pattern || !name || strlen(pattern) >= sizeof norm) return false;
    snprintf(norm, sizeof norm, "%s", pattern);
    int component = 0;
    for (char *p = norm; *p && component < 3; p++) {
        if (*p == '/')
            component++;
        else
            *p = (char)toupper((unsigned char)*p);
    }
    return fnmatch(norm, name, FNM_PATHNAME) == 0;
}
