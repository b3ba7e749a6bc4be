/*
** srv_internal.h -- what the files of the data server share: the request
** context, the route table, response helpers, the byte buffer, the worker
** pool, streamed bodies, cursors, auth and metrics.  Nothing here is seen by
** the library; the server uses only datalake.h below it.
*/
#ifndef DL_SRV_INTERNAL_H
#define DL_SRV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datalake.h"
#include "dl_server.h"

struct MHD_Connection;
struct MHD_Daemon;
struct MHD_Response;

/* ---- text (srv_util.c): bodies are built in the library's dl_text ---- */

/* Hands the bytes over NUL-terminated (NULL when an append failed); the
** text is empty afterwards. */
char *srv_text_take(dl_text *t, size_t *len);
/* The text as a C string (NUL kept past len; "" after a failed append). */
const char *srv_text_cstr(dl_text *t);
static inline void srv_json_cstr(dl_text *b, const char *s) {
    dl_text_json_string(b, s ? s : "", s ? __builtin_strlen(s) : 0);
}
/* ISO-8601 of epoch us, or JSON null for the INT64_MIN/MAX "none" values. */
void srv_json_time(dl_text *b, int64_t us);

double srv_now(void);      /* monotonic seconds */
int64_t srv_wall_us(void); /* wall clock, epoch us */
/* Constant-time equality of two byte strings of the same length. */
bool srv_ct_equal(const void *a, const void *b, size_t n);
/* base64url without padding; decode returns -1 on bad input or overflow. */
size_t srv_b64url_encode(const uint8_t *src, size_t n, char *out, size_t out_size);
long srv_b64url_decode(const char *src, size_t n, uint8_t *out, size_t out_size);

/* ---- request parameters (srv_params.c; pure functions, fuzzed) ---- */

#define SRV_MAX_PARAMS     32
#define SRV_MAX_PATH_PARTS 12
#define SRV_MAX_PARAM_LEN  8192

typedef struct srv_params {
    const char *keys[SRV_MAX_PARAMS];
    const char *values[SRV_MAX_PARAMS];
    int count;
    bool overflow; /* more parameters than SRV_MAX_PARAMS, or a duplicate */
    char bad_key[64];
} srv_params;

/* Adds one decoded key=value (borrowed); false (and overflow set) when the
** table is full, the key repeats or a value is overlong. */
bool srv_params_add(srv_params *p, const char *key, const char *value);
const char *srv_param(const srv_params *p, const char *key);
/* Rejects parameters not in the NULL-terminated `known` list (names the first). */
int srv_params_check_known(const srv_params *p, const char *const *known, dl_error *err);

/* Splits a decoded URL path into segments; refuses empty segments in the
** middle, ".", "..", backslashes, NUL and control bytes, and '%' (a path
** that still holds an escape after decoding was encoded twice). */
int srv_path_split(const char *path, char *storage, size_t storage_size, const char **parts,
                   int *num_parts, dl_error *err);

/* Output formats of row data. */
typedef enum srv_format {
    SRV_FMT_JSON = 0,
    SRV_FMT_NDJSON,
    SRV_FMT_CSV,
    SRV_FMT_ARROW,
    SRV_FMT_PARQUET,
    SRV_FMT_COUNT
} srv_format;

const char *srv_format_name(srv_format f);
const char *srv_format_mime(srv_format f);
/* format= wins; else the Accept header's best supported type; else JSON.
** DL_EINVAL for an unknown format= value, DL_EUNSUPPORTED (406) when
** Accept names only types we cannot produce. */
int srv_format_negotiate(const char *format_param, const char *accept, srv_format *out,
                         dl_error *err);

typedef enum srv_encoding { SRV_ENC_IDENTITY = 0, SRV_ENC_GZIP, SRV_ENC_ZSTD } srv_encoding;
/* Picks zstd, then gzip, from Accept-Encoding (q=0 excludes). */
srv_encoding srv_encoding_negotiate(const char *accept_encoding);
const char *srv_encoding_name(srv_encoding e);

/* "Bearer TOKEN" -> TOKEN (borrowed into header), NULL when absent/malformed. */
const char *srv_bearer_token(const char *authorization, size_t *len);

/* ---- cursors (srv_cursor.c) ---- */

#define SRV_CURSOR_MAX 512 /* characters of an encoded cursor */

typedef struct srv_cursor {
    uint64_t query_hash;               /* hash of the query parameters the cursor belongs to */
    int64_t pin_version;               /* as_of_version pinned by the first page (one dataset) */
    int64_t pin_time;                  /* as_of time pinned by the first page (globs), us */
    char dataset[DL_DATASET_NAME_MAX]; /* dataset of the last row served ("" single) */
    int64_t last_ts;                   /* ts of the last row served */
    int64_t skip;   /* rows with ts == last_ts already served (of that dataset) */
    int64_t served; /* rows served so far (for limit accounting) */
} srv_cursor;

