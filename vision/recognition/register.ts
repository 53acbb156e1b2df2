import { IDENTITY_AFFINE, type Affine } from '../render/geometry';
import type { DecodedFrame } from './crop';

/**
 * Registration of one frame against a reference frame of the same camera: the similarity (shift, small rotation,
 * scale about the frame centre) that carries reference pixels onto the moving frame, so crops taken through the
 * calibration of the reference can be taken from the moving frame through `affine ∘ calibration`. A shake of a
 * few pixels or a camera knocked by a degree is corrected; what moved further is reported, never guessed at
 * (`judgeMotion`).
 *
 * Cheap by construction (a few milliseconds per frame pair on one core): both frames become log-luma pyramids
 * at 1/2, 1/4 and 1/8 resolution; translation is searched exhaustively at 1/8 (±48 px) and 1/4 by gradient
 * correlation at the reference's strongest edges; shift, rotation, scale and a radial brightness term are then
 * refined by robust Gauss–Newton (Lucas–Kanade, Tukey weights) at 1/4 and 1/2. Log-luma makes exposure and colour
 * temperature an additive constant and vignetting a smooth radial term; the robust weights drop what a shopper
 * changed, a hand and glare.
 */

/** The moving frame's motion against the reference: moving = scale·R(rotation)·(ref − centre) + centre + (dx, dy). */
export interface Similarity {
  /** Shift of the frame centre, px. */
  dx: number;
  dy: number;
  /** Degrees; positive turns the picture clockwise on the screen (image y points down). */
  rotationDeg: number;
  scale: number;
}

export interface Registration {
  motion: Similarity;
  /** Reference pixel → moving pixel (continuous coordinates, pixel i centred at i + 0.5). */
  affine: Affine;
  /**
   * Gradient correlation of the aligned frames at the reference's edges, −1..1. Two snapshots of one rendered
   * shelf score 0.95–1.0 (blur, noise, hands and the taken items pull it down); the same shelf aligned one facing
   * off 0.54–0.87; an unrelated frame about 0.1.
   */
  quality: number;
  /** The largest displacement of a frame corner, px. */
  maxShift: number;
  /** The coarse search peaked at the edge of its ±48 px window: the true motion may be larger still. */
  atSearchEdge: boolean;
}

interface Level {
  w: number;
  h: number;
  /** Full-resolution pixels per level pixel. */
  s: number;
  img: Float32Array;
  gx: Float32Array;
  gy: Float32Array;
}

/** A frame prepared for registration; build it once per frame. */
export interface RegPyramid {
  width: number;
  height: number;
  /** 1/2, 1/4, 1/8 resolution. */
  levels: readonly [Level, Level, Level];
}

/** log(luma + 16) of a 2×2 sum of integer lumas (0..1020): the offset keeps sensor noise in the dark tame. */
const LOG_LUT = ((): Float32Array => {
  const t = new Float32Array(1021);
  for (let i = 0; i < t.length; i++) t[i] = Math.log(i / 4 + 16);
  return t;
})();

/** [1 2 1]/4 in both directions, edges clamped. */
function smooth(src: Float32Array, w: number, h: number): Float32Array {
  const tmp = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const r = y * w;
    tmp[r] = 0.75 * (src[r] as number) + 0.25 * (src[r + 1] as number);
    for (let x = 1; x < w - 1; x++) tmp[r + x] = 0.25 * ((src[r + x - 1] as number) + (src[r + x + 1] as number)) + 0.5 * (src[r + x] as number);
    tmp[r + w - 1] = 0.25 * (src[r + w - 2] as number) + 0.75 * (src[r + w - 1] as number);
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const up = (y > 0 ? y - 1 : 0) * w;
    const dn = (y < h - 1 ? y + 1 : h - 1) * w;
    const r = y * w;
    for (let x = 0; x < w; x++) out[r + x] = 0.25 * ((tmp[up + x] as number) + (tmp[dn + x] as number)) + 0.5 * (tmp[r + x] as number);
  }
  return out;
}

function level(img: Float32Array, w: number, h: number, s: number): Level {
  const sm = smooth(img, w, h);
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      gx[i] = 0.5 * ((sm[i + 1] as number) - (sm[i - 1] as number));
      gy[i] = 0.5 * ((sm[i + w] as number) - (sm[i - w] as number));
    }
  }
  return { w, h, s, img: sm, gx, gy };
}

