/*
** test_arrow.c -- unit tests of src/arrow: the flatbuffer builder and
** reader (round trip, alignment, misuse, hostile input), the C Data
** Interface export (every type with nulls, formats, buffers, ownership and
** release, large offsets, errors) and the IPC stream writer (framing,
** alignment, metadata decoded back, body bytes, batch splitting, write
** failures, EOS).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "arrow/dl_flatbuf.h"
#include "dl_test.h"
#include "util/dl_buf.h"
#include "util/dl_internal.h"

/* ------------------------------------------------------------------ */
/* flatbuffer builder / reader                                          */
/* ------------------------------------------------------------------ */

/* A table {0: i64, 1: u8, 2: string, 3: [child tables], 4: [16-byte structs],
** 5: i16 (absent), 6: i32} with child tables {0: i32}. */
static int build_sample(dl_fb_builder *fb, const uint8_t **data, size_t *len, dl_error *err) {
    dl_fb_ref kids[3];
    for (int i = 0; i < 3; i++) {
        dl_fb_table_start(fb, 1);
        dl_fb_add_i32(fb, 0, 100 + i);
        kids[i] = dl_fb_table_end(fb);
    }
    dl_fb_ref kid_vec = dl_fb_ref_vector(fb, kids, 3);
    dl_fb_ref name = dl_fb_string(fb, "hello", 5); /* odd length: exercises padding */
    int64_t structs[4] = {1, -2, INT64_MAX, INT64_MIN};
    dl_fb_ref struct_vec = dl_fb_struct_vector(fb, structs, 16, 2, 8);
    dl_fb_table_start(fb, 7);
    dl_fb_add_u8(fb, 1, 7);
    dl_fb_add_ref(fb, 2, name);
    dl_fb_add_i64(fb, 0, -1234567890123LL);
    dl_fb_add_ref(fb, 3, kid_vec);
    dl_fb_add_i32(fb, 6, 42);
    dl_fb_add_ref(fb, 4, struct_vec);
    dl_fb_ref root = dl_fb_table_end(fb);
    return dl_fb_finish(fb, root, data, len, err);
}

DL_TEST(fb_builder_round_trip) {
    dl_error err = {0};
    dl_fb_builder fb;
    dl_fb_init(&fb);
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(build_sample(&fb, &data, &len, &err), &err);
    CHECK_EQ_INT(len % 8, 0);

    dl_fb_table root, kid;
    dl_fb_vector v;
    const char *s = NULL;
    size_t slen = 0;
    CHECK_OK(dl_fb_root(data, len, &root, &err), &err);
    CHECK_EQ_INT(root.pos % 4, 0);
    CHECK_EQ_INT(dl_fb_get_i64(&root, 0, 0), -1234567890123LL);
    CHECK_EQ_INT(dl_fb_get_u8(&root, 1, 0), 7);
    CHECK_EQ_INT(dl_fb_get_i32(&root, 6, 0), 42);
    CHECK(!dl_fb_has(&root, 5));
    CHECK_EQ_INT(dl_fb_get_i16(&root, 5, -9), -9); /* absent: default */
    CHECK_EQ_INT(dl_fb_get_i16(&root, 15, 3), 3);  /* beyond the vtable: default */
    CHECK_OK(dl_fb_get_string(&root, 2, &s, &slen, &err), &err);
    CHECK_EQ_INT(slen, 5);
    CHECK(s && memcmp(s, "hello", 6) == 0);

    CHECK_OK(dl_fb_get_vector(&root, 3, 4, &v, &err), &err);
    CHECK_EQ_INT(v.count, 3);
    for (uint32_t i = 0; i < v.count; i++) {
        CHECK_OK(dl_fb_vector_table(&v, i, &kid, &err), &err);
        CHECK_EQ_INT(dl_fb_get_i32(&kid, 0, 0), 100 + (int)i);
    }
    CHECK_RC(dl_fb_vector_table(&v, 3, &kid, &err), DL_EINVAL);

    CHECK_OK(dl_fb_get_vector(&root, 4, 16, &v, &err), &err);
    CHECK_EQ_INT(v.count, 2);
    CHECK_EQ_INT(v.pos % 8, 0); /* struct elements aligned to 8 from the buffer start */
    CHECK_EQ_INT((int64_t)dl_load_u64le(data + v.pos + 16), INT64_MAX);
    CHECK_EQ_INT((int64_t)dl_load_u64le(data + v.pos + 24), INT64_MIN);

    /* the i64 scalar is 8-aligned too: its offset from the vtable entry */
    size_t i64_off = (size_t)data[root.vtable + 4] | (size_t)data[root.vtable + 5] << 8;
    CHECK_EQ_INT((root.pos + i64_off) % 8, 0);

    CHECK_RC(dl_fb_get_table(&root, 5, &kid, &err), DL_ENOTFOUND);

    /* reset keeps memory and builds the same bytes again */
    size_t first_len = len;
    uint8_t *copy = malloc(len);
    memcpy(copy, data, len);
    dl_fb_reset(&fb);
    CHECK_OK(build_sample(&fb, &data, &len, &err), &err);
    CHECK(len == first_len && memcmp(copy, data, len) == 0);
    free(copy);
    dl_fb_free(&fb);
}

DL_TEST(fb_builder_grows_and_keeps_refs) {
    /* many strings force several reallocations; refs stay valid */
    dl_error err = {0};
    dl_fb_builder fb;
    dl_fb_init(&fb);
    enum { N = 500 };
    dl_fb_ref refs[N];
    char text[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(text, sizeof text, "string number %d", i);
        refs[i] = dl_fb_string(&fb, text, (size_t)n);
    }
    dl_fb_ref vec = dl_fb_ref_vector(&fb, refs, N);
    dl_fb_table_start(&fb, 1);
    dl_fb_add_ref(&fb, 0, vec);
    dl_fb_ref root = dl_fb_table_end(&fb);
    const uint8_t *data;
    size_t len;
    CHECK_OK(dl_fb_finish(&fb, root, &data, &len, &err), &err);
    dl_fb_table t;
    dl_fb_vector v;
    CHECK_OK(dl_fb_root(data, len, &t, &err), &err);
    CHECK_OK(dl_fb_get_vector(&t, 0, 4, &v, &err), &err);
    CHECK_EQ_INT(v.count, N);
    for (int i = 0; i < N && v.count == N; i += 97) {
        size_t target = v.pos + 4 * (size_t)i + dl_load_u32le(data + v.pos + 4 * (size_t)i);
        snprintf(text, sizeof text, "string number %d", i);
        CHECK_EQ_INT(dl_load_u32le(data + target), strlen(text));
        CHECK(memcmp(data + target + 4, text, strlen(text) + 1) == 0);
    }
    dl_fb_free(&fb);
}

