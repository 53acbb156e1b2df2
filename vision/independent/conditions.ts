import type { Random } from './random';

/**
 * The nuisance models of the independent compositor and their ranges per tier. `mild` is the variety of a
 * plausible office pantry (painted or light wooden panels, office LED light, a tidy shelf); `hard` is the
 * full range the issue lists (any backdrop, 2700–6500 K with gradients and flicker, shaken cameras, items
 * nudged ~20 % or leaning ~9°, JPEG down to 50). The numbers are chosen here, not taken from the renderer.
 */
export type Tier = 'mild' | 'hard';
export const TIERS: readonly Tier[] = ['mild', 'hard'];

export type BackdropKind = 'painted' | 'wood' | 'ribbed' | 'perforated' | 'wrap';
export type Camera = 'top' | 'side';
export const CAMERAS: readonly Camera[] = ['top', 'side'];

export interface SceneConditions {
  tier: Tier;
  backdrop: BackdropKind;
  /** Cabinet interior around the shelf, outside the calibrated area. */
  wall: string;
  board: { colour: string; dividers: boolean };
  /** Price tags on the shelf lip; `protrude` is how far (shelf units) a tag stands above the board, over items' feet. */
  tags: { present: boolean; protrude: number; promo: boolean };
  light: {
    kelvin: number;
    /** How much of the colour cast the camera's white balance removes (1 = all). */
    whiteBalance: number;
    exposure: number;
    /** Linear brightness gradient across the frame (fraction per frame width / height). */
    gx: number;
    gy: number;
    vignette: number;
    /** After-frame exposure relative to before (mains flicker, an LED driver, auto-exposure). */
    flickerGain: number;
    kelvinAfter: number;
    /** Rolling-shutter banding amplitude (fraction) and period (px) in the after frame. */
    banding: number;
    bandPeriod: number;
  };
  shadow: { dx: number; dy: number; opacity: number; blur: number; shelfAbove: number };
  glass: { opacity: number; angleDeg: number; shiftAfter: number; shopperReflection: boolean };
  hand: { inAfter: boolean; skin: string; sleeve: string };
  /** After-frame camera motion relative to the calibration, per camera: pixels and degrees. */
  shake: Record<Camera, { dx: number; dy: number; rotDeg: number }>;
  /**
   * `jitter`: restocker's off-centre spread (standard deviation, fraction of a facing). `nudging` / `tipping`:
   * whether this shopper's hand nudges or tips the neighbours of the facings it touched (each neighbour then
   * with probability 0.6 / 0.4, by up to `nudgeMax` / `leanMax`). `leaningBefore`: items already leaning.
   */
  placement: { jitter: number; nudging: boolean; nudgeMax: number; tipping: boolean; leanMax: number; leaningBefore: number };
  jpeg: Record<Camera, { before: number; after: number }>;
  noise: number;
  blur: number;
}

interface Ranges {
  backdrops: ReadonlyArray<[BackdropKind, number]>;
  walls: readonly string[];
  boards: readonly string[];
  dividersP: number;
  tagsP: number;
  protrudeP: number;
  protrude: [number, number];
  kelvin: [number, number];
  whiteBalance: [number, number];
  exposure: [number, number];
  gradient: number;
  vignette: [number, number];
  flickerP: number;
  flicker: [number, number];
  kelvinDrift: number;
  bandingP: number;
  banding: [number, number];
  shadowOffset: number;
  shadowOpacity: [number, number];
  shelfAbove: [number, number];
  glass: [number, number];
  glassShift: number;
  shopperReflectionP: number;
  handP: number;
  shakeP: number;
  shakePx: [number, number];
  shakeDeg: number;
  jitter: number;
  nudgeP: number;
  nudgeMax: number;
  leanP: number;
  leanMax: number;
  leanBeforeP: number;
  jpeg: [number, number];
  /** Per-frame spread of JPEG quality around the cabinet's setting. */
  jpegSpread: number;
  noise: [number, number];
  blur: [number, number];
}

