import type { ProductSpec } from '../../contracts/domain';
import type { Recogniser } from '../index';
import type { RecognitionResult } from '../recognition.types';
import { exactMatch, overcharges, simulateVisit, type SimOptions, type SimVisit } from '../sim/visits';
import { SEED_BASE } from '../training/splits';

/**
 * The CI check's fixed-seed set (synthetic, drawn like the test split but from its own seeds): `evaluate.cli.ts
 * --ci --write-manifest` records a floor from it, and vision/eval/ci-floor.test.ts checks the same visits.
 */
export const CI_SET = { seedBase: SEED_BASE.test + 900_000, visits: 10 } as const;

/** The floor recorded from a CI run: one visit's worth below what was measured, so only a real drop fails. */
export interface CiFloor {
  /** The model the floor was measured on: a new model needs its own floor. */
  modelVersion: string;
  seedBase: number;
  visits: number;
  exactAmongSettled: number;
  settledShare: number;
  maxOvercharges: number;
}

export function ciFloorFrom(s: Summary, set: { seedBase: number; visits: number }, modelVersion: string): CiFloor {
  const oneVisit = 1 / Math.max(1, s.visits);
  return {
    modelVersion,
    seedBase: set.seedBase,
    visits: set.visits,
    exactAmongSettled: round4(Math.max(0, s.exactAmongSettled - 1 / Math.max(1, s.settled))),
    settledShare: round4(Math.max(0, 1 - s.reviewShare - oneVisit)),
    maxOvercharges: Math.round(s.overchargeRate * s.visits),
  };
}

/** Problems with a CI run against its floor; empty when it holds. */
export function checkFloor(s: Summary, floor: CiFloor): string[] {
  const problems: string[] = [];
  if (s.exactAmongSettled < floor.exactAmongSettled) problems.push(`exact among settled ${s.exactAmongSettled.toFixed(4)} < floor ${floor.exactAmongSettled}`);
  if (1 - s.reviewShare < floor.settledShare) problems.push(`settled share ${(1 - s.reviewShare).toFixed(4)} < floor ${floor.settledShare}`);
  const over = Math.round(s.overchargeRate * s.visits);
  if (over > floor.maxOvercharges) problems.push(`${over} overcharged visits > ${floor.maxOvercharges}`);
  return problems;
}

const round4 = (x: number): number => Math.floor(x * 1e4) / 1e4;

/** One evaluated visit: the truth, what came back, and how long recognition took. */
export interface EvalRow {
  seed: number;
  truth: Record<string, number>;
  result: RecognitionResult;
  latencyMs: number;
  tags: string[];
  exact: boolean;
  overcharge: boolean;
}

export interface EvalSet {
  seedBase: number;
  visits: number;
  products: readonly ProductSpec[];
  sim?: Partial<SimOptions>;
}

/** Renders the visits of a set (the expensive half; tuning reuses them for several passes). */
export async function renderVisits(set: EvalSet, progress?: (done: number, total: number) => void): Promise<SimVisit[]> {
  const visits: SimVisit[] = [];
  for (let i = 0; i < set.visits; i++) {
    visits.push(await simulateVisit({ seed: set.seedBase + i, products: set.products, hardShare: 0.5, handAfter: 0.05, unreadable: 0.01, ...set.sim }));
    progress?.(i + 1, set.visits);
  }
  return visits;
}

/** Recognises rendered visits one after another, timing each `recognise` call. */
export async function recogniseVisits(rec: Recogniser, visits: readonly SimVisit[], now: () => number, progress?: (done: number, total: number) => void): Promise<EvalRow[]> {
  const rows: EvalRow[] = [];
  for (const v of visits) {
    const t = now();
    const result = await rec.recognise(v.evidence);
    const latencyMs = now() - t;
    rows.push({ seed: seedOf(v), truth: v.truth, result, latencyMs, tags: v.tags, exact: exactMatch(result.items, v.truth), overcharge: overcharges(result.items, v.truth) });
    progress?.(rows.length, visits.length);
  }
  return rows;
}

