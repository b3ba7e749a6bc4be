/*
** pq_writer.c -- the Parquet writer: encodes dl_table columns into row
** groups of pages, with statistics, a page index and a footer that DuckDB,
** Polars, pyarrow and Spark read.
**
** Per column chunk the encoding is chosen once, from the data:
**   - DELTA_BINARY_PACKED for sorted int64/timestamp columns when it is
**     smaller than PLAIN (typical for `ts`);
**   - otherwise RLE_DICTIONARY when the dictionary stays under
**     dictionary_bytes and is worth it (distinct values <= half the values),
**   - otherwise PLAIN ("fallback": a chunk never has a second dictionary).
** Columns of a row group are encoded in parallel (opts.threads); each chunk
** is built in its own buffer and written in schema order.
*/
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pq_encoding.h"
#include "pq_meta.h"
#include "pq_schema.h"
#include "util/dl_buf.h"
#include "util/dl_codec.h"
#include "util/dl_fault.h"
#include "util/dl_internal.h"

#define STAT_MAX_BYTES    64 /* string statistics are truncated beyond this */
#define WRITE_FLUSH_BYTES (8u << 20)

const char *dl_pq_test_created_by = NULL;

void dl_write_options_default(dl_write_options *o) {
    DL_REQUIRE_OR_RETURN(o, );
    memset(o, 0, sizeof *o);
    o->codec = DL_CODEC_ZSTD;
    o->compression_level = 1; /* our encodings shrink the data first; level 1 already beats the
                                  peers' level-3 files in size at ~1.4x the speed */
    o->row_group_rows = 1 << 20;
    o->page_bytes = 1 << 20;
    o->page_rows = 20000;
    o->dictionary = true;
    o->dictionary_bytes = 1 << 20;
    o->delta_timestamps = true;
    o->statistics = true;
    o->page_index = true;
    o->data_page_version = 1;
    o->threads = 1;
    o->page_crc = true;
}

/* ------------------------------------------------------------------ */
/* Statistics accumulation                                              */
/* ------------------------------------------------------------------ */

typedef struct stat_acc {
    bool has; /* at least one non-null, non-NaN value seen */
    int64_t imin, imax;
    double fmin, fmax;
    const uint8_t *smin, *smax;
    uint32_t smin_len, smax_len;
    int64_t nulls, nans;
} stat_acc;

static void stat_merge(stat_acc *dst, const stat_acc *src, dl_type type) {
    dst->nulls += src->nulls;
    dst->nans += src->nans;
    if (!src->has) return;
    if (!dst->has) {
        int64_t nulls = dst->nulls, nans = dst->nans;
        *dst = *src;
        dst->nulls = nulls;
        dst->nans = nans;
        return;
    }
    switch (type) {
    case DL_TYPE_FLOAT:
    case DL_TYPE_DOUBLE:
        if (src->fmin < dst->fmin || (src->fmin == 0 && signbit(src->fmin))) dst->fmin = src->fmin;
        if (src->fmax > dst->fmax || (src->fmax == 0 && !signbit(src->fmax))) dst->fmax = src->fmax;
        break;
    case DL_TYPE_STRING:
    case DL_TYPE_BINARY:
        if (dl_bytes_cmp(src->smin, src->smin_len, dst->smin, dst->smin_len) < 0) {
            dst->smin = src->smin;
            dst->smin_len = src->smin_len;
        }
        if (dl_bytes_cmp(src->smax, src->smax_len, dst->smax, dst->smax_len) > 0) {
            dst->smax = src->smax;
            dst->smax_len = src->smax_len;
        }
        break;
    default:
        if (src->imin < dst->imin) dst->imin = src->imin;
        if (src->imax > dst->imax) dst->imax = src->imax;
    }
}

/* Statistics of rows [from, from+n) of col. */
static void stat_compute(const dl_column *col, int64_t from, int64_t n, stat_acc *acc) {
    memset(acc, 0, sizeof *acc);
    const uint8_t *valid = col->validity;
    for (int64_t i = from; i < from + n; i++) {
        if (valid && !dl_bitmap_get(valid, i)) {
            acc->nulls++;
            continue;
        }
        switch (col->type) {
        case DL_TYPE_FLOAT:
        case DL_TYPE_DOUBLE: {
            double v = col->type == DL_TYPE_FLOAT ? (double)((const float *)col->values)[i]
                                                  : ((const double *)col->values)[i];
            if (isnan(v)) {
                acc->nans++;
                continue;
            }
            if (!acc->has) {
                acc->fmin = acc->fmax = v;
            } else {
                if (v < acc->fmin || (v == 0 && acc->fmin == 0 && signbit(v))) acc->fmin = v;
                if (v > acc->fmax || (v == 0 && acc->fmax == 0 && !signbit(v))) acc->fmax = v;
            }
            break;
        }
        case DL_TYPE_STRING:
        case DL_TYPE_BINARY: {
            const uint8_t *s = (const uint8_t *)col->data + col->offsets[i];
            uint32_t len = (uint32_t)(col->offsets[i + 1] - col->offsets[i]);
            if (!acc->has || dl_bytes_cmp(s, len, acc->smin, acc->smin_len) < 0) {
                acc->smin = s;
                acc->smin_len = len;
            }
            if (!acc->has || dl_bytes_cmp(s, len, acc->smax, acc->smax_len) > 0) {
                acc->smax = s;
                acc->smax_len = len;
            }
            break;
        }
        default: {
            int64_t v;
            switch (col->type) {
            case DL_TYPE_BOOL:
                v = ((const uint8_t *)col->values)[i];
                break;
            case DL_TYPE_INT32:
            case DL_TYPE_DATE:
                v = ((const int32_t *)col->values)[i];
                break;
            default:
                v = ((const int64_t *)col->values)[i];
            }
            if (!acc->has) {
                acc->imin = acc->imax = v;
            } else {
                if (v < acc->imin) acc->imin = v;
                if (v > acc->imax) acc->imax = v;
            }
        }
        }
        acc->has = true;
    }
    /* Spec: a zero min is written as -0.0 and a zero max as +0.0. */
    if (acc->has && (col->type == DL_TYPE_FLOAT || col->type == DL_TYPE_DOUBLE)) {
        if (acc->fmin == 0) acc->fmin = -0.0;
        if (acc->fmax == 0) acc->fmax = 0.0;
    }
}