/** Per tier. Probabilities are per visit: a condition is present or absent in a visit, so its share can be compared. */
export const RANGES: Record<Tier, Ranges> = {
  mild: {
    backdrops: [['painted', 0.45], ['wood', 0.25], ['perforated', 0.15], ['ribbed', 0.15]],
    walls: ['#d8d8d4', '#c9ccd0', '#e4e0d8', '#b8bcc0'],
    boards: ['#f2f2f0', '#d9dadc', '#b9bcc1', '#e8e4da'],
    dividersP: 0.3,
    tagsP: 0.7,
    protrudeP: 0.1,
    protrude: [2, 6],
    kelvin: [3300, 5600],
    whiteBalance: [0.55, 0.85],
    exposure: [0.9, 1.1],
    gradient: 0.25,
    vignette: [0.04, 0.18],
    flickerP: 0.1,
    flicker: [0.03, 0.06],
    kelvinDrift: 80,
    bandingP: 0,
    banding: [0, 0],
    shadowOffset: 4,
    shadowOpacity: [0.12, 0.3],
    shelfAbove: [0.08, 0.3],
    glass: [0, 0.08],
    glassShift: 3,
    shopperReflectionP: 0.05,
    handP: 0.04,
    shakeP: 0.1,
    shakePx: [0.3, 1],
    shakeDeg: 0.15,
    jitter: 0.03,
    nudgeP: 0.25,
    nudgeMax: 0.1,
    leanP: 0.1,
    leanMax: 5,
    leanBeforeP: 0,
    jpeg: [75, 95],
    jpegSpread: 3,
    noise: [1, 3],
    blur: [0.3, 0.8],
  },
  hard: {
    backdrops: [['painted', 0.2], ['wood', 0.22], ['ribbed', 0.2], ['perforated', 0.18], ['wrap', 0.2]],
    walls: ['#2a2a2c', '#505458', '#d8d8d4', '#6b5a48', '#1e2a3a'],
    boards: ['#f2f2f0', '#b9bcc1', '#2b2b2b', '#8a6a48', '#c8102e', '#3a5f8a'],
    dividersP: 0.6,
    tagsP: 0.9,
    protrudeP: 0.45,
    protrude: [6, 22],
    kelvin: [2700, 6500],
    whiteBalance: [0, 0.6],
    exposure: [0.65, 1.3],
    gradient: 0.6,
    vignette: [0.1, 0.45],
    flickerP: 0.5,
    flicker: [0.06, 0.18],
    kelvinDrift: 300,
    bandingP: 0.35,
    banding: [0.02, 0.07],
    shadowOffset: 10,
    shadowOpacity: [0.2, 0.55],
    shelfAbove: [0.2, 0.6],
    glass: [0.04, 0.22],
    glassShift: 25,
    shopperReflectionP: 0.3,
    handP: 0.15,
    shakeP: 0.45,
    shakePx: [1, 3],
    shakeDeg: 0.5,
    jitter: 0.06,
    nudgeP: 0.5,
    nudgeMax: 0.2,
    leanP: 0.35,
    leanMax: 9,
    leanBeforeP: 0.15,
    jpeg: [50, 95],
    jpegSpread: 5,
    noise: [2, 7],
    blur: [0.3, 1.5],
  },
};

const SKIN = ['#f1c7a5', '#e0ac69', '#c68642', '#8d5524', '#ffdbac', '#a8755a'];
const SLEEVES = ['#1f3a93', '#2e2e2e', '#b03a2e', '#f5f5f5', '#7d6608', '#117864', '#6c3483', '#909497'];

function weighted<T>(r: Random, xs: ReadonlyArray<[T, number]>): T {
  const total = xs.reduce((s, [, w]) => s + w, 0);
  let u = r.next() * total;
  for (const [x, w] of xs) {
    u -= w;
    if (u < 0) return x;
  }
  return (xs[xs.length - 1] as [T, number])[0];
}

const within = (r: Random, [lo, hi]: [number, number]): number => r.uniform(lo, hi);
const signed = (r: Random, m: number): number => r.uniform(-m, m);

