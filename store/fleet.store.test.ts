import { Types } from 'mongoose';
import { SecretBox } from '../common/sealing';
import { openTestDb, type TestDb } from '../test/db';
import { MongooseFleetStore } from './fleet.store';

describe('fleet store on a real FerretDB', () => {
  let db: TestDb;
  const box = new SecretBox(SecretBox.generateKeyHex());
  const cabinet = (cabinetId: string) => ({ cabinetId, name: cabinetId, kind: 'auto' as const, siteId: 'site-1', cameras: ['top'], lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 6, count: 6 }], secret: box.seal('s3cret', `cabinet:${cabinetId}`), disabled: false });
  beforeAll(async () => {
    db = await openTestDb('fleetstore');
  });
  afterAll(() => db.close());

  it('keys a new cabinet by its id and reads and writes it by _id', async () => {
    await db.models.Cabinet.create(cabinet('K-01'));
    expect(await db.models.Cabinet.collection.findOne({ _id: 'K-01' as never })).toMatchObject({ cabinetId: 'K-01' });
    const store = new MongooseFleetStore(db.models);
    const row = await store.loadCabinet('K-01');
    expect(row).toMatchObject({ cabinetId: 'K-01', kind: 'auto', cameras: ['top'], lanes: [{ laneId: 'A1', count: 6 }] });
    expect(box.open(row!.secret, 'cabinet:K-01')).toBe('s3cret');
    await store.saveLastSeenMany([{ cabinetId: 'K-01', at: Date.UTC(2026, 0, 2), firmware: 'fw-2' }]);
    await store.setDisabled('K-01', true);
    expect(await db.models.Cabinet.findOne({ _id: 'K-01' }).lean()).toMatchObject({ lastSeenAt: new Date(Date.UTC(2026, 0, 2)), firmware: 'fw-2', disabled: true });
    expect(await store.loadCabinet('K-NONE')).toBeUndefined();
  });

  it('stores 300 last-seen times in one bulk write without wedging the database (patched FerretDB update loop)', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `LS-${i}`);
    await db.models.Cabinet.insertMany(ids.map((id) => cabinet(id)));
    const store = new MongooseFleetStore(db.models);
    const at = Date.UTC(2026, 0, 4);
    const wedged = new Promise((_, reject) => setTimeout(() => reject(new Error('the bulk update did not finish in 20 s: the database is wedged')), 20_000).unref());
    await Promise.race([store.saveLastSeenMany(ids.map((cabinetId) => ({ cabinetId, at }))), wedged]);
    // The database still answers, and every row was written.
    expect(await db.models.Cabinet.countDocuments({ lastSeenAt: new Date(at) })).toBe(300);
    await db.models.Cabinet.deleteMany({ cabinetId: { $in: ids } });
  }, 40_000);

  it('still serves a cabinet registered with an ObjectId before the keying, once listed', async () => {
    const legacyId = new Types.ObjectId();
    await db.models.Cabinet.collection.insertOne({ _id: legacyId as never, ...cabinet('OLD-01'), stockMoves: [], version: 0 });
    const store = new MongooseFleetStore(db.models);
    // Before the listing, found by its field; after it, by its remembered ObjectId.
    expect(await store.loadCabinet('OLD-01')).toMatchObject({ cabinetId: 'OLD-01' });
    expect((await store.listCabinets()).map((r) => r.cabinetId).sort()).toEqual(['K-01', 'OLD-01']);
    await store.saveLastSeenMany([{ cabinetId: 'OLD-01', at: Date.UTC(2026, 0, 3) }]);
    await store.setDisabled('OLD-01', true);
    const doc = await db.models.Cabinet.collection.findOne({ _id: legacyId as never });
    expect(doc).toMatchObject({ lastSeenAt: new Date(Date.UTC(2026, 0, 3)), disabled: true });
    expect(await store.loadCabinet('OLD-01')).toMatchObject({ cabinetId: 'OLD-01', disabled: true });
  });

  it('keys visits by their id, and still loads and projects a visit stored with an ObjectId', async () => {
    const store = new MongooseFleetStore(db.models);
    const at = Date.UTC(2026, 0, 5);
    expect(await store.createVisit({ visitId: 'VK-1', cabinetId: 'K-01', siteId: 'site-1', purpose: 'restock', operatorId: 'op', requestedAt: at, unlockExpiresAt: at + 18_000 })).toBe('created');
    expect(await db.models.Visit.collection.findOne({ _id: 'VK-1' as never })).toMatchObject({ visitId: 'VK-1', doorLock: 'K-01/main' });
    const view = (await store.loadVisit('VK-1'))!;
    await store.projectVisit({ ...view, status: 'relocked' }, true);
    expect(await store.loadVisit('VK-1')).toMatchObject({ status: 'relocked' });
    expect((await db.models.Visit.collection.findOne({ _id: 'VK-1' as never }))?.doorLock).toBeUndefined();
    expect(await store.loadVisit('VK-NONE')).toBeUndefined();

    const legacy = new Types.ObjectId();
    await db.models.Visit.collection.insertOne({ _id: legacy as never, visitId: 'VOLD-1', cabinetId: 'K-01', siteId: 'site-1', door: 'main', purpose: 'restock', status: 'open', unlockRequestedAt: new Date(at), unlockExpiresAt: new Date(at + 1), receivedFrames: {}, version: 0 });
    const older = new MongooseFleetStore(db.models);
    const old = (await older.loadVisit('VOLD-1'))!;
    expect(old).toMatchObject({ visitId: 'VOLD-1', status: 'open' });
    await older.projectVisit({ ...old, status: 'closed', closedAt: at + 5 }, true);
    expect(await db.models.Visit.collection.findOne({ _id: legacy as never })).toMatchObject({ status: 'closed' });
  });

  it('finds a cabinet by _id through the index (the patched FerretDB build), not by a scan', async () => {
    const plan = JSON.stringify(await db.models.Cabinet.find({ _id: 'K-01' }).explain());
    // FerretDB reports SQLite's query plan; MongoDB's differs and says IDHACK or IXSCAN.
    if (plan.includes('"Plan"')) expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
    else expect(plan).toMatch(/IDHACK|IXSCAN|EXPRESS_IXSCAN/);
  });

  it('reads every cabinet’s open visit and raised alarms in one pass each, choosing as the per-cabinet reads do', async () => {
    const store = new MongooseFleetStore(db.models);
    const visit = (visitId: string, cabinetId: string, at: number, status: 'unlocking' | 'open' | 'closed' | 'complete', holds: boolean) => ({
      visitId,
      cabinetId,
      siteId: 'site-1',
      purpose: 'shopping' as const,
      status,
      ...(holds ? { doorLock: `${cabinetId}/main` } : {}),
      unlockRequestedAt: new Date(at),
      unlockExpiresAt: new Date(at + 18_000),
    });
    await db.models.Visit.create([
      visit('V1', 'CAB-A', 1_000, 'closed', false),
      visit('V2', 'CAB-A', 2_000, 'open', true),
      visit('V3', 'CAB-B', 1_000, 'closed', false),
      visit('V4', 'CAB-B', 3_000, 'closed', false),
      visit('V5', 'CAB-C', 5_000, 'complete', false),
    ]);
    const all = await store.openVisits();
    // K-01's closed visit is the one left by the test above.
    expect(Object.fromEntries(all.map((v) => [v.cabinetId, v.visitId]))).toEqual({ 'CAB-A': 'V2', 'CAB-B': 'V4', 'K-01': 'VOLD-1' });
    for (const id of ['CAB-A', 'CAB-B', 'CAB-C', 'K-01']) expect((await store.openVisitOf(id))?.visitId).toBe(all.find((v) => v.cabinetId === id)?.visitId);

    await store.raiseAlarm({ cabinetId: 'CAB-A', siteId: 'site-1', kind: 'tamper', at: 10 });
    await store.raiseAlarm({ cabinetId: 'CAB-B', siteId: 'site-1', kind: 'temperature', at: 20 });
    await store.clearAlarm({ cabinetId: 'CAB-B', kind: 'temperature', at: 30 });
    expect(await store.allRaisedAlarms()).toEqual([{ cabinetId: 'CAB-A', kind: 'tamper', since: 10 }]);
  });

  it('keys frames by visit, camera and seq: a resend is a duplicate, and a visit\'s frames are read by _id, never by visitId', async () => {
    const store = new MongooseFleetStore(db.models);
    const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n]);
    const frame = (camera: string, seq: number, phase: 'before' | 'during' | 'after') => ({ camera, seq, phase, ts: 1_000 + seq, jpeg: jpeg(seq) });
    for (const f of [frame('top', 0, 'before'), frame('top', 1, 'after'), frame('side', 0, 'before')]) expect(await store.storeFrame('VF-1', f)).toBe('stored');
    expect(await store.storeFrame('VF-1', frame('top', 1, 'after'))).toBe('duplicate');
    expect(await db.models.Frame.collection.findOne({ _id: 'VF-1:top:1' as never })).toMatchObject({ visitId: 'VF-1', camera: 'top', seq: 1 });

    const filters: unknown[] = [];
    db.conn.set('debug', (collection: string, _method: string, filter: unknown) => void (collection === 'frames' && filters.push(filter)));
    try {
      expect(await store.storedFrames('VF-1', [{ camera: 'top', seq: 0 }, { camera: 'top', seq: 2 }, { camera: 'side', seq: 0 }])).toEqual([{ camera: 'top', seq: 0 }, { camera: 'side', seq: 0 }]);
      const loaded = await store.loadFrames('VF-1', { top: 2, side: 2 });
      expect(loaded.map((f) => `${f.camera}/${f.seq}/${f.phase}`)).toEqual(['side/0/before', 'top/0/before', 'top/1/after']);
      expect(loaded[2]!.jpeg.equals(jpeg(1))).toBe(true);
    } finally {
      db.conn.set('debug', false);
    }
    // Every frame read named its _id alone (plus the one-off probe for ObjectId-keyed frames).
    expect(filters.filter((f) => JSON.stringify(f).includes('visitId'))).toEqual([]);
    expect(filters.length).toBeGreaterThanOrEqual(7);
  });

  it('still finds a frame stored with an ObjectId before frames were keyed', async () => {
    await db.models.Frame.collection.insertOne({ _id: new Types.ObjectId(), visitId: 'VF-OLD', camera: 'top', seq: 0, phase: 'before', ts: new Date(5), jpeg: Buffer.from([1]), bytes: 1 } as never);
    const store = new MongooseFleetStore(db.models);
    expect(await store.storedFrames('VF-OLD', [{ camera: 'top', seq: 0 }, { camera: 'top', seq: 1 }])).toEqual([{ camera: 'top', seq: 0 }]);
    expect((await store.loadFrames('VF-OLD', { top: 1 })).map((f) => f.phase)).toEqual(['before']);
  });
});
