import { Schema, type Connection } from 'mongoose';

/** A visit is one door opening: from the unlock request to evidence complete (or relocked / failed). */
export type VisitStatus = 'unlocking' | 'open' | 'closed' | 'complete' | 'relocked' | 'unlock_failed';
export type VisitPurpose = 'shopping' | 'restock';

export interface VisitDoc {
  /**
   * The visit id itself, so the fleet's reads and writes of a visit are point operations on FerretDB (only an
   * `_id` filter uses an index there). Visits stored before this keying keep their ObjectId (Mixed: no cast).
   */
  _id?: string;
  visitId: string;
  cabinetId: string;
  siteId: string;
  door: string;
  purpose: VisitPurpose;
  shopperId?: string;
  operatorId?: string;
  status: VisitStatus;
  /**
   * `${cabinetId}/${door}` while the visit holds the door, unset once it ends. The unique sparse index on it
   * enforces one open visit per door on MongoDB and FerretDB alike (no partial indexes there; FerretDB ignores
   * `sparse`, but a missing field never collides there either).
   */
  doorLock?: string;
  unlockRequestedAt: Date;
  unlockExpiresAt: Date;
  openedAt?: Date;
  closedAt?: Date;
  completedAt?: Date;
  /** Frames announced by upload.done, per camera; absent until then. */
  expectedFrames?: Record<string, number>;
  /** Distinct frames stored per camera. */
  receivedFrames: Record<string, number>;
  /** Recognition's answer (actors/visit VisitRecognition); absent until it comes. */
  recognition?: unknown;
  /** The cabinet's planogram version when the visit took the door. */
  planogramVersion?: number;
  version: number;
}

export const visitSchema = new Schema<VisitDoc>(
  {
    _id: {
      type: Schema.Types.Mixed,
      default: function (this: { visitId?: string }) {
        return this.visitId;
      },
    },
    visitId: { type: String, required: true },
    cabinetId: { type: String, required: true },
    siteId: { type: String, required: true },
    door: { type: String, default: 'main' },
    purpose: { type: String, enum: ['shopping', 'restock'], required: true },
    shopperId: String,
    operatorId: String,
    status: { type: String, enum: ['unlocking', 'open', 'closed', 'complete', 'relocked', 'unlock_failed'], required: true },
    doorLock: { type: String },
    unlockRequestedAt: { type: Date, required: true },
    unlockExpiresAt: { type: Date, required: true },
    openedAt: Date,
    closedAt: Date,
    completedAt: Date,
    expectedFrames: { type: Schema.Types.Mixed },
    receivedFrames: { type: Schema.Types.Mixed, default: {} },
    recognition: { type: Schema.Types.Mixed },
    planogramVersion: Number,
    version: { type: Number, default: 0 },
  },
  { collection: 'visits', timestamps: true, minimize: true },
);
visitSchema.index({ visitId: 1 }, { unique: true });
visitSchema.index({ doorLock: 1 }, { unique: true, sparse: true });
visitSchema.index({ cabinetId: 1, unlockRequestedAt: -1 });
visitSchema.index({ shopperId: 1, unlockRequestedAt: -1 });
visitSchema.index({ siteId: 1, status: 1 });

export type FramePhase = 'before' | 'during' | 'after';

export interface FrameDoc {
  _id: unknown;
  visitId: string;
  camera: string;
  seq: number;
  phase: FramePhase;
  ts: Date;
  jpeg: Buffer;
  bytes: number;
}

/**
 * A frame's `_id`: what identifies it on the wire, so a resend is the same document and every read of a
 * visit's frames is a point read (on FerretDB v1 a filter on `visitId` reads the whole frames collection).
 */
export const frameId = (visitId: string, camera: string, seq: number): string => `${visitId}:${camera}:${seq}`;

export const frameSchema = new Schema<FrameDoc>(
  {
    // String ids (frameId) since frames were keyed so; ObjectIds for older ones (found by their fields).
    _id: {
      type: Schema.Types.Mixed,
      default: function (this: { visitId?: string; camera?: string; seq?: number }) {
        return this.visitId !== undefined && this.camera !== undefined && this.seq !== undefined ? frameId(this.visitId, this.camera, this.seq) : undefined;
      },
    },
    visitId: { type: String, required: true },
    camera: { type: String, required: true },
    seq: { type: Number, required: true },
    phase: { type: String, enum: ['before', 'during', 'after'], required: true },
    ts: { type: Date, required: true },
    jpeg: { type: Buffer, required: true },
    bytes: { type: Number, required: true },
  },
  { collection: 'frames', timestamps: { createdAt: true, updatedAt: false } },
);
// A frame resent after a reconnect is the same frame: the unique key turns the resend into a no-op.
frameSchema.index({ visitId: 1, camera: 1, seq: 1 }, { unique: true });

export function visitModels(conn: Connection) {
  return {
    Visit: conn.model<VisitDoc>('Visit', visitSchema),
    Frame: conn.model<FrameDoc>('Frame', frameSchema),
  };
}
