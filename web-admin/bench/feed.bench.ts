/**
 * `npm run bench:console -- [--cabinets 10000] [--changes 1000] [--seconds 15] [--devices [--unlocks 10]]`
 *
 * What the console's fleet page receives and how smoothly it draws with a large fleet changing. The real
 * service runs in-process (embedded FerretDB, demo accounts); `--cabinets` cabinets join its live view, and
 * a driver publishes `--changes` cabinet view changes per second in-process, exactly as cabinet actors
 * publish them (the fleet's view map plus `viewChanges$`): status reports with a new temperature and
 * last-seen time, and door cycles (idle → unlocking → open → awaiting_upload → idle) on ~1% of them.
 * With `--devices` the cabinets are real instead: provisioned through the admin API and connected as
 * simulated devices speaking protocol v1 from two child processes (tools/bench/clients.ts), status every
 * 15 s, and `--unlocks` restock unlocks per second driving door cycles; the changes are whatever the cabinet
 * actors publish. Chromium (Debian's) signs in and shows the fleet view; the bench counts the
 * WebSocket frames and bytes the page receives (CDP, on the wire) and the page's frame times
 * (requestAnimationFrame deltas) in four phases:
 *   idle        no changes (the bare baseline for frame time),
 *   top         changes on, the page at the top of the unfiltered list,
 *   scrolled    changes on, the page scrolled to the middle (it re-subscribes its window),
 *   cabinet     changes on, one cabinet's detail view open.
 * It also prints what forwarding every change would cost (the naive feed), and the load average.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CabinetView } from '../../actors/cabinet/cabinet.protocol';
import type { Fleet } from '../../actors/fleet/fleet';
import { DEMO_ACCOUNTS_FILE } from '../../app/console';
import { loadConfig } from '../../app/config';
import { applyGcTuning } from '../../app/gc';
import { startService } from '../../app/service';
import { argsOrExit, numberFlag, parseCli } from '../../common/cli';
import { silentLogger } from '../../common/log';
import { startFerretDb } from '../../store/ferretdb';
import { report, spawnClients, stopClients } from '../../tools/bench/clients';
import { provision, simSpecs, withSecrets } from '../../tools/simulator/fleet';
import { launchBrowser, shot } from '../test/browser';

const NAME = 'npm run bench:console --';
const HELP = `What the console's fleet page receives and how smoothly it draws with a large fleet changing (Chromium).

usage: npm run bench:console [-- --cabinets 10000] [--changes 1000] [--seconds 15] [--devices [--unlocks 10]]

  --cabinets N   cabinets in the live view (default 10000)
  --changes N    cabinet view changes per second published in-process (default 1000; not with --devices)
  --seconds N    length of each of the four phases (default 15)
  --devices      real simulated devices over socket.io instead of in-process changes
  --unlocks N    with --devices: restock unlocks per second (default 10)
  -h, --help     this text`;

const { CABINETS, CHANGES, SECONDS, DEVICES, UNLOCKS } = argsOrExit('bench:console', () => {
  const { values } = parseCli({
    name: NAME,
    help: HELP,
    options: {
      cabinets: { type: 'string', default: '10000' },
      changes: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '15' },
      devices: { type: 'boolean', default: false },
      unlocks: { type: 'string', default: '10' },
    },
  });
  return {
    CABINETS: numberFlag(NAME, '--cabinets', values.cabinets, { min: 1, integer: true }),
    CHANGES: numberFlag(NAME, '--changes', values.changes, { min: 0 }),
    SECONDS: numberFlag(NAME, '--seconds', values.seconds, { min: 1 }),
    DEVICES: values.devices,
    UNLOCKS: numberFlag(NAME, '--unlocks', values.unlocks, { min: 0 }),
  };
});
const t0 = Date.now();
const say = (m: string) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** The fleet's view map, written the way a cabinet actor's publish writes it. */
function publisher(fleet: Fleet): (v: CabinetView) => void {
  const views = (fleet as unknown as { views: Map<string, CabinetView> }).views;
  return (v) => {
    views.set(v.cabinetId, v);
    fleet.viewChanges$.next(v);
  };
}

