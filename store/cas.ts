import mongoose, { type Model } from 'mongoose';
import { isDuplicateKey } from './connection';

const { EJSON } = mongoose.mongo.BSON;

/**
 * Single-document compare-and-set that holds on MongoDB *and* FerretDB v1.
 *
 * Why not just `updateOne({ id, status: expected }, …)` and read `modifiedCount`? On FerretDB v1 with the
 * SQLite backend that is not atomic: the filter is evaluated and the write applied in separate steps, and two
 * racing writers both see `modifiedCount: 1` (store/models/models.test.ts reproduces it). Inserts, however,
 * are atomic under a unique index on both servers. So every transition of a document from version v is
 * first claimed by inserting `cas_claims/_id = <collection>:<doc _id>:<v>`; only the writer whose insert
 * succeeds applies its update (guarded by `version: v`). A writer that loses the claim rolls the winner's
 * recorded update forward (idempotent: it is guarded by the same version), so a winner that died between
 * claim and update can never wedge the document. Losing returns false; the caller re-reads and decides.
 */
export async function compareAndSet<T extends { version: number }>(
  model: Model<T>,
  filter: Record<string, unknown>,
  set: Record<string, unknown>,
  extra: { unset?: string[]; inc?: Record<string, number>; push?: Record<string, unknown> } = {},
): Promise<boolean> {
  const current = (await model.findOne(filter, { _id: 1, version: 1 }).lean()) as { _id: unknown; version?: number } | null;
  if (!current) return false;
  const v = current.version ?? 0;
  const update: Record<string, unknown> = { $set: { ...set, version: v + 1 } };
  if (extra.inc && Object.keys(extra.inc).length) update.$inc = extra.inc;
  if (extra.unset?.length) update.$unset = Object.fromEntries(extra.unset.map((k) => [k, '']));
  if (extra.push) update.$push = extra.push;

  const claims = model.db.collection('cas_claims');
  const claimId = `${model.collection.collectionName}:${String(current._id)}:${v}`;
  const guard = { _id: current._id, version: v } as Record<string, unknown>;
  try {
    // Stored as EJSON text: update operators start with `$`, which FerretDB refuses as field names.
    await claims.insertOne({ _id: claimId as never, update: EJSON.stringify(update, { relaxed: false }), at: new Date() });
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
    const claim = await claims.findOne({ _id: claimId as never });
    if (claim && typeof claim.update === 'string') await model.updateOne(guard, EJSON.parse(claim.update) as never);
    return false;
  }
  await model.updateOne(guard, update as never);
  return true;
}

/** Deletes claims older than `olderThanMs`; they only matter while a transition is in flight. */
export async function pruneClaims(model: Model<unknown>, olderThanMs: number, now = Date.now()): Promise<number> {
  const res = await model.db.collection('cas_claims').deleteMany({ at: { $lt: new Date(now - olderThanMs) } });
  return res.deletedCount;
}
