/*
** test_ingest.c -- the ingest layer above the CSV readers: Binance file
** names (dataset, kind, period and the row range they promise) and
** dl_ingest_files, the public all-or-nothing ingest (argument checks,
** progress callback, refusal of rows outside an archive's period with the
** lake left unchanged, .CHECKSUM verification).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dl_test.h"
#include "ingest/dl_binance.h"

#define US_PER_DAY     INT64_C(86400000000)
#define DAY_2024_01_05 19727 /* days since 1970-01-01 */

DL_TEST(binance_names_and_periods) {
    dl_error err = {0};
    dl_binance_file f;
    CHECK_OK(dl_binance_parse_name("/data/BTCUSDT-1m-2024-01-05.zip", &f, &err), &err);
    CHECK_EQ_STR(f.symbol, "BTCUSDT");
    CHECK_EQ_STR(f.period, "1m");
    CHECK_EQ_STR(f.type, "raw");
    CHECK_EQ_INT(f.kind, DL_CSV_BINANCE_KLINES);
    CHECK_EQ_INT(f.ts_min, DAY_2024_01_05 * US_PER_DAY);
    CHECK_EQ_INT(f.ts_max, (DAY_2024_01_05 + 1) * US_PER_DAY);
    CHECK_EQ_STR(f.range_label, "the archive's day 2024-01-05");

    CHECK_OK(dl_binance_parse_name("ETHUSDT-trades-2024-02.csv", &f, &err), &err);
    CHECK_EQ_INT(f.kind, DL_CSV_BINANCE_TRADES);
    CHECK_EQ_STR(f.period, "trades");
    CHECK_EQ_STR(f.type, "ticks");
    CHECK_EQ_INT(f.ts_max - f.ts_min, 29 * US_PER_DAY); /* leap February */
    CHECK_EQ_STR(f.range_label, "the archive's month 2024-02");

    CHECK_OK(dl_binance_parse_name("BNBUSDT-aggTrades-2023-12-31.zip", &f, &err), &err);
    CHECK_EQ_INT(f.kind, DL_CSV_BINANCE_AGGTRADES);
    CHECK_EQ_STR(f.period, "aggtrades");

    /* klines longer than a day may open before the period */
    CHECK_OK(dl_binance_parse_name("BTCUSDT-1w-2024-02.zip", &f, &err), &err);
    CHECK_EQ_INT(f.ts_max - f.ts_min, 29 * US_PER_DAY + 7 * US_PER_DAY - 1);

    const char *bad[] = {"BTCUSDT-1m-2024-13.zip",   "BTCUSDT-1m-2023-02-29.zip",
                         "BTCUSDT-1m-2024-1-05.zip", "BTCUSDT-1m-2024-01-05.gz",
                         "-1m-2024-01-05.zip",       "BTCUSDT-2024-01-05.zip",
                         "BTCUSDT-7m-2024-01.zip",   "BTCUSDT-1m-2024-01-05-x.zip"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(dl_binance_parse_name(bad[i], &f, &err), DL_EINVAL);
        CHECK(strstr(err.message, bad[i]) == err.message);
    }
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

typedef struct progress_log {
    int calls;
    uint64_t last_done, total;
} progress_log;

static void on_progress(void *ctx, uint64_t done, uint64_t total) {
    progress_log *p = ctx;
    if (done < p->last_done) p->calls = -1000000; /* progress never goes back */
    p->calls++;
    p->last_done = done;
    p->total = total;
}

#define ROW(ms) #ms ",1,2,0.5,1.5,10," #ms ",15,3,5,7.5,0\n"

DL_TEST(ingest_files_all_or_nothing) {
    dl_error err = {0};
    char root[512], good[600], bad[600], sum[620];
    snprintf(root, sizeof root, "%s/lake", dl_test_tmpdir());
    snprintf(good, sizeof good, "%s/BTCUSDT-1m-2024-01-05.csv", dl_test_tmpdir());
    snprintf(bad, sizeof bad, "%s/BTCUSDT-1m-2024-01-06.csv", dl_test_tmpdir());
    write_file(good, ROW(1704412800000) ROW(1704412860000));
    write_file(bad, ROW(1704499200000) ROW(1704412800000)); /* second row: the 5th */
    dl_lake *lake = NULL;
    CHECK_OK(dl_lake_init(root, &err), &err);
    CHECK_OK(dl_lake_open(root, false, &lake, &err), &err);
    if (!lake) return;
    dl_ingest_options o;
    dl_ingest_options_default(&o, DL_INGEST_BINANCE);
    o.write.durable = false;
    dl_ingest_result res;
    const char *files[] = {good, bad};

    /* misuse is refused with a status, not a crash */
    CHECK_RC(dl_ingest_files(NULL, files, 1, &o, &res, &err), DL_EINVAL);
    CHECK_RC(dl_ingest_files(lake, NULL, 1, &o, &res, &err), DL_EINVAL);
    CHECK_RC(dl_ingest_files(lake, files, 1, NULL, &res, &err), DL_EINVAL);
    CHECK_RC(dl_ingest_files(lake, files, 1, &o, NULL, &err), DL_EINVAL);
    CHECK_RC(dl_ingest_files(lake, files, 0, &o, &res, &err), DL_EINVAL);
    const char *null_file[] = {NULL};
    CHECK_RC(dl_ingest_files(lake, null_file, 1, &o, &res, &err), DL_EINVAL);
    /* only regular files: a FIFO is refused at once, never opened */
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/BTCUSDT-1m-2024-01-07.csv", dl_test_tmpdir());
    CHECK(mkfifo(fifo, 0600) == 0);
    const char *fifo_files[] = {fifo};
    CHECK_RC(dl_ingest_files(lake, fifo_files, 1, &o, &res, &err), DL_EINVAL);
    CHECK(strstr(err.message, "not a regular file") != NULL);
    dl_csv_reader *reader = NULL;
    dl_csv_options copts;
    dl_csv_options_default(&copts, DL_CSV_BINANCE_KLINES);
    CHECK_RC(dl_csv_open(fifo, &copts, &reader, &err), DL_EINVAL);
    CHECK_RC(dl_csv_open(dl_test_tmpdir(), &copts, &reader, &err), DL_EINVAL);
    dl_ingest_options csv;
    dl_ingest_options_default(&csv, DL_INGEST_CSV);
    CHECK_RC(dl_ingest_files(lake, files, 1, &csv, &res, &err), DL_EINVAL);

    /* the bad archive refuses the whole run, naming file, line, ts, range */
    CHECK_RC(dl_ingest_files(lake, files, 2, &o, &res, &err), DL_ECORRUPT);
    char want[1024];
    snprintf(want, sizeof want,
             "%s:2: ts 2024-01-05T00:00:00.000000Z is outside the archive's day 2024-01-06 "
             "[2024-01-06T00:00:00.000000Z, 2024-01-07T00:00:00.000000Z): the file holds rows of "
             "another period (misnamed or mixed-up download)",
             bad);
    CHECK_EQ_STR(err.message, want);
    CHECK_EQ_INT(res.rows_read, 0);
    dl_dataset_info info;
    CHECK_RC(dl_lake_dataset_info(lake, "BINANCE/SPOT/BTCUSDT/raw/1m", &info, &err), DL_ENOTFOUND);

    /* the good one alone goes in, reporting progress up to the total */
    progress_log log = {0};
    o.progress = on_progress;
    o.progress_ctx = &log;
    CHECK_OK(dl_ingest_files(lake, files, 1, &o, &res, &err), &err);
    CHECK_EQ_INT(res.rows_read, 2);
    CHECK_EQ_INT(res.write.versions_created, 1);
    CHECK(log.calls >= 2);
    CHECK_EQ_INT(log.last_done, log.total);
    CHECK_EQ_INT(log.total, 2 * strlen(ROW(1704412800000)));

    /* a .CHECKSUM sibling is verified: a mismatch refuses the run */
    snprintf(sum, sizeof sum, "%s.CHECKSUM", good);
    write_file(sum, "0000000000000000000000000000000000000000000000000000000000000000  x.csv\n");
    o.progress = NULL;
    CHECK_RC(dl_ingest_files(lake, files, 1, &o, &res, &err), DL_ECORRUPT);
    CHECK(strstr(err.message, "does not match") != NULL);
    char hex[65];
    CHECK_OK(dl_sha256_file(good, hex, &err), &err);
    char line[100];
    snprintf(line, sizeof line, "%s  BTCUSDT-1m-2024-01-05.csv\n", hex);
    write_file(sum, line);
    CHECK_OK(dl_ingest_files(lake, files, 1, &o, &res, &err), &err);
    CHECK_EQ_INT(res.checksums_verified, 1);
    CHECK_EQ_INT(res.write.versions_created, 0); /* same rows: unchanged */
    dl_lake_close(lake);
}
