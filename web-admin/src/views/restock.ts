import type { FleetPage } from '../../../contracts/console-api';
import type { RestockList } from '../../../contracts/restock';
import { api } from '../api';
import { t } from '../i18n';
import { clear, h, time } from '../ui';

/**
 * `#/restock/<siteId>`: what to bring to a site — the van's load summed per product, then each cabinet's
 * low lanes (at or below par) with what each takes up to capacity. Laid out for a phone (restockers carry
 * one): one column, large rows, no table wider than the screen.
 */
export function restockView(root: HTMLElement, args: string[]): void {
  const siteId = args[0];
  const picker = h('select', { id: 'restock-site', 'aria-label': t('filter.site'), onchange: (e: Event) => (location.hash = `#/restock/${encodeURIComponent((e.target as HTMLSelectElement).value)}`) }, h('option', { value: '' }, t('filter.site')));
  const body = h('div', { id: 'restock' }, siteId ? t('loading') : t('restock.pick'));
  clear(root, h('section', { class: 'restock' }, h('h2', {}, t('nav.restock')), h('div', { class: 'toolbar' }, picker), body));
  void api<FleetPage>('GET', '/fleet?limit=1').then((f) => {
    for (const s of f.sites) picker.append(h('option', { value: s, ...(s === siteId ? { selected: true } : {}) }, s));
  });
  if (!siteId) return;
  void api<RestockList>('GET', `/sites/${encodeURIComponent(siteId)}/restock-list`).then(
    (list) => {
      if (!list.cabinets.length) return clear(body, h('p', { id: 'restock-none' }, t('restock.none')));
      clear(
        body,
        h('p', { class: 'muted' }, t('restock.summary', { lanes: list.lowLanes, cabinets: list.cabinets.length, at: time(list.at) })),
        h('h3', {}, t('restock.van')),
        h('ul', { class: 'restock-van' }, list.van.map((v) => h('li', { 'data-sku': v.sku }, h('span', {}, v.name, ' ', h('code', {}, v.sku)), h('strong', {}, `× ${v.qty}`)))),
        ...list.cabinets.map((c) =>
          h(
            'div',
            { class: 'restock-cabinet', 'data-cabinet': c.cabinetId },
            h('h3', {}, `${c.name} `, h('small', { class: 'muted' }, c.cabinetId)),
            h('ul', {}, c.lanes.map((l) => h('li', { class: 'restock-lane', 'data-lane': l.laneId }, h('span', {}, h('b', {}, l.laneId), ` ${l.name}`, h('br', {}), h('small', { class: 'muted' }, t('restock.laneState', { count: l.count, par: l.par, capacity: l.capacity }))), h('strong', {}, `+${l.bring}`)))),
          ),
        ),
      );
    },
    (e: Error) => clear(body, h('p', { class: 'error', role: 'alert' }, e.message)),
  );
}
