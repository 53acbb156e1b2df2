import type { PapayOrder } from '../wechatpay/papay.client';
import type { Transaction, WxFailure } from '../wechatpay/v3.client';
import type { Observation } from './payment.machine';

/**
 * What WeChat's answers mean, pure: a v3 transaction, a papay order or a failed call read as one
 * Observation of an attempt (payment.machine's nextAttemptStatus takes it from there), and the debt
 * subscribe message's content. No I/O, so each is table-tested (observations.test.ts).
 */
/** The mini-program page a debt message opens (miniprogram/miniprogram/app.json). */
export const DEBT_PAGE = 'pages/debt/index';

/** RFC3339 in +08:00 to whole seconds: identical on every re-entry of the same attempt. */
export function rfc3339(ms: number): string {
  return `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
}

/**
 * One reading of a trade state, whichever API reported it (v3 query/notification, papay v2 order query): the
 * states v3 and v2 share mean the same; v2's ACCEPT (deduction accepted, not yet settled) is pending.
 */
function observationOf(state: Transaction['trade_state'] | PapayOrder['tradeState'], transactionId: string | undefined, amountFen: number | undefined, errCode: string | undefined): Observation {
  switch (state) {
    case 'SUCCESS':
    case 'REFUND':
      return transactionId ? { kind: 'succeeded', transactionId, amountFen: amountFen ?? 0 } : { kind: 'unknown' };
    case 'ACCEPT':
    case 'NOTPAY':
    case 'USERPAYING':
      return { kind: 'pending' };
    case 'CLOSED':
    case 'REVOKED':
      return { kind: 'closed' };
    case 'PAYERROR':
      return { kind: 'failed', code: errCode ?? 'PAYERROR' };
  }
}

export const observationFromTransaction = (t: Transaction): Observation => observationOf(t.trade_state, t.transaction_id, t.amount?.total, undefined);

export const observationFromPapay = (o: PapayOrder): Observation => observationOf(o.tradeState, o.transactionId, o.totalFee, o.errCode);

export function observationFromFailure(f: WxFailure): Observation {
  if (f.code === 'ORDER_NOT_EXIST' || f.code === 'ORDERNOTEXIST') return { kind: 'not_found' };
  return { kind: 'unknown' };
}

/** The debt subscribe message: the page it opens and its template fields (amount, what happened, when). */
export function debtMessage(what: 'created' | 'cleared', amountFen: number, now: number): { page: string; data: Record<string, string> } {
  return {
    page: DEBT_PAGE,
    data: { amount1: `${(amountFen / 100).toFixed(2)}元`, thing2: what === 'created' ? '扣款未成功，请补缴欠款' : '欠款已结清', time3: rfc3339(now).slice(0, 16).replace('T', ' ') },
  };
}
