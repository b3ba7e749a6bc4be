/*
** pq_meta.c -- Parquet FileMetaData, PageHeader, OffsetIndex and ColumnIndex
** decoders and encoders over the Thrift Compact Protocol (pq_thrift.h).
** Field ids follow parquet.thrift (parquet-format-notes.md §1.3).
**
** Decoding is wire-level: each struct decoder checks wire types, skips
** unknown fields (future ids, 32767 extensions), fails on missing required
** fields and copies strings into the arena; statistics and page-index
** values stay views into the input.  Every list is bounded by the bytes
** that remain and each element consumes at least one byte, so arena use is
** O(input size).  Semantic checks (offsets inside the file, schema shape)
** are left to the reader, except for negative page sizes.
**
** Encoding writes required fields always and optional ones when their
** has_* flag (or a non-empty list / non-NULL string) says so, in field-id
** order as the reference Thrift writers do.
*/
#include <string.h>

#include "parquet/pq_meta.h"
#include "parquet/pq_thrift.h"
#include "util/dl_internal.h"

/* ======================================================================
** Decoding helpers
** ==================================================================== */

typedef struct decoder {
    dl_tc_reader r;
    dl_arena *arena; /* NULL for page headers, which need no allocation */
} decoder;

static int alloc_array(decoder *d, int32_t count, size_t elem_size, const char *what, void **out) {
    *out = NULL;
    if (count == 0) return DL_OK;
    *out = dl_arena_calloc(d->arena, (size_t)count, elem_size);
    if (!*out)
        return dl_tc_fail(&d->r, DL_ENOMEM, "arena limit reached allocating %d %s", count, what);
    return DL_OK;
}

/* A string field copied into the arena and NUL-terminated. */
static int read_string(decoder *d, uint8_t wire_type, const char **out) {
    const uint8_t *ptr;
    uint32_t len;
    int rc = dl_tc_read_binary(&d->r, wire_type, &ptr, &len);
    if (rc != DL_OK) return rc;
    *out = dl_arena_strndup(d->arena, (const char *)ptr, len);
    if (!*out)
        return dl_tc_fail(&d->r, DL_ENOMEM, "arena limit reached copying a %u-byte string", len);
    return DL_OK;
}

static int read_bytes(dl_tc_reader *r, uint8_t wire_type, dl_pq_bytes *out) {
    return dl_tc_read_binary(r, wire_type, &out->ptr, &out->len);
}

/* Reads a list<elem_type> header and allocates `count` elements of elem_size. */
static int read_list_alloc(decoder *d, uint8_t wire_type, uint8_t elem_type, size_t elem_size,
                           const char *what, void **out, int *count) {
    int32_t n;
    int rc = dl_tc_read_list_header(&d->r, wire_type, elem_type, &n);
    if (rc == DL_OK) rc = alloc_array(d, n, elem_size, what, out);
    if (rc == DL_OK) *count = n;
    return rc;
}

/* A union whose members are all empty structs (TimeUnit, ColumnOrder):
** *member = the id of its one member, 0 when it has none. */
static int decode_member_union(dl_tc_reader *r, uint8_t wire_type, const char *name,
                               int16_t *member) {
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    *member = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, name));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        if (*member != 0)
            DL_TRY(dl_tc_fail(r, DL_ECORRUPT, "union has two members (%d and %d)", *member, id));
        if (id < 1) DL_TRY(dl_tc_fail(r, DL_ECORRUPT, "invalid union member id %d", id));
        if (t != DL_TC_STRUCT)
            DL_TRY(dl_tc_fail(r, DL_ECORRUPT, "union member %d is not a struct", id));
        DL_TRY(dl_tc_skip(r, t)); /* members are empty structs; skip future fields */
        *member = id;
    }
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

/* ======================================================================
** Struct decoders
** ==================================================================== */

