import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN_PREFIX } from '../../contracts/console-api';
import { connectDevice, type TestDevice } from '../../test/device-client';
import { startTestService } from '../../test/service-kit';
import { launchBrowser, shot, demoPasswords, signIn } from './browser';
import { seedCase } from './seed-case';

type Svc = Awaited<ReturnType<typeof startTestService>>;

jest.setTimeout(120_000);

describe('operator console in Chromium against the real service', () => {
  let svc: Svc;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let creds: Record<string, string>;
  let device: TestDevice | undefined;
  const pages: Page[] = [];

  const as = async (user: string, lang: 'en' | 'zh' = 'en') => {
    const p = await signIn(context, svc.url, user, creds[user]!, lang);
    pages.push(p);
    // The console opens on the home view; these tests start from the fleet.
    await p.goto(`${svc.url}/admin/#/fleet`);
    return p;
  };
  /** The raw HTTP API from inside the page, with that page's own session token. */
  const rawCall = (page: Page, method: string, path: string, body?: unknown) =>
    page.evaluate(
      async ({ prefix, method, path, body }) => {
        const s = JSON.parse(sessionStorage.getItem('console.session') ?? '{}') as { token?: string };
        const r = await fetch(prefix + path, { method, headers: { authorization: `Bearer ${s.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        return r.status;
      },
      { prefix: ADMIN_PREFIX, method, path, body },
    );

  beforeAll(async () => {
    svc = await startTestService();
    creds = demoPasswords(svc.config.dataDir);
    await seedCase(svc, 'R-BROWSER-1', 'V-BROWSER-1', 'SH-SEMI-01', 'shanghai-hq', 'S-browser-shopper-1');
    await seedCase(svc, 'R-BROWSER-2', 'V-BROWSER-2', 'SH-SEMI-01', 'shanghai-hq', 'S-browser-shopper-2');
    browser = await launchBrowser();
    context = browser.context;
  }, 120_000);

  afterAll(async () => {
    device?.close();
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await svc?.cleanup();
  });

  it('signs in and shows the fleet with counts', async () => {
    const page = await context.newPage();
    pages.push(page);
    await page.addInitScript(() => localStorage.setItem('console.lang', 'en'));
    await page.goto(`${svc.url}/admin/`);
    await page.waitForSelector('#login-submit');
    await shot(page, '00-login');
    await page.fill('#username', 'admin');
    await page.fill('#password', 'not the password');
    await page.click('#login-submit');
    await page.waitForSelector('.login .error:text("Wrong username or password")');
    await page.fill('#password', creds.admin!);
    await page.click('#login-submit');
    await page.waitForSelector('[data-att="alarms"]');
    await page.goto(`${svc.url}/admin/#/fleet`);
    await page.waitForSelector('[data-cabinet="SH-SEMI-01"]');
    expect(await page.locator('[data-count="total"] b').textContent()).toBe('7');
    expect(await page.locator('[data-cabinet="SH-SEMI-01"] .link').textContent()).toContain('offline');
    await shot(page, '01-fleet');
  });

  it('sees a simulated cabinet come online and its row change live', async () => {
    const page = await as('admin');
    await page.waitForSelector('[data-cabinet="SH-SEMI-01"]');
    const secrets = JSON.parse(readFileSync(join(svc.config.dataDir, 'demo-cabinets.json'), 'utf8')) as Record<string, string>;
    device = await connectDevice({ url: svc.url, cabinetId: 'SH-SEMI-01', secret: secrets['SH-SEMI-01']! });
    await device.emit('status', { ts: Date.now(), door: 'closed', locked: true, temperatureC: 6.5, pendingUploads: 0 });
    await page.waitForSelector('[data-cabinet="SH-SEMI-01"] .link:text("online")', { timeout: 10_000 });
    await page.waitForSelector('[data-cabinet="SH-SEMI-01"] .temp:text("6.5°C")', { timeout: 10_000 });
    expect(await page.locator('[data-count="online"] b').textContent()).toBe('1');
    await device.emit('status', { ts: Date.now(), door: 'closed', locked: true, temperatureC: 9.2, pendingUploads: 0 });
    await page.waitForSelector('[data-cabinet="SH-SEMI-01"] .temp:text("9.2°C")', { timeout: 10_000 });
    await shot(page, '02-fleet-live');
    // Filters narrow what the page subscribes to.
    await page.selectOption('#f-state', 'offline');
    await page.waitForFunction(() => !document.querySelector('[data-cabinet="SH-SEMI-01"]'));
    expect(await page.locator('[data-count="total"] b').textContent()).toBe('7');
    await page.selectOption('#f-state', '');
    // The cabinet view follows the same cabinet live.
    await page.click('[data-cabinet="SH-SEMI-01"] a.id');
    await page.waitForSelector('#live-box [data-field="col.temp"] b:text("9.2°C")');
    await device.emit('status', { ts: Date.now(), door: 'closed', locked: true, temperatureC: 4.1, pendingUploads: 0 });
    await page.waitForSelector('#live-box [data-field="col.temp"] b:text("4.1°C")', { timeout: 10_000 });
    await page.waitForSelector('table.planogram td');
    await page.waitForSelector('.frames figure img[src^="blob:"]');
    await shot(page, '03-cabinet');
  });

  it('decides a review case as the site operator and the shopper’s debt appears', async () => {
    const page = await as('sh-operator');
    await page.goto(`${svc.url}/admin/#/reviews/R-BROWSER-1`);
    await page.waitForSelector('[data-case="R-BROWSER-1"]');
    await page.waitForSelector('#case-detail canvas[data-camera="top"][data-phase="after"]');
    await page.waitForSelector('#case-detail canvas[data-camera="side"][data-phase="before"]');
    // The boxes are drawn: the canvas holds the frame's size, not the placeholder's.
    await page.waitForSelector('#case-detail canvas[data-camera="top"][data-phase="after"][data-frame-width="256"]');
    expect(await page.locator('table.recognised').textContent()).toContain('97%');
    expect(await page.locator('table.paid').textContent()).toContain('COLA-ORIG');
    await shot(page, '04-review');
    await page.fill('#decision-note', 'two cans gone on both cameras');
    await page.click('#decide-confirm');
    await page.waitForSelector('#outcome:text("debt")', { timeout: 15_000 });
    await shot(page, '05-review-decided');
    await page.goto(`${svc.url}/admin/#/money/debts`);
    await page.waitForSelector('#debts td:text("QV-BROWSER-1")');
    const row = page.locator('#debts tr', { hasText: 'QV-BROWSER-1' });
    expect(await row.textContent()).toContain('open');
    expect(await row.textContent()).toContain('S-bro…er-1');
    await shot(page, '06-debts');
    const audit = await svc.models.Audit.findOne({ objectId: 'R-BROWSER-1', action: 'review.confirm' }).lean();
    expect(audit).toMatchObject({ actorId: 'sh-operator', actorRole: 'operator' });
  });

  it('refuses actions outside the role’s scope, in the page and through the raw API', async () => {
    const viewer = await as('viewer');
    await viewer.goto(`${svc.url}/admin/#/reviews/R-BROWSER-2`);
    await viewer.waitForSelector('#case-detail table.recognised');
    expect(await viewer.locator('#decide-confirm').count()).toBe(0);
    expect(await viewer.locator('#raise-pending').count()).toBe(0);
    expect(await rawCall(viewer, 'POST', '/reviews/R-BROWSER-2/decision', { decision: 'waive' })).toBe(403);
    expect(await rawCall(viewer, 'POST', '/orders/QV-BROWSER-1/refunds', { amountFen: 1, reason: 'test', refundKey: 'viewer-key-1' })).toBe(403);
    expect(await viewer.locator('nav [data-nav="audit"]').count()).toBe(0);
    await viewer.goto(`${svc.url}/admin/#/money/orders`);
    await viewer.waitForSelector('table.orders td');
    expect(await viewer.locator('.refund-submit').count()).toBe(0);
    await shot(viewer, '07-viewer-refused');
    expect(await svc.models.ReviewCase.findById('R-BROWSER-2').lean()).toMatchObject({ status: 'open' });

    const op = await as('sh-operator');
    await op.waitForSelector('[data-cabinet="SH-SEMI-01"]');
    const shown = await op.locator('[data-cabinet]').evaluateAll((els) => els.map((e) => e.getAttribute('data-cabinet')));
    expect(shown.length).toBe(4);
    expect(shown.every((id) => id!.startsWith('SH-'))).toBe(true);
    expect(await op.locator('#f-site option').allTextContents()).toEqual(['Site: All', 'shanghai-hq']);
    await op.goto(`${svc.url}/admin/#/cabinet/BJ-SEMI-01`);
    await op.waitForSelector('.cabinet-body .error');
    expect(await rawCall(op, 'GET', '/cabinets/BJ-SEMI-01')).toBe(404);
    expect(await rawCall(op, 'GET', '/fleet?siteId=beijing-office')).toBe(403);
    expect(await rawCall(op, 'POST', '/cabinets/BJ-SEMI-01/restock-unlock')).toBe(404);
    await shot(op, '08-operator-scoped');
  });

  it('shows every view (screenshots saved as test artefacts), in English and Chinese', async () => {
    const page = await as('admin');
    const views: Array<[string, string, string]> = [
      ['visits/visits', 'table.visits', '09-visits'],
      ['visits/sessions', 'table.sessions', '10-sessions'],
      ['reviews', '#case-list', '11-reviews-list'],
      ['money/orders', 'table.orders', '12-orders'],
      ['money/payments', 'table.payments', '13-payments'],
      ['money/refunds', 'table.refunds', '14-refunds'],
      ['money/contracts', 'table.contracts', '15-contracts'],
      ['reconciliation', '#recon table', '16-reconciliation'],
      ['kpis', '[data-kpi="doorOpen"]', '17-kpis'],
      ['audit', 'table.audit', '18-audit'],
      ['accounts', 'table.grid', '19-accounts'],
    ];
    for (const [route, selector, name] of views) {
      await page.goto(`${svc.url}/admin/#/${route}`);
      await page.waitForSelector(selector);
      if (route === 'audit') expect(await page.locator('table.audit').textContent()).toContain('review.confirm');
      await shot(page, name);
    }
    const zh = await as('admin', 'zh');
    await zh.waitForSelector('[data-cabinet="SH-SEMI-01"]');
    expect(await zh.locator('nav [data-nav="fleet"]').textContent()).toBe('柜机');
    await shot(zh, '20-fleet-zh');
    await zh.selectOption('#lang', 'en');
    await zh.waitForSelector('nav [data-nav="fleet"]:text("Fleet")');
  });
});
