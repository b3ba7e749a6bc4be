#!/usr/bin/env bash
# test_header.sh -- include/datalake.h stands alone: it compiles as the only
# include of a C99 -pedantic and of a C++11 translation unit, warning-free.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '#include "datalake.h"\nint main(void) { return dl_version()[0] == 0; }\n' >"$tmp/c99.c"
cp "$tmp/c99.c" "$tmp/cxx11.cc"
warn="-Wall -Wextra -Werror -pedantic"
${CC:-cc} -std=c99 $warn -Iinclude -fsyntax-only "$tmp/c99.c"
${CXX:-c++} -std=c++11 $warn -Iinclude -fsyntax-only "$tmp/cxx11.cc"
echo "test_header: datalake.h compiles alone as C99 -pedantic and C++11"
