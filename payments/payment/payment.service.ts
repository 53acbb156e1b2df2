import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import { compareAndSet, compareAndSetFrom, createGrouped, type CasExtra } from '../../store/cas';
import { isDuplicateKey } from '../../store/connection';
import { naturalKeys } from '../../store/natural-keys';
import { findShopperByOpenid } from '../../store/shoppers';
import { MoneyRepository } from '../../store/money.repository';
import { assertMove } from './order.machine';
import type { Models } from '../../store/models';
import type { DebtDoc, OrderDoc, PaymentDoc, PaymentStatus, RefundDoc } from '../../store/models/commerce';
import type { NewOrder } from '../../store/money.repository';
import type { MiniProgramClient } from '../wechatpay/miniprogram.client';
import type { InboundNotification } from '../wechatpay/notifications';
import { PAPAY_SIGNING_APPID, type PapayV2Client } from '../wechatpay/papay.client';
import type { WechatPayV3Client } from '../wechatpay/v3.client';
import type { WechatConfig } from '../wechatpay/wechat.config';
import { notifyUrl } from '../wechatpay/wechat.config';
import {
  ATTEMPT_KINDS,
  TERMINAL,
  contractCodeFor,
  decideRefund,
  isRefusal,
  nextAttemptStatus,
  orderAfterAttempt,
  outRefundNoFor,
  outTradeNoFor,
  visitGate,
  type AttemptKind,
  type Observation,
  type OrderEffect,
} from './payment.machine';
import { debtMessage, observationFromFailure, observationFromPapay, observationFromTransaction, rfc3339 } from './observations';
import { inboxKeyOf } from './notification.keys';
import type { ChargeOrder, ChargeReply, ClearDebts, ClearDebtsReply, PayOrder, PayReply, RefundOrder, RefundReply, SigningReply, StartSigning, VisitReply } from './payment.protocol';

/**
 * The effects of payments: reads and writes the records (compare-and-set only, see store/cas.ts), talks
 * to WeChat through the clients, and asks payment.machine.ts what each observation means. Callers
 * serialise per shopper (payment.actor.ts); correctness across processes rests on the unique indexes
 * (one Payment per out_trade_no, one Debt per order, one inbox row per notification) and on WeChat
 * charging an out_trade_no at most once.
 */

export type PaymentModels = Pick<Models, 'Order' | 'Payment' | 'Refund' | 'Contract' | 'Debt' | 'PaymentInbox' | 'Shopper' | 'LedgerEntry' | 'Idempotency' | 'InboxDone'>;

export interface PaymentServiceDeps {
  models: PaymentModels;
  v3: WechatPayV3Client;
  papay: PapayV2Client;
  config: WechatConfig;
  clock: Clock;
  log: Logger;
  /** Subscribe messages for debts; absent = none sent. */
  miniProgram?: MiniProgramClient;
  /** Test seam: called right after a deduction request returned, before its result is recorded. */
  afterDeductionSent?: (outTradeNo: string) => void | Promise<void>;
}

/** A command as the service takes it: without its reply ref and tag, with the actor's shopper. */
export type Cmd<T> = Omit<T, 'replyTo' | 'type'> & { shopperId: string };

const JSAPI_PAY_WINDOW_MS = 15 * 60_000;

const kindOf = (outTradeNo: string): AttemptKind => outTradeNo.charAt(2) as AttemptKind;

/** How many orders and payments the service remembers as compare-and-set starting points. */
const REMEMBERED = 20_000;

/** Order statuses after which no attempt moves the order any more (its copy is forgotten). */
const ORDER_SETTLED: ReadonlySet<string> = new Set(['paid', 'debt', 'waived', 'cancelled', 'partially_refunded', 'refunded']);

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
}

export class PaymentService {
  /** The money store seam: order creation, the ledger, request keys. */
  readonly repo: MoneyRepository;

  constructor(private readonly d: PaymentServiceDeps) {
    this.repo = new MoneyRepository(d.models);
  }

  private get m(): PaymentModels {
    return this.d.models;
  }

  /**
   * Orders are keyed `_id = orderId` (store/models/commerce.ts), so reading one is a point read on FerretDB.
   * Orders from before that keying have an ObjectId: found once by `orderId` (a scan), remembered here.
   */
  private readonly legacyOrderIds = new Map<string, unknown>();

  /**
   * The last copy of each order and payment this service read or wrote, with its version: the starting point
   * of the next compare-and-set on it, so a write does not re-read what was just read or written. A copy
   * made stale by another writer is harmless: its claim fails, and the writer reads afresh and decides
   * again (see compareAndSetFrom). Decisions that write nothing are always taken on a fresh read.
   */
  private readonly knownOrders = new Map<string, OrderDoc>();
  private readonly knownPayments = new Map<string, PaymentDoc>();

  /** The order, read fresh by `_id`. */
  async readOrder(orderId: string): Promise<OrderDoc | undefined> {
    return this.order(orderId);
  }

  /** Moves an order from the copy given (checked against the lifecycle table); undefined when another writer moved it. */
  async moveOrder(order: OrderDoc, set: Record<string, unknown>): Promise<OrderDoc | undefined> {
    return this.casOrder(order, set);
  }

  private async order(orderId: string): Promise<OrderDoc | undefined> {
    const legacy = this.legacyOrderIds.get(orderId);
    let o = (await this.m.Order.findOne({ _id: legacy ?? orderId }).lean()) as OrderDoc | null;
    if (!o && legacy === undefined) {
      o = await this.m.Order.findOne({ orderId }).lean();
      if (o) this.legacyOrderIds.set(orderId, o._id);
    }
    if (!o || o.orderId !== orderId) {
      this.knownOrders.delete(orderId);
      return undefined;
    }
    remember(this.knownOrders, orderId, o);
    return o;
  }

  /** The payment attempt, read fresh by `_id`. */
  private async payment(outTradeNo: string): Promise<PaymentDoc | undefined> {
    const p = await this.m.Payment.findOne({ _id: outTradeNo }).lean();
    if (!p) {
      this.knownPayments.delete(outTradeNo);
      return undefined;
    }
    remember(this.knownPayments, outTradeNo, p);
    return p;
  }

  /** Compare-and-set of an order from the copy given; the updated copy, or undefined when another writer moved it. */
  private async casOrder(order: OrderDoc, set: Record<string, unknown>): Promise<OrderDoc | undefined> {
    if (typeof set.status === 'string') assertMove('order', order.status, set.status, order.orderId);
    if (await compareAndSetFrom(this.m.Order, { _id: order._id ?? order.orderId, version: order.version ?? 0 }, set, { grouped: true })) {
      const updated = { ...order, ...set, version: (order.version ?? 0) + 1 } as OrderDoc;
      remember(this.knownOrders, order.orderId, updated);
      return updated;
    }
    this.knownOrders.delete(order.orderId);
    return undefined;
  }

