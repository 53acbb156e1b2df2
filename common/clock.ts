/**
 * Time is a port. Machines and actors never call Date.now() or setTimeout directly: they receive a Clock,
 * so tests and the simulator can fast-forward.
 */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
  /** Schedules fn after ms; returns a cancel function. Delays above 2^31−1 ms are clamped (Node and nact wrap them to 0). */
  schedule(ms: number, fn: () => void): Cancel;
}
export type Cancel = () => void;

/** setTimeout treats anything above this as 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const clampDelay = (ms: number): number => Math.min(Math.max(0, Math.floor(ms)), MAX_TIMER_MS);

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, clampDelay(ms));
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/** A clock that only moves when told to; timers fire in due order during advance(). */
export class SimulatedClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  schedule(ms: number, fn: () => void): Cancel {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + clampDelay(ms), fn });
    return () => {
      this.timers.delete(id);
    };
  }

  /** Moves time forward by ms, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
