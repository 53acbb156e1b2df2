import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { assertNever } from '../../common/assert-never';
import type { Cancel, Clock } from '../../common/clock';
import {
  ConfigCommand,
  NAMESPACE,
  PROTOCOL_VERSION,
  UnlockCommand,
  signHandshake,
  type DeviceToServiceEvents,
  type FrameEvent,
  type HandshakeAuth,
  type ServiceToDeviceEvents,
  type StatusEvent,
  type UnlockAck,
} from '../../contracts/cabinet-protocol';
import type { FlowKind, Lane } from '../../contracts/domain';
import { busy, decide, doorStatus, initialDevice, type DeviceEffect, type DeviceInput, type DeviceState, type Fault, type TimerName } from './device.machine';
import type { FrameSource } from './frames';
import { GOOD_LINK, nextDropIn, outageLength, sendFate, signalReading, type LinkProfile } from './link';
import { DEFAULT_OUTBOX, Outbox, type OutboxEntry, type OutboxOptions } from './outbox';
import { hashSeed, type Rng } from './rng';
import { Shelf, type LaneTake, type Shopper } from './shelf';
import { bump, type FleetCounters, type Samples } from './stats';
import { stepFridge, type FridgeOptions, type FridgeState } from './thermal';

/** A cabinet as the simulator knows it: identity, secret and what it holds. */
export interface SimCabinetSpec {
  cabinetId: string;
  secret: string;
  kind: FlowKind;
  cameras: readonly string[];
  lanes: readonly Lane[];
  /** Fridge cabinets report a temperature. */
  fridge?: FridgeOptions;
}

export interface CabinetOptions {
  /** Service base URL, e.g. http://127.0.0.1:8080 (the `/cabinet` namespace is added). */
  url: string;
  clock: Clock;
  rng: Rng;
  shopper: Shopper;
  frames: FrameSource;
  counters: FleetCounters;
  link?: LinkProfile;
  statusIntervalMs?: number;
  ackTimeoutMs?: number;
  frameIntervalMs?: number;
  leftOpenAfterMs?: number;
  fault?: Fault;
  firmware?: string;
  jpegQuality?: number;
  maxFrameBytes?: number;
  outbox?: Partial<Omit<OutboxOptions, 'random'>>;
  /** Status ack round-trips in ms, when the caller wants them. */
  statusRtt?: Samples;
  /** Notable moments, for tests, logs and progress. */
  onEvent?: (e: SimEvent) => void;
  /** Handshake override, for tests of refusals (wrong secret, old protocol, stale ts). */
  tamperAuth?: (auth: HandshakeAuth) => HandshakeAuth;
}

export type LinkState = 'idle' | 'connecting' | 'online' | 'outage' | 'refused' | 'stopped';

export type SimEvent =
  | { type: 'connected'; cabinetId: string; reconnect: boolean }
  | { type: 'disconnected'; cabinetId: string; reason: string }
  | { type: 'refused'; cabinetId: string; code: string; message: string }
  | { type: 'unlock'; cabinetId: string; visitId: string; ack: UnlockAck }
  | { type: 'door'; cabinetId: string; state: 'opened' | 'closed' | 'relocked'; visitId?: string }
  | { type: 'alarm'; cabinetId: string; kind: string }
  | { type: 'taken'; cabinetId: string; visitId: string; takes: LaneTake[] }
  | { type: 'uploaded'; cabinetId: string; visitId: string; frames: Record<string, number> }
  | { type: 'rejected'; cabinetId: string; event: string; code: string; key: string }
  | { type: 'config'; cabinetId: string; config: ConfigCommand }
  | { type: 'display'; cabinetId: string; text: string };

type DeviceSocket = Socket<ServiceToDeviceEvents, DeviceToServiceEvents>;

const AUTH_RETRY_LIMIT = 3;

