import { execSync, fork } from 'node:child_process';
import { join } from 'node:path';
import { argsOrExit, badArguments, parseCli } from '../../common/cli';
import { parseCount, parseDuration } from '../simulator/args';
import { DEFAULT_GC_TUNING } from '../../app/gc';
import type { RowResult } from './bench.ipc';
import type { RowOptions } from './server.proc';

/**
 * Fleet benchmark (issue B): N simulated cabinets, status every 15 s, against the service and against a
 * bare socket.io server with the same clients and traffic, in one run. Each row runs in a fresh server
 * process (server.proc.ts, --expose-gc) with the cabinets in child processes, so the server's memory is
 * measured alone. Prints memory per connection for both rows and their ratio, and the unlock round-trip
 * (fleet.requestUnlock → cabinet actor → gateway → device ack → actor) beside the bare ack round-trip.
 *
 *   npx tsx tools/bench/fleet.bench.ts [--count 10000] [--clients 2] [--unlocks 2000] [--unlock-rate 100]
 */
const TARGET_MEMORY_RATIO = 2;
const TARGET_UNLOCK_P99_MS = 25;

const NAME = 'npx tsx tools/bench/fleet.bench.ts';
const HELP = `Fleet benchmark: N simulated cabinets against the service and against a bare socket.io server, one run.

usage: npm run bench:fleet [-- --count 10000] [--clients 2] [--unlocks 2000] [--unlock-rate 100]
         [--status-interval 15s] [--settle 20s] [--connect-rate 1000] [--max-connecting 400] [--connect-timeout 10m]
         [--rows bare,service] [--seed 1] [--mongodb-uri URI] [--gc-heap-growing-percent 100 (0: V8 defaults)] [--json]
  -h, --help   this text`;

const say = (line: string): void => void process.stdout.write(line + '\n');

const { v, count, base, rows } = argsOrExit('bench:fleet', () => {
  const { values: v } = parseCli({
    name: NAME,
    help: HELP,
    options: {
      count: { type: 'string', default: '10000' },
      clients: { type: 'string', default: '2' },
      unlocks: { type: 'string', default: '2000' },
      'unlock-rate': { type: 'string', default: '100' },
      'status-interval': { type: 'string', default: '15s' },
      settle: { type: 'string' },
      'connect-rate': { type: 'string', default: '1000' },
      'max-connecting': { type: 'string', default: '400' },
      'connect-timeout': { type: 'string', default: '10m' },
      rows: { type: 'string', default: 'bare,service' },
      seed: { type: 'string', default: '1' },
      'mongodb-uri': { type: 'string' },
      'gc-heap-growing-percent': { type: 'string', default: String(DEFAULT_GC_TUNING.heapGrowingPercent) },
      json: { type: 'boolean', default: false },
    },
  });
  const count = parseCount(v.count, 'count', 1, 100_000);
  const statusIntervalMs = parseDuration(v['status-interval']);
  const base: Omit<RowOptions, 'row'> = {
    count,
    clients: parseCount(v.clients, 'clients', 1, 16),
    unlocks: parseCount(v.unlocks, 'unlocks', 0, 100_000),
    unlockRate: parseCount(v['unlock-rate'], 'unlock-rate', 1, 100_000),
    statusIntervalMs,
    // Long enough for every cabinet to have sent a periodic status after its first one.
    settleMs: v.settle ? parseDuration(v.settle) : statusIntervalMs + 5_000,
    connectRate: parseCount(v['connect-rate'], 'connect-rate', 1, 100_000),
    maxConnecting: parseCount(v['max-connecting'], 'max-connecting', 1, 100_000),
    connectTimeoutMs: parseDuration(v['connect-timeout']),
    seed: parseCount(v.seed, 'seed'),
    openWithinMs: 15_000,
    gcHeapGrowingPercent: parseCount(v['gc-heap-growing-percent'], 'gc-heap-growing-percent', 0, 400),
    ...(v['mongodb-uri'] ? { mongodbUri: v['mongodb-uri'] } : {}),
  };
  const rows = v.rows.split(',').map((r) => r.trim()) as Array<RowOptions['row']>;
  for (const r of rows) if (r !== 'bare' && r !== 'service') throw badArguments(NAME, [`--rows: bare and/or service, not "${r}"`]);
  return { v, count, base, rows };
});

function fdLimit(): number | undefined {
  try {
    const out = execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return undefined;
  }
}

