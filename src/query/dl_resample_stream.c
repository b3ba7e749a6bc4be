/*
** dl_resample_stream.c -- a query's rows resampled to coarser OHLCV bars on
** the fly, handed out as an Arrow C stream: the read-time resampling that
** the Python client and other embedders call (the persisted agg datasets are
** dl_lake_resample's job).  Batches of the query go through one streaming
** dl_resampler; each produced batch holds the bars completed so far.
*/
#include <stdlib.h>

#include "datalake.h"

typedef struct resample_stream {
    dl_query *query;
    dl_resampler *resampler;
    dl_table input; /* one batch of the query, reused */
    bool input_ready;
    bool finished; /* the query is exhausted and the last bar flushed */
} resample_stream;

static void resample_stream_close(void *ctx) {
    resample_stream *s = ctx;
    dl_resampler_free(s->resampler);
    if (s->input_ready) dl_table_free(&s->input);
    dl_query_close(s->query);
    free(s);
}

/* Pulls query batches until some bars are complete (or the input ends). */
static int resample_stream_next(void *ctx, dl_table *bars, dl_error *err) {
    resample_stream *s = ctx;
    while (!s->finished && bars->num_rows == 0) {
        int rc = dl_query_next(s->query, &s->input, err);
        if (rc != DL_OK) return rc;
        if (s->input.num_rows == 0) {
            s->finished = true;
            return dl_resampler_finish(s->resampler, bars, err);
        }
        rc = dl_resampler_push(s->resampler, &s->input, bars, err);
        if (rc != DL_OK) return rc;
    }
    return DL_OK;
}

int dl_query_resample_arrow_stream(dl_query *q, int64_t bucket_us, struct ArrowArrayStream *out,
                                   dl_error *err) {
    if (!q || !out) return dl_error_set(err, DL_EINVAL, "resample stream: missing argument");
    resample_stream *s = calloc(1, sizeof *s);
    if (!s) return dl_error_set(err, DL_ENOMEM, "resample stream: out of memory");
    int rc = dl_resampler_open(dl_query_schema(q), bucket_us, &s->resampler, err);
    if (rc == DL_OK) rc = dl_table_init(&s->input, dl_query_schema(q), err);
    if (rc == DL_OK) s->input_ready = true;
    if (rc == DL_OK)
        rc = dl_arrow_stream_from_batches(dl_resampler_schema(s->resampler), resample_stream_next,
                                          resample_stream_close, s, out, err);
    if (rc != DL_OK) {
        /* q stays the caller's on failure */
        dl_resampler_free(s->resampler);
        if (s->input_ready) dl_table_free(&s->input);
        free(s);
        return rc;
    }
    s->query = q;
    return DL_OK;
}
