import sharp from 'sharp';
import { DEMO_CATALOGUE, DEMO_FLEET } from '../../contracts/demo-data';
import { FRAME_H, FRAME_W } from '../render/geometry';
import { VisitEvidence } from '../recognition.types';
import { composeVisit, type VisitSpec } from './compose';
import { TIERS } from './conditions';
import { drawVisitSpec } from './specs';

/**
 * The independent compositor, fast (4 visits a tier, no model): deterministic by seed, frames that decode at
 * the calibrated size for both cameras and phases, and a truth that matches the shopper's actions — computed
 * here from the spec by plain arithmetic, apart from the shelf bookkeeping the compositor uses.
 */
const skuOf = (spec: VisitSpec, laneId: string): string => spec.lanes.find((l) => l.laneId === laneId)?.sku ?? '?';

function expectedTruth(spec: VisitSpec): Record<string, number> {
  const t: Record<string, number> = {};
  const add = (sku: string, n: number): void => {
    t[sku] = (t[sku] ?? 0) + n;
  };
  for (const [laneId, n] of Object.entries(spec.takes)) if (n > 0) add(skuOf(spec, laneId), n);
  // A put-back stays in the cabinet; a swap leaves the look-alike behind and takes the lane's own item.
  for (const s of spec.swaps ?? []) add(skuOf(spec, s.lane), 1);
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => a.localeCompare(b)));
}

describe.each(TIERS)('independent compositor, %s tier', (tier) => {
  const specs = [0, 1, 2, 3].map((i) => drawVisitSpec(tier, 9_000 + i));

  it('is deterministic by seed and differs between seeds', async () => {
    const spec = specs[0] as VisitSpec;
    const [a, b, other] = await Promise.all([composeVisit(spec), composeVisit(spec), composeVisit({ ...spec, seed: spec.seed + 1 })]);
    expect(a.truth).toEqual(b.truth);
    expect(a.conditions).toEqual(b.conditions);
    a.evidence.frames.forEach((f, i) => expect(f.jpeg.equals(b.evidence.frames[i]?.jpeg as Buffer)).toBe(true));
    expect(a.evidence.frames[0]?.jpeg.equals(other.evidence.frames[0]?.jpeg as Buffer)).toBe(false);
  });

  it('gives valid evidence whose frames decode at the calibrated size, and the truth of the actions', async () => {
    for (const spec of specs) {
      const v = await composeVisit(spec);
      expect(() => VisitEvidence.parse(v.evidence)).not.toThrow();
      expect(v.evidence.frames.map((f) => `${f.camera}/${f.phase}`).sort()).toEqual(['side/after', 'side/before', 'top/after', 'top/before']);
      for (const f of v.evidence.frames) {
        const m = await sharp(f.jpeg).metadata();
        expect([m.format, m.width, m.height]).toEqual(['jpeg', FRAME_W, FRAME_H]);
      }
      expect(v.truth).toEqual(expectedTruth(spec));
      expect(v.conditions.some((c) => c.startsWith('backdrop:'))).toBe(true);
    }
  });
});

it('counts a put-back into another lane as not taken and a look-alike swap as the lane’s own item taken', async () => {
  const lanes = (DEMO_FLEET.find((c) => c.cameras.length > 0)?.lanes ?? []).map((l) => ({ ...l, count: l.capacity - 1 }));
  const byBrand = new Map(DEMO_CATALOGUE.map((p) => [p.sku, p.brand]));
  const [a, b] = lanes.flatMap((x) => lanes.filter((y) => y.laneId !== x.laneId && y.sku !== x.sku && byBrand.get(y.sku) === byBrand.get(x.sku)).map((y) => [x, y])).at(0) ?? [];
  if (!a || !b) throw new Error('the demo fleet has no look-alike lanes');
  const other = lanes.find((l) => l.laneId !== a.laneId && l.laneId !== b.laneId) ?? a;
  const spec: VisitSpec = { lanes, tier: 'mild', seed: 4242, takes: { [other.laneId]: 2 }, putBacks: [{ from: a.laneId, into: other.laneId }], swaps: [{ lane: a.laneId, from: b.laneId }] };
  const v = await composeVisit(spec);
  expect(v.truth).toEqual(expectedTruth(spec));
  expect(v.truth[b.sku] ?? 0).toBe(other.sku === b.sku ? 2 : 0);
  expect(v.conditions).toEqual(expect.arrayContaining(['put_back', 'lookalike_swap']));
  await expect(composeVisit({ ...spec, takes: { [other.laneId]: other.count + 1 } })).rejects.toThrow(/infeasible/);
});
