/*
** dl_arrow_ipc.c -- the Arrow IPC streaming-format writer (Columnar.rst
** "Serialization and Interprocess Communication"): a Schema message, one
** RecordBatch message per batch, then the end-of-stream marker.
**
** Each message is framed as 0xFFFFFFFF, an i32 metadata size (the
** flatbuffer Message padded to 8 bytes), the Message, then the body: every
** buffer at an 8-byte aligned offset and padded to 8 bytes.  Bodies are
** uncompressed: Arrow JS and older readers cannot decompress.
**
** The schema is fixed before the first batch, so string/binary columns are
** always Utf8/Binary (int32 offsets); a batch whose bytes of one column
** exceed 2^31-1 is written as several record batches instead of switching
** to LargeUtf8 midway.
**
** Buffers needing no conversion go straight from the column to the write
** callback; converted ones (bit-packed bools, int32 offsets, shifted
** validity) pass through one scratch buffer reused across batches.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "arrow/dl_flatbuf.h"
#include "util/dl_buf.h"
#include "util/dl_fault.h"
#include "util/dl_internal.h"

/* Message.fbs / Schema.fbs slot ids and enum values */
enum { MSG_VERSION = 0, MSG_HEADER_TYPE = 1, MSG_HEADER = 2, MSG_BODY_LENGTH = 3, MSG_SLOTS = 5 };
enum { HEADER_SCHEMA = 1, HEADER_RECORD_BATCH = 3 };
enum { METADATA_V5 = 4 };
enum { SCHEMA_FIELDS = 1, SCHEMA_SLOTS = 4 };
enum {
    FIELD_NAME = 0,
    FIELD_NULLABLE = 1,
    FIELD_TYPE_TYPE = 2,
    FIELD_TYPE = 3,
    FIELD_CHILDREN = 5,
    FIELD_SLOTS = 7
};
enum { BATCH_LENGTH = 0, BATCH_NODES = 1, BATCH_BUFFERS = 2, BATCH_SLOTS = 5 };

#define IPC_CONTINUATION 0xFFFFFFFFu

struct dl_ipc_writer {
    dl_schema schema;
    dl_arrow_type *types; /* one per field */
    dl_write_fn write;
    void *ctx;
    int64_t offset; /* stream bytes written so far */
    bool failed;    /* a write failed: the stream is unusable */
    int64_t max_var_bytes;
    dl_fb_builder fb;
    dl_buf scratch;
    dl_arrow_slice *slices; /* per field, for the batch being written */
    int64_t *wire_nodes;    /* FieldNode {length, null_count} per field */
    int64_t *wire_buffers;  /* Buffer {offset, length}, up to 3 per field */
};

static int emit(dl_ipc_writer *w, const void *data, size_t len, dl_error *err) {
    if (len == 0) return DL_OK;
    int cb = w->write(w->ctx, data, len);
    if (cb != 0) {
        w->failed = true;
        return dl_error_set(err, DL_EIO,
                            "arrow ipc: write of %zu bytes at stream offset %lld failed "
                            "(callback returned %d)",
                            len, (long long)w->offset, cb);
    }
    w->offset += (int64_t)len;
    return DL_OK;
}

static int emit_padding(dl_ipc_writer *w, size_t len, dl_error *err) {
    static const uint8_t zeros[8] = {0};
    return emit(w, zeros, (8 - (len & 7)) & 7, err);
}

/* Finishes the Message table around `header` and writes the framed
** metadata (continuation, size, flatbuffer already padded to 8). */
static int emit_message(dl_ipc_writer *w, uint8_t header_type, dl_fb_ref header,
                        int64_t body_length, dl_error *err) {
    dl_fb_builder *fb = &w->fb;
    dl_fb_table_start(fb, MSG_SLOTS);
    dl_fb_add_i64(fb, MSG_BODY_LENGTH, body_length);
    dl_fb_add_ref(fb, MSG_HEADER, header);
    dl_fb_add_i16(fb, MSG_VERSION, METADATA_V5);
    dl_fb_add_u8(fb, MSG_HEADER_TYPE, header_type);
    dl_fb_ref msg = dl_fb_table_end(fb);
    const uint8_t *meta;
    size_t meta_len;
    int rc = dl_fb_finish(fb, msg, &meta, &meta_len, err);
    if (rc != DL_OK) return rc;
    uint32_t prefix[2] = {IPC_CONTINUATION, (uint32_t)meta_len}; /* meta_len % 8 == 0 */
    rc = emit(w, prefix, sizeof prefix, err);
    return rc != DL_OK ? rc : emit(w, meta, meta_len, err);
}

