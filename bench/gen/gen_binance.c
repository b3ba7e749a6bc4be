/*
** gen_binance.c -- dl-gen: a deterministic generator of Binance-format
** market data for the benchmark and the CLI tests.  It writes
** data.binance.vision style CSV files:
**   DIR/klines/{SYM}-1m-YYYY-MM.csv        spot 1m klines, one file a month
**   DIR/trades/{SYM}-trades-YYYY-MM-DD.csv spot trades, one file a day
**   DIR/manifest.json                      parameters, files, totals, gaps
** Every value is a function of (seed, symbol, UTC day) drawn from streams of
** its own, so the output is byte-identical whatever --jobs is.  Prices are a
** mean-reverting daily random walk (volatility regimes, rare jumps) with
** intraday Brownian bridges shaped by an activity curve (busy around 14:30
** UTC, quiet at night and at weekends).  Prices sit on the symbol's tick,
** quantities on its lot, and all arithmetic on them is integer, so every
** CSV value is an exact decimal.  Run `dl-gen --help` for the options.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GEN_VERSION        1
#define MIN_MS             60000LL
#define DAY_MS             86400000LL
#define DAY_MIN            1440
#define SKELETON_EPOCH_DAY 14610 /* 2010-01-01: the daily walk starts here */
#define MAX_DAYS           36600
#define PATH_CAP           4096

/* ---------------------------------------------------------------- symbols */

typedef struct symbol_def {
    const char *name;
    double anchor;     /* price the log price reverts to */
    int price_dec;     /* tick = 10^-price_dec */
    int qty_dec;       /* lot = 10^-qty_dec */
    double annual_vol; /* annualised volatility of the daily walk */
    double min_volume; /* mean base volume per minute */
    double min_trades; /* mean trade count per minute */
} symbol_def;

/* Ordered as the tests expect: the first three are BTC, ETH, BNB; trades
** are generated for the first --trade-symbols of them. */
static const symbol_def SYMBOLS[] = {
    {"BTCUSDT", 30000, 2, 5, 0.50, 14, 700},    {"ETHUSDT", 2000, 2, 4, 0.60, 160, 450},
    {"BNBUSDT", 250, 1, 3, 0.55, 260, 120},     {"SOLUSDT", 60, 2, 2, 0.90, 3500, 260},
    {"XRPUSDT", 0.55, 4, 0, 0.75, 220000, 180}, {"DOGEUSDT", 0.08, 5, 0, 0.85, 1400000, 150},
    {"ADAUSDT", 0.35, 4, 1, 0.75, 260000, 110}, {"AVAXUSDT", 20, 2, 2, 0.90, 2600, 90},
    {"DOTUSDT", 5.5, 3, 2, 0.80, 8500, 70},     {"LINKUSDT", 9, 3, 2, 0.85, 7000, 95},
    {"MATICUSDT", 0.8, 4, 1, 0.90, 130000, 85}, {"LTCUSDT", 75, 2, 3, 0.70, 850, 75},
    {"TRXUSDT", 0.09, 5, 1, 0.55, 520000, 40},  {"ATOMUSDT", 9, 3, 2, 0.80, 2400, 45},
    {"UNIUSDT", 6, 3, 2, 0.85, 2600, 35},       {"ETCUSDT", 18, 2, 2, 0.80, 1900, 40},
    {"XLMUSDT", 0.11, 5, 0, 0.70, 125000, 25},  {"NEARUSDT", 2, 3, 1, 0.95, 9500, 55},
    {"FILUSDT", 4.5, 3, 2, 0.90, 6500, 50},     {"APTUSDT", 7.5, 4, 2, 0.95, 3100, 60},
};
#define NUM_SYMBOLS ((int)(sizeof SYMBOLS / sizeof SYMBOLS[0]))

/* ------------------------------------------------------------ parameters */

typedef struct params {
    const char *out;
    int symbols, days, trade_symbols, trade_days, jobs;
    int64_t trades_per_day;
    uint64_t seed;
    char start[11];
    int64_t start_day; /* days since 1970-01-01 */
    bool force;
} params;

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("dl-gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

/* ------------------------------------------------------------- calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool parse_date(const char *s, int64_t *day) {
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return false;
    if (y < 2010 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) return false;
    int y2, m2, d2;
    *day = days_from_civil(y, m, d);
    civil_from_days(*day, &y2, &m2, &d2);
    return y2 == y && m2 == m && d2 == d; /* rejects 2023-02-30 */
}

/* ----------------------------------------------------------------- random */

