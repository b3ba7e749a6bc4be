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
**     released with the matching *_free / *_close call, and arrays handed
**     out through `**out` with dl_free (never libc free()).
**   - Input pointers: the library copies what it needs and keeps NO
**     pointer to an argument after the call returns, except where a
**     declaration says otherwise ("kept", "must outlive"): the memory image
**     of dl_parquet_open_memory, the dl_lake of a query / transaction /
**     join, the write callback + ctx of a sink or IPC writer, the
**     message/command strings of dl_lake_write_options (until the
**     transaction ends), the lock-wait callback + ctx of a dl_lake.
**   - Misuse is refused, not a crash: a required pointer argument that is
**     NULL makes a status function return DL_EINVAL (message naming the
**     function); *_free / *_close / *_abort accept NULL; a void or value
**     function returns quietly (NULL, 0, -1 where documented).  Optional
**     pointers are marked "may be NULL".  Only regular files are opened
**     as data: a FIFO, device or directory is DL_EINVAL at once.
**   - Threads: nothing is global; every handle (dl_lake, dl_query,
**     dl_lake_txn, readers, writers, kernels, sinks) is used by ONE thread
**     at a time.  A handle may move between threads (a pool of dl_lake
**     handles, as the data server keeps, is the way to share a lake across
**     worker threads); any number of handles work in parallel, in one or
**     several processes, on the same lake.  Exceptions are stated:
**     dl_parquet_read_column may run concurrently on one reader.
**   - Options structs are initialised with their *_default() function
**     before fields are set; new fields are only ever appended, and their
**     defaults keep older callers' behaviour.
**   - All timestamps are int64 counts since the Unix epoch, UTC, in the
**     unit named by the field (DL_UNIT_MS / _US / _NS).
**   See docs/abi.md for linking, versioning and the full contract.
*/
#ifndef DATALAKE_H
#define DATALAKE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Version and symbol visibility                                        */
/* ------------------------------------------------------------------ */

/* The library version.  The shared library's soname carries the major
** number (libdatalake.so.0): it changes only when the ABI breaks. */
#define DL_VERSION_MAJOR    0
#define DL_VERSION_MINOR    1
#define DL_VERSION_PATCH    0
#define DL_VERSION_STR_(x)  #x
#define DL_VERSION_XSTR_(x) DL_VERSION_STR_(x)
#define DL_VERSION_STRING                                                                          \
    DL_VERSION_XSTR_(DL_VERSION_MAJOR)                                                             \
    "." DL_VERSION_XSTR_(DL_VERSION_MINOR) "." DL_VERSION_XSTR_(DL_VERSION_PATCH)

/* Marks the functions exported by libdatalake.so; the library is built
** with -fvisibility=hidden, so everything else stays internal. */
#ifndef DL_API
#if defined(__GNUC__) || defined(__clang__)
#define DL_API __attribute__((visibility("default")))
#else
#define DL_API
#endif
#endif

/* The version of the library actually linked ("0.1.0"; static storage),
** which may differ from DL_VERSION_STRING of the header compiled against. */
DL_API const char *dl_version(void);

/* Releases an array or string the library handed out through an `**out`
** argument (dataset lists, history, gaps, page statistics, feature
** versions and aliases, lineage text: each says "dl_free").  NULL is fine.
** Structures with their own *_free / *_close function are released by it.
** Never pass library memory to libc free(): the library may use another
** allocator than the program. */
DL_API void dl_free(void *p);

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
DL_API const char *dl_status_name(int code);

