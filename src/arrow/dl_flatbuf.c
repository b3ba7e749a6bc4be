/*
** dl_flatbuf.c -- the minimal FlatBuffers builder and bounds-checked reader
** behind Arrow IPC metadata (see dl_flatbuf.h for the model).
**
** Wire facts used here (flatbuffers "Internals"): little-endian; the buffer
** starts with a u32 offset to the root table; a table starts with an i32
** soffset such that vtable = table - soffset; a vtable is u16 vtable size,
** u16 table inline size, then one u16 field offset per slot (0 = absent);
** a reference field holds a u32 offset from its own position to the target;
** strings and vectors are a u32 count followed by the elements (strings add
** a NUL).  Every object is aligned to its largest scalar, relative to the
** start of the finished buffer.
**
** Back-to-front alignment: an object ending at distance p from the end of
** the buffer is aligned to `a` in the finished buffer iff p % a == 0,
** provided the finished size is a multiple of a; dl_fb_finish pads it so.
*/
#include "arrow/dl_flatbuf.h"

#include <stdlib.h>
#include <string.h>

#include "util/dl_internal.h"

/* Flatbuffers offsets are 32-bit; Arrow metadata stays tiny anyway. */
#define FB_MAX_SIZE ((size_t)INT32_MAX)

void dl_fb_init(dl_fb_builder *b) {
    memset(b, 0, sizeof *b);
}

void dl_fb_reset(dl_fb_builder *b) {
    uint8_t *buf = b->buf;
    size_t cap = b->cap;
    dl_fb_init(b);
    b->buf = buf;
    b->cap = cap;
}

void dl_fb_free(dl_fb_builder *b) {
    free(b->buf);
    dl_fb_init(b);
}

static void fail(dl_fb_builder *b, int code) {
    if (b->status == DL_OK) b->status = code;
}

