import { decide, type DecideConfig, type SlotReading } from './decide';

/** The decision alone, on hand-made camera readings: no model, no renderer. */
const labels = ['_EMPTY', '_OCCLUDED', 'CHIP-SEAWEED', 'CHIP-CUKE', 'COLA-ORIG'];
const cfg: DecideConfig = {
  labels,
  families: ['_EMPTY', '_OCCLUDED', 'Crispy', 'Crispy', 'Koko'],
  settleThreshold: 0.9,
  offPlanogramThreshold: 0.9,
  occludedP: 0.5,
  offPlanogramPrior: 0.03,
};

/** A camera reading: probabilities by label, the rest spread thinly. */
const p = (probs: Record<string, number>): Float64Array => {
  const given = Object.values(probs).reduce((a, b) => a + b, 0);
  const rest = (1 - given) / (labels.length - Object.keys(probs).length);
  return Float64Array.from(labels, (l) => probs[l] ?? rest);
};
const EMPTY = p({ _EMPTY: 0.999 });
const HAND_LIKE_EMPTY = p({ _EMPTY: 0.55, _OCCLUDED: 0.44 });
const HAND = p({ _OCCLUDED: 0.9, _EMPTY: 0.09 });
const SEAWEED = p({ 'CHIP-SEAWEED': 0.999 });
const CUKE = p({ 'CHIP-CUKE': 0.999 });
const COLA = p({ 'COLA-ORIG': 0.999 });
const LEANS_CUKE = p({ 'CHIP-CUKE': 0.6, 'CHIP-SEAWEED': 0.399 });

const facing = (laneId: string, planogramSku: string, views: Array<[Float64Array | null, Float64Array | null]>, slot = 0): SlotReading => ({
  laneId,
  slot,
  planogramSku,
  views: views.map(([before, after], i) => ({ camera: `cam${i}`, diff: 50, before, after })),
});

const cases: Array<{ name: string; readings: SlotReading[]; items: Array<[string, number]>; status: 'settled' | 'needs_review'; reason?: string }> = [
  { name: 'nothing changed', readings: [], items: [], status: 'settled' },
  { name: 'one item taken', readings: [facing('A1', 'CHIP-SEAWEED', [[SEAWEED, EMPTY], [SEAWEED, EMPTY]])], items: [['CHIP-SEAWEED', 1]], status: 'settled' },
  {
    name: 'two of a kind taken from one lane',
    readings: [facing('A1', 'COLA-ORIG', [[COLA, EMPTY], [COLA, EMPTY]], 0), facing('A1', 'COLA-ORIG', [[COLA, EMPTY], [COLA, EMPTY]], 1)],
    items: [['COLA-ORIG', 2]],
    status: 'settled',
  },
  {
    name: 'a look-alike read differently before and after is noise, not take + add',
    readings: [facing('A1', 'CHIP-SEAWEED', [[SEAWEED, LEANS_CUKE], [SEAWEED, CUKE]])],
    items: [],
    status: 'settled',
  },
  {
    name: 'the planogram firms up a look-alike reading that agrees with it',
    readings: [facing('A1', 'CHIP-CUKE', [[LEANS_CUKE, EMPTY], [LEANS_CUKE, EMPTY]])],
    items: [['CHIP-CUKE', 1]],
    status: 'settled',
  },
  {
    name: 'a look-alike reading against the planogram is held, not flipped to the planogram SKU and charged',
    readings: [facing('A1', 'CHIP-SEAWEED', [[LEANS_CUKE, EMPTY], [LEANS_CUKE, EMPTY]])],
    items: [['CHIP-SEAWEED', 1]],
    status: 'needs_review',
    reason: 'low_confidence',
  },
  {
    name: 'a clearly read look-alike in the wrong lane is named as itself',
    readings: [facing('A1', 'CHIP-SEAWEED', [[CUKE, EMPTY], [CUKE, EMPTY]])],
    items: [['CHIP-CUKE', 1]],
    status: 'settled',
    reason: 'off_planogram',
  },
  {
    name: 'an item under a hand in one camera but seen by the other was not taken',
    readings: [facing('A1', 'COLA-ORIG', [[COLA, HAND_LIKE_EMPTY], [COLA, COLA]])],
    items: [],
    status: 'settled',
  },
  {
    name: 'a facing no camera sees after the visit is held',
    readings: [facing('A1', 'COLA-ORIG', [[COLA, HAND], [COLA, null]])],
    items: [],
    status: 'needs_review',
    reason: 'occluded',
  },
  {
    name: 'an item put back into another lane cancels the one taken',
    readings: [facing('A1', 'COLA-ORIG', [[COLA, EMPTY], [COLA, EMPTY]]), facing('B2', 'CHIP-SEAWEED', [[EMPTY, COLA], [EMPTY, COLA]])],
    items: [],
    status: 'settled',
  },
  {
    name: 'an item moved within its lane and read as its look-alike cancels by family',
    readings: [facing('A1', 'CHIP-SEAWEED', [[SEAWEED, EMPTY], [SEAWEED, EMPTY]], 0), facing('A1', 'CHIP-SEAWEED', [[EMPTY, LEANS_CUKE], [EMPTY, CUKE]], 5)],
    items: [],
    status: 'settled',
  },
  {
    name: 'an item from outside the cabinet is held',
    readings: [facing('A1', 'CHIP-SEAWEED', [[EMPTY, COLA], [EMPTY, COLA]])],
    items: [],
    status: 'needs_review',
    reason: 'item_added',
  },
];

describe('decide', () => {
  it.each(cases)('$name', ({ readings, items, status, reason }) => {
    const d = decide(readings, cfg);
    expect(d.items.map((i) => [i.sku, i.qty])).toEqual(items);
    expect(d.status).toBe(status);
    if (reason) expect(d.reasons.map((r) => r.code)).toContain(reason);
  });
});

describe('decide with a reason found before the readings', () => {
  it('never settles a visit whose camera moved, however sure the reading', () => {
    const d = decide([facing('A1', 'CHIP-SEAWEED', [[SEAWEED, EMPTY], [SEAWEED, EMPTY]])], cfg, [{ code: 'camera_moved', detail: 'camera top moved between the snapshots' }]);
    expect(d.items.map((i) => [i.sku, i.qty])).toEqual([['CHIP-SEAWEED', 1]]);
    expect(d.status).toBe('needs_review');
    expect(d.reasons.map((r) => r.code)).toEqual(['camera_moved']);
  });
});
