import type { ApiResult } from './api';
import type { PayOutcome } from './platform.port';
import type { Order, OrderStatus } from './wire';

/**
 * What the shopper is told after wx.requestPayment. The phone's answer is only a hint: `paid` needs the
 * server's order to say so, and a cancel or failure is re-checked once because the money may have moved
 * anyway (a callback lost on a weak signal). `confirming` means WeChat said ok but the server has not seen
 * the notification yet: never show "支付失败" for it, and never offer to pay again.
 */
export type PaymentResult =
  | { status: 'paid'; orderId: string; order: Order }
  | { status: 'confirming'; orderId: string }
  | { status: 'cancelled'; orderId: string }
  | { status: 'failed'; orderId: string; message: string };

type Settlement = 'settled' | 'pending' | 'closed';

export function settlementOf(status: OrderStatus): Settlement {
  switch (status) {
    case 'paid':
    case 'partially_refunded':
    case 'refunded':
    case 'waived':
      return 'settled';
    case 'draft':
    case 'awaiting_payment':
    case 'held_for_review':
    case 'debt':
      return 'pending';
    case 'cancelled':
      return 'closed';
    default: {
      const never: never = status;
      throw new Error(`unknown order status ${String(never)}`);
    }
  }
}

export interface ConfirmDeps {
  fetchOrder(orderId: string): Promise<ApiResult<Order>>;
  sleep(ms: number): Promise<void>;
  /** Waits between server checks after an ok; its length bounds the wait. */
  delaysMs: readonly number[];
}

export async function confirmPayment(orderId: string, outcome: PayOutcome, deps: ConfirmDeps): Promise<PaymentResult> {
  // An ok is polled until the server agrees; a cancel or fail is checked once, right away.
  const delays = outcome.kind === 'ok' ? deps.delaysMs : [0];
  for (const ms of delays) {
    if (ms > 0) await deps.sleep(ms);
    const r = await deps.fetchOrder(orderId);
    if (!r.ok) continue; // weak signal: keep trying within the budget
    const s = settlementOf(r.value.status);
    if (s === 'settled') return { status: 'paid', orderId, order: r.value };
    if (s === 'closed') return { status: 'failed', orderId, message: '订单已关闭' };
  }
  switch (outcome.kind) {
    case 'ok':
      return { status: 'confirming', orderId };
    case 'cancel':
      return { status: 'cancelled', orderId };
    case 'fail':
      return { status: 'failed', orderId, message: '支付未完成，请重试' };
    default: {
      const never: never = outcome;
      throw new Error(`unknown outcome ${String(never)}`);
    }
  }
}

export const PAYMENT_TEXT: Readonly<Record<PaymentResult['status'], string>> = {
  paid: '支付成功',
  confirming: '支付结果确认中',
  cancelled: '已取消支付',
  failed: '支付失败',
};
