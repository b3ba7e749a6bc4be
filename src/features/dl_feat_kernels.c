/*
** dl_feat_kernels.c -- the built-in feature kernels of `dl features build`,
** vectorised over one symbol's bars (arrays of doubles with a validity
** byte per value; invalid inputs are skipped, never read as 0):
**   returns, log_returns       x[i] / x[i-k] - 1, log(x[i] / x[i-k]) over k bars
**   rolling_mean|std|min|max|sum|count   over the time window (t - w, t]
**   ema                        alpha = 2 / (span + 1), seeded by the first value
**   zscore                     (x - rolling mean) / rolling std over the window
**   vwap                       sum(close * volume) / sum(volume) over the window
**   realized_vol               sqrt(sum of squared 1-bar log returns) over the window
**   true_range, atr            max(h - l, |h - c[-1]|, |l - c[-1]|); atr = its window mean
**   taker_imbalance            (2 * sum(taker_buy_volume) - sum(volume)) / sum(volume)
** Windows are two-pointer sweeps (O(n)); min/max use monotonic deques;
** mean/std use Welford updates with removal (no sum-of-squares
** cancellation on prices).  Every kernel is deterministic: same input
** arrays, same output bits.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "util/dl_internal.h"

static const char *const kernel_names[] = {
    [FEAT_K_RETURNS] = "returns",
    [FEAT_K_LOG_RETURNS] = "log_returns",
    [FEAT_K_ROLLING_MEAN] = "rolling_mean",
    [FEAT_K_ROLLING_STD] = "rolling_std",
    [FEAT_K_ROLLING_MIN] = "rolling_min",
    [FEAT_K_ROLLING_MAX] = "rolling_max",
    [FEAT_K_ROLLING_SUM] = "rolling_sum",
    [FEAT_K_ROLLING_COUNT] = "rolling_count",
    [FEAT_K_EMA] = "ema",
    [FEAT_K_ZSCORE] = "zscore",
    [FEAT_K_VWAP] = "vwap",
    [FEAT_K_REALIZED_VOL] = "realized_vol",
    [FEAT_K_TRUE_RANGE] = "true_range",
    [FEAT_K_ATR] = "atr",
    [FEAT_K_TAKER_IMBALANCE] = "taker_imbalance",
};

int feat_kernel_parse(const char *name) {
    for (int k = 0; k < FEAT_K_COUNT_; k++)
        if (strcmp(name, kernel_names[k]) == 0) return k;
    return -1;
}

const char *feat_kernel_name(int kind) {
    return kind >= 0 && kind < FEAT_K_COUNT_ ? kernel_names[kind] : "?";
}

bool feat_kernel_needs_window(int kind) {
    return kind >= FEAT_K_ROLLING_MEAN; /* the windowed kernels come last in the enum */
}

/* ---- per-bar kernels ---- */

static void k_returns(const feat_input *x, int64_t n, int64_t k, bool log_ret, double *out,
                      uint8_t *ok) {
    for (int64_t i = 0; i < n; i++) {
        ok[i] = i >= k && x->ok[i] && x->ok[i - k] && x->v[i - k] != 0;
        if (!ok[i]) continue;
        double r = x->v[i] / x->v[i - k];
        out[i] = log_ret ? log(r) : r - 1;
        if (log_ret && !isfinite(out[i])) ok[i] = 0;
    }
}

static void k_ema(const feat_input *x, int64_t n, double alpha, double *out, uint8_t *ok) {
    bool seeded = false;
    double e = 0;
    for (int64_t i = 0; i < n; i++) {
        if (x->ok[i]) {
            e = seeded ? alpha * x->v[i] + (1 - alpha) * e : x->v[i];
            seeded = true;
        }
        ok[i] = seeded;
        out[i] = e;
    }
}

static void k_true_range(const feat_bars *b, int64_t n, double *out, uint8_t *ok) {
    const feat_input *h = &b->high, *l = &b->low, *c = &b->close;
    for (int64_t i = 0; i < n; i++) {
        ok[i] = h->ok[i] && l->ok[i];
        if (!ok[i]) continue;
        double tr = h->v[i] - l->v[i];
        if (i > 0 && c->ok[i - 1]) {
            tr = fmax(tr, fabs(h->v[i] - c->v[i - 1]));
            tr = fmax(tr, fabs(l->v[i] - c->v[i - 1]));
        }
        out[i] = tr;
    }
}

