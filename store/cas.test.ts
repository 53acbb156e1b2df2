import { openTestDb, type TestDb } from '../test/db';
import { compareAndSet, compareAndSetFrom, createGrouped, insertGrouped, setWriteDeadline } from './cas';
import { isDatabaseOutage, isDuplicateKey } from './connection';

describe('compare-and-set and grouped inserts on a real FerretDB', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('cas');
  });
  afterAll(async () => {
    await db.close();
  });

  const payment = (no: string, status: 'pending' | 'created' = 'pending') => ({ _id: no, outTradeNo: no, orderId: `o-${no}`, shopperId: 's1', channel: 'papay' as const, amountFen: 500, status });

  it('groups concurrent inserts into few commands, and rejects only the duplicates, each with E11000', async () => {
    const coll = db.conn.collection('grouped');
    await coll.insertOne({ _id: 'taken-3' as never });
    let commands = 0;
    const target = {
      insertMany: (docs: never[], o: { ordered: false }) => {
        commands++;
        return coll.insertMany(docs, o);
      },
    };
    const ids = Array.from({ length: 60 }, (_, i) => (i % 20 === 3 ? 'taken-3' : `g-${i}`));
    const outcomes = await Promise.allSettled(ids.map((id) => insertGrouped(target, { _id: id, n: 1 })));
    const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[ids[i], isDuplicateKey(o.reason)]] : []));
    expect(rejected).toEqual([
      ['taken-3', true],
      ['taken-3', true],
      ['taken-3', true],
    ]);
    expect(await coll.countDocuments({ n: 1 })).toBe(57);
    // The first insert leaves alone; the rest queue behind it.
    expect(commands).toBeLessThanOrEqual(3);
  });

  it('createGrouped stores what Model.create would (defaults, validation, timestamps)', async () => {
    const p = await createGrouped(db.models.Payment, payment('CF-grouped'));
    const stored = await db.models.Payment.findOne({ _id: 'CF-grouped' }).lean();
    expect(stored).toMatchObject({ outTradeNo: 'CF-grouped', version: 0, attempts: 0, status: 'pending' });
    expect((stored as { createdAt?: Date }).createdAt).toBeInstanceOf(Date);
    expect(p.version).toBe(0);
    await expect(createGrouped(db.models.Payment, { ...payment('CF-bad'), amountFen: 1.5 })).rejects.toThrow(/integer/);
    expect(isDuplicateKey(await createGrouped(db.models.Payment, payment('CF-grouped')).catch((e: unknown) => e))).toBe(true);
  });

  it('checks the fields beside _id itself, and lets exactly one of two racing writers win', async () => {
    await db.models.Payment.create(payment('CF-id'));
    expect(await compareAndSet(db.models.Payment, { _id: 'CF-id', status: 'created' }, { status: 'failed' })).toBe(false);
    expect((await db.models.Payment.findOne({ _id: 'CF-id' }).lean())?.version).toBe(0);
    for (let round = 0; round < 20; round++) {
      const no = `CF-idrace-${round}`;
      await db.models.Payment.create(payment(no));
      const results = await Promise.all([
        compareAndSet(db.models.Payment, { _id: no, status: 'pending' }, { status: 'succeeded', transactionId: 'A' }),
        compareAndSet(db.models.Payment, { _id: no, status: 'pending' }, { status: 'failed', failureCode: 'B' }),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const doc = await db.models.Payment.findOne({ _id: no }).lean();
      expect(doc?.status).toBe(results[0] ? 'succeeded' : 'failed');
      expect(doc?.version).toBe(1);
    }
  });

  it('leaves a filter on an array field to the server (an element matches)', async () => {
    await db.conn.collection('cabinets').insertOne({ _id: 'CAB-A' as never, cabinetId: 'CAB-A', cameras: ['top', 'side'], version: 0 });
    expect(await compareAndSet(db.models.Cabinet, { _id: 'CAB-A', cameras: 'side' }, { name: 'renamed' })).toBe(true);
    expect((await db.models.Cabinet.findOne({ _id: 'CAB-A' }).lean())?.name).toBe('renamed');
  });

  it('moves a document from a held copy without reading it, and refuses a stale copy', async () => {
    const held = (await db.models.Payment.create(payment('CF-held'))).toObject();
    expect(await compareAndSetFrom(db.models.Payment, held, { status: 'unknown' })).toBe(true);
    // The same copy again is stale now: its version was claimed.
    expect(await compareAndSetFrom(db.models.Payment, held, { status: 'failed' })).toBe(false);
    const now = await db.models.Payment.findOne({ _id: 'CF-held' }).lean();
    expect(now).toMatchObject({ status: 'unknown', version: 1 });
    expect(await compareAndSetFrom(db.models.Payment, now!, { status: 'succeeded' })).toBe(true);
    expect(await db.models.Payment.findOne({ _id: 'CF-held' }).lean()).toMatchObject({ status: 'succeeded', version: 2 });
  });
});

describe('a write the driver never settles', () => {
  it('is refused as an outage at the write deadline, and the inserts queued behind it go through', async () => {
    // Found by e2e/db-crash (SIGKILL): the driver never settled a grouped
    // frame insert; the queue stayed "flushing" and no resend was ever acknowledged.
    const was = setWriteDeadline(300);
    try {
      const stored: unknown[] = [];
      let calls = 0;
      const target = {
        conn: {},
        insertMany: (docs: never[]) => (++calls === 1 ? new Promise(() => undefined) : (stored.push(...docs), Promise.resolve())),
      };
      const first = insertGrouped(target, { _id: 'f0' });
      const behind = insertGrouped(target, { _id: 'f1' }); // queued while the first is in flight
      await expect(first).rejects.toMatchObject({ name: 'WriteStalledError' });
      expect(isDatabaseOutage(await first.catch((e: unknown) => e))).toBe(true);
      await expect(behind).resolves.toBeUndefined();
      await expect(insertGrouped(target, { _id: 'f0' })).resolves.toBeUndefined(); // the resend
      expect(stored).toEqual([{ _id: 'f1' }, { _id: 'f0' }]);
    } finally {
      setWriteDeadline(was);
    }
  });
});