function halve(l: Level): Level {
  const w = l.w >> 1;
  const h = l.h >> 1;
  const out = new Float32Array(w * h);
  const src = l.img;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * l.w;
    const r1 = r0 + l.w;
    for (let x = 0; x < w; x++) out[y * w + x] = 0.25 * ((src[r0 + 2 * x] as number) + (src[r0 + 2 * x + 1] as number) + (src[r1 + 2 * x] as number) + (src[r1 + 2 * x + 1] as number));
  }
  return level(out, w, h, l.s * 2);
}

/** Log-luma pyramid with gradients: about 4 ms for a 960×720 frame on one core. */
export function regPyramid(f: DecodedFrame): RegPyramid {
  const w = f.width >> 1;
  const h = f.height >> 1;
  const d = f.data;
  const stride = f.width * 3;
  const img = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * stride;
    const r1 = r0 + stride;
    for (let x = 0; x < w; x++) {
      const o0 = r0 + 6 * x;
      const o1 = r1 + 6 * x;
      // Integer luma (BT.601 weights ×256) of the four pixels.
      const sum =
        77 * ((d[o0] as number) + (d[o0 + 3] as number) + (d[o1] as number) + (d[o1 + 3] as number)) +
        150 * ((d[o0 + 1] as number) + (d[o0 + 4] as number) + (d[o1 + 1] as number) + (d[o1 + 4] as number)) +
        29 * ((d[o0 + 2] as number) + (d[o0 + 5] as number) + (d[o1 + 2] as number) + (d[o1 + 5] as number));
      img[y * w + x] = LOG_LUT[sum >> 8] as number;
    }
  }
  const l1 = level(img, w, h, 2);
  const l2 = halve(l1);
  const l3 = halve(l2);
  return { width: f.width, height: f.height, levels: [l1, l2, l3] };
}

/** k-th smallest of `xs` (reorders a copy). */
function select(xs: Float32Array, k: number): number {
  const a = Float32Array.from(xs);
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k] as number;
}

/** Sample points of a reference level: the strongest gradient of each cell×cell block, the stronger half kept. */
function samplePoints(l: Level, cell: number, margin: number): Int32Array {
  const cand: number[] = [];
  const mags: number[] = [];
  for (let by = margin; by + cell <= l.h - margin; by += cell) {
    for (let bx = margin; bx + cell <= l.w - margin; bx += cell) {
      let best = -1;
      let bm = 0;
      for (let y = by; y < by + cell; y++) {
        for (let x = bx; x < bx + cell; x++) {
          const i = y * l.w + x;
          const gx = l.gx[i] as number;
          const gy = l.gy[i] as number;
          const m = gx * gx + gy * gy;
          if (m > bm) {
            bm = m;
            best = i;
          }
        }
      }
      if (best >= 0) {
        cand.push(best);
        mags.push(bm);
      }
    }
  }
  if (cand.length === 0) return new Int32Array(0);
  const median = select(Float32Array.from(mags), mags.length >> 1);
  return Int32Array.from(cand.filter((_, k) => (mags[k] as number) >= median && (mags[k] as number) > 0));
}

/** Integer-shift gradient correlation search of `mov` against `ref` at `pts`, over centre ± r (level pixels). */
function searchShift(ref: Level, mov: Level, pts: Int32Array, cu: number, cv: number, r: number): { du: number; dv: number; score: number } {
  const w = ref.w;
  const n = pts.length;
  const xs = new Int32Array(n);
  const ys = new Int32Array(n);
  const rx = new Float32Array(n);
  const ry = new Float32Array(n);
  let normR = 0;
  for (let q = 0; q < n; q++) {
    const i = pts[q] as number;
    xs[q] = i % w;
    ys[q] = (i / w) | 0;
    rx[q] = ref.gx[i] as number;
    ry[q] = ref.gy[i] as number;
    normR += (rx[q] as number) * (rx[q] as number) + (ry[q] as number) * (ry[q] as number);
  }
  const mgx = mov.gx;
  const mgy = mov.gy;
  let best = { du: cu, dv: cv, score: -Infinity };
  for (let dv = cv - r; dv <= cv + r; dv++) {
    for (let du = cu - r; du <= cu + r; du++) {
      const off = dv * w + du;
      let num = 0;
      let den = 0;
      for (let q = 0; q < n; q++) {
        const x = (xs[q] as number) + du;
        const y = (ys[q] as number) + dv;
        if (x < 1 || y < 1 || x >= mov.w - 1 || y >= mov.h - 1) continue;
        const j = (pts[q] as number) + off;
        const mx = mgx[j] as number;
        const my = mgy[j] as number;
        num += (rx[q] as number) * mx + (ry[q] as number) * my;
        den += mx * mx + my * my;
      }
      const score = den > 0 ? num / Math.sqrt(normR * den) : -1;
      if (score > best.score) best = { du, dv, score };
    }
  }
  return best;
}