/* Signs and encodes with the lake's 32-byte key into out (SRV_CURSOR_MAX). */
int srv_cursor_encode(const srv_cursor *c, const uint8_t key[32], char *out, size_t out_size,
                      dl_error *err);
/* Decodes and checks the signature and layout; DL_EINVAL on anything wrong. */
int srv_cursor_decode(const char *text, const uint8_t key[32], srv_cursor *out, dl_error *err);
/* Loads {root}/.dl/server.key, creating it (0600, random) when missing. */
int srv_key_load(const char *root, uint8_t key[32], dl_error *err);

/* ---- worker pool (srv_pool.c) ---- */

typedef void (*srv_job_fn)(void *arg);
typedef struct srv_pool srv_pool;
/* max_queue jobs of new requests may wait; `reserve` more slots are kept
** for work already admitted (the next piece of a running stream). */
int srv_pool_start(int workers, int max_queue, int reserve, srv_pool **out, dl_error *err);
/* Queues fn(arg); false when the queue is full (a new request is answered
** 503) or the pool is stopping. */
bool srv_pool_submit(srv_pool *p, srv_job_fn fn, void *arg, bool admitted);
/* Runs every queued job, then joins the workers and frees p. */
void srv_pool_stop(srv_pool *p);
int srv_pool_queued(srv_pool *p);

/* ---- the server ---- */

/* The scope a route needs: none (public) or a dl_token_scope. */
typedef enum srv_scope {
    SRV_SCOPE_NONE = 0,
    SRV_SCOPE_READ = DL_TOKEN_READ,
    SRV_SCOPE_WRITE = DL_TOKEN_WRITE,
    SRV_SCOPE_ADMIN = DL_TOKEN_ADMIN
} srv_scope;

typedef struct srv_metrics srv_metrics;
typedef struct srv_rate srv_rate;

#define SRV_LAKES_KEEP 64

typedef struct srv_server {
    dl_server_options opts;
    char *root;
    bool auth;
    uint8_t cursor_key[32];
    struct MHD_Daemon *daemon;
    srv_pool *pool;
    pthread_mutex_t lakes_mu; /* idle read-only lake handles, reused */
    dl_lake *lakes[SRV_LAKES_KEEP];
    int num_lakes;
    srv_metrics *metrics;
    srv_rate *rates;
    volatile int stopping; /* 1 on SIGTERM: new requests refused; 2 after the
                              grace period: running streams are cut short */
    pthread_mutex_t mu;    /* in-flight accounting */
    pthread_cond_t idle;
    int64_t in_flight;
    int64_t connections;
    uint64_t next_id;
    pthread_mutex_t log_mu;
} srv_server;

/* Read-only lake handles, one per concurrent user (a dl_lake is not
** thread-safe); acquire never blocks: it opens a new handle when the free
** list is empty. */
int srv_lake_acquire(srv_server *s, dl_lake **out, dl_error *err);
void srv_lake_release(srv_server *s, dl_lake *lake);

/* ---- requests and responses ---- */

typedef struct srv_req srv_req;
typedef struct srv_stream srv_stream;

typedef struct srv_upload {
    int fd;
    char path[512];
    int64_t bytes;
    char filename[256];
} srv_upload;

struct srv_req {
    srv_server *srv;
    struct MHD_Connection *conn;
    uint64_t id;
    double t_start;
    char method[16];
    char *url; /* decoded path, owned */
    const struct srv_route *route;
    const char *path_params[SRV_MAX_PATH_PARTS];
    char path_storage[2048];
    char dataset[DL_DATASET_NAME_MAX]; /* from the path's five components */
    srv_params params;
    dl_token_info token; /* valid when authed */
    bool authed;
    bool started;
    bool counted; /* in the in-flight count */
    /* response */
    int status;
    int64_t bytes_out, rows_out;
    struct MHD_Response *ready; /* a response prepared by a job, queued on resume */
    bool suspended;
    srv_stream *stream;
    srv_upload upload;
    bool upload_open;
    bool upload_too_big;
    char error_detail[160]; /* for the log line */
};

/* Route handler: builds the response through srv_reply_* (or starts a
** stream / a job) and returns MHD's result. */
typedef int (*srv_handler)(srv_req *r);

typedef struct srv_route {
    const char *method;
    const char *pattern; /* "/v1/datasets/{exchange}/{market}/{symbol}/{type}/{period}" */
    srv_handler handler;
    srv_scope scope;     /* SRV_SCOPE_NONE: public */
    bool dataset_scoped; /* the dataset glob of the token applies */
    const char *summary;
    const char *const *query_params; /* NULL-terminated names of accepted query parameters */
    const char *produces;            /* content types of a 200, comma-separated */
} srv_route;

