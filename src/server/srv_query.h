/*
** srv_query.h -- pieces of GET /v1/query shared by its files: the parsed
** request (plan), the row source (query, optional resample, projection)
** and the row renderings.
*/
#ifndef DL_SRV_QUERY_H
#define DL_SRV_QUERY_H

#include "srv_internal.h"

typedef struct query_plan {
    srv_format fmt;
    srv_encoding enc;
    char **names; /* the datasets, a glob expanded here (sorted, checked against the token) */
    int num_names;
    bool pattern;      /* the dataset parameter was a glob */
    int symbol_column; /* passed to dl_query_spec */
    int64_t from, to;
    int64_t as_of_version, as_of_time;
    char *columns_copy; /* storage of columns[] */
    const char **columns;
    int num_columns;
    char *where;
    int64_t limit, tail; /* -1 = unset */
    int64_t bucket_us;   /* resample period (0 = none) */
    bool ticks;          /* the dataset holds trades: bars from ticks */
    bool paged;          /* answered as one bounded page (json, limit, tail, cursor) */
    bool has_cursor;
    srv_cursor cursor;
    uint64_t query_hash;
    int threads;
} query_plan;

void query_plan_free(query_plan *p);

/* Rows of a plan, after resampling and projection. */
typedef struct row_source {
    srv_server *srv;
    dl_lake *lake;
    dl_query *q;
    dl_resampler *rs;
    dl_tick_bars *tb;
    dl_table in;   /* query batch (resampling only) */
    dl_table bars; /* resampler output */
    bool has_in, has_bars, query_done, finished;
    dl_schema schema; /* of the rows handed out */
    int *proj;        /* columns of `bars` handed out, in order */
    int num_proj;
} row_source;

/* Opens the rows of plan at pinned version (0 = none) or pinned time (0 =
** none), starting at ts_from; extra_ts asks for a trailing ts column
** (keyset paging) when the projection lacks it. */
int row_source_open(row_source *s, srv_server *srv, const query_plan *p, int64_t pin_version,
                    int64_t pin_time, int64_t ts_from, bool extra_ts, dl_error *err);
/* Fills out (dl_table_init'ed with s->schema) with the next rows; 0 rows = end. */
int row_source_next(row_source *s, dl_table *out, dl_error *err);
void row_source_close(row_source *s);

#endif /* DL_SRV_QUERY_H */
