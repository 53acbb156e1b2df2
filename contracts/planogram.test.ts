import { applyPlanogram, laneOrder, planogramDiff, planogramProblems } from './planogram';

describe('planogram versions, pure', () => {
  const before = [
    { laneId: 'A1', sku: 'COLA', capacity: 8, count: 5 },
    { laneId: 'A2', sku: 'CHIP', capacity: 6, count: 6, par: 2 },
    { laneId: 'B1', sku: 'GUM', capacity: 10, count: 1 },
  ];

  it.each([
    ['A1', 'A2', -1],
    ['A2', 'A10', -1],
    ['A10', 'B1', -1],
    ['B1', 'A9', 1],
  ])('orders lanes as the grid reads: %s before %s → %i', (a, b, sign) => {
    expect(Math.sign(laneOrder(a, b))).toBe(sign);
  });

  it('diffs lane by lane: added, removed, a new product, a new capacity, a new par', () => {
    const after = [
      { laneId: 'A1', sku: 'KIWI', capacity: 8 },
      { laneId: 'A2', sku: 'CHIP', capacity: 5 },
      { laneId: 'C1', sku: 'COLA', capacity: 4 },
    ];
    expect(planogramDiff(before, after)).toEqual([
      { laneId: 'A1', change: 'product', before: { laneId: 'A1', sku: 'COLA', capacity: 8 }, after: { laneId: 'A1', sku: 'KIWI', capacity: 8 } },
      { laneId: 'A2', change: 'capacity', before: { laneId: 'A2', sku: 'CHIP', capacity: 6, par: 2 }, after: { laneId: 'A2', sku: 'CHIP', capacity: 5 } },
      { laneId: 'A2', change: 'par', before: { laneId: 'A2', sku: 'CHIP', capacity: 6, par: 2 }, after: { laneId: 'A2', sku: 'CHIP', capacity: 5 } },
      { laneId: 'B1', change: 'removed', before: { laneId: 'B1', sku: 'GUM', capacity: 10 } },
      { laneId: 'C1', change: 'added', after: { laneId: 'C1', sku: 'COLA', capacity: 4 } },
    ]);
    expect(planogramDiff(before, before)).toEqual([]);
  });

  it('applies a version: a lane keeping its product keeps its count (up to the new capacity); a new product or lane starts empty', () => {
    expect(applyPlanogram(before, [
      { laneId: 'C1', sku: 'COLA', capacity: 4 },
      { laneId: 'A2', sku: 'CHIP', capacity: 4, par: 1 },
      { laneId: 'A1', sku: 'KIWI', capacity: 8 },
    ])).toEqual([
      { laneId: 'A1', sku: 'KIWI', capacity: 8, count: 0 },
      { laneId: 'A2', sku: 'CHIP', capacity: 4, count: 4, par: 1 },
      { laneId: 'C1', sku: 'COLA', capacity: 4, count: 0 },
    ]);
  });

  it('finds a lane listed twice and a par above the capacity', () => {
    expect(planogramProblems([{ laneId: 'A1', sku: 'X', capacity: 4 }, { laneId: 'A1', sku: 'Y', capacity: 4, par: 5 }])).toEqual(['lane A1 is listed twice', 'lane A1: par 5 is above its capacity 4']);
    expect(planogramProblems([{ laneId: 'A1', sku: 'X', capacity: 4, par: 4 }])).toEqual([]);
  });
});
