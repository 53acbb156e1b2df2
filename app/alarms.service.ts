import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { can, inScope, type Permission, type Principal } from '../contracts/admin-api';
import type { AlarmCounts, AlarmQuery, AlarmRow, AlarmStatus, Page } from '../contracts/console-api';
import type { Models } from '../store/models';
import type { AlarmDoc } from '../store/models/oversight';

/** `_id` is the store's ObjectId; the console names an alarm by its hex string. */
type AlarmLean = AlarmDoc & { _id: { toString(): string } | string };
const ALARM_ID = /^[0-9a-f]{24}$/;

const ms = (d: Date | undefined | null): number | undefined => (d ? new Date(d).getTime() : undefined);

export function statusOf(a: Pick<AlarmDoc, 'clearedAt' | 'acknowledgedAt'>): AlarmStatus {
  return a.clearedAt ? 'cleared' : a.acknowledgedAt ? 'acknowledged' : 'open';
}

export function alarmRow(a: AlarmLean): AlarmRow {
  return {
    alarmId: String(a._id),
    cabinetId: a.cabinetId,
    siteId: a.siteId,
    kind: a.kind,
    status: statusOf(a),
    raisedAt: ms(a.raisedAt)!,
    ...(a.clearedAt ? { clearedAt: ms(a.clearedAt)! } : {}),
    ...(a.detail ? { detail: a.detail } : {}),
    ...(a.acknowledgedBy ? { acknowledgedBy: a.acknowledgedBy } : {}),
    ...(a.acknowledgedAt ? { acknowledgedAt: ms(a.acknowledgedAt)! } : {}),
    ...(a.assignee ? { assignee: a.assignee } : {}),
    notes: (a.notes ?? []).map((n) => ({ at: ms(n.at)!, by: n.by, text: n.text })),
    notified: a.notifiedAt?.length ?? 0,
  };
}

/** A status as a stored-field filter (the alarm's status is derived from clearedAt and acknowledgedAt). */
function statusFilter(s: AlarmStatus | undefined): Record<string, unknown> {
  switch (s) {
    case undefined:
      return {};
    case 'open':
      return { clearedAt: { $exists: false }, acknowledgedAt: { $exists: false } };
    case 'acknowledged':
      return { clearedAt: { $exists: false }, acknowledgedAt: { $exists: true } };
    case 'cleared':
      return { clearedAt: { $exists: true } };
  }
}

/** Alarms read for the counts at most (the open ones of a fleet are few; a flood is capped, not scanned forever). */
const COUNT_CAP = 10_000;

/**
 * The alarm centre: every alarm the cabinets raised, kept after it clears (the cabinet actor raises and
 * clears them in the store; this service never changes those two facts), with who acknowledged it and
 * when, who it is assigned to, and notes. Every action is checked against the caller's role and sites and
 * lands in the audit log. Updates are by `_id` (a point write on FerretDB); acknowledging twice keeps the
 * first acknowledgement.
 */
export class AlarmCentre {
  constructor(private readonly d: { models: Models; clock: Clock }) {}

  private need(p: Principal, perm: Permission, siteId?: string): void {
    if (!can(p, perm)) throw new AppError('FORBIDDEN', `role ${p.role} may not ${perm}`, { permission: perm });
    if (siteId !== undefined && !inScope(p, siteId)) throw new AppError('FORBIDDEN', `site ${siteId} is outside your scope`);
  }

  private scope(p: Principal, siteId: string | undefined): Record<string, unknown> {
    if (siteId !== undefined) return { siteId };
    return p.sites === '*' ? {} : { siteId: { $in: p.sites } };
  }

