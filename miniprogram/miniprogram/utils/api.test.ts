import { world } from '../test/harness';
import { ensureSession } from './session';

describe('API client against the contract-validating fake server', () => {
  test('login stores the token; later calls send it; no session_key ever reaches the client', async () => {
    const { server, platform, services } = world();
    expect((await ensureSession(services.api, platform, services.tokens)).ok).toBe(true);
    const me = await services.api.me();
    expect(me.ok && me.value.shopper.hasPhone).toBe(false);
    expect(JSON.stringify([...platform.storage.values()])).not.toMatch(/session_key/);
    expect(server.calls.map((c) => c.name)).toEqual(['login', 'me']);
    expect(server.rejected).toEqual([]);
  });

  test('a stored valid token skips wx.login', async () => {
    const { platform, services } = world();
    await ensureSession(services.api, platform, services.tokens);
    await ensureSession(services.api, platform, services.tokens);
    expect(platform.events.filter((e) => e === 'login')).toHaveLength(1);
  });

  test('a revoked token logs in again once and retries', async () => {
    const { server, platform, services } = world();
    await ensureSession(services.api, platform, services.tokens);
    server.revokeTokens();
    const me = await services.api.me();
    expect(me.ok).toBe(true);
    expect(server.calls.map((c) => c.name)).toEqual(['login', 'me', 'login', 'me']);
  });

  test('refusals come back as values with the contract code; transport failures as NETWORK', async () => {
    const { server, platform, services } = world();
    server.addCabinet({ cabinetId: 'CAB-1', name: '柜', kind: 'semi' });
    await ensureSession(services.api, platform, services.tokens);
    expect(await services.api.startVisit('CAB-1')).toMatchObject({ ok: false, error: { code: 'PHONE_REQUIRED', status: 403 } });
    server.dropNext = 1;
    expect(await services.api.me()).toMatchObject({ ok: false, error: { code: 'NETWORK' } });
  });

  test('requests the server would reject for shape are caught by the fake (schema-validated)', async () => {
    const { server, platform, services } = world();
    await ensureSession(services.api, platform, services.tokens);
    const r = await services.api.appeal('o-x', 'x'); // reason must be ≥ 2 characters
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(server.rejected.map((x) => x.name)).toEqual(['appeal']);
  });
});
