import { AppError } from '../common/errors';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { can, type Principal } from '../contracts/admin-api';
import type { WechatPayV3Client } from '../payments/wechatpay/v3.client';
import type { RefundRecords } from '../store/money/refunds';
import type { Models } from '../store/models';

export interface AbnormalRefundResult {
  outRefundNo: string;
  /** Our record's status afterwards: pending until WeChat's REFUND.SUCCESS (or a query) settles it. */
  status: 'pending';
  wechatStatus: string;
}

/**
 * The console's "refund abnormal → refund to another account" action (v3 apply-abnormal-refund). Our refund
 * record says `failed` for both CLOSED and ABNORMAL, so WeChat is asked first and only an ABNORMAL refund
 * is applied again, to the merchant's bank account (the operator then pays the shopper another way; a
 * shopper's other bank card would need their account number and name, which the console does not collect).
 * The record goes back to `pending` before WeChat is called, so the REFUND.SUCCESS that follows settles it
 * the ordinary way (order refunded); a refusal puts it back to `failed`; an unknown outcome stays pending
 * for the payments' refund polling to resolve.
 */
export class AbnormalRefundService {
  constructor(private readonly d: { models: Pick<Models, 'Refund' | 'Order' | 'Audit'>; refunds: Pick<RefundRecords, 'move'>; v3: Pick<WechatPayV3Client, 'queryRefund' | 'applyAbnormalRefund'> | undefined; clock: Clock; log: Logger }) {}

  async apply(p: Principal, outRefundNo: string): Promise<AbnormalRefundResult> {
    const refund = (await this.d.models.Refund.findOne({ _id: outRefundNo }).lean()) ?? (await this.d.models.Refund.findOne({ outRefundNo }).lean());
    const order = refund ? await this.d.models.Order.findOne({ _id: refund.orderId }).lean() : null;
    // Another site's refund reads as not found, as everywhere in the console.
    if (!refund || !order || !can(p, 'orders.view', order.siteId)) throw new AppError('NOT_FOUND', `no refund ${outRefundNo}`);
    if (!can(p, 'orders.refund', order.siteId)) throw new AppError('FORBIDDEN', `role ${p.role} may not refund`, { permission: 'orders.refund' });
    const v3 = this.d.v3;
    if (!v3) throw new AppError('UNAVAILABLE', 'WeChat is off (WECHAT_MODE=off)');
    if (refund.status !== 'failed') throw new AppError('CONFLICT', `refund ${outRefundNo} is ${refund.status}, not failed`);
    const q = await v3.queryRefund(refund.outRefundNo);
    if (!q.ok) throw new AppError(q.failure.outcome === 'unknown' ? 'UNAVAILABLE' : 'CONFLICT', `WeChat: ${q.failure.code} ${q.failure.message}`);
    if (q.value.status !== 'ABNORMAL') throw new AppError('CONFLICT', `WeChat reports refund ${outRefundNo} ${q.value.status}, not ABNORMAL`);
    const id = String(refund._id ?? refund.outRefundNo);
    if (!(await this.d.refunds.move(id, 'failed', 'pending'))) throw new AppError('CONFLICT', `refund ${outRefundNo} changed meanwhile`);
    const r = await v3.applyAbnormalRefund(refund.outRefundNo, { type: 'MERCHANT_BANK_CARD' });
    if (!r.ok && r.failure.outcome === 'rejected') {
      await this.d.refunds.move(id, 'pending', 'failed');
      throw new AppError('CONFLICT', `WeChat refused: ${r.failure.code} ${r.failure.message}`);
    }
    const wechatStatus = r.ok ? r.value.status : 'unknown';
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action: 'refund.apply_abnormal', objectType: 'refund', objectId: refund.outRefundNo, siteId: order.siteId, before: { status: 'failed', wechat: 'ABNORMAL' }, after: { status: 'pending', wechat: wechatStatus, to: 'MERCHANT_BANK_CARD' } });
    if (!r.ok) this.d.log.warn({ outRefundNo, code: r.failure.code }, 'abnormal refund outcome unknown; the refund poll resolves it');
    return { outRefundNo: refund.outRefundNo, status: 'pending', wechatStatus };
  }
}
