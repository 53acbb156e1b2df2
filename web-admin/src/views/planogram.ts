import type { ProductRow } from '../../../contracts/catalogue-api';
import type { CabinetDetail } from '../../../contracts/console-api';
import { laneOrder, planogramDiff, planogramOf, type LaneChange, type PlanogramLane, type PlanogramResponse, type ProposePlanogramRequest } from '../../../contracts/planogram';
import { OPERATOR_ROUTES } from '../../../contracts/admin-api';
import { parOf } from '../../../contracts/restock';
import { assertNever } from '../../../common/assert-never';
import { allowed, api, ApiError } from '../api';
import { getLang, t, tv } from '../i18n';
import { clear, h, notice, table, time } from '../ui';

/** Rows (lane letters) and columns (lane numbers) a grid spans: from A and 1 to the furthest lane. */
export function gridOf(laneIds: readonly string[]): { rows: number; cols: number } {
  return { rows: Math.max(0, ...laneIds.map((id) => id.charCodeAt(0) - 64)), cols: Math.max(0, ...laneIds.map((id) => Number(id.slice(1)))) };
}

export const laneIdAt = (row: number, col: number): string => `${String.fromCharCode(65 + row)}${col + 1}`;

/** A lane as typed in the editor: numbers stay text until the review checks them. */
interface DraftLane {
  laneId: string;
  sku: string;
  capacity: string;
  par: string;
}

/** Why a draft cannot be saved (as translation keys with their values); empty when every lane is sound. */
export function draftProblems(draft: readonly DraftLane[]): Array<{ key: string; vars: Record<string, string | number> }> {
  const whole = (s: string, min: number) => /^\d{1,2}$/.test(s.trim()) && Number(s) >= min && Number(s) <= 50;
  const out: Array<{ key: string; vars: Record<string, string | number> }> = [];
  if (!draft.length) out.push({ key: 'planogram.noLanes', vars: {} });
  for (const d of [...draft].sort((a, b) => laneOrder(a.laneId, b.laneId))) {
    if (!d.sku) out.push({ key: 'planogram.noProduct', vars: { lane: d.laneId } });
    if (!whole(d.capacity, 1)) out.push({ key: 'planogram.badCapacity', vars: { lane: d.laneId } });
    else if (d.par.trim() && !whole(d.par, 0)) out.push({ key: 'planogram.badPar', vars: { lane: d.laneId } });
    else if (d.par.trim() && Number(d.par) > Number(d.capacity)) out.push({ key: 'planogram.parAbove', vars: { lane: d.laneId, par: d.par.trim(), capacity: d.capacity.trim() } });
  }
  return out;
}

const laneOf = (d: DraftLane): PlanogramLane => ({ laneId: d.laneId, sku: d.sku, capacity: Number(d.capacity), ...(d.par.trim() ? { par: Number(d.par) } : {}) });
const draftOf = (l: PlanogramLane): DraftLane => ({ laneId: l.laneId, sku: l.sku, capacity: String(l.capacity), par: l.par === undefined ? '' : String(l.par) });

/** The editor's state: the lanes as typed, and the grid's size (rows and columns may be added before lanes fill them). */
interface Edit {
  base: PlanogramLane[];
  draft: DraftLane[];
  rows: number;
  cols: number;
}
type Mode = { step: 'view' } | { step: 'edit'; edit: Edit } | { step: 'review'; edit: Edit; lanes: PlanogramLane[] };

const path = (route: string, cabinetId: string) => route.replace(':cabinetId', encodeURIComponent(cabinetId));
const skusOf = (details: unknown): string[] => {
  const skus = (details as { skus?: unknown } | undefined)?.skus;
  return Array.isArray(skus) ? skus.map(String) : [];
};

/**
 * `#/planogram/<cabinetId>`: the cabinet's lanes as a grid (rows by letter, columns by number) in the version
 * in force, the pending version with what it changes, and the history. With catalogue.edit the grid becomes
 * an editor; the review shows the changes (computed here as the service computes them) before the new version
 * is saved. A version takes effect at the cabinet's next restock unlock, so a pending one can be withdrawn.
 */
