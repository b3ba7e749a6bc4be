#!/usr/bin/env bash
# test_ingest_cli.sh -- `dl ingest` never misreads its input: header rows
# (only a row of column names is one; quoted or negative first rows are data
# and refused), epoch units told apart by magnitude (seconds included, one
# unit per file, values in no unit refused with file/line/value, --ts-format
# overriding), ISO-8601 text under --ts-format auto, rows outside a Binance
# archive's day or month refused with nothing written, and zip bombs
# refused at open with bounded memory.  Every refusal leaves the lake as it
# was (verify clean, no new version).
# Env: DL = path of the dl binary (default build/release/dl).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST_NAME=ingest_cli
# shellcheck source=cli_lib.sh
source tests/cli/cli_lib.sh

L=$T/lake
export DL_ROOT=$L
D=$T/in
mkdir -p "$D"
"$DL" init >/dev/null

# kline ROW OPEN_TIME CLOSE_TIME: one Binance kline row
kline() { echo "$1,42000.1,42010.2,41990.3,42005.4,1.5,$2,63000.5,12,0.7,29400.8,0"; }
# rows DATASET: rows the lake holds for it (0 when absent)
rows() { "$DL" read "$1" --format csv 2>/dev/null | tail -n +2 | wc -l; }
# first_ts DATASET: the first ts the lake holds
first_ts() { "$DL" read "$1" --format csv | sed -n 2p | cut -d, -f1; }
versions() { "$DL" history "$1" --json 2>/dev/null | grep -o '"version"' | wc -l; }

BTC=BINANCE/SPOT/BTCUSDT/raw/1m

# ---- units: seconds, ms and us files all land on 2024-01-05 ----
{ kline 1704412800 1704412859; kline 1704412860 1704412919; } > "$D/BTCUSDT-1m-2024-01-05.csv"
check "10-digit epoch seconds ingest" "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-05.csv"
check "seconds are read as 2024, not 1970" test "$(first_ts $BTC)" = "2024-01-05T00:00:00.000000Z"
{ kline 1704499200000000 1704499259999999; } > "$D/BTCUSDT-1m-2024-01-06.csv"
check "microsecond file ingests" "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-06.csv"
check "3 rows in the lake" test "$(rows $BTC)" = 3

# ---- mixed units in one file: refused, nothing written ----
{ kline 1704585600000 1704585659999; kline 1704585660000000 1704585719999999; } > "$D/BTCUSDT-1m-2024-01-07.csv"
fails "ms then us in one file refused" 1 \
  "BTCUSDT-1m-2024-01-07.csv:2: column 1 (open_time): time '1704585660000000' is in microseconds but the file's times are in milliseconds (line 1: 1704585600000)" \
  "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-07.csv"
check "nothing written by the refused file" test "$(rows $BTC)" = 3

# ---- a year-9999 ms value and a 1970 value fit no unit ----
kline 253402214400000 253402214459999 > "$D/BTCUSDT-1m-2024-01-08.csv"
fails "year-9999 ms refused, not read as us" 1 \
  "BTCUSDT-1m-2024-01-08.csv:1: column 1 (open_time): time '253402214400000' is not in seconds, milliseconds, microseconds or nanoseconds since 1970 between 1990-01-01 and 2200-01-01" \
  "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-08.csv"

# ---- header rows ----
{ echo "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
  kline 1704672000000 1704672059999; } > "$D/BTCUSDT-1m-2024-01-08.csv"
check "a header row of names is skipped" "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-08.csv"
check "4 rows now" test "$(rows $BTC)" = 4
{ echo '"1704758400000","42000.1","42010.2","41990.3","42005.4","1.5","1704758459999","63000.5","12","0.7","29400.8","0"'
  kline 1704758460000 1704758519999; } > "$D/BTCUSDT-1m-2024-01-09.csv"
fails "a quoted first row is data, refused (not dropped)" 1 \
  "BTCUSDT-1m-2024-01-09.csv:1: column 1 (open_time)" "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-09.csv"
{ kline -1704758400000 1704758459999; kline 1704758460000 1704758519999; } > "$D/BTCUSDT-1m-2024-01-09.csv"
fails "a negative-time first row is data, refused (not dropped)" 1 \
  "BTCUSDT-1m-2024-01-09.csv:1: column 1 (open_time): time '-1704758400000' is not in seconds" \
  "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-09.csv"
check "still 4 rows" test "$(rows $BTC)" = 4

# ---- rows outside the archive's day / month: refused, even with --skip-bad ----
{ kline 1704844800000 1704844859999; kline 1704931200000 1704931259999; } > "$D/BTCUSDT-1m-2024-01-10.csv"
for skip in "" --skip-bad; do
  fails "daily archive with a row of the next day refused ${skip:-(default)}" 1 \
    "BTCUSDT-1m-2024-01-10.csv:2: ts 2024-01-11T00:00:00.000000Z is outside the archive's day 2024-01-10 [2024-01-10T00:00:00.000000Z, 2024-01-11T00:00:00.000000Z)" \
    "$DL" ingest binance $skip "$D/BTCUSDT-1m-2024-01-10.csv"
done
# all-or-nothing: a good file in the same run is not written either
kline 1705017600000 1705017659999 > "$D/BTCUSDT-1m-2024-01-12.csv"
fails "a bad archive refuses the whole run" 1 "outside the archive's day 2024-01-10" \
  "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-12.csv" "$D/BTCUSDT-1m-2024-01-10.csv"
check "no row of the refused run was written" test "$(rows $BTC)" = 4
check "no version of the refused run" test "$(versions $BTC)" = 3
kline 1706745600000 1706745659999 > "$D/BTCUSDT-1m-2024-01.csv"
fails "monthly archive with a February row refused" 1 \
  "BTCUSDT-1m-2024-01.csv:1: ts 2024-02-01T00:00:00.000000Z is outside the archive's month 2024-01" \
  "$DL" ingest binance "$D/BTCUSDT-1m-2024-01.csv"
