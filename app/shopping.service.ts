import type { Fleet } from '../actors/fleet/fleet';
import { initialDoorSession, initialOpenShelfSession, orderIdForVisit } from '../actors/session/session.machine';
import type { Line, SessionView } from '../actors/session/session.protocol';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { reasonForRefusal } from './cabinet-availability';
import type { Logger } from '../common/log';
import { maskPhone } from '../common/mask';
import type { AppealResponse as AppealResponseSchema, CheckoutResponse, Debt, Order, PapaySignResponse, PayDebtsResponse, RequestPaymentParams, VisitResponse } from '../contracts/shopper-api';
import type { z } from 'zod';
import type { PaymentActors } from '../payments/payment/payment.actor';
import type { Models } from '../store/models';
import type { OrderDoc } from '../store/models/commerce';
import { createHash } from 'node:crypto';
import { newOrderId, openReviewCase, priceLines } from './commerce';
import { MoneyRepository } from '../store/money/repository';
import { newSessionId, type Sessions } from './sessions';
import type { ShopperService } from './shopper.service';
import { naturalKeys } from '../store/natural-keys';

export interface ShoppingDeps {
  models: Models;
  fleet: Fleet;
  sessions: Sessions;
  shoppers: ShopperService;
  /** The shoppers' payment actors; undefined with WeChat off (every paying route answers UNAVAILABLE). */
  payments: Pick<PaymentActors, 'pay' | 'checkVisit' | 'clearDebts' | 'startSigning'> | undefined;
  clock: Clock;
  log: Logger;
  /** How long an operator has to answer an appeal. */
  appealDeadlineMs?: number;
}

/** The signing mini-program's entry page (WeChat's documented path). */
const SIGNING_PATH = 'pages/index/index';

type AppealResponse = z.infer<typeof AppealResponseSchema>;

export function visitResponse(s: SessionView): VisitResponse {
  return {
    sessionId: s.sessionId,
    cabinetId: s.cabinetId,
    flow: s.flow,
    state: s.status,
    ...(s.visitId ? { visitId: s.visitId } : {}),
    ...(s.orderId ? { orderId: s.orderId } : {}),
    ...(s.totalFen !== undefined ? { totalFen: s.totalFen } : {}),
    ...(s.message ? { message: s.message } : {}),
  };
}

/** An open-shelf order and its session, derived from the shopper's request key: a retry is the same order. */
const keyed = (prefix: string, shopperId: string, key: string): string => `${prefix}${createHash('sha256').update(`${shopperId}\n${key}`).digest('hex').slice(0, 18)}`;

/**
 * The shopper's side of the three flows: start a door visit (debt gate, contract gate, unlock), check out a
 * cart (open shelf, or the semi-automatic visit's cart) with JSAPI or pay-and-sign, debts, papay signing,
 * orders with receipts, appeals. Money is serialised per shopper by the shopper's payment actor (the one
 * owner); a retried checkout is recognised by its idempotency key (the same order and prepay), a double tap
 * at a door by the one visit a door allows.
 */
export class ShoppingService {
  private readonly money: MoneyRepository;

  constructor(private readonly d: ShoppingDeps) {
    this.money = new MoneyRepository(d.models);
  }

  private get pay(): NonNullable<ShoppingDeps['payments']> {
    if (!this.d.payments) throw new AppError('UNAVAILABLE', 'payments are not configured on this service (WECHAT_MODE=off)');
    return this.d.payments;
  }

  private async shopperWithPhone(shopperId: string): Promise<{ shopperId: string; openid: string; phone?: string | null }> {
    const s = await this.d.shoppers.shopper(shopperId);
    if (!s.phone) throw new AppError('PHONE_REQUIRED', 'authorise your phone number first');
    return s;
  }

