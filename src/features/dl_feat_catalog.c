/*
** dl_feat_catalog.c -- the feature store's catalog tables and every SQL
** statement that touches them: versions (immutable, soft-deleted), their
** per-symbol lake datasets, their source datasets (lineage), and aliases
** as an append-only history (the current target of an alias at time T is
** its last change at or before T, so swaps are one INSERT: atomic, and
** "what did production point to at T" is a query).
**
** The tables are created by the lake catalog's migration 3 (dl_catalog.c);
** this file holds every statement that uses them.
*/
#include <stdio.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "lake/dl_catalog_ext.h"
#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"

int feat_cat_prepare(dl_lake *lake, bool create, bool *present, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    DL_UNUSED(create); /* the tables come with catalog migration 3 */
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                          "'feature_aliases'",
                          &st, err));
    *present = sqlite3_step(st) == SQLITE_ROW;
cleanup:
    sqlite3_finalize(st);
    return rc;
}

/* Prepares the tables for reading: DL_ENOTFOUND naming `name` when the lake
** has none. */
static int need_tables(dl_lake *lake, const char *name, dl_error *err) {
    bool present = false;
    int rc = feat_cat_prepare(lake, false, &present, err);
    if (rc == DL_OK && !present)
        rc = dl_error_set(err, DL_ENOTFOUND, "feature set %s does not exist (the lake has none)",
                          name ? name : "");
    return rc;
}

static void copy_text(char *dst, size_t size, const unsigned char *src) {
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

int feat_check_name(const char *name, const char *what, dl_error *err) {
    if (!name || !*name) return dl_error_set(err, DL_EINVAL, "%s is empty", what);
    size_t n = strlen(name);
    if (n > DL_FEATURE_NAME_MAX)
        return dl_error_set(err, DL_EINVAL, "%s \"%.48s...\" is %zu bytes; the limit is %d", what,
                            name, n, DL_FEATURE_NAME_MAX);
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
        return dl_error_set(err, DL_EINVAL, "%s \"%s\" must start with a letter", what, name);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return dl_error_set(err, DL_EINVAL,
                                "%s \"%s\" holds '%c' at byte %zu; allowed are letters, digits, "
                                "'_' and '-'",
                                what, name, c, i);
    }
    if (strstr(name, "__"))
        return dl_error_set(err, DL_EINVAL,
                            "%s \"%s\" contains \"__\", which separates the feature set from the "
                            "column in output names",
                            what, name);
    return DL_OK;
}

/* ---- version rows ---- */

#define VERSION_COLUMNS                                                                            \
    "name, version, identity, committed_at, coalesce(deleted_at, 0), rows, symbols, ts_min,"       \
    " ts_max, message, schema, lineage"

static void read_version_info(sqlite3_stmt *st, dl_feature_version *v) {
    memset(v, 0, sizeof *v);
    copy_text(v->name, sizeof v->name, sqlite3_column_text(st, 0));
    copy_text(v->version, sizeof v->version, sqlite3_column_text(st, 1));
    copy_text(v->identity, sizeof v->identity, sqlite3_column_text(st, 2));
    v->committed_at = sqlite3_column_int64(st, 3);
    v->deleted_at = sqlite3_column_int64(st, 4);
    v->rows = sqlite3_column_int64(st, 5);
    v->symbols = sqlite3_column_int64(st, 6);
    v->ts_min = sqlite3_column_int64(st, 7);
    v->ts_max = sqlite3_column_int64(st, 8);
    copy_text(v->message, sizeof v->message, sqlite3_column_text(st, 9));
}

static int count_schema_columns(const char *json) {
    int n = 0;
    for (const char *p = json; p && (p = strstr(p, "{\"name\":")); p++) n++;
    return n;
}

