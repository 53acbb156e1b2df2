import { Subject } from 'rxjs';
import { SimulatedClock } from '../../common/clock';
import type { Principal } from '../../contracts/admin-api';
import type { FeedDelta, FleetRow, VisitRow } from '../../contracts/console-api';
import { diffRow, FeedHub, type Subscriber } from './feed-hub';

const row = (cabinetId: string, siteId: string, extra: Partial<FleetRow> = {}): FleetRow => ({ cabinetId, siteId, kind: 'auto', state: 'idle', online: true, alarms: [], mailbox: 0, ...extra });

function fleetOf(n: number, sites = ['shanghai-hq', 'beijing-office']): Map<string, FleetRow> {
  const m = new Map<string, FleetRow>();
  for (let i = 0; i < n; i++) {
    const site = sites[i % sites.length]!;
    const id = `${site === 'shanghai-hq' ? 'SH' : 'BJ'}-${String(i).padStart(5, '0')}`;
    m.set(id, row(id, site));
  }
  return m;
}

function setup(n = 20) {
  const clock = new SimulatedClock();
  const views = fleetOf(n);
  const changes$ = new Subject<{ cabinetId: string; siteId: string }>();
  const visits$ = new Subject<VisitRow>();
  const hub = new FeedHub({ snapshot: () => [...views.values()], viewChanges$: changes$, visitEnded$: visits$ }, { clock, intervalMs: 500, refreshMs: 2_000 });
  const change = (id: string, patch: Partial<FleetRow>) => {
    const next = { ...views.get(id)!, ...patch };
    views.set(id, next);
    changes$.next(next);
  };
  const page = (principal: Principal) => {
    const got: Array<{ at: number; d: FeedDelta }> = [];
    const sub: Subscriber = { principal, send: (d) => got.push({ at: clock.now(), d }) };
    hub.add(sub);
    return { sub, got };
  };
  return { clock, views, hub, change, page, visits$ };
}

const ADMIN: Principal = { id: 'a', name: 'a', role: 'admin', sites: '*' };
const SH_OP: Principal = { id: 'o', name: 'o', role: 'operator', sites: ['shanghai-hq'] };
const defaults = { filter: {}, offset: 0, limit: 100, visits: false };

