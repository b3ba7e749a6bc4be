#!/usr/bin/env node
// arrow_ipc.mjs -- interoperability tests of dl's Arrow IPC stream writer (src/arrow/).
//
//   node tests/interop/arrow_ipc.mjs [--tools build/release/tools] [--keep]
//
// build/<mode>/tools/dl_ipc_fixture writes a deterministic table with every dl type (nulls,
// extremes, -0.0/NaN/infinities, non-ASCII strings, binary with zero bytes, pre-1970 and
// wall-clock timestamps, a decimal) as an IPC stream, in one or several record batches
// (including empty ones), plus the values handed to the writer as lossless JSON; the
// "stream:" cases write it through the library's ArrowArrayStream (the export path of
// query results) and the IPC written from that stream.
//   - apache-arrow (Arrow JS) tableFromIPC must see every field's name, type (bit width,
//     precision, timestamp unit and timezone, date unit, decimal precision/scale),
//     nullability, the batch count, and exactly the expected values (floats compared with
//     Object.is, 64-bit values as BigInt, decimals from their 128-bit words).
//   - nodejs-polars readIPCStream must see the same dtypes and values (binary, which
//     nodejs-polars cannot hand to JS, is checked by writing it back with Polars and reading
//     that with Arrow JS).
//   - DuckDB has no built-in IPC reader; the check runs only when the nanoarrow community
//     extension is already installed, otherwise it is reported as skipped.
//
// Last line: "arrow-ipc: N passed, N failed"; exit status 1 when anything failed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const arrow = require('apache-arrow');
const pl = require('nodejs-polars');

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const a = { tools: 'build/release/tools', keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tools') a.tools = argv[++i];
    else if (argv[i] === '--keep') a.keep = true;
    else {
      console.error(`arrow_ipc.mjs: unknown argument ${argv[i]}\nusage: node arrow_ipc.mjs [--tools DIR] [--keep]`);
      process.exit(2);
    }
  }
  a.tools = path.resolve(a.tools);
  return a;
}

// ---------------------------------------------------------------- harness
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
  }
}
// Runs fn, turning an exception into one failure.
async function guarded(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(name, false, e.stack || String(e));
  }
}

const show = (v) =>
  JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));

// Compares a column's values (null = null) with `eq`; one pass/fail per column.
function checkValues(name, expected, got, eq) {
  if (got.length !== expected.length) {
    check(name, false, `${got.length} values, expected ${expected.length}`);
    return;
  }
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const g = got[i];
    const ok = e === null ? g === null || g === undefined : g !== null && g !== undefined && eq(g, e);
    if (!ok) {
      check(name, false, `row ${i}: got ${show(g)}, expected ${show(e)}`);
      return;
    }
  }
  check(name, true);
}

// ---------------------------------------------------------------- expected values
function f32FromBits(hex) {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, Number(BigInt(hex)), true);
  return dv.getFloat32(0, true);
}
function f64FromBits(hex) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt(hex), true);
  return dv.getFloat64(0, true);
}
const toHex = (bytes) => Buffer.from(bytes).toString('hex');

// The expected JS value of one JSON value, for Arrow JS.
function expectedValue(col, v) {
  if (v === null) return null;
  switch (col.type) {
    case 'float': return f32FromBits(v);
    case 'double': return f64FromBits(v);
    case 'int64':
    case 'timestamp': return BigInt(v);
    default: return v;
  }
}

