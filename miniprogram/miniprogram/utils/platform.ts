import type { RequestPaymentParams } from './wire';
import type { RequestFn } from './api';

/** How wx.requestPayment ended on the phone. Only a hint: the server's order state decides. */
export type PayOutcome = { kind: 'ok' } | { kind: 'cancel' } | { kind: 'fail'; errMsg: string };

/** `requestPayment:ok`, `requestPayment:fail cancel`, or `requestPayment:fail <detail>`. */
export function classifyPayment(errMsg: string | undefined): PayOutcome {
  if (errMsg === 'requestPayment:ok') return { kind: 'ok' };
  if (errMsg !== undefined && /cancel/.test(errMsg)) return { kind: 'cancel' };
  return { kind: 'fail', errMsg: errMsg ?? 'requestPayment:fail' };
}

/**
 * Everything the pages need from WeChat, behind one port so tests substitute a recording fake and pages stay
 * free of callback plumbing. Clock included: no page calls setTimeout or Date.now directly.
 */
export interface Platform {
  login(): Promise<string>;
  /**
   * Development only (utils/sandbox-platform.ts): a phone code when the phone button cannot give one, as in
   * DevTools with the tourist appid. Absent on the real platform, where only the button yields the code.
   */
  phoneCode?(): Promise<string | undefined>;
  /** `onOk` runs inside WeChat's success callback, the only moment (besides a tap) a subscribe prompt is allowed. */
  requestPayment(p: RequestPaymentParams, hooks?: { onOk?: () => void }): Promise<PayOutcome>;
  /** Never rejects: a refused or failed prompt must not block the action it rides on. */
  requestSubscribe(tmplIds: string[]): Promise<Record<string, string> | undefined>;
  navigateTo(url: string): void;
  redirectTo(url: string): void;
  reLaunch(url: string): void;
  navigateBack(): void;
  navigateToMiniProgram(o: { appId: string; path: string; extraData: Record<string, string> }): Promise<boolean>;
  scanCode(): Promise<{ result?: string; path?: string } | undefined>;
  toast(title: string): void;
  storageGet(key: string): unknown;
  storageSet(key: string, value: unknown): void;
  storageRemove(key: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export function wxRequest(timeoutMs = 10_000): RequestFn {
  return (req) =>
    new Promise((resolve, reject) => {
      wx.request({
        url: req.url,
        method: req.method,
        header: req.header,
        timeout: timeoutMs,
        ...(req.data !== undefined ? { data: req.data as WechatMiniprogram.IAnyObject } : {}),
        success: (r) => resolve({ statusCode: r.statusCode, data: r.data }),
        fail: (e) => reject(new Error(e.errMsg)),
      });
    });
}

/** The real thing, over the `wx` global. */
export const wxPlatform: Platform = {
  login: () =>
    new Promise((resolve, reject) => {
      wx.login({ success: (r) => (r.code ? resolve(r.code) : reject(new Error('wx.login returned no code'))), fail: (e) => reject(new Error(e.errMsg)) });
    }),
  requestPayment: (p, hooks) =>
    new Promise((resolve) => {
      wx.requestPayment({
        timeStamp: p.timeStamp,
        nonceStr: p.nonceStr,
        package: p.package,
        signType: p.signType,
        paySign: p.paySign,
        success: (r) => {
          hooks?.onOk?.();
          resolve(classifyPayment(r.errMsg));
        },
        fail: (e) => resolve(classifyPayment(e.errMsg)),
      });
    }),
  requestSubscribe: (tmplIds) =>
    new Promise((resolve) => {
      if (tmplIds.length === 0) return resolve(undefined);
      wx.requestSubscribeMessage({
        tmplIds,
        success: (r) => resolve(r as unknown as Record<string, string>),
        fail: () => resolve(undefined),
      });
    }),
  navigateTo: (url) => void wx.navigateTo({ url }),
  redirectTo: (url) => void wx.redirectTo({ url }),
  reLaunch: (url) => void wx.reLaunch({ url }),
  navigateBack: () => void wx.navigateBack({}),
  navigateToMiniProgram: (o) =>
    new Promise((resolve) => {
      wx.navigateToMiniProgram({ appId: o.appId, path: o.path, extraData: o.extraData, success: () => resolve(true), fail: () => resolve(false) });
    }),
  scanCode: () =>
    new Promise((resolve) => {
      wx.scanCode({
        onlyFromCamera: true,
        success: (r) => resolve({ result: r.result, path: r.path }),
        fail: () => resolve(undefined),
      });
    }),
  toast: (title) => void wx.showToast({ title, icon: 'none' }),
  storageGet: (key) => wx.getStorageSync(key),
  storageSet: (key, value) => wx.setStorageSync(key, value),
  storageRemove: (key) => wx.removeStorageSync(key),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};
