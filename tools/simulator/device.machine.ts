import type { AlarmEvent, DoorEvent, FramePhase, UnlockAck } from '../../contracts/cabinet-protocol';
import { assertNever } from '../../common/assert-never';

/**
 * The door and camera logic of one simulated cabinet, as firmware runs it: a pure
 * `decide(state, input) → { state, effects }` with no clock and no I/O. Time enters as `now` on inputs;
 * timers are effects the shell performs with its Clock and feeds back as inputs.
 *
 *   locked ──unlock──▶ unlocked ──door pulled──▶ open ──door shut──▶ locked (+ after frames, closed, upload)
 *      │                  └──window elapsed──▶ locked (relocked; the before frames are discarded)
 *      └──door pulled (no unlock)──▶ open, forced (door opened without visitId + door_forced alarm)
 *   absent: an open shelf without a door; unlock is refused with DOOR_FAULT.
 */

export type Fault = 'none' | 'door' | 'camera';

export interface DeviceSettings {
  readonly cameras: readonly string[];
  readonly hasDoor: boolean;
  /** Gap between `during` frames per camera while the door is open. */
  readonly frameIntervalMs: number;
  /** After this long open, the cabinet raises `door_left_open` (once per opening). */
  readonly leftOpenAfterMs: number;
  readonly fault: Fault;
}

/** Per-visit frame numbering: `seq` counts from 0 per camera and visit. */
export interface VisitFrames {
  readonly visitId: string;
  readonly seq: Readonly<Record<string, number>>;
}

export type DoorPhase =
  | { readonly phase: 'absent' }
  | { readonly phase: 'locked' }
  | { readonly phase: 'unlocked'; readonly visit: VisitFrames; readonly since: number }
  | { readonly phase: 'open'; readonly visit: VisitFrames | undefined; readonly openedAt: number; readonly leftOpenAlarmed: boolean };

export interface DeviceState {
  readonly settings: DeviceSettings;
  readonly door: DoorPhase;
}

export type DeviceInput =
  | { type: 'UnlockCommanded'; visitId: string; openWithinMs: number; now: number }
  /** Someone pulls the door: the shopper after an unlock, or anyone forcing a locked door. */
  | { type: 'DoorPulled'; now: number }
  | { type: 'DoorPushedShut'; now: number }
  | { type: 'OpenWindowElapsed'; visitId: string; now: number }
  | { type: 'FrameTimerFired'; now: number }
  | { type: 'LeftOpenTimerFired'; now: number }
  | { type: 'Reconfigured'; frameIntervalMs?: number; fault?: Fault };

export type TimerName = 'openWindow' | 'frame' | 'leftOpen';

export type DeviceEffect =
  | { type: 'ReplyUnlock'; ack: UnlockAck }
  | { type: 'Capture'; visitId: string; camera: string; seq: number; phase: FramePhase; now: number }
  | { type: 'SetLock'; locked: boolean }
  | { type: 'Report'; event: 'door'; payload: DoorEvent }
  | { type: 'Report'; event: 'alarm'; payload: AlarmEvent }
  | { type: 'StartTimer'; timer: TimerName; ms: number; visitId?: string }
  | { type: 'StopTimer'; timer: TimerName }
  /** Send every frame captured in this visit, then `upload.done` with these counts. */
  | { type: 'Upload'; visitId: string; frames: Record<string, number> }
  /** Nobody opened the door in time: the frames captured for this visit are thrown away. */
  | { type: 'Discard'; visitId: string }
  /** The door is unlocked for this visit: the shell lets the scripted shopper act. */
  | { type: 'ShopperCue'; visitId: string; openWithinMs: number };

export interface Step {
  state: DeviceState;
  effects: DeviceEffect[];
}

export function initialDevice(settings: DeviceSettings): DeviceState {
  return { settings, door: settings.hasDoor ? { phase: 'locked' } : { phase: 'absent' } };
}

/** Door position and lock as a status report states them. */
export function doorStatus(state: DeviceState): { door: 'open' | 'closed' | 'absent'; locked: boolean } {
  const d = state.door;
  switch (d.phase) {
    case 'absent':
      return { door: 'absent', locked: false };
    case 'locked':
      return { door: 'closed', locked: true };
    case 'unlocked':
      return { door: 'closed', locked: false };
    case 'open':
      return { door: 'open', locked: false };
    default:
      return assertNever(d, 'door phase');
  }
}

/** Whether a visit is in progress (the cabinet answers BUSY to another unlock). */
export const busy = (state: DeviceState): boolean => state.door.phase === 'unlocked' || state.door.phase === 'open';

/** Captures one frame per camera, advancing each camera's seq. */
function capture(visit: VisitFrames, cameras: readonly string[], phase: FramePhase, now: number): { visit: VisitFrames; effects: DeviceEffect[] } {
  const seq: Record<string, number> = { ...visit.seq };
  const effects: DeviceEffect[] = [];
  for (const camera of cameras) {
    const n = seq[camera] ?? 0;
    effects.push({ type: 'Capture', visitId: visit.visitId, camera, seq: n, phase, now });
    seq[camera] = n + 1;
  }
  return { visit: { visitId: visit.visitId, seq }, effects };
}

const stay = (state: DeviceState): Step => ({ state, effects: [] });
const refuse = (code: 'DOOR_FAULT' | 'BUSY' | 'CAMERA_FAULT', message: string): DeviceEffect => ({ type: 'ReplyUnlock', ack: { ok: false, error: { code, message } } });

