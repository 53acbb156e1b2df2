/**
 * The mini-program's own client code against the real service and its WeChat sandbox, as WeChat DevTools runs it
 * with the development configuration (issue M): `buildServices` over `sandboxPlatform` — log-in and phone codes,
 * payment and consent played on the emulator found through the service's `/__sandbox/wechat` — with Node's fetch
 * standing in for `wx.request`. What the pages show is taken from the mini-program's own texts, so a reason the
 * service sends that the mini-program does not map shows up here as the generic text.
 */
import { systemClock } from '../common/clock';
import type { RequestFn } from '../miniprogram/miniprogram/utils/api';
import { developmentConfig } from '../miniprogram/miniprogram/utils/config';
import { payAndConfirm } from '../miniprogram/miniprogram/utils/pay-flow';
import type { Platform } from '../miniprogram/miniprogram/utils/platform.port';
import { sandboxPlatform } from '../miniprogram/miniprogram/utils/sandbox-platform';
import { buildServices, type Services } from '../miniprogram/miniprogram/utils/services.build';
import { login } from '../miniprogram/miniprogram/utils/session';
import { CABINET_UNAVAILABLE_TEXT, failureText } from '../miniprogram/miniprogram/utils/texts';
import { startTestService } from '../test/service-kit';

jest.setTimeout(120_000);

type Svc = Awaited<ReturnType<typeof startTestService>>;
let svc: Svc;

/** wx.request's contract over fetch: JSON both ways, rejects only when no answer came. */
const request: RequestFn = async (req) => {
  const res = await fetch(req.url, { method: req.method, headers: { ...req.header, ...(req.data !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(req.data !== undefined ? { body: JSON.stringify(req.data) } : {}) });
  const text = await res.text();
  let data: unknown = text;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: wx.request hands the text over as it is
  }
  return { statusCode: res.status, data };
};

/** The phone's side that is not WeChat's: storage, clock, navigation (recorded, not followed). */
function phone(): Platform & { visited: string[] } {
  const storage = new Map<string, unknown>();
  const visited: string[] = [];
  const refuse = (what: string) => () => {
    throw new Error(`${what} is played by the sandbox, not the phone`);
  };
  return {
    visited,
    login: refuse('login'),
    requestPayment: refuse('requestPayment'),
    requestSubscribe: async () => undefined,
    navigateTo: (url) => void visited.push(url),
    redirectTo: (url) => void visited.push(url),
    reLaunch: (url) => void visited.push(url),
    navigateBack: () => undefined,
    navigateToMiniProgram: async () => false,
    scanCode: async () => undefined,
    toast: () => undefined,
    storageGet: (k) => storage.get(k) ?? '',
    storageSet: (k, v) => void storage.set(k, v),
    storageRemove: (k) => void storage.delete(k),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => systemClock.now(),
  };
}

function miniProgram(): Services {
  return buildServices(sandboxPlatform(phone(), request, svc.url), request, { ...developmentConfig, apiBaseUrl: svc.url, pollDelaysMs: [200, 500, 1000, 1000, 2000, 2000, 3000] });
}

beforeAll(async () => {
  svc = await startTestService({ env: { WECHAT_MODE: 'sandbox', WECHAT_EMULATOR_TIME_SCALE: '50' } });
});
afterAll(() => svc?.cleanup());

describe('the mini-program against the real service and its WeChat sandbox', () => {
  it('logs in and gives its phone number through the sandbox found at /__sandbox/wechat', async () => {
    const s = miniProgram();
    const me = await login(s.api, s.platform, s.tokens);
    expect(me.ok).toBe(true);
    const code = await s.platform.phoneCode!();
    expect(code).toEqual(expect.any(String));
    const withPhone = await s.api.phone(code!);
    expect(withPhone.ok).toBe(true);
    const profile = await s.api.me();
    expect(profile.ok && profile.value.shopper.hasPhone).toBe(true);
  });

  it('shows the reason the service gives for a cabinet it cannot open, in its own words', async () => {
    const s = miniProgram();
    expect((await login(s.api, s.platform, s.tokens)).ok).toBe(true);
    expect((await s.api.phone((await s.platform.phoneCode!())!)).ok).toBe(true);
    // No device connected in this test: the semi-automatic cabinet is offline.
    const cabinet = await s.api.cabinet('SH-SEMI-01');
    if (!cabinet.ok) throw new Error(cabinet.error.message);
    expect(cabinet.value).toMatchObject({ available: false, unavailableReason: 'offline' });
    const refused = await s.api.startVisit('SH-SEMI-01');
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('CABINET_UNAVAILABLE');
    expect(failureText(refused.error)).toBe(CABINET_UNAVAILABLE_TEXT.offline);
  });

  it('buys from an open shelf: checkout, WeChat Pay in the sandbox, the order paid', async () => {
    const s = miniProgram();
    expect((await login(s.api, s.platform, s.tokens)).ok).toBe(true);
    expect((await s.api.phone((await s.platform.phoneCode!())!)).ok).toBe(true);
    const catalogue = await s.api.catalogue('SH-OPEN-01');
    if (!catalogue.ok) throw new Error(catalogue.error.message);
    const item = catalogue.value.items.find((i) => i.stock > 0)!;
    const checkout = await s.api.checkout({ cabinetId: 'SH-OPEN-01', lines: [{ sku: item.sku, qty: 1 }] }, `e2e-${process.pid}-${Date.now()}`);
    if (!checkout.ok) throw new Error(checkout.error.message);
    const paid = await payAndConfirm(s, checkout.value.orderId, checkout.value.requestPayment);
    expect(paid.status).toBe('paid');
    const order = await s.api.order(checkout.value.orderId);
    expect(order.ok && order.value).toMatchObject({ status: 'paid', paidFen: item.priceFen });
  });
});
