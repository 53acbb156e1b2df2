import { randomBytes } from 'node:crypto';
import { AppError } from '../common/errors';
import type { FlowKind } from '../contracts/domain';
import type { Line } from '../actors/session/session.protocol';
import { compareAndSet } from '../store/cas';
import { isDuplicateKey } from '../store/connection';
import type { Models } from '../store/models';
import type { OrderLine } from '../store/models/commerce';
import type { ReviewReason } from '../store/models/oversight';
import { naturalKeys } from '../store/natural-keys';
import { priceAt } from '../contracts/pricing';

/**
 * Prices, stock and review cases: the records the shopper sessions and the operator console share (orders
 * and every other money record belong to the payment actor and store/money/repository.ts).
 * Every write here is idempotent on a natural key, so a retried effect (after a crash or a timeout) is the
 * same record, never a second one.
 */

export const newOrderId = (): string => `O${randomBytes(9).toString('hex')}`;

/** Where and when lines are priced: the cabinet's site, and the door's close for a visit (checkout for an open shelf). */
export interface PricingMoment {
  siteId: string;
  at: number;
}

/**
 * Prices lines from the catalogue as it stood at `moment` (contracts/pricing.ts: the site's override, else
 * the price for every site, else the list price). Unknown SKUs are refused (BAD_REQUEST): nothing is billed
 * at a guessed price. A delisted product still found in a cabinet is billed at its price then.
 */
export async function priceLines(models: Pick<Models, 'Product'>, lines: readonly Line[], moment: PricingMoment): Promise<{ lines: OrderLine[]; totalFen: number; pricedAt: Date }> {
  const pricedAt = new Date(moment.at);
  const merged = new Map<string, number>();
  for (const l of lines) if (l.qty > 0) merged.set(l.sku, (merged.get(l.sku) ?? 0) + l.qty);
  if (!merged.size) return { lines: [], totalFen: 0, pricedAt };
  const products = await models.Product.find({ sku: { $in: [...merged.keys()] } }, { sku: 1, name: 1, priceFen: 1, prices: 1, active: 1 }).lean();
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const out: OrderLine[] = [];
  for (const [sku, qty] of merged) {
    const p = bySku.get(sku);
    if (!p) throw new AppError('BAD_REQUEST', `unknown product ${sku}`, { sku });
    const unit = priceAt(p, moment.siteId, moment.at);
    out.push({ sku, name: p.name, qty, unitPriceFen: unit, amountFen: unit * qty });
  }
  return { lines: out, totalFen: out.reduce((n, l) => n + l.amountFen, 0), pricedAt };
}

/**
 * When a visit's door closed (its lines are priced then); a visit whose close was never reported is priced
 * as its door opened; `fallback` when the visit is unknown or never opened.
 */
export async function visitClosedAt(models: Pick<Models, 'Visit'>, visitId: string | undefined, fallback: number): Promise<number> {
  if (!visitId) return fallback;
  const v = await naturalKeys.findOne(models.Visit, visitId, { visitId }, { closedAt: 1, openedAt: 1 });
  return v?.closedAt?.getTime() ?? v?.openedAt?.getTime() ?? fallback;
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
