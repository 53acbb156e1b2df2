/**
 * Evaluates the shipped model side by side on the renderer's own test split and on the independent
 * compositor's mild and hard tiers (vision/independent/, written apart from the renderer; evaluation only).
 * Prints visits, settled, exact among settled, held for review and overcharged visits per set, the share held
 * by what the scene had, and a reliability table. Every figure is synthetic.
 *
 *   npx tsx vision/eval/independent.cli.ts [--visits 200] [--own-visits N] [--tiers mild,hard] [--workers 2]
 *                                          [--seed-base 1] [--budget-min M] [--json] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { badArguments, numberFlag, parseCli, runCli } from '../../common/cli';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { createRecogniser, type Recogniser } from '../index';
import { composeVisit } from '../independent/compose';
import { TIERS, type Tier } from '../independent/conditions';
import { drawVisitSpec } from '../independent/specs';
// Only to name the renderer's own test split, the same set `npm run vision:eval` measures.
import { SEED_BASE } from '../training/splits';
import { report } from './independent-report';
import { scoreVisit, summariseSet, type ScoredVisit } from './independent-score';
import { runVisits } from './run';

const NAME = 'npx tsx vision/eval/independent.cli.ts';
const HELP = `Evaluates the shipped model on the renderer's own test split and on independently composited visits
(vision/independent/), side by side. Synthetic figures only.

usage: ${NAME} [--visits 200] [--own-visits N] [--tiers mild,hard] [--workers 2] [--seed-base 1]
       ${' '.repeat(NAME.length)} [--budget-min M] [--json] [--out FILE]

  --visits N        visits per independent tier (default 200)
  --own-visits N    visits of the renderer's own test split (default: as --visits; 0 leaves the set out)
  --tiers LIST      independent tiers, comma-separated: mild, hard (default both)
  --workers N       recognisers run side by side in this process, 1 ONNX thread each (default 2)
  --seed-base N     first independent seed; tier t, visit i uses seed N+i in stream "independent|t|N+i" (default 1)
  --budget-min M    stop starting visits after M minutes and report what finished (default: no limit)
  --json            print the summaries and every scored visit as JSON instead of the tables
  --out FILE        also write that JSON to FILE (with the tables on stdout)
  -h, --help        this text`;

type SetName = 'own renderer (test split)' | `independent ${Tier}`;
interface Job {
  set: SetName;
  i: number;
}

async function main(): Promise<void> {
  const { values } = parseCli({
    name: NAME,
    help: HELP,
    options: {
      visits: { type: 'string', default: '200' },
      'own-visits': { type: 'string' },
      tiers: { type: 'string', default: TIERS.join(',') },
      workers: { type: 'string', default: '2' },
      'seed-base': { type: 'string', default: '1' },
      'budget-min': { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const visits = numberFlag(NAME, '--visits', values.visits, { min: 0, integer: true });
  const ownVisits = values['own-visits'] === undefined ? visits : numberFlag(NAME, '--own-visits', values['own-visits'], { min: 0, integer: true });
  const workers = numberFlag(NAME, '--workers', values.workers, { min: 1, max: 8, integer: true });
  const seedBase = numberFlag(NAME, '--seed-base', values['seed-base'], { min: 0, integer: true });
  const budgetMs = numberFlag(NAME, '--budget-min', values['budget-min'], { min: 0 }) * 60_000;
  const tiers = values.tiers.split(',').map((t) => t.trim()).filter(Boolean);
  const badTiers = tiers.filter((t) => !(TIERS as readonly string[]).includes(t));
  if (badTiers.length > 0 || tiers.length === 0) throw badArguments(NAME, [`--tiers: expected a comma-separated list of ${TIERS.join(', ')}, got "${values.tiers}"`]);

  const sets: Array<{ name: SetName; n: number }> = [{ name: 'own renderer (test split)' as SetName, n: ownVisits }, ...tiers.map((t) => ({ name: `independent ${t as Tier}` as SetName, n: visits }))].filter((s) => s.n > 0);
  // Interleaved, so a run stopped by --budget-min still has about as many visits in every set.
  const queue: Job[] = [];
  for (let i = 0; i < Math.max(0, ...sets.map((s) => s.n)); i++) for (const s of sets) if (i < s.n) queue.push({ set: s.name, i });
  const total = queue.length;

  const recs: Recogniser[] = [];
  for (let w = 0; w < workers; w++) recs.push(await createRecogniser({ log: silentLogger, clock: systemClock, threads: 1 }));
  const modelVersion = recs[0]?.modelVersion ?? '?';
  const price = new Map(DEMO_CATALOGUE.map((p) => [p.sku, p.priceFen]));
  const priceOf = (sku: string): number => price.get(sku) ?? 0;
  const rows: ScoredVisit[] = [];
  const agreement = { visits: 0, exact: 0, overcharge: 0 };
  const t0 = Date.now();
  let lastReport = 0;
  const progress = (): void => {
    const done = rows.length;
    const s = (Date.now() - t0) / 1000;
    if (done !== total && Date.now() - lastReport < 15_000 && done % 25 !== 0) return;
    lastReport = Date.now();
    const per = sets.map((x) => `${x.name.replace('independent ', '').replace(' (test split)', '')} ${rows.filter((r) => r.set === x.name).length}/${x.n}`).join(', ');
    const eta = done > 0 ? ((total - done) * s) / done : 0;
    process.stderr.write(`  ${done}/${total} visits [${per}] ${s.toFixed(0)} s${done < total ? `, ~${eta.toFixed(0)} s left` : ''}\n`);
  };

  const runJob = async (rec: Recogniser, job: Job): Promise<ScoredVisit> => {
    if (job.set === 'own renderer (test split)') {
      const [row] = await runVisits(rec, { seedBase: SEED_BASE.test + job.i, visits: 1, products: DEMO_CATALOGUE }, () => performance.now());
      if (!row) throw new Error(`own set visit ${job.i} produced no row`);
      const scored = scoreVisit({ set: job.set, result: row.result, truth: row.truth, conditions: [], latencyMs: row.latencyMs, priceOf });
      agreement.visits++;
      if (scored.exact === row.exact) agreement.exact++;
      if (scored.overcharged === (row.overcharge && row.result.status === 'settled')) agreement.overcharge++;
      return scored;
    }
    const tier = job.set.replace('independent ', '') as Tier;
    const v = await composeVisit(drawVisitSpec(tier, seedBase + job.i));
    const t = performance.now();
    const result = await rec.recognise(v.evidence);
    return scoreVisit({ set: job.set, result, truth: v.truth, conditions: v.conditions, latencyMs: performance.now() - t, priceOf });
  };

  await Promise.all(
    recs.map(async (rec) => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        if (budgetMs > 0 && Date.now() - t0 > budgetMs) break;
        rows.push(await runJob(rec, job));
        progress();
      }
    }),
  );
  await Promise.all(recs.map((r) => r.close()));
  const runtimeS = (Date.now() - t0) / 1000;
  const summaries = sets.map((s) => summariseSet(s.name, rows.filter((r) => r.set === s.name)));
  const command = `${NAME} ${process.argv.slice(2).join(' ')}`.trim();
  const json = JSON.stringify({ synthetic: true, command, modelVersion, seeds: { own: SEED_BASE.test, independent: seedBase }, workers, runtimeS, scoringAgreesWithRunTs: agreement, sets: summaries, visits: rows }, null, 2) + '\n';
  if (values.out) writeFileSync(values.out, json);
  if (values.json) {
    process.stdout.write(json);
    return;
  }
  const notes = [
    `run: ${rows.length} visits in ${runtimeS.toFixed(0)} s with ${workers} recogniser(s) of 1 ONNX thread, compositing and rendering included${queue.length > 0 ? `; stopped by --budget-min with ${queue.length} visits not started` : ''}.`,
    `seeds: own test split ${SEED_BASE.test}.. (eval/run.ts runVisits, as npm run vision:eval); independent ${seedBase}.. per tier.`,
    ...(agreement.visits > 0 ? [`scoring cross-check on the own set against eval/run.ts: exact agrees on ${agreement.exact}/${agreement.visits}, overcharge on ${agreement.overcharge}/${agreement.visits}.`] : []),
    `overcharged = settled with some SKU billed more units than were taken; overcharged fen = billed value above the value taken.`,
  ];
  console.log(report(`Side-by-side evaluation, model ${modelVersion}`, summaries, notes));
}

runCli('vision:independent', main);
