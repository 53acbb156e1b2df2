import { findShopperByOpenid } from '../../store/shoppers';
import type { InboundNotification } from '../wechatpay/notifications';
import type { MoneyContext } from './money.context';
import { inboxKeyOf } from './notification.keys';
import { observationFromPapay, observationFromTransaction } from './observations';

/**
 * WeChat's notifications: each persisted under its key before it is acknowledged (a redelivery meets the
 * key and is recorded once), routed to its shopper's actor, applied there idempotently, and marked done
 * by an append, so a restart replays whatever was recorded and not applied.
 */
export class Inbox {
  constructor(private readonly ctx: MoneyContext) {}

  /** Which shopper's actor handles a notification (undefined: not ours). */
  async shopperOf(e: InboundNotification): Promise<string | undefined> {
    const { attempts, refunds, orders, contracts } = this.ctx.records;
    switch (e.type) {
      // An attempt this service wrote lately names its shopper without a read.
      case 'TransactionNotified':
        return attempts.shopperOf(e.transaction.out_trade_no);
      case 'TradeResultNotified':
        return attempts.shopperOf(e.order.outTradeNo);
      case 'RefundNotified': {
        const r = await refunds.read(e.refund.out_refund_no);
        return r ? (await orders.read(r.orderId))?.shopperId : undefined;
      }
      case 'ContractChanged':
        return (await contracts.read(e.contractCode))?.shopperId ?? (await findShopperByOpenid(this.ctx.d.models, e.openid, { shopperId: 1 }))?.shopperId;
    }
  }

  /** Persists a verified notification before it is acknowledged. Returns its key and whether it is new. */
  async record(e: InboundNotification): Promise<{ key: string; shopperId: string | undefined; fresh: boolean }> {
    const key = inboxKeyOf(e);
    const shopperId = await this.shopperOf(e);
    const fresh = await this.ctx.records.repo.recordNotification({ key, type: e.type, ...(shopperId ? { shopperId } : {}), payload: JSON.stringify(e) });
    return { key, shopperId, fresh };
  }

  /** Applies a recorded notification; idempotent, so a redelivery or a restart replays it harmlessly. */
  async process(key: string, e: InboundNotification): Promise<void> {
    const { settlement, refunds, contracts } = this.ctx.parts;
    switch (e.type) {
      case 'TransactionNotified':
        await settlement.observe(e.transaction.out_trade_no, observationFromTransaction(e.transaction));
        break;
      case 'TradeResultNotified':
        await settlement.observe(e.order.outTradeNo, observationFromPapay(e.order));
        break;
      case 'RefundNotified':
        if (e.refund.refund_status === 'SUCCESS') await refunds.settled(e.refund.out_refund_no, 'succeeded', e.refund.refund_id);
        else if (e.refund.refund_status === 'CLOSED' || e.refund.refund_status === 'ABNORMAL') await refunds.settled(e.refund.out_refund_no, 'failed', e.refund.refund_id, e.refund.refund_status);
        break;
      case 'ContractChanged':
        await contracts.changed(e);
        break;
    }
    // Appended, grouped with the other shoppers' (ledger-as-appends: an insert share instead of a point update).
    await this.ctx.records.repo.markProcessed(key, this.ctx.now());
  }
}
