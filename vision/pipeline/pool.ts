import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import type { RecognitionResult, VisitEvidence } from '../recognition.types';

/**
 * A bounded pool of recognition workers. Each worker owns one onnxruntime session and runs one visit at a
 * time, so a slow visit holds one worker and never the queue; visits are served first come, first served.
 *
 * Backpressure policy: at most `queueLimit` visits wait. When the queue is full, `submit` answers at once
 * with `Rejected: queue_full` — the visit actor keeps its evidence and retries later — instead of buffering
 * without bound. Closing stops intake and drains what was accepted.
 *
 * The logic has no I/O of its own: workers are injected functions and time comes from the injected clock, so
 * an actor shell (actors/runtime) can host it and tests can drive it with fakes.
 */
export type Worker = (visit: VisitEvidence) => Promise<RecognitionResult>;

export type SubmitOutcome =
  | { type: 'Recognised'; result: RecognitionResult; queuedMs: number; runMs: number }
  | { type: 'Rejected'; reason: 'queue_full' | 'closed' }
  | { type: 'Failed'; error: string };

export interface PoolStats {
  workers: number;
  busy: number;
  queued: number;
  done: number;
  rejected: number;
  failed: number;
}

interface Job {
  visit: VisitEvidence;
  enqueuedAt: number;
  resolve: (o: SubmitOutcome) => void;
}

export class RecognitionPool {
  private readonly idle: Worker[];
  private readonly queue: Job[] = [];
  private status: 'open' | 'closing' | 'closed' = 'open';
  private busy = 0;
  private done = 0;
  private rejected = 0;
  private failed = 0;
  private drained: (() => void) | null = null;

  constructor(
    private readonly workers: readonly Worker[],
    private readonly opts: { queueLimit: number; clock: Clock; log: Logger },
  ) {
    if (workers.length === 0) throw new Error('a pool needs at least one worker');
    this.idle = [...workers];
  }

  submit(visit: VisitEvidence): Promise<SubmitOutcome> {
    if (this.status !== 'open') {
      this.rejected++;
      return Promise.resolve({ type: 'Rejected', reason: 'closed' });
    }
    if (this.idle.length === 0 && this.queue.length >= this.opts.queueLimit) {
      this.rejected++;
      this.opts.log.warn({ visitId: visit.visitId, queued: this.queue.length }, 'recognition queue full; visit rejected for retry');
      return Promise.resolve({ type: 'Rejected', reason: 'queue_full' });
    }
    return new Promise((resolve) => {
      this.queue.push({ visit, enqueuedAt: this.opts.clock.now(), resolve });
      this.pump();
    });
  }

  stats(): PoolStats {
    return { workers: this.workers.length, busy: this.busy, queued: this.queue.length, done: this.done, rejected: this.rejected, failed: this.failed };
  }

  /** Stops intake; resolves when every accepted visit has its answer. */
  close(): Promise<void> {
    if (this.status === 'closed') return Promise.resolve();
    this.status = 'closing';
    if (this.busy === 0 && this.queue.length === 0) {
      this.status = 'closed';
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.drained = () => {
        this.status = 'closed';
        resolve();
      };
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      const job = this.queue.shift() as Job;
      this.busy++;
      const started = this.opts.clock.now();
      worker(job.visit).then(
        (result) => {
          this.done++;
          job.resolve({ type: 'Recognised', result, queuedMs: started - job.enqueuedAt, runMs: this.opts.clock.now() - started });
        },
        (e: unknown) => {
          // A worker failure is an answer for this visit, not a crash of the pool.
          this.failed++;
          this.opts.log.error({ visitId: job.visit.visitId, err: String(e) }, 'recognition failed');
          job.resolve({ type: 'Failed', error: e instanceof Error ? e.message : String(e) });
        },
      ).finally(() => {
        this.busy--;
        this.idle.push(worker);
        this.pump();
        if (this.status === 'closing' && this.busy === 0 && this.queue.length === 0) this.drained?.();
      });
    }
  }
}