/* ---- time-window kernels ---- */

/* Running mean and M2 (Welford) with removal. */
typedef struct welford {
    int64_t n;
    double mean, m2;
} welford;

static void w_add(welford *w, double x) {
    w->n++;
    double d = x - w->mean;
    w->mean += d / (double)w->n;
    w->m2 += d * (x - w->mean);
}

static void w_remove(welford *w, double x) {
    if (w->n <= 1) {
        *w = (welford){0, 0, 0};
        return;
    }
    double d = x - w->mean;
    w->n--;
    w->mean -= d / (double)w->n;
    w->m2 -= d * (x - w->mean);
    if (w->m2 < 0) w->m2 = 0;
}

/* mean / std / zscore / count over (t - w, t]. */
static void k_moments(int kind, const int64_t *ts, const feat_input *x, int64_t n, int64_t win,
                      double *out, uint8_t *ok) {
    welford w = {0, 0, 0};
    int64_t lo = 0;
    for (int64_t i = 0; i < n; i++) {
        if (x->ok[i]) w_add(&w, x->v[i]);
        for (; lo <= i && ts[lo] <= ts[i] - win; lo++)
            if (x->ok[lo]) w_remove(&w, x->v[lo]);
        double sd = w.n >= 2 ? sqrt(w.m2 / (double)(w.n - 1)) : NAN;
        switch (kind) {
        case FEAT_K_ROLLING_COUNT:
            out[i] = (double)w.n, ok[i] = 1;
            break;
        case FEAT_K_ROLLING_MEAN:
            out[i] = w.mean, ok[i] = w.n > 0;
            break;
        case FEAT_K_ROLLING_STD:
            out[i] = sd, ok[i] = w.n >= 2;
            break;
        default: /* zscore */
            ok[i] = x->ok[i] && w.n >= 2 && sd > 0;
            out[i] = ok[i] ? (x->v[i] - w.mean) / sd : 0;
        }
    }
}

/* min / max with a monotonic deque of row indices. */
static int k_extreme(bool is_max, const int64_t *ts, const feat_input *x, int64_t n, int64_t win,
                     double *out, uint8_t *ok) {
    int64_t *dq = malloc((size_t)(n ? n : 1) * sizeof *dq), head = 0, tail = 0;
    if (!dq) return DL_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        if (x->ok[i]) {
            while (tail > head &&
                   (is_max ? x->v[dq[tail - 1]] <= x->v[i] : x->v[dq[tail - 1]] >= x->v[i]))
                tail--;
            dq[tail++] = i;
        }
        while (tail > head && ts[dq[head]] <= ts[i] - win) head++;
        ok[i] = tail > head;
        out[i] = ok[i] ? x->v[dq[head]] : 0;
    }
    free(dq);
    return DL_OK;
}

/* sum(a * b) / sum(b) style ratios and plain sums over the window; the
** products are recomputed per added/removed row (exact order, deterministic). */
static void k_window_sum(const int64_t *ts, const double *num, const uint8_t *num_ok,
                         const double *den, const uint8_t *den_ok, int64_t n, int64_t win,
                         bool sqrt_result, double *out, uint8_t *ok) {
    double sn = 0, sd = 0;
    int64_t cnt = 0, lo = 0;
    for (int64_t i = 0; i < n; i++) {
        if (num_ok[i]) sn += num[i], cnt++;
        if (den && den_ok[i]) sd += den[i];
        for (; lo <= i && ts[lo] <= ts[i] - win; lo++) {
            if (num_ok[lo]) sn -= num[lo], cnt--;
            if (den && den_ok[lo]) sd -= den[lo];
        }
        if (den) {
            ok[i] = cnt > 0 && sd != 0;
            out[i] = ok[i] ? sn / sd : 0;
        } else {
            ok[i] = cnt > 0;
            out[i] = sqrt_result ? sqrt(fmax(sn, 0)) : sn;
        }
    }
}