export function planogramView(root: HTMLElement, args: string[]): void {
  const cabinetId = args[0] ?? '';
  const body = h('div', { id: 'planogram' }, t('loading'));
  const title = h('span', {}, cabinetId);
  clear(root, h('section', { class: 'planogram-page' }, h('h2', {}, h('a', { href: '#/fleet' }, t('nav.fleet')), ' / ', h('a', { href: `#/cabinet/${encodeURIComponent(cabinetId)}` }, title), ' / ', t('planogram.title')), body));
  let data: PlanogramResponse | undefined;
  let products = new Map<string, ProductRow>();
  let canEdit = false;
  let mode: Mode = { step: 'view' };

  const nameOf = (sku: string) => {
    const p = products.get(sku);
    return p ? (getLang() === 'zh' ? p.name : p.nameEn) : '';
  };
  /** The newest version (a pending one, else the one in force): what an edit is made from, and its base. */
  const newest = (d: PlanogramResponse) => Math.max(d.version, d.pending?.version ?? 0);
  const say = (text: string, kind: 'ok' | 'error' = 'ok') => {
    root.querySelectorAll('.notice').forEach((n) => n.remove());
    return notice(root, text, kind, kind === 'error');
  };

  const refusal = (e: Error): string => {
    if (!(e instanceof ApiError)) return e.message;
    const skus = skusOf(e.details).join(', ');
    if (e.code === 'PRODUCT_NOT_ENROLLED') return t('planogram.notEnrolled', { skus });
    if (e.code === 'PRODUCT_UNAVAILABLE') return t('planogram.unavailable', { skus });
    if (e.code === 'CONFLICT') return t('planogram.conflict');
    return e.message;
  };

  const load = async () => {
    try {
      const [p, list, detail] = await Promise.all([
        api<PlanogramResponse>('GET', path(OPERATOR_ROUTES.planogram.path, cabinetId)),
        api<{ products: ProductRow[] }>('GET', '/products'),
        api<CabinetDetail>('GET', `/cabinets/${encodeURIComponent(cabinetId)}`).catch(() => undefined),
      ]);
      data = p;
      products = new Map(list.products.map((x) => [x.sku, x]));
      canEdit = allowed('catalogue.edit', detail?.cabinet.siteId);
      if (detail) title.textContent = `${cabinetId} · ${detail.cabinet.name}`;
      draw();
    } catch (e) {
      clear(body, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  // ---- the grid, read: one cell per lane with its product and count ----
  const viewGrid = (d: PlanogramResponse): HTMLElement => {
    const byId = new Map(d.lanes.map((l) => [l.laneId, l]));
    const { rows, cols } = gridOf(d.lanes.map((l) => l.laneId));
    return gridTable(rows, cols, (id) => {
      const l = byId.get(id);
      if (!l) return h('td', { class: 'pg-cell pg-none', 'data-lane': id }, h('b', { class: 'pg-id' }, id), '—');
      return h(
        'td',
        { class: `pg-cell${l.count === 0 ? ' out' : ''}`, 'data-lane': id },
        h('b', { class: 'pg-id' }, id),
        h('code', { class: 'pg-sku' }, l.sku),
        h('span', { class: 'pg-name' }, nameOf(l.sku)),
        h('span', { class: l.count === 0 ? 'pg-count stock out' : 'pg-count stock' }, `${l.count}/${l.capacity}`),
        l.par !== undefined ? h('small', { class: 'muted' }, t('planogram.parN', { par: l.par })) : null,
      );
    });
  };

  // ---- the grid, edited: a product, a capacity and a par per lane; empty positions take a new lane ----
  const editGrid = (edit: Edit): HTMLElement => {
    const active = [...products.values()].filter((p) => p.status === 'active').sort((a, b) => a.sku.localeCompare(b.sku));
    const baseOf = new Map(edit.base.map((l) => [l.laneId, l]));
    const fresh = edit.base.length ? mostCommon(edit.base.map((l) => l.capacity)) : 6;
    return gridTable(edit.rows, edit.cols, (id) => {
      const d = edit.draft.find((x) => x.laneId === id);
      if (!d) {
        return h(
          'td',
          { class: 'pg-cell pg-none', 'data-lane': id },
          h('b', { class: 'pg-id' }, id),
          h('button', { type: 'button', class: 'pg-add-lane', 'data-lane': id, onclick: () => (edit.draft.push({ laneId: id, sku: '', capacity: String(fresh), par: '' }), draw()) }, t('planogram.addLane')),
        );
      }
      const cell = h('td', { class: 'pg-cell editing', 'data-lane': id });
      const mark = () => {
        const b = baseOf.get(id);
        cell.classList.toggle('changed', !b || b.sku !== d.sku || String(b.capacity) !== d.capacity.trim() || (b.par === undefined ? '' : String(b.par)) !== d.par.trim());
      };
      const listed = active.some((p) => p.sku === d.sku);
      const sku = h(
        'select',
        { class: 'pg-sku-select', 'aria-label': `${id} ${t('col.sku')}`, onchange: (e: Event) => ((d.sku = (e.target as HTMLSelectElement).value), mark()) },
        h('option', { value: '' }, t('planogram.pickProduct')),
        d.sku && !listed ? h('option', { value: d.sku }, `${d.sku} (${t('planogram.notActive')})`) : null,
        active.map((p) => h('option', { value: p.sku }, `${p.sku} · ${getLang() === 'zh' ? p.name : p.nameEn}`)),
      );
      sku.value = d.sku;
      // Left empty, the par is the default share of the capacity: the placeholder shows what that comes to.
      const parDefault = () => (/^\d+$/.test(d.capacity.trim()) ? String(parOf({ capacity: Number(d.capacity) })) : '');
      const par = h('input', { class: 'pg-par', type: 'number', min: 0, max: 50, inputmode: 'numeric', value: d.par, placeholder: parDefault(), title: t('planogram.parDefault'), 'aria-label': `${id} ${t('planogram.par')}`, oninput: (e: Event) => ((d.par = (e.target as HTMLInputElement).value), mark()) });
      const capacity = h('input', { class: 'pg-capacity', type: 'number', min: 1, max: 50, inputmode: 'numeric', value: d.capacity, 'aria-label': `${id} ${t('planogram.capacity')}`, oninput: (e: Event) => ((d.capacity = (e.target as HTMLInputElement).value), (par.placeholder = parDefault()), mark()) });
      const remove = h('button', { type: 'button', class: 'pg-remove', 'data-lane': id, title: t('planogram.removeLane'), onclick: () => ((edit.draft = edit.draft.filter((x) => x !== d)), draw()) }, t('planogram.removeLane'));
      clear(cell, h('b', { class: 'pg-id' }, id), sku, h('label', {}, t('planogram.capacity'), capacity), h('label', {}, t('planogram.par'), par), remove);
      mark();
      return cell;
    });
  };

  const side = (c: LaneChange, l: PlanogramLane | undefined): string => {
    if (!l) return '—';
    switch (c.change) {
      case 'product':
        return `${l.sku} ${nameOf(l.sku)}`;
      case 'capacity':
        return String(l.capacity);
      case 'par':
        return l.par === undefined ? t('planogram.parDefault') : String(l.par);
      case 'added':
      case 'removed':
        return `${l.sku} ${nameOf(l.sku)} · ${t('planogram.capacity')} ${l.capacity}${l.par !== undefined ? ` · ${t('planogram.parN', { par: l.par })}` : ''}`;
      default:
        return assertNever(c.change, 'lane change');
    }
  };
  const diffTable = (diff: LaneChange[], id: string) =>
    h('div', { class: 'pg-scroll' }, table([t('col.lane'), t('planogram.change'), t('col.before'), t('col.after')], diff.map((c) => [h('b', {}, c.laneId), h('span', { class: `pg-change pgc-${c.change}` }, tv('pgchange', c.change)), side(c, c.before), side(c, c.after)]), { class: 'grid pg-diff', id }));

  const startEdit = (d: PlanogramResponse) => {
    // From the newest version: a pending one is edited further (saving replaces it), else the one in force.
    const base = d.pending ? d.pending.lanes : planogramOf(d.lanes);
    const { rows, cols } = gridOf(base.map((l) => l.laneId));
    mode = { step: 'edit', edit: { base, draft: base.map(draftOf), rows: Math.max(rows, 1), cols: Math.max(cols, 1) } };
    draw();
  };

  const review = (edit: Edit) => {
    const problems = draftProblems(edit.draft);
    if (problems.length) return void say(problems.map((p) => t(p.key, p.vars)).join('; '), 'error');
    mode = { step: 'review', edit, lanes: edit.draft.map(laneOf).sort((a, b) => laneOrder(a.laneId, b.laneId)) };
    draw();
  };

  const save = (d: PlanogramResponse, lanes: PlanogramLane[], note: string, button: HTMLButtonElement) => {
    const body: ProposePlanogramRequest = { lanes, baseVersion: newest(d), ...(note.trim() ? { note: note.trim() } : {}) };
    button.disabled = true;
    api<PlanogramResponse>('PUT', path(OPERATOR_ROUTES.proposePlanogram.path, cabinetId), body).then(
      (r) => {
        data = r;
        mode = { step: 'view' };
        draw();
        say(t('planogram.saved', { version: r.pending?.version ?? newest(r) }));
      },
      (e: Error) => {
        button.disabled = false;
        const n = say(refusal(e), 'error');
        if (e instanceof ApiError && e.code === 'PRODUCT_NOT_ENROLLED') n.append(' ', h('a', { href: `#/products?q=${encodeURIComponent(skusOf(e.details)[0] ?? '')}`, id: 'pg-enrol-link' }, t('planogram.toProducts')));
        // Someone else saved or withdrew meanwhile: read it again, keep the edit, and show the changes against it.
        if (e instanceof ApiError && e.code === 'CONFLICT') void api<PlanogramResponse>('GET', path(OPERATOR_ROUTES.planogram.path, cabinetId)).then((r) => ((data = r), draw()), () => undefined);
      },
    );
  };

  const withdraw = (button: HTMLButtonElement) => {
    button.disabled = true;
    api<PlanogramResponse>('POST', path(OPERATOR_ROUTES.withdrawPlanogram.path, cabinetId)).then(
      (r) => {
        const was = data?.pending?.version;
        data = r;
        draw();
        say(t('planogram.withdrawn', { version: was ?? '' }));
      },
      (e: Error) => ((button.disabled = false), say(refusal(e), 'error')),
    );
  };

  const pendingBox = (d: PlanogramResponse): HTMLElement | null => {
    const p = d.pending;
    if (!p) return null;
    const button: HTMLButtonElement | null = canEdit ? h('button', { id: 'pg-withdraw', type: 'button', onclick: () => button && withdraw(button) }, t('planogram.withdraw')) : null;
    return h(
      'div',
      { class: 'pg-pending', id: 'pg-pending', 'data-version': p.version },
      h('h3', {}, t('planogram.pending', { version: p.version })),
      h('p', {}, h('b', {}, t('planogram.atRestock')), ' ', h('span', { class: 'muted' }, t('planogram.proposedBy', { who: p.createdBy, at: time(p.createdAt) })), p.note ? [h('br', {}), p.note] : null),
      p.diff.length ? diffTable(p.diff, 'pg-pending-diff') : h('p', { class: 'muted' }, t('planogram.noChanges')),
      button,
    );
  };

  const historyBox = (d: PlanogramResponse): HTMLElement =>
    h(
      'div',
      { class: 'pg-history' },
      h('h3', {}, t('planogram.history')),
      d.history.length
        ? h(
            'div',
            { class: 'pg-scroll' },
            table(
              [t('planogram.version'), t('col.status'), t('planogram.createdBy'), t('planogram.createdAt'), t('planogram.appliedAt')],
              d.history.map((v) => [
                h('b', {}, `v${v.version}`, v.status === 'applied' && v.version === d.version ? h('small', { class: 'muted' }, ` · ${t('planogram.inForce')}`) : ''),
                h('span', { class: `pg-status pgs-${v.status}` }, tv('pgstatus', v.status)),
                v.createdBy,
                v.createdAt ? time(v.createdAt) : '—',
                v.appliedAt ? h('span', {}, time(v.appliedAt), v.appliedVisitId ? [' · ', h('a', { href: `#/visit/${encodeURIComponent(v.appliedVisitId)}` }, v.appliedVisitId)] : '') : '—',
              ]),
              { class: 'grid pg-history-table', id: 'pg-history' },
            ),
          )
        : h('p', { class: 'muted', id: 'pg-history' }, t('planogram.noHistory')),
    );

  const draw = () => {
    // Redrawn on every structural edit: the grid keeps its sideways scroll (a phone shows a few columns).
    const keep = body.querySelector<HTMLElement>('.pg-scroll')?.scrollLeft ?? 0;
    drawStep();
    const grid = body.querySelector<HTMLElement>('.pg-scroll');
    if (grid) grid.scrollLeft = keep;
  };
  const drawStep = () => {
    const d = data;
    if (!d) return;
    const head = h('p', { class: 'muted' }, `${tv('kind', d.kind)} · ${t('planogram.inForceVersion', { version: d.version })} · ${t('planogram.lanes', { n: d.lanes.length })}`);
    const m = mode;
    switch (m.step) {
      case 'view':
        return clear(
          body,
          head,
          canEdit ? h('div', { class: 'toolbar' }, h('button', { id: 'pg-edit', type: 'button', onclick: () => startEdit(d) }, t('planogram.edit'))) : null,
          h('h3', {}, t('planogram.current', { version: d.version })),
          h('div', { class: 'pg-scroll' }, viewGrid(d)),
          pendingBox(d),
          historyBox(d),
        );
      case 'edit':
        return clear(
          body,
          head,
          h('h3', {}, t('planogram.editing', { version: newest(d) + 1 })),
          d.pending ? h('p', { class: 'muted' }, t('planogram.editsPending', { version: d.pending.version })) : null,
          h(
            'div',
            { class: 'toolbar' },
            h('button', { id: 'pg-add-row', type: 'button', disabled: m.edit.rows >= 26, onclick: () => ((m.edit.rows += 1), draw()) }, t('planogram.addRow')),
            h('button', { id: 'pg-add-col', type: 'button', disabled: m.edit.cols >= 99, onclick: () => ((m.edit.cols += 1), draw()) }, t('planogram.addCol')),
          ),
          h('div', { class: 'pg-scroll' }, editGrid(m.edit)),
          h('div', { class: 'toolbar' }, h('button', { id: 'pg-review', type: 'button', onclick: () => review(m.edit) }, t('planogram.review')), h('button', { id: 'pg-cancel', type: 'button', onclick: () => ((mode = { step: 'view' }), draw()) }, t('cancel'))),
        );
      case 'review': {
        // Against the version in force: what the restocker will change at the next unlock.
        const diff = planogramDiff(planogramOf(d.lanes), m.lanes);
        const note = h('input', { id: 'pg-note', maxlength: 200, placeholder: t('planogram.note'), 'aria-label': t('planogram.note') });
        const saveButton: HTMLButtonElement = h('button', { id: 'pg-save', type: 'button', disabled: !diff.length, onclick: () => save(d, m.lanes, note.value, saveButton) }, t('planogram.saveAs', { version: newest(d) + 1 }));
        return clear(
          body,
          head,
          h('h3', {}, t('planogram.reviewTitle', { version: newest(d) + 1 })),
          h('p', { class: 'muted' }, t('planogram.reviewHelp'), d.pending ? ` ${t('planogram.replaces', { version: d.pending.version })}` : ''),
          diff.length ? diffTable(diff, 'pg-review-diff') : h('p', { class: 'muted', id: 'pg-review-diff' }, t('planogram.noChanges')),
          h('div', { class: 'toolbar' }, note, saveButton, h('button', { id: 'pg-back', type: 'button', onclick: () => ((mode = { step: 'edit', edit: m.edit }), draw()) }, t('planogram.back'))),
        );
      }
      default:
        return assertNever(m, 'planogram mode');
    }
  };

  void load();
}

/** The grid's table: a header of column numbers, then one row per letter. */
function gridTable(rows: number, cols: number, cell: (laneId: string) => HTMLTableCellElement): HTMLTableElement {
  return h(
    'table',
    { class: 'pg-grid', id: 'pg-grid' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), Array.from({ length: cols }, (_, c) => h('th', { scope: 'col' }, String(c + 1))))),
    h('tbody', {}, Array.from({ length: rows }, (_, r) => h('tr', { 'data-row': String.fromCharCode(65 + r) }, h('th', { scope: 'row' }, String.fromCharCode(65 + r)), Array.from({ length: cols }, (_, c) => cell(laneIdAt(r, c)))))),
  );
}

function mostCommon(xs: readonly number[]): number {
  const n = new Map<number, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 6;
}
