import type { Logger } from '../../common/log';
import type { Models } from '../../store/models';
import type { ReconciliationReportDoc } from '../../store/models/commerce';
import type { WechatPayV3Client } from '../wechatpay/v3.client';
import { parseTradeBill, reconcile } from './reconcile';

/**
 * The daily reconciliation job: downloads the trade bill of `billDate` (YYYY-MM-DD, Beijing time), lists
 * every difference against our payments and refunds, and stores the report (one per day, replaced on a
 * re-run) for finance. reconciliation.scheduler.ts runs it daily after 10:00 Beijing time, when WeChat has the
 * previous day's bill.
 */
export async function runReconciliation(d: { models: Pick<Models, 'Payment' | 'Refund' | 'ReconciliationReport'>; v3: WechatPayV3Client; log: Logger }, billDate: string): Promise<ReconciliationReportDoc> {
  const csv = await d.v3.tradeBill(billDate);
  let report: Omit<ReconciliationReportDoc, 'version'>;
  if (!csv.ok) {
    report = { billDate, status: 'failed', billRows: 0, localRecords: 0, diffs: [], error: `${csv.failure.code}: ${csv.failure.message}` };
  } else {
    const bill = parseTradeBill(csv.value);
    const day = (at: Date | undefined): boolean => !!at && new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10) === billDate;
    const nos = new Set(bill.map((r) => r.outTradeNo));
    const payments = (await d.models.Payment.find({ status: { $in: ['succeeded', 'failed', 'closed', 'pending', 'unknown', 'created'] } }).lean())
      .filter((p) => nos.has(p.outTradeNo) || (p.status === 'succeeded' && day(p.settledAt)))
      .map((p) => ({ outTradeNo: p.outTradeNo, status: p.status, amountFen: p.amountFen, settledToday: day(p.settledAt) }));
    const refunds = (await d.models.Refund.find({}).lean()).map((r) => ({ outRefundNo: r.outRefundNo, outTradeNo: r.outTradeNo, status: r.status, amountFen: r.amountFen, settledToday: day((r as { updatedAt?: Date }).updatedAt) }));
    const diffs = reconcile(bill, payments, refunds.filter((r) => r.settledToday || bill.some((b) => b.outRefundNo === r.outRefundNo)));
    report = { billDate, status: diffs.length ? 'differences' : 'matched', billRows: bill.length, localRecords: payments.length, diffs };
  }
  await d.models.ReconciliationReport.deleteOne({ billDate });
  await d.models.ReconciliationReport.create(report);
  d.log.info({ billDate, status: report.status, diffs: report.diffs.length }, 'reconciliation done');
  return { ...report, version: 0 };
}
