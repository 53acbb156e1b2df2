import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AccountService } from '../../app/accounts.service';
import type { AlarmCentre } from '../../app/alarms.service';
import type { AttentionService } from '../../app/attention.service';
import type { ConsoleService } from '../../app/console.service';
import type { SiteService } from '../../app/sites.service';
import type { Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import { ADMIN_PREFIX, AlarmAssignRequest, AlarmNoteRequest, AlarmQuery, AttentionQuery, AuditQuery, CONSOLE_ROUTES, CreateAccountRequest, FleetQuery, KpiQuery, ListQuery, LoginRequest, SiteUpsert } from '../../contracts/console-api';
import { SiteId } from '../../contracts/domain';
import { CabinetId } from '../../contracts/domain';
import { authenticateOperators, principalOf, type OperatorAuthenticator } from './operator-auth';

export interface ConsoleRouteDeps {
  accounts: AccountService;
  console: ConsoleService;
  alarms: AlarmCentre;
  sites: SiteService;
  attention: AttentionService;
  /** Sessions and the bootstrap token (anyOf). */
  auth: OperatorAuthenticator;
  clock: Clock;
}

const Id = z.string().min(1).max(80);
const ReconQuery = z.object({ before: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(), limit: z.coerce.number().int().min(1).max(100).default(31) });
const Disabled = z.object({ disabled: z.boolean() });

/** Sign-in, accounts and the console's read views (contracts/console-api CONSOLE_ROUTES), under ADMIN_PREFIX. */
export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): void {
  const R = CONSOLE_ROUTES;
  const svc = deps.console;
  app.register(
    async (pub) => {
      pub.post(R.login.path, async (req) => {
        const body = LoginRequest.parse(req.body);
        return deps.accounts.login(body.username, body.password);
      });
    },
    { prefix: ADMIN_PREFIX },
  );
  app.register(
    async (api) => {
      authenticateOperators(api, deps.auth, () => deps.clock.now());
      api.post(R.logout.path, async (req, reply) => {
        await deps.accounts.logout((req.headers.authorization ?? '').slice(7));
        return reply.status(204).send();
      });
      api.get(R.me.path, async (req) => principalOf(req));
      api.get(R.accounts.path, async (req) => ({ accounts: await deps.accounts.list(principalOf(req)) }));
      api.post(R.createAccount.path, async (req, reply) => reply.status(201).send(await deps.accounts.create(principalOf(req), CreateAccountRequest.parse(req.body))));
      api.post(R.setDisabled.path, async (req) => deps.accounts.setDisabled(principalOf(req), z.object({ username: Id }).parse(req.params).username, Disabled.parse(req.body).disabled));

      api.get(R.fleet.path, async (req) => svc.fleetPage(principalOf(req), FleetQuery.parse(req.query)));
      api.get(R.cabinet.path, async (req) => svc.cabinet(principalOf(req), z.object({ cabinetId: CabinetId }).parse(req.params).cabinetId));
      api.get(R.visits.path, async (req) => svc.visits(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.visit.path, async (req) => svc.visit(principalOf(req), z.object({ visitId: Id }).parse(req.params).visitId));
      api.get(R.sessions.path, async (req) => svc.sessions(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.orders.path, async (req) => svc.orders(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.payments.path, async (req) => svc.payments(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.refunds.path, async (req) => svc.refunds(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.debts.path, async (req) => svc.debts(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.contracts.path, async (req) => svc.contracts(principalOf(req), ListQuery.parse(req.query)));
      api.get(R.reconciliation.path, async (req) => svc.reconciliation(principalOf(req), ReconQuery.parse(req.query)));
      api.get(R.audit.path, async (req) => svc.audit(principalOf(req), AuditQuery.parse(req.query)));
      api.get(R.kpis.path, async (req) => svc.kpis(principalOf(req), KpiQuery.parse(req.query)));
      api.get(R.attention.path, async (req) => deps.attention.attention(principalOf(req), AttentionQuery.parse(req.query)));
      api.get(R.alarms.path, async (req) => deps.alarms.list(principalOf(req), AlarmQuery.parse(req.query)));
      api.get(R.alarmCounts.path, async (req) => deps.alarms.counts(principalOf(req), z.object({ siteId: SiteId.optional() }).parse(req.query).siteId));
      const alarmId = (req: { params: unknown }) => z.object({ alarmId: Id }).parse(req.params).alarmId;
      api.post(R.alarmAck.path, async (req) => deps.alarms.acknowledge(principalOf(req), alarmId(req)));
      api.post(R.alarmAssign.path, async (req) => deps.alarms.assign(principalOf(req), alarmId(req), AlarmAssignRequest.parse(req.body).assignee));
      api.post(R.alarmNote.path, async (req) => deps.alarms.note(principalOf(req), alarmId(req), AlarmNoteRequest.parse(req.body).text));
      api.get(R.sites.path, async (req) => ({ sites: await deps.sites.list(principalOf(req)) }));
      api.put(R.putSite.path, async (req) => deps.sites.upsert(principalOf(req), z.object({ siteId: SiteId }).parse(req.params).siteId, SiteUpsert.parse(req.body)));
    },
    { prefix: ADMIN_PREFIX },
  );
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/**
 * Serves the built console (web-admin/dist) at /admin/: files are read once at start (a few hundred KB),
 * hashed assets are cached for a year, index.html never. Without a build, /admin/ says how to make one.
 */
export function registerConsolePage(app: FastifyInstance, distDir: string): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  if (existsSync(join(distDir, 'index.html'))) {
    for (const f of listFiles(distDir)) files.set(relative(distDir, f).split(sep).join('/'), { body: readFileSync(f), type: TYPES[extname(f)] ?? 'application/octet-stream' });
  }
  app.get('/admin', async (_req, reply) => reply.redirect('/admin/'));
  app.get('/admin/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*'] || 'index.html';
    if (path.startsWith('api/')) throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.url.split('?')[0]}`);
    // The page routes by hash (#/fleet), so nothing but /admin/ itself is the page: an unknown path under
    // /admin/ (an admin API route that did not match, a mistyped file) answers in the error envelope, not HTML.
    const f = files.get(path);
    if (!f) {
      if (!files.size) throw new AppError('UNAVAILABLE', 'the console is not built: run `npm run build:admin` (npm start and npm test build it)');
      throw new AppError('NOT_FOUND', `no file ${path}`);
    }
    const immutable = path.startsWith('assets/');
    return reply
      .header('content-type', f.type)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:")
      .send(f.body);
  });
}
