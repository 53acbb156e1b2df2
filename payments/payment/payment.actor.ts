import { ActorRegistry, ask, dispatch, spawnMachine, type ActorContext, type ActorRef, type ActorSystem } from '../../actors/runtime';
import { assertNever } from '../../common/assert-never';
import { isAppError } from '../../common/errors';
import type { InboundNotification, NotificationSink } from '../wechatpay/notifications';
import { decide, initialPaymentActorState, type PaymentActorState, type PaymentEffect } from './payment.machine';
import { billReview } from './review.billing';
import type { BillReview, BillReviewReply, CloseOrder, MoneyChangeReply, RaisePendingOrder, ReleaseHeldOrder, WaiveDebt, ChargeOrder, ChargeReply, ClearDebts, ClearDebtsReply, PayOrder, PayReply, PaymentCommand, PaymentErrored, PaymentMessage, RefundOrder, RefundReply, SigningReply, StartSigning, VisitReply } from './payment.protocol';
import type { PaymentService } from './payment.service';

/**
 * One actor per shopper: the thin nact shell around payment.machine.ts. Its mailbox serialises every
 * charge, deduction, debt clearing and refund of that shopper (perform is awaited before the next
 * message); the records and their compare-and-set keep it correct across processes.
 */

export interface PaymentActorsOptions {
  /** When to query an attempt whose result has not arrived (notification lost or late). */
  resolveAfterMs?: number;
  askTimeoutMs?: number;
}

/** Transient store errors (FerretDB on SQLite answers SQLITE_BUSY under write contention). */
const isTransient = (e: unknown): boolean => /SQLITE_BUSY|database is locked|ECONNRESET|PoolCleared/i.test(e instanceof Error ? e.message : String(e));

/** Runs an idempotent service operation again after a transient store error. */
async function withRetry<T>(op: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (e) {
      if (i >= attempts || !isTransient(e)) throw e;
      await new Promise((r) => setTimeout(r, 20 * i + Math.floor(Math.random() * 30)));
    }
  }
}

let requestSeq = 0;
const newRequestId = (): string => `pay-${Date.now().toString(36)}-${(++requestSeq).toString(36)}`;

export class PaymentActors implements NotificationSink {
  private readonly registry = new ActorRegistry<PaymentMessage>();
  /**
   * Deductions sent and not yet settled, by `shopperId/orderId`: a repeated charge request (a retry, a second
   * tap) is answered from here without touching the store or WeChat. Only ever read and written inside the
   * shopper's actor (its mailbox serialises them); dropped when a notification or a query settles the
   * attempt, so a later request sees the recorded outcome.
   */
  private readonly pending = new Map<string, { outTradeNo: string; amountFen: number; reply: 'DeductionAccepted' | 'PaymentPending' }>();
  private readonly resolveAfterMs: number;
  private readonly askTimeoutMs: number;

  constructor(
    private readonly system: ActorSystem,
    private readonly service: PaymentService,
    opts: PaymentActorsOptions = {},
  ) {
    this.resolveAfterMs = opts.resolveAfterMs ?? 60_000;
    this.askTimeoutMs = opts.askTimeoutMs ?? 15_000;
  }

  /** The shopper's actor, spawned on first use. */
  ref(shopperId: string): ActorRef<PaymentMessage> {
    const existing = this.registry.get(shopperId);
    if (existing) return existing;
    const ref = spawnMachine<PaymentActorState, PaymentMessage, PaymentEffect>(this.system, {
      id: `payment-${shopperId}`,
      initialState: initialPaymentActorState(shopperId),
      decide: (state, msg) => decide(state, msg),
      perform: (effects, ctx, state) => this.perform(effects, ctx, state),
      supervision: 'resume',
    });
    this.registry.set(shopperId, ref);
    return ref;
  }

  charge(shopperId: string, req: Omit<ChargeOrder, 'type' | 'replyTo' | 'requestId'> & { requestId?: string }, timeoutMs = this.askTimeoutMs): Promise<ChargeReply> {
    return ask<PaymentMessage, ChargeReply>(this.ref(shopperId), (replyTo) => ({ type: 'ChargeOrder', requestId: req.requestId ?? newRequestId(), ...req, replyTo }), timeoutMs);
  }

  pay(shopperId: string, req: Omit<PayOrder, 'type' | 'replyTo' | 'requestId'> & { requestId?: string }, timeoutMs = this.askTimeoutMs): Promise<PayReply> {
    return ask<PaymentMessage, PayReply>(this.ref(shopperId), (replyTo) => ({ type: 'PayOrder', requestId: req.requestId ?? newRequestId(), ...req, replyTo }), timeoutMs);
  }

  refund(shopperId: string, req: Omit<RefundOrder, 'type' | 'replyTo' | 'requestId'> & { requestId?: string }, timeoutMs = this.askTimeoutMs): Promise<RefundReply> {
    return ask<PaymentMessage, RefundReply>(this.ref(shopperId), (replyTo) => ({ type: 'RefundOrder', requestId: req.requestId ?? newRequestId(), ...req, replyTo }), timeoutMs);
  }

