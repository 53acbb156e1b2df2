import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { MoneyRepository } from '../../store/money/repository';
import { openTestDb, type TestDb } from '../../test/db';
import { auditMoney } from '../ledger/money.audit';
import { outTradeNoFor } from './payment.machine';
import { PaymentService } from './payment.service';
import { billReview, pendingOrderIdFor } from './review.billing';
import type { ReviewToBill } from './payment.protocol';

/** Review billing on a real database: the payment service with a WeChat that refunds at once. */
describe('billing a reviewed semi-automatic visit (netting)', () => {
  let db: TestDb;
  let svc: PaymentService;
  const refunds: Array<{ outRefundNo: string; refundFen: number }> = [];
  /** What WeChat's papay order query answers for a deduction in flight. */
  let papayState: 'USERPAYING' | 'PAYERROR' = 'USERPAYING';
  const clock = new SimulatedClock(Date.UTC(2026, 11, 2, 3));
  let n = 0;

  beforeAll(async () => {
    db = await openTestDb('review_billing');
    const v3 = {
      refund: async (r: { outRefundNo: string; refundFen: number }) => (refunds.push(r), { ok: true, value: { status: 'SUCCESS', refund_id: `WX-${r.outRefundNo}` } }),
      close: async () => ({ ok: true, value: undefined }),
    };
    const papay = { queryOrder: async (outTradeNo: string) => ({ ok: true, value: { outTradeNo, tradeState: papayState, ...(papayState === 'PAYERROR' ? { errCode: 'NOTENOUGH' } : {}) } }) };
    svc = new PaymentService({ models: db.models, v3: v3 as never, papay: papay as never, config: { planId: 'plan' } as never, clock, log: silentLogger });
  });
  afterAll(async () => db.close());

  /** A visit whose cart paid `paidFen` (0: no cart order), as the payment service records a JSAPI payment. */
  async function visit(paidFen: number): Promise<{ visitId: string; cartOrderId?: string; shopperId: string }> {
    const i = ++n;
    const shopperId = `rb-s${i}`;
    const visitId = `rb-v${i}`;
    if (!paidFen) return { visitId, shopperId };
    const orderId = `O${visitId}`;
    await new MoneyRepository(db.models).createOrder({ orderId, shopperId, cabinetId: 'cab', siteId: 'site', visitId, flow: 'semi', source: 'cart', lines: [{ sku: 'A', name: 'a', qty: 1, unitPriceFen: paidFen, amountFen: paidFen }], totalFen: paidFen, status: 'draft' });
    const outTradeNo = outTradeNoFor(orderId, 'J', 1);
    await db.models.Payment.create({ _id: outTradeNo, outTradeNo, orderId, shopperId, channel: 'jsapi', amountFen: paidFen, status: 'pending', attempts: 1 });
    await svc.observe(outTradeNo, { kind: 'succeeded', transactionId: `T-${outTradeNo}`, amountFen: paidFen });
    return { visitId, shopperId, cartOrderId: orderId };
  }

  const review = (v: { visitId: string; cartOrderId?: string; shopperId: string }, decision: ReviewToBill['decision'], decidedFen: number): ReviewToBill => ({
    shopperId: v.shopperId,
    caseId: `R${v.visitId}`,
    visitId: v.visitId,
    ...(v.cartOrderId ? { cartOrderId: v.cartOrderId } : {}),
    cabinetId: 'cab',
    siteId: 'site',
    flow: 'semi',
    decision,
    lines: decidedFen ? [{ sku: 'B', name: 'b', qty: 1, unitPriceFen: decidedFen, amountFen: decidedFen }] : [],
    decidedFen,
    decidedBy: 'op',
  });

  /** The decision as the console stores it, so the audit can check the visit nets to it. */
  async function decided(r: ReviewToBill, netting: { decidedFen: number }): Promise<void> {
    await db.models.ReviewCase.create({ _id: r.caseId, caseId: r.caseId, visitId: r.visitId, cabinetId: 'cab', siteId: 'site', flow: 'semi', shopperId: r.shopperId, reason: 'discrepancy', status: 'decided', decision: r.decision, proposedLines: [], netting, deadlineAt: new Date(clock.now()) });
  }

  it('paid < decided: one pending order for the difference, as debt; billed again it is the same order', async () => {
    const v = await visit(350);
    const pricedAt = Date.UTC(2026, 11, 4, 2, 30);
    const r = { ...review(v, 'confirm', 950), pricedAt };
    const billed = await billReview(svc, r);
    expect(billed).toMatchObject({ outcome: 'debt', orderId: pendingOrderIdFor(v.visitId), netting: { paidFen: 350, decidedFen: 950, differenceFen: 600, againstOrderId: v.cartOrderId } });
    expect(await billReview(svc, r)).toEqual(billed);
    // The pending order keeps the moment its lines were priced at, for its receipt.
    expect(await db.models.Order.findOne({ _id: pendingOrderIdFor(v.visitId) }).lean()).toMatchObject({ status: 'debt', totalFen: 600, pricedAt: new Date(pricedAt) });
    expect(await db.models.Debt.countDocuments({ shopperId: v.shopperId })).toBe(1);
    await decided(r, billed.netting);
  });

  it('paid > decided: the over-payment refunded once, on a resumed decision too', async () => {
    const v = await visit(950);
    const r = review(v, 'adjust', 350);
    const billed = await billReview(svc, r);
    expect(billed).toMatchObject({ outcome: 'refunded 600', netting: { differenceFen: -600 } });
    // Resumed after a crash: the case's own refund is left out of the netting, so it nets alike.
    expect((await billReview(svc, r)).netting).toEqual(billed.netting);
    expect(refunds.filter((x) => x.outRefundNo.length && x.refundFen === 600)).toHaveLength(1);
    expect(await db.models.Order.findOne({ _id: v.cartOrderId }).lean()).toMatchObject({ status: 'partially_refunded', refundedFen: 600 });
    await decided(r, billed.netting);
  });

  it('paid = decided, and waive: nothing moves; nothing paid and confirmed: all of it is due', async () => {
    const same = await visit(500);
    const a = review(same, 'adjust', 500);
    const settled = await billReview(svc, a);
    expect(settled).toMatchObject({ outcome: 'settled', netting: { differenceFen: 0 } });
    await decided(a, settled.netting);
    const waived = await visit(200);
    const w = review(waived, 'waive', 900);
    const kept = await billReview(svc, w);
    expect(kept).toMatchObject({ outcome: 'waived: paid 200 kept', netting: { paidFen: 200, decidedFen: 200, differenceFen: 0 } });
    await decided(w, kept.netting);
    const walked = await visit(0);
    const c = review(walked, 'confirm', 730);
    const due = await billReview(svc, c);
    expect(due).toMatchObject({ outcome: 'debt', netting: { paidFen: 0, decidedFen: 730, differenceFen: 730 } });
    await decided(c, due.netting);
  });

  it('a deduction of the cart still in flight is settled first: refused while WeChat has no answer, its debt replaced once it failed', async () => {
    // The cart (¥1.21) was being deducted when the operator confirmed ¥39.92: billing beside it would owe both.
    const shopperId = `rb-s${++n}`;
    const visitId = `rb-v${n}`;
    const orderId = `O${visitId}`;
    await new MoneyRepository(db.models).createOrder({ orderId, shopperId, cabinetId: 'cab', siteId: 'site', visitId, flow: 'semi', source: 'cart', lines: [{ sku: 'A', name: 'a', qty: 1, unitPriceFen: 121, amountFen: 121 }], totalFen: 121, status: 'draft' });
    const outTradeNo = outTradeNoFor(orderId, 'P', 1);
    await db.models.Payment.create({ _id: outTradeNo, outTradeNo, orderId, shopperId, channel: 'papay', amountFen: 121, status: 'pending', contractId: 'c', attempts: 1 });
    const r = review({ visitId, cartOrderId: orderId, shopperId }, 'confirm', 3992);
    papayState = 'USERPAYING';
    await expect(billReview(svc, r)).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(await db.models.Order.exists({ _id: pendingOrderIdFor(visitId) })).toBeNull();
    papayState = 'PAYERROR';
    const billed = await billReview(svc, r);
    expect(billed).toMatchObject({ outcome: 'debt', netting: { paidFen: 0, decidedFen: 3992, differenceFen: 3992 } });
    expect(await db.models.Order.findOne({ _id: orderId }).lean()).toMatchObject({ status: 'waived' });
    const owed = await db.models.Order.find({ shopperId, status: 'debt' }).lean();
    expect(owed.map((o) => o.totalFen)).toEqual([3992]);
    await decided(r, billed.netting);
  });

  it('leaves the money audit clean for every visit above', async () => {
    expect((await auditMoney(db.models)).problems).toEqual([]);
  });
});