/** Geometric parameters in full-resolution pixels: moving = (1+a, −b; b, 1+a)·(ref − c) + c + (tx, ty). */
interface Params {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Bilinear sample of a level image at continuous level coordinates (pixel centres at i + 0.5), inside the image. */
function bilinear(img: Float32Array, w: number, u: number, v: number): number {
  const x = u - 0.5;
  const y = v - 0.5;
  // Callers sample at u, v ≥ 1.5, so truncation is the floor.
  const x0 = x | 0;
  const y0 = y | 0;
  const fx = x - x0;
  const fy = y - y0;
  const i = y0 * w + x0;
  return (1 - fy) * ((1 - fx) * (img[i] as number) + fx * (img[i + 1] as number)) + fy * ((1 - fx) * (img[i + w] as number) + fx * (img[i + w + 1] as number));
}

/** Solves the 6×6 system `h·x = g` (h symmetric, row-major) by Gaussian elimination with partial pivoting. */
function solve6(h: Float64Array, g: Float64Array): Float64Array | null {
  const n = 6;
  const m = new Float64Array(n * (n + 1));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) m[r * (n + 1) + c] = h[r * n + c] as number;
    m[r * (n + 1) + n] = g[r] as number;
  }
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * (n + 1) + c] as number) > Math.abs(m[p * (n + 1) + c] as number)) p = r;
    if (Math.abs(m[p * (n + 1) + c] as number) < 1e-12) return null;
    if (p !== c) {
      for (let k = 0; k <= n; k++) {
        const t = m[c * (n + 1) + k] as number;
        m[c * (n + 1) + k] = m[p * (n + 1) + k] as number;
        m[p * (n + 1) + k] = t;
      }
    }
    for (let r = c + 1; r < n; r++) {
      const f = (m[r * (n + 1) + c] as number) / (m[c * (n + 1) + c] as number);
      for (let k = c; k <= n; k++) m[r * (n + 1) + k] = (m[r * (n + 1) + k] as number) - f * (m[c * (n + 1) + k] as number);
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r * (n + 1) + n] as number;
    for (let k = r + 1; k < n; k++) s -= (m[r * (n + 1) + k] as number) * (x[k] as number);
    x[r] = s / (m[r * (n + 1) + r] as number);
  }
  return x;
}

/**
 * Robust Gauss–Newton refinement at one level: minimises Σ ρ(mov(W(x)) − ref(x) − β0 − β1·r²) over the sample
 * points, with Tukey's biweight at 4.685 robust sigmas (what a shopper took, a hand, glare fall out).
 */
