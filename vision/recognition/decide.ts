import type { ReasonCode, RecognisedItem } from '../recognition.types';
import { EMPTY, OCCLUDED } from './gallery';

/**
 * The pure half of recognition: from per-camera class probabilities of the facings that changed between the
 * `before` and `after` snapshots to the taken multiset, its confidence and the reasons to hold it. No I/O.
 *
 * Each facing is read twice: is it occupied (an item against `_EMPTY`, which the model separates very well),
 * and if so, which item (which it separates less well between flavours of one brand). The decision leans on
 * the first and uses the second only where an item actually left:
 * - occupied before and after by the same brand family: unchanged. The facing passed the gate because of
 *   light, glare or a hand; a look-alike read differently in the two snapshots is noise, not "one taken, one
 *   added" (a shopper does not swap one flavour for its sibling in the same facing).
 * - occupied before, empty after: one item taken, named from the `before` reading with the lane's planogram
 *   SKU as a prior. The prior firms up a reading that agrees with the planogram (a look-alike pair the model
 *   separates only narrowly, such as a held-out flavour and its trained sibling); it never outvotes the
 *   cameras: when it would change their answer, the facing is held for review. A look-alike standing in the
 *   wrong lane is therefore named as itself, or held — never charged as the lane's SKU on the planogram's say.
 * - empty before, occupied after: an item put back. Within its lane it cancels a taken item of its family (the
 *   lane's count is what it was); elsewhere it cancels a taken item of the same SKU, else of the same family;
 *   an item that cancels nothing appeared from outside the cabinet and goes to review.
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
  /** Brand family of each label (same order as `labels`); look-alike flavours share one. */
  families: readonly string[];
  /** A visit settles only at or above this confidence. */
  settleThreshold: number;
  /** An item taken from a lane that should hold another SKU needs at least this confidence. */
  offPlanogramThreshold: number;
  /** A view whose occluded probability reaches this is ignored for the phase. */
  occludedP: number;
  /** Prior probability that a facing holds something other than its lane's planogram SKU. */
  offPlanogramPrior: number;
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

/** What the cameras agree a facing held in one phase. */
export interface PhaseReading {
  /** Probability that an item stands in the facing. */
  occupied: number;
  /** Distribution over `labels` of which item it is (zero on `_EMPTY` and `_OCCLUDED`), given that one does. */
  item: Float64Array;
}

/**
 * Fuses the camera views of one facing in one phase; null when no camera sees it. A view whose "occluded"
 * probability reaches `occludedP` is ignored. Occupancy is a noisy OR over the views: on the validation scenes
 * an empty facing never reads as an item, while an item under a hand can read as empty in the camera the hand
 * covers — so one camera that sees an item outweighs one that sees nothing. Which item is the product of the
 * views that see one (or of all views when none does).
 */
export function fuse(dists: Array<Float64Array | null>, emptyIndex: number, occludedIndex: number, occludedP: number): PhaseReading | null {
  const views = dists.filter((d): d is Float64Array => d !== null && !(occludedIndex >= 0 && (d[occludedIndex] as number) >= occludedP));
  if (views.length === 0) return null;
  const occupancy = views.map((d) => Math.max(0, 1 - (emptyIndex >= 0 ? (d[emptyIndex] as number) : 0) - (occludedIndex >= 0 ? (d[occludedIndex] as number) : 0)));
  let none = 1;
  for (const o of occupancy) none *= 1 - o;
  const seeing = views.filter((_, i) => (occupancy[i] as number) >= 0.5);
  const from = seeing.length > 0 ? seeing : views;
  const n = (views[0] as Float64Array).length;
  const log = new Float64Array(n);
  for (const d of from) for (let i = 0; i < n; i++) log[i] = (log[i] as number) + Math.log(Math.max(d[i] as number, 1e-12));
  if (emptyIndex >= 0) log[emptyIndex] = -Infinity;
  if (occludedIndex >= 0) log[occludedIndex] = -Infinity;
  let max = -Infinity;
  for (const v of log) max = Math.max(max, v);
  const item = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    item[i] = Math.exp((log[i] as number) - max);
    sum += item[i] as number;
  }
  for (let i = 0; i < n; i++) item[i] = (item[i] as number) / sum;
  return { occupied: 1 - none, item };
}

