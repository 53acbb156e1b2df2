import { createPrivateKey } from 'node:crypto';
import Pay from 'wechatpay-node-v3';
import { SimulatedClock } from '../../common/clock';
import { startTestEmulator, type TestEmulator } from '../emulator/testing';
import { aeadDecrypt, aeadEncrypt, nonceStr, paySignString, responseSigningString, rsaSign, rsaVerify } from './crypto';
import { PlatformKeyRing, verifyWechatpaySignature } from './verifier';
import { WechatPayV3Client, type WxResult } from './v3.client';

// FerretDB, RSA key generation and the emulator are slow on the shared 2-core machine.
jest.setTimeout(60_000);

const expectOk = <T>(r: WxResult<T>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.failure)}`);
  return r.value;
};
const expectFail = <T>(r: WxResult<T>) => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.value)}`);
  return r.failure;
};

/** The unguarded library, pointed at the emulator by rewriting the host after signing (its documented hook). */
function rawLibrary(emu: TestEmulator): Pay {
  const m = emu.merchant;
  const pay = new Pay({ appid: m.appid, mchid: m.mchid, publicKey: Buffer.from(m.merchantCertPem), privateKey: Buffer.from(m.merchantPrivateKeyPem), key: m.apiV3Key });
  const rewrite = (url: string) => url.replace('https://api.mch.weixin.qq.com', emu.baseUrl);
  const read = async (res: Response) => {
    const text = await res.text();
    return res.ok ? { status: res.status, data: text ? (JSON.parse(text) as unknown) : undefined } : { status: res.status, error: text };
  };
  pay.createHttp({
    post: async (url: string, params: Record<string, unknown>, headers: Record<string, string>) => read(await fetch(rewrite(url), { method: 'POST', headers, body: JSON.stringify(params) })),
    get: async (url: string, headers: Record<string, string>) => read(await fetch(rewrite(url), { headers })),
    upload: async () => ({ status: 0 }),
  });
  return pay;
}

