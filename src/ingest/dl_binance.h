/*
** dl_binance.h -- what a data.binance.vision file says about itself: the
** dataset and CSV kind its name implies, the period of rows it may hold,
** and its published .CHECKSUM.  Internal to src/ingest.
*/
#ifndef DL_BINANCE_H
#define DL_BINANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"
#include "ingest/dl_csv.h"

/* What a data.binance.vision file name says about its content. */
typedef struct dl_binance_file {
    char symbol[DL_LAKE_COMPONENT_MAX + 1];
    dl_csv_kind kind;                       /* klines, trades or aggtrades */
    char period[DL_LAKE_COMPONENT_MAX + 1]; /* kline interval, "trades", "aggtrades" */
    char type[16];                          /* "raw" or "ticks" */
    char date[11];                          /* "YYYY-MM-DD" (daily) or "YYYY-MM" (monthly) */
    /* Rows of the file must have ts in [ts_min, ts_max) (us): the archive's
    ** day or month; for klines the window starts one interval earlier (less
    ** 1 us), so a kline overlapping the period is accepted. */
    int64_t ts_min, ts_max;
    char range_label[48]; /* "the archive's day 2024-01-05" */
} dl_binance_file;

/* Parses {SYMBOL}-{INTERVAL}-{YYYY-MM[-DD]}.zip|.csv, {SYMBOL}-trades-...,
** {SYMBOL}-aggTrades-... (directories are ignored). */
int dl_binance_parse_name(const char *path, dl_binance_file *out, dl_error *err);
/* Verifies path against path.CHECKSUM when that file exists (*checked set). */
int dl_binance_verify_checksum(const char *path, bool *checked, dl_error *err);

#endif
