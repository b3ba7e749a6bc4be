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
/* How to wait for a lock another process holds. */
typedef struct dl_lock_wait {
    int64_t timeout_ms; /* < 0: for ever; 0: not at all */
    /* Called once after a second of waiting, with a sentence naming the
    ** holder (may be NULL). */
    void (*notify)(void *ctx, const char *message);
    void *ctx;
    const char *what; /* what the lock guards, for messages ("dataset X") */
} dl_lock_wait;
/* Takes an exclusive flock on path (created if missing), waiting as `w`
** says, then records the holder (pid, start time, command line) in the
** file so a waiting process can say who holds it.  A lock whose holder
** died is free at once (the kernel drops a dead process's flock).  On
** timeout: DL_ECONFLICT naming the holder. */
int dl_fs_lock_wait(const char *path, const dl_lock_wait *w, int *fd_out, dl_error *err);
/* The holder record of a lock file ("pid 123, since ..., command: ..."). */
void dl_fs_lock_holder(const char *path, char *buf, size_t size);
/* rm -rf (no error when missing). */
int dl_fs_remove_tree(const char *path, dl_error *err);
/* Copies a file to a new path (O_EXCL, mode 0600); no fsync. */
int dl_fs_copy_file(const char *from, const char *to, dl_error *err);
bool dl_fs_exists(const char *path);
/* File size in bytes, or -1 when it does not exist. */
int64_t dl_fs_size(const char *path);

#endif
