/*
** srv_main.c -- the life of the data server: option checks, the
** libmicrohttpd daemon (event threads with epoll, suspend/resume, limits,
** TLS), the access handler that routes, authorises and dispatches each
** request, deferred jobs on the worker pool, the pool of read-only lake
** handles, and the graceful stop on SIGTERM/SIGINT.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "srv_internal.h"

#define LAKE_POOL_KEEP  64
#define MAX_QUEUED_JOBS 256

void dl_server_options_default(dl_server_options *o) {
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8080";
    o->threads = 2;
    o->workers = 4;
    o->query_threads = 2;
    o->max_connections = 256;
    o->max_per_ip = 64;
    o->idle_timeout_s = 30;
    o->max_body_bytes = (int64_t)1 << 30;
    o->max_page_rows = 100000;
    o->default_page_rows = 1000;
    o->shutdown_grace_s = 10;
    o->rate_per_token = 50;
    o->rate_burst = 100;
    o->log = stderr;
}

/* ------------------------------------------------------------------ */
/* Lake handles                                                         */
/* ------------------------------------------------------------------ */

int srv_lake_acquire(srv_server *s, dl_lake **out, dl_error *err) {
    pthread_mutex_lock(&s->lakes_mu);
    *out = s->num_lakes ? s->lakes[--s->num_lakes] : NULL;
    pthread_mutex_unlock(&s->lakes_mu);
    if (*out) return DL_OK;
    return dl_lake_open(s->root, true, out, err);
}

void srv_lake_release(srv_server *s, dl_lake *lake) {
    if (!lake) return;
    pthread_mutex_lock(&s->lakes_mu);
    if (s->num_lakes < SRV_LAKES_KEEP) {
        s->lakes[s->num_lakes++] = lake;
        lake = NULL;
    }
    pthread_mutex_unlock(&s->lakes_mu);
    if (lake) dl_lake_close(lake);
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

int srv_status_of(int code) {
    switch (code) {
    case DL_EINVAL:
        return 400;
    case DL_ENOTFOUND:
        return 404;
    case DL_ECONFLICT:
        return 409;
    case DL_EUNSUPPORTED:
        return 400;
    case DL_ECORRUPT:
        return 500;
    case DL_ENOMEM:
        return 503;
    default:
        return 500;
    }
}

static const char *status_title(int status) {
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

struct MHD_Response *srv_response_new(srv_req *r, int status, const char *content_type, char *body,
                                      size_t len) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)r->id);
    MHD_add_response_header(resp, "X-Request-Id", id);
    if (r->srv->stopping) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->status = status;
    r->bytes_out = (int64_t)len;
    return resp;
}

