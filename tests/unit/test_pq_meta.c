/*
** test_pq_meta.c -- Thrift Compact Protocol layer and Parquet metadata
** codecs: encode/decode round trips of every struct, exact wire bytes for
** small cases, and hostile inputs (truncation at every byte, huge counts,
** deep nesting, over-long varints, unknown fields of every wire type).
*/
#include <stdlib.h>
#include <string.h>

#include "dl_test.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_thrift.h"

/* ---- a realistic footer: 6 schema elements, 2 row groups x 3 columns ---- */

static const uint8_t min_ts[8] = {0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x01};
static const uint8_t max_ts[8] = {0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x01};

typedef struct sample_meta {
    dl_pq_file_meta meta;
    dl_pq_schema_element schema[6];
    dl_pq_row_group groups[2];
    dl_pq_column_chunk chunks[2][3];
    int32_t encodings[3];
    const char *paths[3][1];
    dl_pq_page_encoding_stats enc_stats[2];
    dl_pq_sorting_column sorting[1];
    dl_pq_kv kv[2];
    dl_pq_kv column_kv[1];
    int32_t orders[5];
} sample_meta;

static void build_sample(sample_meta *s) {
    memset(s, 0, sizeof *s);
    dl_pq_schema_element *e = s->schema;
    e[0] = (dl_pq_schema_element){.name = "schema", .has_num_children = true, .num_children = 5};
    e[1] = (dl_pq_schema_element){
        .name = "ts",
        .has_type = true,
        .type = DL_PQ_INT64,
        .has_repetition = true,
        .repetition = DL_PQ_REQUIRED,
        .has_converted_type = true,
        .converted_type = DL_PQ_CT_TIMESTAMP_MICROS,
        .logical = {.kind = DL_PQ_LT_TIMESTAMP, .utc = true, .unit = DL_PQ_UNIT_MICROS}};
    e[2] = (dl_pq_schema_element){.name = "symbol",
                                  .has_type = true,
                                  .type = DL_PQ_BYTE_ARRAY,
                                  .has_repetition = true,
                                  .repetition = DL_PQ_OPTIONAL,
                                  .has_converted_type = true,
                                  .converted_type = DL_PQ_CT_UTF8,
                                  .has_field_id = true,
                                  .field_id = 42,
                                  .logical = {.kind = DL_PQ_LT_STRING}};
    e[3] = (dl_pq_schema_element){
        .name = "qty",
        .has_type = true,
        .type = DL_PQ_INT32,
        .has_repetition = true,
        .repetition = DL_PQ_OPTIONAL,
        .logical = {.kind = DL_PQ_LT_INTEGER, .bit_width = 16, .is_signed = false}};
    e[4] =
        (dl_pq_schema_element){.name = "notional",
                               .has_type = true,
                               .type = DL_PQ_FIXED_LEN_BYTE_ARRAY,
                               .has_type_length = true,
                               .type_length = 16,
                               .has_repetition = true,
                               .repetition = DL_PQ_OPTIONAL,
                               .has_converted_type = true,
                               .converted_type = DL_PQ_CT_DECIMAL,
                               .has_scale = true,
                               .scale = 4,
                               .has_precision = true,
                               .precision = 38,
                               .logical = {.kind = DL_PQ_LT_DECIMAL, .scale = 4, .precision = 38}};
    e[5] = (dl_pq_schema_element){
        .name = "local_time",
        .has_type = true,
        .type = DL_PQ_INT64,
        .has_repetition = true,
        .repetition = DL_PQ_OPTIONAL,
        .logical = {.kind = DL_PQ_LT_TIME, .utc = false, .unit = DL_PQ_UNIT_NANOS}};

    s->encodings[0] = DL_PQ_ENC_PLAIN;
    s->encodings[1] = DL_PQ_ENC_RLE;
    s->encodings[2] = DL_PQ_ENC_RLE_DICTIONARY;
    s->paths[0][0] = "ts";
    s->paths[1][0] = "symbol";
    s->paths[2][0] = "qty";
    s->enc_stats[0] = (dl_pq_page_encoding_stats){DL_PQ_PAGE_DICTIONARY, DL_PQ_ENC_PLAIN, 1};
    s->enc_stats[1] = (dl_pq_page_encoding_stats){DL_PQ_PAGE_DATA, DL_PQ_ENC_RLE_DICTIONARY, 7};
    s->sorting[0] =
        (dl_pq_sorting_column){.column_idx = 0, .descending = false, .nulls_first = true};
    s->column_kv[0] = (dl_pq_kv){"col.note", NULL};

    int64_t offset = 4;
    for (int g = 0; g < 2; g++) {
        for (int c = 0; c < 3; c++) {
            dl_pq_column_chunk *cc = &s->chunks[g][c];
            dl_pq_column_meta *m = &cc->meta;
            cc->file_offset = offset;
            cc->has_meta_data = true;
            m->type = s->schema[1 + c].type;
            m->encodings = s->encodings;
            m->num_encodings = 3;
            m->path_in_schema = s->paths[c];
            m->path_len = 1;
            m->codec = 6; /* ZSTD */
            m->num_values = 1000 + g;
            m->total_uncompressed_size = 9000 + c;
            m->total_compressed_size = 4000 + c;
            m->data_page_offset = offset + 100;
            if (c == 1) {
                m->has_dictionary_page_offset = true;
                m->dictionary_page_offset = offset;
                m->encoding_stats = s->enc_stats;
                m->num_encoding_stats = 2;
                m->kv = s->column_kv;
                m->num_kv = 1;
            }
            if (c == 2) {
                m->has_bloom_filter = true;
                m->bloom_filter_offset = 123456789012LL;
                m->bloom_filter_length = 1024;
                m->has_index_page_offset = true;
                m->index_page_offset = 77;
            }
            m->has_statistics = true;
            dl_pq_statistics *st = &m->statistics;
            st->has_null_count = true;
            st->null_count = c == 0 ? 0 : 17;
            st->has_min_value = st->has_max_value = true;
            st->min_value = (dl_pq_bytes){min_ts, 8};
            st->max_value = (dl_pq_bytes){max_ts, c == 1 ? 3 : 8};
            if (c == 0) { /* signed order: the deprecated fields too */
                st->has_min = st->has_max = true;
                st->min = st->min_value;
                st->max = st->max_value;
                st->has_distinct_count = true;
                st->distinct_count = 999;
            }
            if (c == 1) {
                st->has_is_max_value_exact = st->has_is_min_value_exact = true;
                st->is_max_value_exact = false;
                st->is_min_value_exact = true;
            }
            if (c == 2) {
                st->has_nan_count = true;
                st->nan_count = 0;
            }
            cc->has_offset_index = true;
            cc->offset_index_offset = 1000000 + g * 10 + c;
            cc->offset_index_length = 33 + c;
            if (c != 1) {
                cc->has_column_index = true;
                cc->column_index_offset = 2000000 + g * 10 + c;
                cc->column_index_length = 55 + c;
            }
            offset += 5000;
        }
        dl_pq_row_group *rg = &s->groups[g];
        rg->columns = s->chunks[g];
        rg->num_columns = 3;
        rg->total_byte_size = 27003;
        rg->num_rows = 1000 + g;
        if (g == 0) {
            rg->sorting_columns = s->sorting;
            rg->num_sorting_columns = 1;
        }
        rg->has_file_offset = true;
        rg->file_offset = s->chunks[g][0].file_offset;
        rg->has_total_compressed_size = true;
        rg->total_compressed_size = 12003;
        rg->has_ordinal = true;
        rg->ordinal = (int16_t)g;
    }
    s->kv[0] = (dl_pq_kv){"dl.schema_version", "3"};
    s->kv[1] = (dl_pq_kv){"dl.empty_value", ""};
    for (int i = 0; i < 5; i++) s->orders[i] = DL_PQ_ORDER_TYPE;
    s->orders[3] = DL_PQ_ORDER_IEEE754;

    dl_pq_file_meta *m = &s->meta;
    m->version = 1;
    m->schema = s->schema;
    m->num_schema = 6;
    m->num_rows = 2001;
    m->row_groups = s->groups;
    m->num_row_groups = 2;
    m->kv = s->kv;
    m->num_kv = 2;
    m->created_by = "dl-datalake version 0.1.0 (build abc123)";
    m->column_orders = s->orders;
    m->num_column_orders = 5;
}

