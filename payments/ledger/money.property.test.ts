import fc from 'fast-check';
import { checkMoney } from './invariants';
import { MoneyModel, type ModelAction } from './money.model';

/**
 * Random sequences of shopper and operator actions, WeChat's late, repeated or lost answers and restarts
 * (recover), interpreted by the money rules (money.model.ts); after each sequence every money invariant
 * holds. MONEY_PROPERTY_RUNS sets the count (npm run money:properties runs the nightly size); fast-check
 * prints the seed and the shrunk sequence of a failure (rerun with MONEY_PROPERTY_SEED).
 */
const RUNS = Number(process.env.MONEY_PROPERTY_RUNS ?? 2000);
const SEED = process.env.MONEY_PROPERTY_SEED ? Number(process.env.MONEY_PROPERTY_SEED) : undefined;

const action: fc.Arbitrary<ModelAction> = fc.oneof(
  fc.record({ type: fc.constant('order' as const), amountFen: fc.integer({ min: 1, max: 5000 }), visit: fc.boolean() }),
  fc.record({ type: fc.constant('payJsapi' as const), order: fc.nat(20) }),
  fc.record({ type: fc.constant('deduct' as const), order: fc.nat(20), outcome: fc.constantFrom('success' as const, 'refused' as const, 'lost' as const) }),
  fc.record({ type: fc.constant('wechatPays' as const), attempt: fc.nat(20) }),
  fc.record({ type: fc.constant('deliver' as const), note: fc.nat(20), twice: fc.boolean() }),
  fc.record({ type: fc.constant('close' as const), order: fc.nat(20) }),
  fc.record({ type: fc.constant('refund' as const), order: fc.nat(20), amountFen: fc.integer({ min: 1, max: 3000 }), answerLost: fc.boolean() }),
  fc.record({ type: fc.constant('review' as const), order: fc.nat(20), decision: fc.constantFrom('confirm' as const, 'adjust' as const, 'waive' as const), decidedFen: fc.integer({ min: 0, max: 8000 }) }),
  fc.constant({ type: 'recover' as const }),
);

describe('money properties (the rules, interpreted)', () => {
  it(`${RUNS} random sequences end with every invariant holding`, () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => {
        const m = new MoneyModel();
        for (const a of actions) m.apply(a);
        m.apply({ type: 'recover' });
        const problems = checkMoney(m.snapshot());
        if (problems.length) throw new Error(`invariants broken: ${JSON.stringify(problems)}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  it('the invariants catch what they are meant to: a doubled payment, a lost refund, a debt with no cause', () => {
    const m = new MoneyModel();
    m.apply({ type: 'order', amountFen: 300, visit: false });
    m.apply({ type: 'payJsapi', order: 0 });
    m.apply({ type: 'wechatPays', attempt: 0 });
    m.apply({ type: 'recover' });
    expect(checkMoney(m.snapshot())).toEqual([]);
    const s = m.snapshot();
    const doubled = { ...s, payments: [...s.payments, { ...s.payments[0]!, outTradeNo: 'J2' }], ledger: [...s.ledger, { ...s.ledger[0]!, _id: 'payment:J2', ref: 'J2' }] };
    expect(checkMoney(doubled).map((p) => p.check)).toContain('paid_twice');
    const unknownToUs = { ...s, wechat: { paid: new Map([...s.wechat!.paid, ['J9', 300]]), refunded: new Map([['R9', 100]]) } };
    expect(checkMoney(unknownToUs).map((p) => p.check)).toEqual(['wechat_vs_ledger', 'wechat_vs_ledger']);
    const causeless = { ...s, debts: [{ debtId: 'D-O1', orderId: 'O1', status: 'open' as const, amountFen: 300, reason: 'because' }] };
    expect(checkMoney(causeless).map((p) => p.check)).toEqual(['debt_backing', 'debt_ledger']);
  });
});
