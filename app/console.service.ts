import type { Fleet } from '../actors/fleet/fleet';
import type { VisitView } from '../actors/visit/visit.protocol';
import type { Cancel, Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import { can, inScope, type Permission, type Principal } from '../contracts/admin-api';
import type {
  CabinetDetail,
  ContractRow,
  DebtRow,
  FleetFilter,
  FleetPage,
  KpiDay,
  Kpis,
  ListQuery,
  OrderRow,
  Page,
  PaymentRow,
  ReconciliationRow,
  RefundRow,
  SessionRow,
  TimelineEntry,
  VisitRow,
} from '../contracts/console-api';
import { SOLD_ORDER_STATUSES } from '../contracts/console-api';
import type { AuditEntry } from '../contracts/admin-api';
import { countsOf, fleetComparator, matchesFilter } from '../contracts/fleet-view';
import { VisitEvidence } from '../store/evidence';
import { naturalKeys } from '../store/natural-keys';
import type { Models } from '../store/models';
import type { ContractDoc, DebtDoc, OrderDoc, PaymentDoc, ReconciliationReportDoc, RefundDoc } from '../store/models/commerce';

export interface ConsoleDeps {
  models: Models;
  fleet: Pick<Fleet, 'snapshot' | 'view' | 'visitView'>;
  clock: Clock;
  log: Logger;
  /** KPIs are recomputed at most this often per scope and window. Default 60 s. */
  kpiCacheMs?: number;
  /** Online-rate samples are taken this often (kept in memory, 24 h). Default 60 s; 0 disables. */
  sampleEveryMs?: number;
}

/** Shoppers appear by a short reference, never by phone number or full id (same shape as the review cases'). */
export const shopperRef = (id: string | undefined): string => (id ? `${id.slice(0, 5)}…${id.slice(-4)}` : '');
const openidRef = (id: string): string => `${id.slice(0, 4)}…${id.slice(-3)}`;
const ms = (d: Date | undefined | null): number | undefined => (d ? new Date(d).getTime() : undefined);
const must = (d: Date | undefined | null): number => (d ? new Date(d).getTime() : 0);

/** Records read for one KPI window at most (FerretDB v1 scans; the newest are kept, `truncated` says so). */
const KPI_READ_CAP = 20_000;
/** Business days are Beijing days. */
const DAY_OFFSET_MS = 8 * 3_600_000;
export const dayOf = (t: number): string => new Date(t + DAY_OFFSET_MS).toISOString().slice(0, 10);

function need(p: Principal, perm: Permission): void {
  if (!can(p, perm)) throw new AppError('FORBIDDEN', `role ${p.role} may not ${perm}`, { permission: perm });
}

/** A site filter for queries: the requested site (must be in scope) or every site in scope. */
function siteFilter(p: Principal, siteId: string | undefined): Record<string, unknown> {
  if (siteId !== undefined) {
    if (!inScope(p, siteId)) throw new AppError('FORBIDDEN', `site ${siteId} is outside your scope`);
    return { siteId };
  }
  return p.sites === '*' ? {} : { siteId: { $in: p.sites } };
}

export function percentile(values: number[], q: number): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/**
 * A list's status and time filters: `status` may name several statuses (comma-separated, e.g. the unpaid
 * debts `open,reminded`); `from`/`to` is a date range and `before` the page cursor on the list's time field.
 */
export function listFilter(q: Pick<ListQuery, 'status' | 'before' | 'from' | 'to' | 'visitId' | 'orderId'>, timeField: string): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  if (q.visitId) f.visitId = q.visitId;
  if (q.orderId) f.orderId = q.orderId;
  if (q.status) f.status = q.status.includes(',') ? { $in: q.status.split(',').filter(Boolean) } : q.status;
  const range: Record<string, Date> = {};
  if (q.from !== undefined) range.$gte = new Date(q.from);
  const upper = Math.min(q.before ?? Infinity, q.to ?? Infinity);
  if (upper !== Infinity) range.$lt = new Date(upper);
  if (Object.keys(range).length) f[timeField] = range;
  return f;
}

