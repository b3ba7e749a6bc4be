#!/usr/bin/env node
// run.mjs -- interoperability tests of dl's Parquet reader and writer against DuckDB and Polars.
//
//   node tests/interop/run.mjs --dl build/release/dl [--tools DIR] [--keep] [--only SUBSTRING]
//
// a) Files WE write: build/<mode>/tools/dl_fixtures writes every type, codec, dictionary on/off,
//    data page v1/v2, DELTA on/off, statistics/page index off, several row groups and small pages,
//    plus NAME.expected.json with the values handed to the writer (lossless: int64 as strings,
//    floats as IEEE bit patterns).  DuckDB and Polars must read exactly those values (doubles
//    compared with Object.is, int64 as BigInt, timestamps as integer instants), see strings as
//    VARCHAR/String and timestamps as TIMESTAMP WITH TIME ZONE / Datetime(unit, UTC); and
//    `dl cat --format jsonl` must print them per its documented conventions.
// b) Files DuckDB and Polars write (codecs, dictionary off, v2 pages, small row groups, statistics
//    off): `dl cat --format jsonl` must print exactly what DuckDB reads from the same file, and
//    `dl schema` must succeed.
// c) `dl schema --json` on each engine's file reports its created_by and the right logical types.
//
// Last line: "interop: N passed, N failed"; exit status 1 when anything failed.
// Known engine limits: DuckDB reads TIMESTAMP(NANOS, UTC) as microsecond TIMESTAMPTZ (truncating
// toward zero), so ns columns are compared with DuckDB at microsecond precision; nodejs-polars cannot convert Binary
// columns to JS values, so binary columns are checked with DuckDB only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const a = { dl: null, tools: null, keep: false, only: '' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--dl') a.dl = argv[++i];
    else if (k === '--tools') a.tools = argv[++i];
    else if (k === '--keep') a.keep = true;
    else if (k === '--only') a.only = argv[++i];
    else {
      console.error(`run.mjs: unknown argument ${k}\nusage: node run.mjs --dl PATH [--tools DIR] [--keep] [--only SUBSTRING]`);
      process.exit(2);
    }
  }
  if (!a.dl) { console.error('run.mjs: --dl PATH is required'); process.exit(2); }
  a.dl = path.resolve(a.dl);
  a.tools = path.resolve(a.tools ?? path.join(path.dirname(a.dl), 'tools'));
  return a;
}

// ---------------------------------------------------------------- harness
let passed = 0, failed = 0;
// setup steps (writing files) run even when --only filters them out: later tests need them
async function test(name, fn, { setup = false } = {}) {
  if (ARGS.only && !setup && !name.includes(ARGS.only)) return;
  const t0 = performance.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Math.round(performance.now() - t0)} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e?.message ?? e).split('\n').join('\n     ')}`);
  }
}
function check(cond, msg) { if (!cond) throw new Error(msg); }

function runDl(args) {
  const r = spawnSync(ARGS.dl, args, { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}
function dlOk(args) {
  const r = runDl(args);
  check(r.status === 0, `dl ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

// ---------------------------------------------------------------- value model
// Every source (expected.json, dl jsonl, DuckDB, Polars) is turned into per-column arrays of
// normalised values: bool -> boolean, int -> BigInt, float/double -> number, string -> string,
// binary -> lowercase hex, timestamp -> BigInt count of `unit`, date -> number of days,
// decimal -> its exact decimal text; null -> null.

const UNIT_DIGITS = { ms: 3, us: 6, ns: 9 };
const UNIT_PER_SECOND = { ms: 1000n, us: 1000000n, ns: 1000000000n };

function bitsToDouble(hex) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt(hex));
  return dv.getFloat64(0);
}
function bitsToFloat(hex) {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, Number(BigInt(hex)));
  return dv.getFloat32(0);
}
const floorDiv = (a, b) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

