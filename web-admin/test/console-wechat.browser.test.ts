import { readFileSync } from 'node:fs';
import { startTestEmulator, type TestEmulator } from '../../payments/emulator/testing';
import jsQR from 'jsqr';
import { pngText } from '../../common/png';
import { qrUrl } from '../../contracts/cabinet-protocol';
import { crop, decodePng } from '../../test/png';
import { notifyUrl } from '../../payments/wechatpay/wechat.config';
import { startTestService } from '../../test/service-kit';
import { until } from '../../test/until';
import { launchBrowser, shot, demoPasswords, signIn } from './browser';

jest.setTimeout(120_000);

const LETTER = { open: 'o', semi: 's', auto: 'a' } as const;

/** What a QR scanner reads in a region of a PNG (jsQR, written apart from our encoder), or undefined. */
function readQr(png: Buffer, region?: { left: number; top: number; width: number; height: number }): string | undefined {
  const whole = decodePng(png);
  const img = region ? crop(whole, region) : whole;
  return jsQR(img.rgba, img.width, img.height)?.data;
}

/**
 * The console's WeChat-backed parts. The cabinet sticker sheet: the console asks WeChat (here the emulator, as the service's sandbox does)
 * for one mini-program code per cabinet of a site, each with the scene the mini-program routes by
 * (`<cabinetId>.<o|s|a>`, miniprogram/utils/qr.ts), shows them for printing and downloads them as one PNG.
 */