int feat_kernel_run(const feat_kernel *k, const feat_bars *b, double *out, uint8_t *ok,
                    dl_error *err) {
    int64_t n = b->n;
    const int64_t *ts = b->ts;
    int rc = DL_OK;
    double *tmp = NULL, *tmp2 = NULL;
    uint8_t *tok = NULL, *tok2 = NULL;
    switch (k->kind) {
    case FEAT_K_RETURNS:
    case FEAT_K_LOG_RETURNS:
        k_returns(&k->input, n, k->bars, k->kind == FEAT_K_LOG_RETURNS, out, ok);
        return DL_OK;
    case FEAT_K_EMA:
        k_ema(&k->input, n, k->alpha, out, ok);
        return DL_OK;
    case FEAT_K_TRUE_RANGE:
        k_true_range(b, n, out, ok);
        return DL_OK;
    case FEAT_K_ROLLING_MEAN:
    case FEAT_K_ROLLING_STD:
    case FEAT_K_ROLLING_COUNT:
    case FEAT_K_ZSCORE:
        k_moments(k->kind, ts, &k->input, n, k->window_us, out, ok);
        return DL_OK;
    case FEAT_K_ROLLING_MIN:
    case FEAT_K_ROLLING_MAX:
        rc = k_extreme(k->kind == FEAT_K_ROLLING_MAX, ts, &k->input, n, k->window_us, out, ok);
        break;
    case FEAT_K_ROLLING_SUM:
        k_window_sum(ts, k->input.v, k->input.ok, NULL, NULL, n, k->window_us, false, out, ok);
        return DL_OK;
    default:
        break;
    }
    if (rc != DL_OK || k->kind == FEAT_K_ROLLING_MIN || k->kind == FEAT_K_ROLLING_MAX) goto cleanup;
    /* kernels over derived per-bar series */
    tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    tmp2 = malloc((size_t)(n ? n : 1) * sizeof *tmp2);
    tok = malloc((size_t)(n ? n : 1));
    tok2 = malloc((size_t)(n ? n : 1));
    if (!tmp || !tmp2 || !tok || !tok2) {
        rc = DL_ENOMEM;
        goto cleanup;
    }
    if (k->kind == FEAT_K_VWAP) {
        for (int64_t i = 0; i < n; i++) {
            tok[i] = b->close.ok[i] && b->volume.ok[i];
            tmp[i] = tok[i] ? b->close.v[i] * b->volume.v[i] : 0;
            tok2[i] = tok[i];
            tmp2[i] = tok[i] ? b->volume.v[i] : 0;
        }
        k_window_sum(ts, tmp, tok, tmp2, tok2, n, k->window_us, false, out, ok);
    } else if (k->kind == FEAT_K_TAKER_IMBALANCE) {
        for (int64_t i = 0; i < n; i++) {
            tok[i] = b->taker_buy.ok[i] && b->volume.ok[i];
            tmp[i] = tok[i] ? 2 * b->taker_buy.v[i] - b->volume.v[i] : 0;
            tmp2[i] = tok[i] ? b->volume.v[i] : 0;
        }
        k_window_sum(ts, tmp, tok, tmp2, tok, n, k->window_us, false, out, ok);
    } else if (k->kind == FEAT_K_REALIZED_VOL) {
        k_returns(&k->input, n, 1, true, tmp, tok);
        for (int64_t i = 0; i < n; i++) tmp[i] = tok[i] ? tmp[i] * tmp[i] : 0;
        k_window_sum(ts, tmp, tok, NULL, NULL, n, k->window_us, true, out, ok);
    } else if (k->kind == FEAT_K_ATR) {
        k_true_range(b, n, tmp, tok);
        feat_input tr = {tmp, tok};
        k_moments(FEAT_K_ROLLING_MEAN, ts, &tr, n, k->window_us, out, ok);
    }
cleanup:
    free(tmp);
    free(tmp2);
    free(tok);
    free(tok2);
    if (rc == DL_ENOMEM) dl_error_set(err, rc, "out of memory computing %s", k->out_name);
    return rc;
}
