import { compareAndSet } from '../cas';
import { isDuplicateKey } from '../connection';
import type { RefundDoc, RefundStatus } from '../models/commerce';
import type { MoveGuard } from './guard';
import type { MoneyModels } from './repository';

/** Refunds, keyed `_id = out_refund_no`: recorded `pending` before WeChat is asked, settled by compare-and-set. */
export class RefundRecords {
  constructor(
    private readonly models: Pick<MoneyModels, 'Refund'>,
    private readonly guard: MoveGuard,
  ) {}

  async read(outRefundNo: string): Promise<RefundDoc | undefined> {
    return (await this.models.Refund.findOne({ _id: outRefundNo }).lean()) ?? undefined;
  }

  /** The order's refunds pending or succeeded: money committed back to the shopper. */
  async committed(orderId: string): Promise<Array<Pick<RefundDoc, 'outRefundNo' | 'amountFen'>>> {
    return this.models.Refund.find({ orderId, status: { $in: ['pending', 'succeeded'] } }, { outRefundNo: 1, amountFen: 1 }).lean();
  }

  /** Refunds whose outcome is not known (a start-up scan). */
  async pending(): Promise<string[]> {
    return (await this.models.Refund.find({ status: 'pending' }, { outRefundNo: 1 }).lean()).map((r) => r.outRefundNo);
  }

  /** Records a refund as `pending`; false when its number exists already. */
  async create(r: Pick<RefundDoc, 'outRefundNo' | 'outTradeNo' | 'orderId' | 'amountFen' | 'reason' | 'requestedBy'>): Promise<boolean> {
    try {
      await this.models.Refund.create({ _id: r.outRefundNo, ...r, status: 'pending' });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  /** Records WeChat's refund id on a pending refund. */
  async noteRefundId(outRefundNo: string, refundId: string): Promise<void> {
    await compareAndSet(this.models.Refund, { _id: outRefundNo, status: 'pending' }, { refundId });
  }

  /** Moves the refund from `from` (compare-and-set on the status); false when it had changed. */
  async move(outRefundNo: string, from: RefundStatus, to: RefundStatus, set: Partial<Pick<RefundDoc, 'refundId' | 'wechatStatus'>> = {}): Promise<boolean> {
    this.guard('refund', from, to, outRefundNo);
    return compareAndSet(this.models.Refund, { _id: outRefundNo, status: from }, { status: to, ...set });
  }
}