static int queue(srv_req *r, int status, struct MHD_Response *resp) {
    if (!resp) return MHD_NO;
    int ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int srv_reply(srv_req *r, int status, const char *content_type, char *body, size_t len) {
    return queue(r, status, srv_response_new(r, status, content_type, body, len));
}

int srv_reply_buf(srv_req *r, int status, const char *content_type, dl_text *body) {
    if (body->status != DL_OK) {
        dl_text_free(body);
        return srv_reply_problem(r, 503, "out of memory rendering the response");
    }
    size_t len;
    char *data = srv_text_take(body, &len);
    return srv_reply(r, status, content_type, data, len);
}

/* A filter error carries "at offset N": expose it as a member too. */
static int64_t filter_position(const char *detail) {
    if (strncmp(detail, "filter", 6) != 0) return -1;
    const char *p = strstr(detail, "at offset ");
    return p ? strtoll(p + 10, NULL, 10) : -1;
}

struct MHD_Response *srv_problem_response(srv_req *r, int status, const char *detail) {
    dl_text b = {0};
    dl_text_printf(&b, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":",
                   status_title(status), status);
    srv_json_cstr(&b, detail);
    dl_text_puts(&b, ",\"instance\":");
    srv_json_cstr(&b, r->url ? r->url : "");
    int64_t pos = filter_position(detail);
    if (pos >= 0 && status == 400) dl_text_printf(&b, ",\"position\":%lld", (long long)pos);
    dl_text_printf(&b, ",\"request_id\":%llu}\n", (unsigned long long)r->id);
    snprintf(r->error_detail, sizeof r->error_detail, "%s", detail);
    if (b.status != DL_OK) {
        dl_text_free(&b);
        return NULL;
    }
    size_t len;
    char *body = srv_text_take(&b, &len);
    struct MHD_Response *resp = srv_response_new(r, status, "application/problem+json", body, len);
    if (resp && status == 429) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (resp && status == 503) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (resp && status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"dl\"");
    return resp;
}

int srv_reply_problem(srv_req *r, int status, const char *detail) {
    return queue(r, status, srv_problem_response(r, status, detail));
}

int srv_reply_error(srv_req *r, const dl_error *err) {
    const char *msg = err->message[0] ? err->message : dl_status_name(err->code);
    int status = srv_status_of(err->code);
    if (err->code == DL_EUNSUPPORTED && strstr(msg, "Accept")) status = 406;
    return srv_reply_problem(r, status, msg);
}

/* ------------------------------------------------------------------ */
/* Deferred jobs                                                        */
/* ------------------------------------------------------------------ */

int srv_defer(srv_req *r, srv_job_fn fn, void *arg, void (*free_arg)(void *)) {
    r->suspended = true;
    MHD_suspend_connection(r->conn);
    if (!srv_pool_submit(r->srv->pool, fn, arg, false)) {
        free_arg(arg);
        r->ready =
            srv_problem_response(r, 503, "server busy: too many queued requests, retry later");
        r->suspended = false;
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

void srv_job_done(srv_req *r, struct MHD_Response *response) {
    r->ready = response;
    r->suspended = false;
    MHD_resume_connection(r->conn);
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
    (void)kind;
    srv_params_add(cls, key, value);
    return MHD_YES;
}

static srv_req *request_new(srv_server *s, struct MHD_Connection *conn) {
    srv_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->srv = s;
    r->conn = conn;
    r->t_start = srv_now();
    r->upload.fd = -1;
    pthread_mutex_lock(&s->mu);
    r->id = ++s->next_id;
    s->in_flight++;
    pthread_mutex_unlock(&s->mu);
    r->counted = true;
    return r;
}

/* First call of a request: route, parameters, auth; then the handler (GET)
** or the start of the upload (POST). */
static int request_begin(srv_req *r, const char *url, const char *method) {
    srv_server *s = r->srv;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->url = strdup(url);
    if (!r->url) return MHD_NO;
    if (s->stopping) return srv_reply_problem(r, 503, "server shutting down");
    dl_error err = {0};
    const char *parts[SRV_MAX_PATH_PARTS];
    int n = 0;
    if (srv_path_split(url, r->path_storage, sizeof r->path_storage, parts, &n, &err) != DL_OK)
        return srv_reply_problem(r, 400, err.message);
    bool method_mismatch = false;
    r->route = srv_route_match(method, parts, n, r->path_params, &method_mismatch);
    if (!r->route) {
        if (method_mismatch) return srv_reply_problem(r, 405, "method not allowed on this path");
        return srv_reply_problem(r, 404, "no such route (see /v1/openapi.json)");
    }
    if (r->route->dataset_scoped) {
        dl_dataset_id id;
        const char *const *p = r->path_params;
        if (dl_dataset_id_make(p[0], p[1], p[2], p[3], p[4], &id, &err) != DL_OK)
            return srv_reply_problem(r, 400, err.message);
        dl_dataset_format(&id, r->dataset, sizeof r->dataset);
    }
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_param, &r->params);
    if (srv_params_check_known(&r->params, r->route->query_params, &err) != DL_OK)
        return srv_reply_problem(r, 400, err.message);
    int ret;
    if (!srv_authorize(r, &ret)) return ret;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    srv_server *s = cls;
    srv_req *r = *con_cls;
    if (!r) {
        r = request_new(s, conn);
        if (!r) return MHD_NO;
        *con_cls = r;
    }
    if (r->ready) { /* a job finished while the connection was suspended */
        struct MHD_Response *resp = r->ready;
        r->ready = NULL;
        return (enum MHD_Result)queue(r, r->status, resp);
    }
    if (!r->started) {
        r->started = true;
        int ret = request_begin(r, url, method);
        if (ret != MHD_YES || r->status != 0 || !r->route) return (enum MHD_Result)ret;
        if (strcmp(method, "POST") != 0) return (enum MHD_Result)r->route->handler(r);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoll(cl, NULL, 10) > s->opts.max_body_bytes) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body larger than the limit of %lld bytes",
                     (long long)s->opts.max_body_bytes);
            return (enum MHD_Result)srv_reply_problem(r, 413, msg);
        }
        return MHD_YES; /* the body follows */
    }
    if (r->status != 0) { /* answered already; discard the rest of the body */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->upload.bytes + (int64_t)n > s->opts.max_body_bytes) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body larger than the limit of %lld bytes",
                     (long long)s->opts.max_body_bytes);
            return (enum MHD_Result)srv_reply_problem(r, 413, msg);
        }
        return (enum MHD_Result)srv_upload_chunk(r, upload_data, n);
    }
    return (enum MHD_Result)r->route->handler(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    srv_server *s = cls;
    srv_req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    if (r->stream) {
        int64_t rows, bytes;
        srv_stream_release(r->stream, &rows, &bytes);
        r->rows_out = rows;
        r->bytes_out = bytes;
        r->stream = NULL;
    }
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->error_detail[0])
        snprintf(r->error_detail, sizeof r->error_detail, "connection ended early (%d)", (int)toe);
    srv_upload_discard(r);
    if (r->route) {
        double secs = srv_now() - r->t_start;
        srv_metrics_record(s->metrics, (int)(r->route - srv_routes), r->status, r->bytes_out, secs);
    } else {
        srv_metrics_record(s->metrics, -1, r->status, r->bytes_out, srv_now() - r->t_start);
    }
    srv_log_request(s, r);
    if (r->ready) MHD_destroy_response(r->ready);
    free(r->url);
    pthread_mutex_lock(&s->mu);
    if (r->counted && --s->in_flight == 0) pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    free(r);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    (void)conn;
    (void)socket_context;
    srv_server *s = cls;
    pthread_mutex_lock(&s->mu);
    s->connections += code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1;
    pthread_mutex_unlock(&s->mu);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) {
    srv_server *s = cls;
    if (!s->opts.log) return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    dl_text b = {0};
    dl_text_puts(&b, "{\"level\":\"warn\",\"source\":\"libmicrohttpd\",\"message\":");
    srv_json_cstr(&b, msg);
    dl_text_puts(&b, "}\n");
    srv_log_line(s, &b);
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                       */
/* ------------------------------------------------------------------ */

/* "HOST:PORT" / "[V6]:PORT" -> a socket address; *loopback when the host
** is a loopback address. */
static int parse_listen(const char *text, struct sockaddr_storage *addr, bool *loopback,
                        dl_error *err) {
    memset(addr, 0, sizeof *addr);
    char host[128];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return dl_error_set(err, DL_EINVAL, "listen address '%s' is not HOST:PORT", text);
    size_t hl = (size_t)(colon - text);
    if (hl >= sizeof host) return dl_error_set(err, DL_EINVAL, "listen host too long");
    memcpy(host, text, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return dl_error_set(err, DL_EINVAL, "listen port '%s' is not 0..65535", colon + 1);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return dl_error_set(err, DL_EINVAL, "'%s' is not an IPv6 address", host + 1);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return DL_OK;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return dl_error_set(err, DL_EINVAL, "'%s' is not an IPv4 address (or [IPv6])", host);
    *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    return DL_OK;
}

static int read_pem(const char *path, char **out, dl_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return dl_error_set(err, DL_EIO, "%s: %s", path, strerror(errno));
    dl_text b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1 << 20))
        dl_text_put(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad || b.status != DL_OK || b.len == 0 || b.len >= (1 << 20)) {
        dl_text_free(&b);
        return dl_error_set(err, DL_EINVAL, "%s: cannot read a PEM file", path);
    }
    size_t len;
    *out = srv_text_take(&b, &len);
    return DL_OK;
}

