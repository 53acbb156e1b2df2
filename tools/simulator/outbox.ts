import type { AlarmEvent, DoorEvent, FrameEvent, UploadDoneEvent } from '../../contracts/cabinet-protocol';

/**
 * Store-and-forward for everything a cabinet must not lose: door reports, alarms, frames and `upload.done`.
 * Pure bookkeeping with time passed in (no timers, no I/O), so weak-signal behaviour is tested with plain
 * numbers. The shell sends what `takeSendable` hands out and reports each outcome back.
 *
 * Guarantees: an item leaves the outbox only on a final ack (ok, or a refusal that resending cannot fix);
 * a timeout or a lost connection puts it back, to be sent again — so the service may see an item twice and
 * must treat a repeated (visitId, camera, seq) as the same frame. `upload.done` of a visit is held back until
 * every frame of that visit queued before it has been acknowledged.
 */
export type OutboxItem =
  | { event: 'door'; payload: DoorEvent }
  | { event: 'alarm'; payload: AlarmEvent }
  | { event: 'frame'; payload: FrameEvent }
  | { event: 'upload.done'; payload: UploadDoneEvent };

export type OutboxEvent = OutboxItem['event'];

export interface OutboxEntry {
  readonly key: string;
  readonly item: OutboxItem;
  status: 'queued' | 'inflight';
  /** Sends so far, including the one in flight. */
  attempts: number;
  /** Not to be sent before this time (backoff after a failed attempt). */
  notBefore: number;
  sentAt?: number;
}

/** What an ack means for the item: gone for good, or to be sent again later. */
export type AckVerdict = { verdict: 'done' } | { verdict: 'rejected'; code: string } | { verdict: 'retry'; code: string };

/** Codes after which sending the same bytes again may succeed. Everything else is final. */
const RETRYABLE = new Set(['UNAVAILABLE']);

/** Reads a device-side ack. Anything malformed is final too: resending cannot make the service answer better. */
export function classifyAck(ack: unknown): AckVerdict {
  if (typeof ack !== 'object' || ack === null || !('ok' in ack)) return { verdict: 'rejected', code: 'MALFORMED_ACK' };
  if (ack.ok === true) return { verdict: 'done' };
  const code = 'error' in ack && typeof ack.error === 'object' && ack.error !== null && 'code' in ack.error && typeof ack.error.code === 'string' ? ack.error.code : 'MALFORMED_ACK';
  return RETRYABLE.has(code) ? { verdict: 'retry', code } : { verdict: 'rejected', code };
}

export function itemKey(item: OutboxItem, serial: number): string {
  switch (item.event) {
    case 'frame':
      return `frame:${item.payload.visitId}:${item.payload.camera}:${item.payload.seq}`;
    case 'upload.done':
      return `done:${item.payload.visitId}`;
    case 'door':
      return `door:${serial}`;
    case 'alarm':
      return `alarm:${serial}`;
  }
}

export interface OutboxOptions {
  /** Items in flight at once (unacknowledged sends). */
  window: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Storage limit: when full, the oldest queued frame is dropped (and counted) to make room. */
  capacity: number;
  /** 0..1 uniform source for backoff jitter. */
  random: () => number;
}

export const DEFAULT_OUTBOX: Omit<OutboxOptions, 'random'> = { window: 8, baseBackoffMs: 500, maxBackoffMs: 30_000, capacity: 5_000 };

