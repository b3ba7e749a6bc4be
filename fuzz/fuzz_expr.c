/*
** fuzz_expr.c -- libFuzzer target for filter expressions (dl_expr_*).
** The input is filter text, parsed against a fixed market-data schema.
** Parsing must never crash, hang or leak; a failure must carry a
** "filter: " message.  When the text parses, it is evaluated on a small
** fixed table (nulls, NaN, empty strings, extreme values) and these must
** hold, else abort() so the fuzzer keeps the input:
**   - the reported match count equals the number of selected rows;
**   - dl_expr_may_match over the table's exact statistics is not false
**     when some row matches (pruning soundness);
**   - dl_table_filter keeps exactly the matching rows.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datalake.h"

#define ROWS 40

static dl_table table;
static dl_stats stats[16];
static bool ready;

static void require(int cond, const char *what, const char *text) {
    if (cond) return;
    fprintf(stderr, "fuzz_expr: %s for filter: %s\n", what, text);
    abort();
}

/* Fixed data: a few nasty values per type, cycled with different periods
** so rows mix them; row i is null in column c when (i + c) % 7 == 0. */
static void build_table(void) {
    dl_schema s;
    dl_schema_init(&s);
    dl_schema_add_timestamp(&s, "ts", DL_UNIT_NS, true, NULL);
    dl_schema_add(&s, "close", DL_TYPE_DOUBLE, true, NULL);
    dl_schema_add(&s, "trade_count", DL_TYPE_INT64, true, NULL);
    dl_schema_add(&s, "qty", DL_TYPE_INT32, true, NULL);
    dl_schema_add(&s, "px", DL_TYPE_FLOAT, true, NULL);
    dl_schema_add(&s, "symbol", DL_TYPE_STRING, true, NULL);
    dl_schema_add(&s, "flag", DL_TYPE_BOOL, true, NULL);
    dl_schema_add(&s, "day", DL_TYPE_DATE, true, NULL);
    dl_schema_add(&s, "raw", DL_TYPE_BINARY, true, NULL);
    dl_schema_add(&s, "odd name", DL_TYPE_INT64, true, NULL);
    if (dl_table_init(&table, &s, NULL) != DL_OK) abort();
    dl_schema_free(&s);
    static const int64_t i64s[] = {0, 1, -1, INT64_MAX, INT64_MIN, 1704067200000000000, 42};
    static const double f64s[] = {0.0, -0.0, 1.5, -3.25, 1e300, NAN, 50000};
    static const char *strs[] = {"", "BTC", "ETH", "btc", "it's", "\xff\x00z", "BTCUSDT"};
    for (int i = 0; i < ROWS; i++) {
        for (int c = 0; c < table.schema.num_fields; c++) {
            dl_column *col = &table.columns[c];
            int k = (i * (c + 2) + c) % 7;
            if ((i + c) % 7 == 0) {
                dl_column_append_null(col, NULL);
                continue;
            }
            switch (col->type) {
            case DL_TYPE_TIMESTAMP:
            case DL_TYPE_INT64:
                dl_column_append_i64(col, i64s[k], NULL);
                break;
            case DL_TYPE_INT32:
                dl_column_append_i32(col, (int32_t)(i64s[k] % 100000), NULL);
                break;
            case DL_TYPE_DATE:
                dl_column_append_i32(col, 19723 + k - 3, NULL);
                break;
            case DL_TYPE_DOUBLE:
                dl_column_append_f64(col, f64s[k], NULL);
                break;
            case DL_TYPE_FLOAT:
                dl_column_append_f32(col, (float)f64s[k], NULL);
                break;
            case DL_TYPE_BOOL:
                dl_column_append_bool(col, k & 1, NULL);
                break;
            default:
                dl_column_append_str(col, strs[k], k == 5 ? 3 : strlen(strs[k]), NULL);
            }
        }
    }
    if (dl_table_seal(&table, NULL) != DL_OK) abort();
    /* exact statistics, NaN left out of min/max as Parquet writers do */
    for (int c = 0; c < table.schema.num_fields; c++) {
        const dl_column *col = &table.columns[c];
        dl_stats *st = &stats[c];
        st->has_null_count = true;
        st->null_count = col->null_count;
        st->num_values = col->length;
        for (int64_t r = 0; r < ROWS; r++) {
            if (!dl_column_is_valid(col, r)) continue;
            dl_value v = {.present = true};
            bool less, more, first = !st->has_min_max;
            switch (col->type) {
            case DL_TYPE_DOUBLE:
                v.f = ((double *)col->values)[r];
                break;
            case DL_TYPE_FLOAT:
                v.f = ((float *)col->values)[r];
                break;
            case DL_TYPE_INT64:
            case DL_TYPE_TIMESTAMP:
                v.i = ((int64_t *)col->values)[r];
                break;
            case DL_TYPE_INT32:
            case DL_TYPE_DATE:
                v.i = ((int32_t *)col->values)[r];
                break;
            case DL_TYPE_BOOL:
                v.i = ((uint8_t *)col->values)[r];
                break;
            default:
                v.s = (const uint8_t *)col->data + col->offsets[r];
                v.len = (size_t)(col->offsets[r + 1] - col->offsets[r]);
            }
            if (col->type == DL_TYPE_DOUBLE || col->type == DL_TYPE_FLOAT) {
                if (isnan(v.f)) continue;
                less = v.f<st->min.f, more = v.f> st->max.f;
            } else if (col->type == DL_TYPE_STRING || col->type == DL_TYPE_BINARY) {
                size_t m1 = v.len < st->min.len ? v.len : st->min.len;
                size_t m2 = v.len < st->max.len ? v.len : st->max.len;
                int a = m1 ? memcmp(v.s, st->min.s, m1) : 0,
                    b = m2 ? memcmp(v.s, st->max.s, m2) : 0;
                less = a < 0 || (a == 0 && v.len < st->min.len);
                more = b > 0 || (b == 0 && v.len > st->max.len);
            } else {
                less = v.i<st->min.i, more = v.i> st->max.i;
            }
            if (first || less) st->min = v;
            if (first || more) st->max = v;
            st->has_min_max = true;
        }
    }
    ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) build_table();
    if (size > 4096) return 0; /* long inputs only slow the fuzzer down */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0; /* an embedded NUL ends the filter, as for any C string */
    dl_error err = {0};
    dl_expr *e = NULL;
    if (dl_expr_parse(text, &table.schema, &e, &err) != DL_OK) {
        require(e == NULL && strncmp(err.message, "filter: ", 8) == 0, "bad failure", text);
        free(text);
        return 0;
    }
    for (int i = 0; i < dl_expr_num_columns(e); i++)
        require(dl_schema_find(&table.schema, dl_expr_column_name(e, i)) >= 0, "bad column", text);
    uint8_t sel[ROWS];
    int64_t matches = -1, counted = 0;
    require(dl_expr_eval(e, &table, sel, &matches, &err) == DL_OK, "eval failed", text);
    for (int i = 0; i < ROWS; i++) counted += sel[i] != 0;
    require(counted == matches, "match count differs from the selection", text);
    require(matches == 0 || dl_expr_may_match(e, stats), "pruned a matching table", text);
    dl_table copy;
    require(dl_table_init(&copy, &table.schema, NULL) == DL_OK, "init", text);
    for (int c = 0; c < table.schema.num_fields; c++)
        dl_column_append_range(&copy.columns[c], &table.columns[c], 0, ROWS, NULL);
    require(dl_table_seal(&copy, NULL) == DL_OK && dl_table_filter(&copy, sel, &err) == DL_OK &&
                copy.num_rows == matches,
            "dl_table_filter", text);
    dl_table_free(&copy);
    dl_expr_free(e);
    free(text);
    return 0;
}
