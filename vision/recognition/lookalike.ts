import { EMPTY, OCCLUDED, type Gallery } from './gallery';

/**
 * The look-alike check of an enrolment. A product is recognisable when its prototypes are closer to each other
 * than to any other product's. The *gap* measures that: per prototype, best cosine to another prototype of its
 * own label minus best cosine to any prototype of any other SKU, averaged. The *separation* is the model's own
 * bar, from the shipped gallery: the 10th percentile of the shipped SKUs' gaps. The lowest gaps belong to the
 * look-alike flavours of one brand (CHIP-CUKE/CHIP-SEAWEED), which the recogniser only tells apart with the
 * planogram's help; a new product whose gap is below the separation is at least as confusable as those, and is
 * flagged so that an operator looks before it is sold — flagged, not refused: a new flavour of a brand is
 * expected to look like its siblings, and the decision keeps such readings for review.
 *
 * Pure: cosine arithmetic over the gallery's unit vectors, deterministic for a given gallery.
 */
export const SEPARATION_PERCENTILE = 0.1;

/** How many nearest products a report names. */
export const NEAREST = 3;

export interface LookAlikeReport {
  /** Mean over the new vectors of (best cosine to another new vector − best cosine to another product). */
  gap: number;
  /** The model's separation the gap is compared with. */
  separation: number;
  /** `gap < separation`: at least as confusable as the closest shipped look-alikes. */
  lookAlike: boolean;
  /** The closest other products by best cosine between any new vector and any of their prototypes, best first. */
  nearest: Array<{ sku: string; similarity: number }>;
}

const isPseudo = (label: string): boolean => label === EMPTY || label === OCCLUDED;

interface Labelled {
  label: string;
  vs: Float32Array[];
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Every SKU label of the gallery with its prototypes; pseudo labels never take part. */
function skuPrototypes(gallery: Gallery): Labelled[] {
  return gallery.allLabels().filter((l) => !isPseudo(l)).map((label) => ({ label, vs: gallery.prototypesOf(label) }));
}

/**
 * The gap of a set of unit vectors against `others`, and each other label's best cosine to any of them. With
 * one vector its own similarity is 1 (nothing to compare it with); with no other label the best other is −1.
 */
function gapAgainst(own: readonly Float32Array[], others: readonly Labelled[]): { gap: number; best: Map<string, number> } {
  const best = new Map<string, number>();
  let sum = 0;
  own.forEach((v, i) => {
    const self = own.length === 1 ? 1 : bestDot(v, own.filter((_, j) => j !== i));
    let other = -1;
    for (const o of others) {
      const m = bestDot(v, o.vs);
      best.set(o.label, Math.max(best.get(o.label) ?? -Infinity, m));
      other = Math.max(other, m);
    }
    sum += self - other;
  });
  return { gap: sum / own.length, best };
}

function bestDot(v: Float32Array, vs: readonly Float32Array[]): number {
  let m = -Infinity;
  for (const u of vs) m = Math.max(m, dot(v, u));
  return m;
}

/** The `q` quantile of `xs` by linear interpolation between the closest ranks (R's type 7). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('no values');
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * The model's separation: the 10th percentile of the gaps of the gallery's SKUs. Compute it from the shipped
 * gallery (as loaded with the model), not after enrolments, so the bar is a property of the model version and
 * does not drift as products are added. With `families` (SKU → brand, the catalogue), only SKUs the catalogue
 * knows are counted; every SKU label is still a competitor.
 */
export function separationOf(gallery: Gallery, families?: ReadonlyMap<string, string>): number {
  const skus = skuPrototypes(gallery);
  const counted = skus.filter((s) => s.vs.length > 0 && (!families || families.has(s.label)));
  if (counted.length === 0 || skus.length < 2) throw new RangeError('a separation needs at least two SKUs in the gallery');
  return quantile(
    counted.map((s) => gapAgainst(s.vs, skus.filter((o) => o.label !== s.label)).gap),
    SEPARATION_PERCENTILE,
  );
}

/**
 * The look-alike report of `vectors` enrolled as `sku`, against every other SKU of the gallery (its own earlier
 * prototypes, when re-enrolling, and the pseudo labels are left out). Vectors are normalised here.
 */
export function lookAlikeOf(gallery: Gallery, sku: string, vectors: ReadonlyArray<ArrayLike<number>>, separation: number): LookAlikeReport {
  if (vectors.length === 0) throw new RangeError(`${sku}: no vectors to check`);
  const own = vectors.map((v, k) => {
    if (v.length !== gallery.dim) throw new RangeError(`${sku}: vector ${k} has ${v.length} values, the gallery takes ${gallery.dim}`);
    const u = Float32Array.from(v);
    const n = Math.sqrt(dot(u, u));
    if (!Number.isFinite(n) || n === 0) throw new RangeError(`${sku}: vector ${k} is zero or not finite`);
    return u.map((x) => x / n);
  });
  const { gap, best } = gapAgainst(own, skuPrototypes(gallery).filter((o) => o.label !== sku && o.vs.length > 0));
  const nearest = [...best]
    .map(([s, similarity]) => ({ sku: s, similarity }))
    .sort((a, b) => b.similarity - a.similarity || (a.sku < b.sku ? -1 : 1))
    .slice(0, NEAREST);
  return { gap, separation, lookAlike: gap < separation, nearest };
}
