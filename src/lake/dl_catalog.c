/*
** dl_catalog.c -- the lake's SQLite catalog: opening it (WAL, synchronous
** FULL), its tables, small statement helpers and the schema <-> JSON
** codec used for the `schema` columns.
**
** The catalog lives at {root}/.dl/catalog.db, beside the data but outside
** the live tree, so tools that glob the tree only ever see Parquet files.
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"

#define CATALOG_FORMAT "1"

static const char *const catalog_ddl =
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
    "INSERT OR IGNORE INTO meta(key, value) VALUES('format', '" CATALOG_FORMAT "');";

int64_t dl_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int dl_cat_fail(sqlite3 *db, const char *what, dl_error *err) {
    return dl_error_set(err, DL_EIO, "catalog: %s: %s", what,
                        db ? sqlite3_errmsg(db) : "no handle");
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

int dl_cat_open(const char *root, bool create, bool read_only, sqlite3 **out, dl_error *err) {
    int rc = DL_OK;
    sqlite3 *db = NULL;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/.dl/catalog.db", root);
    if (n < 0 || (size_t)n >= sizeof path)
        return dl_error_set(err, DL_EINVAL, "root path too long");
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (create) flags |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        bool missing = db == NULL || sqlite3_errcode(db) == SQLITE_CANTOPEN;
        rc = dl_error_set(err, missing ? DL_ENOTFOUND : DL_EIO,
                          "cannot open the lake catalog %s: %s%s", path,
                          db ? sqlite3_errmsg(db) : "out of memory",
                          missing ? " (run `dl init` first, or pass --root)" : "");
        goto cleanup;
    }
    sqlite3_busy_timeout(db, 30000);
    if (!read_only) {
        /* WAL: readers never block the writer and never see a half commit.
        ** synchronous=FULL: a commit is on disk when COMMIT returns, which the
        ** write protocol relies on (intent before renames, data before the
        ** final commit). */
        DL_TRY(dl_cat_exec(db, "PRAGMA journal_mode=WAL", err));
        DL_TRY(dl_cat_exec(db, "PRAGMA synchronous=FULL", err));
    }
    DL_TRY(dl_cat_exec(db, "PRAGMA foreign_keys=ON", err));
    if (create) DL_TRY(dl_cat_exec(db, catalog_ddl, err));
    *out = db;
    db = NULL;
cleanup:
    if (db) sqlite3_close(db);
    return rc;
}

