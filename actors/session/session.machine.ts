import { assertNever } from '../../common/assert-never';
import type { FlowKind } from '../../contracts/domain';
import type { SessionState } from '../../contracts/shopper-api';
import type { ActorRef, Step } from '../runtime';
import type { ChargeOutcome, Line, ObservedOrderStatus, RecognitionSummary, ReviewCause, SessionMsg, SessionView, VisitSnapshot } from './session.protocol';

export type SessionEffect =
  /** Writes the queryable projection (sessions collection); idempotent. */
  | { type: 'Project'; view: SessionView }
  /** Fully automatic: the order recognition built, priced from the catalogue; idempotent on orderId. */
  | { type: 'CreateOrder'; orderId: string; lines: Line[]; held: boolean }
  /** Deduct by papay through the shopper's payment actor; idempotent on orderId. */
  | { type: 'Charge'; orderId: string; totalFen: number }
  /** Opens the visit's review case (idempotent on caseId) with the evidence, never charging meanwhile. */
  | { type: 'OpenReview'; caseId: string; cause: ReviewCause; proposed: Line[]; paid?: Line[]; orderId?: string }
  /** Takes what left the cabinet off its stock; idempotent on key. */
  | { type: 'TakeStock'; key: string; lines: Line[] }
  | { type: 'CheckOrder'; orderId: string }
  /** The pay window ended unpaid: close the order at WeChat and mark it cancelled (payment actor); idempotent. */
  | { type: 'CloseOrder'; orderId: string }
  | { type: 'RefreshVisit'; visitId: string }
  /** (Re)arms the session's one timer: a later Schedule replaces an earlier one. */
  | { type: 'Schedule'; ms: number }
  | { type: 'Reply'; to: ActorRef<SessionView>; view: SessionView }
  /** Nothing left to do: the shell stops the actor (the projection and journal keep it). */
  | { type: 'Finished'; view: SessionView };

export interface SessionTimings {
  /** How long an unpaid cart is kept open (the JSAPI prepay itself expires after 15 min). */
  payWindowMs: number;
  /** Polling backoff bounds. */
  minPollMs: number;
  maxPollMs: number;
}

export const DEFAULT_SESSION_TIMINGS: SessionTimings = { payWindowMs: 16 * 60_000, minPollMs: 1000, maxPollMs: 10_000 };

/** Display state while the visit runs, before anything is billed. */
const VISIT_DISPLAY: Record<VisitSnapshot['status'], SessionState> = {
  unlocking: 'unlocking',
  open: 'door_open',
  closed: 'awaiting_frames',
  complete: 'recognising',
  relocked: 'relocked',
  unlock_failed: 'failed',
};

const IN_VISIT: readonly SessionState[] = ['unlocking', 'door_open', 'awaiting_frames', 'recognising'];

/**
 * Every status move the machine may make (a session may also stay put). `decide` refuses any other move
 * (it would be a bug), and a test walks the table for unreachable states and exits from terminal ones.
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  unlocking: ['door_open', 'awaiting_frames', 'recognising', 'awaiting_payment', 'charging', 'held_for_review', 'paid', 'ended_empty', 'relocked', 'failed'],
  door_open: ['awaiting_frames', 'recognising', 'awaiting_payment', 'charging', 'held_for_review', 'paid', 'ended_empty'],
  awaiting_frames: ['recognising', 'awaiting_payment', 'charging', 'held_for_review', 'paid', 'ended_empty'],
  recognising: ['awaiting_payment', 'charging', 'held_for_review', 'paid', 'ended_empty'],
  awaiting_payment: ['paid', 'held_for_review', 'ended_empty', 'failed'],
  charging: ['charged', 'debt', 'failed'],
  paid: [],
  charged: [],
  held_for_review: [],
  debt: [],
  ended_empty: [],
  relocked: [],
  failed: [],
};

/** Order id of the order recognition builds for a visit, and the visit's review case: deterministic, so retries are the same record. */
export const orderIdForVisit = (visitId: string): string => `O${visitId}`;
export const caseIdForVisit = (visitId: string): string => `R${visitId}`;

