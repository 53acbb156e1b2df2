import { OPERATOR_ROUTES, type DecideRequest, type DecideResponse, type PendingOrderResponse, type ReviewCase, type ReviewCasesResponse, type ReviewLine } from '../../../contracts/admin-api';
import type { z } from 'zod';
import type { ProductRow } from '../../../contracts/catalogue-api';
import { allowed, api, frameUrl, qs } from '../api';
import { getLang, t, tv } from '../i18n';
import { clear, h, notice, table, tabs, time, yuan } from '../ui';

type Case = ReviewCase;
type Slot = { laneId: string; slot: number; before: string; after: string; confidence: number; views?: Array<{ camera: string; box: { x: number; y: number; w: number; h: number }; diff?: number }> };
type Evidence = { slots?: Slot[]; lanesChanged?: string[] };
/** The money side of a semi-automatic decision, when the service sends it (paid, decided, difference). */
type Netting = { paidFen: number; decidedFen: number; differenceFen: number };
/** The catalogue as the review screen prices a case: the price for every site now (the server bills the door's close). */
type Product = Pick<ProductRow, 'sku' | 'name' | 'nameEn'> & { priceFen: number };

const R = OPERATOR_ROUTES;
const path = (p: string, params: Record<string, string>) => p.replace(/:(\w+)/g, (_m, k: string) => encodeURIComponent(params[k] ?? ''));
/** Canvases are drawn at this width whatever the frame's size, so box labels are legible (≥ 13 px shown). */
const FRAME_WIDTH = 360;

export function parseLines(text: string): ReviewLine[] {
  const out: ReviewLine[] = [];
  for (const part of text.split(/[\n,;]+/)) {
    const m = /^\s*([A-Z0-9-]{3,32})\s*[x×*]\s*(\d+)\s*$/i.exec(part);
    if (m) out.push({ sku: m[1]!.toUpperCase(), qty: Number(m[2]) });
  }
  return out;
}
const linesText = (ls: ReviewLine[] | undefined) => (ls ?? []).map((l) => `${l.sku}×${l.qty}`).join('\n');

let catalogue: Promise<Map<string, Product>> | undefined;
const products = (): Promise<Map<string, Product>> =>
  (catalogue ??= api<{ products: ProductRow[] }>('GET', '/products').then(
    (r) => new Map(r.products.map((p) => [p.sku, { sku: p.sku, name: p.name, nameEn: p.nameEn, priceFen: p.priceNowFen }])),
    () => new Map(),
  ));

function deadline(c: Case): HTMLElement {
  const left = c.deadlineAt - Date.now();
  const overdue = left < 0 && c.status === 'open';
  const hours = Math.abs(left) / 3_600_000;
  const span = hours >= 1 ? `${hours.toFixed(1)} h` : `${Math.round(Math.abs(left) / 60_000)} min`;
  return h('span', { class: overdue ? 'deadline overdue' : 'deadline', title: new Date(c.deadlineAt).toISOString() }, `${time(c.deadlineAt)} (${overdue ? t('reviews.overdue') + ' ' + span : span})`);
}

/** Draws the frame and, over it, the boxes of the facings recognition saw change in this camera. */
function evidenceCanvas(c: Case, camera: string, seq: number, phase: 'before' | 'after', urls: string[]): HTMLElement {
  const canvas = h('canvas', { class: 'frame', 'data-camera': camera, 'data-phase': phase, width: FRAME_WIDTH, height: 270 });
  const fig = h('figure', { class: `ev ev-${phase}` }, h('figcaption', {}, `${t(`reviews.${phase}`)} · #${seq}`), canvas);
  void drawEvidence(c, canvas, camera, seq, phase, urls).catch(() => fig.classList.add('missing'));
  return fig;
}

