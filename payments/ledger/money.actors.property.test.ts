import fc from 'fast-check';
import type { ActorSystem } from '../../actors/runtime';
import { MoneyRepository } from '../../store/money/repository';
import type { TestDb } from '../../test/db';
import { startPaymentsWorld, type PaymentsWorld } from '../../test/payments-kit';
import type { TestEmulator } from '../emulator/testing';
import { contractCodeFor } from '../payment/payment.machine';
import { createActorSystem, createPayments, type Payments } from '../payment/payments.wiring';
import { auditMoney } from './money.audit';

/**
 * The money properties through the real per-shopper payment actors on FerretDB with the WeChat emulator:
 * random sequences of checkouts, WeChat payments, deductions (refused ones too), refunds, closes at the
 * pay window's end, semi-automatic reviews (netting), notification faults (duplicated, reordered, lost)
 * and a second process recovering; after each sequence the money audit, with the emulator's ledger, is
 * clean. Fewer sequences than the interpreter's (money.property.test.ts) because each costs real I/O:
 * MONEY_ACTOR_RUNS (npm run money:properties runs more). The seed is printed on failure.
 */
jest.setTimeout(240_000);

const RUNS = Number(process.env.MONEY_ACTOR_RUNS ?? 12);
const SEED = process.env.MONEY_PROPERTY_SEED ? Number(process.env.MONEY_PROPERTY_SEED) : undefined;

type Step =
  | { type: 'order'; amountFen: number }
  | { type: 'pay'; order: number; wechatPays: boolean }
  | { type: 'charge'; order: number; times: number; short: boolean }
  | { type: 'refund'; order: number; amountFen: number }
  | { type: 'close'; order: number }
  | { type: 'review'; order: number; decision: 'confirm' | 'adjust' | 'waive'; decidedFen: number }
  | { type: 'fault'; fault: 'duplicate' | 'reorder' | 'drop' }
  | { type: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('order' as const), amountFen: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('pay' as const), order: fc.nat(9), wechatPays: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('charge' as const), order: fc.nat(9), times: fc.integer({ min: 1, max: 3 }), short: fc.boolean() }) },
  fc.record({ type: fc.constant('refund' as const), order: fc.nat(9), amountFen: fc.integer({ min: 1, max: 2000 }) }),
  fc.record({ type: fc.constant('close' as const), order: fc.nat(9) }),
  fc.record({ type: fc.constant('review' as const), order: fc.nat(9), decision: fc.constantFrom('confirm' as const, 'adjust' as const, 'waive' as const), decidedFen: fc.integer({ min: 0, max: 4000 }) }),
  fc.record({ type: fc.constant('fault' as const), fault: fc.constantFrom('duplicate' as const, 'reorder' as const, 'drop' as const) }),
  fc.constant({ type: 'restart' as const }),
);

