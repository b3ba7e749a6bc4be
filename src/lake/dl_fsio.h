/*
** dl_fsio.h -- file-system primitives of the lake's write protocol:
** directory creation, durable syncs, locks, tree removal, and the
** DL_FAULT_AT fault-injection hook used by the crash tests.  Internal.
*/
#ifndef DL_FSIO_H
#define DL_FSIO_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"

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
bool dl_fs_exists(const char *path);
/* File size in bytes, or -1 when it does not exist. */
int64_t dl_fs_size(const char *path);

/*
** Fault injection for crash tests: when the environment variable
** DL_FAULT_AT=N is set, the N-th call (counting from 1 in this process)
** kills the process with SIGKILL, as a power cut would.  DL_FAULT_TRACE=1
** prints every step name to stderr so tests can count the steps.
*/
void dl_fault_point(const char *step);

#endif
