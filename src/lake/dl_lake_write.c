/*
** dl_lake_write.c -- write transactions: buffering rows per UTC day,
** staging merged day files (UPSERT), and the crash-safe publish protocol.
**
** Publish protocol (docs/lake.md has the full argument):
**   1. stage: every changed day is merged with its current file and written
**      to .dl/tmp/{owner}/ (a day whose merged content equals the current
**      file's is dropped: idempotent re-runs change nothing, whatever
**      bytes this writer would produce);
**   2. intent: one catalog commit records every pending operation
**      (live path, tmp path, old and new SHA-256, archive path);
**   3. link each superseded live file to its archive path, syncfs
**      (the tmp files' data and the links are durable);
**   4. rename each tmp file over its live path, syncfs;
**   5. final catalog commit: files, versions, schema, gaps, run; the
**      pending rows are deleted in the same transaction.
** A crash before 5 is rolled back by the next open (dl_lake_recover):
** archives are renamed back, new day files removed.  Readers never see a
** partial file: live paths only ever change by rename(2).
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake/dl_catalog.h"
#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "lake/dl_layout.h"
#include "util/dl_internal.h"

void dl_lake_write_options_default(dl_lake_write_options *opts) {
    DL_REQUIRE_OR_RETURN(opts, );
    memset(opts, 0, sizeof *opts);
    dl_write_options_default(&opts->parquet);
    opts->threads = 2;
    opts->durable = true;
    opts->max_buffer_rows = 4 << 20;
}

/* The current file of one day, as the catalog has it at begin. */
typedef dl_cat_live_file live_file;

typedef struct dataset_state dataset_state;

/* One day of one dataset touched by the transaction. */
typedef struct staged_day {
    dataset_state *ds;
    int32_t day;
    const live_file *live; /* NULL for a new day */
    dl_table buffered;     /* rows appended and not yet staged (main thread) */
    bool has_buffered;
    /* Staging result, written by the worker, read after it finished: */
    bool busy;      /* a job for this day is queued or running */
    bool staged;    /* tmp_rel holds the merged day */
    bool unchanged; /* the merged bytes equal the live file */
    int64_t seq;    /* tmp file generation */
    char tmp_rel[256];
    char sha256[65];
    int64_t bytes, rows, ts_min, ts_max;
    dl_buf schema_json;
    dl_buf gaps; /* int64 triples (from, to, missing) inside the day */
} staged_day;

struct dataset_state {
    char name[DL_DATASET_NAME_MAX];
    dl_dataset_id id;
    int index;
    int lock_fd;
    int64_t dataset_id; /* 0 when the dataset does not exist yet */
    int64_t version;    /* current version at begin */
    int64_t period_us;
    dl_schema union_schema; /* catalog schema U all appended batches */
    dl_schema batch_schema; /* layout of buffered rows: U of appended batches */
    live_file *live;
    int64_t num_live;
    staged_day **days; /* sorted by day */
    int64_t num_days, cap_days;
};

struct dl_lake_txn {
    dl_lake *lake;
    dl_lake_write_options opts;
    char owner[64];
    char staging_rel[128];
    int owner_lock_fd;
    int64_t started_at, rows_in, buffered_rows;
    dataset_state *ds;
    int num_ds;
    /* worker pool */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t *workers;
    int num_workers;
    bool stopping;
    staged_day **queue; /* jobs: the day and its rows (moved into job_rows) */
    dl_table *queue_rows;
    int queue_len, queue_cap;
    int in_flight;
    int failed; /* first error code of a worker (0 = none) */
    dl_error failure;
};

/* ------------------------------------------------------------------ */
/* staging one day (runs on a worker or inline)                         */
/* ------------------------------------------------------------------ */

/* A staged day file, with the caller's key/value metadata in its footer. */
static int write_day_file(const char *path, const dl_table *rows, const dl_lake_write_options *o,
                          dl_error *err) {
    if (o->num_kv <= 0) return dl_parquet_write_table(path, rows, &o->parquet, err);
    dl_parquet_writer *w = NULL;
    int rc = dl_parquet_writer_open(path, &rows->schema, &o->parquet, &w, err);
    for (int i = 0; rc == DL_OK && i < o->num_kv; i++)
        rc = dl_parquet_writer_set_kv(w, o->kv_keys[i], o->kv_values[i], err);
    if (rc == DL_OK) rc = dl_parquet_writer_write(w, rows, err);
    if (rc == DL_OK) return dl_parquet_writer_close(w, false, err);
    if (w) dl_parquet_writer_abort(w);
    return rc;
}

static int read_parquet_file(const char *path, dl_table *out, dl_error *err) {
    dl_parquet_reader *r = NULL;
    int rc = dl_parquet_open(path, &r, err);
    if (rc == DL_OK) rc = dl_parquet_read_table(r, NULL, 0, out, err);
    if (rc != DL_OK) dl_lake_name_path(err, path);
    dl_parquet_close(r);
    return rc;
}

/* Layout of a merged day: the new rows' columns, then columns only the old
** file has; a column absent on one side becomes nullable. */
static int merged_schema(const dl_schema *old_schema, const dl_schema *new_schema, dl_schema *out,
                         dl_error *err) {
    int rc = dl_schema_copy(out, new_schema, err);
    if (rc == DL_OK && old_schema) rc = dl_schema_union(out, old_schema, "day file", err);
    if (rc != DL_OK || !old_schema) return rc;
    for (int i = 0; i < out->num_fields; i++) {
        const char *name = out->fields[i].name;
        if (dl_schema_find(old_schema, name) < 0 || dl_schema_find(new_schema, name) < 0)
            out->fields[i].nullable = true;
    }
    return DL_OK;
}

