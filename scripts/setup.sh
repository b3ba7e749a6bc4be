#!/usr/bin/env bash
# setup.sh -- installs what dl-datalake needs on a fresh Debian 12 machine:
# the build toolchain and library headers (apt-get, only when missing) and
# the test-only npm peers (DuckDB, Polars) pinned in tests/interop.
# Usage: scripts/setup.sh [--no-npm]
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential pkg-config clang libclang-rt-14-dev libzstd-dev libsnappy-dev liblz4-dev
      zlib1g-dev libssl-dev libsqlite3-dev sqlite3 unzip nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian (e.g. a preinstalled Node); accept them.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" != "--no-npm" ]; then
  stamp="$(cat tests/interop/package.json tests/interop/package-lock.json | sha256sum | cut -d' ' -f1)"
  if [ "$(cat tests/interop/node_modules/.dl-stamp 2>/dev/null)" != "$stamp" ]; then
    echo "setup: installing test peers (npm ci in tests/interop)" >&2
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$stamp" > tests/interop/node_modules/.dl-stamp
  fi
fi
