import { Fleet } from '../actors/fleet/fleet';
import { createActorSystem } from '../actors/runtime';
import { SimulatedClock } from '../common/clock';
import { AppError } from '../common/errors';
import { silentLogger } from '../common/log';
import { SecretBox } from '../common/sealing';
import type { Principal } from '../contracts/admin-api';
import { MongooseFleetStore } from '../store/fleet.store';
import { openTestDb, type TestDb } from '../test/db';
import { seedDemo } from './demo-seed';
import { openReviewCase } from './commerce';
import { OperatorService } from './operator.service';
import { PaymentService } from '../payments/payment/payment.service';
import { billReview } from '../payments/payment/review.billing';

/** Role and site checks of every operator action, on a real database with the demo fleet. */
describe('operator service: roles, sites, audit', () => {
  let db: TestDb;
  let ops: OperatorService;
  const clock = new SimulatedClock(Date.UTC(2026, 10, 24, 3));
  const system = createActorSystem({ log: silentLogger });
  const refunds: string[] = [];
  let money: PaymentService;

  const who = (role: Principal['role'], sites: Principal['sites']): Principal => ({ id: `${role}-1`, name: role, role, sites });
  const admin = who('admin', '*');
  const viewer = who('viewer', '*');
  const bjOperator = who('operator', ['beijing-office']);
  const shOperator = who('operator', ['shanghai-hq']);
  const finance = who('finance', '*');
  const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof AppError ? e.code : String(e)));

  beforeAll(async () => {
    db = await openTestDb('operator');
    await seedDemo(db.models, new SecretBox(SecretBox.generateKeyHex()), silentLogger);
    money = new PaymentService({ models: db.models, v3: {} as never, papay: {} as never, config: { planId: 'plan' } as never, clock, log: silentLogger });
    const fleet = new Fleet({ system, store: new MongooseFleetStore(db.models), devices: { sendUnlock: async () => ({ ok: false, error: { code: 'NOT_CONNECTED' } }) } });
    await fleet.loadDirectory();
    ops = new OperatorService({
      models: db.models,
      fleet,
      clock,
      log: silentLogger,
      // The money changes that need no WeChat call run on the real payment service; charges and refunds are recorded.
      payments: {
        charge: async (_s, r) => ({ type: 'DeductionAccepted', requestId: r.requestId ?? 'x', outTradeNo: `CF${r.orderId}` }),
        refund: async (_s, r) => (refunds.push(r.refundKey), { type: 'RefundRequested', requestId: r.requestId ?? 'x', outRefundNo: `R-${r.refundKey}`, amountFen: r.amountFen }),
        billReview: async (shopperId, r) => ({ type: 'ReviewBilled', requestId: 'x', ...(await billReview(money, { ...r, shopperId })) }),
        raisePendingOrder: async (shopperId, r) => {
          const x = await money.raisePendingOrder({ ...r.order, shopperId }, r.reason);
          return { type: 'MoneyChanged', requestId: 'x', orderId: x.orderId, status: 'debt', totalFen: x.totalFen, debtId: x.debtId, changed: true };
        },
        releaseHeld: async (_s, r) => ({ type: 'MoneyChanged', requestId: 'x', orderId: r.orderId, status: await money.releaseHeld(r.orderId, r.lines, r.totalFen, r.caseId), changed: true }),
        waiveDebt: async (_s, r) => ({ type: 'MoneyChanged', requestId: 'x', orderId: r.orderId, status: 'waived', changed: await money.waiveDebt(r.orderId, r.reason) }),
      },
    });
    await openReviewCase(db.models, { caseId: 'R-SH', visitId: 'V-SH', cabinetId: 'SH-SEMI-01', siteId: 'shanghai-hq', flow: 'semi', shopperId: 'S-1', reason: 'discrepancy', recognised: [{ sku: 'COLA-ORIG', qty: 2, confidence: 0.99 }], paidLines: [{ sku: 'COLA-ORIG', qty: 1 }], proposedLines: [{ sku: 'COLA-ORIG', qty: 2 }], deadlineAt: new Date(clock.now() + 3_600_000) });
    await openReviewCase(db.models, { caseId: 'R-BJ', visitId: 'V-BJ', cabinetId: 'BJ-SEMI-01', siteId: 'beijing-office', flow: 'semi', shopperId: 'S-2', reason: 'discrepancy', recognised: [], paidLines: [], proposedLines: [], deadlineAt: new Date(clock.now() + 7_200_000) });
  });
  afterAll(async () => {
    system.stop();
    await db.close();
  });

  it('lists only the cases of the sites in scope', async () => {
    expect((await ops.listCases(admin, {})).cases.map((c) => c.caseId).sort()).toEqual(['R-BJ', 'R-SH']);
    expect((await ops.listCases(bjOperator, {})).cases.map((c) => c.caseId)).toEqual(['R-BJ']);
    expect(await code(ops.listCases(bjOperator, { siteId: 'shanghai-hq' }))).toBe('FORBIDDEN');
  });

  it('hides another site’s case as not found, for reading and deciding alike', async () => {
    expect(await code(ops.getCase(bjOperator, 'R-SH'))).toBe('NOT_FOUND');
    expect(await code(ops.decide(bjOperator, 'R-SH', { decision: 'waive' }))).toBe('NOT_FOUND');
    expect(await code(ops.restockUnlock(bjOperator, 'SH-SEMI-01'))).toBe('NOT_FOUND');
  });

  it('binds a restock unlock to its task: the task must be open, at the cabinet’s site and list the cabinet', async () => {
    const lanes = [{ cabinetId: 'SH-SEMI-01', laneId: 'A1', sku: 'COLA-ORIG', listedCount: 0, bring: 6, capacity: 6 }];
    await db.models.RestockTask.create({ _id: 'RT-open', taskId: 'RT-open', siteId: 'shanghai-hq', assignee: 'x', createdBy: 'x', status: 'open', lanes, counts: [] });
    await db.models.RestockTask.create({ _id: 'RT-closed', taskId: 'RT-closed', siteId: 'shanghai-hq', assignee: 'x', createdBy: 'x', status: 'closed', lanes, counts: [] });
    expect(await code(ops.restockUnlock(shOperator, 'SH-SEMI-01', 'RT-closed'))).toBe('CONFLICT');
    expect(await code(ops.restockUnlock(shOperator, 'SH-SEMI-02', 'RT-open'))).toMatch(/CONFLICT|NOT_FOUND/);
    expect(await code(ops.restockUnlock(shOperator, 'SH-SEMI-01', 'RT-none'))).toBe('NOT_FOUND');
    // The task's own cabinet: the unlock goes to the device (not connected here), audited with the task.
    expect(await code(ops.restockUnlock(shOperator, 'SH-SEMI-01', 'RT-open'))).toBe('CABINET_UNAVAILABLE');
    expect(await db.models.Audit.findOne({ action: 'cabinet.restock_unlock', 'after.taskId': 'RT-open' }).lean()).toBeTruthy();
  });

  it('refuses roles without the permission: a viewer cannot decide or refund, finance cannot decide, a viewer cannot restock', async () => {
    expect(await code(ops.getCase(viewer, 'R-SH'))).toBe('ok');
    expect(await code(ops.decide(viewer, 'R-SH', { decision: 'confirm' }))).toBe('FORBIDDEN');
    expect(await code(ops.refund(viewer, 'any', { amountFen: 1, reason: 'test', refundKey: 'k-1234' }))).toBe('FORBIDDEN');
    expect(await code(ops.decide(finance, 'R-SH', { decision: 'confirm' }))).toBe('FORBIDDEN');
    expect(await code(ops.restockUnlock(viewer, 'SH-SEMI-01'))).toBe('FORBIDDEN');
    expect(await db.models.ReviewCase.countDocuments({ status: 'decided' })).toBe(0);
  });

  it('a semi-automatic discrepancy confirmed by the site’s operator becomes a pending order and a debt, audited', async () => {
    const r = await ops.decide(shOperator, 'R-SH', { decision: 'confirm', note: 'two cans on the after frames' });
    expect(r.outcome).toBe('debt');
    const order = await db.models.Order.findOne({ orderId: r.orderId }).lean();
    // No paid cart order behind this case: all that was decided is due (netted against nothing paid).
    expect(order).toMatchObject({ status: 'debt', source: 'review', shopperId: 'S-1', lines: [expect.objectContaining({ sku: 'COLA-ORIG', qty: 2 })], netting: { paidFen: 0, differenceFen: order!.totalFen } });
    expect(await db.models.Debt.findOne({ orderId: r.orderId }).lean()).toMatchObject({ status: 'open', amountFen: order!.totalFen, shopperId: 'S-1' });
    const audit = await db.models.Audit.find({ objectId: 'R-SH' }).lean();
    expect(audit).toEqual([expect.objectContaining({ actorId: 'operator-1', actorRole: 'operator', action: 'review.confirm', siteId: 'shanghai-hq', before: expect.objectContaining({ status: 'open' }), after: expect.objectContaining({ outcome: 'debt' }) })]);
    // Decided once: a second decision (even the same) is a conflict, and nothing more is billed.
    expect(await code(ops.decide(admin, 'R-SH', { decision: 'confirm' }))).toBe('CONFLICT');
    expect(await db.models.Debt.countDocuments({ shopperId: 'S-1' })).toBe(1);
  });

  it('a waived discrepancy bills nothing', async () => {
    const r = await ops.decide(bjOperator, 'R-BJ', { decision: 'waive' });
    expect(r.outcome).toBe('waived: nothing due');
    expect(await db.models.Order.countDocuments({ shopperId: 'S-2' })).toBe(0);
  });

  it('stock counts after restocking are range-checked and audited with before and after', async () => {
    const cab = await db.models.Cabinet.findOne({ cabinetId: 'SH-SEMI-01' }).lean();
    const lane = cab!.lanes[0]!;
    expect(await code(ops.setStock(shOperator, 'SH-SEMI-01', { lanes: [{ laneId: lane.laneId, count: lane.capacity + 1 }] }))).toBe('BAD_REQUEST');
    const r = await ops.setStock(shOperator, 'SH-SEMI-01', { lanes: [{ laneId: lane.laneId, count: 0 }], visitId: 'V-restock-1' });
    expect(r.lanes.find((l) => l.laneId === lane.laneId)?.count).toBe(0);
    // The same restock reported twice is applied once.
    await ops.setStock(shOperator, 'SH-SEMI-01', { lanes: [{ laneId: lane.laneId, count: 0 }], visitId: 'V-restock-1' });
    const audit = await db.models.Audit.find({ objectId: 'SH-SEMI-01', action: 'cabinet.set_stock' }).lean();
    expect(audit[0]).toMatchObject({ before: [{ laneId: lane.laneId, count: lane.count }], after: [{ laneId: lane.laneId, count: 0 }] });
    expect(await code(ops.setStock(bjOperator, 'SH-SEMI-01', { lanes: [{ laneId: lane.laneId, count: 1 }] }))).toBe('NOT_FOUND');
  });
});
