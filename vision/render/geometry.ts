import { hashString } from './prng';

/**
 * Shelf geometry shared by the renderer and the recogniser. Lanes sit on a grid: the letter of the lane id
 * is the row (A at the top), the number the column. Each lane shows its items side by side as distinct
 * facings, one slot per unit of capacity, so a camera can count them. Cameras are calibrated: an affine map
 * from shelf coordinates to image pixels, derived from the camera id (on real hardware this comes from the
 * cabinet's calibration record; the simulator and the recogniser agree on it by construction).
 */
export const LANE_W = 240;
export const LANE_H = 170;
export const LANE_PAD = 8;
export const BOARD_H = 12;
export const SHELF_MARGIN = 24;
/** Top of the crop window inside a lane cell; items are at most this far below the cell top. */
export const CROP_TOP = 22;

export const FRAME_W = 960;
export const FRAME_H = 720;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Image point = [a*x + c*y + e, b*x + d*y + f], the SVG matrix order. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export interface LaneCell {
  laneId: string;
  row: number;
  col: number;
  capacity: number;
  cell: Rect;
}

export function parseLaneId(laneId: string): { row: number; col: number } {
  const m = /^([A-Z])([0-9]{1,2})$/.exec(laneId);
  if (!m) throw new Error(`bad lane id ${laneId}`);
  return { row: (m[1] as string).charCodeAt(0) - 65, col: Number(m[2]) - 1 };
}

export interface ShelfLayout {
  width: number;
  height: number;
  rows: number;
  cols: number;
  cells: LaneCell[];
}

export function shelfLayout(lanes: ReadonlyArray<{ laneId: string; capacity: number }>): ShelfLayout {
  let rows = 1;
  let cols = 1;
  const cells = lanes.map((l) => {
    const { row, col } = parseLaneId(l.laneId);
    rows = Math.max(rows, row + 1);
    cols = Math.max(cols, col + 1);
    return {
      laneId: l.laneId,
      row,
      col,
      capacity: l.capacity,
      cell: { x: SHELF_MARGIN + col * LANE_W, y: SHELF_MARGIN + row * LANE_H, w: LANE_W, h: LANE_H },
    };
  });
  return { width: 2 * SHELF_MARGIN + cols * LANE_W, height: 2 * SHELF_MARGIN + rows * LANE_H, rows, cols, cells };
}

/** The shelf rectangle of one facing: where the item of slot `i` stands, and the window the recogniser crops. */
export function slotRect(cell: LaneCell, i: number): Rect {
  const inner = cell.cell.w - 2 * LANE_PAD;
  const w = inner / cell.capacity;
  return { x: cell.cell.x + LANE_PAD + i * w, y: cell.cell.y + CROP_TOP, w, h: cell.cell.h - BOARD_H - CROP_TOP };
}

/** The y of the shelf board top in a lane cell, where items stand. */
export const boardTop = (cell: LaneCell): number => cell.cell.y + cell.cell.h - BOARD_H;

/**
 * The calibration of a camera: `top` looks straight at the shelf, `side` from the left with foreshortening and
 * a little shear; any other id gets a stable variant of its own.
 */
export function cameraAffine(camera: string, shelfW: number, shelfH: number, frameW = FRAME_W, frameH = FRAME_H): Affine {
  const fit = Math.min((frameW - 40) / shelfW, (frameH - 40) / shelfH);
  if (camera === 'top') {
    const s = fit;
    return { a: s, b: 0, c: 0, d: s, e: (frameW - shelfW * s) / 2, f: (frameH - shelfH * s) / 2 };
  }
  const h = camera === 'side' ? 0.5 : (hashString(camera) % 1000) / 1000;
  const sx = fit * (0.86 + 0.08 * h);
  const sy = fit * (0.95 - 0.05 * h);
  const shear = 0.06 * (h - 0.25);
  const e = (frameW - shelfW * sx) / 2 + 10 * (h - 0.5);
  const f = (frameH - shelfH * sy) / 2 - (shelfW * shear) / 2;
  return { a: sx, b: shear, c: 0, d: sy, e, f };
}

export const applyAffine = (m: Affine, x: number, y: number): [number, number] => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];

export const IDENTITY_AFFINE: Affine = { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };

/** `outer ∘ inner`: a point mapped by `inner`, then by `outer` (a camera's calibration, then its motion since). */
export const composeAffine = (outer: Affine, inner: Affine): Affine => ({
  a: outer.a * inner.a + outer.c * inner.b,
  b: outer.b * inner.a + outer.d * inner.b,
  c: outer.a * inner.c + outer.c * inner.d,
  d: outer.b * inner.c + outer.d * inner.d,
  e: outer.a * inner.e + outer.c * inner.f + outer.e,
  f: outer.b * inner.e + outer.d * inner.f + outer.f,
});
