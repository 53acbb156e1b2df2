import './style.css';
import { can, type Permission } from '../../contracts/admin-api';
import { allowed, loadSession, logout, whenSignedOut } from './api';
import { feed } from './feed';
import { getLang, setLang, t, tv } from './i18n';
import { clear, h } from './ui';
import { alarmCountsLoaded, drawAlarmBadge, refreshAlarmCounts } from './nav-counts';
import { accountsView } from './views/accounts';
import { alarmsView } from './views/alarms';
import { homeView } from './views/home';
import { sitesView } from './views/sites';
import { visitView } from './views/visit';
import { auditView } from './views/audit';
import { cabinetView } from './views/cabinet';
import { fleetView } from './views/fleet';
import { kpisView } from './views/kpis';
import { loginView } from './views/login';
import { moneyView } from './views/money';
import { planogramView } from './views/planogram';
import { productsView } from './views/products';
import { restockView } from './views/restock';
import { reconciliationView } from './views/reconciliation';
import { reviewsView } from './views/reviews';
import { stickersView } from './views/stickers';
import { visitsView } from './views/visits';

/** A mounted view: it fills `root` and returns how to tear it down (subscriptions, timers, blob URLs). */
export type View = (root: HTMLElement, args: string[]) => (() => void) | void;

const ROUTES: Array<{ id: string; label: string; perm: Permission; view: View; nav: boolean; parent?: string }> = [
  { id: 'home', label: 'nav.home', perm: 'fleet.view', view: homeView, nav: true },
  { id: 'fleet', label: 'nav.fleet', perm: 'fleet.view', view: fleetView, nav: true },
  { id: 'cabinet', label: 'nav.fleet', perm: 'fleet.view', view: cabinetView, nav: false, parent: 'fleet' },
  { id: 'planogram', label: 'nav.fleet', perm: 'fleet.view', view: planogramView, nav: false, parent: 'fleet' },
  { id: 'alarms', label: 'nav.alarms', perm: 'fleet.view', view: alarmsView, nav: true },
  { id: 'sites', label: 'nav.sites', perm: 'fleet.view', view: sitesView, nav: true },
  { id: 'visits', label: 'nav.visits', perm: 'fleet.view', view: visitsView, nav: true },
  { id: 'visit', label: 'nav.visits', perm: 'fleet.view', view: visitView, nav: false, parent: 'visits' },
  { id: 'reviews', label: 'nav.reviews', perm: 'review.view', view: reviewsView, nav: true },
  { id: 'money', label: 'nav.money', perm: 'orders.view', view: moneyView, nav: true },
  { id: 'reconciliation', label: 'nav.reconciliation', perm: 'finance.view', view: reconciliationView, nav: true },
  { id: 'products', label: 'nav.products', perm: 'fleet.view', view: productsView, nav: true },
  { id: 'restock', label: 'nav.restock', perm: 'cabinet.restock', view: restockView, nav: true },
  { id: 'kpis', label: 'nav.kpis', perm: 'fleet.view', view: kpisView, nav: true },
  { id: 'stickers', label: 'nav.stickers', perm: 'fleet.view', view: stickersView, nav: true },
  { id: 'audit', label: 'nav.audit', perm: 'audit.view', view: auditView, nav: true },
  { id: 'accounts', label: 'nav.accounts', perm: 'accounts.manage', view: accountsView, nav: true },
];

const app = document.getElementById('app')!;
let teardown: (() => void) | void;
let shellTeardown: Array<() => void> = [];
function render(): void {
  teardown?.();
  teardown = undefined;
  for (const f of shellTeardown) f();
  shellTeardown = [];
  const session = loadSession();
  if (!session) {
    feed.close();
    clear(app, shell(undefined));
    const main = app.querySelector('main')!;
    teardown = loginView(main);
    return;
  }
  feed.connect();
  if (!alarmCountsLoaded()) refreshAlarmCounts();
  const [id = 'home', ...args] = location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').map(decodeURIComponent);
  const route = ROUTES.find((r) => r.id === id) ?? ROUTES[0]!;
  clear(app, shell(route.parent ?? route.id));
  drawAlarmBadge();
  const main = app.querySelector('main')!;
  if (!allowed(route.perm)) {
    main.append(h('p', { class: 'forbidden', role: 'alert' }, t('forbidden')));
    return;
  }
  teardown = route.view(main, args);
}

function shell(active: string | undefined): HTMLElement {
  const s = loadSession();
  const status = h('span', { class: 'live', id: 'live-status' }, '');
  // The shell is drawn again on every navigation: it reads the connection's state now, then follows it.
  shellTeardown.push(
    feed.onStatus((ok) => {
      status.textContent = ok ? `● ${t('live.connected')}` : `○ ${t('live.disconnected')}`;
      status.className = ok ? 'live ok' : 'live down';
    }),
  );
  return h(
    'div',
    { class: 'shell' },
    h(
      'header',
      {},
      h('h1', {}, t('app.title')),
      s
        ? h(
            'nav',
            {},
            ROUTES.filter((r) => r.nav && can(s.principal, r.perm)).map((r) => h('a', { href: `#/${r.id}`, class: r.id === active ? 'active' : '', 'data-nav': r.id }, t(r.label))),
          )
        : null,
      h(
        'div',
        { class: 'right' },
        s ? status : null,
        h(
          'select',
          { 'aria-label': 'language', id: 'lang', onchange: (e: Event) => (setLang((e.target as HTMLSelectElement).value as 'zh' | 'en'), render()) },
          h('option', { value: 'zh', ...(getLang() === 'zh' ? { selected: true } : {}) }, '中文'),
          h('option', { value: 'en', ...(getLang() === 'en' ? { selected: true } : {}) }, 'English'),
        ),
        s ? h('span', { class: 'who', id: 'who', title: `${s.principal.name} · ${tv('role', s.principal.role)} · ${s.principal.sites === '*' ? t('filter.all') : s.principal.sites.join(', ')}` }, `${s.principal.name} · ${tv('role', s.principal.role)}`) : null,
        s ? h('button', { id: 'logout', onclick: () => void logout().then(render) }, t('logout')) : null,
      ),
    ),
    h('main', {}),
  );
}

whenSignedOut(() => render());
feed.onSignedOut = () => {
  sessionStorage.removeItem('console.session');
  render();
};
window.addEventListener('hashchange', render);
setLang(getLang());
render();
setInterval(() => loadSession() && refreshAlarmCounts(), 15_000);
if (loadSession()) refreshAlarmCounts();