static bool sorted_unique(const dl_table *t) {
    int ts_col = dl_schema_find(&t->schema, "ts"), key_col = dl_table_key_column(&t->schema);
    const int64_t *ts = t->columns[ts_col].values;
    for (int64_t i = 1; i < t->num_rows; i++) {
        if (ts[i] > ts[i - 1]) continue;
        if (ts[i] < ts[i - 1] || key_col < 0) return false;
        /* equal ts: ticks are told apart by their id */
        const dl_column *k = &t->columns[key_col];
        if (k->null_count) return false;
        int64_t a = k->type == DL_TYPE_INT32 ? ((const int32_t *)k->values)[i - 1]
                                             : ((const int64_t *)k->values)[i - 1];
        int64_t b = k->type == DL_TYPE_INT32 ? ((const int32_t *)k->values)[i]
                                             : ((const int64_t *)k->values)[i];
        if (b <= a) return false;
    }
    return true;
}

int dl_lake_day_gaps(const int64_t *ts, int64_t n, int64_t period_us, dl_buf *out, dl_error *err) {
    dl_buf_reset(out);
    if (period_us <= 0) return DL_OK;
    for (int64_t i = 1; i < n; i++) {
        int64_t delta = ts[i] - ts[i - 1];
        if (delta <= period_us) continue;
        int64_t missing = (delta - 1) / period_us;
        int64_t triple[3] = {ts[i - 1] + period_us, ts[i - 1] + missing * period_us, missing};
        if (dl_buf_append(out, triple, sizeof triple) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory recording gaps");
    }
    return DL_OK;
}

static int record_gaps(staged_day *sd, const dl_table *t, int64_t period_us, dl_error *err) {
    const int64_t *ts = t->columns[dl_schema_find(&t->schema, "ts")].values;
    return dl_lake_day_gaps(ts, t->num_rows, period_us, &sd->gaps, err);
}

/* The bytes a writer merges with or replaces must be the catalog's: a day
** file the catalog does not know is never replaced (it may be the data of a
** lost catalog), and a missing or damaged one is never merged (repair marks
** such a day missing; a re-ingest then writes it afresh). */
static int check_day_file(const staged_day *sd, const char *path, dl_error *err) {
    if (!sd->live) {
        if (!dl_fs_exists(path)) return DL_OK;
        return dl_error_set(err, DL_ECONFLICT,
                            "%s exists but the catalog does not know it; refusing to replace "
                            "it (it may be the data of a lost catalog: rebuild the catalog from "
                            "the files, or move the file away)",
                            path);
    }
    char sha[65];
    dl_error hash_err;
    int rc = dl_sha256_file(path, sha, &hash_err);
    if (rc == DL_ENOTFOUND)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s is missing: the catalog's copy of this day is lost; refusing to "
                            "write the day over it (a repair marks the day missing or restores "
                            "an archived version)",
                            path);
    if (rc != DL_OK) return dl_error_set(err, rc, "%s", hash_err.message);
    if (strcmp(sha, sd->live->sha256) != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s is damaged: its SHA-256 is %.16s..., the catalog recorded "
                            "%.16s...; refusing to merge into it (a repair quarantines it)",
                            path, sha, sd->live->sha256);
    return DL_OK;
}

/* Merges `rows` into the day's current content and writes the result to a
** fresh tmp file.  The day is unchanged -- nothing written -- when the merge
** has the live file's logical content (schema and values; the bytes another
** dl release or other write options would produce do not matter), or, for a
** day staged twice in one transaction, when the bytes equal the live file. */
static int stage_day(dl_lake_txn *txn, staged_day *sd, dl_table *rows, dl_error *err) {
    int rc = DL_OK;
    dl_lake *lake = txn->lake;
    dataset_state *ds = sd->ds;
    dl_table old_raw = {0}, old_conf = {0}, new_conf = {0}, merged = {0};
    dl_schema layout;
    dl_schema_init(&layout);
    bool have_old = false, have_layout = false, old_is_live = false;
    char old_path[4096], tmp_rel[256], tmp_abs[4096], live_rel[512];

    if (sd->staged && !sd->unchanged) {
        DL_TRY(dl_lake_abs_path(lake, sd->tmp_rel, old_path, sizeof old_path, err));
        have_old = true;
    } else {
        DL_TRY(dl_layout_day_path(ds->name, sd->day, live_rel, sizeof live_rel) == DL_OK
                   ? DL_OK
                   : dl_error_set(err, DL_EINVAL, "path too long for %s", ds->name));
        DL_TRY(dl_lake_abs_path(lake, live_rel, old_path, sizeof old_path, err));
        DL_TRY(check_day_file(sd, old_path, err));
        have_old = old_is_live = sd->live != NULL;
    }
    if (have_old) DL_TRY(read_parquet_file(old_path, &old_raw, err));
    DL_TRY(merged_schema(have_old ? &old_raw.schema : NULL, &rows->schema, &layout, err));
    have_layout = true;
    const dl_table *out_rows = rows;
    if (have_old) {
        DL_TRY(dl_table_conform(&old_raw, &layout, &old_conf, err));
        DL_TRY(dl_table_conform(rows, &layout, &new_conf, err));
        DL_TRY(dl_table_merge_upsert(&old_conf, &new_conf, &merged, err));
        out_rows = &merged;
    } else if (!sorted_unique(rows)) {
        DL_TRY(dl_table_merge_upsert(NULL, rows, &merged, err));
        out_rows = &merged;
    }

    if (old_is_live && dl_table_same_content(&old_raw, out_rows)) {
        sd->staged = sd->unchanged = true;
        memcpy(sd->sha256, sd->live->sha256, sizeof sd->sha256);
        goto cleanup;
    }
    int n = snprintf(tmp_rel, sizeof tmp_rel, "%s/%d-%d-%lld.parquet", txn->staging_rel, ds->index,
                     (int)sd->day, (long long)++sd->seq);
    if (n < 0 || (size_t)n >= sizeof tmp_rel) DL_FAIL(err, DL_EINVAL, "tmp path too long");
    DL_TRY(dl_lake_abs_path(lake, tmp_rel, tmp_abs, sizeof tmp_abs, err));
    DL_TRY(write_day_file(tmp_abs, out_rows, &txn->opts, err));
    char sha[65];
    DL_TRY(dl_sha256_file(tmp_abs, sha, err));
    if (sd->staged && !sd->unchanged) {
        char prev[4096];
        DL_TRY(dl_lake_abs_path(lake, sd->tmp_rel, prev, sizeof prev, err));
        unlink(prev);
    }
    memcpy(sd->tmp_rel, tmp_rel, sizeof tmp_rel);
    memcpy(sd->sha256, sha, sizeof sha);
    sd->staged = true;
    sd->unchanged = sd->live && strcmp(sha, sd->live->sha256) == 0;
    if (sd->unchanged) unlink(tmp_abs);
    sd->bytes = dl_fs_size(tmp_abs);
    sd->rows = out_rows->num_rows;
    const int64_t *ts = out_rows->columns[dl_schema_find(&out_rows->schema, "ts")].values;
    sd->ts_min = ts[0];
    sd->ts_max = ts[out_rows->num_rows - 1];
    dl_buf_reset(&sd->schema_json);
    DL_TRY(dl_schema_to_json(&out_rows->schema, &sd->schema_json, err));
    DL_TRY(record_gaps(sd, out_rows, ds->period_us, err));
cleanup:
    if (rc != DL_OK) {
        char date[32];
        dl_format_date((int32_t)sd->day, date, sizeof date);
        dl_error_prefix(err, "%s %s", ds->name, date);
    }
    if (have_layout) dl_schema_free(&layout);
    dl_table_free(&old_raw);
    dl_table_free(&old_conf);
    dl_table_free(&new_conf);
    dl_table_free(&merged);
    return rc;
}

