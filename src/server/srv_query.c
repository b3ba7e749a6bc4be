/*
** srv_query.c -- GET /v1/query: parameters to a plan (datasets and globs
** checked against the token, time range, projection, filter, as-of,
** limit/tail, resample period, format), then one of three answers:
**
**   stream  csv / ndjson / arrow without limit, tail or cursor: a producer
**           on the worker pool renders batches into the bounded stream
**           buffer (srv_stream.c) as the client reads;
**   page    json (always), or any format with limit / tail / cursor: one
**           bounded page (at most max_page_rows rows) computed by a job,
**           with a signed cursor to the next page in the body (json), the
**           Link header and X-Next-Cursor;
**   file    parquet: written to an unlinked temporary file by a job and
**           sent from its descriptor (Content-Length known).
**
** Paging pins what the first page read: one dataset by its version (keyset
** on ts + rows already served at that ts, so the next page starts exactly
** after the last row), a glob by the time of the first page (as_of) and
** the count of rows served.  An ingest between pages cannot shift a page.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "srv_query.h"

#define STREAM_TEXT_ROWS  4096  /* rows rendered per producer step (csv, ndjson) */
#define STREAM_ARROW_ROWS 65536 /* rows per Arrow record batch */

/* ------------------------------------------------------------------ */
/* Plan                                                                 */
/* ------------------------------------------------------------------ */

void query_plan_free(query_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->num_names; i++) free(p->names[i]);
    free(p->names);
    free(p->columns_copy);
    free(p->columns);
    free(p->where);
    free(p);
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    if (!s) s = "\x01";
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL; /* separator: "ab"+"c" != "a"+"bc" */
}

/* The parameters a cursor is bound to (not format or page size). */
static uint64_t plan_hash(const srv_req *r) {
    static const char *const keys[] = {"dataset",       "from",  "to",     "columns", "where",
                                       "as_of_version", "as_of", "period", "tail"};
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        h = fnv1a(h, srv_param(&r->params, keys[i]));
    return h;
}

static bool is_pattern(const char *s) {
    return strpbrk(s, "*?[") != NULL;
}

static int add_name(query_plan *p, const char *name, dl_error *err) {
    char **grown = realloc(p->names, sizeof *grown * (size_t)(p->num_names + 1));
    if (!grown) return dl_error_set(err, DL_ENOMEM, "out of memory");
    p->names = grown;
    if (!(p->names[p->num_names] = strdup(name)))
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    p->num_names++;
    return DL_OK;
}

/* Expands the dataset parameter (a name or a glob, matched as dl query
** matches it) and checks every dataset against the token: 403 (status in
** *status) when one is outside its glob. */
static int resolve_datasets(srv_req *r, query_plan *p, dl_lake *lake, int *status, dl_error *err) {
    const char *ds = srv_param(&r->params, "dataset");
    if (!ds || !*ds) return dl_error_set(err, DL_EINVAL, "query: the dataset parameter is missing");
    int rc = DL_OK;
    if (!is_pattern(ds)) {
        dl_dataset_id id;
        char canon[DL_DATASET_NAME_MAX];
        if ((rc = dl_dataset_parse(ds, &id, err)) != DL_OK) return rc;
        dl_dataset_format(&id, canon, sizeof canon);
        if ((rc = add_name(p, canon, err)) != DL_OK) return rc;
        p->ticks = strcmp(id.type, "ticks") == 0;
    } else {
        p->pattern = true;
        char norm[4 * DL_DATASET_NAME_MAX];
        snprintf(norm, sizeof norm, "%s", ds);
        for (int k = 0, component = 0; norm[k] && component < 3; k++) { /* as dl_query does */
            if (norm[k] == '/')
                component++;
            else if (norm[k] >= 'a' && norm[k] <= 'z')
                norm[k] = (char)(norm[k] - 32);
        }
        dl_dataset_info *all = NULL;
        int64_t n = 0;
        if ((rc = dl_lake_datasets(lake, &all, &n, err)) != DL_OK) return rc;
        for (int64_t i = 0; i < n && rc == DL_OK; i++)
            if (dl_dataset_match(ds, all[i].name)) rc = add_name(p, all[i].name, err);
        free(all);
        if (rc != DL_OK) return rc;
        if (p->num_names == 0)
            return dl_error_set(err, DL_ENOTFOUND, "no dataset matches '%.200s'", ds);
        p->symbol_column = p->num_names > 1 ? 1 : 0;
    }
    for (int i = 0; i < p->num_names; i++)
        if (!srv_token_allows(r, p->names[i])) {
            *status = 403;
            return dl_error_set(err, DL_EINVAL,
                                "token '%s' may not read dataset %s (it is limited to %s)",
                                r->token.name, p->names[i], r->token.datasets);
        }
    return DL_OK;
}

