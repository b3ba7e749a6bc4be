#!/usr/bin/env node
// pq_peers.mjs -- the Parquet write/read throughput of DuckDB and Polars on
// the same OHLCV table that bench/pq_bench.c writes, for bench/pq_compare.sh.
// The table is loaded into each engine's memory from dl's file (not timed);
// then the engine writes it with CODEC (timed) and reads its own file back
// into memory (timed), and also reads dl's file (timed).
// Usage: node bench/pq_peers.mjs --src dl_zstd.parquet --dir DIR --codec zstd --threads 2 [--runs 3]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const a = { src: null, dir: '/tmp/dl-pq-bench', codec: 'zstd', threads: '2', runs: '1' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, '')] = argv[i + 1];
const runs = Number(a.runs);
const median = (xs) => [...xs].sort((x, y) => x - y)[(xs.length - 1) >> 1];
const time = async (fn) => { const t0 = performance.now(); const r = await fn(); return [(performance.now() - t0) / 1000, r]; };
const out = (o) => console.log(JSON.stringify(o));
const r6 = (x) => Number(Number(x).toPrecision(6));

async function duck() {
  const { DuckDBInstance } = require('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', { threads: a.threads });
  const con = await inst.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${a.src}')`);
  const rows = Number((await (await con.runAndReadAll('SELECT count(*) FROM t')).getRows())[0][0]);
  const file = path.join(a.dir, `duckdb_${a.codec}.parquet`);
  const codec = a.codec === 'none' ? 'uncompressed' : a.codec;
  const w = [];
  for (let r = 0; r < runs; r++) w.push((await time(() => con.run(`COPY t TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`)))[0]);
  const check = async (tbl) => {
    const row = (await (await con.runAndReadAll(`SELECT count(*), sum(close), sum(trade_count)::BIGINT, epoch_ms(min(ts)), epoch_ms(max(ts)) FROM ${tbl}`)).getRows())[0];
    return { rows: Number(row[0]), sum_close: r6(row[1]), sum_trades: Number(row[2]), first_ts: Number(row[3]), last_ts: Number(row[4]) };
  };
  out({ engine: 'duckdb', op: 'write', codec: a.codec, rows, seconds: median(w), bytes: fs.statSync(file).size, rows_per_s: rows / median(w), check: await check('t') });
  for (const [op, f] of [['read', file], ['read_dl_file', a.src]]) {
    const t = [];
    for (let r = 0; r < runs; r++) {
      await con.run('DROP TABLE IF EXISTS back');
      t.push((await time(() => con.run(`CREATE TABLE back AS SELECT * FROM read_parquet('${f}')`)))[0]);
    }
    out({ engine: 'duckdb', op, codec: a.codec, rows, seconds: median(t), bytes: fs.statSync(f).size, rows_per_s: rows / median(t), check: await check('back') });
  }
}

async function polars() {
  process.env.POLARS_MAX_THREADS = a.threads;
  const pl = require('nodejs-polars');
  const df = pl.readParquet(a.src);
  const rows = df.height;
  const file = path.join(a.dir, `polars_${a.codec}.parquet`);
  const codec = a.codec === 'none' ? 'uncompressed' : a.codec;
  const w = [];
  for (let r = 0; r < runs; r++) w.push((await time(() => df.writeParquet(file, { compression: codec })))[0]);
  const check = (d) => {
    const s = d.select(pl.col('close').sum().alias('c'), pl.col('trade_count').sum().alias('k'),
      pl.col('ts').cast(pl.Int64).min().cast(pl.Float64).alias('a'), pl.col('ts').cast(pl.Int64).max().cast(pl.Float64).alias('b'));
    const o = s.toRecords()[0];
    return { rows: d.height, sum_close: r6(o.c), sum_trades: Number(o.k), first_ts: Number(o.a), last_ts: Number(o.b) };
  };
  out({ engine: 'polars', op: 'write', codec: a.codec, rows, seconds: median(w), bytes: fs.statSync(file).size, rows_per_s: rows / median(w), check: check(df) });
  for (const [op, f] of [['read', file], ['read_dl_file', a.src]]) {
    const t = [];
    let back;
    for (let r = 0; r < runs; r++) { const [s, d] = await time(() => pl.readParquet(f)); t.push(s); back = d; }
    out({ engine: 'polars', op, codec: a.codec, rows, seconds: median(t), bytes: fs.statSync(f).size, rows_per_s: rows / median(t), check: check(back) });
  }
}

await duck();
await polars();
