import { caseIdForVisit, decide, DEFAULT_SESSION_TIMINGS, SESSION_TRANSITIONS, initialDoorSession, initialOpenShelfSession, orderIdForVisit, sameLines, type SessionEffect } from './session.machine';
import { TERMINAL_SESSION_STATES, type RecognitionSummary, type SessionMsg, type SessionView } from './session.protocol';

const T0 = Date.UTC(2026, 10, 24, 2);
const door = (flow: 'semi' | 'auto'): SessionView => initialDoorSession({ sessionId: 'P1', shopperId: 'S1', cabinetId: 'C1', siteId: 'site', flow, visitId: 'V1', now: T0 });
const settled = (...items: Array<[string, number]>): RecognitionSummary => ({ status: 'settled', confidence: 0.99, items: items.map(([sku, qty]) => ({ sku, qty, confidence: 0.99 })) });
const complete = (rec: RecognitionSummary): SessionMsg => ({ type: 'VisitObserved', visit: { visitId: 'V1', status: 'complete', recognition: rec } });

/** Runs messages through the machine, returning the last state and every effect but projections. */
function run(s: SessionView, msgs: SessionMsg[], at = T0 + 1000): { state: SessionView; effects: SessionEffect[] } {
  const effects: SessionEffect[] = [];
  let state = s;
  for (const m of msgs) {
    const step = decide(state, m, at);
    state = step.state;
    effects.push(...step.effects.filter((e) => e.type !== 'Project'));
  }
  return { state, effects };
}
const types = (effects: SessionEffect[]) => effects.map((e) => e.type);

describe('session machine: visit progress', () => {
  it.each([
    ['open', 'door_open'],
    ['closed', 'awaiting_frames'],
    ['complete', 'recognising'],
  ] as const)('visit %s → %s', (status, shown) => {
    expect(run(door('auto'), [{ type: 'VisitObserved', visit: { visitId: 'V1', status } }]).state.status).toBe(shown);
  });

  it.each([
    ['relocked', 'relocked'],
    ['unlock_failed', 'failed'],
  ] as const)('visit %s without a cart → finished %s, nothing billed', (status, shown) => {
    const { state, effects } = run(door('semi'), [{ type: 'VisitObserved', visit: { visitId: 'V1', status } }]);
    expect(state).toMatchObject({ status: shown, finished: true });
    expect(types(effects)).toEqual(['Finished']);
  });

  it('ignores another visit’s reports and anything after finishing', () => {
    const s = door('auto');
    expect(decide(s, { type: 'VisitObserved', visit: { visitId: 'V2', status: 'open' } }, T0).state).toBe(s);
    const done = run(s, [{ type: 'VisitObserved', visit: { visitId: 'V1', status: 'relocked' } }]).state;
    expect(decide(done, complete(settled(['A', 1])), T0).state).toBe(done);
  });

  it('projects every change before its other effects, and only changes', () => {
    const s = door('auto');
    const step = decide(s, { type: 'VisitObserved', visit: { visitId: 'V1', status: 'open' } }, T0);
    expect(step.effects[0]).toEqual({ type: 'Project', view: step.state });
    expect(decide(step.state, { type: 'VisitObserved', visit: { visitId: 'V1', status: 'open' } }, T0).effects).toEqual([]);
  });
});

