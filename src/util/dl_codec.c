/*
** dl_codec.c -- page compression through the system libraries (zstd,
** snappy, zlib, lz4).  zstd contexts are kept per thread because creating
** one per page costs more than compressing a small page.
*/
#include "dl_codec.h"

#include <lz4.h>
#include <pthread.h>
#include <stdlib.h>
#include <snappy-c.h>
#include <string.h>
/* next_in as a const pointer: zlib never writes to its input. */
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

#include "dl_internal.h"

/* Per-thread zstd contexts, created on first use and freed by a
** pthread key destructor when the thread exits. */
typedef struct zstd_contexts {
    ZSTD_DCtx *dctx;
    ZSTD_CCtx *cctx;
} zstd_contexts;

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void free_contexts(void *p) {
    zstd_contexts *c = p;
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeCCtx(c->cctx);
    free(c);
}

static void make_key(void) {
    pthread_key_create(&ctx_key, free_contexts);
}

static zstd_contexts *thread_contexts(void) {
    pthread_once(&ctx_once, make_key);
    zstd_contexts *c = pthread_getspecific(ctx_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) return NULL;
        if (pthread_setspecific(ctx_key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    return c;
}

/* The main thread never runs key destructors; free its contexts at exit. */
__attribute__((destructor)) static void free_main_contexts(void) {
    if (ctx_once == PTHREAD_ONCE_INIT) return;
    zstd_contexts *c = pthread_getspecific(ctx_key);
    if (c) {
        pthread_setspecific(ctx_key, NULL);
        free_contexts(c);
    }
}

const char *dl_codec_name_any(int codec) {
    switch (codec) {
    case 0:
        return "UNCOMPRESSED";
    case 1:
        return "SNAPPY";
    case 2:
        return "GZIP";
    case 3:
        return "LZO";
    case 4:
        return "BROTLI";
    case 5:
        return "LZ4";
    case 6:
        return "ZSTD";
    case 7:
        return "LZ4_RAW";
    default:
        return "UNKNOWN";
    }
}

const char *dl_codec_name(dl_codec codec) {
    return dl_codec_name_any((int)codec);
}

int dl_codec_parse(const char *name, dl_codec *out, dl_error *err) {
    DL_REQUIRE(err, name && out);
    static const struct {
        const char *name;
        dl_codec codec;
    } names[] = {{"zstd", DL_CODEC_ZSTD},      {"snappy", DL_CODEC_SNAPPY},
                 {"none", DL_CODEC_NONE},      {"uncompressed", DL_CODEC_NONE},
                 {"gzip", DL_CODEC_GZIP},      {"lz4", DL_CODEC_LZ4_RAW},
                 {"lz4_raw", DL_CODEC_LZ4_RAW}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].codec;
            return DL_OK;
        }
    }
    return dl_error_set(err, DL_EINVAL,
                        "unknown compression '%s' (use zstd, snappy, gzip, lz4 or none)", name);
}

static int gunzip(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len, dl_error *err) {
    /* RFC 1952 gzip, possibly several concatenated members. */
    size_t in_off = 0, out_off = 0;
    while (in_off < src_len) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, 15 + 32) != Z_OK)
            return dl_error_set(err, DL_ENOMEM, "gzip: cannot initialise zlib");
        zs.next_in = src + in_off;
        zs.avail_in = (uInt)DL_MIN(src_len - in_off, (size_t)UINT32_MAX);
        zs.next_out = dst + out_off;
        zs.avail_out = (uInt)DL_MIN(dst_len - out_off, (size_t)UINT32_MAX);
        int zrc = inflate(&zs, Z_FINISH);
        size_t used_in = zs.total_in, made = zs.total_out;
        inflateEnd(&zs);
        if (zrc != Z_STREAM_END)
            return dl_error_set(err, DL_ECORRUPT, "gzip: corrupt or truncated stream (zlib %d)",
                                zrc);
        in_off += used_in;
        out_off += made;
        if (used_in == 0) break;
        /* trailing zero padding after the last member is tolerated */
        while (in_off < src_len && src[in_off] == 0) in_off++;
    }
    if (out_off != dst_len)
        return dl_error_set(err, DL_ECORRUPT,
                            "gzip: page decompressed to %zu bytes, header says %zu", out_off,
                            dst_len);
    return DL_OK;
}

