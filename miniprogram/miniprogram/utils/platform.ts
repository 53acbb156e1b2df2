import type { RequestFn } from './api';
import { classifyPayment, type Platform } from './platform.port';

export { classifyPayment, type PayOutcome, type Platform } from './platform.port';

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
