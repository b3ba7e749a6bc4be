/*
** dl_test.h -- a tiny unit-test harness.  Each test file defines tests with
** DL_TEST(name) { ... } and uses CHECK / CHECK_EQ_* / CHECK_OK; tests
** register themselves at load time and dl_test_main.c runs them all (or
** those matching argv[1]) and prints "N passed, N failed".
*/
#ifndef DL_TEST_H
#define DL_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "datalake.h"

typedef void (*dl_test_fn)(void);
void dl_test_register(const char *name, const char *file, dl_test_fn fn);
extern int dl_test_failures; /* failed checks in the running test */
/* A fresh empty directory for the running test (removed afterwards). */
const char *dl_test_tmpdir(void);
/* A new lake in dl_test_tmpdir()/sub, open for writing (NULL after a
** failed check). */
dl_lake *dl_test_fresh_lake(const char *sub);
/* A 64-bit LCG step: deterministic pseudo-random numbers for tests. */
static inline uint32_t dl_test_rand(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*state >> 33);
}

#define DL_TEST(name)                                                                              \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void register_##name(void) {                               \
        dl_test_register(#name, __FILE__, test_##name);                                            \
    }                                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
            dl_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a,    \
                    #b, a_, b_);                                                                   \
            dl_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,    \
                    #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                               \
            dl_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

/* Asserts a status is DL_OK, printing the error message otherwise. */
#define CHECK_OK(expr, errp)                                                                       \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        const dl_error *e_ = (errp);                                                               \
        if (rc_ != DL_OK) {                                                                        \
            fprintf(stderr, "  %s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, rc_,       \
                    e_ ? e_->message : "");                                                        \
            dl_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

/* Asserts a call fails with the given status. */
#define CHECK_RC(expr, want)                                                                       \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "  %s:%d: %s returned %d, expected %d\n", __FILE__, __LINE__, #expr,   \
                    rc_, (int)(want));                                                             \
            dl_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#endif
