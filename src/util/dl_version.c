/* dl_version.c -- the version of the linked library (dl_version), so a
** program can tell which libdatalake.so it runs against. */
#include "datalake.h"

const char *dl_version(void) {
    return DL_VERSION_STRING;
}