// ISO-8601 as dl prints it ("2024-01-05T00:00:00.123Z", expanded years "+010000-...") -> BigInt
function parseIsoTimestamp(s, unit, utc) {
  const m = /^([+-]\d{6}|\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d+)(Z?)$/.exec(s);
  check(m, `not an ISO-8601 timestamp: ${JSON.stringify(s)}`);
  check(m[7].length === UNIT_DIGITS[unit], `${s}: expected ${UNIT_DIGITS[unit]} fraction digits for ${unit}`);
  check((m[8] === 'Z') === utc, `${s}: ${utc ? 'missing' : 'unexpected'} "Z" (utc=${utc})`);
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  return BigInt(d.getTime() / 1000) * UNIT_PER_SECOND[unit] + BigInt(m[7]);
}
function parseIsoDate(s) {
  const m = /^([+-]\d{6}|\d{4})-(\d\d)-(\d\d)$/.exec(s);
  check(m, `not an ISO date: ${JSON.stringify(s)}`);
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getTime() / 86400000;
}
// JavaScript's own shortest round-trip text, which dl_format_double mimics (except "-0").
const jsText = (x) => (Object.is(x, -0) ? '-0' : String(x));

// kind of an expected.json column
function fixtureKind(col) {
  const k = { bool: 'bool', int32: 'int', int64: 'int', float: 'float', double: 'double', string: 'string',
    binary: 'binary', timestamp: 'timestamp', date: 'date' }[col.type];
  check(k, `unknown fixture type ${col.type}`);
  return { kind: k, unit: col.unit, utc: true };
}
function decodeExpected(col, kind) {
  return col.values.map((v) => {
    if (v === null) return null;
    switch (kind.kind) {
      case 'int': case 'timestamp': return BigInt(v);
      case 'float': return bitsToFloat(v);
      case 'double': return bitsToDouble(v);
      default: return v; // bool, string, binary (hex), date (days)
    }
  });
}

