import { assertNever } from '../../common/assert-never';
import type { AlarmKind } from '../../contracts/cabinet-protocol';
import type { FlowKind } from '../../contracts/domain';
import type { ActorRef, Step } from '../runtime';
import type { CabinetMsg, CabinetPhase, CabinetView, Handled, UnlockReply, UnlockRefusal, VisitPurpose } from './cabinet.protocol';

/** Timings and limits of a cabinet; defaults in DEFAULT_CABINET_TIMINGS. */
export interface CabinetTimings {
  /** How long the device has to acknowledge `unlock`. An unacknowledged unlock is never sent again. */
  unlockAckTimeoutMs: number;
  /** Sent to the device as `openWithinMs`. */
  openWithinMs: number;
  /** After the open window, how long to wait for the device's `relocked` before ending the visit ourselves. */
  relockGraceMs: number;
  /** No message for this long → offline (three missed 15 s status reports). */
  offlineAfterMs: number;
  /** A dropped connection that is not replaced within this time → offline. */
  disconnectDebounceMs: number;
  /** While offline, remind again this often. */
  offlineRemindEveryMs: number;
  doorLeftOpenMs: number;
  doorForcedMs: number;
  /** Fridge range; undefined for ambient cabinets. */
  temperatureRangeC?: [number, number];
  temperatureAlarmMs: number;
  /** Device-reported tamper/camera faults stay raised until this long without a new report. */
  deviceAlarmHoldMs: number;
  /** After the door closed, how long the cabinet waits for the upload before accepting the next visit. */
  uploadGraceMs: number;
}

export const DEFAULT_CABINET_TIMINGS: CabinetTimings = {
  unlockAckTimeoutMs: 3_000,
  openWithinMs: 15_000,
  relockGraceMs: 10_000,
  offlineAfterMs: 45_000,
  disconnectDebounceMs: 10_000,
  offlineRemindEveryMs: 30 * 60_000,
  doorLeftOpenMs: 60_000,
  doorForcedMs: 2_000,
  temperatureAlarmMs: 5 * 60_000,
  deviceAlarmHoldMs: 10 * 60_000,
  uploadGraceMs: 120_000,
};

export interface CurrentVisit {
  visitId: string;
  purpose: VisitPurpose;
  shopperId?: string;
  operatorId?: string;
  requestedAt: number;
  /** Reply address of the pending unlock request; absent once answered. */
  replyTo?: ActorRef<UnlockReply>;
}

export interface AlarmCondition {
  since: number;
  raised: boolean;
  /** Last time the device reported it (device-reported kinds). */
  reportedAt?: number;
  /** Device-reported kinds: a clearing check is scheduled (one at a time; it looks again until the hold is quiet). */
  checkArmed?: boolean;
  detail?: string;
}

export interface CabinetState {
  cabinetId: string;
  kind: FlowKind;
  siteId: string;
  disabled: boolean;
  timings: CabinetTimings;
  link: 'unknown' | 'online' | 'offline';
  connectionId?: string;
  firmware?: string;
  lastSeenAt?: number;
  disconnectedAt?: number;
  offlineSince?: number;
  remindersSent: number;
  /** Only the LinkCheck carrying the latest token counts; older timers are ignored. */
  linkToken: number;
  door?: 'open' | 'closed' | 'absent';
  locked?: boolean;
  temperatureC?: number;
  phase: CabinetPhase;
  visit?: CurrentVisit;
  alarms: Partial<Record<AlarmKind, AlarmCondition>>;
  /** When the device last refused an unlock with DOOR_FAULT; cleared by the next acknowledged unlock. */
  doorFaultAt?: number;
}

export type CabinetEffect =
  | { type: 'StartVisit'; visit: CurrentVisit; cabinetId: string; unlockExpiresAt: number }
  | { type: 'SendUnlock'; visitId: string; openWithinMs: number; timeoutMs: number }
  | { type: 'ReplyUnlock'; to: ActorRef<UnlockReply>; reply: UnlockReply }
  | { type: 'ReplyView'; to: ActorRef<CabinetView>; view: CabinetView }
  /** Last effect of a device report: everything before it is done. */
  | { type: 'Handled'; to: ActorRef<Handled> }
  | { type: 'VisitEvent'; visitId: string; event: 'unlock_acked' | 'unlock_failed' | 'opened' | 'closed' | 'relocked'; at: number; detail?: string }
  | { type: 'Schedule'; afterMs: number; msg: CabinetMsg }
  | { type: 'AlarmRaised'; kind: AlarmKind; at: number; detail?: string }
  | { type: 'AlarmCleared'; kind: AlarmKind; at: number }
  | { type: 'WentOffline'; since: number; lastSeenAt?: number }
  | { type: 'OfflineReminder'; since: number; count: number }
  | { type: 'BackOnline'; offlineForMs: number }
  | { type: 'Changed' };

