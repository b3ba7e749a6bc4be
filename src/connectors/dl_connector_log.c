/*
** dl_connector_log.c -- the printf-style progress line both syncs
** (dl_sync_archive.c, dl_connector.c) hand to their caller's log callback.
*/
#include <stdarg.h>
#include <stdio.h>

#include "connectors/dl_connector_internal.h"

void dl_connector_log(dl_sync_log_fn log, void *ctx, const char *fmt, ...) {
    if (!log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(ctx, line);
}
