/*
** test_csv.c -- the streaming CSV readers (ingest/dl_csv.h) and the zip
** member reader under them: Binance kline/trade/aggTrade samples, generic
** CSV with quoting and time formats, malformed input with exact messages,
** skip_bad, batch boundaries, streaming from files, in-test zip archives,
** exact decimal parsing against strtod, and a (printed) throughput figure.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "dl_test.h"
#include "ingest/dl_csv.h"
#include "ingest/dl_zip.h"
#include "util/dl_buf.h"

/* ---- helpers ---- */

/* Reads every batch of an opened reader into *all (initialised here). */
static int drain(dl_csv_reader *r, dl_table *all, int64_t *batches, dl_error *err) {
    dl_table batch;
    int rc = dl_table_init(&batch, dl_csv_schema(r), err);
    if (rc != DL_OK) return rc;
    rc = dl_table_init(all, dl_csv_schema(r), err);
    if (rc != DL_OK) {
        dl_table_free(&batch);
        return rc;
    }
    int64_t n = 0;
    for (;;) {
        rc = dl_csv_next_batch(r, &batch, err);
        if (rc != DL_OK || batch.num_rows == 0) break;
        n++;
        for (int i = 0; i < batch.schema.num_fields && rc == DL_OK; i++)
            rc =
                dl_column_append_range(&all->columns[i], &batch.columns[i], 0, batch.num_rows, err);
        if (rc != DL_OK) break;
        all->num_rows += batch.num_rows;
    }
    if (batches) *batches = n;
    dl_table_free(&batch);
    return rc;
}

/* Opens `text` in memory with opts and reads it all; the reader is closed. */
static int read_text(const char *text, size_t len, const dl_csv_options *opts, dl_table *all,
                     dl_error *err) {
    dl_csv_reader *r = NULL;
    int rc = dl_csv_open_memory(text, len, "t.csv", opts, &r, err);
    if (rc != DL_OK) return rc;
    rc = drain(r, all, NULL, err);
    dl_csv_close(r);
    return rc;
}

static double f64_at(const dl_table *t, int col, int64_t row) {
    return ((const double *)t->columns[col].values)[row];
}
static int64_t i64_at(const dl_table *t, int col, int64_t row) {
    return ((const int64_t *)t->columns[col].values)[row];
}
static int bool_at(const dl_table *t, int col, int64_t row) {
    return ((const uint8_t *)t->columns[col].values)[row];
}

/* Bit-exact equality with strtod of the same text. */
static int same_as_strtod(double v, const char *text) {
    double want = strtod(text, NULL);
    return memcmp(&v, &want, sizeof v) == 0;
}

#define KLINE_ROW1                                                                                 \
    "1704067200000,42283.58000000,42298.62000000,42283.57000000,42298.61000000,35.92724000,"       \
    "1704067259999,1519032.42306260,1327,28.71430000,1214013.01640530,0"
#define KLINE_ROW2                                                                                 \
    "1704067260000,42298.62000000,42320.00000000,42298.61000000,42320.00000000,21.07241000,"       \
    "1704067319999,891360.81624470,1166,15.02314000,635488.09618130,0"
/* microsecond times, as in Binance spot files from 2025 */
#define KLINE_ROW3                                                                                 \
    "1735689600000000,93576.00000000,93610.93000000,93537.50000000,93610.93000000,8.21827000,"     \
    "1735689659999999,768978.14640610,1314,3.95183000,369897.14268600,0"

/* the same kline in milliseconds: a file uses one unit throughout */
#define KLINE_ROW3_MS                                                                              \
    "1735689600000,93576.00000000,93610.93000000,93537.50000000,93610.93000000,8.21827000,"        \
    "1735689659999,768978.14640610,1314,3.95183000,369897.14268600,0"

static const char *kline_sample = KLINE_ROW1 "\n" KLINE_ROW2 "\n" KLINE_ROW3_MS "\n";

static void check_kline_sample(const dl_table *t) {
    CHECK_EQ_INT(t->num_rows, 3);
    CHECK_EQ_INT(t->schema.num_fields, 10);
    if (t->num_rows != 3 || t->schema.num_fields != 10) return;
    CHECK_EQ_STR(t->schema.fields[0].name, "ts");
    CHECK_EQ_INT(t->schema.fields[0].type, DL_TYPE_TIMESTAMP);
    CHECK_EQ_INT(t->schema.fields[0].unit, DL_UNIT_US);
    CHECK(t->schema.fields[0].utc);
    CHECK(!t->schema.fields[0].nullable);
    CHECK_EQ_STR(t->schema.fields[6].name, "quote_volume");
    CHECK_EQ_STR(t->schema.fields[7].name, "trade_count");
    CHECK_EQ_INT(t->schema.fields[7].type, DL_TYPE_INT64);
    CHECK_EQ_STR(t->schema.fields[9].name, "taker_buy_quote_volume");
    CHECK_EQ_INT(i64_at(t, 0, 0), INT64_C(1704067200000000));
    CHECK_EQ_INT(i64_at(t, 0, 1), INT64_C(1704067260000000));
    CHECK_EQ_INT(i64_at(t, 0, 2), INT64_C(1735689600000000));
    CHECK(same_as_strtod(f64_at(t, 1, 0), "42283.58000000"));
    CHECK(same_as_strtod(f64_at(t, 2, 0), "42298.62000000"));
    CHECK(same_as_strtod(f64_at(t, 3, 0), "42283.57000000"));
    CHECK(same_as_strtod(f64_at(t, 4, 0), "42298.61000000"));
    CHECK(same_as_strtod(f64_at(t, 5, 0), "35.92724000"));
    CHECK(same_as_strtod(f64_at(t, 6, 0), "1519032.42306260"));
    CHECK_EQ_INT(i64_at(t, 7, 0), 1327);
    CHECK(same_as_strtod(f64_at(t, 8, 0), "28.71430000"));
    CHECK(same_as_strtod(f64_at(t, 9, 0), "1214013.01640530"));
    CHECK(same_as_strtod(f64_at(t, 6, 2), "768978.14640610"));
    CHECK(same_as_strtod(f64_at(t, 9, 2), "369897.14268600"));
    CHECK_EQ_INT(i64_at(t, 7, 2), 1314);
}

/* ---- Binance formats ---- */

DL_TEST(csv_klines_basic) {
    dl_error err = {0};
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    dl_table t;
    CHECK_OK(read_text(kline_sample, strlen(kline_sample), &o, &t, &err), &err);
    check_kline_sample(&t);
    dl_table_free(&t);
}

