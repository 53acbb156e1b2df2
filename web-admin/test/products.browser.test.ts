import { priceLines } from '../../app/commerce';
import { startTestService } from '../../test/service-kit';
import { launchBrowser, shot, demoPasswords, signIn } from './browser';

jest.setTimeout(120_000);

/**
 * The catalogue in the console: an operator adds a product, schedules a price for one site (an override)
 * and for every site from later, and delists it; a viewer reads the list without the controls. What the
 * service then bills is checked through the same pricing the orders use.
 */
describe('console: products and prices in Chromium', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let creds: Record<string, string>;

  beforeAll(async () => {
    svc = await startTestService({ env: { DEMO_SIMULATOR: 'false' } });
    creds = demoPasswords(svc.config.dataDir);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.cleanup();
  });

  it('an admin adds a product, a site operator overrides its price there, the admin schedules a change for all sites and delists it', async () => {
    const page = await signIn(browser.context, svc.url, 'admin', creds['admin']!);
    await page.click('[data-nav="products"]');
    await page.waitForSelector('.products tbody tr');
    // The demo catalogue came in through the same service (SEED_DEMO).
    expect(await page.locator('.products tbody tr').count()).toBeGreaterThan(30);
    // Recognition is off in this service (RECOGNITION_WORKERS=0): the enrolment column says nothing, and no photos can be enrolled.
    await page.waitForSelector('.products tbody tr [data-enrol="off"][title="recognition is off here"]');
    expect(await page.locator('.products tbody tr [data-col="enrolment"]').first().textContent()).toBe('—');
    expect(await page.locator('.product-enrol, .product-photos').count()).toBe(0);

    await page.click('#product-add');
    await page.fill('#new-sku', 'tea-peach');
    await page.fill('#new-name', '蜜桃乌龙');
    await page.fill('#new-name-en', 'Peach oolong');
    await page.fill('#new-brand', '东方茶');
    await page.fill('#new-flavour', '蜜桃');
    await page.selectOption('#new-packaging', 'bottle');
    await page.fill('#new-price', '5.5');
    await page.click('#new-save');
    await page.fill('#product-q', 'TEA-PEACH');
    const row = page.locator('.products tbody tr', { hasText: 'TEA-PEACH' });
    await row.waitFor();
    expect(await row.textContent()).toContain('¥5.50');
    const stored = await svc.models.Product.findOne({ sku: 'TEA-PEACH' }).lean();
    expect(stored).toMatchObject({ priceFen: 550, packaging: 'bottle', active: true });

    // A price for one site from now, set by that site's operator: that site bills it, another keeps the list price.
    const op = await signIn(browser.context, svc.url, 'sh-operator', creds['sh-operator']!);
    await op.goto(`${svc.url}/admin/#/products`);
    await op.fill('#product-q', 'TEA-PEACH');
    const opRow = op.locator('.products tbody tr', { hasText: 'TEA-PEACH' });
    await opRow.waitFor();
    // The site operator may not change the price for every site: refused by the service, shown in words.
    await opRow.locator('.product-price').click();
    await op.fill('#price-new', '1');
    await op.click('#price-save');
    await op.waitForSelector('.notice.error, [role=alert]');
    expect(await op.locator('.notice.error, [role=alert]').first().textContent()).toMatch(/every site/);
    await opRow.locator('.product-price').click();
    await op.fill('#price-new', '4.80');
    await op.fill('#price-site', 'shanghai-hq');
    await op.click('#price-save');
    await op.waitForSelector('.products tbody tr:has-text("TEA-PEACH") >> text=site overrides');
    await page.reload();
    await page.fill('#product-q', 'TEA-PEACH');
    await row.waitFor();
    await page.waitForSelector('.products tbody tr:has-text("TEA-PEACH") >> text=site overrides');
    const bill = async (siteId: string, at = Date.now()) => (await priceLines(svc.models, [{ sku: 'TEA-PEACH', qty: 1 }], { siteId, at })).totalFen;
    expect([await bill('shanghai-hq'), await bill('beijing-office')]).toEqual([480, 550]);

    // A change for every site from tomorrow shows as the next change; today's price stands.
    await row.locator('.product-price').click();
    const tomorrow = new Date(Date.now() + 86_400_000);
    const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.fill('#price-new', '6');
    await page.fill('#price-from', local);
    await page.click('#price-save');
    await page.waitForFunction(() => document.querySelector('.products tbody tr')?.textContent?.includes('¥6.00'));
    expect(await row.textContent()).toMatch(/¥5\.50.*¥6\.00/);
    expect(await bill('beijing-office')).toBe(550);
    expect(await bill('beijing-office', tomorrow.getTime() + 60_000)).toBe(600);
    await shot(page, 'products');

    await row.locator('.product-status-toggle').click();
    await page.waitForSelector('.products tbody tr:has-text("TEA-PEACH") .product-status.delisted');
    expect((await svc.models.Product.findOne({ sku: 'TEA-PEACH' }).lean())?.active).toBe(false);
    const audit = await svc.models.Audit.find({ objectType: 'product', objectId: 'TEA-PEACH' }).sort({ at: 1 }).lean();
    expect(audit.map((a) => [a.action, a.actorId])).toEqual([
      ['product.create', 'admin'],
      ['product.price', 'sh-operator'],
      ['product.price', 'admin'],
      ['product.delist', 'admin'],
    ]);
  });

  it('a viewer reads the catalogue without the controls, and the API refuses them a change', async () => {
    const page = await signIn(browser.context, svc.url, 'viewer', creds['viewer']!);
    await page.goto(`${svc.url}/admin/#/products`);
    await page.waitForSelector('.products tbody tr');
    expect(await page.locator('#product-add, .product-price, .product-status-toggle').count()).toBe(0);
    const status = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('console.session') ?? '{}') as { token?: string };
      return (await fetch('/admin/api/v1/products/COLA-ORIG/prices', { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ priceFen: 1 }) })).status;
    });
    expect(status).toBe(403);
  });
});
