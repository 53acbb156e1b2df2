import type { Inbox } from './inbox';
import type { MoneyContext } from './money.context';

/**
 * At start-up: every attempt whose outcome is unknown is asked about, every notification recorded and not
 * applied is applied, every attempt settled lately has its order driven again (a process may have died in
 * between), and every refund whose answer was lost is asked about (same out_refund_no).
 */
export async function recoverMoney(ctx: MoneyContext, inbox: Inbox): Promise<{ resolved: number; notifications: number; refunds: number }> {
  const { attempts, refunds, repo } = ctx.records;
  const { settlement } = ctx.parts;
  const open = await attempts.unsettled();
  for (const outTradeNo of open) await settlement.resolve(outTradeNo);
  const recorded = await repo.unprocessedNotifications();
  for (const n of recorded) await inbox.process(n.key, JSON.parse(n.payload) as never);
  for (const p of await attempts.settledSince(new Date(ctx.d.clock.now() - 86_400_000))) await settlement.settleOrder(p);
  const pending = await refunds.pending();
  for (const outRefundNo of pending) await ctx.parts.refunds.resolve(outRefundNo);
  return { resolved: open.length, notifications: recorded.length, refunds: pending.length };
}
