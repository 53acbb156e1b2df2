import type { AlarmKind, DoorState, StatusEvent, UnlockAck } from '../../contracts/cabinet-protocol';
import type { FlowKind } from '../../contracts/domain';
import type { ActorRef } from '../runtime';

/** Why an unlock was not granted. Expected outcomes, returned as values. */
export type UnlockRefusal = 'OFFLINE' | 'BUSY' | 'RESTOCKING' | 'FAULT' | 'DISABLED' | 'DEVICE_REFUSED' | 'DEVICE_TIMEOUT' | 'DOOR_TAKEN';

export type UnlockReply = { type: 'UnlockGranted'; visitId: string } | { type: 'UnlockRefused'; reason: UnlockRefusal; detail?: string };

export type VisitPurpose = 'shopping' | 'restock';

/** Reply to a device report once everything it caused is persisted; the gateway acks the device then. */
export type Handled = { type: 'Handled' };

/** Live view of a cabinet for the dashboard and the fleet snapshot. */
export interface CabinetView {
  cabinetId: string;
  kind: FlowKind;
  siteId: string;
  /** 'offline' when the link is down, else the door phase. */
  state: 'offline' | CabinetPhase;
  online: boolean;
  lastSeenAt?: number;
  offlineSince?: number;
  door?: 'open' | 'closed' | 'absent';
  locked?: boolean;
  temperatureC?: number;
  visitId?: string;
  alarms: AlarmKind[];
  firmware?: string;
  /** The device refused its last unlock with DOOR_FAULT (the lock needs a technician). */
  doorFault?: boolean;
}

export type CabinetPhase = 'idle' | 'unlocking' | 'open' | 'awaiting_upload' | 'restocking' | 'fault';

/** Messages a cabinet actor accepts. Commands are imperative, reports and results past tense. */
export type CabinetMsg =
  // from the device gateway
  | { type: 'DeviceConnected'; connectionId: string; firmware: string }
  | { type: 'DeviceDisconnected'; connectionId: string }
  | { type: 'StatusReported'; status: StatusEvent }
  | { type: 'DoorReported'; state: DoorState; visitId?: string; ts: number; replyTo?: ActorRef<Handled> }
  | { type: 'AlarmReported'; kind: AlarmKind; detail?: string; ts: number; replyTo?: ActorRef<Handled> }
  // from shoppers' sessions, operators and tools
  | { type: 'RequestUnlock'; purpose: VisitPurpose; shopperId?: string; operatorId?: string; visitId: string; replyTo: ActorRef<UnlockReply> }
  | { type: 'GetView'; replyTo: ActorRef<CabinetView> }
  | { type: 'SetDisabled'; disabled: boolean }
  // results of the actor's own effects
  | { type: 'UnlockAnswered'; visitId: string; ack: UnlockAck | { ok: false; error: { code: 'TIMEOUT' | 'NOT_CONNECTED' | 'DOOR_TAKEN' } } }
  | { type: 'VisitEnded'; visitId: string }
  // timers
  | { type: 'LinkCheck'; token: number }
  | { type: 'UnlockDeadline'; visitId: string }
  | { type: 'AlarmCheck'; kind: AlarmKind }
  | { type: 'UploadGraceOver'; visitId: string };
