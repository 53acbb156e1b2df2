import { MAX_ENROL_PHOTOS, MAX_PHOTO_BYTES, type EnrolmentRow, type EnrolmentsResponse, type EnrolRequest, type ProductRow } from '../../../contracts/catalogue-api';
import { OPERATOR_ROUTES } from '../../../contracts/admin-api';
import { assertNever } from '../../../common/assert-never';
import { api, ApiError, photoUrl } from '../api';
import { getLang, t } from '../i18n';
import { clear, h, notice, time, type Col } from '../ui';

const MIN_ENROL_PHOTOS = 3;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
type PhotoType = (typeof PHOTO_TYPES)[number];

/** What the recogniser can tell, for the products list: `off` when recognition does not run here (or the list failed). */
export type EnrolmentState = { status: 'on'; modelVersion: string; shipped: ReadonlySet<string>; rows: Map<string, EnrolmentRow> } | { status: 'off'; reason: string };

export async function loadEnrolments(): Promise<EnrolmentState> {
  try {
    const r = await api<EnrolmentsResponse>('GET', OPERATOR_ROUTES.enrolments.path);
    return { status: 'on', modelVersion: r.modelVersion, shipped: new Set(r.shipped), rows: new Map(r.enrolments.map((e) => [e.sku, e])) };
  } catch (e) {
    return { status: 'off', reason: e instanceof ApiError && e.code === 'UNAVAILABLE' ? t('enrol.off') : (e as Error).message };
  }
}

/** One product's standing with the recogniser. */
export type Standing = { kind: 'off' } | { kind: 'shipped' } | { kind: 'enrolled'; photos: number } | { kind: 'lookalike'; photos: number; like: string } | { kind: 'none' };

export function standingOf(s: EnrolmentState, sku: string): Standing {
  if (s.status === 'off') return { kind: 'off' };
  const row = s.rows.get(sku);
  if (row) return row.lookAlike ? { kind: 'lookalike', photos: row.photoIds.length, like: row.nearest[0]?.sku ?? '?' } : { kind: 'enrolled', photos: row.photoIds.length };
  return s.shipped.has(sku) ? { kind: 'shipped' } : { kind: 'none' };
}

function standingText(st: Standing): string {
  switch (st.kind) {
    case 'off':
      return '—';
    case 'shipped':
      return t('enrol.shipped');
    case 'enrolled':
      return t('enrol.enrolled', { n: st.photos });
    case 'lookalike':
      return t('enrol.lookAlikeOf', { sku: st.like });
    case 'none':
      return t('enrol.none');
    default:
      return assertNever(st, 'enrolment standing');
  }
}

/** The products list's "Enrolment" column. */
export function enrolmentCol(state: () => EnrolmentState): Col<ProductRow> {
  return {
    id: 'enrolment',
    label: t('enrol.column'),
    value: (p) => standingText(standingOf(state(), p.sku)),
    show: (p) => {
      const s = state();
      const st = standingOf(s, p.sku);
      return h('span', { class: `enrol-state enrol-${st.kind}`, 'data-enrol': st.kind, ...(s.status === 'off' ? { title: s.reason } : {}) }, standingText(st));
    },
  };
}

/** Blob URLs of photos shown by a view: revoked together (a new panel, the view's teardown), late fetches included. */
export function blobUrls(): { load(img: HTMLImageElement, fetchUrl: () => Promise<string>): void; revoke(): void } {
  let held: string[] = [];
  let generation = 0;
  return {
    load(img, fetchUrl) {
      const mine = generation;
      img.addEventListener('error', () => img.classList.add('broken'), { once: true });
      fetchUrl().then(
        (u) => {
          // Revoked while it was on its way: nobody shows it any more.
          if (mine !== generation) return URL.revokeObjectURL(u);
          held.push(u);
          img.src = u;
        },
        () => img.classList.add('broken'),
      );
    },
    revoke() {
      generation++;
      for (const u of held) URL.revokeObjectURL(u);
      held = [];
    },
  };
}

const base64Of = (f: Blob): Promise<string> =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error('file not read'));
    r.readAsDataURL(f);
  });

/** Why these files cannot be sent (in words), before anything is uploaded; undefined when they can. */
export function filesProblem(files: ReadonlyArray<{ name: string; type: string; size: number }>): string | undefined {
  if (files.length < MIN_ENROL_PHOTOS || files.length > MAX_ENROL_PHOTOS) return t('enrol.count', { min: MIN_ENROL_PHOTOS, max: MAX_ENROL_PHOTOS, n: files.length });
  const wrongType = files.find((f) => !(PHOTO_TYPES as readonly string[]).includes(f.type));
  if (wrongType) return t('enrol.type', { name: wrongType.name });
  const big = files.find((f) => f.size > MAX_PHOTO_BYTES);
  if (big) return t('enrol.tooBig', { name: big.name, mb: MAX_PHOTO_BYTES / 1_000_000 });
  return undefined;
}

