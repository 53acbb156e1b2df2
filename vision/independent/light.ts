import { lightGains } from './colour';
import type { SceneConditions } from './conditions';
import type { Random } from './random';

/**
 * The lighting and sensor pass, on the rasterised RGB frame: colour temperature with partial white balance,
 * exposure, a linear gradient and vignette, flicker between the two snapshots (a gain change and, on LED
 * drivers, rolling-shutter bands in the after frame), and sensor noise. Done on raw pixels, not in SVG, so the
 * gain field is smooth per pixel and the noise is independent per frame.
 */
export interface LightPass {
  kelvin: number;
  whiteBalance: number;
  exposure: number;
  gx: number;
  gy: number;
  vignette: number;
  banding: number;
  bandPeriod: number;
  bandPhase: number;
  noise: number;
}

export function lightFor(c: SceneConditions, phase: 'before' | 'after', r: Random): LightPass {
  const L = c.light;
  const after = phase === 'after';
  return {
    kelvin: after ? L.kelvinAfter : L.kelvin,
    whiteBalance: L.whiteBalance,
    exposure: L.exposure * (after ? L.flickerGain : 1),
    gx: L.gx,
    gy: L.gy,
    vignette: L.vignette,
    banding: after ? L.banding : 0,
    bandPeriod: L.bandPeriod,
    bandPhase: r.uniform(0, 2 * Math.PI),
    noise: c.noise,
  };
}

/** 64 Ki standard normal samples; a frame indexes them at random, which is far cheaper than drawing normals. */
const NORMALS = ((): Float32Array => {
  const t = new Float32Array(65536);
  for (let i = 0; i < t.length; i++) {
    // Quantiles of a unit-variance logistic (close to normal, slightly heavier tails) on a stratified grid.
    const u = (i + 0.5) / t.length;
    t[i] = Math.log(u / (1 - u)) * 0.5513;
  }
  return t;
})();

/** Applies the pass in place to a packed RGB buffer of width × height. */
export function applyLight(rgb: Buffer, width: number, height: number, p: LightPass, r: Random): void {
  const [gr, gg, gb] = lightGains(p.kelvin, p.whiteBalance);
  const rowGain = new Float32Array(height);
  for (let y = 0; y < height; y++) {
    const band = p.banding > 0 ? 1 + p.banding * Math.sin((2 * Math.PI * y) / p.bandPeriod + p.bandPhase) : 1;
    rowGain[y] = p.exposure * band * (1 + p.gy * (y / height - 0.5));
  }
  const cx = width / 2;
  const cy = height / 2;
  // One xorshift32 word per pixel (16 bits luminance noise, 16 bits chroma): the Random stream only seeds it,
  // since a closure call per channel made this pass the slowest part of a frame.
  let x32 = Math.floor(r.next() * 0xffffffff) | 1;
  let i = 0;
  for (let y = 0; y < height; y++) {
    const ry = ((y - cy) / cy) ** 2;
    const row = rowGain[y] as number;
    for (let x = 0; x < width; x++, i += 3) {
      const rr = (((x - cx) / cx) ** 2 + ry) / 2;
      const g = row * (1 + p.gx * (x / width - 0.5)) * (1 - p.vignette * rr);
      x32 ^= x32 << 13;
      x32 ^= x32 >>> 17;
      x32 ^= x32 << 5;
      const lum = NORMALS[x32 & 0xffff] as number;
      const chroma = NORMALS[(x32 >>> 16) & 0xffff] as number;
      const v0 = rgb[i] as number;
      const v1 = rgb[i + 1] as number;
      const v2 = rgb[i + 2] as number;
      // Shot noise grows with signal: the sigma is scaled by brightness, plus a floor for read noise.
      const s = p.noise * (0.5 + (0.5 * (v0 + v1 + v2)) / 765);
      rgb[i] = clamp8(v0 * g * gr + s * (lum + 0.5 * chroma));
      rgb[i + 1] = clamp8(v1 * g * gg + s * lum);
      rgb[i + 2] = clamp8(v2 * g * gb + s * (lum - 0.5 * chroma));
    }
  }
}

// Bound once: under jest's vm context every read of the global `Math` in a per-pixel loop costs ~100×.
const { round } = Math;
const clamp8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : round(v));
