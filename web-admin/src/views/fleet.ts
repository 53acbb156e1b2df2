import type { CabinetState, FleetCounts, FleetFilter, FleetRow } from '../../../contracts/console-api';
import { feed } from '../feed';
import { t } from '../i18n';
import { ago, clear, h } from '../ui';

const ROW = 30;
const MARGIN = 20;
const STATES: CabinetState[] = ['offline', 'idle', 'unlocking', 'open', 'awaiting_upload', 'restocking', 'fault'];
const COLS = ['col.cabinet', 'col.site', 'col.kind', 'col.state', 'col.link', 'col.door', 'col.lock', 'col.temp', 'col.visit', 'col.mailbox', 'col.alarms'];

/** Kept across visits to the view, so coming back from a cabinet keeps the filters. */
const filter: FleetFilter = {};

function cells(r: FleetRow): Array<HTMLElement> {
  return [
    h('a', { href: `#/cabinet/${encodeURIComponent(r.cabinetId)}`, class: 'id' }, r.cabinetId),
    h('span', {}, r.siteId),
    h('span', {}, t(`kind.${r.kind}`)),
    h('span', { class: `state s-${r.state}` }, t(`state.${r.state}`)),
    h('span', { class: r.online ? 'link on' : 'link off', title: r.offlineSince ? new Date(r.offlineSince).toISOString() : '' }, r.online ? t('online') : `${t('offline')} · ${ago(r.lastSeenAt)}`),
    h('span', { class: 'door' }, r.door ? t(`door.${r.door}`) : '—'),
    h('span', { class: 'lock' }, r.locked === undefined ? '—' : r.locked ? t('locked') : t('unlocked')),
    h('span', { class: 'temp' }, r.temperatureC === undefined ? '—' : `${r.temperatureC.toFixed(1)}°C`),
    h('span', { class: 'visit' }, r.visitId ?? ''),
    h('span', { class: r.mailbox > 50 ? 'mailbox hot' : 'mailbox' }, String(r.mailbox)),
    h('span', { class: r.alarms.length ? 'alarms on' : 'alarms' }, r.alarms.join(', ')),
  ];
}