describe('session machine: fully automatic', () => {
  it('confident result → order → charge → charged (stock taken once)', () => {
    const { state, effects } = run(door('auto'), [complete(settled(['COLA', 2])), { type: 'OrderCreated', orderId: orderIdForVisit('V1'), totalFen: 700, held: false }, { type: 'ChargeAnswered', orderId: orderIdForVisit('V1'), outcome: 'accepted' }, { type: 'ChargeAnswered', orderId: orderIdForVisit('V1'), outcome: 'paid' }]);
    expect(state).toMatchObject({ status: 'charged', finished: true, orderId: 'OV1', totalFen: 700 });
    expect(types(effects)).toEqual(['TakeStock', 'CreateOrder', 'Charge', 'Schedule', 'Finished']);
    expect(effects[1]).toEqual({ type: 'CreateOrder', orderId: 'OV1', lines: [{ sku: 'COLA', qty: 2 }], held: false });
  });

  it.each([
    ['debt', 'debt'],
    ['refused', 'failed'],
  ] as const)('charge answered %s → %s', (outcome, status) => {
    const { state } = run(door('auto'), [complete(settled(['COLA', 1])), { type: 'OrderCreated', orderId: 'OV1', totalFen: 350, held: false }, { type: 'ChargeAnswered', orderId: 'OV1', outcome }]);
    expect(state).toMatchObject({ status, finished: true });
  });

  it('a charge error is retried by the timer, never given up as paid', () => {
    const { state, effects } = run(door('auto'), [complete(settled(['COLA', 1])), { type: 'OrderCreated', orderId: 'OV1', totalFen: 350, held: false }, { type: 'ChargeAnswered', orderId: 'OV1', outcome: 'error' }, { type: 'Tick' }]);
    expect(state).toMatchObject({ status: 'charging', finished: false });
    expect(types(effects)).toEqual(['TakeStock', 'CreateOrder', 'Charge', 'Schedule', 'Charge']);
  });

  it.each(['needs_review', 'failed'] as const)('recognition %s → held order and a review case; never a charge', (status) => {
    const rec: RecognitionSummary = { status, confidence: 0.4, items: [{ sku: 'COLA', qty: 1, confidence: 0.4 }] };
    const { state, effects } = run(door('auto'), [complete(rec), { type: 'OrderCreated', orderId: 'OV1', totalFen: 350, held: true }, { type: 'ReviewOpened', caseId: caseIdForVisit('V1') }]);
    expect(state).toMatchObject({ status: 'held_for_review', finished: true, caseId: 'RV1' });
    expect(types(effects)).toEqual(['CreateOrder', 'OpenReview', 'Finished']);
    expect(effects).toContainEqual(expect.objectContaining({ type: 'OpenReview', cause: status === 'failed' ? 'unreadable' : 'low_confidence', orderId: 'OV1' }));
    expect(types(effects)).not.toContain('Charge');
  });

  it('a held visit is not shown as held (final) before its order and case exist; a restart re-drives both', () => {
    const rec: RecognitionSummary = { status: 'needs_review', confidence: 0.4, items: [{ sku: 'COLA', qty: 1, confidence: 0.4 }] };
    const recognised = run(door('auto'), [complete(rec)]).state;
    expect(recognised).toMatchObject({ status: 'recognising', finished: false });
    expect(TERMINAL_SESSION_STATES).not.toContain(recognised.status);
    expect(decide(recognised, { type: 'Tick' }, T0).effects).toEqual([{ type: 'CreateOrder', orderId: 'OV1', lines: [{ sku: 'COLA', qty: 1 }], held: true }]);
    const ordered = run(recognised, [{ type: 'OrderCreated', orderId: 'OV1', totalFen: 350, held: true }]).state;
    expect(ordered).toMatchObject({ status: 'recognising', orderId: 'OV1', finished: false });
    expect(decide(ordered, { type: 'Tick' }, T0).effects).toEqual([expect.objectContaining({ type: 'OpenReview', caseId: 'RV1', cause: 'low_confidence', orderId: 'OV1' })]);
  });

  it('nothing taken → ended_empty with no order', () => {
    const { state, effects } = run(door('auto'), [complete(settled())]);
    expect(state).toMatchObject({ status: 'ended_empty', finished: true });
    expect(types(effects)).toEqual(['Finished']);
  });

  it('after a restart mid-charge the timer re-creates the order or re-sends the (idempotent) charge', () => {
    const noOrder = run(door('auto'), [complete(settled(['COLA', 1]))]).state;
    expect(types(decide(noOrder, { type: 'Tick' }, T0).effects)).toEqual(['CreateOrder']);
    const withOrder = run(noOrder, [{ type: 'OrderCreated', orderId: 'OV1', totalFen: 350, held: false }]).state;
    expect(decide(withOrder, { type: 'Tick' }, T0).effects).toEqual([{ type: 'Charge', orderId: 'OV1', totalFen: 350 }]);
  });
});

