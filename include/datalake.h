/*
** datalake.h -- the public API of libdatalake, the market-data lake library.
**
** Everything a program needs to read and write the lake goes through this
** header: columnar vectors (dl_column), tables of them (dl_table), the
** Parquet codec (dl_parquet_*), and the error contract.  The `dl` CLI, the
** data server and language bindings use only what is declared here.
**
** Conventions
**   - Every fallible function returns an int status: DL_OK (0) on success,
**     a negative DL_E* code on failure.  When the caller passes a non-NULL
**     dl_error, it receives a message a user can act on (which file, which
**     row group / column / offset, what is wrong).
**   - Ownership is stated on each declaration.  "Borrowed" pointers stay
**     valid until the owning object is freed/closed; "owned" results are
**     released with the matching *_free / *_close call.
**   - All timestamps are int64 counts since the Unix epoch, UTC, in the
**     unit named by the field (DL_UNIT_MS / _US / _NS).
*/
#ifndef DATALAKE_H
#define DATALAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DL_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

typedef enum dl_status {
    DL_OK = 0,
    DL_EINVAL = -1,       /* bad argument or usage */
    DL_EIO = -2,          /* operating-system I/O error (errno in message) */
    DL_ECORRUPT = -3,     /* input is malformed, truncated or hostile */
    DL_ENOMEM = -4,       /* allocation failed or a size cap was exceeded */
    DL_EUNSUPPORTED = -5, /* valid input using a feature we do not implement */
    DL_ENOTFOUND = -6,    /* a named file, column or dataset does not exist */
    DL_ECONFLICT = -7,    /* schema/type conflict or concurrent-writer conflict */
    DL_EINTERNAL = -8     /* a bug: an invariant did not hold */
} dl_status;

#define DL_ERROR_MESSAGE_MAX 1024

typedef struct dl_error {
    int code;                           /* one of dl_status */
    char message[DL_ERROR_MESSAGE_MAX]; /* NUL-terminated, "" when none */
} dl_error;

/* Returns a static, human-readable name of a status code ("corrupt input"). */
const char *dl_status_name(int code);

