/*
** dl_feat_lineage.c -- renders a version's lineage record (JSON written by
** dl_feat_publish.c) as a text tree:
**   NAME@VERSION  identity ...
**     transform: import file.csv (csv, sha256 ...)
**     source DATASET @ lake version N
**       YYYY/MM/DD/data.parquet  sha256 ...
*/
#include <stdio.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"

static const char *str_or(const dl_json *obj, const char *key, const char *dflt) {
    const char *s = dl_json_str(dl_json_get(obj, key));
    return s ? s : dflt;
}

/* The transform object as "key=value" pairs on one line (scalars only). */
static int put_transform(const dl_json *t, dl_buf *b) {
    int rc = dl_buf_printf(b, "  transform:");
    for (int64_t i = 0; t && t->type == DL_JSON_OBJECT && i < t->count && rc == DL_OK; i++) {
        const dl_json *v = &t->items[i];
        if (v->type == DL_JSON_STRING || v->type == DL_JSON_NUMBER)
            rc = dl_buf_printf(b, " %s=%s", t->keys[i], v->text);
        else if (v->type == DL_JSON_BOOL)
            rc = dl_buf_printf(b, " %s=%s", t->keys[i], v->boolean ? "true" : "false");
        else if (v->type == DL_JSON_ARRAY)
            rc = dl_buf_printf(b, " %s=[%lld items]", t->keys[i], (long long)v->count);
    }
    if (rc == DL_OK) rc = dl_buf_printf(b, "\n");
    return rc;
}

int dl_features_lineage_text(const char *json, char **text, dl_error *err) {
    DL_REQUIRE(err, json && text);
    int rc = DL_OK;
    dl_json_doc *doc = NULL;
    dl_buf b = DL_BUF_INIT;
    *text = NULL;
    DL_TRY(dl_json_parse(json, strlen(json), "lineage", &doc, err));
    const dl_json *r = dl_json_root(doc);
    const dl_json *avail = dl_json_get(r, "available_at");
    int64_t iv = 0, lag = 0;
    rc = dl_buf_printf(&b, "%s@%s  identity %s\n  created %s by dl %s\n  message: %s\n",
                       str_or(r, "feature_set", "?"), str_or(r, "version", "?"),
                       str_or(r, "identity", "?"), str_or(r, "created_at", "?"),
                       str_or(r, "dl_version", "?"), str_or(r, "message", ""));
    if (rc == DL_OK && dl_json_get(avail, "column"))
        rc = dl_buf_printf(&b, "  available_at: column %s\n", str_or(avail, "column", "?"));
    else if (rc == DL_OK && dl_json_i64(dl_json_get(avail, "interval_us"), &iv) &&
             dl_json_i64(dl_json_get(avail, "lag_us"), &lag))
        rc = dl_buf_printf(&b, "  available_at: ts + %lld us interval + %lld us lag\n",
                           (long long)iv, (long long)lag);
    if (rc == DL_OK) rc = put_transform(dl_json_get(r, "transform"), &b);
    const dl_json *srcs = dl_json_get(r, "sources");
    for (int64_t i = 0; srcs && srcs->type == DL_JSON_ARRAY && i < srcs->count && rc == DL_OK;
         i++) {
        const dl_json *s = &srcs->items[i];
        int64_t lv = 0;
        dl_json_i64(dl_json_get(s, "lake_version"), &lv);
        rc = dl_buf_printf(&b, "  source %s @ lake version %lld\n", str_or(s, "dataset", "?"),
                           (long long)lv);
        const dl_json *files = dl_json_get(s, "files");
        for (int64_t f = 0;
             files && files->type == DL_JSON_ARRAY && f < files->count && rc == DL_OK; f++)
            rc = dl_buf_printf(&b, "    %s  sha256 %s\n", str_or(&files->items[f], "path", "?"),
                               str_or(&files->items[f], "sha256", "?"));
    }
    if (rc == DL_OK && (!srcs || srcs->count == 0))
        rc = dl_buf_printf(&b, "  sources: none recorded\n");
    if (rc == DL_OK) rc = dl_buf_append_u8(&b, 0);
    if (rc != DL_OK) DL_FAIL(err, DL_ENOMEM, "out of memory rendering the lineage");
    *text = (char *)b.data;
    b.data = NULL;
cleanup:
    dl_buf_free(&b);
    dl_json_doc_free(doc);
    return rc;
}

