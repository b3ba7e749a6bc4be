/*
** pq_schema.c -- dl_field <-> Parquet schema element (see pq_schema.h).
**
** Writer convention (parquet-format-notes.md §1.9): strings carry both the
** STRING logical type and the UTF8 converted type (DuckDB reads BLOB
** otherwise); timestamps carry TIMESTAMP(isAdjustedToUTC, unit) plus the
** legacy TIMESTAMP_MILLIS/MICROS converted type where one exists.
*/
#include "pq_schema.h"

#include <stdio.h>
#include <string.h>

#include "util/dl_internal.h"

static const int unit_to_pq[] = {DL_PQ_UNIT_MILLIS, DL_PQ_UNIT_MICROS, DL_PQ_UNIT_NANOS};

int dl_pq_element_from_field(const dl_field *field, dl_pq_schema_element *out, dl_error *err) {
    memset(out, 0, sizeof *out);
    out->name = field->name;
    out->has_repetition = true;
    out->repetition = field->nullable ? DL_PQ_OPTIONAL : DL_PQ_REQUIRED;
    out->has_type = true;
    switch (field->type) {
    case DL_TYPE_BOOL:
        out->type = DL_PQ_BOOLEAN;
        break;
    case DL_TYPE_INT32:
        out->type = DL_PQ_INT32;
        break;
    case DL_TYPE_INT64:
        out->type = DL_PQ_INT64;
        break;
    case DL_TYPE_FLOAT:
        out->type = DL_PQ_FLOAT;
        break;
    case DL_TYPE_DOUBLE:
        out->type = DL_PQ_DOUBLE;
        break;
    case DL_TYPE_BINARY:
        out->type = DL_PQ_BYTE_ARRAY;
        break;
    case DL_TYPE_STRING:
        out->type = DL_PQ_BYTE_ARRAY;
        out->logical.kind = DL_PQ_LT_STRING;
        out->has_converted_type = true;
        out->converted_type = DL_PQ_CT_UTF8;
        break;
    case DL_TYPE_DATE:
        out->type = DL_PQ_INT32;
        out->logical.kind = DL_PQ_LT_DATE;
        out->has_converted_type = true;
        out->converted_type = DL_PQ_CT_DATE;
        break;
    case DL_TYPE_TIMESTAMP:
        if ((unsigned)field->unit > DL_UNIT_NS)
            return dl_error_set(err, DL_EINVAL, "column %s: bad time unit", field->name);
        out->type = DL_PQ_INT64;
        out->logical.kind = DL_PQ_LT_TIMESTAMP;
        out->logical.utc = field->utc;
        out->logical.unit = unit_to_pq[field->unit];
        if (field->unit != DL_UNIT_NS) {
            out->has_converted_type = true;
            out->converted_type =
                field->unit == DL_UNIT_MS ? DL_PQ_CT_TIMESTAMP_MILLIS : DL_PQ_CT_TIMESTAMP_MICROS;
        }
        break;
    default:
        return dl_error_set(err, DL_EINVAL, "column %s: unknown type", field->name);
    }
    return DL_OK;
}

static const char *unit_desc(int unit) {
    return unit == DL_PQ_UNIT_MILLIS ? "MILLIS" : unit == DL_PQ_UNIT_MICROS ? "MICROS" : "NANOS";
}

