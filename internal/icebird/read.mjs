// Reads one Iceberg table with icebird (npm), an Iceberg reader that is not
// iceberg-go, and prints its rows as JSON: the test peer of internal/icebird.
//
// stdin: {"table": "<table location URL>", "metadata": "<metadata file name>",
//         "rewrites": [{"From": "abfs://c@acct.dfs.core.windows.net/", "To": "http://host/acct/c/"}]}
// stdout: [{column: value, ...}, ...] in the order icebird reads them.
// Values: strings and booleans as they are; 64-bit integers as decimal
// strings; timestamps as ISO 8601 strings (icebird reads them as JavaScript
// Dates: millisecond precision); dates as "YYYY-MM-DD"; lists as arrays.
//
// Two things are given to icebird, neither of which parses Iceberg:
//  - fetch for file:// URLs (with Range requests), so that icebird reads a
//    local warehouse the way it reads object storage over HTTP;
//  - a deflate decoder (node:zlib) for the Avro manifests: icebird 0.3.1
//    inflates Avro's raw deflate blocks with hyparquet-compressors' gunzip,
//    which, given no output buffer, decodes past the end of a raw deflate
//    stream ("offset is out of bounds"); iceberg-go always writes its
//    manifests deflate-compressed. The module hook below hands icebird's
//    Avro reader, and only it, a gunzip that uses zlib.
import { register } from 'node:module'
import { readFile, open } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'

const dir = process.env.CALLSTATS_ICEBIRD_DIR
if (!dir) throw new Error('CALLSTATS_ICEBIRD_DIR is not set')
const modules = path.join(dir, 'node_modules')
const compressorsURL = pathToFileURL(path.join(modules, 'hyparquet-compressors', 'src', 'index.js')).href

const shim = `
import zlib from 'node:zlib'
export * from ${JSON.stringify(compressorsURL)}
export function gunzip(input) {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  const out = buf[0] === 0x1f && buf[1] === 0x8b ? zlib.gunzipSync(buf) : zlib.inflateRawSync(buf)
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}
`
const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === 'hyparquet-compressors' && context.parentURL && context.parentURL.endsWith('/icebird/src/avro/avro.read.js')) {
    return { url: 'data:text/javascript,' + encodeURIComponent(${JSON.stringify(shim)}), shortCircuit: true }
  }
  return next(specifier, context)
}
`
register('data:text/javascript,' + encodeURIComponent(hooks))

const chunks = []
for await (const c of process.stdin) chunks.push(c)
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const rewrites = req.rewrites || []

// fetch for file:// URLs, with Range support; locations a rewrite maps go to
// their HTTP URL; other URLs go to node's fetch as they are.
const netFetch = globalThis.fetch
globalThis.fetch = async (input, init = {}) => {
  let url = typeof input === 'string' ? input : input.url
  for (const r of rewrites) {
    if (url.startsWith(r.From)) url = r.To + url.slice(r.From.length)
  }
  if (!url.startsWith('file://')) return netFetch(url, init)
  const file = fileURLToPath(url)
  const headers = new Headers(init.headers || {})
  const range = headers.get('range')
  try {
    if (!range) {
      const body = await readFile(file)
      return new Response(init.method === 'HEAD' ? null : body, { status: 200, headers: { 'content-length': String(body.length) } })
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(range)
    if (!m) return new Response(null, { status: 416 })
    const fh = await open(file)
    try {
      const size = (await fh.stat()).size
      const start = Number(m[1])
      const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
      const buf = Buffer.alloc(Math.max(0, end - start + 1))
      await fh.read(buf, 0, buf.length, start)
      return new Response(buf, { status: 206, headers: { 'content-length': String(buf.length), 'content-range': `bytes ${start}-${end}/${size}` } })
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err.code === 'ENOENT') return new Response(null, { status: 404, statusText: 'Not Found' })
    throw err
  }
}

const { icebergRead, icebergMetadata } = await import(pathToFileURL(path.join(modules, 'icebird', 'src', 'index.js')).href)

const metadata = await icebergMetadata({ tableUrl: req.table, metadataFileName: req.metadata })
let rows = []
if (metadata['current-snapshot-id'] != null && metadata['current-snapshot-id'] !== -1) {
  rows = await icebergRead({ tableUrl: req.table, metadata })
}

function plain(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Date) return v.toISOString()
  if (Array.isArray(v)) return v.map(plain)
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}
process.stdout.write(JSON.stringify(rows.map(plain)))
