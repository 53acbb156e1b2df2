/**
 * The lifecycle check every money status write asks first (payments/payment/order.machine.ts `assertMove`,
 * handed in by the payment module so the store does not depend on it): it throws on a move outside the
 * transitions tables, which stops the write rather than storing a guess.
 */
export type MoveGuard = (what: 'order' | 'attempt' | 'debt' | 'refund', from: string, to: string, id: string) => void;
