import { SimulatedClock } from '../common/clock';
import type { Principal } from '../contracts/admin-api';
import { openTestDb, type TestDb } from '../test/db';
import { CatalogueService } from './catalogue.service';
import { priceLines } from './commerce';

jest.setTimeout(60_000);

const OPERATOR: Principal = { id: 'op-1', name: 'Op', role: 'operator', sites: '*' };
/** An operator of one site: its overrides only (a product, its status and the price for all sites reach every site). */
const SH_OPERATOR: Principal = { id: 'op-sh', name: 'Op SH', role: 'operator', sites: ['sh'] };
const VIEWER: Principal = { id: 'v-1', name: 'V', role: 'viewer', sites: '*' };
const BASE = { name: '汽水', nameEn: 'Soda', brand: '汽', flavour: '原味', packaging: 'can' as const, priceFen: 350 };

describe('catalogue: products, prices on a schedule, audited', () => {
  let db: TestDb;
  let clock: SimulatedClock;
  let cat: CatalogueService;
  let n = 0;
  // A SKU of each test's own (the audit log is append-only: earlier tests' entries stay).
  const sku = () => `SODA-T${n}`;

  beforeAll(async () => {
    db = await openTestDb('catalogue');
    // Overrides are for sites that have cabinets.
    for (const siteId of ['sh', 'bj']) await db.models.Cabinet.collection.insertOne({ _id: `C-${siteId}` as never, cabinetId: `C-${siteId}`, siteId, name: siteId, kind: 'auto', lanes: [] });
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await db.models.Product.deleteMany({});
    n++;
    clock = new SimulatedClock(Date.UTC(2026, 11, 4, 2));
    cat = new CatalogueService({ models: db.models, clock });
  });

  const soda = () => ({ ...BASE, sku: sku() });

  it('creates a product once, audited; a second create of the SKU is CONFLICT and a viewer may not create', async () => {
    const row = await cat.create(OPERATOR, { ...soda(), barcode: '6901234567892' });
    expect(row).toMatchObject({ sku: sku(), status: 'active', priceFen: 350, priceNowFen: 350, barcode: '6901234567892', version: 0 });
    await expect(cat.create(OPERATOR, soda())).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(cat.create(VIEWER, { ...soda(), sku: 'SODA-OTHER' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await db.models.Product.countDocuments({})).toBe(1);
    expect(await db.models.Audit.find({ objectType: 'product', objectId: sku() }).lean()).toEqual([expect.objectContaining({ action: 'product.create', objectId: sku(), actorId: 'op-1', before: null })]);
  });

  it('refuses an edit from a stale version instead of overwriting; a delisting is audited as such', async () => {
    await cat.create(OPERATOR, soda());
    const renamed = await cat.update(OPERATOR, sku(), { nameEn: 'Soda pop', version: 0 });
    expect(renamed).toMatchObject({ nameEn: 'Soda pop', version: 1 });
    await expect(cat.update(OPERATOR, sku(), { name: '旧的', version: 0 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await cat.get(OPERATOR, sku())).name).toBe('汽水');
    await cat.update(OPERATOR, sku(), { status: 'delisted', version: 1 });
    expect(await cat.list(OPERATOR, { status: 'active' })).toEqual([]);
    expect((await db.models.Audit.find({ objectType: 'product', objectId: sku() }).sort({ at: 1 }).lean()).map((a) => a.action)).toEqual(['product.create', 'product.update', 'product.delist']);
    await expect(cat.schedulePrice(OPERATOR, sku(), { priceFen: 300 })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a price change applies from its time: lines priced before it keep the old price, after it the new one; a site override wins there only', async () => {
    await cat.create(OPERATOR, soda());
    const t0 = clock.now();
    const row = await cat.schedulePrice(OPERATOR, sku(), { priceFen: 380, from: t0 + 3_600_000 });
    expect(row).toMatchObject({ priceNowFen: 350, nextChange: { priceFen: 380, from: t0 + 3_600_000, setBy: 'op-1' } });
    await cat.schedulePrice(OPERATOR, sku(), { priceFen: 320, siteId: 'sh' });
    const at = async (siteId: string, t: number) => (await priceLines(db.models, [{ sku: sku(), qty: 2 }], { siteId, at: t })).totalFen;
    expect([await at('bj', t0), await at('bj', t0 + 3_600_000), await at('sh', t0 + 3_600_000)]).toEqual([700, 760, 640]);
    clock.advance(3_600_000);
    expect((await cat.get(OPERATOR, sku())).priceNowFen).toBe(380);
    // Ending the override: back to the price for every site from then.
    await cat.schedulePrice(OPERATOR, sku(), { priceFen: null, siteId: 'sh' });
    expect(await at('sh', clock.now())).toBe(760);
    await expect(cat.schedulePrice(OPERATOR, sku(), { priceFen: 300, from: clock.now() - 3_600_000 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await db.models.Audit.find({ action: 'product.price', objectId: sku() }).lean()).length).toBe(3);
  });

  it('a site-scoped operator sets its own site’s overrides only; the whole fleet’s prices and products need an all-sites account', async () => {
    await cat.create(OPERATOR, soda());
    await expect(cat.create(SH_OPERATOR, { ...soda(), sku: `${sku()}-X` })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(cat.schedulePrice(SH_OPERATOR, sku(), { priceFen: 9999 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(cat.schedulePrice(SH_OPERATOR, sku(), { priceFen: 9999, siteId: 'bj' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(cat.update(SH_OPERATOR, sku(), { status: 'delisted', version: 0 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const own = await cat.schedulePrice(SH_OPERATOR, sku(), { priceFen: 300, siteId: 'sh' });
    expect(own.prices).toEqual([expect.objectContaining({ siteId: 'sh', priceFen: 300, setBy: 'op-sh' })]);
    await cat.schedulePrice(OPERATOR, sku(), { priceFen: 290, siteId: 'bj' });
    // Another site's override is not shown to the Shanghai operator; an all-sites account sees both.
    expect((await cat.get(SH_OPERATOR, sku())).prices.map((c) => c.siteId)).toEqual(['sh']);
    expect((await cat.get(OPERATOR, sku())).prices.map((c) => c.siteId).sort()).toEqual(['bj', 'sh']);
    expect(await priceLines(db.models, [{ sku: sku(), qty: 1 }], { siteId: 'bj', at: clock.now() })).toMatchObject({ totalFen: 290 });
    // An override for a site with no cabinets would apply nowhere: refused.
    await expect(cat.schedulePrice(OPERATOR, sku(), { priceFen: 100, siteId: 'no-such-site' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('stores a change as starting no earlier than now, and no more than a year ahead', async () => {
    await cat.create(OPERATOR, soda());
    const row = await cat.schedulePrice(OPERATOR, sku(), { priceFen: 360, from: clock.now() - 30_000 });
    expect(row.prices[0]!.from).toBe(clock.now());
    await expect(cat.schedulePrice(OPERATOR, sku(), { priceFen: 360, from: 9e15 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('finds products by part of the SKU, a name or the brand', async () => {
    await cat.create(OPERATOR, soda());
    await cat.create(OPERATOR, { ...soda(), sku: 'CHIP-TEST', name: '薯片', nameEn: 'Chips', brand: '脆', packaging: 'bag' });
    expect((await cat.list(VIEWER, { q: 'chip' })).map((p) => p.sku)).toEqual(['CHIP-TEST']);
    expect((await cat.list(VIEWER, { q: '汽' })).map((p) => p.sku)).toEqual([sku()]);
    expect((await cat.list(VIEWER)).map((p) => p.sku)).toEqual(['CHIP-TEST', sku()]);
  });
});
