import type { Subscription } from 'rxjs';
import type { Fleet, VisitEvidence as FleetEvidence } from '../actors/fleet/fleet';
import type { VisitRecognition } from '../actors/visit/visit.protocol';
import type { Clock } from '../common/clock';
import { retryUntilStored } from '../common/retry-until-stored';
import type { Logger } from '../common/log';
import type { Metrics } from '../common/metrics';
import type { RecognitionResult, VisitEvidence } from '../vision';

/** What the bridge needs of the recognition pool (vision/pipeline's RecognitionPool). */
export interface RecognitionSubmitter {
  submit(visit: VisitEvidence): Promise<
    | { type: 'Recognised'; result: RecognitionResult; queuedMs: number; runMs: number }
    | { type: 'Rejected'; reason: 'queue_full' | 'closed' }
    | { type: 'Failed'; error: string }
  >;
}

export function toVisionEvidence(e: FleetEvidence): VisitEvidence {
  return {
    visitId: e.visit.visitId,
    cabinetId: e.visit.cabinetId,
    lanes: e.lanes,
    cameras: e.cameras,
    frames: e.frames.map((f) => ({ camera: f.camera, seq: f.seq, phase: f.phase, ts: f.ts, jpeg: f.jpeg })),
  };
}

export function toVisitRecognition(r: RecognitionResult, at: number): VisitRecognition {
  return {
    status: r.status,
    items: r.items.map((i) => ({ sku: i.sku, qty: i.qty, confidence: i.confidence })),
    confidence: r.confidence,
    reasons: r.reasons.map((x) => `${x.code}: ${x.detail}`),
    modelVersion: r.modelVersion,
    evidence: r.evidence,
    at,
  };
}

/**
 * Feeds every complete shopping visit from the fleet to the recognition pool and hands the answer back to
 * the visit actor. A full queue delays (retry with backoff; the evidence is safe in the store) rather than
 * drops; a recogniser failure is recorded as `failed`, which sends the visit to review — never a guess.
 */
export function bridgeRecognition(o: { fleet: Fleet; pool: RecognitionSubmitter; clock: Clock; log: Logger; metrics?: Metrics; maxBackoffMs?: number }): Subscription {
  const latency = o.metrics?.histogram('recognition_seconds', 'Door-closed evidence complete to recognition result', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30]);
  const outcomes = o.metrics?.counter('recognition_outcomes_total', 'Recognition outcomes', ['outcome']);
  // The answer reaches its visit even when the database is away at that moment (the visit actor may have to be
  // read from the store): retried until delivered, never an unhandled rejection that takes the service down.
  const deliver = (visitId: string, recognition: Parameters<Fleet['recognitionDone']>[1]): Promise<void> => retryUntilStored(`recognition result of ${visitId}`, () => o.fleet.recognitionDone(visitId, recognition), { clock: o.clock, log: o.log });
  const submit = (evidence: FleetEvidence, attempt: number): void => {
    const started = o.clock.now();
    o.pool.submit(toVisionEvidence(evidence)).then(
      async (out) => {
        switch (out.type) {
          case 'Recognised':
            latency?.observe((o.clock.now() - started) / 1000);
            outcomes?.inc({ outcome: out.result.status });
            await deliver(evidence.visit.visitId, toVisitRecognition(out.result, o.clock.now()));
            return;
          case 'Rejected': {
            if (out.reason === 'closed') return;
            outcomes?.inc({ outcome: 'delayed' });
            const wait = Math.min(o.maxBackoffMs ?? 60_000, 500 * 2 ** attempt);
            o.clock.schedule(wait, () => submit(evidence, attempt + 1));
            return;
          }
          case 'Failed':
            outcomes?.inc({ outcome: 'failed' });
            o.log.error({ visitId: evidence.visit.visitId, error: out.error }, 'recognition failed; visit goes to review');
            await deliver(evidence.visit.visitId, { status: 'failed', items: [], confidence: 0, reasons: [`recogniser_failed: ${out.error}`], modelVersion: 'n/a', at: o.clock.now() });
            return;
        }
      },
      (e: unknown) => o.log.error({ visitId: evidence.visit.visitId, err: String(e) }, 'recognition bridge error'),
    );
  };
  return o.fleet.evidence$.subscribe((e) => submit(e, 0));
}
