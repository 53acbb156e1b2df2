import { world, openPage, tap, text, has, TEMPLATES } from '../../test/harness';
import { cartStore } from '../../utils/cart';

const items = [
  { sku: 'COLA-330', name: '可乐', priceFen: 350, laneId: 'A1', stock: 1 },
  { sku: 'CHIPS-70', name: '薯片', priceFen: 800, laneId: 'A2', stock: 5 },
];

function cabinets(contract: 'none' | 'active' = 'none') {
  const w = world();
  w.server.hasPhone = true;
  w.server.contract = contract;
  w.server.addCabinet({ cabinetId: 'OPEN-1', name: '三楼开放货架', kind: 'open', items });
  w.server.addCabinet({ cabinetId: 'SEMI-1', name: '茶水间半自动柜', kind: 'semi', items });
  w.server.addCabinet({ cabinetId: 'AUTO-1', name: '茶水间自动柜', kind: 'auto' });
  w.server.addCabinet({ cabinetId: 'BUSY-1', name: '忙碌柜', kind: 'semi', available: false, unavailableReason: 'restocking' });
  return w;
}

describe('cabinet page per flow', () => {
  test('open shelf: catalogue with steppers clamped to stock, then the cart', async () => {
    const { platform } = cabinets();
    const page = await openPage('cabinet', { cabinetId: 'OPEN-1', flow: 'open' });
    expect(has(page, '.unlock')).toBe(false);
    expect(page.querySelectorAll('.item')).toHaveLength(2);
    await tap(page, '.inc'); // 可乐, stock 1
    await tap(page, '.inc');
    expect(text(page, '.summary')).toContain('¥3.50');
    await tap(page, '.checkout');
    expect(platform.lastNav()).toBe('navigateTo /pages/cart/index');
    expect(cartStore.get()?.cart.qty).toEqual({ 'COLA-330': 1 });
  });

  test('semi: unlock button; the tap asks subscribe first, then starts the visit and shows progress', async () => {
    const { platform, server } = cabinets();
    const page = await openPage('cabinet', { cabinetId: 'SEMI-1', flow: 'semi' });
    expect(has(page, '.catalogue')).toBe(false);
    expect(text(page, '.unlock')).toBe('开门取货');
    await tap(page, '.unlock');
    expect(platform.subscribes).toEqual([[TEMPLATES.debtCreated, TEMPLATES.debtCleared]]);
    expect(server.callsTo('startVisit').map((c) => c.body)).toEqual([{ cabinetId: 'SEMI-1' }]);
    expect(platform.lastNav()).toMatch(/^redirectTo \/pages\/visit\/index\?sessionId=v-\d+&cabinetId=SEMI-1&flow=semi$/);
  });

  test('auto with a contract: the unlock tap asks for the messages the service sends (debt created, debt cleared)', async () => {
    const { platform } = cabinets('active');
    const page = await openPage('cabinet', { cabinetId: 'AUTO-1', flow: 'auto' });
    await tap(page, '.unlock');
    expect(platform.subscribes).toEqual([[TEMPLATES.debtCreated, TEMPLATES.debtCleared]]);
  });

  test('semi visit in progress: the same page shows the catalogue to pay for what was taken', async () => {
    cabinets();
    const page = await openPage('cabinet', { cabinetId: 'SEMI-1', flow: 'semi', sessionId: 'v-1' });
    expect(has(page, '.unlock')).toBe(false);
    await tap(page, '.inc');
    await tap(page, '.checkout');
    expect(cartStore.get()?.cart).toMatchObject({ cabinetId: 'SEMI-1', sessionId: 'v-1' });
  });

  test('debt first even when the cabinet page is opened directly', async () => {
    const { server, platform } = cabinets();
    server.addDebt(200);
    await openPage('cabinet', { cabinetId: 'SEMI-1', flow: 'semi' });
    expect(platform.nav).toEqual([{ how: 'redirectTo', url: '/pages/debt/index?cabinetId=SEMI-1&flow=semi' }]);
  });

  test('auto without a contract opened directly → papay', async () => {
    const { platform } = cabinets();
    await openPage('cabinet', { cabinetId: 'AUTO-1', flow: 'auto' });
    expect(platform.lastNav()).toBe('redirectTo /pages/papay/index?cabinetId=AUTO-1&flow=auto');
  });

  test('debt raised between load and the unlock tap: the refusal routes to the debt page', async () => {
    const { server, platform } = cabinets();
    const page = await openPage('cabinet', { cabinetId: 'SEMI-1', flow: 'semi' });
    server.addDebt(200);
    await tap(page, '.unlock');
    expect(platform.lastNav()).toBe('redirectTo /pages/debt/index?cabinetId=SEMI-1&flow=semi');
  });

  test('an unavailable cabinet says why and the unlock is disabled', async () => {
    cabinets();
    const page = await openPage('cabinet', { cabinetId: 'BUSY-1', flow: 'semi' });
    expect(text(page, '.unavailable')).toBe('正在补货，请稍候');
  });
});
