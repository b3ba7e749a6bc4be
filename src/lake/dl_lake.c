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
#include <unistd.h>

#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "lake/dl_layout.h"
#include "util/dl_internal.h"

int dl_lake_abs_path(const dl_lake *lake, const char *rel, char *buf, size_t size, dl_error *err) {
    int n = snprintf(buf, size, "%s/%s", lake->root, rel);
    if (n < 0 || (size_t)n >= size) return dl_error_set(err, DL_EINVAL, "path too long: %s", rel);
    return DL_OK;
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

int dl_lake_init(const char *root, dl_error *err) {
    int rc = DL_OK;
    sqlite3 *db = NULL;
    DL_TRY(make_subdirs(root, err));
    DL_TRY(dl_cat_open(root, true, false, &db, err));
cleanup:
    if (db) sqlite3_close(db);
    return rc;
}

int dl_lake_open(const char *root, bool read_only, dl_lake **out, dl_error *err) {
    int rc = DL_OK;
    dl_lake *lake = calloc(1, sizeof *lake);
    if (!lake) return dl_error_set(err, DL_ENOMEM, "out of memory");
    lake->root_fd = -1;
    lake->read_only = read_only;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    lake->root = strndup(root, n);
    if (!lake->root) DL_FAIL(err, DL_ENOMEM, "out of memory");
    char catalog[4096];
    DL_TRY(dl_lake_abs_path(lake, ".dl/catalog.db", catalog, sizeof catalog, err));
    if (!dl_fs_exists(catalog))
        DL_FAIL(err, DL_ENOTFOUND, "%s is not a lake (no %s); run `dl init --root %s` first",
                lake->root, catalog, lake->root);
    lake->root_fd = open(lake->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lake->root_fd < 0) DL_FAIL(err, DL_EIO, "cannot open %s: %s", lake->root, strerror(errno));
    DL_TRY(dl_cat_open(lake->root, !read_only, read_only, &lake->db, err));
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
    if (lake->db) sqlite3_close(lake->db);
    if (lake->root_fd >= 0) close(lake->root_fd);
    free(lake->root);
    free(lake);
}

const char *dl_lake_root(const dl_lake *lake) {
    return lake->root;
}

/* ---- recovery ---- */

/* Undoes one publish operation of a dead writer (see docs/lake.md):
** restore the superseded file from its archive link, or remove the new day
** file when there was none, and drop the temporary file. */
static int undo_publish(dl_lake *lake, const char *live_rel, const char *tmp_rel,
                        const char *old_sha, const char *archive_rel, dl_error *err) {
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
    } else if (!old_sha) {
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
    sqlite3_stmt *st = NULL, *del = NULL;
    int64_t ops = 0;
    DL_TRY(dl_cat_prepare(lake->db,
                          "SELECT live_path, tmp_path, old_sha, archive_path FROM pending "
                          "WHERE dataset = ? ORDER BY id DESC",
                          &st, err));
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(undo_publish(lake, (const char *)sqlite3_column_text(st, 0),
                            (const char *)sqlite3_column_text(st, 1),
                            (const char *)sqlite3_column_text(st, 2),
                            (const char *)sqlite3_column_text(st, 3), err));
        ops++;
    }
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(lake->db, "reading pending operations", err));
    if (ops == 0) goto cleanup;
    /* The restored files must be durable before the intent disappears. */
    DL_TRY(dl_fs_syncfs(lake->root_fd, err));
    dl_fault_point("recover-before-clear");
    DL_TRY(dl_cat_prepare(lake->db, "DELETE FROM pending WHERE dataset = ?", &del, err));
    sqlite3_bind_text(del, 1, dataset, -1, SQLITE_STATIC);
    DL_TRY(dl_cat_step_done(lake->db, del, "clearing pending operations", err));
    if (undone) *undone += ops;
cleanup:
    sqlite3_finalize(st);
    sqlite3_finalize(del);
    return rc;
}

