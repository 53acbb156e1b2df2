import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateSandboxMerchant } from './merchant';
import { WechatEmulator } from './emulator';
import { buildEmulatorApp } from './server';
import { startTestEmulator, type TestEmulator } from './testing';
import { parseV2Xml } from '../wechatpay/crypto';
import { WechatPayV3Client } from '../wechatpay/v3.client';

// RSA key generation for the sandbox merchant is slow on the shared 2-core machine.
jest.setTimeout(60_000);

describe('emulator routes', () => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator();
  });
  afterAll(async () => {
    await emu.close();
  });

  it('documents every route it serves in its README', async () => {
    const routes: string[] = [];
    const app = buildEmulatorApp(new WechatEmulator({ keys: loadOrCreateSandboxMerchant(emu.dataDir), clock: emu.emulator.clock, timeScale: 1, platformMode: 'public_key', publicBaseUrl: () => '' }), (method, url) => routes.push(`${method} ${url}`));
    await app.ready();
    const readme = readFileSync(join(__dirname, 'README.md'), 'utf8');
    const undocumented = routes.filter((r) => {
      const [method, url] = r.split(' ') as [string, string];
      if (url.startsWith('/__control/')) return !readme.includes(url.replace(/^\/__control\//, '/__control/'));
      if (url === '/v3/*') return !readme.includes('`* /v3/*`');
      return !readme.includes(`\`${method} ${url}\``);
    });
    expect(undocumented).toEqual([]);
    expect(routes.length).toBeGreaterThan(30);
    await app.close();
  });

  it('answers unknown routes as WeChat does: v3 authenticated then 404, v2 XML FAIL, mini-program errcode', async () => {
    const v3 = new WechatPayV3Client({ config: emu.config() });
    expect(await v3.request('GET', '/v3/no/such/thing')).toMatchObject({ ok: false, failure: { httpStatus: 404, code: 'RESOURCE_NOT_EXISTS' } });
    expect((await fetch(`${emu.baseUrl}/v3/no/such/thing`)).status).toBe(401);
    const mp = await fetch(`${emu.baseUrl}/wxa/no_such_api`, { method: 'POST', body: '{}' });
    expect(mp.status).toBe(404);
    expect(await mp.json()).toEqual({ errcode: 40066, errmsg: 'invalid url' });
    const v2 = await fetch(`${emu.baseUrl}/pay/unifiedorder`, { method: 'POST', body: '<xml></xml>' });
    expect(v2.status).toBe(404);
    expect(parseV2Xml(await v2.text())).toMatchObject({ return_code: 'FAIL' });
  });
});
