import '../testing/ort-realm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { DEFAULT_MODEL_DIR, createRecogniser } from '../index';
import { CI_SET, checkFloor, runVisits, summarise, type CiFloor } from './run';

/**
 * The CI check: the fixed-seed CI visits (synthetic) must stay at or above the floor that
 * `evaluate.cli.ts --ci --write-manifest` recorded in the manifest for the committed model. A manifest without
 * a floor for this set fails: a model is not done until its floor is recorded.
 */
const manifest = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')) as { modelVersion: string; ciFloor?: CiFloor };

it('keeps visit-level accuracy at or above the floor recorded for the committed model (synthetic)', async () => {
  const floor = manifest.ciFloor;
  expect(floor).toMatchObject({ seedBase: CI_SET.seedBase, visits: CI_SET.visits, modelVersion: manifest.modelVersion });
  const rec = await createRecogniser({ log: silentLogger, clock: new SimulatedClock(), threads: 1 });
  try {
    const clock = new SimulatedClock();
    const s = summarise(await runVisits(rec, { ...CI_SET, products: DEMO_CATALOGUE }, () => clock.now()));
    expect(checkFloor(s, floor as CiFloor)).toEqual([]);
  } finally {
    await rec.close();
  }
}, 60_000);
