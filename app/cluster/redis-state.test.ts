import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RedisClientType } from 'redis';
import { memoryLimiter, memoryNonces, type NonceClaims, type RequestLimiter } from '../../common/shared-state';
import { startRedis } from '../../tools/cluster/redis';
import { redisLeases, redisLimiter, redisNonces } from './redis-state';

jest.setTimeout(60_000);

/** The same behaviour from both implementations: in memory (one node) and on Debian's redis-server (a cluster). */
describe('shared state: nonces and request budgets', () => {
  let dir: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: RedisClientType;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-redis-'));
    redis = await startRedis({ dataDir: dir });
    client = createClient({ url: redis.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const impls = (): Array<[string, () => NonceClaims, () => RequestLimiter]> => [
    ['memory', () => memoryNonces(), () => memoryLimiter(3, 400)],
    ['redis', () => redisNonces(client), () => redisLimiter(client, 3, 400)],
  ];

  it.each(['memory', 'redis'])('%s: a nonce is claimed once within its time, and again after it', async (name) => {
    const [, nonces] = impls().find(([n]) => n === name)!;
    const a = nonces();
    const b = nonces();
    const key = `${name}-${Date.now()}`;
    expect(await a.claim(key, 300, Date.now())).toBe(true);
    // A second claimant (another node, for redis) is refused.
    expect(await (name === 'redis' ? b : a).claim(key, 300, Date.now())).toBe(false);
    await new Promise((r) => setTimeout(r, 350));
    expect(await a.claim(key, 300, Date.now())).toBe(true);
  });

  it('redis: one node leads a job at a time; the lease passes on when it runs out', async () => {
    const a = redisLeases(client, 'a');
    const b = redisLeases(client, 'b');
    const job = `reconciliation:${Date.now()}`;
    expect(await a.lead(job, 300)).toBe(true);
    expect(await b.lead(job, 300)).toBe(false);
    expect(await a.lead(job, 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    expect(await b.lead(job, 300)).toBe(true);
    expect(await a.lead(job, 300)).toBe(false);
  });

  it.each(['memory', 'redis'])('%s: three requests per window, then a wait that says how long', async (name) => {
    const [, , limiter] = impls().find(([n]) => n === name)!;
    const l = limiter();
    const key = `shopper-${name}-${Date.now()}`;
    for (let i = 0; i < 3; i++) expect(await l.take(key, Date.now())).toEqual({ allowed: true });
    const refused = await l.take(key, Date.now());
    expect(refused.allowed).toBe(false);
    expect(!refused.allowed && refused.retryAfterMs).toBeGreaterThan(0);
    expect(!refused.allowed && refused.retryAfterMs).toBeLessThanOrEqual(400);
    await new Promise((r) => setTimeout(r, 450));
    expect(await l.take(key, Date.now())).toEqual({ allowed: true });
  });
});