DL_TEST(fb_builder_misuse_is_reported) {
    dl_error err = {0};
    const uint8_t *data;
    size_t len;
    dl_fb_builder fb;

    dl_fb_init(&fb); /* a field outside any table */
    dl_fb_add_i32(&fb, 0, 1);
    dl_fb_table_start(&fb, 1);
    CHECK_RC(dl_fb_finish(&fb, dl_fb_table_end(&fb), &data, &len, &err), DL_EINTERNAL);
    CHECK(strstr(err.message, "bug") != NULL);
    dl_fb_free(&fb);

    dl_fb_init(&fb); /* a string created inside a table */
    dl_fb_table_start(&fb, 1);
    dl_fb_ref s = dl_fb_string(&fb, "x", 1);
    dl_fb_add_ref(&fb, 0, s);
    CHECK_RC(dl_fb_finish(&fb, dl_fb_table_end(&fb), &data, &len, &err), DL_EINTERNAL);
    dl_fb_free(&fb);

    dl_fb_init(&fb); /* a reference to something not yet written, slot out of range */
    dl_fb_table_start(&fb, 2);
    dl_fb_add_ref(&fb, 0, 4096);
    dl_fb_add_i32(&fb, 2, 1);
    CHECK_RC(dl_fb_finish(&fb, dl_fb_table_end(&fb), &data, &len, &err), DL_EINTERNAL);
    dl_fb_free(&fb);
}

/* Reads everything build_sample wrote, tolerating errors; returns how many
** reads succeeded (the point is that nothing reads out of bounds). */
static int walk_sample(const uint8_t *data, size_t len) {
    dl_error err = {0};
    dl_fb_table root, kid;
    dl_fb_vector v;
    const char *s;
    size_t slen;
    int ok = 0;
    if (dl_fb_root(data, len, &root, &err) != DL_OK) return 0;
    ok += dl_fb_get_i64(&root, 0, 0) != 0;
    ok += dl_fb_get_u8(&root, 1, 0) != 0;
    ok += dl_fb_get_i32(&root, 6, 0) != 0;
    if (dl_fb_get_string(&root, 2, &s, &slen, &err) == DL_OK) ok += s[slen] == 0;
    if (dl_fb_get_vector(&root, 3, 4, &v, &err) == DL_OK)
        for (uint32_t i = 0; i < v.count; i++)
            if (dl_fb_vector_table(&v, i, &kid, &err) == DL_OK)
                ok += dl_fb_get_i32(&kid, 0, 0) != 0;
    if (dl_fb_get_vector(&root, 4, 16, &v, &err) == DL_OK)
        ok +=
            (int)(dl_load_u64le(data + v.pos + 16 * (v.count ? v.count - 1 : 0)) != 0 || !v.count);
    return ok;
}

DL_TEST(fb_reader_hostile_input) {
    dl_error err = {0};
    dl_fb_builder fb;
    dl_fb_init(&fb);
    const uint8_t *data;
    size_t len;
    CHECK_OK(build_sample(&fb, &data, &len, &err), &err);
    CHECK_EQ_INT(walk_sample(data, len), 8);

    /* every truncation, into an exact-size heap copy so ASan sees overreads */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        CHECK(walk_sample(copy, cut) < 8);
        free(copy);
    }
    /* every single-byte corruption with a few bad values */
    static const uint8_t bad[] = {0x00, 0x7F, 0x80, 0xFF};
    uint8_t *copy = malloc(len);
    for (size_t at = 0; at < len; at++)
        for (size_t k = 0; k < sizeof bad; k++) {
            memcpy(copy, data, len);
            copy[at] = bad[k];
            (void)walk_sample(copy, len);
        }
    free(copy);

    /* specific shapes */
    uint8_t tiny[4] = {0xFF, 0xFF, 0xFF, 0x7F};
    dl_fb_table t;
    CHECK_RC(dl_fb_root(tiny, 3, &t, &err), DL_ECORRUPT);
    CHECK_RC(dl_fb_root(tiny, 4, &t, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "byte") != NULL);
    /* a table whose soffset points at a vtable before the buffer */
    uint8_t neg[12] = {4, 0, 0, 0, 0x10, 0, 0, 0};
    CHECK_RC(dl_fb_root(neg, sizeof neg, &t, &err), DL_ECORRUPT);
    dl_fb_free(&fb);
}

/* ------------------------------------------------------------------ */
/* test tables                                                          */
/* ------------------------------------------------------------------ */

enum { T_BOOL, T_I32, T_I64, T_F32, T_F64, T_STR, T_BIN, T_TS, T_TS_LOCAL, T_DATE, T_NCOLS };

/* Every type; nullable columns are null at rows 1, 4, 7, ...; the int64
** column is required.  Strings vary in length (including empty). */
static void make_table(dl_table *t, int64_t rows) {
    dl_error err = {0};
    dl_schema s;
    dl_schema_init(&s);
    CHECK_OK(dl_schema_add(&s, "flag", DL_TYPE_BOOL, true, &err), &err);
    CHECK_OK(dl_schema_add(&s, "i32", DL_TYPE_INT32, true, &err), &err);
    CHECK_OK(dl_schema_add(&s, "i64", DL_TYPE_INT64, false, &err), &err);
    CHECK_OK(dl_schema_add(&s, "f32", DL_TYPE_FLOAT, true, &err), &err);
    CHECK_OK(dl_schema_add(&s, "f64", DL_TYPE_DOUBLE, true, &err), &err);
    CHECK_OK(dl_schema_add(&s, "text", DL_TYPE_STRING, true, &err), &err);
    CHECK_OK(dl_schema_add(&s, "blob", DL_TYPE_BINARY, true, &err), &err);
    CHECK_OK(dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, true, &err), &err);
    CHECK_OK(dl_schema_add_timestamp(&s, "local", DL_UNIT_NS, true, &err), &err);
    CHECK_OK(dl_schema_add(&s, "day", DL_TYPE_DATE, true, &err), &err);
    s.fields[T_TS_LOCAL].utc = false;
    CHECK_OK(dl_table_init(t, &s, &err), &err);
    dl_schema_free(&s);
    char text[64];
    for (int64_t r = 0; r < rows; r++) {
        bool null = r % 3 == 1;
        for (int c = 0; c < T_NCOLS; c++) {
            dl_column *col = &t->columns[c];
            if (null && c != T_I64) {
                CHECK_OK(dl_column_append_null(col, &err), &err);
                continue;
            }
            int n = snprintf(text, sizeof text, "v%lld%.*s", (long long)r, (int)(r % 7), "xxxxxxx");
            switch (c) {
            case T_BOOL:
                CHECK_OK(dl_column_append_bool(col, r % 2 == 0, &err), &err);
                break;
            case T_I32:
            case T_DATE:
                CHECK_OK(dl_column_append_i32(col, (int32_t)(r * 1000 - 5000), &err), &err);
                break;
            case T_I64:
            case T_TS:
            case T_TS_LOCAL:
                CHECK_OK(dl_column_append_i64(col, r * 1000003 - (1LL << 40), &err), &err);
                break;
            case T_F32:
                CHECK_OK(dl_column_append_f32(col, (float)r * 0.5f, &err), &err);
                break;
            case T_F64:
                CHECK_OK(dl_column_append_f64(col, (double)r * -0.25, &err), &err);
                break;
            case T_STR:
            case T_BIN:
                CHECK_OK(dl_column_append_str(col, text, r % 5 == 0 ? 0 : (size_t)n, &err), &err);
                break;
            }
        }
    }
    CHECK_OK(dl_table_seal(t, &err), &err);
}

