/*
** dl_feat_manifest.c -- retrieval manifests: a JSON record of the entity
** file (path, SHA-256), the resolved feature versions (name, version,
** identity, and the lake dataset + lake version of every symbol), the
** options and the output's SHA-256.  Reading treats the file as hostile
** (size cap, strict JSON, every field type-checked).
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "features/dl_feat_internal.h"
#include "util/dl_fault.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"

#define MANIFEST_MAX_BYTES (64 << 20)

static int append_datasets(dl_lake *lake, const dl_feature_resolved *f, dl_buf *b, dl_error *err) {
    feat_dataset_row *ds = NULL;
    int64_t n = 0;
    int rc = feat_cat_datasets(lake, f->name, f->version, &ds, &n, err);
    if (rc != DL_OK) return rc;
    rc = dl_buf_printf(b, "[");
    for (int64_t i = 0; i < n && rc == DL_OK; i++) {
        rc = dl_buf_printf(b, "%s{\"symbol\":", i ? "," : "");
        if (rc == DL_OK) rc = dl_json_append_string(b, ds[i].symbol);
        if (rc == DL_OK) rc = dl_buf_printf(b, ",\"dataset\":");
        if (rc == DL_OK) rc = dl_json_append_string(b, ds[i].dataset);
        if (rc == DL_OK)
            rc = dl_buf_printf(b, ",\"lake_version\":%lld}", (long long)ds[i].lake_version);
    }
    if (rc == DL_OK) rc = dl_buf_printf(b, "]");
    free(ds);
    if (rc != DL_OK) return dl_error_set(err, DL_ENOMEM, "out of memory writing a manifest");
    return DL_OK;
}

int dl_features_manifest_write(dl_lake *lake, const dl_features_manifest *m, const char *path,
                               dl_error *err) {
    DL_REQUIRE(err, lake && m && path);
    int rc = DL_OK;
    dl_buf b = DL_BUF_INIT;
    FILE *f = NULL;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (dl_buf_printf(&b,
                      "{\"dl_features_manifest\":1,\"dl_version\":\"%s\",\"entities\":{\"path\":",
                      DL_VERSION_STRING) != DL_OK ||
        dl_json_append_string(&b, m->entities_path) != DL_OK ||
        dl_buf_printf(&b, ",\"sha256\":\"%s\"},\"features\":[", m->entities_sha256) != DL_OK)
        DL_FAIL(err, DL_ENOMEM, "out of memory writing a manifest");
    for (int i = 0; i < m->num_features; i++) {
        const dl_feature_resolved *r = &m->features[i];
        if (dl_buf_printf(&b, "%s{\"name\":", i ? "," : "") != DL_OK ||
            dl_json_append_string(&b, r->name) != DL_OK ||
            dl_buf_printf(&b, ",\"version\":") != DL_OK ||
            dl_json_append_string(&b, r->version) != DL_OK ||
            dl_buf_printf(&b, ",\"identity\":\"%s\",\"datasets\":", r->identity) != DL_OK)
            DL_FAIL(err, DL_ENOMEM, "out of memory writing a manifest");
        DL_TRY(append_datasets(lake, r, &b, err));
        if (dl_buf_printf(&b, "}") != DL_OK) DL_FAIL(err, DL_ENOMEM, "out of memory");
    }
    if (dl_buf_printf(&b,
                      "],\"options\":{\"ttl_us\":%lld,\"as_of_system_time_us\":%lld,\"format\":",
                      (long long)m->ttl_us, (long long)m->as_of_system_time) != DL_OK ||
        dl_json_append_string(&b, m->format) != DL_OK ||
        dl_buf_printf(&b, "},\"output_sha256\":\"%s\"}\n", m->output_sha256) != DL_OK)
        DL_FAIL(err, DL_ENOMEM, "out of memory writing a manifest");
    f = fopen(tmp, "wb");
    if (!f) DL_FAIL(err, DL_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    bool ok =
        dl_io_fwrite(b.data, 1, b.len, f) == b.len && fflush(f) == 0 && dl_io_fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    f = NULL;
    if (!ok || dl_io_rename(tmp, path) != 0) {
        unlink(tmp);
        DL_FAIL(err, DL_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
cleanup:
    if (f) fclose(f);
    dl_buf_free(&b);
    return rc;
}

static int read_small_file(const char *path, dl_buf *out, dl_error *err) {
    FILE *f;
    int rc = dl_file_fopen_data(path, &f, err);
    if (rc != DL_OK) return rc;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > MANIFEST_MAX_BYTES) {
            rc = dl_error_set(err, DL_ECORRUPT, "%s: larger than %d MiB; not a manifest", path,
                              MANIFEST_MAX_BYTES >> 20);
            break;
        }
        if (dl_buf_append(out, chunk, n) != DL_OK) {
            rc = dl_error_set(err, DL_ENOMEM, "out of memory reading %s", path);
            break;
        }
    }
    if (rc == DL_OK && ferror(f)) rc = dl_error_set(err, DL_EIO, "%s: read error", path);
    fclose(f);
    return rc;
}

/* Copies a string member that must exist and fit. */
static int take_string(const dl_json *obj, const char *key, char *dst, size_t size,
                       const char *path, dl_error *err) {
    const char *s = dl_json_str(dl_json_get(obj, key));
    if (!s || strlen(s) >= size)
        return dl_error_set(err, DL_ECORRUPT, "%s: manifest field \"%s\" is missing or invalid",
                            path, key);
    snprintf(dst, size, "%s", s);
    return DL_OK;
}

