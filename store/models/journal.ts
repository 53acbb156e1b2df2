import { Schema, type Connection } from 'mongoose';

/** Event journal for persistent actors: one row per event, unique per (key, sequenceNumber). */
export interface JournalEventDoc {
  key: string;
  sequenceNumber: number;
  /** EJSON text. */
  data: string;
  tags: string[];
  createdAt: Date;
}
export const journalEventSchema = new Schema<JournalEventDoc>(
  {
    key: { type: String, required: true },
    sequenceNumber: { type: Number, required: true },
    data: { type: String, required: true },
    tags: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
  },
  { collection: 'actor_events', minimize: false },
);
// Two live owners of one key both writing sequence n: the second insert fails, and the actor knows.
journalEventSchema.index({ key: 1, sequenceNumber: 1 }, { unique: true });

export interface JournalSnapshotDoc {
  key: string;
  sequenceNumber: number;
  /** EJSON text. */
  data: string;
  createdAt: Date;
}
export const journalSnapshotSchema = new Schema<JournalSnapshotDoc>(
  {
    key: { type: String, required: true },
    sequenceNumber: { type: Number, required: true },
    data: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'actor_snapshots', minimize: false },
);
journalSnapshotSchema.index({ key: 1, sequenceNumber: -1 }, { unique: true });

export function journalModels(conn: Connection) {
  return {
    JournalEvent: conn.model<JournalEventDoc>('JournalEvent', journalEventSchema),
    JournalSnapshot: conn.model<JournalSnapshotDoc>('JournalSnapshot', journalSnapshotSchema),
  };
}