export function initialDoorSession(o: { sessionId: string; shopperId: string; cabinetId: string; siteId: string; flow: Exclude<FlowKind, 'open'>; visitId: string; now: number }): SessionView {
  return { sessionId: o.sessionId, shopperId: o.shopperId, cabinetId: o.cabinetId, siteId: o.siteId, flow: o.flow, visitId: o.visitId, status: 'unlocking', finished: false, cartPaid: false, startedAt: o.now, updatedAt: o.now };
}

export function initialOpenShelfSession(o: { sessionId: string; shopperId: string; cabinetId: string; siteId: string; orderId: string; lines: Line[]; totalFen: number; now: number; timings?: SessionTimings }): SessionView {
  const t = o.timings ?? DEFAULT_SESSION_TIMINGS;
  return {
    sessionId: o.sessionId,
    shopperId: o.shopperId,
    cabinetId: o.cabinetId,
    siteId: o.siteId,
    flow: 'open',
    status: 'awaiting_payment',
    finished: false,
    orderId: o.orderId,
    totalFen: o.totalFen,
    cart: o.lines,
    cartPaid: false,
    startedAt: o.now,
    updatedAt: o.now,
    payBy: o.now + t.payWindowMs,
  };
}

/** Same goods, ignoring order and zero lines. */
export function sameLines(a: readonly Line[], b: readonly Line[]): boolean {
  const sum = (ls: readonly Line[]) => {
    const m = new Map<string, number>();
    for (const l of ls) if (l.qty > 0) m.set(l.sku, (m.get(l.sku) ?? 0) + l.qty);
    return m;
  };
  const x = sum(a);
  const y = sum(b);
  return x.size === y.size && [...x].every(([sku, n]) => y.get(sku) === n);
}

const lines = (r: RecognitionSummary): Line[] => r.items.filter((i) => i.qty > 0).map((i) => ({ sku: i.sku, qty: i.qty }));

function causeOf(r: RecognitionSummary): ReviewCause {
  if (r.status === 'failed') return 'unreadable';
  return r.status === 'needs_review' ? 'low_confidence' : 'discrepancy';
}

const MESSAGES: Partial<Record<SessionState, string>> = {
  debt: '免密扣款未成功，已记为待支付订单，请先补缴',
  held_for_review: '识别结果需人工复核，复核前不会扣款',
  ended_empty: '未拿取商品，本次不收费',
};

/** Poll delay grows with the time spent waiting: 1 s at first, up to 10 s after a few minutes. */
function pollDelay(s: SessionView, now: number, t: SessionTimings): number {
  return Math.round(Math.min(t.maxPollMs, Math.max(t.minPollMs, t.minPollMs + (now - s.updatedAt) / 20)));
}

function finish(s: SessionView, status: SessionState, now: number, message?: string, extra: Partial<SessionView> = {}): Step<SessionView, SessionEffect> {
  const msg = message ?? MESSAGES[status];
  const next: SessionView = { ...s, ...extra, status, finished: true, updatedAt: now, ...(msg ? { message: msg } : {}) };
  return { state: next, effects: [{ type: 'Finished', view: next }] };
}

/** Fully automatic and semi-automatic sessions react to recognition's answer. */
function onRecognition(s0: SessionView, rec: RecognitionSummary, now: number, t: SessionTimings): Step<SessionView, SessionEffect> {
  const s: SessionView = { ...s0, recognition: rec, updatedAt: now };
  const visitId = s.visitId!;
  const taken = lines(rec);
  const stock: SessionEffect[] = rec.status === 'settled' && taken.length ? [{ type: 'TakeStock', key: `visit:${visitId}`, lines: taken }] : [];
  if (s.flow === 'auto') {
    if (rec.status === 'settled' && !taken.length) return finish(s, 'ended_empty', now);
    const held = rec.status !== 'settled';
    // A held visit shows `held_for_review` (final for the shopper) only once its order and case exist.
    return { state: { ...s, status: held ? 'recognising' : 'charging' }, effects: [...stock, { type: 'CreateOrder', orderId: orderIdForVisit(visitId), lines: taken, held }] };
  }
  if (s.cartPaid) {
    const step = audit(s, now);
    return { state: step.state, effects: [...stock, ...step.effects] };
  }
  if (rec.status === 'settled' && !taken.length && !s.orderId) return finish(s, 'ended_empty', now);
  return { state: { ...s, status: 'awaiting_payment', payBy: s.payBy ?? now + t.payWindowMs }, effects: [...stock, { type: 'Schedule', ms: t.minPollMs }] };
}

