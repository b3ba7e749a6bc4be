/*
** dl_csv.h -- streaming CSV readers for exchange data: Binance kline,
** trade and aggTrade archives (as published on data.binance.vision, .csv or
** .zip) and generic CSV with a header and a column mapping.
**
** Input is hostile: a malformed row is reported as "FILE:LINE: reason"
** (DL_ECORRUPT); with skip_bad the row is counted and skipped instead.
** Memory is bounded by the batch size, whatever the input size.
**
** Lake conventions applied here: the time column is named `ts` and is
** TIMESTAMP(us, UTC).
**
** Time format "auto" (the default, every kind): the first value of a time
** column fixes its format for the whole file -- ISO-8601 text (it starts
** with YYYY-), or the epoch unit s, ms, us or ns in which the integer falls
** between 1990-01-01 and 2200-01-01 UTC.  Every later value must be of the
** same unit (Binance moved from ms to us in 2025, file by file; a file
** mixing them is refused).  A value in no unit's band (a 1970 or year-9999
** date, a negative time) is refused with the file, line and value; an
** explicit unit reads any value.
**
** Header rows: generic CSV must start with one (the first non-empty row;
** a first row that is data is refused).  Binance archives may or may not
** have one: the first row is a header only if every field is a column name
** (identifier, optionally quoted); a row that parses as data never is.
**
** Output schemas (column order fixed):
**   klines:    ts, open, high, low, close, volume, quote_volume,
**              trade_count (int64), taker_buy_volume, taker_buy_quote_volume
**              (close_time and ignore are dropped)
**   trades:    ts, trade_id (int64), price, qty, quote_qty,
**              is_buyer_maker (bool)            (is_best_match dropped; files
**              without it, as USD-M futures publish, are read too: the first
**              row decides, all rows must agree -- also for aggTrades)
**   aggtrades: ts, agg_trade_id, price, qty, first_trade_id, last_trade_id,
**              is_buyer_maker (bool)
**   generic:   ts plus the mapped columns, types as configured.
*/
#ifndef DL_CSV_H
#define DL_CSV_H

#include <stdbool.h>
#include <stdint.h>

#include "datalake.h"

typedef enum dl_csv_kind {
    DL_CSV_BINANCE_KLINES = 0,
    DL_CSV_BINANCE_TRADES,
    DL_CSV_BINANCE_AGGTRADES,
    DL_CSV_GENERIC
} dl_csv_kind;

/* A generic CSV column to keep (the public dl_ingest_column). */
typedef dl_ingest_column dl_csv_column;

typedef struct dl_csv_options {
    dl_csv_kind kind;
    bool skip_bad;         /* report and skip malformed rows instead of failing */
    int64_t batch_rows;    /* rows per batch (default 65536) */
    const char *ts_format; /* "auto" (default, see above), "s", "ms", "us", "ns"
                              (epoch integers) or "iso" (ISO-8601 text) */
    /* When ts_min < ts_max, a row whose ts (us) is outside [ts_min, ts_max)
    ** ends the read with DL_ECORRUPT, even with skip_bad: the archive does
    ** not hold what its name says.  ts_range_label names the range in the
    ** message ("the archive's day 2024-01-05"); copied. */
    int64_t ts_min, ts_max;
    const char *ts_range_label;
    uint32_t zip_max_ratio; /* zip members: 0 = DL_ZIP_DEFAULT_MAX_RATIO */
    /* generic only: */
    char delimiter;               /* default ',' */
    const char *ts_column;        /* header name of the time column (required) */
    const dl_csv_column *columns; /* other columns to keep (NULL = all, as double
                                     when numeric else string) */
    int num_columns;
} dl_csv_options;

void dl_csv_options_default(dl_csv_options *opts, dl_csv_kind kind);

typedef struct dl_csv_reader dl_csv_reader;

/* Opens a .csv or a .zip holding one .csv member (streamed, not extracted to
** disk).  The path is kept for error messages. */
int dl_csv_open(const char *path, const dl_csv_options *opts, dl_csv_reader **out, dl_error *err);
/* Same over a caller-owned buffer (tests, fuzzing); name used in messages. */
int dl_csv_open_memory(const char *data, size_t size, const char *name, const dl_csv_options *opts,
                       dl_csv_reader **out, dl_error *err);
/* The output schema (borrowed). */
const dl_schema *dl_csv_schema(const dl_csv_reader *r);
/* Clears `batch` (which must have been dl_table_init'ed with dl_csv_schema)
** and fills it with up to batch_rows rows.  At end of input returns DL_OK
** with batch->num_rows == 0. */
int dl_csv_next_batch(dl_csv_reader *r, dl_table *batch, dl_error *err);
/* Rows read / skipped so far (skip_bad), and the first skipped row's message. */
int64_t dl_csv_rows_read(const dl_csv_reader *r);
int64_t dl_csv_rows_skipped(const dl_csv_reader *r);
const char *dl_csv_first_skip_reason(const dl_csv_reader *r);
/* Bytes of input consumed so far and the total (for progress bars; total
** is 0 when unknown). */
void dl_csv_progress(const dl_csv_reader *r, uint64_t *done, uint64_t *total);
void dl_csv_close(dl_csv_reader *r);

#endif /* DL_CSV_H */
