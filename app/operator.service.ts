import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Fleet } from '../actors/fleet/fleet';
import type { Line } from '../actors/session/session.protocol';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import { can, inScope, type DecideRequest, type DecideResponse, type PendingOrderResponse, type Principal, type RefundResponse, type ReviewCase, type SetStockResponse } from '../contracts/admin-api';
import type { PaymentActors } from '../payments/payment/payment.actor';
import type { ChargeReply } from '../payments/payment/payment.protocol';
import { compareAndSet } from '../store/cas';
import type { Netting } from '../store/models/commerce';
import { VisitEvidence } from '../store/evidence';
import type { Models } from '../store/models';
import type { ReviewCaseDoc } from '../store/models/oversight';
import type { FrameDoc, VisitDoc } from '../store/models/visit';
import { moveStock, priceLines, visitClosedAt, type PricingMoment } from './commerce';
import { naturalKeys } from '../store/natural-keys';

export interface OperatorDeps {
  models: Models;
  fleet: Fleet;
  /** Undefined with WeChat off: charging and refunding answer UNAVAILABLE. */
  payments: Pick<PaymentActors, 'charge' | 'refund' | 'billReview' | 'raisePendingOrder' | 'releaseHeld' | 'waiveDebt'> | undefined;
  clock: Clock;
  log: Logger;
}

type Decision = z.infer<typeof DecideRequest>;

function forbidden(p: Principal, what: string): AppError {
  return new AppError('FORBIDDEN', `role ${p.role} may not ${what}`);
}

/** Scope check that does not reveal whether an object of another site exists: out of scope reads as not found. */
function inSite(p: Principal, siteId: string, what: string): void {
  if (!inScope(p, siteId)) throw new AppError('NOT_FOUND', `no ${what}`);
}

function chargeOutcome(r: ChargeReply): string {
  switch (r.type) {
    case 'DeductionAccepted':
    case 'PaymentPending':
      return 'charging';
    case 'OrderPaid':
      return 'charged';
    case 'DebtRecorded':
      return 'debt';
    case 'ChargeRefused':
      return `charge_refused: ${r.reason}`;
    case 'PaymentErrored':
      return `charge_failed: ${r.code}`;
  }
}

/**
 * The operator console's actions: review cases (list, evidence, decide), pending orders, refunds, restock
 * unlocks and stock counts. Every call is checked against the principal's role and sites (an object of
 * another site reads as not found), and every change goes to the append-only audit log with its
 * before and after values.
 */
export class OperatorService {
  private readonly evidence: VisitEvidence;

  constructor(private readonly d: OperatorDeps) {
    this.evidence = new VisitEvidence(d.models);
  }

