import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import {
  DEVICE_EVENTS,
  HandshakeAuth,
  NAMESPACE,
  PROTOCOL_VERSION,
  signHandshake,
  type Ack,
  type DeviceEventName,
  type DeviceToServiceEvents,
  type ServiceToDeviceEvents,
  type UnlockAck,
} from '../../contracts/cabinet-protocol';

/**
 * The baseline for the fleet benchmark, and a stand-in service for simulator tests: a plain socket.io server
 * with the device gateway's transport options (websocket only, namespace `/cabinet`), the protocol's
 * handshake check (HMAC, protocol, ts window) and an ack for every device event — and nothing else: no
 * validation, no actors, no database.
 */
export interface BareServerOptions {
  /** The secret of a cabinet, or undefined for an unknown one. Defaults to `deriveSecret(masterKey, id)`. */
  secretOf?: (cabinetId: string) => string | undefined;
  masterKey?: string;
  /** Keep every device event for inspection (tests). Off in the benchmark. */
  record?: boolean;
  /** Remember nonces to refuse replays, as the protocol asks. Off in the benchmark baseline (it costs memory per handshake). */
  checkNonces?: boolean;
  /** Answer an event differently (tests of weak links and refusals); undefined → the normal ack. */
  ackOverride?: (event: DeviceEventName, payload: unknown, cabinetId: string) => Ack | undefined;
  /** Service clock for the ts window; defaults to Date.now. */
  now?: () => number;
  port?: number;
  host?: string;
}

export interface RecordedEvent {
  cabinetId: string;
  event: DeviceEventName;
  payload: unknown;
  at: number;
}

export interface BareServer {
  readonly url: string;
  readonly http: HttpServer;
  readonly io: Server;
  readonly events: RecordedEvent[];
  connectedCount(): number;
  isConnected(cabinetId: string): boolean;
  /** Sends `unlock` and waits for the device's ack; resolves the ack (or a TIMEOUT refusal) and the round-trip in ms. */
  unlock(cabinetId: string, visitId: string, openWithinMs: number, timeoutMs?: number): Promise<{ ack: UnlockAck | { ok: false; error: { code: 'TIMEOUT' | 'NOT_CONNECTED' } }; ms: number }>;
  /** Sends any command with an ack. */
  command(cabinetId: string, event: 'display' | 'config', payload: object, timeoutMs?: number): Promise<unknown>;
  /** Drops a cabinet's connection from the server side. */
  kick(cabinetId: string): void;
  close(): Promise<void>;
}

/** Deterministic per-cabinet secrets for the bare server: no provisioning step in the baseline. */
export const deriveSecret = (masterKey: string, cabinetId: string): string => createHmac('sha256', masterKey).update(`cabinet:${cabinetId}`).digest('hex');

export const DEFAULT_MASTER_KEY = 'bare-server-bench-key';

const FIVE_MINUTES = 5 * 60_000;

type DeviceSocket = Socket<DeviceToServiceEvents, ServiceToDeviceEvents>;

export async function startBareServer(o: BareServerOptions = {}): Promise<BareServer> {
  const masterKey = o.masterKey ?? DEFAULT_MASTER_KEY;
  const secretOf = o.secretOf ?? ((id: string) => deriveSecret(masterKey, id));
  const now = o.now ?? Date.now;
  const events: RecordedEvent[] = [];
  const sockets = new Map<string, DeviceSocket>();
  const nonces = new Map<string, number>();

  const http = createServer();
  const io = new Server<DeviceToServiceEvents, ServiceToDeviceEvents>(http, { transports: ['websocket'], serveClient: false });
  const nsp = io.of(NAMESPACE);

  nsp.use((socket, next) => {
    const refuse = (code: string, message: string): void => {
      const err = new Error(message) as Error & { data: { code: string } };
      err.data = { code };
      next(err);
    };
    const auth = HandshakeAuth.safeParse(socket.handshake.auth);
    if (!auth.success) return refuse('AUTH_FAILED', 'malformed handshake');
    const a = auth.data;
    if (a.protocol !== PROTOCOL_VERSION) return refuse('PROTOCOL_UNSUPPORTED', `protocol ${a.protocol} is not served`);
    const secret = secretOf(a.cabinetId);
    if (!secret) return refuse('AUTH_FAILED', 'unknown cabinet or bad signature');
    const want = Buffer.from(signHandshake(secret, a.cabinetId, a.ts, a.nonce), 'hex');
    const got = Buffer.from(a.sig, 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return refuse('AUTH_FAILED', 'unknown cabinet or bad signature');
    const t = now();
    if (Math.abs(t - a.ts) > FIVE_MINUTES) return refuse('AUTH_FAILED', 'clock skew');
    if (o.checkNonces) {
      const k = `${a.cabinetId}/${a.nonce}`;
      if (nonces.has(k)) return refuse('AUTH_FAILED', 'nonce reused');
      nonces.set(k, t);
      if (nonces.size > 50_000) for (const [n, at] of nonces) if (t - at > 2 * FIVE_MINUTES) nonces.delete(n);
    }
    (socket.data as { cabinetId?: string }).cabinetId = a.cabinetId;
    next();
  });

  nsp.on('connection', (socket: DeviceSocket) => {
    const cabinetId = (socket.data as { cabinetId: string }).cabinetId;
    const older = sockets.get(cabinetId);
    sockets.set(cabinetId, socket);
    if (older && older.id !== socket.id) older.disconnect(true); // a new connection replaces the older one
    socket.on('disconnect', () => {
      if (sockets.get(cabinetId) === socket) sockets.delete(cabinetId);
    });
    for (const event of DEVICE_EVENTS) {
      socket.on(event, (payload: unknown, ack: unknown) => {
        if (o.record) events.push({ cabinetId, event, payload, at: now() });
        if (typeof ack !== 'function') return;
        const reply = o.ackOverride?.(event, payload, cabinetId) ?? (event === 'status' ? { ok: true, serverTime: now() } : { ok: true });
        (ack as (a: Ack) => void)(reply);
      });
    }
  });

  await new Promise<void>((res) => http.listen(o.port ?? 0, o.host ?? '127.0.0.1', res));
  const port = (http.address() as AddressInfo).port;

  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    http,
    io,
    events,
    connectedCount: () => sockets.size,
    isConnected: (id) => sockets.get(id)?.connected === true,
    async unlock(cabinetId, visitId, openWithinMs, timeoutMs = 5_000) {
      const s = sockets.get(cabinetId);
      const t0 = performance.now();
      if (!s) return { ack: { ok: false, error: { code: 'NOT_CONNECTED' } }, ms: 0 };
      try {
        const ack = await s.timeout(timeoutMs).emitWithAck('unlock', { visitId, openWithinMs });
        return { ack, ms: performance.now() - t0 };
      } catch {
        return { ack: { ok: false, error: { code: 'TIMEOUT' } }, ms: performance.now() - t0 };
      }
    },
    async command(cabinetId, event, payload, timeoutMs = 5_000) {
      const s = sockets.get(cabinetId);
      if (!s) throw new Error(`${cabinetId} is not connected`);
      return event === 'display'
        ? s.timeout(timeoutMs).emitWithAck('display', payload as { text: string; ttlMs: number })
        : s.timeout(timeoutMs).emitWithAck('config', payload);
    },
    kick(cabinetId) {
      sockets.get(cabinetId)?.disconnect(true);
    },
    async close() {
      for (const s of sockets.values()) s.disconnect(true);
      await new Promise<void>((res) => {
        void io.close(() => res());
      });
    },
  };
}
