import type { CabinetSpec, Lane, ProductSpec } from '../../contracts/domain';
import { DEMO_CATALOGUE, DEMO_FLEET } from '../../contracts/demo-data';
import type { VisitSpec } from './compose';
import type { Tier } from './conditions';
import { randomFor } from './random';

/**
 * Draws a visit for the independent set: a camera cabinet's planogram from the demo fleet, how full each lane
 * is, and what the shopper does (takes, a put-back into another lane, a look-alike swap within a facing). Only
 * counts are tracked here; the compositor decides which facings and computes the truth from the shelves.
 */
interface Habits {
  fullLaneP: number;
  minCount: number;
  takes: ReadonlyArray<[n: number, weight: number]>;
  putBackP: number;
  swapP: number;
}

const HABITS: Record<Tier, Habits> = {
  mild: { fullLaneP: 0.4, minCount: 2, takes: [[0, 0.05], [1, 0.5], [2, 0.3], [3, 0.15]], putBackP: 0.1, swapP: 0.06 },
  hard: { fullLaneP: 0.25, minCount: 0, takes: [[0, 0.05], [1, 0.35], [2, 0.3], [3, 0.2], [4, 0.1]], putBackP: 0.2, swapP: 0.15 },
};

export function drawVisitSpec(tier: Tier, seed: number, fleet: readonly CabinetSpec[] = DEMO_FLEET, catalogue: readonly ProductSpec[] = DEMO_CATALOGUE): VisitSpec {
  const r = randomFor(`independent-spec|${tier}|${seed}`);
  const H = HABITS[tier];
  const cabinets = fleet.filter((c) => c.cameras.includes('top') && c.cameras.includes('side') && c.lanes.length > 0);
  const cabinet = r.pick(cabinets);
  const lanes: Lane[] = cabinet.lanes.map((l) => ({ ...l, count: r.chance(H.fullLaneP) ? l.capacity : r.int(Math.min(H.minCount, l.capacity), l.capacity) }));
  const left = new Map(lanes.map((l) => [l.laneId, l.count]));
  const capacity = new Map(lanes.map((l) => [l.laneId, l.capacity]));
  const withUnits = (): string[] => lanes.filter((l) => (left.get(l.laneId) ?? 0) > 0).map((l) => l.laneId);

  const takes: Record<string, number> = {};
  let n = r.next();
  const want = H.takes.find(([, w]) => (n -= w) < 0)?.[0] ?? 1;
  for (let k = 0; k < want; k++) {
    const options = withUnits();
    if (options.length === 0) break;
    const laneId = r.pick(options);
    takes[laneId] = (takes[laneId] ?? 0) + 1;
    left.set(laneId, (left.get(laneId) ?? 0) - 1);
  }

  const putBacks: Array<{ from: string; into: string }> = [];
  if (r.chance(H.putBackP)) {
    const from = withUnits();
    const into = lanes.filter((l) => (left.get(l.laneId) ?? 0) < (capacity.get(l.laneId) ?? 0)).map((l) => l.laneId);
    const f = from.length > 0 ? r.pick(from) : undefined;
    const targets = into.filter((x) => x !== f);
    if (f && targets.length > 0) {
      const t = r.pick(targets);
      putBacks.push({ from: f, into: t });
      left.set(f, (left.get(f) ?? 0) - 1);
      left.set(t, (left.get(t) ?? 0) + 1);
    }
  }

  const swaps: Array<{ lane: string; from: string }> = [];
  if (r.chance(H.swapP)) {
    const brand = new Map(catalogue.map((p) => [p.sku, p.brand]));
    const pairs = lanes.flatMap((a) =>
      lanes.filter((b) => b.laneId !== a.laneId && b.sku !== a.sku && brand.get(b.sku) === brand.get(a.sku) && (left.get(a.laneId) ?? 0) > 0 && (left.get(b.laneId) ?? 0) > 0).map((b) => ({ lane: a.laneId, from: b.laneId })),
    );
    if (pairs.length > 0) {
      const s = r.pick(pairs);
      swaps.push(s);
      left.set(s.from, (left.get(s.from) ?? 0) - 1);
    }
  }
  return { lanes, takes, putBacks, swaps, tier, seed, cabinetId: cabinet.cabinetId };
}
