import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../store/ferretdb';
import { startChild, waitForPort, type Child } from './processes';

/**
 * Debian's redis-server for a local cluster (the way store/ferretdb.ts runs FerretDB): on a loopback port,
 * its append-only file under `<dataDir>/redis`, in the foreground so it stops with the cluster. It holds
 * what the nodes share: the socket.io adapter's stream, node heartbeats.
 */
export async function startRedis(o: { dataDir: string; port?: number; bin?: string }): Promise<Child & { url: string; port: number }> {
  const port = o.port || (await freePort());
  const dir = join(o.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child = startChild('redis', o.bin ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--maxclients', '10000', '--loglevel', 'warning'], { quiet: true });
  await waitForPort(port, { timeoutMs: 15_000, exited: child.exited, name: 'redis-server' });
  return Object.assign(child, { url: `redis://127.0.0.1:${port}`, port });
}