/* ---- schema ---- */

static dl_fb_ref build_type(dl_fb_builder *fb, const dl_arrow_type *t) {
    dl_fb_ref timezone = t->utc ? dl_fb_string(fb, "UTC", 3) : 0;
    switch (t->type_id) {
    case DL_ARROW_INT: /* Int { bitWidth: int, is_signed: bool } */
        dl_fb_table_start(fb, 2);
        dl_fb_add_i32(fb, 0, t->bit_width);
        dl_fb_add_u8(fb, 1, 1);
        break;
    case DL_ARROW_FLOATING_POINT: /* FloatingPoint { precision: short } */
        dl_fb_table_start(fb, 1);
        dl_fb_add_i16(fb, 0, t->float_precision);
        break;
    case DL_ARROW_DECIMAL: /* Decimal { precision, scale, bitWidth: int } */
        dl_fb_table_start(fb, 3);
        dl_fb_add_i32(fb, 0, t->decimal_precision);
        dl_fb_add_i32(fb, 1, t->decimal_scale);
        dl_fb_add_i32(fb, 2, t->bit_width);
        break;
    case DL_ARROW_DATE: /* Date { unit: short }: DAY = 0, written since the default is ms */
        dl_fb_table_start(fb, 1);
        dl_fb_add_i16(fb, 0, 0);
        break;
    case DL_ARROW_TIMESTAMP: /* Timestamp { unit: short, timezone: string } */
        dl_fb_table_start(fb, 2);
        dl_fb_add_i16(fb, 0, t->time_unit);
        dl_fb_add_ref(fb, 1, timezone);
        break;
    default: /* Bool, Utf8, Binary, LargeUtf8, LargeBinary: empty tables */
        dl_fb_table_start(fb, 0);
        break;
    }
    return dl_fb_table_end(fb);
}

static int emit_schema(dl_ipc_writer *w, dl_error *err) {
    int rc = DL_OK;
    dl_fb_builder *fb = &w->fb;
    int n = w->schema.num_fields;
    dl_fb_ref *field_refs = malloc(sizeof(dl_fb_ref) * (size_t)(n ? n : 1));
    if (!field_refs) DL_FAIL(err, DL_ENOMEM, "arrow ipc: out of memory for the schema");
    dl_fb_reset(fb);
    for (int i = 0; i < n; i++) {
        const dl_field *f = &w->schema.fields[i];
        dl_fb_ref name = dl_fb_string(fb, f->name, strlen(f->name));
        dl_fb_ref type = build_type(fb, &w->types[i]);
        /* empty, but old Arrow C++ rejects a Field without children */
        dl_fb_ref children = dl_fb_ref_vector(fb, NULL, 0);
        dl_fb_table_start(fb, FIELD_SLOTS);
        dl_fb_add_ref(fb, FIELD_NAME, name);
        dl_fb_add_ref(fb, FIELD_TYPE, type);
        dl_fb_add_ref(fb, FIELD_CHILDREN, children);
        dl_fb_add_u8(fb, FIELD_NULLABLE, f->nullable);
        dl_fb_add_u8(fb, FIELD_TYPE_TYPE, w->types[i].type_id);
        field_refs[i] = dl_fb_table_end(fb);
    }
    dl_fb_ref fields = dl_fb_ref_vector(fb, field_refs, (size_t)n);
    dl_fb_table_start(fb, SCHEMA_SLOTS); /* endianness: Little, the default */
    dl_fb_add_ref(fb, SCHEMA_FIELDS, fields);
    dl_fb_ref schema = dl_fb_table_end(fb);
    DL_TRY(emit_message(w, HEADER_SCHEMA, schema, 0, err));
cleanup:
    free(field_refs);
    return rc;
}

/* ---- writer lifecycle ---- */

void dl_ipc_writer_abort(dl_ipc_writer *w) {
    if (!w) return;
    dl_schema_free(&w->schema);
    free(w->types);
    dl_fb_free(&w->fb);
    dl_buf_free(&w->scratch);
    free(w->slices);
    free(w->wire_nodes);
    free(w->wire_buffers);
    free(w);
}