/* xoshiro256** seeded through splitmix64 from a key; each (symbol, day,
** purpose) has its own key, hence its own independent stream. */
typedef struct rng {
    uint64_t s[4];
    bool has_spare;
    double spare;
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

enum stream { ST_SKELETON = 1, ST_DAY_PATH, ST_DAY_GAPS, ST_YEAR_GAP, ST_TRADES };

static void rng_seed(rng *r, uint64_t seed, int sym, int64_t key, int purpose) {
    uint64_t x = seed * 0x2545f4914f6cdd1dULL;
    x ^= splitmix64(&x) + (uint64_t)(sym + 1) * 0x9e3779b97f4a7c15ULL;
    x ^= splitmix64(&x) + (uint64_t)key * 0xd1b54a32d192ed03ULL;
    x ^= splitmix64(&x) + (uint64_t)purpose;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = false;
}

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t out = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

static double rng_uniform(rng *r) { /* [0, 1) */
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t rng_below(rng *r, int64_t n) {
    return (int64_t)(rng_uniform(r) * (double)n);
}

static double rng_normal(rng *r) { /* polar Box-Muller */
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    double u, v, q;
    do {
        u = 2 * rng_uniform(r) - 1;
        v = 2 * rng_uniform(r) - 1;
        q = u * u + v * v;
    } while (q >= 1 || q == 0);
    double f = sqrt(-2 * log(q) / q);
    r->spare = v * f;
    r->has_spare = true;
    return u * f;
}

/* ------------------------------------------------------- the price model */

/* Per symbol, the daily skeleton from SKELETON_EPOCH_DAY to the end of the
** range: the log open of every day and that day's volatility, plus the
** missing-minute mask of the requested range. */
typedef struct symbol_plan {
    double *log_open; /* index: day - SKELETON_EPOCH_DAY, one more than days */
    double *day_vol;
    uint8_t *missing; /* one byte per minute of the range */
    int64_t trade_id0;
} symbol_plan;

/* Three volatility regimes (calm, normal, stormy), switching on average
** every 20 days; rare jumps; reversion to the anchor with a 30-day half-life. */
static void build_skeleton(const params *p, int sym, symbol_plan *plan) {
    const symbol_def *s = &SYMBOLS[sym];
    int64_t n = p->start_day + p->days - SKELETON_EPOCH_DAY;
    plan->log_open = xmalloc(sizeof(double) * (size_t)(n + 1));
    plan->day_vol = xmalloc(sizeof(double) * (size_t)n);
    static const double regime_scale[] = {0.6, 1.0, 1.9};
    double anchor = log(s->anchor), kappa = 1 - pow(0.5, 1.0 / 30),
           base = s->annual_vol / sqrt(365);
    rng r;
    rng_seed(&r, p->seed, sym, 0, ST_SKELETON);
    int regime = 1;
    double x = anchor;
    for (int64_t i = 0; i < n; i++) {
        if (rng_uniform(&r) < 0.05) regime = (regime + 1 + (int)rng_below(&r, 2)) % 3;
        double vol = base * regime_scale[regime] * exp(0.15 * rng_normal(&r));
        double step = vol * rng_normal(&r);
        if (rng_uniform(&r) < 0.004) step += 4 * vol * rng_normal(&r);
        plan->log_open[i] = x;
        plan->day_vol[i] = vol;
        x += kappa * (anchor - x) + step;
    }
    plan->log_open[n] = x;
}

static bool is_trade_day(const params *p, int sym, int day_index) {
    return sym < p->trade_symbols && day_index < p->trade_days;
}

/* Missing klines: about 0.01% of minutes at random (runs of 1 to 5),
** drawn from each day's own stream, plus one whole hour per symbol in every
** calendar year the range touches.  Days with trades, and the first and
** last day of the range (where `dl gaps` could not see a gap), have none. */
static void build_missing(const params *p, int sym, symbol_plan *plan) {
    plan->missing = xmalloc((size_t)p->days * DAY_MIN);
    for (int d = 1; d + 1 < p->days; d++) {
        if (is_trade_day(p, sym, d)) continue;
        rng r;
        rng_seed(&r, p->seed, sym, p->start_day + d, ST_DAY_GAPS);
        for (int m = 0; m < DAY_MIN; m++) {
            if (rng_uniform(&r) >= 6e-5) continue;
            int len = rng_uniform(&r) < 0.75 ? 1 : 2 + (int)rng_below(&r, 4);
            for (int k = m; k < DAY_MIN && k < m + len; k++)
                plan->missing[(size_t)d * DAY_MIN + (size_t)k] = 1;
        }
    }
    int y0, y1, mo, da;
    civil_from_days(p->start_day, &y0, &mo, &da);
    civil_from_days(p->start_day + p->days - 1, &y1, &mo, &da);
    for (int y = y0; y <= y1; y++) {
        int64_t lo = days_from_civil(y, 1, 1) - p->start_day;
        int64_t hi = days_from_civil(y + 1, 1, 1) - p->start_day;
        if (lo < 1) lo = 1;
        if (hi > p->days - 1) hi = p->days - 1;
        int64_t candidates = 0;
        for (int64_t d = lo; d < hi; d++) candidates += !is_trade_day(p, sym, (int)d);
        if (candidates == 0) continue;
        rng r;
        rng_seed(&r, p->seed, sym, y, ST_YEAR_GAP);
        int64_t pick = rng_below(&r, candidates), hour = rng_below(&r, 24), d = lo;
        for (;; d++)
            if (!is_trade_day(p, sym, (int)d) && pick-- == 0) break;
        memset(plan->missing + d * DAY_MIN + hour * 60, 1, 60);
    }
}

/* Relative trading activity of a minute: a daily curve peaking at 14:30 UTC
** (US open), a smaller Asian-morning bump, quieter weekends. */
static double activity_curve(int minute, int weekday) {
    double h = minute / 60.0;
    double us = exp(-(h - 14.5) * (h - 14.5) / (2 * 2.5 * 2.5));
    double asia = exp(-(h - 2.0) * (h - 2.0) / (2 * 2.0 * 2.0));
    double a = 0.45 + 1.3 * us + 0.45 * asia;
    return weekday >= 5 ? 0.6 * a : a; /* weekday: 0 = Monday */
}

/* One generated day of one symbol: integer ticks and lots. */
typedef struct day_bars {
    int64_t open[DAY_MIN], high[DAY_MIN], low[DAY_MIN], close[DAY_MIN];
    int64_t volume[DAY_MIN], quote[DAY_MIN], trades[DAY_MIN], taker_vol[DAY_MIN],
        taker_quote[DAY_MIN];
    double act[DAY_MIN], sigma[DAY_MIN]; /* activity weight, log-price sd of the minute */
} day_bars;

static int64_t round_ticks(double log_price, int64_t scale) {
    int64_t t = llround(exp(log_price) * (double)scale);
    return t < 1 ? 1 : t;
}

/* The price path of one day: a Brownian bridge in log price from this
** day's open to the next day's, its variance spread by activity. */
static void day_path(const params *p, int sym, const symbol_plan *plan, int64_t day, rng *r,
                     day_bars *b) {
    const symbol_def *s = &SYMBOLS[sym];
    int64_t i = day - SKELETON_EPOCH_DAY, scale = 1;
    for (int k = 0; k < s->price_dec; k++) scale *= 10;
    double x0 = plan->log_open[i], x1 = plan->log_open[i + 1], vol = plan->day_vol[i];
    int weekday = (int)((day % 7 + 10) % 7); /* 1970-01-01 was a Thursday */
    double noise = 0, total = 0;
    for (int m = 0; m < DAY_MIN; m++) {
        noise = 0.9 * noise + 0.2 * rng_normal(r);
        b->act[m] = activity_curve(m, weekday) * exp(noise);
        total += b->act[m];
    }
    double w = 0, t = 0, *walk = b->sigma; /* reuse sigma as scratch for the walk */
    for (int m = 0; m < DAY_MIN; m++) {
        double sd = vol * sqrt(b->act[m] / total);
        w += sd * rng_normal(r);
        walk[m] = w;
    }
    int64_t prev = round_ticks(x0, scale);
    for (int m = 0; m < DAY_MIN; m++) {
        t += b->act[m];
        double frac = t / total;
        double x = x0 + walk[m] - frac * walk[DAY_MIN - 1] + frac * (x1 - x0);
        b->open[m] = prev;
        b->close[m] = round_ticks(x, scale);
        prev = b->close[m];
    }
    for (int m = 0; m < DAY_MIN; m++) b->sigma[m] = vol * sqrt(b->act[m] / total);
    (void)p;
}

/* Klines of a day without trades: high/low excursions, lognormal volumes,
** a trade count following activity; a minute with no trade is flat. */
static void day_klines(int sym, rng *r, day_bars *b) {
    const symbol_def *s = &SYMBOLS[sym];
    double lot = pow(10, s->qty_dec), mean_act = 0;
    for (int m = 0; m < DAY_MIN; m++) mean_act += b->act[m] / DAY_MIN;
    for (int m = 0; m < DAY_MIN; m++) {
        double rel = b->act[m] / mean_act;
        int64_t n =
            (int64_t)(s->min_trades * rel * exp(0.35 * rng_normal(r) - 0.06) + rng_uniform(r));
        double up = fabs(rng_normal(r)) * 0.7 * b->sigma[m],
               down = fabs(rng_normal(r)) * 0.7 * b->sigma[m];
        int64_t o = b->open[m], c = b->close[m];
        int64_t hi = o > c ? o : c, lo = o < c ? o : c;
        int64_t h = llround((double)hi * exp(up)), l = llround((double)lo * exp(-down));
        double vmul = exp(0.5 * rng_normal(r) - 0.125), taker = 0.3 + 0.4 * rng_uniform(r);
        if (n <= 0) { /* no trade: a flat bar at the previous close */
            b->open[m] = b->high[m] = b->low[m] = b->close[m] = o;
            b->volume[m] = b->quote[m] = b->trades[m] = b->taker_vol[m] = b->taker_quote[m] = 0;
            if (m + 1 < DAY_MIN) b->open[m + 1] = o;
            continue;
        }
        b->high[m] = h > hi ? h : hi;
        b->low[m] = l < lo ? (l < 1 ? 1 : l) : lo;
        int64_t v = llround(s->min_volume * rel * vmul * lot);
        if (v < n) v = n; /* at least one lot per trade */
        int64_t tv = llround((double)v * taker);
        int64_t vwap = (b->open[m] + b->high[m] + b->low[m] + b->close[m] + 2) / 4;
        b->volume[m] = v;
        b->taker_vol[m] = tv;
        b->quote[m] = v * vwap;
        b->taker_quote[m] = tv * vwap;
        b->trades[m] = n;
    }
}

/* ------------------------------------------------------------ formatting */

typedef struct out_file {
    int fd;
    char *buf;
    size_t len, cap;
    int64_t bytes, rows;
    const char *path;
} out_file;

static void out_open(out_file *f, const char *path) {
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) die("cannot create %s: %s", path, strerror(errno));
    f->cap = 1 << 20;
    f->buf = xmalloc(f->cap);
    f->len = 0;
    f->bytes = f->rows = 0;
    f->path = path;
}

static void out_flush(out_file *f) {
    size_t off = 0;
    while (off < f->len) {
        ssize_t w = write(f->fd, f->buf + off, f->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("cannot write %s: %s", f->path, strerror(errno));
        off += (size_t)w;
    }
    f->bytes += (int64_t)f->len;
    f->len = 0;
}

static void out_close(out_file *f) {
    out_flush(f);
    if (close(f->fd) != 0) die("cannot close %s: %s", f->path, strerror(errno));
    free(f->buf);
}

/* Room for one more line (every line is far shorter than 512 bytes). */
static char *out_reserve(out_file *f) {
    if (f->len + 512 > f->cap) out_flush(f);
    return f->buf + f->len;
}

static char *put_u64(char *o, uint64_t v) {
    char tmp[24];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) *o++ = tmp[--n];
    return o;
}

/* The bytes of a short literal, without its terminator (lines are not strings). */
static char *put_text(char *o, const char *s) {
    while (*s) *o++ = *s++;
    return o;
}

/* An integer count of 10^-dec units written with 8 decimals. */
static char *put_fixed8(char *o, int64_t units, int dec) {
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    o = put_u64(o, (uint64_t)(units / pow10[dec]));
    *o++ = '.';
    int64_t frac = units % pow10[dec];
    for (int k = dec - 1; k >= 0; k--) *o++ = (char)('0' + (frac / pow10[k]) % 10);
    for (int k = dec; k < 8; k++) *o++ = '0';
    return o;
}

static void write_kline(out_file *f, const symbol_def *s, int64_t open_ms, const day_bars *b,
                        int m) {
    char *o = out_reserve(f), *start = o;
    int pd = s->price_dec, qd = s->qty_dec;
    o = put_u64(o, (uint64_t)open_ms), *o++ = ',';
    o = put_fixed8(o, b->open[m], pd), *o++ = ',';
    o = put_fixed8(o, b->high[m], pd), *o++ = ',';
    o = put_fixed8(o, b->low[m], pd), *o++ = ',';
    o = put_fixed8(o, b->close[m], pd), *o++ = ',';
    o = put_fixed8(o, b->volume[m], qd), *o++ = ',';
    o = put_u64(o, (uint64_t)(open_ms + MIN_MS - 1)), *o++ = ',';
    o = put_fixed8(o, b->quote[m], pd + qd), *o++ = ',';
    o = put_u64(o, (uint64_t)b->trades[m]), *o++ = ',';
    o = put_fixed8(o, b->taker_vol[m], qd), *o++ = ',';
    o = put_fixed8(o, b->taker_quote[m], pd + qd);
    o = put_text(o, ",0\n");
    f->len += (size_t)(o - start);
    f->rows++;
}

/* ---------------------------------------------------------------- trades */

/* Splits `total` into DAY_MIN counts proportional to the weights (at least
** one per minute when total allows) by rounding the cumulative share. */
static void allocate_counts(const double *w, int64_t total, int64_t *n) {
    int64_t base = total >= DAY_MIN ? 1 : 0, rest = total - base * DAY_MIN;
    double sum = 0, cum = 0;
    for (int m = 0; m < DAY_MIN; m++) sum += w[m];
    int64_t given = 0;
    for (int m = 0; m < DAY_MIN; m++) {
        cum += w[m];
        int64_t upto = m == DAY_MIN - 1 ? rest : (int64_t)floor(cum / sum * (double)rest + 0.5);
        n[m] = base + (upto - given);
        given = upto;
    }
}

typedef struct trade_scratch {
    int64_t *order_fills, *order_ms;
    double *gap;
    size_t cap;
} trade_scratch;

static void scratch_fit(trade_scratch *t, size_t n) {
    if (n <= t->cap) return;
    free(t->order_fills), free(t->order_ms), free(t->gap);
    t->cap = n * 2;
    t->order_fills = xmalloc(t->cap * sizeof(int64_t));
    t->order_ms = xmalloc(t->cap * sizeof(int64_t));
    t->gap = xmalloc(t->cap * sizeof(double));
}

/* Groups n trades into taker orders: the first and the last order are one
** fill each (so a minute's first and last trade are alone on their
** millisecond), the others sweep 1 or more fills. Returns the order count. */
static int64_t plan_orders(rng *r, int64_t n, trade_scratch *t) {
    scratch_fit(t, (size_t)n + 2);
    if (n <= 2) {
        for (int64_t k = 0; k < n; k++) t->order_fills[k] = 1;
        return n;
    }
    int64_t g = 0, left = n - 2, min_fill = (left + 59989) / 59990; /* fits in 60000 ms */
    if (min_fill < 1) min_fill = 1;
    t->order_fills[g++] = 1;
    while (left > 0) {
        int64_t f = min_fill;
        while (rng_uniform(r) < 0.45 && f < 40) f++;
        if (f > left) f = left;
        t->order_fills[g++] = f;
        left -= f;
    }
    t->order_fills[g++] = 1;
    return g;
}

/* Distinct, increasing milliseconds in [0, 60000) for g orders: arrival
** gaps from a mixture of exponentials (bursts and lulls), squeezed to fit. */
static void place_orders(rng *r, int64_t g, trade_scratch *t) {
    double total = 0;
    for (int64_t k = 0; k <= g; k++) {
        double mean = rng_uniform(r) < 0.7 ? 1.0 : 12.0;
        t->gap[k] = -mean * log(1 - rng_uniform(r));
        total += t->gap[k];
    }
    double cum = 0, room = (double)(60000 - g);
    for (int64_t k = 0; k < g; k++) {
        cum += t->gap[k];
        int64_t ms = (int64_t)(cum / total * room) + k;
        t->order_ms[k] = ms;
    }
}

typedef struct trade_sink {
    out_file file;
    const symbol_def *s;
    int64_t next_id;
} trade_sink;

static void write_trade(trade_sink *ts, int64_t price, int64_t qty, int64_t ms, bool buyer_maker) {
    out_file *f = &ts->file;
    char *o = out_reserve(f), *start = o;
    o = put_u64(o, (uint64_t)ts->next_id++), *o++ = ',';
    o = put_fixed8(o, price, ts->s->price_dec), *o++ = ',';
    o = put_fixed8(o, qty, ts->s->qty_dec), *o++ = ',';
    o = put_fixed8(o, price * qty, ts->s->price_dec + ts->s->qty_dec), *o++ = ',';
    o = put_u64(o, (uint64_t)ms), *o++ = ',';
    o = put_text(o, buyer_maker ? "True,True\n" : "False,True\n");
    f->len += (size_t)(o - start);
    f->rows++;
}

/* The trades of one minute, walking from the minute's open to its close;
** the minute's kline is aggregated from them. */
static void minute_trades(rng *r, trade_sink *ts, trade_scratch *t, int64_t minute_ms, int64_t n,
                          day_bars *b, int m) {
    const symbol_def *s = ts->s;
    int64_t o = b->open[m], c = b->close[m];
    int64_t g = plan_orders(r, n, t);
    place_orders(r, g, t);
    double lot = pow(10, s->qty_dec), fill_mean = s->min_volume / s->min_trades * lot;
    double step_sd = b->sigma[m] * (double)o / sqrt((double)(g > 1 ? g : 1));
    double dev = 0;
    int64_t hi = o, lo = o, vol = 0, quote = 0, tv = 0, tq = 0;
    for (int64_t k = 0; k < g; k++) {
        /* a walk around the straight line from o to c, pinned at both ends */
        double line = (double)o + (double)(c - o) * (g > 1 ? (double)k / (double)(g - 1) : 1);
        double step = step_sd * rng_normal(r);
        dev = 0.85 * dev + step;
        int64_t px = k == 0 ? o : k == g - 1 ? c : llround(line + dev);
        bool taker_buy = rng_uniform(r) < (step > 0 ? 0.65 : 0.35);
        for (int64_t f = 0; f < t->order_fills[k]; f++) {
            int64_t p = px + (taker_buy ? f : -f);
            if (p < 1) p = 1;
            int64_t q = llround(fill_mean * exp(1.1 * rng_normal(r) - 0.605));
            if (q < 1) q = 1;
            write_trade(ts, p, q, minute_ms + t->order_ms[k], !taker_buy);
            if (p > hi) hi = p;
            if (p < lo) lo = p;
            vol += q;
            quote += p * q;
            if (taker_buy) tv += q, tq += p * q;
        }
    }
    b->high[m] = hi, b->low[m] = lo, b->volume[m] = vol, b->quote[m] = quote;
    b->trades[m] = n, b->taker_vol[m] = tv, b->taker_quote[m] = tq;
}

/* --------------------------------------------------------------- the jobs */

typedef struct file_result {
    char name[64];
    int64_t rows, bytes;
} file_result;

/* One job: the kline file of one symbol and month, and the trade files of
** that month's trade days. */
typedef struct job {
    int sym;
    int first_day, num_days; /* day indexes into the range */
    file_result klines;
    file_result *trades;
    int num_trades;
} job;

typedef struct shared_state {
    const params *p;
    symbol_plan *plans;
    job *jobs;
    int num_jobs, next;
    pthread_mutex_t lock;
} shared_state;

static void date_of(int64_t day, char *buf, size_t size, bool with_day) {
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (with_day)
        snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
    else
        snprintf(buf, size, "%04d-%02d", y, m);
}

static void run_job(const params *p, const symbol_plan *plan, job *j) {
    const symbol_def *s = &SYMBOLS[j->sym];
    char path[PATH_CAP], date[16];
    date_of(p->start_day + j->first_day, date, sizeof date, false);
    snprintf(j->klines.name, sizeof j->klines.name, "%s-1m-%s.csv", s->name, date);
    snprintf(path, sizeof path, "%s/klines/%s", p->out, j->klines.name);
    out_file kf;
    out_open(&kf, path);
    day_bars *b = xmalloc(sizeof *b);
    trade_scratch scratch = {0};
    int64_t *counts = xmalloc(sizeof(int64_t) * DAY_MIN);
    j->trades = xmalloc(sizeof(file_result) * (size_t)j->num_days);
    for (int d = j->first_day; d < j->first_day + j->num_days; d++) {
        int64_t day = p->start_day + d, day_ms = day * DAY_MS;
        rng r;
        rng_seed(&r, p->seed, j->sym, day, ST_DAY_PATH);
        day_path(p, j->sym, plan, day, &r, b);
        if (is_trade_day(p, j->sym, d)) {
            file_result *fr = &j->trades[j->num_trades++];
            date_of(day, date, sizeof date, true);
            snprintf(fr->name, sizeof fr->name, "%s-trades-%s.csv", s->name, date);
            snprintf(path, sizeof path, "%s/trades/%s", p->out, fr->name);
            trade_sink ts = {.s = s, .next_id = plan->trade_id0 + (int64_t)d * p->trades_per_day};
            out_open(&ts.file, path);
            rng tr;
            rng_seed(&tr, p->seed, j->sym, day, ST_TRADES);
            allocate_counts(b->act, p->trades_per_day, counts);
            for (int m = 0; m < DAY_MIN; m++) {
                if (counts[m] > 0) {
                    minute_trades(&tr, &ts, &scratch, day_ms + m * MIN_MS, counts[m], b, m);
                } else { /* flat bar at the previous close */
                    b->high[m] = b->low[m] = b->close[m] = b->open[m];
                    if (m + 1 < DAY_MIN) b->open[m + 1] = b->open[m];
                    b->volume[m] = b->quote[m] = b->trades[m] = b->taker_vol[m] = 0;
                    b->taker_quote[m] = 0;
                }
            }
            out_close(&ts.file);
            fr->rows = ts.file.rows;
            fr->bytes = ts.file.bytes;
        } else {
            day_klines(j->sym, &r, b);
        }
        const uint8_t *miss = plan->missing + (size_t)d * DAY_MIN;
        for (int m = 0; m < DAY_MIN; m++)
            if (!miss[m]) write_kline(&kf, s, day_ms + m * MIN_MS, b, m);
    }
    out_close(&kf);
    j->klines.rows = kf.rows;
    j->klines.bytes = kf.bytes;
    free(scratch.order_fills), free(scratch.order_ms), free(scratch.gap);
    free(counts);
    free(b);
}

static void *worker(void *arg) {
    shared_state *st = arg;
    for (;;) {
        pthread_mutex_lock(&st->lock);
        int i = st->next < st->num_jobs ? st->next++ : -1;
        pthread_mutex_unlock(&st->lock);
        if (i < 0) return NULL;
        run_job(st->p, &st->plans[st->jobs[i].sym], &st->jobs[i]);
    }
}

/* Jobs in (symbol, month) order; a month is cut by the range's ends. */
static job *plan_jobs(const params *p, int *num_jobs) {
    job *jobs = xmalloc(sizeof(job) * (size_t)p->symbols * (size_t)(p->days / 28 + 2));
    int n = 0;
    for (int sym = 0; sym < p->symbols; sym++) {
        for (int d = 0; d < p->days;) {
            int y, m, dd;
            civil_from_days(p->start_day + d, &y, &m, &dd);
            int64_t next_month = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1);
            int len = (int)(next_month - (p->start_day + d));
            if (d + len > p->days) len = p->days - d;
            jobs[n++] = (job){.sym = sym, .first_day = d, .num_days = len};
            d += len;
        }
    }
    *num_jobs = n;
    return jobs;
}

