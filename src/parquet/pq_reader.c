/*
** pq_reader.c -- the Parquet reader: validates the footer, maps the flat
** schema to dl_fields, and decodes column chunks page by page straight
** into dl_column vectors (contiguous values + validity bitmap).
**
** Every size read from the file is checked against the bytes really there
** before it is used: chunk ranges against the file, page sizes against the
** chunk, decompressed sizes against what the page's value count can
** legitimately need, value counts against the row group.  Errors name the
** file, row group, column and byte offset.
*/
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pq_encoding.h"
#include "pq_meta.h"
#include "pq_schema.h"
#include "util/dl_buf.h"
#include "util/dl_codec.h"
#include "util/dl_internal.h"

#define MAX_PAGE_BYTES   ((int64_t)1 << 30)
#define SMALL_FILE_BYTES ((size_t)4 << 20) /* read, don't map, files up to this size */

struct dl_parquet_reader {
    char *name;
    const uint8_t *data;
    size_t size;
    void *map; /* non-NULL when we own an mmap */
    size_t map_size;
    uint8_t *copy;       /* non-NULL when a small file was read into memory */
    size_t footer_start; /* first byte of FileMetaData */
    dl_arena arena;
    dl_pq_file_meta meta;
    dl_schema schema;
    dl_pq_leaf *leaves;
    bool *order_trusted; /* per column: min_value/max_value usable */
    bool check_crc;      /* verify page CRCs where the file has them (default) */
};

/* ------------------------------------------------------------------ */
/* Opening                                                              */
/* ------------------------------------------------------------------ */

static int validate_meta(dl_parquet_reader *r, dl_error *err) {
    const dl_pq_file_meta *m = &r->meta;
    int ncols = r->schema.num_fields;
    for (int g = 0; g < m->num_row_groups; g++) {
        const dl_pq_row_group *rg = &m->row_groups[g];
        if (rg->num_columns != ncols)
            return dl_error_set(err, DL_ECORRUPT, "row group %d has %d columns, schema has %d", g,
                                rg->num_columns, ncols);
        if (rg->num_rows < 0)
            return dl_error_set(err, DL_ECORRUPT, "row group %d: negative row count", g);
        for (int c = 0; c < ncols; c++) {
            const dl_pq_column_chunk *cc = &rg->columns[c];
            const char *cname = r->schema.fields[c].name;
            if (cc->encrypted)
                return dl_error_set(err, DL_EUNSUPPORTED, "row group %d, column %s: encrypted", g,
                                    cname);
            if (cc->file_path && cc->file_path[0])
                return dl_error_set(err, DL_EUNSUPPORTED,
                                    "row group %d, column %s: data in external file %s", g, cname,
                                    cc->file_path);
            if (!cc->has_meta_data)
                return dl_error_set(err, DL_ECORRUPT, "row group %d, column %s: no column metadata",
                                    g, cname);
            const dl_pq_column_meta *cm = &cc->meta;
            if (cm->type != r->leaves[c].physical)
                return dl_error_set(
                    err, DL_ECORRUPT,
                    "row group %d, column %s: chunk type %s differs from schema type %s", g, cname,
                    dl_pq_type_name(cm->type), dl_pq_type_name(r->leaves[c].physical));
            if (cm->num_values < 0 || cm->total_compressed_size < 0 || cm->data_page_offset < 4)
                return dl_error_set(err, DL_ECORRUPT, "row group %d, column %s: bad chunk sizes", g,
                                    cname);
        }
    }
    return DL_OK;
}

static int open_common(dl_parquet_reader *r, dl_error *err) {
    int rc = DL_OK;
    const uint8_t *d = r->data;
    size_t n = r->size;
    if (n < 12)
        DL_FAIL(err, DL_ECORRUPT, "%s: not a Parquet file (%zu bytes, too short)", r->name, n);
    if (memcmp(d, "PAR1", 4) != 0 || memcmp(d + n - 4, "PAR1", 4) != 0) {
        if (memcmp(d + n - 4, "PARE", 4) == 0)
            DL_FAIL(err, DL_EUNSUPPORTED, "%s: encrypted Parquet files are not supported", r->name);
        DL_FAIL(err, DL_ECORRUPT, "%s: not a Parquet file (magic bytes PAR1 missing%s)", r->name,
                memcmp(d, "PAR1", 4) == 0 ? " at the end: truncated?" : "");
    }
    uint32_t flen = dl_load_u32le(d + n - 8);
    if ((size_t)flen > n - 12)
        DL_FAIL(err, DL_ECORRUPT, "%s: footer length %u exceeds the file size %zu (truncated?)",
                r->name, flen, n);
    r->footer_start = n - 8 - flen;
    size_t limit = (size_t)flen * 64 + ((size_t)64 << 20);
    dl_arena_init(&r->arena, limit);
    rc = dl_pq_decode_file_meta(d + r->footer_start, flen, &r->arena, &r->meta, err);
    if (rc != DL_OK) {
        dl_error_prefix(err, "%s: footer", r->name);
        goto cleanup;
    }
    if (r->meta.encrypted)
        DL_FAIL(err, DL_EUNSUPPORTED, "%s: encrypted Parquet files are not supported", r->name);
    const dl_pq_file_meta *m = &r->meta;
    if (m->num_schema < 1) DL_FAIL(err, DL_ECORRUPT, "%s: empty schema", r->name);
    int ncols = m->num_schema - 1;
    if (!m->schema[0].has_num_children || m->schema[0].num_children != ncols)
        DL_FAIL(err, DL_EUNSUPPORTED,
                "%s: nested schemas are not supported (root has %d children, %d elements)", r->name,
                m->schema[0].has_num_children ? m->schema[0].num_children : -1, ncols);
    r->leaves = dl_arena_calloc(&r->arena, (size_t)(ncols ? ncols : 1), sizeof *r->leaves);
    r->order_trusted = dl_arena_calloc(&r->arena, (size_t)(ncols ? ncols : 1), sizeof(bool));
    if (!r->leaves || !r->order_trusted) DL_FAIL(err, DL_ENOMEM, "%s: out of memory", r->name);
    dl_schema_init(&r->schema);
    for (int c = 0; c < ncols; c++) {
        dl_field f;
        rc = dl_pq_field_from_element(&m->schema[c + 1], &f, &r->leaves[c], err);
        if (rc != DL_OK) {
            dl_error_prefix(err, "%s", r->name);
            goto cleanup;
        }
        r->leaves[c].schema_index = c + 1;
        dl_field *fields = realloc(r->schema.fields, sizeof(dl_field) * (size_t)(c + 1));
        if (!fields) DL_FAIL(err, DL_ENOMEM, "out of memory");
        r->schema.fields = fields;
        fields[c] = f;
        if (!(fields[c].name = strdup(f.name))) DL_FAIL(err, DL_ENOMEM, "out of memory");
        r->schema.num_fields = c + 1;
        const dl_pq_schema_element *el = &m->schema[c + 1];
        bool unsigned64 = (el->logical.kind == DL_PQ_LT_INTEGER && !el->logical.is_signed &&
                           el->logical.bit_width == 64) ||
                          (el->has_converted_type && el->converted_type == DL_PQ_CT_UINT_64);
        r->order_trusted[c] = c < m->num_column_orders && m->column_orders[c] == DL_PQ_ORDER_TYPE &&
                              r->leaves[c].physical != DL_PQ_INT96 && !unsigned64;
    }
    rc = validate_meta(r, err);
    if (rc != DL_OK) dl_error_prefix(err, "%s", r->name);
cleanup:
    return rc;
}

static dl_parquet_reader *reader_new(const char *name) {
    dl_parquet_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->name = strdup(name ? name : "(memory)");
    if (!r->name) {
        free(r);
        return NULL;
    }
    r->check_crc = true;
    return r;
}

