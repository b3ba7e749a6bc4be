/*
** dl_arrow_import.c -- Arrow C Data Interface arrays back into dl_tables,
** and the Arrow IPC stream written from any ArrowArrayStream (ours or
** another producer's).
**
** Only the types the library produces are imported: struct of bool, int32,
** int64, float32/64, utf8/binary (both offset widths), date32, timestamps
** in ms/us/ns and decimal128 whose values fit int64.  The arrays come from
** another component of the same process, so their pointers are trusted to
** be readable, but every count, offset and buffer presence is checked
** against the format before a byte is read: a malformed array is an error
** naming the column, never a crash on our side.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "util/dl_internal.h"

/* ---- schema ---- */

/* "tsu:UTC" -> timestamp us, instant; "tsn:" -> wall clock. */
static int import_format(const char *fmt, dl_field *f, dl_error *err) {
    static const struct {
        const char *format;
        dl_type type;
    } plain[] = {{"b", DL_TYPE_BOOL},   {"i", DL_TYPE_INT32},  {"l", DL_TYPE_INT64},
                 {"f", DL_TYPE_FLOAT},  {"g", DL_TYPE_DOUBLE}, {"u", DL_TYPE_STRING},
                 {"U", DL_TYPE_STRING}, {"z", DL_TYPE_BINARY}, {"Z", DL_TYPE_BINARY},
                 {"tdD", DL_TYPE_DATE}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(fmt, plain[i].format) == 0) {
            f->type = plain[i].type;
            return DL_OK;
        }
    if (strncmp(fmt, "ts", 2) == 0 && fmt[2] && fmt[3] == ':') {
        const char *units = "mun";
        const char *u = strchr(units, fmt[2]);
        if (!u || !fmt[2])
            return dl_error_set(err, DL_EUNSUPPORTED,
                                "arrow import: column %s: timestamp unit '%c' (only ms, us, ns)",
                                f->name, fmt[2]);
        f->type = DL_TYPE_TIMESTAMP;
        f->unit = (dl_time_unit)(u - units);
        f->utc = fmt[4] != 0; /* any timezone: an instant */
        return DL_OK;
    }
    int precision = 0, scale = 0, bits = 128, used = 0;
    if (sscanf(fmt, "d:%d,%d%n", &precision, &scale, &used) == 2 &&
        (fmt[used] == 0 || (sscanf(fmt + used, ",%d", &bits) == 1 && bits == 128))) {
        if (precision < 1 || precision > 18 || scale < 0 || scale > precision)
            return dl_error_set(err, DL_EUNSUPPORTED,
                                "arrow import: column %s: decimal(%d,%d) does not fit 64 bits",
                                f->name, precision, scale);
        f->type = precision <= 9 ? DL_TYPE_INT32 : DL_TYPE_INT64;
        f->decimal_precision = precision;
        f->decimal_scale = scale;
        if (scale == 0) /* dl marks decimals by a scale > 0: a plain integer */
            f->decimal_precision = 0;
        return DL_OK;
    }
    return dl_error_set(err, DL_EUNSUPPORTED, "arrow import: column %s: Arrow type '%s'", f->name,
                        fmt);
}

int dl_arrow_import_schema(const struct ArrowSchema *schema, dl_schema *out, dl_error *err) {
    int rc = DL_OK;
    if (out) dl_schema_init(out);
    if (!schema || !out || !schema->release)
        return dl_error_set(err, DL_EINVAL, "arrow import: no schema (or a released one)");
    if (!schema->format || strcmp(schema->format, "+s") != 0)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "arrow import: the schema is '%s', not a struct of columns",
                            schema->format ? schema->format : "(null)");
    if (schema->n_children < 0 || schema->n_children > INT32_MAX ||
        (schema->n_children > 0 && !schema->children))
        return dl_error_set(err, DL_EINVAL, "arrow import: struct schema with %lld children",
                            (long long)schema->n_children);
    for (int64_t i = 0; i < schema->n_children; i++) {
        const struct ArrowSchema *c = schema->children[i];
        if (!c || !c->format)
            DL_FAIL(err, DL_EINVAL, "arrow import: child %lld has no format", (long long)i);
        dl_field f = {.name = (char *)(c->name ? c->name : ""),
                      .nullable = (c->flags & ARROW_FLAG_NULLABLE) != 0};
        if (c->dictionary || c->n_children != 0)
            DL_FAIL(err, DL_EUNSUPPORTED, "arrow import: column %s is nested or dictionary-encoded",
                    f.name);
        DL_TRY(import_format(c->format, &f, err));
        DL_TRY(dl_schema_add_field(out, &f, err));
    }
cleanup:
    if (rc != DL_OK) dl_schema_free(out);
    return rc;
}

