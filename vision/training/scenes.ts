import type { ProductSpec } from '../../contracts/domain';
import { chance, intIn, pick, rngFor, type Rng } from '../render/prng';
import type { ShelfLaneState } from '../render/scene';

/**
 * Random shelf contents for training and evaluation: a planogram over a grid, lanes partly filled, and now
 * and then an item standing in the wrong lane (often a look-alike flavour of the same brand).
 */
export interface SceneSpec {
  lanes: ShelfLaneState[];
}

export function randomShelf(seed: number, products: readonly ProductSpec[], opts: { rows?: number; cols?: number; capacity?: number; misplaced?: number } = {}): SceneSpec {
  const r = rngFor(seed, 'shelf');
  const rows = opts.rows ?? intIn(r, 3, 4);
  const cols = opts.cols ?? intIn(r, 3, 4);
  const lanes: ShelfLaneState[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const p = pick(r, products);
      const capacity = opts.capacity ?? intIn(r, 4, 7);
      const fill = 0.25 + 0.7 * r();
      const slots = Array.from({ length: capacity }, () => (chance(r, fill) ? misplace(r, p, products, opts.misplaced ?? 0.1) : null));
      lanes.push({ laneId: `${String.fromCharCode(65 + row)}${col + 1}`, sku: p.sku, capacity, count: slots.filter((s) => s !== null).length, slots });
    }
  }
  return { lanes };
}

/** Usually the planogram SKU; sometimes a sibling flavour of the same brand, rarely anything else. */
export function misplace(r: Rng, p: ProductSpec, products: readonly ProductSpec[], rate: number): string {
  if (!chance(r, rate)) return p.sku;
  const siblings = products.filter((q) => q.brand === p.brand && q.sku !== p.sku);
  if (siblings.length > 0 && chance(r, 0.7)) return pick(r, siblings).sku;
  return pick(r, products).sku;
}
