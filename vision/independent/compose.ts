import sharp from 'sharp';
import type { Lane, ProductSpec } from '../../contracts/domain';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';
import { FRAME_H, FRAME_W, cameraAffine, shelfLayout, type ShelfLayout } from '../render/geometry';
import type { VisitEvidence, VisitFrame } from '../recognition.types';
import { backdropSvg, type SvgLayer } from './backdrops';
import { CAMERAS, drawConditions, sceneTags, type Camera, type SceneConditions, type Tier } from './conditions';
import { fixturesSvg, type Fixtures } from './fixtures';
import { handPose, handSvg, type HandPose } from './hands';
import { itemsSvg, placementTags, posesAfter, posesBefore, type Poses } from './items';
import { applyLight, lightFor } from './light';
import { glassLayout, glassSvg, shaken, svgMatrix, type GlassLayout } from './optics';
import { randomFor, type Random } from './random';
import { applyActions, stockShelf, type Actions, type Shelf } from './shelf-state';

/**
 * The independent compositor: one visit's before/after JPEGs for the `top` and `side` cameras, with the truth
 * and the conditions the scene had. Everything drawn here is this folder's own (layers of SVG rasterised by
 * sharp, then a lighting and sensor pass on raw pixels); only the artwork, the geometry and the calibration
 * format are shared with the renderer (README.md). For evaluation only — never for training or tuning.
 */
export interface VisitSpec extends Actions {
  /** The planogram before the visit: `count` units of `sku` stand in each lane. */
  lanes: Lane[];
  tier: Tier;
  seed: number;
  cabinetId?: string;
}

export interface ComposedVisit {
  evidence: VisitEvidence;
  /** sku → units that left the cabinet (keys sorted). */
  truth: Record<string, number>;
  /** What the scene had, e.g. `backdrop:wood`, `light:warm<4000K`, `hand_in_after`, `shake`, `jpeg<70`. */
  conditions: string[];
}

type Phase = 'before' | 'after';
const PHASES: readonly Phase[] = ['before', 'after'];
/** How much nearer the camera a hand is than the shelf, as a shift in the side camera's view (shelf units). */
const SIDE_PARALLAX = 10;

interface Scene {
  layout: ShelfLayout;
  c: SceneConditions;
  /** The back panel and the shadows on it, rasterised once per visit (an `<image>` in shelf coordinates). */
  panel: string;
  fixtures: Fixtures;
  shelves: Record<Phase, Shelf>;
  poses: Record<Phase, Poses>;
  hand: HandPose | null;
  glass: Record<Camera, GlassLayout>;
  catalogue: ReadonlyMap<string, ProductSpec>;
}

/** Deterministic by `spec.seed` and `spec.tier`: the same spec gives byte-identical JPEGs on the same sharp build. */
export async function composeVisit(spec: VisitSpec, catalogue: readonly ProductSpec[] = DEMO_CATALOGUE): Promise<ComposedVisit> {
  const r = randomFor(`independent|${spec.tier}|${spec.seed}`);
  const products = new Map(catalogue.map((p) => [p.sku, p]));
  for (const l of spec.lanes) if (!products.has(l.sku)) throw new Error(`lane ${l.laneId}: ${l.sku} is not in the catalogue`);
  const c = drawConditions(spec.tier, r.fork('conditions'));
  const change = applyActions(stockShelf(spec.lanes, r.fork('stock')), spec, r.fork('actions'));
  const layout = shelfLayout(spec.lanes);
  const before = posesBefore(change.before, c, r.fork('poses-before'));
  const after = posesAfter(change, before, c, r.fork('poses-after'));
  const fixtures = fixturesSvg(layout, spec.lanes, products, c, r.fork('fixtures'));
  const scene: Scene = {
    layout,
    c,
    panel: await panelImage(layout, backdropSvg(c.backdrop, spec.tier, r.fork('backdrop-art'), layout.width, layout.height), fixtures),
    fixtures,
    shelves: { before: change.before, after: change.after },
    poses: { before, after },
    hand: c.hand.inAfter ? handPose(layout, change.touched, r.fork('hand-pose')) : null,
    glass: { top: glassLayout(r.fork('glass-top'), FRAME_W, FRAME_H), side: glassLayout(r.fork('glass-side'), FRAME_W, FRAME_H) },
    catalogue: products,
  };
  const t0 = 1_750_000_000_000 + spec.seed * 1000;
  const frames: VisitFrame[] = [];
  for (const camera of CAMERAS) {
    for (const [seq, phase] of PHASES.entries()) {
      const jpeg = await drawFrame(scene, camera, phase, r.fork(`sensor-${camera}-${phase}`));
      frames.push({ camera, seq, phase, ts: t0 + seq * 12_000, jpeg });
    }
  }
  const conditions = [...sceneTags(c), ...placementTags(before, after), ...actionTags(spec)];
  return {
    evidence: { visitId: `ind-${spec.tier}-${spec.seed}`, cabinetId: spec.cabinetId ?? 'IND-CAB', lanes: spec.lanes.map((l) => ({ ...l })), cameras: [...CAMERAS], frames },
    truth: change.truth,
    conditions,
  };
}