/* ---- verification of recorded sources ---- */

/* One source of a version: the lake still has its version and every file
** the lineage recorded, with the same SHA-256. */
static int verify_source(dl_lake *lake, const char *who, const dl_json *src, dl_verify_report *rep,
                         dl_error *err) {
    const char *dataset = dl_json_str(dl_json_get(src, "dataset"));
    int64_t version = 0;
    if (!dataset || !dl_json_i64(dl_json_get(src, "lake_version"), &version))
        return dl_verify_add_issue(rep, DL_VERIFY_LINEAGE, who, false, err,
                                   "lineage record has a malformed source");
    dl_lake_file_list files = {0};
    dl_error why = {0};
    if (dl_lake_files(lake, dataset, INT64_MIN, INT64_MAX, version, &files, &why) != DL_OK)
        return dl_verify_add_issue(rep, DL_VERIFY_LINEAGE, who, false, err,
                                   "source %s version %lld: %s", dataset, (long long)version,
                                   why.message);
    /* Superseded files move to the archive, so files are matched by their
    ** checksum (the lake re-hashes the bytes against the catalog itself). */
    int rc = DL_OK;
    const dl_json *want = dl_json_get(src, "files");
    for (int64_t i = 0; want && want->type == DL_JSON_ARRAY && i < want->count && rc == DL_OK;
         i++) {
        const char *path = dl_json_str(dl_json_get(&want->items[i], "path"));
        const char *sha = dl_json_str(dl_json_get(&want->items[i], "sha256"));
        bool found = false;
        for (int64_t f = 0; sha && f < files.count && !found; f++)
            found = strcmp(files.files[f].sha256, sha) == 0;
        if (!found)
            rc = dl_verify_add_issue(rep, DL_VERIFY_LINEAGE, who, false, err,
                                     "source %s version %lld no longer holds %s (sha256 %.12s)",
                                     dataset, (long long)version, path ? path : "(malformed)",
                                     sha ? sha : "?");
    }
    dl_lake_file_list_free(&files);
    return rc;
}

int dl_features_verify(dl_lake *lake, dl_verify_report *rep, dl_error *err) {
    int rc = DL_OK;
    dl_feature_version *vs = NULL;
    int64_t n = 0;
    dl_json_doc *doc = NULL;
    feat_version_row row = {0};
    DL_TRY(dl_features_versions(lake, NULL, 0, false, &vs, &n, err));
    for (int64_t i = 0; i < n; i++) {
        char who[DL_FEATURE_NAME_MAX + DL_FEATURE_VERSION_MAX + 2];
        snprintf(who, sizeof who, "%s@%s", vs[i].name, vs[i].version);
        DL_TRY(feat_cat_version(lake, vs[i].name, vs[i].version, &row, err));
        if (dl_json_parse(row.lineage, strlen(row.lineage), who, &doc, NULL) != DL_OK) {
            DL_TRY(dl_verify_add_issue(rep, DL_VERIFY_LINEAGE, who, false, err,
                                       "lineage record is not valid JSON"));
        } else {
            const dl_json *srcs = dl_json_get(dl_json_root(doc), "sources");
            for (int64_t s = 0; srcs && srcs->type == DL_JSON_ARRAY && s < srcs->count; s++)
                DL_TRY(verify_source(lake, who, &srcs->items[s], rep, err));
        }
        dl_json_doc_free(doc);
        doc = NULL;
        feat_version_row_free(&row);
    }
cleanup:
    dl_json_doc_free(doc);
    feat_version_row_free(&row);
    free(vs);
    return rc;
}
