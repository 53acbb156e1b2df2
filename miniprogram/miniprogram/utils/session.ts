import type { ShopperApi, ApiResult } from './api';
import type { Platform } from './platform.port';
import type { ShopperProfile } from './wire';

const KEY = 'shopper.session';
/** Renew a little early so a request never leaves with a token that expires in flight. */
const EARLY_MS = 60_000;

export interface StoredSession {
  token: string;
  expiresAt: number;
}

/** The bearer token, mirrored in memory because wx storage is slow and synchronous. */
export class TokenStore {
  private cached: StoredSession | undefined;
  private loaded = false;
  constructor(private readonly platform: Pick<Platform, 'storageGet' | 'storageSet' | 'storageRemove' | 'now'>) {}

  current(): StoredSession | undefined {
    if (!this.loaded) {
      this.loaded = true;
      const raw = this.platform.storageGet(KEY) as Partial<StoredSession> | '' | undefined;
      if (raw && typeof raw === 'object' && typeof raw.token === 'string' && typeof raw.expiresAt === 'number') this.cached = { token: raw.token, expiresAt: raw.expiresAt };
    }
    return this.cached;
  }
  /** A token that is still good for at least a minute. */
  valid(): string | undefined {
    const s = this.current();
    return s && s.expiresAt - EARLY_MS > this.platform.now() ? s.token : undefined;
  }
  save(s: StoredSession): void {
    this.cached = s;
    this.loaded = true;
    this.platform.storageSet(KEY, s);
  }
  clear(): void {
    this.cached = undefined;
    this.loaded = true;
    this.platform.storageRemove(KEY);
  }
}

/** wx.login → POST /auth/login; the server keeps session_key, the mini-program only sees the token. */
export async function login(api: ShopperApi, platform: Pick<Platform, 'login'>, tokens: TokenStore): Promise<ApiResult<ShopperProfile>> {
  let code: string;
  try {
    code = await platform.login();
  } catch (e) {
    return { ok: false, error: { code: 'NETWORK', message: e instanceof Error ? e.message : String(e) } };
  }
  const r = await api.login(code);
  if (!r.ok) return r;
  tokens.save({ token: r.value.token, expiresAt: r.value.expiresAt });
  return { ok: true, value: r.value.shopper };
}

/** Logs in only when no usable token is stored. */
export async function ensureSession(api: ShopperApi, platform: Pick<Platform, 'login'>, tokens: TokenStore): Promise<ApiResult<true>> {
  if (tokens.valid()) return { ok: true, value: true };
  const r = await login(api, platform, tokens);
  return r.ok ? { ok: true, value: true } : r;
}
