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
export function spawnSession(system: ActorSystem, initial: SessionView, ports: SessionPorts, timings: SessionTimings = DEFAULT_SESSION_TIMINGS): ActorRef<SessionMsg> {
  let timer: (() => void) | undefined;
  const later = <T>(self: ActorRef<SessionMsg>, work: Promise<T>, then: (v: T) => SessionMsg | undefined, what: string, log: { warn(o: object, m: string): void }): void => {
    work.then(
      (v) => {
        const msg = then(v);
        if (msg) dispatch(self, msg);
      },
      (err: unknown) => {
        // The timer re-drives it (every effect here is idempotent).
        log.warn({ sessionId: initial.sessionId, err: String(err) }, `session ${what} failed; retrying on the next tick`);
        dispatch(self, { type: 'Tick' });
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
            later(ctx.self, ports.createVisitOrder(state, e.orderId, e.lines, e.held), (r) => ({ type: 'OrderCreated', orderId: e.orderId, totalFen: r.totalFen, held: e.held }), 'order creation', ctx.log);
            break;
          case 'Charge':
            later(ctx.self, ports.charge(state, e.orderId, e.totalFen), (r) => ({ type: 'ChargeAnswered', orderId: e.orderId, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) }), 'charge', ctx.log);
            break;
          case 'OpenReview':
            later(ctx.self, ports.openReview(state, e), () => ({ type: 'ReviewOpened', caseId: e.caseId }), 'review case', ctx.log);
            break;
          case 'TakeStock':
            await ports.takeStock(state.cabinetId, e.key, e.lines);
            break;
          case 'CheckOrder':
            later(ctx.self, ports.orderStatus(e.orderId), (status) => (status ? { type: 'OrderObserved', orderId: e.orderId, status } : undefined), 'order check', ctx.log);
            break;
          case 'RefreshVisit':
            later(ctx.self, ports.visit(e.visitId), (visit) => (visit ? { type: 'VisitObserved', visit } : undefined), 'visit check', ctx.log);
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
