/*
** dl_zip.c -- streaming reader for the single member of a .zip archive
** (see dl_zip.h).  Layout facts used here (APPNOTE.TXT):
**   end of central directory (EOCD, 22 bytes + comment) at the end of the
**   file; optionally preceded by a zip64 EOCD locator (20 bytes) pointing at
**   the zip64 EOCD record (56 bytes); the central directory entry (46 bytes +
**   name + extra + comment) gives method, flags, CRC and sizes even when the
**   local header defers them to a data descriptor; the local header (30 bytes
**   + name + extra) is followed by the member's compressed bytes.
*/
#include "ingest/dl_zip.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* next_in as a const pointer: zlib never writes to its input. */
#define ZLIB_CONST
#include <zlib.h>

#include "util/dl_internal.h"

#define ZIP_SIG_LOCAL   0x04034b50u
#define ZIP_SIG_CENTRAL 0x02014b50u
#define ZIP_SIG_EOCD    0x06054b50u
#define ZIP_SIG_EOCD64  0x06064b50u
#define ZIP_SIG_LOC64   0x07064b50u

#define ZIP_EOCD_SIZE       22
#define ZIP_EOCD64_SIZE     56
#define ZIP_LOC64_SIZE      20
#define ZIP_CENTRAL_SIZE    46
#define ZIP_LOCAL_SIZE      30
#define ZIP_MAX_COMMENT     65535
#define ZIP_MAX_CENTRAL_DIR (ZIP_CENTRAL_SIZE + 3 * 65535)
/* Compressed input is read from files in blocks of this size. */
#define ZIP_INPUT_BLOCK (1u << 20)

#define ZIP_FLAG_ENCRYPTED        0x0001u
#define ZIP_FLAG_STRONG_ENCRYPTED 0x0040u

#define ZIP_METHOD_STORED  0
#define ZIP_METHOD_DEFLATE 8

struct dl_zip_reader {
    const uint8_t *mem; /* memory image, or NULL when reading fd */
    int fd;
    uint64_t size;
    char *archive_name;
    char *member_name;
    int method;
    uint32_t expected_crc;
    uint64_t compressed_size;
    uint64_t uncompressed_size;
    uint64_t data_offset;   /* first compressed byte */
    uint64_t comp_consumed; /* compressed bytes handed to inflate / copied */
    uint64_t produced;      /* uncompressed bytes returned */
    uint32_t crc;
    bool inflate_ready;
    bool finished;
    z_stream strm;
    uint8_t *inbuf; /* fd mode: compressed input block */
};

