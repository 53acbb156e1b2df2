import { assertNever } from '../../common/assert-never';
import type { Ack, FramePhase } from '../../contracts/cabinet-protocol';
import type { ActorRef, Step } from '../runtime';
import type { VisitMsg, VisitRecognition, VisitStatus, VisitView } from './visit.protocol';

export type VisitState = VisitView;

export type VisitEffect =
  | { type: 'StoreFrame'; camera: string; seq: number; phase: FramePhase; ts: number; jpeg: Buffer; ack: (a: Ack) => void }
  /** Answers the device: `answer`, or `{ ok: true }`. */
  | { type: 'AckDevice'; ack: (a: Ack) => void; answer?: Ack }
  | { type: 'CountFrames' }
  /** Writes the visit's queryable projection (the `visits` collection); idempotent. */
  | { type: 'Project'; view: VisitView; releaseDoor: boolean }
  /** The evidence is complete: hand every frame to recognition, tell the cabinet the door is free. */
  | { type: 'EvidenceComplete'; view: VisitView }
  | { type: 'Ended'; view: VisitView }
  | { type: 'Reply'; to: ActorRef<VisitView>; view: VisitView }
  | { type: 'Noted'; to: ActorRef<{ type: 'Noted' }> };

/** Allowed status moves; anything else from the cabinet is a late or duplicate report and is ignored. */
export const VISIT_TRANSITIONS: Readonly<Record<VisitStatus, readonly VisitStatus[]>> = {
  unlocking: ['open', 'relocked', 'unlock_failed'],
  open: ['closed'],
  closed: ['complete'],
  complete: [],
  relocked: [],
  unlock_failed: [],
};

const TARGET: Record<'unlock_failed' | 'opened' | 'closed' | 'relocked', VisitStatus> = {
  unlock_failed: 'unlock_failed',
  opened: 'open',
  closed: 'closed',
  relocked: 'relocked',
};

export function initialVisitState(v: Omit<VisitView, 'status' | 'receivedFrames'> & Partial<Pick<VisitView, 'status' | 'receivedFrames'>>): VisitState {
  return { status: 'unlocking', receivedFrames: {}, ...v };
}

/** Refused frames of a camera among the seqs upload.done announced (they are never among the stored ones). */
function refusedOf(s: VisitState, camera: string, announced: number): number {
  return (s.refusedFrames ?? []).filter((f) => f.camera === camera && f.seq < announced).length;
}

/**
 * Complete once the door is closed, upload.done said how many frames each camera sent, and every one of them
 * is stored or was refused (a refused frame never will be stored: waiting for it would wedge the cabinet).
 */
function allFramesIn(s: VisitState): boolean {
  if (s.status !== 'closed' || !s.expectedFrames) return false;
  return Object.entries(s.expectedFrames).every(([cam, n]) => (s.receivedFrames[cam] ?? 0) + refusedOf(s, cam, n) >= n);
}

/** Recognition compares the before and after snapshots: without one of them a confident answer is not trusted. */
function withRefusals(s: VisitState, r: VisitRecognition): VisitRecognition {
  const missing = (s.refusedFrames ?? []).filter((f) => f.phase !== 'during');
  if (!missing.length || r.status !== 'settled') return r;
  return { ...r, status: 'needs_review', reasons: [...r.reasons, ...missing.map((f) => `frame_refused: ${f.phase} frame ${f.seq} of camera ${f.camera} (${f.reason})`)] };
}

export function decide(s: VisitState, msg: VisitMsg, now: number): Step<VisitState, VisitEffect> {
  switch (msg.type) {
    case 'CabinetEvent': {
      const noted: VisitEffect[] = msg.replyTo ? [{ type: 'Noted', to: msg.replyTo }] : [];
      if (msg.event === 'unlock_acked') return { state: s, effects: noted };
      const target = TARGET[msg.event];
      if (!VISIT_TRANSITIONS[s.status].includes(target)) return { state: s, effects: noted };
      let next: VisitState = { ...s, status: target };
      if (target === 'open') next = { ...next, openedAt: msg.at };
      if (target === 'closed') next = { ...next, closedAt: msg.at };
      const ended = target === 'relocked' || target === 'unlock_failed';
      const effects: VisitEffect[] = [{ type: 'Project', view: next, releaseDoor: target !== 'open' }];
      if (ended) effects.push({ type: 'Ended', view: next });
      // upload.done may have overtaken the door report on a flaky link.
      if (target === 'closed' && next.expectedFrames) effects.push({ type: 'CountFrames' });
      return { state: next, effects: [...effects, ...noted] };
    }
    case 'FrameArrived':
      return {
        state: s,
        effects: [
          { type: 'StoreFrame', camera: msg.camera, seq: msg.seq, phase: msg.phase, ts: msg.ts, jpeg: msg.jpeg, ack: msg.ack },
          ...(s.expectedFrames && s.status === 'closed' ? [{ type: 'CountFrames' } as const] : []),
        ],
      };
    case 'FrameRefused': {
      const f = msg.frame;
      const answer: VisitEffect = { type: 'AckDevice', ack: msg.ack, answer: msg.answer };
      if ((s.refusedFrames ?? []).some((x) => x.camera === f.camera && x.seq === f.seq)) return { state: s, effects: [answer] };
      const next: VisitState = { ...s, refusedFrames: [...(s.refusedFrames ?? []), { camera: f.camera, seq: f.seq, phase: f.phase, reason: f.reason }] };
      return { state: next, effects: [answer, ...(next.status === 'closed' && next.expectedFrames ? [{ type: 'CountFrames' } as const] : [])] };
    }
    case 'UploadDone': {
      const same = s.expectedFrames && JSON.stringify(s.expectedFrames) === JSON.stringify(msg.frames);
      const next = same ? s : { ...s, expectedFrames: { ...msg.frames } };
      const effects: VisitEffect[] = [];
      if (!same) effects.push({ type: 'Project', view: next, releaseDoor: next.status !== 'open' && next.status !== 'unlocking' });
      effects.push({ type: 'AckDevice', ack: msg.ack });
      if (next.status === 'closed') effects.push({ type: 'CountFrames' });
      return { state: next, effects };
    }
    case 'FramesCounted': {
      const same = JSON.stringify(s.receivedFrames) === JSON.stringify(msg.counts);
      let next = same ? s : { ...s, receivedFrames: { ...msg.counts } };
      if (!allFramesIn(next)) return { state: next, effects: [] };
      next = { ...next, status: 'complete', completedAt: now };
      // A shopping visit stays up until recognition answers; a restock visit is billed to nobody and ends here.
      const effects: VisitEffect[] = [{ type: 'Project', view: next, releaseDoor: true }, { type: 'EvidenceComplete', view: next }];
      if (next.purpose === 'restock') effects.push({ type: 'Ended', view: next });
      return { state: next, effects };
    }
    case 'RecognitionDone': {
      if (s.status !== 'complete' || s.recognition || s.purpose !== 'shopping') return { state: s, effects: [] };
      const next: VisitState = { ...s, recognition: withRefusals(s, msg.recognition) };
      return { state: next, effects: [{ type: 'Project', view: next, releaseDoor: true }, { type: 'Ended', view: next }] };
    }
    case 'GetVisit':
      return { state: s, effects: [{ type: 'Reply', to: msg.replyTo, view: s }] };
    default:
      return assertNever(msg, 'visit message');
  }
}