/* Serialises the min or max of acc as a PLAIN value without length prefix
** into store; returns its offset, sets *len, or returns -1 when out of
** memory, -2 when no value can be written (a string max that cannot be
** truncated upward). */
static int64_t stat_store(const stat_acc *acc, dl_type type, bool is_max, dl_buf *store,
                          uint32_t *len, bool *exact) {
    uint8_t tmp[8];
    const uint8_t *src = tmp;
    uint32_t n;
    *exact = true;
    switch (type) {
    case DL_TYPE_BOOL:
        tmp[0] = (uint8_t)(is_max ? acc->imax : acc->imin);
        n = 1;
        break;
    case DL_TYPE_INT32:
    case DL_TYPE_DATE: {
        int32_t v = (int32_t)(is_max ? acc->imax : acc->imin);
        memcpy(tmp, &v, 4);
        n = 4;
        break;
    }
    case DL_TYPE_FLOAT: {
        float v = (float)(is_max ? acc->fmax : acc->fmin);
        memcpy(tmp, &v, 4);
        n = 4;
        break;
    }
    case DL_TYPE_DOUBLE: {
        double v = is_max ? acc->fmax : acc->fmin;
        memcpy(tmp, &v, 8);
        n = 8;
        break;
    }
    case DL_TYPE_STRING:
    case DL_TYPE_BINARY: {
        src = is_max ? acc->smax : acc->smin;
        n = is_max ? acc->smax_len : acc->smin_len;
        if (n > STAT_MAX_BYTES) {
            *exact = false;
            if (!is_max) {
                n = STAT_MAX_BYTES; /* a prefix is <= the value */
            } else {
                /* smallest string > every string with this prefix: bump the
                ** last byte that is not 0xFF and drop what follows. */
                int64_t k = STAT_MAX_BYTES - 1;
                while (k >= 0 && src[k] == 0xFF) k--;
                if (k < 0) return -2; /* no upper bound exists: no max */
                int64_t off = (int64_t)store->len;
                if (dl_buf_append(store, src, (size_t)k + 1) != DL_OK) return -1;
                store->data[off + k]++;
                *len = (uint32_t)(k + 1);
                return off;
            }
        }
        break;
    }
    default: {
        int64_t v = is_max ? acc->imax : acc->imin;
        memcpy(tmp, &v, 8);
        n = 8;
    }
    }
    int64_t off = (int64_t)store->len;
    if (dl_buf_append(store, src, n) != DL_OK) return -1;
    *len = n;
    return off;
}

/* ------------------------------------------------------------------ */
/* Dictionary building                                                  */
/* ------------------------------------------------------------------ */

typedef struct dict_build {
    int64_t num_values;  /* distinct values */
    uint32_t *indices;   /* one per non-null row of the chunk */
    int64_t *first_row;  /* row (absolute) of each distinct value's first occurrence */
    int64_t plain_bytes; /* size of the dictionary page, PLAIN encoded */
} dict_build;

static uint64_t fixed_bits(const dl_column *col, int64_t i) {
    switch (dl_type_width(col->type)) {
    case 1:
        return ((const uint8_t *)col->values)[i];
    case 4:
        return ((const uint32_t *)col->values)[i];
    default:
        return ((const uint64_t *)col->values)[i];
    }
}

static bool row_equal(const dl_column *col, int64_t a, int64_t b) {
    if (col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY) {
        int64_t la = col->offsets[a + 1] - col->offsets[a],
                lb = col->offsets[b + 1] - col->offsets[b];
        return la == lb &&
               memcmp(col->data + col->offsets[a], col->data + col->offsets[b], (size_t)la) == 0;
    }
    return fixed_bits(col, a) == fixed_bits(col, b);
}

/* Builds a dictionary over the non-null rows [from, from+n).  Returns
** false (and frees everything) when it exceeds the limits. */
static bool dict_try_build(const dl_column *col, int64_t from, int64_t n, int64_t nonnull,
                           int64_t limit_bytes, dict_build *d) {
    memset(d, 0, sizeof *d);
    if (nonnull == 0) return false;
    bool var = col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY;
    size_t width = dl_type_width(col->type);
    int64_t max_distinct = nonnull / 2 + 1;
    size_t slots = 64;
    while ((int64_t)slots < 2 * (max_distinct < 1 << 20 ? max_distinct : 1 << 20)) slots *= 2;
    int32_t *table = malloc(slots * sizeof(int32_t));
    d->indices = malloc((size_t)nonnull * sizeof(uint32_t));
    d->first_row = malloc((size_t)(max_distinct + 1) * sizeof(int64_t));
    if (!table || !d->indices || !d->first_row) goto fail;
    memset(table, 0xff, slots * sizeof(int32_t));
    int64_t k = 0;
    for (int64_t i = from; i < from + n; i++) {
        if (col->validity && !dl_bitmap_get(col->validity, i)) continue;
        uint64_t h;
        if (var)
            h = dl_hash_bytes((const uint8_t *)col->data + col->offsets[i],
                              (size_t)(col->offsets[i + 1] - col->offsets[i]));
        else
            h = dl_hash64(fixed_bits(col, i));
        size_t s = (size_t)h & (slots - 1);
        int32_t id;
        for (;;) {
            id = table[s];
            if (id < 0 || row_equal(col, d->first_row[id], i)) break;
            s = (s + 1) & (slots - 1);
        }
        if (id < 0) {
            if (d->num_values >= max_distinct) goto fail;
            /* Abort early when the sample so far says the dictionary would
            ** not pay: more than half the values seen are distinct. */
            if ((k & 4095) == 4095 && d->num_values * 2 > k) goto fail;
            id = (int32_t)d->num_values++;
            d->first_row[id] = i;
            table[s] = id;
            d->plain_bytes += var ? 4 + (col->offsets[i + 1] - col->offsets[i]) : (int64_t)width;
            if (d->plain_bytes > limit_bytes) goto fail;
            if ((size_t)d->num_values * 2 > slots) { /* grow and rehash */
                size_t nslots = slots * 2;
                int32_t *nt = malloc(nslots * sizeof(int32_t));
                if (!nt) goto fail;
                memset(nt, 0xff, nslots * sizeof(int32_t));
                for (int64_t v = 0; v < d->num_values; v++) {
                    int64_t r = d->first_row[v];
                    uint64_t hh =
                        var ? dl_hash_bytes((const uint8_t *)col->data + col->offsets[r],
                                            (size_t)(col->offsets[r + 1] - col->offsets[r]))
                            : dl_hash64(fixed_bits(col, r));
                    size_t t = (size_t)hh & (nslots - 1);
                    while (nt[t] >= 0) t = (t + 1) & (nslots - 1);
                    nt[t] = (int32_t)v;
                }
                free(table);
                table = nt;
                slots = nslots;
            }
        }
        d->indices[k++] = (uint32_t)id;
    }
    free(table);
    return true;
fail:
    free(table);
    free(d->indices);
    free(d->first_row);
    memset(d, 0, sizeof *d);
    return false;
}

static void dict_free(dict_build *d) {
    free(d->indices);
    free(d->first_row);
}