/**
 * One simulated cabinet: the socket.io shell around the pure door machine (device.machine.ts) and the
 * store-and-forward outbox (outbox.ts). All timing goes through the injected Clock; only socket.io's own
 * reconnect and ack timers use the system clock.
 */
export class SimCabinet {
  readonly cabinetId: string;
  readonly shelf: Shelf;
  private device: DeviceState;
  private readonly outbox: Outbox;
  private socket: DeviceSocket | undefined;
  private linkState: LinkState = 'idle';
  private everConnected = false;
  private authFailures = 0;
  private readonly timers = new Map<TimerName, Cancel>();
  private readonly misc = new Set<Cancel>();
  private statusTimer: Cancel | undefined;
  private wakeTimer: { at: number; cancel: Cancel } | undefined;
  private dropTimer: Cancel | undefined;
  /** Frames captured per visit, awaiting the close of the door. */
  private readonly held = new Map<string, Array<Promise<FrameEvent | undefined>>>();
  /** Keys of upload.done items by visit, to report the upload when its ack lands. */
  private readonly doneKeys = new Map<string, { visitId: string; frames: Record<string, number> }>();
  private fridge: FridgeState | undefined;
  private lastFridgeAt = 0;
  private readonly link: LinkProfile;
  private statusIntervalMs: number;
  private readonly ackTimeoutMs: number;
  private jpegQuality: number;
  private maxFrameBytes: number;
  private readonly sceneSeed: number;

  constructor(
    readonly spec: SimCabinetSpec,
    private readonly o: CabinetOptions,
  ) {
    this.cabinetId = spec.cabinetId;
    this.shelf = new Shelf(spec.lanes);
    this.link = o.link ?? GOOD_LINK;
    this.statusIntervalMs = o.statusIntervalMs ?? 15_000;
    this.ackTimeoutMs = o.ackTimeoutMs ?? 10_000;
    this.jpegQuality = o.jpegQuality ?? 80;
    this.maxFrameBytes = o.maxFrameBytes ?? 2 << 20;
    this.sceneSeed = hashSeed(spec.cabinetId);
    this.device = initialDevice({
      cameras: spec.cameras,
      hasDoor: spec.kind !== 'open',
      frameIntervalMs: o.frameIntervalMs ?? 1000,
      leftOpenAfterMs: o.leftOpenAfterMs ?? 60_000,
      fault: o.fault ?? 'none',
    });
    this.outbox = new Outbox({ ...DEFAULT_OUTBOX, ...o.outbox, random: o.rng }, o.counters.outbox, o.counters.rejected);
    if (spec.fridge) this.fridge = { tempC: spec.fridge.setPointC, alarmed: false };
  }

  get state(): LinkState {
    return this.linkState;
  }

  get online(): boolean {
    return this.linkState === 'online';
  }

  /** The door as the machine sees it (for tests and dashboards). */
  get door(): DeviceState['door'] {
    return this.device.door;
  }

  get inVisit(): boolean {
    return busy(this.device);
  }

  /** Items waiting in the outbox (door reports, alarms, frames, upload.done). */
  get pending(): number {
    return this.outbox.size;
  }

  /** The outbox's items, oldest first (for a test's failure report). */
  get outboxItems(): ReturnType<Outbox['held']> {
    return this.outbox.held();
  }

  get pendingFrames(): number {
    return this.outbox.pendingFrames();
  }