/* -------------------------------------------------------------- manifest */

static void params_json(const params *p, char *buf, size_t size) {
    snprintf(buf, size,
             "{\"symbols\": %d, \"start\": \"%s\", \"days\": %d, \"trade_symbols\": %d, "
             "\"trade_days\": %d, \"trades_per_day\": %lld, \"seed\": %llu}",
             p->symbols, p->start, p->days, p->trade_symbols, p->trade_days,
             (long long)p->trades_per_day, (unsigned long long)p->seed);
}

static void json_file_list(FILE *f, const job *jobs, int n, bool trades) {
    bool first = true;
    for (int i = 0; i < n; i++) {
        int count = trades ? jobs[i].num_trades : 1;
        for (int k = 0; k < count; k++) {
            const file_result *r = trades ? &jobs[i].trades[k] : &jobs[i].klines;
            fprintf(f, "%s\n  {\"name\": \"%s\", \"rows\": %lld, \"bytes\": %lld}",
                    first ? "" : ",", r->name, (long long)r->rows, (long long)r->bytes);
            first = false;
        }
    }
}

static void write_manifest(const params *p, const symbol_plan *plans, const job *jobs, int n) {
    char path[PATH_CAP], tmp[PATH_CAP], pj[512];
    snprintf(path, sizeof path, "%s/manifest.json", p->out);
    snprintf(tmp, sizeof tmp, "%s/manifest.json.tmp", p->out);
    FILE *f = fopen(tmp, "w");
    if (!f) die("cannot create %s: %s", tmp, strerror(errno));
    params_json(p, pj, sizeof pj);
    int64_t krows = 0, trows = 0, missing = 0;
    for (int i = 0; i < n; i++) {
        krows += jobs[i].klines.rows;
        for (int k = 0; k < jobs[i].num_trades; k++) trows += jobs[i].trades[k].rows;
    }
    for (int s = 0; s < p->symbols; s++)
        for (size_t m = 0; m < (size_t)p->days * DAY_MIN; m++) missing += plans[s].missing[m];
    fprintf(f, "{\n\"generator\": \"dl-gen\",\n\"generator_version\": %d,\n\"params\": %s,\n",
            GEN_VERSION, pj);
    fprintf(f, "\"formats\": {\n \"klines\": \"data.binance.vision spot 1m klines, no header: "
               "open_time(ms),open,high,low,close,volume,close_time(ms),quote_asset_volume,"
               "number_of_trades,taker_buy_base_asset_volume,taker_buy_quote_asset_volume,"
               "ignore\",\n \"trades\": \"data.binance.vision spot trades, no header: "
               "trade_id,price,qty,quote_qty,time(ms),is_buyer_maker,is_best_match\"\n},\n");
    fprintf(f, "\"symbols\": [");
    for (int s = 0; s < p->symbols; s++)
        fprintf(f,
                "%s\n {\"symbol\": \"%s\", \"price_decimals\": %d, \"qty_decimals\": %d, "
                "\"anchor_price\": %g, \"trades\": %s}",
                s ? "," : "", SYMBOLS[s].name, SYMBOLS[s].price_dec, SYMBOLS[s].qty_dec,
                SYMBOLS[s].anchor, s < p->trade_symbols ? "true" : "false");
    fprintf(f, "\n],\n\"klines\": {\"rows\": %lld, \"missing_minutes\": %lld, \"files\": [",
            (long long)krows, (long long)missing);
    json_file_list(f, jobs, n, false);
    fprintf(f, "\n]},\n\"trades\": {\"rows\": %lld, \"files\": [", (long long)trows);
    json_file_list(f, jobs, n, true);
    fprintf(f, "\n]},\n\"gaps_format\": \"[first_missing_open_time_ms, "
               "last_missing_open_time_ms, minutes] (inclusive)\",\n\"gaps\": {");
    for (int s = 0; s < p->symbols; s++) {
        fprintf(f, "%s\n \"%s\": [", s ? "," : "", SYMBOLS[s].name);
        const uint8_t *miss = plans[s].missing;
        int64_t total = (int64_t)p->days * DAY_MIN, first = 1;
        for (int64_t m = 0; m < total; m++) {
            if (!miss[m]) continue;
            int64_t e = m;
            while (e + 1 < total && miss[e + 1]) e++;
            int64_t t0 = p->start_day * DAY_MS + m * MIN_MS;
            fprintf(f, "%s[%lld, %lld, %lld]", first ? "" : ", ", (long long)t0,
                    (long long)(t0 + (e - m) * MIN_MS), (long long)(e - m + 1));
            first = 0;
            m = e;
        }
        fprintf(f, "]");
    }
    fprintf(f, "\n}\n}\n");
    if (fclose(f) != 0) die("cannot write %s", tmp);
    if (rename(tmp, path) != 0) die("cannot rename %s: %s", tmp, strerror(errno));
}

