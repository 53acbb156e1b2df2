import { getLang, t, tvAny } from './i18n';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

/** A tiny element builder: h('button', { class: 'x', onclick: fn }, 'Label'). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

export const yuan = (fen: number | undefined): string => (fen === undefined ? '' : `¥${(fen / 100).toFixed(2)}`);

export function time(ms: number | undefined): string {
  if (!ms) return '';
  return new Date(ms).toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ago(ms: number | undefined, now = Date.now()): string {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const zh = getLang() === 'zh';
  if (s < 60) return zh ? `${s} 秒前` : `${s}s ago`;
  if (s < 3600) return zh ? `${Math.floor(s / 60)} 分钟前` : `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return zh ? `${Math.floor(s / 3600)} 小时前` : `${Math.floor(s / 3600)}h ago`;
  return zh ? `${Math.floor(s / 86400)} 天前` : `${Math.floor(s / 86400)}d ago`;
}

export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

export function table(headers: string[], rows: Array<Array<Child | Child[]>>, attrs: Attrs = {}): HTMLTableElement {
  return h(
    'table',
    { class: 'grid', ...attrs },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))) : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, t('empty')))),
  );
}

export function tabs(items: Array<{ id: string; label: string }>, active: string, onPick: (id: string) => void): HTMLElement {
  return h(
    'div',
    { class: 'tabs', role: 'tablist' },
    items.map((i) => h('button', { class: i.id === active ? 'tab active' : 'tab', role: 'tab', 'data-tab': i.id, onclick: () => onPick(i.id) }, i.label)),
  );
}

/** A notice at the top of `el`; a sticky one (a decision's result) stays until the next notice or view. */
export function notice(el: HTMLElement, text: string, kind: 'ok' | 'error' = 'ok', sticky = false): HTMLElement {
  const n = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  el.prepend(n);
  if (!sticky) setTimeout(() => n.remove(), 8000);
  return n;
}

export function json(v: unknown): HTMLElement {
  return h('code', { class: 'json' }, v === null || v === undefined ? '—' : JSON.stringify(v));
}

/** A column of a list: how to show a row, how to sort and export it, and whether it is summed (fen). */
export interface Col<T> {
  id: string;
  label: string;
  /** Sort key and CSV value. */
  value: (r: T) => string | number | undefined;
  show?: (r: T) => Child | Child[];
  /** A money column in fen: the list shows its total. */
  money?: boolean;
  sortable?: boolean;
}

/**
 * A list with sortable column headers (click to sort, again to reverse), an honest "no results" row, and a
 * totals row for money columns (the total of the rows listed, which says how many).
 */
export interface SortState {
  id: string;
  desc: boolean;
}

export function dataTable<T>(cols: Array<Col<T>>, rows: T[], attrs: Attrs = {}, sorting: { sort?: SortState; onSort?: (s: SortState) => void } = {}): HTMLTableElement {
  const { sort, onSort } = sorting;
  const rest = attrs;
  const sorted = [...rows];
  const col = sort && cols.find((c) => c.id === sort.id);
  if (col) {
    sorted.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      const c = x === y ? 0 : x === undefined ? 1 : y === undefined ? -1 : typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), getLang() === 'zh' ? 'zh-CN' : 'en');
      return sort.desc ? -c : c;
    });
  }
  const head = cols.map((c) => {
    const active = sort?.id === c.id;
    const th = h('th', { 'data-col': c.id, ...(c.sortable !== false && onSort ? { class: `sortable${active ? (sort.desc ? ' desc' : ' asc') : ''}`, 'aria-sort': active ? (sort.desc ? 'descending' : 'ascending') : 'none' } : {}) }, c.label, active ? (sort.desc ? ' ▼' : ' ▲') : '');
    if (c.sortable !== false && onSort) th.addEventListener('click', () => onSort({ id: c.id, desc: active ? !sort.desc : false }));
    return th;
  });
  const money = cols.some((c) => c.money);
  const total = money && rows.length ? h('tfoot', {}, h('tr', { class: 'totals' }, cols.map((c, i) => h('td', {}, i === 0 ? t('list.total', { n: rows.length }) : c.money ? yuan(rows.reduce((s, r) => s + (Number(c.value(r)) || 0), 0)) : '')))) : null;
  return h(
    'table',
    { class: 'grid', ...rest },
    h('thead', {}, h('tr', {}, head)),
    h('tbody', {}, sorted.length ? sorted.map((r) => h('tr', {}, cols.map((c) => h('td', { 'data-col': c.id }, c.show ? c.show(r) : String(c.value(r) ?? ''))))) : h('tr', {}, h('td', { colspan: cols.length, class: 'empty no-results' }, t('list.noResults')))),
    total,
  );
}