  clearDebts(shopperId: string, req: Omit<ClearDebts, 'type' | 'replyTo' | 'requestId'> & { requestId?: string }, timeoutMs = this.askTimeoutMs): Promise<ClearDebtsReply> {
    return ask<PaymentMessage, ClearDebtsReply>(this.ref(shopperId), (replyTo) => ({ type: 'ClearDebts', requestId: req.requestId ?? newRequestId(), ...req, replyTo }), timeoutMs);
  }

  checkVisit(shopperId: string, timeoutMs = this.askTimeoutMs): Promise<VisitReply> {
    return ask<PaymentMessage, VisitReply>(this.ref(shopperId), (replyTo) => ({ type: 'CheckVisitAllowed', requestId: newRequestId(), replyTo }), timeoutMs);
  }

  billReview(shopperId: string, req: Omit<BillReview, 'type' | 'replyTo' | 'requestId'>, timeoutMs = this.askTimeoutMs): Promise<BillReviewReply> {
    return ask<PaymentMessage, BillReviewReply>(this.ref(shopperId), (replyTo) => ({ type: 'BillReview', requestId: newRequestId(), ...req, replyTo }), timeoutMs);
  }

  raisePendingOrder(shopperId: string, req: Omit<RaisePendingOrder, 'type' | 'replyTo' | 'requestId'>, timeoutMs = this.askTimeoutMs): Promise<MoneyChangeReply> {
    return ask<PaymentMessage, MoneyChangeReply>(this.ref(shopperId), (replyTo) => ({ type: 'RaisePendingOrder', requestId: newRequestId(), ...req, replyTo }), timeoutMs);
  }

  releaseHeld(shopperId: string, req: Omit<ReleaseHeldOrder, 'type' | 'replyTo' | 'requestId'>, timeoutMs = this.askTimeoutMs): Promise<MoneyChangeReply> {
    return ask<PaymentMessage, MoneyChangeReply>(this.ref(shopperId), (replyTo) => ({ type: 'ReleaseHeldOrder', requestId: newRequestId(), ...req, replyTo }), timeoutMs);
  }

  waiveDebt(shopperId: string, req: Omit<WaiveDebt, 'type' | 'replyTo' | 'requestId'>, timeoutMs = this.askTimeoutMs): Promise<MoneyChangeReply> {
    return ask<PaymentMessage, MoneyChangeReply>(this.ref(shopperId), (replyTo) => ({ type: 'WaiveDebt', requestId: newRequestId(), ...req, replyTo }), timeoutMs);
  }

  closeOrder(shopperId: string, req: Omit<CloseOrder, 'type' | 'replyTo' | 'requestId'>, timeoutMs = this.askTimeoutMs): Promise<MoneyChangeReply> {
    return ask<PaymentMessage, MoneyChangeReply>(this.ref(shopperId), (replyTo) => ({ type: 'CloseOrder', requestId: newRequestId(), ...req, replyTo }), timeoutMs);
  }

  startSigning(shopperId: string, req: Omit<StartSigning, 'type' | 'replyTo' | 'requestId'>, timeoutMs = this.askTimeoutMs): Promise<SigningReply> {
    return ask<PaymentMessage, SigningReply>(this.ref(shopperId), (replyTo) => ({ type: 'StartSigning', requestId: newRequestId(), ...req, replyTo }), timeoutMs);
  }

  /**
   * The notification endpoints' sink: records the event (durable before WeChat gets its 200), then hands
   * it to the shopper's actor. Redeliveries are handed over too: processing is idempotent, and that is
   * what finishes an event whose first processing died with the process.
   */
  async accept(event: InboundNotification): Promise<void> {
    const { key, shopperId } = await this.service.recordNotification(event);
    if (shopperId) dispatch(this.ref(shopperId), { type: 'NotificationReceived', inboxKey: key, event });
  }

  private async perform(effects: PaymentEffect[], ctx: ActorContext<PaymentMessage>, state: PaymentActorState): Promise<void> {
    for (const effect of effects) {
      switch (effect.type) {
        case 'Execute':
          await this.execute(effect.command, ctx, state.shopperId);
          break;
        case 'Process': {
          const m = effect.message;
          this.forgetPending(state.shopperId, m);
          try {
            if (m.type === 'NotificationReceived') await withRetry(() => this.service.processNotification(m.inboxKey, m.event));
            else {
              const after = await withRetry(() => this.service.resolve(m.outTradeNo));
              if (after && (after.status === 'unknown' || after.status === 'created')) ctx.schedule(this.resolveAfterMs, m);
            }
          } catch (e) {
            // Still recorded in the inbox: tried again later, on a redelivery and at the next start.
            ctx.log.error({ err: String(e), type: m.type }, 'payment processing failed; retrying later');
            ctx.schedule(this.resolveAfterMs, m);
          }
          break;
        }
        default:
          assertNever(effect, 'payment effect');
      }
    }
  }

