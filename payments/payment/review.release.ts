import type { OrderDoc } from '../../store/models/commerce';
import type { MoneyContext } from './money.context';

/**
 * A held (fully automatic) order after its review: priced with the decided lines and released to be
 * charged (`draft`), or waived when nothing is due (with its ledger entry). Idempotent: only a held order moves.
 */
export async function releaseHeld(ctx: MoneyContext, orderId: string, lines: OrderDoc['lines'], totalFen: number, caseId: string): Promise<OrderDoc['status'] | undefined> {
  const { orders, repo } = ctx.records;
  for (let round = 0; round < 8; round++) {
    const order = await orders.read(orderId);
    if (!order || order.status !== 'held_for_review') return order?.status;
    if (!lines.length || totalFen === 0) {
      if (await orders.move(order, { status: 'waived', lines: [], totalFen: 0 })) {
        await repo.append({ kind: 'waiver', ref: `held:${orderId}`, shopperId: order.shopperId, orderId, amountFen: order.totalFen, reason: `review ${caseId}`, at: ctx.now() });
        return 'waived';
      }
    } else if (await orders.move(order, { status: 'draft', source: 'review', lines, totalFen })) return 'draft';
  }
  return (await orders.read(orderId))?.status;
}
