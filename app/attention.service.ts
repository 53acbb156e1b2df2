import { DEFAULT_PAR_SHARE, isLow } from '../contracts/restock';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { can, inScope, type Principal } from '../contracts/admin-api';
import { SOLD_ORDER_STATUSES, type Attention } from '../contracts/console-api';
import { offlineLongerThan } from '../contracts/fleet-view';
import type { Models } from '../store/models';
import type { AlarmCentre } from './alarms.service';
import { dayOf } from './console.service';

const DAY = 86_400_000;
/** Business days are Beijing days (as the KPIs'). */
const dayStart = (t: number): number => Date.parse(`${dayOf(t)}T00:00:00+08:00`);
/** The default par share (contracts/restock.ts: a lane's own par, else this share of its capacity, rounded up). */
export const LOW_STOCK_RATIO = DEFAULT_PAR_SHARE;
const CAP = 20_000;

/**
 * The home view: what needs a manager now, each figure counted with the same filter as the list it links to
 * (open review cases, unpaid debts = open + reminded, cabinets offline longer than N minutes, open alarms,
 * lanes below par, failed reconciliation lines), and today's sales and visits against yesterday's.
 */
export class AttentionService {
  constructor(private readonly d: { models: Models; clock: Clock; alarms: AlarmCentre; fleet: { snapshot(): Array<{ cabinetId: string; siteId: string; online: boolean; offlineSince?: number; lastSeenAt?: number }> } }) {}

  async attention(p: Principal, q: { offlineMinutes: number; siteId?: string }): Promise<Attention> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not fleet.view`);
    if (q.siteId !== undefined && !inScope(p, q.siteId)) throw new AppError('FORBIDDEN', `site ${q.siteId} is outside your scope`);
    const m = this.d.models;
    const now = this.d.clock.now();
    const scope: Record<string, unknown> = q.siteId !== undefined ? { siteId: q.siteId } : p.sites === '*' ? {} : { siteId: { $in: p.sites } };
    const today = dayStart(now);
    const yesterday = today - DAY;
    const sees = (perm: 'orders.view' | 'review.view' | 'finance.view') => can(p, perm);
    const [visits, orders, cases, cabinets, alarms, debts, recon] = await Promise.all([
      m.Visit.find({ ...scope, purpose: 'shopping', unlockRequestedAt: { $gte: new Date(yesterday) } }, { unlockRequestedAt: 1 }).limit(CAP).lean(),
      sees('orders.view') ? m.Order.find({ ...scope, createdAt: { $gte: new Date(yesterday) }, status: { $in: [...SOLD_ORDER_STATUSES] } }, { paidFen: 1, refundedFen: 1, createdAt: 1 }).limit(CAP).lean<Array<{ paidFen: number; refundedFen: number; createdAt: Date }>>() : Promise.resolve([]),
      sees('review.view') ? m.ReviewCase.find({ ...scope, status: 'open' }, { caseId: 1, cabinetId: 1, deadlineAt: 1 }).limit(CAP).lean() : Promise.resolve([]),
      m.Cabinet.find(scope, { cabinetId: 1, lanes: 1 }).limit(CAP).lean(),
      this.d.alarms.counts(p, q.siteId),
      sees('orders.view') ? m.Debt.find({ status: { $in: ['open', 'reminded'] } }, { orderId: 1, amountFen: 1 }).limit(CAP).lean() : Promise.resolve([]),
      sees('finance.view') && p.sites === '*' ? m.ReconciliationReport.find({}, { status: 1, diffs: 1 }).sort({ billDate: -1 }).limit(7).lean() : Promise.resolve(null),
    ]);
    const day = (t: Date) => (t.getTime() >= today ? 'today' : 'yesterday');
    const fig = { today: { salesFen: 0, visits: 0, orders: 0 }, yesterday: { salesFen: 0, visits: 0, orders: 0 } };
    for (const v of visits) fig[day(new Date(v.unlockRequestedAt))].visits++;
    for (const o of orders) {
      const f = fig[day(new Date(o.createdAt))];
      f.salesFen += (o.paidFen ?? 0) - (o.refundedFen ?? 0);
      f.orders++;
    }
    // Debts carry no site: their orders' sites, one batched read (as the debts list does).
    let debtRows = debts as Array<{ orderId: string; amountFen: number }>;
    if (scope.siteId !== undefined && debtRows.length) {
      const ids = [...new Set(debtRows.map((x) => x.orderId))];
      const sites = new Map((await m.Order.find({ orderId: { $in: ids } }, { orderId: 1, siteId: 1 }).lean()).map((o) => [o.orderId, o.siteId]));
      debtRows = debtRows.filter((x) => {
        const s = sites.get(x.orderId);
        return s !== undefined && inScope(p, s) && (q.siteId === undefined || s === q.siteId);
      });
    }
    const offline = this.d.fleet
      .snapshot()
      .filter((r) => inScope(p, r.siteId) && (q.siteId === undefined || r.siteId === q.siteId) && offlineLongerThan(r, q.offlineMinutes, now))
      .map((r) => r.cabinetId)
      .sort();
    const low: Attention['lowLanes']['rows'] = [];
    let lowLanes = 0;
    for (const c of cabinets) {
      for (const l of c.lanes ?? []) {
        if (!isLow(l)) continue;
        lowLanes++;
        if (low.length < 500) low.push({ cabinetId: c.cabinetId, laneId: l.laneId, sku: l.sku, count: l.count, capacity: l.capacity });
      }
    }
    low.sort((a, b) => a.count / a.capacity - b.count / b.capacity || (a.cabinetId < b.cabinetId ? -1 : 1));
    const open = [...cases].sort((a, b) => new Date(a.deadlineAt).getTime() - new Date(b.deadlineAt).getTime());
    return {
      day: dayOf(now),
      today: fig.today,
      yesterday: fig.yesterday,
      reviews: { open: open.length, overdue: open.filter((c) => new Date(c.deadlineAt).getTime() < now).length, next: open.slice(0, 5).map((c) => ({ caseId: c.caseId, cabinetId: c.cabinetId, deadlineAt: new Date(c.deadlineAt).getTime() })) },
      debts: { open: debtRows.length, amountFen: debtRows.reduce((s, x) => s + x.amountFen, 0) },
      offline: { count: offline.length, minutes: q.offlineMinutes, cabinets: offline.slice(0, 50) },
      alarms,
      lowLanes: { count: lowLanes, ratio: LOW_STOCK_RATIO, rows: low },
      reconciliation: recon ? { failedLines: recon.filter((r) => r.status !== 'matched').reduce((s, r) => s + (r.diffs?.length ?? 0), 0), reports: recon.filter((r) => r.status !== 'matched').length } : null,
      computedAt: now,
    };
  }
}
