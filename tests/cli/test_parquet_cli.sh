#!/usr/bin/env bash
# test_parquet_cli.sh -- end-to-end tests of the `dl` CLI's Parquet commands:
# help/version/usage errors and exit codes, `dl demo`, `dl cat` in every
# format, `dl schema`, and clean errors (exit 1, "dl: ..." on stderr, never a
# crash) for missing, non-Parquet, truncated and corrupted files.
# Usage: DL=build/release/dl bash tests/cli/test_parquet_cli.sh
# Prints "N passed, N failed"; exits non-zero when a check fails.
set -u
DL=${DL:-build/release/dl}
DL=$(cd "$(dirname "$DL")" && pwd)/$(basename "$DL")
TOOLS=$(dirname "$DL")/tools
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dl-cli-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && printf '     %s\n' "$2"; }

# run ARGS...: runs dl, keeping stdout in $out, stderr in $err, status in $rc
run() {
  "$DL" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
}
# expect NAME WANT_RC [PATTERN_IN_STDOUT] [PATTERN_IN_STDERR]
expect() {
  local name=$1 want=$2 pat_out=${3:-} pat_err=${4:-}
  if [ "$rc" != "$want" ]; then fail "$name" "exit $rc, expected $want; stderr: ${err:0:300}"; return; fi
  if [ -n "$pat_out" ] && ! grep -Eq -- "$pat_out" "$tmp/out"; then fail "$name" "stdout lacks /$pat_out/: ${out:0:300}"; return; fi
  if [ -n "$pat_err" ] && ! grep -Eq -- "$pat_err" "$tmp/err"; then fail "$name" "stderr lacks /$pat_err/: ${err:0:300}"; return; fi
  ok "$name"
}
# expect_error NAME: exit 1 with exactly one "dl: ..." line on stderr (a clean error, no crash)
expect_error() {
  local name=$1
  if [ "$rc" -ge 128 ]; then fail "$name" "killed by signal $((rc - 128)); stderr: ${err:0:300}"; return; fi
  if [ "$rc" != 1 ]; then fail "$name" "exit $rc, expected 1; stderr: ${err:0:300}"; return; fi
  if ! [[ "$err" =~ ^dl:\ .+ ]] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ]; then
    fail "$name" "stderr is not one 'dl: message' line: ${err:0:300}"
    return
  fi
  ok "$name"
}

# ---------------------------------------------------------------- usage
run --help
expect "dl --help lists the commands and exit codes" 0 "exit status" ""
for c in schema cat demo; do
  grep -Eq "^  $c " "$tmp/out" || fail "dl --help lists $c"
done
run --version
expect "dl --version" 0 "^dl [0-9]+\.[0-9]+\.[0-9]+$"
run
expect "dl without a command is a usage error" 2 "" "usage: dl COMMAND"
run frobnicate
expect "unknown command: exit 2 with a hint" 2 "" "unknown command 'frobnicate'.*|dl --help"
grep -q "dl --help" "$tmp/err" || fail "unknown command hint names dl --help"
for c in schema cat demo; do
  run "$c" --help
  expect "dl $c --help" 0 "^usage: dl $c"
  grep -q "exit status" "$tmp/out" || fail "dl $c --help documents the exit status"
done
run cat
expect "dl cat without a file: usage error" 2 "" "missing argument"
run schema a.parquet b.parquet
expect "dl schema with two files: usage error" 2 "" "unexpected argument"
run cat x.parquet --bogus
expect "unknown option: usage error" 2 "" "unknown option '--bogus'"
run cat x.parquet --limit
expect "option without its value: usage error" 2 "" "needs a value"
run cat x.parquet --limit -3
expect "negative --limit: usage error" 2 "" "--limit"
run cat x.parquet --limit 12abc
expect "junk --limit: usage error" 2 "" "--limit"
run cat x.parquet --format xml
expect "unknown --format: usage error" 2 "" "table, csv or jsonl"
run schema x.parquet --json=yes
expect "flag given a value: usage error" 2 "" "takes no value"
run demo parquet --rows many
expect "dl demo parquet --rows junk: usage error" 2 "" "--rows"

