import type { Lane, ProductSpec } from '../../contracts/domain';
import { chance, intIn, pick, rngFor, shuffle, uniform, type Rng } from '../render/prng';
import { drawNuisance, renderShelf, type Nuisance, type NuisanceLevel, type ShelfLaneState } from '../render/scene';
import type { VisitEvidence, VisitFrame } from '../recognition.types';
import { misplace } from '../training/scenes';

/**
 * Simulated visits with ground truth: a shelf before the visit (some lanes short, now and then a look-alike in
 * the wrong lane), a shopper who takes 0–4 items (sometimes two of a kind, sometimes putting one back in
 * another lane), and the `before`/`after` snapshots of every camera under drawn nuisances. Used by the
 * evaluation, the benchmark, the tests and the cabinet simulator.
 */
export interface SimVisit {
  evidence: VisitEvidence;
  /** What actually left the cabinet, as SKU → quantity. */
  truth: Record<string, number>;
  /** Tags describing what makes the visit hard, for the report. */
  tags: string[];
  /** The shelf as it stood before and after, facing by facing (the tuning tools read the gate's truth here). */
  shelves: { before: ShelfLaneState[]; after: ShelfLaneState[] };
}

export interface SimOptions {
  seed: number;
  products: readonly ProductSpec[];
  cameras?: string[];
  rows?: number;
  cols?: number;
  capacity?: number;
  /** Share of frames with `hard` nuisances (the rest `mild`). */
  hardShare?: number;
  /** Chance that an after-frame still shows a hand. */
  handAfter?: number;
  /** Chance that a frame is unreadable (dark). */
  unreadable?: number;
  /** Chance of a look-alike standing in a wrong lane before the visit. */
  misplaced?: number;
  /** Force the number of items taken. */
  take?: number;
  withDuring?: boolean;
}

export function planShelf(r: Rng, o: SimOptions): ShelfLaneState[] {
  const rows = o.rows ?? 4;
  const cols = o.cols ?? 4;
  const capacity = o.capacity ?? 6;
  const skus = shuffle(r, o.products);
  const lanes: ShelfLaneState[] = [];
  for (let i = 0; i < rows * cols; i++) {
    const p = skus[i % skus.length] as ProductSpec;
    const count = chance(r, 0.6) ? capacity : intIn(r, 0, capacity);
    const slots = Array.from({ length: capacity }, (_, k) => (k < count ? misplace(r, p, o.products, o.misplaced ?? 0.03) : null));
    lanes.push({ laneId: `${String.fromCharCode(65 + Math.floor(i / cols))}${(i % cols) + 1}`, sku: p.sku, capacity, count, slots });
  }
  return lanes;
}

/** The shopper: removes items from filled facings, sometimes puts one back elsewhere. Returns the truth. */
export function shop(r: Rng, before: ShelfLaneState[], o: SimOptions): { after: ShelfLaneState[]; truth: Record<string, number>; tags: string[] } {
  const after = before.map((l) => ({ ...l, slots: [...(l.slots ?? [])] }));
  const tags: string[] = [];
  const n = o.take ?? pick(r, [0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4]);
  const truth: Record<string, number> = {};
  const filled = (): Array<[number, number]> => after.flatMap((l, li) => l.slots.map((s, si): [number, number] | null => (s ? [li, si] : null)).filter((x): x is [number, number] => x !== null));
  let sameLane: number | null = null;
  for (let k = 0; k < n; k++) {
    const options = filled();
    if (options.length === 0) break;
    // Two of a kind from one lane is common: bias the next pick to the same lane.
    const inLane: Array<[number, number]> = sameLane !== null ? options.filter(([li]) => li === sameLane) : [];
    const [li, si]: [number, number] = inLane.length > 0 && chance(r, 0.5) ? pick(r, inLane) : pick(r, options);
    const lane = after[li] as ShelfLaneState & { slots: Array<string | null> };
    const sku = lane.slots[si] as string;
    if (sku !== lane.sku) tags.push('took_misplaced');
    if (sameLane === li) tags.push('same_lane_twice');
    truth[sku] = (truth[sku] ?? 0) + 1;
    lane.slots[si] = null;
    sameLane = li;
  }
  if (n > 0 && chance(r, 0.06)) {
    // Puts one taken item back, into an empty facing of another lane.
    const sku = pick(r, Object.keys(truth));
    const empties = after.flatMap((l, li) => l.slots.map((s, si): [number, number] | null => (s === null ? [li, si] : null)).filter((x): x is [number, number] => x !== null));
    if (sku && empties.length > 0) {
      const [li, si] = pick(r, empties);
      (after[li] as { slots: Array<string | null> }).slots[si] = sku;
      truth[sku] = (truth[sku] ?? 0) - 1;
      if (truth[sku] === 0) delete truth[sku];
      tags.push('put_back_elsewhere');
    }
  }
  for (const l of after) l.count = l.slots.filter((s) => s !== null).length;
  return { after, truth, tags };
}

