/*
** dl_catalog.h -- the lake catalog ({root}/.dl/catalog.db): the only module
** of the library that speaks SQL.  Everything else asks it questions and
** hands it facts through the functions below; no other file includes
** sqlite3.h.  Internal to src/lake (and the modules built on the lake).
**
** The stored format is versioned (PRAGMA user_version = number of
** migrations applied); dl_catalog.c explains how to add a table.
*/
#ifndef DL_CATALOG_H
#define DL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"

typedef struct dl_catalog dl_catalog;

/* Longest relative path the catalog stores (day files, archives, tmp). */
#define DL_CAT_PATH_MAX 640

typedef enum dl_cat_mode {
    DL_CAT_READ,   /* read-only: no write, no journal change (see dl_catalog.c) */
    DL_CAT_WRITE,  /* read-write on an existing catalog; migrates an older one */
    DL_CAT_CREATE, /* read-write, creating the file and the tables if missing */
} dl_cat_mode;

/* Opens {root}/.dl/catalog.db.  DL_ENOTFOUND when it does not exist (and
** mode is not CREATE), DL_ECORRUPT for a file that is not a catalog, and
** DL_EUNSUPPORTED for a catalog written by a newer
** libdatalake.  An older catalog is migrated in WRITE/CREATE mode and
** refused in READ mode (it cannot be changed there). */
int dl_cat_open(const char *root, dl_cat_mode mode, dl_catalog **out, dl_error *err);
/* The same on a catalog file at another path (a rebuild in progress). */
int dl_cat_open_file(const char *root, const char *path, dl_cat_mode mode, dl_catalog **out,
                     dl_error *err);
void dl_cat_close(dl_catalog *cat);
/* The format version this library writes (= number of migrations). */
int dl_cat_format_version(void);
/* True when the open catalog is a read-only snapshot (immutable or a
** private copy): a directory we cannot write. */
bool dl_cat_is_snapshot(const dl_catalog *cat);
/* Path of the catalog file (borrowed). */
const char *dl_cat_path(const dl_catalog *cat);
/* Checks a file is a readable catalog of a format we know (quick_check,
** user_version): used to trust a backup. */
int dl_cat_check_file(const char *path, dl_error *err);

/* ---- transactions ---- */

/* BEGIN IMMEDIATE: the write lock of the catalog (SQLite), for one commit. */
int dl_cat_begin(dl_catalog *cat, dl_error *err);
int dl_cat_commit(dl_catalog *cat, dl_error *err);
void dl_cat_rollback(dl_catalog *cat);
/* A read snapshot (deferred BEGIN): every query until dl_cat_end_read sees
** one committed state. */
int dl_cat_begin_read(dl_catalog *cat, dl_error *err);
void dl_cat_end_read(dl_catalog *cat);

/* Copies the catalog with SQLite's online backup API to dest_tmp, fsyncs
** it and renames it to dest (atomic: dest is always a whole catalog). */
int dl_cat_backup(dl_catalog *cat, const char *dest_tmp, const char *dest, dl_error *err);

/* ---- datasets ---- */

int dl_cat_dataset_id(dl_catalog *cat, const char *name, int64_t *id, int64_t *current_version,
                      dl_error *err);
/* Every dataset (name NULL) or one: the public info records, by name. */
int dl_cat_dataset_infos(dl_catalog *cat, const char *name, dl_dataset_info **out, int64_t *count,
                         dl_error *err);
/* Appends the stored union schema of a dataset to *schema (initialised by
** the caller).  *found false (and nothing appended) when it does not exist. */
int dl_cat_dataset_state(dl_catalog *cat, const char *name, bool *found, int64_t *id,
                         int64_t *current_version, dl_schema *schema, dl_error *err);
int dl_cat_create_dataset(dl_catalog *cat, const char *name, const dl_dataset_id *parts,
                          int64_t period_us, int64_t *id, dl_error *err);
int dl_cat_update_dataset(dl_catalog *cat, int64_t id, int64_t version, const char *schema_json,
                          dl_error *err);
