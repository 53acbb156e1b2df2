import type { CatalogueItem, CheckoutRequest } from './wire';
import { formatFen } from './money';

/** The contract's per-line and per-cart limits (CartLine.qty ≤ 20, lines ≤ 30). */
export const MAX_QTY = 20;
export const MAX_LINES = 30;

export interface Cart {
  cabinetId: string;
  /** The semi-automatic visit the cart pays for; absent on open shelves. */
  sessionId?: string;
  qty: Readonly<Record<string, number>>;
}

export interface CartView {
  lines: { sku: string; name: string; qty: number; price: string; amount: string }[];
  count: number;
  totalFen: number;
  total: string;
}

export function emptyCart(cabinetId: string, sessionId?: string): Cart {
  return sessionId ? { cabinetId, sessionId, qty: {} } : { cabinetId, qty: {} };
}

/** Sets one line, clamped to stock and the contract's limits; 0 removes it. */
export function setQty(cart: Cart, item: Pick<CatalogueItem, 'sku' | 'stock'>, qty: number): Cart {
  const next: Record<string, number> = { ...cart.qty };
  const q = Math.max(0, Math.min(Math.floor(qty), MAX_QTY, item.stock));
  if (q === 0) delete next[item.sku];
  else if (next[item.sku] !== undefined || Object.keys(next).length < MAX_LINES) next[item.sku] = q;
  return { ...cart, qty: next };
}

/** The displayed cart; the server prices the order, this total is only what the shopper expects to pay. */
export function viewCart(cart: Cart, items: readonly CatalogueItem[]): CartView {
  const lines: CartView['lines'] = [];
  let totalFen = 0;
  let count = 0;
  for (const item of items) {
    const qty = cart.qty[item.sku];
    if (!qty) continue;
    const amountFen = item.priceFen * qty;
    totalFen += amountFen;
    count += qty;
    lines.push({ sku: item.sku, name: item.name, qty, price: formatFen(item.priceFen), amount: formatFen(amountFen) });
  }
  return { lines, count, totalFen, total: formatFen(totalFen) };
}

export function toCheckout(cart: Cart, signContract: boolean): CheckoutRequest | undefined {
  const lines = Object.entries(cart.qty)
    .filter(([, q]) => q > 0)
    .map(([sku, qty]) => ({ sku, qty }));
  if (lines.length === 0) return undefined;
  const req: CheckoutRequest = { cabinetId: cart.cabinetId, lines, signContract };
  if (cart.sessionId) req.sessionId = cart.sessionId;
  return req;
}

/** FNV-1a, 32 bits, hex: a short stable digest of a checkout request (no crypto in the mini-program). */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * The checkout's `Idempotency-Key`: stable for one cart (the same request retried after a timeout is the
 * same order and prepay at the server), another key once the shopper changes the cart.
 */
export function checkoutKey(cartId: string, req: CheckoutRequest): string {
  return `${cartId}-${digest(JSON.stringify(req))}`;
}

/** A fresh id for one cart or one debt payment (16 hex characters). */
export function newKeyId(): string {
  return Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

/** The one cart in flight, handed from the cabinet page to the cart page, with its id for the request key. */
let held: { cart: Cart; items: readonly CatalogueItem[]; cartId: string } | undefined;
export const cartStore = {
  put(cart: Cart, items: readonly CatalogueItem[]): void {
    held = { cart, items, cartId: held?.cartId ?? newKeyId() };
  },
  get(): { cart: Cart; items: readonly CatalogueItem[]; cartId: string } | undefined {
    return held;
  },
  clear(): void {
    held = undefined;
  },
};
