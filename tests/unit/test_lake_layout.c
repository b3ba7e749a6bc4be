/*
** test_lake_layout.c -- dataset name normalisation/validation and the
** on-disk layout (day paths, archive paths, period lengths, UTC days).
*/
#include "dl_test.h"
#include "lake/dl_layout.h"

DL_TEST(lake_layout_normalises_names) {
    dl_error err;
    dl_dataset_id id;
    char name[DL_DATASET_NAME_MAX];
    CHECK_OK(dl_dataset_id_make("binance", "spot", "btc/usdt:usdt", "RAW", "1m", &id, &err), &err);
    dl_dataset_format(&id, name, sizeof name);
    CHECK_EQ_STR(name, "BINANCE/SPOT/BTC-USDT-USDT/raw/1m");
    CHECK_OK(dl_dataset_parse("binance/futures/ETHUSDT/ticks/trades", &id, &err), &err);
    dl_dataset_format(&id, name, sizeof name);
    CHECK_EQ_STR(name, "BINANCE/FUTURES/ETHUSDT/ticks/trades");
    CHECK_EQ_STR(id.period, "trades");
}

DL_TEST(lake_layout_refuses_unsafe_names) {
    dl_error err;
    dl_dataset_id id;
    CHECK_RC(dl_dataset_parse("BINANCE/SPOT/../raw/1m", &id, &err), DL_EINVAL);
    CHECK(strstr(err.message, "symbol") != NULL);
    CHECK_RC(dl_dataset_parse("BINANCE/SPOT/BTCUSDT/raw", &id, &err), DL_EINVAL);
    CHECK(strstr(err.message, "4 components") != NULL);
    CHECK_RC(dl_dataset_parse("BINANCE/SPOT/BTC/USDT/raw/1m", &id, &err), DL_EINVAL);
    CHECK_RC(dl_dataset_parse("BINANCE//BTCUSDT/raw/1m", &id, &err), DL_EINVAL);
    CHECK(strstr(err.message, "market is empty") != NULL);
    CHECK_RC(dl_dataset_id_make("BIN\nANCE", "SPOT", "X", "raw", "1m", &id, &err), DL_EINVAL);
    CHECK(strstr(err.message, "control character 0x0a") != NULL);
    CHECK_RC(dl_dataset_id_make("BINANCE", "SP\\OT", "X", "raw", "1m", &id, &err), DL_EINVAL);
    CHECK_RC(dl_dataset_id_make("BINANCE", "SPOT", "X", "bars", "1m", &id, &err), DL_EINVAL);
    CHECK(strstr(err.message, "raw, ticks, agg, features") != NULL);
    CHECK_RC(dl_dataset_id_make("BINANCE", "SPOT", "X", "raw", "..", &id, &err), DL_EINVAL);
    CHECK_RC(dl_dataset_id_make("BINANCE", "SPOT", "X Y", "raw", "1m", &id, &err), DL_EINVAL);
    char big[200];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_RC(dl_dataset_id_make("BINANCE", "SPOT", big, "raw", "1m", &id, &err), DL_EINVAL);
    CHECK(strstr(err.message, "limit is 64") != NULL);
}

DL_TEST(lake_layout_paths_and_days) {
    char buf[512];
    int32_t day = dl_days_from_civil(2024, 1, 5);
    CHECK_OK(dl_layout_day_path("BINANCE/SPOT/BTCUSDT/raw/1m", day, buf, sizeof buf), NULL);
    CHECK_EQ_STR(buf, "BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/05/data.parquet");
    CHECK_OK(dl_layout_archive_path("BINANCE/SPOT/BTCUSDT/raw/1m", day, 7, buf, sizeof buf), NULL);
    CHECK_EQ_STR(buf, ".dl/versions/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/05/v7.parquet");
    CHECK_EQ_INT(dl_day_of_us(INT64_C(1704412800000000)), day);         /* 2024-01-05T00:00Z */
    CHECK_EQ_INT(dl_day_of_us(INT64_C(1704412800000000) - 1), day - 1); /* one us before */
    CHECK_EQ_INT(dl_day_of_us(-1), -1);
    int64_t y;
    int m, d;
    dl_civil_from_days(day, &y, &m, &d);
    CHECK(y == 2024 && m == 1 && d == 5);
    CHECK_EQ_INT(dl_dataset_period_us("1m"), 60000000);
    CHECK_EQ_INT(dl_dataset_period_us("4h"), INT64_C(14400000000));
    CHECK_EQ_INT(dl_dataset_period_us("1d"), INT64_C(86400000000));
    CHECK_EQ_INT(dl_dataset_period_us("1M"), 0);
    CHECK_EQ_INT(dl_dataset_period_us("trades"), 0);
    CHECK_EQ_INT(dl_dataset_period_us("m"), 0);
    CHECK_OK(dl_layout_lock_name("A/B/C/raw/1m", buf, sizeof buf), NULL);
    CHECK_EQ_STR(buf, ".dl/locks/A~B~C~raw~1m.lock");
}
