/**
 * Renders the training set for the embedding model: shelf scenes from the training SKUs and nuisance palettes,
 * cut into facing crops exactly as the recogniser cuts them. Writes <out>/crops.u8 (N×64×32×3 bytes),
 * <out>/labels.txt (one label per crop) and <out>/meta.json.
 *
 *   npx tsx vision/training/render-dataset.ts --out /tmp/vision-data --scenes 300 [--seed-offset 0]
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cameraAffine, shelfLayout, slotRect } from '../render/geometry';
import { chance, intIn, rngFor } from '../render/prng';
import { drawNuisance, laneSlots, renderShelfDetailed, type Nuisance } from '../render/scene';
import { CROP_BYTES, CROP_H, CROP_W, cropSlot, decodeJpeg, maskCoverage } from '../recognition/crop';
import { randomShelf } from './scenes';
import { EMPTY, OCCLUDED, SEED_BASE, TRAIN_PRODUCTS } from './splits';

/** A facing more than this share covered by a hand is labelled occluded. */
export const OCCLUDED_COVERAGE = 0.3;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const out = arg('out', '/tmp/vision-data');
  const scenes = Number(arg('scenes', '300'));
  const offset = Number(arg('seed-offset', '0'));
  mkdirSync(out, { recursive: true });
  const crops = createWriteStream(join(out, 'crops.u8'));
  const labels: string[] = [];
  const started = Date.now();
  for (let k = 0; k < scenes; k++) {
    const seed = SEED_BASE.train + offset + k;
    const shelf = randomShelf(seed, TRAIN_PRODUCTS);
    const layout = shelfLayout(shelf.lanes);
    const r = rngFor(seed, 'cameras');
    const cameras = ['top', 'side', ...(chance(r, 0.4) ? [`cam${intIn(r, 0, 999)}`] : [])];
    for (const camera of cameras) {
      const fr = rngFor(seed, 'nuisance', camera);
      const level = r() < 0.5 ? 'hard' : r() < 0.8 ? 'mild' : 'none';
      const n: Nuisance = drawNuisance(level, fr);
      if (chance(r, 0.35)) n.hands = intIn(r, 1, 2);
      const { jpeg, handMask } = await renderShelfDetailed({ lanes: shelf.lanes, camera, seed, frameSeed: seed * 7 + camera.length, nuisance: n, split: 'train' }, true);
      const frame = await decodeJpeg(jpeg);
      const m = cameraAffine(camera, layout.width, layout.height, frame.width, frame.height);
      const buf = new Uint8Array(CROP_BYTES * layout.cells.reduce((a, c) => a + c.capacity, 0));
      let idx = 0;
      shelf.lanes.forEach((lane, li) => {
        const cell = layout.cells[li];
        if (!cell) return;
        laneSlots(lane).forEach((sku, i) => {
          const rect = slotRect(cell, i);
          cropSlot(frame, m, rect, buf, idx * CROP_BYTES);
          const covered = handMask ? maskCoverage(handMask, frame.width, frame.height, m, rect) : 0;
          labels.push(covered > OCCLUDED_COVERAGE ? OCCLUDED : (sku ?? EMPTY));
          idx++;
        });
      });
      crops.write(buf.subarray(0, idx * CROP_BYTES));
    }
    if ((k + 1) % 20 === 0 || k + 1 === scenes) {
      const s = (Date.now() - started) / 1000;
      process.stdout.write(`scenes ${k + 1}/${scenes}  crops ${labels.length}  ${s.toFixed(0)} s  eta ${((s / (k + 1)) * (scenes - k - 1)).toFixed(0)} s\n`);
    }
  }
  await new Promise<void>((resolve, reject) => crops.end((err?: Error | null) => (err ? reject(err) : resolve())));
  writeFileSync(join(out, 'labels.txt'), labels.join('\n') + '\n');
  writeFileSync(join(out, 'meta.json'), JSON.stringify({ cropW: CROP_W, cropH: CROP_H, scenes, seedBase: SEED_BASE.train + offset, count: labels.length, classes: [EMPTY, OCCLUDED, ...TRAIN_PRODUCTS.map((p) => p.sku)] }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