describe('money properties through the payment actors on FerretDB', () => {
  let world: PaymentsWorld;
  let db: TestDb;
  let emu: TestEmulator;
  let pay: Payments;
  let rx: { url: string; close(): Promise<void> };
  let port: number;
  let n = 0;
  const systems: ActorSystem[] = [];

  beforeAll(async () => {
    world = await startPaymentsWorld('money_props', { actors: { resolveAfterMs: 300 } });
    ({ db, emu, pay, rx, port } = world);
  });
  afterAll(async () => {
    for (const s of systems) s.stop();
    await world.close();
  });

  /** A new shopper known to both sides, with an active papay contract. */
  async function shopper(): Promise<{ shopperId: string; openid: string }> {
    const i = ++n;
    const shopperId = `mp-${i}-${Date.now().toString(36)}`;
    const openid = `oMp${String(i).padStart(8, '0')}${Date.now().toString(36)}`;
    emu.emulator.ensureUser(openid);
    await db.models.Shopper.create({ shopperId, openid });
    const contractCode = contractCodeFor(shopperId, 1);
    const c = emu.emulator.createContract(openid, { planId: emu.merchant.planId, contractCode, requestSerial: String(i), displayAccount: 'x', notifyUrl: `${rx.url}/payments/wechat/notify/contract` });
    if ('error' in c) throw new Error(c.error);
    await db.models.Contract.create({ _id: contractCode, contractCode, shopperId, openid, planId: emu.merchant.planId, contractId: c.contractId, status: 'active' });
    return { shopperId, openid };
  }

  /** Until nothing is in flight: notifications delivered and processed, deductions settled (by query if need be). */
  async function drain(): Promise<void> {
    let recovered = false;
    for (let round = 0; round < 100; round++) {
      await emu.emulator.notifier.idle();
      const inbox = (await new MoneyRepository(db.models).unprocessedNotifications()).length;
      const live = await db.models.Payment.countDocuments({ channel: 'papay', status: { $in: ['created', 'pending', 'unknown'] } });
      const refunding = await db.models.Refund.countDocuments({ status: 'pending' });
      if (!inbox && !live && !refunding) {
        // A lost notification of a JSAPI payment is found by the query recovery makes (as at a start-up).
        if (recovered) return;
        await pay.service.recover();
        recovered = true;
        continue;
      }
      await new Promise((r) => setTimeout(r, 50));
      if (round % 10 === 9) await pay.service.recover();
    }
    throw new Error('money still in flight after draining');
  }

  it(`${RUNS} random sequences end with a clean money audit (records, ledger, the emulator's ledger)`, async () => {
    const repo = new MoneyRepository(db.models);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 10 }), async (steps) => {
        const s = await shopper();
        const orders: string[] = [];
        const at = (i: number): string | undefined => (orders.length ? orders[i % orders.length] : undefined);
        for (const st of steps) {
          switch (st.type) {
            case 'order': {
              const orderId = `mo-${n}-${orders.length}`;
              await repo.createOrder({ orderId, shopperId: s.shopperId, cabinetId: 'cab', siteId: 'site', visitId: `mv-${n}-${orders.length}`, flow: 'semi', source: 'cart', lines: [{ sku: 'X', name: 'x', qty: 1, unitPriceFen: st.amountFen, amountFen: st.amountFen }], totalFen: st.amountFen, status: 'draft' });
              orders.push(orderId);
              break;
            }
            case 'pay': {
              const orderId = at(st.order);
              const o = orderId ? await db.models.Order.findOne({ _id: orderId }).lean() : null;
              if (!o) break;
              const r = await pay.actors.pay(s.shopperId, { orderId: o.orderId, amountFen: o.totalFen, description: 'x', openid: s.openid });
              if (r.type === 'PaymentPrepared' && st.wechatPays) emu.emulator.pay(r.requestPayment as never);
              break;
            }
            case 'charge': {
              const orderId = at(st.order);
              const o = orderId ? await db.models.Order.findOne({ _id: orderId }).lean() : null;
              if (!o) break;
              emu.emulator.ensureUser(s.openid).insufficientBalance = st.short;
              await Promise.all(Array.from({ length: st.times }, () => pay.actors.charge(s.shopperId, { orderId: o.orderId, amountFen: o.totalFen, description: 'x' })));
              break;
            }
            case 'refund': {
              const orderId = at(st.order);
              if (orderId && !(await db.models.ReviewCase.exists({ _id: `case-${orderId}` }))) await pay.actors.refund(s.shopperId, { orderId, amountFen: st.amountFen, reason: 'prop', requestedBy: 'op', refundKey: `k-${orderId}-${st.amountFen}` });
              break;
            }
            case 'close': {
              const orderId = at(st.order);
              if (orderId) await pay.actors.closeOrder(s.shopperId, { orderId });
              break;
            }
            case 'review': {
              const orderId = at(st.order);
              const o = orderId ? await db.models.Order.findOne({ _id: orderId }).lean() : null;
              if (!o?.visitId || (await db.models.ReviewCase.exists({ _id: `case-${o.orderId}` }))) break;
              // Decided once per visit, as the console does (the case claimed first), with the audit's view of it.
              const r = await pay.actors.billReview(s.shopperId, { caseId: `case-${o.orderId}`, visitId: o.visitId, cartOrderId: o.orderId, cabinetId: 'cab', siteId: 'site', flow: 'semi', decision: st.decision, lines: st.decidedFen ? [{ sku: 'X', name: 'x', qty: 1, unitPriceFen: st.decidedFen, amountFen: st.decidedFen }] : [], decidedFen: st.decidedFen, decidedBy: 'op' });
              if (r.type === 'PaymentErrored') break;
              await db.models.ReviewCase.create({ _id: `case-${o.orderId}`, caseId: `case-${o.orderId}`, visitId: o.visitId, orderId: o.orderId, cabinetId: 'cab', siteId: 'site', flow: 'semi', shopperId: s.shopperId, reason: 'discrepancy', status: 'decided', decision: st.decision, proposedLines: [], outcome: r.outcome, netting: r.netting, deadlineAt: new Date() });
              break;
            }
            case 'fault':
              emu.emulator.injectNotificationFault(st.fault);
              break;
            case 'restart': {
              // A second process on the same database recovers what is unsettled (its actors are fresh).
              const other = createActorSystem();
              systems.push(other);
              await createPayments({ config: emu.config({ notifyBaseUrl: `http://127.0.0.1:${port}` }), models: db.models, system: other }).service.recover();
              break;
            }
          }
        }
        emu.emulator.ensureUser(s.openid).insufficientBalance = false;
        emu.emulator.notificationFaults.length = 0;
        await drain();
        const report = await auditMoney(db.models, { emulatorUrl: emu.baseUrl });
        if (report.problems.length) throw new Error(`money audit: ${JSON.stringify(report.problems)}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true },
    );
  });
});
