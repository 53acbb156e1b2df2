import type { ApiFailure } from './api';
import type { CabinetUnavailableReason, OrderStatus } from './wire';

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
    // The HTTP layer's own refusals: nothing the shopper can act on but trying again later.
    case 'TOO_LARGE':
    case 'URI_TOO_LONG':
    case 'UNSUPPORTED_MEDIA_TYPE':
    case 'HEADERS_TOO_LARGE':
    case 'REQUEST_TIMEOUT':
    case 'TIMEOUT':
      return '服务暂时不可用，请稍后再试';
    default: {
      const never: never = f.code;
      return String(never);
    }
  }
}

/** One text per reason the service sends (its CabinetUnavailableReason enum: tsc requires every value here). */
export const CABINET_UNAVAILABLE_TEXT: Readonly<Record<CabinetUnavailableReason, string>> = {
  offline: '柜子离线，请稍后再试',
  busy: '有人正在使用，请稍候',
  restocking: '正在补货，请稍候',
  fault: '柜子故障，请联系客服',
  disabled: '柜子已停用',
  device_refused: '柜子未能开门，请稍后再试',
  device_timeout: '柜子未响应，请稍后再试',
};

export function cabinetUnavailableText(reason: unknown): string {
  return typeof reason === 'string' && Object.prototype.hasOwnProperty.call(CABINET_UNAVAILABLE_TEXT, reason) ? CABINET_UNAVAILABLE_TEXT[reason as CabinetUnavailableReason] : '柜子暂不可用';
}

/**
 * A debt's reason as the shopper reads it. The service records WeChat's deduction error code (NOTENOUGH, …),
 * `review <caseId>` for an order an operator raised after review, or an operator's own note.
 */
export function debtReasonText(reason: string): string {
  if (/^review\b/.test(reason)) return '人工复核后补缴';
  if (reason === 'NOTENOUGH') return '免密扣款失败：余额不足';
  if (reason === 'NO_CONTRACT' || /^CONTRACT/.test(reason)) return '免密扣款失败：免密支付未开通或已解约';
  if (/^[A-Z_]+$/.test(reason)) return '免密扣款未成功';
  // An operator's note in Chinese is shown as written; anything else (English notes, ids) is not for shoppers.
  return /[\u4e00-\u9fff]/.test(reason) ? reason : '待支付订单';
}

/** Why a papay debt payment was refused (WeChat's code, or the service's note that a deduction is running). */
export function payRefusedText(reason: string): string {
  if (reason === 'NOTENOUGH') return '余额不足，免密扣款未成功，请使用微信支付';
  if (reason === 'NO_CONTRACT' || /^CONTRACT/.test(reason)) return '免密支付未开通或已解约，请使用微信支付';
  if (/in progress|Pending/i.test(reason)) return '扣款处理中，请稍后刷新查看';
  return '免密扣款未成功，请使用微信支付';
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

/** The visit page while its polls fail in a row (weak signal): it keeps trying; the server holds the truth. */
export const WEAK_SIGNAL_HINT = '网络信号弱，正在重试…开门和扣款以服务器为准，不会重复扣款';
