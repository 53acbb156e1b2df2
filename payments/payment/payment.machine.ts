import { createHash } from 'node:crypto';
import { assertNever } from '../../common/assert-never';
import type { OrderStatus, PaymentStatus } from '../../store/models/commerce';
import type { PaymentCommand, PaymentMessage } from './payment.protocol';

/**
 * The pure rules of payments: no I/O, no clock. The service (payment.service.ts) reads the records,
 * asks these functions what to do, and writes the answer with compare-and-set; the actor
 * (payment.actor.ts) serialises one shopper's messages through them.
 */

export type AttemptKind = 'J' | 'P' | 'C';
/** J: JSAPI payment, P: papay deduction, C: pay-and-sign (contractorder). */
export const ATTEMPT_KINDS: Record<AttemptKind, 'jsapi' | 'papay'> = { J: 'jsapi', P: 'papay', C: 'jsapi' };

/**
 * Deterministic merchant order number: `CF<kind><attempt:2><22 chars of sha256(orderId)>` (27 chars,
 * [A-Za-z0-9]). The same order and attempt always give the same number, so a retry can never become a
 * second charge: WeChat charges one out_trade_no at most once.
 */
export function outTradeNoFor(orderId: string, kind: AttemptKind, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 99) throw new RangeError('attempt must be 1..99');
  const h = createHash('sha256').update(orderId, 'utf8').digest('base64url').replace(/[-_]/g, '0').slice(0, 22);
  return `CF${kind}${String(attempt).padStart(2, '0')}${h}`;
}

/** The kind of an attempt, read back from its number (see outTradeNoFor). */
export const kindOf = (outTradeNo: string): AttemptKind => outTradeNo.charAt(2) as AttemptKind;

/** Deterministic refund number per order and caller-chosen refund key (e.g. the review case id). */
export function outRefundNoFor(orderId: string, refundKey: string): string {
  return `CFR${createHash('sha256').update(`${orderId}\n${refundKey}`, 'utf8').digest('base64url').replace(/[-_]/g, '0').slice(0, 29)}`;
}

/** Contract codes are never reusable at WeChat: one per shopper and signing sequence number. */
export function contractCodeFor(shopperId: string, seq: number): string {
  return `CFK${String(seq).padStart(3, '0')}${createHash('sha256').update(shopperId, 'utf8').digest('base64url').replace(/[-_]/g, '0').slice(0, 24)}`;
}

/** What WeChat (notification or query) says about one out_trade_no. */
export type Observation =
  | { kind: 'succeeded'; transactionId: string; amountFen: number }
  | { kind: 'failed'; code: string }
  /** Known to WeChat, not settled (NOTPAY, ACCEPT, USERPAYING). */
  | { kind: 'pending' }
  | { kind: 'closed' }
  /** WeChat has never heard of it: the request never arrived, so it is safe to send again. */
  | { kind: 'not_found' }
  /** No usable answer (timeout, 5xx, unverifiable). */
  | { kind: 'unknown' };

export const TERMINAL: ReadonlySet<PaymentStatus> = new Set(['succeeded', 'failed', 'closed']);

/**
 * One state per attempt, whatever order observations arrive in. Money is the truth: a success beats
 * everything (a late success after a local `failed`/`closed` is still recorded, and flagged by the caller);
 * other terminal states absorb; duplicates return the same state (no write).
 */
export function nextAttemptStatus(current: PaymentStatus, obs: Observation): PaymentStatus {
  switch (obs.kind) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return TERMINAL.has(current) ? current : 'failed';
    case 'closed':
      return TERMINAL.has(current) ? current : 'closed';
    case 'pending':
      return current === 'created' || current === 'unknown' ? 'pending' : current;
    case 'not_found':
      // Never reached WeChat: back to `created`, i.e. safe to send again with the same number.
      return current === 'unknown' || current === 'pending' ? 'created' : current;
    case 'unknown':
      return current === 'created' || current === 'pending' ? 'unknown' : current;
    default:
      return assertNever(obs, 'observation');
  }
}

/** papay refusals that make a debt (the contract is gone, the balance is short, risk control said no). */
export function isRefusal(code: string): boolean {
  return ['CONTRACT_NOT_EXIST', 'CONTRACTNOTEXIST', 'NOTENOUGH', 'NOT_ENOUGH', 'RULELIMIT', 'RULE_LIMIT', 'ACCOUNTERROR', 'USER_ACCOUNT_ABNORMAL', 'ORDERCLOSED', 'PAYERROR', 'NO_CONTRACT', 'TRADE_ERROR'].includes(code);
}

export type OrderEffect =
  | { type: 'OpenDebt'; reason: string }
  | { type: 'SettleDebt'; via: 'papay' | 'jsapi' }
  | { type: 'NotifyDebtCreated' }
  | { type: 'NotifyDebtCleared' }
  | { type: 'FlagLatePayment' };