/** Semi-automatic, cart paid and recognition known: matching ends the session, anything else goes to review. */
function audit(s: SessionView, now: number): Step<SessionView, SessionEffect> {
  const rec = s.recognition!;
  if (rec.status === 'settled' && sameLines(lines(rec), s.cart ?? [])) return finish(s, 'paid', now, '已支付，识别结果与购物车一致');
  const caseId = caseIdForVisit(s.visitId!);
  return { state: { ...s, status: 'paid', updatedAt: now }, effects: [{ type: 'OpenReview', caseId, cause: causeOf(rec), proposed: lines(rec), paid: s.cart ?? [], ...(s.orderId ? { orderId: s.orderId } : {}) }] };
}

function onVisit(s: SessionView, v: VisitSnapshot, now: number, t: SessionTimings): Step<SessionView, SessionEffect> {
  if (v.visitId !== s.visitId || s.recognition) return { state: s, effects: [] };
  if (v.status === 'relocked' || v.status === 'unlock_failed') {
    // The door never opened, so nothing left the cabinet; a cart already submitted is checked against that.
    if (!s.orderId) return finish(s, VISIT_DISPLAY[v.status], now, v.status === 'unlock_failed' ? '柜门未能打开，请稍后重试' : '柜门已重新上锁，本次未开门');
    return onRecognition(s, { status: 'settled', items: [], confidence: 1 }, now, t);
  }
  if (v.status === 'complete' && v.recognition) return onRecognition(s, v.recognition, now, t);
  const display = VISIT_DISPLAY[v.status];
  // Once the semi-automatic cart is submitted the shopper sees the payment, not the door.
  if (!IN_VISIT.includes(s.status) || display === s.status) return { state: s, effects: [] };
  return { state: { ...s, status: display, updatedAt: now }, effects: [] };
}

function onCharge(s: SessionView, orderId: string, outcome: ChargeOutcome, detail: string | undefined, now: number, t: SessionTimings): Step<SessionView, SessionEffect> {
  if (s.status !== 'charging' || orderId !== s.orderId) return { state: s, effects: [] };
  switch (outcome) {
    case 'paid':
      return finish(s, 'charged', now, '已扣款');
    case 'debt':
      return finish(s, 'debt', now);
    case 'refused':
      return finish(s, 'failed', now, `扣款被拒绝：${detail ?? ''}`.trim());
    case 'accepted':
      return { state: s, effects: [{ type: 'Schedule', ms: pollDelay(s, now, t) }] };
    case 'error':
      return { state: s, effects: [{ type: 'Schedule', ms: Math.max(5000, pollDelay(s, now, t)) }] };
    default:
      return assertNever(outcome, 'charge outcome');
  }
}

function onOrder(s: SessionView, orderId: string, status: ObservedOrderStatus, now: number, t: SessionTimings): Step<SessionView, SessionEffect> {
  if (orderId !== s.orderId || s.status !== 'awaiting_payment') return { state: s, effects: [] };
  if (status === 'paid' || status === 'partially_refunded' || status === 'refunded') {
    if (s.flow === 'open') {
      const done = finish(s, 'paid', now, '支付成功', { cartPaid: true });
      return { state: done.state, effects: [{ type: 'TakeStock', key: `order:${orderId}`, lines: s.cart ?? [] }, ...done.effects] };
    }
    const paid: SessionView = { ...s, cartPaid: true, status: 'paid', updatedAt: now };
    if (paid.recognition) return audit(paid, now);
    return { state: paid, effects: [{ type: 'Schedule', ms: t.minPollMs }] };
  }
  if (status === 'cancelled' || status === 'waived') {
    // A semi-automatic visit with goods taken goes to review whatever became of its unpaid cart.
    if (s.flow === 'semi' && s.recognition && lines(s.recognition).length) return { state: s, effects: [] };
    return finish(s, 'failed', now, s.payBy !== undefined && now > s.payBy ? '支付超时，订单已关闭' : '订单已取消');
  }
  return { state: s, effects: [{ type: 'Schedule', ms: pollDelay(s, now, t) }] };
}

