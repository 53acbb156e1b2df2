import '../vision/testing/ort-realm';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../common/clock';
import { connectDatabase } from '../store/connection';
import { freePort } from '../store/ferretdb';
import { createModels } from '../store/models';
import { ShopperClient } from '../tools/shopper/client';
import { SimFleet, demoCabinets, visionFrames, type ShopperPlan } from '../tools/simulator';
import { startEmulator } from './crash-kit';
import { runService, until, type ServiceProcess } from './harness';

/**
 * A SIGKILL of the real service process between sending a deduction and receiving its result. WeChat (the
 * emulator, its own process, running on across the kill as WeChat does: WECHAT_EMULATOR_URL) deducts and
 * withholds its answer; no notification is sent. The restarted service must find out by query, record
 * exactly one charge, and finish the shopper's visit as charged.
 */
jest.setTimeout(240_000);

describe('payments survive a kill of the service between a deduction and its result', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-paycrash-'));
  const emulator = startEmulator(join(dir, 'wechat'));
  const dbName = `paycrash_${randomBytes(4).toString('hex')}`;
  let wechatUrl = '';
  let sims: SimFleet | undefined;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    wechatUrl = await emulator.url;
  });
  afterAll(async () => {
    sims?.stop();
    for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await emulator.stop(3000);
    rmSync(dir, { recursive: true, force: true });
  });

  const control = async (path: string, body?: unknown) => {
    const res = await fetch(`${wechatUrl}/__control/${path}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
    return (await res.json()) as Record<string, unknown>;
  };

  it('charges once and ends the visit charged after a restart', async () => {
    const port = await freePort();
    const env = {
      DATA_DIR: join(dir, 'service'),
      PORT: String(port),
      MONGODB_URI: process.env.TEST_MONGODB_URI as string,
      DB_NAME: dbName,
      ADMIN_TOKEN: randomBytes(16).toString('hex'),
      SEED_DEMO: 'true',
      RECOGNITION_WORKERS: '1',
      WECHAT_MODE: 'sandbox',
      WECHAT_EMULATOR_URL: wechatUrl,
      WECHAT_SANDBOX_DIR: join(dir, 'wechat'),
      LOG_LEVEL: 'info',
    };
    const a = runService(env);
    running.push(a);
    const url = await a.url;
    expect(a.logs).toContainEqual(expect.objectContaining({ msg: 'using the running wechat emulator' }));

    // The demo's fully automatic cabinet, with a shopper who takes one item.
    const plans: ShopperPlan[] = [{ shows: true, arriveAfterMs: 200, dwellMs: 800, takes: [{ laneId: 'B2', count: 1 }] }];
    sims = new SimFleet(demoCabinets(env.DATA_DIR).filter((c) => c.cabinetId === 'SH-AUTO-01'), { url, clock: systemClock, frames: visionFrames(), connectRate: 0, frameIntervalMs: 400, statusIntervalMs: 5_000, shopperFor: () => ({ plan: () => plans.shift() ?? { shows: false } }) });
    await sims.start();
    await until(async () => [...sims!.cabinets.values()].every((c) => c.online), (x) => x, 'cabinet online');

    const shopper = new ShopperClient({ apiUrl: url, wechatUrl, openid: `o-paycrash-${process.pid}`, phone: '13800139999' });
    await shopper.signIn();
    await shopper.signPapay();
    await until(() => shopper.call('papayContract'), (c) => c.contract === 'active', 'contract active');

    // WeChat will deduct but withhold its answer, and send no notification.
    await control('faults', { route: 'pappayapply', fault: { kind: 'timeout_after' }, times: 1, notificationsEnabled: false });
    const visit = await shopper.call('startVisit', { body: { cabinetId: 'SH-AUTO-01' } });
    const charging = await shopper.waitVisit(visit.sessionId, (v) => v.state === 'charging' && v.orderId !== undefined, 120_000);
    const orderId = charging.orderId!;

    const conn = await connectDatabase(env.MONGODB_URI, dbName);
    const models = createModels(conn);
    try {
      const charges = async () => ((await control('state')).charges as Array<{ attach?: string }>).filter((c) => c.attach === orderId).length;
      await until(charges, (n) => n === 1, 'WeChat deducted');
      // Sent and deducted, answer not received: the attempt is only "created" when the process dies.
      expect((await models.Payment.find({ orderId }).lean()).map((p) => p.status)).toEqual(['created']);
      a.child.kill('SIGKILL');
      await a.exited;

      const b = runService(env);
      running.push(b);
      await b.url;
      expect(b.logs).toContainEqual(expect.objectContaining({ msg: 'payments recovered', resolved: 1 }));
      const done = await shopper.waitVisit(visit.sessionId, (v) => !['charging', 'recognising', 'awaiting_frames', 'door_open', 'unlocking'].includes(v.state), 60_000);
      expect(done).toMatchObject({ state: 'charged', orderId });
      const order = await shopper.waitOrder(orderId, (o) => o.status === 'paid');
      expect(order).toMatchObject({ status: 'paid', paidFen: order.totalFen });
      expect(await charges()).toBe(1);
      // One attempt, the same one, now known to have succeeded: nothing was sent a second time.
      expect((await models.Payment.find({ orderId }).lean()).map((p) => p.status)).toEqual(['succeeded']);
      b.child.kill('SIGTERM');
      await b.exited;
    } finally {
      await conn.close();
    }
  });
});
