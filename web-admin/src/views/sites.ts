import type { SiteRow, SiteUpsert } from '../../../contracts/console-api';
import { allowed, api } from '../api';
import { FAMILIES, t, tv } from '../i18n';
import { clear, dataTable, h, notice, type Col } from '../ui';

/** Sites as records: name, address, time zone, and the robot told about the site's alarms (admins edit). */
export function sitesView(root: HTMLElement): void {
  const list = h('div', { id: 'sites' }, t('loading'));
  const editor = h('div', { id: 'site-editor' });
  clear(root, h('section', {}, h('h2', {}, t('nav.sites')), list, editor));

  const edit = (s: SiteRow) => {
    const name = h('input', { id: 'site-name', value: s.name, 'aria-label': t('accounts.name') });
    const address = h('input', { id: 'site-address', value: s.address ?? '', 'aria-label': t('col.address'), size: 40 });
    const tz = h('input', { id: 'site-tz', value: s.timeZone, 'aria-label': t('col.timeZone') });
    const url = h('input', { id: 'site-webhook', type: 'url', placeholder: s.webhook?.urlMasked ?? 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…', 'aria-label': t('sites.webhookUrl'), size: 50 });
    const format = h('select', { id: 'site-format', 'aria-label': t('sites.format') }, FAMILIES.format!.map((f) => h('option', { value: f }, tv('format', f))));
    format.value = s.webhook?.format ?? 'wecom';
    const remind = h('input', { id: 'site-remind', type: 'number', min: '1', value: String(s.webhook?.remindEveryMin ?? 15), 'aria-label': t('sites.remind') });
    const mention = h('input', { id: 'site-mention', value: (s.webhook?.mention ?? []).join(','), 'aria-label': t('sites.mention') });
    const removeHook = h('input', { id: 'site-remove-webhook', type: 'checkbox' });
    const save = () => {
      const body: SiteUpsert = { name: name.value.trim(), timeZone: tz.value.trim(), ...(address.value.trim() ? { address: address.value.trim() } : {}) };
      // An empty URL keeps the stored one (its key is not shown back) unless the format or interval changed it.
      if (removeHook.checked) body.webhook = null;
      else if (url.value.trim()) body.webhook = { url: url.value.trim(), format: format.value as 'wecom', remindEveryMin: Number(remind.value) || 15, ...(mention.value.trim() ? { mention: mention.value.split(',').map((x) => x.trim()).filter(Boolean) } : {}) };
      void api<SiteRow>('PUT', `/sites/${encodeURIComponent(s.siteId)}`, body).then(
        () => {
          notice(root, t('sites.saved'));
          clear(editor);
          void load();
        },
        (e: Error) => notice(root, e.message, 'error'),
      );
    };
    clear(
      editor,
      h(
        'form',
        { class: 'site-form', onsubmit: (e: Event) => (e.preventDefault(), save()) },
        h('h3', {}, s.siteId),
        h('label', {}, t('accounts.name'), name),
        h('label', {}, t('col.address'), address),
        h('label', {}, t('col.timeZone'), tz),
        h('label', {}, t('sites.webhookUrl'), url),
        h('label', {}, t('sites.format'), format),
        h('label', {}, t('sites.remind'), remind),
        h('label', {}, t('sites.mention'), mention),
        s.webhook ? h('label', {}, removeHook, t('sites.removeWebhook')) : null,
        h('button', { type: 'submit', id: 'site-save' }, t('sites.save')),
      ),
    );
  };

  const cols: Array<Col<SiteRow>> = [
    { id: 'site', label: t('col.site'), value: (s) => s.siteId, show: (s) => h('a', { href: `#/fleet?site=${encodeURIComponent(s.siteId)}` }, s.siteId) },
    { id: 'name', label: t('accounts.name'), value: (s) => s.name, show: (s) => [s.name, s.recorded ? '' : h('small', { class: 'muted' }, ` · ${t('sites.unrecorded')}`)] },
    { id: 'address', label: t('col.address'), value: (s) => s.address ?? '' },
    { id: 'tz', label: t('col.timeZone'), value: (s) => s.timeZone },
    { id: 'cabinets', label: t('col.cabinets'), value: (s) => s.cabinets, show: (s) => `${s.online}/${s.cabinets} ${t('online')}` },
    { id: 'webhook', label: t('col.webhook'), value: (s) => (s.webhook ? `${tv('format', s.webhook.format)} ${s.webhook.urlMasked}` : t('sites.noWebhook')) },
  ];
  let rows: SiteRow[] = [];
  let sort = { id: 'site', desc: false };
  const draw = (): void =>
    clear(
      list,
      dataTable([...cols, { id: 'edit', label: '', sortable: false, value: () => '', show: (s) => (allowed('accounts.manage', s.siteId) ? h('button', { class: 'site-edit', 'data-site': s.siteId, onclick: () => edit(s) }, t('sites.edit')) : '') }], rows, { class: 'grid sites' }, { sort, onSort: (s) => {
        sort = s;
        draw();
      } }),
    );
  const load = async () => {
    try {
      rows = (await api<{ sites: SiteRow[] }>('GET', '/sites')).sites;
      draw();
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  void load();
}
