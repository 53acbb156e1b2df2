import { createWriteStream, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createLogger } from '../../common/log';
import { connectDevice, type TestDevice } from '../../test/device-client';
import { startTestService } from '../../test/service-kit';
import { launchBrowser, shot, demoPasswords, signIn } from './browser';
import { seedCase } from './seed-case';

type Svc = Awaited<ReturnType<typeof startTestService>>;

/** A WeCom-style group robot on 127.0.0.1: records every JSON body it is sent. */
async function robot(): Promise<{ url: string; got: Array<{ msgtype: string; text: { content: string } }>; close(): Promise<void> }> {
  const got: Array<{ msgtype: string; text: { content: string } }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push(JSON.parse(body) as (typeof got)[number]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin/webhook/send?key=test-robot-key`, got, close: () => new Promise((r) => server.close(() => r())) };
}

const dayOrder = (orderId: string, paidFen: number, status: 'paid' | 'debt') => ({ orderId, outTradeNo: `T${orderId}`, shopperId: 'S-day-shopper-2', cabinetId: 'SH-AUTO-01', siteId: 'shanghai-hq', flow: 'auto' as const, source: 'recognition' as const, lines: [{ sku: 'COLA-ORIG', name: '可口可乐 原味', qty: 1, unitPriceFen: 500, amountFen: 500 }], totalFen: 500, paidFen, refundedFen: 0, status });

async function seed(svc: Svc): Promise<void> {
  const m = svc.models;
  // A box at the frame's right edge: its label must stay inside the canvas.
  await seedCase(svc, 'R-DAY-1', 'V-DAY-1', 'SH-SEMI-01', 'shanghai-hq', 'S-day-shopper-1', {
    slots: [{ laneId: 'A1', slot: 0, before: 'COLA-ORIG', after: 'empty', confidence: 0.97, views: [{ camera: 'top', box: { x: 200, y: 4, w: 50, h: 60 } }, { camera: 'side', box: { x: 30, y: 50, w: 60, h: 80 } }] }],
    lanesChanged: ['A1'],
  });
  await m.Order.create([dayOrder('O-DAY-PAID', 500, 'paid'), dayOrder('O-DAY-DEBT', 0, 'debt')]);
  await m.Payment.create({ _id: 'TO-DAY-PAID', outTradeNo: 'TO-DAY-PAID', orderId: 'O-DAY-PAID', shopperId: 'S-day-shopper-2', channel: 'papay', amountFen: 500, status: 'succeeded', transactionId: 'wx-day-1' });
  await m.Debt.create({ debtId: 'D-DAY-1', shopperId: 'S-day-shopper-2', orderId: 'O-DAY-DEBT', amountFen: 500, reason: 'deduction refused', status: 'open', remindedAt: [] });
}

/**
 * English left on a Chinese screen, apart from data (ids, SKU codes, usernames): words, and stored codes shown
 * raw, snake_case (`awaiting_payment`, `door_left_open`) or upper-case (`DOOR_FAULT`), which a word check
 * alone lets through.
 */
async function englishLeft(page: Page, allowed: RegExp): Promise<string[]> {
  const text = await page.locator('body').innerText();
  const words = text
    .split(/[^A-Za-z_.\-0-9@/:]+/)
    .filter((w) => /^[A-Za-z][a-z]{2,}$/.test(w) || /^[a-z]+(_[a-z]+)+$/.test(w) || /^[A-Z]+(_[A-Z]+)+$/.test(w))
    .filter((w) => !allowed.test(w));
  return [...new Set(words)];
}

jest.setTimeout(240_000);

describe('a fleet manager’s day in the console (Chromium, real service)', () => {
  let svc: Svc;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let creds: Record<string, string>;
  let hook: Awaited<ReturnType<typeof robot>>;
  let device: TestDevice | undefined;
  const pages: Page[] = [];
  const as = async (user: string, lang: 'en' | 'zh' = 'en', route = '') => {
    const p = await signIn(context, svc.url, user, creds[user]!, lang);
    pages.push(p);
    if (route) await p.goto(`${svc.url}/admin/#/${route}`);
    return p;
  };

  beforeAll(async () => {
    // Sandbox WeChat (its emulator) so refunds run through the payment actors; a device's alarm clears
    // 8 s after its last report (reported every 1.5 s meanwhile); a site's notices are grouped over 300 ms.
    // CONSOLE_DAY_LOG=<file>: the service's log lines (debug, JSON), to read a failure after the run.
    const log = process.env.CONSOLE_DAY_LOG ? createLogger({ level: 'debug', format: 'json', destination: createWriteStream(process.env.CONSOLE_DAY_LOG) }) : undefined;
    svc = await startTestService({ timings: { deviceAlarmHoldMs: 8_000, disconnectDebounceMs: 1_000 }, env: { WECHAT_MODE: 'sandbox', DEMO_SIMULATOR: 'false', NOTIFY_GROUP_MS: '300' }, log });
    creds = demoPasswords(svc.config.dataDir);
    await seed(svc);
    hook = await robot();
    browser = await launchBrowser();
    context = browser.context;
  }, 180_000);

  afterAll(async () => {
    device?.close();
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await hook?.close();
    await svc?.cleanup();
  });

  it('an alarm raised by a device reaches the alarm centre and the site’s robot, is acknowledged, then clears and stays in history', async () => {
    const admin = await as('admin', 'en', 'sites');
    // The site is recorded with its robot through the page.
    await admin.click('button.site-edit[data-site="shanghai-hq"]');
    await admin.fill('#site-name', '上海总部');
    await admin.fill('#site-address', '上海市浦东新区世纪大道 100 号');
    await admin.fill('#site-webhook', hook.url);
    await admin.selectOption('#site-format', 'wecom');
    await admin.click('#site-save');
    await admin.waitForSelector('table.sites td:text("上海总部")');
    expect(await admin.locator('table.sites').textContent()).not.toContain('test-robot-key');
    await shot(admin, '30-sites');

    const secrets = JSON.parse(readFileSync(join(svc.config.dataDir, 'demo-cabinets.json'), 'utf8')) as Record<string, string>;
    device = await connectDevice({ url: svc.url, cabinetId: 'SH-SEMI-01', secret: secrets['SH-SEMI-01']! });
    await device.emit('status', { ts: Date.now(), door: 'closed', locked: true, temperatureC: 5, pendingUploads: 0 });
    await device.emit('alarm', { ts: Date.now(), kind: 'tamper', detail: 'side panel opened' });
    // The device keeps reporting until someone is on it (the alarm clears 8 s after the last report).
    const keepReporting = setInterval(() => void device!.emit('alarm', { ts: Date.now(), kind: 'tamper', detail: 'side panel opened' }).catch(() => undefined), 1_500);
    try {
      await admin.goto(`${svc.url}/admin/#/alarms`);
      const row = admin.locator('table.alarms tbody tr', { hasText: 'SH-SEMI-01' });
      await row.locator('.as-open').waitFor({ timeout: 15_000 });
      expect(await row.textContent()).toContain('tamper');
      await admin.waitForSelector('nav [data-nav="alarms"] .badge.hot', { timeout: 20_000 });
      const deadline = Date.now() + 15_000;
      while (!hook.got.some((m) => m.text.content.includes('SH-SEMI-01')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(hook.got.find((m) => m.text.content.includes('SH-SEMI-01'))).toEqual({ msgtype: 'text', text: { content: expect.stringMatching(/^【告警】上海总部（shanghai-hq） SH-SEMI-01 柜体被撬：side panel opened（\d\d:\d\d）$/) } });
      await shot(admin, '31-alarms-open');
      await row.locator('.al-assignee').fill('sh-operator');
      await row.locator('.al-assign').click();
      await admin.waitForSelector('table.alarms tbody tr td[data-col="assignee"]:text("sh-operator")');
      await row.locator('.al-note-text').fill('technician on the way');
      await row.locator('.al-note').click();
      await admin.waitForSelector('ul.notes li:has-text("technician on the way")');
      await row.locator('.al-ack').click();
      await row.locator('.as-acknowledged').waitFor();
      expect(await row.locator('td[data-col="ack"]').textContent()).toContain('admin');
      await shot(admin, '32-alarms-acknowledged');
    } finally {
      clearInterval(keepReporting);
    }
    // Fixed on site: no more reports, the alarm clears by itself and stays in the history. Waited for on this
    // cabinet's own row (any cleared row used to end the wait), long enough for a loaded machine.
    const cleared = admin.locator('table.alarms tbody tr', { hasText: 'SH-SEMI-01' });
    const until = Date.now() + 90_000;
    while (!(await cleared.locator('.as-cleared').count()) && Date.now() < until) {
      await admin.waitForTimeout(1_000);
      await admin.click('.alarms-centre .filters button');
    }
    expect(await cleared.textContent()).toContain('technician on the way');
    expect(await cleared.locator('td[data-col="cleared"]').textContent()).not.toBe('—');
    await shot(admin, '33-alarms-cleared');
    const stored = await svc.models.Alarm.findOne({ cabinetId: 'SH-SEMI-01', kind: 'tamper' }).lean();
    expect(stored).toMatchObject({ acknowledgedBy: 'admin', assignee: 'sh-operator' });
    expect(stored?.clearedAt).toBeInstanceOf(Date);
    expect(await svc.models.Audit.countDocuments({ objectType: 'alarm', action: 'alarm.acknowledge' })).toBe(1);
    // The cabinet's own history links to the centre filtered to it.
    await admin.goto(`${svc.url}/admin/#/cabinet/SH-SEMI-01`);
    await admin.click('#cabinet-alarm-history');
    await admin.waitForSelector('table.alarms tbody tr .as-cleared');
    expect(await admin.locator('#al-cabinet').inputValue()).toBe('SH-SEMI-01');
    // The device drops: its last door, lock and temperature stay on screen marked stale, not as live values.
    await admin.goto(`${svc.url}/admin/#/fleet`);
    await admin.waitForSelector('[data-cabinet="SH-SEMI-01"] .temp:text("5.0°C"):not(.stale)');
    device!.close();
    device = undefined;
    await admin.waitForSelector('[data-cabinet="SH-SEMI-01"] .temp.stale:text("5.0°C")', { timeout: 20_000 });
    expect(await admin.locator('[data-cabinet="SH-SEMI-01"] .door').getAttribute('class')).toContain('stale');
    expect(await admin.locator('[data-count="online"] b').textContent()).toBe('0');
    await shot(admin, '35-fleet-stale');
  });

  it('shows on the home view counts that match the lists they link to', async () => {
    // Two open alarms stored as the cabinet actors store them (one of another site), one cleared earlier.
    await svc.models.Alarm.create([
      { cabinetId: 'BJ-AUTO-01', siteId: 'beijing-office', kind: 'temperature', raisedAt: new Date(Date.now() - 600_000), detail: '11.2°C' },
      { cabinetId: 'SH-AUTO-02', siteId: 'shanghai-hq', kind: 'door_left_open', raisedAt: new Date(Date.now() - 300_000) },
    ]);
    // Two lanes run low (capacity 6: 0 and 1 left), as a day of shopping leaves them.
    await svc.models.Cabinet.updateOne({ cabinetId: 'SH-AUTO-01' }, { $set: { 'lanes.0.count': 0, 'lanes.1.count': 1 } });
    const admin = await as('admin', 'en', 'home');
    await admin.waitForSelector('[data-att="alarms"] b');
    await shot(admin, '34-home');
    const count = async (id: string) => Number(await admin.locator(`[data-att="${id}"] b`).textContent());
    const figures = { alarms: await count('alarms'), offline: await count('offline'), reviews: await count('reviews'), debts: await count('debts') };
    expect(figures.alarms).toBe(2);
    expect(figures.reviews).toBe(1);
    expect(figures.debts).toBe(1);
    // 7 demo cabinets offline, one of them only for seconds (it was connected in the test above).
    expect(figures.offline).toBe(6);
    await admin.click('[data-att="alarms"]');
    await admin.waitForSelector('table.alarms tbody tr .as-open');
    expect(await admin.locator('table.alarms tbody tr:not(:has(.no-results))').count()).toBe(figures.alarms);
    await admin.goto(`${svc.url}/admin/#/home`);
    await admin.click('[data-att="offline"]');
    await admin.waitForFunction((n) => document.querySelectorAll('[data-cabinet]').length === n, figures.offline);
    expect(await admin.locator('#f-offline-for').textContent()).toContain('15');
    await admin.goto(`${svc.url}/admin/#/home`);
    await admin.click('[data-att="reviews"]');
    await admin.waitForSelector('#case-list .case');
    expect(await admin.locator('#case-list .case').count()).toBe(figures.reviews);
    await admin.goto(`${svc.url}/admin/#/home`);
    await admin.click('[data-att="debts"]');
    await admin.waitForSelector('#debts tbody td');
    expect(await admin.locator('#debts tbody tr').count()).toBe(figures.debts);
    expect(await admin.locator('#m-status').inputValue()).toBe('open,reminded');
    await admin.goto(`${svc.url}/admin/#/home`);
    const lanes = await count('lowLanes');
    expect(lanes).toBe(2);
    await admin.click('[data-att="lowLanes"]');
    await admin.waitForSelector('table.low-lanes tbody td');
    expect(await admin.locator('table.low-lanes tbody tr').count()).toBe(lanes);
    // Today's tiles open their lists on today (they linked to every date: the lists showed more than counted).
    await admin.goto(`${svc.url}/admin/#/home`);
    await admin.waitForSelector('[data-att="orders"] b');
    const todayOrders = await count('orders');
    const todayVisits = await count('visits');
    expect(todayOrders).toBe(1); // O-DAY-PAID (O-DAY-DEBT is not paid)
    await svc.models.Order.create(dayOrder('O-DAY-OLD', 500, 'paid'));
    // Three days old (createdAt is the schema's immutable timestamp: set on the collection itself).
    await svc.models.Order.collection.updateOne({ orderId: 'O-DAY-OLD' }, { $set: { createdAt: new Date(Date.now() - 3 * 86_400_000) } });
    await admin.click('[data-att="orders"]');
    await admin.waitForSelector('table.orders tbody td[data-col="order"]');
    await admin.waitForTimeout(300);
    expect(await admin.locator('table.orders tbody tr').count()).toBe(todayOrders);
    expect(await admin.locator('table.orders tbody').textContent()).not.toContain('O-DAY-OLD');
    await admin.goto(`${svc.url}/admin/#/home`);
    await admin.click('[data-att="visits"]');
    await admin.waitForSelector('table.visits');
    await admin.waitForTimeout(500);
    expect(await admin.locator('table.visits tbody tr:not(:has(.no-results))').count()).toBe(todayVisits);
    // The fleet's Alarms tile (live: a device reporting one) filters to what it counts, and an empty filter says so.
    const secrets = JSON.parse(readFileSync(join(svc.config.dataDir, 'demo-cabinets.json'), 'utf8')) as Record<string, string>;
    device = await connectDevice({ url: svc.url, cabinetId: 'SH-OPEN-01', secret: secrets['SH-OPEN-01']! });
    await device.emit('status', { ts: Date.now(), door: 'closed', locked: true, temperatureC: 5, pendingUploads: 0 });
    await device.emit('alarm', { ts: Date.now(), kind: 'camera_fault', detail: 'top' });
    await admin.goto(`${svc.url}/admin/#/fleet`);
    await admin.waitForSelector('[data-count="alarms"] b:text("1")', { timeout: 15_000 });
    await admin.click('[data-count="alarms"]');
    await admin.waitForFunction(() => document.querySelectorAll('[data-cabinet]').length === 1);
    expect(await admin.locator('[data-cabinet="SH-OPEN-01"].alarmed').count()).toBe(1);
    device.close();
    device = undefined;
    await admin.fill('#f-q', 'NO-SUCH-CABINET');
    await admin.waitForSelector('#fleet-empty:not([hidden])');
    await shot(admin, '35-fleet-no-results-en');
  });

  it('exports the filtered orders as CSV (UTF-8 with BOM) that matches the list', async () => {
    const fin = await as('admin', 'zh', 'money/orders');
    await fin.waitForSelector('table.orders tbody td[data-col="order"]');
    const shown = await fin.locator('table.orders tbody tr').count();
    expect(await fin.locator('table.orders tfoot').textContent()).toContain(`合计（${shown} 行）`);
    const [download] = await Promise.all([fin.waitForEvent('download'), fin.click('#m-csv')]);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trim().split('\r\n');
    expect(lines[0]).toBe('时间,订单,柜号,流程,顾客,商品,金额,已付 / 已退,状态');
    expect(lines).toHaveLength(shown + 1);
    const paid = lines.find((l) => l.includes('O-DAY-PAID'))!;
    expect(paid).toContain('可口可乐 原味×1');
    expect(paid).toContain(',5.00,5.00,已支付');
    await shot(fin, '36-orders-zh');
  });

  it('keeps the frames and the result on screen after a review decision', async () => {
    const op = await as('sh-operator', 'en', 'reviews/R-DAY-1');
    await op.waitForSelector('#case-detail canvas[data-camera="top"][data-phase="after"][data-frame-width="256"]');
    // Before and after side by side: same row, the after to the right of the before.
    const b = (await op.locator('canvas[data-camera="top"][data-phase="before"]').boundingBox())!;
    const a = (await op.locator('canvas[data-camera="top"][data-phase="after"]').boundingBox())!;
    expect(Math.abs(a.y - b.y)).toBeLessThan(2);
    expect(a.x).toBeGreaterThan(b.x + b.width - 1);
    expect(b.width).toBeGreaterThanOrEqual(300);
    expect(await op.locator('table.proposed').textContent()).toContain('Koko');
    expect(await op.locator('#difference').textContent()).toMatch(/Difference \(proposed − paid\): ¥\d+\.\d\d/);
    await shot(op, '37-review');
    await op.click('#decide-confirm');
    await op.waitForSelector('#outcome:text("debt raised")', { timeout: 15_000 });
    await op.waitForTimeout(9_000); // longer than an ordinary notice lasts
    expect(await op.locator('#case-notices .notice.ok').textContent()).toContain('Decision: confirmed → debt raised');
    expect(await op.locator('#case-detail canvas.frame').count()).toBe(4);
    expect(await op.locator('#case-detail canvas[data-phase="after"]').first().getAttribute('data-frame-width')).toBe('256');
    await shot(op, '38-review-decided');
  });

  it('shows a refused refund as an error, in words', async () => {
    const op = await as('sh-operator', 'zh', 'money/orders');
    const row = op.locator('table.orders tbody tr', { hasText: 'O-DAY-PAID' });
    await row.locator('details.refund summary').click();
    await row.locator('.refund-amount').fill('999.00');
    await row.locator('.refund-reason').fill('测试超额退款');
    await row.locator('.refund-submit').click();
    const n = op.locator('.notice.error[role="alert"]');
    await n.waitFor({ timeout: 15_000 });
    expect(await n.textContent()).toBe('退款被拒绝: ¥999.00 · 超过可退金额');
    expect(await op.locator('.notice.ok').count()).toBe(0);
    await shot(op, '39-refund-refused-zh');
  });

  it('leaves no English on the Chinese screens, and screenshots every view in both languages', async () => {
    const views: Array<[string, string, string]> = [
      ['home', '[data-att="alarms"]', 'home'],
      ['fleet', '[data-cabinet="SH-SEMI-01"]', 'fleet'],
      ['cabinet/SH-SEMI-01', '#live-box', 'cabinet'],
      ['alarms', 'table.alarms tbody td', 'alarms'],
      ['sites', 'table.sites tbody td', 'sites'],
      ['visits/visits', 'table.visits tbody td', 'visits'],
      ['visit/V-DAY-1', '#visit-frames figure', 'visit'],
      ['visits/sessions', 'table.sessions', 'sessions'],
      ['reviews/R-DAY-1', '#case-detail canvas', 'review'],
      ['money/orders', 'table.orders tbody td', 'orders'],
      ['money/payments', 'table.payments tbody td', 'payments'],
      ['money/refunds', 'table.refunds', 'refunds'],
      ['money/debts', '#debts tbody td', 'debts'],
      ['money/contracts', 'table.contracts', 'contracts'],
      ['reconciliation', '#recon table', 'reconciliation'],
      ['kpis', '[data-kpi="doorOpen"]', 'kpis'],
      ['audit', 'table.audit tbody td', 'audit'],
      ['accounts', 'table.grid tbody td', 'accounts'],
    ];
    // Data, not interface: ids, SKU and product codes, usernames, site ids, free text entered by the tests.
    const data = /^(admin|viewer|finance|operator|shanghai|beijing|office|side|top|panel|opened|technician|the|way|on|deduction|refused|review|console|debt|demo|Alice|Admin|English|Demo|cli|Viewer|Finance|Operator|Shanghai|Beijing)$/;
    const zh = await as('admin', 'zh', 'home');
    await zh.setViewportSize({ width: 1440, height: 900 });
    const leaks: Record<string, string[]> = {};
    for (const [route, selector, name] of views) {
      await zh.goto(`${svc.url}/admin/#/${route}`);
      await zh.waitForSelector(selector, { timeout: 15_000 });
      await zh.waitForTimeout(300);
      const left = await englishLeft(zh, data);
      if (left.length) leaks[route] = left;
      await shot(zh, `zh-${name}`);
    }
    expect(leaks).toEqual({});
    // The Live indicator survives navigation and a language switch; the English header fits one line at 1440 px.
    expect(await zh.locator('#live-status').textContent()).toBe('● 实时');
    await zh.selectOption('#lang', 'en');
    await zh.waitForSelector('nav [data-nav="fleet"]:text("Fleet")');
    await zh.waitForSelector('#live-status:text("● Live")');
    const header = (await zh.locator('header').boundingBox())!;
    expect(header.height).toBeLessThan(50);
    // ... and nothing in it is cut off: the navigation scrolls (hidden scrollbar) rather than wrap, so a nav wider
    // than its box hid its last entries ("Account…" at 1440 px).
    expect(await zh.locator('header nav').evaluate((n) => n.scrollWidth - n.clientWidth)).toBeLessThanOrEqual(0);
    for (const [route, selector, name] of views) {
      await zh.goto(`${svc.url}/admin/#/${route}`);
      await zh.waitForSelector(selector, { timeout: 15_000 });
      await zh.waitForTimeout(300);
      await shot(zh, `en-${name}`);
    }
    await zh.goto(`${svc.url}/admin/#/fleet`);
    await zh.waitForSelector('.frow.head span:text("Queue")');
  });
});
