/*
** dl_pool.h -- submitting jobs to the library's thread pool (dl_pool.c;
** creation and destruction are public in datalake.h).  Not public.
*/
#ifndef DL_POOL_H
#define DL_POOL_H

#include "datalake.h"

/* Queues fn(arg) to run on one of the pool's threads; DL_ENOMEM when the
** job cannot be queued.  A job must not wait for another job. */
int dl_pool_submit(dl_pool *p, void (*fn)(void *), void *arg);

#endif
