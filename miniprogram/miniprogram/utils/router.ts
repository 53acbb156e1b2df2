import type { CabinetEntry } from './qr';
import type { CabinetResponse, MeResponse, ShopperErrorCode } from './wire';

/**
 * Where the shopper goes next, decided from server answers only. Order matters and mirrors the platform and
 * the business: the phone prompt can only come from a tap on home (so `mask` is first); debt blocks every
 * visit at every cabinet (so `debt` comes before anything the QR asked for); the service's record of the
 * cabinet decides the flow, so a QR's flow is a hint until `resolve_cabinet` has fetched the cabinet.
 */
export type Next =
  | { kind: 'mask'; entry?: CabinetEntry }
  | { kind: 'debt'; entry?: CabinetEntry }
  | { kind: 'resolve_cabinet'; entry: CabinetEntry }
  | { kind: 'papay'; entry: CabinetEntry }
  | { kind: 'cabinet'; entry: CabinetEntry }
  | { kind: 'home' };

export function hasDebt(me: MeResponse): boolean {
  return me.debt.count > 0 || me.debt.totalFen > 0;
}

export function decideEntry(input: { me: MeResponse; entry?: CabinetEntry | undefined; cabinet?: CabinetResponse | undefined }): Next {
  const { me, entry, cabinet } = input;
  if (!me.shopper.hasPhone) return entry ? { kind: 'mask', entry } : { kind: 'mask' };
  if (hasDebt(me)) return entry ? { kind: 'debt', entry } : { kind: 'debt' };
  if (!entry) return { kind: 'home' };
  if (!cabinet || cabinet.cabinetId !== entry.cabinetId) return { kind: 'resolve_cabinet', entry };
  const resolved: CabinetEntry = { cabinetId: cabinet.cabinetId, flow: cabinet.kind };
  if (cabinet.kind === 'auto' && me.contract !== 'active') return { kind: 'papay', entry: resolved };
  return { kind: 'cabinet', entry: resolved };
}

/** The route an API refusal sends the shopper to, when it has one (otherwise the page shows the message). */
export function nextForFailure(code: ShopperErrorCode | 'NETWORK', entry?: CabinetEntry): Next | undefined {
  switch (code) {
    case 'PHONE_REQUIRED':
    case 'UNAUTHENTICATED':
      return entry ? { kind: 'mask', entry } : { kind: 'mask' };
    case 'DEBT_OUTSTANDING':
      return entry ? { kind: 'debt', entry } : { kind: 'debt' };
    case 'CONTRACT_REQUIRED':
      return entry ? { kind: 'papay', entry } : undefined;
    default:
      return undefined;
  }
}

function entryQuery(entry: CabinetEntry | undefined): string {
  if (!entry) return '';
  return `?cabinetId=${encodeURIComponent(entry.cabinetId)}${entry.flow ? `&flow=${entry.flow}` : ''}`;
}

export const PAGES = {
  home: '/pages/index/index',
  debt: '/pages/debt/index',
  papay: '/pages/papay/index',
  cabinet: '/pages/cabinet/index',
  cart: '/pages/cart/index',
  visit: '/pages/visit/index',
  orders: '/pages/orders/index',
  order: '/pages/order/index',
} as const;

/** The page URL for a decision; `resolve_cabinet` is not a page, the caller fetches the cabinet first. */
export function urlFor(next: Exclude<Next, { kind: 'resolve_cabinet' }>): string {
  switch (next.kind) {
    case 'mask':
      return PAGES.home + entryQuery(next.entry);
    case 'home':
      return PAGES.home;
    case 'debt':
      return PAGES.debt + entryQuery(next.entry);
    case 'papay':
      return PAGES.papay + entryQuery(next.entry);
    case 'cabinet':
      return PAGES.cabinet + entryQuery(next.entry);
    default:
      return assertNever(next);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

/** Back to home with the pending cabinet, so the entry decision runs again on fresh server state. */
export function resumeUrl(entry: CabinetEntry | undefined): string {
  return PAGES.home + entryQuery(entry);
}
