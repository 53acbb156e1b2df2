import { systemClock, type Clock } from '../../common/clock';
import type { WechatConfig } from './wechat.config';

/**
 * The mini-program server APIs (api.weixin.qq.com): access token (stable_token), login, phone number,
 * subscribe messages, mini-program codes. Answers are HTTP 200 with `errcode` in the body; they become
 * result unions.
 */
export type MpResult<T> = { ok: true; value: T } | { ok: false; errcode: number; errmsg: string };

export class MiniProgramClient {
  private token: { value: string; expiresAt: number } | undefined;
  /** Set when WeChat called our token invalid: the next stable_token call forces a new one. */
  private forceRefresh = false;
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

  /**
   * The access token from cgi-bin/stable_token (WeChat's recommended token API: several servers asking
   * get the same token instead of invalidating each other's, as cgi-bin/token does), cached until 5
   * minutes before it expires. After WeChat refused it (40001/42001) the next call forces a refresh.
   */
  async accessToken(): Promise<MpResult<string>> {
    if (this.token && this.token.expiresAt > this.clock.now()) return { ok: true, value: this.token.value };
    const c = this.opts.config;
    const r = await this.call<{ access_token: string; expires_in: number }>('/cgi-bin/stable_token', { method: 'POST', body: { grant_type: 'client_credential', appid: c.appid, secret: c.appSecret, force_refresh: this.forceRefresh } });
    if (!r.ok) return r;
    this.forceRefresh = false;
    this.token = { value: r.value.access_token, expiresAt: this.clock.now() + (r.value.expires_in - 300) * 1000 };
    return { ok: true, value: r.value.access_token };
  }

  private async withToken<T>(path: string, body: unknown): Promise<MpResult<T>> {
    const t = await this.accessToken();
    if (!t.ok) return t;
    const r = await this.call<T>(`${path}?access_token=${encodeURIComponent(t.value)}`, { method: 'POST', body });
    if (!r.ok) this.noteRefusal(r.errcode);
    return r;
  }

  /** 40001/42001: WeChat no longer takes our token; drop it and force a fresh one next time. */
  private noteRefusal(errcode: number): void {
    if (errcode !== 40001 && errcode !== 42001) return;
    this.token = undefined;
    this.forceRefresh = true;
  }

  /**
   * wxa/getwxacodeunlimit: the image of a mini-program code opening `page` with `scene` (≤ 32 characters
   * of digits, letters and !#$&'()*+,/:;=?@-._~; the page sees it as `query.scene`). WeChat answers the
   * image, or a JSON error (40129 bad scene, 41030 bad page).
   */
  async wxacodeUnlimit(input: { scene: string; page: string; width?: number; checkPath?: boolean; envVersion?: 'release' | 'trial' | 'develop' }): Promise<MpResult<{ image: Buffer; contentType: string }>> {
    const t = await this.accessToken();
    if (!t.ok) return t;
    const body = { scene: input.scene, page: input.page, width: input.width ?? 430, check_path: input.checkPath ?? this.opts.config.mode === 'live', env_version: input.envVersion ?? (this.opts.config.mode === 'live' ? 'release' : 'develop') };
    try {
      const res = await fetch(`${this.opts.config.apiBaseUrl}/wxa/getwxacodeunlimit?access_token=${encodeURIComponent(t.value)}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(this.opts.config.requestTimeoutMs) });
      const contentType = res.headers.get('content-type') ?? '';
      const bytes = Buffer.from(await res.arrayBuffer());
      if (contentType.includes('json') || bytes[0] === 0x7b) {
        const e = JSON.parse(bytes.toString('utf8')) as { errcode?: number; errmsg?: string };
        this.noteRefusal(e.errcode ?? -1);
        return { ok: false, errcode: e.errcode ?? -1, errmsg: e.errmsg ?? '' };
      }
      return { ok: true, value: { image: bytes, contentType: contentType || 'image/jpeg' } };
    } catch (e) {
      return { ok: false, errcode: -1, errmsg: String((e as Error).message ?? e) };
    }
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