static bool bit(const void *bm, int64_t i) {
    return (((const uint8_t *)bm)[i >> 3] >> (i & 7)) & 1;
}

/* Checks Arrow buffers (validity, values | offsets, data) of `count` rows
** against rows [from, from + count) of col. */
static void check_buffers(const dl_column *col, int64_t from, int64_t count,
                          const void *const *bufs, int64_t null_count, bool large) {
    int64_t nulls = 0;
    for (int64_t i = 0; i < count; i++) {
        bool valid = dl_column_is_valid(col, from + i);
        nulls += !valid;
        if (bufs[0])
            CHECK_EQ_INT(bit(bufs[0], i), valid);
        else
            CHECK(valid);
    }
    CHECK_EQ_INT(null_count, nulls);
    if (col->type == DL_TYPE_BOOL) {
        for (int64_t i = 0; i < count; i++)
            if (dl_column_is_valid(col, from + i))
                CHECK_EQ_INT(bit(bufs[1], i), ((const uint8_t *)col->values)[from + i]);
    } else if (col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY) {
        /* a column that never held a row may have no offsets array */
        const int64_t *offsets = col->offsets ? col->offsets : (const int64_t[1]){0};
        int64_t base = offsets[from];
        for (int64_t i = 0; i <= count; i++) {
            int64_t got = large ? ((const int64_t *)bufs[1])[i] : ((const int32_t *)bufs[1])[i];
            CHECK_EQ_INT(got, offsets[from + i] - base);
        }
        int64_t bytes = offsets[from + count] - base;
        CHECK(bytes == 0 || memcmp(bufs[2], col->data + base, (size_t)bytes) == 0);
    } else {
        size_t w = dl_type_width(col->type);
        CHECK(count == 0 || memcmp(bufs[1], (const uint8_t *)col->values + (size_t)from * w,
                                   (size_t)count * w) == 0);
    }
}

/* ------------------------------------------------------------------ */
/* C Data Interface export                                              */
/* ------------------------------------------------------------------ */

DL_TEST(arrow_export_every_type) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 50);
    struct ArrowSchema schema;
    struct ArrowArray array;
    CHECK_OK(dl_arrow_export(&t, &schema, &array, &err), &err);

    CHECK_EQ_STR(schema.format, "+s");
    CHECK_EQ_INT(schema.n_children, T_NCOLS);
    CHECK(schema.release != NULL && schema.dictionary == NULL);
    CHECK_EQ_INT(array.length, 50);
    CHECK_EQ_INT(array.null_count, 0);
    CHECK_EQ_INT(array.n_buffers, 1);
    CHECK(array.buffers[0] == NULL);
    CHECK_EQ_INT(array.n_children, T_NCOLS);

    static const char *const formats[T_NCOLS] = {"b", "i", "l",       "f",    "g",
                                                 "u", "z", "tsu:UTC", "tsn:", "tdD"};
    for (int c = 0; c < T_NCOLS; c++) {
        const struct ArrowSchema *cs = schema.children[c];
        const struct ArrowArray *ca = array.children[c];
        const dl_column *col = &t.columns[c];
        CHECK_EQ_STR(cs->format, formats[c]);
        CHECK_EQ_STR(cs->name, t.schema.fields[c].name);
        CHECK_EQ_INT(cs->flags, c == T_I64 ? 0 : ARROW_FLAG_NULLABLE);
        CHECK_EQ_INT(cs->n_children, 0);
        CHECK(cs->release != NULL && ca->release != NULL);
        CHECK_EQ_INT(ca->length, 50);
        CHECK_EQ_INT(ca->offset, 0);
        CHECK_EQ_INT(ca->n_children, 0);
        bool var = col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY;
        CHECK_EQ_INT(ca->n_buffers, var ? 3 : 2);
        CHECK_EQ_INT(ca->null_count, c == T_I64 ? 0 : 17);
        CHECK(c != T_I64 || ca->buffers[0] == NULL);
        for (int b = 0; b < ca->n_buffers; b++)
            CHECK(ca->buffers[b] == NULL || (uintptr_t)ca->buffers[b] % 64 == 0);
        check_buffers(col, 0, 50, ca->buffers, ca->null_count, false);
    }
    /* the export is a copy: it outlives the table */
    int32_t first_i32 = ((const int32_t *)array.children[T_I32]->buffers[1])[0];
    dl_table_free(&t);
    CHECK_EQ_INT(first_i32, -5000);

    schema.release(&schema);
    array.release(&array);
    CHECK(schema.release == NULL && array.release == NULL);
}

DL_TEST(arrow_export_child_moved_out) {
    /* a consumer may move a child out and release the parent first */
    dl_error err = {0};
    dl_table t;
    make_table(&t, 10);
    struct ArrowSchema schema, moved_schema;
    struct ArrowArray array, moved_array;
    CHECK_OK(dl_arrow_export(&t, &schema, &array, &err), &err);
    moved_schema = *schema.children[T_STR];
    schema.children[T_STR]->release = NULL;
    moved_array = *array.children[T_STR];
    array.children[T_STR]->release = NULL;
    schema.release(&schema);
    array.release(&array);
    CHECK_EQ_STR(moved_schema.name, "text");
    CHECK_EQ_STR(moved_schema.format, "u");
    check_buffers(&t.columns[T_STR], 0, 10, moved_array.buffers, moved_array.null_count, false);
    moved_schema.release(&moved_schema);
    moved_array.release(&moved_array);
    CHECK(moved_schema.release == NULL && moved_array.release == NULL);
    dl_table_free(&t);
}

DL_TEST(arrow_export_large_offsets) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 20);
    struct ArrowSchema schema;
    struct ArrowArray array;
    /* pretend 2 GiB is 10 bytes: both var-width columns exceed it */
    CHECK_OK(dl_arrow_export_rows(&t, 0, t.num_rows, 10, &schema, &array, &err), &err);
    CHECK_EQ_STR(schema.children[T_STR]->format, "U");
    CHECK_EQ_STR(schema.children[T_BIN]->format, "Z");
    check_buffers(&t.columns[T_STR], 0, 20, array.children[T_STR]->buffers,
                  array.children[T_STR]->null_count, true);
    check_buffers(&t.columns[T_BIN], 0, 20, array.children[T_BIN]->buffers,
                  array.children[T_BIN]->null_count, true);
    schema.release(&schema);
    array.release(&array);
    dl_table_free(&t);
}

