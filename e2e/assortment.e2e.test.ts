import '../vision/testing/ort-realm';
import { systemClock } from '../common/clock';
import { createLogger } from '../common/log';
import { DEMO_CATALOGUE } from '../contracts/demo-data';
import type { PlanogramResponse } from '../contracts/planogram';
import type { RestockTask } from '../contracts/restock';
import { auditMoney } from '../payments/ledger/money.audit';
import { startTestService } from '../test/service-kit';
import { ShopperClient } from '../tools/shopper/client';
import { SimFleet, demoCabinets, visionFrames, type ShopperPlan } from '../tools/simulator';
import { DISTINCT_PRODUCT, facingPhotos } from '../vision/testing/photos';
import { until } from './harness';

/**
 * An operator's own assortment end to end (issue K): a new product is created with photos, enrolled into the
 * recogniser (no retraining, no restart), placed in a fully automatic cabinet's planogram (refused before
 * the enrolment), brought in by a restock task whose unlock applies the new planogram version, then taken
 * by a shopper, recognised and charged at its price; a price change bills the next visit at the new price
 * and leaves the first receipt as it was. The real service in process, the WeChat emulator, the pooled
 * recogniser with the real model, and the cabinet simulator drawing the new product's packaging.
 */
jest.setTimeout(300_000);

type Svc = Awaited<ReturnType<typeof startTestService>>;
let svc: Svc;
let sims: SimFleet;
let wechatUrl: string;
const CABINET = 'SH-AUTO-02';
const SITE = 'shanghai-hq';
const plans: ShopperPlan[] = [];

const admin = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${svc.url}/admin/api/v1${path}`, { method, headers: { authorization: `Bearer ${svc.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as T };
};

beforeAll(async () => {
  svc = await startTestService({ ...(process.env.E2E_LOG ? { log: createLogger({ level: 'info' }) } : {}), env: { WECHAT_MODE: 'sandbox', RECOGNITION_WORKERS: '1', WECHAT_EMULATOR_TIME_SCALE: '50' }, timings: { openWithinMs: 10_000 } });
  wechatUrl = svc.wechat!.emulator!.baseUrl;
  const specs = demoCabinets(svc.config.dataDir).filter((s) => s.cabinetId === CABINET);
  sims = new SimFleet(specs, {
    url: svc.url,
    clock: systemClock,
    // The cabinet's cameras see whatever packaging the products have, the new one included.
    frames: visionFrames({ catalogue: () => [...DEMO_CATALOGUE, DISTINCT_PRODUCT] }),
    connectRate: 0,
    frameIntervalMs: 400,
    statusIntervalMs: 5_000,
    shopperFor: () => ({ plan: () => plans.shift() ?? { shows: false } }),
  });
  await sims.start();
  await until(async () => sims.cabinets.get(CABINET)!.online && svc.fleet.view(CABINET)?.state === 'idle', (x) => x, 'cabinet online');
});

afterAll(async () => {
  sims?.stop();
  await svc?.cleanup();
});

