/*
** dl_arrow_layout.c -- dl types to Arrow types, and the Arrow buffers of a
** row range of a dl_column (shared by the C Data exporter and the IPC
** writer; see dl_arrow_internal.h).
**
** dl_column vs Arrow (Columnar.rst "Physical memory layout"):
**   - validity: both LSB-first bitmaps; a range not starting on a byte
**     boundary is shifted; no nulls -> no buffer (null_count 0).
**   - BOOL: dl keeps one byte per value, Arrow one bit -> packed.
**   - STRING/BINARY: dl offsets are int64 from 0; Arrow Utf8/Binary want
**     int32 (converted), LargeUtf8/LargeBinary int64 (rebased if needed).
**   - decimals (INT32/INT64 with decimal_scale > 0, read from Parquet):
**     Arrow Decimal128, values sign-extended to 16 bytes.
**   - everything else: the column's bytes as they are.
*/
#include <stdio.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "util/dl_internal.h"

static bool is_var_width(dl_type t) {
    return t == DL_TYPE_STRING || t == DL_TYPE_BINARY;
}

static bool is_decimal(const dl_field *f) {
    return f->decimal_scale > 0 && (f->type == DL_TYPE_INT32 || f->type == DL_TYPE_INT64);
}

int dl_arrow_type_of(const dl_field *f, bool large, dl_arrow_type *out, dl_error *err) {
    memset(out, 0, sizeof *out);
    const char *fmt = NULL;
    if (is_decimal(f)) {
        /* Parquet allows precision up to 9 (int32) / 18 (int64) here; fall
        ** back to the largest when the file did not say. */
        int32_t max_precision = f->type == DL_TYPE_INT32 ? 9 : 18;
        int32_t precision = f->decimal_precision > 0 ? f->decimal_precision : max_precision;
        if (precision > 38 || f->decimal_scale > precision)
            return dl_error_set(err, DL_EUNSUPPORTED,
                                "column %s: decimal(%d,%d) does not fit Arrow Decimal128", f->name,
                                precision, f->decimal_scale);
        out->type_id = DL_ARROW_DECIMAL;
        out->bit_width = 128;
        out->decimal_precision = precision;
        out->decimal_scale = f->decimal_scale;
        snprintf(out->format, sizeof out->format, "d:%d,%d", precision, f->decimal_scale);
        return DL_OK;
    }
    switch (f->type) {
    case DL_TYPE_BOOL:
        out->type_id = DL_ARROW_BOOL, fmt = "b";
        break;
    case DL_TYPE_INT32:
        out->type_id = DL_ARROW_INT, out->bit_width = 32, fmt = "i";
        break;
    case DL_TYPE_INT64:
        out->type_id = DL_ARROW_INT, out->bit_width = 64, fmt = "l";
        break;
    case DL_TYPE_FLOAT:
        out->type_id = DL_ARROW_FLOATING_POINT, out->float_precision = 1, fmt = "f";
        break;
    case DL_TYPE_DOUBLE:
        out->type_id = DL_ARROW_FLOATING_POINT, out->float_precision = 2, fmt = "g";
        break;
    case DL_TYPE_STRING:
        out->type_id = large ? DL_ARROW_LARGE_UTF8 : DL_ARROW_UTF8, fmt = large ? "U" : "u";
        break;
    case DL_TYPE_BINARY:
        out->type_id = large ? DL_ARROW_LARGE_BINARY : DL_ARROW_BINARY, fmt = large ? "Z" : "z";
        break;
    case DL_TYPE_DATE:
        out->type_id = DL_ARROW_DATE, fmt = "tdD";
        break;
    case DL_TYPE_TIMESTAMP: {
        static const char unit_letter[] = {'m', 'u', 'n'};
        if ((unsigned)f->unit > DL_UNIT_NS)
            return dl_error_set(err, DL_EINVAL, "column %s: unknown timestamp unit %d", f->name,
                                (int)f->unit);
        out->type_id = DL_ARROW_TIMESTAMP;
        out->time_unit = (int16_t)(f->unit + 1); /* ms/us/ns -> MILLI 1, MICRO 2, NANO 3 */
        out->utc = f->utc;
        snprintf(out->format, sizeof out->format, "ts%c:%s", unit_letter[f->unit],
                 f->utc ? "UTC" : "");
        return DL_OK;
    }
    default:
        return dl_error_set(err, DL_EINVAL, "column %s: unknown type %d", f->name, (int)f->type);
    }
    snprintf(out->format, sizeof out->format, "%s", fmt);
    return DL_OK;
}

