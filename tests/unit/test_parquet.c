/*
** test_parquet.c -- Parquet writer/reader round trips over every type,
** null pattern, codec, encoding choice and page version; statistics; page
** index and page skipping; projection; and hostile files (truncated or
** bit-flipped) that must fail cleanly.
*/
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl_test.h"

static uint64_t rng_state = 0x1234567;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A table with one column of every type, nullable twins, ~n rows. */
static void build_table(dl_table *t, int64_t n, bool with_nulls) {
    dl_error err = {0};
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, &err);
    dl_schema_add(&s, "b", DL_TYPE_BOOL, with_nulls, &err);
    dl_schema_add(&s, "i32", DL_TYPE_INT32, with_nulls, &err);
    dl_schema_add(&s, "i64", DL_TYPE_INT64, with_nulls, &err);
    dl_schema_add(&s, "f32", DL_TYPE_FLOAT, with_nulls, &err);
    dl_schema_add(&s, "f64", DL_TYPE_DOUBLE, with_nulls, &err);
    dl_schema_add(&s, "str", DL_TYPE_STRING, with_nulls, &err);
    dl_schema_add(&s, "sym", DL_TYPE_STRING, false, &err); /* low cardinality: dictionary */
    dl_schema_add(&s, "day", DL_TYPE_DATE, with_nulls, &err);
    dl_schema_add_timestamp(&s, "ts_ns", DL_UNIT_NS, with_nulls, &err);
    dl_table_init(t, &s, &err);
    dl_schema_free(&s);
    static const char *syms[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
    for (int64_t i = 0; i < n; i++) {
        bool null = with_nulls && (rnd() % 5 == 0);
        dl_column_append_i64(&t->columns[0], 1700000000000000LL + i * 60000000LL, &err);
        if (null) {
            for (int c = 1; c <= 6; c++)
                if (c != 0) dl_column_append_null(&t->columns[c], &err);
        } else {
            dl_column_append_bool(&t->columns[1], rnd() & 1, &err);
            dl_column_append_i32(&t->columns[2], (int32_t)(rnd() % 1000) - 500, &err);
            int64_t v = i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (int64_t)rnd();
            dl_column_append_i64(&t->columns[3], v, &err);
            dl_column_append_f32(&t->columns[4], (float)(rnd() % 100000) / 7.0f, &err);
            double d = i == 2 ? -0.0 : i == 3 ? 1e-300 : (double)(rnd() % 10000000) / 100.0;
            dl_column_append_f64(&t->columns[5], d, &err);
            char buf[64];
            int len = snprintf(buf, sizeof buf, "v%llu-ü", (unsigned long long)(rnd() % 100000));
            if (i == 4) len = 0;
            dl_column_append_str(&t->columns[6], buf, (size_t)len, &err);
        }
        const char *sym = syms[rnd() % 3];
        dl_column_append_str(&t->columns[7], sym, strlen(sym), &err);
        if (with_nulls && rnd() % 7 == 0)
            dl_column_append_null(&t->columns[8], &err);
        else
            dl_column_append_i32(&t->columns[8], 19000 + (int32_t)(i / 1440), &err);
        if (with_nulls && rnd() % 3 == 0)
            dl_column_append_null(&t->columns[9], &err);
        else
            dl_column_append_i64(&t->columns[9], (int64_t)rnd() / 4, &err);
    }
    dl_table_seal(t, &err);
}

static bool columns_equal(const dl_column *a, const dl_column *b, int64_t b_from, int64_t n,
                          char *why, size_t why_len) {
    if (a->type != b->type) {
        snprintf(why, why_len, "type %d != %d", a->type, b->type);
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t j = b_from + i;
        bool va = dl_column_is_valid(a, i), vb = dl_column_is_valid(b, j);
        if (va != vb) {
            snprintf(why, why_len, "row %lld: validity %d != %d", (long long)i, va, vb);
            return false;
        }
        if (!va) continue;
        if (a->type == DL_TYPE_STRING || a->type == DL_TYPE_BINARY) {
            int64_t la = a->offsets[i + 1] - a->offsets[i], lb = b->offsets[j + 1] - b->offsets[j];
            if (la != lb ||
                memcmp(a->data + a->offsets[i], b->data + b->offsets[j], (size_t)la) != 0) {
                snprintf(why, why_len, "row %lld: strings differ", (long long)i);
                return false;
            }
        } else {
            size_t w = dl_type_width(a->type);
            if (memcmp((const uint8_t *)a->values + i * w, (const uint8_t *)b->values + j * w, w) !=
                0) {
                snprintf(why, why_len, "row %lld: values differ", (long long)i);
                return false;
            }
        }
    }
    return true;
}