/**
 * The door phase's explicit transitions. `moveTo` refuses anything else (a bug, not an input error);
 * cabinet.machine.test.ts checks every phase is reachable from idle and can get back to it.
 */
export const PHASE_TRANSITIONS: Readonly<Record<CabinetPhase, readonly CabinetPhase[]>> = {
  idle: ['unlocking', 'fault'],
  unlocking: ['open', 'restocking', 'idle'],
  open: ['awaiting_upload'],
  restocking: ['awaiting_upload'],
  awaiting_upload: ['idle', 'fault'],
  fault: ['idle'],
};

function moveTo(s: CabinetState, phase: CabinetPhase): CabinetState {
  if (s.phase === phase) return s;
  if (!PHASE_TRANSITIONS[s.phase].includes(phase)) throw new Error(`cabinet ${s.cabinetId}: no transition ${s.phase} → ${phase}`);
  return { ...s, phase };
}

export function initialCabinetState(init: {
  cabinetId: string;
  kind: FlowKind;
  siteId: string;
  disabled?: boolean;
  timings?: Partial<CabinetTimings>;
  /** Recovered from the store: the visit holding the door, and the alarms raised and not cleared. */
  openVisit?: { visitId: string; purpose: VisitPurpose; shopperId?: string; operatorId?: string; status: 'unlocking' | 'open' | 'closed'; requestedAt: number };
  raisedAlarms?: Array<{ kind: AlarmKind; since: number; detail?: string }>;
}): CabinetState {
  const alarms: CabinetState['alarms'] = {};
  // A recovered device alarm has its clearing check scheduled by recoveryTimers: armed, so a report after the
  // restart does not arm a second one.
  for (const a of init.raisedAlarms ?? []) alarms[a.kind] = { since: a.since, raised: true, reportedAt: a.since, detail: a.detail, ...(a.kind === 'tamper' || a.kind === 'camera_fault' ? { checkArmed: true } : {}) };
  const v = init.openVisit;
  const phase: CabinetPhase = !v ? 'idle' : v.status === 'unlocking' ? 'unlocking' : v.status === 'closed' ? 'awaiting_upload' : v.purpose === 'restock' ? 'restocking' : 'open';
  return {
    cabinetId: init.cabinetId,
    kind: init.kind,
    siteId: init.siteId,
    disabled: init.disabled ?? false,
    timings: { ...DEFAULT_CABINET_TIMINGS, ...init.timings },
    link: 'unknown',
    remindersSent: 0,
    linkToken: 0,
    phase,
    visit: v ? { visitId: v.visitId, purpose: v.purpose, shopperId: v.shopperId, operatorId: v.operatorId, requestedAt: v.requestedAt } : undefined,
    alarms,
  };
}

/**
 * The timers a cabinet recovered mid-visit must arm again: they died with the process that set them. An unlock
 * the device never acknowledged may still have opened the door (only its answer died with the link), so the
 * visit waits, until the end of the unlock's own window, for the device's `opened` or `relocked`, and ends
 * relocked if neither comes. A visit waiting for its upload gets a fresh upload grace. A device-reported alarm
 * recovered raised (tamper, camera fault) gets its clearing check again, a whole hold period from now: without
 * it, an alarm whose device had stopped reporting it before the restart stayed open for ever.
 */
export function recoveryTimers(s: CabinetState, now: number): CabinetEffect[] {
  const v = s.visit;
  const t = s.timings;
  const alarms: CabinetEffect[] = (['tamper', 'camera_fault'] as const).filter((k) => s.alarms[k]).map((kind) => ({ type: 'Schedule', afterMs: t.deviceAlarmHoldMs, msg: { type: 'AlarmCheck', kind } }));
  if (v && s.phase === 'unlocking') {
    const end = v.requestedAt + t.unlockAckTimeoutMs + t.openWithinMs + t.relockGraceMs;
    return [{ type: 'Schedule', afterMs: Math.max(0, end - now), msg: { type: 'UnlockDeadline', visitId: v.visitId } }, ...alarms];
  }
  if (v && s.phase === 'awaiting_upload') return [{ type: 'Schedule', afterMs: t.uploadGraceMs, msg: { type: 'UploadGraceOver', visitId: v.visitId } }, ...alarms];
  return alarms;
}

