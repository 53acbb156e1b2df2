import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../common/clock';
import { notifyUrl, parseWechatConfig, type WechatConfig, type WechatConfigInput } from '../wechatpay/wechat.config';
import type { PlatformMode } from './emulator';
import { startEmulator, type RunningEmulator } from './server';

/** An emulator on a free loopback port with a fresh sandbox merchant, and a client config pointed at it. */
export interface TestEmulator extends RunningEmulator {
  config(overrides?: Partial<WechatConfigInput>): WechatConfig;
}

export async function startTestEmulator(opts: { timeScale?: number; clock?: Clock; platformMode?: PlatformMode; dataDir?: string } = {}): Promise<TestEmulator> {
  const own = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'wechat-emu-'));
  const emu = await startEmulator({ dataDir, timeScale: opts.timeScale ?? 1000, ...(opts.clock ? { clock: opts.clock } : {}), platformMode: opts.platformMode ?? 'public_key' });
  const m = emu.merchant;
  let portalDone = false;
  return {
    ...emu,
    /**
     * A client config pointed at the emulator. The first one with a notifyBaseUrl also plays the merchant
     * portal once: the papay template's termination URL becomes that service's contract endpoint, unless a
     * test configured the template itself.
     */
    config(overrides = {}) {
      if (overrides.notifyBaseUrl && !portalDone) {
        portalDone = true;
        if (!emu.emulator.papayTemplate.terminationNotifyUrl) emu.emulator.configureTemplate({ terminationNotifyUrl: notifyUrl({ notifyBaseUrl: overrides.notifyBaseUrl.replace(/\/+$/, '') }, 'contract') });
      }
      return parseWechatConfig({
        mode: 'sandbox',
        payBaseUrl: emu.baseUrl,
        apiBaseUrl: emu.baseUrl,
        mchid: m.mchid,
        appid: m.appid,
        appSecret: m.appSecret,
        merchantSerial: m.merchantSerial,
        merchantPrivateKey: m.merchantPrivateKeyPem,
        merchantCert: m.merchantCertPem,
        apiV3Key: m.apiV3Key,
        apiV2Key: m.apiV2Key,
        platformPublicKeyId: m.platformPublicKeyId,
        platformPublicKey: m.platformPublicKeyPem,
        planId: m.planId,
        notifyBaseUrl: 'http://127.0.0.1:9',
        requestTimeoutMs: 2000,
        ...overrides,
      });
    },
    async close() {
      await emu.close();
      if (own) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