int dl_lake_recover(dl_lake *lake, const char *dataset, int64_t *undone, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    char **names = NULL;
    int count = 0;
    if (dataset) return recover_dataset(lake, dataset, undone, err);
    DL_TRY(dl_cat_prepare(lake->db, "SELECT DISTINCT dataset FROM pending", &st, err));
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **grown = realloc(names, (size_t)(count + 1) * sizeof *names);
        if (!grown) DL_FAIL(err, DL_ENOMEM, "out of memory");
        names = grown;
        names[count] = strdup((const char *)sqlite3_column_text(st, 0));
        if (!names[count]) DL_FAIL(err, DL_ENOMEM, "out of memory");
        count++;
    }
    sqlite3_finalize(st);
    st = NULL;
    for (int i = 0; i < count; i++) {
        char lock_rel[512], lock[4096];
        int fd = -1;
        if (dl_layout_lock_name(names[i], lock_rel, sizeof lock_rel) != DL_OK) continue;
        DL_TRY(dl_lake_abs_path(lake, lock_rel, lock, sizeof lock, err));
        dl_error lock_err;
        /* A live writer holds the lock until its final commit; it will
        ** clean up after itself, so a busy lock is simply skipped. */
        if (dl_fs_lock(lock, false, &fd, &lock_err) != DL_OK) continue;
        rc = recover_dataset(lake, names[i], undone, err);
        close(fd);
        if (rc != DL_OK) goto cleanup;
    }
cleanup:
    sqlite3_finalize(st);
    for (int i = 0; i < count; i++) free(names[i]);
    free(names);
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

static const char *const info_sql =
    "SELECT d.name, d.exchange, d.market, d.symbol, d.type, d.period, d.current_version,"
    "  d.period_us,"
    "  (SELECT count(*) FROM files f WHERE f.dataset_id = d.id AND f.version_removed IS NULL),"
    "  (SELECT coalesce(sum(rows), 0) FROM files f WHERE f.dataset_id = d.id AND f.version_removed "
    "IS NULL),"
    "  (SELECT coalesce(sum(bytes), 0) FROM files f WHERE f.dataset_id = d.id AND "
    "f.version_removed IS NULL),"
    "  (SELECT min(ts_min) FROM files f WHERE f.dataset_id = d.id AND f.version_removed IS NULL),"
    "  (SELECT max(ts_max) FROM files f WHERE f.dataset_id = d.id AND f.version_removed IS NULL),"
    "  (SELECT count(*) FROM gaps g WHERE g.dataset_id = d.id),"
    "  (SELECT coalesce(sum(missing), 0) FROM gaps g WHERE g.dataset_id = d.id)"
    " FROM datasets d";

static void copy_text(char *dst, size_t size, const unsigned char *src) {
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static void fill_info(sqlite3_stmt *st, dl_dataset_info *info) {
    memset(info, 0, sizeof *info);
    copy_text(info->name, sizeof info->name, sqlite3_column_text(st, 0));
    copy_text(info->id.exchange, sizeof info->id.exchange, sqlite3_column_text(st, 1));
    copy_text(info->id.market, sizeof info->id.market, sqlite3_column_text(st, 2));
    copy_text(info->id.symbol, sizeof info->id.symbol, sqlite3_column_text(st, 3));
    copy_text(info->id.type, sizeof info->id.type, sqlite3_column_text(st, 4));
    copy_text(info->id.period, sizeof info->id.period, sqlite3_column_text(st, 5));
    info->version = sqlite3_column_int64(st, 6);
    info->period_us = sqlite3_column_int64(st, 7);
    info->files = sqlite3_column_int64(st, 8);
    info->rows = sqlite3_column_int64(st, 9);
    info->bytes = sqlite3_column_int64(st, 10);
    info->ts_min =
        sqlite3_column_type(st, 11) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 11);
    info->ts_max =
        sqlite3_column_type(st, 12) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 12);
    info->gap_ranges = sqlite3_column_int64(st, 13);
    info->missing = sqlite3_column_int64(st, 14);
}