export function viewOf(s: CabinetState): CabinetView {
  return {
    cabinetId: s.cabinetId,
    kind: s.kind,
    siteId: s.siteId,
    state: s.link === 'offline' ? 'offline' : s.phase,
    online: s.link === 'online',
    lastSeenAt: s.lastSeenAt,
    offlineSince: s.offlineSince,
    door: s.door,
    locked: s.locked,
    temperatureC: s.temperatureC,
    visitId: s.visit?.visitId,
    alarms: (Object.keys(s.alarms) as AlarmKind[]).filter((k) => s.alarms[k]?.raised),
    firmware: s.firmware,
    ...(s.doorFaultAt !== undefined ? { doorFault: true } : {}),
  };
}

const none = (s: CabinetState): Step<CabinetState, CabinetEffect> => ({ state: s, effects: [] });
const handled = (step: Step<CabinetState, CabinetEffect>, to?: ActorRef<Handled>): Step<CabinetState, CabinetEffect> =>
  to ? { state: step.state, effects: [...step.effects, { type: 'Handled', to }] } : step;

/** Pure cabinet behaviour: (state, message, now) → next state and the effects to perform. */
export function decide(s: CabinetState, msg: CabinetMsg, now: number): Step<CabinetState, CabinetEffect> {
  switch (msg.type) {
    case 'DeviceConnected': {
      const token = s.linkToken + 1;
      const effects: CabinetEffect[] = [{ type: 'Schedule', afterMs: s.timings.offlineAfterMs, msg: { type: 'LinkCheck', token } }, { type: 'Changed' }];
      if (s.link === 'offline' && s.offlineSince !== undefined) effects.unshift({ type: 'BackOnline', offlineForMs: now - s.offlineSince });
      // Door and lock are unknown until the status the device sends on connect: resync, never assume.
      return {
        state: { ...s, link: 'online', connectionId: msg.connectionId, firmware: msg.firmware, lastSeenAt: now, disconnectedAt: undefined, offlineSince: undefined, remindersSent: 0, linkToken: token, door: undefined, locked: undefined },
        effects,
      };
    }
    case 'DeviceDisconnected': {
      // A replaced connection closing is not an outage.
      if (msg.connectionId !== s.connectionId || s.link !== 'online') return none(s);
      const token = s.linkToken + 1;
      return {
        state: { ...s, connectionId: undefined, disconnectedAt: now, linkToken: token },
        effects: [{ type: 'Schedule', afterMs: s.timings.disconnectDebounceMs, msg: { type: 'LinkCheck', token } }],
      };
    }
    case 'LinkCheck':
      return linkCheck(s, msg.token, now);
    case 'StatusReported': {
      const st = msg.status;
      let next: CabinetState = { ...s, lastSeenAt: now, door: st.door, locked: st.locked, temperatureC: st.temperatureC ?? s.temperatureC };
      const effects: CabinetEffect[] = [];
      if (s.link !== 'online' && s.connectionId) next = { ...next, link: 'online' };
      ({ state: next } = doorConditions(next, now, effects));
      ({ state: next } = temperatureCondition(next, now, effects));
      // Always: the live view shows last-seen, which every status moves.
      effects.push({ type: 'Changed' });
      return { state: next, effects };
    }
    case 'DoorReported':
      return handled(door(s, msg, now), msg.replyTo);
    case 'AlarmReported': {
      const existing = s.alarms[msg.kind];
      const cond: AlarmCondition = existing ? { ...existing, reportedAt: now, detail: msg.detail ?? existing.detail } : { since: now, raised: true, reportedAt: now, detail: msg.detail };
      const effects: CabinetEffect[] = [];
      if (!existing?.raised) effects.push({ type: 'AlarmRaised', kind: msg.kind, at: now, detail: msg.detail }, { type: 'Changed' });
      // One clearing check at a time: it looks again until the device has been quiet for the hold.
      const device = msg.kind === 'tamper' || msg.kind === 'camera_fault';
      if (device && !existing?.checkArmed) effects.push({ type: 'Schedule', afterMs: s.timings.deviceAlarmHoldMs, msg: { type: 'AlarmCheck', kind: msg.kind } });
      let next: CabinetState = { ...s, lastSeenAt: now, alarms: { ...s.alarms, [msg.kind]: { ...cond, raised: true, ...(device ? { checkArmed: true } : {}) } } };
      if (next.phase === 'idle' && blocksVisits(next)) next = moveTo(next, 'fault');
      return handled({ state: next, effects }, msg.replyTo);
    }
    case 'AlarmCheck':
      return alarmCheck(s, msg.kind, now);
    case 'RequestUnlock': {
      const refuse = (reason: UnlockRefusal): Step<CabinetState, CabinetEffect> => ({ state: s, effects: [{ type: 'ReplyUnlock', to: msg.replyTo, reply: { type: 'UnlockRefused', reason } }] });
      if (s.disabled) return refuse('DISABLED');
      if (s.link !== 'online' || !s.connectionId) return refuse('OFFLINE');
      if (s.phase === 'fault') return refuse('FAULT');
      if (s.phase === 'restocking' || (s.visit?.purpose === 'restock' && s.phase !== 'idle')) return refuse('RESTOCKING');
      if (s.phase !== 'idle') return refuse('BUSY');
      const visit: CurrentVisit = { visitId: msg.visitId, purpose: msg.purpose, shopperId: msg.shopperId, operatorId: msg.operatorId, requestedAt: now, replyTo: msg.replyTo };
      const t = s.timings;
      return {
        state: { ...moveTo(s, 'unlocking'), visit },
        effects: [
          { type: 'StartVisit', visit, cabinetId: s.cabinetId, unlockExpiresAt: now + t.unlockAckTimeoutMs + t.openWithinMs },
          { type: 'SendUnlock', visitId: msg.visitId, openWithinMs: t.openWithinMs, timeoutMs: t.unlockAckTimeoutMs },
          { type: 'Changed' },
        ],
      };
    }
    case 'UnlockAnswered': {
      const v = s.visit;
      if (!v || v.visitId !== msg.visitId || s.phase !== 'unlocking') return none(s);
      if (msg.ack.ok) {
        const effects: CabinetEffect[] = [
          { type: 'VisitEvent', visitId: v.visitId, event: 'unlock_acked', at: now },
          { type: 'Schedule', afterMs: s.timings.openWithinMs + s.timings.relockGraceMs, msg: { type: 'UnlockDeadline', visitId: v.visitId } },
        ];
        if (v.replyTo) effects.unshift({ type: 'ReplyUnlock', to: v.replyTo, reply: { type: 'UnlockGranted', visitId: v.visitId } });
        if (s.doorFaultAt !== undefined) effects.push({ type: 'Changed' });
        return { state: { ...s, visit: { ...v, replyTo: undefined }, doorFaultAt: undefined }, effects };
      }
      const code = msg.ack.error.code;
      const reason: UnlockRefusal = code === 'TIMEOUT' || code === 'NOT_CONNECTED' ? 'DEVICE_TIMEOUT' : code === 'DOOR_TAKEN' ? 'DOOR_TAKEN' : 'DEVICE_REFUSED';
      const effects: CabinetEffect[] = [{ type: 'VisitEvent', visitId: v.visitId, event: 'unlock_failed', at: now, detail: code }, { type: 'Changed' }];
      if (v.replyTo) effects.unshift({ type: 'ReplyUnlock', to: v.replyTo, reply: { type: 'UnlockRefused', reason, detail: code } });
      return { state: { ...afterVisit(moveTo(s, 'idle')), doorFaultAt: code === 'DOOR_FAULT' ? now : s.doorFaultAt }, effects };
    }
    case 'UnlockDeadline': {
      // The device never said `opened` nor `relocked` in time: end the visit; a late `opened` is then a forced open.
      if (s.phase !== 'unlocking' || s.visit?.visitId !== msg.visitId) return none(s);
      return { state: afterVisit(moveTo(s, 'idle')), effects: [{ type: 'VisitEvent', visitId: msg.visitId, event: 'relocked', at: now, detail: 'deadline' }, { type: 'Changed' }] };
    }
    case 'VisitEnded':
    case 'UploadGraceOver': {
      if (s.phase !== 'awaiting_upload' || s.visit?.visitId !== msg.visitId) return none(s);
      return { state: afterVisit(moveTo(s, 'idle')), effects: [{ type: 'Changed' }] };
    }
    case 'GetView':
      return { state: s, effects: [{ type: 'ReplyView', to: msg.replyTo, view: viewOf(s) }] };
    case 'SetDisabled':
      return msg.disabled === s.disabled ? none(s) : { state: { ...s, disabled: msg.disabled }, effects: [{ type: 'Changed' }] };
    default:
      return assertNever(msg, 'cabinet message');
  }
}

