/*
** dl_sync_archive.c -- incremental sync of the data.binance.vision archive
** layout into the lake: plan monthly files for closed months wholly inside
** the range and daily files for the rest, skip what the lake already holds
** (coverage from the catalog's day files), download each archive with its
** .CHECKSUM over libcurl (429 waited out per Retry-After, 5xx and stalls
** retried with exponential backoff and jitter, 418 stops the sync), and
** ingest everything fetched in one all-or-nothing commit through
** dl_ingest_files, which verifies every CHECKSUM before reading a byte.
*/
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "connectors/dl_connector_internal.h"
#include "datalake.h"
#include "util/dl_timeparse.h"

#define SYNC_MAX_FILES      20000
#define SYNC_MAX_ARCHIVE    (4LL << 30) /* bytes of one archive */
#define SYNC_MAX_CHECKSUM   4096
#define SYNC_MAX_RETRY_WAIT 120 /* seconds a Retry-After may ask for */

typedef struct planned_file {
    char url_path[512]; /* data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2023-12.zip */
    char name[160];     /* BTCUSDT-1m-2023-12.zip */
    char dataset[DL_DATASET_NAME_MAX];
    int64_t first_day, last_day; /* days since epoch, inclusive */
} planned_file;

typedef struct fetcher {
    CURL *curl;
    const dl_sync_options *opts;
    dl_sync_result *result;
    long retry_after; /* seconds from the last response's Retry-After, or -1 */
    unsigned jitter;  /* xorshift state for backoff jitter */
} fetcher;

void dl_sync_options_default(dl_sync_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->base_url = "https://data.binance.vision";
    o->market = "spot";
    o->kind = "klines";
    o->interval = "1m";
    o->max_retries = 5;
    o->stall_seconds = 30;
}

#define sync_log(o, ...) dl_connector_log((o)->log, (o)->log_ctx, __VA_ARGS__)

/* ---- planning ---- */

static const char *market_path(const char *market) {
    if (strcmp(market, "spot") == 0) return "spot";
    if (strcmp(market, "um") == 0 || strcmp(market, "futures/um") == 0) return "futures/um";
    if (strcmp(market, "cm") == 0 || strcmp(market, "futures/cm") == 0) return "futures/cm";
    return NULL;
}

static const char *market_component(const char *market) {
    const char *p = market_path(market);
    return strcmp(p, "spot") == 0         ? "SPOT"
           : strcmp(p, "futures/um") == 0 ? "FUTURES-UM"
                                          : "FUTURES-CM";
}

/* The dataset an archive of `kind` lands in (as dl_ingest_files names it). */
static void dataset_of(const dl_sync_options *o, const char *symbol, char *out, size_t size) {
    const char *mk = market_component(o->market);
    if (strcmp(o->kind, "klines") == 0)
        snprintf(out, size, "BINANCE/%s/%s/raw/%s", mk, symbol, o->interval);
    else
        snprintf(out, size, "BINANCE/%s/%s/ticks/%s", mk, symbol,
                 strcmp(o->kind, "trades") == 0 ? "trades" : "aggtrades");
}

static int add_file(planned_file **files, int *n, int *cap, const dl_sync_options *o,
                    const char *symbol, bool monthly, int64_t year, int month, int day,
                    int64_t first_day, int64_t last_day, dl_error *err) {
    if (*n >= SYNC_MAX_FILES)
        return dl_error_set(err, DL_EINVAL, "sync: the range needs more than %d archives; split it",
                            SYNC_MAX_FILES);
    if (*n == *cap) {
        int grown = *cap ? *cap * 2 : 64;
        planned_file *p = realloc(*files, (size_t)grown * sizeof *p);
        if (!p) return dl_error_set(err, DL_ENOMEM, "sync: out of memory planning the range");
        *files = p;
        *cap = grown;
    }
    planned_file *f = &(*files)[(*n)++];
    char date[16];
    if (monthly)
        snprintf(date, sizeof date, "%04lld-%02d", (long long)year, month);
    else
        snprintf(date, sizeof date, "%04lld-%02d-%02d", (long long)year, month, day);
    bool klines = strcmp(o->kind, "klines") == 0;
    snprintf(f->name, sizeof f->name, "%s-%s-%s.zip", symbol, klines ? o->interval : o->kind, date);
    snprintf(f->url_path, sizeof f->url_path, "data/%s/%s/%s/%s%s%s/%s", market_path(o->market),
             monthly ? "monthly" : "daily", o->kind, symbol, klines ? "/" : "",
             klines ? o->interval : "", f->name);
    dataset_of(o, symbol, f->dataset, sizeof f->dataset);
    f->first_day = first_day;
    f->last_day = last_day;
    return DL_OK;
}

