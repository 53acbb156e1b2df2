/**
 * Seeded randomness for the renderer and the simulators: the same seed always gives the same scene, so
 * datasets, evaluations and tests are reproducible on any machine.
 */
export type Rng = () => number;

/** FNV-1a over the string: a stable 32-bit seed from any label (SKU, camera, phase). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast and good enough for procedural graphics. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator derived from a seed and labels, independent of every other label combination. */
export function rngFor(seed: number, ...labels: Array<string | number>): Rng {
  return rng(hashString(`${seed}|${labels.join('|')}`));
}

export const uniform = (r: Rng, lo: number, hi: number): number => lo + (hi - lo) * r();
export const intIn = (r: Rng, lo: number, hiInclusive: number): number => lo + Math.floor(r() * (hiInclusive - lo + 1));
export const chance = (r: Rng, p: number): boolean => r() < p;

export function pick<T>(r: Rng, xs: readonly T[]): T {
  if (xs.length === 0) throw new Error('pick from an empty list');
  return xs[Math.floor(r() * xs.length)] as T;
}

/** Standard normal by Box–Muller. */
export function gauss(r: Rng): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export function shuffle<T>(r: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
