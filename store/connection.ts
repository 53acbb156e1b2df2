import mongoose, { type Connection } from 'mongoose';
import type { Logger } from '../common/log';

/** The database handle other folders hold; they never import mongoose themselves. */
export type DbConnection = Connection;

/** Opens a dedicated mongoose connection (never the global one, so tests and tools can hold several). */
export async function connectDatabase(uri: string, dbName: string, opts: { serverSelectionTimeoutMs?: number } = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    autoIndex: false, // indexes are created explicitly at start-up (ensureIndexes)
    autoCreate: true,
    // No mongoose-side queue while "disconnected": that queue has no deadline for collection-level calls, and
    // mongoose can go on reporting "disconnected" after the server is back, so writes queued there (a group
    // commit) waited for ever. The driver waits for the server itself, bounded by serverSelectionTimeoutMS.
    bufferCommands: false,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMs ?? 10_000,
  });
  try {
    await conn.asPromise();
  } catch (e) {
    await conn.close().catch(() => undefined);
    // The driver's own words ("connection <monitor> to … closed", "Server selection timed out") do not say
    // which server was tried; the hosts do (credentials never).
    throw new Error(`cannot connect to the database at ${databaseHosts(uri)}: ${(e as Error).message}`);
  }
  return conn;
}

/** The host list of a MongoDB connection string, without credentials, path or options. */
export function databaseHosts(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(uri);
  return m?.[1] || '(no host)';
}

/**
 * True when the server answers a ping within `deadlineMs`. A stopped (SIGSTOP) server keeps its sockets open
 * and never answers, and the driver has no per-operation deadline by default: without ours the caller hangs.
 */
