#!/usr/bin/env bash
# test_dl_gen.sh -- the benchmark's data generator (dl-gen, bench/gen):
# byte-identical output whatever --jobs is, a second run that does nothing
# (and --force that rewrites the same bytes), a manifest whose rows, bytes
# and gaps agree with the files, Binance-format rows that keep their
# invariants (OHLC order, close_time, exact quote = price x qty, trade ids
# consecutive, times sorted, a minute's first and last trade alone on their
# millisecond, klines of trade days aggregated from the trades), days that
# do not depend on the requested window, and refused bad options.
# Env: DL = path of the dl binary (dl-gen is taken from beside it).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST_NAME=dl_gen
# shellcheck source=cli_lib.sh
source tests/cli/cli_lib.sh

"$GEN" --out "$T/a" --small --jobs 1 >/dev/null 2>&1 || { echo "cannot run $GEN"; echo "0 passed, 1 failed"; exit 1; }
"$GEN" --out "$T/b" --small --jobs 3 >/dev/null 2>&1
check "same bytes with --jobs 1 and --jobs 3" diff -r "$T/a" "$T/b"

stamp() { (cd "$T/a" && find . -type f -printf '%p %s %T@\n' | sort); }
before=$(stamp)
msg=$("$GEN" --out "$T/a" --small 2>&1)
check "second run does nothing" test "$before" = "$(stamp)"
check "second run says up to date" grep -q "up to date" <<<"$msg"
"$GEN" --out "$T/a" --small --force >/dev/null 2>&1
check "--force rewrites the same bytes" diff -r "$T/a" "$T/b"
"$GEN" --out "$T/b" --small --seed 7 >/dev/null 2>&1
check "another seed gives other data" bash -c '! cmp -s "$0/klines/BTCUSDT-1m-2023-12.csv" "$1/klines/BTCUSDT-1m-2023-12.csv"' "$T/a" "$T/b"
check "another seed replaces the manifest" grep -q '"seed": 7' "$T/b/manifest.json"

