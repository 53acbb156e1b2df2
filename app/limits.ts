import { readFileSync } from 'node:fs';
import type { Logger } from '../common/log';

/** Descriptors beyond one socket per cabinet: the database pool, HTTP clients, WeChat, model and log files. */
export const FD_HEADROOM = 512;

export interface OpenFileLimits {
  soft: number;
  hard: number;
}

/**
 * The process's open-file limits (soft and hard) from /proc/self/limits; undefined where there is no such file
 * (not Linux) or the limit is unlimited. Read in-process: Node raises its soft limit to the hard one at start,
 * so a low `ulimit -Sn` in the shell does not matter, the hard limit does.
 */
export function readOpenFileLimits(text?: string): OpenFileLimits | undefined {
  let src = text;
  if (src === undefined) {
    try {
      src = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(src);
  if (!m || m[1] === 'unlimited') return undefined;
  return { soft: Number(m[1]), hard: m[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[2]) };
}

/** What the registered fleet needs: one socket per cabinet plus the headroom. */
export function openFilesNeeded(cabinets: number): number {
  return cabinets + FD_HEADROOM;
}

/**
 * Start-up check: warns, with the numbers, when the soft open-file limit is below what the registered fleet
 * needs — past it new device connections (and database connections) fail with EMFILE. Returns the warning.
 */
export function checkOpenFileLimit(log: Logger, cabinets: number, limits: OpenFileLimits | undefined = readOpenFileLimits()): Record<string, number | string> | undefined {
  if (!limits) return undefined;
  const need = openFilesNeeded(cabinets);
  if (limits.soft >= need) return undefined;
  const canRaise = limits.hard >= need;
  const warning = {
    softLimit: limits.soft,
    hardLimit: Number.isFinite(limits.hard) ? limits.hard : 'unlimited',
    cabinets,
    needed: need,
    fix: canRaise
      ? `ulimit -n ${need} (the hard limit allows it) before npm start`
      : `raise the hard limit to at least ${need} (ulimit -Hn ${need} as root, LimitNOFILE=${need} in a systemd unit, nofile in limits.conf)`,
  };
  log.warn(warning, `open-file limit ${limits.soft} is below the ${need} the registered fleet needs (${cabinets} cabinets, one socket each, + ${FD_HEADROOM})`);
  return warning;
}
