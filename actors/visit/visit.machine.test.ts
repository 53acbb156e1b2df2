import { decide, initialVisitState, VISIT_TRANSITIONS, type VisitEffect, type VisitState } from './visit.machine';
import type { VisitMsg, VisitRecognition, VisitStatus } from './visit.protocol';

const T = 1_000;
const ack = () => undefined;
const start = (purpose: 'shopping' | 'restock' = 'shopping'): VisitState => initialVisitState({ visitId: 'V1', cabinetId: 'C1', siteId: 's', purpose, requestedAt: T });
const run = (s: VisitState, msgs: VisitMsg[]) => {
  const effects: VisitEffect[] = [];
  for (const m of msgs) {
    const r = decide(s, m, T + 10);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects, types: effects.map((e) => e.type) };
};
const door = (event: 'opened' | 'closed' | 'relocked' | 'unlock_failed' | 'unlock_acked'): VisitMsg => ({ type: 'CabinetEvent', event, at: T });
const recognition: VisitRecognition = { status: 'settled', items: [{ sku: 'COLA-ORIG', qty: 1, confidence: 0.99 }], confidence: 0.99, reasons: [], modelVersion: 'm', at: T };

describe('visit machine', () => {
  it('has only forward transitions, ending in terminal states', () => {
    const terminal: VisitStatus[] = ['complete', 'relocked', 'unlock_failed'];
    for (const t of terminal) expect(VISIT_TRANSITIONS[t]).toEqual([]);
    for (const [from, tos] of Object.entries(VISIT_TRANSITIONS)) for (const to of tos) expect(from).not.toBe(to);
  });

  it('completes only when closed, announced and every frame is stored, then waits for recognition', () => {
    let r = run(start(), [door('unlock_acked'), door('opened'), door('closed'), { type: 'UploadDone', frames: { top: 2, side: 2 }, ack }]);
    expect(r.state.status).toBe('closed');
    expect(r.types).toContain('CountFrames');
    r = run(r.state, [{ type: 'FramesCounted', counts: { top: 2, side: 1 } }]);
    expect(r.state.status).toBe('closed');
    r = run(r.state, [{ type: 'FramesCounted', counts: { top: 2, side: 2 } }]);
    expect(r.state.status).toBe('complete');
    expect(r.types).toEqual(['Project', 'EvidenceComplete']);
    r = run(r.state, [{ type: 'RecognitionDone', recognition }]);
    expect(r.state.recognition).toEqual(recognition);
    expect(r.types).toEqual(['Project', 'Ended']);
    // A second answer is ignored.
    expect(run(r.state, [{ type: 'RecognitionDone', recognition: { ...recognition, items: [] } }]).state.recognition).toEqual(recognition);
  });

  it('accepts upload.done overtaking the door-closed report', () => {
    const r = run(start(), [door('opened'), { type: 'UploadDone', frames: { top: 1 }, ack }, door('closed'), { type: 'FramesCounted', counts: { top: 1 } }]);
    expect(r.state.status).toBe('complete');
  });

  it('never completes before the door closes, whatever the counts say', () => {
    const r = run(start(), [door('opened'), { type: 'UploadDone', frames: { top: 1 }, ack }, { type: 'FramesCounted', counts: { top: 1 } }]);
    expect(r.state.status).toBe('open');
  });

  it('ends a restock visit at complete, with no recognition', () => {
    const r = run(start('restock'), [door('opened'), door('closed'), { type: 'UploadDone', frames: {}, ack }, { type: 'FramesCounted', counts: {} }]);
    expect(r.state.status).toBe('complete');
    expect(r.types.slice(-3)).toEqual(['Project', 'EvidenceComplete', 'Ended']);
  });

  it.each(['relocked', 'unlock_failed'] as const)('ends on %s and ignores later door reports', (event) => {
    const r = run(start(), [door(event), door('opened'), door('closed')]);
    expect(r.state.status).toBe(event);
    expect(r.types.filter((t) => t === 'Ended')).toHaveLength(1);
  });

  it('never puts a frame into its state (frames are not journalled)', () => {
    const s = run(start(), [door('opened')]).state;
    const r = decide(s, { type: 'FrameArrived', camera: 'top', seq: 0, phase: 'during', ts: T, jpeg: Buffer.from([1]), ack }, T);
    expect(r.state).toBe(s);
    expect(r.effects.map((e) => e.type)).toEqual(['StoreFrame']);
  });
});