  /** A notification or a query may settle a deduction: later charge requests must read its outcome. */
  private forgetPending(shopperId: string, m: Extract<PaymentMessage, { type: 'NotificationReceived' | 'ResolvePayment' }>): void {
    if (m.type === 'ResolvePayment') {
      for (const [key, p] of this.pending) if (p.outTradeNo === m.outTradeNo) this.pending.delete(key);
      return;
    }
    // Any payment notification for this shopper: drop what it may concern (cheap: a shopper has few in flight).
    for (const key of this.pending.keys()) if (key.startsWith(`${shopperId}/`)) this.pending.delete(key);
  }

  private async execute(cmd: PaymentCommand, ctx: ActorContext<PaymentMessage>, shopperId: string): Promise<void> {
    const { replyTo: _r, type: _t, ...body } = cmd;
    const base = { ...body, shopperId };
    let reply: unknown;
    try {
      switch (cmd.type) {
        case 'ChargeOrder': {
          const key = `${shopperId}/${cmd.orderId}`;
          const known = this.pending.get(key);
          if (known && known.amountFen === cmd.amountFen) {
            reply = { type: known.reply, requestId: cmd.requestId, outTradeNo: known.outTradeNo } satisfies ChargeReply;
            break;
          }
          const r = await withRetry(() => this.service.charge(base as Parameters<PaymentService['charge']>[0]));
          if (r.type === 'DeductionAccepted' || r.type === 'PaymentPending') {
            this.pending.set(key, { outTradeNo: r.outTradeNo, amountFen: cmd.amountFen, reply: r.type });
            ctx.schedule(this.resolveAfterMs, { type: 'ResolvePayment', outTradeNo: r.outTradeNo });
          } else this.pending.delete(key);
          reply = r;
          break;
        }
        case 'PayOrder':
          reply = await withRetry(() => this.service.pay(base as Parameters<PaymentService['pay']>[0]));
          break;
        case 'RefundOrder':
          reply = await withRetry(() => this.service.refund(base as Parameters<PaymentService['refund']>[0]));
          break;
        case 'ClearDebts':
          reply = await withRetry(() => this.service.clearDebts(base as Parameters<PaymentService['clearDebts']>[0]));
          break;
        case 'CheckVisitAllowed':
          reply = await withRetry(() => this.service.checkVisit(shopperId, cmd.requestId));
          break;
        case 'StartSigning':
          reply = await withRetry(() => this.service.startSigning(base as Parameters<PaymentService['startSigning']>[0]));
          break;
        case 'BillReview': {
          const { requestId: _q, ...review } = body as Omit<BillReview, 'type' | 'replyTo'>;
          const billed = await withRetry(() => billReview(this.service, { ...review, shopperId }));
          reply = { type: 'ReviewBilled', requestId: cmd.requestId, ...billed } satisfies BillReviewReply;
          break;
        }
        case 'RaisePendingOrder': {
          const r = await withRetry(() => this.service.raisePendingOrder({ ...cmd.order, shopperId }, cmd.reason));
          reply = { type: 'MoneyChanged', requestId: cmd.requestId, orderId: r.orderId, status: 'debt', totalFen: r.totalFen, debtId: r.debtId, changed: true } satisfies MoneyChangeReply;
          break;
        }
        case 'ReleaseHeldOrder': {
          const status = await withRetry(() => this.service.releaseHeld(cmd.orderId, cmd.lines, cmd.totalFen, cmd.caseId));
          reply = { type: 'MoneyChanged', requestId: cmd.requestId, orderId: cmd.orderId, status, totalFen: cmd.totalFen, changed: status === 'draft' || status === 'waived' } satisfies MoneyChangeReply;
          break;
        }
        case 'WaiveDebt': {
          const changed = await withRetry(() => this.service.waiveDebt(cmd.orderId, cmd.reason));
          reply = { type: 'MoneyChanged', requestId: cmd.requestId, orderId: cmd.orderId, status: changed ? 'waived' : (await this.service.readOrder(cmd.orderId))?.status, changed } satisfies MoneyChangeReply;
          break;
        }
        case 'CloseOrder': {
          const status = await withRetry(() => this.service.closeOrder(cmd.orderId));
          reply = { type: 'MoneyChanged', requestId: cmd.requestId, orderId: cmd.orderId, status, changed: status === 'cancelled' } satisfies MoneyChangeReply;
          break;
        }
        default:
          assertNever(cmd, 'payment command');
      }
    } catch (e) {
      ctx.log.error({ err: String(e), type: cmd.type, requestId: cmd.requestId }, 'payment command failed');
      reply = { type: 'PaymentErrored', requestId: cmd.requestId, code: isAppError(e) ? e.code : 'INTERNAL', message: e instanceof Error ? e.message : String(e), retryable: isAppError(e) ? e.retryable : true } satisfies PaymentErrored;
    }
    dispatch(cmd.replyTo as ActorRef<unknown>, reply);
  }
}