function refine(ref: Level, mov: Level, pts: Int32Array, p0: Params, cxFull: number, cyFull: number, maxIter: number): Params {
  const s = ref.s;
  const w = ref.w;
  const cx = cxFull / s;
  const cy = cyFull / s;
  const k = Math.max(ref.w, ref.h) / 2;
  const n = pts.length;
  const us = new Float32Array(n);
  const vs = new Float32Array(n);
  const rs = new Float32Array(n);
  const rv = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    const i = pts[q] as number;
    us[q] = (i % w) + 0.5 - cx;
    vs[q] = ((i / w) | 0) + 0.5 - cy;
    rs[q] = ((us[q] as number) ** 2 + (vs[q] as number) ** 2) / (k * k);
    rv[q] = ref.img[i] as number;
  }
  // Parameters in level units, rotation/scale terms scaled by k so all six are of similar magnitude.
  let A = p0.a * k;
  let B = p0.b * k;
  let tx = p0.tx / s;
  let ty = p0.ty / s;
  let b0 = 0;
  let b1 = 0;
  const e = new Float32Array(n);
  const absE = new Float32Array(n);
  const valid = new Uint8Array(n);
  const jac = new Float64Array(6);
  const H = new Float64Array(36);
  const G = new Float64Array(6);
  for (let it = 0; it < maxIter; it++) {
    const ca = 1 + A / k;
    const sb = B / k;
    let nv = 0;
    for (let q = 0; q < n; q++) {
      const u = ca * (us[q] as number) - sb * (vs[q] as number) + cx + tx;
      const v = sb * (us[q] as number) + ca * (vs[q] as number) + cy + ty;
      if (u < 1.5 || v < 1.5 || u > mov.w - 1.5 || v > mov.h - 1.5) {
        valid[q] = 0;
        continue;
      }
      valid[q] = 1;
      const r = bilinear(mov.img, mov.w, u, v) - (rv[q] as number) - b0 - b1 * (rs[q] as number);
      e[q] = r;
      absE[nv++] = Math.abs(r);
    }
    if (nv < 30) break;
    // Robust scale from the median absolute residual; a floor keeps an exact match from dividing by zero.
    const sigma = Math.max(1.4826 * select(absE.subarray(0, nv), nv >> 1), 1e-3);
    const c = 4.685 * sigma;
    H.fill(0);
    G.fill(0);
    for (let q = 0; q < n; q++) {
      if (!valid[q]) continue;
      const r = e[q] as number;
      if (Math.abs(r) >= c) continue;
      const t = 1 - (r / c) ** 2;
      const wt = t * t;
      const uu = us[q] as number;
      const vv = vs[q] as number;
      const u = ca * uu - sb * vv + cx + tx;
      const v = sb * uu + ca * vv + cy + ty;
      const mx = bilinear(mov.gx, mov.w, u, v);
      const my = bilinear(mov.gy, mov.w, u, v);
      jac[0] = (mx * uu + my * vv) / k;
      jac[1] = (-mx * vv + my * uu) / k;
      jac[2] = mx;
      jac[3] = my;
      jac[4] = -1;
      jac[5] = -(rs[q] as number);
      for (let a = 0; a < 6; a++) {
        const ja = (jac[a] as number) * wt;
        G[a] = (G[a] as number) + ja * r;
        for (let b = a; b < 6; b++) H[a * 6 + b] = (H[a * 6 + b] as number) + ja * (jac[b] as number);
      }
    }
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < a; b++) H[a * 6 + b] = H[b * 6 + a] as number;
      H[a * 6 + a] = (H[a * 6 + a] as number) * (1 + 1e-6) + 1e-9;
    }
    const d = solve6(H, G);
    if (!d) break;
    A -= d[0] as number;
    B -= d[1] as number;
    tx -= d[2] as number;
    ty -= d[3] as number;
    b0 -= d[4] as number;
    b1 -= d[5] as number;
    // Converged when no corner moves by more than a hundredth of a level pixel.
    if (Math.abs(d[0] as number) + Math.abs(d[1] as number) + Math.abs(d[2] as number) + Math.abs(d[3] as number) < 0.01) break;
  }
  return { a: A / k, b: B / k, tx: tx * s, ty: ty * s };
}

/** Gradient correlation of `mov` warped by `p` against `ref` at `pts`. */
function gradientCorrelation(ref: Level, mov: Level, pts: Int32Array, p: Params, cxFull: number, cyFull: number): number {
  const s = ref.s;
  const cx = cxFull / s;
  const cy = cyFull / s;
  const ca = 1 + p.a;
  let num = 0;
  let nr = 0;
  let nm = 0;
  for (const i of pts) {
    const uu = (i % ref.w) + 0.5 - cx;
    const vv = ((i / ref.w) | 0) + 0.5 - cy;
    const u = ca * uu - p.b * vv + cx + p.tx / s;
    const v = p.b * uu + ca * vv + cy + p.ty / s;
    if (u < 1.5 || v < 1.5 || u > mov.w - 1.5 || v > mov.h - 1.5) continue;
    // The moving gradient turned back into the reference's orientation.
    const gx = bilinear(mov.gx, mov.w, u, v);
    const gy = bilinear(mov.gy, mov.w, u, v);
    const mx = ca * gx + p.b * gy;
    const my = -p.b * gx + ca * gy;
    const rx = ref.gx[i] as number;
    const ry = ref.gy[i] as number;
    num += rx * mx + ry * my;
    nr += rx * rx + ry * ry;
    nm += mx * mx + my * my;
  }
  return nr > 0 && nm > 0 ? num / Math.sqrt(nr * nm) : 0;
}

/** The coarse search window at 1/8 resolution, level pixels (±48 px at full resolution). */
const COARSE_RADIUS = 6;

