import { Schema, Types, type Connection, type Query } from 'mongoose';

export type ReviewStatus = 'open' | 'decided';
export type ReviewDecision = 'confirm' | 'adjust' | 'waive';
export type ReviewReason = 'low_confidence' | 'discrepancy' | 'unreadable' | 'appeal';

export interface ReviewCaseDoc {
  /** The case id as natural key (only `_id` lookups are pushed down on FerretDB). */
  _id?: string;
  caseId: string;
  /** The visit under review; absent for an appeal of an open-shelf order. */
  visitId?: string;
  orderId?: string;
  cabinetId: string;
  siteId: string;
  shopperId?: string;
  flow: 'open' | 'semi' | 'auto';
  reason: ReviewReason;
  status: ReviewStatus;
  /** Recogniser output and frame references for the console; shape owned by vision/. */
  evidence: unknown;
  /** What recognition saw, per SKU with its confidence. */
  recognised: Array<{ sku: string; qty: number; confidence: number }>;
  /** The shopper's paid cart (semi-automatic), when there is one. */
  paidLines?: Array<{ sku: string; qty: number }>;
  proposedLines: Array<{ sku: string; qty: number }>;
  decision?: ReviewDecision;
  decidedBy?: string;
  decidedAt?: Date;
  /** What the decision did: charged, debt, nothing_due, waived, refunded … */
  outcome?: string;
  /** Semi-automatic decisions: paid, decided, difference (see payments/payment/order.machine.ts netReview). */
  netting?: { paidFen: number; decidedFen: number; differenceFen: number; againstOrderId?: string };
  note?: string;
  deadlineAt: Date;
  version: number;
}

export const reviewCaseSchema = new Schema<ReviewCaseDoc>(
  {
    _id: { type: String, default: () => new Types.ObjectId().toHexString() },
    caseId: { type: String, required: true },
    visitId: String,
    orderId: String,
    cabinetId: { type: String, required: true },
    siteId: { type: String, required: true },
    shopperId: String,
    flow: { type: String, enum: ['open', 'semi', 'auto'], required: true },
    reason: { type: String, enum: ['low_confidence', 'discrepancy', 'unreadable', 'appeal'], required: true },
    status: { type: String, enum: ['open', 'decided'], required: true },
    evidence: { type: Schema.Types.Mixed },
    recognised: { type: [new Schema({ sku: String, qty: Number, confidence: Number }, { _id: false })], default: [] },
    paidLines: { type: [new Schema({ sku: String, qty: Number }, { _id: false })], default: undefined },
    proposedLines: { type: [new Schema({ sku: String, qty: Number }, { _id: false })], default: [] },
    decision: { type: String, enum: ['confirm', 'adjust', 'waive'] },
    decidedBy: String,
    decidedAt: Date,
    outcome: String,
    netting: { type: Schema.Types.Mixed },
    note: String,
    deadlineAt: { type: Date, required: true },
    version: { type: Number, default: 0 },
  },
  { collection: 'review_cases', timestamps: true },
);
reviewCaseSchema.index({ caseId: 1 }, { unique: true });
reviewCaseSchema.index({ siteId: 1, status: 1, deadlineAt: 1 });
reviewCaseSchema.index({ visitId: 1 });

/** A cabinet alarm: raised once when its condition has lasted, cleared when it ends. */
export interface AlarmDoc {
  cabinetId: string;
  siteId: string;
  kind: 'door_forced' | 'door_left_open' | 'tamper' | 'temperature' | 'camera_fault';
  raisedAt: Date;
  clearedAt?: Date;
  detail?: string;
  /** Set by the console's alarm centre (the cabinet actor only raises and clears). */
  acknowledgedBy?: string;
  acknowledgedAt?: Date;
  assignee?: string;
  notes?: Array<{ at: Date; by: string; text: string }>;
  /** Webhook messages sent about it (first one and reminders), for the repeat schedule. */
  notifiedAt?: Date[];
}

export const alarmSchema = new Schema<AlarmDoc>(
  {
    cabinetId: { type: String, required: true },
    siteId: { type: String, required: true },
    kind: { type: String, enum: ['door_forced', 'door_left_open', 'tamper', 'temperature', 'camera_fault'], required: true },
    raisedAt: { type: Date, required: true },
    clearedAt: Date,
    detail: String,
    acknowledgedBy: String,
    acknowledgedAt: Date,
    assignee: String,
    notes: { type: [new Schema({ at: Date, by: String, text: String }, { _id: false })], default: undefined },
    notifiedAt: { type: [Date], default: undefined },
  },
  { collection: 'alarms' },
);
alarmSchema.index({ cabinetId: 1, kind: 1, raisedAt: -1 });
alarmSchema.index({ siteId: 1, raisedAt: -1 });

export interface AuditDoc {
  at: Date;
  actorId: string;
  actorRole: string;
  action: string;
  objectType: string;
  objectId: string;
  siteId?: string;
  before: unknown;
  after: unknown;
}

export const auditSchema = new Schema<AuditDoc>(
  {
    at: { type: Date, required: true },
    actorId: { type: String, required: true },
    actorRole: { type: String, required: true },
    action: { type: String, required: true },
    objectType: { type: String, required: true },
    objectId: { type: String, required: true },
    siteId: String,
    before: { type: Schema.Types.Mixed },
    after: { type: Schema.Types.Mixed },
  },
  { collection: 'audit_log', minimize: false },
);
auditSchema.index({ objectType: 1, objectId: 1, at: -1 });
auditSchema.index({ actorId: 1, at: -1 });
auditSchema.index({ siteId: 1, at: -1 });

/** The audit log is append-only: every update or delete through the model is refused. */
const refuse = function (this: Query<unknown, unknown>) {
  throw new Error('audit_log is append-only');
};
for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete', 'findOneAndReplace'] as const) {
  auditSchema.pre(op, refuse);
}
auditSchema.pre('save', function () {
  if (!this.isNew) throw new Error('audit_log is append-only');
});

export function oversightModels(conn: Connection) {
  return {
    ReviewCase: conn.model<ReviewCaseDoc>('ReviewCase', reviewCaseSchema),
    Alarm: conn.model<AlarmDoc>('Alarm', alarmSchema),
    Audit: conn.model<AuditDoc>('Audit', auditSchema),
  };
}
