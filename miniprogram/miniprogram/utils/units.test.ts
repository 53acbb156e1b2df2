import { formatFen } from './money';
import { emptyCart, setQty, toCheckout, viewCart } from './cart';
import { isTerminal, progressSteps } from './visit';
import { askSubscribe } from './subscribe';
import { FakePlatform } from '../test/fake-platform';

describe('small units', () => {
  test('money is formatted from integer fen', () => {
    expect([0, 5, 50, 350, 100000, -120].map(formatFen)).toEqual(['¥0.00', '¥0.05', '¥0.50', '¥3.50', '¥1000.00', '-¥1.20']);
    expect(() => formatFen(3.5)).toThrow();
  });

  test('cart clamps to stock and the contract limit, and builds the checkout body', () => {
    const items = [
      { sku: 'COLA-330', name: '可乐', priceFen: 350, laneId: 'A1', stock: 2 },
      { sku: 'CHIPS-70', name: '薯片', priceFen: 800, laneId: 'A2', stock: 40 },
    ];
    let cart = emptyCart('CAB-1');
    cart = setQty(cart, items[0]!, 5);
    cart = setQty(cart, items[1]!, 25);
    expect(cart.qty).toEqual({ 'COLA-330': 2, 'CHIPS-70': 20 });
    expect(viewCart(cart, items)).toMatchObject({ count: 22, totalFen: 16700, total: '¥167.00' });
    expect(toCheckout(setQty(cart, items[1]!, 0), true)).toEqual({ cabinetId: 'CAB-1', lines: [{ sku: 'COLA-330', qty: 2 }], signContract: true });
    expect(toCheckout(emptyCart('CAB-1'), false)).toBeUndefined();
    expect(toCheckout(setQty(emptyCart('CAB-1', 'v-1'), items[0]!, 1), false)?.sessionId).toBe('v-1');
  });

  test('visit progress for the automatic flow ends on 已扣款 or 人工复核中', () => {
    expect(progressSteps('auto', 'door_open').map((s) => s.status)).toEqual(['done', 'active', 'todo', 'todo']);
    expect(progressSteps('auto', 'recognising').map((s) => s.label)).toEqual(['开门', '门已打开', '识别中', '已扣款']);
    expect(progressSteps('auto', 'charged').every((s) => s.status === 'done')).toBe(true);
    expect(progressSteps('auto', 'held_for_review')[3]).toEqual({ label: '人工复核中', status: 'done' });
    expect(progressSteps('auto', 'debt')[3]!.status).toBe('error');
    expect(progressSteps('semi', 'relocked')[1]!.status).toBe('error');
    expect(isTerminal('recognising')).toBe(false);
    expect(isTerminal('charged')).toBe(true);
  });

  test('subscribe prompts: at most 3 templates, unconfigured ids skipped, never throws', async () => {
    const p = new FakePlatform();
    await askSubscribe(p, ['a', '', 'b', 'a', 'c', 'd']);
    expect(p.subscribes).toEqual([['a', 'b', 'c']]);
    await askSubscribe(p, ['', '']);
    expect(p.subscribes).toHaveLength(1);
    await expect(askSubscribe({ requestSubscribe: () => Promise.reject(new Error('20004')) }, ['a'])).resolves.toBeUndefined();
  });
});