/* ------------------------------------------------------------------ */
/* Column chunk encoding                                                */
/* ------------------------------------------------------------------ */

typedef struct page_info {
    int64_t offset; /* relative to chunk start */
    int32_t size;   /* header + body */
    int64_t first_row;
    stat_acc stats;
} page_info;

typedef struct chunk_job {
    /* inputs */
    const dl_field *field;
    const dl_column *col;
    int64_t from, count;
    const dl_write_options *opts;
    /* outputs */
    dl_buf bytes; /* [dictionary page] data pages */
    int32_t physical;
    int32_t value_encoding;
    bool has_dict;
    int64_t dict_page_size; /* bytes of the dictionary page incl. header */
    int64_t uncompressed_total;
    page_info *pages;
    int num_pages, cap_pages;
    stat_acc stats;
    int rc;
    dl_error err;
} chunk_job;

static bool is_var(dl_type t) {
    return t == DL_TYPE_STRING || t == DL_TYPE_BINARY;
}

/* Appends PLAIN encoding of the listed rows (non-null only). */
static int plain_encode_rows(const dl_column *col, int64_t from, int64_t n, dl_buf *out) {
    const uint8_t *valid = col->validity;
    if (col->type == DL_TYPE_BOOL) {
        int64_t nn = 0;
        for (int64_t i = from; i < from + n; i++) nn += !valid || dl_bitmap_get(valid, i);
        uint8_t *p = dl_buf_extend(out, (size_t)(nn + 7) / 8);
        if (!p) return DL_ENOMEM;
        int64_t k = 0;
        for (int64_t i = from; i < from + n; i++) {
            if (valid && !dl_bitmap_get(valid, i)) continue;
            if (((const uint8_t *)col->values)[i]) p[k >> 3] |= (uint8_t)(1u << (k & 7));
            k++;
        }
        return DL_OK;
    }
    if (is_var(col->type)) {
        for (int64_t i = from; i < from + n; i++) {
            if (valid && !dl_bitmap_get(valid, i)) continue;
            uint32_t len = (uint32_t)(col->offsets[i + 1] - col->offsets[i]);
            if (dl_buf_append_u32le(out, len) != DL_OK ||
                dl_buf_append(out, col->data + col->offsets[i], len) != DL_OK)
                return DL_ENOMEM;
        }
        return DL_OK;
    }
    size_t w = dl_type_width(col->type);
    const uint8_t *base = (const uint8_t *)col->values;
    if (!valid) return dl_buf_append(out, base + (size_t)from * w, (size_t)n * w);
    if (dl_buf_reserve(out, (size_t)n * w) != DL_OK) return DL_ENOMEM;
    uint8_t *p = out->data + out->len;
    for (int64_t i = from; i < from + n; i++) {
        if (!dl_bitmap_get(valid, i)) continue;
        memcpy(p, base + (size_t)i * w, w);
        p += w;
    }
    out->len = (size_t)(p - out->data);
    return DL_OK;
}

/* Appends the dictionary values (PLAIN) in id order. */
static int dict_encode_page(const dl_column *col, const dict_build *d, dl_buf *out) {
    for (int64_t v = 0; v < d->num_values; v++) {
        int64_t r = d->first_row[v];
        if (is_var(col->type)) {
            uint32_t len = (uint32_t)(col->offsets[r + 1] - col->offsets[r]);
            if (dl_buf_append_u32le(out, len) != DL_OK ||
                dl_buf_append(out, col->data + col->offsets[r], len) != DL_OK)
                return DL_ENOMEM;
        } else {
            size_t w = dl_type_width(col->type);
            if (dl_buf_append(out, (const uint8_t *)col->values + (size_t)r * w, w) != DL_OK)
                return DL_ENOMEM;
        }
    }
    return DL_OK;
}

/* Sorted (non-decreasing) non-null int64 values? */
static bool is_sorted_i64(const dl_column *col, int64_t from, int64_t n) {
    if (col->validity && col->null_count > 0) return false;
    const int64_t *v = (const int64_t *)col->values + from;
    for (int64_t i = 1; i < n; i++)
        if (v[i] < v[i - 1]) return false;
    return true;
}

static int gather_i64(const dl_column *col, int64_t from, int64_t n, dl_buf *tmp,
                      const int64_t **out) {
    if (!col->validity) {
        *out = (const int64_t *)col->values + from;
        return DL_OK;
    }
    dl_buf_reset(tmp);
    if (plain_encode_rows(col, from, n, tmp) != DL_OK) return DL_ENOMEM;
    *out = (const int64_t *)(const void *)tmp->data;
    return DL_OK;
}

/* Writes one page (header + compressed body) to job->bytes. */
static int emit_page(chunk_job *job, int32_t page_type, const dl_buf *levels, const dl_buf *values,
                     int64_t num_values, int64_t num_nulls, int64_t num_rows, int32_t encoding,
                     dl_buf *scratch, dl_buf *body) {
    const dl_write_options *o = job->opts;
    int rc = DL_OK;
    dl_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = page_type;
    dl_buf_reset(body);
    size_t uncompressed;
    bool v2 = page_type == DL_PQ_PAGE_DATA_V2;
    if (v2) {
        /* levels stay uncompressed, values are compressed on their own */
        size_t levels_len = levels ? levels->len : 0;
        if (levels_len)
            DL_TRY(dl_buf_append(body, levels->data, levels_len) == DL_OK ? DL_OK : DL_ENOMEM);
        DL_TRY(dl_compress(o->codec, o->compression_level, values->data, values->len, body,
                           &job->err));
        uncompressed = levels_len + values->len;
    } else {
        const dl_buf *src = values;
        if (levels && levels->len) { /* v1: [u32 length][levels][values], compressed together */
            dl_buf_reset(scratch);
            DL_TRY(dl_buf_append_u32le(scratch, (uint32_t)levels->len) == DL_OK ? DL_OK
                                                                                : DL_ENOMEM);
            DL_TRY(dl_buf_append(scratch, levels->data, levels->len) == DL_OK ? DL_OK : DL_ENOMEM);
            DL_TRY(dl_buf_append(scratch, values->data, values->len) == DL_OK ? DL_OK : DL_ENOMEM);
            src = scratch;
        }
        DL_TRY(dl_compress(o->codec, o->compression_level, src->data, src->len, body, &job->err));
        uncompressed = src->len;
    }
    if (uncompressed > INT32_MAX || body->len > INT32_MAX)
        DL_FAIL(&job->err, DL_EINVAL, "column %s: page larger than 2 GiB; lower page_bytes",
                job->field->name);
    h.uncompressed_page_size = (int32_t)uncompressed;
    h.compressed_page_size = (int32_t)body->len;
    if (o->page_crc) { /* readers detect bit rot: the CRC covers the page bytes as stored */
        h.has_crc = true;
        h.crc = (int32_t)dl_pq_page_crc(body->data, body->len);
    }
    if (page_type == DL_PQ_PAGE_DICTIONARY) {
        h.has_dictionary_page = true;
        h.dictionary_page.num_values = (int32_t)num_values;
        h.dictionary_page.encoding = DL_PQ_ENC_PLAIN;
    } else if (v2) {
        h.has_data_page_v2 = true;
        h.data_page_v2.num_values = (int32_t)num_values;
        h.data_page_v2.num_nulls = (int32_t)num_nulls;
        h.data_page_v2.num_rows = (int32_t)num_rows;
        h.data_page_v2.encoding = encoding;
        h.data_page_v2.definition_levels_byte_length = (int32_t)(levels ? levels->len : 0);
        h.data_page_v2.is_compressed = o->codec != DL_CODEC_NONE;
    } else {
        h.has_data_page = true;
        h.data_page.num_values = (int32_t)num_values;
        h.data_page.encoding = encoding;
        h.data_page.definition_level_encoding = DL_PQ_ENC_RLE;
        h.data_page.repetition_level_encoding = DL_PQ_ENC_RLE;
    }
    size_t start = job->bytes.len;
    DL_TRY(dl_pq_encode_page_header(&h, &job->bytes, &job->err));
    size_t header_len = job->bytes.len - start;
    DL_TRY(dl_buf_append(&job->bytes, body->data, body->len) == DL_OK ? DL_OK : DL_ENOMEM);
    job->uncompressed_total += (int64_t)(header_len + uncompressed);
    if (page_type == DL_PQ_PAGE_DICTIONARY) job->dict_page_size = (int64_t)(job->bytes.len - start);
cleanup:
    if (rc == DL_ENOMEM && !job->err.message[0])
        dl_error_set(&job->err, DL_ENOMEM, "out of memory");
    return rc;
}

