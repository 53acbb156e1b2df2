import { z } from 'zod';
import { CabinetId, LaneId, Sku, type Lane } from './domain';

/**
 * Planograms, pure: which product stands in which lane of a cabinet, how many fit, and at which count it is
 * restocked. A cabinet's planogram is versioned: an operator proposes a new version (from the version that
 * stands, so an edit made meanwhile is refused rather than overwritten), it waits as `pending` and takes
 * effect at the cabinet's next restock unlock, never under an open visit (the restocker is the one who
 * moves the products). A visit is recognised against the version that stood when its door opened.
 */
export const PlanogramLane = z
  .object({
    laneId: LaneId,
    sku: Sku,
    capacity: z.number().int().min(1).max(50),
    /** Restock at or below this count; 30 % of capacity when left out (contracts/restock.ts). */
    par: z.number().int().min(0).max(50).optional(),
  })
  .strict();
export type PlanogramLane = z.infer<typeof PlanogramLane>;

export const ProposePlanogramRequest = z
  .object({
    lanes: z.array(PlanogramLane).min(1).max(200),
    /** The version the edit was made from: refused with VERSION_CONFLICT when another was proposed or applied since. */
    baseVersion: z.number().int().min(0),
    note: z.string().max(200).optional(),
  })
  .strict();
export type ProposePlanogramRequest = z.infer<typeof ProposePlanogramRequest>;

export const LaneChange = z.object({
  laneId: LaneId,
  change: z.enum(['added', 'removed', 'product', 'capacity', 'par']),
  before: PlanogramLane.optional(),
  after: PlanogramLane.optional(),
});
export type LaneChange = z.infer<typeof LaneChange>;

export const PlanogramVersion = z.object({
  version: z.number().int(),
  status: z.enum(['pending', 'applied', 'withdrawn']),
  lanes: z.array(PlanogramLane),
  createdBy: z.string(),
  createdAt: z.number().int(),
  appliedAt: z.number().int().optional(),
  /** The restock visit whose unlock applied it. */
  appliedVisitId: z.string().optional(),
  note: z.string().optional(),
});
export type PlanogramVersion = z.infer<typeof PlanogramVersion>;

export const PlanogramResponse = z.object({
  cabinetId: CabinetId,
  kind: z.enum(['open', 'semi', 'auto']),
  /** The version in force and its lanes with their counts. */
  version: z.number().int(),
  lanes: z.array(z.object({ laneId: LaneId, sku: Sku, capacity: z.number().int(), count: z.number().int(), par: z.number().int().optional() })),
  /** The version waiting for the next restock unlock, with what it changes. */
  pending: PlanogramVersion.extend({ diff: z.array(LaneChange) }).optional(),
  history: z.array(PlanogramVersion),
});
export type PlanogramResponse = z.infer<typeof PlanogramResponse>;

/** Lanes ordered as a cabinet's grid reads: row letter, then column number (A1, A2, …, A10, B1). */
export function laneOrder(a: string, b: string): number {
  return a.charCodeAt(0) - b.charCodeAt(0) || Number(a.slice(1)) - Number(b.slice(1));
}

/** Problems with a proposed set of lanes (duplicates, a par above the capacity); empty when it is sound. */
export function planogramProblems(lanes: readonly PlanogramLane[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const l of lanes) {
    if (seen.has(l.laneId)) out.push(`lane ${l.laneId} is listed twice`);
    seen.add(l.laneId);
    if (l.par !== undefined && l.par > l.capacity) out.push(`lane ${l.laneId}: par ${l.par} is above its capacity ${l.capacity}`);
  }
  return out;
}

/** What a new version changes, lane by lane (one entry per lane and kind of change), in grid order. */
export function planogramDiff(before: readonly PlanogramLane[], after: readonly PlanogramLane[]): LaneChange[] {
  const was = new Map(before.map((l) => [l.laneId, strip(l)]));
  const now = new Map(after.map((l) => [l.laneId, strip(l)]));
  const out: LaneChange[] = [];
  for (const id of [...new Set([...was.keys(), ...now.keys()])].sort(laneOrder)) {
    const b = was.get(id);
    const a = now.get(id);
    if (!b && a) out.push({ laneId: id, change: 'added', after: a });
    else if (b && !a) out.push({ laneId: id, change: 'removed', before: b });
    else if (b && a) {
      if (b.sku !== a.sku) out.push({ laneId: id, change: 'product', before: b, after: a });
      if (b.capacity !== a.capacity) out.push({ laneId: id, change: 'capacity', before: b, after: a });
      if (b.par !== a.par) out.push({ laneId: id, change: 'par', before: b, after: a });
    }
  }
  return out;
}

/**
 * The cabinet's lanes once a version takes effect at a restock unlock: a lane that keeps its product keeps
 * its count (no more than the new capacity); a lane with a new product, or a new lane, starts at 0 until the
 * restocker's counts close the task. Lanes the version drops are gone (what was in them is the restocker's
 * to take out and count).
 */
export function applyPlanogram(current: readonly Lane[], next: readonly PlanogramLane[]): Lane[] {
  const was = new Map(current.map((l) => [l.laneId, l]));
  return [...next]
    .sort((a, b) => laneOrder(a.laneId, b.laneId))
    .map((l) => {
      const old = was.get(l.laneId);
      const count = old && old.sku === l.sku ? Math.min(old.count, l.capacity) : 0;
      return { laneId: l.laneId, sku: l.sku, capacity: l.capacity, count, ...(l.par !== undefined ? { par: l.par } : {}) };
    });
}

/** The planogram part of a cabinet's lanes (no counts). */
export function planogramOf(lanes: readonly Lane[]): PlanogramLane[] {
  return lanes.map(strip);
}

function strip(l: PlanogramLane | Lane): PlanogramLane {
  return { laneId: l.laneId, sku: l.sku, capacity: l.capacity, ...(l.par !== undefined ? { par: l.par } : {}) };
}
