import { resolve } from 'node:path';
import { numberFlag, parseCli, runCli } from '../../common/cli';
import { startCluster } from './cluster';

const NAME = 'npm run cluster --';
const HELP = `A local cluster: FerretDB, redis-server, the WeChat emulator, N service nodes and HAProxy in front.

usage: ${NAME} [--nodes 3] [--port 8080] [--data-dir ./data/cluster] [--verbose]

  --nodes N      service nodes (default 3)
  --port P       HAProxy's port, the cluster's one address (default 8080)
  --data-dir D   where FerretDB, redis and the nodes keep their data (default ./data/cluster)
  --verbose      relay every node's log lines
  -h, --help     this text

Ctrl-C stops all of it, HAProxy first.`;

runCli('cluster', async () => {
  const { values } = parseCli({ name: NAME, help: HELP, options: { nodes: { type: 'string', default: '3' }, port: { type: 'string', default: '8080' }, 'data-dir': { type: 'string', default: './data/cluster' }, verbose: { type: 'boolean', default: false } } });
  const cluster = await startCluster({
    nodes: numberFlag(NAME, 'nodes', String(values.nodes), { min: 1, max: 16, integer: true }),
    port: numberFlag(NAME, 'port', String(values.port), { min: 0, max: 65535, integer: true }),
    dataDir: resolve(String(values['data-dir'])),
    verbose: values.verbose === true,
  });
  process.stdout.write(`${JSON.stringify({ url: cluster.url, nodes: cluster.nodes.map((n) => ({ nodeId: n.nodeId, url: n.url, pid: n.pid })), redis: cluster.redisUrl, database: cluster.databaseUri, status: `${cluster.url}/admin/cluster` })}\n`);
  await new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
  });
  await cluster.stop();
});