describe('FeedHub: the live feed on a simulated clock', () => {
  it('counts a cabinet refusing unlocks with DOOR_FAULT as a fault and an offline cabinet as not in use', () => {
    const t = setup(6);
    t.change('SH-00000', { doorFault: true });
    t.change('SH-00002', { online: false, state: 'offline', visitId: 'V-stale' });
    t.change('SH-00004', { visitId: 'V-live', state: 'open' });
    const a = t.page(ADMIN);
    const snap = t.hub.subscribe(a.sub, { ...defaults });
    expect(snap.counts).toMatchObject({ total: 6, fault: 1, inVisit: 1, offline: 1 });
    // The Fault tile and the fault filter agree.
    expect(t.hub.subscribe(a.sub, { ...defaults, filter: { state: 'fault' } }).rows.map((r) => r.cabinetId)).toEqual(['SH-00000']);
    expect(t.hub.subscribe(a.sub, { ...defaults, filter: { state: 'inVisit' } }).rows.map((r) => r.cabinetId)).toEqual(['SH-00004']);
    t.hub.close();
  });

  it('sorts alarmed cabinets first and windows the sorted list', () => {
    const t = setup(20);
    t.change('BJ-00017', { alarms: ['tamper', 'temperature'] });
    t.change('SH-00008', { alarms: ['door_left_open'] });
    const a = t.page(ADMIN);
    const snap = t.hub.subscribe(a.sub, { ...defaults, filter: { sort: 'alarms' }, limit: 3 });
    expect(snap.rows.map((r) => r.cabinetId)).toEqual(['BJ-00017', 'SH-00008', 'BJ-00001']);
    expect(t.hub.subscribe(a.sub, { ...defaults, filter: { alarmsOnly: true } }).total).toBe(2);
    t.hub.close();
  });

  it('snapshots only the principal’s sites, windowed and sorted, with counts', () => {
    const t = setup(20);
    const op = t.page(SH_OP);
    const snap = t.hub.subscribe(op.sub, { ...defaults, limit: 3 });
    expect(snap.seq).toBe(1);
    expect(snap.total).toBe(10);
    expect(snap.counts).toMatchObject({ total: 10, online: 10 });
    expect(snap.sites).toEqual(['shanghai-hq']);
    expect(snap.rows.map((r) => r.cabinetId)).toEqual(['SH-00000', 'SH-00002', 'SH-00004']);
    // Asking for another site's cabinet or filtering on another site yields nothing of it.
    const other = t.hub.subscribe(op.sub, { ...defaults, filter: { siteId: 'beijing-office' }, cabinetId: 'BJ-00001' });
    expect(other.rows).toEqual([]);
    expect(other.total).toBe(0);
    expect(other.cabinet).toBeUndefined();
    t.hub.close();
  });

  it('coalesces many changes to one cabinet into one patch per tick, with only the fields that changed', () => {
    const t = setup(20);
    const a = t.page(ADMIN);
    t.hub.subscribe(a.sub, defaults);
    for (let i = 0; i < 50; i++) t.change('SH-00000', { temperatureC: 4 + i / 10 });
    t.change('SH-00000', { door: 'open' });
    expect(a.got).toHaveLength(0); // nothing before the tick
    t.clock.advance(500);
    expect(a.got).toHaveLength(1);
    expect(a.got[0]!.d).toEqual({ seq: 2, rows: [{ cabinetId: 'SH-00000', temperatureC: 8.9, door: 'open' }] });
    // Nothing changed: nothing sent, however many ticks pass (until the periodic refresh finds no difference either).
    t.clock.advance(5_000);
    expect(a.got).toHaveLength(1);
    t.hub.close();
  });

  it('sends at most one delta per interval per page, with consecutive sequence numbers', () => {
    const t = setup(40);
    const a = t.page(ADMIN);
    t.hub.subscribe(a.sub, defaults);
    for (let ms = 0; ms < 3_000; ms += 10) {
      t.change(`SH-${String((ms / 10) % 20 * 2).padStart(5, '0')}`, { temperatureC: ms });
      t.clock.advance(10);
    }
    const times = a.got.map((g) => g.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(500);
    expect(a.got.length).toBeLessThanOrEqual(6);
    expect(a.got.map((g) => g.d.seq)).toEqual(a.got.map((_, i) => i + 2));
    t.hub.close();
  });

  it('never sends another site’s change to a site-scoped page, and sends it to an all-sites page', () => {
    const t = setup(20);
    const op = t.page(SH_OP);
    const admin = t.page(ADMIN);
    t.hub.subscribe(op.sub, defaults);
    t.hub.subscribe(admin.sub, defaults);
    t.change('BJ-00001', { state: 'fault', alarms: ['tamper'] });
    t.clock.advance(500);
    expect(op.got).toHaveLength(0);
    expect(admin.got).toHaveLength(1);
    expect(admin.got[0]!.d.rows).toEqual([{ cabinetId: 'BJ-00001', state: 'fault', alarms: ['tamper'] }]);
    expect(admin.got[0]!.d.counts).toMatchObject({ alarms: 1, fault: 1 });
    // Visit endings are scoped the same way.
    t.visits$.next({ visitId: 'V1', cabinetId: 'BJ-00001', siteId: 'beijing-office', purpose: 'shopping', status: 'complete', requestedAt: 1, receivedFrames: {} });
    t.hub.subscribe(op.sub, { ...defaults, visits: true });
    t.hub.subscribe(admin.sub, { ...defaults, visits: true });
    t.clock.advance(500);
    expect(op.got).toHaveLength(0);
    expect(admin.got.at(-1)!.d.visits?.map((v) => v.visitId)).toEqual(['V1']);
    t.hub.close();
  });

  it('sends only the rows of the window the page shows, and the new order when membership changes', () => {
    const t = setup(100);
    const a = t.page(ADMIN);
    const snap = t.hub.subscribe(a.sub, { ...defaults, filter: { state: 'idle' }, limit: 5 });
    expect(snap.rows.map((r) => r.cabinetId)).toEqual(['BJ-00001', 'BJ-00003', 'BJ-00005', 'BJ-00007', 'BJ-00009']);
    t.change('SH-00050', { temperatureC: 9 }); // outside the window: no row, counts unchanged
    t.clock.advance(500);
    expect(a.got).toHaveLength(0);
    t.change('BJ-00003', { state: 'open' }); // leaves the filtered window
    t.clock.advance(500);
    expect(a.got).toHaveLength(1);
    const d = a.got[0]!.d;
    expect(d.order).toEqual(['BJ-00001', 'BJ-00005', 'BJ-00007', 'BJ-00009', 'BJ-00011']);
    expect(d.rows).toEqual([expect.objectContaining({ cabinetId: 'BJ-00011', state: 'idle', online: true })]);
    expect(d.total).toBe(99);
    t.hub.close();
  });

  it('re-reads visible rows periodically for silent changes (mailbox depth) and skips a slow page without losing anything', () => {
    const t = setup(4);
    let backlog = 0;
    const got: FeedDelta[] = [];
    const sub: Subscriber = { principal: ADMIN, send: (d) => got.push(d), buffered: () => backlog };
    t.hub.subscribe(sub, defaults);
    t.views.set('BJ-00001', { ...t.views.get('BJ-00001')!, mailbox: 7 }); // no view change emitted
    t.clock.advance(500);
    expect(got).toHaveLength(0);
    t.clock.advance(1_500);
    expect(got).toHaveLength(1);
    expect(got[0]!.rows).toEqual([{ cabinetId: 'BJ-00001', mailbox: 7 }]);
    backlog = 1_000;
    t.change('SH-00000', { door: 'open' });
    t.clock.advance(500);
    t.change('SH-00000', { locked: false });
    t.clock.advance(500);
    expect(got).toHaveLength(1);
    backlog = 0;
    t.change('SH-00002', { temperatureC: 5 });
    t.clock.advance(500);
    expect(got).toHaveLength(2);
    expect(got[1]!.rows).toEqual([
      { cabinetId: 'SH-00000', door: 'open', locked: false },
      { cabinetId: 'SH-00002', temperatureC: 5 },
    ]);
    t.hub.close();
  });

  it('a re-subscription starts a fresh snapshot the deltas then follow', () => {
    const t = setup(4);
    const a = t.page(ADMIN);
    t.hub.subscribe(a.sub, defaults);
    t.change('SH-00000', { door: 'open' });
    t.clock.advance(500);
    const snap = t.hub.subscribe(a.sub, { ...defaults, cabinetId: 'SH-00000' });
    expect(snap.seq).toBe(3);
    expect(snap.cabinet).toMatchObject({ cabinetId: 'SH-00000', door: 'open' });
    t.change('SH-00000', { door: 'closed' });
    t.clock.advance(500);
    expect(a.got.at(-1)!.d).toEqual({ seq: 4, rows: [{ cabinetId: 'SH-00000', door: 'closed' }], cabinet: { cabinetId: 'SH-00000', door: 'closed' } });
    t.hub.close();
  });
});

describe('diffRow', () => {
  it('marks a field that disappeared with null and compares alarm lists by value', () => {
    expect(diffRow(row('X-1', 's1', { visitId: 'V1', alarms: ['tamper'] }), row('X-1', 's1', { alarms: ['tamper'] }))).toEqual({ cabinetId: 'X-1', visitId: null });
    expect(diffRow(row('X-1', 's1', { alarms: ['tamper'] }), row('X-1', 's1', { alarms: ['tamper'] }))).toBeUndefined();
  });
});
