import type { Sealed } from '../../common/sealing';
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
  /** The planogram version these lanes are (contracts/planogram.ts); 1 when absent (never changed). */
  planogramVersion?: number;
}

/** A cabinet as the fleet's directory holds it: its record, its sealed device secret, what the view shows. */
export interface DirectoryRow extends CabinetRecord {
  /** The device secret sealed at rest; opened (and cached) only when the cabinet first connects. */
  secret: Sealed;
  lastSeenAt?: number;
  firmware?: string;
}

/** An alarm raised and not cleared, as the store keeps it. */
export interface RaisedAlarm {
  cabinetId: string;
  kind: AlarmKind;
  since: number;
  detail?: string;
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
  /** The planogram version in force as the visit takes the door: the one it is recognised against. */
  planogramVersion?: number;
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
  /** One cabinet by its key (a point read, never a scan); undefined when unknown. */
  loadCabinet(cabinetId: string): Promise<DirectoryRow | undefined>;
  /** Every registered cabinet in one read, for the directory and the fleet view before any actor exists. */
  listCabinets(): Promise<DirectoryRow[]>;
  /** The visit holding the cabinet's door (unlocking, open, or closed without its frames), if any. */
  openVisitOf(cabinetId: string): Promise<VisitView | undefined>;
  /** openVisitOf for every cabinet at once (one read at start-up), at most one visit per cabinet. */
  openVisits(): Promise<VisitView[]>;
  /**
   * Every visit whose evidence a restart may have cut short (one read at start-up): closed with its
   * `upload.done` recorded and its frames not yet counted (the device was told all was received), or a
   * complete shopping visit that recognition never answered.
   */
  visitsAwaitingEvidence(): Promise<VisitView[]>;
  raisedAlarms(cabinetId: string): Promise<Array<{ kind: AlarmKind; since: number; detail?: string }>>;
  /** raisedAlarms for every cabinet at once (one read at start-up). */
  allRaisedAlarms(): Promise<RaisedAlarm[]>;
  setDisabled(cabinetId: string, disabled: boolean): Promise<void>;
  /** Inserts the visit and takes the door; 'door_taken' when another visit holds it. */
  createVisit(v: NewVisit): Promise<'created' | 'door_taken'>;
  projectVisit(view: VisitView, releaseDoor: boolean): Promise<void>;
  loadVisit(visitId: string): Promise<VisitView | undefined>;
  /** Idempotent on (visitId, camera, seq). */
  /** Stores a frame once per (visitId, camera, seq); a repeat is 'duplicate' (already stored, nothing written). */
  storeFrame(visitId: string, f: StoredFrame): Promise<'stored' | 'duplicate'>;
  /** Which of these frames of the visit are stored (point reads: never a scan of all frames). */
  storedFrames(visitId: string, wanted: ReadonlyArray<{ camera: string; seq: number }>): Promise<Array<{ camera: string; seq: number }>>;
  /** The frames announced by upload.done (`frames`: count per camera, seq 0…n−1), in camera and seq order. */
  loadFrames(visitId: string, frames: Record<string, number>): Promise<StoredFrame[]>;
  raiseAlarm(a: { cabinetId: string; siteId: string; kind: AlarmKind; at: number; detail?: string }): Promise<void>;
  clearAlarm(a: { cabinetId: string; kind: AlarmKind; at: number }): Promise<void>;
  /** Cabinets' last-seen times in one round trip, each written by the cabinet's key. */
  saveLastSeenMany(rows: Array<{ cabinetId: string; at: number; firmware?: string }>): Promise<void>;
}
