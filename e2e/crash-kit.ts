import '../vision/testing/ort-realm';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTsChild } from '../app/child';
import type { Ack, DoorEvent, FrameEvent, UnlockCommand, UploadDoneEvent } from '../contracts/cabinet-protocol';
import type { FlowKind, Lane } from '../contracts/domain';
import { connectDatabase, type DbConnection } from '../store/connection';
import { freePort } from '../store/ferretdb';
import { createModels, type Models } from '../store/models';
import { connectDevice, type TestDevice } from '../test/device-client';
import { ShopperClient } from '../tools/shopper/client';
import { renderShelf } from '../vision';
import { runService, until, type ServiceProcess } from './harness';

/**
 * The WeChat emulator as its own process (notification retries time-scaled ×50), as WeChat outlives a restart
 * of the service; `url` once it listens.
 */
export function startEmulator(dataDir: string): ReturnType<typeof spawnTsChild> & { url: Promise<string> } {
  const emu = spawnTsChild('payments/emulator/main.ts', ['--port', '0', '--data-dir', dataDir, '--time-scale', '50']);
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    emu.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { baseUrl: string }).baseUrl);
    });
    emu.child.once('exit', (code) => reject(new Error(`emulator exited (${code})`)));
  });
  url.catch(() => undefined);
  return Object.assign(emu, { url });
}

/**
 * The crash kit: one WeChat emulator (its own process, living across service restarts as WeChat does), one
 * data directory and database, and the real service (`app/main.ts`) started, SIGKILLed and started again on
 * them. Devices are written from the protocol document, with the firmware's store-and-forward: door reports,
 * frames and `upload.done` stay queued until a final ack and are sent again after reconnecting.
 */
export class CrashWorld {
  readonly dir = mkdtempSync(join(tmpdir(), 'cf-crashkit-'));
  readonly dbName = `crashkit_${randomBytes(4).toString('hex')}`;
  readonly adminToken = randomBytes(16).toString('hex');
  /** The service's URL; the same port across restarts, so devices and WeChat's notify URL find it again. */
  url = '';
  service: ServiceProcess | undefined;
  readonly devices: Firmware[] = [];
  private port = 0;
  private emulator: ReturnType<typeof startEmulator> | undefined;
  wechatUrl = '';
  private db: { conn: DbConnection; models: Models } | undefined;
  private shoppers = 0;

