/*
** pq_meta.h -- Parquet footer and page metadata as plain C structs, with
** Thrift Compact Protocol decoders and encoders for them.
**
** Decoders treat their input as hostile: every length and count is checked
** against the bytes that remain, nesting depth is bounded, unknown fields
** are skipped, and failures return DL_ECORRUPT with the byte offset in the
** message.  Decoded strings are copied into the caller's arena (NUL
** terminated); dl_pq_bytes views (statistics values) point INTO the input
** buffer, which must outlive the decoded struct.
*/
#ifndef PQ_META_H
#define PQ_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "../util/dl_buf.h"

/* parquet.thrift enums (values as on disk) */
enum {
    DL_PQ_BOOLEAN = 0,
    DL_PQ_INT32 = 1,
    DL_PQ_INT64 = 2,
    DL_PQ_INT96 = 3,
    DL_PQ_FLOAT = 4,
    DL_PQ_DOUBLE = 5,
    DL_PQ_BYTE_ARRAY = 6,
    DL_PQ_FIXED_LEN_BYTE_ARRAY = 7
};
enum { DL_PQ_REQUIRED = 0, DL_PQ_OPTIONAL = 1, DL_PQ_REPEATED = 2 };
enum {
    DL_PQ_ENC_PLAIN = 0,
    DL_PQ_ENC_PLAIN_DICTIONARY = 2,
    DL_PQ_ENC_RLE = 3,
    DL_PQ_ENC_BIT_PACKED = 4,
    DL_PQ_ENC_DELTA_BINARY_PACKED = 5,
    DL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    DL_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    DL_PQ_ENC_RLE_DICTIONARY = 8,
    DL_PQ_ENC_BYTE_STREAM_SPLIT = 9
};
enum {
    DL_PQ_PAGE_DATA = 0,
    DL_PQ_PAGE_INDEX = 1,
    DL_PQ_PAGE_DICTIONARY = 2,
    DL_PQ_PAGE_DATA_V2 = 3
};
/* ConvertedType values we care about */
enum {
    DL_PQ_CT_UTF8 = 0,
    DL_PQ_CT_ENUM = 4,
    DL_PQ_CT_DECIMAL = 5,
    DL_PQ_CT_DATE = 6,
    DL_PQ_CT_TIME_MILLIS = 7,
    DL_PQ_CT_TIME_MICROS = 8,
    DL_PQ_CT_TIMESTAMP_MILLIS = 9,
    DL_PQ_CT_TIMESTAMP_MICROS = 10,
    DL_PQ_CT_UINT_8 = 11,
    DL_PQ_CT_UINT_16 = 12,
    DL_PQ_CT_UINT_32 = 13,
    DL_PQ_CT_UINT_64 = 14,
    DL_PQ_CT_INT_8 = 15,
    DL_PQ_CT_INT_16 = 16,
    DL_PQ_CT_INT_32 = 17,
    DL_PQ_CT_INT_64 = 18,
    DL_PQ_CT_JSON = 19
};
/* LogicalType union member = its thrift field id; 0 = absent */
enum {
    DL_PQ_LT_NONE = 0,
    DL_PQ_LT_STRING = 1,
    DL_PQ_LT_MAP = 2,
    DL_PQ_LT_LIST = 3,
    DL_PQ_LT_ENUM = 4,
    DL_PQ_LT_DECIMAL = 5,
    DL_PQ_LT_DATE = 6,
    DL_PQ_LT_TIME = 7,
    DL_PQ_LT_TIMESTAMP = 8,
    DL_PQ_LT_INTEGER = 10,
    DL_PQ_LT_UNKNOWN = 11,
    DL_PQ_LT_JSON = 12,
    DL_PQ_LT_BSON = 13,
    DL_PQ_LT_UUID = 14,
    DL_PQ_LT_FLOAT16 = 15
};
/* TimeUnit union member = field id */
enum { DL_PQ_UNIT_MILLIS = 1, DL_PQ_UNIT_MICROS = 2, DL_PQ_UNIT_NANOS = 3 };
/* ColumnOrder union member = field id; 0 = unknown member */
enum { DL_PQ_ORDER_UNKNOWN = 0, DL_PQ_ORDER_TYPE = 1, DL_PQ_ORDER_IEEE754 = 2 };
enum { DL_PQ_BOUNDARY_UNORDERED = 0, DL_PQ_BOUNDARY_ASCENDING = 1, DL_PQ_BOUNDARY_DESCENDING = 2 };

typedef struct dl_pq_bytes {
    const uint8_t *ptr; /* view into the decoded buffer (decode) / caller memory (encode) */
    uint32_t len;
} dl_pq_bytes;

