#!/usr/bin/env bash
# test_disk_faults.sh -- real disk faults, no injection: a full file system
# (ENOSPC on a small tmpfs, as root) hit at many points of an ingest and a
# resample, and a read-only lake directory.  Every write must fail with a
# clear error (exit 1, a "dl ..." message naming the cause), and the lake
# must stay verify-clean with exactly its previous content.
# Usage: DL=build/release/dl tests/fault/test_disk_faults.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
DL=$(realpath "${DL:-build/release/dl}")
T=$(mktemp -d "${TMPDIR:-/tmp}/dl_disk.XXXXXX")
mnt=""
cleanup() {
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/fault/fault_lib.sh
source tests/fault/fault_lib.sh
make_inputs "$T/in"
base=$T/base
make_base "$base" "$T/in" || { echo "test_disk_faults: cannot build the base lake"; exit 1; }
before=$(state "$base")

# run_write NAME LAKE CMD...: the command succeeds, or exits 1 with a
# message matching $cause (counted in $failures, name kept in $failed_ops).
run_write() {
  local name=$1 lake=$2 rc msg; shift 2
  msg=$(DL_ROOT=$lake "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc = 1 ]; then
    failures=$((failures + 1))
    grep -qiE "$cause" <<<"$msg" || bad "$name: unclear message: $msg"
  elif [ $rc != 0 ]; then bad "$name: exit $rc: $msg"
  fi
  last_rc=$rc
}
# check_lake NAME LAKE: verify-clean, and the content is $before after a
# failure (any content after a success: the write happened).
check_lake() {
  if ! DL_ROOT=$2 "$DL" verify >"$T/verify" 2>&1; then
    bad "$1: verify not clean: $(head -3 "$T/verify")"
  elif [ "$last_rc" = 1 ] && [ "$(state "$2")" != "$before" ]; then
    bad "$1: failed, but the lake's content changed"
  fi
}

# ---- ENOSPC: the lake on a tmpfs with only K bytes left, for many K ----
if [ "$(id -u)" != 0 ]; then
  echo "skip ENOSPC: mounting a small tmpfs needs root"
elif ! { mkdir -p "$T/mnt" && mount -t tmpfs -o size=4m tmpfs "$T/mnt"; }; then
  echo "skip ENOSPC: cannot mount a tmpfs here"
else
  mnt=$T/mnt
  cause="no space left|ENOSPC|database or disk is full|full"
  for op in ingest resample; do
    failures=0 runs=0 problems_before=$failed
    for free_kb in 0 4 8 12 16 20 24 28 32 40 48 56 64 80 96 128; do
      rm -rf "${mnt:?}"/*
      cp -a "$base" "$mnt/lake" || { bad "ENOSPC: base lake does not fit"; break; }
      avail=$(($(df -k --output=avail "$mnt" | tail -1) - free_kb))
      ((avail > 0)) && fallocate -l "${avail}k" "$mnt/filler" 2>/dev/null
      runs=$((runs + 1))
      name="ENOSPC $op, ${free_kb} KiB free"
      if [ $op = ingest ]; then
        run_write "$name" "$mnt/lake" "$DL" ingest binance --threads 1 "$T/in/new/"*.csv
      else
        run_write "$name" "$mnt/lake" "$DL" resample $RAW --to 1h --threads 1
      fi
      rm -f "$mnt/filler"
      check_lake "$name" "$mnt/lake"
    done
    ((failed == problems_before)) &&
      ok "ENOSPC $op: $failures of $runs runs hit a full disk, each failed cleanly, lake intact"
  done
  umount "$mnt" && mnt=""
fi

# ---- a read-only lake directory: writes fail cleanly, nothing changes ----
ro=$T/ro
cp -a "$base" "$ro"
if [ "$(id -u)" = 0 ]; then
  # root ignores permission bits: a read-only bind mount makes it real
  if mount --bind "$ro" "$ro" 2>/dev/null && mount -o remount,ro,bind "$ro" 2>/dev/null; then
    mnt=$ro
  else
    echo "skip read-only lake: cannot make a read-only bind mount as root"
    ro=""
  fi
else
  chmod -R a-w "$ro"
fi
if [ -n "$ro" ]; then
  cause="read-only|permission denied|readonly|attempt to write"
  failures=0 problems_before=$failed
  for args in "ingest binance --threads 1 $T/in/new/BTCUSDT-1m-2023-12-03.csv" \
              "resample $RAW --to 1h --threads 1" "vacuum --keep-versions 1" "verify --repair"; do
    # shellcheck disable=SC2086
    run_write "read-only: $args" "$ro" "$DL" $args
  done
  if [ -n "$mnt" ]; then umount "$mnt" && mnt=""; else chmod -R u+w "$ro"; fi
  last_rc=1 check_lake "read-only lake" "$ro"
  ((failed == problems_before)) && ((failures >= 3)) &&
    ok "read-only lake: $failures writes refused with a clear message, verify clean, content unchanged"
  ((failures < 3)) && bad "read-only lake: only $failures of 4 writes failed"
fi

echo "$passed passed, $failed failed"
((failed == 0))