int dl_parquet_open_memory(const uint8_t *data, size_t size, const char *name,
                           dl_parquet_reader **out, dl_error *err) {
    DL_REQUIRE(err, (data || size == 0) && out);
    *out = NULL;
    dl_parquet_reader *r = reader_new(name);
    if (!r) return dl_error_set(err, DL_ENOMEM, "out of memory");
    r->data = data;
    r->size = size;
    int rc = open_common(r, err);
    if (rc != DL_OK) {
        dl_parquet_close(r);
        return rc;
    }
    *out = r;
    return DL_OK;
}

/* Loads the regular file open as fd into r (read or mapped) and opens it;
** messages name r->name. */
static int load_fd(dl_parquet_reader *r, int fd, dl_error *err) {
    int rc = DL_OK;
    const char *path = r->name;
    struct stat st;
    if (fstat(fd, &st) != 0) DL_FAIL(err, DL_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) DL_FAIL(err, DL_EINVAL, "%s: not a regular file", path);
    r->size = (size_t)st.st_size;
    if (r->size > 0 && r->size <= SMALL_FILE_BYTES) {
        /* Day files are small: one read beats mmap's page faults and the
        ** munmap TLB shootdown that other threads pay for. */
        r->copy = malloc(r->size);
        if (!r->copy) DL_FAIL(err, DL_ENOMEM, "%s: out of memory", path);
        size_t got = 0;
        while (got < r->size) {
            ssize_t n = pread(fd, r->copy + got, r->size - got, (off_t)got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) DL_FAIL(err, DL_EIO, "%s: read: %s", path, strerror(errno));
            if (n == 0) DL_FAIL(err, DL_ECORRUPT, "%s: file shrank while being read", path);
            got += (size_t)n;
        }
        r->data = r->copy;
    } else if (r->size > 0) {
        void *map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) DL_FAIL(err, DL_EIO, "%s: mmap: %s", path, strerror(errno));
        r->map = map;
        r->map_size = r->size;
        r->data = map;
    } else {
        r->data = (const uint8_t *)"";
    }
    rc = open_common(r, err);
cleanup:
    return rc;
}

int dl_parquet_open(const char *path, dl_parquet_reader **out, dl_error *err) {
    DL_REQUIRE(err, path && out);
    int rc = DL_OK;
    *out = NULL;
    dl_parquet_reader *r = reader_new(path);
    if (!r) return dl_error_set(err, DL_ENOMEM, "out of memory");
    int fd = -1;
    DL_TRY(dl_file_open_data(path, &fd, err));
    rc = load_fd(r, fd, err);
cleanup:
    if (fd >= 0) close(fd);
    if (rc != DL_OK) {
        dl_parquet_close(r);
        return rc;
    }
    *out = r;
    return DL_OK;
}

int dl_parquet_open_fd(int fd, const char *name, dl_parquet_reader **out, dl_error *err) {
    DL_REQUIRE(err, name && out);
    *out = NULL;
    dl_parquet_reader *r = reader_new(name);
    if (!r) return dl_error_set(err, DL_ENOMEM, "out of memory");
    int rc = load_fd(r, fd, err);
    if (rc != DL_OK) {
        dl_parquet_close(r);
        return rc;
    }
    *out = r;
    return DL_OK;
}

void dl_parquet_close(dl_parquet_reader *r) {
    if (!r) return;
    if (r->map) munmap(r->map, r->map_size);
    free(r->copy);
    dl_schema_free(&r->schema);
    dl_arena_free(&r->arena);
    free(r->name);
    free(r);
}

void dl_parquet_set_check_crc(dl_parquet_reader *r, bool check) {
    DL_REQUIRE_OR_RETURN(r, );
    r->check_crc = check;
}

const dl_schema *dl_parquet_schema(const dl_parquet_reader *r) {
    return &r->schema;
}
int64_t dl_parquet_num_rows(const dl_parquet_reader *r) {
    DL_REQUIRE_OR_RETURN(r, 0);
    return r->meta.num_rows;
}
int64_t dl_parquet_file_size(const dl_parquet_reader *r) {
    DL_REQUIRE_OR_RETURN(r, 0);
    return (int64_t)r->size;
}
int dl_parquet_num_row_groups(const dl_parquet_reader *r) {
    DL_REQUIRE_OR_RETURN(r, 0);
    return r->meta.num_row_groups;
}
int64_t dl_parquet_row_group_rows(const dl_parquet_reader *r, int g) {
    DL_REQUIRE_OR_RETURN(r, 0);
    return g >= 0 && g < r->meta.num_row_groups ? r->meta.row_groups[g].num_rows : 0;
}
const char *dl_parquet_created_by(const dl_parquet_reader *r) {
    DL_REQUIRE_OR_RETURN(r, NULL);
    return r->meta.created_by ? r->meta.created_by : "";
}
int dl_parquet_format_version(const dl_parquet_reader *r) {
    DL_REQUIRE_OR_RETURN(r, 0);
    return r->meta.version;
}
int dl_parquet_kv_count(const dl_parquet_reader *r) {
    DL_REQUIRE_OR_RETURN(r, 0);
    return r->meta.num_kv;
}
void dl_parquet_kv(const dl_parquet_reader *r, int i, const char **key, const char **value) {
    DL_REQUIRE_OR_RETURN(r, );
    *key = NULL;
    *value = NULL;
    if (i < 0 || i >= r->meta.num_kv) return;
    *key = r->meta.kv[i].key;
    *value = r->meta.kv[i].value;
}

static int check_chunk_args(const dl_parquet_reader *r, int g, int c, dl_error *err) {
    if (g < 0 || g >= r->meta.num_row_groups)
        return dl_error_set(err, DL_EINVAL, "%s: row group %d out of range (file has %d)", r->name,
                            g, r->meta.num_row_groups);
    if (c < 0 || c >= r->schema.num_fields)
        return dl_error_set(err, DL_EINVAL, "%s: column %d out of range (file has %d)", r->name, c,
                            r->schema.num_fields);
    return DL_OK;
}

/* ------------------------------------------------------------------ */
/* Statistics                                                           */
/* ------------------------------------------------------------------ */

/* Decodes one PLAIN statistics value of the leaf's physical type. */
static bool stat_value(const dl_pq_leaf *leaf, const dl_field *f, dl_pq_bytes b, dl_value *v) {
    memset(v, 0, sizeof *v);
    switch (leaf->physical) {
    case DL_PQ_BOOLEAN:
        if (b.len != 1) return false;
        v->i = b.ptr[0] != 0;
        break;
    case DL_PQ_INT32: {
        if (b.len != 4) return false;
        int32_t x;
        memcpy(&x, b.ptr, 4);
        v->i = leaf->convert == DL_PQ_CONV_U32_TO_I64 ? (int64_t)(uint32_t)x : x;
        break;
    }
    case DL_PQ_INT64: {
        if (b.len != 8) return false;
        memcpy(&v->i, b.ptr, 8);
        break;
    }
    case DL_PQ_FLOAT: {
        if (b.len != 4) return false;
        float x;
        memcpy(&x, b.ptr, 4);
        if (isnan(x)) return false;
        v->f = x;
        break;
    }
    case DL_PQ_DOUBLE:
        if (b.len != 8) return false;
        memcpy(&v->f, b.ptr, 8);
        if (isnan(v->f)) return false;
        break;
    case DL_PQ_BYTE_ARRAY:
    case DL_PQ_FIXED_LEN_BYTE_ARRAY:
        v->s = b.ptr;
        v->len = b.len;
        break;
    default:
        return false;
    }
    (void)f;
    v->present = true;
    return true;
}

