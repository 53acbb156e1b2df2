import { Metrics } from '../../common/metrics';
import { silentLogger } from '../../common/log';
import { ADMIN_PREFIX, OPERATOR_ROUTES } from '../../contracts/admin-api';
import { API_PREFIX, SHOPPER_ROUTES } from '../../contracts/shopper-api';
import { buildHttpApp } from './app';
import { registerOpenApi } from './openapi';

type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; security: unknown[]; parameters?: Array<{ name: string; in: string }>; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: { type?: string; properties?: Record<string, unknown> } }> }> }>> };

describe('OpenAPI documents generated from the route tables', () => {
  const app = buildHttpApp({ log: silentLogger, metrics: new Metrics({ defaults: false }), readiness: [], accepting: () => true });
  registerOpenApi(app);
  afterAll(() => app.close());

  const get = async (url: string): Promise<Doc> => {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    return res.json<Doc>();
  };

  it('documents every shopper route with its method, parameters, body, response and auth', async () => {
    const doc = await get(`${API_PREFIX}/openapi.json`);
    expect(doc.openapi).toBe('3.1.0');
    for (const [name, r] of Object.entries(SHOPPER_ROUTES)) {
      const op = doc.paths[`${API_PREFIX}${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`]?.[r.method.toLowerCase()];
      expect(op?.operationId).toBe(name);
      expect(op?.security).toEqual(r.auth ? [{ bearer: [] }] : []);
      expect(!!op?.requestBody).toBe('body' in r);
      for (const p of r.path.match(/:([A-Za-z]+)/g) ?? []) expect(op?.parameters).toContainEqual(expect.objectContaining({ name: p.slice(1), in: 'path' }));
      const ok = op?.responses[String('status' in r ? r.status : 200)];
      expect(ok?.content?.['application/json']?.schema).toBeDefined();
    }
  });

  it('carries the schemas’ constraints (integer fen, enums) into the document', async () => {
    const doc = await get(`${API_PREFIX}/openapi.json`);
    const checkout = doc.paths[`${API_PREFIX}/checkout`]!.post!.responses['200']!.content!['application/json']!.schema;
    expect(checkout.properties?.totalFen).toMatchObject({ type: 'integer', minimum: 0 });
    const visit = doc.paths[`${API_PREFIX}/visits/{sessionId}`]!.get!.responses['200']!.content!['application/json']!.schema;
    expect((visit.properties?.state as { enum: string[] }).enum).toEqual(expect.arrayContaining(['charged', 'held_for_review', 'debt']));
  });

  it('documents every operator route', async () => {
    const doc = await get(`${ADMIN_PREFIX}/openapi.json`);
    for (const [name, r] of Object.entries(OPERATOR_ROUTES)) expect(doc.paths[`${ADMIN_PREFIX}${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`]?.[r.method.toLowerCase()]?.operationId).toBe(name);
  });
});
