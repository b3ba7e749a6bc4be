/*
** pq_encoding.h -- Parquet value and level encodings: RLE/bit-packed hybrid,
** DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, DELTA_LENGTH_BYTE_ARRAY,
** DELTA_BYTE_ARRAY and PLAIN byte arrays.
**
** Decoders take hostile input: they never read outside [src, src+len),
** never allocate from a size in the input without checking it against
** what is really there, and return DL_ECORRUPT with a message (naming the
** byte offset within src) on anything malformed.  Counts of values to
** decode come from the (already validated) page header.
*/
#ifndef PQ_ENCODING_H
#define PQ_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "../util/dl_buf.h"

/* ---- RLE / bit-packed hybrid (levels, dictionary indices, booleans) ---- */

typedef struct dl_rle_decoder {
    const uint8_t *start; /* for offsets in error messages */
    const uint8_t *p;
    const uint8_t *end;
    int bit_width;     /* 0..32 */
    uint32_t rle_left; /* values left in the current RLE run */
    uint32_t rle_value;
    uint32_t bp_left;      /* values left in the current bit-packed run */
    const uint8_t *bp_ptr; /* next bit-packed group of 8 values */
    uint32_t bp_buf[8];    /* current unpacked group */
    int bp_buf_pos;        /* next index in bp_buf, 8 = empty */
} dl_rle_decoder;

/* bit_width must be 0..32 (validated by the caller). No length prefix is
** consumed: callers strip the 4-byte prefix where the format has one. */
void dl_rle_decoder_init(dl_rle_decoder *d, const uint8_t *src, size_t len, int bit_width);

/* Decodes exactly n values into out.  Running out of input before n values
** is DL_ECORRUPT. (Bit width 0 yields zeros without reading input.) */
int dl_rle_decode_u32(dl_rle_decoder *d, uint32_t *out, int64_t n, dl_error *err);
int dl_rle_decode_u8(dl_rle_decoder *d, uint8_t *out, int64_t n, dl_error *err);

/* Decodes n definition levels of a flat OPTIONAL column (bit width 1) into
** the validity bitmap `validity` starting at bit `bit_offset` (bits are set
** or cleared) and returns the count of present values in *present. */
int dl_rle_decode_validity(dl_rle_decoder *d, uint8_t *validity, int64_t bit_offset, int64_t n,
                           int64_t *present, dl_error *err);

/* Encodes n values of the given bit width (0..32) and APPENDS them to out,
** choosing RLE runs for repeats of >= 8 and bit-packing otherwise. */
int dl_rle_encode_u32(const uint32_t *values, int64_t n, int bit_width, dl_buf *out);
int dl_rle_encode_u8(const uint8_t *values, int64_t n, int bit_width, dl_buf *out);
/* Encodes the definition levels of a validity bitmap (bit width 1). */
int dl_rle_encode_validity(const uint8_t *validity, int64_t offset, int64_t n, dl_buf *out);

/* ---- DELTA_BINARY_PACKED ---- */

/* Decodes up to `n` values (the page's non-null value count) into out and
** sets *consumed.  Fewer values in the stream than n is DL_ECORRUPT; more
** is allowed (only n are produced).  The i32 variant rejects bit widths > 32. */
int dl_dbp_decode_i64(const uint8_t *src, size_t len, int64_t *out, int64_t n, size_t *consumed,
                      dl_error *err);
int dl_dbp_decode_i32(const uint8_t *src, size_t len, int32_t *out, int64_t n, size_t *consumed,
                      dl_error *err);
/* Block size 128, 4 miniblocks of 32; APPENDS to out. */
int dl_dbp_encode_i64(const int64_t *values, int64_t n, dl_buf *out);
int dl_dbp_encode_i32(const int32_t *values, int64_t n, dl_buf *out);

/* ---- BYTE_STREAM_SPLIT ---- */

/* src holds n values of `width` bytes split into `width` streams; writes
** n*width bytes of interleaved values to out.  len must be >= n*width. */
int dl_bss_decode(const uint8_t *src, size_t len, int width, int64_t n, uint8_t *out,
                  dl_error *err);
/* Inverse: out receives n*width bytes. */
void dl_bss_encode(const uint8_t *values, int width, int64_t n, uint8_t *out);

/* ---- byte arrays: decoded as views ---- */

typedef struct dl_bytes_view {
    const uint8_t *ptr;
    uint32_t len;
} dl_bytes_view;

/* PLAIN: n x (u32 length + bytes). Views point into src. */
int dl_plain_decode_byte_array(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out,
                               size_t *consumed, dl_error *err);
/* DELTA_LENGTH_BYTE_ARRAY: DBP lengths then concatenated bytes; views into src. */
int dl_dlba_decode(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out, size_t *consumed,
                   dl_error *err);
/* DELTA_BYTE_ARRAY: DBP prefix lengths, then a DLBA of suffixes.  Values are
** materialised into `scratch` (reset by the call; sized once from the
** validated totals, so views stay valid until scratch changes). */
int dl_dba_decode(const uint8_t *src, size_t len, int64_t n, dl_bytes_view *out, dl_buf *scratch,
                  size_t *consumed, dl_error *err);

/* DLBA encoder (n strings given as offsets[n+1] into data); APPENDS. */
int dl_dlba_encode(const int64_t *offsets, const char *data, int64_t n, dl_buf *out);

#endif /* PQ_ENCODING_H */
