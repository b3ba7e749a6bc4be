/*
** dl_resample.c -- streaming OHLCV resampler: bars (ts, open, high, low,
** close, volume, ...) sorted by ts become coarser bars of `bucket` ts units
** aligned to multiples of bucket since the epoch (see datalake.h).
**
** Per batch: one pass checks the sort order, then for each run of rows in
** one bucket (found by galloping search, so no per-row division) tight
** loops take max(high), min(low) and each column's sum.  The bar being
** built is kept between batches and emitted when a later bucket starts or
** at finish; memory is the bar plus (only when nulls occur) one batch of
** scratch.
**
** Nulls: a row with a null open, high, low or close is skipped entirely; a
** null in a summed column contributes nothing (the row still counts for
** OHLC).  Output bars are never null.  Integer columns (int32/int64) sum
** into int64 (overflow is an error), float/double columns into double, in
** row order.  Other columns (bool, string, binary, timestamp, date) are
** dropped.
*/
#include <stdlib.h>
#include <string.h>

#include "query/dl_kernel_int.h"

#define WHAT "resample"

enum { OPEN, HIGH, LOW, CLOSE, NUM_OHLC };
static const char *const ohlc_names[NUM_OHLC] = {"open", "high", "low", "close"};

struct dl_resampler {
    dl_schema input, output;
    int ts_col;
    int ohlc_col[NUM_OHLC];
    int num_sums;
    int *sum_col;      /* input column index of each summed column */
    dl_type *sum_type; /* its input type */
    dl_bar_clock clock;
    dl_sort_check sorted;
    bool finished;
    /* the open bar */
    double ohlc[NUM_OHLC];
    dl_kernel_sum *sums;
    const void **sum_view; /* per batch: dense values of each summed column */
    /* scratch slots: 0 = ts, 1..4 = OHLC, 5.. = summed columns */
    dl_kernel_scratch scratch;
};

static bool is_summable(dl_type t) {
    return t == DL_TYPE_INT32 || t == DL_TYPE_INT64 || t == DL_TYPE_FLOAT || t == DL_TYPE_DOUBLE;
}
static bool is_integer(dl_type t) {
    return t == DL_TYPE_INT32 || t == DL_TYPE_INT64;
}

void dl_resampler_free(dl_resampler *rs) {
    if (!rs) return;
    dl_schema_free(&rs->input);
    dl_schema_free(&rs->output);
    free(rs->sum_col);
    free(rs->sum_type);
    free(rs->sums);
    free(rs->sum_view);
    dl_kernel_scratch_free(&rs->scratch);
    free(rs);
}

