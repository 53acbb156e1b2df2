import type { CabinetState, FleetCounts, FleetFilter, FleetRow, FleetSort, SiteRow } from '../../../contracts/console-api';
import { isFault, isStale } from '../../../contracts/fleet-view';
import { api } from '../api';
import { feed } from '../feed';
import { t, tv } from '../i18n';
import { ago, clear, h, hashQuery, time } from '../ui';

const ROW = 30;
const MARGIN = 20;
const STATES: CabinetState[] = ['offline', 'idle', 'unlocking', 'open', 'awaiting_upload', 'restocking', 'fault'];
/** Column → the sort it asks for (undefined: not sortable). */
const COLS: Array<[string, FleetSort | undefined]> = [
  ['col.cabinet', 'id'],
  ['col.site', 'site'],
  ['col.kind', undefined],
  ['col.state', 'state'],
  ['col.link', 'lastSeen'],
  ['col.door', undefined],
  ['col.lock', undefined],
  ['col.temp', 'temp'],
  ['col.visit', undefined],
  ['col.mailbox', 'mailbox'],
  ['col.alarms', 'alarms'],
];
/** What each count tile filters to when clicked (the tile's number is that list's length). */
const TILE_FILTER: Record<keyof FleetCounts, Partial<FleetFilter>> = {
  total: {},
  online: { state: 'online' },
  offline: { state: 'offline' },
  inVisit: { state: 'inVisit' },
  alarms: { alarmsOnly: true, sort: 'alarms' },
  fault: { state: 'fault' },
  restocking: { state: 'restocking' },
};

/** Kept across visits to the view, so coming back from a cabinet keeps the filters and the sort. */
let filter: FleetFilter = {};
let siteNames = new Map<string, string>();

function cells(r: FleetRow): Array<HTMLElement> {
  // An offline cabinet's door, lock and temperature are what it said before it went: marked, with when.
  const stale = isStale(r);
  const old = (cls: string, text: string) => h('span', { class: stale && text !== '—' ? `${cls} stale` : cls, ...(stale && text !== '—' ? { title: `${t('stale')} (${time(r.lastSeenAt)})` } : {}) }, text);
  const fault = isFault(r);
  return [
    h('a', { href: `#/cabinet/${encodeURIComponent(r.cabinetId)}`, class: 'id' }, r.cabinetId),
    h('span', { title: r.siteId }, siteNames.get(r.siteId) ?? r.siteId),
    h('span', {}, tv('kind', r.kind)),
    h('span', { class: `state s-${fault ? 'fault' : r.state}` }, r.doorFault ? (r.state === 'idle' ? t('state.doorFault') : `${tv('state', r.state)} · ${t('state.doorFault')}`) : tv('state', r.state)),
    h('span', { class: r.online ? 'link on' : 'link off', title: r.offlineSince ? time(r.offlineSince) : '' }, r.online ? t('online') : `${t('offline')} · ${ago(r.lastSeenAt)}`),
    old('door', r.door ? tv('door', r.door) : '—'),
    old('lock', r.locked === undefined ? '—' : r.locked ? t('locked') : t('unlocked')),
    old('temp', r.temperatureC === undefined ? '—' : `${r.temperatureC.toFixed(1)}°C`),
    h('span', { class: 'visit' }, r.visitId && r.online ? h('a', { href: `#/visit/${encodeURIComponent(r.visitId)}` }, r.visitId) : ''),
    h('span', { class: r.mailbox > 50 ? 'mailbox hot' : 'mailbox' }, String(r.mailbox)),
    h('span', { class: r.alarms.length ? 'alarms on' : 'alarms' }, r.alarms.map((a) => tv('alarm', a)).join('、')),
  ];
}