export function visitRow(v: Pick<VisitView, 'visitId' | 'cabinetId' | 'siteId' | 'purpose' | 'status' | 'shopperId' | 'operatorId' | 'requestedAt' | 'openedAt' | 'closedAt' | 'completedAt' | 'expectedFrames' | 'receivedFrames' | 'recognition'>): VisitRow {
  const r = v.recognition;
  return {
    visitId: v.visitId,
    cabinetId: v.cabinetId,
    siteId: v.siteId,
    purpose: v.purpose,
    status: v.status,
    ...(v.shopperId ? { shopperRef: shopperRef(v.shopperId) } : {}),
    ...(v.operatorId ? { operatorId: v.operatorId } : {}),
    requestedAt: v.requestedAt,
    ...(v.openedAt !== undefined ? { openedAt: v.openedAt } : {}),
    ...(v.closedAt !== undefined ? { closedAt: v.closedAt } : {}),
    ...(v.completedAt !== undefined ? { completedAt: v.completedAt } : {}),
    ...(v.expectedFrames ? { expectedFrames: v.expectedFrames } : {}),
    receivedFrames: v.receivedFrames ?? {},
    ...(r ? { recognition: { status: r.status, confidence: r.confidence, items: r.items, at: r.at } } : {}),
  };
}

interface VisitLean {
  visitId: string;
  cabinetId: string;
  siteId: string;
  purpose: 'shopping' | 'restock';
  status: VisitView['status'];
  shopperId?: string;
  operatorId?: string;
  unlockRequestedAt: Date;
  openedAt?: Date;
  closedAt?: Date;
  completedAt?: Date;
  expectedFrames?: Record<string, number>;
  receivedFrames?: Record<string, number>;
  recognition?: { status: 'settled' | 'needs_review' | 'failed'; confidence: number; items: Array<{ sku: string; qty: number; confidence: number }>; at: number };
}

const leanVisitRow = (v: VisitLean): VisitRow =>
  visitRow({
    visitId: v.visitId,
    cabinetId: v.cabinetId,
    siteId: v.siteId,
    purpose: v.purpose,
    status: v.status,
    shopperId: v.shopperId,
    operatorId: v.operatorId,
    requestedAt: must(v.unlockRequestedAt),
    openedAt: ms(v.openedAt),
    closedAt: ms(v.closedAt),
    completedAt: ms(v.completedAt),
    expectedFrames: v.expectedFrames,
    receivedFrames: v.receivedFrames ?? {},
    recognition: v.recognition ? { ...v.recognition, reasons: [], modelVersion: '' } : undefined,
  });

const VISIT_FIELDS = { visitId: 1, cabinetId: 1, siteId: 1, purpose: 1, status: 1, shopperId: 1, operatorId: 1, unlockRequestedAt: 1, openedAt: 1, closedAt: 1, completedAt: 1, expectedFrames: 1, receivedFrames: 1, 'recognition.status': 1, 'recognition.confidence': 1, 'recognition.items': 1, 'recognition.at': 1 };

/**
 * The console's read side: the fleet as the actors hold it (no actor messaged), cabinet detail, visits and
 * shopper sessions, money records, reconciliation, audit log and KPIs. Every call checks the role's
 * permission and filters by the principal's sites (an object of another site reads as not found). Lists
 * are bounded pages sorted by an indexed time field with a `before` cursor; related records are fetched
 * with one batched read per page, never one per row. Phone numbers never appear; shoppers by reference.
 */
export class ConsoleService {
  private readonly kpiCache = new Map<string, { at: number; value: Kpis }>();
  private readonly samples: Array<{ at: number; bySite: Record<string, [number, number]> }> = [];
  private sampler: Cancel | undefined;
  private readonly evidence: VisitEvidence;

