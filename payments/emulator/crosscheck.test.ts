import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aes, Formatter, Hash, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { startTestEmulator, type TestEmulator } from './testing';
import { until } from '../../test/until';

// FerretDB, RSA key generation and the emulator are slow on the shared 2-core machine.
jest.setTimeout(60_000);

/**
 * Cross-check: the emulator driven by an independent implementation, wechatpay-axios-plugin 0.9.6, which
 * signs its own requests, verifies every answer's signature (public-key and certificate modes), checks the
 * GCM tag when decrypting, and signs/verifies v2 XML. If the emulator and our client shared a mistake,
 * this suite would catch it.
 */

interface Captured {
  headers: Record<string, string>;
  body: string;
}

async function receiver(): Promise<{ server: Server; url: string; got: Captured[] }> {
  const got: Captured[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, got };
}


type AxiosLike = { status: number; data: Record<string, unknown> };
type Endpoint = { get(config?: object): Promise<AxiosLike>; post(data?: object, config?: object): Promise<AxiosLike> };
/** The SDK's chained API (`wxpay.v3.pay.transactions.jsapi`) walked by path, for the type checker. */
const at = (client: Wechatpay, path: string): Endpoint => path.split('/').reduce<unknown>((node, seg) => (node as Record<string, unknown>)[seg], client) as Endpoint;