static bool value_le(const dl_field *f, const dl_value *a, const dl_value *b) {
    switch (f->type) {
    case DL_TYPE_FLOAT:
    case DL_TYPE_DOUBLE:
        return a->f <= b->f;
    case DL_TYPE_STRING:
    case DL_TYPE_BINARY: {
        return dl_bytes_cmp(a->s, a->len, b->s, b->len) <= 0;
    }
    default:
        return a->i <= b->i;
    }
}

/* min/max pair -> dl_stats, refusing inconsistent values (min > max). */
static void stats_from_pair(const dl_pq_leaf *leaf, const dl_field *f, dl_pq_bytes mn,
                            dl_pq_bytes mx, dl_stats *out) {
    if (stat_value(leaf, f, mn, &out->min) && stat_value(leaf, f, mx, &out->max) &&
        value_le(f, &out->min, &out->max))
        out->has_min_max = true;
    else
        memset(&out->min, 0, sizeof out->min), memset(&out->max, 0, sizeof out->max);
}

int dl_parquet_chunk_stats(const dl_parquet_reader *r, int g, int c, dl_stats *out, dl_error *err) {
    DL_REQUIRE(err, r && out);
    memset(out, 0, sizeof *out);
    int rc = check_chunk_args(r, g, c, err);
    if (rc != DL_OK) return rc;
    const dl_pq_column_meta *cm = &r->meta.row_groups[g].columns[c].meta;
    if (!cm->has_statistics) return DL_OK;
    const dl_pq_statistics *s = &cm->statistics;
    out->has_null_count = s->has_null_count && s->null_count >= 0;
    out->null_count = out->has_null_count ? s->null_count : 0;
    out->num_values = cm->num_values;
    const dl_pq_leaf *leaf = &r->leaves[c];
    const dl_field *f = &r->schema.fields[c];
    if (r->order_trusted[c] && s->has_min_value && s->has_max_value) {
        stats_from_pair(leaf, f, s->min_value, s->max_value, out);
    } else if (s->has_min && s->has_max && leaf->physical != DL_PQ_BYTE_ARRAY &&
               leaf->physical != DL_PQ_FIXED_LEN_BYTE_ARRAY && leaf->physical != DL_PQ_INT96 &&
               leaf->convert != DL_PQ_CONV_U32_TO_I64 && f->type != DL_TYPE_BOOL) {
        /* deprecated min/max: signed comparison, valid for signed types */
        stats_from_pair(leaf, f, s->min, s->max, out);
    }
    return DL_OK;
}

int dl_parquet_chunk_info(const dl_parquet_reader *r, int g, int c, dl_chunk_info *out,
                          dl_error *err) {
    DL_REQUIRE(err, r && out);
    memset(out, 0, sizeof *out);
    int rc = check_chunk_args(r, g, c, err);
    if (rc != DL_OK) return rc;
    const dl_pq_column_chunk *cc = &r->meta.row_groups[g].columns[c];
    const dl_pq_column_meta *cm = &cc->meta;
    out->physical_type = dl_pq_type_name(cm->type);
    out->logical_type = r->leaves[c].logical_desc;
    out->codec = (dl_codec)cm->codec;
    out->codec_name = dl_codec_name_any(cm->codec);
    size_t pos = 0;
    for (int i = 0; i < cm->num_encodings; i++) {
        const char *name = dl_pq_encoding_name(cm->encodings[i]);
        bool dup = false;
        for (int j = 0; j < i; j++) dup |= cm->encodings[j] == cm->encodings[i];
        if (dup) continue;
        int n = snprintf(out->encodings + pos, sizeof out->encodings - pos, "%s%s", pos ? "," : "",
                         name);
        if (n < 0 || (size_t)n >= sizeof out->encodings - pos) break;
        pos += (size_t)n;
    }
    out->num_values = cm->num_values;
    out->compressed_bytes = cm->total_compressed_size;
    out->uncompressed_bytes = cm->total_uncompressed_size;
    out->has_dictionary = cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0;
    for (int i = 0; i < cm->num_encoding_stats; i++)
        if (cm->encoding_stats[i].page_type == DL_PQ_PAGE_DICTIONARY) out->has_dictionary = true;
    out->has_page_index = cc->has_offset_index || cc->has_column_index;
    return DL_OK;
}

/* Decodes a page-index structure at [off, off+len) after bounds checks. */
static int index_range(const dl_parquet_reader *r, int64_t off, int32_t len, const char *what,
                       dl_error *err) {
    if (off < 4 || len <= 0 || (uint64_t)off + (uint64_t)len > r->footer_start)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s: %s at offset %lld (%d bytes) lies outside the file", r->name, what,
                            (long long)off, len);
    return DL_OK;
}

int dl_parquet_page_stats(const dl_parquet_reader *r, int g, int c, dl_page_stats **out, int *count,
                          dl_error *err) {
    DL_REQUIRE(err, r && out && count);
    int rc = DL_OK;
    *out = NULL;
    *count = 0;
    dl_arena a;
    dl_arena_init(&a, ((size_t)64 << 20));
    dl_page_stats *res = NULL;
    DL_TRY(check_chunk_args(r, g, c, err));
    const dl_pq_column_chunk *cc = &r->meta.row_groups[g].columns[c];
    if (!cc->has_offset_index)
        DL_FAIL(err, DL_ENOTFOUND, "%s: row group %d, column %s has no page index", r->name, g,
                r->schema.fields[c].name);
    dl_pq_offset_index oi;
    dl_pq_column_index ci;
    bool have_ci = false;
    DL_TRY(index_range(r, cc->offset_index_offset, cc->offset_index_length, "offset index", err));
    DL_TRY(dl_pq_decode_offset_index(r->data + cc->offset_index_offset,
                                     (size_t)cc->offset_index_length, &a, &oi, err));
    if (cc->has_column_index &&
        index_range(r, cc->column_index_offset, cc->column_index_length, "column index", NULL) ==
            DL_OK &&
        dl_pq_decode_column_index(r->data + cc->column_index_offset,
                                  (size_t)cc->column_index_length, &a, &ci, NULL) == DL_OK &&
        ci.num_pages == oi.num_pages)
        have_ci = true;
    int64_t rg_rows = r->meta.row_groups[g].num_rows;
    res = calloc((size_t)(oi.num_pages ? oi.num_pages : 1), sizeof *res);
    if (!res) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int p = 0; p < oi.num_pages; p++) {
        int64_t first = oi.pages[p].first_row_index;
        int64_t next = p + 1 < oi.num_pages ? oi.pages[p + 1].first_row_index : rg_rows;
        if (first < 0 || next < first || next > rg_rows || (p == 0 && first != 0))
            DL_FAIL(err, DL_ECORRUPT,
                    "%s: row group %d, column %s: offset index page %d has bad row range", r->name,
                    g, r->schema.fields[c].name, p);
        res[p].first_row = first;
        res[p].num_rows = next - first;
        if (have_ci) {
            if (ci.has_null_counts) {
                res[p].stats.has_null_count = true;
                res[p].stats.null_count = ci.null_counts[p];
                res[p].stats.num_values = res[p].num_rows;
            }
            if (!ci.null_pages[p] && r->order_trusted[c]) {
                /* string views must outlive this call: point into the file */
                stats_from_pair(&r->leaves[c], &r->schema.fields[c], ci.min_values[p],
                                ci.max_values[p], &res[p].stats);
            }
        }
    }
    *out = res;
    *count = oi.num_pages;
    res = NULL;