describe('session machine: semi-automatic', () => {
  const cart = (lines: Array<[string, number]>, total: number): SessionMsg => ({ type: 'CartCheckedOut', orderId: 'OV1', lines: lines.map(([sku, qty]) => ({ sku, qty })), totalFen: total });

  it('cart paid and recognition agrees → paid, no review', () => {
    const { state, effects } = run(door('semi'), [{ type: 'VisitObserved', visit: { visitId: 'V1', status: 'open' } }, cart([['COLA', 1]], 350), { type: 'OrderObserved', orderId: 'OV1', status: 'paid' }, complete(settled(['COLA', 1]))]);
    expect(state).toMatchObject({ status: 'paid', finished: true, cartPaid: true });
    expect(types(effects)).not.toContain('OpenReview');
  });

  it('recognition first, then the payment: checked when both are known', () => {
    const { state } = run(door('semi'), [complete(settled(['COLA', 1])), cart([['COLA', 1]], 350), { type: 'OrderObserved', orderId: 'OV1', status: 'paid' }]);
    expect(state).toMatchObject({ status: 'paid', finished: true });
  });

  it('recognition disagrees with the paid cart → discrepancy case with both sides', () => {
    const { state, effects } = run(door('semi'), [cart([['COLA', 1]], 350), { type: 'OrderObserved', orderId: 'OV1', status: 'paid' }, complete(settled(['COLA', 1], ['CHIPS', 1]))]);
    expect(effects).toContainEqual({ type: 'OpenReview', caseId: 'RV1', cause: 'discrepancy', proposed: [{ sku: 'COLA', qty: 1 }, { sku: 'CHIPS', qty: 1 }], paid: [{ sku: 'COLA', qty: 1 }], orderId: 'OV1' });
    expect(state).toMatchObject({ status: 'paid', finished: false });
    expect(run(state, [{ type: 'ReviewOpened', caseId: 'RV1' }]).state).toMatchObject({ status: 'paid', finished: true, caseId: 'RV1' });
  });

  it('goods taken and nothing paid by the deadline → review (an operator decides; nothing is charged)', () => {
    const s = run(door('semi'), [complete(settled(['COLA', 1]))]).state;
    expect(s.status).toBe('awaiting_payment');
    const late = decide(s, { type: 'Tick' }, s.payBy! + 1);
    // Not shown as final until the case exists; a tick before that asks for it again (idempotent).
    expect(late.state).toMatchObject({ status: 'awaiting_payment', finished: false });
    expect(late.effects).toContainEqual(expect.objectContaining({ type: 'OpenReview', cause: 'discrepancy', paid: [] }));
    expect(decide(late.state, { type: 'Tick' }, s.payBy! + 2).effects).toContainEqual(expect.objectContaining({ type: 'OpenReview', caseId: 'RV1' }));
    expect(run(late.state, [{ type: 'ReviewOpened', caseId: 'RV1' }]).state).toMatchObject({ status: 'held_for_review', finished: true, caseId: 'RV1' });
  });

  it('nothing taken and no cart → ended_empty', () => {
    expect(run(door('semi'), [complete(settled())]).state).toMatchObject({ status: 'ended_empty', finished: true });
  });

  it('a cart for a door that never opened is checked against nothing leaving the cabinet', () => {
    const { effects } = run(door('semi'), [cart([['COLA', 1]], 350), { type: 'OrderObserved', orderId: 'OV1', status: 'paid' }, { type: 'VisitObserved', visit: { visitId: 'V1', status: 'relocked' } }]);
    expect(effects).toContainEqual(expect.objectContaining({ type: 'OpenReview', cause: 'discrepancy', proposed: [], paid: [{ sku: 'COLA', qty: 1 }] }));
  });

  it('refuses a cart on a fully automatic session or after payment', () => {
    const auto = door('auto');
    expect(decide(auto, cart([['COLA', 1]], 350), T0).state).toBe(auto);
    const paid = run(door('semi'), [cart([['COLA', 1]], 350), { type: 'OrderObserved', orderId: 'OV1', status: 'paid' }]).state;
    expect(decide(paid, { ...cart([['CHIPS', 1]], 500) }, T0).state).toBe(paid);
  });
});

