/**
 * Packs a trained model into vision/model: copies embedder.onnx, enrols every SKU of the demo catalogue
 * (held-out SKUs included: enrolment is not training), writes gallery.json and manifest.json with file hashes,
 * the training report and the previous thresholds. Figures measured on the previous model (tuning, validation,
 * evaluation, CI floor, benchmark) are dropped: run tune, evaluate, the CI recording and the benchmark next.
 *
 *   npx tsx vision/training/build-model.cli.ts --trained /tmp/vm1 [--out vision/model]
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { enrolProducts, enrolPseudoClasses } from '../recognition/enrol';
import { loadEmbedder } from '../recognition/embedder';
import { Gallery } from '../recognition/gallery';
import { DEFAULT_THRESHOLDS, type ModelManifest } from '../recognition/recogniser';
import { HELD_OUT_SKUS, SEED_BASE } from './splits';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};

export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

async function main(): Promise<void> {
  const trained = arg('trained', '/tmp/vm1');
  const out = arg('out', 'vision/model');
  // Six shots per SKU and camera: with two, a held-out flavour's prototypes pull its trained sibling's crops
  // (CHIP-SEAWEED read as CHIP-CUKE); six separate them on the validation scenes.
  const shots = Number(arg('shots', '6'));
  copyFileSync(join(trained, 'embedder.onnx'), join(out, 'embedder.onnx'));
  const training = JSON.parse(readFileSync(join(trained, 'training.json'), 'utf8')) as Record<string, unknown> & { sha256: Record<string, string> };
  const modelSha = sha256File(join(out, 'embedder.onnx'));
  const embedder = await loadEmbedder(join(out, 'embedder.onnx'), { threads: 2 });
  const previous = existsSync(join(out, 'manifest.json')) ? (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Partial<ModelManifest>) : {};
  const thresholds = { ...DEFAULT_THRESHOLDS, ...(previous.thresholds ?? {}) };
  const gallery = new Gallery(embedder.dim, thresholds.scale);
  const t0 = Date.now();
  const opts = { seedBase: SEED_BASE.enrol, shots, catalogue: DEMO_CATALOGUE };
  await enrolPseudoClasses(gallery, (c, n) => embedder.embed(c, n), { ...opts, emptyShots: 12, handShots: 8 });
  await enrolProducts(gallery, (c, n) => embedder.embed(c, n), DEMO_CATALOGUE, opts, (d, t) => {
    if (d % 6 === 0 || d === t) process.stdout.write(`enrolled ${d}/${t} SKUs (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  });
  writeFileSync(join(out, 'gallery.json'), JSON.stringify(gallery.toJSON(modelSha)));
  const manifest: ModelManifest = {
    modelVersion: `embedder-${modelSha.slice(0, 12)}`,
    files: { 'embedder.onnx': modelSha, 'gallery.json': sha256File(join(out, 'gallery.json')) },
    thresholds,
    enrolment: { seedBase: SEED_BASE.enrol, shotsPerSkuAndCamera: shots, emptyShots: 12, handShots: 8, skus: DEMO_CATALOGUE.length, heldOutFromTraining: HELD_OUT_SKUS },
    training: { ...training, classes: undefined },
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await embedder.release();
  process.stdout.write(`wrote ${out}/manifest.json (${manifest.modelVersion})\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
