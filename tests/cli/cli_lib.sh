# cli_lib.sh -- shared set-up of the lake CLI tests (sourced, not run):
# resolves $DL (absolute) and $GEN (the repo's data generator dl-gen, built
# beside dl or in build/release; bench/gen), makes a scratch
# directory $T removed on exit, and defines the ok/bad/check/fails helpers
# and the passed/failed counters the tests report as "N passed, N failed".
# Usage: TEST_NAME=foo; source "$(dirname "$0")/cli_lib.sh"   (from the repo root)
DL=${DL:-build/release/dl}
DL=$(realpath "$DL")
# The crash tests' DL_FAULT_AT hook exists only in the fault-injection test
# build (make MODE=fault): $FDL is that build's dl.
FDL=$(realpath "${DL_FAULT:-$(dirname "$DL")/../fault/dl}" 2>/dev/null)
GEN=${DL_GEN:-$(dirname "$DL")/dl-gen}
[ -x "$GEN" ] || GEN=$(realpath build/release/dl-gen)
T=$(mktemp -d "${TMPDIR:-/tmp}/dl_${TEST_NAME:-cli}.XXXXXX")
trap 'rm -rf "$T"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# fails NAME EXIT_CODE NEEDLE CMD...: the command exits with EXIT_CODE and its stderr has NEEDLE
fails() {
  local name=$1 want=$2 needle=$3; shift 3
  local msg rc
  msg=$("$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" = "$want" ] && grep -qF -- "$needle" <<<"$msg"; then ok "$name"
  else bad "$name (exit $rc: $msg)"; fi
}
# gen_rows [SYMBOL]: kline rows of SYMBOL (all symbols without one) in the
# manifest of the data generated into $T/gen
gen_rows() {
  node -e 'const m = require(process.argv[1]), s = process.argv[2];
    console.log(m.klines.files.filter(f => !s || f.name.startsWith(s + "-")).reduce((n, f) => n + f.rows, 0))' \
    "$T/gen/manifest.json" "${1:-}"
}