DL_TEST(arrow_export_empty_and_decimal) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 0);
    struct ArrowSchema schema;
    struct ArrowArray array;
    CHECK_OK(dl_arrow_export(&t, &schema, &array, &err), &err);
    for (int c = 0; c < T_NCOLS; c++) {
        const struct ArrowArray *ca = array.children[c];
        CHECK_EQ_INT(ca->length, 0);
        CHECK(ca->buffers[0] == NULL);
        for (int b = 1; b < ca->n_buffers; b++) CHECK(ca->buffers[b] != NULL);
        if (ca->n_buffers == 3) CHECK_EQ_INT(((const int32_t *)ca->buffers[1])[0], 0);
    }
    schema.release(&schema);
    array.release(&array);
    dl_table_free(&t);

    /* decimal(10,2) over int32 and default precision over int64 */
    dl_schema s;
    dl_schema_init(&s);
    CHECK_OK(dl_schema_add(&s, "p32", DL_TYPE_INT32, false, &err), &err);
    CHECK_OK(dl_schema_add(&s, "p64", DL_TYPE_INT64, false, &err), &err);
    s.fields[0].decimal_scale = 2;
    s.fields[0].decimal_precision = 10;
    s.fields[1].decimal_scale = 4;
    CHECK_OK(dl_table_init(&t, &s, &err), &err);
    dl_schema_free(&s);
    CHECK_OK(dl_column_append_i32(&t.columns[0], -12345, &err), &err);
    CHECK_OK(dl_column_append_i64(&t.columns[1], 987654321, &err), &err);
    CHECK_OK(dl_table_seal(&t, &err), &err);
    CHECK_OK(dl_arrow_export(&t, &schema, &array, &err), &err);
    CHECK_EQ_STR(schema.children[0]->format, "d:10,2");
    CHECK_EQ_STR(schema.children[1]->format, "d:18,4");
    const int64_t *v0 = array.children[0]->buffers[1], *v1 = array.children[1]->buffers[1];
    CHECK_EQ_INT(v0[0], -12345);
    CHECK_EQ_INT(v0[1], -1); /* sign-extended high word */
    CHECK_EQ_INT(v1[0], 987654321);
    CHECK_EQ_INT(v1[1], 0);
    schema.release(&schema);
    array.release(&array);
    dl_table_free(&t);
}

DL_TEST(arrow_export_rejects_inconsistent_tables) {
    dl_error err = {0};
    dl_table t;
    struct ArrowSchema schema;
    struct ArrowArray array;

    make_table(&t, 5);
    t.columns[T_F64].length = 4; /* not sealed */
    CHECK_RC(dl_arrow_export(&t, &schema, &array, &err), DL_EINVAL);
    CHECK(strstr(err.message, "f64") != NULL);
    CHECK(schema.release == NULL && array.release == NULL);
    t.columns[T_F64].length = 5;

    t.schema.fields[T_I32].nullable = false; /* nulls in a required column */
    CHECK_RC(dl_arrow_export(&t, &schema, &array, &err), DL_EINVAL);
    CHECK(strstr(err.message, "i32") != NULL && strstr(err.message, "nullable") != NULL);
    t.schema.fields[T_I32].nullable = true;

    t.schema.fields[T_TS].unit = DL_UNIT_MS; /* column holds us */
    CHECK_RC(dl_arrow_export(&t, &schema, &array, &err), DL_EINVAL);
    CHECK(strstr(err.message, "ts") != NULL);
    dl_table_free(&t);
}

/* ------------------------------------------------------------------ */
/* IPC stream                                                           */
/* ------------------------------------------------------------------ */

typedef struct sink {
    dl_buf buf;
    size_t fail_after; /* fail a write that would pass this many bytes (0 = never) */
} sink;

static int sink_write(void *ctx, const void *data, size_t len) {
    sink *s = ctx;
    if (s->fail_after && s->buf.len + len > s->fail_after) return -5;
    return dl_buf_append(&s->buf, data, len) == DL_OK ? 0 : -1;
}

typedef struct ipc_message {
    dl_fb_table message;
    uint8_t header_type;
    dl_fb_table header;
    const uint8_t *body;
    int64_t body_length;
} ipc_message;

/* Splits a stream into messages, checking the framing; returns the count
** (-1 on a framing error) and requires the EOS marker at the very end. */
static int parse_stream(const uint8_t *p, size_t len, ipc_message *out, int max) {
    dl_error err = {0};
    size_t at = 0;
    int n = 0;
    while (at + 8 <= len) {
        CHECK_EQ_INT(at % 8, 0);
        if (dl_load_u32le(p + at) != 0xFFFFFFFFu) return -1;
        uint32_t meta_len = dl_load_u32le(p + at + 4);
        if (meta_len == 0) return at + 8 == len ? n : -1; /* EOS, then nothing */
        CHECK_EQ_INT(meta_len % 8, 0);
        if (n == max || meta_len > len - at - 8) return -1;
        ipc_message *m = &out[n++];
        if (dl_fb_root(p + at + 8, meta_len, &m->message, &err) != DL_OK) return -1;
        CHECK_EQ_INT(dl_fb_get_i16(&m->message, 0, 0), 4); /* V5 */
        m->header_type = dl_fb_get_u8(&m->message, 1, 0);
        if (dl_fb_get_table(&m->message, 2, &m->header, &err) != DL_OK) return -1;
        m->body_length = dl_fb_get_i64(&m->message, 3, -1);
        if (m->body_length < 0 || m->body_length % 8 ||
            (uint64_t)m->body_length > len - at - 8 - meta_len)
            return -1;
        m->body = p + at + 8 + meta_len;
        at += 8 + meta_len + (size_t)m->body_length;
    }
    return -1; /* no EOS */
}

