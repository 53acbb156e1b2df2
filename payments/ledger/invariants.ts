import type { DebtDoc, LedgerEntryDoc, OrderDoc, PaymentDoc, RefundDoc } from '../../store/models/commerce';

/**
 * The money invariants, pure: given the records, the ledger and (optionally) WeChat's side, every
 * difference found. `money:audit` runs them on a database; the property tests run them after every
 * random sequence. Each problem names the order (or out_trade_no) and what disagrees.
 */

export interface MoneySnapshot {
  orders: Array<Pick<OrderDoc, 'orderId' | 'shopperId' | 'status' | 'totalFen' | 'paidFen' | 'refundedFen' | 'source' | 'visitId' | 'netting'>>;
  payments: Array<Pick<PaymentDoc, 'outTradeNo' | 'orderId' | 'status' | 'amountFen' | 'channel' | 'failureCode'>>;
  debts: Array<Pick<DebtDoc, 'debtId' | 'orderId' | 'status' | 'amountFen' | 'reason'>>;
  refunds: Array<Pick<RefundDoc, 'outRefundNo' | 'orderId' | 'outTradeNo' | 'status' | 'amountFen'>>;
  ledger: Array<Pick<LedgerEntryDoc, '_id' | 'kind' | 'orderId' | 'amountFen' | 'ref'>>;
  /** Decided reviews of semi-automatic visits: the decided value the visit's orders must net to. */
  decisions: Array<{ caseId: string; visitId?: string; decidedFen: number; decision: string }>;
  /** WeChat's side (the emulator's state in sandbox, the trade bill in live); absent = not compared. */
  wechat?: {
    /** Successful trades by out_trade_no. */
    paid: Map<string, number>;
    /** Successful refunds by out_refund_no. */
    refunded: Map<string, number>;
  };
}

export interface Problem {
  check: string;
  subject: string;
  detail: string;
}

const sum = (xs: Iterable<number>): number => {
  let n = 0;
  for (const x of xs) n += x;
  return n;
};

