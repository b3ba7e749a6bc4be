/*
** srv_pool.c -- the server's bounded worker pool: query pages, streamed
** bodies and write jobs run here, never on libmicrohttpd's event threads.
** The queue is bounded so that overload is answered with 503 instead of
** growing memory; workers sleep on a condition variable when idle.
*/
#include <stdlib.h>

#include "srv_internal.h"

typedef struct job {
    srv_job_fn fn;
    void *arg;
} job;

struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t *threads;
    int num_threads;
    job *ring;
    int cap, head, count;
    int admit; /* new requests are refused past this many queued jobs */
    bool stopping;
};

static void *worker_main(void *arg) {
    srv_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->count == 0 && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
        if (p->count == 0) break; /* stopping and drained */
        job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int srv_pool_start(int workers, int max_queue, int reserve, srv_pool **out, dl_error *err) {
    srv_pool *p = calloc(1, sizeof *p);
    if (!p) return dl_error_set(err, DL_ENOMEM, "out of memory");
    p->admit = max_queue;
    p->cap = max_queue + reserve;
    p->ring = calloc((size_t)p->cap, sizeof *p->ring);
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!p->ring || !p->threads) {
        srv_pool_stop(p);
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    }
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            srv_pool_stop(p);
            return dl_error_set(err, DL_EIO, "cannot start worker thread %d", i);
        }
        p->num_threads++;
    }
    *out = p;
    return DL_OK;
}

bool srv_pool_submit(srv_pool *p, srv_job_fn fn, void *arg, bool admitted) {
    pthread_mutex_lock(&p->mu);
    bool ok = p->count < (admitted ? p->cap : p->admit) && !p->stopping;
    if (ok) {
        p->ring[(p->head + p->count) % p->cap] = (job){fn, arg};
        p->count++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

int srv_pool_queued(srv_pool *p) {
    pthread_mutex_lock(&p->mu);
    int n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void srv_pool_stop(srv_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->num_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p->ring);
    free(p);
}
