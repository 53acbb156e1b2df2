import { AppError } from '../../common/errors';
import type { Netting } from '../../store/models/commerce';
import { netReview, nettingOutcome } from './order.machine';
import { outRefundNoFor } from './payment.machine';
import type { Cmd } from './money.context';
import type { RefundOrder, RefundReply, ReviewBilled, ReviewToBill } from './payment.protocol';
import type { NewOrder } from '../../store/money/repository';
import type { OrderDoc } from '../../store/models/commerce';

/** What billing a review asks of the payment service (its own shopper's, serialised by the actor). */
export interface ReviewMoney {
  readOrder(orderId: string): Promise<OrderDoc | undefined>;
  settleAttempts(orderId: string): Promise<boolean>;
  closeOrder(orderId: string): Promise<OrderDoc['status'] | undefined>;
  waiveDebt(orderId: string, why: string): Promise<boolean>;
  committedRefunds(orderId: string, except?: string): Promise<number>;
  raisePendingOrder(o: Omit<NewOrder, 'status' | 'source'>, reason: string): Promise<{ orderId: string; totalFen: number; debtId: string }>;
  refund(cmd: Cmd<RefundOrder>): Promise<RefundReply>;
}

/** The pending order of a reviewed visit: deterministic, so a resumed decision is the same order. */
export const pendingOrderIdFor = (visitIdOrCase: string): string => `Q${visitIdOrCase}`;
export const reviewRefundKey = (caseId: string): string => `review-${caseId}`;

/**
 * Bills a decided semi-automatic review by netting (order.machine's netReview): an unpaid cart is closed at
 * WeChat first (it can no longer be paid beside the decision), then the difference between the decided
 * value and what was paid is raised as a pending order (the shopper's debt), or the over-payment is refunded
 * to the original payment, or nothing moves. Idempotent: the pending order id and the refund key are
 * derived from the case, and the netting leaves out this case's own refund, so a resumed decision nets alike.
 */
export async function billReview(svc: ReviewMoney, r: ReviewToBill): Promise<ReviewBilled> {
  let paidFen = 0;
  let refundedFen = 0;
  let cart = r.cartOrderId ? await svc.readOrder(r.cartOrderId) : undefined;
  if (cart && cart.shopperId !== r.shopperId) cart = undefined;
  if (cart && (cart.status === 'awaiting_payment' || cart.status === 'draft')) {
    // A payment or deduction of the cart still in flight is asked about first: netting against a guess
    // would bill the decision beside a deduction that later fails into debt (or succeeds unseen).
    if (await svc.settleAttempts(cart.orderId)) throw new AppError('UNAVAILABLE', `a payment of order ${cart.orderId} is still in flight at WeChat; decide again shortly`);
    await svc.closeOrder(cart.orderId);
    cart = await svc.readOrder(cart.orderId);
  }
  if (cart?.status === 'debt') {
    // The decision replaces what the cart still owed: its debt is waived and the decided value billed instead.
    await svc.waiveDebt(cart.orderId, `review ${r.caseId}`);
    cart = await svc.readOrder(cart.orderId);
  }
  if (cart && (cart.status === 'paid' || cart.status === 'partially_refunded' || cart.status === 'refunded')) {
    paidFen = cart.paidFen;
    // Refunds already committed (pending or done) count as given back, except this case's own.
    refundedFen = await svc.committedRefunds(cart.orderId, outRefundNoFor(cart.orderId, reviewRefundKey(r.caseId)));
  }
  const { netting: base, money } = netReview({ decision: r.decision, paidFen, refundedFen, decidedFen: r.decidedFen });
  const netting: Netting = { ...base, ...(cart && paidFen > 0 ? { againstOrderId: cart.orderId } : {}) };
  switch (money.kind) {
    case 'bill': {
      const orderId = pendingOrderIdFor(r.visitId ?? r.caseId);
      await svc.raisePendingOrder({ orderId, shopperId: r.shopperId, cabinetId: r.cabinetId, siteId: r.siteId, flow: r.flow, lines: r.lines, totalFen: money.amountFen, netting, ...(r.pricedAt !== undefined ? { pricedAt: new Date(r.pricedAt) } : {}), ...(r.visitId ? { visitId: r.visitId } : {}) }, `review ${r.caseId}`);
      return { outcome: nettingOutcome(r.decision, netting), netting, orderId };
    }
    case 'refund': {
      const reply = await svc.refund({ requestId: `review-${r.caseId}`, shopperId: r.shopperId, orderId: cart!.orderId, amountFen: money.amountFen, reason: `复核退款 ${r.caseId}`, requestedBy: r.decidedBy, refundKey: reviewRefundKey(r.caseId) });
      const outcome = reply.type === 'RefundRequested' ? nettingOutcome(r.decision, netting) : `refund_refused: ${reply.type === 'RefundRefused' ? reply.reason : reply.code}`;
      return { outcome, netting, orderId: cart!.orderId };
    }
    case 'settled':
      return { outcome: nettingOutcome(r.decision, netting), netting, ...(cart ? { orderId: cart.orderId } : {}) };
  }
}
