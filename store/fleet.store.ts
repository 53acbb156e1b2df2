import type { AlarmKind } from '../contracts/cabinet-protocol';
import type { DirectoryRow, FleetStore, NewVisit, RaisedAlarm, StoredFrame } from '../actors/fleet/fleet.ports';
import type { VisitView } from '../actors/visit/visit.protocol';
import { createGrouped, inWriteLane } from './cas';
import { asBuffer, isDuplicateKey } from './connection';
import { VisitEvidence } from './evidence';
import type { Models } from './models';
import type { CabinetDoc } from './models/catalogue';
import { frameId, type VisitDoc } from './models/visit';

const doorKey = (cabinetId: string, door = 'main') => `${cabinetId}/${door}`;

function toView(d: VisitDoc): VisitView {
  return {
    visitId: d.visitId,
    cabinetId: d.cabinetId,
    siteId: d.siteId,
    purpose: d.purpose,
    shopperId: d.shopperId ?? undefined,
    operatorId: d.operatorId ?? undefined,
    status: d.status,
    requestedAt: d.unlockRequestedAt.getTime(),
    openedAt: d.openedAt?.getTime(),
    closedAt: d.closedAt?.getTime(),
    completedAt: d.completedAt?.getTime(),
    expectedFrames: d.expectedFrames ?? undefined,
    receivedFrames: d.receivedFrames ?? {},
    ...(d.recognition ? { recognition: d.recognition as VisitView['recognition'] } : {}),
    ...(d.planogramVersion !== undefined && d.planogramVersion !== null ? { planogramVersion: d.planogramVersion } : {}),
  };
}

/** What the directory needs of a cabinet document (not its stock-move keys, which grow). */
const DIRECTORY_FIELDS = { cabinetId: 1, name: 1, kind: 1, siteId: 1, disabled: 1, cameras: 1, lanes: 1, planogramVersion: 1, secret: 1, lastSeenAt: 1, firmware: 1 } as const;

type DirectoryDoc = Pick<CabinetDoc, '_id' | 'cabinetId' | 'name' | 'kind' | 'siteId' | 'disabled' | 'cameras' | 'lanes' | 'planogramVersion' | 'secret' | 'lastSeenAt' | 'firmware'>;

function toRow(c: DirectoryDoc): DirectoryRow {
  return {
    cabinetId: c.cabinetId,
    name: c.name,
    kind: c.kind,
    siteId: c.siteId,
    disabled: c.disabled,
    cameras: c.cameras,
    lanes: c.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count })),
    planogramVersion: c.planogramVersion ?? 1,
    secret: { iv: c.secret.iv, tag: c.secret.tag, data: c.secret.data },
    lastSeenAt: c.lastSeenAt?.getTime(),
    firmware: c.firmware ?? undefined,
  };
}

/**
 * The fleet's persistence on mongoose (FerretDB or MongoDB). On FerretDB v1 (SQLite) only a filter on `_id`
 * alone is pushed down; any other filter reads and decodes the whole collection. So everything that runs per
 * cabinet or per connection reads and writes a cabinet by `_id` (the cabinet id), and what is needed for all
 * cabinets is read once, in one pass, at start-up.
 */
export class MongooseFleetStore implements FleetStore {
  /**
   * Cabinets registered before `_id` was the cabinet id: cabinet id → their ObjectId, learnt by listCabinets
   * (typed as the schema's `_id`; the Mixed path passes it to the server uncast).
   */
  private readonly legacyIds = new Map<string, string>();
  /** Once every cabinet has been listed, an id that is neither legacy nor an `_id` is not registered. */
  private listed = false;

  private readonly evidence: VisitEvidence;

  constructor(private readonly m: Models) {
    this.evidence = new VisitEvidence(m);
  }

  /**
   * Every write of the fleet goes through the connection's write lane (store/cas.ts), with the payments'
   * writes: SQLite has one writer, and writers colliding in its busy handler sleep. (The unlock-latency
   * bursts seen at 10,000 cabinets were the garbage collector's, app/gc.ts, not these writes.)
   */
  private write<T>(op: () => Promise<T>): Promise<T> {
    return inWriteLane(this.m.Visit.db, op);
  }

