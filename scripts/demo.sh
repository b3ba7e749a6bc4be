#!/usr/bin/env bash
# demo.sh -- the main job on an embedded default: installs what is missing
# (apt-get), builds dl, and runs `dl demo`: a deterministic Binance-format
# sample (two symbols, three days of 1m klines, one outage, one missing day)
# ingested into a fresh lake, then ls, gaps, a filtered query with pruning
# statistics, resample to 1h and verify, each command printed before its output.
# Usage: scripts/demo.sh [--dir DIR]   (--dir keeps the sample and the lake there)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-npm
make -s -j"$(nproc 2>/dev/null || echo 2)" MODE=release
exec build/release/dl demo "$@"
