/*
** pq_thrift.c -- Thrift Compact Protocol decoder cursor and encoder (see
** pq_thrift.h and parquet-format-notes.md §1.2 for the wire format).
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parquet/pq_thrift.h"
#include "util/dl_internal.h"

static const char *wire_type_name(uint8_t type) {
    static const char *const names[] = {"stop",   "bool",   "bool", "i8",  "i16", "i32",    "i64",
                                        "double", "binary", "list", "set", "map", "struct", "uuid"};
    return type < sizeof names / sizeof names[0] ? names[type] : "invalid";
}

/* ======================================================================
** Decoder
** ==================================================================== */

void dl_tc_reader_init(dl_tc_reader *r, const uint8_t *buf, size_t len, dl_error *err) {
    r->start = buf;
    r->p = buf;
    r->end = buf + len;
    r->err = err;
    r->depth = 0;
}

/* (The name in parentheses: not the analyzer-only macro of pq_thrift.h.) */
int(dl_tc_fail)(dl_tc_reader *r, int code, const char *fmt, ...) {
    if (!r->err) return code;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    /* The innermost named struct leads the message; the full path follows
    ** when there is more than one level, so a user can find the field. */
    const char *innermost = "thrift";
    int named = 0;
    for (int i = r->depth - 1; i >= 0; i--) {
        if (r->name[i]) {
            if (!named) innermost = r->name[i];
            named++;
        }
    }
    char path[256] = "";
    if (named > 1) {
        size_t used = 0;
        for (int i = 0; i < r->depth && used < sizeof path; i++) {
            if (!r->name[i]) continue;
            int n = snprintf(path + used, sizeof path - used, "%s%s", used ? " > " : " (in ",
                             r->name[i]);
            if (n < 0) break;
            used += (size_t)n;
        }
        if (used < sizeof path) snprintf(path + used, sizeof path - used, ")");
    }
    return dl_error_set(r->err, code, "%s: %s at byte %zu%s", innermost, msg, dl_tc_offset(r),
                        path);
}

static int fail_truncated(dl_tc_reader *r, const char *what, uint64_t need) {
    return dl_tc_fail(r, DL_ECORRUPT, "input truncated: %s needs %llu bytes but only %zu remain",
                      what, (unsigned long long)need, (size_t)(r->end - r->p));
}

/* ULEB128 of at most max_bytes bytes whose value must fit in max_bits. */
static int read_varint_slow(dl_tc_reader *r, int max_bytes, int max_bits, uint64_t *out) {
    const uint8_t *p = r->p;
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (i == max_bytes)
            return dl_tc_fail(r, DL_ECORRUPT, "varint longer than %d bytes", max_bytes);
        if (p == r->end) return fail_truncated(r, "varint", (uint64_t)(p - r->p) + 1);
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) break;
    }
    /* The last byte of a maximal varint may carry bits beyond the type. */
    if (max_bits < 64 && (v >> max_bits) != 0)
        return dl_tc_fail(r, DL_ECORRUPT, "varint value %llu does not fit in %d bits",
                          (unsigned long long)v, max_bits);
    if (max_bits == 64 && (p - r->p) == 10 && p[-1] > 1)
        return dl_tc_fail(r, DL_ECORRUPT, "varint value does not fit in 64 bits");
    r->p = p;
    *out = v;
    return DL_OK;
}

/* Most varints in Parquet metadata (ids, enums, small counts) are one
** byte, and seven bits fit every type (max_bits is at least 16). */
static inline int read_varint(dl_tc_reader *r, int max_bytes, int max_bits, uint64_t *out) {
    if (DL_LIKELY(r->p != r->end && *r->p < 0x80)) {
        *out = *r->p++;
        return DL_OK;
    }
    return read_varint_slow(r, max_bytes, max_bits, out);
}

