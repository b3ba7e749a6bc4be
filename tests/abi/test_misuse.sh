#!/usr/bin/env bash
# test_misuse.sh -- the library refuses misuse instead of crashing or
# hanging: every public function called with NULL for every pointer
# argument returns a documented status (DL_EINVAL with a message) and
# creates no file (tests/abi/gen_null_calls.py writes the calls from
# include/datalake.h); a FIFO, a directory or a device given where a data
# file is expected is refused at once ("only regular files").
# Usage: tests/abi/test_misuse.sh [BUILD_DIR]   (default build/release: the .so and dl)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/release}
[ -e "$out/libdatalake.so" ] || { echo "test_misuse: $out/libdatalake.so not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0

/usr/bin/python3 tests/abi/gen_null_calls.py include/datalake.h >"$tmp/null_calls.c"
# -Wno-nonnull: passing NULL is the point
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-nonnull -Wno-format -Iinclude \
  -Itests/abi -o "$tmp/null_calls" "$tmp/null_calls.c" -L"$out" -ldatalake \
  -Wl,-rpath,"$(realpath "$out")"
"$tmp/null_calls" || fails=$((fails + 1))

# Non-regular inputs: each command must fail fast (exit 1) saying why.
dl=$(realpath "$out/dl")
mkfifo "$tmp/BTCUSDT-1m-2024-01.csv" "$tmp/fifo.parquet"
mkdir "$tmp/dir.parquet"
DL_ROOT=$tmp/lake "$dl" init >/dev/null
check_refused() { # NAME CMD...
  local name=$1 rc=0 msg; shift
  msg=$(DL_ROOT=$tmp/lake timeout 10 "$@" 2>&1 >/dev/null) || rc=$?
  if [ $rc = 1 ] && grep -q "regular file" <<<"$msg"; then echo "ok   $name"
  else echo "FAIL $name (exit $rc: $msg)"; fails=$((fails + 1)); fi
}
check_refused "schema of a FIFO" "$dl" schema "$tmp/fifo.parquet"
check_refused "cat of a FIFO" "$dl" cat "$tmp/fifo.parquet"
check_refused "schema of a directory" "$dl" schema "$tmp/dir.parquet"
check_refused "schema of a device" "$dl" schema /dev/zero
check_refused "ingest binance of a FIFO" "$dl" ingest binance "$tmp/BTCUSDT-1m-2024-01.csv"
check_refused "ingest csv of a FIFO" "$dl" ingest csv "$tmp/fifo.parquet" --dataset X/SPOT/Y/raw/1m --ts-column ts

echo "test_misuse: $fails failed"
((fails == 0))
