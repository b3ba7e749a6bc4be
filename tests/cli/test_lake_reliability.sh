#!/usr/bin/env bash
# test_lake_reliability.sh -- what an operator's bad day must not do to the
# lake (issue 14): a lost, truncated or corrupted catalog at many points of
# a lake's life never becomes lost data (writers refuse, init refuses,
# `dl init --recover` restores every committed row and version); repair
# touches only the lake's own files; init refuses system, home and foreign
# directories; a damaged or missing day is quarantined, marked missing and
# restored by a re-ingest or from versions/; a read-only lake is readable
# (chmod, another user, uncheckpointed WAL); locks say who holds them and
# --lock-timeout bounds the wait; vacuum --dry-run reports what the real run
# does; usage errors exit 2; messages name a path once.
# Env: DL = path of the dl binary (default build/release/dl).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST_NAME=lake_reliability
# shellcheck source=cli_lib.sh
source tests/cli/cli_lib.sh

"$GEN" --out "$T/gen" --small --jobs 2 >/dev/null 2>&1 || { echo "cannot run $GEN"; echo "0 passed, 1 failed"; exit 1; }
K=$T/gen/klines
BTC=BINANCE/SPOT/BTCUSDT/raw/1m
ETH=BINANCE/SPOT/ETHUSDT/raw/1m
awk -F, 'NR<=10 {OFS=","; $5="1.00000000"} {print}' "$K/BTCUSDT-1m-2023-12.csv" > "$T/BTCUSDT-1m-2023-12.csv"

tree_hash() { (cd "$1" && find . -path ./.dl -prune -o -type f -print | sort | xargs -r sha256sum; \
               find .dl/versions -type f 2>/dev/null | sort | xargs -r sha256sum); }
# every version's rows of every dataset, one digest per line
lake_digest() {
  local root=$1 d v n
  for d in $(DL_ROOT=$root "$DL" ls --json | grep -o '"dataset":"[^"]*"' | cut -d'"' -f4); do
    n=$(DL_ROOT=$root "$DL" info "$d" --json | grep -o '"version":[0-9]*' | cut -d: -f2)
    for ((v = 1; v <= n; v++)); do
      echo "$d v$v $(DL_ROOT=$root "$DL" read "$d" --as-of-version $v --format csv 2>&1 | sha256sum | cut -c1-16)"
    done
  done
}
current_digest() {
  local root=$1 d
  for d in $(DL_ROOT=$root "$DL" ls --json | grep -o '"dataset":"[^"]*"' | cut -d'"' -f4); do
    echo "$d $(DL_ROOT=$root "$DL" read "$d" --format csv | sha256sum | cut -c1-16)"
  done
}

# ---- a lake's life: four points to lose the catalog at ----
L=$T/life
export DL_ROOT=$L
"$DL" init >/dev/null
"$DL" ingest binance "$K/BTCUSDT-1m-2023-12.csv" "$K/ETHUSDT-1m-2023-12.csv" >/dev/null
cp -a "$L" "$T/p1"                       # after the first ingest
"$DL" ingest binance "$T/BTCUSDT-1m-2023-12.csv" >/dev/null
cp -a "$L" "$T/p2"                       # after an upsert (version 2)
"$DL" ingest binance "$K/BTCUSDT-1m-2024-01.csv" >/dev/null
cp -a "$L" "$T/p3"                       # after a third version
"$DL" vacuum --keep-versions 2 >/dev/null
cp -a "$L" "$T/p4"                       # after vacuum
unset DL_ROOT