static int64_t zigzag_decode(uint64_t v) {
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int read_zigzag(dl_tc_reader *r, int max_bytes, int max_bits, int64_t *out) {
    uint64_t v;
    int rc = read_varint(r, max_bytes, max_bits, &v);
    if (rc == DL_OK) *out = zigzag_decode(v);
    return rc;
}

/* A u32 length or count, additionally bounded by the remaining bytes
** divided by the minimum size of one element. */
static int read_size(dl_tc_reader *r, const char *what, size_t min_elem_bytes, uint32_t *out) {
    uint64_t v;
    int rc = read_varint(r, 5, 32, &v);
    if (rc != DL_OK) return rc;
    size_t remaining = (size_t)(r->end - r->p);
    if (v > INT32_MAX || v > remaining / min_elem_bytes)
        return dl_tc_fail(r, DL_ECORRUPT, "%s %llu exceeds the %zu bytes that remain", what,
                          (unsigned long long)v, remaining);
    *out = (uint32_t)v;
    return DL_OK;
}

static int push(dl_tc_reader *r, const char *name) {
    if (r->depth >= DL_TC_MAX_DEPTH)
        return dl_tc_fail(r, DL_ECORRUPT, "structs/containers nested deeper than %d",
                          DL_TC_MAX_DEPTH);
    r->last_id[r->depth] = 0;
    r->name[r->depth] = name;
    r->depth++;
    return DL_OK;
}

static int16_t current_field(const dl_tc_reader *r) {
    return r->depth > 0 ? r->last_id[r->depth - 1] : 0;
}

static int check_type(dl_tc_reader *r, uint8_t wire_type, uint8_t want) {
    if (DL_LIKELY(wire_type == want)) return DL_OK;
    return dl_tc_fail(r, DL_ECORRUPT, "field %d has wire type %s (%d), expected %s",
                      current_field(r), wire_type_name(wire_type), wire_type, wire_type_name(want));
}

int dl_tc_struct_begin(dl_tc_reader *r, uint8_t wire_type, const char *name) {
    int rc = check_type(r, wire_type, DL_TC_STRUCT);
    return rc != DL_OK ? rc : push(r, name);
}

void dl_tc_struct_end(dl_tc_reader *r) {
    if (r->depth > 0) r->depth--;
}

int dl_tc_read_field_header(dl_tc_reader *r, int16_t *id, uint8_t *type) {
    if (DL_UNLIKELY(r->p == r->end)) return fail_truncated(r, "field header", 1);
    uint8_t b = *r->p;
    if (b == 0) { /* stop byte: end of struct */
        r->p++;
        *type = DL_TC_STOP;
        *id = 0;
        return DL_OK;
    }
    uint8_t t = b & 0x0f;
    if (t == DL_TC_STOP || t > DL_TC_UUID)
        return dl_tc_fail(r, DL_ECORRUPT, "invalid wire type %d in field header", t);
    if (DL_UNLIKELY(r->depth == 0))
        return dl_tc_fail(r, DL_EINTERNAL, "field header read outside a struct");
    int16_t *last = &r->last_id[r->depth - 1];
    int32_t fid;
    if (b >> 4) { /* short form: delta from the previous field id */
        fid = (int32_t)*last + (b >> 4);
        if (fid > INT16_MAX) return dl_tc_fail(r, DL_ECORRUPT, "field id %d overflows i16", fid);
        r->p++;
    } else { /* long form: zigzag i16 id follows */
        r->p++;
        int64_t v;
        int rc = read_zigzag(r, 3, 16, &v);
        if (rc != DL_OK) return rc;
        if (v < INT16_MIN || v > INT16_MAX)
            return dl_tc_fail(r, DL_ECORRUPT, "field id %lld out of i16 range", (long long)v);
        fid = (int32_t)v;
    }
    *last = (int16_t)fid;
    *id = (int16_t)fid;
    *type = t;
    return DL_OK;
}

int dl_tc_read_i8(dl_tc_reader *r, uint8_t wire_type, int8_t *out) {
    int rc = check_type(r, wire_type, DL_TC_I8);
    if (rc != DL_OK) return rc;
    if (r->p == r->end) return fail_truncated(r, "i8", 1);
    *out = (int8_t)*r->p++;
    return DL_OK;
}

int dl_tc_read_i16(dl_tc_reader *r, uint8_t wire_type, int16_t *out) {
    int64_t v;
    int rc = check_type(r, wire_type, DL_TC_I16);
    if (rc == DL_OK) rc = read_zigzag(r, 3, 16, &v);
    if (rc == DL_OK) *out = (int16_t)v;
    return rc;
}

int dl_tc_read_i32(dl_tc_reader *r, uint8_t wire_type, int32_t *out) {
    int64_t v;
    int rc = check_type(r, wire_type, DL_TC_I32);
    if (rc == DL_OK) rc = read_zigzag(r, 5, 32, &v);
    if (rc == DL_OK) *out = (int32_t)v;
    return rc;
}

int dl_tc_read_i64(dl_tc_reader *r, uint8_t wire_type, int64_t *out) {
    int rc = check_type(r, wire_type, DL_TC_I64);
    if (rc == DL_OK) rc = read_zigzag(r, 10, 64, out);
    return rc;
}

int dl_tc_read_double(dl_tc_reader *r, uint8_t wire_type, double *out) {
    int rc = check_type(r, wire_type, DL_TC_DOUBLE);
    if (rc != DL_OK) return rc;
    if (r->end - r->p < 8) return fail_truncated(r, "double", 8);
    memcpy(out, r->p, 8); /* little-endian on every supported target */
    r->p += 8;
    return DL_OK;
}

int dl_tc_read_bool(dl_tc_reader *r, uint8_t wire_type, bool *out) {
    if (wire_type != DL_TC_TRUE && wire_type != DL_TC_FALSE)
        return check_type(r, wire_type, DL_TC_TRUE);
    *out = wire_type == DL_TC_TRUE;
    return DL_OK;
}

int dl_tc_read_bool_elem(dl_tc_reader *r, bool *out) {
    if (r->p == r->end) return fail_truncated(r, "bool list element", 1);
    *out = *r->p++ == 1;
    return DL_OK;
}

int dl_tc_read_binary(dl_tc_reader *r, uint8_t wire_type, const uint8_t **ptr, uint32_t *len) {
    int rc = check_type(r, wire_type, DL_TC_BINARY);
    if (rc == DL_OK) rc = read_size(r, "binary length", 1, len);
    if (rc != DL_OK) return rc;
    *ptr = r->p;
    r->p += *len;
    return DL_OK;
}

/* List/set header: `sssstttt` with size < 15, or `1111tttt` + varint size. */
static int read_collection_header(dl_tc_reader *r, uint8_t *elem_type, uint32_t *count) {
    if (r->p == r->end) return fail_truncated(r, "list header", 1);
    uint8_t b = *r->p++;
    *elem_type = b & 0x0f;
    if (*elem_type == DL_TC_STOP || *elem_type > DL_TC_UUID)
        return dl_tc_fail(r, DL_ECORRUPT, "invalid list element type %d", *elem_type);
    if ((b >> 4) != 15) {
        *count = b >> 4;
        if (*count > (size_t)(r->end - r->p))
            return dl_tc_fail(r, DL_ECORRUPT, "list size %u exceeds the %zu bytes that remain",
                              *count, (size_t)(r->end - r->p));
        return DL_OK;
    }
    return read_size(r, "list size", 1, count);
}

int dl_tc_read_list_header(dl_tc_reader *r, uint8_t wire_type, uint8_t elem_type, int32_t *count) {
    int rc = check_type(r, wire_type, DL_TC_LIST);
    if (rc != DL_OK) return rc;
    uint8_t got;
    uint32_t n;
    rc = read_collection_header(r, &got, &n);
    if (rc != DL_OK) return rc;
    bool bool_ok = elem_type == DL_TC_TRUE && got == DL_TC_FALSE;
    if (n > 0 && got != elem_type && !bool_ok)
        return dl_tc_fail(r, DL_ECORRUPT, "field %d is a list of %s, expected a list of %s",
                          current_field(r), wire_type_name(got), wire_type_name(elem_type));
    *count = (int32_t)n;
    return DL_OK;
}

static int skip_value(dl_tc_reader *r, uint8_t type, bool in_container);

static int skip_bytes(dl_tc_reader *r, size_t n, const char *what) {
    if ((size_t)(r->end - r->p) < n) return fail_truncated(r, what, n);
    r->p += n;
    return DL_OK;
}

static int skip_struct(dl_tc_reader *r) {
    int rc = push(r, NULL);
    while (rc == DL_OK) {
        int16_t id;
        uint8_t t;
        rc = dl_tc_read_field_header(r, &id, &t);
        if (rc != DL_OK || t == DL_TC_STOP) break;
        rc = skip_value(r, t, false);
    }
    if (rc == DL_OK) dl_tc_struct_end(r);
    return rc;
}

static int skip_collection(dl_tc_reader *r) {
    uint8_t elem;
    uint32_t n;
    int rc = read_collection_header(r, &elem, &n);
    if (rc == DL_OK) rc = push(r, NULL);
    for (uint32_t i = 0; rc == DL_OK && i < n; i++) rc = skip_value(r, elem, true);
    if (rc == DL_OK) r->depth--;
    return rc;
}

/* Map: varint size, then (if non-empty) a `kkkkvvvv` types byte, then pairs. */
static int skip_map(dl_tc_reader *r) {
    uint32_t n;
    int rc = read_size(r, "map size", 2, &n);
    if (rc != DL_OK || n == 0) return rc;
    if (r->p == r->end) return fail_truncated(r, "map types", 1);
    uint8_t key_type = *r->p >> 4, value_type = *r->p & 0x0f;
    r->p++;
    if (key_type == DL_TC_STOP || key_type > DL_TC_UUID || value_type == DL_TC_STOP ||
        value_type > DL_TC_UUID)
        return dl_tc_fail(r, DL_ECORRUPT, "invalid map key/value types %d/%d", key_type,
                          value_type);
    rc = push(r, NULL);
    for (uint32_t i = 0; rc == DL_OK && i < n; i++) {
        rc = skip_value(r, key_type, true);
        if (rc == DL_OK) rc = skip_value(r, value_type, true);
    }
    if (rc == DL_OK) r->depth--;
    return rc;
}

static int skip_value(dl_tc_reader *r, uint8_t type, bool in_container) {
    uint64_t v;
    uint32_t len;
    switch (type) {
    case DL_TC_TRUE:
    case DL_TC_FALSE: /* a bool field has no value bytes; a bool element has one */
        return in_container ? skip_bytes(r, 1, "bool") : DL_OK;
    case DL_TC_I8:
        return skip_bytes(r, 1, "i8");
    case DL_TC_I16:
        return read_varint(r, 3, 16, &v);
    case DL_TC_I32:
        return read_varint(r, 5, 32, &v);
    case DL_TC_I64:
        return read_varint(r, 10, 64, &v);
    case DL_TC_DOUBLE:
        return skip_bytes(r, 8, "double");
    case DL_TC_BINARY: {
        int rc = read_size(r, "binary length", 1, &len);
        if (rc == DL_OK) r->p += len;
        return rc;
    }
    case DL_TC_LIST:
    case DL_TC_SET:
        return skip_collection(r);
    case DL_TC_MAP:
        return skip_map(r);
    case DL_TC_STRUCT:
        return skip_struct(r);
    case DL_TC_UUID:
        return skip_bytes(r, 16, "uuid");
    default:
        return dl_tc_fail(r, DL_ECORRUPT, "cannot skip a value of invalid wire type %d", type);
    }
}

int dl_tc_skip(dl_tc_reader *r, uint8_t wire_type) {
    return skip_value(r, wire_type, false);
}

int dl_tc_check_required(dl_tc_reader *r, uint32_t seen, const dl_tc_field_name *required,
                         size_t n_required) {
    for (size_t i = 0; i < n_required; i++) {
        if (!(seen & dl_tc_seen_bit(required[i].id)))
            return dl_tc_fail(r, DL_ECORRUPT, "required field %s (%d) missing", required[i].name,
                              required[i].id);
    }
    return DL_OK;
}

/* ======================================================================
** Encoder
** ==================================================================== */

void dl_tc_writer_init(dl_tc_writer *w, dl_buf *out, dl_error *err) {
    w->out = out;
    w->start_len = out->len;
    w->err = err;
    w->rc = DL_OK;
    w->depth = 0;
}

void dl_tc_writer_fail(dl_tc_writer *w, int code, const char *fmt, ...) {
    if (w->rc != DL_OK) return;
    w->rc = code;
    if (!w->err) return;
    w->err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err->message, sizeof w->err->message, fmt, ap);
    va_end(ap);
}

