/*
** dl_fsio.c -- file-system primitives of the lake's write protocol (see
** dl_fsio.h).  Every error names the path and the errno text.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/dl_internal.h"
#include "lake/dl_fsio.h"

int dl_fs_mkdirs(const char *path, dl_error *err) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return dl_error_set(err, DL_EINVAL, "path too long: %s", path);
    memcpy(buf, path, n + 1);
    /* Fast path: the directory usually exists already. */
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return DL_OK;
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char saved = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return dl_error_set(err, DL_EIO, "cannot create directory %s: %s", buf,
                                strerror(errno));
        buf[i] = saved;
    }
    return DL_OK;
}

int dl_fs_mkdirs_parent(const char *file_path, dl_error *err) {
    char buf[4096];
    size_t n = strlen(file_path);
    if (n >= sizeof buf) return dl_error_set(err, DL_EINVAL, "path too long: %s", file_path);
    memcpy(buf, file_path, n + 1);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return DL_OK;
    *slash = 0;
    return dl_fs_mkdirs(buf, err);
}

int dl_fs_fsync_path(const char *path, dl_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dl_error_set(err, DL_EIO, "cannot open %s to fsync: %s", path, strerror(errno));
    int rc = DL_OK;
    if (dl_io_fsync(fd) != 0) rc = dl_error_set(err, DL_EIO, "fsync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int dl_fs_syncfs(int fd, dl_error *err) {
    if (dl_io_syncfs(fd) != 0) {
        if (errno == ENOSYS) {
            sync();
            return DL_OK;
        }
        return dl_error_set(err, DL_EIO, "syncfs: %s", strerror(errno));
    }
    return DL_OK;
}

int dl_fs_lock(const char *path, bool wait, int *fd_out, dl_error *err) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return dl_error_set(err, DL_EIO, "cannot open lock file %s: %s", path, strerror(errno));
    for (;;) {
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return dl_error_set(err, DL_ECONFLICT, "%s is locked by another process", path);
        return dl_error_set(err, DL_EIO, "flock %s: %s", path, strerror(e));
    }
    *fd_out = fd;
    return DL_OK;
}

void dl_fs_lock_holder(const char *path, char *buf, size_t size) {
    snprintf(buf, size, "an unknown process");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0) {
        snprintf(buf, size, "an unknown process");
        return;
    }
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
}

/* Writes "pid N, since TIME, command: ARGV" into the held lock file. */
static void record_holder(int fd) {
    char line[512], cmd[256] = "", since[40];
    int c = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (c >= 0) {
        ssize_t n = read(c, cmd, sizeof cmd - 1);
        close(c);
        for (ssize_t i = 0; i < n - 1; i++)
            if (cmd[i] == 0) cmd[i] = ' ';
        cmd[n > 0 ? n : 0] = 0;
        if (n >= 160) memcpy(cmd + 156, "...", 4); /* long argument lists */
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    dl_format_timestamp((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, DL_UNIT_US, since,
                        sizeof since);
    int n = snprintf(line, sizeof line, "pid %d, since %s, command: %s\n", (int)getpid(), since,
                     cmd[0] ? cmd : "?");
    if (n < 0) return;
    if (ftruncate(fd, 0) == 0 && pwrite(fd, line, strlen(line), 0) < 0) return;
}

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dl_fs_lock_wait(const char *path, const dl_lock_wait *w, int *fd_out, dl_error *err) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return dl_error_set(err, DL_EIO, "cannot open lock file %s: %s", path, strerror(errno));
    int64_t start = monotonic_ms();
    bool notified = false;
    char holder[512];
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) break;
        int e = errno;
        if (e == EINTR) continue;
        if (e != EWOULDBLOCK) {
            close(fd);
            return dl_error_set(err, DL_EIO, "flock %s: %s", path, strerror(e));
        }
        int64_t waited = monotonic_ms() - start;
        if (w->timeout_ms >= 0 && waited >= w->timeout_ms) {
            close(fd);
            dl_fs_lock_holder(path, holder, sizeof holder);
            return dl_error_set(err, DL_ECONFLICT,
                                "%s is locked by another writer (%s); gave up after %.1f s",
                                w->what ? w->what : path, holder, (double)waited / 1000);
        }
        if (!notified && waited >= 1000 && w->notify) {
            char msg[700];
            dl_fs_lock_holder(path, holder, sizeof holder);
            snprintf(msg, sizeof msg, "waiting for %s, locked by %s", w->what ? w->what : path,
                     holder);
            w->notify(w->ctx, msg);
            notified = true;
        }
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    record_holder(fd);
    *fd_out = fd;
    return DL_OK;
}

int dl_fs_remove_tree(const char *path, dl_error *err) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return DL_OK;
        return dl_error_set(err, DL_EIO, "stat %s: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return dl_error_set(err, DL_EIO, "opendir %s: %s", path, strerror(errno));
        struct dirent *e;
        int rc = DL_OK;
        while (rc == DL_OK && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char child[4096];
            int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            if (n < 0 || (size_t)n >= sizeof child)
                rc = dl_error_set(err, DL_EINVAL, "path too long under %s", path);
            else
                rc = dl_fs_remove_tree(child, err);
        }
        closedir(d);
        if (rc != DL_OK) return rc;
        if (rmdir(path) != 0 && errno != ENOENT)
            return dl_error_set(err, DL_EIO, "rmdir %s: %s", path, strerror(errno));
        return DL_OK;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return dl_error_set(err, DL_EIO, "unlink %s: %s", path, strerror(errno));
    return DL_OK;
}

int dl_fs_copy_file(const char *from, const char *to, dl_error *err) {
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = DL_OK;
    if (in < 0) return dl_error_set(err, DL_EIO, "cannot read %s: %s", from, strerror(errno));
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) DL_FAIL(err, DL_EIO, "cannot create %s: %s", to, strerror(errno));
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) DL_FAIL(err, DL_EIO, "cannot read %s: %s", from, strerror(errno));
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) DL_FAIL(err, DL_EIO, "cannot write %s: %s", to, strerror(errno));
            off += w;
        }
    }
cleanup:
    close(in);
    if (out >= 0) close(out);
    return rc;
}

bool dl_fs_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

int64_t dl_fs_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (int64_t)st.st_size;
}
