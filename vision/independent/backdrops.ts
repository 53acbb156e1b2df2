import type { BackdropKind, Tier } from './conditions';
import { shade } from './colour';
import type { Random } from './random';

/**
 * Back panels behind the items, drawn in shelf coordinates over the whole shelf. An empty facing shows this
 * panel, so its texture is what "empty" looks like to a camera: varying it asks whether a recogniser learnt
 * "no item" or "this particular backdrop" (wood grain, ribs, holes and printed wraps all have edges and colour).
 */
export interface SvgLayer {
  defs: string;
  body: string;
  /** A panel painted as packed RGB pixels at shelf resolution instead of SVG (then `body` is empty). */
  raw?: Buffer;
}

const PAINT: Record<Tier, readonly string[]> = {
  mild: ['#f4f1ea', '#e9ecef', '#dfe6ee', '#efe6d6', '#d6dbd4'],
  hard: ['#f4f1ea', '#1b1b1d', '#24385c', '#7a1f1f', '#2f5d3a', '#c9a227', '#6d6d6d'],
};
const WOOD: Record<Tier, readonly string[]> = {
  mild: ['#d9b98c', '#c89f6d', '#e2c9a2'],
  hard: ['#d9b98c', '#a8733f', '#6b4226', '#4a2c18', '#c89f6d'],
};
const METAL: Record<Tier, readonly string[]> = {
  mild: ['#c8cbcf', '#dadcdf', '#b4b8bd'],
  hard: ['#c8cbcf', '#8d9297', '#3b3e42', '#1f2124', '#b4b8bd'],
};
const WRAP = ['#e63946', '#f1c40f', '#2a9d8f', '#264653', '#ff7f50', '#8e44ad', '#1abc9c', '#ffffff', '#111111'];
const WRAP_WORDS = ['FRESH', 'SNACK', 'TIME', 'COOL', '零食', '饮料', 'BREAK', 'YUM'];

function painted(tier: Tier, r: Random, w: number, h: number): SvgLayer {
  const base = r.pick(PAINT[tier]);
  const defs = `<linearGradient id="bdPaint" x1="0" y1="0" x2="${r.uniform(0, 1).toFixed(2)}" y2="1"><stop offset="0" stop-color="${shade(base, 1.04)}"/><stop offset="1" stop-color="${shade(base, 0.92)}"/></linearGradient>`;
  const scuffs = Array.from({ length: r.int(0, tier === 'hard' ? 12 : 4) }, () =>
    `<ellipse cx="${r.uniform(0, w).toFixed(1)}" cy="${r.uniform(0, h).toFixed(1)}" rx="${r.uniform(3, 14).toFixed(1)}" ry="${r.uniform(1, 5).toFixed(1)}" fill="${shade(base, r.uniform(0.7, 0.9))}" fill-opacity="${r.uniform(0.15, 0.4).toFixed(2)}"/>`,
  ).join('');
  return { defs, body: `<rect x="0" y="0" width="${w}" height="${h}" fill="url(#bdPaint)"/>${scuffs}` };
}

/** Planks with grain lines: wavy strokes of lighter and darker tone, seams every plank. */
function wood(tier: Tier, r: Random, w: number, h: number): SvgLayer {
  const base = r.pick(WOOD[tier]);
  const vertical = r.chance(0.4);
  const [len, across] = vertical ? [h, w] : [w, h];
  const plank = r.uniform(60, 150);
  const parts = [`<rect x="0" y="0" width="${w}" height="${h}" fill="${base}"/>`];
  for (let p = 0; p * plank < across; p++) {
    const tone = r.uniform(0.9, 1.08);
    const at = p * plank;
    parts.push(vertical ? `<rect x="${at}" y="0" width="${plank}" height="${h}" fill="${shade(base, tone)}"/>` : `<rect x="0" y="${at}" width="${w}" height="${plank}" fill="${shade(base, tone)}"/>`);
    const lines = r.int(10, 22);
    for (let i = 0; i < lines; i++) {
      const o = at + r.uniform(0, plank);
      const amp = r.uniform(0.5, tier === 'hard' ? 6 : 3);
      const waves = r.int(2, 6);
      const pts: string[] = [];
      for (let k = 0; k <= 24; k++) {
        const t = (k / 24) * len;
        const off = o + amp * Math.sin((k / 24) * waves * Math.PI + i);
        pts.push(vertical ? `${off.toFixed(1)},${t.toFixed(1)}` : `${t.toFixed(1)},${off.toFixed(1)}`);
      }
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${shade(base, r.uniform(0.6, 0.85))}" stroke-opacity="${r.uniform(0.25, 0.6).toFixed(2)}" stroke-width="${r.uniform(0.6, 2.2).toFixed(1)}"/>`);
    }
    if (r.chance(tier === 'hard' ? 0.5 : 0.2)) {
      const kx = vertical ? at + r.uniform(10, plank - 10) : r.uniform(0, w);
      const ky = vertical ? r.uniform(0, h) : at + r.uniform(10, plank - 10);
      parts.push(`<ellipse cx="${kx.toFixed(1)}" cy="${ky.toFixed(1)}" rx="${r.uniform(3, 9).toFixed(1)}" ry="${r.uniform(2, 5).toFixed(1)}" fill="${shade(base, 0.55)}" fill-opacity="0.6"/>`);
    }
    parts.push(vertical ? `<rect x="${at}" y="0" width="1.2" height="${h}" fill="${shade(base, 0.45)}"/>` : `<rect x="0" y="${at}" width="${w}" height="1.2" fill="${shade(base, 0.45)}"/>`);
  }
  return { defs: '', body: parts.join('') };
}

