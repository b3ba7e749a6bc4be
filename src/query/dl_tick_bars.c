/*
** dl_tick_bars.c -- streaming bars from ticks: trades (ts, price, qty)
** sorted by ts become OHLCV bars of `bucket` ts units with volume =
** sum(qty), quote_volume = sum(price*qty), vwap = quote_volume / volume
** and trades = count (see datalake.h).
**
** Same shape as the resampler (dl_resample.c): a sortedness pass, then per
** run of trades in one bucket (galloping search, no per-row division) one
** fused loop over price and qty.  The bar being built survives across
** batches and is emitted when a later bucket starts or at finish.
**
** Nulls: a trade with a null price or qty is skipped entirely (it is not
** counted in trades).  A bucket holding only such trades gives no bar.
** vwap is NaN for a bar whose volume is 0 (all quantities zero).
*/
#include <stdlib.h>
#include <string.h>

#include "query/dl_kernel_int.h"

#define WHAT "bars from ticks"

struct dl_tick_bars {
    dl_schema input, output;
    int ts_col, price_col, qty_col;
    dl_bar_clock clock;
    dl_sort_check sorted;
    bool finished;
    /* the open bar */
    double open, high, low, close, volume, quote_volume;
    int64_t trades;
    /* scratch slots: 0 = ts, 1 = price, 2 = qty */
    dl_kernel_scratch scratch;
};

void dl_tick_bars_free(dl_tick_bars *tb) {
    if (!tb) return;
    dl_schema_free(&tb->input);
    dl_schema_free(&tb->output);
    dl_kernel_scratch_free(&tb->scratch);
    free(tb);
}

int dl_tick_bars_open(const dl_schema *input, int64_t bucket, dl_tick_bars **out, dl_error *err) {
    static const char *const value_names[] = {"open",   "high",         "low", "close",
                                              "volume", "quote_volume", "vwap"};
    int rc = DL_OK;
    dl_tick_bars *tb = NULL;
    if (!input || !out) return dl_error_set(err, DL_EINVAL, WHAT ": NULL argument");
    *out = NULL;
    if (bucket <= 0)
        return dl_error_set(err, DL_EINVAL, WHAT ": bucket must be positive, got %lld",
                            (long long)bucket);
    tb = calloc(1, sizeof *tb);
    if (!tb) return dl_error_set(err, DL_ENOMEM, "out of memory opening bars from ticks");
    dl_schema_init(&tb->input);
    dl_schema_init(&tb->output);
    tb->clock.bucket = bucket;

    DL_TRY(dl_kernel_find_time(input, "ts", WHAT, &tb->ts_col, err));
    DL_TRY(dl_kernel_find_double(input, "price", WHAT, &tb->price_col, err));
    DL_TRY(dl_kernel_find_double(input, "qty", WHAT, &tb->qty_col, err));
    DL_TRY(dl_schema_copy(&tb->input, input, err));
    DL_TRY(dl_kernel_add_time_field(&tb->output, &input->fields[tb->ts_col], "ts", err));
    for (size_t k = 0; k < sizeof value_names / sizeof value_names[0]; k++)
        DL_TRY(dl_schema_add(&tb->output, value_names[k], DL_TYPE_DOUBLE, false, err));
    DL_TRY(dl_schema_add(&tb->output, "trades", DL_TYPE_INT64, false, err));
    DL_TRY(dl_kernel_scratch_init(&tb->scratch, 3, err));
    *out = tb;
    tb = NULL;
cleanup:
    dl_tick_bars_free(tb);
    return rc;
}

const dl_schema *dl_tick_bars_schema(const dl_tick_bars *tb) {
    return &tb->output;
}

/* Appends the open bar to out (columns in the order of the output schema). */
static int emit_bar(dl_tick_bars *tb, dl_table *out, dl_error *err) {
    int rc = dl_kernel_out_room(out, err);
    if (rc != DL_OK) return rc;
    dl_column *c = out->columns;
    dl_kernel_put_i64(&c[0], tb->clock.start);
    dl_kernel_put_f64(&c[1], tb->open);
    dl_kernel_put_f64(&c[2], tb->high);
    dl_kernel_put_f64(&c[3], tb->low);
    dl_kernel_put_f64(&c[4], tb->close);
    dl_kernel_put_f64(&c[5], tb->volume);
    dl_kernel_put_f64(&c[6], tb->quote_volume);
    dl_kernel_put_f64(&c[7], tb->quote_volume / tb->volume);
    dl_kernel_put_i64(&c[8], tb->trades);
    out->num_rows = c[0].length;
    return DL_OK;
}

int dl_tick_bars_push(dl_tick_bars *tb, const dl_table *batch, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    DL_TRY(dl_kernel_check_table(&tb->input, batch, WHAT, "input batch", err));
    DL_TRY(dl_kernel_check_table(&tb->output, out, WHAT, "output table", err));
    if (tb->finished) DL_FAIL(err, DL_EINVAL, WHAT ": push after finish");
    DL_TRY(dl_sort_check_batch(&tb->sorted, &batch->columns[tb->ts_col], WHAT, "ts", err));
    if (batch->num_rows == 0) goto cleanup;

    /* Dense views; trades with a null price or qty are dropped. */
    const dl_column *required[2] = {&batch->columns[tb->price_col], &batch->columns[tb->qty_col]};
    int64_t m = batch->num_rows;
    const uint8_t *keep = NULL;
    if (dl_kernel_has_nulls(required[0]) || dl_kernel_has_nulls(required[1])) {
        DL_TRY(dl_kernel_select_valid(&tb->scratch, required, 2, batch->num_rows, &m, err));
        keep = tb->scratch.keep;
    }
    const void *ts_view, *price_view, *qty_view;
    DL_TRY(dl_kernel_dense(&tb->scratch, 0, &batch->columns[tb->ts_col], keep, m, &ts_view, err));
    DL_TRY(dl_kernel_dense(&tb->scratch, 1, required[0], keep, m, &price_view, err));
    DL_TRY(dl_kernel_dense(&tb->scratch, 2, required[1], keep, m, &qty_view, err));
    const int64_t *ts = ts_view;
    const double *price = price_view, *qty = qty_view;

    for (int64_t i = 0, j; i < m; i = j) {
        if (!tb->clock.open || ts[i] > tb->clock.last) {
            if (tb->clock.open) DL_TRY(emit_bar(tb, out, err));
            DL_TRY(dl_bar_clock_enter(&tb->clock, ts[i], WHAT, err));
            tb->open = tb->high = tb->low = price[i];
            tb->volume = tb->quote_volume = 0.0;
            tb->trades = 0;
        }
        j = dl_run_end(ts, i, m, tb->clock.last);
        double high = tb->high, low = tb->low, volume = tb->volume, quote = tb->quote_volume;
        for (int64_t k = i; k < j; k++) {
            double p = price[k], q = qty[k];
            high = p > high ? p : high;
            low = p < low ? p : low;
            volume += q;
            quote += p * q;
        }
        tb->high = high;
        tb->low = low;
        tb->volume = volume;
        tb->quote_volume = quote;
        tb->close = price[j - 1];
        tb->trades += j - i;
    }
cleanup:
    return rc;
}

int dl_tick_bars_finish(dl_tick_bars *tb, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    DL_TRY(dl_kernel_check_table(&tb->output, out, WHAT, "output table", err));
    if (tb->clock.open) DL_TRY(emit_bar(tb, out, err));
    tb->clock.open = false;
    tb->finished = true;
cleanup:
    return rc;
}
