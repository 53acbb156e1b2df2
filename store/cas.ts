import mongoose, { type Connection, type Model } from 'mongoose';
import { isDuplicateKey, WriteStalledError } from './connection';

const { EJSON } = mongoose.mongo.BSON;

/**
 * Single-document compare-and-set that holds on MongoDB *and* FerretDB v1.
 *
 * Why not just `updateOne({ id, status: expected }, …)` and read `modifiedCount`? On FerretDB v1 with the
 * SQLite backend that is not atomic: the filter is evaluated and the write applied in separate steps, and two
 * racing writers both see `modifiedCount: 1` (store/models/models.test.ts reproduces it). Inserts, however,
 * are atomic under a unique index on both servers. So every transition of a document from version v is
 * first claimed by inserting `cas_claims/_id = <collection>:<doc _id>:<v>`; only the writer whose insert
 * succeeds applies its update (guarded by `version: v` on MongoDB; by `_id` alone on FerretDB, see
 * compareAndSetFrom). A writer that loses the claim and still finds the document at v rolls the winner's
 * recorded update forward (guarded by the same version), so a winner that died between claim and update can
 * never wedge the document. Losing returns false; the caller re-reads and decides.
 */
export async function compareAndSet<T extends { version: number }>(
  model: Model<T>,
  filter: Record<string, unknown>,
  set: Record<string, unknown>,
  extra: CasExtra = {},
): Promise<boolean> {
  const current = await readForCas(model, filter);
  if (!current) return false;
  return compareAndSetFrom(model, current, set, extra);
}

export interface CasExtra {
  unset?: string[];
  inc?: Record<string, number>;
  push?: Record<string, unknown>;
  /**
   * Send the winner's point update grouped with other grouped updates of the collection meanwhile (one
   * unordered bulk write; see updateGrouped). For hot paths with many writers (the payment actors).
   */
  grouped?: boolean;
}

const isPlain = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * The document the filter names, as `{ _id, version }`. A filter of `_id` plus plain equalities (the usual
 * `{ _id, status }`) is read by `_id` alone and the rest checked here: FerretDB v1 pushes down only a filter
 * that is exactly `{ _id }` and scans the collection for anything else. The read is not atomic with the
 * write on either server anyway; the claim below is what decides.
 */
async function readForCas<T>(model: Model<T>, filter: Record<string, unknown>): Promise<{ _id: unknown; version?: number } | null> {
  const { _id, ...rest } = filter;
  const pointRead = (typeof _id === 'string' || _id instanceof mongoose.Types.ObjectId) && Object.entries(rest).every(([k, v]) => !k.includes('.') && !k.startsWith('$') && isPlain(v));
  if (pointRead) {
    const doc = (await model.findOne({ _id } as never, { _id: 1, version: 1, ...Object.fromEntries(Object.keys(rest).map((k) => [k, 1])) }).lean()) as Record<string, unknown> | null;
    if (!doc) return null;
    // An array field matches an element in a query: leave that to the server.
    if (!Object.keys(rest).some((k) => Array.isArray(doc[k]))) return Object.entries(rest).every(([k, v]) => doc[k] === v) ? (doc as { _id: unknown; version?: number }) : null;
  }
  return (await model.findOne(filter as never, { _id: 1, version: 1 }).lean()) as { _id: unknown; version?: number } | null;
}

/**
 * Compare-and-set from a document the caller holds at a known version (just read or just written), without
 * reading it again: the claim of `<collection>:<_id>:<version>` fails when anyone moved it off that version
 * meanwhile, and the caller then reads and decides again. Every version has exactly one content as long as
 * every change goes through compare-and-set, so a successful claim also proves the caller's copy current.
 */
