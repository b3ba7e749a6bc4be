/*
** srv_stream.c -- streamed response bodies with back-pressure.
**
** A producer (the query's format writer) runs on the worker pool and fills
** a bounded per-response buffer; libmicrohttpd's content reader drains it
** only as fast as the client's socket accepts bytes.  Above HIGH_WATER the
** producer stops and its worker goes back to the pool; the reader restarts
** it once the buffer falls under LOW_WATER.  When the buffer is empty and
** the producer is still working, the reader suspends the connection (a
** reader returning 0 would make libmicrohttpd spin) and the producer
** resumes it after appending.  So a slow client holds at most about
** HIGH_WATER + one piece of memory and no thread.
**
** An error after the body started cannot change the 200 status: the
** producer appends the format's error marker (a last CSV/NDJSON line, an
** Arrow metadata message) and the reader ends the chunked stream with
** MHD_CONTENT_READER_END_WITH_ERROR, so the client sees a broken transfer,
** never a clean truncated body.
**
** Lifetime: the stream is reference counted by the MHD response, the
** request (for its log line) and a queued or running producer job.
*/
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <zlib.h>
#include <zstd.h>

#include "srv_internal.h"

#define HIGH_WATER ((size_t)1 << 20)
#define LOW_WATER  ((size_t)256 << 10)

typedef struct compressor {
    srv_encoding enc;
    ZSTD_CCtx *zstd;
    z_stream gz;
    bool gz_open;
} compressor;

struct srv_stream {
    pthread_mutex_t mu;
    srv_server *srv;
    struct MHD_Connection *conn;
    dl_text buf; /* pending bytes: [off, len) */
    size_t off;
    bool producing, eof, failed, suspended, closed;
    int refs;
    srv_producer prod;
    void *state;
    compressor comp;
    int64_t rows, bytes;
};

/* ---- compression of the body (Content-Encoding) ---- */

