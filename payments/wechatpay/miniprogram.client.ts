import { systemClock, type Clock } from '../../common/clock';
import type { WechatConfig } from './wechat.config';

/**
 * The mini-program server APIs (api.weixin.qq.com): login, phone number, subscribe messages. Answers are
 * HTTP 200 with `errcode` in the body; they become result unions.
 */
export type MpResult<T> = { ok: true; value: T } | { ok: false; errcode: number; errmsg: string };

export class MiniProgramClient {
  private token: { value: string; expiresAt: number } | undefined;
  private readonly clock: Clock;

  constructor(private readonly opts: { config: WechatConfig; clock?: Clock }) {
    this.clock = opts.clock ?? systemClock;
  }

  private async call<T>(path: string, init?: { method: 'POST'; body: unknown }): Promise<MpResult<T>> {
    try {
      const res = await fetch(`${this.opts.config.apiBaseUrl}${path}`, {
        method: init?.method ?? 'GET',
        ...(init ? { body: JSON.stringify(init.body), headers: { 'Content-Type': 'application/json' } } : {}),
        signal: AbortSignal.timeout(this.opts.config.requestTimeoutMs),
      });
      const body = (await res.json()) as { errcode?: number; errmsg?: string };
      if (body.errcode) return { ok: false, errcode: body.errcode, errmsg: body.errmsg ?? '' };
      return { ok: true, value: body as T };
    } catch (e) {
      return { ok: false, errcode: -1, errmsg: String((e as Error).message ?? e) };
    }
  }

  async code2session(jsCode: string): Promise<MpResult<{ openid: string; session_key: string; unionid?: string }>> {
    const c = this.opts.config;
    const q = new URLSearchParams({ appid: c.appid, secret: c.appSecret, js_code: jsCode, grant_type: 'authorization_code' });
    return this.call(`/sns/jscode2session?${q.toString()}`);
  }

  /** cgi-bin/token, cached until 5 minutes before it expires. */
  async accessToken(): Promise<MpResult<string>> {
    if (this.token && this.token.expiresAt > this.clock.now()) return { ok: true, value: this.token.value };
    const c = this.opts.config;
    const q = new URLSearchParams({ grant_type: 'client_credential', appid: c.appid, secret: c.appSecret });
    const r = await this.call<{ access_token: string; expires_in: number }>(`/cgi-bin/token?${q.toString()}`);
    if (!r.ok) return r;
    this.token = { value: r.value.access_token, expiresAt: this.clock.now() + (r.value.expires_in - 300) * 1000 };
    return { ok: true, value: r.value.access_token };
  }

  private async withToken<T>(path: string, body: unknown): Promise<MpResult<T>> {
    const t = await this.accessToken();
    if (!t.ok) return t;
    const r = await this.call<T>(`${path}?access_token=${encodeURIComponent(t.value)}`, { method: 'POST', body });
    if (!r.ok && (r.errcode === 40001 || r.errcode === 42001)) this.token = undefined;
    return r;
  }

  async phoneNumber(code: string): Promise<MpResult<{ phone_info: { phoneNumber: string; purePhoneNumber: string; countryCode: string } }>> {
    return this.withToken('/wxa/business/getuserphonenumber', { code });
  }

  /** 43101: the shopper has no subscription quota left for this template (an expected outcome). */
  async sendSubscribeMessage(msg: { touser: string; templateId: string; page?: string; data: Record<string, string> }): Promise<MpResult<void>> {
    const data = Object.fromEntries(Object.entries(msg.data).map(([k, v]) => [k, { value: v }]));
    return this.withToken('/cgi-bin/message/subscribe/send', { touser: msg.touser, template_id: msg.templateId, ...(msg.page ? { page: msg.page } : {}), data, miniprogram_state: this.opts.config.mode === 'live' ? 'formal' : 'developer', lang: 'zh_CN' });
  }
}
