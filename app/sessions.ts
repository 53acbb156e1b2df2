import { randomBytes } from 'node:crypto';
import { Subject, type Subscription } from 'rxjs';
import type { Fleet } from '../actors/fleet/fleet';
import { ActorRegistry, ask, dispatch, stopActor, type ActorRef, type ActorSystem } from '../actors/runtime';
import { spawnSession, type SessionPorts } from '../actors/session/session.actor';
import { DEFAULT_SESSION_TIMINGS, initialDoorSession, type SessionTimings } from '../actors/session/session.machine';
import type { ChargeOutcome, Line, SessionMsg, SessionView, VisitSnapshot } from '../actors/session/session.protocol';
import type { VisitView } from '../actors/visit/visit.protocol';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import type { ChargeReply, MoneyChangeReply } from '../payments/payment/payment.protocol';
import type { Models } from '../store/models';
import type { SessionDoc } from '../store/models/session';
import { moveStock, openReviewCase, priceLines, visitClosedAt } from './commerce';
import { retryUntilStored } from '../common/retry-until-stored';
import { MoneyRepository } from '../store/money/repository';
import { naturalKeys } from '../store/natural-keys';
import { isDuplicateKey } from '../store/connection';

/** Deductions through the shopper's payment actor (payments/payment PaymentActors). */
export interface Charger {
  charge(shopperId: string, req: { orderId: string; amountFen: number; description: string; requestId?: string }): Promise<ChargeReply>;
  closeOrder(shopperId: string, req: { orderId: string }): Promise<MoneyChangeReply>;
}

export interface SessionsDeps {
  system: ActorSystem;
  models: Models;
  fleet: Fleet;
  clock: Clock;
  log: Logger;
  /** Absent when WeChat is off: charges then wait (answered as errors, retried by the session's timer). */
  payments?: Charger;
  timings?: SessionTimings;
  /** How long operators have to decide a review case. */
  reviewDeadlineMs?: number;
  askTimeoutMs?: number;
}

export const newSessionId = (): string => `P${randomBytes(9).toString('hex')}`;
/** The session adopted at start-up for a visit that had none (see Sessions.adoptOrphans). */
export const adoptedSessionId = (visitId: string): string => `P${visitId}`;

export function visitSnapshot(v: VisitView): VisitSnapshot {
  return {
    visitId: v.visitId,
    status: v.status,
    ...(v.recognition ? { recognition: { status: v.recognition.status, confidence: v.recognition.confidence, items: v.recognition.items.map((i) => ({ sku: i.sku, qty: i.qty, confidence: i.confidence })) } } : {}),
  };
}

function chargeOutcome(r: ChargeReply): { outcome: ChargeOutcome; detail?: string } {
  switch (r.type) {
    case 'DeductionAccepted':
    case 'PaymentPending':
      return { outcome: 'accepted' };
    case 'OrderPaid':
      return { outcome: 'paid' };
    case 'DebtRecorded':
      return { outcome: 'debt', detail: r.reason };
    case 'ChargeRefused':
      return { outcome: 'refused', detail: r.reason };
    case 'PaymentErrored':
      return { outcome: 'error', detail: `${r.code}: ${r.message}` };
  }
}

/**
 * The shopper sessions (one actor each): opens them, routes visit endings to them, answers status reads
 * from the actor (or, once finished, from the projection), and resumes unfinished ones at start-up.
 */
export class Sessions {
  private readonly refs = new ActorRegistry<SessionMsg>();
  /** visitId → sessionId of running door sessions. */
  private readonly byVisit = new Map<string, string>();
  /** Every change a session projects, for the live dashboard. */
  readonly changes$ = new Subject<SessionView>();
  private sub: Subscription | undefined;
  /** The sessions' timings (the pay window an open-shelf cart starts with). */
  readonly timings: SessionTimings;
  private readonly askMs: number;

  constructor(private readonly d: SessionsDeps) {
    this.timings = d.timings ?? DEFAULT_SESSION_TIMINGS;
    this.askMs = d.askTimeoutMs ?? 5000;
  }

  /** Follows visit endings and resumes every unfinished session (their journals hold where they were). */
  async start(): Promise<number> {
    this.sub = this.d.fleet.visitChanges$.subscribe((v) => {
      const id = this.byVisit.get(v.visitId);
      const ref = id ? this.refs.get(id) : undefined;
      if (ref) dispatch(ref, { type: 'VisitObserved', visit: visitSnapshot(v) });
    });
    const startedAt = this.d.clock.now();
    const open = await this.d.models.Session.find({ finished: false }, { initial: 1 }).lean();
    for (const s of open) this.spawn(s.initial as SessionView);
    return open.length + (await this.adoptOrphans(startedAt));
  }