async function drawEvidence(c: Case, canvas: HTMLCanvasElement, camera: string, seq: number, phase: 'before' | 'after', urls: string[]): Promise<void> {
  const url = await frameUrl(c.visitId!, camera, seq);
  urls.push(url);
  const img = new Image();
  img.src = url;
  await img.decode();
  // The frame's own size is kept as data (tests and zoom read it); the canvas is drawn at a fixed width.
  canvas.dataset.frameWidth = String(img.naturalWidth);
  const scale = FRAME_WIDTH / img.naturalWidth;
  canvas.width = FRAME_WIDTH;
  canvas.height = Math.round(img.naturalHeight * scale);
  const g = canvas.getContext('2d')!;
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  const ev = (c.evidence ?? {}) as Evidence;
  g.lineWidth = 2;
  g.font = '13px system-ui, sans-serif';
  for (const s of ev.slots ?? []) {
    for (const v of s.views ?? []) {
      if (v.camera !== camera) continue;
      const fr = v.box.w <= 1 && v.box.h <= 1; // fractions or pixels
      const x = (fr ? v.box.x * img.naturalWidth : v.box.x) * scale;
      const y = (fr ? v.box.y * img.naturalHeight : v.box.y) * scale;
      const w = (fr ? v.box.w * img.naturalWidth : v.box.w) * scale;
      const hh = (fr ? v.box.h * img.naturalHeight : v.box.h) * scale;
      g.strokeStyle = s.confidence < 0.6 ? '#ffb300' : '#ff3d3d';
      g.strokeRect(x, y, w, hh);
      const sku = phase === 'before' ? s.before : s.after;
      const label = `${s.laneId}/${s.slot} ${sku === 'empty' ? '∅' : sku} ${(s.confidence * 100).toFixed(0)}%`;
      const lw = g.measureText(label).width + 8;
      // Kept inside the frame: moved left at the right edge, below the box's top at the top edge.
      const lx = Math.max(0, Math.min(x, canvas.width - lw));
      const ly = y >= 18 ? y - 18 : Math.min(canvas.height - 18, y + hh);
      g.fillStyle = 'rgba(0,0,0,0.75)';
      g.fillRect(lx, ly, lw, 18);
      g.fillStyle = '#fff';
      g.fillText(label, lx + 4, ly + 13);
    }
  }
}

/** Lines with names, unit prices and amounts; a catalogue miss shows the SKU alone. */
function linesTable(lines: ReviewLine[], names: Map<string, Product>, cls: string): HTMLElement {
  const name = (sku: string) => {
    const p = names.get(sku);
    return p ? (getLang() === 'zh' ? p.name : p.nameEn || p.name) : '';
  };
  return table(
    [t('col.name'), t('col.sku'), t('col.qty'), t('col.price'), t('col.amount')],
    lines.map((l) => [name(l.sku), h('code', {}, l.sku), l.qty, yuan(names.get(l.sku)?.priceFen), names.get(l.sku) ? yuan(names.get(l.sku)!.priceFen * l.qty) : '—']),
    { class: `grid ${cls}` },
  );
}

const sumFen = (lines: ReviewLine[] | undefined, names: Map<string, Product>): number => (lines ?? []).reduce((s, l) => s + (names.get(l.sku)?.priceFen ?? 0) * l.qty, 0);