// ---- dl's jsonl: a tokenizer that keeps number tokens as text (no precision loss) ----
function parseJsonlLine(line) {
  const out = [];
  let i = 0;
  const ws = () => { while (line[i] === ' ') i++; };
  const str = () => {
    const start = i++;
    while (line[i] !== '"') { if (line[i] === '\\') i++; i++; check(i <= line.length, `unterminated string in ${line}`); }
    i++;
    return JSON.parse(line.slice(start, i));
  };
  check(line[i++] === '{', `not an object: ${line}`);
  ws();
  if (line[i] === '}') return out;
  for (;;) {
    ws();
    const key = str();
    ws();
    check(line[i++] === ':', `expected ':' in ${line}`);
    ws();
    let tok;
    if (line[i] === '"') tok = { t: 'str', v: str() };
    else {
      const m = /^(null|true|false|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(line.slice(i));
      check(m, `bad value at ${i} in ${line}`);
      i += m[0].length;
      tok = m[0] === 'null' ? { t: 'null' } : m[0] === 'true' || m[0] === 'false' ? { t: 'bool', v: m[0] === 'true' } : { t: 'num', v: m[0] };
    }
    out.push([key, tok]);
    ws();
    if (line[i] === ',') { i++; continue; }
    check(line[i] === '}', `expected ',' or '}' at ${i} in ${line}`);
    return out;
  }
}
// -> { names: [...], columns: [[token...], ...] }
function parseJsonl(text) {
  const lines = text.split('\n');
  check(lines.pop() === '', 'jsonl output does not end with a newline');
  let names = null;
  const columns = [];
  for (const line of lines) {
    const row = parseJsonlLine(line);
    if (!names) { names = row.map(([k]) => k); names.forEach(() => columns.push([])); }
    check(row.length === names.length && row.every(([k], j) => k === names[j]), `keys differ from the first row: ${line}`);
    row.forEach(([, tok], j) => columns[j].push(tok));
  }
  return { names: names ?? [], columns };
}
function base64ToHex(s) { return Buffer.from(s, 'base64').toString('hex'); }
// a dl jsonl token -> the normalised value for `kind`
function fromDlToken(tok, kind) {
  if (tok.t === 'null') return null;
  switch (kind.kind) {
    case 'bool': check(tok.t === 'bool', `expected a boolean, got ${JSON.stringify(tok)}`); return tok.v;
    case 'int': check(tok.t === 'num' && /^-?\d+$/.test(tok.v), `expected an integer, got ${tok.v}`); return BigInt(tok.v);
    case 'float': case 'double': check(tok.t === 'num', `expected a number, got ${JSON.stringify(tok)}`); return Number(tok.v);
    case 'decimal': check(tok.t === 'num', `expected a decimal number, got ${JSON.stringify(tok)}`); return tok.v;
    case 'string': check(tok.t === 'str', `expected a string, got ${JSON.stringify(tok)}`); return tok.v;
    case 'binary': check(tok.t === 'str', `expected base64, got ${JSON.stringify(tok)}`); return base64ToHex(tok.v);
    case 'timestamp': check(tok.t === 'str', `expected an ISO string, got ${JSON.stringify(tok)}`); return parseIsoTimestamp(tok.v, kind.unit, kind.utc);
    case 'date': check(tok.t === 'str', `expected a date string, got ${JSON.stringify(tok)}`); return parseIsoDate(tok.v);
  }
  throw new Error(`unknown kind ${kind.kind}`);
}

const show = (v) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : JSON.stringify(v) ?? String(v));
function sameValue(kind, want, got) {
  if (want === null || got === null) return want === got;
  if (kind.kind === 'float') return Object.is(Math.fround(want), Math.fround(got));
  if (kind.kind === 'double') return Object.is(want, got);
  return want === got;
}
// Compares normalised arrays; `nonFiniteAsNull`: dl's jsonl prints NaN/Inf as null.
function compareColumn(label, kind, want, got, { nonFiniteAsNull = false } = {}) {
  check(want.length === got.length, `${label}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    let w = want[i];
    if (nonFiniteAsNull && typeof w === 'number' && !Number.isFinite(w)) w = null;
    if (!sameValue(kind, w, got[i])) throw new Error(`${label} row ${i}: got ${show(got[i])}, expected ${show(w)}`);
  }
}

// ---------------------------------------------------------------- DuckDB
let duck = null;
async function duckdb() {
  if (!duck) {
    const { DuckDBInstance } = require('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
    const con = await inst.connect();
    duck = { con, rows: async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS(), run: (sql) => con.run(sql) };
  }
  return duck;
}
const sq = (s) => `'${String(s).replaceAll("'", "''")}'`;
const qi = (s) => `"${String(s).replaceAll('"', '""')}"`;

// DuckDB column type -> how to select it losslessly and which kind it is
function duckColumnPlan(name, type) {
  const c = qi(name);
  if (type === 'BOOLEAN') return { kind: { kind: 'bool' }, expr: c };
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT)$/.test(type)) return { kind: { kind: 'int' }, expr: `CAST(${c} AS VARCHAR)`, conv: BigInt };
  if (type === 'FLOAT') return { kind: { kind: 'float' }, expr: c };
  if (type === 'DOUBLE') return { kind: { kind: 'double' }, expr: c };
  if (type.startsWith('DECIMAL')) return { kind: { kind: 'decimal' }, expr: `CAST(${c} AS VARCHAR)` };
  if (type === 'VARCHAR') return { kind: { kind: 'string' }, expr: c };
  if (type === 'BLOB') return { kind: { kind: 'binary' }, expr: `lower(hex(${c}))` };
  if (type === 'DATE') return { kind: { kind: 'date' }, expr: `CAST(${c} - DATE '1970-01-01' AS BIGINT)`, conv: Number };
  const ts = { 'TIMESTAMP WITH TIME ZONE': ['us', true], TIMESTAMP: ['us', false], TIMESTAMP_MS: ['ms', false], TIMESTAMP_NS: ['ns', false], TIMESTAMP_S: ['s', false] }[type];
  if (ts) {
    const fn = { us: 'epoch_us', ms: 'epoch_ms', ns: 'epoch_ns', s: 'epoch' }[ts[0]];
    return { kind: { kind: 'timestamp', unit: ts[0], utc: ts[1] }, expr: `CAST(${fn}(${c}) AS VARCHAR)`, conv: BigInt };
  }
  throw new Error(`column ${name}: DuckDB type ${type} not handled by the test`);
}
// -> { names, types, plans, values: [[...]...] }
async function duckRead(file, names = null) {
  const d = await duckdb();
  const desc = await d.rows(`DESCRIBE SELECT * FROM read_parquet(${sq(file)})`);
  const cols = desc.filter((r) => !names || names.includes(r.column_name));
  const plans = cols.map((r) => duckColumnPlan(r.column_name, r.column_type));
  const sql = `SELECT ${plans.map((p, j) => `${p.expr} AS c${j}`).join(', ')} FROM read_parquet(${sq(file)})`;
  const rows = plans.length ? await d.rows(sql) : [];
  const values = plans.map((p, j) => rows.map((r) => (r[`c${j}`] === null ? null : p.conv ? p.conv(r[`c${j}`]) : r[`c${j}`])));
  return { names: cols.map((r) => r.column_name), types: cols.map((r) => r.column_type), plans, values };
}