int feat_cat_version(dl_lake *lake, const char *name, const char *version, feat_version_row *out,
                     dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    DL_TRY(need_tables(lake, name, err));
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "SELECT " VERSION_COLUMNS
                          " FROM feature_versions WHERE name = ?1 AND version = ?2",
                          &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE)
        DL_FAIL(err, DL_ENOTFOUND, "feature set %s has no version %s", name, version);
    if (s != SQLITE_ROW)
        DL_TRY(dl_cat_fail(dl_cat_db(lake->cat), "reading a feature version", err));
    read_version_info(st, &out->info);
    out->schema_json = strdup((const char *)sqlite3_column_text(st, 10));
    out->lineage = strdup((const char *)sqlite3_column_text(st, 11));
    if (!out->schema_json || !out->lineage) DL_FAIL(err, DL_ENOMEM, "out of memory");
    out->info.num_columns = count_schema_columns(out->schema_json);
cleanup:
    sqlite3_finalize(st);
    if (rc != DL_OK) feat_version_row_free(out);
    return rc;
}

void feat_version_row_free(feat_version_row *row) {
    free(row->schema_json);
    free(row->lineage);
    row->schema_json = row->lineage = NULL;
}

int feat_cat_case_clash(dl_lake *lake, const char *name, char *other, size_t size, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    other[0] = 0;
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "SELECT name FROM feature_versions WHERE lower(name) = lower(?1)"
                          " AND name != ?1 LIMIT 1",
                          &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) copy_text(other, size, sqlite3_column_text(st, 0));
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int feat_cat_precedence_clash(dl_lake *lake, const char *name, const char *version, char *other,
                              size_t size, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    other[0] = 0;
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "SELECT version FROM feature_versions WHERE name = ?1", &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v && strcmp(v, version) != 0 && dl_semver_validate(v, NULL) == DL_OK &&
            dl_semver_compare(v, version) == 0) {
            copy_text(other, size, (const unsigned char *)v);
            break;
        }
    }
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int feat_cat_insert_version(dl_lake *lake, const feat_publish_rows *r, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    bool in_txn = false;
    const dl_feature_version *v = r->info;
    DL_TRY(dl_cat_exec(dl_cat_db(lake->cat), "BEGIN IMMEDIATE", err));
    in_txn = true;
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "INSERT INTO feature_versions(name, version, identity, committed_at,"
                          " rows, symbols, ts_min, ts_max, schema, lineage, message)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                          &st, err));
    sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v->version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v->identity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, v->committed_at);
    sqlite3_bind_int64(st, 5, v->rows);
    sqlite3_bind_int64(st, 6, v->symbols);
    sqlite3_bind_int64(st, 7, v->ts_min);
    sqlite3_bind_int64(st, 8, v->ts_max);
    sqlite3_bind_text(st, 9, r->schema_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->lineage, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, v->message, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_errcode(dl_cat_db(lake->cat)) == SQLITE_CONSTRAINT)
            DL_FAIL(err, DL_ECONFLICT,
                    "feature set %s version %s was published by another writer meanwhile", v->name,
                    v->version);
        DL_TRY(dl_cat_fail(dl_cat_db(lake->cat), "inserting a feature version", err));
    }
    sqlite3_finalize(st);
    st = NULL;
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "INSERT INTO feature_datasets(name, version, symbol, dataset,"
                          " lake_version, rows) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                          &st, err));
    for (int64_t i = 0; i < r->num_datasets; i++) {
        const feat_dataset_row *d = &r->datasets[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v->version, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, d->symbol, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, d->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, d->lake_version);
        sqlite3_bind_int64(st, 6, d->rows);
        DL_TRY(dl_cat_step_done(dl_cat_db(lake->cat), st, "recording a feature dataset", err));
    }
    sqlite3_finalize(st);
    st = NULL;
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "INSERT INTO feature_sources(name, version, dataset, lake_version)"
                          " VALUES(?1, ?2, ?3, ?4)",
                          &st, err));
    for (int i = 0; i < r->num_sources; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v->version, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->sources[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, r->source_versions[i]);
        DL_TRY(dl_cat_step_done(dl_cat_db(lake->cat), st, "recording a feature source", err));
    }
    sqlite3_finalize(st);
    st = NULL;
    DL_TRY(dl_cat_exec(dl_cat_db(lake->cat), "COMMIT", err));
    in_txn = false;
