/*
** dl_lake.c -- opening a lake, crash recovery, and the catalog-only
** metadata queries: datasets, file lists for a time range at a version,
** history, gaps, schema.  Nothing here opens a Parquet file.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lake/dl_catalog.h"
#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "lake/dl_layout.h"
#include "util/dl_internal.h"

int64_t dl_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int dl_lake_abs_path(const dl_lake *lake, const char *rel, char *buf, size_t size, dl_error *err) {
    int n = snprintf(buf, size, "%s/%s", lake->root, rel);
    if (n < 0 || (size_t)n >= size) return dl_error_set(err, DL_EINVAL, "path too long: %s", rel);
    return DL_OK;
}

void dl_lake_name_path(dl_error *err, const char *path) {
    if (err && !strstr(err->message, path)) dl_error_prefix(err, "%s", path);
}

int dl_lake_backup_catalog(dl_lake *lake, bool always, dl_error *err) {
    char lock[4096], tmp[4096], bak[4096], cat[4096];
    int rc = dl_lake_abs_path(lake, ".dl/locks/catalog-backup.lock", lock, sizeof lock, err);
    if (rc == DL_OK) rc = dl_lake_abs_path(lake, ".dl/catalog.db.bak.tmp", tmp, sizeof tmp, err);
    if (rc == DL_OK) rc = dl_lake_abs_path(lake, ".dl/catalog.db.bak", bak, sizeof bak, err);
    if (rc == DL_OK) rc = dl_lake_abs_path(lake, ".dl/catalog.db", cat, sizeof cat, err);
    if (rc != DL_OK) return rc;
    /* The cost is a copy of the whole catalog (measured: 0.65 s for 85 MB /
    ** 100k files, ~5 ms for a small lake), so a big catalog is backed up
    ** at most once a minute: a checkpoint; the rebuild re-indexes the files
    ** of the commits after it. */
    struct stat st;
    if (!always && dl_fs_size(cat) > DL_BACKUP_EVERY_COMMIT_BYTES && stat(bak, &st) == 0 &&
        (dl_now_us() / 1000000 - (int64_t)st.st_mtime) < DL_BACKUP_CHECKPOINT_SECONDS)
        return DL_OK;
    int fd = -1;
    /* One backup at a time, so an older snapshot never replaces a newer. */
    rc = dl_fs_lock(lock, true, &fd, err);
    if (rc == DL_OK) rc = dl_cat_backup(lake->cat, tmp, bak, err);
    if (fd >= 0) close(fd);
    return rc;
}

static int make_subdirs(const char *root, dl_error *err) {
    static const char *const subdirs[] = {".dl", ".dl/locks", ".dl/tmp", ".dl/versions"};
    char path[4096];
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", root, subdirs[i]);
        if (n < 0 || (size_t)n >= sizeof path) return dl_error_set(err, DL_EINVAL, "root too long");
        int rc = dl_fs_mkdirs(path, err);
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}

/* "/", the system trees and home directories are never a lake root. */
static bool is_system_dir(const char *real) {
    static const char *const exact[] = {"/",      "/home",    "/root",    "/tmp",
                                        "/var",   "/var/tmp", "/var/lib", "/mnt",
                                        "/media", "/opt",     "/srv",     "/usr/local"};
    static const char *const trees[] = {"/bin",   "/boot",  "/dev",    "/etc",  "/lib",
                                        "/lib32", "/lib64", "/libx32", "/proc", "/run",
                                        "/sbin",  "/sys",   "/usr"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(real, exact[i]) == 0) return true;
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
        size_t n = strlen(trees[i]);
        if (strncmp(real, trees[i], n) == 0 && (real[n] == 0 || real[n] == '/') &&
            strncmp(real, "/usr/local/", 11) != 0)
            return true;
    }
    const char *home = getenv("HOME");
    char home_real[4096];
    if (home && home[0] && realpath(home, home_real) && strcmp(real, home_real) == 0) return true;
    /* /home/NAME itself */
    return strncmp(real, "/home/", 6) == 0 && real[6] && !strchr(real + 6, '/');
}