typedef struct dl_pq_logical_type {
    int kind;      /* DL_PQ_LT_* */
    bool utc;      /* TIME / TIMESTAMP isAdjustedToUTC */
    int unit;      /* TIME / TIMESTAMP: DL_PQ_UNIT_* */
    int32_t scale; /* DECIMAL */
    int32_t precision;
    int bit_width;  /* INTEGER */
    bool is_signed; /* INTEGER */
} dl_pq_logical_type;

typedef struct dl_pq_schema_element {
    const char *name; /* arena */
    bool has_type;
    int32_t type;
    bool has_type_length;
    int32_t type_length;
    bool has_repetition;
    int32_t repetition;
    bool has_num_children;
    int32_t num_children;
    bool has_converted_type;
    int32_t converted_type;
    bool has_scale;
    int32_t scale;
    bool has_precision;
    int32_t precision;
    bool has_field_id;
    int32_t field_id;
    dl_pq_logical_type logical; /* kind == DL_PQ_LT_NONE when absent */
} dl_pq_schema_element;

typedef struct dl_pq_statistics {
    bool has_max, has_min, has_null_count, has_distinct_count;
    bool has_max_value, has_min_value, has_nan_count;
    bool has_is_max_value_exact, has_is_min_value_exact;
    dl_pq_bytes max, min;                        /* deprecated fields 1, 2 */
    int64_t null_count;                          /* 3 */
    int64_t distinct_count;                      /* 4 */
    dl_pq_bytes max_value, min_value;            /* 5, 6 */
    bool is_max_value_exact, is_min_value_exact; /* 7, 8 */
    int64_t nan_count;                           /* 9 */
} dl_pq_statistics;

typedef struct dl_pq_kv {
    const char *key;   /* arena */
    const char *value; /* arena, NULL when absent */
} dl_pq_kv;

typedef struct dl_pq_page_encoding_stats {
    int32_t page_type, encoding, count;
} dl_pq_page_encoding_stats;

/* fields in parquet.thrift's order; one per column chunk, so padding does not matter */
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
typedef struct dl_pq_column_meta {
    int32_t type;
    int32_t *encodings; /* arena */
    int num_encodings;
    const char **path_in_schema; /* arena */
    int path_len;
    int32_t codec;
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    dl_pq_kv *kv; /* arena */
    int num_kv;
    int64_t data_page_offset;
    bool has_index_page_offset;
    int64_t index_page_offset;
    bool has_dictionary_page_offset;
    int64_t dictionary_page_offset;
    bool has_statistics;
    dl_pq_statistics statistics;
    dl_pq_page_encoding_stats *encoding_stats; /* arena */
    int num_encoding_stats;
    bool has_bloom_filter;
    int64_t bloom_filter_offset;
    int32_t bloom_filter_length; /* 0 when absent */
} dl_pq_column_meta;

typedef struct dl_pq_column_chunk {
    const char *file_path; /* arena, NULL when absent */
    int64_t file_offset;
    bool has_meta_data;
    dl_pq_column_meta meta;
    bool has_offset_index;
    int64_t offset_index_offset;
    int32_t offset_index_length;
    bool has_column_index;
    int64_t column_index_offset;
    int32_t column_index_length;
    bool encrypted; /* crypto_metadata or encrypted_column_metadata present */
} dl_pq_column_chunk;

typedef struct dl_pq_sorting_column {
    int32_t column_idx;
    bool descending, nulls_first;
} dl_pq_sorting_column;

typedef struct dl_pq_row_group {
    dl_pq_column_chunk *columns; /* arena */
    int num_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    dl_pq_sorting_column *sorting_columns; /* arena */
    int num_sorting_columns;
    bool has_file_offset;
    int64_t file_offset;
    bool has_total_compressed_size;
    int64_t total_compressed_size;
    bool has_ordinal;
    int16_t ordinal;
} dl_pq_row_group;

typedef struct dl_pq_file_meta {
    int32_t version;
    dl_pq_schema_element *schema; /* arena; depth-first, root first */
    int num_schema;
    int64_t num_rows;
    dl_pq_row_group *row_groups; /* arena */
    int num_row_groups;
    dl_pq_kv *kv; /* arena */
    int num_kv;
    const char *created_by; /* arena, NULL when absent */
    int32_t *column_orders; /* arena; DL_PQ_ORDER_* per leaf */
    int num_column_orders;  /* 0 when absent */
    bool encrypted;         /* encryption_algorithm present */
} dl_pq_file_meta;

typedef struct dl_pq_data_page_header {
    int32_t num_values, encoding, definition_level_encoding, repetition_level_encoding;
    bool has_statistics;
    dl_pq_statistics statistics;
} dl_pq_data_page_header;

