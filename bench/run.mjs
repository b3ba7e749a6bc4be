#!/usr/bin/env node
// run.mjs -- the benchmark runner: every case N times in each engine (dl
// through dl-bench, DuckDB and Polars through peers.mjs), then a Markdown
// table of median seconds, dl's ratio to the faster peer, and whether every
// engine's answer digest equals dl's.  Each run is its own process; the
// times are the `seconds` each one reports (work only, engine start-up
// excluded).  Ingest cases run first: the query cases read the lakes they
// write (each engine its own, or with --on-dl-lake the peers read dl's).
//
// Usage: node bench/run.mjs --data DIR [--runs 3] [--threads 2] [--cases a,b]
//          [--engines dl,duckdb,polars] [--dl-bench PATH] [--on-dl-lake] [--json FILE]
// DIR holds dl-gen output (build/release/dl-gen --out DIR [--small]).
// Exit status: 0 all digests equal, 1 a run failed or a digest differs, 2 bad arguments.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CASES = ['ingest_klines', 'ingest_trades', 'scan_range', 'resample_1h', 'bars_from_trades',
  'asof_join', 'lake_aggregate'];
const ENGINES = ['dl', 'duckdb', 'polars'];

function parseArgs(argv) {
  const a = { runs: 3, threads: 2, cases: CASES, engines: ENGINES, onDlLake: false,
    dlBench: path.join(here, '..', 'build', 'release', 'dl-bench') };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k === '--on-dl-lake') { a.onDlLake = true; continue; }
    if (v === undefined) usage(`${k} needs a value`);
    i++;
    if (k === '--data') a.data = v;
    else if (k === '--runs') a.runs = Number(v);
    else if (k === '--threads') a.threads = Number(v);
    else if (k === '--cases') a.cases = v.split(',');
    else if (k === '--engines') a.engines = v.split(',');
    else if (k === '--dl-bench') a.dlBench = v;
    else if (k === '--json') a.json = v;
    else usage(`unknown option ${k}`);
  }
  if (!a.data) usage('--data DIR is required');
  if (!fs.existsSync(path.join(a.data, 'manifest.json')))
    usage(`${a.data}/manifest.json not found: generate the data with dl-gen --out ${a.data}`);
  if (!(a.runs >= 1) || !(a.threads >= 1)) usage('--runs and --threads want positive numbers');
  for (const c of a.cases) if (!CASES.includes(c)) usage(`unknown case ${c}`);
  for (const e of a.engines) if (!ENGINES.includes(e)) usage(`unknown engine ${e}`);
  a.cases = CASES.filter((c) => a.cases.includes(c)); // ingest first
  return a;
}

function usage(msg) {
  console.error(`run: ${msg}\nusage: node bench/run.mjs --data DIR [--runs N] [--threads N] [--cases a,b] [--engines dl,duckdb,polars] [--dl-bench PATH] [--on-dl-lake] [--json FILE]`);
  process.exit(2);
}

function command(a, engine, kase) {
  const common = ['--case', kase, '--data', a.data, '--threads', String(a.threads)];
  if (engine === 'dl') return [a.dlBench, common];
  const args = [path.join(here, 'peers.mjs'), '--engine', engine, ...common];
  if (a.onDlLake && !kase.startsWith('ingest_')) {
    const w = path.join(a.data, 'work-dl');
    args.push('--lake', path.join(w, 'klines', 'BINANCE', 'SPOT'), '--lake-subdir', 'raw/1m',
      '--trades-lake', path.join(w, 'trades', 'BINANCE', 'SPOT'), '--trades-subdir', 'ticks/trades');
  }
  return [process.execPath, args];
}

function runOnce(a, engine, kase) {
  const [bin, args] = command(a, engine, kase);
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const last = (r.stdout || '').trim().split('\n').pop();
  try {
    if (r.status !== 0) throw new Error();
    return JSON.parse(last);
  } catch {
    return { error: `exit ${r.status}: ${(r.stderr || '').trim().split('\n').pop() || last}` };
  }
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function main() {
  const a = parseArgs(process.argv);
  const results = [];
  let bad = 0;
  for (const kase of a.cases) {
    const row = { case: kase };
    for (const engine of a.engines) {
      const runs = [];
      for (let i = 0; i < a.runs; i++) {
        const r = runOnce(a, engine, kase);
        console.error(`run: ${kase} ${engine} #${i + 1}: ${r.error ?? `${r.seconds} s`}`);
        runs.push(r);
        if (r.error) break;
      }
      const failed = runs.find((r) => r.error);
      const checks = new Set(runs.map((r) => JSON.stringify(r.check)));
      row[engine] = failed ? { error: failed.error }
        : { seconds: median(runs.map((r) => r.seconds)), rows: runs[0].rows, check: runs[0].check,
          stable: checks.size === 1, runs: runs.map((r) => r.seconds) };
    }
    const ref = a.engines.map((e) => row[e]).find((r) => r && !r.error);
    row.same = a.engines.every((e) => !row[e].error && row[e].stable &&
      JSON.stringify(row[e].check) === JSON.stringify(ref.check));
    if (!row.same) bad++;
    results.push(row);
  }

  const names = { dl: 'dl', duckdb: 'DuckDB', polars: 'Polars' };
  const peers = a.engines.filter((e) => e !== 'dl');
  const withRatio = a.engines.includes('dl') && peers.length > 0;
  console.log(`| case | ${a.engines.map((e) => `${names[e]} s`).join(' | ')} |${withRatio ? ' dl / faster peer |' : ''} rows | digests |`);
  console.log(`|---|${a.engines.map(() => '---:|').join('')}${withRatio ? '---:|' : ''}---:|---|`);
  for (const r of results) {
    const cells = a.engines.map((e) => (r[e].error ? 'failed' : r[e].seconds.toFixed(3)));
    let ratio = '';
    if (withRatio) {
      const best = Math.min(...peers.map((e) => (r[e].error ? Infinity : r[e].seconds)));
      ratio = r.dl.error || !Number.isFinite(best) ? ' - |' : ` ${(r.dl.seconds / best).toFixed(2)} |`;
    }
    const rows = a.engines.map((e) => r[e].rows).find((x) => x !== undefined) ?? '';
    console.log(`| ${r.case} | ${cells.join(' | ')} |${ratio} ${rows} | ${r.same ? 'equal' : 'DIFFER'} |`);
  }
  for (const r of results.filter((x) => !x.same))
    for (const e of a.engines)
      console.error(`run: ${r.case} ${e}: ${r[e].error ?? JSON.stringify(r[e].check)}`);
  if (a.json) fs.writeFileSync(a.json, JSON.stringify({ runs: a.runs, threads: a.threads, results }, null, 1) + '\n');
  process.exit(bad ? 1 : 0);
}

main();
