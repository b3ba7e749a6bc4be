/*
** test_pq_golden.c -- byte stability of the Parquet writer.
**
** Golden files: a few deterministic fixture tables (every type, nulls,
** NaN/-0.0, dictionary and PLAIN, DELTA timestamps, v1 and v2 pages, every
** codec, several row groups and pages, key/value metadata) are written and
** their bytes compared with tests/golden/NAME.parquet, whose SHA-256 is
** listed in tests/golden/SHA256SUMS.  Any change of the writer's bytes
** fails here.  When a change is intended (and DL_PQ_WRITER_FORMAT bumped),
** regenerate with `make golden-update` (DL_GOLDEN_UPDATE=1 dl_tests
** pq_golden): the files and SHA256SUMS are rewritten.  The golden files are
** also read back, so the reader keeps reading what older writers wrote.
** Compressed fixtures also pin the compression libraries' output: after a
** zstd/snappy/lz4/zlib upgrade, check that the uncompressed fixture still
** matches before regenerating.
**
** Lake rule: a re-ingest is unchanged when the day's logical content is,
** whatever bytes this writer would produce now (another release's
** created_by, other options): tested with the created_by test hook.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "dl_test.h"
#include "parquet/pq_meta.h"
#include "util/dl_internal.h"

/* ---- fixtures ---- */

static uint64_t fx_state;
static uint64_t fx_next(void) {
    fx_state ^= fx_state << 13;
    fx_state ^= fx_state >> 7;
    fx_state ^= fx_state << 17;
    return fx_state;
}

/* 700 rows, 13 columns: every dl type; nullable columns hold nulls. */
static void fixture_table(dl_table *t) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "symbol", DL_TYPE_STRING, false, NULL);
    dl_schema_add(&s, "price", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_FLOAT, true, NULL);
    dl_schema_add(&s, "trade_id", DL_TYPE_INT64, false, NULL);
    dl_schema_add(&s, "count", DL_TYPE_INT32, true, NULL);
    dl_schema_add(&s, "buyer_maker", DL_TYPE_BOOL, true, NULL);
    dl_schema_add(&s, "note", DL_TYPE_STRING, true, NULL);
    dl_schema_add(&s, "raw", DL_TYPE_BINARY, true, NULL);
    dl_schema_add(&s, "day", DL_TYPE_DATE, false, NULL);
    dl_schema_add_timestamp(&s, "ts_ms", DL_UNIT_MS, true, NULL);
    dl_schema_add_timestamp(&s, "ts_ns", DL_UNIT_NS, false, NULL);
    dl_schema_add(&s, "level", DL_TYPE_INT64, false, NULL); /* low cardinality: dictionary */
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    fx_state = 0x2545F4914F6CDD1DULL;
    static const char *syms[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "ÄÖÜ-€"};
    for (int64_t i = 0; i < 700; i++) {
        uint64_t x = fx_next();
        dl_column *c = t->columns;
        dl_column_append_i64(&c[0], 1704412800000000LL + i * 250000, NULL);
        const char *sym = syms[x % 4];
        dl_column_append_str(&c[1], sym, strlen(sym), NULL);
        double px = i == 7 ? -0.0 : i == 8 ? (double)NAN : 42000.0 + (double)(x % 100000) / 100.0;
        if (i % 13 == 3)
            dl_column_append_null(&c[2], NULL);
        else
            dl_column_append_f64(&c[2], px, NULL);
        if (i % 17 == 4)
            dl_column_append_null(&c[3], NULL);
        else
            dl_column_append_f32(&c[3], (float)(x >> 40) / 1024.0f, NULL);
        dl_column_append_i64(&c[4], 900000000LL + i * 3 + (int64_t)(x % 3), NULL);
        if (i % 5 == 0)
            dl_column_append_null(&c[5], NULL);
        else
            dl_column_append_i32(&c[5], (int32_t)(x % 2000) - 1000, NULL);
        if (i % 9 == 0)
            dl_column_append_null(&c[6], NULL);
        else
            dl_column_append_bool(&c[6], (x >> 9) & 1, NULL);
        char buf[48];
        int len = snprintf(buf, sizeof buf, "n%llu", (unsigned long long)(x % 1000003));
        if (i % 4 == 1)
            dl_column_append_null(&c[7], NULL);
        else
            dl_column_append_str(&c[7], buf, i % 50 == 0 ? 0 : (size_t)len, NULL);
        uint8_t bin[8];
        memcpy(bin, &x, sizeof bin);
        if (i % 6 == 2)
            dl_column_append_null(&c[8], NULL);
        else
            dl_column_append_str(&c[8], (const char *)bin, (size_t)(x % 9), NULL);
        dl_column_append_i32(&c[9], 19727 + (int32_t)(i / 300), NULL);
        if (i % 11 == 10)
            dl_column_append_null(&c[10], NULL);
        else
            dl_column_append_i64(&c[10], 1704412800000LL + (int64_t)(x % 86400000), NULL);
        dl_column_append_i64(&c[11], 1704412800000000000LL + i * 1000000007LL, NULL);
        dl_column_append_i64(&c[12], (int64_t)(x % 5) * 100, NULL);
    }
    dl_table_seal(t, NULL);
}

