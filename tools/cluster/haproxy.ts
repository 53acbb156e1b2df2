import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, waitForPort, type Child } from './processes';

export interface Backend {
  id: string;
  port: number;
}

/**
 * The one address in front of the nodes. Devices speak socket.io over websocket only, so any node will do
 * for a new connection (least connections spreads them; a cabinet's older connection elsewhere is closed by
 * the node that took the new one). The console's and shopper's HTTP calls carry their own tokens and may go
 * anywhere; the console's live feed may fall back to HTTP long-polling, whose requests must reach the node
 * that opened the session, hence the cookie (only a polling client ever gets one used).
 */
export function haproxyConfig(o: { port: number; nodes: readonly Backend[]; maxconn?: number }): string {
  const maxconn = o.maxconn ?? 9_000;
  return [
    'global',
    `  maxconn ${maxconn}`,
    '',
    'defaults',
    '  mode http',
    '  option http-server-close',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    // A websocket stays up for hours; socket.io's own pings keep it honest.
    '  timeout tunnel 1h',
    '',
    'frontend fleet',
    `  bind 127.0.0.1:${o.port}`,
    '  default_backend nodes',
    '',
    'backend nodes',
    '  balance leastconn',
    '  option httpchk GET /readyz',
    '  cookie CFNODE insert indirect nocache',
    ...o.nodes.map((n) => `  server ${n.id} 127.0.0.1:${n.port} check inter 1s fall 2 rise 1 cookie ${n.id}`),
    '',
  ].join('\n');
}

export async function startHaproxy(o: { dataDir: string; port: number; nodes: readonly Backend[]; bin?: string }): Promise<Child & { url: string; configPath: string }> {
  const configPath = join(o.dataDir, 'haproxy.cfg');
  writeFileSync(configPath, haproxyConfig(o));
  // -db: stay in the foreground; -W: master-worker, so a reload keeps serving.
  const child = startChild('haproxy', o.bin ?? 'haproxy', ['-W', '-db', '-f', configPath]);
  await waitForPort(o.port, { timeoutMs: 10_000, exited: child.exited, name: 'haproxy' });
  return Object.assign(child, { url: `http://127.0.0.1:${o.port}`, configPath });
}
