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
