#!/usr/bin/env bash
# test_lake_cli.sh -- the lake through the `dl` CLI: init/ingest/ls/info/
# read/gaps/history/verify/vacuum, idempotent re-ingest (byte-identical
# files, no new version), gaps against the generator's manifest, refusal of
# malformed input and damaged downloads, and a CRASH TEST: ingests killed
# at every step of the write protocol (DL_FAULT_AT) and by SIGKILL at random
# moments; after each kill the next command must leave catalog and files in
# agreement (`dl verify` clean) with every committed row still readable.
# Env: DL = path of the dl binary (default build/release/dl).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST_NAME=lake_cli
# shellcheck source=cli_lib.sh
source tests/cli/cli_lib.sh

"$GEN" --out "$T/gen" --small --jobs 2 >/dev/null 2>&1 || { echo "cannot run $GEN"; echo "0 passed, 1 failed"; exit 1; }
K=$T/gen/klines
BTC=BINANCE/SPOT/BTCUSDT/raw/1m
L=$T/lake
export DL_ROOT=$L

# ---- basics ----
check "init" "$DL" init
check "ingest klines" "$DL" ingest binance "$K"/*.csv
ls_json=$("$DL" ls --json)
check "ls lists 3 datasets with the manifest's rows" node -e '
  const ls = JSON.parse(process.argv[1]), m = require(process.argv[2]);
  const rows = ls.reduce((s, d) => s + d.rows, 0);
  process.exit(ls.length === 3 && rows === m.klines.rows ? 0 : 1)' "$ls_json" "$T/gen/manifest.json"
btc_rows=$(gen_rows BTCUSDT)
check "info" bash -c '"$0" info '$BTC' | grep -q "rows      $1\$"' "$DL" "$btc_rows"
check "help" bash -c '"$0" ingest --help | grep -q "ONE transaction"' "$DL"

# ---- gaps equal the generator's manifest ----
for sym in BTCUSDT ETHUSDT BNBUSDT; do
  g=$("$DL" gaps BINANCE/SPOT/$sym/raw/1m --json)
  check "gaps $sym match manifest" node -e '
    const got = JSON.parse(process.argv[1]).map(g => [g.from_ts, g.to_ts, g.missing]);
    const want = require(process.argv[2]).gaps[process.argv[3]];
    process.exit(JSON.stringify(got) === JSON.stringify(want) ? 0 : 1)' "$g" "$T/gen/manifest.json" $sym
done

# ---- idempotent re-ingest: byte-identical, no new version ----
before=$(cd "$L" && find BINANCE -name '*.parquet' | sort | xargs sha256sum)
out=$("$DL" ingest binance "$K"/*.csv --json)
after=$(cd "$L" && find BINANCE -name '*.parquet' | sort | xargs sha256sum)
check "re-ingest creates no version" grep -q '"versions_created":0' <<<"$out"
check "re-ingest leaves byte-identical files" test "$before" == "$after"
check "history has one version" bash -c '[ "$("$0" history '$BTC' --json | grep -o "\"version\"" | wc -l)" = 1 ]' "$DL"
check "verify clean" "$DL" verify

# ---- upsert + time travel + vacuum ----
awk -F, 'NR<=10 {OFS=","; $5="1.00000000"} {print}' "$K/BTCUSDT-1m-2023-12.csv" > "$T/BTCUSDT-1m-2023-12.csv"
check "upsert of changed rows" "$DL" ingest binance "$T/BTCUSDT-1m-2023-12.csv"
v2=$("$DL" read $BTC --to 2023-12-01T00:10:00Z --format csv | tail -n +2 | cut -d, -f5 | sort -u)
v1=$("$DL" read $BTC --to 2023-12-01T00:10:00Z --format csv --as-of-version 1 | tail -n +2 | cut -d, -f5 | sort -u)
check "new rows won" test "$v2" == "1"
check "as-of-version 1 shows the old rows" test "$v1" != "1"
check "row count unchanged by upsert" bash -c '[ "$("$0" read '$BTC' --format csv | wc -l)" = $(($1 + 1)) ]' "$DL" "$btc_rows"
check "vacuum --keep-versions 1" bash -c '"$0" vacuum --keep-versions 1 --json | grep -q "\"files_removed\":1,"' "$DL"
check "vacuumed version refused" bash -c '! "$0" read '$BTC' --as-of-version 1 2>/dev/null' "$DL"
check "verify clean after vacuum" "$DL" verify

# ---- bad input: nothing written ----
cp "$K/ETHUSDT-1m-2023-12.csv" "$T/ETHUSDT-1m-2023-12.csv"
sed -i '77s/.*/1701393360000,1,2,x3,4,5,6,7,8,9,10,0/' "$T/ETHUSDT-1m-2023-12.csv"
state=$("$DL" ls --json)
msg=$("$DL" ingest binance "$T/ETHUSDT-1m-2023-12.csv" 2>&1); rc=$?
check "malformed csv refused" test $rc = 1
check "message names file:line" grep -q "ETHUSDT-1m-2023-12.csv:77" <<<"$msg"
check "nothing written on malformed csv" test "$state" == "$("$DL" ls --json)"
check "skip-bad ingests the rest" "$DL" ingest binance --skip-bad "$T/ETHUSDT-1m-2023-12.csv"
echo "0000000000000000000000000000000000000000000000000000000000000000  BNBUSDT-1m-2023-12.csv" > "$T/BNBUSDT-1m-2023-12.csv.CHECKSUM"
cp "$K/BNBUSDT-1m-2023-12.csv" "$T/"
check "checksum mismatch refused" bash -c '! "$0" ingest binance "$1" 2>/dev/null' "$DL" "$T/BNBUSDT-1m-2023-12.csv"
check "unsafe dataset name refused" bash -c '"$0" info "BINANCE/SPOT/../raw/1m" 2>&1 | grep -q "refused"' "$DL"

