#!/usr/bin/env bash
# test_features_cli.sh -- `dl features`: the outside contract (import with
# CSV ISO/epoch-ms times and Parquet, alias, get with the exact output
# format, TTL, unknown symbols, duplicates), refusals that change nothing
# (invalid SemVer, different data under a published version), manifests
# that reproduce the same bytes, and a CRASH TEST: imports killed at every
# fault point and by SIGKILL at random moments never leave a half-published
# version (the version is absent or complete, `dl verify` is clean, and the
# import can simply be run again).
# Env: DL = path of the dl binary (default build/release/dl).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST_NAME=features_cli
# shellcheck source=cli_lib.sh
source tests/cli/cli_lib.sh

L=$T/lake
export DL_ROOT=$L
check "init" "$DL" init

cat >"$T/f.csv" <<'CSV'
sym,time,mom,label
BTCUSDT,2024-01-01T00:00:00Z,1.5,a
BTCUSDT,2024-01-01T00:01:00Z,2.5,b
ETHUSDT,2024-01-01T00:00:00Z,10,
BTCUSDT,2024-01-02T00:00:00Z,3.5,"c,d"
CSV
# the same rows with epoch-ms times and an explicit available_at column
cat >"$T/f_ms.csv" <<'CSV'
sym,time,avail,mom,label
BTCUSDT,1704067200000,1704067260000,1.5,a
BTCUSDT,1704067260000,1704067320000,2.5,b
ETHUSDT,1704067200000,1704067260000,10,
BTCUSDT,1704153600000,1704153660000,3.5,"c,d"
CSV
cat >"$T/e.csv" <<'CSV'
symbol,ts
BTCUSDT,2024-01-01T00:01:30Z
ETHUSDT,2024-01-01T00:00:30Z
BTCUSDT,2024-01-01T00:00:59Z
XRP,2024-01-01T00:05:00Z
BTCUSDT,2024-01-01T00:01:00Z
BTCUSDT,2024-01-01T00:01:00Z
BTCUSDT,2024-01-01T00:02:00Z
BTCUSDT,2024-01-03T00:00:00Z
CSV

check "import CSV (ISO times, available_at = ts + 1m)" "$DL" features import "$T/f.csv" --name mom \
  --version 1.0.0 --entity-col sym --ts-col time --interval 1m --no-fsync
snap() { "$DL" features ls --all --json; "$DL" ls --json; }
before=$(snap)
fails "invalid SemVer exits non-zero" 1 "not SemVer" "$DL" features import "$T/f.csv" --name mom \
  --version 1.0 --entity-col sym --ts-col time
fails "different data under 1.0.0 refused" 1 "immutable" "$DL" features import "$T/f.csv" --name mom \
  --version 1.0.0 --entity-col sym --ts-col time --lag 5m
check "refusals changed nothing" test "$before" = "$(snap)"
out=$("$DL" features import "$T/f.csv" --name mom --version 1.0.0 --entity-col sym --ts-col time --interval 1m --json)
check "same content again is a no-op" grep -q '"unchanged":true' <<<"$out"
check "same rows from epoch ms + available_at column: same identity" bash -c \
  '[ "$("$0" features import "$1" --name mom2 --version 1.0.0 --entity-col sym --ts-col time --available-at-col avail --json | sed "s/.*identity\":\"\([0-9a-f]*\).*/\1/")" = \
     "$("$0" features info mom@1.0.0 --json | sed "s/.*identity\":\"\([0-9a-f]*\).*/\1/")" ]' "$DL" "$T/f_ms.csv"

