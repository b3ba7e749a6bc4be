/*
** replay_main.c -- runs a fuzz target's LLVMFuzzerTestOneInput on every
** file of its seed corpus, without libFuzzer: linked with one fuzz/fuzz_*.c
** by any compiler, so the corpora are regression tests in the release and
** ASan builds too (scripts/test.sh; `make` builds build/MODE/replay/fuzz_*).
** Usage: fuzz_NAME PATH...   (a PATH is a file or a directory of files)
** Exit status: 0 when every input ran (a crash or sanitizer report aborts),
** 1 when an input cannot be read or no input was found.
*/
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (64u << 20) /* corpus files are small; refuse anything absurd */

/* Reads the whole file; NULL (with a message) when it cannot. */
static uint8_t *read_input(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *grown = cap <= REPLAY_MAX_INPUT ? realloc(buf, cap) : NULL;
            if (!grown) {
                fprintf(stderr, "replay: %s is larger than %u bytes or memory ran out\n", path,
                        REPLAY_MAX_INPUT);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

/* Runs one file; returns 0, or 1 when it could not be read. */
static int replay_file(const char *path, int *count) {
    size_t size = 0;
    uint8_t *data = read_input(path, &size);
    if (!data) return 1;
    /* an exact-size copy so that ASan sees any read past the input's end */
    uint8_t *exact = malloc(size ? size : 1);
    if (!exact) {
        free(data);
        return 1;
    }
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    (*count)++;
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a directory, in name order (reproducible output). */
static int replay_dir(const char *dir, int *count) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        char *name = grown ? malloc(strlen(dir) + strlen(e->d_name) + 2) : NULL;
        if (grown) names = grown;
        if (!name) {
            rc = 1;
            break;
        }
        sprintf(name, "%s/%s", dir, e->d_name);
        names[n++] = name;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = replay_file(names[i], count);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    int count = 0, rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else {
            rc = S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) : replay_file(argv[i], &count);
        }
    }
    if (rc == 0 && count == 0) {
        fprintf(stderr, "replay: no input found\n");
        rc = 1;
    }
    if (rc == 0) printf("replay %s: %d inputs ran\n", argv[0], count);
    return rc;
}
