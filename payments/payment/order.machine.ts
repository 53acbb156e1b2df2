import type { DebtStatus, Netting, OrderStatus, PaymentStatus, RefundStatus } from '../../store/models/commerce';

/**
 * The money lifecycle, pure: the states an order, a payment attempt, a debt and a refund may be in, every
 * move each may make, and the netting rules of a reviewed semi-automatic visit. The payment actor and the
 * money repository ask `assertMove` before every status write, so a move outside these tables is a bug that
 * stops the write rather than a guess; a test walks the tables (every state reachable, terminal states closed).
 */

export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  draft: ['awaiting_payment', 'paid', 'debt', 'cancelled'],
  held_for_review: ['draft', 'waived'],
  awaiting_payment: ['paid', 'debt', 'cancelled'],
  debt: ['paid', 'waived'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  waived: [],
  // Closed at WeChat; only a success WeChat reports after all (the close lost the race) moves it on.
  cancelled: ['paid'],
};
/** Orders are created draft (cart, confident recognition), held (review) or as debt (a pending order). */
export const ORDER_INITIAL: readonly OrderStatus[] = ['draft', 'held_for_review', 'debt'];

export const ATTEMPT_TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  created: ['pending', 'unknown', 'succeeded', 'failed', 'closed'],
  pending: ['created', 'unknown', 'succeeded', 'failed', 'closed'],
  unknown: ['created', 'pending', 'succeeded', 'failed', 'closed'],
  succeeded: [],
  // Money is the truth: a success reported after a local failure or close is still recorded.
  failed: ['succeeded'],
  closed: ['succeeded'],
};
export const ATTEMPT_INITIAL: readonly PaymentStatus[] = ['created'];

export const DEBT_TRANSITIONS: Readonly<Record<DebtStatus, readonly DebtStatus[]>> = {
  open: ['reminded', 'paid', 'waived'],
  reminded: ['reminded', 'paid', 'waived'],
  paid: [],
  waived: [],
};
export const DEBT_INITIAL: readonly DebtStatus[] = ['open'];

export const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  pending: ['succeeded', 'failed'],
  succeeded: [],
  // ABNORMAL (the shopper's card closed) refunded again to another account (apply-abnormal-refund).
  failed: ['pending'],
};
export const REFUND_INITIAL: readonly RefundStatus[] = ['pending'];

export const LIFECYCLES = {
  order: { transitions: ORDER_TRANSITIONS, initial: ORDER_INITIAL },
  attempt: { transitions: ATTEMPT_TRANSITIONS, initial: ATTEMPT_INITIAL },
  debt: { transitions: DEBT_TRANSITIONS, initial: DEBT_INITIAL },
  refund: { transitions: REFUND_TRANSITIONS, initial: REFUND_INITIAL },
} as const;
export type Lifecycle = keyof typeof LIFECYCLES;

/** Whether `what` may move `from` → `to` (staying put is always allowed: a replay writes nothing new). */
export function canMove(what: Lifecycle, from: string, to: string): boolean {
  if (from === to) return true;
  const t = LIFECYCLES[what].transitions as Readonly<Record<string, readonly string[]>>;
  return (t[from] ?? []).includes(to);
}

export class RefusedMove extends Error {
  constructor(
    readonly what: Lifecycle,
    readonly from: string,
    readonly to: string,
    readonly id: string,
  ) {
    super(`${what} ${id}: no transition ${from} → ${to}`);
  }
}

export function assertMove(what: Lifecycle, from: string, to: string, id: string): void {
  if (!canMove(what, from, to)) throw new RefusedMove(what, from, to, id);
}

// ---- netting a reviewed semi-automatic visit ---------------------------------------------------------

export type ReviewDecision = 'confirm' | 'adjust' | 'waive';

/** What a decision does with the money: bill the difference as a pending order, refund the over-payment, or nothing. */
export type ReviewMoney = { kind: 'bill'; amountFen: number } | { kind: 'refund'; amountFen: number } | { kind: 'settled' };

/**
 * A semi-automatic review, netted: the shopper owes the decided value of what was taken, minus what was
 * already paid (net of refunds). Confirm and adjust decide a value; waive decides that what was paid
 * stands for the visit (nothing more billed, nothing refunded: the shopper paid for the cart declared).
 */
export function netReview(o: { decision: ReviewDecision; paidFen: number; refundedFen: number; decidedFen: number }): { netting: Netting; money: ReviewMoney } {
  for (const [k, v] of Object.entries(o)) if (k !== 'decision' && (!Number.isInteger(v) || (v as number) < 0)) throw new RangeError(`${k} must be a non-negative integer (fen)`);
  if (o.refundedFen > o.paidFen) throw new RangeError('refunded more than paid');
  const paid = o.paidFen - o.refundedFen;
  const decided = o.decision === 'waive' ? paid : o.decidedFen;
  const differenceFen = decided - paid;
  const netting: Netting = { paidFen: paid, decidedFen: decided, differenceFen };
  if (differenceFen > 0) return { netting, money: { kind: 'bill', amountFen: differenceFen } };
  if (differenceFen < 0) return { netting, money: { kind: 'refund', amountFen: -differenceFen } };
  return { netting, money: { kind: 'settled' } };
}

/** The outcome text the console and the audit log show for a netted decision. */
export function nettingOutcome(decision: ReviewDecision, n: Netting): string {
  if (decision === 'waive') return n.paidFen > 0 ? `waived: paid ${n.paidFen} kept` : 'waived: nothing due';
  if (n.differenceFen > 0) return 'debt';
  if (n.differenceFen < 0) return `refunded ${-n.differenceFen}`;
  return 'settled';
}
