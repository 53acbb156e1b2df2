import { Schema, Types, type Connection } from 'mongoose';
import type { FlowKind } from '../../contracts/domain';

const int = { type: Number, required: true, validate: { validator: Number.isInteger, message: '{PATH} must be an integer (fen)' } };

/** Order lifecycle. Moves only by compare-and-set on `status` (see store/cas.ts). */
export type OrderStatus =
  | 'draft' // cart being built (open shelf / semi) or recognition result not yet priced
  | 'held_for_review' // low confidence or discrepancy: never charged meanwhile
  | 'awaiting_payment' // JSAPI prepay issued, or deduction requested
  | 'paid'
  | 'debt' // charge refused or failed: the shopper owes it
  | 'waived'
  | 'cancelled'
  | 'partially_refunded'
  | 'refunded';
export type OrderSource = 'cart' | 'recognition' | 'review';

export interface OrderLine {
  sku: string;
  name: string;
  qty: number;
  unitPriceFen: number;
  amountFen: number;
}

export interface OrderDoc {
  /**
   * The order id itself for orders created from now on (FerretDB v1 pushes down only `_id` filters, so the
   * payment actors read and write an order by `_id`). Older orders keep their ObjectId: the path is Mixed so
   * neither kind is cast into the other.
   */
  _id?: unknown;
  orderId: string;
  /** Deterministic per order, so a retried charge can never become a second one. Unique. */
  outTradeNo: string;
  shopperId: string;
  cabinetId: string;
  siteId: string;
  visitId?: string;
  flow: FlowKind;
  source: OrderSource;
  lines: OrderLine[];
  totalFen: number;
  paidFen: number;
  refundedFen: number;
  status: OrderStatus;
  /** A review's pending order (or its cart): what was paid, decided and billed or refunded. */
  netting?: Netting;
  /** The moment the lines were priced at (the door's close for a visit, the checkout for an open shelf): the receipt says so. */
  pricedAt?: Date;
  version: number;
}

const lineSchema = new Schema<OrderLine>(
  { sku: { type: String, required: true }, name: String, qty: { ...int, min: 1 }, unitPriceFen: { ...int, min: 0 }, amountFen: { ...int, min: 0 } },
  { _id: false },
);

/** How a semi-automatic review's decision was netted against what the shopper had paid (integer fen). */
export interface Netting {
  /** Paid net of refunds for the visit's cart when the decision was taken. */
  paidFen: number;
  /** The decided value of what was taken. */
  decidedFen: number;
  /** decided − paid: > 0 billed as a pending order, < 0 refunded, 0 nothing. */
  differenceFen: number;
  /** The paid cart order the difference is netted against. */
  againstOrderId?: string;
}
const nettingSchema = new Schema<Netting>({ paidFen: { ...int }, decidedFen: { ...int, min: 0 }, differenceFen: { ...int }, againstOrderId: String }, { _id: false });

export const orderSchema = new Schema<OrderDoc>(
  {
    _id: {
      type: Schema.Types.Mixed,
      default: function (this: { orderId?: string }) {
        return this.orderId;
      },
    },
    orderId: { type: String, required: true },
    outTradeNo: { type: String, required: true },
    shopperId: { type: String, required: true },
    cabinetId: { type: String, required: true },
    siteId: { type: String, required: true },
    visitId: String,
    flow: { type: String, enum: ['open', 'semi', 'auto'], required: true },
    source: { type: String, enum: ['cart', 'recognition', 'review'], required: true },
    lines: { type: [lineSchema], default: [] },
    totalFen: { ...int, min: 0 },
    paidFen: { ...int, min: 0, default: 0 },
    refundedFen: { ...int, min: 0, default: 0 },
    status: {
      type: String,
      enum: ['draft', 'held_for_review', 'awaiting_payment', 'paid', 'debt', 'waived', 'cancelled', 'partially_refunded', 'refunded'],
      required: true,
    },
    netting: { type: nettingSchema, required: false },
    pricedAt: Date,
    version: { type: Number, default: 0 },
  },
  { collection: 'orders', timestamps: true },
);
orderSchema.index({ orderId: 1 }, { unique: true });
orderSchema.index({ outTradeNo: 1 }, { unique: true });
orderSchema.index({ shopperId: 1, createdAt: -1 });
orderSchema.index({ visitId: 1 });
orderSchema.index({ siteId: 1, status: 1 });

