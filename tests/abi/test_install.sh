#!/usr/bin/env bash
# test_install.sh -- `make install` into a temporary prefix (and a staged
# DESTDIR install), then builds tests/abi/embed_example.c with
# `pkg-config --cflags --libs datalake`, linked against the shared and the
# static library, and runs both; checks the installed dl and its man page.
# Needs a release build (make) first.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check DESCRIPTION CMD...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}

p=$tmp/prefix
make -s install PREFIX="$p" >/dev/null
for f in include/datalake.h lib/libdatalake.a lib/libdatalake.so lib/libdatalake.so.0 \
         lib/pkgconfig/datalake.pc bin/dl share/man/man1/dl.1; do
  check "installed $f" test -e "$p/$f"
done
check "libdatalake.so -> libdatalake.so.0 symlink" test "$(readlink "$p/lib/libdatalake.so")" = libdatalake.so.0
check "soname libdatalake.so.0" sh -c "readelf -d '$p/lib/libdatalake.so' | grep -q 'SONAME.*libdatalake.so.0'"

export PKG_CONFIG_PATH=$p/lib/pkgconfig
cc=${CC:-cc}
# shared: plain pkg-config flags; the run finds the library by LD_LIBRARY_PATH
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$tmp/ex_shared" tests/abi/embed_example.c \
  $(pkg-config --cflags --libs datalake)
check "shared example needs libdatalake.so.0" sh -c "readelf -d '$tmp/ex_shared' | grep -q 'NEEDED.*libdatalake.so.0'"
check "shared example runs" env LD_LIBRARY_PATH="$p/lib" "$tmp/ex_shared" "$tmp/lake_shared"
# static: the archive by name, its direct dependencies (Requires.private,
# Libs.private) as the system's shared libraries -- `pkg-config --static`
# would also ask for libcurl's own static-only dependencies (nghttp2, ssh2,
# ldap, ...), which Debian's -dev packages do not all ship
# shellcheck disable=SC2046
libs="-L$p/lib -l:libdatalake.a $(pkg-config --libs $(pkg-config --print-requires-private datalake)) -lm -pthread"
# shellcheck disable=SC2046,SC2086
$cc -std=c11 -Wall -Werror -o "$tmp/ex_static" tests/abi/embed_example.c \
  $(pkg-config --cflags datalake) $libs
check "static example does not need libdatalake.so" sh -c "! readelf -d '$tmp/ex_static' | grep -q libdatalake"
check "static example runs" "$tmp/ex_static" "$tmp/lake_static"

check "installed dl runs" sh -c "LD_LIBRARY_PATH= '$p/bin/dl' --version | grep -q '^dl '"
check "man page renders" sh -c "man -l '$p/share/man/man1/dl.1' 2>/dev/null | grep -q 'ingest' || grep -q '^.SS ingest' '$p/share/man/man1/dl.1'"

# staged install for packagers: DESTDIR prefixes every path, PREFIX is what
# the .pc file records
make -s install PREFIX=/opt/dl DESTDIR="$tmp/stage" >/dev/null
check "DESTDIR install: header under stage/opt/dl" test -e "$tmp/stage/opt/dl/include/datalake.h"
check "DESTDIR install: .pc records PREFIX, not DESTDIR" grep -q '^prefix=/opt/dl$' "$tmp/stage/opt/dl/lib/pkgconfig/datalake.pc"

echo "test_install: $fails failed"
((fails == 0))
