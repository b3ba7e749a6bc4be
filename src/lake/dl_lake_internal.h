/*
** dl_lake_internal.h -- the lake handle and helpers shared by the files of
** src/lake (catalog access, schema JSON, table merging).  Not public.
*/
#ifndef DL_LAKE_INTERNAL_H
#define DL_LAKE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"
#include "util/dl_buf.h"
#include "util/dl_table_ops.h"

struct dl_catalog;

struct dl_lake {
    char *root;             /* owned, no trailing slash */
    int root_fd;            /* O_RDONLY on the root: syncfs target */
    struct dl_catalog *cat; /* the catalog (dl_catalog.h) */
    bool read_only;
    /* dl_lake_set_lock_wait: how writers wait for a dataset lock */
    int64_t lock_timeout_ms;
    void (*lock_notify)(void *ctx, const char *message);
    void *lock_notify_ctx;
};

int64_t dl_now_us(void);

/* ---- schema <-> JSON text (dl_schema_json.c) ---- */

/* [{"name":"ts","type":"TIMESTAMP","unit":"us","utc":true,"nullable":false},..] */
int dl_schema_to_json(const dl_schema *schema, dl_buf *out, dl_error *err);
int dl_schema_from_json(const char *json, dl_schema *out, dl_error *err);

/* ---- tables (dl_lake_table.c) ---- */

/* dl_schema_union, dl_table_conform: util/dl_table_ops.h (shared with the query engine) */
/* Index of the secondary dedupe key column (available_at as a TIMESTAMP for
** feature rows; else trade_id, agg_trade_id or id,
** integer typed) or -1: ticks share timestamps, their ids tell them apart. */
int dl_table_key_column(const dl_schema *schema);
/* Merges `old_rows` and `new_rows` (both laid out as the same schema) into
** *out: sorted by (ts, key), one row per key, rows of new_rows win (and
** within one table the later row wins).  *out is initialised. */
int dl_table_merge_upsert(const dl_table *old_rows, const dl_table *new_rows, dl_table *out,
                          dl_error *err);

/* The gaps between consecutive rows of one day (ts sorted, us) as int64
** triples (first missing period start, last, count) into out (reset). */
int dl_lake_day_gaps(const int64_t *ts, int64_t n, int64_t period_us, dl_buf *out, dl_error *err);

/* Appends an issue to a verify report (dl_lake_verify.c; also used by the
** feature store's lineage check). */
int dl_verify_add_issue(dl_verify_report *rep, dl_verify_kind kind, const char *path, bool repaired,
                        dl_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* ---- recovery (dl_lake.c) ---- */

/* Rolls back the unfinished commits of dead writers.  With `dataset` set
** the caller already holds that dataset's lock; with NULL every dataset
** whose lock can be taken without waiting is recovered.  Adds the number of
** operations undone to *undone (may be NULL). */
int dl_lake_recover(dl_lake *lake, const char *dataset, int64_t *undone, dl_error *err);
/* Removes the staging directories of dead writers below .dl/tmp. */
int dl_lake_clean_staging(dl_lake *lake, int64_t *removed, dl_error *err);
/* Prefixes err's message with `path` unless it names it already: a message
** names a path once. */
void dl_lake_name_path(dl_error *err, const char *path);
/* Copies the catalog to .dl/catalog.db.bak (online backup API, atomic
** rename), so a lost catalog keeps its versions: after every commit while
** the catalog is at most DL_BACKUP_EVERY_COMMIT_BYTES, else (or unless
** `always`) when the backup is older than DL_BACKUP_CHECKPOINT_SECONDS. */
#define DL_BACKUP_EVERY_COMMIT_BYTES (8 << 20)
#define DL_BACKUP_CHECKPOINT_SECONDS 60
int dl_lake_backup_catalog(dl_lake *lake, bool always, dl_error *err);
/* A catalogued file verify found missing or damaged (dl_lake_repair.c). */
typedef struct dl_lake_damaged {
    int64_t file_id, dataset_id;
    int32_t day;
    bool live, missing;
    int64_t issue; /* its entry in the verify report */
    char rel[640];
} dl_lake_damaged;
/* Quarantines them and retires them in the catalog: a live day is restored
** from its newest intact archive (restore) or marked missing; the issues
** are marked repaired. */
int dl_lake_repair_damaged(dl_lake *lake, dl_lake_damaged *items, int64_t n, bool restore,
                           dl_verify_report *rep, dl_error *err);
/* root + "/" + rel into buf. */
int dl_lake_abs_path(const dl_lake *lake, const char *rel, char *buf, size_t size, dl_error *err);

#endif
