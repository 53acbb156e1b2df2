import Fastify, { type FastifyInstance } from 'fastify';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { startTestEmulator, type TestEmulator } from '../emulator/testing';
import { registerPaymentNotifications, type InboundNotification } from './notifications';
import { PapayV2Client } from './papay.client';
import { WechatPayV3Client, type WxResult } from './v3.client';
import type { WechatConfig } from './wechat.config';
import { until } from '../../test/until';

// FerretDB, RSA key generation and the emulator are slow on the shared 2-core machine.
jest.setTimeout(60_000);

const ok = <T>(r: WxResult<T>): T => {
  if (!r.ok) throw new Error(JSON.stringify(r.failure));
  return r.value;
};


describe('papay v2 client, emulator and notification endpoints', () => {
  let emu: TestEmulator;
  let app: FastifyInstance;
  let cfg: WechatConfig;
  let papay: PapayV2Client;
  const events: InboundNotification[] = [];
  const openid = 'oPapayUser000000000000001';

  beforeAll(async () => {
    emu = await startTestEmulator({ timeScale: 1000 });
    app = Fastify();
    const base = emu.config();
    const v3 = new WechatPayV3Client({ config: base });
    await app.register(registerPaymentNotifications, { config: base, keys: v3.keys, clock: systemClock, log: silentLogger, sink: { accept: async (e) => void events.push(e) } });
    const addr = await app.listen({ port: 0, host: '127.0.0.1' });
    cfg = emu.config({ notifyBaseUrl: addr });
    papay = new PapayV2Client({ config: cfg });
    emu.emulator.ensureUser(openid);
  });
  afterAll(async () => {
    await app.close();
    await emu.close();
  });

  async function sign(code: string): Promise<string> {
    const extraData = papay.signingExtraData({ contractCode: code, requestSerial: papay.newRequestSerial(), displayAccount: 'Shopper' });
    const res = await fetch(`${emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid, extraData }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { referrerInfo: { extraData: { return_code: string } }; contract_id: string };
    expect(body.referrerInfo.extraData.return_code).toBe('SUCCESS');
    return body.contract_id;
  }

  it('signs in the signing mini-program, notifies ADD, and answers querycontract', async () => {
    const contractId = await sign('CC-sign-1');
    await until(() => events.some((e) => e.type === 'ContractChanged' && e.contractCode === 'CC-sign-1'));
    expect(events.find((e) => e.type === 'ContractChanged' && e.contractCode === 'CC-sign-1')).toMatchObject({ change: 'ADD', contractId, openid });
    expect(ok(await papay.queryContract({ contractCode: 'CC-sign-1' }))).toMatchObject({ contractId, state: 'signed', openid });
    // A contract code is never reusable.
    const again = await fetch(`${emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid, extraData: papay.signingExtraData({ contractCode: 'CC-sign-1', requestSerial: '1', displayAccount: 'x' }) }) });
    expect(again.status).toBe(400);
  });

  it('deducts asynchronously: accepted, then SUCCESS by notification and by query; the same out_trade_no never deducts twice', async () => {
    const contractId = await sign('CC-deduct-1');
    emu.emulator.deductionDelayMs = 300_000; // 300 ms at ×1000: long enough to see ACCEPT
    expect(ok(await papay.apply({ outTradeNo: 'CFP01-deduct-1', body: 'Snacks', totalFen: 450, contractId, attach: 'o-1' }))).toBe('accepted');
    expect(ok(await papay.queryOrder('CFP01-deduct-1')).tradeState).toBe('ACCEPT');
    expect(ok(await papay.apply({ outTradeNo: 'CFP01-deduct-1', body: 'Snacks', totalFen: 450, contractId, attach: 'o-1' }))).toBe('accepted');
    emu.emulator.deductionDelayMs = 3000;
    await until(() => events.some((e) => e.type === 'TradeResultNotified' && e.order.outTradeNo === 'CFP01-deduct-1'));
    expect(events.find((e) => e.type === 'TradeResultNotified' && e.order.outTradeNo === 'CFP01-deduct-1')).toMatchObject({ resultCode: 'SUCCESS', order: { tradeState: 'SUCCESS', totalFee: 450, contractId, attach: 'o-1' } });
    expect(ok(await papay.queryOrder('CFP01-deduct-1'))).toMatchObject({ tradeState: 'SUCCESS', totalFee: 450 });
    const r = await papay.apply({ outTradeNo: 'CFP01-deduct-1', body: 'Snacks', totalFen: 450, contractId, attach: 'o-1' });
    expect(r.ok ? null : r.failure).toMatchObject({ outcome: 'rejected', code: 'ORDERPAID' });
    expect(emu.emulator.charges.filter((c) => c.outTradeNo === 'CFP01-deduct-1')).toHaveLength(1);
  });

  it('fails a deduction with NOTENOUGH on insufficient balance, and refuses one on a revoked contract', async () => {
    const contractId = await sign('CC-fail-1');
    emu.emulator.ensureUser(openid).insufficientBalance = true;
    ok(await papay.apply({ outTradeNo: 'CFP01-poor', body: 'Snacks', totalFen: 100, contractId }));
    await until(() => events.some((e) => e.type === 'TradeResultNotified' && e.order.outTradeNo === 'CFP01-poor'));
    expect(events.find((e) => e.type === 'TradeResultNotified' && e.order.outTradeNo === 'CFP01-poor')).toMatchObject({ resultCode: 'FAIL', order: { tradeState: 'PAYERROR', errCode: 'NOTENOUGH' } });
    emu.emulator.ensureUser(openid).insufficientBalance = false;
    await fetch(`${emu.baseUrl}/__control/papay/revoke`, { method: 'POST', body: JSON.stringify({ contract_id: contractId }) });
    await until(() => events.some((e) => e.type === 'ContractChanged' && e.change === 'DELETE' && e.contractId === contractId));
    const r = await papay.apply({ outTradeNo: 'CFP01-revoked', body: 'Snacks', totalFen: 100, contractId });
    expect(r.ok ? null : r.failure).toMatchObject({ outcome: 'rejected', code: 'CONTRACT_NOT_EXIST' });
    expect(ok(await papay.queryContract({ contractId }))).toMatchObject({ state: 'terminated', terminationMode: '2' });
  });

  it('terminates a contract by API (DELETE notification) and pays-and-signs with contractorder', async () => {
    const contractId = await sign('CC-del-1');
    ok(await papay.deleteContract({ contractId, remark: 'closing account' }));
    await until(() => events.some((e) => e.type === 'ContractChanged' && e.change === 'DELETE' && e.contractId === contractId));
    const order = ok(await papay.contractOrder({ outTradeNo: 'CFC01-paysign', body: 'Snacks', totalFen: 300, openid, attach: 'o-ps', contractCode: 'CC-paysign-1', requestSerial: papay.newRequestSerial(), displayAccount: 'Shopper' }));
    expect(emu.emulator.pay(order.requestPayment)).toMatchObject({ ok: true });
    await until(() => events.some((e) => e.type === 'TradeResultNotified' && e.order.outTradeNo === 'CFC01-paysign') && events.some((e) => e.type === 'ContractChanged' && e.contractCode === 'CC-paysign-1'));
    expect(ok(await papay.queryContract({ contractCode: 'CC-paysign-1' })).state).toBe('signed');
  });

  it('rejects a v2 notification with a wrong sign and counts it as a failed delivery', async () => {
    const accepted = await emu.emulator.forgeV2DeductionSuccess(`${cfg.notifyBaseUrl}/payments/wechat/notify/papay`, 'CFP01-forged');
    expect(accepted).toBe(false);
    expect(events.some((e) => e.type === 'TradeResultNotified' && e.order.outTradeNo === 'CFP01-forged')).toBe(false);
  });

  it('turns a refused v2 call into a typed rejection and a 500 into an unknown outcome', async () => {
    emu.emulator.injectApiFault('pappayapply', { kind: 'status', status: 500 });
    const r = await papay.apply({ outTradeNo: 'CFP01-500', body: 'x', totalFen: 1, contractId: 'nope' });
    expect(r.ok ? null : r.failure).toMatchObject({ outcome: 'unknown', httpStatus: 500, retryable: true });
    const bad = new PapayV2Client({ config: { ...cfg, apiV2Key: 'k'.repeat(32) } });
    const s = await bad.queryContract({ contractId: 'x' });
    expect(s.ok ? null : s.failure).toMatchObject({ outcome: 'rejected', code: 'RETURN_FAIL', message: '签名错误' });
  });
});
