import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import { ADMIN_PREFIX, DecideRequest, OPERATOR_ROUTES, PendingOrderRequest, RefundRequest, RestockUnlockRequest, SetStockRequest } from '../../contracts/admin-api';
import type { CatalogueService } from '../../app/catalogue.service';
import type { RestockService } from '../../app/restock.service';
import type { EnrolmentService } from '../../app/enrolment.service';
import type { PlanogramService } from '../../app/planogram.service';
import { ProposePlanogramRequest } from '../../contracts/planogram';
import type { OperatorService } from '../../app/operator.service';
import { CreateProductRequest, EnrolRequest, MAX_ENROL_PHOTOS, MAX_PHOTO_BYTES, ProductsQuery, SchedulePriceRequest, UpdateProductRequest } from '../../contracts/catalogue-api';
import { CloseTaskRequest, CreateTaskRequest } from '../../contracts/restock';
import { CabinetId, SiteId, Sku } from '../../contracts/domain';
import { authenticateOperators, principalOf, type OperatorAuthenticator } from './operator-auth';

export interface OperatorRouteDeps {
  auth: OperatorAuthenticator;
  service: OperatorService;
  catalogue: CatalogueService;
  restock: RestockService;
  planograms: PlanogramService;
  /** Absent when recognition is off (RECOGNITION_WORKERS=0): the enrolment routes answer UNAVAILABLE. */
  enrolment?: EnrolmentService;
  clock: Clock;
}

const Id = z.string().min(1).max(80);
const CaseParams = z.object({ caseId: Id });
const OrderParams = z.object({ orderId: Id });
const CabinetParams = z.object({ cabinetId: CabinetId });
const SkuParams = z.object({ sku: Sku });
const FrameParams = z.object({ visitId: Id, camera: z.string().min(1).max(16), seq: z.coerce.number().int().min(0) });

/** Operator actions (contracts/admin-api OPERATOR_ROUTES); role and site are checked by the service on every call. */
export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorRouteDeps): void {
  const R = OPERATOR_ROUTES;
  const svc = deps.service;
  app.register(
    async (api) => {
      authenticateOperators(api, deps.auth, () => deps.clock.now());
      api.get(R.reviewCases.path, async (req) => svc.listCases(principalOf(req), R.reviewCases.query.parse(req.query)));
      api.get(R.reviewCase.path, async (req) => svc.getCase(principalOf(req), CaseParams.parse(req.params).caseId));
      api.post(R.decide.path, async (req) => svc.decide(principalOf(req), CaseParams.parse(req.params).caseId, DecideRequest.parse(req.body)));
      api.get(R.frame.path, async (req, reply) => {
        const f = FrameParams.parse(req.params);
        const jpeg = await svc.frame(principalOf(req), f.visitId, f.camera, f.seq);
        return reply.header('content-type', 'image/jpeg').header('cache-control', 'private, max-age=3600').send(jpeg);
      });
      api.post(R.pendingOrder.path, async (req, reply) => reply.status(R.pendingOrder.status).send(await svc.raisePendingOrder(principalOf(req), PendingOrderRequest.parse(req.body))));
      api.post(R.refund.path, async (req) => svc.refund(principalOf(req), OrderParams.parse(req.params).orderId, RefundRequest.parse(req.body)));
      api.post(R.restockUnlock.path, async (req) => svc.restockUnlock(principalOf(req), CabinetParams.parse(req.params).cabinetId, RestockUnlockRequest.parse(req.body ?? {}).taskId));
      api.post(R.setStock.path, async (req) => {
        const body = SetStockRequest.parse(req.body);
        return svc.setStock(principalOf(req), CabinetParams.parse(req.params).cabinetId, { lanes: body.lanes, ...(body.visitId ? { visitId: body.visitId } : {}) });
      });
      const cat = deps.catalogue;
      api.get(R.products.path, async (req) => ({ products: await cat.list(principalOf(req), ProductsQuery.parse(req.query)) }));
      api.post(R.createProduct.path, async (req, reply) => reply.status(R.createProduct.status).send(await cat.create(principalOf(req), CreateProductRequest.parse(req.body))));
      api.patch(R.updateProduct.path, async (req) => cat.update(principalOf(req), SkuParams.parse(req.params).sku, UpdateProductRequest.parse(req.body)));
      api.get(R.restockList.path, async (req) => deps.restock.list(principalOf(req), z.object({ siteId: SiteId }).parse(req.params).siteId));
      api.post(R.createRestockTask.path, async (req, reply) => reply.status(R.createRestockTask.status).send(await deps.restock.createTask(principalOf(req), z.object({ siteId: SiteId }).parse(req.params).siteId, CreateTaskRequest.parse(req.body ?? {}).assignee)));
      api.get(R.restockTasks.path, async (req) => ({ tasks: await deps.restock.tasks(principalOf(req), R.restockTasks.query.parse(req.query)) }));
      api.post(R.closeRestockTask.path, async (req) => deps.restock.closeTask(principalOf(req), z.object({ taskId: Id }).parse(req.params).taskId, CloseTaskRequest.parse(req.body).counts));
      api.post(R.schedulePrice.path, async (req) => cat.schedulePrice(principalOf(req), SkuParams.parse(req.params).sku, SchedulePriceRequest.parse(req.body)));
      const pl = deps.planograms;
      api.get(R.planogram.path, async (req) => pl.get(principalOf(req), CabinetParams.parse(req.params).cabinetId));
      api.put(R.proposePlanogram.path, async (req) => pl.propose(principalOf(req), CabinetParams.parse(req.params).cabinetId, ProposePlanogramRequest.parse(req.body)));
      api.post(R.withdrawPlanogram.path, async (req) => pl.withdraw(principalOf(req), CabinetParams.parse(req.params).cabinetId));
      const enrolment = (): EnrolmentService => {
        if (!deps.enrolment) throw new AppError('UNAVAILABLE', 'recognition is off here (RECOGNITION_WORKERS=0): nothing to enrol into');
        return deps.enrolment;
      };
      api.get(R.enrolments.path, async (req) => enrolment().list(principalOf(req)));
      api.get(R.enrolment.path, async (req) => enrolment().get(principalOf(req), SkuParams.parse(req.params).sku));
      // Photos travel as base64 in JSON: the one route whose body may be larger than the service-wide 1 MiB.
      api.post(R.enrolProduct.path, { bodyLimit: Math.ceil(MAX_ENROL_PHOTOS * MAX_PHOTO_BYTES * 1.4) }, async (req) => enrolment().enrol(principalOf(req), SkuParams.parse(req.params).sku, EnrolRequest.parse(req.body)));
      api.get(R.productPhoto.path, async (req, reply) => {
        const f = z.object({ sku: Sku, photoId: Id }).parse(req.params);
        const ph = await enrolment().photo(principalOf(req), f.sku, f.photoId);
        return reply.header('content-type', ph.contentType).header('cache-control', 'private, max-age=3600').send(ph.data);
      });
    },
    { prefix: ADMIN_PREFIX },
  );
}
