import sharp from 'sharp';
import type { ProductSpec } from '../../contracts/domain';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { BOARD_H, FRAME_H, FRAME_W, boardTop, cameraAffine, shelfLayout, slotRect } from './geometry';
import { itemSvg } from './packaging';
import { chance, gauss, intIn, pick, rngFor, uniform, type Rng } from './prng';

/**
 * Cabinet shelf scenes as one camera sees them. Item placement (which slot, its small offsets) depends only
 * on `seed`, so the `before` and `after` snapshots of a visit agree on everything that did not move; the
 * nuisances (light, glare, blur, hands, noise, JPEG quality) come from `frameSeed`, new for every frame.
 */
export interface ShelfLaneState {
  laneId: string;
  /** The planogram SKU of the lane. */
  sku: string;
  capacity: number;
  count: number;
  /** What stands in each facing, front view left to right; null is empty. Defaults to `count` items of `sku` from the left. */
  slots?: Array<string | null>;
}

export interface Nuisance {
  /** Overall exposure multiplier. */
  gain: number;
  /** Per-channel colour temperature multipliers around 1. */
  tint: [number, number, number];
  /** Darkening towards the corners, 0..1. */
  vignette: number;
  /** Number of specular highlights. */
  glare: number;
  /** Gaussian blur sigma in pixels (0: sharp). */
  blur: number;
  /** Number of hands and arms reaching into the view. */
  hands: number;
  /** Sensor noise standard deviation in 0..255 units. */
  noise: number;
  jpegQuality: number;
  /** Item placement jitter in shelf units (position) — part of the scene, not the frame. */
  jitter: number;
}

export type NuisanceLevel = 'none' | 'mild' | 'hard';

export interface RenderShelfOptions {
  lanes: ShelfLaneState[];
  camera: string;
  /** Scene seed: backdrop and item placement. */
  seed: number;
  /** Frame seed: nuisances. Defaults to `seed`. */
  frameSeed?: number;
  /** A preset drawn at random within its range, or explicit values over the `mild` draw. */
  nuisance?: NuisanceLevel | Partial<Nuisance>;
  catalogue?: readonly ProductSpec[];
  width?: number;
  height?: number;
  /** Which nuisance palettes to draw from; defaults to `test` (all of them). */
  split?: RenderSplit;
}

/** Draws concrete nuisance values for a level. */
export function drawNuisance(level: NuisanceLevel, r: Rng): Nuisance {
  switch (level) {
    case 'none':
      return { gain: 1, tint: [1, 1, 1], vignette: 0, glare: 0, blur: 0, hands: 0, noise: 0, jpegQuality: 92, jitter: 0 };
    case 'mild':
      return {
        gain: uniform(r, 0.8, 1.15),
        tint: [uniform(r, 0.95, 1.05), uniform(r, 0.96, 1.04), uniform(r, 0.95, 1.05)],
        vignette: uniform(r, 0, 0.3),
        glare: intIn(r, 0, 1),
        blur: chance(r, 0.3) ? uniform(r, 0.3, 0.9) : 0,
        hands: 0,
        noise: uniform(r, 0, 4),
        jpegQuality: intIn(r, 60, 90),
        jitter: 2,
      };
    case 'hard':
      return {
        gain: uniform(r, 0.55, 1.3),
        tint: [uniform(r, 0.88, 1.12), uniform(r, 0.92, 1.08), uniform(r, 0.88, 1.12)],
        vignette: uniform(r, 0.1, 0.55),
        glare: intIn(r, 0, 3),
        blur: chance(r, 0.5) ? uniform(r, 0.5, 1.6) : 0,
        hands: chance(r, 0.25) ? 1 : 0,
        noise: uniform(r, 2, 9),
        jpegQuality: intIn(r, 35, 85),
        jitter: 4,
      };
  }
}

const BACKDROPS = ['#2b2e33', '#3a3f44', '#e9e9e6', '#d7dde2', '#41372f', '#1f2a36'];
const SKIN = ['#f1c7a5', '#e0ac83', '#c68863', '#8d5a3b', '#f6d5bd'];
const SLEEVES = ['#2d4059', '#ea5455', '#f07b3f', '#3c3c3c', '#ffd460', '#7a9e9f'];

/**
 * `train` draws backdrops, skin tones and sleeves from a subset, so an evaluation on `test` meets nuisances the
 * model never saw.
 */
export type RenderSplit = 'train' | 'test';

function resolveNuisance(n: RenderShelfOptions['nuisance'], r: Rng): Nuisance {
  if (n === undefined) return drawNuisance('mild', r);
  if (typeof n === 'string') return drawNuisance(n, r);
  return { ...drawNuisance('mild', r), ...n };
}

