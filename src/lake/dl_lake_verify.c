/*
** dl_lake_verify.c -- integrity checks and retention: `dl verify`
** (re-hash every catalogued file, find missing and unregistered files,
** unfinished commits and stray temporary files) and `dl vacuum` (delete
** archived versions past a retention).
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake/dl_catalog.h"
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
    case DL_VERIFY_FOREIGN:
        return "foreign";
    case DL_VERIFY_MISSING_DAY:
        return "missing-day";
    case DL_VERIFY_LINEAGE:
        return "lineage";
    }
    return "?";
}

int dl_verify_add_issue(dl_verify_report *rep, dl_verify_kind kind, const char *path, bool repaired,
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

/* Moves a lake file to .dl/quarantine/{rel} (never deletes). */
static bool quarantine(dl_lake *lake, const char *rel, const char *abs, dl_error *err) {
    char q_rel[4200], q[4096];
    int n = snprintf(q_rel, sizeof q_rel, ".dl/quarantine/%s", rel);
    if (n < 0 || (size_t)n >= sizeof q_rel) return false;
    if (dl_lake_abs_path(lake, q_rel, q, sizeof q, err) != DL_OK) return false;
    if (dl_fs_exists(q)) { /* an earlier quarantine of the same path: keep both */
        n = snprintf(q_rel, sizeof q_rel, ".dl/quarantine/%s.%lld", rel, (long long)dl_now_us());
        if (n < 0 || (size_t)n >= sizeof q_rel ||
            dl_lake_abs_path(lake, q_rel, q, sizeof q, err) != DL_OK)
            return false;
    }
    return dl_fs_mkdirs_parent(q, err) == DL_OK && dl_io_rename(abs, q) == 0;
}

/* Walks the live tree below rel ("" = root, skipping .dl) for files the
** catalog does not know.  Only names of the lake's layout are the lake's:
** an unknown day file there is quarantined by a repair; anything else
** (other names, other depths, symlinks) is foreign, reported once at its
** top and never touched. */
static int walk_tree(walk_ctx *w, const char *rel, int depth) {
    char abs[4096];
    int rc = rel[0] ? dl_lake_abs_path(w->lake, rel, abs, sizeof abs, w->err)
                    : (snprintf(abs, sizeof abs, "%s", w->lake->root), DL_OK);
    if (rc != DL_OK) return rc;
    DIR *d = opendir(abs);
    if (!d)
        return errno == ENOENT
                   ? DL_OK
                   : dl_error_set(w->err, DL_EIO, "cannot list %s: %s", abs, strerror(errno));
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
        dl_layout_kind kind = S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)
                                  ? dl_layout_classify(e->d_name, depth, S_ISDIR(st.st_mode))
                                  : DL_LAYOUT_FOREIGN;
        if (kind == DL_LAYOUT_FOREIGN) {
            rc = dl_verify_add_issue(w->rep, DL_VERIFY_FOREIGN, child, false, w->err,
                                     "not part of the lake's layout; left in place");
            continue;
        }
        if (kind == DL_LAYOUT_DIR) {
            rc = walk_tree(w, child, depth + 1);
            continue;
        }
        if (set_has(w->known, child)) continue;
        bool moved = w->repair && quarantine(w->lake, child, child_abs, w->err);
        rc = dl_verify_add_issue(w->rep, DL_VERIFY_UNREGISTERED, child, moved, w->err,
                                 "not in the catalog%s", moved ? "; moved to .dl/quarantine/" : "");
    }
    closedir(d);
    return rc;
}

typedef struct check_ctx {
    dl_lake *lake;
    path_set *known;
    dl_verify_report *rep;
    dl_lake_damaged *damaged; /* what a repair must retire */
    int64_t num_damaged, cap_damaged;
} check_ctx;

