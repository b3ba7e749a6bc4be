/*
** dl_main.c -- the `dl` command-line tool: dispatches subcommands.
*/
#include <stdio.h>
#include <string.h>

#include "datalake.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("dl %s\n", DL_VERSION_STRING);
        return 0;
    }
    fprintf(stderr, "usage: dl COMMAND [ARGS]\n");
    return 2;
}
