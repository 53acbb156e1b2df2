import type { AlarmKind } from '../contracts/cabinet-protocol';
import type { CabinetRecord, FleetStore, NewVisit, StoredFrame } from '../actors/fleet/fleet.ports';
import type { VisitView } from '../actors/visit/visit.protocol';
import { asBuffer, isDuplicateKey } from './connection';
import type { Models } from './models';
import type { VisitDoc } from './models/visit';

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
  };
}

/** The fleet's persistence on mongoose (FerretDB or MongoDB). */
export class MongooseFleetStore implements FleetStore {
  constructor(private readonly m: Models) {}

  async loadCabinet(cabinetId: string): Promise<CabinetRecord | undefined> {
    const c = await this.m.Cabinet.findOne({ cabinetId }, { secret: 0 }).lean();
    return c ? { cabinetId: c.cabinetId, name: c.name, kind: c.kind, siteId: c.siteId, disabled: c.disabled, cameras: c.cameras, lanes: c.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count })) } : undefined;
  }

  async listCabinets(): Promise<Array<{ cabinetId: string; kind: CabinetRecord['kind']; siteId: string; lastSeenAt?: number; firmware?: string }>> {
    const rows = await this.m.Cabinet.find({}, { cabinetId: 1, kind: 1, siteId: 1, lastSeenAt: 1, firmware: 1 }).lean();
    return rows.map((r) => ({ cabinetId: r.cabinetId, kind: r.kind, siteId: r.siteId, lastSeenAt: r.lastSeenAt?.getTime(), firmware: r.firmware ?? undefined }));
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
      await this.m.Visit.create({
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
    await this.m.Visit.updateOne({ visitId: view.visitId }, { $set: set, ...(releaseDoor ? { $unset: { doorLock: '' } } : {}) });
  }

  async loadVisit(visitId: string): Promise<VisitView | undefined> {
    const d = await this.m.Visit.findOne({ visitId }).lean();
    return d ? toView(d) : undefined;
  }

  async storeFrame(visitId: string, f: StoredFrame): Promise<'stored' | 'duplicate'> {
    try {
      await this.m.Frame.create({ visitId, camera: f.camera, seq: f.seq, phase: f.phase, ts: new Date(f.ts), jpeg: f.jpeg, bytes: f.jpeg.length });
      return 'stored';
    } catch (e) {
      if (isDuplicateKey(e)) return 'duplicate';
      throw e;
    }
  }

  async countFrames(visitId: string): Promise<Record<string, number>> {
    const rows = await this.m.Frame.find({ visitId }, { camera: 1 }).lean();
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.camera] = (counts[r.camera] ?? 0) + 1;
    return counts;
  }

  async loadFrames(visitId: string): Promise<StoredFrame[]> {
    const rows = await this.m.Frame.find({ visitId }).sort({ camera: 1, seq: 1 }).lean();
    return rows.map((r) => ({ camera: r.camera, seq: r.seq, phase: r.phase, ts: r.ts.getTime(), jpeg: asBuffer(r.jpeg) }));
  }

  async raiseAlarm(a: { cabinetId: string; siteId: string; kind: AlarmKind; at: number; detail?: string }): Promise<void> {
    await this.m.Alarm.create({ cabinetId: a.cabinetId, siteId: a.siteId, kind: a.kind, raisedAt: new Date(a.at), detail: a.detail });
  }

  async clearAlarm(a: { cabinetId: string; kind: AlarmKind; at: number }): Promise<void> {
    await this.m.Alarm.updateMany({ cabinetId: a.cabinetId, kind: a.kind, clearedAt: { $exists: false } }, { $set: { clearedAt: new Date(a.at) } });
  }

  async saveLastSeen(cabinetId: string, at: number, firmware?: string): Promise<void> {
    await this.m.Cabinet.updateOne({ cabinetId }, { $set: { lastSeenAt: new Date(at), ...(firmware ? { firmware } : {}) } });
  }
}