it('photos → enrol → planogram → restock task and unlock → recognised and charged at its price → a price change bills the next visit', async () => {
  const kiwi = DISTINCT_PRODUCT;
  // 1. The product, with its package look (what the cabinet's cameras will see).
  const created = await admin('POST', '/products', { sku: kiwi.sku, name: kiwi.name, nameEn: kiwi.nameEn, brand: kiwi.brand, flavour: kiwi.flavour, packaging: kiwi.packaging, priceFen: kiwi.priceFen, colour: kiwi.colour, accent: kiwi.accent });
  expect(created.status).toBe(201);

  // 2. Not enrolled yet: the fully automatic cabinet's planogram refuses it.
  const v1 = (await admin<PlanogramResponse>('GET', `/cabinets/${CABINET}/planogram`)).body;
  expect(v1.version).toBe(1);
  const lane = v1.lanes.find((l) => l.laneId === 'A1')!;
  const next = v1.lanes.map((l) => ({ laneId: l.laneId, sku: l.laneId === 'A1' ? kiwi.sku : l.sku, capacity: l.capacity, ...(l.par !== undefined ? { par: l.par } : {}) }));
  const refused = await admin<{ error: { code: string; details?: { skus: string[] } } }>('PUT', `/cabinets/${CABINET}/planogram`, { lanes: next, baseVersion: 1 });
  expect(refused).toMatchObject({ status: 422, body: { error: { code: 'PRODUCT_NOT_ENROLLED', details: { skus: [kiwi.sku] } } } });

  // 3. Photos enrolled: the running recogniser has it at once, and it does not look like anything shipped.
  const photos = await facingPhotos(kiwi, 6, 41, DEMO_CATALOGUE);
  const enrolled = await admin<{ sku: string; lookAlike: boolean; photoIds: string[] }>('POST', `/products/${kiwi.sku}/enrolment`, { photos: photos.map((p) => ({ contentType: 'image/jpeg', dataBase64: p.toString('base64') })) });
  expect(enrolled).toMatchObject({ status: 200, body: { sku: kiwi.sku, lookAlike: false } });
  expect(enrolled.body.photoIds).toHaveLength(6);

  // 4. The planogram takes it now, as a pending version 2 with its diff.
  const proposed = await admin<PlanogramResponse>('PUT', `/cabinets/${CABINET}/planogram`, { lanes: next, baseVersion: 1, note: 'kiwi in A1' });
  expect(proposed.status).toBe(200);
  expect(proposed.body).toMatchObject({ version: 1, pending: { version: 2, diff: [{ laneId: 'A1', change: 'product', before: { sku: lane.sku }, after: { sku: kiwi.sku } }] } });

  // 5. The restock list brings A1 full of the new product; a task is made from it.
  const list = (await admin<{ cabinets: Array<{ cabinetId: string; lanes: Array<{ laneId: string; sku: string; bring: number }> }> }>('GET', `/sites/${SITE}/restock-list`)).body;
  expect(list.cabinets.find((c) => c.cabinetId === CABINET)?.lanes).toContainEqual(expect.objectContaining({ laneId: 'A1', sku: kiwi.sku, bring: lane.capacity }));
  const task = (await admin<RestockTask>('POST', `/sites/${SITE}/restock-tasks`, {})).body;
  expect(task.lanes).toContainEqual(expect.objectContaining({ cabinetId: CABINET, laneId: 'A1', sku: kiwi.sku }));

  // 6. The restock unlock bound to the task applies version 2; the restocker lays the shelf out by it.
  plans.push({ shows: true, arriveAfterMs: 300, dwellMs: 1_000, takes: [] });
  const unlock = await admin<{ visitId: string }>('POST', `/cabinets/${CABINET}/restock-unlock`, { taskId: task.taskId });
  expect(unlock.status).toBe(200);
  sims.cabinets.get(CABINET)!.restock(next);
  await until(async () => svc.fleet.view(CABINET)?.state, (s) => s === 'idle', 'restock visit over', 60_000);
  const v2 = (await admin<PlanogramResponse>('GET', `/cabinets/${CABINET}/planogram`)).body;
  expect(v2).toMatchObject({ version: 2, lanes: expect.arrayContaining([expect.objectContaining({ laneId: 'A1', sku: kiwi.sku, count: 0 })]) });
  expect(v2.pending).toBeUndefined();
  expect(v2.history[0]).toMatchObject({ version: 2, status: 'applied', appliedVisitId: unlock.body.visitId });
  const closed = await admin<RestockTask>('POST', `/restock-tasks/${task.taskId}/close`, { counts: task.lanes.map((l) => ({ cabinetId: l.cabinetId, laneId: l.laneId, found: l.cabinetId === CABINET && l.laneId === 'A1' ? 0 : l.listedCount, final: l.capacity })) });
  expect(closed).toMatchObject({ status: 200, body: { status: 'closed', shrinkage: 0 } });

  // 7. A fully automatic shopper takes one: recognised as the new product and charged its price.
  const s = new ShopperClient({ apiUrl: svc.url, wechatUrl, openid: `o-assort-${process.pid}`, phone: '13800139999' });
  await s.signIn();
  await s.signPapay();
  await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');
  const visitTaking = async () => {
    plans.push({ shows: true, arriveAfterMs: 200, dwellMs: 800, takes: [{ laneId: 'A1', count: 1 }] });
    const visit = await s.call('startVisit', { body: { cabinetId: CABINET } });
    const done = await s.waitVisit(visit.sessionId, (v) => ['charged', 'held_for_review', 'debt', 'failed', 'ended_empty', 'relocked'].includes(v.state), 90_000);
    expect(done.state).toBe('charged');
    return s.waitOrder(done.orderId!, (o) => o.status === 'paid');
  };
  const first = await visitTaking();
  expect(first.lines).toEqual([expect.objectContaining({ sku: kiwi.sku, qty: 1, unitPriceFen: kiwi.priceFen })]);
  expect(first).toMatchObject({ source: 'recognition', totalFen: kiwi.priceFen, paidFen: kiwi.priceFen });

  // 8. A price change from now: the next visit pays it, the first receipt keeps its own.
  const raised = kiwi.priceFen + 60;
  expect((await admin('POST', `/products/${kiwi.sku}/prices`, { priceFen: raised })).status).toBe(200);
  const second = await visitTaking();
  expect(second.lines).toEqual([expect.objectContaining({ sku: kiwi.sku, qty: 1, unitPriceFen: raised })]);
  expect(await s.call('order', { params: { orderId: first.orderId } })).toMatchObject({ totalFen: kiwi.priceFen, lines: first.lines, pricedAt: first.pricedAt });

  // The stock followed the sales from the counted restock; the money audit is clean.
  await until(async () => (await admin<PlanogramResponse>('GET', `/cabinets/${CABINET}/planogram`)).body.lanes.find((l) => l.laneId === 'A1')!.count, (n) => n === lane.capacity - 2, 'stock after two sales');
  const report = await until(() => auditMoney(svc.models, { emulatorUrl: wechatUrl }), (r) => r.problems.length === 0, 'a clean money audit', 15_000).catch(async () => auditMoney(svc.models, { emulatorUrl: wechatUrl }));
  expect(report.problems).toEqual([]);
});
