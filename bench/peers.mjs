#!/usr/bin/env node
// peers.mjs -- one case of the dl benchmark run in a peer engine (DuckDB or
// Polars), printing one JSON line like dl-bench's:
//   {"engine":..,"case":..,"seconds":..,"rows":..,"check":{..},"threads":N,"version":..}
// `seconds` times the work only (after the engine is loaded): file
// discovery, reading, computing, and for ingest writing every file; the
// answer digest `check` is computed afterwards from the materialized result
// (for ingest: from the lake read back).  The case definitions and digests
// are the ones of dl-bench (bench/runner); bench/README.md lists them.
//
// Usage: node bench/peers.mjs --engine duckdb|polars --case CASE --data DIR
//          [--work DIR] [--lake DIR --lake-subdir P] [--trades-lake DIR --trades-subdir P]
//          [--threads N] [--symbol S] [--from YYYY-MM-DD] [--window-days N] [--threshold X]
// Lakes: the query cases read WORK/klines and WORK/trades (the peer's own
// ingest: SYMBOLDIR/year=/month=/day=/data_0.parquet with SYMBOLDIR
// `symbol=S`) or any lake whose first directory level names the symbol
// (`S` or `symbol=S`) with the data below SUBDIR, such as dl's lake:
//   --lake LAKE/klines/BINANCE/SPOT --lake-subdir raw/1m.
// `ts` may be an int64 in ms or any Parquet TIMESTAMP.
// Exit codes: 2 bad arguments, 3 engines not installed, 4 data or lake missing, 1 other.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const CASES = ['ingest_klines', 'ingest_trades', 'scan_range', 'resample_1h', 'bars_from_trades',
  'asof_join', 'lake_aggregate'];
const KLINE_COLS = ['open_time', 'open', 'high', 'low', 'close', 'volume', 'close_time',
  'quote_volume', 'trade_count', 'taker_buy_volume', 'taker_buy_quote_volume', 'ignore'];
const TRADE_COLS = ['trade_id', 'price', 'qty', 'quote_qty', 'time', 'is_buyer_maker', 'is_best_match'];

class UsageError extends Error {}
class MissingError extends Error {}

function parseArgs(argv) {
  const a = { threads: 2, symbol: 'BTCUSDT', from: '2024-01-01', windowDays: 90, threshold: 35000,
    lakeSubdir: '', tradesSubdir: '' };
  const names = { '--engine': 'engine', '--case': 'case', '--data': 'data', '--work': 'work',
    '--lake': 'lake', '--trades-lake': 'tradesLake', '--lake-subdir': 'lakeSubdir',
    '--trades-subdir': 'tradesSubdir', '--threads': 'threads', '--symbol': 'symbol',
    '--from': 'from', '--window-days': 'windowDays', '--threshold': 'threshold' };
  for (let i = 2; i < argv.length; i += 2) {
    const k = names[argv[i]];
    if (!k || i + 1 >= argv.length) throw new UsageError(`unknown or incomplete option '${argv[i]}'`);
    a[k] = argv[i + 1];
  }
  if (!['duckdb', 'polars'].includes(a.engine)) throw new UsageError('--engine wants duckdb or polars');
  if (!CASES.includes(a.case)) throw new UsageError(`--case wants one of ${CASES.join(', ')}`);
  if (!a.data && !a.work) throw new UsageError('--data (or --work) is required');
  a.threads = Number(a.threads);
  a.windowDays = Number(a.windowDays);
  a.threshold = Number(a.threshold);
  if (!(a.threads >= 1 && a.threads <= 64)) throw new UsageError('--threads wants 1..64');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(a.from) || Number.isNaN(Date.parse(a.from + 'T00:00:00Z')))
    throw new UsageError('--from wants YYYY-MM-DD');
  a.work = a.work || path.join(a.data, `work-${a.engine}`);
  a.lake = a.lake || path.join(a.work, 'klines');
  a.tradesLake = a.tradesLake || path.join(a.work, 'trades');
  return a;
}

