import { isLow, parOf, restockList } from './restock';

describe('low stock and the restock list', () => {
  it.each([
    [10, undefined, 3, 3, true],
    [10, undefined, 4, 3, false],
    [7, undefined, 3, 3, true],
    [1, undefined, 0, 1, true],
    [1, undefined, 1, 1, false],
    [6, 6, 6, 6, false],
    [6, 6, 5, 6, true],
    [12, 2, 3, 2, false],
    [12, 0, 0, 0, true],
  ] as const)('capacity %i, par %s, count %i: par %i, low %s (a full lane is never low)', (capacity, par, count, expectedPar, low) => {
    const lane = { laneId: 'A1', sku: 'X-1', capacity, count, ...(par !== undefined ? { par } : {}) };
    expect([parOf(lane), isLow(lane)]).toEqual([expectedPar, low]);
  });

  it('lists the low lanes of one site’s enabled cabinets, what to bring up to capacity, and the van summed per product', () => {
    const names = new Map([['COLA', 'Cola'], ['CHIP', 'Chips']]);
    const list = restockList('sh', 5, [
      { cabinetId: 'SH-2', name: 'Pantry 2', siteId: 'sh', lanes: [{ laneId: 'B1', sku: 'COLA', capacity: 8, count: 0 }, { laneId: 'A1', sku: 'CHIP', capacity: 6, count: 6 }] },
      { cabinetId: 'SH-1', name: 'Pantry 1', siteId: 'sh', lanes: [{ laneId: 'A2', sku: 'COLA', capacity: 10, count: 3 }, { laneId: 'A1', sku: 'CHIP', capacity: 6, count: 1 }] },
      { cabinetId: 'BJ-1', name: 'Beijing', siteId: 'bj', lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 10, count: 0 }] },
      { cabinetId: 'SH-3', name: 'Off', siteId: 'sh', disabled: true, lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 10, count: 0 }] },
    ], names);
    expect(list.cabinets.map((c) => [c.cabinetId, c.lanes.map((l) => `${l.laneId}:${l.sku}+${l.bring}`)])).toEqual([
      ['SH-1', ['A1:CHIP+5', 'A2:COLA+7']],
      ['SH-2', ['B1:COLA+8']],
    ]);
    expect(list.van).toEqual([{ sku: 'COLA', name: 'Cola', qty: 15 }, { sku: 'CHIP', name: 'Chips', qty: 5 }]);
    expect(list.lowLanes).toBe(3);
  });
});
