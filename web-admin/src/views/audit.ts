import type { AuditEntry } from '../../../contracts/admin-api';
import type { Page } from '../../../contracts/console-api';
import { api, qs } from '../api';
import { t, tv } from '../i18n';
import { auditValue, clear, fieldDiff, h, table, time } from '../ui';

/** An entry's change as a field-by-field list (only the fields that changed): field, before → after. */
export function changeList(a: Pick<AuditEntry, 'before' | 'after'>): HTMLElement {
  const rows = fieldDiff(a.before, a.after);
  if (!rows.length) return h('span', { class: 'muted' }, t('audit.nothing'));
  return h(
    'dl',
    { class: 'diff' },
    rows.flatMap((r) => [
      h('dt', { title: r.field }, r.field.split('.').map((x) => tv('field', x)).join(' · ')),
      h('dd', {}, r.before !== undefined ? h('del', {}, auditValue(r.field, r.before)) : h('em', { class: 'muted' }, t('audit.added')), ' → ', r.after !== undefined ? h('ins', {}, auditValue(r.field, r.after)) : h('em', { class: 'muted' }, t('audit.removed'))),
    ]),
  );
}

/** The append-only audit log, newest first, filtered by actor and object; each change as a readable diff. */
export function auditView(root: HTMLElement): void {
  const actor = h('input', { id: 'a-actor', placeholder: t('col.actor') });
  const type = h('input', { id: 'a-type', placeholder: t('audit.objectType'), list: 'a-types' });
  const types = h('datalist', { id: 'a-types' }, ['order', 'review_case', 'cabinet', 'account', 'alarm', 'site', 'debt'].map((v) => h('option', { value: v })));
  const object = h('input', { id: 'a-object', placeholder: t('audit.objectId') });
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
          [t('col.time'), t('col.actor'), t('col.action'), t('col.object'), t('col.site'), t('col.change')],
          rows.map((a) => [time(a.at), `${a.actorId} (${tv('role', a.actorRole)})`, h('code', {}, a.action), `${tv('otype', a.objectType)} ${a.objectId}`, a.siteId ?? '', changeList(a)]),
          { class: 'grid audit', id: 'audit' },
        ),
        next ? h('button', { class: 'more', onclick: () => void load(true) }, t('more')) : null,
      );
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  const form = h('form', { class: 'filters', onsubmit: (e: Event) => (e.preventDefault(), void load()) }, actor, type, types, object, h('button', { type: 'submit' }, t('audit.filter')));
  clear(root, h('section', {}, h('h2', {}, t('nav.audit')), form, list));
  void load();
}
