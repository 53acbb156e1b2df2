import { world, openPage, tap, text, renderPage, settle } from '../../test/harness';
import { papayHint, PAPAY_SIGNING_APPID } from '../../utils/papay-hint';

async function signAndReturn(contractAfter: 'active' | 'signing' | 'none', hint?: string) {
  const w = world();
  w.server.hasPhone = true;
  const page = renderPage('papay');
  const inst = page.instance as unknown as { onLoad(q: Record<string, string>): void; onShow(): void };
  inst.onLoad({ cabinetId: 'AUTO-1', flow: 'auto' });
  inst.onShow();
  await settle();
  await tap(page, '.sign');
  // The shopper is in WeChat's signing mini-program now; the server learns the outcome by notification.
  w.server.contract = contractAfter;
  papayHint.record({ appId: PAPAY_SIGNING_APPID, extraData: hint ? { return_code: hint } : {} }, 0);
  inst.onShow();
  await settle();
  return { ...w, page };
}

describe('papay signing: the server confirms', () => {
  test('opens the signing mini-program with the server\'s appId, path and extraData', async () => {
    const { platform } = await signAndReturn('active');
    expect(platform.miniPrograms).toEqual([{ appId: 'wxbd687630cd02ce1d', path: 'pages/index/index', extraData: { contract_code: 'cc-1', sign: 'x' } }]);
  });

  test('server says active → resume the cabinet through home', async () => {
    const { platform, server } = await signAndReturn('active', 'SUCCESS');
    expect(server.callsTo('papayContract').length).toBeGreaterThan(0);
    expect(platform.lastNav()).toBe('redirectTo /pages/index/index?cabinetId=AUTO-1&flow=auto');
  });

  test('the signing mini-program says SUCCESS but the server never confirms → not signed, no unlock', async () => {
    const { platform, page, server } = await signAndReturn('signing', 'SUCCESS');
    expect(server.callsTo('papayContract')).toHaveLength(4); // the immediate check plus the polling budget
    expect(platform.nav).toEqual([]);
    expect(text(page, '.not-signed')).toContain('未完成签约');
  });

  test('the shopper backed out (server: none) → offered again at once', async () => {
    const { platform, page, server } = await signAndReturn('none');
    expect(server.callsTo('papayContract')).toHaveLength(1);
    expect(platform.nav).toEqual([]);
    expect(text(page, '.sign')).toBe('重新开通');
  });

  test('onShow without a signing trip does not query', async () => {
    const { server } = world();
    await openPage('papay', { cabinetId: 'AUTO-1', flow: 'auto' });
    expect(server.callsTo('papayContract')).toEqual([]);
  });
});
