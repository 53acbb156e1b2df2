import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../app/config';
import { startService, type Service } from '../../app/service';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import type { SimEvent } from './cabinet';
import { SimFleet, provision, simSpecs, withSecrets } from './fleet';
import { placeholderFrames } from './frames';
import { GOOD_LINK, type LinkProfile } from './link';
import { scriptedShopper } from './shelf';

/**
 * The simulator against the real service, in process, on the run's FerretDB (test/global-setup.ts): cabinets
 * provisioned over the admin API, connected with their own secrets, one visit run to completion over a weak
 * link — frames lost, acks lost, the link dropping — and the service's record of it checked.
 */
jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const WEAK: LinkProfile = { ...GOOD_LINK, name: 'weak', dropSend: 0.2, dropAck: 0.15, delayMs: [0, 150], meanUptimeMs: 2_500, outageMs: [300, 900], signalDbm: [-110, -100] };

let service: Service;
let dataDir: string;
let adminToken: string;
const fleets: SimFleet[] = [];

beforeAll(async () => {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('TEST_MONGODB_URI is unset: run through jest');
  dataDir = mkdtempSync(join(tmpdir(), 'sim-service-'));
  adminToken = randomBytes(24).toString('hex');
  // Recognition off: onnxruntime-node refuses the Float32Array of jest's sandbox realm; it is not under test here.
  const config = loadConfig({ MONGODB_URI: uri, DB_NAME: `sim_${randomBytes(4).toString('hex')}`, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', SEED_DEMO: 'false', ADMIN_TOKEN: adminToken, SHUTDOWN_GRACE_MS: '1000', RECOGNITION_WORKERS: '0' });
  service = await startService(config, { log: silentLogger, timings: { openWithinMs: 8_000 } });
});

afterAll(async () => {
  for (const f of fleets) f.stop();
  await service?.conn.dropDatabase().catch(() => undefined);
  await service?.stop('test over');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('simulator against the service', () => {
  it('provisions over the admin API, connects, and completes a visit with frames over a weak signal', async () => {
    const specs = simSpecs(5, { prefix: 'SVC' }); // SVC-00001 open shelf, 00002–00004 semi, 00005 auto
    const res = await provision(specs, { url: service.url, adminToken });
    expect(Object.keys(res.secrets).sort()).toEqual(specs.map((s) => s.cabinetId).sort());
    expect(res.secrets['SVC-00001']).toMatch(/^[0-9a-f]{64}$/);
    const again = await provision(specs.slice(0, 1), { url: service.url, adminToken });
    expect(again.errors['SVC-00001']?.code).toBe('DUPLICATE');

    const events: SimEvent[] = [];
    const cabinets = withSecrets(specs, res.secrets);
    const fleet = new SimFleet(cabinets, {
      url: service.url,
      clock: systemClock,
      frames: placeholderFrames,
      connectRate: 0,
      frameIntervalMs: 250,
      ackTimeoutMs: 1_000,
      outbox: { baseBackoffMs: 100, maxBackoffMs: 1_000, window: 4 },
      onEvent: (e) => events.push(e),
      shopperFor: (id) => scriptedShopper(id === 'SVC-00005' ? [{ shows: true, arriveAfterMs: 300, dwellMs: 2_000, takes: [{ laneId: 'A2', count: 1 }] }] : []),
      tweak: (spec) => (spec.cabinetId === 'SVC-00005' ? { link: WEAK } : {}),
    });
    fleets.push(fleet);
    await fleet.start();
    await until(() => service.fleet.snapshot().filter((c) => c.online).length === 5, 'five cabinets online');
    const impostor = await refusedImpostor();
    expect(impostor).toBe('AUTH_FAILED');

    // Unlock the auto cabinet (its link is weak: retry while it is in an outage).
    let visitId: string | undefined;
    for (let i = 0; i < 40 && !visitId; i++) {
      const r = await service.fleet.requestUnlock('SVC-00005', { purpose: 'restock', operatorId: 'sim-test' });
      if (r.ok) visitId = r.visitId;
      else await sleep(250);
    }
    expect(visitId).toBeDefined();
    await until(() => events.some((e) => e.type === 'uploaded' && e.visitId === visitId), 'the upload over the weak link', 40_000);

    const sent = events.find((e): e is Extract<SimEvent, { type: 'uploaded' }> => e.type === 'uploaded' && e.visitId === visitId);
    // The service's durable record of the visit (the visit actor projects it into the store). Read from the
    // store rather than asking the visit actor: an ask that lands as the visit ends waits out its timeout.
    const stored = async () => service.models.Visit.findOne({ visitId }).lean();
    await until(async () => (await stored())?.status === 'complete', 'the visit to complete', 30_000);
    const view = await stored();
    expect(view?.status).toBe('complete');
    expect(view?.expectedFrames).toEqual(sent?.frames);
    expect(view?.receivedFrames).toEqual(sent?.frames); // every frame once, whatever the resends
    expect(sent?.frames.top).toBeGreaterThanOrEqual(6); // before + ≥4 during + after
    expect(fleet.counters.outbox.resent + fleet.counters.statusLost).toBeGreaterThan(0);
    await until(() => service.fleet.snapshot().find((c) => c.cabinetId === 'SVC-00005')?.visitId === undefined, 'the cabinet to be free again');

    async function refusedImpostor(): Promise<string | undefined> {
      // A device claiming to be SVC-00002 with the wrong secret.
      const bad = new SimFleet([{ ...(cabinets[1] as (typeof cabinets)[number]), secret: 'f'.repeat(64) }], { url: service.url, clock: systemClock, frames: placeholderFrames, connectRate: 0 });
      fleets.push(bad);
      let code: string | undefined;
      bad.on((e) => {
        if (e.type === 'refused') code ??= e.code;
      });
      await bad.start();
      await until(() => code !== undefined, 'the impostor refused');
      bad.stop();
      return code;
    }
  });
});
