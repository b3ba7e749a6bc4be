/*
** pq_meta.c -- Parquet FileMetaData, PageHeader, OffsetIndex and ColumnIndex
** decoders and encoders over the Thrift Compact Protocol (pq_thrift.h).
** Field ids follow parquet.thrift (parquet-format-notes.md §1.3).
**
** Each Thrift struct is described once, as a table of its fields (id,
** wire kind, required or not, where the value and its has_* flag live in
** the C struct); one generic decoder and one generic encoder walk those
** tables.  What a table cannot say -- lists, unions, cross-field checks,
** defaults -- is in small per-struct hooks next to the table.  ColumnIndex
** and the LogicalType union keep hand-written code: their lists are
** cross-checked and their layout is not field-per-member.
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
#include <stddef.h>
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
** Struct descriptions and the generic decoder/encoder
** ==================================================================== */

typedef enum field_kind {
    FK_I16,
    FK_I32,
    FK_I64,
    FK_BOOL,
    FK_BYTES,  /* dl_pq_bytes: a view into the input */
    FK_STRING, /* const char *: copied into the arena; NULL = absent */
    FK_STRUCT, /* a nested struct described by field_spec.nested */
    FK_CUSTOM  /* lists, unions, odd encodings: the struct's hooks */
} field_kind;

#define NO_FLAG (-1)

typedef struct struct_spec struct_spec;

/* fields in reading order; a few static tables, so padding does not matter */
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
typedef struct field_spec {
    int16_t id;
    uint8_t kind;              /* field_kind */
    const char *name;          /* parquet.thrift's, for "required field X missing" */
    uint16_t offset;           /* of the value in the C struct */
    int16_t has;               /* offset of its bool has_* flag, or NO_FLAG */
    const struct_spec *nested; /* FK_STRUCT */
} field_spec;

struct struct_spec {
    const char *name; /* for messages */
    const field_spec *fields;
    int num_fields;
    /* All optional.  init sets defaults before decoding; decode_field and
    ** encode_field handle the FK_CUSTOM fields; finish runs after the last
    ** field, once required fields are known to be present. */
    void (*init)(void *obj);
    int (*decode_field)(decoder *d, void *obj, int16_t id, uint8_t wire_type);
    int (*finish)(decoder *d, void *obj, uint32_t seen);
    void (*encode_field)(dl_tc_writer *w, const void *obj, int16_t id);
    uint32_t required; /* ID(id) of every field a decoded struct must have */
};

