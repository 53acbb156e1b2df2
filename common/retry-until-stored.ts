import type { Clock } from './clock';
import type { Logger } from './log';

/**
 * Runs an idempotent database step (a write, or a read whose result is handed on) now and, if it fails, again
 * with backoff until it succeeds, without making the caller wait past the first try. For effects whose actor
 * has already moved on (a session's stock move: the session's paid state is journalled, and a replay does not
 * run its effects again; a complete visit's evidence read for recognition), a step that meets a database
 * outage must not be dropped. Resolves once the first try settles; later tries run on the clock in the background.
 * Retries live in this process: a crash while the database is away still loses them (noted in the README).
 */
export function retryUntilStored(what: string, write: () => Promise<unknown>, deps: { clock: Clock; log: Pick<Logger, 'warn' | 'info'> }, opts: { firstDelayMs?: number; maxDelayMs?: number } = {}): Promise<void> {
  const first = opts.firstDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 5_000; // a small idempotent write: soon after the database is back
  const attempt = (n: number): Promise<void> =>
    write().then(
      () => {
        if (n > 0) deps.log.info({ what, tries: n + 1 }, `${what} stored after retrying`);
      },
      (err: unknown) => {
        const ms = Math.min(max, first * 2 ** n);
        deps.log.warn({ what, err: String(err), retryInMs: ms }, `${what} failed; retrying`);
        deps.clock.schedule(ms, () => void attempt(n + 1));
      },
    );
  return attempt(0);
}
