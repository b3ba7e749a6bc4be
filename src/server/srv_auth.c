/*
** srv_auth.c -- who may do what: the bearer token of each request is
** checked against the catalog (dl_token_check: constant-time hash compare,
** expiry, revocation), then the route's scope, the token's dataset glob and
** a per-token rate limit (token bucket; 429 with Retry-After).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "srv_internal.h"

#define RATE_SLOTS 1024

typedef struct rate_slot {
    int64_t token_id; /* 0 = free */
    double tokens;
    double last; /* monotonic seconds of the last refill */
} rate_slot;

struct srv_rate {
    pthread_mutex_t mu;
    rate_slot slots[RATE_SLOTS];
};

int srv_rate_new(srv_rate **out) {
    srv_rate *r = calloc(1, sizeof *r);
    if (!r) return DL_ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return DL_OK;
}

void srv_rate_free(srv_rate *r) {
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Takes one request from the token's bucket; false (and the seconds until
** the next one) when it is empty. */
static bool rate_take(srv_server *s, int64_t token_id, double *retry_after) {
    double rate = s->opts.rate_per_token, burst = s->opts.rate_burst;
    if (rate <= 0) return true;
    if (burst < 1) burst = 1;
    srv_rate *r = s->rates;
    double now = srv_now();
    pthread_mutex_lock(&r->mu);
    rate_slot *slot = NULL, *oldest = &r->slots[0];
    size_t h = (size_t)token_id % RATE_SLOTS;
    for (size_t k = 0; k < RATE_SLOTS && !slot; k++) { /* linear probing from the hash */
        rate_slot *c = &r->slots[(h + k) % RATE_SLOTS];
        if (c->token_id == token_id)
            slot = c;
        else if (c->token_id == 0) {
            slot = c;
            slot->token_id = token_id;
            slot->tokens = burst;
            slot->last = now;
        } else if (c->last < oldest->last)
            oldest = c;
    }
    if (!slot) { /* table full: recycle the longest idle bucket */
        slot = oldest;
        slot->token_id = token_id;
        slot->tokens = burst;
        slot->last = now;
    }
    slot->tokens = fmin(burst, slot->tokens + (now - slot->last) * rate);
    slot->last = now;
    bool ok = slot->tokens >= 1;
    if (ok)
        slot->tokens -= 1;
    else
        *retry_after = (1 - slot->tokens) / rate;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool srv_token_allows(const srv_req *r, const char *dataset) {
    return !r->authed || dl_token_allows(&r->token, dataset);
}

bool srv_authorize(srv_req *r, int *mhd_result) {
    srv_server *s = r->srv;
    const srv_route *route = r->route;
    if (route->scope == SRV_SCOPE_NONE || !s->auth) return true;
    char msg[1024];
    const char *auth =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t len = 0;
    const char *token = srv_bearer_token(auth, &len);
    if (!token) {
        *mhd_result =
            srv_reply_problem(r, 401,
                              auth ? "malformed Authorization header (want: Bearer TOKEN)"
                                   : "this route needs a token: send Authorization: Bearer TOKEN");
        return false;
    }
    dl_error err = {0};
    dl_lake *lake = NULL;
    int rc = srv_lake_acquire(s, &lake, &err);
    if (rc == DL_OK) rc = dl_token_check(lake, token, len, srv_wall_us(), &r->token, &err);
    srv_lake_release(s, lake);
    if (rc == DL_ENOTFOUND || rc == DL_EINVAL) {
        *mhd_result = srv_reply_problem(r, 401, err.message);
        return false;
    }
    if (rc != DL_OK) {
        *mhd_result = srv_reply_error(r, &err);
        return false;
    }
    r->authed = true;
    if ((int)r->token.scope < (int)route->scope) {
        snprintf(msg, sizeof msg, "token '%s' has scope %s; %s %s needs scope %s", r->token.name,
                 dl_token_scope_name(r->token.scope), route->method, route->pattern,
                 dl_token_scope_name((dl_token_scope)route->scope));
        *mhd_result = srv_reply_problem(r, 403, msg);
        return false;
    }
    if (route->dataset_scoped && !dl_token_allows(&r->token, r->dataset)) {
        snprintf(msg, sizeof msg, "token '%s' may not access dataset %s (it is limited to %s)",
                 r->token.name, r->dataset, r->token.datasets);
        *mhd_result = srv_reply_problem(r, 403, msg);
        return false;
    }
    double retry = 1;
    if (!rate_take(s, r->token.id, &retry)) {
        snprintf(msg, sizeof msg,
                 "token '%s' is over its rate limit of %.0f requests per second (retry in %.2f s)",
                 r->token.name, s->opts.rate_per_token, retry);
        *mhd_result = srv_reply_problem(r, 429, msg);
        return false;
    }
    return true;
}