# the rows themselves, checked by a reader written from the format
check "rows, manifest and invariants" node - "$T/a" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2], m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
let bad = 0;
const fail = (...a) => { if (bad++ < 10) console.error(...a); };
const dec = (s) => { // exact decimal -> BigInt of 1e-8 units
  if (!/^\d+\.\d{8}$/.test(s)) { fail('not an 8-decimal number:', s); return 0n; }
  return BigInt(s.replace('.', ''));
};
const rowsOf = (kind, f) => fs.readFileSync(path.join(dir, kind, f.name), 'utf8').trimEnd().split('\n');
// trades: aggregate per minute while checking
const agg = new Map(); // minute ms -> {o,h,l,c,v,n}
for (const f of m.trades.files) {
  const rows = rowsOf('trades', f);
  if (rows.length !== f.rows || fs.statSync(path.join(dir, 'trades', f.name)).size !== f.bytes) fail('manifest size', f.name);
  let prevId = null, prevT = -1, minute = null, group = [];
  const closeMinute = () => {
    if (!group.length) return;
    const ms = group.map((g) => g.t);
    if (ms.filter((t) => t === ms[0]).length !== 1) fail('first trade shares its ms', group[0]);
    if (ms.filter((t) => t === ms[ms.length - 1]).length !== 1) fail('last trade shares its ms', group[group.length - 1]);
  };
  for (const line of rows) {
    const c = line.split(',');
    if (c.length !== 7 || c[6] !== 'True' || !['True', 'False'].includes(c[5])) fail('trade row', line);
    const id = BigInt(c[0]), t = Number(c[4]), p = dec(c[1]), q = dec(c[2]), qq = dec(c[3]);
    if (prevId !== null && id !== prevId + 1n) fail('ids not consecutive', line);
    if (t < prevT) fail('time goes back', line);
    if (p * q !== qq * 100000000n) fail('quote != price x qty', line);
    const mm = t - (t % 60000);
    if (mm !== minute) { closeMinute(); group = []; minute = mm; }
    group.push({ t });
    const key = `${f.name.split('-')[0]}:${mm}`;
    const a = agg.get(key);
    if (!a) agg.set(key, { o: p, h: p, l: p, c: p, v: q, n: 1 });
    else { a.h = p > a.h ? p : a.h; a.l = p < a.l ? p : a.l; a.c = p; a.v += q; a.n++; }
    prevId = id; prevT = t;
  }
  closeMinute();
}
let total = 0, aggregated = 0;
const gaps = {};
for (const f of m.klines.files) {
  const sym = f.name.split('-')[0], rows = rowsOf('klines', f);
  if (rows.length !== f.rows || fs.statSync(path.join(dir, 'klines', f.name)).size !== f.bytes) fail('manifest size', f.name);
  total += rows.length;
  let prev = null;
  for (const line of rows) {
    const c = line.split(',');
    if (c.length !== 12 || c[11] !== '0') fail('kline row', line);
    const t = Number(c[0]), [o, h, l, cl, v] = c.slice(1, 6).map(dec);
    if (Number(c[6]) !== t + 59999) fail('close_time', line);
    const lo = o < cl ? o : cl, hi = o < cl ? cl : o;
    if (!(l <= lo && hi <= h && l > 0n)) fail('OHLC order', line);
    if (prev && t === prev.t + 60000 && o !== prev.c) fail('open != previous close', line);
    if (prev && t <= prev.t) fail('times not increasing', line);
    // gaps from the rows: missing minutes between consecutive rows of the same symbol
    (gaps[sym] ??= { last: null, list: [] });
    const g = gaps[sym];
    if (g.last !== null && t > g.last + 60000) g.list.push([g.last + 60000, t - 60000, (t - g.last) / 60000 - 1]);
    g.last = t;
    const a = agg.get(`${sym}:${t}`);
    if (a) {
      aggregated++;
      if (a.o !== o || a.h !== h || a.l !== l || a.c !== cl || a.v !== v || BigInt(c[8]) !== BigInt(a.n))
        fail('kline of a trade day differs from its trades', line, a);
    }
    prev = { t, c: cl };
  }
}
if (total !== m.klines.rows) fail('klines.rows', total, m.klines.rows);
if (aggregated !== agg.size || aggregated === 0) fail('trade minutes without a kline', aggregated, agg.size);
for (const [sym, g] of Object.entries(gaps))
  if (JSON.stringify(g.list) !== JSON.stringify(m.gaps[sym])) fail('gaps differ', sym, JSON.stringify(g.list), JSON.stringify(m.gaps[sym]));
const hourGaps = Object.values(m.gaps).flat().filter((g) => g[2] === 60).length;
if (hourGaps < 3) fail('expected a whole-hour gap per symbol and year', hourGaps);
process.exit(bad ? 1 : 0);
JS

# a day's klines do not depend on the window: every minute present in both
# outputs is the same row (the whole-hour gaps move with the window)
"$GEN" --out "$T/w" --symbols 3 --start 2023-12-20 --days 4 --trade-symbols 0 >/dev/null 2>&1
same_rows() { # prints "common differing"
  awk -F, 'NR == FNR { a[$1] = $0; next } ($1 in a) { n++; if (a[$1] != $0) d++ } END { print n + 0, d + 0 }' "$@"
}
read -r common differing < <(same_rows "$T/a/klines/ETHUSDT-1m-2023-12.csv" "$T/w/klines/ETHUSDT-1m-2023-12.csv")
check "window-independent rows ($common shared minutes)" test "$common" -gt 5000 -a "$differing" = 0

fails "--days 0 refused" 1 "--days" "$GEN" --out "$T/x" --days 0
fails "bad date refused" 1 "--start" "$GEN" --out "$T/x" --start 2023-02-30
fails "unknown option: usage" 2 "unknown" "$GEN" --out "$T/x" --bogus 1
fails "--out required" 2 "--out" "$GEN" --small

echo "$passed passed, $failed failed"
((failed == 0))
