#!/usr/bin/env bash
# test_query_cli.sh -- `dl query`, `dl resample` and `dl join` on a lake
# built from the generator's --small dataset:
#   query:    --from/--to boundaries against the source CSV, --where against a
#             naive filter, --columns, --limit, --tail, a glob over three
#             symbols with the symbol column, clean errors (unknown column /
#             dataset / bad filter: exit 1), --format parquet read back with
#             `dl cat`, --format arrow read by apache-arrow (node);
#   resample: 1m -> 1h equals a naive aggregation, idempotent second run, one
#             changed source day recomputes only that agg day file (others keep
#             their bytes), lineage in the history, refusals, trades -> 1m bars;
#   join:     every trade gets the last kline at or before it (checked by a
#             naive merge), --tolerance, --from/--to, --columns, refusals.
# Env: DL = path of the dl binary (default build/release/dl).
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
TEST_NAME=query_cli
# shellcheck source=cli_lib.sh
source tests/cli/cli_lib.sh

"$GEN" --out "$T/gen" --small --jobs 2 >/dev/null 2>&1 || { echo "cannot run $GEN"; echo "0 passed, 1 failed"; exit 1; }
K=$T/gen/klines
BTC=BINANCE/SPOT/BTCUSDT/raw/1m
TRADES=BINANCE/SPOT/BTCUSDT/ticks/trades
export DL_ROOT=$T/lake
"$DL" init >/dev/null && "$DL" ingest binance --no-fsync "$K"/*.csv "$T"/gen/trades/*.csv >/dev/null ||
  { echo "cannot build the lake"; echo "0 passed, 1 failed"; exit 1; }

# ================= query =================
# --from/--to: half-open, equal to the generator's rows of that range (open_time ms)
from_ms=1701734400000 # 2023-12-05T00:00:00Z
to_ms=1701820800000   # 2023-12-06T00:00:00Z
want=$(cat "$K"/BTCUSDT-1m-2023-12.csv | awk -F, -v a=$from_ms -v b=$to_ms '$1 >= a && $1 < b' | wc -l)
out=$("$DL" query $BTC --from 2023-12-05 --to 2023-12-06 --format csv)
check "range: row count equals the source's" test "$(tail -n +2 <<<"$out" | wc -l)" = "$want"
check "range: starts at --from" grep -q '^2023-12-05T00:00:00.000000Z,' <<<"$(sed -n 2p <<<"$out")"
check "range: ends before --to" grep -q '^2023-12-05T23:59:00.000000Z,' <<<"$(tail -n 1 <<<"$out")"
out=$("$DL" query $BTC --from 2023-12-05T00:00:00.000001Z --to 2023-12-05T00:03:00Z --format csv | tail -n +2 | cut -d, -f1)
check "range: --from is inclusive to the microsecond, --to exclusive" \
  test "$out" = "$(printf '2023-12-05T00:01:00.000000Z\n2023-12-05T00:02:00.000000Z')"
check "range: epoch ms accepted" test "$("$DL" query $BTC --from $from_ms --to $to_ms --format csv | tail -n +2 | wc -l)" = "$want"

# --where against the same filter applied to the unfiltered rows
all=$("$DL" query $BTC --format csv --columns ts,close,volume)
want=$(tail -n +2 <<<"$all" | awk -F, '$2 > 30000 && $3 > 5' | wc -l)
got=$("$DL" query $BTC --format csv --columns ts,close,volume --where 'close > 30000 and volume > 5' | tail -n +2)
check "where: same rows as a naive filter" test "$(wc -l <<<"$got")" = "$want"
check "where: rows really match" test "$(awk -F, '!($2 > 30000 && $3 > 5)' <<<"$got" | wc -l)" = 0
check "where: some rows match, some do not" test "$want" -gt 0 -a "$want" -lt "$(gen_rows BTCUSDT)"
check "columns: header in the requested order" test "$(head -n 1 <<<"$all")" = "ts,close,volume"
check "limit 5" test "$("$DL" query $BTC --format csv --limit 5 | tail -n +2 | wc -l)" = 5
check "limit: first rows" test "$("$DL" query $BTC --format csv --limit 2 --columns ts,close | tail -n +2)" = "$(sed -n 2,3p <<<"$all" | cut -d, -f1,2)"
check "tail 3: the last rows" test "$("$DL" query $BTC --format csv --tail 3 --columns ts,close,volume | tail -n +2)" = "$(tail -n 3 <<<"$all")"
check "table format shows 20 rows by default" test "$("$DL" query $BTC | wc -l)" = 22

# several datasets: glob + symbol column
out=$("$DL" query 'BINANCE/SPOT/*/raw/1m' --to 2023-12-01T00:03:00Z --columns symbol,ts,close --format csv)
check "glob: symbol column first" test "$(head -n 1 <<<"$out")" = "symbol,ts,close"
check "glob: three symbols" test "$(tail -n +2 <<<"$out" | cut -d, -f1 | sort -u | tr '\n' ' ')" = "BNBUSDT BTCUSDT ETHUSDT "
check "glob: dataset order then time order" test "$(tail -n +2 <<<"$out" | cut -d, -f1,2 | sort -c -t, -k1,1 -k2,2 && echo sorted)" = sorted
check "glob: 3 rows each" test "$(tail -n +2 <<<"$out" | wc -l)" = 9

