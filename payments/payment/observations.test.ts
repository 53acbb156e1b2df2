import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBT_PAGE, debtMessage, observationFromFailure, observationFromPapay, observationFromTransaction, rfc3339 } from './observations';
import { inboxKeyOf } from './notification.keys';
import type { Transaction } from '../wechatpay/v3.client';
import type { PapayOrder } from '../wechatpay/papay.client';

describe('what WeChat’s answers mean', () => {
  it.each([
    ['SUCCESS', 'T1', { kind: 'succeeded', transactionId: 'T1', amountFen: 350 }],
    ['REFUND', 'T1', { kind: 'succeeded', transactionId: 'T1', amountFen: 350 }],
    ['SUCCESS', undefined, { kind: 'unknown' }],
    ['NOTPAY', undefined, { kind: 'pending' }],
    ['USERPAYING', undefined, { kind: 'pending' }],
    ['CLOSED', undefined, { kind: 'closed' }],
    ['REVOKED', undefined, { kind: 'closed' }],
    ['PAYERROR', undefined, { kind: 'failed', code: 'PAYERROR' }],
  ])('v3 %s (transaction %s)', (state, tx, obs) => {
    expect(observationFromTransaction({ trade_state: state, ...(tx ? { transaction_id: tx } : {}), amount: { total: 350 } } as unknown as Transaction)).toEqual(obs);
  });

  it.each([
    ['SUCCESS', { kind: 'succeeded', transactionId: 'T2', amountFen: 120 }],
    ['ACCEPT', { kind: 'pending' }],
    ['PAYERROR', { kind: 'failed', code: 'NOTENOUGH' }],
    ['CLOSED', { kind: 'closed' }],
  ])('papay %s', (tradeState, obs) => {
    expect(observationFromPapay({ tradeState, transactionId: 'T2', totalFee: 120, errCode: 'NOTENOUGH' } as unknown as PapayOrder)).toEqual(obs);
  });

  it('a call WeChat never received is not_found (safe to send again); any other failure is unknown', () => {
    expect(observationFromFailure({ code: 'ORDER_NOT_EXIST' } as never)).toEqual({ kind: 'not_found' });
    expect(observationFromFailure({ code: 'ORDERNOTEXIST' } as never)).toEqual({ kind: 'not_found' });
    expect(observationFromFailure({ code: 'SYSTEMERROR' } as never)).toEqual({ kind: 'unknown' });
  });
});

describe('the debt subscribe message', () => {
  it('opens the mini-program’s debt page, which exists (pages/debt/index in app.json)', () => {
    const app = JSON.parse(readFileSync(join(__dirname, '../../miniprogram/miniprogram/app.json'), 'utf8')) as { pages: string[] };
    expect(DEBT_PAGE).toBe('pages/debt/index');
    expect(app.pages).toContain(DEBT_PAGE);
    expect(debtMessage('created', 1250, Date.UTC(2026, 11, 2, 4, 5))).toEqual({ page: DEBT_PAGE, data: { amount1: '12.50元', thing2: '扣款未成功，请补缴欠款', time3: '2026-12-02 12:05' } });
    expect(debtMessage('cleared', 1, 0).data.thing2).toBe('欠款已结清');
  });

  it('renders times in Beijing time to whole seconds', () => {
    expect(rfc3339(Date.UTC(2026, 0, 1, 16, 0, 0, 999))).toBe('2026-01-02T00:00:00+08:00');
  });
});

describe('notification inbox keys', () => {
  it('redeliveries of one fact share a key; different facts differ', () => {
    expect(inboxKeyOf({ type: 'TransactionNotified', eventId: 'E1' } as never)).toBe('v3:E1');
    expect(inboxKeyOf({ type: 'TradeResultNotified', resultCode: 'SUCCESS', order: { outTradeNo: 'N1' } } as never)).toBe('v2:N1:SUCCESS');
    expect(inboxKeyOf({ type: 'ContractChanged', contractCode: 'K1', change: 'ADD' } as never)).not.toBe(inboxKeyOf({ type: 'ContractChanged', contractCode: 'K1', change: 'DELETE' } as never));
  });
});
