/*
** dl_lake_verify.c -- integrity checks and retention: `dl verify`
** (re-hash every catalogued file, find missing and unregistered files,
** unfinished commits and stray temporary files) and `dl vacuum` (delete
** archived versions past a retention).
*/
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "lake/dl_layout.h"
#include "util/dl_internal.h"

const char *dl_verify_kind_name(dl_verify_kind kind) {
    switch (kind) {
    case DL_VERIFY_MISMATCH:
        return "mismatch";
    case DL_VERIFY_MISSING:
        return "missing";
    case DL_VERIFY_UNREGISTERED:
        return "unregistered";
    case DL_VERIFY_STRAY_TMP:
        return "stray-tmp";
    case DL_VERIFY_PENDING:
        return "pending";
    }
    return "?";
}

static int add_issue(dl_verify_report *rep, dl_verify_kind kind, const char *path, bool repaired,
                     dl_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static int add_issue(dl_verify_report *rep, dl_verify_kind kind, const char *path, bool repaired,
                     dl_error *err, const char *fmt, ...) {
    if ((rep->count & (rep->count - 1)) == 0) { /* grow at powers of two */
        int64_t cap = rep->count ? 2 * rep->count : 8;
        dl_verify_issue *grown = realloc(rep->issues, (size_t)cap * sizeof *grown);
        if (!grown) return dl_error_set(err, DL_ENOMEM, "out of memory");
        rep->issues = grown;
    }
    dl_verify_issue *is = &rep->issues[rep->count++];
    memset(is, 0, sizeof *is);
    is->kind = kind;
    is->repaired = repaired;
    snprintf(is->path, sizeof is->path, "%s", path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->detail, sizeof is->detail, fmt, ap);
    va_end(ap);
    return DL_OK;
}

void dl_verify_report_free(dl_verify_report *report) {
    if (!report) return;
    free(report->issues);
    memset(report, 0, sizeof *report);
}

typedef struct path_set {
    char **items;
    int64_t count, cap;
} path_set;

static int set_add(path_set *s, const char *p) {
    if (s->count == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 256;
        char **grown = realloc(s->items, (size_t)cap * sizeof *grown);
        if (!grown) return DL_ENOMEM;
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->count] = strdup(p);
    if (!s->items[s->count]) return DL_ENOMEM;
    s->count++;
    return DL_OK;
}
static int compare_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}
static bool set_has(const path_set *s, const char *p) {
    if (s->count == 0) return false; /* items is NULL: bsearch wants an array */
    return bsearch(&p, s->items, (size_t)s->count, sizeof *s->items, compare_str) != NULL;
}
static void set_free(path_set *s) {
    for (int64_t i = 0; i < s->count; i++) free(s->items[i]);
    free(s->items);
}

typedef struct walk_ctx {
    dl_lake *lake;
    const path_set *known;
    bool repair;
    dl_verify_report *rep;
    dl_error *err;
} walk_ctx;

/* Walks the live tree below rel ("" = root, skipping .dl) for files the
** catalog does not know. */
static int walk_tree(walk_ctx *w, const char *rel) {
    char abs[4096];
    int rc = rel[0] ? dl_lake_abs_path(w->lake, rel, abs, sizeof abs, w->err)
                    : (snprintf(abs, sizeof abs, "%s", w->lake->root), DL_OK);
    if (rc != DL_OK) return rc;
    DIR *d = opendir(abs);
    if (!d)
        return errno == ENOENT
                   ? DL_OK
                   : dl_error_set(w->err, DL_EIO, "opendir %s: %s", abs, strerror(errno));
    struct dirent *e;
    while (rc == DL_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (!rel[0] && strcmp(e->d_name, ".dl") == 0) continue;
        char child[4096], child_abs[4096];
        int n = snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof child) continue;
        rc = dl_lake_abs_path(w->lake, child, child_abs, sizeof child_abs, w->err);
        struct stat st;
        if (rc != DL_OK || lstat(child_abs, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            rc = walk_tree(w, child);
            continue;
        }
        if (set_has(w->known, child)) continue;
        bool moved = false;
        if (w->repair) {
            char q_rel[4200], q[4096];
            n = snprintf(q_rel, sizeof q_rel, ".dl/quarantine/%s", child);
            if (n > 0 && (size_t)n < sizeof q_rel &&
                dl_lake_abs_path(w->lake, q_rel, q, sizeof q, w->err) == DL_OK &&
                dl_fs_mkdirs_parent(q, w->err) == DL_OK && dl_io_rename(child_abs, q) == 0)
                moved = true;
        }
        rc = add_issue(w->rep, DL_VERIFY_UNREGISTERED, child, moved, w->err, "not in the catalog%s",
                       moved ? "; moved to .dl/quarantine/" : "");
    }
    closedir(d);
    return rc;
}

