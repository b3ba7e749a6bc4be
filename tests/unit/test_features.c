/*
** test_features.c -- the feature store: the SemVer parse and precedence
** table; point-in-time retrieval against a naive O(N*M) reference on random
** data (ties, available_at before and after ts, nulls, TTL, unsorted and
** duplicate entities, unknown symbols); the look-ahead property (rewriting
** every value an entity must not see leaves its output unchanged);
** immutability of published versions; aliases, latest and as-of system
** time; the JSON parser's refusals.
*/
#include <stdlib.h>
#include <time.h>

#include "dl_test.h"
#include "util/dl_json.h"

#define MIN_US INT64_C(60000000)
/* 2024-01-05T00:00:00Z */
#define T0 INT64_C(1704412800000000)

static uint64_t rng;
static uint32_t rnd(void) {
    return dl_test_rand(&rng);
}

DL_TEST(semver_table) {
    static const char *const valid[] = {"0.0.0",
                                        "1.0.0",
                                        "1.2.0-experimental",
                                        "10.20.30",
                                        "1.0.0-alpha.1",
                                        "1.0.0-0.3.7",
                                        "1.0.0-x.7.z.92",
                                        "1.0.0+20130313144700",
                                        "1.0.0-beta+exp.sha.5114f85",
                                        "1.0.0-x-y-z.--",
                                        "99999999999999999999.0.0"};
    static const char *const invalid[] = {
        "",       "1",       "1.0",    "1.0.0.0",   "v1.0.0",     "01.0.0",
        "1.02.0", "1.0.0-",  "1.0.0+", "1.0.0-01",  "1.0.0-a..b", "1.0.0 ",
        " 1.0.0", "1.0.0-é", "a.b.c",  "1.0.0+a+b", "-1.0.0",     "1.0.0-alpha_1"};
    dl_error err;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        int rc = dl_semver_validate(valid[i], &err);
        if (rc != DL_OK) fprintf(stderr, "  valid %s refused: %s\n", valid[i], err.message);
        CHECK_EQ_INT(rc, DL_OK);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        err.message[0] = 0;
        int rc = dl_semver_validate(invalid[i], &err);
        if (rc != DL_EINVAL) fprintf(stderr, "  invalid '%s' accepted\n", invalid[i]);
        CHECK_EQ_INT(rc, DL_EINVAL);
        CHECK(err.message[0] != 0);
    }
    /* semver.org's precedence example, plus numeric-vs-length cases */
    static const char *const order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                        "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                        "1.0.0-rc.1",  "1.0.0",         "1.9.0",
                                        "1.10.0",      "2.0.0",         "2.1.0",
                                        "2.1.1",       "10.0.0",        "99999999999999999999.0.0"};
    size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int c = dl_semver_compare(order[i], order[j]);
            int want = (i > j) - (i < j);
            if ((c > 0) - (c < 0) != want)
                fprintf(stderr, "  compare(%s, %s) = %d\n", order[i], order[j], c);
            CHECK_EQ_INT((c > 0) - (c < 0), want);
        }
    CHECK_EQ_INT(dl_semver_compare("1.0.0+a", "1.0.0+b"), 0);
    CHECK(dl_semver_compare("1.0.0-rc.1+x", "1.0.0") < 0);
}

/* Feature rows: sym, ts, aa, x (nullable double). */
typedef struct frow {
    int sym;
    int64_t ts, aa;
    double x;
    bool null;
} frow;

static const char *const SYMS[] = {"AAA", "BBB", "CCC", "ZZZ"}; /* ZZZ has no rows */

static void rows_table(const frow *r, int n, dl_table *t) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "sym", DL_TYPE_STRING, false, NULL);
    dl_schema_add_timestamp(&s, "t", DL_UNIT_US, false, NULL);
    dl_schema_add_timestamp(&s, "aa", DL_UNIT_US, false, NULL);
    dl_schema_add(&s, "x", DL_TYPE_DOUBLE, true, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    for (int i = 0; i < n; i++) {
        dl_column_append_str(&t->columns[0], SYMS[r[i].sym], 3, NULL);
        dl_column_append_i64(&t->columns[1], r[i].ts, NULL);
        dl_column_append_i64(&t->columns[2], r[i].aa, NULL);
        if (r[i].null)
            dl_column_append_null(&t->columns[3], NULL);
        else
            dl_column_append_f64(&t->columns[3], r[i].x, NULL);
    }
    dl_table_seal(t, NULL);
}