expected='symbol,ts,mom__mom,mom__label
BTCUSDT,2024-01-01T00:01:30.000000Z,1.5,a
ETHUSDT,2024-01-01T00:00:30.000000Z,,
BTCUSDT,2024-01-01T00:00:59.000000Z,,
XRP,2024-01-01T00:05:00.000000Z,,
BTCUSDT,2024-01-01T00:01:00.000000Z,1.5,a
BTCUSDT,2024-01-01T00:01:00.000000Z,1.5,a
BTCUSDT,2024-01-01T00:02:00.000000Z,2.5,b
BTCUSDT,2024-01-03T00:00:00.000000Z,3.5,"c,d"'
check "alias" "$DL" features alias mom production 1.0.0
printf 'symbol,ts\nBTCUSDT,1704067260000\nBTCUSDT,1704067259999\n' >"$T/e_ms.csv"
got=$("$DL" features get --entities "$T/e_ms.csv" --features mom@production --format csv | tail -2 | tr '\n' ' ')
check "entity times in epoch ms" test "$got" = "BTCUSDT,2024-01-01T00:01:00.000000Z,1.5,a BTCUSDT,2024-01-01T00:00:59.999000Z,, "
got=$("$DL" features get --entities "$T/e.csv" --features mom@production --format csv)
check "get: entity order, duplicates, unknown symbols, inclusive available_at" test "$got" = "$expected"
got=$("$DL" features get --entities "$T/e.csv" --features mom@1.0.0 --ttl 2h --format csv | tail -1)
check "get --ttl 2h drops a 24h-old row" test "$got" = "BTCUSDT,2024-01-03T00:00:00.000000Z,,"
# ts printed as `dl query --format csv` prints it
printf 'ts,v\n2024-01-03T00:00:00Z,1\n' >"$T/q.csv"
"$DL" ingest csv "$T/q.csv" --dataset X/Y/Z/raw/1s --ts-column ts --ts-format iso >/dev/null
q=$("$DL" query X/Y/Z/raw/1s --columns ts --format csv | sed -n 2p)
check "ts formatted like dl query" test "BTCUSDT,$q,," = "$got"
got2=$("$DL" features get --entities "$T/e.csv" --features mom@production,mom2@latest --format csv | head -1)
check "two feature sets: NAME__COLUMN per column" test "$got2" = "symbol,ts,mom__mom,mom__label,mom2__mom,mom2__label"

# manifests
check "get --manifest" "$DL" features get --entities "$T/e.csv" --features mom@production --format csv \
  --output "$T/o1.csv" --manifest "$T/m.json"
check "manifest reproduces the same bytes" bash -c '"$0" features get --manifest "$1" --output "$2" && cmp -s "$2" "$3"' \
  "$DL" "$T/m.json" "$T/o2.csv" "$T/o1.csv"
check "manifest pins versions, not aliases" "$DL" features import "$T/f.csv" --name mom --version 1.1.0 \
  --entity-col sym --ts-col time --interval 1m --lag 1m --no-fsync
"$DL" features alias mom production 1.1.0 >/dev/null
check "after an alias swap the manifest still reproduces" bash -c '"$0" features get --manifest "$1" --output "$2" && cmp -s "$2" "$3"' \
  "$DL" "$T/m.json" "$T/o3.csv" "$T/o1.csv"
cp "$T/e.csv" "$T/e_saved.csv"; echo "BTCUSDT,2024-01-04T00:00:00Z" >>"$T/e.csv"
fails "manifest refuses a changed entity file" 1 "has changed" "$DL" features get --manifest "$T/m.json" --output "$T/o4.csv"
cp "$T/e_saved.csv" "$T/e.csv"

# listings, lineage, help, json
for sub in import get alias ls versions info lineage delete; do
  check "features $sub --help" bash -c '"$0" features "$1" --help | grep -q "usage: dl features $1"' "$DL" "$sub"
done
check "ls --json parses" bash -c '"$0" features ls --json | node -e "JSON.parse(require(\"fs\").readFileSync(0))"' "$DL"
check "versions --json in precedence order" bash -c '[ "$("$0" features versions mom --json | node -e "console.log(JSON.parse(require(\"fs\").readFileSync(0)).map(v=>v.version).join())")" = "1.0.0,1.1.0" ]' "$DL"
check "lineage shows the imported file's sha256" bash -c '"$0" features lineage mom@1.0.0 | grep -q "sha256=$(sha256sum "$1" | cut -c1-64)"' "$DL" "$T/f.csv"
check "alias --history" bash -c '[ "$("$0" features alias mom --history --json | node -e "console.log(JSON.parse(require(\"fs\").readFileSync(0)).length)")" = 2 ]' "$DL"
check "delete" "$DL" features delete mom@1.1.0
fails "deleted versions are not resolved" 1 "deleted" "$DL" features info mom@1.1.0