int dl_lake_verify(dl_lake *lake, const char *dataset, bool repair, dl_verify_report *out,
                   dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    path_set known = {0};
    char name[DL_DATASET_NAME_MAX] = "";
    memset(out, 0, sizeof *out);
    if (dataset) {
        dl_dataset_id id;
        DL_TRY(dl_dataset_parse(dataset, &id, err));
        dl_dataset_format(&id, name, sizeof name);
        DL_TRY(dl_cat_dataset_id(lake->db, name, NULL, NULL, err));
    }
    if (repair) {
        int64_t undone = 0, removed = 0;
        DL_TRY(dl_lake_recover(lake, NULL, &undone, err));
        DL_TRY(dl_lake_clean_staging(lake, &removed, err));
        if (undone)
            DL_TRY(add_issue(out, DL_VERIFY_PENDING, ".dl/catalog.db", true, err,
                             "%lld operations of an unfinished commit rolled back",
                             (long long)undone));
        if (removed)
            DL_TRY(add_issue(out, DL_VERIFY_STRAY_TMP, ".dl/tmp", true, err,
                             "%lld staging entries of dead writers removed", (long long)removed));
    }
    DL_TRY(dl_cat_prepare(lake->db, "SELECT count(*) FROM pending", &st, err));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
        DL_TRY(add_issue(out, DL_VERIFY_PENDING, ".dl/catalog.db", false, err,
                         "%lld pending operations of a writer still running (or locked)",
                         (long long)sqlite3_column_int64(st, 0)));
    sqlite3_finalize(st);
    st = NULL;
    DL_TRY(dl_cat_prepare(
        lake->db,
        "SELECT CASE WHEN f.version_removed IS NULL THEN f.path ELSE f.archive_path END,"
        " f.sha256, f.bytes, f.version_removed IS NULL FROM files f"
        " JOIN datasets d ON d.id = f.dataset_id WHERE (?1 = '' OR d.name = ?1)"
        " ORDER BY 1",
        &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rel = (const char *)sqlite3_column_text(st, 0);
        const char *want = (const char *)sqlite3_column_text(st, 1);
        char abs[4096], have[65];
        bool live = sqlite3_column_int(st, 3) != 0;
        if (live && set_add(&known, rel) != DL_OK) DL_FAIL(err, DL_ENOMEM, "out of memory");
        DL_TRY(dl_lake_abs_path(lake, rel, abs, sizeof abs, err));
        dl_error hash_err;
        int hrc = dl_sha256_file(abs, have, &hash_err);
        out->files_checked++;
        if (hrc == DL_ENOTFOUND) {
            DL_TRY(add_issue(out, DL_VERIFY_MISSING, rel, false, err, "%s file is missing",
                             live ? "live" : "archived"));
            continue;
        }
        if (hrc != DL_OK) {
            DL_TRY(add_issue(out, DL_VERIFY_MISSING, rel, false, err, "unreadable: %s",
                             hash_err.message));
            continue;
        }
        out->bytes_checked += dl_fs_size(abs);
        if (strcmp(have, want) != 0)
            DL_TRY(add_issue(out, DL_VERIFY_MISMATCH, rel, false, err,
                             "SHA-256 is %.16s..., the catalog recorded %.16s...", have, want));
    }
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(lake->db, "listing files", err));
    if (known.count) qsort(known.items, (size_t)known.count, sizeof *known.items, compare_str);
    walk_ctx w = {lake, &known, repair, out, err};
    DL_TRY(walk_tree(&w, name));
cleanup:
    sqlite3_finalize(st);
    set_free(&known);
    if (rc != DL_OK) dl_verify_report_free(out);
    return rc;
}

/* ---- vacuum ---- */

