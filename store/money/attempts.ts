import { compareAndSet, compareAndSetFrom, createGrouped, type CasExtra } from '../cas';
import type { PaymentDoc, PaymentStatus } from '../models/commerce';
import type { MoveGuard } from './guard';
import { Remembered } from './remembered';
import type { MoneyModels } from './repository';

/**
 * Payment attempts, keyed `_id = out_trade_no`. An attempt is inserted (grouped with other shoppers'
 * inserts meanwhile) before it is sent to WeChat, and moved by grouped compare-and-set, checked against the
 * lifecycle first. The numbers are deterministic (payments/payment/payment.machine.ts outTradeNoFor), so an
 * order's attempts are found by point reads of its numbers rather than by a query FerretDB would scan for.
 */
export class AttemptRecords {
  private readonly known = new Remembered<PaymentDoc>();

  constructor(
    private readonly models: Pick<MoneyModels, 'Payment'>,
    private readonly guard: MoveGuard,
  ) {}

  remembered(outTradeNo: string): PaymentDoc | undefined {
    return this.known.get(outTradeNo);
  }

  /** The attempt, read fresh by `_id`. */
  async read(outTradeNo: string): Promise<PaymentDoc | undefined> {
    const p = await this.models.Payment.findOne({ _id: outTradeNo }).lean();
    if (!p) {
      this.known.delete(outTradeNo);
      return undefined;
    }
    this.known.set(outTradeNo, p);
    return p;
  }

  /** The attempts numbered `numberFor(1)`, `numberFor(2)`, … up to the first number not stored. */
  async series(numberFor: (n: number) => string, max = 99): Promise<PaymentDoc[]> {
    const out: PaymentDoc[] = [];
    for (let n = 1; n <= max; n++) {
      const p = await this.read(numberFor(n));
      if (!p) break;
      out.push(p);
    }
    return out;
  }

  /** Inserts an attempt (grouped: one write for many shoppers at load); E11000 when it exists. */
  async create(doc: Omit<PaymentDoc, 'version'>): Promise<PaymentDoc> {
    const created = await createGrouped(this.models.Payment, doc);
    this.known.set(doc.outTradeNo, created);
    return created;
  }

  /** Moves the attempt from the copy given; the updated copy, or undefined when another writer moved it first. */
  async move(p: PaymentDoc, set: Record<string, unknown>, extra?: CasExtra): Promise<PaymentDoc | undefined> {
    if (typeof set.status === 'string') this.guard('attempt', p.status, set.status, p.outTradeNo);
    if (await compareAndSetFrom(this.models.Payment, { _id: p._id ?? p.outTradeNo, version: p.version ?? 0 }, set, { ...extra, grouped: true })) {
      const updated = { ...p, ...set, version: (p.version ?? 0) + 1 } as PaymentDoc;
      this.known.set(p.outTradeNo, updated);
      return updated;
    }
    this.known.delete(p.outTradeNo);
    return undefined;
  }

  /** Records the prepay WeChat answered for an attempt still in `from`; the attempt is `pending` after. */
  async recordPrepay(outTradeNo: string, from: PaymentStatus, prepayId: string): Promise<boolean> {
    this.guard('attempt', from, 'pending', outTradeNo);
    const won = await compareAndSet(this.models.Payment, { _id: outTradeNo, status: from }, { prepayId, status: 'pending' });
    this.known.delete(outTradeNo);
    return won;
  }

  /** Which shopper an attempt belongs to: from a remembered copy when there is one, else one projected read. */
  async shopperOf(outTradeNo: string): Promise<string | undefined> {
    return this.known.get(outTradeNo)?.shopperId ?? (await this.models.Payment.findOne({ _id: outTradeNo }, { shopperId: 1 }).lean())?.shopperId;
  }

  /** Attempts whose outcome is not settled (a start-up scan). */
  async unsettled(): Promise<string[]> {
    return (await this.models.Payment.find({ status: { $in: ['created', 'pending', 'unknown'] } }, { outTradeNo: 1 }).lean()).map((p) => p.outTradeNo);
  }

  /** Attempts settled since `since` (a start-up scan: their orders may not have followed). */
  async settledSince(since: Date): Promise<PaymentDoc[]> {
    return this.models.Payment.find({ status: { $in: ['succeeded', 'failed'] }, settledAt: { $gte: since } }).lean();
  }

  forget(outTradeNo: string): void {
    this.known.delete(outTradeNo);
  }
}
