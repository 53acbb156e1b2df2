import { join, resolve } from 'node:path';
import { loadConfig } from '../../app/config';
import { CliError, parseCli, runCli } from '../../common/cli';
import { auditMoney } from '../../payments/ledger/money.audit';
import { connectDatabase } from '../../store/connection';
import { startFerretDb, type FerretDbHandle } from '../../store/ferretdb';
import { createModels } from '../../store/models';

/**
 * `npm run money:audit [-- --emulator-url http://127.0.0.1:8090]`: checks every shopper's and order's money
 * on the configured database (MONGODB_URI, else the embedded FerretDB under DATA_DIR) and, in sandbox, our
 * ledger against the WeChat emulator's (`--emulator-url` or WECHAT_EMULATOR_URL). Prints every difference;
 * exits 1 when there is one.
 */
const NAME = 'npm run money:audit --';
const HELP = `Checks every shopper's and order's money on the configured database and prints every difference.

usage: npm run money:audit [-- --emulator-url http://127.0.0.1:8090]

  --emulator-url URL   also compare our ledger with the WeChat emulator's (default: WECHAT_EMULATOR_URL)
  -h, --help           this text

environment: MONGODB_URI (else the embedded FerretDB under DATA_DIR, default ./data), WECHAT_EMULATOR_URL.
checks: paid − refunded = the decided value of what was taken; each debt backed by a decision or a failed
charge; no order paid twice; our ledger equals WeChat's side (sandbox: the emulator; live: the trade bill).
exit: 0 clean, 1 differences found (each printed as check, subject, detail), 2 bad arguments or the audit
could not run.`;

async function main(): Promise<void> {
  const { values } = parseCli({ name: NAME, help: HELP, options: { 'emulator-url': { type: 'string' } } });
  const config = loadConfig({ ...process.env, PORT: '0', SEED_DEMO: 'false' });
  let ferret: FerretDbHandle | undefined;
  let uri = config.db.uri;
  if (!uri) {
    ferret = await startFerretDb({ dataDir: join(resolve(config.dataDir), 'db'), bin: config.db.ferretdbBin });
    uri = ferret.uri;
  }
  const conn = await connectDatabase(uri, config.db.name);
  try {
    const emulatorUrl = values['emulator-url'] ?? config.wechat.emulatorUrl;
    const report = await auditMoney(createModels(conn), emulatorUrl ? { emulatorUrl } : {});
    for (const p of report.problems) process.stdout.write(`${p.check}\t${p.subject}\t${p.detail}\n`);
    process.stdout.write(`money audit: ${report.orders} orders, ${report.ledgerEntries} ledger entries, WeChat side ${report.comparedWithWechat ? 'compared' : 'not compared (no emulator URL; live: see the daily reconciliation)'}; ${report.problems.length} differences\n`);
    process.exitCode = report.problems.length ? 1 : 0;
  } finally {
    await conn.close();
    await ferret?.stop();
  }
}

// An audit that could not run is exit 2, never 1 ("differences found").
runCli('money audit', () => main().catch((e: unknown) => Promise.reject(e instanceof CliError ? e : new CliError(`could not run: ${e instanceof Error ? e.message : String(e)}`, 2))));