  private key(cabinetId: string): string {
    return this.legacyIds.get(cabinetId) ?? cabinetId;
  }

  private remember(c: DirectoryDoc): void {
    if (c._id !== undefined && c._id !== c.cabinetId) this.legacyIds.set(c.cabinetId, c._id);
  }

  async loadCabinet(cabinetId: string): Promise<DirectoryRow | undefined> {
    let c: DirectoryDoc | null = await this.m.Cabinet.findOne({ _id: this.key(cabinetId) }, DIRECTORY_FIELDS).lean();
    // Not listed yet (a fleet used without its directory): an older cabinet is only found by its field.
    if (!c && !this.listed) c = await this.m.Cabinet.findOne({ cabinetId }, DIRECTORY_FIELDS).lean();
    if (!c) return undefined;
    this.remember(c);
    return toRow(c);
  }

  async listCabinets(): Promise<DirectoryRow[]> {
    const rows: DirectoryDoc[] = await this.m.Cabinet.find({}, DIRECTORY_FIELDS).lean();
    for (const r of rows) this.remember(r);
    this.listed = true;
    return rows.map(toRow);
  }

  async openVisits(): Promise<VisitView[]> {
    // One pass over the visits; per cabinet the same choice as openVisitOf: the visit holding the door, else
    // the latest closed one still waiting for its frames.
    const rows = await this.m.Visit.find({ $or: [{ doorLock: { $exists: true } }, { status: 'closed' }] }).lean();
    const best = new Map<string, VisitDoc>();
    const rank = (d: VisitDoc): number => (d.doorLock === doorKey(d.cabinetId) ? 1 : 0);
    for (const d of rows) {
      const cur = best.get(d.cabinetId);
      if (!cur || rank(d) > rank(cur) || (rank(d) === rank(cur) && d.unlockRequestedAt.getTime() > cur.unlockRequestedAt.getTime())) best.set(d.cabinetId, d);
    }
    return [...best.values()].map(toView);
  }

  async visitsAwaitingEvidence(): Promise<VisitView[]> {
    const rows = await this.m.Visit.find({ $or: [{ status: 'closed', expectedFrames: { $exists: true } }, { status: 'complete', purpose: 'shopping', recognition: { $exists: false } }] }).lean();
    return rows.map(toView);
  }

  async allRaisedAlarms(): Promise<RaisedAlarm[]> {
    const rows = await this.m.Alarm.find({ clearedAt: { $exists: false } }).lean();
    return rows.map((r) => ({ cabinetId: r.cabinetId, kind: r.kind, since: r.raisedAt.getTime(), detail: r.detail ?? undefined }));
  }

  async setDisabled(cabinetId: string, disabled: boolean): Promise<void> {
    await this.write(() => this.m.Cabinet.updateOne({ _id: this.key(cabinetId) }, { $set: { disabled } }));
  }

  async openVisitOf(cabinetId: string): Promise<VisitView | undefined> {
    const held = await this.m.Visit.findOne({ doorLock: doorKey(cabinetId) }).lean();
    if (held) return toView(held);
    // A closed visit still waiting for frames no longer holds the door but still keeps the cabinet busy.
    const waiting = await this.m.Visit.findOne({ cabinetId, status: 'closed' }).sort({ unlockRequestedAt: -1 }).lean();
    return waiting ? toView(waiting) : undefined;
  }

  async raisedAlarms(cabinetId: string): Promise<Array<{ kind: AlarmKind; since: number; detail?: string }>> {
    const rows = await this.m.Alarm.find({ cabinetId, clearedAt: { $exists: false } }).lean();
    return rows.map((r) => ({ kind: r.kind, since: r.raisedAt.getTime(), detail: r.detail ?? undefined }));
  }