/* ---- arrays ---- */

static bool is_large_var(const char *fmt) {
    return strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0;
}

/* Appends rows [at, at + n) of child array a (already checked) to col. */
static int import_column(const dl_field *f, const char *fmt, const struct ArrowArray *a, int64_t at,
                         int64_t n, dl_column *col, dl_error *err) {
    const uint8_t *valid = a->null_count == 0 ? NULL : a->buffers[0];
    const void *values = a->buffers[1];
    bool var = f->type == DL_TYPE_STRING || f->type == DL_TYPE_BINARY;
    bool large = var && is_large_var(fmt);
    int64_t bytes = 0;
    if (var && n > 0) {
        int64_t first, last;
        if (large) {
            memcpy(&first, (const int64_t *)values + at, 8);
            memcpy(&last, (const int64_t *)values + at + n, 8);
        } else {
            first = ((const int32_t *)values)[at];
            last = ((const int32_t *)values)[at + n];
        }
        bytes = last - first;
        if (first < 0 || bytes < 0 || (bytes > 0 && !a->buffers[2]))
            return dl_error_set(err, DL_ECORRUPT, "arrow import: column %s: bad offsets", f->name);
    }
    int rc = dl_column_reserve(col, n, bytes, err);
    if (rc != DL_OK) return rc;
    bool decimal = f->decimal_scale > 0 || strncmp(fmt, "d:", 2) == 0;
    size_t width = dl_type_width(f->type);
    if (!valid && !var && !decimal && f->type != DL_TYPE_BOOL) { /* one copy */
        memcpy((uint8_t *)col->values + (size_t)col->length * width,
               (const uint8_t *)values + (size_t)at * width, (size_t)n * width);
        col->length += n;
        return DL_OK;
    }
    for (int64_t i = at; i < at + n && rc == DL_OK; i++) {
        if (valid && !dl_bitmap_get(valid, i)) {
            rc = dl_column_append_null(col, err);
            continue;
        }
        if (var) {
            int64_t b, e;
            if (large) {
                memcpy(&b, (const int64_t *)values + i, 8);
                memcpy(&e, (const int64_t *)values + i + 1, 8);
            } else {
                b = ((const int32_t *)values)[i];
                e = ((const int32_t *)values)[i + 1];
            }
            if (b < 0 || e < b)
                return dl_error_set(err, DL_ECORRUPT,
                                    "arrow import: column %s: offsets decrease at row %lld",
                                    f->name, (long long)(i - at));
            rc = dl_column_append_str(col, (const char *)a->buffers[2] + b, (size_t)(e - b), err);
        } else if (decimal) {
            int64_t lo, hi;
            memcpy(&lo, (const uint8_t *)values + 16 * i, 8);
            memcpy(&hi, (const uint8_t *)values + 16 * i + 8, 8);
            if (hi != (lo < 0 ? -1 : 0) ||
                (f->type == DL_TYPE_INT32 && (lo < INT32_MIN || lo > INT32_MAX)))
                return dl_error_set(err, DL_EUNSUPPORTED,
                                    "arrow import: column %s: decimal at row %lld exceeds %s",
                                    f->name, (long long)(i - at), dl_type_name(f->type));
            rc = f->type == DL_TYPE_INT32 ? dl_column_append_i32(col, (int32_t)lo, err)
                                          : dl_column_append_i64(col, lo, err);
        } else if (f->type == DL_TYPE_BOOL) {
            rc = dl_column_append_bool(col, dl_bitmap_get(values, i), err);
        } else {
            memcpy((uint8_t *)col->values + (size_t)col->length * width,
                   (const uint8_t *)values + (size_t)i * width, width);
            if (col->validity) dl_bitmap_set(col->validity, col->length);
            col->length++;
        }
    }
    return rc;
}

/* Checks child array a can be read for rows [at, at + n) as format fmt. */
static int check_child(const dl_field *f, const char *fmt, const struct ArrowArray *a, int64_t at,
                       int64_t n, dl_error *err) {
    bool var = f->type == DL_TYPE_STRING || f->type == DL_TYPE_BINARY;
    int64_t want_buffers = var ? 3 : 2;
    if (!a || !a->release)
        return dl_error_set(err, DL_EINVAL, "arrow import: column %s: no (or a released) array",
                            f->name);
    if (a->n_buffers != want_buffers || !a->buffers || a->n_children != 0 || a->dictionary)
        return dl_error_set(err, DL_EINVAL,
                            "arrow import: column %s: %lld buffers and %lld children for '%s'",
                            f->name, (long long)a->n_buffers, (long long)a->n_children, fmt);
    if (a->offset < 0 || a->length < 0 || at < a->offset || a->length < n ||
        at - a->offset > a->length - n)
        return dl_error_set(err, DL_EINVAL,
                            "arrow import: column %s: %lld rows at offset %lld, the struct needs "
                            "%lld rows at %lld",
                            f->name, (long long)a->length, (long long)a->offset, (long long)n,
                            (long long)at);
    if (a->null_count != 0 && !a->buffers[0] && n > 0)
        return dl_error_set(err, DL_EINVAL, "arrow import: column %s: nulls but no validity",
                            f->name);
    if ((n > 0 || var) && !a->buffers[1])
        return dl_error_set(err, DL_EINVAL, "arrow import: column %s: no value buffer", f->name);
    return DL_OK;
}