/* Number of clear bits in bitmap bits [from, from + count). */
static int64_t count_clear_bits(const uint8_t *bm, int64_t from, int64_t count) {
    int64_t set = 0, i = from, end = from + count;
    for (; i < end && (i & 7); i++) set += dl_bitmap_get(bm, i);
    for (; i + 8 <= end; i += 8) set += __builtin_popcount(bm[i >> 3]);
    for (; i < end; i++) set += dl_bitmap_get(bm, i);
    return count - set;
}

int64_t dl_arrow_null_count(const dl_column *col, int64_t from, int64_t count) {
    return col->validity ? count_clear_bits(col->validity, from, count) : 0;
}

int dl_arrow_check_table(const dl_table *t, dl_error *err) {
    for (int i = 0; i < t->schema.num_fields; i++) {
        const dl_field *f = &t->schema.fields[i];
        const dl_column *c = &t->columns[i];
        if (c->type != f->type || (f->type == DL_TYPE_TIMESTAMP && c->unit != f->unit))
            return dl_error_set(err, DL_EINVAL,
                                "column %s: holds %s values but the schema says %s%s%s", f->name,
                                dl_type_name(c->type), dl_type_name(f->type),
                                f->type == DL_TYPE_TIMESTAMP ? " in " : "",
                                f->type == DL_TYPE_TIMESTAMP ? dl_unit_name(f->unit) : "");
        if (c->length != t->num_rows)
            return dl_error_set(err, DL_EINVAL,
                                "column %s: %lld rows but the table has %lld (call dl_table_seal)",
                                f->name, (long long)c->length, (long long)t->num_rows);
        if (c->length > 0 && (is_var_width(c->type) ? !c->offsets : !c->values))
            return dl_error_set(err, DL_EINVAL, "column %s: %lld rows but no value buffer", f->name,
                                (long long)c->length);
        if (!c->validity && c->null_count != 0)
            return dl_error_set(err, DL_EINVAL, "column %s: null_count %lld but no validity bitmap",
                                f->name, (long long)c->null_count);
        int64_t nulls = f->nullable ? 0 : dl_arrow_null_count(c, 0, c->length);
        if (nulls > 0)
            return dl_error_set(err, DL_EINVAL,
                                "column %s: declared not nullable but holds %lld nulls", f->name,
                                (long long)nulls);
    }
    return DL_OK;
}

int64_t dl_arrow_var_bytes(const dl_column *col, int64_t from, int64_t count) {
    if (count == 0 || !col->offsets) return 0;
    return col->offsets[from + count] - col->offsets[from];
}

static size_t bitmap_bytes(int64_t count) {
    return (size_t)((count + 7) / 8);
}

int dl_arrow_slice_init(dl_arrow_slice *s, const dl_column *col, const dl_arrow_type *type,
                        int64_t from, int64_t count, dl_error *err) {
    memset(s, 0, sizeof *s);
    if (from < 0 || count < 0 || from > col->length || count > col->length - from)
        return dl_error_set(err, DL_EINTERNAL, "arrow: rows [%lld, +%lld) outside a column of %lld",
                            (long long)from, (long long)count, (long long)col->length);
    s->col = col;
    s->type = type;
    s->from = from;
    s->count = count;
    s->null_count = dl_arrow_null_count(col, from, count);
    if (s->null_count > 0) {
        s->size[0] = bitmap_bytes(count);
        if ((from & 7) == 0) s->direct[0] = col->validity + (from >> 3);
    }
    if (is_var_width(col->type)) {
        bool large = type->type_id == DL_ARROW_LARGE_UTF8 || type->type_id == DL_ARROW_LARGE_BINARY;
        int64_t bytes = dl_arrow_var_bytes(col, from, count);
        if (bytes < 0 || (!large && bytes > DL_ARROW_MAX_SMALL_VAR_BYTES))
            return dl_error_set(err, DL_EINTERNAL,
                                "arrow: %lld string bytes in one batch do not fit %s offsets",
                                (long long)bytes, large ? "int64" : "int32");
        s->n_buffers = 3;
        s->size[1] = (size_t)(count + 1) * (large ? 8 : 4);
        if (large && count > 0 && col->offsets[from] == 0) s->direct[1] = col->offsets + from;
        s->size[2] = (size_t)bytes;
        if (bytes > 0) s->direct[2] = col->data + col->offsets[from];
        return DL_OK;
    }
    s->n_buffers = 2;
    if (col->type == DL_TYPE_BOOL) {
        s->size[1] = bitmap_bytes(count);
    } else if (type->type_id == DL_ARROW_DECIMAL) {
        s->size[1] = (size_t)count * 16;
    } else {
        size_t width = dl_type_width(col->type);
        s->size[1] = (size_t)count * width;
        if (count > 0) s->direct[1] = (const uint8_t *)col->values + (size_t)from * width;
    }
    return DL_OK;
}

