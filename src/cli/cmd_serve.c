/*
** cmd_serve.c -- `dl serve --listen HOST:PORT [--root DIR] ...`: starts the
** data server (src/server/) in the foreground until SIGTERM or SIGINT.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lake.h"
#include "server/dl_server.h"

static const cli_option serve_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"listen", "HOST:PORT", "address to listen on (default 127.0.0.1:8080; port 0 = any)"},
    {"no-auth", NULL, "serve without tokens (loopback addresses only)"},
    {"insecure-no-auth", NULL, "serve without tokens on any address (anyone can read the lake)"},
    {"tls-cert", "FILE", "PEM certificate: serve HTTPS (with --tls-key)"},
    {"tls-key", "FILE", "PEM private key of the certificate"},
    {"threads", "N", "HTTP event threads (default 2)"},
    {"workers", "N", "query and job workers (default 4)"},
    {"query-threads", "N", "decode threads per query (default 2)"},
    {"max-connections", "N", "open connections in total (default 256)"},
    {"max-per-ip", "N", "open connections per client address (default 64)"},
    {"idle-timeout", "SECONDS", "close connections idle this long (default 30)"},
    {"max-body", "BYTES", "largest request body (default 1073741824)"},
    {"max-page-rows", "N", "hard cap of rows per page / limit / tail (default 100000)"},
    {"rate", "N", "requests per second per token (default 50; 0 = unlimited)"},
    {"grace", "SECONDS", "on SIGTERM, time in-flight requests get to finish (default 10)"},
    {"log", "FILE", "request log, one JSON line per request (default stderr; - = none)"},
    {"port-file", "FILE", "write the bound port to FILE once listening"},
};

static const cli_spec serve_spec = {
    "serve",
    "[--listen HOST:PORT] [--root DIR] [--tls-cert FILE --tls-key FILE] [--no-auth]",
    "Serve the lake over HTTP: metadata, queries streamed as Arrow IPC, Parquet,\n"
    "CSV, NDJSON or JSON pages with signed cursors (see docs/server.md).\n"
    "Runs in the foreground until SIGTERM or SIGINT; in-flight requests then get\n"
    "--grace seconds to finish.  Every route but /v1/health, /metrics and\n"
    "/v1/openapi.json needs `Authorization: Bearer TOKEN` (dl token create).\n",
    serve_options,
    (int)(sizeof serve_options / sizeof serve_options[0]),
    0,
    0,
};

/* Reads an integer option into *out (unchanged when absent). */
static bool int_option(const cli_args *a, const char *name, int64_t min, int64_t max,
                       int64_t *out) {
    const char *v = cli_get(a, name);
    return !v || cli_parse_i64(v, min, max, out);
}

int cli_cmd_serve(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&serve_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    dl_server_options o;
    dl_server_options_default(&o);
    o.root = cli_lake_root_dir(&a);
    if (cli_get(&a, "listen")) o.listen = cli_get(&a, "listen");
    o.no_auth = cli_get(&a, "no-auth") != NULL;
    o.insecure_no_auth = cli_get(&a, "insecure-no-auth") != NULL;
    o.tls_cert = cli_get(&a, "tls-cert");
    o.tls_key = cli_get(&a, "tls-key");
    o.port_file = cli_get(&a, "port-file");
    int64_t threads = o.threads, workers = o.workers, qthreads = o.query_threads;
    int64_t conns = o.max_connections, per_ip = o.max_per_ip, idle = o.idle_timeout_s;
    int64_t rate = (int64_t)o.rate_per_token, grace = (int64_t)o.shutdown_grace_s;
    if (!int_option(&a, "threads", 1, 64, &threads) ||
        !int_option(&a, "workers", 1, 256, &workers) ||
        !int_option(&a, "query-threads", 1, 64, &qthreads) ||
        !int_option(&a, "max-connections", 1, 100000, &conns) ||
        !int_option(&a, "max-per-ip", 1, 100000, &per_ip) ||
        !int_option(&a, "idle-timeout", 1, 86400, &idle) ||
        !int_option(&a, "max-body", 1, INT64_MAX, &o.max_body_bytes) ||
        !int_option(&a, "max-page-rows", 1, 100000000, &o.max_page_rows) ||
        !int_option(&a, "rate", 0, 1000000, &rate) || !int_option(&a, "grace", 0, 3600, &grace))
        return cli_usage_error(&serve_spec, "a numeric option is out of range (see --help)");
    o.threads = (int)threads;
    o.workers = (int)workers;
    o.query_threads = (int)qthreads;
    o.max_connections = (int)conns;
    o.max_per_ip = (int)per_ip;
    o.idle_timeout_s = (int)idle;
    o.rate_per_token = (double)rate;
    o.rate_burst = rate > 0 ? 2.0 * (double)rate : 0;
    o.shutdown_grace_s = (double)grace;
    if (o.default_page_rows > o.max_page_rows) o.default_page_rows = o.max_page_rows;
    const char *log = cli_get(&a, "log");
    FILE *log_file = NULL;
    if (log && strcmp(log, "-") == 0) {
        o.log = NULL;
    } else if (log) {
        log_file = fopen(log, "a");
        if (!log_file) return cli_failf("%s: cannot open the log file", log);
        o.log = log_file;
    }
    dl_error err = {0};
    int rc = dl_server_run(&o, &err);
    if (log_file) fclose(log_file);
    return rc == DL_OK ? CLI_EXIT_OK : cli_fail(&err);
}
