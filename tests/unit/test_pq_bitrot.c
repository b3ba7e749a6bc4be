/*
** test_pq_bitrot.c -- bit rot is detected on read: every page the writer
** emits carries the Parquet page CRC-32 (checked here against zlib's crc32
** of the stored page bytes, for v1/v2 data pages and dictionary pages and
** every codec); a flipped bit in any page fails the read naming the file,
** row group, column, page and offset; the check can be switched off; files
** without CRCs still read; and the lake refuses a day file whose size
** differs from the catalog's record, in dl_lake_read and in queries.
*/
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "dl_test.h"
#include "parquet/pq_meta.h"
#include "util/dl_internal.h"

/* ---- fixtures ---- */

/* ts (sorted: DELTA), sym (3 values: dictionary), px (double with nulls:
** PLAIN), qty (random int64: PLAIN), flag (bool). */
static void make_table(dl_table *t, int64_t n) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "sym", DL_TYPE_STRING, false, NULL);
    dl_schema_add(&s, "px", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "flag", DL_TYPE_BOOL, false, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    static const char *syms[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
    uint64_t x = 88172645463325252ULL;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        dl_column_append_i64(&t->columns[0], 1704412800000000LL + i * 1000, NULL);
        const char *sym = syms[x % 3];
        dl_column_append_str(&t->columns[1], sym, strlen(sym), NULL);
        if (i % 11 == 5)
            dl_column_append_null(&t->columns[2], NULL);
        else
            dl_column_append_f64(&t->columns[2], 40000.0 + (double)(x % 100000) / 100.0, NULL);
        dl_column_append_i64(&t->columns[3], (int64_t)(x >> 1), NULL);
        dl_column_append_bool(&t->columns[4], (x >> 7) & 1, NULL);
    }
    dl_table_seal(t, NULL);
}

typedef struct config {
    const char *label;
    dl_codec codec;
    int page_version;
    bool dictionary;
} config;

static const config CONFIGS[] = {
    {"zstd v1 dict", DL_CODEC_ZSTD, 1, true}, {"none v1 dict", DL_CODEC_NONE, 1, true},
    {"none v2 dict", DL_CODEC_NONE, 2, true}, {"snappy v2", DL_CODEC_SNAPPY, 2, false},
    {"gzip v1", DL_CODEC_GZIP, 1, false},     {"lz4 v2 dict", DL_CODEC_LZ4_RAW, 2, true},
    {"zstd v2 dict", DL_CODEC_ZSTD, 2, true},
};

