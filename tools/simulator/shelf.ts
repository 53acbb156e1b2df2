import type { Lane } from '../../contracts/domain';
import type { Rng } from './rng';
import { between, intBetween } from './rng';

/** The cabinet's own idea of its stock: lane counts that shoppers deplete. */
export class Shelf {
  private lanes: Lane[];

  constructor(lanes: readonly Lane[]) {
    this.lanes = lanes.map((l) => ({ ...l }));
  }

  snapshot(): Lane[] {
    return this.lanes.map((l) => ({ ...l }));
  }

  /** Takes up to `count` from each lane; returns what was actually taken (a lane never goes below 0). */
  take(takes: readonly LaneTake[]): LaneTake[] {
    const taken: LaneTake[] = [];
    for (const t of takes) {
      const lane = this.lanes.find((l) => l.laneId === t.laneId);
      if (!lane) continue;
      const n = Math.min(lane.count, Math.max(0, t.count));
      if (n > 0) {
        lane.count -= n;
        taken.push({ laneId: t.laneId, count: n });
      }
    }
    return taken;
  }

  /** Fills every lane; given a planogram, the restocker lays the shelf out anew first (its lanes, products, capacities). */
  restock(planogram?: ReadonlyArray<Pick<Lane, 'laneId' | 'sku' | 'capacity'>>): void {
    if (planogram) this.lanes = planogram.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.capacity }));
    for (const l of this.lanes) l.count = l.capacity;
  }

  stocked(): Lane[] {
    return this.lanes.filter((l) => l.count > 0);
  }
}

export interface LaneTake {
  laneId: string;
  count: number;
}

/**
 * What the shopper behind one unlock does. `shows: false` — nobody opens the door (the cabinet relocks);
 * `leavesOpenForMs` — the shopper walks off with the door open for that long before someone shuts it.
 */
export type ShopperPlan =
  | { shows: false }
  | { shows: true; arriveAfterMs: number; dwellMs: number; takes: LaneTake[]; leavesOpenForMs?: number };

/** A shopper script: asked once per unlock, with the stocked lanes and the window. */
export interface Shopper {
  plan(ctx: { cabinetId: string; visitId: string; stocked: readonly Lane[]; openWithinMs: number }): ShopperPlan;
}

export interface RandomShopperOptions {
  /** Chance nobody comes after an unlock. */
  noShow: number;
  /** Chance the shopper forgets to close the door. */
  forgetToClose: number;
  /** How long a forgotten door stays open before someone closes it. */
  forgottenForMs: readonly [number, number];
  /** Items per visit, uniform in [min, max]. */
  items: readonly [number, number];
  dwellMs: readonly [number, number];
}

export const DEFAULT_SHOPPER: RandomShopperOptions = { noShow: 0.05, forgetToClose: 0.03, forgottenForMs: [60_000, 120_000], items: [0, 3], dwellMs: [3_000, 12_000] };

/** A shopper drawn at random for every unlock (seeded). Arrives within the first half of the window. */
export function randomShopper(r: Rng, o: RandomShopperOptions = DEFAULT_SHOPPER): Shopper {
  return {
    plan({ stocked, openWithinMs }) {
      if (r() < o.noShow) return { shows: false };
      const want = intBetween(r, o.items[0], o.items[1]);
      const counts = new Map<string, number>();
      const avail = new Map(stocked.map((l) => [l.laneId, l.count]));
      for (let i = 0; i < want && stocked.length > 0; i++) {
        const lane = stocked[Math.floor(r() * stocked.length)];
        if (!lane) break;
        const left = avail.get(lane.laneId) ?? 0;
        if (left <= 0) continue;
        avail.set(lane.laneId, left - 1);
        counts.set(lane.laneId, (counts.get(lane.laneId) ?? 0) + 1);
      }
      const plan: ShopperPlan = {
        shows: true,
        arriveAfterMs: Math.round(between(r, 0.05, 0.5) * openWithinMs),
        dwellMs: Math.round(between(r, o.dwellMs[0], o.dwellMs[1])),
        takes: [...counts].map(([laneId, count]) => ({ laneId, count })),
      };
      if (r() < o.forgetToClose) plan.leavesOpenForMs = Math.round(between(r, o.forgottenForMs[0], o.forgottenForMs[1]));
      return plan;
    },
  };
}

/** Plays the given plans in order, then nobody comes. For tests and demos. */
export function scriptedShopper(plans: readonly ShopperPlan[]): Shopper {
  let i = 0;
  return { plan: () => plans[i++] ?? { shows: false } };
}

/** Nobody ever comes: every unlock ends in `relocked`. The benchmark's traffic. */
export const noShopper: Shopper = { plan: () => ({ shows: false }) };