/* Random rows with unique (sym, ts, aa): ts on a minute grid over 3 days
** (so ts ties happen), aa from 10 minutes before to 3 hours after ts. */
static int make_rows(frow *r, int n) {
    int m = 0;
    while (m < n) {
        frow f = {(int)(rnd() % 3), T0 + (int64_t)(rnd() % (3 * 1440)) * MIN_US, 0, 0, false};
        f.aa = f.ts + ((int64_t)(rnd() % 190) - 10) * MIN_US;
        f.x = (double)(rnd() % 100000) / 7.0;
        f.null = rnd() % 10 == 0;
        bool dup = false;
        for (int i = 0; i < m && !dup; i++)
            dup = r[i].sym == f.sym && r[i].ts == f.ts && r[i].aa == f.aa;
        if (!dup) r[m++] = f;
    }
    return m;
}

static int64_t entity_time(void) {
    return T0 + ((int64_t)(rnd() % (3 * 1440 + 240)) - 120) * MIN_US +
           (int64_t)(rnd() % 3) * 20000000;
}

static void entities_table(const int *sym, const int64_t *ts, int n, dl_table *t) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "symbol", DL_TYPE_STRING, false, NULL);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_US, false, NULL);
    dl_table_init(t, &s, NULL);
    dl_schema_free(&s);
    for (int i = 0; i < n; i++) {
        dl_column_append_str(&t->columns[0], SYMS[sym[i]], 3, NULL);
        dl_column_append_i64(&t->columns[1], ts[i], NULL);
    }
    dl_table_seal(t, NULL);
}

/* The definition, literally: O(N*M). Returns the row index or -1. */
static int naive_pick(const frow *r, int m, int sym, int64_t t, int64_t ttl) {
    int best = -1;
    for (int i = 0; i < m; i++) {
        if (r[i].sym != sym || r[i].ts > t || r[i].aa > t) continue;
        if (ttl > 0 && t - r[i].ts > ttl) continue;
        if (best < 0 || r[i].ts > r[best].ts || (r[i].ts == r[best].ts && r[i].aa > r[best].aa))
            best = i;
    }
    return best;
}

/* Options publishing rows_table() output as fx@version. */
static void fx_options(dl_features_import_options *o, const char *version) {
    dl_features_import_options_default(o);
    o->name = "fx";
    o->version = version;
    o->entity_column = "sym";
    o->ts_column = "t";
    o->available_at_column = "aa";
    o->durable = false;
}

static void publish(dl_lake *lake, const frow *r, int m, const char *version) {
    dl_table t;
    rows_table(r, m, &t);
    dl_features_import_options o;
    fx_options(&o, version);
    dl_error err;
    dl_features_publish_result res;
    CHECK_OK(dl_features_publish(lake, &t, &o, NULL, &res, &err), &err);
    CHECK(!res.unchanged);
    dl_table_free(&t);
}

/* Compares the output's fx__x column with the naive picks. */
static void check_against_naive(dl_lake *lake, const char *ref, const frow *r, int m,
                                const int *sym, const int64_t *ts, int n, int64_t ttl) {
    dl_table ents, out;
    entities_table(sym, ts, n, &ents);
    dl_features_get_options go = {ttl, 0};
    dl_error err;
    const char *refs[] = {ref};
    CHECK_OK(dl_features_get(lake, &ents, refs, 1, &go, &out, NULL, &err), &err);
    CHECK_EQ_INT(out.num_rows, n);
    CHECK_EQ_INT(out.schema.num_fields, 3);
    if (out.num_rows != n || out.schema.num_fields != 3) goto done;
    CHECK_EQ_STR(out.schema.fields[2].name, "fx__x");
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int p = naive_pick(r, m, sym[i], ts[i], ttl);
        const dl_column *x = &out.columns[2];
        bool want_null = p < 0 || r[p].null, got_null = !dl_column_is_valid(x, i);
        bool same =
            want_null == got_null && (want_null || ((const double *)x->values)[i] == r[p].x);
        int64_t got_ts = ((const int64_t *)out.columns[1].values)[i];
        if (!same || got_ts != ts[i]) bad++;
    }
    CHECK_EQ_INT(bad, 0);