static bool is_sha256(const char *s) {
    if (strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

int dl_features_manifest_read(const char *path, dl_features_manifest *m, dl_error *err) {
    DL_REQUIRE(err, path && m);
    int rc = DL_OK;
    dl_buf text = DL_BUF_INIT;
    dl_json_doc *doc = NULL;
    memset(m, 0, sizeof *m);
    DL_TRY(read_small_file(path, &text, err));
    DL_TRY(dl_json_parse((const char *)text.data, text.len, path, &doc, err));
    const dl_json *root = dl_json_root(doc);
    int64_t fmt = 0;
    if (!dl_json_i64(dl_json_get(root, "dl_features_manifest"), &fmt) || fmt != 1)
        DL_FAIL(err, DL_ECORRUPT, "%s: not a feature retrieval manifest (format 1)", path);
    const dl_json *ent = dl_json_get(root, "entities");
    DL_TRY(take_string(ent, "path", m->entities_path, sizeof m->entities_path, path, err));
    DL_TRY(take_string(ent, "sha256", m->entities_sha256, sizeof m->entities_sha256, path, err));
    DL_TRY(
        take_string(root, "output_sha256", m->output_sha256, sizeof m->output_sha256, path, err));
    if (!is_sha256(m->entities_sha256) || !is_sha256(m->output_sha256))
        DL_FAIL(err, DL_ECORRUPT, "%s: a SHA-256 field is not 64 hex digits", path);
    const dl_json *opts = dl_json_get(root, "options");
    if (!dl_json_i64(dl_json_get(opts, "ttl_us"), &m->ttl_us) || m->ttl_us < 0 ||
        !dl_json_i64(dl_json_get(opts, "as_of_system_time_us"), &m->as_of_system_time))
        DL_FAIL(err, DL_ECORRUPT, "%s: manifest options are missing or invalid", path);
    DL_TRY(take_string(opts, "format", m->format, sizeof m->format, path, err));
    const dl_json *feats = dl_json_get(root, "features");
    if (!feats || feats->type != DL_JSON_ARRAY || feats->count < 1 || feats->count > 1024)
        DL_FAIL(err, DL_ECORRUPT, "%s: manifest lists no feature set", path);
    m->features = calloc((size_t)feats->count, sizeof *m->features);
    if (!m->features) DL_FAIL(err, DL_ENOMEM, "out of memory");
    m->num_features = (int)feats->count;
    for (int i = 0; i < m->num_features; i++) {
        dl_feature_resolved *r = &m->features[i];
        const dl_json *it = &feats->items[i];
        DL_TRY(take_string(it, "name", r->name, sizeof r->name, path, err));
        DL_TRY(take_string(it, "version", r->version, sizeof r->version, path, err));
        DL_TRY(take_string(it, "identity", r->identity, sizeof r->identity, path, err));
        if (feat_check_name(r->name, "feature set name", err) != DL_OK ||
            dl_semver_validate(r->version, err) != DL_OK) {
            dl_error_prefix(err, "%s", path);
            DL_FAIL(err, DL_ECORRUPT, "%s", err->message);
        }
    }
cleanup:
    dl_json_doc_free(doc);
    dl_buf_free(&text);
    if (rc != DL_OK) dl_features_manifest_free(m);
    return rc;
}

void dl_features_manifest_free(dl_features_manifest *m) {
    DL_REQUIRE_OR_RETURN(m, );
    free(m->features);
    m->features = NULL;
    m->num_features = 0;
}
