import '../vision/testing/ort-realm';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../common/clock';
import type { SessionState } from '../contracts/shopper-api';
import { ShopperApiError, ShopperClient } from '../tools/shopper/client';
import { SimFleet, demoCabinets, visionFrames, type ShopperPlan } from '../tools/simulator';
import { runService, until, type ServiceProcess } from './harness';

/**
 * The crash matrix with the embedded FerretDB SIGKILLed (the service process lives on and restarts it) at
 * each phase of each flow that writes to the database. The real service runs as a process on its embedded
 * database with the WeChat emulator and the pooled recogniser; the demo cabinets run in the simulator, whose
 * firmware resends what was not acknowledged; the shopper retries what was refused as UNAVAILABLE, as the
 * mini-program does. After each run: the session is terminal, the cabinet free for the next shopper, exactly
 * one order, exactly one charge for the one item taken, the lane's stock down by exactly one.
 */
jest.setTimeout(420_000);

type Flow = 'auto' | 'semi' | 'open';
/** A session state to kill at (seen by polling the shopper API), or a point in the shopper's own steps. */
type KillAt = SessionState | 'after_checkout' | 'after_payment';

/** Exported for the lead's crash-matrix table: every phase the database is killed at, per flow. */
export const DB_KILL_PHASES: ReadonlyArray<{ flow: Flow; at: KillAt; known?: string }> = [
  { flow: 'auto', at: 'unlocking' },
  { flow: 'auto', at: 'door_open' },
  { flow: 'auto', at: 'awaiting_frames' },
  // Flaky before (session left `recognising` for 120 s, 1 of 5 loaded runs): killed as the evidence completed,
  // the read of the visit's frames for recognition failed and was never tried again. Retried now (fleet.ts).
  { flow: 'auto', at: 'recognising' },
  { flow: 'auto', at: 'charging' },
  { flow: 'semi', at: 'unlocking' },
  { flow: 'semi', at: 'door_open' },
  { flow: 'semi', at: 'after_checkout' },
  { flow: 'semi', at: 'after_payment' },
  // Found on the merged tree (1 of 4 runs, load 1.5): the visit completed and the session ended, but the lane's
  // stock was not moved. Fixed: a projection meeting the outage reset the session before the stock move that
  // followed it ran (stock moves now go first), and a reset actor now runs its start-up effects again.
  { flow: 'semi', at: 'awaiting_frames' },
  { flow: 'semi', at: 'recognising' },
  { flow: 'open', at: 'after_checkout' },
  // Found by this matrix (1 of 3 runs at load 10–15): the order paid but the lane's stock never decremented, the
  // session's TakeStock write having met the outage (a journal replay does not run effects again). Now retried
  // until stored (common/retry-until-stored.ts).
  { flow: 'open', at: 'after_payment' },
];

interface VisitSeen {
  status: string;
  recognition?: unknown;
}
/** Phases told by the visit (admin view) rather than by the shopper's session. */
const VISIT_PHASE: Partial<Record<KillAt, (v: VisitSeen) => boolean>> = {
  // The device acknowledged the unlock (the shopper's call returned) and the door is not open yet.
  unlocking: (v) => v.status === 'unlocking',
  door_open: (v) => v.status === 'open',
  awaiting_frames: (v) => v.status === 'closed',
  recognising: (v) => v.status === 'complete' && v.recognition === undefined,
};

const CABINET: Record<Flow, string> = { auto: 'SH-AUTO-01', semi: 'SH-SEMI-01', open: 'SH-OPEN-01' };
const TERMINAL: SessionState[] = ['paid', 'charged', 'held_for_review', 'debt', 'ended_empty', 'relocked', 'failed'];

let dir = '';
const ADMIN_TOKEN = randomBytes(16).toString('hex');
let svc: ServiceProcess;
let url = '';
let wechatUrl = '';
let sims: SimFleet | undefined;
const plans = new Map<string, ShopperPlan[]>();
let shoppers = 0;

/**
 * In `npm test` (DB_CRASH_PHASES=0 skips it for a quick local run). It was opt-in while auto "awaiting frames"
 * wedged in about 1 run in 20 (the session left `awaiting_frames`, the cabinet BUSY for the auto phases after
 * it). The device's outbox, now in the failure report, showed the cause: the visit's last frame, answered
 * UNAVAILABLE during the outage, sat queued past its backoff for 118 s, never sent again: the simulator's wake-up
 * was computed from the upload.done held behind it (tools/simulator/outbox.ts nextDueAt). The service was
 * never asked again; had it been, it was ready. The matrix then found a service defect of its own (a door
 * `closed` ignored while unlocking; see the README), now fixed; issue H's note says how often it has passed since.
 */
