import type { AuditEntry } from '../../../contracts/admin-api';
import type { Page } from '../../../contracts/console-api';
import { api, qs } from '../api';
import { t } from '../i18n';
import { clear, h, json, table, time } from '../ui';

/** The append-only audit log, newest first, filtered by actor and object. */
export function auditView(root: HTMLElement): void {
  const actor = h('input', { id: 'a-actor', placeholder: t('col.actor') });
  const type = h('input', { id: 'a-type', placeholder: 'objectType (order, review_case, cabinet, account…)' });
  const object = h('input', { id: 'a-object', placeholder: 'objectId' });
  const list = h('div', {});
  let rows: AuditEntry[] = [];
  let next: number | undefined;
  const load = async (append = false) => {
    try {
      const p = await api<Page<AuditEntry>>('GET', `/audit${qs({ actorId: actor.value.trim() || undefined, objectType: type.value.trim() || undefined, objectId: object.value.trim() || undefined, before: append ? next : undefined, limit: 50 })}`);
      rows = append ? [...rows, ...p.rows] : p.rows;
      next = p.next;
      clear(
        list,
        table(
          [t('col.time'), t('col.actor'), t('col.action'), t('col.object'), t('col.site'), t('col.before'), t('col.after')],
          rows.map((a) => [time(a.at), `${a.actorId} (${a.actorRole})`, a.action, `${a.objectType} ${a.objectId}`, a.siteId ?? '', json(a.before), json(a.after)]),
          { class: 'grid audit', id: 'audit' },
        ),
        next ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null,
      );
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  const form = h('form', { class: 'filters', onsubmit: (e: Event) => (e.preventDefault(), void load()) }, actor, type, object, h('button', { type: 'submit' }, t('audit.filter')));
  clear(root, h('section', {}, h('h2', {}, t('nav.audit')), form, list));
  void load();
}
