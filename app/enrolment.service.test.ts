import { SimulatedClock } from '../common/clock';
import { AppError } from '../common/errors';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import { openTestDb, type TestDb } from '../test/db';
import { EnrolmentService, type GalleryPort } from './enrolment.service';

jest.setTimeout(60_000);

const OPERATOR: Principal = { id: 'op-1', name: 'O', role: 'operator', sites: '*' };
const RESTOCKER: Principal = { id: 'rs-1', name: 'R', role: 'restocker', sites: '*' };

/** A gallery whose "embedding" of a photo is its first bytes: enough to follow what goes where. */
function fakeGallery(modelVersion: string) {
  const applied: Array<{ sku: string; brand: string; n: number }> = [];
  const port: GalleryPort = {
    modelVersion,
    separation: 0.27,
    enrolled: () => ['COLA', ...applied.map((a) => a.sku)],
    embedPhotos: async (images) =>
      images.map((b, i) => {
        if (b.toString('utf8').startsWith('bad')) throw Object.assign(new AppError('BAD_REQUEST', `photo ${i} is not a readable JPEG, PNG or WebP image`, { reason: 'unreadable', photo: i }), { name: 'PhotoError', problem: { reason: 'unreadable', photo: i } });
        return [b[0]! / 255, b[1]! / 255];
      }),
    check: (sku, vectors) => ({ gap: vectors[0]![0]! > 0.5 ? 0.01 : 0.4, separation: 0.27, lookAlike: vectors[0]![0]! > 0.5, nearest: [{ sku: 'COLA', similarity: 0.9 }] }),
    apply: (sku, brand, vectors) => void applied.push({ sku, brand, n: vectors.length }),
  };
  return { port, applied };
}

const photo = (text: string) => ({ contentType: 'image/jpeg' as const, dataBase64: Buffer.from(text.padEnd(16, '.')).toString('base64') });

describe('enrolment: photos kept, prototypes per model version, restored at start', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('enrolment');
    await db.models.Product.collection.insertMany([{ sku: 'KIWI', name: '猕猴桃', brand: 'Zeph', active: true }, { sku: 'COLA2', name: '可乐二', brand: 'Cola', active: true }] as never[]);
  });
  afterAll(async () => db.close());

  it('an unreadable photo enrols nothing and stores nothing; a restocker may not enrol', async () => {
    const g = fakeGallery('m1');
    const svc = new EnrolmentService({ models: db.models, gallery: g.port, clock: new SimulatedClock(0), log: silentLogger });
    await expect(svc.enrol(OPERATOR, 'KIWI', { photos: [photo('ok-1'), photo('bad-2'), photo('ok-3')] })).rejects.toMatchObject({ code: 'PHOTO_UNREADABLE', details: { photo: 1 } });
    await expect(svc.enrol(RESTOCKER, 'KIWI', { photos: [photo('ok-1'), photo('ok-2'), photo('ok-3')] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(svc.enrol(OPERATOR, 'NOPE', { photos: [photo('ok-1'), photo('ok-2'), photo('ok-3')] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(g.applied).toEqual([]);
    expect(await db.models.ProductPhoto.countDocuments({})).toBe(0);
    expect(await db.models.Enrolment.countDocuments({})).toBe(0);
  });

  it('enrols into the gallery with the brand, records the look-alike check, replaces earlier photos, audits', async () => {
    const g = fakeGallery('m1');
    const svc = new EnrolmentService({ models: db.models, gallery: g.port, clock: new SimulatedClock(0), log: silentLogger });
    const first = await svc.enrol(OPERATOR, 'KIWI', { photos: [photo('a1'), photo('a2'), photo('a3')] });
    expect(first).toMatchObject({ sku: 'KIWI', modelVersion: 'm1', lookAlike: false, photoIds: expect.arrayContaining([expect.stringMatching(/^KIWI:/)]) });
    const again = await svc.enrol(OPERATOR, 'KIWI', { photos: [photo('b1'), photo('b2'), photo('b3'), photo('b4')] });
    expect(again.photoIds).toHaveLength(4);
    expect((await db.models.ProductPhoto.find({ sku: 'KIWI' }).lean()).map((p) => p._id).sort()).toEqual([...again.photoIds].sort());
    expect(g.applied).toEqual([{ sku: 'KIWI', brand: 'Zeph', n: 3 }, { sku: 'KIWI', brand: 'Zeph', n: 4 }]);
    // 'ÿ…' embeds above 0.5 in the fake: flagged as a look-alike of its nearest.
    const lookalike = await svc.enrol(OPERATOR, 'COLA2', { photos: [photo('\u00ff1'), photo('\u00ff2'), photo('\u00ff3')] });
    expect(lookalike).toMatchObject({ lookAlike: true, nearest: [{ sku: 'COLA', similarity: 0.9 }] });
    expect((await svc.list(OPERATOR)).enrolments.map((e) => [e.sku, e.lookAlike])).toEqual([['COLA2', true], ['KIWI', false]]);
    expect((await svc.list(OPERATOR)).shipped).toEqual(['COLA']);
    const ph = await svc.photo(OPERATOR, 'KIWI', again.photoIds[0]!);
    expect(ph.contentType).toBe('image/jpeg');
    // The bytes as uploaded (a lean read gives them back as BSON Binary).
    expect(ph.data.toString('utf8')).toMatch(/^b[1-4]\.+$/);
    expect(await db.models.Audit.countDocuments({ action: 'product.enrol' })).toBe(3);
  });

  it('a restart gives every worker what was enrolled; a new model enrols the stored photos again', async () => {
    const same = fakeGallery('m1');
    expect(await new EnrolmentService({ models: db.models, gallery: same.port, clock: new SimulatedClock(0), log: silentLogger }).restore()).toEqual({ restored: 2, reenrolled: 0 });
    expect(same.applied.map((a) => [a.sku, a.n]).sort()).toEqual([['COLA2', 3], ['KIWI', 4]]);
    const newer = fakeGallery('m2');
    const svc = new EnrolmentService({ models: db.models, gallery: newer.port, clock: new SimulatedClock(0), log: silentLogger });
    expect(await svc.restore()).toEqual({ restored: 0, reenrolled: 2 });
    expect((await svc.get(OPERATOR, 'KIWI')).modelVersion).toBe('m2');
    // Embedded again from the stored bytes: 'b' is 98.
    expect(newer.applied.find((a) => a.sku === 'KIWI')).toEqual({ sku: 'KIWI', brand: 'Zeph', n: 4 });
    expect((await db.models.Enrolment.findOne({ _id: 'KIWI:m2' }).lean())!.prototypes[0]!.v[0]).toBeCloseTo(98 / 255, 5);
    expect(await new EnrolmentService({ models: db.models, gallery: fakeGallery('m2').port, clock: new SimulatedClock(0), log: silentLogger }).restore()).toEqual({ restored: 2, reenrolled: 0 });
  });
});