// Unscaled integer string -> "123.4567" (Polars' decimal-to-string form).
function decimalString(unscaled, scale) {
  const neg = unscaled.startsWith('-');
  const digits = (neg ? unscaled.slice(1) : unscaled).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

// ---------------------------------------------------------------- Arrow JS
const UNIT = { ms: arrow.TimeUnit.MILLISECOND, us: arrow.TimeUnit.MICROSECOND, ns: arrow.TimeUnit.NANOSECOND };

function checkArrowType(tag, col, field) {
  const t = field.type;
  const want = {
    bool: () => t.typeId === arrow.Type.Bool,
    int32: () => t.typeId === arrow.Type.Int && t.bitWidth === 32 && t.isSigned,
    int64: () => t.typeId === arrow.Type.Int && t.bitWidth === 64 && t.isSigned,
    float: () => t.typeId === arrow.Type.Float && t.precision === arrow.Precision.SINGLE,
    double: () => t.typeId === arrow.Type.Float && t.precision === arrow.Precision.DOUBLE,
    string: () => t.typeId === arrow.Type.Utf8,
    binary: () => t.typeId === arrow.Type.Binary,
    timestamp: () => t.typeId === arrow.Type.Timestamp && t.unit === UNIT[col.unit] && t.timezone === (col.utc ? 'UTC' : null),
    date: () => t.typeId === arrow.Type.Date && t.unit === arrow.DateUnit.DAY,
  };
  const ok =
    col.scale > 0
      ? t.typeId === arrow.Type.Decimal && t.scale === col.scale && t.precision === col.precision && t.bitWidth === 128
      : want[col.type]();
  check(`${tag}: ${col.name} type`, ok, `got ${String(t)} (timezone ${t.timezone}), expected ${col.type} ${col.unit} utc=${col.utc}`);
  check(`${tag}: ${col.name} nullable`, field.nullable === col.nullable, `got ${field.nullable}`);
}

// A decimal128's unscaled value from its four little-endian 32-bit words.
function decimal128(words) {
  let v = 0n;
  for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(words[k]);
  return BigInt.asIntN(128, v);
}

// Values of a column as JS values (null for null).  Decimals and timestamps are read from the
// raw chunks: get() turns timestamps into (lossy) float milliseconds.
function arrowValues(vector, col) {
  const out = [];
  if (col.scale > 0 || col.type === 'timestamp') {
    for (const data of vector.data) {
      for (let j = 0; j < data.length; j++) {
        const k = data.offset + j;
        if (!data.getValid(j)) out.push(null);
        else if (col.scale > 0) out.push(decimal128(data.values.subarray(k * 4, k * 4 + 4)));
        else out.push(BigInt(data.values[k]));
      }
    }
    return out;
  }
  for (let i = 0; i < vector.length; i++) out.push(vector.isValid(i) ? vector.get(i) : null);
  return out;
}

function checkWithArrowJS(tag, bytes, expected) {
  const table = arrow.tableFromIPC(bytes);
  check(`${tag}: arrow js rows`, table.numRows === expected.rows, `got ${table.numRows}`);
  // Arrow JS keeps every record batch it reads, empty ones included
  // (a stream without record batches reads as one empty batch)
  check(`${tag}: arrow js batches`, table.batches.length === Math.max(expected.batches, 1), `got ${table.batches.length}`);
  check(`${tag}: arrow js field count`, table.schema.fields.length === expected.columns.length);
  for (const [i, col] of expected.columns.entries()) {
    const field = table.schema.fields[i];
    if (!field) continue;
    check(`${tag}: field ${i} name`, field.name === col.name, `got ${field.name}`);
    checkArrowType(tag, col, field);
    const got = arrowValues(table.getChildAt(i), col);
    const name = `${tag}: arrow js ${col.name} values`;
    if (col.scale > 0) checkValues(name, col.values.map((v) => (v === null ? null : BigInt(v))), got, (g, e) => g === e);
    else if (col.type === 'binary') checkValues(name, col.values, got, (g, e) => g instanceof Uint8Array && toHex(g) === e);
    else if (col.type === 'date') checkValues(name, col.values, got, (g, e) => g === e * 86400000); // Arrow JS: ms since epoch
    else checkValues(name, col.values.map((v) => expectedValue(col, v)), got, (g, e) => Object.is(g, e));
  }
}

// ---------------------------------------------------------------- Polars
function polarsDtype(col) {
  if (col.scale > 0) return `Decimal(${col.precision},${col.scale})`;
  switch (col.type) {
    case 'bool': return 'Bool';
    case 'int32': return 'Int32';
    case 'int64': return 'Int64';
    case 'float': return 'Float32';
    case 'double': return 'Float64';
    case 'string': return 'String';
    case 'date': return 'Date';
    case 'timestamp': return `Datetime(${col.unit},${col.utc ? 'UTC' : ''})`;
  }
  return null;
}

function polarsColumn(df, expr) {
  const r = df.select(expr);
  return r.getColumn(r.columns[0]).toArray();
}

function checkWithPolars(tag, bytes, expected) {
  const df = pl.readIPCStream(bytes);
  check(`${tag}: polars rows`, df.height === expected.rows, `got ${df.height}`);
  check(`${tag}: polars columns`, show(df.columns) === show(expected.columns.map((c) => c.name)), show(df.columns));
  for (const col of expected.columns) {
    const name = `${tag}: polars ${col.name}`;
    if (col.type === 'binary') {
      // nodejs-polars cannot convert Binary to JS: round-trip it through Polars' own writer
      const back = arrow.tableFromIPC(df.select(col.name).writeIPCStream()).getChild(col.name);
      const got = [];
      for (let i = 0; i < back.length; i++) got.push(back.isValid(i) ? back.get(i) : null);
      checkValues(`${name} values (via Polars writer)`, col.values, got, (g, e) => toHex(g) === e);
      continue;
    }
    const dtype = String(df.getColumn(col.name).dtype);
    check(`${name} dtype`, dtype === `DataType(${polarsDtype(col)})`, `got ${dtype}`);
    const c = pl.col(col.name);
    if (col.scale > 0)
      checkValues(`${name} values`, col.values.map((v) => (v === null ? null : decimalString(v, col.scale))), polarsColumn(df, c.cast(pl.Utf8)), (g, e) => g === e);
    else if (col.type === 'int64' || col.type === 'timestamp')
      checkValues(`${name} values`, col.values, polarsColumn(df, c.cast(pl.Int64).cast(pl.Utf8)), (g, e) => g === e);
    else if (col.type === 'date')
      checkValues(`${name} values`, col.values, polarsColumn(df, c.cast(pl.Int32)), (g, e) => g === e);
    else
      checkValues(`${name} values`, col.values.map((v) => expectedValue(col, v)), polarsColumn(df, c), (g, e) => Object.is(g, e));
  }
}

// ---------------------------------------------------------------- DuckDB
let duckdbNote = null;
async function checkWithDuckDB(tag, file, expected) {
  if (duckdbNote) return;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    await con.run('LOAD nanoarrow'); // community extension providing read_arrow(); never downloaded here
  } catch (e) {
    duckdbNote = `DuckDB skipped: no built-in Arrow IPC reader and the nanoarrow extension is not installed (${e.message.split('\n')[0]})`;
    return;
  }
  const r = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_arrow('${file.replaceAll("'", "''")}')`);
  const n = Number(r.getRowObjects()[0].n);
  check(`${tag}: duckdb rows`, n === expected.rows, `got ${n}`);
}

// ---------------------------------------------------------------- cases
const CASES = [
  { tag: 'one batch', rows: 1000, batches: 1 },
  { tag: 'seven batches', rows: 1000, batches: 7 },
  { tag: 'unaligned batches', rows: 203, batches: 3 },
  { tag: 'empty batches', rows: 3, batches: 5 },
  { tag: 'one row', rows: 1, batches: 1 },
  { tag: 'no rows', rows: 0, batches: 1 },
  { tag: 'stdout', rows: 50, batches: 2, stdout: true },
  // the same through the library's ArrowArrayStream and dl_arrow_stream_write_ipc
  { tag: 'stream: seven batches', rows: 1000, batches: 7, viaStream: true },
  { tag: 'stream: unaligned batches', rows: 203, batches: 3, viaStream: true },
  { tag: 'stream: empty batches left out', rows: 3, batches: 5, viaStream: true },
  { tag: 'stream: no rows', rows: 0, batches: 1, viaStream: true },
];

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const fixture = path.join(args.tools, 'dl_ipc_fixture');
  if (!fs.existsSync(fixture)) {
    console.error(`arrow_ipc.mjs: ${fixture} not found (build it with make)`);
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-arrow-ipc-'));
  for (const c of CASES) {
    await guarded(c.tag, async () => {
      const file = path.join(dir, `${c.tag.replaceAll(' ', '_')}.arrows`);
      const json = `${file}.expected.json`;
      const argv = ['--rows', String(c.rows), '--batches', String(c.batches), '--expected', json];
      if (!c.stdout) argv.push('--out', file);
      if (c.viaStream) argv.push('--via-stream');
      const run = spawnSync(fixture, argv, { maxBuffer: 1 << 30 });
      check(`${c.tag}: fixture runs`, run.status === 0, `status ${run.status}: ${run.stderr}`);
      if (run.status !== 0) return;
      if (c.stdout) fs.writeFileSync(file, run.stdout);
      const bytes = fs.readFileSync(file);
      const expected = JSON.parse(fs.readFileSync(json, 'utf8'));
      await guarded(`${c.tag}: arrow js`, () => checkWithArrowJS(c.tag, bytes, expected));
      await guarded(`${c.tag}: polars`, () => checkWithPolars(c.tag, bytes, expected));
      await guarded(`${c.tag}: duckdb`, () => checkWithDuckDB(c.tag, file, expected));
    });
  }
  if (duckdbNote) console.log(duckdbNote);
  if (args.keep) console.log(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  console.log(`arrow-ipc: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