static int decode_statistics(dl_tc_reader *r, uint8_t wire_type, dl_pq_statistics *s) {
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    memset(s, 0, sizeof *s);
    DL_TRY(dl_tc_struct_begin(r, wire_type, "Statistics"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        switch (id) {
        case 1:
            rc = read_bytes(r, t, &s->max);
            s->has_max = true;
            break;
        case 2:
            rc = read_bytes(r, t, &s->min);
            s->has_min = true;
            break;
        case 3:
            rc = dl_tc_read_i64(r, t, &s->null_count);
            s->has_null_count = true;
            break;
        case 4:
            rc = dl_tc_read_i64(r, t, &s->distinct_count);
            s->has_distinct_count = true;
            break;
        case 5:
            rc = read_bytes(r, t, &s->max_value);
            s->has_max_value = true;
            break;
        case 6:
            rc = read_bytes(r, t, &s->min_value);
            s->has_min_value = true;
            break;
        case 7:
            rc = dl_tc_read_bool(r, t, &s->is_max_value_exact);
            s->has_is_max_value_exact = true;
            break;
        case 8:
            rc = dl_tc_read_bool(r, t, &s->is_min_value_exact);
            s->has_is_min_value_exact = true;
            break;
        case 9:
            rc = dl_tc_read_i64(r, t, &s->nan_count);
            s->has_nan_count = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

/* TimeType / TimestampType: {1: isAdjustedToUTC bool, 2: unit TimeUnit}. */
static int decode_time_type(dl_tc_reader *r, uint8_t wire_type, const char *name,
                            dl_pq_logical_type *lt) {
    static const dl_tc_field_name required[] = {{1, "isAdjustedToUTC"}, {2, "unit"}};
    int rc = DL_OK;
    int16_t id, unit;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, name));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_bool(r, t, &lt->utc);
            break;
        case 2:
            rc = decode_member_union(r, t, "TimeUnit", &unit);
            if (rc == DL_OK && unit == 0)
                rc = dl_tc_fail(r, DL_ECORRUPT, "TimeUnit union has no member");
            lt->unit = unit;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 2));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_decimal_type(dl_tc_reader *r, uint8_t wire_type, dl_pq_logical_type *lt) {
    static const dl_tc_field_name required[] = {{1, "scale"}, {2, "precision"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, "DecimalType"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &lt->scale);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &lt->precision);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 2));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_int_type(dl_tc_reader *r, uint8_t wire_type, dl_pq_logical_type *lt) {
    static const dl_tc_field_name required[] = {{1, "bitWidth"}, {2, "isSigned"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    int8_t bit_width;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, "IntType"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i8(r, t, &bit_width);
            lt->bit_width = bit_width;
            break;
        case 2:
            rc = dl_tc_read_bool(r, t, &lt->is_signed);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 2));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

/* LogicalType union: kind = the member's field id (unknown members too, so
** a reader can say which logical type it does not support). */
static int decode_logical_type(dl_tc_reader *r, uint8_t wire_type, dl_pq_logical_type *lt) {
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    memset(lt, 0, sizeof *lt);
    DL_TRY(dl_tc_struct_begin(r, wire_type, "LogicalType"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        if (lt->kind != DL_PQ_LT_NONE)
            DL_TRY(dl_tc_fail(r, DL_ECORRUPT, "union has two members (%d and %d)", lt->kind, id));
        if (id < 1) DL_TRY(dl_tc_fail(r, DL_ECORRUPT, "invalid union member id %d", id));
        switch (id) {
        case DL_PQ_LT_DECIMAL:
            rc = decode_decimal_type(r, t, lt);
            break;
        case DL_PQ_LT_TIME:
            rc = decode_time_type(r, t, "TimeType", lt);
            break;
        case DL_PQ_LT_TIMESTAMP:
            rc = decode_time_type(r, t, "TimestampType", lt);
            break;
        case DL_PQ_LT_INTEGER:
            rc = decode_int_type(r, t, lt);
            break;
        default: /* parameterless member (STRING, DATE, ...) or one we do not know */
            rc = t == DL_TC_STRUCT
                     ? dl_tc_skip(r, t)
                     : dl_tc_fail(r, DL_ECORRUPT, "union member %d is not a struct", id);
            break;
        }
        if (rc != DL_OK) goto cleanup;
        lt->kind = id;
    }
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_schema_element(decoder *d, dl_pq_schema_element *e) {
    static const dl_tc_field_name required[] = {{4, "name"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "SchemaElement"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &e->type);
            e->has_type = true;
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &e->type_length);
            e->has_type_length = true;
            break;
        case 3:
            rc = dl_tc_read_i32(r, t, &e->repetition);
            e->has_repetition = true;
            break;
        case 4:
            rc = read_string(d, t, &e->name);
            break;
        case 5:
            rc = dl_tc_read_i32(r, t, &e->num_children);
            e->has_num_children = true;
            break;
        case 6:
            rc = dl_tc_read_i32(r, t, &e->converted_type);
            e->has_converted_type = true;
            break;
        case 7:
            rc = dl_tc_read_i32(r, t, &e->scale);
            e->has_scale = true;
            break;
        case 8:
            rc = dl_tc_read_i32(r, t, &e->precision);
            e->has_precision = true;
            break;
        case 9:
            rc = dl_tc_read_i32(r, t, &e->field_id);
            e->has_field_id = true;
            break;
        case 10:
            rc = decode_logical_type(r, t, &e->logical);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 1));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_key_value(decoder *d, dl_pq_kv *kv) {
    static const dl_tc_field_name required[] = {{1, "key"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "KeyValue"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = read_string(d, t, &kv->key);
            break;
        case 2:
            rc = read_string(d, t, &kv->value);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 1));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_kv_list(decoder *d, uint8_t wire_type, dl_pq_kv **kv, int *num_kv) {
    int rc = read_list_alloc(d, wire_type, DL_TC_STRUCT, sizeof **kv, "key/value pairs",
                             (void **)kv, num_kv);
    for (int i = 0; rc == DL_OK && i < *num_kv; i++) rc = decode_key_value(d, &(*kv)[i]);
    return rc;
}

static int decode_encoding_stats(dl_tc_reader *r, dl_pq_page_encoding_stats *s) {
    static const dl_tc_field_name required[] = {{1, "page_type"}, {2, "encoding"}, {3, "count"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "PageEncodingStats"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &s->page_type);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &s->encoding);
            break;
        case 3:
            rc = dl_tc_read_i32(r, t, &s->count);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 3));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_column_meta(decoder *d, uint8_t wire_type, dl_pq_column_meta *m) {
    static const dl_tc_field_name required[] = {{1, "type"},
                                                {2, "encodings"},
                                                {3, "path_in_schema"},
                                                {4, "codec"},
                                                {5, "num_values"},
                                                {6, "total_uncompressed_size"},
                                                {7, "total_compressed_size"},
                                                {9, "data_page_offset"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, "ColumnMetaData"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &m->type);
            break;
        case 2:
            rc = read_list_alloc(d, t, DL_TC_I32, sizeof *m->encodings, "encodings",
                                 (void **)&m->encodings, &m->num_encodings);
            for (int i = 0; rc == DL_OK && i < m->num_encodings; i++)
                rc = dl_tc_read_i32(r, DL_TC_I32, &m->encodings[i]);
            break;
        case 3:
            rc = read_list_alloc(d, t, DL_TC_BINARY, sizeof *m->path_in_schema,
                                 "path_in_schema entries", (void **)&m->path_in_schema,
                                 &m->path_len);
            for (int i = 0; rc == DL_OK && i < m->path_len; i++)
                rc = read_string(d, DL_TC_BINARY, &m->path_in_schema[i]);
            break;
        case 4:
            rc = dl_tc_read_i32(r, t, &m->codec);
            break;
        case 5:
            rc = dl_tc_read_i64(r, t, &m->num_values);
            break;
        case 6:
            rc = dl_tc_read_i64(r, t, &m->total_uncompressed_size);
            break;
        case 7:
            rc = dl_tc_read_i64(r, t, &m->total_compressed_size);
            break;
        case 8:
            rc = decode_kv_list(d, t, &m->kv, &m->num_kv);
            break;
        case 9:
            rc = dl_tc_read_i64(r, t, &m->data_page_offset);
            break;
        case 10:
            rc = dl_tc_read_i64(r, t, &m->index_page_offset);
            m->has_index_page_offset = true;
            break;
        case 11:
            rc = dl_tc_read_i64(r, t, &m->dictionary_page_offset);
            m->has_dictionary_page_offset = true;
            break;
        case 12:
            rc = decode_statistics(r, t, &m->statistics);
            m->has_statistics = true;
            break;
        case 13:
            rc = read_list_alloc(d, t, DL_TC_STRUCT, sizeof *m->encoding_stats,
                                 "encoding_stats entries", (void **)&m->encoding_stats,
                                 &m->num_encoding_stats);
            for (int i = 0; rc == DL_OK && i < m->num_encoding_stats; i++)
                rc = decode_encoding_stats(r, &m->encoding_stats[i]);
            break;
        case 14:
            rc = dl_tc_read_i64(r, t, &m->bloom_filter_offset);
            m->has_bloom_filter = true;
            break;
        case 15:
            rc = dl_tc_read_i32(r, t, &m->bloom_filter_length);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, sizeof required / sizeof required[0]));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_column_chunk(decoder *d, dl_pq_column_chunk *c) {
    static const dl_tc_field_name required[] = {{2, "file_offset"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "ColumnChunk"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = read_string(d, t, &c->file_path);
            break;
        case 2:
            rc = dl_tc_read_i64(r, t, &c->file_offset);
            break;
        case 3:
            rc = decode_column_meta(d, t, &c->meta);
            c->has_meta_data = true;
            break;
        case 4:
            rc = dl_tc_read_i64(r, t, &c->offset_index_offset);
            break;
        case 5:
            rc = dl_tc_read_i32(r, t, &c->offset_index_length);
            break;
        case 6:
            rc = dl_tc_read_i64(r, t, &c->column_index_offset);
            break;
        case 7:
            rc = dl_tc_read_i32(r, t, &c->column_index_length);
            break;
        case 8: /* crypto_metadata */
        case 9: /* encrypted_column_metadata */
            c->encrypted = true;
            rc = dl_tc_skip(r, t);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 1));
    /* An offset without its length (or the reverse) cannot be used. */
    c->has_offset_index = (seen & dl_tc_seen_bit(4)) && (seen & dl_tc_seen_bit(5));
    c->has_column_index = (seen & dl_tc_seen_bit(6)) && (seen & dl_tc_seen_bit(7));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_sorting_column(dl_tc_reader *r, dl_pq_sorting_column *s) {
    static const dl_tc_field_name required[] = {
        {1, "column_idx"}, {2, "descending"}, {3, "nulls_first"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "SortingColumn"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &s->column_idx);
            break;
        case 2:
            rc = dl_tc_read_bool(r, t, &s->descending);
            break;
        case 3:
            rc = dl_tc_read_bool(r, t, &s->nulls_first);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 3));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_row_group(decoder *d, dl_pq_row_group *g) {
    static const dl_tc_field_name required[] = {
        {1, "columns"}, {2, "total_byte_size"}, {3, "num_rows"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "RowGroup"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = read_list_alloc(d, t, DL_TC_STRUCT, sizeof *g->columns, "column chunks",
                                 (void **)&g->columns, &g->num_columns);
            for (int i = 0; rc == DL_OK && i < g->num_columns; i++)
                rc = decode_column_chunk(d, &g->columns[i]);
            break;
        case 2:
            rc = dl_tc_read_i64(r, t, &g->total_byte_size);
            break;
        case 3:
            rc = dl_tc_read_i64(r, t, &g->num_rows);
            break;
        case 4:
            rc = read_list_alloc(d, t, DL_TC_STRUCT, sizeof *g->sorting_columns, "sorting columns",
                                 (void **)&g->sorting_columns, &g->num_sorting_columns);
            for (int i = 0; rc == DL_OK && i < g->num_sorting_columns; i++)
                rc = decode_sorting_column(r, &g->sorting_columns[i]);
            break;
        case 5:
            rc = dl_tc_read_i64(r, t, &g->file_offset);
            g->has_file_offset = true;
            break;
        case 6:
            rc = dl_tc_read_i64(r, t, &g->total_compressed_size);
            g->has_total_compressed_size = true;
            break;
        case 7:
            rc = dl_tc_read_i16(r, t, &g->ordinal);
            g->has_ordinal = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 3));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_column_orders(decoder *d, uint8_t wire_type, dl_pq_file_meta *m) {
    int rc = read_list_alloc(d, wire_type, DL_TC_STRUCT, sizeof *m->column_orders, "column orders",
                             (void **)&m->column_orders, &m->num_column_orders);
    for (int i = 0; rc == DL_OK && i < m->num_column_orders; i++) {
        int16_t member;
        rc = decode_member_union(&d->r, DL_TC_STRUCT, "ColumnOrder", &member);
        m->column_orders[i] = member == DL_PQ_ORDER_TYPE || member == DL_PQ_ORDER_IEEE754
                                  ? member
                                  : DL_PQ_ORDER_UNKNOWN;
    }
    return rc;
}

static int decode_file_meta_struct(decoder *d, dl_pq_file_meta *m) {
    static const dl_tc_field_name required[] = {
        {1, "version"}, {2, "schema"}, {3, "num_rows"}, {4, "row_groups"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "FileMetaData"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &m->version);
            break;
        case 2:
            rc = read_list_alloc(d, t, DL_TC_STRUCT, sizeof *m->schema, "schema elements",
                                 (void **)&m->schema, &m->num_schema);
            for (int i = 0; rc == DL_OK && i < m->num_schema; i++)
                rc = decode_schema_element(d, &m->schema[i]);
            break;
        case 3:
            rc = dl_tc_read_i64(r, t, &m->num_rows);
            break;
        case 4:
            rc = read_list_alloc(d, t, DL_TC_STRUCT, sizeof *m->row_groups, "row groups",
                                 (void **)&m->row_groups, &m->num_row_groups);
            for (int i = 0; rc == DL_OK && i < m->num_row_groups; i++)
                rc = decode_row_group(d, &m->row_groups[i]);
            break;
        case 5:
            rc = decode_kv_list(d, t, &m->kv, &m->num_kv);
            break;
        case 6:
            rc = read_string(d, t, &m->created_by);
            break;
        case 7:
            rc = decode_column_orders(d, t, m);
            break;
        case 8: /* encryption_algorithm */
            m->encrypted = true;
            rc = dl_tc_skip(r, t);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 4));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_data_page_header(dl_tc_reader *r, uint8_t wire_type, dl_pq_data_page_header *h) {
    static const dl_tc_field_name required[] = {{1, "num_values"},
                                                {2, "encoding"},
                                                {3, "definition_level_encoding"},
                                                {4, "repetition_level_encoding"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, "DataPageHeader"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &h->num_values);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &h->encoding);
            break;
        case 3:
            rc = dl_tc_read_i32(r, t, &h->definition_level_encoding);
            break;
        case 4:
            rc = dl_tc_read_i32(r, t, &h->repetition_level_encoding);
            break;
        case 5:
            rc = decode_statistics(r, t, &h->statistics);
            h->has_statistics = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 4));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_dictionary_page_header(dl_tc_reader *r, uint8_t wire_type,
                                         dl_pq_dictionary_page_header *h) {
    static const dl_tc_field_name required[] = {{1, "num_values"}, {2, "encoding"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, wire_type, "DictionaryPageHeader"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &h->num_values);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &h->encoding);
            break;
        case 3:
            rc = dl_tc_read_bool(r, t, &h->is_sorted);
            h->has_is_sorted = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 2));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_data_page_header_v2(dl_tc_reader *r, uint8_t wire_type,
                                      dl_pq_data_page_header_v2 *h) {
    static const dl_tc_field_name required[] = {{1, "num_values"},
                                                {2, "num_nulls"},
                                                {3, "num_rows"},
                                                {4, "encoding"},
                                                {5, "definition_levels_byte_length"},
                                                {6, "repetition_levels_byte_length"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    h->is_compressed = true; /* the thrift default */
    DL_TRY(dl_tc_struct_begin(r, wire_type, "DataPageHeaderV2"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &h->num_values);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &h->num_nulls);
            break;
        case 3:
            rc = dl_tc_read_i32(r, t, &h->num_rows);
            break;
        case 4:
            rc = dl_tc_read_i32(r, t, &h->encoding);
            break;
        case 5:
            rc = dl_tc_read_i32(r, t, &h->definition_levels_byte_length);
            break;
        case 6:
            rc = dl_tc_read_i32(r, t, &h->repetition_levels_byte_length);
            break;
        case 7:
            rc = dl_tc_read_bool(r, t, &h->is_compressed);
            break;
        case 8:
            rc = decode_statistics(r, t, &h->statistics);
            h->has_statistics = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 6));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_page_header_struct(dl_tc_reader *r, dl_pq_page_header *h) {
    static const dl_tc_field_name required[] = {
        {1, "type"}, {2, "uncompressed_page_size"}, {3, "compressed_page_size"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "PageHeader"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i32(r, t, &h->type);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &h->uncompressed_page_size);
            break;
        case 3:
            rc = dl_tc_read_i32(r, t, &h->compressed_page_size);
            break;
        case 4:
            rc = dl_tc_read_i32(r, t, &h->crc);
            h->has_crc = true;
            break;
        case 5:
            rc = decode_data_page_header(r, t, &h->data_page);
            h->has_data_page = true;
            break;
        case 7:
            rc = decode_dictionary_page_header(r, t, &h->dictionary_page);
            h->has_dictionary_page = true;
            break;
        case 8:
            rc = decode_data_page_header_v2(r, t, &h->data_page_v2);
            h->has_data_page_v2 = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break; /* 6: index_page_header (unused) */
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 3));
    if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
        DL_TRY(dl_tc_fail(r, DL_ECORRUPT, "negative page size (uncompressed %d, compressed %d)",
                          h->uncompressed_page_size, h->compressed_page_size));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_page_location(dl_tc_reader *r, dl_pq_page_location *loc) {
    static const dl_tc_field_name required[] = {
        {1, "offset"}, {2, "compressed_page_size"}, {3, "first_row_index"}};
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "PageLocation"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = dl_tc_read_i64(r, t, &loc->offset);
            break;
        case 2:
            rc = dl_tc_read_i32(r, t, &loc->compressed_page_size);
            break;
        case 3:
            rc = dl_tc_read_i64(r, t, &loc->first_row_index);
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 3));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

static int decode_offset_index_struct(decoder *d, dl_pq_offset_index *oi) {
    static const dl_tc_field_name required[] = {{1, "page_locations"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "OffsetIndex"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        if (id == 1) {
            rc = read_list_alloc(d, t, DL_TC_STRUCT, sizeof *oi->pages, "page locations",
                                 (void **)&oi->pages, &oi->num_pages);
            for (int i = 0; rc == DL_OK && i < oi->num_pages; i++)
                rc = decode_page_location(r, &oi->pages[i]);
        } else { /* 2: unencoded_byte_array_data_bytes, not needed */
            rc = dl_tc_skip(r, t);
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 1));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

/* list<binary> of page-index bounds, as views into the input. */
static int decode_bytes_list(decoder *d, uint8_t wire_type, const char *what, dl_pq_bytes **out,
                             int *count) {
    int rc = read_list_alloc(d, wire_type, DL_TC_BINARY, sizeof **out, what, (void **)out, count);
    for (int i = 0; rc == DL_OK && i < *count; i++)
        rc = read_bytes(&d->r, DL_TC_BINARY, &(*out)[i]);
    return rc;
}

static int decode_column_index_struct(decoder *d, dl_pq_column_index *ci) {
    static const dl_tc_field_name required[] = {
        {1, "null_pages"}, {2, "min_values"}, {3, "max_values"}, {4, "boundary_order"}};
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    int num_min = 0, num_max = 0, num_null_counts = 0;
    DL_TRY(dl_tc_struct_begin(r, DL_TC_STRUCT, "ColumnIndex"));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        switch (id) {
        case 1:
            rc = read_list_alloc(d, t, DL_TC_TRUE, sizeof *ci->null_pages, "null_pages entries",
                                 (void **)&ci->null_pages, &ci->num_pages);
            for (int i = 0; rc == DL_OK && i < ci->num_pages; i++)
                rc = dl_tc_read_bool_elem(r, &ci->null_pages[i]);
            break;
        case 2:
            rc = decode_bytes_list(d, t, "min_values", &ci->min_values, &num_min);
            break;
        case 3:
            rc = decode_bytes_list(d, t, "max_values", &ci->max_values, &num_max);
            break;
        case 4:
            rc = dl_tc_read_i32(r, t, &ci->boundary_order);
            break;
        case 5:
            rc = read_list_alloc(d, t, DL_TC_I64, sizeof *ci->null_counts, "null_counts",
                                 (void **)&ci->null_counts, &num_null_counts);
            for (int i = 0; rc == DL_OK && i < num_null_counts; i++)
                rc = dl_tc_read_i64(r, DL_TC_I64, &ci->null_counts[i]);
            ci->has_null_counts = true;
            break;
        default:
            rc = dl_tc_skip(r, t);
            break;
        }
        if (rc != DL_OK) goto cleanup;
    }
    DL_TRY(dl_tc_check_required(r, seen, required, 4));
    if (num_min != ci->num_pages || num_max != ci->num_pages ||
        (ci->has_null_counts && num_null_counts != ci->num_pages))
        DL_TRY(dl_tc_fail(r, DL_ECORRUPT,
                          "list sizes disagree: %d null_pages, %d min_values, %d max_values, "
                          "%d null_counts",
                          ci->num_pages, num_min, num_max, num_null_counts));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

/* ======================================================================
** Public decoders
** ==================================================================== */

static int decoder_init(decoder *d, const uint8_t *buf, size_t len, dl_arena *arena,
                        dl_error *err) {
    static const uint8_t empty[1];
    if (!buf) {
        if (len != 0) return dl_error_set(err, DL_EINVAL, "parquet metadata: NULL buffer");
        buf = empty; /* avoid arithmetic on NULL */
    }
    dl_tc_reader_init(&d->r, buf, len, err);
    d->arena = arena;
    return DL_OK;
}

/* Footer and page-index blobs have an exact length: trailing bytes mean
** the length or the content is wrong. */
static int expect_end(dl_tc_reader *r, const char *what) {
    size_t trailing = (size_t)(r->end - r->p);
    if (trailing == 0) return DL_OK;
    return dl_tc_fail(r, DL_ECORRUPT, "%zu unexpected bytes after the end of %s", trailing, what);
}

int dl_pq_decode_file_meta(const uint8_t *buf, size_t len, dl_arena *arena, dl_pq_file_meta *out,
                           dl_error *err) {
    decoder d;
    memset(out, 0, sizeof *out);
    int rc = decoder_init(&d, buf, len, arena, err);
    if (rc == DL_OK) rc = decode_file_meta_struct(&d, out);
    if (rc == DL_OK) rc = expect_end(&d.r, "FileMetaData");
    return rc;
}

int dl_pq_decode_page_header(const uint8_t *buf, size_t len, dl_pq_page_header *out,
                             size_t *header_len, dl_error *err) {
    decoder d;
    memset(out, 0, sizeof *out);
    int rc = decoder_init(&d, buf, len, NULL, err);
    if (rc == DL_OK) rc = decode_page_header_struct(&d.r, out);
    if (rc == DL_OK) *header_len = dl_tc_offset(&d.r);
    return rc;
}

int dl_pq_decode_offset_index(const uint8_t *buf, size_t len, dl_arena *arena,
                              dl_pq_offset_index *out, dl_error *err) {
    decoder d;
    memset(out, 0, sizeof *out);
    int rc = decoder_init(&d, buf, len, arena, err);
    if (rc == DL_OK) rc = decode_offset_index_struct(&d, out);
    if (rc == DL_OK) rc = expect_end(&d.r, "OffsetIndex");
    return rc;
}

int dl_pq_decode_column_index(const uint8_t *buf, size_t len, dl_arena *arena,
                              dl_pq_column_index *out, dl_error *err) {
    decoder d;
    memset(out, 0, sizeof *out);
    int rc = decoder_init(&d, buf, len, arena, err);
    if (rc == DL_OK) rc = decode_column_index_struct(&d, out);
    if (rc == DL_OK) rc = expect_end(&d.r, "ColumnIndex");
    return rc;
}

/* ======================================================================
** Encoders (sticky errors: see dl_tc_writer)
** ==================================================================== */

/* A (pointer, count) pair the caller filled in inconsistently. */
static bool bad_array(dl_tc_writer *w, const void *ptr, int count, const char *what) {
    if (count >= 0 && (count == 0 || ptr)) return false;
    dl_tc_writer_fail(w, DL_EINVAL, "parquet metadata encoder: %s has count %d and pointer %p",
                      what, count, ptr);
    return true;
}

static bool missing_string(dl_tc_writer *w, const char *s, const char *what, int index) {
    if (s) return false;
    dl_tc_writer_fail(w, DL_EINVAL, "parquet metadata encoder: %s %d is NULL", what, index);
    return true;
}

static void encode_statistics(dl_tc_writer *w, int16_t field, const dl_pq_statistics *s) {
    dl_tc_write_struct_field_begin(w, field);
    if (s->has_max) dl_tc_write_binary_field(w, 1, s->max.ptr, s->max.len);
    if (s->has_min) dl_tc_write_binary_field(w, 2, s->min.ptr, s->min.len);
    if (s->has_null_count) dl_tc_write_i64_field(w, 3, s->null_count);
    if (s->has_distinct_count) dl_tc_write_i64_field(w, 4, s->distinct_count);
    if (s->has_max_value) dl_tc_write_binary_field(w, 5, s->max_value.ptr, s->max_value.len);
    if (s->has_min_value) dl_tc_write_binary_field(w, 6, s->min_value.ptr, s->min_value.len);
    if (s->has_is_max_value_exact) dl_tc_write_bool_field(w, 7, s->is_max_value_exact);
    if (s->has_is_min_value_exact) dl_tc_write_bool_field(w, 8, s->is_min_value_exact);
    if (s->has_nan_count) dl_tc_write_i64_field(w, 9, s->nan_count);
    dl_tc_write_struct_end(w);
}

/* Union member ids are positive i16 field ids. */
static bool valid_member(dl_tc_writer *w, int member, const char *what) {
    if (member >= 1 && member <= INT16_MAX) return true;
    dl_tc_writer_fail(w, DL_EINVAL, "parquet metadata encoder: invalid %s %d", what, member);
    return false;
}

static void encode_logical_type(dl_tc_writer *w, const dl_pq_logical_type *lt) {
    if (!valid_member(w, lt->kind, "LogicalType kind")) return;
    int16_t kind = (int16_t)lt->kind;
    dl_tc_write_struct_field_begin(w, 10); /* SchemaElement.logicalType */
    switch (kind) {
    case DL_PQ_LT_DECIMAL:
        dl_tc_write_struct_field_begin(w, kind);
        dl_tc_write_i32_field(w, 1, lt->scale);
        dl_tc_write_i32_field(w, 2, lt->precision);
        dl_tc_write_struct_end(w);
        break;
    case DL_PQ_LT_TIME:
    case DL_PQ_LT_TIMESTAMP:
        if (!valid_member(w, lt->unit, "TimeUnit")) return;
        dl_tc_write_struct_field_begin(w, kind);
        dl_tc_write_bool_field(w, 1, lt->utc);
        dl_tc_write_struct_field_begin(w, 2);
        dl_tc_write_empty_struct_field(w, (int16_t)lt->unit);
        dl_tc_write_struct_end(w);
        dl_tc_write_struct_end(w);
        break;
    case DL_PQ_LT_INTEGER:
        if (lt->bit_width < INT8_MIN || lt->bit_width > INT8_MAX) {
            dl_tc_writer_fail(w, DL_EINVAL, "parquet metadata encoder: INTEGER bit width %d",
                              lt->bit_width);
            return;
        }
        dl_tc_write_struct_field_begin(w, kind);
        dl_tc_write_i8_field(w, 1, (int8_t)lt->bit_width);
        dl_tc_write_bool_field(w, 2, lt->is_signed);
        dl_tc_write_struct_end(w);
        break;
    default:
        dl_tc_write_empty_struct_field(w, kind);
        break; /* STRING, DATE, JSON, ... */
    }
    dl_tc_write_struct_end(w);
}

static void encode_schema_element(dl_tc_writer *w, const dl_pq_schema_element *e, int index) {
    if (missing_string(w, e->name, "name of schema element", index)) return;
    dl_tc_write_struct_begin(w);
    if (e->has_type) dl_tc_write_i32_field(w, 1, e->type);
    if (e->has_type_length) dl_tc_write_i32_field(w, 2, e->type_length);
    if (e->has_repetition) dl_tc_write_i32_field(w, 3, e->repetition);
    dl_tc_write_string_field(w, 4, e->name);
    if (e->has_num_children) dl_tc_write_i32_field(w, 5, e->num_children);
    if (e->has_converted_type) dl_tc_write_i32_field(w, 6, e->converted_type);
    if (e->has_scale) dl_tc_write_i32_field(w, 7, e->scale);
    if (e->has_precision) dl_tc_write_i32_field(w, 8, e->precision);
    if (e->has_field_id) dl_tc_write_i32_field(w, 9, e->field_id);
    if (e->logical.kind != DL_PQ_LT_NONE) encode_logical_type(w, &e->logical);
    dl_tc_write_struct_end(w);
}

static void encode_kv_list(dl_tc_writer *w, int16_t field, const dl_pq_kv *kv, int num_kv) {
    if (num_kv == 0 || bad_array(w, kv, num_kv, "key_value_metadata")) return;
    dl_tc_write_list_field(w, field, DL_TC_STRUCT, num_kv);
    for (int i = 0; i < num_kv; i++) {
        if (missing_string(w, kv[i].key, "key of key/value pair", i)) return;
        dl_tc_write_struct_begin(w);
        dl_tc_write_string_field(w, 1, kv[i].key);
        if (kv[i].value) dl_tc_write_string_field(w, 2, kv[i].value);
        dl_tc_write_struct_end(w);
    }
}

static void encode_column_meta(dl_tc_writer *w, const dl_pq_column_meta *m) {
    if (bad_array(w, m->encodings, m->num_encodings, "ColumnMetaData.encodings") ||
        bad_array(w, m->path_in_schema, m->path_len, "ColumnMetaData.path_in_schema") ||
        bad_array(w, m->encoding_stats, m->num_encoding_stats, "ColumnMetaData.encoding_stats"))
        return;
    dl_tc_write_struct_field_begin(w, 3); /* ColumnChunk.meta_data */
    dl_tc_write_i32_field(w, 1, m->type);
    dl_tc_write_list_field(w, 2, DL_TC_I32, m->num_encodings);
    for (int i = 0; i < m->num_encodings; i++) dl_tc_write_i32(w, m->encodings[i]);
    dl_tc_write_list_field(w, 3, DL_TC_BINARY, m->path_len);
    for (int i = 0; i < m->path_len; i++) {
        if (missing_string(w, m->path_in_schema[i], "path_in_schema entry", i)) return;
        dl_tc_write_binary(w, m->path_in_schema[i], strlen(m->path_in_schema[i]));
    }
    dl_tc_write_i32_field(w, 4, m->codec);
    dl_tc_write_i64_field(w, 5, m->num_values);
    dl_tc_write_i64_field(w, 6, m->total_uncompressed_size);
    dl_tc_write_i64_field(w, 7, m->total_compressed_size);
    encode_kv_list(w, 8, m->kv, m->num_kv);
    dl_tc_write_i64_field(w, 9, m->data_page_offset);
    if (m->has_index_page_offset) dl_tc_write_i64_field(w, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset) dl_tc_write_i64_field(w, 11, m->dictionary_page_offset);
    if (m->has_statistics) encode_statistics(w, 12, &m->statistics);
    if (m->num_encoding_stats > 0) {
        dl_tc_write_list_field(w, 13, DL_TC_STRUCT, m->num_encoding_stats);
        for (int i = 0; i < m->num_encoding_stats; i++) {
            dl_tc_write_struct_begin(w);
            dl_tc_write_i32_field(w, 1, m->encoding_stats[i].page_type);
            dl_tc_write_i32_field(w, 2, m->encoding_stats[i].encoding);
            dl_tc_write_i32_field(w, 3, m->encoding_stats[i].count);
            dl_tc_write_struct_end(w);
        }
    }
    if (m->has_bloom_filter) dl_tc_write_i64_field(w, 14, m->bloom_filter_offset);
    if (m->bloom_filter_length != 0) dl_tc_write_i32_field(w, 15, m->bloom_filter_length);
    dl_tc_write_struct_end(w);
}

static void encode_column_chunk(dl_tc_writer *w, const dl_pq_column_chunk *c) {
    if (c->encrypted) {
        dl_tc_writer_fail(w, DL_EUNSUPPORTED,
                          "parquet metadata encoder: encrypted column chunks are not supported");
        return;
    }
    dl_tc_write_struct_begin(w);
    if (c->file_path) dl_tc_write_string_field(w, 1, c->file_path);
    dl_tc_write_i64_field(w, 2, c->file_offset);
    if (c->has_meta_data) encode_column_meta(w, &c->meta);
    if (c->has_offset_index) {
        dl_tc_write_i64_field(w, 4, c->offset_index_offset);
        dl_tc_write_i32_field(w, 5, c->offset_index_length);
    }
    if (c->has_column_index) {
        dl_tc_write_i64_field(w, 6, c->column_index_offset);
        dl_tc_write_i32_field(w, 7, c->column_index_length);
    }
    dl_tc_write_struct_end(w);
}

static void encode_row_group(dl_tc_writer *w, const dl_pq_row_group *g) {
    if (bad_array(w, g->columns, g->num_columns, "RowGroup.columns") ||
        bad_array(w, g->sorting_columns, g->num_sorting_columns, "RowGroup.sorting_columns"))
        return;
    dl_tc_write_struct_begin(w);
    dl_tc_write_list_field(w, 1, DL_TC_STRUCT, g->num_columns);
    for (int i = 0; i < g->num_columns && w->rc == DL_OK; i++)
        encode_column_chunk(w, &g->columns[i]);
    dl_tc_write_i64_field(w, 2, g->total_byte_size);
    dl_tc_write_i64_field(w, 3, g->num_rows);
    if (g->num_sorting_columns > 0) {
        dl_tc_write_list_field(w, 4, DL_TC_STRUCT, g->num_sorting_columns);
        for (int i = 0; i < g->num_sorting_columns; i++) {
            dl_tc_write_struct_begin(w);
            dl_tc_write_i32_field(w, 1, g->sorting_columns[i].column_idx);
            dl_tc_write_bool_field(w, 2, g->sorting_columns[i].descending);
            dl_tc_write_bool_field(w, 3, g->sorting_columns[i].nulls_first);
            dl_tc_write_struct_end(w);
        }
    }
    if (g->has_file_offset) dl_tc_write_i64_field(w, 5, g->file_offset);
    if (g->has_total_compressed_size) dl_tc_write_i64_field(w, 6, g->total_compressed_size);
    if (g->has_ordinal) dl_tc_write_i16_field(w, 7, g->ordinal);
    dl_tc_write_struct_end(w);
}

static void encode_column_orders(dl_tc_writer *w, const int32_t *orders, int count) {
    if (count == 0 || bad_array(w, orders, count, "FileMetaData.column_orders")) return;
    dl_tc_write_list_field(w, 7, DL_TC_STRUCT, count);
    for (int i = 0; i < count; i++) {
        dl_tc_write_struct_begin(w);
        /* DL_PQ_ORDER_UNKNOWN (a member we did not recognise when reading)
        ** is written as an empty union, which reads back as unknown. */
        if (orders[i] != DL_PQ_ORDER_UNKNOWN && valid_member(w, orders[i], "ColumnOrder"))
            dl_tc_write_empty_struct_field(w, (int16_t)orders[i]);
        dl_tc_write_struct_end(w);
    }
}

int dl_pq_encode_file_meta(const dl_pq_file_meta *m, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    if (m->encrypted)
        dl_tc_writer_fail(&w, DL_EUNSUPPORTED,
                          "parquet metadata encoder: encrypted footers are not supported");
    if (bad_array(&w, m->schema, m->num_schema, "FileMetaData.schema") ||
        bad_array(&w, m->row_groups, m->num_row_groups, "FileMetaData.row_groups"))
        return dl_tc_writer_finish(&w);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_i32_field(&w, 1, m->version);
    dl_tc_write_list_field(&w, 2, DL_TC_STRUCT, m->num_schema);
    for (int i = 0; i < m->num_schema && w.rc == DL_OK; i++)
        encode_schema_element(&w, &m->schema[i], i);
    dl_tc_write_i64_field(&w, 3, m->num_rows);
    dl_tc_write_list_field(&w, 4, DL_TC_STRUCT, m->num_row_groups);
    for (int i = 0; i < m->num_row_groups && w.rc == DL_OK; i++)
        encode_row_group(&w, &m->row_groups[i]);
    encode_kv_list(&w, 5, m->kv, m->num_kv);
    if (m->created_by) dl_tc_write_string_field(&w, 6, m->created_by);
    encode_column_orders(&w, m->column_orders, m->num_column_orders);
    dl_tc_write_struct_end(&w);
    return dl_tc_writer_finish(&w);
}

int dl_pq_encode_page_header(const dl_pq_page_header *h, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_i32_field(&w, 1, h->type);
    dl_tc_write_i32_field(&w, 2, h->uncompressed_page_size);
    dl_tc_write_i32_field(&w, 3, h->compressed_page_size);
    if (h->has_crc) dl_tc_write_i32_field(&w, 4, h->crc);
    if (h->has_data_page) {
        const dl_pq_data_page_header *p = &h->data_page;
        dl_tc_write_struct_field_begin(&w, 5);
        dl_tc_write_i32_field(&w, 1, p->num_values);
        dl_tc_write_i32_field(&w, 2, p->encoding);
        dl_tc_write_i32_field(&w, 3, p->definition_level_encoding);
        dl_tc_write_i32_field(&w, 4, p->repetition_level_encoding);
        if (p->has_statistics) encode_statistics(&w, 5, &p->statistics);
        dl_tc_write_struct_end(&w);
    }
    if (h->has_dictionary_page) {
        const dl_pq_dictionary_page_header *p = &h->dictionary_page;
        dl_tc_write_struct_field_begin(&w, 7);
        dl_tc_write_i32_field(&w, 1, p->num_values);
        dl_tc_write_i32_field(&w, 2, p->encoding);
        if (p->has_is_sorted) dl_tc_write_bool_field(&w, 3, p->is_sorted);
        dl_tc_write_struct_end(&w);
    }
    if (h->has_data_page_v2) {
        const dl_pq_data_page_header_v2 *p = &h->data_page_v2;
        dl_tc_write_struct_field_begin(&w, 8);
        dl_tc_write_i32_field(&w, 1, p->num_values);
        dl_tc_write_i32_field(&w, 2, p->num_nulls);
        dl_tc_write_i32_field(&w, 3, p->num_rows);
        dl_tc_write_i32_field(&w, 4, p->encoding);
        dl_tc_write_i32_field(&w, 5, p->definition_levels_byte_length);
        dl_tc_write_i32_field(&w, 6, p->repetition_levels_byte_length);
        dl_tc_write_bool_field(&w, 7, p->is_compressed); /* always: readers disagree on defaults */
        if (p->has_statistics) encode_statistics(&w, 8, &p->statistics);
        dl_tc_write_struct_end(&w);
    }
    dl_tc_write_struct_end(&w);
    return dl_tc_writer_finish(&w);
}

int dl_pq_encode_offset_index(const dl_pq_offset_index *oi, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    if (bad_array(&w, oi->pages, oi->num_pages, "OffsetIndex.page_locations"))
        return dl_tc_writer_finish(&w);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_list_field(&w, 1, DL_TC_STRUCT, oi->num_pages);
    for (int i = 0; i < oi->num_pages; i++) {
        dl_tc_write_struct_begin(&w);
        dl_tc_write_i64_field(&w, 1, oi->pages[i].offset);
        dl_tc_write_i32_field(&w, 2, oi->pages[i].compressed_page_size);
        dl_tc_write_i64_field(&w, 3, oi->pages[i].first_row_index);
        dl_tc_write_struct_end(&w);
    }
    dl_tc_write_struct_end(&w);
    return dl_tc_writer_finish(&w);
}

static void encode_bytes_list(dl_tc_writer *w, int16_t field, const dl_pq_bytes *values, int n) {
    dl_tc_write_list_field(w, field, DL_TC_BINARY, n);
    for (int i = 0; i < n; i++) dl_tc_write_binary(w, values[i].ptr, values[i].len);
}

int dl_pq_encode_column_index(const dl_pq_column_index *ci, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    int n = ci->num_pages;
    if (bad_array(&w, ci->null_pages, n, "ColumnIndex.null_pages") ||
        bad_array(&w, ci->min_values, n, "ColumnIndex.min_values") ||
        bad_array(&w, ci->max_values, n, "ColumnIndex.max_values") ||
        (ci->has_null_counts && bad_array(&w, ci->null_counts, n, "ColumnIndex.null_counts")))
        return dl_tc_writer_finish(&w);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_list_field(&w, 1, DL_TC_TRUE, n);
    for (int i = 0; i < n; i++) dl_tc_write_bool_elem(&w, ci->null_pages[i]);
    encode_bytes_list(&w, 2, ci->min_values, n);
    encode_bytes_list(&w, 3, ci->max_values, n);
    dl_tc_write_i32_field(&w, 4, ci->boundary_order);
    if (ci->has_null_counts) {
        dl_tc_write_list_field(&w, 5, DL_TC_I64, n);
        for (int i = 0; i < n; i++) dl_tc_write_i64(&w, ci->null_counts[i]);
    }
    dl_tc_write_struct_end(&w);
    return dl_tc_writer_finish(&w);
}

/* ======================================================================
** Names for display
** ==================================================================== */

const char *dl_pq_type_name(int32_t type) {
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return type >= 0 && type < (int32_t)(sizeof names / sizeof names[0]) ? names[type] : "?";
}

const char *dl_pq_encoding_name(int32_t encoding) {
    static const char *const names[] = {"PLAIN",
                                        "?", /* 1: GROUP_VAR_INT, never used */
                                        "PLAIN_DICTIONARY",
                                        "RLE",
                                        "BIT_PACKED",
                                        "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY",
                                        "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY",
                                        "BYTE_STREAM_SPLIT",
                                        "ALP"};
    return encoding >= 0 && encoding < (int32_t)(sizeof names / sizeof names[0]) ? names[encoding]
                                                                                 : "?";
}
