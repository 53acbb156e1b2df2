import { decide, EVIDENCE_RECOUNT_MS, EVIDENCE_WAIT_MS, initialVisitState, VISIT_TRANSITIONS, type VisitEffect, type VisitState } from './visit.machine';
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

  it('counts a refused frame as accounted for, so the visit completes without it, and never stores it', () => {
    const refused = (camera: string, seq: number, phase: 'before' | 'during' | 'after'): VisitMsg => ({ type: 'FrameRefused', frame: { camera, seq, phase, reason: 'TOO_LARGE' }, answer: { ok: false, error: { code: 'TOO_LARGE', message: 'big' } }, ack });
    let r = run(start(), [door('opened'), door('closed'), refused('side', 1, 'after'), refused('side', 1, 'after'), { type: 'UploadDone', frames: { top: 2, side: 2 }, ack }]);
    expect(r.state.refusedFrames).toEqual([{ camera: 'side', seq: 1, phase: 'after', reason: 'TOO_LARGE' }]);
    expect(r.effects.filter((e) => e.type === 'AckDevice').map((e) => (e as { answer?: unknown }).answer)).toEqual([{ ok: false, error: { code: 'TOO_LARGE', message: 'big' } }, { ok: false, error: { code: 'TOO_LARGE', message: 'big' } }, undefined]);
    expect(r.types).not.toContain('StoreFrame');
    r = run(r.state, [{ type: 'FramesCounted', counts: { top: 2, side: 1 } }]);
    expect(r.state.status).toBe('complete');
    // The refused `after` snapshot was one recognition compares: a confident answer is held for review.
    r = run(r.state, [{ type: 'RecognitionDone', recognition }]);
    expect(r.state.recognition).toMatchObject({ status: 'needs_review', items: recognition.items, reasons: ['frame_refused: after frame 1 of camera side (TOO_LARGE)'] });
  });

  it('keeps a confident answer when only a frame sampled while open was refused', () => {
    const r = run(start(), [
      door('opened'),
      door('closed'),
      { type: 'FrameRefused', frame: { camera: 'top', seq: 2, phase: 'during', reason: 'TOO_LARGE' }, answer: { ok: false, error: { code: 'TOO_LARGE', message: 'big' } }, ack },
      { type: 'UploadDone', frames: { top: 3 }, ack },
      { type: 'FramesCounted', counts: { top: 2 } },
      { type: 'RecognitionDone', recognition },
    ]);
    expect(r.state.status).toBe('complete');
    expect(r.state.recognition).toEqual(recognition);
  });

  it('counts again while announced frames are missing, and completes without them once the evidence wait is over', () => {
    // A camera that failed to deliver: upload.done announces 3 frames of `side`, 2 ever arrive.
    let s = run(start(), [door('opened'), door('closed')]).state;
    const at = (t: number, m: VisitMsg) => {
      const r = decide(s, m, t);
      s = r.state;
      return r.effects.map((e) => (e.type === 'ArmEvidenceCheck' ? `${e.type}:${e.ms}` : e.type));
    };
    const up = T + 100;
    expect(at(up, { type: 'UploadDone', frames: { top: 2, side: 3 }, ack })).toEqual(['Project', 'AckDevice', 'CountFrames']);
    expect(s.uploadDoneAt).toBe(up);
    expect(at(up + 10, { type: 'FramesCounted', counts: { top: 2, side: 2 } })).toEqual([`ArmEvidenceCheck:${EVIDENCE_RECOUNT_MS}`]);
    expect(at(up + EVIDENCE_RECOUNT_MS, { type: 'EvidenceCheck' })).toEqual(['CountFrames']);
    expect(at(up + EVIDENCE_WAIT_MS - 1, { type: 'FramesCounted', counts: { top: 2, side: 2 } })).toEqual([`ArmEvidenceCheck:${EVIDENCE_RECOUNT_MS}`]);
    expect(s.status).toBe('closed');
    // The wait is over: complete without the missing frame, which the visit records.
    expect(at(up + EVIDENCE_WAIT_MS, { type: 'FramesCounted', counts: { top: 2, side: 2 } })).toEqual(['Project', 'EvidenceComplete']);
    expect(s).toMatchObject({ status: 'complete', missingFrames: { side: 1 } });
    // A late count or check changes nothing any more.
    expect(at(up + EVIDENCE_WAIT_MS + 1, { type: 'EvidenceCheck' })).toEqual([]);
    // Its phase is unknown (it may have been a snapshot): a confident answer is held for review.
    at(up + EVIDENCE_WAIT_MS + 2, { type: 'RecognitionDone', recognition });
    expect(s.recognition).toMatchObject({ status: 'needs_review', items: recognition.items, reasons: ['frames_missing: 1 frame(s) of camera side announced by upload.done never arrived'] });
  });

  it('completes at once when a recount finds the frames after all, with nothing missing', () => {
    let r = run(start(), [door('opened'), door('closed'), { type: 'UploadDone', frames: { top: 2 }, ack }, { type: 'FramesCounted', counts: { top: 1 } }, { type: 'EvidenceCheck' }]);
    expect(r.types.slice(-2)).toEqual(['ArmEvidenceCheck', 'CountFrames']);
    r = run(r.state, [{ type: 'FramesCounted', counts: { top: 2 } }, { type: 'RecognitionDone', recognition }]);
    expect(r.state.status).toBe('complete');
    expect(r.state.missingFrames).toBeUndefined();
    expect(r.state.recognition).toEqual(recognition);
  });

  it('does not count or wait before upload.done, however long the door has been closed', () => {
    const r = run(start(), [door('opened'), door('closed'), { type: 'EvidenceCheck' }, { type: 'FramesCounted', counts: { top: 5 } }]);
    expect(r.state.status).toBe('closed');
    expect(r.types).toEqual(['Project', 'Project']);
  });
});