static void describe_logical(const dl_pq_schema_element *el, char *buf, size_t size) {
    const dl_pq_logical_type *lt = &el->logical;
    buf[0] = 0;
    switch (lt->kind) {
    case DL_PQ_LT_STRING:
        snprintf(buf, size, "STRING");
        return;
    case DL_PQ_LT_ENUM:
        snprintf(buf, size, "ENUM");
        return;
    case DL_PQ_LT_JSON:
        snprintf(buf, size, "JSON");
        return;
    case DL_PQ_LT_BSON:
        snprintf(buf, size, "BSON");
        return;
    case DL_PQ_LT_UUID:
        snprintf(buf, size, "UUID");
        return;
    case DL_PQ_LT_FLOAT16:
        snprintf(buf, size, "FLOAT16");
        return;
    case DL_PQ_LT_DATE:
        snprintf(buf, size, "DATE");
        return;
    case DL_PQ_LT_DECIMAL:
        snprintf(buf, size, "DECIMAL(%d,%d)", lt->precision, lt->scale);
        return;
    case DL_PQ_LT_TIME:
        snprintf(buf, size, "TIME(%s,%s)", unit_desc(lt->unit), lt->utc ? "UTC" : "local");
        return;
    case DL_PQ_LT_TIMESTAMP:
        snprintf(buf, size, "TIMESTAMP(%s,%s)", unit_desc(lt->unit), lt->utc ? "UTC" : "local");
        return;
    case DL_PQ_LT_INTEGER:
        snprintf(buf, size, "INTEGER(%d,%s)", lt->bit_width, lt->is_signed ? "signed" : "unsigned");
        return;
    default:
        break;
    }
    if (!el->has_converted_type) return;
    static const char *const ct_names[] = {"UTF8",
                                           "MAP",
                                           "MAP_KEY_VALUE",
                                           "LIST",
                                           "ENUM",
                                           "DECIMAL",
                                           "DATE",
                                           "TIME_MILLIS",
                                           "TIME_MICROS",
                                           "TIMESTAMP_MILLIS",
                                           "TIMESTAMP_MICROS",
                                           "UINT_8",
                                           "UINT_16",
                                           "UINT_32",
                                           "UINT_64",
                                           "INT_8",
                                           "INT_16",
                                           "INT_32",
                                           "INT_64",
                                           "JSON",
                                           "BSON",
                                           "INTERVAL"};
    if (el->converted_type >= 0 &&
        el->converted_type < (int32_t)(sizeof ct_names / sizeof *ct_names))
        snprintf(buf, size, "%s", ct_names[el->converted_type]);
}

/* Effective annotation: the logical type if present, else the converted type. */
static int effective_kind(const dl_pq_schema_element *el, dl_pq_logical_type *lt) {
    *lt = el->logical;
    if (lt->kind != DL_PQ_LT_NONE) return lt->kind;
    if (!el->has_converted_type) return DL_PQ_LT_NONE;
    switch (el->converted_type) {
    case DL_PQ_CT_UTF8:
        return lt->kind = DL_PQ_LT_STRING;
    case DL_PQ_CT_ENUM:
        return lt->kind = DL_PQ_LT_ENUM;
    case DL_PQ_CT_JSON:
        return lt->kind = DL_PQ_LT_JSON;
    case DL_PQ_CT_DATE:
        return lt->kind = DL_PQ_LT_DATE;
    case DL_PQ_CT_DECIMAL:
        lt->scale = el->has_scale ? el->scale : 0;
        lt->precision = el->has_precision ? el->precision : 0;
        return lt->kind = DL_PQ_LT_DECIMAL;
    case DL_PQ_CT_TIMESTAMP_MILLIS:
    case DL_PQ_CT_TIMESTAMP_MICROS:
        lt->utc = true;
        lt->unit =
            el->converted_type == DL_PQ_CT_TIMESTAMP_MILLIS ? DL_PQ_UNIT_MILLIS : DL_PQ_UNIT_MICROS;
        return lt->kind = DL_PQ_LT_TIMESTAMP;
    case DL_PQ_CT_TIME_MILLIS:
    case DL_PQ_CT_TIME_MICROS:
        lt->unit =
            el->converted_type == DL_PQ_CT_TIME_MILLIS ? DL_PQ_UNIT_MILLIS : DL_PQ_UNIT_MICROS;
        return lt->kind = DL_PQ_LT_TIME;
    case DL_PQ_CT_UINT_8:
    case DL_PQ_CT_UINT_16:
    case DL_PQ_CT_UINT_32:
    case DL_PQ_CT_UINT_64:
        lt->is_signed = false;
        lt->bit_width = 8 << (el->converted_type - DL_PQ_CT_UINT_8);
        return lt->kind = DL_PQ_LT_INTEGER;
    case DL_PQ_CT_INT_8:
    case DL_PQ_CT_INT_16:
    case DL_PQ_CT_INT_32:
    case DL_PQ_CT_INT_64:
        lt->is_signed = true;
        lt->bit_width = 8 << (el->converted_type - DL_PQ_CT_INT_8);
        return lt->kind = DL_PQ_LT_INTEGER;
    default:
        return DL_PQ_LT_NONE;
    }
}