int dl_ipc_writer_open(const dl_schema *schema, dl_write_fn write, void *ctx, dl_ipc_writer **out,
                       dl_error *err) {
    DL_REQUIRE(err, schema && write && out);
    int rc = DL_OK;
    *out = NULL;
    if (!write) return dl_error_set(err, DL_EINVAL, "arrow ipc: no write callback");
    dl_ipc_writer *w = calloc(1, sizeof *w);
    if (!w) return dl_error_set(err, DL_ENOMEM, "arrow ipc: out of memory");
    dl_schema_init(&w->schema);
    dl_fb_init(&w->fb);
    w->write = write;
    w->ctx = ctx;
    w->max_var_bytes = DL_ARROW_MAX_SMALL_VAR_BYTES;
    DL_TRY(dl_schema_copy(&w->schema, schema, err));
    size_t n = (size_t)(schema->num_fields ? schema->num_fields : 1);
    w->types = calloc(n, sizeof *w->types);
    w->slices = calloc(n, sizeof *w->slices);
    w->wire_nodes = calloc(n * 2, sizeof(int64_t));
    w->wire_buffers = calloc(n * 2 * DL_ARROW_MAX_BUFFERS, sizeof(int64_t));
    if (!w->types || !w->slices || !w->wire_nodes || !w->wire_buffers)
        DL_FAIL(err, DL_ENOMEM, "arrow ipc: out of memory for %d columns", schema->num_fields);
    for (int i = 0; i < schema->num_fields; i++)
        DL_TRY(dl_arrow_type_of(&schema->fields[i], false, &w->types[i], err));
    DL_TRY(emit_schema(w, err));
    *out = w;
cleanup:
    if (rc != DL_OK) dl_ipc_writer_abort(w);
    return rc;
}

void dl_ipc_writer_set_max_var_bytes(dl_ipc_writer *w, int64_t max_bytes) {
    w->max_var_bytes = max_bytes;
}

int dl_ipc_writer_close(dl_ipc_writer *w, dl_error *err) {
    if (!w) return dl_error_set(err, DL_EINVAL, "arrow ipc: close of a NULL writer");
    int rc = DL_OK;
    if (w->failed) {
        rc = dl_error_set(err, DL_EIO,
                          "arrow ipc: stream is incomplete after an earlier write "
                          "error");
    } else {
        static const uint32_t eos[2] = {IPC_CONTINUATION, 0};
        rc = emit(w, eos, sizeof eos, err);
    }
    dl_ipc_writer_abort(w);
    return rc;
}

/* ---- record batches ---- */

/* How many rows from `from` keep every string/binary column's bytes within
** the int32 offsets of Utf8/Binary (upper bound by bisection on offsets). */
static int rows_that_fit(const dl_ipc_writer *w, const dl_table *batch, int64_t from,
                         int64_t *count, dl_error *err) {
    int64_t fit = batch->num_rows - from;
    for (int i = 0; i < batch->schema.num_fields; i++) {
        const dl_column *col = &batch->columns[i];
        if (col->type != DL_TYPE_STRING && col->type != DL_TYPE_BINARY) continue;
        if (dl_arrow_var_bytes(col, from, fit) <= w->max_var_bytes) continue;
        int64_t lo = 0, hi = fit; /* lo fits, hi does not */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (dl_arrow_var_bytes(col, from, mid) <= w->max_var_bytes)
                lo = mid;
            else
                hi = mid;
        }
        if (lo == 0)
            return dl_error_set(err, DL_EUNSUPPORTED,
                                "arrow ipc: column %s row %lld: a value of %lld bytes exceeds "
                                "what one Utf8/Binary batch can address (%lld bytes)",
                                batch->schema.fields[i].name, (long long)from,
                                (long long)dl_arrow_var_bytes(col, from, 1),
                                (long long)w->max_var_bytes);
        fit = lo;
    }
    *count = fit;
    return DL_OK;
}

static int emit_buffer(dl_ipc_writer *w, const dl_arrow_slice *s, int i, dl_error *err) {
    const void *bytes = s->direct[i];
    if (!bytes && s->size[i] > 0) {
        dl_buf_reset(&w->scratch);
        uint8_t *dst = dl_buf_extend(&w->scratch, s->size[i]);
        if (!dst)
            return dl_error_set(err, DL_ENOMEM, "arrow ipc: out of memory converting %zu bytes",
                                s->size[i]);
        dl_arrow_slice_fill(s, i, dst);
        bytes = dst;
    }
    int rc = emit(w, bytes, s->size[i], err);
    return rc != DL_OK ? rc : emit_padding(w, s->size[i], err);
}