/* Sets err (if non-NULL) to code + printf-style message; returns code. */
DL_API int dl_error_set(dl_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to an existing message (e.g. the file name). */
DL_API void dl_error_prefix(dl_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

DL_API void dl_error_clear(dl_error *err);

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
DL_API size_t dl_type_width(dl_type type);
DL_API const char *dl_type_name(dl_type type);
DL_API const char *dl_unit_name(dl_time_unit unit); /* "ms", "us", "ns" */

/* Schema building.  dl_schema_add copies name.  Free with dl_schema_free. */
DL_API void dl_schema_init(dl_schema *schema);
DL_API int dl_schema_add(dl_schema *schema, const char *name, dl_type type, bool nullable,
                         dl_error *err);
DL_API int dl_schema_add_timestamp(dl_schema *schema, const char *name, dl_time_unit unit,
                                   bool nullable, dl_error *err);
DL_API int dl_schema_copy(dl_schema *dst, const dl_schema *src, dl_error *err);
/* Appends a copy of *field (name copied; unit, utc, nullable and decimal
** attributes kept). */
DL_API int dl_schema_add_field(dl_schema *schema, const dl_field *field, dl_error *err);
DL_API int dl_schema_find(const dl_schema *schema, const char *name); /* index or -1 */
DL_API void dl_schema_free(dl_schema *schema);

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

DL_API void dl_column_init(dl_column *col, dl_type type, dl_time_unit unit);
/* Makes room for `rows` more values (and `bytes` more string bytes). */
DL_API int dl_column_reserve(dl_column *col, int64_t rows, int64_t bytes, dl_error *err);
DL_API int dl_column_append_null(dl_column *col, dl_error *err);
DL_API int dl_column_append_i32(dl_column *col, int32_t v, dl_error *err);
DL_API int dl_column_append_i64(dl_column *col, int64_t v, dl_error *err);
DL_API int dl_column_append_f64(dl_column *col, double v, dl_error *err);
DL_API int dl_column_append_f32(dl_column *col, float v, dl_error *err);
DL_API int dl_column_append_bool(dl_column *col, bool v, dl_error *err);
DL_API int dl_column_append_str(dl_column *col, const char *s, size_t len, dl_error *err);
/* Appends rows [from, from+count) of src (same type) to dst. */
DL_API int dl_column_append_range(dl_column *dst, const dl_column *src, int64_t from, int64_t count,
                                  dl_error *err);
DL_API void dl_column_clear(dl_column *col); /* length = 0, keeps buffers */
DL_API void dl_column_free(dl_column *col);

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
DL_API int dl_table_init(dl_table *table, const dl_schema *schema, dl_error *err);
/* Recomputes num_rows from the columns; fails if lengths differ. */
DL_API int dl_table_seal(dl_table *table, dl_error *err);
DL_API void dl_table_free(dl_table *table);

/* ------------------------------------------------------------------ */
/* Typed scalar values (statistics)                                     */
/* ------------------------------------------------------------------ */

typedef struct dl_value {
    bool present;
    int64_t i;        /* BOOL, INT32, INT64, TIMESTAMP, DATE */
    double f;         /* FLOAT, DOUBLE */
    const uint8_t *s; /* STRING, BINARY: borrowed bytes */
    size_t len;
} dl_value;

typedef struct dl_stats {
    bool has_min_max; /* min/max valid (and trustworthy) */
    bool has_null_count;
    int64_t null_count;
    int64_t num_values; /* values in the block, nulls included; 0 = unknown
                           (with null_count it tells an all-null block) */
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

DL_API const char *dl_codec_name(dl_codec codec);
/* Parses "zstd", "snappy", "none"/"uncompressed", "gzip", "lz4"/"lz4_raw". */
DL_API int dl_codec_parse(const char *name, dl_codec *out, dl_error *err);

typedef struct dl_write_options {
    dl_codec codec;           /* default DL_CODEC_ZSTD */
    int compression_level;    /* zstd level (default 1), gzip level */
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
    bool page_crc;            /* CRC-32 of every page in its header (default true) */
} dl_write_options;

DL_API void dl_write_options_default(dl_write_options *opts);

typedef struct dl_parquet_writer dl_parquet_writer;

/*
** Opens `path` for writing (created/truncated) with `schema` (copied).
** The writer does not fsync or rename: atomic placement is the caller's job
** (the lake does tmp + fsync + rename).  opts may be NULL for defaults.
*/
DL_API int dl_parquet_writer_open(const char *path, const dl_schema *schema,
                                  const dl_write_options *opts, dl_parquet_writer **out,
                                  dl_error *err);
/* Appends all rows of table (its schema must match the writer's by type). */
DL_API int dl_parquet_writer_write(dl_parquet_writer *w, const dl_table *table, dl_error *err);
/* Adds a key/value pair to the footer (both copied). */
DL_API int dl_parquet_writer_set_kv(dl_parquet_writer *w, const char *key, const char *value,
                                    dl_error *err);
/* Flushes, writes the footer, fsyncs the file when do_fsync, closes, frees w. */
DL_API int dl_parquet_writer_close(dl_parquet_writer *w, bool do_fsync, dl_error *err);
/* Closes and frees w without finishing the file (the partial file remains). */
DL_API void dl_parquet_writer_abort(dl_parquet_writer *w);

/* Convenience: writes a whole table to path. */
DL_API int dl_parquet_write_table(const char *path, const dl_table *table,
                                  const dl_write_options *opts, dl_error *err);

/* ------------------------------------------------------------------ */
/* Parquet reader                                                       */
/* ------------------------------------------------------------------ */

typedef struct dl_parquet_reader dl_parquet_reader;

/* Opens and validates the footer of a Parquet file (the file is mapped). */
DL_API int dl_parquet_open(const char *path, dl_parquet_reader **out, dl_error *err);
/* Same, over a regular file the caller has open (fd is only used during the
** call and stays open); name is what messages call it. */
DL_API int dl_parquet_open_fd(int fd, const char *name, dl_parquet_reader **out, dl_error *err);
/* Same, over a caller-owned memory image that must outlive the reader. */
DL_API int dl_parquet_open_memory(const uint8_t *data, size_t size, const char *name,
                                  dl_parquet_reader **out, dl_error *err);
DL_API void dl_parquet_close(dl_parquet_reader *r);
/* Page checksums: by default every page that carries a CRC-32 (PageHeader.crc;
** dl's writer stores one in every page) is verified before it is decoded,
** and a mismatch fails the read with DL_ECORRUPT naming the file, row group,
** column, page ordinal and offset.  Pages without a CRC (other writers) are
** read unchecked.  check = false skips the verification (faster; a damaged
** page may then decode to wrong values).  Call before reading: the setting
** is not synchronised with reads running on other threads. */
DL_API void dl_parquet_set_check_crc(dl_parquet_reader *r, bool check);

/* The logical schema (borrowed, valid until close). */
DL_API const dl_schema *dl_parquet_schema(const dl_parquet_reader *r);
DL_API int64_t dl_parquet_num_rows(const dl_parquet_reader *r);
DL_API int64_t dl_parquet_file_size(const dl_parquet_reader *r); /* bytes of the file image */
DL_API int dl_parquet_num_row_groups(const dl_parquet_reader *r);
DL_API int64_t dl_parquet_row_group_rows(const dl_parquet_reader *r, int row_group);

/* Chunk statistics of (row_group, column), decoded to the field's type.
** Min/max are reported only when the file's column order makes them
** trustworthy.  String bytes are borrowed from the reader. */
DL_API int dl_parquet_chunk_stats(const dl_parquet_reader *r, int row_group, int column,
                                  dl_stats *out, dl_error *err);

/* Descriptive metadata of one column chunk (for `dl schema`). */
typedef struct dl_chunk_info {
    const char *physical_type; /* "INT64", "BYTE_ARRAY", ... (static) */
    const char *logical_type;  /* "TIMESTAMP(MICROS,UTC)", "STRING", "" (borrowed) */
    dl_codec codec;
    const char *codec_name; /* static; also names codecs we cannot read */
    char encodings[128];    /* "PLAIN,RLE,RLE_DICTIONARY" */
    int64_t num_values;
    int64_t compressed_bytes;
    int64_t uncompressed_bytes;
    bool has_dictionary;
    bool has_page_index;
} dl_chunk_info;

DL_API int dl_parquet_chunk_info(const dl_parquet_reader *r, int row_group, int column,
                                 dl_chunk_info *out, dl_error *err);

/* Footer facts: created_by (may be ""), format version, key/value pairs. */
DL_API const char *dl_parquet_created_by(const dl_parquet_reader *r);
DL_API int dl_parquet_format_version(const dl_parquet_reader *r);
DL_API int dl_parquet_kv_count(const dl_parquet_reader *r);
/* Borrowed key and value (value may be NULL). */
DL_API void dl_parquet_kv(const dl_parquet_reader *r, int i, const char **key, const char **value);

/* Page-level statistics from the page index, when the file has one. */
typedef struct dl_page_stats {
    int64_t first_row; /* within the row group */
    int64_t num_rows;
    dl_stats stats; /* from ColumnIndex; has_min_max false if absent/all-null */
} dl_page_stats;

/* Returns DL_OK and *out (owned array, dl_free) / *count, or DL_ENOTFOUND when
** the chunk has no page index. */
DL_API int dl_parquet_page_stats(const dl_parquet_reader *r, int row_group, int column,
                                 dl_page_stats **out, int *count, dl_error *err);

/*
** Decodes column `column` of `row_group` and APPENDS its values to *out,
** which must be initialised (dl_column_init) with the field's type; the
** column may already hold rows.  Safe to call concurrently on one reader
** for different (row_group, column) pairs.
*/
DL_API int dl_parquet_read_column(const dl_parquet_reader *r, int row_group, int column,
                                  dl_column *out, dl_error *err);

/*
** Like dl_parquet_read_column but only for rows [row_begin, row_end) of the
** row group: pages entirely outside the range are skipped using the
** OffsetIndex (when present); the result holds exactly those rows.
*/
DL_API int dl_parquet_read_column_range(const dl_parquet_reader *r, int row_group, int column,
                                        int64_t row_begin, int64_t row_end, dl_column *out,
                                        dl_error *err);

/*
** Reads the selected columns (indices into the file schema; NULL/0 = all)
** of all row groups into *out (initialised by this call; free with
** dl_table_free).  Projection: unselected columns are never decoded.
*/
DL_API int dl_parquet_read_table(const dl_parquet_reader *r, const int *columns, int num_columns,
                                 dl_table *out, dl_error *err);

/* ------------------------------------------------------------------ */
/* Value formatting (shared by the CLI, server and bindings)            */
/* ------------------------------------------------------------------ */

/* Shortest decimal that round-trips to the same double ("0.1", "1e+300",
** "nan", "inf").  Returns the length written (buf >= 32 bytes). */
DL_API int dl_format_double(double v, char *buf, size_t size);
DL_API int dl_format_float(float v, char *buf, size_t size);
/* ISO-8601 UTC at the unit's precision: "2024-01-05T00:00:00.123Z". */
DL_API int dl_format_timestamp(int64_t v, dl_time_unit unit, char *buf, size_t size);
DL_API int dl_format_date(int32_t days, char *buf, size_t size); /* "2024-01-05" */
/* Parses a user-supplied time into epoch microseconds (UTC): "2024-01-05",
** "2024-01-05T10:30:00.25Z", "2024-01-05 10:30:00+02:00" (no offset = UTC)
** or an integer = epoch milliseconds. */
DL_API int dl_parse_time_us(const char *text, int64_t *out, dl_error *err);

/* ---- the thread pool (util/dl_pool.c) ---- */

/* Worker threads shared by every query, join and resample of a process:
** create one per process (or lake) and pass it in their options (a query
** without one starts its own threads and stops them at close).  threads 0
** = the number of CPUs (at most 256).  Owned; dl_pool_destroy, after every
** query using it is closed.  Thread-safe: any number of threads may use
** one pool at once. */
typedef struct dl_pool dl_pool;
DL_API int dl_pool_create(int threads, dl_pool **out, dl_error *err);
DL_API int dl_pool_threads(const dl_pool *p);
DL_API void dl_pool_destroy(dl_pool *p);

/* ---- text rendering (result sinks, JSON renderings, CLI, server) ---- */

/* A growable text buffer.  Start from {0}; appends never fail visibly: the
** first allocation failure sets status to DL_ENOMEM and later appends do
** nothing, so check status once when done.  data is not NUL-terminated;
** owned by the buffer, freed by dl_text_free.  Not thread-safe. */
typedef struct dl_text {
    char *data;
    size_t len, cap;
    int status; /* DL_OK or DL_ENOMEM */
} dl_text;

DL_API int dl_text_reserve(dl_text *t, size_t extra); /* returns t->status */
DL_API void dl_text_put(dl_text *t, const void *s, size_t n);
DL_API void dl_text_putc(dl_text *t, char c);
DL_API void dl_text_puts(dl_text *t, const char *s);
DL_API void dl_text_printf(dl_text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* dl_text_printf with a va_list (ap is consumed, as by vprintf). */
DL_API void dl_text_vprintf(dl_text *t, const char *fmt, va_list ap);
DL_API void dl_text_free(dl_text *t);
/* s[0..len) as a quoted JSON string (invalid UTF-8 -> \ufffd). */
DL_API void dl_text_json_string(dl_text *t, const void *s, size_t len);

/* How a value is rendered:
**   RAW     CSV: strings as their bytes, binary as base64, nan/inf as is;
**   DISPLAY table cells: like RAW, control characters and invalid UTF-8
**           escaped (\n, \t, \x01);
**   JSON    a JSON value: strings escaped in quotes, timestamps and dates
**           as quoted ISO-8601, binary as quoted base64, nan/inf/null null.
** A value that is not present renders "" (RAW) or "null". */
typedef enum dl_text_style { DL_TEXT_RAW = 0, DL_TEXT_DISPLAY = 1, DL_TEXT_JSON = 2 } dl_text_style;
DL_API void dl_text_value(dl_text *t, const dl_field *f, const dl_value *v, dl_text_style style);
/* Row `row` of col (typed by f) as a dl_value; string bytes borrowed. */
DL_API void dl_column_value(const dl_field *f, const dl_column *col, int64_t row, dl_value *out);
/* Decimal digits of v into buf (>= 21 bytes); returns the length. */
DL_API int dl_format_i64(int64_t v, char *buf);
/* True for the number types (printed right-aligned in tables). */
DL_API bool dl_type_is_numeric(dl_type type);
/* "timestamp[ms, UTC]", "decimal(18,3)", "string" ... into buf. */
DL_API void dl_field_describe(const dl_field *f, char *buf, size_t size);

/* Where streamed output goes (Arrow IPC, result sinks): called with each
** chunk in order; returns 0 on success, anything else stops the writer
** with an I/O error.  A socket or HTTP body writer fits. */
typedef int (*dl_write_fn)(void *ctx, const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

/* SHA-256 of a file as 64 lowercase hex chars + NUL in hex_out[65]. */
DL_API int dl_sha256_file(const char *path, char hex_out[65], dl_error *err);
DL_API void dl_sha256_hex(const void *data, size_t len, char hex_out[65]);

/* ================================================================== */
/* Lake: partitioned storage, catalog, versions (src/lake/)             */
/* ================================================================== */
/*
** Layout: {root}/{EXCHANGE}/{MARKET}/{SYMBOL}/{TYPE}/{PERIOD}/YYYY/MM/DD/
** data.parquet, one file per UTC day of `ts` (TIMESTAMP(us, UTC)).  The
** SQLite catalog {root}/.dl/catalog.db records every file, version, run
** and gap; superseded files live in {root}/.dl/versions/.  See docs/lake.md.
**
** Times in this section are int64 microseconds since the Unix epoch, UTC,
** unless the name says otherwise.  Versions count from 1 per dataset; an
** as_of_version of 0 means "the current version".
*/

#define DL_LAKE_COMPONENT_MAX 64  /* bytes of one name component */
#define DL_DATASET_NAME_MAX   330 /* 5 components + 4 slashes + NUL */

/* A dataset's identity: normalised, validated components (NUL-terminated). */
typedef struct dl_dataset_id {
    char exchange[DL_LAKE_COMPONENT_MAX + 1]; /* upper case: BINANCE */
    char market[DL_LAKE_COMPONENT_MAX + 1];   /* upper case: SPOT */
    char symbol[DL_LAKE_COMPONENT_MAX + 1];   /* upper case, '/' ':' -> '-' */
    char type[DL_LAKE_COMPONENT_MAX + 1];     /* raw | ticks | agg | features */
    char period[DL_LAKE_COMPONENT_MAX + 1];   /* 1m, 1h, trades, ... */
} dl_dataset_id;

/* Normalises and validates the five components into *out.  Refuses (DL_EINVAL,
** naming the component) empty or overlong names, NUL/control characters,
** "." / "..", '/' or '\\' inside a component and unknown types. */
DL_API int dl_dataset_id_make(const char *exchange, const char *market, const char *symbol,
                              const char *type, const char *period, dl_dataset_id *out,
                              dl_error *err);
/* Parses "EXCHANGE/MARKET/SYMBOL/TYPE/PERIOD" (normalising as above). */
DL_API int dl_dataset_parse(const char *name, dl_dataset_id *out, dl_error *err);
/* Writes the canonical name into buf (>= DL_DATASET_NAME_MAX bytes). */
DL_API void dl_dataset_format(const dl_dataset_id *id, char *buf, size_t size);
/* Length of one period in microseconds ("1s", "1m", "15m", "4h", "1d", "1w"),
** or 0 when the period is not a fixed interval ("trades", "1M"). */
DL_API int64_t dl_dataset_period_us(const char *period);
/* Whether canonical dataset `name` matches `pattern`, a glob ('*', '?',
** '[...]' within one component) whose EXCHANGE/MARKET/SYMBOL components
** are upper-cased first, as names are ("binance/spot/btc*" matches). */
DL_API bool dl_dataset_match(const char *pattern, const char *name);

typedef struct dl_lake dl_lake;

/* Creates {root}, {root}/.dl and the catalog if missing; idempotent on an
** existing lake.  Refused (DL_EINVAL) for "/", a system directory or a home
** directory; refused (DL_ECONFLICT) where lake data exists without a usable
** catalog (rebuild it with dl_lake_rebuild_catalog instead: an empty catalog
** would hide that data) and, unless flags has DL_LAKE_INIT_FORCE, in a
** non-empty directory with other content. */
DL_API int dl_lake_init(const char *root, dl_error *err);
#define DL_LAKE_INIT_FORCE 1u /* accept a non-empty directory with foreign content */
DL_API int dl_lake_init_flags(const char *root, unsigned flags, dl_error *err);

/* What dl_lake_rebuild_catalog found. */
typedef struct dl_lake_rebuild_result {
    bool from_catalog;        /* the catalog itself was still valid: started from it */
    bool from_backup;         /* else started from a valid .dl/catalog.db.bak */
    int64_t datasets;         /* datasets in the rebuilt catalog */
    int64_t files_indexed;    /* live files newly indexed from their footers */
    int64_t archives_indexed; /* superseded files in versions/ newly indexed */
    int64_t days_missing;     /* catalogued days whose file is gone: marked missing */
    int64_t quarantined;      /* unreadable day files moved to .dl/quarantine */
    int64_t versions;         /* versions recorded in the rebuilt catalog */
} dl_lake_rebuild_result;

/* Rebuilds the catalog of a lake whose catalog is lost, empty or damaged,
** from the files themselves: starts from the catalog if it is still valid,
** else from the backup {root}/.dl/catalog.db.bak when that is (every version
** up to its last commit), else from nothing; then indexes the
** live day files and the superseded files under .dl/versions/ it does not
** know (schema, rows and time range from each file, SHA-256 recomputed) as
** a new version.  The old catalog is kept as .dl/catalog.db.damaged-{time}.
** No writer may run meanwhile (the dataset locks are not taken). */
DL_API int dl_lake_rebuild_catalog(const char *root, dl_lake_rebuild_result *out, dl_error *err);
/* Opens an existing lake (DL_ENOTFOUND if there is no catalog, DL_ECORRUPT
** for an empty or damaged one, DL_EUNSUPPORTED for a catalog of a newer
** libdatalake).  Unless read_only, first repairs what an interrupted writer
** left: pending renames are rolled back and stray temporary files removed.
** read_only writes nothing at all (the catalog is opened read-only, so a
** read-only mount or another user's lake works) and reads see the last
** committed state even while a writer publishes.  Owned; dl_lake_close.
** Thread-safety: one thread at a time per handle (its SQLite connection is
** opened SQLITE_OPEN_NOMUTEX); use one dl_lake per thread -- any number of
** handles and processes may use one lake at once. */
DL_API int dl_lake_open(const char *root, bool read_only, dl_lake **out, dl_error *err);
DL_API void dl_lake_close(dl_lake *lake);
/* How this handle's writers wait for a dataset another process is writing:
** timeout_ms < 0 waits for ever (the default), 0 not at all, else at most
** that long; then the write fails with DL_ECONFLICT naming the holder (its
** pid, command line and since when).  After a second of waiting, notify
** (may be NULL; called on the waiting thread, message borrowed for the
** call) is told once who holds the lock.  A lock whose holder died is free
** at once: it is never waited for. */
DL_API void dl_lake_set_lock_wait(dl_lake *lake, int64_t timeout_ms,
                                  void (*notify)(void *ctx, const char *message), void *ctx);
DL_API const char *dl_lake_root(const dl_lake *lake); /* borrowed */

/* Catalog facts about one dataset (no Parquet file is opened). */
typedef struct dl_dataset_info {
    char name[DL_DATASET_NAME_MAX];
    dl_dataset_id id;
    int64_t version; /* current version, 0 = never written */
    int64_t files;   /* live day files */
    int64_t rows;
    int64_t bytes;
    int64_t ts_min; /* INT64_MAX / INT64_MIN when empty */
    int64_t ts_max;
    int64_t gap_ranges; /* stored gap ranges (periodic datasets) */
    int64_t missing;    /* missing periods in total */
    int64_t period_us;  /* 0 when not periodic */
} dl_dataset_info;

/* All datasets, sorted by name: *out is an owned array (dl_free). */
DL_API int dl_lake_datasets(dl_lake *lake, dl_dataset_info **out, int64_t *count, dl_error *err);
/* One dataset; DL_ENOTFOUND when it does not exist. */
DL_API int dl_lake_dataset_info(dl_lake *lake, const char *dataset, dl_dataset_info *out,
                                dl_error *err);
/* The dataset's union schema (all columns ever written, widest types),
** copied into *out (dl_schema_free).  DL_ENOTFOUND for unknown datasets. */
DL_API int dl_lake_dataset_schema(dl_lake *lake, const char *dataset, dl_schema *out,
                                  dl_error *err);

/* One day file as the catalog records it. */
typedef struct dl_lake_file {
    const char *path; /* absolute path (live file or archived version) */
    int32_t day;      /* UTC day: days since 1970-01-01 */
    int64_t rows;
    int64_t bytes;
    int64_t ts_min, ts_max;
    int64_t version; /* the version that added this file */
    char sha256[65];
} dl_lake_file;

typedef struct dl_lake_file_list {
    dl_lake_file *files; /* owned, sorted by day */
    int64_t count;
    char *strings_; /* owned storage of the paths */
} dl_lake_file_list;

/* Files of `dataset` visible at as_of_version (0 = current) whose
** [ts_min, ts_max] overlaps [ts_from, ts_to) -- pass INT64_MIN / INT64_MAX
** for unbounded.  Answered from the catalog only.  Free the list with
** dl_lake_file_list_free.  DL_ENOTFOUND for an unknown dataset or a version
** that does not exist or was vacuumed. */
DL_API int dl_lake_files(dl_lake *lake, const char *dataset, int64_t ts_from, int64_t ts_to,
                         int64_t as_of_version, dl_lake_file_list *out, dl_error *err);
DL_API void dl_lake_file_list_free(dl_lake_file_list *list);

/* Opens one file of a dl_lake_files list for reading (free with
** dl_parquet_close), checked against what the catalog recorded: a file whose
** size differs from file->bytes (damaged, truncated, or replaced behind the
** catalog's back) is refused with DL_ECORRUPT naming it.  Page CRCs are
** verified while reading unless skip_page_crc (dl_parquet_set_check_crc).
** file is only read during the call. */
DL_API int dl_lake_file_open(const dl_lake_file *file, bool skip_page_crc, dl_parquet_reader **out,
                             dl_error *err);
/* The size check of dl_lake_file_open alone, for a caller that opened the
** file itself (size = what fstat says): DL_ECORRUPT naming the file when
** size differs from file->bytes. */
DL_API int dl_lake_file_check_size(const dl_lake_file *file, int64_t size, dl_error *err);

/* Reads the rows of `dataset` with ts in [ts_from, ts_to) as of a version
** (0 = current) into *out (initialised here; dl_table_free), sorted by ts,
** with the union schema of the files read: columns a file lacks are null,
** narrower types are widened. */
DL_API int dl_lake_read(dl_lake *lake, const char *dataset, int64_t ts_from, int64_t ts_to,
                        int64_t as_of_version, dl_table *out, dl_error *err);
/* The version that was current at time `at` (us); DL_ENOTFOUND if none. */
DL_API int dl_lake_version_at(dl_lake *lake, const char *dataset, int64_t at, int64_t *version,
                              dl_error *err);

/* ---- writing ---- */

typedef struct dl_lake_write_options {
    dl_write_options parquet; /* codec etc. for day files (default zstd) */
    const char *message;      /* stored with each new version (may be NULL); */
    const char *command;      /* recorded in ingest_runs (may be NULL); both
                                 borrowed until the transaction ends */
    int threads;              /* encoding threads (default 2; 1 = inline) */
    bool durable;             /* fsync/syncfs before renames + commit (true) */
    int64_t max_buffer_rows;  /* rows buffered before days are staged (4M) */
    /* key/value pairs written into the footer of every day file this
    ** transaction writes (the feature store's lineage); borrowed until the
    ** transaction ends.  0 = none. */
    const char *const *kv_keys;
    const char *const *kv_values;
    int num_kv;
} dl_lake_write_options;

DL_API void dl_lake_write_options_default(dl_lake_write_options *opts);

typedef struct dl_lake_write_result {
    int64_t run_id;           /* ingest_runs row */
    int64_t rows_in;          /* rows appended by the caller */
    int64_t days_written;     /* day files replaced or created */
    int64_t days_unchanged;   /* days whose merged content equals the live
                                 file's (docs/lake.md: nothing written) */
    int64_t versions_created; /* datasets that got a new version */
    int64_t last_version;     /* new version of the last changed dataset */
    int64_t missing;          /* missing periods now recorded (all datasets) */
} dl_lake_write_result;

/*
** A write transaction over a fixed set of datasets (locked in name order
** at begin; datasets are created on first commit).  Appended rows are
** buffered per UTC day, merged with the day's current file (dedupe by ts,
** new rows win, sorted by ts) and staged to temporary files; nothing is
** visible until commit, which publishes every staged day of every dataset
** at once.  abort (or an error from commit) leaves the lake unchanged.
** Rows must have a non-null `ts` column of TIMESTAMP type (ms/us/ns; stored
** as us).  A type change that loses data is refused with DL_ECONFLICT.
*/
typedef struct dl_lake_txn dl_lake_txn;

DL_API int dl_lake_txn_begin(dl_lake *lake, const char *const *datasets, int num_datasets,
                             const dl_lake_write_options *opts, dl_lake_txn **out, dl_error *err);
/* rows are copied; the txn keeps no pointer into them. */
DL_API int dl_lake_txn_append(dl_lake_txn *txn, const char *dataset, const dl_table *rows,
                              dl_error *err);
/* Publishes and frees txn (also on failure). result may be NULL. */
DL_API int dl_lake_txn_commit(dl_lake_txn *txn, dl_lake_write_result *result, dl_error *err);
/* Discards everything staged and frees txn. */
DL_API void dl_lake_txn_abort(dl_lake_txn *txn);

/* Convenience: one dataset, one table, one transaction. */
DL_API int dl_lake_write(dl_lake *lake, const char *dataset, const dl_table *rows,
                         const dl_lake_write_options *opts, dl_lake_write_result *result,
                         dl_error *err);

/* ---- ingesting exchange files ---- */

/*
** dl_ingest_files reads CSV files (plain or a .zip holding one CSV) and
** commits all of them in ONE lake transaction: if any file is malformed,
** damaged or conflicts with its dataset, nothing is written.  The input is
** treated as hostile and never guessed at:
**   - Times: "auto" (the default) takes ISO-8601 text (date, date-time with
**     T or space, fraction, Z or +hh:mm converted to UTC) or an epoch
**     integer whose unit (s, ms, us, ns) is the one that puts it between
**     1990-01-01 and 2200-01-01.  The first value fixes the unit for the
**     whole file; a later value of another unit, or one in no unit's range,
**     is an error naming the file, line and value.  An explicit ts_format
**     reads any value in that unit.
**   - Header rows: generic CSV must start with one; a Binance file's first
**     row is a header only if every field is a column name, so a row of
**     data (quoted, negative) is never dropped as one.
**   - Binance archives: the name SYMBOL-INTERVAL|trades|aggTrades-YYYY-MM[-DD]
**     gives the dataset EXCHANGE/MARKET/SYMBOL/raw/INTERVAL or
**     .../ticks/trades|aggtrades, and the period: a row outside the
**     archive's day or month is refused (even with skip_bad), since it
**     means a misnamed file or a mixed-up download.  A sibling FILE.CHECKSUM
**     (SHA-256) is verified before anything is read.
**   - Zip members are inflated in bounded blocks; one declaring more than
**     zip_max_ratio:1 expansion is refused as a likely zip bomb.
** Memory is bounded by the CSV batch size and opts->write.max_buffer_rows.
*/
typedef enum dl_ingest_format {
    DL_INGEST_BINANCE = 0, /* data.binance.vision kline/trade/aggTrade archives */
    DL_INGEST_CSV = 1      /* generic CSV with a header row, into opts->dataset */
} dl_ingest_format;

/* A generic CSV column to keep: header name -> lake name and type. */
typedef struct dl_ingest_column {
    const char *source; /* header name in the file */
    const char *name;   /* column name in the lake (NULL = same as source) */
    dl_type type;       /* DL_TYPE_DOUBLE, INT64, BOOL, STRING or TIMESTAMP */
} dl_ingest_column;

/* Progress: input bytes consumed so far and in total over all files
** (compressed bytes for archives).  Called on the calling thread after
** each batch and once at the end; it must not call back into the lake. */
typedef void (*dl_ingest_progress_fn)(void *ctx, uint64_t done_bytes, uint64_t total_bytes);

/* Initialise with dl_ingest_options_default, then set fields.  Every
** pointer is borrowed for the duration of the call only. */
typedef struct dl_ingest_options {
    dl_ingest_format format;
    const char *exchange;            /* binance: dataset exchange (default "BINANCE") */
    const char *market;              /* binance: dataset market (default "SPOT") */
    const char *dataset;             /* csv: target dataset EXCH/MARKET/SYMBOL/TYPE/PERIOD */
    const char *ts_column;           /* csv: header name of the time column */
    const char *ts_format;           /* "auto" (default), "s", "ms", "us", "ns" or "iso" */
    char delimiter;                  /* csv: ',' (default), ';', '|' or '\t' */
    const dl_ingest_column *columns; /* csv: columns to keep (NULL = all: double
                                        when numeric, else string) */
    int num_columns;
    bool skip_bad;                  /* count and skip malformed rows */
    uint32_t zip_max_ratio;         /* 0 = 200 (:1) */
    dl_lake_write_options write;    /* command defaults to "ingest" */
    dl_ingest_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} dl_ingest_options;

DL_API void dl_ingest_options_default(dl_ingest_options *opts, dl_ingest_format format);

typedef struct dl_ingest_result {
    dl_lake_write_result write;
    int64_t rows_read;           /* rows appended to the lake */
    int64_t rows_skipped;        /* malformed rows skipped (skip_bad) */
    int checksums_verified;      /* .CHECKSUM files that matched */
    char first_skip_reason[512]; /* "FILE:LINE: reason" of the first skipped row */
} dl_ingest_result;

/* Ingests files[0..num_files) into lake in one transaction (see above).
** files and opts are borrowed; *out is filled in (zeroed on failure).
** DL_EINVAL for NULL arguments or bad options, DL_ENOTFOUND for a missing
** file, DL_ECORRUPT for malformed or damaged input, DL_ECONFLICT for a
** schema conflict; in every failure case the lake is unchanged.  Uses
** lake as dl_lake_txn_begin..commit do: one thread at a time per handle. */
DL_API int dl_ingest_files(dl_lake *lake, const char *const *files, int num_files,
                           const dl_ingest_options *opts, dl_ingest_result *out, dl_error *err);

/* ---- history, gaps, integrity, retention ---- */

typedef struct dl_lake_version {
    int64_t version;
    int64_t committed_at; /* us */
    int64_t run_id;
    int64_t rows_written; /* rows in the day files this version wrote */
    int64_t files_added, files_replaced;
    bool vacuumed; /* its superseded files were removed by vacuum */
    char message[256];
} dl_lake_version;

/* All versions of a dataset, oldest first: owned array (dl_free). */
DL_API int dl_lake_history(dl_lake *lake, const char *dataset, dl_lake_version **out,
                           int64_t *count, dl_error *err);

typedef struct dl_lake_gap {
    int64_t from_ts; /* first missing period start (us) */
    int64_t to_ts;   /* last missing period start (us) */
    int64_t missing; /* number of missing periods */
} dl_lake_gap;

/* The stored gaps of a periodic dataset (empty for others), by from_ts:
** owned array (dl_free). */
DL_API int dl_lake_gaps(dl_lake *lake, const char *dataset, dl_lake_gap **out, int64_t *count,
                        dl_error *err);

typedef enum dl_verify_kind {
    DL_VERIFY_MISMATCH = 0, /* live file's SHA-256 differs from the catalog */
    DL_VERIFY_MISSING,      /* catalogued file does not exist */
    DL_VERIFY_UNREGISTERED, /* file in the live tree the catalog does not know */
    DL_VERIFY_STRAY_TMP,    /* temporary file of a dead writer */
    DL_VERIFY_PENDING,      /* unfinished commit of a dead writer */
    DL_VERIFY_FOREIGN,      /* a file outside the lake's layout: reported, never moved */
    DL_VERIFY_MISSING_DAY,  /* a day marked missing by a repair (lost or damaged file) */
    DL_VERIFY_LINEAGE       /* a feature version's source was vacuumed or changed */
} dl_verify_kind;

typedef struct dl_verify_issue {
    dl_verify_kind kind;
    char path[1024]; /* relative to the root */
    char detail[256];
    bool repaired;
} dl_verify_issue;

typedef struct dl_verify_report {
    dl_verify_issue *issues; /* owned */
    int64_t count;
    int64_t files_checked;
    int64_t bytes_checked;
} dl_verify_report;

/* Re-hashes every live (and archived) file of `dataset` (NULL = all) and
** walks the live tree for unregistered files.  With repair: rolls back
** unfinished commits, removes stray temporary files and moves unregistered
** files to {root}/.dl/quarantine/ (never deletes data).  Mismatched or
** missing files are reported, not "repaired".  Returns DL_OK even when
** issues are found; free the report with dl_verify_report_free. */
DL_API int dl_lake_verify(dl_lake *lake, const char *dataset, bool repair, dl_verify_report *out,
                          dl_error *err);
/* Flags of dl_lake_verify_flags.  REPAIR: as dl_lake_verify's repair, and a
** live day file that is missing or damaged is moved to .dl/quarantine/ and
** retired in a new version: the day is marked missing (reported as
** DL_VERIFY_MISSING_DAY until a write of its rows brings it back); a
** damaged archived file is quarantined and the versions needing it become
** unreadable.  RESTORE (implies REPAIR): such a day gets the newest intact
** archived version of itself back from .dl/versions/ instead. */
#define DL_VERIFY_REPAIR  1u
#define DL_VERIFY_RESTORE 2u
DL_API int dl_lake_verify_flags(dl_lake *lake, const char *dataset, unsigned flags,
                                dl_verify_report *out, dl_error *err);
DL_API void dl_verify_report_free(dl_verify_report *report);
DL_API const char *dl_verify_kind_name(dl_verify_kind kind);

typedef struct dl_lake_vacuum_options {
    int64_t keep_versions; /* keep the newest N versions readable (>= 1; 0 = unset) */
    int64_t older_than_us; /* or: drop versions superseded before now - this (0 = unset) */
    bool dry_run;
    bool force; /* also drop versions pinned as the source of a live feature version */
} dl_lake_vacuum_options;

typedef struct dl_lake_vacuum_result {
    int64_t files_removed;
    int64_t bytes_freed;
    int64_t versions_vacuumed;
} dl_lake_vacuum_result;

/* Deletes archived files no longer needed by any retained version of
** `dataset` (NULL = every dataset) and marks older versions vacuumed. */
DL_API int dl_lake_vacuum(dl_lake *lake, const char *dataset, const dl_lake_vacuum_options *opts,
                          dl_lake_vacuum_result *out, dl_error *err);

/* ---- access tokens of the data server (src/lake/dl_token.c) ---- */

/*
** Bearer tokens for `dl serve`, stored in the catalog.  Only the SHA-256 of
** a token is kept; the token text is shown once, by dl_token_create.  A
** token reads "dl_<id>_<43 base64url characters>": the id finds the row, the
** hash is compared in constant time.  Scopes nest: admin > write > read.
*/
typedef enum dl_token_scope {
    DL_TOKEN_READ = 1,  /* metadata and queries */
    DL_TOKEN_WRITE = 2, /* + ingest and resample */
    DL_TOKEN_ADMIN = 3  /* + verify */
} dl_token_scope;

#define DL_TOKEN_TEXT_MAX 80 /* bytes of a token's text including the NUL */

typedef struct dl_token_info {
    int64_t id;
    char name[128];
    dl_token_scope scope;
    char datasets[DL_DATASET_NAME_MAX]; /* dataset glob the token may touch ("" = all) */
    int64_t created_at;                 /* us */
    int64_t expires_at;                 /* us; 0 = never */
    int64_t revoked_at;                 /* us; 0 = live */
} dl_token_info;

DL_API const char *dl_token_scope_name(dl_token_scope scope); /* "read", "write", "admin" */
/* "read" / "write" / "admin" -> *out; DL_EINVAL otherwise. */
DL_API int dl_token_scope_parse(const char *text, dl_token_scope *out);

/* Creates a token (name unique among live tokens; datasets NULL or "" = all,
** else a glob such as "BINANCE/SPOT/[A-Z]*USDT/raw/1m"; expires_at 0 = never) and
** writes its text into token_out[DL_TOKEN_TEXT_MAX].  info may be NULL.
** Needs a read-write lake. */
DL_API int dl_token_create(dl_lake *lake, const char *name, dl_token_scope scope,
                           const char *datasets, int64_t expires_at,
                           char token_out[DL_TOKEN_TEXT_MAX], dl_token_info *info, dl_error *err);
/* Every token ever created, by id: owned array (free()). */
DL_API int dl_token_list(dl_lake *lake, dl_token_info **out, int64_t *count, dl_error *err);
/* Revokes the live token with this name (or "#<id>"); DL_ENOTFOUND if none. */
DL_API int dl_token_revoke(dl_lake *lake, const char *name, dl_error *err);
/* Checks a presented token at time now_us: DL_OK and *info for a live one;
** DL_ENOTFOUND (unknown or malformed), DL_EINVAL (expired or revoked, the
** message says which).  Safe on a read-only lake. */
DL_API int dl_token_check(dl_lake *lake, const char *token, size_t len, int64_t now_us,
                          dl_token_info *info, dl_error *err);
/* true when `dataset` (canonical name) matches the token's glob. */
DL_API bool dl_token_allows(const dl_token_info *info, const char *dataset);

/* ================================================================== */
/* Query building blocks: filter expressions and time-series kernels   */
/* (src/query/).  All kernels work on dl_table batches and keep state  */
/* between batches, so inputs of any size stream in bounded memory.    */
/* ================================================================== */

/* ---- filter expressions ---- */

typedef struct dl_expr dl_expr;

/*
** Parses a filter such as
**     close > 50000 and volume > 0
**     not (side = 'buy' or qty in (1, 2, 3)) and note is not null
**     ts >= '2024-01-01' and ts < '2024-01-02T12:00:00Z'
** Grammar: or / and / not (that precedence, all case-insensitive),
** parentheses, comparisons = == != <> < <= > >=, `x in (lit, ...)`,
** `x not in (...)`, `x is [not] null`; literals are numbers (integer,
** decimal, exponent, leading '-'), 'single-quoted strings' ('' escapes),
** true/false; a string literal compared with a timestamp or date column is
** parsed as an ISO-8601 date/time (UTC).  Column names are bound against
** `schema` (double-quote names that are keywords or contain odd characters)
** and types are checked.  Errors name the offending token and its offset:
**   "filter: unknown column 'clsoe' at offset 0 (columns: ts, open, ...)".
** Comparisons involving NULL are false (SQL); `not` of such a comparison
** is also false.  Owned; free with dl_expr_free.
*/
DL_API int dl_expr_parse(const char *text, const dl_schema *schema, dl_expr **out, dl_error *err);
DL_API void dl_expr_free(dl_expr *e);

/* Names of the columns the expression reads (borrowed; valid until free). */
DL_API int dl_expr_num_columns(const dl_expr *e);
DL_API const char *dl_expr_column_name(const dl_expr *e, int i);

/*
** Evaluates the expression on every row of `t` (columns are looked up by
** name in t->schema, so a projected table works) and writes sel[i] = 1 when
** row i matches, else 0.  sel has t->num_rows bytes.  Returns the number of
** matching rows in *matches (may be NULL).
*/
DL_API int dl_expr_eval(const dl_expr *e, const dl_table *t, uint8_t *sel, int64_t *matches,
                        dl_error *err);

/*
** Pruning: given min/max statistics of a row group or page, could any row
** match?  stats[i] describes the schema field i of the schema the
** expression was parsed against (has_min_max false = unknown).  Returns
** false only when no row can match.
*/
DL_API bool dl_expr_may_match(const dl_expr *e, const dl_stats *stats);

/* Keeps the rows with sel[i] != 0 of t (compacting in place). */
DL_API int dl_table_filter(dl_table *t, const uint8_t *sel, dl_error *err);

/* ---- OHLCV resampling (bars to coarser bars) ---- */

/*
** Input batches must be sorted by `ts` (TIMESTAMP or int64) and hold at
** least ts, open, high, low, close; bars are aligned to multiples of
** bucket (in the ts column's unit) since the epoch.  Output columns: ts
** (bucket start), open (first), high (max), low (min), close (last), then
** every other numeric input column summed (volume, quote_volume,
** trade_count, taker_buy_volume, ...).  Buckets with no input row produce
** no bar (gaps stay gaps).  A bar is emitted once a later bucket is seen
** (or at finish), so batches may split a bucket anywhere.
*/
typedef struct dl_resampler dl_resampler;
DL_API int dl_resampler_open(const dl_schema *input, int64_t bucket, dl_resampler **out,
                             dl_error *err);
/* Output schema (borrowed). */
DL_API const dl_schema *dl_resampler_schema(const dl_resampler *rs);
/* Consumes batch; APPENDS completed bars to out (initialised with the
** output schema via dl_table_init). */
DL_API int dl_resampler_push(dl_resampler *rs, const dl_table *batch, dl_table *out, dl_error *err);
/* Flushes the last open bar into out. */
DL_API int dl_resampler_finish(dl_resampler *rs, dl_table *out, dl_error *err);
DL_API void dl_resampler_free(dl_resampler *rs);

/* ---- bars from ticks ---- */

/*
** Trades (ts, price, qty; sorted by ts) -> bars of `bucket` (ts unit):
** ts, open, high, low, close, volume = sum(qty), quote_volume =
** sum(price*qty), vwap = quote_volume / volume, trades = count.  Same
** streaming contract as the resampler.
*/
typedef struct dl_tick_bars dl_tick_bars;
DL_API int dl_tick_bars_open(const dl_schema *input, int64_t bucket, dl_tick_bars **out,
                             dl_error *err);
DL_API const dl_schema *dl_tick_bars_schema(const dl_tick_bars *tb);
DL_API int dl_tick_bars_push(dl_tick_bars *tb, const dl_table *batch, dl_table *out, dl_error *err);
DL_API int dl_tick_bars_finish(dl_tick_bars *tb, dl_table *out, dl_error *err);
DL_API void dl_tick_bars_free(dl_tick_bars *tb);

/* ---- as-of join (point in time, no look-ahead) ---- */

/*
** For each left row, the latest right row whose key <= the left key
** (and, when tolerance >= 0, left key - right key <= tolerance).  Both
** sides sorted by their key (int64 or TIMESTAMP of the same unit).
** Streaming: push right batches in order, then probe left batches; a left
** batch may be probed once the right side has been pushed past its last
** key (or the right side is finished).  Output = the left columns, then
** the right columns (except the key) prefixed "right_" when a name clashes;
** right columns are null for unmatched left rows.
*/
typedef struct dl_asof_join dl_asof_join;
DL_API int dl_asof_open(const dl_schema *left, const char *left_key, const dl_schema *right,
                        const char *right_key, int64_t tolerance, dl_asof_join **out,
                        dl_error *err);
DL_API const dl_schema *dl_asof_schema(const dl_asof_join *j);
DL_API int dl_asof_push_right(dl_asof_join *j, const dl_table *right_batch, dl_error *err);
/* Marks the right side complete (all later probes see every right row). */
DL_API void dl_asof_finish_right(dl_asof_join *j);
/* Largest right key pushed so far (INT64_MIN when none). */
DL_API int64_t dl_asof_right_high(const dl_asof_join *j);
/* Joins a left batch; APPENDS to out (dl_table_init'ed with the output schema). */
DL_API int dl_asof_probe(dl_asof_join *j, const dl_table *left_batch, dl_table *out,
                         int64_t *matched, dl_error *err);
DL_API void dl_asof_free(dl_asof_join *j);

/* ---- queries over the lake (needs the Lake section above) ---- */

typedef struct dl_query_spec {
    const char *const *datasets; /* names; a component may be '*' or a glob
                                    (e.g. "BINANCE/SPOT/[A-Z]*USDT/raw/1m") */
    int num_datasets;
    int64_t ts_from, ts_to;     /* us, half-open [from, to); INT64_MIN/MAX = open */
    const char *const *columns; /* projection, output order (NULL = all columns) */
    int num_columns;
    const char *filter;       /* dl_expr text, NULL = none */
    int64_t as_of_version;    /* 0 = current; needs exactly one dataset */
    int64_t as_of_time;       /* us; 0 = unset; applies per dataset */
    int threads;              /* decode threads (0 = number of CPUs) */
    int symbol_column;        /* add `symbol` first: 1 yes, 0 no, -1 auto
                                 (when more than one dataset matches) */
    int64_t max_buffer_bytes; /* decoded rows held ahead of the consumer
                                 (read-ahead budget; 0 = 256 MiB).  Memory
                                 stays near this plus one file per thread. */
    bool skip_page_crc;       /* do not verify page CRCs (default false: a
                                 damaged page fails the query; see
                                 dl_lake_file_open) */
    dl_pool *pool;            /* shared decode threads (borrowed; must outlive the
                                 query); NULL = the query's own `threads` threads.
                                 With a pool, `threads` caps the files decoded at
                                 once (0 = the pool's size). */
} dl_query_spec;

DL_API void dl_query_spec_default(dl_query_spec *spec);

typedef struct dl_query_stats {
    int64_t datasets;
    int64_t files; /* files the catalog returned for the range */
    int64_t row_groups;
    int64_t row_groups_pruned; /* skipped by ts range or filter statistics */
    int64_t rows_page_pruned;  /* rows of pages skipped because the page index
                                  says the filter cannot match them */
    int64_t rows_scanned;      /* rows decoded */
    int64_t rows_returned;
} dl_query_stats;

typedef struct dl_query dl_query;

/*
** Plans a query: matches datasets, asks the catalog for the files that
** overlap the time range (no directory globbing), binds the filter to the
** datasets' union schema.  Execution happens in dl_query_next: files are
** decoded by a small thread pool (a bounded window ahead of the consumer),
** row groups whose ts range or statistics exclude the filter are skipped,
** pages outside the ts range are skipped through the page index, only the
** needed columns are decoded, and the filter runs on column vectors.
** Results come in dataset order, then ts order (deterministic whatever the
** thread count).  lake must outlive the query.  Owned; dl_query_close.
*/
DL_API int dl_query_open(dl_lake *lake, const dl_query_spec *spec, dl_query **out, dl_error *err);
DL_API const dl_schema *dl_query_schema(const dl_query *q); /* borrowed */
/* Fills `batch` (dl_table_init'ed with dl_query_schema; cleared here) with
** the next non-empty batch; batch->num_rows == 0 means the end. */
DL_API int dl_query_next(dl_query *q, dl_table *batch, dl_error *err);
DL_API void dl_query_get_stats(const dl_query *q, dl_query_stats *out);
DL_API void dl_query_close(dl_query *q);
/* The query's remaining results as an Arrow C stream (see the Arrow
** section for the semantics).  On success the stream owns q: its release
** closes q (q must not be used or closed by the caller any more); on
** failure q stays the caller's.  The lake must outlive the stream. */
struct ArrowArrayStream;
DL_API int dl_query_arrow_stream(dl_query *q, struct ArrowArrayStream *out, dl_error *err);
/* The query's remaining rows resampled to OHLCV bars of bucket_us
** microseconds (dl_resampler: klines or ticks in, bars out), as an Arrow C
** stream with the resampler's schema.  Ownership of q as for
** dl_query_arrow_stream: the stream owns q on success, q stays the
** caller's on failure. */
DL_API int dl_query_resample_arrow_stream(dl_query *q, int64_t bucket_us,
                                          struct ArrowArrayStream *out, dl_error *err);

/* ---- JSON renderings of the lake's metadata (dl_meta_json.c) ---- */

/* The documents of `dl ls/info/history/gaps/verify --json` and the data
** server, appended to t; times are epoch milliseconds.  Return t->status. */
/* {"dataset":..,"exchange":..,...,"first_ts":ms|null,...}; with a schema
** (may be NULL) also "columns":[{"name":..,"type":"timestamp[us, UTC]"}]. */
DL_API int dl_json_dataset(dl_text *t, const dl_dataset_info *d, const dl_schema *schema);
/* [dataset, ...] and a newline. */
DL_API int dl_json_datasets(dl_text *t, const dl_dataset_info *items, int64_t count);
/* [{"version":..,"committed_at":ms,...,"message":..}, ...] and a newline. */
DL_API int dl_json_history(dl_text *t, const dl_lake_version *v, int64_t count);
/* [{"from_ts":ms,"to_ts":ms,"missing":N}, ...] and a newline. */
DL_API int dl_json_gaps(dl_text *t, const dl_lake_gap *g, int64_t count);
/* {"files_checked":..,"bytes_checked":..,"ok":bool,"issues":[...]} and a newline. */
DL_API int dl_json_verify(dl_text *t, const dl_verify_report *r);
/* Issues neither repaired nor merely foreign files: "ok" is 0 of them. */
DL_API int64_t dl_verify_open_issues(const dl_verify_report *r);

/* ---- as-of join of two datasets (dl_join.c): `dl join`, the data server ---- */

typedef struct dl_join_spec {
    const char *left, *right;   /* one dataset each (no glob); borrowed until open returns */
    const char *on;             /* key column, sorted on both sides (default "ts") */
    int64_t tolerance_us;       /* right rows older than key - tolerance do not match
                                   (-1 = no limit, the default; 0 = exact keys) */
    int64_t right_delay_us;     /* a right row is known this long after its key (klines
                                   stamped with their open time: the period); 0..366 days */
    int64_t ts_from, ts_to;     /* left range, us, half-open (default unbounded) */
    const char *const *columns; /* output columns of the full join, in order (NULL = all):
                                   left columns, then the right ones except the key,
                                   prefixed right_ when the name exists on the left */
    int num_columns;
    int threads;              /* decode threads per side (0 = all cores) */
    int64_t max_buffer_bytes; /* read-ahead per side (see dl_query_spec; 0 = default) */
    dl_pool *pool;            /* shared decode threads for both sides (borrowed); NULL =
                                 each side starts its own */
} dl_join_spec;

DL_API void dl_join_spec_default(dl_join_spec *spec);

/*
** Each left row with the latest right row whose key is <= its own (point in
** time, no look-ahead); unmatched left rows get null right columns.  Both
** sides stream through dl_query (bounded memory).  Owned; dl_join_close.
** The lake must outlive the join.  One thread at a time per join.
*/
typedef struct dl_join dl_join;
DL_API int dl_join_open(dl_lake *lake, const dl_join_spec *spec, dl_join **out, dl_error *err);
DL_API const dl_schema *dl_join_schema(const dl_join *j); /* borrowed */
/* Fills batch (dl_table_init'ed with dl_join_schema; cleared here) with the
** next non-empty batch; 0 rows = the end. */
DL_API int dl_join_next(dl_join *j, dl_table *batch, dl_error *err);
DL_API void dl_join_close(dl_join *j);
/* The join's results as an Arrow C stream: on success the stream owns j
** (its release closes j); on failure j stays the caller's. */
DL_API int dl_join_arrow_stream(dl_join *j, struct ArrowArrayStream *out, dl_error *err);

/* ---- result sinks: table, CSV, JSONL, Parquet, Arrow IPC (dl_sink.c) ---- */

/*
** Where result rows go, in the formats of `dl query`: the same bytes
** whoever writes them (the CLI to stdout or a file, the data server into an
** HTTP body).  Formats:
**   TABLE   aligned text columns (header, numbers right-aligned, cells cut
**           at 40 characters), aligned in blocks of 1024 rows;
**   CSV     RFC 4180 with a header line; null is an empty field, an empty
**           string is ""; "\n" line ends;
**   JSONL   one JSON object per row (values as DL_TEXT_JSON);
**   PARQUET a Parquet file (dl_sink_open_file only: the footer is last);
**   ARROW   the Arrow IPC stream format.
** limit keeps the first N rows, tail the last N (they exclude each other).
** A sink is used by one thread at a time; it copies the schema.
*/
typedef enum dl_sink_format {
    DL_SINK_TABLE = 0,
    DL_SINK_CSV = 1,
    DL_SINK_JSONL = 2,
    DL_SINK_PARQUET = 3,
    DL_SINK_ARROW = 4
} dl_sink_format;

typedef struct dl_sink_options {
    dl_sink_format format;           /* default DL_SINK_TABLE */
    int64_t limit;                   /* at most the first N rows; -1 = all (default) */
    int64_t tail;                    /* only the last N rows; -1 = unset (default) */
    const dl_write_options *parquet; /* PARQUET: borrowed until open returns; NULL = defaults */
} dl_sink_options;

DL_API void dl_sink_options_default(dl_sink_options *opts);
/* "table", "csv", "jsonl", "parquet", "arrow". */
DL_API int dl_sink_format_parse(const char *name, dl_sink_format *out, dl_error *err);

/* What an output file must never be: inside one of `roots` (a lake root)
** or the same file as one of `inputs`.  Pointers are borrowed for the call. */
typedef struct dl_output_guard {
    const char *const *roots;
    int num_roots;
    const char *const *inputs;
    int num_inputs;
} dl_output_guard;

/* Refuses (DL_EINVAL, naming both paths) an output path that resolves --
** symlinks followed, also dangling ones and the directory of a file that
** does not exist yet -- inside a guarded root or onto an input file, and an
** existing regular file with more than one hard link (it may be a lake
** file under another name).  guard may be NULL (only the link check). */
DL_API int dl_output_path_check(const char *path, const dl_output_guard *guard, dl_error *err);

typedef struct dl_sink dl_sink;

/* A sink for rows of `schema` writing through write(ctx, ...) (PARQUET is
** refused: DL_EUNSUPPORTED).  Owned; finish with dl_sink_close. */
DL_API int dl_sink_open(const dl_schema *schema, const dl_sink_options *opts, dl_write_fn write,
                        void *ctx, dl_sink **out, dl_error *err);
/* A sink writing the file `path` (created or truncated) once
** dl_output_path_check(path, guard) passed. */
DL_API int dl_sink_open_file(const char *path, const dl_output_guard *guard,
                             const dl_schema *schema, const dl_sink_options *opts, dl_sink **out,
                             dl_error *err);
/* Hands a batch (laid out as the sink's schema) to the sink; *done (may be
** NULL) turns true once `limit` rows are out: the caller may stop. */
DL_API int dl_sink_put(dl_sink *s, const dl_table *batch, bool *done, dl_error *err);
/* The same for rows [from, from + count) of batch. */
DL_API int dl_sink_put_rows(dl_sink *s, const dl_table *batch, int64_t from, int64_t count,
                            bool *done, dl_error *err);
/* Rows written so far (after close: in total). */
DL_API int64_t dl_sink_rows(const dl_sink *s);
/* With status DL_OK: writes what is pending (tail rows, the last table
** block, the Parquet footer or the Arrow end-of-stream) and closes; with an
** error status: abandons the output.  Frees s (NULL is fine).  Returns
** status, or the first error finishing. */
DL_API int dl_sink_close(dl_sink *s, int status, dl_error *err);

/* ---- derived datasets: resample into the lake (src/query/dl_derive.c) ---- */

typedef struct dl_resample_options {
    int threads;   /* query decode and day-file encoding threads (0 = defaults) */
    bool durable;  /* syncfs before publishing, as every lake write (default true) */
    dl_pool *pool; /* decode threads (borrowed); NULL = one pool for the run */
} dl_resample_options;

DL_API void dl_resample_options_default(dl_resample_options *opts);

typedef struct dl_resample_result {
    char source[DL_DATASET_NAME_MAX]; /* canonical source name */
    char target[DL_DATASET_NAME_MAX]; /* EXCHANGE/MARKET/SYMBOL/agg/PERIOD */
    int64_t source_version;           /* the source version read (recorded as lineage) */
    int64_t recorded_source_version;  /* lineage of the agg before the run (0 = none) */
    int64_t days_total;               /* source day files */
    int64_t days_recomputed;          /* source days whose bars were recomputed */
    int64_t days_written;             /* agg day files created or replaced */
    int64_t days_unchanged;           /* recomputed agg days with identical content */
    int64_t rows_in;                  /* source rows read */
    int64_t bars_out;                 /* bars computed */
    int64_t version;                  /* new agg version, 0 when nothing changed */
} dl_resample_result;

/*
** Builds or updates the agg dataset EXCHANGE/MARKET/SYMBOL/agg/PERIOD from
** `source`: a raw dataset with a fixed period (OHLCV resampler; PERIOD must
** be a multiple of it) or a ticks dataset (bars from ticks: OHLCV, vwap,
** trade count; columns ts, price, qty).  PERIOD must divide a UTC day
** (1m .. 1d) so that each agg day file depends on one source day file.
** Incremental: only the days whose source file changed since the source
** version the agg recorded are recomputed; no change -> no new version.
** Each agg version's message records its lineage:
**     "dl resample: dl.source=<source> dl.source_version=<N>"
** result may be NULL.
*/
DL_API int dl_lake_resample(dl_lake *lake, const char *source, const char *period,
                            const dl_resample_options *opts, dl_resample_result *result,
                            dl_error *err);
/* Extracts the lineage from a version message written by dl_lake_resample:
** DL_OK and source/source_version, or DL_ENOTFOUND. */
DL_API int dl_resample_lineage_parse(const char *message, char *source, size_t source_size,
                                     int64_t *source_version);

/* ================================================================== */
/* Arrow interchange (src/arrow/): C Data Interface export and the IPC */
/* streaming format, so pyarrow, Polars, DuckDB and Arrow JS read our   */
/* results without conversion.                                          */
/* ================================================================== */

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE           2
#define ARROW_FLAG_MAP_KEYS_SORTED    4
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};
#endif

/* Exports a table as a struct array + schema (Arrow C Data Interface).
** The table's buffers are copied/converted (bools bit-packed, string
** offsets to int32 or int64 'U' when > 2 GiB); the caller owns the results
** and calls their release callbacks. */
DL_API int dl_arrow_export(const dl_table *t, struct ArrowSchema *schema_out,
                           struct ArrowArray *array_out, dl_error *err);

/* Exports a schema alone as a struct schema ("+s"), strings as Utf8. */
DL_API int dl_arrow_export_schema(const dl_schema *schema, struct ArrowSchema *out, dl_error *err);

/*
** ---- Arrow C Stream Interface: the library's one export path ----
**
** Query results (dl_query_arrow_stream, in the Query section), join
** results (dl_join_arrow_stream) and Parquet files (below) are handed out
** as an ArrowArrayStream; dl_arrow_stream_write_ipc turns any stream into
** the Arrow IPC stream format.  Semantics of the streams made here:
**   - get_schema returns a fresh struct schema each call (caller releases);
**   - get_next returns a struct array the caller owns: it has its own
**     release, shares no memory with the stream and stays valid after the
**     stream is released; the end is an array whose release is NULL;
**     string/binary columns are always Utf8/Binary (int32 offsets): a
**     batch holding more bytes is handed out as several arrays;
**   - an error is sticky: get_next returns an errno value (EIO, ENOMEM,
**     EBADMSG for corrupt input, ...) and get_last_error the library's
**     message (valid until the next call or release);
**   - release may be called at any time (early release is how a consumer
**     stops reading): it stops the producer (a query's threads) and frees
**     everything the stream owns.
** Thread-safety: one stream is used by one thread at a time; distinct
** streams are independent (but a query stream uses its dl_lake, see the
** Lake section for what that allows).
*/

/* A stream over any producer of batches of `schema` (copied): next(ctx,
** batch, err) fills batch (initialised with the schema, empty) with the
** next rows -- 0 rows mean the end -- or returns an error, which the stream
** reports through get_last_error; it is not called again after the end or
** an error.  close(ctx) (may be NULL) runs exactly once, when the stream
** ends, fails or is released.  On failure here nothing is called. */
typedef int (*dl_batch_next_fn)(void *ctx, dl_table *batch, dl_error *err);
typedef void (*dl_batch_close_fn)(void *ctx);
DL_API int dl_arrow_stream_from_batches(const dl_schema *schema, dl_batch_next_fn next,
                                        dl_batch_close_fn close, void *ctx,
                                        struct ArrowArrayStream *out, dl_error *err);

/* A Parquet file as a stream, one array per row group, of the selected
** columns (file column indices, in this order; NULL/0 = all).  On success
** the stream owns r (its release closes r); on failure r stays the caller's. */
DL_API int dl_parquet_arrow_stream(dl_parquet_reader *r, const int *columns, int num_columns,
                                   struct ArrowArrayStream *out, dl_error *err);

/* The dl_schema of an exported struct schema (ours or another producer's):
** bool, int32/64, float32/64, utf8/large utf8, binary/large binary, date32,
** timestamps (ms/us/ns; any timezone = an instant) and decimal128 of
** precision <= 18.  *out is initialised here (dl_schema_free).  schema is
** borrowed (not released). */
DL_API int dl_arrow_import_schema(const struct ArrowSchema *schema, dl_schema *out, dl_error *err);
/* Copies a struct array laid out as arrow_schema (imported as `schema`)
** into *out (initialised here; dl_table_free).  Counts, offsets and buffer
** presence are checked before reading; array is borrowed (not released). */
DL_API int dl_arrow_import_array(const dl_schema *schema, const struct ArrowSchema *arrow_schema,
                                 const struct ArrowArray *array, dl_table *out, dl_error *err);

/* Writes every batch of `stream` as an Arrow IPC stream to write(ctx, ...)
** and releases the stream (always, also on failure: consumed).  A stream
** error is reported with the stream's own message.  rows_out (may be
** NULL) receives the rows written. */
DL_API int dl_arrow_stream_write_ipc(struct ArrowArrayStream *stream, dl_write_fn write, void *ctx,
                                     int64_t *rows_out, dl_error *err);

/* Arrow IPC stream writer over a write callback (file, socket, buffer). */
typedef struct dl_ipc_writer dl_ipc_writer;
/* Writes the Schema message. Timestamps keep their unit with timezone
** "UTC" (utc fields) or none; strings are Utf8 (int32 offsets): a batch
** whose string column exceeds 2 GiB is split into several record batches
** (a single value over 2 GiB is DL_EUNSUPPORTED). */
DL_API int dl_ipc_writer_open(const dl_schema *schema, dl_write_fn write, void *ctx,
                              dl_ipc_writer **out, dl_error *err);
/* Writes one RecordBatch message (uncompressed body). */
DL_API int dl_ipc_writer_write(dl_ipc_writer *w, const dl_table *batch, dl_error *err);
/* Writes the end-of-stream marker and frees w. */
DL_API int dl_ipc_writer_close(dl_ipc_writer *w, dl_error *err);
DL_API void dl_ipc_writer_abort(dl_ipc_writer *w);
/* A dl_write_fn for a FILE* ctx. */
DL_API int dl_write_to_file(void *file, const void *data, size_t len);

/* ================================================================== */
/* Feature store (src/features/): versioned feature sets with aliases,  */
/* lineage and point-in-time retrieval.  See docs/features.md.         */
/* ================================================================== */
/*
** A feature set NAME has versions (SemVer 2.0 strings, immutable once
** published) and aliases (production, staging, any name) pointing at a
** version.  A version's rows live in the lake, one dataset per entity
** (symbol): FEATURES/<NAME>/<SYMBOL>/features/<VERSION>_<ID> where ID is
** the first 8 hex digits of the version's identity (the SHA-256 of its
** canonical content), with columns symbol, ts, available_at, then the
** feature columns.  Catalog tables feature_* record versions, aliases (with
** their history), datasets and lineage.
**
** Times are microseconds since the epoch, UTC.  Handles: the dl_lake must
** outlive every call; no call keeps a pointer into its arguments.  Calls
** on one dl_lake are not thread-safe (like every lake call); use one
** dl_lake per thread.  Arrays returned through `**out` are owned by the
** caller and released with dl_free (or its synonym dl_features_free).
*/

#define DL_FEATURE_NAME_MAX    48 /* bytes of a feature set or alias name */
#define DL_FEATURE_VERSION_MAX 48 /* bytes of a version string */

/* ---- SemVer 2.0 ---- */

/* DL_OK when text is a SemVer 2.0 version ("1.0.0", "1.2.0-experimental",
** "2.0.0-rc.1+build.5"); else DL_EINVAL naming what is wrong. */
DL_API int dl_semver_validate(const char *text, dl_error *err);
/* Precedence of two valid versions: <0, 0 or >0 (build metadata ignored;
** 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0-rc.1 < 1.0.0). */
DL_API int dl_semver_compare(const char *a, const char *b);

/* Releases memory returned by dl_features_* calls (NULL is fine); the
** same as dl_free. */
DL_API void dl_features_free(void *p);

/* ---- publishing ---- */

typedef struct dl_features_import_options {
    const char *name;                /* feature set name: [A-Za-z][A-Za-z0-9_-]* */
    const char *version;             /* SemVer 2.0 */
    const char *entity_column;       /* column holding the symbol */
    const char *ts_column;           /* event time column */
    const char *available_at_column; /* NULL: available_at = ts + interval + lag */
    int64_t interval_us;             /* source bar interval; -1 = the period of the
                                        first derived_from dataset (0 if none) */
    int64_t lag_us;                  /* declared publication lag (default 0) */
    const char *const *derived_from; /* "DATASET" or "DATASET@LAKE_VERSION" */
    int num_derived_from;
    const char *message; /* recorded with the version (may be NULL) */
    bool durable;        /* syncfs before publishing (default true) */
} dl_features_import_options;

DL_API void dl_features_import_options_default(dl_features_import_options *opts);

typedef struct dl_features_publish_result {
    char name[DL_FEATURE_NAME_MAX + 1];
    char version[DL_FEATURE_VERSION_MAX + 1];
    char identity[65]; /* SHA-256 of the canonical content */
    bool unchanged;    /* the same content was already published: nothing done */
    int64_t rows;      /* rows stored (after dropping exact key duplicates) */
    int64_t symbols;   /* entities (one lake dataset each) */
    int64_t committed_at;
} dl_features_publish_result;

/*
** Publishes `rows` as version opts->version of opts->name.  rows holds the
** entity column (STRING), the ts column (TIMESTAMP), optionally the
** available_at column (TIMESTAMP) and the feature columns (any other
** columns; names symbol, ts, available_at are reserved).  Rows with equal
** (symbol, ts, available_at) keep the last one.  A version that exists
** with the same content is a no-op (result->unchanged); with different
** content DL_ECONFLICT and nothing changes.  Crash-safe: the version
** becomes visible in one catalog commit after its data is durable; an
** interrupted publish leaves no version.  `lineage_json` (may be NULL) is
** a JSON object merged into the recorded lineage under "transform".
*/
DL_API int dl_features_publish(dl_lake *lake, const dl_table *rows,
                               const dl_features_import_options *opts, const char *transform_json,
                               dl_features_publish_result *result, dl_error *err);

/* Reads FILE (CSV with a header: times ISO-8601 UTC or epoch ms; or a
** Parquet file, recognised by its magic) and publishes it as above; the
** file's SHA-256 is recorded in the lineage. */
DL_API int dl_features_import(dl_lake *lake, const char *path,
                              const dl_features_import_options *opts,
                              dl_features_publish_result *result, dl_error *err);

/* ---- building from the lake ---- */

typedef struct dl_features_build_result {
    dl_features_publish_result publish; /* name, version, identity, unchanged, rows */
    int64_t rows_in;                    /* source bars read */
} dl_features_build_result;

/*
** Computes a feature set from lake datasets with the built-in kernels and
** publishes it (see docs/features.md for the spec): spec_text is JSON
** naming "name", "version", "sources" (datasets or globs of bar datasets),
** optional "from"/"to"/"lag"/"message", and "kernels" (returns,
** log_returns, rolling_mean|std|min|max|sum|count, ema, zscore, vwap,
** realized_vol, true_range, atr, taker_imbalance with their parameters).
** The version's identity covers the kernels, range, lag and every source
** file's checksum: rebuilding the same spec on the same sources is a
** no-op, anything else under a published version is DL_ECONFLICT.
** spec_name labels messages.  result may be NULL.
*/
DL_API int dl_features_build(dl_lake *lake, const char *spec_text, size_t spec_len,
                             const char *spec_name, bool durable, dl_features_build_result *result,
                             dl_error *err);

/* ---- catalog: versions, aliases ---- */

typedef struct dl_feature_version {
    char name[DL_FEATURE_NAME_MAX + 1];
    char version[DL_FEATURE_VERSION_MAX + 1];
    char identity[65];
    int64_t committed_at;
    int64_t deleted_at; /* 0 = live */
    int64_t rows, symbols;
    int64_t ts_min, ts_max;
    int num_columns; /* feature columns */
    char message[256];
} dl_feature_version;

/* Versions of `name` (NULL = every feature set) known at as_of (0 = now):
** committed at or before it and not deleted by then (include_deleted also
** lists deleted ones).  Sorted by name, then precedence.  *out: owned
** array (dl_free). */
DL_API int dl_features_versions(dl_lake *lake, const char *name, int64_t as_of,
                                bool include_deleted, dl_feature_version **out, int64_t *count,
                                dl_error *err);

typedef struct dl_feature_alias {
    char name[DL_FEATURE_NAME_MAX + 1];
    char alias[DL_FEATURE_NAME_MAX + 1];
    char version[DL_FEATURE_VERSION_MAX + 1]; /* "" = alias removed */
    int64_t set_at;
} dl_feature_alias;

/* Points `alias` of `name` at `version` (atomically; the change is recorded
** with its time).  version NULL removes the alias.  Alias names follow the
** feature-set name rule and may not be "latest" or a SemVer string. */
DL_API int dl_features_alias_set(dl_lake *lake, const char *name, const char *alias,
                                 const char *version, dl_error *err);
/* The aliases of `name` as they stood at as_of (0 = now), or with
** `history` every change ever made (oldest first).  *out: owned array
** (dl_free). */
DL_API int dl_features_aliases(dl_lake *lake, const char *name, int64_t as_of, bool history,
                               dl_feature_alias **out, int64_t *count, dl_error *err);

/* Resolves REF ("1.2.0", "latest" = highest non-pre-release, or an alias)
** of `name` as known at as_of (0 = now) into version[DL_FEATURE_VERSION_MAX
** + 1].  DL_ENOTFOUND naming what is missing. */
DL_API int dl_features_resolve(dl_lake *lake, const char *name, const char *ref, int64_t as_of,
                               char *version, dl_error *err);

/* The feature columns of a version (copied into *out; dl_schema_free). */
DL_API int dl_features_schema(dl_lake *lake, const char *name, const char *version, dl_schema *out,
                              dl_error *err);

/* Hides a version from listings and resolution from now on (aliases that
** point at it are removed).  Its data stays, so retrieval --as-of-system-time
** before the deletion still reproduces; the version string is never reused. */
DL_API int dl_features_delete(dl_lake *lake, const char *name, const char *version, dl_error *err);

/* The recorded lineage of a version as JSON text (*json owned: dl_free). */
DL_API int dl_features_lineage(dl_lake *lake, const char *name, const char *version, char **json,
                               dl_error *err);

/* The lineage JSON rendered as an indented text tree down to the source
** files' checksums (*text owned: dl_free). */
DL_API int dl_features_lineage_text(const char *json, char **text, dl_error *err);

/* Checks every live version's recorded sources against the lake: a source
** version that was vacuumed, a dataset that is gone, or a file whose
** SHA-256 differs from the lineage's is appended to `report` as a
** DL_VERIFY_LINEAGE issue (path = NAME@VERSION).  No-op without features. */
DL_API int dl_features_verify(dl_lake *lake, dl_verify_report *report, dl_error *err);

/* ---- point-in-time retrieval ---- */

typedef struct dl_features_get_options {
    int64_t ttl_us;            /* 0 = no TTL */
    int64_t as_of_system_time; /* 0 = now; else hide what was committed later */
} dl_features_get_options;

typedef struct dl_feature_resolved {
    char name[DL_FEATURE_NAME_MAX + 1];
    char version[DL_FEATURE_VERSION_MAX + 1];
    char identity[65];
} dl_feature_resolved;

/*
** For each row of `entities` (columns `symbol` STRING and `ts` TIMESTAMP,
** any order, duplicates allowed) and each ref "NAME@REF": among the
** feature rows of that symbol with ts <= entity ts and available_at <=
** entity ts and (ttl) entity ts - ts <= ttl, the one with the greatest ts,
** ties by greatest available_at; none -> nulls.  *out (initialised here;
** dl_table_free) has symbol, ts (TIMESTAMP us) in entity order, then
** NAME__COLUMN per feature column.  resolved[num_refs] (may be NULL)
** receives the versions used.  Cost: O(N log N + M) for N entities and M
** feature rows read; only the day files of [min ts - ttl, max ts] are read.
*/
DL_API int dl_features_get(dl_lake *lake, const dl_table *entities, const char *const *refs,
                           int num_refs, const dl_features_get_options *opts, dl_table *out,
                           dl_feature_resolved *resolved, dl_error *err);

/* Reads an entity CSV (header with `symbol` and `ts`; ts ISO-8601 or epoch
** ms) into *out (symbol STRING, ts TIMESTAMP us; initialised here). */
DL_API int dl_features_read_entities(const char *path, dl_table *out, dl_error *err);

/* ---- reproducibility manifests ---- */

/* What a retrieval used and produced.  Written next to a training set, it
** lets the same bytes be produced again: versions are immutable, so the
** resolved versions (not the aliases) plus the entity file, options and
** the output hash pin the result. */
typedef struct dl_features_manifest {
    char entities_path[1024];
    char entities_sha256[65];
    dl_feature_resolved *features; /* owned */
    int num_features;
    int64_t ttl_us;
    int64_t as_of_system_time;
    char format[16];
    char output_sha256[65];
} dl_features_manifest;

/* Writes m as JSON to path (atomically: tmp + rename), with the lake
** datasets and lake versions of every resolved version. */
DL_API int dl_features_manifest_write(dl_lake *lake, const dl_features_manifest *m,
                                      const char *path, dl_error *err);
/* Reads a manifest written by dl_features_manifest_write (hostile input:
** size-capped, strictly parsed).  Free with dl_features_manifest_free. */
DL_API int dl_features_manifest_read(const char *path, dl_features_manifest *out, dl_error *err);
DL_API void dl_features_manifest_free(dl_features_manifest *m);

/* ================================================================== */
/* Sync from exchange archives (src/connectors/)                       */
/* ================================================================== */

/* A line of progress or plan (no newline), on the calling thread. */
typedef void (*dl_sync_log_fn)(void *ctx, const char *line);

/* Initialise with dl_sync_options_default, then set fields; every pointer
** is borrowed for the duration of the call. */
typedef struct dl_sync_options {
    const char *base_url;       /* archive root (default https://data.binance.vision) */
    const char *market;         /* "spot" (default), "um" or "cm" (USD-M / COIN-M futures) */
    const char *kind;           /* "klines" (default), "trades" or "aggTrades" */
    const char *interval;       /* klines: "1m" (default), "1h", ... */
    const char *const *symbols; /* exchange symbols, e.g. "BTCUSDT" */
    int num_symbols;
    int64_t from_day, to_day; /* UTC days since 1970-01-01, [from_day, to_day) */
    int max_retries;          /* per request, for 5xx, stalls and 429 (default 5) */
    int stall_seconds;        /* a transfer under 1 byte/s this long is retried (30) */
    bool dry_run;             /* plan only: log the archives, fetch nothing */
    dl_sync_log_fn log;       /* may be NULL */
    void *log_ctx;
} dl_sync_options;

typedef struct dl_sync_result {
    int64_t files_planned;   /* archives the range needs */
    int64_t files_skipped;   /* already in the lake: every day of the archive has a file */
    int64_t files_fetched;   /* downloaded, checksum-verified and ingested */
    int64_t files_missing;   /* not published by the exchange (HTTP 404) */
    int64_t requests;        /* HTTP requests made, retries included */
    int64_t retries;         /* requests repeated after 429, 5xx or a stall */
    int64_t bytes;           /* bytes downloaded */
    dl_ingest_result ingest; /* the commit of everything fetched */
} dl_sync_result;

DL_API void dl_sync_options_default(dl_sync_options *opts);

/* Brings the lake up to date with the data.binance.vision layout
** (BASE/data/{spot|futures/um|futures/cm}/{monthly|daily}/{klines/SYM/INTERVAL|
** trades/SYM|aggTrades/SYM}/NAME.zip, each with NAME.zip.CHECKSUM): monthly
** archives for closed months wholly inside the range, daily ones for the
** other days before today; archives whose every day already has a day file
** are not fetched, so a re-run fetches nothing and changes nothing.  Every
** archive's SHA-256 is checked against its CHECKSUM before anything is
** written; everything fetched is ingested in ONE commit (dl_ingest_files),
** so any failure (a checksum mismatch, a 418 ban, retries exhausted) leaves
** the lake unchanged.  HTTP 429 is waited out per Retry-After; 5xx, timeouts
** and stalls are retried with exponential backoff and jitter.  Uses lake as
** dl_ingest_files does (one thread at a time per handle). */
DL_API int dl_sync_binance_archive(dl_lake *lake, const dl_sync_options *opts, dl_sync_result *out,
                                   dl_error *err);

/* ================================================================== */
/* Connector plugins (src/connectors/dl_connector*.c)                  */
/* ================================================================== */

/*
** A connector plugin is a shared object exporting one symbol,
** DL_CONNECTOR_ENTRY_SYMBOL, of type dl_connector_entry_fn.  The host calls
** it once with its host services and gets back a dl_connector (a table of
** callbacks).  Both structs start with abi_version and struct_size; the
** host refuses a plugin whose abi_version differs from DL_CONNECTOR_ABI_VERSION
** or whose struct_size is smaller than the host's sizeof(dl_connector).
** A plugin needs nothing but this header: it links no library symbol, builds
** its batches as borrowed dl_table views (its own memory) and uses the host
** services for logging, the clock, cancellation and HTTP.
** Every callback returns DL_OK or a DL_E* code and on failure writes a
** message (NUL-terminated, truncated to errlen) into errbuf.  Callbacks are
** called on one thread at a time.
*/
#define DL_CONNECTOR_ABI_VERSION  1
#define DL_CONNECTOR_ENTRY_SYMBOL "dl_connector_entry"
#define DL_CONNECTOR_CURSOR_MAX   256
#define DL_CONNECTOR_MAX_KINDS    16

typedef struct dl_connector_host dl_connector_host;

/* Services the host gives a plugin; valid until the plugin's close returns. */
struct dl_connector_host {
    uint32_t abi_version; /* DL_CONNECTOR_ABI_VERSION */
    uint32_t struct_size; /* sizeof(dl_connector_host) of the host */
    void *host_ctx;       /* pass back as the first argument */
    /* one line of progress (no newline); level 0 info, 1 warning */
    void (*log)(void *host_ctx, int level, const char *line);
    int64_t (*now_us)(void *host_ctx); /* wall clock, microseconds since the epoch */
    int (*cancelled)(void *host_ctx);  /* nonzero once the sync is being cancelled */
    /* GET url (http/https only, redirects followed) into a host-allocated
    ** buffer of at most max_bytes (larger bodies fail with DL_ECORRUPT);
    ** *status gets the HTTP status.  Free *body with free_buffer. */
    int (*http_get)(void *host_ctx, const char *url, int64_t max_bytes, char **body,
                    int64_t *body_len, long *status, char *errbuf, size_t errlen);
    void (*free_buffer)(void *host_ctx, void *buffer);
};

/* What a plugin offers: one dataset kind per entry of kinds (e.g. "trades",
** stored as PREFIX/SYMBOL/ticks/KIND); strings owned by the plugin and
** valid until close. */
typedef struct dl_connector_info {
    const char *name;      /* e.g. "proprietary-feed" */
    const char *version;   /* the plugin's own version, e.g. "1.0.0" */
    uint32_t capabilities; /* DL_CONNECTOR_CAP_* bits */
    int num_kinds;
    const char *kinds[DL_CONNECTOR_MAX_KINDS];
} dl_connector_info;

#define DL_CONNECTOR_CAP_LIST_SYMBOLS 1u /* list_symbols works */
#define DL_CONNECTOR_CAP_EARLIEST     2u /* earliest works */
#define DL_CONNECTOR_CAP_RESUME       4u /* fetch honours a cursor */

/* Called by the plugin's fetch for each batch: rows (the plugin's memory,
** borrowed for the call; needs a non-null TIMESTAMP `ts` column) and the
** cursor after them (resume there to continue).  A non-DL_OK return means
** stop: fetch must return it. */
typedef int (*dl_connector_emit_fn)(void *emit_ctx, const dl_table *rows, const char *cursor);

typedef struct dl_connector {
    uint32_t abi_version; /* DL_CONNECTOR_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(dl_connector) the plugin was built with */
    void *self;           /* the plugin's state; first argument of every callback */
    int (*describe)(void *self, dl_connector_info *out, char *errbuf, size_t errlen);
    /* Calls put once per symbol the source offers. */
    int (*list_symbols)(void *self, const char *kind, void (*put)(void *ctx, const char *symbol),
                        void *ctx, char *errbuf, size_t errlen);
    /* Earliest timestamp (us) available for symbol/kind; DL_ENOTFOUND if none. */
    int (*earliest)(void *self, const char *symbol, const char *kind, int64_t *ts_us, char *errbuf,
                    size_t errlen);
    /* Emits every row of symbol/kind with from_us <= ts < to_us, in batches,
    ** starting after cursor ("" = from the start of the range). */
    int (*fetch)(void *self, const char *symbol, const char *kind, int64_t from_us, int64_t to_us,
                 const char *cursor, dl_connector_emit_fn emit, void *emit_ctx, char *errbuf,
                 size_t errlen);
    void (*cancel)(void *self); /* may be called from another thread */
    void (*close)(void *self);  /* frees self; the connector is unusable after */
} dl_connector;

/* The exported entry: fills *out (host is valid until close). options is
** the plugin's option string (may be NULL), e.g. "file=/data/feed.bin". */
typedef int (*dl_connector_entry_fn)(const dl_connector_host *host, const char *options,
                                     dl_connector *out, char *errbuf, size_t errlen);

typedef struct dl_plugin_sync_options {
    const char *plugin;         /* path of the .so; a bare name is looked up in
                                   $DL_PLUGIN_PATH (colon-separated directories) */
    const char *plugin_options; /* passed to the entry (may be NULL) */
    const char *dataset_prefix; /* "EXCHANGE/MARKET" of the datasets written
                                   (PREFIX/SYMBOL/ticks/KIND); default NAME/FEED
                                   with the plugin's name */
    const char *kind;           /* default: the plugin's first kind */
    const char *const *symbols;
    int num_symbols;
    int64_t from_day, to_day;   /* UTC days, [from_day, to_day) */
    const volatile int *cancel; /* nonzero (set from any thread or a signal
                                   handler) stops the sync, nothing written; may be NULL */
    dl_sync_log_fn log;         /* may be NULL */
    void *log_ctx;
} dl_plugin_sync_options;

typedef struct dl_plugin_sync_result {
    char plugin_name[64], plugin_version[32];
    int64_t symbols_skipped; /* every day of the range already in the lake */
    int64_t batches, rows;   /* emitted by the plugin */
    dl_lake_write_result write;
} dl_plugin_sync_result;

/* Loads the plugin, checks its ABI, and for each symbol not already covered
** (a day file for every day of the range) fetches [from_day, to_day) and
** writes every batch through ONE lake transaction: any failure leaves the
** lake unchanged.  Unloads the plugin before returning.  Uses lake as
** dl_lake_txn_begin..commit do (one thread at a time per handle). */
DL_API int dl_sync_plugin(dl_lake *lake, const dl_plugin_sync_options *opts,
                          dl_plugin_sync_result *out, dl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* DATALAKE_H */
