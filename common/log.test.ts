import { Writable } from 'node:stream';
import { createLogger, type LogFormat } from './log';

/** A sink that records what the logger writes; `isTTY` plays a terminal or a pipe. */
function sink(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => chunks.join('') };
}

function logOnce(isTTY: boolean, format: LogFormat): string {
  const s = sink(isTTY);
  const log = createLogger({ level: 'info', format, destination: s.stream }).child({ part: 'cabinet' });
  log.warn({ cabinetId: 'SH-SEMI-01', lastSeenMs: 45_000, phone: '13812345678', secret: 'abc' }, 'cabinet offline');
  return s.text();
}

describe('log format', () => {
  it('is human-readable on a terminal: time, level, part, message, the key fields', () => {
    const out = logOnce(true, 'auto');
    expect(() => JSON.parse(out) as unknown).toThrow();
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN +\[cabinet\] cabinet offline cabinetId=SH-SEMI-01 lastSeenMs=45000 phone=138\*\*\*\*5678 secret=\[redacted\]\n$/);
  });

  it('is one JSON object per line when the output is not a terminal', () => {
    const out = logOnce(false, 'auto');
    const line = JSON.parse(out) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, part: 'cabinet', msg: 'cabinet offline', cabinetId: 'SH-SEMI-01', phone: '138****5678', secret: '[redacted]' });
    expect(typeof line.time).toBe('number');
  });

  it('stays JSON on a terminal with LOG_FORMAT=json, and pretty through a pipe with LOG_FORMAT=pretty', () => {
    expect(JSON.parse(logOnce(true, 'json'))).toMatchObject({ msg: 'cabinet offline' });
    expect(logOnce(false, 'pretty')).toContain('WARN  [cabinet] cabinet offline');
  });

  it('prints nested values and errors compactly and keeps messages free of phone numbers', () => {
    const s = sink(true);
    const log = createLogger({ level: 'info', format: 'pretty', destination: s.stream });
    log.error({ err: 'boom\nat x', counts: { online: 2, total: 7 }, note: 'two words' }, 'start failed for 13912345678');
    expect(s.text()).toMatch(/ERROR start failed for 139\*\*\*\*5678 err="boom\\nat x" counts=\{"online":2,"total":7\} note="two words"\n$/);
  });
});