/** The next idempotent step of a session held for review: its held order (fully automatic), then its case. */
function heldEffect(s: SessionView): SessionEffect {
  if (s.flow === 'auto' && !s.orderId) return { type: 'CreateOrder', orderId: orderIdForVisit(s.visitId!), lines: lines(s.recognition!), held: true };
  return { type: 'OpenReview', caseId: caseIdForVisit(s.visitId!), cause: s.flow === 'auto' ? causeOf(s.recognition!) : 'discrepancy', proposed: lines(s.recognition!), ...(s.flow === 'semi' ? { paid: [] } : {}), ...(s.orderId ? { orderId: s.orderId } : {}) };
}

/** The timer: poll whatever the session waits for, and re-drive an effect a restart may have cut short. */
function onTick(s: SessionView, now: number, t: SessionTimings): Step<SessionView, SessionEffect> {
  const again: SessionEffect = { type: 'Schedule', ms: pollDelay(s, now, t) };
  if (IN_VISIT.includes(s.status)) {
    // Fully automatic and held: recognition is known, its order or review case was being written.
    if (s.flow === 'auto' && s.recognition) return { state: s, effects: [heldEffect(s)] };
    return { state: s, effects: [{ type: 'RefreshVisit', visitId: s.visitId! }, again] };
  }
  switch (s.status) {
    case 'awaiting_payment': {
      if (s.payBy !== undefined && now > s.payBy) {
        // The unpaid order is closed at WeChat first, so it can no longer be paid; the session ends when the
        // order reads cancelled (or paid, if the shopper paid at the last moment). Each tick asks again.
        const close: SessionEffect[] = s.orderId ? [{ type: 'CloseOrder', orderId: s.orderId }] : [];
        if (s.flow === 'open') return { state: s, effects: [...close, again] };
        if (s.recognition) {
          const taken = lines(s.recognition);
          if (!taken.length && !s.orderId) return finish(s, 'ended_empty', now);
          if (!taken.length) return { state: s, effects: [...close, again] };
          // Goods left and nothing was paid: an operator decides (never charge a guess). The session shows
          // `held_for_review` when the case is open (ReviewOpened); until then each tick asks again (idempotent).
          return { state: { ...s, updatedAt: now }, effects: [...close, { type: 'OpenReview', caseId: caseIdForVisit(s.visitId!), cause: 'discrepancy', proposed: taken, paid: [], ...(s.orderId ? { orderId: s.orderId } : {}) }, again] };
        }
      }
      const effects: SessionEffect[] = [];
      if (s.orderId) effects.push({ type: 'CheckOrder', orderId: s.orderId });
      if (s.visitId && !s.recognition) effects.push({ type: 'RefreshVisit', visitId: s.visitId });
      return { state: s, effects: [...effects, again] };
    }
    case 'charging':
      if (!s.orderId) return { state: s, effects: [{ type: 'CreateOrder', orderId: orderIdForVisit(s.visitId!), lines: lines(s.recognition!), held: false }] };
      return { state: s, effects: [{ type: 'Charge', orderId: s.orderId, totalFen: s.totalFen ?? 0 }] };
    case 'held_for_review':
      // Journals written before a held session waited in `recognising` / `awaiting_payment` for its case.
      return { state: s, effects: [heldEffect(s)] };
    case 'paid':
      // Semi-automatic: paid, waiting for recognition (or for its review case to be opened).
      if (s.recognition) return audit(s, now);
      return { state: s, effects: [{ type: 'RefreshVisit', visitId: s.visitId! }, again] };
    case 'unlocking':
    case 'door_open':
    case 'awaiting_frames':
    case 'recognising':
    case 'charged':
    case 'debt':
    case 'ended_empty':
    case 'relocked':
    case 'failed':
      return { state: s, effects: [] };
    default:
      return assertNever(s.status, 'session status');
  }
}

