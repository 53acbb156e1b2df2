import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import { can, type Principal } from '../contracts/admin-api';
import type { Lane } from '../contracts/domain';
import { applyPlanogram, laneOrder, planogramDiff, planogramOf, planogramProblems, type PlanogramLane, type PlanogramResponse, type PlanogramVersion, type ProposePlanogramRequest } from '../contracts/planogram';
import { compareAndSetFrom } from '../store/cas';
import { isDuplicateKey } from '../store/connection';
import type { Models } from '../store/models';
import type { CabinetDoc } from '../store/models/catalogue';
import type { PlanogramDoc } from '../store/models/planogram';
import { naturalKeys } from '../store/natural-keys';

/** What the planograms need of recognition: the SKUs its gallery can tell (shipped or enrolled). */
export interface EnrolledProducts {
  enrolled(): readonly string[];
}

type Cabinet = Pick<CabinetDoc, '_id' | 'cabinetId' | 'kind' | 'siteId' | 'lanes' | 'planogramVersion' | 'pendingPlanogram' | 'version'>;

/**
 * Planogram versions per cabinet (contracts/planogram.ts decides diffs and how counts carry over). An
 * operator proposes a version from the one that stands; it waits as pending and the fleet applies it when
 * the next restock unlock takes the cabinet's door (`applyAtRestock`, called from actors/fleet), so no
 * shopper visit is ever under a planogram that changed after its door opened. Every SKU must be an active
 * product, and on a fully automatic cabinet one the recogniser has enrolled (PRODUCT_NOT_ENROLLED
 * otherwise): a lane the camera cannot read would hold every visit that touches it. Audited.
 */
export class PlanogramService {
  constructor(private readonly d: { models: Pick<Models, 'Cabinet' | 'Planogram' | 'Product' | 'Audit'>; clock: Clock; log: Logger; recognition?: EnrolledProducts }) {}