describe('cross-check with wechatpay-axios-plugin (an independent SDK)', () => {
  let emu: TestEmulator;
  let wxpay: Wechatpay;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const openid = 'oCrossCheck00000000000001';

  beforeAll(async () => {
    emu = await startTestEmulator({ timeScale: 1000 });
    rx = await receiver();
    const m = emu.merchant;
    wxpay = new Wechatpay({
      mchid: m.mchid,
      serial: m.merchantSerial,
      privateKey: m.merchantPrivateKeyPem,
      certs: { [m.platformPublicKeyId]: m.platformPublicKeyPem },
      secret: m.apiV2Key,
      baseURL: `${emu.baseUrl}/`,
      headers: { 'Wechatpay-Serial': m.platformPublicKeyId },
    });
    emu.emulator.ensureUser(openid);
  });
  afterAll(async () => {
    await new Promise((r) => rx.server.close(r));
    await emu.close();
  });

  it('prepays, pays, queries, closes and refunds with answers the SDK verifies', async () => {
    const m = emu.merchant;
    const prepay = await at(wxpay, 'v3/pay/transactions/jsapi').post({ appid: m.appid, mchid: m.mchid, description: 'Cross', out_trade_no: 'XC-0001-pay', notify_url: rx.url, amount: { total: 520, currency: 'CNY' }, payer: { openid } });
    expect(prepay.status).toBe(200);
    const prepayId = prepay.data.prepay_id as string;
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = Formatter.nonce();
    const pkg = `prepay_id=${prepayId}`;
    const paySign = Rsa.sign(Formatter.joinedByLineFeed(m.appid, ts, nonce, pkg), m.merchantPrivateKeyPem);
    expect(emu.emulator.pay({ appId: m.appid, timeStamp: ts, nonceStr: nonce, package: pkg, signType: 'RSA', paySign })).toMatchObject({ ok: true });

    const q = await at(wxpay, 'v3/pay/transactions/outTradeNo/_out_trade_no_').get({ params: { mchid: m.mchid }, out_trade_no: 'XC-0001-pay' });
    expect(q.data).toMatchObject({ trade_state: 'SUCCESS', out_trade_no: 'XC-0001-pay', amount: { total: 520 } });

    await at(wxpay, 'v3/pay/transactions/jsapi').post({ appid: m.appid, mchid: m.mchid, description: 'Cross', out_trade_no: 'XC-0002-close', notify_url: rx.url, amount: { total: 1, currency: 'CNY' }, payer: { openid } });
    const closed = await at(wxpay, 'v3/pay/transactions/outTradeNo/_out_trade_no_/close').post({ mchid: m.mchid }, { out_trade_no: 'XC-0002-close' });
    expect(closed.status).toBe(204);

    const refund = await at(wxpay, 'v3/refund/domestic/refunds').post({ out_trade_no: 'XC-0001-pay', out_refund_no: 'XR-0001', amount: { refund: 20, total: 520, currency: 'CNY' } });
    expect(refund.data).toMatchObject({ status: 'PROCESSING', amount: { refund: 20 } });
  });

  it('decrypts and verifies the emulator notification with the SDK primitives; a tampered tag fails there too', async () => {
    await until(() => rx.got.some((g) => g.body.includes('TRANSACTION.SUCCESS')));
    const n = rx.got.find((g) => g.body.includes('TRANSACTION.SUCCESS'))!;
    const m = emu.merchant;
    expect(n.headers['wechatpay-serial']).toBe(m.platformPublicKeyId);
    expect(Rsa.verify(Formatter.response(n.headers['wechatpay-timestamp']!, n.headers['wechatpay-nonce']!, n.body), n.headers['wechatpay-signature']!, Rsa.from(m.platformPublicKeyPem, 'public'))).toBe(true);
    const env = JSON.parse(n.body) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
    const plain = JSON.parse(Aes.AesGcm.decrypt(env.resource.ciphertext, m.apiV3Key, env.resource.nonce, env.resource.associated_data)) as Record<string, unknown>;
    expect(plain).toMatchObject({ out_trade_no: 'XC-0001-pay', trade_state: 'SUCCESS', payer: { openid } });
    const raw = Buffer.from(env.resource.ciphertext, 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => Aes.AesGcm.decrypt(raw.toString('base64'), m.apiV3Key, env.resource.nonce, env.resource.associated_data)).toThrow();
  });

  it('is refused by the emulator when the SDK signs with the wrong key, and the SDK refuses forged answers', async () => {
    const m = emu.merchant;
    const other = new Wechatpay({ mchid: m.mchid, serial: m.merchantSerial, privateKey: m.platformPrivateKeyPem, certs: { [m.platformPublicKeyId]: m.platformPublicKeyPem }, baseURL: `${emu.baseUrl}/` });
    await expect(at(other, 'v3/pay/transactions/outTradeNo/_out_trade_no_').get({ params: { mchid: m.mchid }, out_trade_no: 'XC-0001-pay' })).rejects.toMatchObject({ response: { status: 401, data: { code: 'SIGN_ERROR' } } });
    emu.emulator.injectApiFault('query', { kind: 'response', response: 'bad_signature' });
    await expect(at(wxpay, 'v3/pay/transactions/outTradeNo/_out_trade_no_').get({ params: { mchid: m.mchid }, out_trade_no: 'XC-0001-pay' })).rejects.toThrow();
  });

  it('runs papay v2 (HMAC-SHA256 and MD5) through the SDK XML client, which verifies the answers', async () => {
    const m = emu.merchant;
    const c = emu.emulator.createContract(openid, { planId: m.planId, contractCode: 'XC-contract-1', requestSerial: '123', displayAccount: 'X', notifyUrl: rx.url });
    if ('error' in c) throw new Error(c.error);
    const q = await at(wxpay, 'v2/papay/querycontract').post({ appid: m.appid, mch_id: m.mchid, contract_id: c.contractId, version: '1.0', sign_type: Hash.ALGO_HMAC_SHA256 });
    expect(q.data).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', contract_id: c.contractId, contract_state: '0' });
    const apply = await at(wxpay, 'v2/pay/pappayapply').post({ appid: m.appid, mch_id: m.mchid, body: 'x', out_trade_no: 'XC-pap-0001', total_fee: 100, spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'PAP', contract_id: c.contractId });
    expect(apply.data).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS' });
    await until(() => emu.emulator.orders.get('XC-pap-0001')?.state === 'SUCCESS');
    const order = await at(wxpay, 'v2/pay/paporderquery').post({ appid: m.appid, mch_id: m.mchid, out_trade_no: 'XC-pap-0001' });
    expect(order.data).toMatchObject({ trade_state: 'SUCCESS', total_fee: '100' });
  });

  it('downloads platform certificates in certificate mode and verifies them with the SDK', async () => {
    const certEmu = await startTestEmulator({ platformMode: 'certificate' });
    try {
      const m = certEmu.merchant;
      const client = new Wechatpay({ mchid: m.mchid, serial: m.merchantSerial, privateKey: m.merchantPrivateKeyPem, certs: { [m.platformCertSerial]: m.platformCertPem }, baseURL: `${certEmu.baseUrl}/` });
      const res = (await at(client, 'v3/certificates').get()) as unknown as { data: { data: Array<{ serial_no: string; encrypt_certificate: { ciphertext: string; nonce: string; associated_data: string } }> } };
      const cert = res.data.data[0]!;
      expect(cert.serial_no).toBe(m.platformCertSerial);
      expect(Aes.AesGcm.decrypt(cert.encrypt_certificate.ciphertext, m.apiV3Key, cert.encrypt_certificate.nonce, cert.encrypt_certificate.associated_data)).toBe(m.platformCertPem);
    } finally {
      await certEmu.close();
    }
  });
});