export async function simulateVisit(o: SimOptions): Promise<SimVisit> {
  const r = rngFor(o.seed, 'visit');
  const cameras = o.cameras ?? ['top', 'side'];
  const before = planShelf(r, o);
  const { after, truth, tags } = shop(r, before, o);
  const frames: VisitFrame[] = [];
  const t0 = Date.UTC(2026, 0, 1) + o.seed * 1000;
  for (const camera of cameras) {
    let seq = 0;
    const shot = async (phase: 'before' | 'during' | 'after', lanes: ShelfLaneState[]): Promise<void> => {
      const fr = rngFor(o.seed, 'frame', camera, phase);
      const level: NuisanceLevel = chance(fr, o.hardShare ?? 0.5) ? 'hard' : 'mild';
      const n: Nuisance = drawNuisance(level, fr);
      n.hands = phase === 'during' ? 1 + intIn(fr, 0, 1) : phase === 'after' && chance(fr, o.handAfter ?? 0.05) ? 1 : 0;
      if (n.hands > 0 && phase === 'after') tags.push('hand_in_after');
      if (chance(fr, o.unreadable ?? 0)) {
        n.gain = uniform(fr, 0.01, 0.04);
        tags.push('unreadable');
      }
      const jpeg = await renderShelf({ lanes, camera, seed: o.seed, frameSeed: o.seed * 31 + seq * 7 + camera.length, nuisance: n, catalogue: o.products });
      frames.push({ camera, seq: seq++, phase, ts: t0 + seq * 100, jpeg });
    };
    await shot('before', before);
    if (o.withDuring) await shot('during', after);
    await shot('after', after);
  }
  const lanes: Lane[] = before.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count }));
  return { evidence: { visitId: `sim-${o.seed}`, cabinetId: 'SIM-CAB-01', lanes, cameras, frames }, truth, tags: [...new Set(tags)], shelves: { before, after } };
}

/** True when the recognised multiset equals the truth exactly. */
export function exactMatch(items: ReadonlyArray<{ sku: string; qty: number }>, truth: Record<string, number>): boolean {
  const got = Object.fromEntries(items.map((i) => [i.sku, i.qty]));
  const keys = new Set([...Object.keys(got), ...Object.keys(truth)]);
  for (const k of keys) if ((got[k] ?? 0) !== (truth[k] ?? 0)) return false;
  return true;
}

/** True when the recognised multiset charges for something that did not leave. */
export function overcharges(items: ReadonlyArray<{ sku: string; qty: number }>, truth: Record<string, number>): boolean {
  return items.some((i) => i.qty > (truth[i.sku] ?? 0));
}

/** Renders a visit from explicit before/after shelves (tests and the cabinet simulator). */
export async function visitFromStates(o: {
  seed: number;
  before: ShelfLaneState[];
  after: ShelfLaneState[];
  cameras?: string[];
  nuisance?: NuisanceLevel;
  products?: readonly ProductSpec[];
}): Promise<VisitEvidence> {
  const cameras = o.cameras ?? ['top', 'side'];
  const frames: VisitFrame[] = [];
  for (const camera of cameras) {
    let seq = 0;
    for (const [phase, lanes] of [['before', o.before], ['after', o.after]] as const) {
      const jpeg = await renderShelf({ lanes, camera, seed: o.seed, frameSeed: o.seed * 31 + seq * 7 + camera.length, nuisance: o.nuisance ?? 'mild', catalogue: o.products });
      frames.push({ camera, seq: seq++, phase, ts: Date.UTC(2026, 0, 1) + seq, jpeg });
    }
  }
  const lanes: Lane[] = o.before.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: (l.slots ?? []).filter((s) => s !== null).length || l.count }));
  return { visitId: `visit-${o.seed}`, cabinetId: 'SIM-CAB-01', lanes, cameras, frames };
}