/** Draws one scene's conditions; every concern from its own fork, so ranges can change one at a time. */
export function drawConditions(tier: Tier, r: Random): SceneConditions {
  const R = RANGES[tier];
  const light = r.fork('light');
  const kelvin = within(light, R.kelvin);
  const flickers = light.chance(R.flickerP);
  const flicker = flickers ? (light.chance(0.5) ? 1 : -1) * within(light, R.flicker) : light.uniform(-0.02, 0.02);
  const banded = flickers && light.chance(R.bandingP);
  const slope = light.uniform(0, R.gradient);
  const slopeDir = light.uniform(0, 2 * Math.PI);
  const shake = r.fork('shake');
  const shaken = shake.chance(R.shakeP);
  const cameraShake = (): { dx: number; dy: number; rotDeg: number } => {
    if (!shaken) return { dx: 0, dy: 0, rotDeg: 0 };
    const mag = within(shake, R.shakePx);
    const dir = shake.uniform(0, 2 * Math.PI);
    return { dx: mag * Math.cos(dir), dy: mag * Math.sin(dir), rotDeg: signed(shake, R.shakeDeg) };
  };
  const q = r.fork('jpeg');
  // The cabinet's encoder setting, varied a little per frame (rate control), kept within the tier's range.
  const setting = within(q, R.jpeg);
  const jq = (): number => Math.round(Math.max(R.jpeg[0], Math.min(R.jpeg[1], setting + q.uniform(-R.jpegSpread, R.jpegSpread))));
  const place = r.fork('placement');
  const tags = r.fork('tags');
  const glass = r.fork('glass');
  const hand = r.fork('hand');
  const shadow = r.fork('shadow');
  const deco = r.fork('decor');
  return {
    tier,
    backdrop: weighted(r.fork('backdrop'), R.backdrops),
    wall: deco.pick(R.walls),
    board: { colour: deco.pick(R.boards), dividers: deco.chance(R.dividersP) },
    tags: { present: tags.chance(R.tagsP), protrude: tags.chance(R.protrudeP) ? within(tags, R.protrude) : 0, promo: tags.chance(0.4) },
    light: {
      kelvin,
      whiteBalance: within(light, R.whiteBalance),
      exposure: within(light, R.exposure),
      gx: slope * Math.cos(slopeDir),
      gy: slope * Math.sin(slopeDir),
      vignette: within(light, R.vignette),
      flickerGain: 1 + flicker,
      kelvinAfter: kelvin + signed(light, R.kelvinDrift),
      banding: banded ? within(light, R.banding) : 0,
      bandPeriod: light.uniform(30, 140),
    },
    shadow: {
      dx: signed(shadow, R.shadowOffset),
      dy: shadow.uniform(0, R.shadowOffset),
      opacity: within(shadow, R.shadowOpacity),
      blur: shadow.uniform(1.5, 4),
      shelfAbove: within(shadow, R.shelfAbove),
    },
    glass: { opacity: within(glass, R.glass), angleDeg: glass.uniform(-35, 35), shiftAfter: signed(glass, R.glassShift), shopperReflection: glass.chance(R.shopperReflectionP) },
    hand: { inAfter: hand.chance(R.handP), skin: hand.pick(SKIN), sleeve: hand.pick(SLEEVES) },
    shake: { top: cameraShake(), side: cameraShake() },
    placement: { jitter: R.jitter, nudging: place.chance(R.nudgeP), nudgeMax: R.nudgeMax, tipping: place.chance(R.leanP), leanMax: R.leanMax, leaningBefore: place.chance(R.leanBeforeP) ? place.int(1, 3) : 0 },
    jpeg: { top: { before: jq(), after: jq() }, side: { before: jq(), after: jq() } },
    noise: within(r.fork('noise'), R.noise),
    blur: within(r.fork('blur'), R.blur),
  };
}

/** The scene-level condition tags (placement and action tags are added where those are decided). */
export function sceneTags(c: SceneConditions): string[] {
  const t = [`backdrop:${c.backdrop}`];
  if (c.light.kelvin < 4000) t.push('light:warm<4000K');
  if (c.light.kelvin > 5500) t.push('light:cool>5500K');
  if (Math.hypot(c.light.gx, c.light.gy) > 0.3) t.push('light:gradient');
  if (Math.abs(c.light.flickerGain - 1) > 0.06 || c.light.banding > 0) t.push('light:flicker');
  if (c.light.exposure < 0.8) t.push('light:dim');
  if (c.shadow.opacity > 0.42 || c.shadow.shelfAbove > 0.5) t.push('shadow:strong');
  if (c.tags.present && c.tags.protrude > 0) t.push('price_tag:protruding');
  if (c.glass.opacity > 0.12 || c.glass.shopperReflection) t.push('glass_reflection');
  if (c.hand.inAfter) t.push('hand_in_after');
  if (Object.values(c.shake).some((s) => Math.hypot(s.dx, s.dy) >= 1 || Math.abs(s.rotDeg) >= 0.25)) t.push('shake');
  if (Object.values(c.jpeg).some((q) => Math.min(q.before, q.after) < 70)) t.push('jpeg<70');
  if (c.noise > 5) t.push('noise:high');
  if (c.blur > 1.1) t.push('blur');
  return t;
}
