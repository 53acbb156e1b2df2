import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { can, type Principal } from '../contracts/admin-api';
import { restockList, type RestockList } from '../contracts/restock';
import type { Models } from '../store/models';

/**
 * What a restocker brings to a site: every enabled cabinet's lanes at or below par, lane by lane up to
 * capacity, and the van's load summed per product (contracts/restock.ts), from the stock the service keeps
 * (sales, recognition, restock counts). Needs cabinet.restock at the site.
 */
export class RestockService {
  constructor(private readonly d: { models: Pick<Models, 'Cabinet' | 'Product'>; clock: Clock }) {}

  async list(p: Principal, siteId: string): Promise<RestockList> {
    if (!can(p, 'cabinet.restock', siteId)) throw new AppError('FORBIDDEN', `role ${p.role} may not restock at site ${siteId}`, { permission: 'cabinet.restock' });
    const cabinets = await this.d.models.Cabinet.find({ siteId }, { cabinetId: 1, name: 1, siteId: 1, lanes: 1, disabled: 1 }).lean();
    const skus = [...new Set(cabinets.flatMap((c) => c.lanes.map((l) => l.sku)))];
    const products = skus.length ? await this.d.models.Product.find({ sku: { $in: skus } }, { sku: 1, name: 1 }).lean() : [];
    return restockList(siteId, this.d.clock.now(), cabinets, new Map(products.map((x) => [x.sku, x.name])));
  }
}
