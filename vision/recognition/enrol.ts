import type { ProductSpec } from '../../contracts/domain';
import { cameraAffine, shelfLayout, slotRect } from '../render/geometry';
import { rngFor } from '../render/prng';
import { drawNuisance, renderShelfDetailed, type RenderSplit, type ShelfLaneState } from '../render/scene';
import { CROP_BYTES, cropSlot, decodeJpeg, maskCoverage } from './crop';
import { EMPTY, Gallery, OCCLUDED, meanVector } from './gallery';

/**
 * Enrolment: a few shots of a full shelf of one SKU, from each camera, become that SKU's prototypes. The
 * renderer stands in for the photographer here; with real hardware the same code takes photos of a restocked
 * shelf. `_EMPTY` and `_OCCLUDED` are enrolled the same way, from empty shelves and shelves behind hands.
 */
export const ENROL_CAMERAS = ['top', 'side'] as const;

export interface EnrolOptions {
  seedBase: number;
  /** Shots per SKU and camera. */
  shots: number;
  catalogue: readonly ProductSpec[];
}

type Embed = (crops: Uint8Array, n: number) => Promise<Float32Array>;

/** A 3×4 shelf full of one SKU (or empty), 4–7 facings a lane by seed: what an enrolment shot shows. */
export function shelfOf(sku: string | null, seed: number): ShelfLaneState[] {
  const capacity = 4 + (seed % 4);
  const lanes: ShelfLaneState[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) lanes.push({ laneId: `${String.fromCharCode(65 + r)}${c + 1}`, sku: sku ?? 'EMPTY', capacity, count: sku ? capacity : 0 });
  }
  return lanes;
}

async function shotCrops(lanes: ShelfLaneState[], camera: string, seed: number, catalogue: readonly ProductSpec[], hands: number, split: RenderSplit = 'train'): Promise<{ crops: Uint8Array; n: number; covered: number[] }> {
  const n0 = drawNuisance('mild', rngFor(seed, 'enrol', camera));
  const { jpeg, handMask } = await renderShelfDetailed({ lanes, camera, seed, frameSeed: seed + 17, nuisance: { ...n0, hands }, catalogue, split }, hands > 0);
  const frame = await decodeJpeg(jpeg);
  const layout = shelfLayout(lanes);
  const m = cameraAffine(camera, layout.width, layout.height, frame.width, frame.height);
  const total = layout.cells.reduce((a, c) => a + c.capacity, 0);
  const crops = new Uint8Array(total * CROP_BYTES);
  const covered: number[] = [];
  let k = 0;
  for (const cell of layout.cells) {
    for (let i = 0; i < cell.capacity; i++, k++) {
      const rect = slotRect(cell, i);
      cropSlot(frame, m, rect, crops, k * CROP_BYTES);
      covered.push(handMask ? maskCoverage(handMask, frame.width, frame.height, m, rect) : 0);
    }
  }
  return { crops, n: total, covered };
}

/** Prototypes for each product: one per shot and camera, the mean embedding of its facings. */
export async function enrolProducts(gallery: Gallery, embed: Embed, products: readonly ProductSpec[], opts: EnrolOptions, progress?: (done: number, total: number) => void): Promise<void> {
  let done = 0;
  for (const p of products) {
    const protos: Float32Array[] = [];
    for (let s = 0; s < opts.shots; s++) {
      for (const camera of ENROL_CAMERAS) {
        const seed = opts.seedBase + s * 1000 + (hashSku(p.sku) % 997);
        const { crops, n } = await shotCrops(shelfOf(p.sku, seed), camera, seed, opts.catalogue, 0);
        const e = await embed(crops, n);
        protos.push(meanVector(e, Array.from({ length: n }, (_, i) => i), gallery.dim));
      }
    }
    gallery.add(p.sku, protos);
    progress?.(++done, products.length);
  }
}

/** Prototypes for the empty facing (per shot and camera) and for hands (individual crops, they vary a lot). */
export async function enrolPseudoClasses(gallery: Gallery, embed: Embed, opts: EnrolOptions & { emptyShots: number; handShots: number }): Promise<void> {
  const empties: Float32Array[] = [];
  for (let s = 0; s < opts.emptyShots; s++) {
    for (const camera of ENROL_CAMERAS) {
      const seed = opts.seedBase + 500_000 + s;
      // Empty shelves are photographed in each cabinet at installation, so every backdrop is enrolled.
      const { crops, n } = await shotCrops(shelfOf(null, seed), camera, seed, opts.catalogue, 0, 'test');
      empties.push(meanVector(await embed(crops, n), Array.from({ length: n }, (_, i) => i), gallery.dim));
    }
  }
  gallery.add(EMPTY, empties);
  const hands: Float32Array[] = [];
  const skus = opts.catalogue.map((p) => p.sku);
  for (let s = 0; s < opts.handShots; s++) {
    for (const camera of ENROL_CAMERAS) {
      const seed = opts.seedBase + 600_000 + s;
      const lanes = shelfOf(skus[s % skus.length] ?? null, seed).map((l, i) => (i % 2 === 0 ? l : { ...l, count: 0 }));
      const { crops, n, covered } = await shotCrops(lanes, camera, seed, opts.catalogue, 2);
      const rows = covered.map((c, i) => (c > 0.6 ? i : -1)).filter((i) => i >= 0);
      if (rows.length === 0) continue;
      const e = await embed(crops, n);
      for (const r of rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / 4)) === 0).slice(0, 4)) hands.push(e.slice(r * gallery.dim, (r + 1) * gallery.dim));
    }
  }
  gallery.add(OCCLUDED, hands);
}

function hashSku(s: string): number {
  let h = 7;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
