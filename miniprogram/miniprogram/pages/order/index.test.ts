import { world, openPage, tap, text, has } from '../../test/harness';

describe('receipt and appeal', () => {
  test('itemised receipt from fen, then an appeal; the tap asks for the review-result message', async () => {
    const { server, platform, services } = world();
    server.hasPhone = true;
    const order = server.order('o-77', 'CAB-1', 'auto', 'paid', [{ sku: 'COLA-330', name: '可乐', qty: 2, unitPriceFen: 350, amountFen: 700 }], 'recognition');
    const closed = new Date(2026, 11, 4, 10, 32).getTime();
    server.orders.set('o-77', { ...order, pricedAt: closed, evidence: { frames: 12, confidence: 0.93, reviewed: false } });
    await services.api.login('c');
    const page = await openPage('order', { orderId: 'o-77' });
    expect(text(page, '.status')).toBe('已支付');
    expect(text(page, '.line')).toContain('¥3.50 × 2');
    expect(text(page, '.total')).toBe('¥7.00');
    expect(text(page, '.evidence')).toContain('置信度 93%');
    // Priced as the catalogue stood when the door closed, and the receipt says when.
    expect(text(page, '.priced-at')).toBe('价格按关门时（2026-12-04 10:32）计');
    page.querySelector('.reason')!.dispatchEvent('input', { detail: { value: '我只拿了一瓶' } });
    await tap(page, '.appeal');
    expect(platform.subscribes).toEqual([]);
    expect(server.callsTo('appeal').map((c) => c.body)).toEqual([{ reason: '我只拿了一瓶' }]);
    expect(text(page, '.appeal-status')).toBe('申诉处理中：我只拿了一瓶');
    expect(has(page, '.appeal-form')).toBe(false);
  });

  test('orders list shows status texts and opens a receipt', async () => {
    const { server, platform } = world();
    server.hasPhone = true;
    server.addDebt(450);
    const page = await openPage('orders');
    expect(text(page, '.status')).toBe('待支付欠款');
    await tap(page, '.order');
    expect(platform.lastNav()).toMatch(/^navigateTo \/pages\/order\/index\?orderId=o-debt-\d+$/);
  });
});