/* Checks a Schema message against the test table's schema. */
static void check_schema_message(const ipc_message *m, const dl_schema *schema) {
    dl_error err = {0};
    CHECK_EQ_INT(m->header_type, 1);
    CHECK_EQ_INT(m->body_length, 0);
    dl_fb_vector fields, children;
    dl_fb_table field, type;
    CHECK_OK(dl_fb_get_vector(&m->header, 1, 4, &fields, &err), &err);
    CHECK_EQ_INT(fields.count, schema->num_fields);
    /* type id, then the type table's first scalar (or -1) */
    static const int expect[T_NCOLS][2] = {{6, -1}, {2, 32}, {2, 64}, {3, 1},  {3, 2},
                                           {5, -1}, {4, -1}, {10, 2}, {10, 3}, {8, 0}};
    for (uint32_t i = 0; i < fields.count && i < T_NCOLS; i++) {
        const char *name;
        size_t nlen;
        CHECK_OK(dl_fb_vector_table(&fields, i, &field, &err), &err);
        CHECK_OK(dl_fb_get_string(&field, 0, &name, &nlen, &err), &err);
        CHECK_EQ_STR(name, schema->fields[i].name);
        CHECK_EQ_INT(dl_fb_get_u8(&field, 1, 9), schema->fields[i].nullable);
        CHECK_EQ_INT(dl_fb_get_u8(&field, 2, 0), expect[i][0]);
        CHECK_OK(dl_fb_get_vector(&field, 5, 4, &children, &err), &err); /* present, empty */
        CHECK_EQ_INT(children.count, 0);
        CHECK_OK(dl_fb_get_table(&field, 3, &type, &err), &err);
        if (expect[i][0] == 2) {
            CHECK_EQ_INT(dl_fb_get_i32(&type, 0, 0), expect[i][1]);
            CHECK_EQ_INT(dl_fb_get_u8(&type, 1, 0), 1);
        } else if (expect[i][1] >= 0) {
            CHECK(dl_fb_has(&type, 0)); /* Date DAY (0) must be present: default is ms */
            CHECK_EQ_INT(dl_fb_get_i16(&type, 0, -1), expect[i][1]);
        }
        if (expect[i][0] == 10) {
            const char *tz;
            size_t tzlen;
            if (schema->fields[i].utc) {
                CHECK_OK(dl_fb_get_string(&type, 1, &tz, &tzlen, &err), &err);
                CHECK_EQ_STR(tz, "UTC");
            } else {
                CHECK_RC(dl_fb_get_string(&type, 1, &tz, &tzlen, &err), DL_ENOTFOUND);
            }
        }
    }
}

/* Checks a RecordBatch message against rows [from, from + count) of t. */
static void check_batch_message(const ipc_message *m, const dl_table *t, int64_t from,
                                int64_t count) {
    dl_error err = {0};
    CHECK_EQ_INT(m->header_type, 3);
    CHECK_EQ_INT(dl_fb_get_i64(&m->header, 0, -1), count);
    dl_fb_vector nodes, buffers;
    CHECK_OK(dl_fb_get_vector(&m->header, 1, 16, &nodes, &err), &err);
    CHECK_OK(dl_fb_get_vector(&m->header, 2, 16, &buffers, &err), &err);
    CHECK_EQ_INT(nodes.count, t->schema.num_fields);
    CHECK_EQ_INT(nodes.pos % 8, 0);
    CHECK_EQ_INT(buffers.pos % 8, 0);
    uint32_t b = 0;
    int64_t prev_end = 0;
    for (uint32_t c = 0; c < nodes.count; c++) {
        const dl_column *col = &t->columns[c];
        int64_t length = (int64_t)dl_load_u64le(nodes.buf + nodes.pos + 16 * c);
        int64_t null_count = (int64_t)dl_load_u64le(nodes.buf + nodes.pos + 16 * c + 8);
        CHECK_EQ_INT(length, count);
        int nb = col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY ? 3 : 2;
        const void *bufs[3] = {NULL, NULL, NULL};
        for (int k = 0; k < nb && b < buffers.count; k++, b++) {
            int64_t off = (int64_t)dl_load_u64le(buffers.buf + buffers.pos + 16 * b);
            int64_t blen = (int64_t)dl_load_u64le(buffers.buf + buffers.pos + 16 * b + 8);
            CHECK_EQ_INT(off % 8, 0);
            CHECK_EQ_INT(off, prev_end); /* packed in order, each padded to 8 */
            CHECK(off >= 0 && blen >= 0 && off + blen <= m->body_length);
            prev_end = off + ((blen + 7) & ~7);
            static const uint8_t empty[8] = {0};
            bufs[k] = blen ? (const void *)(m->body + off) : k == 0 ? NULL : (const void *)empty;
        }
        check_buffers(col, from, count, bufs, null_count, false);
    }
    CHECK_EQ_INT(b, buffers.count);
    CHECK_EQ_INT(prev_end, m->body_length);
}

