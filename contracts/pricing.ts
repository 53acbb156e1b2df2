/**
 * Prices as they stand at a moment, pure (the service bills with it, the console shows it). A product has
 * its list price and a schedule of changes, each from a time, either for every site or for one site (an
 * override; `priceFen: null` ends a site's override, back to the list price from then). At a moment the
 * site's latest override that has begun wins, else the latest change for every site that has begun, else
 * the list price. Ties at the same `from` go to the change set last.
 */
export interface PriceChange {
  priceFen: number | null;
  /** Epoch ms the price applies from. */
  from: number;
  siteId?: string;
  setBy: string;
  /** Epoch ms it was set. */
  setAt: number;
}

export interface Priced {
  priceFen: number;
  prices?: readonly PriceChange[];
}

function latest(changes: readonly PriceChange[]): PriceChange | undefined {
  let best: PriceChange | undefined;
  for (const c of changes) if (!best || c.from > best.from || (c.from === best.from && c.setAt > best.setAt)) best = c;
  return best;
}

/** The price of `p` at `at` (epoch ms) at `siteId` (undefined: the list price schedule only). */
export function priceAt(p: Priced, siteId: string | undefined, at: number): number {
  const begun = (p.prices ?? []).filter((c) => c.from <= at);
  const override = siteId ? latest(begun.filter((c) => c.siteId === siteId)) : undefined;
  if (override && override.priceFen !== null) return override.priceFen;
  return latest(begun.filter((c) => c.siteId === undefined))?.priceFen ?? p.priceFen;
}

/** The next change still to come for `siteId` or for every site after `at`, for the console's "from …" note. */
export function nextChange(p: Priced, siteId: string | undefined, at: number): PriceChange | undefined {
  const coming = (p.prices ?? []).filter((c) => c.from > at && (c.siteId === undefined || c.siteId === siteId));
  let first: PriceChange | undefined;
  for (const c of coming) if (!first || c.from < first.from) first = c;
  return first;
}