/* ---- deep comparison of decoded against original ---- */

static void check_bytes(dl_pq_bytes a, dl_pq_bytes b) {
    CHECK_EQ_INT(a.len, b.len);
    if (a.len == b.len && a.len > 0) CHECK(memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_opt_str(const char *a, const char *b) {
    CHECK((a == NULL) == (b == NULL));
    if (a && b) CHECK_EQ_STR(a, b);
}

static void check_statistics(const dl_pq_statistics *a, const dl_pq_statistics *b) {
    CHECK_EQ_INT(a->has_max, b->has_max);
    CHECK_EQ_INT(a->has_min, b->has_min);
    CHECK_EQ_INT(a->has_null_count, b->has_null_count);
    CHECK_EQ_INT(a->has_distinct_count, b->has_distinct_count);
    CHECK_EQ_INT(a->has_max_value, b->has_max_value);
    CHECK_EQ_INT(a->has_min_value, b->has_min_value);
    CHECK_EQ_INT(a->has_nan_count, b->has_nan_count);
    CHECK_EQ_INT(a->has_is_max_value_exact, b->has_is_max_value_exact);
    CHECK_EQ_INT(a->has_is_min_value_exact, b->has_is_min_value_exact);
    if (a->has_max) check_bytes(a->max, b->max);
    if (a->has_min) check_bytes(a->min, b->min);
    if (a->has_max_value) check_bytes(a->max_value, b->max_value);
    if (a->has_min_value) check_bytes(a->min_value, b->min_value);
    CHECK_EQ_INT(a->null_count, b->null_count);
    CHECK_EQ_INT(a->distinct_count, b->distinct_count);
    CHECK_EQ_INT(a->is_max_value_exact, b->is_max_value_exact);
    CHECK_EQ_INT(a->is_min_value_exact, b->is_min_value_exact);
    CHECK_EQ_INT(a->nan_count, b->nan_count);
}

static void check_kv(const dl_pq_kv *a, int na, const dl_pq_kv *b, int nb) {
    CHECK_EQ_INT(na, nb);
    for (int i = 0; i < na && i < nb; i++) {
        CHECK_EQ_STR(a[i].key, b[i].key);
        check_opt_str(a[i].value, b[i].value);
    }
}

static void check_schema_element(const dl_pq_schema_element *a, const dl_pq_schema_element *b) {
    CHECK_EQ_STR(a->name, b->name);
    CHECK_EQ_INT(a->has_type, b->has_type);
    CHECK_EQ_INT(a->type, b->type);
    CHECK_EQ_INT(a->has_type_length, b->has_type_length);
    CHECK_EQ_INT(a->type_length, b->type_length);
    CHECK_EQ_INT(a->has_repetition, b->has_repetition);
    CHECK_EQ_INT(a->repetition, b->repetition);
    CHECK_EQ_INT(a->has_num_children, b->has_num_children);
    CHECK_EQ_INT(a->num_children, b->num_children);
    CHECK_EQ_INT(a->has_converted_type, b->has_converted_type);
    CHECK_EQ_INT(a->converted_type, b->converted_type);
    CHECK_EQ_INT(a->has_scale, b->has_scale);
    CHECK_EQ_INT(a->scale, b->scale);
    CHECK_EQ_INT(a->has_precision, b->has_precision);
    CHECK_EQ_INT(a->precision, b->precision);
    CHECK_EQ_INT(a->has_field_id, b->has_field_id);
    CHECK_EQ_INT(a->field_id, b->field_id);
    CHECK_EQ_INT(a->logical.kind, b->logical.kind);
    CHECK_EQ_INT(a->logical.utc, b->logical.utc);
    CHECK_EQ_INT(a->logical.unit, b->logical.unit);
    CHECK_EQ_INT(a->logical.scale, b->logical.scale);
    CHECK_EQ_INT(a->logical.precision, b->logical.precision);
    CHECK_EQ_INT(a->logical.bit_width, b->logical.bit_width);
    CHECK_EQ_INT(a->logical.is_signed, b->logical.is_signed);
}

static void check_column_meta(const dl_pq_column_meta *a, const dl_pq_column_meta *b) {
    CHECK_EQ_INT(a->type, b->type);
    CHECK_EQ_INT(a->num_encodings, b->num_encodings);
    for (int i = 0; i < a->num_encodings && i < b->num_encodings; i++)
        CHECK_EQ_INT(a->encodings[i], b->encodings[i]);
    CHECK_EQ_INT(a->path_len, b->path_len);
    for (int i = 0; i < a->path_len && i < b->path_len; i++)
        CHECK_EQ_STR(a->path_in_schema[i], b->path_in_schema[i]);
    CHECK_EQ_INT(a->codec, b->codec);
    CHECK_EQ_INT(a->num_values, b->num_values);
    CHECK_EQ_INT(a->total_uncompressed_size, b->total_uncompressed_size);
    CHECK_EQ_INT(a->total_compressed_size, b->total_compressed_size);
    check_kv(a->kv, a->num_kv, b->kv, b->num_kv);
    CHECK_EQ_INT(a->data_page_offset, b->data_page_offset);
    CHECK_EQ_INT(a->has_index_page_offset, b->has_index_page_offset);
    CHECK_EQ_INT(a->index_page_offset, b->index_page_offset);
    CHECK_EQ_INT(a->has_dictionary_page_offset, b->has_dictionary_page_offset);
    CHECK_EQ_INT(a->dictionary_page_offset, b->dictionary_page_offset);
    CHECK_EQ_INT(a->has_statistics, b->has_statistics);
    check_statistics(&a->statistics, &b->statistics);
    CHECK_EQ_INT(a->num_encoding_stats, b->num_encoding_stats);
    for (int i = 0; i < a->num_encoding_stats && i < b->num_encoding_stats; i++) {
        CHECK_EQ_INT(a->encoding_stats[i].page_type, b->encoding_stats[i].page_type);
        CHECK_EQ_INT(a->encoding_stats[i].encoding, b->encoding_stats[i].encoding);
        CHECK_EQ_INT(a->encoding_stats[i].count, b->encoding_stats[i].count);
    }
    CHECK_EQ_INT(a->has_bloom_filter, b->has_bloom_filter);
    CHECK_EQ_INT(a->bloom_filter_offset, b->bloom_filter_offset);
    CHECK_EQ_INT(a->bloom_filter_length, b->bloom_filter_length);
}

static void check_file_meta(const dl_pq_file_meta *a, const dl_pq_file_meta *b) {
    CHECK_EQ_INT(a->version, b->version);
    CHECK_EQ_INT(a->num_schema, b->num_schema);
    for (int i = 0; i < a->num_schema && i < b->num_schema; i++)
        check_schema_element(&a->schema[i], &b->schema[i]);
    CHECK_EQ_INT(a->num_rows, b->num_rows);
    CHECK_EQ_INT(a->num_row_groups, b->num_row_groups);
    for (int g = 0; g < a->num_row_groups && g < b->num_row_groups; g++) {
        const dl_pq_row_group *ga = &a->row_groups[g], *gb = &b->row_groups[g];
        CHECK_EQ_INT(ga->num_columns, gb->num_columns);
        for (int c = 0; c < ga->num_columns && c < gb->num_columns; c++) {
            const dl_pq_column_chunk *ca = &ga->columns[c], *cb = &gb->columns[c];
            check_opt_str(ca->file_path, cb->file_path);
            CHECK_EQ_INT(ca->file_offset, cb->file_offset);
            CHECK_EQ_INT(ca->has_meta_data, cb->has_meta_data);
            check_column_meta(&ca->meta, &cb->meta);
            CHECK_EQ_INT(ca->has_offset_index, cb->has_offset_index);
            CHECK_EQ_INT(ca->offset_index_offset, cb->offset_index_offset);
            CHECK_EQ_INT(ca->offset_index_length, cb->offset_index_length);
            CHECK_EQ_INT(ca->has_column_index, cb->has_column_index);
            CHECK_EQ_INT(ca->column_index_offset, cb->column_index_offset);
            CHECK_EQ_INT(ca->column_index_length, cb->column_index_length);
            CHECK_EQ_INT(ca->encrypted, cb->encrypted);
        }
        CHECK_EQ_INT(ga->total_byte_size, gb->total_byte_size);
        CHECK_EQ_INT(ga->num_rows, gb->num_rows);
        CHECK_EQ_INT(ga->num_sorting_columns, gb->num_sorting_columns);
        for (int i = 0; i < ga->num_sorting_columns && i < gb->num_sorting_columns; i++) {
            CHECK_EQ_INT(ga->sorting_columns[i].column_idx, gb->sorting_columns[i].column_idx);
            CHECK_EQ_INT(ga->sorting_columns[i].descending, gb->sorting_columns[i].descending);
            CHECK_EQ_INT(ga->sorting_columns[i].nulls_first, gb->sorting_columns[i].nulls_first);
        }
        CHECK_EQ_INT(ga->has_file_offset, gb->has_file_offset);
        CHECK_EQ_INT(ga->file_offset, gb->file_offset);
        CHECK_EQ_INT(ga->has_total_compressed_size, gb->has_total_compressed_size);
        CHECK_EQ_INT(ga->total_compressed_size, gb->total_compressed_size);
        CHECK_EQ_INT(ga->has_ordinal, gb->has_ordinal);
        CHECK_EQ_INT(ga->ordinal, gb->ordinal);
    }
    check_kv(a->kv, a->num_kv, b->kv, b->num_kv);
    check_opt_str(a->created_by, b->created_by);
    CHECK_EQ_INT(a->num_column_orders, b->num_column_orders);
    for (int i = 0; i < a->num_column_orders && i < b->num_column_orders; i++)
        CHECK_EQ_INT(a->column_orders[i], b->column_orders[i]);
    CHECK_EQ_INT(a->encrypted, b->encrypted);
}

/* Encodes the sample footer into *out (caller frees). */
static void encode_sample(sample_meta *s, dl_buf *out) {
    dl_error err = {0};
    build_sample(s);
    CHECK_OK(dl_pq_encode_file_meta(&s->meta, out, &err), &err);
}

static bool message_has(const dl_error *err, const char *needle) {
    if (strstr(err->message, needle)) return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err->message, needle);
    return false;
}

/* ====================================================================== */

DL_TEST(pq_meta_file_meta_roundtrip) {
    sample_meta s;
    dl_buf buf = DL_BUF_INIT;
    encode_sample(&s, &buf);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_error err = {0};
    dl_pq_file_meta got;
    CHECK_OK(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), &err);
    check_file_meta(&s.meta, &got);
    /* statistics values are views into the input buffer */
    const dl_pq_statistics *st = &got.row_groups[1].columns[0].meta.statistics;
    CHECK(st->min_value.ptr >= buf.data && st->min_value.ptr + 8 <= buf.data + buf.len);

    /* re-encoding the decoded struct gives the same bytes */
    dl_buf again = DL_BUF_INIT;
    CHECK_OK(dl_pq_encode_file_meta(&got, &again, &err), &err);
    CHECK_EQ_INT(again.len, buf.len);
    CHECK(again.len == buf.len && memcmp(again.data, buf.data, buf.len) == 0);

    /* encoding appends: a prefix in the buffer is kept */
    dl_buf prefixed = DL_BUF_INIT;
    CHECK_OK(dl_buf_append(&prefixed, "PAR1", 4), NULL);
    CHECK_OK(dl_pq_encode_file_meta(&s.meta, &prefixed, &err), &err);
    CHECK_EQ_INT(prefixed.len, buf.len + 4);
    CHECK(memcmp(prefixed.data, "PAR1", 4) == 0);
    dl_buf_free(&prefixed);
    dl_buf_free(&again);
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_file_meta_minimal_and_absent_optionals) {
    dl_pq_schema_element root = {.name = "root", .has_num_children = true, .num_children = 0};
    dl_pq_file_meta m = {.version = 1, .schema = &root, .num_schema = 1, .num_rows = 0};
    dl_buf buf = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_pq_encode_file_meta(&m, &buf, &err), &err);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    CHECK_OK(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), &err);
    check_file_meta(&m, &got);
    CHECK(got.created_by == NULL);
    CHECK(got.kv == NULL && got.num_kv == 0);
    CHECK_EQ_INT(got.num_column_orders, 0);
    CHECK_EQ_INT(got.schema[0].logical.kind, DL_PQ_LT_NONE);
    CHECK(!got.schema[0].has_repetition);
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_logical_types_all_kinds) {
    /* every member of the LogicalType union, including ones we only pass through */
    static const int kinds[] = {
        DL_PQ_LT_STRING, DL_PQ_LT_MAP,  DL_PQ_LT_LIST,      DL_PQ_LT_ENUM,    DL_PQ_LT_DECIMAL,
        DL_PQ_LT_DATE,   DL_PQ_LT_TIME, DL_PQ_LT_TIMESTAMP, DL_PQ_LT_INTEGER, DL_PQ_LT_UNKNOWN,
        DL_PQ_LT_JSON,   DL_PQ_LT_BSON, DL_PQ_LT_UUID,      DL_PQ_LT_FLOAT16, 16 /* VARIANT */};
    enum { N = sizeof kinds / sizeof kinds[0] };
    dl_pq_schema_element el[N + 1];
    memset(el, 0, sizeof el);
    el[0].name = "root";
    for (int i = 0; i < N; i++) {
        dl_pq_logical_type *lt = &el[i + 1].logical;
        el[i + 1].name = "c";
        lt->kind = kinds[i];
        if (kinds[i] == DL_PQ_LT_DECIMAL) lt->scale = 2, lt->precision = 9;
        if (kinds[i] == DL_PQ_LT_TIME) lt->utc = true, lt->unit = DL_PQ_UNIT_MILLIS;
        if (kinds[i] == DL_PQ_LT_TIMESTAMP) lt->utc = false, lt->unit = DL_PQ_UNIT_NANOS;
        if (kinds[i] == DL_PQ_LT_INTEGER) lt->bit_width = 8, lt->is_signed = true;
    }
    dl_pq_file_meta m = {.version = 1, .schema = el, .num_schema = N + 1};
    dl_buf buf = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_pq_encode_file_meta(&m, &buf, &err), &err);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    CHECK_OK(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), &err);
    check_file_meta(&m, &got);
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_page_header_roundtrip_all_kinds) {
    static const uint8_t lo[] = {1, 2, 3}, hi[] = {9, 9};
    dl_pq_page_header h[3];
    memset(h, 0, sizeof h);
    h[0] = (dl_pq_page_header){.type = DL_PQ_PAGE_DATA,
                               .uncompressed_page_size = 1 << 20,
                               .compressed_page_size = 70000,
                               .has_crc = true,
                               .crc = -123456789,
                               .has_data_page = true};
    h[0].data_page = (dl_pq_data_page_header){.num_values = 20000,
                                              .encoding = DL_PQ_ENC_RLE_DICTIONARY,
                                              .definition_level_encoding = DL_PQ_ENC_RLE,
                                              .repetition_level_encoding = DL_PQ_ENC_RLE,
                                              .has_statistics = true};
    h[0].data_page.statistics = (dl_pq_statistics){.has_null_count = true,
                                                   .null_count = 5,
                                                   .has_min_value = true,
                                                   .min_value = {lo, 3},
                                                   .has_max_value = true,
                                                   .max_value = {hi, 2}};
    h[1] = (dl_pq_page_header){.type = DL_PQ_PAGE_DICTIONARY,
                               .uncompressed_page_size = 300,
                               .compressed_page_size = 200,
                               .has_dictionary_page = true};
    h[1].dictionary_page = (dl_pq_dictionary_page_header){
        .num_values = 30, .encoding = DL_PQ_ENC_PLAIN, .has_is_sorted = true, .is_sorted = true};
    h[2] = (dl_pq_page_header){.type = DL_PQ_PAGE_DATA_V2,
                               .uncompressed_page_size = 4096,
                               .compressed_page_size = 4096,
                               .has_data_page_v2 = true};
    h[2].data_page_v2 = (dl_pq_data_page_header_v2){.num_values = 100,
                                                    .num_nulls = 3,
                                                    .num_rows = 100,
                                                    .encoding = DL_PQ_ENC_DELTA_BINARY_PACKED,
                                                    .definition_levels_byte_length = 14,
                                                    .repetition_levels_byte_length = 0,
                                                    .is_compressed = false};
    for (int i = 0; i < 3; i++) {
        dl_buf buf = DL_BUF_INIT;
        dl_error err = {0};
        CHECK_OK(dl_pq_encode_page_header(&h[i], &buf, &err), &err);
        size_t header_len = buf.len;
        /* page bytes follow the header: the decoder must stop at the header's end */
        CHECK_OK(dl_buf_append(&buf, "\x15\x00\x00\xff page body", 14), NULL);
        dl_pq_page_header got;
        size_t used = 0;
        CHECK_OK(dl_pq_decode_page_header(buf.data, buf.len, &got, &used, &err), &err);
        CHECK_EQ_INT(used, header_len);
        CHECK_EQ_INT(got.type, h[i].type);
        CHECK_EQ_INT(got.uncompressed_page_size, h[i].uncompressed_page_size);
        CHECK_EQ_INT(got.compressed_page_size, h[i].compressed_page_size);
        CHECK_EQ_INT(got.has_crc, h[i].has_crc);
        CHECK_EQ_INT(got.crc, h[i].crc);
        CHECK_EQ_INT(got.has_data_page, h[i].has_data_page);
        CHECK_EQ_INT(got.data_page.num_values, h[i].data_page.num_values);
        CHECK_EQ_INT(got.data_page.encoding, h[i].data_page.encoding);
        CHECK_EQ_INT(got.data_page.definition_level_encoding,
                     h[i].data_page.definition_level_encoding);
        CHECK_EQ_INT(got.data_page.repetition_level_encoding,
                     h[i].data_page.repetition_level_encoding);
        CHECK_EQ_INT(got.data_page.has_statistics, h[i].data_page.has_statistics);
        check_statistics(&got.data_page.statistics, &h[i].data_page.statistics);
        CHECK_EQ_INT(got.has_dictionary_page, h[i].has_dictionary_page);
        CHECK_EQ_INT(got.dictionary_page.num_values, h[i].dictionary_page.num_values);
        CHECK_EQ_INT(got.dictionary_page.encoding, h[i].dictionary_page.encoding);
        CHECK_EQ_INT(got.dictionary_page.has_is_sorted, h[i].dictionary_page.has_is_sorted);
        CHECK_EQ_INT(got.dictionary_page.is_sorted, h[i].dictionary_page.is_sorted);
        CHECK_EQ_INT(got.has_data_page_v2, h[i].has_data_page_v2);
        const dl_pq_data_page_header_v2 *a = &got.data_page_v2, *b = &h[i].data_page_v2;
        CHECK_EQ_INT(a->num_values, b->num_values);
        CHECK_EQ_INT(a->num_nulls, b->num_nulls);
        CHECK_EQ_INT(a->num_rows, b->num_rows);
        CHECK_EQ_INT(a->encoding, b->encoding);
        CHECK_EQ_INT(a->definition_levels_byte_length, b->definition_levels_byte_length);
        CHECK_EQ_INT(a->repetition_levels_byte_length, b->repetition_levels_byte_length);
        if (h[i].has_data_page_v2) CHECK_EQ_INT(a->is_compressed, b->is_compressed);
        CHECK_EQ_INT(a->has_statistics, b->has_statistics);
        dl_buf_free(&buf);
    }
}

