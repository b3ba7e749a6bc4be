/*
** fuzz_csv.c -- libFuzzer target for the CSV readers (ingest/dl_csv.h).
**
** Each input is read as every CSV kind (klines, trades, aggTrades, generic
** with inferred columns, generic with an explicit typed mapping), with
** skip_bad off and on and a small batch size, then once more wrapped in a
** stored .zip so the archive path feeds the same parser.  Inputs that
** start with "PK" also reach the zip directory parser directly.  Besides
** crashes and sanitizer reports, the target checks the batch invariants the
** lake relies on: equal column lengths, sane string offsets, rows counted,
** and (when an archive period is set) no row outside it.  The time format
** ("auto" with its per-file unit rule, or an explicit unit) and the period
** are steered by the input's last byte for every kind.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ingest/dl_csv.h"
#include "util/dl_buf.h"

static void check_batch(const dl_table *t, const dl_csv_options *opts) {
    if (opts->ts_min < opts->ts_max && t->num_rows > 0) {
        const int64_t *ts = t->columns[0].values;
        for (int64_t k = 0; k < t->num_rows; k++)
            if (ts[k] < opts->ts_min || ts[k] >= opts->ts_max) abort();
    }
    for (int i = 0; i < t->schema.num_fields; i++) {
        const dl_column *c = &t->columns[i];
        if (c->length != t->num_rows || c->null_count < 0 || c->null_count > c->length) abort();
        if (c->type == DL_TYPE_STRING && c->length > 0) {
            if (c->offsets[0] != 0) abort();
            for (int64_t k = 0; k < c->length; k++)
                if (c->offsets[k + 1] < c->offsets[k]) abort();
        }
    }
}

static void read_all(const uint8_t *data, size_t size, const dl_csv_options *opts) {
    dl_error err = {0};
    dl_csv_reader *r = NULL;
    if (dl_csv_open_memory((const char *)data, size, "fuzz.csv", opts, &r, &err) != DL_OK) {
        if (err.message[0] == 0) abort(); /* every failure explains itself */
        return;
    }
    dl_table batch;
    if (dl_table_init(&batch, dl_csv_schema(r), &err) == DL_OK) {
        int64_t rows = 0;
        for (;;) {
            int rc = dl_csv_next_batch(r, &batch, &err);
            if (rc != DL_OK) {
                if (err.message[0] == 0) abort();
                break;
            }
            check_batch(&batch, opts);
            if (batch.num_rows == 0) break;
            if (batch.num_rows > opts->batch_rows) abort();
            rows += batch.num_rows;
        }
        if (rows != dl_csv_rows_read(r)) abort();
        if (dl_csv_rows_skipped(r) > 0 && !dl_csv_first_skip_reason(r)) abort();
        dl_table_free(&batch);
    }
    uint64_t done, total;
    dl_csv_progress(r, &done, &total);
    if (total != 0 && done > total) abort();
    dl_csv_close(r);
}

static void put16(dl_buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    dl_buf_append(b, x, 2);
}

/* A minimal archive: one stored member "f.csv" holding data. */
static void wrap_in_zip(dl_buf *z, const uint8_t *data, size_t size) {
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)size);
    static const uint8_t name[] = "f.csv";
    for (int central = 0; central < 2; central++) {
        dl_buf_append_u32le(z, central ? 0x02014b50u : 0x04034b50u);
        if (central) put16(z, 20);
        put16(z, 20); /* version needed */
        put16(z, 0);  /* flags */
        put16(z, 0);  /* stored */
        put16(z, 0);
        put16(z, 0);
        dl_buf_append_u32le(z, crc);
        dl_buf_append_u32le(z, (uint32_t)size);
        dl_buf_append_u32le(z, (uint32_t)size);
        put16(z, 5);
        put16(z, 0);
        if (central) {
            for (int k = 0; k < 4; k++) put16(z, 0); /* comment, disk, attributes */
            dl_buf_append_u32le(z, 0);               /* external attributes */
            dl_buf_append_u32le(z, 0);               /* local header offset */
        }
        dl_buf_append(z, name, 5);
        if (!central) dl_buf_append(z, data, size);
    }
    size_t cd_size = 46 + 5, cd_offset = 30 + 5 + size;
    dl_buf_append_u32le(z, 0x06054b50u);
    put16(z, 0);
    put16(z, 0);
    put16(z, 1);
    put16(z, 1);
    dl_buf_append_u32le(z, (uint32_t)cd_size);
    dl_buf_append_u32le(z, (uint32_t)cd_offset);
    put16(z, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const formats[] = {"auto", "s", "ms", "us", "ns", "iso"};
    static const char delimiters[] = {',', ';', '\t', '|'};
    static const dl_csv_column mapping[] = {
        {.source = "a", .type = DL_TYPE_DOUBLE},
        {.source = "b", .name = "b_int", .type = DL_TYPE_INT64},
        {.source = "c", .type = DL_TYPE_BOOL},
        {.source = "d", .type = DL_TYPE_STRING},
        {.source = "e", .type = DL_TYPE_TIMESTAMP},
    };
    /* options vary with the input so that the fuzzer can steer them */
    unsigned selector = size ? data[size - 1] : 0;
    for (int variant = 0; variant < 5; variant++) {
        for (int skip = 0; skip < 2; skip++) {
            dl_csv_options o;
            dl_csv_options_default(&o, variant < 3 ? (dl_csv_kind)variant : DL_CSV_GENERIC);
            o.skip_bad = skip;
            o.batch_rows = 1 + (int64_t)(selector % 7);
            o.ts_format = formats[selector % 6];
            if (selector & 0x40) { /* the archive's day 2024-01-01 */
                o.ts_min = INT64_C(1704067200000000);
                o.ts_max = INT64_C(1704153600000000);
                o.ts_range_label = "the archive's day 2024-01-01";
            }
            if (variant >= 3) {
                o.ts_column = "ts";
                o.delimiter = delimiters[(selector >> 3) % 4];
            }
            if (variant == 4) {
                o.columns = mapping;
                o.num_columns = (int)(sizeof mapping / sizeof mapping[0]);
            }
            read_all(data, size, &o);
        }
    }
    dl_buf z = DL_BUF_INIT;
    wrap_in_zip(&z, data, size);
    for (int variant = 0; variant < 2; variant++) {
        dl_csv_options o;
        dl_csv_options_default(&o, variant ? DL_CSV_GENERIC : DL_CSV_BINANCE_KLINES);
        o.ts_column = "ts";
        o.skip_bad = true;
        o.batch_rows = 3;
        read_all(z.data, z.len, &o);
    }
    dl_buf_free(&z);
    return 0;
}
