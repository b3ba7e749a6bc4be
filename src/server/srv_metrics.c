/*
** srv_metrics.c -- observability: counters of requests by route and
** status, bytes sent, a latency histogram, in-flight requests and open
** connections in the Prometheus text format (GET /metrics), and one JSON
** log line per request (id, method, path, route, token, status, rows,
** bytes, milliseconds).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_internal.h"

#define MAX_STATUS_KEYS 512
static const double latency_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,   1,    2.5,   5,    10};
#define NUM_BUCKETS ((int)(sizeof latency_buckets / sizeof latency_buckets[0]))

typedef struct status_count {
    int route; /* index in srv_routes, -1 = unrouted */
    int status;
    int64_t count;
} status_count;

struct srv_metrics {
    pthread_mutex_t mu;
    status_count counts[MAX_STATUS_KEYS];
    int num_counts;
    int64_t bytes_sent;
    int64_t latency_le[NUM_BUCKETS + 1]; /* last = +Inf */
    double latency_sum;
    int64_t latency_count;
};

int srv_metrics_new(srv_metrics **out) {
    srv_metrics *m = calloc(1, sizeof *m);
    if (!m) return DL_ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return DL_OK;
}

void srv_metrics_free(srv_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void srv_metrics_record(srv_metrics *m, int route, int status, int64_t bytes, double seconds) {
    pthread_mutex_lock(&m->mu);
    status_count *c = NULL;
    for (int i = 0; i < m->num_counts && !c; i++)
        if (m->counts[i].route == route && m->counts[i].status == status) c = &m->counts[i];
    if (!c && m->num_counts < MAX_STATUS_KEYS) {
        c = &m->counts[m->num_counts++];
        c->route = route;
        c->status = status;
    }
    if (c) c->count++;
    m->bytes_sent += bytes;
    int b = 0;
    while (b < NUM_BUCKETS && seconds > latency_buckets[b]) b++;
    m->latency_le[b]++;
    m->latency_sum += seconds;
    m->latency_count++;
    pthread_mutex_unlock(&m->mu);
}

static const char *route_label(int route) {
    return route >= 0 && route < srv_num_routes ? srv_routes[route].pattern : "unmatched";
}

void srv_metrics_render(srv_server *s, dl_text *out) {
    srv_metrics *m = s->metrics;
    pthread_mutex_lock(&m->mu);
    dl_text_puts(out, "# HELP dl_http_requests_total Requests answered, by route and status.\n"
                      "# TYPE dl_http_requests_total counter\n");
    for (int i = 0; i < m->num_counts; i++) {
        const status_count *c = &m->counts[i];
        dl_text_printf(out, "dl_http_requests_total{route=\"%s\",status=\"%d\"} %lld\n",
                       route_label(c->route), c->status, (long long)c->count);
    }
    dl_text_printf(out,
                   "# HELP dl_http_response_bytes_total Body bytes sent.\n"
                   "# TYPE dl_http_response_bytes_total counter\n"
                   "dl_http_response_bytes_total %lld\n",
                   (long long)m->bytes_sent);
    dl_text_puts(out, "# HELP dl_http_request_duration_seconds Time from request headers to the "
                      "end of the response.\n"
                      "# TYPE dl_http_request_duration_seconds histogram\n");
    int64_t cumulative = 0;
    for (int b = 0; b < NUM_BUCKETS; b++) {
        cumulative += m->latency_le[b];
        dl_text_printf(out, "dl_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n",
                       latency_buckets[b], (long long)cumulative);
    }
    cumulative += m->latency_le[NUM_BUCKETS];
    dl_text_printf(out,
                   "dl_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n"
                   "dl_http_request_duration_seconds_sum %.6f\n"
                   "dl_http_request_duration_seconds_count %lld\n",
                   (long long)cumulative, m->latency_sum, (long long)m->latency_count);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_lock(&s->mu);
    long long in_flight = (long long)s->in_flight, conns = (long long)s->connections;
    pthread_mutex_unlock(&s->mu);
    dl_text_printf(out,
                   "# HELP dl_http_requests_in_flight Requests being answered.\n"
                   "# TYPE dl_http_requests_in_flight gauge\n"
                   "dl_http_requests_in_flight %lld\n"
                   "# HELP dl_http_open_connections Open client connections.\n"
                   "# TYPE dl_http_open_connections gauge\n"
                   "dl_http_open_connections %lld\n"
                   "# HELP dl_worker_queue_length Jobs waiting for a worker.\n"
                   "# TYPE dl_worker_queue_length gauge\n"
                   "dl_worker_queue_length %d\n",
                   in_flight, conns, srv_pool_queued(s->pool));
}

void srv_log_request(srv_server *s, const srv_req *r) {
    if (!s->opts.log) return;
    dl_text b = {0};
    dl_text_puts(&b, "{\"time\":");
    srv_json_time(&b, srv_wall_us());
    dl_text_printf(&b, ",\"id\":%llu,\"method\":", (unsigned long long)r->id);
    srv_json_cstr(&b, r->method);
    dl_text_puts(&b, ",\"path\":");
    srv_json_cstr(&b, r->url ? r->url : "");
    dl_text_puts(&b, ",\"route\":");
    srv_json_cstr(&b, r->route ? r->route->pattern : "");
    dl_text_puts(&b, ",\"token\":");
    if (r->authed)
        srv_json_cstr(&b, r->token.name);
    else
        dl_text_puts(&b, "null");
    dl_text_printf(&b, ",\"status\":%d,\"rows\":%lld,\"bytes\":%lld,\"ms\":%.3f", r->status,
                   (long long)r->rows_out, (long long)r->bytes_out,
                   (srv_now() - r->t_start) * 1000);
    if (r->error_detail[0]) {
        dl_text_puts(&b, ",\"error\":");
        srv_json_cstr(&b, r->error_detail);
    }
    dl_text_puts(&b, "}\n");
    srv_log_line(s, &b);
}

void srv_log_line(srv_server *s, dl_text *line) {
    if (line->status == DL_OK && s->opts.log) {
        pthread_mutex_lock(&s->log_mu);
        fwrite(line->data, 1, line->len, s->opts.log);
        fflush(s->opts.log);
        pthread_mutex_unlock(&s->log_mu);
    }
    dl_text_free(line);
}