describe('session machine: open shelf', () => {
  const open = initialOpenShelfSession({ sessionId: 'P2', shopperId: 'S1', cabinetId: 'O1', siteId: 'site', orderId: 'O9', lines: [{ sku: 'COLA', qty: 2 }], totalFen: 700, now: T0 });

  it('paid → stock taken by the cart, finished', () => {
    const { state, effects } = run(open, [{ type: 'OrderObserved', orderId: 'O9', status: 'paid' }]);
    expect(state).toMatchObject({ status: 'paid', finished: true, cartPaid: true });
    expect(effects[0]).toEqual({ type: 'TakeStock', key: 'order:O9', lines: [{ sku: 'COLA', qty: 2 }] });
  });

  it('polls the order with a growing delay; after the pay window it closes the order, and ends when it reads cancelled', () => {
    const early = decide(open, { type: 'Tick' }, T0 + 1000).effects;
    expect(early).toEqual([{ type: 'CheckOrder', orderId: 'O9' }, { type: 'Schedule', ms: DEFAULT_SESSION_TIMINGS.minPollMs + 50 }]);
    const later = decide(open, { type: 'Tick' }, T0 + 10 * 60_000).effects;
    expect(later).toContainEqual({ type: 'Schedule', ms: DEFAULT_SESSION_TIMINGS.maxPollMs });
    const late = decide(open, { type: 'Tick' }, open.payBy! + 1);
    expect(late.state.status).toBe('awaiting_payment');
    expect(late.effects).toContainEqual({ type: 'CloseOrder', orderId: 'O9' });
    expect(decide(late.state, { type: 'OrderObserved', orderId: 'O9', status: 'cancelled' }, open.payBy! + 2).state).toMatchObject({ status: 'failed', finished: true, message: '支付超时，订单已关闭' });
    // Paid at the last moment: the close found it paid, and the cart is paid.
    expect(decide(late.state, { type: 'OrderObserved', orderId: 'O9', status: 'paid' }, open.payBy! + 2).state).toMatchObject({ status: 'paid', finished: true });
  });

  it('semi-automatic, goods taken, cart unpaid at the window’s end: the cart is closed and the visit goes to review', () => {
    const door = initialDoorSession({ sessionId: 'P3', shopperId: 'S1', cabinetId: 'C1', siteId: 'site', flow: 'semi', visitId: 'V3', now: T0 });
    const carted = decide(door, { type: 'CartCheckedOut', orderId: 'OV3', lines: [{ sku: 'COLA', qty: 1 }], totalFen: 350 }, T0 + 10).state;
    const seen = decide(carted, { type: 'VisitObserved', visit: { visitId: 'V3', status: 'complete', recognition: { status: 'settled', confidence: 0.9995, items: [{ sku: 'COLA', qty: 2, confidence: 0.9995 }] } } }, T0 + 20).state;
    const late = decide(seen, { type: 'Tick' }, seen.payBy! + 1);
    expect(late.effects).toEqual(expect.arrayContaining([{ type: 'CloseOrder', orderId: 'OV3' }, expect.objectContaining({ type: 'OpenReview', caseId: 'RV3', orderId: 'OV3' })]));
    // The cart reads cancelled before the case is open: the session waits for the case, never ends as failed.
    const cancelled = decide(late.state, { type: 'OrderObserved', orderId: 'OV3', status: 'cancelled' }, seen.payBy! + 2).state;
    expect(cancelled.finished).toBe(false);
    expect(decide(cancelled, { type: 'ReviewOpened', caseId: 'RV3' }, seen.payBy! + 3).state).toMatchObject({ status: 'held_for_review', finished: true });
  });
});

describe('sameLines', () => {
  it.each([
    [[['A', 1], ['B', 2]], [['B', 2], ['A', 1]], true],
    [[['A', 1], ['A', 1]], [['A', 2]], true],
    [[['A', 1]], [['A', 2]], false],
    [[['A', 1], ['B', 0]], [['A', 1]], true],
    [[], [['A', 1]], false],
  ] as Array<[Array<[string, number]>, Array<[string, number]>, boolean]>)('%j vs %j → %s', (a, b, same) => {
    const lines = (x: Array<[string, number]>) => x.map(([sku, qty]) => ({ sku, qty }));
    expect(sameLines(lines(a), lines(b))).toBe(same);
  });
});

describe('session transitions table', () => {
  it('reaches every state from the initial ones, and terminal states have no exit', () => {
    const seen = new Set<string>(['unlocking', 'awaiting_payment']);
    const queue = [...seen];
    while (queue.length) {
      for (const next of SESSION_TRANSITIONS[queue.shift() as keyof typeof SESSION_TRANSITIONS]) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(SESSION_TRANSITIONS).sort());
    for (const t of TERMINAL_SESSION_STATES) expect(SESSION_TRANSITIONS[t]).toEqual([]);
  });

  it('refuses a move the table does not allow (a corrupted state is a bug, not a guess)', () => {
    const corrupt: SessionView = { ...door('semi'), status: 'debt', finished: false };
    expect(() => decide(corrupt, { type: 'VisitObserved', visit: { visitId: 'V1', status: 'relocked' } }, T0)).toThrow(/no transition debt → relocked/);
  });
});
