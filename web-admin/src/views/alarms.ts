import type { AlarmRow, Page } from '../../../contracts/console-api';
import { allowed, api, fetchAll, qs } from '../api';
import { FAMILIES, t, tv } from '../i18n';
import { refreshAlarmCounts } from '../nav-counts';
import { choices, clear, dataTable, dateRange, download, h, hashQuery, isoLocal, notice, pagedList, time, toCsv, type Col } from '../ui';

/**
 * The alarm centre: every alarm of the fleet in scope — open, acknowledged, cleared (an alarm that cleared by
 * itself stays here) — with who acknowledged it and when, the assignee and notes; filtered by status, kind,
 * cabinet and date, sortable, exported as CSV. `#/alarms?cabinet=ID` is one cabinet's history.
 */
export function alarmsView(root: HTMLElement): () => void {
  const q0 = hashQuery();
  const status = choices('al-status', t('col.status'), FAMILIES.astatus!.map((v) => ({ value: v, label: tv('astatus', v) })), q0.get('status') ?? '');
  const kind = choices('al-kind', t('col.kindAlarm'), FAMILIES.alarm!.map((v) => ({ value: v, label: tv('alarm', v) })), q0.get('kind') ?? '');
  const cabinet = h('input', { id: 'al-cabinet', placeholder: t('col.cabinet'), value: q0.get('cabinet') ?? '' });
  const range = dateRange('al');
  const list = h('div', { id: 'alarm-list' });
  const csv = h('button', { id: 'al-csv', onclick: () => void exportCsv() }, t('list.csv'));
  clear(root, h('section', { class: 'alarms-centre' }, h('h2', {}, t('nav.alarms')), h('div', { class: 'filters' }, status, kind, cabinet, range.el, h('button', { onclick: () => void load() }, t('refresh')), csv), list));
  let sort = { id: 'raised', desc: true };

  const query = (before?: number) => ({ status: status.value || undefined, kind: kind.value || undefined, cabinetId: cabinet.value.trim() || undefined, ...range.range(), before, limit: 200 });

  const act = (a: AlarmRow, path: string, body?: unknown) =>
    void api<AlarmRow>('POST', `/alarms/${encodeURIComponent(a.alarmId)}/${path}`, body).then(
      (r) => {
        pages.set(pages.rows().map((x) => (x.alarmId === r.alarmId ? r : x)));
        refreshAlarmCounts();
      },
      (e: Error) => notice(root, e.message, 'error'),
    );

  const actions = (a: AlarmRow): HTMLElement | string => {
    if (!allowed('cabinet.restock', a.siteId)) return '';
    const who = h('input', { class: 'al-assignee', placeholder: t('alarms.assignTo'), value: a.assignee ?? '', size: 10 });
    const text = h('input', { class: 'al-note-text', placeholder: t('alarms.noteText'), size: 14 });
    return h(
      'div',
      { class: 'alarm-actions' },
      a.acknowledgedAt ? null : h('button', { class: 'al-ack', onclick: () => act(a, 'ack') }, t('alarms.ack')),
      h('span', { class: 'inline' }, who, h('button', { class: 'al-assign', onclick: () => act(a, 'assign', { assignee: who.value.trim() || null }) }, t('alarms.assign'))),
      h('span', { class: 'inline' }, text, h('button', { class: 'al-note', onclick: () => text.value.trim() && act(a, 'notes', { text: text.value.trim() }) }, t('alarms.note'))),
    );
  };

  const cols: Array<Col<AlarmRow>> = [
    { id: 'raised', label: t('col.raised'), value: (a) => a.raisedAt, show: (a) => time(a.raisedAt) },
    { id: 'status', label: t('col.status'), value: (a) => tv('astatus', a.status), show: (a) => h('span', { class: `as as-${a.status}` }, tv('astatus', a.status)) },
    { id: 'cabinet', label: t('col.cabinet'), value: (a) => a.cabinetId, show: (a) => h('a', { href: `#/cabinet/${encodeURIComponent(a.cabinetId)}` }, a.cabinetId) },
    { id: 'site', label: t('col.site'), value: (a) => a.siteId },
    { id: 'kind', label: t('col.kindAlarm'), value: (a) => tv('alarm', a.kind) + (a.detail ? ` (${a.detail})` : '') },
    { id: 'ack', label: t('col.ack'), value: (a) => (a.acknowledgedAt ? `${a.acknowledgedBy ?? ''} ${isoLocal(a.acknowledgedAt)}` : ''), show: (a) => (a.acknowledgedAt ? t('alarms.by', { who: a.acknowledgedBy ?? '', when: time(a.acknowledgedAt) }) : '—') },
    { id: 'cleared', label: t('col.cleared'), value: (a) => a.clearedAt, show: (a) => time(a.clearedAt) || '—' },
    { id: 'assignee', label: t('col.assignee'), value: (a) => a.assignee ?? '' },
    { id: 'notes', label: t('col.notes'), value: (a) => a.notes.map((n) => `${n.by}: ${n.text}`).join(' | '), show: (a) => h('ul', { class: 'notes' }, a.notes.map((n) => h('li', {}, h('b', {}, n.by), ` ${time(n.at)}: ${n.text}`))) },
    { id: 'notified', label: t('col.notified'), value: (a) => a.notified, show: (a) => (a.notified ? t('alarms.times', { n: a.notified }) : '—') },
  ];

  const draw = (rows: AlarmRow[], more: boolean): void =>
    clear(
      list,
      h('p', { class: 'muted', id: 'alarm-rows' }, t('list.rows', { n: rows.length })),
      dataTable([...cols, { id: 'actions', label: '', value: () => '', show: actions, sortable: false }], rows, { id: 'alarms', class: 'grid alarms' }, { sort, onSort: (s) => {
        sort = s;
        draw(rows, more);
      } }),
      more ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null,
    );

  const pages = pagedList(list, (before) => api<Page<AlarmRow>>('GET', `/alarms${qs(query(before))}`), draw);
  const load = (append = false) => pages.load(append);

  const exportCsv = async () => {
    const all = await fetchAll<AlarmRow>('/alarms', query);
    download(`alarms-${isoLocal(Date.now()).slice(0, 10)}.csv`, toCsv(cols.map((c) => (c.id === 'raised' || c.id === 'cleared' ? { ...c, value: (a: AlarmRow) => isoLocal(c.value(a) as number | undefined) } : c)), all));
  };

  for (const el of [status, kind, range.from, range.to]) el.addEventListener('change', () => void load());
  cabinet.addEventListener('change', () => void load());
  void load();
  // Re-read while open, unless someone is typing an assignee or a note.
  const poll = setInterval(() => !list.contains(document.activeElement) && void load(), 15_000);
  return () => clearInterval(poll);
}
