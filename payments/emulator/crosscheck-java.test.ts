import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startTestEmulator, type TestEmulator } from './testing';

/**
 * Cross-check of papay v2 and the mini-program server APIs with WxJava 4.7.0 (weixin-java-pay and
 * weixin-java-miniapp, Java): a second, independent, widely used implementation in another language,
 * driving the emulator as a merchant drives WeChat — its own signing (MD5 and HMAC-SHA256), its own checks
 * of every answer, its own notification parsers and sign checks (payments/crosscheck-java, one check per
 * JSON line). Chosen over gopay / wechatpay-go, which the Go module proxy here refuses, and because WxJava
 * has the 委托代扣 requests and parsers. The driver is built once per source hash by tools/setup (cached in
 * ~/.cache/cabinet-fleet); without Java, Maven or its first fetch this test fails, it never skips.
 */

// The first build on a machine fetches WxJava from Maven Central; a cached jar runs in ~6 s.
jest.setTimeout(600_000);

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

function crosscheckJar(): string {
  try {
    return execFileSync(process.execPath, [resolve(__dirname, '../../tools/setup/crosscheck-java.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 540_000 }).trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`the WxJava cross-check driver could not be built (Java 17 + Maven, Maven Central on first use): ${err.stderr ?? err.message}`);
  }
}

function runDriver(jar: string, baseUrl: string, dataDir: string, openid: string): Promise<{ code: number | null; checks: Check[]; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn('java', ['-jar', jar, baseUrl, dataDir, openid], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', rej);
    child.on('exit', (code) => {
      const checks = out
        .split('\n')
        .filter((l) => l.startsWith('{"check"'))
        .map((l) => JSON.parse(l) as Check);
      res({ code, checks, stderr: err.slice(-2000) });
    });
  });
}

describe('cross-check with WxJava 4.7.0 (Java): papay v2 and the mini-program APIs', () => {
  let emu: TestEmulator;
  let jar: string;
  const openid = 'oWxJavaCrossCheck0000001';

  beforeAll(async () => {
    jar = crosscheckJar();
    emu = await startTestEmulator({ timeScale: 1000 });
    emu.emulator.ensureUser(openid);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('passes every check of the SDK, and the emulator saw what the SDK did', async () => {
    const r = await runDriver(jar, emu.baseUrl, emu.dataDir, openid);
    const failed = r.checks.filter((c) => !c.ok);
    expect({ failed, stderr: failed.length || r.code ? r.stderr : '' }).toEqual({ failed: [], stderr: '' });
    expect(r.code).toBe(0);
    const names = r.checks.map((c) => c.check);
    for (const t of ['md5', 'hmac'])
      for (const step of ['sign', 'notify.add', 'notify.add.otherTypeRefused', 'querycontract', 'querycontract.byCode', 'pappayapply', 'notify.deduction', 'paporderquery', 'deletecontract', 'notify.termination', 'notify.termination.notAtSigningUrl']) expect(names).toContain(`${t}.${step}`);
    expect(names).toEqual(expect.arrayContaining(['hmac.deletecontract.hmacRefused', 'ma.stable_token', 'ma.stable_token.forceRefresh', 'ma.jscode2session', 'ma.getuserphonenumber', 'ma.getwxacodeunlimit', 'ma.getwxacodeunlimit.longSceneRefused', 'ma.subscribe']));
    // Every notification WeChat sent was accepted by the SDK's endpoint on the first delivery.
    const v2 = emu.emulator.notifier.log.filter((l) => l.kind === 'v2');
    expect(v2.length).toBe(6);
    expect(v2.every((l) => l.accepted && l.attempt === 0)).toBe(true);
    expect(emu.emulator.charges.filter((c) => c.attach === 'order-wxj')).toHaveLength(2);
    expect(emu.emulator.wxacodes).toEqual([{ scene: 'WXJ-CAB-1.a', page: 'pages/index/index', width: 430 }]);
  });
});
