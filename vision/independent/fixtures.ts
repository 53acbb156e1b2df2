import type { Lane, ProductSpec } from '../../contracts/domain';
import { BOARD_H, CROP_TOP, LANE_PAD, boardTop, type ShelfLayout } from '../render/geometry';
import { shade } from './colour';
import type { SceneConditions } from './conditions';
import type { Random } from './random';

/**
 * The shelf's fixed furniture in shelf coordinates: the shadow each board casts on the row below it, the boards
 * with their front lip, lane dividers, and price tags and promo labels on the lip. Tags that stand taller than the
 * lip cover the feet of the items behind them — in every frame, before and after alike.
 */
export interface Fixtures {
  /** Behind the items: the band of shadow under each board above. */
  behind: string;
  /** In front of the items: boards, dividers, tags. */
  front: string;
  defs: string;
}

const TAG_COLOURS = ['#ffffff', '#fff6c2', '#ffe14d'];
const PROMO = ['特价', 'NEW', '2件9折', 'HOT'];

const priceText = (fen: number): string => `¥${(fen / 100).toFixed(fen % 100 === 0 ? 0 : 2)}`;

export function fixturesSvg(layout: ShelfLayout, lanes: readonly Lane[], catalogue: ReadonlyMap<string, ProductSpec>, c: SceneConditions, r: Random): Fixtures {
  const defs = `<linearGradient id="fxAbove" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#000" stop-opacity="${c.shadow.shelfAbove.toFixed(3)}"/><stop offset="1" stop-color="#000" stop-opacity="0"/></linearGradient>`;
  const behind: string[] = [];
  const front: string[] = [];
  const band = CROP_TOP + r.uniform(10, 40);
  for (let row = 0; row < layout.rows; row++) {
    const cells = layout.cells.filter((x) => x.row === row);
    const first = cells[0];
    if (!first) continue;
    // Row 0 sits under the cabinet's ceiling, which casts the same band.
    behind.push(`<rect x="0" y="${first.cell.y}" width="${layout.width}" height="${band.toFixed(1)}" fill="url(#fxAbove)"/>`);
    const top = boardTop(first);
    const board = c.board.colour;
    front.push(`<rect x="0" y="${top}" width="${layout.width}" height="${BOARD_H}" fill="${board}"/>`);
    front.push(`<rect x="0" y="${top}" width="${layout.width}" height="1.5" fill="${shade(board, 1.25)}"/>`);
    front.push(`<rect x="0" y="${top + BOARD_H - 1.5}" width="${layout.width}" height="1.5" fill="${shade(board, 0.6)}"/>`);
  }
  if (c.board.dividers) {
    const acrylic = r.chance(0.5);
    for (const cell of layout.cells) {
      const x = cell.cell.x + LANE_PAD / 2 - 1;
      const y = cell.cell.y + CROP_TOP - 6;
      front.push(`<rect x="${x}" y="${y}" width="2" height="${boardTop(cell) - y}" fill="${acrylic ? '#ffffff' : '#7b7f85'}" fill-opacity="${acrylic ? 0.35 : 0.9}"/>`);
    }
  }
  if (c.tags.present) {
    for (const cell of layout.cells) {
      const lane = lanes.find((l) => l.laneId === cell.laneId);
      const p = lane ? catalogue.get(lane.sku) : undefined;
      if (!p) continue;
      const stands = c.tags.protrude > 0 && r.chance(0.6) ? c.tags.protrude * r.uniform(0.6, 1) : 0;
      const w = r.uniform(34, 54);
      const x = cell.cell.x + LANE_PAD + r.uniform(0, cell.cell.w - 2 * LANE_PAD - w);
      const y = boardTop(cell) + 1.5 - stands;
      const h = BOARD_H - 3 + stands;
      const fill = r.pick(TAG_COLOURS);
      front.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" rx="1" fill="${fill}" stroke="#999" stroke-width="0.4"/>`);
      front.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(y + h - 2).toFixed(1)}" font-family="DejaVu Sans" font-weight="bold" font-size="7" text-anchor="middle" fill="#c0392b">${priceText(p.priceFen)}</text>`);
      if (stands > 8) front.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(y + 8).toFixed(1)}" font-family="DejaVu Sans" font-size="6" text-anchor="middle" fill="#333">${p.name.slice(0, 5)}</text>`);
      if (c.tags.promo && r.chance(0.3)) {
        const px = cell.cell.x + LANE_PAD + r.uniform(0, cell.cell.w - 2 * LANE_PAD - 22);
        front.push(`<rect x="${px.toFixed(1)}" y="${boardTop(cell) + 1}" width="22" height="${BOARD_H - 2}" fill="#e31b23"/><text x="${(px + 11).toFixed(1)}" y="${boardTop(cell) + BOARD_H - 3}" font-family="DejaVu Sans" font-size="6.5" text-anchor="middle" fill="#fff">${r.pick(PROMO)}</text>`);
      }
    }
  }
  return { defs, behind: behind.join(''), front: front.join('') };
}