// convert a normalised timestamp between units (floor), e.g. ns -> us for DuckDB's TIMESTAMPTZ
function convertUnit(v, from, to) {
  if (v === null || from === to) return v;
  const scale = { s: 1n, ms: 1000n, us: 1000000n, ns: 1000000000n };
  return scale[to] > scale[from] ? v * (scale[to] / scale[from]) : floorDiv(v, scale[from] / scale[to]);
}

// ---------------------------------------------------------------- Polars
let polars = null;
function pl() { return (polars ??= require('nodejs-polars')); }

// ---------------------------------------------------------------- tests
const ARGS = parseArgs(process.argv.slice(2));

async function main() {
  const t0 = performance.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-interop-'));
  const fixturesTool = path.join(ARGS.tools, 'dl_fixtures');
  const ours = path.join(work, 'ours');
  const theirs = path.join(work, 'theirs');
  fs.mkdirSync(ours);
  fs.mkdirSync(theirs);

  let fixtures = [];
  await test('fixtures: dl_fixtures writes the fixture files', () => {
    const r = spawnSync(fixturesTool, [ours], { encoding: 'utf8' });
    check(!r.error, `cannot run ${fixturesTool}: ${r.error?.message}`);
    check(r.status === 0, `dl_fixtures exited ${r.status}: ${r.stderr}`);
    fixtures = r.stdout.trim().split('\n').filter(Boolean).map((p) => path.basename(p, '.parquet'));
    check(fixtures.length >= 10, `only ${fixtures.length} fixtures written`);
  }, { setup: true });

  // ---- a) files we write
  for (const name of fixtures) {
    const file = path.join(ours, `${name}.parquet`);
    const expected = JSON.parse(fs.readFileSync(path.join(ours, `${name}.expected.json`), 'utf8'));
    const kinds = expected.columns.map(fixtureKind);
    const want = expected.columns.map((c, j) => decodeExpected(c, kinds[j]));

    await test(`ours/${name}: DuckDB reads the values and types written`, async () => {
      const got = await duckRead(file);
      check(got.names.join() === expected.columns.map((c) => c.name).join(), `columns ${got.names} differ`);
      expected.columns.forEach((col, j) => {
        const type = got.types[j];
        const wantType = { bool: 'BOOLEAN', int32: 'INTEGER', int64: 'BIGINT', float: 'FLOAT', double: 'DOUBLE', string: 'VARCHAR', binary: 'BLOB', timestamp: 'TIMESTAMP WITH TIME ZONE', date: 'DATE' }[col.type];
        check(type === wantType, `${col.name}: DuckDB type ${type}, expected ${wantType}`);
        const plan = got.plans[j];
        const kind = kinds[j];
        // DuckDB holds TIMESTAMPTZ in microseconds and truncates nanoseconds toward zero
        // (-1 ns reads as 0 us): compare ns columns at that precision
        const unit = kind.kind === 'timestamp' && kind.unit === 'ns' ? 'us' : kind.unit;
        const w = kind.kind === 'timestamp' && unit !== kind.unit ? want[j].map((v) => (v === null ? null : v / 1000n)) : want[j];
        const g = kind.kind === 'timestamp' ? got.values[j].map((v) => convertUnit(v, plan.kind.unit, unit)) : got.values[j];
        compareColumn(`DuckDB ${col.name}`, kind, w, g);
      });
    });

    await test(`ours/${name}: Polars reads the values and types written`, async () => {
      const P = pl();
      const cols = expected.columns.filter((c) => c.type !== 'binary');
      const df = P.readParquet(file, { columns: cols.map((c) => c.name) });
      const schema = df.schema;
      const sel = cols.map((c) => {
        const dt = schema[c.name];
        const wantDt = { bool: 'Bool', int32: 'Int32', int64: 'Int64', float: 'Float32', double: 'Float64', string: 'String', timestamp: 'Datetime', date: 'Date' }[c.type];
        check(dt.variant === wantDt, `${c.name}: Polars dtype ${String(dt)}, expected ${wantDt}`);
        if (c.type === 'timestamp') check(dt.timeUnit === c.unit && dt.timeZone === 'UTC', `${c.name}: Polars ${String(dt)}, expected Datetime(${c.unit}, UTC)`);
        const col = P.col(c.name);
        if (c.type === 'int64') return col.cast(P.Utf8); // lossless: Int64 -> JS would truncate
        if (c.type === 'timestamp') return col.cast(P.Int64).cast(P.Utf8);
        if (c.type === 'date') return col.cast(P.Int32);
        return col;
      });
      const out = df.select(...sel);
      for (const c of cols) {
        const j = expected.columns.indexOf(c);
        let vals = out.getColumn(c.name).toArray();
        if (c.type === 'int64' || c.type === 'timestamp') vals = vals.map((v) => (v === null ? null : BigInt(v)));
        if (c.type === 'int32') vals = vals.map((v) => (v === null ? null : BigInt(v)));
        compareColumn(`Polars ${c.name}`, kinds[j], want[j], vals);
      }
    });

    await test(`ours/${name}: dl cat --format jsonl prints the values written`, () => {
      const got = parseJsonl(dlOk(['cat', file, '--format', 'jsonl']));
      if (expected.rows > 0) check(got.names.join() === expected.columns.map((c) => c.name).join(), `keys ${got.names} differ`);
      check((got.columns[0]?.length ?? 0) === expected.rows, `${got.columns[0]?.length ?? 0} rows, expected ${expected.rows}`);
      if (expected.rows === 0) return;
      expected.columns.forEach((col, j) => {
        const vals = got.columns[j].map((tok) => fromDlToken(tok, kinds[j]));
        compareColumn(`dl ${col.name}`, kinds[j], want[j], vals, { nonFiniteAsNull: true });
        if (kinds[j].kind === 'double') // shortest round trip, laid out like JavaScript
          got.columns[j].forEach((tok, i) => {
            const w = want[j][i];
            if (w !== null && Number.isFinite(w)) check(tok.v === jsText(w), `dl ${col.name} row ${i}: printed ${tok.v}, JavaScript prints ${jsText(w)}`);
          });
      });
    });
  }

  await test('ours: DuckDB sees the encodings and codecs the writer options ask for', async () => {
    const d = await duckdb();
    const meta = async (n) => d.rows(`SELECT path_in_schema AS col, compression, encodings FROM parquet_metadata(${sq(path.join(ours, n + '.parquet'))})`);
    const codecs = { zstd: 'ZSTD', snappy: 'SNAPPY', none: 'UNCOMPRESSED', gzip: 'GZIP', lz4: 'LZ4_RAW' };
    for (const [n, codec] of Object.entries(codecs)) {
      if (!fixtures.includes(n)) continue;
      const rows = await meta(n);
      check(rows.every((r) => r.compression === codec), `${n}: compression ${[...new Set(rows.map((r) => r.compression))]}, expected ${codec}`);
    }
    const enc = async (n, col) => (await meta(n)).filter((r) => r.col === col).map((r) => r.encodings).join(';');
    check((await enc('zstd', 'ts')).includes('DELTA_BINARY_PACKED'), `zstd/ts: ${await enc('zstd', 'ts')}, expected DELTA_BINARY_PACKED`);
    check(!(await enc('v2_none_nodelta', 'ts')).includes('DELTA'), 'v2_none_nodelta/ts uses DELTA');
    check((await enc('zstd', 'symbol')).includes('RLE_DICTIONARY'), `zstd/symbol: ${await enc('zstd', 'symbol')}, expected RLE_DICTIONARY`);
    check(!(await enc('plain_nodict', 'symbol')).includes('DICTIONARY'), 'plain_nodict/symbol uses a dictionary');
    const rg = await d.rows(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${sq(path.join(ours, 'zstd.parquet'))})`);
    check(Number(rg[0].n) === 3, `zstd.parquet has ${rg[0].n} row groups, expected 3`);
  });

  // ---- b) files DuckDB and Polars write
  const d = await duckdb();
  await d.run(`CREATE TABLE src AS SELECT
      i::INTEGER AS id,
      CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
      (i % 200 - 100)::TINYINT AS tiny,
      (i * 37 % 60000 - 30000)::SMALLINT AS small,
      CASE WHEN i = 1 THEN -9223372036854775808 WHEN i = 2 THEN 9223372036854775807 WHEN i % 11 = 0 THEN NULL
           ELSE (hash(i) >> 2)::BIGINT * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) END AS big,
      CASE WHEN i % 13 = 0 THEN NULL ELSE (i / 7.0)::FLOAT END AS f32,
      CASE WHEN i = 3 THEN 'NaN'::DOUBLE WHEN i = 4 THEN '-Infinity'::DOUBLE WHEN i = 5 THEN -0.0::DOUBLE
           WHEN i = 6 THEN 5e-324 WHEN i % 5 = 0 THEN NULL ELSE i::DOUBLE * 0.1 + 1e-9 * i END AS f64,
      'SYM' || (i % 5) AS sym,
      CASE WHEN i % 17 = 0 THEN NULL WHEN i % 17 = 1 THEN '' ELSE 'h\u00e9llo ' || i || ' "q", \u2713' || chr(10) END AS txt,
      TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(i * 61001) AS tstz,
      CASE WHEN i % 19 = 0 THEN NULL ELSE (TIMESTAMP '1969-12-31 23:00:00' + to_milliseconds(i * 1001))::TIMESTAMP_MS END AS ts_ms,
      (TIMESTAMP '1950-01-01' + to_microseconds(i * 123457))::TIMESTAMP_NS AS ts_ns,
      TIMESTAMP '2000-01-01' + to_seconds(i) AS ts_local,
      CASE WHEN i % 23 = 0 THEN NULL ELSE DATE '1960-02-29' + i::INTEGER END AS d,
      (i * 1.25 - 3000)::DECIMAL(9,2) AS dec9,
      (i * 1234.5678 - 99999)::DECIMAL(18,4) AS dec18,
      CASE WHEN i % 29 = 0 THEN NULL ELSE encode('bin' || i) END AS blob
    FROM range(10000) t(i)`);
  const duckCases = {
    duck_default: '',
    duck_snappy: ', COMPRESSION snappy',
    duck_zstd: ', COMPRESSION zstd',
    duck_gzip: ', COMPRESSION gzip',
    duck_uncompressed: ', COMPRESSION uncompressed',
    duck_lz4: ', COMPRESSION lz4',
    duck_v2: ', PARQUET_VERSION v2',
    duck_v2_small_rg: ', PARQUET_VERSION v2, ROW_GROUP_SIZE 2048, COMPRESSION snappy',
    duck_nodict: ', DICTIONARY_SIZE_LIMIT 1',
    duck_small_rg: ', ROW_GROUP_SIZE 2048',
  };
  const theirFiles = [];
  for (const [name, opts] of Object.entries(duckCases)) {
    const file = path.join(theirs, `${name}.parquet`);
    await test(`theirs/${name}: DuckDB writes the file`, async () => {
      await d.run(`COPY src TO ${sq(file)} (FORMAT parquet${opts})`);
      theirFiles.push(file);
    }, { setup: true });
  }
  const polarsCases = {
    polars_uncompressed: { compression: 'uncompressed' },
    polars_snappy: { compression: 'snappy' },
    polars_gzip: { compression: 'gzip' },
    polars_lz4: { compression: 'lz4' },
    polars_zstd: { compression: 'zstd' },
    polars_nostats_small_rg: { compression: 'zstd', statistics: false, rowGroupSize: 1500 },
    polars_stats_small_rg: { compression: 'snappy', statistics: true, rowGroupSize: 3000 },
  };
  for (const [name, opts] of Object.entries(polarsCases)) {
    const file = path.join(theirs, `${name}.parquet`);
    await test(`theirs/${name}: Polars writes the file`, async () => {
      const df = pl().readParquet(path.join(theirs, 'duck_default.parquet'));
      if (opts.statistics === undefined && opts.rowGroupSize === undefined) df.writeParquet(file, { compression: opts.compression });
      else await df.lazy().sinkParquet(file, opts).collect?.();
      check(fs.existsSync(file), `${file} was not written`);
      theirFiles.push(file);
    }, { setup: true });
  }
  for (const file of theirFiles) {
    const name = path.basename(file, '.parquet');
    await test(`theirs/${name}: dl cat --format jsonl prints what DuckDB reads`, async () => {
      const ref = await duckRead(file);
      const got = parseJsonl(dlOk(['cat', file, '--format', 'jsonl']));
      check(got.names.join() === ref.names.join(), `dl columns ${got.names}, DuckDB ${ref.names}`);
      const schema = JSON.parse(dlOk(['schema', file, '--json']));
      ref.names.forEach((col, j) => {
        const duckKind = ref.plans[j].kind;
        const field = schema.columns[j];
        let kind = duckKind, want = ref.values[j];
        if (duckKind.kind === 'timestamp') {
          // dl keeps the file's unit; compare at the coarser of the two
          check(field.type === 'timestamp', `${col}: dl type ${field.type}, DuckDB ${ref.types[j]}`);
          kind = { kind: 'timestamp', unit: field.unit, utc: field.utc };
          const unit = UNIT_PER_SECOND[field.unit] < (UNIT_PER_SECOND[duckKind.unit] ?? 1n) ? field.unit : duckKind.unit;
          const vals = got.columns[j].map((t) => convertUnit(fromDlToken(t, kind), field.unit, unit));
          compareColumn(`${col}`, { kind: 'timestamp' }, want.map((v) => convertUnit(v, duckKind.unit, unit)), vals);
          check(field.utc === duckKind.utc, `${col}: dl utc=${field.utc}, DuckDB type ${ref.types[j]}`);
          return;
        }
        const vals = got.columns[j].map((t) => fromDlToken(t, kind));
        compareColumn(`${col} (${ref.types[j]})`, kind, want, vals, { nonFiniteAsNull: true });
      });
    });
    await test(`theirs/${name}: dl schema describes every row group and column`, () => {
      const text = dlOk(['schema', file]);
      check(/^rows +10000$/m.test(text), 'text output lacks "rows 10000"');
      const s = JSON.parse(dlOk(['schema', file, '--json']));
      check(s.num_rows === 10000, `num_rows ${s.num_rows}`);
      check(s.row_groups.length === s.num_row_groups && s.num_row_groups >= 1, 'row group count');
      check(s.row_groups.reduce((a, rg) => a + rg.num_rows, 0) === 10000, 'row group rows do not add up');
      for (const rg of s.row_groups) check(rg.columns.length === s.columns.length, 'a row group lacks columns');
    });
  }

  // ---- c) dl schema on each engine's files
  await test('schema: DuckDB file shows created_by and logical types', () => {
    const s = JSON.parse(dlOk(['schema', path.join(theirs, 'duck_default.parquet'), '--json']));
    check(/duckdb/i.test(s.created_by), `created_by ${JSON.stringify(s.created_by)}`);
    const by = Object.fromEntries(s.columns.map((c) => [c.name, c]));
    check(by.txt.type === 'string' && /^(STRING|UTF8)$/.test(by.txt.logical_type), `txt: ${JSON.stringify(by.txt)}`);
    check(by.tstz.type === 'timestamp' && by.tstz.utc === true && by.tstz.unit === 'us', `tstz: ${JSON.stringify(by.tstz)}`);
    check(/TIMESTAMP\(MICROS,\s*(true|UTC)/i.test(by.tstz.logical_type), `tstz logical ${by.tstz.logical_type}`);
    check(by.ts_local.type === 'timestamp' && by.ts_local.utc === false, `ts_local: ${JSON.stringify(by.ts_local)}`);
    check(by.d.type === 'date' && /DATE/.test(by.d.logical_type), `d: ${JSON.stringify(by.d)}`);
    check(by.dec18.decimal_scale === 4 && by.dec18.decimal_precision === 18, `dec18: ${JSON.stringify(by.dec18)}`);
    check(by.blob.type === 'binary', `blob: ${JSON.stringify(by.blob)}`);
    check(by.id.nullable === true, 'DuckDB writes every column as OPTIONAL');
  });
  await test('schema: Polars file shows created_by and logical types', () => {
    const s = JSON.parse(dlOk(['schema', path.join(theirs, 'polars_zstd.parquet'), '--json']));
    check(/polars/i.test(s.created_by), `created_by ${JSON.stringify(s.created_by)}`);
    const by = Object.fromEntries(s.columns.map((c) => [c.name, c]));
    check(by.txt.type === 'string', `txt: ${JSON.stringify(by.txt)}`);
    check(by.tstz.type === 'timestamp' && by.tstz.utc === true, `tstz: ${JSON.stringify(by.tstz)}`);
    check(by.ts_ns.type === 'timestamp' && by.ts_ns.unit === 'ns', `ts_ns: ${JSON.stringify(by.ts_ns)}`);
    check(by.d.type === 'date', `d: ${JSON.stringify(by.d)}`);
    check(s.row_groups[0].columns.every((c) => c.codec === 'ZSTD'), 'Polars zstd file: codec is not ZSTD everywhere');
  });
  await test('schema: our file shows our created_by, key/value metadata and statistics', () => {
    const s = JSON.parse(dlOk(['schema', path.join(ours, 'zstd.parquet'), '--json']));
    check(/^dl-datalake/.test(s.created_by), `created_by ${JSON.stringify(s.created_by)}`);
    check(s.key_value_metadata.some((kv) => kv.key === 'dl.fixture' && kv.value === 'zstd'), 'dl.fixture key missing');
    const i64 = s.row_groups[0].columns.find((c) => c.name === 'i64');
    check(i64.statistics.min === -9223372036854775808 || JSON.stringify(i64.statistics).includes('"min":-9223372036854775808'), `i64 min ${JSON.stringify(i64.statistics)}`);
    const raw = dlOk(['schema', path.join(ours, 'zstd.parquet'), '--json']);
    check(raw.includes('"min":-9223372036854775808'), 'i64 statistics min is not printed exactly');
    check(raw.includes('"min":"2024-01-01T00:00:00.000Z"'), 'ts statistics min is not an ISO string');
  });

  if (!ARGS.keep) fs.rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

main()
  .catch((e) => { failed++; console.log(`FAIL (harness) ${e?.stack ?? e}`); })
  .finally(() => {
    console.log(`interop: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
