import type { RefundRow } from '../../../contracts/console-api';
import { ABNORMAL_REFUND_PATH, type AbnormalRefundResponse } from '../../../contracts/console-wechat';
import { api } from '../api';
import { t } from '../i18n';
import { h, notice } from '../ui';

/**
 * Only WeChat's ABNORMAL (the card closed) can be refunded again; CLOSED is final and a REJECTED refund was
 * never created. A failed refund recorded before the cause was kept gets the control, and the server decides.
 */
export const abnormalRefundable = (r: Pick<RefundRow, 'status' | 'wechatStatus'>): boolean => r.status === 'failed' && (r.wechatStatus === undefined || r.wechatStatus === 'ABNORMAL');

/**
 * On a failed refund: ask WeChat to refund it again to the merchant's bank account. The server checks
 * that WeChat reports it ABNORMAL (a closed card) and refuses otherwise (CLOSED is final).
 */
export function abnormalRefundButton(root: HTMLElement, r: RefundRow, done: () => void): HTMLElement {
  const button = h(
    'button',
    {
      class: 'abnormal-refund',
      'data-refund': r.outRefundNo,
      onclick: () => {
        button.setAttribute('disabled', '');
        void api<AbnormalRefundResponse>('POST', ABNORMAL_REFUND_PATH.replace(':outRefundNo', encodeURIComponent(r.outRefundNo))).then(
          (x) => {
            notice(root, `${t('money.abnormalRefundDone')}: ${x.outRefundNo} ${x.wechatStatus}`);
            done();
          },
          (e: Error) => {
            button.removeAttribute('disabled');
            notice(root, e.message, 'error');
          },
        );
      },
    },
    t('money.abnormalRefund'),
  );
  return button;
}