/* Definition levels (bit width 1) of rows [from, from+n). */
static int encode_def_levels(const dl_column *col, int64_t from, int64_t n, dl_buf *out) {
    if (col->validity) return dl_rle_encode_validity(col->validity, from, n, out);
    /* all present: one RLE run of 1s */
    if (dl_buf_append_uleb(out, (uint64_t)n << 1) != DL_OK) return DL_ENOMEM;
    return dl_buf_append_u8(out, 1);
}

static void encode_chunk(chunk_job *job) {
    const dl_column *col = job->col;
    const dl_write_options *o = job->opts;
    int64_t from = job->from, n = job->count;
    int rc = DL_OK;
    dl_buf levels = DL_BUF_INIT, values = DL_BUF_INIT, scratch = DL_BUF_INIT, body = DL_BUF_INIT,
           tmp = DL_BUF_INIT;
    dict_build dict = {0};
    dl_pq_schema_element el;
    DL_TRY(dl_pq_element_from_field(job->field, &el, &job->err));
    job->physical = el.type;

    /* one allocation for the chunk in the common case */
    if (dl_buf_reserve(
            &job->bytes,
            (size_t)(n * (int64_t)(dl_type_width(col->type) ? dl_type_width(col->type) : 8)) / 2 +
                4096) != DL_OK)
        DL_FAIL(&job->err, DL_ENOMEM, "out of memory");
    int64_t nulls = 0;
    if (col->validity && col->null_count > 0)
        for (int64_t i = from; i < from + n; i++) nulls += !dl_bitmap_get(col->validity, i);
    if (nulls > 0 && !job->field->nullable)
        DL_FAIL(&job->err, DL_EINVAL, "column %s is not nullable but holds %lld nulls",
                job->field->name, (long long)nulls);
    int64_t nonnull = n - nulls;

    /* choose the value encoding */
    job->value_encoding = DL_PQ_ENC_PLAIN;
    bool i64 = el.type == DL_PQ_INT64;
    if (o->delta_timestamps && i64 && nulls == 0 && n > 1 && is_sorted_i64(col, from, n)) {
        dl_buf_reset(&tmp);
        DL_TRY(dl_dbp_encode_i64((const int64_t *)col->values + from, n, &tmp));
        if ((int64_t)tmp.len < n * 8) job->value_encoding = DL_PQ_ENC_DELTA_BINARY_PACKED;
    }
    if (job->value_encoding == DL_PQ_ENC_PLAIN && o->dictionary && col->type != DL_TYPE_BOOL &&
        dict_try_build(col, from, n, nonnull, o->dictionary_bytes, &dict)) {
        job->value_encoding = DL_PQ_ENC_RLE_DICTIONARY;
        job->has_dict = true;
        dl_buf_reset(&values);
        DL_TRY(dict_encode_page(col, &dict, &values));
        DL_TRY(emit_page(job, DL_PQ_PAGE_DICTIONARY, NULL, &values, dict.num_values, 0, 0,
                         DL_PQ_ENC_PLAIN, &scratch, &body));
    }

    /* rows per page: page_rows, and about page_bytes of PLAIN values */
    int64_t row_bytes = is_var(col->type)
                            ? 4 + (n ? (col->offsets[from + n] - col->offsets[from]) / n : 0)
                            : (int64_t)dl_type_width(col->type);
    if (row_bytes < 1) row_bytes = 1;
    int64_t per_page = o->page_bytes / row_bytes;
    if (per_page > o->page_rows) per_page = o->page_rows;
    if (per_page < 1) per_page = 1;

    int64_t dict_pos = 0; /* next index into dict.indices */
    int bit_width = job->has_dict ? dl_bit_width((uint64_t)(dict.num_values - 1)) : 0;
    if (job->has_dict && bit_width == 0) bit_width = 1; /* some readers dislike width 0 */
    int32_t page_type = o->data_page_version == 2 ? DL_PQ_PAGE_DATA_V2 : DL_PQ_PAGE_DATA;
    for (int64_t p0 = 0; p0 < n || (n == 0 && p0 == 0); p0 += per_page) {
        int64_t pn = DL_MIN(per_page, n - p0);
        int64_t row0 = from + p0;
        if (job->num_pages == job->cap_pages) {
            int cap = job->cap_pages ? job->cap_pages * 2 : 16;
            page_info *pg = realloc(job->pages, (size_t)cap * sizeof *pg);
            if (!pg) DL_FAIL(&job->err, DL_ENOMEM, "out of memory");
            job->pages = pg;
            job->cap_pages = cap;
        }
        page_info *pi = &job->pages[job->num_pages++];
        pi->offset = (int64_t)job->bytes.len;
        pi->first_row = p0;
        stat_compute(col, row0, pn, &pi->stats);
        stat_merge(&job->stats, &pi->stats, col->type);

        dl_buf_reset(&levels);
        dl_buf_reset(&values);
        if (job->field->nullable) DL_TRY(encode_def_levels(col, row0, pn, &levels));
        int64_t page_nonnull = pn - pi->stats.nulls;
        switch (job->value_encoding) {
        case DL_PQ_ENC_RLE_DICTIONARY:
            DL_TRY(dl_buf_append_u8(&values, (uint8_t)bit_width));
            DL_TRY(dl_rle_encode_u32(dict.indices + dict_pos, page_nonnull, bit_width, &values));
            dict_pos += page_nonnull;
            break;
        case DL_PQ_ENC_DELTA_BINARY_PACKED: {
            const int64_t *v;
            DL_TRY(gather_i64(col, row0, pn, &tmp, &v));
            DL_TRY(dl_dbp_encode_i64(v, page_nonnull, &values));
            break;
        }
        default:
            DL_TRY(plain_encode_rows(col, row0, pn, &values));
        }
        DL_TRY(emit_page(job, page_type, job->field->nullable ? &levels : NULL, &values, pn,
                         pi->stats.nulls, pn, job->value_encoding, &scratch, &body));
        pi->size = (int32_t)((int64_t)job->bytes.len - pi->offset);
        if (n == 0) break;
    }
cleanup:
    if (rc != DL_OK && job->err.code == DL_OK)
        dl_error_set(&job->err, rc, "column %s: %s", job->field->name, dl_status_name(rc));
    job->rc = rc;
    dict_free(&dict);
    dl_buf_free(&levels);
    dl_buf_free(&values);
    dl_buf_free(&scratch);
    dl_buf_free(&body);
    dl_buf_free(&tmp);
}

