import type { ActorRef } from '../../actors/runtime';
import type { InboundNotification } from '../wechatpay/notifications';
import type { RequestPaymentParams } from '../wechatpay/v3.client';
import type { V2RequestPaymentParams } from '../wechatpay/papay.client';
import type { Netting, OrderLine, OrderStatus } from '../../store/models/commerce';
import type { NewOrder } from '../../store/money/repository';
import type { ReviewDecision } from './order.machine';

/**
 * The per-shopper payment actor's protocol. Every request carries a requestId and a typed reply ref;
 * replies are past tense and say what happened. Expected outcomes (debt, refused refund) are replies, not
 * errors; `PaymentErrored` carries an AppError code for the unexpected.
 */

interface Request<R> {
  requestId: string;
  replyTo: ActorRef<R>;
}

/** Deduct an order by papay after a visit (fully automatic flow). */
export interface ChargeOrder extends Request<ChargeReply> {
  type: 'ChargeOrder';
  orderId: string;
  amountFen: number;
  description: string;
}

/** Pay an order by JSAPI; with `signContract` and no active contract, pay-and-sign (contractorder). */
export interface PayOrder extends Request<PayReply> {
  type: 'PayOrder';
  orderId: string;
  amountFen: number;
  description: string;
  openid: string;
  signContract?: boolean;
}

export interface RefundOrder extends Request<RefundReply> {
  type: 'RefundOrder';
  orderId: string;
  amountFen: number;
  reason: string;
  requestedBy: string;
  /** Chosen by the caller (e.g. the review case): the same key is the same refund. */
  refundKey: string;
}

/** Settle every open debt: by deduction, or by handing back JSAPI parameters for the first one. */
export interface ClearDebts extends Request<ClearDebtsReply> {
  type: 'ClearDebts';
  via: 'papay' | 'jsapi';
  openid?: string;
}

export interface CheckVisitAllowed extends Request<VisitReply> {
  type: 'CheckVisitAllowed';
}

export interface StartSigning extends Request<SigningReply> {
  type: 'StartSigning';
  openid: string;
  displayAccount: string;
}

/** A decided semi-automatic review case, as the payment actor bills it. */
export interface ReviewToBill {
  shopperId: string;
  caseId: string;
  visitId?: string;
  /** The visit's cart order, paid or not (absent when the shopper never checked out). */
  cartOrderId?: string;
  cabinetId: string;
  siteId: string;
  flow: 'open' | 'semi' | 'auto';
  decision: ReviewDecision;
  /** The decided lines, priced from the catalogue, and their value. */
  lines: OrderLine[];
  decidedFen: number;
  decidedBy: string;
  /** Epoch ms the lines were priced at (the pending order's receipt says it). */
  pricedAt?: number;
}

export interface ReviewBilled {
  outcome: string;
  netting: Netting;
  /** The pending order raised for the difference, or the cart order refunded. */
  orderId?: string;
}

/** Bill a decided semi-automatic review by netting against what was paid (see review.billing.ts). */
export interface BillReview extends Request<BillReviewReply>, Omit<ReviewToBill, 'shopperId'> {
  type: 'BillReview';
}

/** Raise a pending order (the shopper's debt) by hand. */
export interface RaisePendingOrder extends Request<MoneyChangeReply> {
  type: 'RaisePendingOrder';
  order: Omit<NewOrder, 'status' | 'source' | 'shopperId'>;
  reason: string;
}

/** A held order after its review: priced and released for charging, or waived (no lines). */
export interface ReleaseHeldOrder extends Request<MoneyChangeReply> {
  type: 'ReleaseHeldOrder';
  orderId: string;
  lines: OrderLine[];
  totalFen: number;
  caseId: string;
}

/** Waive an order's debt (an appeal upheld). */
export interface WaiveDebt extends Request<MoneyChangeReply> {
  type: 'WaiveDebt';
  orderId: string;
  reason: string;
}

