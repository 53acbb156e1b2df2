import type { DebtDoc, OrderDoc, PaymentDoc } from '../../store/models/commerce';
import { observationFromFailure, observationFromPapay, observationFromTransaction } from './observations';
import type { MoneyContext } from './money.context';
import { TERMINAL, kindOf, nextAttemptStatus, orderAfterAttempt, outTradeNoFor, type Observation, type OrderEffect } from './payment.machine';

/** Order statuses after which no attempt moves the order any more (its copy is forgotten). */
const ORDER_SETTLED: ReadonlySet<string> = new Set(['paid', 'debt', 'waived', 'cancelled', 'partially_refunded', 'refunded']);

/**
 * What WeChat says about payment attempts, recorded, and the orders moved to follow: one state per attempt
 * (compare-and-set; duplicates and out-of-order arrivals change nothing), the order (and its debt) moved as
 * payment.machine.ts says, the money on the ledger. Unknown outcomes are resolved by asking WeChat.
 */
export class Settlement {
  constructor(private readonly ctx: MoneyContext) {}

  /** The order's attempts, found by their deterministic numbers (by `_id`), kind by kind until a gap. */
  async attemptsOf(orderId: string): Promise<PaymentDoc[]> {
    const out: PaymentDoc[] = [];
    for (const kind of ['P', 'J', 'C'] as const) out.push(...(await this.ctx.records.attempts.series((n) => outTradeNoFor(orderId, kind, n))));
    return out;
  }

  /**
   * Records what WeChat says about one attempt, then drives its order. Re-driving a settled attempt's order
   * is idempotent, so a process that died in between is repaired by the next duplicate or by recovery.
   */
  async observe(outTradeNo: string, obs: Observation): Promise<PaymentDoc | undefined> {
    const { attempts } = this.ctx.records;
    let known = attempts.remembered(outTradeNo);
    for (let round = 0; round < 8; round++) {
      const p = known ?? (await attempts.read(outTradeNo));
      if (!p) return undefined;
      if (obs.kind === 'succeeded' && obs.amountFen && obs.amountFen !== p.amountFen) {
        this.ctx.d.log.error({ outTradeNo, expected: p.amountFen, got: obs.amountFen }, 'WeChat reports a different amount: not recorded');
        return p;
      }
      const next = nextAttemptStatus(p.status, obs);
      if (next === p.status) {
        if (known) {
          // Nothing to write on a remembered copy: decide again on a fresh read.
          known = undefined;
          continue;
        }
        if (TERMINAL.has(p.status)) await this.settleOrder(p);
        return p;
      }
      if ((p.status === 'failed' || p.status === 'closed') && next === 'succeeded') this.ctx.d.log.warn({ outTradeNo, was: p.status }, 'late success after a local failure: money moved, recording it');
      const set: Record<string, unknown> = { status: next };
      if (obs.kind === 'succeeded') set.transactionId = obs.transactionId;
      if (obs.kind === 'failed') set.failureCode = obs.code;
      if (TERMINAL.has(next)) set.settledAt = this.ctx.now();
      const updated = await attempts.move(p, set);
      if (updated) {
        if (TERMINAL.has(next)) await this.settleOrder(updated);
        return updated;
      }
      known = undefined;
    }
    throw new Error(`could not record an observation for ${outTradeNo}: too much contention`);
  }

  /** Moves the attempt's order (and debt) to where the settled attempt says. */
  async settleOrder(p: PaymentDoc): Promise<void> {
    const { orders, repo } = this.ctx.records;
    // The money moved: on the ledger first (idempotent on the out_trade_no), whatever the order does next.
    if (p.status === 'succeeded') await repo.append({ kind: 'payment', ref: p.outTradeNo, shopperId: p.shopperId, orderId: p.orderId, amountFen: p.amountFen, at: this.ctx.now() });
    let known = orders.remembered(p.orderId);
    for (let round = 0; round < 8; round++) {
      const order = known ?? (await orders.read(p.orderId));
      if (!order) return;
      // A debt payment settles the debt even when its order was marked paid by a racing duplicate.
      const { status, effects } = orderAfterAttempt(order.status, p.channel, p.status, p.failureCode);
      if (status === order.status) {
        if (known) {
          known = undefined;
          continue;
        }
        await this.performOrderEffects(order, effects, p);
        this.forgetSettled(p, order);
        return;
      }
      const set: Record<string, unknown> = { status };
      if (status === 'paid') set.paidFen = p.amountFen;
      const updated = await orders.move(order, set);
      if (updated) {
        await this.performOrderEffects(updated, effects, p);
        this.forgetSettled(p, updated);
        return;
      }
      known = undefined;
    }
  }