# ---- crash test 1: fault injection at every step of the protocol ----
# Base: one committed version of BTCUSDT December; the crashing ingest adds
# January and replaces ten December rows.
[ -x "$FDL" ] || bad "crash tests need the fault-injection build: make MODE=fault"
CR=$T/crash
base=$CR/base
mkdir -p "$CR"
DL_ROOT=$base "$DL" init >/dev/null
DL_ROOT=$base "$DL" ingest binance "$K/BTCUSDT-1m-2023-12.csv" >/dev/null
rows_base=$(DL_ROOT=$base "$DL" read $BTC --format csv | wc -l)
steps=$(cp -a "$base" "$CR/probe" && DL_ROOT=$CR/probe DL_FAULT_TRACE=1 "$FDL" ingest binance \
        "$T/BTCUSDT-1m-2023-12.csv" "$K/BTCUSDT-1m-2024-01.csv" 2>&1 >/dev/null | grep -c '^dl-fault-step')
rows_new=$(DL_ROOT=$CR/probe "$DL" read $BTC --format csv | wc -l)
fault_fail=0
for ((n = 1; n <= steps; n++)); do
  rm -rf "$CR/l"; cp -a "$base" "$CR/l"
  rc=$( { DL_ROOT=$CR/l DL_FAULT_AT=$n "$FDL" ingest binance "$T/BTCUSDT-1m-2023-12.csv" \
    "$K/BTCUSDT-1m-2024-01.csv" >/dev/null 2>&1; echo $?; } 2>/dev/null)
  if [ $rc != 137 ]; then echo "  step $n: expected SIGKILL, exit $rc"; fault_fail=1; continue; fi
  # readers open read-only and change nothing: they must see the committed
  # state (old or new) even before anything rolled the dead writer back
  r=$(DL_ROOT=$CR/l "$DL" read $BTC --format csv | wc -l)
  if [ "$r" != "$rows_base" ] && [ "$r" != "$rows_new" ]; then echo "  step $n: $r rows before repair"; fault_fail=1; fi
  if ! DL_ROOT=$CR/l "$DL" verify --repair >/dev/null; then echo "  step $n: repair not clean"; DL_ROOT=$CR/l "$DL" verify; fault_fail=1; continue; fi
  if ! DL_ROOT=$CR/l "$DL" verify >/dev/null; then echo "  step $n: verify not clean"; DL_ROOT=$CR/l "$DL" verify; fault_fail=1; continue; fi
  r2=$(DL_ROOT=$CR/l "$DL" read $BTC --format csv | wc -l)
  [ "$r2" = "$r" ] || { echo "  step $n: $r rows before repair, $r2 after"; fault_fail=1; }
  v1=$(DL_ROOT=$CR/l "$DL" read $BTC --as-of-version 1 --format csv | wc -l)
  [ "$v1" = "$rows_base" ] || { echo "  step $n: version 1 has $v1 rows"; fault_fail=1; }
  [ -z "$(ls -A "$CR/l/.dl/tmp")" ] || { echo "  step $n: staging left behind"; fault_fail=1; }
  # and the interrupted ingest can simply be run again (every 4th step: time)
  ((n % 4)) && continue
  DL_ROOT=$CR/l "$DL" ingest binance "$T/BTCUSDT-1m-2023-12.csv" "$K/BTCUSDT-1m-2024-01.csv" >/dev/null 2>&1
  [ "$(DL_ROOT=$CR/l "$DL" read $BTC --format csv | wc -l)" = "$rows_new" ] || { echo "  step $n: rerun wrong"; fault_fail=1; }
done
check "fault injection at all $steps steps recovers" test $fault_fail = 0 -a "$steps" -gt 20

# ---- crash test 2: SIGKILL at random moments of a real ingest ----
kill_fail=0
rm -rf "$CR/k"; DL_ROOT=$CR/k "$DL" init >/dev/null
committed=1  # rows committed so far (read's header line)
for ((i = 0; i < 12; i++)); do
  DL_ROOT=$CR/k "$DL" ingest binance "$K"/*.csv >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 600)))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  DL_ROOT=$CR/k "$DL" verify --repair >/dev/null 2>&1
  if ! DL_ROOT=$CR/k "$DL" verify >/dev/null; then echo "  kill $i: verify not clean"; kill_fail=1; fi
  total=0
  for d in $(DL_ROOT=$CR/k "$DL" ls --json | grep -o '"dataset":"[^"]*"' | cut -d'"' -f4); do
    total=$((total + $(DL_ROOT=$CR/k "$DL" read "$d" --format csv | tail -n +2 | wc -l)))
  done
  [ $total -ge $((committed - 1)) ] || { echo "  kill $i: $total rows < committed"; kill_fail=1; }
  committed=$((total + 1))
done
check "random SIGKILL x12 recovers, no committed row lost" test $kill_fail = 0

echo "$passed passed, $failed failed"
((failed == 0))
