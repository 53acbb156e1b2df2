import { loadConfig } from '../../app/config';
import { createLogger } from '../../common/log';
import { startService } from '../../app/service';

/**
 * `npm run seed`: loads the demo catalogue and fleet into the configured database (idempotent). It reuses the
 * service's start-up (embedded FerretDB or MONGODB_URI, index creation, seeding) and stops again.
 */
async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, SEED_DEMO: 'true', PORT: '0' });
  const log = createLogger({ level: config.log.level });
  const service = await startService(config, { log });
  const products = await service.models.Product.countDocuments();
  const cabinets = await service.models.Cabinet.countDocuments();
  process.stdout.write(`seeded: ${products} products, ${cabinets} cabinets in ${config.db.name}\n`);
  await service.stop('seed done');
}

main().catch((e: unknown) => {
  process.stderr.write(`seed failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
