/*
** dl_catalog.c -- the lake's SQLite catalog, and the only file of the
** library that holds SQL: opening (read-only, read-write, create), the
** versioned stored format and its migrations, transactions, the online
** backup, and one function per question or fact the lake has.
**
** The catalog lives at {root}/.dl/catalog.db, beside the data but outside
** the live tree, so tools that glob the tree only ever see Parquet files.
**
** STORED FORMAT AND MIGRATIONS.  PRAGMA user_version holds the number of
** migrations applied.  On a read-write open an older catalog is migrated
** (each step in the same transaction as the new user_version, so a crash
** leaves the old or the new format, never half); a newer one is refused with
** DL_EUNSUPPORTED; a read-only open refuses any other version (it cannot
** change the file).  TO ADD A TABLE OR COLUMN: append ONE string to
** `migrations` below (never edit or reorder a released entry), e.g.
**
**     /+ 3 +/ "CREATE TABLE api_tokens(id INTEGER PRIMARY KEY, hash TEXT NOT NULL);",
**
** and put the statements that use it here (a new section, prepared through
** `stmt()`), or in a sibling dl_catalog_<topic>.c that uses the same
** helpers.  The migration test (tests/unit/test_lake_catalog.c) opens a
** catalog of every earlier format, so a broken step fails there.
** Catalogs made before versioning (user_version 0 with tables) are format 0;
** migration 1 is written with IF NOT EXISTS so it applies to them as is.
**
** READ-ONLY OPENS (DL_CAT_READ).  `mode=ro`: no journal-mode change and no
** write.  A WAL database opened read-only still needs its -shm file, which
** SQLite creates beside the database; where the directory is not writable
** (a read-only mount, another user's lake) that fails, and we fall back to
** `immutable=1` (no locks, no -shm) when no WAL content is pending, or to a
** private copy of catalog.db + catalog.db-wal in $TMPDIR when it is (an
** immutable open would silently ignore the WAL's committed transactions).
** Either way the reader sees one committed state and cannot see a writer
** of another user that commits meanwhile.
**
** THREADS.  A connection is opened SQLITE_OPEN_NOMUTEX: a catalog (and the
** dl_lake that owns it) is used by one thread at a time.
*/
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake/dl_catalog_ext.h"
#include "lake/dl_fsio.h"
#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"

/* ------------------------------------------------------------------ */
/* stored format                                                        */
/* ------------------------------------------------------------------ */

static const char *const migrations[] = {
    /* 1: the original tables */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS datasets("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  exchange TEXT NOT NULL, market TEXT NOT NULL, symbol TEXT NOT NULL,"
    "  type TEXT NOT NULL, period TEXT NOT NULL, period_us INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, current_version INTEGER NOT NULL DEFAULT 0,"
    "  schema TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE IF NOT EXISTS versions("
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id), version INTEGER NOT NULL,"
    "  committed_at INTEGER NOT NULL, run_id INTEGER, rows_written INTEGER NOT NULL,"
    "  files_added INTEGER NOT NULL, files_replaced INTEGER NOT NULL,"
    "  message TEXT NOT NULL DEFAULT '', vacuumed INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(dataset_id, version));"
    "CREATE TABLE IF NOT EXISTS files("
    "  id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
    "  day INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL, rows INTEGER NOT NULL, ts_min INTEGER NOT NULL,"
    "  ts_max INTEGER NOT NULL, schema TEXT NOT NULL, version_added INTEGER NOT NULL,"
    "  version_removed INTEGER, archive_path TEXT);"
    "CREATE UNIQUE INDEX IF NOT EXISTS files_live ON files(dataset_id, day)"
    "  WHERE version_removed IS NULL;"
    "CREATE INDEX IF NOT EXISTS files_by_day ON files(dataset_id, day, version_added);"
    "CREATE TABLE IF NOT EXISTS file_gaps("
    "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    "  from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL, missing INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS file_gaps_by_file ON file_gaps(file_id);"
    "CREATE TABLE IF NOT EXISTS gaps("
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id), from_ts INTEGER NOT NULL,"
    "  to_ts INTEGER NOT NULL, missing INTEGER NOT NULL, PRIMARY KEY(dataset_id, from_ts));"
    "CREATE TABLE IF NOT EXISTS ingest_runs("
    "  id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, finished_at INTEGER,"
    "  command TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, rows_in INTEGER NOT NULL DEFAULT 0,"
    "  days_written INTEGER NOT NULL DEFAULT 0, versions_created INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS pending("
    "  id INTEGER PRIMARY KEY, owner TEXT NOT NULL, dataset TEXT NOT NULL,"
    "  live_path TEXT NOT NULL, tmp_path TEXT NOT NULL, old_sha TEXT, new_sha TEXT NOT NULL,"
    "  archive_path TEXT);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('format', '1');",
    /* 2: days whose file was lost or damaged (repair marks them; a re-ingest
    ** or a restore from versions/ clears the mark) */
    "CREATE TABLE missing_days("
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id), day INTEGER NOT NULL,"
    "  version INTEGER NOT NULL, reason TEXT NOT NULL, marked_at INTEGER NOT NULL,"
    "  PRIMARY KEY(dataset_id, day));",
    /* 3: the feature store (src/features/dl_feat_catalog.c holds its SQL):
    ** versions, their per-symbol datasets and sources, the alias history;
    ** version_pins lists source versions vacuum keeps.  IF NOT EXISTS: lakes
    ** of the first feature-store build created these tables on first use. */
    "CREATE TABLE IF NOT EXISTS feature_versions("
    "  name TEXT NOT NULL, version TEXT NOT NULL, identity TEXT NOT NULL,"
    "  committed_at INTEGER NOT NULL, deleted_at INTEGER,"
    "  rows INTEGER NOT NULL, symbols INTEGER NOT NULL,"
    "  ts_min INTEGER NOT NULL, ts_max INTEGER NOT NULL,"
    "  schema TEXT NOT NULL, lineage TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY(name, version));"
    "CREATE TABLE IF NOT EXISTS feature_datasets("
    "  name TEXT NOT NULL, version TEXT NOT NULL, symbol TEXT NOT NULL,"
    "  dataset TEXT NOT NULL, lake_version INTEGER NOT NULL, rows INTEGER NOT NULL,"
    "  PRIMARY KEY(name, version, symbol));"
    "CREATE TABLE IF NOT EXISTS feature_sources("
    "  name TEXT NOT NULL, version TEXT NOT NULL, dataset TEXT NOT NULL,"
    "  lake_version INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS feature_sources_by_dataset ON feature_sources(dataset);"
    "CREATE TABLE IF NOT EXISTS feature_aliases("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, alias TEXT NOT NULL,"
    "  version TEXT, set_at INTEGER NOT NULL);"
    "CREATE VIEW IF NOT EXISTS version_pins AS SELECT s.dataset AS dataset,"
    "  s.lake_version AS version FROM feature_sources s JOIN feature_versions v"
    "  ON v.name = s.name AND v.version = s.version WHERE v.deleted_at IS NULL;",
    /* 4: bearer tokens of the data server (src/lake/dl_token.c): only the
    ** SHA-256 of a token's secret is stored */
    "CREATE TABLE tokens("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, scope INTEGER NOT NULL,"
    "  datasets TEXT NOT NULL DEFAULT '', hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,"
    "  revoked_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at = 0;",
};

#define NUM_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int dl_cat_format_version(void) {
    return NUM_MIGRATIONS;
}

/* ------------------------------------------------------------------ */
/* statements                                                           */
/* ------------------------------------------------------------------ */