int dl_tc_writer_finish(dl_tc_writer *w) {
    if (w->rc == DL_OK && w->depth != 0)
        dl_tc_writer_fail(w, DL_EINTERNAL, "thrift encoder: %d structs left open", w->depth);
    if (w->rc != DL_OK) w->out->len = w->start_len;
    return w->rc;
}

static void put(dl_tc_writer *w, const void *src, size_t n) {
    if (w->rc != DL_OK) return;
    if (dl_buf_append(w->out, src, n) != DL_OK)
        dl_tc_writer_fail(w, DL_ENOMEM,
                          "thrift encoder: out of memory growing the buffer to "
                          "%zu bytes",
                          w->out->len + n);
}

static void put_byte(dl_tc_writer *w, uint8_t b) {
    put(w, &b, 1);
}

static void put_varint(dl_tc_writer *w, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put(w, tmp, n);
}

static void put_zigzag(dl_tc_writer *w, int64_t v) {
    put_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void dl_tc_write_field_header(dl_tc_writer *w, int16_t id, uint8_t type) {
    if (w->depth == 0) {
        dl_tc_writer_fail(w, DL_EINTERNAL, "thrift encoder: field %d written outside a struct", id);
        return;
    }
    int16_t *last = &w->last_id[w->depth - 1];
    int32_t delta = (int32_t)id - *last;
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(w, type);
        put_zigzag(w, id);
    }
    *last = id;
}