done:
    dl_table_free(&ents);
    dl_table_free(&out);
}

DL_TEST(features_pit_matches_naive_reference) {
    dl_lake *lake = dl_test_fresh_lake("pit");
    rng = 7;
    enum { M = 1500, N = 3000 };
    frow *r = calloc(M, sizeof *r);
    int m = make_rows(r, M);
    publish(lake, r, m, "1.0.0");
    int *sym = calloc(N, sizeof *sym);
    int64_t *ts = calloc(N, sizeof *ts);
    for (int i = 0; i < N; i++) {
        sym[i] = (int)(rnd() % 4);                                   /* ZZZ: unknown symbol */
        ts[i] = i > 0 && rnd() % 8 == 0 ? ts[i - 1] : entity_time(); /* duplicates */
        if (i > 0 && rnd() % 8 == 0) sym[i] = sym[i - 1];
    }
    /* exact hits on feature times and availability times (inclusive bounds) */
    for (int i = 0; i < 200; i++) {
        const frow *f = &r[rnd() % m];
        sym[i] = f->sym;
        ts[i] = i % 2 ? f->ts : f->aa;
    }
    check_against_naive(lake, "fx@1.0.0", r, m, sym, ts, N, 0);
    check_against_naive(lake, "fx@latest", r, m, sym, ts, N, 90 * MIN_US);
    check_against_naive(lake, "fx@1.0.0", r, m, sym, ts, N, 1);
    free(r);
    free(sym);
    free(ts);
    dl_lake_close(lake);
}

/* Rewrites every value whose row the entity time T must not see (ts > T or
** available_at > T): the output at T must not change. */
DL_TEST(features_no_look_ahead) {
    dl_lake *lake = dl_test_fresh_lake("lookahead");
    rng = 99;
    enum { M = 800 };
    frow *r = calloc(M, sizeof *r), *r2 = calloc(M, sizeof *r2);
    int m = make_rows(r, M);
    publish(lake, r, m, "1.0.0");
    for (int k = 0; k < 4; k++) {
        int64_t T = entity_time();
        for (int i = 0; i < m; i++) {
            r2[i] = r[i];
            if (r[i].ts > T || r[i].aa > T) {
                r2[i].x = -1000.0 - i;
                r2[i].null = false;
            }
        }
        char version[32];
        snprintf(version, sizeof version, "2.0.%d", k);
        publish(lake, r2, m, version);
        int sym[3] = {0, 1, 2};
        int64_t ts[3] = {T, T, T};
        dl_table ents, a, b;
        entities_table(sym, ts, 3, &ents);
        dl_error err;
        const char *ra[] = {"fx@1.0.0"}, *rb[] = {version};
        char refb[64];
        snprintf(refb, sizeof refb, "fx@%s", version);
        rb[0] = refb;
        CHECK_OK(dl_features_get(lake, &ents, ra, 1, NULL, &a, NULL, &err), &err);
        CHECK_OK(dl_features_get(lake, &ents, rb, 1, NULL, &b, NULL, &err), &err);
        for (int i = 0; i < 3; i++) {
            bool va = dl_column_is_valid(&a.columns[2], i),
                 vb = dl_column_is_valid(&b.columns[2], i);
            CHECK(va == vb);
            if (va && vb)
                CHECK(((double *)a.columns[2].values)[i] == ((double *)b.columns[2].values)[i]);
        }
        dl_table_free(&ents);
        dl_table_free(&a);
        dl_table_free(&b);
    }
    free(r);
    free(r2);
    dl_lake_close(lake);
}

