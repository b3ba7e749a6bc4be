#!/usr/bin/env bash
# demo.sh -- the main job on an embedded default: installs what is missing
# (apt-get), builds dl, writes a deterministic sample OHLCV table to Parquet,
# reads it back, verifies it and prints it.
# Usage: scripts/demo.sh [extra dl demo options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-npm
make -s -j"$(nproc 2>/dev/null || echo 2)" MODE=release build/release/dl
exec build/release/dl demo "$@"