export interface OutboxCounters {
  enqueued: number;
  sent: number;
  resent: number;
  acked: number;
  rejected: number;
  retried: number;
  timedOut: number;
  dropped: number;
  /** Ack that arrived for an item no longer held (already acked by an earlier attempt). */
  lateAcks: number;
}

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>(); // insertion order is send order
  private serial = 0;
  /**
   * Counters may be shared by many outboxes (one object for a whole simulated fleet), hence passed in.
   */
  constructor(
    private readonly opts: OutboxOptions,
    readonly counters: OutboxCounters = { enqueued: 0, sent: 0, resent: 0, acked: 0, rejected: 0, retried: 0, timedOut: 0, dropped: 0, lateAcks: 0 },
    readonly rejections: Record<string, number> = {},
  ) {}

  /** Queues an item; a frame already held under the same key is kept as is (idempotent capture). */
  enqueue(item: OutboxItem, now: number): string {
    const key = itemKey(item, ++this.serial);
    if (this.entries.has(key)) return key;
    if (this.entries.size >= this.opts.capacity) this.dropOldestFrame();
    this.entries.set(key, { key, item, status: 'queued', attempts: 0, notBefore: now });
    this.counters.enqueued++;
    return key;
  }

  /**
   * Marks and returns the items to send now: oldest first, within the window, each past its backoff, and
   * `upload.done` only once no frame of its visit is held any more.
   */
  takeSendable(now: number): OutboxEntry[] {
    let inflight = 0;
    for (const e of this.entries.values()) if (e.status === 'inflight') inflight++;
    const out: OutboxEntry[] = [];
    for (const e of this.entries.values()) {
      if (inflight >= this.opts.window) break;
      if (e.status !== 'queued' || e.notBefore > now) continue;
      if (e.item.event === 'upload.done' && this.holdsFramesOf(e.item.payload.visitId)) continue;
      e.status = 'inflight';
      e.attempts++;
      e.sentAt = now;
      this.counters.sent++;
      if (e.attempts > 1) this.counters.resent++;
      inflight++;
      out.push(e);
    }
    return out;
  }

  /** Applies an ack to the item under `key`; returns the verdict (or undefined when the item is gone). */
  acked(key: string, ack: unknown, now: number): AckVerdict | undefined {
    const e = this.entries.get(key);
    if (!e) {
      this.counters.lateAcks++;
      return undefined;
    }
    const v = classifyAck(ack);
    switch (v.verdict) {
      case 'done':
        this.entries.delete(key);
        this.counters.acked++;
        break;
      case 'rejected':
        this.entries.delete(key);
        this.counters.rejected++;
        this.rejections[v.code] = (this.rejections[v.code] ?? 0) + 1;
        break;
      case 'retry':
        this.counters.retried++;
        this.backOff(e, now);
        break;
    }
    return v;
  }

  /**
   * No ack within the deadline for send number `attempt`: the send or its ack was lost; send it again after a
   * backoff. A stale deadline (the item was re-sent meanwhile) is ignored.
   */
  timedOut(key: string, now: number, attempt: number): void {
    const e = this.entries.get(key);
    if (!e || e.status !== 'inflight' || e.attempts !== attempt) return;
    this.counters.timedOut++;
    this.backOff(e, now);
  }

  /** The connection dropped: whatever was in flight may not have arrived; all of it goes out again first. */
  connectionLost(now: number): void {
    for (const e of this.entries.values()) {
      if (e.status === 'inflight') {
        e.status = 'queued';
        e.notBefore = now;
      }
    }
  }

  /**
   * Earliest time a queued item becomes sendable by the passing of time alone, for the shell's wake-up timer.
   * An upload.done held behind frames of its visit is not: the ack of its last frame releases it (and pumps).
   */
  nextDueAt(): number | undefined {
    let t: number | undefined;
    for (const e of this.entries.values()) {
      if (e.status !== 'queued' || (t !== undefined && e.notBefore >= t)) continue;
      if (e.item.event === 'upload.done' && this.holdsFramesOf(e.item.payload.visitId)) continue;
      t = e.notBefore;
    }
    return t;
  }

  get size(): number {
    return this.entries.size;
  }

  /** What is held, oldest first (for a test's failure report). */
  held(): Array<Pick<OutboxEntry, 'key' | 'status' | 'attempts' | 'notBefore'>> {
    return [...this.entries.values()].map(({ key, status, attempts, notBefore }) => ({ key, status, attempts, notBefore }));
  }

  /** Frames not yet acknowledged: the `pendingUploads` of a status report. */
  pendingFrames(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.item.event === 'frame') n++;
    return n;
  }

  inflightCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.status === 'inflight') n++;
    return n;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  private holdsFramesOf(visitId: string): boolean {
    for (const e of this.entries.values()) if (e.item.event === 'frame' && e.item.payload.visitId === visitId) return true;
    return false;
  }

  private backOff(e: OutboxEntry, now: number): void {
    const exp = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** Math.max(0, e.attempts - 1));
    e.status = 'queued';
    e.notBefore = now + Math.round(exp * (0.5 + this.opts.random() / 2)); // jitter: half to full delay
  }

  private dropOldestFrame(): void {
    for (const e of this.entries.values()) {
      if (e.item.event === 'frame' && e.status === 'queued') {
        this.entries.delete(e.key);
        this.counters.dropped++;
        return;
      }
    }
  }
}
