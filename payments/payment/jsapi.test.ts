import { startMoneyWorld, uniqueId, type MoneyWorld, type TestShopper } from '../../test/money-kit';

jest.setTimeout(60_000);

/** JSAPI payments and the close of an unpaid order, through the payment service against the emulator's v3 API. */
describe('JSAPI payments', () => {
  let w: MoneyWorld;

  beforeAll(async () => {
    w = await startMoneyWorld('jsapi');
  });
  afterAll(async () => w.close());

  const pay = (s: TestShopper, orderId: string, amountFen: number) => w.svc.pay({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen, description: 'Cola', openid: s.openid });
  async function prepared(s: TestShopper, orderId: string, amountFen: number) {
    const r = await pay(s, orderId, amountFen);
    if (r.type !== 'PaymentPrepared') throw new Error(`expected PaymentPrepared, got ${JSON.stringify(r)}`);
    return r;
  }

  it('paying twice for the same order re-enters the same WeChat order: same out_trade_no, same prepay', async () => {
    const s = await w.shopper();
    const orderId = await w.order(s.shopperId, 350, { flow: 'semi' });
    const first = await prepared(s, orderId, 350);
    const again = await prepared(s, orderId, 350);
    expect(again.outTradeNo).toBe(first.outTradeNo);
    expect(again.requestPayment.package).toBe(first.requestPayment.package);
    expect(w.wxOrders(orderId)).toHaveLength(1);
    expect(await w.svc.attemptsOf(orderId)).toEqual([expect.objectContaining({ outTradeNo: first.outTradeNo, status: 'pending' })]);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'awaiting_payment' });
  });

  it('closing an unpaid order closes its attempt at WeChat and cancels the order', async () => {
    const s = await w.shopper();
    const orderId = await w.order(s.shopperId, 220, { flow: 'semi' });
    const p = await prepared(s, orderId, 220);
    expect(await w.svc.closeOrder(orderId)).toBe('cancelled');
    expect(w.emu.emulator.orders.get(p.outTradeNo)?.state).toBe('CLOSED');
    expect(await w.svc.attemptsOf(orderId)).toEqual([expect.objectContaining({ status: 'closed' })]);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'cancelled' });
    // The shopper's WeChat can no longer pay it.
    expect(w.emu.emulator.pay(p.requestPayment)).toMatchObject({ ok: false });
  });

  it('closing an order the shopper has just paid (notification not in yet) records the payment and leaves it paid', async () => {
    const s = await w.shopper();
    const orderId = await w.order(s.shopperId, 480, { flow: 'semi' });
    const p = await prepared(s, orderId, 480);
    expect(w.emu.emulator.pay(p.requestPayment)).toMatchObject({ ok: true });
    expect(await w.svc.closeOrder(orderId)).toBe('paid');
    expect(w.emu.emulator.orders.get(p.outTradeNo)?.state).toBe('SUCCESS');
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'paid', paidFen: 480 });
    expect(await w.ledger(orderId, 'payment')).toHaveLength(1);
    // Closing again changes nothing.
    const before = await w.readOrder(orderId);
    expect(await w.svc.closeOrder(orderId)).toBe('paid');
    expect(await w.readOrder(orderId)).toEqual(before);
  });
});
