import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ActorSystem } from '../../actors/runtime';
import { MoneyRepository } from '../../store/money/repository';
import type { TestDb } from '../../test/db';
import { startPaymentsWorld, type PaymentsWorld } from '../../test/payments-kit';
import type { TestEmulator } from '../emulator/testing';
import { auditMoney } from '../ledger/money.audit';
import { contractCodeFor, outTradeNoFor } from './payment.machine';
import { createActorSystem, createPayments, listenForNotifications, type Payments } from './payments.wiring';

// FerretDB, RSA key generation and the emulator are slow on the shared 2-core machine.
jest.setTimeout(60_000);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until(pred: () => boolean | Promise<boolean>, ms = 8000, everyMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('payments end to end: actors, FerretDB, emulator, notification endpoints', () => {
  let world: PaymentsWorld;
  let db: TestDb;
  let emu: TestEmulator;
  let system: ActorSystem;
  let pay: Payments;
  let rx: { url: string; close(): Promise<void> };
  let port: number;
  let seq = 0;

  beforeAll(async () => {
    world = await startPaymentsWorld('payments', { config: { debtCreatedTemplateId: 'TPL_DEBT', debtClearedTemplateId: 'TPL_CLEAR' } });
    ({ db, emu, system, pay, rx, port } = world);
  });
  afterAll(async () => world.close());
  // Each test starts on a drained emulator: no notification of an earlier test still in flight.
  afterEach(async () => {
    await emu.emulator.notifier.idle();
  });

  /** A shopper known to us and to WeChat, optionally with an active papay contract on both sides. */
  async function shopper(opts: { contract?: boolean } = {}): Promise<{ shopperId: string; openid: string; contractId?: string }> {
    const n = ++seq;
    const shopperId = `s-${n}-${Date.now().toString(36)}`;
    const openid = `oAcc${String(n).padStart(6, '0')}${Date.now().toString(36)}`;
    emu.emulator.ensureUser(openid);
    await db.models.Shopper.create({ shopperId, openid });
    if (!opts.contract) return { shopperId, openid };
    const r = await pay.actors.startSigning(shopperId, { openid, displayAccount: 'me' });
    if (r.type !== 'SigningPrepared') throw new Error(r.type);
    const res = await fetch(`${emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid, extraData: r.extraData }) });
    const { contract_id } = (await res.json()) as { contract_id: string };
    await until(async () => (await db.models.Contract.findOne({ contractCode: r.contractCode }).lean())?.status === 'active');
    return { shopperId, openid, contractId: contract_id };
  }

  async function order(shopperId: string, totalFen = 500, flow: 'auto' | 'semi' = 'auto'): Promise<string> {
    const orderId = `o-${++seq}-${Date.now().toString(36)}`;
    await db.models.Order.create({ orderId, outTradeNo: `CF-${orderId}`, shopperId, cabinetId: 'cab-1', siteId: 'site-1', flow, source: 'recognition', totalFen, status: 'draft' });
    return orderId;
  }

  const orderStatus = async (orderId: string) => (await db.models.Order.findOne({ orderId }).lean())?.status;
  const chargesFor = (orderId: string) => emu.emulator.charges.filter((c) => c.attach === orderId).length;

  it('takes a JSAPI payment; duplicate and reordered notifications are harmless', async () => {
    const s = await shopper();
    const o1 = await order(s.shopperId, 350, 'semi');
    const o2 = await order(s.shopperId, 420, 'semi');
    const p1 = await pay.actors.pay(s.shopperId, { orderId: o1, amountFen: 350, description: 'Cola', openid: s.openid });
    const p2 = await pay.actors.pay(s.shopperId, { orderId: o2, amountFen: 420, description: 'Chips', openid: s.openid });
    if (p1.type !== 'PaymentPrepared' || p2.type !== 'PaymentPrepared') throw new Error(`${p1.type} ${p2.type}`);
    // The same request again re-enters the same WeChat order (same prepay_id).
    const again = await pay.actors.pay(s.shopperId, { orderId: o1, amountFen: 350, description: 'Cola', openid: s.openid });
    expect(again.type === 'PaymentPrepared' && again.requestPayment.package).toBe(p1.requestPayment.package);
    emu.emulator.injectNotificationFault('reorder');
    emu.emulator.injectNotificationFault('duplicate');
    expect(emu.emulator.pay(p1.requestPayment as never)).toMatchObject({ ok: true });
    expect(emu.emulator.pay(p2.requestPayment as never)).toMatchObject({ ok: true });
    await until(async () => (await orderStatus(o1)) === 'paid' && (await orderStatus(o2)) === 'paid');
    await emu.emulator.notifier.idle();
    expect(chargesFor(o1)).toBe(1);
    expect(chargesFor(o2)).toBe(1);
    expect((await db.models.Order.findOne({ orderId: o1 }).lean())?.paidFen).toBe(350);
    expect(await pay.actors.pay(s.shopperId, { orderId: o1, amountFen: 350, description: 'Cola', openid: s.openid })).toMatchObject({ type: 'OrderPaid' });
  });

  it('never changes state on a forged, stale, tampered, unknown-serial, probing or replayed notification', async () => {
    const s = await shopper();
    const o = await order(s.shopperId, 990, 'semi');
    const p = await pay.actors.pay(s.shopperId, { orderId: o, amountFen: 990, description: 'Nuts', openid: s.openid });
    if (p.type !== 'PaymentPrepared') throw new Error(p.type);
    const url = `${rx.url}/payments/wechat/notify/v3`;
    for (const how of ['wrong_signature', 'stale_timestamp', 'tampered_tag', 'unknown_serial', 'signtest'] as const) {
      expect(await emu.emulator.forgeV3Success(url, p.outTradeNo, how)).toBe(false);
    }
    expect(await emu.emulator.forgeV2DeductionSuccess(`${rx.url}/payments/wechat/notify/papay`, p.outTradeNo)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(await orderStatus(o)).toBe('awaiting_payment');
    expect((await db.models.Payment.findOne({ outTradeNo: p.outTradeNo }).lean())?.status).toBe('pending');
    // A genuine notification, replayed byte for byte, is accepted once more but changes nothing.
    emu.emulator.pay(p.requestPayment as never);
    await until(async () => (await orderStatus(o)) === 'paid');
    await emu.emulator.notifier.idle();
    const before = await db.models.Payment.findOne({ outTradeNo: p.outTradeNo }).lean();
    await emu.emulator.replayLast();
    await new Promise((r) => setTimeout(r, 100));
    const after = await db.models.Payment.findOne({ outTradeNo: p.outTradeNo }).lean();
    expect(after?.version).toBe(before?.version);
    expect(chargesFor(o)).toBe(1);
  });

  it('a contract revoked before the deduction leaves a debt that blocks the next visit and clears after a JSAPI payment', async () => {
    const s = await shopper({ contract: true });
    emu.emulator.subscribeQuota.set(`${s.openid}|TPL_DEBT`, 1);
    emu.emulator.subscribeQuota.set(`${s.openid}|TPL_CLEAR`, 1);
    const o = await order(s.shopperId, 780);
    // The shopper revokes inside WeChat; the DELETE notification is lost for now (WeChat retries later).
    emu.emulator.injectNotificationFault('drop');
    await fetch(`${emu.baseUrl}/__control/papay/revoke`, { method: 'POST', body: JSON.stringify({ contract_id: s.contractId }) });
    expect(await pay.actors.checkVisit(s.shopperId)).toMatchObject({ type: 'VisitAllowed' });
    const r = await pay.actors.charge(s.shopperId, { orderId: o, amountFen: 780, description: 'Snacks' });
    expect(r).toMatchObject({ type: 'DebtRecorded', reason: 'CONTRACT_NOT_EXIST' });
    expect(await orderStatus(o)).toBe('debt');
    expect(await pay.actors.checkVisit(s.shopperId)).toMatchObject({ type: 'VisitBlocked', debts: [{ amountFen: 780 }] });
    expect(emu.emulator.sentMessages.filter((m) => m.touser === s.openid && m.template_id === 'TPL_DEBT')).toHaveLength(1);
    // Charging again never charges: the order is a debt now.
    expect(await pay.actors.charge(s.shopperId, { orderId: o, amountFen: 780, description: 'Snacks' })).toMatchObject({ type: 'DebtRecorded' });
    // Deduction cannot clear it (no contract); a JSAPI payment does.
    expect(await pay.actors.clearDebts(s.shopperId, { via: 'papay' })).toMatchObject({ type: 'DebtsRemain', reason: 'NO_CONTRACT' });
    const d = await pay.actors.clearDebts(s.shopperId, { via: 'jsapi', openid: s.openid });
    if (d.type !== 'DebtPaymentPrepared') throw new Error(d.type);
    expect(emu.emulator.pay(d.requestPayment)).toMatchObject({ ok: true });
    await until(async () => (await pay.actors.checkVisit(s.shopperId)).type === 'VisitAllowed');
    expect((await db.models.Debt.findOne({ orderId: o }).lean())?.status).toBe('paid');
    expect(await orderStatus(o)).toBe('paid');
    expect(chargesFor(o)).toBe(1);
    expect(emu.emulator.sentMessages.filter((m) => m.touser === s.openid && m.template_id === 'TPL_CLEAR')).toHaveLength(1);
  });

  it('an insufficient balance becomes a debt by notification, cleared later by deduction', async () => {
    const s = await shopper({ contract: true });
    emu.emulator.ensureUser(s.openid).insufficientBalance = true;
    const o = await order(s.shopperId, 260);
    expect(await pay.actors.charge(s.shopperId, { orderId: o, amountFen: 260, description: 'Snacks' })).toMatchObject({ type: 'DeductionAccepted' });
    await until(async () => (await orderStatus(o)) === 'debt');
    expect(await pay.actors.checkVisit(s.shopperId)).toMatchObject({ type: 'VisitBlocked' });
    emu.emulator.ensureUser(s.openid).insufficientBalance = false;
    expect(await pay.actors.clearDebts(s.shopperId, { via: 'papay' })).toMatchObject({ type: 'DebtDeductionPending' });
    await until(async () => (await pay.actors.checkVisit(s.shopperId)).type === 'VisitAllowed');
    expect(await orderStatus(o)).toBe('paid');
    expect(chargesFor(o)).toBe(1);
  });

  it('resolves an unknown outcome (timeout after WeChat accepted) by query before trying anything else', async () => {
    const s = await shopper({ contract: true });
    const o = await order(s.shopperId, 640);
    const fast = createPayments({ config: emu.config({ notifyBaseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 150 }), models: db.models, system });
    emu.emulator.injectApiFault('pappayapply', { kind: 'timeout_after' });
    emu.emulator.deductionDelayMs = 1_000_000; // 1 s at ×1000: the result is not in before we look
    expect(await fast.service.charge({ requestId: 'r1', shopperId: s.shopperId, orderId: o, amountFen: 640, description: 'Snacks' })).toMatchObject({ type: 'PaymentPending' });
    expect((await db.models.Payment.findOne({ orderId: o }).lean())?.status).toBe('unknown');
    const second = await pay.actors.charge(s.shopperId, { orderId: o, amountFen: 640, description: 'Snacks' });
    expect(second.type).toBe('DeductionAccepted');
    emu.emulator.deductionDelayMs = 3000;
    await until(async () => (await orderStatus(o)) === 'paid');
    expect(await db.models.Payment.countDocuments({ orderId: o })).toBe(1);
    expect(chargesFor(o)).toBe(1);
  });

  it('a service kill between sending a deduction and receiving its result, then a restart, ends with one charge', async () => {
    const s = await shopper({ contract: true });
    const o = await order(s.shopperId, 555);
    const deadPort = await freePort();
    const cfg = emu.config({ notifyBaseUrl: `http://127.0.0.1:${deadPort}` });
    // Process A: the request reaches WeChat, then the process dies before recording anything.
    const a = createPayments({ config: cfg, models: db.models, system, afterDeductionSent: () => { throw new Error('killed'); } });
    await expect(a.service.charge({ requestId: 'k1', shopperId: s.shopperId, orderId: o, amountFen: 555, description: 'Snacks' })).rejects.toThrow('killed');
    expect((await db.models.Payment.findOne({ orderId: o }).lean())?.status).toBe('created');
    // WeChat settles and tries to notify the dead process: deliveries fail and are scheduled again.
    const outTradeNo = outTradeNoFor(o, 'P', 1);
    await until(() => emu.emulator.orders.get(outTradeNo)?.state === 'SUCCESS');
    await until(() => emu.emulator.notifier.log.some((l) => l.url.includes(String(deadPort)) && !l.accepted));
    // Process B starts on the same notify address and recovers before serving.
    const bSystem = createActorSystem();
    const b = createPayments({ config: cfg, models: db.models, system: bSystem });
    const recovered = await b.service.recover();
    expect(recovered.resolved).toBeGreaterThanOrEqual(1);
    expect(await orderStatus(o)).toBe('paid');
    const bRx = await listenForNotifications(b, deadPort);
    try {
      await until(() => emu.emulator.notifier.log.some((l) => l.url.includes(String(deadPort)) && l.accepted), 20_000);
      expect(await orderStatus(o)).toBe('paid');
      expect(chargesFor(o)).toBe(1);
      expect(await db.models.Payment.countDocuments({ orderId: o })).toBe(1);
      expect(await b.actors.charge(s.shopperId, { orderId: o, amountFen: 555, description: 'Snacks' })).toMatchObject({ type: 'OrderPaid' });
    } finally {
      await bRx.close();
      bSystem.stop();
    }
  }, 40_000);

  it('refunds never exceed the paid amount, also under concurrent requests', async () => {
    const s = await shopper();
    const o = await order(s.shopperId, 1000, 'semi');
    const p = await pay.actors.pay(s.shopperId, { orderId: o, amountFen: 1000, description: 'Box', openid: s.openid });
    if (p.type !== 'PaymentPrepared') throw new Error(p.type);
    emu.emulator.pay(p.requestPayment as never);
    await until(async () => (await orderStatus(o)) === 'paid');
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => pay.actors.refund(s.shopperId, { orderId: o, amountFen: 300, reason: 'damaged', requestedBy: 'op-1', refundKey: `case-${i}` })));
    expect(replies.filter((r) => r.type === 'RefundRequested')).toHaveLength(3);
    expect(replies.filter((r) => r.type === 'RefundRefused' && r.reason === 'exceeds_paid')).toHaveLength(2);
    // The same refund key is the same refund.
    expect(await pay.actors.refund(s.shopperId, { orderId: o, amountFen: 300, reason: 'damaged', requestedBy: 'op-1', refundKey: 'case-0' })).toMatchObject({ type: 'RefundRequested' });
    expect(await pay.actors.refund(s.shopperId, { orderId: o, amountFen: 100, reason: 'rest', requestedBy: 'op-1', refundKey: 'rest' })).toMatchObject({ type: 'RefundRequested' });
    expect(await pay.actors.refund(s.shopperId, { orderId: o, amountFen: 1, reason: 'more', requestedBy: 'op-1', refundKey: 'more' })).toMatchObject({ type: 'RefundRefused', reason: 'exceeds_paid' });
    await until(async () => (await orderStatus(o)) === 'refunded');
    const doc = await db.models.Order.findOne({ orderId: o }).lean();
    expect(doc?.refundedFen).toBe(1000);
    const wx = [...emu.emulator.refunds.values()].filter((r) => r.outTradeNo === p.outTradeNo).reduce((sum, r) => sum + r.refund, 0);
    expect(wx).toBe(1000);
  });

  it('keeps why a refund failed, in WeChat’s words: CLOSED is final, ABNORMAL may go to another account', async () => {
    // The console offered "refund to another account" on every failed refund, CLOSED ones too (which WeChat
    // refuses): the cause was not kept.
    const s = await shopper();
    const o = await order(s.shopperId, 600, 'semi');
    const p = await pay.actors.pay(s.shopperId, { orderId: o, amountFen: 600, description: 'Box', openid: s.openid });
    if (p.type !== 'PaymentPrepared') throw new Error(p.type);
    emu.emulator.pay(p.requestPayment as never);
    await until(async () => (await orderStatus(o)) === 'paid');
    const causes: Record<string, string | undefined> = {};
    for (const outcome of ['CLOSED', 'ABNORMAL'] as const) {
      emu.emulator.refundOutcomes.push(outcome);
      const r = await pay.actors.refund(s.shopperId, { orderId: o, amountFen: 100, reason: outcome, requestedBy: 'op-1', refundKey: `cause-${outcome}` });
      if (r.type !== 'RefundRequested') throw new Error(r.type);
      await until(async () => (await db.models.Refund.findOne({ outRefundNo: r.outRefundNo }).lean())?.status === 'failed', 20_000);
      causes[outcome] = (await db.models.Refund.findOne({ outRefundNo: r.outRefundNo }).lean())?.wechatStatus;
    }
    expect(causes).toEqual({ CLOSED: 'CLOSED', ABNORMAL: 'ABNORMAL' });
    expect(await orderStatus(o)).toBe('paid');
  });

  it('pays and signs in one step (contractorder), leaving an active contract for the next automatic visit', async () => {
    const s = await shopper();
    const o = await order(s.shopperId, 300, 'semi');
    const p = await pay.actors.pay(s.shopperId, { orderId: o, amountFen: 300, description: 'Tea', openid: s.openid, signContract: true });
    if (p.type !== 'PaymentPrepared') throw new Error(p.type);
    expect(p.signsContract).toBe(true);
    expect(emu.emulator.pay(p.requestPayment as never)).toMatchObject({ ok: true });
    await until(async () => (await orderStatus(o)) === 'paid' && (await db.models.Contract.findOne({ shopperId: s.shopperId }).lean())?.status === 'active');
    const next = await order(s.shopperId, 200);
    expect(await pay.actors.charge(s.shopperId, { orderId: next, amountFen: 200, description: 'Snacks' })).toMatchObject({ type: 'DeductionAccepted' });
    await until(async () => (await orderStatus(next)) === 'paid');
  });

  it('the flows above leave the money audit clean: records, ledger and the emulator’s ledger agree', async () => {
    await emu.emulator.notifier.idle();
    await until(async () => ((await new MoneyRepository(db.models).unprocessedNotifications()).length) === 0);
    const report = await auditMoney(db.models, { emulatorUrl: emu.baseUrl });
    expect(report.problems).toEqual([]);
  });
});