/* Writes t with opts, reads everything back and compares. */
static void roundtrip(const dl_table *t, const dl_write_options *opts, const char *label) {
    dl_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/rt.parquet", dl_test_tmpdir());
    CHECK_OK(dl_parquet_write_table(path, t, opts, &err), &err);
    dl_parquet_reader *r = NULL;
    CHECK_OK(dl_parquet_open(path, &r, &err), &err);
    if (!r) return;
    CHECK_EQ_INT(dl_parquet_num_rows(r), t->num_rows);
    const dl_schema *s = dl_parquet_schema(r);
    CHECK_EQ_INT(s->num_fields, t->schema.num_fields);
    dl_table back;
    CHECK_OK(dl_parquet_read_table(r, NULL, 0, &back, &err), &err);
    for (int c = 0; c < t->schema.num_fields && c < back.schema.num_fields; c++) {
        CHECK_EQ_STR(back.schema.fields[c].name, t->schema.fields[c].name);
        CHECK_EQ_INT(back.schema.fields[c].type, t->schema.fields[c].type);
        CHECK_EQ_INT(back.schema.fields[c].nullable, t->schema.fields[c].nullable);
        char why[128] = "";
        bool eq = back.num_rows == t->num_rows &&
                  columns_equal(&back.columns[c], &t->columns[c], 0, t->num_rows, why, sizeof why);
        if (!eq) fprintf(stderr, "  [%s] column %s: %s\n", label, t->schema.fields[c].name, why);
        CHECK(eq);
    }
    dl_table_free(&back);
    dl_parquet_close(r);
}

DL_TEST(parquet_roundtrip_codecs_and_encodings) {
    dl_table t;
    build_table(&t, 5000, true);
    dl_codec codecs[] = {DL_CODEC_ZSTD, DL_CODEC_SNAPPY, DL_CODEC_NONE, DL_CODEC_GZIP,
                         DL_CODEC_LZ4_RAW};
    for (size_t k = 0; k < sizeof codecs / sizeof *codecs; k++) {
        for (int variant = 0; variant < 4; variant++) {
            dl_write_options o;
            dl_write_options_default(&o);
            o.codec = codecs[k];
            o.dictionary = variant != 1;
            o.delta_timestamps = variant != 2;
            o.data_page_version = variant == 3 ? 2 : 1;
            o.row_group_rows = 1234; /* several row groups, last one partial */
            o.page_rows = 300;       /* several pages per chunk */
            o.threads = variant + 1;
            char label[64];
            snprintf(label, sizeof label, "%s/variant %d", dl_codec_name(codecs[k]), variant);
            roundtrip(&t, &o, label);
        }
    }
    dl_table_free(&t);
}

DL_TEST(parquet_roundtrip_no_nulls_and_empty) {
    dl_table t;
    build_table(&t, 3000, false);
    roundtrip(&t, NULL, "defaults");
    dl_table_free(&t);
    dl_table e;
    build_table(&e, 0, true);
    roundtrip(&e, NULL, "empty");
    dl_table_free(&e);
}

