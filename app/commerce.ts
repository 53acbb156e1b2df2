import { randomBytes } from 'node:crypto';
import { AppError } from '../common/errors';
import type { FlowKind } from '../contracts/domain';
import type { Line } from '../actors/session/session.protocol';
import { compareAndSet } from '../store/cas';
import { isDuplicateKey } from '../store/connection';
import type { Models } from '../store/models';
import type { OrderDoc, OrderLine, OrderStatus } from '../store/models/commerce';
import type { ReviewReason } from '../store/models/oversight';
import { naturalKeys } from '../store/natural-keys';

/**
 * Orders, prices, stock and review cases: the records the shopper sessions and the operator console share.
 * Every write here is idempotent on a natural key, so a retried effect (after a crash or a timeout) is the
 * same record, never a second one.
 */

export const newOrderId = (): string => `O${randomBytes(9).toString('hex')}`;

/** Prices lines from the catalogue; unknown or inactive SKUs are refused (BAD_REQUEST) — nothing is billed at a guessed price. */
export async function priceLines(models: Pick<Models, 'Product'>, lines: readonly Line[]): Promise<{ lines: OrderLine[]; totalFen: number }> {
  const merged = new Map<string, number>();
  for (const l of lines) if (l.qty > 0) merged.set(l.sku, (merged.get(l.sku) ?? 0) + l.qty);
  if (!merged.size) return { lines: [], totalFen: 0 };
  const products = await models.Product.find({ sku: { $in: [...merged.keys()] } }, { sku: 1, name: 1, priceFen: 1, active: 1 }).lean();
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const out: OrderLine[] = [];
  for (const [sku, qty] of merged) {
    const p = bySku.get(sku);
    if (!p) throw new AppError('BAD_REQUEST', `unknown product ${sku}`, { sku });
    out.push({ sku, name: p.name, qty, unitPriceFen: p.priceFen, amountFen: p.priceFen * qty });
  }
  return { lines: out, totalFen: out.reduce((n, l) => n + l.amountFen, 0) };
}

/** A new order: its identity, what it bills, and the status it starts in. */
export type NewOrder = Pick<OrderDoc, 'orderId' | 'shopperId' | 'cabinetId' | 'siteId' | 'visitId' | 'flow' | 'source' | 'lines' | 'totalFen'> & { status: Extract<OrderStatus, 'draft' | 'held_for_review' | 'debt'> };

/** Creates the order unless it exists (unique orderId); returns the stored one either way. */
export async function createOrder(models: Pick<Models, 'Order'>, o: NewOrder): Promise<{ orderId: string; totalFen: number; status: OrderStatus; created: boolean }> {
  try {
    await models.Order.create({ ...o, outTradeNo: `CF-${o.orderId}`, paidFen: 0, refundedFen: 0 });
    return { orderId: o.orderId, totalFen: o.totalFen, status: o.status, created: true };
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
    const existing = await naturalKeys.findOne(models.Order, o.orderId, { orderId: o.orderId }, { totalFen: 1, status: 1 });
    if (!existing) throw e;
    return { orderId: o.orderId, totalFen: existing.totalFen, status: existing.status, created: false };
  }
}

/**
 * Applies a stock movement to the cabinet's lanes once: the movement's key is recorded in the same
 * compare-and-set as the counts (the last 200 keys are kept). Sales take from the fullest lanes of a SKU
 * first and never below zero; `restock` sets counts.
 */
export async function moveStock(models: Pick<Models, 'Cabinet'>, cabinetId: string, key: string, change: { take: readonly Line[] } | { set: ReadonlyArray<{ laneId: string; count: number }> }): Promise<'applied' | 'already_applied' | 'unknown_cabinet'> {
  for (let round = 0; round < 10; round++) {
    const c = await naturalKeys.findOne(models.Cabinet, cabinetId, { cabinetId }, { lanes: 1, stockMoves: 1, version: 1 });
    if (!c) return 'unknown_cabinet';
    if ((c.stockMoves ?? []).includes(key)) return 'already_applied';
    const lanes = c.lanes.map((l) => ({ ...l }));
    if ('take' in change) {
      for (const line of change.take) {
        let left = line.qty;
        for (const lane of lanes.filter((l) => l.sku === line.sku).sort((a, b) => b.count - a.count)) {
          const n = Math.min(left, lane.count);
          lane.count -= n;
          left -= n;
        }
      }
    } else {
      for (const s of change.set) {
        const lane = lanes.find((l) => l.laneId === s.laneId);
        if (!lane) throw new AppError('BAD_REQUEST', `no lane ${s.laneId} in ${cabinetId}`);
        if (s.count < 0 || s.count > lane.capacity) throw new AppError('BAD_REQUEST', `lane ${s.laneId}: count must be 0–${lane.capacity}`);
        lane.count = s.count;
      }
    }
    const moves = [...(c.stockMoves ?? []), key].slice(-200);
    if (await compareAndSet(models.Cabinet, { _id: c._id, version: c.version ?? 0 }, { lanes, stockMoves: moves })) return 'applied';
  }
  throw new AppError('CONFLICT', `stock of ${cabinetId} changed too often; try again`);
}

/** Lines as `sku → qty`. */
const tally = (ls: readonly Line[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const l of ls) m.set(l.sku, (m.get(l.sku) ?? 0) + l.qty);
  return m;
};

/** What `billed` holds beyond `paid`, per SKU (never negative): a semi-automatic discrepancy's pending order. */
export function linesBeyond(billed: readonly Line[], paid: readonly Line[]): Line[] {
  const p = tally(paid);
  return [...tally(billed)].flatMap(([sku, qty]) => (qty - (p.get(sku) ?? 0) > 0 ? [{ sku, qty: qty - (p.get(sku) ?? 0) }] : []));
}

export interface NewReviewCase {
  caseId: string;
  visitId?: string;
  orderId?: string;
  cabinetId: string;
  siteId: string;
  flow: FlowKind;
  shopperId?: string;
  reason: ReviewReason;
  recognised: Array<Line & { confidence: number }>;
  paidLines?: Line[];
  proposedLines: Line[];
  evidence?: unknown;
  /** The shopper's words (appeals). */
  note?: string;
  deadlineAt: Date;
}

/** Opens the case unless it is open already (caseId is its `_id`). */
export async function openReviewCase(models: Pick<Models, 'ReviewCase'>, c: NewReviewCase): Promise<'opened' | 'exists'> {
  try {
    await models.ReviewCase.create({ _id: c.caseId, ...c, status: 'open' });
    return 'opened';
  } catch (e) {
    if (isDuplicateKey(e)) return 'exists';
    throw e;
  }
}

/** The debt of an order: one per order, keyed like the payment service's (`D-<orderId>`). */
export const debtIdFor = (orderId: string): string => `D-${orderId}`;

/**
 * A pending order raised by an operator (a review's decision, or by hand): stored unpaid as the shopper's
 * debt, which blocks the next visit until it is cleared (deduction or JSAPI, see payments). Idempotent.
 */
export async function raisePendingOrder(models: Pick<Models, 'Order' | 'Debt'>, o: Omit<NewOrder, 'status' | 'source'>, reason: string): Promise<{ orderId: string; totalFen: number; debtId: string }> {
  const order = await createOrder(models, { ...o, source: 'review', status: 'debt' });
  const debtId = debtIdFor(o.orderId);
  try {
    await models.Debt.create({ _id: debtId, debtId, shopperId: o.shopperId, orderId: o.orderId, amountFen: order.totalFen, reason, status: 'open' });
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
  }
  return { orderId: o.orderId, totalFen: order.totalFen, debtId };
}
