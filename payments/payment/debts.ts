import { DebtRecords } from '../../store/money/debts';
import type { NewOrder } from '../../store/money/repository';
import type { DebtDoc, OrderDoc } from '../../store/models/commerce';
import { naturalKeys } from '../../store/natural-keys';
import type { Cmd, MoneyContext } from './money.context';
import { debtMessage } from './observations';
import { TERMINAL, kindOf, visitGate } from './payment.machine';
import type { ClearDebts, ClearDebtsReply, VisitReply } from './payment.protocol';

/**
 * Debts: one per order, raised by a failed deduction, a missing contract or a reviewed difference (a pending
 * order); they block the shopper's next visit until paid (by deduction or JSAPI) or waived by an operator.
 * The debt subscribe messages go out once each, when their change is won.
 */
export class Debts {
  constructor(private readonly ctx: MoneyContext) {}

  async checkVisit(shopperId: string, requestId: string): Promise<VisitReply> {
    const gate = visitGate(await this.ctx.records.debts.owedBy(shopperId));
    return gate.allowed ? { type: 'VisitAllowed', requestId } : { type: 'VisitBlocked', requestId, reason: 'debt', debts: gate.debts };
  }

  /** Records the order's debt (one per order) and its ledger entry; both idempotent. */
  async openDebt(order: OrderDoc, reason: string): Promise<string> {
    const debtId = DebtRecords.idFor(order.orderId);
    if (await this.ctx.records.debts.create({ shopperId: order.shopperId, orderId: order.orderId, amountFen: order.totalFen, reason })) this.ctx.d.log.info({ shopperId: order.shopperId, orderId: order.orderId, reason }, 'debt opened');
    await this.ctx.records.repo.append({ kind: 'debt_raised', ref: debtId, shopperId: order.shopperId, orderId: order.orderId, amountFen: order.totalFen, reason, at: this.ctx.now() });
    return debtId;
  }

  /** The order (draft or awaiting payment) becomes a debt. */
  async moveToDebt(orderId: string, reason: string): Promise<string> {
    const order = (await this.ctx.records.orders.read(orderId))!;
    if (order.status === 'awaiting_payment' || order.status === 'draft') await this.ctx.records.orders.move(order, { status: 'debt' });
    return this.openDebt(order, reason);
  }

  /**
   * The debt-created subscribe message, once: the notice is claimed first (a marker only one process's
   * insert lands) and only the claimant sends, so two processes raising the same debt never both send; an
   * open debt becomes `reminded` when it was sent. A message WeChat refuses (no quota: 43101) is logged by
   * `message` and not retried: subscribe messages are a courtesy, the blocked visit is what tells the shopper.
   */
  async notifyDebtCreated(orderId: string): Promise<void> {
    const debt = await this.ctx.records.debts.read(DebtRecords.idFor(orderId));
    if (!debt || debt.status !== 'open' || !this.templateFor('created')) return;
    if (!(await this.ctx.records.repo.claimOnce(`notice:${debt.debtId}:created`, this.ctx.now()))) return;
    if (await this.message(debt.shopperId, 'created', debt.amountFen)) await this.ctx.records.debts.move(debt.debtId, 'open', 'reminded', this.ctx.now());
  }

  /** Debt → paid; the debt when this call won the change (so its message is sent once), else undefined. */
  async settleDebt(orderId: string): Promise<DebtDoc | undefined> {
    const { debts, repo } = this.ctx.records;
    const debt = await debts.read(DebtRecords.idFor(orderId));
    if (!debt) return undefined;
    let won = false;
    if (debt.status === 'open' || debt.status === 'reminded') {
      won = await debts.move(debt.debtId, debt.status, 'paid', this.ctx.now());
      if (won) this.ctx.d.log.info({ shopperId: debt.shopperId, debtId: debt.debtId }, 'debt paid');
    }
    if ((await debts.statusOf(debt.debtId)) === 'paid') await repo.append({ kind: 'debt_cleared', ref: debt.debtId, shopperId: debt.shopperId, orderId, amountFen: debt.amountFen, at: this.ctx.now() });
    return won ? debt : undefined;
  }