/* True when DIR/manifest.json was written for the same parameters and every
** file it lists still has its recorded size. */
static bool up_to_date(const params *p) {
    char path[PATH_CAP], line[1024], pj[512], want[600];
    snprintf(path, sizeof path, "%s/manifest.json", p->out);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    params_json(p, pj, sizeof pj);
    snprintf(want, sizeof want, "\"params\": %s,\n", pj);
    bool params_seen = false, ok = true, version_seen = false;
    char vline[64];
    snprintf(vline, sizeof vline, "\"generator_version\": %d,\n", GEN_VERSION);
    while (ok && fgets(line, sizeof line, f)) {
        char name[256], dir[16];
        long long rows, bytes;
        if (strcmp(line, want) == 0) params_seen = true;
        if (strcmp(line, vline) == 0) version_seen = true;
        if (sscanf(line, " {\"name\": \"%255[^\"]\", \"rows\": %lld, \"bytes\": %lld}", name, &rows,
                   &bytes) != 3)
            continue;
        snprintf(dir, sizeof dir, "%s", strstr(name, "-trades-") ? "trades" : "klines");
        char fp[PATH_CAP];
        struct stat st;
        snprintf(fp, sizeof fp, "%s/%s/%s", p->out, dir, name);
        ok = stat(fp, &st) == 0 && st.st_size == bytes;
    }
    fclose(f);
    return ok && params_seen && version_seen;
}

