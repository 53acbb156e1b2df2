import type { RouteBody, RouteResponse, ShopperErrorCode, ShopperRouteName, FlowKind, CheckoutRequest } from './wire';
import { API_PREFIX_VALUE, ROUTES } from './wire';

/** One HTTP exchange; the wx.request wrapper in production, a fake server in tests. Rejects only on transport failure. */
export type RequestFn = (req: { method: 'GET' | 'POST'; url: string; data?: unknown; header: Record<string, string> }) => Promise<{ statusCode: number; data: unknown }>;

/** A failed call: a contract error code, or NETWORK when the request never got an answer (weak signal). */
export interface ApiFailure {
  code: ShopperErrorCode | 'NETWORK';
  message: string;
  status?: number;
  details?: unknown;
}
/** Expected failures come back as values; pages branch on `code`. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiFailure };

export interface ApiOptions {
  /** e.g. https://fleet.example.com — the prefix /api/v1 is added here. */
  baseUrl: string;
  request: RequestFn;
  /** The current bearer token, if any. */
  token(): string | undefined;
  /** Called once on a 401 for an authenticated route; resolves true when a fresh token is in place. */
  relogin?(): Promise<boolean>;
}

const KNOWN_CODES: readonly string[] = [
  'BAD_REQUEST', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED', 'PHONE_REQUIRED', 'DEBT_OUTSTANDING',
  'CONTRACT_REQUIRED', 'CABINET_UNAVAILABLE', 'OUT_OF_STOCK', 'CONFLICT', 'UNAVAILABLE', 'INTERNAL',
];

function failureFrom(status: number, data: unknown): ApiFailure {
  const err = (data as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const code = typeof err?.code === 'string' && KNOWN_CODES.includes(err.code) ? (err.code as ShopperErrorCode) : status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL';
  const failure: ApiFailure = { code, status, message: typeof err?.message === 'string' ? err.message : `HTTP ${status}` };
  if (err?.details !== undefined) failure.details = err.details;
  return failure;
}

function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, k: string) => encodeURIComponent(params[k] ?? ''));
}

export type ShopperApi = ReturnType<typeof createApi>;

/** The shopper API client: one method per route of contracts/shopper-api.ts, typed from it. */
export function createApi(opts: ApiOptions) {
  async function call<N extends ShopperRouteName>(
    name: N,
    args: { params?: Record<string, string>; body?: RouteBody<N>; query?: Record<string, string | undefined>; idempotencyKey?: string } = {},
    retried = false,
  ): Promise<ApiResult<RouteResponse<N>>> {
    const route = ROUTES[name];
    let url = opts.baseUrl + API_PREFIX_VALUE + fillPath(route.path, args.params ?? {});
    const qs = Object.entries(args.query ?? {})
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    if (qs) url += `?${qs}`;
    const header: Record<string, string> = { 'content-type': 'application/json' };
    const token = opts.token();
    if (route.auth && token) header['authorization'] = `Bearer ${token}`;
    // Checkout and debt payment: the same key makes a retry after a lost reply the same order and prepay.
    if (args.idempotencyKey) header['idempotency-key'] = args.idempotencyKey;
    let res: { statusCode: number; data: unknown };
    try {
      res = await opts.request(route.method === 'POST' ? { method: 'POST', url, data: args.body ?? {}, header } : { method: 'GET', url, header });
    } catch (e) {
      return { ok: false, error: { code: 'NETWORK', message: e instanceof Error ? e.message : String(e) } };
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, value: res.data as RouteResponse<N> };
    if (res.statusCode === 401 && route.auth && !retried && opts.relogin && (await opts.relogin())) return call(name, args, true);
    return { ok: false, error: failureFrom(res.statusCode, res.data) };
  }

  return {
    login: (code: string) => call('login', { body: { code } }),
    phone: (code: string) => call('phone', { body: { code } }),
    me: () => call('me'),
    debts: () => call('debts'),
    payDebts: (via: 'papay' | 'jsapi', idempotencyKey?: string) => call('payDebts', { body: { via }, ...(idempotencyKey ? { idempotencyKey } : {}) }),
    papaySign: () => call('papaySign'),
    papayContract: () => call('papayContract'),
    cabinet: (cabinetId: string, flow?: FlowKind) => call('cabinet', { params: { cabinetId }, query: { flow } }),
    catalogue: (cabinetId: string) => call('catalogue', { params: { cabinetId } }),
    startVisit: (cabinetId: string) => call('startVisit', { body: { cabinetId } }),
    visit: (sessionId: string) => call('visit', { params: { sessionId } }),
    checkout: (req: CheckoutRequest, idempotencyKey?: string) => call('checkout', { body: req, ...(idempotencyKey ? { idempotencyKey } : {}) }),
    orders: () => call('orders'),
    order: (orderId: string) => call('order', { params: { orderId } }),
    appeal: (orderId: string, reason: string) => call('appeal', { params: { orderId }, body: { reason } }),
  };
}
