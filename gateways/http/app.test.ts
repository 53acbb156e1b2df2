import { AppError } from '../../common/errors';
import { silentLogger } from '../../common/log';
import { Metrics } from '../../common/metrics';
import { buildHttpApp } from './app';

function make(dbUp: boolean, accepting = true) {
  const app = buildHttpApp({
    log: silentLogger,
    metrics: new Metrics({ defaults: false }),
    readiness: [{ name: 'database', check: async () => dbUp }],
    accepting: () => accepting,
  });
  app.get('/boom', async () => {
    throw new AppError('CONFLICT', 'order moved on');
  });
  app.get('/crash', async () => {
    throw new Error('secret internals');
  });
  return app;
}

describe('http app', () => {
  it('is ready only when the database answers and shutdown has not begun', async () => {
    expect((await make(true).inject('/readyz')).statusCode).toBe(200);
    const down = await make(false).inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'not_ready', checks: { database: false } });
    expect((await make(true, false).inject('/readyz')).statusCode).toBe(503);
    expect((await make(false).inject('/healthz')).statusCode).toBe(200);
  });

  it('sends a browser at the service root to the operator console', async () => {
    const res = await make(true).inject('/');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/admin/');
  });

  it('serves Prometheus metrics that count requests', async () => {
    const app = make(true);
    await app.inject('/healthz');
    const res = await app.inject('/metrics');
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/http_requests_total\{route="\/healthz",status="200"\} 1/);
  });

  it('answers errors with a stable code and hides internals', async () => {
    const app = make(true);
    const conflict = await app.inject('/boom');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({ error: { code: 'CONFLICT', message: 'order moved on' } });
    const crash = await app.inject('/crash');
    expect(crash.statusCode).toBe(500);
    expect(crash.json().error.code).toBe('INTERNAL');
    expect(crash.body).not.toContain('secret internals');
    const missing = await app.inject('/nope');
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });
});

describe('http app while the database is away', () => {
  function gated(up: { value: boolean }, hangingCheck = false) {
    const noted: unknown[] = [];
    const app = buildHttpApp({
      log: silentLogger,
      metrics: new Metrics({ defaults: false }),
      readiness: [{ name: 'database', check: () => (hangingCheck ? new Promise<boolean>(() => undefined) : Promise.resolve(up.value)) }],
      readinessDeadlineMs: 100,
      accepting: () => true,
      database: { up: () => up.value, isOutage: (e) => (e as Error).name === 'MongoServerSelectionError', noteError: (e) => noted.push(e) },
    });
    app.get('/work', async () => ({ ok: true }));
    app.get('/lost', async () => {
      throw Object.assign(new Error('Server selection timed out'), { name: 'MongoServerSelectionError' });
    });
    return { app, noted };
  }

  it('refuses every route but the probes with 503 UNAVAILABLE at once, and serves again when it is back', async () => {
    const up = { value: false };
    const { app } = gated(up);
    const refused = await app.inject('/work');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringMatching(/database/) } });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    up.value = true;
    expect((await app.inject('/work')).statusCode).toBe(200);
  });

  it('answers an outage error reaching a handler 503, not 500, and tells the gate', async () => {
    const { app, noted } = gated({ value: true });
    const res = await app.inject('/lost');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('UNAVAILABLE');
    expect(noted).toHaveLength(1);
  });

  it('answers /readyz 503 within its deadline when a check never answers (a stopped database)', async () => {
    const { app } = gated({ value: true }, true);
    const t = Date.now();
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ checks: { database: false } });
    expect(Date.now() - t).toBeLessThan(2000);
  });
});
