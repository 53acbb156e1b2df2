import type { Page, SessionRow, VisitRow } from '../../../contracts/console-api';
import { api, fetchAll, qs } from '../api';
import { feed } from '../feed';
import { FAMILIES, t, tv } from '../i18n';
import { choices, clear, dataTable, dateRange, download, h, hashQuery, isoLocal, tabs, time, toCsv, yuan, type Col, type SortState } from '../ui';
import { visitCols } from './cabinet';

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
    path.map((p, i) => h('span', { class: `step${off ? '' : i < at ? ' done' : i === at ? (s.finished ? ' done' : ' now') : ''}` }, tv('sstatus', p))),
    off ? h('span', { class: `step end end-${s.status}` }, tv('sstatus', s.status)) : null,
  );
}

const SESSION_COLS: Array<Col<SessionRow>> = [
  { id: 'time', label: 'col.time', value: (s) => s.updatedAt, show: (s) => time(s.updatedAt) },
  { id: 'cabinet', label: 'col.cabinet', value: (s) => s.cabinetId },
  { id: 'flow', label: 'col.flow', value: (s) => tv('kind', s.flow) },
  { id: 'shopper', label: 'col.shopper', value: (s) => s.shopperRef },
  { id: 'status', label: 'col.status', value: (s) => tv('sstatus', s.status), show: progress },
  { id: 'order', label: 'col.order', value: (s) => s.orderId ?? '', show: (s) => (s.visitId && s.orderId ? h('a', { href: `#/visit/${encodeURIComponent(s.visitId)}` }, s.orderId) : (s.orderId ?? '')) },
  { id: 'amount', label: 'col.amount', value: (s) => s.totalFen, show: (s) => yuan(s.totalFen), money: true },
];

export function visitsView(root: HTMLElement, args: string[]): () => void {
  let tab = args[0] === 'sessions' ? 'sessions' : 'visits';
  const list = h('div', {});
  const bar = h('div', { class: 'filters' });
  const cabinet = h('input', { id: 'v-cabinet', placeholder: t('col.cabinet') });
  const range = dateRange('v');
  let status: HTMLSelectElement;
  // Shopping or restock (visits only): the home view's "today's visits" opens the shopping ones.
  const purpose = choices('v-purpose', t('visits.purpose'), FAMILIES.purpose!.map((v) => ({ value: v, label: tv('purpose', v) })), hashQuery().get('purpose') ?? '');
  purpose.addEventListener('change', () => void load());
  const header = h('div', {});
  clear(root, h('section', {}, header, bar, list));
  let next: number | undefined;
  let rows: Array<VisitRow | SessionRow> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sort: SortState = { id: 'time', desc: true };
  const cols = (): Array<Col<never>> => (tab === 'visits' ? visitCols() : SESSION_COLS.map((c) => ({ ...c, label: t(c.label) }))) as Array<Col<never>>;

  const drawBar = () => {
    const family = tab === 'visits' ? 'vstatus' : 'sstatus';
    status = choices('v-status', t('col.status'), FAMILIES[family]!.map((v) => ({ value: v, label: tv(family, v) })));
    status.addEventListener('change', () => void load());
    clear(bar, cabinet, status, tab === 'visits' ? purpose : null, range.el, h('button', { onclick: () => void load() }, t('refresh')), h('button', { id: 'v-csv', onclick: () => void exportCsv() }, t('list.csv')));
  };
  for (const el of [cabinet, range.from, range.to]) el.addEventListener('change', () => void load());

  const drawTabs = () =>
    clear(
      header,
      tabs([{ id: 'visits', label: t('visits.visits') }, { id: 'sessions', label: t('visits.sessions') }], tab, (id) => {
        tab = id;
        history.replaceState(null, '', `#/visits/${id}`);
        drawTabs();
        drawBar();
        void load();
      }),
    );

  const draw = (): void => {
    const more = next ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null;
    clear(
      list,
      dataTable(cols(), rows as never[], { class: `grid ${tab}` }, {
        sort,
        onSort: (s) => {
          sort = s;
          draw();
        },
      }),
      more,
    );
  };

  const query = (before?: number) => ({ status: status.value || undefined, purpose: tab === 'visits' ? purpose.value || undefined : undefined, cabinetId: cabinet.value.trim() || undefined, ...range.range(), before, limit: 200 });
  const load = async (append = false) => {
    try {
      const p = await api<Page<VisitRow | SessionRow>>('GET', `/${tab}${qs({ ...query(append ? next : undefined), limit: 50 })}`);
      rows = append ? [...rows, ...p.rows] : p.rows;
      next = p.next;
      draw();
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  const exportCsv = async () => {
    const all = await fetchAll<unknown>(`/${tab}`, query);
    download(`${tab}-${isoLocal(Date.now()).slice(0, 10)}.csv`, toCsv(cols().map((x) => (x.id === 'time' ? { ...x, value: (r: never) => isoLocal(x.value(r) as number) } : x)), all as never[]));
  };

  drawTabs();
  drawBar();
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
