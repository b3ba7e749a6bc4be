/*
** test_expr.c -- unit tests for filter expressions (src/query/dl_expr_*.c):
** parse errors with exact offsets, precedence, every operator and column
** type, nulls, timestamps in each unit, in-lists, dl_table_filter; a
** randomised comparison against a row-by-row reference interpreter written
** here; randomised pruning soundness (dl_expr_may_match never rejects a
** block holding a match); and a throughput measurement (printed only).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dl_test.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { /* xorshift64*: deterministic across runs */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static int rnd_int(int lo, int hi) {
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

/* Asserts parsing fails with `code` and a message containing `want`. */
#define CHECK_PARSE_ERROR(text, schema, code, want)                                                \
    do {                                                                                           \
        dl_error err_ = {0};                                                                       \
        dl_expr *e_ = NULL;                                                                        \
        CHECK_RC(dl_expr_parse((text), (schema), &e_, &err_), (code));                             \
        CHECK(e_ == NULL);                                                                         \
        if (!strstr(err_.message, (want))) {                                                       \
            fprintf(stderr, "  %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,          \
                    err_.message, (want));                                                         \
            dl_test_failures++;                                                                    \
        }                                                                                          \
        dl_expr_free(e_);                                                                          \
    } while (0)

/* The market-data schema most tests use. */
static void market_schema(dl_schema *s, dl_time_unit ts_unit) {
    dl_schema_init(s);
    dl_schema_add_timestamp(s, "ts", ts_unit, false, NULL);
    dl_schema_add(s, "close", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(s, "trade_count", DL_TYPE_INT64, true, NULL);
    dl_schema_add(s, "qty", DL_TYPE_INT32, true, NULL);
    dl_schema_add(s, "price32", DL_TYPE_FLOAT, true, NULL);
    dl_schema_add(s, "symbol", DL_TYPE_STRING, true, NULL);
    dl_schema_add(s, "flag", DL_TYPE_BOOL, true, NULL);
    dl_schema_add(s, "day", DL_TYPE_DATE, true, NULL);
    dl_schema_add(s, "raw", DL_TYPE_BINARY, true, NULL);
}

enum { C_TS, C_CLOSE, C_COUNT, C_QTY, C_PRICE32, C_SYMBOL, C_FLAG, C_DAY, C_RAW };

/* A five-row table over market_schema; row 2 is null in every nullable
** column, and each column has one more null elsewhere. */
static void market_table(dl_table *t, dl_time_unit unit) {
    dl_schema s;
    market_schema(&s, unit);
    CHECK_OK(dl_table_init(t, &s, NULL), NULL);
    dl_schema_free(&s);
    /* 2024-01-01T00:00:00Z, +1 ms, 2024-01-01T12:00:00Z, 2024-01-02, 2023-12-31T23:59:59.999999999
     */
    int64_t per_sec = unit == DL_UNIT_MS ? 1000 : unit == DL_UNIT_US ? 1000000 : 1000000000;
    int64_t base = 1704067200;
    int64_t ts[5] = {base * per_sec, base * per_sec + per_sec / 1000, (base + 43200) * per_sec,
                     (base + 86400) * per_sec, base * per_sec - 1};
    double close[5] = {1.5, 2.0, 0, -3.0, 1e10};
    int64_t count[5] = {1, 2, 0, 3, 5};
    int32_t qty[5] = {10, -5, 0, 2147483647, 0};
    float price[5] = {0.1f, 2.5f, 0, -1.0f, 3.0f};
    const char *sym[5] = {"BTC", "ETH", NULL, "", "BTCUSDT"};
    int flag[5] = {1, 0, -1, 1, 0};
    int32_t day[5] = {19723, 19724, 0, 19722, 0};
    for (int i = 0; i < 5; i++) {
        dl_column *c = t->columns;
        dl_column_append_i64(&c[C_TS], ts[i], NULL);
        if (i == 2) {
            for (int k = C_CLOSE; k <= C_RAW; k++) dl_column_append_null(&c[k], NULL);
            continue;
        }
        if (i == 4)
            dl_column_append_null(&c[C_CLOSE], NULL);
        else
            dl_column_append_f64(&c[C_CLOSE], close[i], NULL);
        if (i == 3)
            dl_column_append_null(&c[C_COUNT], NULL);
        else
            dl_column_append_i64(&c[C_COUNT], count[i], NULL);
        if (i == 4)
            dl_column_append_null(&c[C_QTY], NULL);
        else
            dl_column_append_i32(&c[C_QTY], qty[i], NULL);
        dl_column_append_f32(&c[C_PRICE32], price[i], NULL);
        dl_column_append_str(&c[C_SYMBOL], sym[i], strlen(sym[i]), NULL);
        dl_column_append_bool(&c[C_FLAG], flag[i], NULL);
        if (i == 4)
            dl_column_append_null(&c[C_DAY], NULL);
        else
            dl_column_append_i32(&c[C_DAY], day[i], NULL);
        dl_column_append_str(&c[C_RAW], i == 1 ? "\x00\xff" : "ab", 2, NULL);
    }
    CHECK_OK(dl_table_seal(t, NULL), NULL);
}

/* Evaluates `text` on t and returns the selection as "10010" (static). */
static const char *select_rows(const char *text, const dl_table *t) {
    static char out[256];
    dl_error err = {0};
    dl_expr *e = NULL;
    uint8_t sel[256];
    int64_t matches = -1;
    snprintf(out, sizeof out, "parse error");
    if (dl_expr_parse(text, &t->schema, &e, &err) != DL_OK) {
        fprintf(stderr, "  parse of \"%s\" failed: %s\n", text, err.message);
        return out;
    }
    snprintf(out, sizeof out, "eval error");
    if (dl_expr_eval(e, t, sel, &matches, &err) == DL_OK) {
        int64_t ones = 0;
        for (int64_t i = 0; i < t->num_rows; i++) {
            out[i] = sel[i] ? '1' : '0';
            ones += sel[i] != 0;
        }
        out[t->num_rows] = 0;
        CHECK_EQ_INT(matches, ones);
    } else {
        fprintf(stderr, "  eval of \"%s\" failed: %s\n", text, err.message);
    }
    dl_expr_free(e);
    return out;
}

#define CHECK_SELECT(text, table, want) CHECK_EQ_STR(select_rows((text), (table)), (want))

/* ------------------------------------------------------------------ */
/* Parse errors                                                         */
/* ------------------------------------------------------------------ */

DL_TEST(expr_parse_errors) {
    dl_schema s;
    market_schema(&s, DL_UNIT_US);
    CHECK_PARSE_ERROR("close > ", &s, DL_EINVAL,
                      "filter: expected a value after '>' but found end of input at offset 8");
    CHECK_PARSE_ERROR("close > )", &s, DL_EINVAL,
                      "expected a value after '>' but found ')' at offset 8");
    CHECK_PARSE_ERROR("clsoe > 5", &s, DL_ENOTFOUND,
                      "filter: unknown column 'clsoe' at offset 0 (did you mean 'close'?)");
    CHECK_PARSE_ERROR("close > 1 and tarde_count > 2", &s, DL_ENOTFOUND,
                      "unknown column 'tarde_count' at offset 14 (did you mean 'trade_count'?)");
    CHECK_PARSE_ERROR("zzzzzz > 1", &s, DL_ENOTFOUND,
                      "unknown column 'zzzzzz' at offset 0 (columns: ts, close, trade_count, qty");
    CHECK_PARSE_ERROR("\"Close\" > 1", &s, DL_ENOTFOUND, "unknown column 'Close' at offset 0");
    CHECK_PARSE_ERROR("symbol > 5", &s, DL_EINVAL,
                      "cannot compare string column symbol with number 5 at offset 9");
    CHECK_PARSE_ERROR("close = 'abc'", &s, DL_EINVAL,
                      "cannot compare double column close with string 'abc' at offset 8");
    CHECK_PARSE_ERROR("flag = 1", &s, DL_EINVAL,
                      "cannot compare bool column flag with number 1 at offset 7");
    CHECK_PARSE_ERROR("qty = true", &s, DL_EINVAL,
                      "cannot compare int32 column qty with boolean true at offset 6");
    CHECK_PARSE_ERROR("close in (1, 'a')", &s, DL_EINVAL, "with string 'a' at offset 13");
    CHECK_PARSE_ERROR(
        "(close > 1", &s, DL_EINVAL,
        "expected ')' to close the '(' at offset 0 after '1' but found end of input at offset 10");
    CHECK_PARSE_ERROR(
        "close > 1 and", &s, DL_EINVAL,
        "expected a column, value or '(' after 'and' but found end of input at offset 13");
    CHECK_PARSE_ERROR("close > 1 close < 2", &s, DL_EINVAL,
                      "unexpected 'close' at offset 10 (expected 'and', 'or' or the end)");
    CHECK_PARSE_ERROR("symbol = 'abc", &s, DL_EINVAL, "unterminated string starting at offset 9");
    CHECK_PARSE_ERROR("\"close > 1", &s, DL_EINVAL,
                      "unterminated quoted column name starting at offset 0");
    CHECK_PARSE_ERROR("close ! 5", &s, DL_EINVAL,
                      "unexpected '!' at offset 6 (did you mean '!='?)");
    CHECK_PARSE_ERROR("close > 5abc", &s, DL_EINVAL, "invalid number '5abc' at offset 8");
    CHECK_PARSE_ERROR("close > 1.2.3", &s, DL_EINVAL, "invalid number '1.2.3' at offset 8");
    CHECK_PARSE_ERROR("close > 1e", &s, DL_EINVAL, "invalid number '1e' at offset 8");
    CHECK_PARSE_ERROR("close # 1", &s, DL_EINVAL, "unexpected character '#' at offset 6");
    CHECK_PARSE_ERROR("close > \x01", &s, DL_EINVAL, "unexpected byte 0x01 at offset 8");
    CHECK_PARSE_ERROR("pr\xc3\xa9 > 1", &s, DL_EINVAL,
                      "unexpected byte 0xc3 at offset 2 (write column names");
    CHECK_PARSE_ERROR("", &s, DL_EINVAL, "filter: the expression is empty");
    CHECK_PARSE_ERROR("  \t\n", &s, DL_EINVAL, "the expression is empty");
    CHECK_PARSE_ERROR("close = null", &s, DL_EINVAL,
                      "comparing with null at offset 8 is never true");
    CHECK_PARSE_ERROR("close in (1, null)", &s, DL_EINVAL, "comparing with null at offset 13");
    CHECK_PARSE_ERROR("close", &s, DL_EINVAL,
                      "column close at offset 0 is double, not boolean: compare it with a value");
    CHECK_PARSE_ERROR("5", &s, DL_EINVAL, "'5' at offset 0 is not a condition");
    CHECK_PARSE_ERROR("close > trade_count", &s, DL_EUNSUPPORTED,
                      "comparing two columns ('close' at offset 0 with 'trade_count' at offset 8)");
    CHECK_PARSE_ERROR("5 > 3", &s, DL_EINVAL, "comparison of two values at offset 0");
    CHECK_PARSE_ERROR("5 in (1)", &s, DL_EINVAL,
                      "the left side of 'in' at offset 2 must be a column");
    CHECK_PARSE_ERROR("close in ()", &s, DL_EINVAL, "empty 'in' list at offset 10");
    CHECK_PARSE_ERROR("close in 1", &s, DL_EINVAL,
                      "expected '(' after 'in' but found '1' at offset 9");
    CHECK_PARSE_ERROR("close in (1 2)", &s, DL_EINVAL,
                      "expected ',' or ')' after '1' but found '2' at offset 12");
    CHECK_PARSE_ERROR("close in (1,)", &s, DL_EINVAL,
                      "expected a value after ',' but found ')' at offset 12");
    CHECK_PARSE_ERROR("close is 5", &s, DL_EINVAL,
                      "expected 'null' after 'is' but found '5' at offset 9");
    CHECK_PARSE_ERROR("close is not 5", &s, DL_EINVAL,
                      "expected 'null' after 'not' but found '5' at offset 13");
    CHECK_PARSE_ERROR("close not 5", &s, DL_EINVAL,
                      "expected 'in' after 'not' but found '5' at offset 10");
    CHECK_PARSE_ERROR("ts > '2024-13-01'", &s, DL_EINVAL,
                      "invalid timestamp '2024-13-01' at offset 5: the month must be 01-12");
    CHECK_PARSE_ERROR("ts > '2023-02-29'", &s, DL_EINVAL, "the day does not exist in that month");
    CHECK_PARSE_ERROR("ts > '2024-01-01T25:00'", &s, DL_EINVAL, "the time is out of range");
    CHECK_PARSE_ERROR("ts > '2024-01-01T10:00:00.1234567891'", &s, DL_EINVAL,
                      "more than 9 fractional digits");
    CHECK_PARSE_ERROR("ts > '2024-01-01x'", &s, DL_EINVAL, "expected 'T' after the date");
    CHECK_PARSE_ERROR("ts > 'yesterday'", &s, DL_EINVAL, "the date must be YYYY-MM-DD");
    CHECK_PARSE_ERROR("ts > '2024-01-01T10:00:00+25:00'", &s, DL_EINVAL,
                      "the UTC offset is out of range");
    CHECK_PARSE_ERROR("day = '2024-1-1'", &s, DL_EINVAL, "invalid date");
    /* nesting: 64 levels parse, 65 do not */
    char deep[1024];
    size_t w = 0;
    for (int i = 0; i < 64; i++) deep[w++] = '(';
    w += (size_t)sprintf(deep + w, "close > 1");
    for (int i = 0; i < 64; i++) deep[w++] = ')';
    deep[w] = 0;
    dl_expr *e = NULL;
    dl_error err = {0};
    CHECK_OK(dl_expr_parse(deep, &s, &e, &err), &err);
    dl_expr_free(e);
    memmove(deep + 1, deep, w + 1);
    deep[0] = '(';
    strcat(deep, ")");
    CHECK_PARSE_ERROR(deep, &s, DL_EINVAL, "nested deeper than 64 levels at offset 64");
    w = 0;
    for (int i = 0; i < 65; i++) w += (size_t)sprintf(deep + w, "not ");
    sprintf(deep + w, "flag");
    CHECK_PARSE_ERROR(deep, &s, DL_EINVAL, "nested deeper than 64 levels at offset 256");
    /* hostile sizes */
    size_t big = ((size_t)1 << 20) + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = 0;
    CHECK_PARSE_ERROR(huge, &s, DL_EINVAL, "text longer than 1048576 bytes");
    /* 10001 conditions */
    w = 0;
    for (int i = 0; i <= 10000; i++) w += (size_t)sprintf(huge + w, "%sflag", i ? " or " : "");
    CHECK_PARSE_ERROR(huge, &s, DL_EINVAL, "more than 10000 conditions");
    free(huge);
    CHECK_RC(dl_expr_parse(NULL, &s, &e, NULL), DL_EINVAL);
    dl_schema_free(&s);
}

DL_TEST(expr_columns_and_names) {
    dl_schema s;
    market_schema(&s, DL_UNIT_US);
    dl_schema_add(&s, "my col", DL_TYPE_INT64, true, NULL);
    dl_schema_add(&s, "and", DL_TYPE_BOOL, true, NULL);
    dl_expr *e = NULL;
    dl_error err = {0};
    CHECK_OK(dl_expr_parse("symbol = 'x' or (close > 1 and SYMBOL != 'y') or \"my col\" in (1, 2) "
                           "or \"and\"",
                           &s, &e, &err),
             &err);
    CHECK_EQ_INT(dl_expr_num_columns(e), 4);
    CHECK_EQ_STR(dl_expr_column_name(e, 0), "symbol");
    CHECK_EQ_STR(dl_expr_column_name(e, 1), "close");
    CHECK_EQ_STR(dl_expr_column_name(e, 2), "my col");
    CHECK_EQ_STR(dl_expr_column_name(e, 3), "and");
    CHECK(dl_expr_column_name(e, 4) == NULL);
    CHECK(dl_expr_column_name(e, -1) == NULL);
    dl_expr_free(e);
    /* names are owned by the expression, not borrowed from the schema */
    CHECK_OK(dl_expr_parse("trade_count > 0", &s, &e, &err), &err);
    dl_schema_free(&s);
    CHECK_EQ_STR(dl_expr_column_name(e, 0), "trade_count");
    dl_expr_free(e);
    /* ambiguous case-insensitive match must be quoted */
    dl_schema_init(&s);
    dl_schema_add(&s, "Px", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "pX", DL_TYPE_DOUBLE, true, NULL);
    CHECK_PARSE_ERROR("px > 1", &s, DL_EINVAL, "matches several columns that differ only in case");
    CHECK_OK(dl_expr_parse("\"pX\" > 1 AND Px < 2", &s, &e, &err), &err);
    dl_expr_free(e);
    dl_schema_free(&s);
}

/* ------------------------------------------------------------------ */
/* Evaluation on a fixed table                                          */
/* ------------------------------------------------------------------ */

DL_TEST(expr_operators_and_types) {
    dl_table t;
    market_table(&t, DL_UNIT_US);
    /* close: 1.5, 2, null, -3, null */
    CHECK_SELECT("close = 2", &t, "01000");
    CHECK_SELECT("close == 2.0", &t, "01000");
    CHECK_SELECT("close != 2", &t, "10010");
    CHECK_SELECT("close <> 2", &t, "10010");
    CHECK_SELECT("close < 2", &t, "10010");
    CHECK_SELECT("close <= 2", &t, "11010");
    CHECK_SELECT("close > 1.5", &t, "01000");
    CHECK_SELECT("close >= 1.5", &t, "11000");
    CHECK_SELECT("close > -3.5e0", &t, "11010");
    CHECK_SELECT("close >= -.5", &t, "11000");
    CHECK_SELECT("2 > close", &t, "10010"); /* literal on the left */
    CHECK_SELECT("-3 >= close", &t, "00010");
    /* trade_count (int64): 1, 2, null, null, 5 */
    CHECK_SELECT("trade_count > 2.5", &t, "00001");
    CHECK_SELECT("trade_count >= 2.5", &t, "00001");
    CHECK_SELECT("trade_count < 2.5", &t, "11000");
    CHECK_SELECT("trade_count <= 2.5", &t, "11000");
    CHECK_SELECT("trade_count = 2.5", &t, "00000");
    CHECK_SELECT("trade_count != 2.5", &t, "11001");
    CHECK_SELECT("trade_count = 2e0", &t, "01000");
    CHECK_SELECT("trade_count < 1e30", &t, "11001");
    CHECK_SELECT("trade_count > -1e30", &t, "11001");
    CHECK_SELECT("trade_count > 99999999999999999999", &t, "00000"); /* int64 overflow -> double */
    CHECK_SELECT("trade_count > -9223372036854775808", &t, "11001");
    /* qty (int32): 10, -5, null, 2147483647, null */
    CHECK_SELECT("qty = 2147483647", &t, "00010");
    CHECK_SELECT("qty > 2147483647", &t, "00000");
    CHECK_SELECT("qty < 3000000000", &t, "11010");
    CHECK_SELECT("qty >= -3000000000", &t, "11010");
    CHECK_SELECT("qty = 3000000000", &t, "00000");
    CHECK_SELECT("qty != 3000000000", &t, "11010");
    CHECK_SELECT("qty > -5.5", &t, "11010");
    CHECK_SELECT("qty > -5", &t, "10010");
    /* price32 (float): 0.1f, 2.5, null, -1, 3 -- compared exactly in double */
    CHECK_SELECT("price32 = 2.5", &t, "01000");
    CHECK_SELECT("price32 = 0.1", &t, "00000"); /* 0.1f != 0.1 */
    CHECK_SELECT("price32 < 0.1", &t, "00010");
    CHECK_SELECT("price32 > 0.1", &t, "11001");
    CHECK_SELECT("price32 >= 3", &t, "00001");
    /* strings: BTC, ETH, null, '', BTCUSDT */
    CHECK_SELECT("symbol = 'BTC'", &t, "10000");
    CHECK_SELECT("symbol != 'BTC'", &t, "01011");
    CHECK_SELECT("symbol = ''", &t, "00010");
    CHECK_SELECT("symbol < 'BTCUSDT'", &t, "10010");
    CHECK_SELECT("symbol > 'BTC'", &t, "01001");
    CHECK_SELECT("symbol >= 'BTC'", &t, "11001");
    CHECK_SELECT("symbol <= ''", &t, "00010");
    CHECK_SELECT("symbol = 'it''s'", &t, "00000");
    /* binary compares bytes unsigned: "\0\xff" < "ab" */
    CHECK_SELECT("raw < 'ab'", &t, "01000");
    CHECK_SELECT("raw = 'ab'", &t, "10011");
    /* booleans: 1, 0, null, 1, 0 */
    CHECK_SELECT("flag", &t, "10010");
    CHECK_SELECT("not flag", &t, "01001");
    CHECK_SELECT("flag = true", &t, "10010");
    CHECK_SELECT("flag = false", &t, "01001");
    CHECK_SELECT("flag != false", &t, "10010");
    CHECK_SELECT("flag in (true, false)", &t, "11011");
    CHECK_SELECT("flag > false", &t, "10010");
    CHECK_SELECT("true", &t, "11111");
    CHECK_SELECT("false or flag", &t, "10010");
    CHECK_SELECT("not true", &t, "00000");
    /* date: 19723 (2024-01-01), 19724, null, 19722, null */
    CHECK_SELECT("day = '2024-01-01'", &t, "10000");
    CHECK_SELECT("day >= '2024-01-01'", &t, "11000");
    CHECK_SELECT("day > '2024-01-01T00:00:01'", &t, "01000"); /* between days */
    CHECK_SELECT("day < '2024-01-01T12:00:00'", &t, "10010");
    CHECK_SELECT("day = '2024-01-01T00:00:01'", &t, "00000");
    CHECK_SELECT("day = 19722", &t, "00010");
    CHECK_SELECT("day < '1900-01-01'", &t, "00000");
    CHECK_SELECT("day > '1900-01-01'", &t, "11010");
    /* keywords are case-insensitive; unquoted names match case-insensitively */
    CHECK_SELECT("CLOSE > 1 AND Flag OR Symbol IS NULL", &t, "10100");
    dl_table_free(&t);
}

DL_TEST(expr_precedence_and_nulls) {
    dl_table t;
    market_table(&t, DL_UNIT_US);
    /* or < and < not < comparison */
    CHECK_SELECT("flag or close = 2 and trade_count = 1", &t, "10010"); /* flag or (..and..) */
    CHECK_SELECT("(flag or close = 2) and trade_count = 1", &t, "10000");
    CHECK_SELECT("not flag and close > 0", &t, "01000"); /* (not flag) and .. */
    CHECK_SELECT("not (flag and close > 0)", &t, "01011");
    CHECK_SELECT("not close = 2", &t, "10010"); /* not (close = 2) */
    CHECK_SELECT("not not flag", &t, "10010");
    CHECK_SELECT("flag and not close < 0 or symbol = 'ETH'", &t,
                 "11000"); /* (f and not c<0) or .. */
    /* comparisons with null are neither true nor false */
    CHECK_SELECT("close > 0", &t, "11000");
    CHECK_SELECT("not (close > 0)", &t, "00010");
    CHECK_SELECT("not (close > 0) or close is null", &t, "00111");
    CHECK_SELECT("close is null", &t, "00101");
    CHECK_SELECT("close IS NOT NULL", &t, "11010");
    CHECK_SELECT("not close is null", &t, "11010");
    CHECK_SELECT("not (close is not null)", &t, "00101");
    CHECK_SELECT("ts is null", &t, "00000"); /* column without validity */
    CHECK_SELECT("ts is not null", &t, "11111");
    /* SQL three-valued and/or: null and false = false; null or true = true */
    CHECK_SELECT("not (close > 0 and flag)", &t, "01011"); /* row 4: null and false -> false */
    CHECK_SELECT("not (close > 0 or flag)", &t, "00000");  /* row 4: null or false -> null */
    CHECK_SELECT("not (close < 0 or flag)", &t, "01000");
    CHECK_SELECT("close > 0 or not flag", &t, "11001");
    CHECK_SELECT("not (trade_count in (1, 5))", &t, "01000");
    CHECK_SELECT("trade_count not in (1, 5)", &t, "01000");
    CHECK_SELECT("not (trade_count not in (1, 5))", &t, "10001");
    CHECK_SELECT("not (qty = 3000000000)", &t, "11010"); /* constant comparison keeps nulls */
    dl_table_free(&t);
}

DL_TEST(expr_timestamps_each_unit) {
    for (int u = DL_UNIT_MS; u <= DL_UNIT_NS; u++) {
        dl_table t;
        market_table(&t, (dl_time_unit)u);
        /* rows: 2024-01-01, +1ms, 12:00, 2024-01-02, 2024-01-01 minus one tick */
        CHECK_SELECT("ts >= '2024-01-01'", &t, "11110");
        CHECK_SELECT("ts >= '2024-01-01' and ts < '2024-01-02'", &t, "11100");
        CHECK_SELECT("ts < '2024-01-01T12:00:00Z'", &t, "11001");
        CHECK_SELECT("ts <= '2024-01-01T12:00:00'", &t, "11101");
        CHECK_SELECT("ts = '2024-01-01T00:00:00.001Z'", &t, "01000");
        CHECK_SELECT("ts = '2024-01-01 00:00:00,001'", &t, "01000");
        CHECK_SELECT("ts = '2024-01-01T13:00+01:00'", &t, "00100");
        CHECK_SELECT("ts = '2024-01-01T07:00:00-0500'", &t, "00100");
        CHECK_SELECT("ts = '2024-01-01T12:00:00.000000000+00'", &t, "00100");
        CHECK_SELECT("ts in ('2024-01-02', '2024-01-01T12:00Z', '1999-01-01')", &t, "00110");
        /* a fraction below the unit: between two ticks */
        CHECK_SELECT("ts > '2024-01-01T00:00:00.000000001'", &t, "01110");
        CHECK_SELECT("ts >= '2024-01-01T00:00:00.000000001'", &t, "01110");
        CHECK_SELECT("ts = '2024-01-01T00:00:00.000000001'", &t, "00000");
        CHECK_SELECT("ts < '2024-01-01T00:00:00.000000001'", &t, "10001");
        /* out of the unit's range (ns ends in 2262) */
        CHECK_SELECT("ts < '9999-12-31'", &t, "11111");
        CHECK_SELECT("ts > '0001-01-01'", &t, "11111");
        CHECK_SELECT("ts = '9999-12-31'", &t, "00000");
        /* an integer is a raw count in the column's unit */
        int64_t per_sec = u == DL_UNIT_MS ? 1000 : u == DL_UNIT_US ? 1000000 : 1000000000;
        char text[128];
        snprintf(text, sizeof text, "ts = %lld", (long long)(1704067200 * per_sec));
        CHECK_SELECT(text, &t, "10000");
        snprintf(text, sizeof text, "ts < %lld.5", (long long)(1704067200 * per_sec));
        /* in ns the double 1704067200000000000.5 rounds to the integer itself */
        CHECK_SELECT(text, &t, u == DL_UNIT_NS ? "00001" : "10001");
        dl_table_free(&t);
    }
}

DL_TEST(expr_in_lists) {
    dl_table t;
    market_table(&t, DL_UNIT_US);
    CHECK_SELECT("trade_count in (1, 5)", &t, "10001");
    CHECK_SELECT("trade_count in (1, 1, 1)", &t, "10000");
    CHECK_SELECT("trade_count in (2.5, 1e30)", &t, "00000"); /* no member can match */
    CHECK_SELECT("trade_count not in (2.5)", &t, "11001");
    CHECK_SELECT("trade_count in (2.0)", &t, "01000");
    CHECK_SELECT("qty in (10, 2147483647, 3000000000)", &t, "10010");
    CHECK_SELECT("close in (1.5, -3)", &t, "10010");
    CHECK_SELECT("close not in (1.5, -3)", &t, "01000");
    CHECK_SELECT("price32 in (2.5, 3, 0.1)", &t, "01001");
    CHECK_SELECT("symbol in ('BTC', '', 'XRP')", &t, "10010");
    CHECK_SELECT("symbol not in ('BTC', '')", &t, "01001");
    CHECK_SELECT("day in ('2024-01-01', 19722)", &t, "10010");
    /* large lists take the hash / binary-search path */
    char *text = malloc((size_t)1 << 20);
    size_t w = (size_t)sprintf(text, "trade_count in (");
    for (int i = 0; i < 10000; i++)
        w += (size_t)sprintf(text + w, "%s%d", i ? ", " : "", 5 + i * 7);
    strcpy(text + w, ")");
    CHECK_SELECT(text, &t, "00001");
    w = (size_t)sprintf(text, "qty not in (");
    for (int i = 0; i < 10000; i++) w += (size_t)sprintf(text + w, "%s%d", i ? "," : "", -i);
    strcpy(text + w, ")");
    CHECK_SELECT(text, &t, "10010");
    w = (size_t)sprintf(text, "close in (");
    for (int i = 0; i < 10000; i++)
        w += (size_t)sprintf(text + w, "%s%d.5", i ? "," : "", i - 5000);
    strcpy(text + w, ")");
    CHECK_SELECT(text, &t, "10000");
    w = (size_t)sprintf(text, "symbol in (");
    for (int i = 0; i < 10000; i++) w += (size_t)sprintf(text + w, "%s'S%d'", i ? "," : "", i);
    strcpy(text + w, ", 'ETH', '')");
    CHECK_SELECT(text, &t, "01010");
    w = (size_t)sprintf(text, "trade_count in (");
    for (int i = 0; i <= 100000; i++) w += (size_t)sprintf(text + w, "%s1", i ? "," : "");
    strcpy(text + w, ")");
    dl_schema s;
    market_schema(&s, DL_UNIT_US);
    CHECK_PARSE_ERROR(text, &s, DL_EINVAL, "'in' list longer than 100000 values");
    dl_schema_free(&s);
    free(text);
    dl_table_free(&t);
}

DL_TEST(expr_eval_binding_errors) {
    dl_table t;
    market_table(&t, DL_UNIT_US);
    dl_schema s;
    market_schema(&s, DL_UNIT_MS);
    dl_expr *e = NULL;
    dl_error err = {0};
    uint8_t sel[8];
    CHECK_OK(dl_expr_parse("ts > '2024-01-01'", &s, &e, &err), &err);
    CHECK_RC(dl_expr_eval(e, &t, sel, NULL, &err), DL_ECONFLICT);
    CHECK(strstr(err.message, "column 'ts' is timestamp us in the table but the filter was parsed "
                              "for timestamp ms") != NULL);
    dl_expr_free(e);
    dl_schema_free(&s);
    dl_schema_init(&s);
    dl_schema_add(&s, "missing", DL_TYPE_INT64, true, NULL);
    CHECK_OK(dl_expr_parse("missing > 1", &s, &e, &err), &err);
    CHECK_RC(dl_expr_eval(e, &t, sel, NULL, &err), DL_ENOTFOUND);
    CHECK_EQ_STR(err.message, "filter: column 'missing' is not in the table");
    dl_expr_free(e);
    dl_schema_free(&s);
    dl_table_free(&t);
}

/* ------------------------------------------------------------------ */
/* dl_table_filter                                                      */
/* ------------------------------------------------------------------ */

DL_TEST(expr_table_filter) {
    dl_table t;
    market_table(&t, DL_UNIT_US);
    dl_error err = {0};
    uint8_t keep_all[5] = {1, 1, 1, 1, 1};
    CHECK_OK(dl_table_filter(&t, keep_all, &err), &err);
    CHECK_EQ_INT(t.num_rows, 5);
    uint8_t sel[5] = {0, 7, 1, 0, 1}; /* any non-zero keeps */
    CHECK_OK(dl_table_filter(&t, sel, &err), &err);
    CHECK_EQ_INT(t.num_rows, 3);
    dl_column *c = t.columns;
    for (int k = 0; k <= C_RAW; k++) CHECK_EQ_INT(c[k].length, 3);
    CHECK_EQ_INT(((int64_t *)c[C_TS].values)[0], 1704067200LL * 1000000 + 1000);
    CHECK_EQ_INT(((int64_t *)c[C_TS].values)[2], 1704067200LL * 1000000 - 1);
    CHECK(((double *)c[C_CLOSE].values)[0] == 2.0);
    CHECK(dl_column_is_valid(&c[C_CLOSE], 0) && !dl_column_is_valid(&c[C_CLOSE], 1) &&
          !dl_column_is_valid(&c[C_CLOSE], 2));
    CHECK_EQ_INT(c[C_CLOSE].null_count, 2);
    CHECK_EQ_INT(c[C_COUNT].null_count, 1);
    CHECK_EQ_INT(((int64_t *)c[C_COUNT].values)[2], 5);
    CHECK_EQ_INT(c[C_QTY].null_count, 2);
    CHECK_EQ_INT(((int32_t *)c[C_QTY].values)[0], -5);
    CHECK(((float *)c[C_PRICE32].values)[2] == 3.0f);
    CHECK_EQ_INT(((uint8_t *)c[C_FLAG].values)[0], 0);
    CHECK_EQ_INT(c[C_FLAG].null_count, 1);
    CHECK_EQ_INT(c[C_TS].null_count, 0);
    /* strings: ETH, null, BTCUSDT */
    CHECK_EQ_INT(c[C_SYMBOL].offsets[0], 0);
    CHECK_EQ_INT(c[C_SYMBOL].offsets[1], 3);
    CHECK_EQ_INT(c[C_SYMBOL].offsets[2], 3);
    CHECK_EQ_INT(c[C_SYMBOL].offsets[3], 10);
    CHECK(memcmp(c[C_SYMBOL].data, "ETHBTCUSDT", 10) == 0);
    CHECK_EQ_INT(c[C_SYMBOL].null_count, 1);
    CHECK(memcmp(c[C_RAW].data,
                 "\x00\xff"
                 "ab",
                 4) == 0);
    /* the compacted table still evaluates and appends correctly */
    CHECK_SELECT("symbol >= 'BTC'", &t, "101");
    CHECK_OK(dl_column_append_str(&c[C_SYMBOL], "X", 1, &err), &err);
    CHECK_EQ_INT(c[C_SYMBOL].offsets[4], 11);
    CHECK(dl_column_is_valid(&c[C_SYMBOL], 3));
    c[C_SYMBOL].length = 3;
    uint8_t none[3] = {0, 0, 0};
    CHECK_OK(dl_table_filter(&t, none, &err), &err);
    CHECK_EQ_INT(t.num_rows, 0);
    CHECK_EQ_INT(c[C_CLOSE].null_count, 0);
    CHECK_EQ_INT(c[C_SYMBOL].offsets[0], 0);
    /* length mismatch is refused */
    dl_column_append_i64(&c[C_TS], 1, NULL);
    t.num_rows = 1;
    CHECK_RC(dl_table_filter(&t, keep_all, &err), DL_EINVAL);
    dl_table_free(&t);
}

/* ------------------------------------------------------------------ */
/* Randomised: reference interpreter                                    */
/* ------------------------------------------------------------------ */

/* Columns of the random tables: name, type. */
static const struct {
    const char *name;
    dl_type type;
} rcols[] = {{"i", DL_TYPE_INT64},     {"j", DL_TYPE_INT32},  {"d", DL_TYPE_DOUBLE},
             {"f", DL_TYPE_FLOAT},     {"s", DL_TYPE_STRING}, {"b", DL_TYPE_BOOL},
             {"t", DL_TYPE_TIMESTAMP}, {"dt", DL_TYPE_DATE}};
#define NUM_RCOLS 8
enum { R_I, R_J, R_D, R_F, R_S, R_B, R_T, R_DT };

static const char *const vocab[] = {"",    "a",   "ab",  "abc",  "b",
                                    "BTC", "ETH", "btc", "it's", "\xc3\xa9"};
#define NUM_VOCAB 10

static void random_schema(dl_schema *s) {
    dl_schema_init(s);
    for (int c = 0; c < NUM_RCOLS; c++) {
        if (rcols[c].type == DL_TYPE_TIMESTAMP)
            dl_schema_add_timestamp(s, rcols[c].name, DL_UNIT_MS, true, NULL);
        else
            dl_schema_add(s, rcols[c].name, rcols[c].type, true, NULL);
    }
}

/* Appends a random value for column c centred on `base` (integers in
** base..base+spread, timestamps in seconds*1000). */
static void append_random(dl_column *col, int c, int base, int spread, int null_pct) {
    if (rnd_int(0, 99) < null_pct) {
        dl_column_append_null(col, NULL);
        return;
    }
    int v = base + rnd_int(0, spread);
    switch (c) {
    case R_I:
        dl_column_append_i64(col, v, NULL);
        break;
    case R_J:
        dl_column_append_i32(col, v, NULL);
        break;
    case R_D:
        dl_column_append_f64(col, rnd_int(0, 49) == 0 ? NAN : v / 4.0, NULL);
        break;
    case R_F:
        dl_column_append_f32(col, rnd_int(0, 49) == 0 ? NAN : (float)(v / 2.0), NULL);
        break;
    case R_S: {
        const char *w = vocab[(unsigned)(v + 1000) % NUM_VOCAB];
        dl_column_append_str(col, w, strlen(w), NULL);
        break;
    }
    case R_B:
        dl_column_append_bool(col, v & 1, NULL);
        break;
    case R_T:
        dl_column_append_i64(col, (int64_t)v * 500, NULL);
        break; /* half seconds, ms */
    case R_DT:
        dl_column_append_i32(col, v, NULL);
        break;
    }
}

typedef struct ref_lit {
    int kind; /* 0 number, 1 string, 2 bool */
    double num;
    char str[16];
} ref_lit;

typedef struct ref_node {
    int kind;    /* 0 cmp, 1 in, 2 is null, 3 not, 4 and, 5 or, 6 const */
    int col, op; /* op: 0 = 1 != 2 < 3 <= 4 > 5 >= */
    bool negated, value;
    ref_lit lit[16];
    int nlit;
    struct ref_node *kids[3];
    int nkids;
} ref_node;

static const char *const op_text[6][2] = {{"=", "=="},  {"!=", "<>"}, {"<", "<"},
                                          {"<=", "<="}, {">", ">"},   {">=", ">="}};
static const int flipped_op[6] = {0, 1, 4, 5, 2, 3};

static const char *kw(const char *lower) { /* random keyword case */
    static char buf[8][16];
    static int next;
    char *b = buf[next++ & 7];
    size_t n = strlen(lower);
    for (size_t i = 0; i <= n; i++)
        b[i] = (rnd() & 3) == 0 && lower[i] ? (char)(lower[i] - 32) : lower[i];
    return b;
}

/* A literal for column c, in text and as the reference value. */
static void random_literal(int c, ref_lit *lit, char *text, size_t size) {
    memset(lit, 0, sizeof *lit);
    int v = rnd_int(-12, 12), style = rnd_int(0, 9);
    switch (c) {
    case R_S: {
        lit->kind = 1;
        const char *w = style == 0   ? "zzz"
                        : style == 1 ? "aa"
                                     : vocab[(unsigned)(v + 1000) % NUM_VOCAB];
        snprintf(lit->str, sizeof lit->str, "%s", w);
        size_t o = 0;
        text[o++] = '\'';
        for (const char *p = w; *p; p++) { /* escape quotes by doubling */
            if (*p == '\'') text[o++] = '\'';
            text[o++] = *p;
        }
        text[o++] = '\'';
        text[o] = 0;
        return;
    }
    case R_B:
        lit->kind = 2;
        lit->num = v & 1;
        snprintf(text, size, "%s", v & 1 ? kw("true") : kw("false"));
        return;
    case R_T:
        if (style < 4) { /* ISO text, 1970-01-01T00:00:SS[.f] (seconds 0..59) */
            int tenths = rnd_int(0, 599);
            lit->num = tenths * 100.0;
            snprintf(text, size, "'1970-01-01T00:%02d:%02d.%dZ'", tenths / 600, (tenths / 10) % 60,
                     tenths % 10);
            if (style == 0) { /* a fraction finer than ms */
                lit->num += 0.05;
                snprintf(text, size, "'1970-01-01T00:00:%02d.%d0005'", (tenths / 10) % 60,
                         tenths % 10);
            }
            return;
        }
        v *= 500;
        break;
    case R_DT:
        if (style < 4) { /* ISO date around the epoch */
            v = rnd_int(-20, 20);
            lit->num = v;
            if (v >= 0)
                snprintf(text, size, "'1970-01-%02d'", v + 1);
            else
                snprintf(text, size, "'1969-12-%02d'", 32 + v);
            return;
        }
        break;
    default:
        break;
    }
    lit->kind = 0;
    if (style == 9) {
        lit->num = (v & 1) ? 1e30 : -1e30;
        snprintf(text, size, "%s", (v & 1) ? "1e30" : "-1e30");
    } else if (style >= 6) {
        lit->num = v + (style - 5) * 0.25;
        snprintf(text, size, "%.2f", lit->num);
    } else if (style == 5) {
        lit->num = v;
        snprintf(text, size, "%de0", v);
    } else {
        lit->num = v;
        snprintf(text, size, "%d", v);
    }
}

/* Builds a random expression as text (appended to *w) and reference tree. */
static ref_node *random_expr(char *text, size_t *w, int depth, ref_node *pool, int *used) {
    ref_node *n = &pool[(*used)++];
    memset(n, 0, sizeof *n);
    int r = rnd_int(0, 9);
    if (depth >= 4 || r < 5 || *used > 60) {
        int c = rnd_int(0, NUM_RCOLS - 1), form = rnd_int(0, 19);
        n->col = c;
        char lit[64];
        if (c == R_B && form < 3) { /* bare boolean */
            n->kind = 0, n->op = 0, n->lit[0].kind = 2, n->lit[0].num = 1;
            *w += (size_t)sprintf(text + *w, "%s", rcols[c].name);
        } else if (form < 2) {
            n->kind = 2;
            n->negated = form == 1;
            *w += (size_t)sprintf(text + *w, "%s %s %s%s", rcols[c].name, kw("is"),
                                  n->negated ? kw("not") : "", n->negated ? " null" : kw("null"));
        } else if (form < 6) {
            n->kind = 1;
            n->negated = form == 5;
            n->nlit = rnd_int(1, form == 4 ? 16 : 4); /* > 8 members: hashed path */
            *w += (size_t)sprintf(text + *w, "%s %s%s (", rcols[c].name, n->negated ? "not " : "",
                                  kw("in"));
            for (int k = 0; k < n->nlit; k++) {
                random_literal(c, &n->lit[k], lit, sizeof lit);
                *w += (size_t)sprintf(text + *w, "%s%s", k ? ", " : "", lit);
            }
            *w += (size_t)sprintf(text + *w, ")");
        } else {
            n->kind = 0;
            n->op = rnd_int(0, 5);
            random_literal(c, &n->lit[0], lit, sizeof lit);
            if (form < 9) /* literal on the left */
                *w += (size_t)sprintf(text + *w, "%s %s %s", lit,
                                      op_text[flipped_op[n->op]][form & 1], rcols[c].name);
            else
                *w += (size_t)sprintf(text + *w, "%s%s%s", rcols[c].name, op_text[n->op][form & 1],
                                      lit);
        }
        return n;
    }
    if (r == 9) {
        n->kind = 3;
        n->nkids = 1;
        *w += (size_t)sprintf(text + *w, "%s (", kw("not"));
        n->kids[0] = random_expr(text, w, depth + 1, pool, used);
        *w += (size_t)sprintf(text + *w, ")");
        return n;
    }
    n->kind = r < 7 ? 4 : 5;
    n->nkids = rnd_int(2, 3);
    for (int k = 0; k < n->nkids; k++) {
        if (k) *w += (size_t)sprintf(text + *w, " %s ", kw(n->kind == 4 ? "and" : "or"));
        *w += (size_t)sprintf(text + *w, "(");
        n->kids[k] = random_expr(text, w, depth + 1, pool, used);
        *w += (size_t)sprintf(text + *w, ")");
    }
    return n;
}

enum { RF = 0, RT = 1, RU = 2 }; /* false, true, unknown */

static int ref_compare_values(int op, int c) { /* c = sign(value - literal) */
    switch (op) {
    case 0:
        return c == 0;
    case 1:
        return c != 0;
    case 2:
        return c < 0;
    case 3:
        return c <= 0;
    case 4:
        return c > 0;
    default:
        return c >= 0;
    }
}

/* One row, one leaf, written the slow obvious way. */
static int ref_leaf_compare(const dl_column *col, int c, int64_t row, int op, const ref_lit *lit) {
    if (c == R_S) {
        int64_t a = col->offsets[row], len = col->offsets[row + 1] - a;
        size_t llen = strlen(lit->str), m = (size_t)len < llen ? (size_t)len : llen;
        int k = memcmp(col->data + a, lit->str, m);
        int sign = k < 0 ? -1 : k > 0 ? 1 : (len > (int64_t)llen) - (len < (int64_t)llen);
        return ref_compare_values(op, sign);
    }
    double v;
    switch (c) {
    case R_I:
    case R_T:
        v = (double)((int64_t *)col->values)[row];
        break;
    case R_J:
    case R_DT:
        v = ((int32_t *)col->values)[row];
        break;
    case R_D:
        v = ((double *)col->values)[row];
        break;
    case R_F:
        v = ((float *)col->values)[row];
        break;
    default:
        v = ((uint8_t *)col->values)[row];
        break;
    }
    if (v != v) return op == 1; /* NaN: only != holds */
    return ref_compare_values(op, (v > lit->num) - (v < lit->num));
}

static int ref_eval(const ref_node *n, const dl_table *t, int64_t row) {
    switch (n->kind) {
    case 0:
    case 1:
    case 2: {
        const dl_column *col = &t->columns[n->col];
        bool valid = dl_column_is_valid(col, row);
        if (n->kind == 2) return valid == n->negated ? RT : RF;
        if (!valid) return RU;
        if (n->kind == 0) return ref_leaf_compare(col, n->col, row, n->op, &n->lit[0]) ? RT : RF;
        bool hit = false;
        for (int k = 0; k < n->nlit; k++) hit |= ref_leaf_compare(col, n->col, row, 0, &n->lit[k]);
        return hit != n->negated ? RT : RF;
    }
    case 3: {
        int v = ref_eval(n->kids[0], t, row);
        return v == RU ? RU : v == RT ? RF : RT;
    }
    default: {
        bool is_and = n->kind == 4;
        int result = is_and ? RT : RF;
        for (int k = 0; k < n->nkids; k++) {
            int v = ref_eval(n->kids[k], t, row);
            if (v == (is_and ? RF : RT)) return v;
            if (v == RU) result = RU;
        }
        return result;
    }
    }
}

static void random_table(dl_table *t, int64_t rows, int block_rows, int null_pct) {
    dl_schema s;
    random_schema(&s);
    CHECK_OK(dl_table_init(t, &s, NULL), NULL);
    dl_schema_free(&s);
    int base[NUM_RCOLS], spread[NUM_RCOLS];
    for (int64_t r = 0; r < rows; r++) {
        if (r % block_rows == 0) /* blocks get narrow value ranges so pruning has work to do */
            for (int c = 0; c < NUM_RCOLS; c++) {
                spread[c] = block_rows >= rows ? 24 : rnd_int(0, 6);
                base[c] = rnd_int(-12, 12 - spread[c]);
            }
        for (int c = 0; c < NUM_RCOLS; c++)
            append_random(&t->columns[c], c, base[c], spread[c], null_pct);
    }
    CHECK_OK(dl_table_seal(t, NULL), NULL);
}

DL_TEST(expr_random_vs_reference) {
    rng_state = 0x1234567ull;
    dl_table t;
    random_table(&t, 5000, 5000, 10); /* crosses the 2048-row chunk boundaries */
    uint8_t *sel = malloc((size_t)t.num_rows);
    static char text[65536];
    static ref_node pool[80];
    int failures_before = dl_test_failures;
    int64_t total_matches = 0;
    for (int iter = 0; iter < 400 && dl_test_failures == failures_before; iter++) {
        size_t w = 0;
        int used = 0;
        ref_node *root = random_expr(text, &w, 0, pool, &used);
        dl_expr *e = NULL;
        dl_error err = {0};
        int rc = dl_expr_parse(text, &t.schema, &e, &err);
        CHECK_OK(rc, &err);
        if (rc != DL_OK) {
            fprintf(stderr, "  text: %s\n", text);
            break;
        }
        int64_t matches = -1;
        CHECK_OK(dl_expr_eval(e, &t, sel, &matches, &err), &err);
        int64_t want = 0;
        for (int64_t r = 0; r < t.num_rows; r++) {
            int v = ref_eval(root, &t, r);
            want += v == RT;
            if ((v == RT) != (sel[r] != 0)) {
                fprintf(stderr, "  row %lld: reference %d, eval %d for: %s\n", (long long)r, v,
                        sel[r], text);
                dl_test_failures++;
                break;
            }
        }
        CHECK_EQ_INT(matches, want);
        total_matches += want;
        /* dl_table_filter keeps exactly the selected rows */
        if (iter % 20 == 0) {
            dl_table copy;
            CHECK_OK(dl_table_init(&copy, &t.schema, &err), &err);
            for (int c = 0; c < NUM_RCOLS; c++)
                CHECK_OK(
                    dl_column_append_range(&copy.columns[c], &t.columns[c], 0, t.num_rows, &err),
                    &err);
            CHECK_OK(dl_table_seal(&copy, &err), &err);
            CHECK_OK(dl_table_filter(&copy, sel, &err), &err);
            CHECK_EQ_INT(copy.num_rows, want);
            int64_t j = 0;
            for (int64_t r = 0; r < t.num_rows && j < copy.num_rows; r++) {
                if (!sel[r]) continue;
                for (int c = 0; c < NUM_RCOLS; c++) {
                    const dl_column *a = &t.columns[c], *b = &copy.columns[c];
                    CHECK(dl_column_is_valid(a, r) == dl_column_is_valid(b, j));
                    if (c == R_S) {
                        int64_t la = a->offsets[r + 1] - a->offsets[r],
                                lb = b->offsets[j + 1] - b->offsets[j];
                        CHECK(la == lb && memcmp(a->data + a->offsets[r], b->data + b->offsets[j],
                                                 (size_t)la) == 0);
                    } else {
                        size_t wdt = dl_type_width(a->type);
                        CHECK(memcmp((uint8_t *)a->values + r * (int64_t)wdt,
                                     (uint8_t *)b->values + j * (int64_t)wdt, wdt) == 0);
                    }
                }
                j++;
            }
            for (int c = 0; c < NUM_RCOLS; c++) {
                int64_t nulls = 0;
                for (int64_t r = 0; r < copy.num_rows; r++)
                    nulls += !dl_column_is_valid(&copy.columns[c], r);
                CHECK_EQ_INT(copy.columns[c].null_count, nulls);
            }
            dl_table_free(&copy);
        }
        dl_expr_free(e);
    }
    CHECK(total_matches > 0); /* the generator is not degenerate */
    free(sel);
    dl_table_free(&t);
}

/* ------------------------------------------------------------------ */
/* Randomised: pruning soundness                                        */
/* ------------------------------------------------------------------ */

static int bytes_order(const dl_value *a, const dl_value *b) {
    size_t m = a->len < b->len ? a->len : b->len;
    int k = m ? memcmp(a->s, b->s, m) : 0;
    return k != 0 ? k : (a->len > b->len) - (a->len < b->len);
}

/* Parquet-like statistics of rows [from, from+n) of column c: min/max over
** non-null, non-NaN values, null count; randomly withheld. */
static void block_stats(const dl_table *t, int c, int64_t from, int64_t n, dl_stats *st) {
    const dl_column *col = &t->columns[c];
    memset(st, 0, sizeof *st);
    st->has_null_count = rnd_int(0, 9) != 0;
    bool seen = false;
    for (int64_t r = from; r < from + n; r++) {
        if (!dl_column_is_valid(col, r)) {
            st->null_count++;
            continue;
        }
        dl_value v = {.present = true};
        switch (c) {
        case R_S:
            v.s = (const uint8_t *)col->data + col->offsets[r];
            v.len = (size_t)(col->offsets[r + 1] - col->offsets[r]);
            break;
        case R_D:
            v.f = ((double *)col->values)[r];
            break;
        case R_F:
            v.f = ((float *)col->values)[r];
            break;
        case R_I:
        case R_T:
            v.i = ((int64_t *)col->values)[r];
            break;
        case R_J:
        case R_DT:
            v.i = ((int32_t *)col->values)[r];
            break;
        default:
            v.i = ((uint8_t *)col->values)[r];
            break;
        }
        if ((c == R_D || c == R_F) && v.f != v.f) continue; /* NaN is left out, as writers do */
        bool less, more;
        if (c == R_S) {
            less = seen && bytes_order(&v, &st->min) < 0;
            more = seen && bytes_order(&v, &st->max) > 0;
        } else if (c == R_D || c == R_F) {
            less = v.f<st->min.f, more = v.f> st->max.f;
        } else {
            less = v.i<st->min.i, more = v.i> st->max.i;
        }
        if (!seen || less) st->min = v;
        if (!seen || more) st->max = v;
        seen = true;
    }
    st->has_min_max = seen && rnd_int(0, 9) != 0;
    if (!st->has_null_count) st->null_count = 0;
    st->num_values = rnd_int(0, 3) != 0 ? n : 0; /* sometimes unknown */
}

DL_TEST(expr_pruning_is_sound) {
    rng_state = 0xfeedfaceull;
    const int block_rows = 40, blocks = 50;
    dl_table t;
    random_table(&t, (int64_t)block_rows * blocks, block_rows, 8);
    dl_stats stats[NUM_RCOLS];
    uint8_t sel[64];
    static char text[65536];
    static ref_node pool[80];
    int64_t pruned = 0, checked = 0;
    dl_table block;
    for (int iter = 0; iter < 300; iter++) {
        size_t w = 0;
        int used = 0;
        random_expr(text, &w, 0, pool, &used);
        dl_expr *e = NULL;
        dl_error err = {0};
        CHECK_OK(dl_expr_parse(text, &t.schema, &e, &err), &err);
        if (!e) break;
        for (int b = 0; b < blocks; b++) {
            int64_t from = (int64_t)b * block_rows;
            for (int c = 0; c < NUM_RCOLS; c++) block_stats(&t, c, from, block_rows, &stats[c]);
            if (dl_expr_may_match(e, stats)) continue;
            pruned++;
            CHECK_OK(dl_table_init(&block, &t.schema, &err), &err);
            for (int c = 0; c < NUM_RCOLS; c++)
                dl_column_append_range(&block.columns[c], &t.columns[c], from, block_rows, NULL);
            CHECK_OK(dl_table_seal(&block, &err), &err);
            int64_t matches = -1;
            CHECK_OK(dl_expr_eval(e, &block, sel, &matches, &err), &err);
            if (matches != 0) {
                fprintf(stderr, "  block %d pruned but %lld rows match: %s\n", b,
                        (long long)matches, text);
                dl_test_failures++;
            }
            checked++;
            dl_table_free(&block);
        }
        dl_expr_free(e);
    }
    printf("  pruning: %lld of %d blocks pruned, all verified empty\n", (long long)pruned,
           300 * blocks);
    CHECK(pruned > 500); /* the test exercises pruning, not only "maybe" */
    CHECK_EQ_INT(checked, pruned);
    dl_table_free(&t);
}

DL_TEST(expr_pruning_cases) {
    dl_schema s;
    market_schema(&s, DL_UNIT_US);
    dl_stats st[9];
    memset(st, 0, sizeof st);
    dl_expr *e = NULL;
    dl_error err = {0};
#define MAY(text, want)                                                                            \
    do {                                                                                           \
        CHECK_OK(dl_expr_parse((text), &s, &e, &err), &err);                                       \
        if (e && dl_expr_may_match(e, st) != (want)) {                                             \
            fprintf(stderr, "  %s:%d: may_match(%s) != %d\n", __FILE__, __LINE__, (text), (want)); \
            dl_test_failures++;                                                                    \
        }                                                                                          \
        dl_expr_free(e);                                                                           \
    } while (0)
    MAY("close > 100", true); /* no statistics: maybe */
    st[C_CLOSE] = (dl_stats){
        .has_min_max = true, .min = {.present = true, .f = 10}, .max = {.present = true, .f = 20}};
    MAY("close > 100", false);
    MAY("close > 19.5", true);
    MAY("close >= 20", true);
    MAY("close > 20", false);
    MAY("close < 10", false);
    MAY("close = 15", true);
    MAY("close in (1, 2, 30)", false);
    MAY("close in (1, 12, 30)", true);
    MAY("not (close < 100)", true); /* a NaN row (not in min/max) is not < 100 */
    MAY("not (close < 100) and close > 100", false);
    MAY("close != 15", true);
    MAY("close > 100 or close < 0", false);
    MAY("close > 100 or trade_count > 0", true);
    MAY("close > 100 and trade_count > 0", false);
    st[C_CLOSE].min.f = st[C_CLOSE].max.f = 15;
    MAY("close != 15", true); /* NaN rows are not in min/max but satisfy != */
    MAY("not (close = 15)", true);
    st[C_COUNT] = (dl_stats){.has_min_max = true,
                             .min = {.present = true, .i = 7},
                             .max = {.present = true, .i = 7},
                             .has_null_count = true,
                             .null_count = 0};
    MAY("trade_count != 7", false);
    MAY("trade_count = 7", true);
    MAY("not (trade_count = 7)", false);
    MAY("trade_count not in (7, 8)", false);
    MAY("trade_count in (8, 9)", false);
    MAY("trade_count > 6.5", true);
    MAY("trade_count > 7.5", false);
    MAY("trade_count is null", false);
    MAY("trade_count is not null", true);
    st[C_COUNT].null_count = 3;
    MAY("trade_count is null", true);
    /* an all-null block (null_count == num_values, e.g. a file that lacks
    ** the column): no comparison can hold, `is null` must */
    st[C_COUNT] = (dl_stats){.has_null_count = true, .null_count = 40, .num_values = 40};
    MAY("trade_count > 5", false);
    MAY("not (trade_count > 5)", false);
    MAY("trade_count in (1, 2)", false);
    MAY("trade_count not in (1, 2)", false);
    MAY("trade_count is not null", false);
    MAY("trade_count is null", true);
    MAY("not (trade_count is not null)", true);
    MAY("trade_count > 5 or close > 0", true);
    st[C_COUNT].num_values = 0; /* unknown block size: nothing can be pruned */
    MAY("trade_count > 5", true);
    MAY("trade_count is not null", true);
    st[C_COUNT].num_values = 41; /* one value present */
    MAY("trade_count is not null", true);
    st[C_SYMBOL] = (dl_stats){.has_min_max = true,
                              .min = {.present = true, .s = (const uint8_t *)"BTC", .len = 3},
                              .max = {.present = true, .s = (const uint8_t *)"BTCUSDT", .len = 7}};
    MAY("symbol = 'ETH'", false);
    MAY("symbol = 'BTCD'", true);
    MAY("symbol < 'BTC'", false);
    MAY("symbol in ('A', 'Z')", false);
    MAY("symbol in ('A', 'BTCE', 'Z')", true);
    st[C_TS] = (dl_stats){.has_min_max = true,
                          .min = {.present = true, .i = 1704067200000000},
                          .max = {.present = true, .i = 1704153599999999}};
    MAY("ts >= '2024-01-02'", false);
    MAY("ts >= '2024-01-01T23:59:59.999999'", true);
    MAY("ts < '2024-01-01'", false);
    MAY("qty > 3000000000", false); /* decided without statistics */
    MAY("qty < 3000000000", true);
    MAY("false", false);
    CHECK_OK(dl_expr_parse("close > 1", &s, &e, &err), &err);
    CHECK(dl_expr_may_match(e, NULL));
    dl_expr_free(e);
#undef MAY
    dl_schema_free(&s);
}

/* ------------------------------------------------------------------ */
/* Throughput (printed, not asserted)                                   */
/* ------------------------------------------------------------------ */

DL_TEST(expr_throughput) {
    const int64_t rows = 4 << 20;
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add(&s, "close", DL_TYPE_DOUBLE, false, NULL);
    dl_schema_add(&s, "trade_count", DL_TYPE_INT64, true, NULL);
    dl_table t;
    CHECK_OK(dl_table_init(&t, &s, NULL), NULL);
    CHECK_OK(dl_column_reserve(&t.columns[0], rows, 0, NULL), NULL);
    CHECK_OK(dl_column_reserve(&t.columns[1], rows, 0, NULL), NULL);
    for (int64_t i = 0; i < rows; i++) {
        dl_column_append_f64(&t.columns[0], (double)(rnd() % 100000), NULL);
        if (i % 97 == 0)
            dl_column_append_null(&t.columns[1], NULL);
        else
            dl_column_append_i64(&t.columns[1], (int64_t)(rnd() % 1000), NULL);
    }
    CHECK_OK(dl_table_seal(&t, NULL), NULL);
    uint8_t *sel = malloc((size_t)rows);
    const char *cases[] = {"close > 50000", "trade_count > 500",
                           "close > 50000 and trade_count > 500", "trade_count in (1, 2, 3)"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        dl_expr *e = NULL;
        dl_error err = {0};
        CHECK_OK(dl_expr_parse(cases[k], &s, &e, &err), &err);
        int64_t matches = 0;
        struct timespec a, b;
        double best = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            clock_gettime(CLOCK_MONOTONIC, &a);
            CHECK_OK(dl_expr_eval(e, &t, sel, &matches, &err), &err);
            clock_gettime(CLOCK_MONOTONIC, &b);
            double sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
            if (sec < best) best = sec;
        }
        CHECK(matches > rows / 10 || k == 3);
        printf("  %-40s %7.0f M rows/s\n", cases[k], (double)rows / best / 1e6);
        dl_expr_free(e);
    }
    free(sel);
    dl_table_free(&t);
    dl_schema_free(&s);
}
