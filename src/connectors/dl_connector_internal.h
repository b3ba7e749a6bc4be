/*
** dl_connector_internal.h -- helpers shared by the connectors
** (dl_sync_archive.c, dl_connector.c); not public API.
*/
#ifndef DL_CONNECTOR_INTERNAL_H
#define DL_CONNECTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"

/* *out = true when the lake holds a day file of dataset for every UTC day
** of [first_day, last_day] (days since the epoch, inclusive); an unknown
** dataset covers nothing. */
int dl_connector_days_covered(dl_lake *lake, const char *dataset, int64_t first_day,
                              int64_t last_day, bool *out, dl_error *err);

/* GET url into a malloc'd, NUL-terminated buffer of at most max_bytes
** (free with free); *status = the HTTP status.  Messages go to errbuf. */
int dl_connector_http_get(const char *url, int64_t max_bytes, char **body, int64_t *body_len,
                          long *status, char *errbuf, size_t errlen);

/* Formats one line and passes it to log(ctx, line); nothing when log is NULL. */
void dl_connector_log(dl_sync_log_fn log, void *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