describe('console: cabinet sticker sheet and abnormal refunds in Chromium', () => {
  let emu: TestEmulator;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let creds: Record<string, string>;

  beforeAll(async () => {
    emu = await startTestEmulator({ timeScale: 1000 });
    svc = await startTestService({ env: { WECHAT_MODE: 'sandbox', WECHAT_EMULATOR_URL: emu.baseUrl, WECHAT_SANDBOX_DIR: emu.dataDir, DEMO_SIMULATOR: 'false' } });
    creds = demoPasswords(svc.config.dataDir);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.cleanup();
    await emu?.close();
  });

  it('shows per Shanghai cabinet a mini-program code whose scene opens it in its flow and the link QR, and downloads the sheet as a PNG a scanner reads', async () => {
    const cabinets = (await svc.models.Cabinet.find({ siteId: 'shanghai-hq' }).lean()).sort((a, b) => a.cabinetId.localeCompare(b.cabinetId));
    expect(cabinets.length).toBeGreaterThan(1);
    const page = await signIn(browser.context, svc.url, 'sh-operator', creds['sh-operator']!);
    await page.click('[data-nav="stickers"]');
    await page.waitForSelector('#sticker-site option[value="shanghai-hq"]', { state: 'attached' });
    await page.selectOption('#sticker-site', 'shanghai-hq');
    await page.waitForSelector('.sticker-sheet');
    await page.waitForFunction((n) => Array.from(document.querySelectorAll<HTMLImageElement>('.sticker img')).filter((i) => i.complete && i.naturalWidth > 0).length === n, 2 * cabinets.length);
    const shown = await page.$$eval('.sticker', (els) =>
      els.map((e) => ({ cabinet: e.getAttribute('data-cabinet'), scene: e.getAttribute('data-scene'), link: e.getAttribute('data-link'), src: e.querySelector('.mini-code img')?.getAttribute('src') ?? '', linkSrc: e.querySelector('.link-code img')?.getAttribute('src') ?? '' })),
    );
    // No PUBLIC_HOST in this service: the link QRs carry the console's own address, and the page says so.
    const host = new URL(svc.url).host;
    expect(await page.textContent('#sticker-host')).toContain(host);
    expect(shown.map((s) => s.cabinet)).toEqual(cabinets.map((c) => c.cabinetId));
    for (const [i, c] of cabinets.entries()) {
      const scene = `${c.cabinetId}.${LETTER[c.kind]}`;
      expect(shown[i]!.scene).toBe(scene);
      // The printed code itself carries that scene and the page that routes by it.
      const png = Buffer.from(shown[i]!.src.replace(/^data:image\/png;base64,/, ''), 'base64');
      expect(pngText(png)).toEqual({ scene, page: 'pages/index/index' });
      // The link QR beside it, read by a scanner, is the cabinet protocol's link for this cabinet and flow.
      const link = qrUrl(host, c.cabinetId, c.kind);
      expect(shown[i]!.link).toBe(link);
      expect(readQr(Buffer.from(shown[i]!.linkSrc.replace(/^data:image\/png;base64,/, ''), 'base64'))).toBe(link);
    }
    expect(emu.emulator.wxacodes.map((w) => w.scene).sort()).toEqual(cabinets.map((c) => `${c.cabinetId}.${LETTER[c.kind]}`).sort());
    await shot(page, 'stickers');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sticker-png')]);
    expect(download.suggestedFilename()).toBe('stickers-shanghai-hq.png');
    const file = readFileSync((await download.path())!);
    expect(file.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // A grid of 3 columns of 520 × 330 cells, one per cabinet in the sheet's order: in each, the link QR
    // (right half) scans as that cabinet's link, and the mini-program code (left half) is drawn.
    expect(file.readUInt32BE(16)).toBe(3 * 520);
    expect(file.readUInt32BE(20)).toBe(Math.ceil(cabinets.length / 3) * 330);
    for (const [i, c] of cabinets.entries()) {
      const x = (i % 3) * 520;
      const y = Math.floor(i / 3) * 330;
      expect([c.cabinetId, readQr(file, { left: x + 260, top: y + 5, width: 255, height: 250 })]).toEqual([c.cabinetId, qrUrl(host, c.cabinetId, c.kind)]);
      const left = crop(decodePng(file), { left: x + 30, top: y + 20, width: 220, height: 220 }).rgba.filter((v, k) => k % 4 === 0 && v < 64);
      expect(left.length).toBeGreaterThan(220 * 220 * 0.1);
    }

    // A reprint asks WeChat for nothing new (codes never expire; the API is rate-limited).
    await page.reload();
    await page.waitForSelector('.sticker img');
    expect(emu.emulator.wxacodes.length).toBe(cabinets.length);
  });

  it('refuses another site to a site-scoped operator, in the page and through the API', async () => {
    const page = await signIn(browser.context, svc.url, 'sh-operator', creds['sh-operator']!);
    await page.goto(`${svc.url}/admin/#/stickers/beijing-office`);
    await page.waitForSelector('#stickers .error');
    expect(await page.textContent('#stickers .error')).toMatch(/beijing-office/);
    const status = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('console.session') ?? '{}') as { token?: string };
      return (await fetch('/admin/api/v1/sites/beijing-office/stickers', { headers: { authorization: `Bearer ${s.token}` } })).status;
    });
    expect(status).toBe(403);
  });

  it('offers "refund to another account" on a failed refund WeChat reports ABNORMAL; the refund then settles and the order is refunded', async () => {
    const w = svc.wechat!;
    const openid = 'oBrowserAbnormal00000001';
    emu.emulator.ensureUser(openid);
    const p = await w.payments.v3.jsapiPrepay({ outTradeNo: 'CFJ01browserabn', description: 'x', amountFen: 450, openid, notifyUrl: 'https://m.example/n' });
    if (!p.ok) throw new Error(p.failure.code);
    emu.emulator.pay(p.value.requestPayment);
    emu.emulator.refundOutcomes.push('ABNORMAL');
    const r = await w.payments.v3.refund({ outRefundNo: 'RFbrowserabn', outTradeNo: 'CFJ01browserabn', refundFen: 450, totalFen: 450, notifyUrl: notifyUrl(w.config, 'v3') });
    if (!r.ok) throw new Error(r.failure.code);
    await until(() => emu.emulator.refunds.get('RFbrowserabn')?.status === 'ABNORMAL', 20_000, 50);
    // Our records as the payments leave them after REFUND.ABNORMAL: the refund failed, the order still paid.
    await svc.models.Order.create({ orderId: 'O-browser-abn', outTradeNo: 'CFJ01browserabn', shopperId: 'S-browser-abn', cabinetId: 'SH-OPEN-01', siteId: 'shanghai-hq', flow: 'open', source: 'cart', totalFen: 450, paidFen: 450, status: 'paid' });
    await svc.models.Refund.create({ _id: 'RFbrowserabn', outRefundNo: 'RFbrowserabn', outTradeNo: 'CFJ01browserabn', orderId: 'O-browser-abn', amountFen: 450, reason: 'card closed', status: 'failed', wechatStatus: 'ABNORMAL', requestedBy: 'finance' });
    // A refund WeChat closed is final: no control for it (it was offered on every failed refund).
    await svc.models.Refund.create({ _id: 'RFbrowsercls', outRefundNo: 'RFbrowsercls', outTradeNo: 'CFJ01browserabn', orderId: 'O-browser-abn', amountFen: 100, reason: 'closed', status: 'failed', wechatStatus: 'CLOSED', requestedBy: 'finance' });

    const page = await signIn(browser.context, svc.url, 'finance', creds['finance']!);
    await page.goto(`${svc.url}/admin/#/money/refunds`);
    await page.waitForSelector('button.abnormal-refund[data-refund="RFbrowserabn"]');
    expect(await page.$$('button.abnormal-refund[data-refund="RFbrowsercls"]')).toHaveLength(0);
    expect(await page.locator('table.refunds tbody tr', { hasText: 'RFbrowsercls' }).textContent()).toContain('(WeChat: closed)');
    await shot(page, 'refund-abnormal');
    await page.click('button.abnormal-refund[data-refund="RFbrowserabn"]');
    await page.waitForSelector('.notice.ok');
    await until(async () => (await svc.models.Refund.findOne({ _id: 'RFbrowserabn' }).lean())?.status === 'succeeded', 20_000, 50);
    expect(emu.emulator.refunds.get('RFbrowserabn')).toMatchObject({ status: 'SUCCESS', abnormalTo: 'MERCHANT_BANK_CARD' });
    await until(async () => (await svc.models.Order.findOne({ _id: 'O-browser-abn' }).lean())?.status === 'refunded', 20_000, 50);
    // A viewer sees the refund without the control.
    const viewer = await signIn(browser.context, svc.url, 'viewer', creds['viewer']!);
    await viewer.goto(`${svc.url}/admin/#/money/refunds`);
    await viewer.waitForSelector('table.refunds');
    expect(await viewer.$$('button.abnormal-refund')).toHaveLength(0);
  });
});
