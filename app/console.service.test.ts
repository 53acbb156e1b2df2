import { SimulatedClock } from '../common/clock';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import type { FleetEntry } from '../actors/fleet/fleet';
import type { VisitStatus } from '../store/models/visit';
import { openTestDb, type TestDb } from '../test/db';
import { ConsoleService, dayOf, percentile } from './console.service';

const ADMIN: Principal = { id: 'a', name: 'a', role: 'admin', sites: '*' };
const SH: Principal = { id: 'o', name: 'o', role: 'operator', sites: ['shanghai-hq'] };
const FIN_SH: Principal = { id: 'f', name: 'f', role: 'finance', sites: ['shanghai-hq'] };
const RESTOCKER: Principal = { id: 'r', name: 'r', role: 'restocker', sites: '*' };

describe('console read side: scope, money lists and KPIs from stored records', () => {
  let db: TestDb;
  // Real time: createdAt of orders and cases comes from mongoose timestamps, not the injected clock.
  const clock = new SimulatedClock(Date.now());
  const rows: FleetEntry[] = [
    { cabinetId: 'SH-1', siteId: 'shanghai-hq', kind: 'auto', state: 'idle', online: true, alarms: [], mailbox: 0 },
    { cabinetId: 'SH-2', siteId: 'shanghai-hq', kind: 'semi', state: 'offline', online: false, alarms: [], mailbox: 0 },
    { cabinetId: 'BJ-1', siteId: 'beijing-office', kind: 'auto', state: 'fault', online: true, alarms: ['tamper'], mailbox: 3 },
  ];
  let svc: ConsoleService;

  beforeAll(async () => {
    db = await openTestDb('console');
    svc = new ConsoleService({ models: db.models, fleet: { snapshot: () => rows, view: (id) => rows.find((r) => r.cabinetId === id), visitView: async () => undefined }, clock, log: silentLogger, sampleEveryMs: 0 });
    const m = db.models;
    const t = (secsAgo: number) => new Date(clock.now() - secsAgo * 1000);
    const secret = { iv: 'x', tag: 'x', data: 'x' };
    await m.Cabinet.create([
      { cabinetId: 'SH-1', name: 'a', kind: 'auto', siteId: 'shanghai-hq', cameras: ['top'], lanes: [{ laneId: 'A1', sku: 'COLA-ORIG', capacity: 6, count: 0 }, { laneId: 'A2', sku: 'COLA-ORIG', capacity: 6, count: 3 }], secret },
      { cabinetId: 'SH-2', name: 'b', kind: 'semi', siteId: 'shanghai-hq', cameras: ['top'], lanes: [{ laneId: 'A1', sku: 'COLA-ORIG', capacity: 6, count: 2 }], secret },
      { cabinetId: 'BJ-1', name: 'c', kind: 'auto', siteId: 'beijing-office', cameras: ['top'], lanes: [{ laneId: 'A1', sku: 'COLA-ORIG', capacity: 6, count: 0 }], secret },
    ]);
    const visit = (visitId: string, cabinetId: string, siteId: string, status: VisitStatus, recognisedAfterMs?: number) => ({
      visitId, cabinetId, siteId, purpose: 'shopping' as const, status, unlockRequestedAt: t(30), unlockExpiresAt: t(29), receivedFrames: {},
      ...(status === 'complete' ? { openedAt: t(29), closedAt: t(28), completedAt: t(28) } : {}),
      ...(recognisedAfterMs !== undefined ? { recognition: { status: 'settled', items: [], confidence: 0.99, reasons: [], modelVersion: 'm', at: t(28).getTime() + recognisedAfterMs } } : {}),
    });
    await m.Visit.create([
      visit('V1', 'SH-1', 'shanghai-hq', 'complete', 200),
      visit('V2', 'SH-1', 'shanghai-hq', 'complete', 400),
      visit('V3', 'SH-2', 'shanghai-hq', 'unlock_failed'),
      visit('V4', 'SH-1', 'shanghai-hq', 'relocked'),
      visit('V5', 'BJ-1', 'beijing-office', 'complete', 5_000),
    ]);
    const order = (orderId: string, siteId: string, paidFen: number) => ({ orderId, outTradeNo: `T${orderId}`, shopperId: 'S-shopper-0001', cabinetId: siteId === 'shanghai-hq' ? 'SH-1' : 'BJ-1', siteId, flow: 'auto' as const, source: 'recognition' as const, lines: [], totalFen: paidFen, paidFen, refundedFen: 0, status: 'paid' as const });
    await m.Order.create([order('O1', 'shanghai-hq', 600), order('O2', 'shanghai-hq', 300), order('O3', 'beijing-office', 10_000)]);
    await m.Payment.create([
      { _id: 'TO1', outTradeNo: 'TO1', orderId: 'O1', shopperId: 'S-shopper-0001', channel: 'papay', amountFen: 600, status: 'succeeded' },
      { _id: 'TO3', outTradeNo: 'TO3', orderId: 'O3', shopperId: 'S-shopper-0001', channel: 'papay', amountFen: 10_000, status: 'succeeded' },
    ]);
    await m.ReviewCase.create({ _id: 'R1', caseId: 'R1', visitId: 'V2', cabinetId: 'SH-1', siteId: 'shanghai-hq', flow: 'auto', reason: 'low_confidence', status: 'open', recognised: [], proposedLines: [], deadlineAt: t(-3600) });
    await m.Shopper.create({ shopperId: 'S-shopper-0001', openid: 'o-1', phone: '13812345678' });
    await m.Audit.create([
      { at: t(5), actorId: 'o', actorRole: 'operator', action: 'review.confirm', objectType: 'review_case', objectId: 'R1', siteId: 'shanghai-hq', before: null, after: null },
      { at: t(4), actorId: 'b', actorRole: 'operator', action: 'review.confirm', objectType: 'review_case', objectId: 'R9', siteId: 'beijing-office', before: null, after: null },
      { at: t(3), actorId: 'a', actorRole: 'admin', action: 'account.create', objectType: 'account', objectId: 'x', before: null, after: null },
    ]);
  });
  afterAll(async () => db.close());

  it('computes the KPIs of a scope from stored records', async () => {
    const k = await svc.kpis(SH, { days: 1 });
    expect(k.cabinets).toBe(2);
    expect(k.doorOpenSuccessRate).toBeCloseTo(3 / 4); // one unlock of four failed
    expect(k.recognitionP95Ms).toBe(400);
    expect(k.onlineRate).toBeCloseTo(1 / 2);
    expect(k.salesPerCabinetPerDayFen).toBe(450); // 900 fen over 2 cabinets, 1 day
    expect(k.reviewShare).toBeCloseTo(1 / 2); // one case for two recognised visits
    expect([k.stockOuts, k.lanes]).toEqual([1, 3]);
    expect(k.daily).toHaveLength(1);
    expect(k.daily[0]).toMatchObject({ day: dayOf(clock.now()), visits: 4, unlockFailed: 1, recognised: 2, salesFen: 900, orders: 2, reviewCases: 1 });
    const all = await svc.kpis(ADMIN, { days: 7 });
    expect(all.cabinets).toBe(3);
    expect(all.recognitionP95Ms).toBe(5_000);
    expect(all.daily).toHaveLength(7);
    await expect(svc.kpis(SH, { days: 1, siteId: 'beijing-office' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('money lists: site of payments from their orders in one read, shoppers by reference, never a phone', async () => {
    const scoped = await svc.payments(SH, { limit: 50 });
    expect(scoped.rows.map((r) => [r.outTradeNo, r.siteId])).toEqual([['TO1', 'shanghai-hq']]);
    const all = await svc.payments(ADMIN, { limit: 50 });
    expect(all.rows.map((r) => r.outTradeNo).sort()).toEqual(['TO1', 'TO3']);
    const orders = await svc.orders(SH, { limit: 50 });
    expect(orders.rows.map((o) => o.orderId).sort()).toEqual(['O1', 'O2']);
    const text = JSON.stringify([scoped, all, orders]);
    expect(text).not.toContain('13812345678');
    expect(text).not.toContain('S-shopper-0001');
    expect(text).toContain('S-sho…0001');
    await expect(svc.contracts(SH, { limit: 10 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(svc.reconciliation(FIN_SH, { limit: 10 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(svc.orders(RESTOCKER, { limit: 10 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('the audit log filters by actor and object and hides other sites (and site-less entries) from a scoped role', async () => {
    expect((await svc.audit(SH, { limit: 50 })).rows.map((a) => a.objectId)).toEqual(['R1']);
    expect((await svc.audit(ADMIN, { limit: 50 })).rows.map((a) => a.objectId)).toEqual(['x', 'R9', 'R1']);
    expect((await svc.audit(ADMIN, { actorId: 'b', limit: 50 })).rows.map((a) => a.objectId)).toEqual(['R9']);
    expect((await svc.audit(ADMIN, { objectType: 'review_case', objectId: 'R1', limit: 50 })).rows).toHaveLength(1);
    const page = await svc.audit(ADMIN, { limit: 2 });
    expect(page.next).toBeDefined();
    expect((await svc.audit(ADMIN, { limit: 2, before: page.next })).rows.map((a) => a.objectId)).toEqual(['R1']);
  });

  it('fleet page and cabinet detail stay inside the scope', async () => {
    const p = svc.fleetPage(SH, { offset: 0, limit: 10 });
    expect(p.rows.map((r) => r.cabinetId)).toEqual(['SH-1', 'SH-2']);
    expect(p.counts).toMatchObject({ total: 2, online: 1, offline: 1 });
    await expect(svc.cabinet(SH, 'BJ-1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const d = await svc.cabinet(SH, 'SH-1');
    expect(d.planogram.map((l) => l.count)).toEqual([0, 3]);
    expect(d.timeline.length).toBeGreaterThan(0);
  });

  it('percentile', () => {
    expect(percentile([], 0.95)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
  });
});
