import sharp from 'sharp';
import type { ProductSpec } from '../../contracts/domain';
import { applyAffine, cameraAffine, shelfLayout, slotRect } from '../render/geometry';
import { intIn, pick, rngFor } from '../render/prng';
import { drawNuisance, renderShelf } from '../render/scene';
import { ENROL_CAMERAS, shelfOf } from '../recognition/enrol';

/**
 * Test stand-in for an operator's product photos (e2e and app tests; production code never imports
 * vision/testing). Each photo is one facing cut out of a rendered shelf full of the product — the `top` and
 * `side` cameras alternating, mild light and noise, no hands — at twice the size it has in the camera frame.
 * The cut-out is stretched to the 1:2 proportions of the recogniser's crop, as the recogniser's own crop
 * stretches a facing: the renderer draws packaging to the width of its facing, so "the product as it stands in
 * a facing" is that stretched picture, and `photoCrops` of these photos then looks like a facing crop.
 */
/**
 * A product not in the demo catalogue and unlike it: a made-up brand (so its own family layout), a purple can
 * with a yellow accent. Its photos' look-alike gap is well above the shipped model's separation.
 */
export const DISTINCT_PRODUCT: ProductSpec = {
  sku: 'ZEPH-KIWI',
  name: '泽风猕猴桃',
  nameEn: 'Zephyr Kiwi',
  brand: '泽风',
  flavour: '猕猴桃',
  packaging: 'can',
  priceFen: 500,
  colour: '#7a00cc',
  accent: '#ffea00',
};

export async function facingPhotos(product: ProductSpec, n: number, seed: number, catalogue: readonly ProductSpec[]): Promise<Buffer[]> {
  const products = catalogue.some((p) => p.sku === product.sku) ? catalogue : [...catalogue, product];
  const photos: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    const camera = ENROL_CAMERAS[k % ENROL_CAMERAS.length] as string;
    const shot = seed + k * 7919;
    const lanes = shelfOf(product.sku, shot);
    const nuisance = { ...drawNuisance('mild', rngFor(shot, 'photo', camera)), hands: 0 };
    const jpeg = await renderShelf({ lanes, camera, seed: shot, frameSeed: shot + 17, nuisance, catalogue: products });
    const { width = 0, height = 0 } = await sharp(jpeg).metadata();
    const layout = shelfLayout(lanes);
    const m = cameraAffine(camera, layout.width, layout.height, width, height);
    const r = rngFor(shot, 'photo-facing');
    const cell = pick(r, layout.cells);
    const rect = slotRect(cell, intIn(r, 0, cell.capacity - 1));
    // The facing's bounding box in the frame (the side camera shears it a little).
    const corners = [applyAffine(m, rect.x, rect.y), applyAffine(m, rect.x + rect.w, rect.y), applyAffine(m, rect.x, rect.y + rect.h), applyAffine(m, rect.x + rect.w, rect.y + rect.h)];
    const left = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
    const top = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
    const right = Math.min(width, Math.ceil(Math.max(...corners.map((c) => c[0]))));
    const bottom = Math.min(height, Math.ceil(Math.max(...corners.map((c) => c[1]))));
    const h = 2 * (bottom - top);
    photos.push(
      await sharp(jpeg)
        .extract({ left, top, width: right - left, height: bottom - top })
        .resize(Math.round(h / 2), h, { fit: 'fill', kernel: 'cubic' })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return photos;
}
