import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The independence rule of README.md, checked: code in this folder imports only its own files, the shared
 * geometry (calibration format), artwork and contracts, the recogniser's wire types, node built-ins and sharp.
 * A test set that imported the renderer's scene, nuisance or PRNG code would share its blind spots.
 */
const ALLOWED = new Set(['../render/geometry', '../render/packaging', '../recognition.types', '../../contracts/domain', '../../contracts/demo-data', 'sharp']);

it('imports nothing of the renderer, the simulator or the training code', () => {
  const offending: string[] = [];
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(__dirname, file), 'utf8');
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      const spec = m[1] as string;
      if (spec.startsWith('./') || spec.startsWith('node:') || ALLOWED.has(spec)) continue;
      offending.push(`${file}: ${spec}`);
    }
  }
  expect(offending).toEqual([]);
});
