import { isDuplicateKey } from '../../store/connection';
import type { OrderDoc } from '../../store/models/commerce';
import { notifyUrl } from '../wechatpay/wechat.config';
import { bodyOf, loadChargeable, toAwaiting, type Cmd, type MoneyContext } from './money.context';
import { rfc3339 } from './observations';
import { TERMINAL, kindOf, outTradeNoFor } from './payment.machine';
import type { PayOrder, PayReply } from './payment.protocol';

const JSAPI_PAY_WINDOW_MS = 15 * 60_000;

/**
 * Payments the shopper makes in the mini-program (JSAPI), pay-and-sign (contractorder) included, and the
 * close of an order whose pay window ended. Every re-entry sends WeChat the identical body under the same
 * number, so a retried checkout gets the same prepay rather than a second order.
 */
export class JsapiPayments {
  constructor(private readonly ctx: MoneyContext) {}

  /** Pay an order (or its debt) by JSAPI; optionally pay-and-sign when the shopper has no contract. */
  async pay(cmd: Cmd<PayOrder>, purpose: 'order' | 'debt' = 'order'): Promise<PayReply> {
    const { records, parts, d } = this.ctx;
    const loaded = await loadChargeable(this.ctx, cmd);
    if ('type' in loaded) return loaded;
    const attempts = await parts.settlement.resolveOpenAttempts(cmd.orderId);
    const order = (await records.orders.read(cmd.orderId))!;
    const paid = attempts.find((a) => a.status === 'succeeded');
    if (paid || order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded') return { type: 'OrderPaid', requestId: cmd.requestId, outTradeNo: paid?.outTradeNo ?? '', ...(paid?.transactionId ? { transactionId: paid.transactionId } : {}) };
    const liveDeduction = attempts.find((a) => !TERMINAL.has(a.status) && kindOf(a.outTradeNo) === 'P');
    if (liveDeduction) return { type: 'PaymentErrored', requestId: cmd.requestId, code: 'CONFLICT', message: 'a deduction for this order is in progress', retryable: true };
    await toAwaiting(this.ctx, order);

    const live = attempts.find((a) => !TERMINAL.has(a.status) && kindOf(a.outTradeNo) !== 'P');
    if (live?.prepayId && kindOf(live.outTradeNo) === 'C') return { type: 'PaymentPrepared', requestId: cmd.requestId, outTradeNo: live.outTradeNo, requestPayment: d.papay.requestPaymentFor(live.prepayId), signsContract: true };

    // A contract still `signing` (the shopper left the signing mini-program) does not stop pay-and-sign: it signs under that code.
    const hasContract = (await parts.contracts.of(cmd.shopperId)).some((c) => c.status === 'active');
    if (cmd.signContract && !hasContract && !live && !attempts.some((a) => kindOf(a.outTradeNo) === 'C')) return this.payAndSign(cmd, order, purpose);

    const n = live ? Number(live.outTradeNo.slice(3, 5)) : attempts.filter((a) => kindOf(a.outTradeNo) === 'J').length + 1;
    const outTradeNo = live?.outTradeNo ?? outTradeNoFor(order.orderId, 'J', n);
    let attempt = live;
    if (!attempt) {
      const timeExpire = rfc3339(d.clock.now() + JSAPI_PAY_WINDOW_MS);
      try {
        attempt = await records.attempts.create({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'jsapi', amountFen: order.totalFen, status: 'created', purpose, timeExpire, attempts: 1 });
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        attempt = (await records.attempts.read(outTradeNo))!;
      }
    }
    // Identical body on every re-entry (same number, description, amount, time_expire): WeChat returns the same prepay.
    const r = await d.v3.jsapiPrepay({ outTradeNo, description: bodyOf(cmd.description), amountFen: attempt.amountFen, openid: cmd.openid, timeExpire: attempt.timeExpire, attach: order.orderId, notifyUrl: notifyUrl(d.config, 'v3') });
    if (!r.ok) {
      if (r.failure.code === 'ORDERPAID' || r.failure.outcome === 'unknown') {
        const after = await parts.settlement.resolve(outTradeNo);
        if (after?.status === 'succeeded') return { type: 'OrderPaid', requestId: cmd.requestId, outTradeNo, ...(after.transactionId ? { transactionId: after.transactionId } : {}) };
      } else if (r.failure.code === 'ORDER_CLOSED') {
        await parts.settlement.observe(outTradeNo, { kind: 'closed' });
      }
      return { type: 'PaymentErrored', requestId: cmd.requestId, code: r.failure.code, message: r.failure.message, retryable: r.failure.retryable };
    }
    if (attempt.prepayId !== r.value.prepayId) await records.attempts.recordPrepay(outTradeNo, attempt.status, r.value.prepayId);
    else records.attempts.forget(outTradeNo);
    return { type: 'PaymentPrepared', requestId: cmd.requestId, outTradeNo, requestPayment: r.value.requestPayment, signsContract: false };
  }

  private async payAndSign(cmd: Cmd<PayOrder>, order: OrderDoc, purpose: 'order' | 'debt'): Promise<PayReply> {
    const { records, d } = this.ctx;
    const outTradeNo = outTradeNoFor(order.orderId, 'C', 1);
    const contractCode = await this.ctx.parts.contracts.codeToSign(cmd.shopperId, cmd.openid);
    try {
      await records.attempts.create({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'jsapi', amountFen: order.totalFen, status: 'created', purpose, attempts: 1 });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const r = await d.papay.contractOrder({ outTradeNo, body: bodyOf(cmd.description), totalFen: order.totalFen, openid: cmd.openid, attach: order.orderId, contractCode, requestSerial: d.papay.newRequestSerial(), displayAccount: cmd.openid.slice(-6) });
    if (!r.ok) return { type: 'PaymentErrored', requestId: cmd.requestId, code: r.failure.code, message: r.failure.message, retryable: r.failure.retryable };
    await records.attempts.recordPrepay(outTradeNo, 'created', r.value.prepayId);
    return { type: 'PaymentPrepared', requestId: cmd.requestId, outTradeNo, requestPayment: r.value.requestPayment, signsContract: true };
  }

  /**
   * The pay window ended: every JSAPI attempt of the unpaid order is closed at WeChat (so it can no longer be
   * paid), then the order is marked `cancelled`. A close that finds the order paid records the payment
   * instead (WeChat's ORDER_PAID, then a query). A deduction in flight is left alone. Idempotent.
   */
  async closeOrder(orderId: string): Promise<OrderDoc['status'] | undefined> {
    const { orders } = this.ctx.records;
    const { settlement } = this.ctx.parts;
    const order = await orders.read(orderId);
    if (!order) return undefined;
    if (order.status !== 'awaiting_payment' && order.status !== 'draft') return order.status;
    const attempts = await settlement.attemptsOf(orderId);
    if (attempts.some((a) => !TERMINAL.has(a.status) && kindOf(a.outTradeNo) === 'P')) return order.status;
    for (const a of attempts) {
      if (TERMINAL.has(a.status)) continue;
      const r = await this.ctx.d.v3.close(a.outTradeNo);
      if (r.ok) await settlement.observe(a.outTradeNo, { kind: 'closed' });
      else await settlement.resolve(a.outTradeNo);
    }
    const again = (await settlement.attemptsOf(orderId)).filter((a) => !TERMINAL.has(a.status));
    if (again.length) return (await orders.read(orderId))?.status;
    for (let round = 0; round < 8; round++) {
      const o = await orders.read(orderId);
      if (!o || (o.status !== 'awaiting_payment' && o.status !== 'draft')) return o?.status;
      if (await orders.move(o, { status: 'cancelled' })) return 'cancelled';
    }
    return (await orders.read(orderId))?.status;
  }
}
