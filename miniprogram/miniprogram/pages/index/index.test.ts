import { qrUrl } from '../../../../contracts/cabinet-protocol';
import { world, openPage, has, settle, text } from '../../test/harness';

const q = (id: string, flow: 'open' | 'semi' | 'auto') => ({ q: encodeURIComponent(qrUrl('fleet.example.com', id, flow)), scancode_time: '1700000000' });

function withCabinets() {
  const w = world();
  w.server.addCabinet({ cabinetId: 'OPEN-1', name: '三楼开放货架', kind: 'open' });
  w.server.addCabinet({ cabinetId: 'SEMI-1', name: '茶水间半自动柜', kind: 'semi' });
  w.server.addCabinet({ cabinetId: 'AUTO-1', name: '茶水间自动柜', kind: 'auto' });
  return w;
}

function maskButton(page: Awaited<ReturnType<typeof openPage>>) {
  return page.querySelector('#mask')?.querySelector('.mask-button');
}

describe('home: the tap-anywhere phone mask', () => {
  test('a shopper without a phone sees the mask covering the page, and nothing routes yet', async () => {
    const { platform } = withCabinets();
    const page = await openPage('index', q('SEMI-1', 'semi'));
    expect(maskButton(page)).toBeTruthy();
    expect(text(page, '#mask')).toContain('授权手机号');
    expect(platform.nav).toEqual([]);
  });

  test('the mask is one getPhoneNumber button (the only way WeChat raises the prompt)', async () => {
    withCabinets();
    const page = await openPage('index');
    const button = maskButton(page)!;
    const json = (button as unknown as { toJSON(): { tagName: string; attrs: { name: string; value: unknown }[]; event: Record<string, { handler: string }> } }).toJSON();
    expect(json.tagName).toBe('wx-button');
    expect(json.attrs).toContainEqual({ name: 'open-type', value: 'getPhoneNumber' });
    expect(Object.keys(json.event)).toEqual(['getphonenumber']);
    // The button is the mask's only child, so a tap anywhere on the mask lands on it.
    expect(page.querySelector('#mask')!.querySelector('.mask')!.dom!.children).toHaveLength(1);
  });

  test('tap → allow: the code goes to POST /auth/phone, the mask lifts and the scanned cabinet opens', async () => {
    const { server, platform } = withCabinets();
    const page = await openPage('index', q('SEMI-1', 'semi'));
    maskButton(page)!.dispatchEvent('getphonenumber', { detail: { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' } });
    await settle();
    expect(server.callsTo('phone').map((c) => c.body)).toEqual([{ code: 'phone-code-1' }]);
    expect(has(page, '#mask .mask-button')).toBe(false);
    expect(maskButton(page)).toBeFalsy();
    expect(platform.lastNav()).toBe('navigateTo /pages/cabinet/index?cabinetId=SEMI-1&flow=semi');
  });

  test('tap → deny: the mask stays, nothing is sent, a hint is shown', async () => {
    const { server, platform } = withCabinets();
    const page = await openPage('index');
    maskButton(page)!.dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    await settle();
    expect(server.callsTo('phone')).toEqual([]);
    expect(maskButton(page)).toBeTruthy();
    expect(platform.toasts).toEqual(['需要授权手机号才能扫码购物']);
  });

  test('a shopper who already has a phone never sees the mask', async () => {
    const { server } = withCabinets();
    server.hasPhone = true;
    const page = await openPage('index');
    expect(maskButton(page)).toBeFalsy();
    expect(text(page, '.phone')).toBe('138****5678');
  });
});

describe('home: QR routing per flow', () => {
  test.each([
    ['open shelf → cabinet page (catalogue)', q('OPEN-1', 'open'), 'none', '/pages/cabinet/index?cabinetId=OPEN-1&flow=open'],
    ['semi → cabinet page (unlock)', q('SEMI-1', 'semi'), 'none', '/pages/cabinet/index?cabinetId=SEMI-1&flow=semi'],
    ['auto with a contract → cabinet page (unlock)', q('AUTO-1', 'auto'), 'active', '/pages/cabinet/index?cabinetId=AUTO-1&flow=auto'],
    ['auto without a contract → papay signing', q('AUTO-1', 'auto'), 'none', '/pages/papay/index?cabinetId=AUTO-1&flow=auto'],
    ['mini-program code scene → same routing', { scene: 'SEMI-1.s' }, 'none', '/pages/cabinet/index?cabinetId=SEMI-1&flow=semi'],
    ['a QR printed with the wrong flow follows the service\'s record', q('AUTO-1', 'open'), 'active', '/pages/cabinet/index?cabinetId=AUTO-1&flow=auto'],
  ] as const)('%s', async (_name, query, contract, url) => {
    const { server, platform } = withCabinets();
    server.hasPhone = true;
    server.contract = contract;
    await openPage('index', { ...query });
    expect(platform.nav).toEqual([{ how: 'navigateTo', url }]);
    expect(server.callsTo('cabinet')[0]?.params).toEqual({ cabinetId: url.includes('OPEN') ? 'OPEN-1' : url.includes('SEMI') ? 'SEMI-1' : 'AUTO-1' });
    expect(server.rejected).toEqual([]);
  });

  test('an unknown cabinet shows an error and stays home', async () => {
    const { server, platform } = withCabinets();
    server.hasPhone = true;
    const page = await openPage('index', q('NOPE-1', 'semi'));
    expect(platform.nav).toEqual([]);
    expect(text(page, '.error')).toContain('未找到该柜子');
  });

  test('the scan button routes the same way', async () => {
    const { server, platform } = withCabinets();
    server.hasPhone = true;
    const page = await openPage('index');
    platform.scan = { result: qrUrl('fleet.example.com', 'OPEN-1', 'open') };
    page.querySelector('.scan')!.dispatchEvent('tap');
    await settle();
    expect(platform.lastNav()).toBe('navigateTo /pages/cabinet/index?cabinetId=OPEN-1&flow=open');
  });
});

describe('home: debt first', () => {
  test.each(['open', 'semi', 'auto'] as const)('with open debt, a %s QR leads to the debt page first, keeping the cabinet for after', async (flow) => {
    const { server, platform } = withCabinets();
    server.hasPhone = true;
    server.contract = 'active';
    server.addDebt(450);
    const id = { open: 'OPEN-1', semi: 'SEMI-1', auto: 'AUTO-1' }[flow];
    await openPage('index', q(id, flow));
    expect(platform.nav).toEqual([{ how: 'navigateTo', url: `/pages/debt/index?cabinetId=${id}&flow=${flow}` }]);
    expect(server.callsTo('cabinet')).toEqual([]); // nothing about the cabinet is asked before the debt is settled
  });

  test('debt without a QR still opens the debt page first', async () => {
    const { server, platform } = withCabinets();
    server.hasPhone = true;
    server.addDebt(450);
    await openPage('index');
    expect(platform.nav).toEqual([{ how: 'navigateTo', url: '/pages/debt/index' }]);
  });

  test('authorising the phone with debt outstanding goes to debt, not to the cabinet', async () => {
    const { server, platform } = withCabinets();
    server.addDebt(120);
    const page = await openPage('index', q('OPEN-1', 'open'));
    maskButton(page)!.dispatchEvent('getphonenumber', { detail: { code: 'c' } });
    await settle();
    expect(platform.lastNav()).toBe('navigateTo /pages/debt/index?cabinetId=OPEN-1&flow=open');
  });
});
