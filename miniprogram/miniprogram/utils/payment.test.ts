import type { ApiResult } from './api';
import type { Order } from './wire';
import { classifyPayment } from './platform';
import { confirmPayment, settlementOf } from './payment';

const order = (status: Order['status']): Order => ({ orderId: 'o1', cabinetId: 'CAB-1', flow: 'open', status, lines: [], totalFen: 350, paidFen: status === 'paid' ? 350 : 0, refundedFen: 0, createdAt: 0, source: 'cart' });

/** A server whose order goes through the given statuses, one per query; undefined = the query failed. */
function server(statuses: (Order['status'] | undefined)[]) {
  const seen: number[] = [];
  const slept: number[] = [];
  return {
    seen,
    slept,
    deps: {
      delaysMs: [500, 1000, 2000],
      sleep: async (ms: number) => void slept.push(ms),
      fetchOrder: async (): Promise<ApiResult<Order>> => {
        const s = statuses[Math.min(seen.length, statuses.length - 1)];
        seen.push(seen.length);
        return s ? { ok: true, value: order(s) } : { ok: false, error: { code: 'NETWORK', message: 'timeout' } };
      },
    },
  };
}

describe('payment result handling: the server decides', () => {
  test('wx errMsg classification', () => {
    expect(classifyPayment('requestPayment:ok')).toEqual({ kind: 'ok' });
    expect(classifyPayment('requestPayment:fail cancel')).toEqual({ kind: 'cancel' });
    expect(classifyPayment('requestPayment:fail (detail message)')).toEqual({ kind: 'fail', errMsg: 'requestPayment:fail (detail message)' });
    expect(classifyPayment(undefined).kind).toBe('fail');
  });

  test('ok + server paid on the second poll → paid', async () => {
    const s = server(['awaiting_payment', 'paid']);
    const r = await confirmPayment('o1', { kind: 'ok' }, s.deps);
    expect(r.status).toBe('paid');
    expect(s.slept).toEqual([500, 1000]);
  });

  test('ok, but the notification never arrives within the budget → confirming, never "failed"', async () => {
    const s = server(['awaiting_payment']);
    expect(await confirmPayment('o1', { kind: 'ok' }, s.deps)).toEqual({ status: 'confirming', orderId: 'o1' });
    expect(s.seen).toHaveLength(3);
  });

  test('ok on a weak signal: failed queries are retried within the budget', async () => {
    const s = server([undefined, undefined, 'paid']);
    expect((await confirmPayment('o1', { kind: 'ok' }, s.deps)).status).toBe('paid');
  });

  test('cancel → one query, cancelled', async () => {
    const s = server(['awaiting_payment']);
    expect(await confirmPayment('o1', { kind: 'cancel' }, s.deps)).toEqual({ status: 'cancelled', orderId: 'o1' });
    expect(s.seen).toHaveLength(1);
    expect(s.slept).toEqual([]);
  });

  test('cancel reported by the phone but the server has the money → paid (no second charge offered)', async () => {
    const s = server(['paid']);
    expect((await confirmPayment('o1', { kind: 'cancel' }, s.deps)).status).toBe('paid');
  });

  test('fail → failed with a retry hint; fail but server paid → paid', async () => {
    expect(await confirmPayment('o1', { kind: 'fail', errMsg: 'x' }, server(['awaiting_payment']).deps)).toEqual({ status: 'failed', orderId: 'o1', message: '支付未完成，请重试' });
    expect((await confirmPayment('o1', { kind: 'fail', errMsg: 'x' }, server(['paid']).deps)).status).toBe('paid');
  });

  test('a closed order is failed even when the phone said ok', async () => {
    expect((await confirmPayment('o1', { kind: 'ok' }, server(['cancelled']).deps)).status).toBe('failed');
  });

  test('every order status has a settlement', () => {
    expect(settlementOf('refunded')).toBe('settled');
    expect(settlementOf('debt')).toBe('pending');
    expect(settlementOf('cancelled')).toBe('closed');
  });
});