/* ------------------------------------------------------------------- main */

/* Empties DIR/sub of earlier CSV output (only *.csv files) or creates it. */
static void reset_csv_dir(const char *out, const char *sub) {
    char dir[PATH_CAP], path[PATH_CAP * 2];
    snprintf(dir, sizeof dir, "%s/%s", out, sub);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 5 || strcmp(e->d_name + n - 4, ".csv") != 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0) die("cannot remove %s: %s", path, strerror(errno));
        }
        closedir(d);
    } else if (mkdir(dir, 0755) != 0) {
        die("cannot create %s: %s", dir, strerror(errno));
    }
}

static const char USAGE[] =
    "usage: dl-gen --out DIR [--small] [--symbols N] [--start YYYY-MM-DD] [--days D]\n"
    "              [--trade-symbols K] [--trade-days T] [--trades-per-day M] [--seed S]\n"
    "              [--jobs J] [--force]\n"
    "Writes deterministic Binance-format CSV: DIR/klines/{SYM}-1m-YYYY-MM.csv (1m spot\n"
    "klines), DIR/trades/{SYM}-trades-YYYY-MM-DD.csv (spot trades) and DIR/manifest.json.\n"
    "Defaults: 20 symbols x 730 days from 2023-01-01, trades for 2 symbols x 7 days x\n"
    "1500000 a day, seed 42. --small: 3 symbols x 60 days from 2023-12-01, trades for\n"
    "1 symbol x 2 days x 200000 (explicit options override). --jobs: worker threads\n"
    "(default: all cores; the output does not depend on it). Does nothing when the\n"
    "manifest already describes the same parameters and intact files, unless --force.\n";

