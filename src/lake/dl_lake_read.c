/*
** dl_lake_read.c -- reading a dataset (optionally as of a version) into
** one table with the uniform view: the union of the files' columns,
** missing columns null, narrower types widened, sorted by ts.
*/
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lake/dl_lake_internal.h"
#include "util/dl_internal.h"

/* Keeps rows with from <= ts < to (the files are day-sorted, rows ts-sorted). */
static int filter_range(dl_table *t, int64_t from, int64_t to, dl_error *err) {
    int c = dl_schema_find(&t->schema, "ts");
    if (c < 0) return DL_OK;
    const int64_t *ts = t->columns[c].values;
    int64_t lo = 0, hi = t->num_rows;
    while (lo < t->num_rows && ts[lo] < from) lo++;
    while (hi > lo && ts[hi - 1] >= to) hi--;
    if (lo == 0 && hi == t->num_rows) return DL_OK;
    dl_table cut;
    int rc = dl_table_init(&cut, &t->schema, err);
    for (int i = 0; rc == DL_OK && i < t->schema.num_fields; i++)
        rc = dl_column_append_range(&cut.columns[i], &t->columns[i], lo, hi - lo, err);
    if (rc == DL_OK) rc = dl_table_seal(&cut, err);
    if (rc != DL_OK) {
        dl_table_free(&cut);
        return rc;
    }
    dl_table_free(t);
    *t = cut;
    return DL_OK;
}

int dl_lake_file_check_size(const dl_lake_file *file, int64_t size, dl_error *err) {
    DL_REQUIRE(err, file && file->path);
    if (size == file->bytes) return DL_OK;
    return dl_error_set(err, DL_ECORRUPT,
                        "%s: the file has %lld bytes but the catalog recorded %lld: it was "
                        "damaged or changed outside the lake",
                        file->path, (long long)size, (long long)file->bytes);
}

int dl_lake_file_open(const dl_lake_file *file, bool skip_page_crc, dl_parquet_reader **out,
                      dl_error *err) {
    DL_REQUIRE(err, file && file->path && out);
    *out = NULL;
    /* first by name: a grown or cut file fails here with the right diagnosis
    ** instead of the reader's "not a Parquet file" */
    struct stat st;
    if (stat(file->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size != file->bytes)
        return dl_lake_file_check_size(file, st.st_size, err);
    int rc = dl_parquet_open(file->path, out, err);
    if (rc == DL_OK) /* and the file really opened */
        rc = dl_lake_file_check_size(file, dl_parquet_file_size(*out), err);
    if (rc != DL_OK) {
        dl_parquet_close(*out);
        *out = NULL;
        return rc;
    }
    dl_parquet_set_check_crc(*out, !skip_page_crc);
    return DL_OK;
}

int dl_lake_read(dl_lake *lake, const char *dataset, int64_t ts_from, int64_t ts_to,
                 int64_t as_of_version, dl_table *out, dl_error *err) {
    DL_REQUIRE(err, lake && dataset && out);
    int rc = DL_OK;
    dl_lake_file_list files = {0};
    dl_table *parts = NULL;
    dl_schema layout;
    dl_schema_init(&layout);
    memset(out, 0, sizeof *out);
    DL_TRY(dl_lake_files(lake, dataset, ts_from, ts_to, as_of_version, &files, err));
    parts = calloc((size_t)(files.count ? files.count : 1), sizeof *parts);
    if (!parts) DL_FAIL(err, DL_ENOMEM, "out of memory");
    DL_TRY(dl_schema_add_timestamp(&layout, "ts", DL_UNIT_US, false, err));
    for (int64_t i = 0; i < files.count; i++) {
        dl_parquet_reader *r = NULL;
        rc = dl_lake_file_open(&files.files[i], false, &r, err);
        if (rc == DL_OK) rc = dl_parquet_read_table(r, NULL, 0, &parts[i], err);
        dl_parquet_close(r);
        if (rc != DL_OK) {
            dl_lake_name_path(err, files.files[i].path);
            goto cleanup;
        }
        DL_TRY(dl_schema_union(&layout, &parts[i].schema, files.files[i].path, err));
    }
    /* A column some files lack is null there. */
    for (int f = 0; f < layout.num_fields; f++)
        for (int64_t i = 0; i < files.count; i++)
            if (dl_schema_find(&parts[i].schema, layout.fields[f].name) < 0)
                layout.fields[f].nullable = true;
    DL_TRY(dl_table_init(out, &layout, err));
    for (int64_t i = 0; i < files.count; i++) {
        dl_table conf;
        DL_TRY(dl_table_conform(&parts[i], &layout, &conf, err));
        dl_table_free(&parts[i]);
        DL_TRY(filter_range(&conf, ts_from, ts_to, err));
        for (int c = 0; c < layout.num_fields && rc == DL_OK; c++)
            rc = dl_column_append_range(&out->columns[c], &conf.columns[c], 0, conf.num_rows, err);
        dl_table_free(&conf);
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    if (rc != DL_OK) dl_table_free(out);
    for (int64_t i = 0; parts && i < files.count; i++) dl_table_free(&parts[i]);
    free(parts);
    dl_schema_free(&layout);
    dl_lake_file_list_free(&files);
    return rc;
}