/** Fills the per-slot contents of a lane from its count when not given. */
export function laneSlots(l: ShelfLaneState): Array<string | null> {
  if (l.slots) return l.slots;
  return Array.from({ length: l.capacity }, (_, i) => (i < l.count ? l.sku : null));
}

function fallbackProduct(sku: string): ProductSpec {
  return { sku, name: sku, nameEn: sku, brand: sku, flavour: sku, packaging: 'box', priceFen: 0, colour: '#9e9e9e', accent: '#616161' };
}

/** The scene as SVG in frame pixels, before photometric nuisances. Exported for tests and the training tools. */
export function shelfSvg(opts: RenderShelfOptions, nuisance: Nuisance, fx: FrameFx): string {
  const width = opts.width ?? FRAME_W;
  const height = opts.height ?? FRAME_H;
  const products = new Map((opts.catalogue ?? DEMO_CATALOGUE).map((p) => [p.sku, p]));
  const layout = shelfLayout(opts.lanes);
  const m = cameraAffine(opts.camera, layout.width, layout.height, width, height);
  const scene = rngFor(opts.seed, 'scene');
  const backdrop = pick(scene, opts.split === 'train' ? BACKDROPS.slice(0, 4) : BACKDROPS);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<rect width="${width}" height="${height}" fill="#15171a"/>`);
  out.push(`<g transform="matrix(${m.a} ${m.b} ${m.c} ${m.d} ${m.e} ${m.f})">`);
  out.push(`<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="${backdrop}"/>`);
  opts.lanes.forEach((lane, li) => {
    const cell = layout.cells[li];
    if (!cell) return;
    const c = cell.cell;
    out.push(`<rect x="${c.x}" y="${boardTop(cell)}" width="${c.w}" height="${BOARD_H}" fill="#9aa0a6"/>`);
    out.push(`<rect x="${c.x}" y="${c.y}" width="2" height="${c.h}" fill="#6b7075"/>`);
    out.push(`<rect x="${c.x + c.w / 2 - 16}" y="${boardTop(cell) + 1}" width="32" height="${BOARD_H - 2}" fill="#fffbe6"/>`);
    out.push(`<text x="${c.x + c.w / 2}" y="${boardTop(cell) + BOARD_H - 3}" font-family="DejaVu Sans" font-size="8" text-anchor="middle" fill="#333">${lane.laneId}</text>`);
    laneSlots(lane).forEach((sku, i) => {
      if (sku === null) return;
      const p = products.get(sku) ?? fallbackProduct(sku);
      const s = slotRect(cell, i);
      const jr = rngFor(opts.seed, 'slot', lane.laneId, i, sku);
      const dx = gauss(jr) * nuisance.jitter * 0.5;
      const rot = gauss(jr) * nuisance.jitter * 0.6;
      const cx = s.x + s.w / 2 + dx;
      const bottom = boardTop(cell);
      out.push(`<g transform="rotate(${rot.toFixed(2)} ${cx} ${bottom})">${itemSvg(p, `${li}_${i}`, cx, bottom, s.w, s.h)}</g>`);
    });
  });
  out.push('</g>');
  // Frame nuisances in image coordinates: glare, then hands over everything.
  out.push('<defs><radialGradient id="glare"><stop offset="0" stop-color="#fff" stop-opacity="0.85"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient></defs>');
  for (const g of fx.glares) out.push(`<ellipse cx="${g.x}" cy="${g.y}" rx="${g.rx}" ry="${g.ry}" fill="url(#glare)" transform="rotate(${g.rot} ${g.x} ${g.y})"/>`);
  for (const h of fx.hands) out.push(handSvg(h));
  out.push('</svg>');
  return out.join('');
}

/** Glare and hands of one frame, drawn once so the picture and the training mask agree. */
export interface FrameFx {
  glares: Array<{ x: number; y: number; rx: number; ry: number; rot: number }>;
  hands: Hand[];
}

interface Hand {
  skin: string;
  sleeve: string;
  bx: number;
  by: number;
  ang: number;
  len: number;
  armW: number;
}

export function drawFrameFx(r: Rng, n: Nuisance, width: number, height: number, split: RenderSplit): FrameFx {
  const glares: FrameFx['glares'] = [];
  for (let g = 0; g < n.glare; g++) {
    const rx = uniform(r, 20, 70);
    glares.push({ x: uniform(r, 0.1, 0.9) * width, y: uniform(r, 0.1, 0.9) * height, rx, ry: rx * uniform(r, 0.3, 0.8), rot: uniform(r, -40, 40) });
  }
  const hands: Hand[] = [];
  for (let h = 0; h < n.hands; h++) {
    const skin = pick(r, split === 'train' ? SKIN.slice(0, 3) : SKIN);
    const sleeve = pick(r, split === 'train' ? SLEEVES.slice(0, 4) : SLEEVES);
    const hx = uniform(r, 0.15, 0.85) * width;
    const hy = uniform(r, 0.25, 0.8) * height;
    const bx = hx + uniform(r, -200, 200);
    const by = height + 40;
    hands.push({ skin, sleeve, bx, by, ang: (Math.atan2(hy - by, hx - bx) * 180) / Math.PI, len: Math.hypot(hx - bx, hy - by), armW: uniform(r, 55, 80) });
  }
  return { glares, hands };
}

/** White hands on black: the training tools label a facing "occluded" from it. */
export function handMaskSvg(fx: FrameFx, width: number, height: number): string {
  const white = fx.hands.map((h) => handSvg({ ...h, skin: '#ffffff', sleeve: '#ffffff' })).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="#000"/>${white}</svg>`;
}