static void write_port_file(const char *path, unsigned port) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%u\n", port);
    fclose(f);
    rename(tmp, path);
}

static int start_daemon(srv_server *s, const struct sockaddr_storage *addr, char *tls_key,
                        char *tls_cert, dl_error *err) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (tls_key) flags |= MHD_USE_TLS;
    if (tls_key && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return dl_error_set(err, DL_EUNSUPPORTED, "this libmicrohttpd was built without TLS");
    const dl_server_options *o = &s->opts;
    struct MHD_OptionItem tls_opts[] = {
        {tls_key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, tls_key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)o->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    if (!s->daemon)
        return dl_error_set(err, DL_EIO, "cannot listen on %s (address in use, or no permission?)",
                            o->listen);
    return DL_OK;
}

/* Waits until no request is in flight or `until` (monotonic) passes. */
static bool wait_idle(srv_server *s, double until) {
    pthread_mutex_lock(&s->mu);
    while (s->in_flight > 0) {
        double now = srv_now();
        if (now >= until) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double wait = until - now < 0.1 ? until - now : 0.1;
        ts.tv_nsec += (long)(wait * 1e9);
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&s->idle, &s->mu, &ts);
    }
    bool idle = s->in_flight == 0;
    pthread_mutex_unlock(&s->mu);
    return idle;
}

static void log_event(srv_server *s, const char *event, const char *detail) {
    if (!s->opts.log) return;
    dl_text b = {0};
    dl_text_puts(&b, "{\"event\":");
    srv_json_cstr(&b, event);
    dl_text_puts(&b, ",\"detail\":");
    srv_json_cstr(&b, detail);
    dl_text_puts(&b, "}\n");
    srv_log_line(s, &b);
}

