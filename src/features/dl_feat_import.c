/*
** dl_feat_import.c -- reading external files for the feature store: the
** import input (CSV with a header, or Parquet recognised by its "PAR1"
** magic) and the entity file of a retrieval (CSV symbol,ts).  CSV goes
** through the hostile-input-safe streaming reader of src/ingest; times are
** epoch milliseconds or ISO-8601, decided by the first value of the file.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "ingest/dl_csv.h"
#include "util/dl_internal.h"
#include "util/dl_json.h"

/* Appends every batch of an open reader to *out (initialised here). */
static int read_all(dl_csv_reader *r, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    DL_TRY(dl_table_init(out, dl_csv_schema(r), err));
    DL_TRY(dl_table_init(&batch, dl_csv_schema(r), err));
    for (;;) {
        DL_TRY(dl_csv_next_batch(r, &batch, err));
        if (batch.num_rows == 0) break;
        DL_TRY(feat_table_append(out, &batch, 0, batch.num_rows, err));
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    dl_table_free(&batch);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}

/* Times: ISO-8601 or epoch ms, one form per file. */
static int read_csv_times(const char *path, const dl_csv_options *base, dl_table *out,
                          dl_error *err) {
    dl_csv_options o = *base;
    o.ts_format = "auto"; /* per file: ISO-8601 text or the epoch unit of the first value */
    dl_csv_reader *r = NULL;
    int rc = dl_csv_open(path, &o, &r, err);
    if (rc == DL_OK) rc = read_all(r, out, err);
    dl_csv_close(r);
    return rc;
}

int dl_features_read_entities(const char *path, dl_table *out, dl_error *err) {
    DL_REQUIRE(err, path && out);
    static const dl_csv_column cols[] = {{"symbol", NULL, DL_TYPE_STRING}};
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.ts_column = "ts";
    o.columns = cols;
    o.num_columns = 1;
    memset(out, 0, sizeof *out);
    int rc = read_csv_times(path, &o, out, err);
    if (rc != DL_OK) dl_error_prefix(err, "entity file");
    return rc;
}

static int is_parquet(const char *path, bool *yes, dl_error *err) {
    FILE *f;
    int rc = dl_file_fopen_data(path, &f, err);
    if (rc != DL_OK) return rc;
    char magic[4] = {0};
    *yes = fread(magic, 1, 4, f) == 4 && memcmp(magic, "PAR1", 4) == 0;
    fclose(f);
    return DL_OK;
}

/* CSV import: a first open learns the header and the inferred types, the
** second reads with the entity as a string and available_at as a time. */
static int read_import_csv(const char *path, const dl_features_import_options *o, dl_table *out,
                           dl_error *err) {
    int rc = DL_OK;
    dl_csv_reader *r = NULL;
    dl_csv_column *cols = NULL;
    dl_schema header;
    dl_schema_init(&header);
    dl_csv_options co;
    dl_csv_options_default(&co, DL_CSV_GENERIC);
    co.ts_column = o->ts_column;
    DL_TRY(dl_csv_open(path, &co, &r, err));
    DL_TRY(dl_schema_copy(&header, dl_csv_schema(r), err));
    dl_csv_close(r);
    r = NULL;
    cols = calloc((size_t)header.num_fields + 1, sizeof *cols);
    if (!cols) DL_FAIL(err, DL_ENOMEM, "out of memory");
    int n = 0;
    bool entity_found = false;
    for (int i = 1; i < header.num_fields; i++) { /* 0 is the time column, named ts */
        dl_csv_column *c = &cols[n++];
        c->source = header.fields[i].name;
        c->type = header.fields[i].type;
        if (strcmp(c->source, o->entity_column) == 0) {
            c->type = DL_TYPE_STRING;
            entity_found = true;
        }
        if (o->available_at_column && strcmp(c->source, o->available_at_column) == 0)
            c->type = DL_TYPE_TIMESTAMP;
    }
    if (!entity_found)
        DL_FAIL(err, DL_ENOTFOUND, "%s: entity column '%s' is not in the header", path,
                o->entity_column);
    co.columns = cols;
    co.num_columns = n;
    DL_TRY(read_csv_times(path, &co, out, err));
cleanup:
    dl_csv_close(r);
    free(cols);
    dl_schema_free(&header);
    return rc;
}

static int read_import_parquet(const char *path, dl_table *out, dl_error *err) {
    dl_parquet_reader *r = NULL;
    int rc = dl_parquet_open(path, &r, err);
    if (rc == DL_OK) rc = dl_parquet_read_table(r, NULL, 0, out, err);
    dl_parquet_close(r);
    return rc;
}

int dl_features_import(dl_lake *lake, const char *path, const dl_features_import_options *opts,
                       dl_features_publish_result *result, dl_error *err) {
    DL_REQUIRE(err, lake && path);
    int rc = DL_OK;
    dl_table rows;
    memset(&rows, 0, sizeof rows);
    dl_buf transform = DL_BUF_INIT;
    bool parquet = false;
    char sha[65];
    if (!opts->entity_column || !opts->ts_column)
        return dl_error_set(err, DL_EINVAL, "the entity and ts columns must be named");
    /* refuse a bad name or version before reading anything */
    DL_TRY(feat_check_name(opts->name, "feature set name", err));
    DL_TRY(dl_semver_validate(opts->version, err));
    DL_TRY(is_parquet(path, &parquet, err));
    dl_features_import_options o = *opts;
    if (parquet) {
        DL_TRY(read_import_parquet(path, &rows, err));
    } else {
        DL_TRY(read_import_csv(path, opts, &rows, err));
        o.ts_column = "ts"; /* the CSV reader names the time column ts */
    }
    DL_TRY(dl_sha256_file(path, sha, err));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (dl_buf_printf(&transform, "{\"kind\":\"import\",\"file\":") != DL_OK ||
        dl_json_append_string(&transform, base) != DL_OK ||
        dl_buf_printf(&transform, ",\"format\":\"%s\",\"sha256\":\"%s\"}",
                      parquet ? "parquet" : "csv", sha) != DL_OK ||
        dl_buf_append_u8(&transform, 0) != DL_OK)
        DL_FAIL(err, DL_ENOMEM, "out of memory");
    rc = dl_features_publish(lake, &rows, &o, (const char *)transform.data, result, err);
    if (rc != DL_OK && rc != DL_ECONFLICT) dl_error_prefix(err, "%s", path);
cleanup:
    dl_table_free(&rows);
    dl_buf_free(&transform);
    return rc;
}