loss_fail=0
for p in p1 p2 p3 p4; do
  want_all=$(lake_digest "$T/$p"); want_cur=$(current_digest "$T/$p")
  for damage in delete truncate corrupt delete-all stale-backup; do
    R=$T/r; rm -rf "$R"; cp -a "$T/$p" "$R"
    case $damage in
      delete) rm -f "$R/.dl/catalog.db" "$R/.dl/catalog.db-wal" "$R/.dl/catalog.db-shm" ;;
      truncate) : > "$R/.dl/catalog.db"; rm -f "$R/.dl/catalog.db-wal" "$R/.dl/catalog.db-shm" ;;
      corrupt) head -c 8000 /dev/urandom | dd of="$R/.dl/catalog.db" bs=1 seek=2000 conv=notrunc 2>/dev/null ;;
      delete-all) rm -f "$R"/.dl/catalog.db* ;;
      stale-backup) [ $p = p1 ] && continue  # the backup of the first point, the catalog lost later
                    cp "$T/p1/.dl/catalog.db.bak" "$R/.dl/catalog.db.bak"; rm -f "$R"/.dl/catalog.db "$R"/.dl/catalog.db-* ;;
    esac
    before=$(tree_hash "$R")
    if DL_ROOT=$R "$DL" ingest binance "$K/BTCUSDT-1m-2023-12.csv" >/dev/null 2>&1; then
      echo "  $p/$damage: an ingest ran on a lost catalog"; loss_fail=1; fi
    if DL_ROOT=$R "$DL" init >/dev/null 2>&1; then echo "  $p/$damage: init accepted a lake without catalog"; loss_fail=1; fi
    [ "$before" = "$(tree_hash "$R")" ] || { echo "  $p/$damage: data files changed"; loss_fail=1; }
    if ! DL_ROOT=$R "$DL" init --recover >/dev/null 2>&1; then echo "  $p/$damage: recover failed"; loss_fail=1; continue; fi
    DL_ROOT=$R "$DL" verify >/dev/null || { echo "  $p/$damage: verify after recover"; DL_ROOT=$R "$DL" verify | tail -3; loss_fail=1; }
    [ "$(current_digest "$R")" = "$want_cur" ] || { echo "  $p/$damage: current rows differ"; loss_fail=1; }
    # every committed version survives when a backup exists (all but delete-all)
    if [ $damage != delete-all ] && [ $damage != stale-backup ]; then
      [ "$(lake_digest "$R")" = "$want_all" ] || { echo "  $p/$damage: versions differ"; diff <(echo "$want_all") <(lake_digest "$R"); loss_fail=1; }
    fi
    # and the lake works again: a re-ingest changes nothing
    out=$(DL_ROOT=$R "$DL" ingest binance "$K/BTCUSDT-1m-2023-12.csv" "$K/ETHUSDT-1m-2023-12.csv" --json 2>&1)
    [ $p != p1 ] || grep -q '"versions_created":0' <<<"$out" || { echo "  $p/$damage: re-ingest after recover: $out"; loss_fail=1; }
  done
done
check "lost/truncated/corrupted catalog at 4 points x 5 ways: refused, recovered, rows and versions kept" test $loss_fail = 0

# ---- a writer never replaces a file the catalog does not know ----
R=$T/unknown; cp -a "$T/p1" "$R"
mkdir -p "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/01"
cp "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/01/data.parquet" "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/01/data.parquet"
sum=$(sha256sum < "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/01/data.parquet")
fails "writer refuses to replace an unknown day file" 1 "2024/01/01/data.parquet exists but the catalog does not know it" \
  env DL_ROOT=$R "$DL" ingest binance "$K/BTCUSDT-1m-2024-01.csv"
check "the unknown file is untouched" test "$sum" = "$(sha256sum < "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2024/01/01/data.parquet")"

# ---- init refuses system, home and foreign directories; repair leaves foreign files ----
fails "init refuses /" 1 "system or home directory" "$DL" init --root /
fails "init refuses /usr" 1 "system or home directory" "$DL" init --root /usr
fails "init refuses \$HOME" 1 "system or home directory" env HOME="$T" "$DL" init --root "$T"
mkdir -p "$T/foreign/docs"; echo hi > "$T/foreign/notes.txt"
fails "init refuses a directory with other content" 1 "is not empty" "$DL" init --root "$T/foreign"
check "init --force accepts it" "$DL" init --root "$T/foreign" --force
R=$T/repair; cp -a "$T/p1" "$R"
echo keep > "$R/README.txt"; mkdir -p "$R/BINANCE/notes"; echo keep > "$R/BINANCE/notes/x.parquet"
echo keep > "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/01/extra.parquet"
ln -s /etc/passwd "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/02/link.parquet"
mkdir -p "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/11/30"; echo x > "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/11/30/data.parquet"
rep=$(DL_ROOT=$R "$DL" verify --repair --json)
check "repair leaves foreign files in place" test -f "$R/README.txt" -a -f "$R/BINANCE/notes/x.parquet" \
  -a -f "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/01/extra.parquet" -a -L "$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/02/link.parquet"
check "repair reports them as foreign" test "$(grep -o '"kind":"foreign"' <<<"$rep" | wc -l)" = 4
check "repair quarantines an unknown day file of the layout" test -f "$R/.dl/quarantine/BINANCE/SPOT/BTCUSDT/raw/1m/2023/11/30/data.parquet"

