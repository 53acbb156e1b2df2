import { world, openPage, tap, text, has, TEMPLATES } from '../../test/harness';
import { cartStore, emptyCart, setQty } from '../../utils/cart';
import type { CatalogueItem } from '../../utils/wire';

const items: CatalogueItem[] = [
  { sku: 'COLA-330', name: '可乐', priceFen: 350, laneId: 'A1', stock: 5 },
  { sku: 'CHIPS-70', name: '薯片', priceFen: 800, laneId: 'A2', stock: 5 },
];

function shop(sessionId?: string) {
  const w = world();
  w.server.hasPhone = true;
  w.server.addCabinet({ cabinetId: 'OPEN-1', name: '开放货架', kind: sessionId ? 'semi' : 'open', items });
  let cart = emptyCart('OPEN-1', sessionId);
  cart = setQty(cart, items[0]!, 2);
  cart = setQty(cart, items[1]!, 1);
  cartStore.put(cart, items);
  return w;
}

describe('cart: payment result handling', () => {
  test('shows the lines and total from fen', async () => {
    shop();
    const page = await openPage('cart');
    expect(text(page, '.total')).toBe('¥15.00');
  });

  test('ok + server paid → receipt page; subscribe asked inside the payment callback', async () => {
    const { server, platform } = shop();
    platform.onPay = () => server.markPaid([...server.orders.keys()].pop()!);
    const page = await openPage('cart');
    await tap(page, '.pay');
    expect(server.callsTo('checkout').map((c) => c.body)).toEqual([{ cabinetId: 'OPEN-1', lines: [{ sku: 'COLA-330', qty: 2 }, { sku: 'CHIPS-70', qty: 1 }], signContract: true }]);
    // An open-shelf purchase cannot become debt: the service sends it no message, so none is asked for.
    expect(platform.events.filter((e) => e !== 'login')).toEqual(['requestPayment']);
    expect(platform.subscribes).toEqual([]);
    expect(platform.lastNav()).toMatch(/^redirectTo \/pages\/order\/index\?orderId=o-\d+$/);
    expect(cartStore.get()).toBeUndefined();
  });

  test('ok but no server confirmation yet → "确认中", pay button disabled, no second payment possible', async () => {
    const { server, platform } = shop();
    const page = await openPage('cart');
    await tap(page, '.pay');
    expect(text(page, '.result')).toBe('支付结果确认中');
    expect(has(page, '.view-order')).toBe(true);
    await tap(page, '.pay');
    expect(platform.payments).toHaveLength(1);
    expect(server.callsTo('checkout')).toHaveLength(1);
    expect(platform.nav).toEqual([]);
  });

  test('cancel → "已取消支付"; paying again reuses the same order (no duplicate order)', async () => {
    const { server, platform } = shop();
    platform.pay = { kind: 'cancel' };
    const page = await openPage('cart');
    await tap(page, '.pay');
    expect(text(page, '.result')).toBe('已取消支付');
    expect(platform.subscribes).toEqual([]);
    platform.pay = { kind: 'ok' };
    platform.onPay = () => server.markPaid([...server.orders.keys()].pop()!);
    await tap(page, '.pay');
    expect(server.callsTo('checkout')).toHaveLength(1);
    expect(platform.payments).toHaveLength(2);
    expect(platform.lastNav()).toMatch(/^redirectTo \/pages\/order\/index/);
  });

  test('fail → "支付未完成，请重试"', async () => {
    const { platform } = shop();
    platform.pay = { kind: 'fail', errMsg: 'requestPayment:fail system error' };
    const page = await openPage('cart');
    await tap(page, '.pay');
    expect(text(page, '.result')).toBe('支付未完成，请重试');
  });

  test('the phone reports a cancel but the server has the money → paid, receipt', async () => {
    const { server, platform } = shop();
    platform.pay = { kind: 'cancel' };
    const page = await openPage('cart');
    // The money moved although the callback said cancel (e.g. a lost callback on a weak signal).
    const origRequest = platform.requestPayment.bind(platform);
    platform.requestPayment = async (p, h) => {
      server.markPaid([...server.orders.keys()].pop()!);
      return origRequest(p, h);
    };
    await tap(page, '.pay');
    expect(platform.lastNav()).toMatch(/^redirectTo \/pages\/order\/index/);
  });

  test('pay-and-sign is offered without a contract, and not with one', async () => {
    const a = shop();
    const page = await openPage('cart');
    expect(has(page, '.sign')).toBe(true);
    await tap(page, '.sign');
    await tap(page, '.pay');
    expect(a.server.callsTo('checkout')[0]!.body).toMatchObject({ signContract: false });

    const b = shop();
    b.server.contract = 'active';
    const page2 = await openPage('cart');
    expect(has(page2, '.sign')).toBe(false);
    await tap(page2, '.pay');
    expect(b.server.callsTo('checkout')[0]!.body).toMatchObject({ signContract: false });
  });

  test('a semi visit\'s cart carries its session', async () => {
    const { server, platform } = shop('v-9');
    const page = await openPage('cart');
    await tap(page, '.pay');
    expect(server.callsTo('checkout')[0]!.body).toMatchObject({ sessionId: 'v-9' });
    expect(platform.events.filter((e) => e !== 'login')).toEqual(['requestPayment', 'subscribe']);
    expect(platform.subscribes).toEqual([[TEMPLATES.debtCreated, TEMPLATES.debtCleared]]);
  });

  test('debt raised meanwhile: checkout is refused and the shopper goes to the debt page, nothing is charged', async () => {
    const { server, platform } = shop();
    server.addDebt(100);
    const page = await openPage('cart');
    await tap(page, '.pay');
    expect(platform.payments).toEqual([]);
    expect(platform.lastNav()).toBe('redirectTo /pages/debt/index?cabinetId=OPEN-1');
  });
});
