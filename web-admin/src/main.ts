import './style.css';
import { can, type Permission } from '../../contracts/admin-api';
import { allowed, loadSession, logout, whenSignedOut } from './api';
import { feed } from './feed';
import { getLang, setLang, t } from './i18n';
import { clear, h } from './ui';
import { accountsView } from './views/accounts';
import { auditView } from './views/audit';
import { cabinetView } from './views/cabinet';
import { fleetView } from './views/fleet';
import { kpisView } from './views/kpis';
import { loginView } from './views/login';
import { moneyView } from './views/money';
import { reconciliationView } from './views/reconciliation';
import { reviewsView } from './views/reviews';
import { visitsView } from './views/visits';

/** A mounted view: it fills `root` and returns how to tear it down (subscriptions, timers, blob URLs). */
export type View = (root: HTMLElement, args: string[]) => (() => void) | void;

const ROUTES: Array<{ id: string; label: string; perm: Permission; view: View; nav: boolean }> = [
  { id: 'fleet', label: 'nav.fleet', perm: 'fleet.view', view: fleetView, nav: true },
  { id: 'cabinet', label: 'nav.fleet', perm: 'fleet.view', view: cabinetView, nav: false },
  { id: 'visits', label: 'nav.visits', perm: 'fleet.view', view: visitsView, nav: true },
  { id: 'reviews', label: 'nav.reviews', perm: 'review.view', view: reviewsView, nav: true },
  { id: 'money', label: 'nav.money', perm: 'orders.view', view: moneyView, nav: true },
  { id: 'reconciliation', label: 'nav.reconciliation', perm: 'finance.view', view: reconciliationView, nav: true },
  { id: 'kpis', label: 'nav.kpis', perm: 'fleet.view', view: kpisView, nav: true },
  { id: 'audit', label: 'nav.audit', perm: 'audit.view', view: auditView, nav: true },
  { id: 'accounts', label: 'nav.accounts', perm: 'accounts.manage', view: accountsView, nav: true },
];

const app = document.getElementById('app')!;
let teardown: (() => void) | void;

function render(): void {
  teardown?.();
  teardown = undefined;
  const session = loadSession();
  if (!session) {
    feed.close();
    clear(app, shell(undefined));
    const main = app.querySelector('main')!;
    teardown = loginView(main);
    return;
  }
  feed.connect();
  const [id = 'fleet', ...args] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const route = ROUTES.find((r) => r.id === id) ?? ROUTES[0]!;
  clear(app, shell(route.id));
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
  feed.onStatus = (ok) => {
    status.textContent = ok ? `● ${t('live.connected')}` : `○ ${t('live.disconnected')}`;
    status.className = ok ? 'live ok' : 'live down';
  };
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
            ROUTES.filter((r) => r.nav && can(s.principal, r.perm)).map((r) => h('a', { href: `#/${r.id}`, class: r.id === active || (active === 'cabinet' && r.id === 'fleet') ? 'active' : '', 'data-nav': r.id }, t(r.label))),
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
        s ? h('span', { class: 'who', id: 'who' }, `${s.principal.name} · ${s.principal.role} · ${s.principal.sites === '*' ? '*' : s.principal.sites.join(',')}`) : null,
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