/* ------------------------------------------------------------------ */
/* worker pool                                                          */
/* ------------------------------------------------------------------ */

static void finish_job(dl_lake_txn *txn, staged_day *sd, int rc, const dl_error *job_err) {
    pthread_mutex_lock(&txn->mu);
    sd->busy = false;
    txn->in_flight--;
    if (rc != DL_OK && !txn->failed) {
        txn->failed = rc;
        txn->failure = *job_err;
    }
    pthread_cond_broadcast(&txn->cv);
    pthread_mutex_unlock(&txn->mu);
}

static void *worker_main(void *arg) {
    dl_lake_txn *txn = arg;
    pthread_mutex_lock(&txn->mu);
    for (;;) {
        while (txn->queue_len == 0 && !txn->stopping) pthread_cond_wait(&txn->cv, &txn->mu);
        if (txn->queue_len == 0) break;
        staged_day *sd = txn->queue[0];
        dl_table rows = txn->queue_rows[0];
        txn->queue_len--;
        // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
        memmove(txn->queue, txn->queue + 1, (size_t)txn->queue_len * sizeof *txn->queue);
        memmove(txn->queue_rows, txn->queue_rows + 1,
                (size_t)txn->queue_len * sizeof *txn->queue_rows);
        bool skip = txn->failed != 0;
        pthread_cond_broadcast(&txn->cv);
        pthread_mutex_unlock(&txn->mu);
        dl_error job_err;
        dl_error_clear(&job_err);
        int rc = skip ? DL_OK : stage_day(txn, sd, &rows, &job_err);
        dl_table_free(&rows);
        finish_job(txn, sd, rc, &job_err);
        pthread_mutex_lock(&txn->mu);
    }
    pthread_mutex_unlock(&txn->mu);
    return NULL;
}

static int txn_failure(dl_lake_txn *txn, dl_error *err) {
    pthread_mutex_lock(&txn->mu);
    int rc = txn->failed;
    if (rc && err) *err = txn->failure;
    pthread_mutex_unlock(&txn->mu);
    return rc;
}

/* Hands the day's buffered rows to a worker (or stages them inline). */
static int submit_day(dl_lake_txn *txn, staged_day *sd, dl_error *err) {
    if (!sd->has_buffered) return DL_OK;
    dl_table rows = sd->buffered;
    memset(&sd->buffered, 0, sizeof sd->buffered);
    sd->has_buffered = false;
    txn->buffered_rows -= rows.num_rows;
    if (txn->num_workers == 0) {
        int rc = stage_day(txn, sd, &rows, err);
        dl_table_free(&rows);
        return rc;
    }
    pthread_mutex_lock(&txn->mu);
    /* One job per day at a time (a re-staged day merges with the previous
    ** tmp), and a short queue so memory stays bounded. */
    while (!txn->failed && (sd->busy || txn->queue_len >= 2 * txn->num_workers))
        pthread_cond_wait(&txn->cv, &txn->mu);
    if (txn->failed) {
        pthread_mutex_unlock(&txn->mu);
        dl_table_free(&rows);
        return txn_failure(txn, err);
    }
    if (txn->queue_len == txn->queue_cap) {
        int cap = txn->queue_cap ? 2 * txn->queue_cap : 8;
        // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
        staged_day **q = realloc(txn->queue, (size_t)cap * sizeof *q);
        if (q) txn->queue = q;
        dl_table *qr = q ? realloc(txn->queue_rows, (size_t)cap * sizeof *qr) : NULL;
        if (qr) txn->queue_rows = qr;
        if (!q || !qr) {
            pthread_mutex_unlock(&txn->mu);
            dl_table_free(&rows);
            return dl_error_set(err, DL_ENOMEM, "out of memory queueing a day");
        }
        txn->queue_cap = cap;
    }
    txn->queue[txn->queue_len] = sd;
    txn->queue_rows[txn->queue_len] = rows;
    txn->queue_len++;
    txn->in_flight++;
    sd->busy = true;
    pthread_cond_broadcast(&txn->cv);
    pthread_mutex_unlock(&txn->mu);
    return DL_OK;
}

