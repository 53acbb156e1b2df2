import { world, openPage, tap, text } from '../../test/harness';

describe('debt page: pay first, then resume the scan', () => {
  test('lists open debts with amounts from fen', async () => {
    const { server } = world();
    server.hasPhone = true;
    server.addDebt(450, '识别差异补单');
    const page = await openPage('debt', { cabinetId: 'SEMI-1', flow: 'semi' });
    expect(text(page, '.debt-line')).toContain('¥4.50');
    expect(text(page, '.total')).toBe('¥4.50');
  });

  test('WeChat Pay ok + server confirms → back through home with the cabinet', async () => {
    const { server, platform } = world();
    server.hasPhone = true;
    const debt = server.addDebt(450);
    platform.onPay = () => server.markPaid(debt.orderId);
    const page = await openPage('debt', { cabinetId: 'SEMI-1', flow: 'semi' });
    await tap(page, '.pay-wechat');
    expect(server.callsTo('payDebts').map((c) => c.body)).toEqual([{ via: 'jsapi' }]);
    expect(platform.payments).toHaveLength(1);
    expect(platform.lastNav()).toBe('redirectTo /pages/index/index?cabinetId=SEMI-1&flow=semi');
  });

  test('WeChat says ok but the server has not seen the money → stays, "确认中", no resume', async () => {
    const { server, platform } = world();
    server.hasPhone = true;
    server.addDebt(450);
    const page = await openPage('debt', { cabinetId: 'SEMI-1', flow: 'semi' });
    await tap(page, '.pay-wechat');
    expect(text(page, '.message')).toBe('支付结果确认中');
    expect(platform.nav).toEqual([]);
  });

  test('cancel → stays with the debt, no resume', async () => {
    const { server, platform } = world();
    server.hasPhone = true;
    server.addDebt(450);
    platform.pay = { kind: 'cancel' };
    const page = await openPage('debt');
    await tap(page, '.pay-wechat');
    expect(text(page, '.message')).toBe('已取消支付');
    expect(platform.nav).toEqual([]);
  });

  test('with an active contract the debt can be deducted by papay, and is cleared by the server', async () => {
    const { server, platform } = world();
    server.hasPhone = true;
    server.contract = 'active';
    server.addDebt(300);
    const page = await openPage('debt', { cabinetId: 'AUTO-1', flow: 'auto' });
    await tap(page, '.pay-papay');
    expect(platform.payments).toEqual([]);
    expect(platform.lastNav()).toBe('redirectTo /pages/index/index?cabinetId=AUTO-1&flow=auto');
  });

  test('no debt (already paid elsewhere) → resumes at once', async () => {
    const { server, platform } = world();
    server.hasPhone = true;
    await openPage('debt', { cabinetId: 'OPEN-1' });
    expect(platform.lastNav()).toBe('redirectTo /pages/index/index?cabinetId=OPEN-1');
  });

  test('reasons the service records read as Chinese, never raw codes or case ids', async () => {
    const { server } = world();
    server.hasPhone = true;
    server.addDebt(650, 'NOTENOUGH');
    server.addDebt(950, 'review RVmx3k2');
    const page = await openPage('debt');
    const lines = page.querySelectorAll('.debt-line').map((l) => l.dom?.textContent ?? '').join(' | ');
    expect(lines).toContain('余额不足');
    expect(lines).toContain('人工复核后补缴');
    expect(lines).toContain('¥6.50');
    expect(lines).not.toMatch(/NOTENOUGH|RVmx|review/);
  });

  test('a refused papay deduction is explained in Chinese', async () => {
    const { server } = world();
    server.hasPhone = true;
    server.contract = 'active';
    server.papayRefusal = 'NOTENOUGH';
    server.addDebt(300, 'NOTENOUGH');
    const page = await openPage('debt');
    await tap(page, '.pay-papay');
    expect(text(page, '.error')).toContain('余额不足');
    expect(text(page, '.error')).not.toMatch(/[A-Z]{4}/);
  });
});