// ---- answer digests (the same rounding as dl-bench: 6 significant digits) ----
const r6 = (x) => Number(Number(x).toPrecision(6));
const num = (v) => (typeof v === 'bigint' ? Number(v) : v === null || v === undefined ? 0 : Number(v));

// rows, then the double sums, then the exact integer sums, then first/last ts
function digest(rows, doubles, ints, tsValues) {
  const d = { rows: rows.length };
  for (const [name, col] of doubles) d[name] = r6(rows.reduce((s, r) => s + num(r[col]), 0));
  for (const [name, col] of ints) d[name] = rows.reduce((s, r) => s + BigInt(r[col] ?? 0), 0n);
  let lo = null, hi = null;
  for (const r of rows) {
    const t = num(r[tsValues]);
    if (lo === null || t < lo) lo = t;
    if (hi === null || t > hi) hi = t;
  }
  d.first_ts = lo;
  d.last_ts = hi;
  return d;
}

// ---- lakes ----
function walkParquet(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkParquet(p, out);
    else if (e.name.endsWith('.parquet')) out.push(p);
  }
  return out;
}

// The symbols of a lake: its first directory level (`S` or `symbol=S`),
// skipping names that start with '.' or '_' and symbols without data.
function lakeSymbols(root, subdir) {
  if (!fs.existsSync(root)) throw new MissingError(`lake ${root} not found (run the ingest case first)`);
  const out = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const dir = path.join(root, e.name, subdir);
    if (!fs.existsSync(dir)) continue;
    out.push({ symbol: e.name.replace(/^symbol=/, ''), dir, glob: path.join(dir, '**', '*.parquet') });
  }
  return out.sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0));
}

function symbolLake(root, subdir, symbol) {
  const s = lakeSymbols(root, subdir).find((x) => x.symbol === symbol);
  if (!s) throw new MissingError(`no data for ${symbol} in ${path.join(root, '*', subdir)}`);
  return s;
}

function csvFiles(data, kind) {
  const dir = path.join(data, kind);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.csv')).sort() : [];
  if (!files.length) throw new MissingError(`no CSV files in ${dir} (generate data with dl-gen)`);
  return files.map((f) => path.join(dir, f));
}

const rangeMs = (a) => {
  const from = Date.parse(a.from + 'T00:00:00Z');
  return [from, from + a.windowDays * 86400000];
};