/**
 * Payment records use their natural key as a string `_id` (out_trade_no, out_refund_no, contract code,
 * debt id, inbox key) when the writer gives one: FerretDB v1 on SQLite pushes down only `_id` equality, so
 * every other filter scans the collection (46 ms at 2,000 documents on the CI machine). Without one, an
 * ObjectId hex string is generated.
 */
const naturalId = { type: String, default: () => new Types.ObjectId().toHexString() };

export type PaymentChannel = 'jsapi' | 'papay';
/** One attempt to collect an order's money through WeChat; `unknown` is resolved by a query before anything else. */
export type PaymentStatus = 'created' | 'pending' | 'unknown' | 'succeeded' | 'failed' | 'closed';

export interface PaymentDoc {
  /** The natural key when the writer sets it (see naturalId). */
  _id?: string;
  outTradeNo: string;
  orderId: string;
  shopperId: string;
  channel: PaymentChannel;
  amountFen: number;
  status: PaymentStatus;
  transactionId?: string;
  failureCode?: string;
  attempts: number;
  /** What the attempt collects: the order itself, or a debt left by a refused charge. */
  purpose?: 'order' | 'debt';
  /** JSAPI: the prepay_id and the time_expire sent, so a re-entry is byte-identical. */
  prepayId?: string;
  timeExpire?: string;
  /** papay: the contract the deduction was made against. */
  contractId?: string;
  /** papay: the body sent (what the shopper sees on the deduction), so a resend says the same. */
  description?: string;
  settledAt?: Date;
  version: number;
}

export const paymentSchema = new Schema<PaymentDoc>(
  {
    _id: naturalId,
    outTradeNo: { type: String, required: true },
    orderId: { type: String, required: true },
    shopperId: { type: String, required: true },
    channel: { type: String, enum: ['jsapi', 'papay'], required: true },
    amountFen: { ...int, min: 1 },
    status: { type: String, enum: ['created', 'pending', 'unknown', 'succeeded', 'failed', 'closed'], required: true },
    transactionId: String,
    failureCode: String,
    attempts: { type: Number, default: 0 },
    purpose: { type: String, enum: ['order', 'debt'] },
    prepayId: String,
    timeExpire: String,
    contractId: String,
    description: String,
    settledAt: Date,
    version: { type: Number, default: 0 },
  },
  { collection: 'payments', timestamps: true },
);
paymentSchema.index({ outTradeNo: 1 }, { unique: true });
paymentSchema.index({ shopperId: 1, createdAt: -1 });
paymentSchema.index({ orderId: 1 });

export type RefundStatus = 'pending' | 'succeeded' | 'failed';
export interface RefundDoc {
  /** The natural key when the writer sets it (see naturalId). */
  _id?: string;
  outRefundNo: string;
  outTradeNo: string;
  orderId: string;
  amountFen: number;
  reason: string;
  status: RefundStatus;
  refundId?: string;
  /**
   * A failed refund's cause: WeChat's refund_status (CLOSED is final; ABNORMAL, the shopper's card closed, may
   * be refunded again to another account), or REJECTED when WeChat refused to create it.
   */
  wechatStatus?: 'CLOSED' | 'ABNORMAL' | 'REJECTED';
  requestedBy: string;
  version: number;
}
export const refundSchema = new Schema<RefundDoc>(
  {
    _id: naturalId,
    outRefundNo: { type: String, required: true },
    outTradeNo: { type: String, required: true },
    orderId: { type: String, required: true },
    amountFen: { ...int, min: 1 },
    reason: { type: String, required: true },
    status: { type: String, enum: ['pending', 'succeeded', 'failed'], required: true },
    refundId: String,
    wechatStatus: { type: String, enum: ['CLOSED', 'ABNORMAL', 'REJECTED'] },
    requestedBy: { type: String, required: true },
    version: { type: Number, default: 0 },
  },
  { collection: 'refunds', timestamps: true },
);
refundSchema.index({ outRefundNo: 1 }, { unique: true });
refundSchema.index({ orderId: 1 });

