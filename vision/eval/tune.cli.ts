/**
 * Tunes the settle threshold on the validation split (never on test): runs validation visits with every
 * threshold at 0, then picks the lowest threshold whose exact-match among settled visits reaches the target,
 * and writes it (and the off-planogram threshold, set equal) to vision/model/manifest.json.
 *
 *   npx tsx vision/eval/tune.cli.ts [--visits 200] [--target 0.995]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../tools/seed/demo-data';
import { DEFAULT_MODEL_DIR, createRecogniser } from '../index';
import { SEED_BASE } from '../training/splits';
import { runVisits } from './run';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};

async function main(): Promise<void> {
  const visits = Number(arg('visits', '200'));
  const target = Number(arg('target', '0.995'));
  const rec = await createRecogniser({ log: silentLogger, clock: systemClock, threads: 1, thresholds: { settle: 0, offPlanogram: 0 } });
  const t0 = Date.now();
  const rows = await runVisits(rec, { seedBase: SEED_BASE.validation, visits, products: DEMO_CATALOGUE }, () => performance.now(), (d, t) => {
    if (d % 25 === 0 || d === t) process.stderr.write(`  ${d}/${t} validation visits (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  });
  await rec.close();
  const open = rows.filter((r) => r.result.status === 'settled');
  const candidates = [...new Set([0, ...open.map((r) => r.result.confidence)])].sort((a, b) => a - b);
  let chosen = 1;
  const table: Array<{ threshold: number; settled: number; exact: number }> = [];
  for (const th of candidates) {
    const settled = open.filter((r) => r.result.confidence >= th);
    const exact = settled.length ? settled.filter((r) => r.exact).length / settled.length : 1;
    table.push({ threshold: th, settled: settled.length, exact });
    if (exact >= target && chosen === 1) chosen = th;
  }
  // Never settle at a confidence the validation set did not support; keep a floor.
  chosen = Math.max(chosen, 0.5);
  const settledAt = open.filter((r) => r.result.confidence >= chosen);
  console.log(`validation [synthetic]: ${rows.length} visits, ${open.length} not blocked by a reason`);
  console.log(`chosen settle threshold ${chosen.toFixed(6)}: settled ${settledAt.length}/${rows.length}, exact among settled ${(100 * (settledAt.filter((r) => r.exact).length / Math.max(1, settledAt.length))).toFixed(2)}% (synthetic)`);
  for (const r of rows.filter((x) => !x.exact && x.result.status === 'settled')) console.log(`  wrong at conf ${r.result.confidence}: seed ${r.seed} truth ${JSON.stringify(r.truth)} got ${JSON.stringify(r.result.items.map((i) => [i.sku, i.qty]))} tags ${r.tags.join(',')}`);
  const manifestPath = join(DEFAULT_MODEL_DIR, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { thresholds: Record<string, number>; tuning?: unknown };
  manifest.thresholds.settle = chosen;
  manifest.thresholds.offPlanogram = chosen;
  manifest.tuning = { synthetic: true, split: 'validation', seedBase: SEED_BASE.validation, visits, target, chosen };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
