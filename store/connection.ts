import mongoose, { type Connection } from 'mongoose';

/** The database handle other folders hold; they never import mongoose themselves. */
export type DbConnection = Connection;

/** Opens a dedicated mongoose connection (never the global one, so tests and tools can hold several). */
export async function connectDatabase(uri: string, dbName: string, opts: { serverSelectionTimeoutMs?: number } = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    autoIndex: false, // indexes are created explicitly at start-up (ensureIndexes)
    autoCreate: true,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMs ?? 10_000,
  });
  await conn.asPromise();
  return conn;
}

/** True when the server answers a ping within the driver's timeout. */
export async function pingDatabase(conn: Connection): Promise<boolean> {
  try {
    const db = conn.db;
    if (!db || conn.readyState !== 1) return false;
    await db.admin().command({ ping: 1 });
    return true;
  } catch {
    return false;
  }
}

/** Duplicate-key error (E11000) from either MongoDB or FerretDB. */
export function isDuplicateKey(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 11000;
}

/** A Buffer field read with lean() arrives as a BSON Binary; this gives the bytes back as a Buffer. */
export function asBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v && typeof v === 'object' && 'buffer' in v) {
    const b = (v as { buffer: unknown }).buffer;
    if (b instanceof Uint8Array) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError('not binary data');
}
