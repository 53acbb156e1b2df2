// The service runs the recogniser in this process: onnxruntime needs the main realm's typed arrays.
import '../../vision/testing/ort-realm';
import type { Page } from 'playwright-core';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { startTestService } from '../../test/service-kit';
import { DISTINCT_PRODUCT, facingPhotos } from '../../vision/testing/photos';
import { launchBrowser, shot, demoPasswords, signIn } from './browser';

jest.setTimeout(180_000);

/** The console's own API, called from the page with its session (what the page itself would send). */
const call = (page: Page, method: string, path: string, body?: unknown) =>
  page.evaluate(
    async ([m, p, b]) => {
      const s = JSON.parse(sessionStorage.getItem('console.session') ?? '{}') as { token?: string };
      const r = await fetch(`/admin/api/v1${p as string}`, { method: m as string, headers: { authorization: `Bearer ${s.token}`, ...(b !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(b !== undefined ? { body: JSON.stringify(b) } : {}) });
      return { status: r.status, body: (await r.json().catch(() => null)) as unknown };
    },
    [method, path, body] as const,
  );

/**
 * The assortment in the console, with the recogniser running: a cabinet's planogram as a grid, edited into a
 * pending version (its changes reviewed first) and withdrawn; a fully automatic cabinet refusing a product
 * the recogniser cannot tell, until its photos are enrolled from the products page; and the page on a phone.
 */
describe('console: planograms and enrolment in Chromium', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let creds: Record<string, string>;
  let admin: Page;
  const lanesOf = async (cabinetId: string) => (await svc.models.Cabinet.findOne({ cabinetId }).lean())!.lanes;
  const pick = (laneId: string, sku: string) => admin.selectOption(`#pg-grid td[data-lane="${laneId}"] select.pg-sku-select`, sku);
  /** Opens a cabinet's planogram page afresh and waits for its grid. */
  const openPlanogram = async (page: Page, cabinetId: string) => {
    const url = `${svc.url}/admin/#/planogram/${cabinetId}`;
    if (page.url() === url) await page.reload();
    else await page.goto(url);
    await page.waitForSelector(`.planogram-page h2:has-text("${cabinetId}")`);
    await page.waitForSelector('#pg-grid td[data-lane="A1"] .pg-sku');
  };

  beforeAll(async () => {
    svc = await startTestService({ env: { DEMO_SIMULATOR: 'false', RECOGNITION_WORKERS: '1' } });
    creds = demoPasswords(svc.config.dataDir);
    browser = await launchBrowser();
    admin = await signIn(browser.context, svc.url, 'admin', creds['admin']!);
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.cleanup();
  });

  it('shows a semi-automatic cabinet’s lanes as a grid; one lane’s product changed is reviewed, saved as pending version 2, and withdrawn', async () => {
    const lanes = await lanesOf('SH-SEMI-01');
    const a1 = lanes.find((l) => l.laneId === 'A1')!;
    await admin.goto(`${svc.url}/admin/#/cabinet/SH-SEMI-01`);
    await admin.click('#cabinet-planogram-link');
    await admin.waitForSelector('#pg-grid td.pg-cell[data-lane="A1"] .pg-sku');
    expect(admin.url()).toContain('#/planogram/SH-SEMI-01');
    // Four rows A–D of four columns; each cell its SKU, name and count/capacity.
    expect(await admin.locator('#pg-grid tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset['row']))).toEqual(['A', 'B', 'C', 'D']);
    expect(await admin.locator('#pg-grid td.pg-cell .pg-sku').count()).toBe(lanes.length);
    const cell = admin.locator('#pg-grid td[data-lane="A1"]');
    expect(await cell.textContent()).toContain(`${a1.sku}${DEMO_CATALOGUE.find((p) => p.sku === a1.sku)!.nameEn}${a1.count}/${a1.capacity}`);
    expect(await admin.locator('#pg-pending').count()).toBe(0);

    const next = DEMO_CATALOGUE.map((p) => p.sku).find((s) => !lanes.some((l) => l.sku === s))!;
    await admin.click('#pg-edit');
    await pick('A1', next);
    expect(await cell.getAttribute('class')).toContain('changed');
    await admin.click('#pg-review');
    const diff = admin.locator('#pg-review-diff tbody tr');
    await diff.first().waitFor();
    expect(await diff.allTextContents()).toEqual([expect.stringMatching(new RegExp(`^A1product${a1.sku}.*${next}`))]);
    expect(await admin.textContent('#pg-save')).toBe('Save as version 2');
    await admin.click('#pg-save');
    await admin.waitForSelector('#pg-pending[data-version="2"]');
    expect(await admin.textContent('#pg-pending')).toContain('Takes effect at the next restock, once its door has been opened.');
    expect(await admin.locator('#pg-pending-diff tbody tr').allTextContents()).toEqual([expect.stringMatching(new RegExp(`^A1product${a1.sku}.*${next}`))]);
    // Pending: the cabinet keeps its lanes until the restocker's next unlock.
    expect(await cell.textContent()).toContain(a1.sku);
    expect((await lanesOf('SH-SEMI-01')).find((l) => l.laneId === 'A1')!.sku).toBe(a1.sku);
    expect(await svc.models.Planogram.findOne({ cabinetId: 'SH-SEMI-01', version: 2 }).lean()).toMatchObject({ status: 'pending', createdBy: 'admin' });
    expect(await admin.locator('#pg-history tbody tr').allTextContents()).toEqual([expect.stringMatching(/^v2pendingadmin/), expect.stringMatching(/^v1 · in forceappliedprovisioning/)]);
    await shot(admin, 'planogram-pending');

    await admin.click('#pg-withdraw');
    await admin.waitForSelector('#pg-pending', { state: 'detached' });
    expect(await admin.textContent('.notice.ok')).toContain('Version 2 withdrawn');
    expect(await admin.locator('#pg-history tbody tr').first().textContent()).toMatch(/^v2withdrawn/);
    expect((await svc.models.Planogram.findOne({ cabinetId: 'SH-SEMI-01', version: 2 }).lean())?.status).toBe('withdrawn');
  });

  it('refuses a fully automatic cabinet a product the recogniser has not enrolled, and says so with its SKU', async () => {
    const created = await call(admin, 'POST', '/products', DISTINCT_PRODUCT);
    expect(created.status).toBe(201);
    await openPlanogram(admin, 'SH-AUTO-01');
    await admin.click('#pg-edit');
    await pick('A1', DISTINCT_PRODUCT.sku);
    await admin.click('#pg-review');
    await admin.click('#pg-save');
    const error = admin.locator('.notice.error');
    await error.waitFor();
    expect(await error.textContent()).toContain(`Not enrolled in the recogniser: ${DISTINCT_PRODUCT.sku} — enrol its photos on the Products page.`);
    expect(await svc.models.Planogram.countDocuments({ cabinetId: 'SH-AUTO-01' })).toBe(0);
    // The message links to the product on the products page.
    await admin.click('#pg-enrol-link');
    await admin.waitForSelector(`.products tbody tr [data-col="enrolment"] [data-enrol="none"]`);
    expect(await admin.inputValue('#product-q')).toBe(DISTINCT_PRODUCT.sku);
    expect(await admin.locator('.products tbody tr').count()).toBe(1);
    expect(await admin.textContent('.products tbody tr [data-col="enrolment"]')).toBe('not enrolled');
  });

  it('enrols the product’s photos from the products page (column and thumbnails follow); the automatic cabinet then takes it', async () => {
    await admin.goto(`${svc.url}/admin/#/products`);
    const cola = admin.locator('.products tbody tr', { hasText: 'COLA-ORIG' }).locator('[data-col="enrolment"]');
    await admin.waitForSelector('.products tbody tr [data-enrol="shipped"]');
    expect(await cola.textContent()).toBe('shipped');
    await admin.fill('#product-q', DISTINCT_PRODUCT.sku);
    const row = admin.locator('.products tbody tr', { hasText: DISTINCT_PRODUCT.sku });
    await admin.waitForFunction(() => document.querySelectorAll('.products tbody tr').length === 1);
    await row.locator('.product-enrol').click();
    const photos = await facingPhotos(DISTINCT_PRODUCT, 6, 4_800_000, DEMO_CATALOGUE);
    await admin.setInputFiles(
      '#enrol-files',
      photos.map((buffer, i) => ({ name: `kiwi-${i + 1}.jpg`, mimeType: 'image/jpeg', buffer })),
    );
    await admin.click('#enrol-submit');
    await admin.waitForSelector('#enrol-result .enrol-done');
    expect(await admin.textContent('#enrol-result')).toMatch(/^Enrolled from 6 photos\. Nearest products: [A-Z]/);
    await admin.waitForFunction(() => document.querySelector('.products tbody tr [data-col="enrolment"]')?.textContent === 'enrolled (6 photos)');
    expect(await admin.locator('#enrol-gallery img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).dataset['photo']))).toHaveLength(6);
    const stored = await svc.models.Enrolment.findOne({ sku: DISTINCT_PRODUCT.sku }).lean();
    expect(stored).toMatchObject({ lookAlike: false, enrolledBy: 'admin' });
    expect(stored!.photoIds).toHaveLength(6);
    await shot(admin, 'products-enrolment');

    // Now the automatic cabinet takes it, in a new lane of a new column; one lane goes.
    await openPlanogram(admin, 'SH-AUTO-01');
    await admin.click('#pg-edit');
    await admin.click('#pg-add-col');
    await admin.click('#pg-grid .pg-add-lane[data-lane="A5"]');
    await pick('A5', DISTINCT_PRODUCT.sku);
    await admin.click('#pg-grid .pg-remove[data-lane="D4"]');
    await admin.click('#pg-review');
    const diff = await admin.locator('#pg-review-diff tbody tr').allTextContents();
    expect(diff).toEqual([expect.stringMatching(new RegExp(`^A5lane added—${DISTINCT_PRODUCT.sku} Zephyr Kiwi · Capacity 6$`)), expect.stringMatching(/^D4lane removed.*—$/)]);
    await admin.click('#pg-save');
    await admin.waitForSelector('#pg-pending[data-version="2"]');
    const pending = (await svc.models.Planogram.findOne({ cabinetId: 'SH-AUTO-01', version: 2 }).lean())!;
    expect(pending.status).toBe('pending');
    expect(pending.lanes.map((l) => l.laneId)).toEqual(expect.arrayContaining(['A5']));
    expect(pending.lanes.find((l) => l.laneId === 'A5')).toMatchObject({ sku: DISTINCT_PRODUCT.sku, capacity: 6 });
    expect(pending.lanes.some((l) => l.laneId === 'D4')).toBe(false);
  });

  it('shows the enrolled photos as thumbnails through the authorised photo route, and lets them go with the page', async () => {
    await admin.goto(`${svc.url}/admin/#/products?q=${DISTINCT_PRODUCT.sku}`);
    await admin.locator(`.products tbody tr .product-enrol[data-sku="${DISTINCT_PRODUCT.sku}"]`).click();
    await admin.waitForSelector('#enrol-gallery img');
    expect(await admin.textContent('#enrol-result')).toMatch(/^Enrolled from 6 photos\./);
    // Each thumbnail is fetched with the console's bearer token and shown as a blob URL.
    await admin.waitForFunction(() => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('#enrol-gallery img'));
      return imgs.length === 6 && imgs.every((i) => i.complete && i.src.startsWith('blob:'));
    });
    const decoded = await admin.locator('#enrol-gallery img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth > 0));
    await shot(admin, 'products-enrolment-photos');
    // Leaving the page lets the thumbnails go.
    const src = await admin.getAttribute('#enrol-gallery img', 'src');
    await admin.click('[data-nav="fleet"]');
    await admin.waitForSelector('[data-nav="fleet"].active');
    expect(await admin.evaluate(async (u) => fetch(u!).then(() => 'held', () => 'revoked'), src)).toBe('revoked');
    // Each is the photo as uploaded, decoded by the browser.
    expect(decoded).toEqual(Array(6).fill(true));
  });

  it('fits a 390 px phone: the grid scrolls inside its box, never the page; a viewer reads it without the controls', async () => {
    await admin.setViewportSize({ width: 390, height: 844 });
    await openPlanogram(admin, 'SH-AUTO-01');
    await admin.waitForSelector('#pg-pending-diff');
    const width = () => admin.evaluate(() => document.documentElement.scrollWidth);
    expect(await width()).toBeLessThanOrEqual(390);
    // The grid is wider than the phone and scrolls in its own box.
    expect(await admin.locator('.pg-scroll:has(#pg-grid)').evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
    await shot(admin, 'planogram-390');
    await admin.click('#pg-edit');
    await admin.waitForSelector('#pg-grid select.pg-sku-select');
    expect(await width()).toBeLessThanOrEqual(390);
    await shot(admin, 'planogram-edit-390');
    await admin.click('#pg-review');
    await admin.waitForSelector('#pg-review-diff');
    expect(await width()).toBeLessThanOrEqual(390);

    const viewer = await signIn(browser.context, svc.url, 'viewer', creds['viewer']!);
    await openPlanogram(viewer, 'SH-AUTO-01');
    await viewer.waitForSelector('#pg-pending-diff');
    expect(await viewer.locator('#pg-edit, #pg-withdraw').count()).toBe(0);
    await viewer.goto(`${svc.url}/admin/#/products`);
    await viewer.waitForSelector('.products tbody tr [data-enrol="shipped"]');
    expect(await viewer.locator('.product-enrol').count()).toBe(0);
    expect(await viewer.locator(`.product-photos[data-sku="${DISTINCT_PRODUCT.sku}"]`).count()).toBe(1);
  });
});
