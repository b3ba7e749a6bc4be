/*
** dl_lake_repair.c -- what a repair does with a lost or damaged file.
**
** A damaged file is moved to .dl/quarantine/ (never merged, never deleted)
** and the catalog stops claiming its bytes:
**   - a live day file: a new version of its dataset retires it; with
**     `restore`, the newest archived version of the day in .dl/versions/
**     whose bytes still match the catalog becomes the day's file again (a
**     hard link, so the archive stays valid); otherwise the day is marked
**     missing (dl_cat_mark_missing) until a write brings it back -- a
**     re-ingest of its source, which then writes the day afresh;
**   - an archived file: the versions that need it can no longer be read
**     (reading one names the lost day); newer versions are unaffected.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake/dl_catalog.h"
#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "lake/dl_layout.h"
#include "util/dl_internal.h"

/* Moves rel to .dl/quarantine/{rel}.{time}; DL_OK when it is gone already. */
static int quarantine_rel(dl_lake *lake, const char *rel, dl_error *err) {
    char from[4096], to_rel[4200], to[4096];
    int rc = dl_lake_abs_path(lake, rel, from, sizeof from, err);
    if (rc != DL_OK || !dl_fs_exists(from)) return rc;
    int n = snprintf(to_rel, sizeof to_rel, ".dl/quarantine/%s.%lld", rel, (long long)dl_now_us());
    if (n < 0 || (size_t)n >= sizeof to_rel) return dl_error_set(err, DL_EINVAL, "path too long");
    rc = dl_lake_abs_path(lake, to_rel, to, sizeof to, err);
    if (rc == DL_OK) rc = dl_fs_mkdirs_parent(to, err);
    if (rc == DL_OK && dl_io_rename(from, to) != 0)
        rc = dl_error_set(err, DL_EIO, "cannot move %s to %s: %s", from, to, strerror(errno));
    return rc;
}

/* Links the newest intact archive of the day to its live path; *restored
** tells whether one was found (its catalog row is *from_id). */
static int restore_day(dl_lake *lake, const dl_lake_damaged *d, bool *restored, int64_t *from_id,
                       dl_error *err) {
    char arch_rel[DL_CAT_PATH_MAX], sha[65], have[65], arch[4096], live[4096];
    bool found = false;
    dl_error ignored;
    *restored = false;
    int rc = dl_cat_latest_archive(lake->cat, d->dataset_id, d->day, &found, arch_rel, sha, from_id,
                                   err);
    if (rc != DL_OK || !found) return rc;
    rc = dl_lake_abs_path(lake, arch_rel, arch, sizeof arch, err);
    if (rc == DL_OK) rc = dl_lake_abs_path(lake, d->rel, live, sizeof live, err);
    if (rc != DL_OK) return rc;
    if (dl_sha256_file(arch, have, &ignored) != DL_OK || strcmp(have, sha) != 0) return DL_OK;
    rc = dl_fs_mkdirs_parent(live, err);
    if (rc == DL_OK && dl_io_link(arch, live) != 0)
        return dl_error_set(err, DL_EIO, "cannot restore %s from %s: %s", live, arch,
                            strerror(errno));
    *restored = rc == DL_OK;
    return rc;
}

/* One dataset's damaged live days, in one new version. */
static int repair_dataset(dl_lake *lake, const dl_cat_dataset_ref *ds, dl_lake_damaged *items,
                          int64_t n, bool restore, dl_verify_report *rep, dl_error *err) {
    int rc = DL_OK;
    bool found = false;
    dl_schema schema;
    dl_buf json = DL_BUF_INIT;
    dl_schema_init(&schema);
    int64_t v = ds->current_version + 1, replaced = 0;
    DL_TRY(dl_cat_dataset_state(lake->cat, ds->name, &found, NULL, NULL, &schema, err));
    DL_TRY(dl_schema_to_json(&schema, &json, err));
    DL_TRY(dl_cat_begin(lake->cat, err));
    for (int64_t i = 0; i < n; i++) {
        dl_lake_damaged *d = &items[i];
        if (d->dataset_id != ds->id || !d->live) continue;
        bool restored = false;
        int64_t from_id = 0;
        DL_TRY(quarantine_rel(lake, d->rel, err));
        if (restore) DL_TRY(restore_day(lake, d, &restored, &from_id, err));
        DL_TRY(dl_cat_retire_file(lake->cat, d->file_id, v, NULL, err));
        if (restored)
            DL_TRY(dl_cat_clone_file(lake->cat, from_id, d->rel, v, NULL, err));
        else
            DL_TRY(dl_cat_mark_missing(lake->cat, ds->id, d->day, v,
                                       d->missing ? "its file was missing" : "its file was damaged",
                                       err));
        replaced++;
        dl_verify_issue *is = &rep->issues[d->issue];
        is->repaired = true;
        size_t len = strlen(is->detail);
        snprintf(is->detail + len, sizeof is->detail - len, "; %s",
                 restored ? "quarantined and restored from its newest archived version"
                          : "quarantined; the day is marked missing until its source is "
                            "written again");
    }
    dl_cat_version_row row = {ds->id, v, dl_now_us(), 0,
                              0,      0, replaced,    "repair: lost or damaged day files retired"};
    DL_TRY(dl_cat_add_version(lake->cat, &row, err));
    DL_TRY(dl_cat_update_dataset(lake->cat, ds->id, v, (const char *)json.data, err));
    DL_TRY(dl_cat_refresh_gaps(lake->cat, ds->id, ds->period_us, err));
    DL_TRY(dl_cat_commit(lake->cat, err));
cleanup:
    if (rc != DL_OK) dl_cat_rollback(lake->cat);
    dl_schema_free(&schema);
    dl_buf_free(&json);
    return rc;
}

int dl_lake_repair_damaged(dl_lake *lake, dl_lake_damaged *items, int64_t n, bool restore,
                           dl_verify_report *rep, dl_error *err) {
    int rc = DL_OK;
    dl_cat_dataset_ref *refs = NULL;
    int64_t num_refs = 0;
    if (n == 0) return DL_OK;
    DL_TRY(dl_cat_dataset_refs(lake->cat, NULL, &refs, &num_refs, err));
    for (int64_t k = 0; k < num_refs; k++) {
        bool any = false;
        for (int64_t i = 0; i < n; i++) any |= items[i].dataset_id == refs[k].id && items[i].live;
        if (any) DL_TRY(repair_dataset(lake, &refs[k], items, n, restore, rep, err));
    }
    /* Archived files: their bytes are gone from the catalog's view. */
    for (int64_t i = 0; i < n; i++) {
        if (items[i].live) continue;
        DL_TRY(quarantine_rel(lake, items[i].rel, err));
        DL_TRY(dl_cat_forget_archive(lake->cat, items[i].file_id, err));
        dl_verify_issue *is = &rep->issues[items[i].issue];
        is->repaired = true;
        size_t len = strlen(is->detail);
        snprintf(is->detail + len, sizeof is->detail - len,
                 "; quarantined: the versions that need it can no longer be read");
    }
    dl_error backup_err; /* as after a write: the previous backup stays on failure */
    dl_lake_backup_catalog(lake, true, &backup_err);
cleanup:
    free(refs);
    return rc;
}
