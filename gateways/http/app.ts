import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { AppError, isAppError, type ErrorCode } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { Metrics } from '../../common/metrics';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

/** The database as the edge sees it (store/connection.ts watchDatabase implements it). */
export interface DependencyGate {
  /** Last known reachability, read on every request without I/O. */
  up(): boolean;
  /** Whether an error thrown by a handler means a dependency is unreachable (answered 503 UNAVAILABLE). */
  isOutage(e: unknown): boolean;
  /** Told about every such error, so the gate closes before its next probe. */
  noteError?(e: unknown): void;
}

export interface HttpDeps {
  log: Logger;
  metrics: Metrics;
  /** Every check must pass for /readyz to answer 200. */
  readiness: ReadinessCheck[];
  /** How long /readyz waits for a check before counting it failed (default 1 s). */
  readinessDeadlineMs?: number;
  /** False once shutdown has begun: /readyz answers 503 so balancers stop sending work. */
  accepting: () => boolean;
  /** While it is down, every route but the probes answers 503 UNAVAILABLE at once instead of waiting. */
  database?: DependencyGate;
}

/** Routes that never touch the database and must answer while it is away. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
/** fastify's default; a longer path parameter is answered 414 URI_TOO_LONG (Node caps line + headers at 16 KiB). */
const MAX_PARAM_LENGTH = 100;

const envelope = (e: AppError): string => JSON.stringify({ error: e.toJSON() });
const sendError = (reply: FastifyReply, e: AppError): FastifyReply => reply.status(e.status).header('content-type', 'application/json; charset=utf-8').send(envelope(e));

/**
 * Builds the HTTP app without listening, so tests use `app.inject()` and need no port. Routes of later
 * features are registered by the composition root onto the instance this returns.
 */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1 << 20,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's own 503 while closing has a body of its own; the accepting gate below answers in the envelope.
    return503OnClosing: false,
    // Refusals fastify makes before routing (a bad percent-encoding, an over-long path parameter).
    frameworkErrors: (err, _req, reply) => void sendError(reply, toAppError(err)),
    // Refusals Node's HTTP parser makes before fastify sees a request: write the envelope on the raw socket.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket),
  });
  const requests = deps.metrics.counter('http_requests_total', 'HTTP requests by route and status', ['route', 'status']);

  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (PROBES.has(path)) return;
    if (!deps.accepting()) return sendError(reply.header('connection', 'close'), new AppError('UNAVAILABLE', 'the service is shutting down; retry on another instance'));
    if (deps.database && !deps.database.up()) return sendError(reply.header('retry-after', '1'), new AppError('UNAVAILABLE', 'the database is not reachable right now; retry shortly'));
  });

  app.setErrorHandler((err, req, reply) => {
    const outage = deps.database?.isOutage(err) ?? false;
    if (outage) deps.database?.noteError?.(err);
    const e = outage ? new AppError('UNAVAILABLE', 'a dependency is not reachable right now; retry shortly') : toAppError(err);
    if (outage) deps.log.warn({ err: (err as Error).message, url: req.url }, 'request refused: a dependency is unreachable');
    else if (e.status >= 500) deps.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack }, url: req.url }, 'request failed');
    if (outage) void reply.header('retry-after', '1');
    void sendError(reply, e);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: new AppError('NOT_FOUND', `No route for ${req.method} ${req.url.split('?')[0]}`).toJSON() });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  // Someone opening the service's address in a browser wants the operator console, not a 404 body.
  app.get('/', async (_req, reply) => reply.redirect('/admin/'));

  const deadlineMs = deps.readinessDeadlineMs ?? 1000;
  app.get('/readyz', async (_req, reply) => {
    // Each check within the deadline: a database that is stopped (not dead) never answers at all.
    const results = await Promise.all(deps.readiness.map(async (c) => [c.name, await within(c.check(), deadlineMs)] as const));
    const checks = Object.fromEntries(results);
    const ready = deps.accepting() && results.every(([, ok]) => ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', accepting: deps.accepting(), checks });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', deps.metrics.contentType()).send(await deps.metrics.render());
  });

  return app;
}

async function within(check: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([check.catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The catalogue code for a 4xx status fastify or Node gives a request it refuses. */
const FRAMEWORK_STATUS: Partial<Record<number, ErrorCode>> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  413: 'TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

/** Maps anything thrown in a handler onto the error catalogue. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (err instanceof ZodError) {
    return new AppError('BAD_REQUEST', err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  }
  const fe = err as { statusCode?: number; code?: string; message?: string };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError('TOO_LARGE');
  // fastify answers an over-long path parameter with 414 but labels the error a 400.
  if (fe.code === 'FST_ERR_MAX_PARAM_LENGTH') return new AppError('URI_TOO_LONG', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(FRAMEWORK_STATUS[fe.statusCode] ?? 'BAD_REQUEST', fe.message);
  }
  return new AppError('INTERNAL');
}

/** Node's parser errors, per https://nodejs.org/api/http.html#event-clienterror: answer, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset or already destroyed socket has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('HEADERS_TOO_LARGE', 'the request line and headers are over 16 KiB')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('REQUEST_TIMEOUT')
        : new AppError('BAD_REQUEST', 'the request is not valid HTTP/1.1');
  const body = envelope(e);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
