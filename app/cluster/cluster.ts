import { hostname } from 'node:os';
import { createClient, type RedisClientType } from 'redis';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';

/**
 * This node's place in a cluster of service nodes (issue N). With REDIS_URL set, the nodes share one Redis:
 * socket.io's Redis Streams adapter carries broadcasts and cross-node socket management, and each node
 * registers itself under `cf:node:<id>` with a heartbeat (a key that expires unless renewed), which is what
 * the cluster status reads. Without REDIS_URL the service is one node on its own and this is not used.
 */
export interface ClusterNode {
  readonly nodeId: string;
  /** The client the socket.io adapter publishes with (its reads use duplicates of it). */
  readonly redis: RedisClientType;
  status(): Promise<ClusterStatus>;
  close(): Promise<void>;
}

export interface NodeEntry {
  nodeId: string;
  url: string;
  startedAt: number;
  heartbeatAt: number;
  cabinets: number;
}

export interface ClusterStatus {
  nodeId: string;
  nodes: NodeEntry[];
}

/** A node that misses this many heartbeats in a row is taken for gone (its key expires). */
export const HEARTBEAT_MS = 2_000;
export const NODE_TTL_MS = 3 * HEARTBEAT_MS;
const KEY = (id: string) => `cf:node:${id}`;

export const defaultNodeId = (): string => `${hostname()}-${process.pid}`;

export async function joinCluster(o: { redisUrl: string; nodeId?: string; url: string; clock: Clock; log: Logger; cabinets: () => number }): Promise<ClusterNode> {
  const nodeId = o.nodeId ?? defaultNodeId();
  const redis: RedisClientType = createClient({ url: o.redisUrl, socket: { reconnectStrategy: (n) => Math.min(50 * 2 ** n, 2_000) } });
  redis.on('error', (e: Error) => o.log.warn({ err: e.message }, 'redis connection error'));
  await redis.connect();
  const startedAt = o.clock.now();
  const beat = async () => {
    const entry: NodeEntry = { nodeId, url: o.url, startedAt, heartbeatAt: o.clock.now(), cabinets: o.cabinets() };
    await redis.set(KEY(nodeId), JSON.stringify(entry), { PX: NODE_TTL_MS });
  };
  await beat();
  const timer = setInterval(() => beat().catch((e: unknown) => o.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'cluster heartbeat not written')), HEARTBEAT_MS);
  timer.unref();
  o.log.info({ nodeId }, 'joined the cluster');
  return {
    nodeId,
    redis,
    async status() {
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: 'cf:node:*', COUNT: 100 })) keys.push(...(Array.isArray(batch) ? batch : [batch]));
      const values = keys.length ? await redis.mGet(keys) : [];
      const nodes = values.filter((v): v is string => typeof v === 'string').map((v) => JSON.parse(v) as NodeEntry).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
      return { nodeId, nodes };
    },
    async close() {
      clearInterval(timer);
      await redis.del(KEY(nodeId)).catch(() => undefined);
      await redis.quit().catch(() => undefined);
    },
  };
}
