import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Kpis } from '../../../contracts/console-api';
import { api, qs } from '../api';
import { t } from '../i18n';
import { clear, h, pct, yuan } from '../ui';

const dayTs = (day: string) => Date.parse(`${day}T00:00:00+08:00`) / 1000;

function chart(title: string, x: number[], series: Array<{ label: string; values: Array<number | null>; stroke: string }>, width: number): HTMLElement {
  const box = h('figure', { class: 'chart' }, h('figcaption', {}, title));
  new uPlot(
    {
      width,
      height: 200,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: true } }))],
      axes: [{}, {}],
      scales: { x: { time: true } },
    },
    [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
    box,
  );
  return box;
}

/** KPIs over a window of whole days, from stored records; the online rate also from in-memory samples. */
export function kpisView(root: HTMLElement): () => void {
  const days = h('select', { id: 'k-days' }, [1, 7, 14, 31].map((d) => h('option', { value: d, ...(d === 7 ? { selected: true } : {}) }, `${d} ${t('kpi.days')}`)));
  const body = h('div', {}, t('loading'));
  clear(root, h('section', { class: 'kpis' }, h('div', { class: 'filters' }, days), body));
  const load = async () => {
    try {
      const k = await api<Kpis>('GET', `/kpis${qs({ days: days.value })}`);
      const tile = (id: string, label: string, value: string) => h('div', { class: 'tile', 'data-kpi': id }, h('b', {}, value), h('span', {}, label));
      const width = Math.max(320, Math.min(560, Math.floor((root.clientWidth || 1000) / 2) - 24));
      const x = k.daily.map((d) => dayTs(d.day));
      clear(
        body,
        h(
          'div',
          { class: 'tiles' },
          tile('doorOpen', t('kpi.doorOpen'), pct(k.doorOpenSuccessRate)),
          tile('recognitionP95', t('kpi.recognitionP95'), k.recognitionP95Ms === null ? '—' : `${Math.round(k.recognitionP95Ms)} ms`),
          tile('online', t('kpi.online'), pct(k.onlineRate)),
          tile('sales', t('kpi.sales'), k.salesPerCabinetPerDayFen === null ? '—' : yuan(k.salesPerCabinetPerDayFen)),
          tile('reviewShare', t('kpi.reviewShare'), pct(k.reviewShare)),
          tile('stockOuts', t('kpi.stockOuts'), `${k.stockOuts} / ${k.lanes}`),
        ),
        k.truncated ? h('p', { class: 'muted' }, 'truncated: newest records only') : null,
        h(
          'div',
          { class: 'charts' },
          chart(t('kpi.visitsPerDay'), x, [
            { label: 'visits', values: k.daily.map((d) => d.visits), stroke: '#1e88e5' },
            { label: 'opened', values: k.daily.map((d) => d.doorOpened), stroke: '#43a047' },
            { label: 'unlock failed', values: k.daily.map((d) => d.unlockFailed), stroke: '#e53935' },
          ], width),
          chart(t('kpi.salesPerDay'), x, [{ label: '¥', values: k.daily.map((d) => d.salesFen / 100), stroke: '#8e24aa' }], width),
          chart(t('kpi.p95PerDay'), x, [{ label: 'p95 ms', values: k.daily.map((d) => d.recognitionP95Ms ?? null), stroke: '#fb8c00' }], width),
          k.onlineSamples.length > 1
            ? chart(t('kpi.onlineSamples'), k.onlineSamples.map((s) => s.at / 1000), [{ label: '%', values: k.onlineSamples.map((s) => (s.total ? (100 * s.online) / s.total : null)), stroke: '#00897b' }], width)
            : null,
        ),
      );
    } catch (e) {
      clear(body, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  days.addEventListener('change', () => void load());
  void load();
  const timer = setInterval(() => void load(), 60_000);
  return () => clearInterval(timer);
}
