import { resolve } from 'node:path';
import { assertNever } from '../../common/assert-never';
import { CliError, parseCli, reach, runCli } from '../../common/cli';
import { systemClock } from '../../common/clock';
import { formatMs, parseCount, parseDuration, parseShare } from './args';
import type { SimCabinetSpec, SimEvent } from './cabinet';
import type { Fault } from './device.machine';
import { SimFleet, demoCabinets, provision, readAdminToken, readSecrets, simSpecs, withSecrets, writeSecrets } from './fleet';
import { placeholderFrames, visionFrames } from './frames';
import { GOOD_LINK, WEAK_LINK } from './link';
import { seededRng } from './rng';
import { DEFAULT_SHOPPER, randomShopper } from './shelf';
import { DEFAULT_FRIDGE } from './thermal';

const HELP = `Cabinet simulator: N cabinets speaking protocol v1 to the fleet service.

  npx tsx tools/simulator/simulator.cli.ts --url http://127.0.0.1:8080 --count 100 [options]

Cabinets
  --count N               simulated cabinets SIM-00001… to provision and run (default 10; 0 with --demo)
  --prefix SIM            id prefix
  --demo                  also run the demo cabinets (secrets from <data-dir>/demo-cabinets.json)
  --data-dir ./data       where the service keeps admin.token and demo-cabinets.json
  --admin-token T         else $ADMIN_TOKEN, else <data-dir>/admin.token
  --secrets-file F        known simulator secrets, reused across runs (default <data-dir>/sim-cabinets.json)
Behaviour
  --weak-signal           lossy, late link with outages; frames stored and resent
  --visit-every 30s       ask the service to unlock a random idle cabinet this often (see --unlock-path)
  --unlock-path P         admin route for that (default /admin/cabinets/:id/restock-unlock: an operator's
                          unlock, never billed; the simulated shopper still takes what its script says)
  --forced-open-every 10m force a random locked door open this often
  --no-show 0.05          share of unlocks nobody opens (the cabinet relocks)
  --forget-close 0.03     share of shoppers who leave the door open (door_left_open alarm)
  --left-open-after 60s   door_left_open threshold
  --fault door|camera     put --fault-share of the cabinets in this fault (unlock refused)
  --fault-share 0.02
  --fridge-drift 0        °C per minute of drift in the fridge cabinets (temperature alarm above 8 °C)
  --status-interval 15s   until the service sends a config command
  --frame-rate 1          during-frames per second per camera
  --frames placeholder    or "vision": shelf renders from vision/renderShelf (slow; a handful of cabinets)
  --connect-rate 500      connections opened per second
  --seed 1
Output
  --progress-every 2s     progress line interval
  --events                print each visit, alarm and refusal as it happens
  --duration 0            stop after this long (0: run until Ctrl-C)
`;

