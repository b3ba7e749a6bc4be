/*
** dl_fsio.h -- file-system primitives of the lake's write protocol:
** directory creation, durable syncs, locks, tree removal.  The crash
** tests' DL_FAULT_AT hook, dl_fault_point(), is in util/dl_fault.h (test
** build only).  Internal.
*/
#ifndef DL_FSIO_H
#define DL_FSIO_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"
#include "util/dl_fault.h"

/* mkdir -p of a directory path (absolute or relative). */
int dl_fs_mkdirs(const char *path, dl_error *err);
/* mkdir -p of the directory that holds `file_path`. */
int dl_fs_mkdirs_parent(const char *file_path, dl_error *err);
/* fsync of a file or directory by path. */
int dl_fs_fsync_path(const char *path, dl_error *err);
/* syncfs(2) of the file system holding fd (falls back to sync()). */
int dl_fs_syncfs(int fd, dl_error *err);
/* Takes an exclusive flock on path (created if missing).  With wait=false
** returns DL_ECONFLICT at once when another process holds it.  *fd_out
** holds the lock until close(). */
int dl_fs_lock(const char *path, bool wait, int *fd_out, dl_error *err);
/* rm -rf (no error when missing). */
int dl_fs_remove_tree(const char *path, dl_error *err);
/* Copies a file to a new path (O_EXCL, mode 0600); no fsync. */
int dl_fs_copy_file(const char *from, const char *to, dl_error *err);
bool dl_fs_exists(const char *path);
/* File size in bytes, or -1 when it does not exist. */
int64_t dl_fs_size(const char *path);

#endif