function door(s: CabinetState, msg: Extract<CabinetMsg, { type: 'DoorReported' }>, now: number): Step<CabinetState, CabinetEffect> {
  const v = s.visit;
  const ours = !!v && msg.visitId === v.visitId;
  const effects: CabinetEffect[] = [];
  let next: CabinetState = { ...s, lastSeenAt: now };
  switch (msg.state) {
    case 'opened':
      next = { ...next, door: 'open', locked: false };
      if (ours && s.phase === 'unlocking') {
        next = moveTo(next, v.purpose === 'restock' ? 'restocking' : 'open');
        effects.push({ type: 'VisitEvent', visitId: v.visitId, event: 'opened', at: now });
      }
      break;
    case 'closed':
      next = { ...next, door: 'closed' };
      // Closed while still unlocking: the door was opened, and the `opened` report is late or was lost (found by
      // the FerretDB matrix: `opened` met the outage and was resent, while `closed`, sent beside it, was handled
      // first, acknowledged and ignored; the visit then stayed open and the cabinet BUSY for ever).
      if (ours && s.phase === 'unlocking') {
        next = moveTo(next, v.purpose === 'restock' ? 'restocking' : 'open');
        effects.push({ type: 'VisitEvent', visitId: v.visitId, event: 'opened', at: now });
      }
      if (ours && (next.phase === 'open' || next.phase === 'restocking')) {
        next = moveTo(next, 'awaiting_upload');
        effects.push(
          { type: 'VisitEvent', visitId: v.visitId, event: 'closed', at: now },
          { type: 'Schedule', afterMs: s.timings.uploadGraceMs, msg: { type: 'UploadGraceOver', visitId: v.visitId } },
        );
      }
      break;
    case 'relocked':
      next = { ...next, door: 'closed', locked: true };
      if (ours && s.phase === 'unlocking') {
        next = afterVisit(moveTo(next, 'idle'));
        effects.push({ type: 'VisitEvent', visitId: v.visitId, event: 'relocked', at: now });
      }
      break;
    default:
      return assertNever(msg.state, 'door state');
  }
  ({ state: next } = doorConditions(next, now, effects));
  effects.push({ type: 'Changed' });
  return { state: next, effects };
}

