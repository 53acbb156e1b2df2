import '../testing/ort-realm';
import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { DEMO_CATALOGUE, DEMO_FLEET } from '../../contracts/demo-data';
import { createRecogniser, type Recogniser } from '../index';
import type { ShelfLaneState } from '../render/scene';
import { visitFromStates } from '../sim/visits';

/** Through the real renderer and the real committed ONNX model. */
let rec: Recogniser;
beforeAll(async () => {
  rec = await createRecogniser({ log: silentLogger, clock: new SimulatedClock(), threads: 1 });
});
afterAll(async () => {
  await rec.close();
});

const cabinet = DEMO_FLEET.find((c) => c.cabinetId === 'SH-AUTO-01');
if (!cabinet) throw new Error('demo cabinet missing');
const full = (): ShelfLaneState[] => cabinet.lanes.map((l) => ({ ...l, count: l.capacity, slots: Array<string | null>(l.capacity).fill(l.sku) }));
const without = (lanes: ShelfLaneState[], laneId: string, slots: number[]): ShelfLaneState[] =>
  lanes.map((l) => (l.laneId === laneId ? { ...l, slots: (l.slots ?? []).map((s, i) => (slots.includes(i) ? null : s)) } : l));
const laneSku = (laneId: string): string => cabinet.lanes.find((l) => l.laneId === laneId)?.sku ?? '';

describe('recogniser on rendered visits', () => {
  it('returns an empty, settled result when nothing was taken', async () => {
    const before = full();
    const r = await rec.recognise(await visitFromStates({ seed: 101, before, after: before }));
    expect(r.items).toEqual([]);
    expect(r.status).toBe('settled');
    expect(r.modelVersion).toMatch(/^embedder-/);
  });

  it('finds one item taken', async () => {
    const before = full();
    const r = await rec.recognise(await visitFromStates({ seed: 102, before, after: without(before, 'B2', [5]) }));
    expect(r.status).toBe('settled');
    expect(r.items).toEqual([{ sku: laneSku('B2'), qty: 1, confidence: expect.any(Number) }]);
    expect(r.evidence.lanesChanged).toEqual(['B2']);
    expect(r.evidence.slots[0]?.views).toHaveLength(2);
  });

  it('counts two identical items taken as two', async () => {
    const before = full();
    const r = await rec.recognise(await visitFromStates({ seed: 103, before, after: without(before, 'C3', [4, 5]) }));
    expect(r.status).toBe('settled');
    expect(r.items).toEqual([{ sku: laneSku('C3'), qty: 2, confidence: expect.any(Number) }]);
  });

  // A1 holds a trained flavour and gets a trained sibling; the hard pair is CHIP-CUKE (held out from training,
  // known only by enrolment) standing in a CHIP-SEAWEED lane, and the reverse.
  const lookalikes: Array<[laneSku: string, lookalike: string]> = [
    [laneSku('A1'), DEMO_CATALOGUE.find((p) => p.sku !== laneSku('A1') && p.brand === DEMO_CATALOGUE.find((q) => q.sku === laneSku('A1'))?.brand)?.sku ?? 'none'],
    ['CHIP-SEAWEED', 'CHIP-CUKE'],
    ['CHIP-CUKE', 'CHIP-SEAWEED'],
  ];
  it.each(lookalikes)('names a look-alike taken from a %s lane (%s) as itself, or holds the visit for review', async (planned, lookalike) => {
    const lane = cabinet.lanes.find((l) => l.sku === planned) ?? cabinet.lanes[0];
    if (!lane) throw new Error('no lane');
    const last = lane.capacity - 1;
    const before = full().map((l) => (l.laneId === lane.laneId ? { ...l, sku: planned, slots: (l.slots ?? []).map((s, i) => (i === last ? lookalike : planned)) } : l));
    const r = await rec.recognise(await visitFromStates({ seed: 104, before, after: without(before, lane.laneId, [last]) }));
    if (r.status === 'settled') expect(r.items.map((i) => [i.sku, i.qty])).toEqual([[lookalike, 1]]);
    else expect(r.reasons.length).toBeGreaterThan(0);
  });

  it('sends a visit with unreadable frames to review', async () => {
    const before = full();
    const visit = await visitFromStates({ seed: 105, before, after: without(before, 'D1', [0]) });
    const broken = { ...visit, frames: visit.frames.map((f) => (f.phase === 'after' ? { ...f, jpeg: Buffer.from('not a jpeg at all') } : f)) };
    const r = await rec.recognise(broken);
    expect(r.status).toBe('needs_review');
    expect(r.reasons.map((x) => x.code)).toContain('unreadable_frame');
  });

  it('sends a visit with a missing camera snapshot to review', async () => {
    const before = full();
    const visit = await visitFromStates({ seed: 106, before, after: without(before, 'D1', [0]) });
    const r = await rec.recognise({ ...visit, frames: visit.frames.filter((f) => !(f.camera === 'side' && f.phase === 'after')) });
    expect(r.status).toBe('needs_review');
    expect(r.reasons.map((x) => x.code)).toContain('missing_frames');
  });
});