DL_TEST(csv_klines_header_crlf_no_final_newline) {
    dl_error err = {0};
    /* BOM, header, CRLF line ends, empty lines, no final newline */
    const char *text = "\xEF\xBB\xBF"
                       "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                       "taker_buy_volume,taker_buy_quote_volume,ignore\r\n" KLINE_ROW1 "\r\n\r\n"
                       "\n" KLINE_ROW2 "\r\n" KLINE_ROW3_MS;
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    dl_table t;
    CHECK_OK(read_text(text, strlen(text), &o, &t, &err), &err);
    check_kline_sample(&t);
    dl_table_free(&t);
    /* line numbers count the header and the empty lines */
    const char *bad = "open_time,open\r\n" KLINE_ROW1 "\r\n\r\n1704067260000,2\r\n";
    CHECK_RC(read_text(bad, strlen(bad), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:4: expected 12 fields, got 2");
    dl_table_free(&t);
}

DL_TEST(csv_trades_bools_and_header) {
    dl_error err = {0};
    const char *text =
        "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n"
        "3355637497,42283.58000000,0.00100000,42.28358000,1704067200007,True,True\n"
        "3355637498,42283.57000000,0.01574000,665.54239180,1704067200011,False,True\n"
        "3355637499,0.00001234,12345678.00000000,152.34,1704067200123,true,true\n"
        "3355637500,1e2,2.5E-3,0.25,1704067200124,false,false";
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_table t;
    CHECK_OK(read_text(text, strlen(text), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 4);
    CHECK_EQ_INT(t.schema.num_fields, 6);
    if (t.num_rows == 4) {
        CHECK_EQ_STR(t.schema.fields[1].name, "trade_id");
        CHECK_EQ_INT(t.schema.fields[5].type, DL_TYPE_BOOL);
        CHECK_EQ_INT(i64_at(&t, 0, 0), INT64_C(1704067200007000));
        CHECK_EQ_INT(i64_at(&t, 0, 2), INT64_C(1704067200123000));
        CHECK_EQ_INT(i64_at(&t, 1, 1), INT64_C(3355637498));
        CHECK(same_as_strtod(f64_at(&t, 2, 1), "42283.57000000"));
        CHECK(same_as_strtod(f64_at(&t, 3, 1), "0.01574000"));
        CHECK(same_as_strtod(f64_at(&t, 4, 1), "665.54239180"));
        CHECK(same_as_strtod(f64_at(&t, 2, 2), "0.00001234"));
        CHECK(same_as_strtod(f64_at(&t, 3, 2), "12345678.00000000"));
        CHECK(same_as_strtod(f64_at(&t, 2, 3), "1e2"));
        CHECK(same_as_strtod(f64_at(&t, 3, 3), "2.5E-3"));
        CHECK_EQ_INT(bool_at(&t, 5, 0), 1);
        CHECK_EQ_INT(bool_at(&t, 5, 1), 0);
        CHECK_EQ_INT(bool_at(&t, 5, 2), 1);
        CHECK_EQ_INT(bool_at(&t, 5, 3), 0);
    }
    dl_table_free(&t);
}

DL_TEST(csv_aggtrades) {
    dl_error err = {0};
    const char *text = "2988231231,42283.58000000,0.00100000,3355637497,3355637497,1704067200007,"
                       "True,True\n"
                       "2988231232,42283.57000000,0.33371000,3355637498,3355637502,1704067200011,"
                       "False,True\n";
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_AGGTRADES);
    dl_table t;
    CHECK_OK(read_text(text, strlen(text), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 2);
    CHECK_EQ_INT(t.schema.num_fields, 7);
    if (t.num_rows == 2) {
        const char *names[] = {"ts",
                               "agg_trade_id",
                               "price",
                               "qty",
                               "first_trade_id",
                               "last_trade_id",
                               "is_buyer_maker"};
        for (int i = 0; i < 7; i++) CHECK_EQ_STR(t.schema.fields[i].name, names[i]);
        CHECK_EQ_INT(i64_at(&t, 0, 1), INT64_C(1704067200011000));
        CHECK_EQ_INT(i64_at(&t, 1, 1), INT64_C(2988231232));
        CHECK(same_as_strtod(f64_at(&t, 3, 1), "0.33371000"));
        CHECK_EQ_INT(i64_at(&t, 4, 1), INT64_C(3355637498));
        CHECK_EQ_INT(i64_at(&t, 5, 1), INT64_C(3355637502));
        CHECK_EQ_INT(bool_at(&t, 6, 0), 1);
        CHECK_EQ_INT(bool_at(&t, 6, 1), 0);
    }
    dl_table_free(&t);
}

/* ---- malformed input ---- */

/* Reads `text` as trades expecting failure; returns the message. */
static int trades_error(const char *text, size_t len, dl_error *err) {
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_table t;
    int rc = read_text(text, len, &o, &t, err);
    dl_table_free(&t);
    return rc;
}

#define GOOD_TRADE "1,2.5,3,7.5,1704067200000,True,True\n"

DL_TEST(csv_malformed_messages) {
    dl_error err = {0};
    CHECK_RC(trades_error(GOOD_TRADE GOOD_TRADE "3,abc,3,7.5,1704067200000,True,True\n", 111, &err),
             DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:3: column 2 (price): expected a number, got 'abc'");

    const char *t2 = GOOD_TRADE "2,2.5,3,7.5,1704067200000,True\n";
    CHECK_RC(trades_error(t2, strlen(t2), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: expected 7 fields, got 6");

    const char *t3 = GOOD_TRADE "2,2.5,3,7.5,1704067200000,True,True,x,y\n";
    CHECK_RC(trades_error(t3, strlen(t3), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: expected 7 fields, got 9");

    const char t4[] = "1,2.5,3,7\0.5,1704067200000,True,True\n";
    CHECK_RC(trades_error(t4, sizeof t4 - 1, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:1: column 4 (quote_qty): expected a number, got '7\\x00.5'");

    const char t5[] = "1,2.5,3,7.5,1704067200000,True,Tr\0e\n";
    CHECK_RC(trades_error(t5, sizeof t5 - 1, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message,
                 "t.csv:1: column 7 (is_best_match): NUL byte in field, got 'Tr\\x00e'");

    const char *t6 = "\n\n9223372036854775808,2.5,3,7.5,1704067200000,True,True\n";
    CHECK_RC(trades_error(t6, strlen(t6), &err), DL_ECORRUPT);
    CHECK_EQ_STR(
        err.message,
        "t.csv:3: column 1 (id): integer out of range for int64, got '9223372036854775808'");

    const char *t7 = "1,2.5,3,7.5,1704067200000,yes,True\n";
    CHECK_RC(trades_error(t7, strlen(t7), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message,
                 "t.csv:1: column 6 (is_buyer_maker): expected true or false, got 'yes'");

    const char *t8 = "1,,3,7.5,1704067200000,True,True\n";
    CHECK_RC(trades_error(t8, strlen(t8), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:1: column 2 (price): expected a number, got ''");

    const char *t9 = "1,2.5,3,7.5,170406720000000000,True,True\n";
    CHECK_RC(trades_error(t9, strlen(t9), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message,
                 "t.csv:1: column 5 (time): time '170406720000000000' is not in seconds, "
                 "milliseconds, microseconds or nanoseconds since 1970 between 1990-01-01 and "
                 "2200-01-01 (the unit is told from the magnitude); state the unit explicitly for "
                 "other dates");

    const char *t10 = "1,2.5 ,3,7.5,1704067200000,True,True\n";
    CHECK_RC(trades_error(t10, strlen(t10), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:1: column 2 (price): expected a number, got '2.5 '");

    const char *t11 = "1,1e999,3,7.5,1704067200000,True,True\n";
    CHECK_RC(trades_error(t11, strlen(t11), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message,
                 "t.csv:1: column 2 (price): number out of range for a double, got '1e999'");

    /* long field text is cut in messages */
    const char *t12 = "1,2.5,3,7.5,1704067200000,True,True\n"
                      "2,123456789012345678901234567890123456789012345678901234567890x,3,7.5,"
                      "1704067200000,True,True\n";
    CHECK_RC(trades_error(t12, strlen(t12), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 2 (price): expected a number, got "
                              "'1234567890123456789012345678901234567890...'");

    /* a header is only recognised on the first line */
    const char *t13 = GOOD_TRADE "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n";
    CHECK_RC(trades_error(t13, strlen(t13), &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 1 (id): expected an integer, got 'id'");
}

DL_TEST(csv_error_is_sticky) {
    dl_error err = {0};
    const char *text = GOOD_TRADE "x\n" GOOD_TRADE;
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_csv_reader *r = NULL;
    CHECK_OK(dl_csv_open_memory(text, strlen(text), "s.csv", &o, &r, &err), &err);
    if (!r) return;
    dl_table batch;
    CHECK_OK(dl_table_init(&batch, dl_csv_schema(r), &err), &err);
    CHECK_RC(dl_csv_next_batch(r, &batch, &err), DL_ECORRUPT);
    CHECK_EQ_INT(batch.num_rows, 0);
    dl_error_clear(&err);
    CHECK_RC(dl_csv_next_batch(r, &batch, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "s.csv:2: column 1 (id): expected an integer, got 'x'");
    dl_table_free(&batch);
    dl_csv_close(r);
}

DL_TEST(csv_skip_bad) {
    dl_error err = {0};
    const char *text = GOOD_TRADE "2,oops,3,7.5,1704067200000,True,True\n"
                                  "3,2.5,3\n"
                                  "4,4.5,3,7.5,1704067200000,False,True\n"
                                  "5,2.5,3,7.5,1704067200000,maybe,True\n"
                                  "6,6.5,3,7.5,1704067200000,True,True";
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    o.skip_bad = true;
    dl_csv_reader *r = NULL;
    CHECK_OK(dl_csv_open_memory(text, strlen(text), "s.csv", &o, &r, &err), &err);
    if (!r) return;
    CHECK(dl_csv_first_skip_reason(r) == NULL);
    dl_table t;
    CHECK_OK(drain(r, &t, NULL, &err), &err);
    CHECK_EQ_INT(t.num_rows, 3);
    CHECK_EQ_INT(dl_csv_rows_read(r), 3);
    CHECK_EQ_INT(dl_csv_rows_skipped(r), 3);
    CHECK_EQ_STR(dl_csv_first_skip_reason(r),
                 "s.csv:2: column 2 (price): expected a number, got 'oops'");
    if (t.num_rows == 3) {
        CHECK_EQ_INT(i64_at(&t, 1, 0), 1);
        CHECK_EQ_INT(i64_at(&t, 1, 1), 4);
        CHECK_EQ_INT(i64_at(&t, 1, 2), 6);
        CHECK(f64_at(&t, 2, 1) == 4.5);
        CHECK(f64_at(&t, 2, 2) == 6.5);
        CHECK_EQ_INT(bool_at(&t, 5, 1), 0);
    }
    uint64_t done, total;
    dl_csv_progress(r, &done, &total);
    CHECK_EQ_INT(done, strlen(text));
    CHECK_EQ_INT(total, strlen(text));
    dl_table_free(&t);
    dl_csv_close(r);
}

/* n kline rows with values derived from the row number. */
static void make_klines(dl_buf *b, int64_t n, int64_t first) {
    for (int64_t i = first; i < first + n; i++) {
        int64_t t = INT64_C(1672531200000) + i * 60000;
        long cents = 3000000 + (long)(i % 100000);
        dl_buf_printf(b,
                      "%lld,%ld.%02ld000000,%ld.%02ld000000,%ld.%02ld000000,%ld.%02ld000000,"
                      "%lld.%05lld000,%lld,%ld.%06ld10,%lld,%lld.%05lld000,%ld.%06ld20,0\n",
                      (long long)t, cents / 100, cents % 100, (cents + 7) / 100, (cents + 7) % 100,
                      (cents - 5) / 100, (cents - 5) % 100, (cents + 1) / 100, (cents + 1) % 100,
                      (long long)(i % 50), (long long)(i % 99991), (long long)(t + 59999),
                      cents * 3, (long)(i % 1000000), (long long)(i % 4000), (long long)(i % 27),
                      (long long)(i % 77777), cents, (long)(i % 999999));
    }
}

DL_TEST(csv_batch_boundaries) {
    dl_error err = {0};
    dl_buf b = DL_BUF_INIT;
    make_klines(&b, 100, 0);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    o.batch_rows = 7;
    dl_csv_reader *r = NULL;
    CHECK_OK(dl_csv_open_memory((const char *)b.data, b.len, "b.csv", &o, &r, &err), &err);
    if (!r) return;
    dl_table batch;
    CHECK_OK(dl_table_init(&batch, dl_csv_schema(r), &err), &err);
    int64_t seen = 0, batches = 0;
    for (;;) {
        CHECK_OK(dl_csv_next_batch(r, &batch, &err), &err);
        if (batch.num_rows == 0) break;
        batches++;
        CHECK(batch.num_rows == 7 || (batches == 15 && batch.num_rows == 2));
        for (int c = 0; c < batch.schema.num_fields; c++)
            CHECK_EQ_INT(batch.columns[c].length, batch.num_rows);
        for (int64_t i = 0; i < batch.num_rows; i++, seen++) {
            CHECK_EQ_INT(i64_at(&batch, 0, i), (INT64_C(1672531200000) + seen * 60000) * 1000);
            CHECK_EQ_INT(i64_at(&batch, 7, i), seen % 4000);
        }
    }
    CHECK_EQ_INT(batches, 15);
    CHECK_EQ_INT(seen, 100);
    CHECK_EQ_INT(dl_csv_rows_read(r), 100);
    /* end of input stays end of input */
    CHECK_OK(dl_csv_next_batch(r, &batch, &err), &err);
    CHECK_EQ_INT(batch.num_rows, 0);
    dl_table_free(&batch);
    dl_csv_close(r);
    dl_buf_free(&b);
}

DL_TEST(csv_long_line) {
    dl_error err = {0};
    dl_buf b = DL_BUF_INIT;
    dl_buf_printf(&b, GOOD_TRADE "2,");
    for (int i = 0; i < (1 << 20); i++) dl_buf_append_u8(&b, '7');
    dl_buf_printf(&b, ",3,7.5,1704067200000,True,True\n" GOOD_TRADE);
    CHECK_RC(trades_error((const char *)b.data, b.len, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: line longer than 1048576 bytes");

    /* skipped with skip_bad, in memory and streamed from a file */
    char path[512];
    snprintf(path, sizeof path, "%s/long.csv", dl_test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(b.data, 1, b.len, f);
    fclose(f);
    for (int from_file = 0; from_file < 2; from_file++) {
        dl_csv_options o;
        dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
        o.skip_bad = true;
        dl_csv_reader *r = NULL;
        if (from_file)
            CHECK_OK(dl_csv_open(path, &o, &r, &err), &err);
        else
            CHECK_OK(dl_csv_open_memory((const char *)b.data, b.len, "t.csv", &o, &r, &err), &err);
        if (!r) continue;
        dl_table t;
        CHECK_OK(drain(r, &t, NULL, &err), &err);
        CHECK_EQ_INT(t.num_rows, 2);
        CHECK_EQ_INT(dl_csv_rows_skipped(r), 1);
        CHECK(strstr(dl_csv_first_skip_reason(r), ":2: line longer than 1048576 bytes") != NULL);
        dl_table_free(&t);
        dl_csv_close(r);
    }
    dl_buf_free(&b);
}

/* Sums a kline table into a digest for comparisons. */
static double kline_digest(const dl_table *t) {
    double s = 0;
    for (int64_t i = 0; i < t->num_rows; i++)
        s += f64_at(t, 4, i) + f64_at(t, 9, i) + (double)i64_at(t, 7, i) +
             (double)(i64_at(t, 0, i) % 1000003);
    return s;
}

DL_TEST(csv_file_streaming) {
    dl_error err = {0};
    dl_buf b = DL_BUF_INIT;
    make_klines(&b, 90000, 0); /* ~13 MB: several 4 MiB blocks, lines cut at block ends */
    char path[512];
    snprintf(path, sizeof path, "%s/BTCUSDT-1m-2023-01.csv", dl_test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(b.data, 1, b.len, f);
    fclose(f);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    o.batch_rows = 10000;
    dl_csv_reader *r = NULL;
    CHECK_OK(dl_csv_open(path, &o, &r, &err), &err);
    if (!r) return;
    dl_table from_file, from_mem;
    int64_t batches = 0;
    CHECK_OK(drain(r, &from_file, &batches, &err), &err);
    CHECK_EQ_INT(batches, 9);
    uint64_t done, total;
    dl_csv_progress(r, &done, &total);
    CHECK_EQ_INT(done, b.len);
    CHECK_EQ_INT(total, b.len);
    dl_csv_close(r);
    CHECK_OK(read_text((const char *)b.data, b.len, &o, &from_mem, &err), &err);
    CHECK_EQ_INT(from_file.num_rows, 90000);
    CHECK_EQ_INT(from_mem.num_rows, 90000);
    for (int c = 0; c < from_file.schema.num_fields && from_file.num_rows == 90000; c++)
        CHECK(memcmp(from_file.columns[c].values, from_mem.columns[c].values,
                     (size_t)90000 * dl_type_width(from_file.columns[c].type)) == 0);
    CHECK(kline_digest(&from_file) == kline_digest(&from_mem));
    dl_table_free(&from_file);
    dl_table_free(&from_mem);

    snprintf(path, sizeof path, "%s/missing.csv", dl_test_tmpdir());
    CHECK_RC(dl_csv_open(path, &o, &r, &err), DL_ENOTFOUND);
    dl_buf_free(&b);
}

/* ---- zip ---- */

typedef struct zip_spec {
    int method;        /* 0 stored, 8 deflate, anything else written as is */
    bool descriptor;   /* sizes and CRC in a data descriptor (flag bit 3) */
    bool zip64;        /* sizes as 0xFFFFFFFF + zip64 extra in the central directory */
    uint16_t flags;    /* extra general-purpose flags (encryption) */
    int members;       /* central-directory entry count written in the end record */
    uint32_t crc_xor;  /* corrupts the stored CRC */
    uint32_t declared; /* uncompressed size written in the headers (0: the real one) */
} zip_spec;

static void put16(dl_buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    dl_buf_append(b, x, 2);
}
static void put32(dl_buf *b, uint32_t v) {
    dl_buf_append_u32le(b, v);
}
static void put64(dl_buf *b, uint64_t v) {
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

/* Builds a one-member zip of `data` by hand (zlib raw deflate). */
static void make_zip(dl_buf *z, const char *name, const void *data, size_t len, zip_spec s) {
    dl_buf comp = DL_BUF_INIT;
    if (s.method == 8) {
        z_stream st;
        memset(&st, 0, sizeof st);
        deflateInit2(&st, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        uLong bound = deflateBound(&st, (uLong)len);
        dl_buf_reserve(&comp, bound);
        st.next_in = (Bytef *)(uintptr_t)data;
        st.avail_in = (uInt)len;
        st.next_out = comp.data;
        st.avail_out = (uInt)bound;
        deflate(&st, Z_FINISH);
        comp.len = st.total_out;
        deflateEnd(&st);
    } else {
        dl_buf_append(&comp, data, len);
    }
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)len) ^ s.crc_xor;
    size_t real_len = len;
    if (s.declared) len = s.declared;
    uint16_t flags = (uint16_t)(s.flags | (s.descriptor ? 8 : 0));
    uint16_t nlen = (uint16_t)strlen(name);
    /* local header */
    put32(z, 0x04034b50);
    put16(z, 20);
    put16(z, flags);
    put16(z, (uint16_t)s.method);
    put16(z, 0);
    put16(z, 0x5821);
    put32(z, s.descriptor ? 0 : crc);
    put32(z, s.descriptor ? 0 : (uint32_t)comp.len);
    put32(z, s.descriptor ? 0 : (uint32_t)len);
    put16(z, nlen);
    put16(z, 0);
    dl_buf_append(z, name, nlen);
    dl_buf_append(z, comp.data, comp.len);
    if (s.descriptor) {
        put32(z, 0x08074b50);
        put32(z, crc);
        put32(z, (uint32_t)comp.len);
        put32(z, (uint32_t)len);
    }
    /* central directory */
    size_t cd_offset = z->len;
    put32(z, 0x02014b50);
    put16(z, 0x031e);
    put16(z, s.zip64 ? 45 : 20);
    put16(z, flags);
    put16(z, (uint16_t)s.method);
    put16(z, 0);
    put16(z, 0x5821);
    put32(z, crc);
    put32(z, s.zip64 ? 0xFFFFFFFFu : (uint32_t)comp.len);
    put32(z, s.zip64 ? 0xFFFFFFFFu : (uint32_t)len);
    put16(z, nlen);
    put16(z, s.zip64 ? 28 : 0);
    put16(z, 0);
    put16(z, 0);
    put16(z, 0);
    put32(z, 0);
    put32(z, s.zip64 ? 0xFFFFFFFFu : 0);
    dl_buf_append(z, name, nlen);
    if (s.zip64) {
        put16(z, 1);
        put16(z, 24); /* usize, csize, local offset */
        put64(z, len);
        put64(z, comp.len);
        put64(z, 0);
    }
    (void)real_len;
    size_t cd_size = z->len - cd_offset;
    put32(z, 0x06054b50);
    put16(z, 0);
    put16(z, 0);
    put16(z, (uint16_t)s.members);
    put16(z, (uint16_t)s.members);
    put32(z, (uint32_t)cd_size);
    put32(z, (uint32_t)cd_offset);
    put16(z, 0);
    dl_buf_free(&comp);
}

static const zip_spec ZIP_DEFLATE = {.method = 8, .members = 1};

DL_TEST(csv_zip_variants) {
    dl_error err = {0};
    dl_buf csv = DL_BUF_INIT;
    make_klines(&csv, 50000, 0); /* ~7 MB: more than one inflate block */
    dl_table want;
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    CHECK_OK(read_text((const char *)csv.data, csv.len, &o, &want, &err), &err);
    CHECK_EQ_INT(want.num_rows, 50000);
    zip_spec specs[] = {
        ZIP_DEFLATE,
        {.method = 0, .members = 1},
        {.method = 8, .descriptor = true, .members = 1},
        {.method = 8, .zip64 = true, .members = 1},
    };
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        dl_buf z = DL_BUF_INIT;
        make_zip(&z, "BTCUSDT-1m-2023-01.csv", csv.data, csv.len, specs[k]);
        char path[512];
        snprintf(path, sizeof path, "%s/k%zu.zip", dl_test_tmpdir(), k);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (!f) continue;
        fwrite(z.data, 1, z.len, f);
        fclose(f);
        for (int from_file = 0; from_file < 2; from_file++) {
            dl_csv_reader *r = NULL;
            if (from_file)
                CHECK_OK(dl_csv_open(path, &o, &r, &err), &err);
            else
                CHECK_OK(dl_csv_open_memory((const char *)z.data, z.len, "k.zip", &o, &r, &err),
                         &err);
            if (!r) continue;
            dl_table got;
            CHECK_OK(drain(r, &got, NULL, &err), &err);
            CHECK_EQ_INT(got.num_rows, 50000);
            if (got.num_rows == 50000)
                for (int c = 0; c < got.schema.num_fields; c++)
                    CHECK(memcmp(got.columns[c].values, want.columns[c].values,
                                 (size_t)50000 * dl_type_width(got.columns[c].type)) == 0);
            uint64_t done, total;
            dl_csv_progress(r, &done, &total);
            CHECK_EQ_INT(done, z.len);
            CHECK_EQ_INT(total, z.len);
            dl_table_free(&got);
            dl_csv_close(r);
        }
        dl_buf_free(&z);
    }
    dl_table_free(&want);
    dl_buf_free(&csv);
}

/* Opens a zip built from spec over a small CSV and reads it all. */
static int zip_case(zip_spec s, const char *name, dl_error *err) {
    dl_buf z = DL_BUF_INIT;
    const char *text = GOOD_TRADE GOOD_TRADE;
    make_zip(&z, name, text, strlen(text), s);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_table t;
    int rc = read_text((const char *)z.data, z.len, &o, &t, err);
    if (rc == DL_OK) CHECK_EQ_INT(t.num_rows, 2);
    dl_table_free(&t);
    dl_buf_free(&z);
    return rc;
}

DL_TEST(csv_zip_rejects) {
    dl_error err = {0};
    CHECK_OK(zip_case(ZIP_DEFLATE, "a.csv", &err), &err);

    zip_spec bad_crc = ZIP_DEFLATE;
    bad_crc.crc_xor = 1;
    CHECK_RC(zip_case(bad_crc, "a.csv", &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "t.csv: zip member 'a.csv' fails its CRC-32 check") == err.message);

    zip_spec two = ZIP_DEFLATE;
    two.members = 2;
    CHECK_RC(zip_case(two, "a.csv", &err), DL_EUNSUPPORTED);
    CHECK_EQ_STR(err.message,
                 "t.csv: the zip archive holds 2 members; expected exactly one CSV file");

    zip_spec none = ZIP_DEFLATE;
    none.members = 0;
    CHECK_RC(zip_case(none, "a.csv", &err), DL_ECORRUPT);

    zip_spec encrypted = ZIP_DEFLATE;
    encrypted.flags = 1;
    CHECK_RC(zip_case(encrypted, "a.csv", &err), DL_EUNSUPPORTED);
    CHECK_EQ_STR(err.message, "t.csv: zip member 'a.csv' is encrypted");

    zip_spec bzip2 = {.method = 12, .members = 1};
    CHECK_RC(zip_case(bzip2, "a.csv", &err), DL_EUNSUPPORTED);
    CHECK(strstr(err.message, "compression method 12") != NULL);

    CHECK_RC(zip_case(ZIP_DEFLATE, "dir/", &err), DL_ECORRUPT);

    /* every truncation and every single-byte corruption fails cleanly or
       (for bytes the reader does not depend on) still reads both rows */
    dl_buf z = DL_BUF_INIT;
    const char *text = GOOD_TRADE GOOD_TRADE;
    make_zip(&z, "a.csv", text, strlen(text), ZIP_DEFLATE);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    for (size_t cut = 0; cut < z.len; cut++) {
        dl_table t;
        int rc = read_text((const char *)z.data, cut, &o, &t, &err);
        CHECK(rc != DL_OK || t.num_rows == 0); /* cut < 4: not a zip, read as (bad) CSV */
        dl_table_free(&t);
    }
    int still_ok = 0;
    for (size_t at = 0; at < z.len; at++) {
        uint8_t *copy = malloc(z.len);
        memcpy(copy, z.data, z.len);
        copy[at] ^= 0x55;
        dl_table t;
        int rc = read_text((const char *)copy, z.len, &o, &t, &err);
        if (rc == DL_OK && t.num_rows == 2) still_ok++;
        dl_table_free(&t);
        free(copy);
    }
    CHECK(still_ok < (int)z.len / 2); /* most bytes are checked */
    dl_buf_free(&z);
}

/* Zip bombs: refused from the declared sizes before inflating, and a
** member lying about its size is stopped at the declared size. */
DL_TEST(csv_zip_bomb_refused) {
    dl_error err = {0};
    size_t n = (size_t)16 << 20; /* 16 MiB of one repeated row: ~1000:1 */
    char *bomb = malloc(n);
    CHECK(bomb != NULL);
    if (!bomb) return;
    size_t row = strlen(GOOD_TRADE);
    for (size_t i = 0; i < n; i++) bomb[i] = GOOD_TRADE[i % row];
    n -= n % row;
    dl_buf z = DL_BUF_INIT;
    make_zip(&z, "bomb.csv", bomb, n, ZIP_DEFLATE);
    CHECK(n / z.len > 200);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_csv_reader *r = NULL;
    CHECK_RC(dl_csv_open_memory((const char *)z.data, z.len, "bomb.zip", &o, &r, &err),
             DL_ECORRUPT);
    char want[200];
    size_t headers = 30 + 8 + 46 + 8 + 22; /* local, central, end record; name "bomb.csv" */
    snprintf(want, sizeof want,
             "bomb.zip: zip member 'bomb.csv' would expand %zu bytes to %zu "
             "(more than 200:1); refused as a likely zip bomb",
             z.len - headers, n);
    CHECK_EQ_STR(err.message, want);
    /* a higher limit lets it through, inflated in bounded blocks */
    o.zip_max_ratio = 5000;
    r = NULL;
    CHECK_OK(dl_csv_open_memory((const char *)z.data, z.len, "bomb.zip", &o, &r, &err), &err);
    if (r) {
        dl_table t;
        CHECK_OK(drain(r, &t, NULL, &err), &err);
        CHECK_EQ_INT(t.num_rows, (int64_t)(n / row));
        dl_table_free(&t);
        dl_csv_close(r);
    }
    /* a member declaring 3:1 that inflates to more stops at the declared size */
    dl_buf liar = DL_BUF_INIT;
    zip_spec lying = ZIP_DEFLATE;
    make_zip(&liar, "bomb.csv", bomb, n, ZIP_DEFLATE);
    lying.declared = (uint32_t)(liar.len * 3);
    dl_buf_free(&liar);
    make_zip(&liar, "bomb.csv", bomb, n, lying);
    o.zip_max_ratio = 0;
    r = NULL;
    int rc = dl_csv_open_memory((const char *)liar.data, liar.len, "liar.zip", &o, &r, &err);
    if (r) { /* the first block is read at open; the error may come then or later */
        dl_table t;
        rc = drain(r, &t, NULL, &err);
        dl_table_free(&t);
        dl_csv_close(r);
    }
    CHECK_RC(rc, DL_ECORRUPT);
    CHECK(
        strstr(err.message, "liar.zip: zip member 'bomb.csv' inflates to more than its declared") ==
        err.message);
    dl_buf_free(&liar);
    dl_buf_free(&z);
    free(bomb);
}

/* ---- generic CSV ---- */

DL_TEST(csv_generic_mapping_and_quotes) {
    dl_error err = {0};
    const char *text = "time;sym;\"px\";size;note;flag\r\n"
                       "2024-01-05T10:00:00Z;BTC;42000.5;3;\"a;b\";true\r\n"
                       "2024-01-05 10:00:01.25;\"ETH\";2000;;\"say \"\"hi\"\"\nthere\";FALSE\r\n"
                       "2024-01-05T12:00:02.123456789+02:00;X;;-7;;\r\n";
    dl_csv_column cols[] = {
        {.source = "px", .name = "price", .type = DL_TYPE_DOUBLE},
        {.source = "size", .type = DL_TYPE_INT64},
        {.source = "note", .type = DL_TYPE_STRING},
        {.source = "flag", .name = "is_flag", .type = DL_TYPE_BOOL},
    };
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.delimiter = ';';
    o.ts_column = "time";
    o.ts_format = "iso";
    o.columns = cols;
    o.num_columns = 4;
    dl_table t;
    CHECK_OK(read_text(text, strlen(text), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 3);
    CHECK_EQ_INT(t.schema.num_fields, 5);
    if (t.num_rows == 3 && t.schema.num_fields == 5) {
        CHECK_EQ_STR(t.schema.fields[1].name, "price");
        CHECK_EQ_STR(t.schema.fields[2].name, "size");
        CHECK_EQ_STR(t.schema.fields[4].name, "is_flag");
        CHECK(t.schema.fields[1].nullable);
        CHECK_EQ_INT(i64_at(&t, 0, 0), INT64_C(1704448800000000));
        CHECK_EQ_INT(i64_at(&t, 0, 1), INT64_C(1704448801250000));
        CHECK_EQ_INT(i64_at(&t, 0, 2), INT64_C(1704448802123456));
        CHECK(f64_at(&t, 1, 0) == 42000.5);
        CHECK(!dl_column_is_valid(&t.columns[1], 2));
        CHECK_EQ_INT(t.columns[1].null_count, 1);
        CHECK_EQ_INT(i64_at(&t, 2, 0), 3);
        CHECK(!dl_column_is_valid(&t.columns[2], 1));
        CHECK_EQ_INT(i64_at(&t, 2, 2), -7);
        const dl_column *note = &t.columns[3];
        CHECK(note->offsets[1] == 3 && memcmp(note->data, "a;b", 3) == 0);
        const char *want = "say \"hi\"\nthere";
        CHECK(note->offsets[2] - note->offsets[1] == (int64_t)strlen(want) &&
              memcmp(note->data + note->offsets[1], want, strlen(want)) == 0);
        CHECK(!dl_column_is_valid(note, 2));
        CHECK_EQ_INT(bool_at(&t, 4, 0), 1);
        CHECK_EQ_INT(bool_at(&t, 4, 1), 0);
        CHECK(!dl_column_is_valid(&t.columns[4], 2));
    }
    dl_table_free(&t);

    /* the embedded newline counts for line numbers */
    const char *bad = "time;note\n2024-01-05T10:00:00Z;\"two\nlines\"\n2024-01-05T10:00:0Z;x\n";
    o.num_columns = 0;
    o.columns = NULL;
    CHECK_RC(read_text(bad, strlen(bad), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:4: column 1 (time): expected an ISO-8601 time like "
                              "2024-01-05T10:00:00Z, got '2024-01-05T10:00:0Z'");
    dl_table_free(&t);
    const char *unterminated = "time;note\n2024-01-05T10:00:00Z;\"open\n";
    CHECK_RC(read_text(unterminated, strlen(unterminated), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 2 (note): unterminated quoted field");
    dl_table_free(&t);
    const char *stray = "time;note\n2024-01-05T10:00:00Z;ab\"c\n";
    CHECK_RC(read_text(stray, strlen(stray), &o, &t, &err), DL_ECORRUPT);
    dl_table_free(&t);
    const char *trailing = "time;note\n2024-01-05T10:00:00Z;\"ab\"c\n";
    CHECK_RC(read_text(trailing, strlen(trailing), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 2 (note): unexpected text after a closing quote");
    dl_table_free(&t);
}

/* Generic CSV "ts,x\n<value>,1\n" with the given ts_format. */
static int ts_case(const char *format, const char *value, int64_t *out, dl_error *err) {
    char text[256];
    snprintf(text, sizeof text, "ts,x\n%s,1\n", value);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.ts_column = "ts";
    o.ts_format = format;
    dl_table t;
    int rc = read_text(text, strlen(text), &o, &t, err);
    if (rc == DL_OK) {
        CHECK_EQ_INT(t.num_rows, 1);
        CHECK_EQ_INT(t.schema.num_fields, 2);
        *out = t.num_rows == 1 ? i64_at(&t, 0, 0) : -1;
    }
    dl_table_free(&t);
    return rc;
}

DL_TEST(csv_generic_time_formats) {
    dl_error err = {0};
    int64_t v = 0;
    const int64_t base = INT64_C(1704448800000000); /* 2024-01-05T10:00:00Z */
    struct {
        const char *format, *text;
        int64_t want;
    } ok[] = {
        {"iso", "2024-01-05T10:00:00Z", base},
        {"iso", "2024-01-05 10:00:00", base},
        {"iso", "2024-01-05t10:00:00z", base},
        {"iso", "2024-01-05T10:00:00.5Z", base + 500000},
        {"iso", "2024-01-05T10:00:00.000001Z", base + 1},
        {"iso", "2024-01-05T10:00:00.1234569Z", base + 123456},
        {"iso", "2024-01-05T10:00:00+00:00", base},
        {"iso", "2024-01-05T11:30:00+01:30", base},
        {"iso", "2024-01-05T05:00:00-0500", base},
        {"iso", "1969-12-31T23:59:59.999999Z", -1},
        {"iso", "2000-02-29T00:00:00Z", INT64_C(951782400000000)},
        {"iso", "2024-01-05T10:00Z", base},
        {"iso", "2024-01-05", base - INT64_C(36000000000)},
        {"auto", "1704448800", base},
        {"auto", "1704448800000", base},
        {"auto", "1704448800000000", base},
        {"auto", "1704448800000000999", base},
        {"auto", "2024-01-05T10:00:00Z", base},
        {"auto", "2024-01-05 10:00:00", base},
        {"auto", "2024-01-05T10:00:00.25Z", base + 250000},
        {"auto", "2024-01-05T12:00:00+02:00", base},
        {"auto", "2024-01-05T04:30:00-05:30", base},
        {"auto", "2024-01-05T10:00", base},
        {"auto", "2024-01-05", base - INT64_C(36000000000)},
        {"auto", "\"2024-01-05T10:00:00Z\"", base},
        {"auto", "631152000", INT64_C(631152000000000)},      /* 1990-01-01, first second */
        {"auto", "7258118399999", INT64_C(7258118399999000)}, /* last ms before 2200 */
        {"s", "1", 1000000},
        {"ms", "253402300799000", INT64_C(253402300799000000)}, /* year 9999 */
        {"s", "1704448800", base},
        {"ms", "1704448800000", base},
        {"us", "1704448800000000", base},
        {"ns", "1704448800000000999", base},
        {"ns", "-1", -1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        v = 0;
        CHECK_OK(ts_case(ok[i].format, ok[i].text, &v, &err), &err);
        if (v != ok[i].want) fprintf(stderr, "  %s %s\n", ok[i].format, ok[i].text);
        CHECK_EQ_INT(v, ok[i].want);
    }
    const char *bad_iso[] = {"2024-01-05T10",         "2024-01-05T10:00:0",
                             "2024-13-05T10:00:00Z",  "2023-02-29T10:00:00Z",
                             "2024-01-05T10:00:00.Z", "2024-01-05T10:00:00+0",
                             "1704448800000",         "2024-01-05T10:00:00 UTC",
                             "2024/01/05 10:00:00",   "2024-01-05T24:00:00Z"};
    for (size_t i = 0; i < sizeof bad_iso / sizeof bad_iso[0]; i++) {
        CHECK_RC(ts_case("iso", bad_iso[i], &v, &err), DL_ECORRUPT);
        CHECK(strstr(err.message, "t.csv:2: column 1 (ts): ") == err.message);
    }
    CHECK_OK(ts_case("s", "9223372036854", &v, &err), &err);
    CHECK_EQ_INT(v, INT64_C(9223372036854000000));
    CHECK_RC(ts_case("s", "9223372036855", &v, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 1 (ts): time out of range for a microsecond "
                              "timestamp, got '9223372036855'");
    /* auto refuses what fits no unit's 1990..2200 band instead of guessing */
    const char *no_unit[] = {"0",
                             "-1",
                             "-1704448800000",
                             "86400",
                             "253402300799000",
                             "9223372036854775807",
                             "7258118400000"};
    for (size_t i = 0; i < sizeof no_unit / sizeof no_unit[0]; i++) {
        CHECK_RC(ts_case("auto", no_unit[i], &v, &err), DL_ECORRUPT);
        char want[160];
        snprintf(want, sizeof want, "t.csv:2: column 1 (ts): time '%s' is not in seconds, ",
                 no_unit[i]);
        CHECK(strstr(err.message, want) == err.message);
        CHECK(strstr(err.message, "between 1990-01-01 and 2200-01-01") != NULL);
    }
    CHECK_RC(ts_case("auto", "2024-01-05X", &v, &err), DL_ECORRUPT);
    CHECK_RC(ts_case("auto", "abc", &v, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 1 (ts): expected an epoch time (s, ms, us or ns) "
                              "or an ISO-8601 time, got 'abc'");
    CHECK_RC(ts_case("ms", "", &v, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: column 1 (ts): expected an epoch time in ms, got ''");
    CHECK_RC(ts_case("fortnights", "1", &v, &err), DL_EINVAL);
}

/* One unit per file: the first value decides, every later one must agree. */
DL_TEST(csv_time_unit_is_fixed_per_file) {
    dl_error err = {0};
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.ts_column = "ts";
    dl_table t;
    /* ms then us (Binance's 2025 switch inside one file) */
    const char *mixed = "ts,x\n1704448800000,1\n1704448860000,2\n1704448920000000,3\n";
    CHECK_RC(read_text(mixed, strlen(mixed), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:4: column 1 (ts): time '1704448920000000' is in microseconds "
                              "but the file's times are in milliseconds (line 2: 1704448800000); "
                              "a file must use one unit");
    dl_table_free(&t);
    /* seconds then something of no unit */
    const char *gap = "ts,x\n1704448800,1\n17044488001,2\n";
    CHECK_RC(read_text(gap, strlen(gap), &o, &t, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "t.csv:3: column 1 (ts): time '17044488001' is not in seconds") ==
          err.message);
    dl_table_free(&t);
    /* ISO first, then an epoch integer */
    const char *iso_then_int = "ts,x\n2024-01-05T10:00:00Z,1\n1704448800000,2\n";
    CHECK_RC(read_text(iso_then_int, strlen(iso_then_int), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:3: column 1 (ts): expected an ISO-8601 time like "
                              "2024-01-05T10:00:00Z (the file's times are ISO-8601 text from line "
                              "2), got '1704448800000'");
    dl_table_free(&t);
    /* a uniform file in seconds, nanoseconds and microseconds reads */
    const char *files[] = {"ts,x\n1704448800,1\n1704448801,2\n",
                           "ts,x\n1704448800000000000,1\n1704448801000000000,2\n",
                           "ts,x\n1704448800000000,1\n1704448801000000,2\n"};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(read_text(files[i], strlen(files[i]), &o, &t, &err), &err);
        CHECK_EQ_INT(t.num_rows, 2);
        if (t.num_rows == 2) {
            CHECK_EQ_INT(i64_at(&t, 0, 0), INT64_C(1704448800000000));
            CHECK_EQ_INT(i64_at(&t, 0, 1), INT64_C(1704448801000000));
        }
        dl_table_free(&t);
    }
    /* an explicit unit overrides the bands (and reads any date) */
    o.ts_format = "ms";
    const char *old = "ts,x\n1000,1\n253402300799000,2\n";
    CHECK_OK(read_text(old, strlen(old), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 2);
    if (t.num_rows == 2) CHECK_EQ_INT(i64_at(&t, 0, 1), INT64_C(253402300799000000));
    dl_table_free(&t);
    /* skip_bad skips a wrong-unit row like any malformed row */
    o.ts_format = "auto";
    o.skip_bad = true;
    dl_csv_reader *r = NULL;
    CHECK_OK(dl_csv_open_memory(mixed, strlen(mixed), "m.csv", &o, &r, &err), &err);
    if (r) {
        CHECK_OK(drain(r, &t, NULL, &err), &err);
        CHECK_EQ_INT(t.num_rows, 2);
        CHECK_EQ_INT(dl_csv_rows_skipped(r), 1);
        dl_table_free(&t);
        dl_csv_close(r);
    }
    /* Binance: a microsecond file, and a file mixing units */
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    const char *us_file = KLINE_ROW3 "\n";
    CHECK_OK(read_text(us_file, strlen(us_file), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 1);
    if (t.num_rows == 1) CHECK_EQ_INT(i64_at(&t, 0, 0), INT64_C(1735689600000000));
    dl_table_free(&t);
    const char *mixed_klines = KLINE_ROW1 "\n" KLINE_ROW3 "\n";
    CHECK_RC(read_text(mixed_klines, strlen(mixed_klines), &o, &t, &err), DL_ECORRUPT);
    CHECK(strstr(err.message,
                 "t.csv:2: column 1 (open_time): time '1735689600000000' is in "
                 "microseconds but the file's times are in milliseconds") == err.message);
    dl_table_free(&t);
    /* 10-digit seconds are seconds, not 1970 milliseconds */
    const char *seconds = "1704067200,1,1,1,1,1,1704067259,1,1,1,1,0\n";
    CHECK_OK(read_text(seconds, strlen(seconds), &o, &t, &err), &err);
    if (t.num_rows == 1) CHECK_EQ_INT(i64_at(&t, 0, 0), INT64_C(1704067200000000));
    dl_table_free(&t);
    /* an explicit unit for Binance files too */
    o.ts_format = "us";
    CHECK_RC(read_text(kline_sample, strlen(kline_sample), &o, &t, &err), DL_OK);
    if (t.num_rows == 3) CHECK_EQ_INT(i64_at(&t, 0, 0), INT64_C(1704067200000));
    dl_table_free(&t);
}

/* Header rows: a row that parses as data is never dropped as a header. */
DL_TEST(csv_header_detection) {
    dl_error err = {0};
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_table t;
    struct {
        const char *text;
        int64_t rows; /* -1: refused */
        const char *message;
    } cases[] = {
        /* without a header: both rows are data */
        {GOOD_TRADE GOOD_TRADE, 2, NULL},
        /* Binance's header, plain and quoted */
        {"id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n" GOOD_TRADE, 1, NULL},
        {"\"id\",\"price\",\"qty\",\"quote_qty\",\"time\",\"is_buyer_maker\",\"is_best_"
         "match\"\n" GOOD_TRADE,
         1, NULL},
        /* a quoted first data row is data (and malformed), not a header */
        {"\"1\",\"2.5\",\"3\",\"7.5\",\"1704067200000\",\"True\",\"True\"\n" GOOD_TRADE, -1,
         "t.csv:1: column 1 (id): expected an integer, got '\"1\"'"},
        /* a negative time is data, refused for its time, not dropped */
        {"-1,2.5,3,7.5,-1704067200000,True,True\n" GOOD_TRADE, -1,
         "t.csv:1: column 5 (time): time '-1704067200000' is not in seconds"},
        /* a first row starting with a letter but holding numbers is data */
        {"x,2.5,3,7.5,1704067200000,True,True\n" GOOD_TRADE, -1,
         "t.csv:1: column 1 (id): expected an integer, got 'x'"},
        /* only the first row can be a header */
        {GOOD_TRADE "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n", -1,
         "t.csv:2: column 1 (id): expected an integer, got 'id'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = read_text(cases[i].text, strlen(cases[i].text), &o, &t, &err);
        if (cases[i].rows >= 0) {
            CHECK_OK(rc, &err);
            CHECK_EQ_INT(t.num_rows, cases[i].rows);
        } else {
            CHECK_RC(rc, DL_ECORRUPT);
            if (!strstr(err.message, cases[i].message)) fprintf(stderr, "  case %zu\n", i);
            CHECK(strstr(err.message, cases[i].message) == err.message);
        }
        dl_table_free(&t);
    }
    /* skip_bad never turns a data row into a silently dropped header: it is
    ** counted as skipped and reported */
    o.skip_bad = true;
    dl_csv_reader *r = NULL;
    const char *quoted =
        "\"1\",\"2.5\",\"3\",\"7.5\",\"1704067200000\",\"True\",\"True\"\n" GOOD_TRADE;
    CHECK_OK(dl_csv_open_memory(quoted, strlen(quoted), "q.csv", &o, &r, &err), &err);
    if (r) {
        CHECK_OK(drain(r, &t, NULL, &err), &err);
        CHECK_EQ_INT(t.num_rows, 1);
        CHECK_EQ_INT(dl_csv_rows_skipped(r), 1);
        dl_table_free(&t);
        dl_csv_close(r);
    }
    /* generic CSV needs a header: a first row of data is refused */
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.ts_column = "ts";
    const char *headless = "1704448800000,1.5\n1704448860000,2.5\n";
    CHECK_RC(read_text(headless, strlen(headless), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:1: the first row is data, not a header (field 1 is "
                              "'1704448800000'): a generic CSV file needs a header row naming its "
                              "columns");
    dl_table_free(&t);
    const char *quoted_header = "\"ts\",\"x\"\n1704448800000,1.5\n";
    CHECK_OK(read_text(quoted_header, strlen(quoted_header), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 1);
    dl_table_free(&t);
}

/* USD-M futures trade files have a header and no is_best_match column. */
DL_TEST(csv_futures_trades_without_best_match) {
    dl_error err = {0};
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_table t;
    const char *futures = "id,price,qty,quote_qty,time,is_buyer_maker\n"
                          "5001,42000.5,0.1,4200.05,1704067200001,true\n"
                          "5002,42000.6,0.2,8400.12,1704067200002,false\n";
    CHECK_OK(read_text(futures, strlen(futures), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 2);
    if (t.num_rows == 2) {
        CHECK_EQ_INT(i64_at(&t, 1, 1), 5002);
        CHECK_EQ_INT(bool_at(&t, 5, 1), 0);
    }
    dl_table_free(&t);
    /* a file mixing both shapes is refused */
    const char *mixed = "5001,42000.5,0.1,4200.05,1704067200001,true\n" GOOD_TRADE;
    CHECK_RC(read_text(mixed, strlen(mixed), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:2: expected 6 fields, got 7");
    dl_table_free(&t);
    dl_csv_options_default(&o, DL_CSV_BINANCE_AGGTRADES);
    const char *agg = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
                      "is_buyer_maker\n"
                      "26129,42000.5,0.1,1,3,1704067200001,true\n";
    CHECK_OK(read_text(agg, strlen(agg), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 1);
    dl_table_free(&t);
    /* klines keep all 12 columns */
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    const char *short_kline = "1704067200000,1,1,1,1,1,1704067259999,1,1,1,1\n";
    CHECK_RC(read_text(short_kline, strlen(short_kline), &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv:1: expected 12 fields, got 11");
    dl_table_free(&t);
}

/* Rows outside [ts_min, ts_max) end the read, even with skip_bad. */
DL_TEST(csv_rows_outside_the_archive_range) {
    dl_error err = {0};
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    o.ts_min = INT64_C(1704067200000000); /* 2024-01-01 */
    o.ts_max = INT64_C(1704153600000000); /* 2024-01-02 */
    o.ts_range_label = "the archive's day 2024-01-01";
    dl_table t;
    CHECK_OK(read_text(GOOD_TRADE GOOD_TRADE, 2 * strlen(GOOD_TRADE), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 2);
    dl_table_free(&t);
    const char *next_day = GOOD_TRADE "2,2.5,3,7.5,1704153600000,True,True\n";
    for (int skip = 0; skip < 2; skip++) {
        o.skip_bad = skip;
        CHECK_RC(read_text(next_day, strlen(next_day), &o, &t, &err), DL_ECORRUPT);
        CHECK_EQ_STR(err.message,
                     "t.csv:2: ts 2024-01-02T00:00:00.000000Z is outside the archive's day "
                     "2024-01-01 [2024-01-01T00:00:00.000000Z, 2024-01-02T00:00:00.000000Z): the "
                     "file holds rows of another period (misnamed or mixed-up download)");
        dl_table_free(&t);
    }
    const char *before = "2,2.5,3,7.5,1704067199999,True,True\n";
    CHECK_RC(read_text(before, strlen(before), &o, &t, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "t.csv:1: ts 2023-12-31T23:59:59.999000Z is outside") == err.message);
    dl_table_free(&t);
    o.ts_min = 2;
    o.ts_max = 1;
    CHECK_RC(read_text(GOOD_TRADE, strlen(GOOD_TRADE), &o, &t, &err), DL_EINVAL);
}

DL_TEST(csv_generic_inference_and_errors) {
    dl_error err = {0};
    const char *text = "symbol,open_time,close,volume,empty\n"
                       "BTC,1704448800000,42000.5,1e3,\n"
                       "ETH,1704448860000,\"2000\",,\n";
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.ts_column = "open_time";
    dl_table t;
    CHECK_OK(read_text(text, strlen(text), &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, 2);
    CHECK_EQ_INT(t.schema.num_fields, 5);
    if (t.num_rows == 2 && t.schema.num_fields == 5) {
        CHECK_EQ_STR(t.schema.fields[0].name, "ts");
        CHECK_EQ_STR(t.schema.fields[1].name, "symbol");
        CHECK_EQ_INT(t.schema.fields[1].type, DL_TYPE_STRING);
        CHECK_EQ_INT(t.schema.fields[2].type, DL_TYPE_DOUBLE);
        CHECK_EQ_INT(t.schema.fields[3].type, DL_TYPE_DOUBLE);
        CHECK_EQ_INT(t.schema.fields[4].type, DL_TYPE_STRING); /* no values seen */
        CHECK(f64_at(&t, 2, 1) == 2000);
        CHECK(f64_at(&t, 3, 0) == 1000);
        CHECK_EQ_INT(t.columns[3].null_count, 1);
        CHECK_EQ_INT(t.columns[4].null_count, 2);
        CHECK(memcmp(t.columns[1].data, "BTCETH", 6) == 0);
        CHECK_EQ_INT(i64_at(&t, 0, 1), INT64_C(1704448860000000));
    }
    dl_table_free(&t);

    o.ts_column = "time";
    CHECK_RC(read_text(text, strlen(text), &o, &t, &err), DL_ENOTFOUND);
    CHECK_EQ_STR(err.message, "t.csv: time column 'time' is not in the header (columns: symbol, "
                              "open_time, close, volume, empty)");
    o.ts_column = "open_time";
    dl_csv_column missing[] = {{.source = "vol", .type = DL_TYPE_DOUBLE}};
    o.columns = missing;
    o.num_columns = 1;
    CHECK_RC(read_text(text, strlen(text), &o, &t, &err), DL_ENOTFOUND);
    dl_csv_column twice[] = {{.source = "close", .type = DL_TYPE_DOUBLE},
                             {.source = "volume", .name = "close", .type = DL_TYPE_DOUBLE}};
    o.columns = twice;
    o.num_columns = 2;
    CHECK_RC(read_text(text, strlen(text), &o, &t, &err), DL_EINVAL);
    dl_csv_column wrong_type[] = {{.source = "close", .type = DL_TYPE_DATE}};
    o.columns = wrong_type;
    o.num_columns = 1;
    CHECK_RC(read_text(text, strlen(text), &o, &t, &err), DL_EINVAL);
    o.columns = NULL;
    o.num_columns = 0;
    CHECK_RC(read_text("", 0, &o, &t, &err), DL_ECORRUPT);
    CHECK_EQ_STR(err.message, "t.csv: empty file: expected a header row");
    o.delimiter = 'x';
    CHECK_RC(read_text(text, strlen(text), &o, &t, &err), DL_EINVAL);

    /* a wrong batch is refused without poisoning the reader */
    dl_csv_options_default(&o, DL_CSV_BINANCE_TRADES);
    dl_csv_reader *r = NULL;
    CHECK_OK(dl_csv_open_memory(GOOD_TRADE, strlen(GOOD_TRADE), "w.csv", &o, &r, &err), &err);
    if (!r) return;
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "x", DL_TYPE_DOUBLE, false, &err);
    dl_table wrong;
    CHECK_OK(dl_table_init(&wrong, &s, &err), &err);
    CHECK_RC(dl_csv_next_batch(r, &wrong, &err), DL_EINVAL);
    dl_table_free(&wrong);
    dl_schema_free(&s);
    CHECK_OK(drain(r, &t, NULL, &err), &err);
    CHECK_EQ_INT(t.num_rows, 1);
    dl_table_free(&t);
    dl_csv_close(r);
}

/* ---- decimals: the fast path must equal strtod bit for bit ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

DL_TEST(csv_decimals_match_strtod) {
    dl_error err = {0};
    dl_buf b = DL_BUF_INIT;
    enum { N = 200000 };
    dl_buf_printf(&b, "ts,x\n");
    char(*texts)[64] = calloc(N, 64);
    for (int i = 0; i < N; i++) {
        char *s = texts[i];
        int n = 0, shape = (int)(rng_next() % 6);
        if (rng_next() % 4 == 0) s[n++] = '-';
        int int_digits = (int)(rng_next() % (shape == 5 ? 24 : 10));
        int frac_digits = (int)(rng_next() % (shape == 4 ? 25 : 12));
        for (int k = 0; k < int_digits; k++) s[n++] = (char)('0' + rng_next() % 10);
        if (frac_digits || int_digits == 0) {
            if (int_digits == 0) s[n++] = '0';
            s[n++] = '.';
            for (int k = 0; k < frac_digits; k++) s[n++] = (char)('0' + rng_next() % 10);
            if (shape == 1) /* Binance style trailing zeros */
                for (int k = 0; k < 5 && n < 50; k++) s[n++] = '0';
        }
        if (shape == 2 || shape == 3) /* exponents, some beyond the fast path */
            n += snprintf(s + n, 12, "e%d",
                          (int)(rng_next() % (shape == 3 ? 630 : 60)) - (shape == 3 ? 340 : 30));
        s[n] = 0;
        dl_buf_printf(&b, "%d,%s\n", i, s);
    }
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_GENERIC);
    o.ts_column = "ts";
    o.ts_format = "us"; /* the row number is the time */
    dl_csv_column cols[] = {{.source = "x", .type = DL_TYPE_DOUBLE}};
    o.columns = cols;
    o.num_columns = 1;
    dl_table t;
    CHECK_OK(read_text((const char *)b.data, b.len, &o, &t, &err), &err);
    CHECK_EQ_INT(t.num_rows, N);
    int mismatches = 0;
    for (int i = 0; i < N && t.num_rows == N; i++) {
        if (!same_as_strtod(f64_at(&t, 1, i), texts[i])) {
            if (mismatches++ < 5) fprintf(stderr, "  mismatch: %s\n", texts[i]);
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    dl_table_free(&t);
    free(texts);
    dl_buf_free(&b);
}

/* ---- throughput (printed, not asserted) ---- */

DL_TEST(csv_throughput) {
    dl_error err = {0};
    dl_buf b = DL_BUF_INIT;
    make_klines(&b, 1000000, 0);
    dl_csv_options o;
    dl_csv_options_default(&o, DL_CSV_BINANCE_KLINES);
    dl_csv_reader *r = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(dl_csv_open_memory((const char *)b.data, b.len, "bench.csv", &o, &r, &err), &err);
    if (!r) return;
    dl_table batch;
    CHECK_OK(dl_table_init(&batch, dl_csv_schema(r), &err), &err);
    double checksum = 0;
    for (;;) {
        CHECK_OK(dl_csv_next_batch(r, &batch, &err), &err);
        if (batch.num_rows == 0) break;
        checksum += f64_at(&batch, 4, batch.num_rows - 1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK_EQ_INT(dl_csv_rows_read(r), 1000000);
    printf("  csv klines: %.0f MB in %.3f s = %.0f MB/s, %.2f M rows/s (checksum %g)\n",
           (double)b.len / 1e6, s, (double)b.len / 1e6 / s, 1.0 / s, checksum);
    dl_table_free(&batch);
    dl_csv_close(r);
    dl_buf_free(&b);
}
