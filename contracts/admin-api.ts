import { z } from 'zod';
import { CreateProductRequest, EnrolmentRow, EnrolmentsResponse, EnrolRequest, ProductRow, ProductsQuery, ProductsResponse, SchedulePriceRequest, UpdateProductRequest } from './catalogue-api';
import { PlanogramResponse, ProposePlanogramRequest } from './planogram';
import { CabinetId, Fen, FlowKind, Netting, SiteId, Sku } from './domain';
import { CloseTaskRequest, CreateTaskRequest, RestockList, RestockTask, RestockTasksResponse } from './restock';

/**
 * Operator (admin) API v1, defined once: the service enforces it, the web admin imports the same types.
 * Every call and every live event is checked against the caller's role and sites on the server.
 * Errors are `{ error: { code, message, details? } }` with codes from common/errors.ts.
 */
export const ADMIN_PREFIX = '/admin/api/v1';

export const Role = z.enum(['admin', 'operator', 'restocker', 'finance', 'viewer']);
export type Role = z.infer<typeof Role>;

export const Permission = z.enum([
  /** Cabinets, visits, sessions, alarms, the live feed. */
  'fleet.view',
  /** Review queue: read cases with their evidence. */
  'review.view',
  /** Confirm, adjust or waive a review case; raise a pending order. */
  'review.decide',
  /** Orders, payments, debts, contracts (read). */
  'orders.view',
  'orders.refund',
  'cabinet.restock',
  'cabinet.provision',
  /** Reconciliation reports and differences. */
  'finance.view',
  'audit.view',
  'accounts.manage',
  /** Products, prices and their schedule (contracts/catalogue-api.ts). */
  'catalogue.edit',
]);
export type Permission = z.infer<typeof Permission>;

/** What each role may do; scope (sites) is checked separately. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: Permission.options,
  operator: ['fleet.view', 'review.view', 'review.decide', 'orders.view', 'orders.refund', 'cabinet.restock', 'audit.view', 'catalogue.edit'],
  restocker: ['fleet.view', 'cabinet.restock'],
  finance: ['fleet.view', 'orders.view', 'orders.refund', 'finance.view', 'audit.view'],
  viewer: ['fleet.view', 'review.view', 'orders.view'],
};

/** An authenticated console user: `sites: '*'` sees every site. */
export const Principal = z.object({ id: z.string(), name: z.string(), role: Role, sites: z.union([z.literal('*'), z.array(SiteId)]) });
export type Principal = z.infer<typeof Principal>;

export function inScope(p: Pick<Principal, 'sites'>, siteId: string): boolean {
  return p.sites === '*' || p.sites.includes(siteId);
}

/** True when the principal's role grants `perm` and, when a site is named, the site is in its scope. */
export function can(p: Pick<Principal, 'role' | 'sites'>, perm: Permission, siteId?: string): boolean {
  return ROLE_PERMISSIONS[p.role].includes(perm) && (siteId === undefined || inScope(p, siteId));
}

// ---- review cases ----

export const ReviewReason = z.enum(['low_confidence', 'discrepancy', 'unreadable', 'appeal']);
export const ReviewDecision = z.enum(['confirm', 'adjust', 'waive']);
export const ReviewLine = z.object({ sku: Sku, qty: z.number().int().min(1).max(50) });
export type ReviewLine = z.infer<typeof ReviewLine>;

export const ReviewCase = z.object({
  caseId: z.string(),
  /** Absent for an appeal of an open-shelf order (no door, no visit). */
  visitId: z.string().optional(),
  orderId: z.string().optional(),
  cabinetId: CabinetId,
  siteId: SiteId,
  flow: FlowKind,
  /** Masked shopper reference (never a phone number). */
  shopperId: z.string().optional(),
  reason: ReviewReason,
  status: z.enum(['open', 'decided']),
  /** What recognition saw: items with confidences (and the raw evidence for drawing boxes/lanes). */
  recognised: z.array(z.object({ sku: z.string(), qty: z.number().int(), confidence: z.number() })),
  /** The shopper's paid cart (semi-automatic), if any. */
  paidLines: z.array(ReviewLine).optional(),
  /** The lines the case proposes to bill. */
  proposedLines: z.array(ReviewLine),
  decision: ReviewDecision.optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.number().int().optional(),
  /** Outcome of the decision: order charged, paid, turned into debt, nothing due, refunded. */
  outcome: z.string().optional(),
  /** Semi-automatic: what was paid, what was decided and the difference billed or refunded. */
  netting: Netting.optional(),
  deadlineAt: z.number().int(),
  createdAt: z.number().int(),
  /** Frame references per camera and phase, fetched from GET /frames/:visitId/:camera/:seq. */
  frames: z.array(z.object({ camera: z.string(), seq: z.number().int(), phase: z.enum(['before', 'after']) })),
  evidence: z.unknown().optional(),
});
export type ReviewCase = z.infer<typeof ReviewCase>;

export const ReviewCasesResponse = z.object({ cases: z.array(ReviewCase) });

/**
 * confirm: bill the proposed lines; adjust: bill `lines` instead; waive: bill nothing.
 * For a semi-automatic discrepancy, what is billed is the difference over the paid cart (a pending order).
 */
export const DecideRequest = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('confirm'), note: z.string().max(500).optional() }),
  z.object({ decision: z.literal('adjust'), lines: z.array(ReviewLine).max(30), note: z.string().max(500).optional() }),
  z.object({ decision: z.literal('waive'), note: z.string().max(500).optional() }),
]);
export type DecideRequest = z.infer<typeof DecideRequest>;