/* (id, current_version) of every dataset, or of `name` only. */
typedef struct dl_cat_dataset_ref {
    int64_t id, current_version, period_us;
    char name[DL_DATASET_NAME_MAX];
} dl_cat_dataset_ref;
int dl_cat_dataset_refs(dl_catalog *cat, const char *name, dl_cat_dataset_ref **out, int64_t *count,
                        dl_error *err);

/* ---- versions ---- */

/* *readable false when version was vacuumed (or is not recorded). */
int dl_cat_version_readable(dl_catalog *cat, int64_t dataset_id, int64_t version, bool *readable,
                            dl_error *err);
/* The last version committed at or before `at`; DL_ENOTFOUND if none. */
int dl_cat_version_at(dl_catalog *cat, int64_t dataset_id, int64_t at, int64_t *version,
                      dl_error *err);
int dl_cat_history(dl_catalog *cat, int64_t dataset_id, dl_lake_version **out, int64_t *count,
                   dl_error *err);
typedef struct dl_cat_version_row {
    int64_t dataset_id, version, committed_at, run_id, rows_written, files_added, files_replaced;
    const char *message;
} dl_cat_version_row;
int dl_cat_add_version(dl_catalog *cat, const dl_cat_version_row *v, dl_error *err);
/* The same, unless that version is recorded already (a rebuild). */
int dl_cat_add_version_if_missing(dl_catalog *cat, const dl_cat_version_row *v, dl_error *err);
/* Marks versions < keep_from vacuumed; *marked = how many changed. */
int dl_cat_mark_vacuumed(dl_catalog *cat, int64_t dataset_id, int64_t keep_from, int64_t *marked,
                         dl_error *err);

/* The oldest version of the dataset that must stay readable because a
** live feature version was derived from it (view version_pins); 0 = none. */
int dl_cat_oldest_pinned(dl_catalog *cat, int64_t dataset_id, int64_t *version, dl_error *err);

/* ---- files ---- */

/* The live file of one day as a writer needs it. */
typedef struct dl_cat_live_file {
    int32_t day;
    int64_t file_id, version_added, bytes;
    char sha256[65];
} dl_cat_live_file;
int dl_cat_live_files(dl_catalog *cat, int64_t dataset_id, dl_cat_live_file **out, int64_t *count,
                      dl_error *err);
/* Files of a dataset visible at `version` overlapping [from, to], paths
** made absolute with root.  Fills the public list (dl_lake_file_list_free). */
int dl_cat_files_at(dl_catalog *cat, const char *root, int64_t dataset_id, int64_t version,
                    int64_t ts_from, int64_t ts_to, dl_lake_file_list *out, dl_error *err);
typedef struct dl_cat_file_row {
    int64_t dataset_id;
    int32_t day;
    const char *path, *sha256, *schema_json;
    int64_t bytes, rows, ts_min, ts_max, version_added;
    int64_t version_removed;  /* 0 = live */
    const char *archive_path; /* NULL unless removed and its bytes kept */
    const int64_t *gaps;      /* num_gaps triples (from, to, missing) */
    int64_t num_gaps;
} dl_cat_file_row;
int dl_cat_add_file(dl_catalog *cat, const dl_cat_file_row *f, int64_t *file_id, dl_error *err);
/* The file leaves the live set at `version`; its bytes are at archive_rel
** (NULL: its bytes are gone). */
int dl_cat_retire_file(dl_catalog *cat, int64_t file_id, int64_t version, const char *archive_rel,
                       dl_error *err);
int dl_cat_delete_file(dl_catalog *cat, int64_t file_id, dl_error *err);
/* An archived file's bytes are lost: the catalog stops pointing at them. */
int dl_cat_forget_archive(dl_catalog *cat, int64_t file_id, dl_error *err);

/* Every catalogued file (of one dataset when name is set), in path order:
** the relative path where its bytes are, its recorded SHA-256, size, and
** whether it is live.  Stops at the first non-DL_OK return of fn. */
typedef int (*dl_cat_file_fn)(void *ctx, int64_t file_id, int64_t dataset_id, int32_t day,
                              const char *rel, const char *sha256, int64_t bytes, bool live,
                              dl_error *err);
int dl_cat_each_file(dl_catalog *cat, const char *name, dl_cat_file_fn fn, void *ctx,
                     dl_error *err);
