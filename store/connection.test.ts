import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, watchDatabase, type DatabaseHealth, type DbConnection } from './connection';
import { startFerretDb, type FerretDbHandle } from './ferretdb';

/**
 * The database gate after the embedded FerretDB was killed and restarted. Found by the FerretDB crash matrix
 * under load (e2e/db-crash-phases): the driver's monitor began a heartbeat as the server died and never
 * finished it; the server stayed `Unknown`, no operation was ever sent again, and every request was refused
 * with UNAVAILABLE for minutes after FerretDB was back. The monitor is frozen here the way it was seen then
 * (state "monitoring", no check ever run again), so the stuck driver is reproduced, not waited for.
 */
jest.setTimeout(60_000);

let dir: string;
let db: FerretDbHandle;
let conn: DbConnection;
let health: DatabaseHealth | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-conn-'));
  db = await startFerretDb({ dataDir: join(dir, 'db'), supervise: { backoffMs: [100, 200, 400] } });
  conn = await connectDatabase(db.uri, 'health', { serverSelectionTimeoutMs: 2_000 });
  await conn.collection('things').insertOne({ n: 1 });
});
afterEach(async () => {
  health?.close();
  await conn.close().catch(() => undefined);
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface DriverServer {
  monitor?: { s: { state: string } };
  description: { type: string };
}
/** The driver's internals, reached only here: the one server of the topology. */
const server = (): DriverServer => {
  const topology = (conn.getClient() as unknown as { topology?: { s: { servers: Map<string, DriverServer> } } }).topology;
  return [...topology!.s.servers.values()][0]!;
};

/** Kills FerretDB with the monitor frozen, and makes an operation meet the death so the driver marks it Unknown. */
async function killWithStuckMonitor(): Promise<void> {
  server().monitor!.s.state = 'monitoring'; // every check from now on returns at once without running
  const restarts = db.restarts;
  process.kill(db.pid, 'SIGKILL');
  await conn
    .collection('things')
    .findOne({})
    .catch(() => undefined);
  for (const end = Date.now() + 10_000; db.restarts === restarts; ) {
    if (Date.now() > end) throw new Error('FerretDB was not restarted');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until(f: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return f();
}

it('a driver whose monitor never came back stays down without a fresh connection (the defect, held open)', async () => {
  health = watchDatabase(conn, { probeEveryMs: 200, reconnectAfterMs: Number.POSITIVE_INFINITY });
  await killWithStuckMonitor();
  expect(await until(() => !health!.up(), 3_000)).toBe(true);
  // FerretDB has been back all along: only the driver's stale view keeps the gate shut.
  expect(await until(() => health!.up(), 4_000)).toBe(false);
  expect(server().description.type).toBe('Unknown');
});

it('connects afresh once down for reconnectAfterMs, and serves again', async () => {
  const lines: string[] = [];
  const log = { info: (_: unknown, m: string) => lines.push(m), warn: (_: unknown, m: string) => lines.push(m), error: () => undefined, debug: () => undefined, child: () => log };
  health = watchDatabase(conn, { probeEveryMs: 200, reconnectAfterMs: 1_500, log: log as never });
  await killWithStuckMonitor();
  expect(await until(() => !health!.up(), 3_000)).toBe(true);
  expect(await until(() => health!.up(), 10_000)).toBe(true);
  expect(lines).toContain('database still unreachable: closing the driver and connecting afresh');
  // Collections taken before the reconnect go on working: they resolve the client at each operation.
  expect(await conn.collection('things').countDocuments({ n: 1 })).toBe(1);
});

describe('readiness check', () => {
  it('counts only a ping sent after it was asked: an answer to an earlier ping says nothing of now', async () => {
    // Found by e2e/db-crash (SIGSTOP): /readyz answered 200 with FerretDB stopped, the ping it joined having
    // been answered just before the stop.
    const pings: Array<(ok: unknown) => void> = [];
    const fake = {
      db: { admin: () => ({ command: () => new Promise((resolve) => pings.push(resolve)) }) },
      getClient: () => ({ on: () => undefined, off: () => undefined }),
    };
    const h = watchDatabase(fake as never, { probeEveryMs: 60_000, deadlineMs: 400 });
    try {
      const first = h.check(); // sends ping 1
      await new Promise((r) => setTimeout(r, 50));
      const second = h.check(); // asked while ping 1 is in flight
      pings[0]!({ ok: 1 }); // ping 1 answered (the server then stops: no later ping is answered)
      expect(await first).toBe(true);
      expect(await second).toBe(false);
      expect(pings).toHaveLength(2); // the second check sent its own
    } finally {
      h.close();
    }
  });
});
