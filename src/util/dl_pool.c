/*
** dl_pool.c -- the library's thread pool: a fixed set of worker threads
** and a FIFO of jobs, created once per process (or lake) and handed to
** queries, joins and resamples through their options, so that a process
** serving many requests does not start threads per call.
**
** Jobs must not wait for other jobs (a query submits one job per day file
** only when its read-ahead budget allows, and a finished job submits the
** next), so any number of users can share the threads without deadlock.
*/
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/dl_internal.h"
#include "util/dl_pool.h"

#define MAX_POOL_THREADS 256

typedef struct pool_job {
    void (*fn)(void *);
    void *arg;
    struct pool_job *next;
} pool_job;

struct dl_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or stop */
    pool_job *head, *tail;
    bool stop;
    int num_threads;
    pthread_t *threads;
};

static void *pool_main(void *arg) {
    dl_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop) pthread_cond_wait(&p->work, &p->lock);
        pool_job *j = p->head;
        if (!j) break; /* stop, and the queue is drained */
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int dl_pool_create(int threads, dl_pool **out, dl_error *err) {
    if (!out) return dl_error_set(err, DL_EINVAL, "pool: no output pointer");
    *out = NULL;
    if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    if (threads > MAX_POOL_THREADS) threads = MAX_POOL_THREADS;
    dl_pool *p = calloc(1, sizeof *p);
    if (p) p->threads = calloc((size_t)threads, sizeof(pthread_t));
    if (!p || !p->threads) {
        free(p);
        return dl_error_set(err, DL_ENOMEM, "pool: out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) break;
        p->num_threads++;
    }
    if (p->num_threads == 0) {
        dl_pool_destroy(p);
        return dl_error_set(err, DL_ENOMEM, "pool: cannot start any thread");
    }
    *out = p;
    return DL_OK;
}

int dl_pool_threads(const dl_pool *p) {
    return p ? p->num_threads : 0;
}

int dl_pool_submit(dl_pool *p, void (*fn)(void *), void *arg) {
    pool_job *j = malloc(sizeof *j);
    if (!j) return DL_ENOMEM;
    *j = (pool_job){fn, arg, NULL};
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    return DL_OK;
}

void dl_pool_destroy(dl_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->num_threads; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    free(p);
}