function step(s: SessionView, msg: SessionMsg, now: number, t: SessionTimings): Step<SessionView, SessionEffect> {
  switch (msg.type) {
    case 'GetSession':
      return { state: s, effects: [{ type: 'Reply', to: msg.replyTo, view: s }] };
    case 'VisitObserved':
      return onVisit(s, msg.visit, now, t);
    case 'CartCheckedOut': {
      const reply: SessionEffect[] = msg.replyTo ? [{ type: 'Reply', to: msg.replyTo, view: s }] : [];
      if (s.flow !== 'semi' || s.cartPaid || (s.status !== 'awaiting_payment' && !IN_VISIT.includes(s.status))) return { state: s, effects: reply };
      const next: SessionView = { ...s, orderId: msg.orderId, cart: msg.lines, totalFen: msg.totalFen, status: 'awaiting_payment', updatedAt: now, payBy: now + t.payWindowMs };
      return { state: next, effects: [{ type: 'Schedule', ms: t.minPollMs }, ...(msg.replyTo ? [{ type: 'Reply' as const, to: msg.replyTo, view: next }] : [])] };
    }
    case 'OrderCreated': {
      if (s.flow !== 'auto' || s.orderId) return { state: s, effects: [] };
      const next: SessionView = { ...s, orderId: msg.orderId, totalFen: msg.totalFen, updatedAt: now };
      if (msg.held) return { state: next, effects: [{ type: 'OpenReview', caseId: caseIdForVisit(s.visitId!), cause: causeOf(s.recognition!), proposed: lines(s.recognition!), orderId: msg.orderId }] };
      return { state: { ...next, status: 'charging' }, effects: [{ type: 'Charge', orderId: msg.orderId, totalFen: msg.totalFen }] };
    }
    case 'ChargeAnswered':
      return onCharge(s, msg.orderId, msg.outcome, msg.detail, now, t);
    case 'OrderObserved':
      return onOrder(s, msg.orderId, msg.status, now, t);
    case 'ReviewOpened':
      if (s.caseId) return { state: s, effects: [] };
      return finish(s, s.status === 'paid' ? 'paid' : 'held_for_review', now, s.status === 'paid' ? '已支付，识别结果待人工核对' : undefined, { caseId: msg.caseId });
    case 'Tick':
      return onTick(s, now, t);
    default:
      return assertNever(msg, 'session message');
  }
}

/**
 * The shopper session's pure machine. A finished session only answers GetSession. Every change is
 * projected: the Project effect comes before everything that announces, so the projection never lags what
 * later effects say. Stock moves come before it: they announce nothing, are idempotent on their key, and
 * nothing re-derives them, so a projection that meets a database outage (the actor is reset and replayed from
 * its journal, which runs no effects) must not stand between the journalled step and its stock move.
 */
export function decide(s: SessionView, msg: SessionMsg, now: number, t: SessionTimings = DEFAULT_SESSION_TIMINGS): Step<SessionView, SessionEffect> {
  if (s.finished && msg.type !== 'GetSession') return { state: s, effects: [] };
  const out = step(s, msg, now, t);
  if (out.state.status !== s.status && !SESSION_TRANSITIONS[s.status].includes(out.state.status)) throw new Error(`session ${s.sessionId}: no transition ${s.status} → ${out.state.status} on ${msg.type}`);
  if (out.state === s) return out;
  const stock = out.effects.filter((e) => e.type === 'TakeStock');
  return { state: out.state, effects: [...stock, { type: 'Project', view: out.state }, ...out.effects.filter((e) => e.type !== 'TakeStock')] };
}