  async list(p: Principal, q: AlarmQuery): Promise<Page<AlarmRow>> {
    this.need(p, 'fleet.view', q.siteId);
    const filter: Record<string, unknown> = { ...this.scope(p, q.siteId), ...statusFilter(q.status) };
    if (q.cabinetId) filter.cabinetId = q.cabinetId;
    if (q.kind) filter.kind = q.kind;
    if (q.assignee) filter.assignee = q.assignee;
    const range: Record<string, Date> = {};
    if (q.from !== undefined) range.$gte = new Date(q.from);
    if (q.to !== undefined) range.$lt = new Date(q.to);
    if (q.before !== undefined) range.$lt = new Date(Math.min(q.before, q.to ?? Infinity));
    if (Object.keys(range).length) filter.raisedAt = range;
    const rows = await this.d.models.Alarm.find(filter).sort({ raisedAt: -1 }).limit(q.limit).lean<AlarmLean[]>();
    const out = rows.map(alarmRow);
    const last = out[out.length - 1];
    return rows.length >= q.limit && last ? { rows: out, next: last.raisedAt } : { rows: out };
  }

  /** Open and acknowledged (not cleared) alarms in scope: the numbers in the navigation and on the home view. */
  async counts(p: Principal, siteId?: string): Promise<AlarmCounts> {
    this.need(p, 'fleet.view', siteId);
    const rows = await this.d.models.Alarm.find({ ...this.scope(p, siteId), clearedAt: { $exists: false } }, { acknowledgedAt: 1, siteId: 1 }).limit(COUNT_CAP).lean();
    let open = 0;
    let acknowledged = 0;
    for (const r of rows) {
      if (r.acknowledgedAt) acknowledged++;
      else open++;
    }
    return { open, acknowledged };
  }

  private async load(p: Principal, alarmId: string): Promise<AlarmLean> {
    if (!ALARM_ID.test(alarmId)) throw new AppError('NOT_FOUND', `no alarm ${alarmId}`);
    const a = await this.d.models.Alarm.findById(alarmId).lean<AlarmLean>();
    if (!a || !inScope(p, a.siteId)) throw new AppError('NOT_FOUND', `no alarm ${alarmId}`);
    return a;
  }

  private async audit(p: Principal, action: string, a: AlarmLean, before: unknown, after: unknown): Promise<void> {
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action, objectType: 'alarm', objectId: String(a._id), siteId: a.siteId, before, after });
  }

  private async reread(p: Principal, id: string): Promise<AlarmRow> {
    return alarmRow(await this.load(p, id));
  }

  /** Someone is on it: reminders stop. A cleared alarm can still be acknowledged (for the record). */
  async acknowledge(p: Principal, alarmId: string): Promise<AlarmRow> {
    const a = await this.load(p, alarmId);
    this.need(p, 'cabinet.restock', a.siteId);
    if (a.acknowledgedAt) return alarmRow(a);
    const at = new Date(this.d.clock.now());
    await this.d.models.Alarm.updateOne({ _id: a._id }, { $set: { acknowledgedBy: p.id, acknowledgedAt: at } });
    await this.audit(p, 'alarm.acknowledge', a, { status: statusOf(a) }, { status: a.clearedAt ? 'cleared' : 'acknowledged', acknowledgedBy: p.id });
    return this.reread(p, alarmId);
  }

  async assign(p: Principal, alarmId: string, assignee: string | null): Promise<AlarmRow> {
    const a = await this.load(p, alarmId);
    this.need(p, 'cabinet.restock', a.siteId);
    if ((a.assignee ?? null) === assignee) return alarmRow(a);
    await this.d.models.Alarm.updateOne({ _id: a._id }, assignee === null ? { $unset: { assignee: 1 } } : { $set: { assignee } });
    await this.audit(p, 'alarm.assign', a, { assignee: a.assignee ?? null }, { assignee });
    return this.reread(p, alarmId);
  }

  async note(p: Principal, alarmId: string, text: string): Promise<AlarmRow> {
    const a = await this.load(p, alarmId);
    this.need(p, 'cabinet.restock', a.siteId);
    const note = { at: new Date(this.d.clock.now()), by: p.id, text };
    await this.d.models.Alarm.updateOne({ _id: a._id }, { $push: { notes: note } });
    await this.audit(p, 'alarm.note', a, null, { note: text });
    return this.reread(p, alarmId);
  }
}
