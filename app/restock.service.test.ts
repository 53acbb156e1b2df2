import { SimulatedClock } from '../common/clock';
import type { Principal } from '../contracts/admin-api';
import { openTestDb, type TestDb } from '../test/db';
import { moveStock } from './commerce';
import { RestockService } from './restock.service';

jest.setTimeout(60_000);

const RESTOCKER: Principal = { id: 'rs-1', name: 'R', role: 'restocker', sites: ['sh'] };
const VIEWER: Principal = { id: 'v', name: 'V', role: 'viewer', sites: '*' };

describe('restock tasks: from the list, closed with counts, shrinkage recorded', () => {
  let db: TestDb;
  let svc: RestockService;

  beforeAll(async () => {
    db = await openTestDb('restock');
    await db.models.Product.collection.insertMany([{ sku: 'COLA', name: '可乐' }, { sku: 'CHIP', name: '薯片' }] as never[]);
    await db.models.Cabinet.collection.insertOne({ _id: 'SH-1' as never, cabinetId: 'SH-1', siteId: 'sh', name: 'Pantry', kind: 'semi', stockMoves: [], version: 0, lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 10, count: 2 }, { laneId: 'A2', sku: 'CHIP', capacity: 6, count: 6 }] });
    svc = new RestockService({ models: db.models, clock: new SimulatedClock(Date.UTC(2026, 11, 4)) });
  });
  afterAll(async () => db.close());

  it('makes a task of the low lanes, closes it with the counts: stock set, what vanished recorded as shrinkage, audited', async () => {
    const task = await svc.createTask(RESTOCKER, 'sh');
    expect(task).toMatchObject({ status: 'open', assignee: 'rs-1', lanes: [{ cabinetId: 'SH-1', laneId: 'A1', sku: 'COLA', name: '可乐', listedCount: 2, bring: 8, capacity: 10 }] });
    // A sale after the list: the service now expects 1 in A1; the restocker finds none (one gone without a sale).
    await moveStock(db.models, 'SH-1', 'sale-1', { take: [{ sku: 'COLA', qty: 1 }] });
    await expect(svc.closeTask(RESTOCKER, task.taskId, [{ cabinetId: 'SH-1', laneId: 'A2', found: 6, final: 6 }])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const closed = await svc.closeTask(RESTOCKER, task.taskId, [{ cabinetId: 'SH-1', laneId: 'A1', found: 0, final: 10 }, { cabinetId: 'SH-1', laneId: 'A2', found: 5, final: 6 }]);
    expect(closed.counts).toEqual([
      { cabinetId: 'SH-1', laneId: 'A1', sku: 'COLA', expected: 1, found: 0, final: 10, shrinkage: 1 },
      { cabinetId: 'SH-1', laneId: 'A2', sku: 'CHIP', expected: 6, found: 5, final: 6, shrinkage: 1 },
    ]);
    expect(closed).toMatchObject({ status: 'closed', shrinkage: 2 });
    const cab = await db.models.Cabinet.findOne({ cabinetId: 'SH-1' }).lean();
    expect(cab!.lanes.map((l) => [l.laneId, l.count])).toEqual([['A1', 10], ['A2', 6]]);
    await expect(svc.closeTask(RESTOCKER, task.taskId, [{ cabinetId: 'SH-1', laneId: 'A1', found: 0, final: 10 }])).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await db.models.Audit.find({ objectType: 'restock_task', objectId: task.taskId }).lean()).map((a) => a.action)).toEqual(['restock.task_created', 'restock.task_closed']);
    // Nothing low any more: no empty task.
    await expect(svc.createTask(RESTOCKER, 'sh')).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses a lane counted twice; a close cut short finishes with the counts it recorded, never reckoned again', async () => {
    await moveStock(db.models, 'SH-1', 'sale-2', { take: [{ sku: 'COLA', qty: 8 }] });
    const task = await svc.createTask(RESTOCKER, 'sh');
    const c = { cabinetId: 'SH-1', laneId: 'A1', found: 1, final: 10 };
    await expect(svc.closeTask(RESTOCKER, task.taskId, [c, c, c])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const closed = await svc.closeTask(RESTOCKER, task.taskId, [c]);
    expect(closed.counts).toEqual([{ cabinetId: 'SH-1', laneId: 'A1', sku: 'COLA', expected: 2, found: 1, final: 10, shrinkage: 1 }]);
    // As if the process died after recording the counts and setting the stock, before closing the task.
    await db.models.RestockTask.updateOne({ _id: task.taskId }, { $set: { status: 'closing' }, $unset: { closedAt: '' } });
    expect((await svc.tasks(RESTOCKER, { status: 'open' })).map((t) => t.taskId)).toContain(task.taskId);
    await expect(svc.closeTask(RESTOCKER, task.taskId, [{ ...c, final: 9 }])).rejects.toMatchObject({ code: 'CONFLICT' });
    const retried = await svc.closeTask(RESTOCKER, task.taskId, [c]);
    expect(retried).toMatchObject({ status: 'closed', counts: closed.counts, shrinkage: 1 });
    expect((await db.models.Cabinet.findOne({ cabinetId: 'SH-1' }).lean())!.lanes.find((l) => l.laneId === 'A1')!.count).toBe(10);
  });

  it('closes a task whose lane a planogram version removed since: that lane is recorded as gone, not counted', async () => {
    await moveStock(db.models, 'SH-1', 'sale-3', { take: [{ sku: 'CHIP', qty: 5 }] });
    const task = await svc.createTask(RESTOCKER, 'sh');
    expect(task.lanes.map((l) => l.laneId)).toEqual(['A2']);
    await db.models.Cabinet.updateOne({ _id: 'SH-1' }, { $set: { lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 10, count: 10 }] } });
    const closed = await svc.closeTask(RESTOCKER, task.taskId, [{ cabinetId: 'SH-1', laneId: 'A1', found: 10, final: 10 }]);
    expect(closed).toMatchObject({ status: 'closed', shrinkage: 0 });
    expect((await db.models.Audit.findOne({ objectId: task.taskId, action: 'restock.task_closed' }).lean())!.after).toMatchObject({ gone: ['SH-1/A2'] });
  });

  it('refuses other sites and roles without cabinet.restock', async () => {
    await expect(svc.list({ ...RESTOCKER, sites: ['bj'] }, 'sh')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(svc.tasks(VIEWER)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const [t] = await svc.tasks(RESTOCKER, { siteId: 'sh' });
    await expect(svc.get({ ...RESTOCKER, sites: ['bj'] }, t!.taskId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