/* ------------------------------------------------------------------ */
/* The writer                                                           */
/* ------------------------------------------------------------------ */

typedef struct chunk_record { /* what the footer needs of a written chunk */
    dl_pq_column_meta meta;
    int32_t encodings[3];
    dl_pq_page_encoding_stats enc_stats[2];
    dl_pq_offset_index offset_index;
    dl_pq_column_index column_index;
    int64_t ci_offset, oi_offset;
    int32_t ci_len, oi_len;
} chunk_record;

typedef struct rg_record {
    int64_t num_rows, total_bytes, compressed_bytes, file_offset;
    chunk_record *chunks;
} rg_record;

struct dl_parquet_writer {
    int fd;
    char *path;
    dl_schema schema;
    dl_write_options opts;
    dl_buf out;       /* pending output bytes */
    int64_t pos;      /* file position of out.data[0] + out.len == next byte */
    dl_table pending; /* rows waiting for a full row group */
    rg_record *rgs;
    int num_rgs, cap_rgs;
    dl_pq_kv *kv;
    int num_kv;
    dl_arena arena; /* page-index arrays, kv strings, stat bytes */
    bool failed;
};

static int write_all(dl_parquet_writer *w, const uint8_t *p, size_t n, dl_error *err);

static int flush_out(dl_parquet_writer *w, dl_error *err) {
    int rc = write_all(w, w->out.data, w->out.len, err);
    dl_buf_reset(&w->out);
    return rc;
}

