import type { RefundDoc } from '../../store/models/commerce';
import { notifyUrl } from '../wechatpay/wechat.config';
import type { Cmd, MoneyContext } from './money.context';
import { decideRefund, outRefundNoFor } from './payment.machine';
import type { RefundOrder, RefundReply } from './payment.protocol';

/**
 * Refunds of a paid order: numbered by the caller's refund key (the same key is the same refund), never
 * more than was paid (counting refunds pending or done), recorded `pending` before WeChat is asked and
 * settled by its answer, its notification or a query.
 */
export class Refunds {
  constructor(private readonly ctx: MoneyContext) {}

  async refund(cmd: Cmd<RefundOrder>): Promise<RefundReply> {
    const { orders, refunds } = this.ctx.records;
    const order = await orders.read(cmd.orderId);
    if (!order || order.shopperId !== cmd.shopperId) return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'unknown_order' };
    const outRefundNo = outRefundNoFor(cmd.orderId, cmd.refundKey);
    const existing = await refunds.read(outRefundNo);
    if (existing) {
      if (existing.amountFen !== cmd.amountFen) return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'invalid_amount', detail: 'this refund key was used with another amount' };
      if (existing.status === 'failed') return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'rejected_by_wechat' };
      return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: existing.amountFen };
    }
    const decision = decideRefund(order, await this.committed(cmd.orderId), cmd.amountFen);
    if (!decision.ok) return { type: 'RefundRefused', requestId: cmd.requestId, reason: decision.reason };
    const paid = (await this.ctx.parts.settlement.attemptsOf(cmd.orderId)).find((a) => a.status === 'succeeded');
    if (!paid) return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'not_paid' };
    if (!(await refunds.create({ outRefundNo, outTradeNo: paid.outTradeNo, orderId: cmd.orderId, amountFen: cmd.amountFen, reason: cmd.reason, requestedBy: cmd.requestedBy }))) return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: cmd.amountFen };
    const r = await this.ctx.d.v3.refund({ outRefundNo, outTradeNo: paid.outTradeNo, refundFen: cmd.amountFen, totalFen: paid.amountFen, reason: cmd.reason.slice(0, 80), notifyUrl: notifyUrl(this.ctx.d.config, 'v3') });
    if (r.ok) {
      if (r.value.status === 'SUCCESS') await this.settled(outRefundNo, 'succeeded', r.value.refund_id);
      else await refunds.noteRefundId(outRefundNo, r.value.refund_id);
      return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: cmd.amountFen };
    }
    if (r.failure.outcome === 'rejected') {
      await this.settled(outRefundNo, 'failed', undefined, 'REJECTED');
      return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'rejected_by_wechat', detail: `${r.failure.code}: ${r.failure.message}` };
    }
    // Unknown: the refund stays pending; the notification or a query settles it (same out_refund_no).
    return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: cmd.amountFen };
  }

  /** Refunds of the order pending or succeeded (committed money), leaving out `except`. */
  async committed(orderId: string, except?: string): Promise<number> {
    return (await this.ctx.records.refunds.committed(orderId)).filter((r) => r.outRefundNo !== except).reduce((n, r) => n + r.amountFen, 0);
  }

  /** Query a pending refund and record its outcome. */
  async resolve(outRefundNo: string): Promise<void> {
    const r = await this.ctx.d.v3.queryRefund(outRefundNo);
    if (!r.ok) return;
    if (r.value.status === 'SUCCESS') await this.settled(outRefundNo, 'succeeded', r.value.refund_id);
    else if (r.value.status === 'CLOSED' || r.value.status === 'ABNORMAL') await this.settled(outRefundNo, 'failed', r.value.refund_id, r.value.status);
  }

  /**
   * A pending refund's outcome, recorded once; a success goes on the ledger and moves the order. `wechatStatus`:
   * why it failed, in WeChat's words (CLOSED, ABNORMAL), or REJECTED when WeChat refused to create it.
   */
  async settled(outRefundNo: string, status: 'succeeded' | 'failed', refundId?: string, wechatStatus?: RefundDoc['wechatStatus']): Promise<void> {
    const { orders, refunds, repo } = this.ctx.records;
    const won = await refunds.move(outRefundNo, 'pending', status, { ...(refundId ? { refundId } : {}), ...(wechatStatus ? { wechatStatus } : {}) });
    if (!won || status !== 'succeeded') return;
    const refund = (await refunds.read(outRefundNo))!;
    const shopperId = (await orders.read(refund.orderId))?.shopperId ?? '';
    await repo.append({ kind: 'refund', ref: outRefundNo, shopperId, orderId: refund.orderId, amountFen: refund.amountFen, at: this.ctx.now() });
    for (let round = 0; round < 8; round++) {
      const order = (await orders.read(refund.orderId))!;
      const refunded = order.refundedFen + refund.amountFen;
      const next = refunded >= order.paidFen ? 'refunded' : 'partially_refunded';
      if (await orders.move(order, { status: next, refundedFen: refunded })) return;
    }
  }
}