/** The pay window ended: close the unpaid order at WeChat and mark it cancelled. */
export interface CloseOrder extends Request<MoneyChangeReply> {
  type: 'CloseOrder';
  orderId: string;
}

export type PaymentCommand = ChargeOrder | PayOrder | RefundOrder | ClearDebts | CheckVisitAllowed | StartSigning | BillReview | RaisePendingOrder | ReleaseHeldOrder | WaiveDebt | CloseOrder;

/** A verified, recorded notification, handed over by the notification endpoint. */
export interface NotificationReceived {
  type: 'NotificationReceived';
  inboxKey: string;
  event: InboundNotification;
}

/** Resolve an attempt whose outcome is not known (after a timeout, at start-up, on a timer). */
export interface ResolvePayment {
  type: 'ResolvePayment';
  outTradeNo: string;
}

export type PaymentMessage = PaymentCommand | NotificationReceived | ResolvePayment;

export interface PaymentErrored {
  type: 'PaymentErrored';
  requestId: string;
  code: string;
  message: string;
  retryable: boolean;
}

export type ChargeReply =
  | { type: 'DeductionAccepted'; requestId: string; outTradeNo: string }
  | { type: 'OrderPaid'; requestId: string; outTradeNo: string; transactionId?: string }
  | { type: 'DebtRecorded'; requestId: string; debtId: string; reason: string }
  /** Sent, outcome not yet known; it is resolved by query before anything else is tried. */
  | { type: 'PaymentPending'; requestId: string; outTradeNo: string }
  | { type: 'ChargeRefused'; requestId: string; reason: 'unknown_order' | 'not_chargeable' | 'amount_mismatch' }
  | PaymentErrored;

export type PayReply =
  | { type: 'PaymentPrepared'; requestId: string; outTradeNo: string; requestPayment: RequestPaymentParams | V2RequestPaymentParams; signsContract: boolean }
  | { type: 'OrderPaid'; requestId: string; outTradeNo: string; transactionId?: string }
  | { type: 'ChargeRefused'; requestId: string; reason: 'unknown_order' | 'not_chargeable' | 'amount_mismatch' }
  | PaymentErrored;

export type RefundReply =
  | { type: 'RefundRequested'; requestId: string; outRefundNo: string; amountFen: number }
  | { type: 'RefundRefused'; requestId: string; reason: 'not_paid' | 'exceeds_paid' | 'invalid_amount' | 'unknown_order' | 'rejected_by_wechat'; detail?: string }
  | PaymentErrored;

export type ClearDebtsReply =
  | { type: 'NoDebts'; requestId: string }
  | { type: 'DebtsSettled'; requestId: string; debtIds: string[] }
  | { type: 'DebtDeductionPending'; requestId: string; outTradeNos: string[] }
  | { type: 'DebtPaymentPrepared'; requestId: string; debtId: string; outTradeNo: string; requestPayment: RequestPaymentParams }
  | { type: 'DebtsRemain'; requestId: string; debtIds: string[]; reason: string }
  | PaymentErrored;

export type BillReviewReply = ({ type: 'ReviewBilled'; requestId: string } & ReviewBilled) | PaymentErrored;

/** A money change done (or found done): the order's status after it, and the debt when one was raised. */
export type MoneyChangeReply = { type: 'MoneyChanged'; requestId: string; orderId: string; status: OrderStatus | undefined; totalFen?: number; debtId?: string; changed: boolean } | PaymentErrored;

export type VisitReply = { type: 'VisitAllowed'; requestId: string } | { type: 'VisitBlocked'; requestId: string; reason: 'debt'; debts: Array<{ debtId: string; amountFen: number }> };

export type SigningReply = { type: 'SigningPrepared'; requestId: string; contractCode: string; miniProgramAppId: string; extraData: Record<string, string> } | { type: 'AlreadySigned'; requestId: string; contractId: string } | PaymentErrored;