DL_TEST(arrow_ipc_stream_structure) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 37);
    sink out = {DL_BUF_INIT, 0};
    dl_ipc_writer *w;
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    CHECK_OK(dl_ipc_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_ipc_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);

    ipc_message msgs[8];
    int n = parse_stream(out.buf.data, out.buf.len, msgs, 8);
    CHECK_EQ_INT(n, 3);
    CHECK(out.buf.len >= 8 &&
          memcmp(out.buf.data + out.buf.len - 8, "\xFF\xFF\xFF\xFF\0\0\0\0", 8) == 0);
    if (n == 3) {
        check_schema_message(&msgs[0], &t.schema);
        check_batch_message(&msgs[1], &t, 0, 37);
        check_batch_message(&msgs[2], &t, 0, 37);
    }
    dl_buf_free(&out.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_ipc_empty_batch_and_schema_only) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 0);
    sink out = {DL_BUF_INIT, 0};
    dl_ipc_writer *w;
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);
    ipc_message msgs[4];
    CHECK_EQ_INT(parse_stream(out.buf.data, out.buf.len, msgs, 4), 1);

    dl_buf_reset(&out.buf);
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    CHECK_OK(dl_ipc_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);
    CHECK_EQ_INT(parse_stream(out.buf.data, out.buf.len, msgs, 4), 2);
    check_batch_message(&msgs[1], &t, 0, 0);
    dl_buf_free(&out.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_ipc_splits_batches_at_offset_limit) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 101);
    sink out = {DL_BUF_INIT, 0};
    dl_ipc_writer *w;
    const int64_t limit = 40;
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    dl_ipc_writer_set_max_var_bytes(w, limit);
    CHECK_OK(dl_ipc_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);

    enum { MAX_MSGS = 200 };
    ipc_message *msgs = calloc(MAX_MSGS, sizeof *msgs);
    int n = parse_stream(out.buf.data, out.buf.len, msgs, MAX_MSGS);
    CHECK(n > 3);
    int64_t from = 0;
    for (int i = 1; i < n; i++) {
        int64_t count = dl_fb_get_i64(&msgs[i].header, 0, -1);
        CHECK(count > 0);
        /* each piece fits, and one more row would not have */
        for (int c = T_STR; c <= T_BIN; c++) {
            CHECK(dl_arrow_var_bytes(&t.columns[c], from, count) <= limit);
        }
        if (from + count < 101)
            CHECK(dl_arrow_var_bytes(&t.columns[T_STR], from, count + 1) > limit ||
                  dl_arrow_var_bytes(&t.columns[T_BIN], from, count + 1) > limit);
        /* also checks validity shifted to ranges not starting on a byte */
        check_batch_message(&msgs[i], &t, from, count);
        from += count;
    }
    CHECK_EQ_INT(from, 101);
    free(msgs);

    /* one value larger than the limit cannot be split */
    dl_buf_reset(&out.buf);
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    dl_ipc_writer_set_max_var_bytes(w, 3);
    CHECK_RC(dl_ipc_writer_write(w, &t, &err), DL_EUNSUPPORTED);
    CHECK(strstr(err.message, "text") != NULL || strstr(err.message, "blob") != NULL);
    dl_ipc_writer_abort(w);
    dl_buf_free(&out.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_ipc_write_failure_poisons_stream) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 20);
    dl_ipc_writer *w;

    sink early = {DL_BUF_INIT, 16}; /* fails inside the schema message */
    CHECK_RC(dl_ipc_writer_open(&t.schema, sink_write, &early, &w, &err), DL_EIO);
    CHECK(w == NULL);
    CHECK(strstr(err.message, "offset") != NULL);
    dl_buf_free(&early.buf);

    sink out = {DL_BUF_INIT, 0};
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    out.fail_after = out.buf.len + 100; /* fails inside the first batch's body */
    CHECK_RC(dl_ipc_writer_write(w, &t, &err), DL_EIO);
    CHECK(strstr(err.message, "callback returned -5") != NULL);
    out.fail_after = 0;
    CHECK_RC(dl_ipc_writer_write(w, &t, &err), DL_EIO);
    CHECK_RC(dl_ipc_writer_close(w, &err), DL_EIO); /* and frees w */
    dl_buf_free(&out.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_ipc_rejects_mismatched_batches) {
    dl_error err = {0};
    dl_table t, other;
    make_table(&t, 4);
    make_table(&other, 4);
    sink out = {DL_BUF_INIT, 0};
    dl_ipc_writer *w;
    CHECK_OK(dl_ipc_writer_open(&t.schema, sink_write, &out, &w, &err), &err);
    size_t after_schema = out.buf.len;

    other.schema.fields[T_TS].unit = DL_UNIT_MS;
    other.columns[T_TS].unit = DL_UNIT_MS;
    CHECK_RC(dl_ipc_writer_write(w, &other, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "ts") != NULL);
    other.schema.fields[T_TS].unit = DL_UNIT_US;
    other.columns[T_TS].unit = DL_UNIT_US;

    other.schema.num_fields--; /* fewer columns */
    CHECK_RC(dl_ipc_writer_write(w, &other, &err), DL_ECONFLICT);
    other.schema.num_fields++;

    /* nulls in a column the stream declared required */
    dl_ipc_writer *strict;
    dl_schema s;
    CHECK_OK(dl_schema_copy(&s, &t.schema, &err), &err);
    s.fields[T_F32].nullable = false;
    CHECK_OK(dl_ipc_writer_open(&s, sink_write, &out, &strict, &err), &err);
    CHECK_RC(dl_ipc_writer_write(strict, &t, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "f32") != NULL);
    dl_ipc_writer_abort(strict);
    dl_schema_free(&s);

    /* a rejected batch wrote nothing: the stream is still good */
    out.buf.len = after_schema;
    CHECK_OK(dl_ipc_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);
    ipc_message msgs[4];
    CHECK_EQ_INT(parse_stream(out.buf.data, out.buf.len, msgs, 4), 2);
    dl_buf_free(&out.buf);
    dl_table_free(&t);
    dl_table_free(&other);
}

DL_TEST(arrow_write_to_file) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 9);
    char path[1024];
    snprintf(path, sizeof path, "%s/t.arrows", dl_test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    dl_ipc_writer *w;
    CHECK_OK(dl_ipc_writer_open(&t.schema, dl_write_to_file, f, &w, &err), &err);
    CHECK_OK(dl_ipc_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);
    long size = ftell(f);
    fclose(f);
    f = fopen(path, "rb");
    uint8_t *bytes = malloc((size_t)size);
    CHECK_EQ_INT(fread(bytes, 1, (size_t)size, f), size);
    fclose(f);
    ipc_message msgs[4];
    CHECK_EQ_INT(parse_stream(bytes, (size_t)size, msgs, 4), 2);
    free(bytes);

    /* a read-only stream makes fwrite fail */
    f = fopen(path, "rb");
    CHECK_EQ_INT(dl_write_to_file(f, "x", 1), -1);
    fclose(f);
    dl_table_free(&t);
}

/* ------------------------------------------------------------------ */
/* Arrow C stream: producer -> stream -> import / IPC                   */
/* ------------------------------------------------------------------ */

/* A producer handing out `batches` copies of a table, then failing with
** DL_ECORRUPT when fail_at >= 0 (before batch fail_at). */
typedef struct fake_source {
    const dl_table *t;
    int batches, handed, fail_at;
    int closes; /* how often close ran (must end at exactly 1) */
} fake_source;

static int fake_next(void *self, dl_table *batch, dl_error *err) {
    fake_source *f = self;
    if (f->handed == f->fail_at)
        return dl_error_set(err, DL_ECORRUPT, "fake.parquet: bad page at batch %d", f->handed);
    if (f->handed >= f->batches) return DL_OK;
    f->handed++;
    for (int c = 0; c < f->t->schema.num_fields; c++) {
        int rc =
            dl_column_append_range(&batch->columns[c], &f->t->columns[c], 0, f->t->num_rows, err);
        if (rc != DL_OK) return rc;
    }
    return dl_table_seal(batch, err);
}

static void fake_close(void *self) {
    ((fake_source *)self)->closes++;
}

static void fake_stream(fake_source *f, struct ArrowArrayStream *s) {
    dl_error err = {0};
    dl_batch_source src = {f, fake_next, fake_close};
    CHECK_OK(dl_arrow_stream_from_source(&f->t->schema, &src, s, &err), &err);
}

/* IPC bytes of the table written `copies` times straight from dl_tables. */
static void ipc_of_table(const dl_table *t, int copies, dl_buf *out) {
    dl_error err = {0};
    sink s = {DL_BUF_INIT, 0};
    dl_ipc_writer *w;
    CHECK_OK(dl_ipc_writer_open(&t->schema, sink_write, &s, &w, &err), &err);
    for (int i = 0; i < copies; i++) CHECK_OK(dl_ipc_writer_write(w, t, &err), &err);
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);
    *out = s.buf;
}

