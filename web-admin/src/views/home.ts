import type { Attention } from '../../../contracts/console-api';
import { allowed, api, qs } from '../api';
import { t } from '../i18n';
import { clear, h, table, time, yuan } from '../ui';
import { SOLD } from './money';

const OFFLINE_MINUTES = 15;

/**
 * What needs the manager now. Each tile links to the list it counts, filtered the same way (the browser
 * test checks that the numbers agree): open reviews, unpaid debts, cabinets offline over N minutes, open
 * alarms, failed reconciliation lines; today's sales and visits beside yesterday's.
 */
export function homeView(root: HTMLElement, args: string[]): () => void {
  const showLanes = args[0] === 'lanes';
  const body = h('div', { id: 'home' }, t('loading'));
  clear(root, h('section', { class: 'home' }, h('h2', {}, t('nav.home')), body));
  const tile = (id: string, label: string, value: string, href: string | null, sub: string | HTMLElement = '', hot = false) =>
    h(href ? 'a' : 'div', { class: `tile att${hot ? ' hot' : ''}`, 'data-att': id, ...(href ? { href } : {}) }, h('b', {}, value), h('span', {}, label), sub ? h('small', {}, sub) : null);
  const load = async () => {
    try {
      const a = await api<Attention>('GET', `/attention${qs({ offlineMinutes: OFFLINE_MINUTES })}`);
      const money = allowed('orders.view');
      // Today's tiles open their lists on the same day (a China day, as the service counts it).
      const today = `from=${a.day}&to=${a.day}`;
      clear(
        body,
        h(
          'div',
          { class: 'tiles' },
          money ? tile('sales', `${t('home.today')} · ${t('home.sales')}`, yuan(a.today.salesFen), `#/money/orders?status=${SOLD}&${today}`, t('home.vs', { v: yuan(a.yesterday.salesFen) })) : null,
          tile('visits', `${t('home.today')} · ${t('home.visits')}`, String(a.today.visits), `#/visits/visits?purpose=shopping&${today}`, t('home.vs', { v: a.yesterday.visits })),
          money ? tile('orders', `${t('home.today')} · ${t('home.orders')}`, String(a.today.orders), `#/money/orders?status=${SOLD}&${today}`, t('home.vs', { v: a.yesterday.orders })) : null,
        ),
        h(
          'div',
          { class: 'tiles' },
          tile('alarms', t('home.alarms'), String(a.alarms.open), '#/alarms?status=open', t('home.acknowledged', { n: a.alarms.acknowledged }), a.alarms.open > 0),
          tile('offline', t('home.offline', { n: a.offline.minutes }), String(a.offline.count), `#/fleet?state=offline&offlineFor=${a.offline.minutes}`, a.offline.cabinets.slice(0, 5).join(', '), a.offline.count > 0),
          allowed('review.view')
            ? tile(
                'reviews',
                t('home.reviews'),
                String(a.reviews.open),
                '#/reviews',
                h('span', {}, a.reviews.overdue ? h('em', { class: 'overdue' }, t('home.overdue', { n: a.reviews.overdue })) : '', a.reviews.next.length ? ` ${t('home.nextDeadlines')}: ${a.reviews.next.map((c) => `${c.caseId} ${time(c.deadlineAt)}`).join('; ')}` : ''),
                a.reviews.overdue > 0,
              )
            : null,
          money ? tile('debts', t('home.debts'), String(a.debts.open), '#/money/debts?status=open,reminded', yuan(a.debts.amountFen), a.debts.open > 0) : null,
          tile('lowLanes', t('home.lowLanes', { p: `${Math.round(a.lowLanes.ratio * 100)}%` }), String(a.lowLanes.count), '#/home/lanes'),
          a.reconciliation ? tile('recon', t('home.recon'), String(a.reconciliation.failedLines), '#/reconciliation', t('home.reconReports', { n: a.reconciliation.reports }), a.reconciliation.failedLines > 0) : null,
        ),
        // The lanes below par are listed here (there is no lanes list elsewhere): the tile opens this list.
        showLanes
          ? h(
              'div',
              { id: 'low-lanes' },
              h('h3', {}, t('home.lowLanes', { p: `${Math.round(a.lowLanes.ratio * 100)}%` })),
              table(
                [t('col.cabinet'), t('col.lane'), t('col.sku'), t('col.stock')],
                a.lowLanes.rows.map((l) => [h('a', { href: `#/cabinet/${encodeURIComponent(l.cabinetId)}` }, l.cabinetId), l.laneId, l.sku, h('span', { class: l.count === 0 ? 'stock out' : 'stock' }, `${l.count}/${l.capacity}`)]),
                { class: 'grid low-lanes' },
              ),
            )
          : null,
      );
    } catch (e) {
      clear(body, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  void load();
  const timer = setInterval(() => void load(), 30_000);
  return () => clearInterval(timer);
}
