/*
** dl_fault.h -- the library's system-call wrappers for writes and syncs
** (dl_io_*) and its fault injection, which exists only in the test build.
**
** Release builds: dl_io_* are inline pass-throughs and dl_fault_point() is
** nothing.  `make MODE=fault` defines DL_FAULT_INJECTION and force-includes
** this header into every library source, so that
**   - malloc, calloc, realloc, strdup, strndup and aligned_alloc of the
**     library go through counting shims, and so do dl_io_write/_fwrite/
**     _fsync/_syncfs/_rename/_link: with DL_FAIL_AT=N in the environment the
**     N-th such call fails (NULL + ENOMEM, or -1 + ENOSPC/EIO), as SQLite's
**     test harness does; DL_FAIL_PERSIST=1 fails every later call too;
**     DL_FAIL_KIND=alloc or io counts one class only; DL_FAIL_TRACE=1
**     prints "dl-fail-calls N" (calls counted) to stderr at exit and
**     DL_FAIL_BACKTRACE=1 the stack of the failing call;
**   - dl_fault_point(step) honours DL_FAULT_AT=N: the N-th step kills the
**     process with SIGKILL, as a power cut would (DL_FAULT_TRACE=1 prints
**     every step name), for the crash tests of the commit protocol.
** Internal; never installed.
*/
#ifndef DL_FAULT_H
#define DL_FAULT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef DL_FAULT_INJECTION

void dl_fault_point(const char *step);

ssize_t dl_io_write(int fd, const void *buf, size_t n);
size_t dl_io_fwrite(const void *buf, size_t size, size_t n, FILE *f);
int dl_io_fsync(int fd);
int dl_io_syncfs(int fd);
int dl_io_rename(const char *from, const char *to);
int dl_io_link(const char *from, const char *to);

void *dl_fault_malloc(size_t n);
void *dl_fault_calloc(size_t n, size_t size);
void *dl_fault_realloc(void *p, size_t n);
char *dl_fault_strdup(const char *s);
char *dl_fault_strndup(const char *s, size_t n);
void *dl_fault_aligned_alloc(size_t align, size_t n);

#ifndef DL_FAULT_IMPL
#define malloc(n)           dl_fault_malloc(n)
#define calloc(n, s)        dl_fault_calloc(n, s)
#define realloc(p, n)       dl_fault_realloc(p, n)
#define strdup(s)           dl_fault_strdup(s)
#define strndup(s, n)       dl_fault_strndup(s, n)
#define aligned_alloc(a, n) dl_fault_aligned_alloc(a, n)
#endif

#else /* release: no fault injection, the wrappers cost nothing */

#define dl_fault_point(step) ((void)0)

static inline ssize_t dl_io_write(int fd, const void *buf, size_t n) {
    return write(fd, buf, n);
}
static inline size_t dl_io_fwrite(const void *buf, size_t size, size_t n, FILE *f) {
    return fwrite(buf, size, n, f);
}
static inline int dl_io_fsync(int fd) {
    return fsync(fd);
}
static inline int dl_io_syncfs(int fd) {
    return syncfs(fd);
}
static inline int dl_io_rename(const char *from, const char *to) {
    return rename(from, to);
}
static inline int dl_io_link(const char *from, const char *to) {
    return link(from, to);
}

#endif /* DL_FAULT_INJECTION */
#endif /* DL_FAULT_H */
