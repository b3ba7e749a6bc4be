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

/* ---- publishing pieces shared with the builder (dl_feat_publish.c) ---- */

#define FEAT_KV_LINEAGE "dl.features.lineage" /* footer key of every feature file */

/* Source datasets pinned to lake versions. */
typedef struct feat_source_set {
    char (*names)[DL_DATASET_NAME_MAX];
    int64_t *versions;
    int64_t *period_us;
    int count;
} feat_source_set;

/* Parses "DATASET[@VERSION]" entries; no version = the current one. */
int feat_resolve_sources(dl_lake *lake, const char *const *specs, int n, feat_source_set *out,
                         dl_error *err);
void feat_source_set_free(feat_source_set *s);
/* The lineage JSON of a version into b (NUL-terminated); now == 0 leaves
** out the time and message (the deterministic form for file footers). */
int feat_lineage_json(dl_lake *lake, const dl_features_import_options *o, const char *identity,
                      const feat_source_set *sources, const char *transform_json, int64_t now,
                      dl_buf *b, dl_error *err);

/* Before publishing o->version: *exists with the same identity (res
** filled, unchanged) or not at all; DL_ECONFLICT for other content, a
** deleted version, a name differing only in case or a version of equal
** precedence. */
int feat_check_existing(dl_lake *lake, const dl_features_import_options *o, const char *identity,
                        dl_features_publish_result *res, bool *exists, dl_error *err);

/* ---- column helpers (dl_feat_table.c) ---- */

/* Appends src rows rows[0..n) to dst (same type); rows[i] < 0 appends a
** null.  One pass per column: the workhorse of publishing (canonical
** order) and retrieval (entity order). */
int feat_column_gather(dl_column *dst, const dl_column *src, const int64_t *rows, int64_t n,
                       dl_error *err);
/* Appends rows [from, from + count) of every column of src to dst (same
** layout; dst is not sealed). */
int feat_table_append(dl_table *dst, const dl_table *src, int64_t from, int64_t count,
                      dl_error *err);
/* Values of a TIMESTAMP column converted to microseconds (floor). */
int64_t feat_ts_us(const dl_column *col, int64_t row);

/* ---- kernels (dl_feat_kernels.c) ---- */

enum {
    FEAT_K_RETURNS = 0,
    FEAT_K_LOG_RETURNS,
    FEAT_K_EMA,
    FEAT_K_TRUE_RANGE,
    FEAT_K_ROLLING_MEAN, /* from here on: a time window */
    FEAT_K_ROLLING_STD,
    FEAT_K_ROLLING_MIN,
    FEAT_K_ROLLING_MAX,
    FEAT_K_ROLLING_SUM,
    FEAT_K_ROLLING_COUNT,
    FEAT_K_ZSCORE,
    FEAT_K_VWAP,
    FEAT_K_REALIZED_VOL,
    FEAT_K_ATR,
    FEAT_K_TAKER_IMBALANCE,
    FEAT_K_COUNT_
};

/* One input series: values and a validity byte each (borrowed). */
typedef struct feat_input {
    const double *v;
    const uint8_t *ok;
} feat_input;

/* One symbol's bars, ts ascending; the OHLCV series kernels may use. */
typedef struct feat_bars {
    int64_t n;
    const int64_t *ts;
    feat_input high, low, close, volume, taker_buy;
} feat_bars;

typedef struct feat_kernel {
    int kind;
    char column[DL_LAKE_COMPONENT_MAX + 1]; /* input column (returns, rolling, ema, ...) */
    char out_name[128];
    int64_t bars;      /* returns: k */
    int64_t window_us; /* window kernels */
    double alpha;      /* ema */
    feat_input input;  /* bound per symbol */
} feat_kernel;

int feat_kernel_parse(const char *name); /* kind or -1 */
const char *feat_kernel_name(int kind);
bool feat_kernel_needs_window(int kind);
/* Computes out[0..n) and ok[0..n) (1 = value present) for one symbol. */
int feat_kernel_run(const feat_kernel *k, const feat_bars *b, double *out, uint8_t *ok,
                    dl_error *err);