DL_TEST(pq_meta_page_header_exact_bytes) {
    dl_pq_page_header h = {.type = DL_PQ_PAGE_DATA,
                           .uncompressed_page_size = 100,
                           .compressed_page_size = 50,
                           .has_data_page = true,
                           .data_page = {.num_values = 10,
                                         .encoding = DL_PQ_ENC_PLAIN,
                                         .definition_level_encoding = DL_PQ_ENC_RLE,
                                         .repetition_level_encoding = DL_PQ_ENC_RLE}};
    /* 1:i32 0, 2:i32 100 (zigzag 200), 3:i32 50, 5:struct (delta 2) {10, 0, 3, 3} stop, stop */
    static const uint8_t want[] = {0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0x64, 0x2c, 0x15,
                                   0x14, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00};
    dl_buf buf = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_pq_encode_page_header(&h, &buf, &err), &err);
    CHECK_EQ_INT(buf.len, sizeof want);
    CHECK(buf.len == sizeof want && memcmp(buf.data, want, sizeof want) == 0);

    /* v2 always carries is_compressed, and an absent one decodes as true */
    static const uint8_t v2_no_flag[] = {
        0x15, 0x06, 0x15, 0x00, 0x15, 0x00, 0x5c, /* field 8 struct */
        0x15, 0x02, 0x15, 0x00, 0x15, 0x02, 0x15, 0x00, 0x15, 0x00, 0x15, 0x00, 0x00, 0x00};
    dl_pq_page_header got;
    size_t used;
    CHECK_OK(dl_pq_decode_page_header(v2_no_flag, sizeof v2_no_flag, &got, &used, &err), &err);
    CHECK_EQ_INT(used, sizeof v2_no_flag);
    CHECK(got.has_data_page_v2);
    CHECK(got.data_page_v2.is_compressed);
    CHECK_EQ_INT(got.data_page_v2.num_values, 1);
    CHECK_EQ_INT(got.data_page_v2.num_rows, 1);
    dl_buf_reset(&buf);
    got.data_page_v2.is_compressed = false;
    CHECK_OK(dl_pq_encode_page_header(&got, &buf, &err), &err);
    /* ... 6:i32 0, then 7 as a bool field with value false: 0x12 */
    CHECK_EQ_INT(buf.len, sizeof v2_no_flag + 1);
    CHECK_EQ_INT(buf.data[buf.len - 3], 0x12);
    dl_buf_free(&buf);
}

