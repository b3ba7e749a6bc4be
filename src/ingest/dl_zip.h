/*
** dl_zip.h -- streams the single member of a .zip archive (as published on
** data.binance.vision: one .csv per archive) without extracting it to disk.
**
** The archive is treated as hostile: the end-of-central-directory record, the
** central directory entry and the local header are parsed by hand with every
** offset and length checked against the bytes really present.  Supported:
** stored and deflate members, data descriptors (sizes come from the central
** directory), zip64 sizes and offsets.  Rejected with a clear message:
** archives with more or fewer than one member, multi-disk archives, encrypted
** members and other compression methods.  The member's CRC-32 and size are
** verified when its end is reached.
**
** Zip bombs: the member is inflated in caller-sized chunks (never whole in
** memory), never past the uncompressed size its directory entry declares,
** and a member declaring more than max_ratio times its compressed size (and
** more than DL_ZIP_RATIO_FREE_BYTES) is refused before anything is
** inflated.  Exchange CSV compresses 3-10:1 and deflate cannot exceed about
** 1032:1, so the default of 200:1 only stops archives built to explode.
*/
#ifndef DL_ZIP_H
#define DL_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"

typedef struct dl_zip_reader dl_zip_reader;

#define DL_ZIP_DEFAULT_MAX_RATIO 200u
/* Members up to this size are accepted whatever their ratio. */
#define DL_ZIP_RATIO_FREE_BYTES ((uint64_t)1 << 20)

/* True when the first bytes look like a zip archive (a local file header or
** an empty archive's end record). */
bool dl_zip_has_magic(const uint8_t *data, size_t size);

/* Opens the archive held in memory (borrowed; must outlive the reader).
** max_ratio: the expansion limit (0 = DL_ZIP_DEFAULT_MAX_RATIO). */
int dl_zip_open_memory(const uint8_t *data, size_t size, const char *name, uint32_t max_ratio,
                       dl_zip_reader **out, dl_error *err);
/* Opens the archive in an open file of `size` bytes (fd borrowed, read with
** pread, so the caller's file offset is irrelevant). */
int dl_zip_open_fd(int fd, uint64_t size, const char *name, uint32_t max_ratio, dl_zip_reader **out,
                   dl_error *err);

/* Inflates up to `cap` bytes of the member into dst.  *got == 0 only at the
** end of the member, after its size and CRC-32 have been checked. */
int dl_zip_read(dl_zip_reader *z, uint8_t *dst, size_t cap, size_t *got, dl_error *err);

/* Member name (borrowed) and declared uncompressed size. */
const char *dl_zip_member_name(const dl_zip_reader *z);
uint64_t dl_zip_member_size(const dl_zip_reader *z);
/* Compressed bytes consumed so far and the archive size. */
void dl_zip_progress(const dl_zip_reader *z, uint64_t *done, uint64_t *total);
void dl_zip_close(dl_zip_reader *z);

#endif /* DL_ZIP_H */
