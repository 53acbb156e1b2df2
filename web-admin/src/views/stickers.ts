import type { FleetPage } from '../../../contracts/console-api';
import { STICKERS_PATH, type StickerEntry, type StickerSheet } from '../../../contracts/console-wechat';
import { api } from '../api';
import { t } from '../i18n';
import { clear, h } from '../ui';

const CELL_W = 520;
const CELL_H = 330;
const CODE = 220;
const COLS = 3;

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('image'));
    img.src = src;
  });
}

/**
 * The sheet as one PNG for the printer: a grid of cells, one per cabinet, each with the mini-program code
 * on the left and the link QR on the right (a cabinet without a mini-program code gets the link QR alone),
 * the cabinet's name, id and flow under them.
 */
async function sheetPng(sheet: StickerSheet): Promise<string> {
  const rows = Math.ceil(sheet.cabinets.length / COLS);
  const canvas = h('canvas', { width: COLS * CELL_W, height: rows * CELL_H });
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (const [i, c] of sheet.cabinets.entries()) {
    const x = (i % COLS) * CELL_W;
    const y = Math.floor(i / COLS) * CELL_H;
    g.strokeStyle = '#ccc';
    g.strokeRect(x + 0.5, y + 0.5, CELL_W - 1, CELL_H - 1);
    g.fillStyle = '#000';
    g.textAlign = 'center';
    if (c.image) g.drawImage(await loadImage(c.image), x + 30, y + 20, CODE, CODE);
    else {
      g.font = '16px sans-serif';
      g.fillText(t('stickers.noMiniCode'), x + 30 + CODE / 2, y + 20 + CODE / 2);
    }
    g.drawImage(await loadImage(c.linkImage), x + CELL_W - 30 - CODE, y + 20, CODE, CODE);
    g.font = 'bold 20px sans-serif';
    g.fillText(c.name, x + CELL_W / 2, y + CODE + 52);
    g.font = '16px sans-serif';
    g.fillText(`${c.cabinetId} · ${t(`kind.${c.kind}`)}`, x + CELL_W / 2, y + CODE + 78);
  }
  return canvas.toDataURL('image/png');
}

function code(src: string | undefined, label: string, cls: string, missing?: string): HTMLElement {
  return h('div', { class: cls, style: 'display:inline-block;margin:0 4px' }, src ? h('img', { src, alt: label, width: 140, height: 140 }) : h('p', { class: 'error', style: 'width:140px' }, missing ?? ''), h('div', { class: 'muted' }, label));
}

function sticker(c: StickerEntry): HTMLElement {
  return h(
    'figure',
    { class: c.image ? 'sticker' : 'sticker missing', style: 'width:330px;text-align:center;border:1px dashed #999;padding:8px', 'data-cabinet': c.cabinetId, 'data-scene': c.scene ?? '', 'data-kind': c.kind, 'data-link': c.link },
    code(c.image, t('stickers.miniCode'), 'mini-code', c.error),
    code(c.linkImage, t('stickers.linkCode'), 'link-code'),
    h('figcaption', {}, h('strong', {}, c.name), h('br', {}), `${c.cabinetId} · ${t(`kind.${c.kind}`)}`),
  );
}

/**
 * `#/stickers/<siteId>`: the site's sticker sheet, per cabinet a mini-program code (its scene opens the
 * cabinet's flow in the mini-program) and the link QR, to print from the page or download as one PNG.
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
        const hostNote = sheet.linkHostConfigured ? [] : [h('p', { id: 'sticker-host', class: 'muted' }, t('stickers.hostNotSet', { host: sheet.linkHost }))];
        clear(body, h('div', { class: 'toolbar' }, download, h('button', { id: 'sticker-print', onclick: () => window.print() }, t('stickers.print'))), ...hostNote, h('div', { class: 'sticker-sheet', style: 'display:flex;flex-wrap:wrap;gap:12px;margin-top:12px', 'data-site': sheet.siteId }, sheet.cabinets.map(sticker)));
      },
      (e: Error) => clear(body, h('p', { class: 'error', role: 'alert' }, e.message)),
    );
  return () => {
    url = undefined;
  };
}