DL_TEST(pq_meta_thrift_field_header_forms) {
    dl_buf buf = DL_BUF_INIT;
    dl_tc_writer w;
    dl_tc_writer_init(&w, &buf, NULL);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_i32_field(&w, 1, 1);     /* delta 1: short form 0x15 */
    dl_tc_write_i32_field(&w, 16, -1);   /* delta 15: still short: 0xf5 */
    dl_tc_write_i32_field(&w, 36, 2);    /* delta 20: long form 0x05 + zigzag(36)=72 */
    dl_tc_write_i64_field(&w, 3, 0);     /* backwards: long form 0x06 + zigzag(3)=6 */
    dl_tc_write_bool_field(&w, 4, true); /* bool field: value in the type nibble */
    dl_tc_write_bool_field(&w, 5, false);
    dl_tc_write_i16_field(&w, 32767, -2); /* extension id: long form 0x04 fe ff 03 */
    dl_tc_write_struct_end(&w);
    CHECK_OK(dl_tc_writer_finish(&w), NULL);
    static const uint8_t want[] = {0x15, 0x02, 0xf5, 0x01, 0x05, 0x48, 0x04, 0x06, 0x06,
                                   0x00, 0x11, 0x12, 0x04, 0xfe, 0xff, 0x03, 0x03, 0x00};
    CHECK_EQ_INT(buf.len, sizeof want);
    CHECK(buf.len == sizeof want && memcmp(buf.data, want, sizeof want) == 0);

    /* and the reader agrees field by field */
    dl_tc_reader r;
    dl_error err = {0};
    int16_t id;
    uint8_t t;
    int32_t v32;
    int64_t v64;
    int16_t v16;
    bool b;
    dl_tc_reader_init(&r, buf.data, buf.len, &err);
    CHECK_OK(dl_tc_struct_begin(&r, DL_TC_STRUCT, "Test"), &err);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 1);
    CHECK_OK(dl_tc_read_i32(&r, t, &v32), &err);
    CHECK_EQ_INT(v32, 1);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 16);
    CHECK_OK(dl_tc_read_i32(&r, t, &v32), &err);
    CHECK_EQ_INT(v32, -1);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 36);
    CHECK_OK(dl_tc_read_i32(&r, t, &v32), &err);
    CHECK_EQ_INT(v32, 2);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 3);
    CHECK_RC(dl_tc_read_i32(&r, t, &v32), DL_ECORRUPT); /* it is an i64 */
    CHECK(message_has(&err, "field 3 has wire type i64 (6), expected i32"));
    CHECK_OK(dl_tc_read_i64(&r, t, &v64), &err);
    CHECK_EQ_INT(v64, 0);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 4);
    CHECK_OK(dl_tc_read_bool(&r, t, &b), &err);
    CHECK(b);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 5);
    CHECK_OK(dl_tc_read_bool(&r, t, &b), &err);
    CHECK(!b);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(id, 32767);
    CHECK_OK(dl_tc_read_i16(&r, t, &v16), &err);
    CHECK_EQ_INT(v16, -2);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_EQ_INT(t, DL_TC_STOP);
    dl_tc_struct_end(&r);
    CHECK_EQ_INT(dl_tc_offset(&r), buf.len);
    dl_buf_free(&buf);
}

