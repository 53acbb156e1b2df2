import '../vision/testing/ort-realm';
import { systemClock } from '../common/clock';
import type { Lane } from '../contracts/domain';
import { startTestService } from '../test/service-kit';
import { until } from './harness';
import { auditMoney } from '../payments/ledger/money.audit';
import { ShopperApiError, ShopperClient } from '../tools/shopper/client';
import { SimFleet, demoCabinets, solidGreyJpeg, visionFrames, type FrameSource, type LaneTake, type ShopperPlan } from '../tools/simulator';

/**
 * The three purchase flows end to end: the real service (in process) on the run's FerretDB, the WeChat
 * emulator as its own process (WECHAT_MODE=sandbox), the pooled recogniser with the real ONNX model, and the
 * cabinet simulator speaking the firmware protocol with rendered shelf frames. The shopper is the scripted
 * client (tools/shopper): the same routes and schemas as the mini-program, WeChat's side played by the
 * emulator. One test per flow and outcome.
 */
jest.setTimeout(240_000);

type Svc = Awaited<ReturnType<typeof startTestService>>;
let svc: Svc;
let sims: SimFleet;
let wechatUrl: string;
let openids = 0;

/** What the next shopper at each cabinet does once the door unlocks. */
const plans = new Map<string, ShopperPlan[]>();
/** Cabinets whose next visit's after-frames are unreadable (a smeared lens): recognition cannot settle. */
const smeared = new Set<string>();

const grey = solidGreyJpeg(64, 48, 120);
const rendered = visionFrames();
const frames: FrameSource = (c) => (smeared.has(c.cabinetId) && c.phase === 'after' ? grey : rendered(c));

