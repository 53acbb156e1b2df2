import { loadConfig } from '../../app/config';
import { createLogger } from '../../common/log';
import { startService } from '../../app/service';
import { parseCli, runCli } from '../../common/cli';

const HELP = `Loads the demo catalogue and fleet into the configured database (idempotent), then stops.

  npm run seed

It takes no flags: the database is the service's, from the same environment variables as npm start —
MONGODB_URI (else the embedded FerretDB under DATA_DIR/db), DB_NAME, DATA_DIR (default ./data), SECRETS_KEY.
Exit codes: 0 seeded, 1 the database could not be reached or the seed failed, 2 bad arguments.
`;

/**
 * `npm run seed`: loads the demo catalogue and fleet into the configured database (idempotent). It reuses the
 * service's start-up (embedded FerretDB or MONGODB_URI, index creation, seeding) and stops again.
 */
async function main(): Promise<void> {
  parseCli({ name: 'npm run seed --', help: HELP, options: {} });
  const config = loadConfig({ ...process.env, SEED_DEMO: 'true', PORT: '0' });
  const log = createLogger({ level: config.log.level, format: config.log.format });
  const service = await startService(config, { log });
  const products = await service.models.Product.countDocuments();
  const cabinets = await service.models.Cabinet.countDocuments();
  process.stdout.write(`seeded: ${products} products, ${cabinets} cabinets in ${config.db.name}\n`);
  await service.stop('seed done');
}

runCli('seed failed', main);
