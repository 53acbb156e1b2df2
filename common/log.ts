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

export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions): Logger {
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
    (opts.destination ?? process.stdout) as pino.DestinationStream,
  ) as unknown as Logger;
}

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (PHONE_KEYS.includes(key) && typeof value === 'string') return maskPhonesInText(value).replace(/^(\d{3})\d+(\d{4})$/, '$1****$2');
  return '[redacted]';
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ level: 'silent' });
