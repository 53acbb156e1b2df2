import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_PREFIX, OPERATOR_ROUTES } from '../../contracts/admin-api';
import { API_PREFIX, ApiError, SHOPPER_ROUTES } from '../../contracts/shopper-api';

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

/**
 * An OpenAPI 3.1 document generated from a route table, so the document, the server's validation and the
 * clients (mini-program, web admin, scripted shopper) can never disagree.
 */
export function openApiDocument(o: { title: string; version: string; prefix: string; routes: Readonly<Record<string, RouteSpec>>; description?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(o.routes)) {
    const path = `${o.prefix}${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.query ? Object.entries((schema(r.query, 'input').properties ?? {}) as Record<string, unknown>).map(([n, s]) => ({ name: n, in: 'query', required: false, schema: s })) : [];
    const secured = r.auth !== false;
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      operationId: name,
      ...(r.permission ? { description: `Needs the \`${r.permission}\` permission in the object's site.` } : {}),
      ...(params.length || query.length ? { parameters: [...params, ...query] } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: r.response ? { description: 'OK', content: { 'application/json': { schema: schema(r.response, 'output') } } } : { description: 'OK' },
        default: { description: 'Error: a stable code from the error catalogue (docs/errors.md)', content: { 'application/json': { schema: schema(ApiError, 'output') } } },
      },
      ...(secured ? { security: [{ bearer: [] }] } : { security: [] }),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: o.version, ...(o.description ? { description: o.description } : {}) },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

export const shopperOpenApi = (): Record<string, unknown> =>
  openApiDocument({ title: 'Cabinet fleet shopper API', version: '1', prefix: API_PREFIX, routes: SHOPPER_ROUTES, description: 'The mini-program’s server API. Money is integer fen.' });

export const operatorOpenApi = (): Record<string, unknown> =>
  openApiDocument({ title: 'Cabinet fleet operator API', version: '1', prefix: ADMIN_PREFIX, routes: OPERATOR_ROUTES, description: 'Operator actions; every call is checked against the role and sites of the bearer.' });

/** Serves both documents (public: they describe, they grant nothing). */
export function registerOpenApi(app: FastifyInstance): void {
  const shopper = shopperOpenApi();
  const operator = operatorOpenApi();
  app.get(`${API_PREFIX}/openapi.json`, async () => shopper);
  app.get(`${ADMIN_PREFIX}/openapi.json`, async () => operator);
}
