import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fleet } from '../../actors/fleet/fleet';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { connectDevice, fakeJpeg, type TestDevice } from '../../test/device-client';
import { startTestService } from '../../test/service-kit';
import { DeviceGateway, type DeviceDirectory } from './device.gateway';
import { createSocketServer, type SocketServer } from './socket-server';

jest.setTimeout(60_000);

type Svc = Awaited<ReturnType<typeof startTestService>>;

async function provision(svc: Svc, cabinetId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${svc.url}/admin/cabinets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cabinetId, name: cabinetId, kind: 'auto', siteId: 'test-site', cameras: ['top', 'side'], ...extra }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { data?: { code?: string } }) => e.data?.code ?? 'no code');

describe('device gateway handshake', () => {
  let svc: Svc;
  let secret: string;
  beforeAll(async () => {
    svc = await startTestService({ seed: false });
    secret = await provision(svc, 'HS-01');
  });
  afterAll(() => svc.cleanup());

  it('accepts a well-signed device', async () => {
    const d = await connectDevice({ url: svc.url, cabinetId: 'HS-01', secret });
    d.close();
  });

  it.each([
    ['a forged signature', { sig: 'ab'.repeat(32) }, 'AUTH_FAILED'],
    ['a signature made with another secret', { secret: randomBytes(32).toString('hex') }, 'AUTH_FAILED'],
    ['a timestamp 6 minutes old', { ts: Date.now() - 6 * 60_000 }, 'AUTH_FAILED'],
    ['a timestamp 6 minutes ahead', { ts: Date.now() + 6 * 60_000 }, 'AUTH_FAILED'],
    ['an unknown cabinet', { cabinetId: 'NOPE-99' }, 'AUTH_FAILED'],
    ['protocol 2', { protocol: 2 }, 'PROTOCOL_UNSUPPORTED'],
    ['a short nonce', { nonce: 'short' }, 'AUTH_FAILED'],
  ])('refuses %s', async (_label, override, code) => {
    expect(await refusal(connectDevice({ url: svc.url, cabinetId: 'HS-01', secret, ...override }))).toBe(code);
  });

  it('refuses a replayed nonce, even with a valid signature', async () => {
    const nonce = randomBytes(12).toString('hex');
    const ts = Date.now();
    const first = await connectDevice({ url: svc.url, cabinetId: 'HS-01', secret, nonce, ts });
    first.close();
    expect(await refusal(connectDevice({ url: svc.url, cabinetId: 'HS-01', secret, nonce, ts }))).toBe('AUTH_FAILED');
  });

  it('refuses a disabled cabinet with DISABLED, without a restart, and accepts it again once enabled', async () => {
    const s = await provision(svc, 'HS-OFF');
    (await connectDevice({ url: svc.url, cabinetId: 'HS-OFF', secret: s })).close();
    await svc.fleet.setDisabled('HS-OFF', true);
    expect((await svc.models.Cabinet.findOne({ cabinetId: 'HS-OFF' }).lean())?.disabled).toBe(true);
    expect(await refusal(connectDevice({ url: svc.url, cabinetId: 'HS-OFF', secret: s }))).toBe('DISABLED');
    expect(await svc.fleet.requestUnlock('HS-OFF', { purpose: 'restock', operatorId: 'op' })).toEqual({ ok: false, reason: 'DISABLED' });
    await svc.fleet.setDisabled('HS-OFF', false);
    expect(await refusal(connectDevice({ url: svc.url, cabinetId: 'HS-OFF', secret: s }).then((d) => d.close()))).toBe('accepted');
  });

  it('lets a cabinet provisioned while the service runs connect at once, its secret read by key once', async () => {
    const s = await provision(svc, 'HS-NEW');
    const reads = jest.spyOn(svc.models.Cabinet, 'findOne');
    try {
      for (let i = 0; i < 3; i++) (await connectDevice({ url: svc.url, cabinetId: 'HS-NEW', secret: s })).close();
      expect(reads.mock.calls.map((c) => c[0])).toEqual([{ _id: 'HS-NEW' }]);
    } finally {
      reads.mockRestore();
    }
  });

  it('stores new cabinets under their id as _id, so keyed reads are point reads on FerretDB', async () => {
    expect(await svc.models.Cabinet.findOne({ _id: 'HS-01' }, { cabinetId: 1 }).lean()).toMatchObject({ _id: 'HS-01', cabinetId: 'HS-01' });
  });

  it('lets a newer connection replace the older one', async () => {
    const a = await connectDevice({ url: svc.url, cabinetId: 'HS-01', secret });
    const dropped = new Promise((r) => a.socket.once('disconnect', r));
    const b = await connectDevice({ url: svc.url, cabinetId: 'HS-01', secret });
    await dropped;
    expect(b.socket.connected).toBe(true);
    expect((await b.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 })).ok).toBe(true);
    b.close();
  });
});