static uint16_t load_u16le(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

bool dl_zip_has_magic(const uint8_t *data, size_t size) {
    if (size < 4) return false;
    uint32_t sig = dl_load_u32le(data);
    return sig == ZIP_SIG_LOCAL || sig == ZIP_SIG_EOCD;
}

/* Reads exactly n bytes at offset off, failing on anything short. */
static int read_exact(const dl_zip_reader *z, uint64_t off, void *dst, size_t n, const char *what,
                      dl_error *err) {
    if (off > z->size || n > z->size - off)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s: %s at offset %llu (%zu bytes) runs past the end of the %llu-byte "
                            "archive (truncated?)",
                            z->archive_name, what, (unsigned long long)off, n,
                            (unsigned long long)z->size);
    if (z->mem) {
        memcpy(dst, z->mem + off, n);
        return DL_OK;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(z->fd, (uint8_t *)dst + done, n - done, (off_t)(off + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            return dl_error_set(err, DL_EIO, "%s: reading %s at offset %llu: %s", z->archive_name,
                                what, (unsigned long long)off + done, strerror(errno));
        if (got == 0)
            return dl_error_set(err, DL_ECORRUPT, "%s: file shrank while reading %s at offset %llu",
                                z->archive_name, what, (unsigned long long)off + done);
        done += (size_t)got;
    }
    return DL_OK;
}

/* Archive-wide facts from the end records. */
typedef struct zip_directory {
    uint64_t entries;
    uint64_t cd_offset;
    uint64_t cd_size;
    uint64_t cd_limit; /* the directory must end before this offset */
} zip_directory;

static int read_zip64_end(dl_zip_reader *z, uint64_t eocd_pos, zip_directory *dir, dl_error *err) {
    int rc = DL_OK;
    uint8_t loc[ZIP_LOC64_SIZE], rec[ZIP_EOCD64_SIZE];
    if (eocd_pos < ZIP_LOC64_SIZE)
        DL_FAIL(err, DL_ECORRUPT, "%s: zip64 archive without a zip64 end-of-directory locator",
                z->archive_name);
    uint64_t loc_pos = eocd_pos - ZIP_LOC64_SIZE;
    DL_TRY(read_exact(z, loc_pos, loc, sizeof loc, "zip64 locator", err));
    if (dl_load_u32le(loc) != ZIP_SIG_LOC64)
        DL_FAIL(err, DL_ECORRUPT, "%s: zip64 archive without a zip64 end-of-directory locator",
                z->archive_name);
    if (dl_load_u32le(loc + 4) != 0 || dl_load_u32le(loc + 16) > 1)
        DL_FAIL(err, DL_EUNSUPPORTED, "%s: multi-disk (split) zip archives are not supported",
                z->archive_name);
    uint64_t rec_pos = dl_load_u64le(loc + 8);
    if (rec_pos > loc_pos || loc_pos - rec_pos < ZIP_EOCD64_SIZE)
        DL_FAIL(err, DL_ECORRUPT, "%s: zip64 end record offset %llu is out of bounds",
                z->archive_name, (unsigned long long)rec_pos);
    DL_TRY(read_exact(z, rec_pos, rec, sizeof rec, "zip64 end record", err));
    if (dl_load_u32le(rec) != ZIP_SIG_EOCD64)
        DL_FAIL(err, DL_ECORRUPT, "%s: bad zip64 end record signature at offset %llu",
                z->archive_name, (unsigned long long)rec_pos);
    if (dl_load_u32le(rec + 16) != 0 || dl_load_u32le(rec + 20) != 0)
        DL_FAIL(err, DL_EUNSUPPORTED, "%s: multi-disk (split) zip archives are not supported",
                z->archive_name);
    dir->entries = dl_load_u64le(rec + 32);
    dir->cd_size = dl_load_u64le(rec + 40);
    dir->cd_offset = dl_load_u64le(rec + 48);
    dir->cd_limit = rec_pos;
cleanup:
    return rc;
}

/* Finds the end-of-central-directory record (searching back over a comment
** of up to 64 KiB) and reads the directory's position and entry count. */
static int read_directory_end(dl_zip_reader *z, zip_directory *dir, dl_error *err) {
    int rc = DL_OK;
    uint8_t *tail = NULL;
    if (z->size < ZIP_EOCD_SIZE)
        DL_FAIL(err, DL_ECORRUPT, "%s: %llu bytes is too short for a zip archive", z->archive_name,
                (unsigned long long)z->size);
    size_t tail_len = (size_t)DL_MIN(z->size, (uint64_t)(ZIP_EOCD_SIZE + ZIP_MAX_COMMENT));
    uint64_t tail_pos = z->size - tail_len;
    tail = malloc(tail_len);
    if (!tail)
        DL_FAIL(err, DL_ENOMEM, "%s: out of memory reading the zip directory", z->archive_name);
    DL_TRY(read_exact(z, tail_pos, tail, tail_len, "end of central directory", err));
    /* The last signature whose comment exactly reaches the end of the file. */
    size_t found = SIZE_MAX;
    for (size_t i = tail_len - ZIP_EOCD_SIZE + 1; i-- > 0;) {
        if (dl_load_u32le(tail + i) == ZIP_SIG_EOCD &&
            i + ZIP_EOCD_SIZE + load_u16le(tail + i + 20) == tail_len) {
            found = i;
            break;
        }
    }
    if (found == SIZE_MAX)
        DL_FAIL(err, DL_ECORRUPT,
                "%s: no zip end-of-central-directory record (not a zip archive, or truncated)",
                z->archive_name);
    const uint8_t *e = tail + found;
    uint64_t eocd_pos = tail_pos + found;
    uint16_t disk = load_u16le(e + 4), cd_disk = load_u16le(e + 6);
    dir->entries = load_u16le(e + 10);
    dir->cd_size = dl_load_u32le(e + 12);
    dir->cd_offset = dl_load_u32le(e + 16);
    dir->cd_limit = eocd_pos;
    if (dir->entries == 0xFFFF || dir->cd_size == 0xFFFFFFFFu || dir->cd_offset == 0xFFFFFFFFu ||
        disk == 0xFFFF || cd_disk == 0xFFFF) {
        DL_TRY(read_zip64_end(z, eocd_pos, dir, err));
    } else if (disk != 0 || cd_disk != 0 || load_u16le(e + 8) != dir->entries) {
        DL_FAIL(err, DL_EUNSUPPORTED, "%s: multi-disk (split) zip archives are not supported",
                z->archive_name);
    }
    if (dir->entries == 0)
        DL_FAIL(err, DL_ECORRUPT, "%s: the zip archive is empty", z->archive_name);
    if (dir->entries > 1)
        DL_FAIL(err, DL_EUNSUPPORTED,
                "%s: the zip archive holds %llu members; expected exactly one CSV file",
                z->archive_name, (unsigned long long)dir->entries);
    if (dir->cd_offset > dir->cd_limit || dir->cd_size > dir->cd_limit - dir->cd_offset ||
        dir->cd_size < ZIP_CENTRAL_SIZE || dir->cd_size > ZIP_MAX_CENTRAL_DIR)
        DL_FAIL(err, DL_ECORRUPT,
                "%s: central directory (offset %llu, %llu bytes) is out of bounds or has an "
                "impossible size for one member",
                z->archive_name, (unsigned long long)dir->cd_offset,
                (unsigned long long)dir->cd_size);
cleanup:
    free(tail);
    return rc;
}

/* Replaces 0xFFFFFFFF sizes/offset by their zip64 extra-field values. */
static int apply_zip64_extra(dl_zip_reader *z, const uint8_t *extra, size_t extra_len,
                             uint64_t *local_offset, dl_error *err) {
    bool need_u = z->uncompressed_size == 0xFFFFFFFFu, need_c = z->compressed_size == 0xFFFFFFFFu,
         need_off = *local_offset == 0xFFFFFFFFu;
    if (!need_u && !need_c && !need_off) return DL_OK;
    size_t pos = 0;
    while (pos + 4 <= extra_len) {
        uint16_t id = load_u16le(extra + pos), len = load_u16le(extra + pos + 2);
        pos += 4;
        if (len > extra_len - pos) break;
        if (id == 0x0001) {
            const uint8_t *f = extra + pos, *end = extra + pos + len;
            if (need_u) {
                if (end - f < 8) break;
                z->uncompressed_size = dl_load_u64le(f);
                f += 8;
            }
            if (need_c) {
                if (end - f < 8) break;
                z->compressed_size = dl_load_u64le(f);
                f += 8;
            }
            if (need_off) {
                if (end - f < 8) break;
                *local_offset = dl_load_u64le(f);
            }
            return DL_OK;
        }
        pos += len;
    }
    return dl_error_set(err, DL_ECORRUPT,
                        "%s: member sizes are marked zip64 but its zip64 extra field is missing "
                        "or too short",
                        z->archive_name);
}

static int read_member(dl_zip_reader *z, const zip_directory *dir, dl_error *err) {
    int rc = DL_OK;
    uint8_t *cd = malloc((size_t)dir->cd_size);
    if (!cd)
        DL_FAIL(err, DL_ENOMEM, "%s: out of memory reading the zip directory", z->archive_name);
    DL_TRY(read_exact(z, dir->cd_offset, cd, (size_t)dir->cd_size, "central directory", err));
    if (dl_load_u32le(cd) != ZIP_SIG_CENTRAL)
        DL_FAIL(err, DL_ECORRUPT, "%s: bad central directory signature at offset %llu",
                z->archive_name, (unsigned long long)dir->cd_offset);
    uint16_t flags = load_u16le(cd + 8);
    z->method = load_u16le(cd + 10);
    z->expected_crc = dl_load_u32le(cd + 16);
    z->compressed_size = dl_load_u32le(cd + 20);
    z->uncompressed_size = dl_load_u32le(cd + 24);
    size_t name_len = load_u16le(cd + 28), extra_len = load_u16le(cd + 30),
           comment_len = load_u16le(cd + 32);
    uint64_t local_offset = dl_load_u32le(cd + 42);
    if (ZIP_CENTRAL_SIZE + name_len + extra_len + comment_len > dir->cd_size)
        DL_FAIL(err, DL_ECORRUPT, "%s: central directory entry runs past the directory",
                z->archive_name);
    z->member_name = malloc(name_len + 1);
    if (!z->member_name) DL_FAIL(err, DL_ENOMEM, "%s: out of memory", z->archive_name);
    memcpy(z->member_name, cd + ZIP_CENTRAL_SIZE, name_len);
    z->member_name[name_len] = 0;
    DL_TRY(apply_zip64_extra(z, cd + ZIP_CENTRAL_SIZE + name_len, extra_len, &local_offset, err));

    if (name_len > 0 && z->member_name[name_len - 1] == '/')
        DL_FAIL(err, DL_ECORRUPT, "%s: the only zip member '%s' is a directory", z->archive_name,
                z->member_name);
    if (flags & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_ENCRYPTED))
        DL_FAIL(err, DL_EUNSUPPORTED, "%s: zip member '%s' is encrypted", z->archive_name,
                z->member_name);
    if (z->method != ZIP_METHOD_STORED && z->method != ZIP_METHOD_DEFLATE)
        DL_FAIL(err, DL_EUNSUPPORTED,
                "%s: zip member '%s' uses compression method %d; only stored (0) and deflate (8) "
                "are supported",
                z->archive_name, z->member_name, z->method);
    if (z->method == ZIP_METHOD_STORED && z->compressed_size != z->uncompressed_size)
        DL_FAIL(err, DL_ECORRUPT,
                "%s: stored zip member '%s' has compressed size %llu != size %llu", z->archive_name,
                z->member_name, (unsigned long long)z->compressed_size,
                (unsigned long long)z->uncompressed_size);

    uint8_t local[ZIP_LOCAL_SIZE];
    if (local_offset > dir->cd_offset || dir->cd_offset - local_offset < ZIP_LOCAL_SIZE)
        DL_FAIL(err, DL_ECORRUPT, "%s: local header offset %llu is out of bounds", z->archive_name,
                (unsigned long long)local_offset);
    DL_TRY(read_exact(z, local_offset, local, sizeof local, "local header", err));
    if (dl_load_u32le(local) != ZIP_SIG_LOCAL)
        DL_FAIL(err, DL_ECORRUPT, "%s: bad local header signature at offset %llu", z->archive_name,
                (unsigned long long)local_offset);
    if (load_u16le(local + 8) != z->method)
        DL_FAIL(err, DL_ECORRUPT,
                "%s: local header and central directory disagree on the compression method",
                z->archive_name);
    uint64_t data_offset =
        local_offset + ZIP_LOCAL_SIZE + load_u16le(local + 26) + load_u16le(local + 28);
    if (data_offset > dir->cd_offset || z->compressed_size > dir->cd_offset - data_offset)
        DL_FAIL(err, DL_ECORRUPT,
                "%s: member data (offset %llu, %llu bytes) runs into the central directory "
                "(truncated or corrupt archive)",
                z->archive_name, (unsigned long long)data_offset,
                (unsigned long long)z->compressed_size);
    z->data_offset = data_offset;
cleanup:
    free(cd);
    return rc;
}

/* The bomb check, on the declared sizes; inflating never goes past the
** declared size (read_deflate), so it also bounds what a lying entry gets. */
static int check_expansion(const dl_zip_reader *z, uint32_t max_ratio, dl_error *err) {
    uint64_t ratio = max_ratio ? max_ratio : DL_ZIP_DEFAULT_MAX_RATIO;
    if (z->uncompressed_size <= DL_ZIP_RATIO_FREE_BYTES) return DL_OK;
    if (z->compressed_size > 0 && z->uncompressed_size / z->compressed_size < ratio) return DL_OK;
    return dl_error_set(err, DL_ECORRUPT,
                        "%s: zip member '%s' would expand %llu bytes to %llu (more than %llu:1); "
                        "refused as a likely zip bomb",
                        z->archive_name, z->member_name, (unsigned long long)z->compressed_size,
                        (unsigned long long)z->uncompressed_size, (unsigned long long)ratio);
}

static int zip_open(dl_zip_reader *z, const char *name, uint32_t max_ratio, dl_zip_reader **out,
                    dl_error *err) {
    int rc = DL_OK;
    zip_directory dir = {0};
    z->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    z->archive_name = strdup(name ? name : "<zip>");
    if (!z->archive_name) DL_FAIL(err, DL_ENOMEM, "out of memory opening a zip archive");
    DL_TRY(read_directory_end(z, &dir, err));
    DL_TRY(read_member(z, &dir, err));
    DL_TRY(check_expansion(z, max_ratio, err));
    if (z->method == ZIP_METHOD_DEFLATE) {
        if (!z->mem) {
            z->inbuf = malloc(ZIP_INPUT_BLOCK);
            if (!z->inbuf) DL_FAIL(err, DL_ENOMEM, "%s: out of memory", z->archive_name);
        }
        /* Negative window bits: raw deflate, as stored in zip members. */
        if (inflateInit2(&z->strm, -15) != Z_OK)
            DL_FAIL(err, DL_ENOMEM, "%s: cannot initialise zlib inflate", z->archive_name);
        z->inflate_ready = true;
    }
    *out = z;
    return DL_OK;
cleanup:
    dl_zip_close(z);
    return rc;
}

int dl_zip_open_memory(const uint8_t *data, size_t size, const char *name, uint32_t max_ratio,
                       dl_zip_reader **out, dl_error *err) {
    *out = NULL;
    dl_zip_reader *z = calloc(1, sizeof *z);
    if (!z) return dl_error_set(err, DL_ENOMEM, "out of memory opening a zip archive");
    z->mem = data;
    z->fd = -1;
    z->size = size;
    return zip_open(z, name, max_ratio, out, err);
}

int dl_zip_open_fd(int fd, uint64_t size, const char *name, uint32_t max_ratio, dl_zip_reader **out,
                   dl_error *err) {
    *out = NULL;
    dl_zip_reader *z = calloc(1, sizeof *z);
    if (!z) return dl_error_set(err, DL_ENOMEM, "out of memory opening a zip archive");
    z->fd = fd;
    z->size = size;
    return zip_open(z, name, max_ratio, out, err);
}

/* Called once the member's last byte has been produced. */
static int check_member_end(dl_zip_reader *z, dl_error *err) {
    if (z->produced != z->uncompressed_size)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s: zip member '%s' inflates to %llu bytes but its directory entry "
                            "says %llu",
                            z->archive_name, z->member_name, (unsigned long long)z->produced,
                            (unsigned long long)z->uncompressed_size);
    if (z->crc != z->expected_crc)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s: zip member '%s' fails its CRC-32 check (computed %08x, stored "
                            "%08x): the archive is corrupt",
                            z->archive_name, z->member_name, z->crc, z->expected_crc);
    z->finished = true;
    return DL_OK;
}