DL_TEST(pq_meta_thrift_varint_extremes) {
    dl_buf buf = DL_BUF_INIT;
    dl_tc_writer w;
    dl_tc_writer_init(&w, &buf, NULL);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_i64_field(&w, 1, INT64_MIN);
    dl_tc_write_i64_field(&w, 2, INT64_MAX);
    dl_tc_write_i32_field(&w, 3, INT32_MIN);
    dl_tc_write_i32_field(&w, 4, INT32_MAX);
    dl_tc_write_struct_end(&w);
    CHECK_OK(dl_tc_writer_finish(&w), NULL);
    /* 1 + 10 bytes per i64, 1 + 5 per i32, stop */
    CHECK_EQ_INT(buf.len, 11 + 11 + 6 + 6 + 1);
    dl_tc_reader r;
    dl_error err = {0};
    int16_t id;
    uint8_t t;
    int64_t a, b;
    int32_t c, d;
    dl_tc_reader_init(&r, buf.data, buf.len, &err);
    CHECK_OK(dl_tc_struct_begin(&r, DL_TC_STRUCT, "T"), &err);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_OK(dl_tc_read_i64(&r, t, &a), &err);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_OK(dl_tc_read_i64(&r, t, &b), &err);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_OK(dl_tc_read_i32(&r, t, &c), &err);
    CHECK_OK(dl_tc_read_field_header(&r, &id, &t), &err);
    CHECK_OK(dl_tc_read_i32(&r, t, &d), &err);
    CHECK(a == INT64_MIN && b == INT64_MAX && c == INT32_MIN && d == INT32_MAX);
    dl_buf_free(&buf);
}