/* Every statement the lake runs more than once, prepared on first use. */
typedef enum stmt_id {
    ST_DATASET_ID,
    ST_DATASET_STATE,
    ST_DATASET_CREATE,
    ST_DATASET_UPDATE,
    ST_DATASET_REFS,
    ST_VERSION_READABLE,
    ST_VERSION_AT,
    ST_HISTORY,
    ST_VERSION_ADD,
    ST_VERSION_ADD_IF_MISSING,
    ST_ARCHIVE_KNOWN,
    ST_NEXT_VERSION_OF_DAY,
    ST_MARK_VACUUMED,
    ST_OLDEST_PINNED,
    ST_LIVE_FILES,
    ST_FILES_AT,
    ST_FILE_ADD,
    ST_FILE_GAP_ADD,
    ST_FILE_RETIRE,
    ST_FILE_DELETE,
    ST_FILE_FORGET_ARCHIVE,
    ST_EACH_FILE,
    ST_SUPERSEDED,
    ST_LATEST_ARCHIVE,
    ST_FILE_CLONE,
    ST_GAPS,
    ST_GAPS_CLEAR,
    ST_GAP_ADD,
    ST_GAP_SOURCES,
    ST_TOTAL_MISSING,
    ST_MISSING_MARK,
    ST_MISSING_CLEAR,
    ST_MISSING_EACH,
    ST_RUN_ADD,
    ST_RUN_VERSIONS,
    ST_PENDING_ADD,
    ST_PENDING_LIST,
    ST_PENDING_CLEAR_DATASET,
    ST_PENDING_CLEAR_OWNER,
    ST_PENDING_COUNT,
    ST_COUNT_
} stmt_id;

#define INFO_COLUMNS                                                                               \
    "SELECT d.name, d.exchange, d.market, d.symbol, d.type, d.period, d.current_version,"          \
    "  d.period_us,"                                                                               \
    "  (SELECT count(*) FROM files f WHERE f.dataset_id = d.id AND f.version_removed IS NULL),"    \
    "  (SELECT coalesce(sum(rows), 0) FROM files f WHERE f.dataset_id = d.id"                      \
    "     AND f.version_removed IS NULL),"                                                         \
    "  (SELECT coalesce(sum(bytes), 0) FROM files f WHERE f.dataset_id = d.id"                     \
    "     AND f.version_removed IS NULL),"                                                         \
    "  (SELECT min(ts_min) FROM files f WHERE f.dataset_id = d.id AND f.version_removed IS NULL)," \
    "  (SELECT max(ts_max) FROM files f WHERE f.dataset_id = d.id AND f.version_removed IS NULL)," \
    "  (SELECT count(*) FROM gaps g WHERE g.dataset_id = d.id),"                                   \
    "  (SELECT coalesce(sum(missing), 0) FROM gaps g WHERE g.dataset_id = d.id)"                   \
    " FROM datasets d WHERE (?1 IS NULL OR d.name = ?1) ORDER BY d.name"

/* Where the committed bytes of a live file are while a writer publishes
** over it: the archive link of its pending operation (made before the
** rename, see dl_lake_write.c), when that link exists yet. */
#define PENDING_ARCHIVE                                                                            \
    " (SELECT p.archive_path FROM pending p WHERE p.live_path = f.path"                            \
    "   AND f.version_removed IS NULL AND p.archive_path IS NOT NULL LIMIT 1)"

static const char *const stmt_sql[ST_COUNT_] = {
    [ST_DATASET_ID] = "SELECT id, current_version FROM datasets WHERE name = ?",
    [ST_DATASET_STATE] = "SELECT id, current_version, schema FROM datasets WHERE name = ?",
    [ST_DATASET_CREATE] = "INSERT INTO datasets(name, exchange, market, symbol, type, period,"
                          " period_us, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_DATASET_UPDATE] = "UPDATE datasets SET current_version = ?, schema = ? WHERE id = ?",
    [ST_DATASET_REFS] = "SELECT id, current_version, period_us, name FROM datasets"
                        " WHERE (?1 IS NULL OR name = ?1) ORDER BY name",
    [ST_VERSION_READABLE] = "SELECT vacuumed FROM versions WHERE dataset_id = ? AND version = ?",
    [ST_VERSION_AT] =
        "SELECT max(version) FROM versions WHERE dataset_id = ? AND committed_at <= ?",
    [ST_HISTORY] = "SELECT version, committed_at, run_id, rows_written, files_added,"
                   " files_replaced, vacuumed, message FROM versions WHERE dataset_id = ?"
                   " ORDER BY version",
    [ST_VERSION_ADD] = "INSERT INTO versions(dataset_id, version, committed_at, run_id,"
                       " rows_written, files_added, files_replaced, message)"
                       " VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_VERSION_ADD_IF_MISSING] = "INSERT OR IGNORE INTO versions(dataset_id, version,"
                                  " committed_at, run_id, rows_written, files_added,"
                                  " files_replaced, message) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ARCHIVE_KNOWN] = "SELECT 1 FROM files WHERE archive_path = ? LIMIT 1",
    [ST_NEXT_VERSION_OF_DAY] = "SELECT min(version_added) FROM files WHERE dataset_id = ?"
                               " AND day = ? AND version_added > ?",
    [ST_MARK_VACUUMED] = "UPDATE versions SET vacuumed = 1 WHERE dataset_id = ? AND version < ?"
                         " AND vacuumed = 0",
    [ST_OLDEST_PINNED] = "SELECT min(p.version) FROM version_pins p JOIN datasets d"
                         " ON d.name = p.dataset WHERE d.id = ?",
    [ST_LIVE_FILES] = "SELECT day, id, version_added, sha256, bytes FROM files"
                      " WHERE dataset_id = ? AND version_removed IS NULL ORDER BY day",
    [ST_FILES_AT] = "SELECT CASE WHEN version_removed IS NULL THEN path ELSE archive_path END,"
                    " day, rows, bytes, ts_min, ts_max, version_added, sha256," PENDING_ARCHIVE
                    " FROM files f WHERE dataset_id = ?1 AND version_added <= ?2"
                    " AND (version_removed IS NULL OR version_removed > ?2)"
                    " AND ts_max >= ?3 AND ts_min < ?4 ORDER BY day",
    [ST_FILE_ADD] = "INSERT INTO files(dataset_id, day, path, sha256, bytes, rows, ts_min,"
                    " ts_max, schema, version_added, version_removed, archive_path)"
                    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_FILE_GAP_ADD] = "INSERT INTO file_gaps(file_id, from_ts, to_ts, missing)"
                        " VALUES(?, ?, ?, ?)",
    [ST_FILE_RETIRE] = "UPDATE files SET version_removed = ?, archive_path = ? WHERE id = ?",
    [ST_FILE_DELETE] = "DELETE FROM files WHERE id = ?",
    [ST_FILE_FORGET_ARCHIVE] = "UPDATE files SET archive_path = NULL WHERE id = ?",
    [ST_EACH_FILE] =
        "SELECT f.id, f.dataset_id, f.day,"
        " CASE WHEN f.version_removed IS NULL THEN f.path ELSE f.archive_path END,"
        " f.sha256, f.bytes, f.version_removed IS NULL," PENDING_ARCHIVE " FROM files f"
        " JOIN datasets d ON d.id = f.dataset_id WHERE (?1 IS NULL OR d.name = ?1)"
        " AND (f.version_removed IS NULL OR f.archive_path IS NOT NULL) ORDER BY 4",
    [ST_SUPERSEDED] = "SELECT id, archive_path, bytes FROM files WHERE dataset_id = ?"
                      " AND version_removed IS NOT NULL AND version_removed <= ? ORDER BY id",
    [ST_LATEST_ARCHIVE] = "SELECT archive_path, sha256, id FROM files WHERE dataset_id = ?"
                          " AND day = ? AND version_removed IS NOT NULL"
                          " AND archive_path IS NOT NULL ORDER BY version_added DESC LIMIT 1",
    [ST_FILE_CLONE] = "INSERT INTO files(dataset_id, day, path, sha256, bytes, rows, ts_min,"
                      " ts_max, schema, version_added) SELECT dataset_id, day, ?2, sha256, bytes,"
                      " rows, ts_min, ts_max, schema, ?3 FROM files WHERE id = ?1",
    [ST_GAPS] = "SELECT from_ts, to_ts, missing FROM gaps WHERE dataset_id = ? ORDER BY from_ts",
    [ST_GAPS_CLEAR] = "DELETE FROM gaps WHERE dataset_id = ?",
    [ST_GAP_ADD] = "INSERT INTO gaps(dataset_id, from_ts, to_ts, missing) VALUES(?, ?, ?, ?)",
    [ST_GAP_SOURCES] = "SELECT f.ts_min, f.ts_max, g.from_ts, g.to_ts, g.missing, f.id FROM files f"
                       " LEFT JOIN file_gaps g ON g.file_id = f.id"
                       " WHERE f.dataset_id = ? AND f.version_removed IS NULL"
                       " ORDER BY f.day, g.from_ts",
    [ST_TOTAL_MISSING] = "SELECT coalesce(sum(missing), 0) FROM gaps",
    [ST_MISSING_MARK] = "INSERT OR REPLACE INTO missing_days(dataset_id, day, version, reason,"
                        " marked_at) VALUES(?, ?, ?, ?, ?)",
    [ST_MISSING_CLEAR] = "DELETE FROM missing_days WHERE dataset_id = ? AND day = ?",
    [ST_MISSING_EACH] = "SELECT d.name, m.day, m.version, m.reason FROM missing_days m"
                        " JOIN datasets d ON d.id = m.dataset_id"
                        " WHERE (?1 IS NULL OR d.name = ?1) ORDER BY d.name, m.day",
    [ST_RUN_ADD] = "INSERT INTO ingest_runs(started_at, finished_at, command, status, rows_in,"
                   " days_written, versions_created) VALUES(?, ?, ?, ?, ?, ?, ?)",
    [ST_RUN_VERSIONS] = "UPDATE ingest_runs SET versions_created = ? WHERE id = ?",
    [ST_PENDING_ADD] = "INSERT INTO pending(owner, dataset, live_path, tmp_path, old_sha, new_sha,"
                       " archive_path) VALUES(?, ?, ?, ?, ?, ?, ?)",
    [ST_PENDING_LIST] = "SELECT dataset, live_path, tmp_path, old_sha, new_sha, archive_path"
                        " FROM pending WHERE (?1 IS NULL OR dataset = ?1) ORDER BY id DESC",
    [ST_PENDING_CLEAR_DATASET] = "DELETE FROM pending WHERE dataset = ?",
    [ST_PENDING_CLEAR_OWNER] = "DELETE FROM pending WHERE owner = ?",
    [ST_PENDING_COUNT] = "SELECT count(*) FROM pending",
};