  constructor(private readonly d: ConsoleDeps) {
    this.evidence = new VisitEvidence(d.models);
    const every = d.sampleEveryMs ?? 60_000;
    if (every > 0) {
      const tick = () => {
        this.sample();
        this.sampler = d.clock.schedule(every, tick);
      };
      this.sampler = d.clock.schedule(every, tick);
    }
  }

  close(): void {
    this.sampler?.();
  }

  /** Records the online rate per site (for the KPI chart); public so tests can take one. */
  sample(): void {
    const bySite: Record<string, [number, number]> = {};
    for (const r of this.d.fleet.snapshot()) {
      const s = (bySite[r.siteId] ??= [0, 0]);
      if (r.online) s[0]++;
      s[1]++;
    }
    this.samples.push({ at: this.d.clock.now(), bySite });
    if (this.samples.length > 1440) this.samples.shift();
  }

  // ---- fleet ----

  fleetPage(p: Principal, q: FleetFilter & { offset: number; limit: number }): FleetPage {
    need(p, 'fleet.view');
    if (q.siteId !== undefined) siteFilter(p, q.siteId);
    const all = this.d.fleet.snapshot().filter((r) => inScope(p, r.siteId));
    const sites = [...new Set(all.map((r) => r.siteId))].sort();
    const bySiteKind = all.filter((r) => (q.siteId === undefined || r.siteId === q.siteId) && (q.kind === undefined || r.kind === q.kind));
    const matched = bySiteKind.filter((r) => matchesFilter(r, q, this.d.clock.now())).sort(fleetComparator(q.sort, q.desc));
    return { counts: countsOf(bySiteKind), total: matched.length, rows: matched.slice(q.offset, q.offset + q.limit), sites };
  }

