import { SOLD_ORDER_STATUSES, type ContractRow, type DebtRow, type OrderRow, type Page, type PaymentRow, type RefundRow } from '../../../contracts/console-api';
import { OPERATOR_ROUTES, type RefundResponse } from '../../../contracts/admin-api';
import type { z } from 'zod';
import { allowed, api, fetchAll, qs } from '../api';
import { FAMILIES, t, tv } from '../i18n';
import { choices, clear, dataTable, dateRange, download, h, hashQuery, isoLocal, notice, tabs, time, toCsv, yuan, type Col, type SortState } from '../ui';
import { abnormalRefundable, abnormalRefundButton } from './abnormal-refund';

type Tab = 'orders' | 'payments' | 'refunds' | 'debts' | 'contracts';
const TABS: Tab[] = ['orders', 'payments', 'refunds', 'debts', 'contracts'];
/** Each tab's status family (the status filter offers its values as choices). */
const STATUS_FAMILY: Record<Tab, string> = { orders: 'ostatus', payments: 'pstatus', refunds: 'rstatus', debts: 'dstatus', contracts: 'cstatus' };

/**
 * A refund form. The service answers a refused refund with 200 and `outcome: 'refused'`: that is an error
 * to the operator (what was asked did not happen), shown with the reason in words, never as a success.
 */
export function refundForm(root: HTMLElement, o: OrderRow, done: () => void): HTMLElement {
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
              if (r.outcome === 'refused') notice(root, `${t('money.refundRefused')}: ${yuan(r.amountFen)} · ${tv('refusal', r.reason)}`, 'error', true);
              else {
                notice(root, `${t('money.refunded')}: ${o.orderId} ${yuan(r.amountFen)}`, 'ok', true);
                done();
              }
            },
            (e: Error) => notice(root, e.message, 'error', true),
          ),
      },
      t('money.refund'),
    ),
  );
}

/** The orders the home view's "today" counts and sells, as one status filter value. */
export const SOLD = SOLD_ORDER_STATUSES.join(',');