  async get(p: Principal, cabinetId: string): Promise<PlanogramResponse> {
    const c = await this.cabinet(cabinetId);
    if (!can(p, 'fleet.view', c.siteId)) throw new AppError('FORBIDDEN', `${p.id} may not view cabinet ${cabinetId}`);
    const docs = (await this.d.models.Planogram.find({ cabinetId }).lean<PlanogramDoc[]>())
      .sort((a, b) => b.version - a.version)
      // A record the cabinet's writes left behind (a write after the cabinet's failed) reads as what it is: a
      // version in force is applied, any other "pending" one the cabinet does not point at is withdrawn.
      .map((d) => (d.status !== 'pending' || d.version === c.pendingPlanogram ? d : { ...d, status: d.version <= (c.planogramVersion ?? 1) ? ('applied' as const) : ('withdrawn' as const) }));
    const pendingDoc = c.pendingPlanogram !== undefined ? docs.find((x) => x.version === c.pendingPlanogram && x.status === 'pending') : undefined;
    const lanes = [...c.lanes].sort((a, b) => laneOrder(a.laneId, b.laneId)).map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count, ...(l.par !== undefined && l.par !== null ? { par: l.par } : {}) }));
    return {
      cabinetId,
      kind: c.kind,
      version: c.planogramVersion ?? 1,
      lanes,
      ...(pendingDoc ? { pending: { ...versionOf(pendingDoc), diff: planogramDiff(planogramOf(lanes), versionOf(pendingDoc).lanes) } } : {}),
      history: docs.map(versionOf),
    };
  }

  /**
   * A new version from `baseVersion` (the newest version, applied or pending); it replaces a pending one.
   * Its number is one past every version ever recorded for the cabinet (a proposal that lost its race, or a
   * process that died before pointing the cabinet at it, leaves a withdrawn record that is never reused), and
   * a cabinet document that only moved for a sale meanwhile (its stock, not its planogram) is tried again.
   */
  async propose(p: Principal, cabinetId: string, req: ProposePlanogramRequest): Promise<PlanogramResponse> {
    let c = await this.cabinet(cabinetId);
    if (!can(p, 'catalogue.edit', c.siteId)) throw new AppError('FORBIDDEN', `${p.id} may not change the planogram of ${cabinetId}`);
    const problems = planogramProblems(req.lanes);
    if (problems.length) throw new AppError('BAD_REQUEST', problems.join('; '), { problems });
    await this.checkProducts(c, req.lanes);
    const newestOf = (x: Cabinet) => Math.max(x.planogramVersion ?? 1, x.pendingPlanogram ?? 0);
    const newest = newestOf(c);
    if (req.baseVersion !== newest) throw new AppError('CONFLICT', `planogram of ${cabinetId} is at version ${newest}, not ${req.baseVersion}: read it again`, { version: newest });
    const lanes = [...req.lanes].sort((a, b) => laneOrder(a.laneId, b.laneId));
    if (c.planogramVersion === undefined) await this.recordFirstVersion(c);
    const recorded = await this.d.models.Planogram.find({ cabinetId }, { version: 1 }).lean<Array<{ version: number }>>();
    const version = Math.max(newest, ...recorded.map((r) => r.version)) + 1;
    try {
      await this.d.models.Planogram.create({ _id: `${cabinetId}:${version}`, cabinetId, version, status: 'pending', lanes, createdBy: p.id, createdAt: new Date(this.d.clock.now()), ...(req.note ? { note: req.note } : {}) });
    } catch (e) {
      if (isDuplicateKey(e)) throw new AppError('CONFLICT', `version ${version} of ${cabinetId} was proposed meanwhile: read it again`);
      throw e;
    }
    for (let round = 0; ; round++) {
      if (await compareAndSetFrom(this.d.models.Cabinet, c as { _id: unknown; version: number }, { pendingPlanogram: version })) break;
      const now = await this.cabinet(cabinetId);
      if (round >= 5 || newestOf(now) !== newest || now.pendingPlanogram !== c.pendingPlanogram) {
        await this.d.models.Planogram.updateOne({ _id: `${cabinetId}:${version}` }, { $set: { status: 'withdrawn' } });
        throw new AppError('CONFLICT', `the planogram of ${cabinetId} changed meanwhile: read it again`);
      }
      c = now;
    }
    if (c.pendingPlanogram !== undefined) await this.d.models.Planogram.updateOne({ _id: `${cabinetId}:${c.pendingPlanogram}`, status: 'pending' }, { $set: { status: 'withdrawn' } });
    await this.audit(p, 'planogram.propose', c, { version: newest, lanes: planogramOf(c.lanes) }, { version, lanes });
    return this.get(p, cabinetId);
  }

  /** An earlier (or the current) version's lanes, for recognising a visit opened under it; counts are not kept per version. */
  async lanesAt(cabinetId: string, version: number): Promise<Lane[] | undefined> {
    const doc = await this.d.models.Planogram.findOne({ _id: `${cabinetId}:${version}` }).lean<PlanogramDoc>();
    return doc?.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.capacity, ...(l.par !== undefined && l.par !== null ? { par: l.par } : {}) }));
  }

  /** Withdraws the pending version (nothing changes at the next restock). */
  async withdraw(p: Principal, cabinetId: string): Promise<PlanogramResponse> {
    const c = await this.cabinet(cabinetId);
    if (!can(p, 'catalogue.edit', c.siteId)) throw new AppError('FORBIDDEN', `${p.id} may not change the planogram of ${cabinetId}`);
    if (c.pendingPlanogram === undefined) throw new AppError('CONFLICT', `cabinet ${cabinetId} has no pending planogram`);
    if (!(await compareAndSetFrom(this.d.models.Cabinet, c as { _id: unknown; version: number }, {}, { unset: ['pendingPlanogram'] }))) throw new AppError('CONFLICT', `cabinet ${cabinetId} changed meanwhile: read it again`);
    await this.d.models.Planogram.updateOne({ _id: `${cabinetId}:${c.pendingPlanogram}` }, { $set: { status: 'withdrawn' } });
    await this.audit(p, 'planogram.withdraw', c, { pending: c.pendingPlanogram }, null);
    return this.get(p, cabinetId);
  }

  /**
   * Called by the fleet as a restock visit that opened the door ends (the door still held): the pending
   * version becomes the one in force (lanes and counts by applyPlanogram). The cabinet's write is what
   * counts; the version's own record and the audit after it are best effort (get() shows a version in force
   * as applied whatever its record says), so the fleet always learns the lanes it must recognise against.
   */
  async applyAtRestock(cabinetId: string, visitId: string): Promise<{ version: number; lanes: Lane[] } | undefined> {
    for (let round = 0; round < 10; round++) {
      const c = await this.cabinet(cabinetId);
      if (c.pendingPlanogram === undefined) return undefined;
      const doc = await this.d.models.Planogram.findOne({ _id: `${cabinetId}:${c.pendingPlanogram}` }).lean<PlanogramDoc>();
      if (!doc || doc.status === 'withdrawn') {
        await compareAndSetFrom(this.d.models.Cabinet, c as { _id: unknown; version: number }, {}, { unset: ['pendingPlanogram'] });
        continue;
      }
      const lanes = applyPlanogram(c.lanes as Lane[], doc.lanes);
      if (c.planogramVersion === undefined) await this.recordFirstVersion(c);
      if (!(await compareAndSetFrom(this.d.models.Cabinet, c as { _id: unknown; version: number }, { lanes, planogramVersion: doc.version }, { unset: ['pendingPlanogram'] }))) continue;
      const at = new Date(this.d.clock.now());
      try {
        await this.d.models.Planogram.updateOne({ _id: doc._id }, { $set: { status: 'applied', appliedAt: at, appliedVisitId: visitId } });
        await this.d.models.Audit.create({ at, actorId: 'fleet', actorRole: 'system', action: 'planogram.apply', objectType: 'cabinet', objectId: cabinetId, siteId: c.siteId, before: { version: c.planogramVersion ?? 1 }, after: { version: doc.version, visitId } });
      } catch (e) {
        this.d.log.error({ cabinetId, visitId, version: doc.version, err: e instanceof Error ? e.message : String(e) }, 'planogram in force; its record or audit was not written');
      }
      this.d.log.info({ cabinetId, visitId, version: doc.version }, 'planogram version in force from this restock');
      return { version: doc.version, lanes };
    }
    throw new AppError('CONFLICT', `cabinet ${cabinetId} kept changing while its planogram was applied`);
  }

  private async checkProducts(c: Cabinet, lanes: readonly PlanogramLane[]): Promise<void> {
    const skus = [...new Set(lanes.map((l) => l.sku))];
    const products = await this.d.models.Product.find({ sku: { $in: skus } }, { sku: 1, active: 1 }).lean<Array<{ sku: string; active?: boolean }>>();
    const active = new Set(products.filter((x) => x.active !== false).map((x) => x.sku));
    const unavailable = skus.filter((s) => !active.has(s));
    if (unavailable.length) throw new AppError('PRODUCT_UNAVAILABLE', `not active products: ${unavailable.join(', ')}`, { skus: unavailable });
    if (c.kind !== 'auto') return;
    if (!this.d.recognition) throw new AppError('UNAVAILABLE', 'recognition is not running here: a fully automatic cabinet cannot be given a planogram');
    const enrolled = new Set(this.d.recognition.enrolled());
    const missing = skus.filter((s) => !enrolled.has(s));
    if (missing.length) throw new AppError('PRODUCT_NOT_ENROLLED', `cabinet ${c.cabinetId} is fully automatic and the recogniser has no enrolment of ${missing.join(', ')}`, { skus: missing });
  }

  /** The lanes a cabinet was provisioned with become version 1 the first time its planogram changes. */
  private async recordFirstVersion(c: Cabinet): Promise<void> {
    await this.d.models.Planogram.create({ _id: `${c.cabinetId}:1`, cabinetId: c.cabinetId, version: 1, status: 'applied', lanes: planogramOf(c.lanes as Lane[]), createdBy: 'provisioning', createdAt: new Date(0) }).catch((e: unknown) => {
      if (!isDuplicateKey(e)) throw e;
    });
  }

  private async cabinet(cabinetId: string): Promise<Cabinet> {
    const c = await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { cabinetId: 1, kind: 1, siteId: 1, lanes: 1, planogramVersion: 1, pendingPlanogram: 1, version: 1 });
    if (!c) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
    return { ...(c as unknown as Cabinet), version: (c as { version?: number }).version ?? 0, planogramVersion: (c as Cabinet).planogramVersion ?? undefined, pendingPlanogram: (c as Cabinet).pendingPlanogram ?? undefined };
  }

  private async audit(p: Principal, action: string, c: Cabinet, before: unknown, after: unknown): Promise<void> {
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action, objectType: 'cabinet', objectId: c.cabinetId, siteId: c.siteId, before, after });
  }
}

function versionOf(d: PlanogramDoc): PlanogramVersion {
  return {
    version: d.version,
    status: d.status,
    lanes: d.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, ...(l.par !== undefined && l.par !== null ? { par: l.par } : {}) })),
    createdBy: d.createdBy,
    createdAt: d.createdAt.getTime(),
    ...(d.appliedAt ? { appliedAt: d.appliedAt.getTime() } : {}),
    ...(d.appliedVisitId ? { appliedVisitId: d.appliedVisitId } : {}),
    ...(d.note ? { note: d.note } : {}),
  };
}