static uint8_t *write_and_load(const config *cf, bool crc, const dl_table *t, size_t *size) {
    dl_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/crc.parquet", dl_test_tmpdir());
    dl_write_options o;
    dl_write_options_default(&o);
    o.codec = cf->codec;
    o.data_page_version = cf->page_version;
    o.dictionary = cf->dictionary;
    o.page_rows = 700; /* several pages per chunk */
    o.row_group_rows = 2000;
    o.page_crc = crc;
    CHECK_OK(dl_parquet_write_table(path, t, &o, &err), &err);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*size);
    if (buf && fread(buf, 1, *size, f) != *size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* One page as found by walking the column chunks from the footer. */
typedef struct page_ref {
    int g, c, page_no;
    int64_t offset;      /* of the page header */
    int64_t body_offset; /* of the bytes the CRC covers */
    int32_t body_len;
    dl_pq_page_header h;
} page_ref;

/* Walks every page of every chunk (independently of the reader). */
static int walk_pages(const uint8_t *buf, size_t size, page_ref **out) {
    dl_error err = {0};
    dl_arena arena;
    dl_arena_init(&arena, 0);
    uint32_t flen = dl_load_u32le(buf + size - 8);
    dl_pq_file_meta m;
    int n = 0, cap = 0;
    *out = NULL;
    CHECK_OK(dl_pq_decode_file_meta(buf + size - 8 - flen, flen, &arena, &m, &err), &err);
    for (int g = 0; g < m.num_row_groups; g++) {
        for (int c = 0; c < m.row_groups[g].num_columns; c++) {
            const dl_pq_column_meta *cm = &m.row_groups[g].columns[c].meta;
            int64_t pos =
                cm->has_dictionary_page_offset ? cm->dictionary_page_offset : cm->data_page_offset;
            int64_t end = pos + cm->total_compressed_size;
            for (int p = 0; pos < end; p++) {
                if (n == cap) {
                    cap = cap ? 2 * cap : 64;
                    *out = realloc(*out, sizeof **out * (size_t)cap);
                }
                page_ref *pr = &(*out)[n++];
                size_t hlen = 0;
                CHECK_OK(
                    dl_pq_decode_page_header(buf + pos, (size_t)(end - pos), &pr->h, &hlen, &err),
                    &err);
                pr->g = g;
                pr->c = c;
                pr->page_no = p;
                pr->offset = pos;
                pr->body_offset = pos + (int64_t)hlen;
                pr->body_len = pr->h.compressed_page_size;
                pos = pr->body_offset + pr->body_len;
            }
        }
    }
    dl_arena_free(&arena);
    return n;
}

/* ---- the writer's CRCs ---- */

DL_TEST(pq_crc_every_page_carries_the_format_crc) {
    dl_table t;
    make_table(&t, 5000);
    for (size_t k = 0; k < sizeof CONFIGS / sizeof *CONFIGS; k++) {
        const config *cf = &CONFIGS[k];
        size_t size = 0;
        uint8_t *buf = write_and_load(cf, true, &t, &size);
        CHECK(buf != NULL);
        if (!buf) continue;
        page_ref *pages;
        int n = walk_pages(buf, size, &pages);
        int dict = 0, data = 0, bad = 0;
        for (int i = 0; i < n; i++) {
            const page_ref *p = &pages[i];
            /* zlib's crc32 over the stored bytes after the header, as the
            ** spec defines it (the same value parquet-mr and Arrow compute) */
            uint32_t want = (uint32_t)crc32(0L, buf + p->body_offset, (uInt)p->body_len);
            if (!p->h.has_crc || (uint32_t)p->h.crc != want) bad++;
            dict += p->h.type == DL_PQ_PAGE_DICTIONARY;
            data += p->h.type == (cf->page_version == 2 ? DL_PQ_PAGE_DATA_V2 : DL_PQ_PAGE_DATA);
        }
        if (bad)
            fprintf(stderr, "  [%s] %d of %d pages without the right CRC\n", cf->label, bad, n);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(dict + data, n);
        CHECK(data >= 3 * 5); /* 3 row groups x 5 columns, several pages each */
        if (cf->dictionary) CHECK(dict > 0);
        free(pages);
        free(buf);
    }
    dl_table_free(&t);
}

/* ---- detection ---- */

/* Reads column c of row group g from the image; returns the status. */
static int read_chunk(const uint8_t *img, size_t size, bool check, int g, int c, int64_t begin,
                      int64_t end, dl_column *col, dl_error *err) {
    dl_parquet_reader *r = NULL;
    int rc = dl_parquet_open_memory(img, size, "rot.parquet", &r, err);
    if (rc != DL_OK) return rc;
    if (!check) dl_parquet_set_check_crc(r, false); /* checking is the default */
    const dl_field *f = &dl_parquet_schema(r)->fields[c];
    dl_column_init(col, f->type, f->unit);
    rc = dl_parquet_read_column_range(r, g, c, begin, end, col, err);
    dl_parquet_close(r);
    return rc;
}

static const char *NAMES[] = {"ts", "sym", "px", "qty", "flag"};

DL_TEST(pq_crc_flipped_bit_in_any_page_is_named) {
    dl_table t;
    make_table(&t, 5000);
    int silent = 0; /* unchecked reads that returned wrong values */
    for (size_t k = 0; k < sizeof CONFIGS / sizeof *CONFIGS; k++) {
        const config *cf = &CONFIGS[k];
        size_t size = 0;
        uint8_t *buf = write_and_load(cf, true, &t, &size);
        if (!buf) continue;
        uint8_t *img = malloc(size);
        page_ref *pages;
        int n = walk_pages(buf, size, &pages);
        for (int i = 0; i < n; i++) {
            const page_ref *p = &pages[i];
            if (p->body_len == 0) continue;
            memcpy(img, buf, size);
            img[p->body_offset + p->body_len / 2] ^= 0x10;
            dl_error err = {0};
            dl_column col;
            int64_t rows = 2000; /* row groups of 2000 rows; the last holds 1000 */
            if (p->g == 2) rows = 1000;
            /* whole chunk (sequential page walk) */
            CHECK_RC(read_chunk(img, size, true, p->g, p->c, 0, rows, &col, &err), DL_ECORRUPT);
            dl_column_free(&col);
            char want[256];
            snprintf(want, sizeof want,
                     "rot.parquet: row group %d, column %s, page %d at offset %lld: page CRC-32 "
                     "mismatch",
                     p->g, NAMES[p->c], p->page_no, (long long)p->offset);
            if (strstr(err.message, want) != err.message)
                fprintf(stderr, "  [%s] got: %s\n  want: %s\n", cf->label, err.message, want);
            CHECK(strstr(err.message, want) == err.message);
            /* the rows of one page (offset-index path) */
            if (p->h.type != DL_PQ_PAGE_DICTIONARY) {
                dl_pq_page_header h = p->h;
                int64_t nv = h.type == DL_PQ_PAGE_DATA_V2 ? h.data_page_v2.num_values
                                                          : h.data_page.num_values;
                /* the page's first row: pages hold 700 rows, in order */
                int dict = pages[i - p->page_no].h.type == DL_PQ_PAGE_DICTIONARY;
                int64_t first = (int64_t)(p->page_no - dict) * 700;
                CHECK_RC(read_chunk(img, size, true, p->g, p->c, first, first + nv, &col, &err),
                         DL_ECORRUPT);
                dl_column_free(&col);
                CHECK(strstr(err.message, want) == err.message);
            }
            /* unchecked: the damage may decode into wrong values, silently */
            if (read_chunk(img, size, false, p->g, p->c, 0, rows, &col, &err) == DL_OK) {
                dl_column good;
                CHECK_OK(read_chunk(buf, size, true, p->g, p->c, 0, rows, &good, &err), &err);
                bool same = col.length == good.length;
                size_t w = dl_type_width(col.type);
                if (same && w) same = memcmp(col.values, good.values, (size_t)col.length * w) == 0;
                silent += !same;
                dl_column_free(&good);
            }
            dl_column_free(&col);
        }
        free(pages);
        free(img);
        free(buf);
    }
    CHECK(silent > 0); /* what the CRC protects against does happen */
    dl_table_free(&t);
}

/* Files without page CRCs (other writers, or page_crc off) read as before;
** their damage goes unnoticed, which is what the CRC is for. */
DL_TEST(pq_crc_absent_pages_still_read) {
    dl_table t;
    make_table(&t, 5000);
    const config cf = {"none v1", DL_CODEC_NONE, 1, false};
    size_t size = 0;
    uint8_t *buf = write_and_load(&cf, false, &t, &size);
    CHECK(buf != NULL);
    if (!buf) return;
    page_ref *pages;
    int n = walk_pages(buf, size, &pages);
    for (int i = 0; i < n; i++) CHECK(!pages[i].h.has_crc);
    /* the first data page of qty (column 3) holds PLAIN int64 values */
    const page_ref *p = NULL;
    for (int i = 0; i < n && !p; i++)
        if (pages[i].c == 3) p = &pages[i];
    CHECK(p != NULL);
    if (p) {
        dl_error err = {0};
        dl_column col;
        CHECK_OK(read_chunk(buf, size, true, 0, 3, 0, 2000, &col, &err), &err);
        CHECK(col.length == 2000 && memcmp(col.values, t.columns[3].values, 2000 * 8) == 0);
        dl_column_free(&col);
        buf[p->body_offset + 8 * 10 + 2] ^= 0x01; /* row 10, third byte */
        CHECK_OK(read_chunk(buf, size, true, 0, 3, 0, 2000, &col, &err), &err);
        CHECK(col.length == 2000 &&
              ((int64_t *)col.values)[10] != ((int64_t *)t.columns[3].values)[10]);
        dl_column_free(&col);
    }
    free(pages);
    free(buf);
    dl_table_free(&t);
}

/* ---- the lake read path ---- */

#define DS "BINANCE/SPOT/BTCUSDT/raw/1m"

static int query_all(dl_lake *lake, bool skip_crc, int64_t *rows, dl_error *err) {
    dl_query_spec spec;
    dl_query_spec_default(&spec);
    const char *ds[] = {DS};
    spec.datasets = ds;
    spec.num_datasets = 1;
    spec.threads = 1;
    spec.skip_page_crc = skip_crc;
    dl_query *q = NULL;
    *rows = 0;
    int rc = dl_query_open(lake, &spec, &q, err);
    if (rc != DL_OK) return rc;
    dl_table batch;
    rc = dl_table_init(&batch, dl_query_schema(q), err);
    while (rc == DL_OK) {
        rc = dl_query_next(q, &batch, err);
        if (rc != DL_OK || batch.num_rows == 0) break;
        *rows += batch.num_rows;
    }
    dl_table_free(&batch);
    dl_query_close(q);
    return rc;
}

static void flip_file_byte(const char *path, long at, uint8_t mask) {
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, at, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(ch ^ mask, f);
    fclose(f);
}

DL_TEST(lake_bitrot_and_size_mismatch_fail_reads) {
    dl_error err = {0};
    char root[512];
    snprintf(root, sizeof root, "%s/lake", dl_test_tmpdir());
    dl_lake *lake = NULL;
    CHECK_OK(dl_lake_init(root, &err), &err);
    CHECK_OK(dl_lake_open(root, false, &lake, &err), &err);
    if (!lake) return;
    dl_table t;
    make_table(&t, 1000); /* one day */
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    o.durable = false;
    o.parquet.codec = DL_CODEC_NONE; /* a flipped bit changes a value, not the codec's framing */
    CHECK_OK(dl_lake_write(lake, DS, &t, &o, NULL, &err), &err);
    dl_lake_file_list files = {0};
    CHECK_OK(dl_lake_files(lake, DS, INT64_MIN, INT64_MAX, 0, &files, &err), &err);
    CHECK_EQ_INT(files.count, 1);
    if (files.count != 1) return;
    const char *path = files.files[0].path;
    int64_t rows = 0;
    CHECK_OK(query_all(lake, false, &rows, &err), &err);
    CHECK_EQ_INT(rows, 1000);

    /* a bit of a qty value (column 3, PLAIN): found through the reader */
    size_t size = (size_t)files.files[0].bytes;
    uint8_t *img = malloc(size);
    FILE *f = fopen(path, "rb");
    CHECK(f && fread(img, 1, size, f) == size);
    if (f) fclose(f);
    page_ref *pages;
    int n = walk_pages(img, size, &pages);
    long at = -1;
    for (int i = 0; i < n && at < 0; i++)
        if (pages[i].c == 3) at = (long)(pages[i].body_offset + pages[i].body_len / 2);
    free(pages);
    free(img);
    CHECK(at > 0);
    flip_file_byte(path, at, 0x04);
    CHECK_RC(query_all(lake, false, &rows, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, path) == err.message);
    CHECK(strstr(err.message, "row group 0, column qty, page ") != NULL);
    CHECK(strstr(err.message, "CRC-32 mismatch") != NULL);
    dl_table back;
    CHECK_RC(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 0, &back, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "CRC-32 mismatch") != NULL);
    /* the documented escape hatch reads the damaged file */
    CHECK_OK(query_all(lake, true, &rows, &err), &err);
    CHECK_EQ_INT(rows, 1000);

    /* size differs from the catalog: refused before any page is read */
    flip_file_byte(path, at, 0x04); /* undo */
    CHECK_OK(query_all(lake, false, &rows, &err), &err);
    f = fopen(path, "ab");
    CHECK(f != NULL);
    if (f) {
        fputc(0, f);
        fclose(f);
    }
    CHECK_RC(query_all(lake, false, &rows, &err), DL_ECORRUPT);
    char want[1200];
    snprintf(want, sizeof want, "%s: the file has %lld bytes but the catalog recorded %lld", path,
             (long long)size + 1, (long long)size);
    CHECK(strstr(err.message, want) == err.message);
    CHECK_RC(query_all(lake, true, &rows, &err), DL_ECORRUPT); /* not a CRC matter */
    CHECK_RC(dl_lake_read(lake, DS, INT64_MIN, INT64_MAX, 0, &back, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, want) == err.message);
    dl_lake_file_list_free(&files);
    dl_lake_close(lake);
    dl_table_free(&t);
}