struct dl_catalog {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT_];
    char path[4096];
    char root[4096];
    char copy_dir[4096]; /* private snapshot directory to remove on close ("" = none) */
    bool snapshot;
};

static int cat_fail(dl_catalog *c, const char *what, dl_error *err) {
    return dl_error_set(err, DL_EIO, "catalog %s: %s: %s", c->path, what,
                        c->db ? sqlite3_errmsg(c->db) : "no connection");
}

static int exec_sql(dl_catalog *c, const char *sql, dl_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = dl_error_set(err, DL_EIO, "catalog %s: %s (in: %.60s)", c->path,
                              msg ? msg : "error", sql);
        sqlite3_free(msg);
        return rc;
    }
    return DL_OK;
}

/* The cached statement `id`, reset and with its bindings cleared. */
static sqlite3_stmt *stmt(dl_catalog *c, stmt_id id, dl_error *err) {
    sqlite3_stmt *st = c->stmts[id];
    if (!st) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            dl_error_set(err, DL_EIO, "catalog %s: cannot prepare \"%.60s\": %s", c->path,
                         stmt_sql[id], sqlite3_errmsg(c->db));
            return NULL;
        }
        c->stmts[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Runs a statement that returns no rows. */
static int step_done(dl_catalog *c, sqlite3_stmt *st, const char *what, dl_error *err) {
    int s = sqlite3_step(st);
    int rc = (s == SQLITE_DONE || s == SQLITE_ROW) ? DL_OK : cat_fail(c, what, err);
    sqlite3_reset(st);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s) {
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i) {
    snprintf(dst, size, "%s", col_text(st, i));
}

/* Grows *items (element size `elem`) to hold n + 1 elements. */
static int grow(void **items, int64_t n, int64_t *cap, size_t elem, dl_error *err) {
    if (n < *cap) return DL_OK;
    int64_t new_cap = *cap ? 2 * *cap : 16;
    size_t bytes;
    if (dl_size_mul((size_t)new_cap, elem, &bytes) != 0)
        return dl_error_set(err, DL_ENOMEM, "catalog listing too large");
    void *grown = realloc(*items, bytes);
    if (!grown) return dl_error_set(err, DL_ENOMEM, "out of memory reading the catalog");
    *items = grown;
    *cap = new_cap;
    return DL_OK;
}

/* The relative path holding the committed bytes of a file row: `rel`, or
** the archive link of a writer publishing over it (column `col`). */
static const char *committed_rel(dl_catalog *c, sqlite3_stmt *st, int rel_col, int col) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return col_text(st, rel_col);
    char abs[8200];
    snprintf(abs, sizeof abs, "%s/%s", c->root, col_text(st, col));
    return dl_fs_exists(abs) ? col_text(st, col) : col_text(st, rel_col);
}

/* ------------------------------------------------------------------ */
/* opening                                                              */
/* ------------------------------------------------------------------ */

/* "file:" URI of a path: everything but unreserved characters escaped. */
static int file_uri(const char *path, const char *query, char *buf, size_t size, dl_error *err) {
    size_t n = 0;
    int w = snprintf(buf, size, "file:");
    n = (size_t)w;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("/-_.~", *p);
        if (n + 4 >= size) return dl_error_set(err, DL_EINVAL, "path too long: %s", path);
        if (plain)
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, size - n, "%%%02X", *p);
    }
    w = snprintf(buf + n, size - n, "?%s", query);
    if (w < 0 || (size_t)w >= size - n)
        return dl_error_set(err, DL_EINVAL, "path too long: %s", path);
    return DL_OK;
}

static int open_db(dl_catalog *c, const char *target, int flags, dl_error *err) {
    if (sqlite3_open_v2(target, &c->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) ==
        SQLITE_OK)
        return DL_OK;
    int code = c->db ? sqlite3_errcode(c->db) : SQLITE_NOMEM;
    int rc = dl_error_set(err, code == SQLITE_CANTOPEN ? DL_ENOTFOUND : DL_EIO,
                          "cannot open the lake catalog %s: %s", c->path,
                          c->db ? sqlite3_errmsg(c->db) : "out of memory");
    sqlite3_close(c->db);
    c->db = NULL;
    return rc;
}