# ---------------------------------------------------------------- demo
demo=$tmp/demo.parquet
run demo parquet --out "$demo" --rows 500
expect "dl demo writes, reads back and verifies" 0 "verified: 500 rows x 9 columns"
grep -q "taker_buy_volume" "$tmp/out" || fail "dl demo prints the schema"
run demo parquet --rows 30
expect "dl demo to a temporary file" 0 "wrote 30 rows to .*dl-demo-.*\.parquet"
tmpfile=$(sed -n 's/^dl demo: wrote 30 rows to \(.*\) ([0-9]* bytes)$/\1/p' "$tmp/out")
if [ -n "$tmpfile" ] && [ -f "$tmpfile" ]; then ok "dl demo names the file it wrote"; rm -f "$tmpfile"
else fail "dl demo names the file it wrote" "no file '$tmpfile'"; fi
run demo parquet --rows 0 --out "$tmp/empty.parquet"
expect "dl demo with 0 rows" 0 "verified: 0 rows"

# the lake's main job on the built-in sample (README's first command)
run demo --dir "$tmp/job"
expect "dl demo runs the lake's main job" 0 "ok: 8 files .* 0 problems"
grep -q '2024-01-02T10:00:00.000000Z .. 2024-01-02T11:59:00.000000Z  120 missing' "$tmp/out" ||
  fail "dl demo shows BTCUSDT's two-hour outage" "$(head -c 300 "$tmp/out")"
grep -q '2024-01-02T00:00:00.000000Z .. 2024-01-02T23:59:00.000000Z  1440 missing' "$tmp/out" ||
  fail "dl demo shows ETHUSDT's missing day"
grep -Eq '^query: 2 datasets, .* rows returned' "$tmp/err" || fail "dl demo prints pruning statistics"
grep -q 'BINANCE/SPOT/BTCUSDT/agg/1h: 3 of 3 days recomputed (4200 rows -> 70 bars)' "$tmp/out" ||
  fail "dl demo resamples 4200 minutes (two missing hours) to 70 hourly bars"
[ "$(DL_ROOT=$tmp/job/lake "$DL" query BINANCE/SPOT/ETHUSDT/raw/1m --format csv | wc -l)" = 2881 ] ||
  fail "dl demo keeps its lake with --dir: ETHUSDT has 2 days of 1440 bars"
run demo --dir "$tmp/job"
expect "dl demo refuses to reuse a lake" 2 "" "exists already"
mkdir -p "$tmp/private"
TMPDIR=$tmp/private run demo
expect "dl demo in a temporary directory" 0 "0 problems"
[ -z "$(ls -A "$tmp/private")" ] || fail "dl demo removes its temporary directory" "$(ls "$tmp/private")"

# ---------------------------------------------------------------- cat
run cat "$demo" --format jsonl
expect "cat --format jsonl" 0
[ "$(wc -l <"$tmp/out")" = 500 ] || fail "jsonl prints one line per row" "$(wc -l <"$tmp/out") lines"
first='{"ts":"2024-01-01T00:00:00.000Z","symbol":"BTCUSDT","open":42000,"high":42047.3,"low":41988.3,"close":42040.58,"volume":17.20954,"trade_count":1250,"taker_buy_volume":14.94181}'
if [ "$(head -1 "$tmp/out")" = "$first" ]; then ok "jsonl first row is exact"; else fail "jsonl first row is exact" "$(head -1 "$tmp/out")"; fi
if sed -n 4p "$tmp/out" | grep -q '"taker_buy_volume":null}$'; then ok "jsonl prints null"; else fail "jsonl prints null" "$(sed -n 4p "$tmp/out")"; fi

run cat "$demo" --format csv
expect "cat --format csv" 0 "^ts,symbol,open,high,low,close,volume,trade_count,taker_buy_volume$"
[ "$(wc -l <"$tmp/out")" = 501 ] || fail "csv prints a header and every row" "$(wc -l <"$tmp/out") lines"
if sed -n 5p "$tmp/out" | grep -q ',$'; then ok "csv null is an empty field"; else fail "csv null is an empty field" "$(sed -n 5p "$tmp/out")"; fi

run cat "$demo" --format csv --columns close,symbol --limit 3
expect "cat --columns --limit" 0 "^close,symbol$"
want=$'close,symbol\n42040.58,BTCUSDT\n2297.41,ETHUSDT\n100.01,SOLUSDT'
[ "$out" = "$want" ] && ok "cat --columns picks and orders columns" || fail "cat --columns picks and orders columns" "$out"