  private async casPayment(p: PaymentDoc, set: Record<string, unknown>, extra?: CasExtra): Promise<PaymentDoc | undefined> {
    if (typeof set.status === 'string') assertMove('attempt', p.status, set.status, p.outTradeNo);
    if (await compareAndSetFrom(this.m.Payment, { _id: p._id ?? p.outTradeNo, version: p.version ?? 0 }, set, { ...extra, grouped: true })) {
      const updated = { ...p, ...set, version: (p.version ?? 0) + 1 } as PaymentDoc;
      remember(this.knownPayments, p.outTradeNo, updated);
      return updated;
    }
    this.knownPayments.delete(p.outTradeNo);
    return undefined;
  }

  /** The order's attempts, found by their deterministic numbers (by `_id`), kind by kind until a gap. */
  async attemptsOf(orderId: string): Promise<PaymentDoc[]> {
    const out: PaymentDoc[] = [];
    for (const kind of ['P', 'J', 'C'] as const) {
      for (let n = 1; n <= 99; n++) {
        const p = await this.payment(outTradeNoFor(orderId, kind, n));
        if (!p) break;
        out.push(p);
      }
    }
    return out;
  }

  /**
   * Active contract per shopper, as last read here. Dropped on every contract notification and whenever a
   * deduction finds the contract gone; a contract ended by another process is caught by WeChat's
   * CONTRACT_NOT_EXIST on the next deduction, which records a debt.
   */
  private readonly activeContracts = new Map<string, { contractCode: string; contractId: string }>();

  private async activeContract(shopperId: string): Promise<{ contractCode: string; contractId: string } | undefined> {
    const known = this.activeContracts.get(shopperId);
    if (known) return known;
    const c = (await this.contractsOf(shopperId, true)).find((x) => x.status === 'active' && x.contractId);
    if (!c?.contractId) return undefined;
    const found = { contractCode: c.contractCode, contractId: c.contractId };
    this.activeContracts.set(shopperId, found);
    return found;
  }

  /**
   * The shopper's contracts, found by their deterministic codes (by `_id`) until a gap, or with
   * `untilActive` until the first active one: a new code is only ever made when none is active (and WeChat
   * keeps one contract per plan and user), so none after an active one can be active.
   */
  private async contractsOf(shopperId: string, untilActive = false): Promise<Array<{ contractCode: string; contractId?: string; status: string }>> {
    const out: Array<{ contractCode: string; contractId?: string; status: string }> = [];
    for (let seq = 1; seq <= 999; seq++) {
      const c = await this.m.Contract.findOne({ _id: contractCodeFor(shopperId, seq) }).lean();
      if (!c) break;
      out.push(c);
      if (untilActive && c.status === 'active') break;
    }
    return out;
  }

  // ---- queries ----------------------------------------------------------------------------------------

  async checkVisit(shopperId: string, requestId: string): Promise<VisitReply> {
    const debts = await this.m.Debt.find({ shopperId, status: { $in: ['open', 'reminded'] } }).lean();
    const gate = visitGate(debts);
    return gate.allowed ? { type: 'VisitAllowed', requestId } : { type: 'VisitBlocked', requestId, reason: 'debt', debts: gate.debts };
  }

  // ---- observations -----------------------------------------------------------------------------------