typedef struct golden {
    const char *name;
    dl_codec codec;
    int page_version;
    bool dictionary, delta, page_index, statistics;
} golden;

/* The uncompressed fixtures pin the encodings; the others add the codecs. */
static const golden GOLDEN[] = {
    {"v1_none_dict_delta", DL_CODEC_NONE, 1, true, true, true, true},
    {"v2_none_plain", DL_CODEC_NONE, 2, false, false, true, true},
    {"v1_none_nostats_noindex", DL_CODEC_NONE, 1, true, true, false, false},
    {"v1_zstd_dict_delta", DL_CODEC_ZSTD, 1, true, true, true, true},
    {"v2_snappy_dict", DL_CODEC_SNAPPY, 2, true, true, true, true},
    {"v1_gzip_plain", DL_CODEC_GZIP, 1, false, false, true, true},
    {"v2_lz4_dict", DL_CODEC_LZ4_RAW, 2, true, true, true, true},
};

static int write_golden(const golden *g, const dl_table *t, int threads, const char *path,
                        dl_error *err) {
    dl_write_options o;
    dl_write_options_default(&o);
    o.codec = g->codec;
    o.data_page_version = g->page_version;
    o.dictionary = g->dictionary;
    o.delta_timestamps = g->delta;
    o.page_index = g->page_index;
    o.statistics = g->statistics;
    o.row_group_rows = 500; /* two row groups */
    o.page_rows = 200;      /* several pages each */
    o.threads = threads;
    dl_parquet_writer *w = NULL;
    int rc = dl_parquet_writer_open(path, &t->schema, &o, &w, err);
    if (rc == DL_OK) rc = dl_parquet_writer_set_kv(w, "dl.fixture", g->name, err);
    if (rc == DL_OK) rc = dl_parquet_writer_write(w, t, err);
    if (rc != DL_OK) {
        dl_parquet_writer_abort(w);
        return rc;
    }
    return dl_parquet_writer_close(w, false, err);
}