# ---- locks explain themselves; a stopped writer is waited for only as long as asked ----
R=$T/locks; DL_ROOT=$R "$DL" init >/dev/null
DL_ROOT=$R "$DL" ingest binance "$K"/*.csv >/dev/null 2>&1 &
wpid=$!
lockf="$R/.dl/locks/BINANCE~SPOT~BTCUSDT~raw~1m.lock"
for ((i = 0; i < 200; i++)); do grep -q "pid $wpid," "$lockf" 2>/dev/null && break; sleep 0.01; done
kill -STOP $wpid 2>/dev/null
held=$(grep -c "pid $wpid," "$lockf" 2>/dev/null)
start=$(date +%s%N)
msg=$(DL_ROOT=$R "$DL" ingest binance "$K/BTCUSDT-1m-2023-12.csv" --lock-timeout 2 2>&1); rc=$?
[ $rc = 1 ] || echo "  lock wait: exit $rc: $msg"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a stopped writer held the lock" test "$held" = 1
check "--lock-timeout bounds the wait (exit 1 after ~2 s, took ${ms} ms)" test $rc = 1 -a $ms -ge 1900 -a $ms -lt 6000
check "the waiting command says who holds the lock" grep -q "waiting for dataset $BTC, locked by pid $wpid, since 20" <<<"$msg"
check "the refusal names pid and command" grep -q "locked by another writer (pid $wpid, since .*command: .*dl ingest binance" <<<"$msg"
kill -9 $wpid 2>/dev/null; wait $wpid 2>/dev/null
start=$(date +%s%N)
DL_ROOT=$R DL_LOCK_TIMEOUT=0 "$DL" ingest binance "$K/BTCUSDT-1m-2023-12.csv" >/dev/null 2>&1; rc=$?
check "a dead writer's lock is no obstacle (no wait at all)" test $rc = 0
check "verify after the killed writer" env DL_ROOT=$R "$DL" verify

# ---- small truths: vacuum --dry-run, usage errors, one path per message ----
R=$T/vac; cp -a "$T/p3" "$R"
dry=$(DL_ROOT=$R "$DL" vacuum --keep-versions 1 --dry-run --json)
real=$(DL_ROOT=$R "$DL" vacuum --keep-versions 1 --json)
check "vacuum --dry-run reports what the real run does" test "${dry/\"dry_run\":true/}" = "${real/\"dry_run\":false/}"
check "... and the real run did something" grep -q '"versions_vacuumed":[1-9]' <<<"$real"
fails "read --from after --to is a usage error" 2 "--from is after --to" env DL_ROOT=$R "$DL" read $BTC --from 2024-01-02 --to 2024-01-01
fails "read --as-of-version with --as-of is a usage error" 2 "not both" env DL_ROOT=$R "$DL" read $BTC --as-of-version 1 --as-of 2024-01-01
fails "query --from after --to is a usage error" 2 "--from is after --to" env DL_ROOT=$R "$DL" query $BTC --from 2024-01-02 --to 2024-01-01
fails "query --as-of-version with --as-of is a usage error" 2 "not both" env DL_ROOT=$R "$DL" query $BTC --as-of-version 1 --as-of 2024-01-01
day=$R/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/05/data.parquet
printf 'XXXXXXXX' | dd of="$day" bs=1 seek=$(( $(stat -c %s "$day") - 8 )) conv=notrunc 2>/dev/null
for cmd in "read $BTC --format csv" "ingest binance $K/BTCUSDT-1m-2023-12.csv"; do
  msg=$(DL_ROOT=$R "$DL" $cmd 2>&1 >/dev/null)
  check "one path in: dl ${cmd%% *} on a damaged file" test "$(grep -o '2023/12/05/data.parquet' <<<"$msg" | wc -l)" = 1
done

# ---- a damaged or missing day is quarantined, marked missing and restored ----
dayf() { echo "$1/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/$2/data.parquet"; }
flip() { printf 'XXXX' | dd of="$1" bs=1 seek=$(( $(stat -c %s "$1") / 2 )) conv=notrunc 2>/dev/null; }
rows_of() { DL_ROOT=$1 "$DL" read $BTC --from "2023-12-$2" --to "2023-12-$3" --format csv ${4:-} | sha256sum; }
R=$T/dmg; cp -a "$T/p2" "$R"
want01=$(rows_of "$R" 01 02); want02=$(rows_of "$R" 02 03)
flip "$(dayf "$R" 01)"; rm "$(dayf "$R" 02)"
fails "ingest refuses to merge into a damaged or missing day" 1 "refusing to" env DL_ROOT=$R "$DL" ingest binance "$T/BTCUSDT-1m-2023-12.csv"
check "verify reports the damage" bash -c '! DL_ROOT=$1 "$2" verify >/dev/null' _ "$R" "$DL"
DL_ROOT=$R "$DL" verify --repair >/dev/null
check "repair quarantines the damaged file" bash -c 'ls "$1"/.dl/quarantine/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/01/data.parquet.* >/dev/null' _ "$R"
check "the days are marked missing" test "$(DL_ROOT=$R "$DL" verify --json | grep -o '"kind":"missing-day"' | wc -l)" = 2
check "reads work without them" test "$(DL_ROOT=$R "$DL" read $BTC --from 2023-12-01 --to 2023-12-03 --format csv | wc -l)" = 1
check "a re-ingest of the source restores them" env DL_ROOT=$R "$DL" ingest binance "$T/BTCUSDT-1m-2023-12.csv"
check "... with their rows" test "$(rows_of "$R" 01 02)" = "$want01" -a "$(rows_of "$R" 02 03)" = "$want02"
check "verify clean after the re-ingest" env DL_ROOT=$R "$DL" verify
R=$T/dmg2; cp -a "$T/p2" "$R"
v1_01=$(rows_of "$R" 01 02 "--as-of-version 1")
flip "$(dayf "$R" 01)"
check "repair --restore gives the day back from versions/" env DL_ROOT=$R "$DL" verify --repair --restore
check "... its newest archived version" test "$(rows_of "$R" 01 02)" = "$v1_01"
check "verify clean after restore" env DL_ROOT=$R "$DL" verify
R=$T/dmg3; cp -a "$T/p2" "$R"
flip "$(ls "$R"/.dl/versions/BINANCE/SPOT/BTCUSDT/raw/1m/2023/12/01/v*.parquet)"
DL_ROOT=$R "$DL" verify --repair >/dev/null
fails "a version whose archived file was damaged names the lost day" 1 "day 2023-12-01 at version 1 is lost" \
  env DL_ROOT=$R "$DL" read $BTC --as-of-version 1 --format csv
check "the current version still reads" bash -c 'DL_ROOT=$1 "$2" read '$BTC' --format csv >/dev/null' _ "$R" "$DL"

# ---- a read-only lake is readable: chmod a-w, another user, a WAL left by a killed writer ----
ro_reads() {  # runs every read command on $1 (as the user given by the prefix $2...)
  local root=$1; shift
  local out; out=$("$@" env DL_ROOT="$root" "$DL" ls --json 2>&1) || { echo "ls: $out"; return 1; }
  for c in "info $BTC" "history $BTC" "gaps $BTC" "read $BTC --format csv" "query $BTC --format csv" "verify"; do
    out=$("$@" env DL_ROOT="$root" "$DL" $c 2>&1 >/dev/null) || { echo "$c: $out"; return 1; }
  done
}
R=$T/ro; cp -a "$T/p3" "$R"
want=$(current_digest "$R")
before=$(cd "$R" && find . -type f | sort | xargs sha256sum)
chmod -R a-w "$R"
check "read commands on a chmod a-w lake" ro_reads "$R"
check "... see the committed rows" test "$(current_digest "$R")" = "$want"
check "... and change nothing" test "$before" = "$(cd "$R" && find . -type f | sort | xargs sha256sum)"
chmod -R u+w "$R"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  # another user on a lake it may read but not write (and a parent it can traverse)
  R=$T/other; cp -a "$T/p3" "$R"; rm -f "$R"/.dl/catalog.db-wal "$R"/.dl/catalog.db-shm
  chmod -R a+rX,go-w "$T"; chmod a+rx "$T"
  check "read commands as nobody on root's lake" ro_reads "$R" setpriv --reuid=nobody --regid=nogroup --clear-groups
  # a writer killed right after its commit leaves the commit in the WAL only
  R=$T/walro; cp -a "$T/p2" "$R"
  FDL=$(realpath "$(dirname "$DL")/../fault/dl" 2>/dev/null)
  if [ -x "$FDL" ]; then
    n=$(DL_ROOT=$R DL_FAULT_TRACE=1 "$FDL" ingest binance "$K/ETHUSDT-1m-2024-01.csv" 2>&1 >/dev/null | grep -c '^dl-fault-step')
    cp -a "$T/p2" "$R.b"; rm -rf "$R"; mv "$R.b" "$R"
    ( DL_ROOT=$R DL_FAULT_AT=$n "$FDL" ingest binance "$K/ETHUSDT-1m-2024-01.csv" >/dev/null 2>&1 ) 2>/dev/null
    check "the killed writer left WAL content" test -s "$R/.dl/catalog.db-wal"
    rm -f "$R/.dl/catalog.db-shm"; chmod -R a+rX,go-w "$R"
    got=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env DL_ROOT="$R" "$DL" read $ETH --from 2024-01-01 --format csv 2>&1 | wc -l)
    check "nobody reads the commit that is only in the WAL ($got lines)" test "$got" -gt 1000
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
