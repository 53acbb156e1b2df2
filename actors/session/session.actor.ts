import { assertNever } from '../../common/assert-never';
import { dispatch, spawnMachine, type ActorRef, type ActorSystem } from '../runtime';
import { decide, DEFAULT_SESSION_TIMINGS, type SessionEffect, type SessionTimings } from './session.machine';
import type { ChargeOutcome, Line, ObservedOrderStatus, ReviewCause, SessionMsg, SessionView, VisitSnapshot } from './session.protocol';

/** What a session needs from the rest of the service (implemented in app/sessions.ts). */
export interface SessionPorts {
  /** Writes the session's projection; awaited, so nothing is announced before it is stored. */
  project(view: SessionView): Promise<void>;
  /** Creates (idempotently) and prices the order recognition built; resolves with its total. */
  createVisitOrder(session: SessionView, orderId: string, lines: Line[], held: boolean): Promise<{ totalFen: number }>;
  /** Deducts through the shopper's payment actor (idempotent on the order). */
  charge(session: SessionView, orderId: string, totalFen: number): Promise<{ outcome: ChargeOutcome; detail?: string }>;
  orderStatus(orderId: string): Promise<ObservedOrderStatus | undefined>;
  /** Closes an unpaid order at WeChat and marks it cancelled (through the shopper's payment actor); its status after. */
  closeOrder(session: SessionView, orderId: string): Promise<ObservedOrderStatus | undefined>;
  /** Opens the review case (idempotent on caseId). */
  openReview(session: SessionView, c: { caseId: string; cause: ReviewCause; proposed: Line[]; paid?: Line[]; orderId?: string }): Promise<void>;
  takeStock(cabinetId: string, key: string, lines: Line[]): Promise<void>;
  visit(visitId: string): Promise<VisitSnapshot | undefined>;
  /** The session finished; the manager stops its actor. */
  finished(view: SessionView): void;
}

/**
 * One actor per shopper session, journalled under `session:<id>` so a restart resumes it where it was
 * (its timer re-armed by `started`). Slow calls (charge, order creation, review case, polls) run outside
 * the mailbox and come back as messages, so the shopper's status polls are answered at once.
 */
/** How long a failed slow call waits before the session's timer re-drives it. */
const RETRY_MS = 1000;

export function spawnSession(system: ActorSystem, initial: SessionView, ports: SessionPorts, timings: SessionTimings = DEFAULT_SESSION_TIMINGS): ActorRef<SessionMsg> {
  let timer: (() => void) | undefined;
  const later = <T>(ctx: { self: ActorRef<SessionMsg>; schedule(ms: number, msg: SessionMsg): () => void; log: { warn(o: object, m: string): void } }, work: Promise<T>, then: (v: T) => SessionMsg | undefined, what: string): void => {
    work.then(
      (v) => {
        const msg = then(v);
        if (msg) dispatch(ctx.self, msg);
      },
      (err: unknown) => {
        // The timer re-drives it (every effect here is idempotent), after a pause: a Tick at once would fail at
        // once while the database is away, a hot loop that starves the process it waits for.
        ctx.log.warn({ sessionId: initial.sessionId, err: String(err), retryInMs: RETRY_MS }, `session ${what} failed; retrying`);
        timer?.();
        timer = ctx.schedule(RETRY_MS, { type: 'Tick' });
      },
    );
  };
  return spawnMachine<SessionView, SessionMsg, SessionEffect>(system, {
    id: `session-${initial.sessionId}`,
    persistenceKey: `session:${initial.sessionId}`,
    snapshotEvery: 20,
    initialState: initial,
    decide: (s, m, now) => decide(s, m, now, timings),
    started: (s) => (s.finished ? [{ type: 'Finished', view: s }] : [{ type: 'Project', view: s }, { type: 'Schedule', ms: 0 }]),
    supervision: 'restart',
    async perform(effects, ctx, state) {
      for (const e of effects) {
        switch (e.type) {
          case 'Project':
            await ports.project(e.view);
            break;
          case 'CreateOrder':
            later(ctx, ports.createVisitOrder(state, e.orderId, e.lines, e.held), (r) => ({ type: 'OrderCreated', orderId: e.orderId, totalFen: r.totalFen, held: e.held }), 'order creation');
            break;
          case 'Charge':
            later(ctx, ports.charge(state, e.orderId, e.totalFen), (r) => ({ type: 'ChargeAnswered', orderId: e.orderId, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) }), 'charge');
            break;
          case 'OpenReview':
            later(ctx, ports.openReview(state, e), () => ({ type: 'ReviewOpened', caseId: e.caseId }), 'review case');
            break;
          case 'TakeStock':
            await ports.takeStock(state.cabinetId, e.key, e.lines);
            break;
          case 'CheckOrder':
            later(ctx, ports.orderStatus(e.orderId), (status) => (status ? { type: 'OrderObserved', orderId: e.orderId, status } : undefined), 'order check');
            break;
          case 'CloseOrder':
            later(ctx, ports.closeOrder(state, e.orderId), (status) => (status ? { type: 'OrderObserved', orderId: e.orderId, status } : undefined), 'order close');
            break;
          case 'RefreshVisit':
            later(ctx, ports.visit(e.visitId), (visit) => (visit ? { type: 'VisitObserved', visit } : undefined), 'visit check');
            break;
          case 'Schedule':
            timer?.();
            timer = ctx.schedule(e.ms, { type: 'Tick' });
            break;
          case 'Reply':
            dispatch(e.to, e.view);
            break;
          case 'Finished':
            timer?.();
            ports.finished(e.view);
            break;
          default:
            assertNever(e, 'session effect');
        }
      }
    },
  });
}