# lineage: sources pinned against vacuum, verify flags vacuumed sources, footer metadata
printf 'ts,close\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n' >"$T/k1.csv"
printf 'ts,close\n2024-01-01T00:00:00Z,5\n2024-01-02T00:01:00Z,2\n' >"$T/k2.csv"
SRC=B/S/BTCUSDT/raw/1m
"$DL" ingest csv "$T/k1.csv" --dataset $SRC --ts-column ts >/dev/null
check "import --derived-from" "$DL" features import "$T/f.csv" --name lin --version 1.0.0 --entity-col sym \
  --ts-col time --derived-from $SRC --no-fsync
"$DL" ingest csv "$T/k2.csv" --dataset $SRC --ts-column ts >/dev/null
check "lineage lists the source version and its file checksums" bash -c \
  '"$0" features lineage lin@1.0.0 | grep -q "source '$SRC' @ lake version 1" &&
   "$0" features lineage lin@1.0.0 --json | grep -q "\"sha256\":\"$(sha256sum "$1"/'$SRC'/2024/01/01/data.parquet 2>/dev/null | cut -c1-64)" ||
   "$0" features lineage lin@1.0.0 --json | grep -q "\"lake_version\":1,\"files\":\[{\"path\":\"'$SRC'/2024/01/01/data.parquet\""' "$DL" "$L"
check "lineage in every feature file's footer" bash -c \
  'for f in "$1"/FEATURES/LIN/*/features/*/*/*/*/data.parquet; do "$0" schema "$f" | grep -q "dl.features.lineage = {\"feature_set\":\"lin\"" || exit 1; done' "$DL" "$L"
check "verify clean while the source version is kept" "$DL" verify
"$DL" vacuum --keep-versions 1 >/dev/null
check "vacuum keeps the pinned source version" "$DL" read $SRC --as-of-version 1 --format csv
"$DL" vacuum --keep-versions 1 --force >/dev/null
check "verify flags a version whose source was vacuumed" bash -c '! "$0" verify >/dev/null && "$0" verify | grep -q "^lineage *lin@1.0.0: source"' "$DL"
"$DL" features delete lin@1.0.0 >/dev/null

# alias swaps under concurrent readers: every read sees the old or the new version, never an error
"$DL" features import "$T/f.csv" --name mom --version 1.2.0 --entity-col sym --ts-col time --interval 1m --lag 2m --no-fsync >/dev/null
o10=$("$DL" features get --entities "$T/e.csv" --features mom@1.0.0 --format csv | sed 1d | md5sum)
o12=$("$DL" features get --entities "$T/e.csv" --features mom@1.2.0 --format csv | sed 1d | md5sum)
"$DL" features alias mom production 1.2.0 >/dev/null
( for ((i = 0; i < 40; i++)); do "$DL" features alias mom production 1.0.0 >/dev/null; "$DL" features alias mom production 1.2.0 >/dev/null; done ) &
swapper=$!
reader_fail=0; reads=0
while kill -0 $swapper 2>/dev/null; do
  o=$("$DL" features get --entities "$T/e.csv" --features mom@production --format csv 2>&1 | sed 1d | md5sum)
  reads=$((reads + 1))
  [ "$o" = "$o10" ] || [ "$o" = "$o12" ] || { reader_fail=1; echo "  read $reads: neither version: $("$DL" features get --entities "$T/e.csv" --features mom@production --format csv 2>&1 | head -3)"; }
done
wait $swapper
check "alias swaps under $reads concurrent reads: always one whole version" test $reader_fail = 0 -a $reads -gt 3

# DL_FAULT_AT exists only in the test build (make MODE=fault): $FDL (cli_lib.sh).
[ -x "$FDL" ] || bad "crash tests need the fault-injection build: make MODE=fault"