static int write_all(dl_parquet_writer *w, const uint8_t *p, size_t n, dl_error *err) {
    while (n > 0) {
        ssize_t k = dl_io_write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return dl_error_set(err, DL_EIO, "%s: write: %s", w->path, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
    return DL_OK;
}

static int emit(dl_parquet_writer *w, const void *p, size_t n, dl_error *err) {
    if (n >= WRITE_FLUSH_BYTES / 4) { /* large chunks go straight to the file */
        int rc = flush_out(w, err);
        if (rc != DL_OK) return rc;
        w->pos += (int64_t)n;
        return write_all(w, p, n, err);
    }
    if (dl_buf_append(&w->out, p, n) != DL_OK) return dl_error_set(err, DL_ENOMEM, "out of memory");
    w->pos += (int64_t)n;
    if (w->out.len >= WRITE_FLUSH_BYTES) return flush_out(w, err);
    return DL_OK;
}

static bool types_compatible(const dl_field *a, const dl_field *b) {
    return a->type == b->type && (a->type != DL_TYPE_TIMESTAMP || a->unit == b->unit);
}

int dl_parquet_writer_open(const char *path, const dl_schema *schema, const dl_write_options *opts,
                           dl_parquet_writer **out, dl_error *err) {
    DL_REQUIRE(err, path && schema && out);
    int rc = DL_OK;
    *out = NULL;
    dl_parquet_writer *w = calloc(1, sizeof *w);
    if (!w) return dl_error_set(err, DL_ENOMEM, "out of memory");
    w->fd = -1;
    dl_arena_init(&w->arena, 0);
    if (opts)
        w->opts = *opts;
    else
        dl_write_options_default(&w->opts);
    dl_write_options *o = &w->opts;
    if (o->row_group_rows <= 0) o->row_group_rows = 1 << 20;
    if (o->page_rows <= 0) o->page_rows = 20000;
    if (o->page_bytes <= 0) o->page_bytes = 1 << 20;
    if (o->dictionary_bytes <= 0) o->dictionary_bytes = 1 << 20;
    if (o->data_page_version != 2) o->data_page_version = 1;
    if (o->threads <= 0) o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (o->threads <= 0) o->threads = 1;
    if (schema->num_fields == 0)
        DL_FAIL(err, DL_EINVAL, "%s: a Parquet file needs at least one column", path);
    for (int i = 0; i < schema->num_fields; i++) {
        dl_pq_schema_element el;
        DL_TRY(dl_pq_element_from_field(&schema->fields[i], &el, err));
        for (int j = 0; j < i; j++)
            if (strcmp(schema->fields[i].name, schema->fields[j].name) == 0)
                DL_FAIL(err, DL_EINVAL, "%s: duplicate column name %s", path,
                        schema->fields[i].name);
    }
    if (!(w->path = strdup(path))) DL_FAIL(err, DL_ENOMEM, "out of memory");
    DL_TRY(dl_schema_copy(&w->schema, schema, err));
    DL_TRY(dl_table_init(&w->pending, schema, err));
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) DL_FAIL(err, DL_EIO, "%s: cannot create: %s", path, strerror(errno));
    DL_TRY(emit(w, "PAR1", 4, err));
    *out = w;
    return DL_OK;
cleanup:
    dl_parquet_writer_abort(w);
    return rc;
}

int dl_parquet_writer_set_kv(dl_parquet_writer *w, const char *key, const char *value,
                             dl_error *err) {
    DL_REQUIRE(err, w && key);
    dl_pq_kv *kv = realloc(w->kv, sizeof(dl_pq_kv) * (size_t)(w->num_kv + 1));
    if (!kv) return dl_error_set(err, DL_ENOMEM, "out of memory");
    w->kv = kv;
    kv[w->num_kv].key = dl_arena_strndup(&w->arena, key, strlen(key));
    kv[w->num_kv].value = value ? dl_arena_strndup(&w->arena, value, strlen(value)) : NULL;
    if (!kv[w->num_kv].key || (value && !kv[w->num_kv].value))
        return dl_error_set(err, DL_ENOMEM, "out of memory");
    w->num_kv++;
    return DL_OK;
}

typedef struct job_queue {
    chunk_job *jobs;
    int num_jobs;
    atomic_int next;
} job_queue;

static void *job_worker(void *arg) {
    job_queue *q = arg;
    for (;;) {
        int i = atomic_fetch_add(&q->next, 1);
        if (i >= q->num_jobs) return NULL;
        encode_chunk(&q->jobs[i]);
    }
}

/* Copies a stat value into the arena and returns the view. */
static dl_pq_bytes arena_bytes(dl_arena *a, const uint8_t *p, uint32_t len) {
    dl_pq_bytes b = {NULL, 0};
    uint8_t *q = dl_arena_alloc(a, len ? len : 1);
    if (q) {
        if (len) memcpy(q, p, len);
        b.ptr = q;
        b.len = len;
    }
    return b;
}

/* Fills statistics from an accumulator; stat bytes go into the arena.
** DL_ENOMEM when they cannot be stored: statistics are never silently
** dropped, since a page without min/max would be taken for all-null. */
static int fill_statistics(dl_arena *a, const stat_acc *acc, const dl_field *f,
                           dl_pq_statistics *s) {
    memset(s, 0, sizeof *s);
    s->has_null_count = true;
    s->null_count = acc->nulls;
    bool is_float = f->type == DL_TYPE_FLOAT || f->type == DL_TYPE_DOUBLE;
    if (is_float) {
        s->has_nan_count = true;
        s->nan_count = acc->nans;
    }
    if (!acc->has) return DL_OK;
    dl_buf store = DL_BUF_INIT;
    uint32_t lmin = 0, lmax = 0;
    bool emin, emax;
    int64_t omin = stat_store(acc, f->type, false, &store, &lmin, &emin);
    int64_t omax = stat_store(acc, f->type, true, &store, &lmax, &emax);
    if (omin >= 0 && omax >= 0) {
        s->min_value = arena_bytes(a, store.data + omin, lmin);
        s->max_value = arena_bytes(a, store.data + omax, lmax);
        s->has_min_value = s->min_value.ptr != NULL;
        s->has_max_value = s->max_value.ptr != NULL;
        if (is_var(f->type)) {
            s->has_is_min_value_exact = s->has_is_max_value_exact = true;
            s->is_min_value_exact = emin;
            s->is_max_value_exact = emax;
        } else if (f->type != DL_TYPE_BOOL) {
            /* signed sort order: also the legacy min/max, as Arrow C++ does */
            s->has_min = s->has_min_value;
            s->has_max = s->has_max_value;
            s->min = s->min_value;
            s->max = s->max_value;
        }
    }
    dl_buf_free(&store);
    bool oom = omin == -1 || omax == -1 ||
               (omin >= 0 && omax >= 0 && !(s->has_min_value && s->has_max_value));
    return oom ? DL_ENOMEM : DL_OK;
}

static int write_row_group(dl_parquet_writer *w, const dl_table *t, int64_t from, int64_t count,
                           dl_error *err) {
    int rc = DL_OK;
    int ncols = w->schema.num_fields;
    chunk_job *jobs = calloc((size_t)ncols, sizeof *jobs);
    chunk_record *recs = dl_arena_calloc(&w->arena, (size_t)ncols, sizeof *recs);
    if (!jobs || !recs) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int c = 0; c < ncols; c++) {
        jobs[c].field = &w->schema.fields[c];
        jobs[c].col = &t->columns[c];
        jobs[c].from = from;
        jobs[c].count = count;
        jobs[c].opts = &w->opts;
    }
    job_queue q = {jobs, ncols, 0};
    int nthreads = DL_MIN(w->opts.threads, ncols) - 1;
    pthread_t tids[64];
    if (nthreads > 63) nthreads = 63;
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&tids[started], NULL, job_worker, &q) != 0) break;
    job_worker(&q);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);

    int64_t rg_start = w->pos, total_uncompressed = 0;
    for (int c = 0; c < ncols; c++) {
        chunk_job *j = &jobs[c];
        if (j->rc != DL_OK) {
            if (err) *err = j->err;
            rc = j->rc;
            goto cleanup;
        }
        chunk_record *r = &recs[c];
        dl_pq_column_meta *m = &r->meta;
        int64_t base = w->pos;
        m->type = j->physical;
        int ne = 0;
        if (j->has_dict) {
            r->encodings[ne++] = DL_PQ_ENC_PLAIN; /* the dictionary page */
            r->encodings[ne++] = DL_PQ_ENC_RLE;   /* levels */
            r->encodings[ne++] = DL_PQ_ENC_RLE_DICTIONARY;
        } else {
            r->encodings[ne++] = j->value_encoding;
            r->encodings[ne++] = DL_PQ_ENC_RLE;
        }
        m->encodings = r->encodings;
        m->num_encodings = ne;
        const char **path = dl_arena_calloc(&w->arena, 1, sizeof(char *));
        if (!path) DL_FAIL(err, DL_ENOMEM, "out of memory");
        path[0] = j->field->name;
        m->path_in_schema = path;
        m->path_len = 1;
        m->codec = (int32_t)w->opts.codec;
        m->num_values = count;
        m->total_uncompressed_size = j->uncompressed_total;
        m->total_compressed_size = (int64_t)j->bytes.len;
        m->data_page_offset = base + (j->has_dict ? j->dict_page_size : 0);
        if (j->has_dict) {
            m->has_dictionary_page_offset = true;
            m->dictionary_page_offset = base;
        }
        if (w->opts.statistics) {
            m->has_statistics = true;
            if (fill_statistics(&w->arena, &j->stats, j->field, &m->statistics) != DL_OK)
                DL_FAIL(err, DL_ENOMEM, "out of memory storing column statistics");
        }
        int nes = 0;
        if (j->has_dict)
            r->enc_stats[nes++] =
                (dl_pq_page_encoding_stats){DL_PQ_PAGE_DICTIONARY, DL_PQ_ENC_PLAIN, 1};
        r->enc_stats[nes++] = (dl_pq_page_encoding_stats){
            w->opts.data_page_version == 2 ? DL_PQ_PAGE_DATA_V2 : DL_PQ_PAGE_DATA,
            j->value_encoding, j->num_pages};
        m->encoding_stats = r->enc_stats;
        m->num_encoding_stats = nes;

        if (w->opts.page_index) {
            int np = j->num_pages;
            dl_pq_offset_index *oi = &r->offset_index;
            dl_pq_column_index *ci = &r->column_index;
            oi->pages = dl_arena_calloc(&w->arena, (size_t)np, sizeof *oi->pages);
            ci->null_pages = dl_arena_calloc(&w->arena, (size_t)np, sizeof(bool));
            ci->min_values = dl_arena_calloc(&w->arena, (size_t)np, sizeof(dl_pq_bytes));
            ci->max_values = dl_arena_calloc(&w->arena, (size_t)np, sizeof(dl_pq_bytes));
            ci->null_counts = dl_arena_calloc(&w->arena, (size_t)np, sizeof(int64_t));
            if (!oi->pages || !ci->null_pages || !ci->min_values || !ci->max_values ||
                !ci->null_counts)
                DL_FAIL(err, DL_ENOMEM, "out of memory");
            oi->num_pages = ci->num_pages = np;
            ci->has_null_counts = true;
            bool asc = true, desc = true;
            for (int p = 0; p < np; p++) {
                page_info *pi = &j->pages[p];
                oi->pages[p] = (dl_pq_page_location){base + pi->offset, pi->size, pi->first_row};
                dl_pq_statistics ps;
                if (fill_statistics(&w->arena, &pi->stats, j->field, &ps) != DL_OK)
                    DL_FAIL(err, DL_ENOMEM, "out of memory storing page statistics");
                ci->null_counts[p] = pi->stats.nulls;
                ci->null_pages[p] = !ps.has_min_value;
                if (ps.has_min_value) {
                    ci->min_values[p] = ps.min_value;
                    ci->max_values[p] = ps.max_value;
                } else {
                    ci->min_values[p] = ci->max_values[p] = (dl_pq_bytes){(const uint8_t *)"", 0};
                }
                if (p > 0 && !ci->null_pages[p] && !ci->null_pages[p - 1]) {
                    stat_acc *a = &j->pages[p - 1].stats, *b = &pi->stats;
                    int cmin, cmax;
                    if (j->field->type == DL_TYPE_FLOAT || j->field->type == DL_TYPE_DOUBLE) {
                        cmin = (a->fmin > b->fmin) - (a->fmin < b->fmin);
                        cmax = (a->fmax > b->fmax) - (a->fmax < b->fmax);
                    } else if (is_var(j->field->type)) {
                        cmin = dl_bytes_cmp(a->smin, a->smin_len, b->smin, b->smin_len);
                        cmax = dl_bytes_cmp(a->smax, a->smax_len, b->smax, b->smax_len);
                    } else {
                        cmin = (a->imin > b->imin) - (a->imin < b->imin);
                        cmax = (a->imax > b->imax) - (a->imax < b->imax);
                    }
                    if (cmin > 0 || cmax > 0) asc = false;
                    if (cmin < 0 || cmax < 0) desc = false;
                } else if (p > 0) {
                    asc = desc = false;
                }
            }
            ci->boundary_order =
                np > 1 && asc    ? DL_PQ_BOUNDARY_ASCENDING
                : np > 1 && desc ? DL_PQ_BOUNDARY_DESCENDING
                                 : (np == 1 ? DL_PQ_BOUNDARY_ASCENDING : DL_PQ_BOUNDARY_UNORDERED);
        }
        total_uncompressed += j->uncompressed_total;
        DL_TRY(emit(w, j->bytes.data, j->bytes.len, err));
    }
    if (w->num_rgs == w->cap_rgs) {
        int cap = w->cap_rgs ? w->cap_rgs * 2 : 8;
        rg_record *r = realloc(w->rgs, (size_t)cap * sizeof *r);
        if (!r) DL_FAIL(err, DL_ENOMEM, "out of memory");
        w->rgs = r;
        w->cap_rgs = cap;
    }
    w->rgs[w->num_rgs++] =
        (rg_record){count, total_uncompressed, w->pos - rg_start, rg_start, recs};