async function main(): Promise<void> {
  const { values: v } = parseCli({
    name: 'npm run simulate --',
    help: HELP,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      count: { type: 'string', default: '10' },
      prefix: { type: 'string', default: 'SIM' },
      demo: { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: './data' },
      'admin-token': { type: 'string' },
      'secrets-file': { type: 'string' },
      'weak-signal': { type: 'boolean', default: false },
      'visit-every': { type: 'string' },
      'unlock-path': { type: 'string', default: '/admin/cabinets/:id/restock-unlock' },
      'forced-open-every': { type: 'string' },
      'no-show': { type: 'string', default: String(DEFAULT_SHOPPER.noShow) },
      'forget-close': { type: 'string', default: String(DEFAULT_SHOPPER.forgetToClose) },
      'left-open-after': { type: 'string', default: '60s' },
      fault: { type: 'string' },
      'fault-share': { type: 'string', default: '0.02' },
      'fridge-drift': { type: 'string', default: '0' },
      'status-interval': { type: 'string', default: '15s' },
      'frame-rate': { type: 'string', default: '1' },
      frames: { type: 'string', default: 'placeholder' },
      'connect-rate': { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
      'progress-every': { type: 'string', default: '2s' },
      events: { type: 'boolean', default: false },
      duration: { type: 'string', default: '0' },
    },
  });
  // Started by npm start's demo (app/demo.ts): exit with the service.
  if (process.send) process.on('disconnect', () => process.exit(0));
  const url = v.url.replace(/\/+$/, '');
  const dataDir = resolve(v['data-dir']);
  const count = parseCount(v.count, 'count', 0, 100_000);
  const fault = v.fault as Fault | undefined;
  if (fault !== undefined && fault !== 'door' && fault !== 'camera') throw new CliError('--fault: door or camera', 2);
  const faultShare = parseShare(v['fault-share'], 'fault-share');
  const frameRate = Number(v['frame-rate']);
  if (!(frameRate > 0 && frameRate <= 30)) throw new CliError('--frame-rate: 0..30', 2);
  const seed = parseCount(v.seed, 'seed');
  const say = (line: string): void => void process.stdout.write(line + '\n');

  // A dead address fails here, before anything is provisioned or reported as "online 0/N".
  const health = await reach(`${url}/healthz`, undefined, '--url');
  if (!health.ok) throw new CliError(`${url}/healthz answered ${health.status}: is that the fleet service? (set by --url)`);

  // Where the cabinets and their secrets come from.
  const cabinets: SimCabinetSpec[] = [];
  const fridge = { ...DEFAULT_FRIDGE, driftCPerMin: Number(v['fridge-drift']) };
  if (v.demo) {
    const demo = demoCabinets(dataDir);
    if (demo.length === 0) say(`no demo secrets in ${dataDir}/demo-cabinets.json — start the service with SEED_DEMO=true on an empty database first`);
    cabinets.push(...demo);
  }
  if (count > 0) {
    const specs = simSpecs(count, { prefix: v.prefix });
    const secretsFile = resolve(v['secrets-file'] ?? `${dataDir}/sim-cabinets.json`);
    const known = readSecrets(secretsFile);
    const missing = specs.filter((s) => !known[s.cabinetId]);
    if (missing.length > 0) {
      const token = readAdminToken(dataDir, v['admin-token'] ?? process.env.ADMIN_TOKEN);
      if (!token) throw new CliError(`no admin token: pass --admin-token, set ADMIN_TOKEN, or point --data-dir at the service's DATA_DIR (${dataDir}/admin.token)`);
      say(`provisioning ${missing.length} cabinets at ${url} …`);
      const res = await provision(missing, { url, adminToken: token, onProgress: (d, t) => say(`  provisioned ${d}/${t}`) });
      Object.assign(known, res.secrets);
      writeSecrets(secretsFile, known);
      const errors = Object.entries(res.errors);
      if (errors.length > 0) {
        const dup = errors.filter(([, e]) => e.code === 'DUPLICATE').length;
        say(`  ${errors.length} refused (${dup} DUPLICATE: registered before, secret unknown here — use another --prefix or the secrets file of that run); first: ${errors[0]?.[0]} ${errors[0]?.[1].code}`);
      }
      say(`  secrets saved to ${secretsFile}`);
    }
    cabinets.push(...withSecrets(specs, known, fridge));
  }
  if (cabinets.length === 0) throw new CliError('no cabinets to run');

  const rng = seededRng(seed);
  const weak = v['weak-signal'];
  const shopperOpts = { ...DEFAULT_SHOPPER, noShow: parseShare(v['no-show'], 'no-show'), forgetToClose: parseShare(v['forget-close'], 'forget-close') };
  const fleet = new SimFleet(cabinets, {
    url,
    clock: systemClock,
    seed,
    link: weak ? WEAK_LINK : GOOD_LINK,
    frames: v.frames === 'vision' ? visionFrames() : placeholderFrames,
    statusIntervalMs: parseDuration(v['status-interval']),
    frameIntervalMs: Math.round(1000 / frameRate),
    leftOpenAfterMs: parseDuration(v['left-open-after']),
    connectRate: parseCount(v['connect-rate'], 'connect-rate'),
    shopperFor: (_id, r) => randomShopper(r, shopperOpts),
    tweak: (_spec, i) => (fault && i < Math.round(faultShare * cabinets.length) ? { fault } : {}),
    onEvent: v.events ? (e) => say(`  ${describe(e)}`) : undefined,
  });

  const t0 = systemClock.now();
  const stamp = (): string => `[${formatMs(systemClock.now() - t0).padStart(8)}]`;
  say(`running ${cabinets.length} cabinets against ${url}/cabinet (${weak ? 'weak' : 'good'} link, ${v.frames} frames)`);
  const progress = setInterval(() => say(`${stamp()} ${fleet.progressLine()}`), parseDuration(v['progress-every']));

  const timers: Array<ReturnType<typeof setInterval>> = [progress];
  const idleDoored = (): string | undefined => {
    const pool = [...fleet.cabinets.values()].filter((c) => c.online && c.spec.kind !== 'open' && !c.inVisit);
    return pool[Math.floor(rng() * pool.length)]?.cabinetId;
  };
  if (v['visit-every']) {
    const token = readAdminToken(dataDir, v['admin-token'] ?? process.env.ADMIN_TOKEN);
    let warned = false;
    timers.push(
      setInterval(() => {
        const id = idleDoored();
        if (!id) return;
        const path = v['unlock-path'].replace(':id', encodeURIComponent(id));
        fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ operatorId: 'simulator' }) })
          .then(async (res) => {
            if (res.ok || warned) return;
            warned = true;
            say(`  unlock request ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)} (further failures are not printed)`);
          })
          .catch((e: unknown) => say(`  unlock request failed: ${String(e)}`));
      }, parseDuration(v['visit-every'])),
    );
  }
  if (v['forced-open-every']) {
    timers.push(
      setInterval(() => {
        const pool = [...fleet.cabinets.values()].filter((c) => c.online && c.spec.kind !== 'open' && c.door.phase === 'locked');
        pool[Math.floor(rng() * pool.length)]?.forceOpen(5_000 + Math.round(rng() * 10_000));
      }, parseDuration(v['forced-open-every'])),
    );
  }

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    for (const t of timers) clearInterval(t);
    say(`${stamp()} ${fleet.progressLine()}`);
    say(`stopping (${why})`);
    fleet.stop();
    // A run in which no cabinet ever got through is a failure, whatever stopped it.
    const connected = fleet.counters.connects > 0;
    if (!connected) process.stderr.write(`simulator: none of the ${cabinets.length} cabinets connected to ${url}/cabinet\n`);
    setTimeout(() => process.exit(connected ? 0 : 1), 200).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const duration = parseDuration(v.duration);
  if (duration > 0) setTimeout(() => stop(`--duration ${v.duration}`), duration);
  await fleet.start();
  say(`${stamp()} all ${cabinets.length} connections started`);
}