int dl_cat_dataset_id(sqlite3 *db, const char *name, int64_t *id, int64_t *current_version,
                      dl_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = DL_OK;
    DL_TRY(dl_cat_prepare(db, "SELECT id, current_version FROM datasets WHERE name = ?", &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        if (id) *id = sqlite3_column_int64(st, 0);
        if (current_version) *current_version = sqlite3_column_int64(st, 1);
    } else if (s == SQLITE_DONE) {
        DL_FAIL(err, DL_ENOTFOUND, "dataset %s does not exist (see `dl ls`)", name);
    } else {
        rc = dl_cat_fail(db, "looking up a dataset", err);
    }
cleanup:
    sqlite3_finalize(st);
    return rc;
}

/* ---- schema JSON ---- */

int dl_schema_to_json(const dl_schema *schema, dl_buf *out, dl_error *err) {
    int rc = dl_buf_append_u8(out, '[');
    for (int i = 0; rc == DL_OK && i < schema->num_fields; i++) {
        const dl_field *f = &schema->fields[i];
        if (i) rc = dl_buf_append_u8(out, ',');
        if (rc == DL_OK) rc = dl_buf_printf(out, "{\"name\":");
        if (rc == DL_OK) rc = dl_json_append_string(out, f->name);
        if (rc == DL_OK) rc = dl_buf_printf(out, ",\"type\":\"%s\"", dl_type_name(f->type));
        if (rc == DL_OK && f->type == DL_TYPE_TIMESTAMP)
            rc = dl_buf_printf(out, ",\"unit\":\"%s\",\"utc\":%s", dl_unit_name(f->unit),
                               f->utc ? "true" : "false");
        if (rc == DL_OK)
            rc = dl_buf_printf(out, ",\"nullable\":%s}", f->nullable ? "true" : "false");
    }
    if (rc == DL_OK) rc = dl_buf_append_u8(out, ']');
    if (rc == DL_OK) rc = dl_buf_append_u8(out, 0);
    if (rc != DL_OK) return dl_error_set(err, DL_ENOMEM, "out of memory encoding a schema");
    out->len--; /* keep the NUL out of the length */
    return DL_OK;
}

/* A tiny parser for exactly the JSON dl_schema_to_json writes; the catalog
** could still be damaged, so every step is checked. */
typedef struct json_cursor {
    const char *p;
} json_cursor;

static void skip_ws(json_cursor *c) {
    while (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' || *c->p == '\r') c->p++;
}
static bool expect(json_cursor *c, char ch) {
    skip_ws(c);
    if (*c->p != ch) return false;
    c->p++;
    return true;
}
static bool parse_string(json_cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (*c->p != '"') return false;
    c->p++;
    size_t n = 0;
    while (*c->p && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            ch = *c->p++;
            if (ch == 'u') {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    if (!isxdigit((unsigned char)*c->p)) return false;
                    char h = *c->p++;
                    v = v * 16 +
                        (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
                }
                if (v > 0x7f) return false;
                ch = (char)v;
            } else if (ch != '"' && ch != '\\') {
                return false;
            }
        }
        if (n + 1 >= cap) return false;
        out[n++] = ch;
    }
    if (*c->p != '"') return false;
    c->p++;
    out[n] = 0;
    return true;
}
static bool parse_bool(json_cursor *c, bool *out) {
    skip_ws(c);
    if (strncmp(c->p, "true", 4) == 0) {
        *out = true;
        c->p += 4;
        return true;
    }
    if (strncmp(c->p, "false", 5) == 0) {
        *out = false;
        c->p += 5;
        return true;
    }
    return false;
}

int dl_schema_from_json(const char *json, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    dl_schema_init(out);
    json_cursor c = {json ? json : ""};
    char name[1024], key[32], val[32];
    if (!expect(&c, '[')) goto bad;
    skip_ws(&c);
    if (*c.p == ']') return DL_OK;
    for (;;) {
        if (!expect(&c, '{')) goto bad;
        dl_field f = {0};
        bool have_name = false, have_type = false;
        for (;;) {
            if (!parse_string(&c, key, sizeof key) || !expect(&c, ':')) goto bad;
            if (strcmp(key, "name") == 0) {
                if (!parse_string(&c, name, sizeof name)) goto bad;
                have_name = true;
            } else if (strcmp(key, "type") == 0 || strcmp(key, "unit") == 0) {
                if (!parse_string(&c, val, sizeof val)) goto bad;
                bool found = false;
                if (key[0] == 't') {
                    for (int t = 0; t < DL_TYPE_COUNT_; t++)
                        if (strcmp(val, dl_type_name((dl_type)t)) == 0) {
                            f.type = (dl_type)t;
                            found = true;
                        }
                    have_type = found;
                } else {
                    for (int u = DL_UNIT_MS; u <= DL_UNIT_NS; u++)
                        if (strcmp(val, dl_unit_name((dl_time_unit)u)) == 0) {
                            f.unit = (dl_time_unit)u;
                            found = true;
                        }
                }
                if (!found) goto bad;
            } else if (strcmp(key, "nullable") == 0) {
                if (!parse_bool(&c, &f.nullable)) goto bad;
            } else if (strcmp(key, "utc") == 0) {
                if (!parse_bool(&c, &f.utc)) goto bad;
            } else {
                goto bad;
            }
            if (expect(&c, ',')) continue;
            if (expect(&c, '}')) break;
            goto bad;
        }
        if (!have_name || !have_type) goto bad;
        if (f.type == DL_TYPE_TIMESTAMP) {
            DL_TRY(dl_schema_add_timestamp(out, name, f.unit, f.nullable, err));
            out->fields[out->num_fields - 1].utc = f.utc;
        } else {
            DL_TRY(dl_schema_add(out, name, f.type, f.nullable, err));
        }
        if (expect(&c, ',')) continue;
        if (expect(&c, ']')) break;
        goto bad;
    }
    return DL_OK;
bad:
    rc = dl_error_set(err, DL_ECORRUPT, "catalog: malformed schema JSON near \"%.40s\"", c.p);
cleanup:
    dl_schema_free(out);
    return rc;
}