const ENABLED = process.env.DB_CRASH_PHASES !== '0';

(ENABLED ? describe : describe.skip)('the FerretDB crash matrix', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-dbphases-'));
    svc = runService({
      DATA_DIR: dir,
      PORT: '0',
      ADMIN_TOKEN,
      SEED_DEMO: 'true',
      DEMO_SIMULATOR: 'false',
      WECHAT_MODE: 'sandbox',
      WECHAT_EMULATOR_TIME_SCALE: '50',
      RECOGNITION_WORKERS: '1',
      LOG_LEVEL: process.env.SERVICE_LOG_LEVEL ?? 'info',
    });
    url = await svc.url;
    wechatUrl = (svc.logs.find((l) => l.msg === 'wechat emulator started') as { baseUrl: string }).baseUrl;
    const specs = demoCabinets(dir).filter((c) => c.cabinetId === CABINET.auto || c.cabinetId === CABINET.semi);
    sims = new SimFleet(specs, {
      url,
      clock: systemClock,
      frames: visionFrames(),
      connectRate: 0,
      frameIntervalMs: 400,
      statusIntervalMs: 5_000,
      shopperFor: (id) => ({ plan: () => plans.get(id)?.shift() ?? { shows: false } }),
    });
    await sims.start();
    await until(async () => [...sims!.cabinets.values()].every((c) => c.online), (x) => x, 'cabinets online');
  });

  afterAll(async () => {
    // DUMP_SERVICE_LOGS=<file>: the service's log lines as JSONL, to read a failure after the run.
    if (process.env.DUMP_SERVICE_LOGS) writeFileSync(process.env.DUMP_SERVICE_LOGS, svc.logs.map((l) => JSON.stringify(l)).join('\n'));
    sims?.stop();
    if (svc && svc.child.exitCode === null) {
      svc.child.kill('SIGTERM');
      await svc.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Retries what the service refused as unavailable (the database away), as the mini-program does. */
  async function retrying<T>(what: string, f: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await f();
      } catch (e) {
        const transient = e instanceof ShopperApiError ? e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT' || e.code === 'RATE_LIMITED' || e.status >= 500 : e instanceof TypeError; // fetch failed
        if (!transient || Date.now() > end) throw new Error(`${what}: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async function admin(path: string): Promise<Record<string, unknown> & { status: number }> {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, ...((await res.json().catch(() => ({}))) as Record<string, unknown>) };
  }

  const restarts = () => svc.logs.filter((l) => l.msg === 'ferretdb restarted');
  const ferretPid = (): number => {
    const rows = svc.logs.filter((l) => l.msg === 'ferretdb started' || l.msg === 'ferretdb restarted');
    return rows[rows.length - 1]!.pid as number;
  };

  /** SIGKILLs the database once and waits for the supervisor to bring it back. */
  async function killDatabase(): Promise<void> {
    const before = restarts().length;
    process.kill(ferretPid(), 'SIGKILL');
    await until(async () => restarts().length, (n) => n > before, 'ferretdb restarted', 30_000);
  }

  /** The supervisor starts its backoff afresh once the database has been up 10 s: keep every kill a first one. */
  async function databaseSettled(): Promise<void> {
    const last = restarts().at(-1);
    const wait = last ? (last.time as number) + 10_500 - Date.now() : 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  describe.each(DB_KILL_PHASES)('FerretDB killed in the $flow flow at $at', ({ flow, at, known }) => {
    (known ? it.skip : it)(`recovers: session terminal, cabinet free, one order, one charge, stock moved once${known ? ` (known defect: ${known})` : ''}`, async () => {
      await databaseSettled();
      const cabinetId = CABINET[flow];
      const s = new ShopperClient({ apiUrl: url, wechatUrl, openid: `o-dbk-${process.pid}-${++shoppers}`, phone: `1390013${String(shoppers).padStart(4, '0')}` });
      await retrying('sign in', () => s.signIn());
      if (flow === 'auto') {
        await retrying('papay', () => s.signPapay());
        await until(() => retrying('contract', () => s.call('papayContract')), (c) => c.contract === 'active', 'contract active');
      }
      const before = (await retrying('catalogue', () => s.call('catalogue', { params: { cabinetId } }))).items;
      const item = before.find((i) => i.stock >= 2)!;
      // Killed while unlocking, the shopper opens the door a second later: the kill lands before the door opens.
      plans.set(cabinetId, [{ shows: true, arriveAfterMs: at === 'unlocking' ? 1_000 : 200, dwellMs: 1_500, takes: [{ laneId: item.laneId, count: 1 }] }]);

      let killed = false;
      const kill = async () => {
        if (killed) return;
        killed = true;
        await killDatabase();
      };
      let sessionId: string | undefined;
      let orderId: string | undefined;
      // The one poller of the session (the shopper API allows 60 calls in 10 s): kills the database the first
      // time it sees the phase, and keeps the latest view for the steps below.
      let latest: { state: SessionState; orderId?: string } | undefined;
      let watching = true;
      const byVisit = VISIT_PHASE[at];
      const watcher = (async () => {
        while (watching) {
          if (sessionId) {
            const v = await s.call('visit', { params: { sessionId } }).catch(() => undefined);
            if (v) latest = v;
            if (!byVisit && v?.state === at) await kill();
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      // Short phases (a door closed until its last frame, a recognition) are watched on the visit itself, through
      // the admin API, which has no rate limit: polled every 25 ms.
      let visitId: string | undefined;
      const visitWatcher = (async () => {
        while (watching && byVisit && !killed) {
          if (visitId) {
            const v = await admin(`/admin/visits/${visitId}`).catch(() => undefined);
            if (v && byVisit(v as unknown as VisitSeen)) await kill();
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const sessionReaches = (ok: (state: SessionState) => boolean, what: string) =>
        until(async () => latest, (v) => !!v && ok(v.state), what, 120_000).catch(async (e: unknown) => {
          // What the device still holds and what the visit says: the first things to read when a run wedges.
          const cab = sims?.cabinets.get(cabinetId);
          const visit = visitId ? await admin(`/admin/visits/${visitId}`).catch(() => undefined) : undefined;
          throw new Error(`${String(e)}\ndevice ${cabinetId}: ${JSON.stringify({ online: cab?.online, state: cab?.state, outbox: cab?.outboxItems, now: Date.now() })}\nvisit: ${JSON.stringify(visit)}`);
        });

      try {
        if (flow === 'open') {
          const checkout = await retrying('checkout', () => s.call('checkout', { body: { cabinetId, lines: [{ sku: item.sku, qty: 1 }] } }));
          orderId = checkout.orderId;
          if (at === 'after_checkout') await kill();
          await retrying('pay', () => s.requestPayment(checkout.requestPayment));
          if (at === 'after_payment') await kill();
        } else {
          const visit = await retrying('start visit', () => s.call('startVisit', { body: { cabinetId } }));
          sessionId = visit.sessionId;
          visitId = visit.visitId;
          if (flow === 'semi') {
            await sessionReaches((st) => st !== 'unlocking', 'door open');
            const checkout = await retrying('checkout', () => s.call('checkout', { body: { cabinetId, sessionId: visit.sessionId, lines: [{ sku: item.sku, qty: 1 }] } }));
            orderId = checkout.orderId;
            if (at === 'after_checkout') await kill();
            await retrying('pay', () => s.requestPayment(checkout.requestPayment));
            if (at === 'after_payment') await kill();
          }
          const done = (await sessionReaches((st) => TERMINAL.includes(st), 'session terminal'))!;
          expect(done.state).toBe(flow === 'auto' ? 'charged' : 'paid');
          orderId ??= done.orderId;
        }
      } finally {
        watching = false;
        await Promise.all([watcher, visitWatcher]);
      }
      expect(killed).toBe(true);

      const order = await until(() => retrying('order', () => s.call('order', { params: { orderId: orderId! } })), (o) => o.status === 'paid', 'order paid', 60_000);
      expect(order).toMatchObject({ status: 'paid', paidFen: item.priceFen, lines: [expect.objectContaining({ sku: item.sku, qty: 1 })] });
      expect((await retrying('orders', () => s.call('orders'))).orders).toHaveLength(1);
      const state = (await (await fetch(`${wechatUrl}/__control/state`)).json()) as { charges: Array<{ openid?: string; attach?: string }> };
      expect(state.charges.filter((c) => c.openid === s.openid)).toHaveLength(1);
      const after = await until(
        () => retrying('catalogue', () => s.call('catalogue', { params: { cabinetId } })),
        (c) => c.items.find((i) => i.laneId === item.laneId)!.stock !== item.stock,
        'stock moved',
        30_000,
      );
      expect(after.items.find((i) => i.laneId === item.laneId)!.stock).toBe(item.stock - 1);
      if (flow !== 'open') {
        const live = await until(() => admin(`/admin/cabinets/${cabinetId}/live`), (l) => l.state === 'idle', 'cabinet idle', 60_000);
        expect(live.visitId).toBeUndefined();
      }
      // Read again once everything settled: moved once, not once more later.
      const settled = await retrying('catalogue', () => s.call('catalogue', { params: { cabinetId } }));
      expect(settled.items.find((i) => i.laneId === item.laneId)!.stock).toBe(item.stock - 1);
      expect(svc.child.exitCode).toBeNull();
    });
  });
});