cleanup:
    sqlite3_finalize(st);
    if (in_txn) sqlite3_exec(dl_cat_db(lake->cat), "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int feat_cat_datasets(dl_lake *lake, const char *name, const char *version, feat_dataset_row **out,
                      int64_t *count, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    feat_dataset_row *rows = NULL;
    int64_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "SELECT symbol, dataset, lake_version, rows FROM feature_datasets"
                          " WHERE name = ?1 AND version = ?2 ORDER BY symbol",
                          &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!feat_grow((void **)&rows, &cap, n, sizeof *rows))
            DL_FAIL(err, DL_ENOMEM, "out of memory");
        feat_dataset_row *d = &rows[n++];
        copy_text(d->symbol, sizeof d->symbol, sqlite3_column_text(st, 0));
        copy_text(d->dataset, sizeof d->dataset, sqlite3_column_text(st, 1));
        d->lake_version = sqlite3_column_int64(st, 2);
        d->rows = sqlite3_column_int64(st, 3);
    }
    *out = rows;
    *count = n;
    rows = NULL;
cleanup:
    sqlite3_finalize(st);
    free(rows);
    return rc;
}

/* ---- public: versions ---- */

void dl_features_free(void *p) {
    free(p);
}

static int cmp_versions(const void *pa, const void *pb) {
    const dl_feature_version *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : dl_semver_compare(a->version, b->version);
}

int dl_features_versions(dl_lake *lake, const char *name, int64_t as_of, bool include_deleted,
                         dl_feature_version **out, int64_t *count, dl_error *err) {
    DL_REQUIRE(err, lake && out && count);
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_feature_version *rows = NULL;
    int64_t n = 0, cap = 0;
    bool present = false;
    *out = NULL;
    *count = 0;
    DL_TRY(feat_cat_prepare(lake, false, &present, err));
    if (!present) {
        if (name) DL_FAIL(err, DL_ENOTFOUND, "feature set %s does not exist", name);
        return DL_OK;
    }
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "SELECT " VERSION_COLUMNS " FROM feature_versions"
                          " WHERE (?1 IS NULL OR name = ?1) AND committed_at <= ?2"
                          " AND (?3 OR deleted_at IS NULL OR deleted_at > ?2)",
                          &st, err));
    if (name) sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, as_of > 0 ? as_of : INT64_MAX);
    sqlite3_bind_int(st, 3, include_deleted);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!feat_grow((void **)&rows, &cap, n, sizeof *rows))
            DL_FAIL(err, DL_ENOMEM, "out of memory");
        read_version_info(st, &rows[n]);
        rows[n].num_columns = count_schema_columns((const char *)sqlite3_column_text(st, 10));
        n++;
    }
    if (n == 0 && name) {
        char other[DL_FEATURE_NAME_MAX + 1];
        DL_TRY(feat_cat_case_clash(lake, name, other, sizeof other, err));
        DL_FAIL(err, DL_ENOTFOUND, "feature set %s does not exist%s%s%s", name,
                as_of > 0 ? " at that system time" : "", other[0] ? "; did you mean " : "", other);
    }
    if (n > 1) qsort(rows, (size_t)n, sizeof *rows, cmp_versions);
    *out = rows;
    *count = n;
    rows = NULL;
cleanup:
    sqlite3_finalize(st);
    free(rows);
    return rc;
}

/* ---- public: aliases ---- */

static bool reserved_alias(const char *alias) {
    return strcmp(alias, "latest") == 0;
}

int dl_features_alias_set(dl_lake *lake, const char *name, const char *alias, const char *version,
                          dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    feat_version_row row = {0};
    bool present = false;
    DL_TRY(feat_check_name(name, "feature set name", err));
    DL_TRY(feat_check_name(alias, "alias", err));
    if (reserved_alias(alias))
        DL_FAIL(err, DL_EINVAL,
                "alias \"latest\" is reserved: it always means the highest release");
    if (version) {
        DL_TRY(dl_semver_validate(version, err));
        DL_TRY(feat_cat_version(lake, name, version, &row, err));
        if (row.info.deleted_at)
            DL_FAIL(err, DL_ENOTFOUND, "feature set %s version %s was deleted", name, version);
    } else {
        DL_TRY(feat_cat_prepare(lake, false, &present, err));
        if (!present) DL_FAIL(err, DL_ENOTFOUND, "feature set %s does not exist", name);
    }
    if (lake->read_only) DL_FAIL(err, DL_EINVAL, "the lake is open read-only");
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "INSERT INTO feature_aliases(name, alias, version, set_at)"
                          " VALUES(?1, ?2, ?3, max(?4, coalesce((SELECT max(set_at) + 1"
                          " FROM feature_aliases WHERE name = ?1 AND alias = ?2), 0)))",
                          &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
    if (version) sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, dl_now_us());
    DL_TRY(dl_cat_step_done(dl_cat_db(lake->cat), st, "setting an alias", err));
