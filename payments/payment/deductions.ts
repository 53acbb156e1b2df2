import { isDuplicateKey } from '../../store/connection';
import { DebtRecords } from '../../store/money/debts';
import type { OrderDoc, PaymentDoc } from '../../store/models/commerce';
import { bodyOf, loadChargeable, toAwaiting, type Cmd, type MoneyContext } from './money.context';
import { TERMINAL, isRefusal, kindOf, outTradeNoFor } from './payment.machine';
import type { ChargeOrder, ChargeReply } from './payment.protocol';

/**
 * Papay deductions (委托代扣): charging an order from the shopper's contract exactly once. Numbers are
 * deterministic and every attempt is persisted before it is sent; an attempt whose outcome is unknown is
 * asked about (Settlement.resolve) before anything new is tried, and a refusal records the debt.
 */
export class Deductions {
  constructor(private readonly ctx: MoneyContext) {}

  /** Deduct an order by papay. */
  async charge(cmd: Cmd<ChargeOrder>): Promise<ChargeReply> {
    const loaded = await loadChargeable(this.ctx, cmd);
    if ('type' in loaded) return loaded;
    if (loaded.status === 'draft') {
      const first = await this.firstDeduction(loaded, cmd.description, cmd.requestId);
      if (first) return first;
    }
    const attempts = await this.ctx.parts.settlement.resolveOpenAttempts(cmd.orderId);
    const order = (await this.ctx.records.orders.read(cmd.orderId))!;
    const paid = attempts.find((a) => a.status === 'succeeded');
    if (order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded' || paid) return { type: 'OrderPaid', requestId: cmd.requestId, outTradeNo: paid?.outTradeNo ?? '', ...(paid?.transactionId ? { transactionId: paid.transactionId } : {}) };
    if (order.status === 'debt') {
      const debt = await this.ctx.records.debts.read(DebtRecords.idFor(order.orderId));
      return { type: 'DebtRecorded', requestId: cmd.requestId, debtId: debt?.debtId ?? DebtRecords.idFor(order.orderId), reason: debt?.reason ?? 'PAYERROR' };
    }
    const live = attempts.find((a) => !TERMINAL.has(a.status));
    if (live) return live.status === 'pending' ? { type: 'DeductionAccepted', requestId: cmd.requestId, outTradeNo: live.outTradeNo } : { type: 'PaymentPending', requestId: cmd.requestId, outTradeNo: live.outTradeNo };
    return this.start(order, 'order', attempts, cmd.description, cmd.requestId);
  }

  /**
   * The common case in few round trips: a draft order has no attempt but possibly a P1 whose sender died
   * before moving the order on (JSAPI attempts only exist once the order left draft). So P1 is created
   * straight away; if it exists already, undefined sends the caller down the full path, which resolves it.
   */
  private async firstDeduction(order: OrderDoc, description: string, requestId: string): Promise<ChargeReply | undefined> {
    const contract = await this.ctx.parts.contracts.activeOf(order.shopperId);
    if (!contract) return undefined; // the full path records the debt
    const outTradeNo = outTradeNoFor(order.orderId, 'P', 1);
    let p: PaymentDoc;
    try {
      p = await this.ctx.records.attempts.create({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'papay', amountFen: order.totalFen, status: 'created', purpose: 'order', contractId: contract.contractId, description: bodyOf(description), attempts: 1 });
    } catch (e) {
      if (isDuplicateKey(e)) return undefined;
      throw e;
    }
    await this.recordCharge(p);
    return this.send(p, requestId);
  }

  /** The next deduction of an order (or of its debt), or the debt when the shopper has no contract. */
  async start(order: OrderDoc, purpose: 'order' | 'debt', attempts: PaymentDoc[], description: string, requestId: string): Promise<ChargeReply> {
    const contract = await this.ctx.parts.contracts.activeOf(order.shopperId);
    if (!contract) {
      if (order.status !== 'debt') {
        await toAwaiting(this.ctx, order);
        const debtId = await this.ctx.parts.debts.moveToDebt(order.orderId, 'NO_CONTRACT');
        return { type: 'DebtRecorded', requestId, debtId, reason: 'NO_CONTRACT' };
      }
      return { type: 'DebtRecorded', requestId, debtId: DebtRecords.idFor(order.orderId), reason: 'NO_CONTRACT' };
    }
    const n = attempts.filter((a) => kindOf(a.outTradeNo) === 'P').length + 1;
    const outTradeNo = outTradeNoFor(order.orderId, 'P', n);
    let p: PaymentDoc;
    try {
      p = await this.ctx.records.attempts.create({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'papay', amountFen: order.totalFen, status: 'created', purpose, contractId: contract.contractId, description: bodyOf(description), attempts: 1 });
    } catch (e) {
      // A concurrent request created this attempt: it owns the sending.
      if (isDuplicateKey(e)) return { type: 'PaymentPending', requestId, outTradeNo };
      throw e;
    }
    await this.recordCharge(p);
    return this.send(p, requestId);
  }

  /**
   * A deduction about to be sent, on the ledger (an append grouped with the other shoppers'). The order is
   * not moved to `awaiting_payment` for it (one point update fewer per deduction): a draft order with a
   * deduction goes straight to paid or debt when its result is known, and its attempt says it is charging.
   */
  private async recordCharge(p: PaymentDoc): Promise<void> {
    await this.ctx.records.repo.append({ kind: 'charge', ref: p.outTradeNo, shopperId: p.shopperId, orderId: p.orderId, amountFen: p.amountFen, at: this.ctx.now() });
  }

  /**
   * Sends a deduction persisted as `created` (again: same number and body, which WeChat deducts at most once).
   * An attempt stored before the body was kept is sent with the default body.
   */
  async send(p: PaymentDoc, requestId = 'resend'): Promise<ChargeReply> {
    const { settlement } = this.ctx.parts;
    const r = await this.ctx.d.papay.apply({ outTradeNo: p.outTradeNo, body: bodyOf(p.description ?? ''), totalFen: p.amountFen, contractId: p.contractId!, attach: p.orderId });
    await this.ctx.d.afterDeductionSent?.(p.outTradeNo);
    if (r.ok) {
      // Accepted is not written down: the attempt stays `created` until its result (notification or query).
      // Nothing reads the difference that a crash could lose: recovery queries both alike, and resending a
      // `created` deduction uses the same number, which WeChat deducts at most once. One write fewer each.
      return { type: 'DeductionAccepted', requestId, outTradeNo: p.outTradeNo };
    }
    const f = r.failure;
    if (f.outcome === 'unknown') {
      await settlement.observe(p.outTradeNo, { kind: 'unknown' });
      return { type: 'PaymentPending', requestId, outTradeNo: p.outTradeNo };
    }
    if (f.code === 'ORDERPAID' || f.code === 'INVALID_REQUEST') {
      const after = await settlement.resolve(p.outTradeNo);
      if (after?.status === 'succeeded') return { type: 'OrderPaid', requestId, outTradeNo: p.outTradeNo, ...(after.transactionId ? { transactionId: after.transactionId } : {}) };
      return { type: 'PaymentPending', requestId, outTradeNo: p.outTradeNo };
    }
    await settlement.observe(p.outTradeNo, { kind: 'failed', code: f.code });
    if (isRefusal(f.code)) {
      if (f.code === 'CONTRACT_NOT_EXIST') await this.ctx.parts.contracts.markGone(p.shopperId, p.contractId!);
      const debt = await this.ctx.records.debts.read(DebtRecords.idFor(p.orderId));
      return { type: 'DebtRecorded', requestId, debtId: debt?.debtId ?? DebtRecords.idFor(p.orderId), reason: f.code };
    }
    return { type: 'PaymentErrored', requestId, code: f.code, message: f.message, retryable: f.retryable };
  }
}