/** The door is legitimately open only during a visit's open phase. */
function doorConditions(s: CabinetState, now: number, effects: CabinetEffect[]): { state: CabinetState } {
  let alarms = s.alarms;
  const set = (kind: AlarmKind, active: boolean, thresholdMs: number) => {
    const cur = alarms[kind];
    if (active && !cur) {
      alarms = { ...alarms, [kind]: { since: now, raised: false } };
      effects.push({ type: 'Schedule', afterMs: thresholdMs, msg: { type: 'AlarmCheck', kind } });
    } else if (!active && cur) {
      const { [kind]: _gone, ...rest } = alarms;
      alarms = rest;
      if (cur.raised) effects.push({ type: 'AlarmCleared', kind, at: now }, { type: 'Changed' });
    }
  };
  const open = s.door === 'open';
  const visiting = s.phase === 'open' || s.phase === 'restocking';
  const expectingOpen = s.phase === 'unlocking';
  set('door_forced', open && !visiting && !expectingOpen, s.timings.doorForcedMs);
  set('door_left_open', open && (visiting || s.phase === 'awaiting_upload'), s.timings.doorLeftOpenMs);
  return { state: alarms === s.alarms ? s : { ...s, alarms } };
}

function temperatureCondition(s: CabinetState, now: number, effects: CabinetEffect[]): { state: CabinetState } {
  const range = s.timings.temperatureRangeC;
  if (!range || s.temperatureC === undefined) return { state: s };
  const out = s.temperatureC < range[0] || s.temperatureC > range[1];
  const cur = s.alarms.temperature;
  if (out && !cur) {
    effects.push({ type: 'Schedule', afterMs: s.timings.temperatureAlarmMs, msg: { type: 'AlarmCheck', kind: 'temperature' } });
    return { state: { ...s, alarms: { ...s.alarms, temperature: { since: now, raised: false } } } };
  }
  if (!out && cur) {
    const { temperature: _t, ...rest } = s.alarms;
    if (cur.raised) effects.push({ type: 'AlarmCleared', kind: 'temperature', at: now }, { type: 'Changed' });
    return { state: { ...s, alarms: rest } };
  }
  return { state: s };
}

