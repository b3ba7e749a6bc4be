/*
** test_threads.c -- the documented threading contract of dl_lake: one
** thread at a time per handle, any number of handles in parallel, and a
** handle may move between threads (a pool, as the data server keeps).
** A writer commits one day at a time while readers, borrowing handles from
** a shared pool, query and list concurrently; every read must see whole
** committed days only, never fewer rows than before.  Run under ASan in
** the suite (build/asan/dl_tests).
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "dl_test.h"

#define TH_DAYS    6
#define TH_READERS 3
#define TH_ROUNDS  25
#define TH_POOL    2
#define DAY_ROWS   1440
#define MINUTE_US  60000000LL

static const char *const th_dataset = "TEST/SPOT/THREADS/raw/1m";

typedef struct th_pool {
    pthread_mutex_t mu;
    dl_lake *free_handles[TH_POOL];
    int num_free;
    char root[512];
    atomic_int failures;
    atomic_int writer_done;
} th_pool;

static void th_fail(th_pool *p, const char *what, const dl_error *err) {
    fprintf(stderr, "  threads: %s: %s\n", what, err ? err->message : "");
    atomic_fetch_add(&p->failures, 1);
}

static dl_lake *pool_acquire(th_pool *p) {
    dl_lake *lake = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->num_free) lake = p->free_handles[--p->num_free];
    pthread_mutex_unlock(&p->mu);
    dl_error err;
    if (!lake && dl_lake_open(p->root, true, &lake, &err) != DL_OK) th_fail(p, "open", &err);
    return lake;
}

static void pool_release(th_pool *p, dl_lake *lake) {
    pthread_mutex_lock(&p->mu);
    if (p->num_free < TH_POOL) {
        p->free_handles[p->num_free++] = lake;
        lake = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    dl_lake_close(lake);
}

static int day_table(dl_table *t, int day, dl_error *err) {
    dl_schema s;
    dl_schema_init(&s);
    int rc = dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, err);
    if (rc == DL_OK) rc = dl_schema_add(&s, "close", DL_TYPE_DOUBLE, false, err);
    if (rc == DL_OK) rc = dl_table_init(t, &s, err);
    dl_schema_free(&s);
    int64_t t0 = 1704067200000000LL + (int64_t)day * DAY_ROWS * MINUTE_US;
    for (int i = 0; rc == DL_OK && i < DAY_ROWS; i++) {
        rc = dl_column_append_i64(&t->columns[0], t0 + i * MINUTE_US, err);
        if (rc == DL_OK) rc = dl_column_append_f64(&t->columns[1], 1.0, err);
    }
    return rc == DL_OK ? dl_table_seal(t, err) : rc;
}

static void *writer_main(void *arg) {
    th_pool *p = arg;
    dl_error err;
    dl_lake *lake = NULL;
    if (dl_lake_open(p->root, false, &lake, &err) != DL_OK) th_fail(p, "writer open", &err);
    for (int d = 1; lake && d < TH_DAYS; d++) {
        dl_table t = {0};
        dl_lake_write_options o;
        dl_lake_write_options_default(&o);
        o.durable = false;
        o.threads = 1;
        if (day_table(&t, d, &err) != DL_OK || dl_lake_write(lake, th_dataset, &t, &o, NULL, &err))
            th_fail(p, "write", &err);
        dl_table_free(&t);
    }
    dl_lake_close(lake);
    atomic_store(&p->writer_done, 1);
    return NULL;
}

/* Rows of the dataset as one query sees them (-1 on error). */
static int64_t count_rows(th_pool *p, dl_lake *lake) {
    dl_error err;
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = &th_dataset;
    spec.num_datasets = 1;
    spec.threads = 1;
    dl_query *q = NULL;
    dl_table batch = {0};
    int64_t rows = 0;
    if (dl_query_open(lake, &spec, &q, &err) != DL_OK ||
        dl_table_init(&batch, dl_query_schema(q), &err) != DL_OK) {
        th_fail(p, "query", &err);
        rows = -1;
    }
    while (rows >= 0) {
        if (dl_query_next(q, &batch, &err) != DL_OK) {
            th_fail(p, "query next", &err);
            rows = -1;
        } else if (batch.num_rows == 0) {
            break;
        } else {
            rows += batch.num_rows;
        }
    }
    dl_table_free(&batch);
    dl_query_close(q);
    return rows;
}

static void *reader_main(void *arg) {
    th_pool *p = arg;
    int64_t seen = 0;
    for (int r = 0; r < TH_ROUNDS || !atomic_load(&p->writer_done); r++) {
        dl_lake *lake = pool_acquire(p);
        if (!lake) break;
        int64_t rows = count_rows(p, lake);
        dl_dataset_info *items = NULL;
        int64_t n = 0;
        dl_error err;
        if (dl_lake_datasets(lake, &items, &n, &err) != DL_OK || n != 1)
            th_fail(p, "datasets", &err);
        dl_free(items);
        pool_release(p, lake);
        if (rows < 0) break;
        if (rows % DAY_ROWS != 0 || rows < seen) {
            fprintf(stderr, "  threads: a read saw %lld rows after %lld\n", (long long)rows,
                    (long long)seen);
            atomic_fetch_add(&p->failures, 1);
        }
        seen = rows;
    }
    return NULL;
}

DL_TEST(lake_handles_across_threads) {
    th_pool p;
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.mu, NULL);
    dl_lake *lake = dl_test_fresh_lake("lake");
    CHECK(lake != NULL);
    if (!lake) return;
    snprintf(p.root, sizeof p.root, "%s", dl_lake_root(lake));
    dl_error err;
    dl_table t = {0};
    CHECK_OK(day_table(&t, 0, &err), &err);
    CHECK_OK(dl_lake_write(lake, th_dataset, &t, NULL, NULL, &err), &err);
    dl_table_free(&t);
    dl_lake_close(lake);

    pthread_t writer, readers[TH_READERS];
    CHECK(pthread_create(&writer, NULL, writer_main, &p) == 0);
    for (int i = 0; i < TH_READERS; i++)
        CHECK(pthread_create(&readers[i], NULL, reader_main, &p) == 0);
    pthread_join(writer, NULL);
    for (int i = 0; i < TH_READERS; i++) pthread_join(readers[i], NULL);
    CHECK_EQ_INT(atomic_load(&p.failures), 0);

    lake = pool_acquire(&p);
    CHECK_EQ_INT(count_rows(&p, lake), (int64_t)TH_DAYS * DAY_ROWS);
    pool_release(&p, lake);
    for (int i = 0; i < p.num_free; i++) dl_lake_close(p.free_handles[i]);
    pthread_mutex_destroy(&p.mu);
}