int dl_pq_field_from_element(const dl_pq_schema_element *el, dl_field *field, dl_pq_leaf *leaf,
                             dl_error *err) {
    memset(field, 0, sizeof *field);
    memset(leaf, 0, sizeof *leaf);
    field->name = (char *)(el->name ? el->name : "");
    if (!el->has_type || (el->has_num_children && el->num_children > 0))
        return dl_error_set(err, DL_EUNSUPPORTED, "column %s: nested columns are not supported",
                            field->name);
    if (el->has_repetition && el->repetition == DL_PQ_REPEATED)
        return dl_error_set(err, DL_EUNSUPPORTED, "column %s: repeated columns are not supported",
                            field->name);
    field->nullable = !el->has_repetition || el->repetition == DL_PQ_OPTIONAL;
    leaf->max_def = field->nullable ? 1 : 0;
    leaf->physical = el->type;
    leaf->type_length = el->has_type_length ? el->type_length : 0;
    describe_logical(el, leaf->logical_desc, sizeof leaf->logical_desc);
    dl_pq_logical_type lt;
    int kind = effective_kind(el, &lt);
    if (kind == DL_PQ_LT_DECIMAL) {
        field->decimal_scale = lt.scale;
        field->decimal_precision = lt.precision;
    }
    switch (el->type) {
    case DL_PQ_BOOLEAN:
        field->type = DL_TYPE_BOOL;
        break;
    case DL_PQ_INT32:
        field->type = kind == DL_PQ_LT_DATE ? DL_TYPE_DATE : DL_TYPE_INT32;
        if (kind == DL_PQ_LT_INTEGER && !lt.is_signed && lt.bit_width == 32) {
            field->type = DL_TYPE_INT64;
            leaf->convert = DL_PQ_CONV_U32_TO_I64;
        }
        break;
    case DL_PQ_INT64:
        field->type = DL_TYPE_INT64;
        if (kind == DL_PQ_LT_TIMESTAMP) {
            field->type = DL_TYPE_TIMESTAMP;
            field->utc = lt.utc;
            field->unit = lt.unit == DL_PQ_UNIT_MILLIS   ? DL_UNIT_MS
                          : lt.unit == DL_PQ_UNIT_MICROS ? DL_UNIT_US
                                                         : DL_UNIT_NS;
        }
        break;
    case DL_PQ_INT96:
        field->type = DL_TYPE_TIMESTAMP;
        field->unit = DL_UNIT_NS;
        field->utc = true;
        leaf->convert = DL_PQ_CONV_INT96_NS;
        break;
    case DL_PQ_FLOAT:
        field->type = DL_TYPE_FLOAT;
        break;
    case DL_PQ_DOUBLE:
        field->type = DL_TYPE_DOUBLE;
        break;
    case DL_PQ_BYTE_ARRAY:
        field->type = (kind == DL_PQ_LT_STRING || kind == DL_PQ_LT_ENUM || kind == DL_PQ_LT_JSON)
                          ? DL_TYPE_STRING
                          : DL_TYPE_BINARY;
        break;
    case DL_PQ_FIXED_LEN_BYTE_ARRAY:
        if (leaf->type_length <= 0 || leaf->type_length > (1 << 20))
            return dl_error_set(err, DL_ECORRUPT, "column %s: bad FIXED_LEN_BYTE_ARRAY length %d",
                                field->name, leaf->type_length);
        field->type = DL_TYPE_BINARY;
        leaf->convert = DL_PQ_CONV_FLBA_BINARY;
        break;
    default:
        return dl_error_set(err, DL_ECORRUPT, "column %s: unknown physical type %d", field->name,
                            el->type);
    }
    return DL_OK;
}
