#!/usr/bin/env bash
# test_fault_loop.sh -- SQLite-style fault injection: ingest, query,
# resample and vacuum on a small lake, with the N-th allocation or
# write/fsync/rename of the library failing (DL_FAIL_AT=N of the test build,
# src/util/dl_fault.h), for N over the whole run.  Every failure must end in
# a clear error (exit 1 and a "dl ..." message, never a crash), leak nothing
# (the build is ASan: a leak or a memory error fails the run), and leave the
# lake verify-clean with every committed row readable: the lake's content is
# exactly the state before or the state after the operation.
#
# Usage: DL=build/release/dl DL_FAULT=build/fault/dl tests/fault/test_fault_loop.sh
# Env:   DL_FAULT_POINTS  failure points per operation (default 60; "all" = every N)
set -uo pipefail
cd "$(dirname "$0")/../.."
DL=$(realpath "${DL:-build/release/dl}")
FDL=$(realpath "${DL_FAULT:-build/fault/dl}")
[ -x "$FDL" ] || { echo "test_fault_loop: $FDL missing (make MODE=fault)"; exit 1; }
points=${DL_FAULT_POINTS:-60}
T=$(mktemp -d "${TMPDIR:-/tmp}/dl_fault.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=exitcode=87:print_stacktrace=1
unset DL_FAIL_AT DL_FAIL_PERSIST DL_FAIL_KIND DL_FAIL_TRACE DL_FAULT_AT
# shellcheck source=tests/fault/fault_lib.sh
source tests/fault/fault_lib.sh
make_inputs "$T/in"
base=$T/base
make_base "$base" "$T/in" || { echo "test_fault_loop: cannot build the base lake"; exit 1; }

OPS=(ingest query resample vacuum)
op_args() { # OP -> the dl command line (no fsync: tmpfs-friendly; the syscalls still run)
  case $1 in
    ingest) echo "ingest binance --threads 1 $T/in/new/BTCUSDT-1m-2023-12-03.csv $T/in/new/BTCUSDT-1m-2023-12-01.csv" ;;
    query) echo "query $RAW --threads 1 --where close>120 --format csv" ;;
    resample) echo "resample $RAW --to 1h --threads 1" ;;
    vacuum) echo "vacuum --keep-versions 1" ;;
  esac
}

# The N values tried: every N when points=all or total <= points, else a
# stride over the run plus the last 40 calls (where the commit happens).
fail_points() { # TOTAL
  local total=$1 n
  if [ "$points" = all ] || ((total <= points)); then seq 1 "$total"; return; fi
  { seq 1 $(((total + points - 1) / points)) "$total"; seq $((total > 40 ? total - 39 : 1)) "$total"; } | sort -nu
}

for op in "${OPS[@]}"; do
  # shellcheck disable=SC2207
  args=($(op_args $op))
  before=$(state "$base")
  # a clean run: the expected output and final state, and the number of calls
  rm -rf "$T/l"; cp -a "$base" "$T/l"
  DL_ROOT=$T/l DL_FAIL_TRACE=1 "$FDL" "${args[@]}" >"$T/want.out" 2>"$T/want.err"
  rc=$?
  total=$(sed -n 's/^dl-fail-calls //p' "$T/want.err" | tail -1)
  if [ $rc != 0 ] || [ -z "$total" ]; then bad "$op: clean run (exit $rc): $(head -5 "$T/want.err")"; continue; fi
  after=$(state "$T/l")
  problems=0 tried=0 errors=0
  for n in $(fail_points "$total"); do
    tried=$((tried + 1))
    rm -rf "$T/l"; cp -a "$base" "$T/l"
    DL_ROOT=$T/l DL_FAIL_AT=$n "$FDL" "${args[@]}" >"$T/out" 2>"$T/err"
    rc=$?
    why=""
    if grep -q 'Sanitizer' "$T/err"; then why="sanitizer report"
    elif [ $rc = 1 ]; then
      errors=$((errors + 1))
      grep -qE '^dl[ :].{10,}' "$T/err" || why="exit 1 without a clear message"
    elif [ $rc = 0 ]; then
      [ $op = query ] && ! cmp -s "$T/out" "$T/want.out" && why="exit 0 with a different answer"
    else why="exit $rc"
    fi
    if [ -z "$why" ]; then
      if ! DL_ROOT=$T/l "$DL" verify >"$T/verify" 2>&1; then why="verify not clean: $(head -3 "$T/verify")"
      elif [ -n "$(ls -A "$T/l/.dl/tmp" 2>/dev/null)" ]; then why="staging files left in .dl/tmp"
      else
        s=$(state "$T/l")
        [ "$s" = "$before" ] || [ "$s" = "$after" ] || why="lake content neither before nor after"
      fi
    fi
    if [ -n "$why" ]; then
      problems=$((problems + 1))
      ((problems <= 5)) && { echo "  $op DL_FAIL_AT=$n: $why"; grep -m3 -E '^(dl|==|SUMMARY)' "$T/err" | sed 's/^/    /'; }
    fi
  done
  if ((problems == 0)); then ok "$op: $tried of $total failure points ($errors clean errors), lake intact"
  else bad "$op: $problems of $tried failure points (of $total calls) misbehaved"; fi
done

echo "$passed passed, $failed failed"
((failed == 0))
