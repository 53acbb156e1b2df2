import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ERRORS } from '../../common/errors';
import { Metrics } from '../../common/metrics';
import { silentLogger } from '../../common/log';
import { ADMIN_PREFIX, OPERATOR_ROUTES } from '../../contracts/admin-api';
import { API_PREFIX, ApiError, SHOPPER_ERROR_DETAILS, SHOPPER_ROUTES } from '../../contracts/shopper-api';
import { SHOPPER_ROUTE_DOCS } from '../../contracts/shopper-api.docs';
import { buildHttpApp } from './app';
import { registerOpenApi } from './openapi';

type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; security: unknown[]; parameters?: Array<{ name: string; in: string }>; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: { type?: string; properties?: Record<string, unknown> } }> }> }>> };

// Generating a client and compiling it runs two processes: seconds when idle, longer on a loaded 2-core machine.
jest.setTimeout(120_000);

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

  type Op = {
    operationId: string;
    summary?: string;
    description?: string;
    tags?: string[];
    'x-retry-safe'?: boolean;
    responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }> }>;
  };
  const shopperOps = async () => {
    const doc = (await get(`${API_PREFIX}/openapi.json`)) as unknown as { servers: Array<{ url: string }>; info: { description: string }; tags: Array<{ name: string }>; paths: Record<string, Record<string, Op>> };
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    return { doc, ops };
  };

  it('validates as OpenAPI 3.1 with swagger-parser', async () => {
    // swagger-parser loads ESM dependencies jest's CommonJS runtime cannot, so it runs in a node of its own.
    const dir = mkdtempSync(join(tmpdir(), 'openapi-validate-'));
    try {
      const files = [join(dir, 'shopper.json'), join(dir, 'operator.json')];
      writeFileSync(files[0]!, JSON.stringify(await get(`${API_PREFIX}/openapi.json`)));
      writeFileSync(files[1]!, JSON.stringify(await get(`${ADMIN_PREFIX}/openapi.json`)));
      const script = `const P = (await import('@apidevtools/swagger-parser')).default; for (const f of process.argv.slice(1)) { const d = await P.validate(f); console.log(f, d.openapi, Object.keys(d.paths).length); }`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, ...files], { cwd: resolve(__dirname, '..', '..') });
      expect(stdout).toMatch(/shopper\.json 3\.1\.0 \d+/);
      expect(stdout).toMatch(/operator\.json 3\.1\.0 \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lint: a server URL, a flows section, and for every operation a summary, description, declared tag, retry safety and a valid example', async () => {
    const { doc, ops } = await shopperOps();
    expect(doc.servers[0]?.url).toBe('http://localhost:80');
    expect(doc.info.description).toMatch(/## Flows/);
    const tags = doc.tags.map((t) => t.name);
    expect(ops).toHaveLength(Object.keys(SHOPPER_ROUTES).length);
    for (const op of ops) {
      expect(op.summary).toMatch(/\w/);
      expect(op.description).toMatch(/\*\*Retry:\*\*/);
      expect(tags).toEqual(expect.arrayContaining(op.tags ?? ['(none)']));
      expect(typeof op['x-retry-safe']).toBe('boolean');
      const route = SHOPPER_ROUTES[op.operationId as keyof typeof SHOPPER_ROUTES];
      const ok = op.responses[String('status' in route ? route.status : 200)]?.content?.['application/json'];
      expect(() => route.response.parse(ok?.example)).not.toThrow();
    }
  });

  it('lint: every operation lists each error it answers, by status, with its code, typed details and an example; 429 says Retry-After', async () => {
    const { ops } = await shopperOps();
    for (const op of ops) {
      const route = SHOPPER_ROUTES[op.operationId as keyof typeof SHOPPER_ROUTES];
      expect(op.responses.default).toBeUndefined();
      const expected = [...SHOPPER_ROUTE_DOCS[op.operationId as keyof typeof SHOPPER_ROUTES].errors, 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL', ...(route.auth ? ['UNAUTHENTICATED'] : [])] as Array<keyof typeof ERRORS>;
      for (const code of expected) {
        const res = op.responses[String(ERRORS[code].status)];
        const example = res?.content?.['application/json']?.examples?.[code]?.value;
        expect({ op: op.operationId, code, documented: example !== undefined }).toEqual({ op: op.operationId, code, documented: true });
        const parsed = ApiError.parse(example);
        expect(parsed.error.code).toBe(code);
        const details = SHOPPER_ERROR_DETAILS[code as keyof typeof SHOPPER_ERROR_DETAILS];
        if (details && parsed.error.details !== undefined) expect(() => details.parse(parsed.error.details)).not.toThrow();
      }
      expect(op.responses['429']?.headers?.['Retry-After']).toBeDefined();
    }
    const visits = ops.find((o) => o.operationId === 'startVisit')!;
    expect(Object.keys(visits.responses['409']!.content!['application/json']!.examples!)).toEqual(expect.arrayContaining(['CABINET_UNAVAILABLE', 'DEBT_OUTSTANDING', 'CONTRACT_REQUIRED']));
  });

  it('documents the 503 UNAVAILABLE that every shopper route really answers while the database is away', async () => {
    // Not the document checked against its own table: the same paths, served by an app whose database gate is
    // down, answer 503 UNAVAILABLE before any handler runs; each operation must say so.
    const down = buildHttpApp({ log: silentLogger, metrics: new Metrics({ defaults: false }), readiness: [], accepting: () => true, database: { up: () => false, isOutage: () => false } });
    for (const r of Object.values(SHOPPER_ROUTES)) down.route({ method: r.method, url: `${API_PREFIX}${r.path}`, handler: async () => ({}) });
    try {
      const { ops } = await shopperOps();
      for (const [name, r] of Object.entries(SHOPPER_ROUTES)) {
        const res = await down.inject({ method: r.method, url: `${API_PREFIX}${r.path.replace(/:([A-Za-z]+)/g, 'x1')}`, payload: 'body' in r ? {} : undefined });
        expect({ name, status: res.statusCode, code: res.json<{ error: { code: string } }>().error.code }).toEqual({ name, status: 503, code: 'UNAVAILABLE' });
        const op = ops.find((o) => o.operationId === name)!;
        expect({ name, documented: op.responses['503']?.content?.['application/json']?.examples?.UNAVAILABLE !== undefined }).toEqual({ name, documented: true });
      }
    } finally {
      await down.close();
    }
  });

  it('documents epoch-millisecond times and the appId of the payment parameters', async () => {
    const text = JSON.stringify(await get(`${API_PREFIX}/openapi.json`));
    expect(text).toContain('milliseconds since the Unix epoch (UTC)');
    const doc = await get(`${API_PREFIX}/openapi.json`);
    const pay = doc.paths[`${API_PREFIX}/checkout`]!.post!.responses['200']!.content!['application/json']!.schema.properties!.requestPayment as { required: string[] };
    expect(pay.required).toContain('appId');
  });

  it('generates a TypeScript client with openapi-typescript that compiles with tsc', async () => {
    const root = resolve(__dirname, '..', '..');
    const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
    try {
      writeFileSync(join(dir, 'shopper.json'), JSON.stringify(await get(`${API_PREFIX}/openapi.json`)));
      const run = promisify(execFile);
      await run(process.execPath, [join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), join(dir, 'shopper.json'), '-o', join(dir, 'shopper.d.ts')], { cwd: root });
      // A client written against the generated types alone: both flows' calls and a typed refusal.
      writeFileSync(
        join(dir, 'client.ts'),
        `import type { paths } from './shopper';
type Json<T> = T extends { content: { 'application/json': infer J } } ? J : never;
export type Visit = Json<paths['/api/v1/visits']['post']['responses']['201']>;
export type Refused = Json<paths['/api/v1/visits']['post']['responses']['409']>;
export type Pay = Json<paths['/api/v1/checkout']['post']['responses']['200']>['requestPayment'];
export const state = (v: Visit): string => v.state;
export const appId = (p: Pay): string => p.appId;
export function reason(r: Refused): string | undefined {
  return r.error.code === 'CABINET_UNAVAILABLE' ? r.error.details?.reason : undefined;
}
`,
      );
      // Only the generated file and the client: no @types, no project files, so it stays quick on a busy machine.
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'commonjs', lib: ['es2022'], types: [], skipLibCheck: true }, files: ['client.ts'] }));
      await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: root });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
