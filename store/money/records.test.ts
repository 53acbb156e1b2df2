import { assertMove, RefusedMove } from '../../payments/payment/order.machine';
import { contractCodeFor, outTradeNoFor } from '../../payments/payment/payment.machine';
import { openTestDb, type TestDb } from '../../test/db';
import { uniqueId } from '../../test/money-kit';
import { MoneyRecords } from './records';
import { Remembered } from './remembered';

jest.setTimeout(60_000);

/** The money store seam on a real database, every status move checked by the lifecycle guard. */
describe('money records', () => {
  let db: TestDb;
  let records: MoneyRecords;

  beforeAll(async () => {
    db = await openTestDb('money_records');
    records = new MoneyRecords(db.models, assertMove);
  });
  afterAll(async () => db.close());

  async function order(status: 'draft' | 'held_for_review' | 'debt' = 'draft'): Promise<string> {
    const orderId = uniqueId('o');
    await records.repo.createOrder({ orderId, shopperId: 'shopper-1', cabinetId: 'cab', siteId: 'site', flow: 'auto', source: 'recognition', lines: [], totalFen: 500, status });
    return orderId;
  }
  const stored = (orderId: string) => db.models.Order.findOne({ _id: orderId }).lean();

  it('refuses an order move outside the lifecycle (paid → debt) and writes nothing', async () => {
    const orderId = await order();
    const paid = await records.orders.move((await records.orders.read(orderId))!, { status: 'paid', paidFen: 500 });
    expect(paid).toMatchObject({ status: 'paid', version: 1 });
    const before = await stored(orderId);
    await expect(records.orders.move((await records.orders.read(orderId))!, { status: 'debt' })).rejects.toBeInstanceOf(RefusedMove);
    expect(await stored(orderId)).toEqual(before);
    // No claim was made for the refused move (the move to paid made the one of version 0).
    const claims = db.conn.collection('cas_claims');
    expect([await claims.countDocuments({ _id: `orders:${orderId}:0` as never }), await claims.countDocuments({ _id: `orders:${orderId}:1` as never })]).toEqual([1, 0]);
  });

  it('a move from a stale copy returns undefined and leaves the order as the other writer left it', async () => {
    const orderId = await order();
    const mine = (await records.orders.read(orderId))!;
    const theirs = (await records.orders.read(orderId))!;
    expect(await records.orders.move(theirs, { status: 'awaiting_payment' })).toMatchObject({ status: 'awaiting_payment', version: 1 });
    expect(await records.orders.move(mine, { status: 'cancelled' })).toBeUndefined();
    expect(await stored(orderId)).toMatchObject({ status: 'awaiting_payment', version: 1 });
    // The stale copy is not remembered as current: the next move starts from a fresh read.
    expect(records.orders.remembered(orderId)).toBeUndefined();
  });

  it('attempts.series stops at the first missing number', async () => {
    const orderId = await order();
    for (const n of [1, 2, 4]) {
      const outTradeNo = outTradeNoFor(orderId, 'P', n);
      await records.attempts.create({ _id: outTradeNo, outTradeNo, orderId, shopperId: 'shopper-1', channel: 'papay', amountFen: 500, status: 'created', attempts: 1 });
    }
    const series = await records.attempts.series((n) => outTradeNoFor(orderId, 'P', n));
    expect(series.map((p) => p.outTradeNo)).toEqual([outTradeNoFor(orderId, 'P', 1), outTradeNoFor(orderId, 'P', 2)]);
  });

  it('records one debt per order: created once, the second create is false', async () => {
    const orderId = await order('debt');
    const debt = { shopperId: 'shopper-1', orderId, amountFen: 500, reason: 'NOTENOUGH' };
    expect(await records.debts.create(debt)).toBe(true);
    expect(await records.debts.create({ ...debt, amountFen: 999 })).toBe(false);
    expect(await db.models.Debt.find({ orderId }).lean()).toEqual([expect.objectContaining({ status: 'open', amountFen: 500 })]);
  });

  it('refund moves follow the lifecycle: pending → failed, failed → pending (abnormal refund), never failed → succeeded', async () => {
    const orderId = await order();
    const outRefundNo = uniqueId('R');
    expect(await records.refunds.create({ outRefundNo, outTradeNo: 'CFJ01x', orderId, amountFen: 100, reason: 'r', requestedBy: 'op' })).toBe(true);
    expect(await records.refunds.move(outRefundNo, 'pending', 'failed', { wechatStatus: 'ABNORMAL' })).toBe(true);
    await expect(records.refunds.move(outRefundNo, 'failed', 'succeeded')).rejects.toBeInstanceOf(RefusedMove);
    expect((await records.refunds.read(outRefundNo))?.status).toBe('failed');
    expect(await records.refunds.move(outRefundNo, 'failed', 'pending')).toBe(true);
    expect((await records.refunds.read(outRefundNo))?.status).toBe('pending');
    // A move from a status the refund is not in any more loses.
    expect(await records.refunds.move(outRefundNo, 'failed', 'pending')).toBe(false);
  });

  it('remembers the active contract until forgetActive', async () => {
    const shopperId = uniqueId('s');
    const codeFor = (n: number) => contractCodeFor(shopperId, n);
    await records.contracts.createSigning({ contractCode: codeFor(1), shopperId, openid: `o-${shopperId}`, planId: 'plan' });
    expect(await records.contracts.activeOf(shopperId, codeFor)).toBeUndefined();
    expect(await records.contracts.activate(codeFor(1), 'C-1', new Date())).toBe(true);
    expect(await records.contracts.activeOf(shopperId, codeFor)).toEqual({ contractCode: codeFor(1), contractId: 'C-1' });
    // Ended by another writer: still the remembered answer here, until forgotten.
    expect(await new MoneyRecords(db.models, assertMove).contracts.terminate({ contractCode: codeFor(1), status: 'active' }, { at: new Date(), reason: 'test' })).toBe(true);
    expect(await records.contracts.activeOf(shopperId, codeFor)).toEqual({ contractCode: codeFor(1), contractId: 'C-1' });
    records.contracts.forgetActive(shopperId);
    expect(await records.contracts.activeOf(shopperId, codeFor)).toBeUndefined();
  });

  it('Remembered forgets the oldest copy beyond its limit, a re-set copy counting as new', () => {
    const r = new Remembered<number>(2);
    r.set('a', 1);
    r.set('b', 2);
    r.set('a', 3);
    r.set('c', 4);
    expect([r.get('a'), r.get('b'), r.get('c'), r.size]).toEqual([3, undefined, 4, 2]);
  });
});