  /** A settled attempt of a settled order is not written again soon: its copies need not be kept. */
  private forgetSettled(p: PaymentDoc, order: OrderDoc): void {
    if (!TERMINAL.has(p.status) || !ORDER_SETTLED.has(order.status)) return;
    this.ctx.records.attempts.forget(p.outTradeNo);
    this.ctx.records.orders.forget(order.orderId);
  }

  /** Performs an order's follow-up effects, the debt notifications included (each once: when its change is won). */
  private async performOrderEffects(order: OrderDoc, effects: OrderEffect[], p?: PaymentDoc): Promise<void> {
    const { debts } = this.ctx.parts;
    let cleared: DebtDoc | undefined;
    for (const e of effects) {
      switch (e.type) {
        case 'OpenDebt':
          await debts.openDebt(order, e.reason);
          break;
        case 'SettleDebt':
          cleared = await debts.settleDebt(order.orderId);
          break;
        case 'NotifyDebtCreated':
          await debts.notifyDebtCreated(order.orderId);
          break;
        case 'NotifyDebtCleared':
          if (cleared) await debts.message(cleared.shopperId, 'cleared', cleared.amountFen);
          break;
        case 'FlagLatePayment':
          this.ctx.d.log.warn({ orderId: order.orderId, outTradeNo: p?.outTradeNo, status: order.status }, 'payment arrived for an order no longer charged: refund it from the admin');
          break;
      }
    }
  }

  /** Asks WeChat about one attempt and records the answer; a papay attempt WeChat never saw is sent again. */
  async resolve(outTradeNo: string): Promise<PaymentDoc | undefined> {
    const { attempts, orders } = this.ctx.records;
    const p = await attempts.read(outTradeNo);
    if (!p) return undefined;
    // Nothing beats a success: its notification arrived first, there is nothing left to ask (its order
    // is driven again, which is idempotent, in case a process died before moving it).
    if (p.status === 'succeeded') {
      await this.settleOrder(p);
      return p;
    }
    const kind = kindOf(outTradeNo);
    let obs: Observation;
    if (kind === 'J') {
      const r = await this.ctx.d.v3.queryByOutTradeNo(outTradeNo);
      obs = r.ok ? observationFromTransaction(r.value) : observationFromFailure(r.failure);
    } else {
      const r = await this.ctx.d.papay.queryOrder(outTradeNo);
      obs = r.ok ? observationFromPapay(r.value) : observationFromFailure(r.failure);
    }
    const after = await this.observe(outTradeNo, obs);
    if (after && after.status === 'created' && kind === 'P') {
      const order = await orders.read(after.orderId);
      if (order && (order.status === 'draft' || order.status === 'awaiting_payment' || order.status === 'debt')) {
        // Same number: WeChat deducts an out_trade_no at most once, so resending cannot double-charge.
        await this.ctx.parts.deductions.send(after);
        return (await attempts.read(outTradeNo)) ?? after;
      }
    }
    return after;
  }

  /** Asks WeChat about every unsettled attempt of an order; true when one is still undecided after that. */
  async settleAttempts(orderId: string): Promise<boolean> {
    return (await this.resolveOpenAttempts(orderId)).some((a) => !TERMINAL.has(a.status));
  }

  /** Resolves every attempt of the order that is not settled, before anything new is tried. */
  async resolveOpenAttempts(orderId: string): Promise<PaymentDoc[]> {
    const attempts = await this.attemptsOf(orderId);
    for (const a of attempts) if (!TERMINAL.has(a.status)) await this.resolve(a.outTradeNo);
    return this.attemptsOf(orderId);
  }
}
