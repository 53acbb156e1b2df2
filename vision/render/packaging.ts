import type { ProductSpec } from '../../contracts/domain';
import { hashString, rng } from './prng';

/**
 * Procedural packaging. A brand family shares shape, base colour and layout (seeded by the brand), so its
 * flavours are look-alikes told apart only by the accent colour and the flavour text — as on real shelves.
 */
export interface FamilyLayout {
  accentShape: 'band' | 'disc' | 'diagonal' | 'chevron';
  pattern: 'none' | 'stripes' | 'dots';
  textColour: string;
  bandAt: number;
}

export function familyLayout(p: Pick<ProductSpec, 'brand' | 'colour'>): FamilyLayout {
  const r = rng(hashString(`family|${p.brand}`));
  const shapes = ['band', 'disc', 'diagonal', 'chevron'] as const;
  const patterns = ['none', 'stripes', 'dots'] as const;
  return {
    accentShape: shapes[Math.floor(r() * shapes.length)] ?? 'band',
    pattern: patterns[Math.floor(r() * patterns.length)] ?? 'none',
    textColour: luminance(p.colour) > 0.55 ? '#1a1a1a' : '#ffffff',
    bandAt: 0.45 + 0.15 * r(),
  };
}

export function luminance(hex: string): number {
  const n = parseInt(hex.slice(1), 16);
  const r = (n >> 16) & 255;
  const g = (n >> 8) & 255;
  const b = n & 255;
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export const packagingHeight = (p: ProductSpec['packaging']): number => ({ can: 0.62, bottle: 0.9, bag: 0.74, box: 0.7 })[p];
export const packagingWidth = (p: ProductSpec['packaging']): number => ({ can: 0.8, bottle: 0.72, bag: 0.94, box: 0.88 })[p];

/**
 * SVG for one item standing with its bottom centre at (cx, bottom) inside a slot of width slotW and usable
 * height maxH. `id` keeps gradient ids unique within a scene.
 */
export function itemSvg(p: ProductSpec, id: string, cx: number, bottom: number, slotW: number, maxH: number): string {
  const L = familyLayout(p);
  const w = slotW * packagingWidth(p.packaging);
  const h = maxH * packagingHeight(p.packaging);
  const x = cx - w / 2;
  const y = bottom - h;
  const flavourWord = esc((p.nameEn.split(' ').slice(-1)[0] ?? p.flavour).slice(0, 6));
  const brandWord = esc(p.nameEn.split(' ')[0]?.slice(0, 5) ?? p.brand);
  const accentText = luminance(p.accent) > 0.55 ? '#111111' : '#ffffff';
  const shade = `<linearGradient id="sh${id}" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#000" stop-opacity="0.35"/><stop offset="0.3" stop-color="#fff" stop-opacity="0.18"/><stop offset="0.55" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.4"/></linearGradient>`;
  const parts: string[] = [`<defs>${shade}</defs>`];
  // Body silhouette by packaging; `body` is the label area where accent and text go.
  let body = { x, y, w, h };
  switch (p.packaging) {
    case 'can': {
      parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${w * 0.14}" fill="${p.colour}"/>`);
      parts.push(`<rect x="${x + w * 0.06}" y="${y}" width="${w * 0.88}" height="${h * 0.06}" rx="2" fill="#c9c9c9"/>`);
      body = { x, y: y + h * 0.08, w, h: h * 0.9 };
      break;
    }
    case 'bottle': {
      const neckW = w * 0.4;
      parts.push(`<rect x="${cx - neckW / 2}" y="${y}" width="${neckW}" height="${h * 0.1}" rx="2" fill="${p.accent}" stroke="#222" stroke-width="0.6"/>`);
      parts.push(`<path d="M${cx - neckW / 2},${y + h * 0.1} L${x},${y + h * 0.26} L${x},${y + h} L${x + w},${y + h} L${x + w},${y + h * 0.26} L${cx + neckW / 2},${y + h * 0.1} Z" fill="#e8f2f8" fill-opacity="0.85"/>`);
      parts.push(`<rect x="${x}" y="${y + h * 0.36}" width="${w}" height="${h * 0.5}" fill="${p.colour}"/>`);
      body = { x, y: y + h * 0.36, w, h: h * 0.5 };
      break;
    }
    case 'bag': {
      // Crimped top and bottom seams, slightly bulging sides.
      const n = 6;
      const pts: string[] = [];
      for (let i = 0; i <= n; i++) pts.push(`${x + (w * i) / n},${y + (i % 2 === 0 ? 0 : 3)}`);
      pts.push(`${x + w * 1.02},${y + h * 0.5}`);
      for (let i = n; i >= 0; i--) pts.push(`${x + (w * i) / n},${y + h - (i % 2 === 0 ? 0 : 3)}`);
      pts.push(`${x - w * 0.02},${y + h * 0.5}`);
      parts.push(`<path d="M${pts.join(' L')} Z" fill="${p.colour}"/>`);
      body = { x: x + w * 0.03, y: y + h * 0.08, w: w * 0.94, h: h * 0.84 };
      break;
    }
    case 'box': {
      parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${p.colour}" stroke="#000" stroke-opacity="0.3" stroke-width="0.8"/>`);
      parts.push(`<path d="M${x},${y} L${x + w * 0.12},${y - h * 0.05} L${x + w * 1.0},${y - h * 0.05} L${x + w},${y} Z" fill="${p.colour}" fill-opacity="0.7"/>`);
      body = { x, y, w, h };
      break;
    }
  }
  // Family pattern on the upper body.
  switch (L.pattern) {
    case 'stripes':
      for (let i = 0; i < 3; i++) parts.push(`<rect x="${body.x}" y="${body.y + body.h * (0.05 + i * 0.07)}" width="${body.w}" height="${body.h * 0.025}" fill="${L.textColour}" fill-opacity="0.35"/>`);
      break;
    case 'dots':
      for (let i = 0; i < 3; i++) parts.push(`<circle cx="${body.x + body.w * (0.25 + i * 0.25)}" cy="${body.y + body.h * 0.1}" r="${body.w * 0.06}" fill="${L.textColour}" fill-opacity="0.4"/>`);
      break;
    case 'none':
      break;
  }
  // Accent: the flavour's colour, in the family's shape.
  const by = body.y + body.h * L.bandAt;
  const bh = body.h * 0.26;
  switch (L.accentShape) {
    case 'band':
      parts.push(`<rect x="${body.x}" y="${by}" width="${body.w}" height="${bh}" fill="${p.accent}"/>`);
      break;
    case 'disc':
      parts.push(`<ellipse cx="${body.x + body.w / 2}" cy="${by + bh / 2}" rx="${body.w * 0.42}" ry="${bh * 0.75}" fill="${p.accent}"/>`);
      break;
    case 'diagonal':
      parts.push(`<path d="M${body.x},${by + bh} L${body.x + body.w},${by - bh * 0.3} L${body.x + body.w},${by + bh * 0.5} L${body.x},${by + bh * 1.8} Z" fill="${p.accent}"/>`);
      break;
    case 'chevron':
      parts.push(`<path d="M${body.x},${by} L${body.x + body.w / 2},${by + bh * 0.6} L${body.x + body.w},${by} L${body.x + body.w},${by + bh} L${body.x + body.w / 2},${by + bh * 1.6} L${body.x},${by + bh} Z" fill="${p.accent}"/>`);
      break;
  }
  // Text: brand at the top of the label, flavour on the accent. Sizes follow the slot so text stays inside.
  const fs = Math.max(5, Math.min(w * 0.3, 11));
  parts.push(`<text x="${cx}" y="${body.y + body.h * 0.3}" font-family="DejaVu Sans" font-weight="bold" font-size="${fs}" text-anchor="middle" fill="${L.textColour}">${brandWord}</text>`);
  parts.push(`<text x="${cx}" y="${by + bh * 0.7}" font-family="DejaVu Sans Condensed" font-size="${fs * 0.85}" text-anchor="middle" fill="${accentText}">${flavourWord}</text>`);
  // Cylindrical shading over the whole silhouette.
  parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${p.packaging === 'can' ? w * 0.14 : 1}" fill="url(#sh${id})"/>`);
  return `<g>${parts.join('')}</g>`;
}
