import { SimulatedClock } from '../../common/clock';
import type { FrameEvent, UploadDoneEvent } from '../../contracts/cabinet-protocol';
import { deriveSecret, startBareServer, DEFAULT_MASTER_KEY, type BareServer } from '../bench/bare-server';
import type { SimEvent } from './cabinet';
import { SimFleet, simSpecs, withSecrets, type FleetOptions } from './fleet';
import { placeholderFrames } from './frames';
import { jpegComments } from './jpeg';
import { GOOD_LINK, type LinkProfile } from './link';
import { scriptedShopper, type ShopperPlan } from './shelf';

/**
 * The simulator against the bare socket.io server of the benchmark: real sockets, a SimulatedClock for the
 * cabinets' own timers (door windows, shoppers, retries), advanced in small steps while real I/O runs.
 */
jest.setTimeout(30_000);

const realSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let clock: SimulatedClock;
let server: BareServer;
let fleets: SimFleet[] = [];

/** Advances simulated time in steps, yielding to real I/O between them, until `cond` holds. */
async function until(cond: () => boolean, what: string, stepMs = 50, maxSteps = 2000): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (cond()) return;
    clock.advance(stepMs);
    await realSleep(2);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function fleetOf(count: number, o: Partial<FleetOptions> & { plans?: ShopperPlan[]; prefix?: string } = {}): { fleet: SimFleet; events: SimEvent[] } {
  const specs = simSpecs(count, { prefix: o.prefix ?? 'T' });
  const secrets = Object.fromEntries(specs.map((s) => [s.cabinetId, deriveSecret(DEFAULT_MASTER_KEY, s.cabinetId)]));
  const events: SimEvent[] = [];
  const fleet = new SimFleet(withSecrets(specs, secrets), {
    url: server.url,
    clock,
    frames: placeholderFrames,
    connectRate: 0,
    statusIntervalMs: 15_000,
    frameIntervalMs: 500,
    ackTimeoutMs: 2_000,
    shopperFor: () => scriptedShopper(o.plans ?? []),
    onEvent: (e) => events.push(e),
    ...o,
  });
  fleets.push(fleet);
  return { fleet, events };
}

/** Awaits a real promise while simulated time keeps moving (a delayed ack needs the clock to advance). */
async function whileTicking<T>(p: Promise<T>, stepMs = 50): Promise<T> {
  let settled = false;
  const done = p.finally(() => {
    settled = true;
  });
  await until(() => settled, 'a promise', stepMs, 100_000);
  return done;
}

const recorded = (event: string, cabinetId?: string) => server.events.filter((e) => e.event === event && (!cabinetId || e.cabinetId === cabinetId));

beforeEach(async () => {
  clock = new SimulatedClock(Date.UTC(2026, 2, 1, 9));
  server = await startBareServer({ record: true, checkNonces: true, now: () => clock.now() });
});

afterEach(async () => {
  for (const f of fleets) f.stop();
  fleets = [];
  await server.close();
});