/** Registers `moving` against `reference` (two frames of one camera, same size). */
export function register(moving: RegPyramid, reference: RegPyramid): Registration {
  if (moving.width !== reference.width || moving.height !== reference.height) throw new Error(`frame sizes differ: ${moving.width}×${moving.height} against ${reference.width}×${reference.height}`);
  const [r1, r2, r3] = reference.levels;
  const [m1, m2, m3] = moving.levels;
  const cx = reference.width / 2;
  const cy = reference.height / 2;
  const coarse = searchShift(r3, m3, samplePoints(r3, 2, COARSE_RADIUS + 1), 0, 0, COARSE_RADIUS);
  const atSearchEdge = Math.abs(coarse.du) === COARSE_RADIUS || Math.abs(coarse.dv) === COARSE_RADIUS;
  const pts2 = samplePoints(r2, 3, 4);
  const mid = searchShift(r2, m2, pts2, 2 * coarse.du, 2 * coarse.dv, 2);
  let p: Params = { a: 0, b: 0, tx: mid.du * r2.s, ty: mid.dv * r2.s };
  p = refine(r2, m2, pts2, p, cx, cy, 20);
  const pts1 = samplePoints(r1, 5, 4);
  p = refine(r1, m1, pts1, p, cx, cy, 6);
  const quality = gradientCorrelation(r1, m1, pts1, p, cx, cy);
  const affine = similarityAffine(p, cx, cy);
  const corners: Array<[number, number]> = [
    [0, 0],
    [reference.width, 0],
    [0, reference.height],
    [reference.width, reference.height],
  ];
  const maxShift = Math.max(...corners.map(([x, y]) => Math.hypot(affine.a * x + affine.c * y + affine.e - x, affine.b * x + affine.d * y + affine.f - y)));
  const motion: Similarity = { dx: p.tx, dy: p.ty, rotationDeg: (Math.atan2(p.b, 1 + p.a) * 180) / Math.PI, scale: Math.hypot(1 + p.a, p.b) };
  return { motion, affine, quality, maxShift, atSearchEdge };
}

function similarityAffine(p: Params, cx: number, cy: number): Affine {
  const ca = 1 + p.a;
  return { a: ca, b: p.b, c: -p.b, d: ca, e: cx + p.tx - ca * cx + p.b * cy, f: cy + p.ty - p.b * cx - ca * cy };
}

/** The affine of a motion given as shift, rotation and scale about the centre of a width×height frame. */
export function motionAffine(m: Similarity, width: number, height: number): Affine {
  const th = (m.rotationDeg * Math.PI) / 180;
  return similarityAffine({ a: m.scale * Math.cos(th) - 1, b: m.scale * Math.sin(th), tx: m.dx, ty: m.dy }, width / 2, height / 2);
}

/** How far a camera may move between its reference and a frame before the frame is refused rather than corrected. */
export interface MotionLimits {
  /** Shift of the frame centre, px. */
  shiftPx: number;
  rotationDeg: number;
  /** |scale − 1|. */
  scale: number;
  /** Registrations below this gradient correlation are not trusted. */
  minQuality: number;
  /** Motions whose largest corner displacement is below this are treated as none (px): no resampling for noise. */
  deadbandPx: number;
}

/**
 * What to do with a frame given its registration: read it through `affine`, or refuse it because it moved
 * beyond the limits (the motion is measured and trustworthy) or cannot be aligned at all (`unaligned`).
 */
export type Alignment =
  | { status: 'aligned'; /** Reference pixel → frame pixel; identity within the deadband. */ affine: Affine; registration: Registration }
  | { status: 'moved'; why: 'beyond_limits' | 'unaligned'; /** The measured motion and the limits, for a reviewer. */ detail: string; registration: Registration };

export function judgeMotion(reg: Registration, limits: MotionLimits): Alignment {
  const m = reg.motion;
  const what = `shift ${Math.hypot(m.dx, m.dy).toFixed(1)} px (${m.dx.toFixed(1)}, ${m.dy.toFixed(1)}), rotation ${m.rotationDeg.toFixed(2)}°, scale ${m.scale.toFixed(3)}, registration quality ${reg.quality.toFixed(2)}`;
  const limitsText = `limits ${limits.shiftPx} px, ${limits.rotationDeg}°, ${(limits.scale * 100).toFixed(0)} %, quality ≥ ${limits.minQuality}`;
  const detail = `${what}; ${limitsText}`;
  if (reg.quality < limits.minQuality || reg.atSearchEdge) return { status: 'moved', why: 'unaligned', detail, registration: reg };
  if (Math.hypot(m.dx, m.dy) > limits.shiftPx || Math.abs(m.rotationDeg) > limits.rotationDeg || Math.abs(m.scale - 1) > limits.scale) return { status: 'moved', why: 'beyond_limits', detail, registration: reg };
  return { status: 'aligned', affine: reg.maxShift < limits.deadbandPx ? IDENTITY_AFFINE : reg.affine, registration: reg };
}
