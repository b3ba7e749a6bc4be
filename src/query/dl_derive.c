/*
** dl_derive.c -- derived datasets: dl_lake_resample turns a raw kline
** dataset (OHLCV resampler) or a ticks dataset (bars from ticks) into the
** agg dataset EXCHANGE/MARKET/SYMBOL/agg/PERIOD, incrementally.
**
** Lineage.  Every agg version this code writes carries the message
**     dl resample: dl.source=BINANCE/SPOT/BTCUSDT/raw/1m dl.source_version=7
** naming the source dataset and the source version it was computed from.
** The lake records the exact (day, version, sha256) of every source file
** at every version, so that one number is enough to know "what the agg
** saw": the source's file list at version 7.
**
** Incremental runs.  Under the agg dataset's writer lock (taken by
** dl_lake_txn_begin before anything is decided, so two concurrent runs do
** not race), the source's current files are compared with its files at
** the recorded version, day by day: a day is recomputed when it is new or
** its (version, sha256) differs.  When the recorded version was vacuumed
** the comparison falls back to "the file was added after the recorded
** version", which is equivalent (a live file added at or before that
** version was visible then).  No lineage (first run, or a foreign writer
** touched the agg last) means every day is recomputed; the lake's
** byte-identical upsert still writes nothing for unchanged days.  An agg
** whose lineage names another source (trades and klines both give agg/1m)
** is refused rather than mixed.
**
** Why a day can be recomputed alone: the bucket must divide 24 h, so every
** bar lies inside one UTC day and an agg day file depends on exactly one
** source day file.  Each run of consecutive changed days is one dl_query
** (as of the source version read, so a concurrent ingest cannot mix
** versions) streamed through a fresh kernel into one write transaction.
**
** Limits: the agg version is only created when some agg day's bytes
** change; a source change that leaves every bar identical (e.g. a trade's
** is_buyer_maker flag) creates no agg version, so the next run checks that
** day again (cheaply: one day's bars) until an agg version is written.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"
#include "util/dl_internal.h"

#define WHAT         "resample"
#define DAY_US       INT64_C(86400000000)
#define LINEAGE_TAG  "dl resample: "
#define LINEAGE_SRC  "dl.source="
#define LINEAGE_VER  "dl.source_version="
#define TICK_COLUMNS 3

/* The two streaming kernels behind a resample share one contract. */
typedef struct bar_kernel {
    dl_resampler *resampler; /* raw klines -> coarser bars */
    dl_tick_bars *ticks;     /* trades -> bars */
} bar_kernel;

static int kernel_open(bar_kernel *k, bool from_ticks, const dl_schema *input, int64_t bucket,
                       dl_error *err) {
    memset(k, 0, sizeof *k);
    return from_ticks ? dl_tick_bars_open(input, bucket, &k->ticks, err)
                      : dl_resampler_open(input, bucket, &k->resampler, err);
}

static const dl_schema *kernel_schema(const bar_kernel *k) {
    return k->ticks ? dl_tick_bars_schema(k->ticks) : dl_resampler_schema(k->resampler);
}

static int kernel_push(bar_kernel *k, const dl_table *batch, dl_table *out, dl_error *err) {
    return k->ticks ? dl_tick_bars_push(k->ticks, batch, out, err)
                    : dl_resampler_push(k->resampler, batch, out, err);
}

static int kernel_finish(bar_kernel *k, dl_table *out, dl_error *err) {
    return k->ticks ? dl_tick_bars_finish(k->ticks, out, err)
                    : dl_resampler_finish(k->resampler, out, err);
}

static void kernel_free(bar_kernel *k) {
    dl_tick_bars_free(k->ticks);
    dl_resampler_free(k->resampler);
    memset(k, 0, sizeof *k);
}

void dl_resample_options_default(dl_resample_options *opts) {
    DL_REQUIRE_OR_RETURN(opts, );
    memset(opts, 0, sizeof *opts);
    opts->threads = 0;
    opts->durable = true;
}

