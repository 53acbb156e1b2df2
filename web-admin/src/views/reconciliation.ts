import type { Page, ReconciliationRow } from '../../../contracts/console-api';
import { api } from '../api';
import { t, tv } from '../i18n';
import { clear, h, table, time } from '../ui';

/** Daily reconciliation against WeChat Pay's trade bill: each report and its differences. */
export function reconciliationView(root: HTMLElement): void {
  const list = h('div', { id: 'recon' }, t('loading'));
  clear(root, h('section', {}, h('h2', {}, t('nav.reconciliation')), list));
  void api<Page<ReconciliationRow>>('GET', '/reconciliation').then(
    (p) =>
      clear(
        list,
        table(
          [t('recon.billDate'), t('col.status'), t('recon.rows'), t('recon.diffs'), t('col.time')],
          p.rows.map((r) => [
            r.billDate,
            h('span', { class: `rs rs-${r.status}` }, tv('recstatus', r.status) + (r.error ? `: ${r.error}` : '')),
            `${r.billRows} / ${r.localRecords}`,
            r.diffs.length
              ? h('details', {}, h('summary', {}, String(r.diffs.length)), table([t('recon.diffs'), t('col.outTradeNo'), t('col.outRefundNo'), t('recon.ours'), t('recon.theirs')], r.diffs.map((d) => [tv('diff', d.kind), d.outTradeNo, d.outRefundNo ?? '', d.ours ?? '', d.theirs ?? ''])))
              : '0',
            time(r.createdAt),
          ]),
        ),
      ),
    (e: Error) => clear(list, h('p', { class: 'error', role: 'alert' }, e.message)),
  );
}
