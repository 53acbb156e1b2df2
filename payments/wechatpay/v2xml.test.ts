import { buildV2Xml, parseV2Xml, v2Sign, V2_XML_MAX_BYTES } from './crypto';
import { decodeV2Notification } from './notifications';
import { startTestEmulator, type TestEmulator } from '../emulator/testing';

// RSA key generation for the emulator's sandbox merchant is slow on the shared 2-core machine.
jest.setTimeout(60_000);

const KEY = 'k'.repeat(32);
const cfg = { mchid: '1900000109', apiV2Key: KEY };

/** A document the way wechatpy and WeChat's own samples print one: declaration, newlines, indentation, CDATA. */
function pretty(fields: Record<string, string>): string {
  const lines = Object.entries(fields).map(([k, v]) => `    <${k}><![CDATA[${v}]]></${k}>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n${lines.join('\n')}\n</xml>\n`;
}

describe('v2 XML is read as WeChat reads it', () => {
  const notice = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    mch_id: cfg.mchid,
    contract_code: 'CC 1 & <2>',
    plan_id: '12535',
    openid: 'onqOjjmM1tad-3ROpncN-yUfa6uI',
    change_type: 'ADD',
    operate_time: '20260102150405',
    contract_id: '201509160000028648',
    contract_expired_time: '20310102150405',
    request_serial: '1695',
  };

  it('verifies a pretty-printed, CDATA-wrapped contract notification (the whitespace is not a field)', () => {
    const sign = v2Sign(notice, KEY, 'MD5');
    const xml = pretty({ ...notice, sign });
    expect(parseV2Xml(xml)).toEqual({ ...notice, sign });
    const decoded = decodeV2Notification(xml, cfg, 'contract');
    expect(decoded).toEqual({ ok: true, event: expect.objectContaining({ type: 'ContractChanged', change: 'ADD', contractCode: 'CC 1 & <2>' }) });
  });

  it('verifies a pretty-printed deduction result in the type our deductions are signed with, or the sign_type it names', () => {
    const result = { return_code: 'SUCCESS', result_code: 'SUCCESS', mch_id: cfg.mchid, appid: 'wx0123456789abcdef', out_trade_no: 'CFP01-x', trade_state: 'SUCCESS', total_fee: '450', nonce_str: 'n' };
    const md5 = pretty({ ...result, sign: v2Sign(result, KEY, 'MD5') });
    expect(decodeV2Notification(md5, cfg, 'papay')).toMatchObject({ ok: true, event: { type: 'TradeResultNotified', order: { outTradeNo: 'CFP01-x', totalFee: 450 } } });
    const hmacFields = { ...result, sign_type: 'HMAC-SHA256' };
    expect(decodeV2Notification(pretty({ ...hmacFields, sign: v2Sign(hmacFields, KEY, 'HMAC-SHA256') }), cfg, 'papay')).toMatchObject({ ok: true });
    // HMAC-SHA256-signed without saying so (a deduction sent, or a contract signed, while our client signed
    // HMAC): told by the sign's 64 digits, and verified as such.
    expect(decodeV2Notification(pretty({ ...result, sign: v2Sign(result, KEY, 'HMAC-SHA256') }), cfg, 'papay')).toMatchObject({ ok: true });
    expect(decodeV2Notification(pretty({ ...notice, sign: v2Sign(notice, KEY, 'HMAC-SHA256') }), cfg, 'contract')).toMatchObject({ ok: true });
    // Only the key makes a sign that verifies, in either type, and a sign_type named wins over the length.
    expect(decodeV2Notification(pretty({ ...notice, sign: v2Sign(notice, 'x'.repeat(32), 'HMAC-SHA256') }), cfg, 'contract')).toEqual({ ok: false, reason: 'bad_sign' });
    expect(decodeV2Notification(pretty({ ...result, sign: v2Sign(result, 'x'.repeat(32), 'MD5') }), cfg, 'papay')).toEqual({ ok: false, reason: 'bad_sign' });
    const namedMd5 = { ...result, sign_type: 'MD5' };
    expect(decodeV2Notification(pretty({ ...namedMd5, sign: v2Sign({ ...namedMd5, sign_type: 'HMAC-SHA256' }, KEY, 'HMAC-SHA256') }), cfg, 'papay')).toEqual({ ok: false, reason: 'bad_sign' });
  });

  it('keeps a value exactly as written: whitespace inside a value, CDATA literally, entities and numeric references decoded', () => {
    expect(parseV2Xml('<xml>\n <a><![CDATA[ x &amp; y ]]></a>\n <b> 1 &amp; 2 &lt;3&gt; &#20013;&#x6587; </b>\r\n\t<c></c><d/><e>pre<![CDATA[<mid>]]>post</e>\n</xml>')).toEqual({
      a: ' x &amp; y ',
      b: ' 1 & 2 <3> 中文 ',
      c: '',
      d: '',
      e: 'pre<mid>post',
    });
    // Numbers stay strings: a total_fee of 010 is not 10, and the signature is over the text.
    expect(parseV2Xml('<xml><total_fee>010</total_fee></xml>')).toEqual({ total_fee: '010' });
  });

  it('refuses DOCTYPEs and entity declarations (no external entities, no expansion), oversize and malformed documents', () => {
    expect(parseV2Xml('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>')).toBeUndefined();
    expect(parseV2Xml('<!DOCTYPE xml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><a>&b;</a></xml>')).toBeUndefined();
    expect(parseV2Xml('<xml><a>&unknown;</a></xml>')).toBeUndefined();
    expect(parseV2Xml(`<xml><a>${'x'.repeat(V2_XML_MAX_BYTES)}</a></xml>`)).toBeUndefined();
    expect(parseV2Xml('<xml><a>1</a>')).toBeUndefined();
    expect(parseV2Xml('<xml><a>1</a><a>2</a></xml>')).toBeUndefined();
    expect(parseV2Xml('<xml><a><b>1</b></a></xml>')).toBeUndefined();
    expect(parseV2Xml('<xml>stray<a>1</a></xml>')).toBeUndefined();
    expect(parseV2Xml('<other><a>1</a></other>')).toBeUndefined();
    expect(parseV2Xml('<xml><a>1</a></xml><xml><a>2</a></xml>')).toBeUndefined();
    expect(parseV2Xml('not xml')).toBeUndefined();
  });

  it('round-trips what buildV2Xml writes, including markup inside values', () => {
    const f = { a: 'x]]>y', b: '<&>', c: '  spaced  ' };
    expect(parseV2Xml(buildV2Xml(f))).toEqual(f);
  });

  describe('the emulator', () => {
    let emu: TestEmulator;
    beforeAll(async () => {
      emu = await startTestEmulator();
    });
    afterAll(async () => {
      await emu.close();
    });

    it('accepts a pretty-printed MD5-signed request (wechatpy prints them so) and answers it signed', async () => {
      const m = emu.merchant;
      const req = { appid: m.appid, mch_id: m.mchid, contract_id: '2000000000000000000', version: '1.0', nonce_str: 'N0NCE' };
      const res = await fetch(`${emu.baseUrl}/papay/querycontract`, { method: 'POST', body: pretty({ ...req, sign: v2Sign(req, m.apiV2Key, 'MD5') }) });
      const f = parseV2Xml(await res.text());
      expect(f).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'CONTRACT_NOT_EXIST' });
      expect(f!.sign).toBe(v2Sign(f!, m.apiV2Key, 'MD5'));
    });
  });
});
