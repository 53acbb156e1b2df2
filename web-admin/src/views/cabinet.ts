import type { CabinetDetail, FleetRow, VisitRow } from '../../../contracts/console-api';
import { OPERATOR_ROUTES, type RestockUnlockResponse } from '../../../contracts/admin-api';
import { allowed, api, frameUrl } from '../api';
import { feed } from '../feed';
import { t } from '../i18n';
import { ago, clear, h, notice, table, time } from '../ui';
import type { z } from 'zod';

export function liveBox(r: FleetRow | undefined): HTMLElement {
  if (!r) return h('p', { class: 'muted' }, t('empty'));
  const item = (k: string, v: string, cls = '') => h('div', { class: `kv ${cls}`, 'data-field': k }, h('span', {}, t(k)), h('b', {}, v));
  return h(
    'div',
    { class: 'live-box', id: 'live-box', 'data-state': r.state },
    item('col.state', t(`state.${r.state}`), `s-${r.state}`),
    item('col.link', r.online ? t('online') : `${t('offline')} · ${ago(r.lastSeenAt)}`, r.online ? 'on' : 'off'),
    item('col.door', r.door ? t(`door.${r.door}`) : '—'),
    item('col.lock', r.locked === undefined ? '—' : r.locked ? t('locked') : t('unlocked')),
    item('col.temp', r.temperatureC === undefined ? '—' : `${r.temperatureC.toFixed(1)}°C`),
    item('col.visit', r.visitId ?? '—'),
    item('col.mailbox', String(r.mailbox)),
    item('col.alarms', r.alarms.join(', ') || '—', r.alarms.length ? 'alarm' : ''),
  );
}

export function visitTable(rows: VisitRow[]): HTMLElement {
  return table(
    [t('col.time'), t('col.cabinet'), t('visits.purpose'), t('col.status'), t('col.shopper'), t('visits.frames'), t('visits.recognition')],
    rows.map((v) => [
      time(v.requestedAt),
      v.cabinetId,
      v.purpose,
      h('span', { class: `vs vs-${v.status}` }, v.status),
      v.shopperRef ?? v.operatorId ?? '',
      Object.entries(v.receivedFrames)
        .map(([c, n]) => `${c}:${n}${v.expectedFrames?.[c] !== undefined ? `/${v.expectedFrames[c]}` : ''}`)
        .join(' '),
      v.recognition ? `${v.recognition.status} ${(v.recognition.confidence * 100).toFixed(0)}% ${v.recognition.items.map((i) => `${i.sku}×${i.qty}`).join(' ')}` : '',
    ]),
    { class: 'grid visits' },
  );
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
    const frames = h('div', { class: 'frames' });
    const withFrames = d.visits.find((v) => v.frames?.length);
    if (withFrames?.frames) {
      for (const f of withFrames.frames.slice(0, 12)) {
        const img = h('img', { alt: `${f.camera} ${f.phase} #${f.seq}`, width: 160 });
        frames.append(h('figure', {}, img, h('figcaption', {}, `${f.camera} · ${f.phase} · #${f.seq}`)));
        void frameUrl(withFrames.visitId, f.camera, f.seq).then((u) => (urls.push(u), (img.src = u)), () => undefined);
      }
    }
    clear(
      body,
      h('p', { class: 'muted' }, `${c.name} · ${t(`kind.${c.kind}`)} · ${c.siteId} · ${c.cameras.join(', ') || '—'} · fw ${c.firmware ?? '—'}`),
      h(
        'div',
        { class: 'cols' },
        h(
          'div',
          {},
          h('h3', {}, t('cabinet.planogram')),
          table(
            ['lane', 'SKU', '', 'stock'],
            d.planogram.map((l) => [l.laneId, l.sku, (document.documentElement.lang === 'en' ? l.nameEn : l.name) ?? '', h('span', { class: l.count === 0 ? 'stock out' : 'stock' }, `${l.count}/${l.capacity}`)]),
            { class: 'grid planogram' },
          ),
        ),
        h(
          'div',
          {},
          h('h3', {}, t('cabinet.timeline')),
          h('ol', { class: 'timeline', id: 'timeline' }, d.timeline.map((e) => h('li', { class: `tl tl-${e.kind}` }, h('time', {}, time(e.at)), ' ', e.kind, e.detail ? ` · ${e.detail}` : '', e.visitId ? ` · ${e.visitId}` : ''))),
          h('h3', {}, t('cabinet.alarms')),
          table([t('col.time'), 'kind', 'cleared'], d.alarms.map((a) => [time(a.raisedAt), a.kind + (a.detail ? ` (${a.detail})` : ''), time(a.clearedAt)])),
        ),
      ),
      h('h3', {}, t('cabinet.frames'), withFrames ? ` · ${withFrames.visitId}` : ''),
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