run cat "$demo" --format=jsonl --limit=2
expect "cat --opt=value syntax" 0
[ "$(wc -l <"$tmp/out")" = 2 ] || fail "--limit=2 prints 2 rows"

run cat "$demo"
expect "cat default table" 0 "^ts +symbol +open"
# header + rule + 20 rows + "(20 of 500 rows ...)"
[ "$(wc -l <"$tmp/out")" = 23 ] && ok "table shows 20 rows by default" || fail "table shows 20 rows by default" "$(wc -l <"$tmp/out") lines"
grep -q "(20 of 500 rows" "$tmp/out" || fail "table says rows were left out"
run cat "$demo" --limit 0 --format table
expect "cat --limit 0 prints only the header" 0 "^-+"
[ "$(wc -l <"$tmp/out")" = 3 ] || fail "--limit 0 table has 3 lines" "$out"

run cat "$demo" --columns close,nope
expect_error "unknown column: clean error"
grep -q "no column 'nope'.*available columns: ts, symbol, open" "$tmp/err" && ok "unknown column lists the available ones" ||
  fail "unknown column lists the available ones" "$err"

if [ -w /dev/full ]; then
  "$DL" cat "$demo" --format csv >/dev/full 2>"$tmp/err"
  rc=$?
  err=$(cat "$tmp/err")
  expect_error "write error on stdout is reported"
fi

# ---------------------------------------------------------------- schema
run schema "$demo"
expect "schema text" 0 "^rows +500$"
grep -Eq "^  +0  ts +timestamp\[ms, UTC\] +INT64 +TIMESTAMP" "$tmp/out" && ok "schema lists the ts column" ||
  fail "schema lists the ts column" "$(grep ' ts ' "$tmp/out" | head -2)"
grep -Eq "^row group 0: 500 rows" "$tmp/out" || fail "schema shows row groups"
grep -Eq "^  ts +ZSTD +.* 2024-01-01T00:00:00.000Z +2024-01-01T02:46:00.000Z" "$tmp/out" && ok "schema shows ts statistics" ||
  fail "schema shows ts statistics" "$(grep '^  ts ' "$tmp/out")"
run schema "$demo" --json
expect "schema --json" 0 '^\{"file":'
if command -v node >/dev/null; then
  if node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8")); if (s.num_rows!==500||s.columns.length!==9||s.row_groups[0].columns[8].statistics.null_count<1) process.exit(1)' <"$tmp/out"; then
    ok "schema --json is valid JSON with rows, columns and null counts"
  else fail "schema --json is valid JSON with rows, columns and null counts"; fi
fi

# fixture with awkward strings (built by make: build/<mode>/tools/dl_fixtures)
if [ -x "$TOOLS/dl_fixtures" ] && "$TOOLS/dl_fixtures" "$tmp" >/dev/null; then
  run cat "$tmp/zstd.parquet" --format csv --columns text --limit 4
  want=$'text\n""\nh\u00e9llo \u2713 \u65e5\u672c \U0001F680\n"comma, ""quote"" and\nnewline\r\n"\ntab\there \x01 control \x1f'
  [ "$out" = "$want" ] && ok "csv quotes per RFC 4180" || fail "csv quotes per RFC 4180" "$(printf '%q' "$out")"
  run cat "$tmp/zstd.parquet" --format jsonl --columns text,f64,blob --limit 4
  want='{"text":"","f64":-0,"blob":"m7mtHxWGwA=="}
{"text":"héllo ✓ 日本 🚀","f64":0,"blob":"nhvVSDFIYHRS/Q=="}
{"text":"comma, \"quote\" and\nnewline\r\n","f64":1e-300,"blob":"v3Du"}
{"text":"tab\there \u0001 control \u001f","f64":5e-324,"blob":"0+Qb"}'
  [ "$out" = "$want" ] && ok "jsonl escapes strings, base64 binary, shortest doubles" ||
    fail "jsonl escapes strings, base64 binary, shortest doubles" "$out"
  run cat "$tmp/zstd.parquet" --format jsonl --columns f64 --limit 13
  [ "$(sed -n 11,13p "$tmp/out" | tr '\n' ' ')" = '{"f64":null} {"f64":null} {"f64":null} ' ] &&
    ok "jsonl prints NaN and infinities as null" || fail "jsonl prints NaN and infinities as null" "$out"
  run cat "$tmp/zstd.parquet" --format table --limit 3 --columns text
  grep -q 'comma, "quote" and\\nnewline\\r\\n' "$tmp/out" && ok "table escapes control characters" ||
    fail "table escapes control characters" "$out"
  run cat "$tmp/empty.parquet" --format csv
  expect "cat of a file without rows prints the header" 0 "^flag,i32,"
