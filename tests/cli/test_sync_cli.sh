#!/usr/bin/env bash
# test_sync_cli.sh -- `dl sync binance-archive` against a fake exchange
# archive on a random loopback port (tests/fake_exchange): the synced lake
# equals a direct `dl ingest` of the same archives, a re-run fetches
# nothing and changes nothing, a 429 with Retry-After is waited out, a
# CHECKSUM mismatch fails and writes nothing, a 418 stops the sync, a
# missing archive exits 3 (partial).
# Usage: DL=build/release/dl bash tests/cli/test_sync_cli.sh
set -u
TEST_NAME=sync
source "$(dirname "$0")/cli_lib.sh"
FAKE=$(realpath tests/fake_exchange/fake_exchange.py)

"$GEN" --out "$T/gen" --symbols 2 --start 2023-12-01 --days 48 --trade-symbols 0 >/dev/null 2>&1 ||
  { bad "dl-gen"; echo "0 passed, 1 failed"; exit 1; }
/usr/bin/python3 "$FAKE" build --csv "$T/gen/klines" --out "$T/archive"
: >"$T/faults.json"; echo '{}' >"$T/faults.json"
/usr/bin/python3 "$FAKE" serve --root "$T/archive" --port-file "$T/port" --log "$T/requests.log" \
  --faults "$T/faults.json" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$T/port")"
SYMS=$(ls "$T/archive/data/spot/monthly/klines" | paste -sd,)
S1=${SYMS%%,*}
sync() { "$DL" sync binance-archive --base-url "$URL" --market spot --symbols "$SYMS" --kind klines \
  --interval 1m --from 2023-12-01 --to 2024-01-14 --root "$1" "${@:2}"; }
digest() { for d in $("$DL" ls --root "$1" --json | grep -o '"dataset":"[^"]*"\|"name":"[^"]*"' | cut -d'"' -f4 | sort -u); do
  echo "$d"; "$DL" query "$d" --root "$1" --format csv; done | sha256sum; }

"$DL" init --root "$T/lake" >/dev/null
out=$(sync "$T/lake" --dry-run 2>&1)
check "dry run plans a monthly archive for December and daily ones for January" \
  grep -q "dry run: $((2 * 14)) of $((2 * 14)) archives to fetch" <<<"$out"
check "dry run fetches nothing" test ! -s "$T/requests.log"
check "sync exits 0" sync "$T/lake" --json
n1=$(wc -l <"$T/requests.log")
check "monthly file for the closed month, daily files for the rest" bash -c \
  "grep -q 'monthly/klines/$S1/1m/$S1-1m-2023-12.zip ' '$T/requests.log' &&
   grep -q 'daily/klines/$S1/1m/$S1-1m-2024-01-13.zip ' '$T/requests.log' &&
   ! grep -q '2024-01-14' '$T/requests.log' && ! grep -q 'monthly.*2024-01' '$T/requests.log'"
check "every archive's CHECKSUM fetched" test "$(grep -c 'CHECKSUM 200' "$T/requests.log")" = 28

# the same archives ingested directly give the same lake
"$DL" init --root "$T/direct" >/dev/null
find "$T/archive" -name '*.zip' | while read -r z; do
  case "$z" in */monthly/*2023-12.zip|*/daily/*2024-01-0[1-9].zip|*/daily/*2024-01-1[0-3].zip) echo "$z";; esac
done | sort >"$T/direct.list"
check "direct ingest of the same archives" "$DL" ingest binance --root "$T/direct" $(cat "$T/direct.list")
check "synced lake == direct ingest (every dataset's rows)" test "$(digest "$T/lake")" = "$(digest "$T/direct")"

before=$(digest "$T/lake"); hist=$("$DL" history "BINANCE/SPOT/$S1/raw/1m" --root "$T/lake" | wc -l)
check "a re-run succeeds" sync "$T/lake"
check "a re-run fetches nothing" test "$(wc -l <"$T/requests.log")" = "$n1"
check "a re-run changes nothing (rows, versions)" bash -c \
  "[ '$(digest "$T/lake")' = '$before' ] && [ \$('$DL' history 'BINANCE/SPOT/$S1/raw/1m' --root '$T/lake' | wc -l) = $hist ]"

# 429 with Retry-After: 1 is waited out
echo '{"429_once": ["2024-01-14.zip"]}' >"$T/faults.json"
t0=$(date +%s.%N)
check "429 with Retry-After is waited out and the sync succeeds" bash -c \
  "'$DL' sync binance-archive --base-url '$URL' --market spot --symbols '$S1' --from 2024-01-14 --to 2024-01-15 --root '$T/lake' 2>'$T/err429'"
check "the wait honoured Retry-After (>= 1 s)" awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{exit !(b - a >= 1)}'
check "the 429 was answered and retried" bash -c "grep -q '2024-01-14.zip 429' '$T/requests.log' && grep -q 'Retry-After' '$T/err429'"

# a CHECKSUM mismatch fails the sync and writes nothing
echo '{"corrupt_checksum": ["2024-01-15.zip"]}' >"$T/faults.json"
before=$(digest "$T/lake")
fails "a CHECKSUM mismatch fails the sync" 1 "does not match its CHECKSUM" "$DL" sync binance-archive \
  --base-url "$URL" --market spot --symbols "$SYMS" --from 2024-01-15 --to 2024-01-17 --root "$T/lake"
check "... and writes nothing" test "$(digest "$T/lake")" = "$before"

# 418 stops the sync; 500s are retried then reported; a missing archive is partial (exit 3)
echo '{"status": {"2024-01-16.zip": 418}}' >"$T/faults.json"
fails "418 stops the sync with a clear error" 1 "banned" "$DL" sync binance-archive --base-url "$URL" \
  --symbols "$S1" --from 2024-01-16 --to 2024-01-17 --root "$T/lake"
echo '{"status": {"2024-01-16.zip": 500}}' >"$T/faults.json"
fails "500 retried, then a clear error" 1 "failed after 3 attempts" "$DL" sync binance-archive \
  --base-url "$URL" --symbols "$S1" --from 2024-01-16 --to 2024-01-17 --retries 2 --root "$T/lake"
echo '{}' >"$T/faults.json"
"$DL" sync binance-archive --base-url "$URL" --symbols "$S1" --from 2024-01-16 --to 2024-02-20 \
  --root "$T/lake" >/dev/null 2>"$T/err404"; rc=$?
check "archives the exchange does not publish: exit 3 (partial)" test "$rc" = 3
check "... named on stderr" grep -q "not published: .*2024-02-19.zip" "$T/err404"
fails "unknown source: usage error" 2 "unknown source" "$DL" sync nowhere --symbols A --from 2024-01-01 --root "$T/lake"
fails "--to before --from: usage error" 2 "before" "$DL" sync binance-archive --symbols A --from 2024-01-02 --to 2024-01-01 --root "$T/lake"
fails "bad symbol refused" 1 "not an exchange symbol" "$DL" sync binance-archive --base-url "$URL" --symbols '../x' --from 2024-01-01 --to 2024-01-02 --root "$T/lake"
check "the lake is verify-clean after all of it" "$DL" verify --root "$T/lake"

echo "$passed passed, $failed failed"
((failed == 0))