/* Makes room for `need` more bytes at the front. */
static bool grow(dl_fb_builder *b, size_t need) {
    if (b->status != DL_OK) return false;
    if (b->cap - b->size >= need) return true;
    if (need > FB_MAX_SIZE - b->size) {
        fail(b, DL_ENOMEM);
        return false;
    }
    size_t new_cap = b->cap ? b->cap : 256;
    while (new_cap - b->size < need) new_cap *= 2;
    uint8_t *nb = malloc(new_cap);
    if (!nb) {
        fail(b, DL_ENOMEM);
        return false;
    }
    if (b->size) memcpy(nb + new_cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = new_cap;
    return true;
}

/* Pads with zeros so that, after `extra` more bytes, the size is a multiple
** of align (a power of two); reserves room for the padding and `extra`. */
static bool prep(dl_fb_builder *b, size_t align, size_t extra) {
    if (align > b->max_align) b->max_align = align;
    size_t pad = (align - ((b->size + extra) & (align - 1))) & (align - 1);
    if (!grow(b, pad + extra)) return false;
    memset(b->buf + b->cap - b->size - pad, 0, pad);
    b->size += pad;
    return true;
}

/* Pushes n bytes at the front; room must have been made by prep/grow. */
static void push(dl_fb_builder *b, const void *src, size_t n) {
    memcpy(b->buf + b->cap - b->size - n, src, n);
    b->size += n;
}

static void push_u32(dl_fb_builder *b, uint32_t v) {
    push(b, &v, 4);
}

/* The u32 offset stored at the position the next 4 pushed bytes will
** occupy, pointing at ref; false (EINTERNAL) for a ref not yet written. */
static bool offset_to(dl_fb_builder *b, dl_fb_ref ref, uint32_t *out) {
    if (ref == 0 || ref > b->size) {
        fail(b, DL_EINTERNAL);
        return false;
    }
    *out = (uint32_t)(b->size + 4 - ref);
    return true;
}

dl_fb_ref dl_fb_string(dl_fb_builder *b, const char *s, size_t len) {
    if (b->in_table) fail(b, DL_EINTERNAL); /* objects cannot nest in tables */
    if (len > FB_MAX_SIZE || !prep(b, 4, len + 1)) return 0;
    static const uint8_t nul = 0;
    push(b, &nul, 1);
    push(b, s, len);
    if (!prep(b, 4, 4)) return 0;
    push_u32(b, (uint32_t)len);
    return (dl_fb_ref)b->size;
}

dl_fb_ref dl_fb_ref_vector(dl_fb_builder *b, const dl_fb_ref *refs, size_t count) {
    if (b->in_table) fail(b, DL_EINTERNAL);
    if (count > FB_MAX_SIZE / 4 || !prep(b, 4, 4 * count + 4)) return 0;
    for (size_t i = count; i-- > 0;) {
        uint32_t off;
        if (!offset_to(b, refs[i], &off)) return 0;
        push_u32(b, off);
    }
    push_u32(b, (uint32_t)count);
    return (dl_fb_ref)b->size;
}

dl_fb_ref dl_fb_struct_vector(dl_fb_builder *b, const void *elems, size_t elem_size, size_t count,
                              size_t align) {
    if (b->in_table || align == 0 || align > 16 || (align & (align - 1)) != 0) {
        fail(b, DL_EINTERNAL);
        return 0;
    }
    size_t bytes;
    if (dl_size_mul(elem_size, count, &bytes) != 0 || bytes > FB_MAX_SIZE) {
        fail(b, DL_ENOMEM);
        return 0;
    }
    /* The elements end aligned; the u32 count right before them then sits
    ** on a 4-byte boundary because align >= 4 after DL_MAX. */
    if (!prep(b, DL_MAX(align, 4), bytes)) return 0;
    if (bytes) push(b, elems, bytes);
    if (!prep(b, 4, 4)) return 0;
    push_u32(b, (uint32_t)count);
    return (dl_fb_ref)b->size;
}

void dl_fb_table_start(dl_fb_builder *b, int num_slots) {
    if (b->in_table || num_slots < 0 || num_slots > DL_FB_MAX_FIELDS) {
        fail(b, DL_EINTERNAL);
        return;
    }
    b->in_table = true;
    b->num_slots = num_slots;
    b->table_start = b->size;
    memset(b->slot_at, 0, sizeof b->slot_at);
}

/* Shared by all scalar adds: aligns, pushes and records the slot. */
static void add_scalar(dl_fb_builder *b, int slot, const void *v, size_t n) {
    if (!b->in_table || slot < 0 || slot >= b->num_slots) {
        fail(b, DL_EINTERNAL);
        return;
    }
    if (!prep(b, n, n)) return;
    push(b, v, n);
    b->slot_at[slot] = (uint32_t)b->size;
}

void dl_fb_add_u8(dl_fb_builder *b, int slot, uint8_t v) {
    add_scalar(b, slot, &v, 1);
}
void dl_fb_add_i16(dl_fb_builder *b, int slot, int16_t v) {
    add_scalar(b, slot, &v, 2);
}
void dl_fb_add_i32(dl_fb_builder *b, int slot, int32_t v) {
    add_scalar(b, slot, &v, 4);
}
void dl_fb_add_i64(dl_fb_builder *b, int slot, int64_t v) {
    add_scalar(b, slot, &v, 8);
}

void dl_fb_add_ref(dl_fb_builder *b, int slot, dl_fb_ref ref) {
    if (ref == 0) return;
    if (!b->in_table || slot < 0 || slot >= b->num_slots) {
        fail(b, DL_EINTERNAL);
        return;
    }
    uint32_t off;
    if (!prep(b, 4, 4) || !offset_to(b, ref, &off)) return;
    push_u32(b, off);
    b->slot_at[slot] = (uint32_t)b->size;
}

dl_fb_ref dl_fb_table_end(dl_fb_builder *b) {
    if (!b->in_table) {
        fail(b, DL_EINTERNAL);
        return 0;
    }
    b->in_table = false;
    /* the soffset to the vtable, patched below */
    if (!prep(b, 4, 4)) return 0;
    push_u32(b, 0);
    size_t table_pos = b->size;
    size_t inline_size = table_pos - b->table_start;
    int used = 0; /* trailing absent slots need no vtable entry */
    for (int i = 0; i < b->num_slots; i++)
        if (b->slot_at[i]) used = i + 1;
    if (inline_size > UINT16_MAX) {
        fail(b, DL_EINTERNAL);
        return 0;
    }
    uint16_t vtable[2 + DL_FB_MAX_FIELDS];
    vtable[0] = (uint16_t)(4 + 2 * used);
    vtable[1] = (uint16_t)inline_size;
    for (int i = 0; i < used; i++)
        vtable[2 + i] = b->slot_at[i] ? (uint16_t)(table_pos - b->slot_at[i]) : 0;
    /* table_pos is 4-aligned and the vtable an even size: it stays 2-aligned */
    if (!grow(b, vtable[0])) return 0;
    push(b, vtable, vtable[0]);
    /* vtable = table - soffset, the vtable lying before the table */
    int32_t soffset = (int32_t)(b->size - table_pos);
    memcpy(b->buf + b->cap - table_pos, &soffset, 4);
    return (dl_fb_ref)table_pos;
}

int dl_fb_finish(dl_fb_builder *b, dl_fb_ref root, const uint8_t **data, size_t *len,
                 dl_error *err) {
    if (b->in_table) fail(b, DL_EINTERNAL);
    uint32_t off = 0;
    if (prep(b, DL_MAX(b->max_align, 8), 4) && offset_to(b, root, &off)) push_u32(b, off);
    if (b->status != DL_OK)
        return dl_error_set(err, b->status, "flatbuffer builder: %s while building metadata",
                            b->status == DL_ENOMEM ? "out of memory or over 2 GiB"
                                                   : "invalid builder call sequence (a bug)");
    *data = b->buf + b->cap - b->size;
    *len = b->size;
    return DL_OK;
}

/* ---- reader ---- */

static uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static int table_at(const uint8_t *buf, size_t len, size_t pos, dl_fb_table *out, dl_error *err) {
    if (pos > len || len - pos < 4)
        return dl_error_set(err, DL_ECORRUPT,
                            "flatbuffer: table at byte %zu runs past the end (%zu bytes)", pos,
                            len);
    int32_t soffset = (int32_t)dl_load_u32le(buf + pos);
    int64_t vtable = (int64_t)pos - soffset;
    if (vtable < 0 || (uint64_t)vtable > len - 4)
        return dl_error_set(err, DL_ECORRUPT,
                            "flatbuffer: vtable of table at byte %zu is out of bounds", pos);
    uint16_t vtable_len = load_u16(buf + vtable);
    uint16_t table_len = load_u16(buf + vtable + 2);
    if (vtable_len < 4 || (vtable_len & 1) || (uint64_t)vtable + vtable_len > len ||
        table_len < 4 || table_len > len - pos)
        return dl_error_set(err, DL_ECORRUPT,
                            "flatbuffer: bad vtable (size %u, table size %u) at byte %lld",
                            vtable_len, table_len, (long long)vtable);
    *out = (dl_fb_table){.buf = buf,
                         .len = len,
                         .pos = pos,
                         .vtable = (size_t)vtable,
                         .vtable_len = vtable_len,
                         .table_len = table_len};
    return DL_OK;
}

int dl_fb_root(const uint8_t *buf, size_t len, dl_fb_table *out, dl_error *err) {
    if (len < 4 || len > FB_MAX_SIZE)
        return dl_error_set(err, DL_ECORRUPT, "flatbuffer: bad size %zu", len);
    return table_at(buf, len, dl_load_u32le(buf), out, err);
}

/* The field's offset inside the table when present and `size` bytes fit. */
static size_t field_offset(const dl_fb_table *t, int slot, size_t size) {
    size_t at = 4 + 2 * (size_t)slot;
    if (slot < 0 || at + 2 > t->vtable_len) return 0;
    size_t off = load_u16(t->buf + t->vtable + at);
    return off >= 4 && off + size <= t->table_len ? off : 0;
}

bool dl_fb_has(const dl_fb_table *t, int slot) {
    return field_offset(t, slot, 1) != 0;
}

#define FB_GETTER(name, type)                                                                      \
    type name(const dl_fb_table *t, int slot, type dflt) {                                         \
        size_t off = field_offset(t, slot, sizeof(type));                                          \
        if (!off) return dflt;                                                                     \
        type v;                                                                                    \
        memcpy(&v, t->buf + t->pos + off, sizeof v);                                               \
        return v;                                                                                  \
    }
FB_GETTER(dl_fb_get_u8, uint8_t)
FB_GETTER(dl_fb_get_i16, int16_t)
FB_GETTER(dl_fb_get_i32, int32_t)
FB_GETTER(dl_fb_get_i64, int64_t)

/* Follows the u32 offset stored at byte p to its target. */
static int follow(const uint8_t *buf, size_t len, size_t p, size_t *target, dl_error *err) {
    if (p > len || len - p < 4)
        return dl_error_set(err, DL_ECORRUPT, "flatbuffer: offset at byte %zu out of bounds", p);
    size_t to = p + dl_load_u32le(buf + p);
    if (to > len)
        return dl_error_set(err, DL_ECORRUPT,
                            "flatbuffer: offset at byte %zu points past the end (%zu > %zu)", p, to,
                            len);
    *target = to;
    return DL_OK;
}

static int get_ref(const dl_fb_table *t, int slot, size_t *target, dl_error *err) {
    size_t off = field_offset(t, slot, 4);
    if (!off)
        return dl_error_set(err, DL_ENOTFOUND, "flatbuffer: field %d of table at byte %zu absent",
                            slot, t->pos);
    return follow(t->buf, t->len, t->pos + off, target, err);
}

int dl_fb_get_table(const dl_fb_table *t, int slot, dl_fb_table *out, dl_error *err) {
    size_t target = 0;
    int rc = get_ref(t, slot, &target, err);
    return rc != DL_OK ? rc : table_at(t->buf, t->len, target, out, err);
}

int dl_fb_get_vector(const dl_fb_table *t, int slot, size_t elem_size, dl_fb_vector *out,
                     dl_error *err) {
    size_t target = 0;
    int rc = get_ref(t, slot, &target, err);
    if (rc != DL_OK) return rc;
    if (t->len - target < 4)
        return dl_error_set(err, DL_ECORRUPT, "flatbuffer: vector at byte %zu truncated", target);
    uint32_t count = dl_load_u32le(t->buf + target);
    if (elem_size && count > (t->len - target - 4) / elem_size)
        return dl_error_set(err, DL_ECORRUPT,
                            "flatbuffer: vector at byte %zu claims %u elements of %zu bytes, more "
                            "than the buffer holds",
                            target, count, elem_size);
    *out = (dl_fb_vector){.buf = t->buf, .len = t->len, .pos = target + 4, .count = count};
    return DL_OK;
}

int dl_fb_get_string(const dl_fb_table *t, int slot, const char **s, size_t *len, dl_error *err) {
    dl_fb_vector v = {0};
    int rc = dl_fb_get_vector(t, slot, 1, &v, err);
    if (rc != DL_OK) return rc;
    if (v.pos + v.count >= v.len || v.buf[v.pos + v.count] != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "flatbuffer: string at byte %zu lacks its NUL terminator", v.pos);
    *s = (const char *)v.buf + v.pos;
    *len = v.count;
    return DL_OK;
}

int dl_fb_vector_table(const dl_fb_vector *v, uint32_t i, dl_fb_table *out, dl_error *err) {
    if (i >= v->count)
        return dl_error_set(err, DL_EINVAL, "flatbuffer: index %u >= vector length %u", i,
                            v->count);
    size_t target = 0;
    int rc = follow(v->buf, v->len, v->pos + 4 * (size_t)i, &target, err);
    return rc != DL_OK ? rc : table_at(v->buf, v->len, target, out, err);
}