static int read_stored(dl_zip_reader *z, uint8_t *dst, size_t cap, size_t *got, dl_error *err) {
    uint64_t left = z->compressed_size - z->comp_consumed;
    size_t n = (size_t)DL_MIN((uint64_t)cap, left);
    int rc = read_exact(z, z->data_offset + z->comp_consumed, dst, n, "member data", err);
    if (rc != DL_OK) return rc;
    z->comp_consumed += n;
    z->produced += n;
    z->crc = (uint32_t)crc32(z->crc, dst, (uInt)n);
    *got = n;
    return n == 0 ? check_member_end(z, err) : DL_OK;
}

/* Points the inflate input at the next block of compressed bytes. */
static int feed_inflate(dl_zip_reader *z, dl_error *err) {
    uint64_t left = z->compressed_size - z->comp_consumed;
    size_t n = (size_t)DL_MIN(left, (uint64_t)(z->mem ? (1u << 30) : ZIP_INPUT_BLOCK));
    if (z->mem) {
        z->strm.next_in = z->mem + z->data_offset + z->comp_consumed;
    } else {
        int rc = read_exact(z, z->data_offset + z->comp_consumed, z->inbuf, n, "member data", err);
        if (rc != DL_OK) return rc;
        z->strm.next_in = z->inbuf;
    }
    z->strm.avail_in = (uInt)n;
    z->comp_consumed += n;
    return DL_OK;
}

