import sharp from 'sharp';
import { applyAffine, type Affine, type Rect } from '../render/geometry';

/**
 * Decode once, crop many: a frame is decoded to packed RGB a single time, then every facing of every lane is
 * resampled from it through the camera's calibration into a small upright crop for the embedding model.
 */
export const CROP_W = 32;
export const CROP_H = 64;
export const CROP_BYTES = CROP_W * CROP_H * 3;

export interface DecodedFrame {
  width: number;
  height: number;
  /** Packed RGB, row-major. */
  data: Buffer;
}

export async function decodeJpeg(jpeg: Buffer): Promise<DecodedFrame> {
  const { data, info } = await sharp(jpeg, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return { width: info.width, height: info.height, data };
}

/** Mean and standard deviation of luma over a coarse grid: too dark, blown out or flat frames are unreadable. */
export function frameStats(f: DecodedFrame): { mean: number; std: number } {
  let n = 0;
  let s = 0;
  let s2 = 0;
  for (let y = 0; y < f.height; y += 8) {
    for (let x = 0; x < f.width; x += 8) {
      const o = (y * f.width + x) * 3;
      const v = 0.299 * (f.data[o] as number) + 0.587 * (f.data[o + 1] as number) + 0.114 * (f.data[o + 2] as number);
      s += v;
      s2 += v * v;
      n++;
    }
  }
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
}

/**
 * Resamples the shelf rectangle `r`, seen through `m`, into CROP_W×CROP_H RGB (HWC, uint8), with 2×2
 * supersampling so the vertical downscale does not alias. Writes into `out` at `offset`. The hot loop of
 * recognition: the affine map is applied inline and the shelf coordinates of the supersamples are computed
 * once per crop, so no sample allocates (the output is the same, byte for byte, as mapping every sample).
 */
export function cropSlot(f: DecodedFrame, m: Affine, r: Rect, out: Uint8Array, offset = 0): void {
  const { width, height, data } = f;
  const { a, b, c, d, e } = m;
  const mf = m.f;
  const wm = width - 1;
  const hm = height - 1;
  const sxs = new Float64Array(CROP_W * 2);
  for (let i = 0; i < CROP_W; i++) for (let si = 0; si < 2; si++) sxs[i * 2 + si] = r.x + ((i + 0.25 + 0.5 * si) / CROP_W) * r.w;
  const sys = new Float64Array(CROP_H * 2);
  for (let j = 0; j < CROP_H; j++) for (let sj = 0; sj < 2; sj++) sys[j * 2 + sj] = r.y + ((j + 0.25 + 0.5 * sj) / CROP_H) * r.h;
  for (let j = 0; j < CROP_H; j++) {
    for (let i = 0; i < CROP_W; i++) {
      let acc0 = 0;
      let acc1 = 0;
      let acc2 = 0;
      for (let sj = 0; sj < 2; sj++) {
        const sy = sys[j * 2 + sj] as number;
        for (let si = 0; si < 2; si++) {
          const sx = sxs[i * 2 + si] as number;
          const px = a * sx + c * sy + e;
          const py = b * sx + d * sy + mf;
          const x0 = Math.floor(px - 0.5);
          const y0 = Math.floor(py - 0.5);
          const fx = px - 0.5 - x0;
          const fy = py - 0.5 - y0;
          const xa = x0 < 0 ? 0 : x0 >= width ? wm : x0;
          const xb = x0 + 1 < 0 ? 0 : x0 + 1 >= width ? wm : x0 + 1;
          const ya = y0 < 0 ? 0 : y0 >= height ? hm : y0;
          const yb = y0 + 1 < 0 ? 0 : y0 + 1 >= height ? hm : y0 + 1;
          const oa = (ya * width + xa) * 3;
          const ob = (ya * width + xb) * 3;
          const oc = (yb * width + xa) * 3;
          const od = (yb * width + xb) * 3;
          const w00 = (1 - fx) * (1 - fy);
          const w01 = fx * (1 - fy);
          const w10 = (1 - fx) * fy;
          const w11 = fx * fy;
          acc0 += (data[oa] as number) * w00 + (data[ob] as number) * w01 + (data[oc] as number) * w10 + (data[od] as number) * w11;
          acc1 += (data[oa + 1] as number) * w00 + (data[ob + 1] as number) * w01 + (data[oc + 1] as number) * w10 + (data[od + 1] as number) * w11;
          acc2 += (data[oa + 2] as number) * w00 + (data[ob + 2] as number) * w01 + (data[oc + 2] as number) * w10 + (data[od + 2] as number) * w11;
        }
      }
      const o = offset + (j * CROP_W + i) * 3;
      out[o] = acc0 / 4;
      out[o + 1] = acc1 / 4;
      out[o + 2] = acc2 / 4;
    }
  }
}

/** Fraction of the shelf rectangle covered by a one-byte-per-pixel mask (the renderer's hand mask). */
export function maskCoverage(mask: Buffer, width: number, height: number, m: Affine, r: Rect): number {
  let hit = 0;
  let n = 0;
  for (let j = 0; j < 16; j++) {
    for (let i = 0; i < 8; i++) {
      const [px, py] = applyAffine(m, r.x + ((i + 0.5) / 8) * r.w, r.y + ((j + 0.5) / 16) * r.h);
      const x = Math.min(width - 1, Math.max(0, Math.round(px)));
      const y = Math.min(height - 1, Math.max(0, Math.round(py)));
      if ((mask[y * width + x] as number) > 127) hit++;
      n++;
    }
  }
  return hit / n;
}

/** Model input normalisation; train.py uses the same constants. */
export const PIXEL_MEAN = 127.5;
export const PIXEL_SCALE = 1 / 64;

/** HWC uint8 crops → NCHW float32 tensor data. */
export function toTensorData(crops: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n * CROP_BYTES);
  const plane = CROP_W * CROP_H;
  for (let k = 0; k < n; k++) {
    const base = k * CROP_BYTES;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[base + c * plane + p] = ((crops[base + p * 3 + c] as number) - PIXEL_MEAN) * PIXEL_SCALE;
    }
  }
  return out;
}
