import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Kpis } from '../../../contracts/console-api';
import { api, qs } from '../api';
import { getLang, t } from '../i18n';
import { clear, h, pct, yuan } from '../ui';

const dayTs = (day: string) => Date.parse(`${day}T00:00:00+08:00`) / 1000;

type Series = { label: string; values: Array<number | null>; stroke: string; dash?: number[]; width?: number };

/**
 * A chart of one value per day (or per sample). The x axis is labelled at each point with its date (today
 * says so), the y axis carries its unit, and lines that often coincide (visits and opened) differ in width
 * and dash so neither hides the other.
 */
function chart(title: string, x: number[], series: Series[], width: number, yLabel: string, daily = true): HTMLElement {
  const box = h('figure', { class: 'chart' }, h('figcaption', {}, title));
  const today = dayTs(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10));
  const fmt = (ts: number) => (daily ? (ts === today ? t('kpi.today') : new Date(ts * 1000).toLocaleDateString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { month: '2-digit', day: '2-digit', timeZone: 'Asia/Shanghai' })) : new Date(ts * 1000).toLocaleTimeString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit', hour12: false }));
  new uPlot(
    {
      width,
      height: 220,
      series: [{ label: t('kpi.date'), value: (_u, v) => (v === null ? '—' : fmt(v)) }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: s.width ?? 2, ...(s.dash ? { dash: s.dash } : {}), points: { show: true, size: 7 } }))],
      axes: [
        { label: daily ? t('kpi.date') : t('col.time'), ...(daily ? { splits: () => x, values: (_u: uPlot, splits: number[]) => splits.map(fmt) } : { values: (_u: uPlot, splits: number[]) => splits.map(fmt) }) },
        { label: yLabel },
      ],
      // One day still gets a visible x range around its point.
      scales: { x: { time: true, ...(x.length === 1 ? { range: (): [number, number] => [x[0]! - 43_200, x[0]! + 43_200] } : {}) } },
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
      const tile = (id: string, label: string, value: string, note = '') => h('div', { class: 'tile', 'data-kpi': id }, h('b', {}, value), h('span', {}, label), note ? h('small', { class: 'muted' }, note) : null);
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
          tile('sales', t('kpi.sales'), k.salesPerCabinetPerDayFen === null ? '—' : yuan(k.salesPerCabinetPerDayFen), t('kpi.salesNote', { cabinets: k.cabinets, days: k.days })),
          tile('salesTotal', t('kpi.salesTotal'), yuan(k.daily.reduce((s, d) => s + d.salesFen, 0))),
          tile('reviewShare', t('kpi.reviewShare'), pct(k.reviewShare)),
          tile('stockOuts', t('kpi.stockOuts'), `${k.stockOuts} / ${k.lanes}`),
        ),
        k.truncated ? h('p', { class: 'muted' }, t('kpi.truncated')) : null,
        h(
          'div',
          { class: 'charts' },
          chart(t('kpi.visitsPerDay'), x, [
            { label: t('kpi.visits'), values: k.daily.map((d) => d.visits), stroke: '#1e88e5', width: 5 },
            { label: t('kpi.opened'), values: k.daily.map((d) => d.doorOpened), stroke: '#43a047', width: 2, dash: [8, 5] },
            { label: t('kpi.unlockFailed'), values: k.daily.map((d) => d.unlockFailed), stroke: '#e53935', width: 2, dash: [2, 4] },
          ], width, t('kpi.visits')),
          chart(t('kpi.salesPerDay'), x, [{ label: t('kpi.yuan'), values: k.daily.map((d) => d.salesFen / 100), stroke: '#8e24aa' }], width, t('kpi.yuan')),
          chart(t('kpi.p95PerDay'), x, [{ label: 'P95', values: k.daily.map((d) => d.recognitionP95Ms ?? null), stroke: '#fb8c00' }], width, t('kpi.ms')),
          k.onlineSamples.length > 1
            ? chart(t('kpi.onlineSamples'), k.onlineSamples.map((s) => s.at / 1000), [{ label: t('kpi.percent'), values: k.onlineSamples.map((s) => (s.total ? (100 * s.online) / s.total : null)), stroke: '#00897b' }], width, t('kpi.percent'), false)
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