/* Monthly archives for closed months wholly inside [from, to), daily ones
** for the other days before today (the current day is never published). */
static int plan_symbol(const dl_sync_options *o, const char *symbol, int64_t today,
                       planned_file **files, int *n, int *cap, dl_error *err) {
    int64_t from = o->from_day, to = o->to_day < today ? o->to_day : today;
    int64_t ty;
    int tm, td;
    dl_civil_from_days(today, &ty, &tm, &td);
    int64_t this_month = dl_days_from_civil(ty, tm, 1);
    for (int64_t d = from; d < to;) {
        int64_t y;
        int m, day;
        dl_civil_from_days(d, &y, &m, &day);
        int64_t month_start = dl_days_from_civil(y, m, 1);
        int64_t next_month =
            m == 12 ? dl_days_from_civil(y + 1, 1, 1) : dl_days_from_civil(y, m + 1, 1);
        int rc;
        if (d == month_start && next_month <= to && next_month <= this_month) {
            rc = add_file(files, n, cap, o, symbol, true, y, m, 1, d, next_month - 1, err);
            d = next_month;
        } else {
            rc = add_file(files, n, cap, o, symbol, false, y, m, day, d, d, err);
            d++;
        }
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}

/* True when the lake holds a day file for every day of f. */
static int covered(dl_lake *lake, const planned_file *f, bool *out, dl_error *err) {
    return dl_connector_days_covered(lake, f->dataset, f->first_day, f->last_day, out, err);
}

/* ---- fetching ---- */

static size_t on_header(char *line, size_t size, size_t count, void *ctx) {
    fetcher *f = ctx;
    size_t len = size * count;
    static const char key[] = "retry-after:";
    if (len > sizeof key - 1 && strncasecmp(line, key, sizeof key - 1) == 0) {
        char value[32] = {0};
        size_t v = len - (sizeof key - 1);
        memcpy(value, line + sizeof key - 1, v < sizeof value - 1 ? v : sizeof value - 1);
        char *end;
        long secs = strtol(value, &end, 10);
        if (end != value && secs >= 0)
            f->retry_after = secs < SYNC_MAX_RETRY_WAIT ? secs : SYNC_MAX_RETRY_WAIT;
    }
    return len;
}

typedef struct sink {
    FILE *file;
    int64_t bytes, cap;
} sink;

static size_t on_body(char *data, size_t size, size_t count, void *ctx) {
    sink *s = ctx;
    size_t len = size * count;
    if (s->bytes + (int64_t)len > s->cap) return 0; /* aborts the transfer */
    if (fwrite(data, 1, len, s->file) != len) return 0;
    s->bytes += (int64_t)len;
    return len;
}

static void backoff(fetcher *f, int attempt) {
    f->jitter ^= f->jitter << 13;
    f->jitter ^= f->jitter >> 17;
    f->jitter ^= f->jitter << 5;
    double base = 0.25 * (double)(1 << (attempt < 8 ? attempt : 8));
    double wait = base * (0.5 + (double)(f->jitter % 1000) / 1000.0);
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    nanosleep(&ts, NULL);
}

/* GETs base_url/path into `path_out`.  DL_OK with *status = the final HTTP
** status (200, or 404 = not published); errors for everything else. */
static int fetch(fetcher *f, const char *url_path, const char *path_out, int64_t cap, long *status,
                 dl_error *err) {
    char url[1024];
    snprintf(url, sizeof url, "%s/%s", f->opts->base_url, url_path);
    for (int attempt = 0;; attempt++) {
        FILE *out = fopen(path_out, "wb");
        if (!out)
            return dl_error_set(err, DL_EIO, "sync: cannot write %s: %s", path_out,
                                strerror(errno));
        sink s = {out, 0, cap};
        f->retry_after = -1;
        curl_easy_setopt(f->curl, CURLOPT_URL, url);
        curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, &s);
        CURLcode cc = curl_easy_perform(f->curl);
        int closed = fclose(out);
        f->result->requests++;
        long code = 0;
        curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
        if (cc == CURLE_OK && closed == 0 && (code == 200 || code == 404)) {
            f->result->bytes += s.bytes;
            *status = code;
            return DL_OK;
        }
        if (cc == CURLE_WRITE_ERROR && s.bytes + 1 > cap)
            return dl_error_set(err, DL_ECORRUPT, "sync: %s is larger than %lld bytes", url,
                                (long long)cap);
        if (cc == CURLE_OK && code == 418)
            return dl_error_set(err, DL_EIO,
                                "sync: %s answered 418: the exchange has banned this address for "
                                "ignoring rate limits; stopped",
                                url);
        bool transient = cc != CURLE_OK || code == 429 || code >= 500;
        if (!transient) return dl_error_set(err, DL_EIO, "sync: %s answered HTTP %ld", url, code);
        if (attempt >= f->opts->max_retries)
            return dl_error_set(err, DL_EIO, "sync: %s failed after %d attempts: %s", url,
                                attempt + 1,
                                cc != CURLE_OK ? curl_easy_strerror(cc) : "server error");
        f->result->retries++;
        if (code == 429 && f->retry_after >= 0) {
            sync_log(f->opts, "429 from %s: waiting %ld s as asked (Retry-After)", url,
                     f->retry_after);
            sleep((unsigned)f->retry_after);
        } else {
            backoff(f, attempt);
        }
    }
}