/** Password-free deduction (papay) contract, as WeChat reports it. */
export type ContractStatus = 'signing' | 'active' | 'terminated';
export interface ContractDoc {
  /** The natural key when the writer sets it (see naturalId). */
  _id?: string;
  contractCode: string;
  shopperId: string;
  openid: string;
  planId: string;
  contractId?: string;
  status: ContractStatus;
  signedAt?: Date;
  terminatedAt?: Date;
  terminationReason?: string;
  version: number;
}
export const contractSchema = new Schema<ContractDoc>(
  {
    _id: naturalId,
    contractCode: { type: String, required: true },
    shopperId: { type: String, required: true },
    openid: { type: String, required: true },
    planId: { type: String, required: true },
    contractId: String,
    status: { type: String, enum: ['signing', 'active', 'terminated'], required: true },
    signedAt: Date,
    terminatedAt: Date,
    terminationReason: String,
    version: { type: Number, default: 0 },
  },
  { collection: 'contracts', timestamps: true },
);
contractSchema.index({ contractCode: 1 }, { unique: true });
contractSchema.index({ shopperId: 1, status: 1 });

/** Debt lifecycle: created (open) → reminded → paid | waived. An open or reminded debt blocks new visits everywhere. */
export type DebtStatus = 'open' | 'reminded' | 'paid' | 'waived';
export interface DebtDoc {
  /** The natural key when the writer sets it (see naturalId). */
  _id?: string;
  debtId: string;
  shopperId: string;
  orderId: string;
  amountFen: number;
  reason: string;
  status: DebtStatus;
  remindedAt: Date[];
  settledAt?: Date;
  version: number;
}
export const debtSchema = new Schema<DebtDoc>(
  {
    _id: naturalId,
    debtId: { type: String, required: true },
    shopperId: { type: String, required: true },
    orderId: { type: String, required: true },
    amountFen: { ...int, min: 1 },
    reason: { type: String, required: true },
    status: { type: String, enum: ['open', 'reminded', 'paid', 'waived'], required: true },
    remindedAt: { type: [Date], default: [] },
    settledAt: Date,
    version: { type: Number, default: 0 },
  },
  { collection: 'debts', timestamps: true },
);
debtSchema.index({ debtId: 1 }, { unique: true });
// At most one debt per order, however often the refusal is reported.
debtSchema.index({ orderId: 1 }, { unique: true });
debtSchema.index({ shopperId: 1, status: 1 });

/**
 * WeChat notifications as received, recorded before they are acknowledged. `key` is unique (event id, or
 * out_trade_no / contract code + change for v2), so a redelivery is recognised by E11000.
 */
export interface PaymentInboxDoc {
  /** The natural key when the writer sets it (see naturalId). */
  _id?: string;
  key: string;
  type: string;
  shopperId?: string;
  payload: string;
  processedAt?: Date;
}
export const paymentInboxSchema = new Schema<PaymentInboxDoc>(
  {
    _id: naturalId,
    key: { type: String, required: true },
    type: { type: String, required: true },
    shopperId: String,
    payload: { type: String, required: true },
    processedAt: Date,
  },
  { collection: 'payment_inbox', timestamps: true },
);
paymentInboxSchema.index({ key: 1 }, { unique: true });
paymentInboxSchema.index({ processedAt: 1 });

/**
 * A recorded notification was processed: appended (grouped with the others meanwhile) instead of a point
 * update of its inbox row, so processing one costs an insert share, not an update. Rows processed before
 * carry `processedAt` instead.
 */
export interface InboxDoneDoc {
  _id: string;
  at: Date;
}
export const inboxDoneSchema = new Schema<InboxDoneDoc>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { collection: 'payment_inbox_done', versionKey: false });

