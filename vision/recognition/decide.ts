import type { ReasonCode, RecognisedItem } from '../recognition.types';
import { EMPTY, OCCLUDED } from './gallery';

/**
 * The pure half of recognition: from per-camera class probabilities of the facings that changed between the
 * `before` and `after` snapshots to the taken multiset, its confidence and the reasons to hold it. No I/O.
 */
export interface ViewReading {
  camera: string;
  /** Before/after difference score of this facing in this camera. */
  diff: number;
  /** Probabilities over `labels`, or null when this camera has no usable frame for the phase. */
  before: Float64Array | null;
  after: Float64Array | null;
}

export interface SlotReading {
  laneId: string;
  slot: number;
  planogramSku: string;
  views: ViewReading[];
}

export interface DecideConfig {
  labels: readonly string[];
  /** A visit settles only at or above this confidence. */
  settleThreshold: number;
  /** An item taken from a lane that should hold another SKU needs at least this confidence. */
  offPlanogramThreshold: number;
  /** A view whose occluded probability reaches this is ignored for the phase. */
  occludedP: number;
}

export interface Reason {
  code: ReasonCode;
  detail: string;
}

export interface SlotDecision {
  laneId: string;
  slot: number;
  before: string;
  after: string;
  confidence: number;
}

export interface Decision {
  status: 'settled' | 'needs_review';
  items: RecognisedItem[];
  confidence: number;
  reasons: Reason[];
  slots: SlotDecision[];
}

/** Fuses the views of one phase: product of the per-camera distributions over everything but "occluded". */
export function fuse(dists: Array<Float64Array | null>, occludedIndex: number, occludedP: number): Float64Array | null {
  let acc: Float64Array | null = null;
  for (const d of dists) {
    if (!d || (occludedIndex >= 0 && (d[occludedIndex] as number) >= occludedP)) continue;
    const next: Float64Array = acc ?? new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) next[i] = (next[i] as number) + Math.log(Math.max(d[i] as number, 1e-12));
    acc = next;
  }
  if (!acc) return null;
  if (occludedIndex >= 0) acc[occludedIndex] = -Infinity;
  let max = -Infinity;
  for (const v of acc) max = Math.max(max, v);
  let sum = 0;
  for (let i = 0; i < acc.length; i++) {
    acc[i] = Math.exp((acc[i] as number) - max);
    sum += acc[i] as number;
  }
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) / sum;
  return acc;
}

const argmax = (p: Float64Array): number => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
  return best;
};

/** Reasons that always hold a visit for review, whatever the confidence. */
const BLOCKING: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['missing_frames', 'unreadable_frame', 'occluded', 'item_added', 'not_enrolled', 'too_many_changes', 'bad_evidence']);

export function decide(readings: readonly SlotReading[], cfg: DecideConfig, prior: readonly Reason[] = []): Decision {
  const reasons: Reason[] = [...prior];
  const occ = cfg.labels.indexOf(OCCLUDED);
  const empty = cfg.labels.indexOf(EMPTY);
  const taken = new Map<string, { qty: number; confidence: number }>();
  const added = new Map<string, number>();
  const slots: SlotDecision[] = [];
  let confidence = 1;
  let weakOffPlanogram = false;
  for (const r of readings) {
    const pb = fuse(
      r.views.map((v) => v.before),
      occ,
      cfg.occludedP,
    );
    const pa = fuse(
      r.views.map((v) => v.after),
      occ,
      cfg.occludedP,
    );
    if (!pb || !pa) {
      reasons.push({ code: 'occluded', detail: `${r.laneId} facing ${r.slot + 1}: no camera sees it ${!pb ? 'before' : 'after'} the visit` });
      slots.push({ laneId: r.laneId, slot: r.slot, before: pb ? (cfg.labels[argmax(pb)] as string) : OCCLUDED, after: pa ? (cfg.labels[argmax(pa)] as string) : OCCLUDED, confidence: 0 });
      confidence = 0;
      continue;
    }
    const b = argmax(pb);
    const a = argmax(pa);
    let c: number;
    const emptyB = empty >= 0 ? (pb[empty] as number) : 0;
    const emptyA = empty >= 0 ? (pa[empty] as number) : 0;
    if (a === b) {
      // Unchanged: the facing was and is occupied (or empty); which look-alike it is does not matter here,
      // because nothing left it.
      c = emptyB * emptyA + (1 - emptyB) * (1 - emptyA);
    } else {
      c = (pb[b] as number) * (pa[a] as number);
      if (b !== empty) {
        const sku = cfg.labels[b] as string;
        const t = taken.get(sku) ?? { qty: 0, confidence: 1 };
        taken.set(sku, { qty: t.qty + 1, confidence: t.confidence * c });
        if (sku !== r.planogramSku) {
          const strong = c >= cfg.offPlanogramThreshold;
          reasons.push({ code: strong ? 'off_planogram' : 'low_confidence', detail: `${r.laneId} should hold ${r.planogramSku}; the item taken from facing ${r.slot + 1} reads as ${sku} (p=${c.toFixed(3)})` });
          if (!strong) weakOffPlanogram = true;
        }
      }
      if (a !== empty) added.set(cfg.labels[a] as string, (added.get(cfg.labels[a] as string) ?? 0) + 1);
    }
    confidence *= c;
    slots.push({ laneId: r.laneId, slot: r.slot, before: cfg.labels[b] as string, after: cfg.labels[a] as string, confidence: c });
  }
  // Items put back in another lane cancel what was taken; anything else that appeared is for a human.
  for (const [sku, n] of added) {
    const t = taken.get(sku);
    const left = (t?.qty ?? 0) - n;
    if (left < 0) reasons.push({ code: 'item_added', detail: `${-left} × ${sku} appeared on the shelf` });
    if (t) {
      if (left > 0) taken.set(sku, { qty: left, confidence: t.confidence });
      else taken.delete(sku);
    }
  }
  const items: RecognisedItem[] = [...taken.entries()]
    .map(([sku, t]) => ({ sku, qty: t.qty, confidence: round(t.confidence) }))
    .sort((x, y) => x.sku.localeCompare(y.sku));
  if (confidence < cfg.settleThreshold && !reasons.some((x) => x.code === 'low_confidence')) {
    reasons.push({ code: 'low_confidence', detail: `visit confidence ${confidence.toFixed(4)} is below ${cfg.settleThreshold}` });
  }
  const blocked = weakOffPlanogram || reasons.some((x) => BLOCKING.has(x.code)) || confidence < cfg.settleThreshold;
  return { status: blocked ? 'needs_review' : 'settled', items, confidence: round(confidence), reasons, slots };
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