/* Reads "<64 hex>  NAME" and checks the hex digest of the archive. */
static int check_checksum(const char *zip, const char *checksum_file, const char *url,
                          dl_error *err) {
    char text[SYNC_MAX_CHECKSUM + 1];
    FILE *f = fopen(checksum_file, "rb");
    if (!f)
        return dl_error_set(err, DL_EIO, "sync: cannot read %s: %s", checksum_file,
                            strerror(errno));
    size_t n = fread(text, 1, SYNC_MAX_CHECKSUM, f);
    fclose(f);
    text[n] = 0;
    if (n < 64) return dl_error_set(err, DL_ECORRUPT, "sync: %s.CHECKSUM holds no SHA-256", url);
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdefABCDEF", text[i]) || !text[i])
            return dl_error_set(err, DL_ECORRUPT, "sync: %s.CHECKSUM holds no SHA-256", url);
    char actual[65];
    int rc = dl_sha256_file(zip, actual, err);
    if (rc != DL_OK) return rc;
    if (strncasecmp(actual, text, 64) != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "sync: %s does not match its CHECKSUM (SHA-256 %.64s, expected %.64s); "
                            "nothing was written",
                            url, actual, text);
    return DL_OK;
}

static int setup_curl(fetcher *f, dl_error *err) {
    f->curl = curl_easy_init();
    if (!f->curl) return dl_error_set(err, DL_ENOMEM, "sync: cannot create an HTTP client");
    curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(f->curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT, 15L);
    /* a stalled transfer (under 1 byte/s for stall_seconds) is retried */
    curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_TIME, (long)f->opts->stall_seconds);
    curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f->curl, CURLOPT_USERAGENT, "dl-datalake/" DL_VERSION_STRING);
    curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    return DL_OK;
}

/* ---- the sync ---- */

static int check_options(const dl_sync_options *o, dl_error *err) {
    if (!o->base_url || strncmp(o->base_url, "http", 4) != 0)
        return dl_error_set(err, DL_EINVAL,
                            "sync: the base URL must start with http:// or https://");
    if (!o->market || !market_path(o->market))
        return dl_error_set(err, DL_EINVAL, "sync: market must be spot, um or cm, not '%s'",
                            o->market ? o->market : "");
    if (!o->kind || (strcmp(o->kind, "klines") != 0 && strcmp(o->kind, "trades") != 0 &&
                     strcmp(o->kind, "aggTrades") != 0))
        return dl_error_set(err, DL_EINVAL, "sync: kind must be klines, trades or aggTrades");
    if (strcmp(o->kind, "klines") == 0 && (!o->interval || dl_dataset_period_us(o->interval) <= 0))
        return dl_error_set(err, DL_EINVAL, "sync: klines need an interval such as 1m or 1h");
    if (!o->symbols || o->num_symbols <= 0)
        return dl_error_set(err, DL_EINVAL, "sync: name at least one symbol");
    for (int i = 0; i < o->num_symbols; i++) {
        const char *s = o->symbols[i];
        if (!s || !*s || strlen(s) > 40 ||
            strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(s))
            return dl_error_set(err, DL_EINVAL,
                                "sync: symbol '%s' is not an exchange symbol (A-Z, 0-9)",
                                s ? s : "");
    }
    if (o->to_day <= o->from_day)
        return dl_error_set(err, DL_EINVAL, "sync: the range is empty (from must be before to)");
    return DL_OK;
}