DL_TEST(parquet_incremental_writes_and_kv) {
    dl_error err = {0};
    dl_table t;
    build_table(&t, 2500, true);
    char path[512];
    snprintf(path, sizeof path, "%s/inc.parquet", dl_test_tmpdir());
    dl_write_options o;
    dl_write_options_default(&o);
    o.row_group_rows = 1000;
    dl_parquet_writer *w = NULL;
    CHECK_OK(dl_parquet_writer_open(path, &t.schema, &o, &w, &err), &err);
    CHECK_OK(dl_parquet_writer_set_kv(w, "dl.dataset", "BINANCE/SPOT/BTCUSDT/raw/1m", &err), &err);
    /* the same table three times, appended */
    for (int k = 0; k < 3; k++) CHECK_OK(dl_parquet_writer_write(w, &t, &err), &err);
    CHECK_OK(dl_parquet_writer_close(w, true, &err), &err);
    dl_parquet_reader *r = NULL;
    CHECK_OK(dl_parquet_open(path, &r, &err), &err);
    if (!r) return;
    CHECK_EQ_INT(dl_parquet_num_rows(r), 7500);
    CHECK_EQ_INT(dl_parquet_num_row_groups(r), 8);
    CHECK_EQ_STR(dl_parquet_created_by(r), "dl-datalake parquet writer format 1");
    CHECK_EQ_INT(dl_parquet_kv_count(r), 1);
    const char *k, *v;
    dl_parquet_kv(r, 0, &k, &v);
    CHECK_EQ_STR(k, "dl.dataset");
    CHECK_EQ_STR(v, "BINANCE/SPOT/BTCUSDT/raw/1m");
    /* projection: only column 5 (f64), compared slice by slice */
    int cols[] = {5};
    dl_table back;
    CHECK_OK(dl_parquet_read_table(r, cols, 1, &back, &err), &err);
    CHECK_EQ_INT(back.schema.num_fields, 1);
    CHECK_EQ_INT(back.num_rows, 7500);
    char why[128];
    for (int kk = 0; kk < 3; kk++) {
        dl_column slice;
        dl_column_init(&slice, DL_TYPE_DOUBLE, DL_UNIT_MS);
        dl_column_append_range(&slice, &back.columns[0], kk * 2500, 2500, &err);
        CHECK(columns_equal(&slice, &t.columns[5], 0, 2500, why, sizeof why));
        dl_column_free(&slice);
    }
    dl_table_free(&back);
    dl_parquet_close(r);
    dl_table_free(&t);
}

DL_TEST(parquet_statistics_and_page_index) {
    dl_error err = {0};
    dl_table t;
    build_table(&t, 10000, true);
    char path[512];
    snprintf(path, sizeof path, "%s/stats.parquet", dl_test_tmpdir());
    dl_write_options o;
    dl_write_options_default(&o);
    o.page_rows = 1000;
    CHECK_OK(dl_parquet_write_table(path, &t, &o, &err), &err);
    dl_parquet_reader *r = NULL;
    CHECK_OK(dl_parquet_open(path, &r, &err), &err);
    if (!r) return;
    dl_stats st;
    CHECK_OK(dl_parquet_chunk_stats(r, 0, 0, &st, &err), &err);
    CHECK(st.has_min_max);
    CHECK_EQ_INT(st.min.i, 1700000000000000LL);
    CHECK_EQ_INT(st.max.i, 1700000000000000LL + 9999 * 60000000LL);
    CHECK(st.has_null_count && st.null_count == 0);
    /* i64 column: extremes present */
    CHECK_OK(dl_parquet_chunk_stats(r, 0, 3, &st, &err), &err);
    CHECK(st.has_min_max && st.min.i == INT64_MIN && st.max.i == INT64_MAX);
    CHECK_EQ_INT(st.null_count, t.columns[3].null_count);
    /* double: -0.0 present; the min must be reported (and be <= 0) */
    CHECK_OK(dl_parquet_chunk_stats(r, 0, 5, &st, &err), &err);
    CHECK(st.has_min_max && st.min.f <= 0.0);
    /* strings: min/max are real values in byte order */
    CHECK_OK(dl_parquet_chunk_stats(r, 0, 7, &st, &err), &err);
    CHECK(st.has_min_max && st.min.len == 7 && memcmp(st.min.s, "BTCUSDT", 7) == 0);
    CHECK(st.max.len == 7 && memcmp(st.max.s, "SOLUSDT", 7) == 0);
    dl_chunk_info ci;
    CHECK_OK(dl_parquet_chunk_info(r, 0, 7, &ci, &err), &err);
    CHECK(ci.has_dictionary);
    CHECK(strstr(ci.encodings, "RLE_DICTIONARY") != NULL);
    CHECK_OK(dl_parquet_chunk_info(r, 0, 0, &ci, &err), &err);
    CHECK(strstr(ci.encodings, "DELTA_BINARY_PACKED") != NULL);
    CHECK_EQ_STR(ci.logical_type, "TIMESTAMP(MICROS,UTC)");
    CHECK(ci.has_page_index);

    dl_page_stats *ps = NULL;
    int np = 0;
    CHECK_OK(dl_parquet_page_stats(r, 0, 0, &ps, &np, &err), &err);
    CHECK_EQ_INT(np, 10);
    for (int p = 0; p < np && ps; p++) {
        CHECK_EQ_INT(ps[p].first_row, p * 1000);
        CHECK_EQ_INT(ps[p].num_rows, 1000);
        CHECK(ps[p].stats.has_min_max);
        CHECK_EQ_INT(ps[p].stats.min.i, 1700000000000000LL + p * 1000 * 60000000LL);
    }
    dl_free(ps);

    /* ranged reads skip pages and return exactly the requested rows */
    int64_t ranges[][2] = {{0, 1},        {999, 1001}, {2500, 7300},
                           {9999, 10000}, {0, 10000},  {4000, 4000}};
    for (size_t k = 0; k < sizeof ranges / sizeof *ranges; k++) {
        for (int c = 0; c < t.schema.num_fields; c++) {
            dl_column col;
            dl_column_init(&col, t.schema.fields[c].type, t.schema.fields[c].unit);
            CHECK_OK(dl_parquet_read_column_range(r, 0, c, ranges[k][0], ranges[k][1], &col, &err),
                     &err);
            int64_t want = ranges[k][1] - ranges[k][0];
            CHECK_EQ_INT(col.length, want);
            char why[128] = "";
            bool eq = columns_equal(&col, &t.columns[c], ranges[k][0], want, why, sizeof why);
            if (!eq) fprintf(stderr, "  range %zu column %d: %s\n", k, c, why);
            CHECK(eq);
            dl_column_free(&col);
        }
    }
    dl_parquet_close(r);
    dl_table_free(&t);
}