/* PRAGMA user_version; also the first read, so it reports an unreadable or
** foreign file.  *has_tables: whether the lake's tables exist. */
static int read_format(dl_catalog *c, int *version, bool *has_tables, dl_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = DL_OK;
    int s = sqlite3_prepare_v2(c->db,
                               "SELECT (SELECT user_version FROM pragma_user_version),"
                               " (SELECT count(*) FROM sqlite_master WHERE name = 'datasets')",
                               -1, &st, NULL);
    if (s == SQLITE_OK) s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        *has_tables = sqlite3_column_int(st, 1) > 0;
    } else if (sqlite3_errcode(c->db) == SQLITE_NOTADB ||
               sqlite3_errcode(c->db) == SQLITE_CORRUPT) {
        rc = dl_error_set(err, DL_ECORRUPT, "the lake catalog %s is damaged: %s", c->path,
                          sqlite3_errmsg(c->db));
    } else {
        rc = cat_fail(c, "reading the format", err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int newer_format(const dl_catalog *c, int version, dl_error *err) {
    return dl_error_set(err, DL_EUNSUPPORTED,
                        "the lake catalog %s has format %d, newer than this libdatalake (%s) "
                        "understands (%d); use a newer libdatalake",
                        c->path, version, DL_VERSION_STRING, NUM_MIGRATIONS);
}

/* Applies the missing migrations in one transaction (re-reading the
** version under the write lock: another process may have migrated). */
static int migrate(dl_catalog *c, bool create, dl_error *err) {
    int rc = DL_OK, version = 0;
    bool has_tables = false;
    DL_TRY(read_format(c, &version, &has_tables, err));
    if (version > NUM_MIGRATIONS) return newer_format(c, version, err);
    if (!has_tables && !create)
        return dl_error_set(err, DL_ECORRUPT, "the lake catalog %s is empty (no tables)", c->path);
    if (version == NUM_MIGRATIONS) return DL_OK;
    DL_TRY(exec_sql(c, "BEGIN IMMEDIATE", err));
    DL_TRY(read_format(c, &version, &has_tables, err));
    if (version > NUM_MIGRATIONS) DL_TRY(newer_format(c, version, err));
    for (int v = version; v < NUM_MIGRATIONS; v++) {
        char sql[64];
        DL_TRY(exec_sql(c, migrations[v], err));
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        DL_TRY(exec_sql(c, sql, err));
    }
    DL_TRY(exec_sql(c, "COMMIT", err));
cleanup:
    if (rc != DL_OK && !sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", 0, 0, 0);
    return rc;
}

static int open_write(dl_catalog *c, bool create, dl_error *err) {
    int rc = DL_OK;
    DL_TRY(open_db(c, c->path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), err));
    sqlite3_busy_timeout(c->db, 30000);
    /* WAL: readers never block the writer and never see a half commit.
    ** synchronous=FULL: a commit is on disk when COMMIT returns, which the
    ** write protocol relies on (intent before renames, data before the final
    ** commit).  The first read tells a foreign or damaged file apart. */
    int version = 0;
    bool has_tables = false;
    DL_TRY(read_format(c, &version, &has_tables, err));
    DL_TRY(exec_sql(c, "PRAGMA journal_mode=WAL", err));
    DL_TRY(exec_sql(c, "PRAGMA synchronous=FULL", err));
    DL_TRY(exec_sql(c, "PRAGMA foreign_keys=ON", err));
    DL_TRY(migrate(c, create, err));
cleanup:
    return rc;
}

/* A read-only view where SQLite cannot create the -shm (the directory is
** not writable): immutable when the WAL holds nothing, else a private copy
** of the database and its WAL (an immutable open would ignore the WAL). */
static int open_snapshot(dl_catalog *c, dl_error *err) {
    int rc = DL_OK;
    char wal[4200], uri[8400];
    snprintf(wal, sizeof wal, "%s-wal", c->path);
    c->snapshot = true;
    if (dl_fs_size(wal) <= 0) {
        DL_TRY(file_uri(c->path, "immutable=1", uri, sizeof uri, err));
        return open_db(c, uri, SQLITE_OPEN_READONLY, err);
    }
    const char *tmp = getenv("TMPDIR");
    char db_copy[4200], wal_copy[4200];
    snprintf(c->copy_dir, sizeof c->copy_dir, "%s/dl-catalog.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(c->copy_dir)) {
        int e = errno;
        c->copy_dir[0] = 0;
        DL_FAIL(err, DL_EIO,
                "the lake catalog %s has uncheckpointed commits and its directory is not "
                "writable; cannot make a private copy either: %s",
                c->path, strerror(e));
    }
    snprintf(db_copy, sizeof db_copy, "%s/catalog.db", c->copy_dir);
    snprintf(wal_copy, sizeof wal_copy, "%s/catalog.db-wal", c->copy_dir);
    DL_TRY(dl_fs_copy_file(c->path, db_copy, err));
    DL_TRY(dl_fs_copy_file(wal, wal_copy, err));
    DL_TRY(file_uri(db_copy, "mode=ro", uri, sizeof uri, err));
    DL_TRY(open_db(c, uri, SQLITE_OPEN_READONLY, err));
cleanup:
    return rc;
}

static int open_read(dl_catalog *c, dl_error *err) {
    int rc = DL_OK, version = 0;
    bool has_tables = false;
    char uri[8400];
    DL_TRY(file_uri(c->path, "mode=ro", uri, sizeof uri, err));
    DL_TRY(open_db(c, uri, SQLITE_OPEN_READONLY, err));
    sqlite3_busy_timeout(c->db, 30000);
    dl_error first;
    if (read_format(c, &version, &has_tables, &first) != DL_OK) {
        /* SQLITE_READONLY / CANTOPEN on the -shm: fall back to a snapshot.
        ** A damaged file fails there the same way, with its own message. */
        sqlite3_close(c->db);
        c->db = NULL;
        DL_TRY(open_snapshot(c, err));
        DL_TRY(read_format(c, &version, &has_tables, err));
    }
    if (version > NUM_MIGRATIONS) DL_TRY(newer_format(c, version, err));
    if (!has_tables) DL_FAIL(err, DL_ECORRUPT, "the lake catalog %s is empty (no tables)", c->path);
    if (version < NUM_MIGRATIONS)
        DL_FAIL(err, DL_EUNSUPPORTED,
                "the lake catalog %s has the older format %d (this libdatalake uses %d) and is "
                "opened read-only, so it cannot be upgraded; open the lake once for writing",
                c->path, version, NUM_MIGRATIONS);
cleanup:
    return rc;
}

int dl_cat_open(const char *root, dl_cat_mode mode, dl_catalog **out, dl_error *err) {
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/.dl/catalog.db", root);
    if (n < 0 || (size_t)n >= sizeof path)
        return dl_error_set(err, DL_EINVAL, "root path too long: %s", root);
    return dl_cat_open_file(root, path, mode, out, err);
}

int dl_cat_open_file(const char *root, const char *path, dl_cat_mode mode, dl_catalog **out,
                     dl_error *err) {
    int rc = DL_OK;
    *out = NULL;
    dl_catalog *c = calloc(1, sizeof *c);
    if (!c) return dl_error_set(err, DL_ENOMEM, "out of memory");
    snprintf(c->root, sizeof c->root, "%s", root);
    snprintf(c->path, sizeof c->path, "%s", path);
    if (mode != DL_CAT_CREATE && !dl_fs_exists(c->path))
        DL_FAIL(err, DL_ENOTFOUND, "%s is not a lake: %s does not exist", root, c->path);
    if (mode == DL_CAT_READ)
        DL_TRY(open_read(c, err));
    else
        DL_TRY(open_write(c, mode == DL_CAT_CREATE, err));
    *out = c;
    c = NULL;
cleanup:
    dl_cat_close(c);
    return rc;
}

void dl_cat_close(dl_catalog *c) {
    if (!c) return;
    for (int i = 0; i < ST_COUNT_; i++) sqlite3_finalize(c->stmts[i]);
    if (c->db) sqlite3_close(c->db);
    if (c->copy_dir[0]) {
        dl_error ignored;
        dl_fs_remove_tree(c->copy_dir, &ignored);
    }
    free(c);
}

bool dl_cat_is_snapshot(const dl_catalog *c) {
    return c->snapshot;
}

const char *dl_cat_path(const dl_catalog *c) {
    return c->path;
}

int dl_cat_check_file(const char *path, dl_error *err) {
    dl_catalog c = {0};
    int rc = DL_OK, version = 0;
    bool has_tables = false;
    char uri[8400];
    snprintf(c.path, sizeof c.path, "%s", path);
    DL_TRY(file_uri(path, "immutable=1", uri, sizeof uri, err));
    DL_TRY(open_db(&c, uri, SQLITE_OPEN_READONLY, err));
    DL_TRY(read_format(&c, &version, &has_tables, err));
    if (!has_tables) DL_FAIL(err, DL_ECORRUPT, "%s holds no catalog tables", path);
    if (version > NUM_MIGRATIONS) DL_TRY(newer_format(&c, version, err));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c.db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || strcmp(col_text(st, 0), "ok") != 0) {
        rc = dl_error_set(err, DL_ECORRUPT, "%s fails SQLite's integrity check: %s", path,
                          st ? col_text(st, 0) : sqlite3_errmsg(c.db));
    }
    sqlite3_finalize(st);
cleanup:
    if (c.db) sqlite3_close(c.db);
    return rc;
}

/* ------------------------------------------------------------------ */
/* transactions and backup                                              */
/* ------------------------------------------------------------------ */

int dl_cat_begin(dl_catalog *c, dl_error *err) {
    return exec_sql(c, "BEGIN IMMEDIATE", err);
}

int dl_cat_commit(dl_catalog *c, dl_error *err) {
    return exec_sql(c, "COMMIT", err);
}

void dl_cat_rollback(dl_catalog *c) {
    if (c && c->db && !sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", 0, 0, 0);
}

int dl_cat_begin_read(dl_catalog *c, dl_error *err) {
    /* A deferred transaction takes its snapshot at the first read. */
    int rc = exec_sql(c, "BEGIN", err);
    if (rc == DL_OK) rc = exec_sql(c, "SELECT 1 FROM datasets LIMIT 1", err);
    return rc;
}

void dl_cat_end_read(dl_catalog *c) {
    dl_cat_rollback(c);
}

int dl_cat_backup(dl_catalog *c, const char *dest_tmp, const char *dest, dl_error *err) {
    int rc = DL_OK;
    sqlite3 *out = NULL;
    sqlite3_backup *b = NULL;
    if (unlink(dest_tmp) != 0 && errno != ENOENT)
        return dl_error_set(err, DL_EIO, "cannot remove %s: %s", dest_tmp, strerror(errno));
    if (sqlite3_open_v2(dest_tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        DL_FAIL(err, DL_EIO, "cannot create the catalog backup %s: %s", dest_tmp,
                out ? sqlite3_errmsg(out) : "out of memory");
    /* The copy is written in one pass and never shared: no journal needed. */
    sqlite3_exec(out, "PRAGMA journal_mode=OFF", 0, 0, 0);
    b = sqlite3_backup_init(out, "main", c->db, "main");
    if (!b)
        DL_FAIL(err, DL_EIO, "cannot back up the catalog to %s: %s", dest_tmp, sqlite3_errmsg(out));
    int s = sqlite3_backup_step(b, -1);
    if (s != SQLITE_DONE)
        DL_FAIL(err, DL_EIO, "backing up the catalog to %s failed: %s", dest_tmp,
                sqlite3_errstr(s));
    sqlite3_backup_finish(b);
    b = NULL;
    if (sqlite3_close(out) != SQLITE_OK) DL_FAIL(err, DL_EIO, "cannot close %s", dest_tmp);
    out = NULL;
    DL_TRY(dl_fs_fsync_path(dest_tmp, err));
    if (dl_io_rename(dest_tmp, dest) != 0)
        DL_FAIL(err, DL_EIO, "cannot rename %s to %s: %s", dest_tmp, dest, strerror(errno));
cleanup:
    if (b) sqlite3_backup_finish(b);
    if (out) sqlite3_close(out);
    if (rc != DL_OK) unlink(dest_tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* datasets                                                             */
/* ------------------------------------------------------------------ */

int dl_cat_dataset_id(dl_catalog *c, const char *name, int64_t *id, int64_t *current_version,
                      dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_DATASET_ID, err);
    if (!st) return DL_EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st), rc = DL_OK;
    if (s == SQLITE_ROW) {
        if (id) *id = sqlite3_column_int64(st, 0);
        if (current_version) *current_version = sqlite3_column_int64(st, 1);
    } else if (s == SQLITE_DONE) {
        rc = dl_error_set(err, DL_ENOTFOUND, "dataset %s does not exist", name);
    } else {
        rc = cat_fail(c, "looking up a dataset", err);
    }
    sqlite3_reset(st);
    return rc;
}

static void fill_info(sqlite3_stmt *st, dl_dataset_info *info) {
    memset(info, 0, sizeof *info);
    copy_col(info->name, sizeof info->name, st, 0);
    copy_col(info->id.exchange, sizeof info->id.exchange, st, 1);
    copy_col(info->id.market, sizeof info->id.market, st, 2);
    copy_col(info->id.symbol, sizeof info->id.symbol, st, 3);
    copy_col(info->id.type, sizeof info->id.type, st, 4);
    copy_col(info->id.period, sizeof info->id.period, st, 5);
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

int dl_cat_dataset_infos(dl_catalog *c, const char *name, dl_dataset_info **out, int64_t *count,
                         dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_dataset_info *items = NULL;
    int64_t n = 0, cap = 0;
    /* Not cached: it is run once per command. */
    if (sqlite3_prepare_v2(c->db, INFO_COLUMNS, -1, &st, NULL) != SQLITE_OK)
        DL_TRY(cat_fail(c, "listing datasets", err));
    bind_text_or_null(st, 1, name);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(grow((void **)&items, n, &cap, sizeof *items, err));
        fill_info(st, &items[n++]);
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "listing datasets", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    free(items);
    sqlite3_finalize(st);
    return rc;
}

int dl_cat_dataset_state(dl_catalog *c, const char *name, bool *found, int64_t *id,
                         int64_t *current_version, dl_schema *schema, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_DATASET_STATE, err);
    if (!st) return DL_EIO;
    int rc = DL_OK;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    *found = s == SQLITE_ROW;
    if (s == SQLITE_ROW) {
        if (id) *id = sqlite3_column_int64(st, 0);
        if (current_version) *current_version = sqlite3_column_int64(st, 1);
        if (schema) {
            dl_schema stored;
            rc = dl_schema_from_json(col_text(st, 2), &stored, err);
            if (rc == DL_OK) {
                rc = dl_schema_union(schema, &stored, name, err);
                dl_schema_free(&stored);
            }
        }
    } else if (s != SQLITE_DONE) {
        rc = cat_fail(c, "reading a dataset", err);
    }
    sqlite3_reset(st);
    return rc;
}

int dl_cat_create_dataset(dl_catalog *c, const char *name, const dl_dataset_id *parts,
                          int64_t period_us, int64_t *id, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_DATASET_CREATE, err);
    if (!st) return DL_EIO;
    const char *vals[6] = {name,          parts->exchange, parts->market,
                           parts->symbol, parts->type,     parts->period};
    for (int k = 0; k < 6; k++) sqlite3_bind_text(st, k + 1, vals[k], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, period_us);
    sqlite3_bind_int64(st, 8, dl_now_us());
    int rc = step_done(c, st, "creating a dataset", err);
    if (rc == DL_OK) *id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int dl_cat_update_dataset(dl_catalog *c, int64_t id, int64_t version, const char *schema_json,
                          dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_DATASET_UPDATE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_text(st, 2, schema_json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    return step_done(c, st, "updating a dataset", err);
}

int dl_cat_dataset_refs(dl_catalog *c, const char *name, dl_cat_dataset_ref **out, int64_t *count,
                        dl_error *err) {
    int rc = DL_OK;
    dl_cat_dataset_ref *items = NULL;
    int64_t n = 0, cap = 0;
    sqlite3_stmt *st = stmt(c, ST_DATASET_REFS, err);
    if (!st) return DL_EIO;
    bind_text_or_null(st, 1, name);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(grow((void **)&items, n, &cap, sizeof *items, err));
        dl_cat_dataset_ref *r = &items[n++];
        r->id = sqlite3_column_int64(st, 0);
        r->current_version = sqlite3_column_int64(st, 1);
        r->period_us = sqlite3_column_int64(st, 2);
        copy_col(r->name, sizeof r->name, st, 3);
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "listing datasets", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    sqlite3_reset(st);
    free(items);
    return rc;
}

/* ------------------------------------------------------------------ */
/* versions                                                             */
/* ------------------------------------------------------------------ */

int dl_cat_version_readable(dl_catalog *c, int64_t dataset_id, int64_t version, bool *readable,
                            dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_VERSION_READABLE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, version);
    int s = sqlite3_step(st);
    *readable = s == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
    sqlite3_reset(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? DL_OK : cat_fail(c, "reading a version", err);
}

int dl_cat_version_at(dl_catalog *c, int64_t dataset_id, int64_t at, int64_t *version,
                      dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_VERSION_AT, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, at);
    int rc = DL_OK, s = sqlite3_step(st);
    if (s != SQLITE_ROW)
        rc = cat_fail(c, "finding a version by time", err);
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        rc = DL_ENOTFOUND; /* the caller names the dataset */
    else
        *version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

int dl_cat_history(dl_catalog *c, int64_t dataset_id, dl_lake_version **out, int64_t *count,
                   dl_error *err) {
    int rc = DL_OK;
    dl_lake_version *items = NULL;
    int64_t n = 0, cap = 0;
    sqlite3_stmt *st = stmt(c, ST_HISTORY, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(grow((void **)&items, n, &cap, sizeof *items, err));
        dl_lake_version *v = &items[n++];
        memset(v, 0, sizeof *v);
        v->version = sqlite3_column_int64(st, 0);
        v->committed_at = sqlite3_column_int64(st, 1);
        v->run_id = sqlite3_column_int64(st, 2);
        v->rows_written = sqlite3_column_int64(st, 3);
        v->files_added = sqlite3_column_int64(st, 4);
        v->files_replaced = sqlite3_column_int64(st, 5);
        v->vacuumed = sqlite3_column_int(st, 6) != 0;
        copy_col(v->message, sizeof v->message, st, 7);
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "reading the history", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    sqlite3_reset(st);
    free(items);
    return rc;
}

static int add_version(dl_catalog *c, stmt_id id, const dl_cat_version_row *v, dl_error *err) {
    sqlite3_stmt *st = stmt(c, id, err);
    if (!st) return DL_EIO;
    int64_t vals[7] = {v->dataset_id,   v->version,     v->committed_at,  v->run_id,
                       v->rows_written, v->files_added, v->files_replaced};
    for (int k = 0; k < 7; k++) sqlite3_bind_int64(st, k + 1, vals[k]);
    if (!v->run_id) sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 8, v->message ? v->message : "", -1, SQLITE_TRANSIENT);
    return step_done(c, st, "recording a version", err);
}

int dl_cat_add_version(dl_catalog *c, const dl_cat_version_row *v, dl_error *err) {
    return add_version(c, ST_VERSION_ADD, v, err);
}

int dl_cat_add_version_if_missing(dl_catalog *c, const dl_cat_version_row *v, dl_error *err) {
    return add_version(c, ST_VERSION_ADD_IF_MISSING, v, err);
}

int dl_cat_mark_vacuumed(dl_catalog *c, int64_t dataset_id, int64_t keep_from, int64_t *marked,
                         dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_MARK_VACUUMED, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, keep_from);
    int rc = step_done(c, st, "marking versions vacuumed", err);
    if (rc == DL_OK && marked) *marked += sqlite3_changes(c->db);
    return rc;
}

int dl_cat_oldest_pinned(dl_catalog *c, int64_t dataset_id, int64_t *version, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_OLDEST_PINNED, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    int rc = DL_OK, s = sqlite3_step(st);
    if (s != SQLITE_ROW)
        rc = cat_fail(c, "reading pinned versions", err);
    else
        *version = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

/* ------------------------------------------------------------------ */
/* files                                                                */
/* ------------------------------------------------------------------ */

int dl_cat_live_files(dl_catalog *c, int64_t dataset_id, dl_cat_live_file **out, int64_t *count,
                      dl_error *err) {
    int rc = DL_OK;
    dl_cat_live_file *items = NULL;
    int64_t n = 0, cap = 0;
    sqlite3_stmt *st = stmt(c, ST_LIVE_FILES, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(grow((void **)&items, n, &cap, sizeof *items, err));
        dl_cat_live_file *f = &items[n++];
        f->day = (int32_t)sqlite3_column_int64(st, 0);
        f->file_id = sqlite3_column_int64(st, 1);
        f->version_added = sqlite3_column_int64(st, 2);
        copy_col(f->sha256, sizeof f->sha256, st, 3);
        f->bytes = sqlite3_column_int64(st, 4);
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "listing live files", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    sqlite3_reset(st);
    free(items);
    return rc;
}

int dl_cat_files_at(dl_catalog *c, const char *root, int64_t dataset_id, int64_t version,
                    int64_t ts_from, int64_t ts_to, dl_lake_file_list *out, dl_error *err) {
    int rc = DL_OK;
    dl_buf strings = DL_BUF_INIT;
    dl_lake_file *files = NULL;
    int64_t n = 0, cap = 0;
    sqlite3_stmt *st = stmt(c, ST_FILES_AT, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int64(st, 3, ts_from);
    sqlite3_bind_int64(st, 4, ts_to);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            char date[32];
            dl_format_date((int32_t)sqlite3_column_int64(st, 1), date, sizeof date);
            DL_FAIL(err, DL_ENOTFOUND,
                    "the file of day %s at version %lld is lost (a repair quarantined it as "
                    "missing or damaged); later versions are readable",
                    date, (long long)version);
        }
        DL_TRY(grow((void **)&files, n, &cap, sizeof *files, err));
        dl_lake_file *f = &files[n++];
        memset(f, 0, sizeof *f);
        if (dl_buf_printf(&strings, "%s/%s", root, committed_rel(c, st, 0, 8)) != DL_OK ||
            dl_buf_append_u8(&strings, 0) != DL_OK)
            DL_FAIL(err, DL_ENOMEM, "out of memory listing files");
        f->day = (int32_t)sqlite3_column_int64(st, 1);
        f->rows = sqlite3_column_int64(st, 2);
        f->bytes = sqlite3_column_int64(st, 3);
        f->ts_min = sqlite3_column_int64(st, 4);
        f->ts_max = sqlite3_column_int64(st, 5);
        f->version = sqlite3_column_int64(st, 6);
        copy_col(f->sha256, sizeof f->sha256, st, 7);
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "listing files", err));
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
    sqlite3_reset(st);
    free(files);
    dl_buf_free(&strings);
    return rc;
}

int dl_cat_add_file(dl_catalog *c, const dl_cat_file_row *f, int64_t *file_id, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_FILE_ADD, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, f->dataset_id);
    sqlite3_bind_int64(st, 2, f->day);
    sqlite3_bind_text(st, 3, f->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, f->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, f->bytes);
    sqlite3_bind_int64(st, 6, f->rows);
    sqlite3_bind_int64(st, 7, f->ts_min);
    sqlite3_bind_int64(st, 8, f->ts_max);
    sqlite3_bind_text(st, 9, f->schema_json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 10, f->version_added);
    if (f->version_removed)
        sqlite3_bind_int64(st, 11, f->version_removed);
    else
        sqlite3_bind_null(st, 11);
    bind_text_or_null(st, 12, f->archive_path);
    int rc = step_done(c, st, "adding a file", err);
    if (rc != DL_OK) return rc;
    int64_t id = sqlite3_last_insert_rowid(c->db);
    if (file_id) *file_id = id;
    sqlite3_stmt *gap = stmt(c, ST_FILE_GAP_ADD, err);
    if (!gap) return DL_EIO;
    for (int64_t k = 0; k < f->num_gaps && rc == DL_OK; k++) {
        sqlite3_reset(gap);
        sqlite3_bind_int64(gap, 1, id);
        for (int x = 0; x < 3; x++) sqlite3_bind_int64(gap, 2 + x, f->gaps[3 * k + x]);
        rc = step_done(c, gap, "recording gaps", err);
    }
    return rc;
}

int dl_cat_retire_file(dl_catalog *c, int64_t file_id, int64_t version, const char *archive_rel,
                       dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_FILE_RETIRE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, version);
    bind_text_or_null(st, 2, archive_rel);
    sqlite3_bind_int64(st, 3, file_id);
    return step_done(c, st, "retiring a file", err);
}

int dl_cat_delete_file(dl_catalog *c, int64_t file_id, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_FILE_DELETE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, file_id);
    return step_done(c, st, "deleting a file row", err);
}

int dl_cat_forget_archive(dl_catalog *c, int64_t file_id, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_FILE_FORGET_ARCHIVE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, file_id);
    return step_done(c, st, "forgetting a lost archive", err);
}

