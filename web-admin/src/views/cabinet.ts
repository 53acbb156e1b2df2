import type { CabinetDetail, FleetRow, VisitRow } from '../../../contracts/console-api';
import { OPERATOR_ROUTES, type RestockUnlockResponse } from '../../../contracts/admin-api';
import { allowed, api, frameUrl } from '../api';
import { feed } from '../feed';
import { isFault, isStale } from '../../../contracts/fleet-view';
import { getLang, t, tv } from '../i18n';
import { ago, clear, dataTable, h, notice, table, time, type Col } from '../ui';
import type { z } from 'zod';

export function liveBox(r: FleetRow | undefined): HTMLElement {
  if (!r) return h('p', { class: 'muted' }, t('empty'));
  const stale = isStale(r);
  const item = (k: string, v: string, cls = '', old = false) => h('div', { class: `kv ${cls}${old && stale && v !== '—' ? ' stale' : ''}`, 'data-field': k, ...(old && stale && v !== '—' ? { title: `${t('stale')} (${time(r.lastSeenAt)})` } : {}) }, h('span', {}, t(k)), h('b', {}, v));
  return h(
    'div',
    { class: 'live-box', id: 'live-box', 'data-state': r.state },
    item('col.state', r.doorFault ? t('state.doorFault') : tv('state', r.state), `s-${isFault(r) ? 'fault' : r.state}`),
    item('col.link', r.online ? t('online') : `${t('offline')} · ${ago(r.lastSeenAt)}`, r.online ? 'on' : 'off'),
    item('col.door', r.door ? tv('door', r.door) : '—', '', true),
    item('col.lock', r.locked === undefined ? '—' : r.locked ? t('locked') : t('unlocked'), '', true),
    item('col.temp', r.temperatureC === undefined ? '—' : `${r.temperatureC.toFixed(1)}°C`, '', true),
    item('col.visit', r.visitId && r.online ? r.visitId : '—'),
    item('col.mailbox', String(r.mailbox)),
    item('col.alarms', r.alarms.map((a) => tv('alarm', a)).join('、') || '—', r.alarms.length ? 'alarm' : ''),
  );
}

const frameCount = (v: VisitRow) =>
  Object.entries(v.receivedFrames)
    .map(([c, n]) => `${c}:${n}${v.expectedFrames?.[c] !== undefined ? `/${v.expectedFrames[c]}` : ''}`)
    .join(' ');

/** The visits list's columns (the visits view and a cabinet's recent visits). */
export function visitCols(): Array<Col<VisitRow>> {
  return [
    { id: 'time', label: t('col.time'), value: (v) => v.requestedAt, show: (v) => h('a', { href: `#/visit/${encodeURIComponent(v.visitId)}`, class: 'visit-link' }, time(v.requestedAt)) },
    { id: 'cabinet', label: t('col.cabinet'), value: (v) => v.cabinetId },
    { id: 'purpose', label: t('visits.purpose'), value: (v) => tv('purpose', v.purpose) },
    { id: 'status', label: t('col.status'), value: (v) => tv('vstatus', v.status), show: (v) => h('span', { class: `vs vs-${v.status}` }, tv('vstatus', v.status)) },
    { id: 'shopper', label: t('col.shopper'), value: (v) => v.shopperRef ?? v.operatorId ?? '' },
    { id: 'frames', label: t('visits.frames'), value: frameCount, sortable: false },
    { id: 'recognition', label: t('visits.recognition'), value: (v) => (v.recognition ? `${tv('recog', v.recognition.status)} ${(v.recognition.confidence * 100).toFixed(0)}% ${v.recognition.items.map((i) => `${i.sku}×${i.qty}`).join(' ')}` : ''), sortable: false },
  ];
}

export function visitTable(rows: VisitRow[]): HTMLElement {
  return dataTable(visitCols(), rows, { class: 'grid visits' });
}

/** A timeline entry's detail in words: an alarm's kind, a visit's purpose. */
function timelineDetail(kind: string, detail: string): string {
  if (kind === 'alarm_raised' || kind === 'alarm_cleared') {
    const [k, ...rest] = detail.split(': ');
    return tv('alarm', k) + (rest.length ? `: ${rest.join(': ')}` : '');
  }
  return kind === 'visit_requested' ? tv('purpose', detail) : detail;
}