/* Bits [from, from + count) of src to dst starting at bit 0; the unused
** high bits of the last byte are cleared so output is deterministic. */
static void copy_bits(const uint8_t *src, int64_t src_bits, int64_t from, int64_t count,
                      uint8_t *dst) {
    size_t nbytes = bitmap_bytes(count), src_bytes = bitmap_bytes(src_bits);
    int shift = (int)(from & 7);
    size_t first = (size_t)(from >> 3);
    for (size_t k = 0; k < nbytes; k++) {
        unsigned v = src[first + k] >> shift;
        if (shift && first + k + 1 < src_bytes) v |= (unsigned)src[first + k + 1] << (8 - shift);
        dst[k] = (uint8_t)v;
    }
    if (count & 7) dst[nbytes - 1] &= (uint8_t)((1u << (count & 7)) - 1);
}

static void pack_bools(const uint8_t *values, int64_t count, uint8_t *dst) {
    memset(dst, 0, bitmap_bytes(count));
    for (int64_t i = 0; i < count; i++) dst[i >> 3] |= (uint8_t)((values[i] != 0) << (i & 7));
}

static void fill_offsets(const dl_arrow_slice *s, uint8_t *dst) {
    const int64_t *off = s->col->offsets;
    if (s->count == 0 || !off) { /* a zero-row column may have no offsets yet */
        memset(dst, 0, s->size[1]);
        return;
    }
    int64_t base = off[s->from];
    if (s->size[1] == (size_t)(s->count + 1) * 8) {
        for (int64_t i = 0; i <= s->count; i++) {
            int64_t v = off[s->from + i] - base;
            memcpy(dst + 8 * i, &v, 8);
        }
    } else {
        for (int64_t i = 0; i <= s->count; i++) {
            int32_t v = (int32_t)(off[s->from + i] - base); /* bounded by slice_init */
            memcpy(dst + 4 * i, &v, 4);
        }
    }
}

static void fill_decimals(const dl_arrow_slice *s, uint8_t *dst) {
    for (int64_t i = 0; i < s->count; i++) {
        int64_t lo;
        if (s->col->type == DL_TYPE_INT32) {
            int32_t v;
            memcpy(&v, (const int32_t *)s->col->values + s->from + i, 4);
            lo = v;
        } else {
            memcpy(&lo, (const int64_t *)s->col->values + s->from + i, 8);
        }
        int64_t hi = lo < 0 ? -1 : 0; /* two's complement sign extension */
        memcpy(dst + 16 * i, &lo, 8);
        memcpy(dst + 16 * i + 8, &hi, 8);
    }
}

void dl_arrow_slice_fill(const dl_arrow_slice *s, int i, uint8_t *dst) {
    if (s->size[i] == 0) return;
    if (s->direct[i]) {
        memcpy(dst, s->direct[i], s->size[i]);
    } else if (i == 0) {
        copy_bits(s->col->validity, s->col->length, s->from, s->count, dst);
    } else if (i == 1 && s->n_buffers == 3) {
        fill_offsets(s, dst);
    } else if (s->col->type == DL_TYPE_BOOL) {
        pack_bools((const uint8_t *)s->col->values + s->from, s->count, dst);
    } else {
        fill_decimals(s, dst);
    }
}