cleanup:
    if (jobs) {
        for (int c = 0; c < ncols; c++) {
            dl_buf_free(&jobs[c].bytes);
            free(jobs[c].pages);
        }
        free(jobs);
    }
    if (rc != DL_OK) w->failed = true;
    return rc;
}

int dl_parquet_writer_write(dl_parquet_writer *w, const dl_table *t, dl_error *err) {
    DL_REQUIRE(err, w && t);
    int rc = DL_OK;
    if (w->failed) return dl_error_set(err, DL_EINVAL, "%s: writer already failed", w->path);
    if (t->schema.num_fields != w->schema.num_fields)
        return dl_error_set(err, DL_EINVAL, "%s: table has %d columns, file schema has %d", w->path,
                            t->schema.num_fields, w->schema.num_fields);
    for (int c = 0; c < t->schema.num_fields; c++) {
        if (!types_compatible(&t->schema.fields[c], &w->schema.fields[c]) ||
            t->columns[c].type != w->schema.fields[c].type)
            return dl_error_set(err, DL_EINVAL, "%s: column %s has type %s, file schema says %s",
                                w->path, w->schema.fields[c].name, dl_type_name(t->columns[c].type),
                                dl_type_name(w->schema.fields[c].type));
        if (t->columns[c].length != t->num_rows)
            return dl_error_set(err, DL_EINVAL, "%s: column %s has %lld rows, table has %lld",
                                w->path, w->schema.fields[c].name, (long long)t->columns[c].length,
                                (long long)t->num_rows);
    }
    int64_t rg = w->opts.row_group_rows, from = 0;
    /* top up a partially filled pending row group first */
    if (w->pending.num_rows > 0) {
        int64_t take = DL_MIN(rg - w->pending.num_rows, t->num_rows);
        for (int c = 0; c < t->schema.num_fields; c++)
            DL_TRY(dl_column_append_range(&w->pending.columns[c], &t->columns[c], 0, take, err));
        w->pending.num_rows += take;
        from = take;
        if (w->pending.num_rows == rg) {
            DL_TRY(write_row_group(w, &w->pending, 0, rg, err));
            for (int c = 0; c < t->schema.num_fields; c++) dl_column_clear(&w->pending.columns[c]);
            w->pending.num_rows = 0;
        }
    }
    /* full row groups straight from the caller's columns: no copy */
    while (t->num_rows - from >= rg) {
        DL_TRY(write_row_group(w, t, from, rg, err));
        from += rg;
    }
    if (from < t->num_rows) {
        for (int c = 0; c < t->schema.num_fields; c++)
            DL_TRY(dl_column_append_range(&w->pending.columns[c], &t->columns[c], from,
                                          t->num_rows - from, err));
        w->pending.num_rows += t->num_rows - from;
    }
cleanup:
    if (rc != DL_OK) w->failed = true;
    return rc;
}

