/*
** dl_arrow_internal.h -- what the C Data Interface exporter and the IPC
** writer share: the mapping of dl types to Arrow types, and the Arrow
** buffers of a row range of a dl_column (bit-packed bools, int32 offsets,
** shifted validity...).  One place decides the layout, so the two outputs
** cannot disagree.  Not part of the public API.
*/
#ifndef DL_ARROW_INTERNAL_H
#define DL_ARROW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"

/* Schema.fbs `Type` union ids of the types we produce. */
enum {
    DL_ARROW_INT = 2,
    DL_ARROW_FLOATING_POINT = 3,
    DL_ARROW_BINARY = 4,
    DL_ARROW_UTF8 = 5,
    DL_ARROW_BOOL = 6,
    DL_ARROW_DECIMAL = 7,
    DL_ARROW_DATE = 8,
    DL_ARROW_TIMESTAMP = 10,
    DL_ARROW_LARGE_BINARY = 19,
    DL_ARROW_LARGE_UTF8 = 20
};

/* Offsets of Utf8/Binary are int32: a batch's bytes of one column must stay
** below this, else LargeUtf8/LargeBinary (C Data) or a split batch (IPC). */
#define DL_ARROW_MAX_SMALL_VAR_BYTES ((int64_t)INT32_MAX)

#define DL_ARROW_MAX_BUFFERS 3

typedef struct dl_arrow_type {
    uint8_t type_id;           /* DL_ARROW_* */
    int32_t bit_width;         /* Int 32/64, Decimal 128 */
    int16_t float_precision;   /* FloatingPoint: SINGLE 1, DOUBLE 2 */
    int16_t time_unit;         /* Timestamp: MILLISECOND 1, MICROSECOND 2, NANOSECOND 3 */
    bool utc;                  /* Timestamp: timezone "UTC", else none */
    int32_t decimal_precision; /* Decimal */
    int32_t decimal_scale;
    char format[32]; /* C Data Interface format string */
} dl_arrow_type;

/* The Arrow type of field f; `large` selects 64-bit offsets for STRING/BINARY. */
int dl_arrow_type_of(const dl_field *f, bool large, dl_arrow_type *out, dl_error *err);

/* Checks that t's columns match its schema (type, unit, length) and that
** non-nullable fields hold no nulls; errors name the column. */
int dl_arrow_check_table(const dl_table *t, dl_error *err);

/*
** The Arrow buffers of rows [from, from + count) of a column:
** validity, then values (fixed width, bool) or offsets + data (var width).
** size[0] == 0 when the range has no nulls (the validity buffer is absent).
** direct[i] is the column's own memory when buffer i needs no conversion
** (else NULL: call dl_arrow_slice_fill).
*/
typedef struct dl_arrow_slice {
    const dl_column *col;
    const dl_arrow_type *type;
    int64_t from, count;
    int64_t null_count;
    int n_buffers;
    size_t size[DL_ARROW_MAX_BUFFERS];
    const void *direct[DL_ARROW_MAX_BUFFERS];
} dl_arrow_slice;

int dl_arrow_slice_init(dl_arrow_slice *s, const dl_column *col, const dl_arrow_type *type,
                        int64_t from, int64_t count, dl_error *err);
/* Writes buffer i (s->size[i] bytes) to dst. */
void dl_arrow_slice_fill(const dl_arrow_slice *s, int i, uint8_t *dst);

/* Nulls among rows [from, from + count) of col, from its validity bitmap. */
int64_t dl_arrow_null_count(const dl_column *col, int64_t from, int64_t count);

/* Bytes of string/binary data in rows [from, from + count) of col. */
int64_t dl_arrow_var_bytes(const dl_column *col, int64_t from, int64_t count);

/* Exports rows [from, from + count) of t as a struct array (and its schema
** when schema_out is not NULL).  A string/binary column whose bytes in the
** range exceed max_small_var_bytes gets 64-bit offsets ('U' / 'Z'). */
int dl_arrow_export_rows(const dl_table *t, int64_t from, int64_t count,
                         int64_t max_small_var_bytes, struct ArrowSchema *schema_out,
                         struct ArrowArray *array_out, dl_error *err);

/* A producer of dl_table batches: next fills `batch` (initialised with the
** stream's schema and cleared by the caller) with the next rows, 0 rows
** meaning the end; close frees the producer.  next is never called again
** after an error or the end. */
typedef struct dl_batch_source {
    void *self;
    int (*next)(void *self, dl_table *batch, dl_error *err);
    void (*close)(void *self);
} dl_batch_source;

/* Wraps a producer of batches of `schema` (copied) in an ArrowArrayStream.
** On success the stream owns the producer (its release calls close); on
** failure the caller still does. */
int dl_arrow_stream_from_source(const dl_schema *schema, const dl_batch_source *src,
                                struct ArrowArrayStream *out, dl_error *err);
/* Lowers the string bytes per exported array (tests exercise splitting). */
void dl_arrow_stream_set_max_var_bytes(struct ArrowArrayStream *s, int64_t max_bytes);
/* The errno value get_next/get_schema return for a dl_status. */
int dl_status_to_errno(int status);

/* Lowers the per-batch string bytes at which the IPC writer splits a batch
** (default DL_ARROW_MAX_SMALL_VAR_BYTES), so tests can exercise splitting. */
void dl_ipc_writer_set_max_var_bytes(dl_ipc_writer *w, int64_t max_bytes);

#endif /* DL_ARROW_INTERNAL_H */