  /**
   * Records what WeChat says about one attempt: one state per attempt (compare-and-set; duplicates and
   * out-of-order arrivals change nothing), then drives its order. Re-driving a settled attempt's order is
   * idempotent, so a process that died in between is repaired by the next duplicate or by recovery.
   */
  async observe(outTradeNo: string, obs: Observation): Promise<PaymentDoc | undefined> {
    let known = this.knownPayments.get(outTradeNo);
    for (let round = 0; round < 8; round++) {
      const p = known ?? (await this.payment(outTradeNo));
      if (!p) return undefined;
      if (obs.kind === 'succeeded' && obs.amountFen && obs.amountFen !== p.amountFen) {
        this.d.log.error({ outTradeNo, expected: p.amountFen, got: obs.amountFen }, 'WeChat reports a different amount: not recorded');
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
      if ((p.status === 'failed' || p.status === 'closed') && next === 'succeeded') this.d.log.warn({ outTradeNo, was: p.status }, 'late success after a local failure: money moved, recording it');
      const set: Record<string, unknown> = { status: next };
      if (obs.kind === 'succeeded') set.transactionId = obs.transactionId;
      if (obs.kind === 'failed') set.failureCode = obs.code;
      if (TERMINAL.has(next)) set.settledAt = new Date(this.d.clock.now());
      const updated = await this.casPayment(p, set);
      if (updated) {
        if (TERMINAL.has(next)) await this.settleOrder(updated);
        return updated;
      }
      known = undefined;
    }
    throw new Error(`could not record an observation for ${outTradeNo}: too much contention`);
  }

  /** Moves the attempt's order (and debt) to where the settled attempt says. */
  private async settleOrder(p: PaymentDoc): Promise<void> {
    // The money moved: on the ledger first (idempotent on the out_trade_no), whatever the order does next.
    if (p.status === 'succeeded') await this.repo.append({ kind: 'payment', ref: p.outTradeNo, shopperId: p.shopperId, orderId: p.orderId, amountFen: p.amountFen, at: new Date(this.d.clock.now()) });
    let known = this.knownOrders.get(p.orderId);
    for (let round = 0; round < 8; round++) {
      const order = known ?? (await this.order(p.orderId));
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
      const updated = await this.casOrder(order, set);
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
    this.knownPayments.delete(p.outTradeNo);
    this.knownOrders.delete(order.orderId);
  }

  /** Performs an order's follow-up effects, the debt notifications included (each once: when its change is won). */
  async performOrderEffects(order: OrderDoc, effects: OrderEffect[], p?: PaymentDoc): Promise<void> {
    let cleared: DebtDoc | undefined;
    for (const e of effects) {
      switch (e.type) {
        case 'OpenDebt':
          await this.openDebt(order, e.reason);
          break;
        case 'SettleDebt':
          cleared = await this.settleDebt(order.orderId);
          break;
        case 'NotifyDebtCreated':
          await this.notifyDebtCreated(`D-${order.orderId}`);
          break;
        case 'NotifyDebtCleared':
          if (cleared) await this.message(cleared.shopperId, 'cleared', cleared.amountFen);
          break;
        case 'FlagLatePayment':
          this.d.log.warn({ orderId: order.orderId, outTradeNo: p?.outTradeNo, status: order.status }, 'payment arrived for an order no longer charged: refund it from the admin');
          break;
      }
    }
  }

  /** Records the order's debt (one per order) and its ledger entry; both idempotent. */
  private async openDebt(order: OrderDoc, reason: string): Promise<string> {
    const debtId = `D-${order.orderId}`;
    try {
      await this.m.Debt.create({ _id: debtId, debtId, shopperId: order.shopperId, orderId: order.orderId, amountFen: order.totalFen, reason, status: 'open' });
      this.d.log.info({ shopperId: order.shopperId, orderId: order.orderId, reason }, 'debt opened');
    } catch (e) {
      if (!isDuplicateKey(e)) throw e; // already recorded (one debt per order)
    }
    await this.repo.append({ kind: 'debt_raised', ref: debtId, shopperId: order.shopperId, orderId: order.orderId, amountFen: order.totalFen, reason, at: new Date(this.d.clock.now()) });
    return debtId;
  }

  /** The debt-created subscribe message, once: an open debt becomes `reminded` when it was sent. */
  private async notifyDebtCreated(debtId: string): Promise<void> {
    const debt = await this.m.Debt.findOne({ _id: debtId }).lean();
    if (!debt || debt.status !== 'open') return;
    if (await this.message(debt.shopperId, 'created', debt.amountFen)) {
      await compareAndSet(this.m.Debt, { _id: debtId, status: 'open' }, { status: 'reminded' }, { push: { remindedAt: new Date(this.d.clock.now()) } });
    }
  }

  /** Debt → paid; the debt when this call won the change (so its message is sent once), else undefined. */
  private async settleDebt(orderId: string): Promise<DebtDoc | undefined> {
    const debt = await this.m.Debt.findOne({ _id: `D-${orderId}` }).lean();
    if (!debt) return undefined;
    let won = false;
    if (debt.status === 'open' || debt.status === 'reminded') {
      won = await compareAndSet(this.m.Debt, { _id: debt.debtId, status: debt.status }, { status: 'paid', settledAt: new Date(this.d.clock.now()) });
      if (won) this.d.log.info({ shopperId: debt.shopperId, debtId: debt.debtId }, 'debt paid');
    }
    const now = await this.m.Debt.findOne({ _id: debt.debtId }, { status: 1 }).lean();
    if (now?.status === 'paid') await this.repo.append({ kind: 'debt_cleared', ref: debt.debtId, shopperId: debt.shopperId, orderId, amountFen: debt.amountFen, at: new Date(this.d.clock.now()) });
    return won ? debt : undefined;
  }

  /** Waives an open debt and its order (an operator's decision); idempotent. */
  async waiveDebt(orderId: string, why: string): Promise<boolean> {
    let debt = await this.m.Debt.findOne({ _id: `D-${orderId}` }).lean();
    if (!debt) return false;
    if (debt.status === 'open' || debt.status === 'reminded') {
      // The shopper may be paying it right now: its JSAPI attempts are closed at WeChat first (a close that
      // finds one paid records the payment, which clears the debt instead), a deduction is resolved.
      for (const a of await this.attemptsOf(orderId)) {
        if (TERMINAL.has(a.status)) continue;
        if (kindOf(a.outTradeNo) !== 'P' && (await this.d.v3.close(a.outTradeNo)).ok) await this.observe(a.outTradeNo, { kind: 'closed' });
        else await this.resolve(a.outTradeNo);
      }
      if ((await this.attemptsOf(orderId)).some((a) => !TERMINAL.has(a.status))) return false;
      debt = (await this.m.Debt.findOne({ _id: debt.debtId }).lean())!;
    }
    if (debt.status === 'open' || debt.status === 'reminded') await compareAndSet(this.m.Debt, { _id: debt.debtId, status: debt.status }, { status: 'waived', settledAt: new Date(this.d.clock.now()) });
    const after = await this.m.Debt.findOne({ _id: debt.debtId }, { status: 1 }).lean();
    if (after?.status !== 'waived') return false;
    const order = await this.order(orderId);
    if (order?.status === 'debt') await this.casOrder(order, { status: 'waived' });
    await this.repo.append({ kind: 'waiver', ref: debt.debtId, shopperId: debt.shopperId, orderId, amountFen: debt.amountFen, reason: why, at: new Date(this.d.clock.now()) });
    return true;
  }

  /**
   * A pending order (a review's difference, or raised by hand): stored unpaid as the shopper's debt, which
   * blocks the next visit until cleared; the debt message goes out. Idempotent on the order id.
   */
  async raisePendingOrder(o: Omit<NewOrder, 'status' | 'source'>, reason: string): Promise<{ orderId: string; totalFen: number; debtId: string }> {
    const created = await this.repo.createOrder({ ...o, source: 'review', status: 'debt' });
    const order = (await this.order(o.orderId))!;
    const debtId = await this.openDebt(order, reason);
    await this.notifyDebtCreated(debtId);
    return { orderId: o.orderId, totalFen: created.totalFen, debtId };
  }

  /** Subscribe message; an expected refusal (no quota: 43101) is logged, never thrown. */
  private async message(shopperId: string, what: 'created' | 'cleared', amountFen: number): Promise<boolean> {
    const templateId = what === 'created' ? this.d.config.debtCreatedTemplateId : this.d.config.debtClearedTemplateId;
    if (!this.d.miniProgram || !templateId) return false;
    const shopper = await naturalKeys.findOne(this.m.Shopper, shopperId, { shopperId }, { openid: 1 });
    if (!shopper) return false;
    const r = await this.d.miniProgram.sendSubscribeMessage({ touser: shopper.openid, templateId, ...debtMessage(what, amountFen, this.d.clock.now()) });
    if (!r.ok) this.d.log.info({ shopperId, errcode: r.errcode }, 'subscribe message not sent');
    return r.ok;
  }

  // ---- resolving unknown outcomes ---------------------------------------------------------------------

  /** Asks WeChat about one attempt and records the answer; a papay attempt WeChat never saw is sent again. */
  async resolve(outTradeNo: string): Promise<PaymentDoc | undefined> {
    const p = await this.payment(outTradeNo);
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
      const r = await this.d.v3.queryByOutTradeNo(outTradeNo);
      obs = r.ok ? observationFromTransaction(r.value) : observationFromFailure(r.failure);
    } else {
      const r = await this.d.papay.queryOrder(outTradeNo);
      obs = r.ok ? observationFromPapay(r.value) : observationFromFailure(r.failure);
    }
    const after = await this.observe(outTradeNo, obs);
    if (after && after.status === 'created' && kind === 'P') {
      const order = await this.order(after.orderId);
      if (order && (order.status === 'draft' || order.status === 'awaiting_payment' || order.status === 'debt')) {
        // Same number: WeChat deducts an out_trade_no at most once, so resending cannot double-charge.
        await this.sendDeduction(after, 'resend');
        return (await this.payment(outTradeNo)) ?? after;
      }
    }
    return after;
  }

  /** Asks WeChat about every unsettled attempt of an order; true when one is still undecided after that. */
  async settleAttempts(orderId: string): Promise<boolean> {
    return (await this.resolveOpenAttempts(orderId)).some((a) => !TERMINAL.has(a.status));
  }

  /** Resolves every attempt of the order that is not settled, before anything new is tried. */
  private async resolveOpenAttempts(orderId: string): Promise<PaymentDoc[]> {
    const attempts = await this.attemptsOf(orderId);
    for (const a of attempts) if (!TERMINAL.has(a.status)) await this.resolve(a.outTradeNo);
    return this.attemptsOf(orderId);
  }

  /** At start-up: resolve every unsettled attempt and process notifications recorded but not processed. */
  async recover(): Promise<{ resolved: number; notifications: number; refunds: number }> {
    const open = await this.m.Payment.find({ status: { $in: ['created', 'pending', 'unknown'] } }, { outTradeNo: 1 }).lean();
    for (const p of open) await this.resolve(p.outTradeNo);
    const inbox = await this.repo.unprocessedNotifications();
    for (const n of inbox) await this.processNotification(n.key, JSON.parse(n.payload) as InboundNotification);
    // Attempts settled lately whose order may not have followed (a process died in between).
    const settled = await this.m.Payment.find({ status: { $in: ['succeeded', 'failed'] }, settledAt: { $gte: new Date(this.d.clock.now() - 86_400_000) } }).lean();
    for (const p of settled) await this.settleOrder(p);
    // Refunds whose answer was lost: asked again (same out_refund_no), recorded when WeChat knows.
    const refunds = await this.m.Refund.find({ status: 'pending' }, { outRefundNo: 1 }).lean();
    for (const r of refunds) await this.resolveRefund(r.outRefundNo);
    return { resolved: open.length, notifications: inbox.length, refunds: refunds.length };
  }

  // ---- charging -----------------------------------------------------------------------------------------

  private async loadChargeable(cmd: { orderId: string; shopperId: string; amountFen: number; requestId: string }): Promise<OrderDoc | { type: 'ChargeRefused'; requestId: string; reason: 'unknown_order' | 'not_chargeable' | 'amount_mismatch' }> {
    const order = await this.order(cmd.orderId);
    if (!order || order.shopperId !== cmd.shopperId) return { type: 'ChargeRefused', requestId: cmd.requestId, reason: 'unknown_order' };
    if (order.totalFen !== cmd.amountFen) return { type: 'ChargeRefused', requestId: cmd.requestId, reason: 'amount_mismatch' };
    if (order.status === 'held_for_review' || order.status === 'waived' || order.status === 'cancelled') return { type: 'ChargeRefused', requestId: cmd.requestId, reason: 'not_chargeable' };
    return order;
  }

  /** Deduct an order by papay. Exactly once: deterministic numbers, unknown outcomes queried first. */
  async charge(cmd: Cmd<ChargeOrder>): Promise<ChargeReply> {
    const loaded = await this.loadChargeable(cmd);
    if ('type' in loaded) return loaded;
    if (loaded.status === 'draft') {
      const first = await this.firstDeduction(loaded, cmd.description, cmd.requestId);
      if (first) return first;
    }
    const attempts = await this.resolveOpenAttempts(cmd.orderId);
    const order = (await this.order(cmd.orderId))!;
    const paid = attempts.find((a) => a.status === 'succeeded');
    if (order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded' || paid) return { type: 'OrderPaid', requestId: cmd.requestId, outTradeNo: paid?.outTradeNo ?? '', ...(paid?.transactionId ? { transactionId: paid.transactionId } : {}) };
    if (order.status === 'debt') {
      const debt = await this.m.Debt.findOne({ _id: `D-${order.orderId}` }).lean();
      return { type: 'DebtRecorded', requestId: cmd.requestId, debtId: debt?.debtId ?? `D-${order.orderId}`, reason: debt?.reason ?? 'PAYERROR' };
    }
    const live = attempts.find((a) => !TERMINAL.has(a.status));
    if (live) return live.status === 'pending' ? { type: 'DeductionAccepted', requestId: cmd.requestId, outTradeNo: live.outTradeNo } : { type: 'PaymentPending', requestId: cmd.requestId, outTradeNo: live.outTradeNo };
    return this.startDeduction(order, 'order', attempts, cmd.description, cmd.requestId);
  }

  /**
   * The common case in few round trips: a draft order has no attempt but possibly a P1 whose sender died
   * before moving the order on (JSAPI attempts only exist once the order left draft). So P1 is created
   * straight away; if it exists already, undefined sends the caller down the full path, which resolves it.
   */
  private async firstDeduction(order: OrderDoc, description: string, requestId: string): Promise<ChargeReply | undefined> {
    const contract = await this.activeContract(order.shopperId);
    if (!contract) return undefined; // the full path records the debt
    const outTradeNo = outTradeNoFor(order.orderId, 'P', 1);
    let p: PaymentDoc;
    try {
      p = await this.createPayment({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'papay', amountFen: order.totalFen, status: 'created', purpose: 'order', contractId: contract.contractId, attempts: 1 });
    } catch (e) {
      if (isDuplicateKey(e)) return undefined;
      throw e;
    }
    await this.recordCharge(p);
    return this.sendDeduction(p, description, requestId);
  }

  /** Inserts an attempt (persisted before it is sent) and remembers it as written. */
  private async createPayment(doc: Omit<PaymentDoc, 'version'>): Promise<PaymentDoc> {
    // Grouped with the other shoppers' inserts meanwhile: one write for many deductions at load.
    const created = await createGrouped(this.m.Payment, doc);
    remember(this.knownPayments, doc.outTradeNo, created);
    return created;
  }

  private async startDeduction(order: OrderDoc, purpose: 'order' | 'debt', attempts: PaymentDoc[], description: string, requestId: string): Promise<ChargeReply> {
    const contract = await this.activeContract(order.shopperId);
    if (!contract) {
      if (order.status !== 'debt') {
        await this.toAwaiting(order);
        const debtId = await this.moveToDebt(order.orderId, 'NO_CONTRACT');
        return { type: 'DebtRecorded', requestId, debtId, reason: 'NO_CONTRACT' };
      }
      return { type: 'DebtRecorded', requestId, debtId: `D-${order.orderId}`, reason: 'NO_CONTRACT' };
    }
    const n = attempts.filter((a) => kindOf(a.outTradeNo) === 'P').length + 1;
    const outTradeNo = outTradeNoFor(order.orderId, 'P', n);
    let p: PaymentDoc;
    try {
      p = await this.createPayment({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'papay', amountFen: order.totalFen, status: 'created', purpose, contractId: contract.contractId, attempts: 1 });
    } catch (e) {
      // A concurrent request created this attempt: it owns the sending.
      if (isDuplicateKey(e)) return { type: 'PaymentPending', requestId, outTradeNo };
      throw e;
    }
    await this.recordCharge(p);
    return this.sendDeduction(p, description, requestId);
  }

  /**
   * A deduction about to be sent, on the ledger (an append grouped with the other shoppers'). The order is
   * not moved to `awaiting_payment` for it (one point update fewer per deduction): a draft order with a
   * deduction goes straight to paid or debt when its result is known, and its attempt says it is charging.
   */
  private async recordCharge(p: PaymentDoc): Promise<void> {
    await this.repo.append({ kind: 'charge', ref: p.outTradeNo, shopperId: p.shopperId, orderId: p.orderId, amountFen: p.amountFen, at: new Date(this.d.clock.now()) });
  }

  /** Draft → awaiting payment, from the copy just read (a lost claim means another writer moved it: fine). */
  private async toAwaiting(order: OrderDoc): Promise<void> {
    if (order.status === 'draft') await this.casOrder(order, { status: 'awaiting_payment' });
  }

  private async moveToDebt(orderId: string, reason: string): Promise<string> {
    const order = (await this.order(orderId))!;
    if (order.status === 'awaiting_payment' || order.status === 'draft') await this.casOrder(order, { status: 'debt' });
    return this.openDebt(order, reason);
  }

  private async sendDeduction(p: PaymentDoc, description: string, requestId = 'resend'): Promise<ChargeReply> {
    const r = await this.d.papay.apply({ outTradeNo: p.outTradeNo, body: description.slice(0, 120) || 'Snacks', totalFen: p.amountFen, contractId: p.contractId!, attach: p.orderId });
    await this.d.afterDeductionSent?.(p.outTradeNo);
    if (r.ok) {
      // Accepted is not written down: the attempt stays `created` until its result (notification or query).
      // Nothing reads the difference that a crash could lose: recovery queries both alike, and resending a
      // `created` deduction uses the same number, which WeChat deducts at most once. One write fewer each.
      return { type: 'DeductionAccepted', requestId, outTradeNo: p.outTradeNo };
    }
    const f = r.failure;
    if (f.outcome === 'unknown') {
      await this.observe(p.outTradeNo, { kind: 'unknown' });
      return { type: 'PaymentPending', requestId, outTradeNo: p.outTradeNo };
    }
    if (f.code === 'ORDERPAID' || f.code === 'INVALID_REQUEST') {
      const after = await this.resolve(p.outTradeNo);
      if (after?.status === 'succeeded') return { type: 'OrderPaid', requestId, outTradeNo: p.outTradeNo, ...(after.transactionId ? { transactionId: after.transactionId } : {}) };
      return { type: 'PaymentPending', requestId, outTradeNo: p.outTradeNo };
    }
    await this.observe(p.outTradeNo, { kind: 'failed', code: f.code });
    if (isRefusal(f.code)) {
      if (f.code === 'CONTRACT_NOT_EXIST') await this.markContractGone(p.shopperId, p.contractId!);
      const debt = await this.m.Debt.findOne({ _id: `D-${p.orderId}` }).lean();
      return { type: 'DebtRecorded', requestId, debtId: debt?.debtId ?? `D-${p.orderId}`, reason: f.code };
    }
    return { type: 'PaymentErrored', requestId, code: f.code, message: f.message, retryable: f.retryable };
  }

  private async markContractGone(shopperId: string, contractId: string): Promise<void> {
    this.activeContracts.delete(shopperId);
    const c = (await this.contractsOf(shopperId)).find((x) => x.contractId === contractId);
    if (c && c.status !== 'terminated') await compareAndSet(this.m.Contract, { _id: c.contractCode, status: c.status }, { status: 'terminated', terminatedAt: new Date(this.d.clock.now()), terminationReason: 'CONTRACT_NOT_EXIST on deduction' });
  }

  /**
   * The pay window ended: every JSAPI attempt of the unpaid order is closed at WeChat (so it can no longer be
   * paid), then the order is marked `cancelled`. A close that finds the order paid records the payment
   * instead (WeChat's ORDER_PAID, then a query). A deduction in flight is left alone. Idempotent.
   */
  async closeOrder(orderId: string): Promise<OrderDoc['status'] | undefined> {
    const order = await this.order(orderId);
    if (!order) return undefined;
    if (order.status !== 'awaiting_payment' && order.status !== 'draft') return order.status;
    const attempts = await this.attemptsOf(orderId);
    if (attempts.some((a) => !TERMINAL.has(a.status) && kindOf(a.outTradeNo) === 'P')) return order.status;
    for (const a of attempts) {
      if (TERMINAL.has(a.status)) continue;
      const r = await this.d.v3.close(a.outTradeNo);
      if (r.ok) await this.observe(a.outTradeNo, { kind: 'closed' });
      else await this.resolve(a.outTradeNo);
    }
    const again = (await this.attemptsOf(orderId)).filter((a) => !TERMINAL.has(a.status));
    if (again.length) return (await this.order(orderId))?.status;
    for (let round = 0; round < 8; round++) {
      const o = await this.order(orderId);
      if (!o || (o.status !== 'awaiting_payment' && o.status !== 'draft')) return o?.status;
      if (await this.casOrder(o, { status: 'cancelled' })) return 'cancelled';
    }
    return (await this.order(orderId))?.status;
  }

  /** Pay an order (or its debt) by JSAPI; optionally pay-and-sign when the shopper has no contract. */
  async pay(cmd: Cmd<PayOrder>, purpose: 'order' | 'debt' = 'order'): Promise<PayReply> {
    const loaded = await this.loadChargeable(cmd);
    if ('type' in loaded) return loaded;
    const attempts = await this.resolveOpenAttempts(cmd.orderId);
    const order = (await this.order(cmd.orderId))!;
    const paid = attempts.find((a) => a.status === 'succeeded');
    if (paid || order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded') return { type: 'OrderPaid', requestId: cmd.requestId, outTradeNo: paid?.outTradeNo ?? '', ...(paid?.transactionId ? { transactionId: paid.transactionId } : {}) };
    const liveDeduction = attempts.find((a) => !TERMINAL.has(a.status) && kindOf(a.outTradeNo) === 'P');
    if (liveDeduction) return { type: 'PaymentErrored', requestId: cmd.requestId, code: 'CONFLICT', message: 'a deduction for this order is in progress', retryable: true };
    await this.toAwaiting(order);

    const live = attempts.find((a) => !TERMINAL.has(a.status) && kindOf(a.outTradeNo) !== 'P');
    if (live?.prepayId && kindOf(live.outTradeNo) === 'C') return { type: 'PaymentPrepared', requestId: cmd.requestId, outTradeNo: live.outTradeNo, requestPayment: this.d.papay.requestPaymentFor(live.prepayId), signsContract: true };

    const hasContract = (await this.contractsOf(cmd.shopperId)).some((c) => c.status === 'active' || c.status === 'signing');
    if (cmd.signContract && !hasContract && !live && !attempts.some((a) => kindOf(a.outTradeNo) === 'C')) return this.payAndSign(cmd, order, purpose);

    const n = live ? Number(live.outTradeNo.slice(3, 5)) : attempts.filter((a) => kindOf(a.outTradeNo) === 'J').length + 1;
    const outTradeNo = live?.outTradeNo ?? outTradeNoFor(order.orderId, 'J', n);
    let attempt = live;
    if (!attempt) {
      const timeExpire = rfc3339(this.d.clock.now() + JSAPI_PAY_WINDOW_MS);
      try {
        attempt = await this.createPayment({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'jsapi', amountFen: order.totalFen, status: 'created', purpose, timeExpire, attempts: 1 });
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        attempt = (await this.payment(outTradeNo))!;
      }
    }
    // Identical body on every re-entry (same number, description, amount, time_expire): WeChat returns the same prepay.
    const r = await this.d.v3.jsapiPrepay({ outTradeNo, description: cmd.description.slice(0, 120) || 'Snacks', amountFen: attempt.amountFen, openid: cmd.openid, timeExpire: attempt.timeExpire, attach: order.orderId, notifyUrl: notifyUrl(this.d.config, 'v3') });
    if (!r.ok) {
      if (r.failure.code === 'ORDERPAID' || r.failure.outcome === 'unknown') {
        const after = await this.resolve(outTradeNo);
        if (after?.status === 'succeeded') return { type: 'OrderPaid', requestId: cmd.requestId, outTradeNo, ...(after.transactionId ? { transactionId: after.transactionId } : {}) };
      } else if (r.failure.code === 'ORDER_CLOSED') {
        await this.observe(outTradeNo, { kind: 'closed' });
      }
      return { type: 'PaymentErrored', requestId: cmd.requestId, code: r.failure.code, message: r.failure.message, retryable: r.failure.retryable };
    }
    if (attempt.prepayId !== r.value.prepayId) await compareAndSet(this.m.Payment, { _id: outTradeNo, status: attempt.status }, { prepayId: r.value.prepayId, status: 'pending' });
    this.knownPayments.delete(outTradeNo);
    return { type: 'PaymentPrepared', requestId: cmd.requestId, outTradeNo, requestPayment: r.value.requestPayment, signsContract: false };
  }

  private async payAndSign(cmd: Cmd<PayOrder>, order: OrderDoc, purpose: 'order' | 'debt'): Promise<PayReply> {
    const outTradeNo = outTradeNoFor(order.orderId, 'C', 1);
    const seq = (await this.contractsOf(cmd.shopperId)).length + 1;
    const contractCode = contractCodeFor(cmd.shopperId, seq);
    try {
      await this.m.Contract.create({ _id: contractCode, contractCode, shopperId: cmd.shopperId, openid: cmd.openid, planId: this.d.config.planId, status: 'signing' });
      await this.m.Payment.create({ _id: outTradeNo, outTradeNo, orderId: order.orderId, shopperId: order.shopperId, channel: 'jsapi', amountFen: order.totalFen, status: 'created', purpose, attempts: 1 });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const r = await this.d.papay.contractOrder({ outTradeNo, body: cmd.description.slice(0, 120) || 'Snacks', totalFen: order.totalFen, openid: cmd.openid, attach: order.orderId, contractCode, requestSerial: this.d.papay.newRequestSerial(), displayAccount: cmd.openid.slice(-6) });
    if (!r.ok) return { type: 'PaymentErrored', requestId: cmd.requestId, code: r.failure.code, message: r.failure.message, retryable: r.failure.retryable };
    await compareAndSet(this.m.Payment, { _id: outTradeNo, status: 'created' }, { prepayId: r.value.prepayId, status: 'pending' });
    this.knownPayments.delete(outTradeNo);
    return { type: 'PaymentPrepared', requestId: cmd.requestId, outTradeNo, requestPayment: r.value.requestPayment, signsContract: true };
  }

  // ---- debts --------------------------------------------------------------------------------------------

  async clearDebts(cmd: Cmd<ClearDebts>): Promise<ClearDebtsReply> {
    const debts = await this.m.Debt.find({ shopperId: cmd.shopperId, status: { $in: ['open', 'reminded'] } }).lean();
    if (!debts.length) return { type: 'NoDebts', requestId: cmd.requestId };
    if (cmd.via === 'jsapi') {
      const debt = debts[0]!;
      if (!cmd.openid) return { type: 'PaymentErrored', requestId: cmd.requestId, code: 'BAD_REQUEST', message: 'openid is needed to pay by JSAPI', retryable: false };
      const r = await this.pay({ requestId: cmd.requestId, shopperId: cmd.shopperId, orderId: debt.orderId, amountFen: debt.amountFen, description: '补缴欠款', openid: cmd.openid }, 'debt');
      switch (r.type) {
        case 'PaymentPrepared':
          return { type: 'DebtPaymentPrepared', requestId: cmd.requestId, debtId: debt.debtId, outTradeNo: r.outTradeNo, requestPayment: r.requestPayment as never };
        case 'OrderPaid':
          return { type: 'DebtsSettled', requestId: cmd.requestId, debtIds: [debt.debtId] };
        case 'ChargeRefused':
          return { type: 'DebtsRemain', requestId: cmd.requestId, debtIds: [debt.debtId], reason: r.reason };
        case 'PaymentErrored':
          return r;
      }
    }
    const settled: string[] = [];
    const pending: string[] = [];
    const remain: string[] = [];
    let reason = '';
    for (const debt of debts) {
      const attempts = await this.resolveOpenAttempts(debt.orderId);
      const again = await this.m.Debt.findOne({ _id: debt.debtId }).lean();
      if (again?.status === 'paid') {
        settled.push(debt.debtId);
        continue;
      }
      const live = attempts.find((a) => !TERMINAL.has(a.status));
      if (live) {
        pending.push(live.outTradeNo);
        continue;
      }
      const order = (await this.order(debt.orderId))!;
      const r = await this.startDeduction(order, 'debt', attempts, '补缴欠款', cmd.requestId);
      if (r.type === 'DeductionAccepted' || r.type === 'PaymentPending') pending.push(r.outTradeNo);
      else if (r.type === 'OrderPaid') settled.push(debt.debtId);
      else {
        remain.push(debt.debtId);
        reason = r.type === 'DebtRecorded' ? r.reason : r.type;
      }
    }
    if (remain.length) return { type: 'DebtsRemain', requestId: cmd.requestId, debtIds: remain, reason };
    if (pending.length) return { type: 'DebtDeductionPending', requestId: cmd.requestId, outTradeNos: pending };
    return { type: 'DebtsSettled', requestId: cmd.requestId, debtIds: settled };
  }

  // ---- refunds ------------------------------------------------------------------------------------------

  async refund(cmd: Cmd<RefundOrder>): Promise<RefundReply> {
    const order = await this.order(cmd.orderId);
    if (!order || order.shopperId !== cmd.shopperId) return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'unknown_order' };
    const outRefundNo = outRefundNoFor(cmd.orderId, cmd.refundKey);
    const existing = await this.m.Refund.findOne({ _id: outRefundNo }).lean();
    if (existing) {
      if (existing.amountFen !== cmd.amountFen) return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'invalid_amount', detail: 'this refund key was used with another amount' };
      if (existing.status === 'failed') return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'rejected_by_wechat' };
      return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: existing.amountFen };
    }
    const refunds = await this.m.Refund.find({ orderId: cmd.orderId, status: { $in: ['pending', 'succeeded'] } }).lean();
    const committed = refunds.reduce((s, r) => s + r.amountFen, 0);
    const decision = decideRefund(order, committed, cmd.amountFen);
    if (!decision.ok) return { type: 'RefundRefused', requestId: cmd.requestId, reason: decision.reason };
    const paid = (await this.attemptsOf(cmd.orderId)).find((a) => a.status === 'succeeded');
    if (!paid) return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'not_paid' };
    try {
      await this.m.Refund.create({ _id: outRefundNo, outRefundNo, outTradeNo: paid.outTradeNo, orderId: cmd.orderId, amountFen: cmd.amountFen, reason: cmd.reason, status: 'pending', requestedBy: cmd.requestedBy });
    } catch (e) {
      if (isDuplicateKey(e)) return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: cmd.amountFen };
      throw e;
    }
    const r = await this.d.v3.refund({ outRefundNo, outTradeNo: paid.outTradeNo, refundFen: cmd.amountFen, totalFen: paid.amountFen, reason: cmd.reason.slice(0, 80), notifyUrl: notifyUrl(this.d.config, 'v3') });
    if (r.ok) {
      if (r.value.status === 'SUCCESS') await this.refundSettled(outRefundNo, 'succeeded', r.value.refund_id);
      else await compareAndSet(this.m.Refund, { _id: outRefundNo, status: 'pending' }, { refundId: r.value.refund_id });
      return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: cmd.amountFen };
    }
    if (r.failure.outcome === 'rejected') {
      await this.refundSettled(outRefundNo, 'failed', undefined, 'REJECTED');
      return { type: 'RefundRefused', requestId: cmd.requestId, reason: 'rejected_by_wechat', detail: `${r.failure.code}: ${r.failure.message}` };
    }
    // Unknown: the refund stays pending; the notification or a query settles it (same out_refund_no).
    return { type: 'RefundRequested', requestId: cmd.requestId, outRefundNo, amountFen: cmd.amountFen };
  }

  /** Refunds of the order pending or succeeded (committed money), leaving out `except`. */
  async committedRefunds(orderId: string, except?: string): Promise<number> {
    const refunds = await this.m.Refund.find({ orderId, status: { $in: ['pending', 'succeeded'] } }, { outRefundNo: 1, amountFen: 1 }).lean();
    return refunds.filter((r) => r.outRefundNo !== except).reduce((n, r) => n + r.amountFen, 0);
  }

  /**
   * A held (fully automatic) order after its review: priced with the decided lines and released to be
   * charged (`draft`), or waived when nothing is due. Idempotent: only a held order moves.
   */
  async releaseHeld(orderId: string, lines: OrderDoc['lines'], totalFen: number, caseId: string): Promise<OrderDoc['status'] | undefined> {
    for (let round = 0; round < 8; round++) {
      const order = await this.order(orderId);
      if (!order || order.status !== 'held_for_review') return order?.status;
      if (!lines.length || totalFen === 0) {
        if (await this.casOrder(order, { status: 'waived', lines: [], totalFen: 0 })) {
          await this.repo.append({ kind: 'waiver', ref: `held:${orderId}`, shopperId: order.shopperId, orderId, amountFen: order.totalFen, reason: `review ${caseId}`, at: new Date(this.d.clock.now()) });
          return 'waived';
        }
      } else if (await this.casOrder(order, { status: 'draft', source: 'review', lines, totalFen })) return 'draft';
    }
    return (await this.order(orderId))?.status;
  }

  /** Query a pending refund and record its outcome. */
  async resolveRefund(outRefundNo: string): Promise<void> {
    const r = await this.d.v3.queryRefund(outRefundNo);
    if (!r.ok) return;
    if (r.value.status === 'SUCCESS') await this.refundSettled(outRefundNo, 'succeeded', r.value.refund_id);
    else if (r.value.status === 'CLOSED' || r.value.status === 'ABNORMAL') await this.refundSettled(outRefundNo, 'failed', r.value.refund_id, r.value.status);
  }

  /** `wechatStatus`: why it failed, in WeChat's words (CLOSED, ABNORMAL), or REJECTED when WeChat refused to create it. */
  private async refundSettled(outRefundNo: string, status: 'succeeded' | 'failed', refundId?: string, wechatStatus?: RefundDoc['wechatStatus']): Promise<void> {
    const won = await compareAndSet(this.m.Refund, { _id: outRefundNo, status: 'pending' }, { status, ...(refundId ? { refundId } : {}), ...(wechatStatus ? { wechatStatus } : {}) });
    if (!won || status !== 'succeeded') return;
    const refund = (await this.m.Refund.findOne({ _id: outRefundNo }).lean())!;
    const shopperId = (await this.order(refund.orderId))?.shopperId ?? '';
    await this.repo.append({ kind: 'refund', ref: outRefundNo, shopperId, orderId: refund.orderId, amountFen: refund.amountFen, at: new Date(this.d.clock.now()) });
    for (let round = 0; round < 8; round++) {
      const order = (await this.order(refund.orderId))!;
      const refunded = order.refundedFen + refund.amountFen;
      const next = refunded >= order.paidFen ? 'refunded' : 'partially_refunded';
      if (await this.casOrder(order, { status: next, refundedFen: refunded })) return;
    }
  }

  // ---- contracts ----------------------------------------------------------------------------------------

  async startSigning(cmd: Cmd<StartSigning>): Promise<SigningReply> {
    const active = (await this.contractsOf(cmd.shopperId)).find((c) => c.status === 'active');
    if (active?.contractId) return { type: 'AlreadySigned', requestId: cmd.requestId, contractId: active.contractId };
    const seq = (await this.contractsOf(cmd.shopperId)).length + 1;
    const contractCode = contractCodeFor(cmd.shopperId, seq);
    try {
      await this.m.Contract.create({ _id: contractCode, contractCode, shopperId: cmd.shopperId, openid: cmd.openid, planId: this.d.config.planId, status: 'signing' });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const extraData = this.d.papay.signingExtraData({ contractCode, requestSerial: this.d.papay.newRequestSerial(), displayAccount: cmd.displayAccount });
    return { type: 'SigningPrepared', requestId: cmd.requestId, contractCode, miniProgramAppId: PAPAY_SIGNING_APPID, extraData };
  }

  // ---- notifications ------------------------------------------------------------------------------------

  /** The inbox key of a notification (see notification.keys.ts). */
  static inboxKey(e: InboundNotification): string {
    return inboxKeyOf(e);
  }

  /** Which shopper's actor handles a notification (undefined: not ours). */
  async shopperOf(e: InboundNotification): Promise<string | undefined> {
    switch (e.type) {
      // An attempt this service wrote lately names its shopper without a read.
      case 'TransactionNotified':
        return this.knownPayments.get(e.transaction.out_trade_no)?.shopperId ?? (await this.m.Payment.findOne({ _id: e.transaction.out_trade_no }, { shopperId: 1 }).lean())?.shopperId;
      case 'TradeResultNotified':
        return this.knownPayments.get(e.order.outTradeNo)?.shopperId ?? (await this.m.Payment.findOne({ _id: e.order.outTradeNo }, { shopperId: 1 }).lean())?.shopperId;
      case 'RefundNotified': {
        const r = await this.m.Refund.findOne({ _id: e.refund.out_refund_no }, { orderId: 1 }).lean();
        return r ? (await this.order(r.orderId))?.shopperId : undefined;
      }
      case 'ContractChanged':
        return (await this.m.Contract.findOne({ _id: e.contractCode }, { shopperId: 1 }).lean())?.shopperId ?? (await findShopperByOpenid(this.m, e.openid, { shopperId: 1 }))?.shopperId;
    }
  }

  /** Persists a verified notification before it is acknowledged. Returns its key and whether it is new. */
  async recordNotification(e: InboundNotification): Promise<{ key: string; shopperId: string | undefined; fresh: boolean }> {
    const key = PaymentService.inboxKey(e);
    const shopperId = await this.shopperOf(e);
    try {
      await createGrouped(this.m.PaymentInbox, { _id: key, key, type: e.type, ...(shopperId ? { shopperId } : {}), payload: JSON.stringify(e) });
      return { key, shopperId, fresh: true };
    } catch (err) {
      if (isDuplicateKey(err)) return { key, shopperId, fresh: false };
      throw err;
    }
  }

  /** Applies a recorded notification; idempotent, so a redelivery or a restart replays it harmlessly. */
  async processNotification(key: string, e: InboundNotification): Promise<void> {
    switch (e.type) {
      case 'TransactionNotified':
        await this.observe(e.transaction.out_trade_no, observationFromTransaction(e.transaction));
        break;
      case 'TradeResultNotified':
        await this.observe(e.order.outTradeNo, observationFromPapay(e.order));
        break;
      case 'RefundNotified':
        if (e.refund.refund_status === 'SUCCESS') await this.refundSettled(e.refund.out_refund_no, 'succeeded', e.refund.refund_id);
        else if (e.refund.refund_status === 'CLOSED' || e.refund.refund_status === 'ABNORMAL') await this.refundSettled(e.refund.out_refund_no, 'failed', e.refund.refund_id, e.refund.refund_status);
        break;
      case 'ContractChanged':
        await this.contractChanged(e);
        break;
    }
    // Appended, grouped with the other shoppers' (ledger-as-appends: an insert share instead of a point update).
    await this.repo.markProcessed(key, new Date(this.d.clock.now()));
  }

  private async contractChanged(e: Extract<InboundNotification, { type: 'ContractChanged' }>): Promise<void> {
    let c = await this.m.Contract.findOne({ _id: e.contractCode }).lean();
    if (!c) {
      const shopper = await findShopperByOpenid(this.m, e.openid, { shopperId: 1 });
      if (!shopper) return this.d.log.warn({ contractCode: e.contractCode }, 'contract notification for an unknown shopper');
      try {
        await this.m.Contract.create({ _id: e.contractCode, contractCode: e.contractCode, shopperId: shopper.shopperId, openid: e.openid, planId: e.planId, status: 'signing' });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      c = (await this.m.Contract.findOne({ _id: e.contractCode }).lean())!;
    }
    this.activeContracts.delete(c.shopperId);
    if (e.change === 'ADD' && c.status === 'signing') {
      await compareAndSet(this.m.Contract, { _id: c.contractCode, status: 'signing' }, { status: 'active', contractId: e.contractId, signedAt: new Date(this.d.clock.now()) });
    } else if (e.change === 'DELETE' && c.status !== 'terminated') {
      // A DELETE may overtake its ADD: terminated absorbs, so the late ADD changes nothing.
      await compareAndSet(this.m.Contract, { _id: c.contractCode, status: c.status }, { status: 'terminated', contractId: e.contractId, terminatedAt: new Date(this.d.clock.now()), terminationReason: `mode ${e.terminationMode ?? '?'}` });
    }
  }

  /** The attempt kinds' channels, re-exported for callers that render payments. */
  static channelOf(outTradeNo: string): 'jsapi' | 'papay' {
    return ATTEMPT_KINDS[kindOf(outTradeNo)];
  }

  static isSettled(status: PaymentStatus): boolean {
    return TERMINAL.has(status);
  }
}
