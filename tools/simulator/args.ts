/** Small parsers for the CLI's flags, kept pure for tests; a bad value is a CliError with exit code 2. */
import { CliError } from '../../common/cli';

/** `500ms`, `30s`, `10m`, `2h` or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CliError(`not a duration: "${text}" (use 500ms, 30s, 10m, 2h)`, 2);
  const v = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(v * factor);
}

export function parseCount(text: string, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new CliError(`--${name}: expected an integer in ${min}..${max}, got "${text}"`, 2);
  return v;
}

export function parseShare(text: string, name: string): number {
  const v = Number(text);
  if (!(v >= 0 && v <= 1)) throw new CliError(`--${name}: expected a share in 0..1, got "${text}"`, 2);
  return v;
}

export const formatMs = (ms: number): string => (ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
