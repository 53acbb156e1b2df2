import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { Metrics } from '../common/metrics';
import { SecretBox } from '../common/sealing';
import { Fleet } from '../actors/fleet/fleet';
import type { CabinetTimings } from '../actors/cabinet/cabinet.machine';
import { createActorSystem, drainActors } from '../actors/runtime';
import { DeviceGateway } from '../gateways/device/device.gateway';
import { createSocketServer } from '../gateways/device/socket-server';
import { registerAdminRoutes } from '../gateways/http/admin.routes';
import { buildHttpApp } from '../gateways/http/app';
import { MongooseFleetStore } from '../store/fleet.store';
import { MongooseJournal } from '../store/journal';
import { checkOpenFileLimit } from './limits';
import { provisionCabinet } from './provisioning';
import { ShopperService } from './shopper.service';
import { Sessions } from './sessions';
import { ShoppingService } from './shopping.service';
import { OperatorService } from './operator.service';
import { registerOperatorRoutes } from '../gateways/http/operator.routes';
import { startConsole } from './console';
import { StickerService } from './stickers.service';
import { CatalogueService, catalogueForRecognition } from './catalogue.service';
import { RestockService } from './restock.service';
import { EnrolmentService, type GalleryPort } from './enrolment.service';
import { PlanogramService } from './planogram.service';
import { defaultNodeId, joinCluster } from './cluster/cluster';
import { redisLeases, redisLimiter, redisNonces } from './cluster/redis-state';
import { registerConsoleWechatRoutes } from '../gateways/http/console-wechat.routes';
import { AbnormalRefundService } from './abnormal-refund.service';
import { registerOpenApi } from '../gateways/http/openapi';
import { startWechat, type WechatSide } from './wechat';
import { registerShopperRoutes } from '../gateways/http/shopper.routes';
import { registerPaymentNotifications } from '../payments/wechatpay/notifications';
import { createOfflinePayments } from '../payments/payment/payments.wiring';
import { TokenSigner } from '../common/tokens';
import { memoryLimiter, memoryNonces, type NonceClaims } from '../common/shared-state';
import { bridgeRecognition } from './recognition.bridge';
import { DEFAULT_SESSION_TIMINGS, type SessionTimings } from '../actors/session/session.machine';
import { DEFAULT_MODEL_DIR } from '../vision';
import { createRecognitionPool } from '../vision/pipeline/create';
import { connectDatabase, isDatabaseOutage, watchDatabase, type DatabaseHealth, type DbConnection } from '../store/connection';
import { freePort, startFerretDb, type FerretDbHandle } from '../store/ferretdb';
import { createModels, ensureIndexes, type Models } from '../store/models';
import { RefundRecords } from '../store/money/refunds';
import { assertMove } from '../payments/payment/order.machine';
import { seedDemo } from './demo-seed';
import type { Config } from './config';

export interface Service {
  readonly url: string;
  readonly config: Config;
  readonly models: Models;
  readonly conn: DbConnection;
  readonly box: SecretBox;
  /** Set when the service started its own embedded database. */
  readonly ferretdb: FerretDbHandle | undefined;
  /** WeChat clients and payment actors; undefined with WECHAT_MODE=off. */
  readonly wechat: WechatSide | undefined;
  readonly fleet: Fleet;
  readonly sessions: Sessions;
  readonly devices: DeviceGateway;
  readonly adminToken: string;
  /** The operator console: accounts, read API, page at /admin/, live feed. */
  readonly console: import('./console').ConsoleSide;
  /** Stops accepting work, drains, closes the database, stops the embedded database. Idempotent. */
  stop(reason?: string): Promise<void>;
}

export interface ServiceOptions {
  log: Logger;
  clock?: Clock;
  /** Cabinet timing overrides (tests and the simulator shorten them). */
  timings?: Partial<CabinetTimings>;
  /** Shopper session timing overrides (tests shorten the pay window). */
  sessionTimings?: Partial<SessionTimings>;
  /**
   * The service cannot go on (its embedded database died and could not be restarted): the owner should stop
   * it and exit non-zero so a process supervisor starts it afresh. Without it the service only logs.
   */
  onFatal?(reason: string): void;
}

