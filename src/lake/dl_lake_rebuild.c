/*
** dl_lake_rebuild.c -- rebuilding a lost, empty or damaged catalog
** (dl_lake_rebuild_catalog): a lost catalog must never become lost data.
**
** Start: the catalog itself when it is still valid, else the backup
** .dl/catalog.db.bak (written after every commit, so it holds every version
** up to its last commit), else nothing.  Then the files are the truth:
**   - a live day file the start does not know (or knows with another
**     SHA-256) is indexed from the file (schema, rows, time range, gaps;
**     SHA-256 recomputed) in one new version of its dataset; the bytes the
**     start recorded for that day are kept as an archive when they exist;
**   - a day the start lists whose file is gone is marked missing;
**   - a superseded file under .dl/versions/ the start does not know is
**     indexed as the version its name says (v{N} = added in version N),
**     superseded by the next version known for its day;
**   - an unreadable day file is moved to .dl/quarantine/, never indexed.
** Without any start, versions are approximate: a day with no archive is
** taken to exist since version 1, the others since after their newest
** archive.  The rebuilt catalog is written beside the old one and renamed
** over it; the old one is kept as catalog.db.damaged-{time}.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake/dl_catalog.h"
#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "lake/dl_layout.h"
#include "util/dl_internal.h"

/* A day file found in the tree (live) or under .dl/versions (archived). */
typedef struct found_file {
    int32_t day;
    int64_t version; /* archives: N of v{N}.parquet; live: 0 */
    char rel[DL_CAT_PATH_MAX];
} found_file;

typedef struct ds_work {
    char name[DL_DATASET_NAME_MAX];
    found_file *live, *arch;
    int64_t num_live, cap_live, num_arch, cap_arch, max_archive;
} ds_work;

typedef struct rebuild {
    const char *root;
    dl_catalog *cat;
    dl_lake_rebuild_result *out;
    ds_work *ds;
    int64_t num_ds, cap_ds;
} rebuild;

/* What a file says about itself. */
typedef struct file_facts {
    char sha[65];
    int64_t bytes, rows, ts_min, ts_max, mtime_us;
    dl_buf schema_json, gaps;
    dl_schema schema;
} file_facts;

static void facts_free(file_facts *f) {
    dl_buf_free(&f->schema_json);
    dl_buf_free(&f->gaps);
    dl_schema_free(&f->schema);
}

/* Reads schema, rows, time range and gaps from the file's footer and `ts`
** column (converted to us). */
static int read_facts(const char *abs, int64_t period_us, file_facts *f, dl_error *err) {
    int rc = DL_OK;
    dl_parquet_reader *r = NULL;
    dl_table t = {0};
    int64_t *ts = NULL;
    struct stat st;
    if (stat(abs, &st) == 0) f->mtime_us = (int64_t)st.st_mtime * 1000000;
    f->bytes = dl_fs_size(abs);
    DL_TRY(dl_parquet_open(abs, &r, err));
    const dl_schema *schema = dl_parquet_schema(r);
    int c = dl_schema_find(schema, "ts");
    if (c < 0 || schema->fields[c].type != DL_TYPE_TIMESTAMP)
        DL_FAIL(err, DL_ECORRUPT, "%s has no TIMESTAMP column `ts`", abs);
    DL_TRY(dl_parquet_read_table(r, &c, 1, &t, err));
    if (t.num_rows == 0 || t.columns[0].null_count)
        DL_FAIL(err, DL_ECORRUPT, "%s has no rows or a null `ts`", abs);
    ts = malloc((size_t)t.num_rows * sizeof *ts);
    if (!ts) DL_FAIL(err, DL_ENOMEM, "out of memory reading %s", abs);
    const int64_t *raw = t.columns[0].values;
    for (int64_t i = 0; i < t.num_rows; i++) {
        dl_time_unit u = schema->fields[c].unit;
        ts[i] = u == DL_UNIT_MS ? raw[i] * 1000 : u == DL_UNIT_NS ? raw[i] / 1000 : raw[i];
        if (i && ts[i] < ts[i - 1]) DL_FAIL(err, DL_ECORRUPT, "%s is not sorted by ts", abs);
    }
    f->rows = t.num_rows;
    /* num_rows > 0 (checked above), so the loop filled ts[0] */
    // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
    f->ts_min = ts[0];
    f->ts_max = ts[t.num_rows - 1];
    DL_TRY(dl_lake_day_gaps(ts, t.num_rows, period_us, &f->gaps, err));
    DL_TRY(dl_schema_to_json(schema, &f->schema_json, err));
    DL_TRY(dl_schema_copy(&f->schema, schema, err));
cleanup:
    if (rc != DL_OK) dl_lake_name_path(err, abs);
    free(ts);
    dl_table_free(&t);
    dl_parquet_close(r);
    return rc;
}

