import { z } from 'zod';
import { CabinetId, Fen, FlowKind, Netting, Sku } from './domain';

/**
 * Shopper HTTP API v1, defined once: the service validates with these schemas, the mini-program and the
 * scripted shopper client import the same types, and the OpenAPI document is generated from them.
 * Every response that fails is `{ error: { code, message } }` with a code from ShopperErrorCode.
 * Money is integer fen. All routes but login need `Authorization: Bearer <token>`.
 */
export const API_PREFIX = '/api/v1';

export const ShopperErrorCode = z.enum([
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'NOT_FOUND',
  'RATE_LIMITED',
  'PHONE_REQUIRED',
  /** Unpaid debt blocks every new visit at every cabinet; pay it first (GET /debts). */
  'DEBT_OUTSTANDING',
  /** The fully automatic flow needs an active papay contract; sign first (POST /papay/sign). */
  'CONTRACT_REQUIRED',
  /** Offline, busy with another visit, restocking or in fault; `details.reason` says which. */
  'CABINET_UNAVAILABLE',
  'OUT_OF_STOCK',
  'CONFLICT',
  'UNAVAILABLE',
  'INTERNAL',
  /** Refusals of the HTTP layer itself, on any route, before the route runs (docs/errors.md). */
  'TOO_LARGE',
  'URI_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
  'HEADERS_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'TIMEOUT',
]);
export type ShopperErrorCode = z.infer<typeof ShopperErrorCode>;

/** A time on the wire: integer milliseconds since the Unix epoch (UTC), e.g. 1764547200000. */
export const EpochMs = z.number().int().meta({ description: 'milliseconds since the Unix epoch (UTC)', examples: [1764547200000] });

/**
 * Why a cabinet cannot take a visit now, one spelling (lower case) wherever it appears: the cabinet endpoint's
 * `unavailableReason` and `details.reason` of CABINET_UNAVAILABLE. offline: no link to the cabinet; busy: another
 * visit holds the door; restocking: an operator is restocking; fault: door, lock or camera fault; disabled:
 * taken out of service; device_refused / device_timeout: the cabinet refused or did not acknowledge the unlock.
 */
export const CabinetUnavailableReason = z.enum(['offline', 'busy', 'restocking', 'fault', 'disabled', 'device_refused', 'device_timeout']);
export type CabinetUnavailableReason = z.infer<typeof CabinetUnavailableReason>;

/** `error.details` for the codes that carry any, by code (the OpenAPI document shows each). */
export const SHOPPER_ERROR_DETAILS = {
  CABINET_UNAVAILABLE: z.object({ reason: CabinetUnavailableReason }),
  DEBT_OUTSTANDING: z.object({ debts: z.array(z.object({ debtId: z.string(), amountFen: z.number().int().nonnegative() })) }),
  OUT_OF_STOCK: z.object({ sku: z.string(), stock: z.number().int().nonnegative() }),
  RATE_LIMITED: z.object({ retryAfterMs: z.number().int().positive() }),
  BAD_REQUEST: z.object({ sku: z.string() }).partial(),
  CONFLICT: z.object({ reason: z.string(), code: z.string(), orderId: z.string(), contract: z.string() }).partial(),
  UNAVAILABLE: z.object({ code: z.string() }).partial(),
} as const satisfies Partial<Record<ShopperErrorCode, z.ZodType>>;

export const ApiError = z.object({ error: z.object({ code: ShopperErrorCode, message: z.string(), details: z.unknown().optional() }) });
export type ApiError = z.infer<typeof ApiError>;

// ---- sign-in ----

/** `wx.login` code; the server exchanges it (jscode2session) and never returns session_key. */
export const LoginRequest = z.object({ code: z.string().min(1).max(128) });
export const ShopperProfile = z.object({
  shopperId: z.string(),
  /** Masked, e.g. 138****5678; absent until the phone is authorised. */
  phone: z.string().optional(),
  hasPhone: z.boolean(),
});
export type ShopperProfile = z.infer<typeof ShopperProfile>;
export const LoginResponse = z.object({ token: z.string(), expiresAt: EpochMs, shopper: ShopperProfile });
export type LoginResponse = z.infer<typeof LoginResponse>;

/** The code from `<button open-type="getPhoneNumber">`'s bindgetphonenumber event. */
export const PhoneRequest = z.object({ code: z.string().min(1).max(128) });
export const PhoneResponse = z.object({ shopper: ShopperProfile });

// ---- me, debts, papay ----

