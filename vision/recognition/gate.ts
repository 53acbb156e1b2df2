import { slotRect, type Affine, type Rect, type ShelfLayout } from '../render/geometry';
import { CROP_H, CROP_W, type DecodedFrame } from './crop';

/**
 * The before/after difference: facings whose block means barely differ (after correcting each shelf row's
 * exposure) are unchanged and skip cropping and the model. The recogniser classifies a facing only when it
 * differs in every camera; the threshold sits well below the weakest real change on the validation scenes (a
 * dark item on a dark backdrop), and what passes needlessly (glare, a hand, blur) is classified like any other
 * change.
 */
const BX = 4;
const BY = 4;
const GW = CROP_W / BX;
const GH = CROP_H / BY;

/** Floats per facing in a block-mean grid. */
export const GATE_LEN = GW * GH * 3;

/**
 * Block means (GW×GH×3) of one facing, sampled straight from the decoded frame with 2×2 bilinear taps per
 * block: a sixteenth of the samples of a full crop, so every facing can be compared before any is cropped.
 * Writes into `out` at `offset`.
 */
export function gateMeans(f: DecodedFrame, m: Affine, r: Rect, out: Float32Array, offset = 0): void {
  const { width, height, data } = f;
  const wm = width - 1;
  const hm = height - 1;
  for (let gy = 0; gy < GH; gy++) {
    for (let gx = 0; gx < GW; gx++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let tj = 0; tj < 2; tj++) {
        const sy = r.y + ((gy * BY + 1 + 2 * tj) / CROP_H) * r.h;
        for (let ti = 0; ti < 2; ti++) {
          const sx = r.x + ((gx * BX + 1 + 2 * ti) / CROP_W) * r.w;
          const px = m.a * sx + m.c * sy + m.e - 0.5;
          const py = m.b * sx + m.d * sy + m.f - 0.5;
          const x0 = Math.floor(px);
          const y0 = Math.floor(py);
          const fx = px - x0;
          const fy = py - y0;
          const xa = x0 < 0 ? 0 : x0 > wm ? wm : x0;
          const xb = x0 + 1 < 0 ? 0 : x0 + 1 > wm ? wm : x0 + 1;
          const ya = y0 < 0 ? 0 : y0 > hm ? hm : y0;
          const yb = y0 + 1 < 0 ? 0 : y0 + 1 > hm ? hm : y0 + 1;
          const oa = (ya * width + xa) * 3;
          const ob = (ya * width + xb) * 3;
          const oc = (yb * width + xa) * 3;
          const od = (yb * width + xb) * 3;
          const w00 = (1 - fx) * (1 - fy);
          const w01 = fx * (1 - fy);
          const w10 = (1 - fx) * fy;
          const w11 = fx * fy;
          s0 += (data[oa] as number) * w00 + (data[ob] as number) * w01 + (data[oc] as number) * w10 + (data[od] as number) * w11;
          s1 += (data[oa + 1] as number) * w00 + (data[ob + 1] as number) * w01 + (data[oc + 1] as number) * w10 + (data[od + 1] as number) * w11;
          s2 += (data[oa + 2] as number) * w00 + (data[ob + 2] as number) * w01 + (data[oc + 2] as number) * w10 + (data[od + 2] as number) * w11;
        }
      }
      const g = offset + (gy * GW + gx) * 3;
      out[g] = s0 / 4;
      out[g + 1] = s1 / 4;
      out[g + 2] = s2 / 4;
    }
  }
}

/**
 * Difference score of every facing of the shelf in one camera, in layout order. Exposure is corrected per
 * shelf row: a row holds many facings, so the few a shopper changed cannot drag the median, while vignetting
 * still varies from row to row. `m` maps the shelf into the before frame, `mAfter` into the after frame (the
 * calibration corrected for the camera's motion between the snapshots; the same by default).
 */
export function facingDiffs(before: DecodedFrame, after: DecodedFrame, m: Affine, layout: ShelfLayout, mAfter: Affine = m): Float32Array {
  const total = layout.cells.reduce((n, c) => n + c.capacity, 0);
  const b = new Float32Array(total * GATE_LEN);
  const a = new Float32Array(total * GATE_LEN);
  const rowOf: number[] = [];
  let k = 0;
  for (const cell of layout.cells) {
    for (let i = 0; i < cell.capacity; i++, k++) {
      const rect = slotRect(cell, i);
      gateMeans(before, m, rect, b, k * GATE_LEN);
      gateMeans(after, mAfter, rect, a, k * GATE_LEN);
      rowOf.push(cell.row);
    }
  }
  const out = new Float32Array(total);
  for (let row = 0; row < layout.rows; row++) {
    const idx = rowOf.flatMap((r, j) => (r === row ? [j] : []));
    const at = (x: Float32Array, j: number): Float32Array => x.subarray(j * GATE_LEN, (j + 1) * GATE_LEN);
    const d = laneDiffs(
      idx.map((j) => at(b, j)),
      idx.map((j) => at(a, j)),
    );
    idx.forEach((j, n) => (out[j] = d[n] as number));
  }
  return out;
}

const channelMeans = (b: Float32Array): [number, number, number] => {
  const m: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < b.length; i += 3) {
    m[0] += b[i] as number;
    m[1] += b[i + 1] as number;
    m[2] += b[i + 2] as number;
  }
  const n = b.length / 3;
  return [m[0] / n, m[1] / n, m[2] / n];
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 1 : (s[Math.floor(s.length / 2)] as number);
};

/**
 * Difference scores for a group of facings (a shelf row) in one camera: `before[i]`/`after[i]` are block means.
 * The group's exposure change is the median per-facing ratio, robust to the few facings that did change; the
 * score is the worst block after that correction.
 */
export function laneDiffs(before: Float32Array[], after: Float32Array[]): number[] {
  const mb = before.map(channelMeans);
  const ma = after.map(channelMeans);
  const gain = [0, 1, 2].map((c) => median(mb.map((m, i) => ((ma[i] as number[])[c] as number) / Math.max((m[c] as number), 8))));
  return before.map((b, i) => {
    const a = after[i] as Float32Array;
    let worst = 0;
    for (let k = 0; k < b.length; k += 3) {
      const d = (Math.abs((a[k] as number) - (b[k] as number) * (gain[0] as number)) + Math.abs((a[k + 1] as number) - (b[k + 1] as number) * (gain[1] as number)) + Math.abs((a[k + 2] as number) - (b[k + 2] as number) * (gain[2] as number))) / 3;
      if (d > worst) worst = d;
    }
    return worst;
  });
}
