/*
** dl_token.c -- access tokens of the data server, kept in the catalog's
** `tokens` table: creation (random secret shown once, only its SHA-256
** stored), listing, revocation and the check a server makes per request
** (lookup by id, constant-time hash compare, expiry and revocation).
**
** The `tokens` table is catalog migration 4 (dl_catalog.c); all the SQL on
** it is in this file.
*/
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lake/dl_catalog_ext.h"
#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"

#define SECRET_BYTES 32
#define SECRET_CHARS 43 /* base64url of 32 bytes, no padding */

/* The lake's catalog connection; writes need a read-write lake. */
static sqlite3 *token_db(dl_lake *lake, bool write, dl_error *err) {
    if (write && lake->read_only) {
        dl_error_set(err, DL_EINVAL, "tokens: the lake is open read-only");
        return NULL;
    }
    return dl_cat_db(lake->cat);
}

const char *dl_token_scope_name(dl_token_scope scope) {
    switch (scope) {
    case DL_TOKEN_READ:
        return "read";
    case DL_TOKEN_WRITE:
        return "write";
    case DL_TOKEN_ADMIN:
        return "admin";
    }
    return "?";
}

int dl_token_scope_parse(const char *text, dl_token_scope *out) {
    static const dl_token_scope all[] = {DL_TOKEN_READ, DL_TOKEN_WRITE, DL_TOKEN_ADMIN};
    for (size_t i = 0; text && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(text, dl_token_scope_name(all[i])) == 0) {
            *out = all[i];
            return DL_OK;
        }
    return DL_EINVAL;
}

bool dl_token_allows(const dl_token_info *info, const char *dataset) {
    DL_REQUIRE_OR_RETURN(info && dataset, false);
    return !info->datasets[0] || dl_dataset_match(info->datasets, dataset);
}

static void base64url(const uint8_t *src, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (i < n) { /* 32 bytes: two left */
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < n ? (uint32_t)src[i + 1] << 8 : 0);
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = a[(v >> 6) & 63];
    }
    out[o] = '\0';
}

static void read_row(sqlite3_stmt *st, dl_token_info *t) {
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    snprintf(t->name, sizeof t->name, "%s", (const char *)sqlite3_column_text(st, 1));
    t->scope = (dl_token_scope)sqlite3_column_int(st, 2);
    snprintf(t->datasets, sizeof t->datasets, "%s", (const char *)sqlite3_column_text(st, 3));
    t->created_at = sqlite3_column_int64(st, 4);
    t->expires_at = sqlite3_column_int64(st, 5);
    t->revoked_at = sqlite3_column_int64(st, 6);
}

#define TOKEN_COLUMNS "id, name, scope, datasets, created_at, expires_at, revoked_at"

static int check_name(const char *name, dl_error *err) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= sizeof(((dl_token_info *)0)->name))
        return dl_error_set(err, DL_EINVAL, "token name must be 1..127 bytes");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return dl_error_set(err, DL_EINVAL, "token name holds a control character");
    if (name[0] == '#') return dl_error_set(err, DL_EINVAL, "token name may not start with '#'");
    return DL_OK;
}

int dl_token_create(dl_lake *lake, const char *name, dl_token_scope scope, const char *datasets,
                    int64_t expires_at, char token_out[DL_TOKEN_TEXT_MAX], dl_token_info *info,
                    dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    uint8_t secret[SECRET_BYTES];
    if (!datasets) datasets = "";
    if (scope < DL_TOKEN_READ || scope > DL_TOKEN_ADMIN)
        return dl_error_set(err, DL_EINVAL, "token scope must be read, write or admin");
    DL_TRY(check_name(name, err));
    if (strlen(datasets) >= DL_DATASET_NAME_MAX)
        DL_FAIL(err, DL_EINVAL, "token dataset glob longer than %d bytes", DL_DATASET_NAME_MAX - 1);
    if (expires_at < 0) DL_FAIL(err, DL_EINVAL, "token expiry is in the past");
    sqlite3 *db = token_db(lake, true, err);
    if (!db) return DL_EINVAL;
    if (getrandom(secret, sizeof secret, 0) != (ssize_t)sizeof secret)
        DL_FAIL(err, DL_EIO, "tokens: getrandom: %s", strerror(errno));
    char secret_text[SECRET_CHARS + 1];
    base64url(secret, sizeof secret, secret_text);
    char hash[65];
    dl_sha256_hex(secret_text, SECRET_CHARS, hash);
    int64_t now = dl_now_us();
    DL_TRY(dl_cat_prepare(db,
                          "INSERT INTO tokens(name, scope, datasets, hash, created_at, expires_at)"
                          " VALUES(?, ?, ?, ?, ?, ?)",
                          &st, err));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)scope);
    sqlite3_bind_text(st, 3, datasets, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, expires_at);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        DL_FAIL(err, DL_ECONFLICT, "a live token named '%s' exists already (revoke it first)",
                name);
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(db, "insert token", err));
    int64_t id = sqlite3_last_insert_rowid(db);
    snprintf(token_out, DL_TOKEN_TEXT_MAX, "dl_%" PRId64 "_%s", id, secret_text);
    if (info) {
        memset(info, 0, sizeof *info);
        info->id = id;
        snprintf(info->name, sizeof info->name, "%s", name);
        info->scope = scope;
        snprintf(info->datasets, sizeof info->datasets, "%s", datasets);
        info->created_at = now;
        info->expires_at = expires_at;
    }
