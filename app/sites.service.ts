import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import { can, inScope, type Principal } from '../contracts/admin-api';
import type { SiteRow, SiteUpsert } from '../contracts/console-api';
import type { Models } from '../store/models';
import type { SiteDoc } from '../store/models/sites';

/** A robot URL with its key hidden: scheme, host and path start only. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 12 ? u.pathname.slice(0, 12) + '…' : u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '…';
  }
}

/**
 * Sites as records (name, address, time zone, the webhook that tells the people on duty). A site known only
 * from its cabinets is listed too, with its id as name, until someone records it. Reads are scoped to the
 * principal's sites; writes need accounts.manage within scope and are audited (the webhook URL masked).
 */
export class SiteService {
  constructor(private readonly d: { models: Models; clock: Clock; fleet: { snapshot(): Array<{ siteId: string; online: boolean }> } }) {}

  async list(p: Principal): Promise<SiteRow[]> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not fleet.view`);
    const live = new Map<string, { cabinets: number; online: number }>();
    for (const r of this.d.fleet.snapshot()) {
      if (!inScope(p, r.siteId)) continue;
      const s = live.get(r.siteId) ?? { cabinets: 0, online: 0 };
      s.cabinets++;
      if (r.online) s.online++;
      live.set(r.siteId, s);
    }
    const docs = await this.d.models.Site.find(p.sites === '*' ? {} : { _id: { $in: p.sites } }).lean<SiteDoc[]>();
    const byId = new Map(docs.map((x) => [x._id, x]));
    const ids = [...new Set([...byId.keys(), ...live.keys()])].filter((id) => inScope(p, id)).sort();
    return ids.map((id) => {
      const doc = byId.get(id);
      const l = live.get(id) ?? { cabinets: 0, online: 0 };
      return {
        siteId: id,
        name: doc?.name ?? id,
        ...(doc?.address ? { address: doc.address } : {}),
        timeZone: doc?.timeZone ?? 'Asia/Shanghai',
        cabinets: l.cabinets,
        online: l.online,
        ...(doc?.webhook ? { webhook: { urlMasked: maskUrl(doc.webhook.url), format: doc.webhook.format, remindEveryMin: doc.webhook.remindEveryMin, ...(doc.webhook.mention ? { mention: doc.webhook.mention } : {}) } } : {}),
        recorded: !!doc,
      };
    });
  }

  async upsert(p: Principal, siteId: string, req: SiteUpsert): Promise<SiteRow> {
    if (!can(p, 'accounts.manage', siteId)) throw new AppError('FORBIDDEN', `you may not edit site ${siteId}`);
    const before = await this.d.models.Site.findById(siteId).lean<SiteDoc>();
    const webhook = req.webhook === undefined ? before?.webhook : req.webhook === null ? undefined : req.webhook;
    const doc: SiteDoc = { _id: siteId, siteId, name: req.name, timeZone: req.timeZone, updatedBy: p.id, ...(req.address ? { address: req.address } : {}), ...(webhook ? { webhook } : {}) };
    await this.d.models.Site.replaceOne({ _id: siteId }, doc, { upsert: true });
    const shown = (x: SiteDoc | null) => (x ? { name: x.name, address: x.address ?? null, timeZone: x.timeZone, webhook: x.webhook ? `${x.webhook.format} ${maskUrl(x.webhook.url)} /${x.webhook.remindEveryMin}min` : null } : null);
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: p.id, actorRole: p.role, action: 'site.save', objectType: 'site', objectId: siteId, siteId, before: shown(before), after: shown(doc) });
    return (await this.list(p)).find((s) => s.siteId === siteId)!;
  }
}
