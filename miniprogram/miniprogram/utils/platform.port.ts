/**
 * The mini-program's port to WeChat (what the pages need from it), free of the `wx` global, so the same code runs
 * under WeChat (utils/platform.ts), on the service's sandbox (utils/sandbox-platform.ts) and in Node.
 */
import type { RequestPaymentParams } from './wire';

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

