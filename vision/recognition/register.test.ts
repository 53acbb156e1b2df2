import { composeAffine, IDENTITY_AFFINE, type Affine } from '../render/geometry';
import { rng } from '../render/prng';
import type { DecodedFrame } from './crop';
import { judgeMotion, motionAffine, register, regPyramid, type MotionLimits, type Similarity } from './register';

/** Synthetic frames: no renderer, only rectangles, so what the registration must find is known exactly. */
const W = 960;
const H = 720;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  rgb: [number, number, number];
}

function scene(seed: number, n = 160): Box[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const w = 10 + r() * 70;
    const h = 10 + r() * 110;
    return { x: r() * (W - w), y: r() * (H - h), w, h, rgb: [30 + r() * 200, 30 + r() * 200, 30 + r() * 200] as [number, number, number] };
  });
}

/** Paints boxes, then exposure, vignette and noise; `skip` leaves some boxes out (what a shopper took). */
function paint(boxes: readonly Box[], o: { gain?: number; vignette?: number; noise?: number; seed?: number; skip?: ReadonlySet<number> } = {}): DecodedFrame {
  // Typed arrays, not Buffer, in the hot loops: element access on a Buffer is slow in jest's realm.
  const data = new Uint8Array(W * H * 3);
  const img = new Float32Array(W * H * 3).fill(40);
  boxes.forEach((b, k) => {
    if (o.skip?.has(k)) return;
    for (let y = b.y | 0; y < b.y + b.h; y++) for (let x = b.x | 0; x < b.x + b.w; x++) for (let c = 0; c < 3; c++) img[(y * W + x) * 3 + c] = b.rgb[c] as number;
  });
  // Uniform noise of standard deviation `noise` from a table with a stride, as the renderer does. No Math.* in
  // the loops: calls into the main realm's Math are slow under jest.
  const r = rng(o.seed ?? 1);
  const table = Float32Array.from({ length: 4096 }, () => (o.noise ?? 0) * (r() - 0.5) * 3.46);
  const stride = 1 + 2 * ((r() * 700) | 0);
  let t = (r() * 4096) | 0;
  const gain = o.gain ?? 1;
  const vig = o.vignette ?? 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = gain * (1 - vig * (((x - W / 2) ** 2 + (y - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)));
      for (let c = 0; c < 3; c++) {
        const i = (y * W + x) * 3 + c;
        t = (t + stride) & 4095;
        // A Uint8Array store truncates, so + 0.5 rounds; clamp by hand.
        const val = (img[i] as number) * v + (table[t] as number) + 0.5;
        data[i] = val < 0 ? 0 : val > 255 ? 255 : val;
      }
    }
  }
  return { width: W, height: H, data: Buffer.from(data.buffer) };
}

const invert = (m: Affine): Affine => {
  const det = m.a * m.d - m.b * m.c;
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, e: -(a * m.e + c * m.f), f: -(b * m.e + d * m.f) };
};

/** The frame as the camera sees it after moving by `t` (reference pixel → moved pixel), bilinear. */
function warp(src: DecodedFrame, t: Affine): DecodedFrame {
  const inv = invert(t);
  const out = new Uint8Array(src.data.length);
  const data = new Uint8Array(src.data.buffer, src.data.byteOffset, src.data.length);
  const at = (x: number, y: number, c: number): number => (x < 0 || y < 0 || x >= W || y >= H ? 20 : (data[(y * W + x) * 3 + c] as number));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = inv.a * (x + 0.5) + inv.c * (y + 0.5) + inv.e - 0.5;
      const sy = inv.b * (x + 0.5) + inv.d * (y + 0.5) + inv.f - 0.5;
      // Floor by truncation after an offset that keeps the coordinates positive.
      const x0 = ((sx + 64) | 0) - 64;
      const y0 = ((sy + 64) | 0) - 64;
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        out[(y * W + x) * 3 + c] = (1 - fy) * ((1 - fx) * at(x0, y0, c) + fx * at(x0 + 1, y0, c)) + fy * ((1 - fx) * at(x0, y0 + 1, c) + fx * at(x0 + 1, y0 + 1, c)) + 0.5;
      }
    }
  }
  return { width: W, height: H, data: Buffer.from(out.buffer) };
}

const LIMITS: MotionLimits = { shiftPx: 8, rotationDeg: 2, scale: 0.03, minQuality: 0.9, deadbandPx: 0.5 };
const still: Similarity = { dx: 0, dy: 0, rotationDeg: 0, scale: 1 };

const boxes = scene(7);
const reference = paint(boxes, { seed: 1 });
const refPyramid = regPyramid(reference);

/** Registers `reference` moved by `m` (after `photometric` changes) against the reference. */
function recover(m: Similarity, photometric: Parameters<typeof paint>[1] = { seed: 2 }): ReturnType<typeof register> {
  return register(regPyramid(warp(paint(boxes, photometric), motionAffine(m, W, H))), refPyramid);
}