cleanup:
    free(res);
    dl_arena_free(&a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Column chunk decoding                                                */
/* ------------------------------------------------------------------ */

typedef struct chunk_ctx {
    const dl_parquet_reader *r;
    int g, c;
    const dl_pq_leaf *leaf;
    const dl_field *field;
    int32_t codec;
    size_t out_width; /* bytes per output value (0 for var width) */
    int phys_width;   /* bytes per PLAIN physical value (0 for BYTE_ARRAY/bool) */
    /* dictionary */
    bool has_dict;
    int64_t dict_n;
    dl_buf dict_page;   /* decompressed dictionary page (views point into it) */
    dl_buf dict_values; /* fixed width: converted values; var: dl_bytes_view[] */
    /* scratch */
    dl_buf page;    /* decompressed page */
    dl_buf dense;   /* dense non-null values */
    dl_buf views;   /* dl_bytes_view[] */
    dl_buf indices; /* uint32 dictionary indices */
    dl_buf bitmap;  /* page validity */
    dl_buf dba;     /* DELTA_BYTE_ARRAY materialisation */
    dl_error *err;
    int64_t page_offset; /* file offset of the current page, for messages */
    int page_no;         /* its ordinal in the chunk (dictionary page = 0), idem */
} chunk_ctx;

static int ctx_fail(chunk_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__ /* the analyzer does not follow variadic calls; see dl_internal.h */
#define ctx_fail(x, code, ...) (ctx_fail((x), (code), __VA_ARGS__), (code))
#endif
static int(ctx_fail)(chunk_ctx *x, int code, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dl_error_set(x->err, code, "%s: row group %d, column %s, page %d at offset %lld: %s",
                        x->r->name, x->g, x->field->name, x->page_no, (long long)x->page_offset,
                        msg);
}

/* Adds file/row group/column/page context to an error from a decoder. */
static int ctx_wrap(chunk_ctx *x, int rc) {
    if (rc != DL_OK && x->err) {
        char inner[DL_ERROR_MESSAGE_MAX];
        memcpy(inner, x->err->message, sizeof inner);
        inner[sizeof inner - 1] = 0;
        ctx_fail(x, rc, "%s", inner);
    }
    return rc;
}

static void ctx_free(chunk_ctx *x) {
    dl_buf_free(&x->dict_page);
    dl_buf_free(&x->dict_values);
    dl_buf_free(&x->page);
    dl_buf_free(&x->dense);
    dl_buf_free(&x->views);
    dl_buf_free(&x->indices);
    dl_buf_free(&x->bitmap);
    dl_buf_free(&x->dba);
}

static int buf_size(dl_buf *b, size_t n) {
    dl_buf_reset(b);
    if (dl_buf_reserve(b, n ? n : 1) != DL_OK) return DL_ENOMEM;
    b->len = n;
    return DL_OK;
}

/* Converts `n` PLAIN physical fixed-width values at src to output values at dst. */
static void convert_fixed(const chunk_ctx *x, const uint8_t *src, int64_t n, uint8_t *dst) {
    switch (x->leaf->convert) {
    case DL_PQ_CONV_INT96_NS:
        for (int64_t i = 0; i < n; i++) {
            uint64_t nanos = dl_load_u64le(src + 12 * i);
            uint32_t julian = dl_load_u32le(src + 12 * i + 8);
            int64_t v = ((int64_t)julian - 2440588) * 86400000000000LL + (int64_t)nanos;
            memcpy(dst + 8 * i, &v, 8);
        }
        break;
    case DL_PQ_CONV_U32_TO_I64:
        for (int64_t i = 0; i < n; i++) {
            int64_t v = dl_load_u32le(src + 4 * i);
            memcpy(dst + 8 * i, &v, 8);
        }
        break;
    default:
        memcpy(dst, src, (size_t)n * x->out_width);
    }
}

/* Decodes `n` PLAIN booleans (bit-packed) starting at bit 0. */
static int plain_bools(const uint8_t *src, size_t len, int64_t n, uint8_t *dst) {
    if ((size_t)((n + 7) / 8) > len) return DL_ECORRUPT;
    for (int64_t i = 0; i < n; i++) dst[i] = (src[i >> 3] >> (i & 7)) & 1;
    return DL_OK;
}

static int load_dictionary(chunk_ctx *x, const dl_pq_page_header *h, const uint8_t *body,
                           size_t len) {
    if (x->has_dict)
        return ctx_fail(x, DL_ECORRUPT, "a second dictionary page in one column chunk");
    int64_t n = h->dictionary_page.num_values;
    if (n < 0) return ctx_fail(x, DL_ECORRUPT, "negative dictionary size");
    int enc = h->dictionary_page.encoding;
    if (enc != DL_PQ_ENC_PLAIN && enc != DL_PQ_ENC_PLAIN_DICTIONARY)
        return ctx_fail(x, DL_EUNSUPPORTED, "dictionary page encoding %s",
                        dl_pq_encoding_name(enc));
    if (x->leaf->physical == DL_PQ_BOOLEAN)
        return ctx_fail(x, DL_ECORRUPT, "dictionary for a boolean column");
    /* the decompressed page is kept: byte-array views point into it */
    if (buf_size(&x->dict_page, len) != DL_OK) return ctx_fail(x, DL_ENOMEM, "out of memory");
    memcpy(x->dict_page.data, body, len);
    if (x->out_width) {
        size_t need;
        if (dl_size_mul((size_t)n, (size_t)x->phys_width, &need) != 0 || need > len)
            return ctx_fail(x, DL_ECORRUPT,
                            "dictionary of %lld values needs %lld bytes, page has %zu",
                            (long long)n, (long long)n * x->phys_width, len);
        if (buf_size(&x->dict_values, (size_t)n * x->out_width) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        convert_fixed(x, x->dict_page.data, n, x->dict_values.data);
    } else {
        if ((size_t)n > len / (x->phys_width ? (size_t)x->phys_width : 4) + 1)
            return ctx_fail(x, DL_ECORRUPT, "dictionary of %lld values cannot fit in %zu bytes",
                            (long long)n, len);
        if (buf_size(&x->dict_values, (size_t)n * sizeof(dl_bytes_view)) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        dl_bytes_view *v = (dl_bytes_view *)(void *)x->dict_values.data;
        if (x->leaf->physical == DL_PQ_FIXED_LEN_BYTE_ARRAY) {
            for (int64_t i = 0; i < n; i++)
                v[i] =
                    (dl_bytes_view){x->dict_page.data + i * x->phys_width, (uint32_t)x->phys_width};
        } else {
            size_t used;
            int rc = dl_plain_decode_byte_array(x->dict_page.data, len, n, v, &used, x->err);
            if (rc != DL_OK) return ctx_wrap(x, rc);
        }
    }
    x->dict_n = n;
    x->has_dict = true;
    return DL_OK;
}

/* Decodes `nn` dense non-null values of the page's value section into
** x->dense (fixed width, output representation) or x->views (var width). */
static int decode_values(chunk_ctx *x, int32_t enc, const uint8_t *src, size_t len, int64_t nn,
                         uint8_t *direct) {
    int rc = DL_OK;
    size_t used = 0;
    bool var = x->out_width == 0;
    if (var) {
        if (buf_size(&x->views, (size_t)nn * sizeof(dl_bytes_view)) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
    } else if (!direct && buf_size(&x->dense, (size_t)nn * x->out_width) != DL_OK) {
        return ctx_fail(x, DL_ENOMEM, "out of memory");
    }
    dl_bytes_view *views = (dl_bytes_view *)(void *)x->views.data;
    /* values go straight into the output column when the page has no nulls */
    uint8_t *dense = direct ? direct : x->dense.data;
    switch (enc) {
    case DL_PQ_ENC_PLAIN:
        if (x->leaf->physical == DL_PQ_BOOLEAN) {
            if (plain_bools(src, len, nn, dense) != DL_OK)
                return ctx_fail(x, DL_ECORRUPT, "%lld booleans need %lld bytes, page has %zu",
                                (long long)nn, (long long)(nn + 7) / 8, len);
        } else if (x->leaf->physical == DL_PQ_BYTE_ARRAY) {
            rc = dl_plain_decode_byte_array(src, len, nn, views, &used, x->err);
            if (rc != DL_OK) return ctx_wrap(x, rc);
        } else if (x->leaf->physical == DL_PQ_FIXED_LEN_BYTE_ARRAY) {
            if ((uint64_t)nn * (uint64_t)x->phys_width > len)
                return ctx_fail(x, DL_ECORRUPT, "%lld values need more than the %zu bytes present",
                                (long long)nn, len);
            for (int64_t i = 0; i < nn; i++)
                views[i] = (dl_bytes_view){src + i * x->phys_width, (uint32_t)x->phys_width};
        } else {
            if ((uint64_t)nn * (uint64_t)x->phys_width > len)
                return ctx_fail(x, DL_ECORRUPT, "%lld values need %lld bytes, page has %zu",
                                (long long)nn, (long long)nn * x->phys_width, len);
            convert_fixed(x, src, nn, dense);
        }
        return DL_OK;
    case DL_PQ_ENC_PLAIN_DICTIONARY:
    case DL_PQ_ENC_RLE_DICTIONARY: {
        if (!x->has_dict)
            return ctx_fail(x, DL_ECORRUPT, "dictionary-encoded page without a dictionary page");
        if (nn == 0) return DL_OK;
        if (len < 1) return ctx_fail(x, DL_ECORRUPT, "missing dictionary index bit width");
        int bw = src[0];
        if (bw > 32) return ctx_fail(x, DL_ECORRUPT, "dictionary index bit width %d > 32", bw);
        if (buf_size(&x->indices, (size_t)nn * 4) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        uint32_t *idx = (uint32_t *)(void *)x->indices.data;
        dl_rle_decoder d;
        dl_rle_decoder_init(&d, src + 1, len - 1, bw);
        rc = dl_rle_decode_u32(&d, idx, nn, x->err);
        if (rc != DL_OK) return ctx_wrap(x, rc);
        uint32_t limit = (uint32_t)x->dict_n;
        uint32_t bad = 0;
        for (int64_t i = 0; i < nn; i++) bad |= idx[i] >= limit;
        if (bad)
            return ctx_fail(x, DL_ECORRUPT,
                            "dictionary index out of range (dictionary has %lld values)",
                            (long long)x->dict_n);
        if (var) {
            const dl_bytes_view *dv = (const dl_bytes_view *)(const void *)x->dict_values.data;
            for (int64_t i = 0; i < nn; i++) views[i] = dv[idx[i]];
        } else if (x->out_width == 8) {
            const uint64_t *dv = (const uint64_t *)(const void *)x->dict_values.data;
            uint64_t *o = (uint64_t *)(void *)dense;
            for (int64_t i = 0; i < nn; i++) o[i] = dv[idx[i]];
        } else if (x->out_width == 4) {
            const uint32_t *dv = (const uint32_t *)(const void *)x->dict_values.data;
            uint32_t *o = (uint32_t *)(void *)dense;
            for (int64_t i = 0; i < nn; i++) o[i] = dv[idx[i]];
        } else {
            for (int64_t i = 0; i < nn; i++)
                memcpy(dense + i * x->out_width, x->dict_values.data + idx[i] * x->out_width,
                       x->out_width);
        }
        return DL_OK;
    }
    case DL_PQ_ENC_RLE: {
        if (x->leaf->physical != DL_PQ_BOOLEAN)
            return ctx_fail(x, DL_EUNSUPPORTED, "RLE value encoding for a non-boolean column");
        if (len < 4) return ctx_fail(x, DL_ECORRUPT, "RLE boolean values: missing length prefix");
        uint32_t n = dl_load_u32le(src);
        if (n > len - 4)
            return ctx_fail(x, DL_ECORRUPT, "RLE boolean length %u exceeds page (%zu)", n, len - 4);
        dl_rle_decoder d;
        dl_rle_decoder_init(&d, src + 4, n, 1);
        return ctx_wrap(x, dl_rle_decode_u8(&d, dense, nn, x->err));
    }
    case DL_PQ_ENC_DELTA_BINARY_PACKED:
        if (x->leaf->physical == DL_PQ_INT64) {
            rc = dl_dbp_decode_i64(src, len, (int64_t *)(void *)dense, nn, &used, x->err);
        } else if (x->leaf->physical == DL_PQ_INT32) {
            if (x->leaf->convert == DL_PQ_CONV_U32_TO_I64) {
                /* decode as int32 into the tail half, then widen */
                if (buf_size(&x->indices, (size_t)nn * 4) != DL_OK)
                    return ctx_fail(x, DL_ENOMEM, "out of memory");
                rc = dl_dbp_decode_i32(src, len, (int32_t *)(void *)x->indices.data, nn, &used,
                                       x->err);
                if (rc == DL_OK) convert_fixed(x, x->indices.data, nn, dense);
            } else {
                rc = dl_dbp_decode_i32(src, len, (int32_t *)(void *)dense, nn, &used, x->err);
            }
        } else {
            return ctx_fail(x, DL_ECORRUPT, "DELTA_BINARY_PACKED for a %s column",
                            dl_pq_type_name(x->leaf->physical));
        }
        return ctx_wrap(x, rc);
    case DL_PQ_ENC_BYTE_STREAM_SPLIT: {
        int w = x->phys_width;
        if (w == 0 || x->leaf->physical == DL_PQ_INT96)
            return ctx_fail(x, DL_ECORRUPT, "BYTE_STREAM_SPLIT for a %s column",
                            dl_pq_type_name(x->leaf->physical));
        if ((uint64_t)nn * (uint64_t)w > len)
            return ctx_fail(x, DL_ECORRUPT,
                            "BYTE_STREAM_SPLIT: %lld values need %lld bytes, page has %zu",
                            (long long)nn, (long long)nn * w, len);
        if (x->leaf->physical == DL_PQ_FIXED_LEN_BYTE_ARRAY ||
            x->leaf->convert != DL_PQ_CONV_NONE) {
            /* decode into the dictionary-free scratch, then convert / view */
            if (buf_size(&x->dba, (size_t)nn * (size_t)w) != DL_OK)
                return ctx_fail(x, DL_ENOMEM, "out of memory");
            rc = dl_bss_decode(src, len, w, nn, x->dba.data, x->err);
            if (rc != DL_OK) return ctx_wrap(x, rc);
            if (var)
                for (int64_t i = 0; i < nn; i++)
                    views[i] = (dl_bytes_view){x->dba.data + i * w, (uint32_t)w};
            else
                convert_fixed(x, x->dba.data, nn, dense);
            return DL_OK;
        }
        return ctx_wrap(x, dl_bss_decode(src, len, w, nn, dense, x->err));
    }
    case DL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (x->leaf->physical != DL_PQ_BYTE_ARRAY)
            return ctx_fail(x, DL_ECORRUPT, "DELTA_LENGTH_BYTE_ARRAY for a %s column",
                            dl_pq_type_name(x->leaf->physical));
        return ctx_wrap(x, dl_dlba_decode(src, len, nn, views, &used, x->err));
    case DL_PQ_ENC_DELTA_BYTE_ARRAY:
        if (!var)
            return ctx_fail(x, DL_ECORRUPT, "DELTA_BYTE_ARRAY for a %s column",
                            dl_pq_type_name(x->leaf->physical));
        return ctx_wrap(x, dl_dba_decode(src, len, nn, views, &x->dba, &used, x->err));
    default:
        return ctx_fail(x, DL_EUNSUPPORTED, "value encoding %s (%d) is not supported",
                        dl_pq_encoding_name(enc), enc);
    }
}

/* Appends n rows (validity in `bits` when has_nulls) from x->dense/views to
** out.  `direct`: the values were already decoded in place at out's end. */
static int append_rows(chunk_ctx *x, dl_column *out, int64_t n, int64_t nn, const uint8_t *bits,
                       bool direct) {
    if (n == 0) return DL_OK; /* empty page: nothing to append (out may have no buffers yet) */
    bool has_nulls = nn < n;
    int64_t base = out->length;
    if (x->out_width) {
        if (dl_column_reserve(out, n, 0, x->err) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        uint8_t *dst = (uint8_t *)out->values + (size_t)base * x->out_width;
        if (!has_nulls) {
            if (!direct) memcpy(dst, x->dense.data, (size_t)n * x->out_width);
        } else {
            size_t w = x->out_width;
            int64_t k = 0;
            for (int64_t i = 0; i < n; i++) {
                if (dl_bitmap_get(bits, i))
                    memcpy(dst + (size_t)i * w, x->dense.data + (size_t)(k++) * w, w);
                else
                    memset(dst + (size_t)i * w, 0, w);
            }
        }
    } else {
        const dl_bytes_view *v = (const dl_bytes_view *)(const void *)x->views.data;
        int64_t bytes = 0;
        for (int64_t i = 0; i < nn; i++) bytes += v[i].len;
        if (dl_column_reserve(out, n, bytes, x->err) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        int64_t at = out->offsets[base], k = 0;
        for (int64_t i = 0; i < n; i++) {
            if (!has_nulls || dl_bitmap_get(bits, i)) {
                if (v[k].len) memcpy(out->data + at, v[k].ptr, v[k].len);
                at += v[k].len;
                k++;
            }
            out->offsets[base + i + 1] = at;
        }
    }
    if (has_nulls) {
        if (dl_column_ensure_validity(out) != DL_OK) return ctx_fail(x, DL_ENOMEM, "out of memory");
        for (int64_t i = 0; i < n; i++) {
            if (dl_bitmap_get(bits, i))
                dl_bitmap_set(out->validity, base + i);
            else
                dl_bitmap_clear(out->validity, base + i);
        }
    } else if (out->validity) {
        for (int64_t i = 0; i < n; i++) dl_bitmap_set(out->validity, base + i);
    }
    out->length += n;
    out->null_count += n - nn;
    return DL_OK;
}

/* Decodes definition levels (max level 1) of n values into x->bitmap. */
static int decode_levels(chunk_ctx *x, const uint8_t *src, size_t len, int64_t n,
                         int64_t *present) {
    if (buf_size(&x->bitmap, (size_t)(n + 7) / 8 + 1) != DL_OK)
        return ctx_fail(x, DL_ENOMEM, "out of memory");
    dl_rle_decoder d;
    dl_rle_decoder_init(&d, src, len, 1);
    return ctx_wrap(x, dl_rle_decode_validity(&d, x->bitmap.data, 0, n, present, x->err));
}

/* Decodes one data page (v1 or v2) and appends its rows to out. */
static int decode_data_page(chunk_ctx *x, const dl_pq_page_header *h, const uint8_t *body,
                            size_t body_len, int64_t rows_left, dl_column *out) {
    int rc;
    bool v2 = h->type == DL_PQ_PAGE_DATA_V2;
    int64_t n = v2 ? h->data_page_v2.num_values : h->data_page.num_values;
    int32_t enc = v2 ? h->data_page_v2.encoding : h->data_page.encoding;
    if (n < 0 || n > rows_left)
        return ctx_fail(x, DL_ECORRUPT,
                        "page has %lld values but only %lld rows remain in the chunk", (long long)n,
                        (long long)rows_left);
    /* cap the decompressed size by what n values can legitimately need */
    int64_t usize = h->uncompressed_page_size;
    int64_t cap = x->out_width ? 1024 + n * (x->phys_width + 8) : MAX_PAGE_BYTES;
    if (x->leaf->physical == DL_PQ_BOOLEAN) cap = 1024 + n;
    if (usize < 0 || usize > cap || usize > MAX_PAGE_BYTES)
        return ctx_fail(x, DL_ECORRUPT, "uncompressed page size %lld is impossible for %lld values",
                        (long long)usize, (long long)n);
    const uint8_t *levels = NULL, *values;
    size_t levels_len = 0, values_len;
    if (v2) {
        int64_t dl = h->data_page_v2.definition_levels_byte_length;
        int64_t rl = h->data_page_v2.repetition_levels_byte_length;
        if (rl != 0) return ctx_fail(x, DL_ECORRUPT, "repetition levels in a flat column");
        if (dl < 0 || (size_t)dl > body_len || dl > usize)
            return ctx_fail(x, DL_ECORRUPT, "definition levels length %lld exceeds the page",
                            (long long)dl);
        levels = body;
        levels_len = (size_t)dl;
        size_t vlen_u = (size_t)(usize - dl);
        const uint8_t *vsrc = body + dl;
        size_t vsrc_len = body_len - (size_t)dl;
        bool compressed = h->data_page_v2.is_compressed && x->codec != DL_CODEC_NONE;
        if (compressed) {
            if (buf_size(&x->page, vlen_u) != DL_OK) return ctx_fail(x, DL_ENOMEM, "out of memory");
            rc = dl_decompress(x->codec, vsrc, vsrc_len, x->page.data, vlen_u, x->err);
            if (rc != DL_OK) return ctx_wrap(x, rc);
            values = x->page.data;
            values_len = vlen_u;
        } else {
            if (vsrc_len != vlen_u)
                return ctx_fail(x, DL_ECORRUPT,
                                "uncompressed v2 page: %zu value bytes, header says %zu", vsrc_len,
                                vlen_u);
            values = vsrc;
            values_len = vsrc_len;
        }
    } else {
        if (buf_size(&x->page, (size_t)usize) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        rc = dl_decompress(x->codec, body, body_len, x->page.data, (size_t)usize, x->err);
        if (rc != DL_OK) return ctx_wrap(x, rc);
        values = x->page.data;
        values_len = (size_t)usize;
        if (x->leaf->max_def > 0) {
            if (h->data_page.definition_level_encoding != DL_PQ_ENC_RLE)
                return ctx_fail(x, DL_EUNSUPPORTED, "definition level encoding %s",
                                dl_pq_encoding_name(h->data_page.definition_level_encoding));
            if (values_len < 4) return ctx_fail(x, DL_ECORRUPT, "missing definition levels length");
            uint32_t ll = dl_load_u32le(values);
            if (ll > values_len - 4)
                return ctx_fail(x, DL_ECORRUPT,
                                "definition levels length %u exceeds the page (%zu)", ll,
                                values_len - 4);
            levels = values + 4;
            levels_len = ll;
            values += 4 + ll;
            values_len -= 4 + ll;
        }
    }
    int64_t present = n;
    if (x->leaf->max_def > 0) {
        rc = decode_levels(x, levels, levels_len, n, &present);
        if (rc != DL_OK) return rc;
        if (v2 && h->data_page_v2.num_nulls != n - present)
            return ctx_fail(x, DL_ECORRUPT, "page says %d nulls, levels say %lld",
                            h->data_page_v2.num_nulls, (long long)(n - present));
    }
    uint8_t *direct = NULL;
    if (x->out_width && present == n && n > 0) {
        if (dl_column_reserve(out, n, 0, x->err) != DL_OK)
            return ctx_fail(x, DL_ENOMEM, "out of memory");
        direct = (uint8_t *)out->values + (size_t)out->length * x->out_width;
    }
    rc = decode_values(x, enc, values, values_len, present, direct);
    if (rc != DL_OK) return rc;
    return append_rows(x, out, n, present, x->bitmap.data, direct != NULL);
}

/* The byte range [start, end) of a chunk's pages, validated. */
static int chunk_range(chunk_ctx *x, int64_t *start, int64_t *end) {
    const dl_pq_column_meta *cm = &x->r->meta.row_groups[x->g].columns[x->c].meta;
    int64_t s = cm->data_page_offset;
    /* dictionary_page_offset 0 means absent (parquet-mr 1.8.1) */
    if (cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0 &&
        cm->dictionary_page_offset < s)
        s = cm->dictionary_page_offset;
    int64_t e;
    if (s < 4 || __builtin_add_overflow(s, cm->total_compressed_size, &e) ||
        (uint64_t)e > x->r->footer_start) {
        x->page_offset = s;
        return ctx_fail(x, DL_ECORRUPT,
                        "column chunk [%lld, +%lld) lies outside the file's data (%zu bytes)",
                        (long long)s, (long long)cm->total_compressed_size, x->r->footer_start);
    }
    *start = s;
    *end = e;
    return DL_OK;
}

/* Reads the page header of page `page_no` of the chunk at *pos (within
** [pos, end)), sets the body range and checks the body against the page's
** CRC when the file has one. */
static int next_page(chunk_ctx *x, int page_no, int64_t *pos, int64_t end, dl_pq_page_header *h,
                     const uint8_t **body, size_t *body_len) {
    x->page_offset = *pos;
    x->page_no = page_no;
    size_t hlen = 0;
    int rc = dl_pq_decode_page_header(x->r->data + *pos, (size_t)(end - *pos), h, &hlen, x->err);
    if (rc != DL_OK) return ctx_wrap(x, rc);
    if (h->compressed_page_size < 0 ||
        (int64_t)h->compressed_page_size > end - *pos - (int64_t)hlen)
        return ctx_fail(x, DL_ECORRUPT,
                        "compressed page size %d exceeds the column chunk (%lld bytes left)",
                        h->compressed_page_size, (long long)(end - *pos - (int64_t)hlen));
    if (h->uncompressed_page_size < 0)
        return ctx_fail(x, DL_ECORRUPT, "negative uncompressed page size");
    *body = x->r->data + *pos + hlen;
    *body_len = (size_t)h->compressed_page_size;
    *pos += (int64_t)hlen + h->compressed_page_size;
    if (h->has_crc && x->r->check_crc) {
        uint32_t have = dl_pq_page_crc(*body, *body_len);
        if (have != (uint32_t)h->crc)
            return ctx_fail(x, DL_ECORRUPT,
                            "page CRC-32 mismatch (stored %08x, computed %08x over %zu bytes): the "
                            "file is damaged",
                            (uint32_t)h->crc, have, *body_len);
    }
    return DL_OK;
}

static int ctx_init(chunk_ctx *x, const dl_parquet_reader *r, int g, int c, dl_error *err) {
    memset(x, 0, sizeof *x);
    x->r = r;
    x->g = g;
    x->c = c;
    x->leaf = &r->leaves[c];
    x->field = &r->schema.fields[c];
    x->err = err;
    x->codec = r->meta.row_groups[g].columns[c].meta.codec;
    x->out_width = dl_type_width(x->field->type);
    switch (x->leaf->physical) {
    case DL_PQ_BOOLEAN:
        x->phys_width = 1;
        break;
    case DL_PQ_INT32:
    case DL_PQ_FLOAT:
        x->phys_width = 4;
        break;
    case DL_PQ_INT64:
    case DL_PQ_DOUBLE:
        x->phys_width = 8;
        break;
    case DL_PQ_INT96:
        x->phys_width = 12;
        break;
    case DL_PQ_FIXED_LEN_BYTE_ARRAY:
        x->phys_width = x->leaf->type_length;
        break;
    default:
        x->phys_width = 0;
    }
    if (x->codec != DL_CODEC_NONE && x->codec != DL_CODEC_SNAPPY && x->codec != DL_CODEC_GZIP &&
        x->codec != DL_CODEC_ZSTD && x->codec != DL_CODEC_LZ4_RAW)
        return dl_error_set(err, DL_EUNSUPPORTED,
                            "%s: row group %d, column %s: compression %s is not supported", r->name,
                            g, x->field->name, dl_codec_name_any(x->codec));
    return DL_OK;
}

static bool out_matches(const dl_parquet_reader *r, int c, const dl_column *out) {
    return out->type == r->schema.fields[c].type;
}

/* Reads every page of the chunk whose row range may overlap [row_begin,
** row_end) (all pages when no offset index), appending their rows to out;
** *first_row receives the chunk row of out's first appended row. */
static int read_pages(chunk_ctx *x, int64_t row_begin, int64_t row_end, dl_column *out,
                      int64_t *first_row) {
    int rc = DL_OK;
    const dl_parquet_reader *r = x->r;
    const dl_pq_column_chunk *cc = &r->meta.row_groups[x->g].columns[x->c];
    int64_t rg_rows = r->meta.row_groups[x->g].num_rows;
    int64_t start = 0, end = 0;
    dl_arena a;
    dl_arena_init(&a, (size_t)64 << 20);
    *first_row = 0;
    DL_TRY(chunk_range(x, &start, &end));
    if (cc->meta.num_values != rg_rows)
        DL_FAIL(x->err, DL_ECORRUPT, "%s: row group %d, column %s: %lld values for %lld rows",
                r->name, x->g, x->field->name, (long long)cc->meta.num_values, (long long)rg_rows);

    /* page skipping through the offset index */
    dl_pq_offset_index oi = {0};
    bool use_index =
        (row_begin > 0 || row_end < rg_rows) && cc->has_offset_index &&
        index_range(r, cc->offset_index_offset, cc->offset_index_length, "offset index", NULL) ==
            DL_OK &&
        dl_pq_decode_offset_index(r->data + cc->offset_index_offset,
                                  (size_t)cc->offset_index_length, &a, &oi, NULL) == DL_OK &&
        oi.num_pages > 0;
    if (use_index) {
        for (int p = 0; p < oi.num_pages && use_index; p++) {
            const dl_pq_page_location *pl = &oi.pages[p];
            int64_t next = p + 1 < oi.num_pages ? oi.pages[p + 1].first_row_index : rg_rows;
            if (pl->offset < start || pl->compressed_page_size <= 0 ||
                pl->offset + pl->compressed_page_size > end || pl->first_row_index < 0 ||
                next < pl->first_row_index || next > rg_rows ||
                (p == 0 && pl->first_row_index != 0))
                use_index = false; /* inconsistent index: fall back to a full scan */
        }
    }
    dl_pq_page_header h;
    const uint8_t *body;
    size_t body_len;
    if (use_index) {
        /* dictionary page: everything before the first data page */
        int64_t pos = start;
        if (pos < oi.pages[0].offset) {
            DL_TRY(next_page(x, 0, &pos, oi.pages[0].offset, &h, &body, &body_len));
            if (h.type != DL_PQ_PAGE_DICTIONARY)
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "expected a dictionary page"));
            if (buf_size(&x->page, (size_t)h.uncompressed_page_size) != DL_OK ||
                h.uncompressed_page_size > MAX_PAGE_BYTES)
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "dictionary page too large"));
            DL_TRY(ctx_wrap(x, dl_decompress(x->codec, body, body_len, x->page.data,
                                             (size_t)h.uncompressed_page_size, x->err)));
            DL_TRY(load_dictionary(x, &h, x->page.data, (size_t)h.uncompressed_page_size));
        }
        bool first = true;
        for (int p = 0; p < oi.num_pages; p++) {
            int64_t p_first = oi.pages[p].first_row_index;
            int64_t p_next = p + 1 < oi.num_pages ? oi.pages[p + 1].first_row_index : rg_rows;
            if (p_next <= row_begin || p_first >= row_end) continue;
            if (first) *first_row = p_first, first = false;
            int64_t ppos = oi.pages[p].offset, pend = ppos + oi.pages[p].compressed_page_size;
            DL_TRY(
                next_page(x, p + (start < oi.pages[0].offset), &ppos, pend, &h, &body, &body_len));
            if (h.type != DL_PQ_PAGE_DATA && h.type != DL_PQ_PAGE_DATA_V2)
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "offset index points at a non-data page"));
            int64_t before = out->length;
            DL_TRY(decode_data_page(x, &h, body, body_len, rg_rows - p_first, out));
            if (out->length - before != p_next - p_first)
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "page holds %lld rows, offset index says %lld",
                                (long long)(out->length - before), (long long)(p_next - p_first)));
        }
        goto cleanup;
    }
    int64_t pos = start, rows = 0;
    for (int page_no = 0; rows < rg_rows; page_no++) {
        if (pos >= end)
            DL_TRY(ctx_fail(x, DL_ECORRUPT, "column chunk ends after %lld of %lld rows",
                            (long long)rows, (long long)rg_rows));
        DL_TRY(next_page(x, page_no, &pos, end, &h, &body, &body_len));
        switch (h.type) {
        case DL_PQ_PAGE_DICTIONARY: {
            int64_t us = h.uncompressed_page_size;
            if (us > MAX_PAGE_BYTES || us < 0)
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "dictionary page too large"));
            if (!h.has_dictionary_page)
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "dictionary page without its header"));
            if (buf_size(&x->page, (size_t)us) != DL_OK)
                DL_TRY(ctx_fail(x, DL_ENOMEM, "out of memory"));
            DL_TRY(ctx_wrap(
                x, dl_decompress(x->codec, body, body_len, x->page.data, (size_t)us, x->err)));
            DL_TRY(load_dictionary(x, &h, x->page.data, (size_t)us));
            break;
        }
        case DL_PQ_PAGE_DATA:
        case DL_PQ_PAGE_DATA_V2: {
            if ((h.type == DL_PQ_PAGE_DATA && !h.has_data_page) ||
                (h.type == DL_PQ_PAGE_DATA_V2 && !h.has_data_page_v2))
                DL_TRY(ctx_fail(x, DL_ECORRUPT, "data page without its header"));
            int64_t before = out->length;
            DL_TRY(decode_data_page(x, &h, body, body_len, rg_rows - rows, out));
            rows += out->length - before;
            break;
        }
        default:
            break; /* index pages and unknown page types are skipped */
        }
    }
