import { startTestEmulator, type TestEmulator } from '../emulator/testing';
import { pngText } from '../../common/png';
import { MiniProgramClient } from './miniprogram.client';

// RSA key generation for the sandbox merchant is slow on the shared 2-core machine.
jest.setTimeout(60_000);

describe('mini-program client against the emulator', () => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator();
    emu.emulator.ensureUser('oMiniClient0000000000001');
  });
  afterAll(async () => {
    await emu.close();
  });

  it('takes its access token from stable_token, caches it, and forces a fresh one after WeChat refused it', async () => {
    const mp = new MiniProgramClient({ config: emu.config() });
    const first = await mp.accessToken();
    expect(first.ok).toBe(true);
    expect(await mp.accessToken()).toEqual(first);
    expect(emu.emulator.stableTokenRequests).toBe(1);
    // Another server asking in normal mode gets the same token, not a new one that would void ours.
    expect(await new MiniProgramClient({ config: emu.config() }).accessToken()).toEqual(first);
    // The token dies at WeChat (e.g. a forced refresh elsewhere): the next call refreshes by force.
    emu.emulator.accessTokens.clear();
    const phone = await mp.phoneNumber('no-such-code');
    expect(phone).toMatchObject({ ok: false, errcode: 40001 });
    const again = await mp.accessToken();
    expect(again.ok && first.ok && again.value !== first.value).toBe(true);
    expect(emu.emulator.stableTokenForcedToday).toBe(1);
  });

  it('makes a mini-program code (PNG) whose scene opens the cabinet, and refuses a scene over 32 characters', async () => {
    const mp = new MiniProgramClient({ config: emu.config() });
    const r = await mp.wxacodeUnlimit({ scene: 'SH-AUTO-09.a', page: 'pages/index/index', width: 300 });
    if (!r.ok) throw new Error(r.errmsg);
    expect(r.value.contentType).toBe('image/png');
    expect(r.value.image.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(r.value.image.readUInt32BE(16)).toBe(300);
    expect(pngText(r.value.image)).toEqual({ scene: 'SH-AUTO-09.a', page: 'pages/index/index' });
    expect(await mp.wxacodeUnlimit({ scene: 'X'.repeat(33), page: 'pages/index/index' })).toMatchObject({ ok: false, errcode: 40129 });
    expect(await mp.wxacodeUnlimit({ scene: 'bad scene', page: 'pages/index/index' })).toMatchObject({ ok: false, errcode: 40129 });
    expect(await mp.wxacodeUnlimit({ scene: 'A.a', page: '/pages/index/index' })).toMatchObject({ ok: false, errcode: 41030 });
  });
});
