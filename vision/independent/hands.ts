import { slotRect, type ShelfLayout } from '../render/geometry';
import { shade } from './colour';
import type { SceneConditions } from './conditions';
import type { Random } from './random';

/**
 * A hand and sleeve still reaching into the shelf when the after snapshot is taken (the door sensor fired
 * before the shopper withdrew). Drawn in shelf coordinates in front of everything, so both cameras see it,
 * each from its own calibration; `parallax` shifts it for a camera off the axis, as a near object would.
 */
export interface HandPose {
  /** Centre of the palm, shelf coordinates. */
  x: number;
  y: number;
  /** Degrees from vertical; the arm comes in from below the shelf at this angle. */
  angle: number;
  scale: number;
}

/** Aims the hand at one of the touched facings (or any facing when nothing was touched). */
export function handPose(layout: ShelfLayout, touched: ReadonlyArray<{ laneId: string; slot: number }>, r: Random): HandPose {
  const t = touched.length > 0 ? r.pick(touched) : { laneId: r.pick(layout.cells).laneId, slot: 0 };
  const cell = layout.cells.find((c) => c.laneId === t.laneId) ?? (layout.cells[0] as ShelfLayout['cells'][number]);
  const slot = slotRect(cell, Math.min(t.slot, cell.capacity - 1));
  return { x: slot.x + slot.w / 2 + r.uniform(-10, 10), y: slot.y + slot.h * r.uniform(0.2, 0.7), angle: r.uniform(-35, 35), scale: r.uniform(0.85, 1.25) };
}

export function handSvg(pose: HandPose, c: SceneConditions, parallax: number): string {
  const skin = c.hand.skin;
  const sleeve = c.hand.sleeve;
  const dark = shade(skin, 0.8);
  // Local frame: fingertips up (−y) from the palm at the origin; the arm runs down (+y) off the shelf.
  const fingers = [-19, -6.5, 6.5, 19].map((fx, i) => {
    const len = [30, 38, 36, 28][i] as number;
    return `<rect x="${fx - 5.5}" y="${-30 - len}" width="11" height="${len + 12}" rx="5.5" fill="${skin}" stroke="${dark}" stroke-width="0.8"/>`;
  });
  const thumb = `<rect x="22" y="-28" width="12" height="34" rx="6" fill="${skin}" stroke="${dark}" stroke-width="0.8" transform="rotate(38 28 0)"/>`;
  const palm = `<ellipse cx="0" cy="0" rx="28" ry="34" fill="${skin}" stroke="${dark}" stroke-width="0.8"/>`;
  const wrist = `<rect x="-21" y="18" width="42" height="40" fill="${skin}"/>`;
  const arm = `<path d="M-32,52 L32,52 L44,900 L-44,900 Z" fill="${sleeve}"/><path d="M14,52 L32,52 L44,900 L22,900 Z" fill="${shade(sleeve, 0.7)}"/><rect x="-33" y="48" width="66" height="9" rx="3" fill="${shade(sleeve, 0.85)}"/>`;
  return `<g transform="translate(${(pose.x + parallax).toFixed(1)} ${pose.y.toFixed(1)}) rotate(${pose.angle.toFixed(1)}) scale(${pose.scale.toFixed(3)})">${arm}${wrist}${palm}${thumb}${fingers.join('')}</g>`;
}