export function cabinetView(root: HTMLElement, args: string[]): () => void {
  const cabinetId = args[0] ?? '';
  const urls: string[] = [];
  const live = h('div', {});
  const body = h('div', { class: 'cabinet-body' }, t('loading'));
  const actions = h('div', { class: 'actions' });
  clear(root, h('section', { class: 'cabinet' }, h('h2', {}, h('a', { href: '#/fleet' }, t('nav.fleet')), ' / ', cabinetId), actions, h('h3', {}, t('cabinet.live')), live, body));
  let refetch: ReturnType<typeof setTimeout> | undefined;

  const load = async () => {
    try {
      const d = await api<CabinetDetail>('GET', `/cabinets/${encodeURIComponent(cabinetId)}`);
      render(d);
    } catch (e) {
      clear(body, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  const render = (d: CabinetDetail) => {
    clear(actions);
    if (allowed('cabinet.restock', d.cabinet.siteId) && d.cabinet.kind !== 'open') {
      actions.append(
        h('button', {
          id: 'restock-unlock',
          onclick: () =>
            void api<z.infer<typeof RestockUnlockResponse>>('POST', OPERATOR_ROUTES.restockUnlock.path.replace(':cabinetId', encodeURIComponent(cabinetId))).then(
              (r) => notice(root, `${t('cabinet.restockDone')}${r.visitId}`),
              (e: Error) => notice(root, e.message, 'error'),
            ),
        }, t('cabinet.restock')),
      );
    }
    const c = d.cabinet;
    const frames = h('div', { class: 'frames', id: 'cabinet-frames' });
    const withFrames = d.visits.find((v) => v.frames?.length);
    // Every frame of that visit (cameras × phases), not a first dozen; images load lazily as they scroll in.
    for (const f of withFrames?.frames ?? []) {
      const img = h('img', { alt: `${f.camera} ${f.phase} #${f.seq}`, width: 160, loading: 'lazy' });
      frames.append(h('figure', {}, img, h('figcaption', {}, `${f.camera} · ${f.phase === 'before' || f.phase === 'after' ? t(`reviews.${f.phase}`) : f.phase} · #${f.seq}`)));
      void frameUrl(withFrames!.visitId, f.camera, f.seq).then((u) => (urls.push(u), (img.src = u)), () => undefined);
    }
    clear(
      body,
      h('p', { class: 'muted' }, `${c.name} · ${tv('kind', c.kind)} · ${c.siteId} · ${t('cabinet.cameras')}: ${c.cameras.join(', ') || '—'} · ${t('cabinet.firmware')}: ${c.firmware ?? '—'}`),
      h(
        'div',
        { class: 'cols' },
        h(
          'div',
          {},
          h('h3', {}, t('cabinet.planogram'), ' ', h('a', { href: `#/planogram/${encodeURIComponent(cabinetId)}`, id: 'cabinet-planogram-link' }, t('cabinet.planogramVersions'))),
          table(
            [t('col.lane'), t('col.sku'), t('col.name'), t('col.stock')],
            d.planogram.map((l) => [l.laneId, l.sku, (getLang() === 'en' ? l.nameEn : l.name) ?? '', h('span', { class: l.count === 0 ? 'stock out' : 'stock' }, `${l.count}/${l.capacity}`)]),
            { class: 'grid planogram' },
          ),
        ),
        h(
          'div',
          {},
          h('h3', {}, t('cabinet.timeline')),
          h('ol', { class: 'timeline', id: 'timeline' }, d.timeline.map((e) => h('li', { class: `tl tl-${e.kind}` }, h('time', {}, time(e.at)), ' ', tv('tl', e.kind), e.detail ? ` · ${timelineDetail(e.kind, e.detail)}` : '', e.visitId ? [' · ', h('a', { href: `#/visit/${encodeURIComponent(e.visitId)}` }, e.visitId)] : ''))),
          h('h3', {}, t('cabinet.alarms'), ' ', h('a', { href: `#/alarms?cabinet=${encodeURIComponent(cabinetId)}`, id: 'cabinet-alarm-history' }, t('cabinet.allAlarms'))),
          table([t('col.raised'), t('col.kindAlarm'), t('col.cleared')], d.alarms.map((a) => [time(a.raisedAt), tv('alarm', a.kind) + (a.detail ? ` (${a.detail})` : ''), time(a.clearedAt) || '—']), { class: 'grid cabinet-alarms' }),
        ),
      ),
      h('h3', {}, t('cabinet.frames'), withFrames ? [' · ', h('a', { href: `#/visit/${encodeURIComponent(withFrames.visitId)}` }, withFrames.visitId), ` (${withFrames.frames!.length})`] : ''),
      frames,
      h('h3', {}, t('cabinet.visits')),
      visitTable(d.visits),
    );
  };

  void feed.show(
    { filter: {}, offset: 0, limit: 0, cabinetId, counts: false },
    {
      changed: () => clear(live, liveBox(feed.state.cabinet)),
      visits: (vs) => {
        if (!vs.some((v) => v.cabinetId === cabinetId)) return;
        clearTimeout(refetch);
        refetch = setTimeout(() => void load(), 300);
      },
    },
  );
  void load();
  return () => {
    clearTimeout(refetch);
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