cleanup:
    dl_arena_free(&a);
    return rc;
}

int dl_parquet_read_column_range(const dl_parquet_reader *r, int g, int c, int64_t row_begin,
                                 int64_t row_end, dl_column *out, dl_error *err) {
    DL_REQUIRE(err, r && out);
    int rc = check_chunk_args(r, g, c, err);
    if (rc != DL_OK) return rc;
    if (!out_matches(r, c, out))
        return dl_error_set(err, DL_EINVAL, "%s: column %s is %s but the output vector is %s",
                            r->name, r->schema.fields[c].name,
                            dl_type_name(r->schema.fields[c].type), dl_type_name(out->type));
    int64_t rg_rows = r->meta.row_groups[g].num_rows;
    if (row_begin < 0) row_begin = 0;
    if (row_end > rg_rows) row_end = rg_rows;
    if (row_begin >= row_end) return DL_OK;
    chunk_ctx x;
    rc = ctx_init(&x, r, g, c, err);
    if (rc != DL_OK) return rc;
    int64_t base = out->length, first_row = 0;
    bool whole = row_begin == 0 && row_end == rg_rows;
    if (whole) {
        /* one allocation for the chunk instead of a doubling chain */
        rc = dl_column_reserve(out, rg_rows, 0, err);
        if (rc == DL_OK) rc = read_pages(&x, 0, rg_rows, out, &first_row);
    } else {
        dl_column tmp;
        dl_column_init(&tmp, out->type, out->unit);
        rc = read_pages(&x, row_begin, row_end, &tmp, &first_row);
        if (rc == DL_OK)
            rc = dl_column_append_range(out, &tmp, row_begin - first_row, row_end - row_begin, err);
        dl_column_free(&tmp);
    }
    if (rc != DL_OK) {
        /* leave out as it was */
        out->length = base;
    }
    ctx_free(&x);
    return rc;
}

