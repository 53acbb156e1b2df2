import { systemClock } from '../common/clock';
import type { Logger } from '../common/log';
import { newDeviceSecret, type SecretBox } from '../common/sealing';
import type { CabinetSpec, ProductSpec } from '../contracts/domain';
import type { Models } from '../store/models';
import { DEMO_CATALOGUE, DEMO_FLEET } from '../contracts/demo-data';
import { CatalogueService, SEED_PRINCIPAL } from './catalogue.service';

export interface SeedResult {
  products: number;
  cabinets: number;
  /** Device secrets of the cabinets created by this run (cabinetId → secret); empty when nothing was created. */
  secrets: Record<string, string>;
}

/**
 * Loads the demo catalogue and fleet into an empty database. The products go in through the catalogue service,
 * as an operator's would (audited as the demo seed). Idempotent: SKUs and cabinets that exist are left alone,
 * so running it twice (or on a database that already has real data) changes nothing.
 */
export async function seedDemo(
  models: Models,
  box: SecretBox,
  log: Logger,
  data: { catalogue: ProductSpec[]; fleet: CabinetSpec[] } = { catalogue: DEMO_CATALOGUE, fleet: DEMO_FLEET },
): Promise<SeedResult> {
  const result: SeedResult = { products: 0, cabinets: 0, secrets: {} };
  const catalogue = new CatalogueService({ models, clock: systemClock });
  for (const p of data.catalogue) if (await catalogue.ensure(SEED_PRINCIPAL, p)) result.products += 1;
  for (const c of data.fleet) {
    if (await models.Cabinet.exists({ cabinetId: c.cabinetId })) continue;
    const secret = newDeviceSecret();
    await models.Cabinet.create({ ...c, secret: box.seal(secret, `cabinet:${c.cabinetId}`), disabled: false });
    result.cabinets += 1;
    result.secrets[c.cabinetId] = secret;
  }
  if (result.products || result.cabinets) log.info({ products: result.products, cabinets: result.cabinets }, 'demo data seeded');
  return result;
}
