// query.mjs runs SQL in DuckDB (the npm build, @duckdb/node-api) and prints the
// result as JSON. It is the independent reader the Go tests and benchmarks use
// to check the lake (see internal/duckdb).
//
//   node tools/duckdb/query.mjs < query.sql
//
// stdin holds one SQL text; it may contain several statements separated by
// `;`: all run, in order, and the rows of the last one are printed on stdout as
// a JSON array of objects keyed by column name (duplicate names get DuckDB's
// deduplicated names, e.g. `a`, `a:1`). Values convert as:
//   NULL                           -> null
//   BOOLEAN                        -> true / false
//   integers up to 32 bits, FLOAT,
//   DOUBLE                         -> number (NaN and ±Infinity -> string)
//   BIGINT, UBIGINT, HUGEINT,
//   UHUGEINT                       -> number when within ±(2^53-1), else string
//   TIMESTAMP, TIMESTAMP_S/_MS/_NS,
//   TIMESTAMP WITH TIME ZONE       -> RFC 3339 string in UTC with `Z`, fraction
//                                     without trailing zeros (as Go's
//                                     time.RFC3339Nano); infinities -> "infinity"
//   DATE, TIME, DECIMAL, UUID,
//   VARCHAR, ENUM, BLOB, ...       -> string (DuckDB's text form)
//   LIST, ARRAY                    -> array
//   STRUCT                         -> object
//   MAP                            -> array of {"key": ..., "value": ...}
//   INTERVAL                       -> {"months", "days", "micros"}
// Errors: the message on stderr and exit status 1.
//
// The package is loaded from $CALLSTATS_DUCKDB_DIR/node_modules, else from
// <repo>/.cache/duckdb/node_modules, where scripts/test-deps installs it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function loadDuckDB() {
  const dir = process.env.CALLSTATS_DUCKDB_DIR || path.join(repoRoot, '.cache', 'duckdb');
  const modules = path.join(dir, 'node_modules');
  try {
    return createRequire(modules + path.sep)('@duckdb/node-api');
  } catch (err) {
    const why = err.code === 'MODULE_NOT_FOUND' ? 'not installed' : err.message.split('\n')[0];
    throw new Error(`cannot load @duckdb/node-api from ${modules}: ${why}; run scripts/test-deps`);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// safeNumber turns a bigint into a number when that loses nothing, else a string.
function safeNumber(b) {
  return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b.toString();
}

// isoFromNanos formats nanoseconds since the Unix epoch as RFC 3339 in UTC.
function isoFromNanos(ns) {
  const billion = 1000000000n;
  let secs = ns / billion;
  let frac = ns % billion;
  if (frac < 0n) {
    frac += billion;
    secs -= 1n;
  }
  const d = new Date(Number(secs) * 1000);
  if (Number.isNaN(d.getTime())) {
    throw new Error(`timestamp out of range: ${ns} ns since epoch`);
  }
  const whole = d.toISOString().replace(/\.\d{3}Z$/, '');
  const digits = frac.toString().padStart(9, '0').replace(/0+$/, '');
  return digits ? `${whole}.${digits}Z` : `${whole}Z`;
}

function makeConverter(duckdb) {
  const T = duckdb.DuckDBTypeId;
  const fallback = duckdb.JsonDuckDBValueConverter;
  const timestamp = (toNanos) => (value) =>
    value.isFinite === false ? String(value) : isoFromNanos(toNanos(value));
  const byType = {
    [T.BIGINT]: safeNumber,
    [T.UBIGINT]: safeNumber,
    [T.HUGEINT]: safeNumber,
    [T.UHUGEINT]: safeNumber,
    [T.TIMESTAMP]: timestamp((v) => v.micros * 1000n),
    [T.TIMESTAMP_TZ]: timestamp((v) => v.micros * 1000n),
    [T.TIMESTAMP_S]: timestamp((v) => v.seconds * 1000000000n),
    [T.TIMESTAMP_MS]: timestamp((v) => v.millis * 1000000n),
    [T.TIMESTAMP_NS]: timestamp((v) => v.nanos),
    [T.INTERVAL]: (v) => ({ months: v.months, days: v.days, micros: safeNumber(v.micros) }),
  };
  const convert = (value, type) => {
    if (value === null || value === undefined) {
      return null;
    }
    const own = byType[type.typeId];
    // Nested types (LIST, STRUCT, MAP, ...) recurse through `convert`, so
    // their elements get the conversions above too.
    return own ? own(value, type) : fallback(value, type, convert);
  };
  return convert;
}

async function main() {
  const sql = readFileSync(0, 'utf8');
  if (sql.trim() === '') {
    throw new Error('no SQL on stdin');
  }
  const duckdb = loadDuckDB();
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      // run() without parameters hands the whole text to duckdb_query, which
      // executes every statement and returns the result of the last one.
      const reader = await connection.runAndReadAll(sql);
      const rows = reader.convertRowObjects(makeConverter(duckdb));
      process.stdout.write(JSON.stringify(rows) + '\n');
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

main().catch((err) => {
  process.stderr.write(`${err && err.message ? err.message : err}\n`);
  process.exitCode = 1;
});
