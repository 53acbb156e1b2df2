import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseV2Xml, v2Sign, v2Verify, type V2SignType } from '../wechatpay/crypto';
import { CLIENT_SIGN_TYPE, PAPAY_SIGN_TYPES } from '../wechatpay/papay.signing';
import { startTestEmulator, type TestEmulator } from './testing';
import { until } from '../../test/until';

// RSA key generation for the sandbox merchant is slow on the shared 2-core machine.
jest.setTimeout(60_000);

/**
 * Sign types per papay API, as documented (papay.signing.ts), from the merchant's side: requests in each
 * type, answers and notifications checked in the type the request used (what an MD5-signing merchant's SDK
 * does — it knows no other key schedule).
 */

interface Got {
  path: string;
  fields: Record<string, string>;
}

async function receiver(): Promise<{ server: Server; url: string; got: Got[] }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ path: req.url ?? '', fields: parseV2Xml(body) ?? {} });
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}


describe('papay sign types per API', () => {
  let emu: TestEmulator;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const openid = 'oSignTypes00000000000001';

  beforeAll(async () => {
    emu = await startTestEmulator({ timeScale: 1000 });
    rx = await receiver();
    emu.emulator.ensureUser(openid);
  });
  afterAll(async () => {
    await new Promise((r) => rx.server.close(r));
    await emu.close();
  });

  /** A request the way a merchant SDK signs it: `sign_type` named unless MD5 is meant by its absence. */
  async function call(path: string, fields: Record<string, string>, signType: V2SignType, nameType = signType !== 'MD5'): Promise<Record<string, string>> {
    const m = emu.merchant;
    const req = { appid: m.appid, mch_id: m.mchid, nonce_str: 'NONCE123', ...fields, ...(nameType ? { sign_type: signType } : {}) };
    const xml = `<xml>${Object.entries({ ...req, sign: v2Sign(req, m.apiV2Key, signType) })
      .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
      .join('')}</xml>`;
    const res = await fetch(`${emu.baseUrl}${path}`, { method: 'POST', body: xml });
    return parseV2Xml(await res.text())!;
  }

  async function signContract(code: string, signType: V2SignType): Promise<string> {
    const m = emu.merchant;
    const x: Record<string, string> = { appid: m.appid, mch_id: m.mchid, plan_id: m.planId, contract_code: code, request_serial: '42', contract_display_account: 'S', notify_url: `${rx.url}/signed`, timestamp: String(Math.floor(Date.now() / 1000)), ...(signType === 'HMAC-SHA256' ? { sign_type: signType } : {}) };
    const res = await fetch(`${emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid, extraData: { ...x, notify_url: encodeURIComponent(x.notify_url!), sign: v2Sign(x, m.apiV2Key, signType) } }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { contract_id: string }).contract_id;
  }

  it('deletecontract verifies MD5 only: an HMAC-SHA256-signed termination is refused, an MD5 one done and answered in MD5', async () => {
    expect(PAPAY_SIGN_TYPES['/papay/deletecontract']).toEqual(['MD5']);
    // Our client signs every papay request MD5, deletecontract included.
    expect(CLIENT_SIGN_TYPE).toBe('MD5');
    const contractId = await signContract('ST-del-1', 'HMAC-SHA256');
    const hmac = await call('/papay/deletecontract', { contract_id: contractId, contract_termination_remark: 'x', version: '1.0' }, 'HMAC-SHA256');
    expect(hmac).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
    expect(emu.emulator.contracts.get(contractId)?.state).toBe('SIGNED');
    const md5 = await call('/papay/deletecontract', { contract_id: contractId, contract_termination_remark: 'x', version: '1.0' }, 'MD5');
    expect(md5).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', contract_id: contractId });
    expect(v2Verify(md5, emu.merchant.apiV2Key, 'MD5')).toBe(true);
    expect(emu.emulator.contracts.get(contractId)?.state).toBe('TERMINATED');
  });

  it.each(['MD5', 'HMAC-SHA256'] as const)('a contract signed with %s is notified (ADD) in %s, without a sign_type field', async (signType) => {
    const contractId = await signContract(`ST-add-${signType}`, signType);
    await until(() => rx.got.some((g) => g.fields.contract_id === contractId));
    const n = rx.got.find((g) => g.fields.contract_id === contractId)!.fields;
    expect(n).toMatchObject({ change_type: 'ADD', contract_code: `ST-add-${signType}` });
    expect(n.sign_type).toBeUndefined();
    expect(v2Verify(n, emu.merchant.apiV2Key, signType)).toBe(true);
    expect(v2Verify(n, emu.merchant.apiV2Key, signType === 'MD5' ? 'HMAC-SHA256' : 'MD5')).toBe(false);
  });

  it.each(['MD5', 'HMAC-SHA256'] as const)('a deduction requested in %s is answered and notified in it, with exactly the notification page fields', async (signType) => {
    const contractId = await signContract(`ST-pap-${signType}`, 'HMAC-SHA256');
    const no = `STPAP${signType.replace('-', '')}`;
    const apply = await call('/pay/pappayapply', { body: 'x', out_trade_no: no, total_fee: '100', spbill_create_ip: '127.0.0.1', notify_url: `${rx.url}/pap`, trade_type: 'PAP', contract_id: contractId }, signType);
    expect(apply).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS' });
    expect(v2Verify(apply, emu.merchant.apiV2Key, signType)).toBe(true);
    await until(() => rx.got.some((g) => g.fields.out_trade_no === no));
    const n = rx.got.find((g) => g.fields.out_trade_no === no)!.fields;
    expect(Object.keys(n).sort()).toEqual(['appid', 'attach', 'bank_type', 'cash_fee', 'contract_id', 'fee_type', 'is_subscribe', 'mch_id', 'nonce_str', 'openid', 'out_trade_no', 'result_code', 'return_code', 'sign', 'time_end', 'total_fee', 'trade_state', 'transaction_id'].filter((k) => k !== 'attach'));
    expect(v2Verify(n, emu.merchant.apiV2Key, signType)).toBe(true);
    expect(v2Verify(n, emu.merchant.apiV2Key, signType === 'MD5' ? 'HMAC-SHA256' : 'MD5')).toBe(false);
    const q = await call('/pay/paporderquery', { out_trade_no: no }, signType);
    expect(q).toMatchObject({ trade_state: 'SUCCESS' });
    expect(v2Verify(q, emu.merchant.apiV2Key, signType)).toBe(true);
  });

  it('refuses a sign type an API does not take, and an MD5 request that says nothing verifies as MD5', async () => {
    expect(await call('/papay/querycontract', { contract_id: '1', version: '1.0' }, 'MD5', true)).toMatchObject({ return_code: 'SUCCESS' });
    const odd = await call('/papay/querycontract', { contract_id: '1', version: '1.0', sign_type: 'SHA1' }, 'MD5', false);
    expect(odd).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
  });
});