/**
 * How early a timer may fire against the clock it was set by and still count as due: Node's timers run on
 * the event loop's cached time and may call back a millisecond or so before Date.now() says the delay
 * passed. Without it a check that fired early found its hold not over, did nothing, and nothing looked again.
 */
const TIMER_SLACK_MS = 20;

function alarmCheck(s: CabinetState, kind: AlarmKind, now: number): Step<CabinetState, CabinetEffect> {
  const cur = s.alarms[kind];
  if (!cur) return none(s);
  if (kind === 'tamper' || kind === 'camera_fault') {
    // Device-reported: clears after a quiet hold period without a new report.
    const quietFor = now - (cur.reportedAt ?? cur.since);
    // Reported meanwhile (or the timer fired early, or the clock stepped back): look again when the hold is up.
    if (quietFor + TIMER_SLACK_MS < s.timings.deviceAlarmHoldMs) return { state: { ...s, alarms: { ...s.alarms, [kind]: { ...cur, checkArmed: true } } }, effects: [{ type: 'Schedule', afterMs: Math.max(1, s.timings.deviceAlarmHoldMs - quietFor), msg: { type: 'AlarmCheck', kind } }] };
    const { [kind]: _gone, ...rest } = s.alarms;
    let next: CabinetState = { ...s, alarms: rest };
    if (next.phase === 'fault' && !blocksVisits(next)) next = moveTo(next, 'idle');
    return { state: next, effects: [{ type: 'AlarmCleared', kind, at: now }, { type: 'Changed' }] };
  }
  if (cur.raised) return none(s);
  const threshold = kind === 'door_forced' ? s.timings.doorForcedMs : kind === 'door_left_open' ? s.timings.doorLeftOpenMs : s.timings.temperatureAlarmMs;
  if (now - cur.since + TIMER_SLACK_MS < threshold) return none(s);
  return { state: { ...s, alarms: { ...s.alarms, [kind]: { ...cur, raised: true } } }, effects: [{ type: 'AlarmRaised', kind, at: now, detail: cur.detail }, { type: 'Changed' }] };
}

function linkCheck(s: CabinetState, token: number, now: number): Step<CabinetState, CabinetEffect> {
  if (token !== s.linkToken) return none(s);
  const t = s.timings;
  const next = (afterMs: number, state: CabinetState, effects: CabinetEffect[] = []): Step<CabinetState, CabinetEffect> => {
    const tok = state.linkToken + 1;
    return { state: { ...state, linkToken: tok }, effects: [...effects, { type: 'Schedule', afterMs: Math.max(1, afterMs), msg: { type: 'LinkCheck', token: tok } }] };
  };
  if (s.link === 'offline') {
    const since = s.offlineSince ?? now;
    const due = since + (s.remindersSent + 1) * t.offlineRemindEveryMs;
    if (now < due) return next(due - now, s);
    const count = s.remindersSent + 1;
    return next(t.offlineRemindEveryMs, { ...s, remindersSent: count }, [{ type: 'OfflineReminder', since, count }]);
  }
  const silentFor = now - (s.lastSeenAt ?? 0);
  const goneFor = s.disconnectedAt !== undefined ? now - s.disconnectedAt : -1;
  if (goneFor >= t.disconnectDebounceMs || silentFor >= t.offlineAfterMs) {
    const since = s.disconnectedAt ?? s.lastSeenAt ?? now;
    return next(t.offlineRemindEveryMs, { ...s, link: 'offline', offlineSince: since, remindersSent: 0 }, [
      { type: 'WentOffline', since, lastSeenAt: s.lastSeenAt },
      { type: 'Changed' },
    ]);
  }
  const wait = s.disconnectedAt !== undefined ? t.disconnectDebounceMs - goneFor : t.offlineAfterMs - silentFor;
  return next(wait, s);
}

/** After a visit ends the cabinet is idle, or in fault when an active alarm forbids visits. */
function afterVisit(s: CabinetState): CabinetState {
  const cleared: CabinetState = { ...s, visit: undefined };
  return cleared.phase === 'idle' && blocksVisits(cleared) ? moveTo(cleared, 'fault') : cleared;
}

/** Recognition cannot work with a camera fault, nor may anyone shop in a tampered cabinet. */
function blocksVisits(s: CabinetState): boolean {
  return !!s.alarms.camera_fault?.raised || !!s.alarms.tamper?.raised;
}


