import { randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { can, type Principal } from '../contracts/admin-api';
import { restockList, shrinkageOf, type RestockList, type RestockTask, type TaskCount } from '../contracts/restock';
import { compareAndSet } from '../store/cas';
import type { Models } from '../store/models';
import type { PlanogramDoc } from '../store/models/planogram';
import { applyPlanogram } from '../contracts/planogram';
import type { RestockTaskDoc, TaskCountDoc } from '../store/models/restock';
import { moveStock } from './commerce';

/**
 * Replenishment: what a restocker brings to a site (every enabled cabinet's lanes at or below par, lane by
 * lane up to capacity, and the van's load summed per product; contracts/restock.ts), and the restock task
 * made from that list: assigned to a restocker, closed with each lane's count as found and as left, which
 * sets the stock and records what was gone without a sale as shrinkage. Needs cabinet.restock at the site;
 * every task change is audited.
 */
export class RestockService {
  constructor(private readonly d: { models: Pick<Models, 'Cabinet' | 'Product' | 'RestockTask' | 'Audit' | 'Planogram'>; clock: Clock }) {}

  /**
   * The site's restock list. A cabinet with a pending planogram version is listed as that version will
   * stand once the restock unlock applies it (contracts/planogram applyPlanogram): a lane given a new
   * product, or a new lane, starts empty, so the list says to bring it full.
   */
  async list(p: Principal, siteId: string): Promise<RestockList> {
    this.mayRestock(p, siteId);
    const cabinets = await this.d.models.Cabinet.find({ siteId }, { cabinetId: 1, name: 1, siteId: 1, lanes: 1, disabled: 1, pendingPlanogram: 1 }).lean();
    const pendingIds = cabinets.filter((c) => c.pendingPlanogram !== undefined && c.pendingPlanogram !== null).map((c) => `${c.cabinetId}:${c.pendingPlanogram}`);
    const pending = pendingIds.length ? await this.d.models.Planogram.find({ _id: { $in: pendingIds }, status: 'pending' }).lean<PlanogramDoc[]>() : [];
    const next = new Map(pending.map((d) => [d.cabinetId, d.lanes]));
    const listed = cabinets.map((c) => {
      const lanes = next.get(c.cabinetId);
      return lanes ? { ...c, lanes: applyPlanogram(c.lanes, lanes) } : c;
    });
    return restockList(siteId, this.d.clock.now(), listed, await this.names(listed.flatMap((c) => c.lanes.map((l) => l.sku))));
  }

  /** A task from the site's restock list now, for `assignee` (the caller by default). */
  async createTask(p: Principal, siteId: string, assignee = p.id): Promise<RestockTask> {
    const list = await this.list(p, siteId);
    if (!list.lowLanes) throw new AppError('CONFLICT', `no lane at site ${siteId} needs restocking`);
    const taskId = `RT${randomBytes(6).toString('hex')}`;
    const doc: RestockTaskDoc = { _id: taskId, taskId, siteId, assignee, createdBy: p.id, status: 'open', lanes: list.cabinets.flatMap((c) => c.lanes.map((l) => ({ cabinetId: c.cabinetId, laneId: l.laneId, sku: l.sku, listedCount: l.count, bring: l.bring, capacity: l.capacity }))), counts: [], version: 0 };
    await this.d.models.RestockTask.create(doc);
    await this.audit(p, 'restock.task_created', taskId, siteId, null, { assignee, lanes: doc.lanes.length });
    return this.get(p, taskId);
  }

  async tasks(p: Principal, q: { siteId?: string; status?: 'open' | 'closed' } = {}): Promise<RestockTask[]> {
    if (!can(p, 'cabinet.restock')) throw new AppError('FORBIDDEN', `role ${p.role} may not restock`);
    // A task whose close is under way is still open to its readers.
    const docs = await this.d.models.RestockTask.find({ ...(q.siteId ? { siteId: q.siteId } : {}), ...(q.status ? { status: q.status === 'open' ? { $in: ['open', 'closing'] } : 'closed' } : {}) }).lean<RestockTaskDoc[]>();
    const mine = docs.filter((t) => can(p, 'cabinet.restock', t.siteId)).sort((a, b) => b.taskId.localeCompare(a.taskId));
    return Promise.all(mine.map((t) => this.wire(t)));
  }

  async get(p: Principal, taskId: string): Promise<RestockTask> {
    const t = await this.d.models.RestockTask.findOne({ _id: taskId }).lean<RestockTaskDoc>();
    if (!t || !can(p, 'cabinet.restock', t.siteId)) throw new AppError('NOT_FOUND', `no restock task ${taskId}`);
    return this.wire(t);
  }

  /**
   * Closes a task with the restocker's counts: per lane, `found` (before filling) against the service's
   * count now (every sale since the list included) gives the shrinkage, and `final` becomes the lane's stock.
   * Every lane of the task must be counted once, save lanes the cabinet no longer has (a planogram version
   * applied since removed them: recorded as gone); a lane outside the task may be counted too. The counts and
   * shrinkage are recorded on the task first (`closing`), then the stock is set, then the task is closed: a
   * close retried after a failure finishes with the counts recorded (the same counts, or CONFLICT), so the
   * shrinkage is never reckoned again against a count the first attempt already set.
   */
  async closeTask(p: Principal, taskId: string, counts: readonly TaskCount[]): Promise<RestockTask> {
    const t = await this.d.models.RestockTask.findOne({ _id: taskId }).lean<RestockTaskDoc>();
    if (!t || !can(p, 'cabinet.restock', t.siteId)) throw new AppError('NOT_FOUND', `no restock task ${taskId}`);
    if (t.status === 'closed') throw new AppError('CONFLICT', `restock task ${taskId} is closed already`);
    const key = (c: { cabinetId: string; laneId: string }) => `${c.cabinetId}/${c.laneId}`;
    const given = new Map(counts.map((c) => [key(c), c]));
    if (given.size !== counts.length) throw new AppError('BAD_REQUEST', 'each lane may be counted once', { duplicates: counts.map(key).filter((k, i, all) => all.indexOf(k) !== i) });
    let closing = t;
    if (t.status === 'closing') {
      const recorded = new Map(t.counts.map((c) => [key(c), c]));
      const same = recorded.size === given.size && [...given].every(([k, c]) => recorded.get(k)?.found === c.found && recorded.get(k)?.final === c.final);
      if (!same) throw new AppError('CONFLICT', `restock task ${taskId} is being closed with other counts; submit those again`);
    } else {
      const { out, gone } = await this.reckon(t, counts);
      const missing = t.lanes.filter((l) => !given.has(key(l)) && !gone.includes(key(l)));
      if (missing.length) throw new AppError('BAD_REQUEST', `count every lane of the task: missing ${missing.map(key).join(', ')}`, { missing: missing.map(key) });
      const set = { status: 'closing', counts: out, ...(gone.length ? { gone } : {}) };
      if (!(await compareAndSet(this.d.models.RestockTask, { _id: taskId, status: 'open' }, set))) throw new AppError('CONFLICT', `restock task ${taskId} was closed meanwhile`);
      closing = { ...t, ...set, status: 'closing' };
    }
    for (const cabinetId of [...new Set(closing.counts.map((c) => c.cabinetId))]) {
      // Keyed by the task: a retried close sets the same counts once.
      await moveStock(this.d.models, cabinetId, `task:${taskId}:${cabinetId}`, { set: closing.counts.filter((c) => c.cabinetId === cabinetId).map((c) => ({ laneId: c.laneId, count: c.final })) });
    }
    if (!(await compareAndSet(this.d.models.RestockTask, { _id: taskId, status: 'closing' }, { status: 'closed', closedAt: new Date(this.d.clock.now()), closedBy: p.id }))) throw new AppError('CONFLICT', `restock task ${taskId} was closed meanwhile`);
    await this.audit(p, 'restock.task_closed', taskId, t.siteId, { status: 'open' }, { status: 'closed', lanes: closing.counts.length, shrinkage: closing.counts.reduce((n, c) => n + c.shrinkage, 0), ...(closing.gone?.length ? { gone: closing.gone } : {}) });
    return this.get(p, taskId);
  }

  /** The counts against each cabinet's lanes now, and the task lanes its cabinet no longer has. */
  private async reckon(t: RestockTaskDoc, counts: readonly TaskCount[]): Promise<{ out: TaskCountDoc[]; gone: string[] }> {
    const out: TaskCountDoc[] = [];
    const gone: string[] = [];
    for (const cabinetId of [...new Set([...counts.map((c) => c.cabinetId), ...t.lanes.map((l) => l.cabinetId)])]) {
      const cab = await this.d.models.Cabinet.findOne({ cabinetId }, { siteId: 1, lanes: 1 }).lean();
      if (!cab || cab.siteId !== t.siteId) throw new AppError('BAD_REQUEST', `cabinet ${cabinetId} is not at site ${t.siteId}`);
      for (const l of t.lanes.filter((x) => x.cabinetId === cabinetId && !cab.lanes.some((y) => y.laneId === x.laneId))) gone.push(`${cabinetId}/${l.laneId}`);
      for (const c of counts.filter((x) => x.cabinetId === cabinetId)) {
        const lane = cab.lanes.find((l) => l.laneId === c.laneId);
        if (!lane) throw new AppError('BAD_REQUEST', `no lane ${c.laneId} in ${cabinetId}`);
        if (c.final > lane.capacity) throw new AppError('BAD_REQUEST', `lane ${cabinetId}/${c.laneId} holds ${lane.capacity}, not ${c.final}`);
        out.push({ cabinetId, laneId: c.laneId, sku: lane.sku, expected: lane.count, found: c.found, final: c.final, shrinkage: shrinkageOf(lane.count, c.found) });
      }
    }
    return { out, gone };
  }

  private mayRestock(p: Principal, siteId: string): void {
    if (!can(p, 'cabinet.restock', siteId)) throw new AppError('FORBIDDEN', `role ${p.role} may not restock at site ${siteId}`, { permission: 'cabinet.restock' });
  }

  private async names(skus: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(skus)];
    const products = unique.length ? await this.d.models.Product.find({ sku: { $in: unique } }, { sku: 1, name: 1 }).lean() : [];
    return new Map(products.map((x) => [x.sku, x.name]));
  }

  private async wire(t: RestockTaskDoc): Promise<RestockTask> {
    const names = await this.names(t.lanes.map((l) => l.sku));
    return {
      taskId: t.taskId,
      siteId: t.siteId,
      assignee: t.assignee,
      createdBy: t.createdBy,
      status: t.status === 'closed' ? 'closed' : 'open',
      createdAt: (t as { createdAt?: Date }).createdAt?.getTime() ?? 0,
      lanes: t.lanes.map((l) => ({ ...l, name: names.get(l.sku) ?? l.sku })),
      counts: t.counts,
      shrinkage: t.counts.reduce((n, c) => n + c.shrinkage, 0),
    };
  }

  private async audit(p: Principal, action: string, taskId: string, siteId: string, before: unknown, after: unknown): Promise<void> {
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action, objectType: 'restock_task', objectId: taskId, siteId, before, after });
  }
}
