// features_pit.mjs -- benchmark of point-in-time retrieval: `dl features get`
// against DuckDB's ASOF JOIN over the same Parquet files, in one run, plus
// the build of the feature sets (8 kernels).  Steps: dl-gen klines (default
// 20 symbols x 730 days; --days N for a smaller run), dl ingest, dl features
// build of 3 feature sets, an entity file of --entities rows (random symbols
// and times over the range), then the timed retrievals.  Prints one JSON
// line per measurement (seconds, rows/s, peak RSS) and checks that dl's and
// DuckDB's answers have equal digests.
// Usage: node bench/features_pit.mjs --dl build/release/dl [--days 730] [--entities 1000000] [--out DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const dl = path.resolve(arg('--dl', 'build/release/dl'));
const gen = path.join(path.dirname(dl), 'dl-gen');
const days = Number(arg('--days', '730')), nEnt = Number(arg('--entities', '1000000'));
const out = path.resolve(arg('--out', fs.mkdtempSync(path.join(os.tmpdir(), 'dl_feat_bench.'))));
fs.mkdirSync(out, { recursive: true });
const lake = path.join(out, 'lake');
const env = { ...process.env, DL_ROOT: lake };
const timed = (cmd, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  const rss = Number(r.stderr.trim().split('\n').pop()) * 1024;
  return { secs, rss, stdout: r.stdout };
};
const report = (o) => console.log(JSON.stringify(o));

spawnSync(gen, ['--out', path.join(out, 'gen'), '--symbols', '20', '--days', String(days), '--trade-symbols', '0'], { stdio: 'ignore' });
if (!fs.existsSync(path.join(lake, '.dl'))) {
  timed(dl, ['init']);
  const files = fs.readdirSync(path.join(out, 'gen/klines')).filter((f) => f.endsWith('.csv')).map((f) => path.join(out, 'gen/klines', f));
  const ing = timed(dl, ['ingest', 'binance', ...files, '--no-fsync']);
  report({ case: 'ingest_klines', seconds: ing.secs });
}
const sets = {
  mom: [{ kernel: 'returns', bars: 1 }, { kernel: 'log_returns', bars: 15 }, { kernel: 'ema', span: 30 }],
  vol: [{ kernel: 'rolling_std', window: '1h' }, { kernel: 'realized_vol', window: '1h' }, { kernel: 'atr', window: '14m' }],
  flow: [{ kernel: 'vwap', window: '1h' }, { kernel: 'taker_imbalance', window: '15m' }],
};
let buildRows = 0, buildSecs = 0;
for (const [name, kernels] of Object.entries(sets)) {
  const spec = path.join(out, `${name}.json`);
  fs.writeFileSync(spec, JSON.stringify({ name, version: '1.0.0', sources: ['BINANCE/SPOT/*/raw/1m'], kernels }));
  const b = timed(dl, ['features', 'build', spec, '--no-fsync', '--json']);
  const j = JSON.parse(b.stdout);
  if (!j.unchanged) { buildRows += j.rows_in; buildSecs += b.secs; }
  report({ case: `build_${name}`, kernels: kernels.length, seconds: b.secs, rows_in: j.rows_in, unchanged: j.unchanged, peak_rss: b.rss });
}
if (buildSecs) report({ case: 'build_8_kernels_total', seconds: buildSecs, rows_per_s: Math.round(buildRows / buildSecs) });

// entities: random symbols and times over the data's range (epoch ms)
const syms = fs.readdirSync(path.join(lake, 'BINANCE/SPOT'));
const t0 = Date.UTC(2023, 0, 1), span = days * 86400000;
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const ent = ['symbol,ts'];
for (let i = 0; i < nEnt; i++) ent.push(`${syms[Math.floor(rnd() * syms.length)]},${t0 + Math.floor(rnd() * span)}`);
const entFile = path.join(out, 'entities.csv');
fs.writeFileSync(entFile, ent.join('\n') + '\n');

const outFile = path.join(out, 'dl_out.csv');
const g = timed(dl, ['features', 'get', '--entities', entFile, '--features', 'mom@1.0.0,vol@1.0.0,flow@1.0.0', '--format', 'csv', '--output', outFile]);
report({ case: 'pit_get_dl', entities: nEnt, sets: 3, seconds: g.secs, peak_rss: g.rss });

const { DuckDBInstance } = require('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
const d0 = process.hrtime.bigint();
await con.run(`CREATE TABLE e AS SELECT row_number() OVER () AS rn, symbol, ts * 1000 AS t FROM read_csv('${entFile}', header = true, columns = {'symbol': 'VARCHAR', 'ts': 'BIGINT'})`);
let sel = 'SELECT e.rn, e.symbol, e.t', from = 'FROM e';
for (const [name, kernels] of Object.entries(sets)) {
  const glob = path.join(lake, `FEATURES/${name.toUpperCase()}/*/features/*/*/*/*/data.parquet`);
  await con.run(`CREATE VIEW f_${name} AS SELECT symbol, epoch_us(available_at) AS k, * EXCLUDE (symbol, ts, available_at) FROM read_parquet('${glob}')`);
  from += ` ASOF LEFT JOIN f_${name} ON e.symbol = f_${name}.symbol AND e.t >= f_${name}.k`;
  const cols = (await (await con.runAndReadAll(`DESCRIBE f_${name}`)).getRowObjectsJS()).map((r) => r.column_name).filter((c) => c !== 'symbol' && c !== 'k');
  sel += cols.map((c) => `, f_${name}."${c}" AS "${name}__${c}"`).join('');
}
// available_at = ts + 1m here (monotone in ts), so the ASOF key k gives the
// point-in-time row; the general case (tests/interop/features_asof.mjs)
// needs the running best per knowable time.
const rows = await (await con.runAndReadAll(`${sel} ${from} ORDER BY e.rn`)).getRowsJS();
const dsecs = Number(process.hrtime.bigint() - d0) / 1e9;
report({ case: 'pit_asof_duckdb', entities: nEnt, sets: 3, seconds: dsecs, peak_rss: process.memoryUsage().rss });
report({ case: 'pit_ratio_dl_over_duckdb', ratio: +(g.secs / dsecs).toFixed(3) });

// digests: value per cell, null as empty, in entity order
const fmt = (v) => (v === null || v === undefined ? '' : String(Number(v)));
const dlLines = fs.readFileSync(outFile, 'utf8').trim().split('\n').slice(1)
  .map((l) => l.split(',').slice(2).map((x) => (x === '' ? '' : String(Number(x)))).join(','));
const duckLines = rows.map((r) => r.slice(3).map(fmt).join(','));
const h = (a) => crypto.createHash('sha256').update(a.join('\n')).digest('hex');
report({ case: 'pit_digest_equal', equal: h(dlLines) === h(duckLines), rows: dlLines.length });
