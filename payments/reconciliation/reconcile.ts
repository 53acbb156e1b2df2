import type { ReconciliationDiff } from '../../store/models/commerce';

/**
 * Pure reconciliation: WeChat's trade bill (CSV, back-quoted fields, yuan) against our records of the
 * same day. Every difference is listed: missing on either side, amount or state mismatch, refunds.
 */

export interface BillRow {
  outTradeNo: string;
  transactionId: string;
  state: string;
  amountFen: number;
  outRefundNo?: string;
  refundFen?: number;
}

const fen = (yuan: string): number => Math.round(Number(yuan) * 100);
const unquote = (v: string): string => v.replace(/^`/, '').trim();

/** Parses the trade bill; summary lines after the data are ignored. */
export function parseTradeBill(csv: string): BillRow[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.length);
  const header = lines[0]?.split(',') ?? [];
  const col = (name: string): number => header.indexOf(name);
  const idx = { no: col('商户订单号'), tx: col('微信订单号'), state: col('交易状态'), amount: col('应结订单金额'), refundNo: col('商户退款单号'), refund: col('退款金额') };
  const rows: BillRow[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('总交易单数')) break;
    const f = line.split(',').map(unquote);
    const state = f[idx.state] ?? '';
    rows.push({
      outTradeNo: f[idx.no] ?? '',
      transactionId: f[idx.tx] ?? '',
      state,
      amountFen: fen(f[idx.amount] ?? '0'),
      ...(state === 'REFUND' ? { outRefundNo: f[idx.refundNo] ?? '', refundFen: fen(f[idx.refund] ?? '0') } : {}),
    });
  }
  return rows;
}

export interface LocalPayment {
  outTradeNo: string;
  status: string;
  amountFen: number;
  /** Settled on the bill's day. */
  settledToday: boolean;
}
export interface LocalRefund {
  outRefundNo: string;
  outTradeNo: string;
  status: string;
  amountFen: number;
  settledToday: boolean;
}

export function reconcile(bill: BillRow[], payments: LocalPayment[], refunds: LocalRefund[]): ReconciliationDiff[] {
  const diffs: ReconciliationDiff[] = [];
  const byNo = new Map(payments.map((p) => [p.outTradeNo, p]));
  const billPaid = new Map(bill.filter((r) => r.state === 'SUCCESS').map((r) => [r.outTradeNo, r]));
  for (const r of billPaid.values()) {
    const p = byNo.get(r.outTradeNo);
    if (!p) diffs.push({ kind: 'missing_locally', outTradeNo: r.outTradeNo, theirs: `SUCCESS ${r.amountFen}` });
    else if (p.status !== 'succeeded') diffs.push({ kind: 'state_mismatch', outTradeNo: r.outTradeNo, ours: p.status, theirs: 'SUCCESS' });
    else if (p.amountFen !== r.amountFen) diffs.push({ kind: 'amount_mismatch', outTradeNo: r.outTradeNo, ours: String(p.amountFen), theirs: String(r.amountFen) });
  }
  for (const p of payments) if (p.status === 'succeeded' && p.settledToday && !billPaid.has(p.outTradeNo)) diffs.push({ kind: 'missing_in_bill', outTradeNo: p.outTradeNo, ours: `succeeded ${p.amountFen}` });
  const billRefunds = new Map(bill.filter((r) => r.state === 'REFUND' && r.outRefundNo).map((r) => [r.outRefundNo!, r]));
  const localRefunds = new Map(refunds.map((r) => [r.outRefundNo, r]));
  for (const r of billRefunds.values()) {
    const l = localRefunds.get(r.outRefundNo!);
    if (!l || l.status !== 'succeeded' || l.amountFen !== r.refundFen) diffs.push({ kind: 'refund_mismatch', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo!, ours: l ? `${l.status} ${l.amountFen}` : 'none', theirs: `SUCCESS ${r.refundFen}` });
  }
  for (const l of refunds) if (l.status === 'succeeded' && l.settledToday && !billRefunds.has(l.outRefundNo)) diffs.push({ kind: 'refund_mismatch', outTradeNo: l.outTradeNo, outRefundNo: l.outRefundNo, ours: `succeeded ${l.amountFen}`, theirs: 'none' });
  return diffs;
}