static int wait_all(dl_lake_txn *txn, dl_error *err) {
    pthread_mutex_lock(&txn->mu);
    while (txn->in_flight > 0) pthread_cond_wait(&txn->cv, &txn->mu);
    pthread_mutex_unlock(&txn->mu);
    return txn_failure(txn, err);
}

static void stop_workers(dl_lake_txn *txn) {
    if (!txn->workers) return;
    pthread_mutex_lock(&txn->mu);
    txn->stopping = true;
    pthread_cond_broadcast(&txn->cv);
    pthread_mutex_unlock(&txn->mu);
    for (int i = 0; i < txn->num_workers; i++) pthread_join(txn->workers[i], NULL);
    for (int i = 0; i < txn->queue_len; i++) dl_table_free(&txn->queue_rows[i]);
    txn->queue_len = 0;
    free(txn->workers);
    txn->workers = NULL;
    txn->num_workers = 0;
}

/* ------------------------------------------------------------------ */
/* begin                                                                */
/* ------------------------------------------------------------------ */

static int compare_names(const void *a, const void *b) {
    return strcmp(((const dataset_state *)a)->name, ((const dataset_state *)b)->name);
}

static int load_dataset(dl_lake *lake, dataset_state *ds, dl_error *err) {
    int rc = DL_OK;
    bool found = false;
    dl_schema_init(&ds->union_schema);
    dl_schema_init(&ds->batch_schema);
    ds->period_us = dl_dataset_period_us(ds->id.period);
    DL_TRY(dl_cat_dataset_state(lake->cat, ds->name, &found, &ds->dataset_id, &ds->version,
                                &ds->union_schema, err));
    if (dl_schema_find(&ds->union_schema, "ts") < 0)
        DL_TRY(dl_schema_add_timestamp(&ds->union_schema, "ts", DL_UNIT_US, false, err));
    DL_TRY(dl_schema_add_timestamp(&ds->batch_schema, "ts", DL_UNIT_US, false, err));
    if (found) DL_TRY(dl_cat_live_files(lake->cat, ds->dataset_id, &ds->live, &ds->num_live, err));
cleanup:
    return rc;
}

/* Creates the owner's lock file (held for the whole transaction) and
** staging directory; see dl_lake_clean_staging for the other side. */
static int make_staging(dl_lake_txn *txn, dl_error *err) {
    int rc = DL_OK;
    char lock[4096], dir[4096];
    for (int attempt = 0; attempt < 10; attempt++) {
        snprintf(txn->owner, sizeof txn->owner, "w-%d-%llx", (int)getpid(),
                 (unsigned long long)dl_now_us() + (unsigned long long)attempt);
        snprintf(txn->staging_rel, sizeof txn->staging_rel, ".dl/tmp/%s", txn->owner);
        DL_TRY(dl_lake_abs_path(txn->lake, txn->staging_rel, dir, sizeof dir, err));
        int n = snprintf(lock, sizeof lock, "%s.lock", dir);
        if (n < 0 || (size_t)n >= sizeof lock) DL_FAIL(err, DL_EINVAL, "path too long");
        DL_TRY(dl_fs_lock(lock, true, &txn->owner_lock_fd, err));
        /* A cleaner may have unlinked the file between open and flock. */
        struct stat a, b;
        if (fstat(txn->owner_lock_fd, &a) == 0 && stat(lock, &b) == 0 && a.st_ino == b.st_ino)
            break;
        close(txn->owner_lock_fd);
        txn->owner_lock_fd = -1;
    }
    if (txn->owner_lock_fd < 0) DL_FAIL(err, DL_EIO, "cannot create a staging lock");
    if (mkdir(dir, 0777) != 0)
        DL_FAIL(err, DL_EIO, "cannot create staging directory %s: %s", dir, strerror(errno));
cleanup:
    return rc;
}

static void remove_staging(dl_lake_txn *txn) {
    if (txn->owner_lock_fd < 0) return;
    char dir[4096], lock[4096];
    dl_error ignored;
    if (dl_lake_abs_path(txn->lake, txn->staging_rel, dir, sizeof dir, &ignored) == DL_OK) {
        dl_fs_remove_tree(dir, &ignored);
        int n = snprintf(lock, sizeof lock, "%s.lock", dir);
        if (n > 0 && (size_t)n < sizeof lock) unlink(lock);
    }
    close(txn->owner_lock_fd);
    txn->owner_lock_fd = -1;
}

static void free_txn(dl_lake_txn *txn) {
    if (!txn) return;
    stop_workers(txn);
    for (int i = 0; i < txn->num_ds; i++) {
        dataset_state *ds = &txn->ds[i];
        /* num_ds > 0 only once ds is allocated, num_days > 0 only once days is
        ** (the analyzer does not relate the counts to the arrays) */
        // NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
        for (int64_t d = 0; d < ds->num_days; d++) {
            // NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
            staged_day *sd = ds->days[d];
            dl_table_free(&sd->buffered);
            dl_buf_free(&sd->schema_json);
            dl_buf_free(&sd->gaps);
            free(sd);
        }
        free(ds->days);
        free(ds->live);
        dl_schema_free(&ds->union_schema);
        dl_schema_free(&ds->batch_schema);
    }
    remove_staging(txn);
    for (int i = 0; i < txn->num_ds; i++)
        if (txn->ds[i].lock_fd >= 0) close(txn->ds[i].lock_fd);
    free(txn->ds);
    free(txn->queue);
    free(txn->queue_rows);
    pthread_mutex_destroy(&txn->mu);
    pthread_cond_destroy(&txn->cv);
    free(txn);
}

