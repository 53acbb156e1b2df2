import { CROP_BYTES, CROP_H, CROP_W } from './crop';

/**
 * The before/after difference: facings whose crops barely differ (after correcting each lane's exposure) are
 * unchanged and skip the model. The threshold is set low enough that every real change on the validation
 * scenes passes; what passes needlessly (glare, a hand, blur) is then classified like any other change.
 */
const BX = 4;
const BY = 4;
const GW = CROP_W / BX;
const GH = CROP_H / BY;

/** Block means (GW×GH×3) of one HWC crop. */
export function blockMeans(crops: Uint8Array, index: number): Float32Array {
  const out = new Float32Array(GW * GH * 3);
  const base = index * CROP_BYTES;
  for (let y = 0; y < CROP_H; y++) {
    const gy = (y / BY) | 0;
    for (let x = 0; x < CROP_W; x++) {
      const o = base + (y * CROP_W + x) * 3;
      const g = (gy * GW + ((x / BX) | 0)) * 3;
      out[g] = (out[g] as number) + (crops[o] as number);
      out[g + 1] = (out[g + 1] as number) + (crops[o + 1] as number);
      out[g + 2] = (out[g + 2] as number) + (crops[o + 2] as number);
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / (BX * BY);
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
 * Difference scores for the facings of one lane in one camera: `before[i]`/`after[i]` are block means. The
 * lane's exposure change is the median per-facing ratio, robust to the one or two facings that did change.
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