int dl_cat_each_file(dl_catalog *c, const char *name, dl_cat_file_fn fn, void *ctx, dl_error *err) {
    /* Not the cached statement: the callback may use the catalog. */
    sqlite3_stmt *st = NULL;
    int rc = DL_OK;
    if (sqlite3_prepare_v2(c->db, stmt_sql[ST_EACH_FILE], -1, &st, NULL) != SQLITE_OK)
        return cat_fail(c, "listing files", err);
    bind_text_or_null(st, 1, name);
    int s;
    while (rc == DL_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                (int32_t)sqlite3_column_int64(st, 2), committed_rel(c, st, 3, 7), col_text(st, 4),
                sqlite3_column_int64(st, 5), sqlite3_column_int(st, 6) != 0, err);
    if (rc == DL_OK && s != SQLITE_DONE) rc = cat_fail(c, "listing files", err);
    sqlite3_finalize(st);
    return rc;
}

int dl_cat_each_superseded(dl_catalog *c, int64_t dataset_id, int64_t keep_from,
                           dl_cat_superseded_fn fn, void *ctx, dl_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = DL_OK;
    if (sqlite3_prepare_v2(c->db, stmt_sql[ST_SUPERSEDED], -1, &st, NULL) != SQLITE_OK)
        return cat_fail(c, "listing superseded files", err);
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, keep_from);
    int s;
    while (rc == DL_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_int64(st, 0),
                sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : col_text(st, 1),
                sqlite3_column_int64(st, 2), err);
    if (rc == DL_OK && s != SQLITE_DONE) rc = cat_fail(c, "listing superseded files", err);
    sqlite3_finalize(st);
    return rc;
}

