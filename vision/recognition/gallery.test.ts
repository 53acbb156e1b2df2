import { EMPTY, Gallery } from './gallery';

const rows = (vs: Float32Array[]): number[][] => vs.map((v) => Array.from(v, (x) => Math.round(x * 1e6) / 1e6));

describe('Gallery', () => {
  it('adds prototypes to a label, normalised, and keeps earlier ones', () => {
    const g = new Gallery(2, 20, { A: [[3, 4]] });
    g.add('A', [[0, 2]]);
    expect(rows(g.prototypesOf('A'))).toEqual([
      [0.6, 0.8],
      [0, 1],
    ]);
    expect(g.size).toBe(1);
  });

  it('set replaces the prototypes of a label and leaves the others as they were', () => {
    const g = new Gallery(2, 20, { [EMPTY]: [[1, 1]], A: [[1, 0], [0.8, 0.6]], B: [[0, 1]] });
    g.set('A', [[0, 5]]);
    expect(rows(g.prototypesOf('A'))).toEqual([[0, 1]]);
    expect(rows(g.prototypesOf('B'))).toEqual([[0, 1]]);
    expect(rows(g.prototypesOf(EMPTY))).toEqual([[0.707107, 0.707107]]);
    // The label keeps its place, so `match` output stays aligned with `allLabels()`.
    expect(g.allLabels()).toEqual([EMPTY, 'A', 'B']);
    expect(g.toJSON('sha').prototypes).toEqual({ [EMPTY]: [[0.70711, 0.70711]], A: [[0, 1]], B: [[0, 1]] });
  });

  it('set enrols a label the gallery did not have', () => {
    const g = new Gallery(2, 20, { A: [[1, 0]] });
    g.set('NEW', [[0, 1], [0.6, 0.8]]);
    expect(g.has('NEW')).toBe(true);
    expect(g.allLabels()).toEqual(['A', 'NEW']);
    expect(g.prototypesOf('NEW')).toHaveLength(2);
  });

  it('matches against the replaced prototypes only', () => {
    const g = new Gallery(2, 20, { A: [[1, 0]], B: [[0, 1]] });
    const e = Float32Array.from([1, 0]);
    expect(g.top(g.match(e), 1)[0]?.label).toBe('A');
    g.set('B', [[1, 0.01]]);
    g.set('A', [[0, 1]]);
    expect(g.top(g.match(e), 1)[0]?.label).toBe('B');
  });

  it.each<[string, number[][]]>([
    ['no prototypes', []],
    ['a vector of the wrong width', [[1, 0], [1, 0, 0]]],
    ['a zero vector', [[0, 0]]],
    ['a vector that is not finite', [[NaN, 1]]],
  ])('set refuses %s and leaves the gallery unchanged', (_, vs) => {
    const g = new Gallery(2, 20, { A: [[1, 0]] });
    expect(() => g.set('A', vs)).toThrow(RangeError);
    expect(() => g.set('NEW', vs)).toThrow(RangeError);
    expect(rows(g.prototypesOf('A'))).toEqual([[1, 0]]);
    expect(g.allLabels()).toEqual(['A']);
  });

  it('prototypesOf hands out copies, and nothing for an unknown label', () => {
    const g = new Gallery(2, 20, { A: [[1, 0]] });
    const [a] = g.prototypesOf('A');
    if (!a) throw new Error('no prototype');
    a[0] = 42;
    expect(rows(g.prototypesOf('A'))).toEqual([[1, 0]]);
    expect(g.prototypesOf('NONE')).toEqual([]);
  });
});