/* ---- the CRC implementation ---- */

/* The carry-less-multiply path equals zlib on every length up to 1100, at
** every start alignment, for chained updates and on a large buffer. */
DL_TEST(pq_crc32_fast_path_equals_zlib) {
    size_t n = (1 << 20) + 77;
    uint8_t *buf = malloc(n);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    int bad = 0;
    for (size_t len = 0; len <= 1100; len++) {
        for (size_t align = 0; align < 16; align += (len < 200 ? 1 : 5)) {
            uint32_t want = (uint32_t)crc32(0L, buf + align, (uInt)len);
            bad += dl_pq_crc32_update(0, buf + align, len, true) != want;
            bad += dl_pq_crc32_update(0, buf + align, len, false) != want;
            bad += dl_pq_page_crc(buf + align, len) != want;
        }
    }
    /* chained: crc of a, continued over b */
    for (size_t cut = 0; cut < 300; cut += 7) {
        uint32_t want = (uint32_t)crc32(0L, buf, 1000);
        bad += dl_pq_crc32_update(dl_pq_crc32_update(0, buf, cut, true), buf + cut, 1000 - cut,
                                  true) != want;
    }
    bad += dl_pq_page_crc(buf, n) != (uint32_t)crc32(0L, buf, (uInt)n);
    memset(buf, 0xff, 4096);
    bad += dl_pq_page_crc(buf, 4096) != (uint32_t)crc32(0L, buf, 4096);
    CHECK_EQ_INT(bad, 0);
    free(buf);
}