/* The first day file of the lake's layout below dir (depth as in
** dl_layout_classify), into found; false when there is none. */
static bool find_day_file(const char *dir, int depth, char *found, size_t size) {
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool hit = false;
    while (!hit && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char child[4096];
        struct stat st;
        int n = snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof child || lstat(child, &st) != 0) continue;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) continue;
        dl_layout_kind kind = dl_layout_classify(e->d_name, depth, S_ISDIR(st.st_mode));
        if (kind == DL_LAYOUT_DAY) {
            snprintf(found, size, "%s", child);
            hit = true;
        } else if (kind == DL_LAYOUT_DIR) {
            hit = find_day_file(child, depth + 1, found, size);
        }
    }
    closedir(d);
    return hit;
}

/* What an existing root holds besides .dl: the first foreign entry, and
** whether any lake data (day files, archived versions, a catalog backup)
** is there. */
static void survey_root(const char *root, char *foreign, size_t fsize, char *data, size_t dsize) {
    foreign[0] = data[0] = 0;
    char path[4096];
    if (!find_day_file(root, 0, data, dsize)) {
        static const char *const lake_data[] = {".dl/versions", ".dl/catalog.db.bak"};
        for (size_t i = 0; i < 2 && !data[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", root, lake_data[i]);
            DIR *d = opendir(path);
            struct dirent *e;
            bool has = d == NULL && dl_fs_exists(path);
            while (d && !has && (e = readdir(d)) != NULL) has = e->d_name[0] != '.';
            if (d) closedir(d);
            if (has) snprintf(data, dsize, "%s", path);
        }
    }
    DIR *d = opendir(root);
    struct dirent *e;
    while (d && !foreign[0] && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strcmp(e->d_name, ".dl") != 0)
            snprintf(foreign, fsize, "%s/%s", root, e->d_name);
    if (d) closedir(d);
}

int dl_lake_init(const char *root, dl_error *err) {
    return dl_lake_init_flags(root, 0, err);
}

int dl_lake_init_flags(const char *root, unsigned flags, dl_error *err) {
    int rc = DL_OK;
    dl_catalog *cat = NULL;
    char real[4096], catalog[4200], foreign[4096], data[4096];
    if (!root || !root[0]) return dl_error_set(err, DL_EINVAL, "the lake root is missing");
    if (realpath(root, real)) {
        if (is_system_dir(real))
            return dl_error_set(err, DL_EINVAL,
                                "refusing to make a lake in %s: it is a system or home "
                                "directory; give a directory of its own",
                                real);
        snprintf(catalog, sizeof catalog, "%s/.dl/catalog.db", root);
        dl_error open_err;
        if (dl_fs_size(catalog) > 0 && dl_cat_open(root, DL_CAT_WRITE, &cat, &open_err) == DL_OK)
            goto cleanup; /* an existing lake: nothing to do (migrated if older) */
        survey_root(root, foreign, sizeof foreign, data, sizeof data);
        if (data[0])
            DL_FAIL(err, DL_ECONFLICT,
                    "%s holds lake data (%s) but %s; an empty catalog would hide that data: "
                    "rebuild the catalog from the files instead",
                    root, data,
                    dl_fs_exists(catalog) ? "its catalog is empty or damaged" : "no catalog");
        if (dl_fs_size(catalog) > 0)
            DL_FAIL(err, DL_ECONFLICT, "%s cannot be used: %s", catalog, open_err.message);
        if (foreign[0] && !(flags & DL_LAKE_INIT_FORCE))
            DL_FAIL(err, DL_ECONFLICT,
                    "%s is not empty (it holds %s); a lake needs a directory of its own "
                    "(forcing accepts the other content)",
                    root, foreign);
    }
    DL_TRY(make_subdirs(root, err));
    DL_TRY(dl_cat_open(root, DL_CAT_CREATE, &cat, err));
cleanup:
    dl_cat_close(cat);
    return rc;
}

int dl_lake_open(const char *root, bool read_only, dl_lake **out, dl_error *err) {
    DL_REQUIRE(err, root && out);
    int rc = DL_OK;
    dl_lake *lake = calloc(1, sizeof *lake);
    if (!lake) return dl_error_set(err, DL_ENOMEM, "out of memory");
    lake->root_fd = -1;
    lake->read_only = read_only;
    lake->lock_timeout_ms = -1;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    lake->root = strndup(root, n);
    if (!lake->root) DL_FAIL(err, DL_ENOMEM, "out of memory");
    char catalog[4096];
    DL_TRY(dl_lake_abs_path(lake, ".dl/catalog.db", catalog, sizeof catalog, err));
    if (!dl_fs_exists(catalog))
        DL_FAIL(err, DL_ENOTFOUND, "%s is not a lake (no %s)", lake->root, catalog);
    lake->root_fd = open(lake->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lake->root_fd < 0) DL_FAIL(err, DL_EIO, "cannot open %s: %s", lake->root, strerror(errno));
    DL_TRY(dl_cat_open(lake->root, read_only ? DL_CAT_READ : DL_CAT_WRITE, &lake->cat, err));
    if (!read_only) {
        DL_TRY(make_subdirs(lake->root, err));
        DL_TRY(dl_lake_recover(lake, NULL, NULL, err));
        DL_TRY(dl_lake_clean_staging(lake, NULL, err));
    }
    *out = lake;
    lake = NULL;
cleanup:
    dl_lake_close(lake);
    return rc;
}

void dl_lake_close(dl_lake *lake) {
    if (!lake) return;
    dl_cat_close(lake->cat);
    if (lake->root_fd >= 0) close(lake->root_fd);
    free(lake->root);
    free(lake);
}

void dl_lake_set_lock_wait(dl_lake *lake, int64_t timeout_ms,
                           void (*notify)(void *ctx, const char *message), void *ctx) {
    if (!lake) return;
    lake->lock_timeout_ms = timeout_ms;
    lake->lock_notify = notify;
    lake->lock_notify_ctx = ctx;
}

const char *dl_lake_root(const dl_lake *lake) {
    DL_REQUIRE_OR_RETURN(lake, NULL);
    return lake->root;
}

/* ---- recovery ---- */

static bool is_our_file(const char *path, const char *sha) {
    char have[65];
    dl_error ignored;
    return dl_sha256_file(path, have, &ignored) == DL_OK && strcmp(have, sha) == 0;
}

/* Undoes one publish operation of a dead writer (see docs/lake.md):
** restore the superseded file from its archive link, or remove the new day
** file when there was none, and drop the temporary file. */
static int undo_publish(dl_lake *lake, const char *live_rel, const char *tmp_rel,
                        const char *old_sha, const char *new_sha, const char *archive_rel,
                        dl_error *err) {
    char live[4096], tmp[4096], archive[4096];
    int rc = DL_OK;
    DL_TRY(dl_lake_abs_path(lake, live_rel, live, sizeof live, err));
    DL_TRY(dl_lake_abs_path(lake, tmp_rel, tmp, sizeof tmp, err));
    if (archive_rel) DL_TRY(dl_lake_abs_path(lake, archive_rel, archive, sizeof archive, err));
    if (archive_rel && dl_fs_exists(archive)) {
        if (dl_io_rename(archive, live) != 0)
            DL_FAIL(err, DL_EIO, "recovery: cannot restore %s from %s: %s", live, archive,
                    strerror(errno));
        /* rename() of two links to one inode does nothing: drop the extra link. */
        if (unlink(archive) != 0 && errno != ENOENT)
            DL_FAIL(err, DL_EIO, "recovery: unlink %s: %s", archive, strerror(errno));
    } else if (!old_sha && is_our_file(live, new_sha)) {
        /* A new day: remove it only when it holds the bytes this commit
        ** published, never a file someone else put there. */
        if (unlink(live) != 0 && errno != ENOENT)
            DL_FAIL(err, DL_EIO, "recovery: unlink %s: %s", live, strerror(errno));
    }
    if (unlink(tmp) != 0 && errno != ENOENT)
        DL_FAIL(err, DL_EIO, "recovery: unlink %s: %s", tmp, strerror(errno));
cleanup:
    return rc;
}

static int recover_dataset(dl_lake *lake, const char *dataset, int64_t *undone, dl_error *err) {
    int rc = DL_OK;
    dl_cat_pending *ops = NULL;
    int64_t n = 0;
    DL_TRY(dl_cat_pending_list(lake->cat, dataset, &ops, &n, err));
    for (int64_t i = 0; i < n; i++)
        DL_TRY(undo_publish(lake, ops[i].live, ops[i].tmp,
                            ops[i].old_sha[0] ? ops[i].old_sha : NULL, ops[i].new_sha,
                            ops[i].has_archive ? ops[i].archive : NULL, err));
    if (n == 0) goto cleanup;
    /* The restored files must be durable before the intent disappears. */
    DL_TRY(dl_fs_syncfs(lake->root_fd, err));
    dl_fault_point("recover-before-clear");
    DL_TRY(dl_cat_clear_pending_dataset(lake->cat, dataset, err));
    if (undone) *undone += n;
cleanup:
    free(ops);
    return rc;
}

int dl_lake_recover(dl_lake *lake, const char *dataset, int64_t *undone, dl_error *err) {
    int rc = DL_OK;
    dl_cat_pending *ops = NULL;
    int64_t n = 0;
    if (dataset) return recover_dataset(lake, dataset, undone, err);
    DL_TRY(dl_cat_pending_list(lake->cat, NULL, &ops, &n, err));
    for (int64_t i = 0; i < n; i++) {
        bool seen = false;
        for (int64_t k = 0; k < i && !seen; k++) seen = strcmp(ops[k].dataset, ops[i].dataset) == 0;
        if (seen) continue;
        char lock_rel[512], lock[4096];
        int fd = -1;
        if (dl_layout_lock_name(ops[i].dataset, lock_rel, sizeof lock_rel) != DL_OK) continue;
        DL_TRY(dl_lake_abs_path(lake, lock_rel, lock, sizeof lock, err));
        dl_error lock_err;
        /* A live writer holds the lock until its final commit; it will
        ** clean up after itself, so a busy lock is simply skipped. */
        if (dl_fs_lock(lock, false, &fd, &lock_err) != DL_OK) continue;
        rc = recover_dataset(lake, ops[i].dataset, undone, err);
        close(fd);
        if (rc != DL_OK) goto cleanup;
    }
cleanup:
    free(ops);
    return rc;
}

int dl_lake_clean_staging(dl_lake *lake, int64_t *removed, dl_error *err) {
    char dir[4096];
    int rc = dl_lake_abs_path(lake, ".dl/tmp", dir, sizeof dir, err);
    if (rc != DL_OK) return rc;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? DL_OK
                               : dl_error_set(err, DL_EIO, "opendir %s: %s", dir, strerror(errno));
    struct dirent *e;
    while (rc == DL_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(e->d_name);
        bool is_lock = len > 5 && strcmp(e->d_name + len - 5, ".lock") == 0;
        char path[4096], lock[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path) continue;
        if (is_lock) {
            /* {owner}.lock: held by a live writer; free means its owner died. */
            int fd = -1;
            dl_error lock_err;
            if (dl_fs_lock(path, false, &fd, &lock_err) != DL_OK) continue;
            size_t dir_len = (size_t)n - 5; /* the directory it guards: path minus ".lock" */
            memcpy(lock, path, dir_len);
            lock[dir_len] = '\0';
            rc = dl_fs_remove_tree(lock, err);
            if (rc == DL_OK && unlink(path) != 0 && errno != ENOENT)
                rc = dl_error_set(err, DL_EIO, "unlink %s: %s", path, strerror(errno));
            close(fd);
            if (removed) (*removed)++;
        } else {
            /* A staging directory whose lock file is gone is an orphan: the
            ** writer creates the lock before the directory and removes it last. */
            n = snprintf(lock, sizeof lock, "%s.lock", path);
            if (n < 0 || (size_t)n >= sizeof lock || dl_fs_exists(lock)) continue;
            rc = dl_fs_remove_tree(path, err);
            if (removed) (*removed)++;
        }
    }
    closedir(d);
    return rc;
}

/* ---- metadata queries ---- */

int dl_lake_datasets(dl_lake *lake, dl_dataset_info **out, int64_t *count, dl_error *err) {
    DL_REQUIRE(err, lake && out && count);
    return dl_cat_dataset_infos(lake->cat, NULL, out, count, err);
}

/* Canonicalises a user-supplied dataset name (so "binance/spot/..." works). */
static int canonical_name(const char *dataset, char *buf, size_t size, dl_error *err) {
    dl_dataset_id id;
    int rc = dl_dataset_parse(dataset, &id, err);
    if (rc == DL_OK) dl_dataset_format(&id, buf, size);
    return rc;
}

/* The canonical name and catalog id of an existing dataset. */
static int find_dataset(dl_lake *lake, const char *dataset, char name[DL_DATASET_NAME_MAX],
                        int64_t *id, int64_t *current, dl_error *err) {
    int rc = canonical_name(dataset, name, DL_DATASET_NAME_MAX, err);
    if (rc == DL_OK) rc = dl_cat_dataset_id(lake->cat, name, id, current, err);
    return rc;
}

int dl_lake_dataset_info(dl_lake *lake, const char *dataset, dl_dataset_info *out, dl_error *err) {
    int rc = DL_OK;
    char name[DL_DATASET_NAME_MAX];
    dl_dataset_info *items = NULL;
    int64_t n = 0;
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(dl_cat_dataset_infos(lake->cat, name, &items, &n, err));
    if (n == 0) DL_FAIL(err, DL_ENOTFOUND, "dataset %s does not exist", name);
    *out = items[0];
cleanup:
    free(items);
    return rc;
}

int dl_lake_dataset_schema(dl_lake *lake, const char *dataset, dl_schema *out, dl_error *err) {
    DL_REQUIRE(err, lake && dataset && out);
    int rc = DL_OK;
    char name[DL_DATASET_NAME_MAX];
    bool found = false;
    dl_schema_init(out);
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(dl_cat_dataset_state(lake->cat, name, &found, NULL, NULL, out, err));
    if (!found) DL_FAIL(err, DL_ENOTFOUND, "dataset %s does not exist", name);
cleanup:
    if (rc != DL_OK) dl_schema_free(out);
    return rc;
}

/* Resolves as_of_version (0 = current) and checks it is still readable. */
static int resolve_version(dl_lake *lake, const char *name, int64_t as_of, int64_t *dataset_id,
                           int64_t *version, dl_error *err) {
    int rc = DL_OK;
    int64_t current = 0;
    bool readable = false;
    DL_TRY(dl_cat_dataset_id(lake->cat, name, dataset_id, &current, err));
    if (as_of == 0 || as_of == current) {
        *version = current;
        goto cleanup;
    }
    if (as_of < 0 || as_of > current)
        DL_FAIL(err, DL_ENOTFOUND, "dataset %s has no version %lld (current is %lld)", name,
                (long long)as_of, (long long)current);
    DL_TRY(dl_cat_version_readable(lake->cat, *dataset_id, as_of, &readable, err));
    if (!readable)
        DL_FAIL(err, DL_ENOTFOUND,
                "version %lld of %s is no longer readable: a vacuum removed its files",
                (long long)as_of, name);
    *version = as_of;
cleanup:
    return rc;
}

int dl_lake_files(dl_lake *lake, const char *dataset, int64_t ts_from, int64_t ts_to,
                  int64_t as_of_version, dl_lake_file_list *out, dl_error *err) {
    DL_REQUIRE(err, lake && dataset && out);
    int rc = DL_OK;
    int64_t dataset_id = 0, version = 0;
    char name[DL_DATASET_NAME_MAX];
    memset(out, 0, sizeof *out);
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(resolve_version(lake, name, as_of_version, &dataset_id, &version, err));
    DL_TRY(dl_cat_files_at(lake->cat, lake->root, dataset_id, version, ts_from, ts_to, out, err));
cleanup:
    return rc;
}

void dl_lake_file_list_free(dl_lake_file_list *list) {
    if (!list) return;
    free(list->files);
    free(list->strings_);
    memset(list, 0, sizeof *list);
}

int dl_lake_version_at(dl_lake *lake, const char *dataset, int64_t at, int64_t *version,
                       dl_error *err) {
    int rc = DL_OK;
    char name[DL_DATASET_NAME_MAX];
    int64_t id = 0;
    DL_TRY(find_dataset(lake, dataset, name, &id, NULL, err));
    rc = dl_cat_version_at(lake->cat, id, at, version, err);
    if (rc == DL_ENOTFOUND)
        rc = dl_error_set(err, DL_ENOTFOUND, "dataset %s had no version yet at that time", name);
cleanup:
    return rc;
}

int dl_lake_history(dl_lake *lake, const char *dataset, dl_lake_version **out, int64_t *count,
                    dl_error *err) {
    int rc = DL_OK;
    char name[DL_DATASET_NAME_MAX];
    int64_t id = 0;
    DL_TRY(find_dataset(lake, dataset, name, &id, NULL, err));
    DL_TRY(dl_cat_history(lake->cat, id, out, count, err));
cleanup:
    return rc;
}

int dl_lake_gaps(dl_lake *lake, const char *dataset, dl_lake_gap **out, int64_t *count,
                 dl_error *err) {
    int rc = DL_OK;
    char name[DL_DATASET_NAME_MAX];
    int64_t id = 0;
    DL_TRY(find_dataset(lake, dataset, name, &id, NULL, err));
    DL_TRY(dl_cat_gaps(lake->cat, id, out, count, err));
cleanup:
    return rc;
}
