/*
** pq_thrift.h -- a small Thrift Compact Protocol layer (the wire format of
** Parquet footers, page headers and page indexes): a bounds-checked decoder
** cursor for hostile input and a sticky-error encoder that appends to a
** dl_buf.  pq_meta.c builds the Parquet struct codecs on top of it.
**
** Decoder rules: every read checks the bytes that remain, varints longer
** than their type allows are rejected, list/set/map counts are bounded by
** the remaining bytes (every element takes at least one byte), and struct
** and container nesting is bounded by DL_TC_MAX_DEPTH so that skipping
** unknown fields cannot recurse without limit.  Errors are DL_ECORRUPT with
** a message naming the innermost struct, the byte offset and the path of
** enclosing structs.
*/
#ifndef PQ_THRIFT_H
#define PQ_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "../util/dl_buf.h"

/* Compact protocol wire types (low nibble of field and list headers). */
enum {
    DL_TC_STOP = 0,
    DL_TC_TRUE = 1, /* bool field whose value is true; also the bool list element type */
    DL_TC_FALSE = 2,
    DL_TC_I8 = 3,
    DL_TC_I16 = 4,
    DL_TC_I32 = 5,
    DL_TC_I64 = 6,
    DL_TC_DOUBLE = 7,
    DL_TC_BINARY = 8,
    DL_TC_LIST = 9,
    DL_TC_SET = 10,
    DL_TC_MAP = 11,
    DL_TC_STRUCT = 12,
    DL_TC_UUID = 13
};

/* Maximum nesting of structs and containers (Parquet itself needs about 7). */
#define DL_TC_MAX_DEPTH 32

/* ---- decoding ---- */

typedef struct dl_tc_reader {
    const uint8_t *start; /* for byte offsets in messages */
    const uint8_t *p;
    const uint8_t *end;
    dl_error *err;
    int depth;                         /* open structs and containers */
    int16_t last_id[DL_TC_MAX_DEPTH];  /* last field id per open struct */
    const char *name[DL_TC_MAX_DEPTH]; /* struct names for messages; NULL for containers */
} dl_tc_reader;

/* A required field of a struct: id (< 32) and name, for dl_tc_check_required. */
typedef struct dl_tc_field_name {
    int16_t id;
    const char *name;
} dl_tc_field_name;

void dl_tc_reader_init(dl_tc_reader *r, const uint8_t *buf, size_t len, dl_error *err);
static inline size_t dl_tc_offset(const dl_tc_reader *r) {
    return (size_t)(r->p - r->start);
}

