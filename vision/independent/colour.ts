/** Colour helpers of the independent compositor: hex strings for SVG, and light-source colour for the raw pass. */

export const hex = (r: number, g: number, b: number): string =>
  `#${[r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0')).join('')}`;

/** `colour` with every channel scaled by `f` (f < 1 darker). */
export function shade(colour: string, f: number): string {
  const n = parseInt(colour.slice(1), 16);
  return hex(((n >> 16) & 255) * f, ((n >> 8) & 255) * f, (n & 255) * f);
}

/**
 * Relative RGB of a black body at `kelvin` (the usual curve fit of the Planckian locus in sRGB, 1000–40000 K),
 * as 0..1 per channel.
 */
export function blackBody(kelvin: number): [number, number, number] {
  const t = Math.max(1000, Math.min(40000, kelvin)) / 100;
  const r = t <= 66 ? 255 : 329.698727446 * Math.pow(t - 60, -0.1332047592);
  const g = t <= 66 ? 99.4708025861 * Math.log(t) - 161.1195681661 : 288.1221695283 * Math.pow(t - 60, -0.0755148492);
  const b = t >= 66 ? 255 : t <= 19 ? 0 : 138.5177312231 * Math.log(t - 10) - 305.0447927307;
  const c = (v: number): number => Math.max(0, Math.min(255, v)) / 255;
  return [c(r), c(g), c(b)];
}

/**
 * Per-channel gains of a scene lit at `kelvin` and photographed by a camera whose white balance removes the
 * fraction `whiteBalance` of the cast, relative to daylight (6500 K renders neutral). Normalised to keep green at 1.
 */
export function lightGains(kelvin: number, whiteBalance: number): [number, number, number] {
  const [r, g, b] = blackBody(kelvin);
  const [r0, g0, b0] = blackBody(6500);
  const k = 1 - Math.max(0, Math.min(1, whiteBalance));
  const raw = [Math.pow(r / r0, k), Math.pow(g / g0, k), Math.pow(b / Math.max(1e-3, b0), k)];
  const gNorm = raw[1] as number;
  return [(raw[0] as number) / gNorm, 1, (raw[2] as number) / gNorm];
}
