import { assertNever } from '../../common/assert-never';
import { ask, dispatch, spawnMachine, type ActorContext, type ActorRef, type ActorSystem } from '../runtime';
import type { DeviceLink, FleetStore } from '../fleet/fleet.ports';
import type { VisitMsg } from '../visit/visit.protocol';
import { decide, recoveryTimers, viewOf, type CabinetEffect, type CabinetState } from './cabinet.machine';
import type { CabinetMsg, CabinetView } from './cabinet.protocol';

/** Fleet-level happenings worth telling operators about (dashboard, reminders, metrics). */
export type CabinetNotice =
  | { type: 'alarm_raised'; cabinetId: string; siteId: string; kind: string; at: number; detail?: string }
  | { type: 'alarm_cleared'; cabinetId: string; siteId: string; kind: string; at: number }
  | { type: 'offline'; cabinetId: string; siteId: string; since: number }
  | { type: 'offline_reminder'; cabinetId: string; siteId: string; since: number; count: number }
  | { type: 'online'; cabinetId: string; siteId: string; offlineForMs: number };

export interface CabinetDeps {
  store: FleetStore;
  devices: DeviceLink;
  /** Creates the visit (taking the door in the store) and spawns its actor; 'door_taken' if the door is held. */
  startVisit(e: Extract<CabinetEffect, { type: 'StartVisit' }>, siteId: string): Promise<'created' | 'door_taken'>;
  /** Forwards a door event to the visit actor and resolves when it is journalled. */
  visit(visitId: string): Promise<ActorRef<VisitMsg> | undefined>;
  publish(view: CabinetView): void;
  notice(n: CabinetNotice): void;
  /** Stores the time the cabinet was last heard from (batched by the fleet; the actor does not wait). */
  lastSeen(at: number, firmware?: string): void;
}

/** After a failed write of an alarm's clearing, the cabinet checks the alarm again this much later. */
const ALARM_RECHECK_MS = 5_000;

/** One actor per physical cabinet. Its durable facts live in the store (visits, alarms), so it is not journalled. */
export function spawnCabinet(system: ActorSystem, initial: CabinetState, deps: CabinetDeps): ActorRef<CabinetMsg> {
  return spawnMachine<CabinetState, CabinetMsg, CabinetEffect>(system, {
    id: `cabinet-${initial.cabinetId}`,
    initialState: initial,
    decide,
    started: recoveryTimers,
    supervision: 'resume',
    perform: (effects, ctx, state) => perform(effects, ctx, state, deps),
  });
}

async function perform(effects: CabinetEffect[], ctx: ActorContext<CabinetMsg>, s: CabinetState, deps: CabinetDeps): Promise<void> {
  let doorTaken = false;
  for (const e of effects) {
    if (e.type !== 'Changed') ctx.log.debug({ cabinetId: s.cabinetId, effect: e.type, ...('kind' in e ? { kind: e.kind } : {}), ...('msg' in e ? { msg: e.msg.type } : {}) }, 'cabinet effect');
    switch (e.type) {
      case 'StartVisit':
        doorTaken = (await deps.startVisit(e, s.siteId)) === 'door_taken';
        if (doorTaken) dispatch(ctx.self, { type: 'UnlockAnswered', visitId: e.visit.visitId, ack: { ok: false, error: { code: 'DOOR_TAKEN' } } });
        break;
      case 'SendUnlock':
        if (doorTaken) break;
        // Not awaited: the ack arrives as a message, so the cabinet keeps serving status and door reports.
        void deps.devices.sendUnlock(s.cabinetId, { visitId: e.visitId, openWithinMs: e.openWithinMs }, e.timeoutMs).then(
          (ack) => dispatch(ctx.self, { type: 'UnlockAnswered', visitId: e.visitId, ack }),
          () => dispatch(ctx.self, { type: 'UnlockAnswered', visitId: e.visitId, ack: { ok: false, error: { code: 'TIMEOUT' } } }),
        );
        break;
      case 'ReplyUnlock':
        dispatch(e.to, e.reply);
        break;
      case 'ReplyView':
        dispatch(e.to, e.view);
        break;
      case 'Handled':
        dispatch(e.to, { type: 'Handled' });
        break;
      case 'VisitEvent': {
        const ref = await deps.visit(e.visitId);
        if (ref) await ask<VisitMsg, { type: 'Noted' }>(ref, (replyTo) => ({ type: 'CabinetEvent', event: e.event, at: e.at, detail: e.detail, replyTo }), 10_000);
        else ctx.log.warn({ cabinetId: s.cabinetId, visitId: e.visitId, event: e.event }, 'door event for a visit that is not running');
        break;
      }
      case 'Schedule':
        ctx.schedule(e.afterMs, e.msg);
        break;
      case 'AlarmRaised':
        await deps.store.raiseAlarm({ cabinetId: s.cabinetId, siteId: s.siteId, kind: e.kind, at: e.at, detail: e.detail });
        deps.notice({ type: 'alarm_raised', cabinetId: s.cabinetId, siteId: s.siteId, kind: e.kind, at: e.at, detail: e.detail });
        break;
      case 'AlarmCleared':
        // A failed write fails the message, and the actor resumes with its state as before: the alarm still
        // raised, as the store still says. Nothing else would look at it again, so check it again shortly.
        await deps.store.clearAlarm({ cabinetId: s.cabinetId, kind: e.kind, at: e.at }).catch((err: unknown) => {
          ctx.schedule(ALARM_RECHECK_MS, { type: 'AlarmCheck', kind: e.kind });
          throw err;
        });
        deps.notice({ type: 'alarm_cleared', cabinetId: s.cabinetId, siteId: s.siteId, kind: e.kind, at: e.at });
        break;
      case 'WentOffline':
        if (e.lastSeenAt !== undefined) deps.lastSeen(e.lastSeenAt, s.firmware);
        deps.notice({ type: 'offline', cabinetId: s.cabinetId, siteId: s.siteId, since: e.since });
        break;
      case 'OfflineReminder':
        deps.notice({ type: 'offline_reminder', cabinetId: s.cabinetId, siteId: s.siteId, since: e.since, count: e.count });
        break;
      case 'BackOnline':
        deps.notice({ type: 'online', cabinetId: s.cabinetId, siteId: s.siteId, offlineForMs: e.offlineForMs });
        break;
      case 'Changed':
        deps.publish(viewOf(s));
        break;
      default:
        assertNever(e, 'cabinet effect');
    }
  }
}