/** The filter a link asked for (`#/fleet?state=offline&offlineFor=15`), replacing the kept one. */
function fromLink(): void {
  const q = hashQuery();
  if (![...q.keys()].length) return;
  filter = {};
  const state = q.get('state');
  if (state) filter.state = state as FleetFilter['state'];
  if (q.get('alarms') === '1') filter.alarmsOnly = true;
  const off = Number(q.get('offlineFor'));
  if (off > 0) filter.offlineForMin = off;
  const site = q.get('site');
  if (site) filter.siteId = site;
  const sort = q.get('sort');
  if (sort) filter.sort = sort as FleetSort;
}

export function fleetView(root: HTMLElement): () => void {
  fromLink();
  const countsEl = h('div', { class: 'counts', id: 'counts' });
  const sitesEl = h('div', { class: 'site-strip', id: 'site-strip' });
  const site = h('select', { id: 'f-site', 'aria-label': t('filter.site') });
  const kind = h('select', { id: 'f-kind', 'aria-label': t('filter.kind') }, h('option', { value: '' }, `${t('filter.kind')}: ${t('filter.all')}`), (['open', 'semi', 'auto'] as const).map((k) => h('option', { value: k }, tv('kind', k))));
  const state = h(
    'select',
    { id: 'f-state', 'aria-label': t('filter.state') },
    h('option', { value: '' }, `${t('filter.state')}: ${t('filter.all')}`),
    h('option', { value: 'alarms' }, t('filter.alarmsOnly')),
    h('option', { value: 'online' }, t('online')),
    h('option', { value: 'inVisit' }, t('filter.inVisit')),
    STATES.map((s) => h('option', { value: s }, tv('state', s))),
  );
  const q = h('input', { id: 'f-q', type: 'search', placeholder: t('filter.search'), value: filter.q ?? '' });
  const offlineNote = h('span', { class: 'muted', id: 'f-offline-for' });
  const clearBtn = h('button', { id: 'f-clear', onclick: () => ((filter = {}), history.replaceState(null, '', '#/fleet'), syncControls(), refilter()) }, t('filter.clear'));
  const header = h('div', { class: 'frow head' });
  const spacer = h('div', { class: 'spacer' });
  const empty = h('div', { class: 'no-results', id: 'fleet-empty', hidden: true }, t('list.noResults'));
  const viewport = h('div', { class: 'viewport', id: 'fleet-viewport' }, spacer, empty);
  clear(root, h('section', { class: 'fleet' }, countsEl, sitesEl, h('div', { class: 'filters' }, site, kind, state, q, offlineNote, clearBtn), header, viewport));

  const syncControls = () => {
    kind.value = filter.kind ?? '';
    state.value = filter.alarmsOnly ? 'alarms' : (filter.state ?? '');
    site.value = filter.siteId ?? '';
    q.value = filter.q ?? '';
    offlineNote.textContent = filter.offlineForMin ? t('filter.offlineFor', { n: filter.offlineForMin }) : '';
    drawHeader();
  };
  const drawHeader = () =>
    clear(
      header,
      COLS.map(([label, sort]) => {
        const active = sort !== undefined && (filter.sort ?? 'id') === sort;
        const el = h('span', { class: sort ? `sortable${active ? ' active' : ''}` : '', 'data-sort': sort ?? '', ...(label === 'col.mailbox' ? { title: t('col.mailboxTitle') } : {}) }, t(label), active ? (filter.desc ? ' ▼' : ' ▲') : '');
        if (sort)
          el.addEventListener('click', () => {
            filter.desc = active ? !filter.desc : false;
            filter.sort = sort;
            drawHeader();
            refilter();
          });
        return el;
      }),
    );

  const els = new Map<string, HTMLElement>();
  let sub = { offset: 0, limit: 0 };
  let raf = 0;
  let debounce: ReturnType<typeof setTimeout> | undefined;

  const renderCounts = (c: FleetCounts | undefined) => {
    if (!c) return;
    clear(
      countsEl,
      (['total', 'online', 'offline', 'inVisit', 'alarms', 'fault', 'restocking'] as const).map((k) =>
        h(
          'button',
          {
            class: `count c-${k}`,
            'data-count': k,
            onclick: () => {
              filter = { ...(filter.siteId ? { siteId: filter.siteId } : {}), ...(filter.kind ? { kind: filter.kind } : {}), ...TILE_FILTER[k] };
              syncControls();
              refilter();
            },
          },
          h('b', {}, String(c[k])),
          h('span', {}, t(`count.${k}`)),
        ),
      ),
    );
  };

  const renderSites = () => {
    const cur = filter.siteId ?? '';
    const sites = feed.state.sites;
    if (site.options.length !== sites.length + 1) {
      clear(site, h('option', { value: '' }, `${t('filter.site')}: ${t('filter.all')}`), sites.map((s) => h('option', { value: s }, siteNames.get(s) ?? s)));
      site.value = cur;
    }
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
      el.className = `frow st-${r.state}${r.alarms.length ? ' alarmed' : ''}${isStale(r) ? ' is-stale' : ''}`;
    }
  };

  const drop = () => {
    const keep = new Set(feed.state.order);
    for (const [id, el] of els) {
      if (keep.has(id)) continue;
      el.remove();
      els.delete(id);
    }
  };

  const renderAll = () => {
    renderCounts(feed.state.counts);
    renderSites();
    spacer.style.height = `${feed.state.total * ROW}px`;
    empty.hidden = feed.state.total > 0;
    drop();
    feed.state.order.forEach((id, i) => place(id, i, true));
  };

  const renderSome = (ids: Set<string>) => {
    if (ids.has('*')) {
      renderCounts(feed.state.counts);
      spacer.style.height = `${feed.state.total * ROW}px`;
      empty.hidden = feed.state.total > 0;
      drop();
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
    viewport.scrollTop = 0;
    subscribe(true);
  };
  const fromControls = () => {
    filter.siteId = site.value || undefined;
    filter.kind = (kind.value || undefined) as FleetFilter['kind'];
    filter.alarmsOnly = state.value === 'alarms' || undefined;
    filter.state = (state.value && state.value !== 'alarms' ? state.value : undefined) as FleetFilter['state'];
    filter.q = q.value.trim() || undefined;
    refilter();
  };
  site.addEventListener('change', fromControls);
  kind.addEventListener('change', fromControls);
  state.addEventListener('change', fromControls);
  q.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(fromControls, 250);
  });
  viewport.addEventListener('scroll', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => subscribe(false), 80);
  });
  syncControls();
  requestAnimationFrame(() => subscribe(true));
  // Sites as records: names for the site column and filter, and a strip grouping the fleet by site.
  void api<{ sites: SiteRow[] }>('GET', '/sites').then(
    (r) => {
      siteNames = new Map(r.sites.map((s) => [s.siteId, s.name]));
      clear(
        sitesEl,
        r.sites.map((s) =>
          h(
            'button',
            { class: filter.siteId === s.siteId ? 'site-chip active' : 'site-chip', 'data-site': s.siteId, onclick: () => ((filter.siteId = filter.siteId === s.siteId ? undefined : s.siteId), syncControls(), refilter(), [...sitesEl.children].forEach((c) => c.classList.toggle('active', (c as HTMLElement).dataset.site === filter.siteId))) },
            h('b', {}, s.name),
            ` ${s.online}/${s.cabinets} ${t('online')}`,
          ),
        ),
      );
      site.replaceChildren();
      renderSites();
      feed.state.order.forEach((id, i) => place(id, i, true));
    },
    () => undefined,
  );
  // Last-seen times age on screen without any message.
  const ageTimer = setInterval(() => feed.state.order.forEach((id, i) => place(id, i, true)), 15_000);
  return () => {
    cancelAnimationFrame(raf);
    clearTimeout(debounce);
    clearInterval(ageTimer);
  };
}
