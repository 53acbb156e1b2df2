import { z } from 'zod';
import { CabinetId, LaneId, SiteId, Sku } from './domain';

/**
 * Low stock and the restock list, pure. A lane is low when its count is at or below its par level (the
 * lane's own `par`, else 30 % of its capacity, rounded up: a lane of 10 is low at 3). The list says, per
 * cabinet of a site, what to bring lane by lane (up to capacity), and for the van the same summed per
 * product.
 */
export const DEFAULT_PAR_SHARE = 0.3;

export interface StockLane {
  laneId: string;
  sku: string;
  capacity: number;
  count: number;
  par?: number;
}

export const parOf = (l: Pick<StockLane, 'capacity' | 'par'>): number => l.par ?? Math.ceil(l.capacity * DEFAULT_PAR_SHARE);
/** Low: at or below par, and room left (a par set at the capacity does not list a full lane). */
export const isLow = (l: StockLane): boolean => l.count <= parOf(l) && l.count < l.capacity;

export const RestockLine = z.object({ laneId: LaneId, sku: Sku, name: z.string(), count: z.number().int(), par: z.number().int(), capacity: z.number().int(), bring: z.number().int() });
export const RestockList = z.object({
  siteId: SiteId,
  at: z.number().int(),
  cabinets: z.array(z.object({ cabinetId: CabinetId, name: z.string(), lanes: z.array(RestockLine) })),
  van: z.array(z.object({ sku: Sku, name: z.string(), qty: z.number().int() })),
  lowLanes: z.number().int(),
});
export type RestockList = z.infer<typeof RestockList>;

export function restockList(siteId: string, at: number, cabinets: ReadonlyArray<{ cabinetId: string; name: string; siteId: string; lanes: readonly StockLane[]; disabled?: boolean }>, names: ReadonlyMap<string, string>): RestockList {
  const out: RestockList['cabinets'] = [];
  const van = new Map<string, number>();
  for (const c of [...cabinets].filter((x) => x.siteId === siteId && !x.disabled).sort((a, b) => a.cabinetId.localeCompare(b.cabinetId))) {
    const lanes = c.lanes
      .filter(isLow)
      .map((l) => ({ laneId: l.laneId, sku: l.sku, name: names.get(l.sku) ?? l.sku, count: l.count, par: parOf(l), capacity: l.capacity, bring: l.capacity - l.count }))
      .sort((a, b) => a.laneId.localeCompare(b.laneId));
    if (!lanes.length) continue;
    for (const l of lanes) van.set(l.sku, (van.get(l.sku) ?? 0) + l.bring);
    out.push({ cabinetId: c.cabinetId, name: c.name, lanes });
  }
  return {
    siteId,
    at,
    cabinets: out,
    van: [...van].map(([sku, qty]) => ({ sku, name: names.get(sku) ?? sku, qty })).sort((a, b) => b.qty - a.qty || a.sku.localeCompare(b.sku)),
    lowLanes: out.reduce((n, c) => n + c.lanes.length, 0),
  };
}

/** A lane's count at the close of a restock task: what the restocker found there and left there. */
export const TaskCount = z.object({ cabinetId: CabinetId, laneId: LaneId, found: z.number().int().min(0).max(50), final: z.number().int().min(0).max(50) });
export type TaskCount = z.infer<typeof TaskCount>;
export const CreateTaskRequest = z.object({ assignee: z.string().min(1).max(40).optional() }).strict();
export const CloseTaskRequest = z.object({ counts: z.array(TaskCount).min(1).max(500) }).strict();

export const RestockTask = z.object({
  taskId: z.string(),
  siteId: SiteId,
  assignee: z.string(),
  createdBy: z.string(),
  status: z.enum(['open', 'closed']),
  createdAt: z.number().int(),
  lanes: z.array(z.object({ cabinetId: CabinetId, laneId: LaneId, sku: Sku, name: z.string(), listedCount: z.number().int(), bring: z.number().int(), capacity: z.number().int() })),
  counts: z.array(z.object({ cabinetId: CabinetId, laneId: LaneId, sku: Sku, expected: z.number().int(), found: z.number().int(), final: z.number().int(), shrinkage: z.number().int() })),
  /** Units gone without a sale, summed over the lanes counted at the close. */
  shrinkage: z.number().int(),
});
export type RestockTask = z.infer<typeof RestockTask>;
export const RestockTasksResponse = z.object({ tasks: z.array(RestockTask) });

/**
 * Shrinkage at the close of a task: per counted lane, what the service expected there (its count then,
 * after every sale) against what the restocker found before filling; a lane with more than expected is
 * recorded as found (negative shrinkage is not a loss and counts 0).
 */
export function shrinkageOf(expected: number, found: number): number {
  return Math.max(0, expected - found);
}
