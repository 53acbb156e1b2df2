import type { FleetPage } from '../../../contracts/console-api';
import { STICKERS_PATH, type StickerEntry, type StickerSheet } from '../../../contracts/console-wechat';
import { api } from '../api';
import { t } from '../i18n';
import { clear, h } from '../ui';

const CELL_W = 300;
const CELL_H = 340;
const CODE = 240;
const COLS = 4;

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('image'));
    img.src = src;
  });
}

/** The sheet as one PNG: a grid of codes with each cabinet's name, id and flow under it, for the printer. */
async function sheetPng(sheet: StickerSheet): Promise<string> {
  const withCode = sheet.cabinets.filter((c) => c.image);
  const rows = Math.ceil(withCode.length / COLS);
  const canvas = h('canvas', { width: COLS * CELL_W, height: rows * CELL_H });
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (const [i, c] of withCode.entries()) {
    const x = (i % COLS) * CELL_W;
    const y = Math.floor(i / COLS) * CELL_H;
    g.strokeStyle = '#ccc';
    g.strokeRect(x + 0.5, y + 0.5, CELL_W - 1, CELL_H - 1);
    g.drawImage(await loadImage(c.image!), x + (CELL_W - CODE) / 2, y + 20, CODE, CODE);
    g.fillStyle = '#000';
    g.textAlign = 'center';
    g.font = 'bold 20px sans-serif';
    g.fillText(c.name, x + CELL_W / 2, y + CODE + 52);
    g.font = '16px sans-serif';
    g.fillText(`${c.cabinetId} · ${t(`kind.${c.kind}`)}`, x + CELL_W / 2, y + CODE + 78);
  }
  return canvas.toDataURL('image/png');
}

function sticker(c: StickerEntry): HTMLElement {
  return h(
    'figure',
    { class: c.image ? 'sticker' : 'sticker missing', style: 'width:200px;text-align:center;border:1px dashed #999;padding:8px', 'data-cabinet': c.cabinetId, 'data-scene': c.scene ?? '', 'data-kind': c.kind },
    c.image ? h('img', { src: c.image, alt: c.cabinetId, width: 160, height: 160 }) : h('p', { class: 'error' }, c.error ?? ''),
    h('figcaption', {}, h('strong', {}, c.name), h('br', {}), `${c.cabinetId} · ${t(`kind.${c.kind}`)}`),
  );
}

/**
 * `#/stickers/<siteId>`: the site's sticker sheet, one mini-program code per cabinet (its scene opens the
 * cabinet's flow in the mini-program), to print from the page or download as one PNG.
 */
export function stickersView(root: HTMLElement, args: string[]): () => void {
  const siteId = args[0];
  const picker = h('select', { id: 'sticker-site', 'aria-label': t('filter.site'), onchange: (e: Event) => (location.hash = `#/stickers/${encodeURIComponent((e.target as HTMLSelectElement).value)}`) }, h('option', { value: '' }, t('filter.site')));
  const body = h('div', { id: 'stickers' }, siteId ? t('loading') : t('stickers.pick'));
  clear(root, h('section', {}, h('h2', {}, t('nav.stickers')), h('div', { class: 'toolbar' }, picker), body));
  void api<FleetPage>('GET', '/fleet?limit=1').then((f) => {
    for (const s of f.sites) picker.append(h('option', { value: s, ...(s === siteId ? { selected: true } : {}) }, s));
  });
  let url: string | undefined;
  if (siteId)
    void api<StickerSheet>('GET', STICKERS_PATH.replace(':siteId', encodeURIComponent(siteId))).then(
      (sheet) => {
        const download = h('a', { id: 'sticker-png', class: 'button', download: `stickers-${sheet.siteId}.png`, href: '#' }, t('stickers.download'));
        download.addEventListener('click', (e) => {
          if (url) return;
          e.preventDefault();
          void sheetPng(sheet).then((u) => {
            url = u;
            download.setAttribute('href', u);
            download.click();
          });
        });
        clear(body, h('div', { class: 'toolbar' }, download, h('button', { id: 'sticker-print', onclick: () => window.print() }, t('stickers.print'))), h('div', { class: 'sticker-sheet', style: 'display:flex;flex-wrap:wrap;gap:12px;margin-top:12px', 'data-site': sheet.siteId }, sheet.cabinets.map(sticker)));
      },
      (e: Error) => clear(body, h('p', { class: 'error', role: 'alert' }, e.message)),
    );
  return () => {
    url = undefined;
  };
}