export function fleetView(root: HTMLElement): () => void {
  const countsEl = h('div', { class: 'counts', id: 'counts' });
  const site = h('select', { id: 'f-site', 'aria-label': t('filter.site') });
  const kind = h('select', { id: 'f-kind', 'aria-label': t('filter.kind') }, h('option', { value: '' }, `${t('filter.kind')}: ${t('filter.all')}`), (['open', 'semi', 'auto'] as const).map((k) => h('option', { value: k }, t(`kind.${k}`))));
  const state = h('select', { id: 'f-state', 'aria-label': t('filter.state') }, h('option', { value: '' }, `${t('filter.state')}: ${t('filter.all')}`), STATES.map((s) => h('option', { value: s }, t(`state.${s}`))));
  const q = h('input', { id: 'f-q', type: 'search', placeholder: t('filter.search'), value: filter.q ?? '' });
  kind.value = filter.kind ?? '';
  state.value = filter.state ?? '';
  const header = h('div', { class: 'frow head' }, COLS.map((c) => h('span', {}, t(c))));
  const spacer = h('div', { class: 'spacer' });
  const viewport = h('div', { class: 'viewport', id: 'fleet-viewport' }, spacer);
  clear(root, h('section', { class: 'fleet' }, countsEl, h('div', { class: 'filters' }, site, kind, state, q), header, viewport));

  const els = new Map<string, HTMLElement>();
  let sub = { offset: 0, limit: 0 };
  let raf = 0;
  let debounce: ReturnType<typeof setTimeout> | undefined;

  const renderCounts = (c: FleetCounts | undefined) => {
    if (!c) return;
    clear(
      countsEl,
      (['total', 'online', 'offline', 'inVisit', 'alarms', 'fault', 'restocking'] as const).map((k) =>
        h('div', { class: `count c-${k}`, 'data-count': k }, h('b', {}, String(c[k])), h('span', {}, t(`count.${k}`))),
      ),
    );
  };

  const renderSites = () => {
    const cur = filter.siteId ?? '';
    const sites = feed.state.sites;
    if (site.options.length === sites.length + 1) return;
    clear(site, h('option', { value: '' }, `${t('filter.site')}: ${t('filter.all')}`), sites.map((s) => h('option', { value: s }, s)));
    site.value = cur;
  };

  const place = (id: string, i: number, fresh: boolean) => {
    const r = feed.state.rows.get(id);
    if (!r) return;
    let el = els.get(id);
    if (!el) {
      el = h('div', { class: 'frow', 'data-cabinet': id });
      els.set(id, el);
      viewport.append(el);
      fresh = true;
    }
    el.style.transform = `translateY(${(feed.state.offset + i) * ROW}px)`;
    if (fresh) {
      clear(el, cells(r));
      el.className = `frow st-${r.state}${r.alarms.length ? ' alarmed' : ''}`;
    }
  };

  const renderAll = () => {
    renderCounts(feed.state.counts);
    renderSites();
    spacer.style.height = `${feed.state.total * ROW}px`;
    const keep = new Set(feed.state.order);
    for (const [id, el] of els) {
      if (keep.has(id)) continue;
      el.remove();
      els.delete(id);
    }
    feed.state.order.forEach((id, i) => place(id, i, true));
  };

  const renderSome = (ids: Set<string>) => {
    if (ids.has('*')) {
      renderCounts(feed.state.counts);
      spacer.style.height = `${feed.state.total * ROW}px`;
      const keep = new Set(feed.state.order);
      for (const [id, el] of els) {
      if (keep.has(id)) continue;
      el.remove();
      els.delete(id);
    }
    }
    feed.state.order.forEach((id, i) => {
      if (ids.has(id) || ids.has('*')) {
        const fresh = ids.has(id) || !els.has(id);
        place(id, i, fresh);
        if (ids.has(id)) {
          const el = els.get(id);
          el?.classList.add('flash');
          setTimeout(() => el?.classList.remove('flash'), 900);
        }
      }
    });
  };

  const wanted = () => {
    const first = Math.floor(viewport.scrollTop / ROW);
    const visible = Math.ceil((viewport.clientHeight || 600) / ROW) + 1;
    return { first, visible };
  };

  const subscribe = (force: boolean) => {
    const { first, visible } = wanted();
    if (!force && first >= sub.offset && first + visible <= sub.offset + sub.limit) return;
    sub = { offset: Math.max(0, first - MARGIN), limit: visible + 2 * MARGIN };
    void feed.show({ filter: { ...filter }, offset: sub.offset, limit: sub.limit }, {
      changed: (ids) => {
        cancelAnimationFrame(raf);
        raf = requestAnimationFrame(() => (ids === 'all' ? renderAll() : renderSome(ids)));
      },
    });
  };

  const refilter = () => {
    filter.siteId = site.value || undefined;
    filter.kind = (kind.value || undefined) as FleetFilter['kind'];
    filter.state = (state.value || undefined) as FleetFilter['state'];
    filter.q = q.value.trim() || undefined;
    viewport.scrollTop = 0;
    subscribe(true);
  };
  site.addEventListener('change', refilter);
  kind.addEventListener('change', refilter);
  state.addEventListener('change', refilter);
  q.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(refilter, 250);
  });
  viewport.addEventListener('scroll', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => subscribe(false), 80);
  });
  requestAnimationFrame(() => subscribe(true));
  // Last-seen times age on screen without any message.
  const ageTimer = setInterval(() => feed.state.order.forEach((id, i) => place(id, i, true)), 15_000);
  return () => {
    cancelAnimationFrame(raf);
    clearTimeout(debounce);
    clearInterval(ageTimer);
  };
}