  private async audit(p: Principal, action: string, objectType: string, objectId: string, siteId: string | undefined, before: unknown, after: unknown): Promise<void> {
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action, objectType, objectId, ...(siteId ? { siteId } : {}), before: before ?? null, after: after ?? null });
  }

  private toWire(c: ReviewCaseDoc & { createdAt?: Date }, frames: ReviewCase['frames']): ReviewCase {
    return {
      caseId: c.caseId,
      ...(c.visitId ? { visitId: c.visitId } : {}),
      cabinetId: c.cabinetId,
      siteId: c.siteId,
      flow: c.flow,
      reason: c.reason,
      status: c.status,
      recognised: (c.recognised ?? []).map((r) => ({ sku: r.sku, qty: r.qty, confidence: r.confidence })),
      proposedLines: (c.proposedLines ?? []).map((l) => ({ sku: l.sku, qty: l.qty })),
      deadlineAt: c.deadlineAt.getTime(),
      createdAt: c.createdAt?.getTime() ?? 0,
      frames,
      ...(c.orderId ? { orderId: c.orderId } : {}),
      // Shoppers are shown by a short reference, never by phone number.
      ...(c.shopperId ? { shopperId: `${c.shopperId.slice(0, 5)}…${c.shopperId.slice(-4)}` } : {}),
      ...(c.paidLines ? { paidLines: c.paidLines.map((l) => ({ sku: l.sku, qty: l.qty })) } : {}),
      ...(c.decision ? { decision: c.decision } : {}),
      ...(c.decidedBy ? { decidedBy: c.decidedBy } : {}),
      ...(c.decidedAt ? { decidedAt: c.decidedAt.getTime() } : {}),
      ...(c.outcome ? { outcome: c.outcome } : {}),
      ...(c.netting ? { netting: c.netting } : {}),
      ...(c.evidence !== undefined && c.evidence !== null ? { evidence: c.evidence } : {}),
    };
  }

  // ---- review cases -------------------------------------------------------------------------------------

  async listCases(p: Principal, q: { status?: 'open' | 'decided'; siteId?: string }): Promise<{ cases: ReviewCase[] }> {
    if (!can(p, 'review.view')) throw forbidden(p, 'view review cases');
    if (q.siteId && !inScope(p, q.siteId)) throw forbidden(p, `view site ${q.siteId}`);
    const filter: Record<string, unknown> = { status: q.status ?? 'open' };
    if (q.siteId) filter.siteId = q.siteId;
    else if (p.sites !== '*') filter.siteId = { $in: p.sites };
    const rows = await this.d.models.ReviewCase.find(filter, { evidence: 0 }).sort({ deadlineAt: 1 }).limit(200).lean();
    // Frames are listed per case in GET /reviews/:caseId (one scan per visit on FerretDB).
    return { cases: rows.map((c) => this.toWire({ ...c, evidence: undefined }, [])) };
  }

  private async loadCase(p: Principal, caseId: string): Promise<ReviewCaseDoc & { createdAt?: Date }> {
    const c = await this.d.models.ReviewCase.findOne({ _id: caseId }).lean();
    if (!c) throw new AppError('NOT_FOUND', `no review case ${caseId}`);
    inSite(p, c.siteId, `review case ${caseId}`);
    return c;
  }

  async getCase(p: Principal, caseId: string): Promise<ReviewCase> {
    if (!can(p, 'review.view')) throw forbidden(p, 'view review cases');
    const c = await this.loadCase(p, caseId);
    const visit = c.visitId ? await this.evidence.findVisit<Pick<VisitDoc, 'expectedFrames' | 'receivedFrames'>>(c.visitId, { expectedFrames: 1, receivedFrames: 1 }) : null;
    const frames = visit && c.visitId ? await this.evidence.listFrames(c.visitId, visit.expectedFrames ?? visit.receivedFrames) : [];
    return this.toWire(c, frames.filter((f) => f.phase !== 'during').map((f) => ({ camera: f.camera, seq: f.seq, phase: f.phase as 'before' | 'after' })));
  }

  async frame(p: Principal, visitId: string, camera: string, seq: number): Promise<Buffer> {
    if (!can(p, 'review.view')) throw forbidden(p, 'view evidence');
    const visit = await this.evidence.findVisit<Pick<VisitDoc, 'siteId'>>(visitId, { siteId: 1 });
    if (!visit) throw new AppError('NOT_FOUND', `no visit ${visitId}`);
    inSite(p, visit.siteId, `visit ${visitId}`);
    const f = await this.evidence.findFrame<Pick<FrameDoc, 'jpeg'>>(visitId, camera, seq, { jpeg: 1 });
    if (!f) throw new AppError('NOT_FOUND', `no frame ${camera}/${seq} for ${visitId}`);
    return Buffer.isBuffer(f.jpeg) ? f.jpeg : Buffer.from((f.jpeg as unknown as { buffer: ArrayBuffer }).buffer);
  }

  /**
   * Decides a case. The decision is claimed first (compare-and-set open → decided, so two operators can't
   * both bill it), then carried out idempotently (deterministic order ids); `resumeDecisions` finishes any
   * decision a crash interrupted.
   */
  async decide(p: Principal, caseId: string, req: Decision): Promise<z.infer<typeof DecideResponse>> {
    if (!can(p, 'review.decide')) throw forbidden(p, 'decide review cases');
    const c = await this.loadCase(p, caseId);
    if (!can(p, 'review.decide', c.siteId)) throw forbidden(p, `decide at site ${c.siteId}`);
    if (c.status !== 'open') throw new AppError('CONFLICT', `case ${caseId} was already decided (${c.decision} by ${c.decidedBy})`, { decision: c.decision, outcome: c.outcome });
    const lines = req.decision === 'adjust' ? req.lines : req.decision === 'confirm' ? c.proposedLines : [];
    // Unknown SKUs are refused before anything changes (never a decided case that cannot be billed).
    if (lines.length) await priceLines(this.d.models, lines, await this.pricedWhen(c));
    const set = { status: 'decided', decision: req.decision, decidedBy: p.id, decidedAt: new Date(this.d.clock.now()), proposedLines: lines, ...(req.note ? { note: req.note } : {}) };
    if (!(await compareAndSet(this.d.models.ReviewCase, { _id: caseId, status: 'open' }, set))) throw new AppError('CONFLICT', `case ${caseId} was decided meanwhile`);
    const decided = { ...c, ...set, status: 'decided' as const };
    const result = await this.carryOut(decided);
    await compareAndSet(this.d.models.ReviewCase, { _id: caseId, status: 'decided' }, { outcome: result.outcome, ...(result.netting ? { netting: result.netting } : {}) });
    await this.audit(p, `review.${req.decision}`, 'review_case', caseId, c.siteId, { status: c.status, proposedLines: c.proposedLines }, { status: 'decided', decision: req.decision, lines, outcome: result.outcome, ...(result.orderId ? { orderId: result.orderId } : {}), ...(result.netting ? { netting: result.netting } : {}) });
    this.d.log.info({ caseId, decision: req.decision, outcome: result.outcome, by: p.id }, 'review case decided');
    const wire = this.toWire({ ...decided, outcome: result.outcome, ...(result.netting ? { netting: result.netting } : {}) }, []);
    return { case: wire, outcome: result.outcome, ...(result.orderId ? { orderId: result.orderId } : {}), ...(result.netting ? { netting: result.netting } : {}) };
  }

  /** Decisions claimed but never carried out (the process stopped in between): carried out now. */
  async resumeDecisions(): Promise<number> {
    const rows = await this.d.models.ReviewCase.find({ status: 'decided', outcome: { $exists: false } }).lean();
    let done = 0;
    for (const c of rows) {
      try {
        const r = await this.carryOut(c);
        await compareAndSet(this.d.models.ReviewCase, { _id: c.caseId, status: 'decided' }, { outcome: r.outcome, ...(r.netting ? { netting: r.netting } : {}) });
        done++;
      } catch (e) {
        // Left for the next start (every step is idempotent); the service starts regardless.
        this.d.log.error({ caseId: c.caseId, err: String(e) }, 'resuming a decision failed');
      }
    }
    return done;
  }

  /**
   * The moment a case's decided lines are priced at: the moment its order was priced when it has one (a
   * semi-automatic cart, checked out before or after the door closed, is netted against the decision at its
   * own prices), else when the visit's door closed (now, when neither is known).
   */
  private async pricedWhen(c: Pick<ReviewCaseDoc, 'visitId' | 'siteId' | 'orderId'>): Promise<PricingMoment> {
    const order = c.orderId ? await naturalKeys.findOne(this.d.models.Order, c.orderId, { orderId: c.orderId }, { pricedAt: 1 }) : null;
    return { siteId: c.siteId, at: order?.pricedAt?.getTime() ?? (await visitClosedAt(this.d.models, c.visitId, this.d.clock.now())) };
  }

  private get money(): NonNullable<OperatorDeps['payments']> {
    if (!this.d.payments) throw new AppError('UNAVAILABLE', 'payments are not configured (WECHAT_MODE=off)');
    return this.d.payments;
  }

  /**
   * Carries out a claimed decision. Every money change is a message to the shopper's payment actor (the
   * one owner of money state), which serialises it with that shopper's payments, notifications and refunds.
   */
  private async carryOut(c: ReviewCaseDoc): Promise<{ outcome: string; orderId?: string; netting?: Netting }> {
    const lines: Line[] = c.decision === 'waive' ? [] : c.proposedLines.map((l) => ({ sku: l.sku, qty: l.qty }));
    if (c.reason === 'appeal') return this.carryOutAppeal(c, lines);
    if (c.flow === 'auto' && c.orderId) return this.billHeldOrder(c, c.orderId, lines);
    if (!c.shopperId) return { outcome: 'nothing_due' };
    // Semi-automatic: the decided value netted against what was paid for the visit's cart.
    const priced = await priceLines(this.d.models, lines, await this.pricedWhen(c));
    const r = await this.money.billReview(c.shopperId, {
      caseId: c.caseId,
      ...(c.visitId ? { visitId: c.visitId } : {}),
      ...(c.orderId ? { cartOrderId: c.orderId } : {}),
      cabinetId: c.cabinetId,
      siteId: c.siteId,
      flow: c.flow,
      decision: c.decision ?? 'confirm',
      lines: priced.lines,
      decidedFen: priced.totalFen,
      decidedBy: c.decidedBy ?? 'review',
      pricedAt: priced.pricedAt.getTime(),
    });
    if (r.type === 'PaymentErrored') throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `billing the decision failed: ${r.code}`);
    return { outcome: r.outcome, netting: r.netting, ...(r.orderId ? { orderId: r.orderId } : {}) };
  }

  /** Fully automatic, held: bill the decided lines by deduction (or waive the order). */
  private async billHeldOrder(c: ReviewCaseDoc, orderId: string, lines: Line[]): Promise<{ outcome: string; orderId: string }> {
    const order = await naturalKeys.findOne(this.d.models.Order, orderId, { orderId }, { shopperId: 1 });
    if (!order) throw new AppError('NOT_FOUND', `no order ${orderId}`);
    const priced = await priceLines(this.d.models, lines, await this.pricedWhen(c));
    const released = await this.money.releaseHeld(order.shopperId, { orderId, lines: priced.lines, totalFen: priced.totalFen, caseId: c.caseId });
    if (released.type === 'PaymentErrored') throw new AppError(released.retryable ? 'UNAVAILABLE' : 'CONFLICT', `releasing the held order failed: ${released.code}`);
    if (!lines.length) return { outcome: 'waived', orderId };
    await moveStock(this.d.models, c.cabinetId, `review:${c.caseId}`, { take: lines });
    const r = await this.money.charge(order.shopperId, { orderId, amountFen: priced.totalFen, description: '无人柜商品（人工复核）', requestId: `review-${c.caseId}` });
    return { outcome: chargeOutcome(r), orderId };
  }

  /** An appeal: confirm keeps the order; adjust refunds what was paid beyond the new lines; waive refunds it all or waives the debt. */
  private async carryOutAppeal(c: ReviewCaseDoc, lines: Line[]): Promise<{ outcome: string; orderId?: string }> {
    if (c.decision === 'confirm' || !c.orderId) return { outcome: 'upheld', ...(c.orderId ? { orderId: c.orderId } : {}) };
    const order = await naturalKeys.findOne(this.d.models.Order, c.orderId, { orderId: c.orderId });
    if (!order) throw new AppError('NOT_FOUND', `no order ${c.orderId}`);
    // What the adjusted lines cost on the receipt: its own unit prices, and for a SKU not on it the price then.
    const onReceipt = new Map(order.lines.map((l) => [l.sku, l.unitPriceFen]));
    const others = lines.filter((l) => !onReceipt.has(l.sku));
    const othersFen = others.length ? (await priceLines(this.d.models, others, { siteId: order.siteId, at: order.pricedAt?.getTime() ?? (order as { createdAt?: Date }).createdAt?.getTime() ?? this.d.clock.now() })).totalFen : 0;
    const due = lines.filter((l) => onReceipt.has(l.sku)).reduce((n, l) => n + onReceipt.get(l.sku)! * l.qty, othersFen);
    if (order.status === 'debt') {
      if (due > 0) return { outcome: 'upheld: adjust a debt by waiving it and raising a pending order', orderId: order.orderId };
      const r = await this.money.waiveDebt(order.shopperId, { orderId: order.orderId, reason: `appeal ${c.caseId}` });
      if (r.type === 'PaymentErrored') throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `waiving the debt failed: ${r.code}`);
      return { outcome: 'debt_waived', orderId: order.orderId };
    }
    const refundable = order.paidFen - order.refundedFen - due;
    if (refundable <= 0) return { outcome: 'upheld', orderId: order.orderId };
    if (!this.d.payments) return { outcome: 'refund_pending: payments are off', orderId: order.orderId };
    const r = await this.d.payments.refund(order.shopperId, { orderId: order.orderId, amountFen: refundable, reason: `申诉处理 ${c.caseId}`, requestedBy: c.decidedBy ?? 'review', refundKey: `appeal-${c.caseId}` });
    return { outcome: r.type === 'RefundRequested' ? `refunded ${refundable}` : `refund_refused: ${r.type === 'RefundRefused' ? r.reason : r.code}`, orderId: order.orderId };
  }

  // ---- pending orders, refunds ----------------------------------------------------------------------------

  async raisePendingOrder(p: Principal, req: { visitId: string; lines: Line[]; reason: string }): Promise<z.infer<typeof PendingOrderResponse>> {
    if (!can(p, 'review.decide')) throw forbidden(p, 'raise pending orders');
    const visit = await this.evidence.findVisit(req.visitId);
    if (!visit) throw new AppError('NOT_FOUND', `no visit ${req.visitId}`);
    inSite(p, visit.siteId, `visit ${req.visitId}`);
    if (!visit.shopperId) throw new AppError('BAD_REQUEST', 'a restock visit has no shopper to bill');
    const cab = await naturalKeys.findOne(this.d.models.Cabinet, visit.cabinetId, { cabinetId: visit.cabinetId }, { kind: 1 });
    const priced = await priceLines(this.d.models, req.lines, { siteId: visit.siteId, at: visit.closedAt?.getTime() ?? this.d.clock.now() });
    const orderId = `Q${visit.visitId}`;
    const r = await this.money.raisePendingOrder(visit.shopperId, { order: { orderId, cabinetId: visit.cabinetId, siteId: visit.siteId, visitId: visit.visitId, flow: cab?.kind ?? 'semi', lines: priced.lines, totalFen: priced.totalFen, pricedAt: priced.pricedAt }, reason: req.reason });
    if (r.type === 'PaymentErrored') throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `raising the pending order failed: ${r.code}`);
    await this.audit(p, 'order.raise_pending', 'order', orderId, visit.siteId, null, { lines: priced.lines, totalFen: r.totalFen, debtId: r.debtId, reason: req.reason });
    return { orderId, totalFen: r.totalFen ?? priced.totalFen, ...(r.debtId ? { debtId: r.debtId } : {}), outcome: 'debt' };
  }

  async refund(p: Principal, orderId: string, req: { amountFen: number; reason: string; refundKey: string }): Promise<z.infer<typeof RefundResponse>> {
    if (!can(p, 'orders.refund')) throw forbidden(p, 'refund orders');
    const order = await naturalKeys.findOne(this.d.models.Order, orderId, { orderId });
    if (!order) throw new AppError('NOT_FOUND', `no order ${orderId}`);
    inSite(p, order.siteId, `order ${orderId}`);
    if (!this.d.payments) throw new AppError('UNAVAILABLE', 'payments are not configured (WECHAT_MODE=off)');
    const r = await this.d.payments.refund(order.shopperId, { orderId, amountFen: req.amountFen, reason: req.reason, requestedBy: p.id, refundKey: req.refundKey });
    if (r.type === 'PaymentErrored') throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `refund failed: ${r.code}`);
    const out = r.type === 'RefundRequested' ? { orderId, outRefundNo: r.outRefundNo, amountFen: r.amountFen, outcome: 'requested' as const } : { orderId, amountFen: req.amountFen, outcome: 'refused' as const, reason: r.reason };
    await this.audit(p, 'order.refund', 'order', orderId, order.siteId, { status: order.status, paidFen: order.paidFen, refundedFen: order.refundedFen }, out);
    return out;
  }

  // ---- restocking ---------------------------------------------------------------------------------------

  private async cabinetSite(p: Principal, cabinetId: string): Promise<string> {
    const siteId = this.d.fleet.view(cabinetId)?.siteId ?? (await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { siteId: 1 }))?.siteId;
    if (!siteId) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
    inSite(p, siteId, `cabinet ${cabinetId}`);
    return siteId;
  }

  /** Unlocks for restocking: never billed; shoppers are refused while the restock visit holds the door. */
  /** Unlocks a cabinet for restocking; with `taskId`, for that restock task (open, at this site, listing this cabinet). */
  async restockUnlock(p: Principal, cabinetId: string, taskId?: string): Promise<{ visitId: string }> {
    if (!can(p, 'cabinet.restock')) throw forbidden(p, 'unlock cabinets for restocking');
    const siteId = await this.cabinetSite(p, cabinetId);
    if (taskId !== undefined) {
      const task = await this.d.models.RestockTask.findOne({ _id: taskId }, { siteId: 1, status: 1, lanes: 1 }).lean();
      if (!task || task.siteId !== siteId) throw new AppError('NOT_FOUND', `no restock task ${taskId} at this cabinet's site`);
      if (task.status !== 'open') throw new AppError('CONFLICT', `restock task ${taskId} is closed`);
      if (!task.lanes.some((l) => l.cabinetId === cabinetId)) throw new AppError('CONFLICT', `restock task ${taskId} has nothing for ${cabinetId}`);
    }
    const r = await this.d.fleet.requestUnlock(cabinetId, { purpose: 'restock', operatorId: p.id });
    await this.audit(p, 'cabinet.restock_unlock', 'cabinet', cabinetId, siteId, null, r.ok ? { visitId: r.visitId, ...(taskId ? { taskId } : {}) } : { refused: r.reason, ...(taskId ? { taskId } : {}) });
    if (!r.ok) throw new AppError(r.reason === 'UNKNOWN_CABINET' ? 'NOT_FOUND' : 'CABINET_UNAVAILABLE', `unlock refused: ${r.reason}`, { reason: r.reason });
    return { visitId: r.visitId };
  }

  async setStock(p: Principal, cabinetId: string, req: { lanes: Array<{ laneId: string; count: number }>; visitId?: string }): Promise<z.infer<typeof SetStockResponse>> {
    if (!can(p, 'cabinet.restock')) throw forbidden(p, 'set stock');
    const siteId = await this.cabinetSite(p, cabinetId);
    const before = await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { lanes: 1 });
    await moveStock(this.d.models, cabinetId, `restock:${req.visitId ?? randomBytes(6).toString('hex')}`, { set: req.lanes });
    const after = await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { lanes: 1 });
    const lanes = (after?.lanes ?? []).map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count }));
    const changed = new Set(req.lanes.map((l) => l.laneId));
    await this.audit(p, 'cabinet.set_stock', 'cabinet', cabinetId, siteId, (before?.lanes ?? []).filter((l) => changed.has(l.laneId)).map((l) => ({ laneId: l.laneId, count: l.count })), lanes.filter((l) => changed.has(l.laneId)).map((l) => ({ laneId: l.laneId, count: l.count })));
    return { cabinetId, lanes };
  }
}
