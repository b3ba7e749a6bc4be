/*
** fuzz_zip.c -- libFuzzer target for the zip member reader
** (ingest/dl_zip.h) on its own, below the CSV parser.
**
** Each input is opened (1) as a whole archive and (2) as the raw deflate
** data of a one-member archive whose declared size and CRC come from the
** input's first 8 bytes, so inflate errors, size lies and the expansion
** limit are all reached.  The member is read in chunks of varying size.
** Besides crashes and sanitizer reports, the target checks the reader's
** promises: it never returns more bytes than the declared size, progress
** stays within the archive, and every failure has a message.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/dl_zip.h"
#include "util/dl_buf.h"
#include "util/dl_internal.h"

static void read_member(const uint8_t *data, size_t size, uint32_t max_ratio, size_t chunk) {
    dl_error err = {0};
    dl_zip_reader *z = NULL;
    if (dl_zip_open_memory(data, size, "fuzz.zip", max_ratio, &z, &err) != DL_OK) {
        if (err.message[0] == 0) abort(); /* every failure explains itself */
        return;
    }
    uint8_t buf[4096];
    uint64_t total = 0;
    for (;;) {
        size_t got = 0;
        if (dl_zip_read(z, buf, chunk, &got, &err) != DL_OK) {
            if (err.message[0] == 0) abort();
            break;
        }
        if (got > chunk) abort();
        total += got;
        if (total > dl_zip_member_size(z)) abort(); /* never past the declared size */
        if (got == 0) {
            if (total != dl_zip_member_size(z)) abort(); /* the end is checked */
            break;
        }
    }
    uint64_t done, all;
    dl_zip_progress(z, &done, &all);
    if (done > all) abort();
    dl_zip_close(z);
}

static void put16(dl_buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    dl_buf_append(b, x, 2);
}

/* A one-member deflate archive around `comp`, declaring usize and crc. */
static void wrap_deflate(dl_buf *z, const uint8_t *comp, size_t len, uint32_t usize, uint32_t crc) {
    static const uint8_t name[] = "m.csv";
    for (int central = 0; central < 2; central++) {
        dl_buf_append_u32le(z, central ? 0x02014b50u : 0x04034b50u);
        if (central) put16(z, 20);
        put16(z, 20);
        put16(z, 0);
        put16(z, 8); /* deflate */
        put16(z, 0);
        put16(z, 0);
        dl_buf_append_u32le(z, crc);
        dl_buf_append_u32le(z, (uint32_t)len);
        dl_buf_append_u32le(z, usize);
        put16(z, 5);
        put16(z, 0);
        if (central) {
            for (int k = 0; k < 4; k++) put16(z, 0);
            dl_buf_append_u32le(z, 0);
            dl_buf_append_u32le(z, 0);
        }
        dl_buf_append(z, name, 5);
        if (!central) dl_buf_append(z, comp, len);
    }
    dl_buf_append_u32le(z, 0x06054b50u);
    put16(z, 0);
    put16(z, 0);
    put16(z, 1);
    put16(z, 1);
    dl_buf_append_u32le(z, 46 + 5);
    dl_buf_append_u32le(z, (uint32_t)(30 + 5 + len));
    put16(z, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned selector = size ? data[size - 1] : 0;
    size_t chunk = 1 + (size_t)(selector * 13u % 4096u);
    uint32_t ratio = selector & 1 ? 2 : 0; /* a strict limit, or the default */
    read_member(data, size, ratio, chunk);
    if (size >= 8) {
        uint32_t usize = dl_load_u32le(data), crc = dl_load_u32le(data + 4);
        dl_buf z = DL_BUF_INIT;
        wrap_deflate(&z, data + 8, size - 8, usize, crc);
        read_member(z.data, z.len, ratio, chunk);
        dl_buf_free(&z);
    }
    return 0;
}