int dl_resampler_open(const dl_schema *input, int64_t bucket, dl_resampler **out, dl_error *err) {
    int rc = DL_OK;
    dl_resampler *rs = NULL;
    if (!input || !out) return dl_error_set(err, DL_EINVAL, WHAT ": NULL argument");
    *out = NULL;
    if (bucket <= 0)
        return dl_error_set(err, DL_EINVAL, WHAT ": bucket must be positive, got %lld",
                            (long long)bucket);
    rs = calloc(1, sizeof *rs);
    if (!rs) return dl_error_set(err, DL_ENOMEM, "out of memory opening the resampler");
    dl_schema_init(&rs->input);
    dl_schema_init(&rs->output);
    rs->clock.bucket = bucket;

    DL_TRY(dl_kernel_find_time(input, "ts", WHAT, &rs->ts_col, err));
    for (int k = 0; k < NUM_OHLC; k++)
        DL_TRY(dl_kernel_find_double(input, ohlc_names[k], WHAT, &rs->ohlc_col[k], err));
    DL_TRY(dl_schema_copy(&rs->input, input, err));

    int n = input->num_fields;
    rs->sum_col = calloc((size_t)n, sizeof *rs->sum_col);
    rs->sum_type = calloc((size_t)n, sizeof *rs->sum_type);
    rs->sums = calloc((size_t)n, sizeof *rs->sums);
    rs->sum_view = calloc((size_t)n, sizeof *rs->sum_view);
    if (!rs->sum_col || !rs->sum_type || !rs->sums || !rs->sum_view)
        DL_FAIL(err, DL_ENOMEM, "out of memory opening the resampler");

    DL_TRY(dl_kernel_add_time_field(&rs->output, &input->fields[rs->ts_col], "ts", err));
    for (int k = 0; k < NUM_OHLC; k++)
        DL_TRY(dl_schema_add(&rs->output, ohlc_names[k], DL_TYPE_DOUBLE, false, err));
    for (int i = 0; i < n; i++) {
        if (i == rs->ts_col || !is_summable(input->fields[i].type)) continue;
        bool is_ohlc = false;
        for (int k = 0; k < NUM_OHLC; k++) is_ohlc |= i == rs->ohlc_col[k];
        if (is_ohlc) continue;
        dl_type t = input->fields[i].type;
        rs->sum_col[rs->num_sums] = i;
        rs->sum_type[rs->num_sums] = t;
        rs->num_sums++;
        DL_TRY(dl_schema_add(&rs->output, input->fields[i].name,
                             is_integer(t) ? DL_TYPE_INT64 : DL_TYPE_DOUBLE, false, err));
    }
    DL_TRY(dl_kernel_scratch_init(&rs->scratch, 1 + NUM_OHLC + rs->num_sums, err));
    *out = rs;
    rs = NULL;
cleanup:
    dl_resampler_free(rs);
    return rc;
}

const dl_schema *dl_resampler_schema(const dl_resampler *rs) {
    return &rs->output;
}

/* Appends the open bar to out. */
static int emit_bar(dl_resampler *rs, dl_table *out, dl_error *err) {
    int rc = dl_kernel_out_room(out, err);
    if (rc != DL_OK) return rc;
    dl_kernel_put_i64(&out->columns[0], rs->clock.start);
    for (int k = 0; k < NUM_OHLC; k++) dl_kernel_put_f64(&out->columns[1 + k], rs->ohlc[k]);
    for (int s = 0; s < rs->num_sums; s++) {
        dl_column *col = &out->columns[1 + NUM_OHLC + s];
        if (is_integer(rs->sum_type[s]))
            dl_kernel_put_i64(col, rs->sums[s].i);
        else
            dl_kernel_put_f64(col, rs->sums[s].f);
    }
    out->num_rows = out->columns[0].length;
    return DL_OK;
}

/* Adds values[i..j) of a summed column to acc in row order; returns false
** when an integer sum overflows int64. */
static bool sum_run(dl_type type, const void *values, int64_t i, int64_t j, dl_kernel_sum *acc) {
    switch (type) {
    case DL_TYPE_INT32: {
        const int32_t *v = values;
        int64_t s = acc->i;
        bool overflow = false;
        for (int64_t k = i; k < j; k++) overflow |= __builtin_add_overflow(s, (int64_t)v[k], &s);
        acc->i = s;
        return !overflow;
    }
    case DL_TYPE_INT64: {
        const int64_t *v = values;
        int64_t s = acc->i;
        bool overflow = false;
        for (int64_t k = i; k < j; k++) overflow |= __builtin_add_overflow(s, v[k], &s);
        acc->i = s;
        return !overflow;
    }
    case DL_TYPE_FLOAT: {
        const float *v = values;
        double s = acc->f;
        for (int64_t k = i; k < j; k++) s += (double)v[k];
        acc->f = s;
        return true;
    }
    default: { /* DL_TYPE_DOUBLE */
        const double *v = values;
        double s = acc->f;
        for (int64_t k = i; k < j; k++) s += v[k];
        acc->f = s;
        return true;
    }
    }
}