cleanup:
    sqlite3_finalize(st);
    feat_version_row_free(&row);
    return rc;
}

int dl_features_aliases(dl_lake *lake, const char *name, int64_t as_of, bool history,
                        dl_feature_alias **out, int64_t *count, dl_error *err) {
    DL_REQUIRE(err, lake && out && count);
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_feature_alias *rows = NULL;
    int64_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    DL_TRY(need_tables(lake, name, err));
    DL_TRY(dl_cat_prepare(
        dl_cat_db(lake->cat),
        history ? "SELECT name, alias, coalesce(version, ''), set_at FROM feature_aliases"
                  " WHERE name = ?1 AND set_at <= ?2 ORDER BY seq"
                : "SELECT a.name, a.alias, coalesce(a.version, ''), a.set_at FROM feature_aliases a"
                  " WHERE a.name = ?1 AND a.seq = (SELECT max(b.seq) FROM feature_aliases b"
                  " WHERE b.name = a.name AND b.alias = a.alias AND b.set_at <= ?2)"
                  " AND a.version IS NOT NULL ORDER BY a.alias",
        &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, as_of > 0 ? as_of : INT64_MAX);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!feat_grow((void **)&rows, &cap, n, sizeof *rows))
            DL_FAIL(err, DL_ENOMEM, "out of memory");
        dl_feature_alias *a = &rows[n++];
        copy_text(a->name, sizeof a->name, sqlite3_column_text(st, 0));
        copy_text(a->alias, sizeof a->alias, sqlite3_column_text(st, 1));
        copy_text(a->version, sizeof a->version, sqlite3_column_text(st, 2));
        a->set_at = sqlite3_column_int64(st, 3);
    }
    *out = rows;
    *count = n;
    rows = NULL;
cleanup:
    sqlite3_finalize(st);
    free(rows);
    return rc;
}

/* A version is visible at as_of when committed by then and not deleted by then. */
static bool visible_at(const dl_feature_version *v, int64_t as_of) {
    int64_t t = as_of > 0 ? as_of : INT64_MAX;
    return v->committed_at <= t && (v->deleted_at == 0 || v->deleted_at > t);
}

int dl_features_resolve(dl_lake *lake, const char *name, const char *ref, int64_t as_of,
                        char *version, dl_error *err) {
    DL_REQUIRE(err, lake && name && ref && version);
    int rc = DL_OK;
    feat_version_row row = {0};
    dl_feature_version *all = NULL;
    dl_feature_alias *aliases = NULL;
    int64_t n = 0;
    version[0] = 0;
    DL_TRY(feat_check_name(name, "feature set name", err));
    if (!ref || !*ref) DL_FAIL(err, DL_EINVAL, "feature set %s: empty version or alias", name);
    if (strcmp(ref, "latest") == 0) {
        DL_TRY(dl_features_versions(lake, name, as_of, false, &all, &n, err));
        for (int64_t i = n - 1; i >= 0 && !version[0]; i--)
            if (!dl_semver_is_prerelease(all[i].version))
                snprintf(version, DL_FEATURE_VERSION_MAX + 1, "%s", all[i].version);
        if (!version[0])
            DL_FAIL(err, DL_ENOTFOUND, "feature set %s has no release version (only pre-releases)",
                    name);
    } else if (dl_semver_validate(ref, NULL) == DL_OK) {
        DL_TRY(feat_cat_version(lake, name, ref, &row, err));
        if (!visible_at(&row.info, as_of))
            DL_FAIL(err, DL_ENOTFOUND, "feature set %s version %s %s", name, ref,
                    row.info.committed_at > (as_of > 0 ? as_of : INT64_MAX)
                        ? "was not published yet at that system time"
                        : "was deleted");
        snprintf(version, DL_FEATURE_VERSION_MAX + 1, "%s", ref);
    } else {
        DL_TRY(feat_check_name(ref, "alias", err));
        DL_TRY(dl_features_aliases(lake, name, as_of, false, &aliases, &n, err));
        for (int64_t i = 0; i < n; i++)
            if (strcmp(aliases[i].alias, ref) == 0)
                snprintf(version, DL_FEATURE_VERSION_MAX + 1, "%s", aliases[i].version);
        if (!version[0])
            DL_FAIL(err, DL_ENOTFOUND, "feature set %s has no alias %s%s", name, ref,
                    as_of > 0 ? " at that system time" : "");
    }
cleanup:
    feat_version_row_free(&row);
    free(all);
    free(aliases);
    return rc;
}