const argmax = (p: Float64Array): number => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
  return best;
};

/** Reasons that always hold a visit for review, whatever the confidence. */
const BLOCKING: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['missing_frames', 'unreadable_frame', 'occluded', 'item_added', 'not_enrolled', 'too_many_changes', 'bad_evidence', 'camera_moved']);

/** Which item stands in an occupied facing: the fused reading times the planogram prior, normalised. */
interface Identity {
  /** Index into `labels` of the most likely SKU. */
  best: number;
  /** Its probability given that the facing is occupied. */
  p: number;
  /** Probability mass per brand family. */
  families: Map<string, number>;
}

export function decide(readings: readonly SlotReading[], cfg: DecideConfig, prior: readonly Reason[] = []): Decision {
  const reasons: Reason[] = [...prior];
  const occ = cfg.labels.indexOf(OCCLUDED);
  const empty = cfg.labels.indexOf(EMPTY);
  const skuCount = cfg.labels.length - (occ >= 0 ? 1 : 0) - (empty >= 0 ? 1 : 0);
  const label = (i: number): string => cfg.labels[i] as string;
  const family = (i: number): string => cfg.families[i] ?? label(i);

  const identify = (p: Float64Array, planogramSku: string): Identity => {
    const post = new Float64Array(p.length);
    const others = Math.max(1, skuCount - 1);
    const planned = cfg.labels.includes(planogramSku);
    let sum = 0;
    for (let i = 0; i < p.length; i++) {
      if (i === occ || i === empty) continue;
      const pi = !planned ? 1 : label(i) === planogramSku ? 1 - cfg.offPlanogramPrior : cfg.offPlanogramPrior / others;
      post[i] = (p[i] as number) * pi;
      sum += post[i] as number;
    }
    const families = new Map<string, number>();
    for (let i = 0; i < p.length; i++) {
      if (i === occ || i === empty) continue;
      post[i] = sum > 0 ? (post[i] as number) / sum : 0;
      families.set(family(i), (families.get(family(i)) ?? 0) + (post[i] as number));
    }
    const best = argmax(post);
    // The prior may firm up the cameras' answer, never replace it: when it would, the answer is only as good
    // as the cameras' own support for it, which holds the visit.
    const seen = argmax(p);
    const support = seen === best ? (post[best] as number) : (p[best] as number);
    return { best, p: support, families };
  };

  interface Taken {
    sku: string;
    family: string;
    laneId: string;
    confidence: number;
  }
  interface Added {
    laneId: string;
    slot: number;
    identity: Identity;
  }
  const taken: Taken[] = [];
  const added: Added[] = [];
  const slots: SlotDecision[] = [];
  let confidence = 1;
  let weakOffPlanogram = false;
  for (const r of readings) {
    const pb = fuse(
      r.views.map((v) => v.before),
      empty,
      occ,
      cfg.occludedP,
    );
    const pa = fuse(
      r.views.map((v) => v.after),
      empty,
      occ,
      cfg.occludedP,
    );
    if (!pb || !pa) {
      const name = (x: PhaseReading | null): string => (!x ? OCCLUDED : x.occupied >= 0.5 ? label(argmax(x.item)) : EMPTY);
      reasons.push({ code: 'occluded', detail: `${r.laneId} facing ${r.slot + 1}: no camera sees it ${!pb ? 'before' : 'after'} the visit` });
      slots.push({ laneId: r.laneId, slot: r.slot, before: name(pb), after: name(pa), confidence: 0 });
      confidence = 0;
      continue;
    }
    const ob = pb.occupied;
    const oa = pa.occupied;
    const idB = ob >= 0.5 ? identify(pb.item, r.planogramSku) : null;
    const idA = oa >= 0.5 ? identify(pa.item, r.planogramSku) : null;
    let c: number;
    if (idB && idA) {
      // Occupied in both snapshots: the same item, unless the brand family changed.
      let same = 0;
      for (const [fam, p] of idB.families) same += p * (idA.families.get(fam) ?? 0);
      if (family(idB.best) === family(idA.best)) c = ob * oa * same;
      else {
        c = ob * oa * (1 - same);
        taken.push({ sku: label(idB.best), family: family(idB.best), laneId: r.laneId, confidence: c });
        added.push({ laneId: r.laneId, slot: r.slot, identity: idA });
      }
    } else if (idB) {
      c = ob * (1 - oa) * idB.p;
      const sku = label(idB.best);
      taken.push({ sku, family: family(idB.best), laneId: r.laneId, confidence: c });
      if (sku !== r.planogramSku) {
        const strong = c >= cfg.offPlanogramThreshold;
        reasons.push({ code: strong ? 'off_planogram' : 'low_confidence', detail: `${r.laneId} should hold ${r.planogramSku}; the item taken from facing ${r.slot + 1} reads as ${sku} (p=${c.toFixed(3)})` });
        if (!strong) weakOffPlanogram = true;
      }
    } else if (idA) {
      c = (1 - ob) * oa;
      added.push({ laneId: r.laneId, slot: r.slot, identity: idA });
    } else {
      c = (1 - ob) * (1 - oa);
    }
    confidence *= c;
    slots.push({ laneId: r.laneId, slot: r.slot, before: idB ? label(idB.best) : EMPTY, after: idA ? label(idA.best) : EMPTY, confidence: c });
  }

  // Items put back: first within their own lane (by family), then elsewhere by SKU, then by family.
  const cancel = (a: Added, match: (t: Taken) => boolean): boolean => {
    let best = -1;
    for (let i = 0; i < taken.length; i++) {
      const t = taken[i] as Taken;
      if (match(t) && (best < 0 || (a.identity.families.get(t.family) ?? 0) > (a.identity.families.get((taken[best] as Taken).family) ?? 0))) best = i;
    }
    if (best < 0) return false;
    const [t] = taken.splice(best, 1) as [Taken];
    confidence *= a.identity.families.get(t.family) ?? 0;
    return true;
  };
  const addedSku = (a: Added): string => label(a.identity.best);
  const addedFamily = (a: Added): string => family(a.identity.best);
  let pending = added.filter((a) => !cancel(a, (t) => t.laneId === a.laneId && t.family === addedFamily(a)));
  pending = pending.filter((a) => !cancel(a, (t) => t.sku === addedSku(a)));
  pending = pending.filter((a) => !cancel(a, (t) => t.family === addedFamily(a)));
  for (const a of pending) reasons.push({ code: 'item_added', detail: `${addedSku(a)} appeared in ${a.laneId} facing ${a.slot + 1}` });

  const lines = new Map<string, { qty: number; confidence: number }>();
  for (const t of taken) {
    const l = lines.get(t.sku) ?? { qty: 0, confidence: 1 };
    lines.set(t.sku, { qty: l.qty + 1, confidence: l.confidence * t.confidence });
  }
  const items: RecognisedItem[] = [...lines.entries()]
    .map(([sku, t]) => ({ sku, qty: t.qty, confidence: round(t.confidence) }))
    .sort((x, y) => x.sku.localeCompare(y.sku));
  if (confidence < cfg.settleThreshold && !reasons.some((x) => x.code === 'low_confidence')) {
    reasons.push({ code: 'low_confidence', detail: `visit confidence ${confidence.toFixed(4)} is below ${cfg.settleThreshold}` });
  }
  const blocked = weakOffPlanogram || reasons.some((x) => BLOCKING.has(x.code)) || confidence < cfg.settleThreshold;
  return { status: blocked ? 'needs_review' : 'settled', items, confidence: round(confidence), reasons, slots };
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
