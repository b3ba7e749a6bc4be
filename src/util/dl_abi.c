/* dl_abi.c -- the small functions of the ABI contract itself: the version
** of the linked library (dl_version) and the one release function for
** arrays the library hands out (dl_free). */
#include <stdlib.h>

#include "datalake.h"

const char *dl_version(void) {
    return DL_VERSION_STRING;
}

void dl_free(void *p) {
    free(p);
}