static int write_footer(dl_parquet_writer *w, dl_error *err) {
    int rc = DL_OK;
    int ncols = w->schema.num_fields;
    dl_buf tmp = DL_BUF_INIT;
    dl_pq_file_meta fm;
    memset(&fm, 0, sizeof fm);
    /* page indexes: all ColumnIndexes, then all OffsetIndexes */
    if (w->opts.page_index) {
        for (int pass = 0; pass < 2; pass++) {
            for (int r = 0; r < w->num_rgs; r++) {
                for (int c = 0; c < ncols; c++) {
                    chunk_record *cr = &w->rgs[r].chunks[c];
                    dl_buf_reset(&tmp);
                    if (pass == 0)
                        DL_TRY(dl_pq_encode_column_index(&cr->column_index, &tmp, err));
                    else
                        DL_TRY(dl_pq_encode_offset_index(&cr->offset_index, &tmp, err));
                    if (pass == 0) {
                        cr->ci_offset = w->pos;
                        cr->ci_len = (int32_t)tmp.len;
                    } else {
                        cr->oi_offset = w->pos;
                        cr->oi_len = (int32_t)tmp.len;
                    }
                    DL_TRY(emit(w, tmp.data, tmp.len, err));
                }
            }
        }
    }
    fm.version = 1;
    fm.num_schema = ncols + 1;
    fm.schema = dl_arena_calloc(&w->arena, (size_t)fm.num_schema, sizeof *fm.schema);
    fm.row_groups =
        dl_arena_calloc(&w->arena, (size_t)(w->num_rgs ? w->num_rgs : 1), sizeof *fm.row_groups);
    fm.column_orders = dl_arena_calloc(&w->arena, (size_t)ncols, sizeof(int32_t));
    if (!fm.schema || !fm.row_groups || !fm.column_orders) DL_FAIL(err, DL_ENOMEM, "out of memory");
    fm.schema[0].name = "schema";
    fm.schema[0].has_num_children = true;
    fm.schema[0].num_children = ncols;
    for (int c = 0; c < ncols; c++) {
        DL_TRY(dl_pq_element_from_field(&w->schema.fields[c], &fm.schema[c + 1], err));
        fm.column_orders[c] = DL_PQ_ORDER_TYPE;
    }
    fm.num_column_orders = ncols;
    for (int r = 0; r < w->num_rgs; r++) {
        rg_record *rr = &w->rgs[r];
        dl_pq_row_group *g = &fm.row_groups[r];
        g->num_rows = rr->num_rows;
        g->total_byte_size = rr->total_bytes;
        g->has_total_compressed_size = true;
        g->total_compressed_size = rr->compressed_bytes;
        g->has_file_offset = true;
        g->file_offset = rr->file_offset;
        g->has_ordinal = true;
        g->ordinal = (int16_t)r;
        g->num_columns = ncols;
        g->columns = dl_arena_calloc(&w->arena, (size_t)ncols, sizeof *g->columns);
        if (!g->columns) DL_FAIL(err, DL_ENOMEM, "out of memory");
        for (int c = 0; c < ncols; c++) {
            chunk_record *cr = &rr->chunks[c];
            dl_pq_column_chunk *cc = &g->columns[c];
            cc->file_offset = cr->meta.has_dictionary_page_offset ? cr->meta.dictionary_page_offset
                                                                  : cr->meta.data_page_offset;
            cc->has_meta_data = true;
            cc->meta = cr->meta;
            if (w->opts.page_index) {
                cc->has_column_index = true;
                cc->column_index_offset = cr->ci_offset;
                cc->column_index_length = cr->ci_len;
                cc->has_offset_index = true;
                cc->offset_index_offset = cr->oi_offset;
                cc->offset_index_length = cr->oi_len;
            }
        }
        fm.num_rows += rr->num_rows;
    }
    fm.num_row_groups = w->num_rgs;
    fm.kv = w->kv;
    fm.num_kv = w->num_kv;
    fm.created_by = dl_pq_test_created_by ? dl_pq_test_created_by : DL_PQ_CREATED_BY;
    dl_buf_reset(&tmp);
    DL_TRY(dl_pq_encode_file_meta(&fm, &tmp, err));
    if (tmp.len > INT32_MAX) DL_FAIL(err, DL_EINVAL, "%s: footer too large", w->path);
    DL_TRY(emit(w, tmp.data, tmp.len, err));
    uint8_t trailer[8];
    dl_store_u32le(trailer, (uint32_t)tmp.len);
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): the 4 magic bytes, no terminator
    memcpy(trailer + 4, "PAR1", 4);
    DL_TRY(emit(w, trailer, 8, err));
    DL_TRY(flush_out(w, err));
cleanup:
    dl_buf_free(&tmp);
    return rc;
}

int dl_parquet_writer_close(dl_parquet_writer *w, bool do_fsync, dl_error *err) {
    DL_REQUIRE(err, w);
    int rc = DL_OK;
    if (w->failed)
        DL_FAIL(err, DL_EINVAL, "%s: not finished because an earlier write failed", w->path);
    if (w->pending.num_rows > 0 || w->num_rgs == 0)
        DL_TRY(write_row_group(w, &w->pending, 0, w->pending.num_rows, err));
    DL_TRY(write_footer(w, err));
    if (do_fsync && dl_io_fsync(w->fd) != 0)
        DL_FAIL(err, DL_EIO, "%s: fsync: %s", w->path, strerror(errno));
    if (close(w->fd) != 0) {
        w->fd = -1;
        DL_FAIL(err, DL_EIO, "%s: close: %s", w->path, strerror(errno));
    }
    w->fd = -1;
cleanup:
    dl_parquet_writer_abort(w);
    return rc;
}

void dl_parquet_writer_abort(dl_parquet_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    dl_buf_free(&w->out);
    dl_table_free(&w->pending);
    dl_schema_free(&w->schema);
    free(w->rgs);
    free(w->kv);
    free(w->path);
    dl_arena_free(&w->arena);
    free(w);
}

int dl_parquet_write_table(const char *path, const dl_table *table, const dl_write_options *opts,
                           dl_error *err) {
    DL_REQUIRE(err, path && table);
    dl_parquet_writer *w;
    int rc = dl_parquet_writer_open(path, &table->schema, opts, &w, err);
    if (rc != DL_OK) return rc;
    rc = dl_parquet_writer_write(w, table, err);
    if (rc != DL_OK) {
        dl_parquet_writer_abort(w);
        return rc;
    }
    return dl_parquet_writer_close(w, false, err);
}
