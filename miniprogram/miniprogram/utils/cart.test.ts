import { checkoutKey, newKeyId, toCheckout } from './cart';

describe('the checkout idempotency key', () => {
  const cart = { cabinetId: 'SH-OPEN-01', qty: { 'COLA-ORIG': 2 } };

  it('is stable for one cart and request (a retry after a timeout sends the same key)', () => {
    const id = newKeyId();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(checkoutKey(id, toCheckout(cart, false)!)).toBe(checkoutKey(id, toCheckout(cart, false)!));
  });

  it('changes when the cart changes, and fits the header the service accepts (8–64 visible characters)', () => {
    const id = newKeyId();
    const a = checkoutKey(id, toCheckout(cart, false)!);
    const b = checkoutKey(id, toCheckout({ ...cart, qty: { 'COLA-ORIG': 3 } }, false)!);
    expect(a).not.toBe(b);
    for (const k of [a, b]) expect(k).toMatch(/^[\x21-\x7e]{8,64}$/);
  });
});
