import type { Observable, Subscription } from 'rxjs';
import type { Cancel, Clock } from '../../common/clock';
import { inScope, type Principal } from '../../contracts/admin-api';
import type { FeedDelta, FeedSnapshot, FeedSubscription, FleetCounts, FleetFilter, FleetRow, RowPatch, VisitRow } from '../../contracts/console-api';
import { addToCounts, emptyCounts, fleetComparator, matchesFilter } from '../../contracts/fleet-view';

/** What the hub reads: the fleet's live view (no actor messaged) and its change streams. */
export interface FeedSource {
  /** Every cabinet's current row (Fleet.snapshot()). */
  snapshot(): FleetRow[];
  /** One emission per cabinet view change; only the id is read (the hub coalesces and reads the snapshot). */
  viewChanges$: Observable<{ cabinetId: string; siteId: string }>;
  /** Visits as they end, already shaped for the console (scope-checked per subscriber). */
  visitEnded$: Observable<VisitRow>;
}

export interface FeedOptions {
  clock: Clock;
  /** Deltas go out at most this often per subscriber. Default 500 ms. */
  intervalMs?: number;
  /** Visible rows are re-read this often even without a view change (mailbox depth moves silently). Default 2 s. */
  refreshMs?: number;
  /** A subscriber whose transport holds more than this many unsent packets is skipped this tick (it is diffed later). */
  maxBuffered?: number;
}

/** One page on the other end of a socket. */
export interface Subscriber {
  readonly principal: Principal;
  send(d: FeedDelta): void;
  /** Packets queued and not yet written (socket.io's writeBuffer); a slow page is skipped, never flooded. */
  buffered?(): number;
}

type Normalised = { filter: FleetFilter; offset: number; limit: number; cabinetId?: string; visits: boolean; counts: boolean };

interface SubState {
  sub: Subscriber;
  wants: Normalised | undefined;
  seq: number;
  counts?: FleetCounts;
  total?: number;
  order: string[];
  sent: Map<string, FleetRow>;
  cabinet?: FleetRow;
  visits: VisitRow[];
}

const FIELDS: ReadonlyArray<keyof FleetRow> = ['kind', 'siteId', 'state', 'online', 'lastSeenAt', 'offlineSince', 'door', 'locked', 'temperatureC', 'visitId', 'alarms', 'firmware', 'mailbox', 'doorFault'];

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** The fields of `next` that differ from `prev` (null for a field that disappeared); undefined when none. */
export function diffRow(prev: FleetRow, next: FleetRow): RowPatch | undefined {
  let patch: RowPatch | undefined;
  for (const f of FIELDS) {
    if (!same(prev[f], next[f])) {
      patch ??= { cabinetId: next.cabinetId };
      (patch as Record<string, unknown>)[f] = next[f] === undefined ? null : next[f];
    }
  }
  return patch;
}

const sameCounts = (a: FleetCounts | undefined, b: FleetCounts): boolean => !!a && (Object.keys(b) as Array<keyof FleetCounts>).every((k) => a[k] === b[k]);

/**
 * The live feed's server side, apart from socket.io so it can be tested on a simulated clock. Each page
 * subscribes to what it shows (a filtered window of the fleet, one cabinet, visit endings); every
 * `intervalMs` the hub reads the fleet once, and for each page computes, within the principal's sites only,
 * the counts, the window's ids and the fields of its rows that changed since what that page was last sent.
 * Changes to one cabinet between two ticks coalesce into one patch; a page gets nothing when nothing it
 * shows changed. Every message carries `seq` (+1 per message), so a page that sees a gap subscribes again
 * and gets a fresh snapshot, as it does after every reconnect.
 */
export class FeedHub {
  private readonly subs = new Map<Subscriber, SubState>();
  private readonly dirtySites = new Set<string>();
  private pendingVisits: VisitRow[] = [];
  private lastRefresh = 0;
  private timer: Cancel | undefined;
  private readonly subscriptions: Subscription[] = [];
  private readonly interval: number;
  private readonly refresh: number;
  private readonly maxBuffered: number;
  /** cabinetId → position in id order, so each tick places rows in order without sorting. */
  private rank = new Map<string, number>();
  /** Ticks, fleet reads, deltas sent and the wall time spent in ticks, for the benchmark and metrics. */
  readonly stats = { ticks: 0, reads: 0, deltas: 0, tickMs: 0 };

