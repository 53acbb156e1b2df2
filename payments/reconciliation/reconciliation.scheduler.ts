import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';

const BEIJING_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** The bill date (YYYY-MM-DD, Beijing) of the day before the Beijing day that contains `at`. */
export function billDateBefore(at: number): string {
  return new Date(at + BEIJING_MS - DAY_MS).toISOString().slice(0, 10);
}

/** `minuteOfDay` minutes into the Beijing day that contains `at`. */
export function beijingTimeOfDay(at: number, minuteOfDay: number): number {
  return Math.floor((at + BEIJING_MS) / DAY_MS) * DAY_MS - BEIJING_MS + minuteOfDay * 60_000;
}

export interface ReconciliationSchedule {
  clock: Clock;
  log: Logger;
  /** Runs (or re-runs) the reconciliation of one bill date and stores its report. */
  run(billDate: string): Promise<{ status: 'matched' | 'differences' | 'failed' }>;
  /** The stored report's status for a bill date, if any. */
  reportStatus(billDate: string): Promise<'matched' | 'differences' | 'failed' | undefined>;
  /** Minutes into the Beijing day (default 10:05: WeChat has the previous day's bill from 10:00). */
  atMinuteOfDay?: number;
  /** Wait before retrying a failed run (default 1 h). */
  retryMs?: number;
  /**
   * In a cluster, whether this node runs the day's reconciliation (a lease per bill date, common/shared-state
   * JobLeases): the others look again after `retryMs`, so a leader that died or failed is taken over.
   */
  leader?: (billDate: string) => Promise<boolean>;
}

/**
 * Runs the daily reconciliation once per bill date: at 10:05 Beijing time for the day before, and at
 * start-up when today's run is due but its report is missing (the service was down at 10:05). A stored
 * report means done — a restart never runs a day twice — except a failed one, which is retried hourly.
 * Returns a stop function.
 */
export function scheduleReconciliation(s: ReconciliationSchedule): () => void {
  const minute = s.atMinuteOfDay ?? 10 * 60 + 5;
  const retryMs = s.retryMs ?? 3_600_000;
  let cancel: (() => void) | undefined;
  let stopped = false;

  const arm = (at: number): void => {
    if (stopped) return;
    cancel?.();
    cancel = s.clock.schedule(Math.max(0, at - s.clock.now()), () => void due());
  };

  const due = async (): Promise<void> => {
    const now = s.clock.now();
    const billDate = billDateBefore(now);
    let retry = false;
    try {
      const have = await s.reportStatus(billDate);
      if (have === undefined || have === 'failed') {
        if (s.leader && !(await s.leader(billDate))) {
          // Another node runs it; look again later in case it does not finish.
          retry = true;
        } else {
          const r = await s.run(billDate);
          retry = r.status === 'failed';
        }
      }
    } catch (e) {
      s.log.error({ billDate, err: String(e) }, 'reconciliation run failed');
      retry = true;
    }
    const next = beijingTimeOfDay(now, minute) + DAY_MS;
    arm(retry ? Math.min(now + retryMs, next) : next);
  };

  // At start-up: once today's run time has passed, run now (nothing happens when the report exists).
  const now = s.clock.now();
  const today = beijingTimeOfDay(now, minute);
  arm(now >= today ? now : today);
  return () => {
    stopped = true;
    cancel?.();
  };
}