  private async cabinet(cabinetId: string) {
    const c = await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { secret: 0 });
    if (!c || c.disabled) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
    return c;
  }

  private async debtGate(shopperId: string): Promise<void> {
    const gate = await this.pay.checkVisit(shopperId);
    if (gate.type === 'VisitBlocked') throw new AppError('DEBT_OUTSTANDING', 'unpaid debt blocks new visits; pay it first', { debts: gate.debts });
  }

  // ---- door visits ----------------------------------------------------------------------------------------

  async startVisit(shopperId: string, cabinetId: string): Promise<VisitResponse> {
    {
      const shopper = await this.shopperWithPhone(shopperId);
      const cab = await this.cabinet(cabinetId);
      if (cab.kind === 'open') throw new AppError('BAD_REQUEST', 'an open shelf has no door: add what you take to the cart and check out');
      const again = this.d.sessions.running(shopperId, cabinetId);
      if (again) return visitResponse(again);
      // The cabinet first: no use clearing debt or signing papay for a cabinet that cannot open.
      const live = await this.d.shoppers.cabinet(cabinetId, undefined);
      if (live.unavailableReason) throw new AppError('CABINET_UNAVAILABLE', `the cabinet cannot open now (${live.unavailableReason})`, { reason: live.unavailableReason });
      await this.debtGate(shopper.shopperId);
      if (cab.kind === 'auto' && (await this.d.shoppers.contract(shopperId)) !== 'active') throw new AppError('CONTRACT_REQUIRED', 'this cabinet charges by password-free payment: sign it first');
      const unlock = await this.d.fleet.requestUnlock(cabinetId, { purpose: 'shopping', shopperId });
      if (!unlock.ok) throw new AppError(unlock.reason === 'UNKNOWN_CABINET' ? 'NOT_FOUND' : 'CABINET_UNAVAILABLE', `the cabinet cannot open now (${unlock.reason})`, unlock.reason === 'UNKNOWN_CABINET' ? undefined : { reason: reasonForRefusal(unlock.reason) });
      const session = await this.d.sessions.open(initialDoorSession({ sessionId: newSessionId(), shopperId, cabinetId, siteId: cab.siteId, flow: cab.kind, visitId: unlock.visitId, now: this.d.clock.now() }));
      this.d.log.info({ sessionId: session.sessionId, shopperId, cabinetId, visitId: unlock.visitId, flow: cab.kind }, 'visit started');
      return visitResponse(session);
    }
  }

  async visit(shopperId: string, sessionId: string): Promise<VisitResponse> {
    const s = await this.d.sessions.get(sessionId);
    if (!s || s.shopperId !== shopperId) throw new AppError('NOT_FOUND', `no visit ${sessionId}`);
    return visitResponse(s);
  }

  // ---- cart and checkout ------------------------------------------------------------------------------

  /**
   * Checks out a cart. `idempotencyKey` (the mini-program's `Idempotency-Key` header, stable for one cart) makes
   * a retry after a lost reply the same order and the same prepay; the same key with another cart is CONFLICT.
   */
  async checkout(shopperId: string, req: { cabinetId: string; sessionId?: string; lines: Line[]; signContract: boolean; idempotencyKey?: string }): Promise<CheckoutResponse> {
    {
      const shopper = await this.shopperWithPhone(shopperId);
      const cab = await this.cabinet(req.cabinetId);
      if (cab.kind === 'auto') throw new AppError('BAD_REQUEST', 'a fully automatic cabinet bills what recognition sees; there is no cart');
      // A cart is priced as the shopper checks it out (what the mini-program showed); a retry is the first order.
      const priced = await priceLines(this.d.models, req.lines, { siteId: cab.siteId, at: this.d.clock.now() });
      const offered = new Set(cab.lanes.map((l) => l.sku));
      const foreign = priced.lines.find((l) => !offered.has(l.sku));
      if (foreign) throw new AppError('BAD_REQUEST', `${foreign.sku} is not sold at this cabinet`, { sku: foreign.sku });

      let session: SessionView | undefined;
      let orderId: string;
      if (cab.kind === 'open') {
        if (req.sessionId) throw new AppError('BAD_REQUEST', 'an open shelf has no visit: leave sessionId out');
        await this.debtGate(shopperId);
        for (const l of priced.lines) {
          const stock = cab.lanes.filter((x) => x.sku === l.sku).reduce((n, x) => n + x.count, 0);
          if (stock < l.qty) throw new AppError('OUT_OF_STOCK', `only ${stock} of ${l.sku} left`, { sku: l.sku, stock });
        }
        orderId = req.idempotencyKey ? keyed('O', shopperId, req.idempotencyKey) : newOrderId();
      } else {
        if (!req.sessionId) throw new AppError('BAD_REQUEST', 'a semi-automatic cart belongs to a visit: give its sessionId');
        session = await this.d.sessions.get(req.sessionId);
        if (!session || session.shopperId !== shopperId || session.cabinetId !== req.cabinetId) throw new AppError('NOT_FOUND', `no visit ${req.sessionId} at this cabinet`);
        // One cart per visit: a retry of the same cart is the same order (and the same prepay).
        orderId = orderIdForVisit(session.visitId!);
        if (session.orderId === orderId && session.cart && !sameCart(session.cart, req.lines)) throw new AppError('CONFLICT', 'this visit’s cart was already submitted with other items');
        if (session.cartPaid) throw new AppError('CONFLICT', 'this visit’s cart is already paid');
      }
      if (req.idempotencyKey) {
        const claimed = await this.money.claimKey(shopperId, req.idempotencyKey, { cabinetId: cab.cabinetId, sessionId: req.sessionId ?? null, lines: priced.lines.map((l) => [l.sku, l.qty]).sort() }, orderId, new Date(this.d.clock.now()));
        if (claimed.conflict) throw new AppError('CONFLICT', 'this idempotency key was used for another cart', { orderId: claimed.orderId });
        orderId = claimed.orderId;
      }
      const created = await this.money.createOrder({ orderId, shopperId, cabinetId: cab.cabinetId, siteId: cab.siteId, flow: cab.kind, source: 'cart', lines: priced.lines, totalFen: priced.totalFen, pricedAt: priced.pricedAt, status: 'draft', ...(session?.visitId ? { visitId: session.visitId } : {}) });
      const r = await this.pay.pay(shopperId, { orderId, amountFen: created.totalFen, description: describe(priced.lines), openid: shopper.openid, signContract: req.signContract, requestId: `pay-${orderId}` });
      if (r.type === 'ChargeRefused') throw new AppError('CONFLICT', `this order cannot be paid (${r.reason})`, { reason: r.reason });
      if (r.type === 'PaymentErrored') throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `WeChat Pay refused the payment: ${r.code}`, { code: r.code });
      if (r.type === 'OrderPaid') throw new AppError('CONFLICT', 'this order is already paid', { orderId });
      if (session) await this.d.sessions.cartCheckedOut(session.sessionId, { orderId, lines: req.lines, totalFen: created.totalFen });
      else {
        // Keyed: the retry's session is the first one's (opened now if the first reply died before it was).
        const sessionId = req.idempotencyKey ? keyed('P', shopperId, req.idempotencyKey) : newSessionId();
        if (!req.idempotencyKey || !(await this.d.sessions.get(sessionId))) {
          await this.d.sessions.open(initialOpenShelfSession({ sessionId, shopperId, cabinetId: cab.cabinetId, siteId: cab.siteId, orderId, lines: req.lines, totalFen: created.totalFen, now: this.d.clock.now(), timings: this.d.sessions.timings })).catch(async (e: unknown) => {
            // Two retries raced to open it: the other one did.
            if (!(await this.d.sessions.get(sessionId))) throw e;
          });
        }
      }
      return { orderId, totalFen: created.totalFen, requestPayment: r.requestPayment as RequestPaymentParams, payAndSign: r.signsContract };
    }
  }

  // ---- debts and papay ------------------------------------------------------------------------------------

  async debts(shopperId: string): Promise<{ debts: Debt[]; totalFen: number }> {
    const rows = await this.d.models.Debt.find({ shopperId }).lean();
    const debts = rows
      .map((d) => ({ debtId: d.debtId, orderId: d.orderId, amountFen: d.amountFen, reason: d.reason, status: d.status, createdAt: (d as { createdAt?: Date }).createdAt?.getTime() ?? 0 }))
      .sort((a, b) => b.createdAt - a.createdAt);
    return { debts, totalFen: debts.filter((d) => d.status === 'open' || d.status === 'reminded').reduce((n, d) => n + d.amountFen, 0) };
  }

  /** Pays the open debts; with `idempotencyKey` a retry is the same request (the same prepay for JSAPI). */
  async payDebts(shopperId: string, via: 'papay' | 'jsapi', idempotencyKey?: string): Promise<PayDebtsResponse> {
    {
      const shopper = await this.shopperWithPhone(shopperId);
      const before = (await this.debts(shopperId)).totalFen;
      const r = await this.pay.clearDebts(shopperId, { via, openid: shopper.openid, requestId: `debts-${shopperId}-${idempotencyKey ?? this.d.clock.now()}` });
      switch (r.type) {
        case 'NoDebts':
          return { result: 'cleared', clearedFen: 0 };
        case 'DebtsSettled':
          return { result: 'cleared', clearedFen: before - (await this.debts(shopperId)).totalFen };
        case 'DebtPaymentPrepared': {
          const debt = await this.d.models.Debt.findOne({ _id: r.debtId }, { orderId: 1 }).lean();
          return { result: 'pay', orderId: debt?.orderId ?? '', requestPayment: r.requestPayment as RequestPaymentParams };
        }
        case 'DebtDeductionPending': {
          // Deductions settle asynchronously (seconds): wait briefly so the shopper sees the result.
          for (let i = 0; i < 20; i++) {
            const left = (await this.debts(shopperId)).totalFen;
            if (left === 0) return { result: 'cleared', clearedFen: before };
            await new Promise((res) => setTimeout(res, 500));
          }
          return { result: 'refused', reason: 'deduction in progress; check your debts again shortly' };
        }
        case 'DebtsRemain':
          return { result: 'refused', reason: r.reason };
        case 'PaymentErrored':
          throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `WeChat Pay: ${r.code}`, { code: r.code });
      }
    }
  }

  async papaySign(shopperId: string): Promise<PapaySignResponse> {
    const shopper = await this.shopperWithPhone(shopperId);
    const r = await this.pay.startSigning(shopperId, { openid: shopper.openid, displayAccount: (shopper.phone ? maskPhone(shopper.phone) : undefined) ?? shopper.openid.slice(-6) });
    if (r.type === 'AlreadySigned') throw new AppError('CONFLICT', 'password-free payment is already signed', { contract: 'active' });
    if (r.type === 'PaymentErrored') throw new AppError(r.retryable ? 'UNAVAILABLE' : 'CONFLICT', `WeChat Pay: ${r.code}`);
    return { appId: r.miniProgramAppId, path: SIGNING_PATH, extraData: r.extraData, contractCode: r.contractCode };
  }

  // ---- orders and appeals -------------------------------------------------------------------------------

  async orders(shopperId: string): Promise<{ orders: Order[] }> {
    const rows = await this.d.models.Order.find({ shopperId }).sort({ createdAt: -1 }).limit(50).lean();
    return { orders: await this.receipts(rows) };
  }

  async order(shopperId: string, orderId: string): Promise<Order> {
    const row = await naturalKeys.findOne(this.d.models.Order, orderId, { orderId });
    if (!row || row.shopperId !== shopperId) throw new AppError('NOT_FOUND', `no order ${orderId}`);
    return (await this.receipts([row]))[0]!;
  }

  async appeal(shopperId: string, orderId: string, reason: string): Promise<AppealResponse> {
    const order = await naturalKeys.findOne(this.d.models.Order, orderId, { orderId });
    if (!order || order.shopperId !== shopperId) throw new AppError('NOT_FOUND', `no order ${orderId}`);
    if (!['paid', 'debt', 'partially_refunded'].includes(order.status)) throw new AppError('CONFLICT', `an order that is ${order.status} cannot be appealed`);
    const lines = order.lines.map((l) => ({ sku: l.sku, qty: l.qty }));
    await openReviewCase(this.d.models, {
      caseId: `A${orderId}`,
      ...(order.visitId ? { visitId: order.visitId } : {}),
      orderId,
      cabinetId: order.cabinetId,
      siteId: order.siteId,
      flow: order.flow,
      shopperId,
      reason: 'appeal',
      recognised: [],
      paidLines: lines,
      proposedLines: lines,
      note: reason,
      deadlineAt: new Date(this.d.clock.now() + (this.d.appealDeadlineMs ?? 3 * 24 * 3_600_000)),
    });
    const c = await this.d.models.ReviewCase.findOne({ _id: `A${orderId}` }, { status: 1, note: 1 }).lean();
    return { orderId, appeal: { status: c?.status ?? 'open', reason: c?.note ?? reason } };
  }

  /** Orders as receipts: itemised lines, how the order was built, and its evidence summary. */
  private async receipts(rows: Array<OrderDoc & { createdAt?: Date }>): Promise<Order[]> {
    const visitIds = [...new Set(rows.flatMap((o) => (o.visitId ? [o.visitId] : [])))];
    const visits = visitIds.length ? await this.d.models.Visit.find({ visitId: { $in: visitIds } }, { visitId: 1, receivedFrames: 1, recognition: 1 }).lean() : [];
    const cases = rows.length ? await this.d.models.ReviewCase.find({ orderId: { $in: rows.map((o) => o.orderId) } }, { orderId: 1, reason: 1, status: 1, note: 1 }).lean() : [];
    const byVisit = new Map(visits.map((v) => [v.visitId, v]));
    return rows.map((o) => {
      const v = o.visitId ? byVisit.get(o.visitId) : undefined;
      const appeal = cases.find((c) => c.orderId === o.orderId && c.reason === 'appeal');
      const reviewed = cases.some((c) => c.orderId === o.orderId && c.reason !== 'appeal' && c.status === 'decided');
      const rec = v?.recognition as { confidence?: number } | undefined;
      return {
        orderId: o.orderId,
        cabinetId: o.cabinetId,
        flow: o.flow,
        status: o.status,
        lines: o.lines.map((l) => ({ sku: l.sku, name: l.name, qty: l.qty, unitPriceFen: l.unitPriceFen, amountFen: l.amountFen })),
        totalFen: o.totalFen,
        paidFen: o.paidFen,
        refundedFen: o.refundedFen,
        createdAt: o.createdAt?.getTime() ?? 0,
        ...(o.pricedAt ? { pricedAt: o.pricedAt.getTime() } : {}),
        source: o.source,
        ...(v ? { evidence: { frames: Object.values(v.receivedFrames ?? {}).reduce((n, x) => n + Number(x), 0), reviewed, ...(typeof rec?.confidence === 'number' ? { confidence: Math.min(1, Math.max(0, rec.confidence)) } : {}) } } : {}),
        ...(appeal ? { appeal: { status: appeal.status, reason: appeal.note ?? '' } } : {}),
        ...(o.netting ? { netting: { paidFen: o.netting.paidFen, decidedFen: o.netting.decidedFen, differenceFen: o.netting.differenceFen, ...(o.netting.againstOrderId ? { againstOrderId: o.netting.againstOrderId } : {}) } } : {}),
      };
    });
  }
}

function sameCart(a: readonly Line[], b: readonly Line[]): boolean {
  const key = (ls: readonly Line[]) => JSON.stringify([...ls].sort((x, y) => x.sku.localeCompare(y.sku)).map((l) => [l.sku, l.qty]));
  return key(a) === key(b);
}

function describe(lines: ReadonlyArray<{ name: string; qty: number }>): string {
  const text = lines.map((l) => `${l.name}×${l.qty}`).join('，');
  return text.length > 100 ? `${text.slice(0, 99)}…` : text || '无人柜商品';
}
