import { Types } from 'mongoose';
import { openTestDb, type TestDb } from '../test/db';
import { shopperIdFor } from './models/people';
import { findShopperByOpenid } from './shoppers';

describe('shoppers keyed by an id derived from their openid', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('shoppers');
  });
  afterAll(() => db.close());

  it('stores a new shopper under _id = shopperId and finds it by openid with one point read', async () => {
    const openid = 'o-derived-1';
    await db.models.Shopper.create({ shopperId: shopperIdFor(openid), openid });
    expect(await db.models.Shopper.collection.findOne({ _id: shopperIdFor(openid) as never })).toMatchObject({ openid });
    const filters: string[] = [];
    db.conn.set('debug', (collection: string, _m: string, filter: unknown) => void (collection === 'shoppers' && filters.push(JSON.stringify(filter))));
    try {
      expect(await findShopperByOpenid(db.models, openid)).toMatchObject({ shopperId: shopperIdFor(openid) });
    } finally {
      db.conn.set('debug', false);
    }
    expect(filters).toEqual([JSON.stringify({ _id: shopperIdFor(openid) })]);
  });

  it('still finds shoppers stored with an ObjectId or seeded with an id of their own', async () => {
    await db.models.Shopper.collection.insertOne({ _id: new Types.ObjectId(), shopperId: 'S-old', openid: 'o-old', createdVia: 'miniprogram', blocked: false } as never);
    await db.models.Shopper.create({ shopperId: 'S-seeded', openid: 'o-seeded', createdVia: 'seed' });
    expect(await findShopperByOpenid(db.models, 'o-old')).toMatchObject({ shopperId: 'S-old' });
    expect(await findShopperByOpenid(db.models, 'o-seeded')).toMatchObject({ shopperId: 'S-seeded' });
    expect(await findShopperByOpenid(db.models, 'o-nobody')).toBeNull();
  });
});