static int64_t int_arg(const char *opt, const char *v, int64_t lo, int64_t hi) {
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || *end || x < lo || x > hi)
        die("%s wants an integer in %lld..%lld (got '%s')", opt, (long long)lo, (long long)hi,
            v ? v : "");
    return x;
}

static void parse_args(int argc, char **argv, params *p) {
    bool small = false;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--small") == 0) small = true;
    *p = (params){.symbols = small ? 3 : 20,
                  .days = small ? 60 : 730,
                  .trade_symbols = small ? 1 : 2,
                  .trade_days = small ? 2 : 7,
                  .trades_per_day = small ? 200000 : 1500000,
                  .seed = 42,
                  .jobs = (int)sysconf(_SC_NPROCESSORS_ONLN)};
    snprintf(p->start, sizeof p->start, "%s", small ? "2023-12-01" : "2023-01-01");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--small") == 0) continue;
        if (strcmp(a, "--force") == 0) {
            p->force = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        i++;
        if (strcmp(a, "--out") == 0 && v)
            p->out = v;
        else if (strcmp(a, "--symbols") == 0)
            p->symbols = (int)int_arg(a, v, 1, NUM_SYMBOLS);
        else if (strcmp(a, "--start") == 0 && v && strlen(v) < sizeof p->start)
            snprintf(p->start, sizeof p->start, "%s", v);
        else if (strcmp(a, "--days") == 0)
            p->days = (int)int_arg(a, v, 1, MAX_DAYS);
        else if (strcmp(a, "--trade-symbols") == 0)
            p->trade_symbols = (int)int_arg(a, v, 0, NUM_SYMBOLS);
        else if (strcmp(a, "--trade-days") == 0)
            p->trade_days = (int)int_arg(a, v, 0, MAX_DAYS);
        else if (strcmp(a, "--trades-per-day") == 0)
            p->trades_per_day = int_arg(a, v, 1, 50000000);
        else if (strcmp(a, "--seed") == 0)
            p->seed = (uint64_t)int_arg(a, v, 0, INT64_MAX);
        else if (strcmp(a, "--jobs") == 0)
            p->jobs = (int)int_arg(a, v, 1, 256);
        else {
            fprintf(stderr, "dl-gen: unknown or incomplete option '%s'\n%s", a, USAGE);
            exit(2);
        }
    }
    if (!p->out) {
        fprintf(stderr, "dl-gen: --out DIR is required\n%s", USAGE);
        exit(2);
    }
    if (!parse_date(p->start, &p->start_day)) die("--start wants a date YYYY-MM-DD from 2010 on");
    if (p->trade_symbols > p->symbols) p->trade_symbols = p->symbols;
    if (p->trade_days > p->days) p->trade_days = p->days;
    if (p->jobs < 1) p->jobs = 1;
}