/**
 * The same property at load, with an emulator, database and actor system of its own so its backlog never
 * reaches the tests above. 100 × 5 in `npm test`; the full 1,000 × 5 acceptance size is
 * `npm run payments:bulk` (PAYMENTS_BULK_SHOPPERS=1000), beside `bench:payments`, which measures the rate.
 */
const BULK = Number(process.env.PAYMENTS_BULK_SHOPPERS ?? 100);

describe('payments at load: concurrent charges', () => {
  let world: PaymentsWorld;
  let db: TestDb;
  let emu: TestEmulator;
  let pay: Payments;
  let rx: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    world = await startPaymentsWorld('payments_bulk');
    ({ db, emu, pay, rx } = world);
  });
  afterAll(async () => world.close());

  it(`${BULK} shoppers (PAYMENTS_BULK_SHOPPERS) with 5 concurrent charge attempts each end with exactly one charge per order`, async () => {
    const N = BULK;
    emu.emulator.notificationsEnabled = false; // contracts are seeded directly on both sides
    const shoppers: Array<{ shopperId: string; orderId: string }> = [];
    const planId = emu.merchant.planId;
    const docs = { shoppers: [] as object[], contracts: [] as object[], orders: [] as object[] };
    for (let i = 0; i < N; i++) {
      const shopperId = `bulk-${i}`;
      const openid = `oBulk${String(i).padStart(20, '0')}`;
      emu.emulator.ensureUser(openid);
      const contractCode = contractCodeFor(shopperId, 1);
      const c = emu.emulator.createContract(openid, { planId, contractCode, requestSerial: String(i + 1), displayAccount: 'x', notifyUrl: `${rx.url}/payments/wechat/notify/contract` });
      if ('error' in c) throw new Error(c.error);
      const orderId = `bulk-order-${i}`;
      docs.shoppers.push({ shopperId, openid });
      docs.contracts.push({ _id: contractCode, contractCode, shopperId, openid, planId, contractId: c.contractId, status: 'active' });
      docs.orders.push({ orderId, outTradeNo: `CF-${orderId}`, shopperId, cabinetId: 'cab-1', siteId: 'site-1', flow: 'auto', source: 'recognition', totalFen: 100 + (i % 50), status: 'draft' });
      shoppers.push({ shopperId, orderId });
    }
    await db.models.Shopper.insertMany(docs.shoppers);
    await db.models.Contract.insertMany(docs.contracts);
    await db.models.Order.insertMany(docs.orders);
    emu.emulator.notificationsEnabled = true;

    const t0 = Date.now();
    const replies = await Promise.all(
      shoppers.flatMap(({ shopperId, orderId }, i) => Array.from({ length: 5 }, () => pay.actors.charge(shopperId, { orderId, amountFen: 100 + (i % 50), description: 'Snacks' }, 60_000 + N * 500))),
    );
    const answeredMs = Date.now() - t0;
    const bad = replies.filter((r) => r.type !== 'DeductionAccepted' && r.type !== 'OrderPaid' && r.type !== 'PaymentPending');
    expect(bad).toEqual([]);
    await until(async () => (await db.models.Order.countDocuments({ orderId: { $regex: '^bulk-order-' }, status: 'paid' })) === N, 60_000 + N * 500, 250).catch(async (e: unknown) => {
      const orders = await db.models.Order.aggregate<{ _id: string; n: number }>([{ $match: { orderId: { $regex: '^bulk-order-' } } }, { $group: { _id: '$status', n: { $sum: 1 } } }]);
      const payments = await db.models.Payment.aggregate<{ _id: string; n: number }>([{ $match: { orderId: { $regex: '^bulk-order-' } } }, { $group: { _id: '$status', n: { $sum: 1 } } }]);
      const unprocessed = (await new MoneyRepository(db.models).unprocessedNotifications()).length;
      throw new Error(`${String(e)}: orders ${JSON.stringify(orders)} payments ${JSON.stringify(payments)} inbox unprocessed ${unprocessed} charges ${emu.emulator.charges.length} backlog ${emu.emulator.notifier.backlog()}`);
    });
    process.stdout.write(`bulk charges: ${N} shoppers × 5 concurrent requests, all answered in ${answeredMs} ms, all paid in ${Date.now() - t0} ms\n`);
    const perOrder = new Map<string, number>();
    for (const c of emu.emulator.charges) if (c.attach?.startsWith('bulk-order-')) perOrder.set(c.attach, (perOrder.get(c.attach) ?? 0) + 1);
    expect(perOrder.size).toBe(N);
    expect([...perOrder.values()].every((n) => n === 1)).toBe(true);
    expect(await db.models.Payment.countDocuments({ orderId: { $regex: '^bulk-order-' } })).toBe(N);
  }, 120_000 + 1000 * BULK);

  it('leaves the money audit clean: our ledger equals the emulator’s', async () => {
    await emu.emulator.notifier.idle();
    const report = await auditMoney(db.models, { emulatorUrl: emu.baseUrl });
    expect(report.problems).toEqual([]);
    expect(report.ledgerEntries).toBeGreaterThanOrEqual(BULK);
  });
});