static ds_work *find_ds(rebuild *rb, const char *name) {
    for (int64_t i = 0; i < rb->num_ds; i++)
        if (strcmp(rb->ds[i].name, name) == 0) return &rb->ds[i];
    if (rb->num_ds == rb->cap_ds) {
        int64_t cap = rb->cap_ds ? 2 * rb->cap_ds : 8;
        ds_work *grown = realloc(rb->ds, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        rb->ds = grown;
        rb->cap_ds = cap;
    }
    ds_work *w = &rb->ds[rb->num_ds++];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    return w;
}

static int add_found(found_file **items, int64_t *n, int64_t *cap, const found_file *f) {
    if (*n == *cap) {
        int64_t c = *cap ? 2 * *cap : 64;
        found_file *grown = realloc(*items, (size_t)c * sizeof *grown);
        if (!grown) return DL_ENOMEM;
        *items = grown;
        *cap = c;
    }
    (*items)[(*n)++] = *f;
    return DL_OK;
}

/* Records one file of the layout: `parts` are the 9 path components below
** the tree's top (5 of the dataset, YYYY, MM, DD, file name). */
static int record_file(rebuild *rb, char parts[9][DL_LAKE_COMPONENT_MAX + 2], const char *rel,
                       bool archive, dl_error *err) {
    found_file f = {0};
    if (archive) {
        const char *p = parts[8];
        char *end = NULL;
        if (p[0] != 'v') return DL_OK;
        long long n = strtoll(p + 1, &end, 10);
        if (n <= 0 || strcmp(end, ".parquet") != 0) return DL_OK;
        f.version = n;
    } else if (strcmp(parts[8], "data.parquet") != 0) {
        return DL_OK;
    }
    char name[DL_DATASET_NAME_MAX];
    snprintf(name, sizeof name, "%s/%s/%s/%s/%s", parts[0], parts[1], parts[2], parts[3], parts[4]);
    dl_dataset_id id;
    dl_error ignored;
    if (dl_dataset_parse(name, &id, &ignored) != DL_OK) return DL_OK;
    f.day = (int32_t)dl_days_from_civil(atoi(parts[5]), atoi(parts[6]), atoi(parts[7]));
    size_t len = strlen(rel);
    if (len >= sizeof f.rel) return DL_OK;
    memcpy(f.rel, rel, len + 1);
    ds_work *w = find_ds(rb, name);
    if (!w) return dl_error_set(err, DL_ENOMEM, "out of memory");
    int rc = archive ? add_found(&w->arch, &w->num_arch, &w->cap_arch, &f)
                     : add_found(&w->live, &w->num_live, &w->cap_live, &f);
    if (archive) w->max_archive = DL_MAX(w->max_archive, f.version);
    return rc == DL_OK ? DL_OK : dl_error_set(err, DL_ENOMEM, "out of memory");
}

/* Walks a layout tree (the live tree, or .dl/versions) below top_rel. */
static int walk(rebuild *rb, const char *top_rel, const char *sub, int depth,
                char parts[9][DL_LAKE_COMPONENT_MAX + 2], bool archive, dl_error *err) {
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s%s%s%s%s", rb->root, top_rel[0] ? "/" : "", top_rel,
                     sub[0] ? "/" : "", sub);
    if (n < 0 || (size_t)n >= sizeof dir) return DL_OK;
    DIR *d = opendir(dir);
    if (!d) return DL_OK;
    struct dirent *e;
    int rc = DL_OK;
    while (rc == DL_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) > DL_LAKE_COMPONENT_MAX) continue;
        char child[4096], rel[4096];
        struct stat st;
        n = snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof child || lstat(child, &st) != 0) continue;
        memcpy(parts[depth], e->d_name, strlen(e->d_name) + 1); /* length checked above */
        n = snprintf(rel, sizeof rel, "%s%s%s%s%s", top_rel, top_rel[0] ? "/" : "", sub,
                     sub[0] ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= DL_CAT_PATH_MAX) continue;
        if (depth < 8 && S_ISDIR(st.st_mode) &&
            dl_layout_classify(e->d_name, depth, true) == DL_LAYOUT_DIR) {
            char next[4096];
            snprintf(next, sizeof next, "%s%s%s", sub, sub[0] ? "/" : "", e->d_name);
            rc = walk(rb, top_rel, next, depth + 1, parts, archive, err);
        } else if (depth == 8 && S_ISREG(st.st_mode)) {
            rc = record_file(rb, parts, rel, archive, err);
        }
    }
    closedir(d);
    return rc;
}

