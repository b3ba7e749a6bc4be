/*
** fuzz_meta.c -- libFuzzer target for the Parquet metadata decoders
** (pq_meta.h).  Feeds every input to the FileMetaData, PageHeader,
** OffsetIndex and ColumnIndex decoders; whenever one succeeds the result is
** re-encoded and decoded again, which must succeed, and encoding that second
** result must reproduce the same bytes (encode is a fixed point of
** decode∘encode).  Any violation abort()s so the fuzzer keeps the input.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq_meta.h"

#define ARENA_LIMIT ((size_t)64 << 20)

static void die(const char *what, const dl_error *err) {
    fprintf(stderr, "fuzz_meta: %s: %s\n", what, err->message);
    abort();
}

/* Decodes `bytes`, re-encodes, decodes again and checks the second encoding
** matches the first.  Shared by the four struct kinds through these hooks. */
typedef int (*decode_fn)(const uint8_t *buf, size_t len, dl_arena *arena, void *out, dl_error *err);
typedef int (*encode_fn)(const void *in, dl_buf *out, dl_error *err);

static void check_round_trip(const char *name, const dl_buf *first_encoding, decode_fn decode,
                             encode_fn encode, void *scratch) {
    dl_arena arena;
    dl_error err = {0};
    dl_buf second = DL_BUF_INIT;
    dl_arena_init(&arena, ARENA_LIMIT);
    if (decode(first_encoding->data, first_encoding->len, &arena, scratch, &err) != DL_OK)
        die(name, &err);
    if (encode(scratch, &second, &err) != DL_OK) die(name, &err);
    if (second.len != first_encoding->len ||
        memcmp(second.data, first_encoding->data, second.len) != 0) {
        fprintf(stderr, "fuzz_meta: %s: re-encoding is not stable (%zu vs %zu bytes)\n", name,
                first_encoding->len, second.len);
        abort();
    }
    dl_buf_free(&second);
    dl_arena_free(&arena);
}

static void fuzz_one(const char *name, const uint8_t *data, size_t size, decode_fn decode,
                     encode_fn encode, void *scratch) {
    dl_arena arena;
    dl_error err = {0};
    dl_arena_init(&arena, ARENA_LIMIT);
    int rc = decode(data, size, &arena, scratch, &err);
    if (rc != DL_OK) {
        if (rc != DL_ECORRUPT && rc != DL_ENOMEM) die(name, &err);
        if (err.message[0] == 0) die(name, &err); /* every failure explains itself */
    } else {
        dl_buf first = DL_BUF_INIT;
        rc = encode(scratch, &first, &err);
        /* encryption is the one thing we decode but cannot write back */
        if (rc != DL_OK && rc != DL_EUNSUPPORTED) die(name, &err);
        if (rc == DL_OK) check_round_trip(name, &first, decode, encode, scratch);
        dl_buf_free(&first);
    }
    dl_arena_free(&arena);
}

/* Adapters to the common hook signatures. */
static int decode_file_meta(const uint8_t *b, size_t n, dl_arena *a, void *o, dl_error *e) {
    return dl_pq_decode_file_meta(b, n, a, o, e);
}
static int encode_file_meta(const void *in, dl_buf *out, dl_error *e) {
    return dl_pq_encode_file_meta(in, out, e);
}
static int decode_page_header(const uint8_t *b, size_t n, dl_arena *a, void *o, dl_error *e) {
    size_t used;
    (void)a;
    int rc = dl_pq_decode_page_header(b, n, o, &used, e);
    if (rc == DL_OK && used > n) abort();
    return rc;
}
static int encode_page_header(const void *in, dl_buf *out, dl_error *e) {
    return dl_pq_encode_page_header(in, out, e);
}
static int decode_offset_index(const uint8_t *b, size_t n, dl_arena *a, void *o, dl_error *e) {
    return dl_pq_decode_offset_index(b, n, a, o, e);
}
static int encode_offset_index(const void *in, dl_buf *out, dl_error *e) {
    return dl_pq_encode_offset_index(in, out, e);
}
static int decode_column_index(const uint8_t *b, size_t n, dl_arena *a, void *o, dl_error *e) {
    return dl_pq_decode_column_index(b, n, a, o, e);
}
static int encode_column_index(const void *in, dl_buf *out, dl_error *e) {
    return dl_pq_encode_column_index(in, out, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dl_pq_file_meta meta;
    dl_pq_page_header header;
    dl_pq_offset_index offset_index;
    dl_pq_column_index column_index;
    fuzz_one("FileMetaData", data, size, decode_file_meta, encode_file_meta, &meta);
    fuzz_one("PageHeader", data, size, decode_page_header, encode_page_header, &header);
    fuzz_one("OffsetIndex", data, size, decode_offset_index, encode_offset_index, &offset_index);
    fuzz_one("ColumnIndex", data, size, decode_column_index, encode_column_index, &column_index);
    return 0;
}
