import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import type { Models } from '../../store/models';
import type { DebtDoc, OrderDoc, PaymentDoc, RefundDoc } from '../../store/models/commerce';
import type { ContractRow } from '../../store/money/contracts';
import type { MoneyRecords } from '../../store/money/records';
import type { MiniProgramClient } from '../wechatpay/miniprogram.client';
import type { PapayV2Client } from '../wechatpay/papay.client';
import type { WechatPayV3Client } from '../wechatpay/v3.client';
import type { WechatConfig } from '../wechatpay/wechat.config';
import type { InboundNotification } from '../wechatpay/notifications';
import type { Observation } from './payment.machine';
import type { ChargeReply, PayOrder, PayReply } from './payment.protocol';

export type PaymentModels = Pick<Models, 'Order' | 'Payment' | 'Refund' | 'Contract' | 'Debt' | 'PaymentInbox' | 'Shopper' | 'LedgerEntry' | 'Idempotency' | 'InboxDone'>;

export interface PaymentServiceDeps {
  models: PaymentModels;
  v3: WechatPayV3Client;
  papay: PapayV2Client;
  config: WechatConfig;
  clock: Clock;
  log: Logger;
  /** Subscribe messages for debts; absent = none sent. */
  miniProgram?: MiniProgramClient;
  /** Test seam: called right after a deduction request returned, before its result is recorded. */
  afterDeductionSent?: (outTradeNo: string) => void | Promise<void>;
}

/** A command as the service takes it: without its reply ref and tag, with the actor's shopper. */
export type Cmd<T> = Omit<T, 'replyTo' | 'type'> & { shopperId: string };

/**
 * The concerns of the payment service (one file each) as they call one another: only what one asks of
 * another, so the files depend on this seam and not on each other (PaymentService makes them and checks
 * each class fits with `satisfies`).
 */
export interface MoneyParts {
  settlement: {
    attemptsOf(orderId: string): Promise<PaymentDoc[]>;
    observe(outTradeNo: string, obs: Observation): Promise<PaymentDoc | undefined>;
    settleOrder(p: PaymentDoc): Promise<void>;
    resolve(outTradeNo: string): Promise<PaymentDoc | undefined>;
    resolveOpenAttempts(orderId: string): Promise<PaymentDoc[]>;
  };
  deductions: {
    send(p: PaymentDoc, requestId?: string): Promise<ChargeReply>;
    start(order: OrderDoc, purpose: 'order' | 'debt', attempts: PaymentDoc[], description: string, requestId: string): Promise<ChargeReply>;
  };
  jsapi: { pay(cmd: Cmd<PayOrder>, purpose?: 'order' | 'debt'): Promise<PayReply> };
  debts: {
    openDebt(order: OrderDoc, reason: string): Promise<string>;
    moveToDebt(orderId: string, reason: string): Promise<string>;
    notifyDebtCreated(orderId: string): Promise<void>;
    settleDebt(orderId: string): Promise<DebtDoc | undefined>;
    message(shopperId: string, what: 'created' | 'cleared', amountFen: number): Promise<boolean>;
  };
  refunds: {
    settled(outRefundNo: string, status: 'succeeded' | 'failed', refundId?: string, wechatStatus?: RefundDoc['wechatStatus']): Promise<void>;
    resolve(outRefundNo: string): Promise<void>;
  };
  contracts: {
    of(shopperId: string): Promise<ContractRow[]>;
    activeOf(shopperId: string): Promise<{ contractCode: string; contractId: string } | undefined>;
    codeToSign(shopperId: string, openid: string): Promise<string>;
    markGone(shopperId: string, contractId: string): Promise<void>;
    changed(e: Extract<InboundNotification, { type: 'ContractChanged' }>): Promise<void>;
  };
}

/**
 * What every concern works with: the clients and clock (`d`), the money records (the store seam: the only
 * way to a money model), and the other concerns (`parts`, filled in by the PaymentService that makes them).
 */
export interface MoneyContext {
  d: PaymentServiceDeps;
  records: MoneyRecords;
  parts: MoneyParts;
  now(): Date;
}

export type ChargeRefusal = { type: 'ChargeRefused'; requestId: string; reason: 'unknown_order' | 'not_chargeable' | 'amount_mismatch' };

/** The order a charge or a payment is for, or why it cannot be charged (someone else's, another amount, held, closed). */
export async function loadChargeable(ctx: MoneyContext, cmd: { orderId: string; shopperId: string; amountFen: number; requestId: string }): Promise<OrderDoc | ChargeRefusal> {
  const order = await ctx.records.orders.read(cmd.orderId);
  if (!order || order.shopperId !== cmd.shopperId) return { type: 'ChargeRefused', requestId: cmd.requestId, reason: 'unknown_order' };
  if (order.totalFen !== cmd.amountFen) return { type: 'ChargeRefused', requestId: cmd.requestId, reason: 'amount_mismatch' };
  if (order.status === 'held_for_review' || order.status === 'waived' || order.status === 'cancelled') return { type: 'ChargeRefused', requestId: cmd.requestId, reason: 'not_chargeable' };
  return order;
}

/** Draft → awaiting payment, from the copy just read (a lost claim means another writer moved it: fine). */
export async function toAwaiting(ctx: MoneyContext, order: OrderDoc): Promise<void> {
  if (order.status === 'draft') await ctx.records.orders.move(order, { status: 'awaiting_payment' });
}

/** The description WeChat shows the shopper (at most 120 characters; never empty). */
export const bodyOf = (description: string): string => description.slice(0, 120) || 'Snacks';