static int read_deflate(dl_zip_reader *z, uint8_t *dst, size_t cap, size_t *got, dl_error *err) {
    z->strm.next_out = dst;
    z->strm.avail_out = (uInt)DL_MIN(cap, (size_t)UINT_MAX);
    uInt out_cap = z->strm.avail_out;
    bool stream_end = false;
    while (z->strm.avail_out > 0) {
        if (z->strm.avail_in == 0 && z->comp_consumed < z->compressed_size) {
            int rc = feed_inflate(z, err);
            if (rc != DL_OK) return rc;
        }
        int zrc = inflate(&z->strm, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END) {
            stream_end = true;
            break;
        }
        if (zrc == Z_BUF_ERROR && z->strm.avail_in == 0 && z->comp_consumed == z->compressed_size)
            return dl_error_set(err, DL_ECORRUPT,
                                "%s: zip member '%s': deflate data ends early (truncated archive)",
                                z->archive_name, z->member_name);
        if (zrc != Z_OK)
            return dl_error_set(err, DL_ECORRUPT, "%s: zip member '%s': corrupt deflate data (%s)",
                                z->archive_name, z->member_name,
                                z->strm.msg ? z->strm.msg : zError(zrc));
    }
    size_t n = out_cap - z->strm.avail_out;
    z->produced += n;
    z->crc = (uint32_t)crc32(z->crc, dst, (uInt)n);
    *got = n;
    if (z->produced > z->uncompressed_size)
        return dl_error_set(
            err, DL_ECORRUPT, "%s: zip member '%s' inflates to more than its declared %llu bytes",
            z->archive_name, z->member_name, (unsigned long long)z->uncompressed_size);
    if (stream_end) {
        if (z->strm.avail_in != 0 || z->comp_consumed != z->compressed_size)
            return dl_error_set(err, DL_ECORRUPT,
                                "%s: zip member '%s': extra bytes after the end of the deflate "
                                "stream",
                                z->archive_name, z->member_name);
        return check_member_end(z, err);
    }
    return DL_OK;
}

int dl_zip_read(dl_zip_reader *z, uint8_t *dst, size_t cap, size_t *got, dl_error *err) {
    *got = 0;
    if (z->finished || cap == 0) return DL_OK;
    if (z->method == ZIP_METHOD_STORED) return read_stored(z, dst, cap, got, err);
    return read_deflate(z, dst, cap, got, err);
}

const char *dl_zip_member_name(const dl_zip_reader *z) {
    return z->member_name;
}
uint64_t dl_zip_member_size(const dl_zip_reader *z) {
    return z->uncompressed_size;
}

void dl_zip_progress(const dl_zip_reader *z, uint64_t *done, uint64_t *total) {
    *done = z->finished ? z->size : z->data_offset + z->comp_consumed;
    *total = z->size;
}

void dl_zip_close(dl_zip_reader *z) {
    if (!z) return;
    if (z->inflate_ready) inflateEnd(&z->strm);
    free(z->inbuf);
    free(z->member_name);
    free(z->archive_name);
    free(z);
}
