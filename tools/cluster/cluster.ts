import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startFerretDb, type FerretDbHandle } from '../../store/ferretdb';
import { startHaproxy } from './haproxy';
import { startChild, waitForPort, type Child } from './processes';
import { startRedis } from './redis';

const ROOT = resolve(__dirname, '..', '..');

export interface ClusterOptions {
  nodes: number;
  /** HAProxy's port, the cluster's one address (0: a free one). */
  port: number;
  dataDir: string;
  /** Extra environment for every node (RECOGNITION_WORKERS, timings, …). */
  env?: Record<string, string>;
  /** Progress lines (stderr by default). */
  say?: (msg: string) => void;
  /** Relay the nodes' log lines to stderr. */
  verbose?: boolean;
}

export interface NodeProcess extends Child {
  nodeId: string;
  port: number;
  url: string;
}

export interface LocalCluster {
  url: string;
  adminToken: string;
  nodes: NodeProcess[];
  redisUrl: string;
  databaseUri: string;
  emulatorUrl: string;
  /** Starts a node again under its old id and port (after a kill), waiting until it is ready. */
  restart(nodeId: string): Promise<NodeProcess>;
  stop(): Promise<void>;
}

/**
 * A cluster on this machine from the project's own parts: one FerretDB (shared; MongoDB replica set in
 * production), Debian's redis-server, the WeChat emulator as its own process (as WeChat is one service for
 * all nodes), N service nodes (`app/main.ts` with REDIS_URL and NODE_ID) and Debian's HAProxy in front.
 * The first node seeds the demo data; the others start once it is ready (they share DATA_DIR, so the
 * generated secrets key and admin token are the first node's).
 */
export async function startCluster(o: ClusterOptions): Promise<LocalCluster> {
  const say = o.say ?? ((m: string) => process.stderr.write(`[cluster] ${m}\n`));
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    mkdirSync(o.dataDir, { recursive: true });
    say('starting FerretDB (shared by every node)…');
    const ferret: FerretDbHandle = await startFerretDb({ dataDir: join(o.dataDir, 'ferretdb') });
    started.push(ferret);
    say(`FerretDB at ${ferret.uri}; starting redis-server…`);
    const redis = await startRedis({ dataDir: o.dataDir });
    started.push(redis);
    say(`redis at ${redis.url}; starting the WeChat emulator…`);
    const emuPort = await freePort();
    const emuDir = join(o.dataDir, 'wechat-sandbox');
    const emulator = startChild('wechat', process.execPath, ['--import', 'tsx', join(ROOT, 'payments/emulator/main.ts'), '--port', String(emuPort), '--data-dir', emuDir, '--time-scale', o.env?.WECHAT_EMULATOR_TIME_SCALE ?? '1'], { quiet: !o.verbose });
    started.push(emulator);
    await waitForPort(emuPort, { timeoutMs: 30_000, exited: emulator.exited, name: 'wechat emulator' });
    const emulatorUrl = `http://127.0.0.1:${emuPort}`;
    const serviceDir = join(o.dataDir, 'service');
    const nodes: NodeProcess[] = [];
    const startNode = async (i: number, port?: number): Promise<NodeProcess> => {
      const nodeId = `n${i + 1}`;
      const p = port ?? (await freePort());
      const env: Record<string, string> = {
        HOST: '127.0.0.1',
        PORT: String(p),
        MONGODB_URI: ferret.uri,
        REDIS_URL: redis.url,
        NODE_ID: nodeId,
        DATA_DIR: serviceDir,
        WECHAT_MODE: 'sandbox',
        WECHAT_EMULATOR_URL: emulatorUrl,
        WECHAT_SANDBOX_DIR: emuDir,
        SEED_DEMO: i === 0 ? 'true' : 'false',
        DEMO_SIMULATOR: 'false',
        RECOGNITION_WORKERS: '1',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'warn',
        ...o.env,
      };
      const child = startChild(nodeId, process.execPath, ['--import', 'tsx', join(ROOT, 'app/main.ts')], { env, quiet: !o.verbose });
      await waitForReady(p, child, nodeId);
      return Object.assign(child, { nodeId, port: p, url: `http://127.0.0.1:${p}` });
    };
    for (let i = 0; i < o.nodes; i++) {
      say(`starting node n${i + 1} of ${o.nodes}…`);
      const n = await startNode(i);
      nodes.push(n);
      started.push(n);
      say(`node ${n.nodeId} ready at ${n.url}`);
    }
    const port = o.port || (await freePort());
    say('starting HAProxy in front of the nodes…');
    const haproxy = await startHaproxy({ dataDir: o.dataDir, port, nodes: nodes.map((n) => ({ id: n.nodeId, port: n.port })) });
    started.push(haproxy);
    const adminToken = readFileSync(join(serviceDir, 'admin.token'), 'utf8').trim();
    say(`cluster ready: ${haproxy.url} (${o.nodes} nodes)`);
    return {
      url: haproxy.url,
      adminToken,
      nodes,
      redisUrl: redis.url,
      databaseUri: ferret.uri,
      emulatorUrl,
      async restart(nodeId) {
        const i = nodes.findIndex((n) => n.nodeId === nodeId);
        if (i < 0) throw new Error(`no node ${nodeId}`);
        const n = await startNode(i, nodes[i]!.port);
        nodes[i] = n;
        started.push(n);
        return n;
      },
      stop: async () => {
        say('stopping: HAProxy, the nodes, the emulator, redis, FerretDB…');
        await stopAll();
        say('stopped');
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

async function waitForReady(port: number, child: Child, name: string): Promise<void> {
  await waitForPort(port, { timeoutMs: 120_000, exited: child.exited, name });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${name} listened but never became ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