describe('simulator against the bare server', () => {
  it('connects with signed handshakes, reports status at once and then every interval, honours config', async () => {
    const { fleet } = fleetOf(5);
    await fleet.start();
    await until(() => server.connectedCount() === 5 && recorded('status').length === 5, 'five connections with a first status');
    const s = recorded('status')[0]?.payload as Record<string, unknown>;
    expect(s).toMatchObject({ pendingUploads: 0, locked: expect.any(Boolean) });
    expect(s.ts).toBeLessThanOrEqual(clock.now());
    expect(['closed', 'absent']).toContain(s.door);
    await until(() => fleet.counters.statusAcked >= 10, 'a second round of acked statuses', 500, 100);
    expect(recorded('status').length).toBeGreaterThanOrEqual(10);
    // The open shelves report no door, the fridges a temperature.
    const byId = new Map(recorded('status').map((e) => [e.cabinetId, e.payload as { door: string; temperatureC?: number }]));
    expect(byId.get('T-00001')?.door).toBe('absent');
    expect(byId.get('T-00005')?.temperatureC).toBeCloseTo(4, 0);

    await expect(server.command('T-00003', 'config', { statusIntervalMs: 2000 })).resolves.toEqual({ ok: true });
    const before = recorded('status', 'T-00003').length;
    await until(() => recorded('status', 'T-00003').length >= before + 3, 'statuses every 2 s', 100, 100);
    await expect(server.command('T-00003', 'config', { statusIntervalMs: 5 })).resolves.toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('is refused with the code the server gives: wrong secret, unsupported protocol, stale clock', async () => {
    const specs = withSecrets(simSpecs(3, { prefix: 'BAD' }), { 'BAD-00001': 'f'.repeat(64), 'BAD-00002': deriveSecret(DEFAULT_MASTER_KEY, 'BAD-00002'), 'BAD-00003': deriveSecret(DEFAULT_MASTER_KEY, 'BAD-00003') });
    const events: SimEvent[] = [];
    const fleet = new SimFleet(specs, {
      url: server.url,
      clock,
      frames: placeholderFrames,
      connectRate: 0,
      shopperFor: () => scriptedShopper([]),
      onEvent: (e) => events.push(e),
      tweak: (spec) => (spec.cabinetId === 'BAD-00002' ? { tamperAuth: (a) => ({ ...a, protocol: 2 }) } : spec.cabinetId === 'BAD-00003' ? { tamperAuth: (a) => ({ ...a, ts: a.ts - 10 * 60_000 }) } : {}),
    });
    fleets.push(fleet);
    await fleet.start();
    await until(() => events.filter((e) => e.type === 'refused').length >= 3, 'three refusals');
    const codes = Object.fromEntries(events.flatMap((e) => (e.type === 'refused' ? [[e.cabinetId, e.code]] : [])));
    expect(codes).toEqual({ 'BAD-00001': 'AUTH_FAILED', 'BAD-00002': 'PROTOCOL_UNSUPPORTED', 'BAD-00003': 'AUTH_FAILED' });
    expect(fleet.get('BAD-00002')?.state).toBe('refused');
    // A wrong secret is tried again a few times (a clock step heals), then given up.
    await until(() => fleet.get('BAD-00001')?.state === 'refused', 'giving up on AUTH_FAILED', 500, 200);
    expect(fleet.counters.refused.AUTH_FAILED).toBeGreaterThanOrEqual(4 + 1);
    expect(server.connectedCount()).toBe(0);
  });

  it('runs a visit: before frames, door opened, during frames, after frames, closed, upload.done with the counts', async () => {
    const { fleet, events } = fleetOf(5, { plans: [{ shows: true, arriveAfterMs: 2_000, dwellMs: 2_200, takes: [{ laneId: 'A1', count: 2 }] }] });
    await fleet.start();
    await until(() => server.connectedCount() === 5, 'connections');
    const cab = fleet.get('T-00005'); // auto: two cameras
    expect(cab?.spec.cameras).toEqual(['top', 'side']);
    const a1Before = cab?.shelf.snapshot().find((l) => l.laneId === 'A1')?.count ?? 0;

    const res = await server.unlock('T-00005', 'visit-0001', 30_000);
    expect(res.ack).toEqual({ ok: true });
    const busy = await server.unlock('T-00005', 'visit-0002', 30_000);
    expect(busy.ack).toMatchObject({ ok: false, error: { code: 'BUSY' } });

    await until(() => events.some((e) => e.type === 'uploaded'), 'the upload');
    const doors = recorded('door', 'T-00005').map((e) => e.payload as { state: string; visitId?: string });
    expect(doors.map((d) => `${d.state}:${d.visitId}`)).toEqual(['opened:visit-0001', 'closed:visit-0001']);
    const frames = recorded('frame', 'T-00005').map((e) => e.payload as FrameEvent);
    const done = recorded('upload.done', 'T-00005').map((e) => e.payload as UploadDoneEvent);
    expect(done).toHaveLength(1);
    for (const camera of ['top', 'side']) {
      const mine = frames.filter((f) => f.camera === camera);
      expect(mine.map((f) => f.seq)).toEqual(mine.map((_, i) => i)); // 0..n-1, no gaps
      expect(mine[0]?.phase).toBe('before');
      expect(mine[mine.length - 1]?.phase).toBe('after');
      expect(mine.filter((f) => f.phase === 'during').length).toBeGreaterThanOrEqual(4); // 2.2 s at 2 per second
      expect(done[0]?.frames[camera]).toBe(mine.length);
    }
    const jpeg = frames[0]?.jpeg as Buffer;
    expect(Buffer.isBuffer(jpeg)).toBe(true); // binary over the wire
    expect(jpegComments(jpeg)[0]).toMatch(/cabinet=T-00005 camera=top visit=visit-0001 seq=0 phase=before/);
    expect(cab?.shelf.snapshot().find((l) => l.laneId === 'A1')?.count).toBe(a1Before - 2);
    expect(recorded('status', 'T-00005').length).toBeGreaterThan(0);
    expect(cab?.inVisit).toBe(false);
  });

  it('relocks when nobody comes, raises door_left_open and door_forced, refuses unlock on an open shelf', async () => {
    const { fleet, events } = fleetOf(6, {
      leftOpenAfterMs: 10_000,
      plans: [{ shows: false }, { shows: true, arriveAfterMs: 100, dwellMs: 1_000, takes: [], leavesOpenForMs: 15_000 }],
    });
    await fleet.start();
    await until(() => server.connectedCount() === 6, 'connections');

    expect((await server.unlock('T-00004', 'visit-relock', 5_000)).ack).toEqual({ ok: true });
    await until(() => recorded('door', 'T-00004').length === 1, 'relocked');
    expect(recorded('door', 'T-00004')[0]?.payload).toMatchObject({ state: 'relocked', visitId: 'visit-relock' });
    expect(clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 2, 1, 9) + 5_000);
    expect(recorded('frame', 'T-00004')).toHaveLength(0); // before frames of a visit that never opened are dropped

    expect((await server.unlock('T-00004', 'visit-forgot', 30_000)).ack).toEqual({ ok: true });
    await until(() => recorded('alarm', 'T-00004').length === 1, 'door_left_open');
    expect(recorded('alarm', 'T-00004')[0]?.payload).toMatchObject({ kind: 'door_left_open' });
    await until(() => events.some((e) => e.type === 'uploaded' && e.visitId === 'visit-forgot'), 'the forgotten visit to end');

    fleet.get('T-00006')?.forceOpen(3_000);
    await until(() => recorded('door', 'T-00006').length === 2, 'forced open and shut');
    expect(recorded('door', 'T-00006').map((e) => e.payload)).toEqual([expect.objectContaining({ state: 'opened' }), expect.objectContaining({ state: 'closed' })]);
    expect((recorded('door', 'T-00006')[0]?.payload as { visitId?: string }).visitId).toBeUndefined();
    expect(recorded('alarm', 'T-00006')[0]?.payload).toMatchObject({ kind: 'door_forced' });

    expect((await server.unlock('T-00001', 'visit-shelf', 5_000)).ack).toMatchObject({ ok: false, error: { code: 'DOOR_FAULT' } });
  });

  it('on a weak signal every frame arrives at least once, duplicates are the same frames, upload.done comes last', async () => {
    const weak: LinkProfile = { ...GOOD_LINK, name: 'weak', dropSend: 0.25, dropAck: 0.2, delayMs: [0, 300], meanUptimeMs: 4_000, outageMs: [1_000, 3_000] };
    let unavailable = 0;
    await server.close();
    server = await startBareServer({
      record: true,
      now: () => clock.now(),
      // The service is briefly overloaded: every third frame is answered UNAVAILABLE the first time.
      ackOverride: (event, payload) => (event === 'frame' && (payload as FrameEvent).seq % 3 === 0 && unavailable++ % 2 === 0 ? { ok: false, error: { code: 'UNAVAILABLE', message: 'busy' } } : undefined),
    });
    const { fleet, events } = fleetOf(5, {
      link: weak,
      ackTimeoutMs: 1_000,
      outbox: { baseBackoffMs: 200, maxBackoffMs: 2_000, window: 4 },
      plans: [{ shows: true, arriveAfterMs: 500, dwellMs: 6_000, takes: [{ laneId: 'B2', count: 1 }] }],
    });
    await fleet.start();
    await until(() => server.isConnected('T-00005'), 'T-00005 online', 100);
    let ack: unknown;
    for (let i = 0; i < 50 && !(ack && (ack as { ok: boolean }).ok); i++) {
      await until(() => server.isConnected('T-00005'), 'T-00005 online', 100);
      ack = (await whileTicking(server.unlock('T-00005', 'visit-weak', 60_000, 3_000))).ack;
    }
    expect(ack).toEqual({ ok: true });
    // Kick it mid-visit too, as a flaky gateway would.
    await until(() => recorded('door', 'T-00005').length > 0, 'door opened', 100);
    server.kick('T-00005');
    await until(() => events.some((e) => e.type === 'uploaded' && e.cabinetId === 'T-00005'), 'the upload over a weak link', 100, 3000);

    const frames = recorded('frame', 'T-00005').map((e) => ({ ...(e.payload as FrameEvent), at: e.at }));
    const done = recorded('upload.done', 'T-00005');
    const counts = (done[done.length - 1]?.payload as UploadDoneEvent).frames;
    const unique = new Map<string, FrameEvent>();
    for (const f of frames) {
      const k = `${f.camera}:${f.seq}`;
      const first = unique.get(k);
      if (first) expect(first.jpeg.equals(f.jpeg)).toBe(true); // a resend is byte-identical
      else unique.set(k, f);
    }
    for (const camera of ['top', 'side']) {
      const n = counts[camera] ?? 0;
      expect(n).toBeGreaterThan(3);
      for (let seq = 0; seq < n; seq++) expect(unique.has(`${camera}:${seq}`)).toBe(true);
    }
    const lastFirstArrival = Math.max(...[...unique.values()].map((f) => (f as FrameEvent & { at: number }).at));
    expect(done[0]?.at).toBeGreaterThanOrEqual(lastFirstArrival);
    expect(fleet.counters.outbox.resent).toBeGreaterThan(0);
    expect(fleet.counters.outbox.retried).toBeGreaterThan(0); // UNAVAILABLE answers
    expect(fleet.counters.reconnects).toBeGreaterThan(0); // the kick, at least
    expect(frames.length).toBeGreaterThanOrEqual(unique.size);
    expect(fleet.get('T-00005')?.pendingFrames).toBe(0);
  });
});