/* Superseded files whose last version is below keep_from. */
typedef int (*dl_cat_superseded_fn)(void *ctx, int64_t file_id, const char *archive_rel,
                                    int64_t bytes, dl_error *err);
int dl_cat_each_superseded(dl_catalog *cat, int64_t dataset_id, int64_t keep_from,
                           dl_cat_superseded_fn fn, void *ctx, dl_error *err);
/* The newest archived (superseded, bytes kept) file of one day. */
int dl_cat_latest_archive(dl_catalog *cat, int64_t dataset_id, int32_t day, bool *found,
                          char archive_rel[DL_CAT_PATH_MAX], char sha256[65], int64_t *file_id,
                          dl_error *err);
/* Copies the metadata of file `from_id` into a new live file row at
** `path` added in `version` (a restore of an archived day). */
int dl_cat_clone_file(dl_catalog *cat, int64_t from_id, const char *path, int64_t version,
                      int64_t *file_id, dl_error *err);

/* Does a file row keep its bytes at archive path `rel`? */
int dl_cat_archive_known(dl_catalog *cat, const char *rel, bool *known, dl_error *err);
/* The first version after `version` that added a file for the day (0: none). */
int dl_cat_next_version_of_day(dl_catalog *cat, int64_t dataset_id, int32_t day, int64_t version,
                               int64_t *next, dl_error *err);

/* ---- gaps ---- */

int dl_cat_gaps(dl_catalog *cat, int64_t dataset_id, dl_lake_gap **out, int64_t *count,
                dl_error *err);
/* Recomputes the stored gaps of a dataset from its live files (inside the
** caller's transaction). */
int dl_cat_refresh_gaps(dl_catalog *cat, int64_t dataset_id, int64_t period_us, dl_error *err);
int dl_cat_total_missing(dl_catalog *cat, int64_t *missing, dl_error *err);

/* ---- missing days (a damaged or lost day file, see dl_lake_verify.c) ---- */

int dl_cat_mark_missing(dl_catalog *cat, int64_t dataset_id, int32_t day, int64_t version,
                        const char *reason, dl_error *err);
/* Forgets the mark (the day was re-ingested or restored). */
int dl_cat_clear_missing(dl_catalog *cat, int64_t dataset_id, int32_t day, dl_error *err);
typedef int (*dl_cat_missing_fn)(void *ctx, const char *dataset, int32_t day, int64_t version,
                                 const char *reason, dl_error *err);
int dl_cat_each_missing(dl_catalog *cat, const char *name, dl_cat_missing_fn fn, void *ctx,
                        dl_error *err);

/* ---- runs ---- */

typedef struct dl_cat_run_row {
    int64_t started_at, finished_at, rows_in, days_written, versions_created;
    const char *command, *status;
} dl_cat_run_row;
int dl_cat_add_run(dl_catalog *cat, const dl_cat_run_row *r, int64_t *run_id, dl_error *err);
int dl_cat_set_run_versions(dl_catalog *cat, int64_t run_id, int64_t versions, dl_error *err);

/* ---- the write intent (pending publish operations) ---- */

typedef struct dl_cat_pending {
    char dataset[DL_DATASET_NAME_MAX];
    char live[DL_CAT_PATH_MAX], tmp[DL_CAT_PATH_MAX], archive[DL_CAT_PATH_MAX];
    char old_sha[65], new_sha[65]; /* old_sha "" for a new day */
    bool has_archive;
} dl_cat_pending;
int dl_cat_add_pending(dl_catalog *cat, const char *owner, const dl_cat_pending *p, dl_error *err);
/* Pending operations of one dataset (NULL: all), newest first. */
int dl_cat_pending_list(dl_catalog *cat, const char *dataset, dl_cat_pending **out, int64_t *count,
                        dl_error *err);
int dl_cat_clear_pending_dataset(dl_catalog *cat, const char *dataset, dl_error *err);
int dl_cat_clear_pending_owner(dl_catalog *cat, const char *owner, dl_error *err);
int dl_cat_pending_count(dl_catalog *cat, int64_t *count, dl_error *err);

#endif
