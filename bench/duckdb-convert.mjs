// duckdb-convert.mjs is a yardstick for the Go pipeline: it times DuckDB (the
// npm build, @duckdb/node-api) converting a JSON Lines file of raw call records
// into zstd Parquet, with schema inference over every record, in one of two
// formulations:
//
//   node bench/duckdb-convert.mjs <input.jsonl> <out.parquet>
//       nested: one COPY of the records as they are, nested, into one file.
//   node bench/duckdb-convert.mjs --flatten <input.jsonl> <out-dir>
//       flatten, the work callstats does: read_json into a temp table, then
//       unnest sessions, segments, media and streams level by level into
//       temp tables, and COPY calls, sessions and streams to three files,
//       with threads=2.
//
// It prints one JSON line on stdout:
//   {"seconds":…,"input_bytes":…,"rows":…,"peak_rss_bytes":…,"output_bytes":…,"threads":…}
// seconds is the wall time of the SQL alone (not node or DuckDB start-up);
// peak_rss_bytes is the process's peak resident set (VmHWM) at the end.
// DuckDB runs with one thread per available core. Errors: message on stderr,
// exit status 1.
//
// The package is loaded from $CALLSTATS_DUCKDB_DIR/node_modules, else from
// <repo>/.cache/duckdb/node_modules, where scripts/test-deps installs it.

import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// read_json settings for Microsoft Graph callRecords, which nest four levels
// deep (sessions > segments > media > streams) and reach several hundred KB
// per record with 60 sessions inline:
// - sample_size=-1: infer the schema from every record, not the first 20,480.
//   With the default, a field first seen after the sample (an optional metric,
//   a rare failureInfo) is silently dropped (checked with DuckDB 1.5.6).
// - maximum_object_size=256 MiB: DuckDB 1.5.6 read an 18 MB record (1,500
//   sessions) with the default 16 MiB as well, so this is insurance for other
//   versions, and costs nothing until a record is that large.
// - map_inference_threshold stays at its default (200): an object with more
//   distinct keys than that across the file, such as the open set of
//   feedback.tokens, becomes a MAP instead of a STRUCT with hundreds of fields.
const READ_JSON_OPTIONS = [
  "format='newline_delimited'",
  'sample_size=-1',
  'maximum_object_size=268435456',
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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

// sqlString quotes s as a SQL string literal.
function sqlString(s) {
  return `'${s.replaceAll("'", "''")}'`;
}

// peakRSS returns the peak resident set size in bytes.
function peakRSS() {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) {
      return Number(m[1]) * 1024;
    }
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

// flattenSQL returns the statements of the flatten formulation and the
// files it writes.
function flattenSQL(input, dir) {
  const out = (t) => path.join(dir, `${t}.parquet`);
  const parquet = '(FORMAT parquet, COMPRESSION zstd)';
  return {
    statements: [
      `CREATE TEMP TABLE calls AS SELECT * FROM read_json(${sqlString(input)}, ${READ_JSON_OPTIONS.join(', ')})`,
      `CREATE TEMP TABLE sessions AS SELECT call_id, unnest(s) FROM
         (SELECT id AS call_id, unnest(sessions) AS s FROM calls)`,
      `CREATE TEMP TABLE segments AS SELECT call_id, session_id, unnest(g) FROM
         (SELECT call_id, id AS session_id, unnest(segments) AS g FROM sessions)`,
      `CREATE TEMP TABLE media AS SELECT call_id, session_id, segment_id, unnest(m) FROM
         (SELECT call_id, session_id, id AS segment_id, unnest(media) AS m FROM segments)`,
      `CREATE TEMP TABLE streams AS SELECT call_id, session_id, segment_id, media_label, unnest(st) FROM
         (SELECT call_id, session_id, segment_id, label AS media_label, unnest(streams) AS st FROM media)`,
      `COPY (SELECT * EXCLUDE (sessions) FROM calls) TO ${sqlString(out('calls'))} ${parquet}`,
      `COPY (SELECT * EXCLUDE (segments) FROM sessions) TO ${sqlString(out('sessions'))} ${parquet}`,
      `COPY streams TO ${sqlString(out('streams'))} ${parquet}`,
    ],
    files: ['calls', 'sessions', 'streams'].map(out),
  };
}

async function main() {
  const args = process.argv.slice(2);
  const flatten = args[0] === '--flatten';
  if (flatten) {
    args.shift();
  }
  const [input, output] = args;
  if (!input || !output || args.length !== 2) {
    throw new Error('usage: node bench/duckdb-convert.mjs [--flatten] <input.jsonl> <out.parquet | out-dir>');
  }
  if (flatten) {
    mkdirSync(output, { recursive: true });
  }
  const inputBytes = statSync(input).size;
  const threads = flatten ? 2 : os.availableParallelism();
  const duckdb = loadDuckDB();
  const instance = await duckdb.DuckDBInstance.create(':memory:', { threads: String(threads) });
  try {
    const connection = await instance.connect();
    try {
      const { statements, files } = flatten
        ? flattenSQL(input, output)
        : {
            statements: [
              `COPY (SELECT * FROM read_json(${sqlString(input)}, ${READ_JSON_OPTIONS.join(', ')})) ` +
                `TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd)`,
            ],
            files: [output],
          };
      const start = process.hrtime.bigint();
      let rows = 0;
      for (const sql of statements) {
        const reader = await connection.runAndReadAll(sql);
        if (sql.startsWith('COPY')) {
          rows += Number(reader.getRows()[0][0]); // COPY returns the row count
        }
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const result = {
        seconds,
        input_bytes: inputBytes,
        rows,
        peak_rss_bytes: peakRSS(),
        output_bytes: files.reduce((n, f) => n + statSync(f).size, 0),
        threads,
      };
      process.stdout.write(JSON.stringify(result) + '\n');
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
