import { timingSafeEqual } from 'node:crypto';
import type { Namespace, Server, Socket } from 'socket.io';
import type { z } from 'zod';
import { assertNever } from '../../common/assert-never';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import type { Metrics } from '../../common/metrics';
import { memoryNonces, type NonceClaims } from '../../common/shared-state';
import {
  DEVICE_EVENTS,
  DeviceEventSchemas,
  HandshakeAuth,
  NAMESPACE,
  PROTOCOL_VERSION,
  UnlockAck,
  signHandshake,
  type Ack,
  type DeviceEventName,
  type DeviceToServiceEvents,
  type HandshakeErrorCode,
  type ServiceToDeviceEvents,
  type UnlockCommand,
} from '../../contracts/cabinet-protocol';
import type { DeviceLink, UnlockAnswer } from '../../actors/fleet/fleet.ports';
import type { Fleet } from '../../actors/fleet/fleet';

/** How the gateway finds a cabinet's secret and status; the service serves it from the fleet's in-memory directory. */
export interface DeviceDirectory {
  /**
   * The cabinet's plaintext device secret and whether it is disabled; undefined when unknown. Called once per
   * handshake that passed the cheap checks (shape, protocol, timestamp window), so it should not cost a
   * database read per call.
   */
  credentials(cabinetId: string): Promise<{ secret: string; disabled: boolean } | undefined>;
}

export interface DeviceGatewayOptions {
  fleet: Fleet;
  directory: DeviceDirectory;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** Frames above this many bytes get TOO_LARGE. */
  maxFrameBytes: number;
  /** Handshake timestamps further than this from the service clock are refused (5 minutes by the protocol). */
  authWindowMs?: number;
  /**
   * In a cluster: a new connection also closes the cabinet's older one held by another node (through the
   * socket.io adapter's room of the cabinet), so one node at a time holds the cabinet and its actors.
   */
  clustered?: boolean;
  /** Where used handshake nonces are remembered: this process's memory by default, Redis in a cluster. */
  nonces?: NonceClaims;
}

/** The socket.io room of a cabinet's connection, across the nodes of a cluster. */
export const cabinetRoom = (cabinetId: string): string => `cabinet:${cabinetId}`;

type DeviceSocket = Socket<DeviceToServiceEvents, ServiceToDeviceEvents, Record<string, never>, { cabinetId: string }>;

class HandshakeError extends Error {
  readonly data: { code: HandshakeErrorCode };
  constructor(code: HandshakeErrorCode, message: string) {
    super(message);
    this.data = { code };
  }
}

/**
 * Device gateway for cabinet protocol v1: authenticates the handshake, validates every event with the
 * contract's zod schemas (answering BAD_REQUEST without dropping the connection), turns events into actor
 * messages through the fleet and sends `unlock` with an acknowledgement timeout. No business rules here.
 */
export class DeviceGateway implements DeviceLink {
  private ns?: Namespace<DeviceToServiceEvents, ServiceToDeviceEvents, Record<string, never>, { cabinetId: string }>;
  private readonly sockets = new Map<string, DeviceSocket>();
  /** Nonces claimed within the auth window (twice it: a handshake may be ts ± window); older ones fail the timestamp check. */
  private readonly nonces: NonceClaims;
  private readonly window: number;

  constructor(private readonly o: DeviceGatewayOptions) {
    this.window = o.authWindowMs ?? 5 * 60_000;
    this.nonces = o.nonces ?? memoryNonces();
  }

