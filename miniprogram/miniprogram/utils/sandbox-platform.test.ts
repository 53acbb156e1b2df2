import * as fs from 'fs';
import * as path from 'path';
import { SANDBOX_WECHAT_PATH } from '../../../contracts/shopper-api';
import { FakePlatform } from '../test/fake-platform';
import type { RequestFn } from './api';
import { configFor, defaultConfig, developmentConfig } from './config';
import { SANDBOX_WECHAT_PATH_VALUE, sandboxPlatform } from './sandbox-platform';

/** The service's sandbox route and the emulator's control API, as far as the development platform uses them. */
function sandbox() {
  const calls: Array<{ url: string; data?: unknown }> = [];
  let seq = 0;
  const request: RequestFn = async (req) => {
    calls.push({ url: req.url, ...(req.data !== undefined ? { data: req.data } : {}) });
    if (req.url === `http://127.0.0.1:8080${SANDBOX_WECHAT_PATH}`) return { statusCode: 200, data: { baseUrl: 'http://127.0.0.1:41234' } };
    const path = req.url.replace('http://127.0.0.1:41234/__control/', '');
    const body = (req.data ?? {}) as Record<string, string>;
    switch (path) {
      case 'login-code':
        return { statusCode: 200, data: { code: `code-${++seq}`, openid: body['openid'] ?? 'o-sandbox-1' } };
      case 'phone-code':
        return { statusCode: 200, data: { code: `phone-${++seq}` } };
      case 'pay':
        return body['paySign'] === 'good' ? { statusCode: 200, data: { errMsg: 'requestPayment:ok' } } : { statusCode: 400, data: { errMsg: 'paySign invalid' } };
      case 'subscribe':
        return { statusCode: 200, data: { [body['templateId']!]: 'accept' } };
      case 'papay/sign':
        return { statusCode: 200, data: { contract_id: 'c-1' } };
      default:
        return { statusCode: 404, data: {} };
    }
  };
  const base = new FakePlatform();
  return { calls, base, platform: sandboxPlatform(base, request, 'http://127.0.0.1:8080') };
}

const PAY = { appId: 'wx0123456789abcdef', timeStamp: '1', nonceStr: 'n', package: 'prepay_id=1', signType: 'RSA' as const, paySign: 'good' };

describe('development configuration: DevTools against npm start', () => {
  test('the 开发版 points at the local service with the WeChat sandbox; other versions keep the deployment config', () => {
    expect(configFor('develop')).toMatchObject({ apiBaseUrl: 'http://127.0.0.1:8080', sandbox: true });
    expect(configFor('release')).toBe(defaultConfig);
    expect(configFor('trial')).toBe(defaultConfig);
    expect(developmentConfig.templates).toEqual(defaultConfig.templates);
    expect(SANDBOX_WECHAT_PATH_VALUE).toBe(SANDBOX_WECHAT_PATH);
  });

  test('DevTools skips the domain check only through the private (development) project settings', () => {
    const read = (f: string) => JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', f), 'utf8')) as { setting: { urlCheck: boolean } };
    expect(read('project.config.json').setting.urlCheck).toBe(true);
    expect(read('project.private.config.json').setting.urlCheck).toBe(false);
  });

  test('log-in codes come from the emulator (found through the service), and the shopper stays the same', async () => {
    const { platform, calls } = sandbox();
    expect(await platform.login()).toBe('code-1');
    expect(await platform.login()).toBe('code-2');
    expect(calls.filter((c) => c.url.endsWith('login-code')).map((c) => c.data)).toEqual([{}, { openid: 'o-sandbox-1' }]);
    expect(calls.filter((c) => c.url.endsWith(SANDBOX_WECHAT_PATH))).toHaveLength(1);
    expect(await platform.phoneCode?.()).toMatch(/^phone-/);
  });

  test('payment, subscribe consent and papay signing are played on the emulator', async () => {
    const { platform, calls } = sandbox();
    await platform.login();
    let ok = 0;
    expect(await platform.requestPayment(PAY, { onOk: () => ok++ })).toEqual({ kind: 'ok' });
    expect(ok).toBe(1);
    expect(calls.find((c) => c.url.endsWith('/pay'))?.data).toEqual(PAY);
    expect((await platform.requestPayment({ ...PAY, paySign: 'bad' })).kind).toBe('fail');
    expect(await platform.requestSubscribe(['t-1', 't-2'])).toEqual({ 't-1': 'accept', 't-2': 'accept' });
    expect(await platform.navigateToMiniProgram({ appId: 'wxbd687630cd02ce1d', path: 'p', extraData: { contract_code: 'c' } })).toBe(true);
    expect(calls.find((c) => c.url.endsWith('papay/sign'))?.data).toEqual({ openid: 'o-sandbox-1', extraData: { contract_code: 'c' } });
  });
});
