import { ApiError, login } from '../api';
import { t } from '../i18n';
import { h } from '../ui';

export function loginView(root: HTMLElement): void {
  const user = h('input', { name: 'username', id: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: (e: Event) => {
        e.preventDefault();
        err.textContent = '';
        void login(user.value.trim(), pass.value).then(
          () => {
            if (!location.hash || location.hash === '#/') location.hash = '#/home';
            else window.dispatchEvent(new HashChangeEvent('hashchange'));
          },
          (x: unknown) => {
            err.textContent = x instanceof ApiError && x.status === 401 ? t('login.failed') : x instanceof Error ? x.message : t('error.generic');
          },
        );
      },
    },
    h('h2', {}, t('login.title')),
    h('label', {}, t('login.username'), user),
    h('label', {}, t('login.password'), pass),
    h('button', { type: 'submit', id: 'login-submit' }, t('login.submit')),
    err,
  );
  root.append(form);
}
