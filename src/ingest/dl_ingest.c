/*
** dl_ingest.c -- dl_ingest_files (datalake.h): CSV files into the lake in
** one transaction.  Derives each Binance archive's dataset and period from
** its published name, verifies .CHECKSUM siblings, streams batches from the
** CSV readers into one write transaction, and commits only when every file
** was read cleanly.  Shared by the CLI, the benchmark and embedders.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingest/dl_binance.h"
#include "ingest/dl_csv.h"
#include "util/dl_internal.h"

void dl_ingest_options_default(dl_ingest_options *opts, dl_ingest_format format) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->format = format;
    opts->ts_format = "auto";
    opts->delimiter = ',';
    dl_lake_write_options_default(&opts->write);
    opts->write.command = "ingest";
}

/* What each input file becomes: its dataset and how to read it. */
typedef struct ingest_file {
    char dataset[DL_DATASET_NAME_MAX];
    dl_csv_options csv;
    dl_binance_file binance; /* DL_INGEST_BINANCE only */
    uint64_t bytes;
} ingest_file;

static int plan_file(const dl_ingest_options *opts, const char *path, ingest_file *f,
                     dl_error *err) {
    dl_dataset_id id;
    int rc;
    dl_csv_options_default(&f->csv, DL_CSV_GENERIC);
    f->csv.skip_bad = opts->skip_bad;
    f->csv.ts_format = opts->ts_format;
    f->csv.zip_max_ratio = opts->zip_max_ratio;
    if (opts->format == DL_INGEST_BINANCE) {
        rc = dl_binance_parse_name(path, &f->binance, err);
        if (rc != DL_OK) return rc;
        rc = dl_dataset_id_make(opts->exchange ? opts->exchange : "BINANCE",
                                opts->market ? opts->market : "SPOT", f->binance.symbol,
                                f->binance.type, f->binance.period, &id, err);
        f->csv.kind = f->binance.kind;
        f->csv.ts_min = f->binance.ts_min;
        f->csv.ts_max = f->binance.ts_max;
        f->csv.ts_range_label = f->binance.range_label;
    } else {
        rc = dl_dataset_parse(opts->dataset, &id, err);
        f->csv.delimiter = opts->delimiter;
        f->csv.ts_column = opts->ts_column;
        f->csv.columns = opts->columns;
        f->csv.num_columns = opts->num_columns;
    }
    if (rc != DL_OK) return rc;
    dl_dataset_format(&id, f->dataset, sizeof f->dataset);
    /* Only regular files: a FIFO would block the checksum and the reader. */
    struct stat st;
    if (stat(path, &st) != 0)
        return dl_error_set(err, errno == ENOENT ? DL_ENOTFOUND : DL_EIO, "%s: %s", path,
                            errno == ENOENT ? "no such file" : strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dl_error_set(err, DL_EINVAL, "%s: not a regular file (%s)", path,
                            S_ISDIR(st.st_mode) ? "a directory" : "a pipe, socket or device");
    f->bytes = (uint64_t)st.st_size;
    return DL_OK;
}

static int check_arguments(dl_lake *lake, const char *const *files, int num_files,
                           const dl_ingest_options *opts, dl_ingest_result *out, dl_error *err) {
    if (!lake || !opts || !out || (!files && num_files > 0))
        return dl_error_set(err, DL_EINVAL,
                            "dl_ingest_files: lake, files, opts and out are required");
    if (num_files <= 0) return dl_error_set(err, DL_EINVAL, "no input files");
    if (opts->format != DL_INGEST_BINANCE && opts->format != DL_INGEST_CSV)
        return dl_error_set(err, DL_EINVAL, "dl_ingest_files: unknown format %d",
                            (int)opts->format);
    if (opts->format == DL_INGEST_CSV && (!opts->dataset || !opts->ts_column))
        return dl_error_set(err, DL_EINVAL,
                            "ingesting generic CSV needs a target dataset and a time column");
    for (int i = 0; i < num_files; i++)
        if (!files[i]) return dl_error_set(err, DL_EINVAL, "dl_ingest_files: file %d is NULL", i);
    return DL_OK;
}

/* Streams one file's batches into the transaction. */
static int ingest_one(dl_lake_txn *txn, const char *path, const ingest_file *f,
                      const dl_ingest_options *opts, uint64_t done_before, uint64_t total,
                      dl_ingest_result *out, dl_error *err) {
    int rc = DL_OK;
    dl_csv_reader *reader = NULL;
    dl_table batch = {0};
    bool batch_init = false;
    DL_TRY(dl_csv_open(path, &f->csv, &reader, err));
    DL_TRY(dl_table_init(&batch, dl_csv_schema(reader), err));
    batch_init = true;
    for (;;) {
        DL_TRY(dl_csv_next_batch(reader, &batch, err));
        if (batch.num_rows == 0) break;
        DL_TRY(dl_lake_txn_append(txn, f->dataset, &batch, err));
        if (opts->progress) {
            uint64_t done = 0, size = 0;
            dl_csv_progress(reader, &done, &size);
            opts->progress(opts->progress_ctx, done_before + done, total);
        }
    }
    out->rows_read += dl_csv_rows_read(reader);
    out->rows_skipped += dl_csv_rows_skipped(reader);
    if (dl_csv_rows_skipped(reader) > 0 && !out->first_skip_reason[0] &&
        dl_csv_first_skip_reason(reader))
        snprintf(out->first_skip_reason, sizeof out->first_skip_reason, "%s",
                 dl_csv_first_skip_reason(reader));
cleanup:
    if (batch_init) dl_table_free(&batch);
    dl_csv_close(reader);
    return rc;
}

int dl_ingest_files(dl_lake *lake, const char *const *files, int num_files,
                    const dl_ingest_options *opts, dl_ingest_result *out, dl_error *err) {
    int rc = check_arguments(lake, files, num_files, opts, out, err);
    if (rc != DL_OK) return rc;
    ingest_file *plan = NULL;
    const char **datasets = NULL;
    dl_lake_txn *txn = NULL;
    uint64_t total_bytes = 0, done_bytes = 0;
    memset(out, 0, sizeof *out);
    plan = calloc((size_t)num_files, sizeof *plan);
    datasets = calloc((size_t)num_files, sizeof *datasets);
    if (!plan || !datasets) DL_FAIL(err, DL_ENOMEM, "out of memory");
    int num_datasets = 0;
    for (int i = 0; i < num_files; i++) {
        DL_TRY(plan_file(opts, files[i], &plan[i], err));
        total_bytes += plan[i].bytes;
        bool seen = false;
        for (int j = 0; j < num_datasets && !seen; j++)
            seen = strcmp(datasets[j], plan[i].dataset) == 0;
        if (!seen) datasets[num_datasets++] = plan[i].dataset;
    }
    /* Checksums first: a damaged download refuses the whole ingest. */
    for (int i = 0; i < num_files && opts->format == DL_INGEST_BINANCE; i++) {
        bool checked = false;
        DL_TRY(dl_binance_verify_checksum(files[i], &checked, err));
        out->checksums_verified += checked;
    }
    DL_TRY(dl_lake_txn_begin(lake, datasets, num_datasets, &opts->write, &txn, err));
    for (int i = 0; i < num_files; i++) {
        DL_TRY(ingest_one(txn, files[i], &plan[i], opts, done_bytes, total_bytes, out, err));
        done_bytes += plan[i].bytes;
    }
    rc = dl_lake_txn_commit(txn, &out->write, err);
    txn = NULL;
    if (rc == DL_OK && opts->progress) opts->progress(opts->progress_ctx, total_bytes, total_bytes);
cleanup:
    if (txn) dl_lake_txn_abort(txn);
    if (rc != DL_OK && out) memset(out, 0, sizeof *out);
    free(plan);
    free(datasets);
    return rc;
}
