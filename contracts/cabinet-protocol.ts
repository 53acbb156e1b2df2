import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { CabinetId, CameraId } from './domain';

/**
 * Cabinet protocol, version 1 (../shared/docs/cabinet-protocol.md), defined once: the device gateway
 * validates with these schemas, the simulator and any other client build with them. Objects are not strict:
 * firmware may add optional fields, and the service must keep serving version 1.
 */
export const PROTOCOL_VERSION = 1;
export const NAMESPACE = '/cabinet';

const ts = z.number().int().nonnegative();

export const HandshakeAuth = z.object({
  cabinetId: CabinetId,
  ts,
  nonce: z.string().min(16).max(64),
  sig: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex HMAC-SHA256'),
  protocol: z.number().int(),
  firmware: z.string().max(200),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuth>;

/** Handshake refusal codes, carried in socket.io's `connect_error` as `err.data.code`. */
export const HandshakeErrorCode = z.enum(['AUTH_FAILED', 'PROTOCOL_UNSUPPORTED', 'DISABLED']);
export type HandshakeErrorCode = z.infer<typeof HandshakeErrorCode>;

/** The string the handshake signature covers. */
export const handshakeMessage = (cabinetId: string, ts: number, nonce: string): string => `${cabinetId}.${ts}.${nonce}`;

export function signHandshake(secret: string, cabinetId: string, ts: number, nonce: string): string {
  return createHmac('sha256', secret).update(handshakeMessage(cabinetId, ts, nonce)).digest('hex');
}

// ---- device → service ----

export const DoorPosition = z.enum(['open', 'closed', 'absent']);
export const StatusEvent = z.object({
  ts,
  door: DoorPosition,
  locked: z.boolean(),
  temperatureC: z.number().finite().min(-60).max(100).optional(),
  signalDbm: z.number().finite().min(-200).max(0).optional(),
  pendingUploads: z.number().int().nonnegative(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

export const VisitId = z.string().regex(/^[A-Za-z0-9_-]{4,64}$/, 'visit id: 4–64 letters, digits, _ or -');

export const DoorState = z.enum(['opened', 'closed', 'relocked']);
export type DoorState = z.infer<typeof DoorState>;
export const DoorEvent = z.object({ ts, state: DoorState, visitId: VisitId.optional() });
export type DoorEvent = z.infer<typeof DoorEvent>;

export const FramePhase = z.enum(['before', 'during', 'after']);
export type FramePhase = z.infer<typeof FramePhase>;
export const FrameEvent = z.object({
  visitId: VisitId,
  camera: CameraId,
  seq: z.number().int().nonnegative().max(100_000),
  ts,
  phase: FramePhase,
  jpeg: z.instanceof(Buffer).or(z.instanceof(Uint8Array).transform((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength))),
});
export type FrameEvent = z.infer<typeof FrameEvent>;

export const UploadDoneEvent = z.object({
  visitId: VisitId,
  frames: z.record(CameraId, z.number().int().nonnegative().max(100_000)),
});
export type UploadDoneEvent = z.infer<typeof UploadDoneEvent>;

export const AlarmKind = z.enum(['door_forced', 'door_left_open', 'tamper', 'temperature', 'camera_fault']);
export type AlarmKind = z.infer<typeof AlarmKind>;
export const AlarmEvent = z.object({ ts, kind: AlarmKind, detail: z.string().max(500).optional() });
export type AlarmEvent = z.infer<typeof AlarmEvent>;

/** Ack error codes the service sends to the device. */
export const DeviceAckErrorCode = z.enum(['BAD_REQUEST', 'UNKNOWN_VISIT', 'TOO_LARGE', 'UNAVAILABLE']);
export type DeviceAckErrorCode = z.infer<typeof DeviceAckErrorCode>;

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };

export const DEVICE_EVENTS = ['status', 'door', 'frame', 'upload.done', 'alarm'] as const;
export type DeviceEventName = (typeof DEVICE_EVENTS)[number];

export const DeviceEventSchemas = {
  status: StatusEvent,
  door: DoorEvent,
  frame: FrameEvent,
  'upload.done': UploadDoneEvent,
  alarm: AlarmEvent,
} as const satisfies Record<DeviceEventName, z.ZodType>;

/** socket.io typed event map, device → service. */
export interface DeviceToServiceEvents {
  status: (e: StatusEvent, ack: (a: Ack<{ serverTime: number }>) => void) => void;
  door: (e: DoorEvent, ack: (a: Ack) => void) => void;
  frame: (e: FrameEvent, ack: (a: Ack) => void) => void;
  'upload.done': (e: UploadDoneEvent, ack: (a: Ack) => void) => void;
  alarm: (e: AlarmEvent, ack: (a: Ack) => void) => void;
}

// ---- service → device ----

export const UnlockCommand = z.object({ visitId: VisitId, openWithinMs: z.number().int().positive().max(120_000) });
export type UnlockCommand = z.infer<typeof UnlockCommand>;
export const UnlockRefusal = z.enum(['DOOR_FAULT', 'BUSY', 'CAMERA_FAULT']);
export type UnlockRefusal = z.infer<typeof UnlockRefusal>;
export const UnlockAck = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: z.object({ code: UnlockRefusal, message: z.string().optional() }) }),
]);
export type UnlockAck = z.infer<typeof UnlockAck>;

export const DisplayCommand = z.object({ text: z.string().max(200), ttlMs: z.number().int().positive().max(600_000) });
export type DisplayCommand = z.infer<typeof DisplayCommand>;

export const ConfigCommand = z.object({
  statusIntervalMs: z.number().int().min(1000).max(300_000).optional(),
  frameRate: z.number().min(0.1).max(30).optional(),
  jpegQuality: z.number().int().min(10).max(100).optional(),
  maxFrameBytes: z.number().int().min(1024).max(8 << 20).optional(),
});
export type ConfigCommand = z.infer<typeof ConfigCommand>;

/** socket.io typed event map, service → device. */
export interface ServiceToDeviceEvents {
  unlock: (c: UnlockCommand, ack: (a: UnlockAck) => void) => void;
  display: (c: DisplayCommand, ack: (a: Ack) => void) => void;
  config: (c: ConfigCommand, ack: (a: Ack) => void) => void;
}

/** `https://<host>/c/<cabinetId>?flow=<open|semi|auto>` — the QR code on a cabinet. */
export const qrUrl = (host: string, cabinetId: string, flow: 'open' | 'semi' | 'auto'): string => `https://${host}/c/${encodeURIComponent(cabinetId)}?flow=${flow}`;