/** Corrugated metal: a repeating light-to-dark ramp, vertical or horizontal. */
function ribbed(tier: Tier, r: Random, w: number, h: number): SvgLayer {
  const base = r.pick(METAL[tier]);
  const period = r.uniform(5, tier === 'hard' ? 16 : 10);
  const depth = r.uniform(0.15, tier === 'hard' ? 0.5 : 0.25);
  const vertical = r.chance(0.7);
  const [x2, y2, pw, ph] = vertical ? [1, 0, period, h] : [0, 1, w, period];
  const defs =
    `<linearGradient id="bdRib" x1="0" y1="0" x2="${x2}" y2="${y2}"><stop offset="0" stop-color="${shade(base, 1 + depth / 2)}"/><stop offset="0.45" stop-color="${base}"/><stop offset="0.8" stop-color="${shade(base, 1 - depth)}"/><stop offset="1" stop-color="${shade(base, 1 + depth / 3)}"/></linearGradient>` +
    `<pattern id="bdRibs" patternUnits="userSpaceOnUse" width="${pw.toFixed(2)}" height="${ph.toFixed(2)}"><rect width="${pw.toFixed(2)}" height="${ph.toFixed(2)}" fill="url(#bdRib)"/></pattern>`;
  return { defs, body: `<rect x="0" y="0" width="${w}" height="${h}" fill="url(#bdRibs)"/>` };
}

/**
 * Perforated sheet: a grid of dark holes, staggered or square, painted as pixels (an SVG pattern of circles takes
 * librsvg most of a second) with a one-pixel soft edge.
 */
function perforated(tier: Tier, r: Random, w: number, h: number): SvgLayer {
  const base = r.pick(METAL[tier]);
  const pitch = r.uniform(5, 11);
  const hole = pitch * r.uniform(0.15, 0.32);
  const staggered = r.chance(0.5);
  const dark = shade(base, r.uniform(0.15, 0.4));
  const rgb = (c: string): [number, number, number] => {
    const n = parseInt(c.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  };
  const [b0, b1, b2] = rgb(base);
  const [d0, d1, d2] = rgb(dark);
  const px = Buffer.alloc(w * h * 3);
  // Bound once: under jest's vm context every read of the global `Math` in a per-pixel loop costs ~100×.
  const { round, sqrt, max, min } = Math;
  const nearest = (x: number, y: number, ox: number, oy: number): number => {
    const gx = x - ox - round((x - ox) / pitch) * pitch;
    const gy = y - oy - round((y - oy) / pitch) * pitch;
    return sqrt(gx * gx + gy * gy);
  };
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i += 3) {
      let d = nearest(x + 0.5, y + 0.5, 0, 0);
      if (staggered) d = min(d, nearest(x + 0.5, y + 0.5, pitch / 2, pitch / 2));
      const k = max(0, min(1, hole - d + 0.5));
      px[i] = b0 + (d0 - b0) * k;
      px[i + 1] = b1 + (d1 - b1) * k;
      px[i + 2] = b2 + (d2 - b2) * k;
    }
  }
  return { defs: '', body: '', raw: px };
}

/** A printed promotional wrap: big saturated shapes and words, the backdrop most like packaging. */
function wrap(_tier: Tier, r: Random, w: number, h: number): SvgLayer {
  const parts = [`<rect x="0" y="0" width="${w}" height="${h}" fill="${r.pick(WRAP)}"/>`];
  for (let i = 0; i < r.int(4, 9); i++) {
    const c = r.pick(WRAP);
    switch (r.pick(['disc', 'stripe', 'word'] as const)) {
      case 'disc':
        parts.push(`<circle cx="${r.uniform(0, w).toFixed(0)}" cy="${r.uniform(0, h).toFixed(0)}" r="${r.uniform(30, 160).toFixed(0)}" fill="${c}" fill-opacity="${r.uniform(0.5, 1).toFixed(2)}"/>`);
        break;
      case 'stripe': {
        const y = r.uniform(-h / 2, h);
        parts.push(`<path d="M0,${y.toFixed(0)} L${w},${(y + r.uniform(-200, 200)).toFixed(0)} l0,${r.uniform(20, 80).toFixed(0)} L0,${(y + 40).toFixed(0)} Z" fill="${c}"/>`);
        break;
      }
      case 'word':
        parts.push(`<text x="${r.uniform(0, w * 0.7).toFixed(0)}" y="${r.uniform(40, h).toFixed(0)}" font-family="DejaVu Sans" font-weight="bold" font-size="${r.uniform(36, 120).toFixed(0)}" fill="${c}" transform="rotate(${r.uniform(-20, 20).toFixed(1)})">${r.pick(WRAP_WORDS)}</text>`);
        break;
    }
  }
  return { defs: '', body: parts.join('') };
}

/** The back panel of kind `kind` over the shelf rectangle (0,0)–(w,h). */
export function backdropSvg(kind: BackdropKind, tier: Tier, r: Random, w: number, h: number): SvgLayer {
  switch (kind) {
    case 'painted':
      return painted(tier, r, w, h);
    case 'wood':
      return wood(tier, r, w, h);
    case 'ribbed':
      return ribbed(tier, r, w, h);
    case 'perforated':
      return perforated(tier, r, w, h);
    case 'wrap':
      return wrap(tier, r, w, h);
  }
}