export function reviewsView(root: HTMLElement, args: string[]): () => void {
  let status: 'open' | 'decided' = 'open';
  const listEl = h('div', { class: 'case-list', id: 'case-list' });
  // Notices live apart from the case's content, so a decision's result stays when the case is drawn again.
  const notices = h('div', { class: 'notices', id: 'case-notices' });
  const content = h('div', {}, h('p', { class: 'muted' }, t('reviews.select')));
  const detail = h('div', { class: 'case-detail', id: 'case-detail' }, notices, content);
  const head = h('div', {});
  clear(root, h('section', { class: 'reviews' }, head, h('div', { class: 'split' }, listEl, detail)));
  let urls: string[] = [];
  /** The frames drawn for the case on screen: kept across a re-render after a decision. */
  let framesOf: { caseId: string; el: HTMLElement } | undefined;
  const drop = () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    framesOf = undefined;
  };

  const drawTabs = () =>
    clear(
      head,
      tabs([{ id: 'open', label: t('reviews.open') }, { id: 'decided', label: t('reviews.decided') }], status, (id) => {
        status = id as 'open' | 'decided';
        drawTabs();
        void loadList();
      }),
    );

  const loadList = async () => {
    try {
      const r = await api<z.infer<typeof ReviewCasesResponse>>('GET', `${R.reviewCases.path}${qs({ status })}`);
      clear(
        listEl,
        r.cases.length
          ? r.cases.map((c) =>
              h('a', { class: 'case', href: `#/reviews/${encodeURIComponent(c.caseId)}`, 'data-case': c.caseId }, h('b', {}, c.caseId), h('span', {}, `${c.cabinetId} · ${tv('kind', c.flow)} · ${tv('reason', c.reason)}`), deadline(c)),
            )
          : h('p', { class: 'muted' }, t('reviews.none')),
      );
    } catch (e) {
      clear(listEl, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  const loadCase = async (caseId: string) => {
    drop();
    notices.replaceChildren();
    clear(content, t('loading'));
    try {
      const [c, names] = await Promise.all([api<Case>('GET', path(R.reviewCase.path, { caseId })), products()]);
      render(c, names);
    } catch (e) {
      clear(content, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  const framesFor = (c: Case): HTMLElement => {
    if (framesOf?.caseId === c.caseId) return framesOf.el;
    const el = h('div', { class: 'evidence' });
    if (c.visitId) {
      const cams = [...new Set(c.frames.map((f) => f.camera))].sort();
      for (const cam of cams) {
        const before = c.frames.filter((f) => f.camera === cam && f.phase === 'before').at(-1);
        const after = c.frames.filter((f) => f.camera === cam && f.phase === 'after').at(-1);
        // Before and after of one camera side by side, one camera per row.
        el.append(h('div', { class: 'camera-row', 'data-camera': cam }, h('h4', {}, t('reviews.camera', { c: cam })), h('div', { class: 'pair' }, before ? evidenceCanvas(c, cam, before.seq, 'before', urls) : null, after ? evidenceCanvas(c, cam, after.seq, 'after', urls) : null)));
      }
    }
    framesOf = { caseId: c.caseId, el };
    return el;
  };

  const render = (c: Case, names: Map<string, Product>) => {
    const frames = framesFor(c);
    const mayDecide = c.status === 'open' && allowed('review.decide', c.siteId);
    const note = h('input', { id: 'decision-note', placeholder: t('reviews.note') });
    const adjust = h('textarea', { id: 'adjust-lines', rows: 3 }, linesText(c.proposedLines));
    const decide = (body: DecideRequest) =>
      void api<z.infer<typeof DecideResponse>>('POST', path(R.decide.path, { caseId: c.caseId }), body).then(
        (r) => {
          notices.replaceChildren();
          notice(notices, `${t('reviews.decidedAs')}: ${tv('decision', r.case.decision)} → ${tv('outcome', r.outcome)}${r.orderId ? ` · ${r.orderId}` : ''}`, 'ok', true);
          // The answer carries the case without its frames: the ones on screen stay.
          render({ ...r.case, frames: c.frames, evidence: r.case.evidence ?? c.evidence, ...((r as { netting?: Netting }).netting ? { netting: (r as { netting?: Netting }).netting } : {}) }, names);
          void loadList();
        },
        (e: Error) => {
          notices.replaceChildren();
          notice(notices, e.message, 'error', true);
        },
      );
    const pendLines = h('textarea', { id: 'pending-lines', rows: 2 }, linesText(c.proposedLines));
    const pendReason = h('input', { id: 'pending-reason', placeholder: t('reviews.pendingReason'), value: `review ${c.caseId}` });
    const netting = (c as { netting?: Netting }).netting;
    const paidFen = netting?.paidFen ?? sumFen(c.paidLines, names);
    const proposedFen = netting?.decidedFen ?? sumFen(c.proposedLines, names);
    const diff = netting?.differenceFen ?? proposedFen - paidFen;
    clear(
      content,
      h('h2', {}, c.caseId, ' ', h('span', { class: `badge st-${c.status}` }, c.status === 'open' ? t('reviews.open') : t('reviews.decided'))),
      h('p', { class: 'muted' }, `${c.cabinetId} · ${c.siteId} · ${tv('kind', c.flow)} · ${t('reviews.reason')}: ${tv('reason', c.reason)} · ${t('col.shopper')}: ${c.shopperId ?? '—'} · `, c.visitId ? h('a', { href: `#/visit/${encodeURIComponent(c.visitId)}` }, c.visitId) : '', ` · ${t('reviews.deadline')}: `, deadline(c)),
      h(
        'div',
        { class: 'review-cols' },
        frames,
        h(
          'div',
          { class: 'lines' },
          h('h3', {}, t('reviews.recognised')),
          table(
            [t('col.name'), t('col.sku'), t('col.qty'), t('col.conf')],
            c.recognised.map((r) => [names.get(r.sku) ? (getLang() === 'zh' ? names.get(r.sku)!.name : names.get(r.sku)!.nameEn) : '', h('code', {}, r.sku), r.qty, h('span', { class: r.confidence < 0.6 ? 'conf low' : 'conf' }, `${(r.confidence * 100).toFixed(0)}%`)]),
            { class: 'grid recognised' },
          ),
          c.paidLines ? [h('h3', {}, `${t('reviews.paid')} · ${yuan(paidFen)}`), linesTable(c.paidLines, names, 'paid')] : null,
          h('h3', {}, `${t('reviews.proposed')} · ${yuan(proposedFen)}`),
          linesTable(c.proposedLines, names, 'proposed'),
          c.paidLines ? h('p', { class: diff > 0 ? 'difference due' : 'difference', id: 'difference' }, `${t('reviews.difference')}: ${diff >= 0 ? '' : '−'}${yuan(Math.abs(diff))}`) : null,
          c.decision ? h('p', { class: 'outcome', id: 'outcome' }, `${t('reviews.decidedAs')}: ${tv('decision', c.decision)} · ${tv('outcome', c.outcome)} · ${c.decidedBy ?? ''} · ${time(c.decidedAt)}`) : null,
          mayDecide
            ? h(
                'div',
                { class: 'decide' },
                note,
                h('div', { class: 'buttons' }, h('button', { id: 'decide-confirm', onclick: () => decide({ decision: 'confirm', ...(note.value ? { note: note.value } : {}) }) }, t('reviews.confirm')), h('button', { id: 'decide-waive', onclick: () => decide({ decision: 'waive', ...(note.value ? { note: note.value } : {}) }) }, t('reviews.waive'))),
                h('label', {}, `${t('reviews.adjust')} (${t('reviews.linesFormat')})`, adjust),
                h('button', { id: 'decide-adjust', onclick: () => decide({ decision: 'adjust', lines: parseLines(adjust.value), ...(note.value ? { note: note.value } : {}) }) }, t('reviews.adjust')),
              )
            : null,
          c.visitId && allowed('review.decide', c.siteId)
            ? h(
                'details',
                { class: 'pending' },
                h('summary', {}, t('reviews.pending')),
                h('label', {}, t('reviews.linesFormat'), pendLines),
                pendReason,
                h(
                  'button',
                  {
                    id: 'raise-pending',
                    onclick: () =>
                      void api<z.infer<typeof PendingOrderResponse>>('POST', R.pendingOrder.path, { visitId: c.visitId, lines: parseLines(pendLines.value), reason: pendReason.value }).then(
                        (r) => notice(notices, `${r.orderId} · ${yuan(r.totalFen)} · ${tv('outcome', r.outcome)}`, 'ok', true),
                        (e: Error) => notice(notices, e.message, 'error', true),
                      ),
                  },
                  t('reviews.raise'),
                ),
              )
            : null,
        ),
      ),
    );
  };

  drawTabs();
  void loadList();
  if (args[0]) void loadCase(args[0]);
  return drop;
}
