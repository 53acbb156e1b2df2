import type { Clock } from '../../common/clock';

/**
 * Delivers notifications the way WeChat does: POST to the merchant's notify_url, success only on the right
 * answer within 5 s, otherwise retried on WeChat's schedule (divided by the time-scale factor). Every
 * attempt is logged for assertions.
 */

/** v3 payment and refund notifications: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (≈24 h 4 m). */
export const V3_RETRY_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];
/** v2 papay results: 0/15/15/30/180/1800×4/3600 s (the first delivery is the 0). */
export const V2_RETRY_S = [15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600];

export interface Delivery {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryLogEntry {
  seq: number;
  jobId: string;
  kind: 'v3' | 'v2';
  /** What the delivery was: genuine, or one of the injected forgeries / probes. */
  variant: 'genuine' | 'duplicate' | 'replay' | 'signtest' | 'wrong_signature' | 'stale_timestamp' | 'tampered_tag' | 'unknown_serial';
  attempt: number;
  url: string;
  status: number | 'timeout' | 'network';
  accepted: boolean;
  at: number;
}

export interface NotificationJob {
  id: string;
  kind: 'v3' | 'v2';
  /** Builds the bytes afresh per attempt (WeChat re-signs each delivery with a new timestamp and nonce). */
  build: () => Delivery;
  /** Summary for the control API. */
  label: string;
}

export class Notifier {
  readonly log: DeliveryLogEntry[] = [];
  private seq = 0;
  private pending = new Map<string, () => void>();
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  /** The last genuine delivery's bytes, for replay attacks. */
  lastGenuine: Delivery | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly timeScale: number,
    private readonly answerTimeoutMs = 5000,
  ) {}

  /** Schedules the first delivery after `delayMs` (already scaled by the caller when it models WeChat time). */
  enqueue(job: NotificationJob, delayMs = 0): void {
    this.schedule(job, 0, delayMs);
  }

  /** Sends one extra delivery outside the retry schedule (forgeries, duplicates, probes); resolves to accepted. */
  async sendOnce(job: NotificationJob, variant: DeliveryLogEntry['variant'], delivery?: Delivery): Promise<boolean> {
    return this.attempt(job, delivery ?? job.build(), variant, 0);
  }

  private schedule(job: NotificationJob, attempt: number, delayMs: number): void {
    if (this.closed) return;
    const key = `${job.id}#${attempt}`;
    this.inflight++;
    const cancel = this.clock.schedule(delayMs, () => {
      this.pending.delete(key);
      void this.run(job, attempt);
    });
    this.pending.set(key, () => {
      cancel();
      this.done();
    });
  }

  private async run(job: NotificationJob, attempt: number): Promise<void> {
    try {
      const delivery = job.build();
      const ok = await this.attempt(job, delivery, 'genuine', attempt);
      if (ok) this.lastGenuine = delivery;
      const schedule = job.kind === 'v3' ? V3_RETRY_S : V2_RETRY_S;
      if (!ok && attempt < schedule.length && !this.closed) this.schedule(job, attempt + 1, (schedule[attempt]! * 1000) / this.timeScale);
    } finally {
      this.done();
    }
  }

  private async attempt(job: NotificationJob, d: Delivery, variant: DeliveryLogEntry['variant'], attempt: number): Promise<boolean> {
    let status: DeliveryLogEntry['status'];
    let text = '';
    try {
      const res = await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body, signal: AbortSignal.timeout(this.answerTimeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (e) {
      status = (e as Error).name === 'TimeoutError' ? 'timeout' : 'network';
    }
    const accepted = typeof status === 'number' && (job.kind === 'v3' ? status === 200 || status === 204 : status === 200 && /<return_code>(<!\[CDATA\[)?SUCCESS/.test(text));
    this.log.push({ seq: ++this.seq, jobId: job.id, kind: job.kind, variant, attempt, url: d.url, status, accepted, at: this.clock.now() });
    return accepted;
  }

  private done(): void {
    this.inflight--;
    if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when no delivery is scheduled or in flight. */
  idle(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /** Scheduled plus in-flight deliveries. */
  backlog(): number {
    return this.inflight;
  }

  close(): void {
    this.closed = true;
    for (const cancel of [...this.pending.values()]) cancel();
    this.pending.clear();
  }
}
