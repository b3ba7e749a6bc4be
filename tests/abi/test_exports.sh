#!/usr/bin/env bash
# test_exports.sh -- the shared library exports exactly the functions that
# include/datalake.h declares with DL_API: no internal symbol leaks out and
# no public function is missing.
# Usage: tests/abi/test_exports.sh [build/release/libdatalake.so]
set -euo pipefail
cd "$(dirname "$0")/../.."
so=${1:-build/release/libdatalake.so}
[ -e "$so" ] || { echo "test_exports: $so not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Declarations: "DL_API <type> dl_name(" (the name is on the DL_API line).
grep -E '^DL_API ' include/datalake.h | grep -oE '\bdl_[A-Za-z0-9_]+\(' | tr -d '(' |
  sort -u >"$tmp/declared"
# Functions (and any data) the .so defines in its dynamic symbol table.
nm -D --defined-only "$so" | awk '{print $3}' | sort -u >"$tmp/exported"

[ -s "$tmp/declared" ] || { echo "test_exports: no DL_API declaration found"; exit 1; }
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -n "$extra" ] || [ -n "$missing" ]; then
  [ -n "$extra" ] && printf 'exported but not declared in datalake.h:\n%s\n' "$extra"
  [ -n "$missing" ] && printf 'declared in datalake.h but not exported:\n%s\n' "$missing"
  exit 1
fi
echo "test_exports: $(wc -l <"$tmp/declared") functions, exports match the header"