describe('device events', () => {
  let svc: Svc;
  let secret: string;
  let dev: TestDevice;
  beforeAll(async () => {
    svc = await startTestService({ seed: false, timings: { doorLeftOpenMs: 400, doorForcedMs: 200, unlockAckTimeoutMs: 300 } });
    secret = await provision(svc, 'EV-01');
    dev = await connectDevice({ url: svc.url, cabinetId: 'EV-01', secret });
    expect((await dev.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 })).ok).toBe(true);
  });
  afterAll(async () => {
    dev.close();
    await svc.cleanup();
  });

  it('answers 1,000 malformed events of every kind with BAD_REQUEST and stays up', async () => {
    const garbage: unknown[] = [null, 42, 'status', [], {}, { ts: 'now' }, { ts: -1, door: 'ajar', locked: 'yes', pendingUploads: 1.5 }, { visitId: '../../etc', camera: 'TOP!', seq: -1, ts: 1, phase: 'after', jpeg: 'not-binary' }, { visitId: 'abcd', frames: { top: -3 } }, { ts: 1, kind: 'fire' }, { ts: 1, state: 'exploded' }, { a: { b: { c: {} } } }];
    const events = ['status', 'door', 'frame', 'upload.done', 'alarm'];
    const codes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const ack = await dev.emit(events[i % events.length]!, garbage[i % garbage.length]);
      const code = ack.ok ? 'ok' : ack.error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ BAD_REQUEST: 1000 });
    const bad = await dev.emit('door', { ts: 1, state: 'exploded' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/state/) } });
    // The connection and the service are still up.
    expect(dev.socket.connected).toBe(true);
    expect(await dev.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 })).toMatchObject({ ok: true, serverTime: expect.any(Number) });
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });

  it('lists every registered cabinet in the fleet snapshot, connected or not, with mailbox depth', async () => {
    await provision(svc, 'EV-NEVER');
    const res = await fetch(`${svc.url}/admin/fleet`, { headers: { authorization: `Bearer ${svc.adminToken}` } });
    const body = (await res.json()) as { counts: { total: number; online: number }; cabinets: Array<{ cabinetId: string; state: string; online: boolean; mailbox: number; lastSeenAt?: number }> };
    const byId = Object.fromEntries(body.cabinets.map((c) => [c.cabinetId, c]));
    expect(byId['EV-01']).toMatchObject({ state: 'idle', online: true, mailbox: expect.any(Number), lastSeenAt: expect.any(Number) });
    expect(byId['EV-NEVER']).toMatchObject({ state: 'offline', online: false, mailbox: 0 });
    expect(body.counts).toMatchObject({ total: 2, online: 1 });
    expect((await fetch(`${svc.url}/admin/fleet`)).status).toBe(401);
  });

  it('answers an event the protocol does not name', async () => {
    expect(await dev.emit('reboot', {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('refuses frames of unknown visits and frames over the size limit', async () => {
    expect(await dev.emit('frame', { visitId: 'V-unknown-1', camera: 'top', seq: 0, ts: Date.now(), phase: 'before', jpeg: fakeJpeg('x') })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_VISIT' } });
    expect(await dev.emit('upload.done', { visitId: 'V-unknown-1', frames: { top: 1 } })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_VISIT' } });
    const big = Buffer.alloc(svc.config.devices.maxFrameBytes + 1, 1);
    expect(await dev.emit('frame', { visitId: 'V-unknown-1', camera: 'top', seq: 0, ts: Date.now(), phase: 'before', jpeg: big })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });

  it('stores a visit’s frames once however often they are resent, and completes on upload.done', async () => {
    const unlock = await svc.fleet.requestUnlock('EV-01', { purpose: 'shopping', shopperId: 'shopper-1' });
    if (!unlock.ok) throw new Error(unlock.reason);
    const visitId = unlock.visitId;
    expect(dev.unlocks.at(-1)).toEqual({ visitId, openWithinMs: expect.any(Number) });
    const frame = (camera: string, seq: number, phase: 'before' | 'during' | 'after') => ({ visitId, camera, seq, ts: Date.now(), phase, jpeg: fakeJpeg(`${camera}-${seq}`) });
    for (const cam of ['top', 'side']) expect((await dev.emit('frame', frame(cam, 0, 'before'))).ok).toBe(true);
    expect((await dev.emit('door', { ts: Date.now(), state: 'opened', visitId })).ok).toBe(true);
    for (const cam of ['top', 'side']) expect((await dev.emit('frame', frame(cam, 1, 'during'))).ok).toBe(true);
    expect((await dev.emit('door', { ts: Date.now(), state: 'closed', visitId })).ok).toBe(true);
    for (const cam of ['top', 'side']) expect((await dev.emit('frame', frame(cam, 2, 'after'))).ok).toBe(true);
    // Resends after a flaky link: the same (visitId, camera, seq) again, twice.
    for (let i = 0; i < 2; i++) for (const cam of ['top', 'side']) expect((await dev.emit('frame', frame(cam, 1, 'during'))).ok).toBe(true);
    const evidence = new Promise((r) => svc.fleet.evidence$.subscribe((e) => e.visit.visitId === visitId && r(e)));
    expect((await dev.emit('upload.done', { visitId, frames: { top: 3, side: 3 } })).ok).toBe(true);
    const ev = (await evidence) as { frames: Array<{ camera: string; seq: number; jpeg: Buffer }> };
    expect(ev.frames.map((f) => `${f.camera}:${f.seq}`).sort()).toEqual(['side:0', 'side:1', 'side:2', 'top:0', 'top:1', 'top:2']);
    expect(ev.frames.find((f) => f.camera === 'top' && f.seq === 2)!.jpeg.equals(fakeJpeg('top-2'))).toBe(true);
    expect(await svc.models.Frame.countDocuments({ visitId })).toBe(6);
    await waitFor(async () => (await svc.models.Visit.findOne({ visitId }).lean())?.status === 'complete');
    const doc = await svc.models.Visit.findOne({ visitId }).lean();
    expect(doc?.doorLock).toBeUndefined();
    await waitFor(() => svc.fleet.view('EV-01')?.state === 'idle');
  });

  it('raises one door-left-open alarm however many status messages report the open door', async () => {
    const unlock = await svc.fleet.requestUnlock('EV-01', { purpose: 'shopping', shopperId: 'shopper-2' });
    if (!unlock.ok) throw new Error(unlock.reason);
    await dev.emit('door', { ts: Date.now(), state: 'opened', visitId: unlock.visitId });
    for (let i = 0; i < 10; i++) {
      await dev.emit('status', { ts: Date.now(), door: 'open', locked: false, pendingUploads: 0 });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await svc.models.Alarm.countDocuments({ cabinetId: 'EV-01', kind: 'door_left_open' })).toBe(1);
    expect(svc.fleet.view('EV-01')?.alarms).toEqual(['door_left_open']);
    await dev.emit('door', { ts: Date.now(), state: 'closed', visitId: unlock.visitId });
    await waitFor(async () => (await svc.models.Alarm.countDocuments({ cabinetId: 'EV-01', kind: 'door_left_open', clearedAt: { $exists: true } })) === 1);
    expect(svc.fleet.view('EV-01')?.alarms).toEqual([]);
    await dev.emit('upload.done', { visitId: unlock.visitId, frames: {} });
    await waitFor(() => svc.fleet.view('EV-01')?.state === 'idle');
  });
});

describe('unlock delivery', () => {
  it('does not replay an unlock the device did not acknowledge in time, even after it reconnects', async () => {
    const svc = await startTestService({ seed: false, timings: { unlockAckTimeoutMs: 200 } });
    try {
      const secret = await provision(svc, 'UL-01');
      const first = await connectDevice({ url: svc.url, cabinetId: 'UL-01', secret, onUnlock: null });
      await first.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
      const r = await svc.fleet.requestUnlock('UL-01', { purpose: 'shopping', shopperId: 's' });
      expect(r).toEqual({ ok: false, reason: 'DEVICE_TIMEOUT' });
      expect(first.unlocks).toHaveLength(1);
      first.close();
      const again = await connectDevice({ url: svc.url, cabinetId: 'UL-01', secret });
      await again.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
      await new Promise((r2) => setTimeout(r2, 500));
      expect(again.unlocks).toEqual([]);
      const visit = await svc.models.Visit.findOne({ cabinetId: 'UL-01' }).lean();
      expect(visit?.status).toBe('unlock_failed');
      expect(visit?.doorLock).toBeUndefined();
      // The cabinet is free for the next shopper, whose unlock goes through.
      const next = await svc.fleet.requestUnlock('UL-01', { purpose: 'shopping', shopperId: 's2' });
      expect(next.ok).toBe(true);
      expect(again.unlocks).toHaveLength(1);
      again.close();
    } finally {
      await svc.cleanup();
    }
  });
});

/**
 * The handshake against a directory double that counts its lookups: checks that cost nothing come first,
 * so a flood of stale or malformed handshakes never reaches the directory (nor the database behind it).
 */
describe('device gateway handshake, without a service', () => {
  const clock = new SimulatedClock(Date.UTC(2026, 2, 1, 8));
  const secret = randomBytes(32).toString('hex');
  const lookups: string[] = [];
  const directory: DeviceDirectory = {
    async credentials(cabinetId) {
      lookups.push(cabinetId);
      return cabinetId === 'GW-01' ? { secret, disabled: false } : cabinetId === 'GW-OFF' ? { secret, disabled: true } : undefined;
    },
  };
  const connected: string[] = [];
  const fleet = { deviceConnected: async (id: string) => void connected.push(id), deviceDisconnected: async () => undefined } as unknown as Fleet;
  let http: HttpServer;
  let io: SocketServer;
  let gateway: DeviceGateway;
  let url: string;

  beforeAll(async () => {
    http = createServer();
    io = createSocketServer(http, { maxFrameBytes: 1024 });
    gateway = new DeviceGateway({ fleet, directory, clock, log: silentLogger, maxFrameBytes: 1024 });
    gateway.attach(io);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    gateway.close();
    await new Promise<void>((r) => void io.close(() => r()));
  });
  beforeEach(() => {
    lookups.length = 0;
  });

  const refusal = (p: Promise<{ close(): void }>) => p.then((d) => (d.close(), 'accepted'), (e: { data?: { code?: string } }) => e.data?.code ?? 'no code');

  it('accepts a well-signed device on the service clock', async () => {
    expect(await refusal(connectDevice({ url, cabinetId: 'GW-01', secret, ts: clock.now() }))).toBe('accepted');
    expect(lookups).toEqual(['GW-01']);
    expect(connected).toContain('GW-01');
  });

  it.each([
    ['6 minutes old', -6 * 60_000],
    ['6 minutes ahead', 6 * 60_000],
  ])('refuses a timestamp %s without a directory lookup', async (_label, offset) => {
    for (let i = 0; i < 20; i++) expect(await refusal(connectDevice({ url, cabinetId: 'GW-01', secret, ts: clock.now() + offset }))).toBe('AUTH_FAILED');
    expect(lookups).toEqual([]);
  });

  it('refuses malformed handshakes and other protocols without a directory lookup', async () => {
    expect(await refusal(connectDevice({ url, cabinetId: 'GW-01', secret, ts: clock.now(), nonce: 'short' }))).toBe('AUTH_FAILED');
    expect(await refusal(connectDevice({ url, cabinetId: 'GW-01', secret, ts: clock.now(), protocol: 2 }))).toBe('PROTOCOL_UNSUPPORTED');
    expect(lookups).toEqual([]);
  });

  it('refuses a disabled cabinet with DISABLED and an unknown one with AUTH_FAILED', async () => {
    expect(await refusal(connectDevice({ url, cabinetId: 'GW-OFF', secret, ts: clock.now() }))).toBe('DISABLED');
    expect(await refusal(connectDevice({ url, cabinetId: 'GW-NONE', secret, ts: clock.now() }))).toBe('AUTH_FAILED');
    expect(lookups).toEqual(['GW-OFF', 'GW-NONE']);
  });
});