void dl_tc_write_struct_begin(dl_tc_writer *w) {
    if (w->depth >= DL_TC_MAX_DEPTH) {
        dl_tc_writer_fail(w, DL_EINTERNAL, "thrift encoder: structs nested too deep");
        return;
    }
    w->last_id[w->depth++] = 0;
}

void dl_tc_write_struct_end(dl_tc_writer *w) {
    put_byte(w, DL_TC_STOP);
    if (w->depth > 0) w->depth--;
}

void dl_tc_write_struct_field_begin(dl_tc_writer *w, int16_t id) {
    dl_tc_write_field_header(w, id, DL_TC_STRUCT);
    dl_tc_write_struct_begin(w);
}

void dl_tc_write_empty_struct_field(dl_tc_writer *w, int16_t id) {
    dl_tc_write_struct_field_begin(w, id);
    dl_tc_write_struct_end(w);
}

void dl_tc_write_i8_field(dl_tc_writer *w, int16_t id, int8_t v) {
    dl_tc_write_field_header(w, id, DL_TC_I8);
    put_byte(w, (uint8_t)v);
}

void dl_tc_write_i16_field(dl_tc_writer *w, int16_t id, int16_t v) {
    dl_tc_write_field_header(w, id, DL_TC_I16);
    put_zigzag(w, v);
}

