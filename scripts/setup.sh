#!/usr/bin/env bash
# setup.sh -- installs what dl-datalake needs on a fresh Debian 12 machine:
# the build toolchain and library headers (apt-get, only when missing) and
# the test and benchmark npm peers (DuckDB, Polars, Arrow JS) pinned in bench/.
# Usage: scripts/setup.sh [--no-npm]
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential pkg-config clang libclang-rt-14-dev libzstd-dev libsnappy-dev liblz4-dev
      zlib1g-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev sqlite3 unzip nodejs npm
      python3 python3-numpy python3-pandas python3-pytest
      libmicrohttpd-dev libgnutls28-dev curl openssl wrk) # dl serve, its tests and bench
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

# One pinned install (bench/package.json + package-lock.json) serves the
# benchmark peers (bench/) and the interop tests (tests/interop links to it).
if [ "${1:-}" != "--no-npm" ]; then
  stamp="$(cat bench/package.json bench/package-lock.json | sha256sum | cut -d' ' -f1)"
  if [ "$(cat bench/node_modules/.dl-stamp 2>/dev/null)" != "$stamp" ]; then
    echo "setup: installing test and benchmark peers (npm ci in bench)" >&2
    (cd bench && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$stamp" > bench/node_modules/.dl-stamp
  fi
  if [ ! -L tests/interop/node_modules ]; then
    rm -rf tests/interop/node_modules
    ln -s ../../bench/node_modules tests/interop/node_modules
  fi
fi
