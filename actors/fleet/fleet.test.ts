import { DEFAULT_CABINET_TIMINGS } from '../cabinet/cabinet.machine';
import type { Sealed } from '../../common/sealing';
import { createTestKit, dispatch, type TestKit } from '../runtime';
import type { VisitView } from '../visit/visit.protocol';
import { Fleet } from './fleet';
import type { DeviceLink, DirectoryRow, FleetStore, NewVisit, RaisedAlarm } from './fleet.ports';

const sealed: Sealed = { iv: 'iv', tag: 'tag', data: 'data' };
const row = (id: string): DirectoryRow => ({ cabinetId: id, name: id, kind: 'auto', siteId: 'site-1', disabled: false, cameras: ['top'], lanes: [], secret: sealed });

/** A store in memory that counts every call, so a test can say which reads a path costs. */
function memoryStore(o: { cabinets: DirectoryRow[]; listed?: DirectoryRow[]; openVisits?: VisitView[]; alarms?: RaisedAlarm[]; slowLoad?: Promise<void>; loadFramesFails?: number; clearAlarmFails?: number }) {
  const calls: Record<string, number> = {};
  const visits = new Map<string, VisitView>();
  const lastSeen: string[] = [];
  const count = (name: string) => void (calls[name] = (calls[name] ?? 0) + 1);
  const store: FleetStore = {
    async loadCabinet(id) {
      count('loadCabinet');
      await o.slowLoad;
      return o.cabinets.find((c) => c.cabinetId === id);
    },
    async listCabinets() {
      count('listCabinets');
      return o.listed ?? o.cabinets;
    },
    async openVisitOf() {
      count('openVisitOf');
      return undefined;
    },
    async openVisits() {
      count('openVisits');
      return o.openVisits ?? [];
    },
    async visitsAwaitingEvidence() {
      count('visitsAwaitingEvidence');
      return [];
    },
    async raisedAlarms() {
      count('raisedAlarms');
      return [];
    },
    async allRaisedAlarms() {
      count('allRaisedAlarms');
      return o.alarms ?? [];
    },
    async setDisabled() {
      count('setDisabled');
    },
    async createVisit(v: NewVisit) {
      count('createVisit');
      visits.set(v.visitId, { visitId: v.visitId, cabinetId: v.cabinetId, siteId: v.siteId, purpose: v.purpose, operatorId: v.operatorId, shopperId: v.shopperId, status: 'unlocking', requestedAt: v.requestedAt, receivedFrames: {}, planogramVersion: v.planogramVersion });
      return 'created';
    },
    async projectVisit(view) {
      count('projectVisit');
      visits.set(view.visitId, view);
    },
    async loadVisit(id) {
      count('loadVisit');
      return visits.get(id);
    },
    async storeFrame() {
      return 'stored';
    },
    async storedFrames() {
      return [];
    },
    async loadFrames() {
      count('loadFrames');
      if ((o.loadFramesFails ?? 0) >= calls.loadFrames!) throw Object.assign(new Error('connection 7 to 127.0.0.1:1 closed'), { name: 'MongoNetworkError' });
      return [];
    },
    async raiseAlarm() {
      count('raiseAlarm');
    },
    async clearAlarm() {
      count('clearAlarm');
      if ((o.clearAlarmFails ?? 0) >= calls.clearAlarm!) throw Object.assign(new Error('connection 7 to 127.0.0.1:1 closed'), { name: 'MongoNetworkError' });
    },
    async saveLastSeenMany(rows) {
      count('saveLastSeenMany');
      lastSeen.push(...rows.map((r) => r.cabinetId));
    },
  };
  return { store, calls, lastSeen };
}

const acking: DeviceLink = { sendUnlock: async () => ({ ok: true }) };
const status = { ts: 0, door: 'closed' as const, locked: true, pendingUploads: 0 };