else
  fail "dl_fixtures tool available at $TOOLS/dl_fixtures"
fi

# ---------------------------------------------------------------- bad files
run cat "$tmp/does-not-exist.parquet"
expect_error "missing file: clean error"
grep -q "does-not-exist.parquet" "$tmp/err" || fail "missing-file error names the file" "$err"
run schema "$tmp/does-not-exist.parquet"
expect_error "schema of a missing file: clean error"
printf 'ts,close\n1,2\n' >"$tmp/not.parquet"
run cat "$tmp/not.parquet"
expect_error "non-Parquet file: clean error"
: >"$tmp/zero.parquet"
run schema "$tmp/zero.parquet"
expect_error "empty file: clean error"
run cat "$tmp"
expect_error "a directory: clean error"

size=$(stat -c %s "$demo")
crashes=0
for cut in 4 8 12 100 $((size / 2)) $((size - 100)) $((size - 9)) $((size - 8)) $((size - 4)) $((size - 1)); do
  [ "$cut" -gt 0 ] || continue
  head -c "$cut" "$demo" >"$tmp/cut.parquet"
  for cmd in schema cat; do
    run "$cmd" "$tmp/cut.parquet"
    if [ "$rc" != 1 ] || ! [[ "$err" =~ ^dl:\ .+ ]]; then
      crashes=$((crashes + 1))
      echo "     truncated to $cut bytes: dl $cmd exited $rc: ${err:0:200}"
    fi
  done
done
[ $crashes = 0 ] && ok "truncated files: clean errors (exit 1) at every cut" || fail "truncated files: clean errors at every cut"

# corrupted bytes anywhere: any outcome but a crash or a hang
crashes=0
for off in 0 4 20 60 200 $((size / 3)) $((size / 2)) $((size - 200)) $((size - 60)) $((size - 30)) $((size - 12)) $((size - 6)); do
  cp "$demo" "$tmp/bad.parquet"
  printf '\xff\x7f\x00\x80' | dd of="$tmp/bad.parquet" bs=1 seek="$off" conv=notrunc status=none
  for cmd in schema cat; do
    timeout 20 "$DL" "$cmd" "$tmp/bad.parquet" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ $rc -ge 124 ] || { [ $rc = 1 ] && ! grep -q '^dl: ' "$tmp/err"; }; then
      crashes=$((crashes + 1))
      echo "     bytes at $off corrupted: dl $cmd exited $rc: $(head -c 200 "$tmp/err")"
    fi
  done
done
[ $crashes = 0 ] && ok "corrupted files: no crash, hang or unexplained failure" || fail "corrupted files: no crash or hang"

# bit rot in a page: the page CRC names it; --no-crc-check reads the file anyway
cp "$demo" "$tmp/rot.parquet"
off=$((size / 3)) # inside the column chunks, far from header and footer
byte=$(od -An -tu1 -j "$off" -N1 "$tmp/rot.parquet" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 16)))" | dd of="$tmp/rot.parquet" bs=1 seek="$off" conv=notrunc status=none
run cat "$tmp/rot.parquet" --format csv
expect_error "cat: a flipped bit in a page is an error"
[[ "$err" =~ row\ group\ [0-9]+,\ column\ .+,\ page\ [0-9]+\ at\ offset\ [0-9]+:\ page\ CRC-32\ mismatch ]] &&
  ok "cat: the error names row group, column, page and offset" || fail "cat: CRC error message" "$err"
run cat "$tmp/rot.parquet" --format csv --no-crc-check
[ "$rc" != 1 ] || [[ "$err" != *CRC* ]] && ok "cat --no-crc-check skips the page check" ||
  fail "cat --no-crc-check skips the page check" "$err"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
