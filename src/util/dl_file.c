/*
** dl_file.c -- opening input files as data: only regular files.  A FIFO,
** device or directory passed where a data file is expected is refused at
** once instead of blocking in open(2) (a FIFO without a writer never
** returns) or being read as garbage.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dl_internal.h"

static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    return "not a regular file";
}

int dl_file_open_data(const char *path, int *fd_out, dl_error *err) {
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return dl_error_set(err, errno == ENOENT ? DL_ENOTFOUND : DL_EIO, "%s: cannot open: %s",
                            path, strerror(errno));
    struct stat st;
    int flags;
    if (fstat(fd, &st) != 0 || (flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return dl_error_set(err, DL_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dl_error_set(err, DL_EINVAL, "%s: is %s; only regular files are read as data", path,
                            file_kind(st.st_mode));
    }
    *fd_out = fd;
    return DL_OK;
}

int dl_file_fopen_data(const char *path, FILE **out, dl_error *err) {
    int fd;
    *out = NULL;
    int rc = dl_file_open_data(path, &fd, err);
    if (rc != DL_OK) return rc;
    *out = fdopen(fd, "rb");
    if (!*out) {
        close(fd);
        return dl_error_set(err, DL_ENOMEM, "%s: cannot open a stream: %s", path, strerror(errno));
    }
    return DL_OK;
}