int dl_parquet_read_column(const dl_parquet_reader *r, int g, int c, dl_column *out,
                           dl_error *err) {
    DL_REQUIRE(err, r && out);
    int rc = check_chunk_args(r, g, c, err);
    if (rc != DL_OK) return rc;
    return dl_parquet_read_column_range(r, g, c, 0, r->meta.row_groups[g].num_rows, out, err);
}

/* ---- whole-table reads, one column per worker ---- */

typedef struct read_job {
    const dl_parquet_reader *r;
    const int *cols;
    dl_table *t;
    int ncols;
    atomic_int next;
    atomic_int failed;
    dl_error err;
    pthread_mutex_t lock;
} read_job;

static void *read_worker(void *arg) {
    read_job *j = arg;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->ncols || atomic_load(&j->failed)) return NULL;
        dl_error e = {0};
        for (int g = 0; g < j->r->meta.num_row_groups; g++) {
            int rc = dl_parquet_read_column(j->r, g, j->cols[i], &j->t->columns[i], &e);
            if (rc != DL_OK) {
                pthread_mutex_lock(&j->lock);
                if (!atomic_load(&j->failed)) {
                    j->err = e;
                    atomic_store(&j->failed, 1);
                }
                pthread_mutex_unlock(&j->lock);
                return NULL;
            }
        }
    }
}