/** The admin API token: from config, else generated once into DATA_DIR (mode 0600). */
function loadAdminToken(config: Config, dataDir: string): string {
  if (config.adminToken) return config.adminToken;
  const file = join(dataDir, 'admin.token');
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** The master key (seals device secrets, derives token keys): from config, else generated once into DATA_DIR (0600). */
function loadMasterKey(config: Config, dataDir: string, log: Logger): string {
  if (config.secretsKey) return config.secretsKey;
  const file = join(dataDir, 'secrets.key');
  if (!existsSync(file)) {
    writeFileSync(file, SecretBox.generateKeyHex() + '\n', { mode: 0o600 });
    log.warn({ file }, 'generated a local secrets key; set SECRETS_KEY in production');
  }
  return readFileSync(file, 'utf8').trim();
}

/** Composition root: wires configuration, database, actors and gateways into one running service. */
export async function startService(config: Config, opts: ServiceOptions): Promise<Service> {
  const log = opts.log;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const masterKey = loadMasterKey(config, dataDir, log);
  const box = new SecretBox(masterKey);

  const metrics = new Metrics();
  const dbRestarts = metrics.counter('db_restarts_total', 'Restarts of the embedded database after it died');
  let ferretdb: FerretDbHandle | undefined;
  let uri = config.db.uri;
  if (!uri) {
    ferretdb = await startFerretDb({
      dataDir: join(dataDir, 'db'),
      bin: config.db.ferretdbBin,
      port: config.db.ferretdbPort,
      log,
      supervise: {
        onRestart: () => dbRestarts.inc(),
        onGiveUp: (e) => opts.onFatal?.(`the embedded database could not be restarted: ${e.message}`),
      },
    });
    uri = ferretdb.uri;
  } else {
    log.info('using the MongoDB server from MONGODB_URI; FerretDB is not started');
  }

  let conn: DbConnection | undefined;
  let health: DatabaseHealth | undefined;
  let wechat: WechatSide | undefined;
  try {
    conn = await connectDatabase(uri, config.db.name).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}${config.db.uri ? ' (the server is MONGODB_URI)' : ''}`);
    });
    const dbHealth = (health = watchDatabase(conn, { log: log.child({ part: 'database' }) }));
    metrics.gaugeFrom('db_up', '1 while the database answers, 0 while requests are refused for its absence', () => (dbHealth.up() ? 1 : 0));
    const models = createModels(conn);
    await ensureIndexes(models);

    if (config.seedDemo && (await models.Cabinet.estimatedDocumentCount()) === 0) {
      const seeded = await seedDemo(models, box, log);
      if (Object.keys(seeded.secrets).length) {
        // Local demo convenience only (the simulator reads it); real cabinets get secrets from provisioning.
        writeFileSync(join(dataDir, 'demo-cabinets.json'), JSON.stringify(seeded.secrets, null, 2) + '\n', { mode: 0o600 });
      }
    }

    const clock = opts.clock ?? systemClock;
    let accepting = true;
    const db = conn;
    const adminToken = loadAdminToken(config, dataDir);

    const system = createActorSystem({ clock, log: log.child({ part: 'actors' }), journal: new MongooseJournal(models) });
    const devices: { link?: DeviceGateway } = {};
    // The recogniser's gallery, once the pool is up (it decides which products a fully automatic cabinet may hold).
    const gallery: { port?: GalleryPort } = {};
    const planograms = new PlanogramService({ models, clock, log: log.child({ part: 'planograms' }), ...(config.recognition.workers !== 0 ? { recognition: { enrolled: () => gallery.port?.enrolled() ?? [] } } : {}) });
    const fleet = new Fleet({
      planograms,
      system,
      store: new MongooseFleetStore(models),
      devices: { sendUnlock: (id, cmd, ms) => devices.link!.sendUnlock(id, cmd, ms) },
      timings: opts.timings,
    });
    const fleetLog = log.child({ part: 'fleet' });
    fleet.notices$.subscribe((n) => (n.type === 'alarm_raised' || n.type === 'offline' || n.type === 'offline_reminder' ? fleetLog.warn(n, n.type) : fleetLog.info(n, n.type)));
    let nonces: NonceClaims = memoryNonces();
    const gateway = new DeviceGateway({
      fleet,
      clock,
      log: log.child({ part: 'devices' }),
      metrics,
      maxFrameBytes: config.devices.maxFrameBytes,
      clustered: config.cluster.redisUrl !== undefined,
      // In a cluster, Redis's (set once the node has joined, before any device can connect).
      nonces: { claim: (key, ttlMs, now) => nonces.claim(key, ttlMs, now) },
      directory: {
        // From the fleet's in-memory directory (loaded below, kept current by provisioning and disabling): no
        // database read per handshake; each secret is unsealed on its cabinet's first handshake, then cached.
        credentials: (cabinetId) => fleet.directory.credentials(cabinetId, (sealed) => box.open(sealed, `cabinet:${cabinetId}`)),
      },
    });
    devices.link = gateway;
    await fleet.loadDirectory();
    checkOpenFileLimit(log, fleet.directory.size);
    // Stickers printed without it carry whatever host the console was opened at (an internal one, behind a proxy).
    if (config.env === 'production' && !config.publicHost) log.warn('PUBLIC_HOST is unset: cabinet stickers will carry the console’s own host in their link QR; set it before printing');

    let recognition: { close(): Promise<void> } | undefined;
    let enrolments: EnrolmentService | undefined;
    if (config.recognition.workers !== 0) {
      // The store's catalogue (the demo one only when SEED_DEMO put it there): brand families tell look-alikes apart.
      const catalogue = await catalogueForRecognition(models);
      const { pool, close, enrolment } = await createRecognitionPool({ modelDir: DEFAULT_MODEL_DIR, log: log.child({ part: 'vision' }), clock, size: config.recognition.workers, catalogue });
      gallery.port = enrolment;
      enrolments = new EnrolmentService({ models, gallery: enrolment, clock, log: log.child({ part: 'enrolment' }) });
      // Before any visit is recognised: the products operators enrolled since the model was shipped.
      const restored = await enrolments.restore();
      if (restored.restored || restored.reenrolled) log.info(restored, 'enrolled products restored into the recogniser');
      const sub = bridgeRecognition({ fleet, pool, clock, log: log.child({ part: 'recognition' }), metrics });
      recognition = {
        close: async () => {
          sub.unsubscribe();
          await close();
        },
      };
    }
    // After recognition listens: a resumed visit may complete at once, or hand its evidence to recognition
    // again (complete while no recogniser was running, or the process died before recognition answered).
    const resumedVisits = fleet.resumeVisits();
    if (resumedVisits) log.info({ visits: resumedVisits }, 'visits whose evidence a restart cut short resumed');

    const http = buildHttpApp({
      log,
      metrics,
      readiness: [{ name: 'database', check: () => dbHealth.check() }],
      accepting: () => accepting,
      database: { up: () => dbHealth.up(), isOutage: isDatabaseOutage, noteError: (e) => dbHealth.noteError(e) },
    });
    // The port is fixed before listening because WeChat's notify URL must name it.
    const port = config.http.port || (await freePort());
    const selfUrl = `http://${config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host}:${port}`;
    // One node of several (issue N): registered in the shared Redis with a heartbeat; sockets on its adapter.
    const cluster = config.cluster.redisUrl ? await joinCluster({ redisUrl: config.cluster.redisUrl, nodeId: config.cluster.nodeId, url: selfUrl, clock, log: log.child({ part: 'cluster' }), cabinets: () => gateway.connectedCount() }) : undefined;
    if (cluster) nonces = redisNonces(cluster.redis);
    wechat = await startWechat({ config, models, system, clock, log, notifyBaseUrl: selfUrl, ...(cluster ? { leases: redisLeases(cluster.redis, cluster.nodeId) } : {}) });
    const sessions = new Sessions({ system, models, fleet, clock, log: log.child({ part: 'sessions' }), payments: wechat?.payments.actors, ...(opts.sessionTimings ? { timings: { ...DEFAULT_SESSION_TIMINGS, ...opts.sessionTimings } } : {}) });
    const resumed = await sessions.start();
    if (resumed) log.info({ sessions: resumed }, 'unfinished shopper sessions resumed');
    if (wechat) {
      const w = wechat;
      await http.register(registerPaymentNotifications, { config: w.config, keys: w.payments.v3.keys, clock, sink: w.payments.actors, log: log.child({ part: 'notify' }) });
      const tokens = new TokenSigner(masterKey, 'shopper');
      const shoppers = new ShopperService({ models, fleet, identity: w.payments.miniProgram, tokens, clock, log: log.child({ part: 'shopper' }), tokenTtlMs: 7 * 24 * 3_600_000 });
      registerShopperRoutes(http, {
        service: shoppers,
        shopping: new ShoppingService({ models, fleet, sessions, shoppers, payments: w.payments.actors, clock, log: log.child({ part: 'shopping' }) }),
        tokens,
        // One budget per shopper across the nodes of a cluster.
        limiter: cluster ? redisLimiter(cluster.redis, 60, 10_000) : memoryLimiter(60, 10_000),
        clock,
        ...(config.wechat.mode === 'sandbox' ? { sandboxWechatUrl: w.emulator?.baseUrl ?? config.wechat.emulatorUrl } : {}),
      });
    }
    registerAdminRoutes(http, {
      adminToken,
      fleet,
      clusterStatus: async () => (cluster ? cluster.status() : { nodeId: config.cluster.nodeId ?? defaultNodeId(), nodes: [{ nodeId: config.cluster.nodeId ?? defaultNodeId(), url: selfUrl, cabinets: gateway.connectedCount() }] }),
      provision: async (req, actor) => {
        const p = await provisionCabinet(models, box, req, actor, new Date(clock.now()));
        fleet.registered(p.cabinet);
        return p;
      },
    });
    // Console sessions (operator accounts with roles and sites), then the bootstrap token.
    const consoleSide = await startConsole({ http, models, fleet, clock, log: log.child({ part: 'console' }), metrics, adminToken, dataDir, seedDemo: config.seedDemo, notifyGroupMs: config.notifyGroupMs });
    const operatorAuth = consoleSide.auth;
    // With WeChat off the operators still send money changes to payment actors (offline: no WeChat calls).
    const operatorPayments = wechat?.payments.actors ?? createOfflinePayments({ models, system, clock, log: log.child({ part: 'payments' }) }).actors;
    const operators = new OperatorService({ models, fleet, payments: operatorPayments, clock, log: log.child({ part: 'operators' }) });
    const resumedDecisions = await operators.resumeDecisions();
    if (resumedDecisions) log.info({ cases: resumedDecisions }, 'interrupted review decisions carried out');
    registerOperatorRoutes(http, { auth: operatorAuth, service: operators, catalogue: new CatalogueService({ models, clock }), restock: new RestockService({ models, clock }), planograms, ...(enrolments ? { enrolment: enrolments } : {}), clock });
    registerConsoleWechatRoutes(http, {
      auth: operatorAuth,
      clock,
      stickers: new StickerService({ models, codes: wechat?.payments.miniProgram, publicHost: config.publicHost, log: log.child({ part: 'stickers' }), now: () => clock.now() }),
      abnormalRefunds: new AbnormalRefundService({ models, refunds: new RefundRecords(models, assertMove), v3: wechat?.payments.v3, clock, log: log.child({ part: 'refunds' }) }),
    });
    registerOpenApi(http);
    const io = createSocketServer(http.server, { maxFrameBytes: config.devices.maxFrameBytes, ...(cluster ? { redis: cluster.redis } : {}) });
    gateway.attach(io);
    consoleSide.attach(io);
    metrics.gaugeFrom('device_connections', 'Connected cabinets', () => gateway.connectedCount());
    await http.listen({ host: config.http.host, port });
    const addr = http.server.address() as AddressInfo;
    const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${addr.port}`;
    log.info({ url, database: ferretdb ? 'embedded FerretDB' : 'MONGODB_URI' }, 'service listening');

    let stopping: Promise<void> | undefined;
    return {
      url,
      config,
      models,
      conn,
      box,
      ferretdb,
      wechat,
      fleet,
      sessions,
      devices: gateway,
      adminToken,
      console: consoleSide,
      stop(reason = 'stop') {
        // The order matters (defect: a store closed under running actors crash-looped them): stop taking
        // work at every edge, let the actors finish what they hold, then close the store, then the database.
        stopping ??= (async () => {
          log.info({ reason }, 'shutting down: no new work accepted');
          accepting = false;
          const deadline = systemClock.now() + config.shutdownGraceMs;
          const grace = systemClock.schedule(config.shutdownGraceMs, () => {
            log.warn('grace period over; closing open connections');
            http.server.closeAllConnections?.();
          });
          gateway.close();
          consoleSide.close();
          await new Promise<void>((r) => void io.close(() => r()));
          await http.close(); // waits for in-flight requests
          await cluster?.close();
          grace();
          await recognition?.close();
          // Visit and cabinet actors finish the messages they hold; each is persisted before it is acknowledged.
          if (!(await drainActors(system, Math.max(deadline - systemClock.now(), 1000)))) log.warn('actors still busy at the end of the grace period; stopping them');
          await wechat?.stop();
          system.stop();
          sessions.close();
          fleet.close();
          await fleet.flushLastSeen().catch((e: unknown) => log.warn({ err: String(e) }, 'last-seen times not written'));
          dbHealth.close();
          await db.close();
          await ferretdb?.stop();
          log.info('shut down');
        })();
        return stopping;
      },
    };
  } catch (e) {
    await wechat?.stop();
    health?.close();
    await conn?.close().catch(() => undefined);
    await ferretdb?.stop();
    throw e;
  }
}