int dl_lake_txn_begin(dl_lake *lake, const char *const *datasets, int num_datasets,
                      const dl_lake_write_options *opts, dl_lake_txn **out, dl_error *err) {
    DL_REQUIRE(err, lake && datasets && out);
    int rc = DL_OK;
    if (lake->read_only) return dl_error_set(err, DL_EINVAL, "the lake was opened read-only");
    if (num_datasets <= 0)
        return dl_error_set(err, DL_EINVAL, "a write needs at least one dataset");
    dl_lake_txn *txn = calloc(1, sizeof *txn);
    if (!txn) return dl_error_set(err, DL_ENOMEM, "out of memory");
    txn->lake = lake;
    txn->owner_lock_fd = -1;
    pthread_mutex_init(&txn->mu, NULL);
    pthread_cond_init(&txn->cv, NULL);
    if (opts)
        txn->opts = *opts;
    else
        dl_lake_write_options_default(&txn->opts);
    txn->started_at = dl_now_us();
    txn->ds = calloc((size_t)num_datasets, sizeof *txn->ds);
    if (!txn->ds) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < num_datasets; i++) {
        dataset_state *ds = &txn->ds[txn->num_ds];
        ds->lock_fd = -1;
        DL_TRY(dl_dataset_parse(datasets[i], &ds->id, err));
        dl_dataset_format(&ds->id, ds->name, sizeof ds->name);
        bool dup = false;
        for (int j = 0; j < txn->num_ds; j++) dup = dup || strcmp(txn->ds[j].name, ds->name) == 0;
        if (!dup) txn->num_ds++;
    }
    /* Locks are taken in name order so two writers cannot deadlock. */
    qsort(txn->ds, (size_t)txn->num_ds, sizeof *txn->ds, compare_names);
    for (int i = 0; i < txn->num_ds; i++) {
        dataset_state *ds = &txn->ds[i];
        char lock_rel[512], lock[4096];
        ds->index = i;
        if (dl_layout_lock_name(ds->name, lock_rel, sizeof lock_rel) != DL_OK)
            DL_FAIL(err, DL_EINVAL, "dataset name too long");
        DL_TRY(dl_lake_abs_path(lake, lock_rel, lock, sizeof lock, err));
        char what[DL_DATASET_NAME_MAX + 16];
        snprintf(what, sizeof what, "dataset %s", ds->name);
        dl_lock_wait wait = {lake->lock_timeout_ms, lake->lock_notify, lake->lock_notify_ctx, what};
        DL_TRY(dl_fs_lock_wait(lock, &wait, &ds->lock_fd, err));
        /* A dead writer of this dataset may have left a half publish. */
        DL_TRY(dl_lake_recover(lake, ds->name, NULL, err));
        DL_TRY(load_dataset(lake, ds, err));
    }
    DL_TRY(make_staging(txn, err));
    txn->num_workers = txn->opts.threads > 1 ? txn->opts.threads : 0;
    if (txn->num_workers) {
        txn->workers = calloc((size_t)txn->num_workers, sizeof *txn->workers);
        if (!txn->workers) DL_FAIL(err, DL_ENOMEM, "out of memory");
        for (int i = 0; i < txn->num_workers; i++)
            if (pthread_create(&txn->workers[i], NULL, worker_main, txn) != 0) {
                txn->num_workers = i;
                DL_FAIL(err, DL_EIO, "cannot start a worker thread");
            }
    }
    *out = txn;
    txn = NULL;
cleanup:
    free_txn(txn);
    return rc;
}

/* ------------------------------------------------------------------ */
/* append                                                               */
/* ------------------------------------------------------------------ */

static staged_day *find_day(dataset_state *ds, int32_t day, bool create) {
    int64_t lo = 0, hi = ds->num_days;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (ds->days[mid]->day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ds->num_days && ds->days[lo]->day == day) return ds->days[lo];
    if (!create) return NULL;
    if (ds->num_days == ds->cap_days) {
        int64_t cap = ds->cap_days ? 2 * ds->cap_days : 64;
        // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
        staged_day **grown = realloc(ds->days, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        ds->days = grown;
        ds->cap_days = cap;
    }
    staged_day *sd = calloc(1, sizeof *sd);
    if (!sd) return NULL;
    sd->ds = ds;
    sd->day = day;
    /* the live file of that day, if any (live is sorted by day) */
    int64_t a = 0, b = ds->num_live;
    while (a < b) {
        int64_t mid = (a + b) / 2;
        if (ds->live[mid].day < day)
            a = mid + 1;
        else
            b = mid;
    }
    if (a < ds->num_live && ds->live[a].day == day) sd->live = &ds->live[a];
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    memmove(ds->days + lo + 1, ds->days + lo, (size_t)(ds->num_days - lo) * sizeof *ds->days);
    ds->days[lo] = sd;
    ds->num_days++;
    return sd;
}

static bool same_layout(const dl_schema *a, const dl_schema *b) {
    if (a->num_fields != b->num_fields) return false;
    for (int i = 0; i < a->num_fields; i++)
        if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
            a->fields[i].type != b->fields[i].type || a->fields[i].unit != b->fields[i].unit ||
            a->fields[i].nullable != b->fields[i].nullable)
            return false;
    return true;
}

/* Checks the rows' time column: present, TIMESTAMP, no nulls, sane range. */
static int check_ts(const dl_table *rows, const char *dataset, dl_error *err) {
    int c = dl_schema_find(&rows->schema, "ts");
    if (c < 0)
        return dl_error_set(err, DL_EINVAL, "%s: rows have no `ts` column (the lake's time column)",
                            dataset);
    const dl_field *f = &rows->schema.fields[c];
    if (f->type != DL_TYPE_TIMESTAMP || f->unit == DL_UNIT_NS)
        return dl_error_set(err, DL_EINVAL,
                            "%s: column `ts` must be TIMESTAMP in ms or us (UTC), not %s%s",
                            dataset, dl_type_name(f->type), f->unit == DL_UNIT_NS ? "(ns)" : "");
    const dl_column *col = &rows->columns[c];
    const int64_t *ts = col->values;
    int64_t lo = (int64_t)dl_days_from_civil(1900, 1, 1) * 86400,
            hi = (int64_t)dl_days_from_civil(10000, 1, 1) * 86400;
    int64_t per_s = f->unit == DL_UNIT_MS ? 1000 : 1000000;
    for (int64_t i = 0; i < rows->num_rows; i++) {
        if (!dl_column_is_valid(col, i))
            return dl_error_set(err, DL_EINVAL, "%s: row %lld has a null `ts`", dataset,
                                (long long)i);
        if (ts[i] / per_s < lo || ts[i] / per_s >= hi)
            return dl_error_set(err, DL_EINVAL, "%s: row %lld has `ts` %lld outside 1900..9999",
                                dataset, (long long)i, (long long)ts[i]);
    }
    return DL_OK;
}

