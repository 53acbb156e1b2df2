import '../testing/ort-realm';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE, DEMO_FLEET } from '../../contracts/demo-data';
import { DEFAULT_MODEL_DIR, createRecognitionPool, type RecognitionPoolHandle } from '../index';
import { separationOf } from '../recognition/lookalike';
import { Gallery } from '../recognition/gallery';
import { loadBundle } from '../recognition/recogniser';
import type { ShelfLaneState } from '../render/scene';
import { visitFromStates } from '../sim/visits';
import { DISTINCT_PRODUCT, facingPhotos } from '../testing/photos';

/**
 * Enrolment through the pool, with the real renderer and model: a product the model never saw, photographed,
 * enrolled while the pool runs, and then recognised by every worker.
 */
const NEW = DISTINCT_PRODUCT;
const cabinet = DEMO_FLEET.find((c) => c.cabinetId === 'SH-AUTO-01');
if (!cabinet) throw new Error('demo cabinet missing');
// The new product stands in lane B3; every lane is full.
const before: ShelfLaneState[] = cabinet.lanes.map((l) => {
  const sku = l.laneId === 'B3' ? NEW.sku : l.sku;
  return { ...l, sku, count: l.capacity, slots: Array<string | null>(l.capacity).fill(sku) };
});
const takeFromB3 = (slot: number): ShelfLaneState[] => before.map((l) => (l.laneId === 'B3' ? { ...l, slots: (l.slots ?? []).map((s, i) => (i === slot ? null : s)) } : l));
const visit = (seed: number, slot: number) => visitFromStates({ seed, before, after: takeFromB3(slot), products: [...DEMO_CATALOGUE, NEW] });

let h: RecognitionPoolHandle;
beforeAll(async () => {
  h = await createRecognitionPool({ modelDir: DEFAULT_MODEL_DIR, log: silentLogger, clock: new SimulatedClock(), size: 2, catalogue: DEMO_CATALOGUE });
});
afterAll(async () => {
  await h.close();
});

describe('enrolment through the recognition pool', () => {
  it('states the model version and the shipped gallery’s separation', () => {
    const bundle = loadBundle(DEFAULT_MODEL_DIR);
    expect(h.enrolment.modelVersion).toBe(bundle.manifest.modelVersion);
    expect(h.enrolment.separation).toBe(separationOf(new Gallery(bundle.gallery.dim, bundle.manifest.thresholds.scale, bundle.gallery.prototypes)));
    expect(h.enrolment.enrolled()).toEqual(DEMO_CATALOGUE.map((p) => p.sku));
  });

  it('holds a visit for review while the product is not enrolled, and every worker recognises it once applied', async () => {
    const first = await h.pool.submit(await visit(9101, 5));
    if (first.type !== 'Recognised') throw new Error(`visit not recognised: ${first.type}`);
    expect(first.result.status).toBe('needs_review');
    expect(first.result.reasons.map((r) => r.code)).toContain('not_enrolled');

    const vectors = await h.enrolment.embedPhotos(await facingPhotos(NEW, 6, 4_800_000, DEMO_CATALOGUE));
    expect(vectors).toHaveLength(6);
    vectors.forEach((v) => expect(Math.hypot(...v)).toBeCloseTo(1, 5));
    const report = h.enrolment.check(NEW.sku, vectors);
    expect(report).toMatchObject({ lookAlike: false, separation: h.enrolment.separation });
    h.enrolment.apply(NEW.sku, NEW.brand, vectors);
    expect(h.enrolment.enrolled()).toContain(NEW.sku);

    // Submitted together, the first two visits start at once, one on each worker.
    const visits = await Promise.all([9102, 9103, 9104, 9105].map((seed, i) => visit(seed, [5, 0, 3, 2][i] as number)));
    const outcomes = visits.map((v) => h.pool.submit(v));
    expect(h.pool.stats()).toMatchObject({ workers: 2, busy: 2 });
    for (const o of await Promise.all(outcomes)) {
      if (o.type !== 'Recognised') throw new Error(`visit not recognised: ${o.type}`);
      expect(o.result.status).toBe('settled');
      expect(o.result.items.map((i) => [i.sku, i.qty])).toEqual([[NEW.sku, 1]]);
    }
  });

  it('checks against enrolled products too, and apply replaces a product’s prototypes', async () => {
    const copy = await h.enrolment.embedPhotos(await facingPhotos({ ...NEW, sku: 'ZEPH-KIWI-B' }, 3, 4_900_000, DEMO_CATALOGUE));
    const asCopy = h.enrolment.check('ZEPH-KIWI-B', copy);
    expect(asCopy.lookAlike).toBe(true);
    expect(asCopy.nearest[0]?.sku).toBe(NEW.sku);
    // Re-enrolled from photos of a cola, the product now looks like a cola, and its old look is gone.
    const cola = DEMO_CATALOGUE.find((p) => p.sku === 'COLA-ZERO');
    if (!cola) throw new Error('COLA-ZERO missing');
    h.enrolment.apply(NEW.sku, NEW.brand, await h.enrolment.embedPhotos(await facingPhotos(cola, 2, 4_900_000, DEMO_CATALOGUE)));
    expect(h.enrolment.check('ZEPH-KIWI-B', copy).nearest[0]?.sku).not.toBe(NEW.sku);
    expect(h.enrolment.enrolled().filter((s) => s === NEW.sku)).toHaveLength(1);
  });

  it('refuses a pseudo label or vectors of the wrong width, changing no worker', () => {
    const enrolled = h.enrolment.enrolled();
    expect(() => h.enrolment.apply('_EMPTY', 'x', [[1]])).toThrow(RangeError);
    expect(() => h.enrolment.apply('NEW-SKU', 'x', [[1, 2, 3]])).toThrow(RangeError);
    expect(h.enrolment.enrolled()).toEqual(enrolled);
  });

  it('answers unusable photos with a PhotoError', async () => {
    await expect(h.enrolment.embedPhotos([Buffer.from('no photo')])).rejects.toMatchObject({ name: 'PhotoError', code: 'BAD_REQUEST', problem: { reason: 'unreadable', photo: 0 } });
  });
});