DL_TEST(pq_meta_overlong_varints_rejected) {
    static const struct {
        uint8_t bytes[16];
        size_t len;
        const char *why;
    } cases[] = {
        /* i32 field 1 with a 6-byte varint */
        {{0x15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 7, "longer than 5 bytes"},
        /* i32 with 5 bytes but 34 significant bits */
        {{0x15, 0xff, 0xff, 0xff, 0xff, 0x3f}, 6, "does not fit in 32 bits"},
        /* i64 field with an 11-byte varint */
        {{0x16, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
         12,
         "longer than 10 bytes"},
        /* i64 whose 10th byte carries more than the 64th bit */
        {{0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 11, "64 bits"},
        /* long-form field id with a 4-byte varint */
        {{0x05, 0x80, 0x80, 0x80, 0x00}, 5, "longer than 3 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dl_tc_reader r;
        dl_error err = {0};
        dl_tc_reader_init(&r, cases[i].bytes, cases[i].len, &err);
        CHECK_OK(dl_tc_struct_begin(&r, DL_TC_STRUCT, "T"), &err);
        int rc = DL_OK;
        while (rc == DL_OK) { /* skip every field: the bad varint must stop it */
            int16_t id;
            uint8_t t;
            rc = dl_tc_read_field_header(&r, &id, &t);
            if (rc != DL_OK || t == DL_TC_STOP) break;
            rc = dl_tc_skip(&r, t);
        }
        CHECK_EQ_INT(rc, DL_ECORRUPT);
        CHECK(message_has(&err, cases[i].why));
    }
    /* through the public decoder too: PageHeader.type with a 6-byte varint */
    static const uint8_t bad_header[] = {0x15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00};
    dl_pq_page_header h;
    size_t used;
    dl_error err = {0};
    CHECK_RC(dl_pq_decode_page_header(bad_header, sizeof bad_header, &h, &used, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "PageHeader: varint longer than 5 bytes at byte 1"));
}

DL_TEST(pq_meta_offset_index_roundtrip) {
    dl_pq_page_location pages[20];
    for (int i = 0; i < 20; i++) /* 20 > 14: the list header needs the long form */
        pages[i] = (dl_pq_page_location){4 + (int64_t)i * 70000, 69000 + i, (int64_t)i * 20000};
    dl_pq_offset_index oi = {pages, 20};
    dl_buf buf = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_pq_encode_offset_index(&oi, &buf, &err), &err);
    CHECK_EQ_INT(buf.data[0], 0x19);
    CHECK_EQ_INT(buf.data[1], 0xfc);
    CHECK_EQ_INT(buf.data[2], 20);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_offset_index got;
    CHECK_OK(dl_pq_decode_offset_index(buf.data, buf.len, &arena, &got, &err), &err);
    CHECK_EQ_INT(got.num_pages, 20);
    for (int i = 0; i < 20 && i < got.num_pages; i++) {
        CHECK_EQ_INT(got.pages[i].offset, pages[i].offset);
        CHECK_EQ_INT(got.pages[i].compressed_page_size, pages[i].compressed_page_size);
        CHECK_EQ_INT(got.pages[i].first_row_index, pages[i].first_row_index);
    }
    /* trailing garbage after the struct is an error: the length was wrong */
    CHECK_OK(dl_buf_append_u8(&buf, 0), NULL);
    CHECK_RC(dl_pq_decode_offset_index(buf.data, buf.len, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "1 unexpected bytes after the end of OffsetIndex"));
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_column_index_roundtrip_and_bool_list) {
    bool null_pages[3] = {false, true, false};
    dl_pq_bytes mins[3] = {{(const uint8_t *)"AAPL", 4}, {NULL, 0}, {(const uint8_t *)"MSFT", 4}};
    dl_pq_bytes maxs[3] = {{(const uint8_t *)"AMZN", 4}, {NULL, 0}, {(const uint8_t *)"TSLA", 4}};
    int64_t null_counts[3] = {0, 20000, 7};
    dl_pq_column_index ci = {null_pages, 3,          mins, maxs, DL_PQ_BOUNDARY_ASCENDING,
                             true,       null_counts};
    dl_buf buf = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_OK(dl_pq_encode_column_index(&ci, &buf, &err), &err);
    /* field 1 list, 3 elements of type 1, values 2 (false) 1 (true) 2 */
    static const uint8_t head[] = {0x19, 0x31, 0x02, 0x01, 0x02, 0x19, 0x38, 0x04, 'A'};
    CHECK(buf.len > sizeof head && memcmp(buf.data, head, sizeof head) == 0);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_column_index got;
    CHECK_OK(dl_pq_decode_column_index(buf.data, buf.len, &arena, &got, &err), &err);
    CHECK_EQ_INT(got.num_pages, 3);
    CHECK_EQ_INT(got.boundary_order, DL_PQ_BOUNDARY_ASCENDING);
    CHECK(got.has_null_counts);
    for (int i = 0; i < 3 && i < got.num_pages; i++) {
        CHECK_EQ_INT(got.null_pages[i], null_pages[i]);
        check_bytes(got.min_values[i], mins[i]);
        check_bytes(got.max_values[i], maxs[i]);
        CHECK_EQ_INT(got.null_counts[i], null_counts[i]);
    }

    /* the spec's spelling of list<bool>: element type 2, values 1/0 */
    static const uint8_t spec_style[] = {0x19, 0x22, 0x01, 0x00, 0x19, 0x28, 0x00, 0x00,
                                         0x19, 0x28, 0x00, 0x00, 0x15, 0x00, 0x00};
    CHECK_OK(dl_pq_decode_column_index(spec_style, sizeof spec_style, &arena, &got, &err), &err);
    CHECK_EQ_INT(got.num_pages, 2);
    CHECK(got.num_pages == 2 && got.null_pages[0] && !got.null_pages[1]);
    CHECK(!got.has_null_counts);

    /* lists of different lengths are corrupt */
    static const uint8_t mismatch[] = {0x19, 0x11, 0x01, 0x19, 0x28, 0x00, 0x00,
                                       0x19, 0x18, 0x00, 0x15, 0x00, 0x00};
    CHECK_RC(dl_pq_decode_column_index(mismatch, sizeof mismatch, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "list sizes disagree: 1 null_pages, 2 min_values, 1 max_values"));
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_truncation_at_every_byte) {
    sample_meta s;
    dl_buf buf = DL_BUF_INIT;
    encode_sample(&s, &buf);
    CHECK(buf.len > 300);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    int failures = 0;
    for (size_t cut = 0; cut < buf.len; cut++) {
        /* a fresh heap copy of exactly `cut` bytes lets ASan catch any overread */
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf.data, cut);
        dl_error err = {0};
        dl_pq_file_meta got;
        int rc = dl_pq_decode_file_meta(copy, cut, &arena, &got, &err);
        if (rc != DL_ECORRUPT || err.message[0] == 0) failures++;
        free(copy);
        dl_arena_free(&arena);
    }
    CHECK_EQ_INT(failures, 0);

    /* page headers: every proper prefix fails as well */
    dl_pq_page_header h = {.type = DL_PQ_PAGE_DATA_V2,
                           .uncompressed_page_size = 10,
                           .compressed_page_size = 10,
                           .has_crc = true,
                           .crc = 77,
                           .has_data_page_v2 = true,
                           .data_page_v2 = {.num_values = 5, .is_compressed = true}};
    dl_buf ph = DL_BUF_INIT;
    CHECK_OK(dl_pq_encode_page_header(&h, &ph, NULL), NULL);
    for (size_t cut = 0; cut < ph.len; cut++) {
        dl_pq_page_header got;
        size_t used;
        CHECK_RC(dl_pq_decode_page_header(ph.data, cut, &got, &used, NULL), DL_ECORRUPT);
    }
    dl_buf_free(&ph);
    dl_buf_free(&buf);
}

DL_TEST(pq_meta_mutated_footer_never_crashes) {
    sample_meta s;
    dl_buf buf = DL_BUF_INIT;
    encode_sample(&s, &buf);
    static const uint8_t replacements[] = {0x00, 0xff, 0x80, 0x0c, 0x19, 0x1c};
    dl_arena arena;
    dl_arena_init(&arena, 1 << 20);
    int decoded_ok = 0;
    for (size_t pos = 0; pos < buf.len; pos++) {
        uint8_t orig = buf.data[pos];
        for (size_t k = 0; k < sizeof replacements; k++) {
            buf.data[pos] = replacements[k];
            dl_pq_file_meta got;
            dl_error err = {0};
            int rc = dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err);
            CHECK(rc == DL_OK || rc == DL_ECORRUPT || rc == DL_ENOMEM);
            if (rc != DL_OK) CHECK(err.message[0] != 0);
            decoded_ok += rc == DL_OK;
            dl_arena_free(&arena);
        }
        buf.data[pos] = orig;
    }
    /* some mutations only change values (e.g. a stats byte): those still decode */
    CHECK(decoded_ok > 0);
    dl_buf_free(&buf);
}

/* Appends raw bytes to the writer's buffer (for hand-built hostile inputs). */
static void put_raw(dl_tc_writer *w, const void *p, size_t n) {
    CHECK_OK(dl_buf_append(w->out, p, n), NULL);
}

/* The required FileMetaData fields with a one-column schema. */
static void write_required_file_meta_fields(dl_tc_writer *w) {
    dl_tc_write_i32_field(w, 1, 1);
    dl_tc_write_list_field(w, 2, DL_TC_STRUCT, 1);
    dl_tc_write_struct_begin(w);
    dl_tc_write_string_field(w, 4, "root");
    dl_tc_write_struct_end(w);
    dl_tc_write_i64_field(w, 3, 42);
    dl_tc_write_list_field(w, 4, DL_TC_STRUCT, 0);
}

DL_TEST(pq_meta_unknown_fields_of_every_type_skipped) {
    dl_buf buf = DL_BUF_INIT;
    dl_tc_writer w;
    dl_tc_writer_init(&w, &buf, NULL);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_bool_field(&w, 20, true);
    dl_tc_write_bool_field(&w, 21, false);
    dl_tc_write_i8_field(&w, 22, -5);
    dl_tc_write_i16_field(&w, 23, 300);
    dl_tc_write_i32_field(&w, 24, -70000);
    dl_tc_write_i64_field(&w, 25, INT64_MIN);
    dl_tc_write_field_header(&w, 26, DL_TC_DOUBLE);
    put_raw(&w, "\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
    dl_tc_write_binary_field(&w, 27, "opaque", 6);
    dl_tc_write_list_field(&w, 28, DL_TC_I64, 2);
    dl_tc_write_i64(&w, 1);
    dl_tc_write_i64(&w, -1);
    dl_tc_write_field_header(&w, 29, DL_TC_SET); /* set<bool> of 2: elements take a byte */
    put_raw(&w, "\x21\x01\x02", 3);
    /* map<binary, list<struct>> of 1 entry: key "k", value [ {1: i32 7} ] */
    dl_tc_write_field_header(&w, 30, DL_TC_MAP);
    put_raw(&w, "\x01\x89\x01k\x1c\x15\x0e\x00", 8);
    dl_tc_write_field_header(&w, 31, DL_TC_MAP); /* empty map: size 0, no types byte */
    put_raw(&w, "\x00", 1);
    dl_tc_write_field_header(&w, 32, DL_TC_UUID);
    put_raw(&w, "0123456789abcdef", 16);
    dl_tc_write_struct_field_begin(&w, 33); /* nested struct with a nested list of structs */
    dl_tc_write_list_field(&w, 1, DL_TC_STRUCT, 2);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_string_field(&w, 1, "x");
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_field_begin(&w, 32767); /* the extension id */
    dl_tc_write_binary_field(&w, 1, "ext", 3);
    dl_tc_write_struct_end(&w);
    /* the known fields come after, so the reader must have resynchronised */
    write_required_file_meta_fields(&w);
    dl_tc_write_string_field(&w, 6, "after unknowns");
    dl_tc_write_struct_end(&w);
    CHECK_OK(dl_tc_writer_finish(&w), NULL);

    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    dl_error err = {0};
    CHECK_OK(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), &err);
    CHECK_EQ_INT(got.version, 1);
    CHECK_EQ_INT(got.num_schema, 1);
    CHECK_EQ_STR(got.schema[0].name, "root");
    CHECK_EQ_INT(got.num_rows, 42);
    CHECK_EQ_STR(got.created_by, "after unknowns");
    /* and an unknown ColumnOrder member / encryption are reported, not fatal */
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_unknown_union_members) {
    dl_buf buf = DL_BUF_INIT;
    dl_tc_writer w;
    dl_tc_writer_init(&w, &buf, NULL);
    dl_tc_write_struct_begin(&w);
    write_required_file_meta_fields(&w);
    dl_tc_write_list_field(&w, 7, DL_TC_STRUCT, 3);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_empty_struct_field(&w, 3); /* INT96_TIMESTAMP_ORDER: unknown to us */
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_empty_struct_field(&w, 2);
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_struct_field_begin(&w, 1); /* TYPE_ORDER with a future field inside */
    dl_tc_write_i32_field(&w, 5, 9);
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_field_begin(&w, 8); /* encryption_algorithm */
    dl_tc_write_empty_struct_field(&w, 1);
    dl_tc_write_struct_end(&w);
    dl_tc_write_struct_end(&w);
    CHECK_OK(dl_tc_writer_finish(&w), NULL);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    dl_error err = {0};
    CHECK_OK(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), &err);
    CHECK_EQ_INT(got.num_column_orders, 3);
    if (got.num_column_orders == 3) {
        CHECK_EQ_INT(got.column_orders[0], DL_PQ_ORDER_UNKNOWN);
        CHECK_EQ_INT(got.column_orders[1], DL_PQ_ORDER_IEEE754);
        CHECK_EQ_INT(got.column_orders[2], DL_PQ_ORDER_TYPE);
    }
    CHECK(got.encrypted);
    dl_buf reencoded = DL_BUF_INIT;
    CHECK_RC(dl_pq_encode_file_meta(&got, &reencoded, &err), DL_EUNSUPPORTED);
    CHECK_EQ_INT(reencoded.len, 0);
    dl_buf_free(&reencoded);
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_required_field_missing) {
    dl_buf buf = DL_BUF_INIT;
    dl_tc_writer w;
    dl_tc_writer_init(&w, &buf, NULL);
    dl_tc_write_struct_begin(&w);
    dl_tc_write_i32_field(&w, 1, 1);
    dl_tc_write_list_field(&w, 2, DL_TC_STRUCT, 0);
    dl_tc_write_i64_field(&w, 2 + 3, 7); /* id 5 with an i64: not num_rows (3) */
    dl_tc_write_list_field(&w, 4, DL_TC_STRUCT, 0);
    dl_tc_write_struct_end(&w);
    CHECK_OK(dl_tc_writer_finish(&w), NULL);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    dl_error err = {0};
    int rc = dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err);
    /* field 5 (key_value_metadata) with the wrong wire type is itself an error */
    CHECK_EQ_INT(rc, DL_ECORRUPT);
    CHECK(message_has(&err, "FileMetaData: field 5 has wire type i64"));

    static const uint8_t no_num_rows[] = {0x15, 0x02, 0x19, 0x0c, 0x29, 0x0c, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(no_num_rows, sizeof no_num_rows, &arena, &got, &err),
             DL_ECORRUPT);
    CHECK(message_has(&err, "FileMetaData: required field num_rows (3) missing at byte 7"));

    /* nested: a ColumnChunk without file_offset names the path */
    static const uint8_t no_file_offset[] = {0x15, 0x02, 0x19, 0x0c, 0x16, 0x00, 0x19, 0x1c, 0x19,
                                             0x1c, 0x00, 0x16, 0x00, 0x16, 0x00, 0x00, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(no_file_offset, sizeof no_file_offset, &arena, &got, &err),
             DL_ECORRUPT);
    CHECK(message_has(&err, "ColumnChunk: required field file_offset (2) missing at byte 11 "
                            "(in FileMetaData > RowGroup > ColumnChunk)"));
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_huge_counts_rejected) {
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    dl_error err = {0};
    /* version, then schema: list of 2^31-1 structs in 10 bytes */
    static const uint8_t huge_list[] = {0x15, 0x02, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(huge_list, sizeof huge_list, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "list size 2147483647 exceeds the 1 bytes that remain"));
    CHECK_EQ_INT(arena.total, 0); /* nothing was allocated for it */
    /* short-form size 14 with fewer bytes left */
    static const uint8_t short_list[] = {0x15, 0x02, 0x19, 0xec, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(short_list, sizeof short_list, &arena, &got, &err),
             DL_ECORRUPT);
    /* created_by with a 4 GiB length */
    static const uint8_t huge_string[] = {0x68, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a', 0x00};
    CHECK_RC(dl_pq_decode_file_meta(huge_string, sizeof huge_string, &arena, &got, &err),
             DL_ECORRUPT);
    CHECK(message_has(&err, "binary length 4294967295 exceeds the 2 bytes that remain"));
    /* a map of 3 entries cannot fit in 4 bytes */
    static const uint8_t huge_map[] = {0xfb, 0x03, 0x55, 0x02, 0x04, 0x06, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(huge_map, sizeof huge_map, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "map size 3 exceeds"));

    /* the arena limit bounds what a legitimately large list may take */
    sample_meta s;
    dl_buf buf = DL_BUF_INIT;
    encode_sample(&s, &buf);
    dl_arena small;
    dl_arena_init(&small, 256);
    CHECK_RC(dl_pq_decode_file_meta(buf.data, buf.len, &small, &got, &err), DL_ENOMEM);
    CHECK(message_has(&err, "arena limit reached"));
    dl_arena_free(&small);
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_deep_nesting_rejected) {
    enum { DEPTH = 10000 };
    /* FileMetaData { 100: struct { 1: struct { 1: struct ... } } } */
    dl_buf buf = DL_BUF_INIT;
    CHECK_OK(dl_buf_append(&buf, "\x0c\xc8\x01", 3), NULL); /* long form id 100, struct */
    for (int i = 0; i < DEPTH; i++) CHECK_OK(dl_buf_append_u8(&buf, 0x1c), NULL);
    for (int i = 0; i < DEPTH + 2; i++) CHECK_OK(dl_buf_append_u8(&buf, 0x00), NULL);
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    dl_error err = {0};
    CHECK_RC(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "nested deeper than 32"));

    /* lists of lists of ... inside a page header */
    dl_buf_reset(&buf);
    CHECK_OK(dl_buf_append(&buf, "\x09\xc8\x01", 3), NULL); /* id 100, list */
    for (int i = 0; i < DEPTH; i++) CHECK_OK(dl_buf_append_u8(&buf, 0x19), NULL);
    dl_pq_page_header h;
    size_t used;
    CHECK_RC(dl_pq_decode_page_header(buf.data, buf.len, &h, &used, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "nested deeper than 32"));

    /* nesting within the limit is fine */
    dl_buf_reset(&buf);
    CHECK_OK(dl_buf_append(&buf, "\x0c\xc8\x01", 3), NULL);
    for (int i = 0; i < 20; i++) CHECK_OK(dl_buf_append_u8(&buf, 0x1c), NULL);
    for (int i = 0; i < 21; i++) CHECK_OK(dl_buf_append_u8(&buf, 0x00), NULL);
    static const uint8_t rest[] = {0x05, 0x02, 0x02, 0x19, 0x1c, 0x48, 0x01,
                                   'r',  0x00, 0x16, 0x00, 0x19, 0x0c, 0x00};
    /* id 1 (long form, since 1 < 100), schema [ {4: "r"} ], num_rows 0, row_groups [] */
    CHECK_OK(dl_buf_append(&buf, rest, sizeof rest), NULL);
    CHECK_OK(dl_pq_decode_file_meta(buf.data, buf.len, &arena, &got, &err), &err);
    CHECK_EQ_STR(got.num_schema == 1 ? got.schema[0].name : NULL, "r");
    dl_buf_free(&buf);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_invalid_wire_values) {
    dl_arena arena;
    dl_arena_init(&arena, 0);
    dl_pq_file_meta got;
    dl_error err = {0};
    /* wire type 14 is not defined */
    static const uint8_t bad_type[] = {0x1e, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(bad_type, sizeof bad_type, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "invalid wire type 14"));
    /* a LogicalType union with two members */
    static const uint8_t two_members[] = {0x29, 0x1c, 0x48, 0x01, 'x',  0x6c,
                                          0x1c, 0x00, 0x1c, 0x00, 0x00, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(two_members, sizeof two_members, &arena, &got, &err),
             DL_ECORRUPT);
    CHECK(message_has(&err, "LogicalType: union has two members (1 and 2)"));
    /* TIMESTAMP without its unit */
    static const uint8_t no_unit[] = {0x29, 0x1c, 0x48, 0x01, 'x',  0x6c,
                                      0x8c, 0x11, 0x00, 0x00, 0x00, 0x00};
    CHECK_RC(dl_pq_decode_file_meta(no_unit, sizeof no_unit, &arena, &got, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "TimestampType: required field unit (2) missing"));
    /* negative page sizes */
    static const uint8_t negative[] = {0x15, 0x00, 0x15, 0x01, 0x15, 0x01, 0x00};
    dl_pq_page_header h;
    size_t used;
    CHECK_RC(dl_pq_decode_page_header(negative, sizeof negative, &h, &used, &err), DL_ECORRUPT);
    CHECK(message_has(&err, "negative page size"));
    /* empty input and NULL input */
    CHECK_RC(dl_pq_decode_page_header(NULL, 0, &h, &used, &err), DL_ECORRUPT);
    CHECK_RC(dl_pq_decode_file_meta(NULL, 0, &arena, &got, &err), DL_ECORRUPT);
    dl_arena_free(&arena);
}