int dl_resampler_push(dl_resampler *rs, const dl_table *batch, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    DL_TRY(dl_kernel_check_table(&rs->input, batch, WHAT, "input batch", err));
    DL_TRY(dl_kernel_check_table(&rs->output, out, WHAT, "output table", err));
    if (rs->finished) DL_FAIL(err, DL_EINVAL, WHAT ": push after finish");
    DL_TRY(dl_sort_check_batch(&rs->sorted, &batch->columns[rs->ts_col], WHAT, "ts", err));
    if (batch->num_rows == 0) goto cleanup;

    /* Dense views of the columns; rows with a null OHLC value are dropped. */
    const dl_column *required[NUM_OHLC];
    bool filter = false;
    for (int k = 0; k < NUM_OHLC; k++) {
        required[k] = &batch->columns[rs->ohlc_col[k]];
        filter |= dl_kernel_has_nulls(required[k]);
    }
    int64_t m = batch->num_rows;
    const uint8_t *keep = NULL;
    if (filter) {
        DL_TRY(dl_kernel_select_valid(&rs->scratch, required, NUM_OHLC, batch->num_rows, &m, err));
        keep = rs->scratch.keep;
    }
    const void *view;
    DL_TRY(dl_kernel_dense(&rs->scratch, 0, &batch->columns[rs->ts_col], keep, m, &view, err));
    const int64_t *ts = view;
    const double *ohlc[NUM_OHLC];
    for (int k = 0; k < NUM_OHLC; k++) {
        DL_TRY(dl_kernel_dense(&rs->scratch, 1 + k, required[k], keep, m, &view, err));
        ohlc[k] = view;
    }
    for (int s = 0; s < rs->num_sums; s++)
        DL_TRY(dl_kernel_dense(&rs->scratch, 1 + NUM_OHLC + s, &batch->columns[rs->sum_col[s]],
                               keep, m, &rs->sum_view[s], err));

    for (int64_t i = 0, j; i < m; i = j) {
        if (!rs->clock.open || ts[i] > rs->clock.last) {
            if (rs->clock.open) DL_TRY(emit_bar(rs, out, err));
            DL_TRY(dl_bar_clock_enter(&rs->clock, ts[i], WHAT, err));
            for (int k = 0; k < NUM_OHLC; k++) rs->ohlc[k] = ohlc[k][i];
            for (int s = 0; s < rs->num_sums; s++) {
                if (is_integer(rs->sum_type[s]))
                    rs->sums[s].i = 0;
                else
                    rs->sums[s].f = 0.0;
            }
        }
        j = dl_run_end(ts, i, m, rs->clock.last);
        double high = rs->ohlc[HIGH], low = rs->ohlc[LOW];
        const double *hv = ohlc[HIGH], *lv = ohlc[LOW];
        for (int64_t k = i; k < j; k++) high = hv[k] > high ? hv[k] : high;
        for (int64_t k = i; k < j; k++) low = lv[k] < low ? lv[k] : low;
        rs->ohlc[HIGH] = high;
        rs->ohlc[LOW] = low;
        rs->ohlc[CLOSE] = ohlc[CLOSE][j - 1];
        for (int s = 0; s < rs->num_sums; s++)
            if (!sum_run(rs->sum_type[s], rs->sum_view[s], i, j, &rs->sums[s]))
                DL_FAIL(err, DL_EINVAL, WHAT ": sum of '%s' overflows int64 in the bar at ts %lld",
                        rs->input.fields[rs->sum_col[s]].name, (long long)rs->clock.start);
    }
cleanup:
    return rc;
}

int dl_resampler_finish(dl_resampler *rs, dl_table *out, dl_error *err) {
    int rc = DL_OK;
    DL_TRY(dl_kernel_check_table(&rs->output, out, WHAT, "output table", err));
    if (rs->clock.open) DL_TRY(emit_bar(rs, out, err));
    rs->clock.open = false;
    rs->finished = true;
cleanup:
    return rc;
}
