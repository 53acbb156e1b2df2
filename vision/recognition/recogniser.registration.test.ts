import '../testing/ort-realm';
import sharp from 'sharp';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_FLEET } from '../../contracts/demo-data';
import { createRecogniser, type Recogniser } from '../index';
import type { RecognitionResult, VisitEvidence } from '../recognition.types';
import type { ShelfLaneState } from '../render/scene';
import { visitFromStates } from '../sim/visits';

/**
 * A camera shaken between the snapshots of a visit, through the real renderer and the committed model: the
 * after frames are rotated and shifted with sharp (as a knocked camera would see the shelf) and encoded again.
 */
let rec: Recogniser;
/** The same model with registration never applied: the crops of the recogniser before registration existed. */
let unregistered: Recogniser;
beforeAll(async () => {
  rec = await createRecogniser({ log: silentLogger, clock: new SimulatedClock(), threads: 1 });
  unregistered = await createRecogniser({ log: silentLogger, clock: new SimulatedClock(), threads: 1, thresholds: { registrationDeadbandPx: Infinity } });
});
afterAll(async () => {
  await rec.close();
  await unregistered.close();
});

const cabinet = DEMO_FLEET.find((c) => c.cabinetId === 'SH-AUTO-01');
if (!cabinet) throw new Error('demo cabinet missing');
const full = (): ShelfLaneState[] => cabinet.lanes.map((l) => ({ ...l, count: l.capacity, slots: Array<string | null>(l.capacity).fill(l.sku) }));
const without = (lanes: ShelfLaneState[], taken: Readonly<Record<string, readonly number[]>>): ShelfLaneState[] =>
  lanes.map((l) => ({ ...l, slots: (l.slots ?? []).map((s, i) => (taken[l.laneId]?.includes(i) ? null : s)) }));

/** The renderer's colour around the shelf, so what the move uncovers looks like the frame's edge. */
const SURROUND = '#15171a';

/** The frame as a camera moved by `m` sees it: rotated about the frame centre, then shifted by whole pixels. */
async function moveCamera(jpeg: Buffer, m: { dx: number; dy: number; rotationDeg: number }): Promise<Buffer> {
  const { width, height } = await sharp(jpeg).metadata();
  if (!width || !height) throw new Error('no frame size');
  const rotated = await sharp(jpeg).rotate(m.rotationDeg, { background: SURROUND }).png().toBuffer({ resolveWithObject: true });
  const pad = 64;
  const padded = await sharp(rotated.data).extend({ top: pad, bottom: pad, left: pad, right: pad, background: SURROUND }).png().toBuffer();
  const left = pad + Math.round((rotated.info.width - width) / 2) - m.dx;
  const top = pad + Math.round((rotated.info.height - height) / 2) - m.dy;
  return sharp(padded).extract({ left, top, width, height }).jpeg({ quality: 85 }).toBuffer();
}

async function shaken(visit: VisitEvidence, m: { dx: number; dy: number; rotationDeg: number }, cameras: readonly string[] = visit.cameras): Promise<VisitEvidence> {
  const frames = await Promise.all(visit.frames.map(async (f) => (f.phase === 'after' && cameras.includes(f.camera) ? { ...f, jpeg: await moveCamera(f.jpeg, m) } : f)));
  return { ...visit, frames };
}

const reading = (r: RecognitionResult): unknown => ({ status: r.status, items: r.items.map((i) => [i.sku, i.qty]), lanesChanged: r.evidence.lanesChanged, reasons: r.reasons.map((x) => x.code) });
/** Everything but the timings; frames in a fixed order (they are listed as their decoding finishes). */
const withoutTimings = (r: RecognitionResult): unknown => ({ ...r, evidence: { ...r.evidence, frames: [...r.evidence.frames].sort((a, b) => `${a.camera}${a.seq}`.localeCompare(`${b.camera}${b.seq}`)), timings: null } });

describe('recogniser with a camera that moved between the snapshots', () => {
  const visits: Array<[name: string, seed: number, taken: Record<string, number[]>]> = [
    ['one item taken', 102, { B2: [5] }],
    ['two items of a kind', 103, { C3: [4, 5] }],
    ['items from two lanes', 107, { A2: [0], D3: [2] }],
  ];

  it.each(visits)('reads a visit shaken by 3 px and 1° exactly as the still one (%s)', async (_, seed, taken) => {
    const before = full();
    const visit = await visitFromStates({ seed, before, after: without(before, taken) });
    const still = await rec.recognise(visit);
    expect(still.status).toBe('settled');
    const shake = await shaken(visit, { dx: 3, dy: 0, rotationDeg: 1 });
    const moved = await rec.recognise(shake);
    expect(reading(moved)).toEqual(reading(still));
    expect(moved.evidence.timings.registerMs).toEqual(expect.any(Number));
    // Without registration nothing aligns: the frame corners moved by 8 px and every facing looks changed.
    expect(reading(await unregistered.recognise(shake))).toMatchObject({ status: 'needs_review', reasons: expect.arrayContaining(['too_many_changes']) });
  });

  it('corrects a shake the other way, in one camera only', async () => {
    const before = full();
    const visit = await visitFromStates({ seed: 108, before, after: without(before, { B4: [1] }) });
    const still = await rec.recognise(visit);
    const moved = await rec.recognise(await shaken(visit, { dx: -2, dy: 3, rotationDeg: -1 }, ['side']));
    expect(reading(moved)).toEqual(reading(still));
  });

  it('holds a visit whose cameras moved by 20 px for review, naming the cameras', async () => {
    const before = full();
    const visit = await visitFromStates({ seed: 102, before, after: without(before, { B2: [5] }) });
    const r = await rec.recognise(await shaken(visit, { dx: 20, dy: 0, rotationDeg: 0 }));
    expect(r.status).toBe('needs_review');
    const moved = r.reasons.filter((x) => x.code === 'camera_moved');
    expect(moved.map((x) => x.detail)).toEqual([expect.stringMatching(/^camera top moved .*shift 20\.\d px.*recalibrate$/), expect.stringMatching(/^camera side moved .*shift 20\.\d px.*recalibrate$/)]);
  });

  it('holds a visit when one camera was knocked by 3°', async () => {
    const before = full();
    const visit = await visitFromStates({ seed: 102, before, after: without(before, { B2: [5] }) });
    const r = await rec.recognise(await shaken(visit, { dx: 0, dy: 0, rotationDeg: 3 }, ['top']));
    expect(r.status).toBe('needs_review');
    expect(r.reasons).toContainEqual({ code: 'camera_moved', detail: expect.stringMatching(/^camera top moved .*rotation -?3\.\d\d°/) });
  });

  it('leaves a visit whose cameras stood still exactly as it was read before registration', async () => {
    const before = full();
    for (const [seed, taken] of [
      [101, {}],
      [102, { B2: [5] }],
    ] as const) {
      const visit = await visitFromStates({ seed, before, after: without(before, taken) });
      const [now, then] = await Promise.all([rec.recognise(visit), unregistered.recognise(visit)]);
      expect(withoutTimings(now)).toEqual(withoutTimings(then));
      expect(now.reasons.map((x) => x.code)).not.toContain('camera_moved');
    }
  });
});
