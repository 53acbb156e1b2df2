import { Schema, type Connection } from 'mongoose';

/**
 * The queryable projection of a shopper session (actors/session): written by the session actor after each
 * change it journals, read by the shopper API's lists, the dashboard and start-up recovery. `_id` is the
 * session id (FerretDB v1 pushes down only `_id` equality).
 */
export interface SessionDoc {
  _id: string;
  sessionId: string;
  shopperId: string;
  cabinetId: string;
  siteId: string;
  flow: 'open' | 'semi' | 'auto';
  status: string;
  finished: boolean;
  visitId?: string;
  orderId?: string;
  totalFen?: number;
  caseId?: string;
  message?: string;
  startedAt: Date;
  updatedAt: Date;
  /** The state the session actor started from; its journal replays onto it after a restart. */
  initial: unknown;
}

export const sessionSchema = new Schema<SessionDoc>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true },
    shopperId: { type: String, required: true },
    cabinetId: { type: String, required: true },
    siteId: { type: String, required: true },
    flow: { type: String, enum: ['open', 'semi', 'auto'], required: true },
    status: { type: String, required: true },
    finished: { type: Boolean, required: true },
    visitId: String,
    orderId: String,
    totalFen: Number,
    caseId: String,
    message: String,
    startedAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    initial: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'sessions' },
);
sessionSchema.index({ finished: 1, updatedAt: -1 });
sessionSchema.index({ shopperId: 1, startedAt: -1 });
sessionSchema.index({ siteId: 1, updatedAt: -1 });

export function sessionModels(conn: Connection) {
  return { Session: conn.model<SessionDoc>('Session', sessionSchema) };
}
