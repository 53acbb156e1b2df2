import type { ContractRow, DebtRow, OrderRow, Page, PaymentRow, RefundRow } from '../../../contracts/console-api';
import { OPERATOR_ROUTES, type RefundResponse } from '../../../contracts/admin-api';
import type { z } from 'zod';
import { allowed, api, qs } from '../api';
import { t } from '../i18n';
import { clear, h, notice, table, tabs, time, yuan } from '../ui';

type Tab = 'orders' | 'payments' | 'refunds' | 'debts' | 'contracts';

function refundForm(root: HTMLElement, o: OrderRow, done: () => void): HTMLElement {
  const refundable = o.paidFen - o.refundedFen;
  const amount = h('input', { class: 'refund-amount', type: 'number', step: '0.01', min: '0.01', value: (refundable / 100).toFixed(2), 'aria-label': t('money.refundAmount') });
  const reason = h('input', { class: 'refund-reason', placeholder: t('money.refundReason') });
  // One key per form: a double click or a retry is the same refund.
  const key = `console-${o.orderId}-${Math.random().toString(36).slice(2, 10)}`;
  return h(
    'details',
    { class: 'refund' },
    h('summary', {}, t('money.refund')),
    amount,
    reason,
    h(
      'button',
      {
        class: 'refund-submit',
        onclick: () =>
          void api<z.infer<typeof RefundResponse>>('POST', OPERATOR_ROUTES.refund.path.replace(':orderId', encodeURIComponent(o.orderId)), { amountFen: Math.round(Number(amount.value) * 100), reason: reason.value || 'console', refundKey: key }).then(
            (r) => {
              notice(root, `${t('money.refunded')}: ${r.outcome} ${yuan(r.amountFen)} ${r.reason ?? ''}`);
              done();
            },
            (e: Error) => notice(root, e.message, 'error'),
          ),
      },
      t('money.refund'),
    ),
  );
}

export function moneyView(root: HTMLElement, args: string[]): void {
  let tab: Tab = (['orders', 'payments', 'refunds', 'debts', 'contracts'] as const).find((x) => x === args[0]) ?? 'orders';
  const head = h('div', {});
  const status = h('input', { id: 'm-status', placeholder: t('col.status') });
  const list = h('div', {});
  clear(root, h('section', {}, head, h('div', { class: 'filters' }, status, h('button', { onclick: () => void load() }, t('refresh'))), list));
  let next: number | undefined;
  let rows: unknown[] = [];

  const drawTabs = () =>
    clear(
      head,
      tabs((['orders', 'payments', 'refunds', 'debts', 'contracts'] as const).map((id) => ({ id, label: t(`money.${id}`) })), tab, (id) => {
        tab = id as Tab;
        history.replaceState(null, '', `#/money/${id}`);
        drawTabs();
        void load();
      }),
    );

  const draw = () => {
    const more = next ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null;
    let el: HTMLElement;
    switch (tab) {
      case 'orders':
        el = table(
          [t('col.time'), t('col.order'), t('col.cabinet'), t('col.flow'), t('col.shopper'), 'lines', t('col.amount'), 'paid / refunded', t('col.status'), ''],
          (rows as OrderRow[]).map((o) => [
            time(o.createdAt),
            o.orderId,
            o.cabinetId,
            t(`kind.${o.flow}`),
            o.shopperRef,
            o.lines.map((l) => `${l.name || l.sku}×${l.qty}`).join(', '),
            yuan(o.totalFen),
            `${yuan(o.paidFen)} / ${yuan(o.refundedFen)}`,
            h('span', { class: `os os-${o.status}` }, o.status),
            allowed('orders.refund', o.siteId) && o.paidFen > o.refundedFen ? refundForm(root, o, () => void load()) : '',
          ]),
          { class: 'grid orders' },
        );
        break;
      case 'payments':
        el = table(
          [t('col.time'), 'out_trade_no', t('col.order'), t('col.shopper'), 'channel', t('col.amount'), t('col.status'), 'transaction'],
          (rows as PaymentRow[]).map((p) => [time(p.createdAt), p.outTradeNo, p.orderId, p.shopperRef, `${p.channel}${p.purpose === 'debt' ? ' (debt)' : ''}`, yuan(p.amountFen), p.status + (p.failureCode ? ` ${p.failureCode}` : ''), p.transactionId ?? '']),
          { class: 'grid payments' },
        );
        break;
      case 'refunds':
        el = table(
          [t('col.time'), 'out_refund_no', t('col.order'), t('col.amount'), 'reason', t('col.status'), t('col.actor')],
          (rows as RefundRow[]).map((r) => [time(r.createdAt), r.outRefundNo, r.orderId, yuan(r.amountFen), r.reason, r.status, r.requestedBy]),
          { class: 'grid refunds' },
        );
        break;
      case 'debts':
        // Lifecycle: created (open) → reminded → paid | waived.
        el = table(
          [t('col.time'), 'debt', t('col.order'), t('col.shopper'), t('col.amount'), 'reason', t('col.status'), 'reminded', 'settled'],
          (rows as DebtRow[]).map((d) => [time(d.createdAt), d.debtId, d.orderId, d.shopperRef, yuan(d.amountFen), d.reason, h('span', { class: `debt ds-${d.status}` }, d.status), d.remindedAt.map((x) => time(x)).join(', '), time(d.settledAt)]),
          { class: 'grid debts', id: 'debts' },
        );
        break;
      case 'contracts':
        el = table(
          [t('col.time'), 'contract', t('col.shopper'), 'openid', t('col.status'), 'signed', 'terminated'],
          (rows as ContractRow[]).map((c) => [time(c.createdAt), c.contractCode, c.shopperRef, c.openidRef, c.status, time(c.signedAt), `${time(c.terminatedAt)} ${c.terminationReason ?? ''}`]),
          { class: 'grid contracts' },
        );
        break;
    }
    clear(list, el, more);
  };

  const load = async (append = false) => {
    try {
      const p = await api<Page<unknown>>('GET', `/${tab}${qs({ status: status.value.trim() || undefined, before: append ? next : undefined, limit: 50 })}`);
      rows = append ? [...rows, ...p.rows] : p.rows;
      next = p.next;
      draw();
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  drawTabs();
  void load();
}