  /** Starts the emulator (time-scaled notification retries) and picks the service's port. */
  async open(): Promise<this> {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const emu = startEmulator(join(this.dir, 'wechat'));
    this.emulator = emu;
    this.wechatUrl = await emu.url;
    return this;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATA_DIR: join(this.dir, 'service'),
      PORT: String(this.port),
      MONGODB_URI: process.env.TEST_MONGODB_URI as string,
      DB_NAME: this.dbName,
      ADMIN_TOKEN: this.adminToken,
      SEED_DEMO: 'true',
      RECOGNITION_WORKERS: '1',
      WECHAT_MODE: 'sandbox',
      WECHAT_EMULATOR_URL: this.wechatUrl,
      WECHAT_SANDBOX_DIR: join(this.dir, 'wechat'),
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  /** Starts the service on the world's data and waits until it listens. */
  async start(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    if (this.service && this.service.child.exitCode === null && this.service.child.signalCode === null) throw new Error('the service is already running');
    const s = runService(this.env(extra));
    this.service = s;
    await s.url;
    return s;
  }

  /** SIGKILL: no shutdown code runs; every device loses its connection. */
  async kill(): Promise<void> {
    const s = this.service;
    if (!s) return;
    s.child.kill('SIGKILL');
    await s.exited;
    for (const d of this.devices) d.connectionLost();
  }

  async stop(): Promise<void> {
    const s = this.service;
    if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
    s.child.kill('SIGTERM');
    await s.exited;
  }

  /** The database as the service stores it (read-only use: what the assertions count). */
  async models(): Promise<Models> {
    this.db ??= await (async () => {
      const conn = await connectDatabase(process.env.TEST_MONGODB_URI as string, this.dbName);
      return { conn, models: createModels(conn) };
    })();
    return this.db.models;
  }

  /** Warnings and errors the running (or last) service logged: what a failing assertion wants beside it. */
  problems(): string[] {
    return (this.service?.logs ?? []).filter((l) => Number(l.level) >= 40).map((l) => JSON.stringify(l));
  }

  async close(): Promise<void> {
    for (const d of this.devices) d.close();
    if (this.service && this.service.child.exitCode === null) {
      this.service.child.kill('SIGKILL');
      await this.service.exited;
    }
    await this.db?.conn.close().catch(() => undefined);
    await this.emulator?.stop(3000);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async admin<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
  }

  /** The emulator's control API (the shopper's WeChat client, fault injection, what WeChat recorded). */
  async control<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.wechatUrl}/__control/${path}`, body !== undefined ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
    return (await res.json()) as T;
  }

  /** Successful WeChat charges (JSAPI payments and papay deductions) of one order. */
  async chargesOf(orderId: string): Promise<number> {
    const state = await this.control<{ charges: Array<{ outTradeNo: string; attach?: string }> }>('state');
    return state.charges.filter((c) => c.attach === orderId || c.outTradeNo.includes(orderId)).length;
  }

  /** Registers a cabinet (the demo planogram of its kind) and returns its device, not yet connected. */
  async cabinet(cabinetId: string, kind: FlowKind): Promise<Firmware> {
    const cameras = kind === 'open' ? [] : ['top', 'side'];
    const res = await this.admin<{ secret: string; cabinet: { lanes: Lane[] } }>('POST', '/admin/cabinets', { cabinetId, name: cabinetId, kind, siteId: 'crash-lab', cameras });
    if (res.status !== 201) throw new Error(`provisioning ${cabinetId}: ${res.status} ${JSON.stringify(res.body)}`);
    const device = new Firmware(this, cabinetId, res.body.secret, cameras, res.body.cabinet.lanes);
    this.devices.push(device);
    return device;
  }

  /** A signed-in shopper with a phone number; `papay` also signs password-free payment. */
  async shopper(opts: { papay?: boolean } = {}): Promise<ShopperClient> {
    const n = ++this.shoppers;
    const s = new ShopperClient({ apiUrl: this.url, wechatUrl: this.wechatUrl, openid: `o-crash-${process.pid}-${this.dbName}-${n}`, phone: `1390013${String(n).padStart(4, '0')}` });
    await s.signIn();
    if (opts.papay) {
      await s.signPapay();
      await until(() => s.call('papayContract'), (c) => c.contract === 'active', 'papay contract active');
    }
    return s;
  }

  async cabinetLive(cabinetId: string): Promise<{ state: string; visitId?: string; online?: boolean }> {
    return (await this.admin<{ state: string; visitId?: string; online?: boolean }>('GET', `/admin/cabinets/${cabinetId}/live`)).body;
  }

  /**
   * The cabinet takes the next visit: it reads idle, an unlock is granted at once (a restock unlock, billed
   * to nobody) and ends when the device reports it relocked. Throws with the refusal otherwise.
   */
  async takesNextVisit(d: Firmware): Promise<void> {
    await until(() => this.cabinetLive(d.cabinetId), (l) => l.state === 'idle' && !l.visitId, `${d.cabinetId} idle`);
    d.unlockMode = 'ack';
    const res = await this.admin<{ visitId?: string }>('POST', `/admin/cabinets/${d.cabinetId}/restock-unlock`, { operatorId: 'op-next' });
    if (res.status !== 200 || !res.body.visitId) throw new Error(`${d.cabinetId} refused the next visit: ${res.status} ${JSON.stringify(res.body)}`);
    await d.door('relocked', res.body.visitId);
    await until(() => this.visit(res.body.visitId!), (v) => v.status === 'relocked', `next visit at ${d.cabinetId} relocked`);
    await until(() => this.cabinetLive(d.cabinetId), (l) => l.state === 'idle' && !l.visitId, `${d.cabinetId} idle again`);
  }

  async visit(visitId: string): Promise<{ status?: string; recognition?: { status: string }; receivedFrames?: Record<string, number> }> {
    return (await this.admin<{ status?: string; recognition?: { status: string } }>('GET', `/admin/visits/${visitId}`)).body;
  }
}

type Queued = { key: string; event: 'door' | 'frame' | 'upload.done'; payload: DoorEvent | FrameEvent | UploadDoneEvent };

/** How the device answers `unlock`: at once, or never (it has the command; its answer dies with the link). */
export type UnlockMode = 'ack' | 'silent';

/**
 * A cabinet's firmware as the protocol describes it: handshake, status on connect, store-and-forward of door
 * reports, frames and `upload.done` (kept until a final ack, resent in order after reconnecting), and the
 * shelf it shows its cameras (rendered, so recognition sees what was taken).
 */
export class Firmware {
  readonly unlocks: UnlockCommand[] = [];
  unlockMode: UnlockMode = 'ack';
  /** Final acks by key (the service's answers the device acted on). */
  readonly answers = new Map<string, Ack>();
  private link: TestDevice | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Called as soon as a final ack arrives (a test kills the service right there). */
  onAnswer: ((key: string, ack: Ack) => void) | undefined;
  private readonly outbox: Queued[] = [];
  private flushing: Promise<void> | undefined;
  private serial = 0;
  lanes: Lane[];
  private readonly seed: number;

  constructor(
    private readonly world: CrashWorld,
    readonly cabinetId: string,
    readonly secret: string,
    readonly cameras: string[],
    lanes: Lane[],
  ) {
    this.lanes = lanes.map((l) => ({ ...l }));
    this.seed = [...cabinetId].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
  }

  get online(): boolean {
    return !!this.link?.socket.connected;
  }

  /** Connects (a fresh nonce), reports its status, then sends everything still queued. */
  async connect(): Promise<void> {
    this.link = await connectDevice({
      url: this.world.url,
      cabinetId: this.cabinetId,
      secret: this.secret,
      onUnlock: (cmd) => {
        this.unlocks.push(cmd);
        return this.unlockMode === 'ack' ? { ok: true } : null;
      },
    });
    const socket = this.link.socket;
    socket.on('disconnect', () => {
      if (this.link?.socket === socket) this.drops++;
    });
    const status = await this.link.emit('status', this.status());
    if (!status.ok) throw new Error(`status refused: ${JSON.stringify(status)}`);
    // The protocol's heartbeat: a status at least every 15 s, or the service reads the cabinet offline.
    const link = this.link;
    this.heartbeat = setInterval(() => void link.emit('status', this.status()).catch(() => undefined), 10_000);
    await this.flushing;
    await this.flush();
  }

  /** Connections this device lost while it was not told the service died (the service hung up on it). */
  drops = 0;

  /**
   * Sends one event outside the outbox (never resent) and reports the answer, or that the service hung up
   * instead of answering.
   */
  async probe(event: string, payload: unknown): Promise<Ack | 'disconnected'> {
    const socket = this.link?.socket;
    if (!socket?.connected) throw new Error(`${this.cabinetId} is not connected`);
    return new Promise((resolve) => {
      socket.once('disconnect', () => resolve('disconnected'));
      socket.timeout(30_000).emit(event, payload, (err: unknown, ack: Ack) => resolve(err ? 'disconnected' : ack));
    });
  }

  /** The service died: the socket is gone (socket.io-client does not reconnect by itself here). */
  connectionLost(): void {
    clearInterval(this.heartbeat);
    const link = this.link;
    this.link = undefined;
    link?.close();
  }

  close(): void {
    this.connectionLost();
  }

  private status() {
    return { ts: Date.now(), door: 'closed' as const, locked: true, pendingUploads: this.outbox.length };
  }

  /** Waits until the service has sent the n-th unlock (1-based) and returns it. */
  async unlock(n = this.unlocks.length + 1): Promise<UnlockCommand> {
    await until(async () => this.unlocks.length, (k) => k >= n, `unlock #${n} at ${this.cabinetId}`, 60_000);
    return this.unlocks[n - 1]!;
  }

  door(state: DoorEvent['state'], visitId: string): Promise<void> {
    return this.queue({ key: `door:${++this.serial}`, event: 'door', payload: { ts: Date.now(), state, visitId } });
  }

  /** A shopper takes `count` items of each lane listed (the shelf the `after` snapshot shows). */
  take(...takes: Array<{ laneId: string; count: number }>): void {
    for (const t of takes) {
      const lane = this.lanes.find((l) => l.laneId === t.laneId);
      if (!lane || lane.count < t.count) throw new Error(`${this.cabinetId}: lane ${t.laneId} cannot give ${t.count}`);
      lane.count -= t.count;
    }
  }

  /** A lane holding at least two items, and its SKU. */
  stockedLane(): Lane {
    const lane = this.lanes.find((l) => l.count >= 2);
    if (!lane) throw new Error(`${this.cabinetId}: no stocked lane`);
    return lane;
  }

  /** A frame of what the camera sees now, or of the bytes given (`jpeg`: an oversized frame, say). */
  async frame(visitId: string, camera: string, seq: number, phase: FrameEvent['phase'], given?: Buffer): Promise<void> {
    const jpeg = given ?? await renderShelf({
      lanes: this.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count })),
      camera,
      seed: this.seed,
      frameSeed: (this.seed ^ Math.imul(seq + 1, 0x9e3779b1) ^ (phase === 'before' ? 1 : 3)) >>> 0,
      nuisance: { jpegQuality: 80 },
    });
    await this.queue({ key: `frame:${visitId}:${camera}:${seq}`, event: 'frame', payload: { visitId, camera, seq, ts: Date.now(), phase, jpeg } });
  }

  uploadDone(visitId: string, frames: Record<string, number>): Promise<void> {
    return this.queue({ key: `done:${visitId}`, event: 'upload.done', payload: { visitId, frames } });
  }

  /** The `before` snapshot of every camera (taken just before unlocking, seq 0). */
  async before(visitId: string): Promise<void> {
    for (const cam of this.cameras) await this.frame(visitId, cam, 0, 'before');
  }

  /** The `after` snapshot of every camera (seq 1), then `upload.done` (two frames per camera). */
  async after(visitId: string, opts: { uploadDone?: boolean } = {}): Promise<void> {
    for (const cam of this.cameras) await this.frame(visitId, cam, 1, 'after');
    if (opts.uploadDone !== false) await this.uploadDone(visitId, Object.fromEntries(this.cameras.map((c) => [c, 2])));
  }

  /** Nothing queued is unacknowledged. */
  get drained(): boolean {
    return this.outbox.length === 0;
  }

  /** Waits until everything queued got its final ack (the link must be up). */
  async drain(): Promise<void> {
    await until(async () => (await this.flush(), this.outbox.length), (n) => n === 0, `${this.cabinetId} outbox drained`, 60_000);
  }

  private async queue(item: Queued): Promise<void> {
    this.outbox.push(item);
    await this.flush();
    // A flush that was finishing when the item was queued may have missed it.
    if (this.outbox.includes(item) && this.online) await this.flush();
  }

  /** Sends the queue in order, one at a time; stops (keeping the rest) when the link is down or an answer says "again". */
  private flush(): Promise<void> {
    if (!this.flushing) {
      // `finally` runs in a later tick, so it always sees this very promise in `flushing`.
      const run = this.sendQueued().finally(() => {
        if (this.flushing === run) this.flushing = undefined;
      });
      this.flushing = run;
    }
    return this.flushing;
  }

  private async sendQueued(): Promise<void> {
    while (this.outbox.length && this.link?.socket.connected) {
      const item = this.outbox[0]!;
      let ack: Ack;
      try {
        ack = await this.link.emit(item.event, item.payload, 10_000);
      } catch {
        return; // no answer (the link died): resent after reconnecting
      }
      if (!ack.ok && ack.error.code === 'UNAVAILABLE') return;
      this.answers.set(item.key, ack);
      this.outbox.shift();
      this.onAnswer?.(item.key, ack);
    }
  }
}
