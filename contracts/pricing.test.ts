import { nextChange, priceAt, type PriceChange } from './pricing';

const ch = (priceFen: number | null, from: number, siteId?: string, setAt = from): PriceChange => ({ priceFen, from, setBy: 'op', setAt, ...(siteId ? { siteId } : {}) });

describe('prices as they stand at a moment', () => {
  const product = { priceFen: 350, prices: [ch(380, 100), ch(300, 150, 'sh'), ch(400, 200), ch(null, 300, 'sh'), ch(420, 200, undefined, 250)] };

  it.each([
    ['before any change: the list price', undefined, 50, 350],
    ['a change for every site once it began', undefined, 100, 380],
    ['another site keeps the base schedule', 'bj', 160, 380],
    ['a site override wins over the base', 'sh', 160, 300],
    ['an override stands over a later base change', 'sh', 220, 300],
    ['two changes from the same moment: the one set last', undefined, 200, 420],
    ['an ended override: back to the base', 'sh', 300, 420],
    ['the moment itself counts (from ≤ at)', 'sh', 150, 300],
  ] as const)('%s', (_what, site, at, expected) => {
    expect(priceAt(product, site, at)).toBe(expected);
  });

  it('a product without a schedule is its list price', () => {
    expect(priceAt({ priceFen: 500 }, 'sh', 1e12)).toBe(500);
  });

  it('says which change comes next, for the site or for all', () => {
    expect(nextChange(product, 'sh', 160)).toMatchObject({ from: 200 });
    expect(nextChange(product, 'bj', 250)).toBeUndefined();
    expect(nextChange(product, 'sh', 250)).toMatchObject({ from: 300, siteId: 'sh' });
  });
});
