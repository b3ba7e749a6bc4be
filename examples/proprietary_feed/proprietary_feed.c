/*
** proprietary_feed.c -- an example out-of-tree connector plugin: reads a
** proprietary binary trade feed (fixed 40-byte little-endian records:
** int64 ts_us, int64 trade_id, double price, double qty, uint8 side
** (0 buy, 1 sell), 7 bytes padding) and emits the records of a symbol and
** range as dl_table batches.  It uses only include/datalake.h (no library
** symbol), so it builds with:  cc -shared -fPIC -Iinclude -o feed.so proprietary_feed.c
** Options: "file=PATH" (the feed of every symbol, or PATH with {SYMBOL}
** replaced by the symbol); else $PROPRIETARY_FEED_FILE.  The file is
** hostile input: its size must be a multiple of the record, prices and
** quantities finite and positive, sides 0 or 1, timestamps ascending.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"

#define RECORD_SIZE 40
#define BATCH_ROWS  4096
#define MAX_FILE    (1LL << 34) /* 16 GiB of records */

#ifndef FEED_ABI_VERSION /* the tests rebuild with another value to check refusal */
#define FEED_ABI_VERSION DL_CONNECTOR_ABI_VERSION
#endif

typedef struct feed {
    const dl_connector_host *host;
    char file[4096];
    volatile int cancelled;
} feed;

static int64_t le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return (int64_t)v;
}