/** Renders and recognises visit by visit (memory stays flat on long runs). */
export async function runVisits(rec: Recogniser, set: EvalSet, now: () => number, progress?: (done: number, total: number) => void): Promise<EvalRow[]> {
  const rows: EvalRow[] = [];
  for (let i = 0; i < set.visits; i++) {
    const [v] = await renderVisits({ ...set, seedBase: set.seedBase + i, visits: 1 });
    rows.push(...(await recogniseVisits(rec, [v as SimVisit], now)));
    progress?.(i + 1, set.visits);
  }
  return rows;
}

const seedOf = (v: SimVisit): number => Number(v.evidence.visitId.replace(/^sim-/, ''));

export interface Summary {
  visits: number;
  settled: number;
  exactAmongSettled: number;
  reviewShare: number;
  overchargeRate: number;
  exactOverall: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  confusions: Array<{ truth: string; got: string; n: number }>;
  reviewReasons: Record<string, number>;
}

export const percentile = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

export function summarise(rows: readonly EvalRow[]): Summary {
  const settled = rows.filter((r) => r.result.status === 'settled');
  const confusions = new Map<string, number>();
  for (const r of rows) {
    if (r.exact) continue;
    const got = Object.fromEntries(r.result.items.map((i) => [i.sku, i.qty]));
    const missing = Object.entries(r.truth).flatMap(([sku, n]) => Array<string>(Math.max(0, n - (got[sku] ?? 0))).fill(sku));
    const extra = Object.entries(got).flatMap(([sku, n]) => Array<string>(Math.max(0, n - (r.truth[sku] ?? 0))).fill(sku));
    for (let k = 0; k < Math.max(missing.length, extra.length); k++) {
      const key = `${missing[k] ?? '(nothing)'}→${extra[k] ?? '(nothing)'}`;
      confusions.set(key, (confusions.get(key) ?? 0) + 1);
    }
  }
  const reviewReasons: Record<string, number> = {};
  for (const r of rows) if (r.result.status === 'needs_review') for (const c of new Set(r.result.reasons.map((x) => x.code))) reviewReasons[c] = (reviewReasons[c] ?? 0) + 1;
  const lat = rows.map((r) => r.latencyMs);
  return {
    visits: rows.length,
    settled: settled.length,
    exactAmongSettled: settled.length ? settled.filter((r) => r.exact).length / settled.length : 0,
    reviewShare: rows.length ? 1 - settled.length / rows.length : 0,
    overchargeRate: rows.length ? settled.filter((r) => r.overcharge).length / rows.length : 0,
    exactOverall: rows.length ? rows.filter((r) => r.exact).length / rows.length : 0,
    latencyP50Ms: percentile(lat, 0.5),
    latencyP95Ms: percentile(lat, 0.95),
    confusions: [...confusions.entries()].map(([k, n]) => ({ truth: k.split('→')[0] as string, got: k.split('→')[1] as string, n })).sort((a, b) => b.n - a.n),
    reviewReasons,
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export function report(title: string, s: Summary): string {
  return [
    `${title}  [synthetic: rendered scenes, not real cabinets]`,
    `  visits                         ${s.visits}`,
    `  exact match among auto-settled ${pct(s.exactAmongSettled)}  (synthetic; ${s.settled} settled)`,
    `  sent to review                 ${pct(s.reviewShare)}  (synthetic)`,
    `  overcharge rate (settled)      ${pct(s.overchargeRate)}  (synthetic)`,
    `  exact match, all visits, before review ${pct(s.exactOverall)}  (synthetic)`,
    `  latency per visit p50 / p95    ${s.latencyP50Ms.toFixed(0)} / ${s.latencyP95Ms.toFixed(0)} ms (recognise only, 1 thread)`,
    `  review reasons                 ${JSON.stringify(s.reviewReasons)}`,
    `  confusions (truth→got)         ${s.confusions.slice(0, 12).map((c) => `${c.truth}→${c.got}×${c.n}`).join(', ') || 'none'}`,
  ].join('\n');
}
