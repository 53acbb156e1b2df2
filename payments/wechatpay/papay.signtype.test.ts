import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseV2Xml, v2Sign } from './crypto';
import { PapayV2Client } from './papay.client';
import type { WechatConfig } from './wechat.config';

/**
 * What our papay client puts on the wire, read back by a bare HTTP server: every request signed MD5 with no
 * `sign_type` field (the one type the papay pages name, and no page lists the field: papay.signing.ts), the
 * signing extraData alike, and pay-and-sign's wx.requestPayment in the order's type.
 */
describe('papay client sign type on the wire', () => {
  const KEY = 'k'.repeat(32);
  const bodies: Array<{ path: string; fields: Record<string, string> }> = [];
  let server: Server;
  let client: PapayV2Client;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        bodies.push({ path: req.url ?? '', fields: parseV2Xml(body) ?? {} });
        res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<xml><return_code>FAIL</return_code><return_msg>captured</return_msg></xml>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const cfg = { appid: 'wx0123456789abcdef', mchid: '1900000109', planId: '12535', apiV2Key: KEY, payBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, notifyBaseUrl: 'https://merchant.example.com', requestTimeoutMs: 5000 } as unknown as WechatConfig;
    client = new PapayV2Client({ config: cfg });
  });
  afterAll(async () => new Promise((r) => server.close(r)));

  it('signs every papay request MD5 and names no sign_type', async () => {
    await client.apply({ outTradeNo: 'CFP01x', body: 'Snacks', totalFen: 350, contractId: '2000', attach: 'o-1' });
    await client.queryOrder('CFP01x');
    await client.queryContract({ contractId: '2000' });
    await client.deleteContract({ contractId: '2000', remark: 'bye' });
    await client.contractOrder({ outTradeNo: 'CFC01x', body: 'Snacks', totalFen: 350, openid: 'oX', contractCode: 'K1', requestSerial: '1', displayAccount: 'me' });
    expect(bodies.map((b) => b.path).sort()).toEqual(['/papay/deletecontract', '/papay/querycontract', '/pay/contractorder', '/pay/paporderquery', '/pay/pappayapply']);
    for (const { path, fields } of bodies) {
      expect([path, fields.sign_type]).toEqual([path, undefined]);
      const { sign, ...rest } = fields;
      expect([path, sign]).toEqual([path, v2Sign(rest, KEY, 'MD5')]);
      expect([path, sign]).not.toEqual([path, v2Sign(rest, KEY, 'HMAC-SHA256')]);
    }
  });

  it('signs the signing extraData MD5 over the raw notify_url, and pay-and-sign pays in the same type', () => {
    const x = client.signingExtraData({ contractCode: 'K2', requestSerial: '7', displayAccount: 'me' });
    expect(x.sign_type).toBeUndefined();
    const { sign, ...rest } = x;
    expect(sign).toBe(v2Sign({ ...rest, notify_url: decodeURIComponent(rest.notify_url!) }, KEY, 'MD5'));
    const p = client.requestPaymentFor('wx201410272009395522657a690389285100');
    expect(p.signType).toBe('MD5');
    const { paySign, ...signed } = p;
    expect(paySign).toBe(v2Sign(signed, KEY, 'MD5'));
  });
});