DL_TEST(arrow_stream_round_trip_and_ownership) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 53);
    fake_source f = {&t, 3, 0, -1, 0};
    struct ArrowArrayStream s;
    fake_stream(&f, &s);

    struct ArrowSchema as;
    CHECK_EQ_INT(s.get_schema(&s, &as), 0);
    CHECK_EQ_STR(as.format, "+s");
    CHECK_EQ_INT(as.n_children, T_NCOLS);
    CHECK_EQ_STR(as.children[T_STR]->format, "u");
    CHECK_EQ_STR(as.children[T_TS]->format, "tsu:UTC");
    CHECK_EQ_STR(as.children[T_TS_LOCAL]->format, "tsn:");
    dl_schema imported;
    CHECK_OK(dl_arrow_import_schema(&as, &imported, &err), &err);
    CHECK_EQ_INT(imported.num_fields, T_NCOLS);
    for (int c = 0; c < imported.num_fields && c < T_NCOLS; c++) {
        CHECK_EQ_STR(imported.fields[c].name, t.schema.fields[c].name);
        CHECK_EQ_INT(imported.fields[c].type, t.schema.fields[c].type);
        CHECK_EQ_INT(imported.fields[c].nullable, t.schema.fields[c].nullable);
    }
    CHECK_EQ_INT(imported.fields[T_TS_LOCAL].utc, 0);
    CHECK_EQ_INT(imported.fields[T_TS_LOCAL].unit, DL_UNIT_NS);

    /* every array imports back to the table: IPC of the imports equals IPC
    ** of the original, byte for byte */
    struct ArrowArray kept; /* the first array outlives the stream */
    sink again = {DL_BUF_INIT, 0};
    dl_ipc_writer *w;
    CHECK_OK(dl_ipc_writer_open(&imported, sink_write, &again, &w, &err), &err);
    int arrays = 0;
    for (;;) {
        struct ArrowArray a;
        CHECK_EQ_INT(s.get_next(&s, &a), 0);
        if (!a.release) break;
        CHECK_EQ_INT(a.length, 53);
        dl_table back;
        CHECK_OK(dl_arrow_import_array(&imported, &as, &a, &back, &err), &err);
        CHECK_OK(dl_ipc_writer_write(w, &back, &err), &err);
        dl_table_free(&back);
        if (arrays++ == 0)
            kept = a;
        else
            a.release(&a);
    }
    CHECK_EQ_INT(arrays, 3);
    CHECK_EQ_INT(f.closes, 1); /* the end closes the producer at once */
    CHECK_OK(dl_ipc_writer_close(w, &err), &err);
    dl_buf want;
    ipc_of_table(&t, 3, &want);
    CHECK(again.buf.len == want.len && memcmp(again.buf.data, want.data, want.len) == 0);

    /* after the end: still the end, no error */
    struct ArrowArray end;
    CHECK_EQ_INT(s.get_next(&s, &end), 0);
    CHECK(end.release == NULL);
    CHECK(s.get_last_error(&s) == NULL);
    s.release(&s);
    CHECK(s.release == NULL);
    CHECK_EQ_INT(f.closes, 1);

    /* the array kept past the stream's release is intact; its child moved
    ** out survives the parent */
    dl_table back;
    CHECK_OK(dl_arrow_import_array(&imported, &as, &kept, &back, &err), &err);
    CHECK_EQ_INT(back.num_rows, 53);
    struct ArrowArray child = *kept.children[T_STR];
    kept.children[T_STR]->release = NULL;
    kept.release(&kept);
    CHECK_EQ_INT(child.length, 53);
    child.release(&child);
    dl_table_free(&back);
    as.release(&as);
    dl_schema_free(&imported);
    dl_buf_free(&want);
    dl_buf_free(&again.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_stream_early_release_closes_producer) {
    dl_table t;
    make_table(&t, 10);
    fake_source f = {&t, 1000, 0, -1, 0};
    struct ArrowArrayStream s;
    fake_stream(&f, &s);
    struct ArrowArray a;
    CHECK_EQ_INT(s.get_next(&s, &a), 0);
    CHECK(a.release != NULL);
    CHECK_EQ_INT(f.closes, 0);
    s.release(&s); /* the consumer stops after one array */
    CHECK_EQ_INT(f.closes, 1);
    CHECK_EQ_INT(f.handed, 1);
    CHECK_EQ_INT(a.length, 10);
    a.release(&a);

    /* released before any get_next, and without get_schema */
    fake_source g = {&t, 5, 0, -1, 0};
    fake_stream(&g, &s);
    s.release(&s);
    CHECK_EQ_INT(g.closes, 1);
    CHECK_EQ_INT(g.handed, 0);
    dl_table_free(&t);
}

DL_TEST(arrow_stream_error_mid_stream) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 7);
    fake_source f = {&t, 10, 0, 2, 0};
    struct ArrowArrayStream s;
    fake_stream(&f, &s);
    struct ArrowArray a;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(s.get_next(&s, &a), 0);
        CHECK(a.release != NULL);
        if (a.release) a.release(&a);
    }
    int code = s.get_next(&s, &a);
    CHECK(code != 0);
    CHECK(a.release == NULL);
    const char *msg = s.get_last_error(&s);
    CHECK(msg && strstr(msg, "fake.parquet: bad page at batch 2"));
    CHECK_EQ_INT(f.closes, 1);              /* nothing more will be read: closed now */
    CHECK_EQ_INT(s.get_next(&s, &a), code); /* sticky */
    CHECK(a.release == NULL);
    s.release(&s);
    CHECK_EQ_INT(f.closes, 1);

    /* IPC from a failing stream: the stream's message, the stream consumed */
    fake_source g = {&t, 10, 0, 1, 0};
    fake_stream(&g, &s);
    sink out = {DL_BUF_INIT, 0};
    int64_t rows = -1;
    CHECK_RC(dl_arrow_stream_write_ipc(&s, sink_write, &out, &rows, &err), DL_EIO);
    CHECK(strstr(err.message, "bad page at batch 1") != NULL);
    CHECK(s.release == NULL);
    CHECK_EQ_INT(g.closes, 1);
    dl_buf_free(&out.buf);

    /* a write failure of the IPC output also releases the stream */
    fake_source h = {&t, 10, 0, -1, 0};
    fake_stream(&h, &s);
    sink small = {DL_BUF_INIT, 64};
    CHECK_RC(dl_arrow_stream_write_ipc(&s, sink_write, &small, NULL, &err), DL_EIO);
    CHECK(s.release == NULL);
    CHECK_EQ_INT(h.closes, 1);
    dl_buf_free(&small.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_stream_ipc_equals_direct_ipc) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 77);
    fake_source f = {&t, 4, 0, -1, 0};
    struct ArrowArrayStream s;
    fake_stream(&f, &s);
    sink out = {DL_BUF_INIT, 0};
    int64_t rows = 0;
    CHECK_OK(dl_arrow_stream_write_ipc(&s, sink_write, &out, &rows, &err), &err);
    CHECK_EQ_INT(rows, 4 * 77);
    dl_buf want;
    ipc_of_table(&t, 4, &want);
    CHECK(out.buf.len == want.len && memcmp(out.buf.data, want.data, want.len) == 0);
    dl_buf_free(&want);
    dl_buf_free(&out.buf);
    dl_table_free(&t);
}