export function decide(state: DeviceState, input: DeviceInput): Step {
  const { settings, door } = state;
  switch (input.type) {
    case 'UnlockCommanded': {
      if (door.phase === 'absent') return { state, effects: [refuse('DOOR_FAULT', 'this cabinet has no door')] };
      if (door.phase !== 'locked') return { state, effects: [refuse('BUSY', `a visit is in progress (${door.phase})`)] };
      if (settings.fault === 'door') return { state, effects: [refuse('DOOR_FAULT', 'lock actuator fault')] };
      if (settings.fault === 'camera') return { state, effects: [refuse('CAMERA_FAULT', 'camera not responding')] };
      // Ack first: the service is waiting on it; the snapshots follow on the device's own time.
      const shot = capture({ visitId: input.visitId, seq: {} }, settings.cameras, 'before', input.now);
      return {
        state: { settings, door: { phase: 'unlocked', visit: shot.visit, since: input.now } },
        effects: [
          { type: 'ReplyUnlock', ack: { ok: true } },
          ...shot.effects,
          { type: 'SetLock', locked: false },
          { type: 'StartTimer', timer: 'openWindow', ms: input.openWithinMs, visitId: input.visitId },
          { type: 'ShopperCue', visitId: input.visitId, openWithinMs: input.openWithinMs },
        ],
      };
    }
    case 'DoorPulled': {
      switch (door.phase) {
        case 'absent':
        case 'open':
          return stay(state);
        case 'unlocked': {
          const effects: DeviceEffect[] = [
            { type: 'StopTimer', timer: 'openWindow' },
            { type: 'Report', event: 'door', payload: { ts: input.now, state: 'opened', visitId: door.visit.visitId } },
            { type: 'StartTimer', timer: 'leftOpen', ms: settings.leftOpenAfterMs },
          ];
          if (settings.cameras.length > 0) effects.push({ type: 'StartTimer', timer: 'frame', ms: settings.frameIntervalMs });
          return { state: { settings, door: { phase: 'open', visit: door.visit, openedAt: input.now, leftOpenAlarmed: false } }, effects };
        }
        case 'locked':
          return {
            state: { settings, door: { phase: 'open', visit: undefined, openedAt: input.now, leftOpenAlarmed: false } },
            effects: [
              { type: 'Report', event: 'door', payload: { ts: input.now, state: 'opened' } },
              { type: 'Report', event: 'alarm', payload: { ts: input.now, kind: 'door_forced', detail: 'door opened while locked' } },
              { type: 'StartTimer', timer: 'leftOpen', ms: settings.leftOpenAfterMs },
            ],
          };
        default:
          return assertNever(door, 'door phase');
      }
    }
    case 'DoorPushedShut': {
      if (door.phase !== 'open') return stay(state);
      const stops: DeviceEffect[] = [
        { type: 'StopTimer', timer: 'frame' },
        { type: 'StopTimer', timer: 'leftOpen' },
      ];
      if (!door.visit) {
        return { state: { settings, door: { phase: 'locked' } }, effects: [...stops, { type: 'Report', event: 'door', payload: { ts: input.now, state: 'closed' } }] };
      }
      // Lock before the after snapshot, so nothing can move between the picture and the bill.
      const shot = capture(door.visit, settings.cameras, 'after', input.now);
      return {
        state: { settings, door: { phase: 'locked' } },
        effects: [
          ...stops,
          { type: 'SetLock', locked: true },
          ...shot.effects,
          { type: 'Report', event: 'door', payload: { ts: input.now, state: 'closed', visitId: door.visit.visitId } },
          { type: 'Upload', visitId: door.visit.visitId, frames: { ...shot.visit.seq } },
        ],
      };
    }
    case 'OpenWindowElapsed': {
      // A late timer of an earlier visit must not relock the current one.
      if (door.phase !== 'unlocked' || door.visit.visitId !== input.visitId) return stay(state);
      return {
        state: { settings, door: { phase: 'locked' } },
        effects: [
          { type: 'SetLock', locked: true },
          { type: 'Report', event: 'door', payload: { ts: input.now, state: 'relocked', visitId: door.visit.visitId } },
          { type: 'Discard', visitId: door.visit.visitId },
        ],
      };
    }
    case 'FrameTimerFired': {
      if (door.phase !== 'open' || !door.visit) return stay(state);
      const shot = capture(door.visit, settings.cameras, 'during', input.now);
      return {
        state: { settings, door: { ...door, visit: shot.visit } },
        effects: [...shot.effects, { type: 'StartTimer', timer: 'frame', ms: settings.frameIntervalMs }],
      };
    }
    case 'LeftOpenTimerFired': {
      if (door.phase !== 'open' || door.leftOpenAlarmed) return stay(state);
      const openS = Math.round((input.now - door.openedAt) / 1000);
      return {
        state: { settings, door: { ...door, leftOpenAlarmed: true } },
        effects: [{ type: 'Report', event: 'alarm', payload: { ts: input.now, kind: 'door_left_open', detail: `open for ${openS} s${door.visit ? ` in visit ${door.visit.visitId}` : ''}` } }],
      };
    }
    case 'Reconfigured': {
      const next: DeviceSettings = {
        ...settings,
        ...(input.frameIntervalMs !== undefined ? { frameIntervalMs: input.frameIntervalMs } : {}),
        ...(input.fault !== undefined ? { fault: input.fault } : {}),
      };
      return { state: { settings: next, door }, effects: [] };
    }
    default:
      return assertNever(input, 'device input');
  }
}