static uint8_t *load(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int save(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* The SHA-256 recorded for name in SHA256SUMS ("HEX  NAME.parquet" lines). */
static bool recorded_sha(const char *sums, const char *name, char out[65]) {
    char file[128];
    snprintf(file, sizeof file, "  %s.parquet\n", name);
    const char *at = strstr(sums, file);
    if (!at || at - sums < 64) return false;
    memcpy(out, at - 64, 64);
    out[64] = 0;
    return at - 64 == sums || at[-65] == '\n';
}

DL_TEST(pq_golden_files_pin_the_writer_bytes) {
    const char *dir = getenv("DL_GOLDEN_DIR") ? getenv("DL_GOLDEN_DIR") : "tests/golden";
    bool update = getenv("DL_GOLDEN_UPDATE") && strcmp(getenv("DL_GOLDEN_UPDATE"), "1") == 0;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "  %s: no such directory (run from the repository root or set "
                "DL_GOLDEN_DIR)\n",
                dir);
        CHECK(false);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/SHA256SUMS", dir);
    size_t sums_len = 0;
    uint8_t *sums = load(path, &sums_len);
    char *sums_text = calloc(sums_len + 1, 1);
    if (sums) memcpy(sums_text, sums, sums_len);
    free(sums);
    dl_buf new_sums = DL_BUF_INIT;
    dl_table t;
    fixture_table(&t);
    for (size_t k = 0; k < sizeof GOLDEN / sizeof *GOLDEN; k++) {
        const golden *g = &GOLDEN[k];
        dl_error err = {0};
        char tmp[600], gold[1024];
        snprintf(tmp, sizeof tmp, "%s/%s.parquet", dl_test_tmpdir(), g->name);
        snprintf(gold, sizeof gold, "%s/%s.parquet", dir, g->name);
        CHECK_OK(write_golden(g, &t, 2, tmp, &err), &err);
        size_t n = 0, gn = 0;
        uint8_t *bytes = load(tmp, &n);
        CHECK(bytes != NULL);
        if (!bytes) continue;
        char sha[65], want[65];
        dl_sha256_hex(bytes, n, sha);
        char line[160];
        snprintf(line, sizeof line, "%s  %s.parquet\n", sha, g->name);
        dl_buf_append(&new_sums, line, strlen(line));
        if (update) {
            CHECK(save(gold, bytes, n) == 0);
        } else {
            uint8_t *old = load(gold, &gn);
            bool have = recorded_sha(sums_text, g->name, want);
            bool same =
                have && strcmp(sha, want) == 0 && old && gn == n && memcmp(old, bytes, n) == 0;
            if (!same)
                fprintf(stderr,
                        "  %s: the writer's bytes changed (sha256 %s, recorded %s, file %s): if "
                        "intended, bump DL_PQ_WRITER_FORMAT and run `make golden-update`\n",
                        g->name, sha, have ? want : "none", old ? "present" : "missing");
            CHECK(same);
            /* the stored file still reads back to the fixture */
            dl_parquet_reader *r = NULL;
            if (old && dl_parquet_open_memory(old, gn, gold, &r, &err) == DL_OK) {
                dl_table back;
                CHECK_OK(dl_parquet_read_table(r, NULL, 0, &back, &err), &err);
                CHECK(dl_table_same_content(&back, &t));
                CHECK_EQ_STR(dl_parquet_created_by(r), DL_PQ_CREATED_BY);
                dl_table_free(&back);
                dl_parquet_close(r);
            } else {
                CHECK(false);
            }
            free(old);
        }
        free(bytes);
    }
    if (update) {
        snprintf(path, sizeof path, "%s/SHA256SUMS", dir);
        CHECK(save(path, new_sums.data, new_sums.len) == 0);
        fprintf(stderr, "  golden files rewritten in %s\n", dir);
    }
    dl_buf_free(&new_sums);
    free(sums_text);
    dl_table_free(&t);
}

/* The bytes depend on neither the run nor the encoding thread count. */
DL_TEST(pq_golden_writer_is_deterministic) {
    dl_table t;
    fixture_table(&t);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/a.parquet", dl_test_tmpdir());
    snprintf(b, sizeof b, "%s/b.parquet", dl_test_tmpdir());
    dl_error err = {0};
    for (size_t k = 0; k < sizeof GOLDEN / sizeof *GOLDEN; k++) {
        CHECK_OK(write_golden(&GOLDEN[k], &t, 1, a, &err), &err);
        CHECK_OK(write_golden(&GOLDEN[k], &t, 5, b, &err), &err);
        char sa[65], sb[65];
        CHECK_OK(dl_sha256_file(a, sa, &err), &err);
        CHECK_OK(dl_sha256_file(b, sb, &err), &err);
        CHECK_EQ_STR(sa, sb);
    }
    dl_table_free(&t);
}

/* ---- the lake's "unchanged" rule across writer releases ---- */

#define DS "BINANCE/SPOT/ETHUSDT/raw/1m"

static void klines(dl_table *t, int n, double bump_last) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "close", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "volume", DL_TYPE_DOUBLE, true, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    for (int i = 0; i < n; i++) {
        dl_column_append_i64(&t->columns[0], 1704412800000000LL + i * 60000000LL, NULL);
        dl_column_append_f64(&t->columns[1], 2000.0 + i + (i == n - 1 ? bump_last : 0), NULL);
        if (i % 7 == 3)
            dl_column_append_null(&t->columns[2], NULL);
        else
            dl_column_append_f64(&t->columns[2], i * 0.5, NULL);
    }
    dl_table_seal(t, NULL);
}

static const char *day_path(dl_lake *lake, char *buf, size_t size) {
    dl_lake_file_list files = {0};
    dl_error err = {0};
    buf[0] = 0;
    if (dl_lake_files(lake, DS, INT64_MIN, INT64_MAX, 0, &files, &err) == DL_OK && files.count == 1)
        snprintf(buf, size, "%s", files.files[0].path);
    dl_lake_file_list_free(&files);
    return buf;
}