  constructor(
    private readonly source: FeedSource,
    private readonly o: FeedOptions,
  ) {
    this.interval = o.intervalMs ?? 500;
    this.refresh = o.refreshMs ?? 2_000;
    this.maxBuffered = o.maxBuffered ?? 64;
    this.lastRefresh = o.clock.now();
    this.subscriptions.push(source.viewChanges$.subscribe((v) => this.dirtySites.add(v.siteId)));
    this.subscriptions.push(
      source.visitEnded$.subscribe((v) => {
        // Only a notification (pages re-read lists); a burst beyond what a page would show is dropped.
        if (this.pendingVisits.length < 500) this.pendingVisits.push(v);
      }),
    );
    this.schedule();
  }

  private schedule(): void {
    this.timer = this.o.clock.schedule(this.interval, () => {
      this.tick();
      if (this.timer) this.schedule();
    });
  }

  get size(): number {
    return this.subs.size;
  }

  add(sub: Subscriber): void {
    this.subs.set(sub, { sub, wants: undefined, seq: 0, order: [], sent: new Map(), visits: [] });
  }

  remove(sub: Subscriber): void {
    this.subs.delete(sub);
  }

  /** (Re)subscribes the page: it gets a fresh snapshot now, deltas against it from then on. */
  subscribe(sub: Subscriber, s: FeedSubscription & { filter: FleetFilter; offset: number; limit: number; visits: boolean; counts?: boolean }): FeedSnapshot {
    let st = this.subs.get(sub);
    if (!st) {
      this.add(sub);
      st = this.subs.get(sub)!;
    }
    st.wants = { filter: s.filter, offset: s.offset, limit: s.limit, visits: s.visits, counts: s.counts !== false, ...(s.cabinetId ? { cabinetId: s.cabinetId } : {}) };
    const view = this.compute(st, this.read());
    st.seq++;
    st.counts = view.counts;
    st.total = view.total;
    st.order = view.rows.map((r) => r.cabinetId);
    st.sent = new Map(view.rows.map((r) => [r.cabinetId, r]));
    st.cabinet = view.cabinet;
    return { seq: st.seq, counts: view.counts, total: view.total, offset: s.offset, rows: view.rows, ...(view.cabinet ? { cabinet: view.cabinet } : {}), sites: view.sites };
  }

  private read(): FleetRow[] {
    this.stats.reads++;
    const rows = this.source.snapshot();
    let placed: Array<FleetRow | undefined> = new Array<FleetRow | undefined>(rows.length);
    let ok = rows.length === this.rank.size;
    if (ok) {
      for (const r of rows) {
        const i = this.rank.get(r.cabinetId);
        if (i === undefined || placed[i]) {
          ok = false;
          break;
        }
        placed[i] = r;
      }
    }
    if (!ok) {
      placed = [...rows].sort((a, b) => (a.cabinetId < b.cabinetId ? -1 : a.cabinetId > b.cabinetId ? 1 : 0));
      this.rank = new Map(placed.map((r, i) => [r!.cabinetId, i]));
    }
    return placed as FleetRow[];
  }