DL_TEST(arrow_stream_splits_string_bytes) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 101);
    fake_source f = {&t, 1, 0, -1, 0};
    struct ArrowArrayStream s;
    fake_stream(&f, &s);
    dl_arrow_stream_set_max_var_bytes(&s, 40);
    int64_t from = 0;
    int arrays = 0;
    for (;;) {
        struct ArrowArray a;
        CHECK_EQ_INT(s.get_next(&s, &a), 0);
        if (!a.release) break;
        arrays++;
        CHECK(a.length > 0);
        for (int c = T_STR; c <= T_BIN; c++) {
            const int32_t *off = a.children[c]->buffers[1];
            CHECK(off[a.children[c]->length] - off[0] <= 40);
            /* the text of the array's rows is the table's rows from `from` */
            CHECK_EQ_INT(off[a.children[c]->length] - off[0],
                         dl_arrow_var_bytes(&t.columns[c], from, a.length));
        }
        from += a.length;
        a.release(&a);
    }
    CHECK_EQ_INT(from, 101);
    CHECK(arrays > 3);
    s.release(&s);

    /* a single value over the limit is an error, not a wrong array */
    fake_source g = {&t, 1, 0, -1, 0};
    fake_stream(&g, &s);
    dl_arrow_stream_set_max_var_bytes(&s, 3);
    struct ArrowArray a;
    int code = 0, good = 0;
    while ((code = s.get_next(&s, &a)) == 0 && a.release) { /* row 0 is empty: it fits */
        good++;
        a.release(&a);
    }
    CHECK(code != 0);
    CHECK_EQ_INT(good, 1);
    const char *msg = s.get_last_error(&s);
    CHECK(msg && strstr(msg, "larger than") != NULL);
    s.release(&s);
    CHECK_EQ_INT(g.closes, 1);
    dl_table_free(&t);
    (void)err;
}

DL_TEST(arrow_import_checks_arrays) {
    dl_error err = {0};
    dl_table t, back;
    make_table(&t, 12);
    struct ArrowSchema as;
    struct ArrowArray a;
    CHECK_OK(dl_arrow_export(&t, &as, &a, &err), &err);
    dl_schema s;
    CHECK_OK(dl_arrow_import_schema(&as, &s, &err), &err);

    /* an offset into the struct selects rows, for every child */
    a.offset = 5;
    a.length = 7;
    CHECK_OK(dl_arrow_import_array(&s, &as, &a, &back, &err), &err);
    CHECK_EQ_INT(back.num_rows, 7);
    const int64_t *v = back.columns[T_I64].values, *o = t.columns[T_I64].values;
    CHECK(v[0] == o[5] && v[6] == o[11]);
    CHECK_EQ_INT(dl_column_is_valid(&back.columns[T_STR], 2),
                 dl_column_is_valid(&t.columns[T_STR], 7));
    dl_table_free(&back);

    /* past the end of the children */
    a.length = 8;
    CHECK_RC(dl_arrow_import_array(&s, &as, &a, &back, &err), DL_EINVAL);
    a.offset = 0;
    a.length = 12;
    /* wrong buffer counts, missing buffers, negative lengths */
    a.children[T_I32]->n_buffers = 3;
    CHECK_RC(dl_arrow_import_array(&s, &as, &a, &back, &err), DL_EINVAL);
    CHECK(strstr(err.message, "i32") != NULL);
    a.children[T_I32]->n_buffers = 2;
    const void *saved = a.children[T_F64]->buffers[1];
    a.children[T_F64]->buffers[1] = NULL;
    CHECK_RC(dl_arrow_import_array(&s, &as, &a, &back, &err), DL_EINVAL);
    a.children[T_F64]->buffers[1] = saved;
    a.children[T_BOOL]->length = -1;
    CHECK_RC(dl_arrow_import_array(&s, &as, &a, &back, &err), DL_EINVAL);
    a.children[T_BOOL]->length = 12;
    /* decreasing string offsets */
    int32_t *off = (int32_t *)a.children[T_STR]->buffers[1];
    int32_t keep = off[3];
    off[3] = off[2] - 1;
    CHECK_RC(dl_arrow_import_array(&s, &as, &a, &back, &err), DL_ECORRUPT);
    off[3] = keep;
    CHECK_OK(dl_arrow_import_array(&s, &as, &a, &back, &err), &err);
    dl_table_free(&back);

    /* formats we do not produce are refused by name */
    const char *fmt = as.children[T_I32]->format;
    as.children[T_I32]->format = "tss:";
    dl_schema bad;
    CHECK_RC(dl_arrow_import_schema(&as, &bad, &err), DL_EUNSUPPORTED);
    as.children[T_I32]->format = "+l";
    CHECK_RC(dl_arrow_import_schema(&as, &bad, &err), DL_EUNSUPPORTED);
    CHECK(strstr(err.message, "i32") != NULL);
    as.children[T_I32]->format = fmt;
    a.release(&a);
    as.release(&as);
    dl_schema_free(&s);
    dl_table_free(&t);
}

DL_TEST(arrow_stream_of_parquet_file) {
    dl_error err = {0};
    dl_table t;
    make_table(&t, 250);
    char path[1024];
    snprintf(path, sizeof path, "%s/s.parquet", dl_test_tmpdir());
    dl_write_options o;
    dl_write_options_default(&o);
    o.row_group_rows = 100;
    CHECK_OK(dl_parquet_write_table(path, &t, &o, &err), &err);
    dl_parquet_reader *r;
    CHECK_OK(dl_parquet_open(path, &r, &err), &err);
    int cols[2] = {T_STR, T_I64};
    struct ArrowArrayStream s;
    CHECK_RC(dl_parquet_arrow_stream(r, (int[]){99}, 1, &s, &err), DL_EINVAL);
    CHECK_OK(dl_parquet_arrow_stream(r, cols, 2, &s, &err), &err);
    struct ArrowSchema as;
    CHECK_EQ_INT(s.get_schema(&s, &as), 0);
    CHECK_EQ_INT(as.n_children, 2);
    CHECK_EQ_STR(as.children[0]->name, "text");
    CHECK_EQ_STR(as.children[1]->name, "i64");
    int64_t lengths[4] = {0}, n = 0, total = 0;
    for (;;) {
        struct ArrowArray a;
        CHECK_EQ_INT(s.get_next(&s, &a), 0);
        if (!a.release) break;
        const int64_t *vals = a.children[1]->buffers[1];
        CHECK(vals[0] == ((const int64_t *)t.columns[T_I64].values)[total]);
        if (n < 4) lengths[n] = a.length;
        n++;
        total += a.length;
        a.release(&a);
    }
    CHECK_EQ_INT(n, 3); /* one array per row group */
    CHECK(lengths[0] == 100 && lengths[1] == 100 && lengths[2] == 50);
    CHECK_EQ_INT(total, 250);
    as.release(&as);
    s.release(&s); /* closes the reader (ASan reports a leak otherwise) */
    dl_table_free(&t);
}
