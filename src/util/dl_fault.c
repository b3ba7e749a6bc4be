/*
** dl_fault.c -- fault injection of the test build (make MODE=fault): the
** counting allocation and I/O shims and the crash points described in
** dl_fault.h.  Compiles to nothing in other builds.
*/
#define DL_FAULT_IMPL
#include "util/dl_fault.h"

#ifdef DL_FAULT_INJECTION

#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef strndup
#undef aligned_alloc

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

enum fault_kind { FAULT_ALLOC = 1, FAULT_IO = 2 };

static struct {
    atomic_int ready; /* 0 unread, 1 being read, 2 read */
    long fail_at;     /* DL_FAIL_AT: the call that fails (0 = none) */
    bool persist;     /* DL_FAIL_PERSIST=1: later calls fail too */
    int kinds;        /* DL_FAIL_KIND: classes counted */
    bool trace;       /* DL_FAIL_TRACE=1: print the count at exit */
    bool backtrace;   /* DL_FAIL_BACKTRACE=1: print the stack of the failing call */
    atomic_long calls;
} fail;

static void print_calls(void) {
    fprintf(stderr, "dl-fail-calls %ld\n", atomic_load(&fail.calls));
}

static void read_config(void) {
    int expect = 0;
    if (!atomic_compare_exchange_strong(&fail.ready, &expect, 1)) {
        while (atomic_load(&fail.ready) != 2) { /* another thread is reading */
        }
        return;
    }
    const char *at = getenv("DL_FAIL_AT"), *kind = getenv("DL_FAIL_KIND");
    const char *persist = getenv("DL_FAIL_PERSIST"), *trace = getenv("DL_FAIL_TRACE");
    fail.fail_at = at ? strtol(at, NULL, 10) : 0;
    fail.persist = persist && persist[0] == '1';
    fail.kinds = !kind                        ? FAULT_ALLOC | FAULT_IO
                 : strcmp(kind, "alloc") == 0 ? FAULT_ALLOC
                 : strcmp(kind, "io") == 0    ? FAULT_IO
                                              : FAULT_ALLOC | FAULT_IO;
    fail.trace = trace && trace[0] == '1';
    const char *bt = getenv("DL_FAIL_BACKTRACE");
    fail.backtrace = bt && bt[0] == '1';
    if (fail.trace) atexit(print_calls);
    atomic_store(&fail.ready, 2);
}

/* Counts one call of `kind`; true when this call must fail. */
static bool should_fail(enum fault_kind kind) {
    if (atomic_load(&fail.ready) != 2) read_config();
    if (!(fail.kinds & kind)) return false;
    long n = atomic_fetch_add(&fail.calls, 1) + 1;
    if (fail.fail_at <= 0) return false;
    bool fails = n == fail.fail_at || (fail.persist && n > fail.fail_at);
    if (fails && fail.backtrace) {
        void *frames[32];
        fprintf(stderr, "dl-fail: call %ld fails here:\n", n);
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    return fails;
}

void *dl_fault_malloc(size_t n) {
    if (should_fail(FAULT_ALLOC)) return errno = ENOMEM, NULL;
    return malloc(n);
}
void *dl_fault_calloc(size_t n, size_t size) {
    if (should_fail(FAULT_ALLOC)) return errno = ENOMEM, NULL;
    return calloc(n, size);
}
void *dl_fault_realloc(void *p, size_t n) {
    if (should_fail(FAULT_ALLOC)) return errno = ENOMEM, NULL;
    return realloc(p, n);
}
char *dl_fault_strdup(const char *s) {
    if (should_fail(FAULT_ALLOC)) return errno = ENOMEM, NULL;
    return strdup(s);
}
char *dl_fault_strndup(const char *s, size_t n) {
    if (should_fail(FAULT_ALLOC)) return errno = ENOMEM, NULL;
    return strndup(s, n);
}
void *dl_fault_aligned_alloc(size_t align, size_t n) {
    if (should_fail(FAULT_ALLOC)) return errno = ENOMEM, NULL;
    return aligned_alloc(align, n);
}

ssize_t dl_io_write(int fd, const void *buf, size_t n) {
    if (should_fail(FAULT_IO)) return errno = ENOSPC, -1;
    return write(fd, buf, n);
}
size_t dl_io_fwrite(const void *buf, size_t size, size_t n, FILE *f) {
    if (should_fail(FAULT_IO)) return errno = ENOSPC, 0;
    return fwrite(buf, size, n, f);
}
int dl_io_fsync(int fd) {
    if (should_fail(FAULT_IO)) return errno = EIO, -1;
    return fsync(fd);
}
int dl_io_syncfs(int fd) {
    if (should_fail(FAULT_IO)) return errno = EIO, -1;
    return syncfs(fd);
}
int dl_io_rename(const char *from, const char *to) {
    if (should_fail(FAULT_IO)) return errno = EIO, -1;
    return rename(from, to);
}
int dl_io_link(const char *from, const char *to) {
    if (should_fail(FAULT_IO)) return errno = EIO, -1;
    return link(from, to);
}

void dl_fault_point(const char *step) {
    static atomic_long calls;
    static long fault_at = -1;
    static int trace = -1;
    if (fault_at < 0) { /* steps run on the committing thread only */
        const char *s = getenv("DL_FAULT_AT");
        const char *t = getenv("DL_FAULT_TRACE");
        trace = t && t[0] == '1';
        fault_at = s ? strtol(s, NULL, 10) : 0;
    }
    long n = atomic_fetch_add(&calls, 1) + 1;
    if (trace) fprintf(stderr, "dl-fault-step %ld %s\n", n, step);
    if (fault_at > 0 && n == fault_at) {
        fprintf(stderr, "dl: DL_FAULT_AT=%ld: killing myself at step \"%s\"\n", fault_at, step);
        kill(getpid(), SIGKILL);
    }
}

#else
typedef int dl_fault_disabled; /* ISO C wants a declaration in every file */
#endif