# errors
fails "unknown column: exit 1, names it" 1 "unknown column 'clsoe'" "$DL" query $BTC --columns ts,clsoe
fails "unknown dataset: exit 1" 1 "BINANCE/SPOT/NOPE/raw/1m does not exist" "$DL" query BINANCE/SPOT/NOPE/raw/1m
fails "glob matching nothing: exit 1" 1 "no dataset matches 'BINANCE/SPOT/*/raw/5m'" "$DL" query 'BINANCE/SPOT/*/raw/5m'
fails "bad filter: exit 1 with offset" 1 "offset" "$DL" query $BTC --where 'close >> 3'
fails "unknown column in filter: exit 1" 1 "unknown column 'nope'" "$DL" query $BTC --where 'nope > 3'
fails "bad --from: usage exit 2" 2 "--from" "$DL" query $BTC --from yesterday
fails "parquet needs --output: exit 2" 2 "--output" "$DL" query $BTC --format parquet
fails "limit and tail exclude each other" 2 "exclude" "$DL" query $BTC --limit 1 --tail 1

# parquet output, read back with dl cat
"$DL" query $BTC --from 2023-12-10 --to 2023-12-12 --where 'volume > 1' --format parquet --output "$T/q.parquet"
check "parquet: dl cat reads back the same rows" test \
  "$("$DL" cat "$T/q.parquet" --format csv)" = "$("$DL" query $BTC --from 2023-12-10 --to 2023-12-12 --where 'volume > 1' --format csv)"

# --read-ahead-mb bounds the read-ahead, not the answer
check "read-ahead: a 1 MiB budget gives the same rows" test \
  "$("$DL" query $BTC --format csv --threads 4 --read-ahead-mb 1 | sha256sum)" = "$("$DL" query $BTC --format csv | sha256sum)"
fails "read-ahead: 0 refused" 2 "--read-ahead-mb" "$DL" query $BTC --read-ahead-mb 0

# --output: the same bytes as stdout; never inside the lake or onto a lake file
"$DL" query $BTC --from 2023-12-10 --to 2023-12-11 --format csv >"$T/stdout.csv"
"$DL" query $BTC --from 2023-12-10 --to 2023-12-11 --format csv --output "$T/file.csv"
check "output: the file holds the bytes stdout gets" cmp -s "$T/stdout.csv" "$T/file.csv"
live=$(find "$DL_ROOT/BINANCE/SPOT/BTCUSDT/raw/1m" -name data.parquet | sort | head -n 1)
sums_before=$(cd "$DL_ROOT" && find . -type f -not -path './.dl/tmp/*' | sort | xargs sha256sum)
fails "output: inside the lake refused" 1 "inside the lake" "$DL" query $BTC --format csv --output "$DL_ROOT/out.csv"
fails "output: onto a live data file refused" 1 "inside the lake" "$DL" query $BTC --format parquet --output "$live"
fails "output: onto the catalog refused" 1 "inside the lake" "$DL" query $BTC --format csv --output "$DL_ROOT/.dl/catalog.db"
ln -s "$DL_ROOT/BINANCE" "$T/dirlink"
fails "output: through a directory symlink into the lake refused" 1 "inside the lake" \
  "$DL" query $BTC --format csv --output "$T/dirlink/SPOT/new.csv"
