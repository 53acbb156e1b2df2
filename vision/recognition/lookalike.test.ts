import '../testing/ort-realm';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { DEFAULT_MODEL_DIR } from '../index';
import { DISTINCT_PRODUCT, facingPhotos } from '../testing/photos';
import { EMPTY, Gallery, OCCLUDED } from './gallery';
import { lookAlikeOf, quantile, separationOf } from './lookalike';
import { photoCrops, prototypesFrom } from './photos';
import { RecogniserCore, loadBundle } from './recogniser';

// Five dimensions with simple cosines: A's two prototypes are 0.8 apart, B's 0.6, A and B are orthogonal.
// The pseudo labels sit right on A and must never count.
const a1 = [1, 0, 0, 0, 0];
const a2 = [0.8, 0.6, 0, 0, 0];
const b1 = [0, 0, 1, 0, 0];
const b2 = [0, 0, 0.6, 0.8, 0];
const gallery = (): Gallery => new Gallery(5, 20, { [EMPTY]: [a1], A: [a1, a2], [OCCLUDED]: [a2], B: [b1, b2] });

describe('separationOf', () => {
  it('is the 10th percentile of the SKUs’ gaps, pseudo labels left out', () => {
    // gap(A) = 0.8 − 0 and gap(B) = 0.6 − 0; between them, a tenth of the way up.
    expect(separationOf(gallery())).toBeCloseTo(0.62, 6);
  });

  it('counts only the SKUs the families know, against every SKU', () => {
    expect(separationOf(gallery(), new Map([['A', 'brand-a']]))).toBeCloseTo(0.8, 6);
    const g = gallery();
    g.add('C', [[0.8, 0, 0, 0, 0.6]]);
    // C is 0.8 from A: A's best other is now 0.8 and 0.64, so its gap is the mean of 0 and 0.16.
    expect(separationOf(g, new Map([['A', 'brand-a']]))).toBeCloseTo(0.08, 6);
  });

  it('needs two SKUs', () => {
    expect(() => separationOf(new Gallery(5, 20, { [EMPTY]: [a1], A: [a1] }))).toThrow(RangeError);
  });
});

describe('quantile', () => {
  it.each<[number[], number, number]>([
    [[5], 0.1, 5],
    [[1, 2], 0.5, 1.5],
    [[4, 1, 3, 2], 0, 1],
    [[4, 1, 3, 2], 1, 4],
    [[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.1, 10],
  ])('of %j at %d is %d', (xs, q, want) => expect(quantile(xs, q)).toBeCloseTo(want, 9));
});

describe('lookAlikeOf', () => {
  const e5 = [0, 0, 0, 0, 1];
  const e5b = [0, 0, 0, 0.2, 1];
  const cos5 = 1 / Math.sqrt(1.04);
  it.each<[string, string, number[][], { gap: number; lookAlike: boolean; nearest: Array<[string, number]> }]>([
    ['a copy of an existing product', 'NEW', [a1], { gap: 0, lookAlike: true, nearest: [['A', 1], ['B', 0]] }],
    ['a copy, scaled (vectors are normalised)', 'NEW', [[7, 0, 0, 0, 0]], { gap: 0, lookAlike: true, nearest: [['A', 1], ['B', 0]] }],
    ['a vector 0.8 from one of B', 'NEW', [[0, 0, 0, 1, 0]], { gap: 0.2, lookAlike: true, nearest: [['B', 0.8], ['A', 0]] }],
    ['two vectors apart from everything', 'NEW', [e5, e5b], { gap: cos5 - (0.2 * cos5 * 0.8) / 2, lookAlike: false, nearest: [['B', 0.2 * cos5 * 0.8], ['A', 0]] }],
    ['A re-enrolled as itself (its own prototypes do not count)', 'A', [a1], { gap: 1, lookAlike: false, nearest: [['B', 0]] }],
  ])('%s', (_, sku, vectors, want) => {
    const r = lookAlikeOf(gallery(), sku, vectors, 0.62);
    expect(r.gap).toBeCloseTo(want.gap, 6);
    expect(r.separation).toBe(0.62);
    expect(r.lookAlike).toBe(want.lookAlike);
    expect(r.nearest.map((n) => n.sku)).toEqual(want.nearest.map((n) => n[0]));
    r.nearest.forEach((n, i) => expect(n.similarity).toBeCloseTo(want.nearest[i]?.[1] ?? NaN, 6));
  });

  it('names at most three nearest products', () => {
    const g = gallery();
    g.add('C', [[0, 0, 0, 0, 1]]);
    g.add('D', [[0, 0, 0, 0.6, 0.8]]);
    expect(lookAlikeOf(g, 'NEW', [[0, 0, 0, 0.8, 0.6]], 0.62).nearest.map((n) => n.sku)).toEqual(['D', 'B', 'C']);
  });

  it.each<[string, number[][]]>([
    ['no vectors', []],
    ['a vector of the wrong width', [[1, 0, 0]]],
    ['a zero vector', [[0, 0, 0, 0, 0]]],
  ])('refuses %s', (_, vectors) => {
    expect(() => lookAlikeOf(gallery(), 'NEW', vectors, 0.5)).toThrow(RangeError);
  });
});

/** Through the real renderer, photo path and committed ONNX model. */
describe('look-alike check with the shipped model', () => {
  let core: RecogniserCore;
  let separation: number;
  beforeAll(async () => {
    core = await RecogniserCore.load(loadBundle(DEFAULT_MODEL_DIR), { clock: new SimulatedClock(), log: silentLogger, catalogue: DEMO_CATALOGUE });
    separation = separationOf(core.gallery);
  });
  afterAll(async () => {
    await core.release();
  });
  const vectorsOf = async (photos: Buffer[]): Promise<number[][]> => prototypesFrom(await core.embed(await photoCrops(photos), photos.length), photos.length, core.gallery.dim);

  it('has a separation between the closest look-alike flavours and the typical product', () => {
    expect(separationOf(core.gallery)).toBe(separation);
    expect(separation).toBeGreaterThan(0.05);
    expect(separation).toBeLessThan(0.5);
  });

  // A trained flavour and a held-out one (known only by enrolment), each photographed under a new SKU name.
  it.each(['COLA-ORIG', 'CHIP-CUKE'])('flags photos of %s under a new SKU as a look-alike of it', async (sku) => {
    const existing = DEMO_CATALOGUE.find((p) => p.sku === sku);
    if (!existing) throw new Error(`${sku} missing`);
    const copy = { ...existing, sku: `${sku}-B` };
    const r = lookAlikeOf(core.gallery, copy.sku, await vectorsOf(await facingPhotos(copy, 4, 4_700_000, DEMO_CATALOGUE)), separation);
    expect(r.lookAlike).toBe(true);
    expect(r.gap).toBeLessThan(separation / 2);
    expect(r.nearest[0]?.sku).toBe(sku);
  });

  it('does not flag a product with colours, packaging and brand of its own', async () => {
    const r = lookAlikeOf(core.gallery, DISTINCT_PRODUCT.sku, await vectorsOf(await facingPhotos(DISTINCT_PRODUCT, 4, 4_700_000, DEMO_CATALOGUE)), separation);
    expect(r.lookAlike).toBe(false);
    expect(r.gap).toBeGreaterThan(separation);
  });
});