export function moneyView(root: HTMLElement, args: string[]): void {
  let tab: Tab = TABS.find((x) => x === args[0]) ?? 'orders';
  const head = h('div', {});
  const bar = h('div', { class: 'filters' });
  const list = h('div', { id: 'money-list' });
  clear(root, h('section', {}, head, bar, list));
  let next: number | undefined;
  let rows: unknown[] = [];
  let sort: SortState = { id: 'time', desc: true };
  let status: HTMLSelectElement;
  const range = dateRange('m');
  const cabinet = h('input', { id: 'm-cabinet', placeholder: t('col.cabinet'), size: 12 });

  const drawBar = (initial = '') => {
    const family = STATUS_FAMILY[tab];
    const values = [
      ...FAMILIES[family]!.map((v) => ({ value: v, label: tv(family, v) })),
      ...(tab === 'debts' ? [{ value: 'open,reminded', label: t('dstatus.unpaid') }] : []),
      ...(tab === 'orders' ? [{ value: SOLD, label: t('ostatus.sold') }] : []),
    ];
    status = choices('m-status', t('col.status'), values, initial);
    status.addEventListener('change', () => void load());
    clear(bar, status, tab === 'orders' ? cabinet : null, range.el, h('button', { onclick: () => void load() }, t('refresh')), h('button', { id: 'm-csv', onclick: () => void exportCsv() }, t('list.csv')));
  };
  for (const el of [range.from, range.to, cabinet]) el.addEventListener('change', () => void load());

  const drawTabs = () =>
    clear(
      head,
      tabs(TABS.map((id) => ({ id, label: t(`money.${id}`) })), tab, (id) => {
        tab = id as Tab;
        history.replaceState(null, '', `#/money/${id}`);
        sort = { id: 'time', desc: true };
        drawTabs();
        drawBar();
        void load();
      }),
    );

  const st = (family: string, v: string, cls: string) => h('span', { class: `${cls} ${cls}-${v}` }, tv(family, v));
  const cols = (): Array<Col<never>> => {
    switch (tab) {
      case 'orders':
        return [
          { id: 'time', label: t('col.time'), value: (o: OrderRow) => o.createdAt, show: (o: OrderRow) => time(o.createdAt) },
          { id: 'order', label: t('col.order'), value: (o: OrderRow) => o.orderId, show: (o: OrderRow) => (o.visitId ? h('a', { href: `#/visit/${encodeURIComponent(o.visitId)}` }, o.orderId) : o.orderId) },
          { id: 'cabinet', label: t('col.cabinet'), value: (o: OrderRow) => o.cabinetId },
          { id: 'flow', label: t('col.flow'), value: (o: OrderRow) => tv('kind', o.flow) },
          { id: 'shopper', label: t('col.shopper'), value: (o: OrderRow) => o.shopperRef },
          { id: 'lines', label: t('col.lines'), value: (o: OrderRow) => o.lines.map((l) => `${l.name || l.sku}×${l.qty}`).join(', '), sortable: false },
          { id: 'total', label: t('col.amount'), value: (o: OrderRow) => o.totalFen, show: (o: OrderRow) => yuan(o.totalFen), money: true },
          { id: 'paid', label: t('col.paidRefunded'), value: (o: OrderRow) => o.paidFen - o.refundedFen, show: (o: OrderRow) => `${yuan(o.paidFen)} / ${yuan(o.refundedFen)}`, money: true },
          { id: 'status', label: t('col.status'), value: (o: OrderRow) => tv('ostatus', o.status), show: (o: OrderRow) => st('ostatus', o.status, 'os') },
          { id: 'refund', label: '', value: () => '', sortable: false, show: (o: OrderRow) => (allowed('orders.refund', o.siteId) && o.paidFen > o.refundedFen ? refundForm(root, o, () => void load()) : '') },
        ] as Array<Col<never>>;
      case 'payments':
        return [
          { id: 'time', label: t('col.time'), value: (p: PaymentRow) => p.createdAt, show: (p: PaymentRow) => time(p.createdAt) },
          { id: 'no', label: t('col.outTradeNo'), value: (p: PaymentRow) => p.outTradeNo },
          { id: 'order', label: t('col.order'), value: (p: PaymentRow) => p.orderId },
          { id: 'shopper', label: t('col.shopper'), value: (p: PaymentRow) => p.shopperRef },
          { id: 'channel', label: t('col.channel'), value: (p: PaymentRow) => tv('channel', p.channel) + (p.purpose === 'debt' ? ` · ${t('channel.debt')}` : '') },
          { id: 'amount', label: t('col.amount'), value: (p: PaymentRow) => p.amountFen, show: (p: PaymentRow) => yuan(p.amountFen), money: true },
          { id: 'status', label: t('col.status'), value: (p: PaymentRow) => tv('pstatus', p.status) + (p.failureCode ? ` ${p.failureCode}` : ''), show: (p: PaymentRow) => [st('pstatus', p.status, 'ps'), p.failureCode ? ` ${p.failureCode}` : ''] },
          { id: 'tx', label: t('col.transaction'), value: (p: PaymentRow) => p.transactionId ?? '' },
        ] as Array<Col<never>>;
      case 'refunds':
        return [
          { id: 'time', label: t('col.time'), value: (r: RefundRow) => r.createdAt, show: (r: RefundRow) => time(r.createdAt) },
          { id: 'no', label: t('col.outRefundNo'), value: (r: RefundRow) => r.outRefundNo },
          { id: 'order', label: t('col.order'), value: (r: RefundRow) => r.orderId },
          { id: 'amount', label: t('col.amount'), value: (r: RefundRow) => r.amountFen, show: (r: RefundRow) => yuan(r.amountFen), money: true },
          { id: 'reason', label: t('col.reason'), value: (r: RefundRow) => r.reason },
          { id: 'status', label: t('col.status'), value: (r: RefundRow) => tv('rstatus', r.status), show: (r: RefundRow) => [st('rstatus', r.status, 'rs'), r.wechatStatus ? ` ${tv('wxrefund', r.wechatStatus)}` : '', abnormalRefundable(r) && allowed('orders.refund', r.siteId) ? abnormalRefundButton(root, r, () => void load()) : ''] },
          { id: 'actor', label: t('col.actor'), value: (r: RefundRow) => r.requestedBy },
        ] as Array<Col<never>>;
      case 'debts':
        // Lifecycle: created (open) → reminded → paid | waived.
        return [
          { id: 'time', label: t('col.time'), value: (d: DebtRow) => d.createdAt, show: (d: DebtRow) => time(d.createdAt) },
          { id: 'debt', label: t('col.debt'), value: (d: DebtRow) => d.debtId },
          { id: 'order', label: t('col.order'), value: (d: DebtRow) => d.orderId },
          { id: 'shopper', label: t('col.shopper'), value: (d: DebtRow) => d.shopperRef },
          { id: 'amount', label: t('col.amount'), value: (d: DebtRow) => d.amountFen, show: (d: DebtRow) => yuan(d.amountFen), money: true },
          { id: 'reason', label: t('col.reason'), value: (d: DebtRow) => d.reason },
          { id: 'status', label: t('col.status'), value: (d: DebtRow) => tv('dstatus', d.status), show: (d: DebtRow) => st('dstatus', d.status, 'debt ds') },
          { id: 'reminded', label: t('col.reminded'), value: (d: DebtRow) => d.remindedAt.map((x) => isoLocal(x)).join(' '), show: (d: DebtRow) => d.remindedAt.map((x) => time(x)).join(', ') },
          { id: 'settled', label: t('col.settled'), value: (d: DebtRow) => d.settledAt, show: (d: DebtRow) => time(d.settledAt) },
        ] as Array<Col<never>>;
      case 'contracts':
        return [
          { id: 'time', label: t('col.time'), value: (c: ContractRow) => c.createdAt, show: (c: ContractRow) => time(c.createdAt) },
          { id: 'contract', label: t('col.contract'), value: (c: ContractRow) => c.contractCode },
          { id: 'shopper', label: t('col.shopper'), value: (c: ContractRow) => c.shopperRef },
          { id: 'openid', label: t('col.openid'), value: (c: ContractRow) => c.openidRef },
          { id: 'status', label: t('col.status'), value: (c: ContractRow) => tv('cstatus', c.status), show: (c: ContractRow) => st('cstatus', c.status, 'cs') },
          { id: 'signed', label: t('col.signed'), value: (c: ContractRow) => c.signedAt, show: (c: ContractRow) => time(c.signedAt) },
          { id: 'terminated', label: t('col.terminated'), value: (c: ContractRow) => c.terminatedAt, show: (c: ContractRow) => `${time(c.terminatedAt)} ${c.terminationReason ?? ''}` },
        ] as Array<Col<never>>;
    }
  };

  const draw = (): void => {
    const more = next ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null;
    const el = dataTable(cols(), rows as never[], { class: `grid ${tab}`, id: tab === 'debts' ? 'debts' : `money-${tab}` }, {
      sort,
      onSort: (s) => {
        sort = s;
        draw();
      },
    });
    clear(list, el, more);
  };

  const query = (before?: number) => ({ status: status.value || undefined, cabinetId: tab === 'orders' ? cabinet.value.trim() || undefined : undefined, ...range.range(), before, limit: 200 });

  const load = async (append = false) => {
    try {
      const p = await api<Page<unknown>>('GET', `/${tab}${qs({ ...query(append ? next : undefined), limit: 50 })}`);
      rows = append ? [...rows, ...p.rows] : p.rows;
      next = p.next;
      draw();
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  /** Every row of the filter (not only the page shown), times as local text, money in yuan. */
  const exportCsv = async () => {
    const all = await fetchAll<unknown>(`/${tab}`, query);
    const c = cols()
      .filter((x) => x.id !== 'refund')
      .map((x) => (['time', 'signed', 'settled', 'terminated'].includes(x.id) ? { ...x, value: (r: never) => isoLocal(x.value(r) as number | undefined) } : x));
    download(`${tab}-${isoLocal(Date.now()).slice(0, 10)}.csv`, toCsv(c, all as never[]));
  };

  drawTabs();
  drawBar(hashQuery().get('status') ?? '');
  void load();
}
