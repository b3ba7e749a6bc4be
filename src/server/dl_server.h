/*
** dl_server.h -- the data server module (`dl serve`): an HTTP/1.1 hub over
** libmicrohttpd that serves the lake to many readers at once.  It sits
** above libdatalake and uses only the public API of datalake.h; the CLI
** starts it through this header.  See docs/server.md for the HTTP API.
*/
#ifndef DL_SERVER_H
#define DL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "datalake.h"

typedef struct dl_server_options {
    const char *root;          /* lake root (borrowed) */
    const char *listen;        /* "HOST:PORT" (IPv4 or [IPv6]); port 0 = any free port */
    bool insecure_no_auth;     /* serve without tokens (refused off loopback unless set) */
    bool no_auth;              /* auth off (only allowed on loopback, or with insecure_no_auth) */
    const char *tls_cert;      /* PEM files; both or neither (borrowed) */
    const char *tls_key;       /*   */
    int threads;               /* HTTP event threads (default 2) */
    int workers;               /* query / job workers (default 4) */
    int query_threads;         /* decode threads per query (default 2) */
    int max_connections;       /* global connection limit (default 256) */
    int max_per_ip;            /* connections per client address (default 64) */
    int idle_timeout_s;        /* idle connection timeout (default 30) */
    int64_t max_body_bytes;    /* largest upload accepted (default 1 GiB) */
    int64_t max_page_rows;     /* hard cap of rows per paged response (default 100000) */
    int64_t default_page_rows; /* JSON page size without limit (default 1000) */
    double shutdown_grace_s;   /* in-flight requests get this long on SIGTERM (default 10) */
    double rate_per_token;     /* requests per second per token (default 50; 0 = unlimited) */
    double rate_burst;         /* bucket size (default 100) */
    FILE *log;                 /* one JSON line per request (default stderr; NULL = none) */
    const char *port_file;     /* write the bound port here once listening (tests) */
} dl_server_options;

void dl_server_options_default(dl_server_options *opts);

/* Serves until SIGTERM or SIGINT, then stops accepting connections, lets
** in-flight requests finish within shutdown_grace_s and returns DL_OK.
** Errors before serving (bad address, port taken, TLS files, no lake,
** insecure listen) return their code with a message in err. */
int dl_server_run(const dl_server_options *opts, dl_error *err);

#endif /* DL_SERVER_H */
