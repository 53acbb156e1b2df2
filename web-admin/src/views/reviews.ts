import { OPERATOR_ROUTES, type DecideRequest, type DecideResponse, type PendingOrderResponse, type ReviewCase, type ReviewCasesResponse, type ReviewLine } from '../../../contracts/admin-api';
import type { z } from 'zod';
import { allowed, api, frameUrl, qs } from '../api';
import { t } from '../i18n';
import { clear, h, notice, table, tabs, time } from '../ui';

type Case = ReviewCase;
type Evidence = { slots?: Array<{ laneId: string; slot: number; before: string; after: string; confidence: number; views?: Array<{ camera: string; box: { x: number; y: number; w: number; h: number }; diff?: number }> }>; lanesChanged?: string[] };

const R = OPERATOR_ROUTES;
const path = (p: string, params: Record<string, string>) => p.replace(/:(\w+)/g, (_m, k: string) => encodeURIComponent(params[k] ?? ''));

export function parseLines(text: string): ReviewLine[] {
  const out: ReviewLine[] = [];
  for (const part of text.split(/[\n,;]+/)) {
    const m = /^\s*([A-Z0-9-]{3,32})\s*[x×*]\s*(\d+)\s*$/i.exec(part);
    if (m) out.push({ sku: m[1]!.toUpperCase(), qty: Number(m[2]) });
  }
  return out;
}
const linesText = (ls: ReviewLine[] | undefined) => (ls ?? []).map((l) => `${l.sku}×${l.qty}`).join('\n');

function deadline(c: Case): HTMLElement {
  const left = c.deadlineAt - Date.now();
  const overdue = left < 0 && c.status === 'open';
  const hours = Math.abs(left) / 3_600_000;
  const span = hours >= 1 ? `${hours.toFixed(1)} h` : `${Math.round(Math.abs(left) / 60_000)} min`;
  return h('span', { class: overdue ? 'deadline overdue' : 'deadline', title: new Date(c.deadlineAt).toISOString() }, `${time(c.deadlineAt)} (${overdue ? t('reviews.overdue') + ' ' + span : span})`);
}

/** Draws the frame and, over it, the boxes of the facings recognition saw change in this camera. */
function evidenceCanvas(c: Case, camera: string, seq: number, phase: 'before' | 'after', urls: string[]): HTMLElement {
  const canvas = h('canvas', { class: 'frame', 'data-camera': camera, 'data-phase': phase, width: 320, height: 240 });
  const fig = h('figure', {}, canvas, h('figcaption', {}, `${camera} · ${t(`reviews.${phase}`)} · #${seq}`));
  void drawEvidence(c, canvas, camera, seq, phase, urls).catch(() => fig.classList.add('missing'));
  return fig;
}

async function drawEvidence(c: Case, canvas: HTMLCanvasElement, camera: string, seq: number, phase: 'before' | 'after', urls: string[]): Promise<void> {
  {
    const url = await frameUrl(c.visitId!, camera, seq);
    urls.push(url);
    const img = new Image();
    img.src = url;
    await img.decode();
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const ev = (c.evidence ?? {}) as Evidence;
    g.lineWidth = Math.max(2, img.naturalWidth / 200);
    g.font = `${Math.max(12, Math.round(img.naturalWidth / 40))}px sans-serif`;
    for (const s of ev.slots ?? []) {
      for (const v of s.views ?? []) {
        if (v.camera !== camera) continue;
        const fr = v.box.w <= 1 && v.box.h <= 1; // fractions or pixels
        const x = fr ? v.box.x * img.naturalWidth : v.box.x;
        const y = fr ? v.box.y * img.naturalHeight : v.box.y;
        const w = fr ? v.box.w * img.naturalWidth : v.box.w;
        const hh = fr ? v.box.h * img.naturalHeight : v.box.h;
        g.strokeStyle = s.confidence < 0.6 ? '#e0a800' : '#e53935';
        g.strokeRect(x, y, w, hh);
        g.fillStyle = 'rgba(0,0,0,0.6)';
        const label = `${s.laneId}/${s.slot} ${phase === 'before' ? s.before : s.after} ${(s.confidence * 100).toFixed(0)}%`;
        g.fillRect(x, Math.max(0, y - 18), g.measureText(label).width + 8, 18);
        g.fillStyle = '#fff';
        g.fillText(label, x + 4, Math.max(13, y - 4));
      }
    }
  }
}

