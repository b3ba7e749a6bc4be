/*
** dl_table_ops.c -- the one core table/schema module shared by the lake
** (writes, schema evolution) and the query engine (uniform views): the
** lossless widening rule (int32 -> int64 / double, float -> double,
** timestamps ms -> us -> ns), the union of schemas under that rule, and
** conforming a table to a schema (missing columns -> null, narrow ->
** wide).  Type names in messages are dl_field_describe's.
*/
#include <stdio.h>
#include <string.h>

#include "util/dl_internal.h"
#include "util/dl_table_ops.h"

/* Can a value of type (a, ua) be stored as (b, ub) without loss? */
bool dl_widens_to(dl_type a, dl_time_unit ua, dl_type b, dl_time_unit ub) {
    if (a == b) return a != DL_TYPE_TIMESTAMP || ua <= ub; /* ms -> us -> ns is exact */
    if (a == DL_TYPE_INT32 && (b == DL_TYPE_INT64 || b == DL_TYPE_DOUBLE)) return true;
    if (a == DL_TYPE_FLOAT && b == DL_TYPE_DOUBLE) return true;
    return false;
}

int dl_schema_union(dl_schema *acc, const dl_schema *incoming, const char *what, dl_error *err) {
    for (int i = 0; i < incoming->num_fields; i++) {
        const dl_field *f = &incoming->fields[i];
        int j = dl_schema_find(acc, f->name);
        if (j < 0) {
            int rc = dl_schema_add_field(acc, f, err);
            if (rc != DL_OK) return rc;
            continue;
        }
        dl_field *have = &acc->fields[j];
        if (dl_widens_to(f->type, f->unit, have->type, have->unit)) {
            /* already wide enough */
        } else if (dl_widens_to(have->type, have->unit, f->type, f->unit)) {
            have->type = f->type;
            have->unit = f->unit;
        } else {
            char a[48], b[48];
            dl_field_describe(have, a, sizeof a);
            dl_field_describe(f, b, sizeof b);
            return dl_error_set(err, DL_ECONFLICT,
                                "%s: column \"%s\" changes type from %s to %s, which would lose "
                                "data; refused (write it under a new column name instead)",
                                what, f->name, a, b);
        }
        have->nullable = have->nullable || f->nullable;
    }
    return DL_OK;
}

static int64_t timestamp_scale(dl_time_unit from, dl_time_unit to) {
    int64_t s = 1;
    for (int u = (int)from; u < (int)to; u++) s *= 1000;
    return s;
}

/* Appends src converted to dst's type (a lossless widening checked before). */
static int append_converted(dl_column *dst, const dl_column *src, dl_error *err) {
    if (src->type == dst->type && (src->type != DL_TYPE_TIMESTAMP || src->unit == dst->unit))
        return dl_column_append_range(dst, src, 0, src->length, err);
    int rc = dl_column_reserve(dst, src->length, 0, err);
    if (rc != DL_OK) return rc;
    int64_t scale = src->type == DL_TYPE_TIMESTAMP ? timestamp_scale(src->unit, dst->unit) : 1;
    for (int64_t i = 0; i < src->length && rc == DL_OK; i++) {
        if (!dl_column_is_valid(src, i)) {
            rc = dl_column_append_null(dst, err);
            continue;
        }
        switch (src->type) {
        case DL_TYPE_INT32:
            if (dst->type == DL_TYPE_INT64)
                rc = dl_column_append_i64(dst, ((const int32_t *)src->values)[i], err);
            else
                rc = dl_column_append_f64(dst, ((const int32_t *)src->values)[i], err);
            break;
        case DL_TYPE_FLOAT:
            rc = dl_column_append_f64(dst, ((const float *)src->values)[i], err);
            break;
        case DL_TYPE_TIMESTAMP:
            rc = dl_column_append_i64(dst, ((const int64_t *)src->values)[i] * scale, err);
            break;
        default:
            rc = dl_error_set(err, DL_EINTERNAL, "no conversion from %s to %s",
                              dl_type_name(src->type), dl_type_name(dst->type));
        }
    }
    return rc;
}

int dl_table_conform(const dl_table *in, const dl_schema *target, dl_table *out, dl_error *err) {
    int rc = dl_table_init(out, target, err);
    if (rc != DL_OK) return rc;
    for (int i = 0; i < target->num_fields && rc == DL_OK; i++) {
        const dl_field *f = &target->fields[i];
        int j = dl_schema_find(&in->schema, f->name);
        dl_column *dst = &out->columns[i];
        if (j < 0) {
            rc = dl_column_reserve(dst, in->num_rows, 0, err);
            for (int64_t r = 0; r < in->num_rows && rc == DL_OK; r++)
                rc = dl_column_append_null(dst, err);
            continue;
        }
        const dl_field *g = &in->schema.fields[j];
        if (!dl_widens_to(g->type, g->unit, f->type, f->unit)) {
            char a[48], b[48];
            dl_field_describe(g, a, sizeof a);
            dl_field_describe(f, b, sizeof b);
            rc = dl_error_set(err, DL_ECONFLICT,
                              "column \"%s\" is %s here but %s in the dataset; refused", f->name, a,
                              b);
            break;
        }
        rc = append_converted(dst, &in->columns[j], err);
    }
    if (rc == DL_OK) rc = dl_table_seal(out, err);
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}