int dl_features_schema(dl_lake *lake, const char *name, const char *version, dl_schema *out,
                       dl_error *err) {
    DL_REQUIRE(err, lake && name && version && out);
    feat_version_row row;
    dl_schema_init(out);
    int rc = feat_cat_version(lake, name, version, &row, err);
    if (rc == DL_OK) rc = dl_schema_from_json(row.schema_json, out, err);
    feat_version_row_free(&row);
    return rc;
}

int dl_features_delete(dl_lake *lake, const char *name, const char *version, dl_error *err) {
    DL_REQUIRE(err, lake && name && version);
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    feat_version_row row = {0};
    bool in_txn = false;
    DL_TRY(feat_cat_version(lake, name, version, &row, err));
    if (row.info.deleted_at)
        DL_FAIL(err, DL_ENOTFOUND, "feature set %s version %s is already deleted", name, version);
    if (lake->read_only) DL_FAIL(err, DL_EINVAL, "the lake is open read-only");
    int64_t now = dl_now_us();
    DL_TRY(dl_cat_exec(dl_cat_db(lake->cat), "BEGIN IMMEDIATE", err));
    in_txn = true;
    DL_TRY(dl_cat_prepare(
        dl_cat_db(lake->cat),
        "UPDATE feature_versions SET deleted_at = ?3 WHERE name = ?1 AND version = ?2", &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    DL_TRY(dl_cat_step_done(dl_cat_db(lake->cat), st, "deleting a feature version", err));
    sqlite3_finalize(st);
    st = NULL;
    /* aliases pointing at it are removed (a recorded change, like any other) */
    DL_TRY(dl_cat_prepare(dl_cat_db(lake->cat),
                          "INSERT INTO feature_aliases(name, alias, version, set_at)"
                          " SELECT a.name, a.alias, NULL, ?3 FROM feature_aliases a"
                          " WHERE a.name = ?1 AND a.version = ?2 AND a.seq = (SELECT max(b.seq)"
                          " FROM feature_aliases b WHERE b.name = a.name AND b.alias = a.alias)",
                          &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    DL_TRY(dl_cat_step_done(dl_cat_db(lake->cat), st, "removing aliases", err));
    DL_TRY(dl_cat_exec(dl_cat_db(lake->cat), "COMMIT", err));
    in_txn = false;
cleanup:
    sqlite3_finalize(st);
    if (in_txn) sqlite3_exec(dl_cat_db(lake->cat), "ROLLBACK", NULL, NULL, NULL);
    feat_version_row_free(&row);
    return rc;
}

int dl_features_lineage(dl_lake *lake, const char *name, const char *version, char **json,
                        dl_error *err) {
    DL_REQUIRE(err, lake && name && version && json);
    feat_version_row row;
    *json = NULL;
    int rc = feat_cat_version(lake, name, version, &row, err);
    if (rc == DL_OK) {
        *json = row.lineage;
        row.lineage = NULL;
    }
    feat_version_row_free(&row);
    return rc;
}
