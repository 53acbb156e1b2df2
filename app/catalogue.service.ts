import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { can, inScope, type Principal } from '../contracts/admin-api';
import type { CreateProductRequest, ProductRow, ProductsQuery, SchedulePriceRequest, UpdateProductRequest } from '../contracts/catalogue-api';
import { CreateProductRequest as CreateSchema } from '../contracts/catalogue-api';
import type { ProductSpec } from '../contracts/domain';
import { nextChange, priceAt, type PriceChange } from '../contracts/pricing';
import { compareAndSetFrom } from '../store/cas';
import { isDuplicateKey } from '../store/connection';
import type { Models } from '../store/models';
import type { ProductDoc } from '../store/models/catalogue';

/** The principal the demo seed acts as (SEED_DEMO): its products pass the same checks as an operator's. */
export const SEED_PRINCIPAL: Principal = { id: 'seed', name: 'demo seed', role: 'admin', sites: '*' };

/** The store's products as the recogniser takes them (SKU, brand family, package look), delisted ones included: a delisted product may still be in a cabinet. */
export async function catalogueForRecognition(models: Pick<Models, 'Product'>): Promise<ProductSpec[]> {
  const docs = await models.Product.find({}, { sku: 1, name: 1, nameEn: 1, brand: 1, flavour: 1, packaging: 1, priceFen: 1, colour: 1, accent: 1 }).lean<ProductDoc[]>();
  return docs.map((d) => ({ sku: d.sku, name: d.name, nameEn: d.nameEn, brand: d.brand, flavour: d.flavour, packaging: d.packaging, priceFen: d.priceFen, colour: d.colour ?? '#808080', accent: d.accent ?? '#ffffff' }));
}

/** How far ahead a price change may be scheduled. */
const MAX_AHEAD_MS = 366 * 86_400_000;

const PRODUCT_FIELDS = ['name', 'nameEn', 'brand', 'flavour', 'barcode', 'status'] as const;

/**
 * The catalogue: products (SKU, names, brand family, list price in integer fen, barcode, active or
 * delisted) and their price schedule: a change applies from a time, for every site or as one site's
 * override (contracts/pricing.ts says which price stands when). A change never reaches back: `from` is now
 * or later, so a visit already priced keeps its price and its receipt. Every change is a compare-and-set on
 * the product's version (a change made meanwhile is refused, not overwritten) and is audited.
 */
export class CatalogueService {
  constructor(private readonly d: { models: Pick<Models, 'Product' | 'Audit' | 'Cabinet'>; clock: Clock }) {}

