import type { InboundNotification } from '../wechatpay/notifications';

/**
 * The inbox key of a notification, pure: redeliveries of the same fact share it (v3: the event id; papay
 * results: out_trade_no and result; contracts: code and change), so recording it twice meets E11000.
 */
export function inboxKeyOf(e: InboundNotification): string {
  switch (e.type) {
    case 'TransactionNotified':
    case 'RefundNotified':
      return `v3:${e.eventId}`;
    case 'TradeResultNotified':
      return `v2:${e.order.outTradeNo}:${e.resultCode}`;
    case 'ContractChanged':
      return `contract:${e.contractCode}:${e.change}`;
  }
}