/** What one money movement was. */
export type LedgerKind = 'charge' | 'payment' | 'refund' | 'debt_raised' | 'debt_cleared' | 'waiver';
/**
 * The append-only money ledger: one entry per movement, keyed by the movement itself (`payment:<out_trade_no>`,
 * `refund:<out_refund_no>`, `debt_raised:<debtId>`, …) so a retry or a replay meets E11000 and writes nothing.
 * Never updated, never deleted; `money:audit` proves the records and WeChat's side against it.
 */
export interface LedgerEntryDoc {
  _id: string;
  kind: LedgerKind;
  shopperId: string;
  orderId: string;
  /** Always positive; the kind says which way it moves. */
  amountFen: number;
  /** out_trade_no, out_refund_no, debt id or review case the movement belongs to. */
  ref: string;
  reason?: string;
  at: Date;
}
export const ledgerEntrySchema = new Schema<LedgerEntryDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: ['charge', 'payment', 'refund', 'debt_raised', 'debt_cleared', 'waiver'], required: true },
    shopperId: { type: String, required: true },
    orderId: { type: String, required: true },
    amountFen: { ...int, min: 0 },
    ref: { type: String, required: true },
    reason: String,
    at: { type: Date, required: true },
  },
  { collection: 'money_ledger', versionKey: false },
);

/** One request key per shopper (`Idempotency-Key`): the order it made, so a retry is the same order. */
export interface IdempotencyDoc {
  _id: string;
  shopperId: string;
  key: string;
  orderId: string;
  /** Canonical request, to refuse the same key with another cart. */
  fingerprint: string;
  at: Date;
}
export const idempotencySchema = new Schema<IdempotencyDoc>(
  { _id: { type: String, required: true }, shopperId: { type: String, required: true }, key: { type: String, required: true }, orderId: { type: String, required: true }, fingerprint: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'idempotency_keys', versionKey: false },
);

/** One difference between WeChat's trade bill and our records, for finance. */
export type ReconciliationDiffKind = 'missing_in_bill' | 'missing_locally' | 'amount_mismatch' | 'state_mismatch' | 'refund_mismatch';
export interface ReconciliationDiff {
  kind: ReconciliationDiffKind;
  outTradeNo: string;
  outRefundNo?: string;
  ours?: string;
  theirs?: string;
}
export interface ReconciliationReportDoc {
  billDate: string;
  status: 'matched' | 'differences' | 'failed';
  billRows: number;
  localRecords: number;
  diffs: ReconciliationDiff[];
  error?: string;
  version: number;
}
export const reconciliationReportSchema = new Schema<ReconciliationReportDoc>(
  {
    billDate: { type: String, required: true },
    status: { type: String, enum: ['matched', 'differences', 'failed'], required: true },
    billRows: { type: Number, default: 0 },
    localRecords: { type: Number, default: 0 },
    diffs: { type: [new Schema<ReconciliationDiff>({ kind: { type: String, required: true }, outTradeNo: { type: String, required: true }, outRefundNo: String, ours: String, theirs: String }, { _id: false })], default: [] },
    error: String,
    version: { type: Number, default: 0 },
  },
  { collection: 'reconciliation_reports', timestamps: true },
);
reconciliationReportSchema.index({ billDate: 1 }, { unique: true });

export function commerceModels(conn: Connection) {
  return {
    Order: conn.model<OrderDoc>('Order', orderSchema),
    Payment: conn.model<PaymentDoc>('Payment', paymentSchema),
    Refund: conn.model<RefundDoc>('Refund', refundSchema),
    Contract: conn.model<ContractDoc>('Contract', contractSchema),
    Debt: conn.model<DebtDoc>('Debt', debtSchema),
    PaymentInbox: conn.model<PaymentInboxDoc>('PaymentInbox', paymentInboxSchema),
    ReconciliationReport: conn.model<ReconciliationReportDoc>('ReconciliationReport', reconciliationReportSchema),
    LedgerEntry: conn.model<LedgerEntryDoc>('LedgerEntry', ledgerEntrySchema),
    Idempotency: conn.model<IdempotencyDoc>('Idempotency', idempotencySchema),
    InboxDone: conn.model<InboxDoneDoc>('InboxDone', inboxDoneSchema),
  };
}