static size_t padded8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

static int emit_record_batch(dl_ipc_writer *w, const dl_table *batch, int64_t from, int64_t count,
                             dl_error *err) {
    int rc = DL_OK;
    int n = batch->schema.num_fields;
    size_t num_buffers = 0;
    int64_t body_length = 0;
    for (int i = 0; i < n; i++) {
        dl_arrow_slice *s = &w->slices[i];
        DL_TRY(dl_arrow_slice_init(s, &batch->columns[i], &w->types[i], from, count, err));
        w->wire_nodes[2 * i] = count;
        w->wire_nodes[2 * i + 1] = s->null_count;
        /* every slot of the layout, even an absent validity ({offset, 0}) */
        for (int b = 0; b < s->n_buffers; b++) {
            w->wire_buffers[2 * num_buffers] = body_length;
            w->wire_buffers[2 * num_buffers + 1] = (int64_t)s->size[b];
            body_length += (int64_t)padded8(s->size[b]);
            num_buffers++;
        }
    }
    dl_fb_builder *fb = &w->fb;
    dl_fb_reset(fb);
    dl_fb_ref nodes = dl_fb_struct_vector(fb, w->wire_nodes, 16, (size_t)n, 8);
    dl_fb_ref buffers = dl_fb_struct_vector(fb, w->wire_buffers, 16, num_buffers, 8);
    dl_fb_table_start(fb, BATCH_SLOTS);
    dl_fb_add_i64(fb, BATCH_LENGTH, count);
    dl_fb_add_ref(fb, BATCH_NODES, nodes);
    dl_fb_add_ref(fb, BATCH_BUFFERS, buffers);
    dl_fb_ref record_batch = dl_fb_table_end(fb);
    DL_TRY(emit_message(w, HEADER_RECORD_BATCH, record_batch, body_length, err));
    for (int i = 0; i < n; i++)
        for (int b = 0; b < w->slices[i].n_buffers; b++)
            DL_TRY(emit_buffer(w, &w->slices[i], b, err));
cleanup:
    return rc;
}

/* The batch must have the writer's columns: same count, types and units. */
static int check_batch_schema(const dl_ipc_writer *w, const dl_table *batch, dl_error *err) {
    if (batch->schema.num_fields != w->schema.num_fields)
        return dl_error_set(err, DL_ECONFLICT,
                            "arrow ipc: batch has %d columns but the stream's schema has %d",
                            batch->schema.num_fields, w->schema.num_fields);
    for (int i = 0; i < w->schema.num_fields; i++) {
        const dl_field *want = &w->schema.fields[i], *got = &batch->schema.fields[i];
        if (got->type != want->type || (want->type == DL_TYPE_TIMESTAMP && got->unit != want->unit))
            return dl_error_set(err, DL_ECONFLICT,
                                "arrow ipc: batch column %d (%s) is %s but the stream's column %s "
                                "is %s",
                                i, got->name, dl_type_name(got->type), want->name,
                                dl_type_name(want->type));
        const dl_column *col = &batch->columns[i];
        if (!want->nullable && col->validity && dl_arrow_null_count(col, 0, col->length) > 0)
            return dl_error_set(err, DL_ECONFLICT,
                                "arrow ipc: column %s is not nullable in the stream but the "
                                "batch holds nulls",
                                want->name);
    }
    return DL_OK;
}

int dl_ipc_writer_write(dl_ipc_writer *w, const dl_table *batch, dl_error *err) {
    DL_REQUIRE(err, w && batch);
    int rc = DL_OK;
    int64_t start_offset = w->offset, from = 0;
    if (w->failed)
        return dl_error_set(err, DL_EIO,
                            "arrow ipc: stream is unusable after an earlier write error");
    DL_TRY(check_batch_schema(w, batch, err));
    DL_TRY(dl_arrow_check_table(batch, err));
    do { /* an empty batch is still one (empty) record batch */
        int64_t count = 0;
        DL_TRY(rows_that_fit(w, batch, from, &count, err));
        DL_TRY(emit_record_batch(w, batch, from, count, err));
        from += count;
    } while (from < batch->num_rows);
cleanup:
    /* half a message in the stream cannot be taken back */
    if (rc != DL_OK && w->offset != start_offset) w->failed = true;
    return rc;
}

int dl_write_to_file(void *file, const void *data, size_t len) {
    return dl_io_fwrite(data, 1, len, (FILE *)file) == len ? 0 : -1;
}
