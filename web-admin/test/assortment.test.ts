import type { EnrolmentRow } from '../../contracts/catalogue-api';
import { setLang } from '../src/i18n';
import { filesProblem, standingOf, type EnrolmentState } from '../src/views/enrolment';
import { draftProblems, gridOf, laneIdAt } from '../src/views/planogram';

const lane = (laneId: string, sku = 'COLA-ORIG', capacity = '6', par = '') => ({ laneId, sku, capacity, par });

describe('planogram editor, pure parts', () => {
  it('spans the grid from A1 to the furthest row letter and column number, gaps included', () => {
    expect(gridOf(['A1', 'A2', 'B1', 'D10'])).toEqual({ rows: 4, cols: 10 });
    expect(gridOf([])).toEqual({ rows: 0, cols: 0 });
    expect([laneIdAt(0, 0), laneIdAt(2, 11)]).toEqual(['A1', 'C12']);
  });

  it('names every lane that cannot be saved: no product, a capacity or par out of range, a par above the capacity', () => {
    expect(draftProblems([lane('A1'), lane('A2', 'COLA-ZERO', '10', '3')])).toEqual([]);
    expect(draftProblems([])).toEqual([{ key: 'planogram.noLanes', vars: {} }]);
    expect(draftProblems([lane('B1', ''), lane('A2', 'X', '0'), lane('A1', 'X', '6', '-1'), lane('A3', 'X', '6', '7'), lane('A4', 'X', '2.5')]).map((p) => [p.key, p.vars['lane']])).toEqual([
      ['planogram.badPar', 'A1'],
      ['planogram.badCapacity', 'A2'],
      ['planogram.parAbove', 'A3'],
      ['planogram.badCapacity', 'A4'],
      ['planogram.noProduct', 'B1'],
    ]);
  });
});

describe('enrolment column, pure parts', () => {
  beforeAll(() => {
    Object.assign(globalThis, { localStorage: { getItem: () => null, setItem: () => undefined }, document: { documentElement: {} } });
    setLang('en');
  });

  const row = (sku: string, lookAlike: boolean): EnrolmentRow => ({ sku, modelVersion: 'm1', photoIds: ['a', 'b', 'c'], gap: 0.1, separation: 0.2, lookAlike, nearest: [{ sku: 'COLA-ZERO', similarity: 0.9 }], enrolledBy: 'admin', enrolledAt: 1 });

  it('tells shipped, enrolled, look-alike and not enrolled apart; nothing while recognition is off', () => {
    const on: EnrolmentState = { status: 'on', modelVersion: 'm1', shipped: new Set(['COLA-ORIG']), rows: new Map([['KIWI', row('KIWI', false)], ['ZERO-2', row('ZERO-2', true)]]) };
    expect(['COLA-ORIG', 'KIWI', 'ZERO-2', 'NEW-ONE'].map((s) => standingOf(on, s))).toEqual([{ kind: 'shipped' }, { kind: 'enrolled', photos: 3 }, { kind: 'lookalike', photos: 3, like: 'COLA-ZERO' }, { kind: 'none' }]);
    expect(standingOf({ status: 'off', reason: 'recognition is off here' }, 'COLA-ORIG')).toEqual({ kind: 'off' });
  });

  it('refuses files before any upload: too few or many, not JPEG/PNG/WebP, too large', () => {
    const f = (name: string, type = 'image/jpeg', size = 10_000) => ({ name, type, size });
    expect(filesProblem([f('a'), f('b'), f('c')])).toBeUndefined();
    expect(filesProblem([f('a'), f('b')])).toBe('Choose 3–12 photos (now 2)');
    expect(filesProblem([f('a'), f('b'), f('c.gif', 'image/gif')])).toBe('c.gif is not a JPEG, PNG or WebP image');
    expect(filesProblem([f('a'), f('b'), f('c', 'image/png', 2_000_000)])).toBe('c is larger than 1.5 MB');
  });
});
