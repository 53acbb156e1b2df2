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
