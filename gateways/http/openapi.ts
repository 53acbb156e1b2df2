import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_PREFIX, OPERATOR_ROUTES } from '../../contracts/admin-api';
import { ERRORS, type ErrorCode } from '../../common/errors';
import { API_PREFIX, ApiError, SHOPPER_ERROR_DETAILS, SHOPPER_ROUTES } from '../../contracts/shopper-api';
import { SHOPPER_ERROR_DETAIL_EXAMPLES, SHOPPER_FLOWS, SHOPPER_ROUTE_DOCS, SHOPPER_TAGS } from '../../contracts/shopper-api.docs';

/** One entry of a route table (contracts/*): method, path with `:params`, and its zod schemas. */
interface RouteSpec {
  method: string;
  path: string;
  body?: z.ZodType;
  query?: z.ZodType;
  response?: z.ZodType;
  auth?: boolean;
  permission?: string;
  /** Success status when not 200. */
  status?: number;
}

const schema = (t: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(t, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** The prose of a route (contracts/shopper-api.docs.ts): summary, description, tag, errors, retry safety, example. */
interface RouteDocSpec {
  summary: string;
  description: string;
  tag: string;
  errors: readonly ErrorCode[];
  retrySafe: boolean;
  retry: string;
  example: unknown;
}

interface ErrorDocs {
  /** Typed `error.details` by code. */
  details: Readonly<Partial<Record<ErrorCode, z.ZodType>>>;
  examples: Readonly<Partial<Record<ErrorCode, unknown>>>;
}

/** One error code's envelope: `{ error: { code: <this code>, message, details? } }`. */
function errorSchema(code: ErrorCode, errors: ErrorDocs): Record<string, unknown> {
  const details = errors.details[code];
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', const: code },
          message: { type: 'string', description: 'for logs and developers; show the shopper a text chosen by the code' },
          ...(details ? { details: schema(details, 'output') } : {}),
        },
      },
    },
  };
}

/** The error responses of a route, one per HTTP status, each listing its codes with a schema and an example. */
function errorResponses(codes: readonly ErrorCode[], errors: ErrorDocs): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const out: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const schemas = list.map((c) => errorSchema(c, errors));
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${ERRORS[c].message}${ERRORS[c].retryable ? ' (retrying may help)' : ''}`).join(' '),
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds until a call is allowed again', schema: { type: 'integer', minimum: 1 } } } } : {}),
      content: {
        'application/json': {
          schema: schemas.length === 1 ? schemas[0] : { oneOf: schemas },
          examples: Object.fromEntries(
            list.map((c) => {
              const details = errors.examples[c];
              return [c, { summary: c, value: { error: { code: c, message: ERRORS[c].message, ...(details !== undefined ? { details } : {}) } } }];
            }),
          ),
        },
      },
    };
  }
  return out;
}

/**
 * An OpenAPI 3.1 document generated from a route table, so the document, the server's validation and the
 * clients (mini-program, web admin, scripted shopper) can never disagree. With `docs`, each operation gets its
 * summary, description, tag, example and every error it can answer (typed by `errors`); without, one generic
 * error response.
 */
export function openApiDocument(o: {
  title: string;
  version: string;
  prefix: string;
  routes: Readonly<Record<string, RouteSpec>>;
  description?: string;
  servers?: ReadonlyArray<{ url: string; description?: string }>;
  docs?: Readonly<Record<string, RouteDocSpec>>;
  tags?: Readonly<Record<string, string>>;
  errors?: ErrorDocs;
}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(o.routes)) {
    const path = `${o.prefix}${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.query ? Object.entries((schema(r.query, 'input').properties ?? {}) as Record<string, unknown>).map(([n, s]) => ({ name: n, in: 'query', required: false, schema: s })) : [];
    const secured = r.auth !== false;
    const doc = o.docs?.[name];
    const ok = r.response ? { description: 'OK', content: { 'application/json': { schema: schema(r.response, 'output'), ...(doc ? { example: doc.example } : {}) } } } : { description: 'OK' };
    // Every route validates what it is given, may be rate-limited, may fail inside, and is refused at the HTTP edge
    // while the database is away or the service is stopping (gateways/http/app.ts); routes with a token can refuse it.
    const codes: ErrorCode[] = doc ? [...new Set<ErrorCode>([...(params.length || query.length || r.body ? (['BAD_REQUEST'] as const) : []), ...(secured ? (['UNAUTHENTICATED'] as const) : []), ...doc.errors, 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL'])] : [];
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      operationId: name,
      ...(doc ? { summary: doc.summary, tags: [doc.tag], 'x-retry-safe': doc.retrySafe } : {}),
      ...(doc
        ? { description: `${doc.description}\n\n**Retry:** ${doc.retrySafe ? 'safe.' : 'not safe as is.'} ${doc.retry}${r.permission ? `\n\nNeeds the \`${r.permission}\` permission in the object's site.` : ''}` }
        : r.permission
          ? { description: `Needs the \`${r.permission}\` permission in the object's site.` }
          : {}),
      ...(params.length || query.length ? { parameters: [...params, ...query] } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: ok,
        ...(doc && o.errors
          ? errorResponses(codes, o.errors)
          : { default: { description: 'Error: a stable code from the error catalogue (docs/errors.md)', content: { 'application/json': { schema: schema(ApiError, 'output') } } } }),
      },
      ...(secured ? { security: [{ bearer: [] }] } : { security: [] }),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: o.version, ...(o.description ? { description: o.description } : {}) },
    ...(o.servers ? { servers: o.servers } : {}),
    ...(o.tags ? { tags: Object.entries(o.tags).map(([name, description]) => ({ name, description })) } : {}),
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

/** The shopper API's document; `serverUrl` is where this service is reached (the request's own origin when served). */
export const shopperOpenApi = (serverUrl = 'http://127.0.0.1:8080'): Record<string, unknown> =>
  openApiDocument({
    title: 'Cabinet fleet shopper API',
    version: '1',
    prefix: API_PREFIX,
    routes: SHOPPER_ROUTES,
    description: `The mini-program’s server API. Money is integer fen; times are epoch milliseconds (UTC).\n\n${SHOPPER_FLOWS}`,
    servers: [{ url: serverUrl, description: 'this service (paths carry the /api/v1 prefix)' }],
    docs: SHOPPER_ROUTE_DOCS,
    tags: SHOPPER_TAGS,
    errors: { details: SHOPPER_ERROR_DETAILS, examples: SHOPPER_ERROR_DETAIL_EXAMPLES },
  });

export const operatorOpenApi = (): Record<string, unknown> =>
  openApiDocument({ title: 'Cabinet fleet operator API', version: '1', prefix: ADMIN_PREFIX, routes: OPERATOR_ROUTES, description: 'Operator actions; every call is checked against the role and sites of the bearer.' });

/** Serves both documents (public: they describe, they grant nothing). */
export function registerOpenApi(app: FastifyInstance): void {
  const shopper = shopperOpenApi();
  const operator = operatorOpenApi();
  // The server URL is the origin the document was fetched from, so a generated client points where it came from.
  app.get(`${API_PREFIX}/openapi.json`, async (req) => ({ ...shopper, servers: [{ url: `${req.protocol}://${req.host}`, description: 'this service (paths carry the /api/v1 prefix)' }] }));
  app.get(`${ADMIN_PREFIX}/openapi.json`, async () => operator);
}
