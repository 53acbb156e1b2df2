import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { ADMIN_NAMESPACE, ADMIN_PREFIX, type FeedDelta, type FeedSnapshot, type FleetPage } from '../../contracts/console-api';
import { connectDevice } from '../../test/device-client';
import { ROLE_PERMISSIONS, type Role } from '../../contracts/admin-api';
import { startTestService } from '../../test/service-kit';
import { DEMO_ACCOUNTS_FILE } from '../../app/console';

type Svc = Awaited<ReturnType<typeof startTestService>>;

describe('console API and live feed through the real service', () => {
  let svc: Svc;
  const tokens: Record<string, string> = {};
  const sockets: Socket[] = [];

  const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${svc.url}${ADMIN_PREFIX}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as Record<string, unknown>) : undefined };
  };

  const feed = (token: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = io(`${svc.url}${ADMIN_NAMESPACE}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
      sockets.push(s);
      s.once('connect', () => resolve(s));
      s.once('connect_error', (e: Error & { data?: unknown }) => reject(Object.assign(e, { data: e.data })));
    });

  beforeAll(async () => {
    svc = await startTestService();
    const creds = JSON.parse(readFileSync(join(svc.config.dataDir, DEMO_ACCOUNTS_FILE), 'utf8')) as Array<{ username: string; password: string }>;
    for (const c of creds) {
      const r = await call(undefined, 'POST', '/login', { username: c.username, password: c.password });
      expect(r.status).toBe(200);
      tokens[c.username] = r.body!.token as string;
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await svc.cleanup();
  });

  it('alarm centre and sites: scoped reads, actions by role and site, masked robot key, clear errors', async () => {
    const m = svc.models;
    const [sh, bj] = await m.Alarm.create([
      { cabinetId: 'SH-AUTO-01', siteId: 'shanghai-hq', kind: 'door_left_open', raisedAt: new Date() },
      { cabinetId: 'BJ-AUTO-01', siteId: 'beijing-office', kind: 'temperature', raisedAt: new Date(), clearedAt: new Date() },
    ]);
    const op = tokens['sh-operator']!;
    const list = await call(op, 'GET', '/alarms');
    expect((list.body!.rows as Array<{ cabinetId: string }>).map((r) => r.cabinetId)).toEqual(['SH-AUTO-01']);
    expect((await call(tokens.admin, 'GET', '/alarms?status=cleared')).body!.rows).toMatchObject([{ cabinetId: 'BJ-AUTO-01', status: 'cleared' }]);
    expect((await call(op, 'GET', '/alarms/counts')).body).toEqual({ open: 1, acknowledged: 0 });
    // Another site's alarm reads as not found; a viewer may look but not act.
    expect((await call(op, 'POST', `/alarms/${String(bj!._id)}/ack`)).status).toBe(404);
    expect((await call(tokens.viewer, 'POST', `/alarms/${String(sh!._id)}/ack`)).status).toBe(403);
    const acked = await call(op, 'POST', `/alarms/${String(sh!._id)}/ack`);
    expect(acked.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'sh-operator' });
    expect((await call(op, 'POST', `/alarms/${String(sh!._id)}/notes`, { text: '' })).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await call(op, 'POST', '/alarms/not-an-id/ack')).status).toBe(404);
    // Sites: the robot's key never comes back; a bad time zone is refused; only account managers edit.
    const put = await call(tokens.admin, 'PUT', '/sites/shanghai-hq', { name: '上海总部', timeZone: 'Asia/Shanghai', webhook: { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY-123', format: 'wecom', remindEveryMin: 10 } });
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain('SECRET-KEY-123');
    expect((await call(tokens.admin, 'PUT', '/sites/shanghai-hq', { name: 'x', timeZone: 'Mars/Olympus' })).body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await call(op, 'PUT', '/sites/shanghai-hq', { name: 'x' })).status).toBe(403);
    const sites = (await call(op, 'GET', '/sites')).body!.sites as Array<{ siteId: string; name: string; webhook?: { urlMasked: string } }>;
    expect(sites.map((x) => x.siteId)).toEqual(['shanghai-hq']);
    expect(sites[0]).toMatchObject({ name: '上海总部', webhook: { urlMasked: 'https://qyapi.weixin.qq.com/cgi-bin/web…?…' } });
    const audit = await m.Audit.findOne({ action: 'site.save' }).lean();
    expect(JSON.stringify(audit)).not.toContain('SECRET-KEY-123');
    // The home view counts what the lists show.
    const att = (await call(op, 'GET', '/attention?offlineMinutes=15')).body as { alarms: { open: number; acknowledged: number }; offline: { count: number } };
    expect(att.alarms).toEqual({ open: 0, acknowledged: 1 });
    expect(att.offline.count).toBe((await call(op, 'GET', '/fleet?state=offline&offlineForMin=15')).body!.total);
  });

  it('demo accounts are created with generated passwords in a 0600 file', () => {
    const file = join(svc.config.dataDir, DEMO_ACCOUNTS_FILE);
    const { statSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(tokens).sort()).toEqual(['admin', 'finance', 'sh-operator', 'sh-restocker', 'viewer']);
  });

  it('refuses calls without a valid session and signs out', async () => {
    expect((await call(undefined, 'GET', '/fleet')).status).toBe(401);
    expect((await call('x'.repeat(43), 'GET', '/fleet')).status).toBe(401);
    expect((await call(undefined, 'POST', '/login', { username: 'admin', password: 'wrong password' })).status).toBe(401);
    const creds = JSON.parse(readFileSync(join(svc.config.dataDir, DEMO_ACCOUNTS_FILE), 'utf8')) as Array<{ username: string; password: string }>;
    const v = creds.find((c) => c.username === 'viewer')!;
    const t = (await call(undefined, 'POST', '/login', { username: 'viewer', password: v.password })).body!.token as string;
    expect((await call(t, 'GET', '/me')).body).toMatchObject({ id: 'viewer', role: 'viewer' });
    expect((await call(t, 'POST', '/logout')).status).toBe(204);
    expect((await call(t, 'GET', '/me')).status).toBe(401);
  });

  it('the bootstrap admin token still works on every console route', async () => {
    expect((await call(svc.adminToken, 'GET', '/fleet')).status).toBe(200);
  });

  it('enforces the permission matrix on the read routes', async () => {
    const routes: Array<[string, string]> = [
      ['/fleet', 'fleet.view'],
      ['/visits', 'fleet.view'],
      ['/sessions', 'fleet.view'],
      ['/kpis', 'fleet.view'],
      ['/orders', 'orders.view'],
      ['/payments', 'orders.view'],
      ['/refunds', 'orders.view'],
      ['/debts', 'orders.view'],
      ['/reconciliation', 'finance.view'],
      ['/audit', 'audit.view'],
      ['/accounts', 'accounts.manage'],
    ];
    const roleOf: Record<string, Role> = { admin: 'admin', 'sh-operator': 'operator', viewer: 'viewer', finance: 'finance' };
    for (const [user, role] of Object.entries(roleOf)) {
      for (const [path, perm] of routes) {
        const allowed = (ROLE_PERMISSIONS[role] as readonly string[]).includes(perm);
        const scopedOut = user === 'sh-operator' && path === '/reconciliation';
        const r = await call(tokens[user], 'GET', path);
        expect([user, path, r.status]).toEqual([user, path, allowed && !scopedOut ? 200 : 403]);
      }
    }
  });

  it('a viewer cannot decide a review, raise a pending order, refund or restock', async () => {
    const v = tokens.viewer;
    expect((await call(v, 'POST', '/reviews/R-none/decision', { decision: 'waive' })).status).toBe(403);
    expect((await call(v, 'POST', '/orders/O-none/refunds', { amountFen: 1, reason: 'test', refundKey: 'key-1' })).status).toBe(403);
    expect((await call(v, 'POST', '/pending-orders', { visitId: 'V-none', lines: [{ sku: 'ABC', qty: 1 }], reason: 'test' })).status).toBe(403);
    expect((await call(v, 'POST', '/cabinets/SH-SEMI-01/restock-unlock')).status).toBe(403);
  });

  it('a site-scoped operator sees only its site through the HTTP API', async () => {
    const op = tokens['sh-operator'];
    const page = (await call(op, 'GET', '/fleet?limit=500')).body as unknown as FleetPage;
    expect(page.sites).toEqual(['shanghai-hq']);
    expect(page.rows.length).toBeGreaterThan(0);
    expect(page.rows.every((r) => r.siteId === 'shanghai-hq')).toBe(true);
    expect((await call(op, 'GET', '/cabinets/BJ-SEMI-01')).status).toBe(404);
    expect((await call(op, 'GET', '/cabinets/SH-SEMI-01')).status).toBe(200);
    expect((await call(op, 'GET', '/fleet?siteId=beijing-office')).status).toBe(403);
    expect((await call(op, 'GET', '/visits?siteId=beijing-office')).status).toBe(403);
    expect((await call(op, 'POST', '/cabinets/BJ-SEMI-01/restock-unlock')).status).toBe(404);
    const admin = (await call(tokens.admin, 'GET', '/fleet?limit=500')).body as unknown as FleetPage;
    expect(admin.sites).toEqual(['beijing-office', 'shanghai-hq']);
  });

  it('cabinet detail carries the planogram with stock and names', async () => {
    const r = await call(tokens.admin, 'GET', '/cabinets/SH-SEMI-01');
    expect(r.status).toBe(200);
    const d = r.body as unknown as { planogram: Array<{ count: number; capacity: number; name?: string }>; cabinet: { siteId: string } };
    expect(d.cabinet.siteId).toBe('shanghai-hq');
    expect(d.planogram.length).toBeGreaterThan(0);
    expect(d.planogram[0]!.name).toBeDefined();
  });

  it('the live feed refuses a missing token and scopes snapshots to the principal’s sites', async () => {
    await expect(feed('nope')).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    const s = await feed(tokens['sh-operator']!);
    const r = (await s.timeout(5000).emitWithAck('subscribe', { filter: {}, offset: 0, limit: 100 })) as { ok: true; snapshot: FeedSnapshot };
    expect(r.ok).toBe(true);
    expect(r.snapshot.sites).toEqual(['shanghai-hq']);
    expect(r.snapshot.rows.every((x) => x.siteId === 'shanghai-hq')).toBe(true);
    const other = (await s.timeout(5000).emitWithAck('subscribe', { filter: { siteId: 'beijing-office' }, offset: 0, limit: 100, cabinetId: 'BJ-SEMI-01' })) as { ok: true; snapshot: FeedSnapshot };
    expect(other.snapshot.rows).toEqual([]);
    expect(other.snapshot.cabinet).toBeUndefined();
    const bad = (await s.timeout(5000).emitWithAck('subscribe', { limit: 'all' })) as { ok: false; error: { code: string } };
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('live deltas over the raw socket: another site’s cabinet never reaches a site-scoped operator', async () => {
    const op = await feed(tokens['sh-operator']!);
    const admin = await feed(tokens.admin!);
    const got: Record<string, FeedDelta[]> = { op: [], admin: [] };
    op.on('delta', (d: FeedDelta) => got.op!.push(d));
    admin.on('delta', (d: FeedDelta) => got.admin!.push(d));
    await op.timeout(5000).emitWithAck('subscribe', { filter: {}, offset: 0, limit: 100, cabinetId: 'BJ-SEMI-01', visits: true });
    await admin.timeout(5000).emitWithAck('subscribe', { filter: {}, offset: 0, limit: 100, cabinetId: 'BJ-SEMI-01', visits: true });
    const secrets = JSON.parse(readFileSync(join(svc.config.dataDir, 'demo-cabinets.json'), 'utf8')) as Record<string, string>;
    const device = await connectDevice({ url: svc.url, cabinetId: 'BJ-SEMI-01', secret: secrets['BJ-SEMI-01']! });
    try {
      await device.emit('status', { ts: Date.now(), door: 'closed', locked: true, temperatureC: 5.5, pendingUploads: 0 });
      const deadline = Date.now() + 5_000;
      while (!got.admin!.some((d) => d.rows.some((r) => r.cabinetId === 'BJ-SEMI-01' && r.temperatureC === 5.5)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(got.admin!.some((d) => d.cabinet?.cabinetId === 'BJ-SEMI-01')).toBe(true);
      await new Promise((r) => setTimeout(r, 1_200)); // two more flushes
      expect(JSON.stringify(got.op)).not.toContain('BJ-');
    } finally {
      device.close();
    }
  });

  it('serves the console page at /admin/ (or says how to build it)', async () => {
    const res = await fetch(`${svc.url}/admin/`);
    expect([200, 503]).toContain(res.status);
    const api404 = await fetch(`${svc.url}/admin/api/v1/no-such-route`, { headers: { authorization: `Bearer ${tokens.admin}` } });
    expect(api404.status).toBe(404);
  });
});