describe('fleet', () => {
  let kit: TestKit;
  beforeEach(() => {
    kit = createTestKit({ start: Date.UTC(2026, 4, 1, 9) });
  });
  afterEach(() => kit.stop());

  it('spawns the actors of 1,000 listed cabinets from memory: three reads at start, none per cabinet', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `C-${i}`);
    const held: VisitView = { visitId: 'V-held', cabinetId: 'C-7', siteId: 'site-1', purpose: 'restock', operatorId: 'op', status: 'open', requestedAt: kit.clock.now() - 5_000, receivedFrames: {} };
    const { store, calls } = memoryStore({ cabinets: ids.map(row), openVisits: [held], alarms: [{ cabinetId: 'C-9', kind: 'tamper', since: kit.clock.now() - 60_000 }] });
    const fleet = new Fleet({ system: kit.system, store, devices: acking });
    expect(await fleet.loadDirectory()).toBe(1000);
    expect(fleet.view('C-9')?.alarms).toEqual(['tamper']);
    for (const [i, id] of ids.entries()) {
      await fleet.deviceConnected(id, `conn-${i}`, 'fw');
      await fleet.status(id, status);
    }
    expect(fleet.cabinets.size).toBe(1000);
    expect(calls).toEqual({ listCabinets: 1, openVisits: 1, allRaisedAlarms: 1, visitsAwaitingEvidence: 1 });
    await kit.settle();
    // The recovered facts reached their actors: the held door, the raised alarm.
    expect(fleet.view('C-7')).toMatchObject({ state: 'restocking', visitId: 'V-held', online: true });
    expect(fleet.view('C-9')).toMatchObject({ alarms: ['tamper'] });
    expect(fleet.view('C-1')).toMatchObject({ state: 'idle', online: true });
  });

  it('acknowledges a status at once while the actor of an unlisted cabinet is still being read', async () => {
    let release!: () => void;
    const slowLoad = new Promise<void>((r) => (release = r));
    const { store, calls } = memoryStore({ cabinets: [row('LATE')], listed: [], slowLoad });
    const fleet = new Fleet({ system: kit.system, store, devices: acking });
    await fleet.loadDirectory();
    await fleet.deviceConnected('LATE', 'conn-1', 'fw');
    // Resolves although the cabinet's record has not come back yet.
    await fleet.status('LATE', status);
    expect(fleet.cabinets.size).toBe(0);
    release();
    await kit.settle();
    expect(calls.loadCabinet).toBe(1);
    expect(fleet.view('LATE')).toMatchObject({ online: true, door: 'closed', locked: true });
  });

  it('records a new visit with one insert before the unlock is sent, and projects it again only when it changes', async () => {
    const { store, calls } = memoryStore({ cabinets: [row('ONE')] });
    const sent: string[] = [];
    const fleet = new Fleet({ system: kit.system, store, devices: { sendUnlock: async (_id, cmd) => (sent.push(`${calls.createVisit ?? 0}:${cmd.visitId}`), { ok: true }) } });
    await fleet.loadDirectory();
    await fleet.deviceConnected('ONE', 'conn-1', 'fw');
    const r = await fleet.requestUnlock('ONE', { purpose: 'restock', operatorId: 'op' });
    if (!r.ok) throw new Error(r.reason);
    await kit.settle();
    expect(sent).toEqual([`1:${r.visitId}`]);
    expect(calls.projectVisit).toBeUndefined();
    await fleet.door('ONE', { ts: kit.clock.now(), state: 'relocked', visitId: r.visitId });
    expect(calls.projectVisit).toBe(1);
  });

  it('hands a complete visit to recognition even when reading its evidence met a database outage', async () => {
    // Found by the FerretDB crash matrix (killed as the evidence completed): the failed read was an unhandled
    // rejection, recognition never ran, and the session stayed `recognising`.
    const { store, calls } = memoryStore({ cabinets: [row('EV')], loadFramesFails: 2 });
    const fleet = new Fleet({ system: kit.system, store, devices: acking });
    const emitted: string[] = [];
    fleet.evidence$.subscribe((e) => emitted.push(e.visit.visitId));
    await fleet.loadDirectory();
    await fleet.deviceConnected('EV', 'conn-1', 'fw');
    await fleet.status('EV', status);
    const r = await fleet.requestUnlock('EV', { purpose: 'shopping', shopperId: 'S1' });
    if (!r.ok) throw new Error(r.reason);
    await kit.settle();
    await fleet.door('EV', { ts: kit.clock.now(), state: 'opened', visitId: r.visitId });
    await fleet.door('EV', { ts: kit.clock.now(), state: 'closed', visitId: r.visitId });
    expect(await fleet.frame('EV', { visitId: r.visitId, camera: 'top', seq: 0, phase: 'after', ts: kit.clock.now(), jpeg: Buffer.from([0xff, 0xd8]) })).toEqual({ ok: true });
    expect(await fleet.uploadDone('EV', { visitId: r.visitId, frames: { top: 1 } })).toEqual({ ok: true });
    await kit.settle(50);
    expect(calls.loadFrames).toBe(1);
    expect(emitted).toEqual([]);
    for (let i = 0; i < 10 && !emitted.length; i++) {
      kit.clock.advance(1_000);
      await kit.settle(20);
    }
    expect(calls.loadFrames).toBe(3);
    expect(emitted).toEqual([r.visitId]);
  });

  it('applies a pending planogram as a restock that opened the door ends, before the door is free; shopping visits are recognised against the version at their door', async () => {
    const lanesV1 = [{ laneId: 'A1', sku: 'COLA', capacity: 4, count: 4 }];
    const lanesV2 = [{ laneId: 'A1', sku: 'KIWI', capacity: 4, count: 0 }];
    const { store } = memoryStore({ cabinets: [{ ...row('PL'), lanes: lanesV1 }] });
    const applied: string[] = [];
    let pending = true;
    const fleet = new Fleet({
      system: kit.system,
      store,
      devices: acking,
      planograms: {
        applyAtRestock: async (_cabinetId, visitId) => {
          applied.push(`${visitId} while ${fleet.view('PL')?.state}`);
          if (!pending) return undefined;
          pending = false;
          return { version: 2, lanes: lanesV2 };
        },
        lanesAt: async () => undefined,
      },
    });
    const evidence: Array<{ sku: string; version?: number }> = [];
    fleet.evidence$.subscribe((e) => evidence.push({ sku: e.lanes[0]!.sku, version: e.visit.planogramVersion }));
    await fleet.loadDirectory();
    await fleet.deviceConnected('PL', 'conn-1', 'fw');
    await fleet.status('PL', status);
    const visit = async (purpose: 'shopping' | 'restock', opens = true) => {
      const r = await fleet.requestUnlock('PL', purpose === 'shopping' ? { purpose, shopperId: 'S1' } : { purpose, operatorId: 'op' });
      if (!r.ok) throw new Error(r.reason);
      await kit.settle();
      if (!opens) {
        await fleet.door('PL', { ts: kit.clock.now(), state: 'relocked', visitId: r.visitId });
      } else {
        await fleet.door('PL', { ts: kit.clock.now(), state: 'opened', visitId: r.visitId });
        await fleet.door('PL', { ts: kit.clock.now(), state: 'closed', visitId: r.visitId });
        await fleet.uploadDone('PL', { visitId: r.visitId, frames: {} });
      }
      await kit.settle(50);
      return r.visitId;
    };
    await visit('shopping');
    // A restock unlock nobody opened changes nothing.
    await visit('restock', false);
    expect(applied).toEqual([]);
    const restock = await visit('restock');
    // Applied while the restock still held the door, and the directory (recognition's lanes) follows.
    expect(applied).toEqual([`${restock} while awaiting_upload`]);
    expect(fleet.directory.get('PL')).toMatchObject({ planogramVersion: 2, lanes: lanesV2 });
    expect(fleet.view('PL')?.state).toBe('idle');
    await visit('shopping');
    expect(evidence).toEqual([{ sku: 'COLA', version: 1 }, { sku: 'KIWI', version: 2 }]);
  });

  it('recognises a visit whose evidence is read after a restock moved its cabinet on against the version at its door', async () => {
    const { store } = memoryStore({ cabinets: [{ ...row('PV'), lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 4, count: 4 }] }], loadFramesFails: 1 });
    const fleet = new Fleet({ system: kit.system, store, devices: acking, planograms: { applyAtRestock: async () => undefined, lanesAt: async (_c, v) => (v === 1 ? [{ laneId: 'A1', sku: 'COLA', capacity: 4, count: 4 }] : undefined) } });
    const evidence: string[] = [];
    fleet.evidence$.subscribe((e) => evidence.push(e.lanes[0]!.sku));
    await fleet.loadDirectory();
    await fleet.deviceConnected('PV', 'conn-1', 'fw');
    await fleet.status('PV', status);
    const r = await fleet.requestUnlock('PV', { purpose: 'shopping', shopperId: 'S1' });
    if (!r.ok) throw new Error(r.reason);
    await kit.settle();
    await fleet.door('PV', { ts: kit.clock.now(), state: 'opened', visitId: r.visitId });
    await fleet.door('PV', { ts: kit.clock.now(), state: 'closed', visitId: r.visitId });
    await fleet.uploadDone('PV', { visitId: r.visitId, frames: {} });
    await kit.settle(20);
    // The first read of the evidence failed; meanwhile a restock put version 2 in force.
    fleet.directory.setPlanogram('PV', 2, [{ laneId: 'A1', sku: 'KIWI', capacity: 4, count: 0 }]);
    for (let i = 0; i < 10 && !evidence.length; i++) {
      kit.clock.advance(1_000);
      await kit.settle(20);
    }
    expect(evidence).toEqual(['COLA']);
  });

  it('clears a device alarm whose clearing write failed: the cabinet checks again', async () => {
    // The cabinet actor resumes after a failed message with its state as before it: the alarm still raised, and
    // no check left to clear it, so it stayed open for ever (suspected in a loaded console-day run).
    const { store, calls } = memoryStore({ cabinets: [row('C-A')], clearAlarmFails: 1 });
    const fleet = new Fleet({ system: kit.system, store, devices: acking });
    await fleet.loadDirectory();
    await fleet.deviceConnected('C-A', 'conn-1', 'fw');
    await fleet.alarm('C-A', { ts: kit.clock.now(), kind: 'tamper' });
    expect(fleet.view('C-A')?.alarms).toEqual(['tamper']);
    kit.clock.advance(DEFAULT_CABINET_TIMINGS.deviceAlarmHoldMs);
    await kit.settle(50);
    expect(calls.clearAlarm).toBe(1);
    expect(fleet.view('C-A')?.alarms).toEqual(['tamper']); // the write failed: still raised, as the store says
    kit.clock.advance(10_000);
    await kit.settle(50);
    expect(calls.clearAlarm).toBe(2);
    expect(fleet.view('C-A')?.alarms).toEqual([]);
  });

  it('stamps visit ids with the injected clock', async () => {
    const { store } = memoryStore({ cabinets: [row('CLK')] });
    const clock = { now: () => Date.UTC(2030, 0, 1), schedule: kit.clock.schedule.bind(kit.clock) };
    const fleet = new Fleet({ system: kit.system, store, devices: acking, clock });
    await fleet.loadDirectory();
    await fleet.deviceConnected('CLK', 'conn-1', 'fw');
    await fleet.status('CLK', status);
    const r = await fleet.requestUnlock('CLK', { purpose: 'restock', operatorId: 'op' });
    expect(r).toMatchObject({ ok: true, visitId: expect.stringMatching(new RegExp(`^V${Date.UTC(2030, 0, 1).toString(36)}[0-9a-f]{12}$`)) });
  });

  it('answers visitView from the ended visit when its actor stops during the ask, not by a timeout', async () => {
    const { store } = memoryStore({ cabinets: [row('VV')] });
    const fleet = new Fleet({ system: kit.system, store, devices: acking, askTimeoutMs: 5_000 });
    await fleet.loadDirectory();
    await fleet.deviceConnected('VV', 'conn-1', 'fw');
    await fleet.status('VV', status);
    const r = await fleet.requestUnlock('VV', { purpose: 'restock', operatorId: 'op' });
    if (!r.ok) throw new Error(r.reason);
    await kit.settle();
    const ref = await fleet.visit(r.visitId);
    if (!ref) throw new Error('no visit actor');
    // The visit ends with the question right behind in its mailbox: the actor stops before answering it.
    dispatch(ref, { type: 'CabinetEvent', event: 'relocked', at: kit.clock.now() });
    const t0 = Date.now();
    const view = await fleet.visitView(r.visitId);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(view).toMatchObject({ visitId: r.visitId, status: 'relocked' });
    await kit.settle();
    // Once the actor is gone, the store answers.
    expect(await fleet.visitView(r.visitId)).toMatchObject({ visitId: r.visitId, status: 'relocked' });
  });

  it('stores the last-seen times of 1,000 cabinets dropping off together in a few batched writes', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `D-${i}`);
    const { store, calls, lastSeen } = memoryStore({ cabinets: ids.map(row) });
    const fleet = new Fleet({ system: kit.system, store, devices: acking, timings: { disconnectDebounceMs: 10_000 }, lastSeenFlushMs: 5_000 });
    await fleet.loadDirectory();
    for (const [i, id] of ids.entries()) {
      await fleet.deviceConnected(id, `conn-${i}`, 'fw-1');
      await fleet.status(id, status);
    }
    await kit.settle();
    for (const [i, id] of ids.entries()) await fleet.deviceDisconnected(id, `conn-${i}`);
    await kit.settle();
    kit.clock.advance(10_000);
    await kit.settle(50);
    expect(fleet.snapshot().filter((c) => c.state === 'offline')).toHaveLength(1000);
    expect(calls.saveLastSeenMany).toBeUndefined();
    kit.clock.advance(5_000);
    await fleet.flushLastSeen();
    expect(calls.saveLastSeenMany).toBe(20);
    expect(new Set(lastSeen).size).toBe(1000);
  });

  it('disables a cabinet in the store, the directory and its actor', async () => {
    const { store, calls } = memoryStore({ cabinets: [row('OFF')] });
    const fleet = new Fleet({ system: kit.system, store, devices: acking });
    await fleet.loadDirectory();
    await fleet.deviceConnected('OFF', 'conn-1', 'fw');
    await fleet.status('OFF', status);
    await fleet.setDisabled('OFF', true);
    expect(calls.setDisabled).toBe(1);
    expect((await fleet.directory.credentials('OFF', () => 's'))?.disabled).toBe(true);
    expect(await fleet.requestUnlock('OFF', { purpose: 'restock', operatorId: 'op' })).toEqual({ ok: false, reason: 'DISABLED' });
  });
});