export function reviewsView(root: HTMLElement, args: string[]): () => void {
  let status: 'open' | 'decided' = 'open';
  const listEl = h('div', { class: 'case-list', id: 'case-list' });
  const detail = h('div', { class: 'case-detail', id: 'case-detail' }, h('p', { class: 'muted' }, t('reviews.select')));
  const head = h('div', {});
  clear(root, h('section', { class: 'reviews' }, head, h('div', { class: 'split' }, listEl, detail)));
  let urls: string[] = [];
  const drop = () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
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
              h(
                'a',
                { class: 'case', href: `#/reviews/${encodeURIComponent(c.caseId)}`, 'data-case': c.caseId },
                h('b', {}, c.caseId),
                h('span', {}, `${c.cabinetId} · ${t(`kind.${c.flow}`)} · ${t(`reason.${c.reason}`)}`),
                deadline(c),
              ),
            )
          : h('p', { class: 'muted' }, t('reviews.none')),
      );
    } catch (e) {
      clear(listEl, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  const loadCase = async (caseId: string) => {
    drop();
    clear(detail, t('loading'));
    try {
      render(await api<Case>('GET', path(R.reviewCase.path, { caseId })));
    } catch (e) {
      clear(detail, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };

  const render = (c: Case) => {
    const frames = h('div', { class: 'evidence' });
    if (c.visitId) {
      const cams = [...new Set(c.frames.map((f) => f.camera))].sort();
      for (const cam of cams) {
        const row = h('div', { class: 'camera-row' });
        frames.append(row);
        const before = c.frames.filter((f) => f.camera === cam && f.phase === 'before').at(-1);
        const after = c.frames.filter((f) => f.camera === cam && f.phase === 'after').at(-1);
        for (const f of [before, after]) if (f) row.append(evidenceCanvas(c, cam, f.seq, f.phase, urls));
      }
    }
    const mayDecide = c.status === 'open' && allowed('review.decide', c.siteId);
    const note = h('input', { id: 'decision-note', placeholder: t('reviews.note') });
    const adjust = h('textarea', { id: 'adjust-lines', rows: 3 }, linesText(c.proposedLines));
    const decide = (body: DecideRequest) =>
      void api<z.infer<typeof DecideResponse>>('POST', path(R.decide.path, { caseId: c.caseId }), body).then(
        (r) => {
          notice(detail, `${t('reviews.decidedAs')}: ${r.case.decision} → ${r.outcome}`);
          render(r.case);
          void loadList();
        },
        (e: Error) => notice(detail, e.message, 'error'),
      );
    const pendLines = h('textarea', { id: 'pending-lines', rows: 2 }, linesText(c.proposedLines));
    const pendReason = h('input', { id: 'pending-reason', placeholder: t('reviews.pendingReason'), value: `review ${c.caseId}` });
    clear(
      detail,
      h('h2', {}, c.caseId, ' ', h('span', { class: `badge st-${c.status}` }, c.status === 'open' ? t('reviews.open') : t('reviews.decided'))),
      h(
        'p',
        { class: 'muted' },
        `${c.cabinetId} · ${c.siteId} · ${t(`kind.${c.flow}`)} · ${t('reviews.reason')}: ${t(`reason.${c.reason}`)} · ${t('col.shopper')}: ${c.shopperId ?? '—'} · ${c.visitId ?? ''} · ${t('reviews.deadline')}: `,
        deadline(c),
      ),
      h(
        'div',
        { class: 'cols' },
        frames,
        h(
          'div',
          { class: 'lines' },
          h('h3', {}, t('reviews.recognised')),
          table(['SKU', 'qty', 'conf.'], c.recognised.map((r) => [r.sku, r.qty, h('span', { class: r.confidence < 0.6 ? 'conf low' : 'conf' }, `${(r.confidence * 100).toFixed(0)}%`)]), { class: 'grid recognised' }),
          c.paidLines ? [h('h3', {}, t('reviews.paid')), table(['SKU', 'qty'], c.paidLines.map((l) => [l.sku, l.qty]), { class: 'grid paid' })] : null,
          h('h3', {}, t('reviews.proposed')),
          table(['SKU', 'qty'], c.proposedLines.map((l) => [l.sku, l.qty]), { class: 'grid proposed' }),
          c.decision ? h('p', { class: 'outcome', id: 'outcome' }, `${t('reviews.decidedAs')}: ${c.decision} · ${c.outcome ?? ''} · ${c.decidedBy ?? ''} · ${time(c.decidedAt)}`) : null,
          mayDecide
            ? h(
                'div',
                { class: 'decide' },
                note,
                h('button', { id: 'decide-confirm', onclick: () => decide({ decision: 'confirm', ...(note.value ? { note: note.value } : {}) }) }, t('reviews.confirm')),
                h('button', { id: 'decide-waive', onclick: () => decide({ decision: 'waive', ...(note.value ? { note: note.value } : {}) }) }, t('reviews.waive')),
                h('label', {}, `${t('reviews.adjust')} (SKU×qty)`, adjust),
                h('button', { id: 'decide-adjust', onclick: () => decide({ decision: 'adjust', lines: parseLines(adjust.value), ...(note.value ? { note: note.value } : {}) }) }, t('reviews.adjust')),
              )
            : null,
          c.visitId && allowed('review.decide', c.siteId)
            ? h(
                'details',
                { class: 'pending' },
                h('summary', {}, t('reviews.pending')),
                h('label', {}, 'SKU×qty', pendLines),
                pendReason,
                h(
                  'button',
                  {
                    id: 'raise-pending',
                    onclick: () =>
                      void api<z.infer<typeof PendingOrderResponse>>('POST', R.pendingOrder.path, { visitId: c.visitId, lines: parseLines(pendLines.value), reason: pendReason.value }).then(
                        (r) => notice(detail, `${r.orderId} · ¥${(r.totalFen / 100).toFixed(2)} · ${r.outcome}`),
                        (e: Error) => notice(detail, e.message, 'error'),
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