/* Every truncation and many single-byte corruptions must fail or succeed
** cleanly (ASan/UBSan catch the rest). */
DL_TEST(parquet_hostile_files) {
    dl_error err = {0};
    dl_table t;
    build_table(&t, 700, true);
    char path[512];
    snprintf(path, sizeof path, "%s/h.parquet", dl_test_tmpdir());
    dl_write_options o;
    dl_write_options_default(&o);
    o.page_rows = 100;
    o.row_group_rows = 300;
    CHECK_OK(dl_parquet_write_table(path, &t, &o, &err), &err);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size), *copy = malloc((size_t)size);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    int opened = 0, failed_reads = 0;
    for (long cut = 0; cut < size; cut += (cut < 64 || size - cut < 600) ? 1 : 37) {
        dl_parquet_reader *r = NULL;
        memcpy(copy, buf, (size_t)cut);
        if (dl_parquet_open_memory(copy, (size_t)cut, "trunc", &r, &err) == DL_OK) {
            opened++;
            dl_parquet_close(r);
        } else {
            CHECK(err.message[0] != 0);
        }
    }
    CHECK_EQ_INT(opened, 0); /* a truncated file never opens: the footer is at the end */
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(copy, buf, (size_t)size);
        int flips = 1 + (int)(rnd() % 3);
        for (int k = 0; k < flips; k++)
            copy[rnd() % (uint64_t)size] ^= (uint8_t)(1u << (rnd() % 8));
        dl_parquet_reader *r = NULL;
        if (dl_parquet_open_memory(copy, (size_t)size, "flip", &r, &err) != DL_OK) continue;
        dl_table back;
        if (dl_parquet_read_table(r, NULL, 0, &back, &err) == DL_OK)
            dl_table_free(&back);
        else {
            failed_reads++;
            CHECK(err.message[0] != 0);
        }
        for (int g = 0; g < dl_parquet_num_row_groups(r); g++) {
            dl_page_stats *ps = NULL;
            int np;
            if (dl_parquet_page_stats(r, g, 0, &ps, &np, &err) == DL_OK) dl_free(ps);
            dl_stats st;
            dl_parquet_chunk_stats(r, g, 6, &st, &err);
        }
        dl_parquet_close(r);
    }
    CHECK(failed_reads > 0); /* corruption is detected at least sometimes */
    free(buf);
    free(copy);
    dl_table_free(&t);
}

