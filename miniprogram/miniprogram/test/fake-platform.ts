import type { Platform, PayOutcome } from '../utils/platform';
import type { RequestPaymentParams } from '../utils/wire';

/**
 * A recording stand-in for WeChat. `pay` decides what wx.requestPayment answers, and `onPay` lets a test make
 * the server see (or not see) the payment, since only the server's state counts.
 */
export class FakePlatform implements Platform {
  nav: { how: 'navigateTo' | 'redirectTo' | 'reLaunch' | 'navigateBack'; url?: string }[] = [];
  payments: RequestPaymentParams[] = [];
  subscribes: string[][] = [];
  /** Interleaving of effects, to assert e.g. that a subscribe prompt came before the unlock request. */
  events: string[] = [];
  toasts: string[] = [];
  miniPrograms: { appId: string; path: string; extraData: Record<string, string> }[] = [];
  storage = new Map<string, unknown>();
  slept: number[] = [];
  pay: PayOutcome = { kind: 'ok' };
  onPay: (p: RequestPaymentParams) => void = () => {};
  scan: { result?: string; path?: string } | undefined;
  loginCode = 'wx-login-code';
  clock = 1_700_000_000_000;

  async login(): Promise<string> {
    this.events.push('login');
    return this.loginCode;
  }
  async requestPayment(p: RequestPaymentParams, hooks?: { onOk?: () => void }): Promise<PayOutcome> {
    this.events.push('requestPayment');
    this.payments.push(p);
    if (this.pay.kind === 'ok') this.onPay(p);
    if (this.pay.kind === 'ok') hooks?.onOk?.();
    return this.pay;
  }
  async requestSubscribe(tmplIds: string[]): Promise<Record<string, string> | undefined> {
    this.events.push('subscribe');
    this.subscribes.push(tmplIds);
    return Object.fromEntries(tmplIds.map((id) => [id, 'accept']));
  }
  navigateTo(url: string): void {
    this.nav.push({ how: 'navigateTo', url });
  }
  redirectTo(url: string): void {
    this.nav.push({ how: 'redirectTo', url });
  }
  reLaunch(url: string): void {
    this.nav.push({ how: 'reLaunch', url });
  }
  navigateBack(): void {
    this.nav.push({ how: 'navigateBack' });
  }
  async navigateToMiniProgram(o: { appId: string; path: string; extraData: Record<string, string> }): Promise<boolean> {
    this.events.push('navigateToMiniProgram');
    this.miniPrograms.push(o);
    return true;
  }
  async scanCode() {
    return this.scan;
  }
  toast(title: string): void {
    this.toasts.push(title);
  }
  storageGet(key: string): unknown {
    return this.storage.has(key) ? this.storage.get(key) : '';
  }
  storageSet(key: string, value: unknown): void {
    this.storage.set(key, value);
  }
  storageRemove(key: string): void {
    this.storage.delete(key);
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.clock += ms;
  }
  now(): number {
    return this.clock;
  }
  /** The last navigation, as "how url". */
  lastNav(): string | undefined {
    const n = this.nav[this.nav.length - 1];
    return n && `${n.how} ${n.url ?? ''}`.trim();
  }
}
