import type { EmuContract } from '../emulator/emulator';
import type { InboundNotification } from '../wechatpay/notifications';
import { startMoneyWorld, uniqueId, type MoneyWorld, type TestShopper } from '../../test/money-kit';

jest.setTimeout(60_000);

/** Papay contracts: signing started by the service, WeChat's ADD and DELETE delivered in either order. */
describe('contracts', () => {
  let w: MoneyWorld;

  beforeAll(async () => {
    w = await startMoneyWorld('contracts');
  });
  afterAll(async () => w.close());

  const startSigning = (s: TestShopper) => w.svc.startSigning({ requestId: uniqueId('r'), shopperId: s.shopperId, openid: s.openid, displayAccount: 'me' });
  async function signingCode(s: TestShopper): Promise<{ contractCode: string; extraData: Record<string, string> }> {
    const r = await startSigning(s);
    if (r.type !== 'SigningPrepared') throw new Error(r.type);
    return r;
  }
  /** The shopper signs in WeChat's signing mini-program with what the service prepared. */
  async function signAtWechat(s: TestShopper, extraData: Record<string, string>): Promise<EmuContract> {
    const res = await fetch(`${w.emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid: s.openid, extraData }) });
    const { contract_id } = (await res.json()) as { contract_id: string };
    return w.emu.emulator.contracts.get(contract_id)!;
  }
  const changed = (c: EmuContract, change: 'ADD' | 'DELETE'): InboundNotification => ({ type: 'ContractChanged', change, contractCode: c.contractCode, contractId: c.contractId, openid: c.openid, planId: c.planId, operateTime: '', ...(change === 'DELETE' ? { terminationMode: c.terminationMode } : {}) });
  async function deliver(e: InboundNotification): Promise<void> {
    const { key } = await w.svc.recordNotification(e);
    await w.svc.processNotification(key, e);
  }
  const stored = (contractCode: string) => w.db.models.Contract.findOne({ _id: contractCode }).lean();

  // Found by this test (it failed before the fix): a second start (the shopper backed out and tapped again)
  // made a second code and a second `signing` row; the code still being signed is now reused.
  it('signing started twice before the shopper signs uses the same contract code', async () => {
    const s = await w.shopper();
    const first = await signingCode(s);
    const again = await signingCode(s);
    expect(again.contractCode).toBe(first.contractCode);
    expect(await w.db.models.Contract.find({ shopperId: s.shopperId }).lean()).toEqual([expect.objectContaining({ contractCode: first.contractCode, status: 'signing' })]);
  });

  it('an ADD activates the contract: signing again answers AlreadySigned and the shopper is charged by deduction', async () => {
    const s = await w.shopper();
    const { extraData } = await signingCode(s);
    const c = await signAtWechat(s, extraData);
    await deliver(changed(c, 'ADD'));
    expect(await stored(c.contractCode)).toMatchObject({ status: 'active', contractId: c.contractId });
    expect(await startSigning(s)).toMatchObject({ type: 'AlreadySigned', contractId: c.contractId });
    const orderId = await w.order(s.shopperId, 150);
    expect(await w.svc.charge({ requestId: 'c1', shopperId: s.shopperId, orderId, amountFen: 150, description: 'Snacks' })).toMatchObject({ type: 'DeductionAccepted' });
  });

  it('a DELETE processed before its ADD leaves the contract terminated once the ADD arrives', async () => {
    const s = await w.shopper();
    const { extraData } = await signingCode(s);
    const c = await signAtWechat(s, extraData);
    w.emu.emulator.terminateContract(c, '2', 'revoked in WeChat');
    await deliver(changed(c, 'DELETE'));
    await deliver(changed(c, 'ADD'));
    expect(await stored(c.contractCode)).toMatchObject({ status: 'terminated', contractId: c.contractId });
    // No active contract: a new signing gets the next code, and an order is a debt without a deduction.
    expect((await signingCode(s)).contractCode).not.toBe(c.contractCode);
    const orderId = await w.order(s.shopperId, 150);
    expect(await w.svc.charge({ requestId: 'c2', shopperId: s.shopperId, orderId, amountFen: 150, description: 'Snacks' })).toMatchObject({ type: 'DebtRecorded', reason: 'NO_CONTRACT' });
    expect(w.wxOrders(orderId)).toEqual([]);
  });
});