async function main(): Promise<void> {
  say(`load average ${load()}; starting FerretDB and the service`);
  const dir = mkdtempSync(join(tmpdir(), 'cf-console-bench-'));
  const db = await startFerretDb({ dataDir: join(dir, 'db') });
  const adminToken = randomBytes(24).toString('hex');
  const config = loadConfig({ MONGODB_URI: db.uri, DB_NAME: 'console_bench', DATA_DIR: dir, PORT: '0', SEED_DEMO: 'true', LOG_LEVEL: 'silent', RECOGNITION_WORKERS: '0', WECHAT_MODE: 'off', ADMIN_TOKEN: adminToken });
  applyGcTuning(config.gc);
  const svc = await startService(config, { log: silentLogger });
  let clients: ReturnType<typeof spawnClients> | undefined;
  const browser = await launchBrowser();
  try {
    // What the page could be sent: every view change the cabinet actors (or the driver) publish.
    let changes = 0;
    let naiveBytes = 0;
    const counted = svc.fleet.viewChanges$.subscribe((v) => {
      changes++;
      naiveBytes += JSON.stringify(v).length;
    });
    let running = false;
    let rng = 12345;
    const rand = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31), rng / 2 ** 31);
    const ids: string[] = [];
    let timer: NodeJS.Timeout;
    if (DEVICES) {
      const specs = simSpecs(CABINETS, { prefix: 'B' });
      const res = await provision(specs, { url: svc.url, adminToken, onProgress: (d, t) => say(`provisioned ${d}/${t}`) });
      if (Object.keys(res.errors).length) throw new Error(`cabinets refused at provisioning: ${JSON.stringify(Object.entries(res.errors)[0])}`);
      ids.push(...specs.map((c) => c.cabinetId));
      clients = spawnClients(withSecrets(specs, res.secrets), { url: svc.url, processes: 2, statusIntervalMs: 15_000, connectRate: 1000, maxConnecting: 400, seed: 1 });
      for (let last = 0; svc.devices.connectedCount() < CABINETS; ) {
        await new Promise((r) => setTimeout(r, 200));
        if (Date.now() - last > 3000) {
          last = Date.now();
          say(`devices connected: ${svc.devices.connectedCount()}/${CABINETS}`);
        }
      }
      say(`${CABINETS} devices connected; settling 20 s (first statuses)`);
      await new Promise((r) => setTimeout(r, 20_000));
      // Restock unlocks at UNLOCKS/s on cabinets with doors: unlocking → relocked (nobody opens) cycles.
      const doored = specs.filter((c) => c.kind !== 'open').map((c) => c.cabinetId);
      timer = setInterval(() => {
        if (running) void svc.fleet.requestUnlock(doored[Math.floor(rand() * doored.length)]!, { purpose: 'restock', operatorId: 'bench' }).catch(() => undefined);
      }, 1000 / UNLOCKS);
    } else {
      const sites = ['shanghai-hq', 'beijing-office', 'shenzhen-park', 'hangzhou-campus', 'chengdu-tower'];
      const kinds = ['open', 'semi', 'auto'] as const;
      for (let i = 0; i < CABINETS; i++) {
        const id = `B${String(i).padStart(5, '0')}`;
        ids.push(id);
        svc.fleet.registered({ cabinetId: id, kind: kinds[i % 3]!, siteId: sites[i % sites.length]! });
      }
      const publish = publisher(svc.fleet);
      const now = Date.now();
      for (const id of ids) publish({ ...(svc.fleet.view(id) as CabinetView), state: 'idle', online: true, lastSeenAt: now, door: 'closed', locked: true, temperatureC: 5 });
      // The driver: CHANGES view changes per second in 20 ms slices; ~1% of them start a door cycle.
      const cycle = ['unlocking', 'open', 'awaiting_upload', 'idle'] as const;
      const inCycle = new Map<string, number>();
      timer = setInterval(() => {
        if (!running) return;
        const n = Math.round(CHANGES / 50);
        for (let i = 0; i < n; i++) {
          const id = ids[Math.floor(rand() * ids.length)]!;
          const cur = svc.fleet.view(id) as CabinetView;
          let next: CabinetView = { ...cur, lastSeenAt: Date.now(), temperatureC: Math.round((4 + rand() * 4) * 10) / 10 };
          const step = inCycle.get(id);
          if (step !== undefined) {
            const state = cycle[step]!;
            next = { ...next, state, door: state === 'open' ? 'open' : 'closed', locked: state === 'idle' || state === 'awaiting_upload', visitId: state === 'idle' ? undefined : `V-${id}` };
            if (state === 'idle') inCycle.delete(id);
            else inCycle.set(id, step + 1);
          } else if (rand() < 0.01) {
            inCycle.set(id, 0);
          }
          publish(next);
        }
      }, 20);
    }
    say(`${CABINETS} cabinets in the live view (${svc.fleet.snapshot().length} with the demo fleet)`);
    const first = [...ids].sort()[0]!;
    const middle = ids[Math.floor(ids.length / 2)]!;

    const creds = JSON.parse(readFileSync(join(dir, DEMO_ACCOUNTS_FILE), 'utf8')) as Array<{ username: string; password: string }>;
    const page = await browser.context.newPage();
    await page.addInitScript(() => localStorage.setItem('console.lang', 'en'));
    const wire = { frames: 0, bytes: 0 };
    page.on('websocket', (ws) => ws.on('framereceived', (f) => ((wire.frames += 1), (wire.bytes += typeof f.payload === 'string' ? Buffer.byteLength(f.payload) : f.payload.length))));
    await page.goto(`${svc.url}/admin/#/fleet`);
    await page.fill('#username', 'admin');
    await page.fill('#password', creds.find((c) => c.username === 'admin')!.password);
    await page.click('#login-submit');
    await page.waitForSelector(`[data-cabinet="${first}"]`, { timeout: 30_000 });
    say(`page shows the fleet (${await page.locator('[data-cabinet]').count()} rows in the DOM of ${await page.locator('[data-count="total"] b').textContent()})`);

    const measure = async (label: string): Promise<Record<string, string | number>> => {
      const before = { ...wire, changes, naiveBytes, ticks: svc.console.hub.stats.ticks, deltas: svc.console.hub.stats.deltas };
      const started = Date.now();
      // A string, not a function: tsx's keepNames would inject a helper the page does not have.
      const frames = (await page.evaluate(`new Promise((resolve) => {
        const out = [];
        let last = performance.now();
        const end = last + ${SECONDS * 1000};
        const step = (t) => { out.push(t - last); last = t; if (t < end) requestAnimationFrame(step); else resolve(out); };
        requestAnimationFrame(step);
      })`)) as number[];
      const secs = (Date.now() - started) / 1000;
      const sorted = [...frames].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      const row = {
        phase: label,
        'changes/s (fleet)': Math.round((changes - before.changes) / secs),
        'naive KB/s': Math.round((naiveBytes - before.naiveBytes) / secs / 1024),
        'page msgs/s': +((wire.frames - before.frames) / secs).toFixed(2),
        'page KB/s': +((wire.bytes - before.bytes) / secs / 1024).toFixed(2),
        'frame mean ms': +(frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(2),
        'frame p95 ms': +q(0.95).toFixed(2),
        'frame p99 ms': +q(0.99).toFixed(2),
        'frame max ms': +sorted[sorted.length - 1]!.toFixed(1),
        'frames >50ms': frames.filter((f) => f > 50).length,
        load: load(),
      };
      say(`${label}: ${JSON.stringify(row)}`);
      return row;
    };

    const rows: Array<Record<string, string | number>> = [];
    rows.push(await measure('idle'));
    running = true;
    await page.waitForTimeout(1000);
    rows.push(await measure('top'));
    await page.locator('#fleet-viewport').evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await page.waitForTimeout(1000);
    rows.push(await measure('scrolled'));
    await shot(page, 'bench-fleet-10k');
    await page.goto(`${svc.url}/admin/#/cabinet/${middle}`);
    await page.waitForSelector('#live-box');
    await page.waitForTimeout(1000);
    rows.push(await measure('cabinet'));
    running = false;
    clearInterval(timer);
    counted.unsubscribe();
    if (clients) {
      const reports = await Promise.all(clients.children.map(report));
      const acked = reports.reduce((n, r) => n + r.counters.statusAcked, 0);
      const sent = reports.reduce((n, r) => n + r.counters.statusSent, 0);
      process.stdout.write(`devices: ${svc.devices.connectedCount()} connected at the end, status ${acked}/${sent} acked\n`);
    }

    const source = DEVICES ? `${CABINETS} simulated devices connected (status every 15 s, ${UNLOCKS} unlocks/s)` : `${CHANGES} view changes/s driven in-process`;
    process.stdout.write(`\nconsole feed benchmark: ${CABINETS} cabinets (+7 demo), ${source}, ${SECONDS} s per phase, Chromium ${browser.context.browser()?.version() ?? ''}\n`);
    console.table(rows);
    const st = svc.console.hub.stats;
    process.stdout.write(`hub: ${st.ticks} ticks, ${st.reads} fleet reads of ${CABINETS + 7} rows, ${st.deltas} deltas, ${(st.tickMs / Math.max(1, st.ticks)).toFixed(2)} ms per tick on average; load average now ${load()}\n`);
  } finally {
    if (clients) await stopClients(clients.children);
    await browser.close();
    await svc.stop('bench done');
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