ln -s "$DL_ROOT/not-yet.csv" "$T/dangling"
fails "output: a dangling symlink into the lake refused" 1 "inside the lake" "$DL" query $BTC --format arrow --output "$T/dangling"
ln "$live" "$T/hardlink.parquet"
fails "output: a hard link to a lake file refused" 1 "hard links" "$DL" query $BTC --format csv --output "$T/hardlink.parquet"
rm -f "$T/hardlink.parquet"
fails "join output: inside the lake refused" 1 "inside the lake" "$DL" join $TRADES $BTC --format csv --output "$DL_ROOT/j.csv"
sums_after=$(cd "$DL_ROOT" && find . -type f -not -path './.dl/tmp/*' | sort | xargs sha256sum)
check "output: the lake is untouched by the refusals" test "$sums_before" = "$sums_after"
check "output: no file was created in the lake" test ! -e "$DL_ROOT/out.csv" -a ! -e "$DL_ROOT/not-yet.csv" -a ! -e "$DL_ROOT/j.csv"

# Arrow IPC stream read by apache-arrow JS
"$DL" query $BTC --columns ts,close,trade_count --from 2023-12-10 --to 2023-12-11 --format arrow --output "$T/q.arrow"
want_sum=$("$DL" query $BTC --columns trade_count --from 2023-12-10 --to 2023-12-11 --format csv | tail -n +2 | awk '{s += $1} END {print s}')
want_rows=$("$DL" query $BTC --from 2023-12-10 --to 2023-12-11 --format csv | tail -n +2 | wc -l)
check "arrow: apache-arrow reads rows, names and values" node -e '
  const { createRequire } = require("module");
  const arrow = createRequire(process.argv[1] + "/tests/interop/package.json")("apache-arrow");
  const t = arrow.tableFromIPC(require("fs").readFileSync(process.argv[2]));
  const names = t.schema.fields.map(f => f.name).join(",");
  let sum = 0n; for (const v of t.getChild("trade_count")) sum += BigInt(v);
  const ts0 = t.getChild("ts").get(0);
  const ok = names === "ts,close,trade_count" && t.numRows === Number(process.argv[3]) &&
    sum === BigInt(process.argv[4]) && Number(ts0) === 1702166400000;
  if (!ok) console.error(names, t.numRows, sum, ts0);
  process.exit(ok ? 0 : 1)' "$REPO" "$T/q.arrow" "$want_rows" "$want_sum"

# ================= resample =================
H=BINANCE/SPOT/BTCUSDT/agg/1h
out=$("$DL" resample $BTC --to 1h --json)
check "resample: first run computes every day" grep -q '"days":60,"days_recomputed":60,"days_written":60' <<<"$out"
check "resample: version 1" grep -q '"version":1}' <<<"$out"
# naive 1h bars from the raw rows (first open, max high, min low, last close,
# sums of volume and trade_count in row order), compared number by number
naive_check='
  const fs = require("fs");
  const rows = s => fs.readFileSync(s, "utf8").trim().split("\n").slice(1).map(l => l.split(","));
  const want = [];
  for (const [ts, o, h, l, c, v, n] of rows(process.argv[1])) {
    const hour = ts.slice(0, 13), b = want[want.length - 1];
    if (!b || b[0] !== hour) want.push([hour, +o, +h, +l, +c, +v, +n]);
    else { b[2] = Math.max(b[2], +h); b[3] = Math.min(b[3], +l); b[4] = +c; b[5] += +v; b[6] += +n; }
  }
  const got = rows(process.argv[2]);
  let bad = got.length !== want.length ? 1 : 0;
  got.forEach((g, i) => {
    const w = want[i] || [];
    if (g[0] !== w[0] + ":00:00.000000Z" || g.slice(1).some((x, k) => +x !== w[k + 1])) bad++;
  });
  if (bad) console.error("naive 1h bars differ:", bad, "of", got.length);
  process.exit(bad ? 1 : 0)'
naive() {
  "$DL" query $BTC --columns ts,open,high,low,close,volume,trade_count --format csv > "$T/raw.csv"
  "$DL" query $H --columns ts,open,high,low,close,volume,trade_count --format csv > "$T/agg.csv"
  node -e "$naive_check" "$T/raw.csv" "$T/agg.csv"
}
check "resample: 1h bars equal a naive aggregation" naive
agg_files() { (cd "$DL_ROOT" && find BINANCE/SPOT/BTCUSDT/agg/1h -name '*.parquet' | sort | xargs sha256sum); }
before=$(agg_files)
out=$("$DL" resample $BTC --to 1h --json)
check "resample: second run recomputes nothing" grep -q '"days_recomputed":0,"days_written":0' <<<"$out"
check "resample: second run makes no version" grep -q '"version":0}' <<<"$out"
check "resample: second run leaves the files" test "$before" = "$(agg_files)"
check "resample: text output says up to date" bash -c '"$0" resample '$BTC' --to 1h | grep -q "up to date"' "$DL"

