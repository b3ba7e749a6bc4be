// features_asof.mjs -- `dl features get` against DuckDB over the same files.
// Random feature rows (ties on ts, available_at before and after ts, nulls,
// a symbol without rows) are imported with `dl features import`; DuckDB
// then reads the version's Parquet files straight from dl's lake and
// answers the same point-in-time question twice:
//   - the definition as SQL (correlated subquery: ts <= t, available_at <= t,
//     TTL, order by ts desc, available_at desc, limit 1), and
//   - an ASOF JOIN on the knowable time max(ts, available_at) with the
//     running best (ts, available_at) per symbol;
// both digests must equal dl's, with and without a TTL.
// Usage: node tests/interop/features_asof.mjs --dl build/release/dl
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const dl = path.resolve(argv[argv.indexOf('--dl') + 1] ?? 'build/release/dl');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl_feat_asof.'));
const lake = path.join(tmp, 'lake');
let passed = 0, failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};
const run = (args) => {
  const r = spawnSync(dl, args, { env: { ...process.env, DL_ROOT: lake }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`dl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

// deterministic data
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const T0 = Date.UTC(2024, 0, 5), MIN = 60000;
const syms = ['AAA', 'BBB', 'CCC'];
const seen = new Set();
const feat = ['sym,time,avail,x'];
while (feat.length < 4001) {
  const s = syms[rnd(3)], ts = T0 + rnd(3 * 1440) * MIN, aa = ts + (rnd(190) - 10) * MIN;
  const key = `${s},${ts},${aa}`;
  if (seen.has(key)) continue;
  seen.add(key);
  feat.push(`${key},${rnd(10) === 0 ? '' : (rnd(1000000) / 7).toString()}`);
}
const ents = ['symbol,ts'];
for (let i = 0; i < 3000; i++) {
  const s = i % 50 === 0 ? 'ZZZ' : syms[rnd(3)];
  ents.push(`${s},${T0 + (rnd(3 * 1440 + 240) - 120) * MIN + rnd(3) * 20000}`);
  if (i % 9 === 0) ents.push(ents[ents.length - 1]); // duplicate entity rows
}
fs.writeFileSync(path.join(tmp, 'f.csv'), feat.join('\n') + '\n');
fs.writeFileSync(path.join(tmp, 'e.csv'), ents.join('\n') + '\n');

run(['init']);
run(['features', 'import', path.join(tmp, 'f.csv'), '--name', 'fx', '--version', '1.0.0',
     '--entity-col', 'sym', '--ts-col', 'time', '--available-at-col', 'avail', '--no-fsync']);

// digest over entity order: symbol|epoch us|value (shortest round trip) or null
const digest = (rows) => crypto.createHash('sha256').update(rows.join('\n')).digest('hex');
const dlRows = (ttl) => {
  const args = ['features', 'get', '--entities', path.join(tmp, 'e.csv'), '--features', 'fx@1.0.0', '--format', 'csv'];
  if (ttl) args.push('--ttl', ttl);
  const lines = run(args).trim().split('\n').slice(1);
  return lines.map((l) => {
    const [s, ts, x] = l.split(',');
    return `${s}|${Date.parse(ts) * 1000}|${x === '' ? 'null' : Number(x)}`;
  });
};

const { DuckDBInstance } = require('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS();
const glob = path.join(lake, 'FEATURES/FX/*/features/*/*/*/*/data.parquet');
await con.run(`CREATE TABLE f AS SELECT symbol, epoch_us(ts) AS ts, epoch_us(available_at) AS aa, x
               FROM read_parquet('${glob}')`);
await con.run(`CREATE TABLE e AS SELECT row_number() OVER () AS rn, symbol, ts * 1000 AS t
               FROM read_csv('${path.join(tmp, 'e.csv')}', header = true,
                             columns = {'symbol': 'VARCHAR', 'ts': 'BIGINT'})`);
await con.run(`CREATE TABLE r AS SELECT symbol, k, max(best) AS best FROM (
                 SELECT symbol, greatest(ts, aa) AS k,
                        max([ts, aa]) OVER (PARTITION BY symbol ORDER BY greatest(ts, aa)
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS best
                 FROM f) GROUP BY ALL`);
const fmt = (r) => `${r.symbol}|${r.t}|${r.x === null ? 'null' : Number(r.x)}`;
const definition = async (ttlUs) => (await rows(`
  SELECT e.rn, e.symbol, e.t, (SELECT x FROM f WHERE f.symbol = e.symbol AND f.ts <= e.t AND f.aa <= e.t
                               AND (${ttlUs} = 0 OR e.t - f.ts <= ${ttlUs})
                               ORDER BY f.ts DESC, f.aa DESC LIMIT 1) AS x
  FROM e ORDER BY e.rn`)).map(fmt);
const asof = async (ttlUs) => (await rows(`
  SELECT e.rn, e.symbol, e.t, CASE WHEN ${ttlUs} = 0 OR e.t - r.best[1] <= ${ttlUs} THEN f.x END AS x
  FROM e ASOF LEFT JOIN r ON e.symbol = r.symbol AND e.t >= r.k
  LEFT JOIN f ON f.symbol = r.symbol AND f.ts = r.best[1] AND f.aa = r.best[2]
  ORDER BY e.rn`)).map(fmt);

try {
  for (const [ttl, ttlUs] of [[null, 0], ['90m', 90 * 60e6]]) {
    const mine = dlRows(ttl), def = await definition(ttlUs), join = await asof(ttlUs);
    const label = ttl ? ` (ttl ${ttl})` : '';
    check(`dl has one row per entity row${label}`, mine.length === ents.length - 1, `${mine.length}`);
    check(`dl == DuckDB definition (correlated subquery)${label}`, digest(mine) === digest(def),
          mine.find((m, i) => m !== def[i]) + ' vs ' + def.find((d, i) => d !== mine[i]));
    check(`dl == DuckDB ASOF JOIN${label}`, digest(mine) === digest(join));
    check(`some rows matched, some are null${label}`,
          mine.some((m) => !m.endsWith('|null')) && mine.some((m) => m.endsWith('|null')));
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`features_asof: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