DL_TEST(parquet_clear_errors) {
    dl_error err = {0};
    dl_parquet_reader *r = NULL;
    CHECK_RC(dl_parquet_open("/nonexistent/x.parquet", &r, &err), DL_ENOTFOUND);
    CHECK(strstr(err.message, "/nonexistent/x.parquet") != NULL);
    const char *junk = "this is not a parquet file at all";
    CHECK_RC(dl_parquet_open_memory((const uint8_t *)junk, strlen(junk), "junk.txt", &r, &err),
             DL_ECORRUPT);
    CHECK(strstr(err.message, "junk.txt") != NULL && strstr(err.message, "PAR1") != NULL);
    /* a non-nullable column holding nulls is refused at write */
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "x", DL_TYPE_INT64, false, &err);
    dl_table t;
    dl_table_init(&t, &s, &err);
    dl_column_append_null(&t.columns[0], &err);
    dl_table_seal(&t, &err);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.parquet", dl_test_tmpdir());
    CHECK_RC(dl_parquet_write_table(path, &t, NULL, &err), DL_EINVAL);
    CHECK(strstr(err.message, "not nullable") != NULL);
    dl_table_free(&t);
    dl_schema_free(&s);
}

/* Files up to 4 MiB are read into memory, larger ones are mapped: both
** paths must give the same values. */
DL_TEST(parquet_large_file_mapped) {
    dl_error err = {0};
    dl_table t;
    build_table(&t, 300000, true); /* random int64/double columns: > 4 MiB compressed */
    char path[512];
    snprintf(path, sizeof path, "%s/big.parquet", dl_test_tmpdir());
    dl_write_options o;
    dl_write_options_default(&o);
    o.codec = DL_CODEC_NONE;
    CHECK_OK(dl_parquet_write_table(path, &t, &o, &err), &err);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > (4 << 20));
    dl_parquet_reader *r = NULL;
    CHECK_OK(dl_parquet_open(path, &r, &err), &err);
    if (r) {
        dl_table back;
        CHECK_OK(dl_parquet_read_table(r, NULL, 0, &back, &err), &err);
        char why[128] = "";
        for (int c = 0; c < t.schema.num_fields; c++)
            CHECK(back.num_rows == t.num_rows &&
                  columns_equal(&back.columns[c], &t.columns[c], 0, t.num_rows, why, sizeof why));
        dl_table_free(&back);
        dl_parquet_close(r);
    }
    dl_table_free(&t);
}

/* dl_parquet_open_fd reads the file behind a descriptor the caller keeps,
** names it as told, and refuses what is not a regular file. */
DL_TEST(parquet_open_fd) {
    dl_error err = {0};
    dl_table t;
    build_table(&t, 300, true);
    char path[512];
    snprintf(path, sizeof path, "%s/fd.parquet", dl_test_tmpdir());
    CHECK_OK(dl_parquet_write_table(path, &t, NULL, &err), &err);
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    dl_parquet_reader *r = NULL;
    CHECK_OK(dl_parquet_open_fd(fd, "the-name", &r, &err), &err);
    CHECK(fcntl(fd, F_GETFD) != -1); /* still the caller's */
    if (r) {
        CHECK_EQ_INT(dl_parquet_num_rows(r), 300);
        CHECK_EQ_INT(dl_parquet_file_size(r), lseek(fd, 0, SEEK_END));
        dl_table back;
        CHECK_OK(dl_parquet_read_table(r, NULL, 0, &back, &err), &err);
        CHECK(back.num_rows == 300);
        dl_table_free(&back);
        dl_parquet_close(r);
    }
    close(fd);
    fd = open(dl_test_tmpdir(), O_RDONLY);
    CHECK_RC(dl_parquet_open_fd(fd, "a-dir", &r, &err), DL_EINVAL);
    CHECK(strstr(err.message, "a-dir: not a regular file") == err.message);
    close(fd);
    dl_table_free(&t);
}