DL_TEST(pq_golden_reingest_by_another_release_is_unchanged) {
    dl_error err = {0};
    char root[512], path[1024], sha0[65], sha1[65];
    snprintf(root, sizeof root, "%s/lake", dl_test_tmpdir());
    dl_lake *lake = NULL;
    CHECK_OK(dl_lake_init(root, &err), &err);
    CHECK_OK(dl_lake_open(root, false, &lake, &err), &err);
    if (!lake) return;
    dl_lake_write_options o;
    dl_lake_write_options_default(&o);
    o.durable = false;
    dl_table t;
    klines(&t, 1440, 0);
    dl_lake_write_result res;
    CHECK_OK(dl_lake_write(lake, DS, &t, &o, &res, &err), &err);
    CHECK_EQ_INT(res.versions_created, 1);
    CHECK_OK(dl_sha256_file(day_path(lake, path, sizeof path), sha0, &err), &err);

    /* "a newer dl": another created_by, and other write options on top */
    dl_pq_test_created_by = "dl-datalake parquet writer format 999 (test)";
    CHECK_OK(dl_lake_write(lake, DS, &t, &o, &res, &err), &err);
    CHECK_EQ_INT(res.days_unchanged, 1);
    CHECK_EQ_INT(res.days_written, 0);
    CHECK_EQ_INT(res.versions_created, 0);
    o.parquet.codec = DL_CODEC_SNAPPY;
    o.parquet.data_page_version = 2;
    CHECK_OK(dl_lake_write(lake, DS, &t, &o, &res, &err), &err);
    CHECK_EQ_INT(res.days_unchanged, 1);
    CHECK_EQ_INT(res.versions_created, 0);
    dl_dataset_info info;
    CHECK_OK(dl_lake_dataset_info(lake, DS, &info, &err), &err);
    CHECK_EQ_INT(info.version, 1);
    CHECK_OK(dl_sha256_file(day_path(lake, path, sizeof path), sha1, &err), &err);
    CHECK_EQ_STR(sha1, sha0); /* the live file was not rewritten */

    /* a real change is written -- by the "new release" */
    dl_table changed;
    klines(&changed, 1440, 0.5);
    CHECK_OK(dl_lake_write(lake, DS, &changed, &o, &res, &err), &err);
    CHECK_EQ_INT(res.days_written, 1);
    CHECK_EQ_INT(res.versions_created, 1);
    dl_parquet_reader *r = NULL;
    CHECK_OK(dl_parquet_open(day_path(lake, path, sizeof path), &r, &err), &err);
    if (r) CHECK_EQ_STR(dl_parquet_created_by(r), "dl-datalake parquet writer format 999 (test)");
    dl_parquet_close(r);
    dl_pq_test_created_by = NULL;

    /* and back: the old content again is a change (new version) */
    CHECK_OK(dl_lake_write(lake, DS, &t, &o, &res, &err), &err);
    CHECK_EQ_INT(res.versions_created, 1);
    CHECK_OK(dl_lake_write(lake, DS, &t, &o, &res, &err), &err);
    CHECK_EQ_INT(res.versions_created, 0);
    dl_table_free(&changed);
    dl_table_free(&t);
    dl_lake_close(lake);
}

/* dl_table_same_content: what counts as the same content. */
DL_TEST(pq_golden_same_content_rule) {
    dl_table a, b;
    klines(&a, 50, 0);
    klines(&b, 50, 0);
    CHECK(dl_table_same_content(&a, &b));
    /* a null slot's value does not matter */
    ((double *)b.columns[2].values)[3] = 12345.0;
    CHECK(dl_table_same_content(&a, &b));
    /* -0.0 differs from 0.0 (bit for bit), NaN equals NaN */
    ((double *)a.columns[2].values)[0] = -0.0;
    CHECK(!dl_table_same_content(&a, &b));
    ((double *)a.columns[2].values)[0] = (double)NAN;
    ((double *)b.columns[2].values)[0] = (double)NAN;
    CHECK(dl_table_same_content(&a, &b));
    /* nullability is part of the schema */
    b.schema.fields[1].nullable = true;
    CHECK(!dl_table_same_content(&a, &b));
    b.schema.fields[1].nullable = false;
    /* a null where a value was */
    dl_bitmap_clear(b.columns[2].validity, 11);
    CHECK(!dl_table_same_content(&a, &b));
    dl_table_free(&a);
    dl_table_free(&b);
    /* strings: lengths and bytes */
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "s", DL_TYPE_STRING, false, NULL);
    dl_table x, y;
    dl_table_init(&x, &s, NULL);
    dl_table_init(&y, &s, NULL);
    dl_column_append_str(&x.columns[0], "ab", 2, NULL);
    dl_column_append_str(&x.columns[0], "c", 1, NULL);
    dl_column_append_str(&y.columns[0], "a", 1, NULL);
    dl_column_append_str(&y.columns[0], "bc", 2, NULL);
    dl_table_seal(&x, NULL);
    dl_table_seal(&y, NULL);
    CHECK(!dl_table_same_content(&x, &y));
    dl_table_free(&x);
    dl_table_free(&y);
    dl_schema_free(&s);
}
