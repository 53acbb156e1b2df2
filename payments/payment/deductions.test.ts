import { systemClock } from '../../common/clock';
import { until } from '../../test/until';
import { startMoneyWorld, uniqueId, type MoneyWorld } from '../../test/money-kit';
import { PapayV2Client } from '../wechatpay/papay.client';
import { outTradeNoFor } from './payment.machine';

jest.setTimeout(60_000);

/** Papay deductions through the payment service, against the emulator's papay. */
describe('deductions', () => {
  let w: MoneyWorld;

  beforeAll(async () => {
    w = await startMoneyWorld('deductions');
  });
  afterAll(async () => w.close());

  const charge = (shopperId: string, orderId: string, amountFen: number) => w.svc.charge({ requestId: uniqueId('r'), shopperId, orderId, amountFen, description: 'Snacks' });

  it('a charge retried, concurrently and in turn, is one deduction at WeChat and one charge on the ledger', async () => {
    const s = await w.shopper({ contract: true });
    const orderId = await w.order(s.shopperId, 500);
    const first = await Promise.all(Array.from({ length: 5 }, () => charge(s.shopperId, orderId, 500)));
    expect(first.filter((r) => r.type !== 'DeductionAccepted' && r.type !== 'PaymentPending' && r.type !== 'OrderPaid')).toEqual([]);
    const outTradeNo = outTradeNoFor(orderId, 'P', 1);
    await until(() => w.emu.emulator.orders.get(outTradeNo)?.state === 'SUCCESS');
    for (let i = 0; i < 3; i++) expect(await charge(s.shopperId, orderId, 500)).toMatchObject({ type: 'OrderPaid', outTradeNo });
    expect(w.wxOrders(orderId).map((o) => o.outTradeNo)).toEqual([outTradeNo]);
    expect(w.emu.emulator.charges.filter((c) => c.attach === orderId)).toHaveLength(1);
    expect(await w.ledger(orderId, 'charge')).toHaveLength(1);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'paid', paidFen: 500 });
  });

  it('refuses an order of another shopper or of another amount, and sends nothing', async () => {
    const s = await w.shopper({ contract: true });
    const other = await w.shopper({ contract: true });
    const orderId = await w.order(other.shopperId, 300);
    expect(await charge(s.shopperId, orderId, 300)).toMatchObject({ type: 'ChargeRefused', reason: 'unknown_order' });
    expect(await charge(other.shopperId, orderId, 301)).toMatchObject({ type: 'ChargeRefused', reason: 'amount_mismatch' });
    expect(w.wxOrders(orderId)).toEqual([]);
    expect(await w.svc.attemptsOf(orderId)).toEqual([]);
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'draft', version: 0 });
  });

  it('a shopper without a contract gets a NO_CONTRACT debt, nothing sent', async () => {
    const s = await w.shopper();
    const orderId = await w.order(s.shopperId, 420);
    const r = await charge(s.shopperId, orderId, 420);
    expect(r).toMatchObject({ type: 'DebtRecorded', reason: 'NO_CONTRACT' });
    const debt = await w.db.models.Debt.findOne({ orderId }).lean();
    expect(debt).toMatchObject({ debtId: r.type === 'DebtRecorded' ? r.debtId : '?', shopperId: s.shopperId, amountFen: 420, reason: 'NO_CONTRACT', status: 'open' });
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'debt' });
    expect(w.wxOrders(orderId)).toEqual([]);
  });

  it('a deduction refused with CONTRACT_NOT_EXIST ends the stored contract and records the debt', async () => {
    const s = await w.shopper({ contract: true });
    // The shopper ended the contract inside WeChat; its DELETE notification has not reached us.
    const wx = w.emu.emulator.contracts.get(s.contractId!)!;
    w.emu.emulator.terminateContract(wx, '2', 'revoked by the shopper');
    const orderId = await w.order(s.shopperId, 780);
    expect(await charge(s.shopperId, orderId, 780)).toMatchObject({ type: 'DebtRecorded', reason: 'CONTRACT_NOT_EXIST' });
    expect(await w.db.models.Contract.findOne({ _id: s.contractCode }).lean()).toMatchObject({ status: 'terminated' });
    expect(await w.db.models.Debt.findOne({ orderId }).lean()).toMatchObject({ reason: 'CONTRACT_NOT_EXIST', amountFen: 780, status: 'open' });
    expect(await w.readOrder(orderId)).toMatchObject({ status: 'debt' });
    expect(w.emu.emulator.charges.filter((c) => c.attach === orderId)).toEqual([]);
    // The contract is not remembered as active any more: the next order is a debt without a deduction.
    const next = await w.order(s.shopperId, 100);
    expect(await charge(s.shopperId, next, 100)).toMatchObject({ type: 'DebtRecorded', reason: 'NO_CONTRACT' });
    expect(w.wxOrders(next)).toEqual([]);
  });

  /** A deduction lost on its way (WeChat never got it; the sender timed out), then the order charged again. */
  async function lostThenCharged(description: string): Promise<{ orderId: string; outTradeNo: string }> {
    const s = await w.shopper({ contract: true });
    const orderId = await w.order(s.shopperId, 640);
    const impatient = w.service({ papay: new PapayV2Client({ config: { ...w.config, requestTimeoutMs: 200 }, clock: systemClock }) });
    w.emu.emulator.injectApiFault('pappayapply', { kind: 'timeout_before' });
    expect(await impatient.charge({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen: 640, description })).toMatchObject({ type: 'PaymentPending' });
    expect(w.wxOrders(orderId)).toEqual([]);
    const outTradeNo = outTradeNoFor(orderId, 'P', 1);
    expect((await w.svc.attemptsOf(orderId)).map((a) => a.status)).toEqual(['unknown']);
    await w.svc.charge({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen: 640, description });
    await until(() => w.emu.emulator.orders.get(outTradeNo)?.state === 'SUCCESS');
    expect(await w.svc.charge({ requestId: uniqueId('r'), shopperId: s.shopperId, orderId, amountFen: 640, description })).toMatchObject({ type: 'OrderPaid', outTradeNo });
    return { orderId, outTradeNo };
  }

  it('a deduction WeChat never received is asked about, then sent again under the same number: one deduction', async () => {
    const { orderId, outTradeNo } = await lostThenCharged('Snacks');
    expect(w.wxOrders(orderId).map((o) => o.outTradeNo)).toEqual([outTradeNo]);
    expect(w.emu.emulator.charges.filter((c) => c.attach === orderId)).toHaveLength(1);
    expect(await w.ledger(orderId, 'charge')).toHaveLength(1);
  });

  // Found by this test (it failed before the fix): a resent deduction went to WeChat with the body "resend";
  // the attempt now keeps the body it was first sent with.
  it('the deduction sent again carries the order’s description, as the first request did', async () => {
    const { orderId } = await lostThenCharged('Cola and chips');
    expect(w.wxOrders(orderId).map((o) => o.description)).toEqual(['Cola and chips']);
  });
});