static double le_f64(const unsigned char *p) {
    uint64_t v = (uint64_t)le64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static int fail(char *errbuf, size_t errlen, int code, const char *fmt, const char *a,
                long long b) {
    snprintf(errbuf, errlen, fmt, a, b);
    return code;
}

static int describe(void *self, dl_connector_info *out, char *errbuf, size_t errlen) {
    (void)self, (void)errbuf, (void)errlen;
    out->name = "propfeed";
    out->version = "1.0.0";
    out->capabilities = DL_CONNECTOR_CAP_EARLIEST;
    out->num_kinds = 1;
    out->kinds[0] = "trades";
    return DL_OK;
}

/* The feed path of symbol: {SYMBOL} in the configured path replaced. */
static void feed_path(const feed *f, const char *symbol, char *out, size_t size) {
    const char *at = strstr(f->file, "{SYMBOL}");
    if (at)
        snprintf(out, size, "%.*s%s%s", (int)(at - f->file), f->file, symbol, at + 8);
    else
        snprintf(out, size, "%s", f->file);
}

/* Opens the feed and checks its size is whole records within the cap. */
static FILE *open_feed(const char *path, int64_t *records, char *errbuf, size_t errlen, int *rc) {
    FILE *in = fopen(path, "rb");
    if (!in) {
        *rc = fail(errbuf, errlen, DL_ENOTFOUND, "cannot open feed %s (%lld)", path, 0);
        return NULL;
    }
    long long size = -1;
    if (fseek(in, 0, SEEK_END) == 0) size = ftell(in);
    if (size < 0 || fseek(in, 0, SEEK_SET) != 0 || size > MAX_FILE) {
        fclose(in);
        *rc = fail(errbuf, errlen, DL_ECORRUPT,
                   "feed %s: unreadable or over the size cap (%lld bytes)", path, size);
        return NULL;
    }
    if (size % RECORD_SIZE != 0) {
        fclose(in);
        *rc = fail(errbuf, errlen, DL_ECORRUPT,
                   "feed %s: %lld bytes is not a whole number of 40-byte records (truncated?)",
                   path, size);
        return NULL;
    }
    *records = size / RECORD_SIZE;
    *rc = DL_OK;
    return in;
}

static int earliest(void *self, const char *symbol, const char *kind, int64_t *ts_us, char *errbuf,
                    size_t errlen) {
    feed *f = self;
    (void)kind;
    char path[4200];
    feed_path(f, symbol, path, sizeof path);
    int64_t n = 0;
    int rc;
    FILE *in = open_feed(path, &n, errbuf, errlen, &rc);
    if (!in) return rc;
    unsigned char rec[RECORD_SIZE];
    rc = n > 0 && fread(rec, 1, RECORD_SIZE, in) == RECORD_SIZE ? DL_OK : DL_ENOTFOUND;
    if (rc == DL_OK) *ts_us = le64(rec);
    fclose(in);
    return rc;
}

typedef struct batch {
    dl_field fields[5];
    dl_column columns[5];
    int64_t ts[BATCH_ROWS], id[BATCH_ROWS];
    double price[BATCH_ROWS], qty[BATCH_ROWS];
    int32_t side[BATCH_ROWS];
    dl_table table;
} batch;

/* A dl_table view over the batch's own arrays (borrowed by emit). */
static void batch_init(batch *b) {
    static const char *names[5] = {"ts", "trade_id", "price", "qty", "side"};
    static const dl_type types[5] = {DL_TYPE_TIMESTAMP, DL_TYPE_INT64, DL_TYPE_DOUBLE,
                                     DL_TYPE_DOUBLE, DL_TYPE_INT32};
    void *values[5] = {b->ts, b->id, b->price, b->qty, b->side};
    memset(b->fields, 0, sizeof b->fields);
    memset(b->columns, 0, sizeof b->columns);
    for (int i = 0; i < 5; i++) {
        b->fields[i].name = (char *)names[i];
        b->fields[i].type = types[i];
        b->fields[i].unit = DL_UNIT_US;
        b->fields[i].utc = true;
        b->columns[i].type = types[i];
        b->columns[i].unit = DL_UNIT_US;
        b->columns[i].values = values[i];
    }
    b->table.schema.num_fields = 5;
    b->table.schema.fields = b->fields;
    b->table.columns = b->columns;
}

static int flush(batch *b, int64_t rows, int64_t records_done, dl_connector_emit_fn emit,
                 void *emit_ctx) {
    for (int i = 0; i < 5; i++) b->columns[i].length = rows;
    b->table.num_rows = rows;
    char cursor[32];
    snprintf(cursor, sizeof cursor, "%lld", (long long)records_done); /* records read so far */
    return emit(emit_ctx, &b->table, cursor);
}

static int fetch(void *self, const char *symbol, const char *kind, int64_t from_us, int64_t to_us,
                 const char *cursor, dl_connector_emit_fn emit, void *emit_ctx, char *errbuf,
                 size_t errlen) {
    feed *f = self;
    (void)kind, (void)cursor;
    char path[4200];
    feed_path(f, symbol, path, sizeof path);
    int64_t n = 0;
    int rc;
    FILE *in = open_feed(path, &n, errbuf, errlen, &rc);
    if (!in) return rc;
    batch *b = calloc(1, sizeof *b);
    if (!b) {
        fclose(in);
        return fail(errbuf, errlen, DL_ENOMEM, "%s: out of memory (%lld)", path, 0);
    }
    batch_init(b);
    int64_t rows = 0, prev_ts = INT64_MIN;
    unsigned char rec[RECORD_SIZE];
    for (int64_t i = 0; i < n && rc == DL_OK; i++) {
        if (f->cancelled || f->host->cancelled(f->host->host_ctx)) {
            rc = fail(errbuf, errlen, DL_EIO, "%s: cancelled at record %lld", path, i);
            break;
        }
        if (fread(rec, 1, RECORD_SIZE, in) != RECORD_SIZE) {
            rc = fail(errbuf, errlen, DL_EIO, "feed %s: short read at record %lld", path, i);
            break;
        }
        int64_t ts = le64(rec);
        double price = le_f64(rec + 16), qty = le_f64(rec + 24);
        if (ts < prev_ts)
            rc = fail(errbuf, errlen, DL_ECORRUPT, "feed %s: record %lld goes back in time", path,
                      i);
        else if (!isfinite(price) || price <= 0 || !isfinite(qty) || qty <= 0)
            rc =
                fail(errbuf, errlen, DL_ECORRUPT,
                     "feed %s: record %lld has a non-positive or non-finite price or qty", path, i);
        else if (rec[32] > 1)
            rc = fail(errbuf, errlen, DL_ECORRUPT, "feed %s: record %lld has a side other than 0/1",
                      path, i);
        if (rc != DL_OK) break;
        prev_ts = ts;
        if (ts < from_us || ts >= to_us) continue;
        b->ts[rows] = ts;
        b->id[rows] = le64(rec + 8);
        b->price[rows] = price;
        b->qty[rows] = qty;
        b->side[rows] = rec[32];
        if (++rows == BATCH_ROWS) {
            rc = flush(b, rows, i + 1, emit, emit_ctx);
            rows = 0;
        }
    }
    if (rc == DL_OK && rows > 0) rc = flush(b, rows, n, emit, emit_ctx);
    free(b);
    fclose(in);
    return rc;
}

static void cancel(void *self) {
    ((feed *)self)->cancelled = 1;
}

static void close_feed(void *self) {
    free(self);
}

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
int dl_connector_entry(const dl_connector_host *host, const char *options, dl_connector *out,
                       char *errbuf, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->abi_version = FEED_ABI_VERSION;
    out->struct_size = sizeof *out;
    if (!host || host->abi_version != DL_CONNECTOR_ABI_VERSION)
        return fail(errbuf, errlen, DL_EUNSUPPORTED, "%s host ABI version %lld", "unsupported",
                    host ? (long long)host->abi_version : -1);
    const char *file = NULL;
    if (options && strncmp(options, "file=", 5) == 0) file = options + 5;
    if (!file || !*file) file = getenv("PROPRIETARY_FEED_FILE");
    if (!file || !*file)
        return fail(errbuf, errlen, DL_EINVAL, "%s (%lld)",
                    "name the feed: option file=PATH or $PROPRIETARY_FEED_FILE", 0);
    if (strlen(file) >= 4096)
        return fail(errbuf, errlen, DL_EINVAL, "feed path too long: %.80s (%lld bytes)", file,
                    (long long)strlen(file));
    feed *f = calloc(1, sizeof *f);
    if (!f) return fail(errbuf, errlen, DL_ENOMEM, "%s (%lld)", "out of memory", 0);
    f->host = host;
    snprintf(f->file, sizeof f->file, "%s", file);
    out->self = f;
    out->describe = describe;
    out->earliest = earliest;
    out->fetch = fetch;
    out->cancel = cancel;
    out->close = close_feed;
    host->log(host->host_ctx, 0, "proprietary feed connector ready");
    return DL_OK;
}