/** A CSV cell: quoted when it holds a comma, quote or line break (RFC 4180). */
const cell = (v: string | number | undefined): string => {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV text with a UTF-8 byte-order mark, so Excel opens Chinese correctly; money columns in yuan. */
export function toCsv<T>(cols: Array<Col<T>>, rows: T[]): string {
  const lines = [cols.map((c) => cell(c.label)).join(',')];
  for (const r of rows) lines.push(cols.map((c) => (c.money ? cell(((Number(c.value(r)) || 0) / 100).toFixed(2)) : cell(c.value(r)))).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A time for CSV and titles: local date and time, sortable text. */
export const isoLocal = (ms: number | undefined): string => {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

/** A select of choices; the first option is "All". */
export function choices(id: string, label: string, values: ReadonlyArray<{ value: string; label: string }>, current = ''): HTMLSelectElement {
  const s = h('select', { id, 'aria-label': label }, h('option', { value: '' }, `${label}: ${t('filter.all')}`), values.map((v) => h('option', { value: v.value }, v.label)));
  s.value = current;
  return s;
}

/**
 * A date range as two date inputs; `range()` gives from (start of day) and to (end of day) in ms. Days are
 * China Standard Time days, as the service counts "today" (the home view) and WeChat's bills count them, in
 * whatever time zone the browser is; the route may set them (`?from=2026-12-03&to=2026-12-03`).
 */
export function dateRange(prefix: string): { el: HTMLElement; from: HTMLInputElement; to: HTMLInputElement; range(): { from?: number; to?: number } } {
  const from = h('input', { id: `${prefix}-from`, type: 'date', 'aria-label': t('filter.from'), title: t('filter.from') });
  const to = h('input', { id: `${prefix}-to`, type: 'date', 'aria-label': t('filter.to'), title: t('filter.to') });
  const q = hashQuery();
  const isDay = (v: string | null): v is string => !!v && /^\d{4}-\d\d-\d\d$/.test(v);
  if (isDay(q.get('from'))) from.value = q.get('from')!;
  if (isDay(q.get('to'))) to.value = q.get('to')!;
  const day = (v: string) => (v ? Date.parse(`${v}T00:00:00+08:00`) : undefined);
  return {
    el: h('span', { class: 'range' }, h('label', {}, t('filter.from'), ' ', from), h('label', {}, t('filter.to'), ' ', to)),
    from,
    to,
    range: () => {
      const f = day(from.value);
      const e = day(to.value);
      return { ...(f !== undefined ? { from: f } : {}), ...(e !== undefined ? { to: e + 86_400_000 } : {}) };
    },
  };
}

/** A field-by-field diff of two audit values: rows of [field, before, after] for the fields that differ. */
export function fieldDiff(before: unknown, after: unknown): Array<{ field: string; before?: string; after?: string }> {
  const flat = (v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> => {
    if (v === null || v === undefined) return out;
    if (typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null))) {
      out[prefix || '·'] = Array.isArray(v) ? v.join(', ') : String(v);
      return out;
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flat(x, prefix ? `${prefix}.${k}` : k, out);
    return out;
  };
  const a = flat(before);
  const b = flat(after);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => a[k] !== b[k]).map((k) => ({ field: k, ...(a[k] !== undefined ? { before: a[k] } : {}), ...(b[k] !== undefined ? { after: b[k] } : {}) }));
}

/** Fields whose values are stored codes with words in every language (status, role, …): the rest are data. */
const CODED_FIELDS = new Set(['status', 'role', 'kind', 'decision', 'outcome', 'format', 'channel', 'reason', 'refused', 'state', 'purpose', 'flow', 'alarm', 'webhook']);

/**
 * One value of an audit diff as a person reads it: a time (epoch ms or ISO) as a local date and time, a code
 * in words, and everything else (usernames, ids, amounts, free text) exactly as stored: a username such as
 * `admin` is a person, not the role of that name.
 */
export function auditValue(field: string, value: string): string {
  const key = field.split('.').filter((x) => !/^\d+$/.test(x)).pop() ?? field;
  if (/(At|Until)$|^(at|ts)$/.test(key)) {
    if (/^\d{11,14}$/.test(value)) return time(Number(value));
    if (/^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value))) return time(Date.parse(value));
  }
  return CODED_FIELDS.has(key) ? tvAny(value) : value;
}

/** The query part of the route (`#/fleet?state=offline`): how the home view links to filtered lists. */
export const hashQuery = (): URLSearchParams => new URLSearchParams(location.hash.split('?')[1] ?? '');

/**
 * A list read a page at a time: `load()` reads the first page, `load(true)` the next one after the rows held;
 * `draw` is called with every row held and whether there is more; a failure replaces the list with its message.
 */
export function pagedList<T>(list: HTMLElement, fetchPage: (before?: number) => Promise<{ rows: T[]; next?: number }>, draw: (rows: T[], more: boolean) => void): { load(append?: boolean): Promise<void>; rows(): T[]; set(rows: T[]): void } {
  let rows: T[] = [];
  let next: number | undefined;
  return {
    async load(append = false) {
      try {
        const p = await fetchPage(append ? next : undefined);
        rows = append ? [...rows, ...p.rows] : p.rows;
        next = p.next;
        draw(rows, next !== undefined);
      } catch (e) {
        clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
      }
    },
    rows: () => rows,
    set(r) {
      rows = r;
      draw(rows, next !== undefined);
    },
  };
}
