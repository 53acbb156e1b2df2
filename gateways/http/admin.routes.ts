import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../common/errors';
import type { Fleet } from '../../actors/fleet/fleet';
import { ProvisionRequest, type Provisioned } from '../../app/provisioning';

export interface AdminDeps {
  /** Bootstrap admin token (ADMIN_TOKEN); role-scoped operator accounts come with the console. */
  adminToken: string;
  fleet: Fleet;
  provision(req: ProvisionRequest, actor: { id: string; role: string }): Promise<Provisioned>;
  /** The nodes of the cluster and their heartbeats (app/cluster); this node alone when not clustered. */
  clusterStatus(): Promise<unknown>;
}

function requireAdmin(req: FastifyRequest, token: string): void {
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AppError('UNAUTHENTICATED', 'a valid admin bearer token is required');
}

const Batch = z.object({ cabinets: z.array(z.unknown()).min(1).max(1000) });
const UnlockBody = z.object({ operatorId: z.string().min(1).max(64) });

/** Provisioning and fleet introspection. Every route needs the admin token. */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const admin = { id: 'admin-token', role: 'admin' };
  app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => requireAdmin(req, deps.adminToken));

    scope.get('/admin/cluster', async () => deps.clusterStatus());

    scope.post('/admin/cabinets', async (req, reply) => {
      const body = ProvisionRequest.parse(req.body);
      return reply.status(201).send(await deps.provision(body, admin));
    });

    scope.post('/admin/cabinets/batch', async (req) => {
      const { cabinets } = Batch.parse(req.body);
      const results = [];
      for (const raw of cabinets) {
        const parsed = ProvisionRequest.safeParse(raw);
        const id = (raw as { cabinetId?: unknown })?.cabinetId;
        if (!parsed.success) {
          results.push({ cabinetId: typeof id === 'string' ? id : null, error: { code: 'BAD_REQUEST', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
          continue;
        }
        try {
          const p = await deps.provision(parsed.data, admin);
          results.push({ cabinetId: p.cabinet.cabinetId, secret: p.secret });
        } catch (e) {
          if (e instanceof AppError) results.push({ cabinetId: parsed.data.cabinetId, error: { code: e.code, message: e.message } });
          else throw e;
        }
      }
      return { results };
    });

    scope.get('/admin/fleet', async () => {
      const cabinets = deps.fleet.snapshot();
      const counts = { total: cabinets.length, online: 0, offline: 0, inVisit: 0, alarms: 0 };
      for (const c of cabinets) {
        if (c.online) counts.online++;
        else counts.offline++;
        if (c.visitId) counts.inVisit++;
        if (c.alarms.length) counts.alarms++;
      }
      return { counts, cabinets };
    });

    scope.get('/admin/cabinets/:cabinetId/live', async (req) => {
      const { cabinetId } = req.params as { cabinetId: string };
      const view = deps.fleet.view(cabinetId) ?? (await deps.fleet.cabinet(cabinetId).then(() => deps.fleet.view(cabinetId)));
      if (!view) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
      return view;
    });

    scope.get('/admin/visits/:visitId', async (req) => {
      const { visitId } = req.params as { visitId: string };
      const v = await deps.fleet.visitView(visitId);
      if (!v) throw new AppError('NOT_FOUND', `no visit ${visitId}`);
      return v;
    });

    /** Restock unlock: never billed; shoppers are refused while it lasts. */
    scope.post('/admin/cabinets/:cabinetId/restock-unlock', async (req) => {
      const { cabinetId } = req.params as { cabinetId: string };
      const { operatorId } = UnlockBody.parse(req.body);
      const r = await deps.fleet.requestUnlock(cabinetId, { purpose: 'restock', operatorId });
      if (!r.ok) throw new AppError(r.reason === 'UNKNOWN_CABINET' ? 'NOT_FOUND' : 'CONFLICT', `unlock refused: ${r.reason}`, { reason: r.reason });
      return r;
    });
  });
}