function group<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** Debt reasons that a refused or impossible charge records (payment.machine's isRefusal, plus no contract). */
const CHARGE_FAILURE = /^(NO_CONTRACT|CONTRACT_NOT_EXIST|CONTRACTNOTEXIST|NOTENOUGH|NOT_ENOUGH|RULELIMIT|RULE_LIMIT|ACCOUNTERROR|USER_ACCOUNT_ABNORMAL|ORDERCLOSED|PAYERROR|TRADE_ERROR)$/;

export function checkMoney(s: MoneySnapshot): Problem[] {
  const problems: Problem[] = [];
  const bad = (check: string, subject: string, detail: string): void => void problems.push({ check, subject, detail });
  const ledgerByOrder = group(s.ledger, (e) => e.orderId);
  const paymentsByOrder = group(s.payments, (p) => p.orderId);
  const refundsByOrder = group(s.refunds, (r) => r.orderId);
  const debtByOrder = new Map(s.debts.map((d) => [d.orderId, d]));
  const casesByVisit = new Map(s.decisions.filter((d) => d.visitId).map((d) => [d.visitId!, d]));

  for (const o of s.orders) {
    const entries = ledgerByOrder.get(o.orderId) ?? [];
    const paidIn = entries.filter((e) => e.kind === 'payment');
    const refundedOut = entries.filter((e) => e.kind === 'refund');
    const ledgerNet = sum(paidIn.map((e) => e.amountFen)) - sum(refundedOut.map((e) => e.amountFen));
    // 1. The ledger and the order agree on the money that moved.
    if (ledgerNet !== o.paidFen - o.refundedFen) bad('ledger_vs_order', o.orderId, `ledger nets ${ledgerNet}, order paid ${o.paidFen} − refunded ${o.refundedFen}`);
    // 2. No order paid twice.
    const succeeded = (paymentsByOrder.get(o.orderId) ?? []).filter((p) => p.status === 'succeeded');
    if (succeeded.length > 1) bad('paid_twice', o.orderId, `${succeeded.length} successful attempts: ${succeeded.map((p) => p.outTradeNo).join(', ')}`);
    if (paidIn.length > 1) bad('paid_twice', o.orderId, `${paidIn.length} payments on the ledger`);
    // 3. Status and amounts agree.
    const paidStatus = o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded';
    if (paidStatus && o.paidFen !== o.totalFen) bad('paid_amount', o.orderId, `${o.status} with paid ${o.paidFen} ≠ total ${o.totalFen}`);
    if (!paidStatus && o.paidFen !== 0) bad('paid_amount', o.orderId, `${o.status} yet paid ${o.paidFen}`);
    if (o.refundedFen > o.paidFen) bad('refund_exceeds', o.orderId, `refunded ${o.refundedFen} > paid ${o.paidFen}`);
    const refundsDone = sum((refundsByOrder.get(o.orderId) ?? []).filter((r) => r.status === 'succeeded').map((r) => r.amountFen));
    if (refundsDone !== o.refundedFen) bad('refunds_vs_order', o.orderId, `succeeded refunds ${refundsDone} ≠ order refunded ${o.refundedFen}`);
    if (o.status === 'refunded' && o.refundedFen !== o.paidFen) bad('refund_status', o.orderId, `refunded status with ${o.refundedFen} of ${o.paidFen}`);
    // 4. A debt follows its order.
    const debt = debtByOrder.get(o.orderId);
    if (o.status === 'debt' && (!debt || (debt.status !== 'open' && debt.status !== 'reminded'))) bad('debt_status', o.orderId, `order in debt, debt ${debt?.status ?? 'missing'}`);
    if (debt && debt.amountFen !== o.totalFen) bad('debt_amount', o.orderId, `debt ${debt.amountFen} ≠ order ${o.totalFen}`);
    if (debt?.status === 'paid' && !paidStatus) bad('debt_status', o.orderId, `debt paid, order ${o.status}`);
    if (debt?.status === 'waived' && o.status !== 'waived') bad('debt_status', o.orderId, `debt waived, order ${o.status}`);
  }

  // 5. Each debt is backed by a decision or a failed charge, and is on the ledger.
  const ordersById = new Map(s.orders.map((o) => [o.orderId, o]));
  for (const d of s.debts) {
    const o = ordersById.get(d.orderId);
    const byDecision = d.reason.startsWith('review ') || o?.source === 'review';
    const failed = (paymentsByOrder.get(d.orderId) ?? []).some((p) => p.channel === 'papay' && p.status === 'failed');
    if (!byDecision && !failed && !CHARGE_FAILURE.test(d.reason)) bad('debt_backing', d.debtId, `no decision or failed charge behind it (reason ${d.reason})`);
    if (!s.ledger.some((e) => e.kind === 'debt_raised' && e.ref === d.debtId)) bad('debt_ledger', d.debtId, 'not on the ledger');
    if (d.status === 'paid' && !s.ledger.some((e) => e.kind === 'debt_cleared' && e.ref === d.debtId)) bad('debt_ledger', d.debtId, 'cleared, not on the ledger');
    if (d.status === 'waived' && !s.ledger.some((e) => e.kind === 'waiver' && e.ref === d.debtId)) bad('debt_ledger', d.debtId, 'waived, not on the ledger');
  }

  // 6. A decided semi-automatic visit: paid − refunded, plus what is still owed, equals the decided value.
  const ordersByVisit = group(s.orders.filter((o) => o.visitId), (o) => o.visitId!);
  for (const [visitId, c] of casesByVisit) {
    const os = ordersByVisit.get(visitId) ?? [];
    const paid = sum(os.map((o) => o.paidFen - o.refundedFen));
    const owed = sum(os.filter((o) => o.status === 'debt').map((o) => o.totalFen));
    const refunding = sum(os.flatMap((o) => (refundsByOrder.get(o.orderId) ?? []).filter((r) => r.status === 'pending').map((r) => r.amountFen)));
    if (paid + owed - refunding !== c.decidedFen) bad('decided_value', c.caseId, `visit ${visitId}: paid ${paid} + owed ${owed} − refunding ${refunding} ≠ decided ${c.decidedFen}`);
  }

  // 7. Our ledger equals WeChat's side.
  if (s.wechat) {
    const ours = new Map(s.ledger.filter((e) => e.kind === 'payment').map((e) => [e.ref, e.amountFen]));
    for (const [no, amount] of s.wechat.paid) {
      const mine = ours.get(no);
      if (mine === undefined) bad('wechat_vs_ledger', no, `WeChat took ${amount}, not on our ledger`);
      else if (mine !== amount) bad('wechat_vs_ledger', no, `WeChat took ${amount}, ledger says ${mine}`);
    }
    for (const [no, amount] of ours) if (!s.wechat.paid.has(no)) bad('wechat_vs_ledger', no, `ledger payment ${amount} unknown to WeChat`);
    const ourRefunds = new Map(s.ledger.filter((e) => e.kind === 'refund').map((e) => [e.ref, e.amountFen]));
    for (const [no, amount] of s.wechat.refunded) {
      const mine = ourRefunds.get(no);
      if (mine === undefined) bad('wechat_vs_ledger', no, `WeChat refunded ${amount}, not on our ledger`);
      else if (mine !== amount) bad('wechat_vs_ledger', no, `WeChat refunded ${amount}, ledger says ${mine}`);
    }
    for (const [no, amount] of ourRefunds) if (!s.wechat.refunded.has(no)) bad('wechat_vs_ledger', no, `ledger refund ${amount} unknown to WeChat`);
  }
  return problems;
}
