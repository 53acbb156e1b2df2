import { compareAndSetFrom } from '../cas';
import type { OrderDoc } from '../models/commerce';
import type { MoveGuard } from './guard';
import { Remembered } from './remembered';
import type { MoneyModels } from './repository';

/**
 * Orders as the payment actors read and move them. Orders are keyed `_id = orderId` (store/models/
 * commerce.ts), so reading one is a point read on FerretDB; orders from before that keying have an ObjectId,
 * found once by `orderId` (a scan) and remembered. Every move is a grouped compare-and-set from a copy at a
 * known version, checked against the lifecycle first.
 */
export class OrderRecords {
  private readonly legacyIds = new Map<string, unknown>();
  private readonly known = new Remembered<OrderDoc>();

  constructor(
    private readonly models: Pick<MoneyModels, 'Order'>,
    private readonly guard: MoveGuard,
  ) {}

  /** The copy last read or written here (possibly stale: only a starting point for a move). */
  remembered(orderId: string): OrderDoc | undefined {
    return this.known.get(orderId);
  }

  /** The order, read fresh. */
  async read(orderId: string): Promise<OrderDoc | undefined> {
    const legacy = this.legacyIds.get(orderId);
    let o = (await this.models.Order.findOne({ _id: legacy ?? orderId }).lean()) as OrderDoc | null;
    if (!o && legacy === undefined) {
      o = await this.models.Order.findOne({ orderId }).lean();
      if (o) this.legacyIds.set(orderId, o._id);
    }
    if (!o || o.orderId !== orderId) {
      this.known.delete(orderId);
      return undefined;
    }
    this.known.set(orderId, o);
    return o;
  }

  /** Moves the order from the copy given; the updated copy, or undefined when another writer moved it first. */
  async move(order: OrderDoc, set: Record<string, unknown>): Promise<OrderDoc | undefined> {
    if (typeof set.status === 'string') this.guard('order', order.status, set.status, order.orderId);
    if (await compareAndSetFrom(this.models.Order, { _id: order._id ?? order.orderId, version: order.version ?? 0 }, set, { grouped: true })) {
      const updated = { ...order, ...set, version: (order.version ?? 0) + 1 } as OrderDoc;
      this.known.set(order.orderId, updated);
      return updated;
    }
    this.known.delete(order.orderId);
    return undefined;
  }

  /** Drops the remembered copy (the order will not be written again soon). */
  forget(orderId: string): void {
    this.known.delete(orderId);
  }
}
