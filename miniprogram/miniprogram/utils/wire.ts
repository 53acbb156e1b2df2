/**
 * The shopper API's wire types, taken from the service's own contract (contracts/shopper-api.ts).
 *
 * Only `import type` / `export type` may reach the contract: the compile step erases them, so neither zod nor
 * any file outside miniprogramRoot ships in the package (utils/wire.guard.test.ts enforces this). The route
 * table below is checked against the contract's literal methods and paths by tsc, so a renamed route breaks
 * `tsc --noEmit -p miniprogram` instead of a shopper's visit.
 */
import type { z } from 'zod';
import type {
  API_PREFIX,
  DebtsResponse as DebtsResponseSchema,
  PayDebtsRequest as PayDebtsRequestSchema,
  PapayContractResponse as PapayContractResponseSchema,
  CatalogueResponse as CatalogueResponseSchema,
  OrdersResponse as OrdersResponseSchema,
  AppealResponse as AppealResponseSchema,
  PhoneResponse as PhoneResponseSchema,
  OrderStatus as OrderStatusSchema,
  SANDBOX_WECHAT_PATH,
  SHOPPER_ROUTES,
  ShopperRouteName,
} from '../../../contracts/shopper-api';

export type {
  ApiError,
  CabinetResponse,
  CabinetUnavailableReason,
  CatalogueItem,
  CheckoutRequest,
  CheckoutResponse,
  ContractState,
  Debt,
  LoginResponse,
  MeResponse,
  Order,
  PapaySignResponse,
  PayDebtsResponse,
  RequestPaymentParams,
  SessionState,
  ShopperErrorCode,
  ShopperProfile,
  ShopperRouteName,
  VisitResponse,
} from '../../../contracts/shopper-api';
export type { FlowKind } from '../../../contracts/domain';

export type DebtsResponse = z.infer<typeof DebtsResponseSchema>;
export type PayDebtsRequest = z.input<typeof PayDebtsRequestSchema>;
export type PapayContractResponse = z.infer<typeof PapayContractResponseSchema>;
export type CatalogueResponse = z.infer<typeof CatalogueResponseSchema>;
export type OrdersResponse = z.infer<typeof OrdersResponseSchema>;
export type AppealResponse = z.infer<typeof AppealResponseSchema>;
export type PhoneResponse = z.infer<typeof PhoneResponseSchema>;
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

type Routes = typeof SHOPPER_ROUTES;
/** What the client sends as a route's body (zod input: defaults may be omitted). */
export type RouteBody<N extends ShopperRouteName> = Routes[N] extends { body: z.ZodType } ? z.input<Routes[N]['body']> : undefined;
/** What a route answers on success. */
export type RouteResponse<N extends ShopperRouteName> = z.infer<Routes[N]['response']>;
export type RouteQuery<N extends ShopperRouteName> = Routes[N] extends { query: z.ZodType } ? z.input<Routes[N]['query']> : undefined;

/** The contract's route table without its schemas; tsc holds each method and path to the contract's literal. */
export type RouteTable = { readonly [N in ShopperRouteName]: { readonly method: Routes[N]['method']; readonly path: Routes[N]['path']; readonly auth: Routes[N]['auth'] } };
export type ApiPrefix = typeof API_PREFIX;
export type { SANDBOX_WECHAT_PATH };

export const API_PREFIX_VALUE: ApiPrefix = '/api/v1';

export const ROUTES: RouteTable = {
  login: { method: 'POST', path: '/auth/login', auth: false },
  phone: { method: 'POST', path: '/auth/phone', auth: true },
  me: { method: 'GET', path: '/me', auth: true },
  debts: { method: 'GET', path: '/debts', auth: true },
  payDebts: { method: 'POST', path: '/debts/pay', auth: true },
  papaySign: { method: 'POST', path: '/papay/sign', auth: true },
  papayContract: { method: 'GET', path: '/papay/contract', auth: true },
  cabinet: { method: 'GET', path: '/cabinets/:cabinetId', auth: true },
  catalogue: { method: 'GET', path: '/cabinets/:cabinetId/catalogue', auth: true },
  startVisit: { method: 'POST', path: '/visits', auth: true },
  visit: { method: 'GET', path: '/visits/:sessionId', auth: true },
  checkout: { method: 'POST', path: '/checkout', auth: true },
  orders: { method: 'GET', path: '/orders', auth: true },
  order: { method: 'GET', path: '/orders/:orderId', auth: true },
  appeal: { method: 'POST', path: '/orders/:orderId/appeal', auth: true },
};

/** The contract's cabinet id rule (domain.ts CabinetId), repeated because zod does not ship; a test compares them. */
export const CABINET_ID_RE = /^[A-Za-z0-9_-]{3,40}$/;
