import type { Cancel, Clock } from '../../common/clock';
import type { Logger } from '../../common/log';

/** One cabinet's last-seen time (and firmware) to be stored. */
export interface LastSeen {
  cabinetId: string;
  at: number;
  firmware?: string;
}

export interface LastSeenWriterOptions {
  clock: Clock;
  log: Logger;
  /** Writes a batch (keyed by cabinet, never a scan); at most one batch is in flight. */
  write(rows: LastSeen[]): Promise<void>;
  /** How long a last-seen time may wait before it is written. */
  flushEveryMs?: number;
  /**
   * Rows per write (default 50). FerretDB v1 as released keeps one SQLite connection (of 100) per update of an
   * update command until the command ends, so a batch must stay well below 100 on a FerretDB other than the
   * patched build of tools/ferretdb.
   */
  batchSize?: number;
}

/**
 * Coalesces the cabinets' last-seen writes and stores them in batches, one batch at a time. A fleet that
 * drops off the network at once (10,000 cabinets going offline within seconds) then costs a few bulk writes
 * in sequence instead of 10,000 concurrent updates that would queue every other write behind them; and the
 * cabinet actor that reports it never waits for the database. What a write loses (the database is down) is
 * kept for the next flush unless a newer time came meanwhile. Last-seen is what the dashboard shows for an
 * offline cabinet after a restart; a few seconds of delay in storing it cost nothing.
 */
export class LastSeenWriter {
  private pending = new Map<string, LastSeen>();
  private timer?: Cancel;
  private writing?: Promise<void>;
  private closed = false;
  private readonly every: number;
  private readonly batch: number;

  constructor(private readonly o: LastSeenWriterOptions) {
    this.every = o.flushEveryMs ?? 5_000;
    this.batch = o.batchSize ?? 50;
  }

  /** Records a cabinet's last-seen time; a later time for the same cabinet replaces it. */
  note(row: LastSeen): void {
    const known = this.pending.get(row.cabinetId);
    if (known && known.at > row.at) return;
    this.pending.set(row.cabinetId, row);
    this.arm();
  }

  private arm(): void {
    if (this.closed || this.timer) return;
    this.timer = this.o.clock.schedule(this.every, () => {
      this.timer = undefined;
      void this.flush();
    });
  }

  get size(): number {
    return this.pending.size;
  }

  /** Writes everything noted so far, in batches; resolves when done (or failed and kept for later). */
  flush(): Promise<void> {
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
      if (this.pending.size) this.arm();
    });
    return this.writing;
  }

  /** No more timed flushes; an explicit flush() still writes what is pending. */
  close(): void {
    this.closed = true;
    this.timer?.();
    this.timer = undefined;
  }

  private async drain(): Promise<void> {
    while (this.pending.size) {
      const rows = [...this.pending.values()].slice(0, this.batch);
      for (const r of rows) this.pending.delete(r.cabinetId);
      try {
        await this.o.write(rows);
      } catch (e) {
        for (const r of rows) {
          const newer = this.pending.get(r.cabinetId);
          if (!newer || newer.at < r.at) this.pending.set(r.cabinetId, r);
        }
        this.o.log.warn({ rows: rows.length, err: e instanceof Error ? e.message : String(e) }, 'last-seen times not stored; kept for the next flush');
        return;
      }
    }
  }
}
