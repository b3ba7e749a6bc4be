/*
** dl_flatbuf.h -- a minimal FlatBuffers builder and a bounds-checked reader,
** just enough for Arrow IPC metadata (Schema.fbs / Message.fbs).  There is
** no flatbuffers library on our build machines, and Arrow needs only
** tables, scalars, strings, vectors of tables and vectors of structs.
**
** Builder: like flatcc and the reference implementation it builds
** back-to-front, so every reference points forward (flatbuffers offsets are
** unsigned): children (strings, vectors, tables) are created first and the
** parent table that refers to them last; the root table is last of all.
** A dl_fb_ref names a finished object by its distance from the END of the
** buffer, which stays valid while the buffer grows at the front.
**
** Errors are sticky (as in SQLite's StrAccum): building calls return refs
** and record the first failure; dl_fb_finish reports it.  This keeps the
** message-building code a straight list of fields.
**
** Reader: every offset, vtable and length is checked against the buffer
** size before use, so it is safe on hostile input (used by tests and by
** anything that parses IPC metadata).
*/
#ifndef DL_FLATBUF_H
#define DL_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"

/* Most fields of any table we write (Field has 7). */
#define DL_FB_MAX_FIELDS 16

typedef uint32_t dl_fb_ref; /* 0 = none */

typedef struct dl_fb_builder {
    uint8_t *buf; /* owned; the data occupies buf[cap - size, cap) */
    size_t cap;
    size_t size;      /* bytes written so far, counted from the end */
    size_t max_align; /* largest alignment requested: the finished size is a multiple */
    int status;       /* first failure (DL_ENOMEM / DL_EINTERNAL), sticky */
    /* the table being built */
    bool in_table;
    int num_slots;
    size_t table_start;                 /* size when the table was started */
    uint32_t slot_at[DL_FB_MAX_FIELDS]; /* field position (from the end), 0 = absent */
} dl_fb_builder;

void dl_fb_init(dl_fb_builder *b);
/* Forgets the content but keeps the memory, for the next message. */
void dl_fb_reset(dl_fb_builder *b);
void dl_fb_free(dl_fb_builder *b);

/* Objects that live outside tables; create them before the table using them. */
dl_fb_ref dl_fb_string(dl_fb_builder *b, const char *s, size_t len);
/* Vector of references (to tables or strings), in the given order. */
dl_fb_ref dl_fb_ref_vector(dl_fb_builder *b, const dl_fb_ref *refs, size_t count);
/* Vector of structs: count elements of elem_size bytes (already in
** little-endian wire layout), aligned to `align` (a power of two <= 16). */
dl_fb_ref dl_fb_struct_vector(dl_fb_builder *b, const void *elems, size_t elem_size, size_t count,
                              size_t align);

/* Tables: start, add fields by slot id (in any order), end.  Scalars are
** always written, even when equal to the schema default, so callers decide
** what to omit (Arrow's Date.unit = DAY(0) is NOT its default). */
void dl_fb_table_start(dl_fb_builder *b, int num_slots);
void dl_fb_add_u8(dl_fb_builder *b, int slot, uint8_t v);
void dl_fb_add_i16(dl_fb_builder *b, int slot, int16_t v);
void dl_fb_add_i32(dl_fb_builder *b, int slot, int32_t v);
void dl_fb_add_i64(dl_fb_builder *b, int slot, int64_t v);
/* A reference to an object created earlier; ref 0 leaves the slot absent. */
void dl_fb_add_ref(dl_fb_builder *b, int slot, dl_fb_ref ref);
dl_fb_ref dl_fb_table_end(dl_fb_builder *b);

/* Writes the root offset and pads the buffer to a multiple of 8 bytes.
** *data (borrowed, valid until the next builder call) and *len describe the
** finished flatbuffer.  Returns the sticky status. */
int dl_fb_finish(dl_fb_builder *b, dl_fb_ref root, const uint8_t **data, size_t *len,
                 dl_error *err);

/* ---- reader ---- */

typedef struct dl_fb_table {
    const uint8_t *buf;
    size_t len;
    size_t pos;          /* table start */
    size_t vtable;       /* vtable start */
    uint16_t vtable_len; /* bytes */
    uint16_t table_len;  /* inline bytes of the table, from the vtable */
} dl_fb_table;

typedef struct dl_fb_vector {
    const uint8_t *buf;
    size_t len;
    size_t pos; /* first element */
    uint32_t count;
} dl_fb_vector;

/* The root table.  Returns DL_ECORRUPT (with the byte offset) on bad input. */
int dl_fb_root(const uint8_t *buf, size_t len, dl_fb_table *out, dl_error *err);
/* Whether the slot is present. */
bool dl_fb_has(const dl_fb_table *t, int slot);
/* Scalars: the default when the slot is absent.  Bounds-checked: a field
** running past the buffer also yields the default (and dl_fb_root's checks
** make that impossible for well-formed vtables). */
uint8_t dl_fb_get_u8(const dl_fb_table *t, int slot, uint8_t dflt);
int16_t dl_fb_get_i16(const dl_fb_table *t, int slot, int16_t dflt);
int32_t dl_fb_get_i32(const dl_fb_table *t, int slot, int32_t dflt);
int64_t dl_fb_get_i64(const dl_fb_table *t, int slot, int64_t dflt);
/* References: DL_ENOTFOUND when absent, DL_ECORRUPT when out of bounds. */
int dl_fb_get_table(const dl_fb_table *t, int slot, dl_fb_table *out, dl_error *err);
int dl_fb_get_vector(const dl_fb_table *t, int slot, size_t elem_size, dl_fb_vector *out,
                     dl_error *err);
int dl_fb_get_string(const dl_fb_table *t, int slot, const char **s, size_t *len, dl_error *err);
/* Element i of a vector of tables. */
int dl_fb_vector_table(const dl_fb_vector *v, uint32_t i, dl_fb_table *out, dl_error *err);

#endif /* DL_FLATBUF_H */