export const DebtStatus = z.enum(['open', 'reminded', 'paid', 'waived']);
export const Debt = z.object({ debtId: z.string(), orderId: z.string(), amountFen: Fen, reason: z.string(), status: DebtStatus, createdAt: EpochMs });
export type Debt = z.infer<typeof Debt>;
export const ContractState = z.enum(['none', 'signing', 'active', 'terminated']);
export type ContractState = z.infer<typeof ContractState>;

export const MeResponse = z.object({
  shopper: ShopperProfile,
  debt: z.object({ count: z.number().int(), totalFen: Fen }),
  contract: ContractState,
});
export type MeResponse = z.infer<typeof MeResponse>;

export const DebtsResponse = z.object({ debts: z.array(Debt), totalFen: Fen });
/** papay: deduct the debts now; jsapi: pay them by WeChat Pay (returns requestPayment parameters). */
export const PayDebtsRequest = z.object({ via: z.enum(['papay', 'jsapi']) });

/**
 * Parameters for `wx.requestPayment`, exactly as the mini-program passes them, plus the appId they were signed
 * for (paySign covers `appId\ntimeStamp\nnonceStr\npackage\n`; a client outside the mini-program needs it).
 */
export const RequestPaymentParams = z.object({
  appId: z.string(),
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string(),
  signType: z.enum(['RSA', 'HMAC-SHA256', 'MD5']),
  paySign: z.string(),
});
export type RequestPaymentParams = z.infer<typeof RequestPaymentParams>;

export const PayDebtsResponse = z.discriminatedUnion('result', [
  z.object({ result: z.literal('cleared'), clearedFen: Fen }),
  z.object({ result: z.literal('pay'), orderId: z.string(), requestPayment: RequestPaymentParams }),
  z.object({ result: z.literal('refused'), reason: z.string() }),
]);
export type PayDebtsResponse = z.infer<typeof PayDebtsResponse>;

/** What the mini-program needs for `wx.navigateToMiniProgram` to the papay signing mini-program. */
export const PapaySignResponse = z.object({ appId: z.string(), path: z.string(), extraData: z.record(z.string(), z.string()), contractCode: z.string() });
export type PapaySignResponse = z.infer<typeof PapaySignResponse>;
/** Server-confirmed state (the signing mini-program's own result is only a hint). */
export const PapayContractResponse = z.object({ contract: ContractState });

// ---- cabinets ----

/** The link a cabinet's QR code carries (outside /api/v1): `https://<host>/c/<cabinetId>?flow=<open|semi|auto>`. */
export const QR_LINK_PATH = '/c/:cabinetId';

/** WeChat sandbox only: `{ baseUrl }` of the WeChat emulator, for the mini-program's development configuration. */
export const SANDBOX_WECHAT_PATH = '/__sandbox/wechat';

/** QR: https://<host>/c/<cabinetId>?flow=<open|semi|auto>; the service's record wins over the QR's flow. */
export const CabinetResponse = z.object({
  cabinetId: CabinetId,
  name: z.string(),
  kind: FlowKind,
  /** True when the QR's flow disagreed with the service's record. */
  flowCorrected: z.boolean(),
  online: z.boolean(),
  available: z.boolean(),
  unavailableReason: CabinetUnavailableReason.optional(),
});
export type CabinetResponse = z.infer<typeof CabinetResponse>;

export const CatalogueItem = z.object({ sku: Sku, name: z.string(), priceFen: Fen, laneId: z.string(), stock: z.number().int().nonnegative() });
export type CatalogueItem = z.infer<typeof CatalogueItem>;
export const CatalogueResponse = z.object({ cabinetId: CabinetId, items: z.array(CatalogueItem) });
export type CatalogueResponse = z.infer<typeof CatalogueResponse>;

// ---- visits (door cabinets) ----

export const StartVisitRequest = z.object({ cabinetId: CabinetId });
/**
 * A shopper's session state as the mini-program shows it. Terminal: paid, charged, held_for_review, debt,
 * ended_empty, relocked, failed.
 */
export const SessionState = z.enum([
  'unlocking',
  'door_open',
  'awaiting_frames',
  'recognising',
  'awaiting_payment',
  'charging',
  'paid',
  'charged',
  'held_for_review',
  'debt',
  'ended_empty',
  'relocked',
  'failed',
]);
export type SessionState = z.infer<typeof SessionState>;
export const VisitResponse = z.object({
  sessionId: z.string(),
  visitId: z.string().optional(),
  cabinetId: CabinetId,
  flow: FlowKind,
  state: SessionState,
  orderId: z.string().optional(),
  totalFen: Fen.optional(),
  message: z.string().optional(),
});
export type VisitResponse = z.infer<typeof VisitResponse>;