cleanup:
    sqlite3_finalize(st);
    memset(secret, 0, sizeof secret);
    return rc;
}

int dl_token_list(dl_lake *lake, dl_token_info **out, int64_t *count, dl_error *err) {
    DL_REQUIRE(err, lake && out && count);
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    dl_token_info *items = NULL;
    int64_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    sqlite3 *db = token_db(lake, false, err);
    DL_TRY(dl_cat_prepare(db, "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY id", &st, err));
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            dl_token_info *grown = realloc(items, sizeof *items * (size_t)cap);
            if (!grown) DL_FAIL(err, DL_ENOMEM, "out of memory listing tokens");
            items = grown;
        }
        read_row(st, &items[n++]);
    }
    if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(db, "list tokens", err));
    *out = items;
    *count = n;
    items = NULL;
cleanup:
    free(items);
    sqlite3_finalize(st);
    return rc;
}

int dl_token_revoke(dl_lake *lake, const char *name, dl_error *err) {
    DL_REQUIRE(err, lake && name);
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = token_db(lake, true, err);
    if (!db) return DL_EINVAL;
    bool by_id = name && name[0] == '#';
    DL_TRY(
        dl_cat_prepare(db,
                       by_id ? "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0"
                             : "UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at = 0",
                       &st, err));
    sqlite3_bind_int64(st, 1, dl_now_us());
    if (by_id)
        sqlite3_bind_int64(st, 2, strtoll(name + 1, NULL, 10));
    else
        sqlite3_bind_text(st, 2, name ? name : "", -1, SQLITE_STATIC);
    DL_TRY(dl_cat_step_done(db, st, "revoke token", err));
    if (sqlite3_changes(db) == 0)
        DL_FAIL(err, DL_ENOTFOUND, "no live token named '%s'", name ? name : "");
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int dl_token_check(dl_lake *lake, const char *token, size_t len, int64_t now_us,
                   dl_token_info *info, dl_error *err) {
    int rc = DL_OK;
    sqlite3_stmt *st = NULL;
    /* dl_<id>_<secret> */
    if (!token || len < 5 || len >= DL_TOKEN_TEXT_MAX || memcmp(token, "dl_", 3) != 0)
        return dl_error_set(err, DL_ENOTFOUND, "unknown token");
    int64_t id = 0;
    size_t i = 3;
    while (i < len && i < 22 && isdigit((unsigned char)token[i])) id = id * 10 + (token[i++] - '0');
    if (i == 3 || i >= len || token[i] != '_' || len - i - 1 != SECRET_CHARS)
        return dl_error_set(err, DL_ENOTFOUND, "unknown token");
    const char *secret = token + i + 1;
    sqlite3 *db = token_db(lake, false, err);
    DL_TRY(dl_cat_prepare(db, "SELECT " TOKEN_COLUMNS ", hash FROM tokens WHERE id = ?", &st, err));
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    char hash[65];
    dl_sha256_hex(secret, SECRET_CHARS, hash);
    if (s != SQLITE_ROW) {
        if (s != SQLITE_DONE) DL_TRY(dl_cat_fail(db, "token lookup", err));
        DL_FAIL(err, DL_ENOTFOUND, "unknown token");
    }
    const unsigned char *stored = sqlite3_column_text(st, 7);
    if (!stored || strlen((const char *)stored) != 64) DL_FAIL(err, DL_ENOTFOUND, "unknown token");
    uint8_t diff = 0;
    for (int k = 0; k < 64; k++) diff |= (uint8_t)(stored[k] ^ (unsigned char)hash[k]);
    if (diff != 0) DL_FAIL(err, DL_ENOTFOUND, "unknown token");
    read_row(st, info);
    if (info->revoked_at) DL_FAIL(err, DL_EINVAL, "token '%s' was revoked", info->name);
    if (info->expires_at && now_us >= info->expires_at)
        DL_FAIL(err, DL_EINVAL, "token '%s' expired", info->name);
cleanup:
    sqlite3_finalize(st);
    return rc;
}
