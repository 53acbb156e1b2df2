import '../testing/ort-realm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../tools/seed/demo-data';
import { DEFAULT_MODEL_DIR, createRecogniser } from '../index';
import { runVisits, summarise } from './run';

/**
 * The CI check: the first visits of the fixed-seed CI set (synthetic) must stay at or above the floor that
 * `evaluate.cli.ts --ci --write-manifest` recorded in the manifest for the committed model.
 */
const manifest = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')) as { ciFloor?: { exactAmongSettled: number; settledShare: number; seedBase: number } };

(manifest.ciFloor ? it : it.skip)('keeps visit-level accuracy above the recorded floor on fixed seeds (synthetic)', async () => {
  const floor = manifest.ciFloor as { exactAmongSettled: number; settledShare: number; seedBase: number };
  const rec = await createRecogniser({ log: silentLogger, clock: new SimulatedClock(), threads: 1 });
  try {
    const clock = new SimulatedClock();
    const rows = await runVisits(rec, { seedBase: floor.seedBase, visits: 10, products: DEMO_CATALOGUE }, () => clock.now());
    const s = summarise(rows);
    expect(s.exactAmongSettled).toBeGreaterThanOrEqual(floor.exactAmongSettled);
    // Ten visits are a small sample of the recorded forty: one more review moves the share by 10 points.
    expect(1 - s.reviewShare).toBeGreaterThanOrEqual(floor.settledShare - 0.1);
    expect(s.overchargeRate).toBe(0);
  } finally {
    await rec.close();
  }
}, 60_000);
