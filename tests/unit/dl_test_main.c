/*
** dl_test_main.c -- runs the registered unit tests.
** Usage: dl_tests [SUBSTRING]   (only tests whose name contains SUBSTRING)
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dl_test.h"

typedef struct test_entry {
    const char *name, *file;
    dl_test_fn fn;
} test_entry;

static test_entry tests[1024];
static int num_tests;
int dl_test_failures;
static char tmpdir[256];

void dl_test_register(const char *name, const char *file, dl_test_fn fn) {
    if (num_tests < (int)(sizeof tests / sizeof tests[0]))
        tests[num_tests++] = (test_entry){name, file, fn};
}

const char *dl_test_tmpdir(void) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(tmpdir, sizeof tmpdir, "%s/dl_test_XXXXXX", base);
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

static void remove_tmpdir(void) {
    if (!tmpdir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    tmpdir[0] = 0;
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int passed = 0, failed = 0;
    for (int i = 0; i < num_tests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        dl_test_failures = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        remove_tmpdir();
        double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (dl_test_failures) {
            failed++;
            printf("FAIL %s (%s) %.0f ms\n", tests[i].name, tests[i].file, ms);
        } else {
            passed++;
            printf("ok   %s %.0f ms\n", tests[i].name, ms);
        }
        fflush(stdout);
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

dl_lake *dl_test_fresh_lake(const char *sub) {
    char root[512];
    snprintf(root, sizeof root, "%s/%s", dl_test_tmpdir(), sub);
    dl_error err;
    dl_lake *lake = NULL;
    CHECK_OK(dl_lake_init(root, &err), &err);
    CHECK_OK(dl_lake_open(root, false, &lake, &err), &err);
    return lake;
}