/* Field table entries: T is the C struct, M the member (its has_M flag
** for optional ones), N the Thrift name where it differs from M.  A FIELD
** is always written; which fields must be present when decoding is the
** struct's `required` mask. */
#define FIELD(T, id, kind, M)                                                                      \
    { id, kind, #M, offsetof(T, M), NO_FLAG, NULL }
#define FIELD_AS(T, id, kind, M, N)                                                                \
    { id, kind, N, offsetof(T, M), NO_FLAG, NULL }
#define OPTIONAL(T, id, kind, M)                                                                   \
    { id, kind, #M, offsetof(T, M), offsetof(T, has_##M), NULL }
#define OPTIONAL_FLAG(T, id, kind, M, FLAG)                                                        \
    { id, kind, #M, offsetof(T, M), offsetof(T, FLAG), NULL }
#define NESTED(T, id, M, SPEC)                                                                     \
    { id, FK_STRUCT, #M, offsetof(T, M), offsetof(T, has_##M), SPEC }
#define CUSTOM(id, N)                                                                              \
    { id, FK_CUSTOM, N, 0, NO_FLAG, NULL }
#define ID(id)             ((uint32_t)1 << (id)) /* in a `required` mask */
#define SPEC_FIELDS(table) .fields = (table), .num_fields = (int)(sizeof(table) / sizeof(table)[0])

static int decode_struct(decoder *d, uint8_t wire_type, const struct_spec *spec, void *obj);

/* Tables list fields in ascending id order (the encoder relies on it too)
** with few gaps, so field `id` sits at index id-1 or just below it. */
static inline const field_spec *find_field(const struct_spec *spec, int16_t id) {
    int i = id - 1 < spec->num_fields ? id - 1 : spec->num_fields - 1;
    for (; i >= 0 && spec->fields[i].id >= id; i--)
        if (spec->fields[i].id == id) return &spec->fields[i];
    return NULL;
}

/* Reads one table-described field into obj and sets its has_* flag. */
static int decode_field(decoder *d, const field_spec *f, uint8_t wire_type, void *obj) {
    char *value = (char *)obj + f->offset;
    int rc;
    switch ((field_kind)f->kind) {
    case FK_I16:
        rc = dl_tc_read_i16(&d->r, wire_type, (int16_t *)value);
        break;
    case FK_I32:
        rc = dl_tc_read_i32(&d->r, wire_type, (int32_t *)value);
        break;
    case FK_I64:
        rc = dl_tc_read_i64(&d->r, wire_type, (int64_t *)value);
        break;
    case FK_BOOL:
        rc = dl_tc_read_bool(&d->r, wire_type, (bool *)value);
        break;
    case FK_BYTES:
        rc = read_bytes(&d->r, wire_type, (dl_pq_bytes *)value);
        break;
    case FK_STRING:
        rc = read_string(d, wire_type, (const char **)value);
        break;
    case FK_STRUCT:
        rc = decode_struct(d, wire_type, f->nested, value);
        break;
    default: /* FK_CUSTOM is the struct's hook's */
        rc = dl_tc_skip(&d->r, wire_type);
        break;
    }
    if (f->has != NO_FLAG) *(bool *)((char *)obj + f->has) = true;
    return rc;
}

/* Names the first required field (in id order) that `seen` lacks. */
static int fail_missing(dl_tc_reader *r, const struct_spec *spec, uint32_t seen) {
    for (int i = 0; i < spec->num_fields; i++) {
        const field_spec *f = &spec->fields[i];
        dl_tc_field_name name = {f->id, f->name};
        if ((spec->required & ID(f->id)) && !(seen & ID(f->id)))
            return dl_tc_check_required(r, seen, &name, 1);
    }
    return dl_tc_fail(r, DL_EINTERNAL, "required field missing from the table");
}

static int decode_struct(decoder *d, uint8_t wire_type, const struct_spec *spec, void *obj) {
    dl_tc_reader *r = &d->r;
    int rc = DL_OK;
    int16_t id;
    uint8_t t;
    uint32_t seen = 0;
    if (spec->init) spec->init(obj);
    DL_TRY(dl_tc_struct_begin(r, wire_type, spec->name));
    for (;;) {
        DL_TRY(dl_tc_read_field_header(r, &id, &t));
        if (t == DL_TC_STOP) break;
        seen |= dl_tc_seen_bit(id);
        const field_spec *f = find_field(spec, id);
        if (!f)
            rc = dl_tc_skip(r, t);
        else if (f->kind == FK_CUSTOM)
            rc = spec->decode_field(d, obj, id, t);
        else
            rc = decode_field(d, f, t, obj);
        if (rc != DL_OK) goto cleanup;
    }
    if ((seen & spec->required) != spec->required) DL_TRY(fail_missing(r, spec, seen));
    if (spec->finish) DL_TRY(spec->finish(d, obj, seen));
    dl_tc_struct_end(r);
cleanup:
    return rc;
}

/* Writes obj's fields in table (= field id) order: required ones always,
** optional ones when their has_* flag is set, strings when non-NULL. */
static void encode_fields(dl_tc_writer *w, const struct_spec *spec, const void *obj) {
    for (int i = 0; i < spec->num_fields; i++) {
        const field_spec *f = &spec->fields[i];
        const char *value = (const char *)obj + f->offset;
        if (f->has != NO_FLAG && !*(const bool *)((const char *)obj + f->has)) continue;
        switch ((field_kind)f->kind) {
        case FK_I16:
            dl_tc_write_i16_field(w, f->id, *(const int16_t *)value);
            break;
        case FK_I32:
            dl_tc_write_i32_field(w, f->id, *(const int32_t *)value);
            break;
        case FK_I64:
            dl_tc_write_i64_field(w, f->id, *(const int64_t *)value);
            break;
        case FK_BOOL:
            dl_tc_write_bool_field(w, f->id, *(const bool *)value);
            break;
        case FK_BYTES: {
            const dl_pq_bytes *b = (const dl_pq_bytes *)value;
            dl_tc_write_binary_field(w, f->id, b->ptr, b->len);
            break;
        }
        case FK_STRING: {
            const char *s = *(const char *const *)value;
            if (s) dl_tc_write_string_field(w, f->id, s);
            break;
        }
        case FK_STRUCT:
            dl_tc_write_struct_field_begin(w, f->id);
            encode_fields(w, f->nested, value);
            dl_tc_write_struct_end(w);
            break;
        case FK_CUSTOM:
            spec->encode_field(w, obj, f->id);
            break;
        }
    }
}

/* A struct value (top level or list element). */
static void encode_struct(dl_tc_writer *w, const struct_spec *spec, const void *obj) {
    dl_tc_write_struct_begin(w);
    encode_fields(w, spec, obj);
    dl_tc_write_struct_end(w);
}

/* Decodes a list<struct> field into an arena array of `count` elements. */
static int decode_struct_list(decoder *d, uint8_t wire_type, const struct_spec *spec,
                              size_t elem_size, const char *what, void **out, int *count) {
    int rc = read_list_alloc(d, wire_type, DL_TC_STRUCT, elem_size, what, out, count);
    for (int i = 0; rc == DL_OK && i < *count; i++)
        rc = decode_struct(d, DL_TC_STRUCT, spec, (char *)*out + (size_t)i * elem_size);
    return rc;
}

static void encode_struct_list(dl_tc_writer *w, int16_t id, const struct_spec *spec,
                               const void *elems, size_t elem_size, int count) {
    dl_tc_write_list_field(w, id, DL_TC_STRUCT, count);
    for (int i = 0; i < count && w->rc == DL_OK; i++)
        encode_struct(w, spec, (const char *)elems + (size_t)i * elem_size);
}

/* ---- encoder checks on what the caller filled in ---- */

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

/* Union member ids are positive i16 field ids. */
static bool valid_member(dl_tc_writer *w, int member, const char *what) {
    if (member >= 1 && member <= INT16_MAX) return true;
    dl_tc_writer_fail(w, DL_EINVAL, "parquet metadata encoder: invalid %s %d", what, member);
    return false;
}

/* ======================================================================
** The structs
** ==================================================================== */

static void statistics_init(void *obj) {
    memset(obj, 0, sizeof(dl_pq_statistics));
}

static const field_spec statistics_fields[] = {
    OPTIONAL(dl_pq_statistics, 1, FK_BYTES, max),
    OPTIONAL(dl_pq_statistics, 2, FK_BYTES, min),
    OPTIONAL(dl_pq_statistics, 3, FK_I64, null_count),
    OPTIONAL(dl_pq_statistics, 4, FK_I64, distinct_count),
    OPTIONAL(dl_pq_statistics, 5, FK_BYTES, max_value),
    OPTIONAL(dl_pq_statistics, 6, FK_BYTES, min_value),
    OPTIONAL(dl_pq_statistics, 7, FK_BOOL, is_max_value_exact),
    OPTIONAL(dl_pq_statistics, 8, FK_BOOL, is_min_value_exact),
    OPTIONAL(dl_pq_statistics, 9, FK_I64, nan_count),
};
static const struct_spec statistics_spec = {
    .name = "Statistics", SPEC_FIELDS(statistics_fields), .init = statistics_init};

/* ---- logical types (decoding only: the union writer is encode_logical_type) ---- */

/* TimeType / TimestampType: {1: isAdjustedToUTC bool, 2: unit TimeUnit}. */
static int time_type_decode(decoder *d, void *obj, int16_t id, uint8_t wire_type) {
    dl_pq_logical_type *lt = obj;
    int16_t unit;
    (void)id; /* only 2: unit */
    int rc = decode_member_union(&d->r, wire_type, "TimeUnit", &unit);
    if (rc == DL_OK && unit == 0)
        rc = dl_tc_fail(&d->r, DL_ECORRUPT, "TimeUnit union has no member");
    lt->unit = unit;
    return rc;
}

static const field_spec time_type_fields[] = {
    FIELD_AS(dl_pq_logical_type, 1, FK_BOOL, utc, "isAdjustedToUTC"),
    CUSTOM(2, "unit"),
};
static const struct_spec time_type_spec = {.name = "TimeType",
                                           SPEC_FIELDS(time_type_fields),
                                           .decode_field = time_type_decode,
                                           .required = ID(1) | ID(2)};
static const struct_spec timestamp_type_spec = {.name = "TimestampType",
                                                SPEC_FIELDS(time_type_fields),
                                                .decode_field = time_type_decode,
                                                .required = ID(1) | ID(2)};

static const field_spec decimal_type_fields[] = {
    FIELD(dl_pq_logical_type, 1, FK_I32, scale),
    FIELD(dl_pq_logical_type, 2, FK_I32, precision),
};
static const struct_spec decimal_type_spec = {
    .name = "DecimalType", SPEC_FIELDS(decimal_type_fields), .required = ID(1) | ID(2)};

/* IntType: {1: bitWidth i8, 2: isSigned bool}; the i8 widens to int. */
static int int_type_decode(decoder *d, void *obj, int16_t id, uint8_t wire_type) {
    dl_pq_logical_type *lt = obj;
    int8_t bit_width;
    (void)id; /* only 1: bitWidth */
    int rc = dl_tc_read_i8(&d->r, wire_type, &bit_width);
    if (rc == DL_OK) lt->bit_width = bit_width;
    return rc;
}

static const field_spec int_type_fields[] = {
    CUSTOM(1, "bitWidth"),
    FIELD_AS(dl_pq_logical_type, 2, FK_BOOL, is_signed, "isSigned"),
};
static const struct_spec int_type_spec = {.name = "IntType",
                                          SPEC_FIELDS(int_type_fields),
                                          .decode_field = int_type_decode,
                                          .required = ID(1) | ID(2)};

/* LogicalType union: kind = the member's field id (unknown members too, so
** a reader can say which logical type it does not support). */
static int decode_logical_type(decoder *d, uint8_t wire_type, dl_pq_logical_type *lt) {
    dl_tc_reader *r = &d->r;
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
            rc = decode_struct(d, t, &decimal_type_spec, lt);
            break;
        case DL_PQ_LT_TIME:
            rc = decode_struct(d, t, &time_type_spec, lt);
            break;
        case DL_PQ_LT_TIMESTAMP:
            rc = decode_struct(d, t, &timestamp_type_spec, lt);
            break;
        case DL_PQ_LT_INTEGER:
            rc = decode_struct(d, t, &int_type_spec, lt);
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

static void encode_logical_type(dl_tc_writer *w, const dl_pq_logical_type *lt) {
    if (!valid_member(w, lt->kind, "LogicalType kind")) return;
    int16_t kind = (int16_t)lt->kind;
    dl_tc_write_struct_field_begin(w, 10); /* SchemaElement.logicalType */
    switch (kind) {
    case DL_PQ_LT_DECIMAL:
        dl_tc_write_struct_field_begin(w, kind);
        encode_fields(w, &decimal_type_spec, lt);
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

/* ---- footer ---- */

static int schema_element_decode(decoder *d, void *obj, int16_t id, uint8_t wire_type) {
    (void)id; /* only 10: logicalType */
    return decode_logical_type(d, wire_type, &((dl_pq_schema_element *)obj)->logical);
}

static void schema_element_encode(dl_tc_writer *w, const void *obj, int16_t id) {
    const dl_pq_logical_type *lt = &((const dl_pq_schema_element *)obj)->logical;
    (void)id; /* only 10: logicalType */
    if (lt->kind != DL_PQ_LT_NONE) encode_logical_type(w, lt);
}

static const field_spec schema_element_fields[] = {
    OPTIONAL(dl_pq_schema_element, 1, FK_I32, type),
    OPTIONAL(dl_pq_schema_element, 2, FK_I32, type_length),
    OPTIONAL(dl_pq_schema_element, 3, FK_I32, repetition),
    FIELD(dl_pq_schema_element, 4, FK_STRING, name),
    OPTIONAL(dl_pq_schema_element, 5, FK_I32, num_children),
    OPTIONAL(dl_pq_schema_element, 6, FK_I32, converted_type),
    OPTIONAL(dl_pq_schema_element, 7, FK_I32, scale),
    OPTIONAL(dl_pq_schema_element, 8, FK_I32, precision),
    OPTIONAL(dl_pq_schema_element, 9, FK_I32, field_id),
    CUSTOM(10, "logicalType"),
};
static const struct_spec schema_element_spec = {.name = "SchemaElement",
                                                SPEC_FIELDS(schema_element_fields),
                                                .decode_field = schema_element_decode,
                                                .encode_field = schema_element_encode,
                                                .required = ID(4)};

static const field_spec key_value_fields[] = {
    FIELD(dl_pq_kv, 1, FK_STRING, key),
    FIELD(dl_pq_kv, 2, FK_STRING, value), /* written when non-NULL */
};
static const struct_spec key_value_spec = {
    .name = "KeyValue", SPEC_FIELDS(key_value_fields), .required = ID(1)};

static int decode_kv_list(decoder *d, uint8_t wire_type, dl_pq_kv **kv, int *num_kv) {
    return decode_struct_list(d, wire_type, &key_value_spec, sizeof **kv, "key/value pairs",
                              (void **)kv, num_kv);
}

static void encode_kv_list(dl_tc_writer *w, int16_t field, const dl_pq_kv *kv, int num_kv) {
    if (num_kv == 0 || bad_array(w, kv, num_kv, "key_value_metadata")) return;
    for (int i = 0; i < num_kv; i++)
        if (missing_string(w, kv[i].key, "key of key/value pair", i)) return;
    encode_struct_list(w, field, &key_value_spec, kv, sizeof *kv, num_kv);
}

static const field_spec encoding_stats_fields[] = {
    FIELD(dl_pq_page_encoding_stats, 1, FK_I32, page_type),
    FIELD(dl_pq_page_encoding_stats, 2, FK_I32, encoding),
    FIELD(dl_pq_page_encoding_stats, 3, FK_I32, count),
};
static const struct_spec encoding_stats_spec = {.name = "PageEncodingStats",
                                                SPEC_FIELDS(encoding_stats_fields),
                                                .required = ID(1) | ID(2) | ID(3)};

static int column_meta_decode(decoder *d, void *obj, int16_t id, uint8_t t) {
    dl_pq_column_meta *m = obj;
    int rc = DL_OK;
    switch (id) {
    case 2:
        rc = read_list_alloc(d, t, DL_TC_I32, sizeof *m->encodings, "encodings",
                             (void **)&m->encodings, &m->num_encodings);
        for (int i = 0; rc == DL_OK && i < m->num_encodings; i++)
            rc = dl_tc_read_i32(&d->r, DL_TC_I32, &m->encodings[i]);
        break;
    case 3:
        rc = read_list_alloc(d, t, DL_TC_BINARY, sizeof *m->path_in_schema,
                             "path_in_schema entries", (void **)&m->path_in_schema, &m->path_len);
        for (int i = 0; rc == DL_OK && i < m->path_len; i++)
            rc = read_string(d, DL_TC_BINARY, &m->path_in_schema[i]);
        break;
    case 8:
        rc = decode_kv_list(d, t, &m->kv, &m->num_kv);
        break;
    case 13:
        rc = decode_struct_list(d, t, &encoding_stats_spec, sizeof *m->encoding_stats,
                                "encoding_stats entries", (void **)&m->encoding_stats,
                                &m->num_encoding_stats);
        break;
    default: /* 15 */
        rc = dl_tc_read_i32(&d->r, t, &m->bloom_filter_length);
        break;
    }
    return rc;
}

static void column_meta_encode(dl_tc_writer *w, const void *obj, int16_t id) {
    const dl_pq_column_meta *m = obj;
    switch (id) {
    case 2:
        dl_tc_write_list_field(w, 2, DL_TC_I32, m->num_encodings);
        for (int i = 0; i < m->num_encodings; i++) dl_tc_write_i32(w, m->encodings[i]);
        break;
    case 3:
        dl_tc_write_list_field(w, 3, DL_TC_BINARY, m->path_len);
        for (int i = 0; i < m->path_len; i++) {
            if (missing_string(w, m->path_in_schema[i], "path_in_schema entry", i)) return;
            dl_tc_write_binary(w, m->path_in_schema[i], strlen(m->path_in_schema[i]));
        }
        break;
    case 8:
        encode_kv_list(w, 8, m->kv, m->num_kv);
        break;
    case 13:
        if (m->num_encoding_stats > 0)
            encode_struct_list(w, 13, &encoding_stats_spec, m->encoding_stats,
                               sizeof *m->encoding_stats, m->num_encoding_stats);
        break;
    default: /* 15: 0 means absent */
        if (m->bloom_filter_length != 0) dl_tc_write_i32_field(w, 15, m->bloom_filter_length);
        break;
    }
}

static const field_spec column_meta_fields[] = {
    FIELD(dl_pq_column_meta, 1, FK_I32, type),
    CUSTOM(2, "encodings"),
    CUSTOM(3, "path_in_schema"),
    FIELD(dl_pq_column_meta, 4, FK_I32, codec),
    FIELD(dl_pq_column_meta, 5, FK_I64, num_values),
    FIELD(dl_pq_column_meta, 6, FK_I64, total_uncompressed_size),
    FIELD(dl_pq_column_meta, 7, FK_I64, total_compressed_size),
    CUSTOM(8, "key_value_metadata"),
    FIELD(dl_pq_column_meta, 9, FK_I64, data_page_offset),
    OPTIONAL(dl_pq_column_meta, 10, FK_I64, index_page_offset),
    OPTIONAL(dl_pq_column_meta, 11, FK_I64, dictionary_page_offset),
    NESTED(dl_pq_column_meta, 12, statistics, &statistics_spec),
    CUSTOM(13, "encoding_stats"),
    OPTIONAL_FLAG(dl_pq_column_meta, 14, FK_I64, bloom_filter_offset, has_bloom_filter),
    CUSTOM(15, "bloom_filter_length"),
};
static const struct_spec column_meta_spec = {.name = "ColumnMetaData",
                                             SPEC_FIELDS(column_meta_fields),
                                             .decode_field = column_meta_decode,
                                             .encode_field = column_meta_encode,
                                             .required = ID(1) | ID(2) | ID(3) | ID(4) | ID(5) |
                                                         ID(6) | ID(7) | ID(9)};

static int column_chunk_decode(decoder *d, void *obj, int16_t id, uint8_t t) {
    dl_pq_column_chunk *c = obj;
    if (id == 3) {
        c->has_meta_data = true;
        return decode_struct(d, t, &column_meta_spec, &c->meta);
    }
    c->encrypted = true; /* 8: crypto_metadata, 9: encrypted_column_metadata */
    return dl_tc_skip(&d->r, t);
}

/* An offset without its length (or the reverse) cannot be used. */
static int column_chunk_finish(decoder *d, void *obj, uint32_t seen) {
    dl_pq_column_chunk *c = obj;
    (void)d;
    c->has_offset_index = (seen & dl_tc_seen_bit(4)) && (seen & dl_tc_seen_bit(5));
    c->has_column_index = (seen & dl_tc_seen_bit(6)) && (seen & dl_tc_seen_bit(7));
    return DL_OK;
}

static void column_chunk_encode(dl_tc_writer *w, const void *obj, int16_t id) {
    const dl_pq_column_chunk *c = obj;
    if (id != 3 || !c->has_meta_data) return; /* 8, 9: encrypted chunks are refused earlier */
    const dl_pq_column_meta *m = &c->meta;
    if (bad_array(w, m->encodings, m->num_encodings, "ColumnMetaData.encodings") ||
        bad_array(w, m->path_in_schema, m->path_len, "ColumnMetaData.path_in_schema") ||
        bad_array(w, m->encoding_stats, m->num_encoding_stats, "ColumnMetaData.encoding_stats"))
        return;
    dl_tc_write_struct_field_begin(w, 3);
    encode_fields(w, &column_meta_spec, m);
    dl_tc_write_struct_end(w);
}

static const field_spec column_chunk_fields[] = {
    FIELD(dl_pq_column_chunk, 1, FK_STRING, file_path), /* written when non-NULL */
    FIELD(dl_pq_column_chunk, 2, FK_I64, file_offset),
    CUSTOM(3, "meta_data"),
    OPTIONAL_FLAG(dl_pq_column_chunk, 4, FK_I64, offset_index_offset, has_offset_index),
    OPTIONAL_FLAG(dl_pq_column_chunk, 5, FK_I32, offset_index_length, has_offset_index),
    OPTIONAL_FLAG(dl_pq_column_chunk, 6, FK_I64, column_index_offset, has_column_index),
    OPTIONAL_FLAG(dl_pq_column_chunk, 7, FK_I32, column_index_length, has_column_index),
    CUSTOM(8, "crypto_metadata"),
    CUSTOM(9, "encrypted_column_metadata"),
};
static const struct_spec column_chunk_spec = {.name = "ColumnChunk",
                                              SPEC_FIELDS(column_chunk_fields),
                                              .decode_field = column_chunk_decode,
                                              .finish = column_chunk_finish,
                                              .encode_field = column_chunk_encode,
                                              .required = ID(2)};

static const field_spec sorting_column_fields[] = {
    FIELD(dl_pq_sorting_column, 1, FK_I32, column_idx),
    FIELD(dl_pq_sorting_column, 2, FK_BOOL, descending),
    FIELD(dl_pq_sorting_column, 3, FK_BOOL, nulls_first),
};
static const struct_spec sorting_column_spec = {
    .name = "SortingColumn", SPEC_FIELDS(sorting_column_fields), .required = ID(1) | ID(2) | ID(3)};

static int row_group_decode(decoder *d, void *obj, int16_t id, uint8_t t) {
    dl_pq_row_group *g = obj;
    if (id == 1)
        return decode_struct_list(d, t, &column_chunk_spec, sizeof *g->columns, "column chunks",
                                  (void **)&g->columns, &g->num_columns);
    return decode_struct_list(d, t, &sorting_column_spec, sizeof *g->sorting_columns,
                              "sorting columns", (void **)&g->sorting_columns,
                              &g->num_sorting_columns);
}

static void encode_column_chunk(dl_tc_writer *w, const dl_pq_column_chunk *c) {
    if (c->encrypted) {
        dl_tc_writer_fail(w, DL_EUNSUPPORTED,
                          "parquet metadata encoder: encrypted column chunks are not supported");
        return;
    }
    encode_struct(w, &column_chunk_spec, c);
}

static void row_group_encode(dl_tc_writer *w, const void *obj, int16_t id) {
    const dl_pq_row_group *g = obj;
    if (id == 1) {
        dl_tc_write_list_field(w, 1, DL_TC_STRUCT, g->num_columns);
        for (int i = 0; i < g->num_columns && w->rc == DL_OK; i++)
            encode_column_chunk(w, &g->columns[i]);
    } else if (g->num_sorting_columns > 0) {
        encode_struct_list(w, 4, &sorting_column_spec, g->sorting_columns,
                           sizeof *g->sorting_columns, g->num_sorting_columns);
    }
}

static const field_spec row_group_fields[] = {
    CUSTOM(1, "columns"),
    FIELD(dl_pq_row_group, 2, FK_I64, total_byte_size),
    FIELD(dl_pq_row_group, 3, FK_I64, num_rows),
    CUSTOM(4, "sorting_columns"),
    OPTIONAL(dl_pq_row_group, 5, FK_I64, file_offset),
    OPTIONAL(dl_pq_row_group, 6, FK_I64, total_compressed_size),
    OPTIONAL(dl_pq_row_group, 7, FK_I16, ordinal),
};
static const struct_spec row_group_spec = {.name = "RowGroup",
                                           SPEC_FIELDS(row_group_fields),
                                           .decode_field = row_group_decode,
                                           .encode_field = row_group_encode,
                                           .required = ID(1) | ID(2) | ID(3)};

static void encode_row_group(dl_tc_writer *w, const dl_pq_row_group *g) {
    if (bad_array(w, g->columns, g->num_columns, "RowGroup.columns") ||
        bad_array(w, g->sorting_columns, g->num_sorting_columns, "RowGroup.sorting_columns"))
        return;
    encode_struct(w, &row_group_spec, g);
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

static int file_meta_decode(decoder *d, void *obj, int16_t id, uint8_t t) {
    dl_pq_file_meta *m = obj;
    switch (id) {
    case 2:
        return decode_struct_list(d, t, &schema_element_spec, sizeof *m->schema, "schema elements",
                                  (void **)&m->schema, &m->num_schema);
    case 4:
        return decode_struct_list(d, t, &row_group_spec, sizeof *m->row_groups, "row groups",
                                  (void **)&m->row_groups, &m->num_row_groups);
    case 5:
        return decode_kv_list(d, t, &m->kv, &m->num_kv);
    case 7:
        return decode_column_orders(d, t, m);
    default: /* 8: encryption_algorithm */
        m->encrypted = true;
        return dl_tc_skip(&d->r, t);
    }
}

static void file_meta_encode(dl_tc_writer *w, const void *obj, int16_t id) {
    const dl_pq_file_meta *m = obj;
    switch (id) {
    case 2:
        dl_tc_write_list_field(w, 2, DL_TC_STRUCT, m->num_schema);
        for (int i = 0; i < m->num_schema && w->rc == DL_OK; i++) {
            if (missing_string(w, m->schema[i].name, "name of schema element", i)) return;
            encode_struct(w, &schema_element_spec, &m->schema[i]);
        }
        break;
    case 4:
        dl_tc_write_list_field(w, 4, DL_TC_STRUCT, m->num_row_groups);
        for (int i = 0; i < m->num_row_groups && w->rc == DL_OK; i++)
            encode_row_group(w, &m->row_groups[i]);
        break;
    case 5:
        encode_kv_list(w, 5, m->kv, m->num_kv);
        break;
    case 7:
        encode_column_orders(w, m->column_orders, m->num_column_orders);
        break;
    default: /* 8: encrypted footers are refused before encoding */
        break;
    }
}

static const field_spec file_meta_fields[] = {
    FIELD(dl_pq_file_meta, 1, FK_I32, version),
    CUSTOM(2, "schema"),
    FIELD(dl_pq_file_meta, 3, FK_I64, num_rows),
    CUSTOM(4, "row_groups"),
    CUSTOM(5, "key_value_metadata"),
    FIELD(dl_pq_file_meta, 6, FK_STRING, created_by), /* written when non-NULL */
    CUSTOM(7, "column_orders"),
    CUSTOM(8, "encryption_algorithm"),
};
static const struct_spec file_meta_spec = {.name = "FileMetaData",
                                           SPEC_FIELDS(file_meta_fields),
                                           .decode_field = file_meta_decode,
                                           .encode_field = file_meta_encode,
                                           .required = ID(1) | ID(2) | ID(3) | ID(4)};

/* ---- page headers ---- */

static const field_spec data_page_header_fields[] = {
    FIELD(dl_pq_data_page_header, 1, FK_I32, num_values),
    FIELD(dl_pq_data_page_header, 2, FK_I32, encoding),
    FIELD(dl_pq_data_page_header, 3, FK_I32, definition_level_encoding),
    FIELD(dl_pq_data_page_header, 4, FK_I32, repetition_level_encoding),
    NESTED(dl_pq_data_page_header, 5, statistics, &statistics_spec),
};
static const struct_spec data_page_header_spec = {.name = "DataPageHeader",
                                                  SPEC_FIELDS(data_page_header_fields),
                                                  .required = ID(1) | ID(2) | ID(3) | ID(4)};

static const field_spec dictionary_page_header_fields[] = {
    FIELD(dl_pq_dictionary_page_header, 1, FK_I32, num_values),
    FIELD(dl_pq_dictionary_page_header, 2, FK_I32, encoding),
    OPTIONAL(dl_pq_dictionary_page_header, 3, FK_BOOL, is_sorted),
};
static const struct_spec dictionary_page_header_spec = {.name = "DictionaryPageHeader",
                                                        SPEC_FIELDS(dictionary_page_header_fields),
                                                        .required = ID(1) | ID(2)};

static void data_page_header_v2_init(void *obj) {
    ((dl_pq_data_page_header_v2 *)obj)->is_compressed = true; /* the thrift default */
}

static const field_spec data_page_header_v2_fields[] = {
    FIELD(dl_pq_data_page_header_v2, 1, FK_I32, num_values),
    FIELD(dl_pq_data_page_header_v2, 2, FK_I32, num_nulls),
    FIELD(dl_pq_data_page_header_v2, 3, FK_I32, num_rows),
    FIELD(dl_pq_data_page_header_v2, 4, FK_I32, encoding),
    FIELD(dl_pq_data_page_header_v2, 5, FK_I32, definition_levels_byte_length),
    FIELD(dl_pq_data_page_header_v2, 6, FK_I32, repetition_levels_byte_length),
    FIELD(dl_pq_data_page_header_v2, 7, FK_BOOL, is_compressed), /* readers disagree on defaults */
    NESTED(dl_pq_data_page_header_v2, 8, statistics, &statistics_spec),
};
static const struct_spec data_page_header_v2_spec = {.name = "DataPageHeaderV2",
                                                     SPEC_FIELDS(data_page_header_v2_fields),
                                                     .init = data_page_header_v2_init,
                                                     .required = ID(1) | ID(2) | ID(3) | ID(4) |
                                                                 ID(5) | ID(6)};

static int page_header_finish(decoder *d, void *obj, uint32_t seen) {
    const dl_pq_page_header *h = obj;
    (void)seen;
    if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
        return dl_tc_fail(&d->r, DL_ECORRUPT, "negative page size (uncompressed %d, compressed %d)",
                          h->uncompressed_page_size, h->compressed_page_size);
    return DL_OK;
}

static const field_spec page_header_fields[] = {
    FIELD(dl_pq_page_header, 1, FK_I32, type),
    FIELD(dl_pq_page_header, 2, FK_I32, uncompressed_page_size),
    FIELD(dl_pq_page_header, 3, FK_I32, compressed_page_size),
    OPTIONAL(dl_pq_page_header, 4, FK_I32, crc),
    NESTED(dl_pq_page_header, 5, data_page, &data_page_header_spec),
    /* 6: index_page_header, unused */
    NESTED(dl_pq_page_header, 7, dictionary_page, &dictionary_page_header_spec),
    NESTED(dl_pq_page_header, 8, data_page_v2, &data_page_header_v2_spec),
};
static const struct_spec page_header_spec = {.name = "PageHeader",
                                             SPEC_FIELDS(page_header_fields),
                                             .finish = page_header_finish,
                                             .required = ID(1) | ID(2) | ID(3)};

/* ---- page index ---- */

static const field_spec page_location_fields[] = {
    FIELD(dl_pq_page_location, 1, FK_I64, offset),
    FIELD(dl_pq_page_location, 2, FK_I32, compressed_page_size),
    FIELD(dl_pq_page_location, 3, FK_I64, first_row_index),
};
static const struct_spec page_location_spec = {
    .name = "PageLocation", SPEC_FIELDS(page_location_fields), .required = ID(1) | ID(2) | ID(3)};

static int offset_index_decode(decoder *d, void *obj, int16_t id, uint8_t t) {
    dl_pq_offset_index *oi = obj;
    (void)id; /* only 1: page_locations (2, unencoded_byte_array_data_bytes, is skipped) */
    return decode_struct_list(d, t, &page_location_spec, sizeof *oi->pages, "page locations",
                              (void **)&oi->pages, &oi->num_pages);
}

static void offset_index_encode(dl_tc_writer *w, const void *obj, int16_t id) {
    const dl_pq_offset_index *oi = obj;
    (void)id;
    encode_struct_list(w, 1, &page_location_spec, oi->pages, sizeof *oi->pages, oi->num_pages);
}

static const field_spec offset_index_fields[] = {CUSTOM(1, "page_locations")};
static const struct_spec offset_index_spec = {.name = "OffsetIndex",
                                              SPEC_FIELDS(offset_index_fields),
                                              .decode_field = offset_index_decode,
                                              .encode_field = offset_index_encode,
                                              .required = ID(1)};

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
    if (rc == DL_OK) rc = decode_struct(&d, DL_TC_STRUCT, &file_meta_spec, out);
    if (rc == DL_OK) rc = expect_end(&d.r, "FileMetaData");
    return rc;
}

int dl_pq_decode_page_header(const uint8_t *buf, size_t len, dl_pq_page_header *out,
                             size_t *header_len, dl_error *err) {
    decoder d;
    memset(out, 0, sizeof *out);
    int rc = decoder_init(&d, buf, len, NULL, err);
    if (rc == DL_OK) rc = decode_struct(&d, DL_TC_STRUCT, &page_header_spec, out);
    if (rc == DL_OK) *header_len = dl_tc_offset(&d.r);
    return rc;
}

int dl_pq_decode_offset_index(const uint8_t *buf, size_t len, dl_arena *arena,
                              dl_pq_offset_index *out, dl_error *err) {
    decoder d;
    memset(out, 0, sizeof *out);
    int rc = decoder_init(&d, buf, len, arena, err);
    if (rc == DL_OK) rc = decode_struct(&d, DL_TC_STRUCT, &offset_index_spec, out);
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
** Public encoders (sticky errors: see dl_tc_writer)
** ==================================================================== */

int dl_pq_encode_file_meta(const dl_pq_file_meta *m, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    if (m->encrypted)
        dl_tc_writer_fail(&w, DL_EUNSUPPORTED,
                          "parquet metadata encoder: encrypted footers are not supported");
    if (bad_array(&w, m->schema, m->num_schema, "FileMetaData.schema") ||
        bad_array(&w, m->row_groups, m->num_row_groups, "FileMetaData.row_groups"))
        return dl_tc_writer_finish(&w);
    encode_struct(&w, &file_meta_spec, m);
    return dl_tc_writer_finish(&w);
}

int dl_pq_encode_page_header(const dl_pq_page_header *h, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    encode_struct(&w, &page_header_spec, h);
    return dl_tc_writer_finish(&w);
}

int dl_pq_encode_offset_index(const dl_pq_offset_index *oi, dl_buf *out, dl_error *err) {
    dl_tc_writer w;
    dl_tc_writer_init(&w, out, err);
    if (bad_array(&w, oi->pages, oi->num_pages, "OffsetIndex.page_locations"))
        return dl_tc_writer_finish(&w);
    encode_struct(&w, &offset_index_spec, oi);
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