/* The oldest version of a dataset that must stay readable. */
static int retained_from(dl_lake *lake, int64_t dataset_id, int64_t current,
                         const dl_lake_vacuum_options *opts, int64_t *keep_from, dl_error *err) {
    int64_t k = current;
    if (opts->keep_versions > 0) k = DL_MAX(1, current - opts->keep_versions + 1);
    if (opts->older_than_us > 0) {
        /* Versions superseded before the cutoff go; the one current at the
        ** cutoff stays readable. */
        sqlite3_stmt *st = NULL;
        int rc =
            dl_cat_prepare(lake->db,
                           "SELECT coalesce(max(version), 1) FROM versions WHERE dataset_id = ?"
                           " AND committed_at <= ?",
                           &st, err);
        if (rc != DL_OK) return rc;
        sqlite3_bind_int64(st, 1, dataset_id);
        sqlite3_bind_int64(st, 2, dl_now_us() - opts->older_than_us);
        int64_t by_age = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
        sqlite3_finalize(st);
        k = opts->keep_versions > 0 ? DL_MIN(k, by_age) : by_age;
    }
    *keep_from = DL_MIN(DL_MAX(k, 1), DL_MAX(current, 1));
    return DL_OK;
}

int dl_lake_vacuum(dl_lake *lake, const char *dataset, const dl_lake_vacuum_options *opts,
                   dl_lake_vacuum_result *out, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *ds = NULL, *files = NULL, *del = NULL, *mark = NULL;
    path_set doomed = {0};
    char name[DL_DATASET_NAME_MAX] = "";
    memset(out, 0, sizeof *out);
    if (opts->keep_versions <= 0 && opts->older_than_us <= 0)
        return dl_error_set(err, DL_EINVAL,
                            "vacuum needs a retention: --keep-versions N or --older-than DURATION");
    if (dataset) {
        dl_dataset_id id;
        DL_TRY(dl_dataset_parse(dataset, &id, err));
        dl_dataset_format(&id, name, sizeof name);
        DL_TRY(dl_cat_dataset_id(lake->db, name, NULL, NULL, err));
    }
    DL_TRY(dl_cat_exec(lake->db, "BEGIN IMMEDIATE", err));
    DL_TRY(dl_cat_prepare(lake->db,
                          "SELECT id, current_version FROM datasets WHERE (?1 = '' OR name = ?1)",
                          &ds, err));
    sqlite3_bind_text(ds, 1, name, -1, SQLITE_STATIC);
    DL_TRY(dl_cat_prepare(lake->db,
                          "SELECT id, archive_path, bytes FROM files WHERE dataset_id = ?"
                          " AND version_removed IS NOT NULL AND version_removed <= ?",
                          &files, err));
    DL_TRY(dl_cat_prepare(lake->db, "DELETE FROM files WHERE id = ?", &del, err));
    DL_TRY(dl_cat_prepare(lake->db,
                          "UPDATE versions SET vacuumed = 1 WHERE dataset_id = ? AND version < ?"
                          " AND vacuumed = 0",
                          &mark, err));
    while (sqlite3_step(ds) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(ds, 0), current = sqlite3_column_int64(ds, 1), keep = 0;
        DL_TRY(retained_from(lake, id, current, opts, &keep, err));
        sqlite3_reset(files);
        sqlite3_bind_int64(files, 1, id);
        sqlite3_bind_int64(files, 2, keep);
        while (sqlite3_step(files) == SQLITE_ROW) {
            out->files_removed++;
            out->bytes_freed += sqlite3_column_int64(files, 2);
            if (sqlite3_column_type(files, 1) != SQLITE_NULL &&
                set_add(&doomed, (const char *)sqlite3_column_text(files, 1)) != DL_OK)
                DL_FAIL(err, DL_ENOMEM, "out of memory");
            if (!opts->dry_run) {
                sqlite3_reset(del);
                sqlite3_bind_int64(del, 1, sqlite3_column_int64(files, 0));
                DL_TRY(dl_cat_step_done(lake->db, del, "deleting a file row", err));
            }
        }
        sqlite3_reset(mark);
        sqlite3_bind_int64(mark, 1, id);
        sqlite3_bind_int64(mark, 2, keep);
        if (!opts->dry_run) {
            DL_TRY(dl_cat_step_done(lake->db, mark, "marking versions", err));
            out->versions_vacuumed += sqlite3_changes(lake->db);
        }
    }
    /* Catalog first, files second: a crash in between leaves only
    ** unreferenced archive files, never a catalogued file that is gone. */
    DL_TRY(dl_cat_exec(lake->db, opts->dry_run ? "ROLLBACK" : "COMMIT", err));
    for (int64_t i = 0; !opts->dry_run && i < doomed.count; i++) {
        char abs[4096];
        if (dl_lake_abs_path(lake, doomed.items[i], abs, sizeof abs, err) == DL_OK) unlink(abs);
    }
cleanup:
    if (rc != DL_OK) sqlite3_exec(lake->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(ds);
    sqlite3_finalize(files);
    sqlite3_finalize(del);
    sqlite3_finalize(mark);
    set_free(&doomed);
    return rc;
}
