import Fastify, { type FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import { AppError, isAppError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { Metrics } from '../../common/metrics';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HttpDeps {
  log: Logger;
  metrics: Metrics;
  /** Every check must pass for /readyz to answer 200. */
  readiness: ReadinessCheck[];
  /** False once shutdown has begun: /readyz answers 503 so balancers stop sending work. */
  accepting: () => boolean;
}

/**
 * Builds the HTTP app without listening, so tests use `app.inject()` and need no port. Routes of later
 * features are registered by the composition root onto the instance this returns.
 */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1 << 20, return503OnClosing: true });
  const requests = deps.metrics.counter('http_requests_total', 'HTTP requests by route and status', ['route', 'status']);

  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err);
    if (e.status >= 500) deps.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack }, url: req.url }, 'request failed');
    void reply.status(e.status).send({ error: e.toJSON() });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: new AppError('NOT_FOUND', `No route for ${req.method} ${req.url.split('?')[0]}`).toJSON() });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(deps.readiness.map(async (c) => [c.name, await c.check().catch(() => false)] as const));
    const checks = Object.fromEntries(results);
    const ready = deps.accepting() && results.every(([, ok]) => ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', accepting: deps.accepting(), checks });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', deps.metrics.contentType()).send(await deps.metrics.render());
  });

  return app;
}

/** Maps anything thrown in a handler onto the error catalogue. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (err instanceof ZodError) {
    return new AppError('BAD_REQUEST', err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  }
  const fe = err as { statusCode?: number; code?: string; message?: string };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError('TOO_LARGE');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode === 404 ? 'NOT_FOUND' : fe.statusCode === 429 ? 'RATE_LIMITED' : 'BAD_REQUEST', fe.message);
  }
  return new AppError('INTERNAL');
}