/* First microsecond of UTC `day`, clamped to the int64 range (the catalog's
** days come from int64 timestamps, but the day after the last may not fit). */
static int64_t day_start_us(int64_t day) {
    if (day > INT64_MAX / DAY_US) return INT64_MAX;
    if (day < INT64_MIN / DAY_US) return INT64_MIN;
    return day * DAY_US;
}

/* Empties a table, keeping its buffers for the next batch. */
static void table_clear(dl_table *t) {
    for (int c = 0; c < t->schema.num_fields; c++) dl_column_clear(&t->columns[c]);
    t->num_rows = 0;
}

int dl_resample_lineage_parse(const char *message, char *source, size_t source_size,
                              int64_t *source_version) {
    const char *s = message ? strstr(message, LINEAGE_TAG) : NULL;
    if (!s) return DL_ENOTFOUND;
    s = strstr(s, LINEAGE_SRC);
    const char *v = s ? strstr(s, LINEAGE_VER) : NULL;
    if (!s || !v) return DL_ENOTFOUND;
    s += strlen(LINEAGE_SRC);
    size_t len = strcspn(s, " ");
    if (len == 0 || len >= source_size) return DL_ENOTFOUND;
    v += strlen(LINEAGE_VER);
    int64_t version = 0;
    int digits = 0;
    for (; *v >= '0' && *v <= '9' && digits < 18; v++, digits++)
        version = version * 10 + (*v - '0');
    if (digits == 0 || version <= 0 || (*v != '\0' && *v != ' ')) return DL_ENOTFOUND;
    memcpy(source, s, len);
    source[len] = '\0';
    *source_version = version;
    return DL_OK;
}

/* The source version recorded by the agg's latest version, or 0 when the
** agg does not exist or another writer touched it last.  An agg whose
** lineage names another source is refused: its days would mix two sources. */
static int recorded_source_version(dl_lake *lake, const char *target, const char *source,
                                   int64_t *out, dl_error *err) {
    dl_lake_version *versions = NULL;
    int64_t count = 0;
    *out = 0;
    int rc = dl_lake_history(lake, target, &versions, &count, err);
    if (rc == DL_ENOTFOUND) {
        dl_error_clear(err);
        return DL_OK;
    }
    if (rc != DL_OK) return rc;
    char recorded[DL_DATASET_NAME_MAX];
    int64_t version = 0;
    if (count > 0 && dl_resample_lineage_parse(versions[count - 1].message, recorded,
                                               sizeof recorded, &version) == DL_OK) {
        if (strcmp(recorded, source) == 0)
            *out = version;
        else
            rc = dl_error_set(err, DL_ECONFLICT,
                              "%s holds bars of %s (lineage of its version %" PRId64
                              "); resampling %s into it would mix two sources",
                              target, recorded, versions[count - 1].version, source);
    }
    free(versions);
    return rc;
}

/* The file of `day` in a day-sorted list, or NULL. */
static const dl_lake_file *find_day(const dl_lake_file_list *list, int32_t day) {
    int64_t lo = 0, hi = list->count;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (list->files[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < list->count && list->files[lo].day == day ? &list->files[lo] : NULL;
}

/* Marks changed[i] for every current source file whose day must be
** recomputed (see the header comment); returns the count in *changed_days. */
static int changed_days(dl_lake *lake, const char *source, const dl_lake_file_list *now,
                        int64_t recorded, bool *changed, int64_t *changed_days_out, dl_error *err) {
    dl_lake_file_list then;
    memset(&then, 0, sizeof then);
    bool have_then = false;
    if (recorded > 0) {
        int rc = dl_lake_files(lake, source, INT64_MIN, INT64_MAX, recorded, &then, err);
        if (rc == DL_OK)
            have_then = true;
        else if (rc == DL_ENOTFOUND) /* vacuumed: compare versions instead */
            dl_error_clear(err);
        else
            return rc;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < now->count; i++) {
        const dl_lake_file *f = &now->files[i];
        if (recorded == 0) {
            changed[i] = true;
        } else if (have_then) {
            const dl_lake_file *old = find_day(&then, f->day);
            changed[i] = !old || old->version != f->version || strcmp(old->sha256, f->sha256) != 0;
        } else {
            changed[i] = f->version > recorded;
        }
        n += changed[i];
    }
    dl_lake_file_list_free(&then);
    *changed_days_out = n;
    return DL_OK;
}

/* Checks the target period against the source and returns the bucket (us). */
static int check_periods(const char *source, const dl_dataset_info *info, bool from_ticks,
                         const char *period, int64_t *bucket, dl_error *err) {
    int64_t target = dl_dataset_period_us(period);
    if (target <= 0)
        return dl_error_set(err, DL_EINVAL,
                            WHAT ": target period '%s' is not a fixed interval (use e.g. 5m, "
                                 "15m, 1h, 4h, 1d)",
                            period);
    if (target > DAY_US)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            WHAT ": target period '%s' is longer than a day; agg files are "
                                 "per UTC day, so buckets of at most 1d are supported",
                            period);
    if (DAY_US % target != 0)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            WHAT ": buckets of '%s' do not tile a UTC day (a bucket would span "
                                 "midnight); use a period that divides 24h, e.g. 5m, 15m, 1h, 4h",
                            period);
    if (!from_ticks && target % info->period_us != 0)
        return dl_error_set(err, DL_EINVAL,
                            WHAT ": target period '%s' is not a multiple of the source period "
                                 "'%s' of %s",
                            period, info->id.period, source);
    *bucket = target;
    return DL_OK;
}

