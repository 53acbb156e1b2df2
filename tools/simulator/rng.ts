/** A small seeded PRNG (mulberry32), so a simulated fleet replays the same way for the same seed. */
export type Rng = () => number;

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, to derive per-cabinet seeds from ids. */
export function hashSeed(s: string, base = 0): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export const between = (r: Rng, lo: number, hi: number): number => lo + (hi - lo) * r();
export const intBetween = (r: Rng, lo: number, hi: number): number => Math.floor(between(r, lo, hi + 1));

/** Random characters for handshake nonces ([A-Za-z0-9], 62 symbols). */
export function nonceFrom(r: Rng, length: number): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < length; i++) s += A[Math.floor(r() * A.length)];
  return s;
}
