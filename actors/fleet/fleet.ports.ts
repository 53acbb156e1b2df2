import type { AlarmKind, FramePhase, UnlockAck, UnlockCommand } from '../../contracts/cabinet-protocol';
import type { FlowKind, Lane } from '../../contracts/domain';
import type { VisitPurpose } from '../cabinet/cabinet.protocol';
import type { VisitView } from '../visit/visit.protocol';

/** What the device side answered to `unlock`, or why nothing was answered. */
export type UnlockAnswer = UnlockAck | { ok: false; error: { code: 'TIMEOUT' | 'NOT_CONNECTED' } };

/** Commands to devices; implemented by the device gateway. */
export interface DeviceLink {
  sendUnlock(cabinetId: string, cmd: UnlockCommand, timeoutMs: number): Promise<UnlockAnswer>;
}

export interface CabinetRecord {
  cabinetId: string;
  name: string;
  kind: FlowKind;
  siteId: string;
  disabled: boolean;
  cameras: string[];
  lanes: Lane[];
}

export interface NewVisit {
  visitId: string;
  cabinetId: string;
  siteId: string;
  purpose: VisitPurpose;
  shopperId?: string;
  operatorId?: string;
  requestedAt: number;
  unlockExpiresAt: number;
}

export interface StoredFrame {
  camera: string;
  seq: number;
  phase: FramePhase;
  ts: number;
  jpeg: Buffer;
}

/** Persistence the fleet needs; implemented on mongoose in store/fleet.store.ts. */
export interface FleetStore {
  loadCabinet(cabinetId: string): Promise<CabinetRecord | undefined>;
  /** Every registered cabinet, for the fleet view before its actor exists. */
  listCabinets(): Promise<Array<{ cabinetId: string; kind: CabinetRecord['kind']; siteId: string; lastSeenAt?: number; firmware?: string }>>;
  /** The visit holding the cabinet's door (unlocking, open, or closed without its frames), if any. */
  openVisitOf(cabinetId: string): Promise<VisitView | undefined>;
  raisedAlarms(cabinetId: string): Promise<Array<{ kind: AlarmKind; since: number; detail?: string }>>;
  /** Inserts the visit and takes the door; 'door_taken' when another visit holds it. */
  createVisit(v: NewVisit): Promise<'created' | 'door_taken'>;
  projectVisit(view: VisitView, releaseDoor: boolean): Promise<void>;
  loadVisit(visitId: string): Promise<VisitView | undefined>;
  /** Idempotent on (visitId, camera, seq). */
  storeFrame(visitId: string, f: StoredFrame): Promise<'stored' | 'duplicate'>;
  countFrames(visitId: string): Promise<Record<string, number>>;
  loadFrames(visitId: string): Promise<StoredFrame[]>;
  raiseAlarm(a: { cabinetId: string; siteId: string; kind: AlarmKind; at: number; detail?: string }): Promise<void>;
  clearAlarm(a: { cabinetId: string; kind: AlarmKind; at: number }): Promise<void>;
  saveLastSeen(cabinetId: string, at: number, firmware?: string): Promise<void>;
}
