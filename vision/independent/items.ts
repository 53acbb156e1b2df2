import type { ProductSpec } from '../../contracts/domain';
import { boardTop, slotRect, type ShelfLayout } from '../render/geometry';
import { itemSvg, packagingHeight, packagingWidth } from '../render/packaging';
import type { SceneConditions } from './conditions';
import type { Random } from './random';
import type { Shelf, ShelfChange } from './shelf-state';

/**
 * Where each item stands inside its facing and how it leans, and the items with their cast shadows as SVG.
 * Only the artwork (`itemSvg`) is shared with the renderer; placement, leaning and shadows are modelled here.
 *
 * A restocker never centres items exactly (`jitter`); some shoppers' hands nudge the neighbours of the facings
 * they touched (up to `nudgeMax` of a facing's width) or tip them (up to `leanMax` degrees), so the after frame
 * differs from the before frame in facings nothing left. An item the shopper put down stands more carelessly.
 */
export interface Pose {
  /** Offset of the item's centre from the facing's centre, as a fraction of the facing's width. */
  dx: number;
  /** Degrees; positive leans right, pivoting on the item's bottom corner on that side. */
  lean: number;
}

export type Poses = Map<number, Pose>;

const clamp = (x: number, m: number): number => Math.max(-m, Math.min(m, x));

export function posesBefore(before: Shelf, c: SceneConditions, r: Random): Poses {
  const poses: Poses = new Map();
  const P = c.placement;
  const units: number[] = [];
  for (const facings of before.values()) {
    for (const u of facings) {
      if (!u) continue;
      units.push(u.unit);
      poses.set(u.unit, { dx: clamp(r.normal() * P.jitter, 2.5 * P.jitter), lean: 0 });
    }
  }
  for (const unit of r.shuffle(units).slice(0, P.leaningBefore)) {
    const pose = poses.get(unit) as Pose;
    pose.lean = (r.chance(0.5) ? 1 : -1) * r.uniform(4, P.leanMax);
  }
  return poses;
}

export function posesAfter(change: ShelfChange, before: Poses, c: SceneConditions, r: Random): Poses {
  const P = c.placement;
  const poses: Poses = new Map();
  const near = (laneId: string, slot: number): boolean => change.touched.some((t) => t.laneId === laneId && Math.abs(t.slot - slot) <= 1);
  for (const [laneId, facings] of change.after) {
    const was = change.before.get(laneId) ?? [];
    facings.forEach((u, slot) => {
      if (!u) return;
      const stayed = was[slot]?.unit === u.unit;
      const prior = before.get(u.unit) ?? { dx: 0, lean: 0 };
      if (!stayed) {
        // Put down by the shopper: placed more carelessly than a restocker would.
        poses.set(u.unit, { dx: clamp(r.normal() * P.nudgeMax * 0.6, 0.25), lean: P.tipping && r.chance(0.4) ? r.uniform(-P.leanMax, P.leanMax) : 0 });
        return;
      }
      let { dx, lean } = prior;
      if (P.nudging && near(laneId, slot) && r.chance(0.6)) dx = clamp(dx + (r.chance(0.5) ? 1 : -1) * r.uniform(0.4, 1) * P.nudgeMax, 0.25);
      if (P.tipping && near(laneId, slot) && r.chance(0.4)) lean = (r.chance(0.5) ? 1 : -1) * r.uniform(0.45, 1) * P.leanMax;
      poses.set(u.unit, { dx, lean });
    });
  }
  return poses;
}

/** The placement tags: an item visibly off centre or moved within its facing, an item visibly leaning. */
export function placementTags(before: Poses, after: Poses): string[] {
  let nudged = false;
  let leaning = false;
  for (const [unit, a] of after) {
    const b = before.get(unit);
    if (Math.abs(a.dx) >= 0.18 || (b && Math.abs(a.dx - b.dx) >= 0.08)) nudged = true;
    if (Math.abs(a.lean) >= 4 || (b && Math.abs(b.lean) >= 4)) leaning = true;
  }
  for (const b of before.values()) if (Math.abs(b.dx) >= 0.18) nudged = true;
  return [...(nudged ? ['nudged'] : []), ...(leaning ? ['leaning'] : [])];
}

/** Items of one phase and their shadows on the back panel; `prefix` keeps gradient ids unique within a frame. */
export function itemsSvg(layout: ShelfLayout, shelf: Shelf, poses: Poses, catalogue: ReadonlyMap<string, ProductSpec>, c: SceneConditions, prefix: string): { shadows: string; items: string } {
  const shadows: string[] = [];
  const items: string[] = [];
  const s = c.shadow;
  for (const cell of layout.cells) {
    const facings = shelf.get(cell.laneId) ?? [];
    facings.forEach((u, i) => {
      if (!u) return;
      const p = catalogue.get(u.sku);
      if (!p) throw new Error(`no artwork for ${u.sku}: not in the catalogue`);
      const slot = slotRect(cell, i);
      const pose = poses.get(u.unit) ?? { dx: 0, lean: 0 };
      const cx = slot.x + slot.w / 2 + pose.dx * slot.w;
      const bottom = boardTop(cell);
      const w = slot.w * packagingWidth(p.packaging);
      const h = slot.h * packagingHeight(p.packaging);
      const pivot = cx + (pose.lean >= 0 ? w / 2 : -w / 2);
      const tf = pose.lean !== 0 ? ` transform="rotate(${pose.lean.toFixed(2)} ${pivot.toFixed(2)} ${bottom})"` : '';
      // A soft edge from three nested rectangles: an SVG blur filter over the frame costs more than the items.
      for (let k = 0; k < 3; k++) {
        const grow = (k * s.blur) / 1.5;
        shadows.push(`<rect x="${(cx - w / 2 + s.dx - grow).toFixed(1)}" y="${(bottom - h + s.dy - grow).toFixed(1)}" width="${(w + 2 * grow).toFixed(1)}" height="${(h + 2 * grow).toFixed(1)}" rx="${(w * 0.15 + grow).toFixed(1)}"${tf}/>`);
      }
      items.push(`<g${tf}>${itemSvg(p, `${prefix}${cell.laneId}s${i}`, cx, bottom, slot.w, slot.h)}</g>`);
    });
  }
  const layer = 1 - Math.pow(1 - s.opacity, 1 / 3);
  return { shadows: `<g fill="#000" fill-opacity="${layer.toFixed(3)}">${shadows.join('')}</g>`, items: items.join('') };
}
