import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openTestDb, type TestDb } from '../../test/db';
import { compareAndSet } from '../cas';
import { asBuffer, connectDatabase, isDuplicateKey } from '../connection';
import { startFerretDb } from '../ferretdb';
import { createModels, ensureIndexes } from '.';

describe('models on a real FerretDB', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('models');
  });
  afterAll(async () => {
    await db.close();
  });

  it('refuses a second order with the same merchant order number (E11000)', async () => {
    const base = { shopperId: 's1', cabinetId: 'c1', siteId: 'site', flow: 'auto', source: 'recognition', totalFen: 350, status: 'draft' } as const;
    await db.models.Order.create({ ...base, orderId: 'o1', outTradeNo: 'CF-o1' });
    const err = await db.models.Order.create({ ...base, orderId: 'o2', outTradeNo: 'CF-o1' }).catch((e: unknown) => e);
    expect(isDuplicateKey(err)).toBe(true);
    expect(await db.models.Order.countDocuments({ outTradeNo: 'CF-o1' })).toBe(1);
  });

  it('lets exactly one of many concurrent inserts of one merchant order number land', async () => {
    const base = { shopperId: 's1', cabinetId: 'c1', siteId: 'site', flow: 'auto', source: 'recognition', totalFen: 350, status: 'draft' } as const;
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => db.models.Order.create({ ...base, orderId: `oc${i}`, outTradeNo: 'CF-concurrent' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected' && isDuplicateKey(o.reason))).toHaveLength(9);
  });

  it('lets exactly one of two concurrent compare-and-set writers win', async () => {
    for (let round = 0; round < 20; round++) {
      const no = `CF-race-${round}`;
      await db.models.Payment.create({ outTradeNo: no, orderId: `o-${round}`, shopperId: 's1', channel: 'papay', amountFen: 500, status: 'pending' });
      const results = await Promise.all([
        compareAndSet(db.models.Payment, { outTradeNo: no, status: 'pending' }, { status: 'succeeded', transactionId: 'A' }),
        compareAndSet(db.models.Payment, { outTradeNo: no, status: 'pending' }, { status: 'failed', failureCode: 'B' }),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const doc = await db.models.Payment.findOne({ outTradeNo: no }).lean();
      expect(doc?.status).toBe(results[0] ? 'succeeded' : 'failed');
      expect(doc?.version).toBe(1);
    }
  });

  it('finishes a transition whose winner died between claim and update', async () => {
    await db.models.Payment.create({ outTradeNo: 'CF-dead', orderId: 'o-dead', shopperId: 's1', channel: 'papay', amountFen: 500, status: 'pending' });
    const doc = await db.models.Payment.findOne({ outTradeNo: 'CF-dead' }).lean();
    // The dead winner's claim, as compareAndSet writes it, with no update applied after it.
    const { EJSON } = (await import('mongoose')).default.mongo.BSON;
    await db.conn.collection('cas_claims').insertOne({
      _id: `payments:${String(doc!._id)}:0` as never,
      update: EJSON.stringify({ $set: { status: 'succeeded', version: 1 } }, { relaxed: false }),
      at: new Date(),
    });
    expect(await compareAndSet(db.models.Payment, { outTradeNo: 'CF-dead', status: 'pending' }, { status: 'failed' })).toBe(false);
    expect((await db.models.Payment.findOne({ outTradeNo: 'CF-dead' }).lean())?.status).toBe('succeeded');
    // And the document moves on normally from there.
    expect(await compareAndSet(db.models.Payment, { outTradeNo: 'CF-dead', status: 'succeeded' }, { status: 'closed' })).toBe(true);
  });

  it('allows one open visit per door and frees the door when the visit ends', async () => {
    const v = (visitId: string) => ({
      visitId,
      cabinetId: 'c9',
      siteId: 'site',
      purpose: 'shopping' as const,
      status: 'unlocking' as const,
      doorLock: 'c9/main',
      unlockRequestedAt: new Date(),
      unlockExpiresAt: new Date(),
    });
    await db.models.Visit.create(v('v1'));
    expect(isDuplicateKey(await db.models.Visit.create(v('v2')).catch((e: unknown) => e))).toBe(true);
    expect(await compareAndSet(db.models.Visit, { visitId: 'v1', status: 'unlocking' }, { status: 'relocked' }, { unset: ['doorLock'] })).toBe(true);
    await db.models.Visit.create(v('v2'));
    // Two finished visits (no doorLock) on the same door do not collide.
    await compareAndSet(db.models.Visit, { visitId: 'v2' }, { status: 'complete' }, { unset: ['doorLock'] });
    await db.models.Visit.create({ ...v('v3'), doorLock: undefined });
    await db.models.Visit.create({ ...v('v4'), doorLock: undefined });
    expect(await db.models.Visit.countDocuments({ cabinetId: 'c9' })).toBe(4);
  });

  it('stores a frame once however often it is resent', async () => {
    const f = { visitId: 'v1', camera: 'top', seq: 0, phase: 'before' as const, ts: new Date(), jpeg: Buffer.from([0xff, 0xd8, 1, 2]), bytes: 4 };
    await db.models.Frame.create(f);
    expect(isDuplicateKey(await db.models.Frame.create(f).catch((e: unknown) => e))).toBe(true);
    const stored = await db.models.Frame.findOne({ visitId: 'v1' }).lean();
    expect(asBuffer(stored!.jpeg).equals(f.jpeg)).toBe(true);
    expect(await db.models.Frame.countDocuments({ visitId: 'v1' })).toBe(1);
  });

  it('rejects fractional fen', async () => {
    const err = await db.models.Product.create({ sku: 'X-1', name: 'x', nameEn: 'x', brand: 'b', flavour: 'f', packaging: 'can', priceFen: 3.5 }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/integer/);
  });

  it('masks the phone number whenever a shopper is serialised', async () => {
    const s = await db.models.Shopper.create({ shopperId: 'sh1', openid: 'o-1', phone: '13812345678' });
    expect(JSON.stringify(s)).not.toContain('13812345678');
    expect(s.toJSON().phone).toBe('138****5678');
    expect((await db.models.Shopper.findOne({ shopperId: 'sh1' }))?.phone).toBe('13812345678');
  });

  it('keeps the audit log append-only', async () => {
    const row = await db.models.Audit.create({ at: new Date(), actorId: 'op1', actorRole: 'operator', action: 'refund', objectType: 'order', objectId: 'o1', before: { a: 1 }, after: { a: 2 } });
    await expect(db.models.Audit.updateOne({ _id: row._id }, { $set: { action: 'x' } })).rejects.toThrow(/append-only/);
    await expect(db.models.Audit.deleteOne({ _id: row._id })).rejects.toThrow(/append-only/);
    row.action = 'tampered';
    await expect(row.save()).rejects.toThrow(/append-only/);
    expect((await db.models.Audit.findById(row._id).lean())?.action).toBe('refund');
  });
});

describe('FerretDB data directory', () => {
  it('keeps data across a restart of the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-restart-'));
    try {
      const first = await startFerretDb({ dataDir: dir });
      let conn = await connectDatabase(first.uri, 'persist');
      let models = createModels(conn);
      await ensureIndexes(models);
      await models.Product.create({ sku: 'KEEP-1', name: '留', nameEn: 'Keep', brand: 'b', flavour: 'f', packaging: 'box', priceFen: 100 });
      await conn.close();
      await first.stop();

      const second = await startFerretDb({ dataDir: dir });
      conn = await connectDatabase(second.uri, 'persist');
      models = createModels(conn);
      expect((await models.Product.findOne({ sku: 'KEEP-1' }).lean())?.priceFen).toBe(100);
      // The unique index survived too.
      expect(isDuplicateKey(await models.Product.create({ sku: 'KEEP-1', name: 'x', nameEn: 'x', brand: 'b', flavour: 'f', packaging: 'box', priceFen: 1 }).catch((e: unknown) => e))).toBe(true);
      await conn.close();
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FerretDB launcher', () => {
  // Found as the SIGSTOP flake of e2e/db-crash.e2e.test.ts beside a second `npm test` (/readyz 200 with the
  // service's FerretDB stopped): the launcher took "something answers on the port" for its own process being
  // ready, and a port picked beforehand can be another database's by then.
  it('never takes another listener on its port for the database it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-taken-'));
    const foreign = createServer((s) => s.destroy());
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const port = (foreign.address() as AddressInfo).port;
    try {
      await expect(startFerretDb({ dataDir: dir, port })).rejects.toThrow(/did not start on port/);
    } finally {
      foreign.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a port, runs on the port the kernel gave it and says which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-port0-'));
    try {
      const db = await startFerretDb({ dataDir: dir });
      expect(db.port).toBeGreaterThan(0);
      expect(db.uri).toBe(`mongodb://127.0.0.1:${db.port}/`);
      const conn = await connectDatabase(db.uri, 'port0');
      expect(await conn.db!.admin().command({ ping: 1 })).toMatchObject({ ok: 1 });
      await conn.close();
      await db.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
