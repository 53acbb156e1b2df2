import { MoneyRecords } from '../../store/money/records';
import type { MoneyRepository, NewOrder } from '../../store/money/repository';
import type { OrderDoc, PaymentDoc } from '../../store/models/commerce';
import type { InboundNotification } from '../wechatpay/notifications';
import { Contracts } from './contracts';
import { Debts } from './debts';
import { Deductions } from './deductions';
import { Inbox } from './inbox';
import { JsapiPayments } from './jsapi';
import type { Cmd, MoneyContext, MoneyParts, PaymentServiceDeps } from './money.context';
import { assertMove } from './order.machine';
import type { Observation } from './payment.machine';
import type { ChargeOrder, ChargeReply, ClearDebts, ClearDebtsReply, PayOrder, PayReply, RefundOrder, RefundReply, SigningReply, StartSigning, VisitReply } from './payment.protocol';
import { recoverMoney } from './recovery';
import { Refunds } from './refunds';
import { Settlement } from './settlement';
import { releaseHeld } from './review.release';

export type { Cmd, PaymentModels, PaymentServiceDeps } from './money.context';

/** The concern classes themselves; each also fits MoneyParts, what the others ask of it. */
interface Concerns extends MoneyParts {
  settlement: Settlement;
  deductions: Deductions;
  jsapi: JsapiPayments;
  debts: Debts;
  refunds: Refunds;
  contracts: Contracts;
}

/**
 * The effects of payments, as the per-shopper payment actor (payment.actor.ts) calls them: one method per
 * money change, each carried out by the concern it belongs to (settlement, deductions, JSAPI payments,
 * debts, refunds, contracts, the notification inbox, recovery; one file each). The records are reached
 * only through the store seam (store/money/), every status write checked against the lifecycle tables
 * (order.machine.ts); the rules are payment.machine.ts's. Correctness across processes rests on the unique
 * keys (one Payment per out_trade_no, one Debt per order, one inbox row per notification) and on WeChat
 * charging an out_trade_no at most once.
 */
export class PaymentService {
  /** The money store seam: order creation, the ledger, request keys. */
  readonly repo: MoneyRepository;
  private readonly ctx: MoneyContext;
  private readonly parts: Concerns;
  private readonly inbox: Inbox;

  constructor(d: PaymentServiceDeps) {
    const records = new MoneyRecords(d.models, assertMove);
    this.repo = records.repo;
    const parts = {} as Concerns;
    this.ctx = { d, records, parts, now: () => new Date(d.clock.now()) };
    Object.assign(parts, {
      settlement: new Settlement(this.ctx),
      deductions: new Deductions(this.ctx),
      jsapi: new JsapiPayments(this.ctx),
      debts: new Debts(this.ctx),
      refunds: new Refunds(this.ctx),
      contracts: new Contracts(this.ctx),
    } satisfies Concerns);
    this.parts = parts;
    this.inbox = new Inbox(this.ctx);
  }

  /** The order, read fresh. */
  readOrder(orderId: string): Promise<OrderDoc | undefined> {
    return this.ctx.records.orders.read(orderId);
  }

  attemptsOf(orderId: string): Promise<PaymentDoc[]> {
    return this.parts.settlement.attemptsOf(orderId);
  }

  checkVisit(shopperId: string, requestId: string): Promise<VisitReply> {
    return this.parts.debts.checkVisit(shopperId, requestId);
  }

  observe(outTradeNo: string, obs: Observation): Promise<PaymentDoc | undefined> {
    return this.parts.settlement.observe(outTradeNo, obs);
  }

  resolve(outTradeNo: string): Promise<PaymentDoc | undefined> {
    return this.parts.settlement.resolve(outTradeNo);
  }

  settleAttempts(orderId: string): Promise<boolean> {
    return this.parts.settlement.settleAttempts(orderId);
  }

  recover(): Promise<{ resolved: number; notifications: number; refunds: number }> {
    return recoverMoney(this.ctx, this.inbox);
  }

  charge(cmd: Cmd<ChargeOrder>): Promise<ChargeReply> {
    return this.parts.deductions.charge(cmd);
  }

  pay(cmd: Cmd<PayOrder>, purpose: 'order' | 'debt' = 'order'): Promise<PayReply> {
    return this.parts.jsapi.pay(cmd, purpose);
  }

  closeOrder(orderId: string): Promise<OrderDoc['status'] | undefined> {
    return this.parts.jsapi.closeOrder(orderId);
  }

  clearDebts(cmd: Cmd<ClearDebts>): Promise<ClearDebtsReply> {
    return this.parts.debts.clearDebts(cmd);
  }

  waiveDebt(orderId: string, why: string): Promise<boolean> {
    return this.parts.debts.waiveDebt(orderId, why);
  }

  raisePendingOrder(o: Omit<NewOrder, 'status' | 'source'>, reason: string): Promise<{ orderId: string; totalFen: number; debtId: string }> {
    return this.parts.debts.raisePendingOrder(o, reason);
  }

  refund(cmd: Cmd<RefundOrder>): Promise<RefundReply> {
    return this.parts.refunds.refund(cmd);
  }

  committedRefunds(orderId: string, except?: string): Promise<number> {
    return this.parts.refunds.committed(orderId, except);
  }

  resolveRefund(outRefundNo: string): Promise<void> {
    return this.parts.refunds.resolve(outRefundNo);
  }

  releaseHeld(orderId: string, lines: OrderDoc['lines'], totalFen: number, caseId: string): Promise<OrderDoc['status'] | undefined> {
    return releaseHeld(this.ctx, orderId, lines, totalFen, caseId);
  }

  startSigning(cmd: Cmd<StartSigning>): Promise<SigningReply> {
    return this.parts.contracts.startSigning(cmd);
  }

  shopperOf(e: InboundNotification): Promise<string | undefined> {
    return this.inbox.shopperOf(e);
  }

  recordNotification(e: InboundNotification): Promise<{ key: string; shopperId: string | undefined; fresh: boolean }> {
    return this.inbox.record(e);
  }

  processNotification(key: string, e: InboundNotification): Promise<void> {
    return this.inbox.process(key, e);
  }
}
