/*
** dl_arrow_stream.c -- the Arrow C Stream Interface (CStreamInterface.rst):
** any producer of dl_table batches (a query, a join, a Parquet file) as an
** ArrowArrayStream, the import of Arrow C Data arrays back into dl_tables,
** and the Arrow IPC stream written from an ArrowArrayStream.  This is the one
** export path of the library: the data server, the Python client (ctypes)
** and external consumers all read results through it.
**
** Semantics (the spec's):
**   - get_schema exports a fresh copy of the schema each call;
**   - get_next hands out a struct array the consumer owns (it has its own
**     release and stays valid after the stream is released); end of stream
**     is an array whose release is NULL;
**   - an error is sticky: get_next returns an errno value and
**     get_last_error the message (valid until the next call or release);
**   - release closes the producer (a query stops its threads) whatever was
**     consumed: releasing early is the normal way to stop reading.
** String/binary columns are always Utf8/Binary (int32 offsets) so the
** schema holds for every batch: a batch holding more string bytes than
** that is handed out as several arrays.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/dl_arrow_internal.h"
#include "util/dl_internal.h"

/* ------------------------------------------------------------------ */
/* Producer -> ArrowArrayStream                                        */
/* ------------------------------------------------------------------ */

typedef struct stream_state {
    dl_schema schema;
    dl_batch_source src;
    bool src_open;
    dl_table batch;
    int64_t batch_at; /* rows of batch already handed out */
    int64_t max_var_bytes;
    int failed; /* dl_status of the sticky error, DL_OK if none */
    dl_error err;
} stream_state;

int dl_status_to_errno(int status) {
    switch (status) {
    case DL_OK:
        return 0;
    case DL_EINVAL:
        return EINVAL;
    case DL_ENOMEM:
        return ENOMEM;
    case DL_ENOTFOUND:
        return ENOENT;
    case DL_EUNSUPPORTED:
        return ENOTSUP;
    case DL_ECONFLICT:
        return EBUSY;
    case DL_ECORRUPT:
        return EBADMSG;
    default:
        return EIO;
    }
}

static stream_state *state_of(struct ArrowArrayStream *s) {
    return s->private_data;
}

static void close_source(stream_state *st) {
    if (st->src_open && st->src.close) st->src.close(st->src.self);
    st->src_open = false;
}

static int stream_fail(stream_state *st, int rc) {
    st->failed = rc;
    close_source(st); /* nothing more will be read: free the producer now */
    return dl_status_to_errno(rc);
}

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
    stream_state *st = state_of(s);
    dl_error err;
    int rc = dl_arrow_export_schema(&st->schema, out, &err);
    if (rc == DL_OK) return 0;
    st->err = err; /* not sticky: the data may still be read */
    return dl_status_to_errno(rc);
}

/* Rows from `at` whose string bytes fit one int32-offset array (>= 1 row). */
static int64_t rows_that_fit(const dl_table *t, int64_t at, int64_t max_bytes) {
    int64_t n = t->num_rows - at;
    for (int c = 0; c < t->schema.num_fields; c++) {
        const dl_column *col = &t->columns[c];
        if (!col->offsets || dl_arrow_var_bytes(col, at, n) <= max_bytes) continue;
        int64_t lo = 1, hi = n; /* bytes grow with rows: largest count that fits */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo + 1) / 2;
            if (dl_arrow_var_bytes(col, at, mid) <= max_bytes)
                lo = mid;
            else
                hi = mid - 1;
        }
        n = lo;
    }
    return n;
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
    stream_state *st = state_of(s);
    memset(out, 0, sizeof *out); /* release NULL: end of stream */
    if (st->failed != DL_OK) return dl_status_to_errno(st->failed);
    if (st->batch_at >= st->batch.num_rows) {
        if (!st->src_open) return 0;
        for (int c = 0; c < st->batch.schema.num_fields; c++)
            dl_column_clear(&st->batch.columns[c]);
        st->batch.num_rows = 0;
        st->batch_at = 0;
        int rc = st->src.next(st->src.self, &st->batch, &st->err);
        if (rc != DL_OK) return stream_fail(st, rc);
        if (st->batch.num_rows == 0) {
            close_source(st); /* the end: stop the producer's threads now */
            return 0;
        }
    }
    int64_t count = rows_that_fit(&st->batch, st->batch_at, st->max_var_bytes);
    for (int c = 0; c < st->batch.schema.num_fields; c++)
        if (st->batch.columns[c].offsets &&
            dl_arrow_var_bytes(&st->batch.columns[c], st->batch_at, count) > st->max_var_bytes)
            return stream_fail(st, dl_error_set(&st->err, DL_EUNSUPPORTED,
                                                "arrow stream: a value of column %s is larger "
                                                "than an Arrow Utf8/Binary array can hold",
                                                st->batch.schema.fields[c].name));
    int rc = dl_arrow_export_rows(&st->batch, st->batch_at, count, DL_ARROW_MAX_SMALL_VAR_BYTES,
                                  NULL, out, &st->err);
    if (rc != DL_OK) return stream_fail(st, rc);
    st->batch_at += count;
    return 0;
}