/**
 * One product's enrolment in `box`: its photos and, with catalogue.edit, new ones (3–12, each one item as a
 * cabinet's camera sees it) sent to the recogniser, which replaces the earlier ones. The answer says whether
 * the product looks like another one (its visits then go to review more often) and which products are nearest.
 */
export function enrolPanel(box: HTMLElement, p: ProductRow, current: EnrolmentRow | undefined, opts: { canEdit: boolean; urls: ReturnType<typeof blobUrls>; enrolled: (row: EnrolmentRow) => void }): void {
  opts.urls.revoke();
  const result = h('div', { id: 'enrol-result' });
  const gallery = h('div', { class: 'enrol-photos', id: 'enrol-gallery' });
  const drawGallery = (row: EnrolmentRow | undefined) => {
    opts.urls.revoke();
    clear(gallery);
    if (!row) return gallery.append(h('p', { class: 'muted' }, t('enrol.noPhotos')));
    gallery.append(h('p', { class: 'muted' }, t('enrol.by', { who: row.enrolledBy, at: time(row.enrolledAt), model: row.modelVersion })));
    for (const [i, id] of row.photoIds.entries()) {
      const img = h('img', { alt: `${p.sku} #${i + 1}`, class: 'enrol-photo', 'data-photo': id, width: 80, height: 160 });
      gallery.append(h('figure', {}, img, h('figcaption', {}, `#${i + 1}`)));
      opts.urls.load(img, () => photoUrl(p.sku, id));
    }
  };
  const drawResult = (row: EnrolmentRow) => {
    const nearest = row.nearest
      .slice(0, 3)
      .map((n) => `${n.sku} (${(n.similarity * 100).toFixed(0)}%)`)
      .join(', ');
    clear(
      result,
      row.lookAlike
        ? h('div', { class: 'notice warn enrol-lookalike', role: 'alert' }, t('enrol.lookAlike', { skus: nearest }))
        : h('div', { class: 'notice ok enrol-done', role: 'status' }, t('enrol.done', { n: row.photoIds.length }), nearest ? ` ${t('enrol.nearest', { skus: nearest })}` : ''),
    );
  };

  const files = h('input', { id: 'enrol-files', type: 'file', multiple: true, accept: 'image/*', 'aria-label': t('enrol.files') });
  const submit = h('button', { type: 'submit', id: 'enrol-submit' }, t('enrol.submit'));
  const send = async () => {
    const list = Array.from(files.files ?? []);
    const problem = filesProblem(list);
    if (problem) return void notice(box, problem, 'error');
    submit.disabled = true;
    submit.textContent = t('enrol.sending');
    try {
      const body: EnrolRequest = { photos: await Promise.all(list.map(async (f) => ({ contentType: f.type as PhotoType, dataBase64: await base64Of(f) }))) };
      const row = await api<EnrolmentRow>('POST', OPERATOR_ROUTES.enrolProduct.path.replace(':sku', encodeURIComponent(p.sku)), body);
      files.value = '';
      drawResult(row);
      drawGallery(row);
      opts.enrolled(row);
    } catch (e) {
      const photo = e instanceof ApiError ? (e.details as { photo?: number } | undefined)?.photo : undefined;
      notice(box, e instanceof ApiError && e.code === 'PHOTO_UNREADABLE' && photo !== undefined ? t('enrol.unreadable', { name: list[photo]?.name ?? `#${photo + 1}` }) : (e as Error).message, 'error', true);
    } finally {
      submit.disabled = false;
      submit.textContent = t('enrol.submit');
    }
  };

  clear(
    box,
    h(
      'div',
      { class: 'enrol-panel', 'data-sku': p.sku },
      h('h3', {}, `${t('enrol.title')} · ${p.sku} · ${getLang() === 'zh' ? p.name : p.nameEn}`),
      opts.canEdit
        ? h(
            'form',
            { class: 'enrol-form', onsubmit: (e: Event) => (e.preventDefault(), void send()) },
            h('p', { class: 'muted' }, t('enrol.help', { min: MIN_ENROL_PHOTOS, max: MAX_ENROL_PHOTOS, mb: MAX_PHOTO_BYTES / 1_000_000 })),
            h('label', {}, t('enrol.files'), ' ', files),
            submit,
          )
        : null,
      result,
      gallery,
    ),
  );
  if (current) drawResult(current);
  drawGallery(current);
}