int dl_lake_datasets(dl_lake *lake, dl_dataset_info **out, int64_t *count, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_dataset_info *items = NULL;
    int64_t n = 0, cap = 0;
    char sql[2048];
    snprintf(sql, sizeof sql, "%s ORDER BY d.name", info_sql);
    DL_TRY(dl_cat_prepare(lake->db, sql, &st, err));
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            dl_dataset_info *grown = realloc(items, (size_t)cap * sizeof *items);
            if (!grown) DL_FAIL(err, DL_ENOMEM, "out of memory listing datasets");
            items = grown;
        }
        fill_info(st, &items[n++]);
    }
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(lake->db, "listing datasets", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    free(items);
    sqlite3_finalize(st);
    return rc;
}

/* Canonicalises a user-supplied dataset name (so "binance/spot/..." works). */
static int canonical_name(const char *dataset, char *buf, size_t size, dl_error *err) {
    dl_dataset_id id;
    int rc = dl_dataset_parse(dataset, &id, err);
    if (rc == DL_OK) dl_dataset_format(&id, buf, size);
    return rc;
}

int dl_lake_dataset_info(dl_lake *lake, const char *dataset, dl_dataset_info *out, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    char name[DL_DATASET_NAME_MAX], sql[2048];
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    snprintf(sql, sizeof sql, "%s WHERE d.name = ?", info_sql);
    DL_TRY(dl_cat_prepare(lake->db, sql, &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE)
        DL_FAIL(err, DL_ENOTFOUND, "dataset %s does not exist (see `dl ls`)", name);
    if (s != SQLITE_ROW) DL_TRY(dl_cat_fail(lake->db, "reading a dataset", err));
    fill_info(st, out);
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int dl_lake_dataset_schema(dl_lake *lake, const char *dataset, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    char name[DL_DATASET_NAME_MAX];
    dl_schema_init(out);
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(dl_cat_prepare(lake->db, "SELECT schema FROM datasets WHERE name = ?", &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        DL_FAIL(err, DL_ENOTFOUND, "dataset %s does not exist (see `dl ls`)", name);
    DL_TRY(dl_schema_from_json((const char *)sqlite3_column_text(st, 0), out, err));
cleanup:
    sqlite3_finalize(st);
    return rc;
}

/* Resolves as_of_version (0 = current) and checks it is still readable. */
static int resolve_version(dl_lake *lake, const char *name, int64_t as_of, int64_t *dataset_id,
                           int64_t *version, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    int64_t current = 0;
    DL_TRY(dl_cat_dataset_id(lake->db, name, dataset_id, &current, err));
    if (as_of == 0 || as_of == current) {
        *version = current;
        goto cleanup;
    }
    if (as_of < 0 || as_of > current)
        DL_FAIL(err, DL_ENOTFOUND, "dataset %s has no version %lld (current is %lld)", name,
                (long long)as_of, (long long)current);
    DL_TRY(dl_cat_prepare(
        lake->db, "SELECT vacuumed FROM versions WHERE dataset_id = ? AND version = ?", &st, err));
    sqlite3_bind_int64(st, 1, *dataset_id);
    sqlite3_bind_int64(st, 2, as_of);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0))
        DL_FAIL(err, DL_ENOTFOUND,
                "version %lld of %s is no longer readable: `dl vacuum` removed its files",
                (long long)as_of, name);
    *version = as_of;
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int dl_lake_files(dl_lake *lake, const char *dataset, int64_t ts_from, int64_t ts_to,
                  int64_t as_of_version, dl_lake_file_list *out, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_buf strings = DL_BUF_INIT;
    dl_lake_file *files = NULL;
    int64_t n = 0, cap = 0, dataset_id = 0, version = 0;
    char name[DL_DATASET_NAME_MAX];
    memset(out, 0, sizeof *out);
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(resolve_version(lake, name, as_of_version, &dataset_id, &version, err));
    DL_TRY(
        dl_cat_prepare(lake->db,
                       "SELECT CASE WHEN version_removed IS NULL THEN path ELSE archive_path END,"
                       " day, rows, bytes, ts_min, ts_max, version_added, sha256"
                       " FROM files WHERE dataset_id = ?1 AND version_added <= ?2"
                       " AND (version_removed IS NULL OR version_removed > ?2)"
                       " AND ts_max >= ?3 AND ts_min < ?4 ORDER BY day",
                       &st, err));
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int64(st, 3, ts_from);
    sqlite3_bind_int64(st, 4, ts_to);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            dl_lake_file *grown = realloc(files, (size_t)cap * sizeof *files);
            if (!grown) DL_FAIL(err, DL_ENOMEM, "out of memory listing files");
            files = grown;
        }
        dl_lake_file *f = &files[n++];
        memset(f, 0, sizeof *f);
        if (dl_buf_printf(&strings, "%s/%s", lake->root, sqlite3_column_text(st, 0)) != DL_OK ||
            dl_buf_append_u8(&strings, 0) != DL_OK)
            DL_FAIL(err, DL_ENOMEM, "out of memory listing files");
        f->day = (int32_t)sqlite3_column_int64(st, 1);
        f->rows = sqlite3_column_int64(st, 2);
        f->bytes = sqlite3_column_int64(st, 3);
        f->ts_min = sqlite3_column_int64(st, 4);
        f->ts_max = sqlite3_column_int64(st, 5);
        f->version = sqlite3_column_int64(st, 6);
        copy_text(f->sha256, sizeof f->sha256, sqlite3_column_text(st, 7));
    }
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(lake->db, "listing files", err));
    /* The paths are packed NUL-terminated in row order; point at them now
    ** that the buffer no longer moves. */
    const char *next_path = (const char *)strings.data;
    for (int64_t i = 0; i < n; i++) {
        files[i].path = next_path;
        next_path += strlen(next_path) + 1;
    }
    out->files = files;
    out->count = n;
    out->strings_ = (char *)strings.data;
    files = NULL;
    strings.data = NULL;
cleanup:
    free(files);
    dl_buf_free(&strings);
    sqlite3_finalize(st);
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
    sqlite3_stmt *st = NULL;
    char name[DL_DATASET_NAME_MAX];
    int64_t id = 0;
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(dl_cat_dataset_id(lake->db, name, &id, NULL, err));
    DL_TRY(dl_cat_prepare(
        lake->db, "SELECT max(version) FROM versions WHERE dataset_id = ? AND committed_at <= ?",
        &st, err));
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL)
        DL_FAIL(err, DL_ENOTFOUND, "dataset %s had no version yet at that time", name);
    *version = sqlite3_column_int64(st, 0);
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int dl_lake_history(dl_lake *lake, const char *dataset, dl_lake_version **out, int64_t *count,
                    dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_lake_version *items = NULL;
    int64_t n = 0, cap = 0, id = 0;
    char name[DL_DATASET_NAME_MAX];
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(dl_cat_dataset_id(lake->db, name, &id, NULL, err));
    DL_TRY(dl_cat_prepare(lake->db,
                          "SELECT version, committed_at, run_id, rows_written, files_added,"
                          " files_replaced, vacuumed, message FROM versions WHERE dataset_id = ?"
                          " ORDER BY version",
                          &st, err));
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            dl_lake_version *grown = realloc(items, (size_t)cap * sizeof *items);
            if (!grown) DL_FAIL(err, DL_ENOMEM, "out of memory");
            items = grown;
        }
        dl_lake_version *v = &items[n++];
        v->version = sqlite3_column_int64(st, 0);
        v->committed_at = sqlite3_column_int64(st, 1);
        v->run_id = sqlite3_column_int64(st, 2);
        v->rows_written = sqlite3_column_int64(st, 3);
        v->files_added = sqlite3_column_int64(st, 4);
        v->files_replaced = sqlite3_column_int64(st, 5);
        v->vacuumed = sqlite3_column_int(st, 6) != 0;
        copy_text(v->message, sizeof v->message, sqlite3_column_text(st, 7));
    }
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    free(items);
    sqlite3_finalize(st);
    return rc;
}

