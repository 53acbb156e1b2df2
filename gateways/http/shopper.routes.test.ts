import { Fleet } from '../../actors/fleet/fleet';
import { createActorSystem } from '../../actors/runtime';
import { ShopperService } from '../../app/shopper.service';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { Metrics } from '../../common/metrics';
import { SecretBox } from '../../common/sealing';
import { memoryLimiter } from '../../common/shared-state';
import { TokenSigner } from '../../common/tokens';
import { LoginResponse, MeResponse, CabinetResponse, CatalogueResponse } from '../../contracts/shopper-api';
import { startTestEmulator, type TestEmulator } from '../../payments/emulator/testing';
import { MiniProgramClient } from '../../payments/wechatpay/miniprogram.client';
import { MongooseFleetStore } from '../../store/fleet.store';
import { openTestDb, type TestDb } from '../../test/db';
import { seedDemo } from '../../app/demo-seed';
import { buildHttpApp } from './app';
import { registerShopperRoutes } from './shopper.routes';
import { Sessions } from '../../app/sessions';
import { ShoppingService } from '../../app/shopping.service';

jest.setTimeout(30_000);

describe('shopper API: sign-in, profile, QR and catalogue', () => {
  let db: TestDb;
  let emu: TestEmulator;
  let app: ReturnType<typeof buildHttpApp>;
  const clock = new SimulatedClock(Date.UTC(2026, 10, 24));
  const system = createActorSystem({ log: silentLogger });

  beforeAll(async () => {
    db = await openTestDb('shopper');
    await seedDemo(db.models, new SecretBox(SecretBox.generateKeyHex()), silentLogger);
    emu = await startTestEmulator();
    const key = SecretBox.generateKeyHex();
    const fleet = new Fleet({ system, store: new MongooseFleetStore(db.models), devices: { sendUnlock: async () => ({ ok: false, error: { code: 'NOT_CONNECTED' } }) } });
    const tokens = new TokenSigner(key, 'shopper');
    app = buildHttpApp({ log: silentLogger, metrics: new Metrics({ defaults: false }), readiness: [], accepting: () => true });
    const service = new ShopperService({ models: db.models, fleet, identity: new MiniProgramClient({ config: emu.config() }), tokens, clock, log: silentLogger, tokenTtlMs: 3_600_000 });
    const sessions = new Sessions({ system, models: db.models, fleet, clock, log: silentLogger });
    registerShopperRoutes(app, {
      service,
      shopping: new ShoppingService({ models: db.models, fleet, sessions, shoppers: service, payments: undefined, clock, log: silentLogger }),
      tokens,
      limiter: memoryLimiter(20, 10_000),
      clock,
    });
  });
  afterAll(async () => {
    system.stop();
    await emu.close();
    await db.close();
  });

  const control = async (path: string, body: unknown) => (await fetch(`${emu.baseUrl}/__control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, string>>;
  const login = async (openid: string) => {
    const { code } = await control('login-code', { openid });
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { code } });
    expect(res.statusCode).toBe(200);
    return LoginResponse.parse(res.json());
  };
  const get = (url: string, token: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('signs in with a wx.login code, never returns session_key, and reuses the shopper on the next login', async () => {
    const first = await login('openid-alice');
    expect(first.shopper).toEqual({ shopperId: expect.stringMatching(/^S/), hasPhone: false });
    expect(JSON.stringify(first)).not.toMatch(/session_key/);
    const second = await login('openid-alice');
    expect(second.shopper.shopperId).toBe(first.shopper.shopperId);
    expect(await db.models.Shopper.countDocuments({ openid: 'openid-alice' })).toBe(1);
  });

  it('refuses a used login code and a request without a valid token', async () => {
    const { code } = await control('login-code', { openid: 'openid-bob' });
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { code } })).statusCode).toBe(200);
    const again = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { code } });
    expect(again.json().error.code).toBe('UNAUTHENTICATED');
    expect((await get('/api/v1/me', 'forged.token')).json().error.code).toBe('UNAUTHENTICATED');
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { nope: 1 } })).json().error.code).toBe('BAD_REQUEST');
  });

  it('authorises the phone number from a getPhoneNumber code and shows it masked', async () => {
    const { token } = await login('openid-carol');
    const { code } = await control('phone-code', { openid: 'openid-carol', phone: '13912345678' });
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/phone', headers: { authorization: `Bearer ${token}` }, payload: { code } });
    expect(res.json()).toEqual({ shopper: { shopperId: expect.any(String), hasPhone: true, phone: '139****5678' } });
    const me = MeResponse.parse((await get('/api/v1/me', token)).json());
    expect(me).toMatchObject({ shopper: { hasPhone: true, phone: '139****5678' }, debt: { count: 0, totalFen: 0 }, contract: 'none' });
    expect((await get('/api/v1/me', token)).body).not.toContain('13912345678');
  });

  it('resolves a QR with the service record winning over the printed flow', async () => {
    const { token } = await login('openid-dave');
    const auto = CabinetResponse.parse((await get('/api/v1/cabinets/SH-AUTO-01?flow=semi', token)).json());
    expect(auto).toMatchObject({ kind: 'auto', flowCorrected: true, online: false, available: false, unavailableReason: 'offline' });
    const open = CabinetResponse.parse((await get('/api/v1/cabinets/SH-OPEN-01?flow=open', token)).json());
    expect(open).toMatchObject({ kind: 'open', flowCorrected: false, available: true });
    expect((await get('/api/v1/cabinets/NOPE-1', token)).json().error.code).toBe('NOT_FOUND');
    expect((await get('/api/v1/cabinets/SH-OPEN-01?flow=fridge', token)).json().error.code).toBe('BAD_REQUEST');
  });

  it('lists a cabinet’s catalogue with integer-fen prices and lane stock', async () => {
    const { token } = await login('openid-erin');
    const cat = CatalogueResponse.parse((await get('/api/v1/cabinets/SH-OPEN-01/catalogue', token)).json());
    expect(cat.items).toHaveLength(8);
    expect(cat.items[0]).toEqual({ sku: 'COLA-ORIG', name: '可口经典', priceFen: 350, laneId: 'A1', stock: 10 });
  });

  it('rate-limits each shopper, saying when to come back (Retry-After)', async () => {
    const { token } = await login('openid-frank');
    const codes = [];
    for (let i = 0; i < 25; i++) codes.push((await get('/api/v1/me', token)).statusCode);
    expect(codes.filter((c) => c === 429)).toHaveLength(5);
    clock.advance(4_000);
    const limited = await get('/api/v1/me', token);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('6');
    expect(limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED', details: { retryAfterMs: 6_000 } } });
    clock.advance(6_000);
    expect((await get('/api/v1/me', token)).statusCode).toBe(200);
  });

  it('answers an offline cabinet with CABINET_UNAVAILABLE (reason in lower case) before CONTRACT_REQUIRED or the debt check', async () => {
    const { token } = await login('openid-gina');
    const { code } = await control('phone-code', { openid: 'openid-gina' });
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/phone', headers: { authorization: `Bearer ${token}` }, payload: { code } })).statusCode).toBe(200);
    for (const cabinetId of ['SH-AUTO-01', 'SH-SEMI-01']) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/visits', headers: { authorization: `Bearer ${token}` }, payload: { cabinetId } });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: { code: 'CABINET_UNAVAILABLE', details: { reason: 'offline' } } });
      const cab = CabinetResponse.parse((await get(`/api/v1/cabinets/${cabinetId}`, token)).json());
      expect(cab.unavailableReason).toBe('offline');
    }
  });

  it('answers the QR link /c/<cabinetId> with a page that says to scan it in WeChat, not a 404', async () => {
    const page = await app.inject({ method: 'GET', url: '/c/SH-AUTO-01?flow=auto' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('SH-AUTO-01');
    expect(page.body).toContain('微信');
    const unknown = await app.inject({ method: 'GET', url: '/c/NOPE-1' });
    expect(unknown.statusCode).toBe(404);
  });
});