function actionTags(a: Actions): string[] {
  const taken = Object.values(a.takes).reduce((s, n) => s + n, 0) + (a.swaps?.length ?? 0);
  return [
    ...(a.putBacks?.length ? ['put_back'] : []),
    ...(a.swaps?.length ? ['lookalike_swap'] : []),
    ...(taken === 0 ? ['nothing_taken'] : taken >= 3 ? ['taken>=3'] : []),
  ];
}

/** The SVG of one camera's frame of one phase, in layers back to front. */
function frameSvg(s: Scene, camera: Camera, phase: Phase): string {
  const base = cameraAffine(camera, s.layout.width, s.layout.height, FRAME_W, FRAME_H);
  const m = phase === 'after' ? shaken(base, s.c.shake[camera], FRAME_W, FRAME_H) : base;
  const prefix = `${camera[0]}${phase[0]}`;
  const items = itemsSvg(s.layout, s.shelves[phase], s.poses[phase], s.catalogue, s.c, prefix);
  const glass = glassSvg(s.glass[camera], s.c, phase, prefix, FRAME_W, FRAME_H);
  const hand = phase === 'after' && s.hand ? handSvg(s.hand, s.c, camera === 'side' ? SIDE_PARALLAX : 0) : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${FRAME_W}" height="${FRAME_H}" viewBox="0 0 ${FRAME_W} ${FRAME_H}">` +
    `<defs>${glass.defs}</defs>` +
    `<rect width="${FRAME_W}" height="${FRAME_H}" fill="${s.c.wall}"/>` +
    `<g transform="${svgMatrix(m)}">${s.panel}${items.shadows}${items.items}${s.fixtures.front}${hand}</g>` +
    `${glass.body}</svg>`
  );
}

/**
 * Fine textures (ribs, holes) as SVG patterns cost librsvg about a second a frame; the panel is the same in all
 * four frames, so it is drawn once at shelf resolution and placed as an image under each camera's transform.
 */
async function panelImage(layout: ShelfLayout, backdrop: SvgLayer, fixtures: Fixtures): Promise<string> {
  const { width: w, height: h } = layout;
  const svg = (body: string): Buffer => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><defs>${backdrop.defs}${fixtures.defs}</defs>${body}</svg>`);
  const base = backdrop.raw ? sharp(backdrop.raw, { raw: { width: w, height: h, channels: 3 } }).composite([{ input: svg(fixtures.behind) }]) : sharp(svg(backdrop.body + fixtures.behind));
  const jpeg = await base.removeAlpha().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
  return `<image x="0" y="0" width="${w}" height="${h}" preserveAspectRatio="none" href="data:image/jpeg;base64,${jpeg.toString('base64')}"/>`;
}

async function drawFrame(s: Scene, camera: Camera, phase: Phase, r: Random): Promise<Buffer> {
  const { data, info } = await sharp(Buffer.from(frameSvg(s, camera, phase))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== FRAME_W || info.height !== FRAME_H || info.channels !== 3) throw new Error(`rasterised ${info.width}×${info.height}×${info.channels}, expected ${FRAME_W}×${FRAME_H}×3`);
  applyLight(data, FRAME_W, FRAME_H, lightFor(s.c, phase, r), r);
  const quality = s.c.jpeg[camera][phase];
  return sharp(data, { raw: { width: FRAME_W, height: FRAME_H, channels: 3 } }).blur(s.c.blur).jpeg({ quality }).toBuffer();
}
