import type { Ack, FramePhase } from '../../contracts/cabinet-protocol';
import type { ActorRef } from '../runtime';

export type VisitStatus = 'unlocking' | 'open' | 'closed' | 'complete' | 'relocked' | 'unlock_failed';
export const TERMINAL_VISIT_STATUSES: readonly VisitStatus[] = ['complete', 'relocked', 'unlock_failed'];

/** What the cabinet tells a visit about its door. */
export type VisitDoorEvent = 'unlock_acked' | 'unlock_failed' | 'opened' | 'closed' | 'relocked';

/** What recognition concluded about a visit, as the visit keeps it (the full evidence lives with vision). */
export interface VisitRecognition {
  status: 'settled' | 'needs_review' | 'failed';
  items: Array<{ sku: string; qty: number; confidence: number }>;
  confidence: number;
  reasons: string[];
  modelVersion: string;
  /** The recogniser's evidence for the review console (frames, boxes, scores); opaque here. */
  evidence?: unknown;
  at: number;
}

export interface VisitView {
  visitId: string;
  cabinetId: string;
  siteId: string;
  purpose: 'shopping' | 'restock';
  shopperId?: string;
  operatorId?: string;
  status: VisitStatus;
  requestedAt: number;
  openedAt?: number;
  closedAt?: number;
  completedAt?: number;
  expectedFrames?: Record<string, number>;
  receivedFrames: Record<string, number>;
  /**
   * Frames the device sent and the gateway refused (over the size limit): never stored, yet counted by
   * upload.done, so completion counts them as accounted for. A refused snapshot holds the visit for review.
   */
  refusedFrames?: RefusedFrame[];
  /** When upload.done was first recorded: the evidence wait (EVIDENCE_WAIT_MS) runs from here. */
  uploadDoneAt?: number;
  /**
   * Frames upload.done announced that never arrived within the evidence wait (per camera): the visit completed
   * without them (a camera that failed to deliver must not hold the cabinet for ever), and a confident
   * recognition is held for review.
   */
  missingFrames?: Record<string, number>;
  /** Set once recognition answered (shopping visits only). */
  recognition?: VisitRecognition;
  /** The cabinet's planogram version when the visit took the door (absent on visits stored before versions). */
  planogramVersion?: number;
}

/** A frame the device gateway refused, as the visit records it. */
export interface RefusedFrame {
  camera: string;
  seq: number;
  phase: FramePhase;
  reason: 'TOO_LARGE';
}

export type VisitMsg =
  | { type: 'CabinetEvent'; event: VisitDoorEvent; at: number; detail?: string; replyTo?: ActorRef<{ type: 'Noted' }> }
  /** A frame from the device; the shell stores it (idempotently) before acking. Never journalled. */
  | { type: 'FrameArrived'; camera: string; seq: number; phase: FramePhase; ts: number; jpeg: Buffer; ack: (a: Ack) => void }
  | { type: 'UploadDone'; frames: Record<string, number>; ack: (a: Ack) => void }
  /** The gateway refused a frame (too large); recorded before the device gets `answer`. */
  | { type: 'FrameRefused'; frame: RefusedFrame; answer: Ack; ack: (a: Ack) => void }
  /** Result of counting the visit's stored frames per camera. */
  | { type: 'FramesCounted'; counts: Record<string, number> }
  /** The evidence wait's timer: count the stored frames again (the count decides whether the wait is over). */
  | { type: 'EvidenceCheck' }
  | { type: 'GetVisit'; replyTo: ActorRef<VisitView> }
  /** Recognition's answer for a complete shopping visit; recorded once, later answers are ignored. */
  | { type: 'RecognitionDone'; recognition: VisitRecognition };

/** A visit is over for good when nothing more can happen to it: failed, relocked, or complete and (for shopping) recognised. */
export function isFinished(v: Pick<VisitView, 'status' | 'purpose' | 'recognition'>): boolean {
  if (v.status === 'relocked' || v.status === 'unlock_failed') return true;
  return v.status === 'complete' && (v.purpose === 'restock' || v.recognition !== undefined);
}