  /**
   * Shopping visits with no session: the service died after sending the unlock and before the device's answer
   * (the shopper's request died with it), so the session it would have opened was never stored. The device may
   * have opened the door all the same, and whatever left must be billed; so each such visit gets its session
   * now, which follows the visit like any other. Its id is derived from the visit's, so adopting is idempotent.
   * A start-up pass: visits still running, complete awaiting recognition, or recognised by this process.
   */
  private async adoptOrphans(startedAt: number): Promise<number> {
    const { models, fleet, clock } = this.d;
    const visits = await models.Visit.find(
      { purpose: 'shopping', shopperId: { $exists: true }, $or: [{ status: { $in: ['unlocking', 'open', 'closed'] } }, { status: 'complete', recognition: { $exists: false } }, { status: 'complete', 'recognition.at': { $gte: startedAt } }] },
      { visitId: 1, cabinetId: 1, siteId: 1, shopperId: 1 },
    ).lean();
    const candidates = visits.filter((v) => v.shopperId && !this.byVisit.has(v.visitId));
    if (!candidates.length) return 0;
    const known = new Set((await models.Session.find({ visitId: { $in: candidates.map((v) => v.visitId) } }, { visitId: 1 }).lean()).map((x) => x.visitId));
    let adopted = 0;
    for (const v of candidates) {
      const kind = fleet.directory.get(v.cabinetId)?.kind;
      if (known.has(v.visitId) || !kind || kind === 'open') continue;
      const initial = initialDoorSession({ sessionId: adoptedSessionId(v.visitId), shopperId: v.shopperId!, cabinetId: v.cabinetId, siteId: v.siteId, flow: kind, visitId: v.visitId, now: clock.now() });
      try {
        await this.open(initial);
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
      this.d.log.warn({ sessionId: initial.sessionId, visitId: v.visitId, cabinetId: v.cabinetId }, 'visit without a session (unlock cut short by a restart): session adopted');
      adopted++;
    }
    return adopted;
  }

  /** Stores the new session (so it survives a crash from here on), then starts its actor. */
  async open(initial: SessionView): Promise<SessionView> {
    await this.d.models.Session.create({ ...this.doc(initial), initial });
    this.spawn(initial);
    return initial;
  }

  /** The session as its actor holds it, or as last projected once finished; undefined if unknown. */
  async get(sessionId: string): Promise<SessionView | undefined> {
    const ref = this.refs.get(sessionId);
    if (ref) {
      try {
        return await ask<SessionMsg, SessionView>(ref, (replyTo) => ({ type: 'GetSession', replyTo }), this.askMs);
      } catch {
        /* it finished meanwhile: the projection has it */
      }
    }
    const doc = await this.d.models.Session.findOne({ _id: sessionId }).lean();
    return doc ? this.fromDoc(doc) : undefined;
  }

  /** The shopper's running door session at this cabinet, if any (a repeated scan resumes it). */
  running(shopperId: string, cabinetId: string): SessionView | undefined {
    for (const v of this.live.values()) if (v.shopperId === shopperId && v.cabinetId === cabinetId && !v.finished && v.flow !== 'open') return v;
    return undefined;
  }

  /** Semi-automatic: the cart for this session's visit was checked out. */
  async cartCheckedOut(sessionId: string, order: { orderId: string; lines: Line[]; totalFen: number }): Promise<SessionView> {
    const ref = this.refs.get(sessionId);
    if (!ref) throw new AppError('CONFLICT', 'this visit is over; its cart can no longer change');
    return ask<SessionMsg, SessionView>(ref, (replyTo) => ({ type: 'CartCheckedOut', ...order, replyTo }), this.askMs);
  }

  /** Live sessions' latest views (for the dashboard's snapshot). */
  snapshot(): SessionView[] {
    return [...this.live.values()];
  }

  close(): void {
    this.sub?.unsubscribe();
    this.changes$.complete();
  }

  /** Latest projected view of every running session. */
  private readonly live = new Map<string, SessionView>();

  private spawn(initial: SessionView): ActorRef<SessionMsg> {
    const existing = this.refs.get(initial.sessionId);
    if (existing) return existing;
    const ref = spawnSession(this.d.system, initial, this.ports(), this.timings);
    this.refs.set(initial.sessionId, ref);
    this.live.set(initial.sessionId, initial);
    if (initial.visitId) this.byVisit.set(initial.visitId, initial.sessionId);
    return ref;
  }

  private doc(v: SessionView): Omit<SessionDoc, 'initial'> {
    return {
      _id: v.sessionId,
      sessionId: v.sessionId,
      shopperId: v.shopperId,
      cabinetId: v.cabinetId,
      siteId: v.siteId,
      flow: v.flow,
      status: v.status,
      finished: v.finished,
      startedAt: new Date(v.startedAt),
      updatedAt: new Date(v.updatedAt),
      ...(v.visitId ? { visitId: v.visitId } : {}),
      ...(v.orderId ? { orderId: v.orderId } : {}),
      ...(v.totalFen !== undefined ? { totalFen: v.totalFen } : {}),
      ...(v.caseId ? { caseId: v.caseId } : {}),
      ...(v.message ? { message: v.message } : {}),
    };
  }

  private fromDoc(d: SessionDoc): SessionView {
    const initial = d.initial as SessionView;
    return {
      ...initial,
      status: d.status as SessionView['status'],
      finished: d.finished,
      updatedAt: d.updatedAt.getTime(),
      ...(d.orderId ? { orderId: d.orderId } : {}),
      ...(d.totalFen !== undefined && d.totalFen !== null ? { totalFen: d.totalFen } : {}),
      ...(d.caseId ? { caseId: d.caseId } : {}),
      ...(d.message ? { message: d.message } : {}),
    };
  }

  private ports(): SessionPorts {
    const { models, fleet, clock } = this.d;
    return {
      project: async (view) => {
        const { _id, ...set } = this.doc(view);
        await models.Session.updateOne({ _id }, { $set: set });
        if (!view.finished) this.live.set(view.sessionId, view);
        this.changes$.next(view);
      },
      createVisitOrder: async (s, orderId, lines, held) => {
        // Priced as the catalogue stood when the door closed (a price change during recognition does not apply).
        const priced = await priceLines(models, lines, { siteId: s.siteId, at: await visitClosedAt(models, s.visitId, clock.now()) });
        const r = await new MoneyRepository(models).createOrder({ orderId, shopperId: s.shopperId, cabinetId: s.cabinetId, siteId: s.siteId, visitId: s.visitId, flow: s.flow, source: 'recognition', lines: priced.lines, totalFen: priced.totalFen, pricedAt: priced.pricedAt, status: held ? 'held_for_review' : 'draft' });
        return { totalFen: r.totalFen };
      },
      charge: async (s, orderId, totalFen) => {
        if (!this.d.payments) return { outcome: 'error', detail: 'payments are off' };
        return chargeOutcome(await this.d.payments.charge(s.shopperId, { orderId, amountFen: totalFen, description: '无人柜商品', requestId: `charge-${orderId}` }));
      },
      closeOrder: async (s, orderId) => {
        if (!this.d.payments) return (await naturalKeys.findOne(models.Order, orderId, { orderId }, { status: 1 }))?.status;
        const r = await this.d.payments.closeOrder(s.shopperId, { orderId });
        if (r.type === 'PaymentErrored') throw new Error(`closing ${orderId}: ${r.code} ${r.message}`);
        return r.status;
      },
      orderStatus: async (orderId) => (await naturalKeys.findOne(models.Order, orderId, { orderId }, { status: 1 }))?.status,
      openReview: async (s, c) => {
        const visit = s.visitId ? await naturalKeys.findOne(models.Visit, s.visitId, { visitId: s.visitId }, { recognition: 1 }) : undefined;
        const rec = visit?.recognition as { evidence?: unknown; items?: Array<{ sku: string; qty: number; confidence: number }> } | undefined;
        await openReviewCase(models, {
          caseId: c.caseId,
          visitId: s.visitId!,
          cabinetId: s.cabinetId,
          siteId: s.siteId,
          flow: s.flow,
          shopperId: s.shopperId,
          reason: c.cause,
          recognised: rec?.items ?? s.recognition?.items ?? [],
          proposedLines: c.proposed,
          deadlineAt: new Date(clock.now() + (this.d.reviewDeadlineMs ?? 24 * 3_600_000)),
          ...(c.paid ? { paidLines: c.paid } : {}),
          ...(c.orderId ? { orderId: c.orderId } : {}),
          ...(rec?.evidence !== undefined ? { evidence: rec.evidence } : {}),
        });
      },
      // Idempotent on its key; a write meeting a database outage is retried in the background, because the
      // session's state has moved on and a journal replay does not run the effect again.
      takeStock: (cabinetId, key, lines) => retryUntilStored(`stock move ${key}`, () => moveStock(models, cabinetId, key, { take: lines }), { clock, log: this.d.log }),
      visit: async (visitId) => {
        const v = await fleet.visitView(visitId);
        return v ? visitSnapshot(v) : undefined;
      },
      finished: (view) => {
        this.live.delete(view.sessionId);
        const ref = this.refs.get(view.sessionId);
        if (view.visitId) this.byVisit.delete(view.visitId);
        // After the current message: the reply to an in-flight ask still goes out.
        setImmediate(() => {
          if (ref) stopActor(ref);
          this.refs.delete(view.sessionId);
        });
      },
    };
  }
}