int dl_lake_resample(dl_lake *lake, const char *source, const char *period,
                     const dl_resample_options *opts_in, dl_resample_result *result,
                     dl_error *err) {
    int rc = DL_OK;
    dl_resample_options opts;
    dl_resample_result res;
    dl_lake_txn *txn = NULL;
    dl_query *q = NULL;
    bar_kernel kernel = {0};
    dl_lake_file_list now;
    bool *changed = NULL;
    bool planned = false;     /* source and target known: errors name both */
    dl_pool *own_pool = NULL; /* one pool for every day range's query */
    dl_table batch, bars;
    memset(&now, 0, sizeof now);
    memset(&batch, 0, sizeof batch);
    memset(&bars, 0, sizeof bars);
    memset(&res, 0, sizeof res);
    if (opts_in)
        opts = *opts_in;
    else
        dl_resample_options_default(&opts);
    if (!lake || !source || !period) return dl_error_set(err, DL_EINVAL, WHAT ": NULL argument");

    dl_dataset_id src_id, dst_id;
    dl_dataset_info info;
    DL_TRY(dl_dataset_parse(source, &src_id, err));
    dl_dataset_format(&src_id, res.source, sizeof res.source);
    DL_TRY(dl_lake_dataset_info(lake, res.source, &info, err));
    bool from_ticks = strcmp(src_id.type, "ticks") == 0;
    if (!from_ticks && !(strcmp(src_id.type, "raw") == 0 && info.period_us > 0))
        DL_FAIL(err, DL_EINVAL,
                WHAT ": %s is not a source of bars; resample reads raw kline datasets with a "
                     "fixed period (raw/1m) or ticks datasets (ticks/trades)",
                res.source);
    int64_t bucket = 0;
    DL_TRY(check_periods(res.source, &info, from_ticks, period, &bucket, err));
    DL_TRY(dl_dataset_id_make(src_id.exchange, src_id.market, src_id.symbol, "agg", period, &dst_id,
                              err));
    dl_dataset_format(&dst_id, res.target, sizeof res.target);
    res.source_version = info.version;

    char message[256];
    int mlen =
        snprintf(message, sizeof message, LINEAGE_TAG LINEAGE_SRC "%s " LINEAGE_VER "%" PRId64,
                 res.source, info.version);
    if (mlen < 0 || (size_t)mlen >= sizeof message)
        DL_FAIL(err, DL_EUNSUPPORTED,
                WHAT ": source name %s is too long to record as lineage (the version message "
                     "holds %zu bytes)",
                res.source, sizeof message - 1);
    dl_lake_write_options wopts;
    dl_lake_write_options_default(&wopts);
    wopts.message = message;
    wopts.command = "resample";
    wopts.durable = opts.durable;
    if (opts.threads > 0) wopts.threads = opts.threads;
    const char *target_name = res.target;
    planned = true;
    DL_TRY(dl_lake_txn_begin(lake, &target_name, 1, &wopts, &txn, err));

    /* decided under the agg's lock: what changed since the recorded version */
    int64_t recorded = 0;
    DL_TRY(recorded_source_version(lake, res.target, res.source, &recorded, err));
    res.recorded_source_version = recorded;
    DL_TRY(dl_lake_files(lake, res.source, INT64_MIN, INT64_MAX, info.version, &now, err));
    res.days_total = now.count;
    if (recorded != info.version) {
        changed = calloc((size_t)(now.count ? now.count : 1), sizeof *changed);
        if (!changed) DL_FAIL(err, DL_ENOMEM, "out of memory planning the resample");
        DL_TRY(changed_days(lake, res.source, &now, recorded, changed, &res.days_recomputed, err));
    }

    static const char *const tick_columns[TICK_COLUMNS] = {"ts", "price", "qty"};
    for (int64_t i = 0; changed && i < now.count && res.days_recomputed > 0; i++) {
        if (!changed[i]) continue;
        int64_t last = i;
        while (last + 1 < now.count && changed[last + 1]) last++;
        dl_query_spec spec;
        dl_query_spec_default(&spec);
        const char *src_name = res.source;
        spec.datasets = &src_name;
        spec.num_datasets = 1;
        spec.ts_from = day_start_us(now.files[i].day);
        spec.ts_to = day_start_us((int64_t)now.files[last].day + 1);
        spec.as_of_version = info.version;
        spec.threads = opts.threads;
        spec.symbol_column = 0;
        if (!opts.pool && !own_pool) DL_TRY(dl_pool_create(opts.threads, &own_pool, err));
        spec.pool = opts.pool ? opts.pool : own_pool;
        if (from_ticks) {
            spec.columns = tick_columns;
            spec.num_columns = TICK_COLUMNS;
        }
        DL_TRY(dl_query_open(lake, &spec, &q, err));
        DL_TRY(kernel_open(&kernel, from_ticks, dl_query_schema(q), bucket, err));
        DL_TRY(dl_table_init(&batch, dl_query_schema(q), err));
        DL_TRY(dl_table_init(&bars, kernel_schema(&kernel), err));
        for (;;) {
            DL_TRY(dl_query_next(q, &batch, err));
            if (batch.num_rows == 0) break;
            res.rows_in += batch.num_rows;
            DL_TRY(kernel_push(&kernel, &batch, &bars, err));
            if (bars.num_rows > 0) {
                DL_TRY(dl_lake_txn_append(txn, res.target, &bars, err));
                res.bars_out += bars.num_rows;
                table_clear(&bars);
            }
        }
        DL_TRY(kernel_finish(&kernel, &bars, err));
        if (bars.num_rows > 0) {
            DL_TRY(dl_lake_txn_append(txn, res.target, &bars, err));
            res.bars_out += bars.num_rows;
        }
        dl_table_free(&bars);
        dl_table_free(&batch);
        kernel_free(&kernel);
        dl_query_close(q);
        q = NULL;
        i = last;
    }

    if (res.bars_out == 0) { /* nothing to publish: no version, no run row */
        dl_lake_txn_abort(txn);
        txn = NULL;
    } else {
        dl_lake_write_result wres;
        dl_lake_txn *committing = txn;
        txn = NULL; /* commit frees it, also on failure */
        DL_TRY(dl_lake_txn_commit(committing, &wres, err));
        res.days_written = wres.days_written;
        res.days_unchanged = wres.days_unchanged;
        res.version = wres.versions_created > 0 ? wres.last_version : 0;
    }
    if (result) *result = res;
cleanup:
    if (txn) dl_lake_txn_abort(txn);
    if (rc != DL_OK && planned) dl_error_prefix(err, WHAT " %s -> %s", res.source, res.target);
    dl_query_close(q);
    dl_pool_destroy(own_pool);
    kernel_free(&kernel);
    dl_table_free(&batch);
    dl_table_free(&bars);
    dl_lake_file_list_free(&now);
    free(changed);
    return rc;
}