// ================================ DuckDB ================================
async function duckdbEngine(a) {
  const { DuckDBInstance } = require('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', { threads: String(a.threads) });
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS();
  const version = (await rows('SELECT version() AS v'))[0].v;
  const q = (s) => `'${s.replaceAll("'", "''")}'`;
  // ts as int64 ms, whatever the file stores
  const tsExpr = async (glob) => {
    const t = (await rows(`DESCRIBE SELECT ts FROM read_parquet(${q(glob)})`))[0].column_type;
    return t.startsWith('TIMESTAMP') ? 'epoch_ms(ts)' : 'ts';
  };

  async function ingest(kind) {
    const klines = kind === 'klines';
    const files = csvFiles(a.data, kind);
    const out = path.join(a.work, kind);
    const cols = klines ? KLINE_COLS : TRADE_COLS;
    const types = klines
      ? ['BIGINT', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'BIGINT', 'DOUBLE', 'BIGINT', 'DOUBLE', 'DOUBLE', 'VARCHAR']
      : ['BIGINT', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'BIGINT', 'BOOLEAN', 'BOOLEAN'];
    const spec = '{' + cols.map((c, i) => `'${c}': '${types[i]}'`).join(', ') + '}';
    const tcol = klines ? 'open_time' : 'time';
    const select = klines
      ? 'open_time AS ts, open, high, low, close, volume, quote_volume, trade_count, taker_buy_volume, taker_buy_quote_volume'
      : 'time AS ts, trade_id, price, qty, quote_qty, is_buyer_maker';
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(a.work, { recursive: true });
    const t0 = performance.now();
    await con.run('SET partitioned_write_max_open_files = 1000000');
    await con.run(`COPY (SELECT regexp_extract(filename, '([^/]+?)-(1m|trades)-', 1) AS symbol, ${select},
        strftime(epoch_ms(${tcol}), '%Y') AS year, strftime(epoch_ms(${tcol}), '%m') AS month,
        strftime(epoch_ms(${tcol}), '%d') AS day
      FROM read_csv([${files.map(q).join(', ')}], header = false, columns = ${spec}, filename = true))
      TO ${q(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (symbol, year, month, day))`);
    const seconds = (performance.now() - t0) / 1000;
    const all = walkParquet(out);
    const partitions = new Set(all.map((f) => path.dirname(f))).size;
    const symbols = lakeSymbols(out, '').length;
    const g = q(path.join(out, '**', '*.parquet'));
    const r = klines
      ? (await rows(`SELECT count(*) AS n, sum(close) AS a, sum(volume) AS b, sum(trade_count) AS i, min(ts) AS lo, max(ts) AS hi FROM read_parquet(${g})`))[0]
      : (await rows(`SELECT count(*) AS n, sum(price) AS a, sum(qty) AS b, sum(quote_qty) AS c, count(*) FILTER (WHERE is_buyer_maker) AS i, min(ts) AS lo, max(ts) AS hi FROM read_parquet(${g})`))[0];
    const check = { rows: num(r.n), partitions, symbols };
    if (klines) Object.assign(check, { sum_close: r6(num(r.a)), sum_volume: r6(num(r.b)), sum_trades: BigInt(r.i ?? 0) });
    else Object.assign(check, { sum_price: r6(num(r.a)), sum_qty: r6(num(r.b)), sum_quote_qty: r6(num(r.c)), buyer_maker: BigInt(r.i ?? 0) });
    Object.assign(check, { first_ts: r.n ? num(r.lo) : null, last_ts: r.n ? num(r.hi) : null });
    return { seconds, rows: check.rows, check };
  }

  async function scanRange() {
    const t0 = performance.now();
    const s = symbolLake(a.lake, a.lakeSubdir, a.symbol);
    const ts = await tsExpr(s.glob);
    const [from, to] = rangeMs(a);
    const res = await rows(`SELECT ${ts} AS ts, close FROM read_parquet(${q(s.glob)})
      WHERE ${ts} >= ${from} AND ${ts} < ${to} AND close > ${a.threshold} ORDER BY ts`);
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, rows: res.length, check: digest(res, [['sum_close', 'close']], [], 'ts') };
  }

  async function bars(fromTrades) {
    const t0 = performance.now();
    const s = fromTrades ? symbolLake(a.tradesLake, a.tradesSubdir, a.symbol) : symbolLake(a.lake, a.lakeSubdir, a.symbol);
    const ts = await tsExpr(s.glob);
    const width = fromTrades ? 60000 : 3600000;
    const agg = fromTrades
      ? 'arg_min(price, ts) AS open, max(price) AS high, min(price) AS low, arg_max(price, ts) AS close, sum(qty) AS volume, sum(price * qty) / sum(qty) AS vwap, count(*) AS trades'
      : 'arg_min(open, ts) AS open, max(high) AS high, min(low) AS low, arg_max(close, ts) AS close, sum(volume) AS volume, sum(trade_count) AS trades';
    const cols = fromTrades ? 'price, qty' : 'open, high, low, close, volume, trade_count';
    const res = await rows(`SELECT b * ${width} AS ts, ${agg}
      FROM (SELECT ${ts} AS ts, ${cols}, ${ts} // ${width} AS b FROM read_parquet(${q(s.glob)}))
      GROUP BY b ORDER BY b`);
    const seconds = (performance.now() - t0) / 1000;
    const dn = ['open', 'high', 'low', 'close', 'volume', ...(fromTrades ? ['vwap'] : [])].map((c) => [`sum_${c}`, c]);
    return { seconds, rows: res.length, check: digest(res, dn, [['sum_trades', 'trades']], 'ts') };
  }

  async function asofJoin() {
    const t0 = performance.now();
    const k = symbolLake(a.lake, a.lakeSubdir, a.symbol), t = symbolLake(a.tradesLake, a.tradesSubdir, a.symbol);
    const kts = await tsExpr(k.glob), tts = await tsExpr(t.glob);
    const r = (await rows(`SELECT count(*) AS trades, count(k.close) AS matched, sum(t.price - k.close) AS diff
      FROM (SELECT ${tts} AS ts, price FROM read_parquet(${q(t.glob)})) t
      ASOF LEFT JOIN (SELECT ${kts} + 59999 AS close_time, close FROM read_parquet(${q(k.glob)})) k
      ON t.ts >= k.close_time`))[0];
    const seconds = (performance.now() - t0) / 1000;
    const check = { trades: num(r.trades), matched: num(r.matched), sum_price_minus_close: r6(num(r.diff)) };
    return { seconds, rows: check.matched, check };
  }

  async function lakeAggregate() {
    const t0 = performance.now();
    const syms = lakeSymbols(a.lake, a.lakeSubdir);
    if (!syms.length) throw new MissingError(`no symbols in ${a.lake}`);
    const res = await rows(syms.map((s) => `SELECT ${q(s.symbol)} AS symbol, count(*) AS n, sum(volume) AS v FROM read_parquet(${q(s.glob)})`).join(' UNION ALL '));
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, rows: syms.length, check: aggregateCheck(res.map((r) => [r.symbol, num(r.n), num(r.v)])) };
  }

  const run = { ingest_klines: () => ingest('klines'), ingest_trades: () => ingest('trades'),
    scan_range: scanRange, resample_1h: () => bars(false), bars_from_trades: () => bars(true),
    asof_join: asofJoin, lake_aggregate: lakeAggregate }[a.case];
  try {
    return { ...(await run()), version };
  } finally {
    con.closeSync?.();
    inst.closeSync?.();
  }
}

