import type { DebtDoc, LedgerEntryDoc, OrderDoc, OrderStatus, PaymentDoc, PaymentStatus, RefundDoc } from '../../store/models/commerce';
import { assertMove, netReview, type ReviewDecision } from '../payment/order.machine';
import { decideRefund, nextAttemptStatus, orderAfterAttempt, TERMINAL, type Observation } from '../payment/payment.machine';
import type { MoneySnapshot } from './invariants';

/**
 * An in-memory interpreter of the money rules: the same pure functions the payment service asks
 * (payment.machine: attempts, orders after attempts, refunds; order.machine: lifecycle tables, netting),
 * with WeChat's side kept apart and its answers delivered late, twice or never until a recovery. The
 * property tests drive it with thousands of random sequences per run (cheap: no I/O) and check the money
 * invariants after each; the real actors on FerretDB are driven by fewer sequences of the same kind.
 */

export type ModelAction =
  | { type: 'order'; amountFen: number; visit: boolean }
  | { type: 'payJsapi'; order: number }
  | { type: 'deduct'; order: number; outcome: 'success' | 'refused' | 'lost' }
  | { type: 'wechatPays'; attempt: number }
  | { type: 'deliver'; note: number; twice: boolean }
  | { type: 'close'; order: number }
  | { type: 'refund'; order: number; amountFen: number; answerLost: boolean }
  | { type: 'review'; order: number; decision: ReviewDecision; decidedFen: number }
  | { type: 'recover' };

type Order = Pick<OrderDoc, 'orderId' | 'shopperId' | 'status' | 'totalFen' | 'paidFen' | 'refundedFen' | 'source' | 'visitId'>;
type Attempt = Pick<PaymentDoc, 'outTradeNo' | 'orderId' | 'status' | 'amountFen' | 'channel' | 'failureCode'>;

export class MoneyModel {
  readonly orders: Order[] = [];
  readonly attempts: Attempt[] = [];
  readonly debts = new Map<string, Pick<DebtDoc, 'debtId' | 'orderId' | 'status' | 'amountFen' | 'reason'>>();
  readonly refunds: Array<Pick<RefundDoc, 'outRefundNo' | 'orderId' | 'outTradeNo' | 'status' | 'amountFen'>> = [];
  readonly ledger = new Map<string, Pick<LedgerEntryDoc, '_id' | 'kind' | 'orderId' | 'amountFen' | 'ref'>>();
  readonly decisions: MoneySnapshot['decisions'] = [];
  /** WeChat's side: what it took and gave back, and the answers it owes us. */
  readonly wechatPaid = new Map<string, number>();
  readonly wechatRefunded = new Map<string, number>();
  readonly wechatClosed = new Set<string>();
  private readonly notes: Array<{ outTradeNo: string; obs: Observation }> = [];
  private readonly refundsInFlight: string[] = [];
  private seq = 0;

  private append(kind: LedgerEntryDoc['kind'], ref: string, orderId: string, amountFen: number): void {
    const _id = `${kind}:${ref}`;
    if (!this.ledger.has(_id)) this.ledger.set(_id, { _id, kind, ref, orderId, amountFen });
  }

  private move(o: Order, to: OrderStatus): void {
    assertMove('order', o.status, to, o.orderId);
    o.status = to;
  }

  private openDebt(o: Order, reason: string): void {
    const debtId = `D-${o.orderId}`;
    if (!this.debts.has(debtId)) this.debts.set(debtId, { debtId, orderId: o.orderId, status: 'open', amountFen: o.totalFen, reason });
    this.append('debt_raised', debtId, o.orderId, o.totalFen);
  }

  /** What the service's observe + settleOrder do with one observation of one attempt. */
  private observe(outTradeNo: string, obs: Observation): void {
    const a = this.attempts.find((x) => x.outTradeNo === outTradeNo)!;
    const next: PaymentStatus = nextAttemptStatus(a.status, obs);
    assertMove('attempt', a.status, next, outTradeNo);
    a.status = next;
    if (obs.kind === 'failed') a.failureCode = obs.code;
    if (!TERMINAL.has(a.status)) return;
    const o = this.orders.find((x) => x.orderId === a.orderId)!;
    if (a.status === 'succeeded') this.append('payment', outTradeNo, o.orderId, a.amountFen);
    const { status, effects } = orderAfterAttempt(o.status, a.channel, a.status, a.failureCode);
    if (status !== o.status) {
      this.move(o, status);
      if (status === 'paid') o.paidFen = a.amountFen;
    }
    for (const e of effects) {
      if (e.type === 'OpenDebt') this.openDebt(o, e.reason);
      if (e.type === 'SettleDebt') {
        const d = this.debts.get(`D-${o.orderId}`);
        if (d && (d.status === 'open' || d.status === 'reminded')) d.status = 'paid';
        if (d?.status === 'paid') this.append('debt_cleared', d.debtId, o.orderId, d.amountFen);
      }
    }
  }