int dl_parquet_read_table(const dl_parquet_reader *r, const int *columns, int num_columns,
                          dl_table *out, dl_error *err) {
    DL_REQUIRE(err, r && out);
    int rc = DL_OK;
    int *cols = NULL;
    dl_schema sel;
    dl_schema_init(&sel);
    memset(out, 0, sizeof *out);
    if (!columns || num_columns <= 0) num_columns = r->schema.num_fields;
    cols = malloc(sizeof(int) * (size_t)(num_columns ? num_columns : 1));
    if (!cols) DL_FAIL(err, DL_ENOMEM, "out of memory");
    for (int i = 0; i < num_columns; i++) {
        cols[i] = columns ? columns[i] : i;
        if (cols[i] < 0 || cols[i] >= r->schema.num_fields)
            DL_FAIL(err, DL_EINVAL, "%s: column index %d out of range", r->name, cols[i]);
        dl_field f = r->schema.fields[cols[i]];
        dl_field *fs = realloc(sel.fields, sizeof(dl_field) * (size_t)(i + 1));
        if (!fs) DL_FAIL(err, DL_ENOMEM, "out of memory");
        sel.fields = fs;
        fs[i] = f;
        if (!(fs[i].name = strdup(f.name))) DL_FAIL(err, DL_ENOMEM, "out of memory");
        sel.num_fields = i + 1;
    }
    DL_TRY(dl_table_init(out, &sel, err));
    read_job job = {.r = r, .cols = cols, .t = out, .ncols = num_columns};
    pthread_mutex_init(&job.lock, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = (int)DL_MIN((long)num_columns, ncpu > 0 ? ncpu : 1) - 1;
    if (nthreads > 31) nthreads = 31;
    pthread_t tids[32];
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&tids[started], NULL, read_worker, &job) != 0) break;
    read_worker(&job);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&job.lock);
    if (atomic_load(&job.failed)) {
        if (err) *err = job.err;
        rc = job.err.code ? job.err.code : DL_EINTERNAL;
        goto cleanup;
    }
    DL_TRY(dl_table_seal(out, err));
cleanup:
    if (rc != DL_OK) dl_table_free(out);
    dl_schema_free(&sel);
    free(cols);
    return rc;
}
