#!/usr/bin/env bash
# test_plugin_cli.sh -- `dl sync plugin` with the example connector
# examples/proprietary_feed built as a shared object: the synced rows equal
# the feed's records, a re-run changes nothing, a plugin found through
# $DL_PLUGIN_PATH works, a wrong ABI version, a missing entry symbol and a
# hostile (truncated, corrupt) feed are refused with a clear error and
# leave the lake unchanged.
# Usage: DL=build/release/dl bash tests/cli/test_plugin_cli.sh
set -u
TEST_NAME=plugin
source "$(dirname "$0")/cli_lib.sh"
SRC=examples/proprietary_feed/proprietary_feed.c
CC=${CC:-cc}
build() { "$CC" -std=c11 -Wall -Wextra -Werror -shared -fPIC -Iinclude "$@"; }
build -o "$T/propfeed.so" "$SRC" || { bad "build the example plugin"; echo "$passed passed, $failed failed"; exit 1; }
build -DFEED_ABI_VERSION=99 -o "$T/wrong_abi.so" "$SRC"
echo 'int not_a_connector(void) { return 0; }' >"$T/noentry.c"
build -o "$T/noentry.so" "$T/noentry.c"

# feeds: 3 days from 2024-03-01, records every 7 s, plus records outside the range
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
t = sys.argv[1]
day0 = 19783 * 86400 * 10**6  # 2024-03-01
for sym, n, step in (("AAA", 40000, 7_000_000), ("BBB", 9000, 29_000_000)):
    with open(f"{t}/{sym}.bin", "wb") as f:
        for i in range(n):
            ts = day0 - 3_600_000_000 + i * step  # starts an hour before the range
            f.write(struct.pack("<qqddB7x", ts, 1000 + i, 100 + (i % 97) * 0.25, 0.001 * (1 + i % 13), i % 2))
PY
dump() {  # the records of feed $1 with from <= ts < to, as the lake's csv rows
  /usr/bin/python3 - "$1" <<'PY'
import struct, sys, datetime
lo, hi = 19783 * 86400 * 10**6, (19783 + 3) * 86400 * 10**6
data = open(sys.argv[1], "rb").read()
for off in range(0, len(data), 40):
    ts, tid, price, qty, side = struct.unpack_from("<qqddB", data, off)
    if lo <= ts < hi:
        print(ts, tid, repr(price), repr(qty), side)
PY
}
lake_rows() {  # the lake's rows of symbol $2 in lake $1, in the same form
  "$DL" query "PROPFEED/FEED/$2/ticks/trades" --root "$1" --format csv |
    /usr/bin/python3 -c '
import sys, csv, datetime
r = csv.reader(sys.stdin); h = next(r)
for row in r:
    d = dict(zip(h, row)); ts = d["ts"]
    try: us = int(ts)
    except ValueError:
        dt = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        us = (dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(microseconds=1)
    print(us, int(d["trade_id"]), repr(float(d["price"])), repr(float(d["qty"])), int(d["side"]))'
}
digest() { for s in AAA BBB; do "$DL" query "PROPFEED/FEED/$s/ticks/trades" --root "$1" --format csv; done 2>&1 | sha256sum; }
sync() { "$DL" sync plugin --root "$1" --symbols AAA,BBB --from 2024-03-01 --to 2024-03-04 "${@:2}"; }

"$DL" init --root "$T/lake" >/dev/null
check "sync through the plugin exits 0" sync "$T/lake" --plugin "$T/propfeed.so" --plugin-options "file=$T/{SYMBOL}.bin"
for s in AAA BBB; do
  check "$s: the lake's rows equal the feed's records in [from, to)" \
    test "$(lake_rows "$T/lake" $s | sha256sum)" = "$(dump "$T/$s.bin" | sha256sum)"
done
check "rows outside the range are not written" test "$(dump "$T/AAA.bin" | wc -l)" -lt 40000
before=$(digest "$T/lake"); hist=$("$DL" history PROPFEED/FEED/AAA/ticks/trades --root "$T/lake" | wc -l)
out=$(sync "$T/lake" --plugin "$T/propfeed.so" --plugin-options "file=$T/{SYMBOL}.bin" --json)
check "a re-run skips both symbols" grep -q '"symbols_skipped":2' <<<"$out"
check "a re-run changes nothing (rows, versions)" bash -c \
  "[ '$(digest "$T/lake")' = '$before' ] && [ \$('$DL' history PROPFEED/FEED/AAA/ticks/trades --root '$T/lake' | wc -l) = $hist ]"

mkdir -p "$T/plugins"; cp "$T/propfeed.so" "$T/plugins/"
"$DL" init --root "$T/lake2" >/dev/null
check "a bare plugin name is found in \$DL_PLUGIN_PATH (option from the environment)" \
  env DL_PLUGIN_PATH="$T/nowhere:$T/plugins" PROPRIETARY_FEED_FILE="$T/AAA.bin" \
  "$DL" sync plugin --root "$T/lake2" --plugin propfeed --symbols AAA --from 2024-03-01 --to 2024-03-04
check "... with the same rows" test "$(lake_rows "$T/lake2" AAA | sha256sum)" = "$(dump "$T/AAA.bin" | sha256sum)"
fails "a name not in \$DL_PLUGIN_PATH is refused" 1 "not in any directory of \$DL_PLUGIN_PATH" \
  env DL_PLUGIN_PATH="$T/nowhere" "$DL" sync plugin --root "$T/lake2" --plugin nosuch --symbols AAA --from 2024-03-01 --to 2024-03-04

"$DL" init --root "$T/lake3" >/dev/null
fails "a wrong ABI version is refused, naming the file and both versions" 1 \
  "plugin $T/wrong_abi.so was built for connector ABI version 99; this library speaks version 1" \
  sync "$T/lake3" --plugin "$T/wrong_abi.so" --plugin-options "file=$T/{SYMBOL}.bin"
fails "a shared object without the entry symbol is refused" 1 \
  "plugin $T/noentry.so exports no 'dl_connector_entry' function" \
  sync "$T/lake3" --plugin "$T/noentry.so"
fails "a file that is no shared object is refused" 1 "cannot be loaded" \
  sync "$T/lake3" --plugin "$T/AAA.bin"
head -c $((40 * 100 + 17)) "$T/AAA.bin" >"$T/short.bin"
fails "a feed that is not whole records is refused" 1 "is not a whole number of 40-byte records" \
  sync "$T/lake3" --plugin "$T/propfeed.so" --plugin-options "file=$T/short.bin"
/usr/bin/python3 - "$T/BBB.bin" "$T/badside.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read()); d[40 * 5000 + 32] = 7
open(sys.argv[2], "wb").write(d)
PY
fails "a corrupt record fails the whole sync" 1 "record 5000 has a side other than 0/1" \
  "$DL" sync plugin --root "$T/lake3" --plugin "$T/propfeed.so" --plugin-options "file=$T/badside.bin" \
  --symbols AAA --from 2024-03-01 --to 2024-03-04
check "... and nothing was written by any refused sync" bash -c \
  "! '$DL' query PROPFEED/FEED/AAA/ticks/trades --root '$T/lake3' --format csv >/dev/null 2>&1"
fails "a kind the plugin does not offer is refused" 1 "offers no kind 'quotes'" \
  sync "$T/lake3" --plugin "$T/propfeed.so" --plugin-options "file=$T/{SYMBOL}.bin" --kind quotes
check "binance-archive is still a source" bash -c "'$DL' sync --help | grep -q binance-archive"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