  async list(p: Principal, q: ProductsQuery = {}): Promise<ProductRow[]> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not view the catalogue`);
    const docs = await this.d.models.Product.find({}).lean<ProductDoc[]>();
    const needle = q.q?.toLowerCase();
    return docs
      .filter((d) => (q.status === undefined || (d.active !== false ? 'active' : 'delisted') === q.status) && (!needle || [d.sku, d.name, d.nameEn, d.brand].some((s) => s.toLowerCase().includes(needle))))
      .sort((a, b) => a.sku.localeCompare(b.sku))
      .map((d) => this.row(d, p));
  }

  async get(p: Principal, sku: string): Promise<ProductRow> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not view the catalogue`);
    return this.row(await this.load(sku), p);
  }

  async create(p: Principal, req: CreateProductRequest, opts: { audit?: boolean } = {}): Promise<ProductRow> {
    this.mayEdit(p, undefined);
    const r = CreateSchema.parse(req);
    const doc: ProductDoc = { sku: r.sku, name: r.name, nameEn: r.nameEn, brand: r.brand, flavour: r.flavour, packaging: r.packaging, priceFen: r.priceFen, colour: r.colour, accent: r.accent, active: true, version: 0, ...(r.barcode ? { barcode: r.barcode } : {}) };
    try {
      await this.d.models.Product.create(doc);
    } catch (e) {
      if (isDuplicateKey(e)) throw new AppError('CONFLICT', `product ${r.sku} exists already`, { sku: r.sku });
      throw e;
    }
    if (opts.audit !== false) await this.audit(p, 'product.create', r.sku, null, this.shown(doc));
    return this.get(p, r.sku);
  }

  /**
   * Creates the product unless its SKU exists; true when created. The demo seed's (idempotent across
   * restarts), not audited: loading sample data at installation is nobody's action on the catalogue.
   */
  async ensure(p: Principal, req: CreateProductRequest): Promise<boolean> {
    try {
      await this.create(p, req, { audit: false });
      return true;
    } catch (e) {
      if (e instanceof AppError && e.code === 'CONFLICT') return false;
      throw e;
    }
  }

  async update(p: Principal, sku: string, req: UpdateProductRequest): Promise<ProductRow> {
    this.mayEdit(p, undefined);
    const before = await this.load(sku);
    const set: Record<string, unknown> = {};
    const unset: string[] = [];
    if (req.name !== undefined) set.name = req.name;
    if (req.nameEn !== undefined) set.nameEn = req.nameEn;
    if (req.brand !== undefined) set.brand = req.brand;
    if (req.flavour !== undefined) set.flavour = req.flavour;
    if (req.barcode === null) unset.push('barcode');
    else if (req.barcode !== undefined) set.barcode = req.barcode;
    if (req.status !== undefined) set.active = req.status === 'active';
    const after = await this.write(before, req.version, set, unset);
    await this.audit(p, req.status === 'delisted' && before.active !== false ? 'product.delist' : 'product.update', sku, this.shown(before), this.shown(after));
    return this.row(after, p);
  }

  async schedulePrice(p: Principal, sku: string, req: SchedulePriceRequest): Promise<ProductRow> {
    this.mayEdit(p, req.siteId);
    const now = this.d.clock.now();
    // A minute's grace for clocks that differ (a console's "now"), but what is stored is never before now:
    // a change that reached back would re-price visits whose door already closed.
    if (req.from !== undefined && req.from < now - 60_000) throw new AppError('BAD_REQUEST', 'a price change cannot start in the past: visits already priced keep their price', { from: req.from, now });
    if (req.from !== undefined && req.from > now + MAX_AHEAD_MS) throw new AppError('BAD_REQUEST', 'a price change can be scheduled at most a year ahead', { from: req.from });
    const from = Math.max(req.from ?? now, now);
    if (req.priceFen === null && req.siteId === undefined) throw new AppError('BAD_REQUEST', 'priceFen null ends a site override: name the siteId');
    if (req.siteId !== undefined && !(await this.d.models.Cabinet.exists({ siteId: req.siteId }))) throw new AppError('NOT_FOUND', `no cabinets at site ${req.siteId}: an override there would apply nowhere`, { siteId: req.siteId });
    const before = await this.load(sku);
    if (before.active === false) throw new AppError('CONFLICT', `product ${sku} is delisted`);
    const change: PriceChange = { priceFen: req.priceFen, from, setBy: p.id, setAt: now, ...(req.siteId ? { siteId: req.siteId } : {}) };
    const after = await this.write(before, before.version ?? 0, { prices: [...(before.prices ?? []), change] }, []);
    await this.audit(p, 'product.price', sku, { priceNowFen: priceAt(before, req.siteId, from) }, { priceFen: req.priceFen, from: new Date(from).toISOString(), ...(req.siteId ? { siteId: req.siteId } : { sites: 'all' }) }, req.siteId);
    return this.row(after, p);
  }

  /**
   * catalogue.edit, and the sites the change reaches: a product, its names, its status and a price for every
   * site concern the whole fleet (sites '*'); a site's override only that site.
   */
  private mayEdit(p: Principal, siteId: string | undefined): void {
    if (!can(p, 'catalogue.edit')) throw new AppError('FORBIDDEN', `role ${p.role} may not change the catalogue`, { permission: 'catalogue.edit' });
    if (siteId === undefined ? p.sites !== '*' : !inScope(p, siteId)) throw new AppError('FORBIDDEN', siteId === undefined ? 'this change reaches every site: it needs an account for all sites (a site-scoped account may set its sites’ overrides)' : `you may not set prices at site ${siteId}`, { permission: 'catalogue.edit', ...(siteId ? { siteId } : {}) });
  }

  private async load(sku: string): Promise<ProductDoc> {
    const doc = await this.d.models.Product.findOne({ sku }).lean<ProductDoc>();
    if (!doc) throw new AppError('NOT_FOUND', `no product ${sku}`);
    return doc;
  }

  private async write(before: ProductDoc, version: number, set: Record<string, unknown>, unset: string[]): Promise<ProductDoc> {
    // A product stored before products were versioned is given version 0 first (MongoDB's version guard would not match it).
    if (before.version === undefined) await this.d.models.Product.updateOne({ _id: before._id, version: { $exists: false } } as never, { $set: { version: 0 } });
    if ((before.version ?? 0) !== version) throw new AppError('CONFLICT', `product ${before.sku} was changed meanwhile (version ${before.version ?? 0}, not ${version}): reload it`);
    if (!(await compareAndSetFrom(this.d.models.Product as never, { _id: before._id, version }, set, unset.length ? { unset } : {}))) throw new AppError('CONFLICT', `product ${before.sku} was changed meanwhile: reload it`);
    return this.load(before.sku);
  }

  /** A product as `p` may see it: overrides of sites outside its scope are left out. */
  private row(d: ProductDoc, p: Principal): ProductRow {
    const now = this.d.clock.now();
    const next = nextChange(d, undefined, now);
    return {
      sku: d.sku,
      name: d.name,
      nameEn: d.nameEn,
      brand: d.brand,
      flavour: d.flavour,
      packaging: d.packaging,
      ...(d.barcode ? { barcode: d.barcode } : {}),
      status: d.active !== false ? 'active' : 'delisted',
      priceFen: d.priceFen,
      priceNowFen: priceAt(d, undefined, now),
      ...(next ? { nextChange: next } : {}),
      prices: (d.prices ?? []).filter((c) => c.siteId === undefined || inScope(p, c.siteId)).sort((a, b) => a.from - b.from),
      colour: d.colour ?? '#808080',
      accent: d.accent ?? '#ffffff',
      version: d.version ?? 0,
    };
  }

  private shown(d: ProductDoc): Record<string, unknown> {
    return { ...Object.fromEntries(PRODUCT_FIELDS.filter((k) => k !== 'status').map((k) => [k, (d as unknown as Record<string, unknown>)[k] ?? null])), status: d.active !== false ? 'active' : 'delisted', priceFen: d.priceFen };
  }

  private async audit(p: Principal, action: string, sku: string, before: unknown, after: unknown, siteId?: string): Promise<void> {
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action, objectType: 'product', objectId: sku, ...(siteId ? { siteId } : {}), before, after });
  }
}