/* Splits "a,b,c" (empty items skipped). */
static int split_columns(query_plan *p, const char *text, dl_error *err) {
    size_t len = strlen(text);
    p->columns_copy = malloc(len + 1);
    p->columns = malloc(sizeof *p->columns * (len / 2 + 2));
    if (!p->columns_copy || !p->columns) return dl_error_set(err, DL_ENOMEM, "out of memory");
    memcpy(p->columns_copy, text, len + 1);
    char *save = NULL;
    for (char *tok = strtok_r(p->columns_copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        p->columns[p->num_columns++] = tok;
    if (p->num_columns == 0) return dl_error_set(err, DL_EINVAL, "columns lists no column");
    return DL_OK;
}

static int parse_plan(srv_req *r, query_plan *p, dl_lake *lake, int *status, dl_error *err) {
    srv_server *s = r->srv;
    const dl_server_options *o = &s->opts;
    int rc;
    p->from = INT64_MIN;
    p->to = INT64_MAX;
    p->limit = p->tail = -1;
    p->symbol_column = -1;
    p->threads = o->query_threads;
    p->query_hash = plan_hash(r);
    const char *accept =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if ((rc = srv_format_negotiate(srv_param(&r->params, "format"), accept, &p->fmt, err)) !=
        DL_OK) {
        *status = rc == DL_EUNSUPPORTED ? 406 : 400;
        return rc;
    }
    p->enc = srv_encoding_negotiate(
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    if ((rc = srv_param_time(r, "from", &p->from, err)) != DL_OK ||
        (rc = srv_param_time(r, "to", &p->to, err)) != DL_OK ||
        (rc = srv_param_time(r, "as_of", &p->as_of_time, err)) != DL_OK ||
        (rc = srv_param_int(r, "as_of_version", 1, INT64_MAX, &p->as_of_version, err)) != DL_OK ||
        (rc = srv_param_int(r, "limit", 1, o->max_page_rows, &p->limit, err)) != DL_OK ||
        (rc = srv_param_int(r, "tail", 1, o->max_page_rows, &p->tail, err)) != DL_OK)
        return rc;
    if (p->limit >= 0 && p->tail >= 0)
        return dl_error_set(err, DL_EINVAL, "limit and tail exclude each other");
    if (p->as_of_version && p->as_of_time)
        return dl_error_set(err, DL_EINVAL, "as_of_version and as_of exclude each other");
    const char *v;
    if ((v = srv_param(&r->params, "columns")) && (rc = split_columns(p, v, err)) != DL_OK)
        return rc;
    if ((v = srv_param(&r->params, "where")) && *v && !(p->where = strdup(v)))
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    if ((rc = resolve_datasets(r, p, lake, status, err)) != DL_OK) return rc;
    if ((v = srv_param(&r->params, "period"))) {
        p->bucket_us = dl_dataset_period_us(v);
        if (p->bucket_us <= 0)
            return dl_error_set(err, DL_EINVAL,
                                "period '%.32s' is not a fixed interval (1m, 1h, 1d ...)", v);
        if (p->num_names != 1)
            return dl_error_set(err, DL_EINVAL, "period (resampling) needs exactly one dataset");
    }
    if ((v = srv_param(&r->params, "cursor"))) {
        if ((rc = srv_cursor_decode(v, s->cursor_key, &p->cursor, err)) != DL_OK) return rc;
        if (p->cursor.query_hash != p->query_hash)
            return dl_error_set(err, DL_EINVAL,
                                "cursor belongs to another query (dataset, range, columns, where, "
                                "as-of and period must stay the same between pages)");
        if (p->tail >= 0) return dl_error_set(err, DL_EINVAL, "tail pages have no cursor");
        if (p->fmt == SRV_FMT_PARQUET)
            return dl_error_set(err, DL_EINVAL, "cursor paging is for json, ndjson, csv and arrow");
        p->has_cursor = true;
    }
    p->paged = p->fmt == SRV_FMT_JSON || p->limit >= 0 || p->tail >= 0 || p->has_cursor;
    if (p->fmt == SRV_FMT_JSON && p->limit < 0 && p->tail < 0) p->limit = o->default_page_rows;
    return DL_OK;
}

/* ------------------------------------------------------------------ */
/* Row source                                                           */
/* ------------------------------------------------------------------ */

int row_source_open(row_source *s, srv_server *srv, const query_plan *p, int64_t pin_version,
                    int64_t pin_time, int64_t ts_from, bool extra_ts, dl_error *err) {
    memset(s, 0, sizeof *s);
    s->srv = srv;
    dl_schema_init(&s->schema);
    int rc = srv_lake_acquire(srv, &s->lake, err);
    if (rc != DL_OK) return rc;
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    spec.datasets = (const char *const *)p->names;
    spec.num_datasets = p->num_names;
    spec.ts_from = ts_from;
    spec.ts_to = p->to;
    spec.filter = p->where;
    spec.as_of_version = pin_version ? pin_version : p->as_of_version;
    spec.as_of_time = pin_time ? pin_time : p->as_of_time;
    if (spec.as_of_version) spec.as_of_time = 0;
    spec.threads = p->threads;
    spec.symbol_column = p->symbol_column;
    const char **cols = NULL;
    if (p->num_columns && !p->bucket_us) { /* projection by the query (resampling: below) */
        cols = malloc(sizeof *cols * (size_t)(p->num_columns + 1));
        if (!cols) return dl_error_set(err, DL_ENOMEM, "out of memory");
        bool has_ts = false;
        for (int i = 0; i < p->num_columns; i++) {
            cols[i] = p->columns[i];
            has_ts |= strcmp(p->columns[i], "ts") == 0;
        }
        spec.columns = cols;
        spec.num_columns = p->num_columns + (extra_ts && !has_ts);
        if (extra_ts && !has_ts) cols[p->num_columns] = "ts";
    }
    rc = dl_query_open(s->lake, &spec, &s->q, err);
    free(cols);
    if (rc != DL_OK) return rc;
    const dl_schema *qs = dl_query_schema(s->q);
    if (!p->bucket_us) return dl_schema_copy(&s->schema, qs, err);

    /* resampling: bars of the whole rows, then the projection */
    const dl_schema *bars;
    if (p->ticks) {
        if ((rc = dl_tick_bars_open(qs, p->bucket_us, &s->tb, err)) != DL_OK) return rc;
        bars = dl_tick_bars_schema(s->tb);
    } else {
        if ((rc = dl_resampler_open(qs, p->bucket_us, &s->rs, err)) != DL_OK) return rc;
        bars = dl_resampler_schema(s->rs);
    }
    if ((rc = dl_table_init(&s->in, qs, err)) != DL_OK) return rc;
    s->has_in = true;
    if ((rc = dl_table_init(&s->bars, bars, err)) != DL_OK) return rc;
    s->has_bars = true;
    int n = p->num_columns ? p->num_columns + 1 : bars->num_fields;
    s->proj = malloc(sizeof *s->proj * (size_t)n);
    if (!s->proj) return dl_error_set(err, DL_ENOMEM, "out of memory");
    bool has_ts = false;
    for (int i = 0; i < (p->num_columns ? p->num_columns : bars->num_fields); i++) {
        int k = p->num_columns ? dl_schema_find(bars, p->columns[i]) : i;
        if (k < 0)
            return dl_error_set(err, DL_ENOTFOUND,
                                "column '%.64s' is not among the resampled columns", p->columns[i]);
        has_ts |= strcmp(bars->fields[k].name, "ts") == 0;
        s->proj[s->num_proj++] = k;
    }
    if (extra_ts && !has_ts) s->proj[s->num_proj++] = dl_schema_find(bars, "ts");
    for (int i = 0; i < s->num_proj && rc == DL_OK; i++)
        rc = dl_schema_add_field(&s->schema, &bars->fields[s->proj[i]], err);
    return rc;
}

/* Moves the projected bar columns into out. */
static void hand_out_bars(row_source *s, dl_table *out) {
    for (int i = 0; i < s->num_proj; i++) {
        dl_column *src = &s->bars.columns[s->proj[i]];
        dl_column_free(&out->columns[i]);
        out->columns[i] = *src;
        dl_column_init(src, src->type, src->unit);
    }
    out->num_rows = s->bars.num_rows;
    for (int c = 0; c < s->bars.schema.num_fields; c++) dl_column_clear(&s->bars.columns[c]);
    s->bars.num_rows = 0;
}

int row_source_next(row_source *s, dl_table *out, dl_error *err) {
    if (!s->rs && !s->tb) return dl_query_next(s->q, out, err);
    for (int c = 0; c < out->schema.num_fields; c++) dl_column_clear(&out->columns[c]);
    out->num_rows = 0;
    while (!s->finished) {
        int rc;
        if (!s->query_done) {
            if ((rc = dl_query_next(s->q, &s->in, err)) != DL_OK) return rc;
            if (s->in.num_rows == 0) {
                s->query_done = true;
                rc = s->rs ? dl_resampler_finish(s->rs, &s->bars, err)
                           : dl_tick_bars_finish(s->tb, &s->bars, err);
                s->finished = true;
            } else {
                rc = s->rs ? dl_resampler_push(s->rs, &s->in, &s->bars, err)
                           : dl_tick_bars_push(s->tb, &s->in, &s->bars, err);
            }
            if (rc != DL_OK) return rc;
            if ((rc = dl_table_seal(&s->bars, err)) != DL_OK) return rc;
        }
        if (s->bars.num_rows > 0) {
            hand_out_bars(s, out);
            return DL_OK;
        }
    }
    return DL_OK;
}

void row_source_close(row_source *s) {
    dl_query_close(s->q);
    dl_resampler_free(s->rs);
    dl_tick_bars_free(s->tb);
    if (s->has_in) dl_table_free(&s->in);
    if (s->has_bars) dl_table_free(&s->bars);
    free(s->proj);
    dl_schema_free(&s->schema);
    srv_lake_release(s->srv, s->lake);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Arrow IPC into a buffer; the error marker                            */
/* ------------------------------------------------------------------ */

/* A dl_write_fn appending to the dl_text that *ctx points to. */
static int write_to_text(void *ctx, const void *data, size_t len) {
    dl_text *b = *(dl_text **)ctx;
    dl_text_put(b, data, len);
    return b->status != DL_OK ? -1 : 0;
}

static void put_u16(dl_text *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    dl_text_put(b, x, 2);
}
static void put_u32(dl_text *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    dl_text_put(b, x, 4);
}
static void put_fb_string(dl_text *b, const char *s, size_t n) {
    put_u32(b, (uint32_t)n);
    dl_text_put(b, s, n);
    dl_text_putc(b, '\0');
    while (b->len % 4) dl_text_putc(b, '\0');
}

/* The Arrow error marker: an IPC message with no header (type NONE) whose
** custom_metadata holds {"dl:error": message}.  Readers stop on it with an
** error instead of taking the batches before it for the whole result. */
static void arrow_error_marker(dl_text *out, const char *message) {
    dl_text fb = {0};
    size_t mlen = strlen(message) > 900 ? 900 : strlen(message);
    put_u32(&fb, 24);      /* 0: root -> Message table at 24 */
    put_u16(&fb, 14);      /* 4: Message vtable: size */
    put_u16(&fb, 12);      /*    table size */
    put_u16(&fb, 4);       /*    version */
    put_u16(&fb, 6);       /*    header_type */
    put_u16(&fb, 0);       /*    header (absent) */
    put_u16(&fb, 0);       /*    bodyLength (absent: 0) */
    put_u16(&fb, 8);       /*    custom_metadata */
    put_u16(&fb, 0);       /* 18: padding */
    put_u32(&fb, 0);       /* 20: padding */
    put_u32(&fb, 24 - 4);  /* 24: table: soffset to the vtable */
    put_u16(&fb, 4);       /* 28: version V5 */
    dl_text_putc(&fb, 0);  /* 30: header_type NONE */
    dl_text_putc(&fb, 0);  /* 31 */
    put_u32(&fb, 36 - 32); /* 32: custom_metadata -> vector at 36 */
    put_u32(&fb, 1);       /* 36: one KeyValue */
    put_u32(&fb, 52 - 40); /* 40: -> KeyValue table at 52 */
    put_u16(&fb, 8);       /* 44: KeyValue vtable: size */
    put_u16(&fb, 12);      /*     table size */
    put_u16(&fb, 4);       /*     key */
    put_u16(&fb, 8);       /*     value */
    put_u32(&fb, 52 - 44); /* 52: table: soffset */
    put_u32(&fb, 64 - 56); /* 56: key -> 64 */
    size_t key_len = strlen("dl:error");
    size_t value_at = 64 + ((4 + key_len + 1 + 3) & ~(size_t)3);
    put_u32(&fb, (uint32_t)(value_at - 60)); /* 60: value */
    put_fb_string(&fb, "dl:error", key_len); /* 64 */
    put_fb_string(&fb, message, mlen);
    while (fb.len % 8) dl_text_putc(&fb, '\0');
    put_u32(out, 0xFFFFFFFFu);
    put_u32(out, (uint32_t)fb.len);
    dl_text_put(out, fb.data, fb.len);
    dl_text_free(&fb);
}

/* ------------------------------------------------------------------ */
/* Stream producer                                                      */
/* ------------------------------------------------------------------ */

typedef struct qstream {
    query_plan *plan;
    row_source src;
    bool src_open;
    dl_table batch;
    bool has_batch;
    int64_t pos; /* next row of batch */
    dl_sink *sink;
    dl_text *out; /* where the sink's write callback appends (this step's piece) */
} qstream;

static void qstream_free(void *state) {
    qstream *q = state;
    dl_sink_close(q->sink, DL_EIO, NULL); /* abandons an unfinished body */
    if (q->has_batch) dl_table_free(&q->batch);
    if (q->src_open) row_source_close(&q->src);
    query_plan_free(q->plan);
    free(q);
}

static void qstream_error(void *state, dl_text *out, const dl_error *err) {
    qstream *q = state;
    const char *msg = err->message[0] ? err->message : dl_status_name(err->code);
    if (q->plan->fmt == SRV_FMT_ARROW) {
        arrow_error_marker(out, msg);
        return;
    }
    if (q->plan->fmt == SRV_FMT_CSV) {
        dl_text_puts(out, "#dl-error: ");
        for (const char *p = msg; *p; p++) dl_text_putc(out, *p == '\n' ? ' ' : *p);
        dl_text_putc(out, '\n');
        return;
    }
    dl_text_puts(out, "{\"dl_error\":");
    srv_json_cstr(out, msg);
    dl_text_puts(out, "}\n");
}

static dl_sink_format sink_format(srv_format f) {
    switch (f) {
    case SRV_FMT_CSV:
        return DL_SINK_CSV;
    case SRV_FMT_ARROW:
        return DL_SINK_ARROW;
    case SRV_FMT_PARQUET:
        return DL_SINK_PARQUET;
    default:
        return DL_SINK_JSONL; /* ndjson, and the rows of a json page */
    }
}

/* One piece of the body: the sink's header first, then up to a step of
** rows, the end of the output after the last batch. */
static int qstream_step(void *state, dl_text *out, bool *done, int64_t *rows, dl_error *err) {
    qstream *q = state;
    int rc;
    q->out = out;
    if (!q->sink) {
        dl_sink_options so;
        dl_sink_options_default(&so);
        so.format = sink_format(q->plan->fmt);
        return dl_sink_open(&q->src.schema, &so, write_to_text, &q->out, &q->sink, err);
    }
    if (q->pos >= q->batch.num_rows) {
        if ((rc = row_source_next(&q->src, &q->batch, err)) != DL_OK) return rc;
        q->pos = 0;
        if (q->batch.num_rows == 0) {
            *done = true;
            rc = dl_sink_close(q->sink, DL_OK, err);
            q->sink = NULL;
            return rc;
        }
    }
    int64_t step = q->plan->fmt == SRV_FMT_ARROW ? STREAM_ARROW_ROWS : STREAM_TEXT_ROWS;
    int64_t n = q->batch.num_rows - q->pos < step ? q->batch.num_rows - q->pos : step;
    if ((rc = dl_sink_put_rows(q->sink, &q->batch, q->pos, n, NULL, err)) != DL_OK) return rc;
    q->pos += n;
    *rows = n;
    return DL_OK;
}

static const srv_producer qstream_producer = {qstream_step, qstream_error, qstream_free};

/* A bad filter or an unknown column is the request's fault (400), an
** unknown dataset is a missing resource (404). */
static int query_status(const dl_error *err) {
    if (err->code == DL_ENOTFOUND &&
        (strncmp(err->message, "filter", 6) == 0 || strstr(err->message, "column")))
        return 400;
    return srv_status_of(err->code);
}

static int query_error(srv_req *r, const dl_error *err) {
    return srv_reply_problem(r, query_status(err), err->message);
}

static int start_stream(srv_req *r, query_plan *plan) {
    dl_error err = {0};
    qstream *q = calloc(1, sizeof *q);
    if (!q) {
        query_plan_free(plan);
        return srv_reply_problem(r, 503, "out of memory");
    }
    q->plan = plan;
    int rc = row_source_open(&q->src, r->srv, plan, 0, 0, plan->from, false, &err);
    q->src_open = true;
    if (rc == DL_OK) rc = dl_table_init(&q->batch, &q->src.schema, &err);
    q->has_batch = rc == DL_OK;
    if (rc != DL_OK) {
        qstream_free(q);
        return query_error(r, &err);
    }
    return srv_stream_reply(r, 200, srv_format_mime(plan->fmt), &qstream_producer, q, plan->enc);
}

/* ------------------------------------------------------------------ */
/* Pages                                                                */
/* ------------------------------------------------------------------ */

typedef struct page_job {
    srv_req *r;
    query_plan *plan;
} page_job;

static void page_job_free(void *arg) {
    page_job *j = arg;
    query_plan_free(j->plan);
    free(j);
}

static int append_rows(dl_table *page, const dl_table *b, int64_t from, int64_t count,
                       dl_error *err) {
    int rc = DL_OK;
    for (int c = 0; c < b->schema.num_fields && rc == DL_OK; c++)
        rc = dl_column_append_range(&page->columns[c], &b->columns[c], from, count, err);
    page->num_rows += count;
    return rc;
}

/* The page's rows and whether more follow, honouring the cursor. */
typedef struct page {
    dl_table rows;
    bool has_rows;
    bool more;
    int ts_col;  /* index of ts in rows (-1 none) */
    int visible; /* leading columns shown */
    srv_cursor next;
    dl_sink *tail;   /* tail pages: rows go straight to a sink keeping the last N */
    dl_text out;     /* the rendered rows (csv, ndjson lines, arrow) */
    dl_text *out_at; /* the sink's write target: &out */
} page;

/* The page's table as the client sees it: without the keyset-only ts. */
static dl_table visible_view(const page *pg) {
    dl_table view = pg->rows;
    view.schema.num_fields = pg->visible;
    return view;
}

static int page_sink_open(const query_plan *p, page *pg, const dl_schema *schema, int64_t tail,
                          dl_sink **out, dl_error *err) {
    dl_sink_options so;
    dl_sink_options_default(&so);
    so.format = sink_format(p->fmt);
    so.tail = tail;
    pg->out_at = &pg->out;
    return dl_sink_open(schema, &so, write_to_text, &pg->out_at, out, err);
}

static int collect_page(srv_server *srv, query_plan *p, page *pg, dl_error *err) {
    int rc;
    bool single = !p->pattern;
    srv_cursor *cur = &p->cursor;
    int64_t pin_version = 0, pin_time = 0, ts_from = p->from;
    if (p->has_cursor) {
        pin_version = cur->pin_version;
        pin_time = cur->pin_time;
        if (single && cur->last_ts > ts_from) ts_from = cur->last_ts;
    } else if (single) { /* pin the version this page reads */
        dl_lake *lake = NULL;
        if ((rc = srv_lake_acquire(srv, &lake, err)) != DL_OK) return rc;
        if (p->as_of_version)
            pin_version = p->as_of_version;
        else if (p->as_of_time)
            rc = dl_lake_version_at(lake, p->names[0], p->as_of_time, &pin_version, err);
        else {
            dl_dataset_info info;
            rc = dl_lake_dataset_info(lake, p->names[0], &info, err);
            pin_version = info.version;
        }
        srv_lake_release(srv, lake);
        if (rc != DL_OK) return rc;
    } else {
        pin_time = p->as_of_time ? p->as_of_time : srv_wall_us();
    }
    row_source src;
    bool keyset = single && p->tail < 0;
    rc = row_source_open(&src, srv, p, pin_version, pin_time, ts_from, keyset, err);
    dl_table batch;
    bool has_batch = false;
    if (rc == DL_OK) rc = dl_table_init(&batch, &src.schema, err);
    has_batch = rc == DL_OK;
    if (rc == DL_OK) rc = dl_table_init(&pg->rows, &src.schema, err);
    pg->has_rows = rc == DL_OK;
    if (rc != DL_OK) goto cleanup;
    pg->ts_col = dl_schema_find(&src.schema, "ts");
    pg->visible = src.schema.num_fields;
    if (keyset && (p->num_columns == 0 || pg->ts_col == src.schema.num_fields - 1)) {
        bool asked = false;
        for (int i = 0; i < p->num_columns; i++) asked |= strcmp(p->columns[i], "ts") == 0;
        if (p->num_columns && !asked) pg->visible--; /* ts added for the keyset only */
    }
    if (keyset && pg->ts_col < 0) {
        rc = dl_error_set(err, DL_EINVAL, "paging needs the ts column");
        goto cleanup;
    }
    if (p->tail >= 0 && (rc = page_sink_open(p, pg, &src.schema, p->tail, &pg->tail, err)) != DL_OK)
        goto cleanup;
    int64_t want = p->limit, skip_ts = p->has_cursor && single ? cur->skip : 0;
    int64_t skip_rows = p->has_cursor && !single ? cur->served : 0;
    for (;;) {
        if ((rc = row_source_next(&src, &batch, err)) != DL_OK || batch.num_rows == 0) break;
        if (pg->tail) { /* the sink keeps the last rows */
            if ((rc = dl_sink_put(pg->tail, &batch, NULL, err)) != DL_OK) break;
            continue;
        }
        int64_t from = 0;
        const int64_t *ts = keyset ? batch.columns[pg->ts_col].values : NULL;
        while (from < batch.num_rows && skip_ts > 0 && ts[from] == cur->last_ts) {
            from++;
            skip_ts--;
        }
        if (from < batch.num_rows) skip_ts = 0; /* rows at last_ts are done */
        if (skip_rows > 0) {
            int64_t k = batch.num_rows - from < skip_rows ? batch.num_rows - from : skip_rows;
            from += k;
            skip_rows -= k;
        }
        int64_t take = batch.num_rows - from;
        if (take > want - pg->rows.num_rows) take = want - pg->rows.num_rows;
        if (take > 0 && (rc = append_rows(&pg->rows, &batch, from, take, err)) != DL_OK) break;
        if (from + take < batch.num_rows) { /* a row beyond the page exists */
            pg->more = true;
            break;
        }
    }
    if (pg->tail) {
        rc = dl_sink_close(pg->tail, rc, err);
        pg->tail = NULL;
    }
    if (rc != DL_OK) goto cleanup;
    if (pg->more) { /* the cursor to the next page */
        srv_cursor *n = &pg->next;
        memset(n, 0, sizeof *n);
        n->query_hash = p->query_hash;
        n->pin_version = pin_version;
        n->pin_time = pin_time;
        n->served = (p->has_cursor ? cur->served : 0) + pg->rows.num_rows;
        if (keyset && pg->rows.num_rows > 0) {
            const int64_t *ts = pg->rows.columns[pg->ts_col].values;
            int64_t last = ts[pg->rows.num_rows - 1], same = 0;
            for (int64_t i = pg->rows.num_rows - 1; i >= 0 && ts[i] == last; i--) same++;
            if (same == pg->rows.num_rows && p->has_cursor && cur->last_ts == last)
                same += cur->skip; /* the whole page sat on one ts */
            n->last_ts = last;
            n->skip = same;
        } else if (keyset) {
            *n = *cur;
        }
    }
cleanup:
    dl_sink_close(pg->tail, DL_EIO, NULL);
    pg->tail = NULL;
    if (has_batch) dl_table_free(&batch);
    row_source_close(&src);
    return rc;
}

/* "?k=v&..." of the request with cursor replaced (for the Link header). */
static void put_url_escaped(dl_text *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            dl_text_putc(b, (char)c);
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            dl_text_put(b, e, 3);
        }
    }
}

static void next_link(const srv_req *r, const char *cursor, dl_text *b) {
    dl_text_puts(b, "</v1/query?");
    for (int i = 0; i < r->params.count; i++) {
        if (strcmp(r->params.keys[i], "cursor") == 0) continue;
        put_url_escaped(b, r->params.keys[i]);
        dl_text_putc(b, '=');
        put_url_escaped(b, r->params.values[i]);
        dl_text_putc(b, '&');
    }
    dl_text_puts(b, "cursor=");
    dl_text_puts(b, cursor);
    dl_text_puts(b, ">; rel=\"next\"");
}

/* The body of a page: the rows through a sink (tail pages have theirs
** already), wrapped as {"rows":[...],"next_cursor":...} for json. */
static int render_page(const query_plan *p, page *pg, const char *cursor, dl_text *body,
                       dl_error *err) {
    int rc = DL_OK;
    if (p->tail < 0) {
        dl_table view = visible_view(pg);
        dl_sink *sink = NULL;
        rc = page_sink_open(p, pg, &view.schema, -1, &sink, err);
        if (rc == DL_OK && view.num_rows > 0) rc = dl_sink_put(sink, &view, NULL, err);
        rc = dl_sink_close(sink, rc, err);
        if (rc != DL_OK) return rc;
    }
    if (p->fmt != SRV_FMT_JSON) {
        *body = pg->out;
        memset(&pg->out, 0, sizeof pg->out);
        return DL_OK;
    }
    /* JSON lines -> array elements: a raw newline only ends a row */
    dl_text_puts(body, "{\"rows\":[");
    const char *rows = pg->out.data;
    size_t n = pg->out.len;
    for (size_t i = 0, start = 0; i < n; i++)
        if (rows[i] == '\n') {
            if (start) dl_text_putc(body, ',');
            dl_text_put(body, rows + start, i - start);
            start = i + 1;
        }
    dl_text_puts(body, "],\"next_cursor\":");
    if (cursor)
        srv_json_cstr(body, cursor);
    else
        dl_text_puts(body, "null");
    dl_text_puts(body, "}\n");
    return DL_OK;
}

static void page_job_run(void *arg) {
    page_job *j = arg;
    srv_req *r = j->r;
    query_plan *p = j->plan;
    dl_error err = {0};
    page pg;
    memset(&pg, 0, sizeof pg);
    dl_text body = {0};
    struct MHD_Response *resp = NULL;
    char cursor[SRV_CURSOR_MAX + 1] = "";
    int rc = collect_page(r->srv, p, &pg, &err);
    if (rc == DL_OK && pg.more)
        rc = srv_cursor_encode(&pg.next, r->srv->cursor_key, cursor, sizeof cursor, &err);
    if (rc == DL_OK) rc = render_page(p, &pg, pg.more ? cursor : NULL, &body, &err);
    if (rc == DL_OK && body.status != DL_OK)
        rc = dl_error_set(&err, DL_ENOMEM, "out of memory rendering the page");
    if (rc == DL_OK) {
        size_t len;
        char *data = srv_text_take(&body, &len);
        resp = srv_response_new(r, 200, srv_format_mime(p->fmt), data, len);
        r->rows_out = pg.rows.num_rows;
        if (resp && pg.more) {
            dl_text link = {0};
            next_link(r, cursor, &link);
            if (link.status == DL_OK)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_LINK, srv_text_cstr(&link));
            MHD_add_response_header(resp, "X-Next-Cursor", cursor);
            dl_text_free(&link);
        }
    } else {
        dl_text_free(&body);
        resp = srv_problem_response(r, query_status(&err), err.message);
    }
    if (pg.has_rows) dl_table_free(&pg.rows);
    dl_text_free(&pg.out);
    page_job_free(j);
    srv_job_done(r, resp);
}

/* ------------------------------------------------------------------ */
/* Parquet: a temporary file sent from its descriptor                   */
/* ------------------------------------------------------------------ */

static void parquet_job_run(void *arg) {
    page_job *j = arg;
    srv_req *r = j->r;
    query_plan *p = j->plan;
    dl_error err = {0};
    struct MHD_Response *resp = NULL;
    char path[4300];
    snprintf(path, sizeof path, "%s/.dl/tmp-serve-%ld-%llu.parquet", r->srv->root, (long)getpid(),
             (unsigned long long)r->id);
    row_source src;
    dl_table batch;
    bool has_batch = false;
    dl_sink *sink = NULL;
    int fd = -1;
    int rc = row_source_open(&src, r->srv, p, 0, 0, p->from, false, &err);
    if (rc == DL_OK) rc = dl_table_init(&batch, &src.schema, &err);
    has_batch = rc == DL_OK;
    if (rc == DL_OK) {
        dl_sink_options so;
        dl_sink_options_default(&so);
        so.format = DL_SINK_PARQUET;
        so.limit = p->limit;
        so.tail = p->tail;
        rc = dl_sink_open_file(path, NULL, &src.schema, &so, &sink, &err);
    }
    for (bool done = false; rc == DL_OK && !done;) {
        if ((rc = row_source_next(&src, &batch, &err)) != DL_OK || batch.num_rows == 0) break;
        rc = dl_sink_put(sink, &batch, &done, &err);
    }
    int64_t rows = sink ? dl_sink_rows(sink) : 0;
    rc = dl_sink_close(sink, rc, &err);
    if (has_batch) dl_table_free(&batch);
    row_source_close(&src);
    if (rc == DL_OK) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0)
            rc = dl_error_set(&err, DL_EIO, "%s: %s", path, strerror(errno));
        else if (!(resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd)))
            rc = dl_error_set(&err, DL_ENOMEM, "cannot create the response");
        else {
            fd = -1; /* the response closes it */
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    srv_format_mime(SRV_FMT_PARQUET));
            r->status = 200;
            r->bytes_out = st.st_size;
            r->rows_out = rows;
        }
    }
    if (fd >= 0) close(fd);
    unlink(path); /* an open descriptor keeps the bytes */
    if (rc != DL_OK) resp = srv_problem_response(r, query_status(&err), err.message);
    page_job_free(j);
    srv_job_done(r, resp);
}

/* ------------------------------------------------------------------ */
/* The handler                                                          */
/* ------------------------------------------------------------------ */

int srv_h_query(srv_req *r) {
    dl_error err = {0};
    query_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return srv_reply_problem(r, 503, "out of memory");
    dl_lake *lake = NULL;
    int status = 0;
    int rc = srv_lake_acquire(r->srv, &lake, &err);
    if (rc == DL_OK) rc = parse_plan(r, plan, lake, &status, &err);
    srv_lake_release(r->srv, lake);
    if (rc != DL_OK) {
        query_plan_free(plan);
        if (status) return srv_reply_problem(r, status, err.message);
        return query_error(r, &err);
    }
    if (plan->fmt == SRV_FMT_PARQUET || plan->paged) {
        page_job *j = calloc(1, sizeof *j);
        if (!j) {
            query_plan_free(plan);
            return srv_reply_problem(r, 503, "out of memory");
        }
        j->r = r;
        j->plan = plan;
        return srv_defer(r, plan->fmt == SRV_FMT_PARQUET ? parquet_job_run : page_job_run, j,
                         page_job_free);
    }
    return start_stream(r, plan);
}
