/**
 * Benchmark: frames/s through the pooled RxJS pipeline against a bare loop over the same model and frames in
 * the same run, and door-closed → result latency for 2-camera visits arriving one at a time.
 *
 *   npx tsx vision/bench/bench.cli.ts [--visits 16] [--pool 2]
 */
import { availableParallelism } from 'node:os';
import { Subject, firstValueFrom, toArray } from 'rxjs';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../tools/seed/demo-data';
import { percentile } from '../eval/run';
import { DEFAULT_MODEL_DIR } from '../index';
import { createRecognitionPool } from '../pipeline/create';
import { recognise, visitsFromGateway, type GatewayEvent, type VisitContext } from '../pipeline/frames';
import { RecogniserCore, loadBundle } from '../recognition/recogniser';
import type { VisitEvidence } from '../recognition.types';
import { simulateVisit } from '../sim/visits';
import { SEED_BASE } from '../training/splits';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};

function events(v: VisitEvidence): GatewayEvent[] {
  const counts: Record<string, number> = {};
  const out: GatewayEvent[] = v.frames.map((f) => {
    counts[f.camera] = (counts[f.camera] ?? 0) + 1;
    return { type: 'frame', visitId: v.visitId, ...f };
  });
  out.push({ type: 'upload.done', visitId: v.visitId, frames: counts });
  return out;
}

async function main(): Promise<void> {
  const n = Number(arg('visits', '16'));
  const size = Number(arg('pool', String(Math.max(1, availableParallelism()))));
  process.stderr.write(`rendering ${n} 2-camera visits…\n`);
  const visits: VisitEvidence[] = [];
  for (let i = 0; i < n; i++) visits.push((await simulateVisit({ seed: SEED_BASE.test + 500_000 + i, products: DEMO_CATALOGUE })).evidence);
  const frames = visits.reduce((a, v) => a + v.frames.length, 0);
  const contexts = new Map<string, VisitContext>(visits.map((v) => [v.visitId, { cabinetId: v.cabinetId, lanes: v.lanes, cameras: v.cameras }]));

  // Bare loop: one session, one visit after another.
  const core = await RecogniserCore.load(loadBundle(DEFAULT_MODEL_DIR), { clock: systemClock, log: silentLogger, threads: 1, catalogue: DEMO_CATALOGUE });
  await core.recognise(visits[0] as VisitEvidence);
  let t = performance.now();
  for (const v of visits) await core.recognise(v);
  const bareS = (performance.now() - t) / 1000;
  await core.release();

  // Pooled pipeline: gateway events → per-visit streams → pool of `size` sessions.
  const { pool, close } = await createRecognitionPool({ modelDir: DEFAULT_MODEL_DIR, log: silentLogger, clock: systemClock, size, queueLimit: n });
  await pool.submit(visits[0] as VisitEvidence);
  const subject = new Subject<GatewayEvent>();
  const done = firstValueFrom(recognise(visitsFromGateway(subject, (id) => contexts.get(id), { maxFramesPerVisit: 64 }), pool).pipe(toArray()));
  t = performance.now();
  for (const v of visits) for (const e of events(v)) subject.next(e);
  subject.complete();
  const outcomes = await done;
  const pooledS = (performance.now() - t) / 1000;
  const rejected = outcomes.filter((o) => o.outcome.type !== 'Recognised').length;

  // Door closed → result: each visit's upload completes, then we wait for its answer before the next.
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

  const bareFps = frames / bareS;
  const pooledFps = frames / pooledS;
  console.log(`benchmark [synthetic frames, ${n} visits, ${frames} frames of 960×720, ${availableParallelism()} cores]`);
  console.log(`  bare loop, 1 session          ${bareFps.toFixed(1)} frames/s`);
  console.log(`  pooled pipeline, ${size} sessions  ${pooledFps.toFixed(1)} frames/s  (${rejected} rejected)`);
  console.log(`  ratio pooled / bare           ${(pooledFps / bareFps).toFixed(2)}×  (target ≥ 0.8×)`);
  console.log(`  door closed → result, 2-camera visit: p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p95 ${percentile(latencies, 0.95).toFixed(0)} ms  (target p95 ≤ 1000 ms)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