static int note_damaged(check_ctx *c, int64_t file_id, int64_t dataset_id, int32_t day,
                        const char *rel, bool live, bool missing, dl_error *err) {
    if (c->num_damaged == c->cap_damaged) {
        int64_t cap = c->cap_damaged ? 2 * c->cap_damaged : 16;
        dl_lake_damaged *grown = realloc(c->damaged, (size_t)cap * sizeof *grown);
        if (!grown) return dl_error_set(err, DL_ENOMEM, "out of memory");
        c->damaged = grown;
        c->cap_damaged = cap;
    }
    dl_lake_damaged *d = &c->damaged[c->num_damaged++];
    memset(d, 0, sizeof *d);
    *d = (dl_lake_damaged){file_id, dataset_id, day, live, missing, c->rep->count - 1, ""};
    snprintf(d->rel, sizeof d->rel, "%s", rel);
    return DL_OK;
}

/* Re-hashes one catalogued file against its recorded SHA-256. */
static int check_file(void *arg, int64_t file_id, int64_t dataset_id, int32_t day, const char *rel,
                      const char *want, int64_t bytes, bool live, dl_error *err) {
    check_ctx *c = arg;
    char abs[4096], have[65];
    (void)bytes;
    if (live && set_add(c->known, rel) != DL_OK)
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    int rc = dl_lake_abs_path(c->lake, rel, abs, sizeof abs, err);
    if (rc != DL_OK) return rc;
    dl_error hash_err;
    int hrc = dl_sha256_file(abs, have, &hash_err);
    c->rep->files_checked++;
    if (hrc == DL_ENOTFOUND)
        rc = dl_verify_add_issue(c->rep, DL_VERIFY_MISSING, rel, false, err, "%s file is missing",
                                 live ? "live" : "archived");
    else if (hrc != DL_OK)
        rc = dl_verify_add_issue(c->rep, DL_VERIFY_MISSING, rel, false, err, "unreadable: %s",
                                 hash_err.message);
    else if (c->rep->bytes_checked += dl_fs_size(abs), strcmp(have, want) != 0)
        rc = dl_verify_add_issue(c->rep, DL_VERIFY_MISMATCH, rel, false, err,
                                 "SHA-256 is %.16s..., the catalog recorded %.16s...", have, want);
    else
        return DL_OK;
    if (rc != DL_OK) return rc;
    return note_damaged(c, file_id, dataset_id, day, rel, live, hrc == DL_ENOTFOUND, err);
}

