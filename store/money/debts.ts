import { compareAndSet } from '../cas';
import { isDuplicateKey } from '../connection';
import type { DebtDoc, DebtStatus } from '../models/commerce';
import type { MoveGuard } from './guard';
import type { MoneyModels } from './repository';

/** Debts, one per order, keyed `_id = D-<orderId>`: created once (E11000 = already recorded), moved by compare-and-set. */
export class DebtRecords {
  constructor(
    private readonly models: Pick<MoneyModels, 'Debt'>,
    private readonly guard: MoveGuard,
  ) {}

  static idFor(orderId: string): string {
    return `D-${orderId}`;
  }

  async read(debtId: string): Promise<DebtDoc | undefined> {
    return (await this.models.Debt.findOne({ _id: debtId }).lean()) ?? undefined;
  }

  async statusOf(debtId: string): Promise<DebtStatus | undefined> {
    return (await this.models.Debt.findOne({ _id: debtId }, { status: 1 }).lean())?.status;
  }

  /** The shopper's debts still owed (open or reminded). */
  async owedBy(shopperId: string): Promise<DebtDoc[]> {
    return this.models.Debt.find({ shopperId, status: { $in: ['open', 'reminded'] } }).lean();
  }

  /** Records the order's debt; false when it was recorded already. */
  async create(d: Pick<DebtDoc, 'shopperId' | 'orderId' | 'amountFen' | 'reason'>): Promise<boolean> {
    const debtId = DebtRecords.idFor(d.orderId);
    try {
      await this.models.Debt.create({ _id: debtId, debtId, ...d, status: 'open' });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  /** Moves the debt from `from` to `to` (compare-and-set on the status); false when it had changed. */
  async move(debtId: string, from: DebtStatus, to: DebtStatus, at: Date): Promise<boolean> {
    this.guard('debt', from, to, debtId);
    return to === 'reminded'
      ? compareAndSet(this.models.Debt, { _id: debtId, status: from }, { status: to }, { push: { remindedAt: at } })
      : compareAndSet(this.models.Debt, { _id: debtId, status: from }, { status: to, settledAt: at });
  }
}
