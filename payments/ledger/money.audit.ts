import type { Models } from '../../store/models';
import { MoneyRepository } from '../../store/money/repository';
import { checkMoney, type MoneySnapshot, type Problem } from './invariants';

/**
 * `money:audit`: the money invariants (invariants.ts) over a whole database, and our ledger against
 * WeChat's side. In sandbox WeChat's side is the emulator's own ledger, read through its control API
 * (`GET /__control/state`: its orders and refunds); in live it is the trade bill, which the daily
 * reconciliation compares (payments/reconciliation), so the live audit checks our side only.
 */

export interface MoneyAuditReport {
  orders: number;
  ledgerEntries: number;
  comparedWithWechat: boolean;
  problems: Problem[];
}

interface EmulatorState {
  orders: Array<{ outTradeNo: string; state: string; total: number }>;
  refunds: Array<{ outRefundNo: string; status: string; amount?: { refund?: number }; refund?: number }>;
}

/** WeChat's successful trades and refunds as the emulator holds them. */
export async function emulatorLedger(emulatorUrl: string): Promise<NonNullable<MoneySnapshot['wechat']>> {
  const res = await fetch(`${emulatorUrl.replace(/\/$/, '')}/__control/state`);
  if (!res.ok) throw new Error(`emulator state: HTTP ${res.status}`);
  const st = (await res.json()) as EmulatorState;
  const paid = new Map<string, number>();
  for (const o of st.orders) if (o.state === 'SUCCESS' || o.state === 'REFUND') paid.set(o.outTradeNo, o.total);
  const refunded = new Map<string, number>();
  for (const r of st.refunds) if (r.status === 'SUCCESS') refunded.set(r.outRefundNo, r.amount?.refund ?? r.refund ?? 0);
  return { paid, refunded };
}

export async function auditMoney(models: Models, opts: { emulatorUrl?: string } = {}): Promise<MoneyAuditReport> {
  const repo = new MoneyRepository(models);
  const all = await repo.everything();
  const cases = await models.ReviewCase.find({ status: 'decided', flow: 'semi', reason: { $ne: 'appeal' } }, { caseId: 1, visitId: 1, netting: 1, decision: 1 }).lean();
  const decisions = cases.filter((c) => c.netting).map((c) => ({ caseId: c.caseId, ...(c.visitId ? { visitId: c.visitId } : {}), decidedFen: c.netting!.decidedFen, decision: c.decision ?? 'confirm' }));
  const wechat = opts.emulatorUrl ? await emulatorLedger(opts.emulatorUrl) : undefined;
  const problems = checkMoney({ ...all, decisions, ...(wechat ? { wechat } : {}) });
  return { orders: all.orders.length, ledgerEntries: all.ledger.length, comparedWithWechat: !!wechat, problems };
}
