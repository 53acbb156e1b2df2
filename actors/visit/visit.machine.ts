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
  /** (Re)arms the one evidence timer: an `EvidenceCheck` after `ms` (a later arm replaces an earlier one). */
  | { type: 'ArmEvidenceCheck'; ms: number }
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

/**
 * How long a closed visit waits, from its upload.done, for frames upload.done announced and that have not been
 * stored. A conforming device sends upload.done once every frame is sent, and resends what was not acknowledged,
 * so on a live link they are in within seconds; a frame still missing after this wait is one the device never
 * had (a camera that failed to deliver) or that the service lost track of, and the visit completes without it.
 */
export const EVIDENCE_WAIT_MS = 120_000;
/** While frames are missing, the stored frames are counted again this long after the last count. */
export const EVIDENCE_RECOUNT_MS = 5_000;

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

/** Frames upload.done announced per camera that are neither stored nor refused (only the positive counts). */
function framesShort(s: VisitState): Record<string, number> {
  const short: Record<string, number> = {};
  for (const [cam, n] of Object.entries(s.expectedFrames ?? {})) {
    const k = n - (s.receivedFrames[cam] ?? 0) - refusedOf(s, cam, n);
    if (k > 0) short[cam] = k;
  }
  return short;
}

/**
 * Recognition compares the before and after snapshots: without one of them a confident answer is not trusted.
 * A frame that never arrived may have been either (its phase is unknown), so any missing frame holds it too.
 */
function withGaps(s: VisitState, r: VisitRecognition): VisitRecognition {
  const refused = (s.refusedFrames ?? []).filter((f) => f.phase !== 'during');
  const missing = Object.entries(s.missingFrames ?? {});
  if ((!refused.length && !missing.length) || r.status !== 'settled') return r;
  const reasons = [
    ...refused.map((f) => `frame_refused: ${f.phase} frame ${f.seq} of camera ${f.camera} (${f.reason})`),
    ...missing.map(([cam, n]) => `frames_missing: ${n} frame(s) of camera ${cam} announced by upload.done never arrived`),
  ];
  return { ...r, status: 'needs_review', reasons: [...r.reasons, ...reasons] };
}

/** The evidence is complete (or the wait for it is over): project, hand it to recognition, end a restock visit. */
function complete(s: VisitState, now: number): Step<VisitState, VisitEffect> {
  const next: VisitState = { ...s, status: 'complete', completedAt: now };
  // A shopping visit stays up until recognition answers; a restock visit is billed to nobody and ends here.
  const effects: VisitEffect[] = [{ type: 'Project', view: next, releaseDoor: true }, { type: 'EvidenceComplete', view: next }];
  if (next.purpose === 'restock') effects.push({ type: 'Ended', view: next });
  return { state: next, effects };
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
      const next = same ? s : { ...s, expectedFrames: { ...msg.frames }, uploadDoneAt: s.uploadDoneAt ?? now };
      const effects: VisitEffect[] = [];
      if (!same) effects.push({ type: 'Project', view: next, releaseDoor: next.status !== 'open' && next.status !== 'unlocking' });
      effects.push({ type: 'AckDevice', ack: msg.ack });
      if (next.status === 'closed') effects.push({ type: 'CountFrames' });
      return { state: next, effects };
    }
    case 'FramesCounted': {
      const same = JSON.stringify(s.receivedFrames) === JSON.stringify(msg.counts);
      const next = same ? s : { ...s, receivedFrames: { ...msg.counts } };
      if (allFramesIn(next)) return complete(next, now);
      if (next.status !== 'closed' || !next.expectedFrames) return { state: next, effects: [] };
      // Closed, announced and short: once the wait is over, complete without what never arrived; until then,
      // count again later, so that no lost trigger can leave the visit (and its cabinet) waiting for ever.
      if (now - (next.uploadDoneAt ?? next.closedAt ?? now) >= EVIDENCE_WAIT_MS) return complete({ ...next, missingFrames: framesShort(next) }, now);
      return { state: next, effects: [{ type: 'ArmEvidenceCheck', ms: EVIDENCE_RECOUNT_MS }] };
    }
    case 'EvidenceCheck':
      return { state: s, effects: s.status === 'closed' && s.expectedFrames ? [{ type: 'CountFrames' }] : [] };
    case 'RecognitionDone': {
      if (s.status !== 'complete' || s.recognition || s.purpose !== 'shopping') return { state: s, effects: [] };
      const next: VisitState = { ...s, recognition: withGaps(s, msg.recognition) };
      return { state: next, effects: [{ type: 'Project', view: next, releaseDoor: true }, { type: 'Ended', view: next }] };
    }
    case 'GetVisit':
      return { state: s, effects: [{ type: 'Reply', to: msg.replyTo, view: s }] };
    default:
      return assertNever(msg, 'visit message');
  }
}