echo "1,42000.5,0.1,4200.05,1704844799999,True,True" > "$D/BTCUSDT-trades-2024-01-10.csv"
fails "trades archive with a row of the day before refused" 1 \
  "BTCUSDT-trades-2024-01-10.csv:1: ts 2024-01-09T23:59:59.999000Z is outside the archive's day 2024-01-10" \
  "$DL" ingest binance "$D/BTCUSDT-trades-2024-01-10.csv"
# a weekly kline overlapping the month from the previous one is accepted
kline 1706486400000 1707091199999 > "$D/BTCUSDT-1w-2024-02.csv"
check "1w kline opening before the month is accepted" "$DL" ingest binance "$D/BTCUSDT-1w-2024-02.csv"

# ---- USD-M futures trades: a header and no is_best_match column ----
{ echo "id,price,qty,quote_qty,time,is_buyer_maker"
  echo "7001,42000.5,0.1,4200.05,1704844800001,true"
  echo "7002,42000.6,0.2,8400.12,1704844800002,false"; } > "$D/BTCUSDT-trades-2024-01-10.csv"
check "futures trades (6 columns, header) ingest" "$DL" ingest binance --market FUTURES-UM "$D/BTCUSDT-trades-2024-01-10.csv"
check "2 futures trades" test "$(rows BINANCE/FUTURES-UM/BTCUSDT/ticks/trades)" = 2

# ---- --ts-format overrides the magnitude rule ----
echo "ts,price" > "$D/old.csv"; echo "86400000,1.5" >> "$D/old.csv"
fails "a 1970 ms value is refused by auto" 1 "old.csv:2: column 1 (ts): time '86400000' is not in seconds" \
  "$DL" ingest csv "$D/old.csv" --dataset X/SPOT/OLD/raw/1m --ts-column ts
check "--ts-format ms reads it" "$DL" ingest csv "$D/old.csv" --dataset X/SPOT/OLD/raw/1m --ts-column ts --ts-format ms
check "as 1970-01-02" test "$(first_ts X/SPOT/OLD/raw/1m)" = "1970-01-02T00:00:00.000000Z"

# ---- ISO-8601 under --ts-format auto ----
cat > "$D/iso.csv" <<'CSV'
time,price
2024-01-05T10:00:00Z,1.5
2024-01-05 10:01:00.250,2.5
2024-01-05T12:02:00+02:00,3.5
2024-01-05T05:03:00-05:00,4.5
CSV
check "ISO-8601 recognised by auto" "$DL" ingest csv "$D/iso.csv" --dataset X/SPOT/ISO/raw/1m --ts-column time
check "offsets converted to UTC" test "$("$DL" read X/SPOT/ISO/raw/1m --format csv | tail -n +2 | cut -d, -f1 | tr '\n' ' ')" = \
  "2024-01-05T10:00:00.000000Z 2024-01-05T10:01:00.250000Z 2024-01-05T10:02:00.000000Z 2024-01-05T10:03:00.000000Z "
echo "1704448800000,1.5" > "$D/headless.csv"
fails "generic CSV without a header is refused, not eaten" 1 "headless.csv:1: the first row is data, not a header" \
  "$DL" ingest csv "$D/headless.csv" --dataset X/SPOT/H/raw/1m --ts-column ts

# ---- zip bomb: refused from its directory, memory stays small ----
node -e '
  const zlib = require("zlib"), fs = require("fs");
  const row = "1704844800000,42000.1,42010.2,41990.3,42005.4,1.5,1704844859999,63000.5,12,0.7,29400.8,0\n";
  const data = Buffer.from(row.repeat(Math.floor((256 << 20) / row.length)));
  const comp = zlib.deflateRawSync(data, { level: 9 }), name = Buffer.from(process.argv[2]);
  const crc = zlib.crc32 ? zlib.crc32(data) : 0;
  const local = Buffer.alloc(30), central = Buffer.alloc(46), end = Buffer.alloc(22);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14); local.writeUInt32LE(comp.length, 18); local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10); central.writeUInt32LE(crc, 16); central.writeUInt32LE(comp.length, 20);
  central.writeUInt32LE(data.length, 24); central.writeUInt16LE(name.length, 28);
  const cdOffset = 30 + name.length + comp.length;
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12); end.writeUInt32LE(cdOffset, 16);
  fs.writeFileSync(process.argv[1], Buffer.concat([local, name, comp, central, name, end]));
' "$D/BTCUSDT-1m-2024-01-10.zip" "BTCUSDT-1m-2024-01-10.csv"
fails "zip bomb refused" 1 "zip member 'BTCUSDT-1m-2024-01-10.csv' would expand" \
  "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-10.zip"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -o "$T/rss" -f %M "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-10.zip" >/dev/null 2>&1
  rss=$(tail -1 "$T/rss")
  check "zip bomb refusal peaks under 64 MB RSS (got ${rss} kB)" test "${rss:-999999}" -lt 65536
fi
fails "--zip-max-ratio must be a positive integer" 2 "--zip-max-ratio" \
  "$DL" ingest binance --zip-max-ratio 0 "$D/BTCUSDT-1m-2024-01-10.zip"

# ---- only regular files: a FIFO is refused, never waited on ----
mkfifo "$D/BTCUSDT-1m-2024-01-20.csv"
fails "a FIFO is refused at once" 1 "not a regular file" \
  timeout 10 "$DL" ingest binance "$D/BTCUSDT-1m-2024-01-20.csv"

check "verify clean after every refusal" "$DL" verify
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
