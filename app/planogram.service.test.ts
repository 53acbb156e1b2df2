import { SimulatedClock } from '../common/clock';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import { openTestDb, type TestDb } from '../test/db';
import { moveStock } from './commerce';
import { PlanogramService } from './planogram.service';
import { RestockService } from './restock.service';

jest.setTimeout(60_000);

const OPERATOR: Principal = { id: 'op-1', name: 'O', role: 'operator', sites: ['sh'] };
const RESTOCKER: Principal = { id: 'rs-1', name: 'R', role: 'restocker', sites: ['sh'] };

describe('planogram versions: proposed, pending until the restock unlock, refused for unenrolled products on automatic cabinets', () => {
  let db: TestDb;
  let svc: PlanogramService;
  const enrolled = new Set(['COLA', 'CHIP']);
  const lanes = [{ laneId: 'A1', sku: 'COLA', capacity: 8, count: 3 }, { laneId: 'A2', sku: 'CHIP', capacity: 6, count: 6 }];

  beforeAll(async () => {
    db = await openTestDb('planogram');
    await db.models.Product.collection.insertMany([{ sku: 'COLA', name: '可乐', active: true }, { sku: 'CHIP', name: '薯片', active: true }, { sku: 'KIWI', name: '猕猴桃汁', active: true }, { sku: 'OLD', name: '旧', active: false }] as never[]);
    for (const [id, kind] of [['AUTO-1', 'auto'], ['SEMI-1', 'semi']] as const) {
      await db.models.Cabinet.collection.insertOne({ _id: id as never, cabinetId: id, siteId: 'sh', name: id, kind, stockMoves: [], version: 0, lanes });
    }
    svc = new PlanogramService({ models: db.models, clock: new SimulatedClock(Date.UTC(2026, 11, 4)), log: silentLogger, recognition: { enrolled: () => [...enrolled] } });
  });
  afterAll(async () => db.close());

  it('a fully automatic cabinet refuses a product the recogniser has not enrolled; a semi-automatic one takes it', async () => {
    const next = [{ laneId: 'A1', sku: 'KIWI', capacity: 8 }, { laneId: 'A2', sku: 'CHIP', capacity: 6 }];
    await expect(svc.propose(OPERATOR, 'AUTO-1', { lanes: next, baseVersion: 1 })).rejects.toMatchObject({ code: 'PRODUCT_NOT_ENROLLED', details: { skus: ['KIWI'] } });
    await expect(svc.propose(OPERATOR, 'SEMI-1', { lanes: [{ laneId: 'A1', sku: 'OLD', capacity: 8 }], baseVersion: 1 })).rejects.toMatchObject({ code: 'PRODUCT_UNAVAILABLE', details: { skus: ['OLD'] } });
    const semi = await svc.propose(OPERATOR, 'SEMI-1', { lanes: next, baseVersion: 1 });
    expect(semi).toMatchObject({ version: 1, pending: { version: 2, status: 'pending', createdBy: 'op-1', diff: [{ laneId: 'A1', change: 'product' }] } });
    // Still the old lanes until the restock unlock.
    expect(semi.lanes.map((l) => l.sku)).toEqual(['COLA', 'CHIP']);
  });

  it('refuses an edit from a stale version, a duplicated lane, another site and a restocker', async () => {
    const next = [{ laneId: 'A1', sku: 'CHIP', capacity: 8 }];
    await expect(svc.propose(OPERATOR, 'SEMI-1', { lanes: next, baseVersion: 1 })).rejects.toMatchObject({ code: 'CONFLICT', details: { version: 2 } });
    await expect(svc.propose(OPERATOR, 'AUTO-1', { lanes: [...next, ...next], baseVersion: 1 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(svc.propose({ ...OPERATOR, sites: ['bj'] }, 'AUTO-1', { lanes: next, baseVersion: 1 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(svc.propose(RESTOCKER, 'AUTO-1', { lanes: next, baseVersion: 1 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('once enrolled it is accepted; the restock list brings the new lane full; the restock unlock applies it once; history and audit kept', async () => {
    enrolled.add('KIWI');
    const next = [{ laneId: 'A1', sku: 'KIWI', capacity: 8 }, { laneId: 'A2', sku: 'CHIP', capacity: 6, par: 2 }];
    await svc.propose(OPERATOR, 'AUTO-1', { lanes: next, baseVersion: 1, note: 'kiwi juice in' });
    // A second proposal from the pending one replaces it.
    const v3 = await svc.propose(OPERATOR, 'AUTO-1', { lanes: [...next, { laneId: 'B1', sku: 'COLA', capacity: 4 }], baseVersion: 2 });
    expect(v3.pending).toMatchObject({ version: 3 });
    expect(v3.history.map((h) => [h.version, h.status])).toEqual([[3, 'pending'], [2, 'withdrawn'], [1, 'applied']]);

    const list = await new RestockService({ models: db.models, clock: new SimulatedClock(Date.UTC(2026, 11, 4)) }).list(RESTOCKER, 'sh');
    const auto = list.cabinets.find((c) => c.cabinetId === 'AUTO-1')!;
    expect(auto.lanes.map((l) => [l.laneId, l.sku, l.bring])).toEqual([['A1', 'KIWI', 8], ['B1', 'COLA', 4]]);

    const applied = await svc.applyAtRestock('AUTO-1', 'V-restock-1');
    expect(applied).toEqual({ version: 3, lanes: [{ laneId: 'A1', sku: 'KIWI', capacity: 8, count: 0 }, { laneId: 'A2', sku: 'CHIP', capacity: 6, count: 6, par: 2 }, { laneId: 'B1', sku: 'COLA', capacity: 4, count: 0 }] });
    expect(await svc.applyAtRestock('AUTO-1', 'V-restock-2')).toBeUndefined();
    const now = await svc.get(OPERATOR, 'AUTO-1');
    expect(now).toMatchObject({ version: 3, lanes: applied!.lanes });
    expect(now.pending).toBeUndefined();
    expect(now.history[0]).toMatchObject({ version: 3, status: 'applied', appliedVisitId: 'V-restock-1' });
    const actions = (await db.models.Audit.find({ objectType: 'cabinet', objectId: 'AUTO-1' }).lean()).map((a) => a.action);
    expect(actions).toEqual(['planogram.propose', 'planogram.propose', 'planogram.apply']);
  });

  it('a proposal that died before pointing the cabinet at its record does not wedge the next; a sale meanwhile does not refuse it', async () => {
    // As left by a process that died between the record's insert and the cabinet's write.
    await db.models.Planogram.create({ _id: 'AUTO-1:4', cabinetId: 'AUTO-1', version: 4, status: 'pending', lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 8 }], createdBy: 'op-1', createdAt: new Date(0) });
    const proposed = await svc.propose(OPERATOR, 'AUTO-1', { lanes: [{ laneId: 'A1', sku: 'CHIP', capacity: 8 }], baseVersion: 3 });
    expect(proposed.pending).toMatchObject({ version: 5 });
    // The cabinet document moves for a sale between the read and the write: the version still lands.
    const racing = svc.propose(OPERATOR, 'AUTO-1', { lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 8 }], baseVersion: 5 });
    await moveStock(db.models, 'AUTO-1', 'sale-race', { take: [{ sku: 'CHIP', qty: 1 }] });
    expect((await racing).pending).toMatchObject({ version: 6 });
    await svc.withdraw(OPERATOR, 'AUTO-1');
  });

  it('a withdrawn version is never applied', async () => {
    await svc.withdraw(OPERATOR, 'SEMI-1');
    expect(await svc.applyAtRestock('SEMI-1', 'V-r-3')).toBeUndefined();
    expect((await svc.get(OPERATOR, 'SEMI-1')).lanes.map((l) => l.sku)).toEqual(['COLA', 'CHIP']);
    await expect(svc.withdraw(OPERATOR, 'SEMI-1')).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
