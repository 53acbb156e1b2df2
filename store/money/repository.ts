import { createHash } from 'node:crypto';
import { isDuplicateKey } from '../connection';
import { createGrouped } from '../cas';
import type { Models } from '../models';
import type { IdempotencyDoc, LedgerEntryDoc, LedgerKind, OrderDoc, OrderStatus, PaymentInboxDoc } from '../models/commerce';
import { naturalKeys } from '../natural-keys';

/**
 * The store seam for money: orders as they are created, the append-only money ledger, and the shoppers'
 * idempotency keys. With the payment actor's service (payments/payment/) it is the only code that writes
 * the Order, Payment, Debt, Refund, Contract and inbox models (a test enforces it). Keying is chosen once
 * here: every record is read by `_id` (FerretDB v1 pushes down nothing else), inserts are the atomic step
 * (E11000 = already recorded), and status moves go through compare-and-set (store/cas.ts).
 */
export type MoneyModels = Pick<Models, 'Order' | 'Payment' | 'Debt' | 'Refund' | 'Contract' | 'PaymentInbox' | 'LedgerEntry' | 'Idempotency' | 'InboxDone'>;

/** A new order: its identity, what it bills, and the status it starts in. */
export type NewOrder = Pick<OrderDoc, 'orderId' | 'shopperId' | 'cabinetId' | 'siteId' | 'visitId' | 'flow' | 'source' | 'lines' | 'totalFen' | 'pricedAt'> & { status: Extract<OrderStatus, 'draft' | 'held_for_review' | 'debt'>; netting?: OrderDoc['netting'] };

export interface LedgerAppend {
  kind: LedgerKind;
  /** What makes the movement unique (out_trade_no, out_refund_no, debt id): the entry's key is `<kind>:<ref>`. */
  ref: string;
  shopperId: string;
  orderId: string;
  amountFen: number;
  reason?: string;
  at: Date;
}

export const ledgerKey = (kind: LedgerKind, ref: string): string => `${kind}:${ref}`;

export class MoneyRepository {
  constructor(readonly models: MoneyModels) {}

  /** Creates the order unless it exists (unique orderId); returns the stored one either way. */
  async createOrder(o: NewOrder): Promise<{ orderId: string; totalFen: number; status: OrderStatus; created: boolean }> {
    try {
      await this.models.Order.create({ ...o, outTradeNo: `CF-${o.orderId}`, paidFen: 0, refundedFen: 0 });
      return { orderId: o.orderId, totalFen: o.totalFen, status: o.status, created: true };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const existing = await naturalKeys.findOne(this.models.Order, o.orderId, { orderId: o.orderId }, { totalFen: 1, status: 1 });
      if (!existing) throw e;
      return { orderId: o.orderId, totalFen: existing.totalFen, status: existing.status, created: false };
    }
  }

  /**
   * Appends one movement to the ledger; a second append of the same movement (a retry, a replayed
   * notification, a recovery pass) meets the unique `_id` and writes nothing. Grouped with concurrent
   * appends into one insert at load.
   */
  async append(e: LedgerAppend): Promise<'appended' | 'already'> {
    const doc: LedgerEntryDoc = { _id: ledgerKey(e.kind, e.ref), kind: e.kind, shopperId: e.shopperId, orderId: e.orderId, amountFen: e.amountFen, ref: e.ref, at: e.at, ...(e.reason ? { reason: e.reason } : {}) };
    try {
      await createGrouped(this.models.LedgerEntry, doc as unknown as Record<string, unknown>);
      return 'appended';
    } catch (err) {
      if (isDuplicateKey(err)) return 'already';
      throw err;
    }
  }

  /** Persists a verified notification under its key (grouped); false when it was recorded already. */
  async recordNotification(n: Pick<PaymentInboxDoc, 'key' | 'type' | 'payload'> & { shopperId?: string }): Promise<boolean> {
    try {
      await createGrouped(this.models.PaymentInbox, { _id: n.key, ...n });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  /**
   * Claims a one-off duty (a notice to send once, e.g. `notice:D-…:created`): true for the one caller across
   * processes whose marker insert landed (the same done-marker collection as processed notifications).
   */
  async claimOnce(key: string, at: Date): Promise<boolean> {
    try {
      await createGrouped(this.models.InboxDone, { _id: key, at } as unknown as Record<string, unknown>);
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  /** Marks a recorded notification processed (an append; a replay meets E11000 and writes nothing). */
  async markProcessed(key: string, at: Date): Promise<void> {
    try {
      await createGrouped(this.models.InboxDone, { _id: key, at } as unknown as Record<string, unknown>);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }

  /** Notifications recorded and not yet processed (recovery replays them; both reads are start-up scans). */
  async unprocessedNotifications(): Promise<PaymentInboxDoc[]> {
    const [rows, done] = await Promise.all([this.models.PaymentInbox.find({ processedAt: { $exists: false } }).lean(), this.models.InboxDone.find({}, { _id: 1 }).lean()]);
    const processed = new Set(done.map((d) => d._id));
    return rows.filter((r) => !processed.has(r.key));
  }

  async ledgerOf(orderId: string): Promise<LedgerEntryDoc[]> {
    return this.models.LedgerEntry.find({ orderId }).lean();
  }

  /**
   * The order a shopper's request key made, or records `orderId` for it. The same key with another
   * request (a different cart) is refused by the caller (`conflict`).
   */
  async claimKey(shopperId: string, key: string, request: unknown, orderId: string, at: Date): Promise<{ orderId: string; conflict: boolean }> {
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('base64url');
    const _id = `${shopperId}:${key}`;
    try {
      await this.models.Idempotency.create({ _id, shopperId, key, orderId, fingerprint, at } satisfies IdempotencyDoc);
      return { orderId, conflict: false };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const known = (await this.models.Idempotency.findOne({ _id }).lean())!;
      return { orderId: known.orderId, conflict: known.fingerprint !== fingerprint };
    }
  }

  /** Everything the money audit reads, whole collections (an audit is a batch job, not a request path). */
  async everything() {
    const m = this.models;
    const [orders, payments, debts, refunds, ledger] = await Promise.all([m.Order.find({}).lean(), m.Payment.find({}).lean(), m.Debt.find({}).lean(), m.Refund.find({}).lean(), m.LedgerEntry.find({}).lean()]);
    return { orders, payments, debts, refunds, ledger };
  }
}
