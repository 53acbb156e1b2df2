import { CabinetSpec, ProductSpec } from './domain';
import { DEMO_CATALOGUE, DEMO_FLEET } from './demo-data';

describe('demo data', () => {
  it('is a few dozen valid SKUs with unique codes and integer-fen prices', () => {
    expect(DEMO_CATALOGUE.length).toBeGreaterThanOrEqual(24);
    for (const p of DEMO_CATALOGUE) expect(ProductSpec.safeParse(p).success).toBe(true);
    expect(new Set(DEMO_CATALOGUE.map((p) => p.sku)).size).toBe(DEMO_CATALOGUE.length);
  });

  it('has cabinets of every kind whose lanes name catalogue SKUs', () => {
    const skus = new Set(DEMO_CATALOGUE.map((p) => p.sku));
    expect(new Set(DEMO_FLEET.map((c) => c.kind))).toEqual(new Set(['open', 'semi', 'auto']));
    for (const c of DEMO_FLEET) {
      expect(CabinetSpec.safeParse(c).success).toBe(true);
      for (const l of c.lanes) expect(skus.has(l.sku)).toBe(true);
      // Door cabinets need cameras; open shelves have none.
      expect(c.cameras.length > 0).toBe(c.kind !== 'open');
    }
  });
});
