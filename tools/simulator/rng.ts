/** The simulator's seeded PRNG is the renderer's (mulberry32, vision/render/prng.ts): one generator, one behaviour. */
import type { Rng } from '../../vision/render/prng';

export { rng as seededRng, type Rng } from '../../vision/render/prng';

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