export const DecideResponse = z.object({ case: ReviewCase, orderId: z.string().optional(), outcome: z.string(), netting: Netting.optional() });

/** A pending order raised by an operator against a shopper's visit: it becomes the shopper's debt. */
export const PendingOrderRequest = z.object({ visitId: z.string(), lines: z.array(ReviewLine).min(1).max(30), reason: z.string().min(2).max(200) });
export const PendingOrderResponse = z.object({ orderId: z.string(), totalFen: Fen, debtId: z.string().optional(), outcome: z.string() });

export const RefundRequest = z.object({ amountFen: Fen.min(1), reason: z.string().min(2).max(200), refundKey: z.string().min(4).max(64) });
export const RefundResponse = z.object({ orderId: z.string(), outRefundNo: z.string().optional(), amountFen: Fen, outcome: z.enum(['requested', 'refused']), reason: z.string().optional() });

export const RestockUnlockResponse = z.object({ visitId: z.string() });
/** Optional: the restock task the unlock is for (it must be open and list this cabinet). */
export const RestockUnlockRequest = z.object({ taskId: z.string().min(1).max(40).optional() }).strict();

/** After restocking: the counts the restocker left in each lane (only the lanes named change). */
export const SetStockRequest = z.object({ lanes: z.array(z.object({ laneId: z.string(), count: z.number().int().min(0).max(50) })).min(1).max(100), visitId: z.string().optional() });
export const SetStockResponse = z.object({ cabinetId: CabinetId, lanes: z.array(z.object({ laneId: z.string(), sku: Sku, capacity: z.number().int(), count: z.number().int() })) });

export const AuditEntry = z.object({
  at: z.number().int(),
  actorId: z.string(),
  actorRole: z.string(),
  action: z.string(),
  objectType: z.string(),
  objectId: z.string(),
  siteId: z.string().optional(),
  before: z.unknown(),
  after: z.unknown(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Operator actions implemented by gateways/http/operator.routes.ts (paths under ADMIN_PREFIX). */
export const OPERATOR_ROUTES = {
  reviewCases: { method: 'GET', path: '/reviews', query: z.object({ status: z.enum(['open', 'decided']).optional(), siteId: SiteId.optional() }), response: ReviewCasesResponse, permission: 'review.view' },
  reviewCase: { method: 'GET', path: '/reviews/:caseId', response: ReviewCase, permission: 'review.view' },
  decide: { method: 'POST', path: '/reviews/:caseId/decision', body: DecideRequest, response: DecideResponse, permission: 'review.decide' },
  frame: { method: 'GET', path: '/frames/:visitId/:camera/:seq', permission: 'review.view' },
  pendingOrder: { method: 'POST', path: '/pending-orders', body: PendingOrderRequest, response: PendingOrderResponse, permission: 'review.decide', status: 201 },
  refund: { method: 'POST', path: '/orders/:orderId/refunds', body: RefundRequest, response: RefundResponse, permission: 'orders.refund' },
  restockUnlock: { method: 'POST', path: '/cabinets/:cabinetId/restock-unlock', body: RestockUnlockRequest, response: RestockUnlockResponse, permission: 'cabinet.restock' },
  setStock: { method: 'POST', path: '/cabinets/:cabinetId/stock', body: SetStockRequest, response: SetStockResponse, permission: 'cabinet.restock' },
  products: { method: 'GET', path: '/products', query: ProductsQuery, response: ProductsResponse, permission: 'fleet.view' },
  createProduct: { method: 'POST', path: '/products', body: CreateProductRequest, response: ProductRow, permission: 'catalogue.edit', status: 201 },
  updateProduct: { method: 'PATCH', path: '/products/:sku', body: UpdateProductRequest, response: ProductRow, permission: 'catalogue.edit' },
  schedulePrice: { method: 'POST', path: '/products/:sku/prices', body: SchedulePriceRequest, response: ProductRow, permission: 'catalogue.edit' },
  restockList: { method: 'GET', path: '/sites/:siteId/restock-list', response: RestockList, permission: 'cabinet.restock' },
  createRestockTask: { method: 'POST', path: '/sites/:siteId/restock-tasks', body: CreateTaskRequest, response: RestockTask, permission: 'cabinet.restock', status: 201 },
  restockTasks: { method: 'GET', path: '/restock-tasks', query: z.object({ siteId: SiteId.optional(), status: z.enum(['open', 'closed']).optional() }), response: RestockTasksResponse, permission: 'cabinet.restock' },
  closeRestockTask: { method: 'POST', path: '/restock-tasks/:taskId/close', body: CloseTaskRequest, response: RestockTask, permission: 'cabinet.restock' },
  enrolments: { method: 'GET', path: '/enrolments', response: EnrolmentsResponse, permission: 'fleet.view' },
  enrolProduct: { method: 'POST', path: '/products/:sku/enrolment', body: EnrolRequest, response: EnrolmentRow, permission: 'catalogue.edit' },
  enrolment: { method: 'GET', path: '/products/:sku/enrolment', response: EnrolmentRow, permission: 'fleet.view' },
  productPhoto: { method: 'GET', path: '/products/:sku/photos/:photoId', permission: 'fleet.view' },
  planogram: { method: 'GET', path: '/cabinets/:cabinetId/planogram', response: PlanogramResponse, permission: 'fleet.view' },
  proposePlanogram: { method: 'PUT', path: '/cabinets/:cabinetId/planogram', body: ProposePlanogramRequest, response: PlanogramResponse, permission: 'catalogue.edit' },
  withdrawPlanogram: { method: 'POST', path: '/cabinets/:cabinetId/planogram/withdraw', response: PlanogramResponse, permission: 'catalogue.edit' },
} as const;
