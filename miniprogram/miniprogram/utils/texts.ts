import type { ApiFailure } from './api';
import type { OrderStatus } from './wire';

/** What the shopper reads for each refusal. The server's message is for logs; these are for people. */
export function failureText(f: Pick<ApiFailure, 'code' | 'details'>): string {
  switch (f.code) {
    case 'NETWORK':
      return '网络不给力，请稍后重试';
    case 'PHONE_REQUIRED':
      return '请先授权手机号';
    case 'DEBT_OUTSTANDING':
      return '您有待支付欠款，请先支付';
    case 'CONTRACT_REQUIRED':
      return '请先开通免密支付';
    case 'CABINET_UNAVAILABLE':
      return cabinetUnavailableText((f.details as { reason?: unknown } | undefined)?.reason);
    case 'OUT_OF_STOCK':
      return '商品库存不足，请调整后再试';
    case 'RATE_LIMITED':
      return '操作太频繁，请稍后再试';
    case 'NOT_FOUND':
      return '未找到该柜子或订单';
    case 'UNAUTHENTICATED':
      return '登录已过期，请重新进入';
    case 'CONFLICT':
      return '状态已变化，请刷新后重试';
    case 'BAD_REQUEST':
    case 'UNAVAILABLE':
    case 'INTERNAL':
      return '服务暂时不可用，请稍后再试';
    default: {
      const never: never = f.code;
      return String(never);
    }
  }
}

export function cabinetUnavailableText(reason: unknown): string {
  switch (reason) {
    case 'offline':
      return '柜子离线，请稍后再试';
    case 'busy':
      return '有人正在使用，请稍候';
    case 'restocking':
      return '正在补货，请稍候';
    case 'fault':
      return '柜子故障，请联系客服';
    default:
      return '柜子暂不可用';
  }
}

export const ORDER_STATUS_TEXT: Readonly<Record<OrderStatus, string>> = {
  draft: '待确认',
  held_for_review: '人工复核中',
  awaiting_payment: '待支付',
  paid: '已支付',
  debt: '待支付欠款',
  waived: '已免单',
  cancelled: '已取消',
  partially_refunded: '部分退款',
  refunded: '已退款',
};
