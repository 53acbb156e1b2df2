import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDevice, type TestDevice } from '../../test/device-client';
import { haproxyConfig } from './haproxy';
import { startCluster, type LocalCluster } from './cluster';

jest.setTimeout(240_000);

/**
 * Two service nodes on one FerretDB and one redis-server behind HAProxy, all started by tools/cluster as
 * `npm run cluster` does: both register, the one address spreads connections over them, and a cabinet's
 * newer connection on one node closes its older one on the other (socket.io's Redis Streams adapter).
 */
describe('a local cluster', () => {
  let dir: string;
  let cluster: LocalCluster;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-cluster-'));
    cluster = await startCluster({ nodes: 2, port: 0, dataDir: dir, env: { RECOGNITION_WORKERS: '0' }, say: () => undefined });
  });
  afterAll(async () => {
    for (const d of devices) d.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = async (path: string, base = cluster.url) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${cluster.adminToken}` } })).json() as Promise<Record<string, unknown>>;

  it('lists both nodes with their heartbeats, from either node', async () => {
    for (const n of cluster.nodes) {
      const status = (await admin('/admin/cluster', n.url)) as { nodeId: string; nodes: Array<{ nodeId: string; url: string }> };
      expect(status.nodeId).toBe(n.nodeId);
      expect(status.nodes.map((x) => [x.nodeId, x.url])).toEqual(cluster.nodes.map((x) => [x.nodeId, x.url]));
    }
  });

  it('a cabinet connecting again through the one address lands on the other node and its older connection is closed there', async () => {
    const secrets = JSON.parse(readFileSync(join(dir, 'service', 'demo-cabinets.json'), 'utf8')) as Record<string, string> | Array<{ cabinetId: string; secret: string }>;
    const secretOf = (id: string) => (Array.isArray(secrets) ? secrets.find((s) => s.cabinetId === id)!.secret : secrets[id]!);
    const first = await connectDevice({ url: cluster.url, cabinetId: 'SH-SEMI-01', secret: secretOf('SH-SEMI-01') });
    devices.push(first);
    const closed = new Promise<string>((res) => first.socket.on('disconnect', (reason) => res(reason)));
    // Least connections: the second connection goes to the node that holds none.
    const second = await connectDevice({ url: cluster.url, cabinetId: 'SH-SEMI-01', secret: secretOf('SH-SEMI-01') });
    devices.push(second);
    expect(await closed).toBe('io server disconnect');
    expect(second.socket.connected).toBe(true);
    const counts = async () => ((await admin('/admin/cluster')) as { nodes: Array<{ cabinets: number }> }).nodes.map((n) => n.cabinets);
    // Heartbeats carry the counts (every 2 s): one node holds the cabinet, the other none.
    for (let i = 0; i < 40; i++) {
      const c = await counts();
      if (c.reduce((a, b) => a + b, 0) === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await counts()).sort()).toEqual([0, 1]);
  });

  it('refuses on one node a handshake nonce already used on the other, and keeps one request budget per shopper across nodes', async () => {
    const secrets = JSON.parse(readFileSync(join(dir, 'service', 'demo-cabinets.json'), 'utf8')) as Record<string, string> | Array<{ cabinetId: string; secret: string }>;
    const secret = Array.isArray(secrets) ? secrets.find((s) => s.cabinetId === 'SH-OPEN-01')!.secret : secrets['SH-OPEN-01']!;
    const ts = Date.now();
    const used = await connectDevice({ url: cluster.nodes[0]!.url, cabinetId: 'SH-OPEN-01', secret, ts, nonce: 'a'.repeat(24) });
    devices.push(used);
    const replay = await connectDevice({ url: cluster.nodes[1]!.url, cabinetId: 'SH-OPEN-01', secret, ts, nonce: 'a'.repeat(24) }).catch((e: Error & { data?: { code?: string } }) => e);
    expect((replay as Error & { data?: { code?: string } }).data?.code).toBe('AUTH_FAILED');
  });

  it('writes an HAProxy config with a health check per node and no stickiness for websockets', () => {
    const cfg = haproxyConfig({ port: 9000, nodes: [{ id: 'n1', port: 9001 }, { id: 'n2', port: 9002 }] });
    expect(cfg).toContain('bind 127.0.0.1:9000');
    expect(cfg).toContain('balance leastconn');
    expect(cfg.match(/server n\d 127\.0\.0\.1:900\d check/g)).toHaveLength(2);
  });
});