DL_TEST(pq_meta_encoder_rejects_bad_input) {
    dl_pq_schema_element el = {.name = NULL};
    dl_pq_file_meta m = {.version = 1, .schema = &el, .num_schema = 1};
    dl_buf buf = DL_BUF_INIT;
    dl_error err = {0};
    CHECK_RC(dl_pq_encode_file_meta(&m, &buf, &err), DL_EINVAL);
    CHECK(message_has(&err, "name of schema element 0 is NULL"));
    CHECK_EQ_INT(buf.len, 0); /* nothing half-written */
    el.name = "root";
    m.num_row_groups = 2; /* but no array */
    CHECK_RC(dl_pq_encode_file_meta(&m, &buf, &err), DL_EINVAL);
    m.num_row_groups = 0;
    el.logical.kind = DL_PQ_LT_TIMESTAMP; /* no unit */
    CHECK_RC(dl_pq_encode_file_meta(&m, &buf, &err), DL_EINVAL);
    CHECK(message_has(&err, "invalid TimeUnit 0"));
    CHECK_EQ_INT(buf.len, 0);
    dl_buf_free(&buf);
}

DL_TEST(pq_meta_names) {
    CHECK_EQ_STR(dl_pq_type_name(DL_PQ_INT64), "INT64");
    CHECK_EQ_STR(dl_pq_type_name(DL_PQ_FIXED_LEN_BYTE_ARRAY), "FIXED_LEN_BYTE_ARRAY");
    CHECK_EQ_STR(dl_pq_type_name(8), "?");
    CHECK_EQ_STR(dl_pq_type_name(-1), "?");
    CHECK_EQ_STR(dl_pq_encoding_name(DL_PQ_ENC_RLE_DICTIONARY), "RLE_DICTIONARY");
    CHECK_EQ_STR(dl_pq_encoding_name(DL_PQ_ENC_BYTE_STREAM_SPLIT), "BYTE_STREAM_SPLIT");
    CHECK_EQ_STR(dl_pq_encoding_name(1), "?");
    CHECK_EQ_STR(dl_pq_encoding_name(99), "?");
}
