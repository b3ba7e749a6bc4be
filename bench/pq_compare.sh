#!/usr/bin/env bash
# pq_compare.sh -- Parquet write/read throughput: dl vs DuckDB vs Polars in
# the same run, on a ROWS-row OHLCV table, for zstd and snappy; prints a
# Markdown table with ratios (peer seconds / dl seconds: > 1 means dl is faster).
# Usage: bench/pq_compare.sh [ROWS=20000000] [THREADS=2] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000000}; threads=${2:-2}; runs=${3:-3}
dir=${DL_BENCH_DIR:-/tmp/dl-pq-bench}; mkdir -p "$dir"
make -s -j2 MODE=release bench >/dev/null
res="$dir/results.jsonl"; : > "$res"
for codec in zstd snappy; do
  build/release/pq_bench --rows "$rows" --dir "$dir" --codec "$codec" --threads "$threads" --runs "$runs" | tee -a "$res" >&2
  node bench/pq_peers.mjs --src "$dir/dl_$codec.parquet" --dir "$dir" --codec "$codec" --threads "$threads" --runs "$runs" | tee -a "$res" >&2
done
node - "$res" "$rows" "$threads" <<'JS'
const fs = require('fs');
const [file, rows, threads] = process.argv.slice(2);
const rs = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const get = (e, op, c) => rs.find((r) => r.engine === e && r.op === op && r.codec === c);
console.log(`| op | codec | dl s | DuckDB s | Polars s | dl Mrows/s | vs faster peer | file MB dl/duckdb/polars |`);
console.log(`|---|---|---:|---:|---:|---:|---:|---|`);
for (const c of ['zstd', 'snappy']) for (const op of ['write', 'read']) {
  const d = get('dl', op, c), k = get('duckdb', op, c), p = get('polars', op, c);
  if (!d || !k || !p) continue;
  const best = Math.min(k.seconds, p.seconds);
  const same = JSON.stringify(d.check) === JSON.stringify(k.check) && JSON.stringify(k.check) === JSON.stringify(p.check);
  console.log(`| ${op} | ${c} | ${d.seconds.toFixed(3)} | ${k.seconds.toFixed(3)} | ${p.seconds.toFixed(3)} | ${(d.rows_per_s / 1e6).toFixed(1)} | ${(best / d.seconds).toFixed(2)}x${same ? '' : ' (check differs!)'} | ${[d, k, p].map((x) => (x.bytes / 1e6).toFixed(0)).join('/')} |`);
}
for (const c of ['zstd', 'snappy']) {
  const k = get('duckdb', 'read_dl_file', c), p = get('polars', 'read_dl_file', c);
  if (k && p) console.log(`\npeers reading dl's ${c} file: DuckDB ${k.seconds.toFixed(3)} s, Polars ${p.seconds.toFixed(3)} s`);
}
console.log(`\n${rows} rows (ts + 5 doubles + int64), ${threads} threads, median of runs; ratio = faster peer's seconds / dl's seconds`);
JS