int main(int argc, char **argv) {
    params p;
    parse_args(argc, argv, &p);
    if (mkdir(p.out, 0755) != 0 && errno != EEXIST)
        die("cannot create %s: %s", p.out, strerror(errno));
    if (!p.force && up_to_date(&p)) {
        fprintf(stderr, "dl-gen: %s is up to date (--force regenerates)\n", p.out);
        return 0;
    }
    char manifest[PATH_CAP];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", p.out);
    unlink(manifest); /* an interrupted run must not look complete */
    reset_csv_dir(p.out, "klines");
    reset_csv_dir(p.out, "trades");

    symbol_plan *plans = xmalloc(sizeof *plans * (size_t)p.symbols);
    for (int s = 0; s < p.symbols; s++) {
        build_skeleton(&p, s, &plans[s]);
        build_missing(&p, s, &plans[s]);
        plans[s].trade_id0 = 100000000LL * (s + 1);
    }
    shared_state st = {.p = &p, .plans = plans};
    st.jobs = plan_jobs(&p, &st.num_jobs);
    pthread_mutex_init(&st.lock, NULL);
    int nthreads = p.jobs < st.num_jobs ? p.jobs : st.num_jobs;
    pthread_t *th = xmalloc(sizeof *th * (size_t)nthreads);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, &st) != 0) die("cannot start a thread");
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&st.lock);
    write_manifest(&p, plans, st.jobs, st.num_jobs);

    int64_t krows = 0, trows = 0;
    for (int i = 0; i < st.num_jobs; i++) {
        krows += st.jobs[i].klines.rows;
        for (int k = 0; k < st.jobs[i].num_trades; k++) trows += st.jobs[i].trades[k].rows;
        free(st.jobs[i].trades);
    }
    fprintf(stderr, "dl-gen: %s: %lld kline rows, %lld trade rows\n", p.out, (long long)krows,
            (long long)trows);
    for (int s = 0; s < p.symbols; s++) {
        free(plans[s].log_open);
        free(plans[s].day_vol);
        free(plans[s].missing);
    }
    free(plans);
    free(st.jobs);
    free(th);
    return 0;
}
