import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../common/log';
import { startFerretDb } from '../store/ferretdb';
import { connectDevice, fakeJpeg, type TestDevice } from '../test/device-client';
import { startTestService } from '../test/service-kit';
import { until } from '../e2e/harness';

/**
 * Stopping the service while visits are in flight: it stops accepting (HTTP and device sockets), lets the
 * actors finish what they hold, and only then closes the database. Nothing may fail after that: no
 * MongoNotConnectedError, no actor crash-looping under its restart policy, no error line at all.
 */
jest.setTimeout(60_000);

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination: sink }) };
}

const CABINETS = 8;

it('stops in order while visits are in flight: no error line after shutdown began', async () => {
  const { lines, log } = capture();
  // A database of its own, so the test can hold its writes in flight (SIGSTOP) across the stop.
  const dir = mkdtempSync(join(tmpdir(), 'cf-stop-db-'));
  const db = await startFerretDb({ dataDir: dir });
  const svc = await startTestService({ seed: false, log, env: { MONGODB_URI: db.uri } });
  const admin = (path: string, body: unknown) =>
    fetch(`${svc.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${svc.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const devices: TestDevice[] = [];
  const visits: string[] = [];
  for (let i = 0; i < CABINETS; i++) {
    const cabinetId = `STOP-${String(i).padStart(2, '0')}`;
    const prov = await admin('/admin/cabinets', { cabinetId, name: cabinetId, kind: 'auto', siteId: 'lab', cameras: ['top'] });
    const { secret } = (await prov.json()) as { secret: string };
    const dev = await connectDevice({ url: svc.url, cabinetId, secret });
    await dev.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
    devices.push(dev);
    const unlock = await admin(`/admin/cabinets/${cabinetId}/restock-unlock`, { operatorId: 'op-1' });
    visits.push(((await unlock.json()) as { visitId: string }).visitId);
  }
  // Every device streams frames and door events as fast as it can, while the service is stopped under it.
  let streaming = true;
  const ackedSoFar = devices.map(() => 0);
  const streams = devices.map(async (dev, i) => {
    const visitId = visits[i]!;
    let acked = 0;
    await dev.emit('door', { ts: Date.now(), state: 'opened', visitId }).catch(() => undefined);
    for (let seq = 0; streaming; seq++) {
      const a = await dev.emit('frame', { visitId, camera: 'top', seq, ts: Date.now(), phase: 'during', jpeg: fakeJpeg(`f${seq}`) }, 2000).catch(() => undefined);
      if (!a) break;
      if (a.ok) ackedSoFar[i] = ++acked;
      if (seq === 3) void dev.emit('door', { ts: Date.now(), state: 'closed', visitId }).catch(() => undefined);
    }
    return acked;
  });
  // Every visit is under way (a frame of each stored) before the stop, however loaded the machine.
  await until(async () => ackedSoFar.every((n) => n > 0), (x) => x, 'a frame of every visit stored', 30_000);
  const startedAt = lines.length;
  // Writes are now stuck in the database while the stop begins; they complete once it runs again.
  process.kill(db.pid, 'SIGSTOP');
  const stopped = svc.stop('test: stop under load');
  await new Promise((r) => setTimeout(r, 1500));
  process.kill(db.pid, 'SIGCONT');
  await stopped;
  streaming = false;
  const acked = await Promise.all(streams);
  // Whatever was still scheduled would fail now, with the database closed.
  await new Promise((r) => setTimeout(r, 500));
  devices.forEach((d) => d.close());

  expect(acked.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  const after = lines.slice(startedAt);
  expect(after.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: no new work accepted', 'shut down']));
  expect(after.filter((l) => (l.level as number) >= 50)).toEqual([]);
  expect(JSON.stringify(after)).not.toMatch(/MongoNotConnectedError|Client must be connected|actor failed/);
  await svc.cleanup().catch(() => undefined);
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
});