int dl_lake_txn_append(dl_lake_txn *txn, const char *dataset, const dl_table *rows, dl_error *err) {
    DL_REQUIRE(err, txn && dataset && rows);
    int rc = DL_OK;
    dl_table conformed = {0};
    dl_schema grown;
    dl_schema_init(&grown);
    DL_TRY(txn_failure(txn, err));
    dl_dataset_id id;
    char name[DL_DATASET_NAME_MAX];
    DL_TRY(dl_dataset_parse(dataset, &id, err));
    dl_dataset_format(&id, name, sizeof name);
    dataset_state *ds = NULL;
    for (int i = 0; i < txn->num_ds; i++)
        if (strcmp(txn->ds[i].name, name) == 0) ds = &txn->ds[i];
    if (!ds) DL_FAIL(err, DL_EINVAL, "dataset %s was not named when the write began", name);
    if (rows->num_rows == 0) goto cleanup;
    DL_TRY(check_ts(rows, name, err));

    /* Schema evolution: the rows must fit the dataset's union schema
    ** losslessly; the buffered layout grows with new columns. */
    DL_TRY(dl_schema_union(&ds->union_schema, &rows->schema, name, err));
    DL_TRY(dl_schema_copy(&grown, &ds->batch_schema, err));
    DL_TRY(dl_schema_union(&grown, &rows->schema, name, err));
    int ts_idx = dl_schema_find(&grown, "ts");
    grown.fields[ts_idx].unit = DL_UNIT_US; /* ms input is widened to the lake's unit */
    grown.fields[ts_idx].nullable = false;
    if (!same_layout(&grown, &ds->batch_schema)) {
        for (int64_t d = 0; d < ds->num_days; d++) {
            staged_day *sd = ds->days[d];
            if (!sd->has_buffered) continue;
            dl_table re;
            DL_TRY(dl_table_conform(&sd->buffered, &grown, &re, err));
            dl_table_free(&sd->buffered);
            sd->buffered = re;
        }
        dl_schema_free(&ds->batch_schema);
        ds->batch_schema = grown;
        dl_schema_init(&grown);
    }
    const dl_table *src = rows;
    if (!same_layout(&rows->schema, &ds->batch_schema)) {
        DL_TRY(dl_table_conform(rows, &ds->batch_schema, &conformed, err));
        src = &conformed;
    }
    /* Split into runs of one UTC day. */
    const int64_t *ts = src->columns[dl_schema_find(&src->schema, "ts")].values;
    staged_day *last = NULL;
    for (int64_t i = 0; i < src->num_rows;) {
        int32_t day = dl_day_of_us(ts[i]);
        int64_t j = i + 1;
        int64_t day_end = ((int64_t)day + 1) * DL_US_PER_DAY,
                day_start = (int64_t)day * DL_US_PER_DAY;
        while (j < src->num_rows && ts[j] >= day_start && ts[j] < day_end) j++;
        staged_day *sd = find_day(ds, day, true);
        if (!sd) DL_FAIL(err, DL_ENOMEM, "out of memory");
        if (!sd->has_buffered) {
            DL_TRY(dl_table_init(&sd->buffered, &ds->batch_schema, err));
            sd->has_buffered = true;
        }
        for (int c = 0; c < src->schema.num_fields; c++)
            DL_TRY(
                dl_column_append_range(&sd->buffered.columns[c], &src->columns[c], i, j - i, err));
        DL_TRY(dl_table_seal(&sd->buffered, err));
        txn->buffered_rows += j - i;
        last = sd;
        i = j;
    }
    txn->rows_in += rows->num_rows;
    /* Sorted input moves forward: every day but the last one touched is
    ** complete and can be staged now; a memory cap stages everything. */
    bool all = txn->buffered_rows > txn->opts.max_buffer_rows;
    for (int k = 0; k < txn->num_ds; k++) {
        dataset_state *d = &txn->ds[k];
        for (int64_t x = 0; x < d->num_days; x++)
            if (d->days[x]->has_buffered && (all || d->days[x] != last))
                DL_TRY(submit_day(txn, d->days[x], err));
    }
cleanup:
    dl_schema_free(&grown);
    dl_table_free(&conformed);
    return rc;
}

/* ------------------------------------------------------------------ */
/* commit                                                               */
/* ------------------------------------------------------------------ */

static bool day_changed(const staged_day *sd) {
    return sd->staged && !sd->unchanged;
}

static int write_intent(dl_lake_txn *txn, int64_t *ops, dl_error *err) {
    int rc = DL_OK;
    dl_catalog *cat = txn->lake->cat;
    dl_cat_pending p;
    DL_TRY(dl_cat_begin(cat, err));
    for (int i = 0; i < txn->num_ds; i++) {
        dataset_state *ds = &txn->ds[i];
        for (int64_t d = 0; d < ds->num_days; d++) {
            staged_day *sd = ds->days[d];
            if (!day_changed(sd)) continue;
            memset(&p, 0, sizeof p);
            snprintf(p.dataset, sizeof p.dataset, "%s", ds->name);
            snprintf(p.tmp, sizeof p.tmp, "%s", sd->tmp_rel);
            snprintf(p.new_sha, sizeof p.new_sha, "%s", sd->sha256);
            if (dl_layout_day_path(ds->name, sd->day, p.live, sizeof p.live) != DL_OK ||
                (sd->live && dl_layout_archive_path(ds->name, sd->day, sd->live->version_added,
                                                    p.archive, sizeof p.archive) != DL_OK))
                DL_FAIL(err, DL_EINVAL, "path too long in %s", ds->name);
            if (sd->live) {
                snprintf(p.old_sha, sizeof p.old_sha, "%s", sd->live->sha256);
                p.has_archive = true;
            }
            DL_TRY(dl_cat_add_pending(cat, txn->owner, &p, err));
            (*ops)++;
        }
    }
    dl_fault_point("intent-before-commit");
    DL_TRY(dl_cat_commit(cat, err));
cleanup:
    if (rc != DL_OK) dl_cat_rollback(cat);
    return rc;
}

