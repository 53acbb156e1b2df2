import { Observable, filter, groupBy, map, mergeMap, scan, takeWhile, last, from } from 'rxjs';
import type { Lane } from '../../contracts/domain';
import type { FramePhase, VisitEvidence, VisitFrame } from '../recognition.types';
import type { RecognitionPool, SubmitOutcome } from './pool';

/**
 * RxJS plumbing from the device gateway to the pool: frames and `upload.done` events of many cabinets arrive
 * interleaved; they are grouped per visit, deduplicated on (camera, seq) — devices resend after a reconnect —
 * and a visit's evidence is emitted once its upload is complete (a visit waits for its upload instead of
 * guessing). Each completed visit goes to the pool; the outcome goes back to the visit actor.
 */
export type GatewayEvent =
  | { type: 'frame'; visitId: string; camera: string; seq: number; ts: number; phase: FramePhase; jpeg: Buffer }
  | { type: 'upload.done'; visitId: string; frames: Record<string, number> };

export interface VisitContext {
  cabinetId: string;
  lanes: Lane[];
  cameras: string[];
}

interface Acc {
  frames: Map<string, VisitFrame>;
  expected: Record<string, number> | null;
  dropped: number;
}

const complete = (a: Acc): boolean => a.expected !== null && Object.entries(a.expected).every(([cam, n]) => [...a.frames.values()].filter((f) => f.camera === cam).length >= n);

/** Per-visit evidence from the interleaved gateway stream. `maxFramesPerVisit` bounds memory per visit. */
export function visitsFromGateway(events$: Observable<GatewayEvent>, contextOf: (visitId: string) => VisitContext | undefined, opts: { maxFramesPerVisit: number }): Observable<VisitEvidence> {
  return events$.pipe(
    groupBy((e) => e.visitId),
    mergeMap((visit$) =>
      visit$.pipe(
        scan<GatewayEvent, Acc>(
          (acc, e) => {
            switch (e.type) {
              case 'frame': {
                const key = `${e.camera}|${e.seq}`;
                if (acc.frames.has(key)) return acc;
                if (acc.frames.size >= opts.maxFramesPerVisit) return { ...acc, dropped: acc.dropped + 1 };
                acc.frames.set(key, { camera: e.camera, seq: e.seq, ts: e.ts, phase: e.phase, jpeg: e.jpeg });
                return acc;
              }
              case 'upload.done':
                return { ...acc, expected: e.frames };
            }
          },
          { frames: new Map(), expected: null, dropped: 0 },
        ),
        takeWhile((acc) => !complete(acc) && acc.dropped === 0, true),
        last(),
        map((acc) => ({ visitId: visit$.key, acc })),
      ),
    ),
    map(({ visitId, acc }) => {
      const ctx = contextOf(visitId);
      return ctx ? { visitId, cabinetId: ctx.cabinetId, lanes: ctx.lanes, cameras: ctx.cameras, frames: [...acc.frames.values()] } : null;
    }),
    filter((v): v is VisitEvidence => v !== null),
  );
}

/** Sends each visit to the pool; emits its outcome with the visit id for the visit actor. */
export function recognise(visits$: Observable<VisitEvidence>, pool: RecognitionPool): Observable<{ visitId: string; outcome: SubmitOutcome }> {
  return visits$.pipe(mergeMap((v) => from(pool.submit(v).then((outcome) => ({ visitId: v.visitId, outcome })))));
}
