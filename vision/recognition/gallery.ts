/**
 * The enrolment gallery: a few prototype embeddings per label (each the mean of many enrolment crops of one
 * shot, or one operator photo), matched by cosine similarity. Adding a SKU adds prototypes; the model stays as
 * it is. `set` replaces a label's prototypes (re-enrolment from new photos).
 */
export const EMPTY = '_EMPTY';
export const OCCLUDED = '_OCCLUDED';

export interface GalleryData {
  /** sha256 of the model the prototypes were computed with; a different model needs a new gallery. */
  modelSha256: string;
  dim: number;
  prototypes: Record<string, number[][]>;
}

export interface Match {
  label: string;
  p: number;
}

export class Gallery {
  private labels: string[] = [];
  private owners: number[] = [];
  private vectors: Float32Array = new Float32Array(0);

  constructor(
    readonly dim: number,
    /** Softmax scale over cosine similarities; the training head's scale. */
    readonly scale: number,
    prototypes: Record<string, number[][]> = {},
  ) {
    for (const [label, vs] of Object.entries(prototypes)) this.add(label, vs);
  }

  has(label: string): boolean {
    return this.labels.includes(label);
  }

  get size(): number {
    return this.labels.length;
  }

  allLabels(): readonly string[] {
    return this.labels;
  }

  /** Adds prototypes for a label (new or existing). Vectors are normalised here. */
  add(label: string, vs: ReadonlyArray<ArrayLike<number>>): void {
    const li = this.indexOf(label);
    const grown = new Float32Array(this.vectors.length + vs.length * this.dim);
    grown.set(this.vectors);
    vs.forEach((v, k) => {
      this.normaliseInto(v, grown, this.vectors.length + k * this.dim);
      this.owners.push(li);
    });
    this.vectors = grown;
  }

  /**
   * Replaces every prototype of a label (new or existing) with `vs`, normalised. The label keeps its place, so
   * the order of `allLabels()` (and of `match` output) is stable across re-enrolments. Checks everything before
   * changing anything: a bad vector leaves the gallery as it was.
   */
  set(label: string, vs: ReadonlyArray<ArrayLike<number>>): void {
    if (vs.length === 0) throw new RangeError(`${label}: at least one prototype is needed`);
    vs.forEach((v, k) => {
      if (v.length !== this.dim) throw new RangeError(`${label}: prototype ${k} has ${v.length} values, the gallery takes ${this.dim}`);
      let n = 0;
      for (let i = 0; i < this.dim; i++) n += (v[i] as number) ** 2;
      if (!Number.isFinite(n) || n === 0) throw new RangeError(`${label}: prototype ${k} is zero or not finite`);
    });
    const li = this.indexOf(label);
    const kept = this.owners.flatMap((owner, k) => (owner === li ? [] : [k]));
    const next = new Float32Array((kept.length + vs.length) * this.dim);
    kept.forEach((k, row) => next.set(this.vectors.subarray(k * this.dim, (k + 1) * this.dim), row * this.dim));
    const owners = kept.map((k) => this.owners[k] as number);
    vs.forEach((v, j) => {
      this.normaliseInto(v, next, (kept.length + j) * this.dim);
      owners.push(li);
    });
    this.vectors = next;
    this.owners = owners;
  }

  /** A copy of a label's prototypes as unit vectors, in the order they were added; none for an unknown label. */
  prototypesOf(label: string): Float32Array[] {
    const li = this.labels.indexOf(label);
    const out: Float32Array[] = [];
    this.owners.forEach((owner, k) => {
      if (owner === li) out.push(this.vectors.slice(k * this.dim, (k + 1) * this.dim));
    });
    return out;
  }

  /** Class probabilities for one embedding: the best prototype per label, softmax over labels. */
  match(e: Float32Array, offset = 0): Float64Array {
    const best = new Float64Array(this.labels.length).fill(-Infinity);
    const count = this.owners.length;
    for (let k = 0; k < count; k++) {
      let dot = 0;
      const base = k * this.dim;
      for (let i = 0; i < this.dim; i++) dot += (e[offset + i] as number) * (this.vectors[base + i] as number);
      const owner = this.owners[k] as number;
      if (dot > (best[owner] as number)) best[owner] = dot;
    }
    let max = -Infinity;
    for (const b of best) max = Math.max(max, b);
    let sum = 0;
    const p = new Float64Array(best.length);
    for (let i = 0; i < best.length; i++) {
      p[i] = Math.exp(this.scale * ((best[i] as number) - max));
      sum += p[i] as number;
    }
    for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) / sum;
    return p;
  }

  top(p: Float64Array, k = 3): Match[] {
    return [...p].map((v, i) => ({ label: this.labels[i] as string, p: v })).sort((a, b) => b.p - a.p).slice(0, k);
  }

  toJSON(modelSha256: string): GalleryData {
    const prototypes: Record<string, number[][]> = {};
    this.owners.forEach((owner, k) => {
      const label = this.labels[owner] as string;
      (prototypes[label] ??= []).push(Array.from(this.vectors.subarray(k * this.dim, (k + 1) * this.dim), (x) => Math.round(x * 1e5) / 1e5));
    });
    return { modelSha256, dim: this.dim, prototypes };
  }

  private indexOf(label: string): number {
    let li = this.labels.indexOf(label);
    if (li < 0) {
      li = this.labels.length;
      this.labels.push(label);
    }
    return li;
  }

  private normaliseInto(v: ArrayLike<number>, out: Float32Array, offset: number): void {
    let n = 0;
    for (let i = 0; i < this.dim; i++) n += (v[i] as number) ** 2;
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < this.dim; i++) out[offset + i] = (v[i] as number) / n;
  }
}

/** Mean of `n` rows of `dim` values, normalised. */
export function meanVector(e: Float32Array, rows: number[], dim: number): Float32Array {
  const m = new Float32Array(dim);
  for (const r of rows) for (let i = 0; i < dim; i++) m[i] = (m[i] as number) + (e[r * dim + i] as number);
  let n = 0;
  for (let i = 0; i < dim; i++) n += (m[i] as number) ** 2;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < dim; i++) m[i] = (m[i] as number) / n;
  return m;
}