  attach(io: Server): void {
    const ns = io.of(NAMESPACE) as unknown as NonNullable<DeviceGateway['ns']>;
    this.ns = ns;
    const refused = this.o.metrics?.counter('device_handshakes_refused_total', 'Refused device handshakes', ['code']);
    const events = this.o.metrics?.counter('device_events_total', 'Device events by name and outcome', ['event', 'outcome']);
    ns.use((socket, next) => {
      this.authenticate(socket.handshake.auth).then(
        (cabinetId) => {
          socket.data.cabinetId = cabinetId;
          next();
        },
        (e: unknown) => {
          const err = e instanceof HandshakeError ? e : new HandshakeError('AUTH_FAILED', 'authentication failed');
          refused?.inc({ code: err.data.code });
          this.o.log.warn({ code: err.data.code, reason: err.message, cabinetId: (socket.handshake.auth as { cabinetId?: unknown })?.cabinetId }, 'device handshake refused');
          next(err);
        },
      );
    });
    ns.on('connection', (socket) => {
      const cabinetId = socket.data.cabinetId;
      const older = this.sockets.get(cabinetId);
      this.sockets.set(cabinetId, socket);
      // A new accepted connection replaces the older one, on this node or (clustered) on any other.
      if (older && older.id !== socket.id) older.disconnect(true);
      if (this.o.clustered) {
        void socket.join(cabinetRoom(cabinetId));
        ns.in(cabinetRoom(cabinetId)).except(socket.id).disconnectSockets(true);
      }
      const firmware = String((socket.handshake.auth as { firmware?: unknown }).firmware ?? '');
      void this.o.fleet.deviceConnected(cabinetId, socket.id, firmware);
      socket.on('disconnect', () => {
        if (this.sockets.get(cabinetId) === socket) this.sockets.delete(cabinetId);
        void this.o.fleet.deviceDisconnected(cabinetId, socket.id);
      });
      for (const name of DEVICE_EVENTS) {
        socket.on(name as never, ((...args: unknown[]) => {
          const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (a: Ack) => void) : undefined;
          this.handle(cabinetId, name, args[0]).then(
            (a) => {
              events?.inc({ event: name, outcome: a.ok ? 'ok' : a.error.code });
              ack?.(a);
            },
            (e: unknown) => {
              events?.inc({ event: name, outcome: 'error' });
              this.o.log.error({ cabinetId, event: name, err: e instanceof Error ? e.message : String(e) }, 'device event failed');
              ack?.({ ok: false, error: { code: 'UNAVAILABLE', message: 'not processed; send it again' } });
            },
          );
        }) as never);
      }
      // Anything the protocol does not name still gets an answer.
      socket.onAny((event: string, ...args: unknown[]) => {
        if ((DEVICE_EVENTS as readonly string[]).includes(event)) return;
        const ack = args[args.length - 1];
        if (typeof ack === 'function') (ack as (a: Ack) => void)({ ok: false, error: { code: 'BAD_REQUEST', message: `unknown event "${event}"` } });
      });
    });
  }

  private async authenticate(raw: unknown): Promise<string> {
    const protocol = (raw as { protocol?: unknown })?.protocol;
    if (protocol !== undefined && protocol !== PROTOCOL_VERSION) throw new HandshakeError('PROTOCOL_UNSUPPORTED', `protocol ${String(protocol)} is not served; use ${PROTOCOL_VERSION}`);
    const parsed = HandshakeAuth.safeParse(raw);
    if (!parsed.success) throw new HandshakeError('AUTH_FAILED', 'malformed handshake');
    const auth = parsed.data;
    // The clock first: a stale or replayed-late handshake costs neither a directory lookup nor an HMAC.
    const now = this.o.clock.now();
    if (Math.abs(now - auth.ts) > this.window) throw new HandshakeError('AUTH_FAILED', 'timestamp outside the window');
    const creds = await this.o.directory.credentials(auth.cabinetId);
    if (!creds) throw new HandshakeError('AUTH_FAILED', 'unknown cabinet');
    const expected = Buffer.from(signHandshake(creds.secret, auth.cabinetId, auth.ts, auth.nonce), 'hex');
    const given = Buffer.from(auth.sig, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HandshakeError('AUTH_FAILED', 'bad signature');
    if (!(await this.nonces.claim(`${auth.cabinetId}:${auth.nonce}`, auth.ts + this.window - now + 1, now))) throw new HandshakeError('AUTH_FAILED', 'nonce replayed');
    if (creds.disabled) throw new HandshakeError('DISABLED', 'cabinet is disabled');
    return auth.cabinetId;
  }

  private async handle(cabinetId: string, name: DeviceEventName, payload: unknown): Promise<Ack> {
    const schema = DeviceEventSchemas[name] as z.ZodType;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      return { ok: false, error: { code: 'BAD_REQUEST', message: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || name}: ${i.message}`).join('; ') } };
    }
    const f = this.o.fleet;
    switch (name) {
      case 'status':
        await f.status(cabinetId, DeviceEventSchemas.status.parse(parsed.data));
        return { ok: true, serverTime: this.o.clock.now() } as Ack;
      case 'door':
        await f.door(cabinetId, DeviceEventSchemas.door.parse(parsed.data));
        return { ok: true };
      case 'frame': {
        const frame = DeviceEventSchemas.frame.parse(parsed.data);
        // Refused, and recorded by its visit before the answer: the device drops it for good, and the visit
        // must not wait for a frame that will never be stored.
        if (frame.jpeg.length > this.o.maxFrameBytes) return f.frameRefused(frame, { ok: false, error: { code: 'TOO_LARGE', message: `frame is ${frame.jpeg.length} bytes; the limit is ${this.o.maxFrameBytes}` } });
        return f.frame(cabinetId, frame);
      }
      case 'upload.done':
        return f.uploadDone(cabinetId, DeviceEventSchemas['upload.done'].parse(parsed.data));
      case 'alarm':
        await f.alarm(cabinetId, DeviceEventSchemas.alarm.parse(parsed.data));
        return { ok: true };
      default:
        return assertNever(name, 'device event');
    }
  }

  async sendUnlock(cabinetId: string, cmd: UnlockCommand, timeoutMs: number): Promise<UnlockAnswer> {
    const socket = this.sockets.get(cabinetId);
    if (!socket?.connected) return { ok: false, error: { code: 'NOT_CONNECTED' } };
    try {
      const raw: unknown = await socket.timeout(timeoutMs).emitWithAck('unlock', cmd);
      const ack = UnlockAck.safeParse(raw);
      return ack.success ? ack.data : { ok: false, error: { code: 'DOOR_FAULT', message: 'malformed unlock ack' } };
    } catch {
      // Not acknowledged in time: the unlock is void and is never sent again.
      return { ok: false, error: { code: 'TIMEOUT' } };
    }
  }

  connectedCount(): number {
    return this.sockets.size;
  }

  close(): void {
    for (const s of this.sockets.values()) s.disconnect(true);
    this.sockets.clear();
  }
}
