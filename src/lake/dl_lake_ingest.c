/*
** dl_lake_ingest.c -- CSV files into the lake: derives the dataset of each
** Binance archive from its published name, verifies .CHECKSUM siblings,
** streams batches from the CSV readers into one write transaction, and
** commits only when every file was read cleanly.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lake/dl_fsio.h"
#include "lake/dl_lake_ingest.h"
#include "util/dl_internal.h"

static const char *const kline_intervals[] = {"1s", "1m", "3m", "5m",  "15m", "30m", "1h", "2h",
                                              "4h", "6h", "8h", "12h", "1d",  "3d",  "1w", "1mo"};

static bool is_date_suffix(const char *s) {
    /* YYYY-MM or YYYY-MM-DD */
    size_t n = strlen(s);
    if (n != 7 && n != 10) return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i])) return false;
    }
    return true;
}

int dl_binance_parse_name(const char *path, dl_binance_file *out, dl_error *err) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[256];
    size_t n = strlen(base);
    if (n >= sizeof name) return dl_error_set(err, DL_EINVAL, "%s: file name too long", path);
    memcpy(name, base, n + 1);
    if (n > 4 && (strcmp(name + n - 4, ".zip") == 0 || strcmp(name + n - 4, ".csv") == 0))
        name[n - 4] = 0;
    else
        return dl_error_set(err, DL_EINVAL,
                            "%s: expected a .zip or .csv file as published on "
                            "data.binance.vision",
                            path);
    memset(out, 0, sizeof *out);
    char *dash1 = strchr(name, '-');
    char *dash2 = dash1 ? strchr(dash1 + 1, '-') : NULL;
    if (!dash1 || !dash2 || !is_date_suffix(dash2 + 1) || dash1 == name ||
        (size_t)(dash1 - name) > DL_LAKE_COMPONENT_MAX)
        return dl_error_set(
            err, DL_EINVAL,
            "%s: cannot derive the dataset from the name; expected "
            "SYMBOL-INTERVAL-YYYY-MM[-DD], SYMBOL-trades-... or SYMBOL-aggTrades-...",
            path);
    *dash1 = 0;
    *dash2 = 0;
    memcpy(out->symbol, name, (size_t)(dash1 - name) + 1); /* length checked above */
    const char *what = dash1 + 1;
    if (strcmp(what, "trades") == 0) {
        out->kind = DL_CSV_BINANCE_TRADES;
        snprintf(out->period, sizeof out->period, "trades");
        snprintf(out->type, sizeof out->type, "ticks");
        return DL_OK;
    }
    if (strcmp(what, "aggTrades") == 0) {
        out->kind = DL_CSV_BINANCE_AGGTRADES;
        snprintf(out->period, sizeof out->period, "aggtrades");
        snprintf(out->type, sizeof out->type, "ticks");
        return DL_OK;
    }
    for (size_t i = 0; i < sizeof kline_intervals / sizeof kline_intervals[0]; i++)
        if (strcmp(what, kline_intervals[i]) == 0) {
            out->kind = DL_CSV_BINANCE_KLINES;
            snprintf(out->period, sizeof out->period, "%s", kline_intervals[i]);
            snprintf(out->type, sizeof out->type, "raw");
            return DL_OK;
        }
    return dl_error_set(err, DL_EINVAL, "%s: \"%s\" is not a kline interval, trades or aggTrades",
                        path, what);
}

int dl_binance_verify_checksum(const char *path, bool *checked, dl_error *err) {
    char sum_path[4096], line[512], have[65];
    *checked = false;
    int n = snprintf(sum_path, sizeof sum_path, "%s.CHECKSUM", path);
    if (n < 0 || (size_t)n >= sizeof sum_path || !dl_fs_exists(sum_path)) return DL_OK;
    FILE *f = fopen(sum_path, "r");
    if (!f) return dl_error_set(err, DL_EIO, "cannot read %s", sum_path);
    size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = 0;
    size_t hex = 0;
    while (hex < got && isxdigit((unsigned char)line[hex])) hex++;
    if (hex != 64)
        return dl_error_set(err, DL_ECORRUPT, "%s: expected a SHA-256 (64 hex digits) first",
                            sum_path);
    int rc = dl_sha256_file(path, have, err);
    if (rc != DL_OK) return rc;
    for (int i = 0; i < 64; i++) line[i] = (char)tolower((unsigned char)line[i]);
    if (strncmp(line, have, 64) != 0)
        return dl_error_set(err, DL_ECORRUPT,
                            "%s: SHA-256 %.16s... does not match %s (%.16s...); the download is "
                            "damaged, nothing was ingested",
                            path, have, sum_path, line);
    *checked = true;
    return DL_OK;
}