  private newAttempt(o: Order, channel: 'jsapi' | 'papay'): Attempt {
    const a: Attempt = { outTradeNo: `${channel === 'papay' ? 'P' : 'J'}${++this.seq}-${o.orderId}`, orderId: o.orderId, status: 'created', amountFen: o.totalFen, channel };
    this.attempts.push(a);
    if (o.status === 'draft') this.move(o, 'awaiting_payment');
    return a;
  }

  private payable(o: Order | undefined): o is Order {
    return !!o && (o.status === 'draft' || o.status === 'awaiting_payment' || o.status === 'debt') && !this.attempts.some((a) => a.orderId === o.orderId && (!TERMINAL.has(a.status) || a.status === 'succeeded'));
  }

  private settleRefund(no: string): void {
    const r = this.refunds.find((x) => x.outRefundNo === no)!;
    if (r.status !== 'pending') return;
    r.status = 'succeeded';
    const o = this.orders.find((x) => x.orderId === r.orderId)!;
    this.append('refund', no, o.orderId, r.amountFen);
    o.refundedFen += r.amountFen;
    this.move(o, o.refundedFen >= o.paidFen ? 'refunded' : 'partially_refunded');
  }

  private refund(o: Order, amountFen: number, answerLost: boolean): void {
    const committed = this.refunds.filter((r) => r.orderId === o.orderId && r.status !== 'failed').reduce((n, r) => n + r.amountFen, 0);
    if (!decideRefund(o, committed, amountFen).ok) return;
    const paid = this.attempts.find((a) => a.orderId === o.orderId && a.status === 'succeeded')!;
    const no = `R${++this.seq}-${o.orderId}`;
    this.refunds.push({ outRefundNo: no, orderId: o.orderId, outTradeNo: paid.outTradeNo, status: 'pending', amountFen });
    this.wechatRefunded.set(no, amountFen);
    if (answerLost) this.refundsInFlight.push(no);
    else this.settleRefund(no);
  }