  async cabinet(p: Principal, cabinetId: string): Promise<CabinetDetail> {
    need(p, 'fleet.view');
    const m = this.d.models;
    const rec = await naturalKeys.findOne(m.Cabinet, cabinetId, { cabinetId }, { secret: 0, stockMoves: 0 });
    if (!rec || !inScope(p, rec.siteId)) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
    const skus = [...new Set(rec.lanes.map((l) => l.sku))];
    const [products, alarms, visits] = await Promise.all([
      skus.length ? m.Product.find({ sku: { $in: skus } }, { sku: 1, name: 1, nameEn: 1 }).lean() : Promise.resolve([]),
      m.Alarm.find({ cabinetId }).sort({ raisedAt: -1 }).limit(50).lean(),
      m.Visit.find({ cabinetId }, VISIT_FIELDS).sort({ unlockRequestedAt: -1 }).limit(20).lean<VisitLean[]>(),
    ]);
    const names = new Map(products.map((x) => [x.sku, x]));
    const rows = visits.map(leanVisitRow);
    // Latest frames: those of the newest visit that has any (one read), for roles that may see evidence.
    const withFrames = rows.find((v) => Object.values(v.receivedFrames).some((n) => n > 0));
    if (withFrames && can(p, 'review.view')) {
      const frames = await this.evidence.listFrames(withFrames.visitId, withFrames.expectedFrames ?? withFrames.receivedFrames, 100);
      withFrames.frames = frames.map((f) => ({ camera: f.camera, seq: f.seq, phase: f.phase }));
    }
    const timeline: TimelineEntry[] = [];
    for (const a of alarms) {
      timeline.push({ at: must(a.raisedAt), kind: 'alarm_raised', detail: a.kind + (a.detail ? `: ${a.detail}` : '') });
      if (a.clearedAt) timeline.push({ at: must(a.clearedAt), kind: 'alarm_cleared', detail: a.kind });
    }
    for (const v of rows) {
      timeline.push({ at: v.requestedAt, kind: 'visit_requested', visitId: v.visitId, detail: v.purpose });
      if (v.openedAt) timeline.push({ at: v.openedAt, kind: 'door_opened', visitId: v.visitId });
      if (v.closedAt) timeline.push({ at: v.closedAt, kind: 'door_closed', visitId: v.visitId });
      if (v.completedAt && v.status === 'complete') timeline.push({ at: v.completedAt, kind: 'visit_complete', visitId: v.visitId });
      if (v.status === 'relocked') timeline.push({ at: v.completedAt ?? v.requestedAt, kind: 'visit_relocked', visitId: v.visitId });
      if (v.status === 'unlock_failed') timeline.push({ at: v.completedAt ?? v.requestedAt, kind: 'unlock_failed', visitId: v.visitId });
    }
    if (rec.lastSeenAt) timeline.push({ at: must(rec.lastSeenAt), kind: 'last_seen' });
    timeline.sort((a, b) => b.at - a.at);
    return {
      cabinet: { cabinetId: rec.cabinetId, name: rec.name, kind: rec.kind, siteId: rec.siteId, cameras: rec.cameras, disabled: rec.disabled, ...(rec.firmware ? { firmware: rec.firmware } : {}), ...(rec.lastSeenAt ? { lastSeenAt: must(rec.lastSeenAt) } : {}) },
      live: this.d.fleet.view(cabinetId),
      planogram: rec.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count, ...(names.get(l.sku) ? { name: names.get(l.sku)!.name, nameEn: names.get(l.sku)!.nameEn } : {}) })),
      alarms: alarms.map((a) => ({ kind: a.kind, raisedAt: must(a.raisedAt), ...(a.clearedAt ? { clearedAt: must(a.clearedAt) } : {}), ...(a.detail ? { detail: a.detail } : {}) })),
      visits: rows,
      timeline: timeline.slice(0, 100),
    };
  }

  // ---- visits and sessions ----

  async visits(p: Principal, q: ListQuery): Promise<Page<VisitRow>> {
    need(p, 'fleet.view');
    const filter: Record<string, unknown> = siteFilter(p, q.siteId);
    if (q.cabinetId) filter.cabinetId = q.cabinetId;
    if (q.purpose) filter.purpose = q.purpose;
    Object.assign(filter, listFilter(q, 'unlockRequestedAt'));
    const rows = await this.d.models.Visit.find(filter, VISIT_FIELDS).sort({ unlockRequestedAt: -1 }).limit(q.limit).lean<VisitLean[]>();
    return this.page(rows.map(leanVisitRow), q.limit, (v) => v.requestedAt);
  }

  async visit(p: Principal, visitId: string): Promise<VisitRow> {
    need(p, 'fleet.view');
    const v = await this.d.fleet.visitView(visitId);
    if (!v || !inScope(p, v.siteId)) throw new AppError('NOT_FOUND', `no visit ${visitId}`);
    const row = visitRow(v);
    if (can(p, 'review.view')) {
      const frames = await this.evidence.listFrames(visitId, v.expectedFrames ?? v.receivedFrames, 200);
      row.frames = frames.map((f) => ({ camera: f.camera, seq: f.seq, phase: f.phase }));
    }
    return row;
  }

  async sessions(p: Principal, q: ListQuery): Promise<Page<SessionRow>> {
    need(p, 'fleet.view');
    const filter: Record<string, unknown> = siteFilter(p, q.siteId);
    if (q.cabinetId) filter.cabinetId = q.cabinetId;
    Object.assign(filter, listFilter(q, 'updatedAt'));
    const rows = await this.d.models.Session.find(filter, { initial: 0 }).sort({ updatedAt: -1 }).limit(q.limit).lean();
    return this.page(
      rows.map((s) => ({
        sessionId: s.sessionId,
        shopperRef: shopperRef(s.shopperId),
        cabinetId: s.cabinetId,
        siteId: s.siteId,
        flow: s.flow,
        status: s.status,
        finished: s.finished,
        ...(s.visitId ? { visitId: s.visitId } : {}),
        ...(s.orderId ? { orderId: s.orderId } : {}),
        ...(s.totalFen !== undefined ? { totalFen: s.totalFen } : {}),
        ...(s.caseId ? { caseId: s.caseId } : {}),
        ...(s.message ? { message: s.message } : {}),
        startedAt: must(s.startedAt),
        updatedAt: must(s.updatedAt),
      })),
      q.limit,
      (s) => s.updatedAt,
    );
  }

  // ---- money ----

  async orders(p: Principal, q: ListQuery): Promise<Page<OrderRow>> {
    need(p, 'orders.view');
    const filter: Record<string, unknown> = siteFilter(p, q.siteId);
    if (q.cabinetId) filter.cabinetId = q.cabinetId;
    Object.assign(filter, listFilter(q, 'createdAt'));
    const rows = await this.d.models.Order.find(filter).sort({ createdAt: -1 }).limit(q.limit).lean<Array<OrderDoc & { createdAt: Date }>>();
    return this.page(
      rows.map((o) => ({
        orderId: o.orderId,
        shopperRef: shopperRef(o.shopperId),
        cabinetId: o.cabinetId,
        siteId: o.siteId,
        ...(o.visitId ? { visitId: o.visitId } : {}),
        flow: o.flow,
        source: o.source,
        lines: o.lines.map((l) => ({ sku: l.sku, name: l.name, qty: l.qty, unitPriceFen: l.unitPriceFen, amountFen: l.amountFen })),
        totalFen: o.totalFen,
        paidFen: o.paidFen,
        refundedFen: o.refundedFen,
        status: o.status,
        createdAt: must(o.createdAt),
      })),
      q.limit,
      (o) => o.createdAt,
    );
  }

  /**
   * Payments, refunds and debts carry no site: their orders' sites come from one batched read per page.
   * A site-scoped principal reads a larger page and keeps the rows of its sites.
   */
  private async withSites<T extends { orderId: string }>(p: Principal, siteId: string | undefined, rows: T[]): Promise<Array<T & { siteId?: string }>> {
    if (siteId !== undefined && !inScope(p, siteId)) throw new AppError('FORBIDDEN', `site ${siteId} is outside your scope`);
    const ids = [...new Set(rows.map((r) => r.orderId))];
    const orders = ids.length ? await this.d.models.Order.find({ orderId: { $in: ids } }, { orderId: 1, siteId: 1 }).lean() : [];
    const site = new Map(orders.map((o) => [o.orderId, o.siteId]));
    return rows
      .map((r) => ({ ...r, ...(site.get(r.orderId) ? { siteId: site.get(r.orderId)! } : {}) }))
      .filter((r) => (r.siteId === undefined ? p.sites === '*' && siteId === undefined : inScope(p, r.siteId) && (siteId === undefined || r.siteId === siteId)));
  }

  private readLimit(p: Principal, q: ListQuery): number {
    return p.sites === '*' && !q.siteId ? q.limit : Math.min(600, q.limit * 4);
  }

  async payments(p: Principal, q: ListQuery): Promise<Page<PaymentRow>> {
    need(p, 'orders.view');
    const filter: Record<string, unknown> = {};
    Object.assign(filter, listFilter(q, 'createdAt'));
    const raw = await this.d.models.Payment.find(filter).sort({ createdAt: -1 }).limit(this.readLimit(p, q)).lean<Array<PaymentDoc & { createdAt: Date }>>();
    const rows = (await this.withSites(p, q.siteId, raw)).slice(0, q.limit);
    return this.page(
      rows.map((x) => ({
        outTradeNo: x.outTradeNo,
        orderId: x.orderId,
        ...(x.siteId ? { siteId: x.siteId } : {}),
        shopperRef: shopperRef(x.shopperId),
        channel: x.channel,
        amountFen: x.amountFen,
        status: x.status,
        ...(x.purpose ? { purpose: x.purpose } : {}),
        ...(x.transactionId ? { transactionId: x.transactionId } : {}),
        ...(x.failureCode ? { failureCode: x.failureCode } : {}),
        createdAt: must(x.createdAt),
        ...(x.settledAt ? { settledAt: must(x.settledAt) } : {}),
      })),
      q.limit,
      (x) => x.createdAt,
      raw.length,
    );
  }

  async refunds(p: Principal, q: ListQuery): Promise<Page<RefundRow>> {
    need(p, 'orders.view');
    const filter: Record<string, unknown> = {};
    Object.assign(filter, listFilter(q, 'createdAt'));
    const raw = await this.d.models.Refund.find(filter).sort({ createdAt: -1 }).limit(this.readLimit(p, q)).lean<Array<RefundDoc & { createdAt: Date }>>();
    const rows = (await this.withSites(p, q.siteId, raw)).slice(0, q.limit);
    return this.page(
      rows.map((x) => ({ outRefundNo: x.outRefundNo, orderId: x.orderId, ...(x.siteId ? { siteId: x.siteId } : {}), amountFen: x.amountFen, reason: x.reason, status: x.status, ...(x.wechatStatus ? { wechatStatus: x.wechatStatus } : {}), requestedBy: x.requestedBy, createdAt: must(x.createdAt) })),
      q.limit,
      (x) => x.createdAt,
      raw.length,
    );
  }

  async debts(p: Principal, q: ListQuery): Promise<Page<DebtRow>> {
    need(p, 'orders.view');
    const filter: Record<string, unknown> = {};
    Object.assign(filter, listFilter(q, 'createdAt'));
    const raw = await this.d.models.Debt.find(filter).sort({ createdAt: -1 }).limit(this.readLimit(p, q)).lean<Array<DebtDoc & { createdAt: Date }>>();
    const rows = (await this.withSites(p, q.siteId, raw)).slice(0, q.limit);
    return this.page(
      rows.map((x) => ({
        debtId: x.debtId,
        orderId: x.orderId,
        ...(x.siteId ? { siteId: x.siteId } : {}),
        shopperRef: shopperRef(x.shopperId),
        amountFen: x.amountFen,
        reason: x.reason,
        status: x.status,
        remindedAt: (x.remindedAt ?? []).map(must),
        ...(x.settledAt ? { settledAt: must(x.settledAt) } : {}),
        createdAt: must(x.createdAt),
      })),
      q.limit,
      (x) => x.createdAt,
      raw.length,
    );
  }

  /** Papay contracts belong to shoppers, not sites: only principals of every site see them. */
  async contracts(p: Principal, q: ListQuery): Promise<Page<ContractRow>> {
    need(p, 'orders.view');
    if (p.sites !== '*') throw new AppError('FORBIDDEN', 'contracts span every site; a site-scoped role does not see them');
    const filter: Record<string, unknown> = {};
    Object.assign(filter, listFilter(q, 'createdAt'));
    const raw = await this.d.models.Contract.find(filter).sort({ createdAt: -1 }).limit(q.limit).lean<Array<ContractDoc & { createdAt: Date }>>();
    return this.page(
      raw.map((x) => ({
        contractCode: x.contractCode,
        shopperRef: shopperRef(x.shopperId),
        openidRef: openidRef(x.openid),
        status: x.status,
        ...(x.signedAt ? { signedAt: must(x.signedAt) } : {}),
        ...(x.terminatedAt ? { terminatedAt: must(x.terminatedAt) } : {}),
        ...(x.terminationReason ? { terminationReason: x.terminationReason } : {}),
        createdAt: must(x.createdAt),
      })),
      q.limit,
      (x) => x.createdAt,
    );
  }

  /** Daily reconciliation against WeChat's bill is merchant-wide: finance of every site only. */
  async reconciliation(p: Principal, q: { limit: number; before?: string }): Promise<Page<ReconciliationRow>> {
    need(p, 'finance.view');
    if (p.sites !== '*') throw new AppError('FORBIDDEN', 'reconciliation is merchant-wide; a site-scoped role does not see it');
    const filter: Record<string, unknown> = q.before ? { billDate: { $lt: q.before } } : {};
    const rows = await this.d.models.ReconciliationReport.find(filter).sort({ billDate: -1 }).limit(q.limit).lean<Array<ReconciliationReportDoc & { createdAt: Date }>>();
    return {
      rows: rows.map((r) => ({ billDate: r.billDate, status: r.status, billRows: r.billRows, localRecords: r.localRecords, diffs: r.diffs.map((x) => ({ ...x })), ...(r.error ? { error: r.error } : {}), createdAt: must(r.createdAt) })),
    };
  }

  // ---- audit ----

  async audit(p: Principal, q: { actorId?: string; objectType?: string; objectId?: string; siteId?: string; before?: number; limit: number }): Promise<Page<AuditEntry>> {
    need(p, 'audit.view');
    const filter: Record<string, unknown> = siteFilter(p, q.siteId);
    if (q.actorId) filter.actorId = q.actorId;
    if (q.objectType) filter.objectType = q.objectType;
    if (q.objectId) filter.objectId = q.objectId;
    if (q.before) filter.at = { $lt: new Date(q.before) };
    const rows = await this.d.models.Audit.find(filter).sort({ at: -1 }).limit(q.limit).lean();
    return this.page(
      rows.map((a) => ({ at: must(a.at), actorId: a.actorId, actorRole: a.actorRole, action: a.action, objectType: a.objectType, objectId: a.objectId, ...(a.siteId ? { siteId: a.siteId } : {}), before: a.before ?? null, after: a.after ?? null })),
      q.limit,
      (a) => a.at,
    );
  }

  private page<T>(rows: T[], limit: number, at: (r: T) => number, read = rows.length): Page<T> {
    const last = rows[rows.length - 1];
    return read >= limit && last ? { rows, next: at(last) } : { rows };
  }

  /** The catalogue's names and prices (the review page shows names and the money a decision moves). */
  // ---- KPIs ----

  async kpis(p: Principal, q: { days: number; siteId?: string }): Promise<Kpis> {
    need(p, 'fleet.view');
    const scope = siteFilter(p, q.siteId);
    const key = `${JSON.stringify(p.sites)}|${q.siteId ?? ''}|${q.days}`;
    const now = this.d.clock.now();
    const hit = this.kpiCache.get(key);
    if (hit && now - hit.at < (this.d.kpiCacheMs ?? 60_000)) return hit.value;
    const value = await this.computeKpis(p, q, scope, now);
    if (this.kpiCache.size > 200) this.kpiCache.clear();
    this.kpiCache.set(key, { at: now, value });
    return value;
  }

  private async computeKpis(p: Principal, q: { days: number; siteId?: string }, scope: Record<string, unknown>, now: number): Promise<Kpis> {
    const m = this.d.models;
    // The window is whole Beijing days, today included.
    const todayStart = Date.parse(`${dayOf(now)}T00:00:00Z`) - DAY_OFFSET_MS;
    const from = todayStart - (q.days - 1) * 86_400_000;
    const since = new Date(from);
    const [visits, orders, cases, cabinets] = await Promise.all([
      m.Visit.find({ ...scope, unlockRequestedAt: { $gte: since } }, { purpose: 1, status: 1, unlockRequestedAt: 1, openedAt: 1, closedAt: 1, 'recognition.at': 1 }).sort({ unlockRequestedAt: -1 }).limit(KPI_READ_CAP).lean<Array<Pick<VisitLean, 'purpose' | 'status' | 'unlockRequestedAt' | 'openedAt' | 'closedAt'> & { recognition?: { at?: number } }>>(),
      m.Order.find({ ...scope, createdAt: { $gte: since }, status: { $in: [...SOLD_ORDER_STATUSES] } }, { paidFen: 1, refundedFen: 1, createdAt: 1 }).sort({ createdAt: -1 }).limit(KPI_READ_CAP).lean<Array<{ paidFen: number; refundedFen: number; createdAt: Date }>>(),
      m.ReviewCase.find({ ...scope, createdAt: { $gte: since } }, { createdAt: 1 }).sort({ createdAt: -1 }).limit(KPI_READ_CAP).lean<Array<{ createdAt: Date }>>(),
      m.Cabinet.find(scope, { siteId: 1, lanes: 1 }).limit(KPI_READ_CAP).lean(),
    ]);
    const truncated = [visits, orders, cases, cabinets].some((x) => x.length >= KPI_READ_CAP);
    const days = new Map<string, KpiDay & { lat: number[] }>();
    for (let t = from; t <= now; t += 86_400_000) {
      const day = dayOf(t);
      days.set(day, { day, visits: 0, doorOpened: 0, unlockFailed: 0, recognised: 0, reviewCases: 0, salesFen: 0, orders: 0, lat: [] });
    }
    const at = (t: Date | number) => days.get(dayOf(new Date(t).getTime()));
    const latencies: number[] = [];
    let requested = 0;
    let failed = 0;
    let recognisedVisits = 0;
    for (const v of visits) {
      if (v.purpose !== 'shopping') continue;
      const d = at(v.unlockRequestedAt);
      requested++;
      if (d) d.visits++;
      if (v.status === 'unlock_failed') {
        failed++;
        if (d) d.unlockFailed++;
      }
      if (v.openedAt && d) d.doorOpened++;
      const rAt = v.recognition?.at;
      if (typeof rAt === 'number' && v.closedAt) {
        recognisedVisits++;
        const lat = rAt - new Date(v.closedAt).getTime();
        latencies.push(lat);
        if (d) {
          d.recognised++;
          d.lat.push(lat);
        }
      }
    }
    let sales = 0;
    for (const o of orders) {
      const net = (o.paidFen ?? 0) - (o.refundedFen ?? 0);
      sales += net;
      const d = at(o.createdAt);
      if (d) {
        d.salesFen += net;
        d.orders++;
      }
    }
    for (const c of cases) {
      const d = at(c.createdAt);
      if (d) d.reviewCases++;
    }
    let lanes = 0;
    let stockOuts = 0;
    for (const c of cabinets) {
      for (const l of c.lanes ?? []) {
        lanes++;
        if (l.count === 0) stockOuts++;
      }
    }
    const live = this.d.fleet.snapshot().filter((r) => inScope(p, r.siteId) && (q.siteId === undefined || r.siteId === q.siteId));
    const online = live.filter((r) => r.online).length;
    const p95 = percentile(latencies, 0.95);
    const onlineSamples = this.samples.map((s) => {
      let on = 0;
      let total = 0;
      for (const [site, [o, t]] of Object.entries(s.bySite)) {
        if (!inScope(p, site) || (q.siteId !== undefined && site !== q.siteId)) continue;
        on += o;
        total += t;
      }
      return { at: s.at, online: on, total };
    });
    return {
      from,
      to: now,
      days: q.days,
      cabinets: cabinets.length,
      doorOpenSuccessRate: requested ? (requested - failed) / requested : null,
      recognitionP95Ms: p95 ?? null,
      onlineRate: live.length ? online / live.length : null,
      salesPerCabinetPerDayFen: cabinets.length ? Math.round(sales / cabinets.length / q.days) : null,
      reviewShare: recognisedVisits ? cases.length / recognisedVisits : null,
      stockOuts,
      lanes,
      daily: [...days.values()].map(({ lat, ...d }) => {
        const p = percentile(lat, 0.95);
        return p === undefined ? d : { ...d, recognitionP95Ms: p };
      }),
      onlineSamples,
      truncated,
      computedAt: now,
    };
  }
}