int dl_sync_binance_archive(dl_lake *lake, const dl_sync_options *o, dl_sync_result *out,
                            dl_error *err) {
    if (!lake || !o || !out) return dl_error_set(err, DL_EINVAL, "sync: missing argument");
    memset(out, 0, sizeof *out);
    int rc = check_options(o, err);
    if (rc != DL_OK) return rc;
    planned_file *files = NULL;
    int n = 0, cap = 0, fetched = 0;
    char **paths = NULL;
    char tmp[4096] = {0};
    fetcher f = {.opts = o, .result = out, .jitter = (unsigned)time(NULL) | 1u};
    int64_t today = (int64_t)time(NULL) / 86400;
    for (int i = 0; i < o->num_symbols && rc == DL_OK; i++)
        rc = plan_symbol(o, o->symbols[i], today, &files, &n, &cap, err);
    out->files_planned = n;
    for (int i = 0; i < n && rc == DL_OK; i++) {
        bool have = false;
        rc = covered(lake, &files[i], &have, err);
        if (rc == DL_OK && have) {
            files[i].name[0] = 0; /* skipped */
            out->files_skipped++;
        }
    }
    if (rc != DL_OK || o->dry_run) {
        for (int i = 0; i < n && rc == DL_OK; i++)
            if (files[i].name[0])
                sync_log(o, "plan: %s/%s (+ .CHECKSUM)", o->base_url, files[i].url_path);
        goto cleanup;
    }
    const char *tmpdir = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/dl-sync-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(tmp)) {
        rc = dl_error_set(err, DL_EIO, "sync: cannot create a work directory in %s: %s",
                          tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
        tmp[0] = 0;
        goto cleanup;
    }
    if ((rc = setup_curl(&f, err)) != DL_OK) goto cleanup;
    paths = calloc((size_t)n + 1, sizeof *paths);
    if (!paths) {
        rc = dl_error_set(err, DL_ENOMEM, "sync: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < n && rc == DL_OK; i++) {
        planned_file *p = &files[i];
        if (!p->name[0]) continue;
        char zip[4400], sum[4420], sum_path[600];
        snprintf(zip, sizeof zip, "%s/%s", tmp, p->name);
        snprintf(sum, sizeof sum, "%s.CHECKSUM", zip);
        snprintf(sum_path, sizeof sum_path, "%s.CHECKSUM", p->url_path);
        long status = 0;
        rc = fetch(&f, p->url_path, zip, SYNC_MAX_ARCHIVE, &status, err);
        if (rc == DL_OK && status == 404) {
            sync_log(o, "not published: %s/%s", o->base_url, p->url_path);
            out->files_missing++;
            unlink(zip);
            continue;
        }
        if (rc == DL_OK) rc = fetch(&f, sum_path, sum, SYNC_MAX_CHECKSUM, &status, err);
        if (rc == DL_OK && status == 404)
            rc = dl_error_set(err, DL_ECORRUPT, "sync: %s/%s has no .CHECKSUM; nothing was written",
                              o->base_url, p->url_path);
        if (rc == DL_OK) rc = check_checksum(zip, sum, p->url_path, err);
        if (rc == DL_OK && !(paths[fetched++] = strdup(zip)))
            rc = dl_error_set(err, DL_ENOMEM, "sync: out of memory");
        if (rc == DL_OK) sync_log(o, "fetched %s", p->name);
    }
    if (rc == DL_OK && fetched > 0) {
        dl_ingest_options io;
        dl_ingest_options_default(&io, DL_INGEST_BINANCE);
        io.market = market_component(o->market);
        io.write.command = "sync binance-archive";
        rc = dl_ingest_files(lake, (const char *const *)paths, fetched, &io, &out->ingest, err);
    }
    out->files_fetched = rc == DL_OK ? fetched : 0;
cleanup:
    if (f.curl) curl_easy_cleanup(f.curl);
    for (int i = 0; paths && i < fetched; i++) {
        if (!paths[i]) continue;
        char sum[4420];
        snprintf(sum, sizeof sum, "%s.CHECKSUM", paths[i]);
        unlink(paths[i]);
        unlink(sum);
        free(paths[i]);
    }
    free(paths);
    if (tmp[0]) {
        /* files of a failed fetch may remain: remove what is left, then the dir */
        for (int i = 0; i < n; i++) {
            if (!files[i].name[0]) continue;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", tmp, files[i].name);
            unlink(p);
            strncat(p, ".CHECKSUM", sizeof p - strlen(p) - 1);
            unlink(p);
        }
        rmdir(tmp);
    }
    free(files);
    return rc;
}