int dl_lake_gaps(dl_lake *lake, const char *dataset, dl_lake_gap **out, int64_t *count,
                 dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_lake_gap *items = NULL;
    int64_t n = 0, cap = 0, id = 0;
    char name[DL_DATASET_NAME_MAX];
    DL_TRY(canonical_name(dataset, name, sizeof name, err));
    DL_TRY(dl_cat_dataset_id(lake->db, name, &id, NULL, err));
    DL_TRY(dl_cat_prepare(
        lake->db, "SELECT from_ts, to_ts, missing FROM gaps WHERE dataset_id = ? ORDER BY from_ts",
        &st, err));
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            dl_lake_gap *grown = realloc(items, (size_t)cap * sizeof *items);
            if (!grown) DL_FAIL(err, DL_ENOMEM, "out of memory");
            items = grown;
        }
        items[n++] = (dl_lake_gap){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                   sqlite3_column_int64(st, 2)};
    }
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    free(items);
    sqlite3_finalize(st);
    return rc;
}

/* Gaps = the gaps inside each live file (stored per file at write time) plus
** the gaps between consecutive live files, from their ts_max / ts_min. */
int dl_lake_refresh_gaps(dl_lake *lake, int64_t dataset_id, int64_t period_us, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *del = NULL, *files = NULL, *ins = NULL;
    DL_TRY(dl_cat_prepare(lake->db, "DELETE FROM gaps WHERE dataset_id = ?", &del, err));
    sqlite3_bind_int64(del, 1, dataset_id);
    DL_TRY(dl_cat_step_done(lake->db, del, "clearing gaps", err));
    if (period_us <= 0) goto cleanup;
    DL_TRY(dl_cat_prepare(
        lake->db, "INSERT INTO gaps(dataset_id, from_ts, to_ts, missing) VALUES(?, ?, ?, ?)", &ins,
        err));
    DL_TRY(
        dl_cat_prepare(lake->db,
                       "SELECT f.ts_min, f.ts_max, g.from_ts, g.to_ts, g.missing, f.id FROM files f"
                       " LEFT JOIN file_gaps g ON g.file_id = f.id"
                       " WHERE f.dataset_id = ? AND f.version_removed IS NULL"
                       " ORDER BY f.day, g.from_ts",
                       &files, err));
    sqlite3_bind_int64(files, 1, dataset_id);
    int64_t prev_max = INT64_MIN, last_file = -1;
    int s;
    while ((s = sqlite3_step(files)) == SQLITE_ROW) {
        int64_t ts_min = sqlite3_column_int64(files, 0), ts_max = sqlite3_column_int64(files, 1);
        int64_t gap[3];
        bool have = false;
        if (sqlite3_column_int64(files, 5) != last_file) { /* first row of a new file */
            if (prev_max != INT64_MIN && ts_min - prev_max > period_us) {
                int64_t missing = (ts_min - prev_max - 1) / period_us;
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, dataset_id);
                sqlite3_bind_int64(ins, 2, prev_max + period_us);
                sqlite3_bind_int64(ins, 3, prev_max + missing * period_us);
                sqlite3_bind_int64(ins, 4, missing);
                DL_TRY(dl_cat_step_done(lake->db, ins, "storing gaps", err));
            }
            prev_max = ts_max;
            last_file = sqlite3_column_int64(files, 5);
        }
        if (sqlite3_column_type(files, 2) != SQLITE_NULL) {
            for (int k = 0; k < 3; k++) gap[k] = sqlite3_column_int64(files, 2 + k);
            have = true;
        }
        if (have) {
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, dataset_id);
            sqlite3_bind_int64(ins, 2, gap[0]);
            sqlite3_bind_int64(ins, 3, gap[1]);
            sqlite3_bind_int64(ins, 4, gap[2]);
            DL_TRY(dl_cat_step_done(lake->db, ins, "storing gaps", err));
        }
    }
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(lake->db, "reading files for gaps", err));
cleanup:
    sqlite3_finalize(del);
    sqlite3_finalize(files);
    sqlite3_finalize(ins);
    return rc;
}