int dl_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                  dl_error *err) {
    switch (codec) {
    case DL_CODEC_NONE:
        if (src_len != dst_len)
            return dl_error_set(err, DL_ECORRUPT,
                                "uncompressed page: compressed size %zu != uncompressed size %zu",
                                src_len, dst_len);
        memcpy(dst, src, src_len);
        return DL_OK;
    case DL_CODEC_ZSTD: {
        zstd_contexts *c = thread_contexts();
        if (!c || (!c->dctx && !(c->dctx = ZSTD_createDCtx())))
            return dl_error_set(err, DL_ENOMEM, "zstd: cannot create context");
        size_t n = ZSTD_decompressDCtx(c->dctx, dst, dst_len, src, src_len);
        if (ZSTD_isError(n))
            return dl_error_set(err, DL_ECORRUPT, "zstd: %s", ZSTD_getErrorName(n));
        if (n != dst_len)
            return dl_error_set(err, DL_ECORRUPT,
                                "zstd: page decompressed to %zu bytes, header says %zu", n,
                                dst_len);
        return DL_OK;
    }
    case DL_CODEC_SNAPPY: {
        size_t n = 0;
        if (snappy_uncompressed_length((const char *)src, src_len, &n) != SNAPPY_OK || n != dst_len)
            return dl_error_set(err, DL_ECORRUPT, "snappy: bad length header (%zu, expected %zu)",
                                n, dst_len);
        n = dst_len;
        if (snappy_uncompress((const char *)src, src_len, (char *)dst, &n) != SNAPPY_OK ||
            n != dst_len)
            return dl_error_set(err, DL_ECORRUPT, "snappy: corrupt block");
        return DL_OK;
    }
    case DL_CODEC_GZIP:
        return gunzip(src, src_len, dst, dst_len, err);
    case DL_CODEC_LZ4_RAW: {
        if (src_len > INT32_MAX || dst_len > INT32_MAX)
            return dl_error_set(err, DL_ECORRUPT, "lz4: page too large");
        int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)dst_len);
        if (n < 0 || (size_t)n != dst_len)
            return dl_error_set(err, DL_ECORRUPT, "lz4: corrupt block (got %d of %zu bytes)", n,
                                dst_len);
        return DL_OK;
    }
    default:
        return dl_error_set(err, DL_EUNSUPPORTED, "compression codec %s is not supported",
                            dl_codec_name_any(codec));
    }
}

int dl_compress(dl_codec codec, int level, const uint8_t *src, size_t src_len, dl_buf *out,
                dl_error *err) {
    switch (codec) {
    case DL_CODEC_NONE:
        if (dl_buf_append(out, src, src_len) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        return DL_OK;
    case DL_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(src_len);
        if (dl_buf_reserve(out, bound) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        zstd_contexts *c = thread_contexts();
        if (!c || (!c->cctx && !(c->cctx = ZSTD_createCCtx())))
            return dl_error_set(err, DL_ENOMEM, "zstd: cannot create context");
        size_t n = ZSTD_compressCCtx(c->cctx, out->data + out->len, bound, src, src_len, level);
        if (ZSTD_isError(n))
            return dl_error_set(err, DL_EINTERNAL, "zstd: %s", ZSTD_getErrorName(n));
        out->len += n;
        return DL_OK;
    }
    case DL_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(src_len);
        if (dl_buf_reserve(out, bound) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        size_t n = bound;
        if (snappy_compress((const char *)src, src_len, (char *)out->data + out->len, &n) !=
            SNAPPY_OK)
            return dl_error_set(err, DL_EINTERNAL, "snappy: compression failed");
        out->len += n;
        return DL_OK;
    }
    case DL_CODEC_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (deflateInit2(&zs, level > 0 && level <= 9 ? level : 6, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return dl_error_set(err, DL_ENOMEM, "gzip: cannot initialise zlib");
        size_t bound = deflateBound(&zs, src_len) + 32;
        if (dl_buf_reserve(out, bound) != DL_OK) {
            deflateEnd(&zs);
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        }
        zs.next_in = src;
        zs.avail_in = (uInt)src_len;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)bound;
        int zrc = deflate(&zs, Z_FINISH);
        size_t n = zs.total_out;
        deflateEnd(&zs);
        if (zrc != Z_STREAM_END) return dl_error_set(err, DL_EINTERNAL, "gzip: deflate failed");
        out->len += n;
        return DL_OK;
    }
    case DL_CODEC_LZ4_RAW: {
        if (src_len > (size_t)LZ4_MAX_INPUT_SIZE)
            return dl_error_set(err, DL_EINVAL, "lz4: page too large");
        int bound = LZ4_compressBound((int)src_len);
        if (dl_buf_reserve(out, (size_t)bound) != DL_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory");
        int n = LZ4_compress_default((const char *)src, (char *)out->data + out->len, (int)src_len,
                                     bound);
        if (n <= 0) return dl_error_set(err, DL_EINTERNAL, "lz4: compression failed");
        out->len += (size_t)n;
        return DL_OK;
    }
    }
    return dl_error_set(err, DL_EUNSUPPORTED, "cannot write codec %d", (int)codec);
}
