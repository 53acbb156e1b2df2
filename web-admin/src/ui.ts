import { getLang, t } from './i18n';

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

export function notice(el: HTMLElement, text: string, kind: 'ok' | 'error' = 'ok'): void {
  const n = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  el.prepend(n);
  setTimeout(() => n.remove(), 6000);
}

export function json(v: unknown): HTMLElement {
  return h('code', { class: 'json' }, v === null || v === undefined ? '—' : JSON.stringify(v));
}