export async function compareAndSetFrom<T extends { version: number }>(
  model: Model<T>,
  current: { _id: unknown; version?: number },
  set: Record<string, unknown>,
  extra: CasExtra = {},
): Promise<boolean> {
  const v = current.version ?? 0;
  const update: Record<string, unknown> = { $set: { ...set, version: v + 1 } };
  if (extra.inc && Object.keys(extra.inc).length) update.$inc = extra.inc;
  if (extra.unset?.length) update.$unset = Object.fromEntries(extra.unset.map((k) => [k, '']));
  if (extra.push) update.$push = extra.push;

  const claims = model.db.collection('cas_claims');
  const claimId = `${model.collection.collectionName}:${String(current._id)}:${v}`;
  const guard = { _id: current._id, version: v } as Record<string, unknown>;
  const writes = laneOf(model.db);
  try {
    // Stored as EJSON text: update operators start with `$`, which FerretDB refuses as field names.
    await insertGrouped(claims, { _id: claimId, update: EJSON.stringify(update, { relaxed: false }), at: new Date() });
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
    // Roll the winner's update forward only if it has not landed yet (a point read saves a scan and
    // keeps a live winner's update from being applied twice in the usual case).
    const now = (await model.findOne({ _id: current._id } as never, { version: 1 }).lean()) as { version?: number } | null;
    if (now && (now.version ?? 0) === v) {
      const claim = await claims.findOne({ _id: claimId as never });
      if (claim && typeof claim.update === 'string') await writes.run(() => model.updateOne(guard, EJSON.parse(claim.update as string) as never));
    }
    return false;
  }
  // The claim is ours: nobody else moves the document off version v. MongoDB checks the guard atomically
  // for free. FerretDB v1 would scan the collection for it (only an exact `{ _id }` filter is pushed down)
  // and checks it non-atomically anyway (read, then write by `_id`), so there the write goes by `_id` alone.
  const pointOnly = await isFerretDb(model.db);
  const filter = pointOnly ? { _id: current._id } : guard;
  if (extra.grouped) {
    // The raw bulk write skips mongoose's update middleware: the timestamp it would add is set here.
    if (model.schema.get('timestamps')) (update.$set as Record<string, unknown>).updatedAt = new Date();
    await updateGrouped(model, filter, update);
  }
  else await writes.run(() => model.updateOne(filter as never, update as never));
  return true;
}

interface QueuedUpdate {
  filter: Record<string, unknown>;
  update: Record<string, unknown>;
  resolve(): void;
  reject(e: unknown): void;
}
const updateQueues = new WeakMap<object, { queued: QueuedUpdate[]; flushing: boolean }>();

/**
 * One point update, grouped with the others queued for the same collection while one group is in flight
 * (group commit, as insertGrouped): the group leaves as one unordered bulk write in the connection's write
 * lane. Only for updates already claimed (compare-and-set won), so their order within a group is free; each
 * caller's promise settles when the server answered, with its own write error if it had one.
 */
async function updateGrouped<T>(model: Model<T>, filter: Record<string, unknown>, update: Record<string, unknown>): Promise<void> {
  let q = updateQueues.get(model);
  if (!q) updateQueues.set(model, (q = { queued: [], flushing: false }));
  const queue = q;
  await new Promise<void>((resolve, reject) => {
    queue.queued.push({ filter, update, resolve, reject });
    if (!queue.flushing) void flushUpdates(model, queue);
  });
}

async function flushUpdates<T>(model: Model<T>, q: { queued: QueuedUpdate[]; flushing: boolean }): Promise<void> {
  q.flushing = true;
  try {
    while (q.queued.length) {
      const group = q.queued.splice(0, GROUP_MAX);
      try {
        await laneOf(model.db).run(() => model.collection.bulkWrite(group.map((g) => ({ updateOne: { filter: g.filter, update: g.update } })) as never, { ordered: false }));
        for (const g of group) g.resolve();
      } catch (e) {
        settleFailedGroup(group, e);
      }
    }
  } finally {
    q.flushing = false;
  }
}

const ferretDbs = new WeakMap<object, Promise<boolean>>();

/** True when the server is FerretDB (its buildInfo says so); asked once per connection. */
function isFerretDb(conn: Connection): Promise<boolean> {
  let known = ferretDbs.get(conn);
  if (!known) {
    known = (conn.db ? conn.db.admin().command({ buildInfo: 1 }) : Promise.reject(new Error('not connected'))).then(
      (info) => 'ferretdbVersion' in info,
      () => false,
    );
    ferretDbs.set(conn, known);
  }
  return known;
}

/**
 * A connection's write lane: at most WRITE_LANE_WIDTH of our writes in flight at once. SQLite (FerretDB's
 * backend) has a single writer; writers that collide wait in its busy handler, which sleeps, so 32 parallel
 * point updates took 3× as long as the same 32 in a row here. Reads do not queue.
 */
const WRITE_LANE_WIDTH = 2;
const lanes = new WeakMap<object, WriteLane>();

class WriteLane {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.active >= WRITE_LANE_WIDTH) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await withinWriteDeadline(op);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

function laneOf(conn: object): WriteLane {
  let lane = lanes.get(conn);
  if (!lane) lanes.set(conn, (lane = new WriteLane()));
  return lane;
}

/**
 * How long one write may go unanswered before its caller is told the database is away (WriteStalledError) and
 * its place in the lane or the insert queue is given up. Well past the driver's 10 s server selection, which
 * bounds a write to a server that is merely away; what it cuts off is a write the driver never settles.
 */
let writeDeadlineMs = 20_000;

