import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseV2Xml } from '../wechatpay/crypto';
import { PapayV2Client } from '../wechatpay/papay.client';
import { startTestEmulator, type TestEmulator } from './testing';
import { until } from '../../test/until';

// RSA key generation for the sandbox merchant is slow on the shared 2-core machine.
jest.setTimeout(60_000);

/**
 * WeChat sends a contract's signing result to the signing request's notify_url, and its termination to the
 * termination URL configured on the papay template (plan) in the merchant portal — whoever terminates it.
 */
describe('papay template: signing and termination notification URLs', () => {
  let emu: TestEmulator;
  let server: Server;
  let base: string;
  const got: Array<{ path: string; fields: Record<string, string> }> = [];
  const openid = 'oTemplate000000000000001';

  beforeAll(async () => {
    // No notifyBaseUrl in the client config below, so the test emulator leaves the template to this test.
    emu = await startTestEmulator({ timeScale: 1000 });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ path: req.url ?? '', fields: parseV2Xml(body) ?? {} });
        res.writeHead(200).end('<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emu.emulator.ensureUser(openid);
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await emu.close();
  });


  async function sign(papay: PapayV2Client, code: string): Promise<string> {
    const res = await fetch(`${emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid, extraData: papay.signingExtraData({ contractCode: code, requestSerial: '7', displayAccount: 'S' }) }) });
    return ((await res.json()) as { contract_id: string }).contract_id;
  }

  it('the sandbox merchant has a papay template with both URLs, set through the portal (control API)', async () => {
    const res = await fetch(`${emu.baseUrl}/__control/papay/template`, { method: 'POST', body: JSON.stringify({ signNotifyUrl: `${base}/template-signed`, terminationNotifyUrl: `${base}/terminated` }) });
    expect(await res.json()).toEqual({ planId: emu.merchant.planId, signNotifyUrl: `${base}/template-signed`, terminationNotifyUrl: `${base}/terminated` });
  });

  it('sends ADD to the signing notify_url and DELETE (user or merchant) to the template termination URL', async () => {
    const papay = new PapayV2Client({ config: emu.config({ notifyBaseUrl: `${base}/signing` }) });
    const byUser = await sign(papay, 'TPL-user-1');
    const byApi = await sign(papay, 'TPL-api-1');
    await until(() => got.filter((g) => g.fields.change_type === 'ADD').length === 2);
    expect(got.filter((g) => g.fields.change_type === 'ADD').map((g) => g.path)).toEqual(['/signing/payments/wechat/notify/contract', '/signing/payments/wechat/notify/contract']);
    await fetch(`${emu.baseUrl}/__control/papay/revoke`, { method: 'POST', body: JSON.stringify({ contract_id: byUser }) });
    const del = await papay.deleteContract({ contractId: byApi, remark: 'closing' });
    expect(del.ok).toBe(true);
    await until(() => got.filter((g) => g.fields.change_type === 'DELETE').length === 2);
    const deletes = got.filter((g) => g.fields.change_type === 'DELETE');
    expect(deletes.map((g) => [g.path, g.fields.contract_id, g.fields.contract_termination_mode])).toEqual(
      expect.arrayContaining([
        ['/terminated', byUser, '2'],
        ['/terminated', byApi, '3'],
      ]),
    );
  });

  it('without a termination URL on the template, a termination is not notified at all (query it)', async () => {
    await fetch(`${emu.baseUrl}/__control/papay/template`, { method: 'POST', body: JSON.stringify({ terminationNotifyUrl: null }) });
    const papay = new PapayV2Client({ config: emu.config({ notifyBaseUrl: `${base}/signing` }) });
    const id = await sign(papay, 'TPL-none-1');
    await until(() => got.some((g) => g.fields.contract_id === id));
    await fetch(`${emu.baseUrl}/__control/papay/revoke`, { method: 'POST', body: JSON.stringify({ contract_id: id }) });
    await emu.emulator.notifier.idle();
    expect(got.filter((g) => g.fields.contract_id === id).map((g) => g.fields.change_type)).toEqual(['ADD']);
    const q = await papay.queryContract({ contractId: id });
    expect(q.ok && q.value.state).toBe('terminated');
  });
});