int dl_cat_latest_archive(dl_catalog *c, int64_t dataset_id, int32_t day, bool *found,
                          char archive_rel[DL_CAT_PATH_MAX], char sha256[65], int64_t *file_id,
                          dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_LATEST_ARCHIVE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, day);
    int s = sqlite3_step(st);
    *found = s == SQLITE_ROW;
    if (*found) {
        copy_col(archive_rel, DL_CAT_PATH_MAX, st, 0);
        copy_col(sha256, 65, st, 1);
        *file_id = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? DL_OK : cat_fail(c, "finding an archive", err);
}

int dl_cat_clone_file(dl_catalog *c, int64_t from_id, const char *path, int64_t version,
                      int64_t *file_id, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_FILE_CLONE, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, from_id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, version);
    int rc = step_done(c, st, "restoring a file", err);
    if (rc == DL_OK && file_id) *file_id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int dl_cat_archive_known(dl_catalog *c, const char *rel, bool *known, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_ARCHIVE_KNOWN, err);
    if (!st) return DL_EIO;
    sqlite3_bind_text(st, 1, rel, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    *known = s == SQLITE_ROW;
    sqlite3_reset(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? DL_OK : cat_fail(c, "looking up an archive", err);
}

int dl_cat_next_version_of_day(dl_catalog *c, int64_t dataset_id, int32_t day, int64_t version,
                               int64_t *next, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_NEXT_VERSION_OF_DAY, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, day);
    sqlite3_bind_int64(st, 3, version);
    int s = sqlite3_step(st);
    *next = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0; /* NULL reads as 0 */
    sqlite3_reset(st);
    return s == SQLITE_ROW ? DL_OK : cat_fail(c, "finding the next version of a day", err);
}