/* Is a writer of `dataset` running (does it hold the dataset's lock)?  A
** shared non-blocking probe on a read-only descriptor, so it also works
** where we may not write. */
static bool writer_running(dl_lake *lake, const char *dataset) {
    char rel[512], abs[4096];
    dl_error ignored;
    if (dl_layout_lock_name(dataset, rel, sizeof rel) != DL_OK ||
        dl_lake_abs_path(lake, rel, abs, sizeof abs, &ignored) != DL_OK)
        return false;
    int fd = open(abs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

/* Unfinished commits still in the catalog (a repair rolled back the dead
** ones before): one issue per dataset.  Their live paths are not foreign
** files, and readers meanwhile see the committed bytes (dl_catalog.c). */
static int report_pending(dl_lake *lake, path_set *known, dl_verify_report *out, dl_error *err) {
    dl_cat_pending *ops = NULL;
    int64_t n = 0;
    int rc = dl_cat_pending_list(lake->cat, NULL, &ops, &n, err);
    for (int64_t i = 0; rc == DL_OK && i < n; i++) {
        if (set_add(known, ops[i].live) != DL_OK) {
            rc = dl_error_set(err, DL_ENOMEM, "out of memory");
            break;
        }
        bool seen = false;
        int64_t count = 0;
        for (int64_t k = 0; k < n; k++) {
            seen = seen || (k < i && strcmp(ops[k].dataset, ops[i].dataset) == 0);
            count += strcmp(ops[k].dataset, ops[i].dataset) == 0;
        }
        if (seen) continue;
        if (writer_running(lake, ops[i].dataset))
            rc = dl_verify_add_issue(
                out, DL_VERIFY_PENDING, ops[i].dataset, false, err,
                "%lld operations of a commit in progress (its writer is running)",
                (long long)count);
        else
            rc = dl_verify_add_issue(
                out, DL_VERIFY_PENDING, ops[i].dataset, false, err,
                "%lld operations of an unfinished commit of a writer that is no "
                "longer running; readers see the last committed state, and the next "
                "write to the dataset or a repair rolls it back",
                (long long)count);
    }
    free(ops);
    return rc;
}

/* Days a repair marked missing stay a problem until written again. */
static int report_missing_day(void *arg, const char *dataset, int32_t day, int64_t version,
                              const char *reason, dl_error *err) {
    char rel[DL_CAT_PATH_MAX];
    if (dl_layout_day_path(dataset, day, rel, sizeof rel) != DL_OK) rel[0] = 0;
    return dl_verify_add_issue(
        arg, DL_VERIFY_MISSING_DAY, rel, false, err,
        "day missing since version %lld (%s); writing its rows again (a re-ingest "
        "of its source) restores it",
        (long long)version, reason);
}

int dl_lake_verify(dl_lake *lake, const char *dataset, bool repair, dl_verify_report *out,
                   dl_error *err) {
    return dl_lake_verify_flags(lake, dataset, repair ? DL_VERIFY_REPAIR : 0, out, err);
}

int dl_lake_verify_flags(dl_lake *lake, const char *dataset, unsigned flags, dl_verify_report *out,
                         dl_error *err) {
    DL_REQUIRE(err, lake && out);
    int rc = DL_OK;
    bool repair = (flags & (DL_VERIFY_REPAIR | DL_VERIFY_RESTORE)) != 0;
    check_ctx cc = {lake, NULL, out};
    path_set known = {0};
    char name[DL_DATASET_NAME_MAX] = "";
    memset(out, 0, sizeof *out);
    if (dataset) {
        dl_dataset_id id;
        DL_TRY(dl_dataset_parse(dataset, &id, err));
        dl_dataset_format(&id, name, sizeof name);
        DL_TRY(dl_cat_dataset_id(lake->cat, name, NULL, NULL, err));
    }
    if (repair) {
        int64_t undone = 0, removed = 0;
        DL_TRY(dl_lake_recover(lake, NULL, &undone, err));
        DL_TRY(dl_lake_clean_staging(lake, &removed, err));
        if (undone)
            DL_TRY(dl_verify_add_issue(out, DL_VERIFY_PENDING, ".dl/catalog.db", true, err,
                                       "%lld operations of an unfinished commit rolled back",
                                       (long long)undone));
        if (removed)
            DL_TRY(dl_verify_add_issue(out, DL_VERIFY_STRAY_TMP, ".dl/tmp", true, err,
                                       "%lld staging entries of dead writers removed",
                                       (long long)removed));
    }
    DL_TRY(report_pending(lake, &known, out, err));
    cc.known = &known;
    DL_TRY(dl_cat_each_file(lake->cat, dataset ? name : NULL, check_file, &cc, err));
    if (repair)
        DL_TRY(dl_lake_repair_damaged(lake, cc.damaged, cc.num_damaged,
                                      (flags & DL_VERIFY_RESTORE) != 0, out, err));
    DL_TRY(dl_cat_each_missing(lake->cat, dataset ? name : NULL, report_missing_day, out, err));
    if (known.count) qsort(known.items, (size_t)known.count, sizeof *known.items, compare_str);
    walk_ctx w = {lake, &known, repair, out, err};
    DL_TRY(walk_tree(&w, name, dataset ? 5 : 0));
cleanup:
    set_free(&known);
    free(cc.damaged);
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
        int64_t by_age = 1;
        int rc = dl_cat_version_at(lake->cat, dataset_id, dl_now_us() - opts->older_than_us,
                                   &by_age, err);
        if (rc == DL_ENOTFOUND)
            by_age = 1;
        else if (rc != DL_OK)
            return rc;
        k = opts->keep_versions > 0 ? DL_MIN(k, by_age) : by_age;
    }
    if (!opts->force) { /* source versions of live feature versions stay */
        int64_t pinned = 0;
        int rc = dl_cat_oldest_pinned(lake->cat, dataset_id, &pinned, err);
        if (rc != DL_OK) return rc;
        if (pinned > 0) k = DL_MIN(k, pinned);
    }
    *keep_from = DL_MIN(DL_MAX(k, 1), DL_MAX(current, 1));
    return DL_OK;
}

typedef struct vacuum_ctx {
    dl_lake *lake;
    path_set *doomed;
    dl_lake_vacuum_result *out;
} vacuum_ctx;

static int vacuum_file(void *arg, int64_t file_id, const char *archive_rel, int64_t bytes,
                       dl_error *err) {
    vacuum_ctx *v = arg;
    v->out->files_removed++;
    v->out->bytes_freed += bytes;
    if (archive_rel && set_add(v->doomed, archive_rel) != DL_OK)
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    return dl_cat_delete_file(v->lake->cat, file_id, err);
}

int dl_lake_vacuum(dl_lake *lake, const char *dataset, const dl_lake_vacuum_options *opts,
                   dl_lake_vacuum_result *out, dl_error *err) {
    DL_REQUIRE(err, lake);
    int rc = DL_OK;
    path_set doomed = {0};
    dl_cat_dataset_ref *refs = NULL;
    int64_t num_refs = 0;
    char name[DL_DATASET_NAME_MAX] = "";
    memset(out, 0, sizeof *out);
    if (opts->keep_versions <= 0 && opts->older_than_us <= 0)
        return dl_error_set(err, DL_EINVAL,
                            "vacuum needs a retention: keep_versions or older_than_us");
    if (dataset) {
        dl_dataset_id id;
        DL_TRY(dl_dataset_parse(dataset, &id, err));
        dl_dataset_format(&id, name, sizeof name);
        DL_TRY(dl_cat_dataset_id(lake->cat, name, NULL, NULL, err));
    }
    /* A dry run executes exactly the statements of the real run in the same
    ** transaction and rolls it back: its report cannot differ. */
    DL_TRY(dl_cat_begin(lake->cat, err));
    DL_TRY(dl_cat_dataset_refs(lake->cat, dataset ? name : NULL, &refs, &num_refs, err));
    vacuum_ctx vc = {lake, &doomed, out};
    for (int64_t i = 0; i < num_refs; i++) {
        int64_t keep = 0;
        DL_TRY(retained_from(lake, refs[i].id, refs[i].current_version, opts, &keep, err));
        DL_TRY(dl_cat_each_superseded(lake->cat, refs[i].id, keep, vacuum_file, &vc, err));
        DL_TRY(dl_cat_mark_vacuumed(lake->cat, refs[i].id, keep, &out->versions_vacuumed, err));
    }
    if (opts->dry_run) {
        dl_cat_rollback(lake->cat);
        goto cleanup;
    }
    /* Catalog first, files second: a crash in between leaves only
    ** unreferenced archive files, never a catalogued file that is gone. */
    DL_TRY(dl_cat_commit(lake->cat, err));
    {
        dl_error backup_err; /* as after a write: the previous backup stays */
        dl_lake_backup_catalog(lake, true, &backup_err);
    }
    for (int64_t i = 0; i < doomed.count; i++) {
        char abs[4096];
        if (dl_lake_abs_path(lake, doomed.items[i], abs, sizeof abs, err) == DL_OK) unlink(abs);
    }
cleanup:
    if (rc != DL_OK) dl_cat_rollback(lake->cat);
    free(refs);
    set_free(&doomed);
    return rc;
}
