import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { NAMESPACE, signHandshake, type Ack, type ServiceToDeviceEvents, type UnlockAck, type UnlockCommand } from '../contracts/cabinet-protocol';

/** A bare protocol-v1 client for gateway tests: every knob of the handshake is overridable. */
export interface DeviceOptions {
  url: string;
  cabinetId: string;
  secret: string;
  ts?: number;
  nonce?: string;
  sig?: string;
  protocol?: number;
  /** How the device answers `unlock`; default acknowledges at once. `null` never answers. */
  onUnlock?: ((cmd: UnlockCommand) => UnlockAck | null) | null;
}

export interface TestDevice {
  socket: Socket;
  unlocks: UnlockCommand[];
  emit(event: string, payload: unknown, timeoutMs?: number): Promise<Ack & Record<string, unknown>>;
  close(): void;
}

/** Connects and resolves once accepted; rejects with the server's `connect_error` (its `data.code`). */
export function connectDevice(o: DeviceOptions): Promise<TestDevice> {
  const ts = o.ts ?? Date.now();
  const nonce = o.nonce ?? randomBytes(12).toString('hex');
  const socket: Socket = io(`${o.url}${NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { cabinetId: o.cabinetId, ts, nonce, sig: o.sig ?? signHandshake(o.secret, o.cabinetId, ts, nonce), protocol: o.protocol ?? 1, firmware: 'test-fw' },
  });
  const unlocks: UnlockCommand[] = [];
  socket.on('unlock' as keyof ServiceToDeviceEvents, ((cmd: UnlockCommand, ack: (a: UnlockAck) => void) => {
    unlocks.push(cmd);
    const answer = o.onUnlock === undefined ? { ok: true as const } : o.onUnlock?.(cmd);
    if (answer) ack(answer);
  }) as never);
  return new Promise((resolve, reject) => {
    socket.once('connect', () =>
      resolve({
        socket,
        unlocks,
        emit: (event, payload, timeoutMs = 5000) => socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<Ack & Record<string, unknown>>,
        close: () => socket.close(),
      }),
    );
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(err);
    });
  });
}

/** A minimal valid JPEG (SOI … EOI) whose comment makes each frame's bytes distinct. */
export function fakeJpeg(label: string, size = 64): Buffer {
  const comment = Buffer.from(label.padEnd(size, '.'));
  const len = Buffer.alloc(2);
  len.writeUInt16BE(comment.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe]), len, comment, Buffer.from([0xff, 0xd9])]);
}
