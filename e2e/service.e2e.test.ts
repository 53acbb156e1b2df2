import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, runService } from './harness';

jest.setTimeout(60_000);

describe('npm start (app/main.ts) as a real process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cf-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts on the embedded database with demo data, is ready, and leaves nothing behind on SIGTERM', async () => {
    const svc = runService({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info', DEMO_SIMULATOR: 'true' });
    const url = await svc.url;
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: true } });
    const started = svc.logs.find((l) => l.msg === 'ferretdb started');
    const ferretPid = started?.pid as number;
    expect(processAlive(ferretPid)).toBe(true);
    expect(svc.logs.find((l) => l.msg === 'demo data seeded')).toMatchObject({ products: expect.any(Number), cabinets: 7 });
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    // Payments recovered (unknown outcomes resolved, recorded notifications processed) before serving.
    const order = svc.logs.map((l) => l.msg);
    expect(order.indexOf('payments recovered')).toBeGreaterThan(-1);
    expect(order.indexOf('payments recovered')).toBeLessThan(order.indexOf('service listening'));

    // The WeChat emulator runs beside the service in sandbox mode, and a shopper can sign in through it.
    const emu = svc.logs.find((l) => l.msg === 'wechat emulator started') as { baseUrl: string; pid: number } | undefined;
    expect(emu && processAlive(emu.pid)).toBe(true);
    const { code } = (await (await fetch(`${emu!.baseUrl}/__control/login-code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"openid":"o-e2e"}' })).json()) as { code: string };
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    expect(login.status).toBe(200);
    expect(await login.json()).toMatchObject({ token: expect.any(String), shopper: { hasPhone: false } });

    // The demo: the demo cabinets connect from the simulator beside the service.
    const sim = svc.logs.find((l) => l.msg === 'demo simulator started') as { pid: number } | undefined;
    expect(sim && processAlive(sim.pid)).toBe(true);
    const adminToken = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const online = async () => ((await (await fetch(`${url}/admin/fleet`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { counts: { online: number } }).counts.online;
    for (let i = 0; i < 100 && (await online()) < 6; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await online()).toBeGreaterThanOrEqual(6);
    expect(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8'))).toEqual({ url, wechatUrl: emu!.baseUrl });

    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(processAlive(ferretPid)).toBe(false);
    expect(processAlive(emu!.pid)).toBe(false);
    expect(processAlive(sim!.pid)).toBe(false);
    expect(svc.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: no new work accepted', 'shut down']));
  });

  it('keeps its data directory across restarts and does not seed twice', async () => {
    const svc = runService({ DATA_DIR: dir, PORT: '0' });
    await svc.url;
    expect(svc.logs.find((l) => l.msg === 'demo data seeded')).toBeUndefined();
    svc.child.kill('SIGINT');
    expect(await svc.exited).toBe(0);
  });

  it('refuses to start on a bad configuration and names every bad field', async () => {
    const svc = runService({ DATA_DIR: dir, PORT: 'eighty', MONGODB_URI: 'http://nope', LOG_LEVEL: 'chatty' });
    expect(await svc.exited).toBe(2);
    const out = svc.output();
    expect(out).toMatch(/PORT: .*"eighty"/);
    expect(out).toMatch(/MONGODB_URI: must start with mongodb/);
    expect(out).toMatch(/LOG_LEVEL: /);
    expect(out).toMatch(/did not start/);
  });

  it('uses MONGODB_URI when set and never starts FerretDB', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cf-e2e-uri-'));
    try {
      const svc = runService({ DATA_DIR: other, PORT: '0', MONGODB_URI: process.env.TEST_MONGODB_URI as string, DB_NAME: `e2e_uri_${process.pid}` });
      const url = await svc.url;
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(svc.logs.find((l) => l.msg === 'ferretdb started')).toBeUndefined();
      svc.child.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