# change one source day (2023-12-01) so that no bar changes: only the first 10
# minutes' close (an hour's close is its last minute's): recomputed, nothing written
awk -F, 'NR<=10 {OFS=","; $5="1.00000000"} {print}' "$K/BTCUSDT-1m-2023-12.csv" > "$T/BTCUSDT-1m-2023-12.csv"
"$DL" ingest binance --no-fsync "$T/BTCUSDT-1m-2023-12.csv" >/dev/null
out=$("$DL" resample $BTC --to 1h --json)
check "resample: day recomputed, identical bars not written" grep -q '"source_version":2,.*"days_recomputed":1,"days_written":0,.*"version":0}' <<<"$out"
check "resample: reads one day of rows" grep -q '"rows_in":14[0-9][0-9],' <<<"$out"
check "resample: files untouched" test "$before" = "$(agg_files)"
# now the volumes of that day change too
awk -F, 'NR<=10 {OFS=","; $5="1.00000000"; $6="123.00000000"} {print}' "$K/BTCUSDT-1m-2023-12.csv" > "$T/BTCUSDT-1m-2023-12.csv"
"$DL" ingest binance --no-fsync "$T/BTCUSDT-1m-2023-12.csv" >/dev/null
out=$("$DL" resample $BTC --to 1h --json)
check "resample: one changed day recomputed and written" grep -q '"days_recomputed":1,"days_written":1' <<<"$out"
check "resample: new version 2 from source version 3" grep -q '"source_version":3,"recorded_source_version":1,.*"version":2}' <<<"$out"
changed=$(diff <(echo "$before") <(agg_files) | grep '^>' | awk '{print $3}')
check "resample: only that day's agg file changed" test "$changed" = "BINANCE/SPOT/BTCUSDT/agg/1h/2023/12/01/data.parquet"
check "resample: changed bars equal the naive aggregation" naive
check "resample: lineage in the history" bash -c '"$0" history '$H' | tail -n 1 | grep -q "dl.source='$BTC' dl.source_version=3"' "$DL"
check "resample: up to date afterwards" grep -q '"days_recomputed":0' <<<"$("$DL" resample $BTC --to 1h --json)"
check "resample: 1d bars, one per day" bash -c '"$0" resample '$BTC' --to 1d >/dev/null && [ "$("$0" query BINANCE/SPOT/BTCUSDT/agg/1d --format csv | tail -n +2 | wc -l)" = 60 ]' "$DL"

out=$("$DL" resample $TRADES --to 1m --json)
check "resample trades: bars written" grep -q '"rows_in":400000,"bars":2880,"version":1}' <<<"$out"
check "resample trades: trade counts add up" test \
  "$("$DL" query BINANCE/SPOT/BTCUSDT/agg/1m --columns trades --format csv | tail -n +2 | awk '{s += $1} END {print s}')" = 400000
check "resample trades: vwap column" bash -c '"$0" query BINANCE/SPOT/BTCUSDT/agg/1m --limit 1 --format csv | head -n 1 | grep -q ",vwap,trades$"' "$DL"

fails "resample: 7m refused" 1 "do not tile a UTC day" "$DL" resample $BTC --to 7m
fails "resample: 1w refused" 1 "longer than a day" "$DL" resample $BTC --to 1w
fails "resample: 90s from 1m refused" 1 "not a multiple of the source period" "$DL" resample $BTC --to 90s
fails "resample: klines into the trades' agg/1m refused" 1 "would mix two sources" "$DL" resample $BTC --to 1m
fails "resample: unknown dataset" 1 "does not exist" "$DL" resample BINANCE/SPOT/NOPE/raw/1m --to 1h
fails "resample: --to required" 2 "--to" "$DL" resample $BTC