# ---- build: 8+ kernels from generated klines; deterministic, immutable, crash-safe ----
GEN_BIN=$(dirname "$DL")/dl-gen
if [ -x "$GEN_BIN" ] && "$GEN_BIN" --out "$T/gen" --symbols 2 --days 3 --trade-symbols 0 --jobs 2 >/dev/null 2>&1; then
  cat >"$T/spec.json" <<'JSON'
{"name": "bars", "version": "1.0.0", "sources": ["BINANCE/SPOT/*/raw/1m"], "lag": "5s",
 "kernels": [{"kernel": "returns", "bars": 1}, {"kernel": "log_returns", "bars": 5},
             {"kernel": "rolling_std", "window": "1h"}, {"kernel": "ema", "span": 20},
             {"kernel": "zscore", "window": "1h"}, {"kernel": "vwap", "window": "1h"},
             {"kernel": "realized_vol", "window": "1h"}, {"kernel": "atr", "window": "14m"},
             {"kernel": "taker_imbalance", "window": "15m"}]}
JSON
  for k in b1 b2; do
    DL_ROOT=$T/$k "$DL" init >/dev/null
    DL_ROOT=$T/$k "$DL" ingest binance "$T"/gen/klines/*.csv --no-fsync >/dev/null
  done
  check "build" bash -c 'DL_ROOT=$1/b1 "$0" features build "$1/spec.json" --no-fsync --json | grep -q "\"unchanged\":false"' "$DL" "$T"
  check "build again: a no-op" bash -c 'DL_ROOT=$1/b1 "$0" features build "$1/spec.json" --json | grep -q "\"unchanged\":true"' "$DL" "$T"
  DL_ROOT=$T/b2 "$DL" features build "$T/spec.json" --no-fsync >/dev/null
  check "build is deterministic: byte-identical files in two lakes" bash -c \
    'cd "$0/b1" && find FEATURES -name "*.parquet" | sort | xargs sha256sum >"$0/s1" && cd "$0/b2" && find FEATURES -name "*.parquet" | sort | xargs sha256sum >"$0/s2" && [ -s "$0/s1" ] && cmp -s "$0/s1" "$0/s2"' "$T"
  check "available_at = ts + 1m + lag" bash -c \
    '[ "$(DL_ROOT=$1/b1 "$0" query "FEATURES/BARS/BTCUSDT/features/*" --columns ts,available_at --limit 1 --format csv | tail -1)" = "2023-01-01T00:00:00.000000Z,2023-01-01T00:01:05.000000Z" ]' "$DL" "$T"
  printf 'ts,close\n2023-01-01T00:00:00Z,1\n' >"$T/patch.csv"
  DL_ROOT=$T/b2 "$DL" ingest csv "$T/patch.csv" --dataset BINANCE/SPOT/BTCUSDT/raw/1m --ts-column ts --no-fsync >/dev/null
  fails "changed sources under a built version refused" 1 "immutable" env DL_ROOT="$T/b2" "$DL" features build "$T/spec.json"
  sed 's/"1.0.0"/"1.1.0"/' "$T/spec.json" >"$T/spec11.json"
  check "changed sources: a new version builds" env DL_ROOT="$T/b2" "$DL" features build "$T/spec11.json" --no-fsync
  fails "bad spec: unknown kernel named" 1 "unknown kernel \"momentum\"" bash -c \
    'sed "s/\"ema\"/\"momentum\"/" "$1/spec.json" >"$1/bad.json"; DL_ROOT=$1/b1 "$0" features build "$1/bad.json"' "$DL" "$T"
  if [ -x "${FDL:-}" ]; then
    bsteps=$(cp -a "$T/b1" "$T/bp" && sed 's/"1.0.0"/"2.0.0"/' "$T/spec.json" >"$T/spec2.json" &&
             DL_ROOT=$T/bp DL_FAULT_TRACE=1 "$FDL" features build "$T/spec2.json" 2>&1 >/dev/null | grep -c '^dl-fault-step')
    bfail=0
    for ((n = 1; n <= bsteps; n++)); do
      rm -rf "$T/bk"; cp -a "$T/b1" "$T/bk"
      rc=$( { DL_ROOT=$T/bk DL_FAULT_AT=$n "$FDL" features build "$T/spec2.json" >/dev/null 2>&1; echo $?; } 2>/dev/null)
      [ "$rc" = 137 ] || { echo "  build step $n: exit $rc"; bfail=1; continue; }
      DL_ROOT=$T/bk "$DL" verify >/dev/null || { echo "  build step $n: verify not clean"; bfail=1; }
      ! DL_ROOT=$T/bk "$DL" features info bars@2.0.0 >/dev/null 2>&1 || { echo "  build step $n: version visible"; bfail=1; }
      DL_ROOT=$T/bk "$DL" features build "$T/spec2.json" >/dev/null 2>&1 || { echo "  build step $n: rerun failed"; bfail=1; }
    done
    check "build killed at each of $bsteps fault points: no half-published version" test $bfail = 0 -a "$bsteps" -gt 5
  fi
else
  bad "dl-gen not found beside $DL (make bench)"
fi

# ---- crash test: kill at every fault point of an import ----
base=$T/crash_base; cp -a "$L" "$base"
imp() { "$FDL" features import "$T/f.csv" --name crash --version 2.0.0 --entity-col sym --ts-col time --interval 1m; }
steps=$(cp -a "$base" "$T/probe" && DL_ROOT=$T/probe DL_FAULT_TRACE=1 imp 2>&1 >/dev/null | grep -c '^dl-fault-step')
fault_fail=0
for ((n = 1; n <= steps; n++)); do
  rm -rf "$T/cl"; cp -a "$base" "$T/cl"
  rc=$( { DL_ROOT=$T/cl DL_FAULT_AT=$n imp >/dev/null 2>&1; echo $?; } 2>/dev/null)
  [ "$rc" = 137 ] || { echo "  step $n: expected SIGKILL, exit $rc"; fault_fail=1; continue; }
  DL_ROOT=$T/cl "$DL" verify >/dev/null || { echo "  step $n: verify not clean"; fault_fail=1; }
  if DL_ROOT=$T/cl "$DL" features info crash@2.0.0 >/dev/null 2>&1; then
    echo "  step $n: version visible after a kill before its catalog commit"; fault_fail=1
  fi
  DL_ROOT=$T/cl imp >/dev/null 2>&1 || { echo "  step $n: rerun failed"; fault_fail=1; }
  g=$(DL_ROOT=$T/cl "$DL" features get --entities "$T/e.csv" --features crash@2.0.0 --format csv | sed 's/crash__/mom__/g')
  [ "$g" = "$expected" ] || { echo "  step $n: rerun gives other rows"; fault_fail=1; }
done
check "import killed at each of $steps fault points: no half-published version" test $fault_fail = 0 -a "$steps" -gt 5

kill_fail=0
python3 -c 'import random
random.seed(5)
print("sym,time,x")
for i in range(200000): print("S%d,%d,%f" % (i % 20, 1704067200000 + (i // 20) * 60000, random.random()))' >"$T/big.csv"
for ((i = 0; i < 6; i++)); do
  rm -rf "$T/kl"; cp -a "$base" "$T/kl"
  DL_ROOT=$T/kl "$DL" features import "$T/big.csv" --name big --version 1.0.0 --entity-col sym --ts-col time >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  DL_ROOT=$T/kl "$DL" verify --repair >/dev/null 2>&1
  DL_ROOT=$T/kl "$DL" verify >/dev/null || { echo "  kill $i: verify not clean"; kill_fail=1; }
  if info=$(DL_ROOT=$T/kl "$DL" features info big@1.0.0 --json 2>/dev/null); then
    grep -q '"rows":200000,"symbols":20' <<<"$info" || { echo "  kill $i: partial version $info"; kill_fail=1; }
  fi
  DL_ROOT=$T/kl "$DL" features import "$T/big.csv" --name big --version 1.0.0 --entity-col sym --ts-col time >/dev/null ||
    { echo "  kill $i: rerun failed"; kill_fail=1; }
done
check "SIGKILL at random moments of an import: version absent or complete" test $kill_fail = 0

echo "features_cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
