/*
** dl_error.c -- the error object: a status code plus an actionable message.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "datalake.h"

const char *dl_status_name(int code) {
    switch (code) {
    case DL_OK:
        return "ok";
    case DL_EINVAL:
        return "invalid argument";
    case DL_EIO:
        return "I/O error";
    case DL_ECORRUPT:
        return "corrupt input";
    case DL_ENOMEM:
        return "out of memory";
    case DL_EUNSUPPORTED:
        return "unsupported";
    case DL_ENOTFOUND:
        return "not found";
    case DL_ECONFLICT:
        return "conflict";
    case DL_EINTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

int dl_error_set(dl_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void dl_error_prefix(dl_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    if (plen + 2 >= sizeof err->message) return;
    size_t mlen = strnlen(err->message, sizeof err->message - 1);
    if (plen + 2 + mlen >= sizeof err->message) mlen = sizeof err->message - plen - 3;
    memmove(err->message + plen + 2, err->message, mlen);
    memcpy(err->message, prefix, plen);
    err->message[plen] = ':';
    err->message[plen + 1] = ' ';
    err->message[plen + 2 + mlen] = 0;
}

void dl_error_clear(dl_error *err) {
    if (!err) return;
    err->code = DL_OK;
    err->message[0] = 0;
}