static int comp_open(compressor *c, srv_encoding enc, dl_error *err) {
    memset(c, 0, sizeof *c);
    c->enc = enc;
    if (enc == SRV_ENC_ZSTD) {
        c->zstd = ZSTD_createCCtx();
        if (!c->zstd) return dl_error_set(err, DL_ENOMEM, "out of memory (zstd context)");
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, 1);
    } else if (enc == SRV_ENC_GZIP) {
        if (deflateInit2(&c->gz, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return dl_error_set(err, DL_ENOMEM, "out of memory (gzip context)");
        c->gz_open = true;
    }
    return DL_OK;
}

static void comp_close(compressor *c) {
    if (c->zstd) ZSTD_freeCCtx(c->zstd);
    if (c->gz_open) deflateEnd(&c->gz);
    memset(c, 0, sizeof *c);
}

/* Compresses in[0..n) into out; `last` ends the compressed stream. */
static void comp_run(compressor *c, const char *in, size_t n, bool last, dl_text *out) {
    char chunk[1 << 16];
    if (c->enc == SRV_ENC_ZSTD) {
        ZSTD_inBuffer ib = {in, n, 0};
        for (;;) {
            ZSTD_outBuffer ob = {chunk, sizeof chunk, 0};
            size_t left = ZSTD_compressStream2(c->zstd, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_flush);
            if (ZSTD_isError(left)) {
                out->status = DL_ENOMEM;
                return;
            }
            dl_text_put(out, chunk, ob.pos);
            if (left == 0 && ib.pos == ib.size) return;
        }
    }
    c->gz.next_in = (Bytef *)(uintptr_t)in;
    c->gz.avail_in = (uInt)n;
    for (;;) {
        c->gz.next_out = (Bytef *)chunk;
        c->gz.avail_out = sizeof chunk;
        int zr = deflate(&c->gz, last ? Z_FINISH : Z_SYNC_FLUSH);
        if (zr == Z_STREAM_ERROR) {
            out->status = DL_ENOMEM;
            return;
        }
        dl_text_put(out, chunk, sizeof chunk - c->gz.avail_out);
        if (last ? zr == Z_STREAM_END : c->gz.avail_out != 0) return;
    }
}

/* ---- the stream ---- */

static void stream_free(srv_stream *s) {
    if (s->prod.free) s->prod.free(s->state);
    comp_close(&s->comp);
    dl_text_free(&s->buf);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Drops one reference (lock held); frees after unlocking when it was the last. */
static void unref_locked(srv_stream *s) {
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last) stream_free(s);
}

static void produce_job(void *arg);

/* Starts the producer unless it runs or the body is complete (lock held).
** false when the pool refused (stopping). */
static bool kick_locked(srv_stream *s, bool admitted) {
    if (s->producing || s->eof || s->closed) return true;
    s->producing = true;
    s->refs++;
    if (srv_pool_submit(s->srv->pool, produce_job, s, admitted)) return true;
    s->producing = false;
    s->refs--;
    return false;
}

static void produce_job(void *arg) {
    srv_stream *s = arg;
    for (;;) {
        dl_text out = {0};
        bool done = false;
        int64_t rows = 0;
        dl_error err = {0};
        int rc;
        if (s->srv->stopping > 1)
            rc = dl_error_set(&err, DL_EIO, "server shutting down: the stream was cut short");
        else
            rc = s->prod.step(s->state, &out, &done, &rows, &err);
        if (rc == DL_OK && out.status != DL_OK)
            rc = dl_error_set(&err, DL_ENOMEM, "out of memory rendering the response");
        if (rc != DL_OK) { /* drop the partial piece: the marker follows whole rows */
            dl_text_free(&out);
            s->prod.error_marker(s->state, &out, &err);
            done = true;
            rows = 0;
        }
        if (s->comp.enc != SRV_ENC_IDENTITY) {
            dl_text z = {0};
            comp_run(&s->comp, out.data, out.len, done, &z);
            dl_text_free(&out);
            out = z;
        }
        pthread_mutex_lock(&s->mu);
        dl_text_put(&s->buf, out.data, out.len);
        dl_text_free(&out);
        s->rows += rows;
        if (done || s->buf.status != DL_OK) {
            s->eof = true;
            s->failed = rc != DL_OK || s->buf.status != DL_OK;
        }
        if (s->suspended) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
        bool more = !s->eof && !s->closed && s->buf.len - s->off < HIGH_WATER;
        if (!more) {
            s->producing = false;
            unref_locked(s);
            return;
        }
        pthread_mutex_unlock(&s->mu);
    }
}

static ssize_t stream_read(void *cls, uint64_t pos, char *dst, size_t max) {
    (void)pos;
    srv_stream *s = cls;
    pthread_mutex_lock(&s->mu);
    size_t avail = s->buf.len - s->off;
    if (avail > 0) {
        size_t n = avail < max ? avail : max;
        memcpy(dst, s->buf.data + s->off, n);
        s->off += n;
        if (s->off == s->buf.len) {
            s->off = s->buf.len = 0;
        } else if (s->off >= LOW_WATER && s->off * 2 >= s->buf.len) {
            memmove(s->buf.data, s->buf.data + s->off, s->buf.len - s->off);
            s->buf.len -= s->off;
            s->off = 0;
        }
        s->bytes += (int64_t)n;
        if (s->buf.len - s->off < LOW_WATER && !kick_locked(s, true)) s->eof = s->failed = true;
        pthread_mutex_unlock(&s->mu);
        return (ssize_t)n;
    }
    if (s->eof) {
        bool failed = s->failed;
        pthread_mutex_unlock(&s->mu);
        return failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (!kick_locked(s, true)) {
        s->eof = s->failed = true;
        pthread_mutex_unlock(&s->mu);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void stream_response_free(void *cls) {
    srv_stream *s = cls;
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    unref_locked(s);
}

int srv_stream_reply(srv_req *r, int status, const char *content_type, const srv_producer *p,
                     void *state, srv_encoding enc) {
    dl_error err = {0};
    srv_stream *s = calloc(1, sizeof *s);
    if (!s) {
        p->free(state);
        return srv_reply_problem(r, 503, "out of memory starting the response");
    }
    pthread_mutex_init(&s->mu, NULL);
    s->srv = r->srv;
    s->conn = r->conn;
    s->prod = *p;
    s->state = state;
    s->refs = 2; /* the response and the request */
    if (comp_open(&s->comp, enc, &err) != DL_OK) {
        s->refs = 1;
        pthread_mutex_lock(&s->mu);
        unref_locked(s);
        return srv_reply_error(r, &err);
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_response_free);
    if (!resp) {
        s->refs = 1;
        pthread_mutex_lock(&s->mu);
        unref_locked(s);
        return srv_reply_problem(r, 503, "cannot create the response");
    }
    pthread_mutex_lock(&s->mu);
    bool started = kick_locked(s, false);
    pthread_mutex_unlock(&s->mu);
    if (!started) {
        MHD_destroy_response(resp); /* frees s's response reference */
        pthread_mutex_lock(&s->mu);
        unref_locked(s); /* and the request's */
        return srv_reply_problem(r, 503, "server busy: too many queued requests, retry later");
    }
    r->stream = s;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (enc != SRV_ENC_IDENTITY)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, srv_encoding_name(enc));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
    r->status = status;
    int ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

void srv_stream_release(srv_stream *s, int64_t *rows, int64_t *bytes) {
    pthread_mutex_lock(&s->mu);
    *rows = s->rows;
    *bytes = s->bytes;
    unref_locked(s);
}
