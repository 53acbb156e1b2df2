import type { ActorRef } from '../runtime';
import { decide, initialCabinetState, PHASE_TRANSITIONS, recoveryTimers, viewOf, type CabinetEffect, type CabinetState } from './cabinet.machine';
import type { CabinetMsg, CabinetPhase, UnlockReply } from './cabinet.protocol';

const reply = { id: 'probe' } as ActorRef<UnlockReply>;
const T0 = 1_000_000;

/** Runs messages through the machine at given times, returning the final state and every effect. */
function run(s: CabinetState, steps: Array<[number, CabinetMsg]>): { state: CabinetState; effects: CabinetEffect[] } {
  const effects: CabinetEffect[] = [];
  for (const [at, msg] of steps) {
    const r = decide(s, msg, at);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

const base = () => initialCabinetState({ cabinetId: 'C1', kind: 'auto', siteId: 'site', timings: { temperatureRangeC: [2, 8] } });
const online = () => run(base(), [[T0, { type: 'DeviceConnected', connectionId: 'k1', firmware: 'fw1' }], [T0, { type: 'StatusReported', status: { ts: T0, door: 'closed', locked: true, pendingUploads: 0 } }]]).state;
const status = (door: 'open' | 'closed', extra: Record<string, unknown> = {}): CabinetMsg => ({ type: 'StatusReported', status: { ts: 0, door, locked: door === 'closed', pendingUploads: 0, ...extra } });
const kinds = (effects: CabinetEffect[], type: CabinetEffect['type']) => effects.filter((e) => e.type === type);

describe('cabinet phase transitions table', () => {
  it('reaches every phase from idle and can return to idle from each', () => {
    const reach = (from: CabinetPhase) => {
      const seen = new Set<CabinetPhase>([from]);
      const todo = [from];
      while (todo.length) {
        for (const n of PHASE_TRANSITIONS[todo.pop()!]) {
          if (!seen.has(n)) {
            seen.add(n);
            todo.push(n);
          }
        }
      }
      return seen;
    };
    const phases = Object.keys(PHASE_TRANSITIONS) as CabinetPhase[];
    expect(reach('idle')).toEqual(new Set(phases));
    for (const p of phases) expect(reach(p).has('idle')).toBe(true);
  });
});

describe('cabinet machine', () => {
  it.each([
    ['offline', (s: CabinetState) => ({ ...s, link: 'offline' as const, connectionId: undefined }), 'OFFLINE'],
    ['disabled', (s: CabinetState) => ({ ...s, disabled: true }), 'DISABLED'],
    ['busy', (s: CabinetState) => ({ ...s, phase: 'open' as const, visit: { visitId: 'v0', purpose: 'shopping' as const, requestedAt: T0 } }), 'BUSY'],
    ['restocking', (s: CabinetState) => ({ ...s, phase: 'restocking' as const, visit: { visitId: 'v0', purpose: 'restock' as const, requestedAt: T0 } }), 'RESTOCKING'],
    ['in fault', (s: CabinetState) => ({ ...s, phase: 'fault' as const }), 'FAULT'],
  ])('refuses an unlock when %s', (_label, prep, reason) => {
    const s = prep(online());
    const r = decide(s, { type: 'RequestUnlock', purpose: 'shopping', shopperId: 'u1', visitId: 'v1', replyTo: reply }, T0 + 1);
    expect(r.state).toBe(s);
    expect(r.effects).toEqual([{ type: 'ReplyUnlock', to: reply, reply: { type: 'UnlockRefused', reason } }]);
  });

  it('runs a visit: unlock → ack → opened → closed → upload done → idle', () => {
    let s = online();
    let r = decide(s, { type: 'RequestUnlock', purpose: 'shopping', shopperId: 'u1', visitId: 'v1', replyTo: reply }, T0 + 10);
    expect(r.state.phase).toBe('unlocking');
    expect(r.effects.map((e) => e.type)).toEqual(['StartVisit', 'SendUnlock', 'Changed']);
    s = r.state;
    r = decide(s, { type: 'UnlockAnswered', visitId: 'v1', ack: { ok: true } }, T0 + 20);
    expect(kinds(r.effects, 'ReplyUnlock')).toEqual([{ type: 'ReplyUnlock', to: reply, reply: { type: 'UnlockGranted', visitId: 'v1' } }]);
    const out = run(r.state, [
      [T0 + 30, { type: 'DoorReported', state: 'opened', visitId: 'v1', ts: 0 }],
      [T0 + 40, status('open')],
      [T0 + 5_000, { type: 'DoorReported', state: 'closed', visitId: 'v1', ts: 0 }],
    ]);
    expect(out.state.phase).toBe('awaiting_upload');
    expect(kinds(out.effects, 'VisitEvent').map((e) => (e as { event: string }).event)).toEqual(['opened', 'closed']);
    // A door open during the visit raises no forced-open alarm.
    expect(kinds(out.effects, 'AlarmRaised')).toEqual([]);
    const done = decide(out.state, { type: 'VisitEnded', visitId: 'v1' }, T0 + 6_000);
    expect(done.state.phase).toBe('idle');
    expect(done.state.visit).toBeUndefined();
  });

  it('marks a door fault while the device refuses unlocks with DOOR_FAULT, until an unlock is acknowledged', () => {
    const s = decide(online(), { type: 'RequestUnlock', purpose: 'shopping', visitId: 'v1', replyTo: reply }, T0).state;
    const refused = decide(s, { type: 'UnlockAnswered', visitId: 'v1', ack: { ok: false, error: { code: 'DOOR_FAULT' } } }, T0 + 100);
    expect(viewOf(refused.state).doorFault).toBe(true);
    const again = decide(refused.state, { type: 'RequestUnlock', purpose: 'shopping', visitId: 'v2', replyTo: reply }, T0 + 1_000).state;
    const ok = decide(again, { type: 'UnlockAnswered', visitId: 'v2', ack: { ok: true } }, T0 + 1_100);
    expect(viewOf(ok.state).doorFault).toBeUndefined();
  });

  it('fails an unacknowledged unlock and does not resend it when the device comes back', () => {
    const s = decide(online(), { type: 'RequestUnlock', purpose: 'shopping', visitId: 'v1', replyTo: reply }, T0).state;
    const failed = decide(s, { type: 'UnlockAnswered', visitId: 'v1', ack: { ok: false, error: { code: 'TIMEOUT' } } }, T0 + 3_000);
    expect(failed.state.phase).toBe('idle');
    expect(kinds(failed.effects, 'ReplyUnlock')[0]).toMatchObject({ reply: { type: 'UnlockRefused', reason: 'DEVICE_TIMEOUT' } });
    const back = run(failed.state, [
      [T0 + 4_000, { type: 'DeviceDisconnected', connectionId: 'k1' }],
      [T0 + 5_000, { type: 'DeviceConnected', connectionId: 'k2', firmware: 'fw1' }],
      [T0 + 5_001, status('closed')],
    ]);
    expect(kinds(back.effects, 'SendUnlock')).toEqual([]);
    // The device opening the door late with that visit id is a forced open, not a visit.
    const late = run(back.state, [
      [T0 + 6_000, { type: 'DoorReported', state: 'opened', visitId: 'v1', ts: 0 }],
      [T0 + 8_500, { type: 'AlarmCheck', kind: 'door_forced' }],
    ]);
    expect(kinds(late.effects, 'VisitEvent')).toEqual([]);
    expect(kinds(late.effects, 'AlarmRaised')).toMatchObject([{ kind: 'door_forced' }]);
  });

  it('ends the visit on relocked, and at the deadline if the device never says', () => {
    const s = run(online(), [
      [T0, { type: 'RequestUnlock', purpose: 'shopping', visitId: 'v1', replyTo: reply }],
      [T0 + 10, { type: 'UnlockAnswered', visitId: 'v1', ack: { ok: true } }],
    ]).state;
    const relocked = decide(s, { type: 'DoorReported', state: 'relocked', visitId: 'v1', ts: 0 }, T0 + 15_000);
    expect(relocked.state.phase).toBe('idle');
    expect(kinds(relocked.effects, 'VisitEvent')).toMatchObject([{ event: 'relocked' }]);
    const deadline = decide(s, { type: 'UnlockDeadline', visitId: 'v1' }, T0 + 25_000);
    expect(deadline.state.phase).toBe('idle');
  });

  it('raises one door-left-open alarm however many status messages repeat it, and clears it on close', () => {
    let st = run(online(), [
      [T0, { type: 'RequestUnlock', purpose: 'shopping', visitId: 'v1', replyTo: reply }],
      [T0 + 10, { type: 'UnlockAnswered', visitId: 'v1', ack: { ok: true } }],
      [T0 + 20, { type: 'DoorReported', state: 'opened', visitId: 'v1', ts: 0 }],
    ]);
    const steps: Array<[number, CabinetMsg]> = [];
    for (let i = 1; i <= 20; i++) steps.push([T0 + 20 + i * 15_000, status('open')]);
    steps.push([T0 + 20 + 60_000, { type: 'AlarmCheck', kind: 'door_left_open' }]);
    steps.push([T0 + 20 + 120_000, { type: 'AlarmCheck', kind: 'door_left_open' }]);
    st = run(st.state, steps);
    expect(kinds(st.effects, 'AlarmRaised')).toEqual([{ type: 'AlarmRaised', kind: 'door_left_open', at: T0 + 60_020, detail: undefined }]);
    expect(viewOf(st.state).alarms).toEqual(['door_left_open']);
    const closed = decide(st.state, { type: 'DoorReported', state: 'closed', visitId: 'v1', ts: 0 }, T0 + 400_000);
    expect(kinds(closed.effects, 'AlarmCleared')).toMatchObject([{ kind: 'door_left_open' }]);
    expect(viewOf(closed.state).alarms).toEqual([]);
  });

  it('does not raise a forced-open alarm for a blip shorter than the threshold', () => {
    const out = run(online(), [
      [T0, status('open')],
      [T0 + 1_000, status('closed')],
      [T0 + 2_000, { type: 'AlarmCheck', kind: 'door_forced' }],
    ]);
    expect(kinds(out.effects, 'AlarmRaised')).toEqual([]);
  });

  it('raises a temperature alarm only after it lasts, and clears it back in range', () => {
    const out = run(online(), [
      [T0, status('closed', { temperatureC: 12 })],
      [T0 + 60_000, status('closed', { temperatureC: 3 })],
      [T0 + 300_000, { type: 'AlarmCheck', kind: 'temperature' }],
      [T0 + 400_000, status('closed', { temperatureC: 11 })],
      [T0 + 700_000, { type: 'AlarmCheck', kind: 'temperature' }],
      [T0 + 800_000, status('closed', { temperatureC: 5 })],
    ]);
    expect(kinds(out.effects, 'AlarmRaised')).toMatchObject([{ kind: 'temperature', at: T0 + 700_000 }]);
    expect(kinds(out.effects, 'AlarmCleared')).toMatchObject([{ kind: 'temperature', at: T0 + 800_000 }]);
  });

  it('debounces a dropped connection, goes offline, reminds, and resyncs on reconnect', () => {
    const s0 = online();
    const token = (s: CabinetState) => s.linkToken;
    let r = decide(s0, { type: 'DeviceDisconnected', connectionId: 'k1' }, T0 + 1_000);
    const disc = r.state;
    // Reconnect within the debounce: the pending check is stale and nothing goes offline.
    const quick = run(disc, [[T0 + 5_000, { type: 'DeviceConnected', connectionId: 'k2', firmware: 'fw1' }], [T0 + 11_000, { type: 'LinkCheck', token: token(disc) }]]);
    expect(quick.state.link).toBe('online');
    expect(kinds(quick.effects, 'WentOffline')).toEqual([]);
    // No reconnect: offline after the debounce, then a reminder every interval.
    r = decide(disc, { type: 'LinkCheck', token: token(disc) }, T0 + 11_000);
    expect(r.state.link).toBe('offline');
    expect(viewOf(r.state).state).toBe('offline');
    expect(kinds(r.effects, 'WentOffline')).toMatchObject([{ since: T0 + 1_000 }]);
    const rem = decide(r.state, { type: 'LinkCheck', token: token(r.state) }, T0 + 1_000 + 30 * 60_000);
    expect(kinds(rem.effects, 'OfflineReminder')).toMatchObject([{ count: 1 }]);
    const back = decide(rem.state, { type: 'DeviceConnected', connectionId: 'k3', firmware: 'fw2' }, T0 + 40 * 60_000);
    expect(back.state.link).toBe('online');
    expect(back.state.door).toBeUndefined(); // unknown until the device's status resyncs it
    expect(kinds(back.effects, 'BackOnline')).toHaveLength(1);
  });

  it('ignores the close of a connection that a newer one replaced', () => {
    const s = decide(online(), { type: 'DeviceConnected', connectionId: 'k2', firmware: 'fw1' }, T0 + 1).state;
    const r = decide(s, { type: 'DeviceDisconnected', connectionId: 'k1' }, T0 + 2);
    expect(r.state).toBe(s);
  });

  it('goes to fault on a camera fault and back to idle once the device stops reporting it', () => {
    const r = decide(online(), { type: 'AlarmReported', kind: 'camera_fault', ts: 0 }, T0);
    expect(r.state.phase).toBe('fault');
    const again = decide(r.state, { type: 'AlarmReported', kind: 'camera_fault', ts: 0 }, T0 + 60_000);
    expect(kinds(again.effects, 'AlarmRaised')).toEqual([]);
    expect(decide(again.state, { type: 'AlarmCheck', kind: 'camera_fault' }, T0 + 10 * 60_000).state.phase).toBe('fault');
    const cleared = decide(again.state, { type: 'AlarmCheck', kind: 'camera_fault' }, T0 + 60_000 + 10 * 60_000);
    expect(cleared.state.phase).toBe('idle');
  });

  it('recovers the phase from the visit that holds the door', () => {
    const s = initialCabinetState({ cabinetId: 'C1', kind: 'auto', siteId: 's', openVisit: { visitId: 'v9', purpose: 'shopping', status: 'closed', requestedAt: T0 } });
    expect(s.phase).toBe('awaiting_upload');
    expect(decide(s, { type: 'VisitEnded', visitId: 'v9' }, T0).state.phase).toBe('idle');
  });

  it('re-arms, after a restart, the end of an unlock nobody acknowledged, and ends the visit there unless the device reports', () => {
    const recovered = () => initialCabinetState({ cabinetId: 'C1', kind: 'auto', siteId: 's', openVisit: { visitId: 'v7', purpose: 'shopping', status: 'unlocking', requestedAt: T0 } });
    const s = recovered();
    const window = s.timings.unlockAckTimeoutMs + s.timings.openWithinMs + s.timings.relockGraceMs;
    // Restarted 5 s after the unlock was sent: the rest of its window.
    expect(recoveryTimers(s, T0 + 5_000)).toEqual([{ type: 'Schedule', afterMs: window - 5_000, msg: { type: 'UnlockDeadline', visitId: 'v7' } }]);
    // Restarted long after: at once.
    expect(recoveryTimers(s, T0 + 10 * window)).toEqual([{ type: 'Schedule', afterMs: 0, msg: { type: 'UnlockDeadline', visitId: 'v7' } }]);
    const ended = run(s, [[T0 + 6_000, { type: 'DeviceConnected', connectionId: 'k2', firmware: 'fw' }], [T0 + window, { type: 'UnlockDeadline', visitId: 'v7' }]]);
    expect(ended.state.phase).toBe('idle');
    expect(ended.effects).toContainEqual({ type: 'VisitEvent', visitId: 'v7', event: 'relocked', at: T0 + window, detail: 'deadline' });
    // The device did unlock (only its ack was lost) and the shopper opened the door: the visit goes on.
    const opened = run(s, [[T0 + 6_000, { type: 'DeviceConnected', connectionId: 'k2', firmware: 'fw' }], [T0 + 7_000, { type: 'DoorReported', state: 'opened', visitId: 'v7', ts: T0 + 7_000 }], [T0 + window, { type: 'UnlockDeadline', visitId: 'v7' }]]);
    expect(opened.state.phase).toBe('open');
    expect(kinds(opened.effects, 'VisitEvent')).toEqual([expect.objectContaining({ event: 'opened' })]);
  });

  it('re-arms the upload grace of a visit recovered waiting for its upload, and nothing for an idle cabinet', () => {
    const s = initialCabinetState({ cabinetId: 'C1', kind: 'auto', siteId: 's', openVisit: { visitId: 'v8', purpose: 'shopping', status: 'closed', requestedAt: T0 } });
    expect(recoveryTimers(s, T0 + 1)).toEqual([{ type: 'Schedule', afterMs: s.timings.uploadGraceMs, msg: { type: 'UploadGraceOver', visitId: 'v8' } }]);
    expect(decide(s, { type: 'UploadGraceOver', visitId: 'v8' }, T0 + s.timings.uploadGraceMs).state.phase).toBe('idle');
    expect(recoveryTimers(base(), T0)).toEqual([]);
  });

  it('arms one clearing check for a recovered device alarm: a report after the restart adds none', () => {
    const s = initialCabinetState({ cabinetId: 'C1', kind: 'auto', siteId: 's', raisedAlarms: [{ kind: 'tamper', since: T0 }] });
    expect(recoveryTimers(s, T0 + 1)).toEqual([{ type: 'Schedule', afterMs: s.timings.deviceAlarmHoldMs, msg: { type: 'AlarmCheck', kind: 'tamper' } }]);
    const reported = run(s, [[T0 + 2, { type: 'AlarmReported', kind: 'tamper', ts: T0 + 2 }]]);
    expect(kinds(reported.effects, 'Schedule')).toEqual([]);
  });

  it('clears, after a restart, a device alarm its device no longer reports', () => {
    // Recovered from the store raised (tamper, reported before the restart): nothing re-armed its clearing, and
    // with the device quiet it stayed open for ever. A door or temperature alarm clears on the next status.
    const s = initialCabinetState({ cabinetId: 'C1', kind: 'auto', siteId: 's', raisedAlarms: [{ kind: 'tamper', since: T0 - 60_000 }, { kind: 'door_left_open', since: T0 - 60_000 }] });
    const hold = s.timings.deviceAlarmHoldMs;
    expect(recoveryTimers(s, T0)).toEqual([{ type: 'Schedule', afterMs: hold, msg: { type: 'AlarmCheck', kind: 'tamper' } }]);
    const quiet = decide(s, { type: 'AlarmCheck', kind: 'tamper' }, T0 + hold);
    expect(quiet.effects).toContainEqual({ type: 'AlarmCleared', kind: 'tamper', at: T0 + hold });
    // Still reported after the restart: the check finds it fresh and leaves it; the report's own check clears it later.
    const reported = run(s, [[T0 + hold - 1_000, { type: 'AlarmReported', kind: 'tamper', ts: T0 }], [T0 + hold, { type: 'AlarmCheck', kind: 'tamper' }]]);
    expect(kinds(reported.effects, 'AlarmCleared')).toEqual([]);
    expect(reported.state.alarms.tamper?.raised).toBe(true);
  });

  it.each([
    ['tamper', 'a device alarm clears'],
    ['door_forced', 'a door alarm is raised'],
  ] as const)('a check that fires a moment early still counts: %s (%s)', (kind, _what) => {
    // Node's timers may fire a millisecond before Date.now() says the delay passed; a check that found its
    // hold not quite over did nothing, and with no other timer left the tamper alarm of the console-day
    // browser test stayed raised for ever (twice in about 25 loaded runs, once on a quiet machine).
    const s = online();
    const hold = kind === 'tamper' ? s.timings.deviceAlarmHoldMs : s.timings.doorForcedMs;
    const start: CabinetMsg = kind === 'tamper' ? { type: 'AlarmReported', kind: 'tamper', ts: T0 } : status('open');
    const effect = kind === 'tamper' ? 'AlarmCleared' : 'AlarmRaised';
    expect(kinds(run(s, [[T0, start], [T0 + hold - 1, { type: 'AlarmCheck', kind }]]).effects, effect)).toMatchObject([{ kind }]);
    // Well before its time (a newer report, a stale timer) it still waits.
    const waiting = run(s, [[T0, start], [T0 + hold - 1_000, { type: 'AlarmCheck', kind }]]);
    expect(kinds(waiting.effects, effect)).toEqual([]);
    // A device alarm looks again when its hold is up (the door alarm's own status schedule covers it).
    if (kind === 'tamper') expect(waiting.effects.at(-1)).toEqual({ type: 'Schedule', afterMs: 1_000, msg: { type: 'AlarmCheck', kind } });
  });

  it('keeps one clearing check per device alarm however often the device reports it, and clears once quiet', () => {
    const s = online();
    const hold = s.timings.deviceAlarmHoldMs;
    const reports = Array.from({ length: 40 }, (_, i): [number, CabinetMsg] => [T0 + i * 1_500, { type: 'AlarmReported', kind: 'tamper', ts: T0 }]);
    const reported = run(s, reports);
    expect(kinds(reported.effects, 'Schedule')).toHaveLength(1);
    // The one check looks again at each hold until the reports stop, then clears.
    let state = reported.state;
    let at = T0 + hold;
    const last = T0 + 39 * 1_500;
    for (let round = 0; round < 100; round++) {
      const r = decide(state, { type: 'AlarmCheck', kind: 'tamper' }, at);
      state = r.state;
      const again = kinds(r.effects, 'Schedule') as Array<{ afterMs: number }>;
      if (kinds(r.effects, 'AlarmCleared').length) {
        expect(at).toBeGreaterThanOrEqual(last + hold - 20);
        expect(state.alarms.tamper).toBeUndefined();
        return;
      }
      expect(again).toHaveLength(1);
      at += again[0]!.afterMs;
    }
    throw new Error('the alarm never cleared');
  });

  it('takes a `closed` report while still unlocking as opened and closed: the `opened` report is late or lost', () => {
    // The FerretDB matrix (semi, killed while unlocking, 1 of 4 loaded runs): `opened` met the outage and was
    // resent, `closed` (sent beside it) was handled first, acknowledged and ignored; the resent `opened` then
    // left the visit open and the cabinet BUSY for ever.
    const unlocking = run(base(), [
      [T0, { type: 'DeviceConnected', connectionId: 'k1', firmware: 'fw' }],
      [T0 + 1, { type: 'RequestUnlock', visitId: 'v1', purpose: 'shopping', shopperId: 's1', replyTo: reply }],
      [T0 + 2, { type: 'UnlockAnswered', visitId: 'v1', ack: { ok: true } }],
    ]).state;
    expect(unlocking.phase).toBe('unlocking');
    const closed = run(unlocking, [[T0 + 3_000, { type: 'DoorReported', state: 'closed', visitId: 'v1', ts: T0 + 3_000 }]]);
    expect(closed.state.phase).toBe('awaiting_upload');
    expect(kinds(closed.effects, 'VisitEvent').map((e) => (e as { event: string }).event)).toEqual(['opened', 'closed']);
    // The late `opened` then changes nothing for the visit.
    const late = run(closed.state, [[T0 + 4_000, { type: 'DoorReported', state: 'opened', visitId: 'v1', ts: T0 + 1_500 }]]);
    expect(late.state.phase).toBe('awaiting_upload');
    expect(kinds(late.effects, 'VisitEvent')).toEqual([]);
  });
});
