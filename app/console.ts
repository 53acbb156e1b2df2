import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { map } from 'rxjs';
import type { Fleet } from '../actors/fleet/fleet';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import type { Metrics } from '../common/metrics';
import { generatePassword } from '../common/password';
import { attachAdminFeed } from '../gateways/admin/admin-socket';
import { FeedHub } from '../gateways/admin/feed-hub';
import type { SocketServer } from '../gateways/device/socket-server';
import { registerConsolePage, registerConsoleRoutes } from '../gateways/http/console.routes';
import { anyOf, bootstrapAuthenticator, type OperatorAuthenticator } from '../gateways/http/operator-auth';
import type { Models } from '../store/models';
import { httpWebhookSender } from '../gateways/webhook/http-webhook';
import { AccountService, DEMO_ACCOUNTS } from './accounts.service';
import { AlarmNotifier, type WebhookSender } from './alarm-notifier';
import { AlarmCentre } from './alarms.service';
import { AttentionService } from './attention.service';
import { SiteService } from './sites.service';
import { ConsoleService, visitRow } from './console.service';

/** Where `npm run build:admin` (run by setup) puts the built page. */
export const CONSOLE_DIST = resolve(__dirname, '..', 'web-admin', 'dist');
export const DEMO_ACCOUNTS_FILE = 'console-accounts.json';

export interface ConsoleSide {
  /** Console sessions, then the bootstrap ADMIN_TOKEN: the operator routes use the same. */
  auth: OperatorAuthenticator;
  accounts: AccountService;
  hub: FeedHub;
  notifier: AlarmNotifier;
  /** Adds the `/admin` namespace to the service's socket.io server. */
  attach(io: SocketServer): void;
  close(): void;
}

export interface ConsoleOptions {
  http: Parameters<typeof registerConsoleRoutes>[0];
  models: Models;
  fleet: Fleet;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  adminToken: string;
  dataDir: string;
  seedDemo: boolean;
  /** Live feed flush interval (default 500 ms). */
  feedIntervalMs?: number;
  /** The site webhooks' transport (default: HTTP POST). */
  webhook?: WebhookSender;
  /** Notices of one site within this window go out as one webhook message (default 10 s). */
  notifyGroupMs?: number;
}

/**
 * The operator console's server side: accounts and sign-in, the read API, the built page at /admin/ and the
 * live feed. With SEED_DEMO and no account yet, demo accounts are created with generated passwords written
 * to DATA_DIR/console-accounts.json (mode 0600; never logged).
 */
export async function startConsole(o: ConsoleOptions): Promise<ConsoleSide> {
  const accounts = new AccountService({ models: o.models, clock: o.clock, log: o.log });
  if (o.seedDemo && (await accounts.count()) === 0) await seedDemoAccounts(accounts, o.dataDir, o.log);
  const auth = anyOf(accounts, bootstrapAuthenticator(o.adminToken));
  const reads = new ConsoleService({ models: o.models, fleet: o.fleet, clock: o.clock, log: o.log });
  const alarms = new AlarmCentre({ models: o.models, clock: o.clock });
  const sites = new SiteService({ models: o.models, clock: o.clock, fleet: o.fleet });
  const attention = new AttentionService({ models: o.models, clock: o.clock, alarms, fleet: o.fleet });
  registerConsoleRoutes(o.http, { accounts, console: reads, alarms, sites, attention, auth, clock: o.clock });
  // The cabinet actors store alarms and publish notices; telling people is done here, outside the actors.
  const notifier = new AlarmNotifier({ models: o.models, clock: o.clock, log: o.log.child({ part: 'notifier' }), sender: o.webhook ?? httpWebhookSender(), groupWindowMs: o.notifyGroupMs });
  const notices = o.fleet.notices$.subscribe((n) => notifier.notice(n));
  registerConsolePage(o.http, CONSOLE_DIST);
  const hub = new FeedHub(
    { snapshot: () => o.fleet.snapshot(), viewChanges$: o.fleet.viewChanges$, visitEnded$: o.fleet.visitChanges$.pipe(map(visitRow)) },
    { clock: o.clock, intervalMs: o.feedIntervalMs },
  );
  o.metrics.gaugeFrom('console_feed_subscribers', 'Console pages subscribed to the live feed', () => hub.size);
  let feed: { close(): void } | undefined;
  return {
    auth,
    accounts,
    hub,
    attach(io) {
      feed = attachAdminFeed(io, { hub, auth, clock: o.clock, log: o.log });
    },
    notifier,
    close() {
      notices.unsubscribe();
      notifier.close();
      feed?.close();
      hub.close();
      reads.close();
    },
  };
}

async function seedDemoAccounts(accounts: AccountService, dataDir: string, log: Logger): Promise<void> {
  const file = join(dataDir, DEMO_ACCOUNTS_FILE);
  const creds: Array<{ username: string; password: string; role: string; sites: '*' | string[] }> = [];
  for (const a of DEMO_ACCOUNTS) {
    const password = generatePassword();
    await accounts.create(undefined, { ...a, password });
    creds.push({ username: a.username, password, role: a.role, sites: a.sites });
  }
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  log.info({ file, accounts: creds.map((c) => c.username) }, 'demo console accounts created; passwords are in the file');
}

/** What `npm start` prints about the console (paths only, never a password). */
export function consoleHelp(url: string, dataDir: string): string {
  const file = demoAccountsPath(dataDir);
  const demo = existsSync(file)
    ? `  demo accounts (admin, sh-operator, sh-restocker, viewer, finance) and their passwords: ${file}\n  e.g. password of admin:  node -e "console.log(require('${file}')[0].password)"\n`
    : '  create the first admin:  npm run console:admin -- --username alice --name "Alice"\n';
  return `Operator console: ${url}/admin/\n${demo}`;
}

export const demoAccountsPath = (dataDir: string): string => join(resolve(dataDir), DEMO_ACCOUNTS_FILE);