static int quarantine_file(rebuild *rb, const char *rel, dl_error *err) {
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/%s", rb->root, rel);
    snprintf(to, sizeof to, "%s/.dl/quarantine/%s.%lld", rb->root, rel, (long long)dl_now_us());
    int rc = dl_fs_mkdirs_parent(to, err);
    if (rc == DL_OK && dl_io_rename(from, to) != 0)
        rc = dl_error_set(err, DL_EIO, "cannot move %s to %s: %s", from, to, strerror(errno));
    if (rc == DL_OK) rb->out->quarantined++;
    return rc;
}

static int compare_live_day(const void *a, const void *b) {
    const dl_cat_live_file *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* Descending version: an archive's successor is indexed before it. */
static int compare_arch(const void *a, const void *b) {
    const found_file *x = a, *y = b;
    if (x->day != y->day) return (x->day > y->day) - (x->day < y->day);
    return (x->version < y->version) - (x->version > y->version);
}

/* The archive link of a catalogued file when it holds the recorded bytes. */
static bool archive_of(rebuild *rb, const char *name, const dl_cat_live_file *row,
                       char rel[DL_CAT_PATH_MAX]) {
    char abs[4096], sha[65];
    dl_error ignored;
    if (dl_layout_archive_path(name, row->day, row->version_added, rel, DL_CAT_PATH_MAX) != DL_OK)
        return false;
    snprintf(abs, sizeof abs, "%s/%s", rb->root, rel);
    return dl_sha256_file(abs, sha, &ignored) == DL_OK && strcmp(sha, row->sha256) == 0;
}

typedef struct ds_rebuild {
    rebuild *rb;
    ds_work *w;
    int64_t id, current, version, period_us, rows_written, added, replaced;
    bool fresh, changed;
    dl_schema schema;
} ds_rebuild;

static int add_row(ds_rebuild *d, const found_file *f, const file_facts *facts,
                   int64_t version_added, int64_t version_removed, dl_error *err) {
    dl_cat_file_row row = {
        .dataset_id = d->id,
        .day = f->day,
        .path = f->version ? "" : f->rel,
        .sha256 = facts->sha,
        .schema_json = (const char *)facts->schema_json.data,
        .bytes = facts->bytes,
        .rows = facts->rows,
        .ts_min = facts->ts_min,
        .ts_max = facts->ts_max,
        .version_added = version_added,
        .version_removed = version_removed,
        .archive_path = f->version ? f->rel : NULL,
        .gaps = (const int64_t *)facts->gaps.data,
        .num_gaps = (int64_t)(facts->gaps.len / (3 * sizeof(int64_t))),
    };
    char live_rel[DL_CAT_PATH_MAX];
    if (f->version) { /* an archive: its live path is the day's */
        dl_layout_day_path(d->w->name, f->day, live_rel, sizeof live_rel);
        row.path = live_rel;
    }
    int rc = dl_cat_add_file(d->rb->cat, &row, NULL, err);
    if (rc == DL_OK) rc = dl_schema_union(&d->schema, &facts->schema, f->rel, err);
    if (rc == DL_OK && version_added != d->version) {
        dl_cat_version_row v = {
            d->id, version_added, facts->mtime_us, 0, 0, 0, 0, "reconstructed from the files"};
        rc = dl_cat_add_version_if_missing(d->rb->cat, &v, err);
    }
    d->changed = true;
    return rc;
}

/* The live files of one dataset against what the start recorded. */
static int rebuild_live(ds_rebuild *d, dl_cat_live_file *rows, int64_t num_rows, bool *seen,
                        dl_error *err) {
    int rc = DL_OK;
    file_facts facts;
    for (int64_t i = 0; i < d->w->num_live && rc == DL_OK; i++) {
        const found_file *f = &d->w->live[i];
        char abs[4096];
        snprintf(abs, sizeof abs, "%s/%s", d->rb->root, f->rel);
        memset(&facts, 0, sizeof facts);
        dl_schema_init(&facts.schema);
        dl_cat_live_file key = {.day = f->day};
        dl_cat_live_file *row =
            num_rows ? bsearch(&key, rows, (size_t)num_rows, sizeof *rows, compare_live_day) : NULL;
        rc = dl_sha256_file(abs, facts.sha, err);
        if (rc == DL_OK && row && strcmp(row->sha256, facts.sha) == 0) {
            seen[row - rows] = true;
            facts_free(&facts);
            continue;
        }
        dl_error read_err;
        if (rc == DL_OK && read_facts(abs, d->period_us, &facts, &read_err) != DL_OK) {
            facts_free(&facts);
            rc = quarantine_file(d->rb, f->rel, err);
            continue;
        }
        if (rc == DL_OK && row) {
            char arch[DL_CAT_PATH_MAX];
            seen[row - rows] = true;
            rc = dl_cat_retire_file(d->rb->cat, row->file_id, d->version,
                                    archive_of(d->rb, d->w->name, row, arch) ? arch : NULL, err);
            d->replaced++;
        } else if (rc == DL_OK) {
            d->added++;
        }
        /* With no start, a day never superseded is taken to exist since 1. */
        bool has_archive = false;
        for (int64_t k = 0; k < d->w->num_arch; k++) has_archive |= d->w->arch[k].day == f->day;
        int64_t added_in = d->fresh && !has_archive ? 1 : d->version;
        if (rc == DL_OK) rc = add_row(d, f, &facts, added_in, 0, err);
        if (rc == DL_OK) rc = dl_cat_clear_missing(d->rb->cat, d->id, f->day, err);
        d->rows_written += facts.rows;
        d->rb->out->files_indexed++;
        facts_free(&facts);
    }
    return rc;
}

/* Catalogued live days whose file is gone: kept as an archive when its
** link exists, and marked missing. */
static int rebuild_gone(ds_rebuild *d, dl_cat_live_file *rows, int64_t num_rows, const bool *seen,
                        dl_error *err) {
    int rc = DL_OK;
    for (int64_t i = 0; i < num_rows && rc == DL_OK; i++) {
        if (seen[i]) continue;
        char arch[DL_CAT_PATH_MAX];
        rc = dl_cat_retire_file(d->rb->cat, rows[i].file_id, d->version,
                                archive_of(d->rb, d->w->name, &rows[i], arch) ? arch : NULL, err);
        if (rc == DL_OK)
            rc = dl_cat_mark_missing(d->rb->cat, d->id, rows[i].day, d->version,
                                     "its file was gone when the catalog was rebuilt", err);
        d->rb->out->days_missing++;
        d->changed = true;
    }
    return rc;
}

/* Superseded files under .dl/versions the start does not know. */
static int rebuild_archives(ds_rebuild *d, dl_error *err) {
    int rc = DL_OK;
    file_facts facts;
    if (d->w->num_arch > 1) /* qsort wants an array: arch is NULL when empty */
        qsort(d->w->arch, (size_t)d->w->num_arch, sizeof *d->w->arch, compare_arch);
    for (int64_t i = 0; i < d->w->num_arch && rc == DL_OK; i++) {
        const found_file *f = &d->w->arch[i];
        bool known = false;
        rc = dl_cat_archive_known(d->rb->cat, f->rel, &known, err);
        if (rc != DL_OK || known) continue;
        char abs[4096];
        snprintf(abs, sizeof abs, "%s/%s", d->rb->root, f->rel);
        memset(&facts, 0, sizeof facts);
        dl_schema_init(&facts.schema);
        dl_error read_err;
        if (dl_sha256_file(abs, facts.sha, &read_err) != DL_OK ||
            read_facts(abs, d->period_us, &facts, &read_err) != DL_OK) {
            facts_free(&facts);
            rc = quarantine_file(d->rb, f->rel, err);
            continue;
        }
        int64_t next = 0;
        rc = dl_cat_next_version_of_day(d->rb->cat, d->id, f->day, f->version, &next, err);
        if (rc == DL_OK && next == 0) {
            next = d->version; /* nothing newer of this day survives */
            rc = dl_cat_mark_missing(d->rb->cat, d->id, f->day, d->version,
                                     "only older versions of the day were found", err);
        }
        if (rc == DL_OK) rc = add_row(d, f, &facts, f->version, next, err);
        d->rb->out->archives_indexed++;
        facts_free(&facts);
    }
    return rc;
}

static int rebuild_dataset(rebuild *rb, ds_work *w, dl_error *err) {
    int rc = DL_OK;
    dl_cat_live_file *rows = NULL;
    bool *seen = NULL, found = false;
    int64_t num_rows = 0;
    dl_buf json = DL_BUF_INIT;
    ds_rebuild d = {rb, w};
    dl_schema_init(&d.schema);
    dl_dataset_id id;
    DL_TRY(dl_dataset_parse(w->name, &id, err));
    d.period_us = dl_dataset_period_us(id.period);
    DL_TRY(dl_cat_dataset_state(rb->cat, w->name, &found, &d.id, &d.current, &d.schema, err));
    if (!found) DL_TRY(dl_cat_create_dataset(rb->cat, w->name, &id, d.period_us, &d.id, err));
    d.fresh = !found;
    d.version = DL_MAX(d.current, w->max_archive) + 1;
    DL_TRY(dl_cat_live_files(rb->cat, d.id, &rows, &num_rows, err));
    seen = calloc((size_t)num_rows + 1, sizeof *seen);
    if (!seen) DL_FAIL(err, DL_ENOMEM, "out of memory");
    DL_TRY(rebuild_live(&d, rows, num_rows, seen, err));
    DL_TRY(rebuild_gone(&d, rows, num_rows, seen, err));
    DL_TRY(rebuild_archives(&d, err));
    if (d.changed) {
        dl_cat_version_row v = {
            d.id,           d.version, dl_now_us(), 0,
            d.rows_written, d.added,   d.replaced,  "catalog rebuilt from the files"};
        DL_TRY(dl_cat_add_version(rb->cat, &v, err));
        if (dl_schema_find(&d.schema, "ts") < 0)
            DL_TRY(dl_schema_add_timestamp(&d.schema, "ts", DL_UNIT_US, false, err));
        DL_TRY(dl_schema_to_json(&d.schema, &json, err));
        DL_TRY(dl_cat_update_dataset(rb->cat, d.id, d.version, (const char *)json.data, err));
        DL_TRY(dl_cat_refresh_gaps(rb->cat, d.id, d.period_us, err));
    }
cleanup:
    dl_schema_free(&d.schema);
    dl_buf_free(&json);
    free(rows);
    free(seen);
    return rc;
}

/* Where the rebuild starts: a copy of the catalog or of the backup (when
** valid) at `path`, else nothing. */
static int copy_start(const char *root, const char *path, dl_lake_rebuild_result *out,
                      dl_error *err) {
    char catalog[4096], backup[4096], wal[4200];
    dl_error check_err;
    snprintf(catalog, sizeof catalog, "%s/.dl/catalog.db", root);
    snprintf(backup, sizeof backup, "%s/.dl/catalog.db.bak", root);
    snprintf(wal, sizeof wal, "%s-wal", catalog);
    /* A catalog with WAL content is checked through SQLite with its WAL:
    ** open it the ordinary way (read-only) and back it up. */
    dl_catalog *cat = NULL;
    if (dl_fs_size(catalog) > 0 && dl_cat_open(root, DL_CAT_READ, &cat, &check_err) == DL_OK) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        int rc = dl_cat_backup(cat, tmp, path, err);
        dl_cat_close(cat);
        if (rc == DL_OK && dl_cat_check_file(path, &check_err) == DL_OK) {
            out->from_catalog = true;
            return DL_OK;
        }
        unlink(path);
    }
    if (dl_cat_check_file(backup, &check_err) == DL_OK) {
        int rc = dl_fs_copy_file(backup, path, err);
        if (rc == DL_OK) out->from_backup = true;
        return rc;
    }
    return DL_OK;
}

