import type { PaymentStatus } from '../../store/models/commerce';
import { contractCodeFor, decideRefund, nextAttemptStatus, orderAfterAttempt, outRefundNoFor, outTradeNoFor, visitGate, type Observation } from './payment.machine';

// FerretDB, RSA key generation and the emulator are slow on the shared 2-core machine.
jest.setTimeout(60_000);

describe('payment machine rules', () => {
  it('makes deterministic, valid merchant numbers', () => {
    const a = outTradeNoFor('order-123', 'P', 1);
    expect(a).toBe(outTradeNoFor('order-123', 'P', 1));
    expect(a).not.toBe(outTradeNoFor('order-123', 'P', 2));
    expect(a).not.toBe(outTradeNoFor('order-123', 'J', 1));
    for (const no of [a, outRefundNoFor('o', 'k'), contractCodeFor('s', 1)]) expect(no).toMatch(/^[A-Za-z0-9]{6,32}$/);
  });

  const paid: Observation = { kind: 'succeeded', transactionId: 't', amountFen: 1 };
  it.each<[PaymentStatus, Observation, PaymentStatus]>([
    ['created', { kind: 'pending' }, 'pending'],
    ['created', { kind: 'unknown' }, 'unknown'],
    ['unknown', { kind: 'not_found' }, 'created'],
    ['pending', paid, 'succeeded'],
    ['unknown', paid, 'succeeded'],
    ['succeeded', { kind: 'failed', code: 'X' }, 'succeeded'],
    ['succeeded', { kind: 'pending' }, 'succeeded'],
    ['succeeded', { kind: 'not_found' }, 'succeeded'],
    ['failed', { kind: 'pending' }, 'failed'],
    ['failed', paid, 'succeeded'],
    ['pending', { kind: 'failed', code: 'NOTENOUGH' }, 'failed'],
    ['pending', { kind: 'closed' }, 'closed'],
    ['closed', { kind: 'pending' }, 'closed'],
  ])('%s + %o → %s (duplicates and late arrivals are absorbed)', (from, obs, to) => {
    expect(nextAttemptStatus(from, obs)).toBe(to);
  });

  it('turns a refused deduction into a debt and a later payment into a settled debt', () => {
    expect(orderAfterAttempt('awaiting_payment', 'papay', 'failed', 'CONTRACT_NOT_EXIST')).toEqual({ status: 'debt', effects: [{ type: 'OpenDebt', reason: 'CONTRACT_NOT_EXIST' }, { type: 'NotifyDebtCreated' }] });
    expect(orderAfterAttempt('awaiting_payment', 'jsapi', 'failed', 'PAYERROR')).toEqual({ status: 'awaiting_payment', effects: [] });
    expect(orderAfterAttempt('debt', 'jsapi', 'succeeded')).toEqual({ status: 'paid', effects: [{ type: 'SettleDebt', via: 'jsapi' }, { type: 'NotifyDebtCleared' }] });
    expect(orderAfterAttempt('paid', 'papay', 'succeeded')).toEqual({ status: 'paid', effects: [] });
  });

  it('never refunds beyond the paid amount', () => {
    expect(decideRefund({ status: 'paid', paidFen: 1000 }, 600, 400)).toEqual({ ok: true });
    expect(decideRefund({ status: 'paid', paidFen: 1000 }, 600, 401)).toEqual({ ok: false, reason: 'exceeds_paid' });
    expect(decideRefund({ status: 'awaiting_payment', paidFen: 0 }, 0, 1)).toEqual({ ok: false, reason: 'not_paid' });
    expect(decideRefund({ status: 'paid', paidFen: 1000 }, 0, 0)).toEqual({ ok: false, reason: 'invalid_amount' });
  });

  it('blocks visits while a debt is open or reminded', () => {
    expect(visitGate([{ debtId: 'd', amountFen: 5, status: 'paid' }])).toEqual({ allowed: true });
    expect(visitGate([{ debtId: 'd', amountFen: 5, status: 'reminded' }])).toEqual({ allowed: false, reason: 'debt', debts: [{ debtId: 'd', amountFen: 5 }] });
  });
});
