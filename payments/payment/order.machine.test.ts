import { LIFECYCLES, RefusedMove, assertMove, canMove, netReview, nettingOutcome, type Lifecycle } from './order.machine';
import { nextAttemptStatus, orderAfterAttempt, type Observation } from './payment.machine';
import type { OrderStatus, PaymentStatus } from '../../store/models/commerce';

describe('money lifecycles: transitions tables', () => {
  it.each(Object.keys(LIFECYCLES) as Lifecycle[])('%s: every state reachable from an initial one, terminal states have no exit', (what) => {
    const { transitions, initial } = LIFECYCLES[what] as { transitions: Record<string, readonly string[]>; initial: readonly string[] };
    const seen = new Set<string>(initial);
    const queue = [...initial];
    while (queue.length) {
      for (const next of transitions[queue.shift()!] ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(next);
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(transitions).sort());
    // Every target is a state of the table.
    for (const targets of Object.values(transitions)) for (const t of targets) expect(Object.keys(transitions)).toContain(t);
  });

  it.each([
    ['order', 'refunded', 'paid'],
    ['order', 'waived', 'paid'],
    ['order', 'paid', 'debt'],
    ['order', 'paid', 'awaiting_payment'],
    ['order', 'held_for_review', 'paid'],
    ['order', 'debt', 'cancelled'],
    ['attempt', 'succeeded', 'failed'],
    ['attempt', 'succeeded', 'created'],
    ['debt', 'paid', 'open'],
    ['debt', 'waived', 'paid'],
    ['refund', 'succeeded', 'pending'],
    ['refund', 'failed', 'succeeded'],
  ] as const)('refuses %s %s → %s', (what, from, to) => {
    expect(canMove(what, from, to)).toBe(false);
    expect(() => assertMove(what, from, to, 'X1')).toThrow(RefusedMove);
  });

  it('staying put is always allowed (a replay writes nothing new)', () => {
    for (const [what, { transitions }] of Object.entries(LIFECYCLES)) for (const s of Object.keys(transitions)) expect(canMove(what as Lifecycle, s, s)).toBe(true);
  });

  it('every move the payment rules make is in the tables', () => {
    const orders = Object.keys(LIFECYCLES.order.transitions) as OrderStatus[];
    const attempts = Object.keys(LIFECYCLES.attempt.transitions) as PaymentStatus[];
    const observations: Observation[] = [{ kind: 'succeeded', transactionId: 't', amountFen: 1 }, { kind: 'failed', code: 'NOTENOUGH' }, { kind: 'pending' }, { kind: 'closed' }, { kind: 'not_found' }, { kind: 'unknown' }];
    for (const a of attempts) for (const o of observations) expect(canMove('attempt', a, nextAttemptStatus(a, o))).toBe(true);
    for (const o of orders) for (const ch of ['jsapi', 'papay'] as const) for (const a of attempts) for (const code of ['NOTENOUGH', 'SYSTEMERROR']) expect(canMove('order', o, orderAfterAttempt(o, ch, a, code).status)).toBe(true);
  });
});

describe('netting a reviewed semi-automatic visit', () => {
  it.each([
    // decision, paid, refunded, decided → money, difference, outcome
    ['confirm', 350, 0, 950, { kind: 'bill', amountFen: 600 }, 600, 'debt'],
    ['adjust', 950, 0, 350, { kind: 'refund', amountFen: 600 }, -600, 'refunded 600'],
    ['adjust', 500, 0, 500, { kind: 'settled' }, 0, 'settled'],
    ['confirm', 0, 0, 730, { kind: 'bill', amountFen: 730 }, 730, 'debt'],
    ['adjust', 950, 600, 350, { kind: 'settled' }, 0, 'settled'],
    ['adjust', 950, 100, 350, { kind: 'refund', amountFen: 500 }, -500, 'refunded 500'],
    ['adjust', 300, 0, 0, { kind: 'refund', amountFen: 300 }, -300, 'refunded 300'],
    ['waive', 350, 0, 950, { kind: 'settled' }, 0, 'waived: paid 350 kept'],
    ['waive', 0, 0, 950, { kind: 'settled' }, 0, 'waived: nothing due'],
  ] as const)('%s: paid %i, refunded %i, decided %i', (decision, paidFen, refundedFen, decidedFen, money, difference, outcome) => {
    const r = netReview({ decision, paidFen, refundedFen, decidedFen });
    expect(r.money).toEqual(money);
    expect(r.netting.differenceFen).toBe(difference);
    expect(r.netting.decidedFen - r.netting.paidFen).toBe(difference);
    expect(nettingOutcome(decision, r.netting)).toBe(outcome);
  });

  it('refuses fractions, negatives and refunds above the payment', () => {
    expect(() => netReview({ decision: 'confirm', paidFen: 1.5, refundedFen: 0, decidedFen: 1 })).toThrow(RangeError);
    expect(() => netReview({ decision: 'confirm', paidFen: 1, refundedFen: 0, decidedFen: -1 })).toThrow(RangeError);
    expect(() => netReview({ decision: 'confirm', paidFen: 1, refundedFen: 2, decidedFen: 1 })).toThrow(RangeError);
  });
});