// {"symbols":N,"rows":..,"sum_volume":..,"per_symbol":{S:[rows,sum_volume]}} in symbol order
function aggregateCheck(list) {
  list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const per = {};
  for (const [s, n, v] of list) per[s] = [n, r6(v)];
  return { symbols: list.length, rows: list.reduce((s, x) => s + x[1], 0),
    sum_volume: r6(list.reduce((s, x) => s + x[2], 0)), per_symbol: per };
}

// ================================ Polars ================================
async function polarsEngine(a) {
  process.env.POLARS_MAX_THREADS = String(a.threads);
  const pl = require('nodejs-polars');
  const version = require('nodejs-polars/package.json').version;
  const i64 = (n) => pl.lit(n).cast(pl.Int64); // a plain number would be a Float64 literal
  // ts as int64 ms, whatever the file stores
  const tsMs = (lf) => {
    const dt = lf.select(pl.col('ts')).limit(0).collectSync().getColumn('ts').dtype;
    if (dt.variant !== 'Datetime') return pl.col('ts').cast(pl.Int64);
    const per = { ms: 1, us: 1000, ns: 1000000 }[dt.timeUnit];
    const v = pl.col('ts').cast(pl.Int64);
    return per === 1 ? v : v.sub(v.modulo(i64(per))).div(i64(per)); // exact: ts >= 0
  };
  const toRows = (df) => {
    const cols = df.columns, arrays = cols.map((c) => df.getColumn(c).cast(pl.Float64).toArray());
    return Array.from({ length: df.height }, (_, i) => Object.fromEntries(cols.map((c, k) => [c, arrays[k][i]])));
  };

  function ingest(kind) {
    const klines = kind === 'klines';
    const files = csvFiles(a.data, kind);
    const out = path.join(a.work, kind);
    const F = pl.Float64, I = pl.Int64;
    const dtypes = klines
      ? { open_time: I, open: F, high: F, low: F, close: F, volume: F, close_time: I, quote_volume: F, trade_count: I, taker_buy_volume: F, taker_buy_quote_volume: F, ignore: pl.Utf8 }
      : { trade_id: I, price: F, qty: F, quote_qty: F, time: I, is_buyer_maker: pl.Utf8, is_best_match: pl.Utf8 };
    const keep = klines
      ? [pl.col('open_time').alias('ts'), ...['open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trade_count', 'taker_buy_volume', 'taker_buy_quote_volume'].map((c) => pl.col(c))]
      : [pl.col('time').alias('ts'), pl.col('trade_id'), pl.col('price'), pl.col('qty'), pl.col('quote_qty'), pl.col('is_buyer_maker').eq(pl.lit('True')).alias('is_buyer_maker')];
    fs.rmSync(out, { recursive: true, force: true });
    const t0 = performance.now();
    // one file at a time: Binance files hold whole UTC days, so a day never spans two files
    for (const f of files) {
      const symbol = path.basename(f).split('-')[0];
      const df = pl.readCSV(f, { hasHeader: false, schema: dtypes, numThreads: a.threads })
        .select(...keep)
        .withColumns(pl.col('ts').div(i64(86400000)).floor().cast(pl.Int64).alias('__day'))
        .sort('ts');
      for (const part of df.partitionBy('__day', true, true)) {
        const day = Number(part.getColumn('__day').cast(pl.Float64).get(0));
        const d = new Date(day * 86400000).toISOString();
        const dir = path.join(out, `symbol=${symbol}`, `year=${d.slice(0, 4)}`, `month=${d.slice(5, 7)}`, `day=${d.slice(8, 10)}`);
        fs.mkdirSync(dir, { recursive: true });
        part.drop('__day').writeParquet(path.join(dir, 'data_0.parquet'), { compression: 'zstd' });
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const all = walkParquet(out);
    const partitions = new Set(all.map((f) => path.dirname(f))).size;
    const symbols = lakeSymbols(out, '').length;
    const lf = pl.scanParquet(path.join(out, '**', '*.parquet'));
    const r = toRows(lf.select(
      pl.len().alias('n'),
      ...(klines
        ? [pl.col('close').sum().alias('a'), pl.col('volume').sum().alias('b'), pl.col('trade_count').sum().alias('i')]
        : [pl.col('price').sum().alias('a'), pl.col('qty').sum().alias('b'), pl.col('quote_qty').sum().alias('c'), pl.col('is_buyer_maker').cast(pl.Int64).sum().alias('i')]),
      pl.col('ts').min().alias('lo'), pl.col('ts').max().alias('hi')).collectSync())[0];
    const check = { rows: r.n, partitions, symbols };
    if (klines) Object.assign(check, { sum_close: r6(r.a), sum_volume: r6(r.b), sum_trades: BigInt(r.i ?? 0) });
    else Object.assign(check, { sum_price: r6(r.a), sum_qty: r6(r.b), sum_quote_qty: r6(r.c), buyer_maker: BigInt(r.i ?? 0) });
    Object.assign(check, { first_ts: r.n ? r.lo : null, last_ts: r.n ? r.hi : null });
    return { seconds, rows: check.rows, check };
  }

  function scanRange() {
    const t0 = performance.now();
    const s = symbolLake(a.lake, a.lakeSubdir, a.symbol);
    const lf = pl.scanParquet(s.glob);
    const [from, to] = rangeMs(a);
    const df = lf.select(tsMs(lf).alias('ts'), pl.col('close'))
      .filter(pl.col('ts').gtEq(i64(from)).and(pl.col('ts').lt(i64(to))).and(pl.col('close').gt(pl.lit(a.threshold))))
      .sort('ts').collectSync();
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, rows: df.height, check: digest(toRows(df), [['sum_close', 'close']], [], 'ts') };
  }

  function bars(fromTrades) {
    const t0 = performance.now();
    const s = fromTrades ? symbolLake(a.tradesLake, a.tradesSubdir, a.symbol) : symbolLake(a.lake, a.lakeSubdir, a.symbol);
    const lf = pl.scanParquet(s.glob);
    const width = fromTrades ? 60000 : 3600000;
    const cols = fromTrades ? ['price', 'qty'] : ['open', 'high', 'low', 'close', 'volume', 'trade_count'];
    const base = lf.select(tsMs(lf).alias('ts'), ...cols.map((c) => pl.col(c))).sort('ts')
      .withColumns(pl.col('ts').sub(pl.col('ts').modulo(i64(width))).alias('b'));
    const agg = fromTrades
      ? [pl.col('price').first().alias('open'), pl.col('price').max().alias('high'), pl.col('price').min().alias('low'),
        pl.col('price').last().alias('close'), pl.col('qty').sum().alias('volume'),
        pl.col('price').mul(pl.col('qty')).sum().div(pl.col('qty').sum()).alias('vwap'), pl.len().alias('trades')]
      : [pl.col('open').first(), pl.col('high').max(), pl.col('low').min(), pl.col('close').last(),
        pl.col('volume').sum(), pl.col('trade_count').sum().alias('trades')];
    const df = base.groupBy('b', true).agg(...agg).rename({ b: 'ts' }).sort('ts').collectSync();
    const seconds = (performance.now() - t0) / 1000;
    const dn = ['open', 'high', 'low', 'close', 'volume', ...(fromTrades ? ['vwap'] : [])].map((c) => [`sum_${c}`, c]);
    return { seconds, rows: df.height, check: digest(toRows(df), dn, [['sum_trades', 'trades']], 'ts') };
  }

  function asofJoin() {
    const t0 = performance.now();
    const k = symbolLake(a.lake, a.lakeSubdir, a.symbol), t = symbolLake(a.tradesLake, a.tradesSubdir, a.symbol);
    const klf = pl.scanParquet(k.glob), tlf = pl.scanParquet(t.glob);
    const kl = klf.select(tsMs(klf).add(i64(59999)).alias('close_time'), pl.col('close')).sort('close_time');
    const tr = tlf.select(tsMs(tlf).alias('ts'), pl.col('price')).sort('ts');
    const df = tr.joinAsof(kl, { leftOn: 'ts', rightOn: 'close_time', strategy: 'backward' })
      .select(pl.len().alias('trades'), pl.col('close').count().alias('matched'),
        pl.col('price').sub(pl.col('close')).sum().alias('diff')).collectSync();
    const seconds = (performance.now() - t0) / 1000;
    const r = toRows(df)[0];
    const check = { trades: r.trades, matched: r.matched, sum_price_minus_close: r6(r.diff ?? 0) };
    return { seconds, rows: check.matched, check };
  }

  function lakeAggregate() {
    const t0 = performance.now();
    const syms = lakeSymbols(a.lake, a.lakeSubdir);
    if (!syms.length) throw new MissingError(`no symbols in ${a.lake}`);
    const list = syms.map((s) => {
      const r = toRows(pl.scanParquet(s.glob).select(pl.len().alias('n'), pl.col('volume').sum().alias('v')).collectSync())[0];
      return [s.symbol, r.n, r.v];
    });
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, rows: syms.length, check: aggregateCheck(list) };
  }

  const run = { ingest_klines: () => ingest('klines'), ingest_trades: () => ingest('trades'),
    scan_range: scanRange, resample_1h: () => bars(false), bars_from_trades: () => bars(true),
    asof_join: asofJoin, lake_aggregate: lakeAggregate }[a.case];
  return { ...run(), version };
}

// ================================== main ==================================
async function main() {
  let a;
  try {
    a = parseArgs(process.argv);
  } catch (e) {
    console.error(`peers: ${e.message}`);
    process.exit(2);
  }
  let engine;
  try {
    engine = a.engine === 'duckdb' ? duckdbEngine : polarsEngine;
    require.resolve(a.engine === 'duckdb' ? '@duckdb/node-api' : 'nodejs-polars');
  } catch {
    console.error(`peers: ${a.engine} is not installed (run scripts/setup.sh: npm ci in bench/)`);
    process.exit(3);
  }
  try {
    const r = await engine(a);
    const line = { engine: a.engine, case: a.case, seconds: Number(r.seconds.toFixed(4)), rows: r.rows,
      check: r.check, threads: a.threads, version: r.version };
    console.log(JSON.stringify(line, (k, v) => (typeof v === 'bigint' ? Number(v) : v)));
  } catch (e) {
    console.error(`peers: ${a.engine} ${a.case}: ${e.message}`);
    process.exit(e instanceof MissingError ? 4 : 1);
  }
}

await main();