/* ------------------------------------------------------------------ */
/* gaps                                                                 */
/* ------------------------------------------------------------------ */

int dl_cat_gaps(dl_catalog *c, int64_t dataset_id, dl_lake_gap **out, int64_t *count,
                dl_error *err) {
    int rc = DL_OK;
    dl_lake_gap *items = NULL;
    int64_t n = 0, cap = 0;
    sqlite3_stmt *st = stmt(c, ST_GAPS, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(grow((void **)&items, n, &cap, sizeof *items, err));
        items[n++] = (dl_lake_gap){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                   sqlite3_column_int64(st, 2)};
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "reading gaps", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    sqlite3_reset(st);
    free(items);
    return rc;
}

static int add_gap(dl_catalog *c, int64_t dataset_id, int64_t from, int64_t to, int64_t missing,
                   dl_error *err) {
    sqlite3_stmt *ins = stmt(c, ST_GAP_ADD, err);
    if (!ins) return DL_EIO;
    sqlite3_bind_int64(ins, 1, dataset_id);
    sqlite3_bind_int64(ins, 2, from);
    sqlite3_bind_int64(ins, 3, to);
    sqlite3_bind_int64(ins, 4, missing);
    return step_done(c, ins, "storing gaps", err);
}

/* Gaps = the gaps inside each live file (stored per file at write time) plus
** the gaps between consecutive live files, from their ts_max / ts_min. */
int dl_cat_refresh_gaps(dl_catalog *c, int64_t dataset_id, int64_t period_us, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *del = stmt(c, ST_GAPS_CLEAR, err), *files = NULL;
    if (!del) return DL_EIO;
    sqlite3_bind_int64(del, 1, dataset_id);
    DL_TRY(step_done(c, del, "clearing gaps", err));
    if (period_us <= 0) goto cleanup;
    if (sqlite3_prepare_v2(c->db, stmt_sql[ST_GAP_SOURCES], -1, &files, NULL) != SQLITE_OK)
        DL_TRY(cat_fail(c, "reading files for gaps", err));
    sqlite3_bind_int64(files, 1, dataset_id);
    int64_t prev_max = INT64_MIN, last_file = -1;
    int s;
    while ((s = sqlite3_step(files)) == SQLITE_ROW) {
        int64_t ts_min = sqlite3_column_int64(files, 0), ts_max = sqlite3_column_int64(files, 1);
        if (sqlite3_column_int64(files, 5) != last_file) { /* first row of a new file */
            if (prev_max != INT64_MIN && ts_min - prev_max > period_us) {
                int64_t missing = (ts_min - prev_max - 1) / period_us;
                DL_TRY(add_gap(c, dataset_id, prev_max + period_us, prev_max + missing * period_us,
                               missing, err));
            }
            prev_max = ts_max;
            last_file = sqlite3_column_int64(files, 5);
        }
        if (sqlite3_column_type(files, 2) != SQLITE_NULL)
            DL_TRY(add_gap(c, dataset_id, sqlite3_column_int64(files, 2),
                           sqlite3_column_int64(files, 3), sqlite3_column_int64(files, 4), err));
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "reading files for gaps", err));
cleanup:
    sqlite3_finalize(files);
    return rc;
}

