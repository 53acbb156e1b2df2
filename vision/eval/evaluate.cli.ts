/**
 * Evaluates the committed model on held-out synthetic visits and prints visit-level figures, every one labelled
 * synthetic. Test visits use seeds, SKUs and nuisance palettes the model never trained on.
 *
 *   npx tsx vision/eval/evaluate.cli.ts [--split test|validation] [--visits 300] [--write-manifest] [--ci]
 *
 * --ci runs the small fixed-seed CI set (the visits vision/eval/ci-floor.test.ts checks) and fails when it
 * falls below the floor recorded in vision/model/manifest.json; with --write-manifest it records that floor,
 * one visit's worth below what it measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badArguments, numberFlag, parseCli, runCli } from '../../common/cli';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { DEFAULT_MODEL_DIR, createRecogniser } from '../index';
import { SEED_BASE } from '../training/splits';
import { CI_SET, checkFloor, ciFloorFrom, report, runVisits, summarise, type CiFloor } from './run';

const NAME = 'npx tsx vision/eval/evaluate.cli.ts';
const HELP = `Evaluates the committed model on held-out synthetic visits and prints visit-level figures.

usage: npm run vision:eval [-- --visits N]     (the test split, 1000 visits)
       npm run vision:ci                      (the fixed CI set against the manifest's floor)
       ${NAME} [--split test|validation] [--visits 300] [--ci] [--write-manifest]

  --split test|validation   which held-out split (default test)
  --visits N                how many visits (default 300; ignored with --ci)
  --ci                      the small fixed-seed CI set; exit 1 below the floor in vision/model/manifest.json
  --write-manifest          record the figures (and with --ci the floor) in vision/model/manifest.json
  -h, --help                this text`;

async function main(): Promise<void> {
  const { values } = parseCli({ name: NAME, help: HELP, options: { split: { type: 'string', default: 'test' }, visits: { type: 'string', default: '300' }, ci: { type: 'boolean', default: false }, 'write-manifest': { type: 'boolean', default: false } } });
  const flag = (name: 'ci' | 'write-manifest'): boolean => values[name];
  if (values.split !== 'test' && values.split !== 'validation') throw badArguments(NAME, [`--split: expected test or validation, got "${values.split}"`]);
  const ci = flag('ci');
  const split: 'test' | 'validation' = values.split;
  const visits = ci ? CI_SET.visits : numberFlag(NAME, '--visits', values.visits, { min: 1, integer: true });
  const seedBase = ci ? CI_SET.seedBase : SEED_BASE[split];
  const rec = await createRecogniser({ log: silentLogger, clock: systemClock, threads: 1 });
  const t0 = Date.now();
  const rows = await runVisits(rec, { seedBase, visits, products: DEMO_CATALOGUE }, () => performance.now(), (d, t) => {
    if (d % 25 === 0 || d === t) process.stderr.write(`  ${d}/${t} visits (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  });
  await rec.close();
  const s = summarise(rows);
  console.log(report(`${ci ? 'CI check' : split} set, model ${rec.modelVersion}, seeds ${seedBase}..${seedBase + visits - 1}`, s));
  const manifestPath = join(DEFAULT_MODEL_DIR, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown> & { ciFloor?: CiFloor };
  if (flag('write-manifest')) {
    const { confusions, ...raw } = s;
    const figures = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v]));
    const command = `npx tsx vision/eval/evaluate.cli.ts ${process.argv.slice(2).join(' ')}`;
    manifest[ci ? 'ciRun' : split === 'test' ? 'evaluation' : 'validation'] = { synthetic: true, command, modelVersion: rec.modelVersion, seedBase, ...figures, confusions: confusions.slice(0, 20) };
    if (ci) manifest.ciFloor = ciFloorFrom(s, CI_SET, rec.modelVersion);
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    console.log(`wrote ${ci ? 'ciRun and ciFloor' : split} figures to ${manifestPath}`);
  }
  if (ci && !flag('write-manifest')) {
    const floor = manifest.ciFloor;
    if (!floor) throw new Error('manifest has no ciFloor; run with --ci --write-manifest once');
    const problems = checkFloor(s, floor);
    console.log(`CI floor: exact ≥ ${floor.exactAmongSettled}, settled ≥ ${floor.settledShare}, overcharged visits ≤ ${floor.maxOvercharges} → ${problems.length === 0 ? 'PASS' : `FAIL: ${problems.join('; ')}`}`);
    if (problems.length > 0) process.exitCode = 1;
  }
}

runCli('vision:eval', main);