DL_TEST(features_versions_are_immutable) {
    dl_lake *lake = dl_test_fresh_lake("immutable");
    rng = 3;
    frow r[50];
    int m = make_rows(r, 50);
    publish(lake, r, m, "1.0.0");
    dl_table t;
    rows_table(r, m, &t);
    dl_features_import_options o;
    fx_options(&o, "1.0.0");
    dl_error err;
    dl_features_publish_result res;
    /* same content: a no-op */
    CHECK_OK(dl_features_publish(lake, &t, &o, NULL, &res, &err), &err);
    CHECK(res.unchanged);
    /* different content: refused, nothing changes */
    ((double *)t.columns[3].values)[0] += 1;
    CHECK_RC(dl_features_publish(lake, &t, &o, NULL, &res, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "immutable") != NULL);
    o.version = "1.0";
    CHECK_RC(dl_features_publish(lake, &t, &o, NULL, &res, &err), DL_EINVAL);
    o.version = "1.0.0+build"; /* same precedence as 1.0.0 */
    CHECK_RC(dl_features_publish(lake, &t, &o, NULL, &res, &err), DL_ECONFLICT);
    dl_feature_version *vs = NULL;
    int64_t n = 0;
    CHECK_OK(dl_features_versions(lake, "fx", 0, true, &vs, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    dl_features_free(vs);
    dl_table_free(&t);
    dl_lake_close(lake);
}

static void busy_wait_us(int64_t us) {
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME, &a);
    do clock_gettime(CLOCK_REALTIME, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

DL_TEST(features_aliases_latest_and_system_time) {
    dl_lake *lake = dl_test_fresh_lake("alias");
    rng = 5;
    frow r[40];
    int m = make_rows(r, 40);
    dl_error err;
    char v[DL_FEATURE_VERSION_MAX + 1];
    publish(lake, r, m, "1.0.0");
    CHECK_OK(dl_features_alias_set(lake, "fx", "production", "1.0.0", &err), &err);
    busy_wait_us(2000);
    int64_t mid = now_us();
    busy_wait_us(2000);
    r[0].x += 1;
    publish(lake, r, m, "2.0.0");
    r[0].x += 1;
    publish(lake, r, m, "3.0.0-rc.1");
    CHECK_OK(dl_features_alias_set(lake, "fx", "production", "2.0.0", &err), &err);
    CHECK_OK(dl_features_alias_set(lake, "fx", "staging", "3.0.0-rc.1", &err), &err);
    CHECK_OK(dl_features_resolve(lake, "fx", "production", 0, v, &err), &err);
    CHECK_EQ_STR(v, "2.0.0");
    CHECK_OK(dl_features_resolve(lake, "fx", "production", mid, v, &err), &err);
    CHECK_EQ_STR(v, "1.0.0");
    CHECK_OK(dl_features_resolve(lake, "fx", "latest", 0, v, &err), &err);
    CHECK_EQ_STR(v, "2.0.0"); /* pre-releases are never latest */
    CHECK_OK(dl_features_resolve(lake, "fx", "latest", mid, v, &err), &err);
    CHECK_EQ_STR(v, "1.0.0");
    CHECK_RC(dl_features_resolve(lake, "fx", "staging", mid, v, &err), DL_ENOTFOUND);
    CHECK_RC(dl_features_resolve(lake, "fx", "2.0.0", mid, v, &err), DL_ENOTFOUND);
    CHECK_RC(dl_features_alias_set(lake, "fx", "latest", "1.0.0", &err), DL_EINVAL);
    CHECK_RC(dl_features_alias_set(lake, "fx", "production", "9.9.9", &err), DL_ENOTFOUND);
    dl_feature_alias *al = NULL;
    int64_t n = 0;
    CHECK_OK(dl_features_aliases(lake, "fx", 0, true, &al, &n, &err), &err);
    CHECK_EQ_INT(n, 3);
    dl_features_free(al);
    /* delete: hidden now, visible before */
    CHECK_OK(dl_features_delete(lake, "fx", "2.0.0", &err), &err);
    CHECK_RC(dl_features_resolve(lake, "fx", "production", 0, v, &err), DL_ENOTFOUND);
    CHECK_OK(dl_features_resolve(lake, "fx", "latest", 0, v, &err), &err);
    CHECK_EQ_STR(v, "1.0.0");
    dl_lake_close(lake);
}

DL_TEST(json_parser_refusals) {
    static const char *const bad[] = {"",          "{",       "[1,]",        "{\"a\":1,}",  "01",
                                      "1.",        "-",       "\"\\x\"",     "\"a",         "tru",
                                      "{\"a\" 1}", "[1 2]",   "\"\\ud800\"", "\"\\u0000\"", "1 2",
                                      "\"\x01\"",  "\"\xff\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dl_json_doc *d = NULL;
        dl_error err;
        CHECK_RC(dl_json_parse(bad[i], strlen(bad[i]), "t", &d, &err), DL_ECORRUPT);
        CHECK(d == NULL);
    }
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    dl_json_doc *d = NULL;
    dl_error err;
    CHECK_RC(dl_json_parse(deep, 200, "t", &d, &err), DL_ECORRUPT);
    const char *ok =
        "{\"a\":[1,-2.5e3,true,null],\"b\":\"x\\u00e9\\ud83d\\ude00\",\"n\":1704412800000000}";
    CHECK_OK(dl_json_parse(ok, strlen(ok), "t", &d, &err), &err);
    int64_t nval = 0;
    CHECK(dl_json_i64(dl_json_get(dl_json_root(d), "n"), &nval) &&
          nval == INT64_C(1704412800000000));
    CHECK_EQ_STR(dl_json_str(dl_json_get(dl_json_root(d), "b")), "x\xc3\xa9\xf0\x9f\x98\x80");
    CHECK_EQ_INT(dl_json_get(dl_json_root(d), "a")->count, 4);
    dl_json_doc_free(d);
}

/* ---- kernels against their definitions, computed naively per row ---- */

#include <math.h>

#include "features/dl_feat_internal.h"

enum { KN = 700 };

static bool close_enough(double a, double b) {
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Values of x in the window (t - w, t] ending at row i, valid only. */
static int window_vals(const int64_t *ts, const double *x, const uint8_t *ok, int i, int64_t w,
                       double *out) {
    int n = 0;
    for (int j = 0; j <= i; j++)
        if (ts[j] > ts[i] - w && ok[j]) out[n++] = x[j];
    return n;
}

DL_TEST(feature_kernels_match_naive_definitions) {
    static int64_t ts[KN];
    static double c[KN], h[KN], l[KN], v[KN], tb[KN], out[KN], win[KN];
    static uint8_t cok[KN], ok1[KN], ones[KN];
    uint64_t st = 11;
    int64_t t = T0;
    double p = 100;
    for (int i = 0; i < KN; i++) {
        t += MIN_US * (dl_test_rand(&st) % 10 == 0 ? 1 + dl_test_rand(&st) % 30 : 1); /* gaps */
        ts[i] = t;
        p *= 1 + ((double)(dl_test_rand(&st) % 2001) - 1000) / 100000.0;
        c[i] = p;
        h[i] = p * 1.001;
        l[i] = p * 0.998;
        v[i] = 1 + dl_test_rand(&st) % 50;
        tb[i] = v[i] * (double)(dl_test_rand(&st) % 101) / 100.0;
        cok[i] = dl_test_rand(&st) % 17 != 0; /* some invalid closes */
        ones[i] = 1;
    }
    feat_bars b = {KN, ts, {h, ones}, {l, ones}, {c, cok}, {v, ones}, {tb, ones}};
    dl_error err;
    const int64_t W = 45 * MIN_US;
    int kinds[] = {FEAT_K_RETURNS,     FEAT_K_LOG_RETURNS,   FEAT_K_ROLLING_MEAN,
                   FEAT_K_ROLLING_STD, FEAT_K_ROLLING_MIN,   FEAT_K_ROLLING_MAX,
                   FEAT_K_ROLLING_SUM, FEAT_K_ROLLING_COUNT, FEAT_K_EMA,
                   FEAT_K_ZSCORE,      FEAT_K_VWAP,          FEAT_K_REALIZED_VOL,
                   FEAT_K_TRUE_RANGE,  FEAT_K_ATR,           FEAT_K_TAKER_IMBALANCE};
    for (size_t kk = 0; kk < sizeof kinds / sizeof kinds[0]; kk++) {
        feat_kernel k = {.kind = kinds[kk], .bars = 3, .window_us = W, .alpha = 0.1};
        snprintf(k.out_name, sizeof k.out_name, "%s", feat_kernel_name(k.kind));
        k.input = (feat_input){c, cok};
        CHECK_OK(feat_kernel_run(&k, &b, out, ok1, &err), &err);
        int bad = 0;
        double ema = 0;
        bool seeded = false;
        for (int i = 0; i < KN; i++) {
            bool want_ok = true;
            double want = 0;
            int n = window_vals(ts, c, cok, i, W, win);
            double sum = 0, mean = 0, var = 0;
            for (int j = 0; j < n; j++) sum += win[j];
            if (n) mean = sum / n;
            for (int j = 0; j < n; j++) var += (win[j] - mean) * (win[j] - mean);
            double sd = n >= 2 ? sqrt(var / (n - 1)) : 0;
            switch (k.kind) {
            case FEAT_K_RETURNS:
            case FEAT_K_LOG_RETURNS:
                want_ok = i >= 3 && cok[i] && cok[i - 3];
                want = k.kind == FEAT_K_RETURNS ? c[i] / c[i - (i >= 3 ? 3 : 0)] - 1
                                                : log(c[i] / c[i - (i >= 3 ? 3 : 0)]);
                break;
            case FEAT_K_ROLLING_MEAN:
                want_ok = n > 0, want = mean;
                break;
            case FEAT_K_ROLLING_STD:
                want_ok = n >= 2, want = sd;
                break;
            case FEAT_K_ROLLING_SUM:
                want_ok = n > 0, want = sum;
                break;
            case FEAT_K_ROLLING_COUNT:
                want = n;
                break;
            case FEAT_K_ROLLING_MIN:
            case FEAT_K_ROLLING_MAX:
                want_ok = n > 0;
                want = n ? win[0] : 0;
                for (int j = 1; j < n; j++)
                    want = k.kind == FEAT_K_ROLLING_MIN ? fmin(want, win[j]) : fmax(want, win[j]);
                break;
            case FEAT_K_EMA:
                if (cok[i]) ema = seeded ? 0.1 * c[i] + 0.9 * ema : c[i], seeded = true;
                want_ok = seeded, want = ema;
                break;
            case FEAT_K_ZSCORE:
                want_ok = cok[i] && n >= 2 && sd > 0;
                want = want_ok ? (c[i] - mean) / sd : 0;
                break;
            case FEAT_K_VWAP:
            case FEAT_K_TAKER_IMBALANCE: {
                double num = 0, den = 0;
                for (int j = 0; j <= i; j++) {
                    if (ts[j] <= ts[i] - W) continue;
                    if (k.kind == FEAT_K_VWAP && !cok[j]) continue;
                    num += k.kind == FEAT_K_VWAP ? c[j] * v[j] : 2 * tb[j] - v[j];
                    den += v[j];
                }
                want_ok = den != 0, want = num / den;
                break;
            }
            case FEAT_K_REALIZED_VOL: {
                double s2 = 0;
                int m = 0;
                for (int j = 1; j <= i; j++)
                    if (ts[j] > ts[i] - W && cok[j] && cok[j - 1]) {
                        double r = log(c[j] / c[j - 1]);
                        s2 += r * r, m++;
                    }
                want_ok = m > 0, want = sqrt(s2);
                break;
            }
            case FEAT_K_TRUE_RANGE:
            case FEAT_K_ATR: {
                double acc = 0;
                int m = 0;
                for (int j = k.kind == FEAT_K_ATR ? 0 : i; j <= i; j++) {
                    if (k.kind == FEAT_K_ATR && ts[j] <= ts[i] - W) continue;
                    double tr = h[j] - l[j];
                    if (j > 0 && cok[j - 1])
                        tr = fmax(tr, fmax(fabs(h[j] - c[j - 1]), fabs(l[j] - c[j - 1])));
                    acc += tr, m++;
                }
                want = acc / m;
                break;
            }
            }
            if ((bool)ok1[i] != want_ok || (want_ok && !close_enough(out[i], want))) {
                if (bad++ < 3)
                    fprintf(stderr, "  %s row %d: got %d/%.17g want %d/%.17g\n", k.out_name, i,
                            ok1[i], out[i], want_ok, want);
            }
        }
        CHECK_EQ_INT(bad, 0);
    }
}
