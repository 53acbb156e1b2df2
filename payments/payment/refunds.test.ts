import { startMoneyWorld, uniqueId, type MoneyWorld, type TestShopper } from '../../test/money-kit';
import { outRefundNoFor } from './payment.machine';

jest.setTimeout(60_000);

/** Refunds of a paid order, through the payment service against the emulator's v3 refunds. */
describe('refunds', () => {
  let w: MoneyWorld;

  beforeAll(async () => {
    w = await startMoneyWorld('refunds');
  });
  afterAll(async () => w.close());

  /** An order the shopper paid by JSAPI in WeChat, its payment found by query. */
  async function paidOrder(totalFen: number): Promise<{ s: TestShopper; orderId: string; outTradeNo: string }> {
    const s = await w.shopper();
    const orderId = await w.order(s.shopperId, totalFen, { flow: 'semi' });
    const p = await w.svc.pay({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen: totalFen, description: 'Box', openid: s.openid });
    if (p.type !== 'PaymentPrepared') throw new Error(p.type);
    expect(w.emu.emulator.pay(p.requestPayment)).toMatchObject({ ok: true });
    await w.svc.resolve(p.outTradeNo);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'paid', paidFen: totalFen });
    return { s, orderId, outTradeNo: p.outTradeNo };
  }
  const refund = (s: TestShopper, orderId: string, amountFen: number, refundKey: string) => w.svc.refund({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen, reason: 'damaged', requestedBy: 'op-1', refundKey });
  const wxRefunds = (outTradeNo: string) => [...w.emu.emulator.refunds.values()].filter((r) => r.outTradeNo === outTradeNo);

  it('the same refund key, asked for again and at once, is one refund at WeChat', async () => {
    const { s, orderId, outTradeNo } = await paidOrder(1000);
    const replies = [...(await Promise.all([refund(s, orderId, 300, 'case-1'), refund(s, orderId, 300, 'case-1')])), await refund(s, orderId, 300, 'case-1')];
    const outRefundNo = outRefundNoFor(orderId, 'case-1');
    expect(replies.map((r) => r.type === 'RefundRequested' && r.outRefundNo)).toEqual([outRefundNo, outRefundNo, outRefundNo]);
    expect(wxRefunds(outTradeNo).map((r) => [r.outRefundNo, r.refund])).toEqual([[outRefundNo, 300]]);
    expect(await w.db.models.Refund.countDocuments({ orderId })).toBe(1);
  });

  it('refuses a second refund key that exceeds what remains; what is committed leaves out the refund named', async () => {
    const { s, orderId, outTradeNo } = await paidOrder(1000);
    expect(await refund(s, orderId, 600, 'a')).toMatchObject({ type: 'RefundRequested' });
    expect(await refund(s, orderId, 500, 'b')).toMatchObject({ type: 'RefundRefused', reason: 'exceeds_paid' });
    expect(wxRefunds(outTradeNo)).toHaveLength(1);
    expect(await refund(s, orderId, 400, 'c')).toMatchObject({ type: 'RefundRequested' });
    expect(await w.svc.committedRefunds(orderId)).toBe(1000);
    expect(await w.svc.committedRefunds(orderId, outRefundNoFor(orderId, 'a'))).toBe(400);
    expect(await w.svc.committedRefunds(orderId, outRefundNoFor(orderId, 'b'))).toBe(1000);
  });

  it('a refund WeChat refuses is stored failed (REJECTED), commits nothing, and its key stays refused', async () => {
    const { s, orderId, outTradeNo } = await paidOrder(800);
    w.emu.emulator.merchantBalanceInsufficient = true;
    try {
      expect(await refund(s, orderId, 200, 'broke')).toMatchObject({ type: 'RefundRefused', reason: 'rejected_by_wechat' });
    } finally {
      w.emu.emulator.merchantBalanceInsufficient = false;
    }
    expect(await w.db.models.Refund.findOne({ _id: outRefundNoFor(orderId, 'broke') }).lean()).toMatchObject({ status: 'failed', wechatStatus: 'REJECTED', amountFen: 200 });
    expect(wxRefunds(outTradeNo)).toEqual([]);
    expect(await w.svc.committedRefunds(orderId)).toBe(0);
    expect(await refund(s, orderId, 200, 'broke')).toMatchObject({ type: 'RefundRefused', reason: 'rejected_by_wechat' });
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'paid', refundedFen: 0 });
    expect(await w.ledger(orderId, 'refund')).toEqual([]);
  });
});