/* Step 3 (links) or step 4 (renames) of the protocol for every changed day. */
static int publish_pass(dl_lake_txn *txn, bool renames, dl_error *err) {
    dl_lake *lake = txn->lake;
    for (int i = 0; i < txn->num_ds; i++) {
        dataset_state *ds = &txn->ds[i];
        for (int64_t d = 0; d < ds->num_days; d++) {
            staged_day *sd = ds->days[d];
            if (!day_changed(sd)) continue;
            char live_rel[512], live[4096], other_rel[600], other[4096];
            int rc = dl_layout_day_path(ds->name, sd->day, live_rel, sizeof live_rel);
            if (rc == DL_OK) rc = dl_lake_abs_path(lake, live_rel, live, sizeof live, err);
            if (rc != DL_OK) return dl_error_set(err, DL_EINVAL, "path too long in %s", ds->name);
            if (renames) {
                rc = dl_lake_abs_path(lake, sd->tmp_rel, other, sizeof other, err);
                if (rc == DL_OK) rc = dl_fs_mkdirs_parent(live, err);
                if (rc != DL_OK) return rc;
                dl_fault_point("rename");
                /* A new day is linked, which fails rather than replace a file
                ** that appeared meanwhile; a replaced day is renamed over. */
                if (!sd->live && dl_io_link(other, live) != 0)
                    return dl_error_set(err, errno == EEXIST ? DL_ECONFLICT : DL_EIO,
                                        "cannot publish %s: %s", live, strerror(errno));
                if (!sd->live ? unlink(other) != 0 : dl_io_rename(other, live) != 0)
                    return dl_error_set(err, DL_EIO, "cannot rename %s to %s: %s", other, live,
                                        strerror(errno));
            } else if (sd->live) {
                if (dl_layout_archive_path(ds->name, sd->day, sd->live->version_added, other_rel,
                                           sizeof other_rel) != DL_OK)
                    return dl_error_set(err, DL_EINVAL, "path too long in %s", ds->name);
                rc = dl_lake_abs_path(lake, other_rel, other, sizeof other, err);
                if (rc == DL_OK) rc = dl_fs_mkdirs_parent(other, err);
                if (rc != DL_OK) return rc;
                dl_fault_point("link");
                /* A leftover from a rolled-back attempt would make link() fail. */
                if (unlink(other) != 0 && errno != ENOENT)
                    return dl_error_set(err, DL_EIO, "unlink %s: %s", other, strerror(errno));
                if (dl_io_link(live, other) != 0)
                    return dl_error_set(err, DL_EIO, "cannot keep %s as %s: %s", live, other,
                                        strerror(errno));
            }
        }
    }
    return DL_OK;
}

/* The catalog rows of one changed day: retire the old file, add the new. */
static int commit_day(dl_lake_txn *txn, dataset_state *ds, staged_day *sd, int64_t v,
                      dl_error *err) {
    dl_catalog *cat = txn->lake->cat;
    char live_rel[512], archive_rel[600];
    int rc = DL_OK;
    if (dl_layout_day_path(ds->name, sd->day, live_rel, sizeof live_rel) != DL_OK)
        return dl_error_set(err, DL_EINVAL, "path too long in %s", ds->name);
    if (sd->live) {
        if (dl_layout_archive_path(ds->name, sd->day, sd->live->version_added, archive_rel,
                                   sizeof archive_rel) != DL_OK)
            return dl_error_set(err, DL_EINVAL, "path too long in %s", ds->name);
        rc = dl_cat_retire_file(cat, sd->live->file_id, v, archive_rel, err);
        if (rc != DL_OK) return rc;
    }
    dl_cat_file_row f = {
        .dataset_id = ds->dataset_id,
        .day = sd->day,
        .path = live_rel,
        .sha256 = sd->sha256,
        .schema_json = (const char *)sd->schema_json.data,
        .bytes = sd->bytes,
        .rows = sd->rows,
        .ts_min = sd->ts_min,
        .ts_max = sd->ts_max,
        .version_added = v,
        .gaps = (const int64_t *)sd->gaps.data,
        .num_gaps = (int64_t)(sd->gaps.len / (3 * sizeof(int64_t))),
    };
    rc = dl_cat_add_file(cat, &f, NULL, err);
    /* A day marked missing by a repair is whole again. */
    if (rc == DL_OK) rc = dl_cat_clear_missing(cat, ds->dataset_id, sd->day, err);
    return rc;
}

