/**
 * Benchmark: frames/s through the pooled RxJS pipeline against a bare loop over the same model and frames in
 * the same run, and door-closed → result latency for 2-camera visits arriving one at a time.
 *
 *   npx tsx vision/bench/bench.cli.ts [--visits 32] [--pool 2] [--write-manifest]
 *
 * Throughput is measured bare, pooled, pooled, bare (ABBA), so drift in the load other processes put on the
 * machine falls on both equally. Door closed → result is the time from the gateway's `upload.done` for a visit
 * whose frames have arrived to its recognition outcome, one visit at a time, through the same pipeline. The
 * load average is printed with the figures: on a shared machine it is part of the measurement.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Subject, firstValueFrom, toArray } from 'rxjs';
import { numberFlag, parseCli, runCli } from '../../common/cli';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { percentile } from '../eval/run';
import { DEFAULT_MODEL_DIR } from '../index';
import { createRecognitionPool } from '../pipeline/create';
import { recognise, visitsFromGateway, type GatewayEvent, type VisitContext } from '../pipeline/frames';
import type { RecognitionPool } from '../pipeline/pool';
import { RecogniserCore, loadBundle } from '../recognition/recogniser';
import type { VisitEvidence } from '../recognition.types';
import { simulateVisit } from '../sim/visits';
import { SEED_BASE } from '../training/splits';

const NAME = 'npx tsx vision/bench/bench.cli.ts';
const HELP = `Benchmark: frames/s through the pooled pipeline against a bare loop in the same run, and door closed → result.

usage: npm run vision:bench [-- --pool 2]     (32 visits)
       ${NAME} [--visits 32] [--pool N] [--write-manifest]

  --visits N          visits per measurement (default 32)
  --pool N            recognition workers (default: the cores available)
  --write-manifest    record the figures in vision/model/manifest.json
  -h, --help          this text`;

function events(v: VisitEvidence): GatewayEvent[] {
  const counts: Record<string, number> = {};
  const out: GatewayEvent[] = v.frames.map((f) => {
    counts[f.camera] = (counts[f.camera] ?? 0) + 1;
    return { type: 'frame', visitId: v.visitId, ...f };
  });
  out.push({ type: 'upload.done', visitId: v.visitId, frames: counts });
  return out;
}

async function bare(core: RecogniserCore, visits: readonly VisitEvidence[]): Promise<number> {
  const t = performance.now();
  for (const v of visits) await core.recognise(v);
  return (performance.now() - t) / 1000;
}

async function pooled(pool: RecognitionPool, visits: readonly VisitEvidence[], contexts: Map<string, VisitContext>): Promise<{ seconds: number; notRecognised: number }> {
  const subject = new Subject<GatewayEvent>();
  const done = firstValueFrom(recognise(visitsFromGateway(subject, (id) => contexts.get(id), { maxFramesPerVisit: 64 }), pool).pipe(toArray()));
  const t = performance.now();
  for (const v of visits) for (const e of events(v)) subject.next(e);
  subject.complete();
  const outcomes = await done;
  return { seconds: (performance.now() - t) / 1000, notRecognised: outcomes.filter((o) => o.outcome.type !== 'Recognised').length };
}

async function main(): Promise<void> {
  const { values } = parseCli({ name: NAME, help: HELP, options: { visits: { type: 'string', default: '32' }, pool: { type: 'string', default: String(Math.max(1, availableParallelism())) }, 'write-manifest': { type: 'boolean', default: false } } });
  const n = numberFlag(NAME, '--visits', values.visits, { min: 1, integer: true });
  const size = numberFlag(NAME, '--pool', values.pool, { min: 1, integer: true });
  process.stderr.write(`rendering ${n} 2-camera visits…\n`);
  const visits: VisitEvidence[] = [];
  for (let i = 0; i < n; i++) visits.push((await simulateVisit({ seed: SEED_BASE.test + 500_000 + i, products: DEMO_CATALOGUE, hardShare: 0.5, handAfter: 0.05 })).evidence);
  const frames = visits.reduce((a, v) => a + v.frames.length, 0);
  const contexts = new Map<string, VisitContext>(visits.map((v) => [v.visitId, { cabinetId: v.cabinetId, lanes: v.lanes, cameras: v.cameras }]));
  const loadBefore = loadavg()[0] as number;

  const core = await RecogniserCore.load(loadBundle(DEFAULT_MODEL_DIR), { clock: systemClock, log: silentLogger, threads: 1, catalogue: DEMO_CATALOGUE });
  const { pool, close } = await createRecognitionPool({ modelDir: DEFAULT_MODEL_DIR, log: silentLogger, clock: systemClock, size, queueLimit: n, catalogue: DEMO_CATALOGUE });
  // Warm both paths (JIT, first session runs) before timing.
  await core.recognise(visits[0] as VisitEvidence);
  await pooled(pool, visits.slice(0, size), contexts);

  let bareS = await bare(core, visits);
  const p1 = await pooled(pool, visits, contexts);
  const p2 = await pooled(pool, visits, contexts);
  bareS += await bare(core, visits);
  await core.release();
  const pooledS = p1.seconds + p2.seconds;
  const notRecognised = p1.notRecognised + p2.notRecognised;

  // Door closed → result: each visit's frames are in, its upload.done arrives, and we wait for its answer.
  const latencies: number[] = [];
  for (const v of visits) {
    const s = new Subject<GatewayEvent>();
    const one = firstValueFrom(recognise(visitsFromGateway(s, (id) => contexts.get(id), { maxFramesPerVisit: 64 }), pool));
    const evs = events(v);
    for (const e of evs.slice(0, -1)) s.next(e);
    const t0 = performance.now();
    s.next(evs[evs.length - 1] as GatewayEvent);
    await one;
    latencies.push(performance.now() - t0);
    s.complete();
  }
  await close();
  const loadAfter = loadavg()[0] as number;

  const bareFps = (2 * frames) / bareS;
  const pooledFps = (2 * frames) / pooledS;
  const ratio = pooledFps / bareFps;
  const p50 = percentile(latencies, 0.5);
  const p95 = percentile(latencies, 0.95);
  const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`;
  console.log(`benchmark [synthetic frames: ${n} visits × 2 cameras × before/after = ${frames} frames of 960×720; ${machine}]`);
  console.log(`  bare loop, 1 session, 1 thread        ${bareFps.toFixed(1)} frames/s`);
  console.log(`  pooled pipeline, ${size} sessions × 1 thread ${pooledFps.toFixed(1)} frames/s  (${notRecognised} not recognised)`);
  console.log(`  ratio pooled / bare                   ${ratio.toFixed(2)}×  (target ≥ 0.8×)`);
  console.log(`  door closed → result, 2-camera visit  p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms over ${n} visits  (target p95 ≤ 1000 ms)`);

  if (values['write-manifest']) {
    const path = join(DEFAULT_MODEL_DIR, 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> & { modelVersion: string };
    manifest.benchmark = {
      synthetic: true,
      command: `npx tsx vision/bench/bench.cli.ts ${process.argv.slice(2).join(' ')}`,
      modelVersion: manifest.modelVersion,
      machine,
      visits: n,
      frames,
      bareFramesPerS: round(bareFps),
      pooledFramesPerS: round(pooledFps),
      pool: size,
      ratio: round(ratio),
      doorClosedToResultMs: { p50: round(p50), p95: round(p95), max: round(Math.max(...latencies)) },
    };
    writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n');
    console.log(`wrote the benchmark to ${path}`);
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

runCli('vision:bench', main);
