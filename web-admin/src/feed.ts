import { io, type Socket } from 'socket.io-client';
import { ADMIN_NAMESPACE, type AdminClientToServer, type AdminServerToClient, type FeedDelta, type FeedSnapshot, type FeedSubscription, type FleetCounts, type FleetRow, type RowPatch, type VisitRow } from '../../contracts/console-api';
import { loadSession } from './api';

export interface FeedState {
  counts: FleetCounts | undefined;
  total: number;
  offset: number;
  order: string[];
  rows: Map<string, FleetRow>;
  cabinet: FleetRow | undefined;
  sites: string[];
}

export interface FeedListener {
  /** Rows whose fields changed (ids), or 'all' after a snapshot. */
  changed(ids: Set<string> | 'all'): void;
  visits?(v: VisitRow[]): void;
}

/** Traffic counters for the benchmark (bytes are the JSON length of each payload). */
export const feedStats = { messages: 0, bytes: 0, snapshots: 0, resyncs: 0 };

export function applyPatch(row: FleetRow | undefined, patch: RowPatch): FleetRow | undefined {
  if (!row) return 'kind' in patch && 'siteId' in patch && 'state' in patch ? (patch as FleetRow) : undefined;
  const next = { ...row } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next as unknown as FleetRow;
}

/**
 * The page's end of the live feed (socket.io namespace /admin). It subscribes to what the current view
 * shows; a delta whose `seq` is not the next one, and every reconnect, re-subscribes for a fresh snapshot.
 */
export class Feed {
  readonly state: FeedState = { counts: undefined, total: 0, offset: 0, order: [], rows: new Map(), cabinet: undefined, sites: [] };
  private socket: Socket<AdminServerToClient, AdminClientToServer> | undefined;
  private seq = 0;
  private wants: FeedSubscription = { filter: {}, offset: 0, limit: 0 };
  private listener: FeedListener | undefined;
  /** Whether the socket is connected now; a view or shell drawn later reads it (the events fired before). */
  connected = false;
  private statusListeners = new Set<(connected: boolean) => void>();
  /** Follows the connection: called now with the current state, then on every change; returns how to stop. */
  onStatus(fn: (connected: boolean) => void): () => void {
    this.statusListeners.add(fn);
    fn(this.connected);
    return () => this.statusListeners.delete(fn);
  }
  private setStatus(ok: boolean): void {
    this.connected = ok;
    for (const fn of this.statusListeners) fn(ok);
  }
  onSignedOut: () => void = () => undefined;

  connect(): void {
    if (this.socket) return;
    const s: Socket<AdminServerToClient, AdminClientToServer> = io(ADMIN_NAMESPACE, {
      transports: ['websocket'],
      // The token is read again on every (re)connect, so a new sign-in is used.
      auth: (cb) => cb({ token: loadSession()?.token ?? '' }),
    });
    this.socket = s;
    s.on('connect', () => {
      this.setStatus(true);
      void this.resubscribe();
    });
    s.on('disconnect', () => this.setStatus(false));
    s.on('connect_error', (e: Error & { data?: { code?: string } }) => {
      this.setStatus(false);
      if (e.data?.code === 'UNAUTHENTICATED') {
        s.close();
        this.onSignedOut();
      }
    });
    s.on('signed_out', () => {
      s.close();
      this.onSignedOut();
    });
    s.on('delta', (d) => this.onDelta(d));
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.setStatus(false);
  }

  /** Tells the server what the view shows now; resolves once the fresh snapshot is in the state. */
  show(wants: FeedSubscription, listener: FeedListener): Promise<void> {
    this.wants = wants;
    this.listener = listener;
    return this.resubscribe();
  }

  private resubscribe(): Promise<void> {
    const s = this.socket;
    if (!s?.connected) return Promise.resolve();
    const asked = this.wants;
    const p = (async () => {
      const r = await s.timeout(10_000).emitWithAck('subscribe', asked).catch(() => undefined);
      if (!r || !r.ok || asked !== this.wants) return;
      feedStats.snapshots++;
      feedStats.messages++;
      feedStats.bytes += JSON.stringify(r).length;
      this.load(r.snapshot);
      this.listener?.changed('all');
    })();
    return p;
  }

  private load(s: FeedSnapshot): void {
    this.seq = s.seq;
    this.state.counts = s.counts;
    this.state.total = s.total;
    this.state.offset = s.offset;
    this.state.order = s.rows.map((r) => r.cabinetId);
    this.state.rows = new Map(s.rows.map((r) => [r.cabinetId, r]));
    this.state.cabinet = s.cabinet;
    this.state.sites = s.sites;
  }

  private onDelta(d: FeedDelta): void {
    feedStats.messages++;
    feedStats.bytes += JSON.stringify(d).length;
    // Deltas and the subscribe ack arrive in order on one socket: one numbered at or below the snapshot's is older.
    if (d.seq <= this.seq) return;
    if (d.seq !== this.seq + 1) {
      feedStats.resyncs++;
      void this.resubscribe();
      return;
    }
    this.seq = d.seq;
    const changed = new Set<string>();
    if (d.counts) this.state.counts = d.counts;
    if (d.total !== undefined) this.state.total = d.total;
    if (d.order) {
      const keep = new Set(d.order);
      for (const id of [...this.state.rows.keys()]) if (!keep.has(id)) this.state.rows.delete(id);
      this.state.order = d.order;
    }
    for (const p of d.rows) {
      const next = applyPatch(this.state.rows.get(p.cabinetId), p);
      if (next) this.state.rows.set(p.cabinetId, next);
      changed.add(p.cabinetId);
    }
    if (d.cabinet) this.state.cabinet = applyPatch(this.state.cabinet, d.cabinet);
    if (d.counts || d.total !== undefined || d.order) changed.add('*');
    if (d.cabinet) changed.add(d.cabinet.cabinetId);
    this.listener?.changed(changed);
    if (d.visits?.length) this.listener?.visits?.(d.visits);
  }
}

export const feed = new Feed();