void dl_tc_write_i32_field(dl_tc_writer *w, int16_t id, int32_t v) {
    dl_tc_write_field_header(w, id, DL_TC_I32);
    put_zigzag(w, v);
}

void dl_tc_write_i64_field(dl_tc_writer *w, int16_t id, int64_t v) {
    dl_tc_write_field_header(w, id, DL_TC_I64);
    put_zigzag(w, v);
}

void dl_tc_write_bool_field(dl_tc_writer *w, int16_t id, bool v) {
    dl_tc_write_field_header(w, id, v ? DL_TC_TRUE : DL_TC_FALSE);
}

void dl_tc_write_binary_field(dl_tc_writer *w, int16_t id, const void *ptr, size_t len) {
    dl_tc_write_field_header(w, id, DL_TC_BINARY);
    dl_tc_write_binary(w, ptr, len);
}

void dl_tc_write_string_field(dl_tc_writer *w, int16_t id, const char *s) {
    dl_tc_write_binary_field(w, id, s, strlen(s));
}

void dl_tc_write_list_field(dl_tc_writer *w, int16_t id, uint8_t elem_type, int32_t count) {
    dl_tc_write_field_header(w, id, DL_TC_LIST);
    if (count < 0) {
        dl_tc_writer_fail(w, DL_EINVAL, "thrift encoder: negative list size %d for field %d", count,
                          id);
        return;
    }
    if (count < 15) {
        put_byte(w, (uint8_t)(count << 4 | elem_type));
    } else {
        put_byte(w, (uint8_t)(0xf0 | elem_type));
        put_varint(w, (uint64_t)count);
    }
}

void dl_tc_write_i32(dl_tc_writer *w, int32_t v) {
    put_zigzag(w, v);
}
void dl_tc_write_i64(dl_tc_writer *w, int64_t v) {
    put_zigzag(w, v);
}

void dl_tc_write_binary(dl_tc_writer *w, const void *ptr, size_t len) {
    if (len > INT32_MAX || (len > 0 && !ptr)) {
        dl_tc_writer_fail(w, DL_EINVAL, "thrift encoder: invalid binary value (%zu bytes at %p)",
                          len, ptr);
        return;
    }
    put_varint(w, len);
    if (len > 0) put(w, ptr, len);
}

void dl_tc_write_bool_elem(dl_tc_writer *w, bool v) {
    put_byte(w, v ? 1 : 2);
}