static const char *stream_get_last_error(struct ArrowArrayStream *s) {
    stream_state *st = state_of(s);
    return st->err.message[0] ? st->err.message : NULL;
}

static void stream_release(struct ArrowArrayStream *s) {
    stream_state *st = state_of(s);
    close_source(st);
    dl_table_free(&st->batch);
    dl_schema_free(&st->schema);
    free(st);
    s->release = NULL;
    s->private_data = NULL;
}

int dl_arrow_stream_from_source(const dl_schema *schema, const dl_batch_source *src,
                                struct ArrowArrayStream *out, dl_error *err) {
    int rc = DL_OK;
    memset(out, 0, sizeof *out);
    stream_state *st = calloc(1, sizeof *st);
    if (!st) return dl_error_set(err, DL_ENOMEM, "arrow stream: out of memory");
    /* the schema must map to Arrow before any consumer sees the stream */
    for (int i = 0; i < schema->num_fields; i++) {
        dl_arrow_type type;
        DL_TRY(dl_arrow_type_of(&schema->fields[i], false, &type, err));
    }
    DL_TRY(dl_schema_copy(&st->schema, schema, err));
    DL_TRY(dl_table_init(&st->batch, schema, err));
    st->src = *src;
    st->src_open = true;
    st->max_var_bytes = DL_ARROW_MAX_SMALL_VAR_BYTES;
    *out = (struct ArrowArrayStream){.get_schema = stream_get_schema,
                                     .get_next = stream_get_next,
                                     .get_last_error = stream_get_last_error,
                                     .release = stream_release,
                                     .private_data = st};
    return DL_OK;
cleanup:
    dl_table_free(&st->batch);
    dl_schema_free(&st->schema);
    free(st);
    return rc;
}

void dl_arrow_stream_set_max_var_bytes(struct ArrowArrayStream *s, int64_t max_bytes) {
    state_of(s)->max_var_bytes = max_bytes;
}

int dl_arrow_stream_from_batches(const dl_schema *schema, dl_batch_next_fn next,
                                 dl_batch_close_fn close, void *ctx, struct ArrowArrayStream *out,
                                 dl_error *err) {
    if (!schema || !next || !out)
        return dl_error_set(err, DL_EINVAL, "arrow stream: no schema, producer or output");
    dl_batch_source src = {ctx, next, close};
    return dl_arrow_stream_from_source(schema, &src, out, err);
}

/* ---- a Parquet file, one batch per row group ---- */

typedef struct parquet_source {
    dl_parquet_reader *r;
    int *columns; /* file column per stream column */
    int num_columns;
    int next_group;
} parquet_source;

static int parquet_next(void *self, dl_table *batch, dl_error *err) {
    parquet_source *p = self;
    while (p->next_group < dl_parquet_num_row_groups(p->r)) {
        int g = p->next_group++;
        for (int c = 0; c < p->num_columns; c++) {
            int rc = dl_parquet_read_column(p->r, g, p->columns[c], &batch->columns[c], err);
            if (rc != DL_OK) return rc;
        }
        int rc = dl_table_seal(batch, err);
        if (rc != DL_OK || batch->num_rows > 0) return rc;
    }
    return DL_OK;
}

static void parquet_close(void *self) {
    parquet_source *p = self;
    dl_parquet_close(p->r);
    free(p->columns);
    free(p);
}

int dl_parquet_arrow_stream(dl_parquet_reader *r, const int *columns, int num_columns,
                            struct ArrowArrayStream *out, dl_error *err) {
    int rc = DL_OK;
    if (out) memset(out, 0, sizeof *out);
    if (!r || !out || (num_columns > 0 && !columns) || num_columns < 0)
        return dl_error_set(err, DL_EINVAL, "arrow stream: no reader, output or column list");
    const dl_schema *fs = dl_parquet_schema(r);
    dl_schema schema;
    dl_schema_init(&schema);
    parquet_source *p = calloc(1, sizeof *p);
    int n = num_columns > 0 ? num_columns : fs->num_fields;
    if (p) p->columns = malloc(sizeof(int) * (size_t)(n + 1));
    if (!p || !p->columns) DL_FAIL(err, DL_ENOMEM, "arrow stream: out of memory");
    for (int c = 0; c < n; c++) {
        int fc = num_columns > 0 ? columns[c] : c;
        if (fc < 0 || fc >= fs->num_fields)
            DL_FAIL(err, DL_EINVAL, "arrow stream: column %d does not exist (the file has %d)", fc,
                    fs->num_fields);
        DL_TRY(dl_schema_add_field(&schema, &fs->fields[fc], err));
        p->columns[c] = fc;
    }
    p->num_columns = n;
    p->r = r;
    dl_batch_source src = {p, parquet_next, parquet_close};
    DL_TRY(dl_arrow_stream_from_source(&schema, &src, out, err));
    p = NULL;
cleanup:
    if (p) {
        free(p->columns);
        free(p);
    }
    dl_schema_free(&schema);
    return rc;
}