# ================= join =================
"$DL" join $TRADES $BTC --columns ts,price,close --format csv > "$T/join.csv"
"$DL" query $BTC --from 2023-11-30 --to 2023-12-03 --columns ts,close --format csv > "$T/k.csv"
# naive as-of: walk the klines along the trades (both sorted by ts)
asof_check='
  const fs = require("fs");
  const rows = s => fs.readFileSync(s, "utf8").trim().split("\n").slice(1).map(l => l.split(","));
  const k = rows(process.argv[1]), j = rows(process.argv[2]);
  const tol = Number(process.argv[3]), from = process.argv[4] || "", to = process.argv[5] || "~";
  const delay = Number(process.argv[8] || 0), ms = s => Date.parse(s);
  let p = -1, bad = 0, nulls = 0;
  for (const [ts, price, close] of j) {
    while (p + 1 < k.length && ms(k[p + 1][0]) + delay <= ms(ts)) p++;
    let want = p < 0 ? "" : k[p][1];
    if (p >= 0 && tol >= 0 && ms(ts) - ms(k[p][0]) - delay > tol) want = "";
    if (close !== want || ts < from || ts >= to) bad++;
    if (close === "") nulls++;
  }
  const n = Number(process.argv[6]);
  if (bad || (n && j.length !== n)) console.error("bad", bad, "rows", j.length);
  if (process.argv[7] === "print-nulls") console.log(nulls);
  process.exit(bad || (n && j.length !== n) ? 1 : 0)'
check "join: every trade gets the last kline at or before it" node -e "$asof_check" "$T/k.csv" "$T/join.csv" -1 "" "" 400000
check "join: header" test "$(head -n 1 "$T/join.csv")" = "ts,price,close"
"$DL" join $TRADES $BTC --columns ts,price,close --tolerance 20s --format csv > "$T/join_tol.csv"
nulls=$(node -e "$asof_check" "$T/k.csv" "$T/join_tol.csv" 20000 "" "" 400000 print-nulls)
check "join: --tolerance 20s nulls stale matches" test "${nulls:-0}" -gt 1000
"$DL" join $TRADES $BTC --columns ts,price,close --from 2023-12-02T10:00:30Z --to 2023-12-02T11:00:00Z --format csv > "$T/join_range.csv"
check "join: --from/--to, first rows still see the kline before --from" node -e "$asof_check" "$T/k.csv" "$T/join_range.csv" -1 2023-12-02T10:00:30 2023-12-02T11:00:00 0
check "join: range result is not empty" test "$(wc -l < "$T/join_range.csv")" -gt 100
check "join: first row matched" test "$(sed -n 2p "$T/join_range.csv" | cut -d, -f3)" != ""
"$DL" join $TRADES $BTC --columns ts,price,close --right-delay 1m --from 2023-12-02T10:00:30Z --to 2023-12-02T12:00:00Z --format csv > "$T/join_delay.csv"
check "join: --right-delay 1m matches only closed klines" node -e "$asof_check" "$T/k.csv" "$T/join_delay.csv" -1 2023-12-02T10:00:30 2023-12-02T12:00:00 0 - 60000
check "join: --right-delay differs from no delay" test "$(sed -n 2p "$T/join_delay.csv")" != "$(sed -n 2p "$T/join_range.csv")"
"$DL" join $TRADES $BTC --columns ts,price,close --right-delay 1m --tolerance 30s --format csv > "$T/join_dt.csv"
check "join: --right-delay with --tolerance" node -e "$asof_check" "$T/k.csv" "$T/join_dt.csv" 30000 "" "" 400000 - 60000
check "join: clashing names get right_" bash -c '"$0" join '$BTC' BINANCE/SPOT/ETHUSDT/raw/1m --limit 1 --format csv | head -n 1 | grep -q "^ts,open,.*,right_open,right_high,right_low,right_close,"' "$DL"
"$DL" join $TRADES $BTC --columns ts,price,close --format parquet --output "$T/j.parquet"
check "join: parquet output reads back" test "$("$DL" cat "$T/j.parquet" --format csv)" = "$(cat "$T/join.csv")"
check "join: --tail" test "$("$DL" join $TRADES $BTC --columns ts,price,close --format csv --tail 2 | tail -n +2)" = "$(tail -n 2 "$T/join.csv")"
fails "join: unknown column" 1 "unknown column 'nope' (join columns: ts, trade_id" "$DL" join $TRADES $BTC --columns ts,nope
fails "join: unknown dataset" 1 "does not exist" "$DL" join $TRADES BINANCE/SPOT/NOPE/raw/1m
fails "join: glob refused" 2 "one dataset per side" "$DL" join 'BINANCE/SPOT/*/raw/1m' $BTC
fails "join: bad tolerance" 2 "--tolerance" "$DL" join $TRADES $BTC --tolerance soon

echo "$passed passed, $failed failed"
((failed == 0))