/* The dataset each file goes to, in request order. */
static int dataset_of(const dl_ingest_request *req, int i, char *name, size_t size,
                      dl_csv_kind *kind, dl_error *err) {
    dl_dataset_id id;
    int rc;
    if (req->binance) {
        dl_binance_file bf;
        rc = dl_binance_parse_name(req->files[i], &bf, err);
        if (rc != DL_OK) return rc; /* bf is not filled in */
        rc = dl_dataset_id_make(req->exchange ? req->exchange : "BINANCE",
                                req->market ? req->market : "SPOT", bf.symbol, bf.type, bf.period,
                                &id, err);
        *kind = bf.kind;
    } else {
        rc = dl_dataset_parse(req->dataset, &id, err);
        *kind = DL_CSV_GENERIC;
    }
    if (rc == DL_OK) dl_dataset_format(&id, name, size);
    return rc;
}

int dl_lake_ingest(dl_lake *lake, const dl_ingest_request *req, dl_ingest_result *out,
                   dl_error *err) {
    int rc = DL_OK;
    char(*names)[DL_DATASET_NAME_MAX] = NULL;
    const char **unique = NULL;
    dl_csv_kind *kinds = NULL;
    dl_lake_txn *txn = NULL;
    dl_csv_reader *reader = NULL;
    dl_table batch = {0};
    bool batch_init = false;
    uint64_t total_bytes = 0, done_bytes = 0;
    memset(out, 0, sizeof *out);
    if (req->num_files <= 0) return dl_error_set(err, DL_EINVAL, "no input files");
    names = calloc((size_t)req->num_files, sizeof *names);
    unique = calloc((size_t)req->num_files, sizeof *unique);
    kinds = calloc((size_t)req->num_files, sizeof *kinds);
    if (!names || !unique || !kinds) DL_FAIL(err, DL_ENOMEM, "out of memory");
    int num_unique = 0;
    for (int i = 0; i < req->num_files; i++) {
        DL_TRY(dataset_of(req, i, names[i], sizeof names[i], &kinds[i], err));
        int64_t size = dl_fs_size(req->files[i]);
        if (size < 0) DL_FAIL(err, DL_ENOTFOUND, "%s: no such file", req->files[i]);
        total_bytes += (uint64_t)size;
        bool seen = false;
        for (int j = 0; j < num_unique && !seen; j++) seen = strcmp(unique[j], names[i]) == 0;
        if (!seen) unique[num_unique++] = names[i];
    }
    /* Checksums first: a damaged download refuses the whole ingest. */
    for (int i = 0; i < req->num_files && req->binance; i++) {
        bool checked = false;
        DL_TRY(dl_binance_verify_checksum(req->files[i], &checked, err));
        out->checksums_verified += checked;
    }
    DL_TRY(dl_lake_txn_begin(lake, unique, num_unique, &req->write, &txn, err));
    for (int i = 0; i < req->num_files; i++) {
        dl_csv_options opts = req->csv;
        opts.kind = kinds[i];
        DL_TRY(dl_csv_open(req->files[i], &opts, &reader, err));
        DL_TRY(dl_table_init(&batch, dl_csv_schema(reader), err));
        batch_init = true;
        for (;;) {
            DL_TRY(dl_csv_next_batch(reader, &batch, err));
            if (batch.num_rows == 0) break;
            DL_TRY(dl_lake_txn_append(txn, names[i], &batch, err));
            if (req->progress) {
                uint64_t d = 0, t = 0;
                dl_csv_progress(reader, &d, &t);
                req->progress(req->progress_ctx, done_bytes + d, total_bytes);
            }
        }
        out->rows_read += dl_csv_rows_read(reader);
        out->rows_skipped += dl_csv_rows_skipped(reader);
        if (dl_csv_rows_skipped(reader) > 0 && !out->first_skip_reason[0] &&
            dl_csv_first_skip_reason(reader))
            snprintf(out->first_skip_reason, sizeof out->first_skip_reason, "%s",
                     dl_csv_first_skip_reason(reader));
        done_bytes += (uint64_t)dl_fs_size(req->files[i]);
        dl_table_free(&batch);
        batch_init = false;
        dl_csv_close(reader);
        reader = NULL;
    }
    rc = dl_lake_txn_commit(txn, &out->write, err);
    txn = NULL;
    if (req->progress) req->progress(req->progress_ctx, total_bytes, total_bytes);
cleanup:
    if (batch_init) dl_table_free(&batch);
    if (reader) dl_csv_close(reader);
    if (txn) dl_lake_txn_abort(txn);
    free(names);
    free(unique);
    free(kinds);
    return rc;
}
