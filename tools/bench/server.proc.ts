import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../app/config';
import { applyGcTuning } from '../../app/gc';
import { startService, type Service } from '../../app/service';
import { createLogger } from '../../common/log';
import type { SimCabinetSpec } from '../simulator/cabinet';
import { provision, simSpecs, withSecrets } from '../simulator/fleet';
import { hashSeed, seededRng } from '../simulator/rng';
import { Samples } from '../simulator/stats';
import { DEFAULT_MASTER_KEY, deriveSecret, startBareServer, type BareServer } from './bare-server';
import type { MemoryFigures, RowResult } from './bench.ipc';
import { report, spawnClients, stopClients } from './clients';

/**
 * One row of the fleet benchmark, in a process of its own so its memory is measured alone: the server (the
 * bare socket.io baseline, or the whole service in this process) is started here, the simulated cabinets run
 * in child processes, and the figures go back to the orchestrator (fleet.bench.ts) over IPC.
 * Run with --expose-gc: memory is read after forced collections.
 */
export interface RowOptions {
  row: 'bare' | 'service';
  count: number;
  clients: number;
  unlocks: number;
  unlockRate: number;
  statusIntervalMs: number;
  settleMs: number;
  connectRate: number;
  /** First connections in progress at once, over all client processes. */
  maxConnecting: number;
  connectTimeoutMs: number;
  seed: number;
  /** Service row: use this MongoDB server instead of the embedded FerretDB. */
  mongodbUri?: string;
  /** Sent to the bare devices as openWithinMs, like the service's default. */
  openWithinMs: number;
  /** GC setting of both rows, the service's own (app/gc.ts, GC_HEAP_GROWING_PERCENT); 0 = V8's defaults. */
  gcHeapGrowingPercent: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as RowOptions;
const say = (line: string): void => void process.stderr.write(`[${opts.row}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  // Collect until RSS settles: right after start-up the allocator is still handing pages back, which would
  // make a small fleet's RSS per connection come out negative.
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    gc();
    await sleep(300);
    const rss = process.memoryUsage().rss;
    if (Math.abs(rss - last) < 512 * 1024) break;
    last = rss;
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external };
}

interface Target {
  url: string;
  connected(): number;
  unlock(cabinetId: string): Promise<{ ok: boolean; code?: string }>;
  stop(): Promise<void>;
}

async function startTarget(specs: ReturnType<typeof simSpecs>): Promise<{ target: Target; cabinets: SimCabinetSpec[]; notes: string[] }> {
  const notes: string[] = [];
  if (opts.row === 'bare') {
    const server: BareServer = await startBareServer({});
    const secrets = Object.fromEntries(specs.map((s) => [s.cabinetId, deriveSecret(DEFAULT_MASTER_KEY, s.cabinetId)]));
    let n = 0;
    return {
      cabinets: withSecrets(specs, secrets),
      notes,
      target: {
        url: server.url,
        connected: () => server.connectedCount(),
        async unlock(id) {
          const r = await server.unlock(id, `bench-${++n}-${randomBytes(4).toString('hex')}`, opts.openWithinMs, 3_000);
          return r.ack.ok ? { ok: true } : { ok: false, code: r.ack.error.code };
        },
        stop: () => server.close(),
      },
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'cabinet-bench-'));
  const adminToken = randomBytes(24).toString('hex');
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    ADMIN_TOKEN: adminToken,
    GC_HEAP_GROWING_PERCENT: String(opts.gcHeapGrowingPercent),
    DB_NAME: `bench_${randomBytes(3).toString('hex')}`,
    ...(opts.mongodbUri ? { MONGODB_URI: opts.mongodbUri } : {}),
  });
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const service: Service = await startService(config, { log });
  notes.push(service.ferretdb ? 'service on the embedded FerretDB (its own process, not in these figures)' : 'service on MONGODB_URI');
  say(`service up at ${service.url}; provisioning ${specs.length} cabinets over POST /admin/cabinets/batch …`);
  const t0 = performance.now();
  const res = await provision(specs, { url: service.url, adminToken, onProgress: (d, t) => say(`  provisioned ${d}/${t}`) });
  const refused = Object.keys(res.errors).length;
  if (refused) notes.push(`${refused} cabinets refused at provisioning (first: ${JSON.stringify(Object.entries(res.errors)[0])})`);
  notes.push(`provisioning ${specs.length} cabinets took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return {
    cabinets: withSecrets(specs, res.secrets),
    notes,
    target: {
      url: service.url,
      connected: () => service.devices.connectedCount(),
      async unlock(id) {
        const r = await service.fleet.requestUnlock(id, { purpose: 'restock', operatorId: 'bench' });
        return r.ok ? { ok: true } : { ok: false, code: r.reason };
      },
      async stop() {
        await service.stop('bench over');
        rmSync(dataDir, { recursive: true, force: true });
      },
    },
  };
}

async function main(): Promise<void> {
  // Both rows run with the service's GC settings (app/main.ts applies them the same way).
  applyGcTuning({ heapGrowingPercent: opts.gcHeapGrowingPercent });
  const specs = simSpecs(opts.count, { prefix: 'BENCH' });
  const { target, cabinets, notes } = await startTarget(specs);
  const before = await measure();
  say(`baseline heap ${(before.heapUsed / 2 ** 20).toFixed(1)} MiB, RSS ${(before.rss / 2 ** 20).toFixed(1)} MiB; starting ${opts.clients} client processes for ${cabinets.length} cabinets`);

  const t0 = performance.now();
  const { children, progress } = spawnClients(cabinets, { url: target.url, processes: opts.clients, statusIntervalMs: opts.statusIntervalMs, connectRate: opts.connectRate, maxConnecting: opts.maxConnecting, seed: opts.seed });
  const lastPrint = { at: 0 };
  let firstAt: number | undefined;
  for (;;) {
    const n = target.connected();
    if (n > 0 && firstAt === undefined) firstAt = performance.now();
    if (n >= cabinets.length) break;
    if (performance.now() - t0 > opts.connectTimeoutMs) {
      notes.push(`only ${n}/${cabinets.length} connected within ${opts.connectTimeoutMs / 1000} s`);
      break;
    }
    if (performance.now() - lastPrint.at > 2000) {
      lastPrint.at = performance.now();
      const p = [...progress.values()];
      say(`connecting: ${n}/${cabinets.length} on the server · clients report online ${p.reduce((a, x) => a + x.online, 0)}, refused ${p.reduce((a, x) => a + x.refused, 0)}, transport errors ${p.reduce((a, x) => a + x.connectErrors, 0)}`);
    }
    await sleep(100);
  }
  // From the first accepted connection to the last: the client processes' start-up is not the server's doing.
  const connectMs = performance.now() - (firstAt ?? t0);
  const online = target.connected();
  say(`${online} connected in ${(connectMs / 1000).toFixed(1)} s; settling ${opts.settleMs / 1000} s (status every ${opts.statusIntervalMs / 1000} s)`);

  // The histogram holds whole timer intervals; the delay is what exceeds the resolution.
  const resolutionMs = 5;
  const loop = monitorEventLoopDelay({ resolution: resolutionMs });
  loop.enable();
  await sleep(opts.settleMs);
  const after = await measure();
  const per = (k: keyof MemoryFigures): number => (online > 0 ? (after[k] - before[k]) / online : NaN);
  say(`after: heap ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB, RSS ${(after.rss / 2 ** 20).toFixed(1)} MiB → ${(per('heapUsed') / 1024).toFixed(1)} KB heap, ${(per('rss') / 1024).toFixed(1)} KB RSS per connection`);

  // Unlocks: distinct cabinets with doors, in a seeded order, at a steady rate while the statuses go on.
  const rng = seededRng(hashSeed('unlocks', opts.seed));
  const doored = cabinets.filter((c) => c.kind !== 'open').map((c) => c.cabinetId);
  for (let i = doored.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [doored[i], doored[j]] = [doored[j] as string, doored[i] as string];
  }
  const picks = doored.slice(0, opts.unlocks);
  const lat = new Samples(1_000_000);
  const failures: Record<string, number> = {};
  let ok = 0;
  say(`unlocking ${picks.length} cabinets at ${opts.unlockRate}/s …`);
  const gap = 1000 / opts.unlockRate;
  const started = performance.now();
  // Peak RSS while unlocks and statuses run (no forced GC): the headroom the GC settings trade for latency.
  let peakRss = process.memoryUsage.rss();
  const rssProbe = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < picks.length; i++) {
    const due = started + i * gap;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const id = picks[i] as string;
    const t = performance.now();
    pending.push(
      target.unlock(id).then(
        (r) => {
          lat.add(performance.now() - t);
          if (r.ok) ok++;
          else failures[r.code ?? 'UNKNOWN'] = (failures[r.code ?? 'UNKNOWN'] ?? 0) + 1;
        },
        (e: unknown) => {
          const key = `THROWN: ${e instanceof Error ? e.message : String(e)}`.slice(0, 80);
          failures[key] = (failures[key] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  loop.disable();
  clearInterval(rssProbe);

  const reports = await Promise.all(children.map(report));
  const rtt = new Samples(2_000_000);
  let statusAcked = 0;
  let statusSent = 0;
  let clientRss = 0;
  for (const r of reports) {
    for (const v of r.statusRtt.samples) rtt.add(v);
    statusAcked += r.counters.statusAcked;
    statusSent += r.counters.statusSent;
    clientRss += r.memory.rss;
    if (r.counters.connectErrors) notes.push(`transport-level connect failures (retried): ${JSON.stringify(r.counters.connectErrorKinds)}`);
    if (Object.keys(r.counters.refused).length) notes.push(`refused handshakes: ${JSON.stringify(r.counters.refused)}`);
    if (r.counters.statusTimedOut) notes.push(`status acks timed out: ${r.counters.statusTimedOut}`);
    if (Object.keys(r.counters.statusRejected).length) notes.push(`status rejected: ${JSON.stringify(r.counters.statusRejected)}`);
  }
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
  const result: RowResult = {
    row: opts.row,
    count: opts.count,
    online,
    connectMs,
    before,
    after,
    perConnection: { heapUsed: per('heapUsed'), rss: per('rss'), external: per('external') },
    unlock: { count: picks.length, ok, failures, p50: lat.percentile(50), p90: lat.percentile(90), p99: lat.percentile(99), max: lat.max() },
    statusRtt: { count: rtt.count, p50: rtt.percentile(50), p99: rtt.percentile(99) },
    statusAcked,
    statusSent,
    eventLoopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
    clientRssPerConnection: clientRss / Math.max(1, cabinets.length),
    peakRssUnderLoad: peakRss,
    notes,
  };
  say(`unlock p50 ${result.unlock.p50.toFixed(2)} ms, p99 ${result.unlock.p99.toFixed(2)} ms (${ok}/${picks.length} ok)`);

  await stopClients(children);
  await target.stop();
  process.send?.({ type: 'result', result });
  setTimeout(() => process.exit(0), 200);
}

main().catch((e: unknown) => {
  say(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
