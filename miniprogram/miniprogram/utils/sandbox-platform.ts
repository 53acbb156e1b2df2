import type { RequestFn } from './api';
import { classifyPayment, type Platform } from './platform.port';
import type { SANDBOX_WECHAT_PATH } from './wire';

/** The service's sandbox route (contracts/shopper-api.ts), repeated as a value; tsc holds it to the contract's. */
export const SANDBOX_WECHAT_PATH_VALUE: typeof SANDBOX_WECHAT_PATH = '/__sandbox/wechat';
const OPENID_KEY = 'sandbox.openid';

/**
 * The development configuration's WeChat: in DevTools against `npm start` (WECHAT_MODE=sandbox) there is no real
 * WeChat account behind the tourist appid, so the shopper's WeChat client is played on the service's WeChat
 * emulator (its `/__control/*` API, found through the service) — as `npm run shopper` does. Log-in codes, the
 * phone code, payment, papay signing and subscribe consent come from the emulator; everything else is `base`.
 * The shopper stays the same across launches (its emulated openid is kept in storage).
 */
export function sandboxPlatform(base: Platform, request: RequestFn, apiBaseUrl: string): Platform {
  let emulator: Promise<string> | undefined;
  const emulatorUrl = (): Promise<string> =>
    (emulator ??= request({ method: 'GET', url: `${apiBaseUrl}${SANDBOX_WECHAT_PATH_VALUE}`, header: {} }).then((r) => {
      const url = (r.data as { baseUrl?: unknown } | undefined)?.baseUrl;
      if (r.statusCode !== 200 || typeof url !== 'string') {
        emulator = undefined;
        throw new Error(`no WeChat sandbox at ${apiBaseUrl} (start the service with npm start, WECHAT_MODE=sandbox)`);
      }
      return url;
    }));
  const control = async (path: string, data: Record<string, unknown>): Promise<{ statusCode: number; data: Record<string, unknown> }> => {
    const r = await request({ method: 'POST', url: `${await emulatorUrl()}/__control/${path}`, data, header: { 'content-type': 'application/json' } });
    return { statusCode: r.statusCode, data: (r.data ?? {}) as Record<string, unknown> };
  };
  const openid = (): string | undefined => {
    const v = base.storageGet(OPENID_KEY);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  return {
    ...base,
    async login() {
      const known = openid();
      const r = await control('login-code', known ? { openid: known } : {});
      if (typeof r.data['openid'] === 'string') base.storageSet(OPENID_KEY, r.data['openid']);
      if (typeof r.data['code'] !== 'string') throw new Error('the WeChat sandbox gave no login code');
      return r.data['code'];
    },
    async phoneCode() {
      const r = await control('phone-code', { openid: openid() });
      return typeof r.data['code'] === 'string' ? r.data['code'] : undefined;
    },
    async requestPayment(p, hooks) {
      const r = await control('pay', { ...p });
      const outcome = classifyPayment(r.statusCode === 200 ? String(r.data['errMsg']) : `requestPayment:fail ${JSON.stringify(r.data)}`);
      if (outcome.kind === 'ok') hooks?.onOk?.();
      return outcome;
    },
    async requestSubscribe(tmplIds) {
      const answers: Record<string, string> = {};
      for (const templateId of tmplIds) Object.assign(answers, (await control('subscribe', { openid: openid(), templateId })).data);
      return answers;
    },
    async navigateToMiniProgram(o) {
      // The papay signing mini-program: the emulator signs and notifies the service, which is what counts.
      return (await control('papay/sign', { openid: openid(), extraData: o.extraData })).statusCode === 200;
    },
  };
}