describe('register', () => {
  it('recovers a 3 px shift with a 1° rotation to within 0.5 px and 0.2°', () => {
    const m = { dx: 3, dy: 0, rotationDeg: 1, scale: 1 };
    const r = recover(m);
    expect(Math.abs(r.motion.dx - 3)).toBeLessThan(0.5);
    expect(Math.abs(r.motion.dy)).toBeLessThan(0.5);
    expect(Math.abs(r.motion.rotationDeg - 1)).toBeLessThan(0.2);
    expect(Math.abs(r.motion.scale - 1)).toBeLessThan(0.005);
    expect(r.quality).toBeGreaterThan(0.9);
    expect(judgeMotion(r, LIMITS).status).toBe('aligned');
  });

  it.each<[string, Similarity]>([
    ['a diagonal sub-pixel shift', { dx: -2.3, dy: 1.7, rotationDeg: 0, scale: 1 }],
    ['a rotation the other way with a 1.5 % zoom', { dx: 1, dy: -4, rotationDeg: -1.5, scale: 1.015 }],
    ['a camera knocked by 2°', { dx: 6, dy: 5, rotationDeg: 2, scale: 0.99 }],
  ])('recovers %s', (_, m) => {
    const r = recover(m);
    // Every frame corner lands within 0.3 px of where the true motion puts it.
    const truth = motionAffine(m, W, H);
    for (const [x, y] of [[0, 0], [W, 0], [0, H], [W, H]] as const) {
      const dx = r.affine.a * x + r.affine.c * y + r.affine.e - (truth.a * x + truth.c * y + truth.e);
      const dy = r.affine.b * x + r.affine.d * y + r.affine.f - (truth.b * x + truth.d * y + truth.f);
      expect(Math.hypot(dx, dy)).toBeLessThan(0.3);
    }
  });

  it('is not misled by exposure, vignetting, sensor noise and a few items taken', () => {
    const m = { dx: 3, dy: -2, rotationDeg: 1, scale: 1 };
    const r = recover(m, { gain: 0.6, vignette: 0.45, noise: 8, seed: 3, skip: new Set([3, 17, 40, 41, 99, 120]) });
    expect(Math.abs(r.motion.dx - 3)).toBeLessThan(0.5);
    expect(Math.abs(r.motion.dy + 2)).toBeLessThan(0.5);
    expect(Math.abs(r.motion.rotationDeg - 1)).toBeLessThan(0.2);
    expect(judgeMotion(r, LIMITS).status).toBe('aligned');
  });

  it('finds no motion between two snapshots of a still camera, and leaves them as they are', () => {
    const r = recover(still);
    expect(r.maxShift).toBeLessThan(0.1);
    expect(judgeMotion(r, LIMITS)).toMatchObject({ status: 'aligned', affine: IDENTITY_AFFINE });
  });

  it('measures a camera moved by 20 px and refuses it', () => {
    const r = recover({ dx: 20, dy: 0, rotationDeg: 0, scale: 1 });
    expect(Math.abs(r.motion.dx - 20)).toBeLessThan(0.5);
    expect(judgeMotion(r, LIMITS)).toMatchObject({ status: 'moved', why: 'beyond_limits', detail: expect.stringMatching(/^shift 20\.0 px/) });
  });

  it('refuses a rotation past the limit', () => {
    expect(judgeMotion(recover({ dx: 0, dy: 0, rotationDeg: 3, scale: 1 }), LIMITS).status).toBe('moved');
  });

  it('refuses a frame of another scene: nothing aligns', () => {
    const r = register(regPyramid(paint(scene(99), { seed: 4 })), refPyramid);
    expect(r.quality).toBeLessThan(0.5);
    expect(judgeMotion(r, LIMITS)).toMatchObject({ status: 'moved', why: 'unaligned' });
  });

  it('gives the affine that composes with a calibration', () => {
    const m = { dx: 3, dy: 0, rotationDeg: 1, scale: 1 };
    const calibration: Affine = { a: 0.9, b: 0.01, c: 0, d: 0.92, e: 30, f: 20 };
    const composed = composeAffine(motionAffine(m, W, H), calibration);
    const t = motionAffine(m, W, H);
    const [x, y] = [500, 300];
    const px = calibration.a * x + calibration.c * y + calibration.e;
    const py = calibration.b * x + calibration.d * y + calibration.f;
    expect(composed.a * x + composed.c * y + composed.e).toBeCloseTo(t.a * px + t.c * py + t.e, 9);
    expect(composed.b * x + composed.d * y + composed.f).toBeCloseTo(t.b * px + t.d * py + t.f, 9);
  });

  it('rejects frames of different sizes', () => {
    expect(() => register(regPyramid({ width: 480, height: 360, data: Buffer.alloc(480 * 360 * 3) }), refPyramid)).toThrow(/sizes differ/);
  });
});
