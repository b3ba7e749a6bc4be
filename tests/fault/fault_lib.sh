# fault_lib.sh -- shared set-up of the fault-injection tests (sourced from
# the repo root): the ok/bad counters, deterministic Binance-format kline
# inputs, a small two-version base lake and a fingerprint of a lake's
# content.  Needs $DL (a working dl) and $T (a scratch directory).
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
RAW=BINANCE/SPOT/BTCUSDT/raw/1m

# DAYS days of 1m klines from START_MS (Binance CSV, no header); the close
# of every row is shifted by BUMP so a re-ingest changes the bytes.
klines() { # START_MS DAYS BUMP
  awk -v s="$1" -v d="$2" -v b="$3" 'BEGIN { for (i = 0; i < d * 1440; i++) {
    t = s + i * 60000; o = 100 + (i % 97) * 0.5
    printf "%.0f,%.2f,%.2f,%.2f,%.2f,%.3f,%.0f,%.4f,%d,%.3f,%.4f,0\n", t, o, o + 1, o - 1,
      o + 0.25 + b, 1 + (i % 13), t + 59999, (1 + (i % 13)) * o, i % 50 + 1, (i % 7) * 0.1,
      (i % 7) * 0.1 * o } }'
}

# make_inputs DIR: DIR/v1 (Dec 1-2), DIR/v2 (Dec 2 with other closes),
# DIR/new (Dec 3, and Dec 1 with other closes).
make_inputs() {
  local d=$1 d1=1701388800000 # 2023-12-01
  mkdir -p "$d/v1" "$d/v2" "$d/new"
  klines $d1 2 0 >"$d/v1/BTCUSDT-1m-2023-12.csv"
  klines $((d1 + 86400000)) 1 1 >"$d/v2/BTCUSDT-1m-2023-12-02.csv"
  klines $((d1 + 2 * 86400000)) 1 0 >"$d/new/BTCUSDT-1m-2023-12-03.csv"
  klines $d1 1 2 >"$d/new/BTCUSDT-1m-2023-12-01.csv"
}

# make_base ROOT INPUTS: version 1 (two days) and version 2 (day 2
# replaced, so one archived file).
make_base() {
  DL_ROOT=$1 "$DL" init >/dev/null &&
    DL_ROOT=$1 "$DL" ingest binance --threads 1 "$2/v1/"*.csv >/dev/null &&
    DL_ROOT=$1 "$DL" ingest binance --threads 1 "$2/v2/"*.csv >/dev/null
}

# The lake's content: every dataset's rows at its current version.
state() { # ROOT
  local d
  for d in $(DL_ROOT=$1 "$DL" ls --json | grep -o '"dataset":"[^"]*"' | cut -d'"' -f4); do
    echo "$d $(DL_ROOT=$1 "$DL" read "$d" --format csv | sha256sum | cut -c1-16)"
  done
}