  async createVisit(v: NewVisit): Promise<'created' | 'door_taken'> {
    try {
      // Grouped with the inserts of other cabinets' unlocks meanwhile (one insertMany, one SQLite transaction).
      await createGrouped(this.m.Visit, {
        _id: v.visitId,
        visitId: v.visitId,
        cabinetId: v.cabinetId,
        siteId: v.siteId,
        purpose: v.purpose,
        shopperId: v.shopperId,
        operatorId: v.operatorId,
        status: 'unlocking',
        doorLock: doorKey(v.cabinetId),
        unlockRequestedAt: new Date(v.requestedAt),
        unlockExpiresAt: new Date(v.unlockExpiresAt),
        planogramVersion: v.planogramVersion,
      });
      return 'created';
    } catch (e) {
      if (isDuplicateKey(e)) return 'door_taken';
      throw e;
    }
  }

  async projectVisit(view: VisitView, releaseDoor: boolean): Promise<void> {
    // Single writer (the visit's own actor), so a plain update is enough; it is idempotent.
    const set: Record<string, unknown> = { status: view.status, receivedFrames: view.receivedFrames };
    if (view.openedAt !== undefined) set.openedAt = new Date(view.openedAt);
    if (view.closedAt !== undefined) set.closedAt = new Date(view.closedAt);
    if (view.completedAt !== undefined) set.completedAt = new Date(view.completedAt);
    if (view.expectedFrames) set.expectedFrames = view.expectedFrames;
    if (view.recognition) set.recognition = view.recognition;
    const update = { $set: set, ...(releaseDoor ? { $unset: { doorLock: '' } } : {}) };
    const res = await this.write(() => this.m.Visit.updateOne({ _id: view.visitId }, update));
    if (res.matchedCount === 0 && (await this.evidence.hasLegacyVisits())) await this.write(() => this.m.Visit.updateOne({ visitId: view.visitId }, update));
  }

  async loadVisit(visitId: string): Promise<VisitView | undefined> {
    const d = await this.evidence.findVisit(visitId);
    return d ? toView(d) : undefined;
  }

  async storeFrame(visitId: string, f: StoredFrame): Promise<'stored' | 'duplicate'> {
    try {
      await createGrouped(this.m.Frame, { _id: frameId(visitId, f.camera, f.seq), visitId, camera: f.camera, seq: f.seq, phase: f.phase, ts: new Date(f.ts), jpeg: f.jpeg, bytes: f.jpeg.length });
      return 'stored';
    } catch (e) {
      if (isDuplicateKey(e)) return 'duplicate';
      throw e;
    }
  }

  async storedFrames(visitId: string, wanted: ReadonlyArray<{ camera: string; seq: number }>): Promise<Array<{ camera: string; seq: number }>> {
    const found = await Promise.all(wanted.map((w) => this.evidence.findFrame(visitId, w.camera, w.seq, { _id: 1 })));
    return wanted.filter((_, i) => found[i]);
  }

  async loadFrames(visitId: string, frames: Record<string, number>): Promise<StoredFrame[]> {
    const rows = await this.evidence.loadFrames(visitId, frames);
    return rows.map((r) => ({ camera: r.camera, seq: r.seq, phase: r.phase, ts: r.ts.getTime(), jpeg: asBuffer(r.jpeg) }));
  }

  async raiseAlarm(a: { cabinetId: string; siteId: string; kind: AlarmKind; at: number; detail?: string }): Promise<void> {
    await createGrouped(this.m.Alarm, { cabinetId: a.cabinetId, siteId: a.siteId, kind: a.kind, raisedAt: new Date(a.at), detail: a.detail });
  }

  async clearAlarm(a: { cabinetId: string; kind: AlarmKind; at: number }): Promise<void> {
    await this.write(() => this.m.Alarm.updateMany({ cabinetId: a.cabinetId, kind: a.kind, clearedAt: { $exists: false } }, { $set: { clearedAt: new Date(a.at) } }));
  }

  /** By `_id`, unordered: a filter on cabinetId would read the whole collection on FerretDB. */
  async saveLastSeenMany(rows: Array<{ cabinetId: string; at: number; firmware?: string }>): Promise<void> {
    if (!rows.length) return;
    await this.write(() =>
      this.m.Cabinet.bulkWrite(
        rows.map((r) => ({ updateOne: { filter: { _id: this.key(r.cabinetId) }, update: { $set: { lastSeenAt: new Date(r.at), ...(r.firmware ? { firmware: r.firmware } : {}) } } } })),
        { ordered: false },
      ),
    );
  }

}
