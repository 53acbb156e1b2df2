/**
 * Tunes the thresholds on the validation split (never on test) and writes them to vision/model/manifest.json:
 *
 * 1. the gate: every facing's before/after difference in every camera, against the shelf truth of the
 *    simulated visits. The gate is two thirds of the weakest real change (a dark item on a dark backdrop), so
 *    every real change on validation clears it with a margin;
 * 2. the settle threshold: the visits are recognised with every confidence threshold at 0, then the lowest
 *    threshold whose exact-match among settled visits reaches the target is chosen (never below 0.5). The
 *    off-planogram threshold is set equal.
 *
 * The planogram prior is not tuned: it is the rate at which the simulated shelves hold an item in a lane
 * planned for another SKU (3%); with real cabinets it is the rate restocking audits find.
 *
 *   npx tsx vision/eval/tune.cli.ts [--visits 300] [--target 0.995]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, parseCli, runCli } from '../../common/cli';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { DEFAULT_MODEL_DIR, createRecogniser } from '../index';
import { cameraAffine, shelfLayout } from '../render/geometry';
import { laneSlots } from '../render/scene';
import { decodeJpeg, frameStats } from '../recognition/crop';
import { facingDiffs } from '../recognition/gate';
import type { Thresholds } from '../recognition/recogniser';
import type { SimVisit } from '../sim/visits';
import { SEED_BASE } from '../training/splits';
import { recogniseVisits, renderVisits } from './run';

const NAME = 'npx tsx vision/eval/tune.cli.ts';
const HELP = `Tunes the recogniser's thresholds on the validation split and writes them to vision/model/manifest.json.

usage: npm run vision:tune [-- --target 0.995]     (300 validation visits)
       ${NAME} [--visits 300] [--target 0.995]

  --visits N     validation visits to tune on (default 300)
  --target X     exact match among settled visits the settle threshold must reach (default 0.995)
  -h, --help     this text`;

/** Per facing, the smallest difference over the cameras (the recogniser's gate score), split by the truth. */
async function gateScores(visits: readonly SimVisit[], th: Thresholds): Promise<{ changed: number[]; unchanged: number[] }> {
  const changed: number[] = [];
  const unchanged: number[] = [];
  for (const v of visits) {
    const layout = shelfLayout(v.evidence.lanes);
    const perCamera: Float32Array[] = [];
    for (const camera of v.evidence.cameras) {
      const frame = async (phase: 'before' | 'after'): Promise<Awaited<ReturnType<typeof decodeJpeg>> | null> => {
        const f = v.evidence.frames.find((x) => x.camera === camera && x.phase === phase);
        if (!f) return null;
        const d = await decodeJpeg(f.jpeg);
        const s = frameStats(d);
        return s.mean >= th.minMean && s.mean <= th.maxMean && s.std >= th.minStd ? d : null;
      };
      const [b, a] = [await frame('before'), await frame('after')];
      if (b && a) perCamera.push(facingDiffs(b, a, cameraAffine(camera, layout.width, layout.height, b.width, b.height), layout));
    }
    if (perCamera.length === 0) continue;
    let k = 0;
    v.shelves.before.forEach((lane, li) => {
      const after = laneSlots(v.shelves.after[li] ?? lane);
      laneSlots(lane).forEach((sku, i) => {
        const score = Math.min(...perCamera.map((d) => d[k] as number));
        (sku !== (after[i] ?? null) ? changed : unchanged).push(score);
        k++;
      });
    });
  }
  return { changed, unchanged };
}

async function main(): Promise<void> {
  const { values } = parseCli({ name: NAME, help: HELP, options: { visits: { type: 'string', default: '300' }, target: { type: 'string', default: '0.995' } } });
  const visits = numberFlag(NAME, '--visits', values.visits, { min: 1, integer: true });
  const target = numberFlag(NAME, '--target', values.target, { min: 0, max: 1 });
  const manifestPath = join(DEFAULT_MODEL_DIR, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { thresholds: Thresholds; tuning?: unknown };
  const t0 = Date.now();
  const sims = await renderVisits({ seedBase: SEED_BASE.validation, visits, products: DEMO_CATALOGUE }, (d, t) => {
    if (d % 25 === 0 || d === t) process.stderr.write(`  rendered ${d}/${t} validation visits (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  });

  const { changed, unchanged } = await gateScores(sims, manifest.thresholds);
  const weakest = Math.min(...changed);
  const gate = Math.floor((weakest * 2) / 3);
  const passing = unchanged.filter((d) => d > gate).length / unchanged.length;
  console.log(`validation [synthetic]: gate ${gate} = 2/3 of the weakest real change (${weakest.toFixed(1)} over ${changed.length} changed facings); ${(100 * passing).toFixed(1)}% of ${unchanged.length} unchanged facings pass it`);

  const rec = await createRecogniser({ log: silentLogger, clock: systemClock, threads: 1, thresholds: { gate, settle: 0, offPlanogram: 0 } });
  const rows = await recogniseVisits(rec, sims, () => performance.now(), (d, t) => {
    if (d % 50 === 0 || d === t) process.stderr.write(`  recognised ${d}/${t} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  });
  await rec.close();
  const open = rows.filter((r) => r.result.status === 'settled');
  const candidates = [...new Set([0, ...open.map((r) => r.result.confidence)])].sort((a, b) => a - b);
  let chosen = 1;
  for (const th of candidates) {
    const settled = open.filter((r) => r.result.confidence >= th);
    const exact = settled.length ? settled.filter((r) => r.exact).length / settled.length : 1;
    if (exact >= target) {
      chosen = th;
      break;
    }
  }
  // Never settle at a confidence below one half, whatever the validation set allows.
  chosen = Math.max(chosen, 0.5);
  const settledAt = open.filter((r) => r.result.confidence >= chosen);
  const exactAt = settledAt.filter((r) => r.exact).length / Math.max(1, settledAt.length);
  console.log(`validation [synthetic]: ${rows.length} visits, ${open.length} not held by a blocking reason`);
  console.log(`chosen settle threshold ${chosen.toFixed(6)}: settled ${settledAt.length}/${rows.length}, exact among settled ${(100 * exactAt).toFixed(2)}% (synthetic)`);
  for (const r of rows.filter((x) => !x.exact && x.result.status === 'settled')) console.log(`  wrong at conf ${r.result.confidence}: seed ${r.seed} truth ${JSON.stringify(r.truth)} got ${JSON.stringify(r.result.items.map((i) => [i.sku, i.qty]))} tags ${r.tags.join(',')}`);

  manifest.thresholds.gate = gate;
  manifest.thresholds.settle = chosen;
  manifest.thresholds.offPlanogram = chosen;
  manifest.tuning = {
    synthetic: true,
    split: 'validation',
    seedBase: SEED_BASE.validation,
    visits,
    target,
    gate: { weakestRealChange: round(weakest), changedFacings: changed.length, unchangedPassing: round(passing) },
    settle: { chosen, settled: settledAt.length, exactAmongSettled: round(exactAt) },
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote thresholds to ${manifestPath}`);
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

runCli('vision:tune', main);