/* Sets err to "<struct>: <message> at byte N (in A > B)" and returns code. */
int dl_tc_fail(dl_tc_reader *r, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#ifdef __clang_analyzer__
/* For the static analyzer only: it does not follow the variadic call and
** would explore a failure as a success (see dl_error_set in dl_internal.h). */
#define dl_tc_fail(r, code, ...) (dl_tc_fail((r), (code), __VA_ARGS__), (code))
#endif

/* Enters a struct value whose wire type is `wire_type` (DL_TC_STRUCT for a
** top-level struct or a list element); `name` is used in messages. */
int dl_tc_struct_begin(dl_tc_reader *r, uint8_t wire_type, const char *name);
/* Leaves the struct after dl_tc_read_field_header returned DL_TC_STOP. */
void dl_tc_struct_end(dl_tc_reader *r);
/* Reads the next field header; *type == DL_TC_STOP at the end of the struct. */
int dl_tc_read_field_header(dl_tc_reader *r, int16_t *id, uint8_t *type);

/* Typed value readers.  `wire_type` is the field's (or list element's) wire
** type; a mismatch is DL_ECORRUPT naming the field. */
int dl_tc_read_i8(dl_tc_reader *r, uint8_t wire_type, int8_t *out);
int dl_tc_read_i16(dl_tc_reader *r, uint8_t wire_type, int16_t *out);
int dl_tc_read_i32(dl_tc_reader *r, uint8_t wire_type, int32_t *out);
int dl_tc_read_i64(dl_tc_reader *r, uint8_t wire_type, int64_t *out);
int dl_tc_read_double(dl_tc_reader *r, uint8_t wire_type, double *out);
/* A bool field: the value is the wire type itself, no bytes follow. */
int dl_tc_read_bool(dl_tc_reader *r, uint8_t wire_type, bool *out);
/* A bool list element: one byte, 1 = true, anything else false (Java and
** C++ write 1/2, the spec says 1/0). */
int dl_tc_read_bool_elem(dl_tc_reader *r, bool *out);
/* A view of a binary/string value inside the input buffer. */
int dl_tc_read_binary(dl_tc_reader *r, uint8_t wire_type, const uint8_t **ptr, uint32_t *len);
/* Reads a list header for a field of wire type `wire_type` whose elements
** must be `elem_type` (bool lists accept element type 1 or 2; an empty list
** may carry any element type).  *count <= remaining bytes. */
int dl_tc_read_list_header(dl_tc_reader *r, uint8_t wire_type, uint8_t elem_type, int32_t *count);
/* Skips a field value of any wire type, nesting bounded by DL_TC_MAX_DEPTH. */
int dl_tc_skip(dl_tc_reader *r, uint8_t wire_type);

/* Records field `id` in the `seen` bit set (ids >= 32 are not tracked). */
static inline uint32_t dl_tc_seen_bit(int16_t id) {
    return id >= 0 && id < 32 ? (uint32_t)1 << id : 0;
}
/* Fails with "<struct>: required field <name> (<id>) missing" for the first
** entry of `required` whose bit is not in `seen`. */
int dl_tc_check_required(dl_tc_reader *r, uint32_t seen, const dl_tc_field_name *required,
                         size_t n_required);

/* ---- encoding ---- */

/* Errors are sticky: after the first failure every write is a no-op, and
** dl_tc_writer_finish reports it and truncates the output back to where
** encoding started. */
typedef struct dl_tc_writer {
    dl_buf *out;
    size_t start_len;
    dl_error *err;
    int rc;
    int depth;
    int16_t last_id[DL_TC_MAX_DEPTH];
} dl_tc_writer;

void dl_tc_writer_init(dl_tc_writer *w, dl_buf *out, dl_error *err);
/* Records the first failure (later ones are ignored). */
void dl_tc_writer_fail(dl_tc_writer *w, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int dl_tc_writer_finish(dl_tc_writer *w);

void dl_tc_write_field_header(dl_tc_writer *w, int16_t id, uint8_t type);
/* A struct value (top level or list element): begin, fields, end (stop byte). */
void dl_tc_write_struct_begin(dl_tc_writer *w);
void dl_tc_write_struct_end(dl_tc_writer *w);
/* Field header of type STRUCT followed by dl_tc_write_struct_begin. */
void dl_tc_write_struct_field_begin(dl_tc_writer *w, int16_t id);
/* An empty struct field: how union members without parameters are written. */
void dl_tc_write_empty_struct_field(dl_tc_writer *w, int16_t id);

void dl_tc_write_i8_field(dl_tc_writer *w, int16_t id, int8_t v);
void dl_tc_write_i16_field(dl_tc_writer *w, int16_t id, int16_t v);
void dl_tc_write_i32_field(dl_tc_writer *w, int16_t id, int32_t v);
void dl_tc_write_i64_field(dl_tc_writer *w, int16_t id, int64_t v);
void dl_tc_write_bool_field(dl_tc_writer *w, int16_t id, bool v);
void dl_tc_write_binary_field(dl_tc_writer *w, int16_t id, const void *ptr, size_t len);
void dl_tc_write_string_field(dl_tc_writer *w, int16_t id, const char *s);
/* Field header of type LIST followed by the list header. */
void dl_tc_write_list_field(dl_tc_writer *w, int16_t id, uint8_t elem_type, int32_t count);

/* Bare values, for list elements. */
void dl_tc_write_i32(dl_tc_writer *w, int32_t v);
void dl_tc_write_i64(dl_tc_writer *w, int64_t v);
void dl_tc_write_binary(dl_tc_writer *w, const void *ptr, size_t len);
/* Bool list element as Java and C++ write it: 1 = true, 2 = false (the
** list header uses element type DL_TC_TRUE). */
void dl_tc_write_bool_elem(dl_tc_writer *w, bool v);

#endif /* PQ_THRIFT_H */