/* Puts the rebuilt catalog in place, keeping the old one (and its WAL). */
static int swap_in(const char *root, const char *rebuilt, dl_error *err) {
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char from[4200], to[4300], dir[4096];
    long long now = (long long)dl_now_us();
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof from, "%s/.dl/catalog.db%s", root, suffixes[i]);
        snprintf(to, sizeof to, "%s/.dl/catalog.db.damaged-%lld%s", root, now, suffixes[i]);
        if (dl_io_rename(from, to) != 0 && errno != ENOENT)
            return dl_error_set(err, DL_EIO, "cannot move %s aside: %s", from, strerror(errno));
    }
    snprintf(to, sizeof to, "%s/.dl/catalog.db", root);
    if (dl_io_rename(rebuilt, to) != 0)
        return dl_error_set(err, DL_EIO, "cannot rename %s to %s: %s", rebuilt, to,
                            strerror(errno));
    snprintf(dir, sizeof dir, "%s/.dl", root);
    return dl_fs_fsync_path(dir, err);
}

int dl_lake_rebuild_catalog(const char *root, dl_lake_rebuild_result *out, dl_error *err) {
    int rc = DL_OK;
    dl_lake_rebuild_result ignored_out;
    rebuild rb = {root, NULL, out ? out : &ignored_out};
    char path[4096], parts[9][DL_LAKE_COMPONENT_MAX + 2];
    if (!root || !root[0]) return dl_error_set(err, DL_EINVAL, "the lake root is missing");
    memset(rb.out, 0, sizeof *rb.out);
    snprintf(path, sizeof path, "%s/.dl/catalog.db.rebuild", root);
    for (int i = 0; i < 3; i++) {
        char stale[4200];
        snprintf(stale, sizeof stale, "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
        unlink(stale);
    }
    snprintf(parts[0], sizeof parts[0], "%s", ".dl");
    {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/.dl", root);
        DL_TRY(dl_fs_mkdirs(dir, err));
        /* A dead writer's half publish is rolled back first (an ordinary
        ** writable open does it), so the files are a committed state. */
        dl_lake *lake = NULL;
        dl_error open_err;
        if (dl_lake_open(root, false, &lake, &open_err) == DL_OK) dl_lake_close(lake);
    }
    DL_TRY(copy_start(root, path, rb.out, err));
    DL_TRY(dl_cat_open_file(root, path, DL_CAT_CREATE, &rb.cat, err));
    int64_t pending = 0;
    DL_TRY(dl_cat_pending_count(rb.cat, &pending, err));
    if (pending > 0)
        DL_FAIL(err, DL_ECONFLICT,
                "a writer of %s is still publishing (%lld pending operations); rebuild the "
                "catalog when no writer runs",
                root, (long long)pending);
    DL_TRY(walk(&rb, "", "", 0, parts, false, err));
    DL_TRY(walk(&rb, ".dl/versions", "", 0, parts, true, err));
    DL_TRY(dl_cat_begin(rb.cat, err));
    for (int64_t i = 0; i < rb.num_ds; i++) DL_TRY(rebuild_dataset(&rb, &rb.ds[i], err));
    DL_TRY(dl_cat_commit(rb.cat, err));
    {
        dl_cat_dataset_ref *refs = NULL;
        int64_t n = 0;
        DL_TRY(dl_cat_dataset_refs(rb.cat, NULL, &refs, &n, err));
        rb.out->datasets = n;
        for (int64_t i = 0; i < n; i++) rb.out->versions += refs[i].current_version;
        free(refs);
    }
    dl_cat_close(rb.cat);
    rb.cat = NULL;
    DL_TRY(dl_fs_fsync_path(path, err));
    DL_TRY(swap_in(root, path, err));
    {
        dl_lake *lake = NULL;
        DL_TRY(dl_lake_open(root, false, &lake, err));
        rc = dl_lake_backup_catalog(lake, true, err);
        dl_lake_close(lake);
    }
cleanup:
    if (rb.cat) {
        dl_cat_rollback(rb.cat);
        dl_cat_close(rb.cat);
    }
    for (int64_t i = 0; i < rb.num_ds; i++) {
        free(rb.ds[i].live);
        free(rb.ds[i].arch);
    }
    free(rb.ds);
    return rc;
}
