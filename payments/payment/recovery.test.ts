import type { InboundNotification } from '../wechatpay/notifications';
import { startMoneyWorld, uniqueId, type MoneyWorld } from '../../test/money-kit';
import { until } from '../../test/until';
import { outTradeNoFor } from './payment.machine';

jest.setTimeout(60_000);

/** Recovery at start-up: a new payment service over the records another one left behind. */
describe('recovery', () => {
  let w: MoneyWorld;

  beforeAll(async () => {
    w = await startMoneyWorld('recovery');
  });
  afterAll(async () => w.close());

  /** A deduction sent by a process that died right after sending it: the attempt is left `created`. */
  async function sentThenKilled(totalFen: number): Promise<{ orderId: string; outTradeNo: string }> {
    const s = await w.shopper({ contract: true });
    const orderId = await w.order(s.shopperId, totalFen);
    const doomed = w.service({
      afterDeductionSent: () => {
        throw new Error('killed');
      },
    });
    await expect(doomed.charge({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen: totalFen, description: 'Snacks' })).rejects.toThrow('killed');
    const outTradeNo = outTradeNoFor(orderId, 'P', 1);
    expect((await w.svc.attemptsOf(orderId)).map((a) => a.status)).toEqual(['created']);
    await until(() => w.emu.emulator.orders.get(outTradeNo)?.state === 'SUCCESS');
    return { orderId, outTradeNo };
  }

  it('applies a notification one process recorded and did not process', async () => {
    const { orderId, outTradeNo } = await sentThenKilled(310);
    const o = w.emu.emulator.orders.get(outTradeNo)!;
    const e: InboundNotification = { type: 'TradeResultNotified', resultCode: 'SUCCESS', order: { outTradeNo, tradeState: 'SUCCESS', transactionId: o.transactionId!, totalFee: o.total, contractId: o.contractId! } };
    expect((await w.svc.recordNotification(e)).fresh).toBe(true);
    // WeChat cannot be asked meanwhile (5xx on the order query): only the recorded notification can tell.
    w.emu.emulator.injectApiFault('paporderquery', { kind: 'status', status: 503 }, 10);
    try {
      expect(await w.service().recover()).toMatchObject({ notifications: 1 });
    } finally {
      w.emu.emulator.apiFaults.delete('paporderquery');
    }
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'paid', paidFen: 310 });
    expect(await w.ledger(orderId, 'payment')).toHaveLength(1);
    expect(await w.service().recover()).toMatchObject({ notifications: 0 });
  });

  it('resolves an attempt left `created`, whose deduction WeChat took, by query: succeeded, one deduction', async () => {
    const { orderId, outTradeNo } = await sentThenKilled(555);
    const r = await w.service().recover();
    expect(r.resolved).toBeGreaterThanOrEqual(1);
    expect(await w.svc.attemptsOf(orderId)).toEqual([expect.objectContaining({ outTradeNo, status: 'succeeded', transactionId: w.emu.emulator.orders.get(outTradeNo)!.transactionId })]);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'paid', paidFen: 555 });
    expect(w.wxOrders(orderId)).toHaveLength(1);
    expect(w.emu.emulator.charges.filter((c) => c.attach === orderId)).toHaveLength(1);
    expect(await w.ledger(orderId, 'payment')).toHaveLength(1);
  });
});
