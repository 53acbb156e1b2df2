import type { Affine } from '../render/geometry';
import type { SceneConditions } from './conditions';
import type { Random } from './random';

/**
 * What lies between the shelf and the sensor: the camera's pose (calibrated, then shaken by the door for the
 * after frame) and the door glass with its reflections. Both are in image coordinates, drawn per camera.
 */

/** The calibration moved by a rotation of `rotDeg` about the frame centre and a shift of (dx, dy) pixels. */
export function shaken(m: Affine, s: { dx: number; dy: number; rotDeg: number }, frameW: number, frameH: number): Affine {
  if (s.dx === 0 && s.dy === 0 && s.rotDeg === 0) return m;
  const t = (s.rotDeg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = frameW / 2;
  const cy = frameH / 2;
  const rot = (x: number, y: number): [number, number] => [cos * x - sin * y, sin * x + cos * y];
  const [a, b] = rot(m.a, m.b);
  const [c, d] = rot(m.c, m.d);
  const [e, f] = rot(m.e - cx, m.f - cy);
  return { a, b, c, d, e: e + cx + s.dx, f: f + cy + s.dy };
}

export const svgMatrix = (m: Affine): string => `matrix(${[m.a, m.b, m.c, m.d, m.e, m.f].map((v) => v.toFixed(5)).join(' ')})`;

export interface GlassLayout {
  bands: Array<{ at: number; width: number; strength: number }>;
  lamps: Array<{ x: number; y: number; rx: number; ry: number }>;
  person: { x: number; y: number; rx: number; ry: number };
}

/** Where one camera sees the reflections; drawn once per camera so before and after share it (up to the shift). */
export function glassLayout(r: Random, frameW: number, frameH: number): GlassLayout {
  return {
    bands: Array.from({ length: r.int(1, 3) }, () => ({ at: r.uniform(-0.2, 1.2) * frameW, width: r.uniform(40, 170), strength: r.uniform(0.5, 1) })),
    lamps: Array.from({ length: r.int(0, 2) }, () => ({ x: r.uniform(0, frameW), y: r.uniform(0, frameH * 0.35), rx: r.uniform(60, 180), ry: r.uniform(10, 30) })),
    person: { x: r.uniform(0.25, 0.75) * frameW, y: r.uniform(0.45, 0.8) * frameH, rx: r.uniform(140, 260), ry: r.uniform(240, 380) },
  };
}

export function glassSvg(g: GlassLayout, c: SceneConditions, phase: 'before' | 'after', prefix: string, frameW: number, frameH: number): { defs: string; body: string } {
  const op = c.glass.opacity;
  const shift = phase === 'after' ? c.glass.shiftAfter : 0;
  const defs =
    `<linearGradient id="${prefix}band" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#fff" stop-opacity="0"/><stop offset="0.5" stop-color="#fff" stop-opacity="1"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></linearGradient>` +
    `<radialGradient id="${prefix}lamp"><stop offset="0" stop-color="#fff" stop-opacity="1"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient>` +
    `<radialGradient id="${prefix}person"><stop offset="0" stop-color="#000" stop-opacity="1"/><stop offset="1" stop-color="#000" stop-opacity="0"/></radialGradient>`;
  const parts: string[] = [];
  const tilt = Math.tan((c.glass.angleDeg * Math.PI) / 180) * frameH;
  for (const b of g.bands) {
    const x = b.at + shift;
    parts.push(`<path d="M${(x).toFixed(1)},0 l${b.width.toFixed(1)},0 l${(-tilt).toFixed(1)},${frameH} l${(-b.width).toFixed(1)},0 Z" fill="url(#${prefix}band)" fill-opacity="${(op * b.strength).toFixed(3)}"/>`);
  }
  for (const l of g.lamps) parts.push(`<ellipse cx="${(l.x + shift).toFixed(1)}" cy="${l.y.toFixed(1)}" rx="${l.rx.toFixed(1)}" ry="${l.ry.toFixed(1)}" fill="url(#${prefix}lamp)" fill-opacity="${Math.min(1, op * 2.5).toFixed(3)}"/>`);
  // The shopper, still in front of the door when the after frame is taken, darkens the reflection.
  if (phase === 'after' && c.glass.shopperReflection) {
    const p = g.person;
    parts.push(`<ellipse cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" rx="${p.rx.toFixed(1)}" ry="${p.ry.toFixed(1)}" fill="url(#${prefix}person)" fill-opacity="${(0.12 + op).toFixed(3)}"/>`);
  }
  return { defs, body: parts.join('') };
}
