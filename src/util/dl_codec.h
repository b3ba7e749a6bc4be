/*
** dl_codec.h -- block compression for Parquet pages: zstd, snappy, gzip,
** lz4 (raw block) and none.  Contexts are cached per thread, so these calls
** are safe to use concurrently from pool workers.
*/
#ifndef DL_CODEC_H
#define DL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "dl_buf.h"

/* Decompresses src into exactly dst_len bytes at dst; any size mismatch or
** decoder complaint is DL_ECORRUPT.  Unknown codecs are DL_EUNSUPPORTED. */
int dl_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                  dl_error *err);

/* Compresses src and APPENDS the result to out. */
int dl_compress(dl_codec codec, int level, const uint8_t *src, size_t src_len, dl_buf *out,
                dl_error *err);

/* Name of any Parquet CompressionCodec value, including ones we lack. */
const char *dl_codec_name_any(int codec);

#endif /* DL_CODEC_H */
