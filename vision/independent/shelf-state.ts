import type { Lane } from '../../contracts/domain';
import type { Random } from './random';

/**
 * What physically stands in every facing before and after a visit, and what left: pure, no drawing. The truth
 * is the multiset difference of the two shelves, so it is right however the shopper's actions combine — it
 * is not derived from the actions by the same arithmetic a recogniser would use.
 */

/** One physical item on the shelf; `unit` follows it from facing to facing (a put-back, a swap). */
export interface Unit {
  unit: number;
  sku: string;
}

/** Facings of each lane, left to right; `null` is an empty facing. */
export type Shelf = Map<string, Array<Unit | null>>;

/** The shopper's actions, in the order they happen. */
export interface Actions {
  /** Units that leave each lane (and the cabinet). */
  takes: Readonly<Record<string, number>>;
  /** A unit taken from `from` and put down in an empty facing of another lane `into`: it stays in the cabinet. */
  putBacks?: ReadonlyArray<{ from: string; into: string }>;
  /**
   * A look-alike swap within a facing: the shopper takes a unit from `lane`, and puts a unit taken from `from`
   * (same brand, another flavour) into the facing just emptied. Net, one unit of `lane`'s item left.
   */
  swaps?: ReadonlyArray<{ lane: string; from: string }>;
}

export interface ShelfChange {
  before: Shelf;
  after: Shelf;
  /** sku → units that left the cabinet. */
  truth: Record<string, number>;
  /** Facings whose content changed, where the shopper's hand was. */
  touched: Array<{ laneId: string; slot: number }>;
}

const occupied = (facings: ReadonlyArray<Unit | null>): number[] => facings.flatMap((u, i) => (u ? [i] : []));
const empty = (facings: ReadonlyArray<Unit | null>): number[] => facings.flatMap((u, i) => (u ? [] : [i]));

/** Stocks every lane with `count` units of its SKU in facings chosen at random (shoppers leave gaps anywhere). */
export function stockShelf(lanes: readonly Lane[], r: Random): Shelf {
  const shelf: Shelf = new Map();
  let next = 0;
  for (const l of lanes) {
    if (l.count > l.capacity) throw new Error(`lane ${l.laneId}: count ${l.count} > capacity ${l.capacity}`);
    const slots = r.shuffle([...Array(l.capacity).keys()]).slice(0, l.count);
    const facings: Array<Unit | null> = Array.from({ length: l.capacity }, () => null);
    for (const s of slots) facings[s] = { unit: next++, sku: l.sku };
    shelf.set(l.laneId, facings);
  }
  return shelf;
}

const copy = (s: Shelf): Shelf => new Map([...s].map(([k, v]) => [k, [...v]]));

function facingsOf(s: Shelf, laneId: string): Array<Unit | null> {
  const f = s.get(laneId);
  if (!f) throw new Error(`infeasible visit: no lane ${laneId}`);
  return f;
}

/** Removes a unit from a random occupied facing of a lane; throws when the lane is empty (an infeasible spec). */
function removeOne(s: Shelf, laneId: string, r: Random, why: string): { unit: Unit; slot: number } {
  const f = facingsOf(s, laneId);
  const options = occupied(f);
  if (options.length === 0) throw new Error(`infeasible visit: ${why} from ${laneId}, which is empty by then`);
  const slot = r.pick(options);
  const unit = f[slot] as Unit;
  f[slot] = null;
  return { unit, slot };
}

/** Applies the actions to a stocked shelf. Throws on a spec that cannot happen (a programming error in the caller). */
export function applyActions(before: Shelf, a: Actions, r: Random): ShelfChange {
  const after = copy(before);
  const touched: ShelfChange['touched'] = [];
  for (const [laneId, n] of Object.entries(a.takes)) {
    for (let k = 0; k < n; k++) touched.push({ laneId, slot: removeOne(after, laneId, r, 'take').slot });
  }
  for (const p of a.putBacks ?? []) {
    if (p.from === p.into) throw new Error(`infeasible visit: put-back from ${p.from} into the same lane`);
    const took = removeOne(after, p.from, r, 'put-back');
    const into = facingsOf(after, p.into);
    const free = empty(into);
    if (free.length === 0) throw new Error(`infeasible visit: put-back into ${p.into}, which has no empty facing`);
    const slot = r.pick(free);
    into[slot] = took.unit;
    touched.push({ laneId: p.from, slot: took.slot }, { laneId: p.into, slot });
  }
  for (const w of a.swaps ?? []) {
    const out = removeOne(after, w.lane, r, 'swap');
    const alike = removeOne(after, w.from, r, 'swap');
    if (alike.unit.sku === out.unit.sku) throw new Error(`infeasible visit: swap of ${w.lane} with ${w.from}, which hold the same SKU`);
    facingsOf(after, w.lane)[out.slot] = alike.unit;
    touched.push({ laneId: w.lane, slot: out.slot }, { laneId: w.from, slot: alike.slot });
  }
  return { before, after, truth: multisetDifference(before, after), touched };
}

function skuCounts(s: Shelf): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of s.values()) for (const u of f) if (u) m.set(u.sku, (m.get(u.sku) ?? 0) + 1);
  return m;
}

/** sku → (units before − units after), only the positive entries, keys sorted. */
export function multisetDifference(before: Shelf, after: Shelf): Record<string, number> {
  const b = skuCounts(before);
  const a = skuCounts(after);
  const out: Record<string, number> = {};
  for (const sku of [...b.keys()].sort()) {
    const n = (b.get(sku) ?? 0) - (a.get(sku) ?? 0);
    if (n > 0) out[sku] = n;
  }
  return out;
}