/* The new version of one dataset (when any of its days changed). */
static int commit_dataset(dl_lake_txn *txn, dataset_state *ds, int64_t run_id, bool *created,
                          dl_buf *schema_json, dl_error *err) {
    dl_catalog *cat = txn->lake->cat;
    int64_t added = 0, replaced = 0, rows_written = 0;
    int rc = DL_OK;
    *created = false;
    for (int64_t d = 0; d < ds->num_days; d++) {
        if (!day_changed(ds->days[d])) continue;
        rows_written += ds->days[d]->rows;
        if (ds->days[d]->live)
            replaced++;
        else
            added++;
    }
    if (added + replaced == 0) return DL_OK;
    if (!ds->dataset_id)
        DL_TRY(dl_cat_create_dataset(cat, ds->name, &ds->id, ds->period_us, &ds->dataset_id, err));
    int64_t v = ds->version + 1;
    for (int64_t d = 0; d < ds->num_days; d++)
        if (day_changed(ds->days[d])) DL_TRY(commit_day(txn, ds, ds->days[d], v, err));
    dl_cat_version_row row = {ds->dataset_id, v,     dl_now_us(), run_id,
                              rows_written,   added, replaced,    txn->opts.message};
    DL_TRY(dl_cat_add_version(cat, &row, err));
    dl_buf_reset(schema_json);
    DL_TRY(dl_schema_to_json(&ds->union_schema, schema_json, err));
    DL_TRY(dl_cat_update_dataset(cat, ds->dataset_id, v, (const char *)schema_json->data, err));
    DL_TRY(dl_cat_refresh_gaps(cat, ds->dataset_id, ds->period_us, err));
    *created = true;
cleanup:
    return rc;
}

/* Step 5: the catalog learns the new state of every changed dataset. */
static int final_commit(dl_lake_txn *txn, dl_lake_write_result *res, dl_error *err) {
    int rc = DL_OK;
    dl_catalog *cat = txn->lake->cat;
    dl_buf schema_json = DL_BUF_INIT;
    int64_t run_id = 0, versions = 0, days = 0;
    for (int i = 0; i < txn->num_ds; i++)
        for (int64_t d = 0; d < txn->ds[i].num_days; d++) days += day_changed(txn->ds[i].days[d]);
    DL_TRY(dl_cat_begin(cat, err));
    dl_cat_run_row run = {
        txn->started_at,          dl_now_us(), txn->rows_in, days, 0, txn->opts.command,
        days ? "ok" : "unchanged"};
    DL_TRY(dl_cat_add_run(cat, &run, &run_id, err));
    for (int i = 0; i < txn->num_ds; i++) {
        bool created = false;
        DL_TRY(commit_dataset(txn, &txn->ds[i], run_id, &created, &schema_json, err));
        if (!created) continue;
        versions++;
        if (res) res->last_version = txn->ds[i].version + 1;
    }
    DL_TRY(dl_cat_set_run_versions(cat, run_id, versions, err));
    DL_TRY(dl_cat_clear_pending_owner(cat, txn->owner, err));
    dl_fault_point("final-before-commit");
    DL_TRY(dl_cat_commit(cat, err));
    dl_fault_point("final-after-commit");
    if (res) {
        res->run_id = run_id;
        res->days_written = days;
        res->versions_created = versions;
    }
cleanup:
    dl_buf_free(&schema_json);
    if (rc != DL_OK) dl_cat_rollback(cat);
    return rc;
}

int dl_lake_txn_commit(dl_lake_txn *txn, dl_lake_write_result *result, dl_error *err) {
    DL_REQUIRE(err, txn);
    int rc = DL_OK;
    dl_lake *lake = txn->lake;
    int64_t ops = 0, unchanged = 0, missing = 0;
    bool published = false;
    if (result) memset(result, 0, sizeof *result);
    DL_TRY(txn_failure(txn, err));
    for (int i = 0; i < txn->num_ds; i++)
        for (int64_t d = 0; d < txn->ds[i].num_days; d++)
            DL_TRY(submit_day(txn, txn->ds[i].days[d], err));
    DL_TRY(wait_all(txn, err));
    stop_workers(txn);
    for (int i = 0; i < txn->num_ds; i++)
        for (int64_t d = 0; d < txn->ds[i].num_days; d++)
            unchanged += txn->ds[i].days[d]->unchanged;
    for (int i = 0; i < txn->num_ds; i++)
        for (int64_t d = 0; d < txn->ds[i].num_days; d++) ops += day_changed(txn->ds[i].days[d]);
    if (ops > 0) {
        ops = 0;
        DL_TRY(write_intent(txn, &ops, err));
        published = true;
        DL_TRY(publish_pass(txn, false, err));
        dl_fault_point("sync-1");
        if (txn->opts.durable) DL_TRY(dl_fs_syncfs(lake->root_fd, err));
        DL_TRY(publish_pass(txn, true, err));
        dl_fault_point("sync-2");
        if (txn->opts.durable) DL_TRY(dl_fs_syncfs(lake->root_fd, err));
    }
    DL_TRY(final_commit(txn, result, err));
    published = false;
    /* The commit is durable; a failed backup leaves the previous one (the
    ** rebuild then re-indexes the newer files), so it does not fail it. */
    if (ops > 0) {
        dl_error backup_err;
        dl_lake_backup_catalog(lake, false, &backup_err);
    }
    if (result) {
        result->rows_in = txn->rows_in;
        result->days_unchanged = unchanged;
        if (dl_cat_total_missing(lake->cat, &missing, err) == DL_OK) result->missing = missing;
    }
cleanup:
    if (published) {
        /* A failed publish (disk full, I/O error) is undone right away, as
        ** the next open would: the previous state stays intact. */
        dl_error undo_err;
        for (int i = 0; i < txn->num_ds; i++)
            dl_lake_recover(lake, txn->ds[i].name, NULL, &undo_err);
    }
    free_txn(txn);
    return rc;
}

void dl_lake_txn_abort(dl_lake_txn *txn) {
    free_txn(txn);
}

int dl_lake_write(dl_lake *lake, const char *dataset, const dl_table *rows,
                  const dl_lake_write_options *opts, dl_lake_write_result *result, dl_error *err) {
    DL_REQUIRE(err, lake && dataset && rows);
    dl_lake_txn *txn = NULL;
    int rc = dl_lake_txn_begin(lake, &dataset, 1, opts, &txn, err);
    if (rc != DL_OK) return rc;
    rc = dl_lake_txn_append(txn, dataset, rows, err);
    if (rc != DL_OK) {
        dl_lake_txn_abort(txn);
        return rc;
    }
    return dl_lake_txn_commit(txn, result, err);
}