export async function pingDatabase(conn: Connection, deadlineMs = 1000): Promise<boolean> {
  // Not conn.readyState: after the server came back mongoose can keep reporting "disconnected" while the
  // driver serves every operation again; only an answer counts.
  const db = conn.db;
  if (!db) return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), deadlineMs)));
  // Promise.resolve().then: a driver that throws synchronously still yields a settled "false".
  const ping = Promise.resolve()
    .then(() => db.admin().command({ ping: 1 }))
    .then(
      () => true,
      () => false,
    );
  try {
    return await Promise.race([ping, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A write the driver never settled. Seen when FerretDB was SIGKILLed under a large write (a grouped insert of
 * camera frames): the driver never settled the write (most likely it waited for the dead socket to drain; not
 * proven), holding the write lane and every frame queued behind it, so the device's resends were never
 * acknowledged. Counted as an outage: the caller's retry goes through once the database answers (a write that
 * did land meanwhile comes back as a duplicate).
 */
export class WriteStalledError extends Error {
  override readonly name = 'WriteStalledError';
  constructor(ms: number) {
    super(`the database did not answer a write within ${ms} ms`);
  }
}

/** Driver errors that mean "the server cannot be reached now" (a retry later can succeed), not a bad request. */
const OUTAGE_ERRORS = new Set([
  'WriteStalledError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
]);

/** Socket errors the driver sometimes passes on unwrapped (a write to a connection the server just closed). */
const SOCKET_ERRORS = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ERR_STREAM_WRITE_AFTER_END']);

/** Whether `e` (or its cause) says the database is unreachable rather than that the operation was wrong. */
export function isDatabaseOutage(e: unknown): boolean {
  return classify(e) !== undefined;
}

function classify(e: unknown): 'driver' | 'socket' | undefined {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const { name, message, code } = cur as { name?: unknown; message?: unknown; code?: unknown };
    if (typeof name === 'string' && OUTAGE_ERRORS.has(name)) return 'driver';
    // mongoose's own wait for a connection (bufferCommands) ends with this message.
    if (typeof message === 'string' && /buffering timed out|Client must be connected/.test(message)) return 'driver';
    if ((typeof code === 'string' && SOCKET_ERRORS.has(code)) || (typeof message === 'string' && /socket has been ended by the other party/.test(message))) return 'socket';
  }
  return undefined;
}

/** What the edges ask before they start work that needs the database. */
export interface DatabaseHealth {
  /** Last known state, read without I/O (on every request). */
  up(): boolean;
  /** Pings within the deadline and records the answer; what /readyz reports. */
  check(deadlineMs?: number): Promise<boolean>;
  /** An operation failed: when it was an outage, mark the database down at once and probe again. */
  noteError(e: unknown): void;
  close(): void;
}

export interface HealthOptions {
  log?: Logger;
  /** Ping period; also how soon a recovered database is seen as up again (default 1 s). */
  probeEveryMs?: number;
  /** How long a ping may take before it counts as failed (default 1 s). */
  deadlineMs?: number;
  /** Failed probes in a row before a server the driver still believes in is marked down (default 2). */
  failuresToDown?: number;
  /**
   * Down this long, the client is closed and connected afresh (default 10 s; again after each further such
   * period while it stays down). The driver's own monitor can stay stuck in a check that never finishes after the server died
   * under it (seen under load: the server `Unknown`, the monitor "monitoring", no heartbeat for minutes after
   * FerretDB was back), and then nothing but a new topology ever selects the server again.
   */
  reconnectAfterMs?: number;
  onChange?(up: boolean): void;
}

/**
 * Watches the connection so requests can be refused at once while the database is away. Two signals:
 * the driver's view of the server (a dead server turns `Unknown` on the first failed operation or
 * heartbeat), and our own periodic ping with a deadline, which alone notices a server that is stopped and
 * holds its sockets open. A single slow ping on a loaded machine does not flip the state.
 */
export function watchDatabase(conn: Connection, opts: HealthOptions = {}): DatabaseHealth {
  const probeEveryMs = opts.probeEveryMs ?? 1000;
  const deadlineMs = opts.deadlineMs ?? 1000;
  const failuresToDown = opts.failuresToDown ?? 2;
  const reconnectAfterMs = opts.reconnectAfterMs ?? 10_000;
  let up = true; // connectDatabase resolved: the server answered
  let downSince = 0;
  let failures = 0;
  let probing: Promise<boolean> | undefined;
  let reconnecting: Promise<void> | undefined;
  let closed = false;

  const set = (next: boolean, why: string) => {
    if (next === up || closed) return;
    up = next;
    downSince = next ? 0 : Date.now();
    if (next) opts.log?.info({ why }, 'database reachable again');
    else opts.log?.warn({ why }, 'database unreachable: requests are refused with UNAVAILABLE until it answers');
    opts.onChange?.(next);
  };
  const record = (ok: boolean, why: string) => {
    if (ok) {
      failures = 0;
      set(true, why);
    } else if (++failures >= failuresToDown) set(false, why);
  };
  let probeSentAt = 0;
  const probe = (ms = deadlineMs): Promise<boolean> => {
    // One ping at a time: while the server is stopped, a new ping would only queue behind the last one.
    if (!probing) probeSentAt = Date.now();
    probing ??= pingDatabase(conn, ms)
      .catch(() => false)
      .then((ok) => {
        probing = undefined;
        record(ok, ok ? 'ping answered' : `no ping answer within ${ms} ms`);
        return ok;
      });
    return probing;
  };

  const client = conn.getClient();
  const onServer = (ev: { newDescription: { type: string; error?: { message?: string } | null } }) => {
    if (ev.newDescription.type === 'Unknown') {
      failures = failuresToDown;
      set(false, ev.newDescription.error?.message ?? 'server unknown to the driver');
    } else {
      void probe();
    }
  };
  client.on('serverDescriptionChanged', onServer);
  /** A new topology (a new monitor, a new pool); operations meanwhile fail as outages and are retried. */
  const reconnect = async () => {
    const downMs = Date.now() - downSince;
    opts.log?.warn({ downMs }, 'database still unreachable: closing the driver and connecting afresh');
    try {
      await client.close();
      if (closed) return;
      await client.connect();
      opts.log?.info({ downMs: Date.now() - downSince }, 'database driver connected afresh');
    } catch (e) {
      opts.log?.warn({ err: (e as Error).message }, 'connecting afresh failed; trying again later');
    } finally {
      if (!up) downSince = Date.now(); // the next attempt waits a whole period again
    }
    void probe();
  };
  const timer = setInterval(() => {
    if (!up && !reconnecting && !closed && Date.now() - downSince >= reconnectAfterMs) {
      reconnecting = reconnect().finally(() => (reconnecting = undefined));
    }
    void probe();
  }, probeEveryMs);
  timer.unref();

  return {
    up: () => up,
    async check(ms = deadlineMs) {
      const asked = Date.now();
      let timer: NodeJS.Timeout | undefined;
      // A ping still pending from the probe is waited for, but only an answer to a ping sent after the question
      // counts (one answered just before the server was stopped said nothing of now), and the caller never waits
      // past its own deadline.
      const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
      const answer = async (): Promise<boolean> => {
        const pending = probe(ms);
        const sentAt = probeSentAt;
        const ok = await pending;
        return sentAt >= asked || !ok ? ok : probe(Math.max(1, asked + ms - Date.now()));
      };
      try {
        return await Promise.race([answer(), late]);
      } finally {
        clearTimeout(timer);
      }
    },
    noteError(e) {
      const kind = classify(e);
      if (!kind) return;
      // The driver's own verdict closes the gate at once; a bare socket error may be another dependency's.
      if (kind === 'driver') {
        failures = failuresToDown;
        set(false, e instanceof Error ? e.message : String(e));
      }
      void probe();
    },
    close() {
      closed = true;
      clearInterval(timer);
      client.off('serverDescriptionChanged', onServer);
    },
  };
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
