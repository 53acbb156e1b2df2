import pino from 'pino';
import { maskPhonesInText } from './mask';

/** The logger port: structured, leveled, with child bindings. Only this file imports pino. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Keys whose values never reach a log line, wherever they sit in the object. */
const SECRET_KEYS = ['secret', 'password', 'apiV3Key', 'apiV2Key', 'privateKey', 'sessionKey', 'session_key', 'token', 'authorization', 'sig', 'deviceSecret'];
const PHONE_KEYS = ['phone', 'phoneNumber', 'purePhoneNumber'];

/**
 * `json`: one JSON object per line (for collectors); `pretty`: one readable line per entry (time, level, part,
 * message, then the other fields as key=value); `auto`: pretty when the destination is a terminal, else json.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Default `auto`. */
  format?: LogFormat;
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createLogger(opts: LogOptions): Logger {
  const out = opts.destination ?? process.stdout;
  const format = opts.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  const paths = [...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`])];
  const phonePaths = PHONE_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return pino(
    {
      level: opts.level,
      base: undefined,
      redact: { paths: [...paths, ...phonePaths], censor: (value: unknown, path: string[]) => censor(value, path) },
      hooks: {
        logMethod(args, method) {
          // Free-text messages may quote a phone number; mask it before it is written.
          const masked = args.map((a) => (typeof a === 'string' ? maskPhonesInText(a) : a)) as typeof args;
          method.apply(this, masked);
        },
      },
    },
    // Redaction and masking happen in pino before the line is formatted, so both formats carry the same values.
    (pretty ? prettyDestination(out) : out) as pino.DestinationStream,
  ) as unknown as Logger;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Rewrites each JSON line pino produces as `HH:MM:SS.mmm LEVEL [part] message key=value …`. */
function prettyDestination(out: NodeJS.WritableStream): { write(line: string): boolean } {
  return {
    write(line: string): boolean {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return out.write(line);
      }
      return out.write(formatPretty(entry) + '\n');
    },
  };
}

/** One readable line for a pino entry. */
function formatPretty(entry: Record<string, unknown>): string {
  const { level, time, msg, part, ...fields } = entry;
  const t = typeof time === 'number' ? new Date(time) : new Date();
  const hhmmss = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const head = `${hhmmss}.${String(t.getMilliseconds()).padStart(3, '0')} ${(LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)}`;
  const parts = [head];
  if (part !== undefined) parts.push(`[${String(part)}]`);
  if (msg !== undefined) parts.push(String(msg));
  let stack = '';
  for (const [k, v] of Object.entries(fields)) {
    // A serialised Error: its message on the line, its stack below it.
    if (v && typeof v === 'object' && 'message' in v && 'stack' in v) {
      const e = v as { message: unknown; stack: unknown };
      parts.push(`${k}=${quote(String(e.message))}`);
      stack += `\n    ${String(e.stack).split('\n').join('\n    ')}`;
      continue;
    }
    parts.push(`${k}=${typeof v === 'string' ? quote(v) : JSON.stringify(v)}`);
  }
  return parts.join(' ') + stack;
}

/** Bare when the value is one plain word, JSON-quoted otherwise (spaces, quotes, newlines, empty). */
const quote = (v: string): string => (/^[^\s"=]+$/.test(v) ? v : JSON.stringify(v));

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (PHONE_KEYS.includes(key) && typeof value === 'string') return maskPhonesInText(value).replace(/^(\d{3})\d+(\d{4})$/, '$1****$2');
  return '[redacted]';
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ level: 'silent' });
