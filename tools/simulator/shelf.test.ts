import { GOOD_LINK, WEAK_LINK, nextDropIn, sendFate } from './link';
import { seededRng } from './rng';
import { Shelf, noShopper, randomShopper, scriptedShopper } from './shelf';
import { stepFridge, DEFAULT_FRIDGE } from './thermal';

const lanes = [
  { laneId: 'A1', sku: 'COLA-ORIG', capacity: 6, count: 2 },
  { laneId: 'A2', sku: 'COLA-ZERO', capacity: 6, count: 6 },
];

describe('shelf and shoppers', () => {
  it('takes no more than a lane holds and restocks to capacity', () => {
    const s = new Shelf(lanes);
    expect(s.take([{ laneId: 'A1', count: 5 }, { laneId: 'A2', count: 1 }, { laneId: 'Z9', count: 1 }])).toEqual([{ laneId: 'A1', count: 2 }, { laneId: 'A2', count: 1 }]);
    expect(s.stocked().map((l) => l.laneId)).toEqual(['A2']);
    expect(lanes[0]?.count).toBe(2); // the spec it came from is untouched
    s.restock();
    expect(s.snapshot().map((l) => l.count)).toEqual([6, 6]);
  });

  it('a random shopper arrives within the window and takes only stocked items', () => {
    const shopper = randomShopper(seededRng(3), { noShow: 0, forgetToClose: 0, forgottenForMs: [0, 0], items: [1, 5], dwellMs: [1000, 2000] });
    for (let i = 0; i < 50; i++) {
      const plan = shopper.plan({ cabinetId: 'C1', visitId: `V${i}`, stocked: lanes, openWithinMs: 30_000 });
      if (!plan.shows) throw new Error('noShow is 0');
      expect(plan.arriveAfterMs).toBeLessThanOrEqual(15_000);
      const a1 = plan.takes.find((t) => t.laneId === 'A1')?.count ?? 0;
      expect(a1).toBeLessThanOrEqual(2);
    }
  });

  it('scripted shoppers play their plans in order, then nobody comes', () => {
    const s = scriptedShopper([{ shows: true, arriveAfterMs: 1, dwellMs: 2, takes: [] }]);
    const ctx = { cabinetId: 'C', visitId: 'V', stocked: lanes, openWithinMs: 10 };
    expect(s.plan(ctx).shows).toBe(true);
    expect(s.plan(ctx).shows).toBe(false);
    expect(noShopper.plan(ctx)).toEqual({ shows: false });
  });
});

describe('link and fridge models', () => {
  it('a good link never loses or delays; a weak one does both, at about its rates', () => {
    const r = seededRng(9);
    expect(sendFate(GOOD_LINK, r)).toEqual({ fate: 'sent', delayMs: 0, ackLost: false });
    expect(nextDropIn(GOOD_LINK, r)).toBeUndefined();
    let lost = 0;
    for (let i = 0; i < 10_000; i++) if (sendFate(WEAK_LINK, r).fate === 'lost') lost++;
    expect(lost / 10_000).toBeGreaterThan(0.12);
    expect(lost / 10_000).toBeLessThan(0.18);
  });

  it('a drifting fridge alarms once when it crosses the threshold', () => {
    const r = seededRng(1);
    const o = { ...DEFAULT_FRIDGE, driftCPerMin: 1, noiseC: 0 };
    let s = { tempC: 4, alarmed: false };
    const alarms: number[] = [];
    for (let min = 1; min <= 10; min++) {
      const step = stepFridge(s, o, 60_000, r);
      s = step.state;
      if (step.alarm) alarms.push(min);
    }
    expect(alarms).toEqual([5]); // 4 °C + 5 × 1 °C = 9 °C > 8 °C
  });
});
