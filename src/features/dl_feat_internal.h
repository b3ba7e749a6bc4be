/*
** dl_feat_internal.h -- shared pieces of the feature store (src/features):
** name rules, the catalog access layer (every SQL statement of the feature
** store lives in dl_feat_catalog.c, so moving the tables into the lake's
** catalog migrations touches one file) and the reserved column names.
** Not public.
*/
#ifndef DL_FEAT_INTERNAL_H
#define DL_FEAT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"
#include "util/dl_buf.h"

#define FEAT_EXCHANGE "FEATURES" /* first component of every feature dataset */
#define FEAT_ID_HEX   12         /* identity digits in the dataset's period component */

bool dl_semver_is_prerelease(const char *v);

/* Feature set and alias names: 1..48 bytes of [A-Za-z0-9_-], starting with
** a letter, without "__" (the output column separator).  `what` names the
** argument in the message. */
int feat_check_name(const char *name, const char *what, dl_error *err);

/* ---- catalog (dl_feat_catalog.c) ---- */

/* Tells whether the feature tables exist (catalog migration 3 creates
** them; `create` is kept for callers that write). */
int feat_cat_prepare(dl_lake *lake, bool create, bool *present, dl_error *err);

typedef struct feat_dataset_row {
    char symbol[256];
    char dataset[DL_DATASET_NAME_MAX];
    int64_t lake_version;
    int64_t rows;
} feat_dataset_row;

typedef struct feat_version_row {
    dl_feature_version info;
    char *schema_json; /* owned */
    char *lineage;     /* owned */
} feat_version_row;

/* The version row of name@version whatever its state; DL_ENOTFOUND. */
int feat_cat_version(dl_lake *lake, const char *name, const char *version, feat_version_row *out,
                     dl_error *err);
void feat_version_row_free(feat_version_row *row);
/* Another feature set whose name equals `name` ignoring case (lake paths
** upper-case it): its name into other (empty when none). */
int feat_cat_case_clash(dl_lake *lake, const char *name, char *other, size_t size, dl_error *err);
/* A version of name with the same precedence as `version` (build metadata
** aside): its string into other (empty when none). */
int feat_cat_precedence_clash(dl_lake *lake, const char *name, const char *version, char *other,
                              size_t size, dl_error *err);

typedef struct feat_publish_rows {
    const dl_feature_version *info;
    const char *schema_json;
    const char *lineage;
    const feat_dataset_row *datasets;
    int64_t num_datasets;
    const char *const *sources; /* source datasets ... */
    const int64_t *source_versions;
    int num_sources;
} feat_publish_rows;

/* Inserts a version with its datasets and sources in one transaction.
** DL_ECONFLICT when the version exists by then (a concurrent publisher). */
int feat_cat_insert_version(dl_lake *lake, const feat_publish_rows *rows, dl_error *err);
/* The datasets of a version (owned array, free()). */
int feat_cat_datasets(dl_lake *lake, const char *name, const char *version, feat_dataset_row **out,
                      int64_t *count, dl_error *err);

#endif

/* Makes room for element n of *arr (doubling *cap, from 16); false when
** out of memory (then *arr is unchanged). */
bool feat_grow(void **arr, int64_t *cap, int64_t n, size_t elem);

/* ---- column helpers (dl_feat_table.c) ---- */

/* Appends src rows rows[0..n) to dst (same type); rows[i] < 0 appends a
** null.  One pass per column: the workhorse of publishing (canonical
** order) and retrieval (entity order). */
int feat_column_gather(dl_column *dst, const dl_column *src, const int64_t *rows, int64_t n,
                       dl_error *err);
/* Values of a TIMESTAMP column converted to microseconds (floor). */
int64_t feat_ts_us(const dl_column *col, int64_t row);
