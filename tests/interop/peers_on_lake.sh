#!/usr/bin/env bash
# peers_on_lake.sh -- the peer benchmark's cases as a correctness test on the
# small generated dataset: dl ingests it into its own lake (dl-bench), then
# DuckDB and Polars run every query case OVER dl's lake (proving the files
# and layout are standard Parquet that other engines read), and dl runs the
# same cases itself.  Every case's answer digest must be identical in all
# engines, and the ingest digests must equal DuckDB's own ingest.
# The data comes from the repo's generator (dl-gen) and the peers from
# bench/peers.mjs (DuckDB and Polars pinned in bench/package.json).
# Usage: DL=build/release/dl tests/interop/peers_on_lake.sh  (dl-bench and
#        dl-gen are taken from beside $DL; `make bench` builds them)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DL="${DL:-$root/build/release/dl}"
GEN="${DL_GEN:-$(dirname "$DL")/dl-gen}"
DLB="${DL_BENCH:-$(dirname "$DL")/dl-bench}"
[ -x "$DLB" ] || { echo "peers_on_lake: $DLB not found (make bench)"; exit 1; }
peers="$root/bench/peers.mjs"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$GEN" --out "$tmp/data" --small --jobs 2 >/dev/null 2>&1 || { echo "peers_on_lake: $GEN failed"; exit 1; }

passed=0; failed=0
check_of() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const l=s.trim().split("\n").pop();process.stdout.write(JSON.stringify(JSON.parse(l).check))}catch(e){}})'; }
same() { # name, then digests that must all be equal
  local name=$1 ref=$2; shift 2
  if [ -z "$ref" ] || [ "$ref" = "null" ]; then echo "FAIL $name: dl produced no digest"; failed=$((failed+1)); return; fi
  for d in "$@"; do
    if [ "$d" != "$ref" ]; then echo "FAIL $name"; echo "  dl:   $ref"; echo "  peer: $d"; failed=$((failed+1)); return; fi
  done
  echo "ok   $name"; passed=$((passed+1))
}
lake=(--lake "$tmp/data/work-dl/klines/BINANCE/SPOT" --lake-subdir raw/1m
      --trades-lake "$tmp/data/work-dl/trades/BINANCE/SPOT" --trades-subdir ticks/trades)
for c in ingest_klines ingest_trades; do
  mine=$("$DLB" --case "$c" --data "$tmp/data" --threads 2 | check_of)
  duck=$(node "$peers" --engine duckdb --case "$c" --data "$tmp/data" --threads 2 2>/dev/null | check_of)
  same "$c: dl lake == DuckDB's own ingest" "$mine" "$duck"
done
for c in scan_range resample_1h bars_from_trades asof_join lake_aggregate; do
  mine=$("$DLB" --case "$c" --data "$tmp/data" --threads 2 | check_of)
  duck=$(node "$peers" --engine duckdb --case "$c" --data "$tmp/data" --threads 2 "${lake[@]}" 2>/dev/null | check_of)
  pol=$(node "$peers" --engine polars --case "$c" --data "$tmp/data" --threads 2 "${lake[@]}" 2>/dev/null | check_of)
  same "$c: dl == DuckDB and Polars reading dl's lake" "$mine" "$duck" "$pol"
done
echo "peers-on-lake: $passed passed, $failed failed"
((failed == 0))
