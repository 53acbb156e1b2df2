import type { RecognitionResult } from '../recognition.types';

/**
 * Visit-level scoring for the side-by-side evaluation (vision/eval/independent.cli.ts), written apart from the
 * simulator's helpers so that every set — the renderer's own and the independent tiers — is scored by the same
 * code. Pure; no model, no drawing.
 *
 * - exact: the returned multiset equals the truth (SKU and count), whatever the status;
 * - settled: `status === 'settled'` (charged without a person looking);
 * - overcharged: settled, and some SKU billed more units than left the cabinet (a look-alike swap of equal price
 *   counts: the shopper pays for an item they did not take).
 */
export interface ScoredVisit {
  set: string;
  visitId: string;
  truth: Record<string, number>;
  items: Record<string, number>;
  status: RecognitionResult['status'];
  confidence: number;
  exact: boolean;
  overcharged: boolean;
  /** Fen billed above the value taken, on a settled visit (0 when not overcharged in money). */
  overchargeFen: number;
  reasons: string[];
  conditions: string[];
  latencyMs: number;
}

export function scoreVisit(o: { set: string; result: RecognitionResult; truth: Record<string, number>; conditions: readonly string[]; latencyMs: number; priceOf: (sku: string) => number }): ScoredVisit {
  const items: Record<string, number> = {};
  for (const i of o.result.items) items[i.sku] = (items[i.sku] ?? 0) + i.qty;
  const skus = new Set([...Object.keys(items), ...Object.keys(o.truth)]);
  const exact = [...skus].every((s) => (items[s] ?? 0) === (o.truth[s] ?? 0));
  const settled = o.result.status === 'settled';
  const extra = [...skus].some((s) => (items[s] ?? 0) > (o.truth[s] ?? 0));
  const value = (m: Record<string, number>): number => Object.entries(m).reduce((v, [s, n]) => v + n * o.priceOf(s), 0);
  return {
    set: o.set,
    visitId: o.result.visitId,
    truth: o.truth,
    items,
    status: o.result.status,
    confidence: o.result.confidence,
    exact,
    overcharged: settled && extra,
    overchargeFen: settled ? Math.max(0, value(items) - value(o.truth)) : 0,
    reasons: [...new Set(o.result.reasons.map((r) => r.code))],
    conditions: [...o.conditions],
    latencyMs: o.latencyMs,
  };
}

export interface ConditionRow {
  condition: string;
  visits: number;
  held: number;
  heldShare: number;
  settledWrong: number;
  overcharged: number;
}

export interface ReliabilityRow {
  bucket: string;
  lo: number;
  hi: number;
  settled: number;
  meanConfidence: number;
  exact: number;
  exactShare: number;
}

export interface SetSummary {
  set: string;
  visits: number;
  settled: number;
  exactAmongSettled: number;
  /** Wilson 95 % interval of exact among settled. */
  exactInterval: [number, number];
  held: number;
  heldShare: number;
  overcharged: number;
  overchargeFen: number;
  /** Held visits whose best reading was nonetheless exact (review was not needed). */
  heldButExact: number;
  reasons: Record<string, number>;
  confusions: Array<{ truth: string; got: string; n: number }>;
  byCondition: ConditionRow[];
  reliability: ReliabilityRow[];
  latencyP50Ms: number;
  latencyP95Ms: number;
}

/** Confidence buckets of settled visits: the settle threshold sits below the first. */
export const BUCKETS: ReadonlyArray<[number, number]> = [
  [0, 0.9],
  [0.9, 0.99],
  [0.99, 0.999],
  [0.999, 1.000001],
];

export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

function confusions(rows: readonly ScoredVisit[]): SetSummary['confusions'] {
  const m = new Map<string, number>();
  for (const r of rows) {
    if (r.exact || r.status !== 'settled') continue;
    const missing = Object.entries(r.truth).flatMap(([s, n]) => Array<string>(Math.max(0, n - (r.items[s] ?? 0))).fill(s));
    const extra = Object.entries(r.items).flatMap(([s, n]) => Array<string>(Math.max(0, n - (r.truth[s] ?? 0))).fill(s));
    for (let k = 0; k < Math.max(missing.length, extra.length); k++) {
      const key = `${missing[k] ?? '(nothing)'}\u0000${extra[k] ?? '(nothing)'}`;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  return [...m].map(([k, n]) => ({ truth: k.split('\u0000')[0] as string, got: k.split('\u0000')[1] as string, n })).sort((a, b) => b.n - a.n);
}

export function summariseSet(set: string, rows: readonly ScoredVisit[]): SetSummary {
  const settled = rows.filter((r) => r.status === 'settled');
  const exact = settled.filter((r) => r.exact).length;
  const reasons: Record<string, number> = {};
  for (const r of rows) if (r.status === 'needs_review') for (const c of r.reasons) reasons[c] = (reasons[c] ?? 0) + 1;
  const conditions = [...new Set(rows.flatMap((r) => r.conditions))].sort();
  const byCondition = conditions.map((condition) => {
    const with_ = rows.filter((r) => r.conditions.includes(condition));
    const held = with_.filter((r) => r.status === 'needs_review').length;
    return { condition, visits: with_.length, held, heldShare: with_.length ? held / with_.length : 0, settledWrong: with_.filter((r) => r.status === 'settled' && !r.exact).length, overcharged: with_.filter((r) => r.overcharged).length };
  });
  const reliability = BUCKETS.map(([lo, hi]) => {
    const b = settled.filter((r) => r.confidence >= lo && r.confidence < hi);
    const e = b.filter((r) => r.exact).length;
    return { bucket: `${lo.toFixed(3)}–${Math.min(1, hi).toFixed(3)}`, lo, hi: Math.min(1, hi), settled: b.length, meanConfidence: b.length ? b.reduce((s, r) => s + r.confidence, 0) / b.length : 0, exact: e, exactShare: b.length ? e / b.length : 0 };
  });
  const lat = rows.map((r) => r.latencyMs);
  return {
    set,
    visits: rows.length,
    settled: settled.length,
    exactAmongSettled: settled.length ? exact / settled.length : 0,
    exactInterval: wilson(exact, settled.length),
    held: rows.length - settled.length,
    heldShare: rows.length ? 1 - settled.length / rows.length : 0,
    overcharged: rows.filter((r) => r.overcharged).length,
    overchargeFen: rows.reduce((s, r) => s + r.overchargeFen, 0),
    heldButExact: rows.filter((r) => r.status === 'needs_review' && r.exact).length,
    reasons,
    confusions: confusions(rows),
    byCondition,
    reliability,
    latencyP50Ms: quantile(lat, 0.5),
    latencyP95Ms: quantile(lat, 0.95),
  };
}