typedef struct dl_pq_dictionary_page_header {
    int32_t num_values, encoding;
    bool has_is_sorted;
    bool is_sorted;
} dl_pq_dictionary_page_header;

typedef struct dl_pq_data_page_header_v2 {
    int32_t num_values, num_nulls, num_rows, encoding;
    int32_t definition_levels_byte_length, repetition_levels_byte_length;
    bool is_compressed; /* default true when absent */
    bool has_statistics;
    dl_pq_statistics statistics;
} dl_pq_data_page_header_v2;

typedef struct dl_pq_page_header {
    int32_t type;
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    bool has_crc;
    int32_t crc;
    bool has_data_page;
    dl_pq_data_page_header data_page;
    bool has_dictionary_page;
    dl_pq_dictionary_page_header dictionary_page;
    bool has_data_page_v2;
    dl_pq_data_page_header_v2 data_page_v2;
} dl_pq_page_header;

typedef struct dl_pq_page_location {
    int64_t offset;
    int32_t compressed_page_size; /* includes the page header */
    int64_t first_row_index;
} dl_pq_page_location;

typedef struct dl_pq_offset_index {
    dl_pq_page_location *pages; /* arena */
    int num_pages;
} dl_pq_offset_index;

typedef struct dl_pq_column_index {
    bool *null_pages; /* arena */
    int num_pages;
    dl_pq_bytes *min_values; /* arena array of views */
    dl_pq_bytes *max_values;
    int32_t boundary_order;
    bool has_null_counts;
    int64_t *null_counts; /* arena */
} dl_pq_column_index;

/* ---- decoding (hostile input) ---- */

/* Decodes a FileMetaData of exactly `len` bytes. */
int dl_pq_decode_file_meta(const uint8_t *buf, size_t len, dl_arena *arena, dl_pq_file_meta *out,
                           dl_error *err);
/* Decodes a PageHeader at the start of buf (at most len bytes) and sets
** *header_len to the bytes it used.  Needs no arena. */
int dl_pq_decode_page_header(const uint8_t *buf, size_t len, dl_pq_page_header *out,
                             size_t *header_len, dl_error *err);
int dl_pq_decode_offset_index(const uint8_t *buf, size_t len, dl_arena *arena,
                              dl_pq_offset_index *out, dl_error *err);
int dl_pq_decode_column_index(const uint8_t *buf, size_t len, dl_arena *arena,
                              dl_pq_column_index *out, dl_error *err);

/* ---- encoding (append to out) ---- */

int dl_pq_encode_file_meta(const dl_pq_file_meta *m, dl_buf *out, dl_error *err);
int dl_pq_encode_page_header(const dl_pq_page_header *h, dl_buf *out, dl_error *err);
int dl_pq_encode_offset_index(const dl_pq_offset_index *oi, dl_buf *out, dl_error *err);
int dl_pq_encode_column_index(const dl_pq_column_index *ci, dl_buf *out, dl_error *err);

/* FileMetaData.created_by of the files dl writes: the writer's format, not
** the dl release, so that a new release writes the very same bytes for the
** same data and options (the golden-file tests pin them).  Bump the format
** when the writer's output changes on purpose, and regenerate the golden
** files (docs/lake.md, "Byte stability"). */
#define DL_PQ_WRITER_FORMAT "1"
#define DL_PQ_CREATED_BY    "dl-datalake parquet writer format " DL_PQ_WRITER_FORMAT
/* Test hook: when non-NULL, written instead of DL_PQ_CREATED_BY (simulates
** another writer release).  Set it only while no writer runs. */
extern const char *dl_pq_test_created_by;

/* The page checksum of PageHeader.crc: CRC-32 (the gzip/zlib polynomial) of
** the page bytes exactly as stored after the header -- compressed_page_size
** bytes: for v1 the compressed levels+values, for v2 the raw levels followed
** by the (possibly) compressed values, for dictionary pages the compressed
** dictionary.  (pq_crc32.c) */
uint32_t dl_pq_page_crc(const uint8_t *page, size_t len);
/* zlib's crc32(crc, p, len); allow_simd = false forces the portable path
** (the tests compare the two). */
uint32_t dl_pq_crc32_update(uint32_t crc, const uint8_t *p, size_t len, bool allow_simd);

/* Names for display ("INT64", "RLE_DICTIONARY", "DATA_PAGE_V2"); "UNKNOWN(n)" never:
** unknown values give "?" */
const char *dl_pq_type_name(int32_t type);
const char *dl_pq_encoding_name(int32_t encoding);

#endif /* PQ_META_H */
