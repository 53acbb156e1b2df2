import type { InboundNotification } from '../wechatpay/notifications';
import { startMoneyWorld, uniqueId, type MoneyWorld } from '../../test/money-kit';
import { until } from '../../test/until';
import { outTradeNoFor } from './payment.machine';

jest.setTimeout(60_000);

/** WeChat's notifications: recorded once under their key, applied idempotently. */
describe('the notification inbox', () => {
  let w: MoneyWorld;

  beforeAll(async () => {
    w = await startMoneyWorld('inbox');
  });
  afterAll(async () => w.close());

  /** A deduction WeChat has taken, and the trade result notification WeChat would send for it. */
  async function deducted(totalFen: number): Promise<{ shopperId: string; orderId: string; outTradeNo: string; e: InboundNotification }> {
    const s = await w.shopper({ contract: true });
    const orderId = await w.order(s.shopperId, totalFen);
    expect(await w.svc.charge({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen: totalFen, description: 'Snacks' })).toMatchObject({ type: 'DeductionAccepted' });
    const outTradeNo = outTradeNoFor(orderId, 'P', 1);
    await until(() => w.emu.emulator.orders.get(outTradeNo)?.state === 'SUCCESS');
    const o = w.emu.emulator.orders.get(outTradeNo)!;
    const e: InboundNotification = { type: 'TradeResultNotified', resultCode: 'SUCCESS', order: { outTradeNo, tradeState: 'SUCCESS', transactionId: o.transactionId!, totalFee: o.total, contractId: o.contractId!, attach: orderId } };
    return { shopperId: s.shopperId, orderId, outTradeNo, e };
  }

  it('records a notification once: fresh, then not, under the same key and shopper', async () => {
    const { shopperId, e } = await deducted(230);
    const first = await w.svc.recordNotification(e);
    // A second process meets the stored key too.
    const again = await w.service().recordNotification(e);
    expect(first).toMatchObject({ shopperId, fresh: true });
    expect(again).toEqual({ ...first, fresh: false });
    expect(await w.db.models.PaymentInbox.countDocuments({ _id: first.key })).toBe(1);
  });

  it('a trade result success pays the order; the same notification replayed changes nothing', async () => {
    const { orderId, outTradeNo, e } = await deducted(370);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'draft' });
    const { key } = await w.svc.recordNotification(e);
    await w.svc.processNotification(key, e);
    const order = await w.readOrder(orderId);
    const [attempt] = await w.svc.attemptsOf(orderId);
    expect(order).toMatchObject({ status: 'paid', paidFen: 370 });
    expect(attempt).toMatchObject({ outTradeNo, status: 'succeeded', transactionId: e.type === 'TradeResultNotified' && e.order.transactionId });
    // Redelivered: recorded already, processed again (a restart replays it), nothing moves.
    expect((await w.svc.recordNotification(e)).fresh).toBe(false);
    await w.svc.processNotification(key, e);
    await w.service().processNotification(key, e);
    expect(await w.readOrder(orderId)).toEqual(order);
    expect(await w.svc.attemptsOf(orderId)).toEqual([attempt]);
    expect(await w.ledger(orderId, 'payment')).toEqual([expect.objectContaining({ ref: outTradeNo, amountFen: 370 })]);
  });
});