const takes = (...t: LaneTake[]): ShopperPlan => ({ shows: true, arriveAfterMs: 200, dwellMs: 800, takes: t });
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${svc.url}/admin/api/v1${path}`, { method, headers: { authorization: `Bearer ${svc.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function shopper(): Promise<ShopperClient> {
  const c = new ShopperClient({ apiUrl: svc.url, wechatUrl, openid: `o-e2e-${process.pid}-${++openids}`, phone: `1380013${String(openids).padStart(4, '0')}` });
  await c.signIn();
  return c;
}

const laneOf = (cabinetId: string, laneId: string): Lane => sims.cabinets.get(cabinetId)!.spec.lanes.find((l) => l.laneId === laneId)!;


beforeAll(async () => {
  svc = await startTestService({ env: { WECHAT_MODE: 'sandbox', RECOGNITION_WORKERS: '1', WECHAT_EMULATOR_TIME_SCALE: '50' }, timings: { openWithinMs: 10_000 } });
  wechatUrl = svc.wechat!.emulator!.baseUrl;
  const specs = demoCabinets(svc.config.dataDir).filter((s) => s.kind !== 'open');
  sims = new SimFleet(specs, {
    url: svc.url,
    clock: systemClock,
    frames,
    connectRate: 0,
    frameIntervalMs: 400,
    statusIntervalMs: 5_000,
    shopperFor: (id) => ({ plan: () => plans.get(id)?.shift() ?? { shows: false } }),
  });
  await sims.start();
  await until(async () => [...sims.cabinets.values()].every((c) => c.online) && specs.every((s) => svc.fleet.view(s.cabinetId)?.state === 'idle'), (x) => x, 'cabinets online');
});

afterAll(async () => {
  sims?.stop();
  await svc?.cleanup();
});

// After each flow the money audit is clean: records, our ledger and the emulator's ledger agree (money
// settling asynchronously, e.g. a refund's notification, is given a few seconds).
afterEach(async () => {
  const report = await until(() => auditMoney(svc.models, { emulatorUrl: wechatUrl }), (r) => r.problems.length === 0, 'a clean money audit', 15_000).catch(async () => auditMoney(svc.models, { emulatorUrl: wechatUrl }));
  expect(report.problems).toEqual([]);
});

describe('open shelf', () => {
  it('cart → pay → paid, stock decremented', async () => {
    const s = await shopper();
    const before = (await s.call('catalogue', { params: { cabinetId: 'SH-OPEN-01' } })).items;
    const item = before.find((i) => i.stock >= 2)!;
    const checkout = await s.call('checkout', { body: { cabinetId: 'SH-OPEN-01', lines: [{ sku: item.sku, qty: 2 }] } });
    expect(checkout.totalFen).toBe(item.priceFen * 2);
    expect(checkout.payAndSign).toBe(false);
    await s.requestPayment(checkout.requestPayment);
    const order = await s.waitOrder(checkout.orderId, (o) => o.status === 'paid');
    expect(order).toMatchObject({ status: 'paid', paidFen: item.priceFen * 2, source: 'cart', lines: [{ sku: item.sku, qty: 2 }] });
    const after = await until(() => s.call('catalogue', { params: { cabinetId: 'SH-OPEN-01' } }), (c) => c.items.find((i) => i.laneId === item.laneId)!.stock < item.stock, 'stock decremented');
    const stockOf = (items: typeof before) => items.filter((i) => i.sku === item.sku).reduce((n, i) => n + i.stock, 0);
    expect(stockOf(after.items)).toBe(stockOf(before) - 2);
  });

  it('an appeal goes to the review queue; an operator waives it and the payment is refunded to its source', async () => {
    const s = await shopper();
    const item = (await s.call('catalogue', { params: { cabinetId: 'SH-OPEN-01' } })).items.find((i) => i.stock > 0)!;
    const checkout = await s.call('checkout', { body: { cabinetId: 'SH-OPEN-01', lines: [{ sku: item.sku, qty: 1 }] } });
    await s.requestPayment(checkout.requestPayment);
    await s.waitOrder(checkout.orderId, (o) => o.status === 'paid');
    const appeal = await s.call('appeal', { params: { orderId: checkout.orderId }, body: { reason: '商品已过期' } });
    expect(appeal.appeal).toEqual({ status: 'open', reason: '商品已过期' });
    expect((await s.call('order', { params: { orderId: checkout.orderId } })).appeal?.status).toBe('open');
    const decided = await admin('POST', `/reviews/A${checkout.orderId}/decision`, { decision: 'waive', note: 'expired stock' });
    expect(decided.body.outcome).toBe(`refunded ${checkout.totalFen}`);
    const refunded = await s.waitOrder(checkout.orderId, (o) => o.status === 'refunded');
    expect(refunded).toMatchObject({ status: 'refunded', refundedFen: checkout.totalFen, appeal: { status: 'decided' } });
  });

  it('refuses more than the shelf holds, with a stable code, and creates no order', async () => {
    const s = await shopper();
    const item = (await s.call('catalogue', { params: { cabinetId: 'SH-OPEN-01' } })).items[0]!;
    const err = await s.call('checkout', { body: { cabinetId: 'SH-OPEN-01', lines: [{ sku: item.sku, qty: 20 }] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShopperApiError);
    expect((err as ShopperApiError).code).toBe('OUT_OF_STOCK');
    expect((await s.call('orders')).orders).toHaveLength(0);
  });
});

describe('fully automatic', () => {
  it('needs a contract first; then charges exactly the recognised items', async () => {
    const s = await shopper();
    const refused = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-01' } }).catch((e: unknown) => e);
    expect((refused as ShopperApiError).code).toBe('CONTRACT_REQUIRED');
    await s.signPapay();
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');

    const lane = laneOf('SH-AUTO-01', 'B2');
    plans.set('SH-AUTO-01', [takes({ laneId: 'B2', count: 1 })]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-01' } });
    expect(visit.flow).toBe('auto');
    const done = await s.waitVisit(visit.sessionId, (v) => ['charged', 'held_for_review', 'debt', 'failed', 'ended_empty', 'relocked'].includes(v.state), 90_000);
    expect(done.state).toBe('charged');
    const order = await s.waitOrder(done.orderId!, (o) => o.status === 'paid');
    expect(order.lines).toEqual([expect.objectContaining({ sku: lane.sku, qty: 1 })]);
    expect(order).toMatchObject({ source: 'recognition', status: 'paid', paidFen: order.totalFen });
    expect(order.evidence?.frames).toBeGreaterThan(0);
    // Exactly one charge reached WeChat for it.
    const state = (await (await fetch(`${wechatUrl}/__control/state`)).json()) as { charges?: Array<{ out_trade_no?: string; outTradeNo?: string; attach?: string }> };
    const charges = JSON.stringify(state).split(order.orderId).length - 1;
    expect(charges).toBeGreaterThan(0);
  });

  it('a price change applies to the next visit; the visit billed before it keeps its price and receipt', async () => {
    const s = await shopper();
    await s.signPapay();
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');
    const lane = laneOf('SH-AUTO-01', 'A2');
    const visitTaking = async () => {
      plans.set('SH-AUTO-01', [takes({ laneId: 'A2', count: 1 })]);
      const visit = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-01' } });
      const done = await s.waitVisit(visit.sessionId, (v) => ['charged', 'held_for_review', 'debt', 'failed', 'ended_empty', 'relocked'].includes(v.state), 90_000);
      expect(done.state).toBe('charged');
      return s.waitOrder(done.orderId!, (o) => o.status === 'paid');
    };
    const before = await visitTaking();
    const listed = await admin('GET', `/products?q=${lane.sku}`);
    const product = (listed.body.products as Array<{ sku: string; priceNowFen: number; version: number }>).find((p) => p.sku === lane.sku)!;
    expect(before.lines).toEqual([expect.objectContaining({ sku: lane.sku, qty: 1, unitPriceFen: product.priceNowFen })]);
    expect(before.pricedAt).toBeLessThanOrEqual(Date.now());
    // The operator raises the price for this site from now (the console's "schedule a price").
    const raised = product.priceNowFen + 120;
    const changed = await admin('POST', `/products/${lane.sku}/prices`, { priceFen: raised, siteId: 'shanghai-hq' });
    expect(changed.status).toBe(200);
    // The shopper's app shows the price the next visit bills.
    const shown = await s.call('catalogue', { params: { cabinetId: 'SH-AUTO-01' } });
    expect(shown.items.find((i) => i.sku === lane.sku)?.priceFen).toBe(raised);
    const after = await visitTaking();
    expect(after.lines).toEqual([expect.objectContaining({ sku: lane.sku, qty: 1, unitPriceFen: raised, amountFen: raised })]);
    expect(after).toMatchObject({ totalFen: raised, paidFen: raised });
    // The first receipt is as it was.
    expect(await s.call('order', { params: { orderId: before.orderId } })).toMatchObject({ totalFen: before.totalFen, lines: before.lines, pricedAt: before.pricedAt });
    expect(await svc.models.Audit.find({ objectType: 'product', objectId: lane.sku, action: 'product.price' }).lean()).toEqual([expect.objectContaining({ siteId: 'shanghai-hq', after: expect.objectContaining({ priceFen: raised }) })]);
    // Back to the list price for the next tests.
    expect((await admin('POST', `/products/${lane.sku}/prices`, { priceFen: null, siteId: 'shanghai-hq' })).status).toBe(200);
  });

  it('an empty visit (door opened, nothing taken) ends with no order', async () => {
    const s = await shopper();
    await s.signPapay();
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');
    plans.set('SH-AUTO-02', [takes()]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-02' } });
    const done = await s.waitVisit(visit.sessionId, (v) => !['unlocking', 'door_open', 'awaiting_frames', 'recognising', 'charging'].includes(v.state), 90_000);
    expect(done.state).toBe('ended_empty');
    expect(done.orderId).toBeUndefined();
    expect((await s.call('orders')).orders).toHaveLength(0);
  });

  it('a door never opened ends on relocked', async () => {
    const s = await shopper();
    await s.signPapay();
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');
    plans.set('SH-AUTO-02', [{ shows: false }]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-02' } });
    const done = await s.waitVisit(visit.sessionId, (v) => v.state === 'relocked' || v.state === 'failed', 60_000);
    expect(done.state).toBe('relocked');
    expect((await s.call('orders')).orders).toHaveLength(0);
  });

  it('contract revoked mid-visit → debt, and the debt blocks the next visit', async () => {
    const s = await shopper();
    await s.signPapay();
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');
    const contract = await svc.models.Contract.findOne({ shopperId: s.shopperId, status: 'active' }).lean();
    plans.set('SH-AUTO-01', [{ shows: true, arriveAfterMs: 200, dwellMs: 2_500, takes: [{ laneId: 'A1', count: 1 }] }]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-01' } });
    await s.waitVisit(visit.sessionId, (v) => v.state === 'door_open', 30_000);
    await s.revokePapay(contract!.contractId!);
    const done = await s.waitVisit(visit.sessionId, (v) => ['charged', 'held_for_review', 'debt', 'failed', 'ended_empty'].includes(v.state), 90_000);
    expect(done.state).toBe('debt');
    const debts = await s.call('debts');
    expect(debts.debts).toEqual([expect.objectContaining({ orderId: done.orderId, status: expect.stringMatching(/open|reminded/) })]);
    expect(debts.totalFen).toBe(done.totalFen);
    const blocked = await s.call('startVisit', { body: { cabinetId: 'SH-SEMI-01' } }).catch((e: unknown) => e);
    expect((blocked as ShopperApiError).code).toBe('DEBT_OUTSTANDING');
  });

  it('low confidence is held for review and never charged meanwhile', async () => {
    const s = await shopper();
    await s.signPapay();
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract active');
    smeared.add('SH-AUTO-02');
    plans.set('SH-AUTO-02', [takes({ laneId: 'C3', count: 1 })]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-02' } });
    const done = await s.waitVisit(visit.sessionId, (v) => ['charged', 'held_for_review', 'debt', 'failed', 'ended_empty'].includes(v.state), 90_000);
    smeared.delete('SH-AUTO-02');
    expect(done.state).toBe('held_for_review');
    const order = await s.call('order', { params: { orderId: done.orderId! } });
    expect(order.status).toBe('held_for_review');
    expect(order.paidFen).toBe(0);
    expect(await svc.models.Payment.countDocuments({ orderId: done.orderId })).toBe(0);

    // The operator sees the case with its evidence, corrects it to what left the cabinet, and it is charged.
    const caseId = `R${visit.visitId}`;
    const listed = await admin('GET', '/reviews?status=open');
    expect((listed.body.cases as Array<{ caseId: string }>).map((c) => c.caseId)).toContain(caseId);
    const detail = await admin('GET', `/reviews/${caseId}`);
    expect(detail.body).toMatchObject({ caseId, flow: 'auto', orderId: done.orderId, reason: expect.stringMatching(/low_confidence|unreadable/) });
    const lane = laneOf('SH-AUTO-02', 'C3');
    const decided = await admin('POST', `/reviews/${caseId}/decision`, { decision: 'adjust', lines: [{ sku: lane.sku, qty: 1 }], note: 'one can of C3 on the before/after frames' });
    expect(decided.status).toBe(200);
    expect(decided.body.outcome).toMatch(/charging|charged/);
    const charged = await s.waitOrder(done.orderId!, (o) => o.status === 'paid');
    expect(charged).toMatchObject({ status: 'paid', source: 'review', lines: [expect.objectContaining({ sku: lane.sku, qty: 1 })] });
    expect(charged.evidence?.reviewed).toBe(true);
    // A second decision is refused; the audit log holds the first with before/after values.
    expect((await admin('POST', `/reviews/${caseId}/decision`, { decision: 'waive' })).status).toBe(409);
    const audit = await svc.models.Audit.find({ objectType: 'review_case', objectId: caseId }).lean();
    expect(audit).toEqual([expect.objectContaining({ action: 'review.adjust', actorRole: 'admin', before: expect.objectContaining({ status: 'open' }), after: expect.objectContaining({ decision: 'adjust' }) })]);
  });
});

describe('semi-automatic', () => {
  it('debt gate → unlock → visit → cart → pay; recognition matches the paid cart', async () => {
    const s = await shopper();
    const lane = laneOf('SH-SEMI-01', 'A2');
    plans.set('SH-SEMI-01', [takes({ laneId: 'A2', count: 1 })]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-SEMI-01' } });
    expect(visit.flow).toBe('semi');
    await s.waitVisit(visit.sessionId, (v) => v.state !== 'unlocking', 30_000);
    const checkout = await s.call('checkout', { body: { cabinetId: 'SH-SEMI-01', sessionId: visit.sessionId, lines: [{ sku: lane.sku, qty: 1 }] } });
    await s.requestPayment(checkout.requestPayment);
    await s.waitOrder(checkout.orderId, (o) => o.status === 'paid');
    const session = await until(() => svc.models.Session.findOne({ _id: visit.sessionId }).lean(), (d) => !!d?.finished, 'session finished', 90_000);
    expect(session).toMatchObject({ status: 'paid', finished: true });
    expect(session?.caseId).toBeUndefined();
    expect(await svc.models.ReviewCase.countDocuments({ visitId: visit.visitId })).toBe(0);
  });

  it('discrepancy → review → pending order → debt → blocked next visit → cleared', async () => {
    const s = await shopper();
    const paidLane = laneOf('SH-SEMI-01', 'A3');
    const extraLane = laneOf('SH-SEMI-01', 'C1');
    plans.set('SH-SEMI-01', [takes({ laneId: 'A3', count: 1 }, { laneId: 'C1', count: 1 })]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-SEMI-01' } });
    await s.waitVisit(visit.sessionId, (v) => v.state !== 'unlocking', 30_000);
    // The shopper pays for one item but took two.
    const checkout = await s.call('checkout', { body: { cabinetId: 'SH-SEMI-01', sessionId: visit.sessionId, lines: [{ sku: paidLane.sku, qty: 1 }] } });
    await s.requestPayment(checkout.requestPayment);
    await s.waitOrder(checkout.orderId, (o) => o.status === 'paid');
    const caseId = `R${visit.visitId}`;
    const opened = await until(() => admin('GET', `/reviews/${caseId}`), (r) => r.status === 200, 'review case', 90_000);
    expect(opened.body).toMatchObject({ reason: 'discrepancy', flow: 'semi', paidLines: [{ sku: paidLane.sku, qty: 1 }] });
    expect(opened.body.recognised).toEqual(expect.arrayContaining([expect.objectContaining({ sku: extraLane.sku, qty: 1 })]));
    const frames = opened.body.frames as Array<{ camera: string; seq: number; phase: string }>;
    expect(frames.some((f) => f.phase === 'before') && frames.some((f) => f.phase === 'after')).toBe(true);
    const img = await fetch(`${svc.url}/admin/api/v1/frames/${visit.visitId}/${frames[0]!.camera}/${frames[0]!.seq}`, { headers: { authorization: `Bearer ${svc.adminToken}` } });
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    expect((await img.arrayBuffer()).byteLength).toBeGreaterThan(100);

    const decided = await admin('POST', `/reviews/${caseId}/decision`, { decision: 'confirm' });
    expect(decided.body).toMatchObject({ outcome: 'debt' });
    const pendingId = decided.body.orderId as string;
    const debts = await s.call('debts');
    expect(debts.debts).toEqual([expect.objectContaining({ orderId: pendingId, amountFen: expect.any(Number), status: 'open' })]);
    const pending = await s.call('order', { params: { orderId: pendingId } });
    // The decided lines, billed net of the paid cart: the pending order is the difference only.
    expect(pending).toMatchObject({ status: 'debt', source: 'review', lines: expect.arrayContaining([expect.objectContaining({ sku: extraLane.sku, qty: 1 })]) });
    expect(pending.netting).toMatchObject({ paidFen: checkout.totalFen, againstOrderId: checkout.orderId });
    expect(pending.totalFen).toBe(pending.netting!.decidedFen - checkout.totalFen);
    expect(debts.totalFen).toBe(pending.totalFen);

    const blocked = await s.call('startVisit', { body: { cabinetId: 'SH-SEMI-01' } }).catch((e: unknown) => e);
    expect((blocked as ShopperApiError).code).toBe('DEBT_OUTSTANDING');
    const pay = await s.call('payDebts', { body: { via: 'jsapi' } });
    expect(pay.result).toBe('pay');
    if (pay.result !== 'pay') return;
    await s.requestPayment(pay.requestPayment);
    await until(() => s.call('debts'), (d) => d.totalFen === 0, 'debt cleared');
    expect((await s.call('debts')).debts[0]!.status).toBe('paid');
    plans.set('SH-SEMI-01', [{ shows: false }]);
    const next = await s.call('startVisit', { body: { cabinetId: 'SH-SEMI-01' } });
    expect(next.state).toBe('unlocking');
    await s.waitVisit(next.sessionId, (v) => v.state === 'relocked', 60_000);
  });

  it('pay-and-sign in a semi-automatic visit, then a fully automatic cabinet without signing again', async () => {
    const s = await shopper();
    const lane = laneOf('SH-SEMI-01', 'B2');
    plans.set('SH-SEMI-01', [takes({ laneId: 'B2', count: 1 })]);
    const visit = await s.call('startVisit', { body: { cabinetId: 'SH-SEMI-01' } });
    await s.waitVisit(visit.sessionId, (v) => v.state !== 'unlocking', 30_000);
    const checkout = await s.call('checkout', { body: { cabinetId: 'SH-SEMI-01', sessionId: visit.sessionId, lines: [{ sku: lane.sku, qty: 1 }], signContract: true } });
    expect(checkout.payAndSign).toBe(true);
    await s.requestPayment(checkout.requestPayment);
    await s.waitOrder(checkout.orderId, (o) => o.status === 'paid');
    await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'contract signed by paying');

    const autoLane = laneOf('SH-AUTO-01', 'D1');
    plans.set('SH-AUTO-01', [takes({ laneId: 'D1', count: 1 })]);
    const auto = await s.call('startVisit', { body: { cabinetId: 'SH-AUTO-01' } });
    const done = await s.waitVisit(auto.sessionId, (v) => ['charged', 'held_for_review', 'debt', 'failed', 'ended_empty'].includes(v.state), 90_000);
    expect(done.state).toBe('charged');
    expect((await s.call('order', { params: { orderId: done.orderId! } })).lines).toEqual([expect.objectContaining({ sku: autoLane.sku, qty: 1 })]);
  });
});