int dl_cat_total_missing(dl_catalog *c, int64_t *missing, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_TOTAL_MISSING, err);
    if (!st) return DL_EIO;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *missing = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return s == SQLITE_ROW ? DL_OK : cat_fail(c, "summing gaps", err);
}

/* ------------------------------------------------------------------ */
/* missing days                                                         */
/* ------------------------------------------------------------------ */

int dl_cat_mark_missing(dl_catalog *c, int64_t dataset_id, int32_t day, int64_t version,
                        const char *reason, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_MISSING_MARK, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, day);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, dl_now_us());
    return step_done(c, st, "marking a day missing", err);
}

int dl_cat_clear_missing(dl_catalog *c, int64_t dataset_id, int32_t day, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_MISSING_CLEAR, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_int64(st, 2, day);
    return step_done(c, st, "clearing a missing day", err);
}

int dl_cat_each_missing(dl_catalog *c, const char *name, dl_cat_missing_fn fn, void *ctx,
                        dl_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = DL_OK;
    if (sqlite3_prepare_v2(c->db, stmt_sql[ST_MISSING_EACH], -1, &st, NULL) != SQLITE_OK)
        return cat_fail(c, "listing missing days", err);
    bind_text_or_null(st, 1, name);
    int s;
    while (rc == DL_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, col_text(st, 0), (int32_t)sqlite3_column_int64(st, 1),
                sqlite3_column_int64(st, 2), col_text(st, 3), err);
    if (rc == DL_OK && s != SQLITE_DONE) rc = cat_fail(c, "listing missing days", err);
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ */
/* runs                                                                 */
/* ------------------------------------------------------------------ */

int dl_cat_add_run(dl_catalog *c, const dl_cat_run_row *r, int64_t *run_id, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_RUN_ADD, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, r->started_at);
    sqlite3_bind_int64(st, 2, r->finished_at);
    sqlite3_bind_text(st, 3, r->command ? r->command : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, r->rows_in);
    sqlite3_bind_int64(st, 6, r->days_written);
    sqlite3_bind_int64(st, 7, r->versions_created);
    int rc = step_done(c, st, "recording the run", err);
    if (rc == DL_OK) *run_id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

int dl_cat_set_run_versions(dl_catalog *c, int64_t run_id, int64_t versions, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_RUN_VERSIONS, err);
    if (!st) return DL_EIO;
    sqlite3_bind_int64(st, 1, versions);
    sqlite3_bind_int64(st, 2, run_id);
    return step_done(c, st, "recording the run", err);
}

/* ------------------------------------------------------------------ */
/* the write intent                                                     */
/* ------------------------------------------------------------------ */

int dl_cat_add_pending(dl_catalog *c, const char *owner, const dl_cat_pending *p, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_PENDING_ADD, err);
    if (!st) return DL_EIO;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, p->dataset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, p->live, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, p->tmp, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 5, p->old_sha[0] ? p->old_sha : NULL);
    sqlite3_bind_text(st, 6, p->new_sha, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 7, p->has_archive ? p->archive : NULL);
    return step_done(c, st, "recording the intent", err);
}

int dl_cat_pending_list(dl_catalog *c, const char *dataset, dl_cat_pending **out, int64_t *count,
                        dl_error *err) {
    int rc = DL_OK;
    dl_cat_pending *items = NULL;
    int64_t n = 0, cap = 0;
    sqlite3_stmt *st = stmt(c, ST_PENDING_LIST, err);
    if (!st) return DL_EIO;
    bind_text_or_null(st, 1, dataset);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        DL_TRY(grow((void **)&items, n, &cap, sizeof *items, err));
        dl_cat_pending *p = &items[n++];
        memset(p, 0, sizeof *p);
        copy_col(p->dataset, sizeof p->dataset, st, 0);
        copy_col(p->live, sizeof p->live, st, 1);
        copy_col(p->tmp, sizeof p->tmp, st, 2);
        copy_col(p->old_sha, sizeof p->old_sha, st, 3);
        copy_col(p->new_sha, sizeof p->new_sha, st, 4);
        p->has_archive = sqlite3_column_type(st, 5) != SQLITE_NULL;
        copy_col(p->archive, sizeof p->archive, st, 5);
    }
    if (s != SQLITE_DONE) DL_TRY(cat_fail(c, "reading pending operations", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    sqlite3_reset(st);
    free(items);
    return rc;
}

static int clear_pending(dl_catalog *c, stmt_id id, const char *key, dl_error *err) {
    sqlite3_stmt *st = stmt(c, id, err);
    if (!st) return DL_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    return step_done(c, st, "clearing pending operations", err);
}

int dl_cat_clear_pending_dataset(dl_catalog *c, const char *dataset, dl_error *err) {
    return clear_pending(c, ST_PENDING_CLEAR_DATASET, dataset, err);
}

int dl_cat_clear_pending_owner(dl_catalog *c, const char *owner, dl_error *err) {
    return clear_pending(c, ST_PENDING_CLEAR_OWNER, owner, err);
}

int dl_cat_pending_count(dl_catalog *c, int64_t *count, dl_error *err) {
    sqlite3_stmt *st = stmt(c, ST_PENDING_COUNT, err);
    if (!st) return DL_EIO;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return s == SQLITE_ROW ? DL_OK : cat_fail(c, "counting pending operations", err);
}

/* ------------------------------------------------------------------ */
/* the connection for other modules' tables (dl_catalog_ext.h)          */
/* ------------------------------------------------------------------ */

sqlite3 *dl_cat_db(dl_catalog *c) {
    return c->db;
}

int dl_cat_fail(sqlite3 *db, const char *what, dl_error *err) {
    return dl_error_set(err, DL_EIO, "catalog: %s: %s", what,
                        db ? sqlite3_errmsg(db) : "no connection");
}

int dl_cat_exec(sqlite3 *db, const char *sql, dl_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = dl_error_set(err, DL_EIO, "catalog: %s (in: %.60s)", msg ? msg : "error", sql);
        sqlite3_free(msg);
        return rc;
    }
    return DL_OK;
}

int dl_cat_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, dl_error *err) {
    if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK)
        return dl_error_set(err, DL_EIO, "catalog: cannot prepare \"%.60s\": %s", sql,
                            sqlite3_errmsg(db));
    return DL_OK;
}

int dl_cat_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, dl_error *err) {
    int s = sqlite3_step(st);
    if (s != SQLITE_DONE && s != SQLITE_ROW) return dl_cat_fail(db, what, err);
    return DL_OK;
}
