import type { OutboxCounters } from './outbox';

/** Latency samples with a cap (reservoir sampling beyond it), for percentiles in progress lines and benchmarks. */
export class Samples {
  private xs: number[] = [];
  private seen = 0;
  private sorted = true;

  constructor(
    private readonly cap = 200_000,
    private readonly random: () => number = Math.random,
  ) {}

  add(v: number): void {
    this.seen++;
    if (this.xs.length < this.cap) this.xs.push(v);
    else {
      const i = Math.floor(this.random() * this.seen);
      if (i < this.cap) this.xs[i] = v;
    }
    this.sorted = false;
  }

  get count(): number {
    return this.seen;
  }

  /** Nearest-rank percentile, p in 0..100; NaN when empty. */
  percentile(p: number): number {
    if (this.xs.length === 0) return NaN;
    if (!this.sorted) {
      this.xs.sort((a, b) => a - b);
      this.sorted = true;
    }
    const rank = Math.min(this.xs.length - 1, Math.max(0, Math.ceil((p / 100) * this.xs.length) - 1));
    return this.xs[rank] as number;
  }

  max(): number {
    return this.percentile(100);
  }

  values(): readonly number[] {
    return this.xs;
  }

  reset(): void {
    this.xs = [];
    this.seen = 0;
    this.sorted = true;
  }
}

/** Fleet-wide counters every simulated cabinet adds to (one object, not one per cabinet: 10,000 of them). */
export interface FleetCounters {
  connects: number;
  reconnects: number;
  disconnects: number;
  /** Transport-level connect failures (server down, refused TCP); socket.io retries these itself. */
  connectErrors: number;
  /** Transport-level connect failures by message ("timeout", "websocket error", …). */
  connectErrorKinds: Record<string, number>;
  /** Handshake refusals by `err.data.code`. */
  refused: Record<string, number>;
  linkDrops: number;
  statusSent: number;
  statusAcked: number;
  statusLost: number;
  statusTimedOut: number;
  statusRejected: Record<string, number>;
  unlocks: number;
  unlockRefused: Record<string, number>;
  doorsOpened: number;
  relocked: number;
  closed: number;
  forcedOpen: number;
  alarms: Record<string, number>;
  framesCaptured: number;
  visitsUploaded: number;
  commands: number;
  outbox: OutboxCounters;
  /** Final refusals of outbox items by ack code. */
  rejected: Record<string, number>;
}

export function newCounters(): FleetCounters {
  return {
    connects: 0,
    reconnects: 0,
    disconnects: 0,
    connectErrors: 0,
    connectErrorKinds: {},
    refused: {},
    linkDrops: 0,
    statusSent: 0,
    statusAcked: 0,
    statusLost: 0,
    statusTimedOut: 0,
    statusRejected: {},
    unlocks: 0,
    unlockRefused: {},
    doorsOpened: 0,
    relocked: 0,
    closed: 0,
    forcedOpen: 0,
    alarms: {},
    framesCaptured: 0,
    visitsUploaded: 0,
    commands: 0,
    outbox: { enqueued: 0, sent: 0, resent: 0, acked: 0, rejected: 0, retried: 0, timedOut: 0, dropped: 0, lateAcks: 0 },
    rejected: {},
  };
}

export const bump = (m: Record<string, number>, k: string, by = 1): void => {
  m[k] = (m[k] ?? 0) + by;
};