function runRow(row: RowOptions['row']): Promise<RowResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'server.proc.ts'), [JSON.stringify({ ...base, row })], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: RowResult | undefined;
    child.on('message', (m: { type: string; result?: RowResult }) => {
      if (m.type === 'result') result = m.result;
    });
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${row} row exited with ${code} before reporting`))));
  });
}

const kb = (b: number): string => `${(b / 1024).toFixed(1)} KB`;
const msf = (x: number): string => (Number.isNaN(x) ? '–' : x < 1 ? `${x.toFixed(2)} ms` : x < 100 ? `${x.toFixed(1)} ms` : `${x.toFixed(0)} ms`);
const pad = (s: string, n: number): string => s.padEnd(n);

async function main(): Promise<void> {
  const command = `npx tsx tools/bench/fleet.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
  const limit = fdLimit();
  const need = Math.ceil(count / base.clients) + 500;
  say(`fleet benchmark: ${count} cabinets, status every ${base.statusIntervalMs / 1000} s, ${base.clients} client processes, ${base.unlocks} unlocks at ${base.unlockRate}/s`);
  if (limit !== undefined && limit < count + 500) {
    say(`warning: ulimit -n is ${limit}; the server process holds one socket per cabinet (${count}) and each client process ${need}.`);
    say(`         raise it first (ulimit -n ${Math.max(65_536, 2 * count + 1000)}, or --clients more processes for the client side).`);
  }
  const results: RowResult[] = [];
  for (const row of rows) results.push(await runRow(row));

  say('');
  say(`command: ${command}`);
  say(`node ${process.version}, ${rows.join(' then ')}, each row in a fresh server process; memory is (after − before) / connected, after forced GC`);
  say(`GC settings of both rows: ${base.gcHeapGrowingPercent ? `old generation grows ${base.gcHeapGrowingPercent}% past live before a full collection, no memory reducer (the service's default, app/gc.ts)` : "V8's defaults"}`);
  say('');
  const head = [pad('row', 9), pad('connected', 13), pad('connect', 9), pad('heap/conn', 11), pad('RSS/conn', 11), pad('unlock p50', 12), pad('unlock p99', 12), pad('max', 10), pad('status ack p50/p99', 20), 'loop p99'];
  say(head.join(''));
  for (const r of results) {
    say(
      [
        pad(r.row, 9),
        pad(`${r.online}/${r.count}`, 13),
        pad(`${(r.connectMs / 1000).toFixed(1)} s`, 9),
        pad(kb(r.perConnection.heapUsed), 11),
        pad(kb(r.perConnection.rss), 11),
        pad(msf(r.unlock.p50), 12),
        pad(msf(r.unlock.p99), 12),
        pad(msf(r.unlock.max), 10),
        pad(`${msf(r.statusRtt.p50)} / ${msf(r.statusRtt.p99)}`, 20),
        msf(r.eventLoopDelay.p99),
      ].join(''),
    );
  }
  const bare = results.find((r) => r.row === 'bare');
  const svc = results.find((r) => r.row === 'service');
  say('');
  say('unlock: service = fleet.requestUnlock → cabinet actor → gateway → device ack → actor; bare = server emitWithAck(unlock) → device ack');
  if (bare && svc) {
    const heapRatio = svc.perConnection.heapUsed / bare.perConnection.heapUsed;
    // RSS can fall while a small fleet connects (start-up pages handed back); then it says nothing per connection.
    const rssMeasurable = svc.perConnection.rss > 0 && bare.perConnection.rss > 0;
    const rssRatio = rssMeasurable ? svc.perConnection.rss / bare.perConnection.rss : NaN;
    const met = heapRatio <= TARGET_MEMORY_RATIO && (!rssMeasurable || rssRatio <= TARGET_MEMORY_RATIO);
    say(`ratio service/bare per connection: heap ${heapRatio.toFixed(2)}×, RSS ${rssMeasurable ? `${rssRatio.toFixed(2)}×` : 'n/a (RSS fell during the run: too few connections to measure it)'}   (target ≤ ${TARGET_MEMORY_RATIO}×: ${met ? 'met' : 'NOT met'})`);
  }
  if (svc) say(`service unlock p99 ${msf(svc.unlock.p99)} at ${svc.online} cabinets (target ≤ ${TARGET_UNLOCK_P99_MS} ms: ${svc.unlock.p99 <= TARGET_UNLOCK_P99_MS ? 'met' : 'NOT met'}); ${svc.unlock.ok}/${svc.unlock.count} granted${Object.keys(svc.unlock.failures).length ? `, refused ${JSON.stringify(svc.unlock.failures)}` : ''}`);
  for (const r of results) {
    say(`${r.row}: status ${r.statusAcked}/${r.statusSent} acked; server heap ${kb(r.before.heapUsed)} → ${kb(r.after.heapUsed)}, RSS ${kb(r.before.rss)} → ${kb(r.after.rss)}, peak RSS while unlocking ${(r.peakRssUnderLoad / 2 ** 20).toFixed(0)} MiB; client RSS ${kb(r.clientRssPerConnection)}/cabinet; event loop p50 ${msf(r.eventLoopDelay.p50)} max ${msf(r.eventLoopDelay.max)}`);
    if (r.unlock.count && r.unlock.ok < r.unlock.count && r.row === 'bare') say(`bare: unlock failures ${JSON.stringify(r.unlock.failures)}`);
    for (const n of r.notes) say(`${r.row}: ${n}`);
  }
  if (v.json) say(JSON.stringify(results));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
