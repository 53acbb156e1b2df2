import { world, openPage, tap, text, has } from '../../test/harness';
import { ensureSession } from '../../utils/session';
import type { SessionState } from '../../utils/wire';

async function visit(flow: 'semi' | 'auto', script: SessionState[]) {
  const w = world();
  w.server.hasPhone = true;
  w.server.contract = 'active';
  w.server.addCabinet({ cabinetId: 'CAB-1', name: '柜', kind: flow });
  await ensureSession(w.services.api, w.platform, w.services.tokens);
  const started = await w.services.api.startVisit('CAB-1');
  if (!started.ok) throw new Error(started.error.code);
  w.server.visitScript = script;
  const page = await openPage('visit', { sessionId: started.value.sessionId, cabinetId: 'CAB-1', flow });
  return { ...w, page };
}

describe('visit progress', () => {
  test('auto: door open → 识别中 → 已扣款, with the receipt link', async () => {
    const { page, platform } = await visit('auto', ['door_open', 'awaiting_frames', 'recognising', 'charged']);
    expect(text(page, '.state')).toBe('已扣款');
    expect(text(page, '.total')).toBe('¥3.50');
    await tap(page, '.order');
    expect(platform.lastNav()).toBe('redirectTo /pages/order/index?orderId=o-visit');
  });

  test('auto: low confidence → 人工复核中, explained, never a guess', async () => {
    const { page } = await visit('auto', ['door_open', 'recognising', 'held_for_review']);
    expect(text(page, '.state')).toBe('人工复核中');
    expect(has(page, '.review')).toBe(true);
  });

  test('auto: deduction failed → debt, with the way to pay it', async () => {
    const { page, platform } = await visit('auto', ['door_open', 'recognising', 'charging', 'debt']);
    await tap(page, '.debt');
    expect(platform.lastNav()).toBe('redirectTo /pages/debt/index');
  });

  test('semi: while the door is open the shopper is sent to pay for the cart', async () => {
    const { page, platform } = await visit('semi', ['door_open', 'paid']);
    expect(text(page, '.state')).toBe('已支付');
    const p2 = await visit('semi', ['door_open']);
    expect(has(p2.page, '.shop')).toBe(true);
    (p2.page.instance as unknown as { onUnload(): void }).onUnload();
    await tap(p2.page, '.shop');
    expect(p2.platform.lastNav()).toMatch(/^navigateTo \/pages\/cabinet\/index\?cabinetId=CAB-1&flow=semi&sessionId=v-\d+$/);
    expect(platform.nav).toEqual([]);
  });
});

describe('visit progress on a weak signal', () => {
  test('while every poll fails the page says it is still trying, instead of staying on 正在开门 alone', async () => {
    const w = world();
    w.server.hasPhone = true;
    w.server.addCabinet({ cabinetId: 'CAB-1', name: '柜', kind: 'semi' });
    await ensureSession(w.services.api, w.platform, w.services.tokens);
    const started = await w.services.api.startVisit('CAB-1');
    if (!started.ok) throw new Error(started.error.code);
    w.server.dropNext = 10_000;
    const page = await openPage('visit', { sessionId: started.value.sessionId, cabinetId: 'CAB-1', flow: 'semi' });
    expect(text(page, '.hint')).toContain('网络信号弱，正在重试');
    expect(has(page, '.error')).toBe(false);
    (page.instance as unknown as { onUnload(): void }).onUnload();
  });

  test('the hint goes once a poll gets through', async () => {
    const w = world();
    w.server.hasPhone = true;
    w.server.contract = 'active';
    w.server.addCabinet({ cabinetId: 'CAB-1', name: '柜', kind: 'auto' });
    await ensureSession(w.services.api, w.platform, w.services.tokens);
    const started = await w.services.api.startVisit('CAB-1');
    if (!started.ok) throw new Error(started.error.code);
    w.server.dropNext = 3;
    w.server.visitScript = ['door_open', 'charged'];
    const page = await openPage('visit', { sessionId: started.value.sessionId, cabinetId: 'CAB-1', flow: 'auto' });
    expect(text(page, '.state')).toBe('已扣款');
    expect(has(page, '.hint')).toBe(false);
  });
});
