import { Subject, firstValueFrom, toArray } from 'rxjs';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import type { RecognitionResult, VisitEvidence } from '../recognition.types';
import { recognise, visitsFromGateway, type GatewayEvent } from './frames';
import { RecognitionPool, type Worker } from './pool';

const visit = (id: string): VisitEvidence => ({ visitId: id, cabinetId: 'CAB-1', lanes: [{ laneId: 'A1', sku: 'COLA-ORIG', capacity: 6, count: 6 }], cameras: ['top'], frames: [] });
const result = (id: string): RecognitionResult => ({
  visitId: id,
  status: 'settled',
  items: [],
  confidence: 1,
  reasons: [],
  evidence: { frames: [], slots: [], lanesChanged: [], timings: { decodeMs: 0, cropMs: 0, embedMs: 0, totalMs: 0 } },
  modelVersion: 'test',
});

/** A worker whose visits finish only when the test says so. */
function gatedWorker(): { worker: Worker; release: (id: string) => void; started: string[] } {
  const pending = new Map<string, () => void>();
  const started: string[] = [];
  return {
    started,
    worker: (v) =>
      new Promise((resolve) => {
        started.push(v.visitId);
        pending.set(v.visitId, () => resolve(result(v.visitId)));
      }),
    release: (id) => pending.get(id)?.(),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('RecognitionPool', () => {
  it('rejects at once when every worker is busy and the queue is full', async () => {
    const g = gatedWorker();
    const pool = new RecognitionPool([g.worker], { queueLimit: 1, clock: new SimulatedClock(), log: silentLogger });
    const a = pool.submit(visit('a'));
    const b = pool.submit(visit('b'));
    await expect(pool.submit(visit('c'))).resolves.toEqual({ type: 'Rejected', reason: 'queue_full' });
    expect(pool.stats()).toMatchObject({ busy: 1, queued: 1, rejected: 1 });
    g.release('a');
    await expect(a).resolves.toMatchObject({ type: 'Recognised', result: { visitId: 'a' } });
    await tick();
    g.release('b');
    await expect(b).resolves.toMatchObject({ type: 'Recognised', result: { visitId: 'b' } });
  });

  it('lets other visits through while one visit is slow', async () => {
    const slow = gatedWorker();
    // Either worker may pick the slow visit; it blocks only that one.
    const worker: Worker = (v) => (v.visitId === 'slow' ? slow.worker(v) : Promise.resolve(result(v.visitId)));
    const pool = new RecognitionPool([worker, worker], { queueLimit: 4, clock: new SimulatedClock(), log: silentLogger });
    const stuck = pool.submit(visit('slow'));
    const others = await Promise.all(['x', 'y', 'z'].map((id) => pool.submit(visit(id))));
    expect(others.map((o) => o.type)).toEqual(['Recognised', 'Recognised', 'Recognised']);
    slow.release('slow');
    await expect(stuck).resolves.toMatchObject({ type: 'Recognised' });
  });

  it('answers a worker failure as Failed and keeps serving', async () => {
    let n = 0;
    const flaky: Worker = (v) => (n++ === 0 ? Promise.reject(new Error('session died')) : Promise.resolve(result(v.visitId)));
    const pool = new RecognitionPool([flaky], { queueLimit: 2, clock: new SimulatedClock(), log: silentLogger });
    await expect(pool.submit(visit('a'))).resolves.toEqual({ type: 'Failed', error: 'session died' });
    await expect(pool.submit(visit('b'))).resolves.toMatchObject({ type: 'Recognised' });
  });

  it('drains accepted visits on close and refuses new ones', async () => {
    const g = gatedWorker();
    const pool = new RecognitionPool([g.worker], { queueLimit: 2, clock: new SimulatedClock(), log: silentLogger });
    const a = pool.submit(visit('a'));
    const closed = pool.close();
    await expect(pool.submit(visit('b'))).resolves.toEqual({ type: 'Rejected', reason: 'closed' });
    g.release('a');
    await a;
    await closed;
    expect(pool.stats().done).toBe(1);
  });
});

describe('frame streams', () => {
  it('groups interleaved frames per visit, drops resent frames, and emits a visit when its upload is done', async () => {
    const events = new Subject<GatewayEvent>();
    const ctx = { cabinetId: 'CAB-1', lanes: visit('v').lanes, cameras: ['top'] };
    const seen: VisitEvidence[] = [];
    const pool = new RecognitionPool(
      [
        (v) => {
          seen.push(v);
          return Promise.resolve(result(v.visitId));
        },
      ],
      { queueLimit: 4, clock: new SimulatedClock(), log: silentLogger },
    );
    const out = firstValueFrom(recognise(visitsFromGateway(events, () => ctx, { maxFramesPerVisit: 16 }), pool).pipe(toArray()));
    const frame = (visitId: string, seq: number, phase: 'before' | 'after'): GatewayEvent => ({ type: 'frame', visitId, camera: 'top', seq, ts: seq, phase, jpeg: Buffer.from([seq]) });
    events.next(frame('v1', 0, 'before'));
    events.next(frame('v2', 0, 'before'));
    events.next(frame('v1', 1, 'after'));
    events.next(frame('v1', 1, 'after'));
    events.next({ type: 'upload.done', visitId: 'v1', frames: { top: 2 } });
    events.next(frame('v2', 1, 'after'));
    events.next({ type: 'upload.done', visitId: 'v2', frames: { top: 2 } });
    events.complete();
    const outcomes = await out;
    expect(outcomes.map((o) => [o.visitId, o.outcome.type])).toEqual([
      ['v1', 'Recognised'],
      ['v2', 'Recognised'],
    ]);
    expect(seen[0]?.frames.map((f) => f.seq)).toEqual([0, 1]);
  });
});