/** What an attempt's settled outcome does to its order: a state change (or none) and follow-up effects. */
export function orderAfterAttempt(order: OrderStatus, channel: 'jsapi' | 'papay', outcome: PaymentStatus, failureCode?: string): { status: OrderStatus; effects: OrderEffect[] } {
  if (outcome === 'succeeded') {
    switch (order) {
      case 'awaiting_payment':
      case 'draft':
        return { status: 'paid', effects: [] };
      case 'debt':
        return { status: 'paid', effects: [{ type: 'SettleDebt', via: channel }, { type: 'NotifyDebtCleared' }] };
      case 'paid':
      case 'partially_refunded':
      case 'refunded':
        return { status: order, effects: [] };
      case 'cancelled':
        // Closed locally while WeChat took the money (the close lost the race): the money is the truth.
        return { status: 'paid', effects: [] };
      case 'held_for_review':
      case 'waived':
        // Money arrived for an order we no longer charge: keep it visible for a refund.
        return { status: order, effects: [{ type: 'FlagLatePayment' }] };
      default:
        return assertNever(order, 'order status');
    }
  }
  if (outcome === 'failed' && channel === 'papay' && (order === 'awaiting_payment' || order === 'draft') && isRefusal(failureCode ?? 'PAYERROR')) {
    return { status: 'debt', effects: [{ type: 'OpenDebt', reason: failureCode ?? 'PAYERROR' }, { type: 'NotifyDebtCreated' }] };
  }
  // A failed or closed JSAPI attempt leaves the order awaiting payment (the shopper may pay again).
  return { status: order, effects: [] };
}

export type RefundDecision = { ok: true } | { ok: false; reason: 'not_paid' | 'exceeds_paid' | 'invalid_amount' };

/** Refunds never exceed what was paid: `committed` counts refunds pending or succeeded. */
export function decideRefund(order: { status: OrderStatus; paidFen: number }, committedFen: number, amountFen: number): RefundDecision {
  if (!Number.isInteger(amountFen) || amountFen < 1) return { ok: false, reason: 'invalid_amount' };
  if (order.paidFen <= 0 || !['paid', 'partially_refunded', 'refunded'].includes(order.status)) return { ok: false, reason: 'not_paid' };
  if (committedFen + amountFen > order.paidFen) return { ok: false, reason: 'exceeds_paid' };
  return { ok: true };
}

export type VisitGate = { allowed: true } | { allowed: false; reason: 'debt'; debts: Array<{ debtId: string; amountFen: number }> };

/** An open or reminded debt blocks every new visit, at every cabinet. */
export function visitGate(debts: Array<{ debtId: string; amountFen: number; status: string }>): VisitGate {
  const open = debts.filter((d) => d.status === 'open' || d.status === 'reminded');
  return open.length ? { allowed: false, reason: 'debt', debts: open.map((d) => ({ debtId: d.debtId, amountFen: d.amountFen })) } : { allowed: true };
}

// ---- the actor's machine ----------------------------------------------------------------------------

/** Per-shopper actor state: only bookkeeping; the records in the store are the truth. */
export interface PaymentActorState {
  shopperId: string;
  handled: number;
  lastRequestIds: string[];
}

export type PaymentEffect = { type: 'Execute'; command: PaymentCommand } | { type: 'Process'; message: Exclude<PaymentMessage, PaymentCommand> };

export const initialPaymentActorState = (shopperId: string): PaymentActorState => ({ shopperId, handled: 0, lastRequestIds: [] });

/**
 * Routes each message to the effect that performs it. A request id seen among the last few is still
 * executed (the service is idempotent and answers from the records), so a client's retry gets the same
 * answer rather than silence.
 */
export function decide(state: PaymentActorState, msg: PaymentMessage): { state: PaymentActorState; effects: PaymentEffect[] } {
  switch (msg.type) {
    case 'ChargeOrder':
    case 'PayOrder':
    case 'RefundOrder':
    case 'ClearDebts':
    case 'CheckVisitAllowed':
    case 'StartSigning':
    case 'BillReview':
    case 'RaisePendingOrder':
    case 'ReleaseHeldOrder':
    case 'WaiveDebt':
    case 'CloseOrder':
      return {
        state: { ...state, handled: state.handled + 1, lastRequestIds: [msg.requestId, ...state.lastRequestIds].slice(0, 16) },
        effects: [{ type: 'Execute', command: msg }],
      };
    case 'NotificationReceived':
    case 'ResolvePayment':
      return { state: { ...state, handled: state.handled + 1 }, effects: [{ type: 'Process', message: msg }] };
    default:
      return assertNever(msg, 'payment message');
  }
}