/* Sets err (if non-NULL) to code + printf-style message; returns code. */
int dl_error_set(dl_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to an existing message (e.g. the file name). */
void dl_error_prefix(dl_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void dl_error_clear(dl_error *err);

/* ------------------------------------------------------------------ */
/* Types, fields, schemas                                               */
/* ------------------------------------------------------------------ */

typedef enum dl_type {
    DL_TYPE_BOOL = 0,  /* values: uint8_t, 0 or 1 */
    DL_TYPE_INT32,     /* values: int32_t */
    DL_TYPE_INT64,     /* values: int64_t */
    DL_TYPE_FLOAT,     /* values: float */
    DL_TYPE_DOUBLE,    /* values: double */
    DL_TYPE_STRING,    /* UTF-8: offsets + data */
    DL_TYPE_BINARY,    /* bytes: offsets + data */
    DL_TYPE_TIMESTAMP, /* values: int64_t in field.unit since epoch */
    DL_TYPE_DATE,      /* values: int32_t days since epoch */
    DL_TYPE_COUNT_
} dl_type;

typedef enum dl_time_unit { DL_UNIT_MS = 0, DL_UNIT_US = 1, DL_UNIT_NS = 2 } dl_time_unit;

/* A column's description.  In a dl_schema the name is owned by the schema. */
typedef struct dl_field {
    char *name;
    dl_type type;
    dl_time_unit unit; /* DL_TYPE_TIMESTAMP only */
    bool utc;          /* DL_TYPE_TIMESTAMP: instant (true) or wall clock */
    bool nullable;
    int32_t decimal_scale;     /* >0: integer values are decimals (read only) */
    int32_t decimal_precision; /* idem */
} dl_field;

typedef struct dl_schema {
    int num_fields;
    dl_field *fields; /* owned array of num_fields */
} dl_schema;

/* Size in bytes of one value of a fixed-width type; 0 for STRING/BINARY. */
size_t dl_type_width(dl_type type);
const char *dl_type_name(dl_type type);
const char *dl_unit_name(dl_time_unit unit); /* "ms", "us", "ns" */

/* Schema building.  dl_schema_add copies name.  Free with dl_schema_free. */
void dl_schema_init(dl_schema *schema);
int dl_schema_add(dl_schema *schema, const char *name, dl_type type, bool nullable,
                  dl_error *err);
int dl_schema_add_timestamp(dl_schema *schema, const char *name, dl_time_unit unit,
                            bool nullable, dl_error *err);
int dl_schema_copy(dl_schema *dst, const dl_schema *src, dl_error *err);
int dl_schema_find(const dl_schema *schema, const char *name); /* index or -1 */
void dl_schema_free(dl_schema *schema);

/* ------------------------------------------------------------------ */
/* Column vectors                                                       */
/* ------------------------------------------------------------------ */

/*
** A contiguous, typed column of `length` values.
**   - Fixed-width types: `values` holds length * dl_type_width(type) bytes.
**     A null slot holds an unspecified (but initialised) value.
**   - STRING/BINARY: value i is data[offsets[i] .. offsets[i+1]); offsets has
**     length + 1 entries, offsets[0] == 0.  `values` is NULL.
**   - validity: bitmap, bit i (LSB-first) set when value i is present.  NULL
**     means "no nulls" and then null_count == 0.
** All buffers are owned by the column and freed by dl_column_free.
*/
typedef struct dl_column {
    dl_type type;
    dl_time_unit unit;
    int64_t length;
    int64_t null_count;
    uint8_t *validity;
    void *values;
    int64_t *offsets;
    char *data;
    /* capacities (internal bookkeeping; do not modify) */
    int64_t cap_values;
    int64_t cap_data;
} dl_column;

void dl_column_init(dl_column *col, dl_type type, dl_time_unit unit);
/* Makes room for `rows` more values (and `bytes` more string bytes). */
int dl_column_reserve(dl_column *col, int64_t rows, int64_t bytes, dl_error *err);
int dl_column_append_null(dl_column *col, dl_error *err);
int dl_column_append_i32(dl_column *col, int32_t v, dl_error *err);
int dl_column_append_i64(dl_column *col, int64_t v, dl_error *err);
int dl_column_append_f64(dl_column *col, double v, dl_error *err);
int dl_column_append_f32(dl_column *col, float v, dl_error *err);
int dl_column_append_bool(dl_column *col, bool v, dl_error *err);
int dl_column_append_str(dl_column *col, const char *s, size_t len, dl_error *err);
/* Appends rows [from, from+count) of src (same type) to dst. */
int dl_column_append_range(dl_column *dst, const dl_column *src, int64_t from, int64_t count,
                           dl_error *err);
void dl_column_clear(dl_column *col); /* length = 0, keeps buffers */
void dl_column_free(dl_column *col);

static inline bool dl_column_is_valid(const dl_column *col, int64_t i) {
    return col->validity == NULL || ((col->validity[i >> 3] >> (i & 7)) & 1);
}

/* A table: a schema plus one column per field, all of num_rows values. */
typedef struct dl_table {
    dl_schema schema;
    dl_column *columns; /* owned array of schema.num_fields */
    int64_t num_rows;
} dl_table;

/* Creates empty columns for every field of schema (copied). */
int dl_table_init(dl_table *table, const dl_schema *schema, dl_error *err);
/* Recomputes num_rows from the columns; fails if lengths differ. */
int dl_table_seal(dl_table *table, dl_error *err);
void dl_table_free(dl_table *table);

/* ------------------------------------------------------------------ */
/* Typed scalar values (statistics)                                     */
/* ------------------------------------------------------------------ */

typedef struct dl_value {
    bool present;
    int64_t i;         /* BOOL, INT32, INT64, TIMESTAMP, DATE */
    double f;          /* FLOAT, DOUBLE */
    const uint8_t *s;  /* STRING, BINARY: borrowed bytes */
    size_t len;
} dl_value;

typedef struct dl_stats {
    bool has_min_max;    /* min/max valid (and trustworthy) */
    bool has_null_count;
    int64_t null_count;
    dl_value min, max;
} dl_stats;

/* ------------------------------------------------------------------ */
/* Parquet writer                                                       */
/* ------------------------------------------------------------------ */

typedef enum dl_codec {
    DL_CODEC_NONE = 0,
    DL_CODEC_SNAPPY = 1,
    DL_CODEC_GZIP = 2,
    DL_CODEC_LZ4_RAW = 7,
    DL_CODEC_ZSTD = 6
} dl_codec;

const char *dl_codec_name(dl_codec codec);
/* Parses "zstd", "snappy", "none"/"uncompressed", "gzip", "lz4"/"lz4_raw". */
int dl_codec_parse(const char *name, dl_codec *out, dl_error *err);

typedef struct dl_write_options {
    dl_codec codec;           /* default DL_CODEC_ZSTD */
    int compression_level;    /* zstd level (default 3), gzip level */
    int64_t row_group_rows;   /* max rows per row group (default 1,048,576) */
    int64_t page_bytes;       /* target data page size (default 1 MiB) */
    int64_t page_rows;        /* max rows per page (default 20,000) */
    bool dictionary;          /* try RLE_DICTIONARY (default true) */
    int64_t dictionary_bytes; /* dictionary page limit before PLAIN fallback (1 MiB) */
    bool delta_timestamps;    /* DELTA_BINARY_PACKED for sorted int64 when smaller (true) */
    bool statistics;          /* chunk statistics (default true) */
    bool page_index;          /* ColumnIndex/OffsetIndex (default true) */
    int data_page_version;    /* 1 (default) or 2 */
    int threads;              /* column-encoding threads (default 1; 0 = auto) */
} dl_write_options;

void dl_write_options_default(dl_write_options *opts);

typedef struct dl_parquet_writer dl_parquet_writer;

/*
** Opens `path` for writing (created/truncated) with `schema` (copied).
** The writer does not fsync or rename: atomic placement is the caller's job
** (the lake does tmp + fsync + rename).  opts may be NULL for defaults.
*/
int dl_parquet_writer_open(const char *path, const dl_schema *schema,
                           const dl_write_options *opts, dl_parquet_writer **out,
                           dl_error *err);
/* Appends all rows of table (its schema must match the writer's by type). */
int dl_parquet_writer_write(dl_parquet_writer *w, const dl_table *table, dl_error *err);
/* Adds a key/value pair to the footer (both copied). */
int dl_parquet_writer_set_kv(dl_parquet_writer *w, const char *key, const char *value,
                             dl_error *err);
/* Flushes, writes the footer, fsyncs the file when do_fsync, closes, frees w. */
int dl_parquet_writer_close(dl_parquet_writer *w, bool do_fsync, dl_error *err);
/* Closes and frees w without finishing the file (the partial file remains). */
void dl_parquet_writer_abort(dl_parquet_writer *w);

/* Convenience: writes a whole table to path. */
int dl_parquet_write_table(const char *path, const dl_table *table,
                           const dl_write_options *opts, dl_error *err);

/* ------------------------------------------------------------------ */
/* Parquet reader                                                       */
/* ------------------------------------------------------------------ */

typedef struct dl_parquet_reader dl_parquet_reader;

/* Opens and validates the footer of a Parquet file (the file is mapped). */
int dl_parquet_open(const char *path, dl_parquet_reader **out, dl_error *err);
/* Same, over a caller-owned memory image that must outlive the reader. */
int dl_parquet_open_memory(const uint8_t *data, size_t size, const char *name,
                           dl_parquet_reader **out, dl_error *err);
void dl_parquet_close(dl_parquet_reader *r);

/* The logical schema (borrowed, valid until close). */
const dl_schema *dl_parquet_schema(const dl_parquet_reader *r);
int64_t dl_parquet_num_rows(const dl_parquet_reader *r);
int dl_parquet_num_row_groups(const dl_parquet_reader *r);
int64_t dl_parquet_row_group_rows(const dl_parquet_reader *r, int row_group);

/* Chunk statistics of (row_group, column), decoded to the field's type.
** Min/max are reported only when the file's column order makes them
** trustworthy.  String bytes are borrowed from the reader. */
int dl_parquet_chunk_stats(const dl_parquet_reader *r, int row_group, int column,
                           dl_stats *out, dl_error *err);

/* Descriptive metadata of one column chunk (for `dl schema`). */
typedef struct dl_chunk_info {
    const char *physical_type; /* "INT64", "BYTE_ARRAY", ... (static) */
    const char *logical_type;  /* "TIMESTAMP(MICROS,UTC)", "STRING", "" (borrowed) */
    dl_codec codec;
    const char *codec_name;    /* static; also names codecs we cannot read */
    char encodings[128];       /* "PLAIN,RLE,RLE_DICTIONARY" */
    int64_t num_values;
    int64_t compressed_bytes;
    int64_t uncompressed_bytes;
    bool has_dictionary;
    bool has_page_index;
} dl_chunk_info;

int dl_parquet_chunk_info(const dl_parquet_reader *r, int row_group, int column,
                          dl_chunk_info *out, dl_error *err);

/* Footer facts: created_by (may be ""), format version, key/value pairs. */
const char *dl_parquet_created_by(const dl_parquet_reader *r);
int dl_parquet_format_version(const dl_parquet_reader *r);
int dl_parquet_kv_count(const dl_parquet_reader *r);
/* Borrowed key and value (value may be NULL). */
void dl_parquet_kv(const dl_parquet_reader *r, int i, const char **key, const char **value);

/* Page-level statistics from the page index, when the file has one. */
typedef struct dl_page_stats {
    int64_t first_row;  /* within the row group */
    int64_t num_rows;
    dl_stats stats;     /* from ColumnIndex; has_min_max false if absent/all-null */
} dl_page_stats;

/* Returns DL_OK and *out (owned array, free()) / *count, or DL_ENOTFOUND when
** the chunk has no page index. */
int dl_parquet_page_stats(const dl_parquet_reader *r, int row_group, int column,
                          dl_page_stats **out, int *count, dl_error *err);

/*
** Decodes column `column` of `row_group` and APPENDS its values to *out,
** which must be initialised (dl_column_init) with the field's type; the
** column may already hold rows.  Safe to call concurrently on one reader
** for different (row_group, column) pairs.
*/
int dl_parquet_read_column(const dl_parquet_reader *r, int row_group, int column,
                           dl_column *out, dl_error *err);

/*
** Like dl_parquet_read_column but only for rows [row_begin, row_end) of the
** row group: pages entirely outside the range are skipped using the
** OffsetIndex (when present); the result holds exactly those rows.
*/
int dl_parquet_read_column_range(const dl_parquet_reader *r, int row_group, int column,
                                 int64_t row_begin, int64_t row_end, dl_column *out,
                                 dl_error *err);

/*
** Reads the selected columns (indices into the file schema; NULL/0 = all)
** of all row groups into *out (initialised by this call; free with
** dl_table_free).  Projection: unselected columns are never decoded.
*/
int dl_parquet_read_table(const dl_parquet_reader *r, const int *columns, int num_columns,
                          dl_table *out, dl_error *err);

/* ------------------------------------------------------------------ */
/* Value formatting (shared by the CLI, server and bindings)            */
/* ------------------------------------------------------------------ */

/* Shortest decimal that round-trips to the same double ("0.1", "1e+300",
** "nan", "inf").  Returns the length written (buf >= 32 bytes). */
int dl_format_double(double v, char *buf, size_t size);
int dl_format_float(float v, char *buf, size_t size);
/* ISO-8601 UTC at the unit's precision: "2024-01-05T00:00:00.123Z". */
int dl_format_timestamp(int64_t v, dl_time_unit unit, char *buf, size_t size);
int dl_format_date(int32_t days, char *buf, size_t size); /* "2024-01-05" */

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

/* SHA-256 of a file as 64 lowercase hex chars + NUL in hex_out[65]. */
int dl_sha256_file(const char *path, char hex_out[65], dl_error *err);
void dl_sha256_hex(const void *data, size_t len, char hex_out[65]);

#ifdef __cplusplus
}
#endif
#endif /* DATALAKE_H */