/** Tests only: a shorter deadline. Returns the one it replaced. */
export function setWriteDeadline(ms: number): number {
  const was = writeDeadlineMs;
  writeDeadlineMs = ms;
  return was;
}

function withinWriteDeadline<T>(op: () => Promise<T>): Promise<T> {
  const ms = writeDeadlineMs;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new WriteStalledError(ms)), ms)));
  return Promise.race([op(), stalled]).finally(() => clearTimeout(timer));
}

/** Runs one write command of this connection in its write lane (see WriteLane). */
export function inWriteLane<T>(conn: Connection, op: () => Promise<T>): Promise<T> {
  return laneOf(conn).run(op);
}

/**
 * Deletes claims older than `olderThanMs`; they only matter while a transition is in flight, and while a
 * caller of compareAndSetFrom may still hold a copy of that age.
 */
export async function pruneClaims(model: Model<unknown>, olderThanMs: number, now = Date.now()): Promise<number> {
  const res = await model.db.collection('cas_claims').deleteMany({ at: { $lt: new Date(now - olderThanMs) } });
  return res.deletedCount;
}

/** The part of a collection handle insertGrouped uses (mongoose's and the driver's both fit). */
interface InsertTarget {
  insertMany(docs: never[], options: { ordered: false }): Promise<unknown>;
  /** mongoose's collection handle names its connection. */
  conn?: object;
}

interface QueuedInsert {
  doc: Record<string, unknown>;
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * A grouped write failed: each caller whose document the server named gets its own error (e.g. its E11000),
 * the others succeeded; with no per-document errors the whole group failed.
 */
function settleFailedGroup(group: ReadonlyArray<{ resolve(): void; reject(e: unknown): void }>, e: unknown): void {
  const writeErrors = (e as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as Array<{ index: number; code?: number; errmsg?: string; message?: string }>;
  if (!list.length) {
    for (const g of group) g.reject(e);
    return;
  }
  const failed = new Map(list.map((w) => [w.index, w]));
  group.forEach((g, i) => {
    const w = failed.get(i);
    if (w) g.reject(Object.assign(new Error(w.errmsg ?? w.message ?? 'write error'), { code: w.code }));
    else g.resolve();
  });
}

const insertQueues = new WeakMap<InsertTarget, { queued: QueuedInsert[]; flushing: boolean }>();
const GROUP_MAX = 256;

/**
 * Inserts one document, grouped with the inserts other callers make into the same collection meanwhile
 * (group commit). The first insert goes at once; while it is in flight the next ones queue and leave
 * together as one unordered `insertMany`, which FerretDB writes in one SQLite transaction (measured here:
 * ~8,000 documents/s in groups against ~300–500/s one by one). Each caller still learns its own outcome:
 * a duplicate key rejects only that document's caller, with the E11000 it would have got alone, and the
 * promise settles only once the server has answered, so "inserted" still means stored.
 */
export function insertGrouped(collection: InsertTarget, doc: Record<string, unknown>): Promise<void> {
  let q = insertQueues.get(collection);
  if (!q) insertQueues.set(collection, (q = { queued: [], flushing: false }));
  const queue = q;
  return new Promise<void>((resolve, reject) => {
    queue.queued.push({ doc, resolve, reject });
    if (!queue.flushing) void flushInserts(collection, queue);
  });
}

async function flushInserts(collection: InsertTarget, q: { queued: QueuedInsert[]; flushing: boolean }): Promise<void> {
  q.flushing = true;
  try {
    while (q.queued.length) {
      const group = q.queued.splice(0, GROUP_MAX);
      try {
        const send = () => collection.insertMany(group.map((g) => g.doc) as never[], { ordered: false });
        await (collection.conn ? laneOf(collection.conn).run(send) : withinWriteDeadline(send));
        for (const g of group) g.resolve();
      } catch (e) {
        settleFailedGroup(group, e);
      }
    }
  } finally {
    q.flushing = false;
  }
}

/**
 * Model.create for one document through insertGrouped: cast, defaults and validation as mongoose does
 * them, timestamps set here. Returns the stored document as a plain object (what `.lean()` would read).
 */
export async function createGrouped<T>(model: Model<T>, doc: Partial<T> & Record<string, unknown>): Promise<T> {
  const d = new model(doc);
  await d.validate();
  const plain = d.toObject({ depopulate: true, virtuals: false }) as Record<string, unknown>;
  if (model.schema.get('timestamps')) {
    const now = new Date();
    plain.createdAt ??= now;
    plain.updatedAt ??= now;
  }
  await insertGrouped(model.collection as unknown as InsertTarget, plain);
  return plain as T;
}