  start(): void {
    if (this.socket) return;
    this.linkState = 'connecting';
    const socket: DeviceSocket = io(this.o.url + NAMESPACE, {
      transports: ['websocket'],
      forceNew: true, // one connection per cabinet: no multiplexing over a shared Manager
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10_000,
      randomizationFactor: 0.5,
      // A function, so every (re)connection signs a fresh ts and nonce.
      auth: (cb) => cb(this.handshake()),
    });
    this.socket = socket;
    socket.on('connect', () => this.onConnect());
    socket.on('disconnect', (reason) => this.onDisconnect(reason));
    socket.on('connect_error', (err) => this.onConnectError(socket, err));
    socket.on('unlock', (cmd, ack) => this.onUnlock(cmd, ack));
    socket.on('display', (cmd, ack) => {
      this.o.counters.commands++;
      this.o.onEvent?.({ type: 'display', cabinetId: this.cabinetId, text: typeof cmd?.text === 'string' ? cmd.text : '' });
      this.replyLater(() => ack({ ok: true }));
    });
    socket.on('config', (cmd, ack) => this.onConfig(cmd, ack));
    socket.connect();
    this.scheduleStatus(this.statusIntervalMs);
  }

  /** Disconnects and cancels every timer. The outbox is kept (a restarted cabinet would resend it). */
  stop(): void {
    this.linkState = 'stopped';
    for (const c of this.timers.values()) c();
    this.timers.clear();
    for (const c of this.misc) c();
    this.misc.clear();
    this.statusTimer?.();
    this.wakeTimer?.cancel();
    this.dropTimer?.();
    this.statusTimer = undefined;
    this.wakeTimer = undefined;
    this.dropTimer = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      s.removeAllListeners();
      s.disconnect();
    }
  }

  /** Someone pulls the door without an unlock and shuts it after `holdMs`. */
  forceOpen(holdMs: number): void {
    if (this.device.door.phase !== 'locked') return;
    this.o.counters.forcedOpen++;
    this.input({ type: 'DoorPulled', now: this.o.clock.now() });
    this.later(holdMs, () => this.input({ type: 'DoorPushedShut', now: this.o.clock.now() }));
  }

  /** The physical door, for scripted tests: pull it open or push it shut now. */
  pullDoor(): void {
    this.input({ type: 'DoorPulled', now: this.o.clock.now() });
  }

  pushDoorShut(): void {
    this.input({ type: 'DoorPushedShut', now: this.o.clock.now() });
  }

  /** Drops the link now for `ms` (as the weak-signal mode does at random). */
  dropLink(ms: number): void {
    const s = this.socket;
    if (!s || this.linkState !== 'online') return;
    this.o.counters.linkDrops++;
    this.linkState = 'outage';
    // Close the transport rather than disconnecting politely, with automatic reconnection off for the outage.
    s.io.reconnection(false);
    s.io.engine?.close();
    this.later(ms, () => {
      if (this.linkState !== 'outage' || this.socket !== s) return;
      this.linkState = 'connecting';
      s.io.reconnection(true);
      s.connect();
    });
  }

  /** Fills the shelf, laid out by `planogram` when given (a new planogram version the restocker follows). */
  restock(planogram?: ReadonlyArray<Pick<Lane, 'laneId' | 'sku' | 'capacity'>>): void {
    this.shelf.restock(planogram);
  }

  // ---- connection ----

  private handshake(): HandshakeAuth {
    const ts = this.o.clock.now();
    const nonce = randomBytes(12).toString('hex');
    const auth: HandshakeAuth = {
      cabinetId: this.cabinetId,
      ts,
      nonce,
      sig: signHandshake(this.spec.secret, this.cabinetId, ts, nonce),
      protocol: PROTOCOL_VERSION,
      firmware: `cabinet-sim/1 (${this.spec.kind}${this.link.name === 'good' ? '' : `, ${this.link.name} link`})`,
    };
    return this.o.tamperAuth ? this.o.tamperAuth(auth) : auth;
  }

  private onConnect(): void {
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.authFailures = 0;
    this.linkState = 'online';
    this.o.counters.connects++;
    if (reconnect) this.o.counters.reconnects++;
    this.o.onEvent?.({ type: 'connected', cabinetId: this.cabinetId, reconnect });
    this.sendStatus();
    this.scheduleStatus(this.statusIntervalMs);
    this.scheduleLinkDrop();
    this.pump();
  }

  private onDisconnect(reason: string): void {
    const s = this.socket;
    if (!s) return;
    this.o.counters.disconnects++;
    this.outbox.connectionLost(this.o.clock.now());
    // socket.io-client buffers emits made while disconnected and flushes them on reconnect; the outbox
    // already resends what matters, and a stale status must not be replayed as current.
    s.sendBuffer.length = 0;
    this.dropTimer?.();
    this.dropTimer = undefined;
    this.o.onEvent?.({ type: 'disconnected', cabinetId: this.cabinetId, reason });
    if (this.linkState === 'stopped' || this.linkState === 'outage') return;
    this.linkState = 'connecting';
    if (reason === 'io server disconnect') {
      // The service closed the connection (replaced, disabled, shutting down); socket.io will not retry by itself.
      this.later(5_000, () => {
        if (this.socket === s && this.linkState === 'connecting') s.connect();
      });
    }
  }

  private onConnectError(s: DeviceSocket, err: Error & { data?: unknown }): void {
    if (s.active) {
      this.o.counters.connectErrors++; // transport-level: socket.io keeps retrying
      bump(this.o.counters.connectErrorKinds, err.message.slice(0, 60));
      return;
    }
    const data = err.data as { code?: unknown } | undefined;
    const code = typeof data?.code === 'string' ? data.code : 'REFUSED';
    bump(this.o.counters.refused, code);
    this.o.onEvent?.({ type: 'refused', cabinetId: this.cabinetId, code, message: err.message });
    switch (code) {
      case 'AUTH_FAILED':
        // A clock step or a nonce clash heals on a new handshake; a wrong secret does not, so give up soon.
        if (++this.authFailures > AUTH_RETRY_LIMIT) {
          this.linkState = 'refused';
          return;
        }
        this.later(2_000 * this.authFailures, () => this.socket === s && s.connect());
        return;
      case 'DISABLED':
        // Firmware keeps knocking, slowly: an operator may enable the cabinet again.
        this.linkState = 'refused';
        this.later(60_000, () => {
          if (this.socket === s && this.linkState === 'refused') {
            this.linkState = 'connecting';
            s.connect();
          }
        });
        return;
      default:
        this.linkState = 'refused';
        return;
    }
  }

  private scheduleLinkDrop(): void {
    this.dropTimer?.();
    const inMs = nextDropIn(this.link, this.o.rng);
    if (inMs === undefined) return;
    this.dropTimer = this.o.clock.schedule(inMs, () => {
      this.dropTimer = undefined;
      this.dropLink(outageLength(this.link, this.o.rng));
    });
  }

  // ---- status ----

  private scheduleStatus(firstInMs: number): void {
    this.statusTimer?.();
    this.statusTimer = this.o.clock.schedule(firstInMs, () => {
      this.statusTimer = undefined;
      this.sendStatus();
      this.scheduleStatus(this.statusIntervalMs);
    });
  }

  private statusPayload(): StatusEvent {
    const now = this.o.clock.now();
    const d = doorStatus(this.device);
    const status: StatusEvent = { ts: now, door: d.door, locked: d.locked, pendingUploads: this.outbox.pendingFrames(), signalDbm: signalReading(this.link, this.o.rng) };
    if (this.fridge && this.spec.fridge) {
      const dt = this.lastFridgeAt ? now - this.lastFridgeAt : 0;
      this.lastFridgeAt = now;
      const step = stepFridge(this.fridge, this.spec.fridge, dt, this.o.rng);
      this.fridge = step.state;
      status.temperatureC = step.state.tempC;
      if (step.alarm) this.report({ type: 'Report', event: 'alarm', payload: { ts: now, kind: 'temperature', detail: `${step.state.tempC} °C` } });
    }
    return status;
  }

  private sendStatus(): void {
    const s = this.socket;
    if (!s || this.linkState !== 'online') return;
    const payload = this.statusPayload();
    const c = this.o.counters;
    c.statusSent++;
    const fate = sendFate(this.link, this.o.rng);
    if (fate.fate === 'lost') {
      c.statusLost++;
      return;
    }
    const go = (): void => {
      if (!s.connected) return;
      const t0 = performance.now();
      s.timeout(this.ackTimeoutMs)
        .emitWithAck('status', payload)
        .then(
          (ack) => {
            if (fate.ackLost) return void c.statusTimedOut++;
            if (ack?.ok === true) {
              c.statusAcked++;
              this.o.statusRtt?.add(performance.now() - t0);
            } else bump(c.statusRejected, ack?.error?.code ?? 'MALFORMED_ACK');
          },
          () => void c.statusTimedOut++,
        );
    };
    if (fate.delayMs > 0) this.later(fate.delayMs, go);
    else go();
  }

  // ---- commands from the service ----

  private onUnlock(raw: unknown, ack: (a: UnlockAck) => void): void {
    this.o.counters.commands++;
    const cmd = UnlockCommand.safeParse(raw);
    if (!cmd.success) {
      this.replyLater(() => ack({ ok: false, error: { code: 'DOOR_FAULT', message: `invalid unlock command: ${cmd.error.issues[0]?.message ?? ''}` } }));
      return;
    }
    this.o.counters.unlocks++;
    const { visitId, openWithinMs } = cmd.data;
    this.input({ type: 'UnlockCommanded', visitId, openWithinMs, now: this.o.clock.now() }, (a) => {
      if (!a.ok) bump(this.o.counters.unlockRefused, a.error.code);
      this.o.onEvent?.({ type: 'unlock', cabinetId: this.cabinetId, visitId, ack: a });
      this.replyLater(() => ack(a));
    });
  }

  private onConfig(raw: unknown, ack: (a: { ok: true } | { ok: false; error: { code: string; message: string } }) => void): void {
    this.o.counters.commands++;
    const cmd = ConfigCommand.safeParse(raw);
    if (!cmd.success) {
      this.replyLater(() => ack({ ok: false, error: { code: 'BAD_REQUEST', message: cmd.error.issues[0]?.message ?? 'invalid config' } }));
      return;
    }
    const c = cmd.data;
    if (c.frameRate !== undefined) this.input({ type: 'Reconfigured', frameIntervalMs: Math.round(1000 / c.frameRate) });
    if (c.jpegQuality !== undefined) this.jpegQuality = c.jpegQuality;
    if (c.maxFrameBytes !== undefined) this.maxFrameBytes = c.maxFrameBytes;
    if (c.statusIntervalMs !== undefined && c.statusIntervalMs !== this.statusIntervalMs) {
      this.statusIntervalMs = c.statusIntervalMs;
      this.scheduleStatus(c.statusIntervalMs);
    }
    this.o.onEvent?.({ type: 'config', cabinetId: this.cabinetId, config: c });
    this.replyLater(() => ack({ ok: true }));
  }

  /** Acks to the service's commands travel the same link: late on a weak signal (never lost, to keep tests sane). */
  private replyLater(fn: () => void): void {
    const fate = sendFate({ ...this.link, dropSend: 0 }, this.o.rng);
    if (fate.fate === 'sent' && fate.delayMs > 0) this.later(fate.delayMs, fn);
    else fn();
  }

  // ---- the machine and its effects ----

  private input(i: DeviceInput, onUnlockReply?: (a: UnlockAck) => void): void {
    const step = decide(this.device, i);
    this.device = step.state;
    for (const e of step.effects) this.perform(e, onUnlockReply);
  }

  private perform(e: DeviceEffect, onUnlockReply?: (a: UnlockAck) => void): void {
    switch (e.type) {
      case 'ReplyUnlock':
        onUnlockReply?.(e.ack);
        return;
      case 'Capture':
        this.capture(e);
        return;
      case 'SetLock':
        return; // the lock is the machine's state; nothing else to drive in a simulation
      case 'Report':
        this.report(e);
        return;
      case 'StartTimer': {
        this.timers.get(e.timer)?.();
        const fire = this.timerInput(e.timer, e.visitId);
        this.timers.set(
          e.timer,
          this.o.clock.schedule(e.ms, () => {
            this.timers.delete(e.timer);
            this.input(fire());
          }),
        );
        return;
      }
      case 'StopTimer':
        this.timers.get(e.timer)?.();
        this.timers.delete(e.timer);
        return;
      case 'Upload':
        void this.upload(e.visitId, e.frames);
        return;
      case 'Discard':
        this.held.delete(e.visitId);
        return;
      case 'ShopperCue':
        this.cueShopper(e.visitId, e.openWithinMs);
        return;
      default:
        assertNever(e, 'device effect');
    }
  }

  private timerInput(timer: TimerName, visitId: string | undefined): () => DeviceInput {
    switch (timer) {
      case 'openWindow':
        return () => ({ type: 'OpenWindowElapsed', visitId: visitId ?? '', now: this.o.clock.now() });
      case 'frame':
        return () => ({ type: 'FrameTimerFired', now: this.o.clock.now() });
      case 'leftOpen':
        return () => ({ type: 'LeftOpenTimerFired', now: this.o.clock.now() });
      default:
        return assertNever(timer, 'timer');
    }
  }

  private report(e: Extract<DeviceEffect, { type: 'Report' }>): void {
    const now = this.o.clock.now();
    if (e.event === 'door') {
      const st = e.payload.state;
      if (st === 'opened') this.o.counters.doorsOpened++;
      else if (st === 'relocked') this.o.counters.relocked++;
      else this.o.counters.closed++;
      this.o.onEvent?.({ type: 'door', cabinetId: this.cabinetId, state: st, visitId: e.payload.visitId });
      this.outbox.enqueue({ event: 'door', payload: e.payload }, now);
    } else {
      bump(this.o.counters.alarms, e.payload.kind);
      this.o.onEvent?.({ type: 'alarm', cabinetId: this.cabinetId, kind: e.payload.kind });
      this.outbox.enqueue({ event: 'alarm', payload: e.payload }, now);
    }
    this.pump();
  }

  private capture(e: Extract<DeviceEffect, { type: 'Capture' }>): void {
    this.o.counters.framesCaptured++;
    const ctx = { cabinetId: this.cabinetId, camera: e.camera, visitId: e.visitId, seq: e.seq, phase: e.phase, ts: e.now, lanes: this.shelf.snapshot(), sceneSeed: this.sceneSeed, jpegQuality: this.jpegQuality };
    const frame = Promise.resolve()
      .then(() => this.o.frames(ctx))
      .then(
        (jpeg): FrameEvent | undefined => ({ visitId: e.visitId, camera: e.camera, seq: e.seq, ts: e.now, phase: e.phase, jpeg }),
        () => undefined, // a camera that failed to deliver: the frame is missing, the count still says it was taken
      );
    const list = this.held.get(e.visitId) ?? [];
    list.push(frame);
    this.held.set(e.visitId, list);
  }

  private async upload(visitId: string, frames: Record<string, number>): Promise<void> {
    const list = this.held.get(visitId) ?? [];
    this.held.delete(visitId);
    const done = await Promise.all(list);
    const now = this.o.clock.now();
    for (const f of done) {
      if (!f) continue;
      if (f.jpeg.length > this.maxFrameBytes) continue; // firmware will not send what the service said it refuses
      this.outbox.enqueue({ event: 'frame', payload: f }, now);
    }
    const key = this.outbox.enqueue({ event: 'upload.done', payload: { visitId, frames } }, now);
    this.doneKeys.set(key, { visitId, frames });
    this.pump();
  }

  private cueShopper(visitId: string, openWithinMs: number): void {
    const plan = this.o.shopper.plan({ cabinetId: this.cabinetId, visitId, stocked: this.shelf.stocked(), openWithinMs });
    if (!plan.shows) return;
    this.later(plan.arriveAfterMs, () => {
      if (this.device.door.phase !== 'unlocked' || this.device.door.visit.visitId !== visitId) return;
      this.input({ type: 'DoorPulled', now: this.o.clock.now() });
      this.later(plan.dwellMs, () => {
        const takes = this.shelf.take(plan.takes);
        this.o.onEvent?.({ type: 'taken', cabinetId: this.cabinetId, visitId, takes });
        const shut = (): void => this.input({ type: 'DoorPushedShut', now: this.o.clock.now() });
        if (plan.leavesOpenForMs) this.later(plan.leavesOpenForMs, shut);
        else shut();
      });
    });
  }

  // ---- sending the outbox ----

  private pump(): void {
    const s = this.socket;
    if (!s || this.linkState !== 'online') return;
    const now = this.o.clock.now();
    for (const entry of this.outbox.takeSendable(now)) this.send(s, entry);
    const due = this.outbox.nextDueAt();
    if (due !== undefined && due > now && (!this.wakeTimer || this.wakeTimer.at > due)) {
      this.wakeTimer?.cancel();
      this.wakeTimer = {
        at: due,
        cancel: this.o.clock.schedule(due - now, () => {
          this.wakeTimer = undefined;
          this.pump();
        }),
      };
    }
  }

  private send(s: DeviceSocket, entry: OutboxEntry): void {
    const { key, attempts } = entry;
    const fate = sendFate(this.link, this.o.rng);
    const timeout = (): void => {
      this.outbox.timedOut(key, this.o.clock.now(), attempts);
      this.pump();
    };
    if (fate.fate === 'lost') {
      this.later(this.ackTimeoutMs, timeout);
      return;
    }
    const go = (): void => {
      if (!s.connected) return; // connectionLost() already put it back
      const started = this.o.clock.now();
      this.emit(s, entry).then(
        (ack) => {
          if (fate.ackLost) {
            this.later(Math.max(0, this.ackTimeoutMs - (this.o.clock.now() - started)), timeout);
            return;
          }
          const v = this.outbox.acked(key, ack, this.o.clock.now());
          if (v?.verdict === 'rejected') this.o.onEvent?.({ type: 'rejected', cabinetId: this.cabinetId, event: entry.item.event, code: v.code, key });
          if (v?.verdict === 'done' && entry.item.event === 'upload.done') {
            this.o.counters.visitsUploaded++;
            const d = this.doneKeys.get(key);
            this.doneKeys.delete(key);
            this.o.onEvent?.({ type: 'uploaded', cabinetId: this.cabinetId, visitId: entry.item.payload.visitId, frames: d?.frames ?? entry.item.payload.frames });
          }
          this.pump();
        },
        timeout,
      );
    };
    if (fate.delayMs > 0) this.later(fate.delayMs, go);
    else go();
  }

  private emit(s: DeviceSocket, entry: OutboxEntry): Promise<unknown> {
    const t = s.timeout(this.ackTimeoutMs);
    const item = entry.item;
    switch (item.event) {
      case 'door':
        return t.emitWithAck('door', item.payload);
      case 'alarm':
        return t.emitWithAck('alarm', item.payload);
      case 'frame':
        return t.emitWithAck('frame', item.payload);
      case 'upload.done':
        return t.emitWithAck('upload.done', item.payload);
      default:
        return assertNever(item, 'outbox item');
    }
  }

  /** A one-off timer that stop() cancels. */
  private later(ms: number, fn: () => void): void {
    const cancel = this.o.clock.schedule(ms, () => {
      this.misc.delete(cancel);
      if (this.linkState !== 'stopped') fn();
    });
    this.misc.add(cancel);
  }
}