extern const srv_route srv_routes[];
extern const int srv_num_routes;

/* Finds the route of a path: the route, or NULL with *method_mismatch set
** when the path exists under another method.  Fills params with pointers
** into parts. */
const srv_route *srv_route_match(const char *method, const char *const *parts, int num_parts,
                                 const char **params, bool *method_mismatch);

/* Responses.  Each returns MHD's result for the access handler. */
int srv_reply(srv_req *r, int status, const char *content_type, char *body, size_t len);
int srv_reply_buf(srv_req *r, int status, const char *content_type, dl_text *body);
/* application/problem+json with the message the CLI prints as detail. */
int srv_reply_problem(srv_req *r, int status, const char *detail);
int srv_reply_error(srv_req *r, const dl_error *err);
int srv_status_of(int dl_code);
/* Builds (not queues) a response for a job finishing off the MHD thread. */
struct MHD_Response *srv_response_new(srv_req *r, int status, const char *content_type, char *body,
                                      size_t len);
struct MHD_Response *srv_problem_response(srv_req *r, int status, const char *detail);
/* Suspends r and runs fn(arg) on the worker pool; fn ends with
** srv_job_done(r, response).  When the pool refuses (busy), free_arg(arg)
** runs and r is answered 503. */
int srv_defer(srv_req *r, srv_job_fn fn, void *arg, void (*free_arg)(void *));
void srv_job_done(srv_req *r, struct MHD_Response *response);

/* Streams: the producer fills a bounded buffer from a worker, the MHD
** content reader drains it as the client reads (srv_stream.c). */
typedef struct srv_producer {
    /* Renders the next piece into out; sets *done at the end. */
    int (*step)(void *state, dl_text *out, bool *done, int64_t *rows, dl_error *err);
    /* Appends the format's end-of-stream error marker. */
    void (*error_marker)(void *state, dl_text *out, const dl_error *err);
    void (*free)(void *state);
} srv_producer;

/* Starts a streamed 200-type response; takes ownership of state (p->free). */
int srv_stream_reply(srv_req *r, int status, const char *content_type, const srv_producer *p,
                     void *state, srv_encoding enc);
/* The request's end: reads the rows/bytes sent and drops its reference. */
void srv_stream_release(srv_stream *s, int64_t *rows, int64_t *bytes);

/* ---- handlers (srv_routes.c, srv_query.c, srv_write.c) ---- */

int srv_h_health(srv_req *r);
int srv_h_metrics(srv_req *r);
int srv_h_openapi(srv_req *r);
int srv_h_datasets(srv_req *r);
int srv_h_dataset_info(srv_req *r);
int srv_h_dataset_schema(srv_req *r);
int srv_h_dataset_gaps(srv_req *r);
int srv_h_dataset_history(srv_req *r);
int srv_h_dataset_files(srv_req *r);
int srv_h_query(srv_req *r);

/* Query parameters of r (srv_routes.c): a time (ISO-8601 or epoch ms) or
** an integer in [min, max], left untouched when absent. */
int srv_param_time(const srv_req *r, const char *key, int64_t *out, dl_error *err);
int srv_param_int(const srv_req *r, const char *key, int64_t min, int64_t max, int64_t *out,
                  dl_error *err);

/* Uploads (srv_write.c): the body goes to a temporary file in the lake's
** .dl/ directory, removed when the request ends. */
int srv_upload_chunk(srv_req *r, const char *data, size_t n);
void srv_upload_discard(srv_req *r);

/* ---- auth (srv_auth.c) ---- */

/* Checks the bearer token, scope, dataset glob and rate limit of r;
** DL_OK, or an answered problem (returns the MHD result in *mhd_result). */
bool srv_authorize(srv_req *r, int *mhd_result);
/* The token may read `dataset` (glob check); datasets patterns in queries
** are checked per matched dataset by the query handler. */
bool srv_token_allows(const srv_req *r, const char *dataset);
int srv_rate_new(srv_rate **out);
void srv_rate_free(srv_rate *r);

/* ---- metrics and logs (srv_metrics.c) ---- */

int srv_metrics_new(srv_metrics **out);
void srv_metrics_free(srv_metrics *m);
void srv_metrics_record(srv_metrics *m, int route, int status, int64_t bytes, double seconds);
void srv_metrics_render(srv_server *s, dl_text *out);
void srv_log_request(srv_server *s, const srv_req *r);
/* Writes one log line (a JSON object and \n) under the log lock; frees it. */
void srv_log_line(srv_server *s, dl_text *line);

/* ---- OpenAPI (srv_openapi.c) ---- */

void srv_openapi_render(dl_text *out);

#endif /* DL_SRV_INTERNAL_H */