static int check_options(const dl_server_options *o, dl_error *err) {
    if (!o->root || !o->listen)
        return dl_error_set(err, DL_EINVAL, "no lake root or listen address");
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return dl_error_set(err, DL_EINVAL, "TLS needs both a certificate and a key");
    if (o->threads < 1 || o->threads > 64 || o->workers < 1 || o->workers > 256 ||
        o->query_threads < 1 || o->query_threads > 64)
        return dl_error_set(err, DL_EINVAL, "threads, workers and query threads must be 1..64");
    if (o->max_connections < 1 || o->max_per_ip < 1 || o->idle_timeout_s < 1)
        return dl_error_set(err, DL_EINVAL, "connection limits and timeout must be >= 1");
    if (o->max_page_rows < 1 || o->default_page_rows < 1 || o->max_body_bytes < 1)
        return dl_error_set(err, DL_EINVAL, "page sizes and body limit must be >= 1");
    return DL_OK;
}

static void server_free(srv_server *s) {
    srv_pool_stop(s->pool);
    if (s->daemon) MHD_stop_daemon(s->daemon);
    for (int i = 0; i < s->num_lakes; i++) dl_lake_close(s->lakes[i]);
    pthread_mutex_destroy(&s->lakes_mu);
    srv_metrics_free(s->metrics);
    srv_rate_free(s->rates);
    free(s->root);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->log_mu);
}

int dl_server_run(const dl_server_options *opts, dl_error *err) {
    int rc = check_options(opts, err);
    if (rc != DL_OK) return rc;
    struct sockaddr_storage addr;
    bool loopback = false;
    if ((rc = parse_listen(opts->listen, &addr, &loopback, err)) != DL_OK) return rc;
    bool auth = !(opts->no_auth || opts->insecure_no_auth);
    if (!auth && !loopback && !opts->insecure_no_auth)
        return dl_error_set(err, DL_EINVAL,
                            "refusing to serve %s without authentication: it is not a loopback "
                            "address (allow it explicitly with the insecure no-auth option)",
                            opts->listen);

    srv_server s;
    memset(&s, 0, sizeof s);
    s.opts = *opts;
    s.auth = auth;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.idle, NULL);
    pthread_mutex_init(&s.log_mu, NULL);
    pthread_mutex_init(&s.lakes_mu, NULL);
    char *tls_key = NULL, *tls_cert = NULL;
    dl_lake *lake = NULL;
    s.root = strdup(opts->root);
    if (!s.root) {
        rc = dl_error_set(err, DL_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* one read-write open first: it rolls back what an interrupted writer left */
    if ((rc = dl_lake_open(s.root, false, &lake, err)) != DL_OK) goto cleanup;
    dl_lake_close(lake);
    if ((rc = srv_key_load(s.root, s.cursor_key, err)) != DL_OK) goto cleanup;
    if (opts->tls_key && ((rc = read_pem(opts->tls_key, &tls_key, err)) != DL_OK ||
                          (rc = read_pem(opts->tls_cert, &tls_cert, err)) != DL_OK))
        goto cleanup;
    if (srv_metrics_new(&s.metrics) != DL_OK || srv_rate_new(&s.rates) != DL_OK) {
        rc = dl_error_set(err, DL_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = srv_pool_start(opts->workers, MAX_QUEUED_JOBS, opts->max_connections + 16, &s.pool, err);
    if (rc != DL_OK) goto cleanup;

    /* signals go to sigwait below, not to the event threads */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = start_daemon(&s, &addr, tls_key, tls_cert, err)) != DL_OK) goto cleanup;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char detail[256];
    snprintf(detail, sizeof detail, "dl %s serving %s on port %u (%s, auth %s)", DL_VERSION_STRING,
             s.root, port, tls_key ? "https" : "http", auth ? "on" : "OFF");
    log_event(&s, "listening", detail);
    if (opts->port_file) write_port_file(opts->port_file, port);

    int sig = 0;
    sigwait(&sigs, &sig);
    s.stopping = 1;
    MHD_socket lfd = MHD_quiesce_daemon(s.daemon);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    snprintf(detail, sizeof detail, "signal %d: no new connections; %lld requests in flight", sig,
             (long long)s.in_flight);
    log_event(&s, "stopping", detail);
    if (!wait_idle(&s, srv_now() + opts->shutdown_grace_s)) {
        s.stopping = 2; /* cut the remaining streams short, with their error marker */
        log_event(&s, "stopping", "grace period over: ending the remaining streams");
        wait_idle(&s, srv_now() + 5);
    }
    log_event(&s, "stopped", "bye");
    rc = DL_OK;
cleanup:
    free(tls_key);
    free(tls_cert);
    server_free(&s);
    return rc;
}
