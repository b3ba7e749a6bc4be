/*
** dl_lake_ingest.h -- ingesting CSV files (Binance archives or generic
** CSV) into the lake in one transaction.  Used by `dl ingest` and
** `dl-bench` (bench/runner).  Internal to the library (it depends on src/ingest).
*/
#ifndef DL_LAKE_INGEST_H
#define DL_LAKE_INGEST_H

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
} dl_binance_file;

/* Parses {SYMBOL}-{INTERVAL}-{YYYY-MM[-DD]}.zip|.csv, {SYMBOL}-trades-...,
** {SYMBOL}-aggTrades-... (directories are ignored). */
int dl_binance_parse_name(const char *path, dl_binance_file *out, dl_error *err);
/* Verifies path against path.CHECKSUM when that file exists (*checked set). */
int dl_binance_verify_checksum(const char *path, bool *checked, dl_error *err);

typedef void (*dl_ingest_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct dl_ingest_request {
    const char *const *files;
    int num_files;
    bool binance;         /* true: Binance names; false: generic CSV */
    const char *exchange; /* binance: default BINANCE */
    const char *market;   /* binance: default SPOT */
    const char *dataset;  /* generic: the target dataset */
    dl_csv_options csv;   /* kind set per file for binance; skip_bad honoured */
    dl_lake_write_options write;
    dl_ingest_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} dl_ingest_request;

typedef struct dl_ingest_result {
    dl_lake_write_result write;
    int64_t rows_read, rows_skipped;
    int checksums_verified;
    char first_skip_reason[512];
} dl_ingest_result;

/* Reads every file and commits all of them at once: any error (malformed
** row without skip_bad, checksum mismatch, schema conflict) writes nothing. */
int dl_lake_ingest(dl_lake *lake, const dl_ingest_request *req, dl_ingest_result *out,
                   dl_error *err);

#endif
