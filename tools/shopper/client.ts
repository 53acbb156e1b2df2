import { API_PREFIX, ApiError, SHOPPER_ROUTES, type ShopperRouteName } from '../../contracts/shopper-api';
import type { z } from 'zod';
import { reach } from '../../common/cli';

const SERVICE_SET_BY = '--url, else DATA_DIR/demo.json';
const EMULATOR_SET_BY = '--wechat-url, else DATA_DIR/demo.json';

/**
 * A scripted shopper: the mini-program's server calls (the same route table and zod schemas) plus the parts
 * the shopper's WeChat client plays, taken from the WeChat emulator's control API — log-in and phone codes,
 * `wx.requestPayment`, the papay signing mini-program, revoking the contract in WeChat. Used by the e2e
 * tests and by `npm run shopper` for the demo.
 */

type Route = (typeof SHOPPER_ROUTES)[ShopperRouteName];
type ResponseOf<N extends ShopperRouteName> = (typeof SHOPPER_ROUTES)[N] extends { response: infer R extends z.ZodType } ? z.infer<R> : never;
type BodyOf<N extends ShopperRouteName> = (typeof SHOPPER_ROUTES)[N] extends { body: infer B extends z.ZodType } ? z.input<B> : undefined;

/** A refused call: the service's stable code and message. */
export class ShopperApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface ShopperClientOptions {
  /** The service, e.g. http://127.0.0.1:8080 */
  apiUrl: string;
  /** The WeChat emulator (sandbox), for the shopper's WeChat client side. */
  wechatUrl: string;
  openid?: string;
  phone?: string;
}

export class ShopperClient {
  token: string | undefined;
  openid: string | undefined;
  shopperId: string | undefined;

  constructor(private readonly o: ShopperClientOptions) {}

  /** Calls a shopper route; path parameters fill `:name` segments. Throws ShopperApiError when refused. */
  async call<N extends ShopperRouteName>(name: N, opts: { params?: Record<string, string>; query?: Record<string, string>; body?: BodyOf<N> } = {}): Promise<ResponseOf<N>> {
    const route: Route = SHOPPER_ROUTES[name];
    let path = route.path as string;
    for (const [k, v] of Object.entries(opts.params ?? {})) path = path.replace(`:${k}`, encodeURIComponent(v));
    const qs = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
    const init = {
      method: route.method,
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    };
    const res = await reach(`${this.o.apiUrl}${API_PREFIX}${path}${qs}`, init, SERVICE_SET_BY);
    const json: unknown = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = ApiError.safeParse(json);
      if (err.success) throw new ShopperApiError(res.status, err.data.error.code, err.data.error.message, err.data.error.details);
      throw new ShopperApiError(res.status, 'INTERNAL', JSON.stringify(json));
    }
    // Validate the answer against the contract, as the mini-program relies on it.
    return route.response.parse(json) as ResponseOf<N>;
  }

  private async wechat<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    const res = await reach(`${this.o.wechatUrl}/__control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, EMULATOR_SET_BY);
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`WeChat emulator ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** wx.login + POST /auth/login, then the phone button + POST /auth/phone. */
  async signIn(): Promise<void> {
    const { code, openid } = await this.wechat<{ code: string; openid: string }>('login-code', this.o.openid ? { openid: this.o.openid } : {});
    const login = await this.call('login', { body: { code } });
    this.token = login.token;
    this.openid = openid;
    this.shopperId = login.shopper.shopperId;
    const phone = await this.wechat<{ code: string }>('phone-code', { openid, ...(this.o.phone ? { phone: this.o.phone } : {}) });
    await this.call('phone', { body: { code: phone.code } });
  }

  /** wx.requestPayment with the parameters the service returned (appId included): the emulator verifies paySign and pays. */
  async requestPayment(params: { appId: string; timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string }): Promise<void> {
    await this.wechat('pay', params);
  }

  /** POST /papay/sign, then the signing mini-program (the emulator) confirms the contract. */
  async signPapay(): Promise<void> {
    const sign = await this.call('papaySign');
    await this.wechat('papay/sign', { openid: this.openid, extraData: sign.extraData });
  }

  /** The shopper revokes password-free payment inside WeChat. */
  async revokePapay(contractId: string): Promise<void> {
    await this.wechat('papay/revoke', { contract_id: contractId });
  }

  /** Polls the visit until `done` holds (or the time is up; then the last answer is returned). */
  waitVisit(sessionId: string, done: (v: ResponseOf<'visit'>) => boolean, timeoutMs = 30_000): Promise<ResponseOf<'visit'>> {
    return pollUntil(() => this.call('visit', { params: { sessionId } }), done, timeoutMs);
  }

  /** Polls an order until `done` holds (or the time is up). */
  waitOrder(orderId: string, done: (o: ResponseOf<'order'>) => boolean, timeoutMs = 30_000): Promise<ResponseOf<'order'>> {
    return pollUntil(() => this.call('order', { params: { orderId } }), done, timeoutMs);
  }
}

async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
