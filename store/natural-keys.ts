import type { Model } from 'mongoose';

/**
 * Point reads of documents keyed by their natural id (`_id` = orderId, cabinetId, visitId, frameId…). On
 * FerretDB v1 only a filter that is exactly `{ _id }` is pushed down; a filter on any other field reads and
 * decodes the whole collection, which grows with the business. Documents stored before that keying have
 * ObjectIds: they are found by their fields, and whether a collection holds any is asked once per instance
 * (that probe is itself a scan, paid once).
 */
export class NaturalKeys {
  private readonly legacy = new WeakMap<object, Promise<boolean>>();

  /** Whether the model's collection holds documents keyed by ObjectId. */
  hasObjectIds<D>(model: Model<D>): Promise<boolean> {
    let known = this.legacy.get(model);
    if (!known) this.legacy.set(model, (known = model.exists({ _id: { $type: 'objectId' } }).then((r) => r !== null)));
    return known;
  }

  /** The document with `_id` = `id`, else (only when ObjectId-keyed ones exist) the one matching `byFields`. */
  async findOne<D, T = D>(model: Model<D>, id: string, byFields: Record<string, unknown>, projection?: Record<string, 0 | 1>): Promise<T | null> {
    const byId = await model.findOne({ _id: id } as never, projection).lean<T>();
    if (byId || !(await this.hasObjectIds(model))) return byId as T | null;
    return (await model.findOne(byFields as never, projection).lean<T>()) as T | null;
  }

  /** Updates the document with `_id` = `id`, else (only when ObjectId-keyed ones exist) the one matching `byFields`. */
  async updateOne<D>(model: Model<D>, id: string, byFields: Record<string, unknown>, update: Record<string, unknown>): Promise<boolean> {
    const res = await model.updateOne({ _id: id } as never, update as never);
    if (res.matchedCount || !(await this.hasObjectIds(model))) return res.matchedCount > 0;
    return (await model.updateOne(byFields as never, update as never)).matchedCount > 0;
  }
}

/** The process's instance, for code without a store object of its own (its probes are cached for the process). */
export const naturalKeys = new NaturalKeys();