describe('WeChat Pay v3 client against the emulator', () => {
  let emu: TestEmulator;
  let client: WechatPayV3Client;
  const openid = 'oUser_v3_client_000000001';

  beforeAll(async () => {
    emu = await startTestEmulator();
    client = new WechatPayV3Client({ config: emu.config() });
    emu.emulator.ensureUser(openid);
  });
  afterAll(async () => {
    await emu.close();
  });

  const prepay = (no: string, amountFen = 350, extra: Partial<Parameters<WechatPayV3Client['jsapiPrepay']>[0]> = {}) =>
    client.jsapiPrepay({ outTradeNo: no, description: 'Snacks', amountFen, openid, notifyUrl: 'https://merchant.example/notify', attach: 'order-1', ...extra });

  it('prepays, lets the shopper pay with the signed wx.requestPayment parameters, and queries SUCCESS', async () => {
    const p = expectOk(await prepay('CFJ01-prepay-pay'));
    expect(p.prepayId).toMatch(/^wx/);
    expect(rsaVerify(paySignString(p.requestPayment.appId, p.requestPayment.timeStamp, p.requestPayment.nonceStr, p.requestPayment.package), p.requestPayment.paySign, emu.config().merchantCert!)).toBe(true);
    expect(emu.emulator.pay(p.requestPayment)).toMatchObject({ ok: true });
    const t = expectOk(await client.queryByOutTradeNo('CFJ01-prepay-pay'));
    expect(t).toMatchObject({ trade_state: 'SUCCESS', amount: { total: 350 }, attach: 'order-1', payer: { openid } });
    expect(t.transaction_id).toMatch(/^\d{28}$/);
    expect(expectOk(await client.queryByTransactionId(t.transaction_id!)).out_trade_no).toBe('CFJ01-prepay-pay');
  });

  it('treats an identical prepay as re-entry and a changed one as INVALID_REQUEST; a paid order is ORDERPAID', async () => {
    const a = expectOk(await prepay('CFJ01-reentry'));
    const b = expectOk(await prepay('CFJ01-reentry'));
    expect(b.prepayId).toBe(a.prepayId);
    expect(expectFail(await prepay('CFJ01-reentry', 999))).toMatchObject({ outcome: 'rejected', httpStatus: 400, code: 'INVALID_REQUEST', retryable: false });
    emu.emulator.pay(b.requestPayment);
    expect(expectFail(await prepay('CFJ01-reentry'))).toMatchObject({ code: 'ORDERPAID' });
  });

  it('closes with 204 (also for unknown numbers) and refuses to close a paid order', async () => {
    expectOk(await prepay('CFJ01-close'));
    expectOk(await client.close('CFJ01-close'));
    expectOk(await client.close('CFJ01-close'));
    expectOk(await client.close('CFJ01-never-existed'));
    expect(expectOk(await client.queryByOutTradeNo('CFJ01-close')).trade_state).toBe('CLOSED');
    const paid = expectOk(await prepay('CFJ01-close-paid'));
    emu.emulator.pay(paid.requestPayment);
    expect(expectFail(await client.close('CFJ01-close-paid'))).toMatchObject({ code: 'ORDER_PAID', outcome: 'rejected' });
  });

  it('refunds partially, idempotently by out_refund_no, never beyond the paid total', async () => {
    const p = expectOk(await prepay('CFJ01-refund', 1000));
    emu.emulator.pay(p.requestPayment);
    const r = expectOk(await client.refund({ outRefundNo: 'R1-refund', outTradeNo: 'CFJ01-refund', refundFen: 600, totalFen: 1000 }));
    expect(r.status).toBe('PROCESSING');
    expect(expectOk(await client.refund({ outRefundNo: 'R1-refund', outTradeNo: 'CFJ01-refund', refundFen: 600, totalFen: 1000 })).refund_id).toBe(r.refund_id);
    expect(expectFail(await client.refund({ outRefundNo: 'R2-refund', outTradeNo: 'CFJ01-refund', refundFen: 401, totalFen: 1000 }))).toMatchObject({ code: 'INVALID_REQUEST' });
    expectOk(await client.refund({ outRefundNo: 'R3-refund', outTradeNo: 'CFJ01-refund', refundFen: 400, totalFen: 1000 }));
    await new Promise((res) => setTimeout(res, 50));
    expect(expectOk(await client.queryRefund('R1-refund')).status).toBe('SUCCESS');
    expect(expectFail(await client.refund({ outRefundNo: 'R4', outTradeNo: 'CFJ01-unpaid', refundFen: 1, totalFen: 1 }))).toMatchObject({ httpStatus: 404, code: 'RESOURCE_NOT_EXISTS' });
  });

  it('turns WeChat errors into typed failures: 404, 429, 500, timeout', async () => {
    expect(expectFail(await client.queryByOutTradeNo('CFJ01-missing'))).toMatchObject({ outcome: 'rejected', httpStatus: 404, code: 'ORDER_NOT_EXIST', retryable: false });
    emu.emulator.injectApiFault('query', { kind: 'status', status: 429 });
    expect(expectFail(await client.queryByOutTradeNo('CFJ01-missing'))).toMatchObject({ outcome: 'rejected', httpStatus: 429, code: 'FREQUENCY_LIMITED', retryable: true });
    emu.emulator.injectApiFault('jsapi', { kind: 'status', status: 500 });
    const f = expectFail(await prepay('CFJ01-500'));
    expect(f).toMatchObject({ outcome: 'unknown', httpStatus: 500, code: 'SYSTEM_ERROR', retryable: true });
    expect(f.requestId).toMatch(/-\d+$/);
    const fast = new WechatPayV3Client({ config: emu.config({ requestTimeoutMs: 200 }) });
    emu.emulator.injectApiFault('jsapi', { kind: 'timeout_after' });
    expect(expectFail(await fast.jsapiPrepay({ outTradeNo: 'CFJ01-timeout', description: 'x', amountFen: 1, openid, notifyUrl: 'https://m.example/n' }))).toMatchObject({ outcome: 'unknown', code: 'TIMEOUT', retryable: true });
    // The order exists although the client saw a timeout: that is why unknown outcomes are queried first.
    expect(expectOk(await client.queryByOutTradeNo('CFJ01-timeout')).trade_state).toBe('NOTPAY');
  });

  it('gets 401 SIGN_ERROR when the Authorization names a merchant other than the signing key', async () => {
    // wechatpay.md §13: every Authorization check (mchid, serial, window, signature) fails as 401 SIGN_ERROR.
    const other = String(Number(emu.merchant.mchid) + 1);
    const path = `/v3/pay/transactions/out-trade-no/CFJ01-missing?mchid=${other}`;
    const raw = rawLibrary(emu);
    const ts = String(Math.floor(Date.now() / 1000));
    const auth = raw.getAuthorization('n2', ts, raw.getSignature('GET', 'n2', ts, path)).replace(`mchid="${emu.merchant.mchid}"`, `mchid="${other}"`);
    const res = await fetch(`${emu.baseUrl}${path}`, { headers: { Authorization: auth } });
    expect(res.status).toBe(401);
    expect((await res.json()) as unknown).toMatchObject({ code: 'SIGN_ERROR', detail: { field: 'signature', location: 'authorization', detail: { issue: 'mchid not found' }, sign_information: { method: 'GET', url: path } } });
    const wrong = new WechatPayV3Client({ config: emu.config({ mchid: other }) });
    expect(expectFail(await wrong.queryByOutTradeNo('CFJ01-missing'))).toMatchObject({ httpStatus: 401, code: 'SIGN_ERROR', outcome: 'rejected', retryable: false });
  });

  it('gets 401 SIGN_ERROR for a stale request timestamp', async () => {
    const path = `/v3/pay/transactions/out-trade-no/CFJ01-missing?mchid=${emu.merchant.mchid}`;
    const raw = rawLibrary(emu);
    const ts = String(Math.floor(Date.now() / 1000) - 600);
    const res = await fetch(`${emu.baseUrl}${path}`, { headers: { Authorization: raw.getAuthorization('n1', ts, raw.getSignature('GET', 'n1', ts, path)) } });
    expect(res.status).toBe(401);
    expect((await res.json()) as unknown).toMatchObject({ code: 'SIGN_ERROR', detail: { detail: { issue: 'timestamp expired' } } });
    // Our client with a clock 10 minutes behind is refused too, and also distrusts WeChat's "future" answer.
    const stale = new WechatPayV3Client({ config: emu.config(), clock: new SimulatedClock(Date.now() - 10 * 60_000) });
    expect(expectFail(await stale.queryByOutTradeNo('CFJ01-missing'))).toMatchObject({ httpStatus: 401, outcome: 'unknown' });
  });

  describe('defect guards (each check fails on the raw wechatpay-node-v3)', () => {
    it('signs a bodiless POST with the final empty line (the raw library gets 401)', async () => {
      const path = '/v3/pay/transactions/out-trade-no/CFJ01-bodiless/close';
      const raw = rawLibrary(emu);
      const nonce = nonceStr(16);
      const ts = String(Math.floor(Date.now() / 1000));
      const authz = raw.getAuthorization(nonce, ts, raw.getSignature('POST', nonce, ts, path));
      const res = await fetch(`${emu.baseUrl}${path}`, { method: 'POST', headers: { Authorization: authz, Accept: 'application/json' } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('SIGN_ERROR');
      // Ours passes authentication; WeChat then complains about the missing mchid, not the signature.
      expect(expectFail(await client.request('POST', path))).toMatchObject({ httpStatus: 400, code: 'PARAM_ERROR' });
      expect(expectFail(await client.request('DELETE', '/v3/anything'))).toMatchObject({ httpStatus: 404 });
    });

    it.each(['no_signature', 'bad_signature', 'stale_timestamp'] as const)('rejects a response with %s (the raw library accepts it)', async (response) => {
      const p = expectOk(await prepay('CFJ01-forged-resp'));
      emu.emulator.injectApiFault('query', { kind: 'response', response });
      const raw = (await rawLibrary(emu).query({ out_trade_no: 'CFJ01-forged-resp' })) as { status: number; data?: { trade_state?: string } };
      expect(raw.status).toBe(200);
      expect(raw.data?.trade_state).toBe('NOTPAY');
      emu.emulator.injectApiFault('query', { kind: 'response', response });
      expect(expectFail(await client.queryByOutTradeNo('CFJ01-forged-resp'))).toMatchObject({ outcome: 'unknown', code: 'RESPONSE_SIGNATURE', retryable: true });
      expect(p.prepayId).toBeTruthy();
    });

    it('checks the AES-GCM tag (the raw decipher_gcm accepts a tampered tag and a wrong AAD)', () => {
      const key = emu.merchant.apiV3Key;
      const nonce = nonceStr(12);
      const ct = aeadEncrypt(JSON.stringify({ trade_state: 'SUCCESS' }), key, nonce, 'transaction');
      const tampered = Buffer.from(ct, 'base64');
      tampered[tampered.length - 1]! ^= 1;
      const raw = rawLibrary(emu);
      expect(raw.decipher_gcm(tampered.toString('base64'), 'transaction', nonce, key)).toEqual({ trade_state: 'SUCCESS' });
      expect(raw.decipher_gcm(ct, 'wrong-aad', nonce, key)).toEqual({ trade_state: 'SUCCESS' });
      expect(aeadDecrypt(tampered.toString('base64'), key, nonce, 'transaction')).toEqual({ ok: false, reason: 'tag_mismatch' });
      expect(aeadDecrypt(ct, key, nonce, 'wrong-aad')).toEqual({ ok: false, reason: 'tag_mismatch' });
      expect(aeadDecrypt(ct, key, nonce, 'transaction')).toEqual({ ok: true, plaintext: '{"trade_state":"SUCCESS"}' });
    });

    it('verifies in WeChat Pay public-key mode (the raw verifySign cannot: issue #73)', async () => {
      const ts = String(Math.floor(Date.now() / 1000));
      const body = '{"id":"EV-1"}';
      const signature = rsaSign(responseSigningString(ts, 'N1', body), createPrivateKey(emu.merchant.platformPrivateKeyPem));
      const raw = rawLibrary(emu);
      await expect(raw.verifySign({ timestamp: ts, nonce: 'N1', body, serial: emu.merchant.platformPublicKeyId, signature })).rejects.toThrow();
      const headers = { 'wechatpay-timestamp': ts, 'wechatpay-nonce': 'N1', 'wechatpay-serial': emu.merchant.platformPublicKeyId, 'wechatpay-signature': signature };
      expect(verifyWechatpaySignature(headers, body, client.keys, Date.now())).toEqual({ ok: true, serial: emu.merchant.platformPublicKeyId });
    });

    it('enforces the 5-minute window and rejects SIGNTEST probes (the raw verifySign checks neither)', async () => {
      const key = createPrivateKey(emu.merchant.platformPrivateKeyPem);
      const id = emu.merchant.platformPublicKeyId;
      const old = String(Math.floor(Date.now() / 1000) - 301);
      const body = '{}';
      const stale = { 'wechatpay-timestamp': old, 'wechatpay-nonce': 'N', 'wechatpay-serial': id, 'wechatpay-signature': rsaSign(responseSigningString(old, 'N', body), key) };
      expect(verifyWechatpaySignature(stale, body, client.keys, Date.now())).toEqual({ ok: false, reason: 'stale_timestamp' });
      // The raw library, given the key the only way it can hold one, says yes to the stale message.
      (Pay as unknown as { certificates: Record<string, string> }).certificates[id] = emu.merchant.platformPublicKeyPem;
      await expect(rawLibrary(emu).verifySign({ timestamp: old, nonce: 'N', body, serial: id, signature: stale['wechatpay-signature'] })).resolves.toBe(true);
      const probe = { ...stale, 'wechatpay-timestamp': String(Math.floor(Date.now() / 1000)), 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abc' };
      expect(verifyWechatpaySignature(probe, body, client.keys, Date.now())).toEqual({ ok: false, reason: 'signature_probe' });
      expect(verifyWechatpaySignature({ ...probe, 'wechatpay-signature': 'bm9wZQ==' }, body, client.keys, Date.now())).toEqual({ ok: false, reason: 'bad_signature' });
      expect(verifyWechatpaySignature({ ...probe, 'wechatpay-signature': 'bm9wZQ==', 'wechatpay-serial': 'PUB_KEY_ID_X' }, body, client.keys, Date.now())).toEqual({ ok: false, reason: 'unknown_serial' });
    });
  });

  it('downloads the trade bill and checks its hash', async () => {
    const p = expectOk(await prepay('CFJ01-bill', 1234));
    emu.emulator.pay(p.requestPayment);
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const csv = expectOk(await client.tradeBill(today));
    expect(csv).toContain('`CFJ01-bill');
    expect(csv).toContain('`12.34');
    expect(csv.split('\r\n')[0]).toMatch(/^交易时间,/);
  });
});

describe('platform-certificate and switching modes', () => {
  it('downloads platform certificates (tag checked) and verifies answers signed with the certificate key', async () => {
    const emu = await startTestEmulator({ platformMode: 'certificate' });
    try {
      const client = new WechatPayV3Client({ config: emu.config({ platformPublicKeyId: undefined, platformPublicKey: undefined, platformCertificates: true }) });
      expect(expectOk(await client.loadPlatformCertificates())).toEqual([emu.merchant.platformCertSerial]);
      expect(expectFail(await client.queryByOutTradeNo('CFJ01-none'))).toMatchObject({ code: 'ORDER_NOT_EXIST' });
      // A public-key-only client cannot verify certificate-signed answers.
      const pubOnly = new WechatPayV3Client({ config: emu.config() });
      expect(expectFail(await pubOnly.queryByOutTradeNo('CFJ01-none'))).toMatchObject({ code: 'RESPONSE_SIGNATURE' });
    } finally {
      await emu.close();
    }
  });

  it('in switching mode holds both keys and follows Wechatpay-Serial', async () => {
    const emu = await startTestEmulator({ platformMode: 'switching' });
    try {
      const client = new WechatPayV3Client({ config: emu.config({ platformCertificates: true }) });
      expectOk(await client.loadPlatformCertificates());
      expect(client.keys.serials().sort()).toEqual([emu.merchant.platformCertSerial, emu.merchant.platformPublicKeyId].sort());
      expect(expectFail(await client.queryByOutTradeNo('CFJ01-none'))).toMatchObject({ code: 'ORDER_NOT_EXIST' });
      const keys = new PlatformKeyRing().addCertificate(emu.merchant.platformCertPem);
      expect(keys.get(emu.merchant.platformCertSerial.toLowerCase(), Date.now())).toBeDefined();
    } finally {
      await emu.close();
    }
  });
});
