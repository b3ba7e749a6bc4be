/*
** fuzz_parquet.c -- libFuzzer target for the whole Parquet reader: opens
** the input as a file image, reads every column of every row group (whole
** and by a row range, which takes the page-index path), and asks for chunk
** info, chunk statistics and page statistics.  A whole-column read that
** fails is repeated with page CRC checking off, so that mutations of files
** with page CRCs still exercise the decoders; the range read runs unchecked.  Any crash, leak, hang
*or
** sanitizer report is a bug; errors must carry a message.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"

static void check_error(int rc, const dl_error *err) {
    if (rc != DL_OK && err->message[0] == 0) abort(); /* every failure explains itself */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dl_error err = {0};
    dl_parquet_reader *r = NULL;
    int rc = dl_parquet_open_memory(data, size, "fuzz.parquet", &r, &err);
    check_error(rc, &err);
    if (rc != DL_OK) return 0;
    const dl_schema *s = dl_parquet_schema(r);
    int groups = dl_parquet_num_row_groups(r);
    for (int g = 0; g < groups && g < 64; g++) {
        int64_t rows = dl_parquet_row_group_rows(r, g);
        for (int c = 0; c < s->num_fields && c < 64; c++) {
            dl_chunk_info info;
            dl_stats st;
            check_error(dl_parquet_chunk_info(r, g, c, &info, &err), &err);
            check_error(dl_parquet_chunk_stats(r, g, c, &st, &err), &err);
            dl_page_stats *ps = NULL;
            int np = 0;
            if (dl_parquet_page_stats(r, g, c, &ps, &np, &err) == DL_OK) dl_free(ps);
            dl_column col;
            dl_column_init(&col, s->fields[c].type, s->fields[c].unit);
            /* page CRCs checked (the default), then not: a mutated page of a
            ** file with CRCs must still reach the decoders */
            for (int check = 1; check >= 0; check--) {
                dl_parquet_set_check_crc(r, check);
                rc = dl_parquet_read_column(r, g, c, &col, &err);
                check_error(rc, &err);
                if (rc == DL_OK && col.length != rows) abort(); /* a chunk yields its rows */
                dl_column_clear(&col);
                if (rc == DL_OK) break; /* the unchecked read would decode the same bytes */
            }
            if (rows > 2) {
                dl_parquet_set_check_crc(r, false);
                rc = dl_parquet_read_column_range(r, g, c, rows / 3, rows - rows / 3, &col, &err);
                check_error(rc, &err);
                if (rc == DL_OK && col.length != rows - 2 * (rows / 3)) abort();
            }
            dl_column_free(&col);
        }
    }
    dl_parquet_close(r);
    return 0;
}
