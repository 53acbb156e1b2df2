import { z } from 'zod';
import { CameraId, Lane, LaneId, Sku } from '../contracts/domain';

/**
 * Wire types of the recogniser: what a visit hands in (frames of every camera, the planogram as it stood) and
 * what comes back (the taken multiset with confidences, or "needs review", plus the evidence a reviewer sees).
 * Evidence is validated where it crosses into vision/; results are plain data the visit actor can store.
 */
export const FramePhase = z.enum(['before', 'during', 'after']);
export type FramePhase = z.infer<typeof FramePhase>;

export const VisitFrame = z.object({
  camera: CameraId,
  seq: z.number().int().nonnegative(),
  phase: FramePhase,
  ts: z.number(),
  jpeg: z.instanceof(Buffer),
});
export type VisitFrame = z.infer<typeof VisitFrame>;

export const VisitEvidence = z.object({
  visitId: z.string().min(1),
  cabinetId: z.string().min(1),
  /** The planogram before the visit: which SKU each lane holds, its capacity and expected count. */
  lanes: z.array(Lane).min(1),
  cameras: z.array(CameraId).min(1),
  frames: z.array(VisitFrame),
});
export type VisitEvidence = z.infer<typeof VisitEvidence>;

/** Why a visit was held for review, or what a reviewer should know about a settled one. Closed union. */
export const ReasonCode = z.enum([
  'low_confidence',
  'missing_frames',
  'unreadable_frame',
  'occluded',
  'item_added',
  'off_planogram',
  'not_enrolled',
  'too_many_changes',
  'bad_evidence',
  /** A camera moved between its snapshots further than registration corrects: recalibrate it. */
  'camera_moved',
]);
export type ReasonCode = z.infer<typeof ReasonCode>;

export const RecognisedItem = z.object({
  sku: Sku,
  qty: z.number().int().positive(),
  /** Probability that this line (SKU and count) is right, 0..1. */
  confidence: z.number().min(0).max(1),
});
export type RecognisedItem = z.infer<typeof RecognisedItem>;

export const Box = z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() });

/** One facing that changed between the snapshots, as the reviewer sees it. */
export const SlotEvidence = z.object({
  laneId: LaneId,
  slot: z.number().int().nonnegative(),
  before: z.string(),
  after: z.string(),
  confidence: z.number(),
  /** Per camera: where the facing is in that camera's frames, and the top matches in each phase. */
  views: z.array(
    z.object({
      camera: CameraId,
      box: Box,
      before: z.array(z.object({ label: z.string(), p: z.number() })),
      after: z.array(z.object({ label: z.string(), p: z.number() })),
      diff: z.number(),
    }),
  ),
});
export type SlotEvidence = z.infer<typeof SlotEvidence>;

export const RecognitionResult = z.object({
  visitId: z.string(),
  status: z.enum(['settled', 'needs_review']),
  /** The taken multiset. On `needs_review` it is the best reading, for the reviewer to confirm — never charged as is. */
  items: z.array(RecognisedItem),
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.object({ code: ReasonCode, detail: z.string() })),
  evidence: z.object({
    frames: z.array(z.object({ camera: CameraId, seq: z.number(), phase: FramePhase, readable: z.boolean() })),
    slots: z.array(SlotEvidence),
    lanesChanged: z.array(LaneId),
    timings: z.object({ decodeMs: z.number(), registerMs: z.number().optional(), cropMs: z.number(), embedMs: z.number(), totalMs: z.number() }),
  }),
  modelVersion: z.string(),
});
export type RecognitionResult = z.infer<typeof RecognitionResult>;
