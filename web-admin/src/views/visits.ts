import type { Page, SessionRow, VisitRow } from '../../../contracts/console-api';
import { api, qs } from '../api';
import { feed } from '../feed';
import { t } from '../i18n';
import { clear, h, table, tabs, time, yuan } from '../ui';
import { visitTable } from './cabinet';

/** The session state machine per flow, in order, so each row shows how far it got (terminal states last). */
const PATHS: Record<string, string[]> = {
  open: ['awaiting_payment', 'paid'],
  semi: ['unlocking', 'door_open', 'awaiting_frames', 'awaiting_payment', 'paid'],
  auto: ['unlocking', 'door_open', 'awaiting_frames', 'recognising', 'charging', 'charged'],
};

function progress(s: SessionRow): HTMLElement {
  const path = PATHS[s.flow] ?? [];
  const at = path.indexOf(s.status);
  const off = at < 0; // a terminal state off the happy path (debt, held_for_review, relocked, …)
  return h(
    'span',
    { class: 'steps', title: s.message ?? '' },
    path.map((p, i) => h('span', { class: `step${off ? '' : i < at ? ' done' : i === at ? (s.finished ? ' done' : ' now') : ''}` }, p)),
    off ? h('span', { class: `step end end-${s.status}` }, s.status) : null,
  );
}

export function visitsView(root: HTMLElement, args: string[]): () => void {
  let tab = args[0] === 'sessions' ? 'sessions' : 'visits';
  const list = h('div', {});
  const status = h('input', { id: 'v-status', placeholder: t('col.status') });
  const cabinet = h('input', { id: 'v-cabinet', placeholder: t('col.cabinet') });
  const bar = h('div', { class: 'filters' }, cabinet, status, h('button', { onclick: () => void load() }, t('refresh')));
  const header = h('div', {});
  clear(root, h('section', {}, header, bar, list));
  let next: number | undefined;
  let rows: Array<VisitRow | SessionRow> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const drawTabs = () =>
    clear(
      header,
      tabs([{ id: 'visits', label: t('visits.visits') }, { id: 'sessions', label: t('visits.sessions') }], tab, (id) => {
        tab = id;
        history.replaceState(null, '', `#/visits/${id}`);
        drawTabs();
        void load();
      }),
    );

  const draw = () => {
    const more = next ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null;
    if (tab === 'visits') clear(list, visitTable(rows as VisitRow[]), more);
    else
      clear(
        list,
        table(
          [t('col.time'), t('col.cabinet'), t('col.flow'), t('col.shopper'), t('col.status'), t('col.order'), t('col.amount')],
          (rows as SessionRow[]).map((s) => [time(s.updatedAt), s.cabinetId, t(`kind.${s.flow}`), s.shopperRef, progress(s), s.orderId ?? '', yuan(s.totalFen)]),
          { class: 'grid sessions' },
        ),
        more,
      );
  };

  const load = async (append = false) => {
    const q = qs({ status: status.value.trim() || undefined, cabinetId: cabinet.value.trim() || undefined, before: append ? next : undefined, limit: 50 });
    try {
      const p = await api<Page<VisitRow | SessionRow>>('GET', `/${tab}${q}`);
      rows = append ? [...rows, ...p.rows] : p.rows;
      next = p.next;
      draw();
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  drawTabs();
  void load();
  // Visit endings in scope arrive on the feed; the list is read again (at most every 2 s), sessions poll too.
  void feed.show({ filter: {}, offset: 0, limit: 0, visits: true, counts: false }, {
    changed: () => undefined,
    visits: () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void load();
      }, 2_000);
    },
  });
  const poll = setInterval(() => tab === 'sessions' && void load(), 5_000);
  return () => {
    clearTimeout(timer);
    clearInterval(poll);
  };
}
