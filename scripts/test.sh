#!/usr/bin/env bash
# test.sh -- the whole test suite: installs what is missing, builds the
# release and sanitizer (ASan+UBSan) builds and the fuzz targets, then runs
# the static checks (clang-format, clang-tidy: any finding fails), unit
# tests (both builds), the fuzz seed corpora as regression tests (both
# builds), CLI tests, interoperability tests against DuckDB and Polars, and
# a short fuzz run of every libFuzzer target.  Needs nothing outside the
# repository (scripts/setup.sh installs the Debian packages and npm peers).
# Usage: scripts/test.sh [--quick]   (--quick: skip clang-tidy, the sanitizer build and fuzzing)
# Env:   DL_FUZZ_SECONDS (default 20 per target)
# Adding a test: one `step "NAME" CMD...` line in the section it belongs to;
# a step passes when CMD exits 0.  Per-build loops take the build directory.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0; [ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh || { echo "test: setup failed"; exit 1; }

passed=0; failed=0; failures=()
step() { # step NAME CMD...
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then passed=$((passed + 1)); echo "--- ok $name ($((SECONDS - t0)) s)"
  else failed=$((failed + 1)); failures+=("$name"); echo "--- FAIL $name ($((SECONDS - t0)) s)"; fi
}

# replay_corpora BUILD: every fuzz target's seed corpus through BUILD/replay/fuzz_*
replay_corpora() {
  local b=$1 f
  for f in "$b"/replay/fuzz_*; do
    [ -x "$f" ] && [ -d "fuzz/corpus/${f##*/fuzz_}" ] &&
      step "fuzz corpus replay $(basename "$f") ($(basename "$b"))" \
        env ASAN_OPTIONS=detect_leaks=1 "$f" "fuzz/corpus/${f##*/fuzz_}"
  done
  return 0
}

# ---- static checks (clang-tidy is slow: the full run only) ----
step "format check (clang-format)" make -s format-check
[ $quick = 0 ] && step "static analysis (clang-tidy)" make -s tidy

# ---- release build ----
step "build release" make -j"$jobs" MODE=release all bench
step "build fault injection (test only)" make -j"$jobs" MODE=fault all
step "unit tests (release)" build/release/dl_tests
replay_corpora build/release
step "abi: exports = header" tests/abi/test_exports.sh build/release/libdatalake.so
step "abi: header alone (C99, C++11)" tests/abi/test_header.sh
step "abi: make install + pkg-config (shared, static)" tests/abi/test_install.sh
step "abi: misuse refused (NULL arguments of every function, FIFO inputs)" tests/abi/test_misuse.sh build/release
step "fault injection: failing allocations and writes" env DL=build/release/dl DL_FAULT=build/fault/dl tests/fault/test_fault_loop.sh
step "disk faults: ENOSPC on a small tmpfs (root), read-only lake" env DL=build/release/dl tests/fault/test_disk_faults.sh
for t in tests/cli/test_*.sh; do
  [ -e "$t" ] && step "cli $(basename "$t" .sh)" env DL=build/release/dl bash "$t"
done
for t in tests/server/test_*.sh; do
  [ -e "$t" ] && step "server $(basename "$t" .sh)" env DL=build/release/dl bash "$t"
done
step "interop (DuckDB, Polars)" node tests/interop/run.mjs --dl build/release/dl
step "interop (Arrow IPC: apache-arrow, Polars)" node tests/interop/arrow_ipc.mjs --tools build/release/tools
step "interop (peer benchmark cases: dl vs DuckDB/Polars over dl's lake)" env DL=build/release/dl tests/interop/peers_on_lake.sh
step "interop (feature store: dl features get == DuckDB ASOF JOIN)" node tests/interop/features_asof.mjs --dl build/release/dl
step "python client (pytest; local mode)" env DL=build/release/dl /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python
# ---- sanitizer build and fuzzing (skipped by --quick) ----
if [ $quick = 0 ]; then
  step "build asan" make -j"$jobs" MODE=asan all
  step "unit tests (asan+ubsan)" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/dl_tests
  replay_corpora build/asan
  for t in tests/cli/test_*.sh; do
    [ -e "$t" ] && step "cli $(basename "$t" .sh) (asan)" env DL=build/asan/dl bash "$t"
  done
  for t in tests/server/test_*.sh; do
    [ -e "$t" ] && step "server $(basename "$t" .sh) (asan)" env DL=build/asan/dl DL_GEN=build/release/dl-gen bash "$t"
  done
  step "build fuzz" make -j"$jobs" fuzz
  for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="build/fuzz/corpus-$name"; mkdir -p "$corpus"
    seeds="fuzz/corpus/${name#fuzz_}"
    step "fuzz $name" "$f" -max_total_time="${DL_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=0 "$corpus" $( [ -d "$seeds" ] && echo "$seeds" )
  done
fi

echo
((failed)) && printf 'failed: %s\n' "${failures[@]}"
echo "suite: $passed passed, $failed failed"
((failed == 0))
