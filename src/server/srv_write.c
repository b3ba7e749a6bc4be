/*
** srv_write.c -- the write side of the server: request bodies are spooled
** to a temporary file under the lake's .dl/ directory (bounded by the body
** limit, removed when the request ends, whatever happens).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "srv_internal.h"

static int upload_open(srv_req *r) {
    snprintf(r->upload.path, sizeof r->upload.path, "%s/.dl/tmp-upload-%ld-%llu", r->srv->root,
             (long)getpid(), (unsigned long long)r->id);
    r->upload.fd = open(r->upload.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (r->upload.fd < 0) return -errno;
    r->upload_open = true;
    return 0;
}

int srv_upload_chunk(srv_req *r, const char *data, size_t n) {
    if (!r->upload_open && upload_open(r) != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot spool the upload to %s: %s", r->upload.path,
                 strerror(errno));
        return srv_reply_problem(r, 503, msg);
    }
    while (n > 0) {
        ssize_t w = write(r->upload.fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "cannot spool the upload: %s", strerror(errno));
            return srv_reply_problem(r, 507, msg);
        }
        data += w;
        n -= (size_t)w;
        r->upload.bytes += w;
    }
    return MHD_YES;
}

void srv_upload_discard(srv_req *r) {
    if (!r->upload_open) return;
    close(r->upload.fd);
    unlink(r->upload.path);
    r->upload.fd = -1;
    r->upload_open = false;
}