  /** Waives an open debt and its order (an operator's decision); idempotent. */
  async waiveDebt(orderId: string, why: string): Promise<boolean> {
    const { debts, orders, repo } = this.ctx.records;
    const { settlement } = this.ctx.parts;
    let debt = await debts.read(DebtRecords.idFor(orderId));
    if (!debt) return false;
    if (debt.status === 'open' || debt.status === 'reminded') {
      // The shopper may be paying it right now: its JSAPI attempts are closed at WeChat first (a close that
      // finds one paid records the payment, which clears the debt instead), a deduction is resolved.
      for (const a of await settlement.attemptsOf(orderId)) {
        if (TERMINAL.has(a.status)) continue;
        if (kindOf(a.outTradeNo) !== 'P' && (await this.ctx.d.v3.close(a.outTradeNo)).ok) await settlement.observe(a.outTradeNo, { kind: 'closed' });
        else await settlement.resolve(a.outTradeNo);
      }
      if ((await settlement.attemptsOf(orderId)).some((a) => !TERMINAL.has(a.status))) return false;
      debt = (await debts.read(debt.debtId))!;
    }
    if (debt.status === 'open' || debt.status === 'reminded') await debts.move(debt.debtId, debt.status, 'waived', this.ctx.now());
    if ((await debts.statusOf(debt.debtId)) !== 'waived') return false;
    const order = await orders.read(orderId);
    if (order?.status === 'debt') await orders.move(order, { status: 'waived' });
    await repo.append({ kind: 'waiver', ref: debt.debtId, shopperId: debt.shopperId, orderId, amountFen: debt.amountFen, reason: why, at: this.ctx.now() });
    return true;
  }

  /**
   * A pending order (a review's difference, or raised by hand): stored unpaid as the shopper's debt, which
   * blocks the next visit until cleared; the debt message goes out. Idempotent on the order id.
   */
  async raisePendingOrder(o: Omit<NewOrder, 'status' | 'source'>, reason: string): Promise<{ orderId: string; totalFen: number; debtId: string }> {
    const created = await this.ctx.records.repo.createOrder({ ...o, source: 'review', status: 'debt' });
    const order = (await this.ctx.records.orders.read(o.orderId))!;
    const debtId = await this.openDebt(order, reason);
    await this.notifyDebtCreated(o.orderId);
    return { orderId: o.orderId, totalFen: created.totalFen, debtId };
  }

  /** Subscribe message; an expected refusal (no quota: 43101) is logged, never thrown. */
  async message(shopperId: string, what: 'created' | 'cleared', amountFen: number): Promise<boolean> {
    const { d } = this.ctx;
    const templateId = this.templateFor(what);
    if (!d.miniProgram || !templateId) return false;
    const shopper = await naturalKeys.findOne(d.models.Shopper, shopperId, { shopperId }, { openid: 1 });
    if (!shopper) return false;
    const r = await d.miniProgram.sendSubscribeMessage({ touser: shopper.openid, templateId, ...debtMessage(what, amountFen, d.clock.now()) });
    if (!r.ok) d.log.info({ shopperId, errcode: r.errcode }, 'subscribe message not sent');
    return r.ok;
  }

  /** The subscribe-message template of a debt notice, when messages can be sent at all. */
  private templateFor(what: 'created' | 'cleared'): string | undefined {
    const { d } = this.ctx;
    if (!d.miniProgram) return undefined;
    return (what === 'created' ? d.config.debtCreatedTemplateId : d.config.debtClearedTemplateId) || undefined;
  }

  /** Settles every open debt: by deduction, or by handing back JSAPI parameters for the first one. */
  async clearDebts(cmd: Cmd<ClearDebts>): Promise<ClearDebtsReply> {
    const { debts, orders } = this.ctx.records;
    const { settlement, deductions, jsapi } = this.ctx.parts;
    const owed = await debts.owedBy(cmd.shopperId);
    if (!owed.length) return { type: 'NoDebts', requestId: cmd.requestId };
    if (cmd.via === 'jsapi') {
      const debt = owed[0]!;
      if (!cmd.openid) return { type: 'PaymentErrored', requestId: cmd.requestId, code: 'BAD_REQUEST', message: 'openid is needed to pay by JSAPI', retryable: false };
      const r = await jsapi.pay({ requestId: cmd.requestId, shopperId: cmd.shopperId, orderId: debt.orderId, amountFen: debt.amountFen, description: '补缴欠款', openid: cmd.openid }, 'debt');
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
    for (const debt of owed) {
      const attempts = await settlement.resolveOpenAttempts(debt.orderId);
      if ((await debts.statusOf(debt.debtId)) === 'paid') {
        settled.push(debt.debtId);
        continue;
      }
      const live = attempts.find((a) => !TERMINAL.has(a.status));
      if (live) {
        pending.push(live.outTradeNo);
        continue;
      }
      const order = (await orders.read(debt.orderId))!;
      const r = await deductions.start(order, 'debt', attempts, '补缴欠款', cmd.requestId);
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
}
