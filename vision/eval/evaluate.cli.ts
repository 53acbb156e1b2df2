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
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { DEFAULT_MODEL_DIR, createRecogniser } from '../index';
import { SEED_BASE } from '../training/splits';
import { CI_SET, checkFloor, ciFloorFrom, report, runVisits, summarise, type CiFloor } from './run';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

async function main(): Promise<void> {
  const ci = flag('ci');
  const split = arg('split', 'test') === 'validation' ? 'validation' : 'test';
  const visits = ci ? CI_SET.visits : Number(arg('visits', '300'));
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

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
