import type { FrameEvent } from '../../contracts/cabinet-protocol';
import { Outbox, classifyAck, type OutboxItem } from './outbox';

const frame = (visitId: string, camera: string, seq: number): OutboxItem => ({
  event: 'frame',
  payload: { visitId, camera, seq, ts: 1, phase: 'before', jpeg: Buffer.from([seq]) } satisfies FrameEvent,
});
const done = (visitId: string, frames: Record<string, number>): OutboxItem => ({ event: 'upload.done', payload: { visitId, frames } });
const door = (visitId: string): OutboxItem => ({ event: 'door', payload: { ts: 1, state: 'closed', visitId } });

/** random() = 1 → backoff is exactly the full delay, so the table below is exact. */
const box = (window = 8, capacity = 100) => new Outbox({ window, baseBackoffMs: 100, maxBackoffMs: 1000, capacity, random: () => 1 });
const keys = (b: Outbox, now: number) => b.takeSendable(now).map((e) => e.key);

describe('classifyAck', () => {
  it.each([
    [{ ok: true }, { verdict: 'done' }],
    [{ ok: true, serverTime: 5 }, { verdict: 'done' }],
    [{ ok: false, error: { code: 'UNAVAILABLE', message: '' } }, { verdict: 'retry', code: 'UNAVAILABLE' }],
    [{ ok: false, error: { code: 'BAD_REQUEST', message: '' } }, { verdict: 'rejected', code: 'BAD_REQUEST' }],
    [{ ok: false, error: { code: 'UNKNOWN_VISIT', message: '' } }, { verdict: 'rejected', code: 'UNKNOWN_VISIT' }],
    [{ ok: false, error: { code: 'TOO_LARGE', message: '' } }, { verdict: 'rejected', code: 'TOO_LARGE' }],
    [{ ok: false }, { verdict: 'rejected', code: 'MALFORMED_ACK' }],
    ['yes', { verdict: 'rejected', code: 'MALFORMED_ACK' }],
    [null, { verdict: 'rejected', code: 'MALFORMED_ACK' }],
  ])('%j → %j', (ack, verdict) => expect(classifyAck(ack)).toEqual(verdict));
});

describe('Outbox', () => {
  it('sends in order within the window and releases a slot per ack', () => {
    const b = box(2);
    for (let s = 0; s < 3; s++) b.enqueue(frame('V1', 'top', s), 0);
    expect(keys(b, 0)).toEqual(['frame:V1:top:0', 'frame:V1:top:1']);
    expect(keys(b, 0)).toEqual([]); // window full
    b.acked('frame:V1:top:0', { ok: true }, 1);
    expect(keys(b, 1)).toEqual(['frame:V1:top:2']);
    expect(b.pendingFrames()).toBe(2);
  });

  it('holds upload.done until every frame of its visit is acknowledged, but not other visits', () => {
    const b = box();
    b.enqueue(frame('V1', 'top', 0), 0);
    b.enqueue(frame('V1', 'side', 0), 0);
    b.enqueue(done('V1', { top: 1, side: 1 }), 0);
    b.enqueue(door('V2'), 0);
    expect(keys(b, 0)).toEqual(['frame:V1:top:0', 'frame:V1:side:0', 'door:4']);
    b.acked('frame:V1:top:0', { ok: true }, 1);
    expect(keys(b, 1)).toEqual([]);
    b.acked('frame:V1:side:0', { ok: false, error: { code: 'TOO_LARGE', message: 'big' } }, 1); // final: not held any more
    expect(keys(b, 1)).toEqual(['done:V1']);
    expect(b.rejections).toEqual({ TOO_LARGE: 1 });
  });

  it('backs off exponentially after timeouts and retryable refusals, capped', () => {
    const b = box();
    const k = b.enqueue(frame('V1', 'top', 0), 0);
    const delays: number[] = [];
    let now = 0;
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(keys(b, now)).toEqual([k]);
      if (attempt % 2) b.timedOut(k, now, attempt);
      else b.acked(k, { ok: false, error: { code: 'UNAVAILABLE', message: '' } }, now);
      const due = b.nextDueAt() as number;
      delays.push(due - now);
      expect(keys(b, due - 1)).toEqual([]);
      now = due;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.counters).toMatchObject({ sent: 6, resent: 5, timedOut: 3, retried: 3 });
  });

  it('wakes for a frame backing off, not for the upload.done held behind it', () => {
    // Found by the FerretDB crash matrix (auto "awaiting frames", 1 in ~20 runs): the visit's last frame was
    // answered UNAVAILABLE while its upload.done waited behind it. The wake-up time was the held upload.done's
    // (long past), so the shell armed no timer; with nothing else in flight no ack ever pumped again, and the
    // frame sat queued for ever: the visit `closed`, the cabinet BUSY.
    const b = box();
    b.enqueue(frame('V1', 'top', 0), 0);
    b.enqueue(done('V1', { top: 1 }), 0);
    expect(keys(b, 0)).toEqual(['frame:V1:top:0']);
    b.acked('frame:V1:top:0', { ok: false, error: { code: 'UNAVAILABLE', message: '' } }, 10);
    expect(keys(b, 10)).toEqual([]);
    expect(b.nextDueAt()).toBe(110); // the frame's backoff (100 ms): what the shell must wake for
    expect(keys(b, 110)).toEqual(['frame:V1:top:0']);
    b.acked('frame:V1:top:0', { ok: true }, 120);
    // The frame is in: upload.done is due now (its own time has long passed).
    expect(b.nextDueAt()).toBe(0);
    expect(keys(b, 120)).toEqual(['done:V1']);
  });

  it('ignores a stale deadline of an earlier attempt and counts a late ack once', () => {
    const b = box();
    const k = b.enqueue(frame('V1', 'top', 0), 0);
    b.takeSendable(0); // attempt 1
    b.connectionLost(10);
    b.takeSendable(10); // attempt 2, after reconnecting
    b.timedOut(k, 20, 1); // attempt 1's deadline: stale
    expect(b.inflightCount()).toBe(1);
    b.acked(k, { ok: true }, 30); // attempt 1's ack arriving late still settles the frame
    b.acked(k, { ok: true }, 31); // attempt 2's ack: nothing left to settle
    expect(b.size).toBe(0);
    expect(b.counters).toMatchObject({ acked: 1, lateAcks: 1, resent: 1 });
  });

  it('puts everything in flight back at once when the connection drops', () => {
    const b = box(3);
    for (let s = 0; s < 5; s++) b.enqueue(frame('V1', 'top', s), 0);
    b.takeSendable(0);
    expect(b.inflightCount()).toBe(3);
    b.connectionLost(50);
    expect(b.inflightCount()).toBe(0);
    expect(keys(b, 50)).toEqual(['frame:V1:top:0', 'frame:V1:top:1', 'frame:V1:top:2']);
  });

  it('keeps one entry per (visit, camera, seq) and drops the oldest queued frame when full', () => {
    const b = box(8, 3);
    b.enqueue(frame('V1', 'top', 0), 0);
    b.enqueue(frame('V1', 'top', 0), 0);
    expect(b.size).toBe(1);
    b.enqueue(frame('V1', 'top', 1), 0);
    b.enqueue(door('V1'), 0);
    b.enqueue(frame('V1', 'top', 2), 0);
    expect(b.size).toBe(3);
    expect(b.has('frame:V1:top:0')).toBe(false);
    expect(b.counters.dropped).toBe(1);
  });
});