// ---- cart, checkout, orders ----

export const CartLine = z.object({ sku: Sku, qty: z.number().int().min(1).max(20) });
export const CheckoutRequest = z.object({
  cabinetId: CabinetId,
  /** The semi-automatic visit this cart belongs to; absent on open shelves. */
  sessionId: z.string().optional(),
  lines: z.array(CartLine).min(1).max(30),
  /** Pay-and-sign: sign papay while paying, when the shopper has no contract yet. */
  signContract: z.boolean().default(false),
});
export type CheckoutRequest = z.input<typeof CheckoutRequest>;
export const CheckoutResponse = z.object({
  orderId: z.string(),
  totalFen: Fen,
  requestPayment: RequestPaymentParams,
  /** True when the payment also signs papay (WeChat's contractorder). */
  payAndSign: z.boolean(),
});
export type CheckoutResponse = z.infer<typeof CheckoutResponse>;

export const OrderStatus = z.enum(['draft', 'held_for_review', 'awaiting_payment', 'paid', 'debt', 'waived', 'cancelled', 'partially_refunded', 'refunded']);
export const OrderLine = z.object({ sku: Sku, name: z.string(), qty: z.number().int(), unitPriceFen: Fen, amountFen: Fen });
export const Order = z.object({
  orderId: z.string(),
  cabinetId: CabinetId,
  flow: FlowKind,
  status: OrderStatus,
  lines: z.array(OrderLine),
  totalFen: Fen,
  paidFen: Fen,
  refundedFen: Fen,
  createdAt: EpochMs,
  /** The moment the lines were priced at: the door's close for a visit, the checkout for a cart (the receipt says so). */
  pricedAt: EpochMs.optional(),
  /** How the order was built, for the receipt: the cart, recognition, or an operator's review. */
  source: z.enum(['cart', 'recognition', 'review']),
  evidence: z.object({ frames: z.number().int(), confidence: z.number().min(0).max(1).optional(), reviewed: z.boolean() }).optional(),
  appeal: z.object({ status: z.enum(['open', 'decided']), reason: z.string() }).optional(),
  /** A reviewed visit's pending order: what was paid, what was decided, and the difference it bills. */
  netting: Netting.optional(),
});
export type Order = z.infer<typeof Order>;
export const OrdersResponse = z.object({ orders: z.array(Order) });
export const AppealRequest = z.object({ reason: z.string().min(2).max(500) });
export const AppealResponse = z.object({ orderId: z.string(), appeal: z.object({ status: z.enum(['open', 'decided']), reason: z.string() }) });

/** Route table: method, path and the schemas on each side; the OpenAPI generator and the client walk it. */
export const SHOPPER_ROUTES = {
  login: { method: 'POST', path: '/auth/login', body: LoginRequest, response: LoginResponse, auth: false },
  phone: { method: 'POST', path: '/auth/phone', body: PhoneRequest, response: PhoneResponse, auth: true },
  me: { method: 'GET', path: '/me', response: MeResponse, auth: true },
  debts: { method: 'GET', path: '/debts', response: DebtsResponse, auth: true },
  payDebts: { method: 'POST', path: '/debts/pay', body: PayDebtsRequest, response: PayDebtsResponse, auth: true },
  papaySign: { method: 'POST', path: '/papay/sign', response: PapaySignResponse, auth: true },
  papayContract: { method: 'GET', path: '/papay/contract', response: PapayContractResponse, auth: true },
  cabinet: { method: 'GET', path: '/cabinets/:cabinetId', query: z.object({ flow: FlowKind.optional() }), response: CabinetResponse, auth: true },
  catalogue: { method: 'GET', path: '/cabinets/:cabinetId/catalogue', response: CatalogueResponse, auth: true },
  startVisit: { method: 'POST', path: '/visits', body: StartVisitRequest, response: VisitResponse, auth: true, status: 201 },
  visit: { method: 'GET', path: '/visits/:sessionId', response: VisitResponse, auth: true },
  checkout: { method: 'POST', path: '/checkout', body: CheckoutRequest, response: CheckoutResponse, auth: true },
  orders: { method: 'GET', path: '/orders', response: OrdersResponse, auth: true },
  order: { method: 'GET', path: '/orders/:orderId', response: Order, auth: true },
  appeal: { method: 'POST', path: '/orders/:orderId/appeal', body: AppealRequest, response: AppealResponse, auth: true },
} as const;
export type ShopperRouteName = keyof typeof SHOPPER_ROUTES;
