import { moveStock } from '../../app/commerce';
import { parOf } from '../../contracts/restock';
import { startTestService } from '../../test/service-kit';
import { launchBrowser, shot, demoPasswords, signIn } from './browser';

jest.setTimeout(120_000);

/**
 * The restock list on a restocker's phone (390 px wide): lanes at or below par after sales, what each takes,
 * and the van's load summed per product; nothing wider than the screen. Another site's list is refused.
 */
describe('console: the restock list on a phone', () => {
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

  it('shows a Shanghai restocker what to bring on a 390 px screen; a task from it is counted and closed, its shrinkage recorded', async () => {
    // Sales take two lanes of the same product down to par and below.
    const cab = (await svc.models.Cabinet.findOne({ cabinetId: 'SH-SEMI-01' }).lean())!;
    const [a, b] = cab.lanes;
    await moveStock(svc.models, 'SH-SEMI-01', 'test-restock', { set: [{ laneId: a!.laneId, count: parOf(a!) }, { laneId: b!.laneId, count: 0 }] });
    const page = await signIn(browser.context, svc.url, 'sh-restocker', creds['sh-restocker']!, 'zh');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('[data-nav="restock"]');
    await page.waitForSelector('#restock-site option[value="shanghai-hq"]', { state: 'attached' });
    await page.selectOption('#restock-site', 'shanghai-hq');
    await page.waitForSelector('.restock-cabinet[data-cabinet="SH-SEMI-01"]');
    const lane = (id: string) => page.locator(`.restock-cabinet[data-cabinet="SH-SEMI-01"] .restock-lane[data-lane="${id}"]`);
    expect(await lane(a!.laneId).textContent()).toContain(`+${a!.capacity - parOf(a!)}`);
    expect(await lane(b!.laneId).textContent()).toContain(`+${b!.capacity}`);
    // The van's line for a product is the sum over every low lane of it at the site.
    const list = (await (await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('console.session') ?? '{}') as { token?: string };
      const r = await fetch('/admin/api/v1/sites/shanghai-hq/restock-list', { headers: { authorization: `Bearer ${s.token}` } });
      return { status: r.status, body: await r.text() };
    })).body) as unknown as string;
    const parsed = JSON.parse(list) as { cabinets: Array<{ lanes: Array<{ sku: string; bring: number }> }>; van: Array<{ sku: string; qty: number }> };
    for (const v of parsed.van) {
      expect(v.qty).toBe(parsed.cabinets.flatMap((c) => c.lanes).filter((l) => l.sku === v.sku).reduce((n, l) => n + l.bring, 0));
      expect(await page.locator(`.restock-van li[data-sku="${v.sku}"]`).textContent()).toContain(`× ${v.qty}`);
    }
    // Nothing wider than the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, 'restock-390');
    // Another site's list is refused, in the page's API as everywhere.
    const other = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('console.session') ?? '{}') as { token?: string };
      return (await fetch('/admin/api/v1/sites/beijing-office/restock-list', { headers: { authorization: `Bearer ${s.token}` } })).status;
    });
    expect(other).toBe(403);

    // The restocker starts a task from the list, counts on arrival (one can of lane b gone without a sale
    // would show as found 0 of an expected 0, so lane a: one fewer than the service expects), fills up, closes.
    await page.click('#restock-start');
    const form = page.locator('.restock-task').first();
    await form.waitFor();
    const taskId = (await form.getAttribute('data-task'))!;
    // Its unlock is bound to the task; the cabinet has no device connected here, so the refusal is shown in words.
    await form.locator('.task-unlock[data-cabinet="SH-SEMI-01"]').click();
    await page.waitForSelector('.notice.error');
    expect(await svc.models.Audit.findOne({ action: 'cabinet.restock_unlock', 'after.taskId': taskId }).lean()).toBeTruthy();
    await form.locator(`li[data-lane="SH-SEMI-01/${a!.laneId}"] .count-found`).fill(String(parOf(a!) - 1));
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, 'restock-task-390');
    await form.locator('.task-close').click();
    await page.waitForSelector('#restock-none');
    const task = (await svc.models.RestockTask.findOne({ _id: taskId }).lean())!;
    expect(task.status).toBe('closed');
    expect(task.counts.find((c) => c.laneId === a!.laneId)).toMatchObject({ expected: parOf(a!), found: parOf(a!) - 1, final: a!.capacity, shrinkage: 1 });
    expect(task.counts.find((c) => c.laneId === b!.laneId)).toMatchObject({ expected: 0, found: 0, final: b!.capacity, shrinkage: 0 });
    const after = (await svc.models.Cabinet.findOne({ cabinetId: 'SH-SEMI-01' }).lean())!;
    expect(after.lanes.filter((l) => l.laneId === a!.laneId || l.laneId === b!.laneId).map((l) => l.count)).toEqual([a!.capacity, b!.capacity]);
    expect(await svc.models.Audit.find({ objectType: 'restock_task', objectId: taskId }).lean()).toEqual([expect.objectContaining({ action: 'restock.task_created', actorId: 'sh-restocker' }), expect.objectContaining({ action: 'restock.task_closed', after: expect.objectContaining({ shrinkage: 1 }) })]);
  });
});