  private compute(st: SubState, all: FleetRow[]): { counts: FleetCounts; total: number; rows: FleetRow[]; cabinet?: FleetRow; sites: string[] } {
    const p = st.sub.principal;
    const w = st.wants!;
    const counts = emptyCounts();
    const sites = new Set<string>();
    const rows: FleetRow[] = [];
    let total = 0;
    let cabinet: FleetRow | undefined;
    const end = w.offset + w.limit;
    const now = this.o.clock.now();
    // `all` is in id order; another sort needs the whole filtered list before the window is cut.
    const sorted = w.filter.sort !== undefined && (w.filter.sort !== 'id' || w.filter.desc === true);
    const matched: FleetRow[] = [];
    for (const r of all) {
      if (!inScope(p, r.siteId)) continue;
      sites.add(r.siteId);
      if (r.cabinetId === w.cabinetId) cabinet = r;
      // Counts follow the site/kind filter but not the state filter, so the state tabs keep their numbers.
      if ((w.filter.siteId !== undefined && r.siteId !== w.filter.siteId) || (w.filter.kind !== undefined && r.kind !== w.filter.kind)) continue;
      addToCounts(counts, r);
      if (!matchesFilter(r, w.filter, now)) continue;
      if (sorted) matched.push(r);
      else if (total >= w.offset && total < end) rows.push(r);
      total++;
    }
    if (sorted) rows.push(...matched.sort(fleetComparator(w.filter.sort, w.filter.desc)).slice(w.offset, end));
    return { counts, total, rows, ...(cabinet ? { cabinet } : {}), sites: [...sites].sort() };
  }

  /** One flush: public so tests can drive it; the timer calls it every `intervalMs`. */
  tick(): void {
    const started = performance.now();
    try {
      this.flush();
    } finally {
      this.stats.tickMs += performance.now() - started;
    }
  }

  private flush(): void {
    this.stats.ticks++;
    const now = this.o.clock.now();
    const refreshDue = now - this.lastRefresh >= this.refresh;
    const visits = this.pendingVisits;
    this.pendingVisits = [];
    const dirty = new Set(this.dirtySites);
    this.dirtySites.clear();
    if (!refreshDue && dirty.size === 0 && visits.length === 0) return;
    if (refreshDue) this.lastRefresh = now;
    const touches = (p: Principal): boolean => refreshDue || (p.sites === '*' ? dirty.size > 0 : [...dirty].some((s) => inScope(p, s)));
    let all: FleetRow[] | undefined;
    for (const st of this.subs.values()) {
      if (!st.wants) continue;
      const p = st.sub.principal;
      const w = st.wants;
      const myVisits = visits.filter((v) => inScope(p, v.siteId) && (w.visits || v.cabinetId === w.cabinetId));
      st.visits.push(...myVisits);
      if (!touches(p) && !st.visits.length) continue;
      if ((st.sub.buffered?.() ?? 0) > this.maxBuffered) continue; // a slow page: diffed again next tick, nothing lost
      all ??= this.read();
      const delta = this.diff(st, all);
      if (!delta) continue;
      this.stats.deltas++;
      st.sub.send(delta);
    }
  }

  private diff(st: SubState, all: FleetRow[]): FeedDelta | undefined {
    const view = this.compute(st, all);
    const d: FeedDelta = { seq: 0, rows: [] };
    let changed = false;
    if (st.wants!.counts && !sameCounts(st.counts, view.counts)) {
      d.counts = view.counts;
      st.counts = view.counts;
      changed = true;
    }
    if (st.wants!.counts && st.total !== view.total) {
      d.total = view.total;
      st.total = view.total;
      changed = true;
    }
    const order = view.rows.map((r) => r.cabinetId);
    if (!same(order, st.order)) {
      d.order = order;
      st.order = order;
      changed = true;
    }
    const sent = new Map<string, FleetRow>();
    for (const r of view.rows) {
      const prev = st.sent.get(r.cabinetId);
      if (!prev) d.rows.push(r);
      else {
        const patch = diffRow(prev, r);
        if (patch) d.rows.push(patch);
      }
      sent.set(r.cabinetId, r);
    }
    st.sent = sent;
    if (d.rows.length) changed = true;
    if (view.cabinet) {
      const patch = st.cabinet ? diffRow(st.cabinet, view.cabinet) : view.cabinet;
      if (patch) {
        d.cabinet = patch;
        changed = true;
      }
      st.cabinet = view.cabinet;
    }
    if (st.visits.length) {
      d.visits = st.visits;
      st.visits = [];
      changed = true;
    }
    if (!changed) return undefined;
    d.seq = ++st.seq;
    return d;
  }

  close(): void {
    this.timer?.();
    this.timer = undefined;
    for (const s of this.subscriptions) s.unsubscribe();
    this.subs.clear();
  }
}