int dl_arrow_import_array(const dl_schema *schema, const struct ArrowSchema *arrow_schema,
                          const struct ArrowArray *array, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    if (!schema || !arrow_schema || !array || !out)
        return dl_error_set(err, DL_EINVAL, "arrow import: missing schema, array or output");
    if (!array->release)
        return dl_error_set(err, DL_EINVAL, "arrow import: the array was released");
    if (array->n_children != schema->num_fields || arrow_schema->n_children != schema->num_fields ||
        (array->n_children > 0 && !array->children))
        return dl_error_set(err, DL_EINVAL, "arrow import: the array has %lld columns, expected %d",
                            (long long)array->n_children, schema->num_fields);
    if (array->length < 0 || array->offset < 0 || array->null_count > 0)
        return dl_error_set(err, DL_EINVAL,
                            "arrow import: struct array of %lld rows at offset %lld with nulls "
                            "%lld (top-level nulls are not rows)",
                            (long long)array->length, (long long)array->offset,
                            (long long)array->null_count);
    DL_TRY(dl_table_init(out, schema, err));
    for (int c = 0; c < schema->num_fields; c++) {
        const struct ArrowArray *a = array->children[c];
        const char *fmt = arrow_schema->children[c]->format;
        int64_t at = array->offset + (a ? a->offset : 0);
        DL_TRY(check_child(&schema->fields[c], fmt, a, at, array->length, err));
        DL_TRY(import_column(&schema->fields[c], fmt, a, at, array->length, &out->columns[c], err));
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    if (rc != DL_OK) dl_table_free(out);
    return rc;
}

/* ---- IPC from a stream ---- */

/* The stream's own message, or a generic one naming the errno. */
static int stream_error(struct ArrowArrayStream *s, int code, const char *what, dl_error *err) {
    const char *msg = s->get_last_error ? s->get_last_error(s) : NULL;
    return dl_error_set(err, code == ENOMEM ? DL_ENOMEM : DL_EIO, "arrow stream: %s failed: %s",
                        what, msg ? msg : strerror(code));
}

int dl_arrow_stream_write_ipc(struct ArrowArrayStream *stream, dl_write_fn write, void *ctx,
                              int64_t *rows_out, dl_error *err) {
    int rc = DL_OK;
    struct ArrowSchema aschema;
    struct ArrowArray array;
    memset(&aschema, 0, sizeof aschema);
    memset(&array, 0, sizeof array);
    dl_schema schema;
    dl_schema_init(&schema);
    dl_table batch;
    memset(&batch, 0, sizeof batch);
    dl_ipc_writer *w = NULL;
    int64_t rows = 0;
    if (rows_out) *rows_out = 0;
    if (!stream || !stream->release)
        return dl_error_set(err, DL_EINVAL, "arrow stream: no stream (or a released one)");
    if (!write) DL_FAIL(err, DL_EINVAL, "arrow stream: no write callback");
    int code = stream->get_schema(stream, &aschema);
    if (code != 0) DL_TRY(stream_error(stream, code, "get_schema", err));
    DL_TRY(dl_arrow_import_schema(&aschema, &schema, err));
    DL_TRY(dl_ipc_writer_open(&schema, write, ctx, &w, err));
    for (;;) {
        code = stream->get_next(stream, &array);
        if (code != 0) DL_TRY(stream_error(stream, code, "get_next", err));
        if (!array.release) break;
        DL_TRY(dl_arrow_import_array(&schema, &aschema, &array, &batch, err));
        array.release(&array);
        DL_TRY(dl_ipc_writer_write(w, &batch, err));
        rows += batch.num_rows;
        dl_table_free(&batch);
    }
    rc = dl_ipc_writer_close(w, err);
    w = NULL;
cleanup:
    if (w) dl_ipc_writer_abort(w);
    if (array.release) array.release(&array);
    if (aschema.release) aschema.release(&aschema);
    dl_table_free(&batch);
    dl_schema_free(&schema);
    stream->release(stream);
    if (rc == DL_OK && rows_out) *rows_out = rows;
    return rc;
}