  apply(act: ModelAction): void {
    const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
    switch (act.type) {
      case 'order': {
        const n = this.orders.length + 1;
        this.orders.push({ orderId: `O${n}`, shopperId: 'S', status: 'draft', totalFen: act.amountFen, paidFen: 0, refundedFen: 0, source: 'cart', ...(act.visit ? { visitId: `V${n}` } : {}) });
        return;
      }
      case 'payJsapi': {
        const o = pick(this.orders, act.order);
        if (this.payable(o)) this.notes.push({ outTradeNo: this.newAttempt(o, 'jsapi').outTradeNo, obs: { kind: 'pending' } });
        return;
      }
      case 'deduct': {
        const o = pick(this.orders, act.order);
        if (!this.payable(o) || o.status === 'debt') return;
        const a = this.newAttempt(o, 'papay');
        if (act.outcome === 'success') {
          this.wechatPaid.set(a.outTradeNo, a.amountFen);
          this.notes.push({ outTradeNo: a.outTradeNo, obs: { kind: 'succeeded', transactionId: `T${a.outTradeNo}`, amountFen: a.amountFen } });
        } else if (act.outcome === 'refused') this.notes.push({ outTradeNo: a.outTradeNo, obs: { kind: 'failed', code: 'NOTENOUGH' } });
        else this.observe(a.outTradeNo, { kind: 'unknown' });
        return;
      }
      case 'wechatPays': {
        const a = pick(this.attempts.filter((x) => x.channel === 'jsapi' && !this.wechatPaid.has(x.outTradeNo) && !this.wechatClosed.has(x.outTradeNo)), act.attempt);
        if (!a) return;
        this.wechatPaid.set(a.outTradeNo, a.amountFen);
        this.notes.push({ outTradeNo: a.outTradeNo, obs: { kind: 'succeeded', transactionId: `T${a.outTradeNo}`, amountFen: a.amountFen } });
        return;
      }
      case 'deliver': {
        const i = this.notes.length ? act.note % this.notes.length : -1;
        if (i < 0) return;
        const n = this.notes[i]!;
        if (!act.twice) this.notes.splice(i, 1);
        this.observe(n.outTradeNo, n.obs);
        return;
      }
      case 'close': {
        // The pay window ended: WeChat closes what was not paid (a paid one answers ORDER_PAID, then a query).
        const o = pick(this.orders, act.order);
        if (!o || (o.status !== 'awaiting_payment' && o.status !== 'draft')) return;
        const live = this.attempts.filter((a) => a.orderId === o.orderId && !TERMINAL.has(a.status));
        if (live.some((a) => a.channel === 'papay')) return;
        for (const a of live) {
          if (this.wechatPaid.has(a.outTradeNo)) this.observe(a.outTradeNo, { kind: 'succeeded', transactionId: `T${a.outTradeNo}`, amountFen: a.amountFen });
          else {
            this.wechatClosed.add(a.outTradeNo);
            this.observe(a.outTradeNo, { kind: 'closed' });
          }
        }
        if (o.status === 'awaiting_payment' || o.status === 'draft') this.move(o, 'cancelled');
        return;
      }
      case 'refund': {
        const o = pick(this.orders, act.order);
        // An operator's refund by hand is for orders no review has netted (those are settled by the decision).
        if (o && !this.decisions.some((d) => d.visitId !== undefined && d.visitId === o.visitId)) this.refund(o, act.amountFen, act.answerLost);
        return;
      }
      case 'review': {
        // A semi-automatic visit's cart order, decided once: the difference billed or refunded (review.billing).
        const o = pick(this.orders.filter((x) => x.visitId && !this.decisions.some((d) => d.visitId === x.visitId)), act.order);
        if (!o || this.attempts.some((a) => a.orderId === o.orderId && !TERMINAL.has(a.status))) return;
        if (o.status === 'awaiting_payment' || o.status === 'draft') this.apply({ type: 'close', order: this.orders.indexOf(o) });
        if (o.status === 'awaiting_payment' || o.status === 'draft') return; // a deduction in flight: decided later
        // The decision replaces what the cart still owed: its debt is waived, the decided value billed instead.
        const owed = this.debts.get(`D-${o.orderId}`);
        if (o.status === 'debt' && owed) {
          owed.status = 'waived';
          this.move(o, 'waived');
          this.append('waiver', owed.debtId, o.orderId, owed.amountFen);
        }
        const paid = o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded';
        const committed = this.refunds.filter((r) => r.orderId === o.orderId && r.status !== 'failed').reduce((n, r) => n + r.amountFen, 0);
        const { netting, money } = netReview({ decision: act.decision, paidFen: paid ? o.paidFen : 0, refundedFen: paid ? committed : 0, decidedFen: act.decidedFen });
        this.decisions.push({ caseId: `R${o.visitId}`, visitId: o.visitId!, decidedFen: netting.decidedFen, decision: act.decision });
        if (money.kind === 'bill') {
          const q: Order = { orderId: `Q${o.visitId}`, shopperId: 'S', status: 'debt', totalFen: money.amountFen, paidFen: 0, refundedFen: 0, source: 'review', visitId: o.visitId! };
          this.orders.push(q);
          this.openDebt(q, `review R${o.visitId}`);
        } else if (money.kind === 'refund') this.refund(o, money.amountFen, false);
        return;
      }
      case 'recover':
        // Start-up: every answer WeChat owes is fetched (query), every lost refund answer asked again.
        while (this.notes.length) this.apply({ type: 'deliver', note: 0, twice: false });
        for (const a of this.attempts) if (!TERMINAL.has(a.status)) this.observe(a.outTradeNo, this.wechatPaid.has(a.outTradeNo) ? { kind: 'succeeded', transactionId: `T${a.outTradeNo}`, amountFen: a.amountFen } : { kind: 'pending' });
        while (this.refundsInFlight.length) this.settleRefund(this.refundsInFlight.shift()!);
        return;
    }
  }

  snapshot(): MoneySnapshot {
    return {
      orders: this.orders,
      payments: this.attempts,
      debts: [...this.debts.values()],
      refunds: this.refunds,
      ledger: [...this.ledger.values()],
      decisions: this.decisions,
      wechat: { paid: this.wechatPaid, refunded: this.wechatRefunded },
    };
  }
}
