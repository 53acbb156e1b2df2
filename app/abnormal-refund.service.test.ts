import { RefundRecords } from '../store/money/refunds';
import { assertMove } from '../payments/payment/order.machine';
import { systemClock } from '../common/clock';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import { startTestEmulator, type TestEmulator } from '../payments/emulator/testing';
import { WechatPayV3Client } from '../payments/wechatpay/v3.client';
import { openTestDb, type TestDb } from '../test/db';
import { AbnormalRefundService } from './abnormal-refund.service';
import { until } from '../test/until';

// FerretDB and RSA key generation are slow on the shared 2-core machine.
jest.setTimeout(60_000);

const finance: Principal = { id: 'u-fin', name: 'Finance', role: 'finance', sites: '*' };
const shOperator: Principal = { id: 'u-sh', name: 'SH', role: 'operator', sites: ['shanghai-hq'] };
const viewer: Principal = { id: 'u-view', name: 'V', role: 'viewer', sites: '*' };


describe('apply-abnormal-refund (v3) from the console', () => {
  let db: TestDb;
  let emu: TestEmulator;
  let v3: WechatPayV3Client;
  let svc: AbnormalRefundService;
  const openid = 'oAbnormal000000000000001';

  beforeAll(async () => {
    db = await openTestDb('abnormal');
    emu = await startTestEmulator({ timeScale: 1000 });
    emu.emulator.ensureUser(openid);
    v3 = new WechatPayV3Client({ config: emu.config() });
    svc = new AbnormalRefundService({ models: db.models, refunds: new RefundRecords(db.models, assertMove), v3, clock: systemClock, log: silentLogger });
  });
  afterAll(async () => {
    await emu.close();
    await db.close();
  });

  /** A paid order refunded at WeChat with the given outcome, and our records as the payments leave them. */
  async function refunded(no: string, outcome: 'ABNORMAL' | 'SUCCESS', siteId = 'shanghai-hq'): Promise<string> {
    const p = await v3.jsapiPrepay({ outTradeNo: `CFJ01${no}`, description: 'x', amountFen: 600, openid, notifyUrl: 'https://m.example/n' });
    if (!p.ok) throw new Error(p.failure.code);
    emu.emulator.pay(p.value.requestPayment);
    emu.emulator.refundOutcomes.push(outcome);
    const outRefundNo = `RF${no}`;
    const r = await v3.refund({ outRefundNo, outTradeNo: `CFJ01${no}`, refundFen: 600, totalFen: 600 });
    if (!r.ok) throw new Error(r.failure.code);
    await until(() => emu.emulator.refunds.get(outRefundNo)?.status === outcome);
    await db.models.Order.create({ orderId: `O${no}`, outTradeNo: `CFJ01${no}`, shopperId: 's', cabinetId: 'SH-OPEN-01', siteId, flow: 'open', source: 'cart', totalFen: 600, paidFen: 600, status: 'paid' });
    await db.models.Refund.create({ _id: outRefundNo, outRefundNo, outTradeNo: `CFJ01${no}`, orderId: `O${no}`, amountFen: 600, reason: 'x', status: 'failed', requestedBy: 'op' });
    return outRefundNo;
  }

  it('refunds an ABNORMAL refund again to the merchant account, the record pending until WeChat settles it', async () => {
    const no = await refunded('abn1', 'ABNORMAL');
    expect(await svc.apply(finance, no)).toEqual({ outRefundNo: no, status: 'pending', wechatStatus: 'PROCESSING' });
    expect((await db.models.Refund.findOne({ _id: no }).lean())?.status).toBe('pending');
    expect(emu.emulator.refunds.get(no)?.abnormalTo).toBe('MERCHANT_BANK_CARD');
    await until(() => emu.emulator.refunds.get(no)?.status === 'SUCCESS');
    expect(await db.models.Audit.countDocuments({ action: 'refund.apply_abnormal', objectId: no })).toBe(1);
    // Once is enough: the record is no longer failed.
    await expect(svc.apply(finance, no)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses a refund WeChat does not report ABNORMAL and leaves it failed; scopes and roles hold', async () => {
    const ok = await refunded('suc1', 'SUCCESS');
    await expect(svc.apply(finance, ok)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('SUCCESS') });
    expect((await db.models.Refund.findOne({ _id: ok }).lean())?.status).toBe('failed');
    const bj = await refunded('bj1', 'ABNORMAL', 'beijing-office');
    await expect(svc.apply(shOperator, bj)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(svc.apply(viewer, bj)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(svc.apply(finance, 'RFnone')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(emu.emulator.refunds.get(bj)?.status).toBe('ABNORMAL');
  });

  it('sends a shopper bank card encrypted with WeChat Pay key (the emulator decrypts it)', async () => {
    const no = await refunded('card1', 'ABNORMAL');
    const r = await v3.applyAbnormalRefund(no, { type: 'USER_BANK_CARD', bankType: 'ICBC_DEBIT', bankAccount: '6212260000000000000', realName: '张三' });
    expect(r.ok && r.value.status).toBe('PROCESSING');
    expect(emu.emulator.refunds.get(no)?.abnormalTo).toBe('USER_BANK_CARD');
    const bad = await v3.request('POST', `/v3/refund/domestic/refunds/${no}/apply-abnormal-refund`, JSON.stringify({ out_refund_no: no, type: 'USER_BANK_CARD', bank_type: 'ICBC_DEBIT', bank_account: 'plain', real_name: 'plain' }));
    expect(bad.ok).toBe(false);
  });
});