function describe(e: SimEvent): string {
  switch (e.type) {
    case 'connected':
      return `${e.cabinetId} ${e.reconnect ? 'reconnected' : 'connected'}`;
    case 'disconnected':
      return `${e.cabinetId} disconnected (${e.reason})`;
    case 'refused':
      return `${e.cabinetId} refused: ${e.code} ${e.message}`;
    case 'unlock':
      return `${e.cabinetId} unlock ${e.visitId}: ${e.ack.ok ? 'ok' : e.ack.error.code}`;
    case 'door':
      return `${e.cabinetId} door ${e.state}${e.visitId ? ` (${e.visitId})` : ''}`;
    case 'alarm':
      return `${e.cabinetId} ALARM ${e.kind}`;
    case 'taken':
      return `${e.cabinetId} shopper took ${e.takes.map((t) => `${t.count}×${t.laneId}`).join(', ') || 'nothing'}`;
    case 'uploaded':
      return `${e.cabinetId} upload done ${e.visitId} ${JSON.stringify(e.frames)}`;
    case 'rejected':
      return `${e.cabinetId} service rejected ${e.event} (${e.key}): ${e.code}`;
    case 'config':
      return `${e.cabinetId} config ${JSON.stringify(e.config)}`;
    case 'display':
      return `${e.cabinetId} display "${e.text}"`;
    default:
      return assertNever(e, 'simulator event');
  }
}

runCli('simulator', main);
