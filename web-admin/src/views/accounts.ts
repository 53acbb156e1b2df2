import type { Account } from '../../../contracts/console-api';
import { api } from '../api';
import { t, tv } from '../i18n';
import { clear, h, notice, table, time } from '../ui';

/** Account management (accounts.manage): list, create, disable / enable. Every change is audited by the server. */
export function accountsView(root: HTMLElement): void {
  const list = h('div', {});
  const username = h('input', { id: 'acc-username', placeholder: t('login.username') });
  const name = h('input', { id: 'acc-name', placeholder: t('accounts.name') });
  const role = h('select', { id: 'acc-role' }, (['viewer', 'operator', 'restocker', 'finance', 'admin'] as const).map((r) => h('option', { value: r }, tv('role', r))));
  const sites = h('input', { id: 'acc-sites', placeholder: t('accounts.sites'), value: '*' });
  const password = h('input', { id: 'acc-password', type: 'password', placeholder: t('login.password'), autocomplete: 'new-password' });
  const load = async () => {
    try {
      const r = await api<{ accounts: Account[] }>('GET', '/accounts');
      clear(
        list,
        table(
          [t('login.username'), t('accounts.name'), t('accounts.role'), t('col.site'), t('col.status'), t('col.lastLogin'), ''],
          r.accounts.map((a) => [
            a.username,
            a.name,
            tv('role', a.role),
            a.sites === '*' ? t('filter.all') : a.sites.join(', '),
            // Every account has a status: active or disabled (an empty cell read as unknown).
            h('span', { class: a.disabled ? 'acct disabled' : 'acct active', 'data-status': a.disabled ? 'disabled' : 'active' }, a.disabled ? t('accounts.disabled') : t('accounts.active')),
            time(a.lastLoginAt),
            h('button', { onclick: () => void api('POST', `/accounts/${encodeURIComponent(a.username)}/disabled`, { disabled: !a.disabled }).then(load, (e: Error) => notice(root, e.message, 'error')) }, a.disabled ? t('accounts.enable') : t('accounts.disable')),
          ]),
        ),
      );
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const s = sites.value.trim();
        void api('POST', '/accounts', { username: username.value.trim(), name: name.value.trim(), role: role.value, sites: s === '*' ? '*' : s.split(',').map((x) => x.trim()).filter(Boolean), password: password.value }).then(
          () => {
            password.value = '';
            void load();
          },
          (x: Error) => notice(root, x.message, 'error'),
        );
      },
    },
    username,
    name,
    role,
    sites,
    password,
    h('button', { type: 'submit' }, t('accounts.create')),
  );
  clear(root, h('section', {}, h('h2', {}, t('nav.accounts')), form, list));
  void load();
}