/** An arm reaching in from the bottom edge with a hand at its end. */
function handSvg(h: Hand): string {
  const { skin, sleeve, bx, by, ang, len, armW } = h;
  return (
    `<g transform="translate(${bx} ${by}) rotate(${ang})">` +
    `<rect x="0" y="${-armW / 2}" width="${len * 0.75}" height="${armW}" rx="${armW / 2}" fill="${sleeve}"/>` +
    `<rect x="${len * 0.7}" y="${-armW * 0.4}" width="${len * 0.3}" height="${armW * 0.8}" rx="${armW * 0.35}" fill="${skin}"/>` +
    `<ellipse cx="${len}" cy="0" rx="${armW * 0.75}" ry="${armW * 0.6}" fill="${skin}"/>` +
    [-0.45, -0.15, 0.15, 0.45].map((o) => `<rect x="${len + armW * 0.4}" y="${armW * o - 7}" width="${armW * 0.75}" height="14" rx="7" fill="${skin}"/>`).join('') +
    `</g>`
  );
}

/** Renders one camera's JPEG of the shelf. */
export async function renderShelf(opts: RenderShelfOptions): Promise<Buffer> {
  return (await renderShelfDetailed(opts, false)).jpeg;
}

/** The JPEG and, for the training tools, the hand mask as one byte per pixel. */
export async function renderShelfDetailed(opts: RenderShelfOptions, withMask: boolean): Promise<{ jpeg: Buffer; handMask?: Buffer; nuisance: Nuisance }> {
  const width = opts.width ?? FRAME_W;
  const height = opts.height ?? FRAME_H;
  const fr = rngFor(opts.frameSeed ?? opts.seed, 'frame', opts.camera);
  const n = resolveNuisance(opts.nuisance, fr);
  const fx = drawFrameFx(fr, n, width, height, opts.split ?? 'test');
  const svg = shelfSvg(opts, n, fx);
  let img = sharp(Buffer.from(svg), { density: 72 }).removeAlpha();
  if (n.blur >= 0.3) img = img.blur(n.blur);
  const raw = await img.raw().toBuffer();
  photometric(raw, width, height, n, fr);
  const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: Math.round(n.jpegQuality) }).toBuffer();
  if (!withMask || fx.hands.length === 0) return { jpeg, nuisance: n };
  const handMask = await sharp(Buffer.from(handMaskSvg(fx, width, height))).removeAlpha().extractChannel(0).raw().toBuffer();
  return { jpeg, handMask, nuisance: n };
}

/** Exposure, colour temperature, vignette and sensor noise, in place on packed RGB. */
function photometric(px: Buffer, width: number, height: number, n: Nuisance, r: Rng): void {
  const gx = [n.gain * n.tint[0], n.gain * n.tint[1], n.gain * n.tint[2]] as const;
  const cx = width / 2;
  const cy = height / 2;
  const maxD2 = cx * cx + cy * cy;
  // A cheap noise source: a table of normal draws reused with a random stride keeps this ~10 ms per frame.
  const table = new Float32Array(4096);
  for (let i = 0; i < table.length; i++) table[i] = gauss(r) * n.noise;
  let t = Math.floor(r() * 4096);
  const stride = 1 + 2 * Math.floor(r() * 700);
  for (let y = 0; y < height; y++) {
    const dy = y - cy;
    for (let x = 0; x < width; x++) {
      const dx = x - cx;
      const v = 1 - n.vignette * ((dx * dx + dy * dy) / maxD2);
      const o = (y * width + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        t = (t + stride) & 4095;
        const val = (px[o + ch] as number) * (gx[ch] as number) * v + (table[t] as number);
        px[o + ch] = val < 0 ? 0 : val > 255 ? 255 : val;
      }
    }
  }
}
