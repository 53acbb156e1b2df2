import { Types } from 'mongoose';
import { openTestDb, type TestDb } from '../test/db';
import { NaturalKeys } from './natural-keys';

describe('natural keys on a real FerretDB', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('natural_keys');
  });
  afterAll(() => db.close());

  const order = (orderId: string) => ({ orderId, outTradeNo: `CF-${orderId}`, shopperId: 'S1', cabinetId: 'C1', siteId: 'site', flow: 'open' as const, source: 'cart' as const, totalFen: 350, status: 'draft' as const });

  it('reads by _id alone while no ObjectId-keyed documents exist (one probe, then point reads)', async () => {
    await db.models.Order.create(order('O-1'));
    const keys = new NaturalKeys();
    const filters: string[] = [];
    db.conn.set('debug', (collection: string, method: string, filter: unknown) => void (collection === 'orders' && filters.push(`${method} ${JSON.stringify(filter)}`)));
    try {
      expect(await keys.findOne(db.models.Order, 'O-1', { orderId: 'O-1' }, { status: 1 })).toMatchObject({ status: 'draft' });
      expect(await keys.findOne(db.models.Order, 'O-NONE', { orderId: 'O-NONE' })).toBeNull();
      expect(await keys.findOne(db.models.Order, 'O-NONE', { orderId: 'O-NONE' })).toBeNull();
    } finally {
      db.conn.set('debug', false);
    }
    expect(filters.filter((f) => f.includes('orderId'))).toEqual([]);
    expect(filters.filter((f) => f.includes('objectId'))).toHaveLength(1); // asked once
  });

  it('finds an ObjectId-keyed document by its fields once such documents exist', async () => {
    await db.models.Order.collection.insertOne({ ...order('O-OLD'), _id: new Types.ObjectId(), version: 0 } as never);
    const keys = new NaturalKeys();
    expect(await keys.findOne(db.models.Order, 'O-OLD', { orderId: 'O-OLD' })).toMatchObject({ orderId: 'O-OLD' });
    expect(await keys.findOne(db.models.Order, 'O-1', { orderId: 'O-1' })).toMatchObject({ orderId: 'O-1' });
  });
});
